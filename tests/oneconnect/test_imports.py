"""POST /integrations/{id}/purchase-invoices and /sales-invoices over HTTP: the seed's requests, the
document in the book (file, transaction, third party), and every refusal (RFC 9457, nothing kept)."""

from __future__ import annotations

import copy
import json
import re
import uuid
from decimal import Decimal

import pytest

from comptoir.services.access.credentials import issue, revoke
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.tenancy.organizations import set_closed

from ..helpers import OneUpClient, book_snapshot
from ..quipu.conftest import QuipuClient
from .conftest import (
    BMP,
    JPEG,
    LINE,
    PDF,
    PNG,
    Partner,
    invalid_fields,
    problem_of,
    seed_entries,
    stored_files,
)


def test_the_seeds_simple_purchase_invoice_is_kept_and_waits(partner, context, french_org):
    response = partner.deposit("purchase")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"documentId"}
    document_id = response.json()["documentId"]
    assert uuid.UUID(document_id)
    shown = partner.document(document_id)
    assert shown["documentState"] == "Waiting" and shown["type"] == "purchase-invoice"
    assert shown["userEmail"] == "user@someCompany.com" and shown["filename"] == "invoice.pdf"
    assert shown["transactionId"] is None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", shown["depositDate"])
    assert [path.read_bytes() for path in stored_files(context, french_org)] == [PDF]


def test_the_seeds_sales_invoice_with_external_reference_and_comment(partner):
    document_id = partner.deposited("sales", externalReference="INV-2026-042", comment="Monthly billing")
    shown = partner.document(document_id)
    assert (shown["type"], shown["externalReference"], shown["comment"]) == \
        ("sales-invoice", "INV-2026-042", "Monthly billing")


def test_entries_that_balance_post_a_transaction_seen_through_oneup(partner, client, french_org):
    document_id = partner.deposited("purchase", externalReference="SHINE-8812", entries=seed_entries())
    shown = partner.document(document_id)
    assert shown["documentState"] == "Accepted" and shown["rejectedReason"] is None
    oneup = OneUpClient(client, french_org)
    [transaction] = oneup.ok("GET", "/transactions?piece_number=FA-2026-042")  # the supplier's number
    assert transaction["id"] == shown["transactionId"]
    assert transaction["date"] == "2026-03-09"
    journal = oneup.ok("GET", f"/journals/{transaction['journal_id']}")
    assert journal["code"] == "AC"  # the organization has no ACH: its purchases journal (decision 0022)
    assert [j for j in oneup.ok("GET", "/journals?limit=1000") if j["code"] == "ACH"] == []
    accounts = {entry["account_id"]: entry for entry in transaction["entries"]}
    numbers = {oneup.ok("GET", f"/accounts/{account_id}")["number"]: entry for account_id, entry in accounts.items()}
    assert set(numbers) == {"401000", "601000"}  # 40100000 and 60100000, padding zeros aside
    assert (numbers["401000"]["way"], Decimal(str(numbers["401000"]["amount"]))) == ("debit", Decimal(100))
    assert (numbers["601000"]["way"], Decimal(str(numbers["601000"]["amount"]))) == ("credit", Decimal(100))
    assert numbers["401000"]["label"] == "Facture achat mars"


def test_without_external_reference_the_piece_number_is_the_document_id(partner, client, french_org):
    entries = seed_entries()
    entries["data"]["lines"][1]["reference"] = "LINE-2"  # the lines name no one supplier's number
    document_id = partner.deposited("purchase", entries=entries)
    [transaction] = OneUpClient(client, french_org).ok("GET", f"/transactions?piece_number={document_id}")
    assert transaction["id"] == partner.document(document_id)["transactionId"]


