"""The published language as clients file it: one model per event type.

Every model forbids unknown fields, so a typo (or a server-owned field such as
`recorded_at`) never becomes an immutable fact. The same models validate a
corrected entry, so a correction can never leave an invalid event behind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_serializer,
    model_validator,
)

from incidents.errors import InvalidEventError

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RegistryId = Annotated[str, StringConstraints(pattern=r"^[^\s/?#]{1,64}$")]
People = Annotated[list[RegistryId], Field(max_length=50)]

SERVER_FIELDS = ("version", "position", "recorded_at", "recorded_by")
SERVER_ONLY_TYPES = (
    "PersonalDataErased",
    "PersonRegistered",
    "CrewRegistered",
    "MemberJoinedCrew",
    "MemberLeftCrew",
)


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")


def rfc3339_text(value: Any) -> Any:
    """A tablet's time must come as RFC 3339 text with its offset, never a bare number."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValueError("must be an RFC 3339 time with an offset, e.g. 2025-10-16T15:20:00+08:00")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(rfc3339_text)]


def canonical_time(value: str) -> str:
    """An RFC 3339 time in one canonical spelling (upper-case T/Z, ISO offset), so every
    reader can parse a corrected time; anything else is left for validation to refuse."""
    if not RFC3339.match(value):
        return value
    text = value[:10] + "T" + value[11:]
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return value


class computed_once:
    """`functools.cached_property` without its lock (Python 3.11 takes one lock, shared
    by every instance, on each first read): a submission is read only by the thread
    that validated it. The value lands in the instance's `__dict__`, which is then
    read first, as with `cached_property`."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self.name = func.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


@lru_cache(maxsize=65_536)
def uuid_of(text: str) -> UUID:
    """A stream id's UUID, remembered: `UUID()` parses in Python, and a queue names
    the same few streams event after event."""
    return UUID(text)


class Location(BaseModel):
    """Where it happened: coordinates, a place name, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    place: ShortText | None = None

    @model_serializer(mode="plain")
    def _without_absent(self) -> dict[str, Any]:
        """Only the parts given (plain, not wrapped: pydantic's wrap handler costs a
        Python call and a dict per location)."""
        parts = (("lat", self.lat), ("lon", self.lon), ("place", self.place))
        return {k: v for k, v in parts if v is not None}

    @model_validator(mode="after")
    def _not_all_absent(self) -> Location:
        if self.lat is None and self.lon is None and self.place is None:
            raise ValueError("a location needs at least one of lat, lon or place")
        return self


