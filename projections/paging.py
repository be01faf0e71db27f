"""Cursor paging for every collection: `{items, next_cursor}`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class BadCursorError(ValueError):
    pass


def plain_number(text: str) -> bool:
    """ASCII digits that fit a 64-bit position (str.isdigit() also takes '²' and '٣')."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursorError("cursor is not one this server gave out") from None
    kind, _, number = raw.partition(":")
    if kind != "o" or not plain_number(number):
        raise BadCursorError("cursor is not one this server gave out")
    return int(number)


def page(items: Sequence[Any], limit: int, cursor: str | None) -> dict[str, Any]:
    start = decode_cursor(cursor)
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return {"items": chunk, "next_cursor": encode_cursor(start + limit) if more else None}