def test_the_third_party_becomes_a_vendor_once_then_a_customer_too(partner, client, french_org):
    partner.deposited("purchase", entries=seed_entries())
    partner.deposited("purchase", entries=seed_entries())
    oneup = OneUpClient(client, french_org)
    [vendor] = [v for v in oneup.ok("GET", "/vendors") if v["user_code"] == "FRN001"]
    assert vendor["company_name"] == "Fournisseur Exemple"
    sales = seed_entries()
    for line in sales["data"]["lines"]:
        line["journal"] = "VTE"
    partner.deposited("sales", entries=sales)
    customers = [c for c in oneup.ok("GET", "/customers") if c["id"] == vendor["id"]]
    assert len(customers) == 1 and customers[0]["user_code"] == "FRN001"  # the same party, now both
    assert len([v for v in oneup.ok("GET", "/vendors") if v["company_name"] == "Fournisseur Exemple"]) == 1


def test_the_seeds_minimal_line_does_not_balance_so_the_document_is_refused(partner, context, french_org):
    minimal = {"data": {"lines": [{key: LINE[key] for key in ("date", "debit", "credit", "journal", "account",
                                                               "reference")}]}}
    document_id = partner.deposited("purchase", externalReference="FA-1", entries=minimal)
    shown = partner.document(document_id)
    assert shown["documentState"] == "Refused" and shown["transactionId"] is None
    assert "not balanced" in shown["rejectedReason"]
    assert len(stored_files(context, french_org)) == 1  # the document (and its file) stays in the book


@pytest.mark.parametrize(("change", "reason"), [
    ({"account": "99999999"}, "99999999 is not in the chart"),
    ({"date": "2026-03-10"}, "several dates"),
    ({"journal": "OD"}, "several journals"),
    ({"account": "6"}, "family account"),
])
def test_entries_that_cannot_be_booked_refuse_the_document_with_the_reason(partner, change, reason):
    entries = seed_entries()
    entries["data"]["lines"][1].update(change)
    shown = partner.document(partner.deposited("purchase", entries=entries))
    assert shown["documentState"] == "Refused"
    assert reason in shown["rejectedReason"]


def test_an_account_missing_from_the_chart_is_created_under_its_family(partner, client, french_org):
    entries = seed_entries()
    entries["data"]["lines"][1]["account"] = "60610000"
    shown = partner.document(partner.deposited("purchase", entries=entries))
    assert shown["documentState"] == "Accepted"
    oneup = OneUpClient(client, french_org)
    [account] = [a for a in oneup.ok("GET", "/accounts?limit=1000") if a["number"] == "60610000"]
    family = oneup.ok("GET", f"/accounts/{account['family_id']}")
    assert family["number"] == "6"


def entry(account: str, debit: float = 0, credit: float = 0) -> dict:
    """A line of the seed's shape on an account, for a debit or a credit."""
    line = copy.deepcopy(LINE)
    line.update(account=account)
    line["debit"].update(amount=debit, currencyAmount=debit)
    line["credit"].update(amount=credit, currencyAmount=credit)
    return line


def test_a_missing_account_takes_its_name_and_nature_from_the_french_plan(partner, client, french_org):
    """Issue 17 §2 and §11 (ADR 0020): 100 of supplies on 60610000 and 20 of VAT on fixed assets on
    44562000, neither in the chart, and 120 owed on 40100000. Both accounts are created under their
    family, named after the plan's 6061 and 44562, with the plan's natures: an expense, and an asset
    (deductible VAT is a claim on the State). In March 2026 the expenses are 100 and the assets 20."""
    lines = [entry("60610000", debit=100.0), entry("44562000", debit=20.0), entry("40100000", credit=120.0)]
    shown = partner.document(partner.deposited("purchase", externalReference="FA-PCG", entries={
        "data": {"lines": lines}}))
    assert shown["documentState"] == "Accepted", shown
    oneup = OneUpClient(client, french_org)
    accounts = {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}
    assert accounts["60610000"]["name"] == "Fournitures non stockables (eau, énergie, etc.)"
    assert accounts["44562000"]["name"] == "TVA sur immobilisations"
    assert set(accounts["60610000"]) == {"id", "number", "name", "is_family", "family_id"}
    expenses = oneup.ok("GET", "/reports/profit_and_loss?date_from=2026-03-01&date_to=2026-03-31")["expenses"]
    assert [account["number"] for account in expenses["accounts"]] == ["60610000"]
    assert expenses["total"] == Decimal(100)
    sheet = oneup.ok("GET", "/reports/balance_sheet?date=2026-03-31")
    assert "44562000" in {account["number"] for account in sheet["asset"]["accounts"]}
    assert sheet["total_assets"] == Decimal(20)
    # Quipu lists the expense account among its accounting categories, by that name.
    categories = QuipuClient(client, french_org).ok("GET", "/accounting_categories", params={
        "filter[prefix]": "60610000"})["data"]
    assert [(category["attributes"]["name"], category["attributes"]["kind"]) for category in categories] == [
        ("Fournitures non stockables (eau, énergie, etc.)", "expenses")]


