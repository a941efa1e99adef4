"""Upflow v1 contacts through the real app: the guide's rule that `contacts`, when present, is the
full list (seeds/upflow-v1-integration-guide.txt, "Contact List"), positions that must exist in
the organization ("Customer Contact relation"), and the dedicated /customers/{ref}/contacts
endpoints (specs/upflow.md §4, §6.2)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from ..helpers import book_snapshot
from .conftest import UpflowClient, upflow_error

POSITIONS = ("ACCOUNTING", "SALES", "PAYER", "PURCHASER")
ANN = {"externalId": "K-ann", "email": "ann@acme.test", "firstName": "Ann", "lastName": "Lee", "phone": "+33 1",
       "position": "ACCOUNTING", "isMain": True}
BOB = {"externalId": "K-bob", "email": "bob@acme.test", "firstName": "Bob", "position": "PAYER"}
CAT = {"email": "cat@acme.test", "firstName": "Cat", "position": "SALES"}


def imported(upflow, body: dict) -> dict:
    return upflow.ok("POST", "/customers", body)


def with_contacts(upflow, contacts: list[dict], external_id: str = "C-1") -> dict:
    return imported(upflow, {"externalId": external_id, "name": "Acme", "contacts": contacts})


def by_email(customer: dict) -> dict[str, dict]:
    return {contact["email"]: contact for contact in customer["contacts"]}


def sent_fields(contact: dict, sent: dict) -> dict:
    return {key: contact[key] for key in sent}


# == contacts in the customer import: the full list ===============================================


def test_contacts_are_created_with_the_customer(upflow):
    customer = with_contacts(upflow, [ANN, BOB, CAT])
    contacts = by_email(customer)
    assert set(contacts) == {"ann@acme.test", "bob@acme.test", "cat@acme.test"}
    for sent in (ANN, BOB, CAT):
        contact = contacts[sent["email"]]
        assert sent_fields(contact, sent) == sent
        assert str(uuid.UUID(contact["id"])) == contact["id"]
    assert contacts["cat@acme.test"]["externalId"] is None
    assert len({contact["id"] for contact in customer["contacts"]}) == 3
    assert upflow.customer(customer["id"])["contacts"] == customer["contacts"]


def test_the_list_replaces_matches_by_id_external_id_and_email(upflow):
    first = by_email(with_contacts(upflow, [ANN, BOB, CAT, {"email": "dan@acme.test"}]))
    # Ann matched by externalId (new email), Bob by id (new name), Cat by email; Dan is dropped; Eve is new.
    customer = with_contacts(upflow, [
        {"externalId": "K-ann", "email": "ann.lee@acme.test", "position": "PAYER"},
        {"id": first["bob@acme.test"]["id"], "email": "bob@acme.test", "firstName": "Robert"},
        {"email": "cat@acme.test", "lastName": "Stevens"},
        {"email": "eve@acme.test", "position": "PURCHASER"},
    ])
    contacts = by_email(customer)
    assert set(contacts) == {"ann.lee@acme.test", "bob@acme.test", "cat@acme.test", "eve@acme.test"}
    assert contacts["ann.lee@acme.test"]["id"] == first["ann@acme.test"]["id"]
    assert contacts["ann.lee@acme.test"]["position"] == "PAYER"
    assert contacts["bob@acme.test"]["id"] == first["bob@acme.test"]["id"]
    assert contacts["bob@acme.test"]["firstName"] == "Robert"
    assert contacts["cat@acme.test"]["id"] == first["cat@acme.test"]["id"]
    assert contacts["cat@acme.test"]["lastName"] == "Stevens"
    assert contacts["eve@acme.test"]["id"] not in {contact["id"] for contact in first.values()}
    assert upflow.customer(customer["id"])["contacts"] == customer["contacts"]
    listed = upflow.ok("GET", f"/customers/{customer['id']}/contacts")
    assert sorted(c["id"] for c in listed["contacts"]) == sorted(c["id"] for c in customer["contacts"])
    upflow_error(upflow.get(f"/customers/{customer['id']}/contacts/{first['dan@acme.test']['id']}"), 404)


def test_sending_the_same_list_again_keeps_every_id(upflow):
    customer = with_contacts(upflow, [ANN, BOB, CAT])
    again = with_contacts(upflow, [ANN, BOB, CAT])
    assert sorted(c["id"] for c in again["contacts"]) == sorted(c["id"] for c in customer["contacts"])
    assert by_email(again) == by_email(customer)


def test_omitting_contacts_leaves_them(upflow):
    customer = with_contacts(upflow, [ANN, BOB])
    reimported = imported(upflow, {"externalId": "C-1", "name": "Acme Renamed"})
    assert reimported["contacts"] == customer["contacts"]
    put = upflow.ok("PUT", f"/customers/{customer['id']}", {"vatNumber": "FR1"})
    assert put["contacts"] == customer["contacts"]
    assert upflow.customer(customer["id"])["contacts"] == customer["contacts"]


def test_an_empty_list_removes_every_contact(upflow):
    customer = with_contacts(upflow, [ANN, BOB])
    emptied = with_contacts(upflow, [])
    assert emptied["id"] == customer["id"] and emptied["contacts"] == []
    assert upflow.customer(customer["id"])["contacts"] == []
    listed = upflow.ok("GET", f"/customers/{customer['id']}/contacts")
    assert listed["total"] == 0 and listed["contacts"] == []


def test_put_with_contacts_follows_the_same_rule(upflow):
    first = by_email(with_contacts(upflow, [ANN, BOB]))
    customer = upflow.ok("PUT", "/customers/external:C-1", {"contacts": [{"externalId": "K-bob", "email": "bob@acme.test"},
                                                                        CAT]})
    contacts = by_email(customer)
    assert set(contacts) == {"bob@acme.test", "cat@acme.test"}
    assert contacts["bob@acme.test"]["id"] == first["bob@acme.test"]["id"]
    assert upflow.ok("PUT", "/customers/external:C-1", {"contacts": []})["contacts"] == []


def test_contacts_of_one_customer_are_not_matched_into_another(upflow):
    mine = with_contacts(upflow, [ANN], "C-1")
    other = with_contacts(upflow, [{"id": mine["contacts"][0]["id"], **ANN}], "C-2")
    assert other["contacts"][0]["id"] != mine["contacts"][0]["id"]
    assert upflow.customer("external:C-1")["contacts"] == mine["contacts"]


# == positions ====================================================================================


@pytest.mark.parametrize("position", POSITIONS)
def test_the_four_default_positions_are_accepted(upflow, position):
    customer = with_contacts(upflow, [{"email": "a@acme.test", "position": position}])
    assert customer["contacts"][0]["position"] == position
    contact = upflow.ok("POST", f"/customers/{customer['id']}/contacts", {"email": "b@acme.test", "position": position})
    assert contact["position"] == position


@pytest.mark.parametrize("position", ["BOSS", "accounting", "Accounting", "ACCOUNTING ", "COMPTABILITÉ", ""])
def test_an_unknown_position_is_400_and_nothing_is_stored(upflow, context, org, position):
    customer = with_contacts(upflow, [ANN])
    before = book_snapshot(context, org.id)
    for response in (
        upflow.post("/customers", {"externalId": "C-1", "name": "Acme", "contacts": [ANN, {**BOB, "position": position}]}),
        upflow.post("/customers", {"externalId": "C-2", "name": "New", "contacts": [{**BOB, "position": position}]}),
        upflow.put(f"/customers/{customer['id']}", {"contacts": [{**ANN, "position": position}]}),
        upflow.post(f"/customers/{customer['id']}/contacts", {**BOB, "position": position}),
        upflow.put(f"/customers/{customer['id']}/contacts/{customer['contacts'][0]['id']}", {"position": position}),
    ):
        error = upflow_error(response, 400)
        assert "position" in error["message"], error
        if position.strip():
            assert repr(position) in error["message"] or position in error["message"], error
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"]) == customer
    upflow_error(upflow.get("/customers/external:C-2"), 404)


def test_email_is_required_for_a_contact_in_the_customer_import(upflow, context, org):
    """specs/upflow.md §6.2: a contact's email is required, whichever way it is imported."""
    customer = with_contacts(upflow, [ANN])
    before = book_snapshot(context, org.id)
    for contacts in ([{"lastName": "Lee"}], [ANN, {"firstName": "Bob", "lastName": "Smith", "email": ""}]):
        for response in (upflow.post("/customers", {"externalId": "C-1", "name": "Acme", "contacts": contacts}),
                         upflow.post("/customers", {"externalId": "C-2", "name": "New", "contacts": contacts}),
                         upflow.put(f"/customers/{customer['id']}", {"contacts": contacts})):
            error = upflow_error(response, 400)
            assert "email" in error["message"], error
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"]) == customer


