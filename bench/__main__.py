"""`python -m bench [--quick] [--only ingest,sync,big,scaleout] [--stores sqlite,postgres]`

Runs the benchmarks, prints each one's figures as a table next to its ceiling and
appends them to bench/results.jsonl. PostgreSQL is measured when a URL is given by
--postgres or FIELDLOG_BENCH_POSTGRES (that database is emptied: give it its own).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.context import Context, Sizes
from bench.report import RESULTS, Report, console
from bench.stores import StoreKind

BENCHES = ("ingest", "sync", "big", "scaleout")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke test)")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated benchmarks")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("FIELDLOG_BENCH_POSTGRES", ""),
        help="PostgreSQL URL (emptied!); default $FIELDLOG_BENCH_POSTGRES",
    )
    parser.add_argument("--workdir", default="", help="where the stores go (default: a temp dir)")
    parser.add_argument("--results", default=str(RESULTS), help="the JSON-lines file to append to")
    parser.add_argument("--big-events", type=int, default=0, help="override the big log's size")
    parser.add_argument(
        "--reuse-big",
        action="store_true",
        help="reuse the big SQLite log of an earlier run in --workdir (saves its generation)",
    )
    parser.add_argument("--profile", action="store_true", help="profile the misses (py-spy)")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--chart", default="", help="where the ingest chart goes (bench/ingest.png)"
    )
    return parser.parse_args(argv)


def make_stores(args: argparse.Namespace, workdir: Path) -> list[StoreKind]:
    wanted = [s.strip() for s in args.stores.split(",") if s.strip()]
    stores: list[StoreKind] = []
    if "sqlite" in wanted:
        stores.append(StoreKind("sqlite", workdir / "sqlite"))
    if "postgres" in wanted:
        if args.postgres:
            stores.append(StoreKind("postgres", workdir / "pg", args.postgres))
        else:
            console.print(
                "[yellow]PostgreSQL skipped: no --postgres / FIELDLOG_BENCH_POSTGRES[/yellow]"
            )
    return stores


TITLES = {
    "ingest": "ingest: single-event POST /v1/events",
    "sync": "sync: a tablet's backlog through /v1/sync",
    "big": "big log: projections and queries",
    "scaleout": "scale-out: 2 API processes + 1 projection worker on one PostgreSQL",
}


def run_one(ctx: Context, bench: str, args: argparse.Namespace) -> None:
    if bench == "ingest":
        from bench.ingest import bench_ingest

        points = bench_ingest(ctx)
        if not args.no_chart:
            from bench.chart import ingest_chart

            ingest_chart(points, ctx, *([Path(args.chart)] if args.chart else []))
    elif bench == "sync":
        from bench.sync import bench_sync

        bench_sync(ctx)
    elif bench == "big":
        from bench.big import bench_big

        bench_big(ctx)
    elif bench == "scaleout":
        from bench.scaleout import bench_scaleout

        bench_scaleout(ctx)


def run(ctx: Context, only: list[str], args: argparse.Namespace) -> None:
    """Each benchmark in turn; one that fails is reported and the others still run."""
    for bench in BENCHES:
        if bench not in only:
            continue
        try:
            run_one(ctx, bench, args)
        except Exception:
            console.print_exception(max_frames=8)
            ctx.report.failed.append(bench)
        finally:
            ctx.report.section(bench, TITLES[bench])


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(only) - set(BENCHES)
    if unknown:
        console.print(f"[red]unknown benchmark(s): {', '.join(sorted(unknown))}[/red]")
        return 2
    owned_tmp = not args.workdir
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="fieldlog-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stores = make_stores(args, workdir)
    sizes = Sizes.quick() if args.quick else Sizes.full()
    if args.big_events:
        sizes.big_events = args.big_events
    report = Report("quick" if args.quick else "full", [s.name for s in stores], Path(args.results))
    ctx = Context(
        report, sizes, stores, workdir, args.quick, profile=args.profile, reuse_big=args.reuse_big
    )
    m = report.machine
    console.print(
        f"[bold]fieldlog bench[/bold] ({report.mode}, run {report.run_id}): {m['nproc']} cores "
        f"{m['cpu_model']}, Python {m['python']}, load {m['load_average']}, "
        f"stores {', '.join(s.name for s in stores)}; work in {workdir}"
    )
    try:
        run(ctx, only, args)
    finally:
        if owned_tmp:
            shutil.rmtree(workdir, ignore_errors=True)
    report.summary()
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
