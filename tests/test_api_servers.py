"""Real `fieldlog serve` processes: two servers on one store answer alike, each sees the
other's events as duplicates, and the feed streams as Server-Sent Events.

Given the demo stories in a store (an SQLite file, or the PostgreSQL test database) and
two `fieldlog serve` processes on free ports sharing it, a tablet may reach either
one: whatever is filed through one reads the same through the other, and resending it
to the other answers `duplicate` with the same version and position.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from incidents.application import FieldLog
from incidents.config import Settings
from incidents.demo import DROWNING_ID, load_demo
from tests.conftest import POSTGRES_URL, STORES, issue_tokens, new_event, reset_postgres
from tests.servers import fieldlog_command, free_port

pytestmark = pytest.mark.slow

Tokens = dict[str, dict[str, str]]
REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_server(env: dict[str, str], workdir: Path, name: str) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [fieldlog_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"fieldlog serve exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    pytest.fail(f"fieldlog serve did not answer /healthz in {START_TIMEOUT} s:\n{server.output()}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


def demo_store(url: str) -> tuple[dict[str, str], Tokens]:
    """The demo stories in the store at `url`, the environment a server needs for it (the
    master secret conftest sets for every test store), and a token per role."""
    environment = {"FIELDLOG_DB": url, "FIELDLOG_SECRET_KEY": os.environ["FIELDLOG_SECRET_KEY"]}
    fieldlog = FieldLog(Settings.from_env(environment))
    try:
        load_demo(fieldlog)
        return environment, issue_tokens(fieldlog)
    finally:
        fieldlog.close()


@pytest.fixture(scope="module", params=STORES)
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, httpx.Client, Tokens]]:
    """Two `fieldlog serve` processes on one demo store, and a token per role."""
    workdir = tmp_path_factory.mktemp("servers")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir}/fieldlog.sqlite"
    else:
        if not POSTGRES_URL:
            pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    environment, tokens = demo_store(url)

    env = {**os.environ, **environment}
    started: list[Server] = []
    try:
        # One after the other: two processes creating the read-model tables of a fresh
        # SQLite store at the same moment can fail with "database is locked" (reported).
        for name in ("a", "b"):
            started.append(start_server(env, workdir, name))
            wait_until_up(started[-1])
        with (
            httpx.Client(base_url=started[0].base_url, timeout=10.0) as a,
            httpx.Client(base_url=started[1].base_url, timeout=10.0) as b,
        ):
            yield a, b, tokens
    finally:
        for server in started:
            stop(server)


def observation(**extra: Any) -> dict[str, Any]:
    return new_event(
        "ObservationRecorded", DROWNING_ID, description="两台服务器之间的补记", **extra
    )


READ_PATHS = [
    "/v1/incidents",
    f"/v1/incidents/{DROWNING_ID}",
    f"/v1/incidents/{DROWNING_ID}/events",
    f"/v1/incidents/{DROWNING_ID}/replay",
    "/v1/crews",
    "/v1/people",
    "/v1/commendations",
    "/v1/feed?limit=1000",
    "/v1/crews/chikan-mv-om/timeline",
    "/v1/reports/recognition",
]


def eventually_same(a: httpx.Client, b: httpx.Client, path: str, token: dict[str, str]) -> Any:
    """Both servers' answers, once they agree (each waits for its own read models)."""
    deadline = time.monotonic() + 10
    while True:
        left, right = a.get(path, headers=token), b.get(path, headers=token)
        assert left.status_code == right.status_code == 200, (left.text, right.text)
        if left.json() == right.json() or time.monotonic() > deadline:
            return left.json(), right.json()
        time.sleep(0.1)


def test_given_two_servers_on_one_store_when_the_office_reads_then_both_answer_the_same(
    servers: tuple[httpx.Client, httpx.Client, Tokens],
) -> None:
    """Given two server processes on one demo store, when the safety office reads the
    incidents, an incident, its events and replay, crews, people, commendations, the
    feed, a timeline and the report through each, then both answer the same, and their
    /healthz report the same head."""
    a, b, tokens = servers
    for path in READ_PATHS:
        left, right = eventually_same(a, b, path, tokens["safety"])
        assert left == right, path
    assert a.get("/healthz").json()["head_position"] == b.get("/healthz").json()["head_position"]


