"""Upflow v1 invoices through the real app (specs/upflow.md §6.3, §7): import by externalId with
net and gross amounts in cents, dates in and out, validation, addressing, lists, deletes, the
derived state, the same invoice in OneUp's book, and exactly-once import under concurrency."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import httpx

from ..helpers import OneUpClient
from .conftest import upflow_error
from .test_exactly_once import base_url, headers_of  # noqa: F401 - the live-server fixture

FUTURE = (date.today() + timedelta(days=30)).isoformat()
PAST = (date.today() - timedelta(days=30)).isoformat()


def customer(upflow, external_id: str = "C-1", name: str = "Acme") -> dict:
    return upflow.ok("POST", "/customers", {"externalId": external_id, "name": name})


def invoice_body(**overrides) -> dict:
    body = {"externalId": "INV-EXT-1", "customId": "F-2024-001", "issuedAt": "2024-03-01", "dueDate": FUTURE,
            "currency": "EUR", "netAmount": 10000, "grossAmount": 12000, "customer": {"externalId": "C-1"}}
    body.update(overrides)
    return body


def imported(upflow, **overrides) -> dict:
    return upflow.ok("POST", "/invoices", invoice_body(**overrides))


def is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (TypeError, ValueError):
        return False


# == import ======================================================================================


def test_import_returns_the_values_sent_with_dates_as_iso_date_times(upflow):
    buyer = customer(upflow)
    invoice = imported(upflow)
    assert is_uuid(invoice["id"])
    assert invoice["externalId"] == "INV-EXT-1"
    assert invoice["customId"] == "F-2024-001"
    assert invoice["issuedAt"].startswith("2024-03-01T")
    assert invoice["dueDate"].startswith(FUTURE + "T")
    assert invoice["currency"] == "EUR"
    assert invoice["netAmount"] == 10000 and invoice["grossAmount"] == 12000
    assert isinstance(invoice["netAmount"], int) and isinstance(invoice["grossAmount"], int)
    assert invoice["amountOutstanding"] == 12000
    assert invoice["customerId"] == buyer["id"]
    assert invoice["customer"]["id"] == buyer["id"] and invoice["customer"]["externalId"] == "C-1"
    assert invoice["state"] == "DUE"
    assert invoice["payments"] == []
    assert upflow.ok("GET", f"/invoices/{invoice['id']}") == invoice


def test_issued_at_as_iso_date_time_and_customer_by_id(upflow):
    buyer = customer(upflow)
    invoice = imported(upflow, issuedAt="2024-03-05T00:00:00Z", dueDate=f"{FUTURE}T12:30:00",
                       customer={"id": buyer["id"]})
    assert invoice["issuedAt"][:10] == "2024-03-05" and "T" in invoice["issuedAt"]
    assert invoice["dueDate"][:10] == FUTURE and "T" in invoice["dueDate"]
    assert invoice["customerId"] == buyer["id"]


def test_reimport_by_external_id_updates_the_same_invoice(upflow):
    customer(upflow)
    first = imported(upflow)
    second = imported(upflow, customId="F-2024-001b", netAmount=20000, grossAmount=24000, issuedAt="2024-03-02")
    assert second["id"] == first["id"]
    assert second["customId"] == "F-2024-001b"
    assert (second["netAmount"], second["grossAmount"], second["amountOutstanding"]) == (20000, 24000, 24000)
    assert second["issuedAt"][:10] == "2024-03-02"
    listed = upflow.ok("GET", "/invoices")
    assert listed["total"] == 1 and [row["id"] for row in listed["invoices"]] == [first["id"]]


def test_missing_required_fields_are_400(upflow):
    customer(upflow)
    for name in ("customId", "issuedAt", "dueDate", "currency", "grossAmount", "netAmount", "customer"):
        body = invoice_body(externalId=f"MISSING-{name}")
        del body[name]
        upflow_error(upflow.post("/invoices", body), 400)
    assert upflow.ok("GET", "/invoices")["total"] == 0


def test_gross_below_net_is_400(upflow):
    customer(upflow)
    upflow_error(upflow.post("/invoices", invoice_body(netAmount=12000, grossAmount=10000)), 400)
    assert upflow.ok("GET", "/invoices")["total"] == 0


def test_unknown_currency_is_400(upflow):
    customer(upflow)
    upflow_error(upflow.post("/invoices", invoice_body(currency="XYZ")), 400)
    assert upflow.ok("GET", "/invoices")["total"] == 0


def test_unknown_customer_is_404(upflow):
    customer(upflow)
    upflow_error(upflow.post("/invoices", invoice_body(customer={"externalId": "NOBODY"})), 404)
    upflow_error(upflow.post("/invoices", invoice_body(customer={"id": str(uuid.uuid4())})), 404)
    assert upflow.ok("GET", "/invoices")["total"] == 0


# == addressing, lists, deletes ==================================================================


def test_get_by_id_and_by_external_id(upflow):
    customer(upflow)
    invoice = imported(upflow)
    assert upflow.ok("GET", f"/invoices/{invoice['id']}")["id"] == invoice["id"]
    assert upflow.ok("GET", "/invoices/external:INV-EXT-1")["id"] == invoice["id"]
    upflow_error(upflow.get("/invoices/external:NOPE"), 404)
    upflow_error(upflow.get(f"/invoices/{uuid.uuid4()}"), 404)


def test_list_envelope_customer_filter_and_limit(upflow):
    one, two = customer(upflow, "C-1", "One"), customer(upflow, "C-2", "Two")
    a = imported(upflow, externalId="A", customId="A")
    b = imported(upflow, externalId="B", customId="B")
    c = imported(upflow, externalId="C", customId="C", customer={"externalId": "C-2"})
    listed = upflow.ok("GET", "/invoices")
    assert set(listed) >= {"offset", "limit", "total", "invoices"}
    assert listed["offset"] == 0 and listed["total"] == 3
    assert {row["id"] for row in listed["invoices"]} == {a["id"], b["id"], c["id"]}
    mine = upflow.ok("GET", "/invoices", params={"customerId": one["id"]})
    assert mine["total"] == 2 and {row["id"] for row in mine["invoices"]} == {a["id"], b["id"]}
    theirs = upflow.ok("GET", "/invoices", params={"customerId": two["id"]})
    assert theirs["total"] == 1 and [row["id"] for row in theirs["invoices"]] == [c["id"]]
    paged = upflow.ok("GET", "/invoices", params={"limit": 2})
    assert paged["limit"] == 2 and paged["total"] == 3 and len(paged["invoices"]) == 2
    rest = upflow.ok("GET", "/invoices", params={"limit": 2, "offset": 2})
    assert len(rest["invoices"]) == 1
    assert {row["id"] for row in paged["invoices"] + rest["invoices"]} == {a["id"], b["id"], c["id"]}
    assert upflow.ok("GET", "/invoices", params={"limit": 500})["limit"] == 500
    upflow_error(upflow.get("/invoices", params={"limit": 501}), 400)


def test_delete_is_204_then_404(upflow):
    customer(upflow)
    invoice = imported(upflow)
    response = upflow.delete(f"/invoices/{invoice['id']}")
    assert response.status_code == 204, response.text
    upflow_error(upflow.get(f"/invoices/{invoice['id']}"), 404)
    upflow_error(upflow.get("/invoices/external:INV-EXT-1"), 404)
    upflow_error(upflow.delete(f"/invoices/{invoice['id']}"), 404)
    assert upflow.ok("GET", "/invoices")["total"] == 0
    other = imported(upflow, externalId="INV-EXT-2")
    assert upflow.delete("/invoices/external:INV-EXT-2").status_code == 204
    upflow_error(upflow.get(f"/invoices/{other['id']}"), 404)


def test_invoices_are_not_visible_to_another_organization(upflow, other_upflow):
    customer(upflow)
    invoice = imported(upflow)
    upflow_error(other_upflow.get(f"/invoices/{invoice['id']}"), 404)
    assert other_upflow.ok("GET", "/invoices")["total"] == 0


# == state =======================================================================================


def test_state_due_overdue_and_paid(upflow):
    customer(upflow)
    due = imported(upflow, externalId="DUE", customId="DUE", dueDate=FUTURE)
    late = imported(upflow, externalId="LATE", customId="LATE", dueDate=PAST)
    assert due["state"] == "DUE"
    assert late["state"] == "OVERDUE"
    upflow.ok("POST", "/payments", {"externalId": "P-1", "currency": "EUR", "amount": 12000,
                                    "validatedAt": date.today().isoformat(), "customer": {"externalId": "C-1"},
                                    "linkedInvoices": [{"id": late["id"], "amountLinked": 12000}]})
    paid = upflow.ok("GET", f"/invoices/{late['id']}")
    assert paid["state"] == "PAID" and paid["amountOutstanding"] == 0
    assert [payment["amount"] for payment in paid["payments"]] == [12000]
    assert upflow.ok("GET", f"/invoices/{due['id']}")["state"] == "DUE"


# == one book with OneUp =========================================================================


def test_the_invoice_is_in_oneup_with_its_total_and_tax_and_posts_a_transaction(upflow, client, org):
    customer(upflow)
    invoice = imported(upflow, customId="F-ONE-1", netAmount=10000, grossAmount=12050)
    oneup = OneUpClient(client, org)
    rows = [row for row in oneup.ok("GET", "/invoices") if row["user_code"] == "F-ONE-1"]
    assert len(rows) == 1, rows
    assert rows[0]["total"] == Decimal("120.5")
    assert rows[0]["tax_amount"] == Decimal("20.5")
    transactions = oneup.ok("GET", "/transactions?piece_number=eq:F-ONE-1")
    assert len(transactions) == 1, transactions
    entries = transactions[0]["entries"]
    debit = sum((e["amount"] for e in entries if e["way"] == "debit"), Decimal(0))
    credit = sum((e["amount"] for e in entries if e["way"] == "credit"), Decimal(0))
    assert debit == credit == Decimal("120.5")
    assert invoice["grossAmount"] == 12050


# == exactly once ================================================================================

RACERS = 30


def test_thirty_identical_imports_make_one_invoice(base_url, org):  # noqa: F811
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=60) as http:
        assert http.post("/customers", json={"externalId": "C-1", "name": "Acme"}).status_code == 200
    body = invoice_body(externalId="RACE-INV", customId="RACE-1")
    barrier = threading.Barrier(RACERS, timeout=60)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=60) as http:
            assert http.get("/users").status_code == 200
            barrier.wait()
            return http.post("/invoices", json=body)

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        responses = list(pool.map(one, range(RACERS)))
    failed = [(r.status_code, r.text) for r in responses if r.status_code != 200]
    assert not failed, f"{len(failed)} of {RACERS} identical imports failed, e.g. {failed[0]}"
    ids = {response.json()["id"] for response in responses}
    assert len(ids) == 1, ids
    with httpx.Client(base_url=base_url, headers=headers_of(org), timeout=60) as http:
        listed = http.get("/invoices").json()
    assert listed["total"] == 1 and [row["id"] for row in listed["invoices"]] == list(ids)
    assert listed["invoices"][0]["grossAmount"] == 12000


def test_a_reimport_keeps_what_it_does_not_send_and_checks_what_settles_it(upflow, client, org):
    """A re-imported invoice (a new amount, no customFields) keeps its custom field values and its
    payment, shows both, and its outstanding amount follows the new total; a new total below what is
    paid is refused and changes nothing. (What the update reads of them is read ahead in one
    statement on PostgreSQL: storage/documents.DocumentStore.read_ahead_for_update.)"""
    customer(upflow)
    field = upflow.post("/custom_fields", {"name": "PO", "entityType": "INVOICE", "dataType": "STRING"}).json()
    first = imported(upflow, customFields=[{"id": field["id"], "value": "PO-77"}])
    upflow.ok("POST", "/payments", {"externalId": "P-1", "currency": "EUR", "amount": 5000,
                                    "validatedAt": "2024-03-05", "customer": {"externalId": "C-1"},
                                    "linkedInvoices": [{"id": first["id"], "amountLinked": 5000}]})
    again = imported(upflow, netAmount=20000, grossAmount=24000)
    assert again["id"] == first["id"]
    assert [(shown["id"], shown["value"]) for shown in again["customFields"]] == [(field["id"], "PO-77")]
    assert [payment["amount"] for payment in again["payments"]] == [5000]
    assert (again["grossAmount"], again["amountOutstanding"]) == (24000, 19000)
    assert upflow.ok("GET", "/customers/external:C-1")["balance"] == 19000  # its transaction rewritten once
    upflow_error(upflow.post("/invoices", invoice_body(netAmount=4000, grossAmount=4800)), 409)
    assert upflow.ok("GET", f"/invoices/{first['id']}") == again
    again = imported(upflow, netAmount=10000, grossAmount=12000)
    assert again["amountOutstanding"] == 7000 and again["customFields"][0]["value"] == "PO-77"


def test_a_new_invoice_with_a_custom_id_another_has_is_409_and_writes_nothing(upflow):
    """A taken customId refuses the creation (the unit of work runs once more, in case a concurrent
    import of the same externalId took it: services/kernel/imports.upsert), and nothing is written."""
    customer(upflow)
    imported(upflow, externalId="FIRST", customId="F-TAKEN")
    upflow_error(upflow.post("/invoices", invoice_body(externalId="SECOND", customId="F-TAKEN")), 409)
    listed = upflow.ok("GET", "/invoices", params={"limit": 100})
    assert [row["externalId"] for row in listed["invoices"]] == ["FIRST"]
