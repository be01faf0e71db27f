"""Where the time goes: py-spy attached to a running process (a server under load, a
projection pass), its samples summed per thread role and per function.

Percentages are inclusive (a function and everything it calls) and relative to the
samples of that thread role while it was busy: a request thread waiting for work, the
projection thread waiting to be woken and the event loop waiting in epoll are left out,
but a request waiting for a database connection counts (it is part of its latency).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.report import console

ROLES = (
    ("request threads", "WorkerThread.run"),
    ("projection worker", "ProjectionWorker._follow"),
    ("projection pass", "ProjectionWorker.catch_up"),
    ("event loop", "Runner.run"),
)
# A thread waiting for work: the frame its role's marker calls next.
IDLE_NEXT = {
    "request threads": "Queue.get",
    "projection worker": "Event.wait",
}
PLUMBING = (
    "thread",
    "Thread.",
    "_bootstrap",
    "WorkerThread.run",
    "run_sync",
    "<module>",
    "main",
    "Typer",
    "Command.",
    "Context.invoke",
    "TyperGroup",
    "_main",
    "wrapper",
    "serve",
    "asyncio_run",
    "Runner.run",
    "Server.run",
    "run (uvicorn",
    "_run_module",
    "_run_code",
)


def py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    if found.exists():
        return str(found)
    return shutil.which("py-spy")


class Spy:
    """`py-spy record` on one process for a while, in the background."""

    def __init__(self, pid: int, seconds: float, out: Path) -> None:
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None
        binary = py_spy()
        if binary is None:
            console.print(
                "[yellow]no profile: py-spy is not installed (pip install py-spy)[/yellow]"
            )
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "record",
                "-p",
                str(pid),
                "-d",
                str(max(1, round(seconds))),
                "-r",
                "100",
                "--threads",
                "--idle",
                "--nonblocking",
                "-f",
                "raw",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # attached before the measured work starts

    def finish(self, title: str, top: int = 18) -> str:
        if self.process is None:
            return ""
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return ""
        if not self.out.exists():
            return ""
        text = summarize(self.out, title, top)
        self.out.with_suffix(".summary.txt").write_text(text)
        console.print(text)
        return text


def role_of(frames: list[str]) -> str | None:
    names = [f.split(" (")[0] for f in frames]
    for role, marker in ROLES:
        if marker in names:
            after = names.index(marker) + 1
            if after < len(names) and names[after] == IDLE_NEXT.get(role):
                return None
            if role == "event loop" and names[-1] == "Runner.run":
                return None  # inside uvloop's C code: polling or running callbacks, unseen
            return role
    return None


def summarize(path: Path, title: str, top: int = 18) -> str:
    by_role: dict[str, Counter[str]] = {}
    samples: Counter[str] = Counter()
    threads: dict[str, set[str]] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        role = role_of(frames)
        if role is None:
            continue
        n = int(count)
        samples[role] += n
        threads.setdefault(role, set()).add(frames[0])
        seen = set()
        for frame in frames[1:]:
            name = frame.split(" (")[0]
            where = frame.split(" (")[1].split(":")[0] if " (" in frame else ""
            key = f"{name} ({where})"
            if key in seen or name.startswith(PLUMBING):
                continue
            seen.add(key)
            by_role.setdefault(role, Counter())[key] += n
    lines = [f"profile: {title}"]
    for role, total in samples.most_common():
        lines.append(
            f"  {role}: {total} busy samples over {len(threads[role])} thread(s) "
            "(inclusive % of those samples)"
        )
        shown, previous = 0, -1
        for key, n in by_role[role].most_common():
            share = n / total
            if share > 0.985 or key.endswith("(contextlib.py)"):
                continue  # a wrapper every sample passes through
            if n == previous:
                continue  # the same samples as the caller above: a thin wrapper chain
            previous = n
            lines.append(f"    {share:6.1%}  {key}")
            shown += 1
            if shown >= top:
                break
    return "\n".join(lines)
