"""Upflow v1 payments through the real app (specs/upflow.md §6.5, §7): imported by externalId and
linked to several invoices with the amount applied to each (cents); the invoices' amountOutstanding
follows; over-applying, dating before the invoice, or linking another customer's invoice is refused
and stores nothing; re-import moves the amounts; lists, addressing, deletes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal as D

from ..helpers import OneUpClient
from .conftest import upflow_error

FUTURE = (date.today() + timedelta(days=30)).isoformat()


def setup(upflow) -> tuple[dict, dict, dict]:
    """Customer C-1 with two invoices: A (gross 10000) and B (gross 5000), issued 2024-03-01."""
    buyer = upflow.ok("POST", "/customers", {"externalId": "C-1", "name": "Acme"})
    a = upflow.ok("POST", "/invoices", {"externalId": "INV-A", "customId": "A-1", "issuedAt": "2024-03-01",
                                        "dueDate": FUTURE, "currency": "EUR", "netAmount": 10000,
                                        "grossAmount": 10000, "customer": {"externalId": "C-1"}})
    b = upflow.ok("POST", "/invoices", {"externalId": "INV-B", "customId": "B-1", "issuedAt": "2024-03-01",
                                        "dueDate": FUTURE, "currency": "EUR", "netAmount": 4000,
                                        "grossAmount": 5000, "customer": {"externalId": "C-1"}})
    return buyer, a, b


def payment_body(links: list[dict], **overrides) -> dict:
    body = {"externalId": "PAY-1", "currency": "EUR", "amount": 9000, "validatedAt": "2024-03-10",
            "instrument": "WIRE_TRANSFER", "customer": {"externalId": "C-1"}, "linkedInvoices": links}
    body.update(overrides)
    return body


def outstanding(upflow, invoice: dict) -> int:
    return upflow.ok("GET", f"/invoices/{invoice['id']}")["amountOutstanding"]


def payments_of(upflow) -> dict:
    return upflow.ok("GET", "/payments")


# == import and links ============================================================================


def test_a_payment_linked_to_two_invoices_lowers_each_outstanding(upflow):
    buyer, a, b = setup(upflow)
    payment = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 6000},
                                                           {"externalId": "INV-B", "linkedAmount": 2000}]))
    assert payment["externalId"] == "PAY-1"
    assert payment["amount"] == 9000 and payment["currency"] == "EUR"
    assert payment["validatedAt"].startswith("2024-03-10T")
    assert payment["instrument"] == "WIRE_TRANSFER"
    assert payment["amountLinked"] == 8000  # the unapplied rest (1000) is allowed
    assert payment["customer"]["id"] == buyer["id"]
    linked = {link["invoice"]["id"]: link["linkedAmount"] for link in payment["linkedInvoices"]}
    assert linked == {a["id"]: 6000, b["id"]: 2000}
    assert outstanding(upflow, a) == 4000
    assert outstanding(upflow, b) == 3000
    assert upflow.ok("GET", f"/invoices/{a['id']}")["payments"][0]["amount"] == 6000


def test_a_nested_invoice_link(upflow):
    _, a, b = setup(upflow)
    payment = upflow.ok("POST", "/payments", payment_body([{"invoice": {"externalId": "INV-A"}, "amountLinked": 1000},
                                                           {"invoice": {"id": b["id"]}, "linkedAmount": 5000}]))
    assert payment["amountLinked"] == 6000
    assert outstanding(upflow, a) == 9000
    assert outstanding(upflow, b) == 0
    assert upflow.ok("GET", f"/invoices/{b['id']}")["state"] == "PAID"


def test_applying_more_than_what_is_left_is_409_and_stores_nothing(upflow):
    _, a, b = setup(upflow)
    upflow_error(upflow.post("/payments", payment_body([{"id": b["id"], "amountLinked": 5001}], amount=6000)), 409)
    assert payments_of(upflow)["total"] == 0
    assert outstanding(upflow, b) == 5000
    upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 7000}], externalId="P-FIRST"))
    upflow_error(upflow.post("/payments", payment_body([{"id": a["id"], "amountLinked": 3001}],
                                                       externalId="P-SECOND")), 409)
    assert payments_of(upflow)["total"] == 1
    assert outstanding(upflow, a) == 3000


def test_reimport_with_new_links_moves_the_amounts(upflow):
    _, a, b = setup(upflow)
    first = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 6000}]))
    assert (outstanding(upflow, a), outstanding(upflow, b)) == (4000, 5000)
    second = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 1000},
                                                          {"id": b["id"], "amountLinked": 5000}]))
    assert second["id"] == first["id"]
    assert second["amountLinked"] == 6000
    assert (outstanding(upflow, a), outstanding(upflow, b)) == (9000, 0)
    assert payments_of(upflow)["total"] == 1


def test_reimport_may_apply_the_whole_invoice_it_already_holds(upflow):
    _, a, _ = setup(upflow)
    upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 9000}]))
    again = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 9000}]))
    assert again["amountLinked"] == 9000 and outstanding(upflow, a) == 1000


# == lists, addressing, deletes ==================================================================


def test_list_envelope_uses_items(upflow):
    _, a, _ = setup(upflow)
    first = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 1000}], externalId="P-1"))
    second = upflow.ok("POST", "/payments", payment_body([], externalId="P-2", amount=500))
    listed = payments_of(upflow)
    assert set(listed) >= {"offset", "limit", "total", "items"}
    assert listed["total"] == 2 and {p["id"] for p in listed["items"]} == {first["id"], second["id"]}
    assert "payments" not in listed


def test_get_by_id_and_external_id(upflow):
    _, a, _ = setup(upflow)
    payment = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 1000}]))
    assert upflow.ok("GET", f"/payments/{payment['id']}") == payment
    assert upflow.ok("GET", "/payments/external:PAY-1")["id"] == payment["id"]
    upflow_error(upflow.get("/payments/external:NOPE"), 404)
    upflow_error(upflow.get(f"/payments/{uuid.uuid4()}"), 404)


def test_delete_is_204_and_restores_the_outstanding(upflow):
    _, a, b = setup(upflow)
    payment = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 6000},
                                                           {"id": b["id"], "amountLinked": 3000}]))
    assert (outstanding(upflow, a), outstanding(upflow, b)) == (4000, 2000)
    response = upflow.delete(f"/payments/{payment['id']}")
    assert response.status_code == 204, response.text
    upflow_error(upflow.get(f"/payments/{payment['id']}"), 404)
    assert (outstanding(upflow, a), outstanding(upflow, b)) == (10000, 5000)
    assert upflow.ok("GET", f"/invoices/{a['id']}")["payments"] == []
    assert payments_of(upflow)["total"] == 0
    again = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 1000}], externalId="P-X"))
    assert upflow.delete("/payments/external:P-X").status_code == 204
    upflow_error(upflow.get(f"/payments/{again['id']}"), 404)


# == refusals that store nothing =================================================================


def test_a_payment_dated_before_the_invoice_is_refused_and_stores_nothing(upflow):
    _, a, _ = setup(upflow)
    response = upflow.post("/payments", payment_body([{"id": a["id"], "amountLinked": 1000}],
                                                     validatedAt="2024-02-28"))
    assert response.status_code in (400, 409, 422), (response.status_code, response.text)
    upflow_error(response, response.status_code)
    assert payments_of(upflow)["total"] == 0
    assert outstanding(upflow, a) == 10000


def test_linking_an_invoice_of_another_customer_is_400(upflow):
    _, a, _ = setup(upflow)
    upflow.ok("POST", "/customers", {"externalId": "C-2", "name": "Other"})
    upflow_error(upflow.post("/payments", payment_body([{"id": a["id"], "amountLinked": 1000}],
                                                       customer={"externalId": "C-2"})), 400)
    assert payments_of(upflow)["total"] == 0
    assert outstanding(upflow, a) == 10000


def test_missing_required_fields_are_400(upflow):
    setup(upflow)
    for name in ("currency", "amount", "validatedAt", "customer"):
        body = payment_body([], externalId=f"MISSING-{name}")
        del body[name]
        upflow_error(upflow.post("/payments", body), 400)
    assert payments_of(upflow)["total"] == 0


# == the bank account a payment names (issue 17 §11, docs/decisions/0021-lettering.md) ===========


def test_a_payment_naming_a_bank_account_posts_to_its_ledger_account(upflow, client, org):
    """A bank account of the book (made through OneUp) is listed by GET /bank_accounts; a payment of
    90.00 that names its id debits that bank account's own ledger account 90 (not undeposited funds)
    and credits the receivable 90; both dialects show the bank account on the payment."""
    oneup = OneUpClient(client, org)
    _, a, _ = setup(upflow)
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Main account", "currency": "EUR"})
    listed = upflow.ok("GET", "/bank_accounts")
    assert (listed["total"], [(row["id"], row["name"], row["currency"]) for row in listed["items"]]) == \
        (1, [(str(bank["id"]), "Main account", "EUR")])

    made = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 9000}],
                                                       bankAccountId=str(bank["id"])))
    assert made["bankAccountId"] == str(bank["id"])
    [shown] = oneup.ok("GET", "/payments")
    assert shown["bank_id"] == bank["id"]
    assert cash_side(oneup, shown["user_code"]) == (bank["account_id"], "debit", D(90))
    assert oneup.ok("GET", f"/bank_accounts/{bank['id']}")["accounting_bank_balance"] == D(90)

    # Sent again without it, the payment stays on that account; sent with null, it leaves it.
    upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 9000}], amount=9500))
    assert cash_side(oneup, shown["user_code"]) == (bank["account_id"], "debit", D(95))
    cleared = upflow.ok("POST", "/payments", payment_body([{"id": a["id"], "amountLinked": 9000}], amount=9500,
                                                          bankAccountId=None))
    assert cleared["bankAccountId"] is None
    assert cash_side(oneup, shown["user_code"]) == (undeposited_funds(oneup), "debit", D(95))


def test_an_unknown_bank_account_or_one_in_another_currency_is_400_and_stores_nothing(upflow, client, org):
    oneup = OneUpClient(client, org)
    _, a, _ = setup(upflow)
    dollars = oneup.ok("POST", "/bank_accounts", {"name": "Dollar account", "currency": "USD"})
    for named in ("999999", "BA-1", str(dollars["id"])):
        body = upflow_error(upflow.post("/payments", payment_body([{"id": a["id"], "amountLinked": 1000}],
                                                                  bankAccountId=named)), 400)
        assert "bankAccountId" in body["message"], body
    assert payments_of(upflow)["total"] == 0
    assert outstanding(upflow, a) == 10000


def cash_side(oneup: OneUpClient, piece_number: str) -> tuple[int, str, D]:
    """The (account id, way, amount) of the payment's transaction's entry that is not the receivable."""
    receivable = next(a["id"] for a in oneup.ok("GET", "/accounts?limit=1000") if a["number"] == "11100")
    [transaction] = oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")
    [entry] = [e for e in transaction["entries"] if e["account_id"] != receivable]
    return entry["account_id"], entry["way"], entry["amount"]


def undeposited_funds(oneup: OneUpClient) -> int:
    return next(a["id"] for a in oneup.ok("GET", "/accounts?limit=1000") if a["number"] == "10500")
