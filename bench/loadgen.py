"""A lean HTTP/1.1 load client: N keep-alive connections to 127.0.0.1, each sending its
own pre-encoded requests one after the other, for a bounded time and count.

Hand-written on asyncio streams (uvloop when present) so that the client spends as
little of the two cores as possible: the server under test and its ceiling are driven
by the very same client, so whatever it costs weighs on both sides of a ratio.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson


@dataclass
class ClientWork:
    path: str
    bodies: Sequence[bytes]
    token: str | None = None


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, timed requests only
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)  # kept with keep_bodies
    dropped: int = 0  # connections the server closed before the run ended

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def encode(path: str, body: bytes, token: str | None, port: int) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    return head.encode() + b"\r\n" + body


def encode_get(path: str, token: str | None, port: int) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    return head.encode() + b"\r\n"


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        return status, b"".join(parts)
    return status, await reader.readexactly(length)


async def _client(
    port: int,
    work: ClientWork,
    warmup: int,
    deadline_box: list[float],
    start: asyncio.Event,
    ready: list[int],
    result: LoadResult,
    keep_bodies: bool,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        requests = [encode(work.path, b, work.token, port) for b in work.bodies]
        for request in requests[:warmup]:
            await exchange(reader, writer, request)
        ready[0] += 1
        await start.wait()
        for request in requests[warmup:]:
            if time.perf_counter() >= deadline_box[0]:
                break
            began = time.perf_counter()
            try:
                status, body = await exchange(reader, writer, request)
            except (ConnectionError, asyncio.IncompleteReadError) as e:
                # Counted as a failure of this run (its figure says FAILED), so one
                # server that drops a connection does not take the other figures with it.
                result.dropped += 1
                result.errors.append(f"the server closed the connection: {e!r}")
                break
            result.latencies.append(time.perf_counter() - began)
            result.statuses[status] += 1
            if keep_bodies:
                result.bodies.append(body)
            if status >= 300 and len(result.errors) < 5:
                result.errors.append(body[:300].decode(errors="replace"))
    finally:
        writer.close()


async def _run(
    port: int, works: Sequence[ClientWork], seconds: float, warmup: int, keep_bodies: bool
) -> LoadResult:
    result = LoadResult(seconds)
    start = asyncio.Event()
    deadline_box = [float("inf")]
    ready = [0]
    tasks = [
        asyncio.ensure_future(
            _client(port, w, warmup, deadline_box, start, ready, result, keep_bodies)
        )
        for w in works
    ]
    # Every connection is open and warm before the clock starts (bounded: 60 s).
    for _ in range(1200):
        if ready[0] == len(tasks) or any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.05)
    began = time.perf_counter()
    deadline_box[0] = began + seconds
    start.set()
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - began
    return result


def run_load(
    port: int,
    works: Sequence[ClientWork],
    seconds: float,
    warmup: int = 2,
    keep_bodies: bool = False,
) -> LoadResult:
    """Drive the clients for `seconds` (or until each runs out of requests)."""
    return _loop_run(_run(port, works, seconds, warmup, keep_bodies))


def _loop_run(coro: object) -> LoadResult:
    try:
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type,no-any-return]
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]


def get_json(port: int, path: str, token: str | None) -> tuple[int, object]:
    """One GET (outside any timing), decoded."""

    async def once() -> tuple[int, object]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            status, body = await exchange(reader, writer, encode_get(path, token, port))
        finally:
            writer.close()
        return status, orjson.loads(body) if body else None

    return asyncio.run(once())


def time_gets(port: int, paths: Sequence[str], token: str | None, max_seconds: float) -> LoadResult:
    """Sequential GETs on one keep-alive connection, each timed; bounded in time."""

    async def run() -> LoadResult:
        result = LoadResult(0.0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        began = time.perf_counter()
        try:
            for path in paths:
                if time.perf_counter() - began > max_seconds:
                    break
                t = time.perf_counter()
                status, body = await exchange(reader, writer, encode_get(path, token, port))
                result.latencies.append(time.perf_counter() - t)
                result.statuses[status] += 1
                if status >= 300 and len(result.errors) < 5:
                    result.errors.append(body[:300].decode(errors="replace"))
        finally:
            writer.close()
        result.seconds = time.perf_counter() - began
        return result

    return _loop_run(run())
