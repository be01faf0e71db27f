"""Scale-out on one PostgreSQL: two `fieldlog serve` processes with
FIELDLOG_PROJECTIONS=external and one `fieldlog projections run` worker.

Tablets file through both servers at once (half of them on each) for a bounded time;
then, once the worker has caught up with the log's head, the read side must count every
event once: the incident list holds exactly the incidents filed, each crew's timeline
exactly the events filed for it, and the recognition report's rescues and thanks are
those of the filed events (no event lost, none applied twice). Compared with the same
load against a single `fieldlog serve` (with the projection worker it runs itself) in
the same run.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from typing import Any

import orjson

from bench.context import Context
from bench.ingest import PER_RUN_EVENTS, WARMUP
from bench.loadgen import ClientWork, LoadResult, get_json, run_load
from bench.report import Figure, console, percentile, ratio_of
from bench.servers import Process, fieldlog_serve, projections_run
from bench.stores import StoreKind, seed, server_env
from bench.workload import Registry, make_registry, tablet_queue

CATCH_UP_TIMEOUT = 300.0


def split_load(servers: list[Process], works: list[ClientWork], seconds: float) -> LoadResult:
    """Clients alternate between the servers; all run at once (one event loop)."""
    import asyncio

    from bench.loadgen import _loop_run, _run

    async def both() -> LoadResult:
        parts = await asyncio.gather(
            *(
                _run(server.port or 0, works[i :: len(servers)], seconds, WARMUP, True)
                for i, server in enumerate(servers)
            )
        )
        merged = LoadResult(max(p.seconds for p in parts))
        for p in parts:
            merged.latencies += p.latencies
            merged.statuses.update(p.statuses)
            merged.errors += p.errors
            merged.dropped += p.dropped
            merged.bodies += p.bodies
        return merged

    return _loop_run(both())


def expected_counts(raws_sent: list[dict[str, Any]]) -> dict[str, Any]:
    incidents = {r["stream_id"] for r in raws_sent if r["type"] == "IncidentOpened"}
    crew_of_stream: dict[str, str] = {}
    for r in raws_sent:
        if r["type"] in ("IncidentOpened", "PatrolStarted"):
            crew_of_stream[r["stream_id"]] = r["crew_id"]
    per_crew: dict[str, int] = defaultdict(int)
    rescued: dict[str, set[str]] = defaultdict(set)
    for r in raws_sent:
        crew = crew_of_stream[r["stream_id"]]
        per_crew[crew] += 1
        if r["type"] in ("EmergencyServicesCalled", "RescueActionTaken"):
            rescued[crew].add(r["stream_id"])
    return {
        "incidents": len(incidents),
        "per_crew": dict(per_crew),
        "crew_rescues": {c: len(s) for c, s in rescued.items()},
    }


def wait_caught_up(reader: Process, timeout: float) -> float:
    """Seconds until every projection's lag is 0 (from /metrics), bounded."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        import urllib.request

        with urllib.request.urlopen(reader.base_url + "/metrics", timeout=5) as r:
            text = r.read().decode()
        lags = [
            int(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("fieldlog_projection_lag{")
        ]
        if lags and all(lag == 0 for lag in lags):
            return time.monotonic() - began
        time.sleep(0.2)
    raise RuntimeError(f"the projection worker did not catch up in {timeout} s")


def all_items(port: int, path: str, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        sep = "&" if "?" in path else "?"
        status, body = get_json(
            port, f"{path}{sep}limit=1000" + (f"&cursor={cursor}" if cursor else ""), token
        )
        if status != 200 or not isinstance(body, dict):
            raise RuntimeError(f"GET {path}: {status} {body}")
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    return items


def bench_scaleout(ctx: Context) -> None:
    kind = ctx.store("postgres")
    if kind is None:
        console.print("[yellow]scale-out skipped: it needs PostgreSQL[/yellow]")
        return
    clients = ctx.sizes.scaleout_clients
    registry = make_registry(clients, prefix="so-")
    raws = [
        [
            p.raw
            for p in itertools.islice(tablet_queue(crew, seed=300 + i), PER_RUN_EVENTS // clients)
        ]
        for i, crew in enumerate(registry.crews)
    ]
    single = run_single(ctx, kind, registry, raws)
    scaled, checks = run_scaled(ctx, kind, registry, raws)
    ratio = ratio_of(scaled.rate, single.rate)
    lat = [x * 1000 for x in scaled.latencies]
    ctx.report.add(
        Figure(
            "scaleout",
            kind.name,
            f"{clients} clients over 2 × fieldlog serve + 1 projections worker",
            scaled.rate,
            "ev/s",
            ceiling=single.rate,
            ceiling_name="1 × fieldlog serve",
            ratio=ratio,
            detail=f"p50 {percentile(lat, 50) or 0:.1f}ms p99 {percentile(lat, 99) or 0:.1f}ms "
            f"n={scaled.count}; worker caught up {checks['catch_up_s']:.1f} s after the load",
        )
    )
    for name, (got, want) in checks["counts"].items():
        ctx.report.add(
            Figure(
                "scaleout",
                kind.name,
                f"counted once: {name}",
                got,
                "",
                ceiling=want,
                ceiling_name="filed",
                target="= filed",
                holds=got == want,
            )
        )


def run_single(
    ctx: Context, kind: StoreKind, registry: Registry, raws: list[list[Any]]
) -> LoadResult:
    url = kind.fresh("scaleout-single")
    tokens = seed(url, registry)
    server = fieldlog_serve(server_env(url), ctx.logdir, name="scaleout-single")
    works = [
        ClientWork("/v1/events", [orjson.dumps(r) for r in rs], tokens[c.crew_id])
        for c, rs in zip(registry.crews, raws, strict=True)
    ]
    try:
        server.wait_up()
        return run_load(server.port or 0, works, ctx.sizes.scaleout_seconds, warmup=WARMUP)
    finally:
        server.stop()


def run_scaled(
    ctx: Context, kind: StoreKind, registry: Registry, raws: list[list[Any]]
) -> tuple[LoadResult, dict[str, Any]]:
    url = kind.fresh("scaleout")
    tokens = seed(url, registry, office=True)
    env = server_env(url, FIELDLOG_PROJECTIONS="external")
    servers = [fieldlog_serve(env, ctx.logdir, name=f"scaleout-serve-{i}") for i in (1, 2)]
    worker = projections_run(env, ctx.logdir)
    works = [
        ClientWork("/v1/events", [orjson.dumps(r) for r in rs], tokens[c.crew_id])
        for c, rs in zip(registry.crews, raws, strict=True)
    ]
    try:
        for s in servers:
            s.wait_up()
        result = split_load(servers, works, ctx.sizes.scaleout_seconds)
        catch_up_s = wait_caught_up(servers[0], CATCH_UP_TIMEOUT)
        sent = stored_raws(works, raws, result)
        checks = {"catch_up_s": catch_up_s, "counts": count_checks(servers, tokens, registry, sent)}
    finally:
        for s in servers:
            s.stop()
        worker.stop()
    return result, checks


def stored_raws(
    works: list[ClientWork], raws: list[list[Any]], result: LoadResult
) -> list[dict[str, Any]]:
    """The events the servers answered `stored` for (warm-up ones included)."""
    by_id = {r["event_id"]: r for rs in raws for r in rs}
    stored = []
    for body in result.bodies:
        answer = orjson.loads(body)
        if answer.get("result") == "stored":
            stored.append(by_id[answer["event_id"]])
    # The warm-up events were stored too (not timed, not kept): the first WARMUP of each.
    stored += [r for rs in raws for r in rs[:WARMUP]]
    return stored


def count_checks(
    servers: list[Process], tokens: dict[str, str], registry: Registry, sent: list[dict[str, Any]]
) -> dict[str, tuple[int, int]]:
    want = expected_counts(sent)
    office = tokens["safety"]
    port = servers[1].port or 0
    incidents = all_items(port, "/v1/incidents", office)
    timeline_total = 0
    for i, crew in enumerate(registry.crews):
        reader = servers[i % 2].port or 0
        timeline_total += len(all_items(reader, f"/v1/crews/{crew.crew_id}/timeline", office))
    status, report = get_json(servers[0].port or 0, "/v1/reports/recognition", office)
    if status != 200 or not isinstance(report, dict):
        raise RuntimeError(f"GET /v1/reports/recognition: {status} {report}")
    rescues = sum(c["rescues"] for c in report["crews"])
    return {
        "incidents listed": (len(incidents), want["incidents"]),
        "events on the crews' timelines": (timeline_total, sum(want["per_crew"].values())),
        "crews' rescues in the recognition report": (rescues, sum(want["crew_rescues"].values())),
    }
