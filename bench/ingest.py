"""Single-event ingest: `POST /v1/events` from 1, 4 and 16 tablets at once.

Each client is one crew's tablet with its own token, filing its own patrols and
emergencies one event at a time on a keep-alive connection, for a bounded time.
Measured side by side on a fresh store each time, with the very same request bodies:

- `fieldlog serve` (uvloop and httptools, as `uvicorn[standard]` gives it), with its
  projection worker in a process of its own, as shipped;
- for attribution, the same with `FIELDLOG_PROJECTIONS=inline` (the worker a thread of
  the API's process, sharing its interpreter lock);
- the ceiling: `bench.bare_app`, a bare FastAPI endpoint that only does
  eventsourcing's `Application.save` of one event (same uvicorn settings);
- the ceiling without HTTP: the same saves straight from N threads;
- for attribution, `FieldLog.submit` from N threads with the inline projection
  worker running, as in the server, but no HTTP.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from bench.bare_app import Entry, open_bare
from bench.context import Context
from bench.loadgen import ClientWork, LoadResult, run_load
from bench.profile import Spy
from bench.report import Figure, percentile, ratio_of
from bench.servers import Process, bare_app, fieldlog_serve, uvicorn_asyncio
from bench.stores import StoreKind, seed, server_env, settings_for
from bench.workload import Registry, make_registry, tablet_queue
from incidents.application import FieldLog
from projections.runner import ProjectionWorker

WARMUP = 3
PER_RUN_EVENTS = 24_000  # generous: no client runs out within the time bound


@dataclass
class Measured:
    label: str
    rate: float
    p50_ms: float | None
    p99_ms: float | None
    count: int
    failures: int
    errors: list[str]


def measured(label: str, result: LoadResult) -> Measured:
    lat = [x * 1000 for x in result.latencies]
    failures = sum(n for status, n in result.statuses.items() if status >= 300) + result.dropped
    return Measured(
        label,
        result.rate,
        percentile(lat, 50),
        percentile(lat, 99),
        result.count,
        failures,
        result.errors,
    )


def client_work(registry: Registry, clients: int, tokens: dict[str, str] | None) -> list[list[Any]]:
    per_client = PER_RUN_EVENTS // clients + WARMUP
    out = []
    for i, crew in enumerate(registry.crews[:clients]):
        out.append([p.raw for p in itertools.islice(tablet_queue(crew, seed=100 + i), per_client)])
    return out


def http_run(
    server: Process, raws: list[list[Any]], tokens: list[str | None], seconds: float
) -> LoadResult:
    works = [
        ClientWork("/v1/events", [orjson.dumps(r) for r in client_raws], token)
        for client_raws, token in zip(raws, tokens, strict=True)
    ]
    try:
        server.wait_up()
        return run_load(server.port or 0, works, seconds, warmup=WARMUP)
    finally:
        server.stop()


def threads_run(calls: list[list[Callable[[], object]]], seconds: float) -> LoadResult:
    """Each thread makes its calls one after the other until the time is up."""
    result = LoadResult(seconds)
    barrier = threading.Barrier(len(calls) + 1)
    deadline = [float("inf")]
    lock = threading.Lock()

    def worker(own: list[Callable[[], object]]) -> None:
        for call in own[:WARMUP]:
            call()
        barrier.wait()
        local = []
        for call in own[WARMUP:]:
            if time.perf_counter() >= deadline[0]:
                break
            began = time.perf_counter()
            call()
            local.append(time.perf_counter() - began)
        with lock:
            result.latencies.extend(local)
            result.statuses[201] += len(local)

    threads = [threading.Thread(target=worker, args=(own,)) for own in calls]
    for t in threads:
        t.start()
    barrier.wait(timeout=120)
    began = time.perf_counter()
    deadline[0] = began + seconds
    for t in threads:
        t.join(timeout=seconds + 120)
    result.seconds = time.perf_counter() - began
    return result


def run_fieldlog(
    ctx: Context,
    kind: StoreKind,
    registry: Registry,
    raws: list[list[Any]],
    workers: int,
    projections: str = "",
) -> Measured:
    """`projections`: "" as shipped (`serve` runs its worker in a process of its own),
    or FIELDLOG_PROJECTIONS=inline (a worker thread in each API process)."""
    label = f"fieldlog serve w{workers}" + (f", projections {projections}" if projections else "")
    suffix = f"-{projections}" if projections else ""
    url = kind.fresh(f"ingest-fieldlog-{len(raws)}-w{workers}{suffix}")
    tokens = seed(url, registry)
    env = server_env(url, **({"FIELDLOG_PROJECTIONS": projections} if projections else {}))
    name = f"serve-{kind.name}-{len(raws)}-w{workers}{suffix}"
    server = fieldlog_serve(env, ctx.logdir, workers=workers, name=name)
    spy = None
    if (
        ctx.profile
        and workers == 1
        and not projections
        and len(raws) == max(ctx.sizes.ingest_clients)
    ):
        server.wait_up()
        spy = Spy(
            server.process.pid, ctx.sizes.ingest_seconds, ctx.workdir / "profiles" / f"{name}.txt"
        )
    tokens_of = [tokens[c.crew_id] for c in registry.crews[: len(raws)]]
    result = http_run(server, raws, tokens_of, ctx.sizes.ingest_seconds)
    if spy is not None:
        spy.finish(f"ingest, {kind.name}, {label}, {len(raws)} clients")
    return measured(label, result)


def run_asyncio_trap(
    ctx: Context, kind: StoreKind, registry: Registry, raws: list[list[Any]], workers: int
) -> Measured:
    url = kind.fresh(f"ingest-asyncio-{len(raws)}-w{workers}")
    tokens = seed(url, registry)
    server = uvicorn_asyncio(server_env(url), ctx.logdir, workers)
    result = http_run(
        server,
        raws,
        [tokens[c.crew_id] for c in registry.crews[: len(raws)]],
        ctx.sizes.ingest_seconds,
    )
    return measured(f"uvicorn --loop asyncio w{workers}", result)


def run_bare(ctx: Context, kind: StoreKind, raws: list[list[Any]], workers: int) -> Measured:
    url = kind.fresh(f"ingest-bare-{len(raws)}-w{workers}")
    open_bare(url).close()  # tables made once, before the workers start
    server = bare_app(server_env(url), ctx.logdir, workers)
    result = http_run(server, raws, [None] * len(raws), ctx.sizes.ingest_seconds)
    return measured(f"bare FastAPI save w{workers}", result)


def run_direct(ctx: Context, kind: StoreKind, raws: list[list[Any]]) -> Measured:
    url = kind.fresh(f"ingest-direct-{len(raws)}")
    log = open_bare(url)
    try:
        calls = [[_saver(log, raw) for raw in client_raws] for client_raws in raws]
        result = threads_run(calls, ctx.sizes.ingest_seconds)
    finally:
        log.close()
    return measured("Application.save, no HTTP", result)


def _saver(log: Any, raw: Any) -> Callable[[], object]:
    return lambda: log.save(Entry(raw))


def run_submit(
    ctx: Context, kind: StoreKind, registry: Registry, raws: list[list[Any]]
) -> Measured:
    url = kind.fresh(f"ingest-submit-{len(raws)}")
    seed(url, registry)
    app = FieldLog(settings_for(url))
    worker = ProjectionWorker(app)
    worker.start()
    try:
        calls = []
        for crew, client_raws in zip(registry.crews, raws, strict=False):
            actor = crew.tablet
            calls.append([_submitter(app, raw, actor) for raw in client_raws])
        result = threads_run(calls, ctx.sizes.ingest_seconds)
    finally:
        worker.stop()
        app.close()
    return measured("FieldLog.submit + projections, no HTTP", result)


def _submitter(app: FieldLog, raw: Any, actor: Any) -> Callable[[], object]:
    def call() -> object:
        outcome = app.submit(raw, actor)
        if outcome.result != "stored":
            raise RuntimeError(f"{outcome.result}: {outcome.detail}")
        return outcome

    return call


def bench_ingest(ctx: Context) -> dict[str, Any]:
    """Returns the measured points for the chart."""
    registry = make_registry(max(ctx.sizes.ingest_clients))
    points: dict[str, Any] = {}
    for kind in ctx.stores:
        for clients in ctx.sizes.ingest_clients:
            raws = client_work(registry, clients, None)
            rows: list[Measured] = []
            for workers in ctx.sizes.ingest_workers:
                if workers > 1 and clients == 1:
                    continue  # one keep-alive connection lands on one worker anyway
                rows.append(run_fieldlog(ctx, kind, registry, raws, workers))
                rows.append(run_bare(ctx, kind, raws, workers))
            rows.append(run_direct(ctx, kind, raws))
            if not ctx.quick:  # attribution: the worker in the API's process; HTTP
                rows.append(run_fieldlog(ctx, kind, registry, raws, 1, projections="inline"))
                rows.append(run_submit(ctx, kind, registry, raws))
            if kind.name == "sqlite" and clients in (1, 4) and not ctx.quick:
                for workers in (1, 2):
                    rows.append(run_asyncio_trap(ctx, kind, registry, raws, workers))
            add_figures(ctx, kind.name, clients, rows)
            points[f"{kind.name}/{clients}"] = [vars(r) for r in rows]
    return points


def add_figures(ctx: Context, store: str, clients: int, rows: list[Measured]) -> None:
    by_label = {r.label: r for r in rows}
    direct = by_label["Application.save, no HTTP"]
    for r in rows:
        detail = f"p50 {_ms(r.p50_ms)} p99 {_ms(r.p99_ms)} n={r.count}"
        if r.failures:
            detail += f" FAILED {r.failures}: {r.errors[:1]}"
        figure = Figure(
            "ingest", store, f"{clients:>2} clients · {r.label}", r.rate, "ev/s", detail=detail
        )
        figure.extra = {
            "of_direct_save": ratio_of(r.rate, direct.rate),
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
        }
        if r.label.startswith(("fieldlog serve", "uvicorn")):
            workers = r.label.split(" w", 1)[1][0]
            bare = by_label.get(f"bare FastAPI save w{workers}") or by_label.get(
                "bare FastAPI save w1"
            )
            if bare is not None:
                figure.ceiling, figure.ceiling_name = bare.rate, bare.label
                figure.ratio = ratio_of(r.rate, bare.rate)
            if is_product_default(r.label):
                figure.target = "≥ 50% of bare FastAPI save"
                figure.holds = figure.ratio is not None and figure.ratio >= 0.5 and not r.failures
        elif r.label.startswith(("bare", "FieldLog.submit")):
            figure.ceiling, figure.ceiling_name = direct.rate, "save, no HTTP"
            figure.ratio = ratio_of(r.rate, direct.rate)
        ctx.report.add(figure)
        if is_product_default(r.label) and store == "sqlite" and clients == 16:
            ctx.report.add(
                Figure(
                    "ingest",
                    store,
                    f"16 clients · {r.label} · p99",
                    r.p99_ms,
                    "ms",
                    target="p99 < 50 ms",
                    holds=r.p99_ms is not None and r.p99_ms < 50,
                )
            )


def is_product_default(label: str) -> bool:
    """`fieldlog serve` as shipped (its projection worker in a process of its own),
    whatever its --workers."""
    return label.startswith("fieldlog serve") and "projections" not in label


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"
