"""`Tx.executemany`: on PostgreSQL a list of rows goes as multi-row INSERTs (psycopg would
send each row as a statement of its own). Whatever the chunking, every row lands once,
a conflicting row is skipped as `ON CONFLICT DO NOTHING` says, even one within the same
chunk, and values (NULLs, text, numbers) arrive as sent, on both stores.
"""

from __future__ import annotations

import pytest

from incidents import sql
from incidents.application import FieldLog
from projections.views import make_view

TABLE = "CREATE TABLE IF NOT EXISTS t_rows (k TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT)"


def test_many_rows_land_once_across_chunks_and_conflicts_are_skipped(
    app: FieldLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "ROWS_PER_INSERT", 7)
    view = make_view(app.factory.datastore, [TABLE], ["t_rows"])  # type: ignore[attr-defined]
    rows = [(f"k{i}", i, None if i % 3 else "三 'quoted'") for i in range(30)]
    again = [("k5", 99, "a resend"), ("k29", 98, None)]

    view.transact(
        [],
        lambda tx: tx.executemany(
            "INSERT INTO t_rows VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", rows + again
        ),
    )

    got = view.read(lambda tx: tx.all("SELECT k, n, note FROM t_rows ORDER BY n"))
    assert [(r["k"], r["n"], r["note"]) for r in got] == rows


def test_an_update_for_many_rows_still_applies_to_each(app: FieldLog) -> None:
    view = make_view(app.factory.datastore, [TABLE], ["t_rows"])  # type: ignore[attr-defined]
    view.transact(
        [],
        lambda tx: tx.executemany(
            "INSERT INTO t_rows VALUES (%s, %s, %s)", [("a", 1, None), ("b", 2, None)]
        ),
    )
    view.transact(
        [],
        lambda tx: tx.executemany(
            "UPDATE t_rows SET note = %s WHERE k = %s", [("first", "a"), ("second", "b")]
        ),
    )
    got = view.read(lambda tx: tx.all("SELECT k, note FROM t_rows ORDER BY k"))
    assert [(r["k"], r["note"]) for r in got] == [("a", "first"), ("b", "second")]
