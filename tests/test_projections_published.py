"""The read models take each event in its published form straight from the stored JSON
(`incidents.published`), never building the domain event. That shortcut must publish
exactly what the reference path does: the domain event, presented with personal data
withheld, as JSON.

Given both stories filed (every event type, a sealed victim's details, an erased
incident, corrections, commendations) and an incident stored by release 1 → when each
stored event is published by the fast path → then it equals the reference, key order
included (timelines answer with it).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from incidents import published as fast
from incidents.application import FieldLog
from incidents.presentation import stored_event
from incidents.published import published_event, published_row
from tests.scenario import Drowning, register_seed
from tests.test_projections_support import file_stories
from tests.test_store_upcasting import write_v1_opening


def reference(app: FieldLog, notification: Any) -> dict[str, Any]:
    event = app.mapper.to_domain_event(notification)
    body = stored_event(event, notification.id, sees_personal_data=False)  # type: ignore[arg-type]
    return orjson.loads(orjson.dumps(body))  # type: ignore[no-any-return]


def every_notification(app: FieldLog) -> list[Any]:
    return app.recorder.select_notifications(1, 10_000)


def test_every_stored_event_is_published_as_the_reference_path_publishes_it(
    app: FieldLog,
) -> None:
    file_stories(app)
    notifications = every_notification(app)
    types = {n.topic.rsplit(":", 1)[-1] for n in notifications}
    assert {"VictimDetailsRecorded", "PersonalDataErased", "EntryCorrected"} <= types
    for n in notifications:
        expected = reference(app, n)
        got = published_event(n, app.mapper)
        assert got == expected, n.topic
        assert list(got) == list(expected), f"key order of {n.topic}"


def test_victim_details_are_published_withheld_without_opening_them(app: FieldLog) -> None:
    file_stories(app)
    victims = [n for n in every_notification(app) if n.topic.endswith(":VictimDetailsRecorded")]
    assert victims
    app.mapper.keys = None  # no key can be fetched: the fast path never asks for one
    for n in victims:
        body = published_event(n, app.mapper)
        assert body["personal_data"] == "withheld"
        assert not {"name", "age", "phone"} & set(body)


def test_an_opening_stored_by_release_1_is_upcast_on_the_way(app: FieldLog) -> None:
    register_seed(app)
    write_v1_opening(app, Drowning())
    (opening,) = [n for n in every_notification(app) if n.topic.endswith(":IncidentOpened")]
    body = published_event(opening, app.mapper)
    assert body["patrol_id"] is None
    assert body == reference(app, opening)


def test_a_tag_the_fast_path_does_not_know_goes_the_reference_way(
    app: FieldLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_stories(app)
    monkeypatch.setattr(fast, "TAGS", {})  # every tagged value is now "unknown"
    for n in every_notification(app)[:40]:
        assert published_event(n, app.mapper) == reference(app, n)


def test_a_row_of_the_log_table_publishes_as_its_notification(app: FieldLog) -> None:
    """Timelines join the log's table: its raw columns (SQLite keeps the stream id as
    hex) publish the same event."""
    file_stories(app)
    n = every_notification(app)[-1]
    raw_id = n.originator_id if app.settings.is_postgres else n.originator_id.hex
    body = published_row(n.id, raw_id, n.originator_version, n.topic, n.state, app.mapper)
    assert body == reference(app, n)
