"""Invoices as the resources seed describes them (seeds/oneup-v1-resources.txt: Invoices, Order Line),
with the list-replacement rule and error codes of the conventions seed, the posting rules of
design/ARCHITECTURE.md, and our print extension. Everything goes through the real app over HTTP."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from comptoir.services.tenancy.organizations import create_organization

from tests.helpers import set_rates
from ..helpers import OneUpClient, assert_reversed, book_snapshot, error_of
from .sales_support import (
    CONTACT_ADDRESS,
    CUSTOMER_SHIPPING,
    UNKNOWN_ID,
    account_id,
    assert_error,
    assert_seed_totals,
    customer,
    entry_sums,
    item,
    seed_body,
    seed_document,
    simple_invoice,
    tax_id,
    terms_id,
    transactions_of,
)

D = Decimal


# -- 1. totals -----------------------------------------------------------------------------------

def test_the_seed_invoice_example_comes_out_exactly(oneup):
    federal = tax_id(oneup, "10% Federal Tax")
    invoice = seed_document(oneup)
    assert_seed_totals(invoice)
    assert invoice["reduce_rate"] == D("3.5")
    assert invoice["tax_id"] == federal
    lines = invoice["order_lines"]
    assert [line["quantity"] for line in lines] == [D(50), D(100), D(20)]
    assert [line["unit_price_wt"] for line in lines] == [D(15), D("1.5"), D("9.99")]
    assert [line["discount_rate"] for line in lines] == [D(0), D(5), D(0)]
    assert [line["is_taxable"] for line in lines] == [True, True, False]
    assert [line["tax_id"] for line in lines] == [federal, federal, 0]  # as in the seed's example
    assert lines[1]["description"] == "10 random stickers for WC2014 album."
    assert invoice["paid"] == 0 and invoice["unpaid"] == D("1140.2") and invoice["payments_id"] == []
    assert invoice["delivery_status"] == 1
    again = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert_seed_totals(again)
    assert again == invoice


def test_the_totals_are_exact_decimals_on_the_wire(oneup):
    invoice = seed_document(oneup)
    raw = oneup.get(f"/invoices/{invoice['id']}").text
    for text in ('"subtotal": 1092.3', '"reduce_amount": 38.23', '"tax_amount": 86.13', '"total": 1140.2'):
        assert text.replace(" ", "") in raw.replace(" ", ""), raw


def test_per_line_taxes_with_two_rates_outside_the_us(client, context):
    french = OneUpClient(client, create_organization(context.database, "Société", currency="EUR", country="FR"))
    vat20, vat55 = tax_id(french, "TVA 20%"), tax_id(french, "TVA 5.5%")
    buyer = customer(french, "Client SA")
    a, b, c = (item(french, name) for name in ("A", "B", "C"))
    invoice = french.ok("POST", "/invoices", {"customer_id": buyer["id"], "reduce_rate": D(10), "order_lines": [
        {"item_id": a["id"], "quantity": D(2), "unit_price_wt": D(100), "tax_id": vat20},
        {"item_id": b["id"], "quantity": D(3), "unit_price_wt": D(10), "tax_id": vat55},
        {"item_id": c["id"], "quantity": D(4), "unit_price_wt": D(25), "discount_rate": D(10), "tax_id": vat20},
    ]})
    assert [line["total"] for line in invoice["order_lines"]] == [D(200), D(30), D(90)]
    assert [line["tax_id"] for line in invoice["order_lines"]] == [vat20, vat55, vat20]
    assert invoice["subtotal"] == D(320)
    assert invoice["reduce_amount"] == D(32)
    # 20%: 290 x 0.9 x 0.2 = 52.2; 5.5%: 30 x 0.9 x 0.055 = 1.485 -> 1.49 (half-up)
    assert invoice["tax_amount"] == D("53.69")
    assert invoice["total"] == D("341.69")
    assert invoice["currency_iso_code"] == "EUR"


def test_a_line_discount_applies_before_tax(oneup):
    federal = tax_id(oneup, "10% Federal Tax")
    buyer, thing = customer(oneup), item(oneup, "Widget", "19.99")
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "tax_id": federal, "order_lines": [
        {"item_id": thing["id"], "quantity": D(3), "discount_rate": D("12.5")}]})
    line = invoice["order_lines"][0]
    assert line["unit_price_wt"] == D("19.99") and line["discount_rate"] == D("12.5")
    assert line["total"] == D("52.47")  # 59.97 x 0.875 = 52.47375
    assert invoice["subtotal"] == D("52.47") and invoice["reduce_amount"] == 0
    assert invoice["tax_amount"] == D("5.25") and invoice["total"] == D("57.72")


def test_defaults_of_an_invoice_and_its_lines(oneup, context, org):
    set_rates(context, org.id, {"EUR": "1.10"})
    buyer = customer(oneup, currency_iso_code="EUR")
    thing = item(oneup, "Nintendo Wii", "199", "A video game console.")
    first = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "order_lines": [{"item_id": thing["id"]}]})
    line = first["order_lines"][0]
    assert line["quantity"] == 1
    assert line["unit_price_wt"] == D(199)
    assert line["description"] == "A video game console."
    assert line["discount_rate"] == 0 and line["is_taxable"] is True
    assert line["total"] == D(199)
    assert first["date"] == date.today().isoformat()
    assert first["currency_iso_code"] == "EUR"
    assert first["reduce_rate"] == 0 and first["sent"] is False
    assert first["user_code"] == "CINV-001"
    second = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"]})
    assert second["user_code"] == "CINV-002"
    assert second["order_lines"] == [] and second["total"] == 0


def test_the_currency_defaults_to_the_companys(oneup):
    invoice = simple_invoice(oneup)
    assert invoice["currency_iso_code"] == "USD"


def test_a_given_user_code_is_kept(oneup):
    invoice = simple_invoice(oneup, user_code="INV-2024-7")
    assert invoice["user_code"] == "INV-2024-7"
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["user_code"] == "INV-2024-7"


# -- 2. order lines and references ---------------------------------------------------------------

def _two_line_invoice(oneup):
    buyer = customer(oneup)
    a, b, c = item(oneup, "A", "10"), item(oneup, "B", "5"), item(oneup, "C", "2.5")
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "order_lines": [
        {"item_id": a["id"], "quantity": D(2)}, {"item_id": b["id"], "quantity": D(1)}]})
    assert invoice["total"] == D(25)
    return invoice, (a, b, c)


def test_order_lines_follow_the_list_replacement_rule(oneup):
    invoice, (a, _b, c) = _two_line_invoice(oneup)
    kept = invoice["order_lines"][0]
    dropped = invoice["order_lines"][1]
    updated = oneup.ok("PUT", f"/invoices/{invoice['id']}", {"order_lines": [
        {"id": kept["id"], "quantity": D(3)}, {"item_id": c["id"], "quantity": D(4)}]})
    lines = updated["order_lines"]
    assert len(lines) == 2
    assert lines[0]["id"] == kept["id"] and lines[0]["item_id"] == a["id"]
    assert lines[0]["quantity"] == 3 and lines[0]["unit_price_wt"] == 10 and lines[0]["total"] == 30
    assert lines[1]["id"] not in (kept["id"], dropped["id"])
    assert lines[1]["item_id"] == c["id"] and lines[1]["total"] == 10
    assert updated["subtotal"] == 40 and updated["total"] == 40 and updated["unpaid"] == 40
    assert oneup.ok("GET", f"/invoices/{invoice['id']}") == updated


def test_omitting_order_lines_keeps_them_and_an_empty_list_deletes_them(oneup):
    invoice, _ = _two_line_invoice(oneup)
    same = oneup.ok("PUT", f"/invoices/{invoice['id']}", {"po_number": "PO-1"})
    assert same["order_lines"] == invoice["order_lines"] and same["total"] == 25
    emptied = oneup.ok("PUT", f"/invoices/{invoice['id']}", {"order_lines": []})
    assert emptied["order_lines"] == [] and emptied["total"] == 0 and emptied["subtotal"] == 0


def test_a_line_id_of_another_invoice_is_refused(oneup):
    invoice, _ = _two_line_invoice(oneup)
    other, _ = _two_line_invoice(oneup)
    response = oneup.put(f"/invoices/{invoice['id']}", {"order_lines": [{"id": other["order_lines"][0]["id"]}]})
    assert_error(response, "3")
    assert oneup.ok("GET", f"/invoices/{other['id']}") == other


def test_item_id_of_an_existing_line_is_read_only(oneup):
    invoice, (a, _b, c) = _two_line_invoice(oneup)
    line = invoice["order_lines"][0]
    response = oneup.put(f"/invoices/{invoice['id']}", {"order_lines": [{"id": line["id"], "item_id": c["id"]}]})
    assert_error(response, "3")
    assert oneup.ok("GET", f"/invoices/{invoice['id']}") == invoice
    same = oneup.ok("PUT", f"/invoices/{invoice['id']}", {"order_lines": [
        {"id": line["id"], "item_id": a["id"], "quantity": D(5)}]})
    assert same["order_lines"][0]["item_id"] == a["id"] and same["total"] == 50


def test_an_unknown_item_is_code_3(oneup):
    buyer = customer(oneup)
    assert_error(oneup.post("/invoices", {"customer_id": buyer["id"], "order_lines": [{"item_id": UNKNOWN_ID}]}), "3")


def test_a_new_line_without_item_id_is_3013(oneup):
    buyer = customer(oneup)
    assert_error(oneup.post("/invoices", {"customer_id": buyer["id"], "order_lines": [{"quantity": D(2)}]}), "3013")
    invoice, _ = _two_line_invoice(oneup)
    response = oneup.put(f"/invoices/{invoice['id']}", {"order_lines": [{"quantity": D(2)}]})
    assert_error(response, "3013")


def test_customer_id_is_mandatory(oneup):
    thing = item(oneup, "Thing", "1")
    assert_error(oneup.post("/invoices", {"order_lines": [{"item_id": thing["id"]}]}), "3013")
    assert_error(oneup.post("/invoices", {"customer_id": None}), "3013")
    assert oneup.ok("GET", "/invoices") == []


def test_a_vendor_or_an_unknown_id_is_not_a_customer(oneup):
    vendor = oneup.ok("POST", "/vendors", {"type": 1, "company_name": "Supplier Inc"})
    assert_error(oneup.post("/invoices", {"customer_id": vendor["id"]}), "3")
    assert_error(oneup.post("/invoices", {"customer_id": UNKNOWN_ID}), "3")
    invoice = simple_invoice(oneup)
    assert_error(oneup.put(f"/invoices/{invoice['id']}", {"customer_id": vendor["id"]}), "3")
    assert oneup.ok("GET", "/invoices") == [invoice]


# -- 3. addresses --------------------------------------------------------------------------------

@pytest.fixture
def parties(oneup):
    buyer = customer(oneup, "Buyer", shipping_address=CUSTOMER_SHIPPING,
                     contacts=[{"first_name": "Ed", "last_name": "Smith", "address": CONTACT_ADDRESS}])
    plain = customer(oneup, "Plain")  # no shipping address
    other = customer(oneup, "Other", contacts=[{"first_name": "Jo", "last_name": "Doe",
                                                "address": {"street_line1": "1 Main St", "city": "Boston"}}])
    return buyer, plain, other


def test_billing_address_is_the_customers_or_the_billing_contacts(oneup, parties):
    buyer, _plain, _other = parties
    ed = buyer["contacts"][0]
    without = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"]})
    assert without["billing_contact_id"] is None
    assert without["billing_address"] == buyer["address"]
    assert without["billing_address"]["street_line1"] == "567 Sutter St."
    with_contact = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "billing_contact_id": ed["id"]})
    assert with_contact["billing_contact_id"] == ed["id"]
    assert with_contact["billing_address"] == ed["address"]
    assert with_contact["billing_address"]["street_line1"] == "57 Benjamin Franklin Street"


def test_the_put_response_shows_the_addresses_of_new_contacts(oneup, parties):
    buyer, _plain, other = parties
    ed, jo = buyer["contacts"][0], other["contacts"][0]
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"]})
    moved = oneup.ok("PUT", f"/invoices/{invoice['id']}",
                     {"billing_contact_id": ed["id"], "shipping_contact_id": jo["id"]})
    stored = oneup.ok("GET", f"/invoices/{invoice['id']}")
    assert stored["billing_address"] == ed["address"] and stored["shipping_address"] == jo["address"]
    assert (moved["billing_address"], moved["shipping_address"]) == (ed["address"], jo["address"])
    assert moved == stored


def test_a_billing_contact_of_another_customer_is_code_3(oneup, parties):
    buyer, _plain, other = parties
    response = oneup.post("/invoices", {"customer_id": buyer["id"], "billing_contact_id": other["contacts"][0]["id"]})
    assert_error(response, "3")
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"]})
    response = oneup.put(f"/invoices/{invoice['id']}", {"billing_contact_id": other["contacts"][0]["id"]})
    assert_error(response, "3")
    assert_error(oneup.post("/invoices", {"customer_id": buyer["id"], "billing_contact_id": UNKNOWN_ID}), "3")


def test_a_new_customer_does_not_keep_the_old_customers_billing_contact(oneup, parties):
    """The seed: billing_contact_id "Should belong to that invoice's Customer". Moving the invoice to
    another customer must either be refused (code 3) or let go of the old customer's contact."""
    buyer, _plain, other = parties
    ed = buyer["contacts"][0]
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "billing_contact_id": ed["id"]})
    response = oneup.put(f"/invoices/{invoice['id']}", {"customer_id": other["id"]})
    stored = oneup.ok("GET", f"/invoices/{invoice['id']}")
    if response.status_code == 422:
        assert_error(response, "3")
        assert stored == invoice
    else:
        assert response.status_code == 200, response.text
        assert stored["customer_id"] == other["id"]
        assert stored["billing_contact_id"] in (None, *(c["id"] for c in other["contacts"]))
        assert stored["billing_address"] != ed["address"]


