"""Statements per hot request (issue 15 §2): a deterministic guard, not a timing.

Each test sends one of the benchmark's hot requests (bench/scenarios.py) through the real app and
counts what the database saw during that request alone (tests/statements_support.py). A request that
writes must be exactly one transaction (BEGIN ... COMMIT) on the request's connection holding exactly
the statements of STATEMENTS; one that only reads is the same on SQLite, and on PostgreSQL the same
statements on one connection in autocommit, without BEGIN and COMMIT (at READ COMMITTED each statement
takes its own snapshot inside a transaction as well: the two round trips would buy nothing, see
docs/decisions/0018-request-path.md). Plus, on PostgreSQL, the statements on the numbers connection (the per-organization
counters hand out numbers there, in one-statement transactions of their own: docs/decisions/0016).

Every request is sent twice and the second is counted, which must not cost more than the first. The
first of a test fills what a running server has long filled: the event loop's connections (asyncpg
asks a new connection for the server's version and settings, and prepares each statement once) and the
process cache (reference data, the accounts and journals that hold a role).

The counts are equalities: a change that adds a statement fails here, with every statement of the
request in the message; one that removes a statement lowers its count here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from .helpers import OneUpClient
from .oneconnect.conftest import french_org, partner, seed_entries  # noqa: F401 - OneConnect's fixtures
from .oneup.sales_support import account_id, customer, seed_body, seed_items, tax_id
from .quipu.conftest import QuipuClient, item, relationship
from .statements_support import COMMIT, NUMBERS, REQUEST, ROLLBACK, counted
from .upflow.conftest import UpflowClient


class Count(NamedTuple):
    sqlite: int  # statements in the request's transaction on SQLite
    postgresql: int  # statements in the request's transaction on PostgreSQL
    numbers: int  # statements on PostgreSQL's numbers connection (SQLite has none)


# What each statement is, numbered as a failure lists them: PostgreSQL's order, with "(number)" for a
# statement on the numbers connection. SQLite sends more, for two reasons: it takes numbers inside the
# request's transaction (one writer at a time: a second connection would wait for the request's own
# lock), and SQLAlchemy inserts rows there one `INSERT ... RETURNING id` each, where on PostgreSQL it
# sends one `INSERT ... SELECT FROM (VALUES ...) RETURNING` per table (SQLite's dialect cannot tell
# which returned id is which row's: it has no "insertmanyvalues" sentinel).
STATEMENTS: dict[str, Count] = {
    # 1 credential ⋈ organization  2 the invoice ⋈ customer, billing and shipping contacts  3 its lines
    # (select-in)  4 its payment allocations
    "get_invoice": Count(sqlite=4, postgresql=2, numbers=0),
    # 1 credential  2 the page's ids (filter, sort, offset, limit)  3 those invoices ⋈ customer and
    # contacts  4 their lines  5 their payment allocations: the same five for any number of rows
    "list_invoices": Count(sqlite=5, postgresql=3, numbers=0),
    # 1 credential  2 the customer  3 the 3 items  (number: the invoice's code)  4 is that code taken by
    # hand (documents.user_code)  5 INSERT the invoice  6 its lines  (number: the transaction's code)
    # 7 INSERT the transaction  8 its entries (receivable, income, tax)  9 the invoice's payment
    # allocations (none: it is new)  10 upsert the maintained balances
    # SQLite: + 2 numbers, + 2 lines, + 2 entries
    "create_invoice": Count(sqlite=12, postgresql=10, numbers=2),
    # 1 credential  2 the journal  3 the 2 accounts  (number: the transaction's code)  4 INSERT the
    # transaction  5 its entries  6 upsert the maintained balances
    # SQLite: + 1 number, + 1 entry
    "post_transaction": Count(sqlite=7, postgresql=6, numbers=1),
    # 1 credential  2 the invoice by externalId ⋈ customer, contacts (none: it is new)  3 the customer
    # by externalId  4 SAVEPOINT  5 INSERT the invoice  6 its line  (number: the transaction's code)
    # 7 INSERT the transaction  8 its entries  9 RELEASE SAVEPOINT  10 the invoice's payment allocations
    # (none)  11 the organization's custom fields  12 upsert the maintained balances
    # SQLite: + 1 number, + 2 entries
    "upflow_create": Count(sqlite=14, postgresql=13, numbers=1),
    # 1 credential  2 the invoice by externalId ⋈ customer, contacts  3 its lines  4 the customer by
    # externalId  5 the invoice's row, locked (FOR UPDATE on PostgreSQL)  6 its allocations to payments
    # 7 UPDATE the invoice  8 UPDATE its line  9 the invoice's row, locked again  10 all its allocations
    # 11 its transaction  12 the transaction's entries  13 INSERT the new entries  14 DELETE the old ones
    # (one executemany)  15 the invoice's allocations, a third time  16 the custom fields  17 upsert the
    # maintained balances
    # SQLite: + 2 entries
    "upflow_update": Count(sqlite=21, postgresql=19, numbers=0),
    # 1 access token ⋈ organization, credential  2 the contact ⋈ payment terms, tax, employee, price
    # family  3 its contacts (select-in)  4 the contact again, by id  (number: the invoice's code)  5 is
    # that code taken by hand  6 INSERT the invoice  7 its 2 lines  (number: the transaction's code)
    # 8 INSERT the transaction  9 its entries (receivable, income, VAT)  10 the sum of its allocations
    # (none: it is new)  11 the invoices that amend it (none)  12 upsert the maintained balances
    # SQLite: + 2 numbers, + 1 line, + 2 entries
    "quipu_invoice": Count(sqlite=14, postgresql=12, numbers=2),
    # 1 the two credentials (partner, integration) ⋈ organization  2 the currency  3 a document of the
    # same externalReference (none)  4 INSERT the stored file  5 SAVEPOINT  6 INSERT the received
    # document  7 RELEASE  8 SAVEPOINT  9 the whole chart  10 the journal by code  11 the vendor by code
    # ⋈ payment terms, tax, employee, price family  12 its contacts  13 UPDATE the received document
    # (its vendor)  14 the document's transaction (none yet)  (number: the transaction's code)
    # 15 INSERT the transaction  16 its entries  (number: the invoice's code)  17 is that code taken by
    # hand  18 INSERT the purchase invoice  19 its attachment  20 RELEASE  21 UPDATE the received
    # document (Accepted)  22 the webhook endpoints  23 upsert the maintained balances
    # SQLite: + 2 numbers, + 1 entry
    "oneconnect_import": Count(sqlite=26, postgresql=24, numbers=2),
    # 1 credential  2 the balances summed per account (month rows and day rows)  3 the whole chart
    "trial_balance": Count(sqlite=3, postgresql=3, numbers=0),
}


READS = {"get_invoice", "list_invoices", "trial_balance"}  # the requests that only read


def measured(name: str, send, is_postgres: bool, status: int = 200):
    """Sends the request twice (`send()`) and checks what the second cost: one transaction, committed,
    on one connection, with the statements of STATEMENTS[name]. Its response."""
    with counted() as first:
        response = send()
    assert response.status_code == status, (response.status_code, response.text)
    with counted() as seen:
        response = send()
    assert response.status_code == status, (response.status_code, response.text)
    count = STATEMENTS[name]
    report = f"STATEMENTS[{name!r}] = {count}; the second request:\n{seen}\n(the first: {first.summary()})"
    transaction = (seen.transactions(), len(seen.boundaries(COMMIT)), len(seen.boundaries(ROLLBACK)),
                   seen.connections(REQUEST))
    assert transaction == ((0, 0, 0, 1) if is_postgres and name in READS else (1, 1, 0, 1)), report
    expected = (count.postgresql, count.numbers) if is_postgres else (count.sqlite, 0)
    assert (len(seen.statements(REQUEST)), len(seen.statements(NUMBERS))) == expected, report
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
    pieces = iter(("B-1", "B-2"))

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
    keys = iter(("up-1", "up-2"))
    measured("upflow_create", lambda: upflow.post("/invoices", upflow_invoice(next(keys), 10_000)), is_postgres)
    assert len(upflow.ok("GET", "/invoices")["invoices"]) == 2


def test_upflow_update(client, org, is_postgres):
    """POST /upflow/v1/invoices with a known externalId and a new amount: the upsert updates it."""
    upflow = UpflowClient(client, org)
    upflow.ok("POST", "/customers", {"externalId": "cust-1", "name": "Acme"})
    created = upflow.ok("POST", "/invoices", upflow_invoice("up-1", 10_000))
    amounts = iter((20_000, 30_000))
    updated = measured("upflow_update", lambda: upflow.post("/invoices", upflow_invoice("up-1", next(amounts))),
                       is_postgres).json()
    assert (updated["id"], updated["netAmount"]) == (created["id"], 30_000)


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
    references = iter(("FA-1", "FA-2"))
    response = measured("oneconnect_import", lambda: partner.deposit(
        "purchase", entries=seed_entries(), externalReference=next(references)), is_postgres)
    assert partner.document(response.json()["documentId"])["documentState"] == "Accepted"
