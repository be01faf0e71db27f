"""Builders for the events of the seed stories, so tests read as given → when → then.

The main story (Jiangmen Daily, Kaiping page): on 2025-10-16 the medium-voltage O&M
crew of 赤坎供电所 (周立辉, 关锦康, 陈奕高) was patrolling the line, crossed 江南桥 and
saw a person drowning in the 潭江. 关锦康 and 陈奕高 called 110 and 120; 周立辉 took a
bamboo pole from a nearby boat and reached the victim; colleagues and passing
boatmen joined; they pulled the victim ashore; medics did CPR; the victim recovered
and was taken to hospital; the family later came through the police station to
thank them. The second story: scenic-area staff of 赤坎华侨古镇 (周旺, 岑旭敏) fetched an
AED to a collapsed visitor, shocked 4 minutes after the collapse and did CPR.

Each builder returns a fresh raw event (a new `event_id`) as a tablet would send it;
keyword arguments override or add fields (``**{"from": ...}`` for `from`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from incidents.application import FieldLog
from incidents.outcome import Outcome
from incidents.roles import Actor
from tests.conftest import ADMIN, CHIKAN, HR, OTHER_CREW, SAFETY

ZHOU, GUAN, CHEN = "zhou-lihui", "guan-jinkang", "chen-yigao"
ZHOU_WANG, CEN = "zhou-wang", "cen-xumin"
CHIKAN_MV, SCENIC = "chikan-mv", "scenic-staff"

PEOPLE = {ZHOU: "周立辉", GUAN: "关锦康", CHEN: "陈奕高", ZHOU_WANG: "周旺", CEN: "岑旭敏"}
CREWS = {
    CHIKAN_MV: ("赤坎供电所配电网中压运维班", [ZHOU, GUAN, CHEN]),
    SCENIC: ("赤坎华侨古镇景区工作人员", [ZHOU_WANG, CEN]),
}

UNDER_JIANGNAN_BRIDGE = {"lat": 22.3781, "lon": 112.5702, "place": "开平赤坎 江南桥下 潭江"}
SCENIC_CAR_PARK = {"place": "赤坎华侨古镇停车场"}

ENVELOPE = ("event_id", "type", "stream_id", "occurred_at", "time_certainty", "expected_version")

__all__ = ["ADMIN", "CHIKAN", "HR", "OTHER_CREW", "SAFETY"]


def new_id() -> str:
    return str(uuid4())


def on_16_october(hh_mm_ss: str, offset: str = "+08:00") -> str:
    """A tablet clock reading on the day of the rescue (China Standard Time)."""
    return f"2025-10-16T{hh_mm_ss}{offset}"


def raw_event(kind: str, stream_id: str, occurred_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": kind,
        "stream_id": stream_id,
        "occurred_at": occurred_at,
        **fields,
    }


def make(
    kind: str, stream_id: str, occurred_at: str, fields: dict[str, Any], over: dict[str, Any]
) -> dict[str, Any]:
    """A raw event with default fields, then the test's overrides (any key, envelope too)."""
    return {**raw_event(kind, stream_id, occurred_at), **fields, **over}


