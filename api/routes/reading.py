"""Patrols, incidents and commendations as crews and the office read them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.deps import ActorDep, ReadModelDep
from api.loop_reads import read_on_the_loop
from api.params import PagingDep, WindowDep, parse_instant, stream_uuid
from api.problems import ProblemError
from api.responses import DirectJsonRoute
from projections.queries import IncidentFilters

router = APIRouter(tags=["reading"], route_class=DirectJsonRoute)

IncidentStatus = Literal["open", "reviewed"]
IncidentKindParam = Literal[
    "drowning", "cardiac_arrest", "fall", "electrical", "fire", "traffic", "other"
]


@router.get("/v1/patrols")
def list_patrols(
    actor: ActorDep,
    reads: ReadModelDep,
    paging: PagingDep,
    crew_id: str | None = None,
    status: Annotated[Literal["open", "ended"] | None, Query()] = None,
) -> Any:
    """Patrols with their observations, newest first (a crew sees its own)."""
    return paging.sliced(lambda offset, limit: reads.patrols(actor, crew_id, status, offset, limit))


@router.get("/v1/patrols/{patrol_id}")
def get_patrol(patrol_id: str, actor: ActorDep, reads: ReadModelDep) -> Any:
    """One patrol with its observations."""
    patrol = reads.patrol(stream_uuid(patrol_id, "patrol"), actor)
    if patrol is None:
        raise ProblemError(404, f"no patrol {patrol_id}")
    return patrol


@router.get("/v1/incidents")
def list_incidents(
    actor: ActorDep,
    reads: ReadModelDep,
    paging: PagingDep,
    window: WindowDep,
    status: Annotated[IncidentStatus | None, Query()] = None,
    crew_id: str | None = None,
    kind: Annotated[IncidentKindParam | None, Query()] = None,
) -> Any:
    """Incidents, newest `opened_at` first; `from`/`to` filter on `opened_at`."""
    filters = IncidentFilters(status=status, crew_id=crew_id, kind=kind, window=window)
    return paging.sliced(lambda offset, limit: reads.incidents(actor, filters, offset, limit))


def _incident_or_404(found: Any, incident_id: str) -> Any:
    if found is None:
        raise ProblemError(404, f"no incident {incident_id}")
    return found


@router.get("/v1/incidents/{incident_id}")
def get_incident(incident_id: str, actor: ActorDep, reads: ReadModelDep) -> Any:
    """The incident's current state, corrections applied, with its standard intervals."""
    return _incident_or_404(
        reads.incident(stream_uuid(incident_id, "incident"), actor), incident_id
    )


@router.get("/v1/incidents/{incident_id}/events")
def get_incident_events(
    incident_id: str, actor: ActorDep, reads: ReadModelDep, paging: PagingDep
) -> Any:
    """The raw immutable events, in version order."""
    found = reads.incident_events(stream_uuid(incident_id, "incident"), actor)
    return paging.apply(_incident_or_404(found, incident_id))


@router.get("/v1/incidents/{incident_id}/replay")
def get_incident_replay(
    incident_id: str,
    request: Request,
    actor: ActorDep,
    reads: ReadModelDep,
    as_of: str | None = None,
    known_at: str | None = None,
) -> Any:
    """The state after each event, step by step; `known_at` and `as_of` cut the story."""
    found = reads.incident_replay(
        stream_uuid(incident_id, "incident"),
        actor,
        as_of=parse_instant(as_of, "as_of", request),
        known_at=parse_instant(known_at, "known_at", request),
    )
    return _incident_or_404(found, incident_id)


CommendationStatus = Literal["nominated", "endorsed", "approved", "rejected"]


@router.get("/v1/commendations")
def list_commendations(
    actor: ActorDep,
    reads: ReadModelDep,
    paging: PagingDep,
    status: Annotated[CommendationStatus | None, Query()] = None,
) -> Any:
    """Commendations with their status, newest first (a crew sees those of its incidents)."""
    return paging.sliced(lambda offset, limit: reads.commendations(actor, status, offset, limit))


@router.get("/v1/commendations/{commendation_id}")
def get_commendation(commendation_id: str, actor: ActorDep, reads: ReadModelDep) -> Any:
    """One commendation: status, nominees, citation, award, the incident it rests on."""
    found = reads.commendation(stream_uuid(commendation_id, "commendation"), actor)
    if found is None:
        raise ProblemError(404, f"no commendation {commendation_id}")
    return found


@router.get("/v1/crews/{crew_id}/timeline")
@read_on_the_loop
def crew_timeline(
    crew_id: str, actor: ActorDep, reads: ReadModelDep, paging: PagingDep, window: WindowDep
) -> Any:
    """Every event of the crew's patrols and incidents, by `occurred_at`."""
    if not actor.owns(crew_id):
        raise ProblemError(404, f"no crew {crew_id}")
    events = reads.crew_timeline(crew_id, window, actor, paging.after(), paging.limit + 1)
    # Events are filed only for registered crews: the directory is asked only when
    # there are none (an unknown crew, or a window with nothing in it).
    if not events and reads.crew(crew_id) is None:
        raise ProblemError(404, f"no crew {crew_id}")
    return paging.keyed(events)


@router.get("/v1/people/{person_id}/timeline")
@read_on_the_loop
def person_timeline(
    person_id: str, actor: ActorDep, reads: ReadModelDep, paging: PagingDep, window: WindowDep
) -> Any:
    """Every event whose `people` or `nominees` names the person, by `occurred_at`."""
    events = reads.person_timeline(person_id, window, actor, paging.after(), paging.limit + 1)
    # Only registered people are named in events (as for a crew's timeline above).
    if not events and reads.person(person_id) is None:
        raise ProblemError(404, f"no person {person_id}")
    return paging.keyed(events)
