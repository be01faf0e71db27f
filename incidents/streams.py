"""What every stream (patrol, incident, commendation, registry) shares."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from incidents.errors import InvalidEventError
from incidents.facts import STORED_NAMES, Fact, Opening
from incidents.submissions import Submission

REGISTRY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:fieldlog:registry")
ENVELOPE = tuple(Submission.model_fields)
PUBLISHED_AS_STORED = tuple(STORED_NAMES.items())
COPIED_CONTAINERS = (dict, list, set)


@lru_cache(maxsize=65_536)
def registry_stream_id(kind: str, key: str) -> UUID:
    """Registry streams are named by the person or crew id; the store wants a UUID.
    (Remembered: a filing names the same crew's people event after event.)"""
    return uuid5(REGISTRY_NAMESPACE, f"{kind}:{key}")


def fact_kwargs(filed: Submission, recorded_by: str) -> dict[str, Any]:
    """The attributes of the stored fact for a validated submission."""
    kwargs = dict(filed.published)  # copied in C; every envelope field is always there
    for key in ENVELOPE:
        del kwargs[key]
    for published, stored in PUBLISHED_AS_STORED:
        if published in kwargs:
            kwargs[stored] = kwargs.pop(published)
    kwargs.update(
        event_id=filed.event_id,
        occurred_at=filed.occurred_at,
        time_certainty=filed.time_certainty,
        recorded_by=recorded_by,
    )
    return kwargs


def server_fact_kwargs(event_id: UUID, occurred_at: datetime, recorded_by: str) -> dict[str, Any]:
    """The envelope of a fact the server writes itself (registry, erasure)."""
    return {
        "event_id": str(event_id),
        "occurred_at": occurred_at,
        "time_certainty": "measured",
        "recorded_by": recorded_by,
    }


class Stream(Aggregate):
    """Base for fieldlog's aggregates: the published event types it accepts.

    A stream's state is plain values and containers of immutable values (frozen
    entries, strings, datetimes), never changed inside a container's element.
    """

    opening: ClassVar[type[Opening]]
    facts: ClassVar[dict[str, type[Fact]]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> Stream:
        """The aggregate cache hands every command its own copy; with the state kept
        as the class docstring says, copying the containers is a deep copy, at a
        fraction of `copy.deepcopy`'s walk (which cost ~10% of filing one event)."""
        clone = object.__new__(type(self))
        state = self.__dict__.copy()  # at once: another thread may be fast-forwarding it
        clone.__dict__.update(
            (k, v.copy() if isinstance(v, COPIED_CONTAINERS) else v) for k, v in state.items()
        )
        return clone

    def fact_class(self, filed: Submission) -> type[Fact]:
        try:
            return self.facts[filed.type]
        except KeyError:
            raise InvalidEventError(
                f"field `type`: {filed.type} does not belong on a "
                f"{type(self).__name__.lower()} stream"
            ) from None

    def append(self, filed: Submission, recorded_by: str) -> None:
        self.trigger_event(self.fact_class(filed), **fact_kwargs(filed, recorded_by))
