"""The web pages in a real browser (Debian's Chromium, headless) against a real
`fieldlog serve` with the demo stories loaded.

The crew files the drowning rescue on /tablet with the browser offline, reloads,
goes back online and watches every event sync; the safety office steps through it
on /review, files a correction and a review and sees an event arrive live; HR
approves the pending commendation and downloads the report. Every page is switched
between Chinese and English, and no page may log an error. Screenshots land in
tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEZONE = "Asia/Shanghai"
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


# --- the server --------------------------------------------------------------------------


@dataclass
class Server:
    base: str
    tokens: dict[str, str]
    shared: dict[str, Any] = field(default_factory=dict)

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=10,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def demo_tokens(env: dict[str, str]) -> dict[str, str]:
    """Load the demo through the Python API (like `fieldlog demo`) and issue tokens, with
    the very settings the server process gets (the same master secret above all)."""
    from incidents.application import FieldLog
    from incidents.config import Settings
    from incidents.demo import load_demo
    from incidents.tokens import TokenBook

    fieldlog = FieldLog(Settings.from_env(env))
    try:
        load_demo(fieldlog)
        book = TokenBook(fieldlog.store)
        return {
            "crew": book.create("crew", crew_id="chikan-mv-om", name="pages-crew").token,
            "safety": book.create("safety", name="pages-safety").token,
            "hr": book.create("hr", name="pages-hr").token,
        }
    finally:
        fieldlog.close()


def fieldlog_command() -> list[str]:
    script = Path(sys.executable).with_name("fieldlog")
    if script.exists():
        return [str(script)]
    found = shutil.which("fieldlog")
    if found:
        return [found]
    return [sys.executable, "-c", "from api.cli import main; main()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("pages-browser")
    env = {
        **os.environ,
        "FIELDLOG_DB": f"sqlite:///{folder}/fieldlog.sqlite",
        "FIELDLOG_TZ": TIMEZONE,
    }
    tokens = demo_tokens(env)
    port = free_port()
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [*fieldlog_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("fieldlog serve did not start:\n" + (folder / "serve.log").read_text())
            time.sleep(0.2)
        yield Server(base, tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# --- pages -----------------------------------------------------------------------------


@dataclass
class Watched:
    page: Any
    context: Any
    errors: list[str]

    def assert_clean(self) -> None:
        assert self.errors == [], "the page logged errors:\n" + "\n".join(self.errors)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Watched]]:
    """A fresh context per call (own storage, locale, viewport); every console error or
    uncaught exception is collected and fails the test at the end."""
    opened: list[Watched] = []

    def open_(locale: str = "zh-CN", viewport: dict[str, int] | None = None) -> Watched:
        context = browser.new_context(
            locale=locale,
            timezone_id=TIMEZONE,
            viewport=viewport or TABLET,
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        watched = Watched(page, context, errors)
        opened.append(watched)
        return watched

    yield open_
    for watched in opened:
        watched.context.close()
    for watched in opened:
        watched.assert_clean()


def visit(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready]")


def sign_in(page: Any, token: str) -> None:
    page.fill("#token-input", token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("body.signed-in")


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    """A screenshot from the top (the header is sticky), without the toast."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate(
        "() => { window.scrollTo(0, 0); const t = document.querySelector('#toast');"
        " if (t) t.hidden = true; }"
    )
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def untranslated(page: Any) -> list[str]:
    """Labels still showing their key: a translation is missing."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('[data-i18n]')]
            .filter(el => el.textContent.trim() === el.dataset.i18n)
            .map(el => el.dataset.i18n)"""
    )
    return result


def switch_language(page: Any, lang: str) -> None:
    page.select_option("#lang", lang)
    page.wait_for_function("lang => document.documentElement.lang.startsWith(lang)", arg=lang)
    assert untranslated(page) == []


def outbox_statuses(page: Any) -> list[str]:
    result: list[str] = page.eval_on_selector_all(
        "#outbox-list li[data-status]", "items => items.map(li => li.dataset.status)"
    )
    return result


