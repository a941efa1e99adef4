"""Issue 18 §2: every amount rounds, half-up, to its own currency's minor unit (ISO 4217): a yen has
none, a Bahraini dinar three. A document's lines, taxes and totals round to the document's
currency; payments, refunds and allocations to theirs; bank entries to their account's; manual
entries and the conversion to the organization's. A book may be kept in any current ISO currency, and
gains another one when it is given a rate. Over HTTP, through OneUp, Upflow and Quipu."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.reporting import printing
from comptoir.services.tenancy.organizations import create_organization
from tests.helpers import OneUpClient, set_rates
from tests.oneup.sales_support import assert_error, customer, item, tax_id, transactions_of
from tests.quipu.conftest import QuipuClient, item as quipu_item, relationship
from tests.upflow.conftest import UpflowClient

D = Decimal


@pytest.fixture
def yen_book(context):
    """A Japanese organization, its book kept in yen."""
    return create_organization(context.database, "Tokyo Trading", currency="JPY", country="JP")


@pytest.fixture
def dinar_book(context):
    """A Bahraini organization, its book kept in dinars (three decimals)."""
    return create_organization(context.database, "Manama Trading", currency="BHD", country="BH")


def _entries(oneup: OneUpClient, piece_number: str) -> list[tuple]:
    """(account number, way, amount, currency, currency amount) of the document's transaction."""
    [transaction] = transactions_of(oneup, piece_number)
    numbers = {account["id"]: account["number"] for account in oneup.ok("GET", "/accounts?limit=1000")}
    return sorted((numbers[e["account_id"]], e["way"], e["amount"], e["currency_iso_code"], e["currency_amount"])
                  for e in transaction["entries"])


def _decimals(amount: Decimal) -> int:
    return max(0, -D(str(amount)).normalize().as_tuple().exponent)


def _trial_balanced(oneup: OneUpClient, on: str) -> list[dict]:
    trial = oneup.ok("GET", f"/reports/trial_balance?date={on}")
    debit = sum((D(str(line["debit"])) for line in trial["accounts"]), D(0))
    credit = sum((D(str(line["credit"])) for line in trial["accounts"]), D(0))
    assert debit == credit
    return trial["accounts"]


# -- a book in yen -------------------------------------------------------------------------------

def test_a_yen_invoice_through_oneup_has_no_decimals(client, yen_book):
    oneup = OneUpClient(client, yen_book)
    buyer = customer(oneup)
    thing = item(oneup, "Thing", "333.333")
    invoice = oneup.ok("POST", "/invoices", {
        "customer_id": buyer["id"], "date": "2025-03-01", "tax_id": tax_id(oneup, "VAT 10%"),
        "order_lines": [{"item_id": thing["id"], "quantity": 3, "unit_price_wt": D("333.333")}]})
    assert invoice["currency_iso_code"] == "JPY"
    # 3 x 333.333 = 999.999 -> 1000 yen (to the cent, 1000.00 too; but 10% of 1000.5 would be 100.05)
    assert [line["total"] for line in invoice["order_lines"]] == [D(1000)]
    assert (invoice["subtotal"], invoice["tax_amount"], invoice["total"]) == (D(1000), D(100), D(1100))
    assert all(_decimals(entry[2]) == 0 for entry in _entries(oneup, invoice["user_code"]))

    odd = oneup.ok("POST", "/invoices", {
        "customer_id": buyer["id"], "date": "2025-03-01", "tax_id": tax_id(oneup, "VAT 10%"), "reduce_rate": D(5),
        "order_lines": [{"item_id": thing["id"], "quantity": 1, "unit_price_wt": D("1000.5")}]})
    # 1000.5 -> 1001; reduce 5% of 1001 = 50.05 -> 50; tax 10% of 951 = 95.1 -> 95; total 1046
    assert (odd["subtotal"], odd["reduce_amount"], odd["tax_amount"], odd["total"]) == (D(1001), D(50), D(95), D(1046))
    assert _entries(oneup, odd["user_code"]) == [("11100", "debit", D(1046), None, None),
                                                 ("21100-1000", "credit", D(95), None, None),
                                                 ("40150", "credit", D(951), None, None)]


