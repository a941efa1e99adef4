"""Customers, vendors and their contacts and addresses, then items and item families, as the
resources seed describes them (seeds/oneup-v1-resources.txt): generated names and addresses,
defaults, automatic codes, references, and the list-replacement rule of the conventions seed on
contacts. Everything goes through the real app over HTTP."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from comptoir.services.tenancy.organizations import create_organization

from ..helpers import OneUpClient, book_snapshot, error_of

SEED_MESSAGES = {
    "3": "The request does not respect the specification. Please see the documentation and double-check each field.",
    "3013": "A mandatory field is missing.",
    "3014": "A field that should be left empty contains an actual value.",
    "5": "The request was not parsed. Please double-check the content of the request.",
}
STATUS_OF = {"3": 422, "3013": 422, "3014": 422, "5": 400}

COMPANY = {"type": 1, "company_name": "Acme Corp"}
PERSON = {"type": 2, "first_name": "Jane", "last_name": "Doe"}
SERVICE = {"type": 1, "name": "Consulting"}
PRODUCT = {"type": 2, "name": "Nintendo Wii"}
UNKNOWN_ID = 987654

EMPTY_ADDRESS = {"street_line1": "", "street_line2": "", "street_line3": "", "postal_code": "", "city": "",
                 "country": "", "locality": "N/A", "short_locality": "N/A", "full_address": ""}
SEED_CUSTOMER_ADDRESS = {  # the customers seed's JSON example
    "street_line1": "567 Sutter St.",
    "street_line2": "",
    "street_line3": "",
    "postal_code": "94102",
    "city": "San Francisco",
    "country": "United States",
    "locality": "California",
    "short_locality": "CA",
    "full_address": "567 Sutter St. San Francisco CA 94102 United States",
}
SEED_VENDOR_ADDRESS = {  # the vendors seed's JSON example
    "street_line1": "Regular street",
    "street_line2": "Block G",
    "street_line3": "Floor 5",
    "postal_code": "77 837",
    "city": "San Francisco",
    "country": "USA",
    "locality": "California",
    "short_locality": "CA",
    "full_address": "Regular street Block G Floor 5 San Francisco CA 77 837 USA",
}
SEED_CONTACT_ADDRESS = {  # the contact seed's JSON example
    "street_line1": "21 Backer street",
    "street_line2": "Building D",
    "street_line3": "Fifth Floor",
    "postal_code": "94109",
    "city": "San Francisco",
    "country": "USA",
    "locality": "California",
    "short_locality": "CA",
    "full_address": "21 Backer street Building D Fifth Floor San Francisco CA 94109 USA",
}


def writable(address: dict) -> dict:
    return {key: value for key, value in address.items() if key not in ("short_locality", "full_address")}


def assert_error(response, code: str) -> dict:
    """The response is the seed's error `code`, with the seed's status and message."""
    assert response.status_code == STATUS_OF[code], (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == code, error
    assert error["message"] == SEED_MESSAGES[code], error
    return error


def book_changes(before: dict, after: dict) -> dict:
    """The rows a request removed and added, per table: {} when the book is unchanged."""
    changes = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        removed, added = [row for row in old if row not in new], [row for row in new if row not in old]
        if removed or added:
            changes[table] = {"removed": removed, "added": added}
    return changes


def assert_unchanged(context, org, before: dict) -> None:
    assert book_changes(before, book_snapshot(context, org.id)) == {}


def create(oneup, collection: str, body: dict) -> dict:
    return oneup.ok("POST", f"/{collection}", body)


def fetch(oneup, collection: str, element_id: int) -> dict:
    return oneup.ok("GET", f"/{collection}/{element_id}")


def ids_by_name(oneup, collection: str) -> dict[str, int]:
    return {row["name"]: row["id"] for row in oneup.ok("GET", f"/{collection}")}


# == contacts: the list-replacement rule ==========================================================


@pytest.mark.parametrize("collection", ["customers", "vendors"])
def test_the_seed_contacts_example(oneup, collection):
    """Current list Ed Smith + John Doe; sending [{id: John, email}, {James Brown}] deletes Ed,
    updates John's email and creates James Brown."""
    party = create(oneup, collection, {**COMPANY, "contacts": [
        {"first_name": "Ed", "last_name": "Smith", "email": ""},
        {"first_name": "John", "last_name": "Doe", "email": "", "work_phone": "(415) 555-5678"},
    ]})
    ed, john = party["contacts"]
    assert (ed["full_name"], john["full_name"]) == ("Ed Smith", "John Doe")
    assert ed["id"] != john["id"]

    updated = oneup.ok("PUT", f"/{collection}/{party['id']}", {"contacts": [
        {"id": john["id"], "email": "john@new.example"},
        {"first_name": "James", "last_name": "Brown", "email": ""},
    ]})

    contacts = {contact["id"]: contact for contact in updated["contacts"]}
    assert len(updated["contacts"]) == 2
    assert ed["id"] not in contacts
    assert contacts.pop(john["id"]) == {**john, "email": "john@new.example"}
    [(james_id, james)] = contacts.items()
    assert james_id not in (ed["id"], john["id"])
    assert james == {
        "id": james_id, "first_name": "James", "last_name": "Brown", "full_name": "James Brown",
        "cell_phone": "", "cell_number": "", "work_phone": "", "home_phone": "", "email": "",
        "address": EMPTY_ADDRESS, "note": "",
    }
    assert fetch(oneup, collection, party["id"]) == updated


