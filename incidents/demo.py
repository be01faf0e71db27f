"""The demo data: the two rescue stories of the seed newspaper page, as real events.

Story 1 (drowning, 16 October 2025): the medium-voltage O&M crew of the Chikan
power-supply station, on line patrol, crosses the Jiangnan Bridge, sees a person
drowning in the Tan River, calls 110 and 120, reaches the victim with a bamboo
pole, pulls them ashore with colleagues and passing boatmen; medics do CPR and
the victim recovers. Days later the family thanks the crew through the police
station; the crew is commended. Along the way the demo shows a review, a
correction filed after it (the 120 call time, from the phone's call log), a
reopen and a second review, and a lone nomination that HR rejects as a duplicate.

Story 2 (cardiac arrest, Chikan Overseas Chinese Ancient Town): scenic-area staff
fetch an AED from the first-aid kiosk, reach the collapsed visitor 4 minutes
after the collapse, shock and do CPR; breathing returns; the hospital's
ambulance takes the visitor. Its commendation is left endorsed, for HR to decide
on the HR page; the incident is left open, for the safety office to review.

Every id is a fixed uuid5 of a stable name, so loading twice stores nothing new.
The victim's details are invented and obviously fictional.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from uuid import NAMESPACE_URL, uuid5

from incidents.application import FieldLog
from incidents.errors import DomainError
from incidents.roles import Actor

DEMO_URN = "urn:fieldlog:demo"
CST = "+08:00"

LOADER = "demo-loader"
# The crews existed long before the stories: their membership dates from then.
REGISTERED_SINCE = datetime(2025, 1, 2, 8, 0, tzinfo=timezone(timedelta(hours=8)))
ADMIN = Actor("admin", LOADER)
SAFETY = Actor("safety", LOADER)
HR = Actor("hr", LOADER)


# --- registry ---------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    person_id: str
    name: str


@dataclass(frozen=True)
class DemoCrew:
    crew_id: str
    name: str
    members: tuple[str, ...]

    @property
    def tablet(self) -> Actor:
        """The crew's tablet: files its own crew's events only."""
        return Actor("crew", f"{LOADER}-{self.crew_id}", self.crew_id)


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("zhou-lihui", "周立辉"),
    DemoPerson("guan-jinkang", "关锦康"),
    DemoPerson("chen-yigao", "陈奕高"),
    DemoPerson("zhou-wang", "周旺"),
    DemoPerson("cen-xumin", "岑旭敏"),
)

CHIKAN_MV = DemoCrew(
    "chikan-mv-om",
    "赤坎供电所配电网中压运维班",
    ("zhou-lihui", "guan-jinkang", "chen-yigao"),
)
CHIKAN_SCENIC = DemoCrew(
    "chikan-scenic",
    "赤坎华侨古镇景区工作人员",
    ("zhou-wang", "cen-xumin"),
)
DEMO_CREWS: tuple[DemoCrew, ...] = (CHIKAN_MV, CHIKAN_SCENIC)


# --- ids ----------------------------------------------------------------------


def demo_id(name: str) -> str:
    """The fixed UUID of a demo stream or event, e.g. ``demo_id("incident/drowning")``."""
    return str(uuid5(NAMESPACE_URL, f"{DEMO_URN}:{name}"))


PATROL_ID = demo_id("patrol/chikan-mv-om/2025-10-16")
DROWNING_ID = demo_id("incident/tan-river-drowning")
CARDIAC_ID = demo_id("incident/chikan-town-cardiac-arrest")
COMMENDATION_LONE_ID = demo_id("commendation/tan-river-zhou-lihui")
COMMENDATION_CREW_ID = demo_id("commendation/tan-river-crew")
COMMENDATION_SCENIC_ID = demo_id("commendation/chikan-town-staff")

DEMO_INCIDENT_IDS: tuple[str, ...] = (DROWNING_ID, CARDIAC_ID)
DEMO_PATROL_IDS: tuple[str, ...] = (PATROL_ID,)
DEMO_COMMENDATION_IDS: tuple[str, ...] = (
    COMMENDATION_LONE_ID,
    COMMENDATION_CREW_ID,
    COMMENDATION_SCENIC_ID,
)

TAN_RIVER = {"lat": 22.3247, "lon": 112.5903, "place": "潭江江南桥下"}
CAR_PARK = {"lat": 22.3268, "lon": 112.5862, "place": "赤坎华侨古镇停车场周边"}


# --- events -------------------------------------------------------------------


class DemoEvent(NamedTuple):
    """One event as a client files it (the wire format of POST /v1/events) and who files it."""

    actor: Actor
    event: dict[str, Any]


Filer = Callable[..., None]


def _filer(events: list[DemoEvent], stream_id: str, stream_name: str) -> Filer:
    """Files events on one stream; each event is named `{stream_name}/{slug}`.

    The envelope arguments are positional-only so that payload fields such as
    `kind` never collide with them; `from_` stands for the payload field `from`.
    """

    def file(
        actor: Actor,
        slug: str,
        event_type: str,
        at: str,
        certainty: str = "measured",
        /,
        **payload: Any,
    ) -> None:
        event = {
            "event_id": demo_id(f"event/{stream_name}/{slug}"),
            "type": event_type,
            "stream_id": stream_id,
            "occurred_at": f"{at}{CST}",
            "time_certainty": certainty,
        }
        event.update({"from" if k == "from_" else k: v for k, v in payload.items()})
        events.append(DemoEvent(actor, event))

    return file


def _drowning(events: list[DemoEvent]) -> None:
    crew = CHIKAN_MV.tablet
    members = list(CHIKAN_MV.members)
    patrol = _filer(events, PATROL_ID, "patrol/chikan-mv-om/2025-10-16")
    incident = _filer(events, DROWNING_ID, "incident/tan-river-drowning")
    day = "2025-10-16T"

    patrol(
        crew,
        "started",
        "PatrolStarted",
        day + "14:05:00",
        crew_id=CHIKAN_MV.crew_id,
        line="10kV 赤坎镇区线路（江南桥段）",
        people=members,
    )
    patrol(
        crew,
        "vegetation-pole-12",
        "LineObservationRecorded",
        day + "14:48:00",
        category="vegetation",
        severity="low",
        description="江南路 #12 杆附近竹枝接近导线，约 1.5 米，建议排期修剪",
        location={"lat": 22.3221, "lon": 112.5928, "place": "江南路 10kV 线路 #12 杆"},
    )

    incident(
        crew,
        "opened",
        "IncidentOpened",
        day + "15:20:00",
        "estimated",
        kind="drowning",
        title="潭江江南桥下有人溺水",
        crew_id=CHIKAN_MV.crew_id,
        location=TAN_RIVER,
        patrol_id=PATROL_ID,
    )
    incident(
        crew,
        "sighting",
        "ObservationRecorded",
        day + "15:20:00",
        "estimated",
        description="巡视车经过江南桥时听到呼救：潭江中央有一人溺水，离岸较远，"
        "水流湍急，头部快被水没过。三人立即停车查看。",
    )
    incident(
        crew,
        "call-110",
        "EmergencyServicesCalled",
        day + "15:21:00",
        service="police_110",
        people=["guan-jinkang"],
        description="关锦康拨打110报警，报告江南桥下潭江有人溺水",
    )
    incident(
        crew,
        "call-120",
        "EmergencyServicesCalled",
        day + "15:21:00",
        "estimated",
        service="ambulance_120",
        people=["chen-yigao"],
        description="陈奕高拨打120，请求救护车到江南桥下",
    )
    incident(
        crew,
        "pole",
        "RescueActionTaken",
        day + "15:23:00",
        "estimated",
        action="reach_with_pole",
        people=["zhou-lihui"],
        description="周立辉冲到岸边，在附近小船上找到一根竹竿，根据水流方向判断营救位置后"
        "将竹竿伸向溺水者，一点一点往岸边拉；水流太急，溺水者无法靠岸，出现意识模糊",
    )
    incident(
        crew,
        "helpers",
        "HelperJoined",
        day + "15:26:00",
        "estimated",
        description="周立辉呼喊“来人啊，快来搭把手！”，同事关锦康、陈奕高和两名途经的船民加入救援",
        people=["guan-jinkang", "chen-yigao"],
    )
    incident(
        crew,
        "ashore",
        "RescueActionTaken",
        day + "15:30:00",
        action="pull_ashore",
        people=members,
        description="经过数分钟努力，与途经的船民一起将溺水者拖上岸",
    )
    incident(
        crew,
        "cpr",
        "RescueActionTaken",
        day + "15:33:00",
        "estimated",
        action="cpr_started",
        people=[],
        description="赶到的120医护人员对溺水者进行心肺复苏，溺水者逐渐恢复意识",
    )
    incident(
        crew,
        "handover",
        "VictimHandedOver",
        day + "15:41:00",
        to="120 救护车（送往医院进一步救治）",
    )
    incident(
        crew,
        "outcome",
        "OutcomeRecorded",
        day + "15:41:00",
        outcome="recovered",
        detail="心肺复苏后逐渐恢复意识，由救护车送医进一步救治",
    )
    patrol(
        crew,
        "ended",
        "PatrolEnded",
        day + "17:10:00",
        summary="巡视途中在江南桥下参与救起潭江落水者（见事件记录）；其余线段巡视完成，"
        "#12 杆树障一处待修剪",
    )

    incident(
        SAFETY,
        "review-1",
        "IncidentReviewed",
        "2025-10-17T10:30:00",
        findings="发现后约 1 分钟内报警（110、120），3 分钟内以竹竿施救，约 10 分钟将落水者"
        "拖上岸，处置得当。建议：巡视车辆配备救生圈和抛投绳；班组复训水上救援和心肺复苏。",
    )
    incident(
        crew,
        "correct-call-120",
        "EntryCorrected",
        "2025-10-17T16:05:00",
        corrects_event_id=demo_id("event/incident/tan-river-drowning/call-120"),
        changes={"occurred_at": "2025-10-16T15:22:00+08:00", "time_certainty": "measured"},
        reason="按陈奕高手机通话记录，120 于 15:22 接通，原记录为事后估计的 15:21",
    )
    incident(
        crew,
        "thanks",
        "ThanksReceived",
        "2025-10-21T09:40:00",
        from_="获救者家属（两名赤坎镇群众）",
        via="赤坎派出所",
        message="我的父亲清醒后，第一时间想找到你们说一声感谢！",
    )
    incident(
        crew,
        "victim",
        "VictimDetailsRecorded",
        "2025-10-21T09:45:00",
        name="潭江落水者（化名）",
        age=67,
        phone="+86 000 0000 0000",
    )
    incident(
        SAFETY,
        "reopen",
        "IncidentReopened",
        "2025-10-21T14:00:00",
        reason="复核后班组更正了 120 呼叫时间，并收到家属致谢，需重新核对时间间隔",
    )
    incident(
        SAFETY,
        "review-2",
        "IncidentReviewed",
        "2025-10-21T15:00:00",
        findings="复核：依据通话记录，120 呼叫时间更正为 15:22（实测）；家属经赤坎派出所"
        "致谢已登记。结论不变，建议为三人申报见义勇为嘉奖。",
    )

    lone = _filer(events, COMMENDATION_LONE_ID, "commendation/tan-river-zhou-lihui")
    lone(
        crew,
        "nominated",
        "CommendationNominated",
        "2025-10-21T10:00:00",
        nominees=["zhou-lihui"],
        incident_id=DROWNING_ID,
        citation="周立辉在潭江江南桥下用竹竿救起落水者，家属专程致谢",
    )
    team = _filer(events, COMMENDATION_CREW_ID, "commendation/tan-river-crew")
    team(
        SAFETY,
        "nominated",
        "CommendationNominated",
        "2025-10-21T15:30:00",
        nominees=members,
        incident_id=DROWNING_ID,
        citation="10月16日线路巡视途中，周立辉、关锦康、陈奕高在江南桥发现潭江有人溺水，"
        "迅速报警并用竹竿施救，与同事和船民合力将落水者拖上岸，落水者经急救恢复意识。",
    )
    team(
        SAFETY,
        "endorsed",
        "CommendationEndorsed",
        "2025-10-22T09:00:00",
        note="安全监察部核实：报警与施救时间有通话记录佐证，处置规范，同意申报",
    )
    team(
        HR,
        "approved",
        "CommendationApproved",
        "2025-10-24T11:00:00",
        award="见义勇为先进集体（班组嘉奖）",
    )
    lone(
        HR,
        "rejected",
        "CommendationRejected",
        "2025-10-24T11:05:00",
        reason="与同一事件的集体嘉奖（周立辉、关锦康、陈奕高）重复，已合并至该嘉奖",
    )


def _cardiac_arrest(events: list[DemoEvent]) -> None:
    crew = CHIKAN_SCENIC.tablet
    incident = _filer(events, CARDIAC_ID, "incident/chikan-town-cardiac-arrest")
    day = "2025-10-19T"

    incident(
        crew,
        "opened",
        "IncidentOpened",
        day + "10:32:00",
        "estimated",
        kind="cardiac_arrest",
        title="游客在古镇停车场周边晕倒（心脏骤停）",
        crew_id=CHIKAN_SCENIC.crew_id,
        location=CAR_PARK,
    )
    incident(
        crew,
        "collapse",
        "ObservationRecorded",
        day + "10:32:00",
        "estimated",
        description="停车场周边一名游客突然晕倒在地，神志不清",
    )
    incident(
        crew,
        "report",
        "EmergencyServicesCalled",
        day + "10:32:30",
        service="other",
        people=["zhou-wang"],
        description="停车场主管周旺立即通知景区相关部门，报告游客所在位置",
    )
    incident(
        crew,
        "call-120",
        "EmergencyServicesCalled",
        day + "10:33:00",
        "estimated",
        service="ambulance_120",
        people=[],
        description="景区值班人员拨打120，开平市中心医院派出救护车",
    )
    incident(
        crew,
        "fetch-aed",
        "RescueActionTaken",
        day + "10:33:00",
        "estimated",
        action="other",
        people=["cen-xumin"],
        description="景区主管岑旭敏赶往长盛旅店主楼一楼大厅，从“急救救护一体机”取出 AED，"
        "前往停车场",
    )
    incident(
        crew,
        "arrival",
        "ObservationRecorded",
        day + "10:36:00",
        description="事发 4 分钟后岑旭敏等工作人员到达：游客无自主呼吸、心跳停止",
    )
    incident(
        crew,
        "shock",
        "RescueActionTaken",
        day + "10:36:00",
        action="aed_shock",
        people=["cen-xumin"],
        description="使用 AED 进行除颤（时间取自 AED 记录）",
    )
    incident(
        crew,
        "cpr",
        "RescueActionTaken",
        day + "10:36:00",
        action="cpr_started",
        people=["cen-xumin"],
        description="除颤后同步进行胸外按压和人工呼吸",
    )
    incident(
        crew,
        "helpers",
        "HelperJoined",
        day + "10:37:00",
        "estimated",
        description="景区其他持红十字救护员证的工作人员轮换按压，并疏散围观游客",
    )
    incident(
        crew,
        "breathing",
        "ObservationRecorded",
        day + "10:39:00",
        "estimated",
        description="完成一组 CPR 后游客恢复呼吸，但未恢复意识",
    )
    incident(crew, "handover", "VictimHandedOver", day + "10:47:00", to="开平市中心医院救护车")
    incident(
        crew,
        "outcome",
        "OutcomeRecorded",
        day + "10:47:00",
        outcome="hospitalised",
        detail="救护车检查后立即送往开平市中心医院",
    )
    incident(
        crew,
        "outcome-evening",
        "OutcomeRecorded",
        day + "19:30:00",
        outcome="hospitalised",
        detail="当晚与开平市中心医院联系得知：确诊为心脏骤停，经救治已完全恢复意识",
    )

    scenic = _filer(events, COMMENDATION_SCENIC_ID, "commendation/chikan-town-staff")
    scenic(
        SAFETY,
        "nominated",
        "CommendationNominated",
        "2025-10-22T10:00:00",
        nominees=list(CHIKAN_SCENIC.members),
        incident_id=CARDIAC_ID,
        citation="周旺发现游客晕倒后立即报告位置，岑旭敏取来急救救护一体机中的 AED，"
        "事发 4 分钟内完成除颤和心肺复苏，游客恢复呼吸，为救治赢得宝贵时间。",
    )
    scenic(
        SAFETY,
        "endorsed",
        "CommendationEndorsed",
        "2025-10-22T16:00:00",
        note="景区首次使用急救救护一体机救人；到场、除颤时间有 AED 记录佐证",
    )


def demo_events() -> list[DemoEvent]:
    """Every demo event in filing order (a fresh copy each call)."""
    events: list[DemoEvent] = []
    _drowning(events)
    _cardiac_arrest(events)
    return events


def example_for(event_type: str) -> dict[str, Any]:
    """The first demo event of this type (for the OpenAPI examples); KeyError if none."""
    for _, event in demo_events():
        if event["type"] == event_type:
            return copy.deepcopy(event)
    raise KeyError(f"no demo event of type {event_type}")


# --- loading ----------------------------------------------------------------


class DemoLoadError(RuntimeError):
    """The demo could not be loaded as written (the store holds other data under its ids)."""


@dataclass
class DemoSummary:
    stored: int = 0
    duplicate: int = 0
    registry_stored: int = 0
    registry_duplicate: int = 0
    person_ids: tuple[str, ...] = tuple(p.person_id for p in DEMO_PEOPLE)
    crew_ids: tuple[str, ...] = tuple(c.crew_id for c in DEMO_CREWS)
    patrol_ids: tuple[str, ...] = DEMO_PATROL_IDS
    incident_ids: tuple[str, ...] = DEMO_INCIDENT_IDS
    commendation_ids: tuple[str, ...] = DEMO_COMMENDATION_IDS

    def count(self, result: str, *, registry: bool = False) -> None:
        if registry:
            if result == "stored":
                self.registry_stored += 1
            else:
                self.registry_duplicate += 1
        elif result == "stored":
            self.stored += 1
        else:
            self.duplicate += 1


def load_demo(app: FieldLog) -> DemoSummary:
    """Register the demo people and crews and file every demo event; idempotent.

    Raises DemoLoadError if anything answers conflict or invalid (nothing after it is filed).
    """
    summary = DemoSummary()
    try:
        for person in DEMO_PEOPLE:
            result, _ = app.register_person(person.person_id, person.name, ADMIN, REGISTERED_SINCE)
            summary.count(result, registry=True)
        for crew in DEMO_CREWS:
            result, _ = app.register_crew(
                crew.crew_id, crew.name, list(crew.members), ADMIN, REGISTERED_SINCE
            )
            summary.count(result, registry=True)
    except DomainError as e:
        raise DemoLoadError(f"demo registry: {e.detail}") from e
    for actor, event in demo_events():
        outcome = app.submit(event, actor)
        if outcome.result not in ("stored", "duplicate"):
            raise DemoLoadError(
                f"demo event {event['type']} {event['event_id']} "
                f"(stream {event['stream_id']}, filed as {actor.recorded_by}) "
                f"answered {outcome.result}: {outcome.detail}"
            )
        summary.count(outcome.result)
    return summary


__all__ = [
    "DEMO_CREWS",
    "DEMO_PEOPLE",
    "DemoCrew",
    "DemoEvent",
    "DemoLoadError",
    "DemoPerson",
    "DemoSummary",
    "demo_events",
    "demo_id",
    "example_for",
    "load_demo",
]