def test_a_usd_invoice_in_a_yen_book_is_booked_in_whole_yen(client, context, yen_book):
    """11.01 USD at 150.5 JPY: each entry converted and rounded to the yen; the yen the entries miss
    balancing by goes to the rounding account; paid later at 151, the gain is in whole yen too."""
    oneup = OneUpClient(client, yen_book)
    set_rates(context, yen_book.id, {"USD": "150.5"}, since="2025-01-01")
    set_rates(context, yen_book.id, {"USD": "151"}, since="2025-02-01")
    invoice = oneup.ok("POST", "/invoices", {
        "customer_id": customer(oneup, currency_iso_code="USD")["id"], "date": "2025-01-15",
        "tax_id": tax_id(oneup, "VAT 10%"), "order_lines": [{"item_id": item(oneup, "Thing", "10.01")["id"],
                                                              "quantity": 1}]})
    assert (invoice["tax_amount"], invoice["total"]) == (D(1), D("11.01"))  # in dollars, to the cent
    # 11.01 x 150.5 = 1657.005 -> 1657; 10.01 -> 1506.505 -> 1507 and 1.00 -> 150.5 -> 151: 1658 of credits
    assert _entries(oneup, invoice["user_code"]) == [("11100", "debit", D(1657), "USD", D("11.01")),
                                                     ("21100-1000", "credit", D(151), "USD", D(1)),
                                                     ("40150", "credit", D(1507), "USD", D("10.01")),
                                                     ("62890", "debit", D(1), None, None)]
    payment = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": D("11.01"), "date": "2025-02-10"})
    # 11.01 x 151 = 1662.51 -> 1663 received for the 1657 the receivable was booked at
    assert _entries(oneup, payment["user_code"]) == [("10500", "debit", D(1663), "USD", D("11.01")),
                                                     ("11100", "credit", D(1657), "USD", D("11.01")),
                                                     ("40900", "credit", D(6), None, None)]
    accounts = _trial_balanced(oneup, "2025-12-31")
    assert all(_decimals(line[side]) == 0 for line in accounts for side in ("debit", "credit"))


def test_a_yen_payment_rounds_to_the_yen_and_one_below_half_a_yen_is_refused(client, yen_book):
    """What the API did with a dollar amount of three decimals (rounded half-up to the cent) it does
    with yen: rounded half-up to the yen; what rounds to nothing is not a payment."""
    oneup = OneUpClient(client, yen_book)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": customer(oneup)["id"], "date": "2025-03-01",
                                             "order_lines": [{"item_id": item(oneup, "Thing", "1000")["id"],
                                                              "quantity": 1, "is_taxable": False}]})
    paid = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": D("400.5"), "date": "2025-03-02"})
    assert paid["amount"] == D(401)
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["unpaid"] == D(599)
    assert_error(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": D("0.4"), "date": "2025-03-02"}),
                 "3019")


def test_manual_entries_and_bank_entries_of_a_yen_book_round_to_the_yen(client, yen_book):
    oneup = OneUpClient(client, yen_book)
    accounts = {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}
    manual = oneup.ok("POST", "/transactions", {"piece_number": "OD-1", "date": "2025-03-01", "entries": [
        {"account_id": accounts["11100"]["id"], "way": "debit", "amount": D("100.5")},
        {"account_id": accounts["40150"]["id"], "way": "credit", "amount": D("100.5")}]})
    assert [entry["amount"] for entry in manual["entries"]] == [D(101), D(101)]
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Mizuho", "currency": "JPY"})
    entry = oneup.ok("POST", "/bank_entries", {"bank_account_id": bank["id"], "posted_date": "2025-03-01",
                                               "transaction_date": "2025-03-01", "amount": D("-2500.49"),
                                               "description": "Rent"})
    assert entry["amount"] == D(-2500)
    assert oneup.ok("GET", f"/bank_accounts/{bank['id']}")["accounting_bank_balance"] == D(-2500)
    _trial_balanced(oneup, "2025-12-31")


def test_a_yen_invoice_through_upflow_counts_its_cents_as_yen(client, yen_book):
    upflow, oneup = UpflowClient(client, yen_book), OneUpClient(client, yen_book)
    buyer = upflow.ok("POST", "/customers", {"externalId": "C-1", "name": "Buyer"})
    invoice = upflow.ok("POST", "/invoices", {
        "externalId": "JP-1", "customId": "JP-1", "issuedAt": "2025-03-01", "dueDate": "2025-04-01",
        "currency": "JPY", "netAmount": 1000, "grossAmount": 1100, "customer": {"externalId": "C-1"}})
    assert (invoice["netAmount"], invoice["grossAmount"], invoice["amountOutstanding"]) == (1000, 1100, 1100)
    upflow.ok("POST", "/payments", {"externalId": "P-1", "currency": "JPY", "amount": 600,
                                    "validatedAt": "2025-03-02", "customer": {"externalId": "C-1"},
                                    "linkedInvoices": [{"id": invoice["id"], "amountLinked": 600}]})
    assert upflow.ok("GET", f"/invoices/{invoice['id']}")["amountOutstanding"] == 500
    assert upflow.customer(buyer["id"])["balance"] == 500  # in yen, the customer's (and the book's) currency
    [seen] = oneup.ok("GET", "/invoices?user_code=eq:JP-1")
    assert (seen["total"], seen["tax_amount"], seen["unpaid"]) == (D(1100), D(100), D(500))
    assert _entries(oneup, "JP-1")[0] == ("11100", "debit", D(1100), None, None)


