"""Upflow v1 refunds through the real app (specs/upflow.md §6.6, §7, §8; integration guide "Import
Refund"): money given back to a customer, imported by externalId and linked to the payments and credit
notes it gives back (linkedPayments, linkedCreditNotes, amountLinked in cents). Only what a payment or a
credit note has left may be refunded; the payment's and credit note's JSON show the refund; the refund
posts receivable against bank (undeposited funds) in the one book; a refund with no link is a plain
"Debit" on the customer's account."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ..helpers import OneUpClient, assert_reversed
from .allocation_support import (
    RECEIVABLE,
    UNDEPOSITED,
    all_transactions,
    balance,
    balanced,
    credit_note,
    customer,
    ext,
    invoice,
    outstanding,
    payment,
    postings,
    refund,
    refund_body,
    snapshot,
)
from .conftest import upflow_error


def setup(upflow) -> None:
    """C-1 with invoice INV-A (12000); payment P-1 of 9000 settles 6000 of it (3000 unapplied);
    credit note CN-1 of 3000 settles 1000 of it (2000 unused)."""
    customer(upflow)
    invoice(upflow, "INV-A", 12000, 10000)
    payment(upflow, "P-1", 9000, [ext("INV-A", 6000)])
    credit_note(upflow, "CN-1", 3000, None, [ext("INV-A", 1000)])


def refunds_of(upflow) -> dict:
    return upflow.ok("GET", "/refunds")


def refunded(record: dict) -> dict[str, int]:
    """A payment's or a credit note's refunds: amount by refund externalId."""
    return {link["externalId"]: link["amountLinked"] for link in record["linkedRefunds"]}


def links_of(refund_json: dict, key: str) -> dict[str, int]:
    return {link["externalId"]: link["amountLinked"] for link in refund_json[key]}


# == import and links ============================================================================


def test_a_refund_of_a_payment_credit_and_a_credit_note_rest(upflow):
    setup(upflow)
    buyer = upflow.customer("external:C-1")
    made = refund(upflow, "R-1", 5000, payments=[ext("P-1", 3000)], credit_notes=[ext("CN-1", 2000)])
    assert str(uuid.UUID(made["id"])) == made["id"]
    assert made["externalId"] == "R-1"
    assert (made["amount"], made["currency"], made["instrument"]) == (5000, "EUR", "WIRE_TRANSFER")
    assert made["validatedAt"].startswith("2024-03-20T")
    assert made["customer"]["id"] == buyer["id"]
    assert links_of(made, "linkedPayments") == {"P-1": 3000}
    assert links_of(made, "linkedCreditNotes") == {"CN-1": 2000}
    assert made["amountLinked"] == 5000

    paid = upflow.ok("GET", "/payments/external:P-1")
    assert refunded(paid) == {"R-1": 3000}
    assert paid["amountLinked"] == 6000  # what it settles of invoices is unchanged
    note = upflow.ok("GET", "/credit_notes/external:CN-1")
    assert refunded(note) == {"R-1": 2000}
    assert note["amountLinked"] == 3000 and note["amountAvailable"] == 0
    assert outstanding(upflow, "external:INV-A") == 5000  # a refund does not touch the invoices


def test_links_by_id_and_nested(upflow):
    setup(upflow)
    paid = upflow.ok("GET", "/payments/external:P-1")
    note = upflow.ok("GET", "/credit_notes/external:CN-1")
    made = refund(upflow, "R-1", 1500, payments=[{"id": paid["id"], "amountLinked": 1000}],
                  credit_notes=[{"creditNote": {"id": note["id"]}, "linkedAmount": 500}])
    assert links_of(made, "linkedPayments") == {"P-1": 1000}
    assert links_of(made, "linkedCreditNotes") == {"CN-1": 500}


def test_a_refund_may_be_only_partly_linked(upflow):
    setup(upflow)
    made = refund(upflow, "R-1", 5000, payments=[ext("P-1", 1000)])
    assert made["amount"] == 5000 and made["amountLinked"] == 1000


def test_reimport_replaces_the_kind_of_links_sent_and_keeps_the_other(upflow):
    setup(upflow)
    first = refund(upflow, "R-1", 3000, payments=[ext("P-1", 2000)], credit_notes=[ext("CN-1", 1000)])
    second = refund(upflow, "R-1", 3000, payments=[ext("P-1", 500)])
    assert second["id"] == first["id"]
    assert links_of(second, "linkedPayments") == {"P-1": 500}
    assert links_of(second, "linkedCreditNotes") == {"CN-1": 1000}  # not sent: kept
    third = refund(upflow, "R-1", 3000, credit_notes=[])
    assert links_of(third, "linkedPayments") == {"P-1": 500} and third["linkedCreditNotes"] == []
    assert refunded(upflow.ok("GET", "/credit_notes/external:CN-1")) == {}
    kept = upflow.ok("POST", "/refunds", {"externalId": "R-1", "amount": 2500})
    assert kept["amount"] == 2500 and links_of(kept, "linkedPayments") == {"P-1": 500}
    assert refunds_of(upflow)["total"] == 1


REFUSED = {
    # name: (the refund's links, status)
    "more than the payment has left": ({"payments": [ext("P-1", 3001)]}, 409),
    "more than the credit note has left": ({"credit_notes": [ext("CN-1", 2001)]}, 409),
    "links beyond the refund's amount": ({"payments": [ext("P-1", 3000)], "credit_notes": [ext("CN-1", 2000)],
                                          "amount": 4000}, 409),
    "another customer's payment": ({"payments": [ext("P-OTHER", 100)]}, 400),
    "a payment in another currency": ({"payments": [ext("P-USD", 100)]}, 400),
    "an unknown payment": ({"payments": [ext("NOPE", 100)]}, 404),
    "an unknown credit note": ({"credit_notes": [ext("NOPE", 100)]}, 404),
    "an unknown bank account": ({"bankAccountId": "404"}, 400),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_refused_refund_stores_nothing(upflow, context, org, case):
    setup(upflow)
    customer(upflow, "C-2", "Other")
    payment(upflow, "P-OTHER", 1000, customer_id="C-2")
    payment(upflow, "P-USD", 1000, currency="USD")
    links, status = REFUSED[case]
    links = dict(links)
    amount = links.pop("amount", 5000)
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/refunds", refund_body("R-NEW", amount, **links)), status)
    assert snapshot(context, org.id) == before, "a refused refund left something behind"
    assert refunds_of(upflow)["total"] == 0

    existing = refund(upflow, "R-NEW", 5000, payments=[ext("P-1", 100)])
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/refunds", refund_body("R-NEW", amount, **links)), status)
    assert snapshot(context, org.id) == before, "a refused re-import changed the book"
    assert upflow.ok("GET", "/refunds/external:R-NEW") == existing


def test_a_payment_refunded_in_full_can_no_longer_settle_an_invoice(upflow, context, org):
    setup(upflow)
    refund(upflow, "R-1", 3000, payments=[ext("P-1", 3000)])
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/payments", {"externalId": "P-1", "linkedInvoices": [ext("INV-A", 6001)]}), 409)
    upflow_error(upflow.post("/payments", {"externalId": "P-1", "amount": 8999}), 409)
    assert snapshot(context, org.id) == before


def test_a_refunded_payment_cannot_move_to_another_customer(upflow, context, org):
    """The refund's link is kept, so it would join a refund of C-1 with a payment of C-2."""
    setup(upflow)
    customer(upflow, "C-2", "Other")
    payment(upflow, "P-2", 1000)  # not linked to any invoice
    refund(upflow, "R-1", 1000, payments=[ext("P-2", 1000)])
    before = snapshot(context, org.id)
    response = upflow.post("/payments", {"externalId": "P-2", "customer": {"externalId": "C-2"}})
    assert response.status_code in (400, 409), (response.status_code, response.text)
    assert snapshot(context, org.id) == before