def test_shipping_address_is_the_contacts_or_the_customers_shipping_address(oneup, parties):
    buyer, plain, other = parties
    jo = other["contacts"][0]
    default = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"]})
    assert default["shipping_address"] == buyer["shipping_address"]
    assert default["shipping_address"]["city"] == "Saint-Denis"
    # any customer's contact may receive the goods
    shipped = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "shipping_contact_id": jo["id"]})
    assert shipped["shipping_contact_id"] == jo["id"]
    assert shipped["shipping_address"] == jo["address"]
    assert shipped["shipping_address"]["city"] == "Boston"
    # no shipping address on the customer: its main address
    fallback = oneup.ok("POST", "/invoices", {"customer_id": plain["id"]})
    assert fallback["shipping_address"] == plain["address"]
    assert fallback["shipping_address"]["street_line1"] == "567 Sutter St."
    assert_error(oneup.post("/invoices", {"customer_id": buyer["id"], "shipping_contact_id": UNKNOWN_ID}), "3")


def test_addresses_are_read_only(oneup, parties):
    buyer, _plain, _other = parties
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"]})
    path = f"/invoices/{invoice['id']}"
    changed_billing = {**invoice["billing_address"], "street_line1": "Elsewhere"}
    assert_error(oneup.put(path, {"billing_address": changed_billing}), "3")
    changed_shipping = {**invoice["shipping_address"], "city": "Paris"}
    assert_error(oneup.put(path, {"shipping_address": changed_shipping}), "3")
    assert oneup.ok("GET", path) == invoice
    same = oneup.ok("PUT", path, {"billing_address": invoice["billing_address"],
                                  "shipping_address": invoice["shipping_address"], "po_number": "PO-9"})
    assert same["po_number"] == "PO-9" and same["billing_address"] == invoice["billing_address"]