def test_a_yen_invoice_through_quipu_rounds_each_line_to_the_yen(client, yen_book):
    quipu, oneup = QuipuClient(client, yen_book), OneUpClient(client, yen_book)
    contact = quipu.contact("Buyer K.K.")
    invoice = quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2025-03-01"}, {
        "contact": relationship("contacts", contact["id"]),
        "items": {"data": [quipu_item("Screws", "333.333", 3, 10), quipu_item("Nails", "0.6", 1, 10)]}})
    attributes = invoice["attributes"]
    # per line (Quipu's rule): 999.999 -> 1000 and 100 of VAT; 0.6 -> 1 and 0.1 -> 0 of VAT
    assert (attributes["total_amount_without_taxes"], attributes["vat_amount"], attributes["total_amount"]) == \
        ("1001.0", "100.0", "1101.0")
    assert sum(entry[2] for entry in _entries(oneup, attributes["number"]) if entry[1] == "debit") == D(1101)


def test_the_printed_yen_invoice_shows_no_decimals(client, context, yen_book):
    oneup = OneUpClient(client, yen_book)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": customer(oneup)["id"], "date": "2025-03-01",
                                             "order_lines": [{"item_id": item(oneup, "Thing", "1234")["id"],
                                                              "quantity": 1, "is_taxable": False}]})
    assert oneup.get(f"/invoices/{invoice['id']}/print.pdf").status_code == 200
    with open_book(context.database, yen_book.id) as book:  # the page the PDF is drawn from
        page = printing.invoice_printable(book, invoice["id"]).html
    assert '<td class="num">1234</td>' in page and "1234.00" not in page


# -- a book in dinars (three decimals) -----------------------------------------------------------

def test_a_dinar_invoice_has_three_decimals(client, dinar_book):
    oneup = OneUpClient(client, dinar_book)
    invoice = oneup.ok("POST", "/invoices", {
        "customer_id": customer(oneup)["id"], "date": "2025-03-01", "tax_id": tax_id(oneup, "VAT 10%"),
        "order_lines": [{"item_id": item(oneup, "Thing", "1.2345")["id"], "quantity": 3}]})
    # 3 x 1.2345 = 3.7035 -> 3.704 (to the cent it was 3.70); 10% -> 0.3704 -> 0.370
    assert (invoice["currency_iso_code"], invoice["subtotal"], invoice["tax_amount"], invoice["total"]) == \
        ("BHD", D("3.704"), D("0.37"), D("4.074"))
    assert _entries(oneup, invoice["user_code"])[0] == ("11100", "debit", D("4.074"), None, None)


def test_upflow_cents_of_dinars_are_fils(client, dinar_book):
    """A dinar's minor unit is the fils, a thousandth: 11001 "cents" are 11.001 BHD, kept to the fils."""
    upflow, oneup = UpflowClient(client, dinar_book), OneUpClient(client, dinar_book)
    buyer = upflow.ok("POST", "/customers", {"externalId": "C-1", "name": "Buyer"})
    invoice = upflow.ok("POST", "/invoices", {
        "externalId": "BH-1", "customId": "BH-1", "issuedAt": "2025-03-01", "dueDate": "2025-04-01",
        "currency": "BHD", "netAmount": 10001, "grossAmount": 11001, "customer": {"externalId": "C-1"}})
    upflow.ok("POST", "/payments", {"externalId": "P-1", "currency": "BHD", "amount": 5001,
                                    "validatedAt": "2025-03-02", "customer": {"externalId": "C-1"},
                                    "linkedInvoices": [{"id": invoice["id"], "amountLinked": 5001}]})
    assert upflow.ok("GET", f"/invoices/{invoice['id']}")["amountOutstanding"] == 6000
    assert upflow.customer(buyer["id"])["balance"] == 6000
    [seen] = oneup.ok("GET", "/invoices?user_code=eq:BH-1")
    assert (seen["subtotal"], seen["tax_amount"], seen["total"], seen["unpaid"]) == \
        (D("10.001"), D("1"), D("11.001"), D("6"))
    assert _entries(oneup, "BH-1")[0] == ("11100", "debit", D("11.001"), None, None)


