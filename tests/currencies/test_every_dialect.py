"""Issue 18 §5: every dialect, end to end, over HTTP. A EUR invoice in a USD book issued through each
dialect is booked at the rate of its date; paid at another rate through another dialect, its
receivable leaves at the invoice's rate and the difference is a realised exchange gain or loss; the
invoice is settled in euros as every dialect shows it, its lettered group sums to zero, and the trial
balance stays balanced in dollars (tests/currencies/world.py sets the scene)."""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from tests.helpers import book_snapshot
from tests.oneup.sales_support import assert_error, item
from tests.quipu.conftest import item as quipu_item
from tests.quipu.conftest import quipu_errors, relationship
from tests.upflow.conftest import upflow_error

from .world import (
    EXCHANGE_GAIN,
    EXCHANGE_LOSS,
    INCOME,
    ISSUED_ON,
    NET_EUR,
    RATE_ON,
    RECEIVABLE,
    TAX_EUR,
    TOTAL_EUR,
    UNDEPOSITED,
    ZERO,
    D,
    Dialects,
    cents,
    set_the_rates,
    signed,
    usd,
)

ISSUERS = ("oneup", "upflow", "quipu")
PAYERS = ("oneup", "upflow", "quipu")  # Quipu pays by declaring the invoice paid (`paid_at`)
PAIRS = [(issuer, payer) for issuer in ISSUERS for payer in PAYERS if payer != issuer]
PAID_ON = {"gain": "2025-02-10", "loss": "2025-03-10"}  # at 1.20, at 1.05


@pytest.fixture
def book(context, org, oneup, upflow, quipu) -> Dialects:
    set_the_rates(context, org.id)
    return Dialects(oneup, upflow, quipu)


def test_each_dialect_books_a_eur_invoice_at_the_rate_of_its_date(book):
    rate = RATE_ON[ISSUED_ON]
    for issuer in ISSUERS:
        invoice = book.issue(issuer)
        entries = book.entries(invoice.number)
        assert (RECEIVABLE, "debit", usd(TOTAL_EUR * rate), "EUR", TOTAL_EUR, rate) in entries, (issuer, entries)
        assert (INCOME, "credit", usd(NET_EUR * rate), "EUR", NET_EUR, rate) in entries, (issuer, entries)
        [tax] = [entry for entry in entries if entry[0] not in (RECEIVABLE, INCOME)]
        assert tax[1:] == ("credit", usd(TAX_EUR * rate), "EUR", TAX_EUR, rate), (issuer, entries)
    book.trial_balance()


@pytest.mark.parametrize("outcome", PAID_ON)
@pytest.mark.parametrize(("issuer", "payer"), PAIRS)
def test_a_eur_invoice_paid_at_another_rate_through_another_dialect(book, issuer, payer, outcome):
    invoice = book.issue(issuer)
    paid_on = PAID_ON[outcome]
    rate, booked = RATE_ON[paid_on], RATE_ON[ISSUED_ON]
    payment = book.pay(payer, invoice, paid_on)
    assert (payment["currency_iso_code"], payment["amount"], payment["date"]) == ("EUR", TOTAL_EUR, paid_on)

    # The money at the day's rate; the receivable leaves at the invoice's; the difference realised.
    received, receivable = usd(TOTAL_EUR * rate), usd(TOTAL_EUR * booked)
    difference = received - receivable
    assert (difference > 0) == (outcome == "gain")
    realised = (EXCHANGE_GAIN, "credit", difference, None, None, None) if difference > 0 else \
        (EXCHANGE_LOSS, "debit", -difference, None, None, None)
    assert book.entries(payment["user_code"]) == sorted([
        (RECEIVABLE, "credit", receivable, "EUR", TOTAL_EUR, booked),
        (UNDEPOSITED, "debit", received, "EUR", TOTAL_EUR, rate), realised])

    _settled_in_euros_in_every_dialect(book, invoice)
    group = book.lettered(book.letter_of(invoice))
    assert len(group) == 2 and signed(group, "amount") == ZERO and signed(group, "currency_amount") == ZERO
    balances = book.trial_balance()
    assert balances[RECEIVABLE] == ZERO
    assert balances[UNDEPOSITED] == received
    assert balances[realised[0]] == -difference  # a gain is a credit balance, a loss a debit one


def _settled_in_euros_in_every_dialect(book: Dialects, invoice) -> None:
    """OneUp's totals in the document's currency, Upflow's cents of it, Quipu's invoice amounts in it."""
    oneup = book.oneup_invoice(invoice)
    assert (oneup["currency_iso_code"], oneup["total"], oneup["paid"], oneup["unpaid"]) == ("EUR", TOTAL_EUR,
                                                                                            TOTAL_EUR, 0)
    upflow = book.upflow_invoice(invoice)
    assert (upflow["currency"], upflow["grossAmount"], upflow["amountOutstanding"], upflow["state"]) == (
        "EUR", cents(TOTAL_EUR), 0, "PAID")
    assert [payment["amount"] for payment in upflow["payments"]] == [cents(TOTAL_EUR)]
    quipu = book.quipu_invoice(invoice)
    assert (quipu["total_amount"], quipu["total_amount_without_taxes"], quipu["vat_amount"],
            quipu["payment_status"]) == ("121.0", "110.0", "11.0", "paid")


