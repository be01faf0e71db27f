"""One way to talk SQL to both stores: `%s` placeholders, dict rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from threading import Lock, RLock
from typing import Any
from weakref import WeakKeyDictionary

from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore


class Tx:
    """A cursor inside a transaction, on SQLite (`qmark`) or PostgreSQL alike."""

    def __init__(self, cursor: Any, *, qmark: bool) -> None:
        self.cursor = cursor
        self.qmark = qmark

    def _sql(self, sql: str) -> Any:
        return sql.replace("%s", "?") if self.qmark else sql.encode()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if len(rows) == 1:  # psycopg's executemany pipelines: a round trip more for one row
            self.execute(sql, rows[0])
        elif rows:
            self.cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.execute(sql, params)
        return [dict(r) for r in self.cursor.fetchall()]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows as the driver gives them, read by column name (no copy into dicts: a
        projection reads its log this way, thousands of rows a run)."""
        self.execute(sql, params)
        return list(self.cursor.fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None


_writer_locks: WeakKeyDictionary[SQLiteDatastore, RLock] = WeakKeyDictionary()
_locks_lock = Lock()


def writer_lock(datastore: SQLiteDatastore) -> RLock:
    """The lock this process's writers to `datastore` take in turn."""
    with _locks_lock:
        lock = _writer_locks.get(datastore)
        if lock is None:
            lock = _writer_locks[datastore] = RLock()
        return lock


# SQLite's defaults, which every pooled connection goes back to after a bulk write.
DEFAULT_PRAGMAS = {"cache_size": -2000, "wal_autocheckpoint": 1000}


@contextmanager
def immediate_transaction(
    datastore: SQLiteDatastore, pragmas: dict[str, int] | None = None
) -> Iterator[SQLiteCursor]:
    """A SQLite write transaction that takes the write lock up front (BEGIN IMMEDIATE):
    a transaction that reads before it writes must never find its snapshot stale.
    `pragmas` tune the connection for this transaction only.

    Writers of one process queue on a lock of their own before they take a pooled
    connection: SQLite has one writer at a time, and its busy handler polls with sleeps
    of up to 100 ms, holding the connection meanwhile. With 16 clients that emptied the
    pool and stalled even the reads (token checks) behind writers that were only waiting.
    """
    with writer_lock(datastore), datastore.get_connection(commit=True) as conn:
        cursor = conn.cursor()
        for name, value in (pragmas or {}).items():
            cursor.execute(f"PRAGMA {name} = {int(value)}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            for name in pragmas or {}:
                cursor.execute(f"PRAGMA {name} = {DEFAULT_PRAGMAS[name]}")
