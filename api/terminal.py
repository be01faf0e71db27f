"""Rendering for the terminal: an incident's replay as a readable timeline, in zh or en."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

TYPE_LABELS: dict[str, tuple[str, str]] = {
    "IncidentOpened": ("事件开始", "Incident opened"),
    "ObservationRecorded": ("现场观察", "Observation"),
    "EmergencyServicesCalled": ("呼叫救援", "Emergency services called"),
    "RescueActionTaken": ("救援行动", "Rescue action"),
    "HelperJoined": ("他人协助", "Helpers joined"),
    "VictimHandedOver": ("移交伤者", "Victim handed over"),
    "OutcomeRecorded": ("结果", "Outcome"),
    "VictimDetailsRecorded": ("伤者信息", "Victim details"),
    "ThanksReceived": ("收到感谢", "Thanks received"),
    "EntryCorrected": ("更正", "Correction"),
    "IncidentReviewed": ("安全审查", "Reviewed"),
    "IncidentReopened": ("重新打开", "Reopened"),
    "PersonalDataErased": ("个人数据已删除", "Personal data erased"),
}
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "police_110": ("报警 110", "police 110"),
    "ambulance_120": ("急救 120", "ambulance 120"),
    "fire_119": ("消防 119", "fire 119"),
    "reach_with_pole": ("竹竿施救", "reached with a pole"),
    "throw_flotation": ("抛救生物", "threw flotation"),
    "enter_water": ("下水施救", "entered the water"),
    "pull_ashore": ("拖上岸", "pulled ashore"),
    "cpr_started": ("心肺复苏", "CPR started"),
    "aed_shock": ("AED 除颤", "AED shock"),
    "first_aid": ("急救", "first aid"),
    "recovered": ("已恢复", "recovered"),
    "hospitalised": ("已住院", "hospitalised"),
    "deceased": ("死亡", "deceased"),
    "unknown": ("未知", "unknown"),
    "drowning": ("溺水", "drowning"),
    "cardiac_arrest": ("心脏骤停", "cardiac arrest"),
    "estimated": ("估计", "estimated"),
    "measured": ("", ""),
    "other": ("其他", "other"),
}
INTERVAL_LABELS: dict[str, tuple[str, str]] = {
    "to_first_call_s": ("至首次呼叫", "to first call"),
    "to_first_action_s": ("至首次施救", "to first action"),
    "to_out_of_danger_s": ("至脱离危险", "to out of danger"),
    "to_handover_s": ("至移交", "to handover"),
    "to_cpr_s": ("至心肺复苏 (Utstein)", "to CPR (Utstein)"),
    "to_first_shock_s": ("至首次除颤 (Utstein)", "to first shock (Utstein)"),
}
HEADERS = {
    "zh": ("版本", "发生时间", "事件", "内容", "记录人"),
    "en": ("v", "occurred", "event", "what", "recorded by"),
}


def label(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def summary(event: dict[str, Any], lang: str) -> str:
    kind = event["type"]
    parts: list[str] = []
    for field in ("title", "service", "action", "outcome", "to", "from", "findings", "reason"):
        if event.get(field):
            parts.append(label(VALUE_LABELS, str(event[field]), lang))
    if event.get("people"):
        parts.append("(" + ", ".join(event["people"]) + ")")
    for field in ("description", "detail", "message", "via"):
        if event.get(field):
            parts.append(str(event[field]))
    if kind == "EntryCorrected":
        changes = ", ".join(f"{k} → {v}" for k, v in event["changes"].items())
        target = event["corrects_event_id"][:8]
        parts.insert(0, f"{target}: {changes}")
    if kind == "VictimDetailsRecorded":
        parts.append(str(event.get("name") or event.get("personal_data", "")))
    return " ".join(p for p in parts if p)


def local_time(value: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(value).astimezone(tz).strftime("%m-%d %H:%M:%S")


def render_replay(replay: dict[str, Any], lang: str, tz: ZoneInfo) -> Group:
    head = HEADERS[lang]
    table = Table(title=replay["steps"][0]["state"]["title"] if replay["steps"] else "")
    for column in head:
        table.add_column(column)
    corrected = {
        s["event"]["corrects_event_id"]
        for s in replay["steps"]
        if s["event"]["type"] == "EntryCorrected"
    }
    for step in replay["steps"]:
        event = step["event"]
        when = local_time(event["occurred_at"], tz)
        if event["time_certainty"] != "measured":
            when += " ~"
        name = label(TYPE_LABELS, event["type"], lang)
        if event["event_id"] in corrected:
            name += " *"
        table.add_row(str(step["version"]), when, name, summary(event, lang), event["recorded_by"])
    intervals = Table(title="标准间隔" if lang == "zh" else "Standard intervals")
    intervals.add_column("")
    intervals.add_column("s" if lang == "en" else "秒", justify="right")
    for key, value in replay["intervals"].items():
        if value is None:
            continue
        certainty = replay["interval_certainty"].get(key, "measured")
        mark = f" ({label(VALUE_LABELS, certainty, lang)})" if certainty != "measured" else ""
        intervals.add_row(label(INTERVAL_LABELS, key, lang), f"{value}{mark}")
    note = Text(
        "~ 估计时间；* 已被更正" if lang == "zh" else "~ estimated time; * later corrected",
        style="dim",
    )
    return Group(table, note, intervals)


def print_replay(replay: dict[str, Any], lang: str, tz: ZoneInfo, console: Console) -> None:
    console.print(render_replay(replay, lang, tz))