def test_read_only_totals_cannot_be_changed_but_may_be_sent_back(oneup):
    invoice = seed_document(oneup)
    path = f"/invoices/{invoice['id']}"
    for field, value in (("total", D(1)), ("subtotal", D(1)), ("tax_amount", D(1)), ("paid", D(5)),
                         ("unpaid", D(5))):
        assert_error(oneup.put(path, {field: value}), "3")
    echoed = oneup.ok("PUT", path, {name: invoice[name] for name in ("total", "subtotal", "tax_amount", "paid",
                                                                     "unpaid", "order_lines")})
    assert_seed_totals(echoed)


# -- 4. due date and installments ----------------------------------------------------------------

def test_due_date_before_the_date_is_3011(oneup):
    buyer = customer(oneup)
    response = oneup.post("/invoices", {"customer_id": buyer["id"], "date": "2024-03-10", "due_date": "2024-03-09"})
    assert_error(response, "3011")
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2024-03-10",
                                             "due_date": "2024-03-10"})
    assert invoice["due_date"] == "2024-03-10"
    assert_error(oneup.put(f"/invoices/{invoice['id']}", {"due_date": "2024-03-01"}), "3011")
    assert_error(oneup.put(f"/invoices/{invoice['id']}", {"date": "2024-04-01"}), "3011")
    assert oneup.ok("GET", f"/invoices/{invoice['id']}") == invoice


