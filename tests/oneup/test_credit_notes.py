"""Credit notes, our extension to OneUp (docs/dialects/oneup.md): an invoice that was sent can be
neither edited nor deleted (3010), so a credit note corrects it. The credit note names the invoice
(`invoice_id`) and settles it; its transaction is an invoice's the other way round (design/
ARCHITECTURE.md, posting rules). Everything goes through the real app over HTTP.

The figures, worked out first: a French organization on the PCG sells a service of 100 at VAT 20 %,
invoice CINV-001 of 120 (411000 debit 120; 706000 credit 100, 445711 credit 20), and sends it. A
credit note CCN-001 of one line of 25 at 20 % is 30 (706000 debit 25, 445711 debit 5; 411000 credit
30, lettered CINV-001): the invoice's unpaid is 90, and the receivable's balance 90."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptoir.services.tenancy.organizations import create_organization

from ..helpers import OneUpClient, assert_reversed, book_snapshot, error_of
from .sales_support import UNKNOWN_ID, account_id, assert_error, customer, entry_sums, item, tax_id, transactions_of

D = Decimal
RECEIVABLE, INCOME, VAT_20 = "411000", "706000", "445711"


@pytest.fixture
def french(client, context) -> OneUpClient:
    return OneUpClient(client, create_organization(context.database, "Société", currency="EUR", country="FR",
                                                   chart="pcg"))


@pytest.fixture
def sale(french) -> dict:
    """The buyer, the service sold, VAT 20 % and the sent invoice of 120."""
    buyer, service = customer(french, "Client SA"), item(french, "Conseil")
    vat = tax_id(french, "TVA 20%")
    invoice = french.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2025-02-10", "order_lines": [
        {"item_id": service["id"], "quantity": D(1), "unit_price_wt": D(100), "tax_id": vat}]})
    assert (invoice["user_code"], invoice["subtotal"], invoice["tax_amount"], invoice["total"]) == \
        ("CINV-001", D(100), D(20), D(120))
    invoice = french.ok("PUT", f"/invoices/{invoice['id']}", {"sent": True})
    assert invoice["sent"] is True and invoice["unpaid"] == D(120)
    return {"buyer": buyer, "service": service, "vat": vat, "invoice": invoice}


def credit_body(sale: dict, price: str = "25", **extra) -> dict:
    """A credit note of one line of `price` at 20 % for the sent invoice."""
    line = {"item_id": sale["service"]["id"], "quantity": D(1), "unit_price_wt": D(price), "tax_id": sale["vat"]}
    return {"invoice_id": sale["invoice"]["id"], "date": "2025-02-20", "order_lines": [line], **extra}


def balances(oneup: OneUpClient, date: str = "2025-12-31") -> dict[str, Decimal]:
    """{account number: balance} of the trial balance (debit positive)."""
    trial = oneup.ok("GET", f"/reports/trial_balance?date={date}")
    return {line["number"]: line["balance"] for line in trial["accounts"]}


def sums_by_account(transaction: dict) -> dict[int, Decimal]:
    """{account id: debits less credits} of a transaction."""
    sums: dict[int, Decimal] = {}
    for entry in transaction["entries"]:
        sign = 1 if entry["way"] == "debit" else -1
        sums[entry["account_id"]] = sums.get(entry["account_id"], D(0)) + sign * entry["amount"]
    return sums


def ledger_accounts(oneup: OneUpClient) -> dict[str, int]:
    return {number: account_id(oneup, number) for number in (RECEIVABLE, INCOME, VAT_20)}


# -- 1. a credit note for a sent invoice ---------------------------------------------------------

def test_a_credit_note_of_30_settles_30_of_the_sent_invoice(french, sale):
    invoice = sale["invoice"]
    before = balances(french)
    assert (before[RECEIVABLE], before[INCOME], before[VAT_20]) == (D(120), D(-100), D(-20))
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    assert note["user_code"] == "CCN-001" and note["invoice_id"] == invoice["id"]
    assert note["customer_id"] == sale["buyer"]["id"] and note["currency_iso_code"] == "EUR"
    assert (note["subtotal"], note["tax_amount"], note["total"]) == (D(25), D(5), D(30))
    assert (note["applied"], note["unapplied"], note["sent"]) == (D(30), D(0), False)
    assert french.ok("GET", f"/credit_notes/{note['id']}") == note

    corrected = french.ok("GET", f"/invoices/{invoice['id']}")
    assert (corrected["total"], corrected["paid"], corrected["unpaid"]) == (D(120), D(30), D(90))
    assert corrected["payments_id"] == []  # settled by a credit note, not by a payment
    assert [s["outstanding_amount"] for s in corrected["installments"]] == [D(90)]

    # The credit note's transaction: the invoice's the other way round, in the sales journal.
    accounts = ledger_accounts(french)
    [transaction] = transactions_of(french, "CCN-001")
    assert transaction["journal"]["code"] == "VT"
    assert transaction["date"] == "2025-02-20" and transaction["currency_iso_code"] == "EUR"
    assert entry_sums(transaction, accounts) == {(INCOME, "debit"): D(25), (VAT_20, "debit"): D(5),
                                                 (RECEIVABLE, "credit"): D(30)}
    [receivable] = [e for e in transaction["entries"] if e["account_id"] == accounts[RECEIVABLE]]
    assert receivable["lettering"] == "CINV-001"  # it settles the invoice
    [vat] = [e for e in transaction["entries"] if e["account_id"] == accounts[VAT_20]]
    assert (vat["tax_rate"], vat["tax_base"]) == (D(20), D(25))

    after = balances(french)
    assert (after[RECEIVABLE], after[INCOME], after[VAT_20]) == (D(90), D(-75), D(-15))
    aged = french.ok("GET", "/reports/aged_receivables?date=2025-12-31")
    assert [(row["customer_id"], row["unapplied"], row["total"]) for row in aged["customers"]] == \
        [(sale["buyer"]["id"], D(0), D(90))]


def test_a_full_credit_without_lines_copies_the_invoices_lines(french, sale):
    """Only `invoice_id`: the invoice's customer, currency, tax, reduce and lines, credited in full."""
    vat_55 = tax_id(french, "TVA 5.5%")
    book = item(french, "Livre")
    invoice = french.ok("POST", "/invoices", {"customer_id": sale["buyer"]["id"], "date": "2025-03-01",
                                              "reduce_rate": D(10), "order_lines": [
        {"item_id": sale["service"]["id"], "quantity": D(2), "unit_price_wt": D(100), "tax_id": sale["vat"]},
        {"item_id": book["id"], "description": "Un livre", "quantity": D(3), "unit_price_wt": D("12.5"),
         "discount_rate": D(20), "tax_id": vat_55}]})
    french.ok("PUT", f"/invoices/{invoice['id']}", {"sent": True})
    note = french.ok("POST", "/credit_notes", {"invoice_id": invoice["id"], "date": "2025-03-05"})
    fields = ("item_id", "description", "quantity", "unit_price_wt", "discount_rate", "tax_id", "is_taxable", "total")
    assert [{name: line[name] for name in fields} for line in note["order_lines"]] == \
        [{name: line[name] for name in fields} for line in invoice["order_lines"]]
    assert {line["id"] for line in note["order_lines"]}.isdisjoint(line["id"] for line in invoice["order_lines"])
    for name in ("customer_id", "currency_iso_code", "reduce_rate", "subtotal", "reduce_amount", "tax_amount", "total"):
        assert note[name] == invoice[name], name
    assert (note["applied"], note["unapplied"]) == (invoice["total"], D(0))
    credited = french.ok("GET", f"/invoices/{invoice['id']}")
    assert (credited["paid"], credited["unpaid"]) == (invoice["total"], D(0))
    # The two transactions cancel out on every account.
    [sold], [credit] = transactions_of(french, invoice["user_code"]), transactions_of(french, note["user_code"])
    assert sums_by_account(sold) == {account: -amount for account, amount in sums_by_account(credit).items()}


