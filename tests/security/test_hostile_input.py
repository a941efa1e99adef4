"""Hostile input on every dialect: malformed, oversized, deeply nested and wrongly typed bodies, NaN,
Infinity, 1e309 and 30-digit amounts, CR/LF aimed at response headers, path traversal in file names
and paths, SQL in filter values, 6 MB uploads and files whose content contradicts their name.

Every refusal is a 4xx in the dialect's own error format (never a 5xx), and changes nothing: both
organizations' books, row by row, and every file under the data directory are compared before and
after (tests/security/conftest.py). Organization B's marker never shows in an answer to A.

The write routes are enumerated from the mounted applications: a new POST, PUT or PATCH route fails
`test_every_write_route_is_classified` until it is put in one of the classes below."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from ..auth.test_isolation_matrix import enumerate_routes
from ..oneconnect.conftest import BMP, JPEG, PDF, PNG, seed_entries
from .conftest import (
    Org,
    World,
    assert_unchanged,
    dialect_of,
    headers_for,
    quipu_item,
    quipu_relationship,
    refused,
    state_of,
)

MIB = 1024 * 1024
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'

# -- the write routes ----------------------------------------------------------------------------

MULTIPART_ONLY = {"/oneconnect/v1/integrations/{integration_id}/purchase-invoices",
                  "/oneconnect/v1/integrations/{integration_id}/sales-invoices",
                  "/quipu/attachments", "/quipu/{owner_slug}/attachments"}
FORMS = {"/oneup/oauth2/token", "/oneup/oauth2/login", "/oneup/oauth2/auth", "/quipu/oauth/token",
         "/oneconnect/oauth2/token"}
# Routes that read no body at all: a hostile body cannot reach anything (and the action would run).
NO_BODY = {("POST", "/oneup/v1/bank_entries/{element}/reconcile"),
           ("PUT", "/oneconnect/v1/integrations/{integration_id}/revoke")}
WRITES = ("POST", "PUT", "PATCH")


def write_routes(app) -> list[tuple[str, str]]:
    return [(method, path) for method, path in enumerate_routes(app) if method in WRITES]


def json_routes(app) -> list[tuple[str, str]]:
    return [(method, path) for method, path in write_routes(app)
            if path not in MULTIPART_ONLY and path not in FORMS and (method, path) not in NO_BODY]


def test_every_write_route_is_classified(app):
    routes = write_routes(app)
    assert len(routes) > 100, "the route walk found too few routes"
    for method, path in routes:
        assert (method, path) in NO_BODY or path in FORMS or path in MULTIPART_ONLY or dialect_of(path), (method, path)
    assert {path for _, path in routes} >= MULTIPART_ONLY | FORMS, "a classified route is gone: update the lists"


def concrete(path: str, org: Org) -> str:
    """The path template aimed at the organization's own records."""
    dialect = dialect_of(path)
    resource = path.split("/")[3] if dialect != "quipu" else next(s for s in path.split("/")[2:] if "{" not in s)
    ids = org.ids

    def value(name: str) -> str:
        if name == "owner_slug":
            return org.org.slug
        if name == "integration_id":
            return org.org.oneconnect["integration_id"]
        if name == "document_id":
            return ids["oneconnect:waiting"]
        if name == "contact_ref":
            return ids["upflow:contacts"]
        return str(ids[f"{dialect}:{resource}"])

    return re.sub(r"\{(\w+)\}", lambda match: value(match.group(1)), path)


def assert_no_leak(world: World, response) -> None:
    assert world.marker not in response.text, "organization B's data in an answer to A"


# -- bodies that no route may accept -----------------------------------------------------------

DEEP = 100_000
TEXT_FIELDS = ("name", "company_name", "first_name", "last_name", "description", "piece_number", "externalId",
               "customId", "email", "label", "reason", "po_number", "code", "number", "frameAncestors")


def text_everywhere(escaped: str) -> bytes:
    """A JSON object with the JSON-escaped text in every text field the dialects know, at the top
    and in a JSON:API `data.attributes`, in a key too."""
    fields = ", ".join(f'"{name}": "{escaped}"' for name in TEXT_FIELDS)
    return (f'{{{fields}, "{escaped}": 1, "data": {{"type": "contacts", "attributes": {{{fields}, "concept": '
            f'"{escaped}", "prefix": "{escaped}"}}}}}}').encode()


HOSTILE_JSON: dict[str, bytes] = {
    "truncated": b'{"name": ',
    "single quotes": b"{'name': 'x'}",
    "not UTF-8": b'\xff\xfe{"name": "x"}',
    "UTF-16": '{"name": "x"}'.encode("utf-16"),
    "trailing garbage": b'{"name": "x"} {"name": "y"}',
    "a string": b'"hello"',
    "a number": b"42",
    "deep arrays": b"[" * DEEP + b"]" * DEEP,
    "deep objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "deep under data": b'{"data": {"type": "x", "attributes": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}}",
    "NaN": b'{"name": "x", "amount": NaN, "data": {"attributes": {"amount": NaN}}}',
    "Infinity": b'{"name": "x", "amount": Infinity, "data": {"attributes": {"amount": Infinity}}}',
    "-Infinity": b'{"name": "x", "amount": -Infinity, "data": {"attributes": {"amount": -Infinity}}}',
    "a lone surrogate": text_everywhere("a\\ud800b"),
    "an escaped NUL": text_everywhere("a\\u0000b"),
    "raw control characters": b'{"name": "a\x00b\x01"}',
    "over the JSON limit": b'{"name": "' + b"a" * (MIB + 1) + b'"}',
    # Python's int() reads 4300 digits at most, and Decimal refuses such an exponent
    "a 5000-digit number": b'{"name": "x", "amount": ' + b"9" * 5000 + b', "data": {"attributes": {"n": 1}}}',
    "an exponent of 5000 digits": b'{"name": "x", "amount": 1e' + b"9" * 5000 + b"}",
}
WRONG_TYPES: dict[str, tuple[str, bytes]] = {
    "form": ("application/x-www-form-urlencoded", b"name=x&amount=1&data%5Btype%5D=contacts"),
    "text": ("text/plain", b"name: x"),
    "xml": ("application/xml", b"<customer><name>x</name></customer>"),
    "multipart": ("multipart/form-data; boundary=zz",
                  b'--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--zz--\r\n'),
    "html": ("text/html", HTML),
}