def test_due_date_defaults_to_the_last_settlement(oneup):
    net30 = terms_id(oneup, "Net 30")
    on_receipt = simple_invoice(oneup, date="2024-03-01")
    assert on_receipt["due_date"] == "2024-03-01"
    assert [s["due_date"] for s in on_receipt["installments"]] == ["2024-03-01"]
    later = simple_invoice(oneup, date="2024-03-01", payment_terms_id=net30)
    assert later["payment_terms_id"] == net30
    assert later["due_date"] == "2024-03-31"
    assert later["installments"] == [{"invoice_id": later["id"], "due_date": "2024-03-31", "amount": D(100),
                                      "outstanding_amount": D(100)}]


def test_the_customers_payment_terms_are_the_default(oneup):
    net15 = terms_id(oneup, "Net 15")
    buyer = customer(oneup, payment_terms={"id": net15})
    invoice = simple_invoice(oneup, buyer, date="2024-03-01")
    assert invoice["payment_terms_id"] == net15
    assert invoice["due_date"] == "2024-03-16"


def test_two_installments_of_half_each(oneup):
    two = terms_id(oneup, "In two installments")
    invoice = seed_document(oneup, payment_terms_id=two)
    start = date(2014, 5, 7)
    assert invoice["installments"] == [
        {"invoice_id": invoice["id"], "due_date": start.isoformat(), "amount": D("570.1"),
         "outstanding_amount": D("570.1")},
        {"invoice_id": invoice["id"], "due_date": (start + timedelta(days=30)).isoformat(), "amount": D("570.1"),
         "outstanding_amount": D("570.1")},
    ]
    assert invoice["due_date"] == (start + timedelta(days=30)).isoformat()
    assert sum(s["amount"] for s in invoice["installments"]) == invoice["total"]


