"""An accepted OneConnect document is an invoice of the book (docs/decisions/0015): Quipu lists it in
/book_entries and /invoices (income for a sales invoice, expenses for a purchase invoice), with its
number, date, contact, totals from its entries and its file; OneUp still shows one transaction.
Refused and Waiting documents are nowhere. And GET /integrations/{id} with the organization's details."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import simplejson

from ..helpers import OneUpClient, error_of
from ..quipu.conftest import QuipuClient, item, relationship
from ..upflow.conftest import UpflowClient
from .conftest import PDF, PNG, seed_entries

ON = "2026-03-09T00:00:00.000Z"


def line(account: str, debit: Any = 0, credit: Any = 0, **more: Any) -> dict:
    return {"date": ON, "journal": "ACH", "account": account, "reference": "REF",
            "debit": {"amount": Decimal(str(debit)), "currency": "EUR", "currencyAmount": Decimal(str(debit)),
                      "currencyRate": 1},
            "credit": {"amount": Decimal(str(credit)), "currency": "EUR", "currencyAmount": Decimal(str(credit)),
                       "currencyRate": 1}, **more}


def purchase_entries(reference: str = "REF") -> dict:
    """A supplier's invoice on the French chart: 100 of supplies and 20 of deductible VAT, 120 owed;
    `reference`, the supplier's invoice number, on every line."""
    return {"data": {"lines": [
        line("60610000", debit="100.00", label="Fournitures", reference=reference),
        line("44566000", debit="20.00", label="TVA déductible", reference=reference),
        line("40100000", credit="120.00", thirdParty="FRN001", thirdPartySiren="123456789",
             thirdPartyLabel="Fournisseur Exemple", dueDate="2026-04-08", reference=reference)]}}


def sales_entries(journal: str = "VT") -> dict:
    """A sales invoice: 240 owed by the customer, 200 of services and 40 of VAT collected."""
    lines = [line("41100000", debit="240.00", thirdParty="CLI001", thirdPartyLabel="Client Exemple"),
             line("70600000", credit="200.00"), line("44571000", credit="40.00")]
    return {"data": {"lines": [{**entry, "journal": journal} for entry in lines]}}


def entries_of(quipu: QuipuClient, **params: Any) -> list[dict]:
    return quipu.ok("GET", "/book_entries", params={"page[size]": "100", **params})["data"]


def stable(entry: dict) -> dict:
    """An entry without its signed PDF link, which changes with the second it is signed in."""
    return {**entry, "attributes": {name: value for name, value in entry["attributes"].items()
                                    if name != "ephemeral_open_download_pdf_url"}}


def entry_of(quipu: QuipuClient, document_id: str) -> dict:
    """The book entry of a OneConnect document, read whole through GET /book_entries/{id}."""
    [found] = [entry for entry in entries_of(quipu) if entry["attributes"]["number"] == document_id
               or entry["id"] == document_id]
    return quipu.ok("GET", f"/book_entries/{found['id']}", params={"include": "contact,attachments"})


