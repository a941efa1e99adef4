"""Shared set-up for the sales tests (invoices, sales orders, payments): reference data looked up
over HTTP the way a client does, customers and items, and the resources seed's worked example
(3 lines, 10% Federal Tax on the document, reduce 3.5% -> 1092.3 / 38.23 / 86.13 / 1140.2)."""

from __future__ import annotations

from decimal import Decimal

from ..helpers import OneUpClient, error_of

D = Decimal
SEED_MESSAGES = {
    "2": "The resource was not found.",
    "3": "The request does not respect the specification. Please see the documentation and double-check each field.",
    "30": "Business logic violation. The request cannot be fulfilled.",
    "3009": "This document has no installments.",
    "3010": "This document has been sent and cannot be edited nor deleted.",
    "3011": "Due date should be after the document date.",
    "3012": "Payment date should be after the document date.",
    "3013": "A mandatory field is missing.",
    "3019": "Amount should be strictly positive.",
    "3020": "The document is already converted.",
    "3021": "The document cannot be converted to the wanted type.",
    "3025": "The order has been partially or fully delivered.",
}
UNKNOWN_ID = 987654

CUSTOMER_ADDRESS = {"street_line1": "567 Sutter St.", "postal_code": "94102", "city": "San Francisco",
                    "country": "United States", "locality": "California"}
CUSTOMER_SHIPPING = {"street_line1": "Rue Henri Delaunay", "postal_code": "93210", "city": "Saint-Denis",
                     "country": "France"}
CONTACT_ADDRESS = {"street_line1": "57 Benjamin Franklin Street", "city": "San Francisco", "country": "USA",
                   "locality": "California"}


def assert_error(response, code: str) -> dict:
    """The response is the OneUp error `code` (422 unless the code says otherwise), with the seed's message."""
    status = {"2": 404, "5": 400}.get(code, 422)
    assert response.status_code == status, (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == code, error
    if code in SEED_MESSAGES:
        assert error["message"] == SEED_MESSAGES[code], error
    return error


def tax_id(oneup: OneUpClient, name: str) -> int:
    return next(tax["id"] for tax in oneup.ok("GET", "/taxes") if tax["name"] == name)


def terms_id(oneup: OneUpClient, name: str) -> int:
    return next(terms["id"] for terms in oneup.ok("GET", "/payment_terms") if terms["name"] == name)


def account_id(oneup: OneUpClient, number: str) -> int:
    accounts = oneup.ok("GET", f"/accounts?number=eq:{number}")
    assert len(accounts) == 1, accounts
    return accounts[0]["id"]


def customer(oneup: OneUpClient, name: str = "Acme Corp", **extra) -> dict:
    return oneup.ok("POST", "/customers", {"type": 1, "company_name": name, "address": CUSTOMER_ADDRESS, **extra})


def item(oneup: OneUpClient, name: str, price: str | Decimal = "0", description: str = "") -> dict:
    return oneup.ok("POST", "/items", {"type": 2, "name": name, "sales_price": D(price), "description": description})


def seed_items(oneup: OneUpClient) -> list[dict]:
    return [item(oneup, "Soccer ball", "15.0", "A ball."),
            item(oneup, "Stickers album", "9.99", "A beautiful stickers album about Soccer.\n- Limited Edition -"),
            item(oneup, "Stickers pack", "1.5", "Stickers.")]


def seed_lines(items: list[dict]) -> list[dict]:
    ball, album, stickers = items
    return [
        {"item_id": ball["id"], "quantity": D("50.0"), "unit_price_wt": D("15.0"), "discount_rate": D("0.0"),
         "is_taxable": True},
        {"item_id": stickers["id"], "description": "10 random stickers for WC2014 album.", "quantity": D("100.0"),
         "unit_price_wt": D("1.5"), "discount_rate": D("5.0"), "is_taxable": True},
        {"item_id": album["id"], "quantity": D("20.0"), "unit_price_wt": D("9.99"), "discount_rate": D("0.0"),
         "is_taxable": False},
    ]


def seed_body(oneup: OneUpClient, buyer: dict | None = None, **extra) -> dict:
    """The body of the seed's example document, for a US organization."""
    buyer = buyer or customer(oneup)
    return {"customer_id": buyer["id"], "tax_id": tax_id(oneup, "10% Federal Tax"), "reduce_rate": D("3.5"),
            "date": "2014-05-07", "order_lines": seed_lines(seed_items(oneup)), **extra}


def seed_document(oneup: OneUpClient, path: str = "/invoices", **extra) -> dict:
    return oneup.ok("POST", path, seed_body(oneup, **extra))


def assert_seed_totals(document: dict) -> None:
    assert document["subtotal"] == D("1092.3")
    assert document["reduce_amount"] == D("38.23")
    assert document["tax_amount"] == D("86.13")
    assert document["total"] == D("1140.2")
    assert [line["total"] for line in document["order_lines"]] == [D("750"), D("142.5"), D("199.8")]


def simple_invoice(oneup: OneUpClient, buyer: dict | None = None, price: str = "100", quantity: str = "1",
                   path: str = "/invoices", **extra) -> dict:
    """An untaxed one-line document (total = price x quantity)."""
    buyer = buyer or customer(oneup)
    thing = item(oneup, f"Thing {price}", price)
    body = {"customer_id": buyer["id"], "date": "2024-03-01",
            "order_lines": [{"item_id": thing["id"], "quantity": D(quantity), "is_taxable": False}], **extra}
    return oneup.ok("POST", path, body)


def transactions_of(oneup: OneUpClient, piece_number: str) -> list[dict]:
    return oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")


def entry_sums(transaction: dict, account_ids: dict[str, int]) -> dict[tuple[str, str], Decimal]:
    """{(account number, way): amount} of a transaction's entries."""
    numbers = {value: key for key, value in account_ids.items()}
    sums: dict[tuple[str, str], Decimal] = {}
    for entry in transaction["entries"]:
        key = (numbers.get(entry["account_id"], str(entry["account_id"])), entry["way"])
        sums[key] = sums.get(key, D(0)) + entry["amount"]
    return sums
