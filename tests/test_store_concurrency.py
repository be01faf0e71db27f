"""Two writers on one store: the crew's tablet and the safety office, or two server
processes. Given both saw the incident at version N → when both file → then one is
stored and the other is a `conflict` naming the current version (with
`expected_version`), or both are stored one after the other (without it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.config import Settings
from incidents.outcome import Outcome
from tests.scenario import CHIKAN, SAFETY, Drowning, stream_types


def test_the_second_writer_expecting_a_stale_version_gets_a_conflict(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    tablet_outcome = app.submit(handed_over.outcome(expected_version=8), CHIKAN)

    office_outcome = other_process.submit(handed_over.sighting(expected_version=8), SAFETY)

    assert (tablet_outcome.result, tablet_outcome.version) == ("stored", 9)
    assert office_outcome.result == "conflict"
    assert office_outcome.current_version == 9
    assert "expected_version" in (office_outcome.detail or "")
    assert len(stream_types(other_process, handed_over.incident_id)) == 9


def pause_first_save(app: FieldLog, barrier: threading.Barrier) -> None:
    """Hold this instance's first save until the other writer has decided too."""
    original: Callable[..., Any] = app.save
    paused = []

    def save(*args: Any, **kwargs: Any) -> Any:
        if not paused:
            paused.append(True)
            barrier.wait(timeout=10)
        return original(*args, **kwargs)

    app.save = save  # type: ignore[method-assign]


def race(
    first: tuple[FieldLog, dict[str, Any]], second: tuple[FieldLog, dict[str, Any]]
) -> list[Outcome]:
    """Both writers load the stream and decide, then both save at the same moment."""
    barrier = threading.Barrier(2)
    outcomes: list[Outcome | None] = [None, None]

    def write(i: int, app: FieldLog, raw: dict[str, Any]) -> None:
        pause_first_save(app, barrier)
        outcomes[i] = app.submit(raw, SAFETY)

    threads = [
        threading.Thread(target=write, args=(i, app, raw))
        for i, (app, raw) in enumerate((first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


def test_racing_writers_expecting_the_same_version_store_one_and_refuse_the_other(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    outcomes = race(
        (app, handed_over.outcome(expected_version=8)),
        (other_process, handed_over.sighting(expected_version=8)),
    )

    results = sorted(o.result for o in outcomes)
    assert results == ["conflict", "stored"]
    winner = next(o for o in outcomes if o.result == "stored")
    loser = next(o for o in outcomes if o.result == "conflict")
    assert winner.version == 9
    assert loser.current_version == 9
    assert len(stream_types(app, handed_over.incident_id)) == 9


def test_racing_writers_without_expected_version_are_both_stored_in_turn(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    outcomes = race((app, handed_over.outcome()), (other_process, handed_over.sighting()))

    assert [o.result for o in outcomes] == ["stored", "stored"]
    assert sorted(o.version or 0 for o in outcomes) == [9, 10]
    assert len(stream_types(app, handed_over.incident_id)) == 10


def test_racing_resends_of_one_event_store_it_once(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    handover = handed_over.outcome()

    outcomes = race((app, handover), (other_process, dict(handover)))

    assert sorted(o.result for o in outcomes) == ["duplicate", "stored"]
    assert {(o.version, o.position) for o in outcomes} == {
        (outcomes[0].version, outcomes[0].position)
    }
    facts = app.get_facts(UUID(handed_over.incident_id))
    assert [f.event_id for f, _ in facts].count(handover["event_id"]) == 1


def test_racing_openings_of_one_stream_store_one(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    fresh = Drowning()

    outcomes = race((app, fresh.incident_opened()), (other_process, fresh.incident_opened()))

    assert sorted(o.result for o in outcomes) == ["conflict", "stored"]
    loser = next(o for o in outcomes if o.result == "conflict")
    assert loser.current_version == 1


STARTING_TOGETHER = 8
ROUNDS = 2


@pytest.mark.parametrize("schema", ["fresh", "existing"])
def test_several_processes_can_start_on_one_store_at_once(settings: Settings, schema: str) -> None:
    """`fieldlog serve --workers N`: every worker builds its FieldLog at start-up, on a
    new database or on one that a previous release created.

    (On PostgreSQL the library's schema creation is not safe against concurrent
    start-ups by itself: 'tuple concurrently updated' / a pg_type unique violation.)
    """
    if schema == "existing":
        FieldLog(settings).close()
    barrier = threading.Barrier(STARTING_TOGETHER)
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait(timeout=10)
        try:
            FieldLog(settings).close()
        except Exception as e:  # collected for the assertion below
            errors.append(e)

    for _ in range(ROUNDS):
        threads = [threading.Thread(target=start) for _ in range(STARTING_TOGETHER)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        barrier.reset()

    assert errors == []


def test_writers_of_two_processes_on_one_sqlite_file_take_turns(
    app: FieldLog, other_process: FieldLog
) -> None:
    """Given one process in the middle of a write, when another process on the same
    SQLite file wants to write, then it waits its turn on the file lock (woken when the
    first is done) instead of polling in SQLite's busy handler."""
    from eventsourcing.sqlite import SQLiteDatastore

    from incidents.sql import writer_turn

    datastores = [a.factory.datastore for a in (app, other_process)]  # type: ignore[attr-defined]
    if not isinstance(datastores[0], SQLiteDatastore):
        pytest.skip("the file lock is SQLite's")
    first, second = (writer_turn(d) for d in datastores)
    assert first is not second  # one turn per process (per datastore)
    order: list[str] = []

    def other_process_writes() -> None:
        with second():
            order.append("second")

    with first():
        waiting = threading.Thread(target=other_process_writes)
        waiting.start()
        waiting.join(timeout=0.3)
        assert waiting.is_alive()  # still waiting for the file lock
        order.append("first done")
    waiting.join(timeout=5)
    assert order == ["first done", "second"]
    with first(), first():  # re-entered by one thread: the file lock is held once
        pass
    with second():
        pass  # and released after the outer turn
