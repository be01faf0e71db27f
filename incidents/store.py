"""The event store: eventsourcing's SQLite and PostgreSQL recorders, thinly extended.

Idempotency is a guarantee of the store, not of a process: every client event id is
written to `fieldlog_client_events` in the same transaction as the event, under a
primary key, so the same id can never be stored twice, whichever process or restart
sees it. In that same transaction the recorder seals victim details under the
incident's key (`incidents.personal_data`), destroys a key on erasure, and chains each
new event's integrity hash to the one before it (`incidents.integrity`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier

from incidents.config import Settings, sqlite_path
from incidents.integrity import GENESIS, chain
from incidents.personal_data import KEY_TABLE, VICTIM_TOPIC, Sealer
from incidents.sql import Tx, immediate_transaction

CLIENT_TABLE = "fieldlog_client_events"
INTEGRITY_TABLE = "fieldlog_integrity"
TOKEN_TABLE = "fieldlog_tokens"  # noqa: S105

# Events and their links in position order; a link whose event is gone still shows.
INTEGRITY_WALK = (
    "SELECT * FROM (SELECT e.{position} AS position, e.originator_id, e.originator_version, "
    "e.topic, e.state, i.position AS link_position, i.previous_position AS link_previous, "
    "i.hash AS link_hash FROM {events} e LEFT JOIN fieldlog_integrity i "
    "ON i.position = e.{position} WHERE e.{position} > %s "
    "UNION ALL SELECT NULL, NULL, 0, '', NULL, i.position, i.previous_position, i.hash "
    "FROM fieldlog_integrity i LEFT JOIN {events} e ON e.{position} = i.position "
    "WHERE e.{position} IS NULL AND i.position > %s) walk "
    "ORDER BY COALESCE(position, link_position) LIMIT %s"
)
CANARY = UUID(int=0)
SQLITE_FULL = 2
SCHEMA_LOCK_KEY = 0x6669656C646C6F67  # 'fieldlog'


class ClientEvent(NamedTuple):
    """Where a client's event id was stored, and a fingerprint of what was sent."""

    event_id: str
    stream_id: UUID
    version: int
    fingerprint: str
    position: int


class FieldlogRecorder(Protocol):
    """What the application needs beyond eventsourcing's ApplicationRecorder."""

    def find_client_event(self, event_id: str) -> ClientEvent | None: ...

    def find_client_events(self, event_ids: Sequence[str]) -> dict[str, ClientEvent]: ...

    def existing_streams(self, stream_ids: Sequence[UUID]) -> set[UUID]: ...

    def positions_of(self, stream_id: UUID) -> dict[int, int]: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def incident_key(self, incident_id: UUID) -> bytes | None: ...

    def integrity_rows(self, after: int, limit: int) -> list[dict[str, Any]]: ...

    sealer: Sealer | None

    def check_master_key(self) -> None: ...


