"""What every benchmark of one run shares: sizes, stores, folders, the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.report import Report
from bench.stores import StoreKind


@dataclass
class Sizes:
    ingest_clients: tuple[int, ...]
    ingest_seconds: float
    ingest_workers: tuple[int, ...]
    sync_events: int
    sync_batch: int
    sync_rounds: int  # rounds of the sync and its ceiling taken together; the median counts
    big_events: int
    catchup_seconds: float  # bound on each projection pass over the big log
    query_samples: int
    query_seconds: float  # bound on each kind of query
    scaleout_seconds: float
    scaleout_clients: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            ingest_clients=(1, 4, 16),
            ingest_seconds=6.0,
            ingest_workers=(1, 2),
            sync_events=10_000,
            sync_batch=500,
            sync_rounds=5,
            big_events=1_000_000,
            catchup_seconds=45.0,
            query_samples=200,
            query_seconds=20.0,
            scaleout_seconds=10.0,
            scaleout_clients=8,
        )

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            ingest_clients=(1, 4, 16),
            ingest_seconds=3.0,
            ingest_workers=(1,),
            sync_events=2_000,
            sync_batch=500,
            sync_rounds=1,
            big_events=5_000,
            catchup_seconds=20.0,
            query_samples=30,
            query_seconds=5.0,
            scaleout_seconds=3.0,
            scaleout_clients=4,
        )


@dataclass
class Context:
    report: Report
    sizes: Sizes
    stores: list[StoreKind]
    workdir: Path
    quick: bool
    profile: bool = False
    reuse_big: bool = False

    @property
    def logdir(self) -> Path:
        return self.workdir / "logs"

    def store(self, name: str) -> StoreKind | None:
        return next((s for s in self.stores if s.name == name), None)