@pytest.mark.parametrize("collection", ["customers", "vendors"])
def test_an_empty_contact_list_deletes_every_contact(oneup, collection):
    party = create(oneup, collection, {**COMPANY, "contacts": [{"last_name": "Smith"}, {"last_name": "Doe"}]})
    updated = oneup.ok("PUT", f"/{collection}/{party['id']}", {"contacts": []})
    assert updated["contacts"] == []
    assert fetch(oneup, collection, party["id"]) == {**party, "contacts": [], "updated_at": updated["updated_at"]}


@pytest.mark.parametrize("collection", ["customers", "vendors"])
def test_omitting_contacts_leaves_them_unchanged(oneup, collection):
    party = create(oneup, collection, {**COMPANY, "contacts": [
        {"first_name": "Ed", "last_name": "Smith", "email": "ed@x.test"}, {"last_name": "Doe"}]})
    updated = oneup.ok("PUT", f"/{collection}/{party['id']}", {"phone_number": "555"})
    assert updated["contacts"] == party["contacts"]
    assert fetch(oneup, collection, party["id"])["contacts"] == party["contacts"]


def test_sending_the_same_contacts_back_keeps_their_ids(oneup):
    customer = create(oneup, "customers", {**COMPANY, "contacts": [{"last_name": "Smith"}, {"last_name": "Doe"}]})
    updated = oneup.ok("PUT", f"/customers/{customer['id']}",
                       {"contacts": [{"id": c["id"]} for c in customer["contacts"]]})
    assert updated["contacts"] == customer["contacts"]


def test_a_contact_update_keeps_the_fields_it_does_not_send(oneup):
    customer = create(oneup, "customers", {**COMPANY, "contacts": [{
        "first_name": "François", "last_name": "Nadal", "cell_phone": "(415) 555-1234",
        "work_phone": "(415) 555-5678", "home_phone": "(415) 555-0000", "email": "francois.nadal@oneup.com",
        "address": writable(SEED_CONTACT_ADDRESS), "note": "A contact that worth to know.\nLike to surf."}]})
    [contact] = customer["contacts"]
    assert contact["full_name"] == "François Nadal"
    assert contact["address"] == SEED_CONTACT_ADDRESS

    updated = oneup.ok("PUT", f"/customers/{customer['id']}",
                       {"contacts": [{"id": contact["id"], "last_name": "Nadal-Roux", "address": {"city": "Oakland"}}]})

    assert updated["contacts"] == [{
        **contact, "last_name": "Nadal-Roux", "full_name": "François Nadal-Roux",
        "address": {**SEED_CONTACT_ADDRESS, "city": "Oakland",
                    "full_address": "21 Backer street Building D Fifth Floor Oakland CA 94109 USA"},
    }]


def test_a_contact_cell_number_is_the_cell_phone(oneup):
    """The vendor example writes the contact's cell phone as `cell_number`."""
    vendor = create(oneup, "vendors", {**COMPANY, "contacts": [{"last_name": "Vendor", "cell_number": "555 1"}]})
    [contact] = vendor["contacts"]
    assert (contact["cell_phone"], contact["cell_number"]) == ("555 1", "555 1")


