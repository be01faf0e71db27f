"""Bounded reads answered on the event loop where the store is a local SQLite file.

FastAPI runs a plain `def` route in its thread pool. For a page read from SQLite's cache
the hop there and back costs more than it saves: measured in process on the 1,000,000-
event log, a crew's timeline page took 3.1-3.5 ms of CPU through the pool and 2.0-2.8 ms
answered on the loop (the read itself ~2 ms either way). On PostgreSQL a read waits on
the network, so it stays in the pool, where the loop serves others meanwhile.

Only routes marked `@read_on_the_loop` are answered so: one indexed read of the views,
bounded by the page size (never a report, an export or a whole-log walk). And the loop
never waits for the views to catch up: if they are behind the log's head, the read is
given up and answered from the pool, which waits as every read does (read-your-writes).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from projections.projected import ViewsBehindError, without_waiting
from projections.queries import ReadModel

F = TypeVar("F", bound=Callable[..., Any])
MARK = "_fieldlog_read_on_the_loop"


def read_on_the_loop(endpoint: F) -> F:
    """Mark a `def` GET endpoint taking `reads: ReadModelDep` whose work is one bounded
    read of the views."""
    if (
        inspect.iscoroutinefunction(endpoint)
        or "reads" not in inspect.signature(endpoint).parameters
    ):
        raise TypeError(f"{endpoint.__name__}: a plain `def` endpoint taking `reads` is needed")
    setattr(endpoint, MARK, True)
    return endpoint


def marked(endpoint: Callable[..., Any]) -> bool:
    return bool(getattr(endpoint, MARK, False))


def answered_on_the_loop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def answer(*args: Any, **kwargs: Any) -> Any:
        reads: ReadModel = kwargs["reads"]
        if reads.answers_on_the_loop:
            try:
                with without_waiting():
                    return endpoint(*args, **kwargs)
            except ViewsBehindError:
                pass  # the views are catching up: wait for them in the pool
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return answer
