"""The registry of people and crews, event-sourced in the same log as everything else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incidents.errors import InvalidEventError, RegistryConflictError
from incidents.facts import Fact, Opening
from incidents.streams import Stream, registry_stream_id


class PersonRegistered(Opening):
    person_id: str
    name: str

    def apply(self, aggregate: Any) -> None:
        aggregate.person_id = self.person_id
        aggregate.name = self.name


class CrewRegistered(Opening):
    crew_id: str
    name: str
    members: list[str]

    def apply(self, aggregate: Any) -> None:
        aggregate.crew_id = self.crew_id
        aggregate.name = self.name
        aggregate.registered_members = list(self.members)
        aggregate.members = {m: self.occurred_at for m in self.members}


class MemberJoinedCrew(Fact):
    crew_id: str
    person_id: str

    def apply(self, aggregate: Any) -> None:
        aggregate.members[self.person_id] = self.occurred_at


class MemberLeftCrew(Fact):
    crew_id: str
    person_id: str

    def apply(self, aggregate: Any) -> None:
        aggregate.members.pop(self.person_id, None)


class Person(Stream):
    """A person who may act in incidents and be nominated; registered once."""

    opening = PersonRegistered

    def __init__(self) -> None:
        self.person_id = ""
        self.name = ""

    @classmethod
    def register(cls, person_id: str, name: str, **envelope: Any) -> Person:
        return cls._create(
            PersonRegistered,
            id=registry_stream_id("person", person_id),
            person_id=person_id,
            name=name,
            **envelope,
        )

    def check_same_registration(self, name: str) -> None:
        if name != self.name:
            raise RegistryConflictError(
                f"person {self.person_id} is already registered as {self.name!r}"
            )


class Crew(Stream):
    """A crew and its current members (a person may belong to several crews)."""

    opening = CrewRegistered

    def __init__(self) -> None:
        self.crew_id = ""
        self.name = ""
        self.registered_members: list[str] = []
        self.members: dict[str, datetime] = {}

    @classmethod
    def register(cls, crew_id: str, name: str, members: list[str], **envelope: Any) -> Crew:
        return cls._create(
            CrewRegistered,
            id=registry_stream_id("crew", crew_id),
            crew_id=crew_id,
            name=name,
            members=members,
            **envelope,
        )

    def check_same_registration(self, name: str, members: list[str]) -> None:
        if name != self.name or sorted(members) != sorted(self.registered_members):
            raise RegistryConflictError(
                f"crew {self.crew_id} is already registered with other data "
                f"(name {self.name!r}, members {', '.join(self.registered_members) or 'none'})"
            )

    def join(self, person_id: str, **envelope: Any) -> None:
        self.trigger_event(MemberJoinedCrew, crew_id=self.crew_id, person_id=person_id, **envelope)

    def leave(self, person_id: str, **envelope: Any) -> None:
        if person_id not in self.members:
            raise InvalidEventError(f"{person_id} is not a member of crew {self.crew_id}")
        self.trigger_event(MemberLeftCrew, crew_id=self.crew_id, person_id=person_id, **envelope)
