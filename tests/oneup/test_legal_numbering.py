"""Issue 17 §7: issued invoices are final through every dialect, and the numbers Comptoir gives run
without gaps and in date order within a series (docs/decisions/0026). Figures first:

- CINV-001 (2024-03-01), CINV-002 (2024-03-10), CINV-003 (2024-03-20) created in that order.
- A fourth dated 2024-03-05 is refused (3001, before CINV-003's 2024-03-20) and takes no number: the
  next one, dated 2024-03-20, is CINV-004.
- CINV-002 re-dated 2024-03-25 is refused (after CINV-003's 2024-03-20); 2024-03-15 is accepted.
- CINV-002, a draft not last, cannot be deleted (30, the numbering would have a gap); CINV-004, the
  last, can: its transaction is reversed, and the next invoice takes CINV-004 again.
- A sent invoice keeps what it says (3010) but its private note; it cannot become a draft again.
"""

from __future__ import annotations

from decimal import Decimal

from ..helpers import assert_reversed, book_snapshot
from ..quipu.conftest import QuipuClient, item as quipu_item, quipu_errors, relationship
from ..upflow.conftest import UpflowClient
from .sales_support import assert_error, customer, item, transactions_of

D = Decimal


def invoice(oneup, buyer: dict, thing: dict, on: str, **extra):
    return oneup.post("/invoices", {"customer_id": buyer["id"], "date": on, **extra, "order_lines": [
        {"item_id": thing["id"], "quantity": 1, "is_taxable": False}]})


def codes(oneup) -> list[str]:
    return [row["user_code"] for row in oneup.ok("GET", "/invoices?sort_by=id&limit=100")]


def test_numbers_follow_dates_and_a_refusal_takes_no_number(oneup, context, org):
    buyer, thing = customer(oneup), item(oneup, "Work", "100")
    first, second, third = (invoice(oneup, buyer, thing, on).json() for on in ("2024-03-01", "2024-03-10", "2024-03-20"))
    assert [first["user_code"], second["user_code"], third["user_code"]] == ["CINV-001", "CINV-002", "CINV-003"]

    before = book_snapshot(context, org.id)
    error = assert_error(invoice(oneup, buyer, thing, "2024-03-05"), "3001")
    assert "before CINV-003 of 2024-03-20" in error["reason"], error
    assert book_snapshot(context, org.id) == before
    assert invoice(oneup, buyer, thing, "2024-03-20").json()["user_code"] == "CINV-004"  # no gap

    error = assert_error(oneup.put(f"/invoices/{second['id']}", {"date": "2024-03-25"}), "3001")
    assert "after CINV-003 of 2024-03-20" in error["reason"], error
    assert oneup.ok("PUT", f"/invoices/{second['id']}", {"date": "2024-03-15"})["date"] == "2024-03-15"
    # A number given by hand is the client's own series: no order is asked of it.
    assert invoice(oneup, buyer, thing, "2023-01-01", user_code="OLD-7").status_code == 200


def test_only_the_last_numbered_draft_gives_its_number_back(oneup):
    buyer, thing = customer(oneup), item(oneup, "Work", "100")
    invoices = [invoice(oneup, buyer, thing, "2024-03-01").json() for _ in range(3)]
    error = assert_error(oneup.delete(f"/invoices/{invoices[1]['id']}"), "30")
    assert "CINV-002 is not the last number of its series" in error["reason"], error
    assert_error(oneup.put(f"/invoices/{invoices[1]['id']}", {"user_code": "HAND-2"}), "30")

    [posted] = transactions_of(oneup, "CINV-003")
    oneup.ok("DELETE", f"/invoices/{invoices[2]['id']}")
    assert invoice(oneup, buyer, thing, "2024-03-01").json()["user_code"] == "CINV-003"
    kept = transactions_of(oneup, "CINV-003")  # the draft's posting and its reversal stay, then the new one
    assert len(kept) == 3 and assert_reversed(posted, kept[:2])

    renumbered = oneup.ok("PUT", f"/invoices/{codes_id(oneup, 'CINV-003')}", {"user_code": "HAND-3"})
    assert renumbered["user_code"] == "HAND-3"
    assert invoice(oneup, buyer, thing, "2024-03-01").json()["user_code"] == "CINV-003"
    assert codes(oneup) == ["CINV-001", "CINV-002", "HAND-3", "CINV-003"]


def codes_id(oneup, code: str) -> int:
    [row] = oneup.ok("GET", f"/invoices?user_code=eq:{code}")
    return row["id"]


