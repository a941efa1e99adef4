"""Rate limits on the `limits` library: fixed windows counted in memory (one process)."""

from __future__ import annotations

from dataclasses import dataclass

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

    def hit(self, rule: str, *key: str) -> Verdict:
        """Count one call against `rule` ("1800/15 minutes") for this key."""
        item = parse(rule)
        if not self.enabled:
            return Verdict(True, item.amount, item.amount, 0.0)
        allowed = self._limiter.hit(item, *key)
        stats = self._limiter.get_window_stats(item, *key)
        return Verdict(allowed, item.amount, stats.remaining, stats.reset_time)
