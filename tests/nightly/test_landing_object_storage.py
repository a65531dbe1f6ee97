"""The landing area in S3-compatible object storage (issue 11, item 6), against a real S3 server: moto's server
mode, started by the test on loopback (``ThreadedMotoServer``), spoken to over HTTP by s3fs — no mock.

The nightly's extract → validate_and_stage runs for legal entity 1 ↔ company 10001 against both simulators with
``TLSYNC_LANDING_URL=s3://…``: the extract's landing files are objects under the run's prefix (nothing on the local
disk), a second worker "host" — a separate Python process with its own output folder and the credentials from the
usual AWS environment variables instead of the Connection — stages from what the first wrote, the clean-up of old
runs deletes their objects, a failed write leaves no object behind, and the secret key is in no log line, manifest
or output.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from tlsync.nightly import landing, pipeline, sources
from tlsync.staging.tables import STAGING

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "tlsync-landing"
KEY_ID, SECRET = "tlsync-landing-key", "landing-Secret-7f3a9c-never-logged"
PAIR = {"legal_entity_id": 1, "company_id": 10001}


@pytest.fixture
def s3():
    """A real S3-compatible server on loopback, with the landing bucket; stopped at the end."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                              region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield {"endpoint": endpoint, "client": client}
    finally:
        server.stop()


@pytest.fixture
def staging(pg_database, use_staging, tmp_path, monkeypatch):
    """Staging on PostgreSQL (what worker hosts share), migrated; host A's own output folder."""
    engine = use_staging(pg_database)
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path / "host-a"))
    return engine


@pytest.fixture
def on_s3(s3, monkeypatch):
    """The product configured as in production: base URL and an ``aws`` Connection with the endpoint."""
    monkeypatch.setenv("TLSYNC_LANDING_URL", f"s3://{BUCKET}/prod")
    monkeypatch.setenv("TLSYNC_LANDING_CONN", "tlsync_landing")
    monkeypatch.setenv("AIRFLOW_CONN_TLSYNC_LANDING", json.dumps({
        "conn_type": "aws", "login": KEY_ID, "password": SECRET,
        "extra": {"endpoint_url": s3["endpoint"], "region_name": "us-east-1"}}))
    return s3


def keys(s3, prefix: str) -> list[str]:
    pages = s3["client"].get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def extract(sims, run_id: str) -> list[dict]:
    pipeline.begin(run_id)
    with sources.timelog_source(**sims["timelog"]) as source:
        tl = pipeline.extract_timelog_legal_entity(source, run_id, PAIR)
    with sources.uniconta_source(company_id=PAIR["company_id"], **sims["uniconta"]) as source:
        uc = pipeline.extract_uniconta_company(source, run_id, PAIR)
    return [tl, uc]


SECOND_HOST = """
import json, sys
from tlsync.nightly import pipeline
manifests = json.load(open(sys.argv[1]))
result = pipeline.validate_and_stage_all(*manifests)
print(json.dumps({c["entity"]: c["staged"] for c in result["counts"]}))
"""


