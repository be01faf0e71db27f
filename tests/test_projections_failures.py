"""Exactly once, whatever happens to the workers.

Given a history → when a projection fails half-way through a batch (its handler has
already written rows when it raises, with a RuntimeError or an IntegrityError) and the
process is restarted, or when two workers on one store catch up at the same time (while
writers keep filing), or when a rebuild resets the views under a worker mid-batch →
then every event is applied to every view exactly once: the recognition counts and the
timelines equal the answers computed from the log, and the timeline table holds one row
per event. An accepted event never stops the projections (a corrected time spelled with
a lower-case "z").
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from incidents.application import FieldLog
from incidents.config import Settings
from projections import log_table, runner
from projections.catalog import Catalog
from projections.queries import IncidentFilters
from projections.recognition import Recognition
from projections.runner import ProjectionWorker
from tests.scenario import CHIKAN, CHIKAN_MV, SAFETY, Drowning, given
from tests.test_projections_support import (
    VIEWS,
    Questions,
    Reader,
    answers,
    differences,
    file_stories,
    make_reader,
    window,
)

QUESTIONS = Questions(
    crews=["chikan-mv", "scenic-staff"],
    people=["zhou-lihui", "guan-jinkang", "cen-xumin"],
    actors=(SAFETY, CHIKAN),
    windows=((None, None), ("2025-10-16", "2025-10-16"), ("2025-10-21", "2025-10-31")),
)
CONTRACT = {k: VIEWS[k] for k in ("incidents", "crew timelines", "person timelines", "recognition")}


def agree_with_the_log(app: FieldLog, projected: Reader) -> None:
    """The projected answers equal the log's, and each timeline row exists once."""
    log = make_reader(app, "log")
    mine = {v: ask(projected(), QUESTIONS) for v, ask in CONTRACT.items()}
    reference = {v: ask(log(), QUESTIONS) for v, ask in CONTRACT.items()}
    assert {v: differences(mine[v], reference[v]) for v in CONTRACT} == {v: [] for v in CONTRACT}
    assert timeline_rows(projected) == events_of_patrols_and_incidents(app)


def timeline_rows(reader: Reader) -> int:
    assert reader.worker is not None
    catalog = next(p for p in reader.worker.projections if p.name == "catalog")
    row = catalog.view.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM rm_crew_timeline"))
    assert row is not None
    return int(row["n"])


def events_of_patrols_and_incidents(app: FieldLog) -> int:
    log = make_reader(app, "log").model
    streams = log._all_streams(SAFETY)  # type: ignore[attr-defined]
    return sum(
        len(events)
        for events in streams.values()
        if events[0]["type"] in ("PatrolStarted", "IncidentOpened")
    )


@pytest.fixture
def restarted(settings: Settings) -> Iterator[Callable[[], FieldLog]]:
    """Start another process on the same store (closed at teardown)."""
    opened: list[FieldLog] = []

    def start() -> FieldLog:
        opened.append(FieldLog(settings))
        return opened[-1]

    yield start
    for app in opened:
        app.close()


def fail_on_call(
    monkeypatch: pytest.MonkeyPatch,
    cls: type,
    name: str,
    nth: int,
    error: Exception,
    lasting: bool = False,
) -> list[int]:
    """The handler `cls.name` does its work (writes its rows), then raises on its nth call
    (and, if `lasting`, on every later call for that event: the disk stays full until the
    restart); answers the positions it failed at."""
    original = getattr(cls, name)
    calls: list[int] = []
    failed: list[int] = []

    def handler(self: Any, tx: Any, event: Any, position: int) -> None:
        original(self, tx, event, position)
        calls.append(position)
        if len(calls) == nth or (lasting and position in failed):
            failed.append(position)
            raise error

    monkeypatch.setattr(cls, name, handler)
    return failed