@pytest.mark.parametrize("foreign", ["other customer", "vendor", "deleted", "unknown", "other organization"])
def test_a_contact_id_that_is_not_in_the_list_is_refused_and_changes_nothing(oneup, other_oneup, context, org,
                                                                               other_org, foreign):
    customer = create(oneup, "customers", {**COMPANY, "contacts": [{"first_name": "Ed", "last_name": "Smith"},
                                                                    {"first_name": "John", "last_name": "Doe"}]})
    if foreign == "other customer":
        other = create(oneup, "customers", {**PERSON, "contacts": [{"first_name": "Ann", "last_name": "Lee"}]})
        foreign_id = other["contacts"][0]["id"]
    elif foreign == "vendor":
        foreign_id = create(oneup, "vendors", {**COMPANY, "contacts": [{"last_name": "Lee"}]})["contacts"][0]["id"]
    elif foreign == "deleted":
        foreign_id = customer["contacts"][0]["id"]  # Ed, deleted by this update
        customer = oneup.ok("PUT", f"/customers/{customer['id']}", {"contacts": [{"id": customer["contacts"][1]["id"]}]})
    elif foreign == "unknown":
        foreign_id = UNKNOWN_ID
    else:
        foreign_id = create(other_oneup, "customers", {**COMPANY, "contacts": [{"last_name": "Lee"}]})["contacts"][0]["id"]
    before, other_before = book_snapshot(context, org.id), book_snapshot(context, other_org.id)

    response = oneup.put(f"/customers/{customer['id']}", {"contacts": [
        {"id": customer["contacts"][-1]["id"], "email": "kept@x.test"},
        {"id": foreign_id, "first_name": "Stolen", "last_name": "Contact"},
        {"first_name": "James", "last_name": "Brown"},
    ]})

    error = assert_error(response, "3")
    assert "contacts" in error["reason"]
    assert_unchanged(context, org, before)
    assert_unchanged(context, other_org, other_before)
    assert fetch(oneup, "customers", customer["id"]) == customer


def test_the_same_contact_id_twice_is_refused(oneup, context, org):
    customer = create(oneup, "customers", {**COMPANY, "contacts": [{"last_name": "Smith"}]})
    contact_id = customer["contacts"][0]["id"]
    before = book_snapshot(context, org.id)
    response = oneup.put(f"/customers/{customer['id']}", {"contacts": [{"id": contact_id, "last_name": "A"},
                                                                       {"id": contact_id, "last_name": "B"}]})
    assert_error(response, "3")
    assert_unchanged(context, org, before)


# == customers ===================================================================================


def test_a_company_full_name_is_its_company_name(oneup):
    customer = create(oneup, "customers", {"type": 1, "company_name": "OneUp"})
    assert (customer["full_name"], customer["company_name"]) == ("OneUp", "OneUp")
    assert not {"first_name", "middle_name", "last_name"} & set(customer)  # individual only

    renamed = oneup.ok("PUT", f"/customers/{customer['id']}", {"company_name": "OneUp Inc."})
    assert renamed["full_name"] == "OneUp Inc."


@pytest.mark.parametrize("names, full_name", [
    ({"first_name": "John", "middle_name": "Fitzgerald", "last_name": "Kennedy"}, "John Fitzgerald Kennedy"),
    ({"first_name": "John", "last_name": "Kennedy"}, "John Kennedy"),
    ({"middle_name": "F.", "last_name": "Kennedy"}, "F. Kennedy"),
    ({"last_name": "Kennedy"}, "Kennedy"),
])
def test_an_individual_full_name_is_first_middle_last(oneup, names, full_name):
    customer = create(oneup, "customers", {"type": 2, **names})
    assert customer["full_name"] == full_name
    assert {name: customer[name] for name in ("first_name", "middle_name", "last_name")} == {
        "first_name": "", "middle_name": "", **names}
    assert "company_name" not in customer  # company only
    assert fetch(oneup, "customers", customer["id"])["full_name"] == full_name


def test_an_individual_full_name_follows_name_updates(oneup):
    customer = create(oneup, "customers", {"type": 2, "first_name": "John", "last_name": "Kennedy"})
    updated = oneup.ok("PUT", f"/customers/{customer['id']}", {"middle_name": "Fitzgerald"})
    assert updated["full_name"] == "John Fitzgerald Kennedy"
    updated = oneup.ok("PUT", f"/customers/{customer['id']}", {"first_name": ""})
    assert updated["full_name"] == "Fitzgerald Kennedy"


def test_an_individual_can_become_a_company(oneup):
    customer = create(oneup, "customers", {"type": 2, "first_name": "John", "last_name": "Kennedy"})
    company = oneup.ok("PUT", f"/customers/{customer['id']}", {"type": 1, "company_name": "Kennedy LLC"})
    assert (company["type"], company["full_name"], company["company_name"]) == (1, "Kennedy LLC", "Kennedy LLC")
    assert not {"first_name", "middle_name", "last_name"} & set(company)


