"""Fixtures shared by every suite: one fresh store per test, on SQLite and PostgreSQL.

PostgreSQL runs when FIELDLOG_TEST_POSTGRES holds a URL (CI always sets it); each
test then gets an empty schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from incidents.application import FieldLog
from incidents.config import Settings
from incidents.roles import Actor

POSTGRES_URL = os.environ.get("FIELDLOG_TEST_POSTGRES", "")
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
    return Settings.from_env({"FIELDLOG_DB": db_url})


@pytest.fixture
def app(settings: Settings) -> Iterator[FieldLog]:
    application = FieldLog(settings)
    yield application
    application.close()
