"""People and crews: registered by the admin, read by the roles the contract names."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import ActorDep, FieldLogDep, ReadModelDep
from api.params import PagingDep
from api.problems import ProblemError
from api.responses import DirectJsonRoute, OrjsonResponse
from api.routes.filing import json_body
from incidents.submissions import RegistryId, describe_validation_error

router = APIRouter(tags=["registry"], route_class=DirectJsonRoute)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class PersonIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"person_id": "zhou-lihui", "name": "周立辉"}]},
    )
    person_id: RegistryId
    name: Name


class CrewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "crew_id": "chikan-mv-om",
                    "name": "赤坎供电所配电网中压运维班",
                    "members": ["zhou-lihui", "guan-jinkang", "chen-yigao"],
                }
            ]
        },
    )
    crew_id: RegistryId
    name: Name
    members: Annotated[list[RegistryId], Field(max_length=200)]


class MemberIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"person_id": "zhou-lihui"}]}
    )
    person_id: RegistryId


M = TypeVar("M", bound=BaseModel)


async def parsed(request: Request, model: type[M]) -> M:
    """The body as `model`, read only after the caller was authenticated and authorised
    (a body-typed parameter would be parsed first, answering 400 before 401/403)."""
    raw = await json_body(request)
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise ProblemError(422, describe_validation_error(e)) from None


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _answer(result: str, body: dict[str, Any] | None) -> OrjsonResponse:
    return OrjsonResponse(
        {**(body or {}), "result": result}, status_code=201 if result == "stored" else 200
    )


@router.get("/v1/whoami")
def whoami(actor: ActorDep) -> Any:
    """The caller's role, token name and (for a crew token) crew."""
    return {"role": actor.role, "name": actor.name, "crew_id": actor.crew_id}


@router.post("/v1/people", status_code=201, openapi_extra=body_doc(PersonIn))
async def register_person(
    request: Request, actor: ActorDep, app: FieldLogDep, reads: ReadModelDep
) -> Any:
    """Register a person (same data again answers 200, other data 409)."""
    person = await parsed(request, PersonIn)
    result, _ = await run_in_threadpool(app.register_person, person.person_id, person.name, actor)
    return _answer(result, await run_in_threadpool(reads.person, person.person_id))


@router.get("/v1/people")
def list_people(_: ActorDep, reads: ReadModelDep, paging: PagingDep) -> Any:
    """Every registered person."""
    return paging.apply(reads.people())


@router.get("/v1/people/{person_id}")
def get_person(person_id: str, _: ActorDep, reads: ReadModelDep) -> Any:
    """One person and the crews they belong to."""
    person = reads.person(person_id)
    if person is None:
        raise ProblemError(404, f"no person {person_id}")
    return person


@router.post("/v1/crews", status_code=201, openapi_extra=body_doc(CrewIn))
async def register_crew(
    request: Request, actor: ActorDep, app: FieldLogDep, reads: ReadModelDep
) -> Any:
    """Register a crew with its members (registered person ids)."""
    crew = await parsed(request, CrewIn)
    result, _ = await run_in_threadpool(
        app.register_crew, crew.crew_id, crew.name, crew.members, actor
    )
    return _answer(result, await run_in_threadpool(reads.crew, crew.crew_id))


@router.get("/v1/crews")
def list_crews(actor: ActorDep, reads: ReadModelDep, paging: PagingDep) -> Any:
    """Crews with their members (a crew token sees its own)."""
    return paging.apply(reads.crews(actor))


@router.get("/v1/crews/{crew_id}")
def get_crew(crew_id: str, actor: ActorDep, reads: ReadModelDep) -> Any:
    """One crew: `{crew_id, name, members: [{person_id, name, since}]}`."""
    crew = reads.crew(crew_id) if actor.owns(crew_id) else None
    if crew is None:
        raise ProblemError(404, f"no crew {crew_id}")
    return crew


@router.post("/v1/crews/{crew_id}/members", status_code=201, openapi_extra=body_doc(MemberIn))
async def join_crew(
    crew_id: str, request: Request, actor: ActorDep, app: FieldLogDep, reads: ReadModelDep
) -> Any:
    """A person joins the crew from now on."""
    member = await parsed(request, MemberIn)
    result, _ = await run_in_threadpool(app.join_crew, crew_id, member.person_id, actor)
    return _answer(result, await run_in_threadpool(reads.crew, crew_id))


@router.delete("/v1/crews/{crew_id}/members/{person_id}")
def leave_crew(
    crew_id: str, person_id: str, actor: ActorDep, app: FieldLogDep, reads: ReadModelDep
) -> Any:
    """A person leaves the crew from now on."""
    app.leave_crew(crew_id, person_id, actor)
    return {**(reads.crew(crew_id) or {}), "result": "stored"}
