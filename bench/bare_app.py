"""The ceiling of the ingest and sync benchmarks: eventsourcing's `Application.save`,
with nothing of fieldlog around it.

`Entry` is the smallest aggregate there is: one event that carries what the tablet sent.
`BareLog` is a stock eventsourcing Application on the same store with the same
settings as fieldlog's (SQLite in WAL mode with its default `synchronous=FULL`, or
PostgreSQL), but the library's own recorder: no client-id table, no integrity chain,
no sealing. Saving one `Entry` per event is the least any event-sourced write can do.

Run as a module it serves that save over HTTP (`POST /v1/events`, `POST /v1/sync`)
with the same FastAPI and uvicorn settings as `fieldlog serve` (start-up objects frozen
out of the garbage collector's walks too): no authentication, no
validation, no decision, no idempotency look-up.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import InternalError
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from api.heap import freeze_startup_objects
from api.responses import OrjsonResponse
from incidents.config import postgres_env, sqlite_env


class Entry(Aggregate):
    @event("Filed")
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw


class BareLog(Application[UUID]):
    name = "BareLog"


def bare_env(db_url: str) -> dict[str, str]:
    is_pg = db_url.startswith(("postgresql://", "postgres://"))
    env = postgres_env(db_url) if is_pg else sqlite_env(db_url)
    env.pop("APPLICATION_RECORDER_TOPIC")
    return env


def open_bare(db_url: str) -> BareLog:
    """With `--workers 2` both workers create the library's tables and functions at once,
    which PostgreSQL can refuse ("tuple concurrently updated"): try again."""
    for attempt in range(10):
        try:
            return BareLog(env=bare_env(db_url))
        except InternalError:
            if attempt == 9:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def create_app() -> FastAPI:
    state: dict[str, BareLog] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["log"] = open_bare(os.environ["FIELDLOG_DB"])
        freeze_startup_objects()  # as `fieldlog serve` does
        try:
            yield
        finally:
            state["log"].close()

    app = FastAPI(lifespan=lifespan, default_response_class=OrjsonResponse)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def save_one(raw: dict[str, Any]) -> int:
        recordings = state["log"].save(Entry(raw))
        return recordings[-1].notification.id

    def save_many(raws: list[dict[str, Any]]) -> list[int]:
        recordings = state["log"].save(*(Entry(raw) for raw in raws))
        return [r.notification.id for r in recordings]

    @app.post("/v1/events", status_code=201)
    async def file_event(request: Request) -> Any:
        raw = orjson.loads(await request.body())
        position = await run_in_threadpool(save_one, raw)
        return {"event_id": raw.get("event_id"), "result": "stored", "position": position}

    @app.post("/v1/sync")
    async def sync(request: Request) -> Any:
        body = orjson.loads(await request.body())
        positions = await run_in_threadpool(save_many, body["events"])
        return {"results": [{"result": "stored", "position": p} for p in positions]}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.bare_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
