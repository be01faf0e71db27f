"""A view made by an earlier version of its projection is rebuilt, not trusted.

The office upgrades fieldlog on a store whose catalog was built by the previous
versions (version 1: timelines held each event's JSON in `rm_timeline`; version 2: each
event's JSON once in `rm_events`; now timelines read the log). Given such a store → when
the new version starts → then the catalog is emptied, rebuilt from the log by the
worker, and answers exactly as the log does; the views whose schema did not change are
kept as they are.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incidents.application import FieldLog
from incidents.config import Settings
from projections.catalog import Catalog
from projections.runner import ProjectionWorker, build_projections
from tests.test_projections_failures import agree_with_the_log
from tests.test_projections_support import file_stories, make_reader


@pytest.fixture
def restarted(settings: Settings) -> Iterator[list[FieldLog]]:
    opened: list[FieldLog] = []
    yield opened
    for app in opened:
        app.close()


OLD_TABLES = {
    1: "CREATE TABLE IF NOT EXISTS rm_timeline (position BIGINT PRIMARY KEY, "
    "crew_id TEXT NOT NULL, occurred_us BIGINT NOT NULL, event TEXT NOT NULL)",
    2: "CREATE TABLE IF NOT EXISTS rm_events (position BIGINT PRIMARY KEY, event TEXT NOT NULL)",
}


def as_left_by_the_previous_version(app: FieldLog, version: int | None) -> None:
    """The old version's table is there, and the catalog's version is recorded as that
    one or (before versions were recorded, which was version 1) not at all."""
    catalog = next(p for p in build_projections(app) if p.name == "catalog")

    def downgrade(tx: object) -> None:
        tx.execute(  # type: ignore[attr-defined]
            f"UPDATE fieldlog_view_versions SET version = {version} WHERE name = 'catalog'"
            if version
            else "DELETE FROM fieldlog_view_versions"
        )
        tx.execute(OLD_TABLES[version or 1])  # type: ignore[attr-defined]

    catalog.view.transact([], downgrade)


@pytest.mark.parametrize("version", [1, 2, None], ids=["version_1", "version_2", "no_version"])
def test_a_catalog_of_an_earlier_version_is_rebuilt_at_start(
    app: FieldLog, settings: Settings, restarted: list[FieldLog], version: int | None
) -> None:
    file_stories(app)
    worker = ProjectionWorker(app)
    worker.catch_up()
    head = worker.head()
    as_left_by_the_previous_version(app, version)

    restarted.append(FieldLog(settings))
    upgraded = ProjectionWorker(restarted[0])

    positions = upgraded.positions()
    assert positions["catalog"] == 0, "the old catalog must not be trusted"
    assert positions["directory"] == head
    assert positions["recognition"] == head
    tables = {t.lower() for t in _tables(upgraded)}
    assert not tables & {"rm_timeline", "rm_events"}
    assert Catalog.schema_version == 3

    agree_with_the_log(restarted[0], make_reader(restarted[0], "projected"))


def test_a_current_catalog_is_kept_at_start(
    app: FieldLog, settings: Settings, restarted: list[FieldLog]
) -> None:
    file_stories(app)
    ProjectionWorker(app).catch_up()
    head = ProjectionWorker(app).head()

    restarted.append(FieldLog(settings))
    assert set(ProjectionWorker(restarted[0]).positions().values()) == {head}


def _tables(worker: ProjectionWorker) -> list[str]:
    view = worker.projections[0].view
    if worker.app.settings.is_postgres:
        sql = (
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return [r["name"] for r in view.read(lambda tx: tx.all(sql))]


def test_a_new_store_starts_without_emptying_anything(
    settings: Settings, restarted: list[FieldLog], caplog: pytest.LogCaptureFixture
) -> None:
    restarted.append(FieldLog(settings))
    with caplog.at_level("WARNING", logger="fieldlog.projections"):
        ProjectionWorker(restarted[0])
        ProjectionWorker(restarted[0])
    assert not [r for r in caplog.records if "schema version" in r.getMessage()]
