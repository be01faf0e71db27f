"""Views: tracking recorders that also hold a read model's tables.

A projection writes its rows and its tracking position in one transaction, on
SQLite and PostgreSQL alike, through `Tx` (SQL written once, with `%s` placeholders).
Single-row tracking refuses a position that is not newer than the stored one, so two
workers on one database can never both apply the same event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL

from incidents.sql import Tx, immediate_transaction

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_US = -(2**62)
MAX_US = 2**62


def micros(instant: datetime | str) -> int:
    """An instant as whole microseconds since the epoch (portable, sortable)."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    since = instant - EPOCH  # by parts: twice as fast as `// timedelta(microseconds=1)`
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


class View(Protocol):
    """What a projection and its queries need from a view, whatever the store."""

    tables: Sequence[str]

    def transact(
        self,
        trackings: Sequence[Tracking],
        work: Callable[[Tx], None],
        meanwhile: Callable[[], None] | None = None,
    ) -> None: ...
    def read(self, work: Callable[[Tx], T]) -> T: ...
    def max_tracking_id(self, application_name: str) -> int | None: ...
    def reset(self, application_name: str) -> None: ...
    def tracked(self, tx: Tx, application_name: str) -> int: ...
    def tracked_in(self, tx: Tx, names: Sequence[str]) -> dict[str, int]: ...
    def tracked_many(self, names: Sequence[str]) -> dict[str, int]: ...


def _tracked_in(tx: Tx, table: str, names: Sequence[str]) -> dict[str, int]:
    """Several views' positions in one read (0 for a view that applied nothing yet)."""
    marks = ", ".join(["%s"] * len(names))
    rows = tx.all(
        f"SELECT application_name, notification_id FROM {table} "
        f"WHERE application_name IN ({marks})",
        names,
    )
    found = {r["application_name"]: int(r["notification_id"]) for r in rows}
    return {name: found.get(name, 0) for name in names}


def _tracked(tx: Tx, table: str, application_name: str) -> int:
    return _tracked_in(tx, table, [application_name])[application_name]


# A projection's run writes thousands of rows in one transaction: a 64 MB page cache
# keeps the B-tree pages it touches, and checkpointing the write-ahead log every ~40 MB
# (not SQLite's ~4 MB) stops the same hot pages being copied back into the database
# file at every commit (300k-event catch-up here: 26.4k -> 32.7k ev/s). Durability is
# untouched: synchronous stays FULL.
RUN_PRAGMAS = {"cache_size": -65536, "wal_autocheckpoint": 10000}
# Ends a CREATE TABLE whose columns are all its primary key: on SQLite the table is then
# its key's B-tree alone (WITHOUT ROWID), one B-tree to write per row instead of two.
KEYS_ONLY = " /* keys only */"


class SQLiteView(SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, schema: Sequence[str], tables: Sequence[str]):
        self.schema = [s.replace(KEYS_ONLY, " WITHOUT ROWID") for s in schema]
        self.tables: Sequence[str] = tuple(tables)
        super().__init__(datastore)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.schema]

    @contextmanager
    def _immediate(self, meanwhile: Callable[[], None] | None = None) -> Iterator[tuple[Tx, Any]]:
        with immediate_transaction(self.datastore, RUN_PRAGMAS, meanwhile) as cursor:
            yield Tx(cursor.sqlite_cursor, qmark=True), cursor

    def transact(
        self,
        trackings: Sequence[Tracking],
        work: Callable[[Tx], None],
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        """`work` and the new positions (of this view, or of several views of this
        store) in one transaction; `meanwhile` runs while it is committed."""
        with self._immediate(meanwhile) as (tx, cursor):
            work(tx)
            for tracking in trackings:
                self._insert_tracking(cursor, tracking)

    def read(self, work: Callable[[Tx], T]) -> T:
        with self.datastore.transaction(commit=False) as c:
            return work(Tx(c.sqlite_cursor, qmark=True))

    def tracked(self, tx: Tx, application_name: str) -> int:
        return _tracked(tx, "tracking", application_name)

    def tracked_in(self, tx: Tx, names: Sequence[str]) -> dict[str, int]:
        return _tracked_in(tx, "tracking", names)

    def tracked_many(self, names: Sequence[str]) -> dict[str, int]:
        return self.read(lambda tx: self.tracked_in(tx, names))

    def reset(self, application_name: str) -> None:
        """Drop the view's tables and create them anew (so a rebuild also brings a view
        made by an earlier version to the current schema), and forget its position."""
        with self._immediate() as (tx, _):
            for table in self.tables:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in self.schema:
                tx.execute(statement)
            tx.execute("DELETE FROM tracking WHERE application_name = %s", (application_name,))


# A transaction-scoped advisory lock per view, in a class of fieldlog's own.
VIEW_LOCK = b"SELECT pg_advisory_xact_lock(7415, hashtext(%s))"


class PostgresView(PostgresTrackingRecorder):
    def __init__(
        self, datastore: PostgresDatastore, schema: Sequence[str], tables: Sequence[str]
    ) -> None:
        super().__init__(datastore, tracking_table_name="fieldlog_tracking")
        self.tables: Sequence[str] = tuple(tables)
        self.schema = list(schema)
        for statement in schema:
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def transact(
        self,
        trackings: Sequence[Tracking],
        work: Callable[[Tx], None],
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        """`work` and the new positions in one transaction, which first takes a lock
        per view (until it ends): a worker whose run overlaps another's uncommitted run
        waits for it, then its check of the positions sees that they moved. (Without it
        both checks passed, and the library's tracking accepts any newer position: the
        overlap was applied twice.) On SQLite the single writer does the same."""
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline() as pipeline,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            for name in sorted({t.application_name for t in trackings}):  # one order: no deadlock
                curs.execute(VIEW_LOCK, (name,))
            work(Tx(curs, qmark=False, pipeline=pipeline))
            for tracking in trackings:
                self._insert_tracking(curs, tracking)
        if meanwhile is not None:  # the server commits: nothing of this process to overlap
            meanwhile()

    def read(self, work: Callable[[Tx], T]) -> T:
        with self.datastore.transaction(commit=False) as curs:
            return work(Tx(curs, qmark=False))

    def tracked(self, tx: Tx, application_name: str) -> int:
        return _tracked(tx, "fieldlog_tracking", application_name)

    def tracked_in(self, tx: Tx, names: Sequence[str]) -> dict[str, int]:
        return _tracked_in(tx, "fieldlog_tracking", names)

    def tracked_many(self, names: Sequence[str]) -> dict[str, int]:
        return self.read(lambda tx: self.tracked_in(tx, names))

    def reset(self, application_name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            tx = Tx(curs, qmark=False)
            tx.execute(f"DROP TABLE IF EXISTS {', '.join(self.tables)}")
            for statement in self.schema:
                tx.execute(statement)
            tx.execute(
                "DELETE FROM fieldlog_tracking WHERE application_name = %s", (application_name,)
            )


def make_view(datastore: object, schema: Sequence[str], tables: Sequence[str]) -> View:
    if isinstance(datastore, SQLiteDatastore):
        view: View = SQLiteView(datastore, schema, tables)
    elif isinstance(datastore, PostgresDatastore):
        view = PostgresView(datastore, schema, tables)
    else:
        raise TypeError(f"no view for {type(datastore).__name__}")
    view.create_table()  # type: ignore[attr-defined]
    return view


__all__ = ["MAX_US", "MIN_US", "IntegrityError", "Tx", "View", "make_view", "micros"]
