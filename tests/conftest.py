"""Fixtures shared by every suite: one fresh store per test, on SQLite and PostgreSQL.

PostgreSQL runs when FIELDLOG_TEST_POSTGRES holds a URL (CI always sets it); each
test then gets an empty schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from incidents.application import FieldLog
from incidents.config import Settings
from incidents.roles import Actor

if TYPE_CHECKING:
    from tests.scenario import Drowning

POSTGRES_URL = os.environ.get("FIELDLOG_TEST_POSTGRES", "")
# PostgreSQL needs a shared master secret; real server processes inherit this one.
TEST_SECRET_KEY = "ZmllbGRsb2ctdGVzdC1zZWNyZXQta2V5LTMyYnl0ZXM="
os.environ.setdefault("FIELDLOG_SECRET_KEY", TEST_SECRET_KEY)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

ADMIN = Actor("admin", "test-admin")
SAFETY = Actor("safety", "test-safety")
HR = Actor("hr", "test-hr")
CHIKAN = Actor("crew", "chikan-tablet", "chikan-mv")
OTHER_CREW = Actor("crew", "scenic-tablet", "scenic-staff")


def reset_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def test_settings(url: str, **more: str) -> Settings:
    """Settings for a test store: the URL, the shared test secret, and any extra variables."""
    return Settings.from_env(
        {"FIELDLOG_DB": url, "FIELDLOG_SECRET_KEY": os.environ["FIELDLOG_SECRET_KEY"], **more}
    )


@pytest.fixture(params=STORES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/fieldlog.sqlite"
    if not POSTGRES_URL:
        pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[FieldLog]:
    application = FieldLog(settings)
    yield application
    application.close()


@pytest.fixture
def handed_over(app: FieldLog) -> Drowning:
    """The 潭江 rescue filed through `app` up to the handover: the incident is at
    version 8, and `app` has it cached there."""
    from tests.scenario import Drowning, given, register_seed  # it imports this module

    register_seed(app)
    drowning = Drowning()
    given(app, *drowning.rescue()[:-1])
    return drowning


@pytest.fixture
def other_process(settings: Settings) -> Iterator[FieldLog]:
    """A second FieldLog on the same store, as in another server process."""
    second = FieldLog(settings)
    yield second
    second.close()


# --- HTTP API ----------------------------------------------------------------------

from typing import Any  # noqa: E402 (appended section)

from fastapi.testclient import TestClient  # noqa: E402

TOKEN_ROLES: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "safety": ("safety", None),
    "hr": ("hr", None),
    "crew": ("crew", "chikan-mv-om"),  # the drowning story's crew (demo.CHIKAN_MV)
    "other_crew": ("crew", "chikan-scenic"),  # the cardiac-arrest story's crew
}


def issue_tokens(fieldlog: FieldLog) -> dict[str, dict[str, str]]:
    """One bearer header per key of TOKEN_ROLES (the crews must be registered)."""
    from incidents.tokens import TokenBook

    book = TokenBook(fieldlog.store)
    headers = {}
    for key, (role, crew_id) in TOKEN_ROLES.items():
        issued = book.create(role, crew_id=crew_id, name=f"test-{key}")
        headers[key] = {"Authorization": f"Bearer {issued.token}"}
    return headers


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The API on an empty store of each kind; the lifespan runs (builds the FieldLog)."""
    from api.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def tokens(client: TestClient) -> dict[str, dict[str, str]]:
    """The demo stories loaded, and a bearer header per role: admin, safety, hr, crew
    (bound to chikan-mv-om, the drowning story) and other_crew (chikan-scenic)."""
    from incidents.demo import load_demo

    fieldlog = client.app.state.fieldlog  # type: ignore[attr-defined]
    load_demo(fieldlog)
    return issue_tokens(fieldlog)


@pytest.fixture(scope="module", params=STORES)
def demo_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """One demo store per module and store kind, for suites of many read-only cases
    (or writes that leave the stories as they were, such as duplicates).

    A module using it must not also use the function-scoped `db_url`/`client`
    fixtures: with PostgreSQL they reset the same schema.
    """
    from api.app import create_app
    from incidents.demo import load_demo

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo-api')}/fieldlog.sqlite"
    else:
        if not POSTGRES_URL:
            pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    with TestClient(create_app(test_settings(url))) as test_client:
        fieldlog = test_client.app.state.fieldlog  # type: ignore[attr-defined]
        load_demo(fieldlog)
        yield test_client, issue_tokens(fieldlog)


def new_event(
    event_type: str, stream_id: str, occurred_at: str = "2025-10-16T15:35:00+08:00", **payload: Any
) -> dict[str, Any]:
    """A raw event as a tablet sends it, with a fresh `event_id` (`from` via **{"from": …})."""
    from uuid import uuid4

    return {
        "event_id": str(uuid4()),
        "type": event_type,
        "stream_id": stream_id,
        "occurred_at": occurred_at,
        **payload,
    }


def incident_opened(
    stream_id: str,
    kind: str = "fall",
    title: str = "巡视途中有人从堤岸跌落",
    place: str = "江南路堤岸",
) -> dict[str, Any]:
    """The drowning crew's tablet opening an incident (by default: someone fell from the
    embankment)."""
    return new_event(
        "IncidentOpened",
        stream_id,
        kind=kind,
        title=title,
        crew_id="chikan-mv-om",
        location={"place": place},
    )


def assert_problem(response: Any, status: int, *, event: bool = False) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; answers its body.

    `event=True` also wants the event error members: event_id, stream_id and result."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert "Traceback" not in response.text
    if event:
        assert {"event_id", "stream_id", "result"} <= body.keys(), body
        assert body["result"] in ("conflict", "invalid")
    return body


def head_position(test_client: TestClient) -> int:
    """The log's head position, from the unauthenticated liveness probe."""
    response = test_client.get("/healthz")
    assert response.status_code == 200
    position: int = response.json()["head_position"]
    return position
