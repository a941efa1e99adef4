"""Issue 18 §5, the other settlements in a dollar book: a EUR purchase invoice (Quipu's expenses) booked
at its rate and declared paid at another, its payable leaving at the purchase's rate and the
difference realised; and a EUR payment left unapplied, then given back by an Upflow refund at a later
rate, linked to it or not (tests/currencies/world.py sets the scene)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.quipu.conftest import item as quipu_item
from tests.quipu.conftest import relationship

from .world import (
    EXCHANGE_GAIN,
    EXCHANGE_LOSS,
    ISSUED_ON,
    RATE_ON,
    RECEIVABLE,
    UNDEPOSITED,
    ZERO,
    D,
    Dialects,
    set_the_rates,
    signed,
    usd,
)

PAYABLE = "20100"
PURCHASE_EUR, PURCHASE_NET_EUR, PURCHASE_TAX_EUR = D(110), D(100), D(10)


@pytest.fixture
def book(context, org, oneup, upflow, quipu) -> Dialects:
    set_the_rates(context, org.id)
    return Dialects(oneup, upflow, quipu)


def _transaction_on(book: Dialects, piece_number: str, on: str) -> list[tuple]:
    """The entries of the transaction of that piece number dated `on` (a purchase and what declares it
    paid share its number), as Dialects.entries gives them."""
    numbers = book.numbers()
    [transaction] = [t for t in book.oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")
                     if t["date"] == on]
    return sorted((numbers[e["account_id"]], e["way"], e["amount"], e["currency_iso_code"], e["currency_amount"],
                   e["exchange_rate"]) for e in transaction["entries"])


def _payable_group(book: Dialects, letter: str) -> list[dict]:
    numbers = book.numbers()
    return [entry for transaction in book.oneup.ok("GET", "/transactions?limit=1000")
            for entry in transaction["entries"]
            if numbers[entry["account_id"]] == PAYABLE and entry["lettering"] == letter]


@pytest.mark.parametrize(("paid_on", "outcome"), [("2025-02-10", "loss"), ("2025-03-10", "gain")])
def test_a_eur_purchase_declared_paid_at_another_rate(book, paid_on, outcome):
    """110 EUR bought on 2025-01-15 at 1.10 (121.00 USD owed); paid at 1.20 the euros cost 132.00:
    a loss of 11.00; paid at 1.05 they cost 115.50: a gain of 5.50."""
    vendor = book.oneup.ok("POST", "/vendors", {"type": 1, "company_name": "Fournisseur", "currency_iso_code": "EUR"})
    made = book.quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": ISSUED_ON, "number": "F-77"},
                             {"contact": relationship("contacts", vendor["id"]),
                              "items": {"data": [quipu_item("Supplies", str(PURCHASE_NET_EUR), 1, 10)]}})
    assert (made["attributes"]["total_amount"], made["attributes"]["vat_amount"]) == ("110.0", "10.0")
    booked = RATE_ON[ISSUED_ON]
    [purchase] = [t for t in book.oneup.ok("GET", "/transactions?limit=100") if t["date"] == ISSUED_ON]
    piece = purchase["piece_number"]
    entries = _transaction_on(book, piece, ISSUED_ON)
    owed = usd(PURCHASE_EUR * booked)
    assert (PAYABLE, "credit", owed, "EUR", PURCHASE_EUR, booked) in entries, entries
    assert sorted(entry[1:] for entry in entries if entry[0] != PAYABLE) == [
        ("debit", usd(PURCHASE_TAX_EUR * booked), "EUR", PURCHASE_TAX_EUR, booked),
        ("debit", usd(PURCHASE_NET_EUR * booked), "EUR", PURCHASE_NET_EUR, booked)]

    book.quipu.ok("PATCH", f"/invoices/{made['id']}", {"data": {"type": "invoices", "id": made["id"],
                                                                "attributes": {"paid_at": paid_on}}})
    rate = RATE_ON[paid_on]
    paid = usd(PURCHASE_EUR * rate)
    difference = owed - paid  # what the euros cost less than they were owed at: a gain when positive
    assert (difference > 0) == (outcome == "gain")
    realised = (EXCHANGE_GAIN, "credit", difference, None, None, None) if difference > 0 else \
        (EXCHANGE_LOSS, "debit", -difference, None, None, None)
    assert _transaction_on(book, piece, paid_on) == sorted([
        (PAYABLE, "debit", owed, "EUR", PURCHASE_EUR, booked),  # the payable leaves at the purchase's rate
        (UNDEPOSITED, "credit", paid, "EUR", PURCHASE_EUR, rate), realised])
    group = _payable_group(book, "F-77")
    assert len(group) == 2 and signed(group, "amount") == ZERO and signed(group, "currency_amount") == ZERO

    shown = book.quipu.ok("GET", f"/invoices/{made['id']}")["data"]["attributes"]
    assert (shown["payment_status"], shown["paid_at"], shown["total_amount"]) == ("paid", paid_on, "110.0")
    balances = book.trial_balance()
    assert balances[PAYABLE] == ZERO
    assert balances[UNDEPOSITED] == -paid
    assert balances[realised[0]] == -difference


def _unapplied_euros(book: Dialects) -> tuple[str, dict]:
    """50 EUR received on 2025-02-10 (at 1.20) from an Upflow customer, applied to nothing: the
    customer's Upflow id and the payment as OneUp shows it."""
    buyer = book.upflow.ok("POST", "/customers", {"externalId": "C-EUR", "name": "Refunded"})
    book.upflow.ok("POST", "/payments", {"externalId": "PAY-EUR", "currency": "EUR", "amount": 5000,
                                         "validatedAt": "2025-02-10", "customer": {"id": buyer["id"]}})
    [payment] = book.oneup.ok("GET", "/payments")
    assert book.entries(payment["user_code"]) == [
        (UNDEPOSITED, "debit", D(60), "EUR", D(50), RATE_ON["2025-02-10"]),
        (RECEIVABLE, "credit", D(60), "EUR", D(50), RATE_ON["2025-02-10"])]
    return buyer["id"], payment


