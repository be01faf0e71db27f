"""A process decides a single event on its cached copy of the stream, without reading
the store first. Given another process (a second server on the same store) wrote since,
the copy is behind: then the event must still be filed as if the store had been read —
stored after the other process's events, refused only by what the store holds, and a
resend after an erasure never answered from the stale copy.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import is_dataclass
from typing import Any
from uuid import UUID

from incidents.application import FieldLog
from incidents.incident import Incident
from incidents.roles import Actor
from incidents.submissions import parse_submission
from tests.scenario import CHIKAN, SAFETY, Drowning, given, register_seed, stream_types

ERASER = Actor("admin", "cache-test-eraser")


def test_an_event_decided_on_a_copy_behind_the_store_is_stored_after_the_other_writes(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    outcome = other_process.submit(handed_over.outcome(), CHIKAN)
    assert outcome.version == 9

    thanks = app.submit(handed_over.thanks(), CHIKAN)

    assert (thanks.result, thanks.version) == ("stored", 10)
    assert thanks.position == (outcome.position or 0) + 1  # no hole where nothing was lost
    assert stream_types(app, handed_over.incident_id)[-2:] == ["OutcomeRecorded", "ThanksReceived"]


def test_expected_version_is_checked_against_the_store_not_the_stale_copy(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    other_process.submit(handed_over.outcome(), CHIKAN)

    stale = app.submit(handed_over.thanks(expected_version=8), CHIKAN)
    current = app.submit(handed_over.thanks(event_id=str(UUID(int=99)), expected_version=9), CHIKAN)

    assert (stale.result, stale.current_version) == ("conflict", 9)
    assert (current.result, current.version) == ("stored", 10)


def test_a_refusal_by_the_stale_copy_is_decided_again_on_the_store(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    """`app` saw the incident reviewed; `other` reopened it since: reviewing is allowed."""
    given(app, handed_over.reviewed(), actor=SAFETY)
    given(other_process, handed_over.reopened(), actor=SAFETY)

    again = app.submit(handed_over.reviewed(event_id=str(UUID(int=98))), SAFETY)

    assert (again.result, again.version) == ("stored", 11)


def test_opening_a_stream_another_process_opened_is_refused_as_existing(
    app: FieldLog, other_process: FieldLog
) -> None:
    register_seed(app)
    opened = Drowning().incident_opened()
    given(other_process, opened)

    second = app.submit({**opened, "event_id": str(UUID(int=97))}, CHIKAN)
    resend = app.submit(opened, CHIKAN)

    assert (second.result, second.current_version) == ("conflict", 1)
    assert "already exists" in (second.detail or "")
    assert (resend.result, resend.version) == ("duplicate", 1)


def test_a_resend_of_victim_details_after_another_process_erased_them_is_not_confirmed(
    app: FieldLog, other_process: FieldLog, handed_over: Drowning
) -> None:
    """A `duplicate` would confirm a guess at the erased details: the resend must be
    answered from the store (erased), not from the copy cached before the erasure."""
    details = handed_over.victim_details()
    given(app, details)
    other_process.erase_personal_data(UUID(handed_over.incident_id), ERASER)

    resend = app.submit(details, CHIKAN)

    assert resend.result == "invalid"
    assert "erased" in (resend.detail or "")


def test_a_queue_leaves_the_process_cache_at_the_stream_it_saved(
    app: FieldLog, handed_over: Drowning
) -> None:
    """After a sync the next single event is decided on the cache, which must hold the
    queue's events: else it would be decided at a stale version and filed twice."""
    results = app.submit_many([handed_over.outcome(), handed_over.thanks()], CHIKAN)
    assert [r.version for r in results] == [9, 10]

    cached = app.cached_stream(UUID(handed_over.incident_id))

    assert cached is not None
    assert cached.version == 10


# --- the copy the cache hands out -------------------------------------------------


def mutable_parts(value: Any, seen: dict[int, Any]) -> dict[int, Any]:
    """Every mutable object reachable from `value` (containers and unfrozen objects)."""
    if id(value) in seen or isinstance(value, (str, bytes, int, float, bool, type(None))):
        return seen
    frozen = is_dataclass(value) and type(value).__dataclass_params__.frozen  # type: ignore[attr-defined]
    if isinstance(value, (dict, list, set)) or (hasattr(value, "__dict__") and not frozen):
        seen[id(value)] = value
    children: list[Any] = []
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, (list, set, tuple, frozenset)):
        children = list(value)
    elif hasattr(value, "__dict__"):
        children = list(vars(value).values())
    for child in children:
        mutable_parts(child, seen)
    return seen


def test_a_copy_of_a_cached_incident_shares_only_entry_contents_which_never_change(
    app: FieldLog, handed_over: Drowning
) -> None:
    """The copy is a level deep: entries' contents are shared, and replaced (never
    changed in place) by a correction, so correcting the copy leaves the cached one."""
    opened = app.get_stream(UUID(handed_over.incident_id), Incident)
    assert opened is not None
    first = next(iter(opened.entries))
    given(app, handed_over.correction({"event_id": first}, {"time_certainty": "estimated"}))
    incident = app.get_stream(UUID(handed_over.incident_id), Incident)
    assert incident is not None
    before = deepcopy(vars(incident))  # the library's deep copy of its state

    copy = deepcopy(incident)
    correction = handed_over.correction({"event_id": first}, {"title": "更正"})
    copy.append(parse_submission(correction), "crew:chikan-tablet")

    assert vars(incident) == before
    assert copy.entries[first].content["title"] == "更正"
    assert copy.entries[first].content["time_certainty"] == "estimated"
    contents: dict[int, Any] = {}
    for entry in incident.entries.values():
        mutable_parts(entry.content, contents)
    shared = mutable_parts(incident, {}).keys() & mutable_parts(copy, {}).keys()
    assert shared <= contents.keys()
