"""Upflow custom fields through the real app (seeds/upflow-v1-integration-guide.txt, "Create custom
fields"; specs/upflow.md §6.8; ADR 0009): definitions (`/custom_fields`, and `/custom_field` as the
guide spells it), select values created by customer imports and reused, case-sensitive labels,
MULTI_SELECT, typed values, refusals that change nothing, the `customFieldData_<id>.eq=` filter of
`GET /customers`, isolation between organizations, and one option under 50 concurrent imports."""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ..helpers import OneUpClient, book_snapshot
from .conftest import upflow_error
from .test_exactly_once import TIMEOUT_S, WORKERS, base_url, headers_of  # noqa: F401 - base_url: a fixture


def define(upflow, **body) -> dict:
    response = upflow.post("/custom_fields", body)
    assert response.status_code == 201, response.text
    return response.json()


def imported(upflow, body: dict) -> dict:
    return upflow.ok("POST", "/customers", body)


def value_of(customer: dict, field: dict):
    """The value a customer shows for a field (absent: None)."""
    return next((shown["value"] for shown in customer["customFields"] if shown["id"] == field["id"]), None)


def labels(upflow, field: dict) -> list[str]:
    return [option["label"] for option in upflow.ok("GET", f"/custom_fields/{field['id']}")["options"]]


def listed(upflow, **params) -> dict:
    return upflow.ok("GET", "/customers", params={"limit": 1000, **params})


def filtered(upflow, field: dict, value: str, **params) -> dict:
    return listed(upflow, **{f"customFieldData_{field['id']}.eq": value}, **params)


# == definitions ===================================================================================


def test_a_definition_is_created_read_listed_and_deleted(upflow):
    field = define(upflow, name="Tier", externalId="tier", entityType="CUSTOMER", dataType="SELECT")
    assert uuid.UUID(field["id"])
    assert {key: field[key] for key in ("externalId", "name", "entityType", "dataType", "options")} == {
        "externalId": "tier", "name": "Tier", "entityType": "CUSTOMER", "dataType": "SELECT", "options": []}
    assert field["createdAt"].endswith("Z") and field["updatedAt"].endswith("Z")
    assert upflow.ok("GET", f"/custom_fields/{field['id']}") == field
    assert upflow.ok("GET", "/custom_fields/external:tier") == field
    assert upflow.ok("GET", "/custom_fields") == {"offset": 0, "limit": 100, "total": 1, "items": [field]}

    response = upflow.delete("/custom_fields/external:tier")
    assert response.status_code == 204 and response.content == b""
    upflow_error(upflow.get(f"/custom_fields/{field['id']}"), 404)
    upflow_error(upflow.delete(f"/custom_fields/{field['id']}"), 404)
    assert upflow.ok("GET", "/custom_fields")["total"] == 0


def test_the_singular_path_of_the_guide_is_an_alias(upflow):
    response = upflow.post("/custom_field", {"name": "Region", "dataType": "STRING"})
    assert response.status_code == 201, response.text
    field = response.json()
    assert field["entityType"] == "CUSTOMER"  # the guide: under Customers unless the request says otherwise
    assert upflow.ok("GET", "/custom_field")["items"] == [field]
    assert upflow.ok("GET", "/custom_fields")["items"] == [field]


def test_lists_page_and_filter_by_entity_type(upflow):
    fields = [define(upflow, name=f"{entity} field", entityType=entity, dataType="STRING")
              for entity in ("CUSTOMER", "INVOICE", "CREDIT_NOTE", "PAYMENT", "INVOICE")]
    assert [f["id"] for f in upflow.ok("GET", "/custom_fields")["items"]] == [f["id"] for f in fields]
    invoices = upflow.ok("GET", "/custom_fields", params={"entityType": "INVOICE"})
    assert (invoices["total"], [f["id"] for f in invoices["items"]]) == (2, [fields[1]["id"], fields[4]["id"]])
    page = upflow.ok("GET", "/custom_fields", params={"offset": 1, "limit": 2})
    assert (page["offset"], page["limit"], page["total"]) == (1, 2, 5)
    assert [f["id"] for f in page["items"]] == [fields[1]["id"], fields[2]["id"]]
    upflow_error(upflow.get("/custom_fields", params={"entityType": "CONTACT"}), 400)
    upflow_error(upflow.get("/custom_fields", params={"limit": 1001}), 400)


