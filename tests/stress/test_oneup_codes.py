"""OneUp user codes under real concurrency, over a real uvicorn: 50 clients released together create a
customer, a vendor or an invoice with the same `user_code` (exactly one is created, the 49 others are
422 code 3 naming user_code, and the book holds one record of that code), or create 50 customers
without a code (50 records, 50 different codes from the numbering).

The same races for Upflow's externalId and OneConnect's externalReference are
tests/upflow/test_exactly_once.py and tests/oneconnect/test_exactly_once.py. On PostgreSQL the requests
really overlap; SQLite serializes writers, and the same must hold there. COMPTOIR_RACE_ROUNDS repeats
them (docs/reliability.md)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from comptoir.app import create_app
from comptoir.services.tenancy.organizations import create_organization

from ..helpers import served

RACERS = 50
ROUNDS = int(os.environ.get("COMPTOIR_RACE_ROUNDS", "1"))
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def root(context):
    with served(create_app(context=context)) as base:
        yield base + "/oneup/v1"


def all_at_once(base: str, auth, path: str, bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies), timeout=TIMEOUT_S)

    def one(body: dict) -> httpx.Response:
        with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
            assert http.get("/me").status_code == 200  # connected before the start
            barrier.wait()
            return http.post(path, json=body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def listed(base: str, auth, path: str) -> list[dict]:
    with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
        response = http.get(path, params={"limit": 1000})
        assert response.status_code == 200, response.text
        return response.json()


def body_of(base: str, auth, path: str, code: str) -> dict:
    if path == "/invoices":
        with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
            customer = http.post("/customers", json={"type": 1, "company_name": "Billed"}).json()
            item = http.post("/items", json={"type": 2, "name": "Thing", "sales_price": 100}).json()
        return {"customer_id": customer["id"], "date": "2024-03-01", "user_code": code,
                "order_lines": [{"item_id": item["id"], "quantity": 1, "is_taxable": False}]}
    return {"type": 1, "company_name": f"Raced {code}", "user_code": code}


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("path", ["/customers", "/vendors", "/invoices"])
def test_fifty_creates_with_one_user_code_create_one_record(root, context, path, round_):
    org = create_organization(context.database, "Racing codes")
    auth = (org.oneup.email, org.oneup.api_key)
    body = body_of(root, auth, path, "RACE-001")
    before = len(listed(root, auth, path))
    responses = all_at_once(root, auth, path, [body] * RACERS)

    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, [(r.status_code, r.text[:200]) for r in responses if r.status_code != 422]
    for refused in (r for r in responses if r.status_code != 200):
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "3" and "user_code" in error["reason"], refused.text
    created = next(r.json() for r in responses if r.status_code == 200)
    rows = listed(root, auth, path)
    assert len(rows) == before + 1
    assert [row["id"] for row in rows if row["user_code"] == "RACE-001"] == [created["id"]]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_fifty_creates_without_a_code_get_fifty_codes(root, context, round_):
    org = create_organization(context.database, "Racing numbering")
    auth = (org.oneup.email, org.oneup.api_key)
    responses = all_at_once(root, auth, "/customers",
                            [{"type": 1, "company_name": f"Numbered {n}"} for n in range(RACERS)])
    assert [r.status_code for r in responses] == [200] * RACERS, \
        [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200]
    rows = listed(root, auth, "/customers")
    assert len(rows) == RACERS
    assert len({row["user_code"] for row in rows}) == RACERS
    assert {row["id"] for row in rows} == {r.json()["id"] for r in responses}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_fifty_invoices_at_once_are_numbered_without_a_gap_in_date_order(root, context, round_):
    """Issue 17 §7: invoice numbers are taken in each request's transaction. 50 invoices created at
    once, every other one dated before the invoices already numbered (refused, 3001, rolled back with
    the number it took), leave CINV-001 to CINV-026 exactly: the first made before the race, then 25."""
    org = create_organization(context.database, "Racing invoice numbers")
    auth = (org.oneup.email, org.oneup.api_key)
    first = body_of(root, auth, "/invoices", "unused")
    del first["user_code"]
    first["date"] = "2024-03-10"
    with httpx.Client(base_url=root, auth=auth, timeout=TIMEOUT_S) as http:
        assert http.post("/invoices", json=first).json()["user_code"] == "CINV-001"
    bodies = [{**first, "date": "2024-03-01" if n % 2 else "2024-03-10"} for n in range(RACERS)]
    responses = all_at_once(root, auth, "/invoices", bodies)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (RACERS // 2) + [422] * (RACERS // 2), [r.text[:200] for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {"3001"}
    codes = sorted(row["user_code"] for row in listed(root, auth, "/invoices"))
    assert codes == [f"CINV-{n:03d}" for n in range(1, RACERS // 2 + 2)]
