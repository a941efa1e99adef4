"""Upflow v1 customers through the real app (seeds/upflow-v1-integration-guide.txt, specs/upflow.md
§1-6, 8): import (create or update by externalId), addressing by `id` or `external:<externalId>`,
PUT, DELETE, lists, the mapped fields, one book shared with OneUp, and isolation between
organizations."""

from __future__ import annotations

import uuid

import pytest

from ..helpers import OneUpClient, book_snapshot
from .conftest import upflow_error

FULL_ADDRESS = {"address": "12 rue de Rivoli", "zipcode": "75004", "city": "Paris", "state": "Île-de-France",
                "country": "France"}
PAYMENT_METHODS = {"card": {"enabled": True}, "check": {"enabled": False}, "achDebit": {"enabled": False},
                   "sepaDebit": {"enabled": True}, "goCardless": {"enabled": False},
                   "wireTransfer": {"enabled": True, "bankAccount": {"id": "b-1"}, "bankAccounts": [{"id": "b-1"}]}}


def imported(upflow, body: dict) -> dict:
    return upflow.ok("POST", "/customers", body)


def is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (TypeError, ValueError):
        return False


def plan_ids(upflow) -> list[str]:
    plans = upflow.ok("GET", "/dunning_plans")
    assert set(plans) >= {"offset", "limit", "total", "items"}, plans
    assert plans["items"] and plans["total"] == len(plans["items"])
    return [plan["id"] for plan in plans["items"]]


# == import: create or update by externalId =======================================================


def test_import_creates_a_customer_with_a_uuid_and_returns_it(upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert is_uuid(customer["id"])
    assert customer["externalId"] == "C-1"
    assert customer["name"] == "Acme"
    assert customer["contacts"] == []
    assert customer["directUrl"]
    assert upflow.customer(customer["id"]) == customer


def test_reimporting_the_same_external_id_updates_the_same_customer(upflow):
    first = imported(upflow, {"externalId": "C-1", "name": "Acme", "vatNumber": "FR123"})
    second = imported(upflow, {"externalId": "C-1", "name": "Acme Corporation"})
    assert second["id"] == first["id"]
    assert second["name"] == "Acme Corporation"
    assert second["vatNumber"] == "FR123"  # not sent, so kept
    listed = upflow.ok("GET", "/customers")
    assert listed["total"] == 1
    assert [row["id"] for row in listed["customers"]] == [first["id"]]
    assert upflow.customer("external:C-1") == second


def test_reimport_without_name_updates_an_existing_customer(upflow):
    first = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    second = imported(upflow, {"externalId": "C-1", "vatNumber": "FR999"})
    assert (second["id"], second["name"], second["vatNumber"]) == (first["id"], "Acme", "FR999")


@pytest.mark.parametrize("body", [{"externalId": "C-1"}, {"externalId": "C-1", "name": ""},
                                  {"externalId": "C-1", "name": None}, {"vatNumber": "FR1"}, {}])
def test_name_is_required_to_create(upflow, context, org, body):
    before = book_snapshot(context, org.id)
    body_of_error = upflow_error(upflow.post("/customers", body), 400)
    assert "name" in body_of_error["message"]
    assert book_snapshot(context, org.id) == before
    assert upflow.ok("GET", "/customers")["total"] == 0


def test_import_without_external_id_creates_a_customer_each_time(upflow):
    first = imported(upflow, {"name": "No Ref"})
    second = imported(upflow, {"name": "No Ref"})
    assert first["id"] != second["id"]
    assert first["externalId"] is None
    assert upflow.ok("GET", "/customers")["total"] == 2


def test_import_with_an_id_updates_that_customer(upflow):
    customer = imported(upflow, {"name": "Acme"})
    updated = imported(upflow, {"id": customer["id"], "name": "Acme 2"})
    assert updated["id"] == customer["id"]
    assert upflow.customer(customer["id"])["name"] == "Acme 2"
    assert upflow.ok("GET", "/customers")["total"] == 1


@pytest.mark.parametrize("raw, content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"externalId": "C-1", "name": 42}', "application/json"),
    (b'{"externalId": "C-1", "name": "Acme", "address": "12 rue"}', "application/json"),
    (b'{"externalId": "C-1", "name": "Acme", "contacts": {"email": "a@b.c"}}', "application/json"),
])
def test_malformed_or_mistyped_bodies_are_400_with_message_and_error(upflow, context, org, raw, content_type):
    before = book_snapshot(context, org.id)
    response = upflow.client.post("/upflow/v1/customers", content=raw,
                                  headers={**upflow.headers, "Content-Type": content_type})
    upflow_error(response, 400)
    assert book_snapshot(context, org.id) == before