# --- the tests, in the story's order -------------------------------------------------------


def test_translations_are_complete_in_both_languages(server: Server, open_page: Any) -> None:
    watched = open_page()
    visit(watched.page, f"{server.base}/tablet")
    missing = watched.page.evaluate(
        """async () => {
            const m = await import('/static/i18n.js');
            const zh = Object.keys(m.STRINGS.zh), en = Object.keys(m.STRINGS.en);
            const groups = Object.keys(m.ENUMS.en);
            const enumGaps = groups.flatMap(g => Object.keys(m.ENUMS.en[g])
                .filter(k => !(k in (m.ENUMS.zh[g] || {}))).map(k => `${g}.${k}`));
            return {
                zhOnly: zh.filter(k => !en.includes(k)),
                enOnly: en.filter(k => !zh.includes(k)),
                enumGaps,
            };
        }"""
    )
    assert missing == {"zhOnly": [], "enOnly": [], "enumGaps": []}


def test_each_page_follows_the_browser_language(server: Server, open_page: Any) -> None:
    for locale, heading in (("zh-CN", "现场填报"), ("en-US", "Field filing")):
        watched = open_page(locale=locale)
        visit(watched.page, f"{server.base}/tablet")
        assert watched.page.inner_text("h1") == heading
        assert untranslated(watched.page) == []