def without(raw: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The same raw event with some fields left out."""
    return {k: v for k, v in raw.items() if k not in keys}


def payload_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The payload fields of a raw event (the envelope removed)."""
    return {k: v for k, v in raw.items() if k not in ENVELOPE}


def register_seed(app: FieldLog) -> None:
    """The registry the stories need: both crews and their members."""
    for person_id, name in PEOPLE.items():
        app.register_person(person_id, name, ADMIN)
    for crew_id, (name, members) in CREWS.items():
        app.register_crew(crew_id, name, members, ADMIN)


def given(app: FieldLog, *raws: dict[str, Any], actor: Actor = CHIKAN) -> list[Outcome]:
    """Prior events, each of which must be stored."""
    outcomes = []
    for raw in raws:
        outcome = app.submit(raw, actor)
        assert outcome.result == "stored", (raw["type"], outcome)
        outcomes.append(outcome)
    return outcomes


def head(app: FieldLog) -> int:
    """The global position of the last stored event (0 on an empty store)."""
    return app.recorder.max_notification_id() or 0


def stream_types(app: FieldLog, stream_id: str) -> list[str]:
    return [type(event).__name__ for event, _ in app.get_facts(UUID(stream_id))]


@dataclass
class Drowning:
    """The 潭江 rescue under 江南桥: one patrol, one incident, one commendation."""

    crew_id: str = CHIKAN_MV
    patrol_id: str = field(default_factory=new_id)
    incident_id: str = field(default_factory=new_id)
    commendation_id: str = field(default_factory=new_id)

    # --- the patrol -------------------------------------------------------

    def patrol_started(self, **over: Any) -> dict[str, Any]:
        fields = {
            "crew_id": self.crew_id,
            "line": "10kV 赤坎线 江南桥段",
            "people": [ZHOU, GUAN, CHEN],
        }
        return make("PatrolStarted", self.patrol_id, on_16_october("14:30:00"), fields, over)

    def line_observation(self, **over: Any) -> dict[str, Any]:
        fields = {
            "category": "vegetation",
            "severity": "medium",
            "description": "江南桥北岸竹林逼近导线，需安排修剪",
            "location": {"lat": 22.3790, "lon": 112.5698, "place": "江南桥北岸"},
        }
        at = on_16_october("15:05:00")
        return make("LineObservationRecorded", self.patrol_id, at, fields, over)

    def patrol_ended(self, **over: Any) -> dict[str, Any]:
        fields = {"summary": "巡视中断：江南桥下潭江救起落水者，见事件记录"}
        return make("PatrolEnded", self.patrol_id, on_16_october("17:10:00"), fields, over)

    # --- the incident -----------------------------------------------------

    def _incident(
        self, kind: str, at: str, fields: dict[str, Any], over: dict[str, Any]
    ) -> dict[str, Any]:
        return make(kind, self.incident_id, at, fields, over)

    def incident_opened(self, **over: Any) -> dict[str, Any]:
        fields = {
            "kind": "drowning",
            "title": "潭江江南桥下有人溺水呼救",
            "crew_id": self.crew_id,
            "location": UNDER_JIANGNAN_BRIDGE,
        }
        return self._incident("IncidentOpened", on_16_october("15:20:00"), fields, over)

    def sighting(self, **over: Any) -> dict[str, Any]:
        fields = {"description": "潭江中央一人溺水呼救，离岸较远，水流湍急，头部快被水没过"}
        return self._incident("ObservationRecorded", on_16_october("15:20:30"), fields, over)

    def police_called(self, **over: Any) -> dict[str, Any]:
        fields = {"service": "police_110", "people": [GUAN], "description": "关锦康拨打110"}
        return self._incident("EmergencyServicesCalled", on_16_october("15:21:00"), fields, over)

    def ambulance_called(self, **over: Any) -> dict[str, Any]:
        fields = {"service": "ambulance_120", "people": [CHEN], "description": "陈奕高拨打120"}
        return self._incident("EmergencyServicesCalled", on_16_october("15:21:20"), fields, over)

    def reached_with_pole(self, **over: Any) -> dict[str, Any]:
        fields = {
            "action": "reach_with_pole",
            "people": [ZHOU],
            "description": "周立辉在附近小船上找到竹竿，判断水流方向后伸向溺水者",
        }
        return self._incident("RescueActionTaken", on_16_october("15:22:10"), fields, over)

    def helpers_joined(self, **over: Any) -> dict[str, Any]:
        fields = {"description": "身后的同事和途经的船民加入救援", "people": [GUAN, CHEN]}
        return self._incident("HelperJoined", on_16_october("15:24:00"), fields, over)

    def pulled_ashore(self, **over: Any) -> dict[str, Any]:
        fields = {
            "action": "pull_ashore",
            "people": [ZHOU, GUAN, CHEN],
            "description": "经过数分钟努力，将溺水者拖上岸",
        }
        return self._incident("RescueActionTaken", on_16_october("15:27:40"), fields, over)

    def handed_over(self, **over: Any) -> dict[str, Any]:
        fields = {"to": "开平市120急救中心救护车医护人员"}
        return self._incident("VictimHandedOver", on_16_october("15:31:00"), fields, over)

    def outcome(self, **over: Any) -> dict[str, Any]:
        fields = {"outcome": "recovered", "detail": "心肺复苏后逐渐恢复意识，送医院进一步救治"}
        return self._incident("OutcomeRecorded", on_16_october("15:40:00"), fields, over)

    def victim_details(self, **over: Any) -> dict[str, Any]:
        fields = {"name": "落水老人（姓名待家属确认）", "age": 68, "phone": "+86 750 000-0000"}
        return self._incident("VictimDetailsRecorded", on_16_october("15:45:00"), fields, over)

    def thanks(self, **over: Any) -> dict[str, Any]:
        fields = {
            "from": "获救者家属",
            "via": "赤坎派出所",
            "message": "我的父亲清醒后，第一时间想找到你们说一声感谢！",
        }
        return self._incident("ThanksReceived", "2025-10-28T10:00:00+08:00", fields, over)

    def correction(
        self, corrects: dict[str, Any], changes: dict[str, Any], **over: Any
    ) -> dict[str, Any]:
        fields = {
            "corrects_event_id": corrects["event_id"],
            "changes": changes,
            "reason": "班长核对通话记录后更正",
        }
        return self._incident("EntryCorrected", on_16_october("18:00:00"), fields, over)

    def reviewed(self, **over: Any) -> dict[str, Any]:
        fields = {"findings": "处置得当：先报警求救，再借助竹竿施救，未贸然下水"}
        return self._incident("IncidentReviewed", "2025-10-20T09:30:00+08:00", fields, over)

    def reopened(self, **over: Any) -> dict[str, Any]:
        fields = {"reason": "家属经派出所致谢，补充记录"}
        return self._incident("IncidentReopened", "2025-10-28T11:00:00+08:00", fields, over)

    # --- the commendation -------------------------------------------------

    def _commendation(
        self, kind: str, at: str, fields: dict[str, Any], over: dict[str, Any]
    ) -> dict[str, Any]:
        return make(kind, self.commendation_id, at, fields, over)

    def nominated(self, **over: Any) -> dict[str, Any]:
        fields = {
            "nominees": [ZHOU, GUAN, CHEN],
            "incident_id": self.incident_id,
            "citation": "巡线途中见义勇为，用竹竿救起潭江落水者",
        }
        at = "2025-10-29T09:00:00+08:00"
        return self._commendation("CommendationNominated", at, fields, over)

    def endorsed(self, **over: Any) -> dict[str, Any]:
        fields = {"note": "安监部核实属实，同意推荐"}
        at = "2025-10-30T09:00:00+08:00"
        return self._commendation("CommendationEndorsed", at, fields, over)

    def approved(self, **over: Any) -> dict[str, Any]:
        fields = {"award": "见义勇为先进个人"}
        at = "2025-11-05T09:00:00+08:00"
        return self._commendation("CommendationApproved", at, fields, over)

    def rejected(self, **over: Any) -> dict[str, Any]:
        fields = {"reason": "已由市里统一表彰，不重复表彰"}
        at = "2025-11-05T09:00:00+08:00"
        return self._commendation("CommendationRejected", at, fields, over)

    # --- the whole story --------------------------------------------------

    def rescue(self) -> list[dict[str, Any]]:
        """The incident's facts as the crew's tablet captured them, in order."""
        return [
            self.incident_opened(),
            self.sighting(),
            self.police_called(),
            self.ambulance_called(),
            self.reached_with_pole(),
            self.helpers_joined(),
            self.pulled_ashore(),
            self.handed_over(),
            self.outcome(),
        ]


@dataclass
class Collapse:
    """The second story: a visitor's cardiac arrest in the 赤坎华侨古镇 car park."""

    crew_id: str = SCENIC
    incident_id: str = field(default_factory=new_id)
    patrol_id: str = field(default_factory=new_id)

    def patrol_started(self, **over: Any) -> dict[str, Any]:
        fields = {"crew_id": self.crew_id, "line": "古镇景区巡查", "people": [ZHOU_WANG]}
        return make("PatrolStarted", self.patrol_id, on_16_october("09:00:00"), fields, over)

    def incident_opened(self, **over: Any) -> dict[str, Any]:
        fields = {
            "kind": "cardiac_arrest",
            "title": "游客在停车场突然晕倒",
            "crew_id": self.crew_id,
            "location": SCENIC_CAR_PARK,
        }
        return make("IncidentOpened", self.incident_id, on_16_october("10:02:00"), fields, over)

    def aed_shock(self, **over: Any) -> dict[str, Any]:
        fields = {
            "action": "aed_shock",
            "people": [CEN],
            "description": "岑旭敏从长盛旅店急救救护一体机取出AED，事发4分钟后到达并除颤",
        }
        at = on_16_october("10:06:00")
        return make("RescueActionTaken", self.incident_id, at, fields, over)