# == reading ======================================================================================


def test_get_by_id_and_by_external_id_return_the_same_customer(upflow):
    customer = imported(upflow, {"externalId": "ext 42:é", "name": "Acme"})
    by_id = upflow.customer(customer["id"])
    by_external = upflow.ok("GET", "/customers/external:ext%2042:%C3%A9")
    assert by_id == by_external == customer


@pytest.mark.parametrize("ref", [str(uuid.uuid4()), "external:nope", "not-a-uuid"])
def test_an_unknown_customer_is_404(upflow, ref):
    imported(upflow, {"externalId": "C-1", "name": "Acme"})
    upflow_error(upflow.get(f"/customers/{ref}"), 404)
    upflow_error(upflow.put(f"/customers/{ref}", {"name": "X"}), 404)
    upflow_error(upflow.delete(f"/customers/{ref}"), 404)


# == PUT ==========================================================================================


def test_put_assigns_a_dunning_plan_and_changes_nothing_else(upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "vatNumber": "FR1", "address": FULL_ADDRESS})
    plan = plan_ids(upflow)[0]
    updated = upflow.ok("PUT", f"/customers/{customer['id']}", {"dunningPlanId": plan})
    assert updated["id"] == customer["id"]
    assert updated["dunningPlanId"] == plan
    fetched = upflow.customer(customer["id"])
    assert fetched["dunningPlanId"] == plan
    unchanged = ("name", "externalId", "vatNumber", "address", "contacts", "parent", "accountManagerId")
    assert {key: fetched[key] for key in unchanged} == {key: customer[key] for key in unchanged}


def test_put_by_external_id_and_another_plan(upflow):
    imported(upflow, {"externalId": "C-1", "name": "Acme"})
    first, second = plan_ids(upflow)[:2]
    assert upflow.ok("PUT", "/customers/external:C-1", {"dunningPlanId": first})["dunningPlanId"] == first
    assert upflow.ok("PUT", "/customers/external:C-1", {"dunningPlanId": second})["dunningPlanId"] == second
    assert upflow.customer("external:C-1")["dunningPlanId"] == second
    assert upflow.ok("PUT", "/customers/external:C-1", {"dunningPlanId": None})["dunningPlanId"] is None
    assert upflow.customer("external:C-1")["dunningPlanId"] is None


def test_import_can_assign_a_dunning_plan(upflow):
    plan = plan_ids(upflow)[1]
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "dunningPlanId": plan})
    assert upflow.customer(customer["id"])["dunningPlanId"] == plan
    again = imported(upflow, {"externalId": "C-1", "name": "Acme"})  # not sent: kept
    assert again["dunningPlanId"] == plan