def test_accepted_purchase_and_sales_documents_are_quipu_invoices(partner, client, french_org):
    quipu = QuipuClient(client, french_org)
    partner.deposited("purchase", externalReference="FA-2026-100", entries=purchase_entries("FA-2026-100"),
                      comment="Fournitures de mars")
    partner.deposited("sales", externalReference="INV-2026-042", entries=sales_entries())
    entries = {entry["attributes"]["number"]: entry for entry in entries_of(quipu)}
    assert set(entries) == {"FA-2026-100", "INV-2026-042"}
    purchase, sale = entries["FA-2026-100"], entries["INV-2026-042"]
    assert (purchase["type"], purchase["attributes"]["kind"], sale["type"], sale["attributes"]["kind"]) == (
        "invoices", "expenses", "invoices", "income")
    amounts = ("total_amount", "vat_amount", "total_amount_without_taxes", "issue_date", "due_dates", "notes")
    assert {name: purchase["attributes"][name] for name in amounts} == {
        "total_amount": "120.0", "vat_amount": "20.0", "total_amount_without_taxes": "100.0",
        "issue_date": "2026-03-09", "due_dates": ["2026-04-08"], "notes": "Fournitures de mars"}
    assert {name: sale["attributes"][name] for name in amounts[:4]} == {
        "total_amount": "240.0", "vat_amount": "40.0", "total_amount_without_taxes": "200.0",
        "issue_date": "2026-03-09"}

    read = quipu.ok("GET", f"/book_entries/{purchase['id']}", params={"include": "contact,attachments"})
    assert read["data"] == purchase
    included = {entry["type"]: entry for entry in read["included"]}
    assert included["contacts"]["id"] == purchase["relationships"]["contact"]["data"]["id"]
    vendor = included["contacts"]["attributes"]
    assert (vendor["name"], vendor["tax_id"], vendor["supplier_number"], vendor["is_supplier"]) == (
        "Fournisseur Exemple", "123456789", "FRN001", True)
    assert vendor["total_expenses"] == "120.0"
    attached = included["attachments"]["attributes"]
    assert (attached["filename"], attached["content_type"]) == ("invoice.pdf", "application/pdf")
    customer = quipu.ok("GET", f"/contacts/{sale['relationships']['contact']['data']['id']}")["data"]["attributes"]
    assert (customer["name"], customer["client_number"], customer["is_client"], customer["total_incomes"]) == (
        "Client Exemple", "CLI001", True, "240.0")
    assert stable(quipu.ok("GET", f"/invoices/{sale['id']}")["data"]) == stable(sale)

    oneup = OneUpClient(client, french_org)
    for reference in ("FA-2026-100", "INV-2026-042"):  # the invoice posted nothing of its own
        assert len(oneup.ok("GET", f"/transactions?piece_number={reference}")) == 1
    assert len(oneup.ok("GET", "/transactions")) == 2
    [invoice] = oneup.ok("GET", "/invoices")
    assert (invoice["user_code"], invoice["total"]) == ("INV-2026-042", Decimal(240))


def test_received_invoices_are_listed_filtered_and_paged_with_the_others(partner, client, french_org):
    quipu = QuipuClient(client, french_org)
    contact = quipu.contact()
    quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2026-03-01"}, {
        "contact": relationship("contacts", contact["id"]), "items": {"data": [item("Work", "10", vat=0)]}})
    partner.deposited("purchase", externalReference="FA-1", entries=purchase_entries("FA-1"))
    partner.deposited("sales", externalReference="INV-1", entries=sales_entries())
    pages = [quipu.ok("GET", "/book_entries", params={"sort": "-issue_date,-total_amount", "page[size]": "1",
                                                       "page[number]": str(number)}) for number in (1, 2, 3)]
    assert [page["data"][0]["attributes"]["number"] for page in pages] == ["INV-1", "FA-1", "CINV-001"]
    assert pages[0]["meta"]["pagination_info"] == {"total_pages": 3, "current_page": 1, "total_results": 3}
    expenses = entries_of(quipu, **{"filter[kind]": "expenses"})
    assert [entry["attributes"]["number"] for entry in expenses] == ["FA-1"]
    march = entries_of(quipu, **{"filter[period]": "2026-03", "filter[type]": "invoices"})
    assert len(march) == 3
    vendor_id = expenses[0]["relationships"]["contact"]["data"]["id"]
    assert [e["attributes"]["number"] for e in entries_of(quipu, **{"filter[contact_id]": vendor_id})] == ["FA-1"]

    # filter[q] finds each by the number it shows, whoever wrote it: a purchase by its vendor's number,
    # native or received through OneConnect; a sale by ours (issue 16 §4).
    quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": "2026-03-02", "number": "FA-2026-042"},
                 {"contact": relationship("contacts", contact["id"])})
    for path in ("/book_entries", "/invoices"):
        def found(text: str) -> list[str]:
            return sorted(e["attributes"]["number"] for e in quipu.ok("GET", path, params={"filter[q]": text})["data"])
        assert found("FA-2026-042") == ["FA-2026-042"], path
        assert found("fa-") == ["FA-1", "FA-2026-042"], path
        assert found("INV-1") == ["INV-1"], path
        assert found("CINV-001") == ["CINV-001"], path