@pytest.mark.parametrize(
    ("cls", "handler"),
    [
        (Catalog, "on_RescueActionTaken"),
        (Recognition, "on_RescueActionTaken"),
        (Recognition, "on_ThanksReceived"),
    ],
)
def test_a_failure_between_two_events_is_resumed_once_after_a_restart(
    app: FieldLog,
    restarted: Callable[[], FieldLog],
    monkeypatch: pytest.MonkeyPatch,
    cls: type,
    handler: str,
) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    failed = fail_on_call(monkeypatch, cls, handler, 2, RuntimeError("disk full"), lasting=True)

    with pytest.raises(RuntimeError, match="disk full"):
        worker.catch_up()

    position = failed[0]
    name = {Catalog: "catalog", Recognition: "recognition"}[cls]
    assert worker.positions()[name] == position - 1  # its rows rolled back with it
    assert worker.positions()["directory"] >= position
    monkeypatch.undo()

    app2 = restarted()
    projected = make_reader(app2, "projected")
    projected()
    assert set(projected.worker.positions().values()) == {projected.worker.head()}  # type: ignore[union-attr]
    agree_with_the_log(app2, projected)


def test_the_follower_retries_a_failed_pass_and_counts_once(
    app: FieldLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background worker logs a failing pass and retries from its tracked position."""
    file_stories(app)
    fail_on_call(monkeypatch, Recognition, "on_EmergencyServicesCalled", 3, RuntimeError("blip"))
    projected = make_reader(app, "projected")
    worker = projected.worker
    assert worker is not None
    worker.start()
    try:
        assert worker.wait_for(worker.head(), timeout=10)
    finally:
        worker.stop()
    agree_with_the_log(app, projected)


def test_a_handler_failing_with_an_integrity_error_is_not_skipped(
    app: FieldLog, restarted: Callable[[], FieldLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    file_stories(app)
    fail_on_call(
        monkeypatch, Recognition, "on_ThanksReceived", 1, IntegrityError("NOT NULL constraint")
    )
    with contextlib.suppress(IntegrityError):  # stopping is fine; skipping is not
        ProjectionWorker(app).catch_up()
    monkeypatch.undo()

    projected = make_reader(restarted(), "projected")
    projected()
    agree_with_the_log(app, projected)


def test_two_workers_catching_up_at_once_never_double_count(
    app: FieldLog, restarted: Callable[[], FieldLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' workers race over the same small batches, round after round."""
    monkeypatch.setattr(runner, "BATCH", 5)
    file_stories(app)
    workers = [ProjectionWorker(app), ProjectionWorker(restarted())]
    errors: list[BaseException] = []

    def race() -> None:
        barrier = threading.Barrier(len(workers))

        def run(worker: ProjectionWorker) -> None:
            try:
                barrier.wait()
                worker.catch_up()
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    race()
    d = Drowning()
    given(app, *d.rescue(), d.thanks())
    race()

    assert errors == []
    for worker in workers:
        assert set(worker.positions().values()) == {worker.head()}
    agree_with_the_log(app, make_reader(app, "projected"))


def test_two_following_workers_and_two_writers_never_double_count(
    app: FieldLog, restarted: Callable[[], FieldLog]
) -> None:
    """Both workers follow the log while two processes file at the same time."""
    file_stories(app)
    other = restarted()
    workers = [ProjectionWorker(app), ProjectionWorker(other)]
    for worker in workers:
        worker.start()
    try:

        def write(fieldlog: FieldLog) -> None:
            for _ in range(3):
                d = Drowning(crew_id=CHIKAN_MV)
                given(fieldlog, *d.rescue()[:5], d.thanks())

        writers = [threading.Thread(target=write, args=(a,)) for a in (app, other)]
        for t in writers:
            t.start()
        for t in writers:
            t.join(timeout=60)
        head = workers[0].head()
        assert all(w.wait_for(head, timeout=10) for w in workers)
    finally:
        for worker in workers:
            worker.stop()
    projected = make_reader(app, "projected")
    agree_with_the_log(app, projected)
    report = projected().recognition(window())
    thanks = {r["person_id"]: r["thanks"] for r in report["people"]}
    assert thanks["guan-jinkang"] == 6 + 1  # six new incidents' thanks, and the stories'
    assert len(projected().incidents(SAFETY, IncidentFilters(crew_id=CHIKAN_MV))) == 2 + 6


def test_a_rebuild_while_the_server_worker_is_mid_batch_loses_nothing(
    app: FieldLog, restarted: Callable[[], FieldLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fieldlog projections rebuild` runs while the server follows the log (the README
    allows it): its reset lands between two events of the server worker's pass, and the
    server worker goes on with the rest of its batch before the rebuild replays."""
    file_stories(app)
    server = ProjectionWorker(app)
    server.catch_up()
    d = Drowning()
    given(app, *d.rescue(), d.thanks())  # the server worker's next pass
    operator = ProjectionWorker(restarted())
    read = log_table.published_row
    reads: list[int] = []

    def published_row(position: int, *columns: Any) -> Any:
        reads.append(position)
        if len(reads) == 3:  # two events of the pass read, the rest to come
            for projection in operator.projections:  # the rebuild's first step
                projection.view.reset(runner.tracking_name(projection))
        return read(position, *columns)

    monkeypatch.setattr(log_table, "published_row", published_row)
    server.catch_up()
    monkeypatch.undo()
    operator.catch_up()  # the rebuild's replay
    server.catch_up()

    assert len(reads) > 3
    for worker in (server, operator):
        assert set(worker.positions().values()) == {worker.head()}
    agree_with_the_log(app, make_reader(app, "projected"))


def test_a_corrected_time_with_a_lower_case_z_is_projected(app: FieldLog) -> None:
    file_stories(app)
    d = Drowning()
    police = d.police_called()
    given(app, d.incident_opened(), police)
    given(app, d.correction(police, {"occurred_at": "2025-10-16T07:21:30z"}))  # RFC 3339 allows z
    projected = make_reader(app, "projected")

    projected()

    assert worker_at_head(projected)
    agree_with_the_log(app, projected)


def worker_at_head(reader: Reader) -> bool:
    assert reader.worker is not None
    return set(reader.worker.positions().values()) == {reader.worker.head()}


def test_a_worker_stopped_half_way_is_finished_by_another_process(
    app: FieldLog, restarted: Callable[[], FieldLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH", 4)
    file_stories(app)
    first = ProjectionWorker(app)
    half = first.head() // 2
    first.catch_up(until=half)
    assert all(half <= p < first.head() for p in first.positions().values())

    projected = make_reader(restarted(), "projected")
    projected()

    mine = answers(projected.model, QUESTIONS)
    reference = answers(make_reader(app, "log").model, QUESTIONS)
    assert differences(mine, reference) == []


def test_a_worker_whose_run_overlaps_another_workers_uncommitted_run_waits_and_skips_it(
    app: FieldLog, restarted: Callable[[], FieldLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers start from the same positions; the first is still writing its run
    (ending half-way through an incident) when the second starts a longer one. The
    second waits for the first to commit, sees the views moved, and applies only what
    follows: nothing is applied twice, nothing of the incident is lost."""
    file_stories(app)
    d = Drowning(crew_id=CHIKAN_MV)
    opened, *_ = given(app, *d.rescue()[:5], d.thanks())
    first, second = ProjectionWorker(app), ProjectionWorker(restarted())
    original = Catalog.on_IncidentOpened
    racing: list[threading.Thread] = []

    def handler(self: Any, tx: Any, event: Any, position: int) -> None:
        if position == opened.position and not racing:
            racing.append(threading.Thread(target=second.catch_up))
            racing[0].start()
            racing[0].join(timeout=1.0)  # it must wait for this run to commit
        original(self, tx, event, position)

    monkeypatch.setattr(Catalog, "on_IncidentOpened", handler)
    first.catch_up(batch=(opened.position or 0) + 2)  # the incident's first three events
    racing[0].join(timeout=30)

    assert set(second.positions().values()) == {second.head()}
    agree_with_the_log(app, make_reader(app, "projected"))


def test_a_refused_position_among_several_is_never_taken_for_accepted(app: FieldLog) -> None:
    """One run records several views' positions; when any of them is refused (another
    worker moved it first), the whole transaction is refused and nothing of it is kept,
    however the statements before it were sent (pipelined on PostgreSQL)."""
    from eventsourcing.persistence import Tracking

    view = ProjectionWorker(app).projections[0].view
    view.transact([Tracking("test/second", 5)], lambda tx: None)

    def write(tx: Any) -> None:
        tx.execute("INSERT INTO dir_crews VALUES (%s, %s)", ("test-crew", "Test crew"))

    with pytest.raises(IntegrityError):
        view.transact([Tracking("test/first", 3), Tracking("test/second", 5)], write)

    assert not view.max_tracking_id("test/first")
    assert (
        view.read(lambda tx: tx.one("SELECT name FROM dir_crews WHERE crew_id = 'test-crew'"))
        is None
    )
