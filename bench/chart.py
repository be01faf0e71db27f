"""bench/ingest.png: ingest events/s and p99 against concurrency, both stores, next to
the ceilings measured in the same run (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.context import Context
from bench.report import console

CHART = Path(__file__).resolve().parent / "ingest.png"
SERIES = (
    ("fieldlog serve w1", "-", "o"),
    ("fieldlog serve w2", "-", "s"),
    ("fieldlog serve w1, projections inline", "-.", "d"),
    ("bare FastAPI save w1", "--", "^"),
    ("Application.save, no HTTP", ":", "v"),
)
COLOURS = {"sqlite": "tab:blue", "postgres": "tab:orange"}


def ingest_chart(points: dict[str, Any], ctx: Context, path: Path = CHART) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        console.print(
            "[yellow]no chart: matplotlib is not installed (pip install -e '.[bench]')[/yellow]"
        )
        return None
    fig, (rate_ax, p99_ax) = plt.subplots(1, 2, figsize=(12, 5))
    for store in [s.name for s in ctx.stores]:
        for label, style, marker in SERIES:
            xs, rates, p99s = [], [], []
            for clients in ctx.sizes.ingest_clients:
                rows = {r["label"]: r for r in points.get(f"{store}/{clients}", [])}
                if label in rows:
                    xs.append(clients)
                    rates.append(rows[label]["rate"])
                    p99s.append(rows[label]["p99_ms"] or 0)
            if not xs:
                continue
            name = f"{store}: {label}"
            rate_ax.plot(xs, rates, style, marker=marker, color=COLOURS[store], label=name)
            p99_ax.plot(xs, p99s, style, marker=marker, color=COLOURS[store], label=name)
    m = ctx.report.machine
    for ax, title, unit in (
        (rate_ax, "events stored per second", "events/s"),
        (p99_ax, "p99 latency", "ms"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(ctx.sizes.ingest_clients), [str(c) for c in ctx.sizes.ingest_clients])
        ax.set_xlabel("concurrent clients (one keep-alive connection each)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    p99_ax.axhline(50, color="grey", linewidth=0.8)
    p99_ax.text(1, 52, "target at 16 clients (SQLite): 50 ms", color="grey", fontsize=8)
    rate_ax.legend(fontsize=7, loc="center right")
    fig.suptitle(
        f"fieldlog ingest: POST /v1/events vs the save ceiling ({ctx.report.mode} run "
        f"{ctx.report.run_id}; {m['nproc']} cores, load {m['load_average']})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    console.print(f"chart written to {path}")
    return path
