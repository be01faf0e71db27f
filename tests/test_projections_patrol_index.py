"""A crew's patrol list is read from an index of its own.

Given the stories in the log and views built without that index (by an earlier
version) → when a worker starts → then the index is made, a crew's page is read from it
(on SQLite, the plan names it; without it the page scanned every crew's patrols in the
office's order) and the page is unchanged.
"""

from __future__ import annotations

from typing import Any

from incidents.application import FieldLog
from projections.catalog import Catalog
from projections.runner import ProjectionWorker
from tests.scenario import CHIKAN
from tests.test_projections_support import file_stories, make_reader

INDEX = "rm_patrols_crew"
CREW_PAGE = (
    "SELECT body FROM rm_patrols WHERE crew_id = %s ORDER BY started_us DESC, patrol_id DESC"
)


def catalog_of(worker: ProjectionWorker) -> Any:
    return next(p for p in worker.projections if isinstance(p, Catalog)).view


def has_index(app: FieldLog, view: Any) -> bool:
    if app.settings.is_postgres:
        sql = "SELECT 1 FROM pg_indexes WHERE indexname = %s"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s"
    return view.read(lambda tx: tx.one(sql, (INDEX,))) is not None


def test_a_view_built_without_the_crew_index_gets_it_at_start(app: FieldLog) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    worker.catch_up()
    before = make_reader(app, "projected")().patrols(CHIKAN, None, None)
    catalog_of(worker).transact([], lambda tx: tx.execute(f"DROP INDEX {INDEX}"))
    assert not has_index(app, catalog_of(worker))

    restarted = ProjectionWorker(app)

    view = catalog_of(restarted)
    assert has_index(app, view)
    if not app.settings.is_postgres:
        plan = view.read(lambda tx: tx.all(f"EXPLAIN QUERY PLAN {CREW_PAGE}", (CHIKAN.crew_id,)))
        assert any(INDEX in row["detail"] for row in plan), plan
    assert make_reader(app, "projected")().patrols(CHIKAN, None, None) == before
    assert before, "the crew has patrols on its page"
