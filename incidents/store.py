"""The event store: eventsourcing's SQLite and PostgreSQL recorders, thinly extended.

Idempotency is a guarantee of the store, not of a process: every client event id is
written to `fieldlog_client_events` in the same transaction as the event, under a
primary key, so the same id can never be stored twice, whichever process or restart
sees it. The same `_insert_events` hook is where a later integrity hash or
per-incident key can join the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

CLIENT_TABLE = "fieldlog_client_events"
TOKEN_TABLE = "fieldlog_tokens"  # noqa: S105

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

    def positions_of(self, stream_id: UUID) -> dict[int, int]: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...


def client_rows(client_events: Sequence[tuple[str, UUID, int, str]], as_hex: bool) -> list[Any]:
    return [
        (event_id, stream_id.hex if as_hex else stream_id, version, fingerprint)
        for event_id, stream_id, version, fingerprint in client_events
    ]


ISSUED_COLUMNS = (
    "name TEXT PRIMARY KEY, role TEXT NOT NULL, crew_id TEXT, "
    "token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, "
    "expires_at TEXT, revoked_at TEXT"
)


class SQLiteFieldlogRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CLIENT_TABLE} ("
            "event_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, fingerprint TEXT NOT NULL) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {TOKEN_TABLE} ({ISSUED_COLUMNS})",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The client id goes first: it takes the write lock before any read, and a
        # reused id fails the whole transaction before the event is written.
        rows = client_rows(kwargs.get("client_events", ()), as_hex=True)
        if rows:
            c.executemany(f"INSERT INTO {CLIENT_TABLE} VALUES (?,?,?,?)", rows)
        return super()._insert_events(c, stored_events, **kwargs)

    def find_client_event(self, event_id: str) -> ClientEvent | None:
        rows = self.query(
            f"SELECT c.event_id, c.stream_id, c.version, c.fingerprint, e.rowid AS position "
            f"FROM {CLIENT_TABLE} c JOIN {self.events_table_name} e "
            "ON e.originator_id = c.stream_id AND e.originator_version = c.version "
            "WHERE c.event_id = %s",
            (event_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return ClientEvent(
            r["event_id"], UUID(r["stream_id"]), r["version"], r["fingerprint"], r["position"]
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


class PostgresFieldlogRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.client_table = Composed([schema, SQL("."), Identifier(CLIENT_TABLE)])
        self.events_table = Composed([schema, SQL("."), Identifier(self.events_table_name)])
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "event_id text PRIMARY KEY, stream_id uuid NOT NULL, "
                "version bigint NOT NULL, fingerprint text NOT NULL)"
            ).format(self.client_table)
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {} (" + ISSUED_COLUMNS + ")").format(
                Composed([schema, SQL("."), Identifier(TOKEN_TABLE)])
            )
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        rows = client_rows(kwargs.get("client_events", ()), as_hex=False)
        if rows:
            curs.executemany(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(self.client_table), rows
            )

    def find_client_event(self, event_id: str) -> ClientEvent | None:
        statement = SQL(
            "SELECT c.event_id, c.stream_id, c.version, c.fingerprint, "
            "e.notification_id AS position FROM {} c JOIN {} e "
            "ON e.originator_id = c.stream_id AND e.originator_version = c.version "
            "WHERE c.event_id = %s"
        ).format(self.client_table, self.events_table)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (event_id,))
            r = curs.fetchone()
        if r is None:
            return None
        return ClientEvent(
            r["event_id"], r["stream_id"], r["version"], r["fingerprint"], r["position"]
        )

    def positions_of(self, stream_id: UUID) -> dict[int, int]:
        statement = SQL(
            "SELECT originator_version AS v, notification_id AS p FROM {} WHERE originator_id = %s"
        ).format(self.events_table)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (stream_id,))
            return {r["v"]: r["p"] for r in curs.fetchall()}

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
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
def schema_lock(db_url: str | None) -> Iterator[None]:
    """Serialise table creation across processes starting at once on one PostgreSQL.

    The library creates its types and functions without guarding against a concurrent
    start-up ('tuple concurrently updated'); a session advisory lock makes it one at a time.
    """
    if not db_url or not db_url.startswith(("postgresql://", "postgres://")):
        yield
        return
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
