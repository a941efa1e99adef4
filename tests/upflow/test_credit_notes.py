"""Upflow v1 credit notes through the real app (specs/upflow.md §6.4, §7, §8): imported by externalId
(create, then update; exactly once under concurrency), linked to invoices with the amount each one
settles (linkedInvoices, replaced as a whole on re-import); the invoices' amountOutstanding and state
follow; links that would over-settle, cross customers or currencies are refused and store nothing;
deletes re-open what the credit note settled; the credit note posts in the one book (OneUp sees the
transaction) and moves the customer's balance."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from ..helpers import OneUpClient, assert_reversed
from .allocation_support import (
    INCOME,
    RECEIVABLE,
    TAX_PAYABLE,
    balance,
    balanced,
    credit_note,
    credit_note_body,
    customer,
    ext,
    invoice,
    invoice_of,
    outstanding,
    outstandings,
    payment,
    postings,
    refund,
    snapshot,
    transactions_of,
)
from .conftest import upflow_error
from .test_exactly_once import base_url, headers_of  # noqa: F401 - the live-server fixture


def setup(upflow) -> tuple[dict, dict, dict]:
    """Customer C-1 with invoices A (gross 12000, net 10000) and B (gross 5000, net 5000)."""
    buyer = customer(upflow)
    return buyer, invoice(upflow, "INV-A", 12000, 10000), invoice(upflow, "INV-B", 5000)


def notes_of(upflow, **params) -> dict:
    return upflow.ok("GET", "/credit_notes", params=params)


def linked(note: dict) -> dict[str, int]:
    return {link["externalId"]: link["amountLinked"] for link in note["linkedInvoices"]}


# == import ======================================================================================


def test_import_creates_then_updates_the_same_credit_note(upflow):
    buyer, _, _ = setup(upflow)
    created = credit_note(upflow, "CN-1", 3000, 2500, name="Returned goods")
    assert created["externalId"] == "CN-1" and created["customId"] == "CN-1"
    assert str(uuid.UUID(created["id"])) == created["id"]
    assert (created["grossAmount"], created["netAmount"], created["currency"]) == (3000, 2500, "EUR")
    assert created["customer"]["id"] == buyer["id"] and created["customerId"] == buyer["id"]
    assert created["issuedAt"].startswith("2024-03-05T")
    assert created["name"] == "Returned goods"
    assert created["linkedInvoices"] == [] and created["amountLinked"] == 0
    assert created["amountAvailable"] == 3000

    updated = credit_note(upflow, "CN-1", 4000, 3000, custom_id="AV-2024-1", name="Corrected")
    assert updated["id"] == created["id"]
    assert (updated["grossAmount"], updated["netAmount"], updated["customId"]) == (4000, 3000, "AV-2024-1")
    assert updated["name"] == "Corrected"
    listed = notes_of(upflow)
    assert listed["total"] == 1 and listed["creditNotes"][0]["id"] == created["id"]
    assert upflow.ok("GET", f"/credit_notes/{created['id']}") == updated


def test_a_partial_reimport_keeps_what_is_not_sent(upflow):
    setup(upflow)
    created = credit_note(upflow, "CN-1", 3000, 2500, [ext("INV-A", 1000)])
    again = upflow.ok("POST", "/credit_notes", {"externalId": "CN-1", "name": "Only the name"})
    assert again["id"] == created["id"]
    assert (again["grossAmount"], again["netAmount"], again["currency"]) == (3000, 2500, "EUR")
    assert again["name"] == "Only the name"
    assert linked(again) == {"INV-A": 1000}  # linkedInvoices not sent: links kept
    assert outstanding(upflow, "external:INV-A") == 11000


@pytest.mark.parametrize("name", ["customId", "currency", "grossAmount", "netAmount", "customer"])
def test_a_missing_required_field_is_400_and_stores_nothing(upflow, context, org, name):
    setup(upflow)
    before = snapshot(context, org.id)
    body = credit_note_body("CN-MISSING", 3000, linkedInvoices=[ext("INV-A", 1000)])
    del body[name]
    upflow_error(upflow.post("/credit_notes", body), 400)
    assert snapshot(context, org.id) == before
    assert notes_of(upflow)["total"] == 0
    assert outstanding(upflow, "external:INV-A") == 12000


def test_gross_below_net_is_400(upflow):
    setup(upflow)
    upflow_error(upflow.post("/credit_notes", credit_note_body("CN-1", 1000, 2000)), 400)
    assert notes_of(upflow)["total"] == 0


# == addressing, lists, deletes ==================================================================


def test_get_and_delete_by_id_and_by_external_id(upflow):
    setup(upflow)
    first = credit_note(upflow, "CN-1", 1000)
    second = credit_note(upflow, "CN-2", 2000)
    assert upflow.ok("GET", f"/credit_notes/{first['id']}") == first
    assert upflow.ok("GET", "/credit_notes/external:CN-2") == second
    upflow_error(upflow.get("/credit_notes/external:NOPE"), 404)
    upflow_error(upflow.get(f"/credit_notes/{uuid.uuid4()}"), 404)
    upflow_error(upflow.get("/credit_notes/external:INV-A"), 404)  # an invoice is not a credit note
    invoice_a = invoice_of(upflow, "external:INV-A")
    upflow_error(upflow.get(f"/credit_notes/{invoice_a['id']}"), 404)

    assert upflow.delete(f"/credit_notes/{first['id']}").status_code == 204
    upflow_error(upflow.get(f"/credit_notes/{first['id']}"), 404)
    assert upflow.delete("/credit_notes/external:CN-2").status_code == 204
    upflow_error(upflow.get("/credit_notes/external:CN-2"), 404)
    upflow_error(upflow.delete("/credit_notes/external:CN-2"), 404)
    assert notes_of(upflow)["total"] == 0
    assert invoice_of(upflow, "external:INV-A")["id"] == invoice_a["id"]  # the invoice is untouched


def test_list_envelope_paging_and_customer_filter(upflow):
    setup(upflow)
    other = customer(upflow, "C-2", "Other")
    mine = [credit_note(upflow, f"CN-{n}", 100 * (n + 1)) for n in range(3)]
    theirs = credit_note(upflow, "CN-OTHER", 700, customer_id="C-2")
    listed = notes_of(upflow)
    assert set(listed) == {"offset", "limit", "total", "creditNotes"}
    assert listed["total"] == 4 and listed["offset"] == 0
    assert {note["id"] for note in listed["creditNotes"]} == {note["id"] for note in mine + [theirs]}

    page = notes_of(upflow, limit=2, offset=1)
    assert (page["offset"], page["limit"], page["total"], len(page["creditNotes"])) == (1, 2, 4, 2)

    by_id = notes_of(upflow, customerId=other["id"])
    assert by_id["total"] == 1 and [note["id"] for note in by_id["creditNotes"]] == [theirs["id"]]
    by_external = notes_of(upflow, customerId="external:C-1")
    assert by_external["total"] == 3
    assert {note["id"] for note in by_external["creditNotes"]} == {note["id"] for note in mine}
    invoices = upflow.ok("GET", "/invoices")
    assert invoices["total"] == 2  # credit notes are not listed among invoices


def test_credit_notes_are_not_visible_to_another_organization(upflow, other_upflow):
    setup(upflow)
    note = credit_note(upflow, "CN-1", 1000)
    upflow_error(other_upflow.get(f"/credit_notes/{note['id']}"), 404)
    upflow_error(other_upflow.get("/credit_notes/external:CN-1"), 404)
    upflow_error(other_upflow.delete(f"/credit_notes/{note['id']}"), 404)
    assert other_upflow.ok("GET", "/credit_notes")["total"] == 0
    assert upflow.ok("GET", f"/credit_notes/{note['id']}")["id"] == note["id"]


# == linked invoices =============================================================================


def test_linked_invoices_lower_the_outstanding_and_a_full_credit_pays_the_invoice(upflow):
    _, a, b = setup(upflow)
    note = credit_note(upflow, "CN-1", 9000, 7500, [{"id": a["id"], "amountLinked": 4000},
                                                   {"externalId": "INV-B", "amountLinked": 5000}])
    assert linked(note) == {"INV-A": 4000, "INV-B": 5000}
    assert note["amountLinked"] == 9000 and note["amountAvailable"] == 0
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (8000, 0)
    assert invoice_of(upflow, "external:INV-A")["state"] == "DUE"
    paid = invoice_of(upflow, "external:INV-B")
    assert paid["state"] == "PAID"
    assert [(c["id"], c["amountLinked"]) for c in paid["creditNotes"]] == [(note["id"], 5000)]
    assert paid["payments"] == []


def test_links_by_custom_id_and_nested_invoice(upflow):
    _, a, b = setup(upflow)
    note = credit_note(upflow, "CN-1", 3000, None, [{"customId": "INV-A", "amountLinked": 1000},
                                                   {"invoice": {"id": b["id"]}, "linkedAmount": 2000}])
    assert linked(note) == {"INV-A": 1000, "INV-B": 2000}
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (11000, 3000)


def test_a_credit_note_and_a_payment_together_settle_an_invoice(upflow):
    setup(upflow)
    credit_note(upflow, "CN-1", 2000, None, [ext("INV-B", 2000)])
    payment(upflow, "P-1", 3000, [ext("INV-B", 3000)])
    settled = invoice_of(upflow, "external:INV-B")
    assert settled["amountOutstanding"] == 0 and settled["state"] == "PAID"
    upflow_error(upflow.post("/credit_notes", credit_note_body("CN-2", 100, None, [ext("INV-B", 100)])), 409)
    assert notes_of(upflow)["total"] == 1


def test_reimport_with_other_links_replaces_them(upflow):
    setup(upflow)
    first = credit_note(upflow, "CN-1", 6000, 5000, [ext("INV-A", 6000)])
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (6000, 5000)
    second = credit_note(upflow, "CN-1", 6000, 5000, [ext("INV-A", 1000), ext("INV-B", 5000)])
    assert second["id"] == first["id"]
    assert linked(second) == {"INV-A": 1000, "INV-B": 5000}
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (11000, 0)
    third = credit_note(upflow, "CN-1", 6000, 5000, [ext("INV-B", 2500)])
    assert linked(third) == {"INV-B": 2500}
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (12000, 2500)
    emptied = credit_note(upflow, "CN-1", 6000, 5000, [])
    assert emptied["linkedInvoices"] == [] and emptied["amountAvailable"] == 6000
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (12000, 5000)
    assert invoice_of(upflow, "external:INV-B")["creditNotes"] == []


def test_reimport_may_keep_linking_the_whole_invoice_it_already_settles(upflow):
    setup(upflow)
    credit_note(upflow, "CN-1", 5000, None, [ext("INV-B", 5000)])
    again = credit_note(upflow, "CN-1", 5000, None, [ext("INV-B", 5000)])
    assert linked(again) == {"INV-B": 5000}
    assert outstanding(upflow, "external:INV-B") == 0


def test_a_corrected_credit_note_with_a_lower_gross_and_lower_links(upflow):
    """The credit note's gross is lowered and its links with it, in one re-import: the end state is
    consistent (links 2000 of a 2000 credit note), so it should be accepted."""
    setup(upflow)
    credit_note(upflow, "CN-1", 5000, None, [ext("INV-B", 5000)])
    corrected = upflow.post("/credit_notes", credit_note_body("CN-1", 2000, None, [ext("INV-B", 2000)]))
    assert corrected.status_code == 200, (corrected.status_code, corrected.text)
    assert corrected.json()["grossAmount"] == 2000 and linked(corrected.json()) == {"INV-B": 2000}
    assert outstanding(upflow, "external:INV-B") == 3000


def test_lowering_the_gross_below_its_links_is_409_and_changes_nothing(upflow, context, org):
    setup(upflow)
    credit_note(upflow, "CN-1", 5000, None, [ext("INV-B", 5000)])
    before = snapshot(context, org.id)
    upflow_error(upflow.post("/credit_notes", credit_note_body("CN-1", 4000)), 409)
    assert snapshot(context, org.id) == before


REFUSED_LINKS = {
    # name: (the links, the status expected)
    "more than the credit note's gross": ([ext("INV-A", 2000), ext("INV-B", 1001)], 409),
    "more than the invoice's outstanding": ([ext("INV-B", 3001)], 409),
    "another customer's invoice": ([ext("INV-OTHER", 100)], 400),
    "an invoice in another currency": ([ext("INV-USD", 100)], 400),
    "an unknown invoice": ([ext("NOPE", 100)], 404),
    "a credit note as an invoice": ([ext("CN-OLD", 100)], 404),
    "a zero amount": ([ext("INV-A", 0)], (400, 409)),  # 409 here, 400 through POST /reconcile
}


@pytest.mark.parametrize("case", REFUSED_LINKS, ids=list(REFUSED_LINKS))
def test_a_refused_link_stores_nothing_on_create_or_on_update(upflow, context, org, case):
    links, status = REFUSED_LINKS[case]
    setup(upflow)
    customer(upflow, "C-2", "Other")
    invoice(upflow, "INV-OTHER", 1000, customer_id="C-2")
    invoice(upflow, "INV-USD", 1000, currency="USD")
    credit_note(upflow, "CN-OLD", 500, None, [ext("INV-A", 500)])
    payment(upflow, "P-1", 2000, [ext("INV-B", 2000)])  # INV-B has 3000 left
    before = snapshot(context, org.id)

    statuses = status if isinstance(status, tuple) else (status,)
    response = upflow.post("/credit_notes", credit_note_body("CN-NEW", 3000, None, links))
    upflow_error(response, response.status_code if response.status_code in statuses else statuses[0])
    assert snapshot(context, org.id) == before, "a refused credit note left something behind"
    upflow_error(upflow.get("/credit_notes/external:CN-NEW"), 404)

    existing = credit_note(upflow, "CN-NEW", 3000, None, [ext("INV-A", 1000)])
    before = snapshot(context, org.id)
    response = upflow.post("/credit_notes", credit_note_body("CN-NEW", 3000, None, links))
    upflow_error(response, response.status_code if response.status_code in statuses else statuses[0])
    assert snapshot(context, org.id) == before, "a refused re-import changed the book"
    assert upflow.ok("GET", "/credit_notes/external:CN-NEW") == existing
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (10500, 3000)


def test_moving_a_linked_credit_note_to_another_customer_is_refused(upflow, context, org):
    """The links are not re-sent, so they are kept: they would then join a credit note of C-2 with an
    invoice of C-1, which the link rules forbid."""
    setup(upflow)
    customer(upflow, "C-2", "Other")
    credit_note(upflow, "CN-1", 1000, None, [ext("INV-A", 1000)])
    before = snapshot(context, org.id)
    response = upflow.post("/credit_notes", {"externalId": "CN-1", "customer": {"externalId": "C-2"}})
    assert response.status_code in (400, 409), (response.status_code, response.text)
    assert snapshot(context, org.id) == before


def test_moving_a_linked_credit_note_to_another_currency_is_refused(upflow, context, org):
    setup(upflow)
    credit_note(upflow, "CN-1", 1000, None, [ext("INV-A", 1000)])
    before = snapshot(context, org.id)
    response = upflow.post("/credit_notes", {"externalId": "CN-1", "currency": "USD"})
    assert response.status_code in (400, 409), (response.status_code, response.text)
    assert snapshot(context, org.id) == before


@pytest.mark.parametrize("change", [{"customer": {"externalId": "C-2"}}, {"currency": "USD"}],
                         ids=["another customer", "another currency"])
def test_moving_a_credited_invoice_to_another_customer_or_currency_is_refused(upflow, context, org, change):
    setup(upflow)
    customer(upflow, "C-2", "Other")
    credit_note(upflow, "CN-1", 1000, None, [ext("INV-A", 1000)])
    before = snapshot(context, org.id)
    response = upflow.post("/invoices", {"externalId": "INV-A", **change})
    assert response.status_code in (400, 409), (response.status_code, response.text)
    assert snapshot(context, org.id) == before


# == deletes =====================================================================================


def test_deleting_a_credit_note_reopens_the_invoices_it_settled(upflow):
    setup(upflow)
    note = credit_note(upflow, "CN-1", 7000, None, [ext("INV-A", 2000), ext("INV-B", 5000)])
    assert invoice_of(upflow, "external:INV-B")["state"] == "PAID"
    assert upflow.delete(f"/credit_notes/{note['id']}").status_code == 204
    assert outstandings(upflow, "external:INV-A", "external:INV-B") == (12000, 5000)
    reopened = invoice_of(upflow, "external:INV-B")
    assert reopened["state"] == "DUE" and reopened["creditNotes"] == []
    # what was settled can be settled again
    payment(upflow, "P-1", 5000, [ext("INV-B", 5000)])
    assert outstanding(upflow, "external:INV-B") == 0


def test_deleting_an_invoice_a_credit_note_settles_is_409(upflow, context, org):
    setup(upflow)
    credit_note(upflow, "CN-1", 1000, None, [ext("INV-A", 1000)])
    before = snapshot(context, org.id)
    upflow_error(upflow.delete("/invoices/external:INV-A"), 409)
    assert snapshot(context, org.id) == before
    credit_note(upflow, "CN-1", 1000, None, [])  # unlinked, the invoice may go
    assert upflow.delete("/invoices/external:INV-A").status_code == 204


# == one book ====================================================================================


def test_the_credit_note_posts_the_opposite_of_an_invoice_in_the_book(upflow, client, org):
    setup(upflow)
    oneup = OneUpClient(client, org)
    credit_note(upflow, "AV-1", 3600, 3000, [ext("INV-A", 3600)])
    [transaction] = transactions_of(oneup, "AV-1")
    assert transaction["journal"]["name"] == "Sales" and transaction["currency_iso_code"] == "EUR"
    assert transaction["date"] == "2024-03-05"
    assert postings(oneup, transaction) == {RECEIVABLE: ("credit", Decimal("36")), INCOME: ("debit", Decimal("30")),
                                            TAX_PAYABLE: ("debit", Decimal("6"))}
    assert balanced(transaction) == Decimal("36")

    # The re-import of an issued credit note that says something else is its issuer's correction: the
    # transaction is reversed and posted anew (issue 17 §7, §8).
    credit_note(upflow, "AV-1", 4800, 4000, [ext("INV-A", 3600)])
    first, reversal, rewritten = transactions_of(oneup, "AV-1")
    assert first["id"] == transaction["id"] and assert_reversed(transaction, [first, reversal, rewritten]) == reversal
    assert postings(oneup, rewritten) == {RECEIVABLE: ("credit", Decimal("48")), INCOME: ("debit", Decimal("40")),
                                          TAX_PAYABLE: ("debit", Decimal("8"))}
    assert balanced(rewritten) == Decimal("48")

    credit_note(upflow, "AV-0", 1000)  # no tax: no tax entry
    [untaxed] = transactions_of(oneup, "AV-0")
    assert postings(oneup, untaxed) == {RECEIVABLE: ("credit", Decimal("10")), INCOME: ("debit", Decimal("10"))}

    assert upflow.delete("/credit_notes/external:AV-1").status_code == 204
    assert_reversed(rewritten, transactions_of(oneup, "AV-1")[2:])  # reversed, not removed (issue 17 §8)


def test_the_customer_balance_is_invoices_less_credit_notes_and_payments_plus_refunds(upflow):
    setup(upflow)  # invoices 12000 + 5000
    assert balance(upflow) == 17000
    credit_note(upflow, "CN-1", 3000, 2500, [ext("INV-A", 3000)])
    assert balance(upflow) == 14000
    credit_note(upflow, "CN-2", 1000)  # not linked: still a credit on the account
    assert balance(upflow) == 13000
    payment(upflow, "P-1", 9000, [ext("INV-A", 6000)])
    assert balance(upflow) == 4000
    refund(upflow, "R-1", 2500, payments=[ext("P-1", 2000)], credit_notes=[ext("CN-2", 500)])
    assert balance(upflow) == 17000 - 3000 - 1000 - 9000 + 2500
    upflow.delete("/credit_notes/external:CN-2")
    assert balance(upflow) == 17000 - 3000 - 9000 + 2500
    customer(upflow, "C-2", "Other")
    assert balance(upflow, "external:C-2") == 0


# == exactly once ================================================================================

RACERS = 50


def test_fifty_identical_imports_make_one_credit_note(base_url, org, is_postgres):  # noqa: F811
    if not is_postgres:
        pytest.skip("SQLite runs one writer at a time: the imports cannot race there")
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=60) as http:
        assert http.post("/customers", json={"externalId": "C-1", "name": "Acme"}).status_code == 200
        assert http.post("/invoices", json={"externalId": "INV-A", "customId": "A-1", "issuedAt": "2024-03-01",
                                            "dueDate": "2030-01-01", "currency": "EUR", "netAmount": 10000,
                                            "grossAmount": 12000, "customer": {"externalId": "C-1"}}
                         ).status_code == 200
    body = credit_note_body("RACE-CN", 3000, 2500, [ext("INV-A", 3000)])
    barrier = threading.Barrier(RACERS, timeout=60)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=60) as http:
            assert http.get("/users").status_code == 200
            barrier.wait()
            return http.post("/credit_notes", json=body)

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        responses = list(pool.map(one, range(RACERS)))
    failed = [(r.status_code, r.text) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {RACERS} identical imports failed, e.g. {failed[0]}"
    ids = {response.json()["id"] for response in responses}
    assert len(ids) == 1, ids
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=60) as http:
        listed = http.get("/credit_notes").json()
        settled = http.get("/invoices/external:INV-A").json()
    assert listed["total"] == 1 and [note["id"] for note in listed["creditNotes"]] == list(ids)
    assert linked(listed["creditNotes"][0]) == {"INV-A": 3000}
    assert settled["amountOutstanding"] == 9000
