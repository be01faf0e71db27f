"""Crash safety: a real `fieldlog serve` killed with SIGKILL while tablets are filing.

Given the demo registry in a store (an SQLite file, or the PostgreSQL test database)
and a `fieldlog serve` process on it, eight crew tablets (four per demo crew) each
file the events of their own incident through POST /v1/events, one after the other.
A tablet that gets no answer (connection refused or reset, timeout) sends the SAME
event again, with the same `event_id`, until some server answers. Meanwhile the
server is killed with SIGKILL at random moments, at least five times, and restarted
on the same store each time.

Then, with every tablet's last event answered: every event answered 2xx is in the
store, at the version and position it was answered with; each incident holds exactly
the events its tablet filed, each once, in filing order, at versions 1..n; the
restarted server serves the same events; and the integrity chain verifies.

The run is bounded (about 15-25 s per store); the figures are printed.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from incidents.application import FieldLog
from incidents.audit import verify_log
from incidents.config import Settings
from incidents.demo import CHIKAN_MV, CHIKAN_SCENIC, load_demo
from incidents.tokens import TokenBook
from tests.conftest import POSTGRES_URL, STORES, reset_postgres
from tests.servers import fieldlog_command, free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TABLETS_PER_CREW = 4
KILLS = 5
UP_BETWEEN_KILLS = (0.4, 1.3)  # seconds a server lives before its SIGKILL
PAUSE_BETWEEN_EVENTS = (0.0, 0.04)  # a tablet's pace, so filing spans every kill
MAX_EVENTS_PER_TABLET = 250  # a bound, in case a machine files very fast
START_TIMEOUT = 40.0
ANSWER_DEADLINE = 90.0  # a tablet gives up (and the test fails) after this long unanswered
CST = timezone(timedelta(hours=8))


class ServerSlot:
    """The one server process of the run; tablets read its current address."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = "http://127.0.0.1:9"  # nothing listens until the first start
        self.starts = 0  # the generation of the running process, 1 for the first
        self.lock = threading.Lock()

    def log(self) -> Path:
        return self.workdir / f"serve-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        port = free_port()
        with self.log().open("wb") as out:
            process = subprocess.Popen(
                [fieldlog_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"fieldlog serve exited with {process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        else:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"fieldlog serve did not answer /healthz:\n{self.output()}")
        with self.lock:
            self.process, self.base_url = process, url

    def sigkill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown, no lifespan exit, nothing flushed
        self.process.wait(timeout=10)
        assert self.process.returncode == -9, self.process.returncode

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def url(self) -> tuple[str, int]:
        """The running server's address, and which start it is."""
        with self.lock:
            return self.base_url, self.starts

    def output(self) -> str:
        return self.log().read_text(errors="replace")[-4000:]


@dataclass
class Answer:
    event_id: str
    status: int
    result: str
    version: int
    position: int
    attempts: int


@dataclass
class Tablet:
    """A crew tablet filing its own incident, resending unanswered events unchanged."""

    number: int
    crew_id: str
    members: tuple[str, ...]
    headers: dict[str, str]
    incident_id: str = field(default_factory=lambda: str(uuid4()))
    filed: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    retries: int = 0
    unanswered_by: set[int] = field(default_factory=set)  # server generations
    failure: str | None = None

    def next_event(self) -> dict[str, Any]:
        n = len(self.filed)
        at = datetime(2025, 10, 16, 15, 20, tzinfo=CST) + timedelta(seconds=10 * n)
        base = {
            "event_id": str(uuid4()),
            "stream_id": self.incident_id,
            "occurred_at": at.isoformat(),
        }
        if n == 0:
            return base | {
                "type": "IncidentOpened",
                "kind": "drowning",
                "title": f"潭江落水（平板 {self.number}）",
                "crew_id": self.crew_id,
                "location": {"place": f"江南桥下 #{self.number}"},
            }
        person = self.members[n % len(self.members)]
        cycle: list[dict[str, Any]] = [
            {"type": "ObservationRecorded", "description": f"第 {n} 条现场记录"},
            {"type": "EmergencyServicesCalled", "service": "ambulance_120", "people": [person]},
            {"type": "RescueActionTaken", "action": "reach_with_pole", "people": [person]},
            {"type": "HelperJoined", "description": "途经的船民加入救援"},
            {"type": "OutcomeRecorded", "outcome": "recovered", "detail": f"第 {n} 次更新"},
        ]
        return base | cycle[n % len(cycle)]

    def run(self, server: ServerSlot, stop: threading.Event) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0)) as http:
                while not stop.is_set() and len(self.filed) < MAX_EVENTS_PER_TABLET:
                    event = self.next_event()
                    self.filed.append(event)
                    if not self.send_until_answered(http, server, event):
                        return
                    time.sleep(random.uniform(*PAUSE_BETWEEN_EVENTS))
        except Exception as e:  # surfaced by the test, not lost in a thread
            self.failure = f"tablet {self.number}: {e!r}"

    def send_until_answered(
        self, http: httpx.Client, server: ServerSlot, event: dict[str, Any]
    ) -> bool:
        deadline = time.monotonic() + ANSWER_DEADLINE
        attempts = 0
        while True:
            attempts += 1
            url, generation = server.url()
            try:
                response = http.post(f"{url}/v1/events", json=event, headers=self.headers)
            except httpx.TransportError:
                self.unanswered_by.add(generation)
                if time.monotonic() > deadline:
                    self.failure = f"tablet {self.number}: no answer for {event['event_id']}"
                    return False
                self.retries += 1
                time.sleep(0.05)
                continue
            if response.status_code not in (200, 201):
                self.failure = (
                    f"tablet {self.number}: {event['type']} {event['event_id']} "
                    f"(attempt {attempts}) answered {response.status_code}: {response.text}"
                )
                return False
            body = response.json()
            self.answers.append(
                Answer(
                    event["event_id"],
                    response.status_code,
                    body["result"],
                    body["version"],
                    body["position"],
                    attempts,
                )
            )
            return True


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fieldlog.sqlite"
        return
    if not POSTGRES_URL:
        pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
    reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL


