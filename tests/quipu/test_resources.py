"""The other resources: simplified invoices, additional incomes, tickets, paysheets, accounting
categories and subcategories, analytic categories, attachments, PDF downloads and users."""

from __future__ import annotations

from decimal import Decimal

from ..helpers import book_snapshot
from .conftest import item, quipu_errors, relationship
from .test_invoices import postings

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def entry(quipu, path: str, contact_id: str | None = None, **attributes) -> dict:
    relationships = {"items": {"data": [item("Coffee", "2.00", 3, 10)]}}
    if contact_id:
        relationships["contact"] = relationship("contacts", contact_id)
    return quipu.create(f"/{path}", path, {"kind": "income", "issue_date": "2024-04-01", **attributes}, relationships)


def test_simplified_invoices_tickets_and_additional_incomes_are_lists_of_their_own(quipu, oneup):
    simplified = entry(quipu, "simplified_invoices", recipient_name="Walk-in")
    ticket = entry(quipu, "tickets")
    additional = entry(quipu, "additional_incomes", kind="whatever")  # any kind is income
    assert (simplified["type"], simplified["attributes"]["total_amount"]) == ("simplified_invoices", "6.6")
    assert simplified["attributes"]["recipient_name"] == "Walk-in"
    assert (additional["type"], additional["attributes"]["kind"]) == ("additional_incomes", "income")
    for path, created in (("simplified_invoices", simplified), ("tickets", ticket),
                          ("additional_incomes", additional)):
        assert [row["id"] for row in quipu.ok("GET", f"/{path}")["data"]] == [created["id"]]
        assert quipu.ok("GET", f"/{path}/{created['id']}")["data"]["type"] == path
    assert quipu.ok("GET", "/invoices")["data"] == []  # a simplified invoice is not a full invoice
    quipu_errors(quipu.get(f"/invoices/{simplified['id']}"), 404)
    types = {row["type"] for row in quipu.ok("GET", "/book_entries")["data"]}
    assert types == {"simplified_invoices", "tickets", "additional_incomes"}
    assert postings(oneup, additional["attributes"]["number"])[("21100-1000", "credit")] == Decimal("0.6")
    amended = quipu.create("/simplified_invoices", "simplified_invoices", {}, {
        "amended_simplified_invoice": relationship("simplified_invoices", simplified["id"])})
    assert amended["attributes"]["total_amount"] == "-6.6"
    quipu_errors(quipu.delete(f"/tickets/{ticket['id']}"), 403)  # issued: final (issue 17 §7)


def test_paysheets_post_gross_pay_and_company_social_security(quipu, oneup):
    employee = quipu.contact("Ana García", employee_number="E-1")
    paysheet = quipu.create("/paysheets", "paysheets", {
        "kind": "expenses", "issue_date": "2024-03-31", "net_pay": "1185.76", "employee_ss_amount": 80,
        "employee_retention": "150", "company_ss_amount": "400.00"}, {"contact": relationship("contacts",
                                                                                              employee["id"])})
    attributes = paysheet["attributes"]
    assert (attributes["gross_pay"], attributes["net_pay"], attributes["retention_amount"], attributes["kind"]) == (
        "1415.76", "1185.76", "150.0", "expenses")
    assert postings(oneup, attributes["number"]) == {
        ("64000", "debit"): Decimal("1415.76"), ("64200", "debit"): Decimal(400),
        ("21400", "credit"): Decimal("1185.76"), ("21200", "credit"): Decimal(150),
        ("21300", "credit"): Decimal(480)}
    assert quipu.ok("GET", "/contacts", params={"filter[kind]": "employee"})["data"][0]["id"] == employee["id"]
    patched = quipu.ok("PUT", f"/paysheets/{paysheet['id']}", {"data": {"type": "paysheets", "attributes": {
        "net_pay": "1200"}}})["data"]["attributes"]
    assert (patched["gross_pay"], patched["employee_ss_amount"]) == ("1430.0", "80.0")
    errors = quipu_errors(quipu.post("/paysheets", {"data": {"type": "paysheets", "attributes": {
        "kind": "expenses", "net_pay": "-1"}}}), 422)
    assert {error["source"]["pointer"] for error in errors} == {
        "/data/attributes/net_pay", "/data/attributes/issue_date", "/data/relationships/contact"}
    assert quipu.delete(f"/paysheets/{paysheet['id']}").status_code == 204


