"""Issue 17 §5: every lettered group sums to zero (docs/decisions/0021-lettering.md).

A group is the entries of one account that carry one letter. An invoice's receivable entry carries its
number; each settlement posts one receivable entry per invoice it settles, with that invoice's number
(a payment, a credit note), and what it settles of nothing under its own number; a refund carries the
number of the payment or credit note whose credit it gives back. So the group of a settled invoice
sums to zero, and so do a credit and its refund. A partly settled invoice's group is open (not zero).

The books are written through Upflow, OneUp and Quipu, and read back through OneUp's transactions and
general ledger, as an accountant would. Every figure below was written down before the code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptoir.services.tenancy.organizations import create_organization

from .helpers import OneUpClient
from .oneup.sales_support import simple_invoice
from .quipu.conftest import QuipuClient, item, relationship
from .upflow.allocation_support import credit_note, customer, ext, invoice, payment, refund
from .upflow.conftest import UpflowClient

D = Decimal
RECEIVABLE, PAYABLE = "11100", "20100"


@pytest.fixture
def org(context):
    """A book kept in euros, as the tests' documents are (tests/currencies/ letters documents in
    another currency than the book's)."""
    return create_organization(context.database, "Test Company", currency="EUR")


@pytest.fixture
def upflow(client, org) -> UpflowClient:
    return UpflowClient(client, org)


def account_id(oneup: OneUpClient, number: str) -> int:
    [account] = [a for a in oneup.ok("GET", "/accounts?limit=1000") if a["number"] == number]
    return account["id"]


def entries_of(oneup: OneUpClient, number: str) -> list[dict]:
    """Every entry of the account, in every transaction, with its transaction's piece number."""
    target = account_id(oneup, number)
    return [{**entry, "piece_number": transaction["piece_number"]}
            for transaction in oneup.ok("GET", "/transactions?limit=1000")
            for entry in transaction["entries"] if entry["account_id"] == target]


def groups(oneup: OneUpClient, number: str = RECEIVABLE) -> dict[str | None, Decimal]:
    """What each letter's entries of the account sum to (debits less credits)."""
    sums: dict[str | None, Decimal] = {}
    for entry in entries_of(oneup, number):
        signed = entry["amount"] if entry["way"] == "debit" else -entry["amount"]
        sums[entry["lettering"]] = sums.get(entry["lettering"], D(0)) + signed
    return sums


def lettered(oneup: OneUpClient, piece_number: str, number: str = RECEIVABLE) -> list[tuple[str, str, Decimal]]:
    """The (letter, way, amount) of a transaction's entries on the account, by letter."""
    return sorted((e["lettering"], e["way"], e["amount"]) for e in entries_of(oneup, number)
                  if e["piece_number"] == piece_number)


def piece_of_payment(oneup: OneUpClient, amount: Decimal) -> str:
    """The number of the payment of this amount (OneUp lists every payment of the book)."""
    [found] = [p for p in oneup.ok("GET", "/payments") if p["amount"] == amount]
    return found["user_code"]


# == Upflow: credit notes, payments over several invoices, refunds, reconciliations ================


def test_an_invoice_settled_by_a_credit_note_and_a_payment_sums_to_zero(upflow, oneup):
    """F-2025-001 of 100.00, a credit note of 30.00 applied to it, a payment of 70.00: the group
    F-2025-001 is +100 - 30 - 70 = 0 (it was -30 before: the credit note was lettered with its own number)."""
    customer(upflow)
    invoice(upflow, "F-2025-001", 10000, issued="2025-01-10")
    credit_note(upflow, "AV-2025-001", 3000, None, [ext("F-2025-001", 3000)], issuedAt="2025-01-15")
    payment(upflow, "P-1", 7000, [ext("F-2025-001", 7000)], validatedAt="2025-01-20")
    assert lettered(oneup, "AV-2025-001") == [("F-2025-001", "credit", D(30))]
    assert lettered(oneup, piece_of_payment(oneup, D(70))) == [("F-2025-001", "credit", D(70))]
    assert groups(oneup) == {"F-2025-001": D(0)}

    # The general ledger of the receivable shows the same letters.
    ledger = oneup.ok("GET", f"/reports/general_ledger?account_id={account_id(oneup, RECEIVABLE)}"
                             "&date_from=2025-01-01&date_to=2025-12-31")
    assert [(row["piece_number"], row["debit"], row["credit"], row["lettering"]) for row in ledger["entries"]] == [
        ("F-2025-001", D(100), D(0), "F-2025-001"), ("AV-2025-001", D(0), D(30), "F-2025-001"),
        (piece_of_payment(oneup, D(70)), D(0), D(70), "F-2025-001")]
    assert ledger["closing_balance"] == D(0)