def test_a_customer_address_is_rendered_as_in_the_seed_example(oneup):
    customer = create(oneup, "customers", {**COMPANY, "address": writable(SEED_CUSTOMER_ADDRESS),
                                           "shipping_address": writable(SEED_CUSTOMER_ADDRESS)})
    assert customer["address"] == SEED_CUSTOMER_ADDRESS
    assert customer["shipping_address"] == SEED_CUSTOMER_ADDRESS
    assert fetch(oneup, "customers", customer["id"])["address"] == SEED_CUSTOMER_ADDRESS


def test_a_customer_without_address_shows_empty_addresses(oneup):
    customer = create(oneup, "customers", COMPANY)
    assert customer["address"] == EMPTY_ADDRESS
    assert customer["shipping_address"] == EMPTY_ADDRESS


def test_a_locality_without_a_known_short_code(oneup):
    customer = create(oneup, "customers", {**COMPANY, "address": {
        "street_line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "France",
        "locality": "Île-de-France"}})
    assert customer["address"]["locality"] == "Île-de-France"
    assert customer["address"]["short_locality"] == "N/A"
    assert customer["address"]["full_address"] == "1 rue de Rivoli Paris 75001 France"


def test_customer_defaults(oneup):
    me = oneup.ok("GET", "/me")
    due_on_receipt = ids_by_name(oneup, "payment_terms")["Due on receipt"]
    [main_currency] = [c["iso_code"] for c in oneup.ok("GET", "/currencies") if c["is_main_currency"]]
    assert main_currency == "USD"

    customer = create(oneup, "customers", COMPANY)

    assert customer["status"] == 1
    assert customer["payment_terms"] == {"id": due_on_receipt, "name": "Due on receipt"}
    assert customer["currency_iso_code"] == "USD"
    assert customer["assigned_to"] == {"id": me["id"], "first_name": me["first_name"],
                                       "last_name": me["last_name"], "user_code": me["user_code"]}
    assert customer["assigned_to"]["user_code"] == "EMP-001"
    assert customer["opt_in_email"] is False
    assert customer["contacts"] == []
    assert fetch(oneup, "customers", customer["id"]) == customer


def test_the_default_currency_is_the_organization_currency(client, context):
    euro_org = create_organization(context.database, "Euro Company", currency="EUR", country="FR")
    oneup = OneUpClient(client, euro_org)
    assert create(oneup, "customers", COMPANY)["currency_iso_code"] == "EUR"
    vendor = create(oneup, "vendors", COMPANY)
    assert (vendor["currency_iso_code"], vendor["currency"]) == ("EUR", "EUR")


def test_customer_fields_are_stored_as_sent(oneup):
    taxes, terms = ids_by_name(oneup, "taxes"), ids_by_name(oneup, "payment_terms")
    employee = create(oneup, "employees", {"first_name": "John", "last_name": "Smith"})
    body = {
        "type": 1, "status": 2, "company_name": "OneUp", "phone_number": "(415) 779-6536",
        "email": "support@oneup.com", "website": "www.oneup.com",
        "payment_terms": {"id": terms["Net 30"], "name": "ignored"},
        "currency_iso_code": "EUR",
        "sales_tax": {"id": taxes["8.25% California Sales Tax"]},
        "user_code": "CUS-018", "opt_in_email": True, "notes": "- OneUp -\nRun your business in the Cloud",
        "assigned_to": {"id": employee["id"]}, "employee_count": 1, "taxpayer_id": "123456789",
        "industry": "Apparel", "incorporation_status": "C-Corporation", "rating": "Cold",
    }
    customer = create(oneup, "customers", body)
    expected = {
        **body,
        "payment_terms": {"id": terms["Net 30"], "name": "Net 30"},
        "sales_tax": {"id": taxes["8.25% California Sales Tax"], "name": "8.25% California Sales Tax",
                      "rate": Decimal("8.25")},
        "assigned_to": {"id": employee["id"], "first_name": "John", "last_name": "Smith",
                        "user_code": employee["user_code"]},
    }
    assert {key: customer[key] for key in expected} == expected
    assert customer["full_name"] == "OneUp"
    assert fetch(oneup, "customers", customer["id"]) == customer