def test_extract_lands_in_object_storage_and_another_host_stages_it(sims, staging, on_s3, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="tlsync")
    run_id = "scheduled__2026-12-06T01:00:00+00:00"
    manifests = extract(sims, run_id)

    prefix = f"prod/{landing.safe_name(run_id)}/"
    landed = keys(on_s3, prefix)
    for manifest in manifests:
        for qualified, entry in manifest["entities"].items():
            assert entry["path"] == f"s3://{BUCKET}/{prefix}{manifest['tenant']}/{qualified}.jsonl"
            assert f"{prefix}{manifest['tenant']}/{qualified}.jsonl" in landed
    invoices = manifests[0]["entities"]["timelog.invoices"]
    assert invoices["count"] > 0
    body = on_s3["client"].get_object(Bucket=BUCKET, Key=invoices["path"].split(f"{BUCKET}/", 1)[1])["Body"].read()
    assert len(body.decode().splitlines()) == invoices["count"]
    assert not (tmp_path / "host-a" / "landing").exists(), "nothing landed on host A's disk"
    assert not [k for k in landed if k.endswith(".part")]

    # -- host B: another process, its own folder, credentials from the AWS environment, no Connection ------------
    (tmp_path / "manifests.json").write_text(json.dumps(manifests))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "TLSYNC_LANDING_CONN"))}
    env.update({"TLSYNC_OUT_DIR": str(tmp_path / "host-b"), "AWS_ACCESS_KEY_ID": KEY_ID,
                "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ENDPOINT_URL": on_s3["endpoint"],
                "AWS_DEFAULT_REGION": "us-east-1",
                "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)])})
    done = subprocess.run([sys.executable, "-c", SECOND_HOST, str(tmp_path / "manifests.json")], env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        from tlsync.staging.tables import quarantine

        with staging.connect() as conn:
            reasons = sorted({r.reason for r in conn.execute(select(quarantine.c.reason).limit(5))})
        pytest.fail(f"host B failed: {done.stderr[-2000:]}; quarantined: {reasons}")
    staged = json.loads(done.stdout.strip().splitlines()[-1])
    assert staged["timelog.invoices"] == invoices["count"] > 0
    assert staged["uniconta.debtors"] > 0
    with staging.connect() as conn:
        table = STAGING["timelog.invoices"]
        assert conn.execute(select(func.count()).select_from(table).where(
            table.c.tenant == manifests[0]["tenant"])).scalar_one() == invoices["count"]
    assert not (tmp_path / "host-b" / "landing").exists()

    # -- clean-up of old runs deletes their objects -----------------------------------------------------------
    os.environ["TLSYNC_LANDING_KEEP_RUNS"] = "1"
    try:
        later = "scheduled__2026-12-07T01:00:00+00:00"
        parts = [pipeline.validate_and_stage_all(*extract(sims, later))]
        pipeline.finish(later, parts)
    finally:
        del os.environ["TLSYNC_LANDING_KEEP_RUNS"]
    assert keys(on_s3, prefix) == [], "the older run's objects are gone"
    assert keys(on_s3, f"prod/{landing.safe_name(later)}/"), "the newest run is kept"

    # -- the secret is nowhere a person could read it ----------------------------------------------------------
    for text in (caplog.text, done.stdout, done.stderr, json.dumps(manifests), json.dumps(parts)):
        assert SECRET not in text


def test_a_failed_write_leaves_the_previous_object_and_no_partial_one(on_s3, tmp_path, monkeypatch):
    monkeypatch.setenv("TLSYNC_OUT_DIR", str(tmp_path))
    path = landing.file_path(landing.root(), "run-1", "SITE", "timelog.customers")
    assert landing.write(path, ({"ID": str(i)} for i in range(3))) == 3

    def broken():
        yield {"ID": "new"}
        raise ConnectionError("the API went away mid-read")

    with pytest.raises(ConnectionError):
        landing.write(path, broken())
    with pytest.raises(ConnectionError):
        landing.write(path.with_name("timelog.projects.jsonl"), broken())
    assert keys(on_s3, "prod/run-1/") == ["prod/run-1/SITE/timelog.customers.jsonl"]
    assert [r["ID"] for batch in landing.read(path, chunk=2) for r in batch] == ["0", "1", "2"]
    assert [len(b) for b in landing.read(path, chunk=2)] == [2, 1], "read in chunks"

    refused = landing.invalid_path(path)             # the side file of records the client's model refused
    landing.write(refused, [{"raw": {"ID": "x"}, "error": "ID: not an integer"}])
    assert keys(on_s3, "prod/run-1/") == ["prod/run-1/SITE/timelog.customers.invalid.jsonl",
                                          "prod/run-1/SITE/timelog.customers.jsonl"]
    assert [r["error"] for batch in landing.read(refused, chunk=10) for r in batch] == ["ID: not an integer"]
    landing.remove(refused)                           # a retry without refused records removes an earlier one
    assert keys(on_s3, "prod/run-1/") == ["prod/run-1/SITE/timelog.customers.jsonl"]


def test_a_named_connection_that_does_not_exist_is_one_clear_line(s3, monkeypatch):
    monkeypatch.setenv("TLSYNC_LANDING_URL", f"s3://{BUCKET}/prod")
    monkeypatch.setenv("TLSYNC_LANDING_CONN", "landing_prod")
    monkeypatch.delenv("AIRFLOW_CONN_LANDING_PROD", raising=False)
    with pytest.raises(landing.LandingSettingError) as err:
        landing.root()
    message = str(err.value)
    assert "\n" not in message and "'landing_prod'" in message and "AIRFLOW_CONN_LANDING_PROD" in message
    assert "TLSYNC_LANDING_URL is s3://tlsync-landing/prod" in message


def test_the_connection_becomes_s3fs_options():
    options = landing.options_from_connection({"login": "AKIA", "password": "pw", "extra": {
        "endpoint_url": "http://minio:9000", "region_name": "eu-north-1", "aws_session_token": "tok"}})
    assert options == {"key": "AKIA", "secret": "pw", "token": "tok",
                       "client_kwargs": {"endpoint_url": "http://minio:9000", "region_name": "eu-north-1"}}
    assert landing.options_from_connection({}) == {}