def test_a_usd_invoice_in_a_dinar_book_is_booked_in_dinars_to_the_fils(client, context, dinar_book):
    """36.66 USD at 0.3771 BHD: each entry converted and rounded to the fils (0.001 BHD); the
    thousandth the entries miss balancing by goes to the rounding account."""
    oneup = OneUpClient(client, dinar_book)
    set_rates(context, dinar_book.id, {"USD": "0.3771"}, since="2025-01-01")
    set_rates(context, dinar_book.id, {"USD": "0.3762"}, since="2025-02-01")
    buyer = customer(oneup, currency_iso_code="USD")
    invoice = oneup.ok("POST", "/invoices", {
        "customer_id": buyer["id"], "date": "2025-01-15", "tax_id": tax_id(oneup, "VAT 10%"),
        "order_lines": [{"item_id": item(oneup, "Thing", "33.33")["id"], "quantity": 1}]})
    assert (invoice["currency_iso_code"], invoice["tax_amount"], invoice["total"]) == ("USD", D("3.33"), D("36.66"))
    # 36.66 x 0.3771 = 13.824486 -> 13.824 receivable; 33.33 -> 12.568743 -> 12.569 and 3.33 -> 1.255743 ->
    # 1.256 of credits: 13.825, a fils more than the debit.
    entries = _entries(oneup, invoice["user_code"])
    assert entries == [("11100", "debit", D("13.824"), "USD", D("36.66")),
                       ("21100-1000", "credit", D("1.256"), "USD", D("3.33")),
                       ("40150", "credit", D("12.569"), "USD", D("33.33")),
                       ("62890", "debit", D("0.001"), None, None)]  # Currency Rounding Losses
    # Paid in February at 0.3762: the money is worth 13.791, the receivable leaves at 13.824.
    payment = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": D("36.66"), "date": "2025-02-10"})
    assert _entries(oneup, payment["user_code"]) == [("10500", "debit", D("13.791"), "USD", D("36.66")),
                                                     ("11100", "credit", D("13.824"), "USD", D("36.66")),
                                                     ("62800", "debit", D("0.033"), None, None)]
    accounts = _trial_balanced(oneup, "2025-12-31")
    assert all(_decimals(D(str(line[side]))) <= 3 for line in accounts for side in ("debit", "credit"))


# -- which currencies a book keeps ---------------------------------------------------------------

@pytest.mark.parametrize("code, currencies", [("BHD", 7), ("HUF", 7), ("JPY", 6), ("usd", 6)])
def test_a_book_may_be_kept_in_any_current_iso_currency(client, context, code, currencies):
    org = create_organization(context.database, f"Book in {code}", currency=code)
    listed = OneUpClient(client, org).ok("GET", "/currencies")
    assert len(listed) == currencies  # the usual six, and its own
    [main] = [currency for currency in listed if currency["is_main_currency"]]
    assert main["iso_code"] == code.upper()


def test_a_rate_for_a_currency_the_book_lacks_adds_it(client, context, org, oneup):
    buyer = customer(oneup, currency_iso_code="EUR")
    thing = item(oneup, "Thing", "333.333")
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2025-03-01",  # the process learns the list
                                   "order_lines": [{"item_id": thing["id"], "quantity": 1}]})
    refused = oneup.post("/invoices", {"customer_id": buyer["id"], "date": "2025-03-01", "currency_iso_code": "KRW",
                                       "order_lines": [{"item_id": thing["id"], "quantity": 3}]})
    assert "KRW is not one of the organization's currencies" in assert_error(refused, "3")["reason"]

    set_rates(context, org.id, {"KRW": "0.00069"}, since="2025-01-01")  # 1 won = 0.00069 USD
    [won] = oneup.ok("GET", "/currencies?iso_code=eq:KRW")
    assert (won["name"], won["is_main_currency"]) == ("Won", False)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2025-03-01",
                                             "currency_iso_code": "KRW",
                                             "order_lines": [{"item_id": thing["id"], "quantity": 3}]})
    assert (invoice["currency_iso_code"], invoice["total"]) == ("KRW", D(1000))  # the won has no minor unit
    assert _entries(oneup, invoice["user_code"]) == [("11100", "debit", D("0.69"), "KRW", D(1000)),
                                                     ("40150", "credit", D("0.69"), "KRW", D(1000))]
