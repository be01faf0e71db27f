"""The web pages: /tablet (crews filing, offline-first), /review (safety office), /hr.

Plain HTML, CSS and JavaScript modules from `api/static/`, no build step and nothing
fetched from another origin. The pages themselves need no token: it is entered on
the page and sent by the page's own API calls as `Authorization: Bearer`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGES = {"/tablet": "tablet.html", "/review": "review.html", "/hr": "hr.html"}
SERVICE_WORKER = "sw.js"
SERVICE_WORKER_SCOPE = "/tablet"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _headers(**extra: str) -> dict[str, str]:
    return {**SECURITY_HEADERS, "Cache-Control": "no-cache", **extra}


@lru_cache(maxsize=1)
def asset_version() -> str:
    """A digest of every static file: the service worker's cache name changes with it,
    so a tablet picks up new pages and scripts on its next visit online."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _static_file(relative: str) -> Path | None:
    """The file under STATIC_DIR named by a URL path, or None (never outside the folder)."""
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    candidate = (STATIC_DIR / relative).resolve()
    if not candidate.is_relative_to(STATIC_DIR) or not candidate.is_file():
        return None
    if candidate.suffix not in MEDIA_TYPES:
        return None
    return candidate


def _not_found() -> Response:
    return Response(b"not found", status_code=404, media_type="text/plain", headers=_headers())


def _page(name: str) -> Response:
    return Response(
        (STATIC_DIR / name).read_bytes(),
        media_type=MEDIA_TYPES[".html"],
        headers=_headers(),
    )


@router.api_route("/tablet", methods=["GET", "HEAD"])
def tablet_page() -> Response:
    """Crews filing in the field: works offline, syncs when back online."""
    return _page(PAGES["/tablet"])


@router.api_route("/review", methods=["GET", "HEAD"])
def review_page() -> Response:
    """The safety office: incident list and step-by-step replay."""
    return _page(PAGES["/review"])


@router.api_route("/hr", methods=["GET", "HEAD"])
def hr_page() -> Response:
    """HR: recognition report with downloads, commendation decisions."""
    return _page(PAGES["/hr"])


@router.api_route("/tablet/sw.js", methods=["GET", "HEAD"])
def service_worker() -> Response:
    """The tablet's service worker, allowed to control `/tablet` itself."""
    text = (STATIC_DIR / SERVICE_WORKER).read_text(encoding="utf-8")
    return Response(
        text.replace("__ASSET_VERSION__", asset_version()),
        media_type=MEDIA_TYPES[".js"],
        headers=_headers(**{"Service-Worker-Allowed": SERVICE_WORKER_SCOPE}),
    )


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
def static_asset(path: str) -> Response:
    """Scripts, styles and icons of the pages."""
    found = _static_file(path)
    if found is None or found.name == SERVICE_WORKER:
        return _not_found()
    return Response(found.read_bytes(), media_type=MEDIA_TYPES[found.suffix], headers=_headers())