def test_customer_codes_are_generated_in_sequence_and_explicit_ones_kept(oneup, other_oneup):
    codes = [create(oneup, "customers", COMPANY)["user_code"] for _ in range(2)]
    assert codes == ["CUS-001", "CUS-002"]
    assert create(oneup, "customers", {**COMPANY, "user_code": "VIP-7"})["user_code"] == "VIP-7"
    assert create(oneup, "customers", COMPANY)["user_code"] == "CUS-003"
    assert create(oneup, "customers", {**COMPANY, "user_code": "CUS-004"})["user_code"] == "CUS-004"
    assert create(oneup, "customers", COMPANY)["user_code"] == "CUS-005"  # CUS-004 is taken
    assert create(other_oneup, "customers", COMPANY)["user_code"] == "CUS-001"  # per organization


def test_a_customer_code_can_be_changed_and_is_then_kept(oneup):
    customer = create(oneup, "customers", COMPANY)
    assert oneup.ok("PUT", f"/customers/{customer['id']}", {"user_code": "KEY-1"})["user_code"] == "KEY-1"
    assert oneup.ok("PUT", f"/customers/{customer['id']}", {"phone_number": "1"})["user_code"] == "KEY-1"


def test_a_duplicate_customer_code_is_422_code_3_naming_user_code(oneup, context, org):
    first = create(oneup, "customers", {**COMPANY, "user_code": "CUS-100"})
    second = create(oneup, "customers", PERSON)
    before = book_snapshot(context, org.id)

    error = assert_error(oneup.post("/customers", {**COMPANY, "user_code": "CUS-100"}), "3")
    assert "user_code" in error["reason"]
    error = assert_error(oneup.put(f"/customers/{second['id']}", {"user_code": "CUS-100", "phone_number": "1"}), "3")
    assert "user_code" in error["reason"]

    assert_unchanged(context, org, before)
    assert fetch(oneup, "customers", first["id"]) == first
    assert fetch(oneup, "customers", second["id"]) == second


def test_the_same_code_in_another_organization_is_no_duplicate(oneup, other_oneup):
    create(oneup, "customers", {**COMPANY, "user_code": "SHARED-1"})
    assert create(other_oneup, "customers", {**COMPANY, "user_code": "SHARED-1"})["user_code"] == "SHARED-1"


@pytest.mark.parametrize("field, value", [
    ("sales_tax", {"id": UNKNOWN_ID}),
    ("payment_terms", {"id": UNKNOWN_ID}),
    ("assigned_to", {"id": UNKNOWN_ID}),
    ("price_family", {"id": UNKNOWN_ID}),
    ("currency_iso_code", "XYZ"),
])
def test_a_reference_to_something_unknown_is_422_code_3(oneup, context, org, field, value):
    before = book_snapshot(context, org.id)
    error = assert_error(oneup.post("/customers", {**COMPANY, field: value}), "3")
    assert field in error["reason"]
    assert_unchanged(context, org, before)

    customer = create(oneup, "customers", COMPANY)
    error = assert_error(oneup.put(f"/customers/{customer['id']}", {"phone_number": "1", field: value}), "3")
    assert field in error["reason"]
    assert fetch(oneup, "customers", customer["id"]) == customer


@pytest.mark.parametrize("field", ["sales_tax", "payment_terms", "assigned_to"])
def test_a_reference_to_another_organization_is_422_code_3(oneup, other_oneup, context, org, field):
    other_id = {
        "sales_tax": lambda: other_oneup.ok("GET", "/taxes")[1]["id"],
        "payment_terms": lambda: other_oneup.ok("GET", "/payment_terms")[2]["id"],
        "assigned_to": lambda: other_oneup.ok("GET", "/me")["id"],
    }[field]()
    before = book_snapshot(context, org.id)
    error = assert_error(oneup.post("/customers", {**COMPANY, field: {"id": other_id}}), "3")
    assert field in error["reason"]
    assert_unchanged(context, org, before)


def test_an_unknown_reference_with_contact_changes_is_422_code_3(oneup):
    """The reference is checked as such even when the same request also rewrites the contacts."""
    customer = create(oneup, "customers", {**COMPANY, "contacts": [{"last_name": "Smith"}]})
    response = oneup.put(f"/customers/{customer['id']}", {"sales_tax": {"id": UNKNOWN_ID},
                                                         "contacts": [{"last_name": "Brown"}]})
    error = assert_error(response, "3")
    assert "sales_tax" in error["reason"]
    assert fetch(oneup, "customers", customer["id"]) == customer