@pytest.mark.parametrize("dialect", ["oneup", "upflow", "quipu", "oneconnect"])
def test_hostile_json_bodies_on_every_json_route(world, app, dialect):
    """Every POST, PUT and PATCH route of the dialect that reads JSON, aimed at A's own records, with
    every hostile body and every wrong content type: 4xx in the dialect's format, nothing written."""
    routes = [(m, p) for m, p in json_routes(app) if dialect_of(p) == dialect]
    assert routes, dialect
    before = state_of(world.context, world.a, world.b)
    failures: list[str] = []
    tried = 0
    for method, template in routes:
        path = concrete(template, world.a)
        cases = [(name, "application/json", raw) for name, raw in HOSTILE_JSON.items()]
        cases += [(name, content_type, raw) for name, (content_type, raw) in WRONG_TYPES.items()
                  if not (dialect == "upflow" and "/pdf" in template and name == "multipart")]  # a PDF upload's form
        for name, content_type, raw in cases:
            response = world.client.request(method, path, content=raw,
                                             headers=headers_for(dialect, world.a, content_type))
            tried += 1
            try:
                refused(dialect, response)
                assert_no_leak(world, response)
            except (AssertionError, ValueError) as error:
                failures.append(f"{method} {template} [{name}]: {response.status_code} {str(error)[:200]}")
    assert not failures, f"{len(failures)} of {tried} refused wrongly:\n" + "\n".join(failures)
    assert_unchanged(world.context, before, world.a, world.b)
    assert tried >= 10 * len(routes)


# -- amounts out of any range ------------------------------------------------------------------

HUGE = ["1e309", "-1e309", "1E+400", "123456789012345678901234567890", "-123456789012345678901234567890",
        "1234567890123456789012345678.90", "1e30", "99999999999999999999.99"]
NOT_NUMBERS = ["NaN", "Infinity", "-Infinity"]


def _with(body: Any, value: str, *setters: Callable[[Any, Any], None]) -> bytes:
    """The JSON of the body with every setter's field set to the raw number `value`."""
    marker = "@@AMOUNT@@"
    body = json.loads(json.dumps(body))
    for setter in setters:
        setter(body, marker)
    return json.dumps(body).replace(f'"{marker}"', value).encode()


def at(*path: Any) -> Callable[[Any, Any], None]:
    def setter(body: Any, value: Any) -> None:
        for key in path[:-1]:
            body = body[key]
        body[path[-1]] = value
    return setter


def amount_cases(org: Org) -> list[tuple[str, str, str, Any, list]]:
    """(dialect, method, path, a valid body, the setters of its amount fields)."""
    ids = org.ids
    accounts = {a["number"]: a["id"] for a in org.oneup.ok("GET", "/accounts?limit=1000")}
    entries = [{"account_id": accounts["11100"], "way": "debit", "amount": 10},
               {"account_id": accounts["40150"], "way": "credit", "amount": 10}]
    upflow_invoice = {"externalId": "h-i", "customId": "H-I", "issuedAt": "2024-01-10", "dueDate": "2024-02-10",
                      "currency": "USD", "netAmount": 100, "grossAmount": 120, "customer": {"id": ids["upflow:customers"]}}
    quipu_invoice = {"data": {"type": "invoices", "attributes": {"kind": "income", "issue_date": "2024-03-01"},
                              "relationships": {"contact": quipu_relationship("contacts", ids["quipu:contacts"]),
                                                "items": {"data": [quipu_item("Work", "10.00")]}}}}
    lines = seed_entries()["data"]["lines"]
    for line in lines:
        line["account"] = line["account"].rstrip("0") or line["account"]  # the default chart's 40100 and 60100
        for side in ("debit", "credit"):
            line[side]["currency"] = "USD"
    return [
        ("oneup", "POST", "/oneup/v1/transactions", {"piece_number": "H-1", "date": "2024-03-03", "entries": entries},
         [at("entries", 0, "amount"), at("entries", 1, "amount")]),
        ("oneup", "POST", "/oneup/v1/payments", {"invoice_id": ids["oneup:invoices"], "amount": 1, "date": "2024-03-05"},
         [at("amount")]),
        ("oneup", "POST", "/oneup/v1/invoices", {"customer_id": ids["oneup:customers"], "date": "2024-03-01",
                                                 "order_lines": [{"item_id": ids["oneup:items"], "quantity": 1,
                                                                  "unit_price_wt": 5}]},
         [at("order_lines", 0, "unit_price_wt")]),
        ("oneup", "POST", "/oneup/v1/invoices", {"customer_id": ids["oneup:customers"], "date": "2024-03-01",
                                                 "order_lines": [{"item_id": ids["oneup:items"], "quantity": 1}]},
         [at("order_lines", 0, "quantity")]),
        ("oneup", "POST", "/oneup/v1/items", {"type": 2, "name": "H item", "sales_price": 1}, [at("sales_price")]),
        ("oneup", "POST", "/oneup/v1/bank_entries", {"bank_account_id": ids["oneup:bank_accounts"],
                                                     "posted_date": "2024-03-10", "transaction_date": "2024-03-10",
                                                     "amount": 3, "description": "H"}, [at("amount")]),
        ("upflow", "POST", "/upflow/v1/invoices", upflow_invoice, [at("grossAmount")]),
        ("upflow", "POST", "/upflow/v1/invoices", upflow_invoice, [at("netAmount"), at("grossAmount")]),
        ("upflow", "POST", "/upflow/v1/credit_notes", {**upflow_invoice, "externalId": "h-n"}, [at("grossAmount")]),
        ("upflow", "POST", "/upflow/v1/payments", {"externalId": "h-p", "currency": "USD", "amount": 5,
                                                   "validatedAt": "2024-02-01", "customer": {"id": ids["upflow:customers"]},
                                                   "linkedInvoices": [{"id": ids["upflow:invoices"], "amountLinked": 5}]},
         [at("amount"), at("linkedInvoices", 0, "amountLinked")]),
        ("upflow", "POST", "/upflow/v1/refunds", {"externalId": "h-r", "currency": "USD", "amount": 5,
                                                  "validatedAt": "2024-02-01", "customer": {"id": ids["upflow:customers"]}},
         [at("amount")]),
        ("upflow", "POST", "/upflow/v1/reconcile", {"externalId": "h-rec",
                                                    "invoices": [{"id": ids["upflow:invoices"], "amountLinked": 5}],
                                                    "payments": [{"id": ids["upflow:payments"], "amountLinked": 5}]},
         [at("invoices", 0, "amountLinked"), at("payments", 0, "amountLinked")]),
        ("quipu", "POST", "/quipu/invoices", quipu_invoice,
         [at("data", "relationships", "items", "data", 0, "attributes", "unitary_amount")]),
        ("quipu", "POST", "/quipu/invoices", quipu_invoice,
         [at("data", "relationships", "items", "data", 0, "attributes", "quantity")]),
        ("quipu", "POST", "/quipu/invoices", quipu_invoice,
         [at("data", "relationships", "items", "data", 0, "attributes", "vat_percent")]),
        ("quipu", "POST", "/quipu/paysheets", {"data": {"type": "paysheets", "attributes": {
            "kind": "expenses", "issue_date": "2024-03-31", "net_pay": "100.00"},
            "relationships": {"contact": quipu_relationship("contacts", ids["quipu:contacts"])}}},
         [at("data", "attributes", "net_pay")]),
        ("oneconnect", "POST", (f"/oneconnect/v1/integrations/{org.org.oneconnect['integration_id']}/documents/"
                                f"{ids['oneconnect:waiting']}/entries"), {"data": {"lines": lines}},
         [at("data", "lines", 0, "debit", "amount"), at("data", "lines", 1, "credit", "amount")]),
    ]


