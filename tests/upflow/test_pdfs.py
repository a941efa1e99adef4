"""Upflow PDFs over HTTP: `POST /invoices/{ref}/pdf` and `POST /credit_notes/{ref}/pdf` (multipart or
base64 JSON, 204), the limits, and the signed `pdfUrl` that serves the uploaded bytes."""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from comptoir.app import create_app
from comptoir.dialects.upflow.pdfs import PDF_URL_TTL_S, pdf_url
from comptoir.services.access import links
from comptoir.services.documents import files
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.tenancy.organizations import create_organization
from comptoir.storage.tables import StoredFile

from ..conftest import make_context
from ..helpers import book_snapshot
from .conftest import UpflowClient, upflow_error

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def a_pdf(size: int = 600) -> bytes:
    """Bytes a PDF reader would recognise as one: the header, a body, the end marker."""
    head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    return head + secrets.token_bytes(max(0, size - len(head) - len(tail))) + tail


def customer_and_invoice(upflow: UpflowClient) -> tuple[dict, dict]:
    tag = secrets.token_hex(4)
    customer = upflow.ok("POST", "/customers", {"externalId": f"c-{tag}", "name": f"Customer {tag}"})
    invoice = upflow.ok("POST", "/invoices", {
        "externalId": f"i-{tag}", "customId": f"F-{tag}", "issuedAt": "2024-01-10", "dueDate": "2024-02-10",
        "currency": "USD", "netAmount": 10000, "grossAmount": 12000, "customer": {"id": customer["id"]}})
    return customer, invoice


def stored_of(context, org_id: int, document_uuid: str) -> tuple[object | None, str | None]:
    """(the document's StoredFile row, the document's pdfUrl)."""
    with open_book(context.database, org_id) as book:
        document = book.documents.find(uuid=document_uuid)
        stored = book.stored_files.get(document.pdf_file_id) if document.pdf_file_id else None
        if stored is not None:
            book.session.expunge(stored)
        return stored, pdf_url(context.settings, document)


def files_of(context, org) -> list[Path]:
    root = Path(context.settings.files_dir) / org.uuid
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def fetch(client: TestClient, url: str):
    """GET a URL the server handed out (it names the public URL; the test client is the same server)."""
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def multipart(upflow: UpflowClient, path: str, data: bytes, filename: str = "invoice.pdf",
              content_type: str = "application/pdf", field: str = "file"):
    return upflow.client.post("/upflow/v1" + path, headers=upflow.headers,
                              files={field: (filename, data, content_type)})


# -- uploads -----------------------------------------------------------------------------------

def test_a_multipart_upload_is_204_and_pdf_url_serves_the_same_bytes(upflow, client, context, org):
    _, invoice = customer_and_invoice(upflow)
    assert stored_of(context, org.id, invoice["id"]) == (None, None)  # no PDF yet: no pdfUrl
    pdf = a_pdf()

    response = multipart(upflow, f"/invoices/{invoice['id']}/pdf", pdf, filename="Facture mars.pdf")
    assert response.status_code == 204, response.text
    assert response.content == b""

    stored, url = stored_of(context, org.id, invoice["id"])
    assert (stored.content_type, stored.byte_size, stored.filename) == ("application/pdf", len(pdf), "Facture mars.pdf")
    assert stored.storage_key.startswith(f"{org.uuid}/{stored.uuid[:2]}/{stored.uuid}")
    assert files_of(context, org) == [Path(context.settings.files_dir) / stored.storage_key]
    assert url.startswith(context.settings.public_url.rstrip("/") + "/upflow/v1/documents/")
    served = fetch(client, url)  # no credentials
    assert served.status_code == 200
    assert served.content == pdf
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == 'inline; filename="Facture mars.pdf"'


