"""Sales orders as the resources seed describes them (seeds/oneup-v1-resources.txt: Sales Orders, Order
Line), and our extensions: POST /sales_orders/{id}/convert {"type": "invoice"} and
POST /sales_orders/{id}/deliver {"delivery_status": 2|3}. Everything goes through the real app over HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.helpers import set_rates
from ..helpers import assert_reversed, book_snapshot, error_of
from .sales_support import (
    CONTACT_ADDRESS,
    CUSTOMER_SHIPPING,
    UNKNOWN_ID,
    assert_error,
    assert_seed_totals,
    customer,
    item,
    seed_body,
    seed_document,
    simple_invoice,
    tax_id,
    terms_id,
    transactions_of,
)

D = Decimal
LINE_KEYS = ("item_id", "description", "quantity", "unit_price_wt", "discount_rate", "tax_id", "is_taxable", "total")
HEADER_KEYS = ("customer_id", "billing_contact_id", "billing_address", "po_number", "tax_id", "currency_iso_code",
               "reduce_rate", "public_note", "shipping_contact_id", "shipping_address", "payment_terms_id",
               "private_note", "subtotal", "reduce_amount", "tax_amount", "total")


def _order(oneup, **extra) -> dict:
    return seed_document(oneup, "/sales_orders", **extra)


# -- totals and defaults -------------------------------------------------------------------------

def test_the_seed_sales_order_example_comes_out_exactly(oneup):
    federal = tax_id(oneup, "10% Federal Tax")
    order = _order(oneup, po_number="WC-SO-32492-XCT", public_note="All in one rhythm",
                   private_note="Needs to be ready for the opening !", shipping_date="2014-06-12")
    assert_seed_totals(order)
    assert order["reduce_rate"] == D("3.5") and order["tax_id"] == federal
    assert [line["tax_id"] for line in order["order_lines"]] == [federal, federal, 0]
    assert [line["is_taxable"] for line in order["order_lines"]] == [True, True, False]
    assert order["delivery_status"] == 1
    assert order["invoice_status"] == 1
    assert order["invoice_id"] is None
    assert order["user_code"] == "CORD-001"
    assert order["date"] == "2014-05-07" and order["shipping_date"] == "2014-06-12"
    assert order["po_number"] == "WC-SO-32492-XCT"
    assert oneup.ok("GET", f"/sales_orders/{order['id']}") == order
    assert [o["id"] for o in oneup.ok("GET", "/sales_orders")] == [order["id"]]
    assert oneup.ok("GET", "/invoices") == []  # an order is not an invoice


def test_defaults_of_a_sales_order_and_its_lines(oneup, context, org):
    set_rates(context, org.id, {"GBP": "1.27"})  # the invoice at the end is booked in dollars
    buyer = customer(oneup, currency_iso_code="GBP")
    thing = item(oneup, "Nintendo Wii", "199", "A video game console.")
    first = oneup.ok("POST", "/sales_orders", {"customer_id": buyer["id"], "order_lines": [{"item_id": thing["id"]}]})
    [line] = first["order_lines"]
    assert (line["quantity"], line["unit_price_wt"], line["description"]) == (1, D(199), "A video game console.")
    assert line["discount_rate"] == 0 and line["total"] == D(199)
    assert first["date"] == date.today().isoformat()
    assert first["currency_iso_code"] == "GBP"
    assert first["user_code"] == "CORD-001"
    assert oneup.ok("POST", "/sales_orders", {"customer_id": buyer["id"]})["user_code"] == "CORD-002"
    # orders and invoices are numbered apart
    assert simple_invoice(oneup, buyer)["user_code"] == "CINV-001"


def test_order_lines_of_an_order_follow_the_list_replacement_rule(oneup):
    buyer = customer(oneup)
    a, b, c = item(oneup, "A", "10"), item(oneup, "B", "5"), item(oneup, "C", "2.5")
    order = oneup.ok("POST", "/sales_orders", {"customer_id": buyer["id"], "order_lines": [
        {"item_id": a["id"], "quantity": D(2)}, {"item_id": b["id"]}]})
    kept = order["order_lines"][0]
    updated = oneup.ok("PUT", f"/sales_orders/{order['id']}", {"order_lines": [
        {"id": kept["id"], "quantity": D(3)}, {"item_id": c["id"], "quantity": D(4)}]})
    assert [(line["item_id"], line["quantity"], line["total"]) for line in updated["order_lines"]] == [
        (a["id"], 3, 30), (c["id"], 4, 10)]
    assert updated["order_lines"][0]["id"] == kept["id"]
    assert updated["total"] == 40
    response = oneup.put(f"/sales_orders/{order['id']}", {"order_lines": [{"id": kept["id"], "item_id": b["id"]}]})
    assert_error(response, "3")
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"order_lines": [{"item_id": UNKNOWN_ID}]}), "3")
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"order_lines": [{"quantity": D(1)}]}), "3013")
    assert oneup.ok("GET", f"/sales_orders/{order['id']}") == updated


def test_references_of_a_sales_order(oneup):
    vendor = oneup.ok("POST", "/vendors", {"type": 1, "company_name": "Supplier Inc"})
    assert_error(oneup.post("/sales_orders", {}), "3013")
    assert_error(oneup.post("/sales_orders", {"customer_id": vendor["id"]}), "3")
    assert_error(oneup.post("/sales_orders", {"customer_id": UNKNOWN_ID}), "3")
    assert oneup.ok("GET", "/sales_orders") == []


def test_addresses_of_a_sales_order(oneup):
    buyer = customer(oneup, "Buyer", shipping_address=CUSTOMER_SHIPPING,
                     contacts=[{"first_name": "Ed", "last_name": "Smith", "address": CONTACT_ADDRESS}])
    other = customer(oneup, "Other", contacts=[{"first_name": "Jo", "last_name": "Doe", "address": {"city": "Boston"}}])
    order = oneup.ok("POST", "/sales_orders", {"customer_id": buyer["id"]})
    assert order["billing_address"] == buyer["address"] and order["shipping_address"] == buyer["shipping_address"]
    ed, jo = buyer["contacts"][0], other["contacts"][0]
    contacts = oneup.ok("POST", "/sales_orders", {"customer_id": buyer["id"], "billing_contact_id": ed["id"],
                                                  "shipping_contact_id": jo["id"]})
    assert contacts["billing_address"] == ed["address"] and contacts["shipping_address"] == jo["address"]
    assert_error(oneup.post("/sales_orders", {"customer_id": buyer["id"], "billing_contact_id": jo["id"]}), "3")
    changed = {**order["billing_address"], "city": "Paris"}
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"billing_address": changed}), "3")
    assert oneup.ok("PUT", f"/sales_orders/{order['id']}", {"billing_address": order["billing_address"]}) == order


def test_due_date_before_the_date_is_3011_on_orders_too(oneup):
    buyer = customer(oneup)
    response = oneup.post("/sales_orders", {"customer_id": buyer["id"], "date": "2024-03-10", "due_date": "2024-03-09"})
    assert_error(response, "3011")


def test_sales_orders_post_nothing(oneup):
    order = _order(oneup)
    oneup.ok("PUT", f"/sales_orders/{order['id']}", {"reduce_rate": D(0)})
    assert transactions_of(oneup, order["user_code"]) == []
    assert oneup.ok("GET", "/transactions") == []
    oneup.ok("DELETE", f"/sales_orders/{order['id']}")
    assert_error(oneup.get(f"/sales_orders/{order['id']}"), "2")
    assert oneup.ok("GET", "/transactions") == []


# -- conversion ----------------------------------------------------------------------------------

def test_converting_an_order_makes_an_invoice_with_the_same_lines_and_totals(oneup):
    buyer = customer(oneup, contacts=[{"first_name": "Ed", "last_name": "Smith", "address": CONTACT_ADDRESS}])
    order = _order(oneup, buyer=buyer, billing_contact_id=buyer["contacts"][0]["id"], po_number="PO-7",
                   public_note="Thanks", private_note="secret", payment_terms_id=terms_id(oneup, "Net 30"))
    invoice = oneup.ok("POST", f"/sales_orders/{order['id']}/convert", {"type": "invoice"})
    assert invoice["id"] != order["id"]
    assert invoice["user_code"] == "CINV-001"
    assert_seed_totals(invoice)
    for key in HEADER_KEYS:
        assert invoice[key] == order[key], key
    assert [{k: line[k] for k in LINE_KEYS} for line in invoice["order_lines"]] == \
        [{k: line[k] for k in LINE_KEYS} for line in order["order_lines"]]
    assert {line["id"] for line in invoice["order_lines"]}.isdisjoint(line["id"] for line in order["order_lines"])
    assert invoice["paid"] == 0 and invoice["unpaid"] == D("1140.2")
    assert oneup.ok("GET", f"/invoices/{invoice['id']}") == invoice
    converted = oneup.ok("GET", f"/sales_orders/{order['id']}")
    assert converted["invoice_status"] == 2
    assert converted["invoice_id"] == invoice["id"]
    assert converted["order_lines"] == order["order_lines"]
    # the invoice posts, the order still does not
    [transaction] = oneup.ok("GET", "/transactions")
    assert transaction["piece_number"] == "CINV-001"


def test_convert_without_a_body_means_invoice(oneup):
    order = _order(oneup)
    response = oneup.client.post(f"/oneup/v1/sales_orders/{order['id']}/convert", auth=oneup.auth)
    assert response.status_code == 200, response.text
    assert oneup.ok("GET", f"/sales_orders/{order['id']}")["invoice_id"] == response.json()["id"]


def test_converting_twice_is_3020(oneup):
    order = _order(oneup)
    oneup.ok("POST", f"/sales_orders/{order['id']}/convert", {"type": "invoice"})
    assert_error(oneup.post(f"/sales_orders/{order['id']}/convert", {"type": "invoice"}), "3020")
    assert len(oneup.ok("GET", "/invoices")) == 1


def test_converting_into_something_else_is_3021(oneup):
    order = _order(oneup)
    assert_error(oneup.post(f"/sales_orders/{order['id']}/convert", {"type": "quote"}), "3021")
    assert oneup.ok("GET", "/invoices") == []
    assert oneup.ok("GET", f"/sales_orders/{order['id']}")["invoice_status"] == 1


def test_converting_an_unknown_order_or_an_invoice_is_404(oneup):
    assert_error(oneup.post(f"/sales_orders/{UNKNOWN_ID}/convert", {"type": "invoice"}), "2")
    invoice = simple_invoice(oneup)
    assert_error(oneup.post(f"/sales_orders/{invoice['id']}/convert", {"type": "invoice"}), "2")
    assert_error(oneup.post(f"/sales_orders/{UNKNOWN_ID}/deliver", {"delivery_status": 3}), "2")


def test_a_partially_delivered_order_cannot_be_converted_nor_its_lines_changed(oneup, context, org):
    order = _order(oneup)
    delivered = oneup.ok("POST", f"/sales_orders/{order['id']}/deliver", {"delivery_status": 2})
    assert delivered["delivery_status"] == 2
    assert oneup.ok("GET", f"/sales_orders/{order['id']}")["delivery_status"] == 2
    before = book_snapshot(context, org.id)
    assert_error(oneup.post(f"/sales_orders/{order['id']}/convert", {"type": "invoice"}), "3025")
    lines = [{"id": line["id"], "quantity": D(1)} for line in order["order_lines"]]
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"order_lines": lines}), "3025")
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"order_lines": []}), "3025")
    assert book_snapshot(context, org.id) == before


def test_a_delivered_order_keeps_its_lines(oneup):
    order = _order(oneup)
    assert oneup.ok("POST", f"/sales_orders/{order['id']}/deliver", {"delivery_status": 3})["delivery_status"] == 3
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"order_lines": []}), "3025")


@pytest.mark.parametrize("status", [0, 4, -1])
def test_an_unknown_delivery_status_is_code_3(oneup, status):
    order = _order(oneup)
    assert_error(oneup.post(f"/sales_orders/{order['id']}/deliver", {"delivery_status": status}), "3")
    assert oneup.ok("GET", f"/sales_orders/{order['id']}")["delivery_status"] == 1


def test_a_delivery_status_of_the_wrong_type_is_code_5(oneup):
    order = _order(oneup)
    assert_error(oneup.post(f"/sales_orders/{order['id']}/deliver", {"delivery_status": "2"}), "5")


def test_a_converted_order_cannot_be_edited(oneup):
    order = _order(oneup)
    oneup.ok("POST", f"/sales_orders/{order['id']}/convert", {"type": "invoice"})
    converted = oneup.ok("GET", f"/sales_orders/{order['id']}")
    for body in ({"po_number": "changed"}, {"reduce_rate": D(0)}, {"order_lines": []}):
        assert_error(oneup.put(f"/sales_orders/{order['id']}", body), "3020")
    assert oneup.ok("GET", f"/sales_orders/{order['id']}") == converted


def test_deleting_the_invoice_reopens_the_order(oneup):
    order = _order(oneup)
    invoice = oneup.ok("POST", f"/sales_orders/{order['id']}/convert", {"type": "invoice"})
    oneup.ok("DELETE", f"/invoices/{invoice['id']}")
    reopened = oneup.ok("GET", f"/sales_orders/{order['id']}")
    assert reopened["invoice_status"] == 1
    assert reopened["invoice_id"] is None
    [posted, reversal] = oneup.ok("GET", "/transactions")  # the invoice's, reversed (issue 17 §8)
    assert reversal == assert_reversed(posted, [posted, reversal])
    edited = oneup.ok("PUT", f"/sales_orders/{order['id']}", {"po_number": "again"})
    assert edited["po_number"] == "again"
    second = oneup.ok("POST", f"/sales_orders/{order['id']}/convert", {"type": "invoice"})
    assert_seed_totals(second)
    assert oneup.ok("GET", f"/sales_orders/{order['id']}")["invoice_id"] == second["id"]


def test_a_sent_order_cannot_be_edited(oneup):
    order = _order(oneup)
    oneup.ok("PUT", f"/sales_orders/{order['id']}", {"sent": True})
    assert_error(oneup.put(f"/sales_orders/{order['id']}", {"po_number": "x"}), "3010")
    assert_error(oneup.delete(f"/sales_orders/{order['id']}"), "3010")


# -- filters, isolation --------------------------------------------------------------------------

def test_filters_and_sort_on_orders(oneup):
    alice, bob = customer(oneup, "Alice"), customer(oneup, "Bob")
    o1 = simple_invoice(oneup, alice, price="100", date="2024-01-10", path="/sales_orders")
    o2 = simple_invoice(oneup, bob, price="300", date="2024-02-10", path="/sales_orders")
    o3 = simple_invoice(oneup, alice, price="50", date="2024-02-10", path="/sales_orders")

    def ids(query):
        return [o["id"] for o in oneup.ok("GET", f"/sales_orders?{query}")]

    assert sorted(ids(f"customer_id=eq:{alice['id']}")) == [o1["id"], o3["id"]]
    assert sorted(ids("date=gte:2024-02-01")) == [o2["id"], o3["id"]]
    assert ids("total=gt:60") == [o1["id"], o2["id"]]
    assert ids("sort=-date,-id") == [o3["id"], o2["id"], o1["id"]]


def test_another_organization_cannot_see_or_touch_orders(oneup, other_oneup):
    order = _order(oneup)
    path = f"/sales_orders/{order['id']}"
    for response in (other_oneup.get(path), other_oneup.put(path, {"po_number": "X"}), other_oneup.delete(path),
                     other_oneup.post(path + "/convert", {"type": "invoice"}),
                     other_oneup.post(path + "/deliver", {"delivery_status": 3})):
        assert_error(response, "2")
    assert other_oneup.ok("GET", "/sales_orders") == []
    assert other_oneup.ok("GET", "/invoices") == []
    assert_error(other_oneup.post("/sales_orders", {"customer_id": order["customer_id"]}), "3")
    assert oneup.ok("GET", path) == order


def test_an_order_with_one_bad_line_leaves_no_trace(oneup, context, org):
    body = seed_body(oneup)
    body["order_lines"].append({"item_id": UNKNOWN_ID})
    before = book_snapshot(context, org.id)
    error = error_of(oneup.post("/sales_orders", body))
    assert error["code"] == "3"
    assert book_snapshot(context, org.id) == before
