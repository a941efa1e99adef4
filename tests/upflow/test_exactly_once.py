"""Import is create-or-update by externalId exactly once, under real concurrency: the real app
served by uvicorn in a thread on a free loopback port, 50 httpx clients in 50 threads released
together by a barrier. On PostgreSQL the requests really overlap (the unique index decides the
race, services/imports.py); SQLite serializes writers, and the same test must pass there too.
Limits are off in tests (conftest: rate_limits="off"), so no request is turned away.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import httpx
import pytest

from comptoir.app import create_app
from comptoir.domain.documents import INVOICE
from comptoir.services.documents import sales
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.masterdata import parties

from ..helpers import OneUpClient, served

WORKERS = 50
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def base_url(context) -> Iterator[str]:
    """The real app on uvicorn in a background thread."""
    with served(create_app(context=context)) as base:
        yield base + "/upflow/v1"


def headers_of(org) -> dict[str, str]:
    return {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]}


def all_at_once(base_url: str, org, bodies: list[dict], path: str = "/customers") -> list[httpx.Response]:
    """POST `path` once per body, every request from its own client and thread, all released
    together once every client is connected and ready."""
    assert len(bodies) == WORKERS
    barrier = threading.Barrier(WORKERS, timeout=TIMEOUT_S)

    def one(body: dict) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=TIMEOUT_S) as http:
            assert http.get("/users").status_code == 200  # connected (keep-alive) before the start
            barrier.wait()
            return http.post(path, json=body)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, bodies))


def customers_of(base_url: str, org) -> list[dict]:
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=TIMEOUT_S) as http:
        response = http.get("/customers", params={"limit": 1000})
        assert response.status_code == 200, response.text
        listed = response.json()
        assert listed["total"] == len(listed["customers"])
        return listed["customers"]


def test_the_database_is_the_one_asked_for(is_postgres):
    assert is_postgres == os.environ.get("COMPTOIR_TEST_DATABASE_URL", "").startswith("postgresql")


def test_fifty_identical_imports_create_one_customer(base_url, org, client, is_postgres):
    assert is_postgres == os.environ.get("COMPTOIR_TEST_DATABASE_URL", "").startswith("postgresql")
    body = {"externalId": "RACE-1", "name": "Raced Inc.", "vatNumber": "FR1",
            "address": {"address": "1 rue", "zipcode": "75001", "city": "Paris", "state": "", "country": "France"}}
    responses = all_at_once(base_url, org, [body] * WORKERS)

    statuses = [response.status_code for response in responses]
    assert statuses == [200] * WORKERS, [(r.status_code, r.text) for r in responses if r.status_code != 200]
    ids = {response.json()["id"] for response in responses}
    assert len(ids) == 1, ids
    (the_id,) = ids
    assert all(response.json()["externalId"] == "RACE-1" for response in responses)

    customers = customers_of(base_url, org)
    assert [customer["id"] for customer in customers] == [the_id]
    assert customers[0]["name"] == "Raced Inc." and customers[0]["vatNumber"] == "FR1"
    oneup = OneUpClient(client, org).ok("GET", "/customers")  # one book: one customer there too
    assert [row["full_name"] for row in oneup] == ["Raced Inc."]


@pytest.mark.parametrize("contacts", [
    [{"externalId": "K-1", "email": "ann@race.test", "position": "ACCOUNTING"},
     {"email": "bob@race.test", "position": "PAYER"}],
    [{"email": "bob@race.test", "position": "PAYER"}],
], ids=["matched by externalId and email", "matched by email"])
def test_fifty_identical_imports_with_contacts_keep_one_set_of_contacts(base_url, org, is_postgres, contacts):
    """Each import matches the contacts already stored (by externalId or email) and updates them,
    so the racing imports end with exactly the contacts of the list, each with one id that every
    response agrees on."""
    assert is_postgres == os.environ.get("COMPTOIR_TEST_DATABASE_URL", "").startswith("postgresql")
    body = {"externalId": "RACE-2", "name": "Contacts Inc.", "contacts": contacts}
    responses = all_at_once(base_url, org, [body] * WORKERS)

    failed = [(r.status_code, r.text) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {WORKERS} identical imports failed, e.g. {failed[0]}"
    assert len({response.json()["id"] for response in responses}) == 1
    (customer,) = customers_of(base_url, org)
    emails = sorted(contact["email"] for contact in customer["contacts"])
    assert emails == sorted(contact["email"] for contact in contacts), "the stored contacts are not the list sent"
    stored = {contact["email"]: contact["id"] for contact in customer["contacts"]}
    answered = [{c["email"]: c["id"] for c in response.json()["contacts"]} for response in responses]
    different = [ids for ids in answered if ids != stored]
    assert not different, f"{len(different)} of {WORKERS} responses name other contact ids than the stored {stored}"


def test_fifty_different_imports_create_fifty_customers(base_url, org, client, is_postgres):
    assert is_postgres == os.environ.get("COMPTOIR_TEST_DATABASE_URL", "").startswith("postgresql")
    bodies = [{"externalId": f"MANY-{n}", "name": f"Customer {n}",
               "contacts": [{"email": f"c{n}@many.test", "position": "SALES"}]} for n in range(WORKERS)]
    responses = all_at_once(base_url, org, bodies)

    assert [r.status_code for r in responses] == [200] * WORKERS, \
        [(r.status_code, r.text) for r in responses if r.status_code != 200]
    answered = {response.json()["externalId"]: response.json()["id"] for response in responses}
    assert set(answered) == {f"MANY-{n}" for n in range(WORKERS)}
    assert len(set(answered.values())) == WORKERS

    customers = customers_of(base_url, org)
    assert len(customers) == WORKERS
    assert {customer["externalId"]: customer["id"] for customer in customers} == answered
    assert all(len(customer["contacts"]) == 1 for customer in customers)
    oneup = OneUpClient(client, org).ok("GET", "/customers", params={"limit": 100})
    assert len(oneup) == WORKERS
    assert len({row["user_code"] for row in oneup}) == WORKERS  # each customer its own code


RECORDS = {  # path: (list key, the body imported 50 times at once)
    "/invoices": ("invoices", {"externalId": "RACE-INV", "customId": "F-RACE", "issuedAt": "2024-03-01",
                               "dueDate": "2024-04-01", "currency": "EUR", "netAmount": 10000, "grossAmount": 12000,
                               "customer": {"externalId": "RACE-C"}}),
    "/payments": ("items", {"externalId": "RACE-PAY", "currency": "EUR", "amount": 5000,
                            "validatedAt": "2024-03-05", "customer": {"externalId": "RACE-C"}}),
    "/refunds": ("items", {"externalId": "RACE-REF", "currency": "EUR", "amount": 700,
                           "validatedAt": "2024-03-06", "customer": {"externalId": "RACE-C"}}),
}


@pytest.mark.parametrize("path", sorted(RECORDS))
def test_fifty_identical_imports_create_one_record(base_url, org, path):
    """Invoices, payments and refunds: one record, the same id in every answer, one posting."""
    key, body = RECORDS[path]
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=TIMEOUT_S) as http:
        assert http.post("/customers", json={"externalId": "RACE-C", "name": "Raced"}).status_code == 200
    responses = all_at_once(base_url, org, [body] * WORKERS, path)
    assert [r.status_code for r in responses] == [200] * WORKERS, \
        [(r.status_code, r.text) for r in responses if r.status_code != 200]
    ids = {response.json()["id"] for response in responses}
    assert len(ids) == 1, ids
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=TIMEOUT_S) as http:
        listed = http.get(path, params={"limit": 500}).json()
        assert [row["id"] for row in listed[key]] == list(ids) and listed["total"] == 1
        balance = http.get("/customers/external:RACE-C").json()["balance"]
    sign = {"/invoices": 1, "/payments": -1, "/refunds": 1}[path]
    assert balance == sign * body.get("grossAmount", body.get("amount"))  # posted once, not 50 times


def test_an_import_that_lost_the_race_updates_the_winners_invoice(context, org, client):
    """The import found no invoice of its externalId, but one was created meanwhile (here: before,
    and the find told as stale): its insert writes nothing, the winner's invoice is found and updated
    in the same transaction, posted once. On PostgreSQL without a savepoint (ON CONFLICT DO NOTHING:
    services/kernel/imports.upsert), on SQLite inside one."""
    upflow = {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]}
    assert client.post("/upflow/v1/customers", json={"externalId": "LATE-C", "name": "Late"}, headers=upflow).status_code == 200
    winner = client.post("/upflow/v1/invoices", headers=upflow, json={
        "externalId": "LATE-1", "customId": "F-LATE-1", "issuedAt": "2024-03-01", "dueDate": "2024-04-01",
        "currency": "EUR", "netAmount": 10000, "grossAmount": 12000, "customer": {"externalId": "LATE-C"}}).json()
    with open_book(context.database, org.id) as book:
        customer = parties.find_customer(book, external_id="LATE-C")
        fields = {"customer_id": customer.id, "date": date(2024, 3, 2), "currency_iso_code": "EUR",
                  "lines": [{"description": "Late", "quantity": Decimal(1), "unit_price_wt": Decimal(300)}]}
        document, created = sales.import_document(book, INVOICE, "LATE-1", fields, found=None, issued_elsewhere=True)
        assert (created, document.uuid) == (False, winner["id"])
    shown = client.get("/upflow/v1/invoices/external:LATE-1", headers=upflow).json()
    assert (shown["id"], shown["netAmount"]) == (winner["id"], 30000)
    listed = client.get("/upflow/v1/invoices", headers=upflow, params={"limit": 500}).json()
    assert [row["id"] for row in listed["invoices"] if row["externalId"] == "LATE-1"] == [winner["id"]]
    balance = client.get("/upflow/v1/customers/external:LATE-C", headers=upflow).json()["balance"]
    assert balance == 32000  # its new net and the tax it had: corrected once (reversed and posted anew)