# == vendors =====================================================================================


def test_vendor_codes_are_generated_in_sequence(oneup):
    create(oneup, "customers", COMPANY)  # customers have their own sequence
    codes = [create(oneup, "vendors", COMPANY)["user_code"] for _ in range(2)]
    assert codes == ["SUP-001", "SUP-002"]
    assert create(oneup, "vendors", {**COMPANY, "user_code": "SUP-900"})["user_code"] == "SUP-900"
    assert create(oneup, "vendors", COMPANY)["user_code"] == "SUP-003"


def test_a_duplicate_vendor_code_is_422_code_3_naming_user_code(oneup, context, org):
    create(oneup, "vendors", {**COMPANY, "user_code": "SUP-002"})
    before = book_snapshot(context, org.id)
    error = assert_error(oneup.post("/vendors", {**COMPANY, "user_code": "SUP-002"}), "3")
    assert "user_code" in error["reason"]
    assert_unchanged(context, org, before)


def test_the_seed_vendor_example(oneup):
    terms = ids_by_name(oneup, "payment_terms")
    body = {
        "type": 1, "company_name": "Regular Vendor", "address": writable(SEED_VENDOR_ADDRESS),
        "phone_number": "555 7890 888", "email": "regular.vendor@gmail.com", "website": "regularvendor.com",
        "contacts": [{"first_name": "Regular", "last_name": "Vendor", "cell_number": "", "work_phone": "888 7654 333",
                      "home_phone": "", "email": "r.vendor@mail.com", "note": "This contact is pretty regular."}],
        "currency": "USD", "payment_terms_id": terms["Due on receipt"], "taxpayer_id_number": "SE OIU 90",
        "user_code": "SUP-002", "note": "This vendor is pretty regular.",
    }
    vendor = create(oneup, "vendors", body)
    expected = {
        **body,
        "full_name": "Regular Vendor",
        "address": SEED_VENDOR_ADDRESS,
        "currency_iso_code": "USD",
        "contacts": [{"id": vendor["contacts"][0]["id"], "first_name": "Regular", "last_name": "Vendor",
                      "full_name": "Regular Vendor", "cell_phone": "", "cell_number": "",
                      "work_phone": "888 7654 333", "home_phone": "", "email": "r.vendor@mail.com",
                      "address": EMPTY_ADDRESS, "note": "This contact is pretty regular."}],
    }
    assert {key: vendor[key] for key in expected} == expected
    assert fetch(oneup, "vendors", vendor["id"]) == vendor


def test_vendor_defaults(oneup):
    vendor = create(oneup, "vendors", {"type": 2, "first_name": "Ann", "last_name": "Lee"})
    assert vendor["payment_terms_id"] == ids_by_name(oneup, "payment_terms")["Due on receipt"]
    assert (vendor["currency_iso_code"], vendor["currency"]) == ("USD", "USD")
    assert (vendor["note"], vendor["taxpayer_id_number"]) == ("", "")
    assert vendor["full_name"] == "Ann Lee"
    assert vendor["user_code"] == "SUP-001"


def test_vendor_note_taxpayer_id_number_and_payment_terms_id_update(oneup):
    terms = ids_by_name(oneup, "payment_terms")
    vendor = create(oneup, "vendors", {**COMPANY, "note": "first", "taxpayer_id_number": "TIN-1"})
    assert (vendor["note"], vendor["taxpayer_id_number"]) == ("first", "TIN-1")

    updated = oneup.ok("PUT", f"/vendors/{vendor['id']}", {"note": "second", "payment_terms_id": terms["Net 45"]})
    assert updated == {**vendor, "note": "second", "payment_terms_id": terms["Net 45"],
                       "updated_at": updated["updated_at"]}
    updated = oneup.ok("PUT", f"/vendors/{vendor['id']}", {"taxpayer_id_number": "TIN-2"})
    assert (updated["note"], updated["taxpayer_id_number"], updated["payment_terms_id"]) == (
        "second", "TIN-2", terms["Net 45"])


def test_vendor_currency_and_currency_iso_code_are_the_same_field(oneup):
    vendor = create(oneup, "vendors", {**COMPANY, "currency": "EUR"})
    assert (vendor["currency"], vendor["currency_iso_code"]) == ("EUR", "EUR")
    updated = oneup.ok("PUT", f"/vendors/{vendor['id']}", {"currency_iso_code": "GBP"})
    assert (updated["currency"], updated["currency_iso_code"]) == ("GBP", "GBP")
    updated = oneup.ok("PUT", f"/vendors/{vendor['id']}", {"currency": "CAD"})
    assert (updated["currency"], updated["currency_iso_code"]) == ("CAD", "CAD")
    assert fetch(oneup, "vendors", vendor["id"])["currency"] == "CAD"


