"""What the suites that run a real `fieldlog serve` share: the command and a free port."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def fieldlog_command() -> str:
    for candidate in (
        REPO / ".venv" / "bin" / "fieldlog",
        Path(sys.executable).with_name("fieldlog"),
    ):
        if candidate.exists():
            return str(candidate)
    pytest.skip("the `fieldlog` console script is not installed")
    raise AssertionError  # unreachable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
