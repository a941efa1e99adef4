"""Regressions of the issues docs/dialects/oneup.md once listed as known (each one fixed)."""

from __future__ import annotations

from datetime import date, timedelta


def _customer_with_contact(oneup, address=None):
    return oneup.ok("POST", "/customers", {"type": 1, "company_name": "Buyer",
                                           "address": {"street_line1": "1 Main St", "city": "Boston"},
                                           "contacts": [{"last_name": "Smith", **({"address": address} if address else {})}]})


def _item(oneup):
    return oneup.ok("POST", "/items", {"type": 1, "name": "Work", "sales_price": 100})


def test_405_lists_every_method_of_the_path(oneup):
    response = oneup.post("/customers/1", {})
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE"}


def test_a_lettering_set_by_hand_survives_an_invoice_edit(oneup):
    customer, item = _customer_with_contact(oneup), _item(oneup)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "order_lines": [{"item_id": item["id"]}]})
    [transaction] = oneup.ok("GET", f"/transactions?piece_number=eq:{invoice['user_code']}")
    credit = next(e for e in transaction["entries"] if e["way"] == "credit")
    oneup.ok("PUT", f"/transactions/{transaction['id']}", {"entries": [
        {"id": e["id"], **({"lettering": "Q4-SALES"} if e["id"] == credit["id"] else {})} for e in transaction["entries"]]})
    oneup.ok("PUT", f"/invoices/{invoice['id']}", {"private_note": "edited"})
    [after] = oneup.ok("GET", f"/transactions?piece_number=eq:{invoice['user_code']}")
    assert [e["lettering"] for e in after["entries"] if e["way"] == "credit"] == ["Q4-SALES"]


def test_the_billing_address_falls_back_to_the_customer_when_the_contact_has_none(oneup):
    customer, item = _customer_with_contact(oneup), _item(oneup)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "billing_contact_id": customer["contacts"][0]["id"],
                                             "order_lines": [{"item_id": item["id"]}]})
    assert invoice["billing_address"]["street_line1"] == "1 Main St"


def test_a_new_customer_cannot_keep_the_old_customers_billing_contact(oneup):
    first, second, item = _customer_with_contact(oneup), _customer_with_contact(oneup), _item(oneup)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": first["id"], "billing_contact_id": first["contacts"][0]["id"],
                                             "order_lines": [{"item_id": item["id"]}]})
    assert oneup.put(f"/invoices/{invoice['id']}", {"customer_id": second["id"]}).status_code == 422


def test_computed_due_dates_filter_and_sort(oneup):
    customer, item = _customer_with_contact(oneup), _item(oneup)
    terms = {t["name"]: t["id"] for t in oneup.ok("GET", "/payment_terms")}
    today = date.today()
    net30 = oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "payment_terms_id": terms["Net 30"],
                                           "date": today.isoformat(), "order_lines": [{"item_id": item["id"]}]})
    due = (today + timedelta(days=30)).isoformat()
    assert net30["due_date"] == due
    assert [i["id"] for i in oneup.ok("GET", f"/invoices?due_date=eq:{due}")] == [net30["id"]]


def test_lines_that_cancel_out_make_a_zero_invoice(oneup):
    customer, item = _customer_with_contact(oneup), _item(oneup)
    invoice = oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "order_lines": [
        {"item_id": item["id"]}, {"item_id": item["id"], "quantity": -1}]})
    assert invoice["total"] == 0


def test_posting_accounts_cannot_be_deleted(oneup):
    receivable = next(a for a in oneup.ok("GET", "/accounts") if a["number"] == "11100")
    response = oneup.delete(f"/accounts/{receivable['id']}")
    assert response.status_code == 422
    assert "Posting rules" in response.json()["error"]["reason"]
