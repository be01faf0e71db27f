"""Request-body limits, enforced before a body is parsed.

FastAPI applies no body limit by itself, so this ASGI middleware refuses an
oversized body from its Content-Length, or while it streams in, with 413.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

MIB = 1024 * 1024
DEFAULT_LIMIT = 1 * MIB
SYNC_LIMIT = 8 * MIB


class BodyTooLargeError(Exception):
    pass


def limit_for(path: str) -> int:
    return SYNC_LIMIT if path.rstrip("/") == "/v1/sync" else DEFAULT_LIMIT


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not response_started:
                await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            413, f"the request body is over the limit of {limit // MIB} MiB for {scope['path']}"
        )
        await response(scope, receive, send)
