"""Upflow v1 POST /reconcile through the real app (specs/upflow.md §6.7): credits (payments, credit
notes) matched against debits (invoices, refunds), each record named by externalId, id or customId with
the amount it takes part with (amountLinked, cents). Answers the JSON string "CREATED". The two sides
must carry the same total; a reconciliation is create-or-update by its externalId (re-posting replaces
its links, four empty arrays undo it); nothing is ever allocated beyond a document's amount, counting
what payments and credit notes settle by themselves; a refused reconciliation changes nothing."""

from __future__ import annotations

import pytest

from .allocation_support import (
    balance,
    credit_note,
    customer,
    ext,
    invoice,
    invoice_of,
    outstanding,
    outstandings,
    payment,
    refund,
    snapshot,
)
from .conftest import upflow_error

A, B = "external:INV-A", "external:INV-B"


def setup(upflow) -> None:
    """C-1 with invoices INV-A (12000) and INV-B (5000), an unlinked payment P-1 (9000) and an
    unlinked credit note CN-1 (3000)."""
    customer(upflow)
    invoice(upflow, "INV-A", 12000, 10000)
    invoice(upflow, "INV-B", 5000)
    payment(upflow, "P-1", 9000, [])
    credit_note(upflow, "CN-1", 3000, None, [])


def reconcile_body(external_id: str, invoices=(), payments=(), credit_notes=(), refunds=()) -> dict:
    return {"externalId": external_id, "invoices": list(invoices), "payments": list(payments),
            "creditNotes": list(credit_notes), "refunds": list(refunds)}


def reconciled(upflow, external_id: str, **lists) -> None:
    response = upflow.post("/reconcile", reconcile_body(external_id, **lists))
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.json() == "CREATED"


def paid_by(upflow, ref: str) -> dict[str, int]:
    """The invoices a payment settles (its own links and those of reconciliations)."""
    return {link["invoice"]["externalId"]: link["linkedAmount"]
            for link in upflow.ok("GET", f"/payments/{ref}")["linkedInvoices"]}


# == matching ====================================================================================


def test_a_reconciliation_answers_created_and_lowers_the_outstanding(upflow):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 6000)], payments=[ext("P-1", 6000)])
    assert outstandings(upflow, A, B) == (6000, 5000)
    assert paid_by(upflow, "external:P-1") == {"INV-A": 6000}
    assert [p["amount"] for p in invoice_of(upflow, A)["payments"]] == [6000]


def test_several_credits_and_debits_are_matched_together(upflow):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 7000), ext("INV-B", 5000)],
               payments=[ext("P-1", 9000)], credit_notes=[ext("CN-1", 3000)])
    assert outstandings(upflow, A, B) == (5000, 0)
    assert invoice_of(upflow, B)["state"] == "PAID"
    note = upflow.ok("GET", "/credit_notes/external:CN-1")
    assert note["amountAvailable"] == 0
    assert sum(paid_by(upflow, "external:P-1").values()) == 9000


def test_records_named_by_id_and_custom_id(upflow):
    setup(upflow)
    invoice_b = invoice_of(upflow, B)
    paid = upflow.ok("GET", "/payments/external:P-1")
    reconciled(upflow, "partial-1", invoices=[{"id": invoice_b["id"], "amountLinked": 1000},
                                              {"customId": "INV-A", "amountLinked": 2000}],
               payments=[{"id": paid["id"], "amountLinked": 1500}],
               credit_notes=[{"customId": "CN-1", "amountLinked": 1500}])
    assert outstandings(upflow, A, B) == (10000, 4000)
    assert upflow.ok("GET", "/credit_notes/external:CN-1")["amountAvailable"] == 1500


def test_a_payment_credit_matched_against_a_refund(upflow):
    setup(upflow)
    made = refund(upflow, "R-1", 2000)
    reconciled(upflow, "partial-1", payments=[ext("P-1", 2000)], refunds=[ext("R-1", 2000)])
    assert {r["externalId"]: r["amountLinked"] for r in upflow.ok("GET", "/payments/external:P-1")["linkedRefunds"]} \
        == {"R-1": 2000}
    assert upflow.ok("GET", f"/refunds/{made['id']}")["amountLinked"] == 2000
    upflow_error(upflow.post("/refunds", {"externalId": "R-2", "currency": "EUR", "amount": 7001,
                                          "validatedAt": "2024-03-20", "customer": {"externalId": "C-1"},
                                          "linkedPayments": [ext("P-1", 7001)]}), 409)


def test_the_balance_does_not_move(upflow):
    setup(upflow)
    before = balance(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 6000)], payments=[ext("P-1", 6000)])
    assert balance(upflow) == before == 12000 + 5000 - 9000 - 3000


