"""Tamper evidence: the hash chain, signed checkpoints, GET /v1/integrity, `fieldlog verify`.

Given the demo stories in a store (SQLite and PostgreSQL), the chain verifies up to the
log's head. Then someone with write access to the database changes it behind the
application's back, directly in SQL: each kind of change (an altered event, an altered
hash, a deleted event, an inserted or reordered one, a truncated tail) makes
`verify_log` name the first position where the chain breaks. A signed checkpoint kept
outside the system still proves the prefix when the attacker recomputes the chain.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import incidents.audit
from api.cli import cli
from incidents.application import FieldLog
from incidents.audit import (
    CheckpointError,
    check_signature,
    checkpoint_message,
    public_key_text,
    sign_checkpoint,
    verify_log,
)
from incidents.config import Settings
from incidents.demo import DROWNING_ID, load_demo
from incidents.integrity import (
    GENESIS,
    chain,
    envelope_in,
    envelope_of,
    event_hash,
    rows_as_tuples,
)
from incidents.outcome import Outcome
from incidents.roles import Actor
from incidents.store import INTEGRITY_TABLE
from tests.conftest import TEST_SECRET_KEY, head_position, new_event
from tests.conftest import test_settings as store_settings
from tests.scenario import CHIKAN, Drowning, register_seed

OFFICE = Actor("safety", "trust-test-office")
DEMO_HEAD = 46  # the demo stories' events: the registry, a patrol, two incidents, commendations
INTEGRITY_KEYS = {"position", "hash", "signed_at", "public_key", "signature"}


# --- direct SQL on either store --------------------------------------------------


class Tamper:
    """Changes the store behind the application's back, as an attacker with SQL access."""

    def __init__(self, app: FieldLog) -> None:
        self.app = app
        self.store = app.store
        self.sqlite = not app.settings.is_postgres
        self.events = app.recorder.events_table_name  # type: ignore[attr-defined]
        self.pos = "rowid" if self.sqlite else "notification_id"

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def position_of(self, topic_suffix: str, stream_id: str = DROWNING_ID) -> int:
        """The first position of an event of this type in the stream."""
        rows = self.store.query(
            f"SELECT {self.pos} AS p, topic FROM {self.events} WHERE originator_id = %s "
            f"ORDER BY {self.pos}",
            (self._stream(UUID(stream_id)),),
        )
        positions = [r["p"] for r in rows if r["topic"].endswith(":" + topic_suffix)]
        assert positions, topic_suffix
        return int(positions[0])

    def _stream(self, stream_id: UUID) -> Any:
        return stream_id.hex if self.sqlite else stream_id

    def state(self, position: int) -> bytes:
        rows = self.store.query(
            f"SELECT state FROM {self.events} WHERE {self.pos} = %s", (position,)
        )
        return bytes(rows[0]["state"])

    def set_state(self, position: int, state: bytes) -> None:
        changed = self.store.execute(
            f"UPDATE {self.events} SET state = %s WHERE {self.pos} = %s", (state, position)
        )
        assert changed == 1

    def rewrite(self, position: int, old: str, new: str) -> None:
        state = self.state(position)
        assert old.encode() in state
        self.set_state(position, state.replace(old.encode(), new.encode()))

    def set_hash(self, position: int, hash_hex: str) -> None:
        changed = self.store.execute(
            f"UPDATE {INTEGRITY_TABLE} SET hash = %s WHERE position = %s", (hash_hex, position)
        )
        assert changed == 1

    def link(self, position: int) -> dict[str, Any]:
        rows = self.store.query(f"SELECT * FROM {INTEGRITY_TABLE} WHERE position = %s", (position,))
        return rows[0]

    def delete_event(self, position: int) -> None:
        assert self.store.execute(f"DELETE FROM {self.events} WHERE {self.pos} = %s", (position,))

    def delete_link(self, position: int) -> None:
        assert self.store.execute(f"DELETE FROM {INTEGRITY_TABLE} WHERE position = %s", (position,))

    def truncate_events(self, after: int) -> None:
        self.store.execute(f"DELETE FROM {self.events} WHERE {self.pos} > %s", (after,))

    def truncate_links(self, after: int) -> None:
        self.store.execute(f"DELETE FROM {INTEGRITY_TABLE} WHERE position > %s", (after,))

    def insert_event(self, position: int, copy_of: int) -> tuple[UUID, str, bytes]:
        """A forged event at `position`: another event's content under a new stream id."""
        state = self.state(copy_of).replace(b'"event_id":"', b'"event_id":"f')
        stream, topic = uuid4(), "incidents.incident:ObservationRecorded"
        self.store.execute(
            f"INSERT INTO {self.events} ({self.pos}, originator_id, originator_version, topic, "
            "state) VALUES (%s, %s, 1, %s, %s)",
            (position, self._stream(stream), topic, state),
        )
        return stream, topic, state

    def insert_link(self, position: int, previous: int, hash_hex: str) -> None:
        self.store.execute(
            f"INSERT INTO {INTEGRITY_TABLE} VALUES (%s, %s, %s)", (position, previous, hash_hex)
        )

    def swap_events(self, a: int, b: int) -> None:
        """Exchange the positions of two events (the log's order changes)."""
        for source, target in ((a, -1), (b, a), (-1, b)):
            self.store.execute(
                f"UPDATE {self.events} SET {self.pos} = %s WHERE {self.pos} = %s", (target, source)
            )

    def rehash_all(self) -> None:
        """What an attacker who knows the algorithm does next: recompute every link."""
        rows = list(rows_as_tuples(self.store.integrity_rows(0, 100_000)))
        links = chain((0, GENESIS), [(p, s, v, t, state, None) for p, s, v, t, state, *_ in rows])
        for link in links:
            self.store.execute(
                f"UPDATE {INTEGRITY_TABLE} SET previous_position = %s, hash = %s "
                "WHERE position = %s",
                (link.previous_position, link.hash, link.position),
            )


