"""Issue 18 §2 and §3: money in another currency than the organization's is booked in its currency at
the rate of its date, each entry keeping the foreign amount and the rate beside it; a payment settles
an invoice at the invoice's rate and posts the difference as a realised exchange gain or loss; the
rounding difference of a conversion goes to the rounding account. Through OneUp, over HTTP."""

from __future__ import annotations

from decimal import Decimal

from tests.helpers import set_rates
from tests.oneup.sales_support import assert_error, customer, item, tax_id, transactions_of

D = Decimal


def _numbers(oneup) -> dict[int, str]:
    return {account["id"]: account["number"] for account in oneup.ok("GET", "/accounts?limit=100")}


def _entries(oneup, piece_number: str) -> list[tuple]:
    """(account number, way, amount, currency, currency amount, rate) of the document's transaction."""
    [transaction] = transactions_of(oneup, piece_number)
    numbers = _numbers(oneup)
    return sorted((numbers[e["account_id"]], e["way"], e["amount"], e["currency_iso_code"], e["currency_amount"],
                   e["exchange_rate"]) for e in transaction["entries"])


def _eur_invoice(oneup, buyer: dict, on: str, *prices: str) -> dict:
    lines = [{"item_id": item(oneup, f"Thing {price}", price)["id"], "quantity": 1, "is_taxable": False}
             for price in prices]
    return oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": on, "order_lines": lines})


def _trial_balanced(oneup, on: str) -> None:
    trial = oneup.ok("GET", f"/reports/trial_balance?date={on}")
    debit = sum((D(str(line["debit"])) for line in trial["accounts"]), D(0))
    credit = sum((D(str(line["credit"])) for line in trial["accounts"]), D(0))
    assert debit == credit