@pytest.mark.parametrize("dialect", ["oneup", "upflow", "quipu", "oneconnect"])
def test_amounts_out_of_any_range_are_refused(world, dialect):
    """NaN, Infinity, 1e309 and 30-digit amounts, as JSON numbers and as strings, in every amount
    field of the dialect's money routes: refused, nothing written."""
    cases = [case for case in amount_cases(world.a) if case[0] == dialect]
    before = state_of(world.context, world.a, world.b)
    for _, method, path, body, setters in cases:
        for value in HUGE + NOT_NUMBERS:
            for raw in (value, json.dumps(value)):
                response = world.client.request(method, path, content=_with(body, raw, *setters),
                                                headers=headers_for(dialect, world.a))
                refused(dialect, response)
    assert_unchanged(world.context, before, world.a, world.b)


def test_oneconnect_import_entries_out_of_any_range_are_refused(world):
    """The same amounts inside the `entries` part of a multipart import."""
    partner = world.a.oneconnect
    lines = amount_cases(world.a)[-1][3]
    before = state_of(world.context, world.a, world.b)
    for value in HUGE + NOT_NUMBERS:
        for raw in (value, json.dumps(value)):
            entries = _with(lines, raw, at("data", "lines", 0, "debit", "amount"),
                            at("data", "lines", 1, "credit", "amount")).decode()
            refused("oneconnect", partner.deposit("purchase", entries=entries, externalReference="HUGE-1"), (400,))
    assert_unchanged(world.context, before, world.a, world.b)


def test_the_valid_bodies_behind_the_amount_cases_are_accepted(world):
    """So that the refusals above are the amounts' doing: each base body is accepted as it is."""
    for dialect, method, path, body, _ in amount_cases(world.a):
        if dialect == "upflow" and "externalId" in body:
            body = {**body, "externalId": body["externalId"] + "-ok"}
        response = world.client.request(method, path, content=json.dumps(body), headers=headers_for(dialect, world.a))
        assert 200 <= response.status_code < 300, (path, response.status_code, response.text[:300])


# -- bodies that never end ------------------------------------------------------------------------

def stream_to(app, method: str, path: str, headers: dict[str, str], first: bytes, cap_bytes: int,
              filler: bytes = b"a" * 65536, query: str = "") -> tuple[int | None, int, bool]:
    """Send a body without a Content-Length, chunk after chunk, straight into the ASGI app: `first`,
    then `filler` for ever. (the status answered, the bytes the app took, whether it took more than
    `cap_bytes`, at which point the client hangs up instead)."""
    taken = [0]
    calls = [0]
    over = [False]
    sent: list[dict] = []

    async def receive():
        if taken[0] > cap_bytes:
            over[0] = True
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        chunk = first if calls[0] == 0 else filler
        calls[0] += 1
        taken[0] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    with contextlib.suppress(Exception):  # a client that hangs up mid-body may end the request with one
        asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    return (starts[0]["status"] if starts else None), taken[0], over[0]


BOUNDARY = "hostileboundary"


def multipart_head(name: str, filename: str | None = None, content_type: str = "application/pdf") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += f"Content-Type: {content_type}\r\n"
    return (head + "\r\n").encode()


def endless_cases(world: World) -> list[tuple[str, str, str, dict, bytes, bytes]]:
    """(label, method, path, headers, first chunk, filler) of every route family that reads a body."""
    a = world.a
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    form = "application/x-www-form-urlencoded"
    many_fields = b"&".join([b"f=" + b"x" * 1000] * 60) + b"&"
    oc = f"/oneconnect/v1/integrations/{a.org.oneconnect['integration_id']}"
    return [
        ("OneUp JSON", "POST", "/oneup/v1/customers", headers_for("oneup", a), b'{"company_name": "', b"a" * 65536),
        ("Upflow JSON", "POST", "/upflow/v1/customers", headers_for("upflow", a), b'{"name": "', b"a" * 65536),
        ("Quipu JSON", "POST", "/quipu/contacts", headers_for("quipu", a), b'{"data": {"attributes": {"name": "',
         b"a" * 65536),
        ("OneConnect JSON", "POST", f"{oc}/documents/{a.ids['oneconnect:waiting']}/entries",
         headers_for("oneconnect", a), b'{"data": {"lines": [', b'{"a": 1},' * 7000),
        ("Upflow PDF multipart", "POST", f"/upflow/v1/invoices/{a.ids['upflow:invoices']}/pdf",
         headers_for("upflow", a, multipart), multipart_head("file", "a.pdf") + b"%PDF-1.7\n", b"\0" * 65536),
        ("Upflow PDF JSON", "POST", f"/upflow/v1/invoices/{a.ids['upflow:invoices']}/pdf",
         headers_for("upflow", a), b'{"data": "', b"A" * 65536),
        ("OneConnect import file", "POST", f"{oc}/purchase-invoices", headers_for("oneconnect", a, multipart),
         multipart_head("file", "a.pdf") + b"%PDF-1.7\n", b"\0" * 65536),
        ("OneConnect import unknown part", "POST", f"{oc}/purchase-invoices", headers_for("oneconnect", a, multipart),
         multipart_head("other"), b"x" * 65536),
        ("OneConnect import many parts", "POST", f"{oc}/purchase-invoices", headers_for("oneconnect", a, multipart),
         b"", (multipart_head("other") + b"x\r\n") * 500),
        ("Quipu attachment", "POST", "/quipu/attachments", headers_for("quipu", a, multipart),
         multipart_head("file", "a.png", "image/png") + PNG, b"\0" * 65536),
        ("Quipu token, one field", "POST", "/quipu/oauth/token", {"Content-Type": form}, b"client_id=", b"a" * 65536),
        ("Quipu token, many fields", "POST", "/quipu/oauth/token", {"Content-Type": form}, b"", many_fields),
        ("Quipu token, many large fields", "POST", "/quipu/oauth/token", {"Content-Type": form}, b"",
         b"f=" + b"x" * (MIB - 16) + b"&"),
        ("OneUp OAuth token, many large fields", "POST", "/oneup/oauth2/token", {"Content-Type": form}, b"",
         b"f=" + b"x" * (MIB - 16) + b"&"),
        ("Quipu token, multipart file", "POST", "/quipu/oauth/token", {"Content-Type": multipart},
         multipart_head("upload", "x.bin"), b"\0" * 65536),
        ("OneConnect token, many fields", "POST", "/oneconnect/oauth2/token", {"Content-Type": form}, b"", many_fields),
        ("OneConnect token, multipart file", "POST", "/oneconnect/oauth2/token", {"Content-Type": multipart},
         multipart_head("upload", "x.bin"), b"\0" * 65536),
        ("OneUp OAuth token, many fields", "POST", "/oneup/oauth2/token", {"Content-Type": form}, b"", many_fields),
        ("OneUp OAuth token, multipart file", "POST", "/oneup/oauth2/token", {"Content-Type": multipart},
         multipart_head("upload", "x.bin"), b"\0" * 65536),
        ("OneUp login, many fields", "POST", "/oneup/oauth2/login", {"Content-Type": form}, b"", many_fields),
        ("OneUp consent, many fields", "POST", "/oneup/oauth2/auth", {"Content-Type": form}, b"", many_fields),
    ]


