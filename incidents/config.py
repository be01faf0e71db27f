"""Configuration from the environment (names fixed by the product contract)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

DEFAULT_DB = "sqlite:///var/fieldlog.sqlite"


class ConfigurationError(Exception):
    """A setting that cannot work; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    db_url: str
    tz: ZoneInfo
    rate_limit: int
    secret_key: str | None
    inline_projections: bool = True

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith(("postgresql://", "postgres://"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        tz_name = env.get("FIELDLOG_TZ") or "Asia/Shanghai"
        try:
            tz = ZoneInfo(tz_name)
        except (KeyError, ValueError):
            raise ConfigurationError(f"FIELDLOG_TZ={tz_name!r} is not a time zone name") from None
        raw_limit = env.get("FIELDLOG_RATE_LIMIT") or "600"
        try:
            rate_limit = int(raw_limit)
        except ValueError:
            raise ConfigurationError(
                f"FIELDLOG_RATE_LIMIT={raw_limit!r} must be a whole number (0 turns it off)"
            ) from None
        return cls(
            db_url=env.get("FIELDLOG_DB") or DEFAULT_DB,
            tz=tz,
            rate_limit=rate_limit,
            secret_key=env.get("FIELDLOG_SECRET_KEY") or None,
            inline_projections=(env.get("FIELDLOG_PROJECTIONS") or "inline") != "external",
        )

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for this database URL.

        Aggregates are cached and fast-forwarded from the store on every read, so a
        long incident is not replayed from its first event for each new one.
        """
        store = postgres_env(self.db_url) if self.is_postgres else sqlite_env(self.db_url)
        return {**store, "AGGREGATE_CACHE_MAXSIZE": "2000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ConfigurationError(
            f"FIELDLOG_DB={url!r}: use sqlite:///relative/path, sqlite:////absolute/path "
            "or postgresql://USER:PASS@HOST:PORT/DB"
        )
    rest = url.removeprefix("sqlite:///")
    if not rest or rest.endswith("/"):
        raise ConfigurationError(f"FIELDLOG_DB={url!r}: the SQLite URL must name a file")
    return Path(rest)


def sqlite_env(url: str) -> dict[str, str]:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": "incidents.store:SQLiteFieldlogRecorder",
    }


def postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if not (parts.hostname and dbname and parts.username):
        raise ConfigurationError(
            f"FIELDLOG_DB: a PostgreSQL URL needs user, host and database: "
            f"postgresql://USER:PASS@HOST:PORT/DB (got {parts.scheme}://…)"
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": "incidents.store:PostgresFieldlogRecorder",
    }
