"""Task callbacks of the tlsync DAGs: Airflow's side of "every give-up leaves the run failed with its reason"
(issue 17, docs/reliability.md).

- The nightly: a task whose last try failed records ``<task>: <one line>`` as its sync run's reason
  (:func:`tlsync.nightly.pipeline.note_failure`; the first failing task's reason stays, later ones are its
  consequences). ``record_failure`` then marks the run failed and names that reason in the DAG run's failure.
- The transfer: a write-back step whose last try failed leaves its one line as the XCom ``failure``; the
  ``summary`` task prints it beside the step and names it in the DAG run's failure.

A callback never raises: a failure to record is logged, the task's own error is what the log shows.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _task_label(context: dict[str, Any]) -> str:
    ti = context.get("ti") or context.get("task_instance")
    task_id = getattr(ti, "task_id", None) or "a task"
    map_index = getattr(ti, "map_index", -1)
    return f"{task_id}[{map_index}]" if isinstance(map_index, int) and map_index >= 0 else task_id


def note_sync_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback`` of the nightly's tasks."""
    exc = context.get("exception")
    run_id = context.get("run_id")
    if exc is None or not run_id or _task_label(context) == "record_failure":   # that one only reports the others
        return
    try:
        from tlsync.nightly import pipeline
        line = pipeline.note_failure(run_id, _task_label(context), exc)
        log.info("sync run %s: %s", run_id, line)
    except Exception:  # noqa: BLE001 - never hide the task's own error behind the callback's
        log.warning("sync run %s: could not record why it failed", run_id, exc_info=True)


FAILURE_XCOM = "failure"


def note_step_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback`` of the transfer's write-back steps: the one line of why, as XCom ``failure``."""
    exc = context.get("exception")
    ti = context.get("ti") or context.get("task_instance")
    if exc is None or ti is None or _task_label(context) == "summary":
        return
    try:
        from tlsync.nightly.runs import failure_line

        ti.xcom_push(key=FAILURE_XCOM, value=failure_line(exc))
    except Exception:  # noqa: BLE001 - never hide the task's own error behind the callback's
        log.warning("could not record why %s failed", _task_label(context), exc_info=True)
