"""One projection pass over a big log, in a process of its own (so its peak RSS is its
own): `python -m bench.child TASK --db URL --seconds S` prints one JSON line.

Tasks:
- `decode`: the ceiling: `select_notifications` in pages of 2,000 and
  `app.mapper.to_domain_event` on each, nothing else (the page size is fixed here, not
  the product's run size, so a change to the product never moves its ceiling).
- `catchup`: the product's `ProjectionWorker.catch_up()` from empty views.
- `rebuild`: the product's `ProjectionWorker.rebuild()` (empties the views, then
  catches up).
- `finish`: the product's catch-up from wherever the views are (it completes the views
  the query benchmark needs when the bounded catch-up stopped early).

Every pass stops at the head or after S seconds, whichever comes first.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import orjson

from bench.machine import peak_rss_mb
from bench.stores import settings_for
from incidents.application import FieldLog
from projections.runner import ProjectionWorker, tracking_name

CEILING_PAGE = 2000


def decode(app: FieldLog, seconds: float) -> dict[str, Any]:
    began = time.perf_counter()
    start, count = 1, 0
    while time.perf_counter() - began < seconds:
        batch = app.recorder.select_notifications(start, CEILING_PAGE)
        for notification in batch:
            app.mapper.to_domain_event(notification)
        count += len(batch)
        if len(batch) < CEILING_PAGE:
            break
        start = batch[-1].id + 1
    return {"events": count, "seconds": time.perf_counter() - began}


def bounded(worker: ProjectionWorker, seconds: float, began: float) -> Any:
    def on_batch(_: int) -> None:
        if time.perf_counter() - began >= seconds:
            worker.stopping.set()

    return on_batch


def catchup(app: FieldLog, seconds: float) -> dict[str, Any]:
    worker = ProjectionWorker(app)
    for projection in worker.projections:
        projection.view.reset(tracking_name(projection))
    return finish(app, seconds, worker)


def rebuild(app: FieldLog, seconds: float) -> dict[str, Any]:
    worker = ProjectionWorker(app)
    began = time.perf_counter()
    first = [0.0]

    def on_batch(count: int) -> None:
        if not first[0]:
            first[0] = time.perf_counter() - began
        bounded(worker, seconds, began)(count)

    count = worker.rebuild(on_batch=on_batch)
    return {"events": count, "seconds": time.perf_counter() - began, "first_batch_s": first[0]}


def finish(app: FieldLog, seconds: float, worker: ProjectionWorker | None = None) -> dict[str, Any]:
    """The product's catch-up from where the views are (to build them for the queries)."""
    worker = worker or ProjectionWorker(app)
    began = time.perf_counter()
    count = worker.catch_up(on_batch=bounded(worker, seconds, began))
    return {"events": count, "seconds": time.perf_counter() - began}


TASKS = {"decode": decode, "catchup": catchup, "rebuild": rebuild, "finish": finish}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--db", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    app = FieldLog(settings_for(args.db))
    try:
        head = app.recorder.max_notification_id() or 0
        out = TASKS[args.task](app, args.seconds)
    finally:
        app.close()
    out.update(task=args.task, head=head, finished=out["events"] >= head, peak_rss_mb=peak_rss_mb())
    sys.stdout.write(orjson.dumps(out).decode() + "\n")


if __name__ == "__main__":
    main()