def test_a_base64_upload_by_external_id(upflow, client, context, org):
    _, invoice = customer_and_invoice(upflow)
    pdf = a_pdf(5000)
    encoded = base64.b64encode(pdf).decode()
    body = {"data": "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))}  # MIME line breaks

    response = upflow.post(f"/invoices/external:{invoice['externalId']}/pdf", body)
    assert response.status_code == 204, response.text
    stored, url = stored_of(context, org.id, invoice["id"])
    assert stored.filename == f"{invoice['customId']}.pdf"  # JSON uploads are named after the invoice
    assert fetch(client, url).content == pdf
    # A data: URL, unpadded URL-safe base64: both read.
    second = a_pdf(301)
    for data in (f"data:application/pdf;base64,{base64.b64encode(second).decode()}",
                 base64.urlsafe_b64encode(second).decode().rstrip("=")):
        assert upflow.post(f"/invoices/{invoice['id']}/pdf", {"data": data}).status_code == 204
        assert fetch(client, stored_of(context, org.id, invoice["id"])[1]).content == second


def test_a_new_upload_replaces_the_previous_pdf(upflow, client, context, org):
    _, invoice = customer_and_invoice(upflow)
    first, second = a_pdf(1000), a_pdf(2000)
    assert multipart(upflow, f"/invoices/{invoice['id']}/pdf", first).status_code == 204
    old, old_url = stored_of(context, org.id, invoice["id"])

    assert multipart(upflow, f"/invoices/{invoice['id']}/pdf", second, filename="v2.pdf").status_code == 204
    new, new_url = stored_of(context, org.id, invoice["id"])
    assert new.uuid != old.uuid
    assert files_of(context, org) == [Path(context.settings.files_dir) / new.storage_key]  # old bytes removed
    with open_book(context.database, org.id) as book:
        assert [row.uuid for row in book.stored_files.all()] == [new.uuid]
    # Links name the document: an earlier link now serves the new PDF.
    assert fetch(client, old_url).content == second
    assert fetch(client, new_url).content == second


def test_a_credit_note_pdf(upflow, client, context, org):
    customer, _ = customer_and_invoice(upflow)
    tag = secrets.token_hex(4)
    note = upflow.ok("POST", "/credit_notes", {
        "externalId": f"cn-{tag}", "customId": f"CN-{tag}", "issuedAt": "2024-01-15", "currency": "USD",
        "netAmount": 1000, "grossAmount": 1200, "customer": {"id": customer["id"]}})
    pdf = a_pdf()
    assert multipart(upflow, f"/credit_notes/external:cn-{tag}/pdf", pdf).status_code == 204
    _, url = stored_of(context, org.id, note["id"])
    assert fetch(client, url).content == pdf
    # The invoice routes do not name credit notes, nor the other way round.
    upflow_error(multipart(upflow, f"/invoices/{note['id']}/pdf", pdf), 404)
    upflow_error(multipart(upflow, f"/invoices/external:cn-{tag}/pdf", pdf), 404)


# -- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [PNG, b"%PDF", b"hello, world", b"\x00%PDF-1.4\n"], ids=["png", "short", "text",
                                                                                          "not at the start"])
def test_content_that_is_not_a_pdf_is_400_and_stores_nothing(upflow, context, org, data):
    _, invoice = customer_and_invoice(upflow)
    before = book_snapshot(context, org.id)
    for response in (multipart(upflow, f"/invoices/{invoice['id']}/pdf", data, filename="invoice.pdf"),
                     upflow.post(f"/invoices/{invoice['id']}/pdf", {"data": base64.b64encode(data).decode()})):
        body = upflow_error(response, 400)
        assert "not a PDF" in body["message"]
    assert book_snapshot(context, org.id) == before
    assert files_of(context, org) == []


@pytest.mark.parametrize("send", [
    lambda up, path: up.post(path, {"file": "JVBERi0x"}),  # no "data"
    lambda up, path: up.post(path, {"data": "%%%not base64%%%"}),
    lambda up, path: up.post(path, {"data": 12}),
    lambda up, path: up.post(path, ["JVBERi0x"]),
    lambda up, path: up.client.post("/upflow/v1" + path, headers={**up.headers, "Content-Type": "application/json"},
                                    content=b"{"),
    lambda up, path: up.client.post("/upflow/v1" + path, headers=up.headers, content=b""),
    lambda up, path: multipart(up, path, a_pdf(), field="document"),  # no "file" part
    lambda up, path: up.client.post("/upflow/v1" + path, headers=up.headers, data={"file": "JVBERi0x"},
                                    files={"other": ("x.txt", b"x", "text/plain")}),  # "file" is not a file
    lambda up, path: up.client.post("/upflow/v1" + path, content=b"--x\r\n",
                                    headers={**up.headers, "Content-Type": "multipart/form-data"}),  # no boundary
], ids=["no data", "bad base64", "data not a string", "not an object", "malformed JSON", "empty body",
        "no file part", "file is a text field", "no boundary"])