@pytest.fixture
def demo(app: FieldLog) -> Tamper:
    """The demo stories in a fresh store; the chain verifies up to the log's head."""
    load_demo(app)
    tamper = Tamper(app)
    verdict = verify_log(app.store)
    assert verdict.ok, verdict.failure
    assert verdict.head_position == tamper.head() == DEMO_HEAD
    assert verdict.events == DEMO_HEAD
    return tamper


def broken_at(app: FieldLog, checkpoint: dict[str, Any] | None = None) -> tuple[int, str]:
    verdict = verify_log(app.store, checkpoint)
    assert not verdict.ok, "the tampering went unnoticed"
    assert verdict.failure is not None
    return verdict.failure.position, verdict.failure.reason


# --- the chain on an untouched log -------------------------------------------------


def test_the_demo_chain_verifies_up_to_the_head_with_the_signed_head_hash(
    app: FieldLog, demo: Tamper
) -> None:
    verdict = verify_log(app.store)
    checkpoint = sign_checkpoint(app.store, app.master_key)

    assert (checkpoint["position"], checkpoint["hash"]) == (DEMO_HEAD, verdict.head_hash)
    assert verdict.head_hash != GENESIS.hex()
    assert demo.link(DEMO_HEAD)["hash"] == verdict.head_hash
    assert demo.link(1)["previous_position"] == 0


def test_every_new_event_is_linked_in_its_own_write_transaction(
    app: FieldLog, demo: Tamper
) -> None:
    outcome = app.submit(new_event("ObservationRecorded", DROWNING_ID, description="补记"), OFFICE)

    assert outcome.result == "stored"
    assert outcome.position == DEMO_HEAD + 1
    assert demo.link(DEMO_HEAD + 1)["previous_position"] == DEMO_HEAD
    assert verify_log(app.store).head_position == DEMO_HEAD + 1


# --- (a) an altered event --------------------------------------------------------------


def test_an_altered_description_breaks_the_chain_at_that_event(app: FieldLog, demo: Tamper) -> None:
    position = demo.position_of("ObservationRecorded")
    assert 1 < position < DEMO_HEAD

    demo.rewrite(position, "潭江", "珠江")

    at, reason = broken_at(app)
    assert at == position
    assert "altered" in reason


def test_an_altered_recorded_at_breaks_the_chain_at_that_event(app: FieldLog, demo: Tamper) -> None:
    position = demo.position_of("EmergencyServicesCalled")
    state = orjson.loads(demo.state(position))
    state["timestamp"]["_data_"] = "2025-10-16T07:00:00+00:00"
    demo.set_state(position, orjson.dumps(state))

    assert broken_at(app)[0] == position


# --- (b) an altered hash -------------------------------------------------------------


