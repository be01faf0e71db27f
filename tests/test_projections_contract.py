"""One contract per view, run against every implementation.

Given the demo stories and a second, busier history in one log (late syncs, corrections,
reviews and reopenings, victim details, thanks, approved and rejected commendations, a
person in two crews) → when projected → then the projected read model (the API's) and
the log read model (computed from the log; the reference) give identical answers to
every question a client can ask of that view: each role, each filter, several windows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from incidents.application import FieldLog
from incidents.demo import CHIKAN_MV as DEMO_MV
from incidents.demo import CHIKAN_SCENIC as DEMO_SCENIC
from incidents.demo import load_demo
from tests.conftest import POSTGRES_URL, STORES, reset_postgres
from tests.scenario import CHIKAN, CHIKAN_MV, OTHER_CREW, PEOPLE, SAFETY, SCENIC
from tests.test_projections_support import (
    VIEWS,
    Questions,
    Reader,
    differences,
    file_stories,
    make_reader,
    store_settings,
)

QUESTIONS = Questions(
    crews=[CHIKAN_MV, SCENIC, DEMO_MV.crew_id, DEMO_SCENIC.crew_id, "no-such-crew"],
    people=[*sorted(PEOPLE), "no-such-person"],
    actors=(SAFETY, CHIKAN, OTHER_CREW, DEMO_MV.tablet, DEMO_SCENIC.tablet),
)


@dataclass
class World:
    app: FieldLog
    projected: Reader
    log: Reader


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One store per kind for the whole module (its tests only read)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('contract')}/fieldlog.sqlite"
    else:
        if not POSTGRES_URL:
            pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    app = FieldLog(store_settings(url))
    file_stories(app)
    load_demo(app)
    projected, log = make_reader(app, "projected"), make_reader(app, "log")
    projected()
    yield World(app, projected, log)
    app.close()


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_implementation_answers_alike(world: World, view: str) -> None:
    ask = VIEWS[view]

    projected = ask(world.projected(), QUESTIONS)
    expected = ask(world.log(), QUESTIONS)

    assert projected.keys() == expected.keys()
    assert differences(projected, expected) == []
    assert any(_has_items(answer) for answer in expected.values()), "a contract needs data"


def test_a_rebuilt_projection_answers_as_the_incremental_one(world: World) -> None:
    worker = world.projected.worker
    assert worker is not None
    before = {view: ask(world.projected(), QUESTIONS) for view, ask in VIEWS.items()}

    replayed = worker.rebuild()

    assert replayed == worker.head()
    after = {view: ask(world.projected.model, QUESTIONS) for view, ask in VIEWS.items()}
    assert {v: differences(before[v], after[v]) for v in VIEWS} == {v: [] for v in VIEWS}
    assert set(worker.positions().values()) == {worker.head()}


def _has_items(answer: Any) -> bool:
    if isinstance(answer, dict):
        return bool(answer.get("people"))
    return bool(answer)
