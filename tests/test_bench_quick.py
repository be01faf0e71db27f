"""The benchmark suite's quick mode runs to the end and prints its figures.

A smoke test only: it asserts nothing about time (the machine is shared and noisy).
SQLite always; PostgreSQL when FIELDLOG_TEST_POSTGRES is set (that database is emptied
by the benchmarks, as by the other suites).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import POSTGRES_URL

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_quick_bench_completes_and_prints_figures(store: str, tmp_path: Path) -> None:
    if store == "postgres" and not POSTGRES_URL:
        pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
    results = tmp_path / "results.jsonl"
    argv = [
        sys.executable, "-m", "bench", "--quick", "--stores", store,
        "--workdir", str(tmp_path / "work"), "--results", str(results),
        "--chart", str(tmp_path / "ingest.png"),
    ]  # fmt: skip
    if store == "postgres":
        argv += ["--postgres", POSTGRES_URL]
    run = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=580, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    for title in ("ingest: single-event POST /v1/events", "sync:", "big log:"):
        assert title in run.stdout, run.stdout[-4000:]
    assert "ev/s" in run.stdout
    lines = [orjson.loads(line) for line in results.read_bytes().splitlines()]
    benches = {line["bench"] for line in lines}
    assert {"ingest", "sync", "big"} <= benches
    if store == "postgres":
        assert "scaleout" in benches
    assert all(line["machine"]["nproc"] for line in lines)
    assert any(line["value"] is not None for line in lines)
