"""Fresh stores for each measurement, seeded with a registry and crew tokens.

SQLite: a new file under the run's work folder. PostgreSQL: the database named by
FIELDLOG_BENCH_POSTGRES (or --postgres) is emptied (`DROP SCHEMA public CASCADE`)
before each measurement, so give the benchmarks a database of their own.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.bulk import BulkWriter
from bench.workload import Registry
from incidents.application import FieldLog
from incidents.config import Settings
from incidents.tokens import TokenBook

# The test suite's master secret (tests/conftest.py): any base64 of 32 bytes will do.
BENCH_SECRET_KEY = "ZmllbGRsb2ctdGVzdC1zZWNyZXQta2V5LTMyYnl0ZXM="


@dataclass
class StoreKind:
    name: str  # "sqlite" | "postgres"
    workdir: Path
    postgres_url: str | None = None
    counter: int = 0

    def fresh(self, label: str) -> str:
        """The URL of an empty store."""
        self.counter += 1
        if self.name == "sqlite":
            folder = self.workdir / f"{self.counter:03d}-{label}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{folder}/fieldlog.sqlite"
        assert self.postgres_url
        reset_postgres(self.postgres_url)
        return self.postgres_url


def reset_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def server_env(url: str, **more: str) -> dict[str, str]:
    """The environment of a `fieldlog` process on this store (rate limit off: the
    benchmark is one token per tablet sending far more than 600 writes a minute)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLOG_")}
    env.update(
        FIELDLOG_DB=url,
        FIELDLOG_SECRET_KEY=BENCH_SECRET_KEY,
        FIELDLOG_RATE_LIMIT="0",
        **more,
    )
    return env


def settings_for(url: str) -> Settings:
    return Settings.from_env(
        {"FIELDLOG_DB": url, "FIELDLOG_SECRET_KEY": BENCH_SECRET_KEY, "FIELDLOG_RATE_LIMIT": "0"}
    )


def seed(url: str, registry: Registry, office: bool = False) -> dict[str, str]:
    """Register the people and crews; answer a bearer token per crew (keyed by crew id),
    and with `office` one for `safety` and one for `hr` too."""
    app = FieldLog(settings_for(url))
    try:
        BulkWriter(app).register(registry)
        book = TokenBook(app.store)
        tokens = {
            crew.crew_id: book.create(
                "crew", crew_id=crew.crew_id, name=f"tablet-{crew.crew_id}"
            ).token
            for crew in registry.crews
        }
        if office:
            tokens["safety"] = book.create("safety", name="bench-office").token
            tokens["hr"] = book.create("hr", name="bench-hr").token
    finally:
        app.close()
    return tokens