def test_a_payment_over_two_invoices_credits_each_with_its_letter(upflow, oneup):
    """A of 100.00 and B of 50.00, one payment of 150.00 over both: two receivable entries, 100 lettered
    A and 50 lettered B (it was one entry of 150 under the payment's own number); each group is zero."""
    customer(upflow)
    invoice(upflow, "A", 10000)
    invoice(upflow, "B", 5000)
    payment(upflow, "P-1", 15000, [ext("A", 10000), ext("B", 5000)])
    assert lettered(oneup, piece_of_payment(oneup, D(150))) == [("A", "credit", D(100)), ("B", "credit", D(50))]
    assert groups(oneup) == {"A": D(0), "B": D(0)}


def test_a_partly_settled_invoice_keeps_an_open_group_until_it_is_paid(upflow, oneup):
    """A of 100.00: paid 40.00, its group is 60 (open, under the same letter: no partial mark); the
    other 60.00 closes it."""
    customer(upflow)
    invoice(upflow, "A", 10000)
    payment(upflow, "P-1", 4000, [ext("A", 4000)])
    assert groups(oneup) == {"A": D(60)}
    payment(upflow, "P-2", 6000, [ext("A", 6000)])
    assert groups(oneup) == {"A": D(0)}


def test_an_unapplied_credit_is_lettered_as_its_own_and_its_refund_closes_it(upflow, oneup):
    """A of 100.00 paid 120.00: 100 lettered A, the 20 left under the payment's number; a refund of
    20.00 of that payment debits 20 under the same number, so the payment's group sums to zero. A credit
    note of 50.00 applied to nothing and refunded in full: its group (its number) is zero too."""
    customer(upflow)
    invoice(upflow, "A", 10000)
    payment(upflow, "P-1", 12000, [ext("A", 10000)])
    own = piece_of_payment(oneup, D(120))
    assert lettered(oneup, own) == sorted([("A", "credit", D(100)), (own, "credit", D(20))])
    assert groups(oneup) == {"A": D(0), own: D(-20)}

    refund(upflow, "R-1", 2000, payments=[ext("P-1", 2000)])
    credit_note(upflow, "AV-1", 5000)
    refund(upflow, "R-2", 5000, credit_notes=[ext("AV-1", 5000)])
    assert groups(oneup) == {"A": D(0), own: D(0), "AV-1": D(0)}


def test_a_refund_of_two_credits_and_of_nothing(upflow, oneup):
    """A refund of 80.00 gives back 20.00 of a payment and 50.00 of a credit note; the 10.00 it refunds
    of nothing is under its own number (an open debit on the customer's account)."""
    customer(upflow)
    payment(upflow, "P-1", 2000)
    credit_note(upflow, "AV-1", 5000)
    refund(upflow, "R-1", 8000, payments=[ext("P-1", 2000)], credit_notes=[ext("AV-1", 5000)])
    own_payment = piece_of_payment(oneup, D(20))
    [refund_piece] = {e["piece_number"] for e in entries_of(oneup, RECEIVABLE) if e["way"] == "debit"}
    assert lettered(oneup, refund_piece) == sorted([("AV-1", "debit", D(50)), (own_payment, "debit", D(20)),
                                                   (refund_piece, "debit", D(10))])
    assert groups(oneup) == {"AV-1": D(0), own_payment: D(0), refund_piece: D(10)}

    # The payment deleted, its refunded share is the refund's own again; the payment's own group
    # holds its entry and the reversal of it (issue 17 §8), summing to zero.
    assert upflow.delete("/payments/external:P-1").status_code == 204
    assert groups(oneup) == {"AV-1": D(0), own_payment: D(0), refund_piece: D(30)}


def test_letters_follow_a_relinked_payment_and_a_reconciliation(upflow, oneup):
    """A payment of 100.00 linked to A moves to B (re-import): its entry is lettered B. A payment of
    50.00 applied to nothing, then reconciled with C (50.00): lettered C; the reconciliation undone,
    its own number again."""
    customer(upflow)
    invoice(upflow, "A", 10000)
    invoice(upflow, "B", 10000)
    invoice(upflow, "C", 5000)
    payment(upflow, "P-1", 10000, [ext("A", 10000)])
    payment(upflow, "P-1", 10000, [ext("B", 10000)])
    assert groups(oneup) == {"A": D(100), "B": D(0), "C": D(50)}

    payment(upflow, "P-2", 5000)
    own = piece_of_payment(oneup, D(50))
    assert groups(oneup) == {"A": D(100), "B": D(0), "C": D(50), own: D(-50)}
    reconciled = upflow.post("/reconcile", {"externalId": "rec-1", "invoices": [ext("C", 5000)],
                                            "payments": [ext("P-2", 5000)], "creditNotes": [], "refunds": []})
    assert reconciled.status_code == 200, reconciled.text
    assert groups(oneup) == {"A": D(100), "B": D(0), "C": D(0)}
    undone = upflow.post("/reconcile", {"externalId": "rec-1", "invoices": [], "payments": [], "creditNotes": [],
                                        "refunds": []})
    assert undone.status_code == 200, undone.text
    assert groups(oneup) == {"A": D(100), "B": D(0), "C": D(50), own: D(-50)}


