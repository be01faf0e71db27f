"""Timeline pages on SQLite are answered on the event loop (`api.loop_reads`): the hop to
a worker thread and back costs more than the read. The loop must never wait for the
views, though: when they are behind the log, the read is answered from the thread pool,
which waits for them, so a crew still reads its own writes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from incidents.config import Settings
from projections.projected import ProjectedReadModel
from tests.conftest import incident_opened, issue_tokens
from tests.conftest import test_settings as store_settings


def on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def where_read(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each crew timeline read, whether it ran on the event loop."""
    calls: list[bool] = []
    real = ProjectedReadModel.crew_timeline

    def recorded(self: ProjectedReadModel, *args: Any, **kwargs: Any) -> Any:
        calls.append(on_the_loop())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ProjectedReadModel, "crew_timeline", recorded)
    return calls


@pytest.fixture
def external_projections(settings: Settings) -> Iterator[TestClient]:
    """The API with its views kept by a worker it does not run (`FIELDLOG_PROJECTIONS=
    external`): they move only when the test catches them up."""
    from api.app import create_app
    from incidents.demo import load_demo

    with TestClient(
        create_app(store_settings(settings.db_url, FIELDLOG_PROJECTIONS="external"))
    ) as client:
        load_demo(client.app.state.fieldlog)  # type: ignore[attr-defined]
        client.app.state.projections.catch_up()  # type: ignore[attr-defined]
        yield client


def test_given_current_views_when_a_crew_reads_its_timeline_then_sqlite_answers_on_the_loop(
    external_projections: TestClient, where_read: list[bool], settings: Settings
) -> None:
    client = external_projections
    crew = issue_tokens(client.app.state.fieldlog)["crew"]  # type: ignore[attr-defined]
    page = client.get("/v1/crews/chikan-mv-om/timeline", headers=crew)
    assert page.status_code == 200
    assert page.json()["items"]
    assert where_read == [not settings.is_postgres]


def test_given_views_behind_when_a_crew_reads_its_own_write_then_the_pool_waits_not_the_loop(
    external_projections: TestClient, where_read: list[bool], settings: Settings
) -> None:
    # given a crew that has just opened an incident the views have not applied yet
    client = external_projections
    crew = issue_tokens(client.app.state.fieldlog)["crew"]  # type: ignore[attr-defined]
    incident_id = str(uuid4())
    opened = incident_opened(incident_id)
    assert client.post("/v1/events", json=opened, headers=crew).status_code == 201
    # (the worker applies it a moment later, while the read waits)
    worker = client.app.state.projections  # type: ignore[attr-defined]
    later = threading.Timer(0.3, worker.catch_up)
    later.start()
    # when the crew reads its timeline
    page = client.get("/v1/crews/chikan-mv-om/timeline", params={"limit": 1000}, headers=crew)
    later.join()
    # then the loop gave the read up (SQLite) and a worker thread waited for the views:
    # the new incident is on the page
    assert page.status_code == 200
    assert incident_id in {e["stream_id"] for e in page.json()["items"]}
    assert where_read == ([] if settings.is_postgres else [True]) + [False]


def test_only_a_plain_endpoint_taking_the_read_model_can_be_marked() -> None:
    from api.loop_reads import read_on_the_loop

    def no_reads(crew_id: str) -> None: ...

    async def not_plain(reads: object) -> None: ...

    for endpoint in (no_reads, not_plain):
        with pytest.raises(TypeError):
            read_on_the_loop(endpoint)
