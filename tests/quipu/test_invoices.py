"""Quipu invoices, income and expenses, and amending invoices: amounts per item (base, VAT,
retention) with Decimal, posted to the ledger by the same posting code as every other document, and
visible through OneUp."""

from __future__ import annotations

from decimal import Decimal

import simplejson

from ..helpers import OneUpClient, book_snapshot
from ..oneup.sales_support import assert_seed_totals, seed_document
from .conftest import item, quipu_errors, relationship


def postings(oneup: OneUpClient, piece_number: str) -> dict[tuple[str, str], Decimal]:
    """The entries of the transaction of a document, by (account number, way)."""
    numbers = {account["id"]: account["number"] for account in oneup.ok("GET", "/accounts", params={"limit": 1000})}
    [transaction] = [t for t in oneup.ok("GET", "/transactions", params={"limit": 1000})
                     if t["piece_number"] == piece_number]
    found: dict[tuple[str, str], Decimal] = {}
    for entry in transaction["entries"]:
        key = (numbers[entry["account_id"]], entry["way"])
        found[key] = found.get(key, Decimal(0)) + Decimal(str(entry["amount"]))
    return found


def income(quipu, contact_id: str, items: list[dict], **attributes) -> dict:
    return quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-03-12", **attributes},
                        {"contact": relationship("contacts", contact_id), "items": {"data": items}})


def test_income_invoice_amounts_per_item_and_its_posting(quipu, oneup):
    contact = quipu.contact()
    invoice = income(quipu, contact["id"], [item("Screws", "0.50", 30, 21, 15), item("Nails", "9.038", 5, 10)],
                     due_dates=["2024-04-12"], tags="songo, timba", payment_method="bank_transfer")
    attributes = invoice["attributes"]
    # Screws: base 15.00, VAT 3.15, retention 2.25; nails: base 45.19, VAT 4.52 (4.519 rounded half-up).
    assert {name: attributes[name] for name in ("total_amount_without_taxes", "vat_amount", "retention_amount",
                                                 "total_amount")} == {
        "total_amount_without_taxes": "60.19", "vat_amount": "7.67", "retention_amount": "2.25",
        "total_amount": "65.61"}
    assert (attributes["kind"], attributes["due_dates"], attributes["tags"], attributes["payment_status"]) == (
        "income", ["2024-04-12"], "songo, timba", "unpaid")
    included = quipu.ok("GET", f"/invoices/{invoice['id']}", params={"include": "items"})["included"]
    assert [(i["type"], i["attributes"]["vat_amount"], i["attributes"]["retention_amount"],
             i["attributes"]["total_amount"]) for i in included] == [("items", "3.15", "2.25", "15.9"),
                                                                      ("items", "4.52", "0.0", "49.71")]
    assert postings(oneup, attributes["number"]) == {
        ("11100", "debit"): Decimal("65.61"), ("12100", "debit"): Decimal("2.25"),
        ("40150", "credit"): Decimal("60.19"), ("21100-2100", "credit"): Decimal("3.15"),
        ("21100-1000", "credit"): Decimal("4.52")}  # the VAT on the account of its rate
    [seen] = oneup.ok("GET", "/invoices")
    assert (seen["id"], seen["user_code"], Decimal(str(seen["total"]))) == (int(invoice["id"]), attributes["number"],
                                                                            Decimal("65.61"))


def test_expense_invoice_posts_expense_deductible_vat_payable_and_withholding(quipu, oneup):
    vendor = quipu.contact("Landlord S.L.")
    expense = quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01", "number": "F-77"},
                           {"contact": relationship("contacts", vendor["id"]),
                            "items": {"data": [item("Rent", "1000", 1, 21, 19, deductible_vat_percent=50)]}})
    attributes = expense["attributes"]
    assert (attributes["number"], attributes["total_amount"], attributes["vat_amount"],
            attributes["retention_amount"]) == ("F-77", "1020.0", "210.0", "190.0")
    assert (attributes["issuing_name"], attributes["download_pdf_url"]) == ("Landlord S.L.", None)
    transactions = [t for t in oneup.ok("GET", "/transactions") if t["journal"]["code"] == "AC"]
    [transaction] = transactions
    assert postings(oneup, transaction["piece_number"]) == {
        ("50100", "debit"): Decimal(1105),  # the base and the half of the VAT that cannot be deducted
        ("12000-2100", "debit"): Decimal(105), ("20100", "credit"): Decimal(1020),
        ("21200", "credit"): Decimal(190)}
    assert oneup.ok("GET", "/invoices") == []  # purchase invoices are not OneUp's sales invoices