def test_malformed_uploads_are_400(upflow, context, org, send):
    _, invoice = customer_and_invoice(upflow)
    before = book_snapshot(context, org.id)
    upflow_error(send(upflow, f"/invoices/{invoice['id']}/pdf"), 400)
    assert book_snapshot(context, org.id) == before
    assert files_of(context, org) == []


def test_unknown_documents_are_404_whatever_the_body(upflow, other_upflow, context, org, other_org):
    _, invoice = customer_and_invoice(upflow)
    _, theirs = customer_and_invoice(other_upflow)
    before = book_snapshot(context, other_org.id)
    for ref in ("7d5b8a57-7a3e-4a55-9f5f-0d8f9e0c1a2b", "external:no-such-invoice", theirs["id"],
                f"external:{theirs['externalId']}"):
        for path in (f"/invoices/{ref}/pdf", f"/credit_notes/{ref}/pdf"):
            upflow_error(multipart(upflow, path, a_pdf()), 404)
            upflow_error(multipart(upflow, path, PNG), 404)
            upflow_error(upflow.post(path, {"nothing": True}), 404)
    assert book_snapshot(context, other_org.id) == before
    assert files_of(context, other_org) == [] and files_of(context, org) == []
    assert stored_of(context, org.id, invoice["id"]) == (None, None)


def test_credentials_are_required(upflow, client):
    _, invoice = customer_and_invoice(upflow)
    response = client.post(f"/upflow/v1/invoices/{invoice['id']}/pdf", files={"file": ("a.pdf", a_pdf(), "application/pdf")})
    upflow_error(response, 401)


# -- the size limit ----------------------------------------------------------------------------

LIMIT = 4096


@pytest.fixture(scope="module")
def small_app(database_url, context, tmp_path_factory):
    """The app with a 4 KiB upload limit, over the same database."""
    small = make_context(database_url, tmp_path_factory.mktemp("small"), upload_bytes_max=LIMIT)
    yield create_app(context=small)
    small.database.dispose()


@pytest.fixture
def small(small_app, context) -> UpflowClient:
    with TestClient(small_app) as test_client:
        yield UpflowClient(test_client, create_organization(context.database, "Small uploads"))


def test_the_limit_is_the_file_size(small):
    _, invoice = customer_and_invoice(small)
    path = f"/invoices/{invoice['id']}/pdf"
    assert multipart(small, path, a_pdf(LIMIT)).status_code == 204
    assert small.post(path, {"data": base64.b64encode(a_pdf(LIMIT)).decode()}).status_code == 204
    before = book_snapshot(small.client.app.state.context, small.org.id)
    for response in (multipart(small, path, a_pdf(LIMIT + 1)),
                     small.post(path, {"data": base64.b64encode(a_pdf(LIMIT + 1)).decode()}),
                     multipart(small, path, a_pdf(50 * LIMIT)),
                     small.post(path, {"data": base64.b64encode(a_pdf(50 * LIMIT)).decode()})):
        body = upflow_error(response, 413)
        assert str(LIMIT) in body["message"]
    assert book_snapshot(small.client.app.state.context, small.org.id) == before


def test_the_default_limit_is_10_mib(upflow, context):
    assert context.settings.upload_bytes_max == 10 * 1024 * 1024
    _, invoice = customer_and_invoice(upflow)
    upflow_error(multipart(upflow, f"/invoices/{invoice['id']}/pdf", a_pdf(10 * 1024 * 1024 + 1)), 413)


