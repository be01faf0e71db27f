"""API hardening: hashed, revocable, expiring tokens; a per-token write rate limit; CORS
closed; security headers on the pages; failed authentication logged without the token.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import api.ratelimit
import incidents.tokens
from api.app import create_app
from api.cli import cli
from api.ratelimit import RateLimiter
from incidents.application import FieldLog
from incidents.config import ConfigurationError, Settings
from incidents.demo import CARDIAC_ID, DROWNING_ID, load_demo
from incidents.store import TOKEN_TABLE
from incidents.tokens import TokenBook
from tests.conftest import assert_problem, head_position, issue_tokens, new_event
from tests.conftest import test_settings as store_settings

Tokens = dict[str, dict[str, str]]


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def fieldlog_of(client: TestClient) -> FieldLog:
    fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
    return fieldlog


@pytest.fixture
def bare(client: TestClient) -> Tokens:
    """A bearer header per role on an empty store (nothing to read but the empty lists)."""
    return issue_tokens(fieldlog_of(client))


def observation(
    stream_id: str = DROWNING_ID, description: str = "补充观察记录", **over: Any
) -> dict[str, Any]:
    return new_event("ObservationRecorded", stream_id, description=description, **over)


# --- tokens ---------------------------------------------------------------------------


def test_tokens_are_stored_only_as_their_hash(client: TestClient, bare: Tokens) -> None:
    rows = fieldlog_of(client).store.query(f"SELECT * FROM {TOKEN_TABLE}")
    stored = "\n".join(str(value) for row in rows for value in row.values())

    assert len(rows) >= len(bare)
    for headers in bare.values():
        token = token_of(headers)
        assert len(token) >= 40  # 256 random bits
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        assert client.get("/v1/incidents", headers=headers).status_code in (200, 403)


def test_cli_token_create_prints_a_working_token_that_is_stored_hashed(
    client: TestClient, bare: Tokens, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDLOG_DB", db_url)

    created = CliRunner().invoke(cli, ["token", "create", "--role", "safety", "--name", "desk-2"])

    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert (
        client.get("/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    rows = fieldlog_of(client).store.query(
        f"SELECT * FROM {TOKEN_TABLE} WHERE name = %s", ("desk-2",)
    )
    assert token not in str(rows)


def test_a_token_revoked_on_the_command_line_answers_401_at_once(
    client: TestClient, bare: Tokens, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDLOG_DB", db_url)
    assert client.get("/v1/incidents", headers=bare["crew"]).status_code == 200

    revoked = CliRunner().invoke(cli, ["token", "revoke", "test-crew"])

    assert revoked.exit_code == 0, revoked.output
    assert_problem(client.get("/v1/incidents", headers=bare["crew"]), 401)
    write = client.post("/v1/events", json=observation(), headers=bare["crew"])
    assert_problem(write, 401)
    assert client.get("/v1/incidents", headers=bare["safety"]).status_code == 200
    unknown = CliRunner().invoke(cli, ["token", "revoke", "no-such-token"])
    assert unknown.exit_code == 1


def test_a_token_answers_401_once_it_expires(
    client: TestClient, bare: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = TokenBook(fieldlog_of(client).store).create(
        "safety", name="short-lived", expires_in=timedelta(seconds=30)
    )
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get("/v1/incidents", headers=headers).status_code == 200

    class HalfAMinuteLater(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + timedelta(seconds=31)

    monkeypatch.setattr(incidents.tokens, "datetime", HalfAMinuteLater)

    assert_problem(client.get("/v1/incidents", headers=headers), 401)
    assert client.get("/v1/incidents", headers=bare["safety"]).status_code == 200


def test_a_token_whose_expiry_is_set_in_the_past_answers_401(
    client: TestClient, bare: Tokens
) -> None:
    store = fieldlog_of(client).store

    def expire(at: datetime) -> None:
        store.execute(
            f"UPDATE {TOKEN_TABLE} SET expires_at = %s WHERE name = %s",
            (at.isoformat(), "test-safety"),
        )

    expire(datetime.now(UTC) + timedelta(hours=1))
    assert client.get("/v1/incidents", headers=bare["safety"]).status_code == 200
    expire(datetime.now(UTC) - timedelta(seconds=1))
    assert_problem(client.get("/v1/incidents", headers=bare["safety"]), 401)


def test_a_401_never_echoes_the_token(client: TestClient, bare: Tokens) -> None:
    response = client.get("/v1/incidents", headers={"Authorization": "Bearer wrong-token-7f3a"})

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert "wrong-token-7f3a" not in response.text


# --- the write rate limit -----------------------------------------------------------------


@pytest.fixture
def limited(db_url: str) -> Iterator[tuple[TestClient, Tokens]]:
    """The demo stories behind FIELDLOG_RATE_LIMIT=5."""
    with TestClient(create_app(store_settings(db_url, FIELDLOG_RATE_LIMIT="5"))) as client:
        load_demo(fieldlog_of(client))
        yield client, issue_tokens(fieldlog_of(client))


def assert_rate_limited(response: Any) -> int:
    body = assert_problem(response, 429)
    assert "5" in body["detail"]
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 60
    return int(retry_after)


def test_the_sixth_write_in_a_minute_answers_429_with_retry_after(
    limited: tuple[TestClient, Tokens],
) -> None:
    client, tokens = limited
    for _ in range(5):
        response = client.post("/v1/events", json=observation(), headers=tokens["crew"])
        assert response.status_code == 201, response.text
    head = head_position(client)

    sixth = client.post("/v1/events", json=observation(), headers=tokens["crew"])

    assert_rate_limited(sixth)
    assert head_position(client) == head  # a refused request stores nothing


def test_reads_are_not_limited(limited: tuple[TestClient, Tokens]) -> None:
    client, tokens = limited
    for _ in range(5):
        client.post("/v1/events", json=observation(), headers=tokens["safety"])
    assert_rate_limited(client.post("/v1/events", json=observation(), headers=tokens["safety"]))

    for path in ("/v1/incidents", f"/v1/incidents/{DROWNING_ID}/events", "/v1/integrity") * 4:
        assert client.get(path, headers=tokens["safety"]).status_code == 200, path


def test_a_sync_batch_counts_once(limited: tuple[TestClient, Tokens]) -> None:
    client, tokens = limited
    for batch in range(5):
        events = [observation(description=f"batch {batch} event {n}") for n in range(4)]
        response = client.post(
            "/v1/sync", json={"device_id": "tablet-1", "events": events}, headers=tokens["crew"]
        )
        assert response.status_code == 200, response.text
        assert [r["result"] for r in response.json()["results"]] == ["stored"] * 4

    sixth = client.post(
        "/v1/sync",
        json={"device_id": "tablet-1", "events": [observation()]},
        headers=tokens["crew"],
    )

    assert_rate_limited(sixth)


def test_refused_writes_count_too(limited: tuple[TestClient, Tokens]) -> None:
    client, tokens = limited
    for _ in range(5):
        invalid = observation(description="")  # an empty description is invalid
        invalid["severity"] = "high"  # and a field the type does not define
        assert_problem(client.post("/v1/events", json=invalid, headers=tokens["crew"]), 422)

    assert_rate_limited(client.post("/v1/events", json=observation(), headers=tokens["crew"]))


def test_the_limit_is_per_token(
    limited: tuple[TestClient, Tokens],
) -> None:
    """The limit is per token: one tablet over its limit leaves the others writing."""
    client, tokens = limited
    for _ in range(5):
        client.post("/v1/events", json=observation(), headers=tokens["crew"])
    assert_rate_limited(client.post("/v1/events", json=observation(), headers=tokens["crew"]))

    for role, stream in (
        ("safety", DROWNING_ID),
        ("admin", DROWNING_ID),
        ("other_crew", CARDIAC_ID),
    ):
        response = client.post("/v1/events", json=observation(stream), headers=tokens[role])
        assert response.status_code == 201, (role, response.text)


def test_rate_limit_zero_turns_it_off(db_url: str) -> None:
    with TestClient(create_app(store_settings(db_url, FIELDLOG_RATE_LIMIT="0"))) as client:
        load_demo(fieldlog_of(client))
        tokens = issue_tokens(fieldlog_of(client))
        statuses = [
            client.post("/v1/events", json=observation(), headers=tokens["crew"]).status_code
            for _ in range(25)
        ]

    assert statuses == [201] * 25


def test_a_rate_limit_that_is_not_a_number_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="FIELDLOG_RATE_LIMIT"):
        Settings.from_env({"FIELDLOG_RATE_LIMIT": "lots"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(api.ratelimit, "time", fake)
    return fake


def test_the_limit_slides_over_the_last_minute(clock: Clock) -> None:
    limiter = RateLimiter(5)
    for _ in range(5):
        assert limiter.hit("tablet") is None
        clock.now += 1
    assert limiter.hit("tablet") is not None
    assert limiter.hit("other tablet") is None

    clock.now += 60

    assert limiter.hit("tablet") is None


def test_a_client_that_waits_retry_after_is_served(clock: Clock) -> None:
    """A tablet writing every 10 s with a limit of 5 a minute: refused at the sixth write,
    it waits the Retry-After it was given and sends again - and must be served."""
    limiter = RateLimiter(5)
    for _ in range(5):
        assert limiter.hit("tablet") is None
        clock.now += 10
    wait = limiter.hit("tablet")
    assert wait is not None

    for _ in range(3):  # a patient client, obeying each Retry-After in turn
        clock.now += int(RateLimiter.retry_after(wait))
        wait = limiter.hit("tablet")
        if wait is None:
            break

    assert wait is None


# --- CORS and page headers ---------------------------------------------------------------


def test_cors_is_closed_to_other_origins(client: TestClient, bare: Tokens) -> None:
    origin = {"Origin": "https://evil.example"}
    preflight = client.options(
        "/v1/events",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    read = client.get("/v1/incidents", headers={**origin, **bare["safety"]})
    health = client.get("/healthz", headers=origin)

    assert read.status_code == 200
    for response in (preflight, read, health):
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers
    assert "access-control-allow-methods" not in preflight.headers


def test_pages_carry_security_headers(tmp_path: Path) -> None:
    """The pages touch no store: one SQLite-backed app serves for both kinds."""
    with TestClient(create_app(store_settings(f"sqlite:///{tmp_path}/f.sqlite"))) as client:
        for page in ("/tablet", "/review", "/hr"):
            response = client.get(page)

            assert response.status_code == 200, page
            assert response.headers["content-type"].startswith("text/html")
            policy = response.headers["content-security-policy"]
            directives = {
                d.strip().split(" ", 1)[0]: d.strip() for d in policy.split(";") if d.strip()
            }
            assert directives["default-src"] == "default-src 'self'"
            assert "'unsafe-inline'" not in policy
            assert "'unsafe-eval'" not in policy
            assert "script-src" not in directives or "*" not in directives["script-src"]
            assert response.headers["x-content-type-options"] == "nosniff"
            framing = response.headers.get("x-frame-options", "").upper()
            assert framing == "DENY" or directives.get("frame-ancestors") == (
                "frame-ancestors 'none'"
            )


# --- failed authentication and authorisation are logged, without the token ---------------------


def auth_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fieldlog.auth"]


def test_failed_authentication_is_logged_without_the_token(
    client: TestClient, bare: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    bogus = "bogus-token-9d2c1e"
    with caplog.at_level(logging.WARNING, logger="fieldlog.auth"):
        assert client.get("/v1/incidents").status_code == 401
        assert (
            client.get("/v1/incidents", headers={"Authorization": f"Bearer {bogus}"}).status_code
            == 401
        )
        assert (
            client.get("/v1/incidents", headers={"Authorization": f"Basic {bogus}"}).status_code
            == 401
        )

    messages = auth_messages(caplog)
    assert len(messages) == 3
    assert all("authentication failed" in m for m in messages)
    assert all("/v1/incidents" in m for m in messages)
    logged = "\n".join(messages + [repr(r.args) for r in caplog.records])
    assert bogus not in logged


def test_refused_authorisation_is_logged_without_the_token(
    client: TestClient, bare: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fieldlog.auth"):
        assert client.get("/v1/integrity", headers=bare["crew"]).status_code == 403
        assert client.get("/v1/incidents", headers=bare["hr"]).status_code == 403
        assert client.post("/v1/people", json={}, headers=bare["safety"]).status_code == 403

    messages = auth_messages(caplog)
    assert any("crew:test-crew" in m and "/v1/integrity" in m for m in messages), messages
    assert any("hr:test-hr" in m and "/v1/incidents" in m for m in messages), messages
    assert any("safety:test-safety" in m and "/v1/people" in m for m in messages), messages
    assert all("authorisation refused" in m for m in messages)
    logged = "\n".join(messages + [repr(r.args) for r in caplog.records])
    for headers in bare.values():
        assert token_of(headers) not in logged


def test_a_forbidden_event_type_is_logged_as_a_refused_authorisation(
    client: TestClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fieldlog.auth"):
        hr_write = client.post("/v1/events", json=observation(), headers=tokens["hr"])
        crew_review = client.post(
            "/v1/events",
            json=new_event("IncidentReviewed", DROWNING_ID, findings="自己审自己"),
            headers=tokens["crew"],
        )

    assert_problem(hr_write, 403)
    assert_problem(crew_review, 403)
    messages = auth_messages(caplog)
    assert any("hr:test-hr" in m for m in messages), messages
    assert any("crew:test-crew" in m for m in messages), messages
    logged = "\n".join(messages)
    for headers in tokens.values():
        assert token_of(headers) not in logged


def test_a_rate_limited_request_is_logged_without_the_token(
    limited: tuple[TestClient, Tokens], caplog: pytest.LogCaptureFixture
) -> None:
    client, tokens = limited
    with caplog.at_level(logging.WARNING, logger="fieldlog.auth"):
        for _ in range(6):
            client.post("/v1/events", json=observation(), headers=tokens["crew"])

    messages = auth_messages(caplog)
    assert any("rate limit" in m and "crew:test-crew" in m for m in messages), messages
    assert token_of(tokens["crew"]) not in "\n".join(messages)
