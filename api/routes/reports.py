"""The recognition report for HR, as JSON, CSV or PDF."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import ActorDep, ReadModelDep
from api.params import WindowDep
from api.problems import ProblemError
from api.recognition_export import render
from api.recognition_pdf import MissingFontError
from api.responses import DirectJsonRoute

router = APIRouter(tags=["reports"], route_class=DirectJsonRoute)


@router.get("/v1/reports/recognition", response_model=None)
def recognition(
    request: Request,
    _: ActorDep,
    reads: ReadModelDep,
    window: WindowDep,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
) -> Any:
    """Rescues, thanks and commendations per person and crew over a period."""
    try:
        body, media_type = render(reads, window, format, request.app.state.fieldlog.settings.tz)
    except MissingFontError as e:
        raise ProblemError(503, str(e)) from None
    if isinstance(body, dict):
        return body
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="recognition.{format}"'},
    )