def test_given_an_event_filed_through_one_server_when_read_and_resent_through_the_other(
    servers: tuple[httpx.Client, httpx.Client, Tokens],
) -> None:
    """Given a crew filing an observation through server A, when it reads the incident
    through server B, then B shows the event at the version and position A gave; when
    the tablet resends it to B, then B answers 200 `duplicate` with that version and
    position, and a new event filed through B is likewise a duplicate on A."""
    a, b, tokens = servers
    crew = tokens["crew"]
    event = observation()

    stored = a.post("/v1/events", json=event, headers=crew)
    assert stored.status_code == 201, stored.text
    version, position = stored.json()["version"], stored.json()["position"]

    events = b.get(f"/v1/incidents/{DROWNING_ID}/events", headers=crew).json()["items"]
    mine = next(e for e in events if e["event_id"] == event["event_id"])
    assert (mine["version"], mine["position"]) == (version, position)
    incident = b.get(f"/v1/incidents/{DROWNING_ID}", headers=crew).json()
    assert incident["version"] >= version
    resent = b.post("/v1/events", json=event, headers=crew)
    assert resent.status_code == 200, resent.text
    assert (resent.json()["result"], resent.json()["version"], resent.json()["position"]) == (
        "duplicate",
        version,
        position,
    )

    other = observation()
    assert b.post("/v1/events", json=other, headers=crew).status_code == 201
    synced = a.post(
        "/v1/sync", json={"device_id": "tablet-9", "events": [event, other]}, headers=crew
    )
    assert synced.status_code == 200
    assert [r["result"] for r in synced.json()["results"]] == ["duplicate", "duplicate"]
    listed, _ = eventually_same(a, b, "/v1/incidents", crew)
    drowning = next(i for i in listed["items"] if i["incident_id"] == DROWNING_ID)
    assert drowning["version"] == incident["version"] + 1