def test_the_same_contact_external_id_twice_in_a_list_is_400(app, upflow, context, org):
    customer = with_contacts(upflow, [ANN])
    before = book_snapshot(context, org.id)
    twice = [{"externalId": "K-x", "email": "x@acme.test"}, {"externalId": "K-x", "email": "z@acme.test"}]
    with TestClient(app, raise_server_exceptions=False) as client:
        plain = UpflowClient(client, org)
        for response in (plain.post("/customers", {"externalId": "C-2", "name": "New", "contacts": twice}),
                         plain.post("/customers", {"externalId": "C-1", "name": "Acme", "contacts": twice})):
            upflow_error(response, 400)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"]) == customer


# == dedicated endpoints ==========================================================================


def test_create_a_contact_and_read_it_by_id_and_external_id(upflow):
    customer = with_contacts(upflow, [])
    for ref in (customer["id"], "external:C-1"):
        upflow.ok("GET", f"/customers/{ref}/contacts")  # both ways of naming the customer work
    contact = upflow.ok("POST", "/customers/external:C-1/contacts", ANN)
    assert sent_fields(contact, ANN) == ANN
    assert str(uuid.UUID(contact["id"])) == contact["id"]
    for customer_ref in (customer["id"], "external:C-1"):
        for contact_ref in (contact["id"], "external:K-ann"):
            assert upflow.ok("GET", f"/customers/{customer_ref}/contacts/{contact_ref}") == contact
    assert upflow.customer(customer["id"])["contacts"] == [contact]