def test_on_the_default_chart_a_missing_account_is_named_by_its_number(client, org):
    """The US chart has no names to give: 56150 goes under Expenses (50000) as "Account 56150"."""
    entries = seed_entries()
    entries["data"]["lines"][0]["account"] = "62700"  # Bank Charges
    entries["data"]["lines"][1]["account"] = "56150"
    partner = Partner(client, org)
    assert partner.document(partner.deposited("purchase", entries=entries))["documentState"] == "Accepted"
    accounts = {account["number"]: account
                for account in OneUpClient(client, org).ok("GET", "/accounts?limit=1000")}
    assert accounts["56150"]["name"] == "Account 56150"
    assert accounts["56150"]["family_id"] == accounts["50000"]["id"]


def test_a_refused_document_leaves_nothing_its_entries_would_have_made(partner, client, french_org):
    """The account and third party a document's entries would make are made, then undone with the
    refusal (entries that do not balance): the document alone stays, Refused. (A journal code the
    organization lacks makes no journal: decision 0022.)"""
    entries = seed_entries()
    for line in entries["data"]["lines"]:
        line.update(journal="NEWJ", thirdParty="FRN-NEW", thirdPartySiren="", thirdPartyLabel="Nouveau")
    entries["data"]["lines"][1]["account"] = "60610000"
    entries["data"]["lines"][1]["credit"].update(amount=99.0, currencyAmount=99.0)
    shown = partner.document(partner.deposited("purchase", externalReference="FA-REF", entries=entries))
    assert shown["documentState"] == "Refused" and "not balanced" in shown["rejectedReason"]
    assert shown["depositDate"] <= shown["decisionDate"]  # decided as it was deposited, never before
    oneup = OneUpClient(client, french_org)
    assert [a for a in oneup.ok("GET", "/accounts?limit=1000") if a["number"] == "60610000"] == []
    assert [v for v in oneup.ok("GET", "/vendors?limit=1000") if v["company_name"] == "Nouveau"] == []
    entries["data"]["lines"][1]["credit"].update(amount=100.0, currencyAmount=100.0)  # balanced: both made
    shown = partner.document(partner.deposited("purchase", externalReference="FA-OK", entries=entries))
    assert shown["documentState"] == "Accepted" and shown["depositDate"] <= shown["decisionDate"]
    assert [a["number"] for a in oneup.ok("GET", "/accounts?limit=1000") if a["number"] == "60610000"] == ["60610000"]
    assert [v["company_name"] for v in oneup.ok("GET", "/vendors?limit=1000")].count("Nouveau") == 1
    assert [j for j in oneup.ok("GET", "/journals?limit=1000") if j["code"] == "NEWJ"] == []  # purchases: AC


def test_entries_as_an_object_part_or_a_string_encoded_twice(partner):
    as_object = partner.client.post(f"{partner.base}/purchase-invoices", headers=partner.headers, files={
        "file": ("invoice.pdf", PDF, "application/pdf"), "filename": (None, "invoice.pdf"),
        "entries": ("entries.json", json.dumps(seed_entries()).encode(), "application/json")})
    assert as_object.status_code == 200, as_object.text
    twice = partner.deposited("purchase", entries=json.dumps(json.dumps(seed_entries())))
    for document_id in (as_object.json()["documentId"], twice):
        assert partner.document(document_id)["documentState"] == "Accepted"


