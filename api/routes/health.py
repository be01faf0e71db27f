"""Liveness and Prometheus metrics (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from api.deps import ReadModelDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(reads: ReadModelDep) -> dict[str, object]:
    """Liveness: the process answers and its store is reachable."""
    return {"status": "ok", "head_position": reads.head_position()}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(reads: ReadModelDep) -> str:
    """Prometheus text: the log's head position."""
    head = reads.head_position()
    return (
        "# HELP fieldlog_log_head_position Position of the newest event in the log.\n"
        "# TYPE fieldlog_log_head_position gauge\n"
        f"fieldlog_log_head_position {head}\n"
    )