def test_amending_invoices_full_and_partial_refunds(quipu, oneup):
    contact = quipu.contact()
    invoice = income(quipu, contact["id"], [item("Work", "100.00", 2, 21)])
    full = quipu.create("/invoices", "invoices", {}, {"amended_invoice": relationship("invoices", invoice["id"])})
    assert (full["attributes"]["total_amount"], full["attributes"]["kind"]) == ("-242.0", "income")
    assert full["relationships"]["amended_invoice"]["data"] == {"id": invoice["id"], "type": "invoices"}
    assert full["relationships"]["contact"]["data"]["id"] == contact["id"]
    partial = quipu.create("/invoices", "invoices", {"credit_note_reason": "R4"}, {
        "amended_invoice": {"data": {"id": int(invoice["id"]), "type": "invoices"}},
        "items": {"data": [item("Discount", "-5.00", 1, 21)]}})
    assert (partial["attributes"]["total_amount"], partial["attributes"]["vat_amount"]) == ("-6.05", "-1.05")
    amending = quipu.ok("GET", f"/invoices/{invoice['id']}")["data"]["relationships"]["amending_invoices"]["data"]
    assert [entry["id"] for entry in amending] == [full["id"], partial["id"]]
    assert postings(oneup, partial["attributes"]["number"]) == {
        ("11100", "credit"): Decimal("6.05"), ("40150", "debit"): Decimal(5), ("21100-2100", "debit"): Decimal("1.05")}


def test_patching_items_updates_creates_and_deletes(quipu):
    """On an expense (the supplier's invoice, booked here): an income invoice is final (below)."""
    contact = quipu.contact()
    invoice = income(quipu, contact["id"], [item("Keep", "10", 1, 21), item("Drop", "20", 1, 21)], kind="expenses",
                     number="F-77")
    keep, _drop = invoice["relationships"]["items"]["data"]
    patched = quipu.ok("PATCH", f"/invoices/{invoice['id']}", {"data": {"type": "invoices", "relationships": {
        "items": {"data": [{"id": keep["id"], "type": "items", "attributes": {"quantity": 3}},
                           item("New", "5", 2, 0)]}}}})["data"]
    assert patched["attributes"]["total_amount_without_taxes"] == "40.0"
    assert patched["attributes"]["concepts"] == ["Keep", "New"]
    assert patched["relationships"]["items"]["data"][0] == keep
    assert patched["attributes"]["stage"] == "final"


