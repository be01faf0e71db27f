"""The recognition report for HR, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import ActorDep, ReadModelDep
from api.params import WindowDep

router = APIRouter(tags=["reports"])
PEOPLE_COLUMNS = (
    "person_id",
    "name",
    "crew_id",
    "rescues",
    "commendations_nominated",
    "commendations_approved",
    "thanks",
)


def recognition_csv(report: dict[str, Any]) -> bytes:
    """The people rows, UTF-8 with a BOM so Excel shows Chinese names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PEOPLE_COLUMNS)
    for row in report["people"]:
        writer.writerow(["" if row[c] is None else row[c] for c in PEOPLE_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get("/v1/reports/recognition", response_model=None)
def recognition(
    _: ActorDep,
    reads: ReadModelDep,
    window: WindowDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Rescues, thanks and commendations per person and crew over a period."""
    report = reads.recognition(window)
    if format == "csv":
        return Response(
            recognition_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="recognition.csv"'},
        )
    return report