def test_options_may_be_given_with_the_definition(upflow):
    field = define(upflow, name="Plan", externalId="plan", dataType="MULTI_SELECT",
                   options=[{"label": "Basic"}, "Pro", {"label": "Basic"}])
    assert [option["label"] for option in field["options"]] == ["Basic", "Pro"]
    assert all(uuid.UUID(option["id"]) for option in field["options"])


def test_reposting_an_external_id_updates_that_field(upflow):
    field = define(upflow, name="Tier", externalId="tier", dataType="SELECT", options=["Gold"])
    response = upflow.post("/custom_fields", {"name": "Customer tier", "externalId": "tier", "dataType": "SELECT",
                                              "options": ["Silver", "Gold"]})
    assert response.status_code == 200, response.text
    again = response.json()
    assert (again["id"], again["name"]) == (field["id"], "Customer tier")
    assert [option["label"] for option in again["options"]] == ["Gold", "Silver"]
    assert again["options"][0] == field["options"][0]
    assert upflow.ok("GET", "/custom_fields")["total"] == 1
    body = upflow_error(upflow.post("/custom_fields", {"externalId": "tier", "dataType": "STRING"}), 409)
    assert "dataType" in body["message"]
    upflow_error(upflow.post("/custom_fields", {"externalId": "tier", "entityType": "INVOICE"}), 409)


@pytest.mark.parametrize("body, named", [
    ({"dataType": "STRING"}, "name"),
    ({"name": "X"}, "dataType"),
    ({"name": "X", "dataType": "TEXT"}, "dataType"),
    ({"name": "X", "dataType": "STRING", "entityType": "CONTACT"}, "entityType"),
    ({"name": "X", "dataType": "STRING", "options": ["A"]}, "options"),
    ({"name": "X", "dataType": "SELECT", "options": [{"label": ""}]}, "options"),
    ({"name": "X", "dataType": "SELECT", "options": [{"label": 1}]}, "options"),
    ({"name": 1, "dataType": "STRING"}, "name"),
    ({"name": "X", "dataType": "STRING", "externalId": ""}, "externalId"),
    ({"name": "X" * 256, "dataType": "STRING"}, "name"),
])
def test_an_invalid_definition_is_400_and_creates_nothing(upflow, context, org, body, named):
    before = book_snapshot(context, org.id)
    assert named in upflow_error(upflow.post("/custom_fields", body), 400)["message"]
    assert book_snapshot(context, org.id) == before


# == values on customers ===========================================================================


def test_a_select_value_is_created_by_a_customer_import_and_reused(upflow):
    tier = define(upflow, name="Tier", externalId="tier", dataType="SELECT")
    first = imported(upflow, {"externalId": "C-1", "name": "Acme",
                              "customFields": [{"id": tier["id"], "externalId": "tier", "value": {"label": "Gold"}}]})
    assert first["customFields"] == [{"id": tier["id"], "externalId": "tier", "name": "Tier",
                                      "value": {"label": "Gold"}}]
    assert labels(upflow, tier) == ["Gold"]
    second = imported(upflow, {"externalId": "C-2", "name": "Beta", "customFields": [{"id": tier["id"],
                                                                                      "value": "Gold"}]})
    assert value_of(second, tier) == {"label": "Gold"}  # a bare label is accepted too
    option = upflow.ok("GET", f"/custom_fields/{tier['id']}")["options"]
    assert [o["label"] for o in option] == ["Gold"]  # reused, not created again
    assert value_of(upflow.customer("external:C-1"), tier) == {"label": "Gold"}
    changed = upflow.ok("PUT", "/customers/external:C-1", {"customFields": [{"id": tier["id"],
                                                                             "value": {"label": "Silver"}}]})
    assert value_of(changed, tier) == {"label": "Silver"}
    assert labels(upflow, tier) == ["Gold", "Silver"]
    assert value_of(upflow.customer("external:C-2"), tier) == {"label": "Gold"}


