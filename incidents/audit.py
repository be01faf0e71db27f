"""What an auditor asks of the log: does it verify, and does it still hold a checkpoint?

A checkpoint is the head position and hash signed with Ed25519 (the key derives from
the master secret), so anyone holding the public key can check it without the server.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from incidents.integrity import Break, rows_as_tuples, verify
from incidents.keys import signing_key
from incidents.store import INTEGRITY_TABLE, FieldlogRecorder

PAGE = 2000


def checkpoint_message(position: int, hash_hex: str, signed_at: str) -> bytes:
    return f"fieldlog-checkpoint/v1\n{position}\n{hash_hex}\n{signed_at}".encode()


def public_key_text(master: bytes) -> str:
    raw = signing_key(master).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def head_link(store: FieldlogRecorder) -> tuple[int, str]:
    rows = store.query(
        f"SELECT position, hash FROM {INTEGRITY_TABLE} ORDER BY position DESC LIMIT 1"
    )
    return (rows[0]["position"], rows[0]["hash"]) if rows else (0, bytes(32).hex())


def sign_checkpoint(store: FieldlogRecorder, master: bytes) -> dict[str, Any]:
    position, hash_hex = head_link(store)
    signed_at = datetime.now(UTC).isoformat()
    signature = signing_key(master).sign(checkpoint_message(position, hash_hex, signed_at))
    return {
        "position": position,
        "hash": hash_hex,
        "signed_at": signed_at,
        "public_key": public_key_text(master),
        "signature": base64.b64encode(signature).decode(),
    }


class CheckpointError(ValueError):
    """The checkpoint document itself is malformed or its signature does not hold."""


def check_signature(checkpoint: dict[str, Any]) -> None:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["public_key"]))
        message = checkpoint_message(
            int(checkpoint["position"]), str(checkpoint["hash"]), str(checkpoint["signed_at"])
        )
        key.verify(base64.b64decode(checkpoint["signature"]), message)
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"the checkpoint is malformed: {e}") from None
    except InvalidSignature:
        raise CheckpointError("the checkpoint's signature does not verify") from None


@dataclass(frozen=True)
class Verdict:
    head_position: int
    head_hash: str
    events: int
    failure: Break | None

    @property
    def ok(self) -> bool:
        return self.failure is None


def walk(store: FieldlogRecorder, on_batch: Callable[[int], None] | None) -> Iterator[Any]:
    after = 0
    while True:
        rows = store.integrity_rows(after, PAGE)
        if not rows:
            return
        yield from rows_as_tuples(rows)
        if on_batch:
            on_batch(len(rows))
        last = rows[-1]
        after = last["position"] if last["position"] is not None else last["link_position"]
        if len(rows) < PAGE:
            return


def verify_log(
    store: FieldlogRecorder,
    checkpoint: dict[str, Any] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Verdict:
    """Recompute the whole chain; with a checkpoint, also prove the log holds its prefix."""
    seen: dict[int, str] = {}
    events = 0

    def counted(rows: Iterator[Any]) -> Iterator[Any]:
        nonlocal events
        for row in rows:
            events += 1
            if checkpoint is not None and row[0] == checkpoint["position"]:
                seen[row[0]] = str(row[7])
            yield row

    head, head_hash, failure = verify(counted(walk(store, on_batch)))
    if failure is None and checkpoint is not None:
        failure = _against(checkpoint, head, seen)
    return Verdict(head, head_hash, events, failure)


def _against(checkpoint: dict[str, Any], head: int, seen: dict[int, str]) -> Break | None:
    position = int(checkpoint["position"])
    if position == 0:
        return None
    if head < position:
        return Break(head + 1, f"the log ends at {head}, before the checkpoint's {position}")
    if position not in seen:
        return Break(position, "the checkpoint's position is not in the log")
    if seen[position] != checkpoint["hash"]:
        return Break(position, "the log differs from the checkpoint at its position")
    return None
