"""Query parameters shared by collections: paging, windows, ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request

from api.problems import ProblemError
from projections.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BadCursorError,
    TimelineKey,
    decode_cursor,
    decode_key,
    encode_cursor,
    keyed_page,
    page,
    plain_number,
)
from projections.views import micros
from projections.window import BadWindowError, Window


class Paging:
    def __init__(self, limit: str | None = None, cursor: str | None = None) -> None:
        self.limit = parse_limit(limit)
        self.cursor = cursor

    def apply(self, items: list[Any]) -> dict[str, Any]:
        try:
            return page(items, self.limit, self.cursor)
        except BadCursorError as e:
            raise ProblemError(400, f"parameter `cursor`: {e}") from None

    def sliced(self, fetch: Callable[[int, int], list[Any]]) -> dict[str, Any]:
        """A list page read as `fetch(offset, limit + 1)`: the store reads only the page
        (and one item more, which says whether there is a next page)."""
        try:
            start = decode_cursor(self.cursor)
        except BadCursorError as e:
            raise ProblemError(400, f"parameter `cursor`: {e}") from None
        items = fetch(start, self.limit + 1)
        more = len(items) > self.limit
        return {
            "items": items[: self.limit],
            "next_cursor": encode_cursor(start + self.limit) if more else None,
        }

    def after(self) -> TimelineKey | None:
        """Where a timeline page starts (ask for `limit + 1` events from there)."""
        try:
            return decode_key(self.cursor)
        except BadCursorError as e:
            raise ProblemError(400, f"parameter `cursor`: {e}") from None

    def keyed(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        return keyed_page(events, self.limit, timeline_key)


def timeline_key(event: dict[str, Any]) -> TimelineKey:
    return micros(event["occurred_at"]), int(event["position"])


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not plain_number(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ProblemError(400, f"parameter `limit`: a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


async def window_dep(
    request: Request,
    from_: Annotated[str | None, Query(alias="from", description="RFC 3339 time or date")] = None,
    to: Annotated[
        str | None, Query(description="RFC 3339 time (exclusive) or date (inclusive)")
    ] = None,
) -> Window:
    try:
        return Window.parse(from_, to, request.app.state.fieldlog.settings.tz)
    except BadWindowError as e:
        raise ProblemError(400, str(e)) from None


def parse_instant(raw: str | None, name: str, request: Request) -> datetime | None:
    if raw is None:
        return None
    try:
        window = Window.parse(raw, None, request.app.state.fieldlog.settings.tz)
    except BadWindowError as e:
        raise ProblemError(400, str(e).replace("`from`", f"`{name}`")) from None
    return window.start


def stream_uuid(raw: str, noun: str) -> UUID:
    """A path id that is not a UUID names nothing: 404, like any unknown record."""
    try:
        return UUID(raw)
    except ValueError:
        raise ProblemError(404, f"no {noun} {raw}") from None


async def paging_dep(
    limit: Annotated[str | None, Query(description="page size, 1–1000 (default 100)")] = None,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
) -> Paging:
    """`async`, so FastAPI does not send this to the thread pool (see api/deps.py)."""
    return Paging(limit, cursor)


PagingDep = Annotated[Paging, Depends(paging_dep)]
WindowDep = Annotated[Window, Depends(window_dep)]
