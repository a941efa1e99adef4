"""The customer portal over HTTP: `POST /customers/{ref}/portal` (and `/portalUrl`) hands out a signed,
expiring URL; `GET /portal/{token}` is the customer's statement, `.../invoices/{uuid}.pdf` its PDFs;
every answer says exactly who may frame it."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from comptoir.services.access import links
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.masterdata import parties
from comptoir.services.reporting import portal

from .conftest import UpflowClient, upflow_error
from .portal_world import BALANCE, PDF, Statement, make_statement

TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


@pytest.fixture
def statement(upflow: UpflowClient) -> Statement:
    def upload(path: str, pdf: bytes) -> int:
        return upflow.client.post("/upflow/v1" + path, headers=upflow.headers,
                                  files={"file": ("uploaded.pdf", pdf, "application/pdf")}).status_code

    return make_statement(lambda path, body: upflow.ok("POST", path, body), upload)


def portal_path(upflow: UpflowClient, ref: str, body=None, route: str = "portal") -> str:
    """The path of the portal URL the API hands out (the test client is the server it names)."""
    answer = upflow.ok("POST", f"/customers/{ref}/{route}", body)
    assert list(answer) == ["url"]
    return urlsplit(answer["url"]).path


def text_of(response) -> str:
    """The page's text, tags removed and entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def rows_of(response, table_id: str) -> list[str]:
    match = re.search(rf'<table aria-labelledby="{table_id}">(.*?)</table>', response.text, re.DOTALL)
    if match is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", match.group(1), re.DOTALL)[1:]  # the header row aside
    return [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip() for row in rows]


# -- the URL -----------------------------------------------------------------------------------

def test_the_url_is_the_public_url_and_a_token(upflow, statement, context):
    for ref in (statement.customer["id"], f"external:{statement.customer['externalId']}"):
        for route in ("portal", "portalUrl"):
            for body in (None, {}, {"expiresIn": 3600}):
                answer = upflow.ok("POST", f"/customers/{ref}/{route}", body)
                base, _, token = answer["url"].rpartition("/")
                assert base == context.settings.public_url.rstrip("/") + "/portal"
                assert TOKEN.fullmatch(token), token
    # No body at all, as Upflow's MCP server sends it.
    response = upflow.client.post(f"/upflow/v1/customers/{statement.customer['id']}/portalUrl", headers=upflow.headers)
    assert response.status_code == 200 and set(response.json()) == {"url"}


def test_the_token_carries_the_customer_the_expiry_and_the_framers(upflow, statement, context, org):
    before = int(time.time())
    path = portal_path(upflow, statement.customer["id"], {"expiresIn": 600, "frameAncestors": "https://a.example"})
    grant = portal.open_link(context.settings.session_secret(), path.rsplit("/", 1)[1])
    assert (grant.org_id, grant.customer_uuid, grant.frame_ancestors) == (org.id, statement.customer["id"],
                                                                           ("https://a.example",))
    assert before + 600 <= grant.expires_at <= int(time.time()) + 600
    default = portal_path(upflow, statement.customer["id"])
    assert portal.open_link(context.settings.session_secret(), default.rsplit("/", 1)[1]).expires_at \
        >= before + 86400


def test_unknown_and_foreign_customers_are_404(upflow, other_upflow, statement):
    theirs = other_upflow.ok("POST", "/customers", {"externalId": "theirs", "name": "Theirs"})
    for ref in ("7d5b8a57-7a3e-4a55-9f5f-0d8f9e0c1a2b", "external:nobody", theirs["id"], "external:theirs"):
        for route in ("portal", "portalUrl"):
            upflow_error(upflow.post(f"/customers/{ref}/{route}", {}), 404)


def test_credentials_are_required(client, statement):
    upflow_error(client.post(f"/upflow/v1/customers/{statement.customer['id']}/portal", json={}), 401)


@pytest.mark.parametrize("body", [
    {"expiresIn": 0}, {"expiresIn": -5}, {"expiresIn": "3600"}, {"expiresIn": 1.5}, {"expiresIn": True},
    {"expiresIn": portal.EXPIRES_IN_MAX_S + 1}, [], "portal",
], ids=["zero", "negative", "string", "fraction", "boolean", "too long", "array", "string body"])
def test_bad_expiry_is_400(upflow, statement, body):
    upflow_error(upflow.post(f"/customers/{statement.customer['id']}/portal", body), 400)