def test_labels_are_case_sensitive(upflow):
    tier = define(upflow, name="Tier", dataType="SELECT")
    upper = imported(upflow, {"externalId": "C-1", "name": "A", "customFields": [{"id": tier["id"],
                                                                                  "value": {"label": "One"}}]})
    lower = imported(upflow, {"externalId": "C-2", "name": "B", "customFields": [{"id": tier["id"],
                                                                                  "value": {"label": "one"}}]})
    assert labels(upflow, tier) == ["One", "one"]
    assert (value_of(upper, tier), value_of(lower, tier)) == ({"label": "One"}, {"label": "one"})
    assert [c["externalId"] for c in filtered(upflow, tier, "One")["customers"]] == ["C-1"]
    assert [c["externalId"] for c in filtered(upflow, tier, "one")["customers"]] == ["C-2"]


def test_multi_select_values_are_replaced_and_cleared(upflow):
    tags = define(upflow, name="Tags", externalId="tags", dataType="MULTI_SELECT")
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "customFields": [
        {"id": tags["id"], "externalId": "tags", "value": [{"label": "One"}, {"label": "Two"}]}]})
    assert value_of(customer, tags) == [{"label": "One"}, {"label": "Two"}]
    assert labels(upflow, tags) == ["One", "Two"]
    two_three = imported(upflow, {"externalId": "C-1", "customFields": [{"id": tags["id"], "value": [
        {"label": "Two"}, {"label": "Three"}, {"label": "Two"}]}]})
    assert value_of(two_three, tags) == [{"label": "Two"}, {"label": "Three"}]
    assert labels(upflow, tags) == ["One", "Two", "Three"]  # options stay for the other customers
    for clearing in ([], None):
        imported(upflow, {"externalId": "C-1", "customFields": [{"id": tags["id"], "value": ["One"]}]})
        cleared = imported(upflow, {"externalId": "C-1", "customFields": [{"id": tags["id"], "value": clearing}]})
        assert cleared["customFields"] == [] == upflow.customer(customer["id"])["customFields"]


def test_values_are_typed_by_data_type(upflow):
    fields = {data_type: define(upflow, name=data_type.title(), dataType=data_type)
              for data_type in ("STRING", "NUMBER", "BOOLEAN", "DATE")}
    sent = {"STRING": "Paris", "NUMBER": 12.50, "BOOLEAN": False, "DATE": "2024-03-01"}
    customer = imported(upflow, {"name": "Typed", "customFields": [
        {"id": fields[data_type]["id"], "value": value} for data_type, value in sent.items()]})
    shown = {data_type: value_of(customer, field) for data_type, field in fields.items()}
    assert shown == {"STRING": "Paris", "NUMBER": 12.5, "BOOLEAN": False, "DATE": "2024-03-01"}
    assert '"value":12.5' in upflow.get(f"/customers/{customer['id']}").text  # an exact JSON number
    whole = upflow.ok("PUT", f"/customers/{customer['id']}", {"customFields": [
        {"id": fields["NUMBER"]["id"], "value": 1000}, {"id": fields["DATE"]["id"], "value": "2024-03-02T00:00:00Z"}]})
    assert (value_of(whole, fields["NUMBER"]), value_of(whole, fields["DATE"])) == (1000, "2024-03-02")


def test_a_field_is_found_by_external_id_and_fields_not_sent_are_kept(upflow):
    tier = define(upflow, name="Tier", externalId="tier", dataType="SELECT")
    note = define(upflow, name="Note", externalId="note", dataType="STRING")
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "customFields": [
        {"externalId": "tier", "value": "Gold"}, {"externalId": "note", "value": "kept"}]})
    updated = upflow.ok("PUT", f"/customers/{customer['id']}", {"customFields": [
        {"externalId": "tier", "value": "Silver"}]})
    assert (value_of(updated, tier), value_of(updated, note)) == ({"label": "Silver"}, "kept")
    # An unknown id falls back on the externalId, as the guide's examples send both.
    fallback = upflow.ok("PUT", f"/customers/{customer['id']}", {"customFields": [
        {"id": str(uuid.uuid4()), "externalId": "tier", "value": "Bronze"}]})
    assert value_of(fallback, tier) == {"label": "Bronze"}