def test_a_linked_refund_cannot_move_to_another_customer(upflow, context, org):
    setup(upflow)
    customer(upflow, "C-2", "Other")
    refund(upflow, "R-1", 1000, payments=[ext("P-1", 1000)])
    before = snapshot(context, org.id)
    response = upflow.post("/refunds", {"externalId": "R-1", "customer": {"externalId": "C-2"}})
    upflow_error(response, 400)
    assert snapshot(context, org.id) == before


@pytest.mark.parametrize("name", ["currency", "amount", "validatedAt", "customer"])
def test_missing_required_fields_are_400(upflow, context, org, name):
    setup(upflow)
    body = refund_body("R-MISSING", 1000, payments=[ext("P-1", 1000)])
    del body[name]
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/refunds", body), 400)
    assert snapshot(context, org.id) == before


# == lists, addressing, deletes ==================================================================


def test_get_list_and_delete_by_id_and_external_id(upflow):
    setup(upflow)
    first = refund(upflow, "R-1", 1000, payments=[ext("P-1", 1000)])
    second = refund(upflow, "R-2", 500)
    assert upflow.ok("GET", f"/refunds/{first['id']}") == first
    assert upflow.ok("GET", "/refunds/external:R-2") == second
    upflow_error(upflow.get("/refunds/external:NOPE"), 404)
    upflow_error(upflow.get(f"/refunds/{uuid.uuid4()}"), 404)
    upflow_error(upflow.get("/refunds/external:P-1"), 404)  # a payment is not a refund

    listed = refunds_of(upflow)
    assert {"offset", "limit", "total", "items"} <= set(listed) and "refunds" not in listed
    assert listed["total"] == 2 and {r["id"] for r in listed["items"]} == {first["id"], second["id"]}
    page = upflow.ok("GET", "/refunds", params={"limit": 1, "offset": 1})
    assert (page["offset"], page["limit"], page["total"], len(page["items"])) == (1, 1, 2, 1)

    assert upflow.delete(f"/refunds/{first['id']}").status_code == 204
    upflow_error(upflow.get(f"/refunds/{first['id']}"), 404)
    assert upflow.delete("/refunds/external:R-2").status_code == 204
    upflow_error(upflow.delete("/refunds/external:R-2"), 404)
    assert refunds_of(upflow)["total"] == 0