def test_a_sent_invoice_keeps_what_it_says(oneup, context, org):
    buyer, thing = customer(oneup), item(oneup, "Work", "100")
    sent = invoice(oneup, buyer, thing, "2024-03-01", sent=True).json()
    path = f"/invoices/{sent['id']}"
    before = book_snapshot(context, org.id)
    for body in ({"public_note": "Merci"}, {"date": "2024-03-02"}, {"user_code": "X-1"}, {"sent": False},
                 {"order_lines": [{"item_id": thing["id"], "quantity": 2, "is_taxable": False}]}):
        error = assert_error(oneup.put(path, body), "3010")
        assert "CINV-001 has been issued" in error["reason"], error
    assert_error(oneup.delete(path), "3010")
    assert book_snapshot(context, org.id) == before
    noted = oneup.ok("PUT", path, {"private_note": "Called on the 5th"})
    assert (noted["private_note"], noted["total"]) == ("Called on the 5th", D(100))


def test_an_invoice_issued_through_any_dialect_is_final_in_the_others(client, org, oneup, context):
    """Upflow imports issued invoices; Quipu's income invoices are final; a OneUp invoice sent. Each
    refuses a change of what it says through the other dialects; Upflow's own re-import is its
    issuer's correction, recorded as a reversal and a new posting."""
    upflow, quipu = UpflowClient(client, org), QuipuClient(client, org)
    upflow.ok("POST", "/customers", {"externalId": "C-1", "name": "Imported"})
    imported = upflow.ok("POST", "/invoices", {"externalId": "E-1", "customId": "ERP-1", "issuedAt": "2024-03-01",
                                               "dueDate": "2024-04-01", "currency": "USD", "netAmount": 10000,
                                               "grossAmount": 10000, "customer": {"externalId": "C-1"}})
    [seen] = oneup.ok("GET", "/invoices?user_code=eq:ERP-1")
    assert seen["sent"] is True
    before = book_snapshot(context, org.id)
    assert_error(oneup.put(f"/invoices/{seen['id']}", {"po_number": "PO-9"}), "3010")
    assert_error(oneup.delete(f"/invoices/{seen['id']}"), "3010")
    [entry] = [row for row in quipu.ok("GET", "/invoices")["data"] if row["attributes"]["number"] == "ERP-1"]
    assert entry["attributes"]["stage"] == "final"
    quipu_errors(quipu.patch(f"/invoices/{entry['id']}", {"data": {"type": "invoices", "relationships": {
        "items": {"data": [quipu_item("More", "5")]}}}}), 403)
    assert book_snapshot(context, org.id) == before

    [posted] = transactions_of(oneup, "ERP-1")
    corrected = upflow.ok("POST", "/invoices", {"externalId": "E-1", "netAmount": 12000, "grossAmount": 12000})
    assert (corrected["id"], corrected["netAmount"]) == (imported["id"], 12000)
    first, reversal, anew = transactions_of(oneup, "ERP-1")
    assert first["id"] == posted["id"] and assert_reversed(posted, [first, reversal]) == reversal
    assert sum(D(e["amount"]) for e in anew["entries"] if e["way"] == "debit") == D(120)

    draft = invoice(oneup, {"id": seen["customer_id"]}, item(oneup, "Draft work", "10"), "2024-03-01").json()
    [listed] = [row for row in quipu.ok("GET", "/invoices")["data"] if row["attributes"]["number"] == draft["user_code"]]
    assert listed["attributes"]["stage"] == "draft"  # a OneUp invoice not sent yet
    quipu_ok = quipu.patch(f"/invoices/{listed['id']}", {"data": {"type": "invoices", "relationships": {
        "items": {"data": [quipu_item("Draft work", "12", 1, 0)]}}}})
    assert quipu_ok.status_code == 200, quipu_ok.text
    assert upflow.delete("/invoices/external:E-1").status_code == 204  # cancelled by its issuer: reversed
    assert len(transactions_of(oneup, "ERP-1")) == 4


def test_a_quipu_series_follows_its_dates(client, org):
    quipu = QuipuClient(client, org)
    series = quipu.create("/numbering_series", "numbering_series", {"prefix": "2024-A-", "applicable_to": "invoices"})
    contact = quipu.contact()

    def numbered(on: str):
        return quipu.post("/invoices", {"data": {"type": "invoices", "attributes": {"kind": "income", "issue_date": on},
                                                 "relationships": {"contact": relationship("contacts", contact["id"]),
                                                                   "numeration": relationship("numbering_series", series["id"]),
                                                                   "items": {"data": [quipu_item("Work", "10")]}}}})
    assert numbered("2024-05-10").json()["data"]["attributes"]["number"] == "2024-A-1"
    [error] = quipu_errors(numbered("2024-05-01"), 422)
    assert error["source"]["pointer"] == "/data/attributes/issue_date" and "before 2024-A-1" in error["detail"], error
    assert numbered("2024-05-10").json()["data"]["attributes"]["number"] == "2024-A-2"  # no gap