def test_the_crew_files_the_rescue_offline_and_every_event_syncs(
    server: Server, open_page: Any
) -> None:
    watched = open_page(locale="zh-CN", viewport=TABLET)
    page, context = watched.page, watched.context
    visit(page, f"{server.base}/tablet")
    sign_in(page, server.tokens["crew"])
    page.wait_for_function("() => document.querySelector('#crew-name').textContent.length > 0")
    assert page.inner_text("#crew-name") == "赤坎供电所配电网中压运维班"
    # the service worker controls the page before the network goes away
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")

    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    assert page.inner_text("#net-status") == "离线"

    # patrol and a line observation
    page.fill("#patrol-line-input", "10kV 赤坎镇区线路（江南桥段）")
    page.click("#patrol-form button[type=submit]")
    page.wait_for_selector("#patrol-current:not([hidden])")
    page.select_option("#obs-category", "vegetation")
    page.select_option("#obs-severity", "low")
    page.fill("#obs-place", "江南路 #12 杆")
    page.fill("#obs-description", "竹枝接近导线约 1.5 米")
    page.click("#observation-form button[type=submit]")

    # the incident, begun five minutes before it is opened
    page.click("[data-kind=drowning]")
    page.fill("#incident-title-input", "潭江江南桥下有人溺水")
    page.fill("#incident-place", "潭江江南桥下")
    page.select_option("#incident-began", "5")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#incident-current:not([hidden])")

    def tap(milestone: str, people: list[str], note: str = "") -> None:
        for chip in page.query_selector_all("#incident-people .chip"):
            wanted = chip.get_attribute("data-person") in people
            if (chip.get_attribute("aria-pressed") == "true") != wanted:
                chip.click()
        if note:
            page.fill("#milestone-note", note)
        page.click(f"[data-milestone={milestone}]")

    tap("police_110", ["guan-jinkang"], "关锦康拨打110报警")
    tap("ambulance_120", ["chen-yigao"])
    tap("reach_with_pole", ["zhou-lihui"], "用附近小船上的竹竿够到落水者")
    tap("pull_ashore", ["zhou-lihui", "guan-jinkang", "chen-yigao"])
    tap("cpr_started", [], "120 医护人员做心肺复苏")
    page.click("#btn-handover")
    page.select_option("#outcome-select", "recovered")
    page.click("#btn-outcome")

    expected = 10  # patrol, observation, opened, 110, 120, pole, ashore, CPR, handover, outcome
    page.wait_for_function(
        "n => document.querySelectorAll('#outbox-list li[data-status]').length === n",
        arg=expected,
    )
    assert set(outbox_statuses(page)) == {"queued"}
    assert "已保存 0" in page.inner_text("#outbox-counts")
    shot(page, "tablet-offline-zh-1024x768")

    # a reload with no network: the page comes from the service worker, the outbox
    # from IndexedDB
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert outbox_statuses(page) == ["queued"] * expected
    assert page.inner_text("#incident-title") == "潭江江南桥下有人溺水"

    context.set_offline(False)
    page.wait_for_function(
        """n => { const s = [...document.querySelectorAll('#outbox-list li[data-status]')]
                 .map(li => li.dataset.status);
                 return s.length === n && s.every(x => x === 'stored'); }""",
        arg=expected,
        timeout=20_000,
    )
    assert page.inner_text("#net-status") == "在线"
    shot(page, "tablet-synced-zh-1024x768")

    incident = page.evaluate("() => JSON.parse(localStorage.getItem('fieldlog.tablet.incident'))")
    with server.api("safety") as api:
        events = api.get(f"/v1/incidents/{incident['incident_id']}/events").json()["items"]
    assert [e["type"] for e in events] == [
        "IncidentOpened",
        "EmergencyServicesCalled",
        "EmergencyServicesCalled",
        "RescueActionTaken",
        "RescueActionTaken",
        "RescueActionTaken",
        "VictimHandedOver",
        "OutcomeRecorded",
    ]
    assert all(e["occurred_at"].endswith("+08:00") for e in events)
    assert events[0]["time_certainty"] == "estimated"
    assert events[1]["people"] == ["guan-jinkang"]
    assert events[1]["description"] == "关锦康拨打110报警"
    assert events[4]["people"] == ["zhou-lihui", "guan-jinkang", "chen-yigao"]
    assert events[6]["to"] == "120 救护车"
    assert events[7]["outcome"] == "recovered"
    assert len({e["event_id"] for e in events}) == len(events)
    server.shared["incident_id"] = incident["incident_id"]
    server.shared["call_120"] = events[2]["event_id"]

    # the answer to a request was lost (dead battery): the same events are sent again
    # and answer duplicate, which counts as saved
    page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open('fieldlog-tablet');
            open.onsuccess = () => {
                const tx = open.result.transaction('outbox', 'readwrite');
                const store = tx.objectStore('outbox');
                store.getAll().onsuccess = (e) => {
                    for (const item of e.target.result.slice(0, 3))
                        store.put({...item, status: 'queued'});
                };
                tx.oncomplete = () => resolve();
                tx.onerror = () => reject(tx.error);
            };
        })"""
    )
    page.click("#sync-now")
    page.wait_for_function(
        "() => document.querySelectorAll('#outbox-list li[data-status=duplicate]').length === 3"
    )
    assert "已保存 10" in page.inner_text("#outbox-counts")

    switch_language(page, "en")
    assert page.inner_text("h1") == "Field filing"
    assert "10 saved" in page.inner_text("#outbox-counts")
    shot(page, "tablet-synced-en-1024x768")

    # the same crew on a phone picks the incident up from the server
    phone = open_page(locale="zh-CN", viewport=PHONE)
    visit(phone.page, f"{server.base}/tablet")
    sign_in(phone.page, server.tokens["crew"])
    phone.page.click("#incident-choices li:has-text('潭江江南桥下有人溺水') button >> nth=0")
    phone.page.wait_for_selector("#incident-current:not([hidden])")
    phone.page.wait_for_function(
        "() => document.querySelectorAll('#incident-log li[data-event-id]').length >= 8"
    )
    shot(phone.page, "tablet-phone-zh-390x844", full_page=False)
    shot(phone.page, "tablet-phone-zh-390x844-full")


def test_the_office_steps_through_the_rescue_corrects_and_reviews_it(
    server: Server, open_page: Any
) -> None:
    incident_id = server.shared.get("incident_id")
    if not incident_id:
        pytest.skip("needs the incident filed on /tablet")
    watched = open_page(locale="en-US", viewport=DESK)
    page = watched.page
    visit(page, f"{server.base}/review")
    sign_in(page, server.tokens["safety"])
    page.wait_for_selector(f"#incident-list li[data-incident-id='{incident_id}']")
    page.wait_for_selector("#live-status[data-state=open]")

    # the filters
    page.select_option("#f-kind", "cardiac_arrest")
    page.wait_for_function(
        "() => document.querySelectorAll('#incident-list li[data-incident-id]').length === 1"
    )
    page.select_option("#f-kind", "")
    page.select_option("#f-status", "open")
    page.wait_for_selector(f"#incident-list li[data-incident-id='{incident_id}']")

    page.click(f"#incident-list li[data-incident-id='{incident_id}'] button")
    page.wait_for_selector("#detail:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 8")
    assert page.inner_text("#step-label") == "Step 8 of 8"
    # 110 was called five minutes after it began
    chart = page.inner_text("#intervals")
    assert "To first call" in chart
    assert "—" in chart  # to_cpr_s and to_first_shock_s do not apply to a drowning

    page.click("#step-first")
    assert page.inner_text("#step-label") == "Step 1 of 8"
    assert "None" in page.inner_text("#state")  # nobody acted yet
    page.click("#step-next")
    page.click("#step-next")
    assert page.inner_text("#step-label") == "Step 3 of 8"
    assert "关锦康" in page.inner_text("#state")
    page.fill("#step-range", "5")
    assert page.inner_text("#step-label") == "Step 5 of 8"
    assert page.get_attribute("#timeline li:nth-child(5)", "aria-current") == "true"
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#step-label") == "Step 6 of 8"

    # as_of: only what had happened by a minute after it began
    with server.api("safety") as api:
        opened_at = api.get(f"/v1/incidents/{incident_id}").json()["opened_at"]
    page.check("#cut-asof-on")
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 1")
    assert page.inner_text("#step-label") == "Step 1 of 1"
    page.uncheck("#cut-asof-on")
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 8")
    # known_at before anything was recorded: nothing
    page.check("#cut-known-on")
    page.fill("#cut-known-at", "2025-01-01T00:00:00")
    page.wait_for_selector("text=No events in the chosen cut")
    page.uncheck("#cut-known-on")
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 8")
    assert opened_at.endswith("+08:00")

    # a correction: the 120 call was a minute later (from the phone's call log)
    call_120 = server.shared["call_120"]
    page.select_option("#c-entry", call_120)
    page.select_option("#c-field", "occurred_at")
    original = page.input_value("#c-value")
    corrected = original[:-2] + ("30" if original[-2:] != "30" else "45")
    page.fill("#c-value", corrected)
    page.fill("#c-reason", "per the phone's call log")
    page.click("#correction-form button[type=submit]")
    page.wait_for_selector("#correction-msg.ok")
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 9")
    assert page.inner_text("#step-label") == "Step 9 of 9"
    correction = page.inner_text("#timeline li[data-type=EntryCorrected]")
    assert "corrects #3" in correction
    marked = page.inner_text("#timeline li[data-version='3'] .marks")
    assert "corrected by #9" in marked

    # an event arrives live: thanks filed by the crew's tablet
    with server.api("crew") as api:
        filed = api.post(
            "/v1/events",
            json={
                "event_id": str(uuid.uuid4()),
                "type": "ThanksReceived",
                "stream_id": incident_id,
                "occurred_at": "2025-10-21T09:40:00+08:00",
                "from": "the family",
                "via": "Chikan police station",
            },
        )
        assert filed.status_code == 201, filed.text
    page.wait_for_selector(f"#live-list li[data-stream-id='{incident_id}']")
    page.wait_for_function("() => document.querySelectorAll('#timeline li').length === 10")
    assert "the family" in page.inner_text("#state")

    # the review
    page.fill("#review-text", "Called 110 within minutes; pole rescue well done.")
    page.click("#review-submit")
    page.wait_for_selector("#review-msg.ok")
    page.wait_for_function("() => document.querySelector('#d-status').textContent === 'Reviewed'")
    assert page.inner_text("#review-submit") == "Reopen the incident"
    shot(page, "review-en-1280x900")

    switch_language(page, "zh")
    assert page.inner_text("h1") == "安全监察 · 事件复核"
    assert "第 11 / 11 步" in page.inner_text("#step-label")
    assert "更正第 3 条" in page.inner_text("#timeline")
    page.set_viewport_size(TABLET)
    shot(page, "review-zh-1024x768")


def test_hr_approves_the_pending_commendation_and_downloads_the_report(
    server: Server, open_page: Any
) -> None:
    watched = open_page(locale="zh-CN", viewport=TABLET)
    page = watched.page
    visit(page, f"{server.base}/hr")
    sign_in(page, server.tokens["hr"])
    page.wait_for_selector("#people-table tbody tr")
    pending = "#pending article[data-status=endorsed]"
    page.wait_for_selector(pending)
    commendation_id = page.get_attribute(pending, "data-commendation-id")
    assert "周旺、岑旭敏" in page.inner_text(pending)
    shot(page, "hr-zh-1024x768")

    # approving needs an award
    page.click(f"{pending} button.approve")
    page.wait_for_selector(f"{pending} .msg.warn")
    page.fill(f"{pending} input.award", "见义勇为先进个人")
    page.click(f"{pending} button.approve")
    page.wait_for_selector("text=没有待决定的提名")
    with server.api("hr") as api:
        decided = api.get(f"/v1/commendations/{commendation_id}").json()
    assert decided["status"] == "approved"
    assert decided["award"] == "见义勇为先进个人"
    approved = page.inner_text(
        "#people-table tr[data-id=zhou-wang] td[data-col=commendations_approved]"
    )
    assert approved == "1"

    # a period with nothing in it
    page.fill("#p-from", "2024-01-01")
    page.fill("#p-to", "2024-12-31")
    page.click("#period-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#people-table tr[data-id=zhou-wang] td[data-col=rescues]')"
        ".textContent === '0'"
    )
    page.click("[data-preset=all_time]")
    page.wait_for_function(
        "() => document.querySelector('#people-table tr[data-id=zhou-wang] td[data-col=rescues]')"
        ".textContent === '1'"
    )

    with page.expect_download() as csv_download:
        page.click("#dl-csv")
    csv = Path(csv_download.value.path()).read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")
    header = csv[3:].decode("utf-8").splitlines()[0]
    assert header == (
        "person_id,name,crew_id,rescues,commendations_nominated,commendations_approved,thanks"
    )
    assert "周旺" in csv.decode("utf-8-sig")
    assert csv_download.value.suggested_filename.endswith(".csv")
    with page.expect_download() as pdf_download:
        page.click("#dl-pdf")
    assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF")

    switch_language(page, "en")
    assert page.inner_text("h1") == "HR · recognition"
    assert "No nominations awaiting a decision" in page.inner_text("#pending")
    page.click("details:has(#decided) summary")
    assert "见义勇为先进个人" in page.inner_text("#decided")
    shot(page, "hr-en-1024x768")


def test_a_rejected_token_asks_to_sign_in_again(server: Server, open_page: Any) -> None:
    watched = open_page(locale="en-US")
    page = watched.page
    # a 401 is logged by the browser as a failed resource: expected here
    visit(page, f"{server.base}/hr")
    page.fill("#token-input", "not-a-token")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-msg.err")
    assert page.get_attribute("body", "class") == "signed-out"
    assert "unknown, expired or revoked" in page.inner_text("#signin-msg")
    watched.errors[:] = [e for e in watched.errors if "401" not in e]