def test_a_partly_paid_eur_invoice_is_open_in_euros_everywhere(book):
    """50 of 121 EUR paid in February: 71 EUR open in each dialect, and for the customer in euros."""
    invoice = book.issue("oneup")
    payment = book.pay("upflow", invoice, "2025-02-10", D(50))
    booked, rate = RATE_ON[ISSUED_ON], RATE_ON["2025-02-10"]
    assert book.entries(payment["user_code"]) == [  # 50 EUR received at 1.20, 55.00 of the receivable at 1.10
        (UNDEPOSITED, "debit", D(60), "EUR", D(50), rate), (RECEIVABLE, "credit", D(55), "EUR", D(50), booked),
        (EXCHANGE_GAIN, "credit", D(5), None, None, None)]
    oneup = book.oneup_invoice(invoice)
    assert (oneup["paid"], oneup["unpaid"], oneup["installments"][0]["outstanding_amount"]) == (D(50), D(71), D(71))
    upflow = book.upflow_invoice(invoice)
    assert (upflow["amountOutstanding"], upflow["state"]) == (7100, "OVERDUE")
    assert book.upflow.ok("GET", f"/customers/{invoice.customer_upflow_id}")["balance"] == 7100  # its euros
    assert book.quipu_invoice(invoice)["payment_status"] == "partially_paid"
    balances = book.trial_balance()
    assert balances[RECEIVABLE] == usd(TOTAL_EUR * booked) - D(55)  # 71 EUR at the invoice's rate: 78.10


def _dollar_invoice(book: Dialects, customer_id: int, on: str, amount: Decimal) -> dict:
    """An invoice in the book's own currency for a customer who pays in euros otherwise."""
    made = book.oneup.ok("POST", "/invoices", {
        "customer_id": customer_id, "date": on, "currency_iso_code": "USD",
        "order_lines": [{"item_id": item(book.oneup, f"Dollar work {amount}", amount)["id"], "quantity": 1,
                         "is_taxable": False}]})
    assert (made["currency_iso_code"], made["total"], made["unpaid"]) == ("USD", amount, amount)
    return made


def test_the_aged_receivables_keep_each_currency_apart(book):
    """A customer owing 71 EUR (121 invoiced on 2025-01-15 at 1.10, 50 paid in February at 1.20) and
    30 USD (invoiced on 2025-02-20): a row in each currency, each in its own figures. The euros were
    added to the dollars, and the dollars the euros are booked at (78.10) showed 7.10 `unapplied`."""
    invoice = book.issue("oneup")
    book.pay("upflow", invoice, "2025-02-10", D(50))
    customer_id = book.oneup_invoice(invoice)["customer_id"]
    _dollar_invoice(book, customer_id, "2025-02-20", D(30))
    aged = book.oneup.ok("GET", "/reports/aged_receivables?date=2025-02-28")
    nothing = dict.fromkeys(("current", "1_30", "31_60", "61_90", "over_90", "unapplied"), ZERO)
    dollars = {**nothing, "1_30": D(30), "total": D(30)}  # due on receipt: 8 days late
    euros = {**nothing, "31_60": D(71), "total": D(71)}  # 44 days late
    assert aged["customers"] == [
        {"customer_id": customer_id, "name": "Euro Buyer", "currency_iso_code": "USD", **dollars},
        {"customer_id": customer_id, "name": "Euro Buyer", "currency_iso_code": "EUR", **euros}]
    assert aged["totals"] == dollars  # the company's currency
    assert aged["totals_by_currency"] == {"USD": dollars, "EUR": euros}
    # In dollars the receivable holds the 30 USD and the 71 EUR at the invoice's rate: 30 + 78.10.
    assert book.trial_balance("2025-02-28")[RECEIVABLE] == D(30) + usd(D(71) * RATE_ON[ISSUED_ON])

    # 20 EUR paid that no invoice asks for yet: unapplied, in euros.
    book.upflow.ok("POST", "/payments", {"externalId": "UNAPPLIED-1", "currency": "EUR", "amount": 2000,
                                         "validatedAt": "2025-02-25", "customer": {"id": invoice.customer_upflow_id}})
    aged = book.oneup.ok("GET", "/reports/aged_receivables?date=2025-02-28")
    assert [(row["currency_iso_code"], row["unapplied"], row["total"]) for row in aged["customers"]] == [
        ("USD", ZERO, D(30)), ("EUR", D(-20), D(51))]
    rows = list(csv.reader(io.StringIO(book.oneup.get("/reports/aged_receivables?date=2025-02-28&format=csv").text)))
    assert rows[0][:3] == ["customer_id", "name", "currency"]
    assert [(row[1], row[2], D(row[-2]), D(row[-1])) for row in rows[1:]] == [
        ("Euro Buyer", "USD", ZERO, D(30)), ("Euro Buyer", "EUR", D(-20), D(51)),
        ("Total", "USD", ZERO, D(30)), ("Total", "EUR", D(-20), D(51))]


