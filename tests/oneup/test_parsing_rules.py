"""How the OneUp v1 dialect parses the JSON it is sent (seeds/oneup-v1-conventions.txt, "How we
parse the JSON"), and the per-field limits of seeds/oneup-v1-resources.txt: max lengths, mandatory
fields, type-specific fields. Everything goes through the real app over HTTP; every assertion is on
what a client observes (status, error object, bodies returned by later GETs) or, for "a failed
request leaves no trace", on a snapshot of every row of the organization."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.tenancy.organizations import create_organization

from tests.helpers import set_rates
from ..helpers import OneUpClient, book_snapshot, error_of

# The error messages of the conventions seed's "Error Codes and Responses" table.
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

SEED_ADDRESS = {
    "street_line1": "567 Sutter St.",
    "street_line2": "",
    "street_line3": "",
    "postal_code": "94102",
    "city": "San Francisco",
    "country": "United States",
    "locality": "California",
}


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


@pytest.fixture(scope="module")
def shared_org(context):
    """One organization for the many cases below that only compare the book before and after a
    refused request: an organization per case would dominate the run time."""
    return create_organization(context.database, "Parsing Rules Company")


@pytest.fixture
def shared(client, shared_org) -> OneUpClient:
    return OneUpClient(client, shared_org)


def create(oneup, collection: str, body: dict) -> dict:
    return oneup.ok("POST", f"/{collection}", body)


def fetch(oneup, collection: str, element_id: int) -> dict:
    return oneup.ok("GET", f"/{collection}/{element_id}")


def listing(oneup, collection: str) -> list[dict]:
    return oneup.ok("GET", f"/{collection}")


def rich_customer(oneup) -> dict:
    """A customer body using every writable field, with full addresses."""
    taxes = {tax["name"]: tax["id"] for tax in listing(oneup, "taxes")}
    terms = {term["name"]: term["id"] for term in listing(oneup, "payment_terms")}
    return {
        "type": 1,
        "status": 2,
        "company_name": "OneUp",
        "address": dict(SEED_ADDRESS),
        "shipping_address": {**SEED_ADDRESS, "street_line2": "Suite 400"},
        "phone_number": "(415) 779-6536",
        "email": "support@oneup.com",
        "website": "www.oneup.com",
        "contacts": [{
            "first_name": "Ed", "last_name": "Smith", "cell_phone": "(415) 555-1234",
            "work_phone": "(415) 555-5678", "home_phone": "(415) 555-0000", "email": "ed@oneup.com",
            "address": {**SEED_ADDRESS, "street_line1": "21 Backer street"}, "note": "Likes to surf.",
        }],
        "payment_terms": {"id": terms["Net 30"]},
        "currency_iso_code": "EUR",
        "sales_tax": {"id": taxes["10% Federal Tax"]},
        "user_code": "CUS-018",
        "opt_in_email": True,
        "notes": "- OneUp -\nRun your business in the Cloud",
        "employee_count": 12,
        "taxpayer_id": "123456789",
        "industry": "Apparel",
        "incorporation_status": "C-Corporation",
        "rating": "Cold",
    }


RICH_PRODUCT = {
    "type": 2, "name": "Nintendo Wii", "sales_price": Decimal("199.5"), "purchase_price": Decimal("159.25"),
    "description": "A video game console.", "private_note": "I got one !",
    "net_weight": Decimal("1.74"), "width": Decimal("0.157"), "length": Decimal("0.215"),
    "height": Decimal("0.44"),
}


# -- missing fields: PUT changes only what it is sent ---------------------------------------------


def test_customer_put_of_one_field_leaves_every_other_field_unchanged(oneup):
    customer = create(oneup, "customers", rich_customer(oneup))
    before = fetch(oneup, "customers", customer["id"])

    updated = oneup.ok("PUT", f"/customers/{customer['id']}", {"phone_number": "555 0100"})

    expected = {**before, "phone_number": "555 0100", "updated_at": updated["updated_at"]}
    assert updated == expected
    assert fetch(oneup, "customers", customer["id"]) == expected


def test_customer_put_of_one_address_field_keeps_the_other_address_fields(oneup):
    customer = create(oneup, "customers", rich_customer(oneup))

    updated = oneup.ok("PUT", f"/customers/{customer['id']}", {"address": {"city": "Oakland"}})

    assert updated["address"] == {**customer["address"], "city": "Oakland",
                                  "full_address": "567 Sutter St. Oakland CA 94102 United States"}
    assert updated["shipping_address"] == customer["shipping_address"]


def test_item_put_of_one_field_leaves_every_other_field_unchanged(oneup):
    item = create(oneup, "items", RICH_PRODUCT)
    before = fetch(oneup, "items", item["id"])

    updated = oneup.ok("PUT", f"/items/{item['id']}", {"sales_price": Decimal("205.75")})

    expected = {**before, "sales_price": Decimal("205.75"), "updated_at": updated["updated_at"]}
    assert updated == expected
    assert fetch(oneup, "items", item["id"]) == expected
    assert before["purchase_price"] == Decimal("159.25") and before["net_weight"] == Decimal("1.74")


def test_empty_put_changes_nothing(oneup, context, org):
    customer = create(oneup, "customers", rich_customer(oneup))
    item = create(oneup, "items", RICH_PRODUCT)
    before = book_snapshot(context, org.id)

    assert oneup.ok("PUT", f"/customers/{customer['id']}", {}) == customer
    assert oneup.ok("PUT", f"/items/{item['id']}", {}) == item

    assert_unchanged(context, org, before)


# -- unknown fields are ignored -------------------------------------------------------------------


UNKNOWN = {"favourite_colour": "blue", "nested_thing": {"a": [1, 2]}, "external_ref": 42, "company": None}


def test_unknown_fields_are_ignored_on_customer_create_and_update(oneup):
    created = create(oneup, "customers", {**COMPANY, **UNKNOWN})
    assert created["company_name"] == "Acme Corp" and created["full_name"] == "Acme Corp"
    assert not set(UNKNOWN) & set(created)

    updated = oneup.ok("PUT", f"/customers/{created['id']}", {"phone_number": "555", **UNKNOWN})
    assert updated == {**created, "phone_number": "555", "updated_at": updated["updated_at"]}
    assert fetch(oneup, "customers", created["id"]) == updated


def test_unknown_fields_are_ignored_on_item_create_and_update(oneup):
    created = create(oneup, "items", {**SERVICE, "sales_price": 10, **UNKNOWN})
    assert created["name"] == "Consulting" and created["sales_price"] == 10
    assert not set(UNKNOWN) & set(created)

    updated = oneup.ok("PUT", f"/items/{created['id']}", {"name": "Advice", **UNKNOWN})
    assert updated == {**created, "name": "Advice", "updated_at": updated["updated_at"]}
    assert fetch(oneup, "items", created["id"]) == updated


def test_unknown_fields_inside_nested_objects_are_ignored(oneup):
    created = create(oneup, "customers", {
        **COMPANY,
        "address": {**SEED_ADDRESS, "planet": "Earth"},
        "contacts": [{"last_name": "Doe", "shoe_size": 44}],
    })
    assert created["address"]["full_address"] == "567 Sutter St. San Francisco CA 94102 United States"
    assert "planet" not in created["address"]
    assert created["contacts"][0]["full_name"] == "Doe" and "shoe_size" not in created["contacts"][0]


# -- duplicated fields: the last one prevails -----------------------------------------------------


def test_duplicated_key_last_value_wins_on_customer_create(oneup):
    response = oneup.post("/customers", raw='{"type": 1, "company_name": "First", "company_name": "Last"}')
    assert response.status_code == 200, response.text
    customer = fetch(oneup, "customers", response.json()["id"])
    assert customer["company_name"] == "Last" and customer["full_name"] == "Last"


def test_duplicated_key_last_value_wins_on_customer_update(oneup):
    customer = create(oneup, "customers", COMPANY)
    response = oneup.put(f"/customers/{customer['id']}",
                         raw='{"phone_number": "111", "email": "a@x.test", "phone_number": "222"}')
    assert response.status_code == 200, response.text
    after = fetch(oneup, "customers", customer["id"])
    assert (after["phone_number"], after["email"]) == ("222", "a@x.test")


def test_duplicated_key_an_invalid_first_value_is_overridden_by_a_valid_last_one(oneup):
    response = oneup.post("/customers", raw='{"type": 3, "last_name": "Doe", "type": 2}')
    assert response.status_code == 200, response.text
    assert response.json()["type"] == 2 and response.json()["full_name"] == "Doe"


def test_duplicated_key_a_valid_first_value_is_overridden_by_an_invalid_last_one(oneup):
    assert_error(oneup.post("/customers", raw='{"type": 1, "company_name": "Acme", "type": 3}'), "3")
    assert listing(oneup, "customers") == []


def test_duplicated_key_last_value_wins_on_item_create_and_update(oneup):
    response = oneup.post("/items", raw='{"type": 1, "name": "First", "sales_price": 1, "name": "Last"}')
    assert response.status_code == 200, response.text
    item_id = response.json()["id"]
    assert fetch(oneup, "items", item_id)["name"] == "Last"

    response = oneup.put(f"/items/{item_id}", raw='{"sales_price": 12.5, "sales_price": 49.99}')
    assert response.status_code == 200, response.text
    assert fetch(oneup, "items", item_id)["sales_price"] == Decimal("49.99")


def test_duplicated_key_last_value_wins_inside_nested_objects(oneup):
    response = oneup.post("/customers", raw='{"type": 1, "company_name": "Acme",'
                                            ' "address": {"city": "Paris", "city": "Lyon"}}')
    assert response.status_code == 200, response.text
    assert fetch(oneup, "customers", response.json()["id"])["address"]["city"] == "Lyon"


# -- bad type: 400 code 5 -------------------------------------------------------------------------


CUSTOMER_BAD_TYPES = [
    pytest.param({"type": "1", "company_name": "Acme"}, id="string-for-integer-type"),
    pytest.param({"type": 1, "company_name": 42}, id="integer-for-string-company_name"),
    pytest.param({"type": True, "company_name": "Acme"}, id="bool-for-integer-type"),
    pytest.param({"type": Decimal("1.5"), "company_name": "Acme"}, id="fraction-for-integer-type"),  # 1.0 is 1 (issue 16)
    pytest.param({**COMPANY, "contacts": {"last_name": "Doe"}}, id="object-for-list-contacts"),
    pytest.param({**COMPANY, "contacts": ["Doe"]}, id="string-for-object-in-contacts"),
    pytest.param({**COMPANY, "address": "567 Sutter St."}, id="string-for-object-address"),
    pytest.param({**COMPANY, "employee_count": "12"}, id="string-for-integer-employee_count"),
    pytest.param({**COMPANY, "opt_in_email": 1}, id="integer-for-boolean-opt_in_email"),
    pytest.param({**COMPANY, "opt_in_email": "false"}, id="string-for-boolean-opt_in_email"),
    pytest.param({**COMPANY, "user_code": 7}, id="integer-for-string-user_code"),
    pytest.param({**COMPANY, "sales_tax": 1}, id="integer-for-object-sales_tax"),
    pytest.param({**COMPANY, "payment_terms": {"id": "1"}}, id="string-for-integer-payment_terms.id"),
    pytest.param({**COMPANY, "contacts": [{"last_name": 12}]}, id="integer-for-string-contacts[].last_name"),
    pytest.param({**COMPANY, "address": {"city": ["Paris"]}}, id="list-for-string-address.city"),
]


@pytest.mark.parametrize("body", CUSTOMER_BAD_TYPES)
def test_customer_create_with_a_value_of_the_wrong_type_is_400_code_5(shared, context, shared_org, body):
    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post("/customers", body), "5")
    assert_unchanged(context, shared_org, before)


ITEM_BAD_TYPES = [
    pytest.param({"type": "1", "name": "Consulting"}, id="string-for-integer-type"),
    pytest.param({"type": 1, "name": 42}, id="integer-for-string-name"),
    pytest.param({"type": True, "name": "Consulting"}, id="bool-for-integer-type"),
    pytest.param({"type": [1], "name": "Consulting"}, id="list-for-integer-type"),
    pytest.param({"type": 1, "name": {"en": "Consulting"}}, id="object-for-string-name"),
    pytest.param({**SERVICE, "sales_price": "49.99"}, id="string-for-number-sales_price"),
    pytest.param({**SERVICE, "sales_price": True}, id="bool-for-number-sales_price"),
    pytest.param({**SERVICE, "unit_id": "1"}, id="string-for-integer-unit_id"),
    pytest.param({**SERVICE, "unit_id": Decimal("1.5")}, id="float-for-integer-unit_id"),
    pytest.param({**SERVICE, "family_id": {"id": 1}}, id="object-for-integer-family_id"),
    pytest.param({**PRODUCT, "purchase_price": [1]}, id="list-for-number-purchase_price"),
]


@pytest.mark.parametrize("body", ITEM_BAD_TYPES)
def test_item_create_with_a_value_of_the_wrong_type_is_400_code_5(shared, context, shared_org, body):
    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post("/items", body), "5")
    assert_unchanged(context, shared_org, before)


@pytest.mark.parametrize("change", [
    pytest.param({"type": "2"}, id="string-for-integer"),
    pytest.param({"company_name": 42}, id="integer-for-string"),
    pytest.param({"type": False}, id="bool-for-integer"),
    pytest.param({"contacts": {}}, id="object-for-list"),
])
def test_customer_update_with_a_value_of_the_wrong_type_is_400_code_5_and_changes_nothing(shared, change):
    customer = create(shared, "customers", {**COMPANY, "contacts": [{"last_name": "Doe"}]})
    assert_error(shared.put(f"/customers/{customer['id']}", {"phone_number": "555", **change}), "5")
    assert fetch(shared, "customers", customer["id"]) == customer


@pytest.mark.parametrize("change", [
    pytest.param({"sales_price": "12"}, id="string-for-number"),
    pytest.param({"name": 12}, id="integer-for-string"),
    pytest.param({"type": True}, id="bool-for-integer"),
    pytest.param({"unit_id": [1]}, id="list-for-integer"),
])
def test_item_update_with_a_value_of_the_wrong_type_is_400_code_5_and_changes_nothing(shared, change):
    item = create(shared, "items", RICH_PRODUCT)
    assert_error(shared.put(f"/items/{item['id']}", {"description": "changed", **change}), "5")
    assert fetch(shared, "items", item["id"]) == item


# -- wrong value: 422 code 3 ----------------------------------------------------------------------


@pytest.mark.parametrize("collection, body", [
    pytest.param("customers", {"type": 3, "company_name": "Acme"}, id="customer-type-3"),
    pytest.param("customers", {"type": 0, "company_name": "Acme"}, id="customer-type-0"),
    pytest.param("customers", {**COMPANY, "status": 9}, id="customer-status-9"),
    pytest.param("customers", {**COMPANY, "status": 0}, id="customer-status-0"),
    pytest.param("vendors", {"type": 3, "company_name": "Acme"}, id="vendor-type-3"),
    pytest.param("items", {"type": 3, "name": "Thing"}, id="item-type-3"),
    pytest.param("items", {"type": -1, "name": "Thing"}, id="item-type--1"),
])
def test_create_with_a_value_outside_the_allowed_set_is_422_code_3(shared, context, shared_org, collection, body):
    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post(f"/{collection}", body), "3")
    assert_unchanged(context, shared_org, before)


def test_update_with_a_value_outside_the_allowed_set_is_422_code_3_and_changes_nothing(oneup):
    customer = create(oneup, "customers", COMPANY)
    assert_error(oneup.put(f"/customers/{customer['id']}", {"status": 9, "phone_number": "555"}), "3")
    assert_error(oneup.put(f"/customers/{customer['id']}", {"type": 3}), "3")
    assert fetch(oneup, "customers", customer["id"]) == customer

    item = create(oneup, "items", SERVICE)
    assert_error(oneup.put(f"/items/{item['id']}", {"type": 3, "name": "Other"}), "3")
    assert fetch(oneup, "items", item["id"]) == item


def test_the_allowed_values_are_accepted(oneup):
    lead = create(oneup, "customers", {**PERSON, "status": 2})
    assert (lead["type"], lead["status"]) == (2, 2)
    assert oneup.ok("PUT", f"/customers/{lead['id']}", {"status": 1})["status"] == 1
    assert create(oneup, "items", PRODUCT)["type"] == 2


# -- non editable: read-only fields ---------------------------------------------------------------


def _customer_with_contact(oneup) -> dict:
    return create(oneup, "customers", {**COMPANY, "address": dict(SEED_ADDRESS),
                                       "contacts": [{"first_name": "Ed", "last_name": "Smith"}]})


@pytest.mark.parametrize("change", [
    pytest.param(lambda c: {"id": c["id"] + 1000}, id="id"),
    pytest.param(lambda c: {"full_name": "Somebody Else"}, id="full_name"),
    pytest.param(lambda c: {"address": {"full_address": "1 Infinite Loop Cupertino"}}, id="address.full_address"),
    pytest.param(lambda c: {"address": {"short_locality": "NY"}}, id="address.short_locality"),
    pytest.param(lambda c: {"shipping_address": {"full_address": "Elsewhere"}}, id="shipping_address.full_address"),
    pytest.param(lambda c: {"contacts": [{"id": c["contacts"][0]["id"], "full_name": "Ted Smith"}]},
                 id="contacts[].full_name"),
    pytest.param(lambda c: {"contacts": [{"id": c["contacts"][0]["id"],
                                          "address": {"full_address": "Somewhere"}}]},
                 id="contacts[].address.full_address"),
    pytest.param(lambda c: {"created_at": "2001-01-01T00:00:00Z"}, id="created_at"),
    pytest.param(lambda c: {"updated_at": "2001-01-01T00:00:00Z"}, id="updated_at"),
])
def test_customer_read_only_field_changed_is_422_code_3_and_changes_nothing(shared, context, shared_org, change):
    customer = _customer_with_contact(shared)
    before = book_snapshot(context, shared_org.id)

    error = assert_error(shared.put(f"/customers/{customer['id']}", {"phone_number": "555", **change(customer)}), "3")

    assert_unchanged(context, shared_org, before)
    assert fetch(shared, "customers", customer["id"]) == customer
    assert "reason" in error


@pytest.mark.parametrize("field", ["id", "full_name", "address", "shipping_address", "contacts", "created_at",
                                   "updated_at"])
def test_customer_read_only_field_sent_with_its_current_value_is_accepted(shared, field):
    customer = _customer_with_contact(shared)
    updated = shared.ok("PUT", f"/customers/{customer['id']}", {"phone_number": "555", field: customer[field]})
    assert updated == {**customer, "phone_number": "555", "updated_at": updated["updated_at"]}


@pytest.mark.parametrize("change", [
    pytest.param(lambda i: {"id": i["id"] + 1}, id="id"),
    pytest.param(lambda i: {"created_at": "2001-01-01T00:00:00Z"}, id="created_at"),
    pytest.param(lambda i: {"updated_at": "2001-01-01T00:00:00Z"}, id="updated_at"),
])
def test_item_read_only_field_changed_is_422_code_3_and_changes_nothing(shared, change):
    item = create(shared, "items", RICH_PRODUCT)
    assert_error(shared.put(f"/items/{item['id']}", {"name": "Changed", **change(item)}), "3")
    assert fetch(shared, "items", item["id"]) == item


def test_vendor_read_only_field_changed_is_422_code_3(oneup):
    vendor = create(oneup, "vendors", {**COMPANY, "contacts": [{"first_name": "Ed", "last_name": "Smith"}]})
    assert_error(oneup.put(f"/vendors/{vendor['id']}", {"full_name": "Other"}), "3")
    assert_error(oneup.put(f"/vendors/{vendor['id']}",
                           {"contacts": [{"id": vendor["contacts"][0]["id"], "full_name": "X"}]}), "3")
    assert fetch(oneup, "vendors", vendor["id"]) == vendor


def test_item_family_and_project_id_changed_is_422_code_3(oneup):
    family = create(oneup, "item_families", {"name": "Video Game"})
    assert_error(oneup.put(f"/item_families/{family['id']}", {"id": family["id"] + 50, "name": "X"}), "3")
    assert fetch(oneup, "item_families", family["id"]) == family
    project = create(oneup, "projects", {"name": "Project X"})
    assert_error(oneup.put(f"/projects/{project['id']}", {"id": project["id"] + 50, "name": "Y"}), "3")
    assert fetch(oneup, "projects", project["id"]) == project


# -- round trip: GET, then PUT the whole body back ------------------------------------------------


def _round_trip(oneup, context, org, collection: str, element_id: int) -> None:
    body = fetch(oneup, collection, element_id)
    before = book_snapshot(context, org.id)
    assert oneup.ok("PUT", f"/{collection}/{element_id}", body) == body
    assert fetch(oneup, collection, element_id) == body
    assert_unchanged(context, org, before)


def test_round_trip_of_a_fully_filled_customer_changes_nothing(oneup, context, org):
    customer = create(oneup, "customers", rich_customer(oneup))
    _round_trip(oneup, context, org, "customers", customer["id"])


def test_round_trip_of_a_minimal_customer_changes_nothing(oneup, context, org):
    """Empty addresses are shown with locality "N/A" (as in the seed's vendor example): sending
    that body back must not store anything new."""
    customer = create(oneup, "customers", {**PERSON, "contacts": [{"last_name": "Smith"}]})
    _round_trip(oneup, context, org, "customers", customer["id"])


def test_round_trip_of_a_vendor_changes_nothing(oneup, context, org):
    vendor = create(oneup, "vendors", {**COMPANY, "address": dict(SEED_ADDRESS), "currency": "EUR",
                                       "note": "A note", "taxpayer_id_number": "SE OIU 90",
                                       "contacts": [{"first_name": "Regular", "last_name": "Vendor",
                                                     "address": dict(SEED_ADDRESS)}]})
    _round_trip(oneup, context, org, "vendors", vendor["id"])


def test_round_trip_of_items_changes_nothing(oneup, context, org):
    product = create(oneup, "items", RICH_PRODUCT)
    service = create(oneup, "items", {**SERVICE, "sales_price": Decimal("49.99")})
    _round_trip(oneup, context, org, "items", product["id"])
    _round_trip(oneup, context, org, "items", service["id"])


def test_round_trip_of_family_and_project_changes_nothing(oneup, context, org):
    _round_trip(oneup, context, org, "item_families", create(oneup, "item_families", {"name": "Games"})["id"])
    _round_trip(oneup, context, org, "projects", create(oneup, "projects", {"name": "X", "description": "d"})["id"])


def floated(value: Any) -> Any:
    """The body a client that reads numbers into floats sends back: every integer written `N.0` (an
    integer-valued Decimal is written so), at every depth; booleans stay booleans."""
    if isinstance(value, dict):
        return {key: floated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [floated(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(f"{value}.0")
    return value


def every_updatable_resource(oneup, price_family_id: int) -> dict[str, int]:
    """One of each resource that has PUT, its nested objects filled: the element id by collection."""
    employee = create(oneup, "employees", {"first_name": "Rob", "last_name": "Round", "email": "rob@example.com"})
    family = create(oneup, "item_families", {"name": "Games", "code": "GAM"})
    customer = create(oneup, "customers", {**rich_customer(oneup), "assigned_to": {"id": employee["id"]},
                                           "price_family": {"id": price_family_id}})
    vendor = create(oneup, "vendors", {**COMPANY, "company_name": "Supplies Inc", "contacts": [{"last_name": "Roe"}]})
    item = create(oneup, "items", {**RICH_PRODUCT, "family_id": family["id"]})
    invoice = create(oneup, "invoices", {"customer_id": customer["id"], "date": "2024-03-01", "order_lines": [
        {"item_id": item["id"], "quantity": 2, "unit_price": Decimal("10.5")},
        {"item_id": item["id"], "quantity": 1, "discount_rate": 10}]})
    order = create(oneup, "sales_orders", {"customer_id": customer["id"], "date": "2024-03-01",
                                           "order_lines": [{"item_id": item["id"], "quantity": 3}]})
    accounts = {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}
    transaction = create(oneup, "transactions", {"piece_number": "T-1", "date": "2024-03-02", "entries": [
        {"account_id": accounts["11100"]["id"], "way": "debit", "amount": 100},
        {"account_id": accounts["40150"]["id"], "way": "credit", "amount": 100}]})
    journal = create(oneup, "journals", {"name": "Extra", "code": "EXT"})
    account = create(oneup, "accounts", {"number": "40190", "name": "Other sales",
                                         "family_id": accounts["40150"]["family_id"]})
    bank = create(oneup, "bank_accounts", {"name": "Main bank"})
    project = create(oneup, "projects", {"name": "X", "description": "d"})
    return {"employees": employee["id"], "item_families": family["id"], "customers": customer["id"],
            "vendors": vendor["id"], "items": item["id"], "invoices": invoice["id"], "sales_orders": order["id"],
            "transactions": transaction["id"], "journals": journal["id"], "accounts": account["id"],
            "bank_accounts": bank["id"], "projects": project["id"]}


def test_integers_sent_back_as_whole_decimals_change_nothing(oneup, context, org):
    """GET each resource, write every integer of it as N.0 (ids of nested objects, statuses, types,
    quantities), PUT it back: 200, the same object, nothing stored. 1.5 where an integer is expected
    is still refused (code 5)."""
    with open_book(context.database, org.id) as book:
        price_family_id = book.price_families.all()[0].id  # the organization's default (no endpoint lists them)
    set_rates(context, org.id, {"EUR": "1.10"})  # the rich customer's invoices are in euros
    for collection, element_id in every_updatable_resource(oneup, price_family_id).items():
        body = fetch(oneup, collection, element_id)
        before = book_snapshot(context, org.id)
        response = oneup.put(f"/{collection}/{element_id}", floated(body))
        assert response.status_code == 200, (collection, response.text)
        assert fetch(oneup, collection, element_id) == body, collection
        assert book_changes(before, book_snapshot(context, org.id)) == {}, collection

    customer_id = listing(oneup, "customers")[0]["id"]
    for body in ({"payment_terms": {"id": Decimal("1.5")}}, {"status": Decimal("1.5")},
                 {"contacts": [{"id": Decimal("1.5"), "last_name": "X"}]}):
        assert_error(oneup.put(f"/customers/{customer_id}", body), "5")


# -- max lengths ----------------------------------------------------------------------------------


def text_of_length(length: int) -> str:
    """Counted in characters: accented letters are two bytes in UTF-8."""
    return ("é" + "abcdefghi") * (length // 10) + "é" * (length % 10)


def with_value(base: dict, path: str, value: Any) -> dict:
    """`base` with `value` set at `path` ("address.city", "contacts[].email", ...)."""
    body = copy.deepcopy(base)
    if path.startswith("contacts[]."):
        contact = {"last_name": "Doe"}
        _set(contact, path.removeprefix("contacts[]."), value)
        body["contacts"] = [contact]
    else:
        _set(body, path, value)
    return body


def _set(target: dict, path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if rest:
        _set(target.setdefault(head, {}), rest, value)
    else:
        target[head] = value


def value_at(body: dict, path: str) -> Any:
    if path.startswith("contacts[]."):
        body, path = body["contacts"][0], path.removeprefix("contacts[].")
    for part in path.split("."):
        body = body[part]
    return body


ADDRESS_LIMITS = [("street_line1", 255), ("street_line2", 255), ("street_line3", 255), ("postal_code", 128),
                  ("city", 128), ("country", 128), ("locality", 255)]
CONTACT_LIMITS = [("first_name", 255), ("last_name", 255), ("cell_phone", 128), ("work_phone", 128),
                  ("home_phone", 128), ("email", 255)]
PARTY_LIMITS = [("phone_number", 64), ("email", 255), ("website", 255), ("user_code", 64)]

MAX_LENGTHS = [
    *[("customers", COMPANY, name, limit) for name, limit in PARTY_LIMITS],
    ("customers", COMPANY, "company_name", 255),
    *[("customers", PERSON, name, 255) for name in ("first_name", "middle_name", "last_name")],
    *[("vendors", COMPANY, name, limit) for name, limit in PARTY_LIMITS],
    ("vendors", COMPANY, "company_name", 255),
    *[("vendors", PERSON, name, 255) for name in ("first_name", "middle_name", "last_name")],
    ("items", SERVICE, "name", 255),
    ("items", SERVICE, "item_number", 64),
    ("item_families", {"name": "Games"}, "name", 64),
    ("item_families", {"name": "Games"}, "code", 64),
    ("projects", {"name": "Project X"}, "name", 128),
    *[("customers", COMPANY, f"contacts[].{name}", limit) for name, limit in CONTACT_LIMITS],
    *[("vendors", COMPANY, f"contacts[].{name}", limit) for name, limit in CONTACT_LIMITS],
    *[("customers", COMPANY, f"address.{name}", limit) for name, limit in ADDRESS_LIMITS],
    *[("customers", COMPANY, f"shipping_address.{name}", limit) for name, limit in ADDRESS_LIMITS],
    *[("vendors", COMPANY, f"address.{name}", limit) for name, limit in ADDRESS_LIMITS],
    *[("customers", COMPANY, f"contacts[].address.{name}", limit) for name, limit in ADDRESS_LIMITS],
]


@pytest.mark.parametrize("collection, base, path, limit", [
    pytest.param(*case, id=f"{case[0]}-{'person-' if case[1] is PERSON else ''}{case[2]}-{case[3]}")
    for case in MAX_LENGTHS
])
def test_max_length(shared, context, shared_org, collection, base, path, limit):
    """Exactly `limit` characters is accepted and kept whole; one more is 422 code 3, on create and
    on update, and nothing is stored."""
    exact, too_long = text_of_length(limit), text_of_length(limit + 1)
    assert (len(exact), len(too_long)) == (limit, limit + 1)

    created = create(shared, collection, with_value(base, path, exact))
    assert value_at(created, path) == exact
    assert value_at(fetch(shared, collection, created["id"]), path) == exact

    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post(f"/{collection}", with_value(base, path, too_long)), "3")
    assert_error(shared.put(f"/{collection}/{created['id']}", with_value({}, path, too_long)), "3")
    assert_unchanged(context, shared_org, before)
    assert fetch(shared, collection, created["id"]) == created


@pytest.mark.parametrize("collection, field", [
    ("customers", "currency_iso_code"), ("vendors", "currency_iso_code"), ("vendors", "currency"),
])
def test_currency_iso_code_longer_than_4_characters_is_422_code_3(shared, context, shared_org, collection, field):
    """No currency has a 4-character code, so only the refusal of 5 characters can be shown; a
    4-character code that is not one of the organization's currencies is refused too."""
    before = book_snapshot(context, shared_org.id)
    error = assert_error(shared.post(f"/{collection}", {**COMPANY, field: "USDXX"}), "3")
    assert field in error["reason"]
    assert_error(shared.post(f"/{collection}", {**COMPANY, field: "ABCD"}), "3")
    assert_unchanged(context, shared_org, before)
    assert create(shared, collection, {**COMPANY, field: "EUR"})["currency_iso_code"] == "EUR"


# -- mandatory fields (3013) and fields that must stay empty (3014) -------------------------------


@pytest.mark.parametrize("collection, body", [
    pytest.param("customers", {"company_name": "Acme"}, id="customer-without-type"),
    pytest.param("customers", {"type": 1}, id="company-without-company_name"),
    pytest.param("customers", {"type": 1, "company_name": ""}, id="company-with-empty-company_name"),
    pytest.param("customers", {"type": 1, "company_name": "   "}, id="company-with-blank-company_name"),
    pytest.param("customers", {"type": 2, "first_name": "Jane"}, id="individual-without-last_name"),
    pytest.param("customers", {"type": 2, "last_name": None}, id="individual-with-null-last_name"),
    pytest.param("customers", {**COMPANY, "contacts": [{"first_name": "Ed"}]}, id="contact-without-last_name"),
    pytest.param("vendors", {"company_name": "Acme"}, id="vendor-without-type"),
    pytest.param("vendors", {"type": 1}, id="vendor-company-without-company_name"),
    pytest.param("vendors", {"type": 2, "first_name": "Jane"}, id="vendor-individual-without-last_name"),
    pytest.param("items", {"type": 1}, id="item-without-name"),
    pytest.param("items", {"type": 2, "name": ""}, id="item-with-empty-name"),
    pytest.param("items", {"name": "Consulting"}, id="item-without-type"),
    pytest.param("item_families", {"code": "FAM-900"}, id="item-family-without-name"),
    pytest.param("projects", {"description": "no name"}, id="project-without-name"),
])
def test_create_without_a_mandatory_field_is_422_code_3013(shared, context, shared_org, collection, body):
    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post(f"/{collection}", body), "3013")
    assert_unchanged(context, shared_org, before)


