"""Recognition facts for HR: rescues, thanks and commendations, counted over any period.

Each fact is a row with its `occurred_us`, so a report for any window is a handful of
indexed aggregate queries. Corrections rewrite the rows of the entry they correct
(its people or its time may change).
"""

from __future__ import annotations

from typing import Any

import orjson

from incidents.incident import apply_changes
from projections.base import FieldlogProjection, Published
from projections.directory import crew_at
from projections.views import MAX_US, MIN_US, Tx, micros
from projections.window import Window

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rc_incidents (incident_id TEXT PRIMARY KEY, crew_id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rc_entries ("
    "event_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, content TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rc_acts ("
    "event_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, crew_id TEXT NOT NULL, "
    "occurred_us BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rc_acts_time ON rc_acts (occurred_us)",
    "CREATE TABLE IF NOT EXISTS rc_act_people ("
    "event_id TEXT NOT NULL, person_id TEXT NOT NULL, PRIMARY KEY (event_id, person_id))",
    "CREATE TABLE IF NOT EXISTS rc_participants ("
    "event_id TEXT NOT NULL, incident_id TEXT NOT NULL, person_id TEXT NOT NULL, "
    "PRIMARY KEY (event_id, person_id))",
    "CREATE INDEX IF NOT EXISTS rc_participants_incident ON rc_participants (incident_id)",
    "CREATE TABLE IF NOT EXISTS rc_thanks ("
    "event_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, crew_id TEXT NOT NULL, "
    "occurred_us BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rc_thanks_time ON rc_thanks (occurred_us)",
    "CREATE TABLE IF NOT EXISTS rc_commendations ("
    "commendation_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, crew_id TEXT NOT NULL, "
    "nominated_us BIGINT NOT NULL, approved_us BIGINT)",
    "CREATE TABLE IF NOT EXISTS rc_nominees ("
    "commendation_id TEXT NOT NULL, person_id TEXT NOT NULL, "
    "PRIMARY KEY (commendation_id, person_id))",
)
TABLES = (
    "rc_incidents",
    "rc_entries",
    "rc_acts",
    "rc_act_people",
    "rc_participants",
    "rc_thanks",
    "rc_commendations",
    "rc_nominees",
)
ACTS = ("EmergencyServicesCalled", "RescueActionTaken")
COUNTED = (*ACTS, "HelperJoined", "ThanksReceived")
# The published event's envelope: what is left is the entry's content (its payload).
ENVELOPE = frozenset(
    {
        *("event_id", "type", "stream_id", "version", "position", "occurred_at"),
        *("time_certainty", "recorded_at", "recorded_by"),
    }
)


# Each table's PostgreSQL column types, for inserting a run's rows as arrays.
COLUMNS = {
    "rc_incidents": ("text", "text"),
    "rc_entries": ("text", "text", "text"),
    "rc_participants": ("text", "text", "text"),
    "rc_acts": ("text", "text", "text", "bigint"),
    "rc_act_people": ("text", "text"),
    "rc_thanks": ("text", "text", "text", "bigint"),
    "rc_commendations": ("text", "text", "text", "bigint", "bigint"),
    "rc_nominees": ("text", "text"),
}


class Recognition(FieldlogProjection):
    """A run's new rows are held and written table by table at its end (one statement
    per table, not several round trips per fact on PostgreSQL); a handler that changes
    rows writes what is held first. No read asks for a row the run itself has written
    (what the run knows it remembers): on PostgreSQL, where the run's writes are
    pipelined, every read makes the run wait for them."""

    name = "recognition"
    schema = SCHEMA
    tables = TABLES

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.begin_run()

    def begin_run(self) -> None:
        self._held: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
        self._owners: dict[str, str] = {}  # incident -> crew, as far as this run knows
        # entry -> (incident, content) for the entries this run filed or corrected
        self._contents: dict[str, tuple[str, dict[str, Any]]] = {}

    def end_run(self, tx: Tx) -> None:
        self._write_held(tx)
        self.begin_run()

    def _write_held(self, tx: Tx) -> None:
        for table, rows in self._held.items():
            tx.insert_rows(table, COLUMNS[table], rows, "ON CONFLICT DO NOTHING")
            rows.clear()

    def _owner(self, tx: Tx, incident_id: str) -> str:
        if incident_id not in self._owners:
            row = tx.one("SELECT crew_id FROM rc_incidents WHERE incident_id = %s", (incident_id,))
            self._owners[incident_id] = row["crew_id"] if row else ""
        return self._owners[incident_id]

    def on_IncidentOpened(self, tx: Tx, event: Published, _: int) -> None:
        incident_id, crew_id = event["stream_id"], event["crew_id"]
        self._owners[incident_id] = crew_id
        self._held["rc_incidents"].append((incident_id, crew_id))

    def _counted(self, tx: Tx, event: Published, _: int) -> None:
        content = {
            "type": event["type"],
            "occurred_at": event["occurred_at"],
            **{k: v for k, v in event.items() if k not in ENVELOPE},
        }
        incident_id = event["stream_id"]
        self._held["rc_entries"].append(
            (event["event_id"], incident_id, orjson.dumps(content).decode())
        )
        self._contents[event["event_id"]] = (incident_id, content)
        self._write_facts(tx, event["event_id"], incident_id, content)

    on_EmergencyServicesCalled = _counted
    on_RescueActionTaken = _counted
    on_HelperJoined = _counted
    on_ThanksReceived = _counted

    def on_EntryCorrected(self, tx: Tx, event: Published, _: int) -> None:
        self._write_held(tx)  # the corrected entry and its facts may be held
        corrected = event["corrects_event_id"]
        known = self._contents.get(corrected)
        if known is None:
            row = tx.one(
                "SELECT incident_id, content FROM rc_entries WHERE event_id = %s", (corrected,)
            )
            if row is None:
                return
            known = (row["incident_id"], orjson.loads(row["content"]))
        incident_id, content = known
        content = apply_changes(content, event["changes"])
        self._contents[corrected] = (incident_id, content)
        tx.execute(
            "UPDATE rc_entries SET content = %s WHERE event_id = %s",
            (orjson.dumps(content).decode(), corrected),
        )
        for table in ("rc_acts", "rc_act_people", "rc_participants", "rc_thanks"):
            tx.execute(f"DELETE FROM {table} WHERE event_id = %s", (corrected,))
        self._write_facts(tx, corrected, incident_id, content)

    def _write_facts(
        self, tx: Tx, event_id: str, incident_id: str, content: dict[str, Any]
    ) -> None:
        crew_id = self._owner(tx, incident_id)
        people = sorted(set(content.get("people") or []))
        occurred = micros(content["occurred_at"])
        self._held["rc_participants"].extend((event_id, incident_id, p) for p in people)
        if content["type"] in ACTS:
            self._held["rc_acts"].append((event_id, incident_id, crew_id, occurred))
            self._held["rc_act_people"].extend((event_id, p) for p in people)
        elif content["type"] == "ThanksReceived":
            self._held["rc_thanks"].append((event_id, incident_id, crew_id, occurred))

    def on_CommendationNominated(self, tx: Tx, event: Published, _: int) -> None:
        incident_id = event["incident_id"]
        commendation_id = event["stream_id"]
        self._held["rc_commendations"].append(
            (
                commendation_id,
                incident_id,
                self._owner(tx, incident_id),
                micros(event["occurred_at"]),
                None,  # approved_us
            )
        )
        self._held["rc_nominees"].extend(
            (commendation_id, p) for p in sorted(set(event["nominees"]))
        )

    def on_CommendationApproved(self, tx: Tx, event: Published, _: int) -> None:
        self._write_held(tx)  # the nomination may be held
        tx.execute(
            "UPDATE rc_commendations SET approved_us = %s WHERE commendation_id = %s",
            (micros(event["occurred_at"]), event["stream_id"]),
        )


def bounds(window: Window) -> tuple[int, int]:
    return (
        MIN_US if window.start is None else micros(window.start),
        MAX_US if window.end is None else micros(window.end),
    )


def report(tx: Tx, window: Window) -> dict[str, Any]:
    """The contract's recognition report over [from, to)."""
    lo, hi = bounds(window)
    people = sorted(tx.all("SELECT person_id, name FROM dir_people"), key=lambda r: r["person_id"])
    crews = sorted(tx.all("SELECT crew_id, name FROM dir_crews"), key=lambda r: r["crew_id"])

    def counts(sql: str) -> dict[str, int]:
        return {r["k"]: int(r["n"]) for r in tx.all(sql, (lo, hi))}

    rescues = counts(
        "SELECT p.person_id AS k, COUNT(DISTINCT a.incident_id) AS n FROM rc_acts a "
        "JOIN rc_act_people p ON p.event_id = a.event_id "
        "WHERE a.occurred_us >= %s AND a.occurred_us < %s GROUP BY p.person_id"
    )
    thanks = counts(
        "SELECT p.person_id AS k, COUNT(DISTINCT t.event_id) AS n FROM rc_thanks t "
        "JOIN rc_participants p ON p.incident_id = t.incident_id "
        "WHERE t.occurred_us >= %s AND t.occurred_us < %s GROUP BY p.person_id"
    )
    nominated = counts(
        "SELECT n.person_id AS k, COUNT(*) AS n FROM rc_commendations c "
        "JOIN rc_nominees n ON n.commendation_id = c.commendation_id "
        "WHERE c.nominated_us >= %s AND c.nominated_us < %s GROUP BY n.person_id"
    )
    approved = counts(
        "SELECT n.person_id AS k, COUNT(*) AS n FROM rc_commendations c "
        "JOIN rc_nominees n ON n.commendation_id = c.commendation_id "
        "WHERE c.approved_us >= %s AND c.approved_us < %s GROUP BY n.person_id"
    )
    crew_rescues = counts(
        "SELECT crew_id AS k, COUNT(DISTINCT incident_id) AS n FROM rc_acts "
        "WHERE occurred_us >= %s AND occurred_us < %s GROUP BY crew_id"
    )
    crew_thanks = counts(
        "SELECT crew_id AS k, COUNT(*) AS n FROM rc_thanks "
        "WHERE occurred_us >= %s AND occurred_us < %s GROUP BY crew_id"
    )
    crew_approved = counts(
        "SELECT crew_id AS k, COUNT(*) AS n FROM rc_commendations "
        "WHERE approved_us >= %s AND approved_us < %s GROUP BY crew_id"
    )
    end = None if window.end is None else hi
    return {
        "from": window.asked_from,
        "to": window.asked_to,
        "people": [
            {
                "person_id": p["person_id"],
                "name": p["name"],
                "crew_id": crew_at(tx, p["person_id"], end),
                "rescues": rescues.get(p["person_id"], 0),
                "commendations_nominated": nominated.get(p["person_id"], 0),
                "commendations_approved": approved.get(p["person_id"], 0),
                "thanks": thanks.get(p["person_id"], 0),
            }
            for p in people
        ],
        "crews": [
            {
                "crew_id": c["crew_id"],
                "name": c["name"],
                "rescues": crew_rescues.get(c["crew_id"], 0),
                "commendations_approved": crew_approved.get(c["crew_id"], 0),
                "thanks": crew_thanks.get(c["crew_id"], 0),
            }
            for c in crews
        ],
    }
