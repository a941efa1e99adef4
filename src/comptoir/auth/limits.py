"""Rate limits on the `limits` library (fixed windows), and concurrency limits (requests in flight).

Both live in this process's memory by default. With `redis_url` set they live in Redis instead, so
every worker process and every machine serving the same database shares one budget per key and one
set of in-flight slots.
"""

from __future__ import annotations

import functools
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from limits import parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from comptoir.concurrency import off_the_loop
from comptoir.settings import Settings

T = TypeVar("T")

# A slot taken in Redis is forgotten after this many seconds even if it was never given back, so a
# process that crashed (or lost its connection) in the middle of a request cannot hold it forever.
# A request that really runs longer than this stops counting against the limit after that time.
IN_FLIGHT_SLOT_TTL_S = 300

REDIS_KEY_PREFIX = "comptoir"
# The budget of failed authentications, per dialect and client address (settings.auth_failure_limit).
AUTH_FAILURES = "auth-failures"


def client_address(request: Any) -> str:
    """The address a request came from (uvicorn's --proxy-headers makes it the client's behind a proxy)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at_s: float


class _Slots(Protocol):
    def acquire(self, key: str, maximum: int) -> str | None: ...

    def release(self, key: str, token: str) -> None: ...


class _MemorySlots:
    """Counters in this process."""

    def __init__(self) -> None:
        self._taken: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, key: str, maximum: int) -> str | None:
        with self._lock:
            if self._taken[key] >= maximum:
                return None
            self._taken[key] += 1
            return key

    def release(self, key: str, token: str) -> None:
        with self._lock:
            self._taken[key] -= 1
            if self._taken[key] <= 0:
                del self._taken[key]


# KEYS[1]: the sorted set of slots of one key; ARGV: maximum, slot token, TTL in seconds.
# Each slot is a member scored with the (Redis server's) time it was taken; slots older than the TTL
# are dropped first, so a leaked slot expires on its own however busy the key is. Atomic, as a script.
_ACQUIRE = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_s - ttl)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_s, ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
return 1
"""


class _RedisSlots:
    """Slots in Redis, shared by every process using the same server and database."""

    def __init__(self, client: Any, ttl_s: int) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._acquire = client.register_script(_ACQUIRE)

    def _key(self, key: str) -> str:
        return f"{REDIS_KEY_PREFIX}:in-flight:{key}"

    def acquire(self, key: str, maximum: int) -> str | None:
        token = uuid.uuid4().hex
        taken = self._acquire(keys=[self._key(key)], args=[maximum, token, self._ttl_s])
        return token if int(taken) == 1 else None

    def release(self, key: str, token: str) -> None:
        self._client.zrem(self._key(key), token)


@functools.lru_cache(maxsize=64)
def _parsed(rule: str) -> Any:
    """A rule as the `limits` library reads it ("1800/15 minutes"), parsed once per process."""
    return parse(rule)


class RateLimiter:
    """Budgets and in-flight slots. With Redis every operation is a network round trip: it is then
    made off the event loop (comptoir.concurrency), so that a request waiting for Redis does not hold
    up the others."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self.redis_url = settings.redis_url or None
        self.blocking = self.redis_url is not None  # whether an operation waits on the network
        storage: Storage
        self._slots: _Slots
        if self.redis_url:
            import redis

            pool = redis.ConnectionPool.from_url(self.redis_url)
            storage = RedisStorage(self.redis_url, connection_pool=pool,
                                   key_prefix=f"{REDIS_KEY_PREFIX}:limits")
            self._slots = _RedisSlots(redis.Redis(connection_pool=pool), IN_FLIGHT_SLOT_TTL_S)
        else:
            storage = MemoryStorage()
            self._slots = _MemorySlots()
        self._limiter = FixedWindowRateLimiter(storage)

    def _call(self, operation: Callable[..., T], *args: Any) -> T:
        return off_the_loop(operation, *args) if self.blocking else operation(*args)

    def hit(self, rule: str, *key: str) -> Verdict:
        """Count one call against `rule` ("1800/15 minutes") for this key."""
        item = _parsed(rule)
        if not self.enabled:
            return Verdict(True, item.amount, item.amount, 0.0)
        return self._call(self._hit, item, key)

    def _hit(self, item: Any, key: tuple[str, ...]) -> Verdict:
        allowed = self._limiter.hit(item, *key)
        stats = self._limiter.get_window_stats(item, *key)
        return Verdict(allowed, item.amount, stats.remaining, stats.reset_time)

    def locked_out_for(self, rule: str, *key: str) -> int | None:
        """Seconds until this key may try again once its budget under `rule` is spent, without
        counting anything; None while some budget is left (and always when limits are off)."""
        if not self.enabled:
            return None
        item = _parsed(rule)
        stats = self._call(self._limiter.get_window_stats, item, *key)
        if stats.remaining > 0:
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    @contextmanager
    def in_flight(self, key: str, maximum: int) -> Iterator[bool]:
        """Hold one of `maximum` slots for `key` while the block runs; yields False (and holds
        nothing) when they are all taken."""
        if not self.enabled:
            yield True
            return
        token = self._call(self._slots.acquire, key, maximum)
        try:
            yield token is not None
        finally:
            if token is not None:
                self._call(self._slots.release, key, token)
