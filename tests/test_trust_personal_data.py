"""Personal data of the public: sealed at rest, shown only to the office, crypto-shredded.

Given the demo stories (the drowning incident holds a `VictimDetailsRecorded` with an
invented name and phone): the plaintext is nowhere in the database (neither the SQLite
file and its WAL, nor any PostgreSQL table, log or read model); `safety` and `admin`
read it, a crew reads `"personal_data": "withheld"`, HR is refused. After
`erase-personal-data` the incident's key is gone: everyone reads `"erased"`, no other
event changes, the chain still verifies, and no new details may be filed. A real
`fieldlog serve` never writes the plaintext to its log, and a store refuses to start
under a master secret other than its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from incidents.application import FieldLog
from incidents.audit import verify_log
from incidents.config import ConfigurationError, Settings, sqlite_path
from incidents.demo import CHIKAN_MV, DROWNING_ID, load_demo
from incidents.keys import master_key
from incidents.personal_data import KEY_TABLE
from incidents.roles import Actor
from incidents.store import CANARY
from tests.conftest import assert_problem, head_position, issue_tokens, new_event
from tests.conftest import test_settings as store_settings
from tests.servers import fieldlog_command, free_port

Tokens = dict[str, dict[str, str]]

VICTIM_NAME = "潭江落水者（化名）"  # the demo's; PatrolEnded's summary says "潭江落水者" alone
VICTIM_PHONE = "+86 000 0000 0000"
# A public fact of the same incident (ThanksReceived): shows the searches can see text.
PUBLIC_TEXT = "我的父亲清醒后"
ERASER = Actor("admin", "trust-test-eraser")
REPO = Path(__file__).resolve().parents[1]


def spellings(text: str) -> list[bytes]:
    """The ways a string may sit in storage: UTF-8, and JSON's \\u escapes (either case)."""
    escaped = json.dumps(text)[1:-1]
    return [text.encode(), escaped.encode(), escaped.upper().replace("\\U", "\\u").encode()]


def contains(haystack: bytes, text: str) -> bool:
    return any(needle in haystack for needle in spellings(text))


