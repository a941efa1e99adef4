"""Rate limits on the `limits` library (fixed windows), and concurrency limits (requests in flight)."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from comptoir.settings import Settings


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at_s: float


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self._limiter = FixedWindowRateLimiter(MemoryStorage())
        self._in_flight: Counter[str] = Counter()
        self._in_flight_lock = threading.Lock()

    def hit(self, rule: str, *key: str) -> Verdict:
        """Count one call against `rule` ("1800/15 minutes") for this key."""
        item = parse(rule)
        if not self.enabled:
            return Verdict(True, item.amount, item.amount, 0.0)
        allowed = self._limiter.hit(item, *key)
        stats = self._limiter.get_window_stats(item, *key)
        return Verdict(allowed, item.amount, stats.remaining, stats.reset_time)

    @contextmanager
    def in_flight(self, key: str, maximum: int) -> Iterator[bool]:
        """Hold one of `maximum` slots for `key` while the block runs; yields False (and holds
        nothing) when they are all taken."""
        if not self.enabled:
            yield True
            return
        with self._in_flight_lock:
            acquired = self._in_flight[key] < maximum
            if acquired:
                self._in_flight[key] += 1
        try:
            yield acquired
        finally:
            if acquired:
                with self._in_flight_lock:
                    self._in_flight[key] -= 1
