"""The read models while the system runs: read-your-writes through the API's read model,
and the `fieldlog projections rebuild` / `status` commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import cli
from incidents.application import FieldLog
from incidents.config import Settings
from incidents.demo import CHIKAN_MV as DEMO_MV
from incidents.demo import load_demo
from projections.projected import ProjectedReadModel
from projections.queries import IncidentFilters
from projections.runner import ProjectionWorker
from tests.scenario import CHIKAN, CHIKAN_MV, GUAN, HR, SAFETY, ZHOU, Drowning, register_seed
from tests.test_projections_support import register_backdated, rows, store_settings, window


@pytest.fixture
def following(app: FieldLog) -> Iterator[ProjectedReadModel]:
    """The API's read model over a worker that follows the log (stopped at teardown)."""
    register_backdated(app)
    worker = ProjectionWorker(app)
    worker.catch_up()
    worker.start()
    try:
        yield ProjectedReadModel(worker)
    finally:
        worker.stop()


def test_a_writer_reads_its_own_writes_at_once(
    app: FieldLog, following: ProjectedReadModel
) -> None:
    """Each event the crew files is in the next read: the incident list, the crew's
    timeline and the recognition report, with no waiting by the client."""
    d = Drowning()
    for count, raw in enumerate(
        [d.incident_opened(), d.police_called(), d.reached_with_pole(), d.thanks()], start=1
    ):
        outcome = app.submit(raw, CHIKAN)
        assert outcome.result == "stored"

        incidents = following.incidents(CHIKAN, IncidentFilters())
        timeline = following.crew_timeline(CHIKAN_MV, window(), CHIKAN)
        report = rows(following.recognition(window()))

        assert [i["incident_id"] for i in incidents] == [d.incident_id]
        assert incidents[0]["version"] == count
        assert timeline[-1]["position"] == outcome.position
        assert len(timeline) == count
        assert report[GUAN]["rescues"] == (1 if count >= 2 else 0)
        assert report[ZHOU]["thanks"] == (1 if count == 4 else 0)


def test_a_write_by_another_process_is_read_at_once(
    settings: Settings, following: ProjectedReadModel
) -> None:
    """Another server process files; this one's next read waits for its worker to
    reach the log's head (no in-process wake-up for that write)."""
    other = FieldLog(settings)
    try:
        d = Drowning()
        outcome = other.submit(d.incident_opened(), SAFETY)
        other.submit(d.police_called(), SAFETY)

        listed = following.incidents(SAFETY, IncidentFilters())
        report = rows(following.recognition(window()))
    finally:
        other.close()

    assert outcome.result == "stored"
    assert [i["incident_id"] for i in listed] == [d.incident_id]
    assert listed[0]["version"] == 2
    assert report[GUAN]["rescues"] == 1


def test_a_commendation_decision_is_read_at_once(
    app: FieldLog, following: ProjectedReadModel
) -> None:
    d = Drowning()
    for raw, actor in [
        (d.incident_opened(), CHIKAN),
        (d.pulled_ashore(), CHIKAN),
        (d.nominated(), SAFETY),
        (d.endorsed(), SAFETY),
        (d.approved(), HR),
    ]:
        assert app.submit(raw, actor).result == "stored"
        status = {c["commendation_id"]: c["status"] for c in following.commendations(HR)}
        expected = {"CommendationNominated": "nominated", "CommendationEndorsed": "endorsed"}
        if raw["type"] in expected:
            assert status[d.commendation_id] == expected[raw["type"]]
    assert status[d.commendation_id] == "approved"
    assert rows(following.recognition(window("2025-11-05", "2025-11-05")))[ZHOU] == {
        "crew_id": CHIKAN_MV,
        "rescues": 0,
        "commendations_nominated": 0,
        "commendations_approved": 1,
        "thanks": 0,
    }


# --- the command line ----------------------------------------------------------------

STATUS_ROW = re.compile(r"^\W*(directory|catalog|recognition)\W+(\d+)\W+(\d+)\W*$")


def status_rows(output: str) -> dict[str, tuple[int, int]]:
    """{projection: (position, lag)} from the status table."""
    found = {}
    for line in output.splitlines():
        match = STATUS_ROW.match(line.strip())
        if match:
            found[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return found


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The demo in a SQLite file named by FIELDLOG_DB; answers the log's head."""
    url = f"sqlite:///{tmp_path}/var/fieldlog.sqlite"
    monkeypatch.setenv("FIELDLOG_DB", url)
    monkeypatch.setenv("FIELDLOG_SECRET_KEY", store_settings(url).secret_key or "")
    app = FieldLog(Settings.from_env())  # as the command line will open it
    try:
        load_demo(app)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def test_projections_rebuild_then_status_shows_no_lag(demo_db: int) -> None:
    runner = CliRunner()

    before = runner.invoke(cli, ["projections", "status"])
    rebuilt = runner.invoke(cli, ["projections", "rebuild"])
    after = runner.invoke(cli, ["projections", "status"])

    assert before.exit_code == 0, before.output
    assert status_rows(before.output) == {
        name: (0, demo_db) for name in ("directory", "catalog", "recognition")
    }
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"from {demo_db} events" in rebuilt.output
    assert after.exit_code == 0, after.output
    assert f"position {demo_db}" in after.output
    assert status_rows(after.output) == {
        name: (demo_db, 0) for name in ("directory", "catalog", "recognition")
    }


def test_a_rebuild_answers_as_before_and_twice_is_the_same(demo_db: int) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["projections", "rebuild"]).exit_code == 0

    def report() -> dict[str, object]:
        app = FieldLog(Settings.from_env())
        try:
            worker = ProjectionWorker(app)
            assert worker.positions() == dict.fromkeys(worker.positions(), demo_db)
            model = ProjectedReadModel(worker)
            return {
                "report": model.recognition(window("2025-10-01", "2025-10-31")),
                "timeline": model.crew_timeline(DEMO_MV.crew_id, window(), SAFETY),
            }
        finally:
            app.close()

    first = report()
    assert runner.invoke(cli, ["projections", "rebuild"]).exit_code == 0
    second = report()

    assert first == second
    people = rows(first["report"])  # type: ignore[arg-type]
    assert people["zhou-lihui"]["rescues"] == 1
    assert people["zhou-lihui"]["crew_id"] == DEMO_MV.crew_id


def test_a_pass_ends_at_the_head_it_read_and_leaves_what_is_filed_meanwhile_to_the_next(
    app: FieldLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a tablet filing while the worker applies a pass (an observation filed during
    each run), when the worker catches up, then the pass ends at the head it read: one
    run, the observation filed meanwhile left to the next pass, which gathers what came
    in. (Chasing the head took SQLite's single writer from the API for every event or
    two under steady filing: 350 view transactions a second against 16 tablets.)"""
    register_seed(app)
    story = Drowning()
    app.submit(story.patrol_started(), CHIKAN)
    worker = ProjectionWorker(app)
    runs: list[int] = []
    apply_together = worker._apply_together

    def filing_meanwhile(events: list[tuple[Any, int]], *args: Any) -> bool:
        runs.append(len(events))
        if len(runs) <= 20:
            assert app.submit(story.line_observation(), CHIKAN).result == "stored"
        return apply_together(events, *args)

    monkeypatch.setattr(worker, "_apply_together", filing_meanwhile)
    worker.catch_up()
    assert len(runs) == 1
    head = worker.head()
    assert min(worker.positions().values()) == head - 1

    worker.catch_up()  # the next pass
    assert len(runs) == 2
    assert min(worker.positions().values()) == worker.head() - 1  # one filed during it