def test_accounting_categories_are_the_charts_income_and_expense_accounts(quipu):
    categories = quipu.ok("GET", "/accounting_categories", params={"page[size]": 100})["data"]
    by_prefix = {row["attributes"]["prefix"]: row for row in categories}
    assert by_prefix[40150]["attributes"] == {"name": "Sales - Miscellaneous", "prefix": 40150, "kind": "income",
                                              "accounting_digits_number": 5}
    assert by_prefix[50100]["attributes"]["kind"] == "expenses"
    assert 11100 not in by_prefix  # receivables are no category
    income = quipu.ok("GET", "/accounting_categories", params={"filter[kind]": "income"})["data"]
    assert {row["attributes"]["kind"] for row in income} == {"income"}
    picked = quipu.ok("GET", "/accounting_categories", params={"filter[prefix]": "40150,50100"})["data"]
    assert sorted(row["attributes"]["prefix"] for row in picked) == [40150, 50100]
    assert quipu.ok("GET", f"/accounting_categories/{by_prefix[40150]['id']}")["data"]["id"] == by_prefix[40150]["id"]


def test_subcategories_are_subaccounts_that_invoices_post_to(quipu, oneup):
    [sales] = quipu.ok("GET", "/accounting_categories", params={"filter[prefix]": "40100"})["data"]
    sub = quipu.create("/accounting_subcategories", "accounting_subcategories", {"name": "Consulting", "suffix": "01"},
                       {"accounting_category": relationship("accounting_categories", sales["id"])})
    assert sub["relationships"]["accounting_category"]["data"]["id"] == sales["id"]
    duplicate = quipu.post("/accounting_subcategories", {"data": {"type": "accounting_subcategories", "attributes": {
        "name": "Again", "suffix": "01"}, "relationships": {"accounting_category": relationship(
            "accounting_categories", sales["id"])}}})
    assert quipu_errors(duplicate, 422)[0]["source"]["pointer"] == "/data/attributes/suffix"
    contact = quipu.contact()
    invoice = quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-03-01"}, {
        "contact": relationship("contacts", contact["id"]),
        "accounting_subcategory": relationship("accounting_subcategories", sub["id"]),
        "items": {"data": [item("Advice", "100", 1, 0)]}})
    assert invoice["relationships"]["accounting_category"]["data"]["id"] == sales["id"]
    assert invoice["attributes"]["accounting_account_code"] == "4010001"
    assert postings(oneup, invoice["attributes"]["number"])[("4010001", "credit")] == Decimal(100)
    listed = quipu.ok("GET", "/accounting_subcategories", params={"filter[accounting_category_id]": sales["id"]})
    assert [row["id"] for row in listed["data"]] == [sub["id"]]
    quipu_errors(quipu.delete(f"/accounting_subcategories/{sub['id']}"), 403)  # the invoice posts to it
    renamed = quipu.ok("PATCH", f"/accounting_subcategories/{sub['id']}", {"data": {
        "type": "accounting_subcategories", "attributes": {"name": "Advice"}}})["data"]
    assert renamed["attributes"] == {"name": "Advice", "suffix": "01"}


def test_analytic_categories(quipu):
    root = quipu.create("/analytic_categories", "analytic_categories", {"name": "Shops"})
    child = quipu.create("/analytic_categories", "analytic_categories", {"name": "Madrid"},
                         {"parent": relationship("analytic_categories", root["id"])})
    assert child["relationships"]["parent"]["data"]["id"] == root["id"]
    quipu_errors(quipu.patch(f"/analytic_categories/{root['id']}", {"data": {
        "type": "analytic_categories", "relationships": {"parent": relationship("analytic_categories",
                                                                                 child["id"])}}}), 422)
    assert quipu.delete(f"/analytic_categories/{root['id']}").status_code == 204
    assert quipu.ok("GET", "/analytic_categories")["data"] == []


