"""A document that came without entries waits until it is booked (POST .../documents/{id}/entries)
or refused (POST .../documents/{id}/refuse): Comptoir's own routes, documented in
docs/dialects/oneconnect.md."""

from __future__ import annotations

from ..helpers import OneUpClient
from .conftest import LINE, Partner, invalid_fields, problem_of, seed_entries


def test_booking_a_waiting_document_posts_its_entries_and_accepts_it(partner, client, french_org):
    document_id = partner.deposited("purchase", externalReference="FA-77")
    response = partner.post_json(f"/documents/{document_id}/entries", seed_entries())
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["documentState"] == "Accepted" and shown["decisionDate"]
    [transaction] = OneUpClient(client, french_org).ok("GET", "/transactions?piece_number=FA-2026-042")
    assert transaction["id"] == shown["transactionId"] == partner.document(document_id)["transactionId"]
    again = partner.post_json(f"/documents/{document_id}/entries", seed_entries())
    problem_of(again, 409, "DOCUMENT_ALREADY_DECIDED")


def test_entries_that_do_not_balance_are_400_and_the_document_keeps_waiting(partner):
    document_id = partner.deposited("purchase")
    unbalanced = {"data": {"lines": [LINE]}}
    response = partner.post_json(f"/documents/{document_id}/entries", unbalanced)
    body = problem_of(response, 400, "VALIDATION_ERROR")
    assert "not balanced" in body["detail"]
    assert invalid_fields(partner.post_json(f"/documents/{document_id}/entries", {"data": {}})) == {"entries"}
    assert partner.document(document_id)["documentState"] == "Waiting"


def test_refusing_a_waiting_document_says_why(partner):
    document_id = partner.deposited("sales")
    assert invalid_fields(partner.post_json(f"/documents/{document_id}/refuse", {})) == {"reason"}
    response = partner.post_json(f"/documents/{document_id}/refuse", {"reason": "Unreadable scan"})
    assert response.status_code == 200, response.text
    assert (response.json()["documentState"], response.json()["rejectedReason"]) == ("Refused", "Unreadable scan")
    problem_of(partner.post_json(f"/documents/{document_id}/refuse", {"reason": "again"}), 409,
               "DOCUMENT_ALREADY_DECIDED")
    problem_of(partner.post_json(f"/documents/{document_id}/entries", seed_entries()), 409,
               "DOCUMENT_ALREADY_DECIDED")


def test_a_document_of_another_organization_is_not_found(partner, client, org):
    theirs = Partner(client, org).deposited("purchase")
    problem_of(client.get(f"{partner.base}/documents/{theirs}", headers=partner.headers), 404, "DOCUMENT_NOT_FOUND")
    problem_of(partner.post_json(f"/documents/{theirs}/refuse", {"reason": "no"}), 404, "DOCUMENT_NOT_FOUND")
    problem_of(client.get(f"{partner.base}/documents/not-a-uuid", headers=partner.headers), 404,
               "DOCUMENT_NOT_FOUND")