def test_an_income_invoice_is_final_what_it_says_cannot_change(quipu, context, org):
    """Issue 17 §7: Quipu numbers an income invoice as it is created, and it is final: its items, date,
    number and contact cannot change, nor can it be deleted (403, nothing written); what it does not
    say (its payment, notes, tags) still can; an amending invoice corrects it."""
    contact, other = quipu.contact(), quipu.contact()
    invoice = income(quipu, contact["id"], [item("Work", "100", 1, 21)])
    assert invoice["attributes"]["stage"] == "final"
    path = f"/invoices/{invoice['id']}"
    before = book_snapshot(context, org.id)
    for attributes, relationships in (({}, {"items": {"data": [item("More", "5", 1, 21)]}}),
                                      ({"issue_date": "2024-03-13"}, {}), ({"number": "X-1"}, {}),
                                      ({}, {"contact": relationship("contacts", other["id"])})):
        errors = quipu_errors(quipu.patch(path, {"data": {"type": "invoices", "attributes": attributes,
                                                          "relationships": relationships}}), 403)
        assert "has been issued" in errors[1]["detail"], errors
    quipu_errors(quipu.delete(path), 403)
    assert book_snapshot(context, org.id) == before
    paid = quipu.ok("PATCH", path, {"data": {"type": "invoices", "attributes": {
        "paid_at": "2024-03-20", "payment_method": "bank_transfer", "notes": "Paid by wire", "tags": "q1"}}})["data"]
    assert (paid["attributes"]["paid_at"], paid["attributes"]["notes"]) == ("2024-03-20", "Paid by wire")
    assert paid["attributes"]["total_amount"] == invoice["attributes"]["total_amount"]
    amending = quipu.create("/invoices", "invoices", {}, {"amended_invoice": relationship("invoices", invoice["id"])})
    assert amending["attributes"]["total_amount"] == "-121.0"
    assert amending["attributes"]["stage"] == "final"


def test_bad_invoices_are_422_with_pointers_and_write_nothing(quipu, context, org):
    contact = quipu.contact()
    before = book_snapshot(context, org.id)
    errors = quipu_errors(quipu.post("/invoices", {"data": {"type": "invoices", "attributes": {
        "issue_date": "2024-13-40", "payment_method": "barter"}, "relationships": {
        "items": {"data": [{"type": "book_entry_items", "attributes": {"unitary_amount": "x", "vat_percent": 101}}]}}}}),
        422)
    assert {error["source"]["pointer"] for error in errors} == {
        "/data/attributes/issue_date", "/data/attributes/payment_method", "/data/attributes/kind",
        "/data/relationships/contact", "/data/relationships/items/data/0/attributes/unitary_amount",
        "/data/relationships/items/data/0/attributes/vat_percent",
        "/data/relationships/items/data/0/attributes/concept"}
    unknown = quipu_errors(quipu.post("/invoices", {"data": {"type": "invoices", "attributes": {
        "kind": "income", "issue_date": "2024-01-01"}, "relationships": {
        "contact": relationship("contacts", 999999999)}}}), 422)
    assert unknown[0]["source"]["pointer"] == "/data/relationships/contact"
    moved = income(quipu, contact["id"], [])
    before = book_snapshot(context, org.id)
    quipu_errors(quipu.patch(f"/invoices/{moved['id']}", {"data": {"type": "invoices", "attributes": {
        "kind": "expenses"}}}), 422)
    assert book_snapshot(context, org.id) == before


def test_the_legacy_singular_due_date(quipu):
    contact = quipu.contact()
    invoice = income(quipu, contact["id"], [item("Work", "10")], due_date="2024-05-01")
    assert invoice["attributes"]["due_dates"] == ["2024-05-01"]


def test_decimals_are_strings_and_never_floats(quipu):
    contact = quipu.contact()
    invoice = income(quipu, contact["id"], [item("Tiny", "0.1", 3, 0), item("Tinier", "0.2", 1, 0)])
    raw = quipu.get(f"/invoices/{invoice['id']}").text
    assert simplejson.loads(raw)["data"]["attributes"]["total_amount"] == "0.5"