def test_installments_of_an_odd_cent_total_sum_to_the_total(oneup):
    two = terms_id(oneup, "In two installments")
    invoice = simple_invoice(oneup, price="100.01", payment_terms_id=two)
    amounts = [s["amount"] for s in invoice["installments"]]
    assert len(amounts) == 2 and sum(amounts) == D("100.01")
    assert set(amounts) == {D("50.01"), D("50")}


# -- 6. posting ----------------------------------------------------------------------------------

@pytest.fixture
def accounts(oneup):
    return {number: account_id(oneup, number) for number in ("11100", "40150", "21100", "10500")}


def test_an_invoice_posts_receivable_income_and_tax(oneup, accounts):
    invoice = seed_document(oneup)
    transactions = transactions_of(oneup, "CINV-001")
    assert len(transactions) == 1
    transaction = transactions[0]
    assert transaction["piece_number"] == invoice["user_code"] == "CINV-001"
    assert transaction["journal"]["name"] == "Sales"
    assert transaction["date"] == "2014-05-07"
    assert transaction["currency_iso_code"] == "USD"
    accounts["21100-1000"] = account_id(oneup, "21100-1000")  # Sales Tax Payable 10%, made on first use
    assert entry_sums(transaction, accounts) == {("11100", "debit"): D("1140.2"), ("40150", "credit"): D("1054.07"),
                                                 ("21100-1000", "credit"): D("86.13")}
    [tax] = [e for e in transaction["entries"] if e["account_id"] == accounts["21100-1000"]]
    # The base: the taxed lines (750 and 142.5; the album is not taxable) net of the 3.5 % reduce, as
    # the income entry splits it by line: 723.75 + 137.51 = 861.26 (86.13 = 892.5 x 0.965 x 10 %).
    assert (tax["tax_rate"], tax["tax_base"]) == (D(10), D("861.26"))
    debit = sum(e["amount"] for e in transaction["entries"] if e["way"] == "debit")
    credit = sum(e["amount"] for e in transaction["entries"] if e["way"] == "credit")
    assert debit == credit == D("1140.2")
    receivable = [e for e in transaction["entries"] if e["account_id"] == accounts["11100"]]
    assert [e["lettering"] for e in receivable] == ["CINV-001"]
    assert receivable[0]["account_label"].startswith("11100")