@pytest.mark.parametrize("ancestors", [
    "https://a.example; script-src *", "https://a.example, https://b.example", "'self'", "'none'", '"https://a.example"',
    "https://a.example\r\nSet-Cookie: x=1", "https://a.example\nX: 1", "https://a.example\tb.example",
    "a.example\x00", "https://a.example\x7f", "https://a.exámple", "https://a.example <script>",
], ids=["semicolon", "comma", "self keyword", "none keyword", "double quotes", "CRLF", "LF", "tab", "NUL", "DEL",
        "non-ASCII", "angle brackets"])
def test_frame_ancestors_that_could_inject_are_400(upflow, statement, ancestors):
    body = upflow_error(upflow.post(f"/customers/{statement.customer['id']}/portal", {"frameAncestors": ancestors}),
                        400)
    # A NUL is refused for the whole body already (no database stores it), the rest for the field.
    assert "frameAncestors" in body["message"] or (ancestors.endswith("\x00") and "NUL" in body["message"])


def test_frame_ancestors_must_be_a_string(upflow, statement):
    for value in (["https://a.example"], 12, {"host": "a"}):
        upflow_error(upflow.post(f"/customers/{statement.customer['id']}/portal", {"frameAncestors": value}), 400)


# -- the page ----------------------------------------------------------------------------------

def test_the_page_shows_the_statement(upflow, client, statement, org):
    response = client.get(portal_path(upflow, statement.customer["id"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text = text_of(response)
    assert org.name in text
    assert statement.customer["name"] in text
    assert "<GmbH>" not in response.text and "&lt;GmbH&gt;" in response.text  # names are escaped
    assert f"Balance due: {BALANCE}" in text
    assert (f"Left to pay on your open invoices {BALANCE} Less your payments and credit notes not yet applied to an "
            f"invoice 0.00 USD Balance due: {BALANCE}") in text
    assert "other amounts" not in text and "not yet matched" not in text
    assert rows_of(response, "open-invoices") == [
        f"{statement.overdue['customId']} 2024-01-10 2024-02-10 1,200.00 USD 1,200.00 USD OVERDUE PDF",
        f"{statement.due['customId']} 2024-01-10 2099-01-31 50.00 USD 30.00 USD DUE PDF"]
    assert rows_of(response, "paid-invoices") == [f"{statement.paid['customId']} 2024-01-10 2024-02-10 80.00 USD PAID PDF"]
    assert statement.neighbour["name"] not in text and statement.neighbour_invoice["customId"] not in text
    token = response.url.path.rsplit("/", 1)[1]
    for invoice in (statement.overdue, statement.due, statement.paid):
        assert f'href="/portal/{token}/invoices/{invoice["id"]}.pdf"' in response.text
    assert "<script" not in response.text  # no JavaScript needed


def test_a_customer_without_invoices(upflow, client):
    customer = upflow.ok("POST", "/customers", {"externalId": "empty", "name": "Empty Ltd"})
    text = text_of(client.get(portal_path(upflow, customer["id"])))
    assert "Balance due: 0.00 EUR" in text  # nothing owed, in the book's currency (the customer has none)
    assert "No open invoices." in text and "No paid invoices." in text


def balance_of(response) -> str:
    """The text of the page's Balance section."""
    match = re.search(r'<section aria-labelledby="balance-heading">(.*?)</section>', response.text, re.DOTALL)
    assert match is not None
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))).strip()


