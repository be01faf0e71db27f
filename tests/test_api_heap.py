"""Scenario: `fieldlog serve` is a long-lived process, so the objects it builds at start-up
(routes, models, schemas) are frozen out of the garbage collector's walks; an app built
for one test is not (freezing there would only pile up a test run's objects)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app, served_app
from tests.conftest import test_settings as store_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_served_app_freezes_its_startup_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    # given the app as `fieldlog serve` builds it, on a store named by the environment
    monkeypatch.setenv("FIELDLOG_DB", f"sqlite:///{tmp_path}/fieldlog.sqlite")
    monkeypatch.setenv("FIELDLOG_PROJECTIONS", "external")
    assert gc.get_freeze_count() == 0
    # when it has started
    with TestClient(served_app()) as client:
        # then its start-up objects are out of the collector's generations, and it serves
        assert gc.get_freeze_count() > 10_000
        assert client.get("/healthz").status_code == 200


def test_an_app_built_for_a_test_leaves_the_collector_alone(tmp_path: Path, unfrozen: None) -> None:
    with TestClient(create_app(store_settings(f"sqlite:///{tmp_path}/fieldlog.sqlite"))) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
