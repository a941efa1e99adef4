"""Helpers shared by the tests of Upflow credit notes, refunds, reconciliations and their races:
customers, invoices, payments, credit notes and refunds imported through the real app, what an API
user reads back (amountOutstanding, state, balance), and the transactions OneUp shows of the same book."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select

from comptoir.storage.tables import Base

from ..helpers import OneUpClient

FUTURE = (date.today() + timedelta(days=30)).isoformat()
ISSUED = "2024-03-01"
PAID_ON = "2024-03-10"

# Accounts of the organization's chart, by number (domain/charts.py).
RECEIVABLE, UNDEPOSITED, INCOME, TAX_PAYABLE = "11100", "10500", "40150", "21100"


def customer(upflow, external_id: str = "C-1", name: str = "Acme") -> dict:
    return upflow.ok("POST", "/customers", {"externalId": external_id, "name": name})


def invoice_body(external_id: str, gross: int, net: int | None = None, *, customer_id: str = "C-1",
                 currency: str = "EUR", custom_id: str | None = None, issued: str = ISSUED, **overrides) -> dict:
    body = {"externalId": external_id, "customId": custom_id or external_id, "issuedAt": issued, "dueDate": FUTURE,
            "currency": currency, "netAmount": gross if net is None else net, "grossAmount": gross,
            "customer": {"externalId": customer_id}}
    body.update(overrides)
    return body


def invoice(upflow, external_id: str, gross: int, net: int | None = None, **kwargs) -> dict:
    return upflow.ok("POST", "/invoices", invoice_body(external_id, gross, net, **kwargs))


def credit_note_body(external_id: str, gross: int, net: int | None = None, links: list[dict] | None = None, *,
                     customer_id: str = "C-1", currency: str = "EUR", custom_id: str | None = None,
                     **overrides) -> dict:
    body: dict[str, Any] = {"externalId": external_id, "customId": custom_id or external_id,
                            "issuedAt": "2024-03-05", "currency": currency,
                            "netAmount": gross if net is None else net, "grossAmount": gross,
                            "customer": {"externalId": customer_id}}
    if links is not None:
        body["linkedInvoices"] = links
    body.update(overrides)
    return body


def credit_note(upflow, external_id: str, gross: int, net: int | None = None, links: list[dict] | None = None,
                **kwargs) -> dict:
    return upflow.ok("POST", "/credit_notes", credit_note_body(external_id, gross, net, links, **kwargs))


def payment_body(external_id: str, amount: int, links: list[dict] | None = None, *, customer_id: str = "C-1",
                 currency: str = "EUR", **overrides) -> dict:
    body: dict[str, Any] = {"externalId": external_id, "currency": currency, "amount": amount,
                            "validatedAt": PAID_ON, "instrument": "WIRE_TRANSFER",
                            "customer": {"externalId": customer_id}}
    if links is not None:
        body["linkedInvoices"] = links
    body.update(overrides)
    return body


def payment(upflow, external_id: str, amount: int, links: list[dict] | None = None, **kwargs) -> dict:
    return upflow.ok("POST", "/payments", payment_body(external_id, amount, links, **kwargs))


def refund_body(external_id: str, amount: int, *, payments: list[dict] | None = None,
                credit_notes: list[dict] | None = None, customer_id: str = "C-1", currency: str = "EUR",
                **overrides) -> dict:
    body: dict[str, Any] = {"externalId": external_id, "currency": currency, "amount": amount,
                            "validatedAt": "2024-03-20", "instrument": "WIRE_TRANSFER",
                            "customer": {"externalId": customer_id}}
    if payments is not None:
        body["linkedPayments"] = payments
    if credit_notes is not None:
        body["linkedCreditNotes"] = credit_notes
    body.update(overrides)
    return body


def refund(upflow, external_id: str, amount: int, **kwargs) -> dict:
    return upflow.ok("POST", "/refunds", refund_body(external_id, amount, **kwargs))


def ext(external_id: str, cents: int) -> dict:
    """A link by externalId with the amount linked, as the request spells it."""
    return {"externalId": external_id, "amountLinked": cents}


def invoice_of(upflow, ref: str) -> dict:
    return upflow.ok("GET", f"/invoices/{ref}")


def outstanding(upflow, ref: str) -> int:
    return invoice_of(upflow, ref)["amountOutstanding"]


def outstandings(upflow, *refs: str) -> tuple[int, ...]:
    return tuple(outstanding(upflow, ref) for ref in refs)


def balance(upflow, customer_ref: str = "external:C-1") -> int:
    return upflow.customer(customer_ref)["balance"]


def snapshot(context, org_id: int) -> dict[str, list[tuple]]:
    """Every row of the organization in every table (tests/helpers.book_snapshot), skipping the tables
    the database does not have yet (the schema is being extended beside these tests): equal snapshots
    mean a request changed nothing. On PostgreSQL without `counters`, as in book_snapshot (a refused
    request may have used an automatic number: docs/decisions/0016)."""
    result: dict[str, list[tuple]] = {}
    postgres = context.database.engine.dialect.name == "postgresql"
    with context.database.transaction() as session:
        present = set(inspect(session.connection()).get_table_names())
        for table in Base.metadata.sorted_tables:
            if "org_id" not in table.c or table.name not in present or (postgres and table.name == "counters"):
                continue
            columns = [column for column in table.c
                       if column.name in {c["name"] for c in inspect(session.connection()).get_columns(table.name)}]
            rows = session.execute(select(*columns).where(table.c.org_id == org_id).order_by(*table.primary_key))
            result[table.name] = [tuple(row) for row in rows]
    return result


# -- the same book through OneUp ---------------------------------------------------------------

def chart(oneup: OneUpClient) -> dict[int, str]:
    """Account number by account id."""
    return {account["id"]: account["number"] for account in oneup.ok("GET", "/accounts?limit=1000")}


def transactions_of(oneup: OneUpClient, piece_number: str) -> list[dict]:
    return oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")


def all_transactions(oneup: OneUpClient) -> list[dict]:
    return oneup.ok("GET", "/transactions?limit=1000")


def postings(oneup: OneUpClient, transaction: dict) -> dict[str, tuple[str, Decimal]]:
    """(way, amount) by account number, the entries of one account summed: a settlement's receivable
    side is one entry per document it settles, each with its letter (docs/decisions/0021-lettering.md);
    an account on both sides of one transaction fails."""
    numbers = chart(oneup)
    found: dict[str, tuple[str, Decimal]] = {}
    for entry in transaction["entries"]:
        number = numbers[entry["account_id"]]
        way, amount = found.get(number, (entry["way"], Decimal(0)))
        assert way == entry["way"], ("an account on both sides of one transaction", transaction)
        found[number] = (way, amount + entry["amount"])
    return found


def balanced(transaction: dict) -> Decimal:
    """The transaction's total, after checking that debits equal credits."""
    debit = sum((e["amount"] for e in transaction["entries"] if e["way"] == "debit"), Decimal(0))
    credit = sum((e["amount"] for e in transaction["entries"] if e["way"] == "credit"), Decimal(0))
    assert debit == credit, ("unbalanced", transaction)
    return debit
