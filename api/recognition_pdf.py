"""The recognition report as a PDF, with a CJK font embedded so Chinese names render
in any reader (a PDF that only names a CID font depends on the reader's fonts)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


HEADINGS = FontFace(emphasis="", fill_color=(230, 236, 245))


class MissingFontError(RuntimeError):
    """No CJK font to embed: say which package brings one."""


def cjk_font() -> Path:
    override = os.environ.get("FIELDLOG_PDF_FONT")
    for candidate in ((override,) if override else ()) + FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise MissingFontError(
        "PDF reports need a CJK font to embed: install the Debian package "
        "fonts-wqy-microhei, or set FIELDLOG_PDF_FONT to a .ttf/.ttc file"
    )


def _when(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return "…"
    return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d")


def recognition_pdf(report: dict[str, Any], approved: list[dict[str, Any]], tz: ZoneInfo) -> bytes:
    """Title, period, a table per crew, then each approved commendation with its citation
    and the incident it rests on."""
    pdf = FPDF(format="A4")
    pdf.add_font("cjk", "", str(cjk_font()))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, "见义勇为与表彰报告 · Recognition report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    period = f"{report['from'] or '…'} — {report['to'] or '…'}"
    pdf.cell(0, 7, f"期间 Period: {period}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    people_by_crew: dict[str | None, list[dict[str, Any]]] = {}
    for person in report["people"]:
        people_by_crew.setdefault(person["crew_id"], []).append(person)
    crews = {c["crew_id"]: c for c in report["crews"]}
    for crew_id in sorted(people_by_crew, key=lambda c: (c is None, c or "")):
        crew = crews.get(crew_id) if crew_id else None
        title = f"{crew['name']} ({crew_id})" if crew else "无班组 No crew"
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        if crew:
            pdf.set_font("cjk", size=9)
            pdf.cell(
                0,
                6,
                f"救援 rescues {crew['rescues']} · 表彰 approved {crew['commendations_approved']}"
                f" · 感谢 thanks {crew['thanks']}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        pdf.set_font("cjk", size=9)
        with pdf.table(
            col_widths=(40, 30, 22, 26, 26, 22), text_align="LEFT", headings_style=HEADINGS
        ) as table:
            table.row(
                (
                    "姓名 name",
                    "编号 id",
                    "救援 rescues",
                    "提名 nominated",
                    "批准 approved",
                    "感谢 thanks",
                )
            )
            for p in people_by_crew[crew_id]:
                table.row(
                    (
                        p["name"],
                        p["person_id"],
                        str(p["rescues"]),
                        str(p["commendations_nominated"]),
                        str(p["commendations_approved"]),
                        str(p["thanks"]),
                    )
                )
        pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "批准的表彰 Approved commendations", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    if not approved:
        pdf.cell(0, 6, "本期无 None in this period", new_x="LMARGIN", new_y="NEXT")
    for c in approved:
        pdf.multi_cell(
            0,
            5,
            f"{c['award']} — {', '.join(c['nominee_names'])}\n"
            f"事件 Incident: {c['incident_title']} ({_when(c['incident_opened_at'], tz)})\n"
            f"{c['citation']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
    return bytes(pdf.output())
