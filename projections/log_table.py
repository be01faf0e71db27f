"""The log's own table, read by the views that share its database.

A view keeps keys (a timeline's positions, a patrol's id), not copies of the events:
each event's JSON is stored once, in the log, and published on the way out
(`incidents.published`). Copying it into the views doubled what a projection writes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from incidents.application import FieldLog
from incidents.published import published_row
from projections.base import Published
from projections.views import Tx

COLUMNS = "e.originator_id, e.originator_version, e.topic, e.state"
VICTIM = "VictimDetailsRecorded"


class LogTable:
    def __init__(self, app: FieldLog) -> None:
        self.app = app
        recorder: Any = app.recorder
        if app.settings.is_postgres:
            self.table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
            self.position = "notification_id"
        else:
            self.table = recorder.events_table_name
            self.position = "rowid"

    def after(self, tx: Tx, start: int, limit: int) -> list[tuple[Published, int]]:
        """Up to `limit` events from position `start` on, published, with their positions
        (what `select_notifications` reads, without building a UUID per row)."""
        rows = tx.rows(
            f"SELECT e.{self.position} AS position, {COLUMNS} FROM {self.table} e "
            f"WHERE e.{self.position} >= %s ORDER BY e.{self.position} LIMIT %s",
            (start, limit),
        )
        return [(event, event["position"]) for event in self._published(rows)]

    def join(self, alias: str) -> str:
        """Joins the log's row `e` at `{alias}.position`."""
        return f"JOIN {self.table} e ON e.{self.position} = {alias}.position"

    def streams(self, tx: Tx, stream_ids: list[str]) -> dict[str, list[Published]]:
        """Each stream's events, in order (one indexed read for them all)."""
        if not stream_ids:
            return {}
        keys = [self._key(s) for s in stream_ids]
        rows = tx.all(
            f"SELECT e.{self.position} AS position, {COLUMNS} FROM {self.table} e "
            f"WHERE e.originator_id IN ({', '.join(['%s'] * len(keys))}) "
            "ORDER BY e.originator_id, e.originator_version",
            keys,
        )
        found: dict[str, list[Published]] = {s: [] for s in stream_ids}
        for event in self.presented(tx, rows):
            found.setdefault(event["stream_id"], []).append(event)
        return found

    def _key(self, stream_id: str) -> Any:
        uuid = UUID(stream_id)
        return uuid if self.app.settings.is_postgres else uuid.hex

    def _published(self, rows: list[Any]) -> list[Published]:
        mapper = self.app.mapper
        return [
            published_row(
                r["position"],
                r["originator_id"],
                r["originator_version"],
                r["topic"],
                r["state"],
                mapper,
            )
            for r in rows
        ]

    def presented(self, tx: Tx, rows: list[dict[str, Any]]) -> list[Published]:
        """The log's rows as readers see them: victim details of an erased incident read
        "erased" (the views mark the incident; the log keeps only the sealed data)."""
        events = self._published(rows)
        victims = sorted({e["stream_id"] for e in events if e["type"] == VICTIM})
        if victims:
            erased = {
                r["incident_id"]
                for r in tx.all(
                    "SELECT incident_id FROM rm_incidents WHERE erased = 1 "
                    f"AND incident_id IN ({', '.join(['%s'] * len(victims))})",
                    victims,
                )
            }
            for e in events:
                if e["stream_id"] in erased and e.get("personal_data") == "withheld":
                    e["personal_data"] = "erased"
        return events