def test_a_credit_note_larger_than_what_is_unpaid_applies_only_that(french, sale):
    invoice = sale["invoice"]
    french.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": D(100), "date": "2025-02-15"})
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    assert (note["total"], note["applied"], note["unapplied"]) == (D(30), D(20), D(10))
    settled = french.ok("GET", f"/invoices/{invoice['id']}")
    assert (settled["paid"], settled["unpaid"]) == (D(120), D(0))
    # The receivable side: 20 lettered with the invoice, the 10 left under the credit note's own number.
    accounts = ledger_accounts(french)
    [transaction] = transactions_of(french, "CCN-001")
    assert sorted((e["lettering"], e["amount"]) for e in transaction["entries"]
                  if e["account_id"] == accounts[RECEIVABLE]) == [("CCN-001", D(10)), ("CINV-001", D(20))]
    aged = french.ok("GET", "/reports/aged_receivables?date=2025-12-31")
    assert [(row["unapplied"], row["total"]) for row in aged["customers"]] == [(D(-10), D(-10))]


def test_a_credit_note_without_an_invoice_is_an_unapplied_credit(french, sale):
    body = credit_body(sale, customer_id=sale["buyer"]["id"])
    del body["invoice_id"]
    note = french.ok("POST", "/credit_notes", body)
    assert (note["invoice_id"], note["total"], note["applied"], note["unapplied"]) == (None, D(30), D(0), D(30))
    assert french.ok("GET", f"/invoices/{sale['invoice']['id']}")["unpaid"] == D(120)
    assert balances(french)[RECEIVABLE] == D(90)
    aged = french.ok("GET", "/reports/aged_receivables?date=2025-12-31")
    assert [(row["unapplied"], row["total"]) for row in aged["customers"]] == [(D(-30), D(90))]
    [transaction] = transactions_of(french, "CCN-001")
    assert [e["lettering"] for e in transaction["entries"] if e["way"] == "credit"] == ["CCN-001"]
    assert_error(french.post("/credit_notes", {"order_lines": body["order_lines"]}), "3013")  # customer_id