def test_refunds_are_not_visible_to_another_organization(upflow, other_upflow):
    setup(upflow)
    made = refund(upflow, "R-1", 1000)
    upflow_error(other_upflow.get(f"/refunds/{made['id']}"), 404)
    upflow_error(other_upflow.delete("/refunds/external:R-1"), 404)
    assert other_upflow.ok("GET", "/refunds")["total"] == 0


def test_deleting_a_refund_frees_the_payment_credit_again(upflow):
    setup(upflow)
    refund(upflow, "R-1", 5000, payments=[ext("P-1", 3000)], credit_notes=[ext("CN-1", 2000)])
    upflow_error(upflow.post("/refunds", refund_body("R-2", 1, payments=[ext("P-1", 1)])), 409)
    assert upflow.delete("/refunds/external:R-1").status_code == 204
    paid = upflow.ok("GET", "/payments/external:P-1")
    assert paid["linkedRefunds"] == []
    note = upflow.ok("GET", "/credit_notes/external:CN-1")
    assert note["linkedRefunds"] == [] and note["amountAvailable"] == 2000
    again = refund(upflow, "R-2", 3000, payments=[ext("P-1", 3000)])
    assert links_of(again, "linkedPayments") == {"P-1": 3000}
    # and the payment's credit may settle an invoice again instead
    upflow.delete("/refunds/external:R-2")
    upflow.ok("POST", "/payments", {"externalId": "P-1", "linkedInvoices": [ext("INV-A", 9000)]})
    assert outstanding(upflow, "external:INV-A") == 2000


def test_deleting_a_refunded_payment_drops_the_refund_link_and_keeps_the_refund(upflow):
    setup(upflow)
    payment(upflow, "P-2", 1000)
    refund(upflow, "R-1", 1000, payments=[ext("P-2", 1000)])
    assert upflow.delete("/payments/external:P-2").status_code == 204
    kept = upflow.ok("GET", "/refunds/external:R-1")
    assert kept["linkedPayments"] == [] and kept["amount"] == 1000