# == create or update by externalId ==============================================================


def test_reposting_the_same_external_id_replaces_the_links(upflow):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 6000)], payments=[ext("P-1", 6000)])
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 2000)], payments=[ext("P-1", 2000)])
    assert outstandings(upflow, A, B) == (10000, 5000)
    assert paid_by(upflow, "external:P-1") == {"INV-A": 2000}
    reconciled(upflow, "partial-1", invoices=[ext("INV-B", 5000)], credit_notes=[ext("CN-1", 3000)],
               payments=[ext("P-1", 2000)])
    assert outstandings(upflow, A, B) == (12000, 0)
    assert paid_by(upflow, "external:P-1") == {"INV-B": 2000}


def test_four_empty_arrays_undo_the_reconciliation(upflow):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 6000), ext("INV-B", 5000)],
               payments=[ext("P-1", 9000)], credit_notes=[ext("CN-1", 2000)])
    reconciled(upflow, "partial-2", invoices=[ext("INV-A", 1000)], credit_notes=[ext("CN-1", 1000)])
    assert outstandings(upflow, A, B) == (5000, 0)
    reconciled(upflow, "partial-1")
    assert outstandings(upflow, A, B) == (11000, 5000)  # partial-2 stays
    assert paid_by(upflow, "external:P-1") == {}
    assert invoice_of(upflow, B)["state"] == "DUE"
    reconciled(upflow, "partial-1")  # undoing twice, or an unknown one, is harmless
    reconciled(upflow, "never-seen")
    assert outstandings(upflow, A, B) == (11000, 5000)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 9000)], payments=[ext("P-1", 9000)])  # again
    assert outstandings(upflow, A, B) == (2000, 5000)


def test_the_links_of_a_payment_and_of_reconciliations_add_up(upflow, context, org):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 6000)], payments=[ext("P-1", 6000)])
    # the payment's own links are replaced without touching the reconciliation's
    upflow.ok("POST", "/payments", {"externalId": "P-1", "linkedInvoices": [ext("INV-B", 3000)]})
    assert paid_by(upflow, "external:P-1") == {"INV-A": 6000, "INV-B": 3000}
    assert outstandings(upflow, A, B) == (6000, 2000)
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/payments", {"externalId": "P-1", "linkedInvoices": [ext("INV-B", 3001)]}), 409)
    upflow_error(upflow.post("/payments", {"externalId": "P-1", "amount": 8999}), 409)
    assert snapshot(context, org.id) == before
    upflow.ok("POST", "/payments", {"externalId": "P-1", "linkedInvoices": []})
    assert paid_by(upflow, "external:P-1") == {"INV-A": 6000}


# == refusals that change nothing ================================================================


def test_unequal_totals_are_400_and_change_nothing(upflow, context, org):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 1000)], payments=[ext("P-1", 1000)])
    before = snapshot(context, org.id)
    for lists in ({"invoices": [ext("INV-A", 6000)], "payments": [ext("P-1", 5999)]},
                  {"invoices": [ext("INV-A", 6000)]},
                  {"payments": [ext("P-1", 100)], "credit_notes": [ext("CN-1", 100)],
                   "invoices": [ext("INV-B", 201)]}):
        for external_id in ("partial-1", "partial-new"):
            upflow_error(upflow.post("/reconcile", reconcile_body(external_id, **lists)), 400)
    assert snapshot(context, org.id) == before
    assert outstandings(upflow, A, B) == (11000, 5000)


def test_over_settling_an_invoice_a_payment_already_settles_is_409(upflow, context, org):
    setup(upflow)
    payment(upflow, "P-2", 5000, [ext("INV-B", 5000)])  # INV-B paid by P-2's own link
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 1000)], payments=[ext("P-1", 1000)])
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/reconcile", reconcile_body("partial-1", invoices=[ext("INV-B", 1)],
                                                          payments=[ext("P-1", 1)])), 409)
    upflow_error(upflow.post("/reconcile", reconcile_body("partial-2", invoices=[ext("INV-B", 1000)],
                                                          credit_notes=[ext("CN-1", 1000)])), 409)
    assert snapshot(context, org.id) == before
    assert outstandings(upflow, A, B) == (11000, 0)  # partial-1 kept its previous links


def test_using_more_than_a_credit_has_is_409(upflow, context, org):
    setup(upflow)
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/reconcile", reconcile_body("partial-1", invoices=[ext("INV-A", 9001)],
                                                          payments=[ext("P-1", 9001)])), 409)
    upflow_error(upflow.post("/reconcile", reconcile_body("partial-1", invoices=[ext("INV-A", 3001)],
                                                          credit_notes=[ext("CN-1", 3001)])), 409)
    assert snapshot(context, org.id) == before