def test_the_portal_shows_a_balance_in_each_currency(book):
    """A customer of the dollar book with a EUR invoice (through OneUp) and a USD one (through Upflow):
    its portal shows what it owes in each currency, never their sum, and each invoice in its own."""
    invoice = book.issue("oneup")
    book.upflow.ok("POST", "/invoices", {
        "externalId": "USD-1", "customId": "USD-1", "issuedAt": "2025-02-01", "dueDate": "2099-01-31",
        "currency": "USD", "netAmount": 5000, "grossAmount": 5000, "customer": {"id": invoice.customer_upflow_id}})
    book.pay("upflow", invoice, "2025-02-10", D(21))
    url = book.upflow.ok("POST", f"/customers/{invoice.customer_upflow_id}/portal")["url"]
    page = book.upflow.client.get(urlsplit(url).path)
    assert page.status_code == 200, page.text
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))
    assert re.findall(r"Balance due: ([\d,.]+ [A-Z]{3})", text) == ["100.00 EUR", "50.00 USD"]  # its own first
    assert f"{invoice.number} 2025-01-15 2025-01-15 121.00 EUR 100.00 EUR OVERDUE" in text
    assert "USD-1 2025-02-01 2099-01-31 50.00 USD 50.00 USD DUE" in text


# -- no rate, no booking ------------------------------------------------------------------------

NO_RATE = "no exchange rate for EUR on or before 2024-12-31"


def test_each_dialect_refuses_a_document_without_a_rate_in_its_own_format(book, context, org):
    """Dated 2024-12-31, before the first EUR rate: OneUp 422 code 3, Upflow 400, Quipu 422 (JSON:API),
    each naming the currency and the day; nothing is written, no number is taken."""
    buyer = book.eur_customer()
    work = item(book.oneup, "Work", NET_EUR)
    [upflow_buyer] = book.upflow.ok("GET", "/customers")["customers"]  # the same customer, through Upflow
    before = book_snapshot(context, org.id)

    error = assert_error(book.oneup.post("/invoices", {"customer_id": buyer["id"], "date": "2024-12-31",
                                                       "order_lines": [{"item_id": work["id"], "quantity": 1}]}), "3")
    assert NO_RATE in error["reason"], error
    for path, body in (
            ("/invoices", {"externalId": "EARLY", "customId": "EARLY-1", "issuedAt": "2024-12-31",
                           "dueDate": "2024-12-31", "currency": "EUR", "netAmount": 10000, "grossAmount": 10000,
                           "customer": {"id": upflow_buyer["id"]}}),
            ("/credit_notes", {"externalId": "EARLY-CN", "customId": "EARLY-CN-1", "issuedAt": "2024-12-31",
                               "currency": "EUR", "netAmount": 1000, "grossAmount": 1000,
                               "customer": {"id": upflow_buyer["id"]}}),
            ("/payments", {"externalId": "EARLY-P", "currency": "EUR", "amount": 1000, "validatedAt": "2024-12-31",
                           "customer": {"id": upflow_buyer["id"]}}),
            ("/refunds", {"externalId": "EARLY-R", "currency": "EUR", "amount": 1000, "validatedAt": "2024-12-31",
                          "customer": {"id": upflow_buyer["id"]}})):
        refused = upflow_error(book.upflow.post(path, body), 400)
        assert NO_RATE in refused["message"], (path, refused)
    for kind in ("income", "expenses"):
        errors = quipu_errors(book.quipu.post("/invoices", {"data": {
            "type": "invoices", "attributes": {"kind": kind, "issue_date": "2024-12-31", "number": "EARLY-Q"},
            "relationships": {"contact": relationship("contacts", buyer["id"]),
                              "items": {"data": [quipu_item("Work", "100", 1, 10)]}}}}), 422)
        # Quipu's sentence case: "No exchange rate for EUR on or before 2024-12-31."
        assert [error["detail"] for error in errors] == [f"{NO_RATE[0].upper()}{NO_RATE[1:]}."], (kind, errors)
    assert book_snapshot(context, org.id) == before


def test_a_quipu_contact_totals_what_it_owes_in_its_currency(book):
    """A EUR customer invoiced 121 EUR through Quipu (50 paid through Upflow) and 30 USD through
    OneUp: its Quipu totals are its euros (they were 151, euros and dollars added)."""
    invoice = book.issue("quipu")
    book.pay("upflow", invoice, "2025-02-10", D(50))
    customer_id = book.oneup_invoice(invoice)["customer_id"]
    _dollar_invoice(book, customer_id, "2025-02-20", D(30))
    contact = book.quipu.ok("GET", f"/contacts/{customer_id}")["data"]["attributes"]
    assert (contact["total_incomes"], contact["total_paid_incomes"], contact["total_unpaid_incomes"]) == (
        "121.0", "50.0", "71.0")