def test_given_tablets_filing_when_the_server_is_killed_repeatedly_then_no_answered_event_is_lost_or_doubled(  # noqa: E501
    store_url: str, tmp_path: Path
) -> None:
    """Given eight tablets filing their incidents through a real server, when the
    server is SIGKILLed at random moments five times and restarted on the same store,
    and the tablets resend every unanswered event with the same event_id, then every
    answered event is stored once at the version and position it was answered with,
    each incident holds its tablet's events in order at versions 1..n, the restarted
    server serves them, and the integrity chain verifies."""
    environment = {
        "FIELDLOG_DB": store_url,
        "FIELDLOG_SECRET_KEY": os.environ["FIELDLOG_SECRET_KEY"],
        "FIELDLOG_RATE_LIMIT": "0",
    }
    fieldlog = FieldLog(Settings.from_env(environment))
    try:
        load_demo(fieldlog)
        book = TokenBook(fieldlog.store)
        tablets = []
        for number in range(2 * TABLETS_PER_CREW):
            crew = (CHIKAN_MV, CHIKAN_SCENIC)[number % 2]
            issued = book.create("crew", crew_id=crew.crew_id, name=f"crash-tablet-{number}")
            headers = {"Authorization": f"Bearer {issued.token}"}
            tablets.append(Tablet(number, crew.crew_id, crew.members, headers))
        office = book.create("safety", name="crash-office")
        events_before = verify_log(fieldlog.store).events
    finally:
        fieldlog.close()

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server = ServerSlot({**os.environ, **environment}, tmp_path)
    stop = threading.Event()
    threads = [
        threading.Thread(target=t.run, args=(server, stop), name=f"tablet-{t.number}")
        for t in tablets
    ]
    started = time.monotonic()
    kills = 0
    resent_at_end = 0
    try:
        server.start()
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(*UP_BETWEEN_KILLS))
            server.sigkill()
            kills += 1
            server.start()
        time.sleep(rng.uniform(*UP_BETWEEN_KILLS))
        stop.set()  # each tablet finishes (gets an answer for) the event in flight
        for thread in threads:
            thread.join(timeout=ANSWER_DEADLINE + 30)
        assert not any(thread.is_alive() for thread in threads), "a tablet never finished"
        assert [t.failure for t in tablets if t.failure] == []

        # The restarted server serves every incident's events as stored.
        with httpx.Client(base_url=server.url()[0], timeout=30.0) as http:
            auth = {"Authorization": f"Bearer {office.token}"}
            for tablet in tablets:
                response = http.get(
                    f"/v1/incidents/{tablet.incident_id}/events",
                    params={"limit": 1000},
                    headers=auth,
                )
                assert response.status_code == 200, response.text
                served = [(e["event_id"], e["version"]) for e in response.json()["items"]]
                expected = [(a.event_id, a.version) for a in tablet.answers]
                assert served == expected, f"tablet {tablet.number} over HTTP"
            # Idempotency outlives every kill: resending (to the last server) the first
            # event, every event that needed a resend and a few more is a duplicate
            # at the version and position first answered.
            for tablet in tablets:
                answers = {a.event_id: a for a in tablet.answers}
                sample = {tablet.filed[0]["event_id"], tablet.filed[-1]["event_id"]}
                sample |= {a.event_id for a in tablet.answers if a.attempts > 1}
                sample |= {
                    e["event_id"] for e in rng.sample(tablet.filed, min(5, len(tablet.filed)))
                }
                for event in tablet.filed:
                    if event["event_id"] not in sample:
                        continue
                    again = http.post("/v1/events", json=event, headers=tablet.headers)
                    assert again.status_code == 200, again.text
                    first = answers[event["event_id"]]
                    body = again.json()
                    assert (body["result"], body["version"], body["position"]) == (
                        "duplicate",
                        first.version,
                        first.position,
                    )
                    resent_at_end += 1
    finally:
        stop.set()
        server.stop()
    elapsed = time.monotonic() - started

    answers = [a for t in tablets for a in t.answers]
    fieldlog = FieldLog(Settings.from_env(environment))
    try:
        for tablet in tablets:
            facts = fieldlog.get_facts(UUID(tablet.incident_id))
            stored = [(e.event_id, e.originator_version, position) for e, position in facts]
            # every answered event is there, at its answered version and position ...
            assert stored == [(a.event_id, a.version, a.position) for a in tablet.answers], (
                f"tablet {tablet.number}"
            )
            # ... each event the tablet filed is stored exactly once, in filing order ...
            assert [e for e, _, _ in stored] == [e["event_id"] for e in tablet.filed]
            # ... and versions run 1..n without a gap.
            assert [v for _, v, _ in stored] == list(range(1, len(tablet.filed) + 1))
            for a in tablet.answers:
                found = fieldlog.store.find_client_event(a.event_id)
                assert found is not None
                assert (str(found.stream_id), found.version, found.position) == (
                    tablet.incident_id,
                    a.version,
                    a.position,
                )
        positions = [a.position for a in answers]
        assert len(set(positions)) == len(positions), "two events share a position"
        verdict = verify_log(fieldlog.store)
        assert verdict.ok, verdict.failure
        # nothing else was stored: the log grew by exactly the events filed (positions
        # may skip numbers on PostgreSQL, where a killed transaction burns its sequence)
        assert verdict.events == events_before + sum(len(t.filed) for t in tablets)
    finally:
        fieldlog.close()

    duplicates = sum(1 for a in answers if a.result == "duplicate")
    assert all(a.attempts > 1 for a in answers if a.result == "duplicate"), (
        "a first sending answered duplicate"
    )
    assert all(a.status == (201 if a.result == "stored" else 200) for a in answers)
    retries = sum(t.retries for t in tablets)
    resent = sum(1 for a in answers if a.attempts > 1)
    print(
        f"\ncrash run on {store_url.split(':', 1)[0]} (seed {seed}): {kills} SIGKILLs, "
        f"{server.starts} server starts, {len(tablets)} tablets, {len(answers)} events answered "
        f"({len(answers) - duplicates} stored, {duplicates} duplicate: committed before the "
        f"kill, answered on resend), {retries} unanswered sends retried over {resent} events, "
        f"{resent_at_end} resent after the last restart (all duplicates), "
        f"log verified to position {verdict.head_position}, {elapsed:.1f} s"
    )
    assert kills >= KILLS
    # every killed server left some tablet without an answer: the kills hit live filing
    cut_short = set().union(*(t.unanswered_by for t in tablets))
    assert cut_short >= set(range(1, kills + 1)), cut_short