# == one book ====================================================================================


def test_a_refund_posts_receivable_against_undeposited_funds(upflow, client, org):
    setup(upflow)
    oneup = OneUpClient(client, org)
    known = {t["id"] for t in all_transactions(oneup)}
    made = refund(upflow, "R-1", 2550, payments=[ext("P-1", 2550)])
    [transaction] = [t for t in all_transactions(oneup) if t["id"] not in known]
    assert transaction["journal"]["name"] == "Bank"
    assert transaction["date"] == "2024-03-20" and transaction["currency_iso_code"] == "EUR"
    assert postings(oneup, transaction) == {RECEIVABLE: ("debit", Decimal("25.5")),
                                            UNDEPOSITED: ("credit", Decimal("25.5"))}
    assert balanced(transaction) == Decimal("25.5")

    refund(upflow, "R-1", 3000)  # the re-import rewrites the same transaction
    [rewritten] = [t for t in all_transactions(oneup) if t["id"] not in known]
    assert rewritten["id"] == transaction["id"]
    assert postings(oneup, rewritten) == {RECEIVABLE: ("debit", Decimal("30")), UNDEPOSITED: ("credit", Decimal("30"))}

    assert upflow.delete(f"/refunds/{made['id']}").status_code == 204
    # Reversed, not removed (issue 17 §8): the refund's transaction and its reversal stay.
    after = [t for t in all_transactions(oneup) if t["id"] not in known]
    assert len(after) == 2 and assert_reversed(rewritten, after)


def test_a_refund_without_links_is_a_debit_on_the_account(upflow):
    setup(upflow)
    before = balance(upflow)
    assert before == 12000 - 9000 - 3000
    made = refund(upflow, "R-DEBIT", 1234)
    assert made["linkedPayments"] == [] and made["linkedCreditNotes"] == [] and made["amountLinked"] == 0
    assert balance(upflow) == before + 1234
    upflow.delete("/refunds/external:R-DEBIT")
    assert balance(upflow) == before


def test_the_balance_counts_refunds(upflow):
    setup(upflow)
    refund(upflow, "R-1", 3000, payments=[ext("P-1", 3000)])
    refund(upflow, "R-2", 2000, credit_notes=[ext("CN-1", 2000)])
    assert balance(upflow) == 12000 - 3000 - 9000 + 3000 + 2000


def test_a_refund_naming_a_bank_account_pays_out_of_its_ledger_account(upflow, client, org):
    """A refund of 25.50 that names a bank account of the book credits that account's own ledger
    account 25.50 (the payment's credit given back debits the receivable 25.50), and the bank account
    can no longer be deleted; an unknown one is 400 and stores nothing."""
    setup(upflow)
    oneup = OneUpClient(client, org)
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Main account", "currency": "EUR"})
    known = {t["id"] for t in all_transactions(oneup)}
    made = refund(upflow, "R-1", 2550, payments=[ext("P-1", 2550)], bankAccountId=str(bank["id"]))
    assert made["bankAccountId"] == str(bank["id"])
    [transaction] = [t for t in all_transactions(oneup) if t["id"] not in known]
    ledger_numbers = {a["id"]: a["number"] for a in oneup.ok("GET", "/accounts?limit=1000")}
    assert postings(oneup, transaction) == {RECEIVABLE: ("debit", Decimal("25.5")),
                                            ledger_numbers[bank["account_id"]]: ("credit", Decimal("25.5"))}
    assert oneup.ok("GET", f"/bank_accounts/{bank['id']}")["accounting_bank_balance"] == Decimal("-25.5")
    refused = oneup.delete(f"/bank_accounts/{bank['id']}")  # a refund names it
    assert refused.status_code == 422 and "Refund" in refused.json()["error"]["reason"], refused.text

    before = refunds_of(upflow)
    body = upflow_error(upflow.post("/refunds", refund_body("R-2", 100, bankAccountId="404")), 400)
    assert "bankAccountId" in body["message"], body
    assert refunds_of(upflow) == before