def test_paid_at_makes_an_invoice_paid_and_filters_find_it(quipu):
    contact = quipu.contact()
    paid = income(quipu, contact["id"], [item("Work", "10")], paid_at="2024-03-15", issue_date="2024-03-12")
    unpaid = income(quipu, contact["id"], [item("Work", "20")], issue_date="2025-01-05")
    expense = quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-06-01"},
                           {"contact": relationship("contacts", contact["id"])})
    ids = lambda **params: [row["id"] for row in quipu.ok("GET", "/invoices", params=params)["data"]]
    assert paid["attributes"]["payment_status"] == "paid"
    assert ids(**{"filter[payment_status]": "paid"}) == [paid["id"]]
    assert ids(**{"filter[payment_status]": "unpaid", "filter[kind]": "income"}) == [unpaid["id"]]
    assert ids(**{"filter[kind]": "expenses"}) == [expense["id"]]
    for period in ("2024", "2024-03", "2024-Q1", "1Q-2024", "2024Q1"):
        assert ids(**{"filter[period]": period, "filter[kind]": "income"}) == [paid["id"]], period
    assert ids(**{"filter[period][from]": "2024-12-01", "filter[period][to]": "2025-01-31"}) == [unpaid["id"]]
    assert ids(**{"filter[contact_id]": contact["id"], "sort": "-issue_date"}) == [unpaid["id"], expense["id"],
                                                                                  paid["id"]]
    # An integer that names no contact finds nothing, whatever it is (issue 16 §5); a word is refused.
    for nobody in ("999", "0", "-1", "99999999999999999999999"):
        assert ids(**{"filter[contact_id]": nobody}) == [], nobody
    assert quipu.get("/invoices", params={"filter[contact_id]": "abc"}).status_code == 400


def test_book_entries_list_what_every_dialect_wrote(quipu, oneup, upflow_client):
    contact = quipu.contact()
    quipu_invoice = income(quipu, contact["id"], [item("Work", "10")])
    quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01"},
                 {"contact": relationship("contacts", contact["id"])})
    quipu.create("/paysheets", "paysheets", {"kind": "expenses", "issue_date": "2024-03-31", "net_pay": "900"},
                 {"contact": relationship("contacts", contact["id"])})
    thing = oneup.ok("POST", "/items", {"type": 2, "name": "Thing", "sales_price": 50})
    oneup.ok("POST", "/invoices", {"customer_id": int(contact["id"]), "date": "2024-03-12",  # CINV-002, after -001
                                   "order_lines": [{"item_id": thing["id"], "quantity": 1, "is_taxable": False}]})
    customer = upflow_client.ok("POST", "/customers", {"name": "Upflow Customer", "externalId": "U-1"})
    upflow_client.ok("POST", "/invoices", {"customId": "UP-1", "issuedAt": "2024-03-03", "dueDate": "2024-04-03",
                                           "currency": "USD", "grossAmount": 1200, "netAmount": 1000,
                                           "customer": {"id": customer["id"]}})
    entries = quipu.ok("GET", "/book_entries")["data"]
    assert sorted((entry["type"], entry["attributes"]["kind"]) for entry in entries) == [
        ("invoices", "expenses"), ("invoices", "income"), ("invoices", "income"), ("invoices", "income"),
        ("paysheets", "expenses")]
    # Upflow writes cents: its 1200 is 12.00.
    assert {entry["attributes"]["total_amount"] for entry in entries} >= {"12.1", "50.0", "12.0", "900.0"}
    assert quipu_invoice["id"] in {entry["id"] for entry in entries}
    paysheets = quipu.ok("GET", "/book_entries", params={"filter[type]": "paysheets"})["data"]
    assert [entry["type"] for entry in paysheets] == ["paysheets"]


def test_detailed_amounts_only_when_asked(quipu):
    contact = quipu.contact()
    income(quipu, contact["id"], [item("Work", "100", 1, 21, 15)])
    quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01"}, {
        "contact": relationship("contacts", contact["id"]),
        "items": {"data": [item("Fuel", "100", 1, 21, 0, deductible_vat_percent=50)]}})
    assert "detailed_amounts" not in quipu.ok("GET", "/book_entries")["data"][0]["attributes"]
    entries = quipu.ok("GET", "/book_entries", params={"with_detailed_amounts": "", "sort": "issue_date"})["data"]
    expense, sale = (entry["attributes"]["detailed_amounts"] for entry in entries)
    assert {name: sale[name] for name in ("income_amount", "output_vat_amount", "income_tax_withheld_amount",
                                          "user_total_amount", "expense_amount")} == {
        "income_amount": "100.0", "output_vat_amount": "21.0", "income_tax_withheld_amount": "15.0",
        "user_total_amount": "106.0", "expense_amount": "0.0"}
    assert (expense["expense_amount"], expense["input_vat_amount"], expense["non_deductible_input_vat_amount"]) == (
        "100.0", "10.5", "10.5")