@pytest.mark.parametrize(("content", "name"), [(PDF, "scan.PDF"), (JPEG, "photo.jpg"), (JPEG, "photo.JPEG"),
                                               (PNG, "scan.png"), (BMP, "scan.bmp")])
def test_every_format_by_its_content_and_any_case_of_extension(partner, content, name):
    assert partner.deposit(file=content, filename=name).status_code == 200


def test_a_duplicate_external_reference_is_409_with_the_first_document_across_kinds(partner):
    first = partner.deposited("purchase", externalReference="REF:2026_1-A")
    body = problem_of(partner.deposit("sales", externalReference="REF:2026_1-A"), 409,
                      "DUPLICATE_EXTERNAL_REFERENCE")
    assert body["documentId"] == first
    assert body["depositDate"] == partner.document(first)["depositDate"]


def test_the_same_reference_in_another_integration_is_another_document(partner, client, context, french_org):
    partner.deposited(externalReference="SHARED")
    with context.database.transaction() as session:
        second = issue(session, french_org.id, "oneconnect_integration")
    other = Partner(client, french_org)
    other.base = f"/oneconnect/v1/integrations/{second['identifier']}"
    other.headers["x-oneconnect-api-key"] = second["secret"]
    assert other.deposit(externalReference="SHARED").status_code == 200


# -- refusals: RFC 9457, every invalid field named, nothing kept -------------------------------

@pytest.mark.parametrize(("kwargs", "fields"), [
    ({"file": None, "filename": None}, {"file", "filename"}),
    ({"filename": "invoice.txt"}, {"filename"}),
    ({"filename": "../../etc/passwd.pdf"}, {"filename"}),
    ({"filename": "..\\invoice.pdf"}, {"filename"}),
    ({"file": PNG, "filename": "invoice.pdf"}, {"file"}),  # the content contradicts the extension
    ({"file": b"MZ\x90\x00 not an invoice", "filename": "invoice.pdf"}, {"file"}),
    ({"externalReference": "INV 2026/042"}, {"externalReference"}),
    ({"externalReference": "x" * 65}, {"externalReference"}),
    ({"externalReference": "<script>"}, {"externalReference"}),
    ({"userEmail": "not-an-email"}, {"userEmail"}),
    ({"entries": "{not json"}, {"entries"}),
    ({"entries": {"lines": []}}, {"entries"}),
    ({"entries": {"data": {"lines": []}}}, {"entries.data.lines"}),
    ({"organization": "[1, 2]"}, {"organization"}),
])
def test_invalid_deposits_are_400_validation_errors_naming_each_field(partner, context, french_org, kwargs, fields):
    before = book_snapshot(context, french_org.id)
    response = partner.deposit(**kwargs)
    assert invalid_fields(response) == fields
    assert book_snapshot(context, french_org.id) == before
    assert stored_files(context, french_org) == []


def test_every_missing_or_wrong_field_of_a_line_is_named(partner, context, french_org):
    line = copy.deepcopy(LINE)
    del line["account"], line["reference"], line["debit"]["currencyRate"]
    line.update(date="yesterday", journal=7, credit={"amount": -5, "currency": "euro", "currencyAmount": "5",
                                                     "currencyRate": 1})
    line["debit"]["amount"] = Decimal("10.123")
    response = partner.deposit(entries={"data": {"lines": [line, "nope"]}})
    where = "entries.data.lines[0]"
    assert invalid_fields(response) == {
        f"{where}.account", f"{where}.reference", f"{where}.debit.currencyRate", f"{where}.date", f"{where}.journal",
        f"{where}.credit.amount", f"{where}.credit.currency", f"{where}.credit.currencyAmount",
        f"{where}.debit.amount", "entries.data.lines[1]"}
    assert stored_files(context, french_org) == []


