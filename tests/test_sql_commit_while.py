"""A big transaction is committed in a helper thread while Python work goes on here.

Given a write transaction on SQLite → when it is committed with work to do meanwhile →
then that work runs in the caller's thread while the commit is still being written, and
once the call returns the rows are there for every reader. A commit that fails is raised
to the caller (before anything the work meanwhile raised), and nothing is stored.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from incidents.sql import commit_while


class HeldCommit:
    """A connection whose commit waits until the work meanwhile says it has begun: were
    the commit not in a thread of its own, the two would wait for each other."""

    def __init__(self, path: Path, fails: bool = False) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS rows (n INTEGER)")
        self.conn.commit()
        self.conn.execute("INSERT INTO rows VALUES (1)")
        self.begun = threading.Event()
        self.fails = fails
        self.committed_in = ""

    def commit(self) -> None:
        self.committed_in = threading.current_thread().name
        assert self.begun.wait(timeout=10), "the work meanwhile never ran during the commit"
        if self.fails:
            self.conn.rollback()
            raise sqlite3.OperationalError("disk I/O error")
        self.conn.commit()


def stored(path: Path) -> int:
    with sqlite3.connect(path) as reader:
        count: int = reader.execute("SELECT count(*) FROM rows").fetchone()[0]
        return count


def test_the_work_meanwhile_runs_here_while_the_commit_is_written(tmp_path: Path) -> None:
    conn = HeldCommit(tmp_path / "v.sqlite")
    ran_in: list[str] = []

    def meanwhile() -> None:
        ran_in.append(threading.current_thread().name)
        conn.begun.set()

    commit_while(conn, meanwhile)

    assert ran_in == [threading.current_thread().name]
    assert conn.committed_in == "commit"
    assert stored(tmp_path / "v.sqlite") == 1


def test_a_failed_commit_is_raised_and_nothing_is_stored(tmp_path: Path) -> None:
    conn = HeldCommit(tmp_path / "v.sqlite", fails=True)

    def meanwhile() -> None:
        conn.begun.set()
        raise ValueError("the read meanwhile failed too")

    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        commit_while(conn, meanwhile)

    assert stored(tmp_path / "v.sqlite") == 0


def test_what_the_work_meanwhile_raises_reaches_the_caller_after_the_commit(
    tmp_path: Path,
) -> None:
    conn = HeldCommit(tmp_path / "v.sqlite")

    def meanwhile() -> None:
        conn.begun.set()
        raise ValueError("the read meanwhile failed")

    with pytest.raises(ValueError, match="read meanwhile failed"):
        commit_while(conn, meanwhile)

    assert stored(tmp_path / "v.sqlite") == 1