def test_an_invoice_of_many_lines_keeps_each_line_in_its_order(oneup, accounts):
    """More lines than one statement's VALUES take (storage/statements: on PostgreSQL then one array
    per column): every line as sent, in its order, and the invoice posted in full."""
    buyer, thing = customer(oneup), item(oneup, "Hour", "10")
    lines = [{"item_id": thing["id"], "quantity": D(n), "description": f"line {n}", "is_taxable": False}
             for n in range(1, 206)]
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2024-03-01", "user_code": "MANY-1",
                                             "order_lines": lines})
    assert [(line["description"], line["quantity"]) for line in invoice["order_lines"]] == \
        [(f"line {n}", D(n)) for n in range(1, 206)]
    assert invoice["total"] == D(10 * 205 * 206 // 2)
    assert oneup.ok("GET", f"/invoices/{invoice['id']}") == invoice
    [transaction] = transactions_of(oneup, "MANY-1")
    assert entry_sums(transaction, accounts) == {("11100", "debit"): D(211_150), ("40150", "credit"): D(211_150)}


def test_an_untaxed_invoice_posts_no_tax_entry(oneup, accounts):
    invoice = simple_invoice(oneup, price="80")
    [transaction] = transactions_of(oneup, invoice["user_code"])
    assert entry_sums(transaction, accounts) == {("11100", "debit"): D(80), ("40150", "credit"): D(80)}


def test_editing_an_invoice_reposts_it(oneup, accounts):
    invoice = seed_document(oneup)
    [before] = transactions_of(oneup, "CINV-001")
    updated = oneup.ok("PUT", f"/invoices/{invoice['id']}", {"reduce_rate": D(0), "date": "2014-06-01"})
    assert updated["reduce_amount"] == 0
    assert updated["tax_amount"] == D("89.25")  # 892.5 x 10%
    assert updated["total"] == D("1181.55")
    transactions = transactions_of(oneup, "CINV-001")
    assert len(transactions) == 1
    [after] = transactions
    assert after["date"] == "2014-06-01"
    accounts["21100-1000"] = account_id(oneup, "21100-1000")
    assert entry_sums(after, accounts) == {("11100", "debit"): D("1181.55"), ("40150", "credit"): D("1092.3"),
                                           ("21100-1000", "credit"): D("89.25")}
    assert after["id"] == before["id"] or oneup.get(f"/transactions/{before['id']}").status_code == 404


def test_renumbering_an_invoice_renumbers_its_transaction(oneup):
    invoice = simple_invoice(oneup)
    oneup.ok("PUT", f"/invoices/{invoice['id']}", {"user_code": "INV-X"})
    assert transactions_of(oneup, invoice["user_code"]) == []
    [transaction] = transactions_of(oneup, "INV-X")
    assert [e["lettering"] for e in transaction["entries"] if e["way"] == "debit"] == ["INV-X"]


def test_deleting_an_invoice_reverses_its_transaction(oneup):
    """Issue 17 §8: the invoice goes, its transaction stays beside the reversal that cancels it."""
    invoice = seed_document(oneup)
    [posted] = transactions_of(oneup, "CINV-001")
    deleted = oneup.ok("DELETE", f"/invoices/{invoice['id']}")
    assert deleted["id"] == invoice["id"]
    assert_error(oneup.get(f"/invoices/{invoice['id']}"), "2")
    both = transactions_of(oneup, "CINV-001")
    assert len(both) == 2 and assert_reversed(posted, both)
    assert oneup.ok("GET", "/transactions") == both


def test_invoices_post_one_transaction_each(oneup):
    first, second = simple_invoice(oneup, price="10"), simple_invoice(oneup, price="20")
    pieces = sorted(t["piece_number"] for t in oneup.ok("GET", "/transactions"))
    assert pieces == sorted([first["user_code"], second["user_code"]])


# -- 8. sent -------------------------------------------------------------------------------------

def test_a_sent_invoice_cannot_be_edited_nor_deleted(oneup):
    invoice = seed_document(oneup)
    path = f"/invoices/{invoice['id']}"
    sent = oneup.ok("PUT", path, {"sent": True})
    assert sent["sent"] is True
    assert_seed_totals(sent)
    for body in ({"po_number": "PO-1"}, {"reduce_rate": D(0)}, {"order_lines": []}, {"sent": False}):
        assert_error(oneup.put(path, body), "3010")
    assert_error(oneup.delete(path), "3010")
    assert oneup.ok("GET", path) == sent
    assert len(transactions_of(oneup, "CINV-001")) == 1


# -- 9. print ------------------------------------------------------------------------------------

def test_print_pdf_and_print_json(oneup):
    invoice = seed_document(oneup)
    response = oneup.get(f"/invoices/{invoice['id']}/print.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 1000
    link = oneup.ok("GET", f"/invoices/{invoice['id']}/print.json")
    assert set(link) == {"url"}
    assert link["url"].startswith("http")
    assert link["url"].endswith(f"/oneup/v1/invoices/{invoice['id']}/print.pdf")


def _pdf_text(content: bytes) -> str:
    """The words of a PDF as a reader extracts them, spaces and line breaks made single spaces."""
    import io

    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def test_the_printed_invoice_names_each_line_by_its_item_and_says_its_description(oneup):
    buyer = customer(oneup)
    bare = item(oneup, "Goalkeeper gloves", "30", "Leather, size 9.")
    described = item(oneup, "Corner flag", "12")
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2024-03-01", "order_lines": [
        {"item_id": bare["id"], "quantity": D(2), "description": "", "is_taxable": False},
        {"item_id": described["id"], "quantity": D(1), "description": "Orange, for the north corner",
         "is_taxable": False}]})
    response = oneup.get(f"/invoices/{invoice['id']}/print.pdf")
    assert response.status_code == 200
    text = _pdf_text(response.content)
    # A line without a description prints its item's name; one with a description prints both.
    assert "Goalkeeper gloves 2 30.00 0% 60.00" in text, text
    assert "Corner flag Orange, for the north corner 1 12.00 0% 12.00" in text, text


