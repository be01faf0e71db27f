"""Fuzzing the HTTP API from its own OpenAPI document (schemathesis), for every role.

Given the app under a TestClient (the lifespan runs), the demo stories loaded and a
token per role (admin, safety, hr, both crews) plus no token at all, every operation
of /openapi.json (but the endless SSE stream) is called with the schema's own
examples, with schema-valid data (positive) and with schema-breaking data
(negative); every generated request is sent once per role. Every answer must hold:

- no 5xx, ever (schemathesis' `not_a_server_error`);
- responses conform to the document where it documents them (schemathesis'
  `response_schema_conformance`, `response_headers_conformance`, and
  `content_type_conformance` except for the report, whose CSV/PDF variants are not
  documented);
- status codes conform to the contract: a documented status, or one of the
  contract's error statuses (400, 401, 403, 404, 409, 413, 422, 429), and then an
  RFC 9457 `application/problem+json` with `title`, `status` (the same) and `detail`,
  and no stack trace. (schemathesis' own `status_code_conformance` is not used: the
  document does not list the 4xx answers of most operations; see the module's
  report for the lead);
- deny by default: without a token every /v1 operation answers 401; a role never
  gets a 2xx where the contract's role table gives it nothing; a crew token's 2xx
  answers only ever hold its own crew's items; and the victim's personal data
  never reaches a role other than safety and admin.

The runs are bounded and derandomized for CI: see EXAMPLES.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)

from api.app import create_app
from incidents.demo import load_demo
from tests.conftest import TOKEN_ROLES, issue_tokens
from tests.conftest import test_settings as store_settings

pytestmark = pytest.mark.slow

# The document itself needs no store: it is built from the routes.
DOCUMENT = create_app().openapi()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
SKIPPED = {"GET /v1/feed/stream"}  # an endless Server-Sent Events stream
OPERATIONS = [op for op in (r.ok() for r in SCHEMA.get_all_operations()) if op.label not in SKIPPED]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
BASE_URL = "http://testserver"
CONTRACT_ERRORS = {400, 401, 403, 404, 409, 413, 422, 429}
# Every generated request is sent as each role, with no token, and with a forged one
# (the Authorization header schemathesis generated, or a made-up bearer token).
ROLES = (*TOKEN_ROLES, "anonymous", "forged")

CREW_OF = {key: crew for key, (role, crew) in TOKEN_ROLES.items() if role == "crew"}
REGISTRY_WRITES = {
    "POST /v1/people",
    "POST /v1/crews",
    "POST /v1/crews/{crew_id}/members",
    "DELETE /v1/crews/{crew_id}/members/{person_id}",
}
INCIDENT_READS = {
    "GET /v1/patrols",
    "GET /v1/patrols/{patrol_id}",
    "GET /v1/incidents",
    "GET /v1/incidents/{incident_id}",
    "GET /v1/incidents/{incident_id}/events",
    "GET /v1/incidents/{incident_id}/replay",
    "GET /v1/crews/{crew_id}/timeline",
}
OFFICE_READS = {"GET /v1/feed", "GET /v1/integrity"}
PEOPLE_READS = {
    "GET /v1/people",
    "GET /v1/people/{person_id}",
    "GET /v1/people/{person_id}/timeline",
    "GET /v1/reports/recognition",
}
# Operations where the contract's role table gives a role nothing: never a 2xx.
NEVER_2XX: dict[str, set[str]] = {
    "admin": set(),
    "safety": REGISTRY_WRITES,
    "hr": REGISTRY_WRITES | INCIDENT_READS | OFFICE_READS,
    "crew": REGISTRY_WRITES
    | OFFICE_READS
    | PEOPLE_READS
    | {"GET /v1/incidents/{incident_id}/replay"},
}
NEVER_2XX["other_crew"] = NEVER_2XX["crew"]
# The demo victim's details (incidents.demo): only safety and admin may ever see them.
VICTIM_DETAILS = ("潭江落水者（化名）", "+86 000 0000 0000")
UNDOCUMENTED_CONTENT_TYPES = {"GET /v1/reports/recognition"}  # CSV and PDF variants


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """The API on a demo store (SQLite), with a header per role and none for anonymous."""
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = store_settings(f"sqlite:///{workdir}/fieldlog.sqlite", FIELDLOG_RATE_LIMIT="0")
    with TestClient(create_app(settings_), base_url=BASE_URL) as client:
        fieldlog = client.app.state.fieldlog  # type: ignore[attr-defined]
        load_demo(fieldlog)
        headers = issue_tokens(fieldlog)
        headers["anonymous"] = {}
        headers["forged"] = {}  # filled from each case
        yield client, headers


TALLY: Counter[tuple[str, int]] = Counter()


def check_contract(label: str, role: str, response: Any) -> None:
    """What the contract asks of every answer, beyond the document."""
    status = response.status_code
    TALLY[(role, status)] += 1
    assert status < 500, f"{label} as {role}: {status} {response.text[:500]}"
    if label.startswith(("GET /v1", "POST /v1", "DELETE /v1")) and role in ("anonymous", "forged"):
        assert status == 401, f"{label} with a {role} token answered {status}"
    if status >= 400:
        assert status in CONTRACT_ERRORS, f"{label} as {role}: {status} is not a contract status"
        assert response.headers["content-type"].startswith("application/problem+json"), (
            label,
            role,
            status,
            response.headers["content-type"],
        )
        body = response.json()
        assert body["status"] == status, (label, role, body)
        assert isinstance(body["title"], str)
        assert body["title"]
        assert isinstance(body["detail"], str)
        assert body["detail"]
        assert "Traceback" not in response.text
        return
    assert label not in NEVER_2XX.get(role, set()), f"{label} answered {status} to {role}"
    if role not in ("safety", "admin"):
        for detail in VICTIM_DETAILS:
            assert detail not in response.text, f"{label} showed personal data to {role}"
    if role in CREW_OF and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        items = body.get("items") if isinstance(body, dict) else None
        for item in items if isinstance(items, list) else [body]:
            if isinstance(item, dict) and "crew_id" in item and label != "POST /v1/sync":
                assert item["crew_id"] == CREW_OF[role], f"{label} showed {role} another crew"


def forged_authorization(case: Any) -> str:
    generated = (case.headers or {}).get("Authorization")
    if isinstance(generated, str) and generated.isascii() and generated.isprintable():
        return generated
    return "Bearer not-a-token-this-server-gave-out"


def send(client: TestClient, case: Any, role: str, headers: dict[str, str]) -> Any:
    """The case as `role` sends it: its own bearer token (or none, or a forged one)
    in place of any Authorization header schemathesis generated."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    sent = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
    if role == "forged":
        sent["Authorization"] = forged_authorization(case)
    kwargs["headers"] = sent | headers
    kwargs.pop("verify", None)
    if "data" in kwargs:  # requests' raw body is httpx's `content`
        kwargs["content"] = kwargs.pop("data")
    return client.request(**kwargs)