def test_a_body_over_the_limit_is_refused_while_it_streams(small_app, small):
    """Straight through the ASGI app: a body sent in chunks for ever, without a Content-Length, is
    refused once it passes the limit (and its envelope); the rest is never read."""
    _, invoice = customer_and_invoice(small)
    chunk = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\n"
    chunk += bytes(1024 - len(chunk))
    received, sent = [], []

    async def receive():
        received.append(len(chunk))
        assert len(received) < 10_000, "the app kept reading"
        return {"type": "http.request", "body": chunk if len(received) == 1 else bytes(1024), "more_body": True}

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", b"multipart/form-data; boundary=b"),
               (b"x-api-key", small.org.upflow["api_key"].encode()),
               (b"x-api-secret", small.org.upflow["api_secret"].encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": f"/upflow/v1/invoices/{invoice['id']}/pdf", "raw_path": b"", "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    asyncio.run(small_app(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert sum(received) <= LIMIT + 64 * 1024 + 1024


def test_a_declared_length_over_the_limit_is_refused_before_reading(small):
    _, invoice = customer_and_invoice(small)
    response = small.client.post(f"/upflow/v1/invoices/{invoice['id']}/pdf", content=b"{}",
                                 headers={**small.headers, "Content-Type": "application/json",
                                          "Content-Length": str(10**9)})
    upflow_error(response, 413)


# -- the file store and the links --------------------------------------------------------------

def test_a_rolled_back_store_leaves_no_file(context, org):
    class Abort(Exception):
        pass

    root = Path(context.settings.files_dir)
    with pytest.raises(Abort), open_book(context.database, org.id) as book:
        stored = files.store(book, root, "a.pdf", files.PDF, a_pdf())
        path = files.path_of(root, stored)
        assert path.read_bytes()[:5] == b"%PDF-"
        raise Abort()
    assert not path.exists()
    with context.database.transaction() as session:
        assert session.scalars(select(StoredFile).where(StoredFile.uuid == stored.uuid)).first() is None


def test_savepoints_settle_their_own_files(context, org):
    """A file written in a savepoint that rolls back is removed at once; a file discarded in one is
    kept; a discarded file's bytes go only when the whole transaction commits."""
    class Abort(Exception):
        pass

    root = Path(context.settings.files_dir)
    with open_book(context.database, org.id) as book:
        kept = files.store(book, root, "kept.pdf", files.PDF, a_pdf())
        with pytest.raises(Abort), book.session.begin_nested():
            undone = files.store(book, root, "undone.pdf", files.PDF, a_pdf())
            raise Abort()
        assert not files.path_of(root, undone).exists()
        with pytest.raises(Abort), book.session.begin_nested():
            files.discard(book, root, kept)
            raise Abort()
        book.session.expire_all()
        kept = book.stored_files.find(uuid=kept.uuid)
        files.discard(book, root, kept)
        assert files.path_of(root, kept).exists()  # until the commit
    assert not files.path_of(root, kept).exists()
    assert files_of(context, org) == []


def test_sniff_recognises_content_not_names():
    assert files.sniff(a_pdf()) == "application/pdf"
    assert files.sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00") == "image/jpeg"
    assert files.sniff(PNG) == "image/png"
    bmp = b"BM" + (70).to_bytes(4, "little") + bytes(8) + (40).to_bytes(4, "little") + bytes(52)
    assert files.sniff(bmp) == "image/bmp"
    for other in (b"", b"BM but text, not a bitmap header at all", b"GIF89a", b"<html>%PDF-", b"PK\x03\x04"):
        assert files.sniff(other) is None


def test_tampered_expired_and_foreign_links_are_404(upflow, client, context, org):
    _, invoice = customer_and_invoice(upflow)
    assert multipart(upflow, f"/invoices/{invoice['id']}/pdf", a_pdf()).status_code == 204
    _, url = stored_of(context, org.id, invoice["id"])
    token = urlsplit(url).path.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    secret = context.settings.session_secret()
    with open_book(context.database, org.id) as book:
        document = book.documents.find(uuid=invoice["id"])
        expired = urlsplit(pdf_url(context.settings, document, now=0)).path  # signed in 1970, an hour long
    forged = {"o": org.id, "d": invoice["id"]}
    for path in (
        f"/upflow/v1/documents/{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"/upflow/v1/documents/{payload}x.{signature}",
        f"/upflow/v1/documents/{payload}",
        "/upflow/v1/documents/not-a-token",
        expired,
        "/upflow/v1/documents/" + links.sign("another secret", "comptoir.upflow.pdf", forged, 2**40),
        "/upflow/v1/documents/" + links.sign(secret, "comptoir.portal", forged, 2**40),  # another purpose
    ):
        response = client.get(path)
        upflow_error(response, 404)
        assert b"%PDF" not in response.content
    assert PDF_URL_TTL_S == 3600
    assert client.get(urlsplit(url).path).status_code == 200


def test_a_link_to_a_deleted_invoice_is_404(upflow, client, context, org):
    _, invoice = customer_and_invoice(upflow)
    assert multipart(upflow, f"/invoices/{invoice['id']}/pdf", a_pdf()).status_code == 204
    _, url = stored_of(context, org.id, invoice["id"])
    assert upflow.delete(f"/invoices/{invoice['id']}").status_code == 204
    upflow_error(fetch(client, url), 404)
