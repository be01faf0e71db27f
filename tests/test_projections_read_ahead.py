"""A worker far behind reads the next run while it writes this one.

Given the stories in the log → when a worker catches up in runs of five events → then the
views agree with the log, and every run after a full one was read ahead: on PostgreSQL in
the read-ahead thread, while the run before it was applied; on SQLite (where reading and
applying share one interpreter lock) in the worker's own thread, while a helper thread
committed the run before it. If reading ahead fails, the run is read again when it is
due and no event is lost. When a view fails in a
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


def committing() -> bool:
    return any(t.name == "commit" for t in threading.enumerate())


def reads_of(
    worker: ProjectionWorker, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, str, bool]]:
    """Each read of the log as (start, the thread that read it, whether a run was being
    committed meanwhile)."""
    reads: list[tuple[int, str, bool]] = []
    read = worker._read

    def counted(start: int, batch: int) -> Any:
        reads.append((start, threading.current_thread().name, committing()))
        return read(start, batch)

    monkeypatch.setattr(worker, "_read", counted)
    return reads


def test_a_backlog_is_read_one_run_ahead(app: FieldLog, monkeypatch: pytest.MonkeyPatch) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    reads = reads_of(worker, monkeypatch)

    applied = worker.catch_up(batch=RUN)

    agree_with_the_log(app, make_reader(app, "projected"))
    head = worker.head()
    assert applied == head
    starts = [start for start, _, _ in reads]
    assert starts == sorted(set(starts)), "every run read once, in order"
    threaded = [start for start, thread, _ in reads if thread.startswith("read-ahead")]
    during_commit = [start for start, _, commit in reads if commit]
    full_runs = head // RUN
    if app.settings.is_postgres:
        assert len(threaded) == full_runs, "each run after a full one was read ahead"
        assert during_commit == []
    else:
        assert threaded == []
        assert len(during_commit) == full_runs, "each run after a full one read in its commit"
        assert {thread for _, thread, _ in reads} == {threading.current_thread().name}


def test_a_run_whose_read_ahead_failed_is_read_again_when_due(
    app: FieldLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    read = worker._read
    starts: list[int] = []

    def second_read_fails(start: int, batch: int) -> Any:
        starts.append(start)
        if len(starts) == 2:
            raise OSError("the log could not be read just now")
        return read(start, batch)

    monkeypatch.setattr(worker, "_read", second_read_fails)

    assert worker.catch_up(batch=RUN) == worker.head()

    agree_with_the_log(app, make_reader(app, "projected"))
    assert starts[1] == starts[2] == RUN + 1, "the run read ahead in vain was read again"


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
