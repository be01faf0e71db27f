"""Liveness and Prometheus metrics (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import ReadModelDep
from projections.runner import ProjectionWorker

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(reads: ReadModelDep) -> dict[str, object]:
    """Liveness: the process answers and its store is reachable."""
    return {"status": "ok", "head_position": reads.head_position()}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> str:
    """Prometheus text: the log's head position, each projection's position and lag."""
    worker: ProjectionWorker = request.app.state.projections
    head = worker.head()
    lines = [
        "# HELP fieldlog_log_head_position Position of the newest event in the log.",
        "# TYPE fieldlog_log_head_position gauge",
        f"fieldlog_log_head_position {head}",
        "# HELP fieldlog_projection_position Last log position applied to a projection.",
        "# TYPE fieldlog_projection_position gauge",
    ]
    positions = worker.positions()
    lines += [f'fieldlog_projection_position{{projection="{n}"}} {p}' for n, p in positions.items()]
    lines += [
        "# HELP fieldlog_projection_lag Events in the log not yet applied to a projection.",
        "# TYPE fieldlog_projection_lag gauge",
    ]
    lines += [
        f'fieldlog_projection_lag{{projection="{n}"}} {max(head - p, 0)}'
        for n, p in positions.items()
    ]
    return "\n".join(lines) + "\n"