def test_refused_and_waiting_documents_are_not_book_entries(partner, client, french_org):
    quipu = QuipuClient(client, french_org)
    partner.deposited("purchase", externalReference="WAITING-1")
    unbalanced = {"data": {"lines": purchase_entries()["data"]["lines"][:2]}}
    refused = partner.deposited("purchase", externalReference="REFUSED-1", entries=unbalanced)
    assert partner.document(refused)["documentState"] == "Refused"
    refused_later = partner.deposited("sales", externalReference="REFUSED-2")
    assert partner.post_json(f"/documents/{refused_later}/refuse", {"reason": "Not ours"}).status_code == 200
    assert entries_of(quipu) == []
    assert quipu.ok("GET", "/invoices")["meta"]["pagination_info"]["total_results"] == 0


def test_a_document_booked_later_appears_once_accepted(partner, client, french_org):
    quipu = QuipuClient(client, french_org)
    document_id = partner.deposited("sales")  # no externalReference: its number is the documentId
    assert entries_of(quipu) == []
    response = client.post(f"{partner.base}/documents/{document_id}/entries", headers=partner.headers,
                           content=simplejson.dumps(sales_entries(), use_decimal=True))
    assert response.status_code == 200, response.text
    [entry] = entries_of(quipu)
    assert (entry["attributes"]["number"], entry["attributes"]["kind"], entry["attributes"]["total_amount"]) == (
        document_id, "income", "240.0")
    assert stable(entry_of(quipu, document_id)["data"]) == stable(entry)
    transaction = OneUpClient(client, french_org).ok("GET", f"/transactions/{response.json()['transactionId']}")
    assert transaction["piece_number"] == document_id


def test_another_organization_does_not_see_it(partner, client, french_org, other_org):
    partner.deposited("sales", externalReference="INV-9", entries=sales_entries())
    [entry] = entries_of(QuipuClient(client, french_org))
    other = QuipuClient(client, other_org)
    assert entries_of(other) == []
    for path in (f"/book_entries/{entry['id']}", f"/invoices/{entry['id']}", f"/invoices/{entry['id']}/download"):
        assert other.get(path).status_code == 404, path


def test_an_accepted_invoice_is_read_only_everywhere_but_keeps_its_file(partner, client, french_org, context):
    quipu = QuipuClient(client, french_org)
    document_id = partner.deposited("sales", externalReference="INV-RO", entries=sales_entries())
    [entry] = entries_of(quipu)
    patched = quipu.patch(f"/invoices/{entry['id']}", {"data": {"type": "invoices", "attributes": {"notes": "x"}}})
    assert patched.status_code == 422 and "OneConnect" in patched.text
    assert quipu.delete(f"/invoices/{entry['id']}").status_code == 422
    oneup = OneUpClient(client, french_org)
    path = f"/invoices/{entry['id']}"
    for response in (oneup.put(path, {"public_note": "x"}), oneup.delete(path)):
        assert (response.status_code, error_of(response)["code"]) == (422, "30"), response.text
    assert UpflowClient(client, french_org).delete(f"/invoices/{document_id}").status_code == 409  # its uuid
    download = quipu.get(f"/invoices/{entry['id']}/download")
    assert (download.status_code, download.content) == (200, PDF)  # the partner's own PDF
    [attachment] = [found for found in entry_of(quipu, "INV-RO")["included"] if found["type"] == "attachments"]
    assert quipu.delete(f"/attachments/{attachment['id']}").status_code == 204
    assert partner.document(document_id)["documentState"] == "Accepted"
    assert quipu.get(f"/invoices/{entry['id']}/download").content == PDF  # the document kept its file
    assert stable(entries_of(quipu)[0]) == stable(entry)
    assert len(oneup.ok("GET", "/transactions?piece_number=INV-RO")) == 1