def test_a_payment_not_yet_applied_shows_beside_the_open_invoice_it_will_settle(upflow, client):
    customer = upflow.ok("POST", "/customers", {"externalId": "early-payer", "name": "Early Payer"})
    owed = {"currency": "EUR", "customer": {"id": customer["id"]}}
    overdue = upflow.ok("POST", "/invoices", {"externalId": "ep-1", "customId": "EP-1", "issuedAt": "2024-01-10",
                                              "dueDate": "2024-02-10", "netAmount": 100000, "grossAmount": 100000,
                                              **owed})
    upflow.ok("POST", "/payments", {"externalId": "ep-pay", "amount": 100000, "validatedAt": "2024-02-01",
                                    **owed})  # received, matched to no invoice yet
    response = client.get(portal_path(upflow, customer["id"]))
    assert balance_of(response) == (
        "Balance Left to pay on your open invoices 1,000.00 EUR "
        "Less your payments and credit notes not yet applied to an invoice 1,000.00 EUR "
        "Balance due: 0.00 EUR "
        "We have received these payments or credit notes but not yet matched them to an invoice: they already "
        "count in your balance, though the invoices they will settle still show as open.")
    assert rows_of(response, "open-invoices") == [
        f"{overdue['customId']} 2024-01-10 2024-02-10 1,000.00 EUR 1,000.00 EUR OVERDUE PDF"]

    # A credit note not applied either, and more than is owed: the customer is in credit.
    upflow.ok("POST", "/credit_notes", {"externalId": "ep-cn", "customId": "EP-CN", "issuedAt": "2024-02-05",
                                        "netAmount": 25050, "grossAmount": 25050, **owed})
    assert balance_of(client.get(portal_path(upflow, customer["id"]))).startswith(
        "Balance Left to pay on your open invoices 1,000.00 EUR "
        "Less your payments and credit notes not yet applied to an invoice 1,250.50 EUR "
        "Credit in your favour: 250.50 EUR We have received")

    # Applied to the invoice, the payment settles it: nothing open, nothing unapplied but the credit note.
    upflow.ok("POST", "/payments", {"externalId": "ep-pay", "amount": 100000, "validatedAt": "2024-02-01",
                                    "linkedInvoices": [{"id": overdue["id"], "amountLinked": 100000}], **owed})
    settled = client.get(portal_path(upflow, customer["id"]))
    assert balance_of(settled).startswith(
        "Balance Left to pay on your open invoices 0.00 EUR "
        "Less your payments and credit notes not yet applied to an invoice 250.50 EUR "
        "Credit in your favour: 250.50 EUR")
    assert rows_of(settled, "open-invoices") == []


def test_what_no_invoice_nor_credit_explains_shows_as_other_amounts(upflow, client):
    customer = upflow.ok("POST", "/customers", {"externalId": "refunded", "name": "Refunded Ltd"})
    upflow.ok("POST", "/refunds", {"externalId": "rf-1", "currency": "EUR", "amount": 3000, "validatedAt": "2024-03-20",
                                   "customer": {"id": customer["id"]}})  # given back, for no credit of the book
    assert balance_of(client.get(portal_path(upflow, customer["id"]))) == (
        "Balance Left to pay on your open invoices 0.00 EUR "
        "Less your payments and credit notes not yet applied to an invoice 0.00 EUR "
        "Plus other amounts on your account 30.00 EUR Balance due: 30.00 EUR")


def test_the_totals_count_the_invoices_too_old_to_be_listed(upflow, client, monkeypatch):
    customer = upflow.ok("POST", "/customers", {"externalId": "long-history", "name": "Long History"})
    for number, issued in ((1, "2024-01-10"), (2, "2024-02-10"), (3, "2024-03-10")):
        upflow.ok("POST", "/invoices", {"externalId": f"lh-{number}", "customId": f"LH-{number}", "issuedAt": issued,
                                        "dueDate": "2099-01-01", "currency": "EUR", "netAmount": 1000 * number,
                                        "grossAmount": 1000 * number, "customer": {"id": customer["id"]}})
    monkeypatch.setattr(portal, "INVOICES_MAX", 2)  # the page lists the 2 most recent; the totals count all 3
    response = client.get(portal_path(upflow, customer["id"]))
    assert [row.split()[0] for row in rows_of(response, "open-invoices")] == ["LH-2", "LH-3"]
    assert "Only the most recent invoices are listed." in text_of(response)
    assert balance_of(response).startswith("Balance Left to pay on your open invoices 60.00 EUR "
                                           "Less your payments and credit notes not yet applied to an invoice "
                                           "0.00 EUR Balance due: 60.00 EUR")


def test_each_currency_adds_up_on_its_own(upflow, client):
    customer = upflow.ok("POST", "/customers", {"externalId": "two-currencies", "name": "Two Currencies"})
    for currency, gross in (("EUR", 40000), ("USD", 12000)):
        upflow.ok("POST", "/invoices", {"externalId": f"tc-{currency}", "customId": f"TC-{currency}",
                                        "issuedAt": "2024-01-10", "dueDate": "2099-02-10", "currency": currency,
                                        "netAmount": gross, "grossAmount": gross,
                                        "customer": {"id": customer["id"]}})
    upflow.ok("POST", "/payments", {"externalId": "tc-pay", "currency": "USD", "amount": 2000,
                                    "validatedAt": "2024-02-01", "customer": {"id": customer["id"]}})
    response = client.get(portal_path(upflow, customer["id"]))
    assert balance_of(response) == (
        "Balance In EUR Left to pay on your open invoices 400.00 EUR "
        "Less your payments and credit notes not yet applied to an invoice 0.00 EUR Balance due: 400.00 EUR "
        "In USD Left to pay on your open invoices 120.00 USD "
        "Less your payments and credit notes not yet applied to an invoice 20.00 USD Balance due: 100.00 USD "
        "We have received these payments or credit notes but not yet matched them to an invoice: they already "
        "count in your balance, though the invoices they will settle still show as open.")
    assert '<h3 id="balance-USD">In USD</h3>' in response.text
    assert '<dl class="summary" aria-labelledby="balance-USD">' in response.text


