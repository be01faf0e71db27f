"""The answer to one filed event: stored, duplicate, conflict or invalid."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Result = Literal["stored", "duplicate", "conflict", "invalid"]
Refusal = Literal["forbidden", "not_found"]


@dataclass(frozen=True)
class Outcome:
    event_id: str | None
    stream_id: str | None
    result: Result
    version: int | None = None
    position: int | None = None
    detail: str | None = None
    current_version: int | None = None
    refusal: Refusal | None = None
    """Why an `invalid` single event maps to 403 or 404 rather than 422."""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and k != "refusal"}