@pytest.mark.parametrize("item, words", [
    ({"id": "00000000-0000-4000-8000-000000000000", "value": "Gold"}, "no custom field"),
    ({"externalId": "nope", "value": "Gold"}, "no custom field"),
    ({"value": "Gold"}, "no custom field"),
    ("invoice field", "of INVOICE, not of CUSTOMER"),
    ({"id": "tier"}, "value"),
    ({"id": "tier", "value": 3}, "SELECT"),
    ({"id": "tier", "value": {"label": ""}}, "label"),
    ({"id": "tier", "value": [{"label": "A"}]}, "not a list"),
    ({"id": "number", "value": "12"}, "NUMBER"),
    ({"id": "number", "value": True}, "NUMBER"),
    ({"id": "boolean", "value": "true"}, "BOOLEAN"),
    ({"id": "date", "value": "01/03/2024"}, "date"),
    ({"id": "string", "value": 12}, "STRING"),
    ({"id": "string", "value": "x" * 1025}, "1024"),
    ("twice", "twice"),
    (42, "object"),
])
def test_a_refused_value_is_400_and_changes_nothing(upflow, context, org, item, words):
    fields = {"tier": define(upflow, name="Tier", dataType="SELECT"),
              "number": define(upflow, name="N", dataType="NUMBER"),
              "boolean": define(upflow, name="B", dataType="BOOLEAN"),
              "date": define(upflow, name="D", dataType="DATE"),
              "string": define(upflow, name="S", dataType="STRING"),
              "note": define(upflow, name="Note", dataType="STRING"),
              "invoice": define(upflow, name="Invoice tier", entityType="INVOICE", dataType="SELECT")}
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "customFields": [
        {"id": fields["tier"]["id"], "value": "Gold"}]})
    if item == "invoice field":
        items = [{"id": fields["invoice"]["id"], "value": "Gold"}]
    elif item == "twice":
        items = [{"id": fields["tier"]["id"], "value": "A"}, {"externalId": None, "id": fields["tier"]["id"],
                                                               "value": "B"}]
    elif isinstance(item, dict) and item.get("id") in fields:
        items = [{**item, "id": fields[item["id"]]["id"]}]
    else:
        items = [item]
    items = [{"id": fields["note"]["id"], "value": "set before the refused one"}, *items]
    before = book_snapshot(context, org.id)
    for call in (lambda: upflow.post("/customers", {"externalId": "C-1", "name": "Renamed", "customFields": items}),
                 lambda: upflow.post("/customers", {"externalId": "C-NEW", "name": "New", "customFields": items}),
                 lambda: upflow.put(f"/customers/{customer['id']}", {"name": "Renamed", "customFields": items})):
        body = upflow_error(call(), 400)
        where = "customFields[2]" if item == "twice" else "customFields[1]"
        assert where in body["message"] and words in body["message"], body
        assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"]) == customer
    assert labels(upflow, fields["tier"]) == ["Gold"]


def test_custom_fields_must_be_a_list(upflow):
    upflow_error(upflow.post("/customers", {"name": "A", "customFields": {"id": "x", "value": 1}}), 400)


def test_deleting_a_field_removes_its_values_and_options(upflow, context, org):
    tier = define(upflow, name="Tier", dataType="SELECT")
    note = define(upflow, name="Note", dataType="STRING")
    customer = imported(upflow, {"name": "Acme", "customFields": [{"id": tier["id"], "value": "Gold"},
                                                                  {"id": note["id"], "value": "x"}]})
    assert upflow.delete(f"/custom_fields/{tier['id']}").status_code == 204
    assert [shown["id"] for shown in upflow.customer(customer["id"])["customFields"]] == [note["id"]]
    snapshot = book_snapshot(context, org.id)
    assert len(snapshot["custom_field_options"]) == 0 and len(snapshot["custom_field_values"]) == 1


def test_deleting_a_customer_removes_its_values(upflow, context, org):
    note = define(upflow, name="Note", dataType="STRING")
    customer = imported(upflow, {"name": "Acme", "customFields": [{"id": note["id"], "value": "x"}]})
    assert upflow.delete(f"/customers/{customer['id']}").status_code == 204
    assert book_snapshot(context, org.id)["custom_field_values"] == []