def test_entries_that_run_the_other_way_make_a_credit_note(partner, client, french_org):
    """The seed's own example debits the vendor (401) and credits an expense: a vendor credit, shown
    with negative amounts like Quipu's amending invoices."""
    quipu = QuipuClient(client, french_org)
    partner.deposited("purchase", externalReference="FA-2026-042", entries=seed_entries())
    [entry] = entries_of(quipu)
    attributes = entry["attributes"]
    assert (attributes["kind"], attributes["total_amount"], attributes["vat_amount"]) == (
        "expenses", "-100.0", "0.0")


def test_without_a_third_party_the_total_is_the_transactions_and_the_contact_a_walk_in_party(partner, client,
                                                                                               french_org):
    """A cash sale: the till is debited, no line names or books a customer."""
    quipu = QuipuClient(client, french_org)
    cash_sale = {"data": {"lines": [line("53100000", debit="60.00"), line("70700000", credit="50.00"),
                                    line("44571000", credit="10.00")]}}
    partner.deposited("sales", externalReference="TICKET-1", entries=cash_sale, file=PNG, file_name="t.png",
                      filename="ticket.png")
    read = entry_of(quipu, "TICKET-1")
    attributes = read["data"]["attributes"]
    assert (attributes["total_amount"], attributes["vat_amount"], attributes["total_amount_without_taxes"]) == (
        "60.0", "10.0", "50.0")
    contact = next(entry for entry in read["included"] if entry["type"] == "contacts")
    assert contact["attributes"]["name"] == "Walk-in customers"
    assert quipu.get(f"/invoices/{read['data']['id']}/download").content.startswith(b"%PDF")  # printed: a PNG came


def test_a_sales_number_another_invoice_has_gives_way_to_the_document_id(partner, client, french_org):
    quipu = QuipuClient(client, french_org)
    contact = quipu.contact()
    quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2026-03-01", "number": "INV-7"}, {
        "contact": relationship("contacts", contact["id"]), "items": {"data": [item("Work", "10", vat=0)]}})
    document_id = partner.deposited("sales", externalReference="INV-7", entries=sales_entries())
    assert partner.document(document_id)["documentState"] == "Accepted"
    assert sorted(entry["attributes"]["number"] for entry in entries_of(quipu)) == sorted(["INV-7", document_id])


def test_the_integration_with_the_organizations_details(partner, client, french_org):
    body = client.get(partner.base, headers=partner.headers).json()
    assert (body["integrationId"], body["status"], body["revokedAt"]) == (
        french_org.oneconnect["integration_id"], "active", None)
    assert body["createdAt"].endswith("Z")
    organization = body["organization"]
    assert {name: organization[name] for name in ("name", "address", "currency")} == {
        "name": "Société Test", "address": {"country": "FR"}, "currency": "EUR"}
    assert all(organization[name] is None for name in ("siren", "legalForm", "naf", "phoneNumber", "contactEmail"))
    assert organization["createdAt"].endswith("Z")
    revoked = client.put(partner.base + "/revoke", headers=partner.headers)
    assert revoked.status_code == 200, revoked.text
    after = client.get(partner.base, headers=partner.headers).json()
    assert (after["status"], after["revocationReason"], after["organization"]) == (
        "revoked", "Revoked by the partner", organization)
    assert after["revokedAt"].endswith("Z")


