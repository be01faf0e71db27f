"""`from` / `to` windows: RFC 3339 timestamps or dates read in FIELDLOG_TZ.

`from` is inclusive; a timestamp `to` is exclusive; a date `to` includes its whole day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadWindowError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    asked_from: str | None = None  # as the caller wrote them, echoed in reports
    asked_to: str | None = None

    def holds(self, instant: datetime) -> bool:
        return (self.start is None or instant >= self.start) and (
            self.end is None or instant < self.end
        )

    @classmethod
    def parse(cls, start: str | None, end: str | None, tz: ZoneInfo) -> Window:
        return cls(
            _bound(start, tz, "from", end_of_day=False),
            _bound(end, tz, "to", end_of_day=True),
            start or None,
            end or None,
        )


def _bound(value: str | None, tz: ZoneInfo, name: str, *, end_of_day: bool) -> datetime | None:
    if value is None or value == "":
        return None
    if DATE_ONLY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise BadWindowError(f"parameter `{name}`: {value!r} is not a calendar date") from None
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=tz)
    # An unencoded "+" in a query string arrives as a space: take it back.
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise BadWindowError(
            f"parameter `{name}`: {value!r} is neither a date (2025-10-16) nor an RFC 3339 time"
        ) from None
    if instant.tzinfo is None:
        raise BadWindowError(f"parameter `{name}`: a time needs an offset, e.g. +08:00")
    return instant
