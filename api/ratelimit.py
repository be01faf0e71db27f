"""Per-token write rate limit over a sliding minute (FIELDLOG_RATE_LIMIT, 0 = off).

Kept in each API process's memory: with N processes behind a balancer a token may
write up to N times the limit. A `/v1/sync` batch counts once; refused writes count too.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, token_name: str) -> float | None:
        """Count one write; answer the seconds to wait if it is over the limit.

        A write refused here is not counted, so a client that waits `Retry-After` is
        served; writes refused for any other reason (invalid, conflict) do count.
        """
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(token_name, deque())
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(hits[0] + WINDOW_SECONDS - now, 0.0)
            hits.append(now)
            return None

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
