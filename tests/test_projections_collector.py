"""A projection run and a tablet's queue pause Python's cyclic garbage collector (each
allocates tens of thousands of short-lived objects, freed by reference counting when it
ends). The switch is process-wide, and the API serves from other threads meanwhile: the
collector must come back on when the last pause ends, and stay off if someone had
turned it off before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from incidents.application import FieldLog
from incidents.collector import collector_paused
from tests.scenario import CHIKAN, Drowning, register_seed


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_overlapping_runs_keep_it_off_until_the_last_one_ends() -> None:
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled(), "another run is still going"
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_run_that_fails_turns_it_back_on() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the view's SQL failed")
    assert gc.isenabled()


def test_it_stays_off_if_it_was_off_before() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_tablets_queue_is_filed_without_a_collection_and_leaves_it_on(app: FieldLog) -> None:
    # given a patrol's queue of 500 events, a dozen objects each until it is answered
    register_seed(app)
    story = Drowning()
    queue = [
        story.patrol_started(),
        *(story.line_observation() for _ in range(498)),
        story.patrol_ended(),
    ]
    gc.enable()
    collections: list[tuple[int, int]] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generation = info["generation"]
            collections.append((generation, len(gc.get_objects(generation))))

    # when the tablet syncs it (the young generation's count starting from zero)
    gc.collect()
    gc.callbacks.append(count)
    try:
        outcomes = app.submit_many(queue, CHIKAN)
        [{} for _ in range(10)]  # the first allocations after the pause
    finally:
        gc.callbacks.remove(count)
    # then every event is stored, the collector did not run while the queue was worked
    # (once at most: the young collection the first allocation after the pause sets off;
    # without the pause, one per ~700 new objects), and the queue was freed before it
    # came back on: that collection walks what the queue left, not its ~5,500 objects
    assert [o.result for o in outcomes] == ["stored"] * 500
    assert len(collections) <= 1
    assert all(generation == 0 and walked < 2_000 for generation, walked in collections)
    assert gc.isenabled()