@pytest.mark.parametrize("field, value", [
    ("payment_terms_id", UNKNOWN_ID), ("currency", "XYZ"), ("currency_iso_code", "XYZ"),
])
def test_a_vendor_reference_to_something_unknown_is_422_code_3(oneup, context, org, field, value):
    before = book_snapshot(context, org.id)
    assert_error(oneup.post("/vendors", {**COMPANY, field: value}), "3")
    assert_unchanged(context, org, before)


def test_a_vendor_payment_term_of_another_organization_is_422_code_3(oneup, other_oneup):
    other_term = other_oneup.ok("GET", "/payment_terms")[0]["id"]
    assert_error(oneup.post("/vendors", {**COMPANY, "payment_terms_id": other_term}), "3")
    assert oneup.ok("GET", "/vendors") == []


# == items =======================================================================================


def units(oneup) -> dict[int, dict]:
    return {unit["id"]: unit for unit in oneup.ok("GET", "/units")}


def test_item_numbers_are_generated_in_sequence_and_explicit_ones_kept(oneup, other_oneup):
    assert [create(oneup, "items", SERVICE)["item_number"] for _ in range(2)] == ["ITM-001", "ITM-002"]
    assert create(oneup, "items", {**PRODUCT, "item_number": "WII-1"})["item_number"] == "WII-1"
    assert create(oneup, "items", PRODUCT)["item_number"] == "ITM-003"
    assert create(other_oneup, "items", SERVICE)["item_number"] == "ITM-001"


def test_a_duplicate_item_number_is_422_code_3_naming_item_number(oneup, context, org):
    create(oneup, "items", {**SERVICE, "item_number": "ITM-012"})
    before = book_snapshot(context, org.id)
    error = assert_error(oneup.post("/items", {**PRODUCT, "item_number": "ITM-012"}), "3")
    assert "item_number" in error["reason"]
    assert_unchanged(context, org, before)


def test_a_service_defaults_to_the_day_unit_and_hides_product_fields(oneup):
    service = create(oneup, "items", SERVICE)
    unit = units(oneup)[service["unit_id"]]
    assert (unit["name"], unit["type"]) == ("Day", 6)
    assert fetch(oneup, "units", service["unit_id"]) == unit
    assert service["sales_price"] == 0
    assert not {"purchase_price", "net_weight", "width", "length", "height", "dimension_unit_id"} & set(service)
    assert fetch(oneup, "items", service["id"]) == service


def test_a_product_defaults_to_the_piece_unit_and_meter_dimensions(oneup):
    product = create(oneup, "items", PRODUCT)
    all_units = units(oneup)
    assert (all_units[product["unit_id"]]["name"], all_units[product["unit_id"]]["type"]) == ("Piece", 1)
    dimension = all_units[product["dimension_unit_id"]]
    assert (dimension["name"], dimension["type"]) == ("Meter", 3)
    assert {name: product[name] for name in ("sales_price", "purchase_price", "net_weight", "width", "length",
                                             "height")} == dict.fromkeys(
        ("sales_price", "purchase_price", "net_weight", "width", "length", "height"), 0)


def test_explicit_units_are_kept(oneup):
    by_name = {unit["name"]: unit_id for unit_id, unit in units(oneup).items()}
    service = create(oneup, "items", {**SERVICE, "unit_id": by_name["Hour"]})
    assert service["unit_id"] == by_name["Hour"]
    product = create(oneup, "items", {**PRODUCT, "unit_id": by_name["Kilogram"],
                                      "dimension_unit_id": by_name["Centimeter"]})
    assert (product["unit_id"], product["dimension_unit_id"]) == (by_name["Kilogram"], by_name["Centimeter"])


def test_a_dimension_unit_that_is_no_dimension_is_422_code_3(oneup):
    by_name = {unit["name"]: unit_id for unit_id, unit in units(oneup).items()}
    error = assert_error(oneup.post("/items", {**PRODUCT, "dimension_unit_id": by_name["Kilogram"]}), "3")
    assert "dimension_unit_id" in error["reason"]
    assert oneup.ok("GET", "/items") == []