def table_dump(app: FieldLog) -> dict[str, bytes]:
    """Every table of the store, every value of every row, as bytes (bytea/blob raw)."""
    if app.settings.is_postgres:
        names = [
            r["table_name"]
            for r in app.store.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        ]
    else:
        names = [
            r["name"]
            for r in app.store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
    dump = {}
    for name in names:
        parts = []
        for row in app.store.query(f'SELECT * FROM "{name}"'):
            for value in row.values():
                if isinstance(value, (bytes, bytearray, memoryview)):
                    parts.append(bytes(value))
                else:
                    parts.append(str(value).encode())
        dump[name] = b"\n".join(parts)
    return dump


def sqlite_files(url: str) -> bytes:
    """The raw bytes of the SQLite database file and its write-ahead log."""
    path = sqlite_path(url)
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data


def victim_entries(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "VictimDetailsRecorded"]


def read_events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"/v1/incidents/{DROWNING_ID}/events", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def settle(client: TestClient) -> None:
    """Wait until the read models hold every stored event."""
    worker = client.app.state.projections  # type: ignore[attr-defined]
    assert worker.wait_for(head_position(client), timeout=10)


def office_views(client: TestClient, headers: dict[str, str]) -> str:
    """Every read the office has of the drowning incident and its crew, as one text."""
    paths = [
        f"/v1/incidents/{DROWNING_ID}/events",
        f"/v1/incidents/{DROWNING_ID}",
        f"/v1/incidents/{DROWNING_ID}/replay",
        f"/v1/crews/{CHIKAN_MV.crew_id}/timeline",
        "/v1/feed?after=0&limit=1000",
    ]
    texts = []
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        texts.append(response.text)
    return "\n".join(texts)


def crew_views(client: TestClient, headers: dict[str, str]) -> str:
    paths = [
        f"/v1/incidents/{DROWNING_ID}/events",
        f"/v1/incidents/{DROWNING_ID}",
        f"/v1/crews/{CHIKAN_MV.crew_id}/timeline",
        "/v1/incidents",
    ]
    texts = []
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        texts.append(response.text)
    return "\n".join(texts)


def file_victim(
    client: TestClient, headers: dict[str, str], name: str, phone: str
) -> dict[str, Any]:
    raw = new_event("VictimDetailsRecorded", DROWNING_ID, name=name, age=40, phone=phone)
    response = client.post("/v1/events", json=raw, headers=headers)
    assert response.status_code == 201, response.text
    return raw


# --- at rest ---------------------------------------------------------------------------


def test_victim_details_are_nowhere_in_the_store_in_plaintext(
    client: TestClient, tokens: Tokens, settings: Settings
) -> None:
    fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
    file_victim(client, tokens["crew"], "江边第二位获救者", "+86 139 1234 5678")
    settle(client)
    secrets = [VICTIM_NAME, VICTIM_PHONE, "江边第二位获救者", "+86 139 1234 5678"]

    dump = table_dump(fieldlog)

    # the searches do see the log and the read models: public text is there
    assert contains(dump[fieldlog.recorder.events_table_name], PUBLIC_TEXT)  # type: ignore[attr-defined]
    assert contains(dump["rm_incidents"], PUBLIC_TEXT)
    assert b'"personal_data":"withheld"' in dump["rm_incidents"]
    for name, data in dump.items():
        for secret in secrets:
            assert not contains(data, secret), f"{secret!r} in plaintext in table {name}"
    if not settings.is_postgres:
        raw = sqlite_files(settings.db_url)
        assert contains(raw, PUBLIC_TEXT)
        for secret in secrets:
            assert not contains(raw, secret), f"{secret!r} in the SQLite file or its WAL"


def test_the_sealed_event_keeps_its_public_fields_and_nothing_personal(
    app: FieldLog,
) -> None:
    load_demo(app)
    events = app.recorder.events_table_name  # type: ignore[attr-defined]
    rows = [
        bytes(r["state"])
        for r in app.store.query(f"SELECT topic, state FROM {events}")
        if r["topic"].endswith(":VictimDetailsRecorded")
    ]

    assert len(rows) == 1
    assert b'"_sealed_"' in rows[0]
    assert b'"event_id"' in rows[0]
    for field in (b'"name"', b'"age"', b'"phone"'):
        assert field not in rows[0]


# --- reading ---------------------------------------------------------------------------


def test_the_office_reads_victim_details_and_a_crew_reads_withheld(
    client: TestClient, tokens: Tokens
) -> None:
    settle(client)
    for role in ("safety", "admin"):
        [victim] = victim_entries(read_events(client, tokens[role]))
        assert (victim["name"], victim["age"], victim["phone"]) == (VICTIM_NAME, 67, VICTIM_PHONE)
        assert "personal_data" not in victim
        assert VICTIM_NAME in office_views(client, tokens[role])

    [withheld] = victim_entries(read_events(client, tokens["crew"]))
    assert withheld["personal_data"] == "withheld"
    assert not {"name", "age", "phone"} & withheld.keys()
    seen_by_crew = crew_views(client, tokens["crew"])
    assert VICTIM_NAME not in seen_by_crew
    assert VICTIM_PHONE not in seen_by_crew
    assert PUBLIC_TEXT in seen_by_crew


def test_hr_may_not_read_incident_events_and_another_crew_does_not_see_them(
    client: TestClient, tokens: Tokens
) -> None:
    path = f"/v1/incidents/{DROWNING_ID}/events"

    hr = client.get(path, headers=tokens["hr"])
    other = client.get(path, headers=tokens["other_crew"])

    assert_problem(hr, 403)
    assert_problem(other, 404)
    assert VICTIM_NAME not in hr.text + other.text


# --- erasure -------------------------------------------------------------------------------


def key_rows(app: FieldLog, incident_id: str | UUID) -> list[dict[str, Any]]:
    return app.store.query(f"SELECT * FROM {KEY_TABLE} WHERE incident_id = %s", (str(incident_id),))


def stored_states(app: FieldLog) -> dict[int, bytes]:
    events = app.recorder.events_table_name  # type: ignore[attr-defined]
    position = "notification_id" if app.settings.is_postgres else "rowid"
    rows = app.store.query(f"SELECT {position} AS p, state FROM {events}")
    return {r["p"]: bytes(r["state"]) for r in rows}


def assert_erased_for_everyone(
    client: TestClient, tokens: Tokens, before: list[dict[str, Any]]
) -> None:
    """Every role reads "erased"; every other event reads exactly as before."""
    settle(client)
    for role in ("safety", "admin", "crew"):
        after = read_events(client, tokens[role])
        [victim] = victim_entries(after)
        assert victim["personal_data"] == "erased", role
        assert not {"name", "age", "phone"} & victim.keys()
        assert after[-1]["type"] == "PersonalDataErased"
        if role == "safety":
            assert [e for e in after[:-1] if e["type"] != "VictimDetailsRecorded"] == [
                e for e in before if e["type"] != "VictimDetailsRecorded"
            ]
            assert {k: v for k, v in victim.items() if k != "personal_data"} == {
                k: v
                for k, v in victim_entries(before)[0].items()
                if k not in ("name", "age", "phone")
            }
    for role in ("safety", "admin"):
        seen = office_views(client, tokens[role])
        assert VICTIM_NAME not in seen
        assert VICTIM_PHONE not in seen
        assert PUBLIC_TEXT in seen
    assert_problem(client.get(f"/v1/incidents/{DROWNING_ID}/events", headers=tokens["hr"]), 403)


def test_erasing_shreds_the_key_and_changes_no_other_event(
    client: TestClient, tokens: Tokens
) -> None:
    fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
    settle(client)
    before = read_events(client, tokens["safety"])
    states = stored_states(fieldlog)
    assert key_rows(fieldlog, DROWNING_ID)

    outcome = fieldlog.erase_personal_data(UUID(DROWNING_ID), ERASER)

    assert outcome.result == "stored"
    assert outcome.position == max(states) + 1
    assert key_rows(fieldlog, DROWNING_ID) == []
    assert key_rows(fieldlog, CANARY)  # only that incident's key went
    after_states = stored_states(fieldlog)
    assert {p: after_states[p] for p in states} == states  # no stored byte changed
    assert verify_log(fieldlog.store).ok
    assert_erased_for_everyone(client, tokens, before)
    erased_event = read_events(client, tokens["safety"])[-1]
    assert erased_event["recorded_by"] == "admin:trust-test-eraser"
    assert VICTIM_NAME not in json.dumps(erased_event, ensure_ascii=False)


def test_after_erasure_no_new_victim_details_and_erasing_again_is_a_duplicate(
    client: TestClient, tokens: Tokens
) -> None:
    fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
    first = fieldlog.erase_personal_data(UUID(DROWNING_ID), ERASER)
    head = head_position(client)

    again = fieldlog.erase_personal_data(UUID(DROWNING_ID), ERASER)
    for role in ("crew", "safety"):
        raw = new_event("VictimDetailsRecorded", DROWNING_ID, name="新线索", phone="+86 1")
        refused = client.post("/v1/events", json=raw, headers=tokens[role])
        body = assert_problem(refused, 422, event=True)
        assert body["result"] == "invalid"

    assert (again.result, again.version) == ("duplicate", first.version)
    assert head_position(client) == head  # nothing stored
    assert key_rows(fieldlog, DROWNING_ID) == []  # no new key either


def test_erasing_an_incident_that_does_not_exist_is_refused(app: FieldLog) -> None:
    from incidents.errors import NotFoundError

    with pytest.raises(NotFoundError):
        app.erase_personal_data(UUID(int=7), ERASER)


def test_cli_erase_personal_data(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FIELDLOG_DB", db_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    settings = store_settings(db_url)
    with TestClient(create_app(settings)) as client:
        fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
        tokens = issue_tokens(fieldlog)
        settle(client)
        before = read_events(client, tokens["safety"])
        assert victim_entries(before)[0]["name"] == VICTIM_NAME
        [wrapped] = [r["wrapped"] for r in key_rows(fieldlog, DROWNING_ID)]

    erased = runner.invoke(cli, ["erase-personal-data", DROWNING_ID])
    again = runner.invoke(cli, ["erase-personal-data", DROWNING_ID])
    verified = runner.invoke(cli, ["verify"])
    bad_id = runner.invoke(cli, ["erase-personal-data", "not-a-uuid"])

    assert erased.exit_code == 0, erased.output
    assert "PersonalDataErased" in erased.output
    assert again.exit_code == 0, again.output
    assert "already erased" in again.output
    assert verified.exit_code == 0, verified.output
    assert bad_id.exit_code == 2
    if not settings.is_postgres:
        # the wrapped key is not left behind in the file or its WAL
        assert wrapped.encode() not in sqlite_files(db_url)
    with TestClient(create_app(settings)) as client:
        fieldlog = client.app.state.fieldlog  # type: ignore[attr-defined]
        assert key_rows(fieldlog, DROWNING_ID) == []
        assert_erased_for_everyone(client, tokens, before)


def test_an_erased_key_is_not_left_in_the_sqlite_files_while_the_server_runs(
    tmp_path: Path,
) -> None:
    """Crypto-shredding: the wrapped incident key must not survive on disk (the master
    secret that unwraps it sits beside the database)."""
    url = f"sqlite:///{tmp_path}/fieldlog.sqlite"
    with TestClient(create_app(store_settings(url))) as client:
        fieldlog: FieldLog = client.app.state.fieldlog  # type: ignore[attr-defined]
        load_demo(fieldlog)
        tokens = issue_tokens(fieldlog)
        settle(client)
        read_events(client, tokens["safety"])
        [wrapped] = [r["wrapped"] for r in key_rows(fieldlog, DROWNING_ID)]
        assert wrapped.encode() in sqlite_files(url)

        fieldlog.erase_personal_data(UUID(DROWNING_ID), ERASER)
        settle(client)

        assert wrapped.encode() not in sqlite_files(url)


# --- the server's log ------------------------------------------------------------------------


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, Tokens, Path]]:
    """A real `fieldlog serve` on the demo store, its stdout and stderr captured."""
    fieldlog = FieldLog(store_settings(db_url))
    try:
        load_demo(fieldlog)
        tokens = issue_tokens(fieldlog)
    finally:
        fieldlog.close()
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "FIELDLOG_DB": db_url}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [fieldlog_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"fieldlog serve exited:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"fieldlog serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        with httpx.Client(base_url=base, timeout=10) as http:
            yield http, tokens, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_the_server_log_never_holds_victim_details_nor_tokens(
    served: tuple[httpx.Client, Tokens, Path],
) -> None:
    http, tokens, log = served
    name, phone = "服务器日志测试者甲", "+86 137 0000 1111"
    raw = new_event("VictimDetailsRecorded", DROWNING_ID, name=name, age=30, phone=phone)

    stored = http.post("/v1/events", json=raw, headers=tokens["crew"])
    conflict = http.post(
        "/v1/events", json={**raw, "phone": "+86 137 0000 2222"}, headers=tokens["crew"]
    )
    invalid = http.post(
        "/v1/events",
        json={**new_event("VictimDetailsRecorded", DROWNING_ID, name=name), "nickname": name},
        headers=tokens["crew"],
    )
    synced = http.post(
        "/v1/sync",
        json={"device_id": "tablet-1", "events": [{**raw, "age": 31}]},
        headers=tokens["crew"],
    )
    read = http.get(f"/v1/incidents/{DROWNING_ID}/events", headers=tokens["safety"])
    bogus = http.get("/v1/incidents", headers={"Authorization": "Bearer bogus-token-Qx81"})
    refused = http.get("/v1/integrity", headers=tokens["hr"])
    http.get(f"/v1/crews/{CHIKAN_MV.crew_id}/timeline", headers=tokens["safety"])

    assert stored.status_code == 201, stored.text
    assert conflict.status_code == 409
    assert invalid.status_code == 422
    assert synced.status_code == 200
    assert name in read.text
    assert phone in read.text
    assert (bogus.status_code, refused.status_code) == (401, 403)
    time.sleep(0.3)  # let the server flush its log lines
    text = log.read_bytes()
    assert b"fieldlog serving" in text
    assert b"authentication failed" in text  # the log is captured and holds the auth lines
    assert b"authorisation refused" in text
    for secret in (name, phone, "+86 137 0000 2222", VICTIM_NAME, VICTIM_PHONE):
        assert not contains(text, secret), f"{secret!r} in the server log"
    for headers in tokens.values():
        token = headers["Authorization"].removeprefix("Bearer ")
        assert token.encode() not in text
    assert b"bogus-token-Qx81" not in text


# --- the master secret ---------------------------------------------------------------------


OTHER_SECRET = base64.b64encode(hashlib.sha256(b"another store's secret").digest()).decode()


def test_a_different_master_secret_is_refused_at_start_up(settings: Settings) -> None:
    first = FieldLog(settings)
    try:
        load_demo(first)
    finally:
        first.close()

    with pytest.raises(ConfigurationError, match="FIELDLOG_SECRET_KEY"):
        FieldLog(store_settings(settings.db_url, FIELDLOG_SECRET_KEY=OTHER_SECRET))

    again = FieldLog(settings)  # the right secret still opens everything
    try:
        [(victim, _)] = [
            (e, p)
            for e, p in again.get_facts(UUID(DROWNING_ID))
            if type(e).__name__ == "VictimDetailsRecorded"
        ]
        assert vars(victim)["name"] == VICTIM_NAME
    finally:
        again.close()


@pytest.mark.parametrize(
    "secret", ["not base64 at all!", base64.b64encode(b"16 bytes only!!!").decode()]
)
def test_a_malformed_master_secret_is_a_configuration_error(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="FIELDLOG_SECRET_KEY"):
        master_key(
            Settings.from_env({"FIELDLOG_DB": "sqlite:///x.sqlite", "FIELDLOG_SECRET_KEY": secret})
        )


def test_postgres_needs_an_explicit_master_secret() -> None:
    settings = Settings.from_env({"FIELDLOG_DB": "postgresql://u:p@127.0.0.1:5432/db"})

    with pytest.raises(ConfigurationError, match="FIELDLOG_SECRET_KEY is required"):
        master_key(settings)


def test_sqlite_generates_a_private_key_file_beside_the_database_and_keeps_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/store/fieldlog.sqlite"
    settings = Settings.from_env({"FIELDLOG_DB": url})  # no FIELDLOG_SECRET_KEY
    first = FieldLog(settings)
    try:
        load_demo(first)
    finally:
        first.close()
    key_file = tmp_path / "store" / "fieldlog.key"

    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(key_file.read_text().strip())) == 32
    second = FieldLog(settings)  # a restart reads the same key back
    try:
        names = [
            vars(e).get("name")
            for e, _ in second.get_facts(UUID(DROWNING_ID))
            if type(e).__name__ == "VictimDetailsRecorded"
        ]
        assert names == [VICTIM_NAME]
    finally:
        second.close()
    with pytest.raises(ConfigurationError):
        FieldLog(Settings.from_env({"FIELDLOG_DB": url, "FIELDLOG_SECRET_KEY": OTHER_SECRET}))


