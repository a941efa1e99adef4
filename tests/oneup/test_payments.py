"""Payments as the resources seed describes them (seeds/oneup-v1-resources.txt: Payments; creation is
restrained to invoice payments, applied to the first open settlement, in the invoice's currency), their
effect on the invoice (paid, unpaid, payments_id, installments) and their posting (design/ARCHITECTURE.md:
bank or undeposited funds against receivable, lettered with the invoice number)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.helpers import set_rates
from ..helpers import assert_reversed, book_snapshot, error_of
from .sales_support import (
    UNKNOWN_ID,
    account_id,
    assert_error,
    customer,
    entry_sums,
    seed_document,
    simple_invoice,
    terms_id,
    transactions_of,
)

D = Decimal
SEED_AMOUNT, SEED_UNPAID = D("770.1"), D("370.1")


def _pay(oneup, invoice: dict, amount, on: str | None = "2014-07-25", **extra) -> dict:
    body = {"invoice_id": invoice["id"], "amount": D(amount), **extra}
    if on is not None:
        body["date"] = on
    return oneup.ok("POST", "/payments", body)


@pytest.fixture
def accounts(oneup):
    return {number: account_id(oneup, number) for number in ("11100", "10500", "40150", "21100")}


# -- applying a payment --------------------------------------------------------------------------

def test_the_seed_payment_leaves_370_1_unpaid(oneup):
    invoice = seed_document(oneup)
    payment = _pay(oneup, invoice, SEED_AMOUNT)
    assert payment["user_code"] == "IPAY-001"
    assert payment["invoice_id"] == invoice["id"]
    assert payment["amount"] == SEED_AMOUNT
    assert payment["date"] == "2014-07-25"
    assert payment["currency_iso_code"] == "USD"
    assert payment["bank_id"] is None
    assert oneup.ok("GET", f"/payments/{payment['id']}") == payment
    paid = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert paid["paid"] == SEED_AMOUNT and paid["unpaid"] == SEED_UNPAID
    assert paid["paid"] + paid["unpaid"] == paid["total"] == D("1140.2")
    assert paid["payments_id"] == [payment["id"]]
    assert [s["outstanding_amount"] for s in paid["installments"]] == [SEED_UNPAID]


def test_payments_fill_the_first_open_settlement_first(oneup):
    invoice = seed_document(oneup, payment_terms_id=terms_id(oneup, "In two installments"))
    first = _pay(oneup, invoice, SEED_AMOUNT)
    state = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert [(s["amount"], s["outstanding_amount"]) for s in state["installments"]] == [
        (D("570.1"), D(0)), (D("570.1"), SEED_UNPAID)]
    assert state["unpaid"] == SEED_UNPAID
    second = _pay(oneup, invoice, SEED_UNPAID)
    assert second["user_code"] == "IPAY-002"
    state = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert [s["outstanding_amount"] for s in state["installments"]] == [0, 0]
    assert state["paid"] == D("1140.2") and state["unpaid"] == 0
    assert state["payments_id"] == [first["id"], second["id"]]


def test_a_small_payment_only_touches_the_first_installment(oneup):
    invoice = seed_document(oneup, payment_terms_id=terms_id(oneup, "In two installments"))
    _pay(oneup, invoice, "100")
    state = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert [s["outstanding_amount"] for s in state["installments"]] == [D("470.1"), D("570.1")]


def test_the_date_defaults_to_today(oneup):
    invoice = simple_invoice(oneup)
    payment = _pay(oneup, invoice, "10", on=None)
    assert payment["date"] == date.today().isoformat()


def test_the_currency_is_the_invoices(oneup, context, org):
    set_rates(context, org.id, {"EUR": "1.10"})
    buyer = customer(oneup, currency_iso_code="EUR")
    invoice = simple_invoice(oneup, buyer)
    assert invoice["currency_iso_code"] == "EUR"
    payment = _pay(oneup, invoice, "40", on="2024-03-02")
    assert payment["currency_iso_code"] == "EUR"
    [transaction] = transactions_of(oneup, payment["user_code"])
    assert transaction["currency_iso_code"] == "EUR"


def test_a_sent_invoice_can_still_be_paid(oneup):
    invoice = simple_invoice(oneup)
    oneup.ok("PUT", f"/invoices/{invoice['id']}", {"sent": True})
    _pay(oneup, invoice, "100", on="2024-03-02")
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["unpaid"] == 0


# -- refusals ------------------------------------------------------------------------------------

def test_a_payment_dated_before_the_invoice_is_3012(oneup):
    invoice = simple_invoice(oneup, date="2024-03-01")
    assert_error(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D(10), "date": "2024-02-29"}), "3012")
    same_day = _pay(oneup, invoice, "10", on="2024-03-01")
    assert same_day["date"] == "2024-03-01"


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "-0.01", "0.001"])
def test_an_amount_that_is_not_strictly_positive_is_3019(oneup, amount):
    invoice = simple_invoice(oneup)
    assert_error(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D(amount), "date": "2024-03-02"}),
                 "3019")
    assert oneup.ok("GET", "/payments") == []


def test_paying_more_than_unpaid_is_refused_and_leaves_no_trace(oneup, context, org):
    invoice = seed_document(oneup)
    _pay(oneup, invoice, SEED_AMOUNT)
    before = book_snapshot(context, org.id)
    response = oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D("370.11"), "date": "2014-07-26"})
    assert response.status_code == 422, response.text
    error_of(response)
    assert book_snapshot(context, org.id) == before
    assert len(oneup.ok("GET", "/payments")) == 1
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["unpaid"] == SEED_UNPAID
    exact = _pay(oneup, invoice, "370.10")
    assert exact["amount"] == SEED_UNPAID


def test_paying_more_than_the_total_at_once_is_refused(oneup, context, org):
    invoice = simple_invoice(oneup)
    before = book_snapshot(context, org.id)
    response = oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D("100.01"), "date": "2024-03-02"})
    assert response.status_code == 422, response.text
    assert book_snapshot(context, org.id) == before


def test_a_fully_paid_invoice_takes_no_more_payments(oneup, context, org):
    invoice = simple_invoice(oneup)
    _pay(oneup, invoice, "100", on="2024-03-02")
    before = book_snapshot(context, org.id)
    response = oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D("0.01"), "date": "2024-03-03"})
    assert response.status_code == 422, response.text
    error_of(response)
    assert book_snapshot(context, org.id) == before
    assert len(oneup.ok("GET", "/payments")) == 1


def test_invoice_id_and_amount_are_mandatory(oneup):
    invoice = simple_invoice(oneup)
    assert_error(oneup.post("/payments", {"amount": D(10), "date": "2024-03-02"}), "3013")
    assert_error(oneup.post("/payments", {"invoice_id": None, "amount": D(10)}), "3013")
    assert_error(oneup.post("/payments", {"invoice_id": invoice["id"], "date": "2024-03-02"}), "3013")
    assert oneup.ok("GET", "/payments") == []


def test_an_unknown_invoice_or_a_sales_order_cannot_be_paid(oneup):
    order = simple_invoice(oneup, path="/sales_orders")
    for invoice_id in (UNKNOWN_ID, order["id"]):
        response = oneup.post("/payments", {"invoice_id": invoice_id, "amount": D(10), "date": "2024-03-02"})
        assert_error(response, "3")
    assert oneup.ok("GET", "/payments") == []


def test_a_zero_total_invoice_has_no_installments(oneup):
    invoice = simple_invoice(oneup, price="0")
    assert invoice["total"] == 0 and invoice["installments"] == []
    assert_error(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D(1), "date": "2024-03-02"}), "3009")
    empty = oneup.ok("POST", "/invoices", {"customer_id": invoice["customer_id"]})
    assert_error(oneup.post("/payments", {"invoice_id": empty["id"], "amount": D(1)}), "3009")
    assert oneup.ok("GET", "/payments") == []


def test_payments_cannot_be_updated(oneup):
    payment = _pay(oneup, simple_invoice(oneup), "10", on="2024-03-02")
    response = oneup.put(f"/payments/{payment['id']}", {"amount": D(20)})
    assert response.status_code == 405, response.text
    error_of(response)
    assert oneup.ok("GET", f"/payments/{payment['id']}") == payment


def test_an_invoice_cannot_go_below_what_is_paid(oneup):
    invoice = simple_invoice(oneup)
    _pay(oneup, invoice, "60", on="2024-03-02")
    response = oneup.put(f"/invoices/{invoice['id']}", {"order_lines": []})
    assert response.status_code == 422, response.text
    stored = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert stored["total"] == 100 and stored["paid"] == 60 and stored["unpaid"] == 40


def test_an_invoice_cannot_be_dated_after_its_payments(oneup):
    """Code 3012, "Payment date should be after the document date", must hold after the invoice is
    edited too: moving a paid invoice past its payment would break it."""
    invoice = simple_invoice(oneup, date="2024-03-01")
    _pay(oneup, invoice, "10", on="2024-03-02")
    assert_error(oneup.put(f"/invoices/{invoice['id']}", {"date": "2024-03-05"}), "3012")
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["date"] == "2024-03-01"
    assert oneup.ok("PUT", f"/invoices/{invoice['id']}", {"date": "2024-03-02"})["date"] == "2024-03-02"


# -- deleting ------------------------------------------------------------------------------------

def test_deleting_a_payment_reopens_the_invoice(oneup):
    invoice = seed_document(oneup)
    payment = _pay(oneup, invoice, SEED_AMOUNT)
    [posted] = transactions_of(oneup, payment["user_code"])
    deleted = oneup.ok("DELETE", f"/payments/{payment['id']}")
    assert deleted["id"] == payment["id"]
    assert_error(oneup.get(f"/payments/{payment['id']}"), "2")
    state = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert state["paid"] == 0 and state["unpaid"] == D("1140.2") and state["payments_id"] == []
    assert state["installments"][0]["outstanding_amount"] == D("1140.2")
    assert_reversed(posted, transactions_of(oneup, payment["user_code"]))  # issue 17 §8
    assert len(transactions_of(oneup, invoice["user_code"])) == 1


def test_an_invoice_with_payments_cannot_be_deleted(oneup):
    invoice = seed_document(oneup)
    payment = _pay(oneup, invoice, "100")
    response = oneup.delete(f"/invoices/{invoice['id']}")
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "3"
    assert error["message"] == "This object cannot be deleted."
    assert "Incoming Payment" in error["reason"]
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["paid"] == 100
    assert len(transactions_of(oneup, invoice["user_code"])) == 1
    oneup.ok("DELETE", f"/payments/{payment['id']}")
    oneup.ok("DELETE", f"/invoices/{invoice['id']}")
    # Both reversed (issue 17 §8): every account's entries sum to zero again.
    totals: dict[int, D] = {}
    for transaction in oneup.ok("GET", "/transactions"):
        for entry in transaction["entries"]:
            totals[entry["account_id"]] = totals.get(entry["account_id"], D(0)) + (
                entry["amount"] if entry["way"] == "debit" else -entry["amount"])
    assert len(oneup.ok("GET", "/transactions")) == 4 and set(totals.values()) == {D(0)}


# -- posting -------------------------------------------------------------------------------------

def test_a_payment_posts_undeposited_funds_against_receivable(oneup, accounts):
    invoice = seed_document(oneup)
    payment = _pay(oneup, invoice, SEED_AMOUNT)
    transactions = oneup.ok("GET", "/transactions?piece_number=eq:IPAY-001")
    assert len(transactions) == 1
    [transaction] = transactions
    assert transaction["date"] == payment["date"]
    assert transaction["journal"]["name"] == "Bank"
    assert entry_sums(transaction, accounts) == {("10500", "debit"): SEED_AMOUNT, ("11100", "credit"): SEED_AMOUNT}
    [receivable] = [e for e in transaction["entries"] if e["account_id"] == accounts["11100"]]
    assert receivable["lettering"] == "CINV-001"
    # the invoice's receivable entry carries the same letter
    [invoice_entry] = [e for e in transactions_of(oneup, "CINV-001")[0]["entries"] if e["way"] == "debit"]
    assert invoice_entry["account_id"] == accounts["11100"] and invoice_entry["lettering"] == "CINV-001"


def test_a_payment_on_a_bank_account_posts_to_its_ledger_account(oneup, accounts):
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Bank of the West", "currency": "USD"})
    invoice = simple_invoice(oneup)
    payment = _pay(oneup, invoice, "30", on="2024-03-05", bank_id=bank["id"], bank_reference="BK-XCT-094843904 PAY")
    assert payment["bank_id"] == bank["id"]
    assert payment["bank_reference"] == "BK-XCT-094843904 PAY"
    [transaction] = transactions_of(oneup, payment["user_code"])
    ledger_account = bank["account_id"]
    assert ledger_account not in accounts.values()
    sums = entry_sums(transaction, accounts)
    assert sums == {(str(ledger_account), "debit"): D(30), ("11100", "credit"): D(30)}


def test_a_bank_account_in_another_currency_is_refused(oneup):
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Euro account", "currency": "EUR"})
    invoice = simple_invoice(oneup)
    response = oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D(10), "date": "2024-03-02",
                                        "bank_id": bank["id"]})
    assert_error(response, "3")
    assert_error(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D(10), "bank_id": UNKNOWN_ID}), "3")
    assert oneup.ok("GET", "/payments") == []


def test_receivable_is_settled_once_fully_paid(oneup, accounts):
    invoice = seed_document(oneup)
    _pay(oneup, invoice, SEED_AMOUNT)
    _pay(oneup, invoice, SEED_UNPAID)
    balance = D(0)
    for transaction in oneup.ok("GET", "/transactions"):
        for entry in transaction["entries"]:
            if entry["account_id"] == accounts["11100"]:
                assert entry["lettering"] == "CINV-001"
                balance += entry["amount"] if entry["way"] == "debit" else -entry["amount"]
    assert balance == 0


# -- lists and isolation -------------------------------------------------------------------------

def test_payments_are_listed_and_filtered(oneup):
    invoice = seed_document(oneup)
    small = _pay(oneup, invoice, "100", on="2014-07-01")
    large = _pay(oneup, invoice, "500", on="2014-08-01")
    assert [p["id"] for p in oneup.ok("GET", "/payments")] == [small["id"], large["id"]]
    assert [p["id"] for p in oneup.ok("GET", "/payments?amount=gt:100")] == [large["id"]]
    assert [p["id"] for p in oneup.ok("GET", "/payments?date=lt:2014-07-15")] == [small["id"]]
    assert [p["id"] for p in oneup.ok("GET", "/payments?sort=-id")] == [large["id"], small["id"]]


def test_another_organization_cannot_see_delete_or_make_payments(oneup, other_oneup):
    invoice = seed_document(oneup)
    payment = _pay(oneup, invoice, "100")
    path = f"/payments/{payment['id']}"
    assert_error(other_oneup.get(path), "2")
    assert_error(other_oneup.delete(path), "2")
    assert other_oneup.ok("GET", "/payments") == []
    response = other_oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D(10), "date": "2014-07-25"})
    assert response.status_code == 422, response.text
    error_of(response)
    assert oneup.ok("GET", path) == payment
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["paid"] == 100
    assert other_oneup.ok("GET", "/transactions") == []
