"""Statements per hot request (issue 15 §2): a deterministic guard, not a timing.

Each test sends one of the benchmark's hot requests (bench/scenarios.py) through the real app and
counts what the database saw during that request alone (tests/statements_support.py). A request that
writes must be exactly one transaction (BEGIN ... COMMIT) on the request's connection holding exactly
the statements of STATEMENTS; one that only reads is the same on SQLite, and on PostgreSQL the same
statements on one connection in autocommit, without BEGIN and COMMIT (at READ COMMITTED each statement
takes its own snapshot inside a transaction as well: the two round trips would buy nothing, see
docs/decisions/0018-request-path.md). Plus, on PostgreSQL, the statements on the numbers connection (the per-organization
counters hand out numbers there, in one-statement transactions of their own: docs/decisions/0016).

Every request is sent three times and the third is counted, which must not cost more than the first.
The first two fill what a running server has long filled: the event loop's connections (asyncpg asks a
new connection for the server's version and settings, and prepares each statement once) and what the
process keeps (reference data, the accounts and journals that hold a role, the chart at its version:
a first OneConnect import creates accounts, a new version of the chart that the second reads).

The counts are equalities: a change that adds a statement fails here, with every statement of the
request in the message; one that removes a statement lowers its count here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from .helpers import OneUpClient
from .oneconnect.conftest import french_org, partner, seed_entries  # noqa: F401 - OneConnect's fixtures
from .oneup.sales_support import account_id, customer, seed_body, seed_items, tax_id
from .quipu.conftest import QuipuClient, item, relationship
from .statements_support import COMMIT, NUMBERS, REQUEST, ROLLBACK, counted
from .upflow.conftest import UpflowClient


class Count(NamedTuple):
    sqlite: int  # statements in the request's transaction on SQLite
    postgresql: int  # statements of the request's connection on PostgreSQL
    numbers: int  # statements on PostgreSQL's numbers connection (SQLite has none)
    round_trips: int  # what PostgreSQL's connections were sent: the statements, BEGIN (COMMIT rides along)


# What each statement is, numbered as a failure lists them: PostgreSQL's order, with "(number)" for a
# statement on the numbers connection. On PostgreSQL a request's connection runs in autocommit until
# the first statement that writes: the credential and the reads before it take no BEGIN, and numbers
# taken before it are one-statement transactions of their own on that same connection (docs/decisions/
# 0016, 0018). A new document or transaction and its lines or entries are one statement (`WITH parent
# AS (INSERT ...) INSERT ...`), and the maintained balances' upsert carries COMMIT in its round trip.
# SQLite sends more: it takes numbers inside the request's transaction (one writer at a time), and a
# row and its children are two INSERTs there.
STATEMENTS: dict[str, Count] = {
    # 1 credential ⋈ organization  2 the invoice ⋈ customer, billing and shipping contacts, with its
    # lines and its payment allocations as arrays (SQLite: 2 the invoice  3 its lines  4 allocations)
    "get_invoice": Count(sqlite=4, postgresql=2, numbers=0, round_trips=2),
    # 1 credential  2 the page's ids (filter, sort, offset, limit)  3 those invoices, as above: the same
    # three for any number of rows (SQLite: + lines, allocations)
    "list_invoices": Count(sqlite=5, postgresql=3, numbers=0, round_trips=3),
    # 1 credential  2 the customer and the 3 items, read ahead in one statement  3 the transaction's
    # number (autocommit)  BEGIN  4 the invoice's number, held until COMMIT (gap-free: issue 17 §7)
    # 5 whether that code is taken by hand, and the date of the invoice numbered before it (the dates
    # follow the numbers)  6 INSERT the invoice and its lines, and the transaction and its entries
    # (receivable, income, tax), one statement  7 upsert the maintained balances, COMMIT   (SQLite: the
    # customer and the items apart, + lines, + the transaction apart, + entries)
    "create_invoice": Count(sqlite=11, postgresql=7, numbers=0, round_trips=8),
    # 1 credential  2 the transaction's number  BEGIN  3 INSERT the transaction and its 2 entries
    # 4 upsert the maintained balances, COMMIT   (the journal and accounts: the cached chart)
    # (SQLite: + entries)
    "post_transaction": Count(sqlite=5, postgresql=4, numbers=0, round_trips=5),
    # 1 credential  2 the customer by externalId, and whether an invoice has the externalId (none: it is
    # new; the customer kept: the invoice's checks read it by id without a statement)  3 the
    # transaction's number (autocommit: before the first write)  BEGIN  4 INSERT the invoice and its
    # line unless its externalId is taken meanwhile (ON CONFLICT DO NOTHING: no savepoint needed), and
    # the transaction and its entries in the same statement (nothing of them written when the
    # externalId was taken)  5 upsert the maintained balances, COMMIT   (nothing is read for the new
    # invoice's allocations, nor its custom fields: it has none)
    # (SQLite: + SAVEPOINT and RELEASE, + 1 code check, + line, + the transaction apart, + entries)
    "upflow_create": Count(sqlite=11, postgresql=5, numbers=0, round_trips=6),
    # A new amount for an issued invoice: its issuer's correction (issue 17 §7), the transaction reversed
    # and posted anew. 1 credential  2 the customer by externalId, and the invoice's id  BEGIN  3 the
    # invoice, read whole (lines, allocations) and locked  4 what its update reads, in one statement
    # once its row is held: its allocations, its transaction with its entries, its custom field values
    # 5 UPDATE the invoice and its line (one statement)  6 its transaction read  7 detached from the
    # invoice  (number: the reversal's)  8 INSERT the reversal and its entries  9 the invoice's
    # transaction looked for (none now)  (number: the new transaction's)  10 INSERT it and its entries
    # 11 upsert the maintained balances, COMMIT
    # (SQLite: the invoice's id, + lines and allocations read apart, + the line's UPDATE apart,
    # + entries read apart, + the numbers, + transactions and entries written apart)
    "upflow_update": Count(sqlite=22, postgresql=11, numbers=2, round_trips=14),
    # 1 access token ⋈ organization, credential  2 the contact (it is a customer already: no role to
    # give)  3 the transaction's number (autocommit)  BEGIN  4 the invoice's number, held until COMMIT
    # 5 whether that code is taken, and the date of the invoice numbered before it  6 INSERT the
    # invoice and its 2 lines, and the transaction and its entries (receivable, income, VAT), one
    # statement  7 upsert the maintained balances, COMMIT   (what is paid of it: nothing, it is new;
    # the invoices that amend it: none, it is new)
    # (SQLite: + lines, + the transaction apart, + entries)
    "quipu_invoice": Count(sqlite=10, postgresql=7, numbers=0, round_trips=8),
    # 1 the two credentials (partner, integration) ⋈ organization  2 the vendor by code (the entries
    # are checked and their transaction prepared before anything is written: the savepoint that would
    # undo an account, journal or third party made for them sends nothing, none is made)  BEGIN
    # 3 INSERT the stored file and the received document (Accepted) unless its externalReference is
    # taken (ON CONFLICT DO NOTHING: no read before, no savepoint)  (number: the purchase invoice's
    # code and the transaction's, one statement)  4 INSERT the transaction and its entries  5 INSERT
    # the purchase invoice  6 its attachment  7 its DocumentStatus event, if the partner has a webhook
    # endpoint  8 upsert the maintained balances, COMMIT   (the currency's digits, the chart and the
    # journal: kept; no transaction to look for: the document is new)
    # (SQLite: + a savepoint around the vendor's read, + the file's row apart, + 1 number, + 1 code
    # check, + entries)
    "oneconnect_import": Count(sqlite=15, postgresql=8, numbers=1, round_trips=10),
    # 1 credential  2 the balances summed per account (month rows and day rows); the accounts' numbers
    # and names: the cached chart; no amounts in other currencies: the organization (read with the
    # credential) holds none (a book that does: one grouped statement more, issue 18 §4)
    "trial_balance": Count(sqlite=2, postgresql=2, numbers=0, round_trips=2),
}


READS = {"get_invoice", "list_invoices", "trial_balance"}  # the requests that only read


def measured(name: str, send, is_postgres: bool, status: int = 200):
    """Sends the request three times (`send()`) and checks what the third cost: one transaction,
    committed, on one connection, with the statements of STATEMENTS[name]. Its response."""
    with counted() as first:
        response = send()
    assert response.status_code == status, (response.status_code, response.text)
    assert send().status_code == status
    with counted() as seen:
        response = send()
    assert response.status_code == status, (response.status_code, response.text)
    count = STATEMENTS[name]
    report = f"STATEMENTS[{name!r}] = {count}; the third request:\n{seen}\n(the first: {first.summary()})"
    transaction = (seen.transactions(), len(seen.boundaries(COMMIT)), len(seen.boundaries(ROLLBACK)),
                   seen.connections(REQUEST))
    assert transaction == ((0, 0, 0, 1) if is_postgres and name in READS else (1, 1, 0, 1)), report
    expected = (count.postgresql, count.numbers, count.round_trips) if is_postgres else (count.sqlite, 0)
    observed = (len(seen.statements(REQUEST)), len(seen.statements(NUMBERS)))
    assert ((*observed, seen.round_trips()) if is_postgres else observed) == expected, report
    assert seen.round_trips() <= first.round_trips(), report
    return response


# -- OneUp ---------------------------------------------------------------------------------------

def test_get_invoice(oneup: OneUpClient, is_postgres):
    """GET /oneup/v1/invoices/{id}: a 3-line taxed invoice with a payment."""
    invoice = oneup.ok("POST", "/invoices", seed_body(oneup))
    oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": Decimal(100), "date": "2014-06-01"})
    shown = measured("get_invoice", lambda: oneup.get(f"/invoices/{invoice['id']}"), is_postgres).json()
    assert (len(shown["order_lines"]), len(shown["payments_id"])) == (3, 1)


def test_list_invoices(oneup: OneUpClient, is_postgres):
    """GET /oneup/v1/invoices with a filter, a sort and an offset (bench/scenarios.deep_list_query):
    a page of three invoices, so that a statement per row would show."""
    buyer, items, tax = customer(oneup), seed_items(oneup), tax_id(oneup, "10% Federal Tax")
    for month in range(1, 6):
        oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": f"2024-{month:02d}-10", "tax_id": tax,
                                       "order_lines": [{"item_id": thing["id"], "quantity": month} for thing in items]})
    page = measured("list_invoices", lambda: oneup.get("/invoices?date=gte:2024-02-01&sort=-total&offset=1&limit=50"),
                    is_postgres).json()
    assert [invoice["date"] for invoice in page] == ["2024-04-10", "2024-03-10", "2024-02-10"]


def test_create_invoice(oneup: OneUpClient, is_postgres):
    """POST /oneup/v1/invoices: 3 lines of items, taxed, posted (bench/scenarios.create_invoice)."""
    body = {"customer_id": customer(oneup)["id"], "tax_id": tax_id(oneup, "10% Federal Tax"),
            "order_lines": [{"item_id": thing["id"], "quantity": n} for n, thing in enumerate(seed_items(oneup), 1)]}
    measured("create_invoice", lambda: oneup.post("/invoices", body), is_postgres)


def test_post_transaction(oneup: OneUpClient, is_postgres):
    """POST /oneup/v1/transactions: 2 entries (bench/scenarios.post_transaction)."""
    debit, credit = account_id(oneup, "11100"), account_id(oneup, "40150")
    pieces = iter(("B-1", "B-2", "B-3"))

    def send():
        return oneup.post("/transactions", {"piece_number": next(pieces), "entries": [
            {"account_id": debit, "way": "debit", "amount": Decimal("12.34"), "label": "Transfer"},
            {"account_id": credit, "way": "credit", "amount": Decimal("12.34"), "label": "Transfer"}]})
    measured("post_transaction", send, is_postgres)


def test_trial_balance(oneup: OneUpClient, is_postgres):
    """GET /oneup/v1/reports/trial_balance of a book with a posted invoice."""
    oneup.ok("POST", "/invoices", seed_body(oneup))
    measured("trial_balance", lambda: oneup.get("/reports/trial_balance"), is_postgres)


# -- Upflow, Quipu, OneConnect -------------------------------------------------------------------

def upflow_invoice(external_id: str, net: int) -> dict:
    """The body bench/scenarios.upflow_upsert sends."""
    return {"externalId": external_id, "customId": external_id.upper(), "issuedAt": "2026-01-15",
            "dueDate": "2026-02-14", "currency": "USD", "netAmount": net, "grossAmount": net + net // 5,
            "name": "Bench services", "customer": {"externalId": "cust-1"}}


def test_upflow_create(client, org, is_postgres):
    """POST /upflow/v1/invoices with a new externalId: the upsert creates the invoice."""
    upflow = UpflowClient(client, org)
    upflow.ok("POST", "/customers", {"externalId": "cust-1", "name": "Acme"})
    keys = iter(("up-1", "up-2", "up-3"))
    measured("upflow_create", lambda: upflow.post("/invoices", upflow_invoice(next(keys), 10_000)), is_postgres)
    assert len(upflow.ok("GET", "/invoices")["invoices"]) == 3


def test_upflow_update(client, org, is_postgres):
    """POST /upflow/v1/invoices with a known externalId and a new amount: the upsert updates it."""
    upflow = UpflowClient(client, org)
    upflow.ok("POST", "/customers", {"externalId": "cust-1", "name": "Acme"})
    created = upflow.ok("POST", "/invoices", upflow_invoice("up-1", 10_000))
    amounts = iter((20_000, 30_000, 40_000))
    updated = measured("upflow_update", lambda: upflow.post("/invoices", upflow_invoice("up-1", next(amounts))),
                       is_postgres).json()
    assert (updated["id"], updated["netAmount"]) == (created["id"], 40_000)


def test_quipu_invoice(client, org, is_postgres):
    """POST /quipu/invoices: an income invoice of two items with VAT (bench/scenarios.quipu_invoice)."""
    quipu = QuipuClient(client, org)
    contact = quipu.contact()
    body = {"data": {"type": "invoices", "attributes": {"kind": "income", "issue_date": "2026-01-15"},
                     "relationships": {"contact": relationship("contacts", contact["id"]), "items": {"data": [
                         item("Service 1", "120.00", 3, 21), item("Service 2", "45.50", 2, 10, discount_percent=5)]}}}}
    measured("quipu_invoice", lambda: quipu.post("/invoices", body), is_postgres, status=201)


def test_oneconnect_import(partner, is_postgres):  # noqa: F811
    """POST /oneconnect/v1/integrations/{id}/purchase-invoices: a PDF and its entries (multipart),
    booked at once (bench/scenarios.oneconnect_import)."""
    references = iter(("FA-1", "FA-2", "FA-3"))
    response = measured("oneconnect_import", lambda: partner.deposit(
        "purchase", entries=seed_entries(), externalReference=next(references)), is_postgres)
    assert partner.document(response.json()["documentId"])["documentState"] == "Accepted"


def test_a_serving_loop_keeps_its_connection(oneup: OneUpClient, is_postgres):
    """PostgreSQL: a server's units of work leave their connection open for the next
    (storage/database.Scope.idle): requests one after another take none from the pool."""
    if not is_postgres:
        pytest.skip("SQLite: a unit of work takes its connection from the pool, which costs no round trip")
    body = seed_body(oneup)  # its customer and items made now: a number apart each (their own connection)
    invoice = oneup.ok("POST", "/invoices", body)
    oneup.ok("GET", f"/invoices/{invoice['id']}")
    checkouts: list[object] = []

    def checked_out(*_: object) -> None:
        checkouts.append(object())
    event.listen(Pool, "checkout", checked_out)
    try:
        for _ in range(3):
            oneup.ok("GET", f"/invoices/{invoice['id']}")
            oneup.ok("POST", "/invoices", body)
    finally:
        event.remove(Pool, "checkout", checked_out)
    assert checkouts == []