def test_a_change_through_oneup_keeps_the_custom_fields(client, upflow, org):
    note = define(upflow, name="Note", dataType="STRING")
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "customFields": [{"id": note["id"],
                                                                                        "value": "x"}]})
    oneup = OneUpClient(client, org)
    (row,) = [row for row in oneup.ok("GET", "/customers") if row["full_name"] == "Acme"]
    oneup.ok("PUT", f"/customers/{row['id']}", {"company_name": "Acme 2"})
    assert upflow.customer(customer["id"])["customFields"] == customer["customFields"]


# == the customFieldData_<id>.eq filter =============================================================


@pytest.fixture
def tiered(upflow) -> dict:
    """Five customers: tier Gold (C-1, C-3), Silver (C-2), none (C-4); tags One+Two (C-1), Two (C-2);
    vip true (C-1, C-2), false (C-3); seats 12.5 (C-1), 3 (C-3); region "Paris" (C-1), "paris" (C-2)."""
    fields = {"tier": define(upflow, name="Tier", dataType="SELECT"),
              "tags": define(upflow, name="Tags", dataType="MULTI_SELECT"),
              "vip": define(upflow, name="VIP", dataType="BOOLEAN"),
              "seats": define(upflow, name="Seats", dataType="NUMBER"),
              "region": define(upflow, name="Region", externalId="region", dataType="STRING"),
              "day": define(upflow, name="Since", dataType="DATE")}
    values = {"C-1": {"tier": "Gold", "tags": ["One", "Two"], "vip": True, "seats": 12.5, "region": "Paris",
                      "day": "2024-01-01"},
              "C-2": {"tier": "Silver", "tags": ["Two"], "vip": True, "region": "paris"},
              "C-3": {"tier": "Gold", "vip": False, "seats": 3},
              "C-4": {}}
    for external_id, sent in values.items():
        imported(upflow, {"externalId": external_id, "name": f"Customer {external_id}", "customFields": [
            {"id": fields[name]["id"], "value": value} for name, value in sent.items()]})
    imported(upflow, {"externalId": "C-5", "name": "Customer C-5"})
    return fields


@pytest.mark.parametrize("name, value, expected", [
    ("tier", "Gold", ["C-1", "C-3"]),
    ("tier", "Silver", ["C-2"]),
    ("tier", "gold", []),
    ("tier", "Bronze", []),
    ("tags", "Two", ["C-1", "C-2"]),
    ("tags", "One", ["C-1"]),
    ("vip", "true", ["C-1", "C-2"]),
    ("vip", "false", ["C-3"]),
    ("seats", "12.50", ["C-1"]),
    ("seats", "3", ["C-3"]),
    ("region", "Paris", ["C-1"]),
    ("day", "2024-01-01", ["C-1"]),
])
def test_the_filter_returns_exactly_the_matching_customers(upflow, tiered, name, value, expected):
    answer = filtered(upflow, tiered[name], value)
    assert [customer["externalId"] for customer in answer["customers"]] == expected
    assert answer["total"] == len(expected)


def test_several_filters_and_together_and_the_total_counts_the_filtered_set(upflow, tiered):
    params = {f"customFieldData_{tiered['tier']['id']}.eq": "Gold", f"customFieldData_{tiered['vip']['id']}.eq": "true"}
    assert [c["externalId"] for c in listed(upflow, **params)["customers"]] == ["C-1"]
    both_tags = upflow.ok("GET", f"/customers?customFieldData_{tiered['tags']['id']}.eq=One"
                                 f"&customFieldData_{tiered['tags']['id']}.eq=Two")
    assert [c["externalId"] for c in both_tags["customers"]] == ["C-1"]
    paged = filtered(upflow, tiered["tier"], "Gold", limit=1, offset=1)
    assert (paged["total"], [c["externalId"] for c in paged["customers"]]) == (2, ["C-3"])
    assert listed(upflow)["total"] == 5  # no filter: every customer
    by_external = listed(upflow, **{"customFieldData_external:region.eq": "paris"})
    assert [c["externalId"] for c in by_external["customers"]] == ["C-2"]