def checks_for(label: str, status: int) -> list[Any]:
    """schemathesis' checks that apply: the document describes the 2xx answers; its
    4xx entries are FastAPI's defaults (a JSON `HTTPValidationError` for 422) while the
    API answers RFC 9457 problems, which `check_contract` checks instead."""
    if status >= 400:
        return [not_a_server_error]
    checks = [not_a_server_error, response_schema_conformance, response_headers_conformance]
    if label not in UNDOCUMENTED_CONTENT_TYPES:
        checks.append(content_type_conformance)
    return checks


def run_case(client: TestClient, headers: dict[str, dict[str, str]], case: Any) -> None:
    label = case.operation.label
    for role in ROLES:
        response = send(client, case, role, headers[role])
        check_contract(label, role, response)
        checks = checks_for(label, response.status_code)
        case.validate_response(response, checks=checks, headers=headers[role])


FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_given_any_request_of_any_role_then_no_server_error_and_the_contract_holds(
    fuzzed: tuple[TestClient, dict[str, dict[str, str]]], operation: Any
) -> None:
    """Given the demo store, when the operation is called with the document's examples,
    schema-valid and schema-breaking requests, each as every role and with no token,
    then no answer is a 5xx and every answer holds the contract (see the module)."""
    client, headers = fuzzed

    examples = SCHEMA.get_strategies_from_examples(operation)
    if examples:

        @settings(FUZZ, max_examples=len(examples) * 3)
        @given(case=st.one_of(examples))
        def documented(case: Any) -> None:
            run_case(client, headers, case)

        documented()

    for mode, count in EXAMPLES.items():

        @settings(FUZZ, max_examples=count)
        @given(case=operation.as_strategy(generation_mode=mode))
        def generated(case: Any) -> None:
            run_case(client, headers, case)

        generated()


def test_the_fuzzing_reached_every_kind_of_answer() -> None:
    """The tally of the run above (printed): the fuzzing is not all 401s."""
    if not TALLY:
        pytest.skip("run with the fuzzing tests")
    print(
        "\nfuzz answers (role, status): " + ", ".join(f"{k}={v}" for k, v in sorted(TALLY.items()))
    )
    statuses = {status for _, status in TALLY}
    assert {200, 401, 403, 404} <= statuses


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "/v1/incidents?limit=²",
        "/v1/crews?limit=٣",
        "/v1/people?limit=" + "1" * 5000,
        "/v1/feed?after=²",
        "/v1/feed?after=" + "9" * 30,
        "/v1/feed?cursor=" + cursor_of("o:" + "9" * 30),
        "/v1/incidents?cursor=" + cursor_of("o:²"),
    ],
    ids=[
        "limit-superscript",
        "limit-arabic-indic",
        "limit-5000-digits",
        "after-superscript",
        "after-30-digits",
        "feed-cursor-30-digits",
        "cursor-superscript",
    ],
)
def test_given_a_number_parameter_no_server_can_use_then_400_not_500(
    fuzzed: tuple[TestClient, dict[str, dict[str, str]]], query: str
) -> None:
    """Found by the fuzzing (a 500 until 30313a0): a `limit`, `after` or cursor whose
    digits are not ASCII or do not fit a position is a bad query parameter: 400, a
    problem, never a server error."""
    client, headers = fuzzed
    response = client.get(query, headers=headers["safety"])
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
