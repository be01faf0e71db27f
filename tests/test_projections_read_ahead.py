"""A worker far behind reads the next run while it applies this one (PostgreSQL only).

Given the stories in the log → when a worker catches up in runs of five events → then the
views agree with the log, and on PostgreSQL every run but the first was read ahead, in
the read-ahead thread, while the run before it was applied (on SQLite, where reading and
applying share one interpreter lock, nothing is read ahead). When a view fails in a
backlog, a restart still applies every event exactly once; a run read ahead is taken
only if it starts exactly where the views stand, else the log is read afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from incidents.application import FieldLog
from projections.recognition import Recognition
from projections.runner import ProjectionWorker, ReadAhead
from tests.test_projections_failures import agree_with_the_log, fail_on_call, restarted
from tests.test_projections_support import file_stories, make_reader

__all__ = ["restarted"]  # the fixture, used below
RUN = 5


def reads_of(worker: ProjectionWorker, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Each read of the log as (start, the thread that read it)."""
    reads: list[tuple[int, str]] = []
    read = worker._read

    def counted(start: int, batch: int) -> Any:
        reads.append((start, threading.current_thread().name))
        return read(start, batch)

    monkeypatch.setattr(worker, "_read", counted)
    return reads


def test_a_backlog_is_read_one_run_ahead_on_postgresql_only(
    app: FieldLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    reads = reads_of(worker, monkeypatch)

    applied = worker.catch_up(batch=RUN)

    agree_with_the_log(app, make_reader(app, "projected"))
    head = worker.head()
    assert applied == head
    starts = [start for start, _ in reads]
    assert starts == sorted(set(starts)), "every run read once, in order"
    ahead = [start for start, thread in reads if thread.startswith("read-ahead")]
    if app.settings.is_postgres:
        full_runs = head // RUN
        assert len(ahead) == full_runs, "each run after a full one was read ahead"
    else:
        assert ahead == []


def test_after_a_view_fails_in_a_backlog_a_restart_applies_every_event_once(
    app: FieldLog,
    restarted: Callable[[], FieldLog],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    failing = RuntimeError("disk full")
    fail_on_call(monkeypatch, Recognition, "on_RescueActionTaken", 2, failing, lasting=True)

    with pytest.raises(RuntimeError, match="disk full"):
        worker.catch_up(batch=RUN)
    monkeypatch.undo()
    after_restart = ProjectionWorker(restarted())
    after_restart.catch_up(batch=RUN)

    agree_with_the_log(app, make_reader(app, "projected"))


def test_a_run_read_ahead_is_taken_only_where_the_views_stand() -> None:
    reads: list[int] = []

    def read(start: int, batch: int) -> list[tuple[Any, int]]:
        reads.append(start)
        return [({}, position) for position in range(start, start + batch)]

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = ReadAhead(pool, read, 3)
        first = ahead.take(1)
        ahead.after(first, None)  # a full run: positions 4-6 are read meanwhile
        assert [at for _, at in ahead.take(4)] == [4, 5, 6]
        ahead.after(ahead.take(7), until=8)  # the run after 9 lies past `until`: not read
        ahead.after([({}, 10)], None)  # a short run: the log's end, nothing read ahead
        second = ahead.take(1)
        ahead.after(second, None)  # read ahead from 4, but a view fell back to 3
        assert [at for _, at in ahead.take(3)] == [3, 4, 5]
    assert sorted(reads) == [1, 1, 3, 4, 4, 7]  # the last two in either order (threads)