# What any route may read of a body before it refuses it: the largest upload limit (10 MiB), the
# multipart envelope of the OneConnect import (its parts' limits and 32 parts of 64 KiB), and a chunk.
READ_MAX = 16 * MIB


def test_endless_bodies_are_refused_while_they_stream(world, app):
    """A body without a Content-Length that never ends, into every kind of route that reads one: the
    app answers a 4xx once the body passes its limit, and stops reading."""
    before = state_of(world.context, world.a, world.b)
    failures = []
    for label, method, path, headers, first, filler in endless_cases(world):
        status, taken, over = stream_to(app, method, path, headers, first, READ_MAX, filler)
        if over or status is None or not 400 <= status < 500:
            failures.append(f"{label}: answered {status} after reading {taken:,} bytes"
                            f"{' and was still reading' if over else ''}")
    assert not failures, "\n".join(failures)
    assert_unchanged(world.context, before, world.a, world.b)


@pytest.mark.parametrize("dialect, path", [
    ("oneup", "/oneup/v1/customers"), ("upflow", "/upflow/v1/customers"), ("quipu", "/quipu/contacts"),
    ("oneconnect", "/oneconnect/v1/integrations/{integration_id}/purchase-invoices"),
    ("upflow", "/upflow/v1/invoices/{ref}/pdf"), ("quipu", "/quipu/attachments")])
def test_a_declared_length_over_the_limit_is_refused_before_reading(world, app, dialect, path):
    """Content-Length: 10 GB, and no body sent at all: the answer comes at once."""
    path = path.replace("{integration_id}", world.a.org.oneconnect["integration_id"]).replace(
        "{ref}", world.a.ids["upflow:invoices"])
    content_type = "application/json" if "attachments" not in path and "invoices" not in path.split("/")[-1] \
        else f"multipart/form-data; boundary={BOUNDARY}"
    headers = {**headers_for(dialect, world.a, content_type), "Content-Length": str(10**10)}
    status, taken, over = stream_to(app, "POST", path, headers, b"{", 64 * 1024, b"a" * 1024)
    assert status is not None and 400 <= status < 500, status
    assert taken <= 64 * 1024 + 1024 and not over, taken


# -- uploads: 6 MB, and contents that contradict their names ------------------------------------

def six_mb_pdf() -> bytes:
    return b"%PDF-1.7\n" + b"0" * (6 * 1000 * 1000) + b"\n%%EOF\n"


def test_a_6_mb_upload_is_kept_whole_or_refused_whole(world, client, context):
    """OneConnect's limit is 5 MiB: refused (400 VALIDATION_ERROR on `file`), nothing stored. Upflow's
    PDF and Quipu's attachment take up to 10 MiB: stored once, and served back byte for byte. A 6 MB
    JSON body is over every dialect's JSON limit."""
    a = world.a
    big = six_mb_pdf()
    before = state_of(context, world.a, world.b)
    body = refused("oneconnect", a.oneconnect.deposit("purchase", file=big, externalReference="SIX-MB"), (400,))
    assert [error["field"] for error in body["errors"]] == ["file"]
    big_json = json.dumps({"name": "x" * (6 * 1000 * 1000)}).encode()
    for dialect, path in (("oneup", "/oneup/v1/customers"), ("upflow", "/upflow/v1/customers"),
                          ("quipu", "/quipu/contacts"), ("upflow", f"/upflow/v1/invoices/{a.ids['upflow:invoices']}/pdf")):
        refused(dialect, client.post(path, content=big_json, headers=headers_for(dialect, a)))
    assert_unchanged(context, before, world.a, world.b)

    response = client.post(f"/upflow/v1/invoices/{a.ids['upflow:invoices']}/pdf", headers=a.upflow.headers,
                           files={"file": ("big.pdf", big, "application/pdf")})
    assert response.status_code == 204, response.text[:300]
    url = a.upflow.ok("GET", f"/invoices/{a.ids['upflow:invoices']}")["pdfUrl"]
    assert client.get(urlsplit(url).path).content == big
    upload = client.post("/quipu/attachments", headers={"Authorization": a.quipu.headers["Authorization"]},
                         files={"file": ("big.pdf", big, "application/pdf")}, data={"book_entry_id": a.ids["quipu:invoices"]})
    assert upload.status_code == 201, upload.text[:300]
    served = client.get(urlsplit(upload.json()["data"]["attributes"]["url"]).path,
                        params=dict([urlsplit(upload.json()["data"]["attributes"]["url"]).query.split("=", 1)]))
    assert served.status_code == 200 and served.content == big