class TransactionSteps(ABC):
    """What every write transaction does around eventsourcing's insert, on both stores."""

    sealer: Sealer | None = None
    hex_ids: bool = False

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def _id(self, stream_id: UUID) -> Any:
        return stream_id.hex if self.hex_ids else stream_id

    def _record_client_events(self, tx: Tx, client_events: Sequence[Any]) -> None:
        tx.insert_rows(
            CLIENT_TABLE,
            ("text", "uuid", "bigint", "text"),
            [(e, self._id(s), v, f) for e, s, v, f in client_events],
        )

    def _seal(self, tx: Tx, stored_events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """Victim details leave the process only as ciphertext under the incident's key."""
        return [self._sealed(tx, event) for event in stored_events]

    def _sealed(self, tx: Tx, event: StoredEvent) -> StoredEvent:
        if event.topic != VICTIM_TOPIC:
            return event
        if self.sealer is None:
            raise RuntimeError("no master key: personal data cannot be stored")
        incident_id = UUID(str(event.originator_id))
        key = self._key_for_writing(tx, incident_id)
        state = Sealer.seal(event.state, key, incident_id)
        return StoredEvent(event.originator_id, event.originator_version, event.topic, state)

    def _key_for_writing(self, tx: Tx, incident_id: UUID) -> bytes:
        assert self.sealer is not None
        row = tx.one(f"SELECT wrapped FROM {KEY_TABLE} WHERE incident_id = %s", (str(incident_id),))
        if row is not None:
            return self.sealer.unwrap(incident_id, row["wrapped"])
        key, wrapped = self.sealer.new_wrapped_key(incident_id)
        tx.execute(f"INSERT INTO {KEY_TABLE} VALUES (%s, %s)", (str(incident_id), wrapped))
        return key

    @staticmethod
    def _erase_keys(tx: Tx, incident_ids: Sequence[UUID]) -> None:
        for incident_id in incident_ids:
            tx.execute(f"DELETE FROM {KEY_TABLE} WHERE incident_id = %s", (str(incident_id),))

    # The newest link this process committed. When the new events come right after it,
    # it is the link to chain to (positions are only ever taken in order, under the write
    # lock, and a committed link never changes): no read. Set only after a commit.
    _last_link: tuple[int, bytes] | None = None

    def _link(
        self, tx: Tx, positions: Sequence[int], events: Sequence[StoredEvent]
    ) -> tuple[int, bytes]:
        """Chain the new events to the newest link before them, under the write lock;
        returns the new newest link (to remember once the transaction commits)."""
        known = self._last_link
        if known is not None and known[0] == positions[0] - 1:
            previous = known
        else:
            last = tx.one(
                f"SELECT position, hash FROM {INTEGRITY_TABLE} WHERE position < %s "
                "ORDER BY position DESC LIMIT 1",
                (positions[0],),
            )
            previous = (last["position"], bytes.fromhex(last["hash"])) if last else (0, GENESIS)
        rows = [
            (
                p,
                _uuid(e.originator_id),
                e.originator_version,
                e.topic,
                e.state,
                getattr(e, "envelope", None),  # an EnvelopedStoredEvent's
            )
            for p, e in zip(positions, events, strict=True)
        ]
        links = chain(previous, rows)
        tx.insert_rows(INTEGRITY_TABLE, ("bigint", "bigint", "text"), links)
        return links[-1].position, bytes.fromhex(links[-1].hash)

    def find_client_event(self, event_id: str) -> ClientEvent | None:
        return self.find_client_events([event_id]).get(event_id)

    def existing_streams(self, stream_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these streams hold an event: one query for a queue's new streams
        instead of one aggregate load each."""
        found: set[UUID] = set()
        unique = list(dict.fromkeys(stream_ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            rows = self.query(
                f"SELECT originator_id AS id FROM {self.events_table_name} "  # type: ignore[attr-defined]
                f"WHERE originator_version = 1 AND originator_id IN ({marks})",
                [self._id(s) for s in chunk],
            )
            found.update(r["id"] if isinstance(r["id"], UUID) else UUID(r["id"]) for r in rows)
        return found

    def find_client_events(self, event_ids: Sequence[str]) -> dict[str, ClientEvent]:
        """Where each of these client ids was stored (those never seen are absent)."""
        found: dict[str, ClientEvent] = {}
        unique = list(dict.fromkeys(event_ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            rows = self.query(self.client_lookup.format(marks=marks), chunk)
            for r in rows:
                stream = r["stream_id"]
                found[r["event_id"]] = ClientEvent(
                    r["event_id"],
                    stream if isinstance(stream, UUID) else UUID(stream),
                    r["version"],
                    r["fingerprint"],
                    r["position"],
                )
        return found

    client_lookup = ""

    def check_master_key(self) -> None:
        """Refuse to start with a master secret other than the one that wrapped the keys.

        A canary key, wrapped under the nil UUID on first start, must still unwrap.
        """
        from cryptography.exceptions import InvalidTag

        from incidents.config import ConfigurationError

        assert self.sealer is not None
        _, wrapped = self.sealer.new_wrapped_key(CANARY)
        self.execute(
            f"INSERT INTO {KEY_TABLE} VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (str(CANARY), wrapped),
        )
        rows = self.query(f"SELECT wrapped FROM {KEY_TABLE} WHERE incident_id = %s", (str(CANARY),))
        try:
            self.sealer.unwrap(CANARY, rows[0]["wrapped"])
        except InvalidTag:
            raise ConfigurationError(
                "FIELDLOG_SECRET_KEY is not the master secret this store was created with: "
                "its personal data and checkpoints need the original one"
            ) from None

    def _key_row(self, rows: list[dict[str, Any]], incident_id: UUID) -> bytes | None:
        if not rows or self.sealer is None:
            return None
        return self.sealer.unwrap(incident_id, rows[0]["wrapped"])


def _uuid(value: Any) -> UUID:
    return value if type(value) is UUID else UUID(str(value))


ISSUED_COLUMNS = (
    "name TEXT PRIMARY KEY, role TEXT NOT NULL, crew_id TEXT, "
    "token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, "
    "expires_at TEXT, revoked_at TEXT"
)


class SQLiteFieldlogRecorder(TransactionSteps, SQLiteApplicationRecorder):
    hex_ids = True
    client_lookup = (
        "SELECT c.event_id, c.stream_id, c.version, c.fingerprint, e.rowid AS position "
        f"FROM {CLIENT_TABLE} c JOIN stored_events e "
        "ON e.originator_id = c.stream_id AND e.originator_version = c.version "
        "WHERE c.event_id IN ({marks})"
    )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CLIENT_TABLE} ("
            "event_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, fingerprint TEXT NOT NULL) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {TOKEN_TABLE} ({ISSUED_COLUMNS})",
            f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} ("
            "incident_id TEXT PRIMARY KEY, wrapped TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {INTEGRITY_TABLE} ("
            "position INTEGER PRIMARY KEY, previous_position INTEGER NOT NULL, "
            "hash TEXT NOT NULL)",
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The transaction reads (the last link, an incident key) before it writes.
        linked: list[tuple[int, bytes]] = []
        with immediate_transaction(self.datastore) as cursor:
            positions = self._insert_events(cursor, stored_events, linked=linked, **kwargs)
        if linked:
            self._last_link = linked[-1]  # committed
        if kwargs.get("erase_keys"):
            self.query("PRAGMA wal_checkpoint(TRUNCATE)")
        return positions

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        linked: list[tuple[int, bytes]] | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        import sqlite3

        from eventsourcing.persistence import IntegrityError

        tx = Tx(c.sqlite_cursor, qmark=True)
        try:
            self._record_client_events(tx, kwargs.get("client_events", ()))
            sealed = self._seal(tx, stored_events)
            positions = (
                self._insert_in_one(tx, sealed)
                if len(sealed) > 1
                else super()._insert_events(c, sealed, **kwargs)
            )
            assert positions is not None
            if kwargs.get("erase_keys"):
                tx.execute("PRAGMA secure_delete = ON")
                self._erase_keys(tx, kwargs["erase_keys"])
            if positions:
                link = self._link(tx, positions, sealed)
                if linked is not None:
                    linked.append(link)
        except sqlite3.IntegrityError as e:
            raise IntegrityError(e) from e
        return positions

    def _insert_in_one(self, tx: Tx, events: Sequence[StoredEvent]) -> list[int]:
        """A queue's events in one `executemany`, not the library's execute per row. Under
        the write lock a rowid table numbers each new row one past its largest, so the
        positions follow the head (checked after)."""
        head_sql = f"SELECT MAX(rowid) AS head FROM {self.events_table_name}"
        head = (tx.one(head_sql) or {}).get("head") or 0
        tx.cursor.executemany(
            self.insert_events_statement,
            [(_uuid(e.originator_id).hex, e.originator_version, e.topic, e.state) for e in events],
        )
        if (tx.one(head_sql) or {}).get("head") != head + len(events):
            raise RuntimeError("the new events' positions do not follow the log's head")
        return list(range(head + 1, head + len(events) + 1))

    def incident_key(self, incident_id: UUID) -> bytes | None:
        rows = self.query(
            f"SELECT wrapped FROM {KEY_TABLE} WHERE incident_id = %s", (str(incident_id),)
        )
        return self._key_row(rows, incident_id)

    def integrity_rows(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Events and links in position order, each side kept even without the other."""
        return self.query(
            INTEGRITY_WALK.format(events=self.events_table_name, position="rowid"),
            (after, after, limit),
        )

    def positions_of(self, stream_id: UUID) -> dict[int, int]:
        rows = self.query(
            f"SELECT originator_version AS v, rowid AS p FROM {self.events_table_name} "
            "WHERE originator_id = %s",
            (stream_id.hex,),
        )
        return {r["v"]: r["p"] for r in rows}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql.replace("%s", "?"), tuple(params))
            return [dict(r) for r in c.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.datastore.transaction(commit=True) as c:
            c.execute(sql.replace("%s", "?"), tuple(params))
            return int(c.sqlite_cursor.rowcount)

    def check_durability(self) -> None:
        """An acknowledged event must survive power loss: refuse to run otherwise."""
        rows = self.query("PRAGMA synchronous")
        level = next(iter(rows[0].values()))
        if level < SQLITE_FULL:
            raise RuntimeError(
                f"SQLite PRAGMA synchronous is {level}, not FULL (2): "
                "acknowledged events could be lost on power failure"
            )


def composed(statement: object) -> Composable:
    assert isinstance(statement, Composable), statement
    return statement


def rendered(statement: SQL, names: dict[str, Any] | list[Any]) -> bytes:
    """A statement with its names quoted in, as psycopg would at every execute."""
    if isinstance(names, dict):
        return statement.format(**names).as_bytes(None)
    return statement.format(*names).as_bytes(None)


class PostgresFieldlogRecorder(TransactionSteps, PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.client_table = Composed([schema, SQL("."), Identifier(CLIENT_TABLE)])
        self.events_table = Composed([schema, SQL("."), Identifier(self.events_table_name)])
        # An event whose version is taken already is left out, not inserted to fail on
        # the unique key: a failed insert would have drawn a position from the sequence,
        # and the log would show a hole where nothing was lost. (Under the table lock the
        # check sees every committed event.) The caller counts what was inserted.
        insert = (
            "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM {rows} AS n (id, version, topic, state) WHERE NOT EXISTS "
            "(SELECT FROM {table} e WHERE e.originator_id = n.id "
            "AND e.originator_version = n.version) RETURNING notification_id"
        )
        id_type = Identifier(self.datastore.originator_id_type)
        names = {"table": self.events_table, "id_type": id_type}
        unnest = "unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
        self.insert_arrays_statement = rendered(SQL(insert.replace("{rows}", unnest)), names)
        # Several events (a queue, a group of filings): is any version taken already?
        self.taken_statement = rendered(
            SQL(
                "SELECT 1 FROM unnest(%b::{id_type}[], %b::bigint[]) AS n (id, version) "
                "JOIN {table} e ON e.originator_id = n.id AND e.originator_version = n.version "
                "LIMIT 1"
            ),
            names,
        )
        # One event (a single filing): plain values, which psycopg dumps faster.
        values = "(VALUES (%b::{id_type}, %b::bigint, %b::text, %b::bytea))"
        self.insert_one_statement = rendered(SQL(insert.replace("{rows}", values)), names)
        # The library's statements of every save, rendered once, not at each execute.
        self.lock_statements = [composed(s).as_bytes(None) for s in self.lock_table_statements]
        self.notify_statement = rendered(SQL("NOTIFY {0}"), [Identifier(self.channel_name)])
        self.client_lookup = (
            "SELECT c.event_id, c.stream_id, c.version, c.fingerprint, "
            f"e.notification_id AS position FROM {CLIENT_TABLE} c JOIN "
            f"{self.events_table_name} e "
            "ON e.originator_id = c.stream_id AND e.originator_version = c.version "
            "WHERE c.event_id IN ({marks})"
        )
        for statement in (
            f"CREATE TABLE IF NOT EXISTS {CLIENT_TABLE} ("
            "event_id text PRIMARY KEY, stream_id uuid NOT NULL, "
            "version bigint NOT NULL, fingerprint text NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {TOKEN_TABLE} ({ISSUED_COLUMNS})",
            f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} ("
            "incident_id text PRIMARY KEY, wrapped text NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {INTEGRITY_TABLE} ("
            "position bigint PRIMARY KEY, previous_position bigint NOT NULL, hash text NOT NULL)",
        ):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """eventsourcing's insert (table lock: insert order = commit order), with the
        client ids, sealing, erasure and the integrity chain in the same transaction."""
        if not stored_events:
            return []
        # Pipelined, as the library's own insert is: the statements go out without waiting
        # for each answer, and the transaction waits twice (for the new positions, which
        # the links hash, and at commit) instead of once per statement.
        # Every answer read is read after a sync of the pipeline, on a cursor of its own.
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            tx = Tx(curs, qmark=False, pipeline=pipeline)
            self._record_client_events(tx, kwargs.get("client_events", ()))
            sealed = self._seal(tx, stored_events)
            self._lock_table(curs)
            if len(sealed) > 1:
                self._refuse_taken_versions(conn, pipeline, sealed)
            self._notify_channel(curs)
            with conn.cursor() as inserting:
                self._insert_stored_events(inserting, sealed)
                pipeline.sync()
                positions = [row["notification_id"] for row in inserting.fetchall()]
            if len(positions) != len(sealed):
                raise RecordConflictError("a stream's next version was taken by another writer")
            if kwargs.get("erase_keys"):
                self._erase_keys(tx, kwargs["erase_keys"])
            linked = self._link(tx, positions, sealed)
        self._last_link = linked  # committed
        return positions

    def _refuse_taken_versions(
        self, conn: Any, pipeline: Any, sealed: Sequence[StoredEvent]
    ) -> None:
        """Several events are inserted by one statement, which draws a position for each
        event it inserts before a taken version fails it: refused first, under the table
        lock, nothing is drawn in vain (a single event's insert leaves out a taken version
        without drawing one)."""
        with conn.cursor() as checking:
            ids = [e.originator_id for e in sealed]
            checking.execute(self.taken_statement, [ids, [e.originator_version for e in sealed]])
            pipeline.sync()
            if checking.fetchone() is not None:
                raise RecordConflictError("a stream's next version was taken by another writer")

    def _lock_table(self, curs: Cursor[DictRow]) -> None:
        for statement in self.lock_statements:
            curs.execute(statement, prepare=True)

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self.notify_statement)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        """The library's insert, with the events sent as four arrays in binary instead
        of one array of its composite type in text (dumped field by field in Python:
        a tenth of a queue's CPU)."""
        rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in stored_events]
        if len(rows) == 1:
            curs.execute(self.insert_one_statement, rows[0])
            return
        columns = zip(*rows, strict=True)
        curs.execute(self.insert_arrays_statement, [list(column) for column in columns])

    def incident_key(self, incident_id: UUID) -> bytes | None:
        rows = self.query(
            f"SELECT wrapped FROM {KEY_TABLE} WHERE incident_id = %s", (str(incident_id),)
        )
        return self._key_row(rows, incident_id)

    def integrity_rows(self, after: int, limit: int) -> list[dict[str, Any]]:
        return self.query(
            INTEGRITY_WALK.format(events=self.events_table_name, position="notification_id"),
            (after, after, limit),
        )

    def positions_of(self, stream_id: UUID) -> dict[int, int]:
        statement = SQL(
            "SELECT originator_version AS v, notification_id AS p FROM {} WHERE originator_id = %s"
        ).format(self.events_table)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (stream_id,))
            return {r["v"]: r["p"] for r in curs.fetchall()}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """One statement on the pool's autocommit connection: one round trip. (In a
        transaction it took three, BEGIN and ROLLBACK around it; the token check of
        every request is such a query.)"""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql.encode(), tuple(params))
            return list(curs.fetchall()) if curs.description else []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.encode(), tuple(params))
            return curs.rowcount


def fieldlog_recorder(recorder: ApplicationRecorder) -> FieldlogRecorder:
    if not isinstance(recorder, (SQLiteFieldlogRecorder, PostgresFieldlogRecorder)):
        raise TypeError(f"unexpected recorder {type(recorder).__name__}")
    return recorder


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Serialise table creation across processes starting at once on one store.

    The library creates tables, types and functions without guarding against a concurrent
    start-up (PostgreSQL: 'tuple concurrently updated'; SQLite: 'database is locked' when a
    deferred transaction must upgrade to write): one process at a time creates them.
    """
    if not settings.is_postgres:
        import fcntl

        lock_path = sqlite_path(settings.db_url).with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    import psycopg

    with psycopg.connect(settings.db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