# -- 2. what invoice_id may name -----------------------------------------------------------------

def test_an_invoice_of_another_customer_is_refused_and_changes_nothing(french, sale, context):
    other = customer(french, "Autre client")
    before = book_snapshot(context, french.org.id)
    error = assert_error(french.post("/credit_notes", credit_body(sale, customer_id=other["id"])), "3")
    assert error["reason"].startswith("invoice_id: CINV-001 is an invoice of another customer"), error
    assert book_snapshot(context, french.org.id) == before
    assert french.ok("GET", "/credit_notes") == []
    assert french.ok("POST", "/credit_notes", credit_body(sale))["user_code"] == "CCN-001"  # no number lost


def test_invoice_id_must_name_an_invoice_of_this_book_in_its_currency(french, sale, oneup, context):
    order = french.ok("POST", "/sales_orders", {"customer_id": sale["buyer"]["id"]})
    theirs = oneup.ok("POST", "/invoices", {"customer_id": customer(oneup)["id"]})
    before = book_snapshot(context, french.org.id)
    for invoice_id in (UNKNOWN_ID, order["id"], theirs["id"]):
        error = assert_error(french.post("/credit_notes", {**credit_body(sale), "invoice_id": invoice_id}), "3")
        assert error["reason"] == f"invoice_id: no invoice with id {invoice_id}", error
    error = assert_error(french.post("/credit_notes", credit_body(sale, currency_iso_code="USD")), "3")
    assert error["reason"] == "invoice_id: CINV-001 is in EUR, not in USD", error
    assert book_snapshot(context, french.org.id) == before
    assert_error(french.post("/credit_notes", {"invoice_id": "1"}), "5")