def test_email_is_required_to_create_a_contact(upflow, context, org):
    customer = with_contacts(upflow, [])
    before = book_snapshot(context, org.id)
    for body in ({"firstName": "Ann"}, {"email": ""}, {"email": None, "lastName": "Lee"}, {}):
        error = upflow_error(upflow.post(f"/customers/{customer['id']}/contacts", body), 400)
        assert "email" in error["message"]
    upflow_error(upflow.post(f"/customers/{customer['id']}/contacts", {"email": 42}), 400)
    assert book_snapshot(context, org.id) == before


def test_list_contacts_envelope_and_paging(upflow):
    customer = with_contacts(upflow, [ANN, BOB, CAT])
    listed = upflow.ok("GET", f"/customers/{customer['id']}/contacts")
    assert set(listed) >= {"offset", "limit", "total", "contacts"}
    assert listed["total"] == 3 and listed["offset"] == 0
    assert sorted(c["id"] for c in listed["contacts"]) == sorted(c["id"] for c in customer["contacts"])
    pages = [upflow.ok("GET", "/customers/external:C-1/contacts", params={"offset": offset, "limit": 2})
             for offset in (0, 2)]
    assert [len(page["contacts"]) for page in pages] == [2, 1]
    assert all(page["total"] == 3 for page in pages)
    assert sorted(c["id"] for page in pages for c in page["contacts"]) == sorted(c["id"] for c in customer["contacts"])


def test_put_updates_a_contact_and_keeps_its_id(upflow):
    customer = with_contacts(upflow, [ANN, BOB])
    ann = by_email(customer)["ann@acme.test"]
    updated = upflow.ok("PUT", f"/customers/{customer['id']}/contacts/{ann['id']}",
                        {"firstName": "Annie", "position": "SALES"})
    assert updated["id"] == ann["id"]
    assert (updated["firstName"], updated["position"]) == ("Annie", "SALES")
    assert (updated["email"], updated["lastName"], updated["externalId"]) == (ann["email"], ann["lastName"], "K-ann")
    by_external = upflow.ok("PUT", "/customers/external:C-1/contacts/external:K-ann", {"phone": "+33 9"})
    assert by_external["id"] == ann["id"] and by_external["phone"] == "+33 9"
    assert upflow.ok("GET", f"/customers/{customer['id']}/contacts/{ann['id']}") == by_external
    assert by_email(upflow.customer(customer["id"]))["bob@acme.test"] == by_email(customer)["bob@acme.test"]


