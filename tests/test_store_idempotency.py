"""Resending is safe: the same `event_id` with the same content is stored once.

A tablet on the riverbank loses its connection and resends its queue; the office
pastes a request twice. Given an event stored once → when it is sent again → then
`duplicate` with the original version and position and nothing new, or `conflict`
when the content differs. The guarantee is the store's: it holds across restarts
and between processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.config import Settings
from tests.scenario import (
    CHIKAN,
    GUAN,
    HR,
    OTHER_CREW,
    SAFETY,
    ZHOU,
    Collapse,
    Drowning,
    given,
    head,
    register_seed,
    stream_types,
    without,
)


@pytest.fixture
def story(app: FieldLog) -> Drowning:
    register_seed(app)
    return Drowning()


def resend_is_duplicate(app: FieldLog, first: dict[str, Any], again: dict[str, Any]) -> None:
    """File `first`, then `again`: the second is a duplicate that stores nothing."""
    stored = app.submit(first, CHIKAN)
    assert stored.result == "stored", stored
    before = head(app)

    outcome = app.submit(again, CHIKAN)

    assert outcome.result == "duplicate", outcome
    assert (outcome.event_id, outcome.stream_id) == (stored.event_id, stored.stream_id)
    assert (outcome.version, outcome.position) == (stored.version, stored.position)
    assert head(app) == before


def resend_is_conflict(app: FieldLog, first: dict[str, Any], again: dict[str, Any]) -> None:
    given(app, first)
    before = head(app)

    outcome = app.submit(again, CHIKAN)

    assert outcome.result == "conflict", outcome
    assert "event_id" in (outcome.detail or "")
    assert head(app) == before


# --- the same fact ----------------------------------------------------------------


def test_resending_an_event_answers_duplicate_with_its_version_and_position(
    app: FieldLog, story: Drowning
) -> None:
    call = story.police_called()
    given(app, story.incident_opened(), story.sighting())

    resend_is_duplicate(app, call, dict(call))

    assert stream_types(app, story.incident_id).count("EmergencyServicesCalled") == 1


def test_resending_an_opening_is_a_duplicate_not_a_stream_conflict(
    app: FieldLog, story: Drowning
) -> None:
    opened = story.incident_opened()
    resend_is_duplicate(app, opened, dict(opened))


def test_a_duplicate_answers_the_original_even_after_the_stream_moved_on(
    app: FieldLog, story: Drowning
) -> None:
    call = story.police_called()
    given(app, story.incident_opened(), call)
    stored_position = head(app)
    given(app, story.ambulance_called(), story.reached_with_pole(), story.pulled_ashore())

    outcome = app.submit(call, CHIKAN)

    assert (outcome.result, outcome.version, outcome.position) == (
        "duplicate",
        2,
        stored_position,
    )


@pytest.mark.parametrize(
    "same_instant",
    ["2025-10-16T07:21:00Z", "2025-10-16T07:21:00+00:00", "2025-10-16T12:51:00+05:30"],
    ids=["zulu", "utc_offset", "india_offset"],
)
def test_the_same_instant_written_with_another_offset_is_a_duplicate(
    app: FieldLog, story: Drowning, same_instant: str
) -> None:
    given(app, story.incident_opened())
    call = story.police_called(occurred_at="2025-10-16T15:21:00+08:00")

    resend_is_duplicate(app, call, call | {"occurred_at": same_instant})


def test_fractional_seconds_of_zero_are_the_same_instant(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    call = story.police_called(occurred_at="2025-10-16T15:21:00+08:00")

    resend_is_duplicate(app, call, call | {"occurred_at": "2025-10-16T15:21:00.000+08:00"})


def test_omitting_time_certainty_is_the_same_as_measured(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    call = story.police_called()

    resend_is_duplicate(app, without(call, "time_certainty"), call | {"time_certainty": "measured"})


def test_omitting_an_optional_field_is_the_same_as_null(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    call = story.police_called()

    resend_is_duplicate(app, without(call, "description"), call | {"description": None})


def test_omitting_a_location_part_is_the_same_as_null(app: FieldLog, story: Drowning) -> None:
    opened = story.incident_opened(location={"place": "江南桥下"})

    resend_is_duplicate(
        app, opened, opened | {"location": {"place": "江南桥下", "lat": None, "lon": None}}
    )


def test_uuids_are_compared_as_uuids(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    call = story.police_called()
    shouted = call | {
        "event_id": call["event_id"].upper(),
        "stream_id": call["stream_id"].upper(),
    }

    resend_is_duplicate(app, call, shouted)


@pytest.mark.parametrize("expected_version", [None, 0, 2, 99])
def test_expected_version_is_not_part_of_the_content(
    app: FieldLog, story: Drowning, expected_version: int | None
) -> None:
    given(app, story.incident_opened())
    call = story.police_called(expected_version=1)
    again = without(call, "expected_version") | (
        {} if expected_version is None else {"expected_version": expected_version}
    )

    resend_is_duplicate(app, call, again)


def test_a_resent_correction_is_a_duplicate(app: FieldLog, story: Drowning) -> None:
    call = story.police_called()
    given(app, story.incident_opened(), call)
    correction = story.correction(call, {"people": [GUAN, ZHOU]})

    resend_is_duplicate(app, correction, json.loads(json.dumps(correction)))


def test_a_corrected_time_is_compared_as_an_instant(app: FieldLog, story: Drowning) -> None:
    call = story.police_called()
    given(app, story.incident_opened(), call)
    correction = story.correction(call, {"occurred_at": "2025-10-16T15:20:45+08:00"})

    resend_is_duplicate(
        app, correction, correction | {"changes": {"occurred_at": "2025-10-16T07:20:45Z"}}
    )


# --- another fact under the same id -------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"service": "ambulance_120"},
        {"people": [GUAN, ZHOU]},
        {"description": "关锦康拨打110报警"},
        {"occurred_at": "2025-10-16T15:21:01+08:00"},
        {"time_certainty": "estimated"},
    ],
    ids=["enum", "people", "text", "instant", "certainty"],
)
def test_the_same_event_id_with_other_content_is_a_conflict(
    app: FieldLog, story: Drowning, change: dict[str, Any]
) -> None:
    given(app, story.incident_opened())
    call = story.police_called()

    resend_is_conflict(app, call, call | change)


def test_an_event_id_cannot_be_reused_for_another_type(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    call = story.police_called()

    resend_is_conflict(app, call, story.sighting(event_id=call["event_id"]))


def test_an_event_id_cannot_be_reused_on_another_stream(app: FieldLog, story: Drowning) -> None:
    other = Drowning()
    given(app, story.incident_opened(), other.incident_opened())
    call = story.police_called()

    resend_is_conflict(app, call, call | {"stream_id": other.incident_id})
    assert "EmergencyServicesCalled" not in stream_types(app, other.incident_id)


def test_an_opening_id_cannot_open_a_second_stream(app: FieldLog, story: Drowning) -> None:
    opened = story.incident_opened()

    resend_is_conflict(app, opened, opened | {"stream_id": Drowning().incident_id})


def test_a_refused_event_does_not_use_up_its_event_id(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    call = story.police_called()
    refusals = [
        app.submit(call | {"service": "police"}, CHIKAN),
        app.submit(call | {"expected_version": 5}, CHIKAN),
        app.submit(call, HR),
    ]

    outcome = app.submit(call, CHIKAN)

    assert [r.result for r in refusals] == ["invalid", "conflict", "invalid"]
    assert (outcome.result, outcome.version) == ("stored", 2)


# --- across restarts and processes ------------------------------------------------------


def test_a_duplicate_is_recognised_after_a_restart(settings: Settings, story: Drowning) -> None:
    first = FieldLog(settings)
    register_seed(first)
    queue = story.rescue()
    stored = [first.submit(raw, CHIKAN) for raw in queue]
    first.close()

    restarted = FieldLog(settings)
    try:
        again = [restarted.submit(raw, CHIKAN) for raw in queue]
        facts = restarted.get_facts(UUID(story.incident_id))
    finally:
        restarted.close()

    assert {o.result for o in stored} == {"stored"}
    assert {o.result for o in again} == {"duplicate"}
    assert [(o.version, o.position) for o in again] == [(o.version, o.position) for o in stored]
    assert len(facts) == len(queue)


FILE_QUEUE = textwrap.dedent(
    """
    import json, pathlib, sys, time

    from incidents.application import FieldLog
    from incidents.config import Settings
    from incidents.roles import Actor

    queue_path, go_path = sys.argv[1:3]
    queue = json.loads(pathlib.Path(queue_path).read_text(encoding="utf-8"))
    app = FieldLog(Settings.from_env())  # FIELDLOG_DB and the secret from the environment
    tablet = Actor("crew", "chikan-tablet", "chikan-mv")
    deadline = time.monotonic() + 30
    while not pathlib.Path(go_path).exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    outcomes = [app.submit(raw, tablet) for raw in queue]
    app.close()
    print(json.dumps([[o.event_id, o.result, o.version, o.position] for o in outcomes]))
    """
)
PROCESSES = 3


def server_environment(settings: Settings) -> dict[str, str]:
    """What a server process on this store is started with."""
    env = {**os.environ, "FIELDLOG_DB": settings.db_url}
    if settings.secret_key:
        env["FIELDLOG_SECRET_KEY"] = settings.secret_key
    return env


def test_processes_resending_the_same_queue_store_each_event_once(
    app: FieldLog, story: Drowning, settings: Settings, tmp_path: Path
) -> None:
    """Three workers receive the same tablet queue at once (a retried sync request
    landing on several server processes); each event is stored exactly once."""
    queue = story.rescue()
    script = tmp_path / "file_queue.py"
    script.write_text(FILE_QUEUE, encoding="utf-8")
    queue_file = tmp_path / "queue.json"
    queue_file.write_text(json.dumps(queue, ensure_ascii=False), encoding="utf-8")
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(queue_file), str(go)],
            env=server_environment(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(PROCESSES)
    ]
    go.touch()
    answers = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))

    facts = app.get_facts(UUID(story.incident_id))
    for i, raw in enumerate(queue):
        results = sorted(answer[i][1] for answer in answers)
        assert results == ["duplicate"] * (PROCESSES - 1) + ["stored"], (raw["type"], results)
        assert len({(answer[i][2], answer[i][3]) for answer in answers}) == 1
    assert sorted(f.event_id for f, _ in facts) == sorted(raw["event_id"] for raw in queue)
    assert [f.originator_version for f, _ in facts] == list(range(1, len(queue) + 1))
    assert [f.event_id for f, _ in facts] == [raw["event_id"] for raw in queue]


class LookupTooEarly:
    """The client-event lookup as seen by a process that read before a concurrent
    resend of the same events committed: it finds nothing, once per event."""

    def __init__(self, app: FieldLog, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real_many = app.store.find_client_events
        self.seen: set[str] = set()
        monkeypatch.setattr(app.store, "find_client_event", self.find_client_event)
        monkeypatch.setattr(app.store, "find_client_events", self.find_client_events)

    def find_client_events(self, event_ids: list[str]) -> dict[str, Any]:
        found = self.real_many([i for i in event_ids if i in self.seen])
        self.seen.update(event_ids)
        return found

    def find_client_event(self, event_id: str) -> Any:
        return self.find_client_events([event_id]).get(event_id)


class StreamReadTooEarly:
    """Stream reads as seen by a process that read before a concurrent resend of the
    same events committed: each stream looks as it was before, once."""

    def __init__(self, app: FieldLog, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real = app.find_stream
        self.seen: set[UUID] = set()
        monkeypatch.setattr(app, "find_stream", self.find_stream)

    def find_stream(self, stream_id: UUID) -> Any:
        if stream_id not in self.seen:
            self.seen.add(stream_id)
            return None
        return self.real(stream_id)


@pytest.mark.parametrize("how", ["one_by_one", "as_a_queue"])
def test_a_resend_that_lost_the_race_answers_duplicate_not_conflict(
    app: FieldLog, story: Drowning, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Given the rescue stored by one process, when another process that looked up
    the event ids just before that commit files the same queue, then every event is
    a duplicate with the stored version and position (the stream "already existing"
    or a rule refusing the repeat is this very event, not a conflict)."""
    queue = story.rescue()
    stored = [app.submit(raw, CHIKAN) for raw in queue]
    before = head(app)
    LookupTooEarly(app, monkeypatch)
    StreamReadTooEarly(app, monkeypatch)

    if how == "one_by_one":
        outcomes = [app.submit(raw, CHIKAN) for raw in queue]
    else:
        outcomes = app.submit_many(queue, CHIKAN)

    assert [o.result for o in outcomes] == ["duplicate"] * len(queue)
    assert [(o.version, o.position) for o in outcomes] == [(o.version, o.position) for o in stored]
    assert head(app) == before


# --- another crew's event id --------------------------------------------------------


@pytest.mark.parametrize("same_content", [True, False], ids=["same_content", "other_content"])
def test_a_crew_token_learns_nothing_of_another_crews_event_id(
    app: FieldLog, story: Drowning, same_content: bool
) -> None:
    scenic = Collapse()
    shock = scenic.aed_shock()
    given(app, scenic.incident_opened(), shock, actor=OTHER_CREW)
    resent = shock if same_content else shock | {"description": "AED"}
    before = head(app)

    outcome = app.submit(resent, CHIKAN)

    assert (outcome.result, outcome.refusal) == ("invalid", "not_found")
    assert outcome.version is None
    assert outcome.position is None
    assert head(app) == before


def test_the_office_resending_a_crews_event_gets_the_duplicate(
    app: FieldLog, story: Drowning
) -> None:
    call = story.police_called()
    stored = given(app, story.incident_opened(), call)[-1]

    outcome = app.submit(call, SAFETY)

    assert (outcome.result, outcome.version, outcome.position) == (
        "duplicate",
        stored.version,
        stored.position,
    )