def test_an_altered_integrity_hash_breaks_the_chain_at_that_link(
    app: FieldLog, demo: Tamper
) -> None:
    position = demo.position_of("RescueActionTaken")
    original = demo.link(position)["hash"]
    forged = ("0" if original[0] != "0" else "1") + original[1:]

    demo.set_hash(position, forged)

    at, reason = broken_at(app)
    assert at == position
    assert "altered" in reason


# --- (c) a deleted event --------------------------------------------------------------


def test_a_deleted_event_is_reported_missing_at_its_position(app: FieldLog, demo: Tamper) -> None:
    position = demo.position_of("HelperJoined")

    demo.delete_event(position)

    at, reason = broken_at(app)
    assert at == position
    assert "missing" in reason


def test_a_deleted_event_and_its_link_break_the_sequence_at_the_next_event(
    app: FieldLog, demo: Tamper
) -> None:
    position = demo.position_of("HelperJoined")

    demo.delete_event(position)
    demo.delete_link(position)

    at, reason = broken_at(app)
    assert at == position + 1
    assert f"follows position {position}, not {position - 1}" in reason


def test_a_deleted_first_event_and_link_break_the_chain_at_the_second(
    app: FieldLog, demo: Tamper
) -> None:
    demo.delete_event(1)
    demo.delete_link(1)

    assert broken_at(app)[0] == 2


# --- (d) an inserted or reordered event ----------------------------------------------------


def test_an_event_inserted_without_a_link_breaks_the_chain_there(
    app: FieldLog, demo: Tamper
) -> None:
    demo.insert_event(DEMO_HEAD + 1, copy_of=demo.position_of("ObservationRecorded"))

    at, reason = broken_at(app)
    assert at == DEMO_HEAD + 1
    assert "no integrity hash" in reason


def test_an_event_inserted_with_a_made_up_link_breaks_the_chain_there(
    app: FieldLog, demo: Tamper
) -> None:
    demo.insert_event(DEMO_HEAD + 1, copy_of=demo.position_of("ObservationRecorded"))
    demo.insert_link(DEMO_HEAD + 1, DEMO_HEAD, demo.link(DEMO_HEAD)["hash"])

    assert broken_at(app)[0] == DEMO_HEAD + 1


@pytest.fixture
def gapped(app: FieldLog, demo: Tamper) -> tuple[int, int]:
    """Two more events, the second moved ten positions up and the chain recomputed: positions
    have gaps on PostgreSQL (a rolled-back insert skips its number), and the chain holds."""
    for n in range(2):
        raw = new_event("ObservationRecorded", DROWNING_ID, description=f"gap {n}")
        assert app.submit(raw, OFFICE).result == "stored"
    before, last = DEMO_HEAD + 1, DEMO_HEAD + 2
    for sql in (
        f"UPDATE {demo.events} SET {demo.pos} = %s WHERE {demo.pos} = %s",
        f"UPDATE {INTEGRITY_TABLE} SET position = %s WHERE position = %s",
    ):
        demo.store.execute(sql, (last + 10, last))
    assert broken_at(app)[0] == last + 10  # moving an event is itself noticed
    demo.rehash_all()
    verdict = verify_log(app.store)
    assert verdict.ok, verdict.failure  # a chain with a gap verifies
    assert verdict.head_position == last + 10
    return before, last + 10


def test_an_event_inserted_into_a_gap_with_a_made_up_hash_breaks_there(
    app: FieldLog, demo: Tamper, gapped: tuple[int, int]
) -> None:
    before, _ = gapped
    demo.insert_event(before + 5, copy_of=demo.position_of("ObservationRecorded"))
    demo.insert_link(before + 5, before, demo.link(before)["hash"])

    at, reason = broken_at(app)
    assert at == before + 5
    assert "altered" in reason


def test_an_event_inserted_into_a_gap_with_a_correct_hash_breaks_at_the_next_event(
    app: FieldLog, demo: Tamper, gapped: tuple[int, int]
) -> None:
    """Each link names the position it follows: the event after the gap still says it
    follows the event before it, so even a well-forged insertion shows."""
    before, after = gapped
    stream, topic, state = demo.insert_event(
        before + 5, copy_of=demo.position_of("ObservationRecorded")
    )
    previous = bytes.fromhex(demo.link(before)["hash"])
    digest = event_hash(previous, before + 5, stream, 1, topic, state)
    demo.insert_link(before + 5, before, digest.hex())

    at, reason = broken_at(app)
    assert at == after
    assert f"follows position {before}, not {before + 5}" in reason


