"""Personal data of the public, encrypted at rest under a key per incident.

The victim's fields of `VictimDetailsRecorded` are sealed with AES-GCM by the recorder,
in the same transaction as the event, under the incident's own key; that key is stored
wrapped by the master key in `fieldlog_incident_keys`. Erasing the personal data of an
incident destroys its key: the sealed bytes stay in the log (so the integrity chain still
verifies) but can never be opened again.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from incidents.integrity import EnvelopedStoredEvent, envelope_in
from incidents.keys import derive
from incidents.transcoding import OrjsonTranscoder

VICTIM_TOPIC = "incidents.incident:VictimDetailsRecorded"
PERSONAL_FIELDS = ("name", "age", "phone")
SEALED = "_sealed_"
KEY_TABLE = "fieldlog_incident_keys"
NONCE_BYTES = 12


class Sealer:
    """Seals and opens victim details; wraps and unwraps incident keys."""

    def __init__(self, master: bytes) -> None:
        self._wrapping = AESGCM(derive(master, "incident-key-wrapping"))

    def new_wrapped_key(self, incident_id: UUID) -> tuple[bytes, str]:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrapping.encrypt(nonce, key, incident_id.bytes)
        return key, base64.b64encode(wrapped).decode()

    def unwrap(self, incident_id: UUID, wrapped: str) -> bytes:
        raw = base64.b64decode(wrapped)
        return self._wrapping.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], incident_id.bytes)

    @staticmethod
    def seal(state: bytes, key: bytes, incident_id: UUID) -> bytes:
        doc = orjson.loads(state)
        personal = {k: doc.pop(k, None) for k in PERSONAL_FIELDS}
        nonce = os.urandom(NONCE_BYTES)
        aad = incident_id.bytes + str(doc.get("event_id", "")).encode()
        sealed = nonce + AESGCM(key).encrypt(nonce, orjson.dumps(personal), aad)
        doc[SEALED] = base64.b64encode(sealed).decode()
        return orjson.dumps(doc)

    @staticmethod
    def open(doc: dict[str, Any], key: bytes | None, incident_id: UUID) -> dict[str, Any]:
        """The event state with the victim's fields back, or null fields once erased."""
        sealed = doc.pop(SEALED, None)
        personal: dict[str, Any] = dict.fromkeys(PERSONAL_FIELDS)
        if sealed is not None and key is not None:
            raw = base64.b64decode(sealed)
            aad = incident_id.bytes + str(doc.get("event_id", "")).encode()
            try:
                personal = orjson.loads(
                    AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
                )
            except InvalidTag:
                personal = dict.fromkeys(PERSONAL_FIELDS)
        doc.update(personal)
        return doc


KeyLookup = Callable[[UUID], bytes | None]


def is_sealed(topic: str, state: bytes) -> bool:
    return topic == VICTIM_TOPIC and SEALED.encode() in state


# Every fact's datetimes: the library's `timestamp` (recorded_at) and the envelope's
# `occurred_at` (a filed payload holds none: it was dumped in JSON mode).
FACT_DATETIMES = ("timestamp", "occurred_at")


class SealedMapper(Mapper[UUID]):
    """Opens sealed victim details on the way out of the store (null once erased)."""

    keys: KeyLookup | None = None
    # The fact classes built only from validated submissions (`incidents.streams.fact_kwargs`).
    filed_classes: frozenset[type] = frozenset()

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """A filed fact is encoded in one orjson call instead of the transcoder's walk over
        every value (a tenth of filing a tablet's queue); anything else the library's way."""
        cls = type(domain_event)
        if cls not in self.filed_classes or not isinstance(self.transcoder, OrjsonTranscoder):
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if (class_version := getattr(cls, "class_version", 1)) > 1:
            state["class_version"] = class_version
        encoded = self.transcoder.encode_json_values(state, FACT_DATETIMES)
        return EnvelopedStoredEvent(
            originator_id, originator_version, get_topic(cls), encoded, envelope_in(state)
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if is_sealed(stored_event.topic, stored_event.state):
            incident_id = UUID(str(stored_event.originator_id))
            key = self.keys(incident_id) if self.keys else None
            doc = Sealer.open(orjson.loads(stored_event.state), key, incident_id)
            stored_event = StoredEvent(
                stored_event.originator_id,
                stored_event.originator_version,
                stored_event.topic,
                orjson.dumps(doc),
            )
        return super().to_domain_event(stored_event)
