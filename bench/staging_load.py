"""Staging-load benchmark (issues 4 and 18): our loader vs the server's own COPY rate and vs pandas
``DataFrame.to_sql`` (default settings) on the same rows into PostgreSQL, in one process, printed side by side as
ratios, with peak memory of each.

    .venv/bin/python bench/staging_load.py [--rows 1000000] [--url postgresql+psycopg2://postgres@127.0.0.1/postgres]

Each side loads into its own fresh database. Our loader streams records in chunks (bounded memory: rows are
generated lazily); ``to_sql`` gets the DataFrame it needs, built from the same records. Peak memory is measured
as the growth of the process's peak RSS (``ru_maxrss``) during each side, our loader first so the baseline's
DataFrame cannot inflate our figure; the baseline's peak includes building its DataFrame, as a user would.

*Server COPY* (issue 18's physical limit): the same rows, rendered by our loader's own ``to_copy_text`` into a
COPY buffer **before** the clock starts (written to a file, so memory stays bounded), then ingested by PostgreSQL
with one ``COPY … FROM STDIN`` into the same, freshly migrated staging table (same indexes) and committed — only
the server's work and the wire are timed. Targets: ours ≥ 0.6 × that rate, ≥ 7 × ``to_sql``, peak ≤ 1 GiB.
The last lines are verdicts, one per target, for ``make bench-all``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from sqlalchemy import create_engine, text  # noqa: E402

from tlsync.staging import entities  # noqa: E402
from tlsync.staging.engine import create_staging_engine  # noqa: E402
from tlsync.staging.loader import StagingLoader  # noqa: E402
from tlsync.staging.migrate import upgrade  # noqa: E402

SPEC = entities.get("timelog.invoice_lines")


def records(n: int):
    for i in range(1, n + 1):
        qty = (i % 37) + 0.5
        yield {"ID": str(i), "InvoiceID": str(i // 8 + 1), "Quantity": f"{qty:.4f}", "Rate": "950.0000",
               "Amount": f"{qty * 950:.4f}", "ProductNo": f"TIME-{i % 12}", "Text": f"Konsulentbistand uge {i % 52}",
               "VAT": "25.0000", "Discount": "0.0000", "UnitType": "1"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class FreshDatabase:
    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"tlsync_bench_{uuid.uuid4().hex[:8]}"
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name

    def __enter__(self) -> str:
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def run_ours(url: str, n: int) -> tuple[float, float]:
    engine = create_staging_engine(url)
    upgrade(engine)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    written = StagingLoader(engine, chunk_size=20_000).load(SPEC, "BENCH", "bench-run", records(n))
    elapsed = time.perf_counter() - t0
    assert written == n, (written, n)
    engine.dispose()
    return elapsed, peak_rss_mb() - before


def run_server_copy(url: str, n: int, workdir: str) -> float:
    """Seconds PostgreSQL takes to ingest a prebuilt COPY buffer of the same rows (see the module docstring)."""
    from datetime import datetime

    from tlsync.staging.loader import to_copy_text
    from tlsync.staging.tables import COMMON_COLUMNS, STAGING, snake

    buffer = Path(workdir) / "copy.txt"
    staged_at = datetime.now().replace(microsecond=0)
    batch: list[dict] = []
    with open(buffer, "w", encoding="utf-8") as out:
        for record in records(n):
            batch.append(record)
            if len(batch) == 20_000:
                out.write(to_copy_text(SPEC, "BENCH", "bench-run", staged_at, batch)[0])
                batch = []
        if batch:
            out.write(to_copy_text(SPEC, "BENCH", "bench-run", staged_at, batch)[0])
    engine = create_staging_engine(url)
    upgrade(engine)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        columns = ", ".join([*COMMON_COLUMNS, *(snake(f) for f in SPEC.columns)])
        sql = f"COPY {STAGING[SPEC.qualified].name} ({columns}) FROM STDIN"
        with open(buffer, encoding="utf-8") as source:
            t0 = time.perf_counter()
            cur.copy_expert(sql, source, size=8 << 20)
            raw.commit()
            elapsed = time.perf_counter() - t0
        cur.execute(f"SELECT count(*) FROM {STAGING[SPEC.qualified].name}")
        assert cur.fetchone()[0] == n
    finally:
        raw.close()
        engine.dispose()
        buffer.unlink()
    return elapsed


def run_to_sql(url: str, n: int) -> tuple[float, float]:
    import pandas as pd

    engine = create_engine(url)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    frame = pd.DataFrame.from_records(records(n))
    frame.to_sql("invoice_lines_to_sql", engine)
    elapsed = time.perf_counter() - t0
    del frame
    engine.dispose()
    return elapsed, peak_rss_mb() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-to-sql", action="store_true", help="skip the (slow) to_sql baseline")
    args = parser.parse_args()
    n = args.rows
    with FreshDatabase(args.url) as url:
        ours_s, ours_mb = run_ours(url, n)
    gc.collect()
    with FreshDatabase(args.url) as url, tempfile.TemporaryDirectory(prefix="tlsync-copy-") as tmp:
        copy_s = run_server_copy(url, n, tmp)
    gc.collect()
    base_s = base_mb = None
    if not args.no_to_sql:
        with FreshDatabase(args.url) as url:
            base_s, base_mb = run_to_sql(url, n)
    print(f"rows: {n:,} into PostgreSQL ({SPEC.qualified}), one run")
    print(f"tlsync loader (COPY + upsert, chunked): {ours_s:8.1f} s  {n / ours_s:>10,.0f} rows/s  peak +{ours_mb:,.0f} MB")
    print(f"server COPY of a prebuilt buffer:       {copy_s:8.1f} s  {n / copy_s:>10,.0f} rows/s")
    if base_s is not None:
        print(f"pandas to_sql (default settings):       {base_s:8.1f} s  {n / base_s:>10,.0f} rows/s  "
              f"peak +{base_mb:,.0f} MB")
    vs_copy = copy_s / ours_s
    print(verdict("staging load vs server COPY", vs_copy >= 0.6, f"{vs_copy:.2f} x the server's COPY rate", ">= 0.6 x"))
    if base_s is not None:
        print(verdict("staging load vs to_sql", base_s / ours_s >= 7, f"{base_s / ours_s:.1f} x faster", ">= 7 x"))
    print(verdict("staging load peak memory", ours_mb <= 1024, f"+{ours_mb:,.0f} MB", "<= 1024 MB"))


def verdict(name: str, met: bool, figure: str, target: str) -> str:
    return f"VERDICT {name}: {'met' if met else 'NOT MET'} — {figure} (target {target})"


if __name__ == "__main__":
    main()
