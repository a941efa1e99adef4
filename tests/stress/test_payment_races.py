"""Concurrent payments on one invoice never over-pay it, on PostgreSQL, over a real uvicorn.

OneUp: 20 clients released together pay the same invoice in full (exactly one wins, the others are
refused in OneUp's format), or pay a tenth of it each (exactly ten win). Upflow has the same races in
tests/upflow/test_races.py: the stress run repeats those too (COMPTOIR_RACE_ROUNDS rounds of each,
default 1 here, and tests/upflow/test_races.py itself runs once in CI).

    COMPTOIR_RACE_ROUNDS=25 COMPTOIR_TEST_DATABASE_URL=postgresql+psycopg://... \\
      python -m pytest -q tests/stress/test_payment_races.py
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
import simplejson

from comptoir.app import create_app
from comptoir.services.tenancy.organizations import create_organization

from ..helpers import served
from ..upflow import test_races as upflow_races

RACERS = 20
ROUNDS = int(os.environ.get("COMPTOIR_RACE_ROUNDS", "1"))
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def root(context):
    with served(create_app(context=context)) as base:
        yield base


def invoice_of(http: httpx.Client, total: int) -> dict:
    customer = http.post("/customers", json={"type": 1, "company_name": "Racing customer"}).json()
    item = http.post("/items", json={"type": 2, "name": "Thing", "sales_price": total}).json()
    response = http.post("/invoices", json={"customer_id": customer["id"], "date": "2024-03-01",
                                            "order_lines": [{"item_id": item["id"], "quantity": 1, "is_taxable": False}]})
    assert response.status_code == 200, response.text
    return response.json()


def race(base: str, auth, bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies), timeout=TIMEOUT_S)

    def one(body: dict) -> httpx.Response:
        with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
            assert http.get("/me").status_code == 200  # connected before the start
            barrier.wait()
            return http.post("/payments", content=simplejson.dumps(body, use_decimal=True),
                             headers={"Content-Type": "application/json"})

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def settled(base: str, auth, invoice_id: int) -> dict:
    with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
        return simplejson.loads(http.get(f"/invoices/{invoice_id}").text, use_decimal=True)


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("share", [1, 10], ids=["in full", "a tenth each"])
def test_concurrent_oneup_payments_never_over_pay(root, context, postgres_only, share, round_):
    org = create_organization(context.database, "Racing payments")
    auth = (org.oneup.email, org.oneup.api_key)
    base = root + "/oneup/v1"
    with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
        invoice = invoice_of(http, 100)
    amount = Decimal(100) / share
    responses = race(base, auth, [{"invoice_id": invoice["id"], "amount": amount, "date": "2024-03-02"}] * RACERS)
    statuses = [r.status_code for r in responses]
    assert all(s in (200, 422) for s in statuses), [(r.status_code, r.text[:200]) for r in responses if r.status_code
                                                     not in (200, 422)]
    for refused in (r for r in responses if r.status_code == 422):
        assert set(refused.json()) == {"error"} and refused.json()["error"]["code"], refused.text
    assert statuses.count(200) == share, statuses
    after = settled(base, auth, invoice["id"])
    assert (after["paid"], after["unpaid"]) == (Decimal(100), Decimal(0)), after
    assert len(after["payments_id"]) == share
    with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
        payments = http.get("/payments", params={"limit": 1000}).json()
    assert sorted(p["id"] for p in payments) == sorted(after["payments_id"]), "a refused payment was stored"


UPFLOW_RACES = [getattr(upflow_races, name) for name in dir(upflow_races) if name.startswith("test_")]


@pytest.mark.skipif(ROUNDS <= 1, reason="tests/upflow/test_races.py runs these once; the stress run repeats them")
@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("upflow_race", UPFLOW_RACES, ids=lambda race: race.__name__.removeprefix("test_"))
def test_the_upflow_races_again(root, context, postgres_only, upflow_race, round_):
    upflow_race(root + "/upflow/v1", create_organization(context.database, "Racing Upflow"))
