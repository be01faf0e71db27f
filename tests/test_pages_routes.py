"""The web pages as HTTP resources: served without a token, with security headers,
nothing from another origin, the service worker allowed to control /tablet, and no
file outside api/static/ reachable."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.pages import PAGES, SECURITY_HEADERS, STATIC_DIR
from incidents.config import Settings

PAGE_PATHS = sorted(PAGES)
ASSET_REF = re.compile(r"""(?:src|href)="(/[^"]*)\"""")
IMPORT_REF = re.compile(r"""from\s+"\./([^"]+)\"""")
SW_ASSETS = re.compile(r'^\s+"(/[^"]*)",$', re.MULTILINE)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from api.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('pages')}/fieldlog.sqlite"
    settings = Settings.from_env({**os.environ, "FIELDLOG_DB": url})
    with TestClient(create_app(settings)) as client:
        yield client


def assert_secure(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name
    assert "default-src 'self'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_each_page_is_served_without_a_token_with_security_headers(
    web: TestClient, path: str
) -> None:
    response = web.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_secure(response)
    assert '<script type="module"' in response.text
    assert web.head(path).status_code == 200


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_asset_a_page_names_is_served_from_this_origin(web: TestClient, path: str) -> None:
    html = web.get(path).text
    refs = ASSET_REF.findall(html)

    assert refs
    for ref in refs:
        response = web.get(ref)
        assert response.status_code == 200, ref
        assert_secure(response)


def test_scripts_are_javascript_and_their_imports_exist() -> None:
    for script in STATIC_DIR.glob("*.js"):
        for imported in IMPORT_REF.findall(script.read_text(encoding="utf-8")):
            assert (STATIC_DIR / imported).is_file(), f"{script.name} imports {imported}"


def test_static_scripts_answer_as_javascript(web: TestClient) -> None:
    response = web.get("/static/tablet.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_nothing_is_loaded_from_another_origin() -> None:
    allowed = {"http://www.w3.org/2000/svg"}
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'`)]*", text))
            assert urls <= allowed, f"{path.name}: {urls - allowed}"


def test_the_service_worker_may_control_the_tablet_page(web: TestClient) -> None:
    response = web.get("/tablet/sw.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["Service-Worker-Allowed"] == "/tablet"
    assert "__ASSET_VERSION__" not in response.text
    cached = SW_ASSETS.findall(response.text)
    assert "/tablet" in cached
    for asset in cached:
        assert web.get(asset).status_code == 200, asset
    # every module the tablet imports is cached for offline use
    tablet_modules = {"/static/tablet.js"}
    pending = ["tablet.js"]
    while pending:
        for imported in IMPORT_REF.findall((STATIC_DIR / pending.pop()).read_text("utf-8")):
            if f"/static/{imported}" not in tablet_modules:
                tablet_modules.add(f"/static/{imported}")
                pending.append(imported)
    assert tablet_modules <= set(cached)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/",
        "/static/missing.js",
        "/static/sw.js",
    ],
)
def test_no_file_outside_the_static_folder_is_reachable(web: TestClient, path: str) -> None:
    response = web.get(path)

    assert response.status_code == 404
    assert "create_app" not in response.text


def test_the_static_folder_holds_only_what_the_pages_use() -> None:
    names = {p.name for p in STATIC_DIR.iterdir()}

    assert {"tablet.html", "review.html", "hr.html", "i18n.js", "sw.js"} <= names
    assert all(
        Path(name).suffix in {".html", ".js", ".css", ".svg", ".webmanifest"} for name in names
    )
