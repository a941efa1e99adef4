"""Quipu contacts are the book's parties: OneUp's customers and vendors, Upflow's customers."""

from __future__ import annotations

from ..helpers import OneUpClient, book_snapshot
from .conftest import item, quipu_errors, relationship


def test_a_contact_round_trips_and_is_validated(quipu):
    contact = quipu.contact("ACME S.L.", tax_id="ESB85033470", phone="+34 600", email="acme@example.es",
                            address="Calle Mayor 1", town="Madrid", zip_code="28001", country_code="ES",
                            bank_account_number="ES9121000418450200051332", client_number="C-7")
    attributes = contact["attributes"]
    assert attributes | {"name": "ACME S.L.", "tax_id": "ESB85033470", "country_code": "es", "town": "Madrid",
                         "zip_code": "28001", "address": "Calle Mayor 1", "client_number": "C-7",
                         "bank_account_number": "ES9121000418450200051332", "is_client": True,
                         "is_supplier": False, "total_incomes": "0.0", "deletable": True} == attributes
    errors = quipu_errors(quipu.post("/contacts", {"data": {"type": "contacts", "attributes": {
        "bank_account_number": "ES0000", "email": "not an email"}}}), 422)
    assert {error["source"]["pointer"] for error in errors} == {
        "/data/attributes/name", "/data/attributes/bank_account_number", "/data/attributes/email"}


def test_a_taken_client_number_is_422_on_its_field(quipu):
    quipu.contact("First", client_number="C-1")
    errors = quipu_errors(quipu.post("/contacts", {"data": {"type": "contacts", "attributes": {
        "name": "Second", "client_number": "C-1"}}}), 422)
    assert errors[0]["source"]["pointer"] == "/data/attributes/client_number"


def test_oneup_customers_and_vendors_are_quipu_contacts_and_back(quipu, oneup: OneUpClient):
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "From OneUp"})
    oneup.ok("POST", "/vendors", {"type": 1, "company_name": "Vendor From OneUp"})
    listed = {row["attributes"]["name"]: row["attributes"] for row in quipu.ok("GET", "/contacts")["data"]}
    assert (listed["From OneUp"]["is_client"], listed["From OneUp"]["client_number"]) == (True, customer["user_code"])
    assert listed["Vendor From OneUp"]["is_supplier"] is True
    quipu.ok("PATCH", f"/contacts/{customer['id']}", {"data": {"type": "contacts", "attributes": {"name": "Renamed"}}})
    assert oneup.ok("GET", f"/customers/{customer['id']}")["company_name"] == "Renamed"


def test_contacts_become_customers_and_vendors_when_invoiced(quipu, oneup: OneUpClient):
    contact = quipu.contact("Both Sides S.L.")
    assert not oneup.ok("GET", "/customers") and not oneup.ok("GET", "/vendors")
    for kind in ("income", "expenses"):
        quipu.create("/invoices", "invoices", {"kind": kind, "issue_date": "2024-02-01"},
                     {"contact": relationship("contacts", contact["id"]), "items": {"data": [item("Work", "100")]}})
    assert [c["id"] for c in oneup.ok("GET", "/customers")] == [int(contact["id"])]
    assert [v["id"] for v in oneup.ok("GET", "/vendors")] == [int(contact["id"])]
    attributes = quipu.ok("GET", f"/contacts/{contact['id']}")["data"]["attributes"]
    assert (attributes["is_client"], attributes["is_supplier"]) == (True, True)
    assert (attributes["total_incomes"], attributes["total_expenses"]) == ("121.0", "121.0")


def test_deleting_a_contact_with_invoices_is_403_and_changes_nothing(quipu, context, org):
    contact = quipu.contact()
    quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-02-01"},
                 {"contact": relationship("contacts", contact["id"])})
    assert quipu.ok("GET", f"/contacts/{contact['id']}")["data"]["attributes"]["deletable"] is False
    before = book_snapshot(context, org.id)
    quipu_errors(quipu.delete(f"/contacts/{contact['id']}"), 403)
    assert book_snapshot(context, org.id) == before


def test_filters_and_sorts(quipu):
    quipu.contact("Beta", tax_id="B2", email="beta@example.com")
    quipu.contact("Alpha", tax_id="B1", supplier_number="S-1")
    names = lambda **params: [row["attributes"]["name"] for row in quipu.ok("GET", "/contacts", params=params)["data"]]
    assert names(sort="name") == ["Alpha", "Beta"]
    assert names(sort="-name") == ["Beta", "Alpha"]
    assert names(**{"filter[kind]": "supplier"}) == ["Alpha"]
    assert names(**{"filter[tax_id]": "B2"}) == ["Beta"]
    assert names(**{"filter[q]": "alp"}) == ["Alpha"]
    assert names(**{"filter[email]": "beta@example.com"}) == ["Beta"]