CONTRADICTIONS = [  # (content, the file name it is sent under)
    (PNG, "invoice.pdf"), (JPEG, "invoice.pdf"), (HTML, "invoice.pdf"), (SVG, "invoice.pdf"),
    (PDF, "scan.png"), (PDF, "scan.jpg"), (HTML, "scan.png"), (BMP, "scan.jpeg"), (b"MZ\x90\x00" + bytes(60), "x.pdf"),
    (b"PK\x03\x04" + bytes(30), "x.pdf"), (b"", "empty.pdf"),
]


def test_files_whose_content_contradicts_their_name(world, client, context):
    """OneConnect refuses a file whose bytes are not of the type its name says (400 on `file`);
    Upflow takes only PDF bytes whatever the name. Nothing is stored by either."""
    a = world.a
    before = state_of(context, world.a, world.b)
    for data, name in CONTRADICTIONS:
        body = refused("oneconnect", a.oneconnect.deposit("purchase", file=data, file_name=name, filename=name), (400,))
        assert "file" in [error["field"] for error in body["errors"]], (name, body)
        if not data.startswith(b"%PDF-"):
            response = client.post(f"/upflow/v1/invoices/{a.ids['upflow:invoices']}/pdf", headers=a.upflow.headers,
                                   files={"file": (name, data, "application/pdf")})
            refused("upflow", response, (400,))
    assert_unchanged(context, before, world.a, world.b)


def test_quipu_attachments_are_typed_by_their_bytes_and_never_served_as_a_page(world, client):
    """Quipu keeps any file with an entry (as Quipu does), but its type is what the bytes say, never
    the name or the declared type: HTML named .png is application/octet-stream, served as an
    attachment with nosniff, so no browser renders it."""
    a = world.a
    for data, name, declared, expected in ((HTML, "scan.png", "image/png", "application/octet-stream"),
                                           (SVG, "logo.svg", "image/svg+xml", "application/octet-stream"),
                                           (HTML, "page.html", "text/html", "application/octet-stream"),
                                           (PDF, "scan.png", "image/png", "application/pdf"),
                                           (PNG, "doc.pdf", "application/pdf", "image/png")):
        upload = client.post("/quipu/attachments", headers={"Authorization": a.quipu.headers["Authorization"]},
                             files={"file": (name, data, declared)}, data={"book_entry_id": a.ids["quipu:invoices"]})
        assert upload.status_code == 201, upload.text
        attributes = upload.json()["data"]["attributes"]
        assert attributes["content_type"] == expected, (name, attributes)
        url = urlsplit(attributes["url"])
        served = client.get(url.path + "?" + url.query)
        assert served.status_code == 200 and served.content == data
        assert served.headers["content-type"].split(";")[0] == expected
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert a.quipu.request("DELETE", f"/attachments/{upload.json()['data']['id']}").status_code == 204


# -- path traversal ------------------------------------------------------------------------------

TRAVERSALS = ["../../../../etc/passwd.pdf", "..\\..\\..\\windows\\win.ini.pdf", "/etc/passwd.pdf",
              "....//....//x.pdf", "..%2f..%2fx.pdf", "%2e%2e/%2e%2e/x.pdf", "x.pdf\x00.png", "./../x.pdf",
              "C:\\x.pdf", "~/.ssh/id_rsa.pdf", "\u2025/\u2025/x.pdf", "a" * 300 + ".pdf"]


def test_oneconnect_refuses_file_names_with_a_directory(world, context):
    a = world.a
    before = state_of(context, world.a, world.b)
    for name in TRAVERSALS:
        if "/" in name or "\\" in name or "\x00" in name or len(name) > 255:
            body = refused("oneconnect", a.oneconnect.deposit("purchase", filename=name, file_name=name), (400,))
            assert "filename" in [error["field"] for error in body["errors"]], (name, body)
    assert_unchanged(context, before, world.a, world.b)


def test_uploaded_file_names_never_leave_the_file_store(world, client, context, tmp_path):
    """Upflow PDFs (multipart file name, JSON `filename`) and Quipu attachments under hostile names:
    stored under the file store's own key, the name kept without any directory part, and served
    back under a Content-Disposition that no name can break out of."""
    a = world.a
    root = context.settings.data_dir.resolve()
    invoice = a.ids["upflow:invoices"]
    for name in TRAVERSALS:
        for response in (
            client.post(f"/upflow/v1/invoices/{invoice}/pdf", headers=a.upflow.headers,
                        files={"file": (name, PDF, "application/pdf")}),
            client.post(f"/upflow/v1/invoices/{invoice}/pdf", headers=headers_for("upflow", a),
                        content=json.dumps({"data": base64.b64encode(PDF).decode(), "filename": name})),
        ):
            assert response.status_code in (204, 400), (name, response.status_code, response.text)
            if response.status_code == 400:
                refused("upflow", response)
                continue
            url = urlsplit(a.upflow.ok("GET", f"/invoices/{invoice}")["pdfUrl"])
            served = client.get(url.path)
            assert served.content == PDF
            check_disposition(served.headers["content-disposition"])
        upload = client.post("/quipu/attachments", headers={"Authorization": a.quipu.headers["Authorization"]},
                             files={"file": (name, PNG, "image/png")}, data={"book_entry_id": a.ids["quipu:invoices"]})
        assert upload.status_code == 201, upload.text
        attributes = upload.json()["data"]["attributes"]
        assert "/" not in attributes["filename"] and "\\" not in attributes["filename"], attributes
        url = urlsplit(attributes["url"])
        check_disposition(client.get(url.path + "?" + url.query).headers["content-disposition"])
        assert a.quipu.request("DELETE", f"/attachments/{upload.json()['data']['id']}").status_code == 204
    for path in root.parent.rglob("*"):
        assert root in path.resolve().parents or path.resolve() == root or not path.is_file() or \
            path.resolve().is_relative_to(root.parent), path
    assert not any(p.name in ("passwd.pdf", "win.ini.pdf", "x.pdf", "id_rsa.pdf") for p in root.rglob("*"))


def check_disposition(value: str) -> None:
    assert "\r" not in value and "\n" not in value and "\x00" not in value, value
    match = re.fullmatch(r'(inline|attachment); filename="([^"\\]*)"(; filename\*=UTF-8\'\'[A-Za-z0-9%._~-]+)?', value)
    assert match, value
    assert "/" not in match.group(2) and "\\" not in match.group(2), value