def test_processes_starting_at_once_on_a_fresh_sqlite_store_share_one_generated_key(
    tmp_path: Path,
) -> None:
    """`fieldlog serve --workers 4` (or serve beside `projections run`) on a new store
    without FIELDLOG_SECRET_KEY: every process must start, all with the same secret."""
    failures: list[str] = []

    def start(settings: Settings, barrier: threading.Barrier, keys: list[bytes]) -> None:
        barrier.wait(timeout=10)
        try:
            keys.append(master_key(settings))
        except Exception as e:  # collected and reported below
            failures.append(f"{type(e).__name__}: {e}")

    for attempt in range(30):
        settings = Settings.from_env({"FIELDLOG_DB": f"sqlite:///{tmp_path}/{attempt}/f.sqlite"})
        keys: list[bytes] = []
        barrier = threading.Barrier(4)
        threads = [threading.Thread(target=start, args=(settings, barrier, keys)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert len(set(keys)) <= 1

    assert failures == []


def test_a_queue_naming_the_victims_of_two_new_incidents_seals_each_under_its_own_key(
    app: FieldLog,
) -> None:
    """Given a tablet's queue that opens two incidents and records each one's victim,
    when it is stored (one save, which creates two incident keys on the way), then
    every event is stored, each victim's details are sealed, and the office reads them."""
    from tests.scenario import CHIKAN, Drowning, register_seed

    register_seed(app)
    first, second = Drowning(), Drowning()
    queue = [
        first.incident_opened(),
        first.victim_details(),
        second.incident_opened(),
        second.victim_details(name="第二位落水者"),
    ]

    outcomes = app.submit_many(queue, CHIKAN)

    assert [o.result for o in outcomes] == ["stored"] * 4
    assert [o.version for o in outcomes] == [1, 2, 1, 2]
    names = []
    for story in (first, second):
        facts = app.get_facts(UUID(story.incident_id))
        names.append(vars(facts[-1][0])["name"])
    assert names == ["落水老人（姓名待家属确认）", "第二位落水者"]
    events = app.recorder.events_table_name  # type: ignore[attr-defined]
    sealed = [
        r
        for r in app.store.query(f"SELECT state FROM {events}")
        if b"_sealed_" in bytes(r["state"])
    ]
    assert len(sealed) == 2
