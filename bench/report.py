"""Figures: printed as a rich table per benchmark, appended to bench/results.jsonl.

Each figure is measured side by side with its ceiling in the same run; the ratio
(figure / ceiling, or ceiling / figure for times, so that higher is always better)
is what a target is checked against, because the machine is shared and noisy.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.machine import describe, load_average

RESULTS = Path(__file__).resolve().parent / "results.jsonl"
console = Console(width=None if sys.stdout.isatty() else 200)


@dataclass
class Figure:
    bench: str
    store: str
    name: str
    value: float | None
    unit: str
    ceiling: float | None = None
    ceiling_name: str | None = None
    ratio: float | None = None
    target: str | None = None
    holds: bool | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def ratio_of(
    value: float | None, ceiling: float | None, lower_is_better: bool = False
) -> float | None:
    if value is None or ceiling is None or value == 0 or ceiling == 0:
        return None
    return ceiling / value if lower_is_better else value / ceiling


class Report:
    def __init__(self, mode: str, stores: list[str], results: Path = RESULTS) -> None:
        self.run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.mode = mode
        self.stores = stores
        self.results = results
        self.machine = describe()
        self.figures: list[Figure] = []
        self.printed: set[str] = set()
        self.failed: list[str] = []
        self.started = time.monotonic()

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def section(self, bench: str, title: str) -> None:
        """Print and save the figures of one benchmark (once, when it is done)."""
        if bench in self.printed:
            return
        self.printed.add(bench)
        figures = [f for f in self.figures if f.bench == bench]
        if not figures:
            return
        load = load_average()
        table = Table(title=f"{title}  (load average {' '.join(map(str, load))})")
        for column, justify in (
            ("store", "left"),
            ("figure", "left"),
            ("value", "right"),
            ("ceiling", "right"),
            ("ratio", "right"),
            ("detail", "left"),
            ("target", "left"),
            ("holds", "center"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for f in figures:
            table.add_row(
                f.store,
                f.name,
                fmt(f.value, f.unit),
                "" if f.ceiling is None else f"{fmt(f.ceiling, f.unit)} ({f.ceiling_name})",
                "" if f.ratio is None else f"{f.ratio:.0%}",
                f.detail,
                f.target or "",
                {True: "[green]yes[/green]", False: "[red]NO[/red]", None: ""}[f.holds],
            )
        console.print(table)
        self.results.parent.mkdir(parents=True, exist_ok=True)
        with self.results.open("ab") as out:
            for f in figures:
                line = {
                    "run": self.run_id,
                    "mode": self.mode,
                    "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "machine": {**self.machine, "load_average": load},
                    **asdict(f),
                }
                out.write(orjson.dumps(line) + b"\n")

    def summary(self) -> None:
        checked = [f for f in self.figures if f.holds is not None]
        table = Table(title=f"targets ({self.mode} run {self.run_id})")
        for column in ("bench", "store", "figure", "target", "holds"):
            table.add_column(column)
        for f in checked:
            table.add_row(
                f.bench,
                f.store,
                f.name,
                f.target or "",
                "[green]yes[/green]" if f.holds else "[red]NO[/red]",
            )
        console.print(table)
        held = sum(1 for f in checked if f.holds)
        if self.failed:
            console.print(f"[red]benchmarks that failed: {', '.join(self.failed)}[/red]")
        console.print(
            f"{held} of {len(checked)} target checks hold; whole run "
            f"{time.monotonic() - self.started:.0f} s; results appended to {self.results}"
        )


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("ms",):
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "":
        return f"{value:g}"
    return f"{value:,.0f} {unit}"


def percentile(samples: list[float], p: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