@pytest.mark.parametrize("path", [
    "/upflow/v1/documents/..%2f..%2f..%2fetc%2fpasswd", "/upflow/v1/documents/../../../etc/passwd",
    "/portal/..%2f..%2fetc%2fpasswd", "/portal/%2e%2e/%2e%2e/secret_key", "/quipu/attachments/1/file?token=../../secret_key",
    "/quipu/attachments/..%2f..%2fsecret_key/file", "/oneup/v1/customers/..%2f..%2fsecret_key",
    "/oneup/v1/invoices/1%2f..%2f..%2fsecret_key/print.pdf", "/quipu/invoices/..%2f1/download",
    "/oneconnect/v1/integrations/..%2f..%2f/documents/x", "/static/../../etc/passwd", "/..%2f..%2fetc/passwd",
])
def test_path_traversal_in_urls_reaches_no_file(world, client, context, path):
    response = client.get(path, headers={**world.a.upflow.headers, **world.a.oneconnect.headers})
    assert 400 <= response.status_code < 500, (path, response.status_code)
    secret = context.settings.session_secret()
    assert secret not in response.text and "root:" not in response.text


@pytest.mark.parametrize("dialect, path", [
    ("oneup", "/oneup/v1/customers/a%0Ab"), ("oneup", "/oneup/v1/invoices/1%0A%2C/print.pdf"),
    ("upflow", "/upflow/v1/customers/%F1%91%9E%9A%16.%1C%0A%2C"), ("upflow", "/upflow/v1/customers/x%0Ay/contacts"),
    ("quipu", "/quipu/contacts/a%0Ab"), ("quipu", "/quipu/x%0Ay/contacts"),
    ("oneconnect", "/oneconnect/v1/integrations/a%0Ab"),
])
def test_a_line_feed_inside_a_path_is_the_dialects_not_found(world, client, dialect, path):
    """Starlette's mount pattern stops at a line feed followed by more characters, so such a path misses
    the dialect's app (found by the stress fuzz run): it still gets the dialect's 404, not FastAPI's."""
    for method in ("GET", "DELETE", "POST"):
        refused(dialect, client.request(method, path, headers=headers_for(dialect, world.a)), (404,))


@pytest.mark.parametrize("number", ["368934881474191034", str(2**63), "9" * 30, "9" * 5000])
def test_page_numbers_and_offsets_past_any_row(world, client, number):
    """A page whose first row lies past a 64-bit offset (found by the Quipu contract run: PostgreSQL
    answered "bigint out of range") and numbers too long for Python to read: an empty page or a 4xx in
    the dialect's format, never a 5xx."""
    for dialect, path, params in [
        ("quipu", "/quipu/contacts", {"page[number]": number}),
        ("quipu", "/quipu/invoices", {"page[number]": number, "page[size]": "100"}),
        ("quipu", "/quipu/book_entries", {"page[number]": number}),
        ("oneup", "/oneup/v1/customers", {"offset": number}),
        ("oneup", "/oneup/v1/transactions", {"offset": number, "limit": "1000"}),
        ("upflow", "/upflow/v1/customers", {"offset": number}),
        ("upflow", "/upflow/v1/invoices", {"page": number, "limit": "100"}),
    ]:
        response = client.get(path, params=params, headers=headers_for(dialect, world.a, None))
        assert_no_leak(world, response)
        if response.status_code != 200:
            refused(dialect, response, (400, 422))


def test_numbers_too_long_to_read_in_urls_and_headers(world, client):
    """Python's int() refuses more than 4300 digits: ids, offsets, report parameters and a declared
    Content-Length that long are a 4xx in the dialect's format, never a 5xx."""
    long = "9" * 5000
    a = world.a
    for dialect, method, path, extra in [
        ("oneup", "GET", f"/oneup/v1/reports/general_ledger?account_id={long}", {}),
        ("oneup", "GET", f"/oneup/v1/customers/{long}", {}),
        ("oneup", "DELETE", f"/oneup/v1/customers?ids=1,{long}", {}),
        ("oneup", "GET", f"/oneup/v1/customers?id=gte:{long}", {}),
        ("oneup", "POST", "/oneup/v1/customers", {"headers": {"Content-Length": long}}),
        ("upflow", "GET", f"/upflow/v1/customers?limit={long}", {}),
        ("quipu", "GET", f"/quipu/contacts/{long}", {}),
        ("quipu", "GET", f"/quipu/contacts?page[size]={long}", {}),
        ("oneconnect", "GET", f"/oneconnect/v1/integrations/{a.org.oneconnect['integration_id']}/documents/{long}", {}),
    ]:
        headers = {**headers_for(dialect, a, "application/json" if method == "POST" else None), **extra.get("headers", {})}
        response = client.request(method, path, headers=headers, content=b"{}" if method == "POST" else None)
        refused(dialect, response)


def test_a_nul_in_a_quipu_signed_link_is_not_found(world, client):
    """Quipu's document gives its signed download links 200 or 404, never 400: a link with a NUL in
    its URL is a link that does not exist."""
    path = f"/quipu/{world.a.org.slug}/invoices/{world.a.ids['quipu:invoices']}/ephemeral_open_download"
    for query in ("token=a%00b", "token=x&junk=%00", "%00=1"):
        refused("quipu", client.get(f"{path}?{query}"), (404,))


# -- CR/LF aimed at response headers ----------------------------------------------------------------

INJECTED = "x\r\nSet-Cookie: pwned=1\r\nX-Injected: yes"


def assert_clean_headers(response) -> None:
    for name, value in response.headers.multi_items():
        assert "\r" not in value and "\n" not in value, (name, value)
        assert name.lower() not in ("x-injected",), (name, value)
        assert not (name.lower() == "set-cookie" and "pwned" in value), (name, value)


