"""Reads answered by the projections (lists, timelines, the recognition report).

Single-stream reads (an incident, its events and replay, a patrol, a commendation, a
person, a crew) stay on the stream itself: one indexed read, always current. Lists,
timelines and reports come from the views; before answering, a read waits briefly for
the projections to reach the log's head, so a writer reads its own writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson

from incidents.roles import Actor
from projections.catalog import list_state
from projections.paging import TimelineKey
from projections.queries import IncidentFilters, LogReadModel
from projections.recognition import report
from projections.runner import ProjectionWorker
from projections.views import MAX_US, MIN_US, Tx, View, micros
from projections.window import Window

CONSISTENCY_TIMEOUT = 2.0
NO_LIMIT = 2**62


class ViewsBehindError(Exception):
    """The views have not applied the log's head, and this read may not wait for them."""


_may_wait = ContextVar("fieldlog_read_may_wait", default=True)


@contextmanager
def without_waiting() -> Iterator[None]:
    """Reads here raise `ViewsBehindError` rather than wait for the views (a read on the
    event loop must never block it for up to CONSISTENCY_TIMEOUT)."""
    token = _may_wait.set(False)
    try:
        yield
    finally:
        _may_wait.reset(token)


class ProjectedReadModel(LogReadModel):
    def __init__(self, worker: ProjectionWorker) -> None:
        super().__init__(worker.app)
        self.worker = worker
        by_name = {p.name: p.view for p in worker.projections}
        self.directory: View = by_name["directory"]
        self.catalog: View = by_name["catalog"]
        self.recognition_view: View = by_name["recognition"]
        self.log = worker.log
        # SQLite: the views are a local file, a page read from its cache is shorter
        # than the hop to a worker thread and back (see `api.loop_reads`).
        self.answers_on_the_loop = not worker.app.settings.is_postgres

    def _current(self) -> None:
        if _may_wait.get():
            self.worker.wait_for(self.head_position(), CONSISTENCY_TIMEOUT)
        elif not self.worker.wait_for(self.head_position(), 0):
            raise ViewsBehindError

    # --- registry -----------------------------------------------------------------

    def people(self) -> list[dict[str, Any]]:
        self._current()
        rows = self.directory.read(
            lambda tx: tx.all(
                "SELECT p.person_id, p.name, m.crew_id FROM dir_people p LEFT JOIN "
                "dir_memberships m ON m.person_id = p.person_id AND m.until_us IS NULL"
            )
        )
        people: dict[str, dict[str, Any]] = {}
        for r in rows:
            person = people.setdefault(
                r["person_id"], {"person_id": r["person_id"], "name": r["name"], "crews": []}
            )
            if r["crew_id"]:
                person["crews"].append(r["crew_id"])
        for person in people.values():
            person["crews"].sort()
        return [people[k] for k in sorted(people)]

    def person(self, person_id: str) -> dict[str, Any] | None:
        self._current()
        rows = self.directory.read(
            lambda tx: tx.all(
                "SELECT p.person_id, p.name, m.crew_id FROM dir_people p LEFT JOIN "
                "dir_memberships m ON m.person_id = p.person_id AND m.until_us IS NULL "
                "WHERE p.person_id = %s",
                (person_id,),
            )
        )
        if not rows:
            return None
        crews = sorted({r["crew_id"] for r in rows if r["crew_id"]})
        return {"person_id": rows[0]["person_id"], "name": rows[0]["name"], "crews": crews}

    def crew(self, crew_id: str) -> dict[str, Any] | None:
        """One crew from the directory (a crew's timeline asks this on every page)."""
        self._current()
        found = self.directory.read(lambda tx: self._crews(tx, crew_id))
        return found[0] if found else None

    def crews(self, actor: Actor) -> list[dict[str, Any]]:
        self._current()
        found = self.directory.read(lambda tx: self._crews(tx, None))
        return [c for c in found if actor.owns(c["crew_id"])]

    @staticmethod
    def _crews(tx: Tx, crew_id: str | None) -> list[dict[str, Any]]:
        only, params = ("", ()) if crew_id is None else (" AND m.crew_id = %s", (crew_id,))
        crews = tx.all(
            "SELECT crew_id, name FROM dir_crews" + (" WHERE crew_id = %s" if crew_id else ""),
            params,
        )
        members = tx.all(
            "SELECT m.crew_id, m.person_id, m.since, m.since_us, m.ordinal, p.name "
            "FROM dir_memberships m "
            "LEFT JOIN dir_people p ON p.person_id = m.person_id "
            "WHERE m.until_us IS NULL" + only,
            params,
        )
        found = {
            c["crew_id"]: {"crew_id": c["crew_id"], "name": c["name"], "members": []} for c in crews
        }
        for m in sorted(members, key=lambda m: (m["since_us"], m["ordinal"], m["person_id"])):
            if m["crew_id"] in found:
                found[m["crew_id"]]["members"].append(
                    {"person_id": m["person_id"], "name": m["name"], "since": m["since"]}
                )
        return [found[k] for k in sorted(found)]

    # --- lists ----------------------------------------------------------------------

    def patrols(
        self,
        actor: Actor,
        crew_id: str | None,
        status: str | None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        self._current()
        params: list[Any] = []
        sql = "SELECT body FROM rm_patrols WHERE 1=1" + _equal(
            params, _own(actor), ("crew_id", crew_id), ("status", status)
        )
        sql += " ORDER BY started_us DESC, patrol_id DESC" + _slice(params, offset, limit)
        return self.catalog.read(lambda tx: self._with_observations(tx, tx.all(sql, params)))

    def _with_observations(self, tx: Tx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The page's patrols, each with its observations read from the log."""
        patrols = [orjson.loads(r["body"]) for r in rows]
        streams = self.log.streams(tx, [p["patrol_id"] for p in patrols])
        for patrol in patrols:
            patrol["observations"] = [
                e for e in streams[patrol["patrol_id"]] if e["type"] == "LineObservationRecorded"
            ]
        return patrols

    def incidents(
        self, actor: Actor, filters: IncidentFilters, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        self._current()
        sql = "SELECT state FROM rm_incidents WHERE opened_us >= %s AND opened_us < %s"
        window = filters.window
        params: list[Any] = [
            MIN_US if window.start is None else micros(window.start),
            MAX_US if window.end is None else micros(window.end),
        ]
        sql += _equal(
            params,
            _own(actor),
            ("crew_id", filters.crew_id),
            ("status", filters.status),
            ("kind", filters.kind),
        )
        sql += " ORDER BY opened_us DESC, incident_id DESC" + _slice(params, offset, limit)
        rows = self.catalog.read(lambda tx: tx.all(sql, params))
        return [orjson.loads(r["state"]) for r in rows]

    def commendations(
        self,
        actor: Actor,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        self._current()
        params: list[Any] = []
        sql = "SELECT body FROM rm_commendations WHERE 1=1"
        sql += _equal(params, _own(actor), ("status", status))
        sql += " ORDER BY nominated_us DESC, commendation_id DESC" + _slice(params, offset, limit)
        rows = self.catalog.read(lambda tx: tx.all(sql, params))
        return [orjson.loads(r["body"]) for r in rows]

    # --- timelines ------------------------------------------------------------------

    def crew_timeline(
        self,
        crew_id: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return self._timeline("rm_crew_timeline", "crew_id", crew_id, window, actor, after, limit)

    def person_timeline(
        self,
        person_id: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return self._timeline(
            "rm_person_timeline", "person_id", person_id, window, actor, after, limit
        )

    def _timeline(
        self,
        table: str,
        column: str,
        key: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None,
        limit: int | None,
    ) -> list[dict[str, Any]]:
        """One range read on the (key, occurred_us, position) index, from `after` on."""
        self._current()
        lo = MIN_US if window.start is None else micros(window.start)
        hi = MAX_US if window.end is None else micros(window.end)
        since, position = after if after is not None else (MIN_US, -1)
        sql = (
            "SELECT t.position, e.originator_id, e.originator_version, e.topic, e.state "
            f"FROM {table} t {self.log.join('t')} "
            f"WHERE t.{column} = %s AND t.occurred_us >= %s AND t.occurred_us < %s "
            "AND (t.occurred_us > %s OR t.position > %s) ORDER BY t.occurred_us, t.position"
        )
        params: list[Any] = [key, max(lo, since), hi, since, position]
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        events = self.catalog.read(lambda tx: self.log.presented(tx, tx.all(sql, params)))
        if actor.sees_personal_data():
            events = [self._with_personal_data(e, actor) for e in events]
        return events

    def _with_personal_data(self, event: dict[str, Any], actor: Actor) -> dict[str, Any]:
        """The view keeps no personal data: the office reads it from the log itself."""
        if event.get("personal_data") != "withheld":
            return event
        from uuid import UUID

        for stored in self._stream_events(UUID(event["stream_id"]), actor):
            if stored["event_id"] == event["event_id"]:
                return stored
        return event

    # --- reports --------------------------------------------------------------------

    def recognition(self, window: Window) -> dict[str, Any]:
        self._current()
        return self.recognition_view.read(lambda tx: report(tx, window))


def _own(actor: Actor) -> tuple[str, str | None]:
    """A crew reads its own rows only; the office reads every crew's."""
    return "crew_id", actor.crew_id if actor.is_crew else None


def _equal(params: list[Any], *filters: tuple[str, Any]) -> str:
    """` AND column = %s` for each filter that is set, its value added to `params`."""
    sql = ""
    for column, value in filters:
        if value is not None:
            sql += f" AND {column} = %s"
            params.append(value)
    return sql


def _slice(params: list[Any], offset: int, limit: int | None) -> str:
    """`offset`/`limit` in SQL, so a list page reads only its own rows."""
    if limit is None and not offset:
        return ""
    params.extend((NO_LIMIT if limit is None else limit, offset))
    return " LIMIT %s OFFSET %s"


__all__ = ["ProjectedReadModel", "ViewsBehindError", "list_state", "without_waiting"]
