"""Server processes on 127.0.0.1: `fieldlog serve`, the bare FastAPI ceiling app and
`fieldlog projections run`, each started, waited for and stopped by the benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def wait_up(self, path: str = "/healthz", timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=1.0) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {path} in {timeout} s:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM to the process (uvicorn's supervisor passes it to its workers)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def spawn(
    name: str, argv: list[str], env: dict[str, str], logdir: Path, port: int | None
) -> Process:
    logdir.mkdir(parents=True, exist_ok=True)
    log = logdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return Process(name, process, log, port)


def fieldlog_serve(
    env: dict[str, str], logdir: Path, workers: int = 1, name: str = "serve"
) -> Process:
    port = free_port()
    argv = [tool("fieldlog"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(workers)]
    return spawn(name, argv, env, logdir, port)


def uvicorn_asyncio(env: dict[str, str], logdir: Path, workers: int) -> Process:
    """The product's app under uvicorn on the plain asyncio loop (what `fieldlog serve`
    runs where uvloop is missing): shows the --workers keep-alive trap (uvicorn#3149)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:served_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "asyncio",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return spawn(f"uvicorn-asyncio-w{workers}", argv, env, logdir, port)


def bare_app(env: dict[str, str], logdir: Path, workers: int = 1) -> Process:
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)]
    return spawn(f"bare-w{workers}", argv, {**env, "PYTHONPATH": str(REPO)}, logdir, port)


def projections_run(env: dict[str, str], logdir: Path) -> Process:
    return spawn("projections-run", [tool("fieldlog"), "projections", "run"], env, logdir, None)


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}