def test_crlf_in_values_that_reach_response_headers(world, client, context):
    """A file name becomes a Content-Disposition, an OAuth `state` or `next` becomes a Location,
    `frameAncestors` becomes a Content-Security-Policy: CR/LF in any of them never splits a header."""
    a = world.a
    invoice = a.ids["upflow:invoices"]
    # Upflow PDF named with CR/LF (JSON filename), then its pdfUrl
    response = client.post(f"/upflow/v1/invoices/{invoice}/pdf", headers=headers_for("upflow", a),
                           content=json.dumps({"data": base64.b64encode(PDF).decode(), "filename": INJECTED + ".pdf"}))
    assert response.status_code in (204, 400), response.text
    served = client.get(urlsplit(a.upflow.ok("GET", f"/invoices/{invoice}")["pdfUrl"]).path)
    assert_clean_headers(served)
    check_disposition(served.headers["content-disposition"])
    # Quipu attachment named with CR/LF (the multipart file name, percent-encoded by the client)
    upload = client.post("/quipu/attachments", headers={"Authorization": a.quipu.headers["Authorization"]},
                         files={"file": (INJECTED + ".png", PNG, "image/png")},
                         data={"book_entry_id": a.ids["quipu:invoices"]})
    assert upload.status_code == 201, upload.text
    url = urlsplit(upload.json()["data"]["attributes"]["url"])
    download = client.get(url.path + "?" + url.query)
    assert_clean_headers(download)
    check_disposition(download.headers["content-disposition"])
    # OneConnect: CR/LF in the text fields
    for field in ("filename", "comment", "userEmail", "externalReference"):
        response = a.oneconnect.deposit("purchase", **{field: INJECTED if field != "filename" else INJECTED + ".pdf"})
        assert_clean_headers(response)
        if field != "comment":
            refused("oneconnect", response, (400,))
    # Upflow portal: frameAncestors is written into a CSP header
    portal = client.post(f"/upflow/v1/customers/{a.ids['upflow:customers']}/portal", headers=headers_for("upflow", a),
                         content=json.dumps({"frameAncestors": "https://a.example" + INJECTED}))
    refused("upflow", portal, (400,))
    # OneUp OAuth: the state goes back in a redirect, `next` of the sign-in page too
    from comptoir.services.access.identity import register_client
    oauth = register_client(context.database, "Hostile App", ["http://127.0.0.1:9/callback"])
    redirect = client.get("/oneup/oauth2/auth", params={"response_type": "token", "client_id": oauth.client_id,
                                                        "redirect_uri": "http://127.0.0.1:9/callback",
                                                        "state": INJECTED}, follow_redirects=False)
    assert redirect.status_code in (302, 303), redirect.text
    assert_clean_headers(redirect)
    login = client.get("/oneup/oauth2/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    signed = client.post("/oneup/oauth2/login", data={
        "email": a.org.login.email, "password": a.org.login.password, "csrf_token": csrf,
        "next": "/oneup/oauth2/auth?x=1" + INJECTED}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    assert_clean_headers(signed)
    assert signed.headers["location"].startswith("/")


def test_crlf_in_request_headers_never_reaches_a_response_header(world, app):
    """Straight into the ASGI app (a real HTTP server refuses such a request first): CR/LF and NUL in
    the headers each dialect reads come back in no response header."""
    a = world.a
    evil = INJECTED + "\x00"
    cases = [
        ("/oneup/v1/customers", {"authorization": "Basic " + evil}),
        ("/oneup/v1/customers", {"authorization": "Bearer " + evil}),
        ("/upflow/v1/customers", {"x-api-key": evil, "x-api-secret": evil}),
        ("/quipu/contacts", {"authorization": "Bearer " + evil, "accept": evil}),
        ("/quipu/contacts", {"authorization": a.quipu.headers["Authorization"], "accept": evil}),
        ("/quipu/contacts", {"authorization": a.quipu.headers["Authorization"], "accept": "text/html" + evil}),
        (f"/oneconnect/v1/integrations/{a.org.oneconnect['integration_id']}",
         {"authorization": a.oneconnect.headers["Authorization"], "x-oneconnect-api-key": evil}),
        ("/oneup/oauth2/login", {"cookie": "comptoir_session=" + evil}),
    ]
    for path, headers in cases:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message, sent=sent):
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(k.encode(), v.encode("latin-1")) for k, v in headers.items()],
                 "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        asyncio.run(app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        assert start["status"] < 500, (path, start["status"])
        for name, value in start["headers"]:
            assert b"\r" not in value and b"\n" not in value and b"\x00" not in value, (path, name, value)
            assert name.lower() != b"x-injected", (path, name)


# -- SQL in filter values --------------------------------------------------------------------------

SQL = ["' OR '1'='1", "' OR 1=1 --", "1 OR 1=1", "1; DROP TABLE parties; --", "'; DELETE FROM documents; --",
       "\" OR \"\"=\"", "%' OR name LIKE '%", "1) UNION SELECT secret_hash FROM credentials --",
       "' UNION SELECT NULL, NULL --", "\\'; SELECT pg_sleep(5); --", "0x27", "%00'", "*", "%", "_"]


def rows_of(response) -> int:
    body = response.json()
    if isinstance(body, list):
        return len(body)
    for key in ("customers", "items", "invoices", "data", "creditNotes", "payments"):
        if key in body:
            return len(body[key])
    raise AssertionError(body)


def test_sql_in_filter_values_is_data(world, client, context):
    """SQL in OneUp filters and sorts, Upflow customFieldData filters and customerId, Quipu filter[...]
    and sort: a 4xx in the dialect's format, or an answer that matches the text literally (nothing
    here matches); never B's rows, never a 5xx, and every table still there."""
    a = world.a
    before = state_of(context, world.a, world.b)
    field_id = a.ids["upflow:custom_fields"]
    answered = 0
    for value in SQL:
        requests = [
            ("oneup", "/oneup/v1/customers", {"company_name": value}),
            ("oneup", "/oneup/v1/customers", {"company_name": f"eq:{value}"}),
            ("oneup", "/oneup/v1/customers", {"id": f"gte:{value}"}),
            ("oneup", "/oneup/v1/transactions", {"piece_number": value}),
            ("oneup", "/oneup/v1/transactions", {"date": f"lt:{value}"}),
            ("oneup", "/oneup/v1/invoices", {"customer_id": value}),
            ("oneup", "/oneup/v1/customers", {"sort": value}),
            ("oneup", "/oneup/v1/customers", {"sort": f"name,{value}"}),
            ("oneup", "/oneup/v1/customers", {"ids": value, "offset": value}),
            ("upflow", "/upflow/v1/customers", {f"customFieldData_{field_id}.eq": value}),
            ("upflow", "/upflow/v1/customers", {f"customFieldData_external:{value}.eq": "x"}),
            ("upflow", "/upflow/v1/customers", {f"customFieldData_{value}.eq": "x"}),
            ("upflow", "/upflow/v1/invoices", {"customerId": value}),
            ("upflow", "/upflow/v1/invoices", {"customerId": f"external:{value}"}),
            ("upflow", "/upflow/v1/custom_fields", {"entityType": value}),
            ("quipu", "/quipu/contacts", {"filter[q]": value}),
            ("quipu", "/quipu/contacts", {"filter[tax_id]": value}),
            ("quipu", "/quipu/contacts", {"filter[kind]": value}),
            ("quipu", "/quipu/invoices", {"filter[period]": value}),
            ("quipu", "/quipu/invoices", {"filter[contact_id]": value}),
            ("quipu", "/quipu/invoices", {"filter[q]": value}),
            ("quipu", "/quipu/invoices", {"sort": value}),
            ("quipu", "/quipu/book_entries", {"filter[type]": value}),
            ("quipu", "/quipu/numbering_series", {"filter[prefix]": value}),
            ("quipu", "/quipu/contacts", {"page[number]": value, "page[size]": value}),
        ]
        for dialect, path, params in requests:
            response = client.get(path, params=params, headers=headers_for(dialect, a, None))
            assert_no_leak(world, response)
            if response.status_code >= 400:
                refused(dialect, response)
                continue
            answered += 1
            if value not in ("*", "%", "_") and not any(key in ("sort", "offset", "ids") or "page" in key
                                                       for key in params):
                assert rows_of(response) == 0, (path, params, response.text[:300])
    assert answered > 0
    assert_unchanged(context, before, world.a, world.b)


