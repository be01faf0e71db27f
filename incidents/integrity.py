"""Tamper evidence: every stored event is chained to the one before it in global order.

hash(n) = SHA-256(hash(n-1) ‖ position ‖ stream ‖ version ‖ type ‖ event_id ‖ recorded_at
‖ the payload bytes as stored), each part length-prefixed. The hash of an event is
written with the event, in the same transaction; each row also names the position it
follows, so a deleted or inserted event breaks the chain even where positions have gaps
(PostgreSQL sequences skip the numbers of rolled-back inserts).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

GENESIS = bytes(32)


_length = struct.Struct(">Q").pack  # each part's length, 8 bytes big-endian


def envelope_of(state: bytes) -> tuple[str, str]:
    """The event_id and recorded_at inside a stored state (no full decoding needed)."""
    try:
        doc = orjson.loads(state)
    except orjson.JSONDecodeError:
        return "", ""  # unreadable: the hash will not match, which verify reports
    if not isinstance(doc, dict):
        return "", ""
    stamp = doc.get("timestamp")
    recorded_at = stamp.get("_data_", "") if isinstance(stamp, dict) else str(stamp or "")
    return str(doc.get("event_id", "")), str(recorded_at)


def event_hash(
    previous: bytes,
    position: int,
    stream_id: UUID,
    version: int,
    topic: str,
    state: bytes,
    envelope: tuple[str, str] | None = None,
) -> bytes:
    """`envelope` is what `envelope_of(state)` answers, where the writer already holds it."""
    event_id, recorded_at = envelope or envelope_of(state)
    at, stream, ver = str(position).encode(), stream_id.hex.encode(), str(version).encode()
    kind, ident, stamp = topic.encode(), event_id.encode(), recorded_at.encode()
    # One join of every part and its length (a list built per part cost twice the hash).
    message = b"".join(
        (
            previous,
            *(_length(len(at)), at, _length(len(stream)), stream, _length(len(ver)), ver),
            *(_length(len(kind)), kind, _length(len(ident)), ident),
            *(_length(len(stamp)), stamp, _length(len(state)), state),
        )
    )
    return hashlib.sha256(message).digest()


@dataclass(frozen=True)
class EnvelopedStoredEvent(StoredEvent):
    """A stored event carrying what `envelope_of` would read back from its state, taken
    from the values just encoded into it (parsing the bytes again cost 2 us an event)."""

    envelope: tuple[str, str] | None = None


def envelope_in(state: dict[str, Any]) -> tuple[str, str] | None:
    """`envelope_of`'s answer for the bytes this dict encodes to, read from the dict: its
    event_id text and tagged timestamp come back from JSON as they are. None for any
    other shape (then the bytes are parsed)."""
    event_id, stamp = state.get("event_id", ""), state.get("timestamp")
    if type(event_id) is not str or type(stamp) is not dict:
        return None
    recorded_at = stamp.get("_data_", "")
    return (event_id, recorded_at) if type(recorded_at) is str else None


class Link(NamedTuple):
    """A row of the integrity table, in its column order."""

    position: int
    previous_position: int
    hash: str


def chain(
    previous: tuple[int, bytes],
    rows: Sequence[tuple[int, UUID, int, str, bytes, tuple[str, str] | None]],
) -> list[Link]:
    """The links for newly inserted events `(position, stream, version, topic, state,
    envelope)` (envelope None: read from the state)."""
    links = []
    last_position, last_hash = previous
    for position, stream_id, version, topic, state, envelope in rows:
        digest = event_hash(last_hash, position, stream_id, version, topic, state, envelope)
        links.append(Link(position, last_position, digest.hex()))
        last_position, last_hash = position, digest
    return links


@dataclass(frozen=True)
class Break:
    position: int
    reason: str


def verify(
    rows: Iterator[
        tuple[int | None, UUID | None, int, str, bytes, int | None, int | None, str | None]
    ],
) -> tuple[int, str, Break | None]:
    """Walk `(position, stream, version, topic, state, link_position, link_previous, link_hash)`
    in position order; answer the head position and hash, and the first break if any."""
    last_position, last_hash = 0, GENESIS
    for position, stream_id, version, topic, state, link_pos, link_prev, link_hash in rows:
        at = position if position is not None else link_pos or 0
        if position is None or stream_id is None:
            return last_position, last_hash.hex(), Break(at, "an event in the chain is missing")
        if link_pos is None or link_hash is None or link_prev is None:
            return last_position, last_hash.hex(), Break(at, "the event has no integrity hash")
        if link_prev != last_position:
            return (
                last_position,
                last_hash.hex(),
                Break(
                    at, f"the sequence breaks: it follows position {link_prev}, not {last_position}"
                ),
            )
        digest = event_hash(last_hash, position, stream_id, version, topic, state)
        if digest.hex() != link_hash:
            return (
                last_position,
                last_hash.hex(),
                Break(at, "the event or its hash was altered (the chain does not verify)"),
            )
        last_position, last_hash = position, digest
    return last_position, last_hash.hex(), None


def rows_as_tuples(rows: Sequence[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    for r in rows:
        stream = r["originator_id"]
        if stream is not None and not isinstance(stream, UUID):
            stream = UUID(stream)
        state = r["state"]
        yield (
            r["position"],
            stream,
            r["originator_version"],
            r["topic"],
            state.encode() if isinstance(state, str) else bytes(state or b""),
            r["link_position"],
            r["link_previous"],
            r["link_hash"],
        )