def test_a_renumbered_invoice_takes_its_settlements_along(upflow, oneup):
    """A of 100.00 settled by a credit note of 30.00 and a payment of 70.00, then re-imported with the
    number A-2: the three entries are lettered A-2, and the group sums to zero. A refunded credit note
    renumbered takes its refund's entry along the same way."""
    customer(upflow)
    invoice(upflow, "A", 10000, custom_id="A-1")
    credit_note(upflow, "AV-1", 3000, None, [ext("A", 3000)])
    payment(upflow, "P-1", 7000, [ext("A", 7000)])
    assert groups(oneup) == {"A-1": D(0)}
    invoice(upflow, "A", 10000, custom_id="A-2")
    # The correction reversed A-1's transaction (issue 17 §7): the posting and its reversal keep their
    # letter, a group of their own that sums to zero.
    assert groups(oneup) == {"A-1": D(0), "A-2": D(0)}

    # A credit note of 20.00 refunded in full, then renumbered AV-10: the refund follows it.
    credit_note(upflow, "AV-9", 2000)
    refund(upflow, "R-1", 2000, credit_notes=[ext("AV-9", 2000)])
    assert groups(oneup) == {"A-1": D(0), "A-2": D(0), "AV-9": D(0)}
    credit_note(upflow, "AV-9", 2000, custom_id="AV-10")
    assert groups(oneup) == {"A-1": D(0), "A-2": D(0), "AV-9": D(0), "AV-10": D(0)}


def test_a_lettering_set_by_hand_on_a_payment_stays_while_it_settles_the_same_invoice(upflow, oneup):
    """An accountant letters the payment's share of A "MATCH-7" by hand; the payment re-imported with a
    new amount (same link) keeps it; linked to B instead, its share is B's and lettered B."""
    customer(upflow)
    invoice(upflow, "A", 10000)
    invoice(upflow, "B", 10000)
    payment(upflow, "P-1", 6000, [ext("A", 6000)])
    piece = piece_of_payment(oneup, D(60))
    [transaction] = oneup.ok("GET", f"/transactions?piece_number=eq:{piece}")
    oneup.ok("PUT", f"/transactions/{transaction['id']}", {"entries": [
        {"id": e["id"], **({"lettering": "MATCH-7"} if e["lettering"] == "A" else {})} for e in transaction["entries"]]})
    payment(upflow, "P-1", 8000, [ext("A", 6000)])
    own = piece
    assert lettered(oneup, piece) == sorted([("MATCH-7", "credit", D(60)), (own, "credit", D(20))])
    payment(upflow, "P-1", 8000, [ext("B", 6000)])
    assert lettered(oneup, piece) == sorted([("B", "credit", D(60)), (own, "credit", D(20))])


# == OneUp and Quipu ===============================================================================


def test_oneup_payments_letter_their_invoice(oneup):
    """A OneUp invoice of 100.00 (a line of 100, no tax) paid 30.00 then 70.00: one group, zero."""
    invoice_ = simple_invoice(oneup, price="100")
    assert invoice_["total"] == D(100)
    for amount, day in ((30, "2024-03-05"), (70, "2024-03-10")):
        oneup.ok("POST", "/payments", {"invoice_id": invoice_["id"], "amount": amount, "date": day})
    assert groups(oneup) == {invoice_["user_code"]: D(0)}


def test_quipu_paid_at_letters_the_receivable_and_the_vendors_number_on_the_payable(client, org, oneup):
    """An income invoice of 100.00 (no VAT) declared paid: its group is zero. An expense of 50.00 with
    the vendor's number FA-7, declared paid: the payable group FA-7 (the vendor's number, on both the
    bill and its settlement) is zero, and stays zero under the vendor's number corrected."""
    quipu = QuipuClient(client, org)
    contact = quipu.contact()
    sale = quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-03-01", "paid_at": "2024-03-05"},
                        {"contact": relationship("contacts", contact["id"]),
                         "items": {"data": [item("Work", "100", 1, 0)]}})
    bill = quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01", "number": "FA-7",
                                                  "paid_at": "2024-03-05"},
                        {"contact": relationship("contacts", contact["id"]),
                         "items": {"data": [item("Paper", "50", 1, 0)]}})
    assert groups(oneup) == {sale["attributes"]["number"]: D(0)}
    assert groups(oneup, PAYABLE) == {"FA-7": D(0)}

    # The vendor's number corrected to FA-8: the bill and its settlement follow.
    quipu.ok("PATCH", f"/invoices/{bill['id']}", {"data": {"type": "invoices", "id": bill["id"],
                                                          "attributes": {"number": "FA-8"}}})
    # (The settlement lettered FA-7 is reversed, not removed: issue 17 §8; its group still sums to zero.)
    assert groups(oneup, PAYABLE) == {"FA-7": D(0), "FA-8": D(0)}