def _refund(book: Dialects, customer_id: str, **links) -> dict:
    """50 EUR given back on 2025-03-10 (at 1.05: 52.50 USD), as OneUp shows it."""
    book.upflow.ok("POST", "/refunds", {"externalId": "REF-EUR", "currency": "EUR", "amount": 5000,
                                        "validatedAt": "2025-03-10", "customer": {"id": customer_id}, **links})
    [transaction] = [t for t in book.oneup.ok("GET", "/transactions?limit=100") if t["date"] == "2025-03-10"]
    return transaction


def _receivable(book: Dialects) -> tuple[Decimal, Decimal]:
    """What the receivable entries of the book (its one customer's) hold: in dollars, and in euros."""
    numbers = book.numbers()
    entries = [entry for transaction in book.oneup.ok("GET", "/transactions?limit=1000")
               for entry in transaction["entries"] if numbers[entry["account_id"]] == RECEIVABLE]
    return signed(entries, "amount"), signed(entries, "currency_amount")


def test_a_refund_of_unapplied_euros_at_a_later_rate_leaves_the_receivable_at_the_payments_rate(book):
    """The refund gives the 50 EUR back under the payment's letter at the payment's rate (60.00 USD
    off the customer's credit); the bank pays 52.50: a realised gain of 7.50. The letter's group and
    the receivable are zero in dollars and in euros."""
    customer_id, payment = _unapplied_euros(book)
    refund = _refund(book, customer_id, linkedPayments=[{"externalId": "PAY-EUR", "amountLinked": 5000}])
    _assert_gives_back_the_payment(book, refund, payment)
    balances = book.trial_balance()
    assert (balances[RECEIVABLE], balances[UNDEPOSITED], balances[EXCHANGE_GAIN]) == (ZERO, D("7.5"), D("-7.5"))


def _assert_gives_back_the_payment(book, refund: dict, payment: dict) -> None:
    """The refund's entries: the bank pays 52.50 at its rate, the receivable takes back the payment's
    50 EUR at the payment's rate (60.00), a gain of 7.50; the payment's letter and the receivable zero
    in dollars and in euros."""
    assert book.entries(refund["piece_number"]) == [
        (UNDEPOSITED, "credit", D("52.5"), "EUR", D(50), RATE_ON["2025-03-10"]),
        (RECEIVABLE, "debit", D(60), "EUR", D(50), RATE_ON["2025-02-10"]),
        (EXCHANGE_GAIN, "credit", D("7.5"), None, None, None)]
    group = book.lettered(payment["user_code"])
    assert len(group) == 2 and signed(group, "amount") == ZERO and signed(group, "currency_amount") == ZERO
    assert _receivable(book) == (ZERO, ZERO)


def test_a_refund_linked_to_nothing_is_an_open_item_until_reconciled(book):
    """Given back without a link, the refund is an open item of its own at its own rate: the customer
    owes 0 EUR, but its receivable holds -7.50 USD (the credit at 1.20 beside the debit at 1.05), and
    no difference is realised. Linked through Upflow's /reconcile, the refund is posted again under the
    payment's letter at its rate, and the 7.50 is realised: the receivable is zero in both."""
    customer_id, payment = _unapplied_euros(book)
    refund = _refund(book, customer_id)
    assert book.entries(refund["piece_number"]) == [
        (UNDEPOSITED, "credit", D("52.5"), "EUR", D(50), RATE_ON["2025-03-10"]),
        (RECEIVABLE, "debit", D("52.5"), "EUR", D(50), RATE_ON["2025-03-10"])]
    assert _receivable(book) == (D("-7.5"), ZERO)
    assert book.trial_balance()[RECEIVABLE] == D("-7.5")

    book.upflow.ok("POST", "/reconcile", {"externalId": "MATCH-1", "invoices": [], "creditNotes": [],
                                          "payments": [{"externalId": "PAY-EUR", "amountLinked": 5000}],
                                          "refunds": [{"externalId": "REF-EUR", "amountLinked": 5000}]})
    _assert_gives_back_the_payment(book, refund, payment)
    balances = book.trial_balance()
    assert (balances[RECEIVABLE], balances[EXCHANGE_GAIN]) == (ZERO, D("-7.5"))
