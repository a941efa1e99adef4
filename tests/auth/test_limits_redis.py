"""Budgets and in-flight slots shared through Redis: a real redis-server started here (Debian's
`redis-server`, installed by scripts/setup --test), and Comptoir served by `comptoir serve --workers 2`.

The test proves both workers answered: it finds, in /proc, which worker process holds the server end
of each of its connections, and alternates its calls between a connection of each worker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from comptoir.auth import limits as limits_module
from comptoir.auth.limits import RateLimiter
from comptoir.settings import Settings

from ..serve_support import free_port, one_connection_per_worker, serving, stop, wait_for

QUIPU_RULE = "4/30 seconds"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run scripts/setup --test "
                    "(as root it installs Debian's redis-server)")
    port = free_port()
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    with log.open("w") as output:
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no"], stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        wait_for(client.ping, 10, "redis-server", log, errors=(OSError, redis.RedisError))
        client.close()
        yield url
    finally:
        stop(process)


# -- the limiter itself, two instances standing for two processes ---------------------------------

def limiter(redis_url: str, tmp_path, **settings) -> RateLimiter:
    return RateLimiter(Settings(data_dir=tmp_path, redis_url=redis_url, rate_limits="on", **settings))


def test_two_limiters_on_one_redis_share_budgets_and_slots(redis_url, tmp_path):
    first, second = limiter(redis_url, tmp_path), limiter(redis_url, tmp_path)
    key = ("test", os.urandom(8).hex())
    verdicts = [limiter_.hit("3/minute", *key) for limiter_ in (first, second, first, second)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert 0 < verdicts[-1].reset_at_s - time.time() <= 61

    slot_key = f"upflow:test-{os.urandom(8).hex()}"
    with first.in_flight(slot_key, 2) as a, second.in_flight(slot_key, 2) as b:
        assert a and b
        with first.in_flight(slot_key, 2) as c, second.in_flight(slot_key, 2) as d:
            assert not c and not d
    with second.in_flight(slot_key, 2) as again:
        assert again  # given back on leaving the block


def test_a_slot_never_given_back_expires(redis_url, tmp_path, monkeypatch):
    monkeypatch.setattr(limits_module, "IN_FLIGHT_SLOT_TTL_S", 1)
    crashed, survivor = limiter(redis_url, tmp_path), limiter(redis_url, tmp_path)
    slot_key = f"upflow:test-{os.urandom(8).hex()}"
    held = crashed.in_flight(slot_key, 1)
    assert held.__enter__()  # taken, and never left: the process "died"
    with survivor.in_flight(slot_key, 1) as admitted:
        assert not admitted
    time.sleep(1.2)
    with survivor.in_flight(slot_key, 1) as admitted:
        assert admitted


def test_rate_limits_off_never_reaches_redis(tmp_path):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    off = RateLimiter(Settings(data_dir=tmp_path, redis_url=nowhere, rate_limits="off"))
    assert all(off.hit("1/minute", "k").allowed for _ in range(3))
    with off.in_flight("k", 1) as a, off.in_flight("k", 1) as b:
        assert a and b


# -- two worker processes of `comptoir serve` -------------------------------------------------------

@pytest.fixture
def server(redis_url, database_url, context, tmp_path) -> Iterator[tuple[str, subprocess.Popen]]:
    with serving(database_url, tmp_path, COMPTOIR_REDIS_URL=redis_url, COMPTOIR_QUIPU_RATE_LIMIT=QUIPU_RULE,
                 COMPTOIR_RATE_LIMITS="on") as running:
        yield running


def test_two_workers_share_one_quipu_budget(server, org):
    base, process = server
    token = httpx.post(base + "/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                       data={"grant_type": "client_credentials", "scope": "ecommerce"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    # Alternate the calls between the two workers; alone, each would allow 4.
    with one_connection_per_worker(base, process) as (a, b):
        answers = []
        for connection in (a, b, a, b, a, b, a, b):
            response = connection.get("/quipu/users", headers=headers)
            answers.append((response.status_code, response.headers.get("RateLimit-Remaining")))
    assert answers == [(200, "3"), (200, "2"), (200, "1"), (200, "0")] + [(429, "0")] * 4, answers

    # And over a new connection per call: still nothing left.
    for _ in range(6):
        with httpx.Client(base_url=base, timeout=5) as fresh:
            response = fresh.get("/quipu/users", headers=headers)
        assert response.status_code == 429, response.text
        assert response.headers["Retry-After"].isdigit()