def test_given_the_same_new_event_sent_to_both_servers_at_once_then_stored_once(
    servers: tuple[httpx.Client, httpx.Client, Tokens],
) -> None:
    """Given one new event, when a tablet's retry sends it to both servers at the same
    moment, then one stores it (201) and the other answers 200 `duplicate` with the same
    version and position, and the incident holds it once."""
    a, b, tokens = servers
    event = observation()
    answers: dict[str, httpx.Response] = {}
    barrier = threading.Barrier(2)

    def send(name: str, client: httpx.Client) -> None:
        barrier.wait()
        answers[name] = client.post("/v1/events", json=event, headers=tokens["crew"])

    threads = [threading.Thread(target=send, args=item) for item in (("a", a), ("b", b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [200, 201], [r.text for r in answers.values()]
    places = {(r.json()["version"], r.json()["position"]) for r in answers.values()}
    assert len(places) == 1
    events = a.get(f"/v1/incidents/{DROWNING_ID}/events", headers=tokens["safety"]).json()["items"]
    assert [e["event_id"] for e in events].count(event["event_id"]) == 1


def read_frames(response: httpx.Response, count: int) -> list[dict[str, str]]:
    """The next `count` SSE events (comment-only frames such as keep-alives skipped)."""
    frames: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if fields:
                frames.append(fields)
                fields = {}
                if len(frames) == count:
                    return frames
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    raise AssertionError(f"the stream ended after {len(frames)} events")


def test_given_the_feed_stream_when_the_office_listens_then_sse_frames_in_order_and_resumable(
    servers: tuple[httpx.Client, httpx.Client, Tokens],
) -> None:
    """Given the log, when the safety office opens GET /v1/feed/stream, then it receives
    `text/event-stream` frames with `id:` the position, `event:` the type and `data:` the
    stored event, from position 1 in order; reconnecting with `Last-Event-ID: 3` resumes
    at position 4."""
    import json

    a, _, tokens = servers
    with a.stream("GET", "/v1/feed/stream", headers=tokens["safety"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = read_frames(response, 3)
    assert [f["id"] for f in frames] == ["1", "2", "3"]
    for frame in frames:
        data = json.loads(frame["data"])
        assert data["position"] == int(frame["id"])
        assert data["type"] == frame["event"]
        assert {"event_id", "stream_id", "version", "occurred_at", "recorded_at"} <= set(data)

    resumed_headers = {**tokens["safety"], "Last-Event-ID": "3"}
    with a.stream("GET", "/v1/feed/stream", headers=resumed_headers) as response:
        assert response.status_code == 200
        [frame] = read_frames(response, 1)
    assert frame["id"] == "4"


def test_given_a_feed_stream_open_on_one_server_when_the_other_stores_an_event_then_it_arrives(
    servers: tuple[httpx.Client, httpx.Client, Tokens],
) -> None:
    """Given the office listening on server A's feed stream from the current head, when
    a crew files an event through server B, then the event arrives on A's stream as the
    next frame, with its position as the id."""
    import json

    a, b, tokens = servers
    head = a.get("/healthz").json()["head_position"]
    event = observation()
    headers = {**tokens["safety"], "Last-Event-ID": str(head)}
    with a.stream("GET", "/v1/feed/stream", headers=headers) as response:
        assert response.status_code == 200
        stored = b.post("/v1/events", json=event, headers=tokens["crew"])
        assert stored.status_code == 201, stored.text
        [frame] = read_frames(response, 1)
    data = json.loads(frame["data"])
    assert data["event_id"] == event["event_id"]
    assert frame["id"] == str(stored.json()["position"])
    assert frame["event"] == "ObservationRecorded"


# --- the projection worker `serve` runs ---------------------------------------------


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_serve_projects_in_a_worker_process_of_its_own_that_ends_with_it(
    tmp_path: Path,
) -> None:
    """Given `fieldlog serve` on a demo SQLite store, started from a folder that holds a
    package named `api` of its own, when a crew files a patrol, then its own list shows
    it at once (projected by the worker process `serve` started, which imported
    fieldlog's modules, not the folder's); when `serve` is killed outright, then its
    worker does not outlive it."""
    url = f"sqlite:///{tmp_path}/fieldlog.sqlite"
    environment, tokens = demo_store(url)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "__init__.py").write_text(
        'raise ImportError("the working folder\'s own api package was imported")\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "FIELDLOG_PROJECTIONS"}
    server = start_server({**env, **environment}, tmp_path, "own-worker")
    try:
        wait_until_up(server)
        workers = children_of(server.process.pid)
        assert len(workers) == 1, server.output()
        assert b"projections" in Path(f"/proc/{workers[0]}/cmdline").read_bytes()
        patrol = new_event(
            "PatrolStarted",
            str(uuid4()),
            crew_id="chikan-mv-om",
            line="10kV 赤坎线",
            people=["zhou-lihui"],
        )
        with httpx.Client(base_url=server.base_url, headers=tokens["crew"]) as crew:
            assert crew.post("/v1/events", json=patrol).status_code == 201
            listed = crew.get("/v1/patrols", params={"crew_id": "chikan-mv-om"}).json()
        assert patrol["stream_id"] in {p["patrol_id"] for p in listed["items"]}
    finally:
        server.process.kill()
        server.process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while alive(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(workers[0])


def test_a_worker_stops_promptly_however_many_sigterms_reach_it(tmp_path: Path) -> None:
    """Given `fieldlog projections run` following a store, when SIGTERM reaches it several
    times at once (from `serve` stopping it and from the kernel as `serve` dies), then it
    stops within seconds. (A handler that set an Event deadlocked two workers in one CI
    run, a second signal arriving inside the first's lock; that timing is rare here, so
    this checks the outcome, and the handler now only sets a plain flag.)"""
    import signal

    url = f"sqlite:///{tmp_path}/fieldlog.sqlite"
    env = {
        **{k: v for k, v in os.environ.items() if k != "FIELDLOG_PROJECTIONS"},
        "FIELDLOG_DB": url,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [fieldlog_command(), "projections", "run"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while b"following the log" not in log.read_bytes():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        for _ in range(200):  # back to back: a second arrives while the first is handled
            worker.send_signal(signal.SIGTERM)
        # 0, or the default action of a SIGTERM that arrives as the interpreter exits
        assert worker.wait(timeout=10) in (0, -signal.SIGTERM), log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
