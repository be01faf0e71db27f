"""The global feed for the safety office: after a position, or live as Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ActorDep, ReadModelDep
from api.params import parse_limit
from api.problems import ProblemError
from api.responses import DirectJsonRoute
from incidents.roles import Actor
from projections.paging import encode_cursor, plain_number
from projections.queries import ReadModel

router = APIRouter(tags=["feed"], route_class=DirectJsonRoute)
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0


def parse_position(raw: str | None, name: str) -> int:
    if raw is None or raw == "":
        return 0
    if not plain_number(raw):
        raise ProblemError(400, f"parameter `{name}`: a position, a whole number from 0")
    return int(raw)


@router.get("/v1/feed")
def feed(
    actor: ActorDep,
    reads: ReadModelDep,
    after: Annotated[str | None, Query(description="position to read after (default 0)")] = None,
    limit: str | None = None,
    cursor: str | None = None,
) -> Any:
    """All events in global order after a position."""
    start = parse_position(after, "after")
    if cursor is not None:
        from projections.paging import BadCursorError, decode_cursor

        try:
            start = decode_cursor(cursor)
        except BadCursorError as e:
            raise ProblemError(400, f"parameter `cursor`: {e}") from None
    size = parse_limit(limit)
    items = reads.feed(start, size, actor)
    more = len(items) == size and items[-1]["position"] < reads.head_position()
    return {"items": items, "next_cursor": encode_cursor(items[-1]["position"]) if more else None}


@router.get("/v1/feed/stream")
async def feed_stream(
    request: Request,
    actor: ActorDep,
    reads: ReadModelDep,
    after: str | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events: `id:` position, `event:` type, `data:` the stored event."""
    start = parse_position(last_event_id or after, "Last-Event-ID" if last_event_id else "after")
    return StreamingResponse(
        _events(request, reads, actor, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, reads: ReadModel, actor: Actor, position: int
) -> AsyncIterator[bytes]:
    yield b": fieldlog feed\n\n"
    idle = 0.0
    while not await request.is_disconnected():
        items = await run_in_threadpool(reads.feed, position, 500, actor)
        for item in items:
            position = item["position"]
            yield (
                f"id: {position}\nevent: {item['type']}\n".encode()
                + b"data: "
                + orjson.dumps(item)
                + b"\n\n"
            )
        if items:
            idle = 0.0
            continue
        await asyncio.sleep(POLL_SECONDS)
        idle += POLL_SECONDS
        if idle >= HEARTBEAT_SECONDS:
            idle = 0.0
            yield b": keep-alive\n\n"