def test_text_with_quotes_is_matched_literally(world):
    """The other side of the coin: a name with quotes and SQL in it is stored and found as written."""
    a = world.a
    name = "O'Brien\"; DROP TABLE parties; -- %_"
    created = a.oneup.ok("POST", "/customers", {"type": 1, "company_name": name})
    found = a.oneup.ok("GET", "/customers?" + "company_name=" + quote(f"eq:{name}"))
    assert [c["id"] for c in found] == [created["id"]]
    assert a.oneup.ok("GET", "/customers?company_name=" + quote("eq:O'Brien")) == []
    contact = a.quipu.create("/contacts", "contacts", {"name": name})
    listed = a.quipu.request("GET", "/contacts", params={"filter[q]": name}).json()["data"]
    # one book: the OneUp customer is a Quipu contact too
    assert sorted(c["id"] for c in listed) == sorted([contact["id"], str(created["id"])])
    assert {c["attributes"]["name"] for c in listed} == {name}



# -- NUL: PostgreSQL text cannot hold it -------------------------------------------------------------

def test_nul_characters_anywhere_are_refused_cleanly(world, client, context):
    """A NUL (\\x00) in a path, a query, a Basic credential, a form field or a multipart text field:
    a 4xx in the dialect's format (a real HTTP server refuses it in a header before the app sees it).
    PostgreSQL cannot compare or store text with a NUL, so it must never reach a query."""
    a = world.a
    before = state_of(context, world.a, world.b)
    oc = f"/oneconnect/v1/integrations/{a.org.oneconnect['integration_id']}"
    gets = [
        ("oneup", "/oneup/v1/customers?company_name=a%00b"), ("oneup", "/oneup/v1/customers?company_name=eq:%00"),
        ("oneup", "/oneup/v1/transactions?piece_number=%00"), ("oneup", "/oneup/v1/customers/1%00"),
        ("oneup", "/oneup/v1/accounts?number=%00&sort=name"),
        ("upflow", "/upflow/v1/customers/%00"), ("upflow", "/upflow/v1/customers/external:a%00b"),
        ("upflow", "/upflow/v1/invoices?customerId=%00"), ("upflow", "/upflow/v1/invoices?customerId=external:%00"),
        ("upflow", f"/upflow/v1/customers?customFieldData_{a.ids['upflow:custom_fields']}.eq=%00"),
        ("upflow", "/upflow/v1/customers?customFieldData_external:%00.eq=x"),
        ("upflow", "/upflow/v1/custom_fields/external:%00"), ("upflow", "/upflow/v1/payments/%00"),
        ("quipu", "/quipu/contacts?filter%5Bq%5D=%00"), ("quipu", "/quipu/contacts?filter%5Btax_id%5D=a%00"),
        ("quipu", "/quipu/invoices?filter%5Bq%5D=%00"), ("quipu", "/quipu/numbering_series?filter%5Bprefix%5D=%00"),
        ("quipu", "/quipu/contacts/1%00"), ("quipu", f"/quipu/{a.org.slug}%00/contacts"),
        ("oneconnect", "/oneconnect/v1/integrations/%00"), ("oneconnect", f"{oc}/documents/%00"),
    ]
    failures = []
    for dialect, path in gets:
        response = client.get(path, headers=headers_for(dialect, a, None))
        try:
            refused(dialect, response)
        except AssertionError as error:
            failures.append(f"GET {path}: {response.status_code} {str(error)[:150]}")
    nul_basic = "Basic " + base64.b64encode(b"api\x00x@api.comptoir.local:key\x00").decode()
    for dialect, method, path, kwargs in [
        ("oneup", "GET", "/oneup/v1/customers", {"headers": {"Authorization": nul_basic}}),
        ("oauth", "POST", "/quipu/oauth/token", {"headers": {"Authorization": nul_basic},
                                                 "data": {"grant_type": "client_credentials"}}),
        ("oauth", "POST", "/quipu/oauth/token", {"data": {"grant_type": "client_credentials", "client_id": "a\x00",
                                                          "client_secret": "b\x00"}}),
        ("oauth", "POST", "/oneconnect/oauth2/token", {"headers": {"Authorization": nul_basic},
                                                       "data": {"grant_type": "client_credentials"}}),
        ("oauth", "POST", "/oneconnect/oauth2/token", {"data": {"grant_type": "client_credentials",
                                                                "client_id": "a\x00", "client_secret": "b\x00"}}),
        ("oauth", "POST", "/oneup/oauth2/token", {"data": {"grant_type": "refresh_token", "client_id": "a\x00",
                                                           "client_secret": "b\x00", "refresh_token": "c\x00"}}),
    ]:
        response = client.request(method, path, **kwargs)
        try:
            refused(dialect, response)
        except AssertionError as error:
            failures.append(f"{method} {path} {kwargs}: {response.status_code} {str(error)[:150]}")
    login = client.get("/oneup/oauth2/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    signed = client.post("/oneup/oauth2/login", data={"email": "a\x00@x", "password": "p\x00", "csrf_token": csrf})
    if signed.status_code != 401:
        failures.append(f"POST /oneup/oauth2/login with NUL: {signed.status_code}")
    for field in ("comment", "userEmail", "filename", "externalReference"):
        response = a.oneconnect.deposit("purchase", **{field: "a\x00b" + (".pdf" if field == "filename" else "")})
        try:
            refused("oneconnect", response, (400,))
        except AssertionError as error:
            failures.append(f"OneConnect import, NUL in {field}: {response.status_code} {str(error)[:150]}")
    assert not failures, "\n".join(failures)
    assert_unchanged(context, before, world.a, world.b)