class Submission(BaseModel):
    """The envelope every filed event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(computed_once,))

    event_id: Annotated[str, Field(description="UUID chosen by the tablet")]
    type: str
    stream_id: Annotated[str, Field(description="UUID of the patrol, incident or commendation")]
    occurred_at: Instant
    time_certainty: Literal["measured", "estimated", "unknown"] = "measured"
    expected_version: Annotated[int | None, Field(ge=0)] = None

    @model_validator(mode="before")
    @classmethod
    def _canonical_ids(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("event_id", "stream_id"):
                value = data.get(key)
                # Already canonical (the rule): no call, no copy of the event.
                if isinstance(value, str) and not CANONICAL_UUID.fullmatch(value):
                    data = {**data, key: canonical_uuid(value, key)}
        return data

    def payload(self) -> dict[str, Any]:
        """The payload fields with Python values (envelope excluded)."""
        envelope = set(Submission.model_fields)
        return {k: getattr(self, k) for k in type(self).model_fields if k not in envelope}

    @computed_once
    def published(self) -> dict[str, Any]:
        """Every field as JSON values under its published name, dumped once: the
        fingerprint and the stored fact's attributes are both read from it."""
        # The serializer itself: `model_dump`'s wrapper costs a fifth as much again.
        return self.__pydantic_serializer__.to_python(self, mode="json", by_alias=True)  # type: ignore[no-any-return]

    @property
    def stream_uuid(self) -> UUID:
        return uuid_of(self.stream_id)

    @property
    def people_named(self) -> list[str]:
        """The registered people the event names (`people`, where its type has them).
        Read from the fields, not `getattr`: pydantic answers a missing attribute
        by raising and catching inside `__getattr__`."""
        return self.__dict__.get("people") or []

    def content(self) -> dict[str, Any]:
        """What makes two submissions "the same": all but `expected_version`,
        timestamps as instants, defaults filled in."""
        data = dict(self.published)  # copied in C; every envelope field is always there
        del data["expected_version"]
        data["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat()
        return data

    def fingerprint(self) -> str:
        return hashlib.sha256(orjson.dumps(self.content(), option=orjson.OPT_SORT_KEYS)).hexdigest()


CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(value: str, field: str) -> str:
    """The UUID's canonical text (lower case, hyphens); already canonical is the rule."""
    if CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(UUID(value))
    except ValueError:
        raise ValueError(f"{field} must be a UUID") from None


# --- patrol -----------------------------------------------------------------


class PatrolStarted(Submission):
    type: Literal["PatrolStarted"]
    crew_id: RegistryId
    line: ShortText
    people: People


class LineObservationRecorded(Submission):
    type: Literal["LineObservationRecorded"]
    category: Literal["defect", "vegetation", "hazard", "public_safety", "other"]
    severity: Literal["low", "medium", "high", "critical"]
    description: Text
    location: Location | None = None


class PatrolEnded(Submission):
    type: Literal["PatrolEnded"]
    summary: Text | None = None


# --- incident ---------------------------------------------------------------

IncidentKind = Literal[
    "drowning", "cardiac_arrest", "fall", "electrical", "fire", "traffic", "other"
]
RescueAction = Literal[
    "reach_with_pole",
    "throw_flotation",
    "enter_water",
    "pull_ashore",
    "cpr_started",
    "aed_shock",
    "first_aid",
    "other",
]


class IncidentOpened(Submission):
    type: Literal["IncidentOpened"]
    kind: IncidentKind
    title: ShortText
    crew_id: RegistryId
    location: Location
    patrol_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _canonical_patrol(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("patrol_id"), str):
            data = dict(data)
            data["patrol_id"] = canonical_uuid(data["patrol_id"], "patrol_id")
        return data


class ObservationRecorded(Submission):
    type: Literal["ObservationRecorded"]
    description: Text


class EmergencyServicesCalled(Submission):
    type: Literal["EmergencyServicesCalled"]
    service: Literal["police_110", "ambulance_120", "fire_119", "other"]
    people: People
    description: Text | None = None


class RescueActionTaken(Submission):
    type: Literal["RescueActionTaken"]
    action: RescueAction
    people: People
    description: Text | None = None


class HelperJoined(Submission):
    type: Literal["HelperJoined"]
    description: Text
    people: People | None = None


class VictimHandedOver(Submission):
    type: Literal["VictimHandedOver"]
    to: ShortText


class OutcomeRecorded(Submission):
    type: Literal["OutcomeRecorded"]
    outcome: Literal["recovered", "hospitalised", "deceased", "unknown"]
    detail: Text | None = None


class VictimDetailsRecorded(Submission):
    type: Literal["VictimDetailsRecorded"]
    name: ShortText
    age: Annotated[int | None, Field(ge=0, le=150)] = None
    phone: Annotated[str | None, StringConstraints(pattern=r"^[0-9+() -]{3,32}$")] = None


class ThanksReceived(Submission):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["ThanksReceived"]
    from_: Annotated[ShortText, Field(alias="from")]
    via: ShortText | None = None
    message: Text | None = None


class EntryCorrected(Submission):
    type: Literal["EntryCorrected"]
    corrects_event_id: str
    changes: Annotated[dict[str, Any], Field(min_length=1, max_length=20)]
    reason: Text

    @model_validator(mode="before")
    @classmethod
    def _canonical_target(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("corrects_event_id"), str):
            data = dict(data)
            data["corrects_event_id"] = canonical_uuid(
                data["corrects_event_id"], "corrects_event_id"
            )
        changes = data.get("changes") if isinstance(data, dict) else None
        if isinstance(changes, dict) and isinstance(changes.get("occurred_at"), str):
            data = {
                **data,
                "changes": {**changes, "occurred_at": canonical_time(changes["occurred_at"])},
            }
        return data

    def content(self) -> dict[str, Any]:
        """A corrected time is compared as an instant, like the envelope's."""
        data = super().content()
        corrected = self.changes.get("occurred_at")
        if isinstance(corrected, str) and RFC3339.match(corrected):
            instant = datetime.fromisoformat(corrected.replace("z", "Z"))
            data["changes"] = {
                **data["changes"],
                "occurred_at": instant.astimezone(UTC).isoformat(),
            }
        return data


class IncidentReviewed(Submission):
    type: Literal["IncidentReviewed"]
    findings: Text


class IncidentReopened(Submission):
    type: Literal["IncidentReopened"]
    reason: Text


# --- commendation -----------------------------------------------------------


class CommendationNominated(Submission):
    type: Literal["CommendationNominated"]
    nominees: Annotated[list[RegistryId], Field(min_length=1, max_length=50)]
    incident_id: str
    citation: Text

    @model_validator(mode="before")
    @classmethod
    def _canonical_incident(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("incident_id"), str):
            data = dict(data)
            data["incident_id"] = canonical_uuid(data["incident_id"], "incident_id")
        return data


class CommendationEndorsed(Submission):
    type: Literal["CommendationEndorsed"]
    note: Text | None = None


class CommendationApproved(Submission):
    type: Literal["CommendationApproved"]
    award: ShortText


class CommendationRejected(Submission):
    type: Literal["CommendationRejected"]
    reason: Text


AnySubmission = Annotated[
    PatrolStarted
    | LineObservationRecorded
    | PatrolEnded
    | IncidentOpened
    | ObservationRecorded
    | EmergencyServicesCalled
    | RescueActionTaken
    | HelperJoined
    | VictimHandedOver
    | OutcomeRecorded
    | VictimDetailsRecorded
    | ThanksReceived
    | EntryCorrected
    | IncidentReviewed
    | IncidentReopened
    | CommendationNominated
    | CommendationEndorsed
    | CommendationApproved
    | CommendationRejected,
    Field(discriminator="type"),
]

MODELS: dict[str, type[Submission]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in Submission.__subclasses__()
}
PATROL_TYPES = ("PatrolStarted", "LineObservationRecorded", "PatrolEnded")
COMMENDATION_TYPES = (
    "CommendationNominated",
    "CommendationEndorsed",
    "CommendationApproved",
    "CommendationRejected",
)
INCIDENT_TYPES = (
    *(t for t in MODELS if t not in PATROL_TYPES + COMMENDATION_TYPES),
    "PersonalDataErased",
)
OPENING_TYPES = ("PatrolStarted", "IncidentOpened", "CommendationNominated")

VALIDATORS = {kind: model.__pydantic_validator__ for kind, model in MODELS.items()}


def parse_submission(raw: object) -> Submission:
    """Validate one filed event, or raise `InvalidEventError` naming field and rule."""
    if not isinstance(raw, dict):
        raise InvalidEventError("each event must be a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise InvalidEventError("field `type`: required, the event type (e.g. IncidentOpened)")
    if kind in SERVER_ONLY_TYPES:
        raise InvalidEventError(
            f"field `type`: {kind} is recorded by the server itself and cannot be filed"
        )
    if kind not in MODELS:
        raise InvalidEventError(
            f"field `type`: {kind!r} is not an event type; use one of {', '.join(MODELS)}"
        )
    for field in SERVER_FIELDS:
        if field in raw:
            raise InvalidEventError(
                f"field `{field}`: set by the server, it cannot be sent by a client"
            )
    try:
        # The type's own validator: the type is known, so no union to dispatch over.
        return VALIDATORS[kind].validate_python(raw)  # type: ignore[no-any-return]
    except ValidationError as e:
        raise InvalidEventError(describe_validation_error(e, kind)) from None


def revalidate(kind: str, content: dict[str, Any]) -> Submission:
    """Validate a corrected entry's content as if it had been filed that way."""
    try:
        return MODELS[kind].model_validate(content)
    except ValidationError as e:
        raise InvalidEventError(
            "the corrected entry would be invalid: " + describe_validation_error(e, kind)
        ) from None


def describe_validation_error(error: ValidationError, kind: str | None = None) -> str:
    """Turn pydantic's errors into sentences that name the field and the rule."""
    parts = []
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"] if not (kind and p == kind)]
        field = ".".join(loc) or "event"
        parts.append(f"field `{field}`: {_rule(item)}")
    return "; ".join(parts)


def _rule(item: Any) -> str:  # noqa: PLR0911 - one sentence per pydantic error kind
    kind = item["type"]
    ctx = item.get("ctx") or {}
    got = item.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "not a field of this event type (check the spelling)"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')} (got {got!r})"
    if kind == "timezone_aware":
        return "must be an RFC 3339 time with an offset, e.g. 2025-10-16T15:20:00+08:00"
    if kind.startswith("datetime"):
        return "must be an RFC 3339 time with an offset, e.g. 2025-10-16T15:20:00+08:00"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return "has characters that are not allowed here"
    return str(item["msg"]).removeprefix("Value error, ")
