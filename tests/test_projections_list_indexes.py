"""The lists a crew and the office filter most are read from indexes of their own.

Given the stories in the log and views built without those indexes (by an earlier
version) → when a worker starts → then the indexes are made and the lists are unchanged;
on SQLite, each list's own query (as the read model runs it) is planned on its index:
a crew's patrols, the patrols out now, the office's open incidents, a crew's by status,
the commendations newest first (by status, for a crew), without a sort.
Without them a crew's page scanned every crew's patrols in the office's order, and the
few open patrols or incidents were found by scanning them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from incidents.application import FieldLog
from incidents.sql import Tx
from projections.catalog import Catalog
from projections.queries import IncidentFilters, ReadModel
from projections.runner import ProjectionWorker
from tests.scenario import CHIKAN, HR, SAFETY
from tests.test_projections_support import file_stories, make_reader

INDEXES = (
    "rm_patrols_crew",
    "rm_patrols_status",
    "rm_patrols_crew_status",
    "rm_incidents_status",
    "rm_incidents_crew_status",
    "rm_commendations_newest",
    "rm_commendations_status",
    "rm_commendations_crew",
    "rm_commendations_crew_status",
)
Ask = Callable[[ReadModel], Any]
CREW = CHIKAN.crew_id
LISTS: dict[str, tuple[Ask, str]] = {
    "a crew's patrols": (lambda m: m.patrols(CHIKAN, None, None), "rm_patrols_crew"),
    "a crew's ended patrols": (
        lambda m: m.patrols(CHIKAN, None, "ended"),
        "rm_patrols_crew_status",
    ),
    "the patrols out now": (lambda m: m.patrols(SAFETY, None, "open"), "rm_patrols_status"),
    "the open incidents": (
        lambda m: m.incidents(SAFETY, IncidentFilters("open")),
        "rm_incidents_status",
    ),
    "a crew's reviewed incidents": (
        lambda m: m.incidents(SAFETY, IncidentFilters("reviewed", crew_id=CREW)),
        "rm_incidents_crew_status",
    ),
    "the commendations": (lambda m: m.commendations(HR, None, 0, 10), "rm_commendations_newest"),
    "the approved commendations": (
        lambda m: m.commendations(HR, "approved", 0, 10),
        "rm_commendations_status",
    ),
    "a crew's commendations": (lambda m: m.commendations(CHIKAN), "rm_commendations_crew"),
    "a crew's approved commendations": (
        lambda m: m.commendations(CHIKAN, "approved"),
        "rm_commendations_crew_status",
    ),
}


def catalog_of(worker: ProjectionWorker) -> Any:
    return next(p for p in worker.projections if isinstance(p, Catalog)).view


def indexes_in(app: FieldLog, view: Any) -> set[str]:
    if app.settings.is_postgres:
        sql = "SELECT indexname AS name FROM pg_indexes"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return {r["name"] for r in view.read(lambda tx: tx.all(sql))} & set(INDEXES)


def answers(app: FieldLog) -> dict[str, Any]:
    model = make_reader(app, "projected")()
    return {name: ask(model) for name, (ask, _) in LISTS.items()}


def test_views_built_without_the_list_indexes_get_them_at_start(app: FieldLog) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    worker.catch_up()
    before = answers(app)
    for index in INDEXES:
        catalog_of(worker).transact([], lambda tx, index=index: tx.execute(f"DROP INDEX {index}"))
    assert indexes_in(app, catalog_of(worker)) == set()

    restarted = ProjectionWorker(app)

    assert indexes_in(app, catalog_of(restarted)) == set(INDEXES)
    assert answers(app) == before
    assert all(before.values()), "every list has rows"


@pytest.mark.parametrize("name", list(LISTS))
def test_each_list_is_planned_on_its_index_on_sqlite(
    app: FieldLog, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.settings.is_postgres:
        pytest.skip("PostgreSQL plans by its statistics, not by the indexes alone")
    file_stories(app)
    ProjectionWorker(app).catch_up()
    ask, index = LISTS[name]
    asked: list[tuple[str, list[Any]]] = []
    everything = Tx.all

    def recorded(tx: Tx, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        if "FROM rm_" in sql:
            asked.append((sql, list(params)))
        return everything(tx, sql, params)

    monkeypatch.setattr(Tx, "all", recorded)
    ask(make_reader(app, "projected")())
    monkeypatch.undo()

    (sql, params), *_ = asked
    view = catalog_of(ProjectionWorker(app))
    plan = view.read(lambda tx: tx.all(f"EXPLAIN QUERY PLAN {sql}", params))
    assert any(re.search(rf"USING INDEX {index}\b", row["detail"]) for row in plan), plan
    assert not any("TEMP B-TREE" in row["detail"] for row in plan), plan  # no sort