@pytest.mark.parametrize("collection, base, change", [
    pytest.param("customers", COMPANY, {"company_name": ""}, id="customer-company_name"),
    pytest.param("customers", PERSON, {"last_name": ""}, id="customer-last_name"),
    pytest.param("items", SERVICE, {"name": ""}, id="item-name"),
    pytest.param("items", SERVICE, {"name": None}, id="item-null-name"),
    pytest.param("projects", {"name": "Project X"}, {"name": ""}, id="project-name"),
])
def test_update_clearing_a_mandatory_field_is_422_code_3013(shared, collection, base, change):
    created = create(shared, collection, base)
    assert_error(shared.put(f"/{collection}/{created['id']}", change), "3013")
    assert fetch(shared, collection, created["id"]) == created


@pytest.mark.parametrize("collection, body", [
    pytest.param("customers", {**PERSON, "company_name": "Acme"}, id="individual-with-company_name"),
    pytest.param("customers", {**COMPANY, "last_name": "Doe"}, id="company-with-last_name"),
    pytest.param("customers", {**COMPANY, "first_name": "Jane"}, id="company-with-first_name"),
    pytest.param("vendors", {**PERSON, "company_name": "Acme"}, id="vendor-individual-with-company_name"),
    pytest.param("items", {**SERVICE, "purchase_price": 12}, id="service-with-purchase_price"),
    pytest.param("items", {**SERVICE, "net_weight": Decimal("0.5")}, id="service-with-net_weight"),
    pytest.param("items", {**SERVICE, "width": 1}, id="service-with-width"),
    pytest.param("items", {**SERVICE, "length": 1}, id="service-with-length"),
    pytest.param("items", {**SERVICE, "height": 1}, id="service-with-height"),
])
def test_a_field_of_the_other_kind_with_a_value_is_422_code_3014(shared, context, shared_org, collection, body):
    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post(f"/{collection}", body), "3014")
    assert_unchanged(context, shared_org, before)