def test_a_6_mb_file_is_refused_while_it_streams_and_nothing_is_kept(partner, context, french_org):
    before = book_snapshot(context, french_org.id)
    response = partner.deposit(file=PDF + b"\x00" * (6 * 1024 * 1024))
    body = problem_of(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == [{"field": "file", "detail": f"is larger than {5 * 1024 * 1024} bytes"}]
    assert book_snapshot(context, french_org.id) == before and stored_files(context, french_org) == []


def test_entries_over_5_mb_are_refused(partner, context, french_org):
    entries = json.dumps({"data": {"lines": [LINE]}, "padding": "x" * (5 * 1024 * 1024)})
    assert invalid_fields(partner.deposit(entries=entries)) == {"entries"}
    assert stored_files(context, french_org) == []


def test_a_body_that_is_not_multipart_is_a_validation_error(partner):
    response = partner.client.post(f"{partner.base}/purchase-invoices", json={"filename": "invoice.pdf"},
                                   headers=partner.headers)
    assert invalid_fields(response) == {"body"}


def test_a_field_sent_twice_is_refused(partner):
    response = partner.client.post(f"{partner.base}/purchase-invoices", headers=partner.headers, files=[
        ("file", ("invoice.pdf", PDF, "application/pdf")), ("filename", (None, "a.pdf")),
        ("filename", (None, "b.pdf"))])
    assert invalid_fields(response) == {"filename"}


def test_a_revoked_integration_gets_401_with_the_reason_and_keeps_nothing(partner, context, french_org):
    revoke(context.database, french_org.id, "oneconnect_integration", french_org.oneconnect["integration_id"],
           "SMB Closed")
    body = problem_of(partner.deposit(entries=seed_entries()), 401, "SMB_CLOSED")
    assert body["reason"] == "SMB Closed"
    with open_book(context.database, french_org.id) as book:
        assert book.received_documents.count() == 0
    assert stored_files(context, french_org) == []


def test_a_closed_company_is_smb_closed_once_then_401_and_its_other_credentials_are_refused(
        partner, client, context, french_org):
    """Issue 16 §7: the organization closed (comptoir org close): the integration's next call is 400
    SMB_CLOSED and revokes it (a Revocation with the seed's reason), later calls are 401 with that
    reason; the partner still gets tokens; the company's OneUp key is refused. Reopened, OneUp works
    again; the integration stays revoked."""
    oneup = OneUpClient(client, french_org)
    assert oneup.get("/customers").status_code == 200
    set_closed(context.database, french_org.id, True)
    try:
        problem_of(partner.deposit(entries=seed_entries()), 400, "SMB_CLOSED")
        body = problem_of(partner.deposit(entries=seed_entries()), 401, "SMB_CLOSED")
        assert body["reason"] == "SMB Closed"
        assert Partner(client, french_org).headers["Authorization"].startswith("Bearer ")  # tokens still issued
        assert oneup.get("/customers").status_code == 401
        with open_book(context.database, french_org.id) as book:
            assert book.received_documents.count() == 0
    finally:
        set_closed(context.database, french_org.id, False)
    assert oneup.get("/customers").status_code == 200
    problem_of(partner.deposit(entries=seed_entries()), 401, "SMB_CLOSED")


def test_an_unknown_integration_is_smb_notfound(partner, client):
    unknown = "/oneconnect/v1/integrations/00000000-0000-4000-8000-000000000000/purchase-invoices"
    problem_of(client.post(unknown, headers=partner.headers, files={"file": ("a.pdf", PDF)}), 400, "SMB_NOTFOUND")


def test_without_credentials_or_with_another_organizations_integration(partner, client, other_org):
    assert client.post(f"{partner.base}/purchase-invoices", files={"file": ("a.pdf", PDF)}).status_code == 401
    other = f"/oneconnect/v1/integrations/{other_org.oneconnect['integration_id']}/purchase-invoices"
    response = client.post(other, headers=partner.headers, files={"file": ("a.pdf", PDF)})
    problem_of(response, 400, "SMB_NOTFOUND")
