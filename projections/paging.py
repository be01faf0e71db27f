"""Cursor paging for every collection: `{items, next_cursor}`.

Lists page by offset; timelines page by key (the last event's `occurred_at` and
`position`), so a page is one indexed range read of `limit` rows however deep it is, and
an event filed meanwhile never shifts the next page.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
TimelineKey = tuple[int, int]  # (occurred_at in microseconds since the epoch, position)
KEY = re.compile(r"k:(-?[0-9]{1,19}):([0-9]{1,18})")


class BadCursorError(ValueError):
    pass


def plain_number(text: str) -> bool:
    """ASCII digits that fit a 64-bit position (str.isdigit() also takes '²' and '٣')."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _unwrap(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursorError("cursor is not one this server gave out") from None


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    kind, _, number = _unwrap(cursor).partition(":")
    if kind != "o" or not plain_number(number):
        raise BadCursorError("cursor is not one this server gave out")
    return int(number)


def page(items: Sequence[Any], limit: int, cursor: str | None) -> dict[str, Any]:
    start = decode_cursor(cursor)
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return {"items": chunk, "next_cursor": encode_cursor(start + limit) if more else None}


def encode_key(key: TimelineKey) -> str:
    return base64.urlsafe_b64encode(f"k:{key[0]}:{key[1]}".encode()).decode().rstrip("=")


def decode_key(cursor: str | None) -> TimelineKey | None:
    if not cursor:
        return None
    found = KEY.fullmatch(_unwrap(cursor))
    if found is None:
        raise BadCursorError("cursor is not one this server gave out")
    return int(found[1]), int(found[2])


def keyed_page(
    items: Sequence[Any], limit: int, key_of: Callable[[Any], TimelineKey]
) -> dict[str, Any]:
    """`items` are the page and, if there is more, one item beyond it."""
    chunk = list(items[:limit])
    more = len(items) > limit
    return {"items": chunk, "next_cursor": encode_key(key_of(chunk[-1])) if more else None}
