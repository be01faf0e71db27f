"""The recognition report in the formats HR downloads: JSON, CSV (Excel-friendly), PDF."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from api.recognition_pdf import recognition_pdf
from incidents.roles import Actor
from projections.queries import ReadModel
from projections.window import Window

PEOPLE_COLUMNS = (
    "person_id",
    "name",
    "crew_id",
    "rescues",
    "commendations_nominated",
    "commendations_approved",
    "thanks",
)
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}
REPORTER = Actor("admin", "recognition-report")


def recognition_csv(report: dict[str, Any]) -> bytes:
    """The people rows, UTF-8 with a BOM so Excel shows Chinese names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PEOPLE_COLUMNS)
    for row in report["people"]:
        writer.writerow(["" if row[c] is None else row[c] for c in PEOPLE_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def approved_in(reads: ReadModel, window: Window, names: dict[str, str]) -> list[dict[str, Any]]:
    """Approved commendations decided in the window, with the incident they rest on."""
    found = []
    for c in reads.commendations(REPORTER):
        if c["status"] != "approved" or not window.holds(datetime.fromisoformat(c["decided_at"])):
            continue
        incident = reads.incident(UUID(c["incident_id"]), REPORTER) or {}
        found.append(
            {
                **c,
                "nominee_names": [names.get(p, p) for p in c["nominees"]],
                "incident_title": incident.get("title", c["incident_id"]),
                "incident_opened_at": incident.get("opened_at"),
            }
        )
    return sorted(found, key=lambda c: c["decided_at"])


def render(
    reads: ReadModel, window: Window, fmt: str, tz: ZoneInfo
) -> tuple[bytes | dict[str, Any], str]:
    """The report in `fmt`: a dict for JSON, bytes for CSV and PDF; and its media type."""
    report = reads.recognition(window)
    if fmt == "csv":
        return recognition_csv(report), MEDIA_TYPES["csv"]
    if fmt == "pdf":
        names = {p["person_id"]: p["name"] for p in report["people"]}
        return recognition_pdf(report, approved_in(reads, window, names), tz), MEDIA_TYPES["pdf"]
    return report, MEDIA_TYPES["json"]