def test_a_received_invoice_is_amended_by_the_items_of_the_refund(partner, client, french_org):
    """It has totals, not items: a full refund (no items sent) is refused, a partial one is a credit note."""
    quipu = QuipuClient(client, french_org)
    partner.deposited("sales", externalReference="INV-AM", entries=sales_entries())
    [entry] = entries_of(quipu)
    amends = {"amended_invoice": relationship("invoices", entry["id"])}
    full = quipu.post("/invoices", {"data": {"type": "invoices", "relationships": amends}})
    assert full.status_code == 422 and "no items" in full.text
    refund = {"data": [item("Refund", "-50", vat=20)]}
    partial = quipu.create("/invoices", "invoices", {}, {**amends, "items": refund})
    assert (partial["attributes"]["total_amount"], partial["relationships"]["amended_invoice"]["data"]["id"]) == (
        "-60.0", entry["id"])


def test_book_entries_by_id_answer_for_every_type(client, org):
    quipu = QuipuClient(client, org)
    contact = quipu.contact()
    attributes = {"kind": "expenses", "issue_date": "2024-03-31", "net_pay": "900"}
    paysheet = quipu.create("/paysheets", "paysheets", attributes,
                            {"contact": relationship("contacts", contact["id"])})
    assert quipu.ok("GET", f"/book_entries/{paysheet['id']}")["data"]["type"] == "paysheets"
    assert quipu.get(f"/{org.slug}/book_entries/{paysheet['id']}").status_code == 200
    assert quipu.get("/book_entries/999999").status_code == 404


def test_a_purchase_posts_in_the_purchases_journal_numbered_by_the_suppliers_invoice(partner, client,
                                                                                      french_org):
    """Issue 17 §11 (decision 0022): journal codes the organization lacks (ACH, VE) are its purchases
    and sales journals, not new ones; a code it has is that journal. A purchase's piece number, and
    the number Quipu shows, is the supplier's invoice number the lines carry (`reference`), not the
    partner's externalReference; when the lines disagree, the externalReference as before."""
    oneup, quipu = OneUpClient(client, french_org), QuipuClient(client, french_org)
    journals_before = oneup.ok("GET", "/journals?limit=1000")
    purchase = partner.deposited("purchase", externalReference="SHINE-1",
                                 entries=purchase_entries("FA-2026-042"))
    sale = partner.deposited("sales", externalReference="INV-2026-042", entries=sales_entries("VE"))
    [bought] = oneup.ok("GET", "/transactions?piece_number=FA-2026-042")
    [sold] = oneup.ok("GET", "/transactions?piece_number=INV-2026-042")  # a sale keeps its own number
    assert (bought["id"], sold["id"]) == (partner.document(purchase)["transactionId"],
                                          partner.document(sale)["transactionId"])
    assert (bought["journal"]["code"], sold["journal"]["code"]) == ("AC", "VT")
    assert oneup.ok("GET", "/journals?limit=1000") == journals_before  # no journal made
    assert sorted(entry["attributes"]["number"] for entry in entries_of(quipu)) == [
        "FA-2026-042", "INV-2026-042"]

    mixed = purchase_entries("FA-2026-043")
    mixed["data"]["lines"][0]["reference"] = "Fournitures"  # the lines name no one invoice number
    partner.deposited("purchase", externalReference="SHINE-2", entries=mixed)
    [kept] = oneup.ok("GET", "/transactions?piece_number=SHINE-2")
    assert kept["journal"]["code"] == "AC"
    mixed["data"]["lines"][2]["documentReference"] = "FA-2026-045"  # the invoice's reference, given apart
    partner.deposited("purchase", externalReference="SHINE-4", entries=mixed)
    assert len(oneup.ok("GET", "/transactions?piece_number=FA-2026-045")) == 1
    own = oneup.ok("POST", "/journals", {"name": "Achats Shine", "code": "ACH"})
    partner.deposited("purchase", externalReference="SHINE-3", entries=purchase_entries("FA-2026-044"))
    [coded] = oneup.ok("GET", "/transactions?piece_number=FA-2026-044")
    assert coded["journal"] == {"id": own["id"], "name": "Achats Shine", "code": "ACH"}  # a code it has
