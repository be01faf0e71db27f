"""The catalog: patrol, incident and commendation lists, and the crew and person timelines.

Rows are shaped for their question: lists are filtered and ordered in SQL on indexed
columns; each row carries the JSON the API returns. No personal data is kept here:
victim details are stored withheld (the office reads them from the log).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from incidents.replay import incident_state
from projections.base import FieldlogProjection, Published
from projections.views import KEYS_ONLY, Tx, micros

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rm_patrols ("
    "patrol_id TEXT PRIMARY KEY, crew_id TEXT NOT NULL, status TEXT NOT NULL, "
    "started_us BIGINT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rm_patrols_order ON rm_patrols (started_us, patrol_id)",
    # A crew's patrols, newest first (a crew of 111 on 1,000,000 events: a page scanned
    # the office's order above for 4 ms). Made at start on a view built without it.
    "CREATE INDEX IF NOT EXISTS rm_patrols_crew ON rm_patrols (crew_id, started_us, patrol_id)",
    # The patrols out now (`status=open`): a few among 135,721 at 1,000,000 events, found
    # by scanning them all (50-130 ms) without it; and a crew's, with its own index (the
    # two above tie in SQLite's planner for a crew and a status, and it took the status).
    "CREATE INDEX IF NOT EXISTS rm_patrols_status ON rm_patrols (status, started_us, patrol_id)",
    "CREATE INDEX IF NOT EXISTS rm_patrols_crew_status ON rm_patrols "
    "(crew_id, status, started_us, patrol_id)",
    "CREATE TABLE IF NOT EXISTS rm_incidents ("
    "incident_id TEXT PRIMARY KEY, crew_id TEXT NOT NULL, kind TEXT NOT NULL, "
    "status TEXT NOT NULL, opened_us BIGINT NOT NULL, version BIGINT NOT NULL, "
    "erased INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, entries TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rm_incidents_order ON rm_incidents (opened_us, incident_id)",
    "CREATE INDEX IF NOT EXISTS rm_incidents_crew ON rm_incidents (crew_id, opened_us)",
    # The office's open incidents: 22 of 11,278 at 1,000,000 events (13-29 ms scanned);
    # a crew's by status (as for patrols).
    "CREATE INDEX IF NOT EXISTS rm_incidents_status ON rm_incidents "
    "(status, opened_us, incident_id)",
    "CREATE INDEX IF NOT EXISTS rm_incidents_crew_status ON rm_incidents "
    "(crew_id, status, opened_us, incident_id)",
    "CREATE TABLE IF NOT EXISTS rm_commendations ("
    "commendation_id TEXT PRIMARY KEY, crew_id TEXT NOT NULL, status TEXT NOT NULL, "
    "nominated_us BIGINT NOT NULL, body TEXT NOT NULL)",
    # Newest first, for the office, by status and for a crew (as for incidents); the first
    # index of all (nominated_us alone) left the ties to a sort of every commendation.
    "DROP INDEX IF EXISTS rm_commendations_order",
    "CREATE INDEX IF NOT EXISTS rm_commendations_newest ON rm_commendations "
    "(nominated_us, commendation_id)",
    "CREATE INDEX IF NOT EXISTS rm_commendations_status ON rm_commendations "
    "(status, nominated_us, commendation_id)",
    "CREATE INDEX IF NOT EXISTS rm_commendations_crew ON rm_commendations "
    "(crew_id, nominated_us, commendation_id)",
    "CREATE INDEX IF NOT EXISTS rm_commendations_crew_status ON rm_commendations "
    "(crew_id, status, nominated_us, commendation_id)",
    "CREATE TABLE IF NOT EXISTS rm_crew_timeline ("
    "crew_id TEXT NOT NULL, occurred_us BIGINT NOT NULL, position BIGINT NOT NULL, "
    f"PRIMARY KEY (crew_id, occurred_us, position)){KEYS_ONLY}",
    "CREATE TABLE IF NOT EXISTS rm_person_timeline ("
    "person_id TEXT NOT NULL, occurred_us BIGINT NOT NULL, position BIGINT NOT NULL, "
    f"PRIMARY KEY (person_id, occurred_us, position)){KEYS_ONLY}",
)
TABLES = (
    "rm_patrols",
    "rm_incidents",
    "rm_commendations",
    "rm_crew_timeline",
    "rm_person_timeline",
)
PATROL_TYPES = ("PatrolStarted", "LineObservationRecorded", "PatrolEnded")


@dataclass
class Held:
    """An incident's published entries as the current run left them."""

    entries: list[dict[str, Any]]
    erased: bool
    version: int
    new: bool = False  # opened in this run: inserted at its end, not updated


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Catalog(FieldlogProjection):
    """A run of events is applied in memory first: each patrol, incident and commendation
    it touches is read once and written once, and the timelines get one multi-row
    insert, however many of the run's events they hold. Every write waits for the run's
    end, and no read asks for a row the run itself has written: on PostgreSQL, where the
    run's writes are pipelined, every read makes the run wait for them."""

    name = "catalog"
    schema = SCHEMA
    tables = TABLES
    # 2: each event's JSON once in rm_events, timelines hold keys;
    # 3: no event JSON in the view (no rm_events, patrols without their observations):
    #    timelines and patrol lists read the events from the log itself; no rm_streams
    #    (a commendation's crew is its incident's, in rm_incidents).
    schema_version = 3
    retired = ("rm_timeline", "rm_events", "rm_streams")

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.begin_run()

    def begin_run(self) -> None:
        self._patrols: dict[str, dict[str, Any]] = {}
        self._new_patrols: dict[str, int] = {}  # started in this run: patrol id → started_us
        self._incidents: dict[str, Held] = {}
        self._commendations: dict[str, dict[str, Any]] = {}
        self._new_commendations: dict[str, int] = {}  # nominated in this run → nominated_us
        self._timeline: list[tuple[Any, ...]] = []
        self._person_timeline: list[tuple[Any, ...]] = []

    def end_run(self, tx: Tx) -> None:
        self._write_timelines(tx)
        _write_bodies(tx, "rm_patrols", "patrol_id", self._patrols, self._new_patrols)
        for incident_id, held in self._incidents.items():
            self._write_incident(tx, incident_id, held)
        _write_bodies(
            tx, "rm_commendations", "commendation_id", self._commendations, self._new_commendations
        )
        self.begin_run()

    # --- timelines --------------------------------------------------------------

    def _timelines(self, event: Published, crew_id: str | None) -> None:
        """Timelines hold keys only: the event itself is read from the log."""
        occurred = micros(event["occurred_at"])
        position = event["position"]
        if crew_id is not None:
            self._timeline.append((crew_id, occurred, position))
        people, nominees = event.get("people"), event.get("nominees")
        if people or nominees:  # most events (observations) name nobody
            named = {*(people or ()), *(nominees or ())}
            self._person_timeline.extend((person, occurred, position) for person in sorted(named))

    def _write_timelines(self, tx: Tx) -> None:
        keys = ("text", "bigint", "bigint")
        tx.insert_rows("rm_crew_timeline", keys, self._timeline, "ON CONFLICT DO NOTHING")
        tx.insert_rows("rm_person_timeline", keys, self._person_timeline, "ON CONFLICT DO NOTHING")
        self._timeline, self._person_timeline = [], []

    # --- patrols ----------------------------------------------------------------

    def on_PatrolStarted(self, tx: Tx, stored: Published, position: int) -> None:
        body = {
            "patrol_id": stored["stream_id"],
            "crew_id": stored["crew_id"],
            "line": stored["line"],
            "people": stored["people"],
            "status": "open",
            "started_at": stored["occurred_at"],
            "ended_at": None,
            "summary": None,
            "version": stored["version"],
        }
        self._new_patrols[body["patrol_id"]] = micros(stored["occurred_at"])
        self._patrols[body["patrol_id"]] = body
        self._timelines(stored, body["crew_id"])

    def _patrol_event(self, tx: Tx, stored: Published, position: int) -> None:
        body = self._held(tx, self._patrols, "rm_patrols", "patrol_id", stored["stream_id"])
        if body is None:
            return
        body["version"] = stored["version"]
        if stored["type"] == "PatrolEnded":
            body.update(
                status="ended", ended_at=stored["occurred_at"], summary=stored.get("summary")
            )
        self._timelines(stored, body["crew_id"])

    on_LineObservationRecorded = _patrol_event
    on_PatrolEnded = _patrol_event

    @staticmethod
    def _held(
        tx: Tx, held: dict[str, dict[str, Any]], table: str, column: str, key: str
    ) -> dict[str, Any] | None:
        """The row's body as this run left it (read from the view the first time)."""
        if key not in held:
            row = tx.one(f"SELECT body FROM {table} WHERE {column} = %s", (key,))
            if row is None:
                return None
            held[key] = orjson.loads(row["body"])
        return held[key]

    # --- incidents --------------------------------------------------------------

    def on_IncidentOpened(self, tx: Tx, stored: Published, position: int) -> None:
        if stored["stream_id"] not in self._incidents:
            self._incidents[stored["stream_id"]] = Held([stored], False, stored["version"], True)
        self._timelines(stored, stored["crew_id"])

    def _incident_event(self, tx: Tx, stored: Published, position: int) -> None:
        held = self._held_incident(tx, stored["stream_id"])
        if held is None or any(e["position"] == position for e in held.entries):
            return
        held.entries.append(stored)
        held.version = stored["version"]
        if stored["type"] == "PersonalDataErased":
            held.erased = True
        if held.erased:
            self._mark_erased(held.entries)
        self._timelines(stored, held.entries[0]["crew_id"])

    def _held_incident(self, tx: Tx, incident_id: str) -> Held | None:
        if incident_id not in self._incidents:
            row = tx.one(
                "SELECT entries, erased, version FROM rm_incidents WHERE incident_id = %s",
                (incident_id,),
            )
            if row is None:
                return None
            self._incidents[incident_id] = Held(
                orjson.loads(row["entries"]), bool(row["erased"]), int(row["version"])
            )
        return self._incidents[incident_id]

    @staticmethod
    def _write_incident(tx: Tx, incident_id: str, held: Held) -> None:
        state = list_state(held.entries)
        columns = {
            "kind": state["kind"],
            "status": state["status"],
            "opened_us": micros(state["opened_at"]),
            "version": held.version,
            "erased": int(held.erased),
            "state": dumps(state),
            "entries": dumps(held.entries),
        }
        if held.new:
            names = ["incident_id", "crew_id", *columns]
            tx.execute(
                f"INSERT INTO rm_incidents ({', '.join(names)}) "
                f"VALUES ({', '.join(['%s'] * len(names))}) ON CONFLICT DO NOTHING",
                (incident_id, held.entries[0]["crew_id"], *columns.values()),
            )
            return
        tx.execute(
            f"UPDATE rm_incidents SET {', '.join(f'{k} = %s' for k in columns)} "
            "WHERE incident_id = %s",
            (*columns.values(), incident_id),
        )

    @staticmethod
    def _mark_erased(entries: list[Published]) -> None:
        """Victim details read "erased" for everyone (timelines ask `erased` of the row)."""
        for e in entries:
            if e.get("personal_data") == "withheld":
                e["personal_data"] = "erased"

    on_ObservationRecorded = _incident_event
    on_EmergencyServicesCalled = _incident_event
    on_RescueActionTaken = _incident_event
    on_HelperJoined = _incident_event
    on_VictimHandedOver = _incident_event
    on_OutcomeRecorded = _incident_event
    on_VictimDetailsRecorded = _incident_event
    on_ThanksReceived = _incident_event
    on_EntryCorrected = _incident_event
    on_IncidentReviewed = _incident_event
    on_IncidentReopened = _incident_event
    on_PersonalDataErased = _incident_event

    # --- commendations ----------------------------------------------------------

    def on_CommendationNominated(self, tx: Tx, stored: Published, position: int) -> None:
        if stored["stream_id"] in self._commendations:
            return
        crew_id = self._crew_of_incident(tx, stored["incident_id"])
        body = {
            "commendation_id": stored["stream_id"],
            "status": "nominated",
            "nominees": stored["nominees"],
            "citation": stored["citation"],
            "incident_id": stored["incident_id"],
            "crew_id": crew_id,
            "award": None,
            "reason": None,
            "nominated_at": stored["occurred_at"],
            "endorsed_at": None,
            "decided_at": None,
            "version": stored["version"],
        }
        self._commendations[body["commendation_id"]] = body
        self._new_commendations[body["commendation_id"]] = micros(stored["occurred_at"])
        self._timelines(stored, None)

    def _crew_of_incident(self, tx: Tx, incident_id: str) -> str:
        held = self._incidents.get(incident_id)
        if held is not None:
            return str(held.entries[0]["crew_id"])
        row = tx.one("SELECT crew_id FROM rm_incidents WHERE incident_id = %s", (incident_id,))
        return str(row["crew_id"]) if row else ""

    def _commendation_event(self, tx: Tx, stored: Published, position: int) -> None:
        body = self._held(
            tx, self._commendations, "rm_commendations", "commendation_id", stored["stream_id"]
        )
        if body is None:
            return
        body["version"] = stored["version"]
        kind = stored["type"]
        if kind == "CommendationEndorsed":
            body.update(
                status="endorsed", endorsed_at=stored["occurred_at"], note=stored.get("note")
            )
        elif kind == "CommendationApproved":
            body.update(status="approved", award=stored["award"], decided_at=stored["occurred_at"])
        else:
            body.update(
                status="rejected", reason=stored["reason"], decided_at=stored["occurred_at"]
            )

    on_CommendationEndorsed = _commendation_event
    on_CommendationApproved = _commendation_event
    on_CommendationRejected = _commendation_event


def _write_bodies(
    tx: Tx, table: str, key: str, bodies: dict[str, dict[str, Any]], new: dict[str, int]
) -> None:
    """A list's rows (patrols, commendations: id, crew, status, time, body) as the run
    left them: those it began (`new`: id → time) inserted, the others updated."""
    begun, moved = [], []
    for row_id, body in bodies.items():
        if row_id in new:
            begun.append((row_id, body["crew_id"], body["status"], new[row_id], dumps(body)))
        else:
            moved.append((body["status"], dumps(body), row_id))
    columns = ("text", "text", "text", "bigint", "text")
    tx.insert_rows(table, columns, begun, "ON CONFLICT DO NOTHING")
    tx.executemany(f"UPDATE {table} SET status = %s, body = %s WHERE {key} = %s", moved)


def list_state(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The incident as a list shows it: everything but the victim's details."""
    state = incident_state(entries)
    state.pop("victim", None)
    return state