def test_print_of_an_unknown_invoice_is_404_code_2(oneup):
    assert_error(oneup.get(f"/invoices/{UNKNOWN_ID}/print.pdf"), "2")
    assert_error(oneup.get(f"/invoices/{UNKNOWN_ID}/print.json"), "2")
    order = simple_invoice(oneup, path="/sales_orders")
    assert_error(oneup.get(f"/invoices/{order['id']}/print.pdf"), "2")


# -- 10. lists -----------------------------------------------------------------------------------

@pytest.fixture
def four_invoices(oneup):
    alice, bob = customer(oneup, "Alice"), customer(oneup, "Bob")
    return [simple_invoice(oneup, alice, price="100", date="2024-01-10"),
            simple_invoice(oneup, alice, price="300", date="2024-02-10"),
            simple_invoice(oneup, bob, price="50", date="2024-02-10"),
            simple_invoice(oneup, bob, price="500", date="2024-03-05")]


def _ids(oneup, query: str) -> list[int]:
    return [invoice["id"] for invoice in oneup.ok("GET", f"/invoices?{query}")]


def test_filters_on_invoices(oneup, four_invoices):
    i1, i2, i3, i4 = (invoice["id"] for invoice in four_invoices)
    alice = four_invoices[0]["customer_id"]
    assert sorted(_ids(oneup, f"customer_id=eq:{alice}")) == [i1, i2]
    assert sorted(_ids(oneup, "date=gte:2024-02-01&date=lt:2024-03-01")) == [i2, i3]
    assert sorted(_ids(oneup, "date=gte:2024-02-10")) == [i2, i3, i4]
    assert sorted(_ids(oneup, "total=gt:100")) == [i2, i4]
    assert sorted(_ids(oneup, "total=gt:99.99")) == [i1, i2, i4]
    assert sorted(_ids(oneup, f"customer_id=eq:{alice}&total=gt:100")) == [i2]
    assert _ids(oneup, "user_code=eq:CINV-003") == [i3]


def test_sort_on_invoices(oneup, four_invoices):
    i1, i2, i3, i4 = (invoice["id"] for invoice in four_invoices)
    assert _ids(oneup, "sort=-date,-id") == [i4, i3, i2, i1]
    assert _ids(oneup, "sort=date,-id") == [i1, i3, i2, i4]
    assert _ids(oneup, "sort=-total") == [i4, i2, i1, i3]