def test_an_unknown_dunning_plan_is_400_and_changes_nothing(upflow, context, org):
    plan = plan_ids(upflow)[0]
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "dunningPlanId": plan})
    before = book_snapshot(context, org.id)
    unknown = str(uuid.uuid4())
    upflow_error(upflow.put(f"/customers/{customer['id']}", {"dunningPlanId": unknown}), 400)
    upflow_error(upflow.put(f"/customers/{customer['id']}", {"name": "Renamed", "dunningPlanId": unknown}), 400)
    upflow_error(upflow.post("/customers", {"externalId": "C-1", "name": "Renamed", "dunningPlanId": unknown}), 400)
    upflow_error(upflow.post("/customers", {"externalId": "C-2", "name": "New", "dunningPlanId": unknown}), 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"]) == customer
    upflow_error(upflow.get("/customers/external:C-2"), 404)


def test_another_organizations_dunning_plan_is_unknown(upflow, other_upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    theirs = set(plan_ids(other_upflow)) - set(plan_ids(upflow))
    for plan in theirs:
        upflow_error(upflow.put(f"/customers/{customer['id']}", {"dunningPlanId": plan}), 400)


def test_put_renames_and_an_empty_name_is_refused(upflow, context, org):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert upflow.ok("PUT", f"/customers/{customer['id']}", {"name": "Acme SA"})["name"] == "Acme SA"
    before = book_snapshot(context, org.id)
    upflow_error(upflow.put(f"/customers/{customer['id']}", {"name": ""}), 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"])["name"] == "Acme SA"


# == DELETE =======================================================================================


def test_delete_is_204_then_the_customer_is_gone(upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    keep = imported(upflow, {"externalId": "C-2", "name": "Other"})
    response = upflow.delete(f"/customers/{customer['id']}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    upflow_error(upflow.get(f"/customers/{customer['id']}"), 404)
    upflow_error(upflow.get("/customers/external:C-1"), 404)
    upflow_error(upflow.delete(f"/customers/{customer['id']}"), 404)
    listed = upflow.ok("GET", "/customers")
    assert listed["total"] == 1 and [row["id"] for row in listed["customers"]] == [keep["id"]]


def test_delete_by_external_id_and_reimport_creates_anew(upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert upflow.delete("/customers/external:C-1").status_code == 204
    upflow_error(upflow.get(f"/customers/{customer['id']}"), 404)
    again = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert again["id"] != customer["id"]
    assert upflow.customer("external:C-1")["id"] == again["id"]


# == lists ========================================================================================


def test_the_list_envelope_and_paging(upflow):
    ids = [imported(upflow, {"externalId": f"C-{n}", "name": f"Customer {n}"})["id"] for n in range(7)]
    full = upflow.ok("GET", "/customers", params={"limit": 1000})
    assert set(full) >= {"offset", "limit", "total", "customers"}
    assert (full["offset"], full["limit"], full["total"]) == (0, 1000, 7)
    assert sorted(row["id"] for row in full["customers"]) == sorted(ids)

    seen = []
    for offset in range(0, 9, 3):
        page = upflow.ok("GET", "/customers", params={"offset": offset, "limit": 3})
        assert (page["offset"], page["limit"], page["total"]) == (offset, 3, 7)
        assert len(page["customers"]) == min(3, 7 - offset)
        seen += [row["id"] for row in page["customers"]]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 7
    past_the_end = upflow.ok("GET", "/customers", params={"offset": 50, "limit": 10})
    assert past_the_end["customers"] == [] and past_the_end["total"] == 7
    rows = {row["id"]: row for row in full["customers"]}
    for ref in ids:  # list rows are the customers as GET shows them
        assert rows[ref] == upflow.customer(ref)


def test_a_page_holds_at_most_1000(upflow):
    imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert upflow.ok("GET", "/customers", params={"limit": 1000})["limit"] == 1000
    upflow_error(upflow.get("/customers", params={"limit": 1001}), 400)
    upflow_error(upflow.get("/customers", params={"limit": "ten"}), 400)


def test_an_empty_list(upflow):
    listed = upflow.ok("GET", "/customers")
    assert listed["total"] == 0 and listed["customers"] == [] and listed["offset"] == 0


# == mapped fields ================================================================================


def test_address_round_trips(upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "address": FULL_ADDRESS})
    assert customer["address"] == FULL_ADDRESS
    assert upflow.customer(customer["id"])["address"] == FULL_ADDRESS
    again = imported(upflow, {"externalId": "C-1", "name": "Acme"})  # address not sent: kept
    assert again["address"] == FULL_ADDRESS
    moved = {"address": "1 Main St", "zipcode": "94102", "city": "San Francisco", "state": "California",
             "country": "United States"}
    assert upflow.ok("PUT", f"/customers/{customer['id']}", {"address": moved})["address"] == moved
    assert upflow.customer(customer["id"])["address"] == moved


def test_vat_number_and_accounting_ref_are_stored_and_returned(upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "vatNumber": "FR40303265045",
                                 "accountingRef": "UPFL"})
    assert (customer["vatNumber"], customer["accountingRef"]) == ("FR40303265045", "UPFL")
    fetched = upflow.customer("external:C-1")
    assert (fetched["vatNumber"], fetched["accountingRef"]) == ("FR40303265045", "UPFL")
    updated = upflow.ok("PUT", "/customers/external:C-1", {"accountingRef": "411ACME"})
    assert (updated["vatNumber"], updated["accountingRef"]) == ("FR40303265045", "411ACME")


def test_payment_methods_and_custom_fields_are_stored_and_returned(upflow):
    tier = upflow.post("/custom_fields", {"name": "Tier", "externalId": "tier", "dataType": "SELECT"}).json()
    note = upflow.post("/custom_fields", {"name": "Note", "dataType": "STRING"}).json()
    sent = [{"id": tier["id"], "value": {"label": "Gold"}}, {"id": note["id"], "value": "VIP"}]
    shown = [{"id": tier["id"], "externalId": "tier", "name": "Tier", "value": {"label": "Gold"}},
             {"id": note["id"], "externalId": None, "name": "Note", "value": "VIP"}]
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "paymentMethods": PAYMENT_METHODS,
                                 "customFields": sent})
    for read in (customer, upflow.customer(customer["id"])):
        assert read["paymentMethods"] == PAYMENT_METHODS
        assert read["customFields"] == shown
    kept = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert (kept["paymentMethods"], kept["customFields"]) == (PAYMENT_METHODS, shown)
    card_only = {"card": {"enabled": True}}
    changed = upflow.ok("PUT", f"/customers/{customer['id']}", {"paymentMethods": card_only,
                                                                "customFields": [{"id": note["id"], "value": None}]})
    assert (changed["paymentMethods"], changed["customFields"]) == (card_only, shown[:1])
    assert upflow.customer(customer["id"])["customFields"] == shown[:1]


def test_parent_by_external_id_and_by_id(upflow):
    parent = imported(upflow, {"externalId": "P-1", "name": "Holding"})
    by_external = imported(upflow, {"externalId": "C-1", "name": "Child 1", "parent": {"externalId": "P-1"}})
    by_id = imported(upflow, {"externalId": "C-2", "name": "Child 2", "parent": {"id": parent["id"]}})
    link = {"id": parent["id"], "externalId": "P-1"}
    assert by_external["parent"] == link and by_id["parent"] == link
    assert upflow.customer("external:C-1")["parent"] == link
    assert upflow.customer(by_id["id"])["parent"] == link
    assert upflow.customer(parent["id"])["parent"] is None
    kept = imported(upflow, {"externalId": "C-1", "name": "Child 1"})  # not sent: kept
    assert kept["parent"] == link
    cleared = upflow.ok("PUT", "/customers/external:C-1", {"parent": None})
    assert cleared["parent"] is None and upflow.customer("external:C-1")["parent"] is None


def test_an_unknown_or_circular_parent_is_400_and_changes_nothing(upflow, context, org):
    parent = imported(upflow, {"externalId": "P-1", "name": "Holding"})
    child = imported(upflow, {"externalId": "C-1", "name": "Child", "parent": {"id": parent["id"]}})
    before = book_snapshot(context, org.id)
    upflow_error(upflow.post("/customers", {"externalId": "C-2", "name": "X", "parent": {"externalId": "nope"}}), 400)
    upflow_error(upflow.post("/customers", {"externalId": "C-2", "name": "X", "parent": {"id": str(uuid.uuid4())}}),
                 400)
    upflow_error(upflow.post("/customers", {"externalId": "C-1", "name": "Y", "parent": {"externalId": "nope"}}), 400)
    upflow_error(upflow.put(f"/customers/{parent['id']}", {"parent": {"id": parent["id"]}}), 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(child["id"]) == child


def test_a_parent_cycle_is_400_and_changes_nothing(upflow, context, org):
    """A customer cannot be its own parent (refused above); nor its own grandparent."""
    imported(upflow, {"externalId": "A", "name": "A"})
    imported(upflow, {"externalId": "B", "name": "B", "parent": {"externalId": "A"}})
    imported(upflow, {"externalId": "C", "name": "C", "parent": {"externalId": "B"}})
    before = book_snapshot(context, org.id)
    upflow_error(upflow.put("/customers/external:A", {"parent": {"externalId": "B"}}), 400)
    upflow_error(upflow.post("/customers", {"externalId": "A", "name": "A", "parent": {"externalId": "C"}}), 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer("external:A")["parent"] is None


def test_account_manager_from_users(upflow, context, org):
    users = upflow.ok("GET", "/users")["users"]
    assert users and all(is_uuid(user["id"]) for user in users)
    manager = users[0]["id"]
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "accountManagerId": manager})
    assert customer["accountManagerId"] == manager
    assert upflow.customer(customer["id"])["accountManagerId"] == manager
    before = book_snapshot(context, org.id)
    upflow_error(upflow.put(f"/customers/{customer['id']}", {"accountManagerId": str(uuid.uuid4())}), 400)
    upflow_error(upflow.post("/customers", {"externalId": "C-2", "name": "B", "accountManagerId": "nobody"}), 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.ok("PUT", f"/customers/{customer['id']}", {"accountManagerId": None})["accountManagerId"] is None


def test_another_organizations_user_is_no_account_manager(upflow, other_upflow):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme"})
    theirs = other_upflow.ok("GET", "/users")["users"][0]["id"]
    upflow_error(upflow.put(f"/customers/{customer['id']}", {"accountManagerId": theirs}), 400)


# == one book with OneUp ==========================================================================


def test_an_imported_customer_is_a_oneup_customer(client, upflow, org):
    oneup = OneUpClient(client, org)
    imported(upflow, {"externalId": "C-1", "name": "Acme", "vatNumber": "FR1", "address": FULL_ADDRESS})
    rows = oneup.ok("GET", "/customers")
    assert [row["full_name"] for row in rows] == ["Acme"]
    row = rows[0]
    assert row["taxpayer_id"] == "FR1"
    assert (row["address"]["street_line1"], row["address"]["postal_code"], row["address"]["city"],
            row["address"]["locality"], row["address"]["country"]) == tuple(FULL_ADDRESS.values())
    imported(upflow, {"externalId": "C-1", "name": "Acme Renamed"})
    assert [row["full_name"] for row in oneup.ok("GET", "/customers")] == ["Acme Renamed"]


def test_a_oneup_customer_without_external_id_is_an_upflow_customer(client, upflow, org):
    oneup = OneUpClient(client, org)
    oneup.ok("POST", "/customers", {"type": 1, "company_name": "Made In OneUp"})
    listed = upflow.ok("GET", "/customers")
    assert listed["total"] == 1
    row = listed["customers"][0]
    assert row["name"] == "Made In OneUp" and row["externalId"] is None and is_uuid(row["id"])
    assert upflow.customer(row["id"]) == row
    updated = upflow.ok("PUT", f"/customers/{row['id']}", {"vatNumber": "DE1"})
    assert updated["vatNumber"] == "DE1"
    assert oneup.ok("GET", "/customers")[0]["taxpayer_id"] == "DE1"


def test_a_customer_deleted_in_upflow_is_gone_from_oneup(client, upflow, org):
    oneup = OneUpClient(client, org)
    imported(upflow, {"externalId": "C-1", "name": "Acme"})
    assert upflow.delete("/customers/external:C-1").status_code == 204
    assert oneup.ok("GET", "/customers") == []


# == isolation ====================================================================================


def test_another_organization_cannot_see_or_touch_a_customer(upflow, other_upflow, context, org):
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "contacts": [{"email": "a@acme.test"}]})
    contact = customer["contacts"][0]["id"]
    before = book_snapshot(context, org.id)
    for ref in (customer["id"], "external:C-1"):
        upflow_error(other_upflow.get(f"/customers/{ref}"), 404)
        upflow_error(other_upflow.put(f"/customers/{ref}", {"name": "Stolen"}), 404)
        upflow_error(other_upflow.delete(f"/customers/{ref}"), 404)
        upflow_error(other_upflow.get(f"/customers/{ref}/contacts"), 404)
        upflow_error(other_upflow.get(f"/customers/{ref}/contacts/{contact}"), 404)
        upflow_error(other_upflow.post(f"/customers/{ref}/contacts", {"email": "x@y.test"}), 404)
    upflow_error(other_upflow.post("/customers", {"id": customer["id"], "name": "Stolen"}), 404)
    upflow_error(other_upflow.post("/customers", {"externalId": "B-1", "name": "B",
                                                  "parent": {"id": customer["id"]}}), 400)
    assert book_snapshot(context, org.id) == before
    assert other_upflow.ok("GET", "/customers")["total"] == 0


def test_the_same_external_id_in_two_organizations_is_two_customers(upflow, other_upflow):
    mine = imported(upflow, {"externalId": "C-1", "name": "Mine"})
    theirs = imported(other_upflow, {"externalId": "C-1", "name": "Theirs"})
    assert mine["id"] != theirs["id"]
    assert upflow.customer("external:C-1")["name"] == "Mine"
    assert other_upflow.customer("external:C-1")["name"] == "Theirs"
    assert [row["id"] for row in upflow.all_customers()] == [mine["id"]]
    assert [row["id"] for row in other_upflow.all_customers()] == [theirs["id"]]
    assert upflow.ok("GET", "/customers")["total"] == 1


# == a failed import changes nothing ==============================================================


def test_a_failed_reimport_changes_nothing(upflow, context, org):
    plan = plan_ids(upflow)[0]
    customer = imported(upflow, {"externalId": "C-1", "name": "Acme", "vatNumber": "FR1", "address": FULL_ADDRESS,
                                 "dunningPlanId": plan, "accountingRef": "A1", "paymentMethods": PAYMENT_METHODS,
                                 "contacts": [{"email": "a@acme.test", "position": "ACCOUNTING"},
                                              {"email": "b@acme.test", "position": "SALES"}]})
    before = book_snapshot(context, org.id)
    # Every field changes, a contact is dropped, another added, one renamed, and the last is invalid.
    response = upflow.post("/customers", {
        "externalId": "C-1", "name": "Renamed", "vatNumber": "FR2", "accountingRef": "A2",
        "address": {"city": "Lyon"}, "paymentMethods": {}, "dunningPlanId": None, "customFields": [],
        "contacts": [{"email": "a@acme.test", "firstName": "Ann"}, {"email": "c@acme.test"},
                     {"email": "d@acme.test", "position": "BOSS"}]})
    upflow_error(response, 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"]) == customer
