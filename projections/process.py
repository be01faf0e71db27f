"""The projection worker `fieldlog serve` runs beside the API, in a process of its own.

In the API's process the worker shared one interpreter lock with the requests: on two
cores a tablet's sync of 10,000 events over HTTP took 1.42–1.46× the filing alone, and
1.22–1.35× with the worker here (bench/README.md). In a process of its own it takes the
other core. It is restarted if it dies, stopped with `serve`, and stops itself if
`serve` is killed (it watches the process that started it).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger("fieldlog.projections")
PARENT_ENV = "FIELDLOG_WORKER_PARENT"  # the pid of the `serve` that started the worker
RESTART_SECONDS = 1.0


class WorkerProcess:
    """`fieldlog projections run` as a child of this process, kept running."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # no new worker is started once stopping
        self._keeper: threading.Thread | None = None

    def start(self) -> None:
        self.process = self._spawn()
        self._keeper = threading.Thread(target=self._keep, name="worker-keeper", daemon=True)
        self._keeper.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self.stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        # -P: not the working directory first on the path (as `-c` would put it), so the
        # worker imports fieldlog's own modules wherever `serve` was started from.
        argv = [sys.executable, "-P", "-c", "from api.cli import main; main()"]
        argv += ["projections", "run"]
        # A session of its own: Ctrl-C in the terminal reaches `serve`, which stops it.
        return subprocess.Popen(argv, env=env, start_new_session=True)  # noqa: S603 - our own command

    def _keep(self) -> None:
        while not self.stopping.is_set():
            process = self.process
            assert process is not None
            code = process.wait()
            if self.stopping.is_set():
                return
            log.error("the projection worker exited (%s); starting it again", code)
            if self.stopping.wait(RESTART_SECONDS):
                return
            with self._lock:
                if self.stopping.is_set():
                    return
                self.process = self._spawn()


def stop_with_parent() -> None:
    """In a worker started by `serve`, on Linux: the kernel sends it SIGTERM the moment
    `serve` dies. (uvicorn re-raises the SIGTERM it handled once it has shut down, so
    `serve` may end without running its own clean-up.) Elsewhere `parent_gone` is
    checked every second."""
    if os.environ.get(PARENT_ENV) is None or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) is not available; checking every second")


def parent_gone() -> bool:
    """True when the `serve` that started this worker is no longer its parent."""
    parent = os.environ.get(PARENT_ENV)
    return parent is not None and str(os.getppid()) != parent