def test_two_events_swapped_break_the_chain_at_the_first_of_them(
    app: FieldLog, demo: Tamper
) -> None:
    first = demo.position_of("EmergencyServicesCalled")
    second = demo.position_of("RescueActionTaken")
    assert first < second

    demo.swap_events(first, second)

    assert broken_at(app)[0] == first


# --- (e) a truncated tail --------------------------------------------------------------


def test_tail_events_deleted_without_their_links_are_reported_missing(
    app: FieldLog, demo: Tamper
) -> None:
    demo.truncate_events(40)

    at, reason = broken_at(app)
    assert at == 41
    assert "missing" in reason


def test_a_tail_truncated_with_its_links_is_caught_by_the_checkpoint(
    app: FieldLog, demo: Tamper
) -> None:
    checkpoint = sign_checkpoint(app.store, app.master_key)

    demo.truncate_events(40)
    demo.truncate_links(40)

    # the chain alone cannot know what came after its head: the head moves back
    assert verify_log(app.store).head_position == 40
    at, reason = broken_at(app, checkpoint)
    assert at == 41
    assert str(DEMO_HEAD) in reason


# --- a long log is verified page by page ----------------------------------------------


def test_verification_carries_the_chain_across_pages(
    app: FieldLog, demo: Tamper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of five: the chain runs on from one page to the next, a break on a page's
    last row is found, as is a change pages after the first."""
    monkeypatch.setattr(incidents.audit, "PAGE", 5)
    batches: list[int] = []
    verdict = verify_log(app.store, on_batch=batches.append)
    assert verdict.ok, verdict.failure
    assert (verdict.events, verdict.head_position) == (DEMO_HEAD, DEMO_HEAD)
    assert sum(batches) == DEMO_HEAD
    assert len(batches) == -(-DEMO_HEAD // 5)

    thanks = demo.position_of("ThanksReceived")
    assert thanks > 20
    demo.rewrite(thanks, "感谢", "感激")
    assert broken_at(app)[0] == thanks  # found pages after the first

    demo.delete_event(10)  # the last row of the second page

    at, reason = broken_at(app)
    assert at == 10
    assert "missing" in reason


# --- concurrent writers ----------------------------------------------------------------


def test_concurrent_writers_on_two_instances_still_give_a_chain_that_verifies(
    app: FieldLog, settings: Settings
) -> None:
    """Six tablets on two server processes file ~100 events at once, two of them to the
    same incident (their version conflicts are retried; on PostgreSQL a lost insert
    leaves a gap in the positions): every event is linked to the one before it in the
    log's order, whatever order the writers committed in."""
    register_seed(app)
    second = FieldLog(settings)
    try:
        stories = [Drowning() for _ in range(5)]
        for story in stories:
            assert app.submit(story.incident_opened(), CHIKAN).result == "stored"
        events_before = verify_log(app.store).events
        plans = [(story, 16) for story in stories] + [(stories[0], 8)]
        barrier = threading.Barrier(len(plans))
        outcomes: list[list[Outcome]] = [[] for _ in plans]
        errors: list[BaseException] = []

        def write(i: int, story: Drowning, count: int) -> None:
            writer = app if i % 2 == 0 else second
            try:
                barrier.wait(timeout=20)
                for n in range(count):
                    raw = story.sighting(description=f"writer {i} observation {n}")
                    outcomes[i].append(writer.submit(raw, CHIKAN))
            except BaseException as e:
                errors.append(e)

        threads = [
            threading.Thread(target=write, args=(i, story, count))
            for i, (story, count) in enumerate(plans)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        second.close()

    assert not errors, errors
    results = [o.result for writer in outcomes for o in writer]
    assert len(results) == sum(count for _, count in plans)
    # the writers on incidents of their own always store; the two sharing an incident
    # may, rarely, be told the stream is busy (see the report) - never anything else
    assert {o.result for i in range(1, 5) for o in outcomes[i]} == {"stored"}
    for o in outcomes[0] + outcomes[5]:
        assert o.result == "stored" or "busy" in (o.detail or ""), o
    verdict = verify_log(app.store)
    assert verdict.ok, verdict.failure
    assert verdict.events == events_before + results.count("stored")
    assert verdict.head_position == app.recorder.max_notification_id()
    stored_positions = sorted(o.position for w in outcomes for o in w if o.result == "stored")
    assert len(set(stored_positions)) == len(stored_positions)


# --- signed checkpoints ------------------------------------------------------------------


def test_a_checkpoint_signature_checks_with_the_public_key_alone(
    app: FieldLog, demo: Tamper
) -> None:
    checkpoint = sign_checkpoint(app.store, app.master_key)

    check_signature(checkpoint)  # does not raise
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["public_key"]))
    key.verify(
        base64.b64decode(checkpoint["signature"]),
        checkpoint_message(checkpoint["position"], checkpoint["hash"], checkpoint["signed_at"]),
    )
    assert checkpoint["public_key"] == public_key_text(app.master_key)
    assert verify_log(app.store, checkpoint).ok