REFUSED = {
    # name: (the lists, status)
    "an unknown invoice": ({"invoices": [ext("NOPE", 100)], "payments": [ext("P-1", 100)]}, 404),
    "an unknown payment": ({"invoices": [ext("INV-A", 100)], "payments": [ext("NOPE", 100)]}, 404),
    "an unknown credit note": ({"invoices": [ext("INV-A", 100)], "credit_notes": [ext("NOPE", 100)]}, 404),
    "an unknown refund": ({"refunds": [ext("NOPE", 100)], "payments": [ext("P-1", 100)]}, 404),
    "an invoice named as a credit note": ({"invoices": [ext("INV-A", 100)], "credit_notes": [ext("INV-B", 100)]},
                                          404),
    "another customer's invoice": ({"invoices": [ext("INV-OTHER", 100)], "payments": [ext("P-1", 100)]}, 400),
    "another currency": ({"invoices": [ext("INV-USD", 100)], "payments": [ext("P-1", 100)]}, 400),
    "a zero amount": ({"invoices": [ext("INV-A", 0)], "payments": [ext("P-1", 0)]}, 400),
    "a record without id nor externalId": ({"invoices": [{"amountLinked": 100}], "payments": [ext("P-1", 100)]},
                                           400),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_refused_reconciliation_changes_nothing(upflow, context, org, case):
    setup(upflow)
    customer(upflow, "C-2", "Other")
    invoice(upflow, "INV-OTHER", 1000, customer_id="C-2")
    invoice(upflow, "INV-USD", 1000, currency="USD")
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 1000)], payments=[ext("P-1", 1000)])
    lists, status = REFUSED[case]
    before = snapshot(context, org.id)
    for external_id in ("partial-1", "partial-new"):
        upflow_error(upflow.post("/reconcile", reconcile_body(external_id, **lists)), status)
    assert snapshot(context, org.id) == before


def test_a_body_without_external_id_is_400(upflow, context, org):
    setup(upflow)
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/reconcile", {"invoices": [ext("INV-A", 100)], "payments": [ext("P-1", 100)]}), 400)
    upflow_error(upflow.post("/reconcile", [ext("INV-A", 100)]), 400)
    assert snapshot(context, org.id) == before


# == the documents of a reconciliation afterwards ================================================


def test_a_reconciled_invoice_cannot_be_deleted_and_a_deleted_payment_reopens_it(upflow):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 6000)], payments=[ext("P-1", 6000)])
    upflow_error(upflow.delete(f"/invoices/{A}"), 409)
    assert upflow.delete("/payments/external:P-1").status_code == 204
    assert outstanding(upflow, A) == 12000
    reconciled(upflow, "partial-1")  # undoing what is already gone


MOVES = {
    "a payment to another customer": ("/payments", {"externalId": "P-1", "customer": {"externalId": "C-2"}}),
    "a payment to another currency": ("/payments", {"externalId": "P-1", "currency": "USD"}),
    "a credit note to another customer": ("/credit_notes", {"externalId": "CN-1", "customer": {"externalId": "C-2"}}),
    "an invoice to another customer": ("/invoices", {"externalId": "INV-A", "customer": {"externalId": "C-2"}}),
}


@pytest.mark.parametrize("move", MOVES, ids=list(MOVES))
def test_a_reconciled_document_cannot_move_to_another_customer_or_currency(upflow, context, org, move):
    """A reconciliation's links are not re-sent when a payment, credit note or invoice is re-imported:
    they stay, so moving one of its documents to another customer (or currency) must be refused."""
    setup(upflow)
    customer(upflow, "C-2", "Other")
    reconciled(upflow, "partial-1", invoices=[ext("INV-A", 4000)], payments=[ext("P-1", 3000)],
               credit_notes=[ext("CN-1", 1000)])
    before = snapshot(context, org.id)
    path, change = MOVES[move]
    response = upflow.post(path, change)
    assert response.status_code in (400, 409), (response.status_code, response.text)
    assert snapshot(context, org.id) == before


def test_lowering_a_reconciled_invoice_below_what_settles_it_is_409(upflow, context, org):
    setup(upflow)
    reconciled(upflow, "partial-1", invoices=[ext("INV-B", 5000)], payments=[ext("P-1", 5000)])
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/invoices", {"externalId": "INV-B", "grossAmount": 4000, "netAmount": 4000}), 409)
    assert snapshot(context, org.id) == before