def test_delete_a_contact(upflow):
    customer = with_contacts(upflow, [ANN, BOB])
    ann, bob = by_email(customer)["ann@acme.test"], by_email(customer)["bob@acme.test"]
    response = upflow.delete(f"/customers/{customer['id']}/contacts/{ann['id']}")
    assert response.status_code == 204 and response.content == b""
    upflow_error(upflow.get(f"/customers/{customer['id']}/contacts/{ann['id']}"), 404)
    upflow_error(upflow.delete(f"/customers/{customer['id']}/contacts/{ann['id']}"), 404)
    assert upflow.delete("/customers/external:C-1/contacts/external:K-bob").status_code == 204
    assert upflow.customer(customer["id"])["contacts"] == []
    assert upflow.ok("GET", f"/customers/{customer['id']}/contacts")["total"] == 0
    upflow_error(upflow.get(f"/customers/{customer['id']}/contacts/{bob['id']}"), 404)


def test_a_contact_is_only_reached_through_its_own_customer(upflow, other_upflow):
    mine = with_contacts(upflow, [ANN], "C-1")
    other = with_contacts(upflow, [BOB], "C-2")
    ann = mine["contacts"][0]
    for ref in (ann["id"], "external:K-ann"):
        upflow_error(upflow.get(f"/customers/{other['id']}/contacts/{ref}"), 404)
        upflow_error(upflow.put(f"/customers/{other['id']}/contacts/{ref}", {"firstName": "X"}), 404)
        upflow_error(upflow.delete(f"/customers/{other['id']}/contacts/{ref}"), 404)
    upflow_error(upflow.get(f"/customers/{mine['id']}/contacts/{uuid.uuid4()}"), 404)
    upflow_error(upflow.get(f"/customers/{mine['id']}/contacts/external:nope"), 404)
    upflow_error(upflow.get(f"/customers/{uuid.uuid4()}/contacts"), 404)
    upflow_error(upflow.post(f"/customers/{uuid.uuid4()}/contacts", {"email": "x@y.test"}), 404)
    assert upflow.customer(mine["id"]) == mine
    # another organization's contact list never shows these
    theirs = with_contacts(other_upflow, [ANN], "C-1")
    assert theirs["contacts"][0]["id"] != ann["id"]
    assert upflow.customer("external:C-1")["contacts"] == [ann]


@pytest.mark.parametrize("stale", ["unknown uuid", "deleted contact"])
def test_an_unknown_contact_id_reaches_no_contact_even_without_external_ids(upflow, context, org, stale):
    """Contacts imported without externalId (the common case: matched by email) must not answer
    to an id that is not theirs, and above all must not be changed or deleted through one."""
    customer = with_contacts(upflow, [CAT, {"email": "dan@acme.test"}])
    ref = str(uuid.uuid4())
    if stale == "deleted contact":
        ref = by_email(customer)["dan@acme.test"]["id"]
        customer = with_contacts(upflow, [CAT])
    before = book_snapshot(context, org.id)
    upflow_error(upflow.get(f"/customers/{customer['id']}/contacts/{ref}"), 404)
    upflow_error(upflow.put(f"/customers/{customer['id']}/contacts/{ref}", {"firstName": "Overwritten"}), 404)
    upflow_error(upflow.delete(f"/customers/{customer['id']}/contacts/{ref}"), 404)
    assert book_snapshot(context, org.id) == before
    assert upflow.customer(customer["id"])["contacts"] == customer["contacts"]


def test_dedicated_endpoints_then_a_full_list_import(upflow):
    """Contacts created one by one are part of the list the next import replaces."""
    customer = with_contacts(upflow, [])
    ann = upflow.ok("POST", f"/customers/{customer['id']}/contacts", ANN)
    upflow.ok("POST", f"/customers/{customer['id']}/contacts", BOB)
    after = with_contacts(upflow, [{"externalId": "K-ann", "email": "ann@acme.test"}])
    assert [c["id"] for c in after["contacts"]] == [ann["id"]]
    assert upflow.ok("GET", f"/customers/{customer['id']}/contacts")["total"] == 1
