"""The FastAPI application: one FieldLog per process, built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import openapi, pages, problems
from api.heap import freeze_startup_objects
from api.limits import BodyLimitMiddleware
from api.ratelimit import RateLimiter
from api.responses import OrjsonResponse
from api.routes import feed, filing, health, integrity, reading, registry, reports
from incidents.application import FieldLog
from incidents.config import Settings
from incidents.tokens import TokenBook
from projections.projected import ProjectedReadModel
from projections.runner import ProjectionWorker

DESCRIPTION = (
    "An event-sourced incident log for field-crew safety events. Every observation, "
    "rescue action and commendation is an immutable event."
)


def served_app() -> FastAPI:
    """The app as `fieldlog serve` runs it: a long-lived process, so its start-up
    objects are frozen out of the garbage collector's walks (`api.heap`)."""
    return create_app(freeze_heap=True)


def create_app(settings: Settings | None = None, freeze_heap: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fieldlog = FieldLog(settings or Settings.from_env())
        worker = ProjectionWorker(fieldlog)
        if fieldlog.settings.inline_projections:
            worker.start()
        app.state.fieldlog = fieldlog
        app.state.tokens = TokenBook(fieldlog.store)
        app.state.rate_limiter = RateLimiter(fieldlog.settings.rate_limit)
        app.state.projections = worker
        app.state.read_model = ProjectedReadModel(worker)
        if freeze_heap:
            freeze_startup_objects()
        try:
            yield
        finally:
            worker.stop()
            fieldlog.close()

    app = FastAPI(
        title="fieldlog",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
    )
    app.add_middleware(BodyLimitMiddleware)
    problems.install(app)
    for module in (health, registry, filing, reading, feed, reports, integrity):
        app.include_router(module.router)
    app.include_router(pages.router)
    openapi.install(app)
    logging.getLogger("fieldlog").setLevel(logging.INFO)
    return app