@pytest.mark.parametrize("field", ["unit_id", "family_id", "dimension_unit_id"])
def test_an_item_reference_to_something_unknown_is_422_code_3(oneup, other_oneup, field):
    error = assert_error(oneup.post("/items", {**PRODUCT, field: UNKNOWN_ID}), "3")
    assert field in error["reason"]
    other_ids = {"unit_id": other_oneup.ok("GET", "/units")[0]["id"],
                 "family_id": other_oneup.ok("GET", "/item_families")[0]["id"],
                 "dimension_unit_id": ids_by_name(other_oneup, "units")["Meter"]}
    assert_error(oneup.post("/items", {**PRODUCT, field: other_ids[field]}), "3")
    assert oneup.ok("GET", "/items") == []


@pytest.mark.parametrize("price", ["49.99", "0.1", "0.3", "199.0", "1234567.89", "0.01", "10.005"])
def test_sales_price_decimals_are_exact(oneup, price):
    item = create(oneup, "items", {**SERVICE, "sales_price": Decimal(price)})
    assert item["sales_price"] == Decimal(price)
    response = oneup.get(f"/items/{item['id']}")
    assert re.search(rf'"sales_price":\s*{re.escape(f"{Decimal(price).normalize():f}")}[,}}]', response.text)


def test_49_99_stays_49_99_through_create_list_and_update(oneup):
    item = create(oneup, "items", {**PRODUCT, "sales_price": Decimal("49.99"), "purchase_price": Decimal("19.99")})
    assert (item["sales_price"], item["purchase_price"]) == (Decimal("49.99"), Decimal("19.99"))
    assert oneup.ok("GET", "/items")[0]["sales_price"] == Decimal("49.99")
    assert '"sales_price":49.99' in oneup.get("/items").text
    updated = oneup.ok("PUT", f"/items/{item['id']}", {"sales_price": Decimal("59.99")})
    assert (updated["sales_price"], updated["purchase_price"]) == (Decimal("59.99"), Decimal("19.99"))


def test_the_seed_item_example(oneup):
    by_name = {unit["name"]: unit_id for unit_id, unit in units(oneup).items()}
    family = create(oneup, "item_families", {"name": "Video Game"})
    body = {"type": 2, "name": "Nintendo Wii", "unit_id": by_name["Piece"], "sales_price": Decimal("199.0"),
            "purchase_price": Decimal("159.0"), "item_number": "ITM-012", "description": "A video game console.",
            "family_id": family["id"], "private_note": "I got one !", "net_weight": Decimal("1.740"),
            "width": Decimal("0.157"), "length": Decimal("0.215"), "height": Decimal("0.440"),
            "dimension_unit_id": by_name["Centimeter"]}
    item = create(oneup, "items", body)
    assert {key: item[key] for key in body} == body
    assert fetch(oneup, "items", item["id"]) == item


# == item families ===============================================================================


def test_item_family_codes_follow_the_miscellaneous_family(oneup):
    [miscellaneous] = oneup.ok("GET", "/item_families")
    assert (miscellaneous["name"], miscellaneous["code"]) == ("Miscellaneous", "FAM-001")
    first = create(oneup, "item_families", {"name": "Video Game"})
    second = create(oneup, "item_families", {"name": "Wine"})
    assert (first["code"], second["code"]) == ("FAM-002", "FAM-003")
    assert create(oneup, "item_families", {"name": "Spirits", "code": "SPI"})["code"] == "SPI"
    assert create(oneup, "item_families", {"name": "Beer"})["code"] == "FAM-004"
    renamed = oneup.ok("PUT", f"/item_families/{first['id']}", {"name": "Video Games"})
    assert renamed == {"id": first["id"], "name": "Video Games", "code": "FAM-002"}


def test_items_without_family_go_to_miscellaneous(oneup):
    miscellaneous = ids_by_name(oneup, "item_families")["Miscellaneous"]
    assert create(oneup, "items", SERVICE)["family_id"] == miscellaneous
    assert create(oneup, "items", PRODUCT)["family_id"] == miscellaneous
    wine = create(oneup, "item_families", {"name": "Wine"})
    item = create(oneup, "items", {**PRODUCT, "family_id": wine["id"]})
    assert item["family_id"] == wine["id"]
    assert oneup.ok("PUT", f"/items/{item['id']}", {"name": "Red Wine"})["family_id"] == wine["id"]
    assert ids_by_name(oneup, "item_families") == {"Miscellaneous": miscellaneous, "Wine": wine["id"]}