def _other_key_text() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _flip_hex(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


def _flip_signature(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


class OneLink:
    """A store whose head link is position 46."""

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [{"position": 46, "hash": "ab" * 32}]


@pytest.mark.parametrize(
    ("field", "forge"),
    [
        ("position", lambda v: v - 1),
        ("position", lambda v: v + 1),
        ("hash", _flip_hex),
        ("signature", _flip_signature),
        ("signed_at", lambda v: "2030-01-01T00:00:00+00:00"),
        ("public_key", lambda v: _other_key_text()),
        ("signature", lambda v: "not base64!"),
        ("public_key", lambda v: base64.b64encode(b"short").decode()),
    ],
    ids=[
        "position-1",
        "position+1",
        "hash",
        "signature-bit",
        "signed_at",
        "public_key-another",
        "signature-not-base64",
        "public_key-short",
    ],
)
def test_a_tampered_checkpoint_does_not_check(field: str, forge: Any) -> None:
    """Needs no store: a checkpoint is checked by its signature alone."""
    checkpoint = sign_checkpoint(OneLink(), base64.b64decode(TEST_SECRET_KEY))  # type: ignore[arg-type]
    check_signature(checkpoint)
    forged = {**checkpoint, field: forge(checkpoint[field])}

    with pytest.raises(CheckpointError):
        check_signature(forged)


def test_a_checkpoint_missing_a_field_is_refused() -> None:
    with pytest.raises(CheckpointError, match="malformed"):
        check_signature({"position": 1, "hash": "00", "signed_at": "x", "public_key": "AA=="})


def test_the_log_still_holds_a_checkpoint_after_more_events(app: FieldLog, demo: Tamper) -> None:
    checkpoint = sign_checkpoint(app.store, app.master_key)

    for n in range(3):
        raw = new_event("ObservationRecorded", DROWNING_ID, description=f"后续记录 {n}")
        assert app.submit(raw, OFFICE).result == "stored"

    verdict = verify_log(app.store, checkpoint)
    assert verdict.ok, verdict.failure
    assert verdict.head_position == DEMO_HEAD + 3


def test_a_rewritten_event_before_the_checkpoint_is_found(app: FieldLog, demo: Tamper) -> None:
    checkpoint = sign_checkpoint(app.store, app.master_key)
    app.submit(new_event("ObservationRecorded", DROWNING_ID, description="后续"), OFFICE)
    position = demo.position_of("ObservationRecorded")

    demo.rewrite(position, "潭江", "珠江")

    assert broken_at(app, checkpoint)[0] == position


def test_a_rewritten_and_rehashed_log_verifies_alone_but_not_against_the_checkpoint(
    app: FieldLog, demo: Tamper
) -> None:
    """The attacker recomputes every hash after the rewrite: only a checkpoint kept
    outside the system can tell."""
    checkpoint = sign_checkpoint(app.store, app.master_key)
    app.submit(new_event("ObservationRecorded", DROWNING_ID, description="后续"), OFFICE)

    demo.rewrite(demo.position_of("ObservationRecorded"), "潭江", "珠江")
    demo.rehash_all()

    assert verify_log(app.store).ok
    at, reason = broken_at(app, checkpoint)
    assert at == checkpoint["position"] == DEMO_HEAD
    assert "differs" in reason


def test_a_log_rebuilt_short_of_the_checkpoint_breaks_where_it_ends(
    app: FieldLog, demo: Tamper, settings: Settings
) -> None:
    """Filed by a process started after the truncation (it remembers no link), the new
    event is linked to the truncated head: alone, the chain verifies; the checkpoint
    shows the truncation."""
    checkpoint = sign_checkpoint(app.store, app.master_key)

    demo.truncate_events(30)
    demo.truncate_links(30)
    restarted = FieldLog(settings)
    try:
        event = new_event("ObservationRecorded", DROWNING_ID, description="新的尾巴")
        assert restarted.submit(event, OFFICE).result == "stored"
    finally:
        restarted.close()

    assert verify_log(app.store).ok
    at, reason = broken_at(app, checkpoint)
    assert at <= DEMO_HEAD
    assert "checkpoint" in reason


def test_a_log_truncated_under_a_running_writer_breaks_even_without_a_checkpoint(
    app: FieldLog, demo: Tamper
) -> None:
    """The writer that filed the demo remembers its newest link. Where the store hands
    out the next position after it regardless (PostgreSQL's sequence), the new event is
    chained to that link, which is gone: the chain itself shows the truncation. Where
    the store reuses the positions (SQLite), the event follows the truncated head."""
    demo.truncate_events(30)
    demo.truncate_links(30)
    stored = app.submit(
        new_event("ObservationRecorded", DROWNING_ID, description="新的尾巴"), OFFICE
    )

    verdict = verify_log(app.store)
    if stored.position == DEMO_HEAD + 1:
        assert not verdict.ok
        assert verdict.failure is not None
        assert verdict.failure.position == stored.position
    else:
        assert stored.position == 31
        assert verdict.ok, verdict.failure


# --- GET /v1/integrity -------------------------------------------------------------------


def test_the_office_reads_a_checkpoint_anyone_can_verify(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
    for role in ("safety", "admin"):
        response = client.get("/v1/integrity", headers=tokens[role])

        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == INTEGRITY_KEYS
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(body["public_key"]))
        key.verify(  # raises InvalidSignature if it does not hold
            base64.b64decode(body["signature"]),
            checkpoint_message(body["position"], body["hash"], body["signed_at"]),
        )
        assert body["position"] == head_position(client) == DEMO_HEAD
        assert body["hash"] == verify_log(fieldlog.store).head_hash
        assert body["public_key"] == public_key_text(fieldlog.master_key)
        assert verify_log(fieldlog.store, body).ok


def test_the_integrity_checkpoint_is_for_the_office_only(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    for role in ("crew", "other_crew", "hr"):
        response = client.get("/v1/integrity", headers=tokens[role])

        assert response.status_code == 403, role
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "signature" not in response.json()
    assert client.get("/v1/integrity").status_code == 401


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli_store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`fieldlog demo` run on the test store (FIELDLOG_DB points at it)."""
    monkeypatch.setenv("FIELDLOG_DB", db_url)
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    return db_url


def tamper_store(url: str, position_topic: str = "ObservationRecorded") -> int:
    app = FieldLog(store_settings(url))
    try:
        tamper = Tamper(app)
        position = tamper.position_of(position_topic)
        tamper.rewrite(position, "潭江", "珠江")
    finally:
        app.close()
    return position


def test_cli_checkpoint_then_verify_against_it(cli_store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "checkpoint.json"

    written = runner.invoke(cli, ["checkpoint", "-o", str(file)])
    verified = runner.invoke(cli, ["verify", "--checkpoint", str(file)])

    assert written.exit_code == 0, written.output
    checkpoint = orjson.loads(file.read_bytes())
    assert set(checkpoint) == INTEGRITY_KEYS
    assert checkpoint["position"] == DEMO_HEAD
    check_signature(checkpoint)
    assert verified.exit_code == 0, verified.output
    assert f"holds checkpoint {DEMO_HEAD}" in " ".join(verified.output.split())


def test_cli_verify_names_the_first_broken_position(cli_store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "checkpoint.json"
    assert runner.invoke(cli, ["checkpoint", "-o", str(file)]).exit_code == 0
    assert runner.invoke(cli, ["verify"]).exit_code == 0

    position = tamper_store(cli_store)
    plain = runner.invoke(cli, ["verify"])
    against = runner.invoke(cli, ["verify", "--checkpoint", str(file)])
    refused = runner.invoke(cli, ["checkpoint", "-o", str(tmp_path / "after.json")])

    assert plain.exit_code == 1, plain.output
    assert f"broken at position {position}" in plain.stdout
    assert against.exit_code == 1
    assert f"position {position}" in against.output
    # no fresh checkpoint is signed over a broken log
    assert refused.exit_code == 1
    assert f"position {position}" in refused.output
    assert not (tmp_path / "after.json").exists()


def test_cli_verify_refuses_a_tampered_checkpoint_file(cli_store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "checkpoint.json"
    assert runner.invoke(cli, ["checkpoint", "-o", str(file)]).exit_code == 0
    checkpoint = orjson.loads(file.read_bytes())
    file.write_bytes(orjson.dumps({**checkpoint, "position": checkpoint["position"] - 1}))

    result = runner.invoke(cli, ["verify", "--checkpoint", str(file)])

    assert result.exit_code == 1
    assert "checkpoint refused" in result.output


# --- the newest link a process remembers -------------------------------------------------


def test_events_filed_alternately_by_two_processes_chain_to_each_others_links(
    app: FieldLog, demo: Tamper, settings: Settings
) -> None:
    """A process remembers the link it committed last and chains to it without a read
    only when its new event comes right after it; another process's event in between
    must be chained to instead."""
    other = FieldLog(settings)
    try:
        for writer in (app, other, app, app, other, app):
            event = new_event("ObservationRecorded", DROWNING_ID, description="补记")
            assert writer.submit(event, OFFICE).result == "stored"
    finally:
        other.close()
    verdict = verify_log(app.store)
    assert verdict.ok, verdict.failure
    assert verdict.head_position == DEMO_HEAD + 6


def test_a_save_rolled_back_after_its_link_leaves_no_link_remembered(
    app: FieldLog, demo: Tamper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a save whose transaction fails after it chained its events, when the next
    event is filed, then it chains to the last committed link, not the rolled-back one."""
    recorder = type(app.store)
    linked = recorder._link

    def link_then_fail(self: Any, *args: Any) -> Any:
        linked(self, *args)
        raise RuntimeError("the disk went away before the commit")

    monkeypatch.setattr(recorder, "_link", link_then_fail)
    with pytest.raises(RuntimeError):
        app.submit(new_event("ObservationRecorded", DROWNING_ID, description="丢失"), OFFICE)
    monkeypatch.undo()

    stored = app.submit(new_event("ObservationRecorded", DROWNING_ID, description="补记"), OFFICE)
    assert stored.result == "stored"
    verdict = verify_log(app.store)
    assert verdict.ok, verdict.failure
    assert verdict.head_position == stored.position


def test_the_hash_of_an_event_is_what_earlier_releases_wrote() -> None:
    """Given links written by an earlier release → when the chain is verified after an
    upgrade → then it must verify: the hash's input format is stored data, pinned here
    (a faster encoding must give these bytes exactly; an unreadable state hashes too)."""
    stream = UUID("0c3a1c9e-1111-4111-8111-111111111112")
    topic = "incidents.incident:ThanksReceived"
    state = orjson.dumps(
        {
            "event_id": "c1d3ced7-9c90-550b-9e19-c1bb29e9ba5e",
            "timestamp": {"_type_": "datetime_iso", "_data_": "2025-10-21T01:41:02.123456+00:00"},
            "from_": "获救者家属",
        }
    )
    first = event_hash(GENESIS, 1, stream, 1, topic, state)
    second = event_hash(first, 12, stream, 2, topic, b"not json")
    assert first.hex() == "363a6a6eab487ed824916151379d6a2618e68db4761158b22ae0b208af46a003"
    assert second.hex() == "354d9ade24f0fe6ec01233cdb81d0fbc04112379ecd8c18d43d1b336747df9d8"


JSON_VALUES = st.recursive(
    # JSON's integers as orjson writes them (it refuses any beyond 64 bits)
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
STAMPS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"_type_": st.just("datetime_iso"), "_data_": JSON_VALUES}),
)


@given(
    event_id=st.one_of(st.text(), JSON_VALUES),
    stamp=STAMPS,
    rest=st.dictionaries(st.text(), JSON_VALUES, max_size=3),
)
def test_the_envelope_a_writer_passes_is_what_the_stored_bytes_answer(
    event_id: Any, stamp: Any, rest: dict[str, Any]
) -> None:
    """A writer hands the chain the event_id and recorded_at of the state it just encoded
    (no parse back). For any state, that envelope is what `verify` reads from the bytes,
    or there is none and the bytes are read: a link written never disagrees with a check."""
    state = {**rest, "event_id": event_id, "timestamp": stamp}
    envelope = envelope_in(state)
    assert envelope is None or envelope == envelope_of(orjson.dumps(state))