def test_an_amended_expense_is_a_vendor_credit_posted_against_the_payable(quipu, oneup):
    vendor = quipu.contact("Supplier S.L.")
    expense = quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01", "number": "S-9"},
                           {"contact": relationship("contacts", vendor["id"]),
                            "items": {"data": [item("Paper", "50", 2, 21)]}})
    credit = quipu.create("/invoices", "invoices", {"number": "S-9R"}, {
        "amended_invoice": relationship("invoices", expense["id"]),
        "items": {"data": [item("Paper returned", "-50", 1, 21)]}})
    assert (credit["attributes"]["kind"], credit["attributes"]["total_amount"]) == ("expenses", "-60.5")
    [transaction] = [t for t in oneup.ok("GET", "/transactions") if t["piece_number"].startswith("VCR-")]
    assert postings(oneup, transaction["piece_number"]) == {
        ("20100", "debit"): Decimal("60.5"), ("50100", "credit"): Decimal(50),
        ("12000-2100", "credit"): Decimal("10.5")}


def test_paid_at_is_a_payment_in_the_book_seen_by_every_dialect(quipu, oneup, upflow_client):
    """Issue 16 §6: an invoice declared paid through Quipu's paid_at is paid for OneUp and Upflow too (a
    payment of what remained, dated paid_at, posted); clearing paid_at takes it back; a partly paid
    invoice is settled for what remains; an expense declared paid settles its payable."""
    contact = quipu.contact()
    invoice = income(quipu, contact["id"], [item("Work", "1000", 1, 9)], issue_date="2024-02-01")
    number = invoice["attributes"]["number"]
    [found] = oneup.ok("GET", f"/invoices?user_code=eq:{number}")
    assert (found["paid"], found["unpaid"]) == (0, Decimal(1090))

    quipu.ok("PATCH", f"/invoices/{invoice['id']}", {"data": {"type": "invoices", "id": invoice["id"],
                                                              "attributes": {"paid_at": "2024-02-15"}}})
    paid = oneup.ok("GET", f"/invoices/{found['id']}")
    assert (paid["paid"], paid["unpaid"]) == (Decimal(1090), 0)
    [payment_id] = paid["payments_id"]
    quipu.ok("PATCH", f"/invoices/{invoice['id']}", {"data": {"type": "invoices", "id": invoice["id"],
                                                              "attributes": {"paid_at": "2024-02-15", "notes": "n"}}})
    assert oneup.ok("GET", f"/invoices/{found['id']}")["payments_id"] == [payment_id]  # the same payment, kept
    payment = oneup.ok("GET", f"/payments/{payment_id}")
    assert (payment["date"], payment["amount"]) == ("2024-02-15", Decimal(1090))
    [upflow_invoice] = [row for row in upflow_client.ok("GET", "/invoices")["invoices"] if row["customId"] == number]
    assert upflow_invoice["amountOutstanding"] == 0 and upflow_invoice["state"] == "PAID"
    transactions = oneup.ok("GET", f"/transactions?piece_number=eq:{payment['user_code']}")
    assert len(transactions) == 1

    quipu.ok("PATCH", f"/invoices/{invoice['id']}", {"data": {"type": "invoices", "id": invoice["id"],
                                                              "attributes": {"paid_at": None}}})
    unpaid = oneup.ok("GET", f"/invoices/{found['id']}")
    assert (unpaid["paid"], unpaid["unpaid"], unpaid["payments_id"]) == (0, Decimal(1090), [])
    assert oneup.get(f"/payments/{payment_id}").status_code == 404

    oneup.ok("POST", "/payments", {"invoice_id": found["id"], "amount": 100, "date": "2024-02-10"})
    quipu.ok("PATCH", f"/invoices/{invoice['id']}", {"data": {"type": "invoices", "id": invoice["id"],
                                                              "attributes": {"paid_at": "2024-02-20"}}})
    settled = oneup.ok("GET", f"/invoices/{found['id']}")
    assert (settled["paid"], settled["unpaid"]) == (Decimal(1090), 0)
    amounts = sorted(oneup.ok("GET", f"/payments/{pid}")["amount"] for pid in settled["payments_id"])
    assert amounts == [Decimal(100), Decimal(990)]

    expense = quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01", "number": "FA-7",
                                                     "paid_at": "2024-03-05"},
                           {"contact": relationship("contacts", contact["id"]),
                            "items": {"data": [item("Paper", "50", 1, 0)]}})
    assert expense["attributes"]["payment_status"] == "paid"
    trial = oneup.ok("GET", "/reports/trial_balance?date=2024-12-31")
    payable = next(row for row in trial["accounts"] if row["number"].startswith("20"))
    assert payable["balance"] == 0, payable  # billed 50, then settled on paid_at


