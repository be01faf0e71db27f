"""Concurrent single filings are saved together (group commit), each with its own answer.

Given a save in progress → when filings arrive meanwhile → then the first of them saves
them all in the next transaction, in the order they arrived, and each is answered with
its own recording. A group the store refuses, or that fails, is saved again filing by
filing, so only the filing at fault fails. Alone, a filing is saved at once.

Through the application, on both stores: tablets filing at once have every event stored
once, the integrity chain holds, fewer transactions than events were written, and a
resend racing its original in one group is answered as a duplicate.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import RecordConflictError

from incidents.application import FieldLog
from incidents.audit import verify_log
from incidents.group_commit import GroupCommit
from incidents.outcome import Outcome
from tests.scenario import CHIKAN, Drowning, register_seed, stream_types

WAIT = 10.0


class Decided:
    """A stream with one decided event, as a filing hands it over (`Decided("b@x")`:
    event b on stream x; streams are otherwise the event's own)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.id = name.rsplit("@", maxsplit=1)[-1]

    def collect_events(self) -> list[str]:
        return [self.name]


class Store:
    """Records each transaction's events; the first is held until `release`, so that
    filings arriving meanwhile queue; `refuse` names events whose group is refused."""

    def __init__(self, refuse: Callable[[Sequence[str]], BaseException | None] = lambda _: None):
        self.transactions: list[list[str]] = []
        self.release = threading.Event()
        self.refuse = refuse
        self.lock = threading.Lock()

    def __call__(self, events: Sequence[Any], client_events: Sequence[Any]) -> list[Any]:
        if not self.transactions:
            self.transactions.append([])  # the held one, recorded when it ends
            assert self.release.wait(WAIT)
            self.transactions.pop()
        failure = self.refuse(events)
        if failure is not None:
            raise failure
        with self.lock:
            self.transactions.append(list(events))
        return [f"recording of {e}" for e in events]


def file_at_once(commit: GroupCommit, store: Store, names: list[str]) -> dict[str, Any]:
    """`names[0]` is filed first and held in its save; the rest arrive meanwhile, one
    after the other; then the held save goes on. Answers (or errors) by name."""
    answers: dict[str, Any] = {}

    def file(name: str) -> None:
        try:
            stream: Any = Decided(name)
            answers[name] = commit.save_one(stream, (name,))
        except BaseException as e:
            answers[name] = e

    threads = [threading.Thread(target=file, args=(names[0],))]
    threads[0].start()
    deadline = time.monotonic() + WAIT
    while not store.transactions and time.monotonic() < deadline:
        time.sleep(0.001)
    for n, name in enumerate(names[1:], start=1):
        threads.append(threading.Thread(target=file, args=(name,)))
        threads[-1].start()
        while len(commit.waiting) < n and time.monotonic() < deadline:
            time.sleep(0.001)  # arrival order is the order in the log
    store.release.set()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive(), "a filing never got its answer"
    return answers


def test_filings_arriving_during_a_save_are_saved_together_in_arrival_order() -> None:
    store = Store()
    remembered: list[Any] = []
    commit = GroupCommit(store, remembered.extend)

    answers = file_at_once(commit, store, ["first", "a", "b", "c"])

    assert store.transactions == [["first"], ["a", "b", "c"]]
    assert answers == {name: f"recording of {name}" for name in ["first", "a", "b", "c"]}
    assert [s.name for s in remembered] == ["first", "a", "b", "c"]
    assert not commit.saving
    assert not commit.waiting


def test_a_second_event_on_a_stream_already_in_the_group_waits_for_the_next() -> None:
    store = Store()
    commit = GroupCommit(store, lambda streams: None)

    file_at_once(commit, store, ["first", "a@x", "b", "c@x", "d"])

    assert store.transactions == [["first"], ["a@x", "b"], ["c@x", "d"]]


def test_a_refused_group_is_saved_again_filing_by_filing() -> None:
    def refuse(events: Sequence[str]) -> BaseException | None:
        return RecordConflictError("next version taken") if "stale" in events else None

    store = Store(refuse)
    commit = GroupCommit(store, lambda streams: None)

    answers = file_at_once(commit, store, ["first", "a", "stale", "b"])

    assert store.transactions == [["first"], ["a"], ["b"]]
    assert isinstance(answers["stale"], RecordConflictError)
    assert answers["a"] == "recording of a"
    assert answers["b"] == "recording of b"


def test_a_group_that_fails_fails_only_the_filing_at_fault() -> None:
    def fail(events: Sequence[str]) -> BaseException | None:
        return sqlite3.OperationalError("cannot seal") if "broken" in events else None

    store = Store(fail)
    commit = GroupCommit(store, lambda streams: None)

    answers = file_at_once(commit, store, ["first", "broken", "a"])

    assert store.transactions == [["first"], ["a"]]
    assert isinstance(answers["broken"], sqlite3.OperationalError)
    assert answers["a"] == "recording of a"


def test_alone_a_filing_is_saved_at_once_in_its_own_transaction() -> None:
    store = Store()
    store.release.set()
    commit = GroupCommit(store, lambda streams: None)

    for name in ("one", "two"):
        stream: Any = Decided(name)
        assert commit.save_one(stream, (name,)) == f"recording of {name}"

    assert store.transactions == [["one"], ["two"]]


# --- through the application, on both stores ------------------------------------------


def hold_first_save(app: FieldLog, queued: int) -> list[int]:
    """The first transaction waits until `queued` filings wait behind it; returns the
    number of events of each transaction."""
    sizes: list[int] = []
    save = app._save_facts

    def held(facts: Sequence[Any], client_events: Sequence[Any]) -> Any:
        if not sizes:
            deadline = time.monotonic() + WAIT
            while len(app.group_commit.waiting) < queued and time.monotonic() < deadline:
                time.sleep(0.001)
        sizes.append(len(facts))
        return save(facts, client_events)

    app.group_commit.store = held
    return sizes


def file_concurrently(app: FieldLog, raws: list[dict[str, Any]]) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(raws)
    start = threading.Barrier(len(raws))

    def file(i: int) -> None:
        start.wait(WAIT)
        outcomes[i] = app.submit(raws[i], CHIKAN)

    threads = [threading.Thread(target=file, args=(i,)) for i in range(len(raws))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert all(o is not None for o in outcomes), "a filing never got its answer"
    return [o for o in outcomes if o is not None]


def test_tablets_filing_at_once_have_each_event_stored_once_in_fewer_transactions(
    app: FieldLog,
) -> None:
    register_seed(app)
    stories = [Drowning() for _ in range(8)]
    for story in stories:
        assert app.submit(story.patrol_started(), CHIKAN).result == "stored"
    before = app.recorder.max_notification_id() or 0
    sizes = hold_first_save(app, queued=7)

    raws = [story.line_observation() for story in stories]
    outcomes = file_concurrently(app, raws)

    assert [o.result for o in outcomes] == ["stored"] * 8
    assert sorted(o.position for o in outcomes) == list(range(before + 1, before + 9))
    assert [o.version for o in outcomes] == [2] * 8
    assert sum(sizes) == 8
    assert len(sizes) < 8, f"one transaction per event: {sizes}"
    verdict = verify_log(app.store)
    assert verdict.failure is None
    assert verdict.events == before + 8


def test_two_events_on_one_stream_filed_at_once_are_both_stored_without_a_gap(
    app: FieldLog,
) -> None:
    register_seed(app)
    story, other = Drowning(), Drowning()
    for s in (story, other):
        assert app.submit(s.patrol_started(), CHIKAN).result == "stored"
    before = app.recorder.max_notification_id() or 0
    hold_first_save(app, queued=3)

    outcomes = file_concurrently(
        app,
        [
            other.line_observation(),
            story.line_observation(),
            story.line_observation(),
            other.line_observation(),
        ],
    )

    assert [o.result for o in outcomes] == ["stored"] * 4
    assert sorted(o.version for o in outcomes) == [2, 2, 3, 3]
    assert sorted(o.position for o in outcomes) == list(range(before + 1, before + 5))
    assert app.recorder.max_notification_id() == before + 4, "no position drawn in vain"


def test_a_resend_racing_its_original_in_one_group_is_a_duplicate(app: FieldLog) -> None:
    register_seed(app)
    story, second, third = Drowning(), Drowning(), Drowning()
    for s in (story, second, third):
        assert app.submit(s.patrol_started(), CHIKAN).result == "stored"
    sizes = hold_first_save(app, queued=3)
    observation = story.line_observation()

    outcomes = file_concurrently(
        app,
        [second.line_observation(), observation, dict(observation), third.line_observation()],
    )

    original, resend = sorted(outcomes[1:3], key=lambda o: o.result != "stored")
    assert (original.result, resend.result) == ("stored", "duplicate"), outcomes
    assert resend.position == original.position
    assert outcomes[0].result == outcomes[3].result == "stored"
    assert stream_types(app, story.patrol_id) == ["PatrolStarted", "LineObservationRecorded"]
    assert len(sizes) >= 2
    assert verify_log(app.store).failure is None
