"""One way to talk SQL to both stores: `%s` placeholders, dict rows."""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from threading import Lock, RLock
from typing import Any
from weakref import WeakKeyDictionary

from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore


class Tx:
    """A cursor inside a transaction, on SQLite (`qmark`) or PostgreSQL alike."""

    def __init__(self, cursor: Any, *, qmark: bool, pipeline: Any = None) -> None:
        self.cursor = cursor
        self.qmark = qmark
        # In psycopg's pipeline mode answers arrive later: a read gets a cursor of its own
        # and syncs the pipeline first, or it could be handed an earlier statement's answer.
        self.pipeline = pipeline

    def _sql(self, sql: str) -> Any:
        return sql.replace("%s", "?") if self.qmark else sql.encode()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if len(rows) == 1:  # psycopg's executemany pipelines: a round trip more for one row
            self.execute(sql, rows[0])
        elif rows:
            self.cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def insert_rows(
        self, table: str, types: Sequence[str], rows: Sequence[Sequence[Any]], then: str = ""
    ) -> None:
        """Insert many rows in one statement. On PostgreSQL the rows go as one array per
        column in binary (`unnest`): psycopg's executemany dumps and sends row by row, and
        a queue of 500 events spent 5 ms of CPU per table there, 0.6 ms this way. `types`
        are the PostgreSQL column types, in column order; `then` follows the rows (e.g.
        `ON CONFLICT DO NOTHING`)."""
        if not rows:
            return
        if self.qmark:
            marks = ", ".join("?" * len(types))
            self.cursor.executemany(f"INSERT INTO {table} VALUES ({marks}) {then}", rows)
            return
        if len(rows) == 1:  # one row (a single event's filing): plain values dump faster
            marks = ", ".join(f"%b::{t}" for t in types)
            self.cursor.execute(f"INSERT INTO {table} VALUES ({marks}) {then}".encode(), rows[0])
            return
        arrays = ", ".join(f"%b::{t}[]" for t in types)
        columns = [list(column) for column in zip(*rows, strict=True)]
        sql = f"INSERT INTO {table} SELECT * FROM unnest({arrays}) {then}"
        self.cursor.execute(sql.encode(), columns)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows(sql, params)]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows as the driver gives them, read by column name (no copy into dicts: a
        projection reads its log this way, thousands of rows a run)."""
        if self.pipeline is None:
            self.execute(sql, params)
            return list(self.cursor.fetchall())
        with self.cursor.connection.cursor() as reader:
            reader.execute(self._sql(sql), tuple(params))
            self.pipeline.sync()
            return list(reader.fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None


def commit_while(conn: Any, meanwhile: Callable[[], None]) -> None:
    """Commit in a helper thread while `meanwhile` runs in this one. SQLite writes a big
    transaction's pages to its log (and checkpoints) without the interpreter lock held,
    so Python work done meanwhile is nearly free: a projection reads and publishes its
    next run while the last one is committed. A failed commit is raised here, before
    anything `meanwhile` raised."""
    done: Future[None] = Future()

    def commit() -> None:
        try:
            conn.commit()
        except BaseException as e:  # handed over to the caller's thread
            done.set_exception(e)
        else:
            done.set_result(None)

    committer = threading.Thread(target=commit, name="commit")
    committer.start()
    try:
        meanwhile()
    finally:
        committer.join()
        done.result()


class WriterTurn:
    """Whose turn it is to write to one SQLite file: threads of this process queue on a
    lock, processes on the same file on an advisory file lock beside it.

    SQLite lets one writer in at a time and makes the others poll in its busy handler,
    with sleeps of up to 100 ms, holding a pooled connection meanwhile. Queued here
    instead, a writer is woken as soon as the one before it is done: with 16 clients that
    polling had emptied the pool and stalled even the reads (token checks); with two
    processes on one file (`--workers 2`, a projection worker of its own) it made the tails.
    """

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.lock = RLock()
        self.depth = 0  # re-entered by this process's thread: the file lock is held once
        self.fd: int | None = None
        if not datastore.pool.is_sqlite_memory_mode:
            path = datastore.pool.db_name.removeprefix("file:").split("?")[0] + ".writer"
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            weakref.finalize(self, os.close, self.fd)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.depth == 0 and self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.fd is not None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)


_turns: WeakKeyDictionary[SQLiteDatastore, WriterTurn] = WeakKeyDictionary()
_turns_lock = Lock()


def writer_turn(datastore: SQLiteDatastore) -> WriterTurn:
    """The turn every writer to `datastore` waits for."""
    with _turns_lock:
        turn = _turns.get(datastore)
        if turn is None:
            turn = _turns[datastore] = WriterTurn(datastore)
        return turn


# SQLite's defaults, which every pooled connection goes back to after a bulk write.
DEFAULT_PRAGMAS = {"cache_size": -2000, "wal_autocheckpoint": 1000}


@contextmanager
def immediate_transaction(
    datastore: SQLiteDatastore,
    pragmas: dict[str, int] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[SQLiteCursor]:
    """A SQLite write transaction that takes the write lock up front (BEGIN IMMEDIATE):
    a transaction that reads before it writes must never find its snapshot stale.
    `pragmas` tune the connection for this transaction only; `meanwhile` runs in this
    thread while the commit is written (`commit_while`).

    Writers wait for their turn (`WriterTurn`) before they take a pooled connection.
    """
    with writer_turn(datastore)(), datastore.get_connection(commit=True) as conn:
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
            if meanwhile is None:
                conn.commit()
            else:
                commit_while(conn, meanwhile)
        finally:
            for name in pragmas or {}:
                cursor.execute(f"PRAGMA {name} = {DEFAULT_PRAGMAS[name]}")