def test_a_dimension_unit_on_a_service_is_422_code_3014(oneup):
    meter = next(unit["id"] for unit in listing(oneup, "units") if unit["name"] == "Meter")
    assert_error(oneup.post("/items", {**SERVICE, "dimension_unit_id": meter}), "3014")
    assert listing(oneup, "items") == []


def test_fields_of_the_other_kind_left_empty_are_accepted(oneup):
    person = create(oneup, "customers", {**PERSON, "company_name": ""})
    assert person["full_name"] == "Jane Doe" and "company_name" not in person
    service = create(oneup, "items", {**SERVICE, "purchase_price": 0, "net_weight": 0})
    assert "purchase_price" not in service


def test_update_setting_a_field_of_the_other_kind_is_422_code_3014(oneup):
    person = create(oneup, "customers", PERSON)
    assert_error(oneup.put(f"/customers/{person['id']}", {"company_name": "Acme"}), "3014")
    assert fetch(oneup, "customers", person["id"]) == person

    service = create(oneup, "items", SERVICE)
    assert_error(oneup.put(f"/items/{service['id']}", {"purchase_price": Decimal("9.99")}), "3014")
    assert fetch(oneup, "items", service["id"]) == service


# -- malformed bodies -----------------------------------------------------------------------------


MALFORMED = [
    pytest.param('{"type": 1, "company_name": "Acme",', id="truncated"),
    pytest.param("{'type': 1}", id="single-quotes"),
    pytest.param('{"type": 1, "company_name": "Acme"} trailing', id="trailing-garbage"),
    pytest.param("", id="empty-body"),
    pytest.param('[{"type": 1, "company_name": "Acme"}]', id="array"),
    pytest.param('"Acme"', id="string"),
    pytest.param("42", id="number"),
    pytest.param("null", id="null"),
    pytest.param('{"type": 1, "company_name": "Acme", "employee_count": NaN}', id="NaN"),
    pytest.param('{"type": 1, "company_name": "Acme", "employee_count": Infinity}', id="Infinity"),
    pytest.param('{"type": 1, "company_name": "Acme", "employee_count": -Infinity}', id="-Infinity"),
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_a_body_that_is_not_a_json_object_is_400_code_5_on_create(shared, context, shared_org, raw):
    before = book_snapshot(context, shared_org.id)
    assert_error(shared.post("/customers", raw=raw), "5")
    assert_error(shared.post("/items", raw=raw.replace('"company_name": "Acme"', '"name": "Thing"')), "5")
    assert_unchanged(context, shared_org, before)


@pytest.mark.parametrize("raw", [
    pytest.param('{"phone_number": "555"', id="truncated"),
    pytest.param('[{"phone_number": "555"}]', id="array"),
    pytest.param('{"phone_number": "555", "employee_count": NaN}', id="NaN"),
])
def test_a_body_that_is_not_a_json_object_is_400_code_5_on_update(shared, raw):
    customer = create(shared, "customers", COMPANY)
    assert_error(shared.put(f"/customers/{customer['id']}", raw=raw), "5")
    assert fetch(shared, "customers", customer["id"]) == customer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_a_json_body_sent_as_another_content_type_is_400_code_5(shared, context, shared_org, content_type):
    before = book_snapshot(context, shared_org.id)
    raw = '{"type": 1, "company_name": "Acme"}'
    assert_error(shared.post("/customers", raw=raw, headers={"Content-Type": content_type}), "5")
    assert_error(shared.post("/items", raw='{"type": 1, "name": "Consulting"}',
                            headers={"Content-Type": content_type}), "5")
    assert_unchanged(context, shared_org, before)


def test_a_json_content_type_with_a_charset_is_accepted(oneup):
    response = oneup.post("/customers", raw='{"type": 1, "company_name": "Acme"}',
                          headers={"Content-Type": "application/json; charset=UTF-8"})
    assert response.status_code == 200, response.text
    assert response.json()["company_name"] == "Acme"


@pytest.mark.parametrize("number", [
    pytest.param("1e309", id="1e309"),
    pytest.param("-1e309", id="-1e309"),
    pytest.param("123456789012345678901234567890", id="30-digits"),
    pytest.param("123456789012345678901234567890.5", id="30-digits-and-decimals"),
])
def test_an_amount_out_of_any_range_is_refused_and_nothing_is_stored(shared, context, shared_org, number):
    before = book_snapshot(context, shared_org.id)
    response = shared.post("/items", raw=f'{{"type": 1, "name": "Consulting", "sales_price": {number}}}')
    assert response.status_code in (400, 422), response.text
    assert_error(response, "5" if response.status_code == 400 else "3")
    assert_unchanged(context, shared_org, before)

    item = create(shared, "items", SERVICE)
    response = shared.put(f"/items/{item['id']}", raw=f'{{"sales_price": {number}}}')
    assert response.status_code in (400, 422), response.text
    assert fetch(shared, "items", item["id"]) == item


# -- a failed request leaves no trace -------------------------------------------------------------


def test_customer_put_with_valid_contact_changes_and_one_unknown_tax_leaves_no_trace(oneup, context, org):
    customer = create(oneup, "customers", {**COMPANY, "contacts": [
        {"first_name": "Ed", "last_name": "Smith"}, {"first_name": "John", "last_name": "Doe"}]})
    john = customer["contacts"][1]
    before = book_snapshot(context, org.id)

    response = oneup.put(f"/customers/{customer['id']}", {
        "phone_number": "555",
        "address": dict(SEED_ADDRESS),
        "contacts": [{"id": john["id"], "email": "john@new.example"},
                     {"first_name": "James", "last_name": "Brown"}],
        "sales_tax": {"id": 987654},
    })

    assert_unchanged(context, org, before)
    error = assert_error(response, "3")
    assert "sales_tax" in error["reason"]
    assert fetch(oneup, "customers", customer["id"]) == customer


def test_customer_put_with_valid_changes_and_a_contact_without_last_name_leaves_no_trace(oneup, context, org):
    customer = create(oneup, "customers", {**COMPANY, "contacts": [{"first_name": "Ed", "last_name": "Smith"}]})
    before = book_snapshot(context, org.id)

    response = oneup.put(f"/customers/{customer['id']}", {
        "company_name": "Renamed",
        "contacts": [{"first_name": "James", "last_name": "Brown"}, {"first_name": "Nameless"}],
    })

    assert_error(response, "3013")
    assert_unchanged(context, org, before)


def test_item_put_with_a_valid_change_and_an_unknown_unit_leaves_no_trace(oneup, context, org):
    item = create(oneup, "items", RICH_PRODUCT)
    before = book_snapshot(context, org.id)
    assert_error(oneup.put(f"/items/{item['id']}", {"name": "Renamed", "sales_price": 1, "unit_id": 987654}), "3")
    assert_error(oneup.put(f"/items/{item['id']}", {"name": "Renamed", "family_id": 987654}), "3")
    assert_unchanged(context, org, before)


def test_failed_creates_consume_no_automatic_code(oneup, context, org):
    before = book_snapshot(context, org.id)
    assert_error(oneup.post("/customers", {**COMPANY, "sales_tax": {"id": 987654}}), "3")
    assert_error(oneup.post("/customers", {"type": 1}), "3013")
    assert_error(oneup.post("/vendors", {**COMPANY, "payment_terms_id": 987654}), "3")
    assert_error(oneup.post("/items", {**SERVICE, "unit_id": 987654}), "3")
    assert_error(oneup.post("/item_families", {}), "3013")
    assert_unchanged(context, org, before)

    assert create(oneup, "customers", COMPANY)["user_code"] == "CUS-001"
    assert create(oneup, "vendors", COMPANY)["user_code"] == "SUP-001"
    assert create(oneup, "items", SERVICE)["item_number"] == "ITM-001"
    assert create(oneup, "item_families", {"name": "Games"})["code"] == "FAM-002"  # FAM-001: Miscellaneous