def test_invoice_id_cannot_change_after_creation(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    path = f"/credit_notes/{note['id']}"
    other = french.ok("POST", "/invoices", {"customer_id": sale["buyer"]["id"]})
    for invoice_id in (other["id"], None):
        error = assert_error(french.put(path, {"invoice_id": invoice_id}), "3")
        assert error["reason"] == "invoice_id: the invoice a credit note corrects cannot change", error
    loose = french.ok("POST", "/credit_notes", {"customer_id": sale["buyer"]["id"]})
    assert_error(french.put(f"/credit_notes/{loose['id']}", {"invoice_id": other["id"]}), "3")
    assert french.ok("PUT", path, {"invoice_id": sale["invoice"]["id"], "public_note": ""}) == note  # sent back as read
    assert french.ok("GET", f"/invoices/{other['id']}")["paid"] == 0


def test_a_credit_note_stays_with_the_customer_of_its_invoice(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    other = customer(french, "Autre client")
    error = assert_error(french.put(f"/credit_notes/{note['id']}", {"customer_id": other["id"]}), "3")
    assert "invoice_id: CINV-001 is an invoice of another customer" in error["reason"], error
    assert french.ok("GET", f"/credit_notes/{note['id']}") == note


# -- 3. sent and draft credit notes ----------------------------------------------------------------

def test_a_sent_credit_note_cannot_be_edited_nor_deleted(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale, sent=True))
    assert note["sent"] is True
    path = f"/credit_notes/{note['id']}"
    for body in ({"po_number": "PO-1"}, {"order_lines": []}, {"sent": False}):
        error = assert_error(french.put(path, body), "3010")
        assert "CCN-001 has been issued" in error["reason"], error
    assert_error(french.delete(path), "3010")
    bulk = french.ok("DELETE", f"/credit_notes?ids={note['id']}")
    assert bulk["success_count"] == 0 and bulk["errors"][0]["error"]["code"] == "3010"
    assert french.ok("GET", path) == note
    assert len(transactions_of(french, "CCN-001")) == 1
    assert french.ok("GET", f"/invoices/{sale['invoice']['id']}")["unpaid"] == D(90)


def test_a_draft_credit_note_can_be_edited_and_what_it_settles_follows(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    line = note["order_lines"][0]
    larger = french.ok("PUT", f"/credit_notes/{note['id']}", {"order_lines": [{"id": line["id"],
                                                                             "unit_price_wt": D(50)}]})
    assert (larger["total"], larger["applied"], larger["unapplied"]) == (D(60), D(60), D(0))
    assert french.ok("GET", f"/credit_notes/{note['id']}") == larger
    assert french.ok("GET", f"/invoices/{sale['invoice']['id']}")["unpaid"] == D(60)
    [transaction] = transactions_of(french, "CCN-001")  # posted again, not twice
    assert entry_sums(transaction, ledger_accounts(french)) == {(INCOME, "debit"): D(50), (VAT_20, "debit"): D(10),
                                                                (RECEIVABLE, "credit"): D(60)}
    # Beyond the invoice: the credit note applies what is unpaid, the rest stays a credit.
    whole = french.ok("PUT", f"/credit_notes/{note['id']}", {"order_lines": [{"id": line["id"],
                                                                            "unit_price_wt": D(150)}]})
    assert (whole["total"], whole["applied"], whole["unapplied"]) == (D(180), D(120), D(60))
    emptied = french.ok("PUT", f"/credit_notes/{note['id']}", {"order_lines": []})
    assert (emptied["total"], emptied["applied"], emptied["unapplied"]) == (D(0), D(0), D(0))
    assert french.ok("GET", f"/invoices/{sale['invoice']['id']}")["unpaid"] == D(120)


def test_deleting_a_draft_credit_note_reverses_its_transaction_and_reopens_the_invoice(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    [posted] = transactions_of(french, "CCN-001")
    deleted = french.ok("DELETE", f"/credit_notes/{note['id']}")
    assert deleted == note
    assert_error(french.get(f"/credit_notes/{note['id']}"), "2")
    both = transactions_of(french, "CCN-001")
    assert len(both) == 2 and assert_reversed(posted, both)
    assert french.ok("GET", f"/invoices/{sale['invoice']['id']}")["unpaid"] == D(120)
    assert balances(french)[RECEIVABLE] == D(120)


def test_an_invoice_a_credit_note_settles_cannot_be_deleted(french, sale):
    draft = french.ok("POST", "/invoices", {"customer_id": sale["buyer"]["id"], "order_lines": [
        {"item_id": sale["service"]["id"], "unit_price_wt": D(10), "tax_id": sale["vat"]}]})
    french.ok("POST", "/credit_notes", {"invoice_id": draft["id"]})
    response = french.delete(f"/invoices/{draft['id']}")
    error = error_of(response)
    assert (response.status_code, error["code"], error["message"]) == (422, "3", "This object cannot be deleted.")
    assert "Credit Note" in error["reason"], error


# -- 4. the conventions of invoices --------------------------------------------------------------

def test_read_only_fields_of_a_credit_note(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    path = f"/credit_notes/{note['id']}"
    for name, value in (("applied", D(1)), ("unapplied", D(1)), ("total", D(1)), ("paid", D(1))):
        error = assert_error(french.put(path, {name: value}), "3")
        assert error["reason"] == f"Read-only fields cannot be changed: {name}", error
    echoed = {name: note[name] for name in ("applied", "unapplied", "total", "order_lines", "invoice_id")}
    assert french.ok("PUT", path, echoed) == note
    assert_error(french.put(path, {"applied": "30"}), "5")


def test_lists_of_credit_notes_filter_sort_and_page(french, sale):
    buyer = sale["buyer"]
    other = customer(french, "Autre client")
    first = french.ok("POST", "/credit_notes", credit_body(sale, price="10"))
    second = french.ok("POST", "/credit_notes", {"customer_id": other["id"], "date": "2025-03-01"})
    third = french.ok("POST", "/credit_notes", credit_body(sale, price="40", date="2025-04-01"))
    assert [n["user_code"] for n in (first, second, third)] == ["CCN-001", "CCN-002", "CCN-003"]

    def ids(query: str) -> list[int]:
        return [note["id"] for note in french.ok("GET", f"/credit_notes?{query}")]
    assert ids("sort=id") == [first["id"], second["id"], third["id"]]
    assert ids(f"customer_id=eq:{buyer['id']}&sort=-id") == [third["id"], first["id"]]
    assert ids(f"invoice_id={sale['invoice']['id']}&sort=id") == [first["id"], third["id"]]
    assert ids("total=gt:12&sort=-total") == [third["id"]]
    assert ids("date=gte:2025-03-01&sort=date") == [second["id"], third["id"]]
    assert ids("user_code=eq:CCN-002") == [second["id"]]
    page = french.get("/credit_notes?sort=id&limit=2")
    assert page.headers["X-OneUp-Has-Next-Page"] == "true" and len(page.json()) == 2
    last = french.get("/credit_notes?sort=id&limit=2&offset=2")
    assert last.headers["X-OneUp-Has-Next-Page"] == "false" and [n["id"] for n in last.json()] == [third["id"]]
    listed = french.ok("GET", "/credit_notes?sort=id")
    assert listed == [french.ok("GET", f"/credit_notes/{n['id']}") for n in (first, second, third)]
    assert [(n["applied"], n["unapplied"]) for n in listed] == [(D(12), D(0)), (D(0), D(0)), (D(48), D(0))]
    assert_error(french.get("/credit_notes?sort=applied"), "5")
    assert_error(french.get("/credit_notes?invoice_id=eq:x"), "5")


def test_credit_notes_are_not_invoices(french, sale):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    assert_error(french.get(f"/invoices/{note['id']}"), "2")
    assert_error(french.get(f"/credit_notes/{sale['invoice']['id']}"), "2")
    assert_error(french.get(f"/credit_notes/{UNKNOWN_ID}"), "2")
    assert [invoice["id"] for invoice in french.ok("GET", "/invoices")] == [sale["invoice"]["id"]]
    refused = french.request("PUT", "/credit_notes", {})
    assert (refused.status_code, error_of(refused)["code"]) == (405, "5")


# -- 5. isolation ----------------------------------------------------------------------------------

def test_another_organization_cannot_see_or_touch_a_credit_note(french, sale, oneup):
    note = french.ok("POST", "/credit_notes", credit_body(sale))
    path = f"/credit_notes/{note['id']}"
    for response in (oneup.get(path), oneup.put(path, {"public_note": "X"}), oneup.delete(path)):
        assert_error(response, "2")
    assert oneup.ok("GET", "/credit_notes") == []
    bulk = oneup.ok("DELETE", f"/credit_notes?ids={note['id']}")
    assert bulk["success_count"] == 0 and bulk["errors"][0]["error"]["code"] == "2"
    # Nor credit one of its invoices.
    theirs = customer(oneup)
    error = error_of(oneup.post("/credit_notes", {"customer_id": theirs["id"], "invoice_id": sale["invoice"]["id"]}))
    assert error["code"] == "3" and error["reason"] == f"invoice_id: no invoice with id {sale['invoice']['id']}"
    assert french.ok("GET", path) == note
    assert french.ok("GET", f"/invoices/{sale['invoice']['id']}")["unpaid"] == D(90)


# -- 6. one book -------------------------------------------------------------------------------------

def test_upflow_reads_the_credit_note_linked_to_its_invoice(french, sale, client):
    """Written through OneUp, read through Upflow (design/ARCHITECTURE.md: one book, four dialects)."""
    french.ok("POST", "/credit_notes", credit_body(sale))
    keys = french.org.upflow
    headers = {"X-Api-Key": keys["api_key"], "X-Api-Secret": keys["api_secret"]}
    [note] = client.get("/upflow/v1/credit_notes", headers=headers).json()["creditNotes"]
    assert (note["customId"], note["grossAmount"], note["amountLinked"], note["amountAvailable"]) == \
        ("CCN-001", 3000, 3000, 0)
    assert [(link["customId"], link["amountLinked"]) for link in note["linkedInvoices"]] == [("CINV-001", 3000)]
    [invoice] = client.get("/upflow/v1/invoices", headers=headers).json()["invoices"]
    assert (invoice["customId"], invoice["amountOutstanding"]) == ("CINV-001", 9000)
    assert [(link["customId"], link["amountLinked"]) for link in invoice["creditNotes"]] == [("CCN-001", 3000)]