def test_the_pdf_links(upflow, client, statement):
    path = portal_path(upflow, statement.customer["id"])
    uploaded = client.get(f"{path}/invoices/{statement.overdue['id']}.pdf")
    assert uploaded.status_code == 200
    assert uploaded.content == PDF
    assert uploaded.headers["content-type"] == "application/pdf"
    assert uploaded.headers["content-disposition"] == 'attachment; filename="uploaded.pdf"'
    printed = client.get(f"{path}/invoices/{statement.due['id']}.pdf")  # no upload: printed from the book
    assert printed.status_code == 200
    assert printed.content.startswith(b"%PDF-")
    assert printed.headers["content-disposition"] == f'attachment; filename="{statement.due["customId"]}.pdf"'


def test_other_customers_invoices_are_404(upflow, other_upflow, client, statement):
    path = portal_path(upflow, statement.customer["id"])
    theirs = other_upflow.ok("POST", "/customers", {"externalId": "x", "name": "Other org customer"})
    their_invoice = other_upflow.ok("POST", "/invoices", {
        "externalId": "x-1", "customId": "X-1", "issuedAt": "2024-01-10", "dueDate": "2024-02-10", "currency": "USD",
        "netAmount": 100, "grossAmount": 100, "customer": {"id": theirs["id"]}})
    for uuid in (statement.neighbour_invoice["id"], their_invoice["id"], statement.customer["id"],
                 "7d5b8a57-7a3e-4a55-9f5f-0d8f9e0c1a2b", "not-a-uuid"):
        response = client.get(f"{path}/invoices/{uuid}.pdf")
        assert response.status_code == 404
        assert not response.content.startswith(b"%PDF")
        assert "Link not found" in response.text
        assert statement.customer["name"] not in text_of(response)
    assert client.get(f"{path}/invoices/{statement.overdue['id']}").status_code == 404  # the .pdf is part of it


def test_credit_notes_are_not_invoices_of_the_portal(upflow, client, statement):
    note = upflow.ok("POST", "/credit_notes", {
        "externalId": "portal-cn", "customId": "CN-PORTAL", "issuedAt": "2024-01-12", "currency": "USD",
        "netAmount": 100, "grossAmount": 100, "customer": {"id": statement.customer["id"]}})
    path = portal_path(upflow, statement.customer["id"])
    assert client.get(f"{path}/invoices/{note['id']}.pdf").status_code == 404


# -- framing -----------------------------------------------------------------------------------