def test_a_eur_invoice_in_a_usd_book_is_booked_at_the_rate_of_its_date(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    set_rates(context, org.id, {"EUR": "1.20"}, since="2025-03-01")
    buyer = customer(oneup, currency_iso_code="EUR")
    invoice = _eur_invoice(oneup, buyer, "2025-02-15", "100")
    assert (invoice["currency_iso_code"], invoice["total"]) == ("EUR", 100)  # the document says EUR
    assert _entries(oneup, invoice["user_code"]) == [
        ("11100", "debit", D("110"), "EUR", D("100"), D("1.1")),  # receivable
        ("40150", "credit", D("110"), "EUR", D("100"), D("1.1")),  # income
    ]
    _trial_balanced(oneup, "2025-12-31")


def test_an_invoice_in_the_books_currency_converts_nothing(oneup):
    buyer = customer(oneup)
    invoice = _eur_invoice(oneup, buyer, "2025-02-15", "100")
    assert _entries(oneup, invoice["user_code"]) == [("11100", "debit", D("100"), None, None, None),
                                                     ("40150", "credit", D("100"), None, None, None)]


def test_a_document_with_no_rate_for_its_date_is_refused_and_nothing_is_written(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    buyer = customer(oneup, currency_iso_code="EUR")
    thing = item(oneup, "Thing", "100")
    response = oneup.post("/invoices", {"customer_id": buyer["id"], "date": "2024-12-31",
                                        "order_lines": [{"item_id": thing["id"], "quantity": 1}]})
    error = assert_error(response, "3")
    assert "no exchange rate for EUR on or before 2024-12-31" in error["reason"]
    assert oneup.ok("GET", "/invoices") == []
    assert oneup.ok("GET", "/transactions") == []


def _paid_at_a_later_rate(context, org, oneup, later_rate: str, amount: int) -> tuple[dict, dict]:
    """A 100 EUR invoice booked at 1.10 in January, paid `amount` EUR in February at `later_rate`."""
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    set_rates(context, org.id, {"EUR": later_rate}, since="2025-02-01")
    invoice = _eur_invoice(oneup, customer(oneup, currency_iso_code="EUR"), "2025-01-15", "100")
    payment = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": amount, "date": "2025-02-10"})
    return invoice, payment


def test_a_payment_at_another_rate_posts_the_realised_exchange_loss(context, org, oneup):
    invoice, payment = _paid_at_a_later_rate(context, org, oneup, "1.05", 100)
    assert payment["currency_iso_code"] == "EUR"
    assert _entries(oneup, payment["user_code"]) == [
        ("10500", "debit", D("105"), "EUR", D("100"), D("1.05")),  # what the money is worth today
        ("11100", "credit", D("110"), "EUR", D("100"), D("1.1")),  # the receivable leaves at its rate
        ("62800", "debit", D("5"), None, None, None),  # realised exchange loss
    ]
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["unpaid"] == 0
    _trial_balanced(oneup, "2025-12-31")
    loss = next(a for a in oneup.ok("GET", "/accounts?limit=100") if a["number"] == "62800")
    assert loss["name"] == "Realized Exchange Losses"


def test_a_payment_at_a_higher_rate_posts_a_gain(context, org, oneup):
    invoice, payment = _paid_at_a_later_rate(context, org, oneup, "1.25", 40)
    assert _entries(oneup, payment["user_code"]) == [
        ("10500", "debit", D("50"), "EUR", D("40"), D("1.25")),
        ("11100", "credit", D("44"), "EUR", D("40"), D("1.1")),
        ("40900", "credit", D("6"), None, None, None),  # realised exchange gain
    ]
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["unpaid"] == 60  # in the invoice's currency


def test_the_rounding_difference_of_a_conversion_has_its_own_entry(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    buyer = customer(oneup, currency_iso_code="EUR")
    thing = item(oneup, "Thing", "33.33")
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2025-01-15",
                                             "tax_id": tax_id(oneup, "10% Federal Tax"),
                                             "order_lines": [{"item_id": thing["id"], "quantity": 1}]})
    assert (invoice["tax_amount"], invoice["total"]) == (D("3.33"), D("36.66"))
    # 36.66 EUR x 1.10 = 40.326 -> 40.33 receivable; 33.33 -> 36.66 of income and 3.33 -> 3.66 of tax:
    # 40.32 of credits, a cent short.
    entries = _entries(oneup, invoice["user_code"])
    assert entries[0] == ("11100", "debit", D("40.33"), "EUR", D("36.66"), D("1.1"))
    assert sorted(entry[2:] for entry in entries[1:-1]) == [(D("3.66"), "EUR", D("3.33"), D("1.1")),
                                                            (D("36.66"), "EUR", D("33.33"), D("1.1"))]
    assert entries[-1] == ("40990", "credit", D("0.01"), None, None, None)  # Currency Rounding Gains
    _trial_balanced(oneup, "2025-12-31")


def test_a_rate_set_again_later_does_not_move_what_is_booked(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    buyer = customer(oneup, currency_iso_code="EUR")
    invoice = _eur_invoice(oneup, buyer, "2025-01-15", "100")
    set_rates(context, org.id, {"EUR": "1.30"}, since="2025-01-01")
    oneup.ok("PUT", f"/invoices/{invoice['id']}", {"private_note": "checked"})
    assert _entries(oneup, invoice["user_code"])[0][2:] == (D("110"), "EUR", D("100"), D("1.1"))
    moved = oneup.ok("PUT", f"/invoices/{invoice['id']}", {"date": "2025-01-20"})  # a new date: the new rate
    assert _entries(oneup, moved["user_code"])[0][2:] == (D("130"), "EUR", D("100"), D("1.3"))


def test_a_deleted_foreign_invoice_is_reversed_entry_for_entry(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    buyer = customer(oneup, currency_iso_code="EUR")
    invoice = _eur_invoice(oneup, buyer, "2025-01-15", "100")
    oneup.ok("DELETE", f"/invoices/{invoice['id']}")
    transactions = transactions_of(oneup, invoice["user_code"])
    assert len(transactions) == 2
    numbers = _numbers(oneup)
    rows = sorted((numbers[e["account_id"]], e["way"], e["amount"], e["currency_amount"], e["exchange_rate"])
                  for t in transactions for e in t["entries"])
    assert rows == [("11100", "credit", D("110"), D("100"), D("1.1")), ("11100", "debit", D("110"), D("100"), D("1.1")),
                    ("40150", "credit", D("110"), D("100"), D("1.1")), ("40150", "debit", D("110"), D("100"), D("1.1"))]
