"""A tablet's backlog: 10,000 queued events through `POST /v1/sync` in batches of 500.

Measured: seconds from the first request until the last answer (every result must be
`stored`). Ceiling in the same run: the same events saved by eventsourcing's
`Application.save` in batches of 500 (one call per batch, no HTTP). For attribution:
`FieldLog.submit_many` on the same batches without HTTP.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from bench.bare_app import Entry, open_bare
from bench.context import Context
from bench.loadgen import ClientWork, run_load
from bench.profile import Spy
from bench.report import Figure
from bench.servers import fieldlog_serve
from bench.stores import StoreKind, seed, server_env, settings_for
from bench.workload import make_registry, tablet_queue
from incidents.application import FieldLog

TARGET_SECONDS = 1.5


def batches(raws: list[Any], size: int) -> list[list[Any]]:
    return [raws[i : i + size] for i in range(0, len(raws), size)]


def run_http(ctx: Context, kind: StoreKind, registry: Any, raws: list[Any]) -> tuple[float, str]:
    url = kind.fresh("sync-http")
    crew = registry.crews[0]
    token = seed(url, registry)[crew.crew_id]
    server = fieldlog_serve(server_env(url), ctx.logdir, name=f"sync-{kind.name}")
    bodies = [
        orjson.dumps({"device_id": f"tablet-{crew.crew_id}", "events": chunk})
        for chunk in batches(raws, ctx.sizes.sync_batch)
    ]
    try:
        server.wait_up()
        spy = None
        if ctx.profile:
            out = ctx.workdir / "profiles" / f"sync-{kind.name}.txt"
            spy = Spy(server.process.pid, 3 + len(raws) / 1500, out)
        # No warm-up request: the backlog is sent once, as a tablet back online would.
        result = run_load(
            server.port or 0,
            [ClientWork("/v1/sync", bodies, token)],
            600.0,
            warmup=0,
            keep_bodies=True,
        )
        if spy is not None:
            spy.finish(f"/v1/sync of {len(raws):,} events on {kind.name}")
    finally:
        server.stop()
    stored = sum(
        1
        for body in result.bodies
        for r in orjson.loads(body)["results"]
        if r["result"] == "stored"
    )
    problem = "" if stored == len(raws) else f"only {stored} of {len(raws)} stored"
    if result.statuses.get(200, 0) != len(bodies):
        problem += f" statuses {dict(result.statuses)} {result.errors[:1]}"
    return result.seconds, problem


def run_ceiling(ctx: Context, kind: StoreKind, raws: list[Any]) -> float:
    url = kind.fresh("sync-ceiling")
    log = open_bare(url)
    try:
        chunks = batches(raws, ctx.sizes.sync_batch)
        began = time.perf_counter()
        for chunk in chunks:
            log.save(*(Entry(raw) for raw in chunk))
        return time.perf_counter() - began
    finally:
        log.close()


def run_submit_many(ctx: Context, kind: StoreKind, registry: Any, raws: list[Any]) -> float:
    url = kind.fresh("sync-direct")
    seed(url, registry)
    app = FieldLog(settings_for(url))
    actor = registry.crews[0].tablet
    try:
        began = time.perf_counter()
        for chunk in batches(raws, ctx.sizes.sync_batch):
            outcomes = app.submit_many(chunk, actor)
            assert all(o.result == "stored" for o in outcomes), outcomes[:1]
        return time.perf_counter() - began
    finally:
        app.close()


@dataclass(frozen=True)
class Round:
    """One timing of each way of storing the backlog, close together in time. The
    ceiling is taken just before and just after the others and averaged, so each ratio
    compares runs of the same minute: one sync is a second of twenty fsyncs on a shared
    machine, and the speed of that machine wanders by a third within minutes (ceiling
    0.47-0.75 s in runs minutes apart)."""

    http: float
    direct: float
    ceiling: float
    problem: str

    @property
    def http_ratio(self) -> float:
        return self.ceiling / self.http

    @property
    def direct_ratio(self) -> float:
        return self.ceiling / self.direct


def take_round(ctx: Context, kind: StoreKind, registry: Any, raws: list[Any]) -> Round:
    before = run_ceiling(ctx, kind, raws)
    http_s, problem = run_http(ctx, kind, registry, raws)
    direct_s = run_submit_many(ctx, kind, registry, raws)
    after = run_ceiling(ctx, kind, raws)
    return Round(http_s, direct_s, (before + after) / 2, problem)


def median_round(rounds: list[Round], key: Callable[[Round], float]) -> Round:
    """The round whose ratio is the median (its times and ratio stay one set): a round
    that met a slow minute on one side only is an outlier either way, and the median
    stands on neither."""
    return sorted(rounds, key=key)[len(rounds) // 2]


def _listed(ratios: list[float]) -> str:
    return "" if len(ratios) < 2 else "; rounds " + " / ".join(f"{r:.0%}" for r in ratios)


def bench_sync(ctx: Context) -> None:
    registry = make_registry(1)
    raws = [
        p.raw
        for p in itertools.islice(tablet_queue(registry.crews[0], seed=5), ctx.sizes.sync_events)
    ]
    n = len(raws)
    count = ctx.sizes.sync_rounds
    rounds_note = f", median of {count} rounds" if count > 1 else ""
    for kind in ctx.stores:
        rounds = [take_round(ctx, kind, registry, raws) for _ in range(count)]
        problem = next((r.problem for r in rounds if r.problem), "")
        median = median_round(rounds, lambda r: r.http_ratio)
        http_s, ceiling_s = median.http, median.ceiling
        ratio = median.http_ratio
        per_round = {
            "rounds": [{"http": r.http, "direct": r.direct, "ceiling": r.ceiling} for r in rounds]
        }
        ctx.report.add(
            Figure(
                "sync",
                kind.name,
                f"{n:,} events via /v1/sync, batches of {ctx.sizes.sync_batch}{rounds_note}",
                http_s,
                "s",
                ceiling=ceiling_s,
                ceiling_name="Application.save batches",
                ratio=ratio,
                target="≥ 60% of batched save",
                holds=ratio >= 0.6 and not problem,
                detail=(
                    f"{n / http_s:,.0f} ev/s{_listed([r.http_ratio for r in rounds])} {problem}"
                ).strip(),
                extra=per_round,
            )
        )
        if kind.name == "sqlite":
            ctx.report.add(
                Figure(
                    "sync",
                    kind.name,
                    f"{n:,} events via /v1/sync · time",
                    http_s,
                    "s",
                    target=f"< {TARGET_SECONDS} s for 10,000"
                    + ("" if n == 10_000 else f" (scaled: {TARGET_SECONDS * n / 10_000:.2f} s)"),
                    holds=http_s < TARGET_SECONDS * n / 10_000 and not problem,
                )
            )
        direct = median_round(rounds, lambda r: r.direct_ratio)
        ctx.report.add(
            Figure(
                "sync",
                kind.name,
                f"{n:,} events via FieldLog.submit_many, no HTTP",
                direct.direct,
                "s",
                ceiling=direct.ceiling,
                ceiling_name="Application.save batches",
                ratio=direct.direct_ratio,
                detail=f"{n / direct.direct:,.0f} ev/s" + _listed([r.direct_ratio for r in rounds]),
            )
        )
        ctx.report.add(
            Figure(
                "sync",
                kind.name,
                f"{n:,} events via Application.save batches (ceiling)",
                ceiling_s,
                "s",
                detail=f"{n / ceiling_s:,.0f} ev/s (before and after the others, averaged)",
            )
        )