def test_a_filter_on_an_unknown_or_foreign_field_or_with_a_bad_value_is_400(upflow, tiered):
    invoice_field = define(upflow, name="Invoice tier", entityType="INVOICE", dataType="SELECT")
    for params in ({f"customFieldData_{uuid.uuid4()}.eq": "Gold"},
                   {f"customFieldData_{invoice_field['id']}.eq": "Gold"},
                   {f"customFieldData_{tiered['tier']['id']}.ne": "Gold"},
                   {f"customFieldData_{tiered['tier']['id']}": "Gold"},
                   {f"customFieldData_{tiered['vip']['id']}.eq": "yes"},
                   {f"customFieldData_{tiered['seats']['id']}.eq": "many"}):
        upflow_error(upflow.get("/customers", params=params), 400)


# == isolation =====================================================================================


def test_another_organization_cannot_see_or_use_the_fields(upflow, other_upflow, context, org):
    tier = define(upflow, name="Tier", externalId="tier", dataType="SELECT")
    imported(upflow, {"externalId": "C-1", "name": "Acme", "customFields": [{"id": tier["id"], "value": "Gold"}]})
    before = book_snapshot(context, org.id)

    assert other_upflow.ok("GET", "/custom_fields") == {"offset": 0, "limit": 100, "total": 0, "items": []}
    for ref in (tier["id"], "external:tier"):
        upflow_error(other_upflow.get(f"/custom_fields/{ref}"), 404)
        upflow_error(other_upflow.delete(f"/custom_fields/{ref}"), 404)
    for item in ({"id": tier["id"], "value": "Gold"}, {"externalId": "tier", "value": "Gold"}):
        upflow_error(other_upflow.post("/customers", {"name": "Thief", "customFields": [item]}), 400)
    upflow_error(other_upflow.get("/customers", params={f"customFieldData_{tier['id']}.eq": "Gold"}), 400)
    assert other_upflow.ok("GET", "/customers")["total"] == 0
    assert book_snapshot(context, org.id) == before

    # The same externalId in the other organization is another field, with its own options.
    theirs = define(other_upflow, name="Their tier", externalId="tier", dataType="SELECT")
    assert theirs["id"] != tier["id"]
    other_upflow.ok("POST", "/customers", {"name": "Theirs", "customFields": [{"externalId": "tier", "value": "Gold"}]})
    assert labels(other_upflow, theirs) == ["Gold"]
    assert book_snapshot(context, org.id) == before
    assert [c["externalId"] for c in filtered(upflow, tier, "Gold")["customers"]] == ["C-1"]


# == exactly once under concurrency =================================================================


def test_fifty_concurrent_imports_setting_one_new_label_create_one_option(base_url, upflow, org,  # noqa: F811
                                                                          is_postgres):
    """50 existing customers re-imported at once, each setting the same new SELECT label and the same
    new MULTI_SELECT labels: on PostgreSQL the inserts of the option really race (the customers differ,
    so nothing else serializes them) and the unique index lets one win; the others take its option.
    SQLite serializes writers, and the same must hold there."""
    assert is_postgres == os.environ.get("COMPTOIR_TEST_DATABASE_URL", "").startswith("postgresql")
    tier = define(upflow, name="Tier", externalId="tier", dataType="SELECT")
    tags = define(upflow, name="Tags", externalId="tags", dataType="MULTI_SELECT")
    for n in range(WORKERS):
        imported(upflow, {"externalId": f"RACE-{n}", "name": f"Customer {n}"})
    body = {"customFields": [{"id": tier["id"], "value": {"label": "Platinum"}},
                             {"externalId": "tags", "value": [{"label": "Hot"}, {"label": "New"}]}]}
    barrier = threading.Barrier(WORKERS, timeout=TIMEOUT_S)

    def one(n: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=TIMEOUT_S) as http:
            assert http.get("/users").status_code == 200  # connected before the start
            barrier.wait()
            return http.post("/customers", json={"externalId": f"RACE-{n}", **body})

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        responses = list(pool.map(one, range(WORKERS)))

    failed = [(r.status_code, r.text) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {WORKERS} imports failed, e.g. {failed[0]}"
    assert labels(upflow, tier) == ["Platinum"]
    assert sorted(labels(upflow, tags)) == ["Hot", "New"]
    customers = filtered(upflow, tier, "Platinum")
    assert customers["total"] == WORKERS
    assert all(value_of(c, tags) == [{"label": "Hot"}, {"label": "New"}] for c in customers["customers"])