def test_an_expense_invoice_can_be_patched(quipu, oneup):
    """A PATCH of an expense invoice (a purchase: no allocation links it) answered 500 (the allocations'
    check named only sales documents); its number and notes change, and its payable follows the number."""
    contact = quipu.contact()
    bill = quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2024-03-01", "number": "FA-7"},
                        {"contact": relationship("contacts", contact["id"]),
                         "items": {"data": [item("Paper", "50", 1, 0)]}})
    patched = quipu.ok("PATCH", f"/invoices/{bill['id']}", {"data": {"type": "invoices", "id": bill["id"],
                                                                     "attributes": {"number": "FA-8", "notes": "n"}}})
    assert (patched["data"]["attributes"]["number"], patched["data"]["attributes"]["notes"]) == ("FA-8", "n")
    [transaction] = [t for t in oneup.ok("GET", "/transactions") if t["entries"][0]["label"].startswith("Purchase")]
    assert {e["lettering"] for e in transaction["entries"] if e["way"] == "credit"} == {"FA-8"}


def test_paid_at_on_invoices_written_through_oneup_and_upflow_keeps_what_they_say(quipu, oneup, upflow_client):
    """Declaring paid through Quipu an invoice OneUp wrote (its tax on the total after a reduce) or Upflow
    imported (its tax as given) answered 403 or 422: the PATCH recomputed its taxes line by line, as
    Quipu's own invoices are, which changed what an issued invoice says. Its amounts stay as they are."""
    seeded = seed_document(oneup)
    quipu.ok("PATCH", f"/invoices/{seeded['id']}", {"data": {"type": "invoices", "id": str(seeded["id"]),
                                                             "attributes": {"paid_at": "2014-06-01"}}})
    paid = oneup.ok("GET", f"/invoices/{seeded['id']}")
    assert_seed_totals(paid)
    assert (paid["paid"], paid["unpaid"]) == (Decimal("1140.2"), 0)

    buyer = upflow_client.ok("POST", "/customers", {"externalId": "C-TAX", "name": "Taxed"})
    imported = upflow_client.ok("POST", "/invoices", {
        "externalId": "I-TAX", "customId": "UF-TAX-1", "issuedAt": "2024-03-01", "dueDate": "2024-04-01",
        "currency": "USD", "netAmount": 10000, "grossAmount": 12100, "customer": {"id": buyer["id"]}})
    [found] = oneup.ok("GET", "/invoices?user_code=eq:UF-TAX-1")
    declared = quipu.ok("PATCH", f"/invoices/{found['id']}", {"data": {"type": "invoices", "id": str(found["id"]),
                                                                       "attributes": {"paid_at": "2024-03-15"}}})
    assert (declared["data"]["attributes"]["total_amount"], declared["data"]["attributes"]["vat_amount"],
            declared["data"]["attributes"]["payment_status"]) == ("121.0", "21.0", "paid")
    shown = upflow_client.ok("GET", f"/invoices/{imported['id']}")
    assert (shown["grossAmount"], shown["netAmount"], shown["amountOutstanding"], shown["state"]) == (
        12100, 10000, 0, "PAID")
