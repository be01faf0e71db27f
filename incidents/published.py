"""Stored events read straight into their published form, as the read models keep them.

A projection pass reads every event of the log. Building a domain event from each
(untagging datetimes, opening sealed victim details) only to turn it back into JSON
costs more than reading it, so the read models take the stored JSON and shape it
directly: tagged datetimes are already ISO text, and sealed personal data is never
opened (everyone but the office sees it withheld). The result equals
`stored_event(mapper.to_domain_event(n), n.id, sees_personal_data=False)` as JSON;
anything this fast path does not know is handed to that reference path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, Notification, StoredEvent
from eventsourcing.utils import resolve_topic

from incidents.facts import ENVELOPE_FIELDS, LIBRARY_FIELDS, PUBLISHED_NAMES
from incidents.personal_data import PERSONAL_FIELDS, SEALED
from incidents.presentation import REGISTRY_KEYS, stored_event

SKIPPED = frozenset({*ENVELOPE_FIELDS, *LIBRARY_FIELDS, "class_version", SEALED})
VICTIM = "VictimDetailsRecorded"


class Unknown(Exception):
    """A tagged value this fast path does not publish itself."""


def _uuid(data: str) -> str:
    return str(UUID(data))


def _text(data: str) -> str:
    return data


TAGS: dict[str, Callable[[str], str]] = {
    "datetime_iso": _text,
    "date_iso": _text,
    "uuid_hex": _uuid,
}


CONTAINERS = (dict, list)  # what orjson gives that may hold a tag


def _plain(value: Any) -> Any:
    """A stored value with the library's `{"_type_", "_data_"}` tags made plain JSON."""
    if type(value) is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            tag = TAGS.get(value["_type_"])
            if tag is None:
                raise Unknown(value["_type_"])
            return tag(value["_data_"])
        return {k: _plain(v) if type(v) in CONTAINERS else v for k, v in value.items()}
    if type(value) is list:
        return [_plain(v) if type(v) in CONTAINERS else v for v in value]
    return value


def _instant(value: Any) -> Any:
    """An envelope's time: a tagged ISO datetime, as text (the general walk otherwise)."""
    if type(value) is dict and value.get("_type_") == "datetime_iso":
        return value["_data_"]
    return _plain(value)


@cache
def _event_class(topic: str) -> tuple[str, int, type[Any]]:
    cls = resolve_topic(topic)
    return cls.__name__, getattr(cls, "class_version", 1), cls


def published_event(n: Notification, mapper: Mapper[Any]) -> dict[str, Any]:
    """The event at this position as every reader but the office sees it."""
    return published_row(n.id, n.originator_id, n.originator_version, n.topic, n.state, mapper)


def published_row(
    position: int, originator_id: Any, version: int, topic: str, state: bytes, mapper: Mapper[Any]
) -> dict[str, Any]:
    """The same, from the columns of the log's table (a read model joining the log)."""
    try:
        return _published(position, originator_id, version, topic, state)
    except Unknown:
        stored = StoredEvent(originator_id, version, topic, bytes(state))
        return published_fact(mapper.to_domain_event(stored), position)


def published_fact(event: Any, position: int) -> dict[str, Any]:
    """The reference path: a domain event presented as everyone but the office sees it,
    as JSON carries it."""
    body = stored_event(event, position, sees_personal_data=False)
    return orjson.loads(orjson.dumps(body))  # type: ignore[no-any-return]


def _published(
    position: int, originator_id: Any, version: int, topic: str, raw: bytes
) -> dict[str, Any]:
    name, class_version, cls = _event_class(topic)
    state: dict[str, Any] = orjson.loads(raw)
    from_version = state.get("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    body: dict[str, Any] = {
        "event_id": state["event_id"],
        "type": name,
        "stream_id": _stream_id(name, state, originator_id),
        "version": version,
        "position": position,
        "occurred_at": _instant(state["occurred_at"]),
        "time_certainty": state["time_certainty"],
        "recorded_at": _instant(state["timestamp"]),
        "recorded_by": state["recorded_by"],
    }
    for key, value in state.items():
        if key not in SKIPPED:
            # Most values are text: only containers (and tags) go through `_plain`.
            plain = _plain(value) if type(value) in CONTAINERS else value
            body[PUBLISHED_NAMES.get(key, key)] = plain
    if name == VICTIM:
        for key in PERSONAL_FIELDS:
            body.pop(key, None)
        body["personal_data"] = "withheld"
    return body


STREAM_KEYS = {**REGISTRY_KEYS, "MemberJoinedCrew": "crew_id", "MemberLeftCrew": "crew_id"}


def _stream_id(name: str, state: dict[str, Any], originator_id: Any) -> str:
    """Registry streams are named by the person or crew id; the others by their UUID."""
    key = STREAM_KEYS.get(name)
    if key is not None:
        return str(state[key])
    if type(originator_id) is str and len(originator_id) == 32:  # SQLite keeps hex
        return _dashed(originator_id)
    return str(originator_id)


@lru_cache(maxsize=65_536)
def _dashed(h: str) -> str:
    """A UUID's text from its hex (remembered: a run reads a stream's events together)."""
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
