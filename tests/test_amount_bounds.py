"""Amounts too large for the book are a refusal in each dialect's format, the same on both databases
(issue 16 §9): every computed amount (a line's, a document's totals, an entry) is checked against
money.AMOUNT_MAX (10^12), which both databases store exactly; nothing is written."""

from __future__ import annotations

from decimal import Decimal

from .helpers import OneUpClient, book_snapshot
from .oneup.sales_support import customer, item
from .quipu.conftest import QuipuClient, relationship
from .quipu.conftest import item as quipu_item
from .upflow.conftest import UpflowClient


def test_oneup_lines_whose_product_is_too_large_are_422_code_3(client, context, org):
    oneup = OneUpClient(client, org)
    buyer, thing = customer(oneup), item(oneup, "Thing", "1")
    accounts = {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}
    before = book_snapshot(context, org.id)
    for quantity, price in ((10_000, 1_000_000_000), (999_999_999_999, 999_999_999_999)):
        response = oneup.post("/invoices", {"customer_id": buyer["id"], "date": "2024-03-01", "order_lines": [
            {"item_id": thing["id"], "quantity": quantity, "unit_price_wt": price, "is_taxable": False}]})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "3" and "largest amount" in error["reason"], error
    response = oneup.post("/transactions", {"piece_number": "BIG", "date": "2024-03-01", "entries": [
        {"account_id": accounts["11100"]["id"], "way": "debit", "amount": Decimal(99999999999999)},
        {"account_id": accounts["40150"]["id"], "way": "credit", "amount": Decimal(99999999999999)}]})
    assert response.status_code == 422, response.text
    assert book_snapshot(context, org.id) == before
    # The largest amount below the bound is kept exactly.
    kept = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2024-03-01", "order_lines": [
        {"item_id": thing["id"], "quantity": 1, "unit_price_wt": Decimal("999999999999.99"), "is_taxable": False}]})
    assert kept["total"] == Decimal("999999999999.99")
    assert oneup.ok("GET", f"/invoices/{kept['id']}")["total"] == Decimal("999999999999.99")


def test_quipu_and_upflow_refuse_them_in_their_formats(client, context, org):
    quipu, upflow = QuipuClient(client, org), UpflowClient(client, org)
    contact = quipu.contact()
    upflow.request("POST", "/customers", {"externalId": "big-1", "name": "Big"})
    before = book_snapshot(context, org.id)
    refused = quipu.post("/invoices", {"data": {"type": "invoices", "attributes": {
        "kind": "income", "issue_date": "2024-03-01"}, "relationships": {
        "contact": relationship("contacts", contact["id"]),
        "items": {"data": [quipu_item("Big", "999999999999", 10_000, 0)]}}}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["source"]["pointer"].startswith("/data/")
    response = upflow.request("POST", "/invoices", {
        "externalId": "big-inv", "customId": "BIG-1", "issuedAt": "2024-03-01", "dueDate": "2024-04-01",
        "currency": "USD", "netAmount": 10 ** 16, "grossAmount": 10 ** 16, "customer": {"externalId": "big-1"}})
    assert response.status_code == 400, response.text
    assert response.json()["statusCode"] == 400
    assert book_snapshot(context, org.id) == before