def upload(quipu, data: bytes, book_entry_id, filename: str = "receipt.png"):
    fields = {} if book_entry_id is None else {"book_entry_id": str(book_entry_id)}
    return quipu.client.post("/quipu/attachments", files={"file": (filename, data, "image/png")}, data=fields,
                             headers={"Authorization": quipu.headers["Authorization"],
                                      "Accept": "application/vnd.quipu.v1+json"})


def test_attachments_upload_read_and_delete(quipu, other_quipu, context, org):
    invoice = entry(quipu, "invoices", quipu.contact()["id"])
    response = upload(quipu, PNG, invoice["id"])
    assert response.status_code == 201, response.text
    attachment = response.json()["data"]
    assert attachment["relationships"]["book_entry"]["data"] == {"id": invoice["id"], "type": "invoices"}
    url = attachment["attributes"]["url"]
    assert attachment["attributes"]["small_url"] == url
    fetched = quipu.client.get(url.replace("http://127.0.0.1:8000", ""))
    assert (fetched.status_code, fetched.content, fetched.headers["content-type"]) == (200, PNG, "image/png")
    assert quipu.ok("GET", f"/attachments/{attachment['id']}")["data"]["id"] == attachment["id"]
    included = quipu.ok("GET", f"/invoices/{invoice['id']}", params={"include": "attachments"})["included"]
    assert [(entry["type"], entry["id"]) for entry in included] == [("attachments", attachment["id"])]
    quipu_errors(other_quipu.get(f"/attachments/{attachment['id']}"), 404)
    before = book_snapshot(context, org.id)
    missing = quipu_errors(upload(quipu, PNG, None), 422)
    assert missing[0]["source"]["pointer"] == "/data/attributes/book_entry_id"
    theirs = entry(other_quipu, "invoices", other_quipu.contact()["id"])
    quipu_errors(upload(quipu, PNG, theirs["id"]), 422)
    too_large = upload(quipu, b"0" * (context.settings.upload_bytes_max + 1), invoice["id"])
    quipu_errors(too_large, 400)
    assert book_snapshot(context, org.id) == before
    assert quipu.delete(f"/attachments/{attachment['id']}").status_code == 204
    quipu_errors(quipu.get(f"/attachments/{attachment['id']}"), 404)
    assert quipu.client.get(url.replace("http://127.0.0.1:8000", "")).status_code == 404


def test_pdf_downloads_with_the_token_or_the_ephemeral_link(quipu, client):
    contact = quipu.contact()
    invoice = entry(quipu, "invoices", contact["id"])
    download = quipu.get(f"/invoices/{invoice['id']}/download")
    assert (download.status_code, download.headers["content-type"]) == (200, "application/pdf")
    assert download.content.startswith(b"%PDF-")
    ephemeral = invoice["attributes"]["ephemeral_open_download_pdf_url"].replace("http://127.0.0.1:8000", "")
    opened = client.get(ephemeral)  # no token needed
    assert (opened.status_code, opened.content[:5]) == (200, b"%PDF-")
    quipu_errors(client.get(ephemeral[:-3] + "abc"), 404)
    quipu_errors(client.get(f"/quipu/invoices/{invoice['id']}/download"), 401)
    as_pdf = quipu.get(f"/invoices/{invoice['id']}/download", headers={"Accept": "application/pdf"})
    assert as_pdf.status_code == 200
    additional = entry(quipu, "additional_incomes")
    quipu_errors(quipu.get(f"/additional_incomes/{additional['id']}/download"), 404)


def test_users(quipu, org):
    [user] = quipu.ok("GET", "/users")["data"]
    assert quipu.ok("GET", f"/users/{user['id']}")["data"]["attributes"]["email"] == user["attributes"]["email"]
    quipu_errors(quipu.get("/users/999999999"), 404)