def test_bulk_delete_of_invoices(oneup, four_invoices):
    free, paid = four_invoices[3], four_invoices[1]  # a draft deleted holds the last number (issue 17 §7)
    oneup.ok("POST", "/payments", {"invoice_id": paid["id"], "amount": D(10), "date": "2024-02-11"})
    result = oneup.ok("DELETE", f"/invoices?ids={free['id']},{paid['id']},{UNKNOWN_ID}")
    assert result["success_count"] == 1 and result["error_count"] == 2
    assert [s["id"] for s in result["successes"]] == [free["id"]]
    refused, missing = result["errors"]
    assert refused["id"] == paid["id"]
    assert refused["error"]["status"] == 422 and refused["error"]["code"] == "3"
    assert refused["error"]["message"] == "This object cannot be deleted."
    assert "Incoming Payment" in refused["error"]["reason"]
    assert missing == {"id": UNKNOWN_ID,
                       "error": {"status": 404, "code": "2", "message": "The resource was not found."}}
    assert_error(oneup.get(f"/invoices/{free['id']}"), "2")
    [posted, reversal] = transactions_of(oneup, free["user_code"])  # reversed, not removed (issue 17 §8)
    assert assert_reversed(posted, [posted, reversal]) == reversal
    assert oneup.ok("GET", f"/invoices/{paid['id']}")["paid"] == 10


# -- 11. isolation -------------------------------------------------------------------------------

def test_another_organization_cannot_see_or_touch_invoices(oneup, other_oneup):
    invoice = seed_document(oneup)
    path = f"/invoices/{invoice['id']}"
    for response in (other_oneup.get(path), other_oneup.put(path, {"po_number": "X"}), other_oneup.delete(path),
                     other_oneup.get(path + "/print.pdf"), other_oneup.get(path + "/print.json")):
        assert_error(response, "2")
    assert other_oneup.ok("GET", "/invoices") == []
    bulk = other_oneup.ok("DELETE", f"/invoices?ids={invoice['id']}")
    assert bulk["success_count"] == 0 and bulk["errors"][0]["error"]["code"] == "2"
    assert oneup.ok("GET", path) == invoice


def test_another_organization_cannot_invoice_a_customer_or_item_it_does_not_own(oneup, other_oneup):
    buyer, thing = customer(oneup), item(oneup, "Mine", "5")
    own_customer, own_item = customer(other_oneup), item(other_oneup, "Theirs", "5")
    assert_error(other_oneup.post("/invoices", {"customer_id": buyer["id"]}), "3")
    response = other_oneup.post("/invoices", {"customer_id": own_customer["id"],
                                              "order_lines": [{"item_id": thing["id"]}]})
    assert_error(response, "3")
    invoice = other_oneup.ok("POST", "/invoices", {"customer_id": own_customer["id"],
                                                   "order_lines": [{"item_id": own_item["id"]}]})
    assert_error(other_oneup.put(f"/invoices/{invoice['id']}", {"customer_id": buyer["id"]}), "3")
    assert oneup.ok("GET", "/invoices") == []


# -- 12. failures leave no trace -----------------------------------------------------------------

def test_an_invoice_with_one_bad_line_leaves_no_trace(oneup, context, org):
    body = seed_body(oneup)
    body["order_lines"].insert(1, {"item_id": UNKNOWN_ID, "quantity": D(2)})
    before = book_snapshot(context, org.id)
    assert_error(oneup.post("/invoices", body), "3")
    assert book_snapshot(context, org.id) == before
    # the numbering did not move either
    assert oneup.ok("POST", "/invoices", seed_body(oneup))["user_code"] == "CINV-001"


def test_an_edit_with_one_bad_line_leaves_no_trace(oneup, context, org):
    invoice = seed_document(oneup)
    lines = [{"id": line["id"], "quantity": D(1)} for line in invoice["order_lines"]]
    lines.append({"item_id": UNKNOWN_ID})
    before = book_snapshot(context, org.id)
    assert_error(oneup.put(f"/invoices/{invoice['id']}", {"order_lines": lines, "po_number": "changed"}), "3")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/invoices/{invoice['id']}") == invoice


def test_a_refused_due_date_leaves_no_trace(oneup, context, org):
    buyer, thing = customer(oneup), item(oneup, "Thing", "3")
    before = book_snapshot(context, org.id)
    response = oneup.post("/invoices", {"customer_id": buyer["id"], "date": "2024-05-02", "due_date": "2024-05-01",
                                        "order_lines": [{"item_id": thing["id"]}]})
    assert_error(response, "3011")
    assert book_snapshot(context, org.id) == before


def test_errors_have_the_oneup_shape(oneup):
    error = error_of(oneup.post("/invoices", {"customer_id": UNKNOWN_ID}))
    assert error["status"] == 422 and "customer_id" in error.get("reason", "")