def test_every_answer_names_exactly_the_given_framers(upflow, client, statement):
    sent = "https://app.example.com  http://127.0.0.1:3000 *.partner.example"
    path = portal_path(upflow, statement.customer["id"], {"frameAncestors": sent})
    expected = "frame-ancestors https://app.example.com http://127.0.0.1:3000 *.partner.example"
    for url, status in ((path, 200), (f"{path}/invoices/{statement.overdue['id']}.pdf", 200),
                        (f"{path}/invoices/{statement.due['id']}.pdf", 200),
                        (f"{path}/invoices/{statement.neighbour_invoice['id']}.pdf", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert response.headers.get_list("content-security-policy") == [expected]
        assert "x-frame-options" not in response.headers


@pytest.mark.parametrize("body", [None, {}, {"frameAncestors": None}, {"frameAncestors": ""},
                                  {"frameAncestors": "   "}])
def test_no_framers_means_none(upflow, client, statement, body):
    path = portal_path(upflow, statement.customer["id"], body)
    for url in (path, f"{path}/invoices/{statement.overdue['id']}.pdf"):
        assert client.get(url).headers.get_list("content-security-policy") == ["frame-ancestors 'none'"]


# -- expired and tampered links ----------------------------------------------------------------

def assert_no_customer_data(response, statement: Statement) -> None:
    text = text_of(response)
    for secret in (statement.customer["name"], statement.overdue["customId"], "1,200.00", BALANCE):
        assert secret not in text
    assert not response.content.startswith(b"%PDF")


def test_an_expired_link_is_410_without_customer_data(upflow, client, context, org, statement):
    secret = context.settings.session_secret()
    token = portal.issue(secret, org.id, statement.customer["id"], 3600, ("https://a.example",), now=time.time() - 7200)
    for url in (f"/portal/{token}", f"/portal/{token}/invoices/{statement.overdue['id']}.pdf"):
        response = client.get(url)
        assert response.status_code == 410
        assert "Link expired" in response.text
        assert response.headers["content-security-policy"] == "frame-ancestors https://a.example"
        assert_no_customer_data(response, statement)


def test_a_link_expires_after_expires_in(upflow, client, statement):
    path = portal_path(upflow, statement.customer["id"], {"expiresIn": 1})
    time.sleep(2.1)
    response = client.get(path)
    assert response.status_code == 410
    assert_no_customer_data(response, statement)


def test_tampered_links_are_404_without_customer_data(upflow, client, context, org, statement):
    path = portal_path(upflow, statement.customer["id"], {"frameAncestors": "https://a.example"})
    token = path.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    # The first character: the last one of base64 may carry only padding bits, and flipping it can
    # leave the signature's bytes unchanged.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    secret = context.settings.session_secret()
    claims = {"o": org.id, "c": statement.customer["id"], "f": ""}
    for bad in (f"{payload}.{flipped}", f"{payload}A.{signature}", payload, "not-a-token", token[:-5],
                links.sign("another secret", portal.PURPOSE, claims, 2**40),
                links.sign(secret, "comptoir.upflow.pdf", claims, 2**40),  # a pdfUrl's purpose
                links.sign(secret, portal.PURPOSE, {"o": org.id, "f": ""}, 2**40),  # no customer
                links.sign(secret, portal.PURPOSE, {**claims, "f": "a; script-src *"}, 2**40)):
        for url in (f"/portal/{bad}", f"/portal/{bad}/invoices/{statement.overdue['id']}.pdf"):
            response = client.get(url)
            assert response.status_code == 404, (bad, response.status_code)
            assert "Link not found" in response.text
            assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
            assert_no_customer_data(response, statement)


def test_a_deleted_customer_is_404(upflow, client, context, org):
    customer = upflow.ok("POST", "/customers", {"externalId": "leaving", "name": "Leaving Soon"})
    path = portal_path(upflow, customer["id"])
    assert upflow.delete(f"/customers/{customer['id']}").status_code == 204
    response = client.get(path)
    assert response.status_code == 404
    assert "Leaving Soon" not in response.text


def test_a_vendor_is_no_customer(client, context, org):
    """A token naming a party that is not a customer (a vendor) opens nothing."""
    with open_book(context.database, org.id) as book:
        vendor = parties.create_party(book, "vendor", {"type": 1, "company_name": "Only A Vendor"})
    token = portal.issue(context.settings.session_secret(), org.id, vendor.uuid, 600, ())
    response = client.get(f"/portal/{token}")
    assert response.status_code == 404
    assert "Only A Vendor" not in response.text


# -- lifetimes and withdrawal (issue 16 §10) --------------------------------------------------------

def test_a_link_lives_at_most_the_configured_days(upflow, statement, context):
    days = context.settings.portal_link_days_max
    assert portal_path(upflow, statement.customer["id"], {"expiresIn": days * 86400})
    refused = upflow.post(f"/customers/{statement.customer['id']}/portal", {"expiresIn": days * 86400 + 1})
    assert upflow_error(refused, 400)["message"].startswith("expiresIn: at most")


def test_withdrawn_links_no_longer_open_and_new_ones_do(upflow, client, statement, context, org, database_url):
    before = portal_path(upflow, statement.customer["id"], {"expiresIn": 86400})
    assert client.get(before).status_code == 200
    withdrawn = subprocess.run([sys.executable, "-m", "comptoir.cli", "portal", "revoke", org.slug,
                                statement.customer["id"]], env={**os.environ, "COMPTOIR_DATABASE_URL": database_url},
                               capture_output=True, text=True, timeout=120, check=False)
    assert withdrawn.returncode == 0, withdrawn.stdout + withdrawn.stderr
    page = client.get(before)
    assert page.status_code == 404 and statement.customer["name"] not in page.text
    assert client.get(before + f"/invoices/{statement.overdue['id']}.pdf").status_code == 404
    time.sleep(0.002)  # a link issued after the withdrawal (to the millisecond) opens
    assert client.get(portal_path(upflow, statement.customer["id"])).status_code == 200
