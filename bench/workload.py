"""Realistic work for the benchmarks: crews on daily line patrols, the odd emergency, the
office's reviews, thanks from families and commendations decided by HR.

Everything is generated as the wire format a tablet or the office sends (the body of
`POST /v1/events`), with the actor that files it, from a seeded random generator, so a
run is reproducible. The same events feed the HTTP benchmarks, `/v1/sync` and the bulk
writer that builds the 1,000,000-event store.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from incidents.roles import Actor

CST = timezone(timedelta(hours=8))
SAFETY = Actor("safety", "bench-office")
HR = Actor("hr", "bench-hr")
FIRST_DAY = date(2023, 1, 2)
# The registry existed before the first patrol.
REGISTERED_SINCE = datetime(2022, 12, 1, 8, 0, tzinfo=CST)

LINES = (
    "10kV 赤坎镇区线",
    "10kV 江南线",
    "10kV 沙冈线",
    "110kV 长沙线",
    "10kV 三埠线",
    "10kV 塘口线",
)
OBSERVATIONS = (
    ("vegetation", "low", "竹枝接近导线约 1.5 米，建议排期修剪"),
    ("vegetation", "medium", "榕树枝叶触及导线，需尽快修剪"),
    ("defect", "medium", "绝缘子表面闪络痕迹，建议更换"),
    ("defect", "high", "拉线松脱，杆身轻微倾斜"),
    ("hazard", "high", "施工吊车在线路保护区内作业"),
    ("public_safety", "medium", "河边护栏缺损，行人靠近水面"),
    ("other", "low", "杆号牌脱落"),
)
KINDS = (
    ("drowning", "有人落水", ("reach_with_pole", "throw_flotation", "pull_ashore", "cpr_started")),
    ("cardiac_arrest", "有人倒地不起", ("cpr_started", "aed_shock", "cpr_started")),
    ("fall", "行人跌倒受伤", ("first_aid",)),
    ("electrical", "有人触电", ("first_aid", "cpr_started")),
    ("traffic", "路口交通事故", ("first_aid",)),
    ("fire", "路边杂物起火", ("other",)),
)
OUTCOMES = ("recovered", "recovered", "recovered", "hospitalised", "unknown")
SURNAMES = "周关陈岑李黄梁吴谭司徒冯邓余何"
GIVEN = "立锦奕旺旭志国伟明华建文军平辉康高敏"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))


@dataclass(frozen=True)
class CrewSpec:
    crew_id: str
    name: str
    members: tuple[str, ...]

    @property
    def tablet(self) -> Actor:
        return Actor("crew", f"tablet-{self.crew_id}", self.crew_id)


@dataclass(frozen=True)
class Registry:
    people: tuple[tuple[str, str], ...]  # (person_id, name)
    crews: tuple[CrewSpec, ...]


def make_registry(crews: int, seed: int = 7, prefix: str = "") -> Registry:
    """`crews` crews of four people each (the person ids are unique to the registry)."""
    rng = random.Random(seed)
    people: list[tuple[str, str]] = []
    specs = []
    for c in range(crews):
        members = []
        for m in range(4):
            person_id = f"{prefix}p{c:04d}-{m}"
            people.append((person_id, person_name(rng)))
            members.append(person_id)
        specs.append(CrewSpec(f"{prefix}crew-{c:04d}", f"第{c + 1}运维班", tuple(members)))
    return Registry(tuple(people), tuple(specs))


@dataclass(frozen=True)
class Planned:
    """One event as a client sends it, who sends it, and whether it ends its stream here
    (so a writer holding streams in memory may forget it)."""

    actor: Actor
    raw: dict[str, Any]
    last: bool = False


def uid(rng: random.Random) -> str:
    return str(UUID(int=rng.getrandbits(128), version=4))


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def event(
    stream_id: str, event_type: str, at: datetime, rng: random.Random, /, **payload: Any
) -> dict[str, Any]:
    return {
        "event_id": uid(rng),
        "type": event_type,
        "stream_id": stream_id,
        "occurred_at": stamp(at),
        **payload,
    }


@dataclass
class Later:
    """Events due on a later day (thanks, reviews, commendation decisions)."""

    due: dict[date, list[Planned]] = field(default_factory=dict)

    def add(self, day: date, planned: Planned) -> None:
        self.due.setdefault(day, []).append(planned)

    def pop(self, day: date) -> list[Planned]:
        return self.due.pop(day, [])


def patrol(crew: CrewSpec, day: date, rng: random.Random) -> tuple[str, list[Planned], datetime]:
    """A day's patrol: start, a few observations, end (the end is returned apart: an
    incident met on the way is filed before it)."""
    tablet = crew.tablet
    start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=CST) + timedelta(
        minutes=rng.randrange(90)
    )
    patrol_id = uid(rng)
    out = [
        Planned(
            tablet,
            event(
                patrol_id,
                "PatrolStarted",
                start,
                rng,
                crew_id=crew.crew_id,
                line=rng.choice(LINES),
                people=list(crew.members[: rng.choice((2, 3, 4))]),
            ),
        )
    ]
    at = start
    for _ in range(rng.randrange(2, 8)):
        at += timedelta(minutes=rng.randrange(10, 40))
        category, severity, text = rng.choice(OBSERVATIONS)
        out.append(
            Planned(
                tablet,
                event(
                    patrol_id,
                    "LineObservationRecorded",
                    at,
                    rng,
                    category=category,
                    severity=severity,
                    description=text,
                    location={
                        "lat": round(22.3 + rng.random() / 10, 5),
                        "lon": round(112.55 + rng.random() / 10, 5),
                        "place": f"#{rng.randrange(1, 300)} 杆",
                    },
                ),
            )
        )
    return patrol_id, out, at


def incident(
    crew: CrewSpec,
    patrol_id: str | None,
    at: datetime,
    rng: random.Random,
    later: Later | None,
) -> list[Planned]:
    """An emergency the crew met: calls, rescue actions, hand-over, outcome; sometimes the
    victim's details or a correction. With `later`, the office reviews it the next day, a
    family may thank the crew and a commendation may follow (HR decides)."""
    tablet = crew.tablet
    kind, title, actions = rng.choice(KINDS)
    incident_id = uid(rng)
    crew_people = list(crew.members)
    opened = event(
        incident_id,
        "IncidentOpened",
        at,
        rng,
        kind=kind,
        title=title,
        crew_id=crew.crew_id,
        location={"lat": round(22.32 + rng.random() / 100, 5), "place": "江南桥下"},
        **({"patrol_id": patrol_id} if patrol_id else {}),
    )
    out = [Planned(tablet, opened)]
    t = at + timedelta(seconds=rng.randrange(20, 90))
    out.append(
        Planned(tablet, event(incident_id, "ObservationRecorded", t, rng, description=title))
    )
    calls = []
    for service in ("police_110", "ambulance_120")[: rng.choice((1, 2))]:
        t += timedelta(seconds=rng.randrange(20, 120))
        call = event(
            incident_id,
            "EmergencyServicesCalled",
            t,
            rng,
            service=service,
            people=[rng.choice(crew_people)],
        )
        calls.append(call)
        out.append(Planned(tablet, call))
    rescuers = sorted(set(rng.sample(crew_people, rng.choice((1, 2, 3)))))
    for action in actions:
        t += timedelta(seconds=rng.randrange(30, 240))
        out.append(
            Planned(
                tablet,
                event(incident_id, "RescueActionTaken", t, rng, action=action, people=rescuers),
            )
        )
    if rng.random() < 0.5:
        t += timedelta(seconds=rng.randrange(30, 200))
        out.append(
            Planned(
                tablet,
                event(incident_id, "HelperJoined", t, rng, description="路过的船家和同事协助"),
            )
        )
    t += timedelta(minutes=rng.randrange(5, 20))
    out.append(
        Planned(tablet, event(incident_id, "VictimHandedOver", t, rng, to="开平市中心医院 120"))
    )
    out.append(
        Planned(
            tablet,
            event(incident_id, "OutcomeRecorded", t, rng, outcome=rng.choice(OUTCOMES)),
        )
    )
    if rng.random() < 0.1:
        out.append(
            Planned(
                tablet,
                event(incident_id, "VictimDetailsRecorded", t, rng, name="测试某", age=40),
            )
        )
    if rng.random() < 0.1:
        corrected = stamp(datetime.fromisoformat(calls[0]["occurred_at"]) - timedelta(minutes=1))
        out.append(
            Planned(
                tablet,
                event(
                    incident_id,
                    "EntryCorrected",
                    t + timedelta(minutes=30),
                    rng,
                    corrects_event_id=calls[0]["event_id"],
                    changes={"occurred_at": corrected},
                    reason="按手机通话记录更正",
                ),
            )
        )
    if later is None:
        return [*out[:-1], Planned(out[-1].actor, out[-1].raw, last=True)]
    day = at.date()
    review_at = datetime(day.year, day.month, day.day, 10, tzinfo=CST) + timedelta(days=1)
    thanked = rng.random() < 0.3
    later.add(
        review_at.date(),
        Planned(
            SAFETY,
            event(incident_id, "IncidentReviewed", review_at, rng, findings="处置得当"),
            last=not thanked,
        ),
    )
    if thanked:
        thanks_at = review_at + timedelta(days=rng.randrange(2, 10))
        later.add(
            thanks_at.date(),
            Planned(
                tablet,
                event(
                    incident_id,
                    "ThanksReceived",
                    thanks_at,
                    rng,
                    **{"from": "获救者家属", "via": "赤坎派出所"},
                ),
                last=True,
            ),
        )
    if rng.random() < 0.3:
        commendation(crew, incident_id, rescuers, review_at, rng, later)
    return out


def commendation(
    crew: CrewSpec,
    incident_id: str,
    nominees: list[str],
    at: datetime,
    rng: random.Random,
    later: Later,
) -> None:
    commendation_id = uid(rng)
    later.add(
        at.date(),
        Planned(
            crew.tablet,
            event(
                commendation_id,
                "CommendationNominated",
                at + timedelta(hours=2),
                rng,
                nominees=nominees,
                incident_id=incident_id,
                citation="见义勇为，及时施救",
            ),
        ),
    )
    endorsed = at + timedelta(days=rng.randrange(3, 10))
    later.add(
        endorsed.date(),
        Planned(SAFETY, event(commendation_id, "CommendationEndorsed", endorsed, rng)),
    )
    decided = endorsed + timedelta(days=rng.randrange(5, 20))
    approved = rng.random() < 0.85
    later.add(
        decided.date(),
        Planned(
            HR,
            event(commendation_id, "CommendationApproved", decided, rng, award="见义勇为奖")
            if approved
            else event(commendation_id, "CommendationRejected", decided, rng, reason="重复提名"),
            last=True,
        ),
    )


INCIDENT_EVERY = 12  # one patrol in this many meets an emergency


def crew_day(
    crew: CrewSpec, day: date, rng: random.Random, later: Later | None
) -> Iterator[Planned]:
    patrol_id, events, end = patrol(crew, day, rng)
    yield from events
    if rng.randrange(INCIDENT_EVERY) == 0:
        met = end + timedelta(minutes=rng.randrange(5, 30))
        yield from incident(crew, patrol_id, met, rng, later)
        end = met + timedelta(hours=1)
    yield Planned(
        crew.tablet,
        event(patrol_id, "PatrolEnded", end + timedelta(minutes=20), rng, summary="巡视完毕"),
        last=True,
    )


def history(registry: Registry, seed: int = 11) -> Iterator[Planned]:
    """The whole organisation, day after working day: every crew patrols, emergencies
    happen, the office and HR follow up on later days. Endless: the caller bounds it."""
    rng = random.Random(seed)
    later = Later()
    day = FIRST_DAY
    while True:
        if day.weekday() < 6:
            for crew in registry.crews:
                yield from crew_day(crew, day, rng, later)
        yield from later.pop(day)
        day += timedelta(days=1)


def tablet_queue(crew: CrewSpec, seed: int, first_day: date = FIRST_DAY) -> Iterator[Planned]:
    """One crew tablet's own events (patrols and emergencies), day after day. Endless."""
    rng = random.Random(seed)
    day = first_day
    while True:
        yield from crew_day(crew, day, rng, None)
        day += timedelta(days=1)
