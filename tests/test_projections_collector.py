"""A projection run pauses Python's cyclic garbage collector (it allocates tens of
thousands of short-lived dicts). The switch is process-wide, and the API serves from
other threads meanwhile: the collector must come back on when the last run ends, and
stay off if someone had turned it off before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from projections.runner import collector_paused


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
