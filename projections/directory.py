"""The directory: people and crews with their members, and who was in which crew when.

Membership is kept as history (`since_us`, `until_us`), so a report can ask for a
person's crew at the end of its period.
"""

from __future__ import annotations

from projections.base import FieldlogProjection, Published
from projections.views import MAX_US, Tx, micros

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS dir_people (person_id TEXT PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dir_crews (crew_id TEXT PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dir_memberships ("
    "crew_id TEXT NOT NULL, person_id TEXT NOT NULL, since TEXT NOT NULL, "
    "since_us BIGINT NOT NULL, until_us BIGINT, ordinal INTEGER NOT NULL DEFAULT 0, "
    "PRIMARY KEY (crew_id, person_id, since_us))",
    "CREATE INDEX IF NOT EXISTS dir_memberships_person ON dir_memberships (person_id)",
)
TABLES = ("dir_people", "dir_crews", "dir_memberships")


class Directory(FieldlogProjection):
    name = "directory"
    schema = SCHEMA
    tables = TABLES

    def on_PersonRegistered(self, tx: Tx, event: Published, _: int) -> None:
        tx.execute(
            "INSERT INTO dir_people VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (event["person_id"], event["name"]),
        )

    def on_CrewRegistered(self, tx: Tx, event: Published, _: int) -> None:
        tx.execute(
            "INSERT INTO dir_crews VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (event["crew_id"], event["name"]),
        )
        for ordinal, person_id in enumerate(event["members"]):
            self._join(tx, event["crew_id"], person_id, event["occurred_at"], ordinal)

    def on_MemberJoinedCrew(self, tx: Tx, event: Published, _: int) -> None:
        self._join(tx, event["crew_id"], event["person_id"], event["occurred_at"])

    def on_MemberLeftCrew(self, tx: Tx, event: Published, _: int) -> None:
        tx.execute(
            "UPDATE dir_memberships SET until_us = %s "
            "WHERE crew_id = %s AND person_id = %s AND until_us IS NULL",
            (micros(event["occurred_at"]), event["crew_id"], event["person_id"]),
        )

    @staticmethod
    def _join(tx: Tx, crew_id: str, person_id: str, since: str, ordinal: int = 0) -> None:
        """`ordinal` keeps a crew's members in the order it was registered with."""
        tx.execute(
            "INSERT INTO dir_memberships VALUES (%s, %s, %s, %s, NULL, %s) ON CONFLICT DO NOTHING",
            (crew_id, person_id, since, micros(since), ordinal),
        )


def crew_at(tx: Tx, person_id: str, end_us: int | None) -> str | None:
    """The person's crew at the end of a period (the first by id if several)."""
    at = MAX_US if end_us is None else end_us
    rows = tx.all(
        "SELECT crew_id FROM dir_memberships WHERE person_id = %s "
        "AND since_us < %s AND (until_us IS NULL OR until_us >= %s)",
        (person_id, at, at),
    )
    return min((r["crew_id"] for r in rows), default=None)
