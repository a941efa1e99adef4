"""The isolation matrix of the identity issue.

Organization A's credentials, of every kind, get 401, 403 or 404 on every route of every dialect
that names one of organization B's resources: never a 2xx, never B's data (B's name, secrets and
UUIDs, and a marker written into every record of B, are looked for in every answer). References to
B's records inside A's own writes are refused. And a credential of one dialect opens no other
dialect; nor does the web login's password or an OAuth client's secret.

Routes are enumerated from the mounted applications (`Mount`s and included routers), so a new route
fails `test_every_route_is_covered_by_a_rule` until a rule of RULES covers it, and the test of that
rule fails until it knows how to aim the route at B (a recipe for B's record, a body, a parameter).
One module-scoped world (A and B, each with a record of every OneUp resource and a few Upflow
imports, and every kind of credential of A) serves every test; every test ends by checking that B's
book is unchanged (tests.helpers.book_snapshot).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import itertools
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import simplejson
from fastapi.testclient import TestClient
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from comptoir.dialects.oneup.extensions import _REPORTS
from comptoir.services.access.identity import register_client
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.tenancy.organizations import NewOrganization, create_organization
from comptoir.storage.tables import Opportunity, Task

from ..helpers import OneUpClient, book_snapshot

MARKER = "zq" + uuid.uuid4().hex[:12]  # in B's name and in its records' names: never in an answer to A
B_EXTERNAL = uuid.uuid4().hex[:8]  # B's Upflow external ids: A may use the same ones in its own book
NOT_FOUND = {"status": 404, "code": "2", "message": "The resource was not found."}
QUIPU_FORBIDDEN = "You are not authorized to access this resource"
REDIRECT = "http://127.0.0.1:9/callback"
DIALECT_PREFIXES = {"/oneup/v1": "oneup", "/upflow/v1": "upflow", "/quipu": "quipu",
                    "/oneconnect/v1": "oneconnect"}
OK = "2xx"


# -- routes and their rules --------------------------------------------------------------------

# (rule, methods, path template); the first rule whose methods and path fully match wins.
RULES: list[tuple[str, str, str]] = [
    ("public", "GET|HEAD",
     r"(/oneup/v1|/upflow/v1|/quipu|/oneconnect/v1)?/(openapi\.json|docs|docs/oauth2-redirect|redoc)"),
    ("public", "GET", r"/|/healthz|/\.well-known/jwks\.json|/oneup/oauth2/login"),
    # The API documentation pages' scripts and styles, vendored (docs/decisions/0030).
    ("public", "GET|HEAD", r"/static/[\w.-]+(/[\w.-]+)*"),
    ("consent page", "GET|POST", r"/oneup/oauth2/auth"),
    ("token endpoint", "POST",
     r"/oneup/oauth2/token|/oneup/oauth2/login|/quipu/oauth/token|/oneconnect/oauth2/token"),
    ("oneup me", "GET", r"/oneup/v1/me"),
    ("oneup report", "GET", r"/oneup/v1/reports/\{name\}"),
    # The book's exchange rates (our extension): no ids, a currency and a day name a rate.
    ("oneup rates", "GET|POST", r"/oneup/v1/exchange_rates(/rate)?"),
    ("oneup element action", "GET|POST|PUT|DELETE", r"/oneup/v1/(?P<resource>\w+)/\{element\}/[\w.]+"),
    ("oneup element", "GET|PUT|DELETE", r"/oneup/v1/(?P<resource>\w+)/\{element\}"),
    ("oneup list", "GET", r"/oneup/v1/(?P<resource>\w+)"),
    ("oneup create", "POST", r"/oneup/v1/(?P<resource>\w+)"),
    ("oneup bulk delete", "DELETE", r"/oneup/v1/(?P<resource>\w+)"),
    # Public, but only with a token the server signed: a pdfUrl, a customer portal page and its PDFs.
    ("signed link", "GET|HEAD", r"/upflow/v1/documents/\{token\}|/portal/\{token\}(/invoices/\{invoice_uuid\}\.pdf)?"),
    ("upflow pdf upload", "POST", r"/upflow/v1/(?P<resource>invoices|credit_notes)/\{ref\}/pdf"),
    ("upflow list", "GET", r"/upflow/v1/\w+"),
    ("upflow create", "POST", r"/upflow/v1/\w+"),
    ("upflow element", "GET|POST|PUT|DELETE",
     r"/upflow/v1/(?P<resource>\w+)/\{\w+\}(/(?P<sub>\w+)(/\{\w+\})?)?"),
    # Quipu: the PDF and attachment links are public but signed; every other route needs the token.
    ("quipu signed link", "GET",
     r"/quipu(/\{owner_slug\})?/(?P<resource>\w+)/\{element\}/(ephemeral_open_download|file)"),
    ("quipu owner", "GET|POST|PATCH|PUT|DELETE", r"/quipu/\{owner_slug\}/(?P<resource>\w+)(/\{element\}(/\w+)?)?"),
    ("quipu element action", "GET", r"/quipu/(?P<resource>\w+)/\{element\}/download"),
    ("quipu element", "GET|PATCH|PUT|DELETE", r"/quipu/(?P<resource>\w+)/\{element\}"),
    ("quipu create", "POST", r"/quipu/(?P<resource>\w+)"),
    ("quipu list", "GET", r"/quipu/(?P<resource>\w+)"),
    ("oneconnect document", "GET|POST",
     r"/oneconnect/v1/integrations/\{integration_id\}/documents/\{document_id\}(/\w+)?"),
    ("oneconnect integration", "GET|PUT|POST", r"/oneconnect/v1/integrations/\{integration_id\}(/[\w-]+)?"),
]
# The rules whose routes need credentials: the credential tables aim every one of them.
GATED = ("oneup me", "oneup report", "oneup rates", "oneup element action", "oneup element", "oneup list", "oneup create",
         "oneup bulk delete", "upflow list", "upflow create", "upflow element", "quipu list", "quipu owner",
         "quipu element", "quipu element action", "quipu create",
         "oneconnect integration", "upflow pdf upload", "oneconnect document")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    rule: str | None
    resource: str | None = None
    sub: str | None = None  # Upflow: the nested collection (/customers/{ref}/contacts/{contact_ref})

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def dialect(self) -> str | None:
        return next((name for prefix, name in DIALECT_PREFIXES.items() if self.path.startswith(prefix + "/")),
                    None)


def enumerate_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route of the root app and of every mounted sub-app."""
    def walk(routes, prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, Mount) and isinstance(route.app, StaticFiles):  # each file a route of its own
                for file in sorted(Path(route.app.directory).rglob("*")):
                    if file.is_file():
                        for method in ("GET", "HEAD"):
                            yield method, f"{prefix}{route.path}/{file.relative_to(route.app.directory).as_posix()}"
            elif isinstance(route, Mount):
                yield from walk(route.routes, prefix + route.path)
            elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps an included router as one node
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in route.methods:
                    yield method, prefix + route.path
            else:  # a kind of route this walk does not know: no rule matches "?", the coverage test fails
                yield "?", prefix + str(getattr(route, "path", route))
    return sorted(set(walk(app.routes, "")))


def classify(method: str, path: str) -> Route:
    for rule, methods, pattern in RULES:
        match = re.fullmatch(pattern, path)
        if match and re.fullmatch(methods, method):
            groups = match.groupdict()
            return Route(method, path, rule, groups.get("resource"), groups.get("sub"))
    return Route(method, path, None)


# -- the records of an organization ------------------------------------------------------------

# Every writable OneUp resource, in an order where references come first: (resource, body from the
# marker and the records made so far). The marker goes into names, so that a leak shows in the text.
RECIPES: list[tuple[str, Callable[[str, dict, dict], dict]]] = [
    ("customers", lambda m, r, c: {"type": 1, "company_name": f"{m} customer",
                                   "address": {"street_line1": f"{m} street", "city": "Lyon"},
                                   "contacts": [{"first_name": "Cleo", "last_name": f"{m} contact",
                                                 "address": {"street_line1": f"{m} contact street"}}]}),
    ("vendors", lambda m, r, c: {"type": 1, "company_name": f"{m} vendor"}),
    ("item_families", lambda m, r, c: {"name": f"{m} family"}),
    ("items", lambda m, r, c: {"type": 2, "name": f"{m} item", "sales_price": Decimal(100),
                               "family_id": r["item_families"]["id"]}),
    ("projects", lambda m, r, c: {"name": f"{m} project"}),
    ("employees", lambda m, r, c: {"first_name": "Bea", "last_name": f"{m} employee"}),
    ("sales_orders", lambda m, r, c: {"customer_id": r["customers"]["id"], "date": "2024-03-01",
                                      "po_number": m, "order_lines": [{"item_id": r["items"]["id"],
                                                                       "quantity": 2, "is_taxable": False}]}),
    ("invoices", lambda m, r, c: {"customer_id": r["customers"]["id"], "date": "2024-03-01", "po_number": m,
                                  "order_lines": [{"item_id": r["items"]["id"], "quantity": 1,
                                                   "is_taxable": False}]}),
    ("payments", lambda m, r, c: {"invoice_id": r["invoices"]["id"], "amount": 10, "date": "2024-03-02"}),
    ("credit_notes", lambda m, r, c: {"invoice_id": r["invoices"]["id"], "date": "2024-03-04", "po_number": m,
                                      "order_lines": [{"item_id": r["items"]["id"], "quantity": 1,
                                                       "unit_price_wt": 5, "is_taxable": False}]}),
    ("journals", lambda m, r, c: {"name": f"{m} journal", "code": "MJ"}),
    ("accounts", lambda m, r, c: {"number": "56299", "name": f"{m} account", "family_id": c["50000"]}),
    ("transactions", lambda m, r, c: {"piece_number": f"{m}-1", "date": "2024-03-03", "entries": [
        {"account_id": r["accounts"]["id"], "way": "debit", "amount": 5, "label": f"{m} entry"},
        {"account_id": c["40150"], "way": "credit", "amount": 5}]}),
    ("bank_accounts", lambda m, r, c: {"name": f"{m} bank"}),
    ("bank_entries", lambda m, r, c: {"bank_account_id": r["bank_accounts"]["id"],
                                      "posted_date": "2024-03-10", "transaction_date": "2024-03-10",
                                      "amount": Decimal("-12.5"), "description": f"{m} fees"}),
]

# PUT bodies, one per updatable resource: a change the owner could make.
EDITS = {
    "customers": {"company_name": "Taken over"}, "vendors": {"company_name": "Taken over"},
    "item_families": {"name": "Taken over"}, "items": {"name": "Taken over"},
    "projects": {"name": "Taken over"}, "employees": {"last_name": "Taken over"},
    "sales_orders": {"po_number": "Taken over"}, "invoices": {"po_number": "Taken over"},
    "credit_notes": {"po_number": "Taken over"},
    "transactions": {"piece_number": "Taken over"}, "journals": {"name": "Taken over"},
    "accounts": {"name": "Taken over"}, "bank_accounts": {"name": "Taken over"},
}

# References to B's records in A's new and edited records, one per field: (the body of a valid record
# of A, {field: the override naming one of B's records}). Every override is refused (404, or 422 code 3)
# on POST and on PUT of A's own record; the base body alone is accepted (so the refusals are the
# references'). OWN_CREATES lists the resources that reference nothing: created in A's own book.
ACCOUNT_NUMBERS = itertools.count(56400)  # A's new accounts: free numbers under the 50000 family
REFERENCES: dict[str, Callable[[Any], tuple[dict, dict[str, dict]]]] = {
    "customers": lambda w: ({"type": 1, "company_name": "A ref"}, {
        "payment_terms": {"payment_terms": {"id": w.b_id("payment_terms")}},
        "sales_tax": {"sales_tax": {"id": w.b_id("taxes")}},
        "assigned_to": {"assigned_to": {"id": w.b_id("employees")}},
        "price_family": {"price_family": {"id": w.b_price_family}},
        "contacts[].id": {"contacts": [{"id": w.b_contact, "last_name": "Stolen"}]}}),
    "vendors": lambda w: ({"type": 1, "company_name": "A ref"}, {
        "payment_terms_id": {"payment_terms_id": w.b_id("payment_terms")},
        "contacts[].id": {"contacts": [{"id": w.b_contact, "last_name": "Stolen"}]}}),
    "items": lambda w: ({"type": 2, "name": "A ref"}, {
        "family_id": {"family_id": w.b_id("item_families")}, "unit_id": {"unit_id": w.b_id("units")},
        "dimension_unit_id": {"dimension_unit_id": w.b_id("units")}}),
    "sales_orders": lambda w: _document_references(w),
    "invoices": lambda w: _document_references(w),
    "credit_notes": lambda w: _document_references(w, invoice_id={"invoice_id": w.b_id("invoices")}),
    "payments": lambda w: ({"invoice_id": w.a_records["invoices"]["id"], "amount": 1, "date": "2024-03-05"},
                           {"invoice_id": {"invoice_id": w.b_id("invoices")},
                            "bank_id": {"bank_id": w.b_id("bank_accounts")}}),
    "accounts": lambda w: ({"number": str(next(ACCOUNT_NUMBERS)), "name": "A ref",
                            "family_id": w.a_chart["50000"]},
                           {"family_id": {"family_id": w.b_chart["50000"]}}),
    "transactions": lambda w: ({"piece_number": "A-REF", "date": "2024-03-03", "entries": [
        {"account_id": w.a_chart["11100"], "way": "debit", "amount": 1},
        {"account_id": w.a_chart["40150"], "way": "credit", "amount": 1}]}, {
        "journal_id": {"journal_id": w.b_id("journals")}, "journal": {"journal": {"id": w.b_id("journals")}},
        "entries[].account_id": {"entries": [
            {"account_id": w.b_id("accounts"), "way": "debit", "amount": 1},
            {"account_id": w.b_chart["40150"], "way": "credit", "amount": 1}]}}),
    "bank_entries": lambda w: ({"bank_account_id": w.a_records["bank_accounts"]["id"],
                                "posted_date": "2024-03-10", "transaction_date": "2024-03-10", "amount": 3,
                                "description": "A ref"},
                               {"bank_account_id": {"bank_account_id": w.b_id("bank_accounts")}}),
}


def _document_references(w, **more: dict) -> tuple[dict, dict[str, dict]]:
    """A sales document's references (`more`: other overrides, a credit note's invoice)."""
    line = {"item_id": w.a_records["items"]["id"], "quantity": 1}
    # Dated today, on or after the world's other documents (some take today's date by default): the
    # automatic numbers of invoices and credit notes follow their dates (issue 17 §7).
    return ({"customer_id": w.a_records["customers"]["id"], "date": date.today().isoformat(), "order_lines": [line]}, {
        "customer_id": {"customer_id": w.b_id("customers")},
        "billing_contact_id": {"billing_contact_id": w.b_contact},
        "shipping_contact_id": {"shipping_contact_id": w.b_contact},
        "tax_id": {"tax_id": w.b_id("taxes")},
        "payment_terms_id": {"payment_terms_id": w.b_id("payment_terms")},
        "project_id": {"project_id": w.b_id("projects")},
        "employee_id": {"employee_id": w.b_id("employees")},
        "order_lines[].item_id": {"order_lines": [{**line, "item_id": w.b_id("items")}]},
        "order_lines[].tax_id": {"order_lines": [{**line, "tax_id": w.b_id("taxes")}]}, **more})


OWN_CREATES: dict[str, Callable[[str], dict]] = {
    "item_families": lambda n: {"name": f"A family {n}"}, "projects": lambda n: {"name": f"A project {n}"},
    "employees": lambda n: {"first_name": "A", "last_name": f"Employee {n}"},
    "journals": lambda n: {"name": f"A journal {n}", "code": f"AJ{n}"},
    "bank_accounts": lambda n: {"name": f"A bank {n}"},
}
REFERENCE_KEYS = {"account_id": "accounts", "customer_id": "customers", "transaction_id": "transactions"}


def populate(oneup: OneUpClient, context, marker: str) -> dict[str, dict]:
    """One record of every writable resource (and a project and an opportunity task, which the API
    cannot create) in the organization's book."""
    chart = _chart(oneup)
    records: dict[str, dict] = {}
    for resource, recipe in RECIPES:
        records[resource] = oneup.ok("POST", f"/{resource}", recipe(marker, records, chart))
    with open_book(context.database, oneup.org.id) as book:
        opportunity = book.opportunities.add(Opportunity(name=f"{marker} opportunity"))
        for kind, extra in (("project", {"project_id": records["projects"]["id"],
                                         "service_to_bill_id": records["items"]["id"]}),
                            ("opportunity", {"opportunity_id": opportunity.id})):
            task = book.tasks.add(Task(kind=kind, name=f"{marker} {kind} task", due_date=date(2024, 1, 1),
                                       customer_id=records["customers"]["id"], **extra))
            records[f"{kind}_tasks"] = {"id": task.id}
    return records


# -- credentials -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Credential:
    """A credential of A: a pair (identifier, secret) or a bearer token; `native` is the
    (dialect, presentation) it is made for, None when it opens no API route by itself."""

    kind: str
    identifier: str | None
    secret: str
    native: tuple[str, str] | None = None


BASIC, BEARER = "HTTP Basic", "Bearer"
API_KEY_HEADERS, INTEGRATION_HEADER = "X-Api-Key and X-Api-Secret", "x-oneconnect-api-key"
FORMS = (BASIC, BEARER, API_KEY_HEADERS, INTEGRATION_HEADER)
# How each dialect's own scheme carries a credential of another kind (table 1).
SCHEME = {"oneup": (BASIC, BEARER), "upflow": (API_KEY_HEADERS, BEARER), "quipu": (BEARER, BEARER),
          "oneconnect": (BEARER, BEARER)}  # (for a pair, for a token)


def basic(identifier: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{identifier}:{secret}".encode()).decode()


def presentation(credential: Credential, form: str) -> dict[str, str] | None:
    """The headers of a credential sent in a form; None when the form needs an identifier it lacks."""
    identifier, secret = credential.identifier, credential.secret
    if form == BEARER:
        return {"Authorization": f"Bearer {secret}"}
    if form == INTEGRATION_HEADER:
        return {"x-oneconnect-api-key": secret}
    if identifier is None:
        return None
    if form == BASIC:
        return {"Authorization": basic(identifier, secret)}
    return {"X-Api-Key": identifier, "X-Api-Secret": secret}


# -- the world ---------------------------------------------------------------------------------

@dataclass
class World:
    client: TestClient
    context: Any
    a: NewOrganization
    b: NewOrganization
    routes: list[Route]
    a_records: dict[str, dict]
    b_records: dict[str, dict]
    b_all: dict[str, list[int]]  # every id B has, per OneUp resource
    b_chart: dict[str, int]
    oauth: Any
    a_tokens: dict[str, str]
    credentials: list[Credential]
    fingerprints: set[str]
    b_before: dict = field(default_factory=dict)
    a_all: dict[str, list[int]] = field(default_factory=dict)
    a_chart: dict[str, int] = field(default_factory=dict)
    b_contact: int = 0
    b_price_family: int = 0
    # Upflow records by resource, as each organization's own list shows them
    a_upflow: dict[str, list[dict]] = field(default_factory=dict)
    b_upflow: dict[str, list[dict]] = field(default_factory=dict)
    b_upflow_customer: str = ""  # UUIDs of B's OneUp customer and of B's first Upflow user
    b_upflow_user: str = ""
    # Upflow invoices and credit notes imported with external ids, by resource: A's UUID, B's records
    a_documents: dict[str, str] = field(default_factory=dict)
    b_documents: dict[str, list[dict]] = field(default_factory=dict)
    b_oneconnect_document: str = ""  # a Waiting OneConnect document of B
    # Quipu records by resource, as each organization's own lists show them
    a_quipu: dict[str, list[dict]] = field(default_factory=dict)
    b_quipu: dict[str, list[dict]] = field(default_factory=dict)

    def b_id(self, resource: str) -> int:
        record = self.b_records.get(resource)
        return record["id"] if record else self.b_all[resource][0]

    def a_id(self, resource: str) -> int:
        record = self.a_records.get(resource)
        return record["id"] if record else self.a_all[resource][0]

    def a_quipu_id(self, resource: str) -> str:
        return self.a_quipu[resource][0]["id"]

    def b_quipu_id(self, resource: str) -> str:
        return self.b_quipu[resource][0]["id"]

    def routes_of(self, rule: str) -> list[Route]:
        """The routes of a rule, reads first and deletions last (so that a deletion that wrongly
        succeeds cannot hide what the other verbs do)."""
        order = {"GET": 0, "HEAD": 1, "POST": 2, "PUT": 3, "PATCH": 3, "DELETE": 4}
        return sorted((route for route in self.routes if route.rule == rule),
                      key=lambda route: (order.get(route.method, 5), route.path))

    def call(self, method: str, url: str, headers: dict | None = None, body: Any = None, **kwargs):
        content = simplejson.dumps(body, use_decimal=True) if body is not None else None
        if content is not None:
            headers = {"Content-Type": "application/json", **(headers or {})}
        return self.client.request(method, url, content=content, headers=headers or {},
                                   follow_redirects=False, **kwargs)

    def upflow_auth(self, org: NewOrganization) -> dict[str, str]:
        return {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]}

    def has_route(self, method: str, path: str) -> bool:
        return any(route.method == method and route.path == path for route in self.routes)

    def oneup_auth(self, mode: str) -> dict[str, str]:
        if mode == "API email and key":
            return {"Authorization": basic(self.a.oneup.email, self.a.oneup.api_key)}
        return {"Authorization": f"Bearer {self.a_tokens['oneup access']}"}

    def leaks(self, response) -> list[str]:
        """B's fingerprints found in an answer, but not in what was asked (the OneConnect 404 names
        the integration id of the path; the sign-in page shows back the email typed)."""
        text = response.content.decode("utf-8", "replace")
        asked = str(response.request.url) + response.request.content.decode("utf-8", "replace")
        return sorted(f for f in self.fingerprints if f in text and f not in asked)

    def oneup_outcome(self, response) -> tuple:
        body = _json(response)
        error = body.get("error") if isinstance(body, dict) else None
        return response.status_code, error, self.leaks(response)

    def assert_b_unchanged(self) -> None:
        assert book_snapshot(self.context, self.b.id) == self.b_before, "B's book changed"


def _json(response) -> Any:
    try:
        return simplejson.loads(response.text, use_decimal=True)
    except ValueError:
        return None


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def oauth_tokens(client: TestClient, org: NewOrganization, oauth_client) -> dict:
    """The whole authorization code flow with S256 PKCE, as A's first user; the session cookie is
    dropped afterwards, so later calls are not signed in."""
    page = client.get("/oneup/oauth2/login")
    signed = client.post("/oneup/oauth2/login", follow_redirects=False, data={
        "email": org.login.email, "password": org.login.password, "csrf_token": _csrf(page.text), "next": ""})
    assert signed.status_code == 303, signed.text
    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": oauth_client.client_id, "redirect_uri": REDIRECT,
              "scope": "offline_access", "state": "s", "code_challenge": _s256(verifier),
              "code_challenge_method": "S256"}
    consent = client.get("/oneup/oauth2/auth", params=params)
    decided = client.post("/oneup/oauth2/auth", follow_redirects=False,
                          data={**params, "decision": "allow", "csrf_token": _csrf(consent.text)})
    code = parse_qs(urlparse(decided.headers["location"]).query)["code"][0]
    token = client.post("/oneup/oauth2/token", data={
        "grant_type": "authorization_code", "client_id": oauth_client.client_id,
        "client_secret": oauth_client.client_secret, "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert token.status_code == 200, token.text
    client.cookies.clear()
    return token.json()


def _chart(oneup: OneUpClient) -> dict[str, int]:
    return {account["number"]: account["id"] for account in oneup.ok("GET", "/accounts?limit=1000")}


def _ids(oneup: OneUpClient, resource: str) -> list[int]:
    return [row["id"] for row in oneup.ok("GET", f"/{resource}?limit=1000&sort=id")]


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuids_in(snapshot: dict) -> set[str]:
    return {str(value) for rows in snapshot.values() for row in rows for value in row
            if value is not None and UUID.fullmatch(str(value))}


def path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def fill(path: str, values: dict[str, Any]) -> str:
    missing = [name for name in path_params(path) if name not in values]
    assert not missing, f"{path}: the matrix does not know what to put in {missing}"
    for name in path_params(path):
        path = path.replace("{" + name + "}", str(values[name]))
    return path


def upflow_refs(item: dict) -> list[str]:
    """Every way Upflow names a record: its id, and external:<externalId> when it has one."""
    return [item["id"], *([f"external:{item['externalId']}"] if item.get("externalId") else [])]


def _upflow_records(world: World, org: NewOrganization) -> dict[str, list[dict]]:
    """The records of every Upflow resource that has element routes, as the organization's list shows."""
    records = {}
    for resource in sorted({route.resource for route in world.routes_of("upflow element")}):
        assert world.has_route("GET", f"/upflow/v1/{resource}"), f"no list of Upflow {resource}"
        response = world.call("GET", f"/upflow/v1/{resource}", world.upflow_auth(org))
        lists = [value for value in (_json(response) or {}).values() if isinstance(value, list)]
        assert response.status_code == 200 and lists, (resource, response.status_code, response.text[:300])
        records[resource] = lists[0]
    return records


def _upflow_only_uuids(world: World) -> set[str]:
    """UUIDs Upflow derives for B (its users, its dunning plans...): those in B's answers to every
    Upflow list that are not in A's."""
    found = {"A": set(), "B": set()}
    for route in world.routes_of("upflow list"):
        for who, org in (("A", world.a), ("B", world.b)):
            found[who] |= set(UUID.findall(world.call("GET", route.path, world.upflow_auth(org)).text))
    return found["B"] - found["A"]


@pytest.fixture(scope="module")
def world(app, context) -> Iterator[World]:
    a = create_organization(context.database, "Isolation A")
    b = create_organization(context.database, f"Isolation B {MARKER}")
    with TestClient(app) as client:
        routes = [classify(method, path) for method, path in enumerate_routes(app)]
        a_oneup, b_oneup = OneUpClient(client, a), OneUpClient(client, b)
        a_records = populate(a_oneup, context, "Alpha")
        b_records = populate(b_oneup, context, MARKER)
        b_oneup.ok("POST", "/exchange_rates", B_RATE)
        resources = sorted({route.resource for route in routes
                            if route.dialect == "oneup" and route.resource})
        b_all = {resource: _ids(b_oneup, resource) for resource in resources}
        a_all = {resource: _ids(a_oneup, resource) for resource in resources}
        b_chart = _chart(b_oneup)

        oauth = register_client(context.database, "Isolation matrix", [REDIRECT])
        oneup_token = oauth_tokens(client, a, oauth)
        quipu = client.post("/quipu/oauth/token", auth=(a.quipu["app_id"], a.quipu["app_secret"]),
                            data={"grant_type": "client_credentials", "scope": "ecommerce"})
        jwt = client.post("/oneconnect/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": a.oneconnect["client_id"],
            "client_secret": a.oneconnect["client_secret"]})
        assert quipu.status_code == 200 and jwt.status_code == 200, (quipu.text, jwt.text)
        tokens = {"oneup access": oneup_token["access_token"], "oneup refresh": oneup_token["refresh_token"],
                  "quipu": quipu.json()["access_token"], "oneconnect": jwt.json()["access_token"]}
        credentials = [
            Credential("OneUp API email and key", a.oneup.email, a.oneup.api_key, ("oneup", BASIC)),
            Credential("OneUp OAuth2 access token", None, tokens["oneup access"], ("oneup", BEARER)),
            Credential("OneUp OAuth2 refresh token", None, tokens["oneup refresh"]),
            Credential("OneUp OAuth2 client id and secret", oauth.client_id, oauth.client_secret),
            Credential("web login email and password", a.login.email, a.login.password),
            Credential("Upflow key and secret", a.upflow["api_key"], a.upflow["api_secret"],
                       ("upflow", API_KEY_HEADERS)),
            Credential("Quipu app id and secret", a.quipu["app_id"], a.quipu["app_secret"]),
            Credential("Quipu access token", None, tokens["quipu"], ("quipu", BEARER)),
            Credential("OneConnect client id and secret", a.oneconnect["client_id"],
                       a.oneconnect["client_secret"]),
            Credential("OneConnect JWT", None, tokens["oneconnect"], ("oneconnect", BEARER)),
            Credential("OneConnect integration id and secret", a.oneconnect["integration_id"],
                       a.oneconnect["integration_secret"], ("oneconnect", INTEGRATION_HEADER)),
        ]
        world = World(client, context, a, b, routes, a_records, b_records, b_all, b_chart, oauth, tokens,
                      credentials, set(), a_all=a_all)
        world.a_chart = _chart(a_oneup)
        world.b_contact = b_records["customers"]["contacts"][0]["id"]
        with open_book(context.database, b.id) as book:
            world.b_price_family = book.price_families.all()[0].id
        b_fields = []  # a custom field of each (B's set on B's imported customer)
        if world.has_route("POST", "/upflow/v1/custom_fields"):
            for org, name, external_id in ((a, "Alpha field", f"cf-a-{B_EXTERNAL}"),
                                           (b, f"{MARKER} field", f"cf-{B_EXTERNAL}")):
                defined = client.post("/upflow/v1/custom_fields", headers=world.upflow_auth(org), json={
                    "name": name, "externalId": external_id, "dataType": "SELECT"})
                assert defined.status_code == 201, defined.text
            b_fields = [{"id": defined.json()["id"], "value": {"label": f"{MARKER} label"}}]
        if world.has_route("POST", "/upflow/v1/customers"):  # a customer and a contact with external ids
            for body in ({"externalId": f"ext-{B_EXTERNAL}", "name": f"{MARKER} imported", "contacts": [
                             {"externalId": f"ext-contact-{B_EXTERNAL}", "email": f"{MARKER}@b.example"}],
                          "customFields": b_fields},
                         {"externalId": f"ext2-{B_EXTERNAL}", "name": f"{MARKER} imported too"}):
                imported = client.post("/upflow/v1/customers", headers=world.upflow_auth(b), json=body)
                assert imported.status_code == 200, imported.text
        _upflow_documents(world)
        world.a_upflow, world.b_upflow = _upflow_records(world, a), _upflow_records(world, b)
        with open_book(context.database, b.id) as book:
            world.b_upflow_customer = book.parties.get(b_records["customers"]["id"]).uuid
        if world.has_route("GET", "/upflow/v1/users"):
            users = client.get("/upflow/v1/users", headers=world.upflow_auth(b)).json()["users"]
            world.b_upflow_user = users[0]["id"]
        world.b_oneconnect_document = _oneconnect_document(client, b)
        world.a_quipu, world.b_quipu = _quipu_records(client, a, "Alpha"), _quipu_records(client, b, MARKER)
        world.b_before = book_snapshot(context, b.id)
        world.fingerprints = {MARKER, b.uuid, b.oneup.email, b.oneup.api_key, b.login.password,
                              *b.upflow.values(), b.quipu["app_id"], b.quipu["app_secret"],
                              *b.oneconnect.values(), *_uuids_in(world.b_before), *_upflow_only_uuids(world)}
        yield world


# -- coverage ----------------------------------------------------------------------------------

def test_every_route_is_covered_by_a_rule(world):
    assert [route.label for route in world.routes if route.rule is None] == []
    # Every rule the routes use has a test below that aims its routes at B.
    assert {route.rule for route in world.routes} <= {"public", "consent page", "token endpoint", "signed link",
                                                      "quipu signed link",
                                                      *GATED}
    # And the world has something of B for every OneUp resource a route names.
    resources = {route.resource for route in world.routes if route.dialect == "oneup" and route.resource}
    writable = {route.resource for route in world.routes if route.rule == "oneup create"}
    assert {resource: world.b_all[resource] != [] for resource in resources} == dict.fromkeys(resources, True)
    assert writable <= set(world.b_records), "add a recipe to RECIPES for every writable resource"
    assert writable <= set(REFERENCES) | set(OWN_CREATES), \
        "say in REFERENCES how A's new record could reference B (or in OWN_CREATES that it cannot)"
    updatable = {route.resource for route in world.routes_of("oneup element") if route.method == "PUT"}
    assert updatable <= set(EDITS), "add an edit to EDITS for every updatable resource"


# -- OneUp: B's records through A's credentials -------------------------------------------------

ONEUP_MODES = ["API email and key", "OAuth2 bearer token"]


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_element_routes_with_b_ids_are_not_found(world, mode):
    outcomes, expected = {}, {}
    for route in world.routes_of("oneup element"):
        url = route.path.replace("{element}", str(world.b_id(route.resource)))
        body = EDITS.get(route.resource, {}) if route.method == "PUT" else None
        response = world.call(route.method, url, world.oneup_auth(mode), body)
        outcomes[route.label] = world.oneup_outcome(response)
        expected[route.label] = (404, NOT_FOUND, [])
    assert outcomes == expected
    world.assert_b_unchanged()


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_bulk_delete_with_b_ids_deletes_nothing(world, mode):
    outcomes, expected = {}, {}
    for route in world.routes_of("oneup bulk delete"):
        ids = list(dict.fromkeys([world.b_id(route.resource), *world.b_all[route.resource][:3]]))
        url = f"{route.path}?ids={','.join(map(str, ids))}"
        response = world.call("DELETE", url, world.oneup_auth(mode))
        outcomes[route.label] = (response.status_code, _json(response), world.leaks(response))
        expected[route.label] = (200, {"success_count": 0, "error_count": len(ids), "successes": [],
                                       "errors": [{"id": i, "error": NOT_FOUND} for i in ids]}, [])
    assert outcomes == expected
    world.assert_b_unchanged()


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_extension_routes_on_b_records_are_not_found(world, mode):
    """convert, deliver, reconcile, print.pdf, print.json: every /{resource}/{id}/{action} route."""
    outcomes, expected = {}, {}
    for route in world.routes_of("oneup element action"):
        url = route.path.replace("{element}", str(world.b_id(route.resource)))
        body = {} if route.method in ("POST", "PUT") else None
        response = world.call(route.method, url, world.oneup_auth(mode), body)
        outcomes[route.label] = world.oneup_outcome(response)
        expected[route.label] = (404, NOT_FOUND, [])
    assert len(outcomes) >= 5
    assert outcomes == expected
    world.assert_b_unchanged()


def _foreign_references(world: World, document: Any) -> list[tuple[str, int]]:
    """(key, id) of every account_id, customer_id or transaction_id in a JSON answer that is B's."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in REFERENCE_KEYS and value in world.b_all[REFERENCE_KEYS[key]]:
                found.append((key, value))
            found += _foreign_references(world, value)
    elif isinstance(document, list):
        for value in document:
            found += _foreign_references(world, value)
    return found


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_reports_with_b_ids_show_nothing_of_b(world, mode):
    """Every report, with B's account and customer in every id parameter: the general ledger of B's
    account is not found; the others answer with A's book only."""
    b_params = {"account_id": world.b_id("accounts"), "customer_id": world.b_id("customers"),
                "date": "2024-12-31", "date_from": "2024-01-01", "date_to": "2024-12-31"}
    outcomes, expected = {}, {}
    for route in world.routes_of("oneup report"):
        for name in [*_REPORTS, "no_such_report"]:
            for fmt in ("json", "csv"):
                url = route.path.replace("{name}", name) + "?" + urlencode({**b_params, "format": fmt})
                response = world.call("GET", url, world.oneup_auth(mode))
                if response.status_code == 200 and fmt == "json":
                    outcomes[url] = (200, _foreign_references(world, _json(response)), world.leaks(response))
                elif response.status_code == 200:
                    rows = list(csv.reader(io.StringIO(response.text)))
                    outcomes[url] = (200, [len(rows) >= 1], world.leaks(response))
                else:
                    outcomes[url] = world.oneup_outcome(response)
                if name in ("general_ledger", "no_such_report"):
                    expected[url] = (404, NOT_FOUND, [])
                else:
                    expected[url] = (200, [] if fmt == "json" else [True], [])
        # B's bank ledger account too.
        bank_account = world.b_records["bank_accounts"]["account_id"]
        url = route.path.replace("{name}", "general_ledger") + f"?account_id={bank_account}"
        outcomes[url] = world.oneup_outcome(world.call("GET", url, world.oneup_auth(mode)))
        expected[url] = (404, NOT_FOUND, [])
    assert outcomes == expected
    world.assert_b_unchanged()


B_RATE = {"currency": "CHF", "date": "2024-06-01", "rate": 7.77}  # B's only, a rate A never sets


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_exchange_rates_are_the_organizations_own(world, mode):
    """A lists none of B's rates and has no rate where only B has one; A setting the same currency and
    day sets A's, B's stays."""
    outcomes, expected = {}, {}
    auth = world.oneup_auth(mode)
    listed = world.call("GET", "/oneup/v1/exchange_rates?currency=CHF&limit=1000", auth)
    outcomes["list"] = (listed.status_code, [row for row in _json(listed) or [] if row.get("rate") == Decimal("7.77")])
    expected["list"] = (200, [])
    asked = world.call("GET", "/oneup/v1/exchange_rates/rate?currency=CHF&date=2024-12-31", auth)
    # 404 until a mode before this one set A's own (1.5): never B's 7.77.
    outcomes["rate"] = (asked.status_code in (200, 404), (_json(asked) or {}).get("rate") in (None, Decimal("1.5")))
    expected["rate"] = (True, True)
    written = world.call("POST", "/oneup/v1/exchange_rates", auth, {**B_RATE, "rate": Decimal("1.5")})
    outcomes["set"] = (written.status_code, (_json(written) or {}).get("rate"), world.leaks(written))
    expected["set"] = (200, 1.5, [])
    assert outcomes == expected
    world.assert_b_unchanged()


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_lists_and_me_show_only_a(world, mode):
    """Lists (also filtered by B's ids) hold none of B's ids; /me is A's."""
    outcomes, expected = {}, {}
    for route in world.routes_of("oneup list"):
        b_ids = world.b_all[route.resource]
        for query in ("?limit=1000", f"?id={b_ids[0]}",
                      f"?id=gte:{min(b_ids)}&id=lte:{max(b_ids)}&limit=1000"):
            response = world.call("GET", route.path + query, world.oneup_auth(mode))
            body = _json(response)
            shown = sorted({row["id"] for row in body} & set(b_ids)) if isinstance(body, list) else body
            outcomes[route.path + query] = (response.status_code, shown, world.leaks(response))
            expected[route.path + query] = (200, [], [])
    for route in world.routes_of("oneup me"):
        response = world.call("GET", route.path, world.oneup_auth(mode))
        company = (_json(response) or {}).get("company", {}).get("id")
        outcomes[route.label] = (response.status_code, company, world.leaks(response))
        expected[route.label] = (200, world.a.id, [])
    assert outcomes == expected
    world.assert_b_unchanged()


@pytest.mark.parametrize("mode", ONEUP_MODES)
def test_oneup_creates_and_edits_cannot_reference_b(world, mode):
    """A's new records, and edits of A's own records, naming one of B's records (a party, contact,
    item, family, unit, tax, payment terms, price family, employee, project, invoice, bank account,
    journal or account) are refused with 404 or 422; B's records never show in the answer."""
    outcomes, expected = {}, {}
    auth = world.oneup_auth(mode)
    updatable = {route.resource for route in world.routes_of("oneup element") if route.method == "PUT"}
    for route in world.routes_of("oneup create"):
        if route.resource in OWN_CREATES:
            body = OWN_CREATES[route.resource](secrets.token_hex(3))
            response = world.call("POST", route.path, auth, body)
            visible = world.call("GET", f"{route.path}/{_json(response)['id']}", auth).status_code \
                if response.status_code == 200 else response.text[:300]
            outcomes[(route.label, "nothing of B")] = (response.status_code, visible, world.leaks(response))
            expected[(route.label, "nothing of B")] = (200, 200, [])
            continue
        base, overrides = REFERENCES[route.resource](world)
        response = world.call("POST", route.path, auth, base)
        outcomes[(route.label, "A's own references")] = (response.status_code, world.leaks(response))
        expected[(route.label, "A's own references")] = (200, [])
        for reference, override in overrides.items():
            calls = [("POST", route.path, {**base, **override})]
            if route.resource in updatable:
                calls.append(("PUT", f"{route.path}/{world.a_records[route.resource]['id']}", override))
            for method, url, body in calls:
                response = world.call(method, url, auth, body)
                refused = response.status_code in (404, 422)
                outcomes[(method, route.resource, reference)] = (
                    "refused" if refused else (response.status_code, response.text[:300]),
                    world.leaks(response))
                expected[(method, route.resource, reference)] = ("refused", [])
    assert outcomes == expected
    world.assert_b_unchanged()


# -- Upflow, Quipu, OneConnect -----------------------------------------------------------------

def test_upflow_lists_show_only_a(world):
    outcomes, expected = {}, {}
    for route in world.routes_of("upflow list"):
        response = world.call("GET", route.path, world.upflow_auth(world.a))
        outcomes[route.label] = (response.status_code, world.leaks(response))
        expected[route.label] = (200, [])
        # Filtered by B's customer (lists that do not filter by customer ignore the parameter).
        b_refs = [world.b_upflow_customer, *(f"external:{customer['externalId']}"
                                             for customer in world.b_upflow.get("customers", [])
                                             if customer.get("externalId"))]
        for ref in b_refs:
            url = f"{route.path}?{urlencode({'customerId': ref})}"
            response = world.call("GET", url, world.upflow_auth(world.a))
            outcomes[url] = (response.status_code in (200, 404), world.leaks(response))
            expected[url] = (True, [])
    assert outcomes == expected
    world.assert_b_unchanged()


# Fits a customer or a contact (Upflow ignores unknown fields).
UPFLOW_EDIT = {"name": "Taken over", "email": "taken@over.example", "firstName": "Taken"}


def test_upflow_element_routes_with_b_refs_are_not_found(world):
    """B's records by id and by external:<externalId>, and B's nested records (contacts), also under
    A's own record: 404 on every Upflow route that names one."""
    outcomes = {}
    for route in world.routes_of("upflow element"):
        params = path_params(route.path)
        b_items, a_item = world.b_upflow[route.resource], world.a_upflow[route.resource][0]
        assert b_items, f"B has no Upflow {route.resource}: add one to the world"
        if len(params) == 1:
            targets = [[ref] for item in b_items for ref in upflow_refs(item)]
        else:
            assert len(params) == 2 and route.sub, f"{route.label}: the matrix does not know {params}"
            b_pairs = [(ref, nested) for item in b_items for ref in upflow_refs(item)
                       for sub in item.get(route.sub) or [] for nested in upflow_refs(sub)]
            assert b_pairs, f"B has no Upflow {route.resource} with {route.sub}: add one to the world"
            targets = [[ref, nested] for ref, nested in b_pairs]
            targets += [[a_item["id"], nested] for _, nested in b_pairs]  # B's contacts under A's customer
        for target in targets:
            url = fill(route.path, dict(zip(params, target)))
            body = UPFLOW_EDIT if route.method in ("POST", "PUT") else None
            response = world.call(route.method, url, world.upflow_auth(world.a), body)
            outcomes[(route.label, url)] = (response.status_code, world.leaks(response))
    assert outcomes == {call: (404, []) for call in outcomes}
    world.assert_b_unchanged()


def _customer_imports(w: World) -> tuple[dict, dict]:
    customers = w.b_upflow.get("customers") or [{"id": w.b_upflow_customer}]
    b_customer = customers[0]["id"]
    b_contacts = [contact["id"] for customer in customers for contact in customer.get("contacts") or []]
    b_external = next((c["externalId"] for c in customers if c.get("externalId")), None)
    refused = {"id": {"id": b_customer, "name": "Taken over"},
               "parent.id": {"name": "A child", "parent": {"id": b_customer}},
               "accountManagerId": {"name": "A managed", "accountManagerId": w.b_upflow_user}}
    own = {"base": {"name": "A import"}}
    if b_contacts:
        own["contacts[].id"] = {"name": "A with contact",
                                "contacts": [{"id": b_contacts[0], "email": "a@a.example"}]}
    if b_external:
        refused["parent.externalId"] = {"name": "A child", "parent": {"externalId": b_external}}
        own["externalId"] = {"externalId": b_external, "name": "A import"}
    for b_field in w.b_upflow.get("custom_fields") or []:
        refused["customFields[].id"] = {"name": "A valued", "customFields": [{"id": b_field["id"], "value": "x"}]}
    return refused, own


def _custom_field_imports(w: World) -> tuple[dict, dict]:
    """A definition names nothing of B's; B's externalId names A's own field (created, then updated)."""
    b_field = w.b_upflow["custom_fields"][0]
    return {}, {"externalId": {"name": "A field", "externalId": b_field["externalId"], "dataType": "SELECT",
                               "options": ["A option"]}}


def _invoice_imports(w: World) -> tuple[dict, dict]:
    def body(**changes) -> dict:
        return {"customId": f"A-{secrets.token_hex(3)}", "issuedAt": "2024-03-01", "dueDate": "2024-03-31",
                "currency": "USD", "grossAmount": 1200, "netAmount": 1000,
                "customer": {"id": w.a_upflow["customers"][0]["id"]}, **changes}

    refused = {"customer.id": body(customer={"id": w.b_upflow_customer}),
               "id": {"id": w.b_upflow["invoices"][0]["id"], "name": "Taken over"}}
    # The last of B's external ids: the customer imports above give A a customer with the first one.
    external = [c["externalId"] for c in w.b_upflow.get("customers") or [] if c.get("externalId")]
    if len(external) > 1:
        refused["customer.externalId"] = body(customer={"externalId": external[-1]})
    return refused, {"base": body()}


def _payment_imports(w: World) -> tuple[dict, dict]:
    def body(**changes) -> dict:
        return {"currency": "USD", "amount": 500, "validatedAt": "2024-03-05",
                "customer": {"id": w.a_upflow["customers"][0]["id"]}, **changes}

    b_invoice = w.b_upflow["invoices"][0]["id"]
    refused = {"customer.id": body(customer={"id": w.b_upflow_customer}),
               "id": {"id": w.b_upflow["payments"][0]["id"], "amount": 1},
               "linkedInvoices[].invoice.id": body(linkedInvoices=[{"invoice": {"id": b_invoice},
                                                                     "linkedAmount": 500}]),
               "linkedInvoices[].id": body(linkedInvoices=[{"id": b_invoice, "amountLinked": 500}])}
    return refused, {"base": body()}


def _credit_note_imports(w: World) -> tuple[dict, dict]:
    def body(**changes) -> dict:
        return {"customId": f"A-CN-{secrets.token_hex(3)}", "currency": "USD", "grossAmount": 100,
                "netAmount": 100, "customer": {"id": w.a_upflow["customers"][0]["id"]}, **changes}

    b_invoice = w.b_upflow["invoices"][0]
    refused = {"customer.id": body(customer={"id": w.b_upflow_customer}),
               "id": {"id": w.b_upflow["credit_notes"][0]["id"], "name": "Taken over"},
               "linkedInvoices[].id": body(linkedInvoices=[{"id": b_invoice["id"], "amountLinked": 100}])}
    if b_invoice.get("externalId"):
        refused["linkedInvoices[].externalId"] = body(linkedInvoices=[{"externalId": b_invoice["externalId"],
                                                                       "amountLinked": 100}])
    return refused, {"base": body()}


def _refund_imports(w: World) -> tuple[dict, dict]:
    def body(**changes) -> dict:
        return {"currency": "USD", "amount": 100, "validatedAt": "2024-03-05",
                "customer": {"id": w.a_upflow["customers"][0]["id"]}, **changes}

    refused = {"customer.id": body(customer={"id": w.b_upflow_customer}),
               "id": {"id": w.b_upflow["refunds"][0]["id"], "amount": 1},
               "linkedPayments[].id": body(linkedPayments=[{"id": w.b_upflow["payments"][0]["id"],
                                                            "amountLinked": 100}]),
               "linkedCreditNotes[].id": body(linkedCreditNotes=[{"id": w.b_upflow["credit_notes"][0]["id"],
                                                                  "amountLinked": 100}])}
    return refused, {"base": body()}


def _reconcile_imports(w: World) -> tuple[dict, dict]:
    """A reconciliation naming any of B's records is refused; B's externalId names A's own (empty) one."""
    b_invoice, b_payment = w.b_upflow["invoices"][0], w.b_upflow["payments"][0]
    refused = {"invoices[].id": {"externalId": "rec-a", "invoices": [{"id": b_invoice["id"], "amountLinked": 1}],
                                 "payments": [{"id": b_payment["id"], "amountLinked": 1}]},
               "creditNotes[].id": {"externalId": "rec-a", "creditNotes": [
                   {"id": w.b_upflow["credit_notes"][0]["id"], "amountLinked": 1}],
                   "refunds": [{"id": w.b_upflow["refunds"][0]["id"], "amountLinked": 1}]}}
    return refused, {"externalId": {"externalId": f"rec-{B_EXTERNAL}"}}


# POST routes of Upflow (imports): (bodies naming B's records, refused with 400 or 404; bodies A owns,
# accepted as A's own records). A new import route fails the test until it has a recipe here.
UPFLOW_IMPORTS: dict[str, Callable[[World], tuple[dict, dict]]] = {
    "/upflow/v1/custom_field": _custom_field_imports,
    "/upflow/v1/custom_fields": _custom_field_imports,
    "/upflow/v1/customers": _customer_imports,
    "/upflow/v1/invoices": _invoice_imports,
    "/upflow/v1/payments": _payment_imports,
    "/upflow/v1/credit_notes": _credit_note_imports,
    "/upflow/v1/refunds": _refund_imports,
    "/upflow/v1/reconcile": _reconcile_imports,
}


def test_upflow_imports_cannot_reference_b(world):
    """Imports naming B's customer (to update it, as parent, as an invoice's or a payment's customer),
    B's invoice (to update it, to settle it), B's payment or B's user are refused; B's externalId or
    B's contact id make new records of A's own."""
    outcomes, expected = {}, {}
    for route in world.routes_of("upflow create"):
        assert route.path in UPFLOW_IMPORTS, f"no recipe for {route.label}: add one to UPFLOW_IMPORTS"
        refused, own = UPFLOW_IMPORTS[route.path](world)
        for name, body in refused.items():
            response = world.call("POST", route.path, world.upflow_auth(world.a), body)
            refused_now = response.status_code in (400, 404, 422)
            answer = "refused" if refused_now else (response.status_code, response.text[:300])
            outcomes[(route.path, name)] = (answer, world.leaks(response))
            expected[(route.path, name)] = ("refused", [])
        for name, body in own.items():
            response = world.call("POST", route.path, world.upflow_auth(world.a), body)
            ids = set(UUID.findall(response.text))
            status = OK if 200 <= response.status_code < 300 else response.status_code  # 201: a new definition
            outcomes[(route.path, name)] = (status, sorted(ids & world.fingerprints), world.leaks(response))
            expected[(route.path, name)] = (OK, [], [])
    assert outcomes == expected
    world.assert_b_unchanged()


def test_oneconnect_integration_of_b_is_not_found(world):
    """B's integration with A's token, alone (A's secret) or with B's secret, in either header
    spelling: 400 SMB_NOTFOUND, and B's integration stays active."""
    token = {"Authorization": f"Bearer {world.a_tokens['oneconnect']}"}
    outcomes, expected = {}, {}
    for route in (*world.routes_of("oneconnect integration"), *world.routes_of("oneconnect document")):
        url = fill(route.path, {"integration_id": world.b.oneconnect["integration_id"],
                                "document_id": world.b_oneconnect_document})
        for whose, secret in (("A's secret", world.a.oneconnect["integration_secret"]),
                              ("B's secret", world.b.oneconnect["integration_secret"])):
            for header in ("x-oneconnect-api-key", "x-one-connect-api-key"):
                response = world.call(route.method, url, {**token, header: secret})
                body = _json(response) or {}
                outcomes[(route.label, whose, header)] = (response.status_code, body.get("errorCode"),
                                                          world.leaks(response))
                expected[(route.label, whose, header)] = (400, "SMB_NOTFOUND", [])
    assert outcomes == expected
    world.assert_b_unchanged()


def _oneconnect_document(client, org: NewOrganization) -> str:
    """A document the organization deposits through OneConnect (Waiting: it has no entries)."""
    token = client.post("/oneconnect/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": org.oneconnect["client_id"],
        "client_secret": org.oneconnect["client_secret"]}).json()["access_token"]
    response = client.post(f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}/purchase-invoices",
                           headers={"Authorization": f"Bearer {token}",
                                    "x-oneconnect-api-key": org.oneconnect["integration_secret"]},
                           data={"filename": f"{MARKER}.pdf", "comment": f"{MARKER} comment"},
                           files={"file": ("invoice.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert response.status_code == 200, response.text
    return response.json()["documentId"]


def test_oneconnect_document_of_b_is_not_found_through_as_integration(world):
    """B's document named through A's own integration, with A's token and secret, on every document
    route (read, book, refuse): 404 DOCUMENT_NOT_FOUND, and B's document stays Waiting."""
    headers = {"Authorization": f"Bearer {world.a_tokens['oneconnect']}",
               "x-oneconnect-api-key": world.a.oneconnect["integration_secret"]}
    bodies = {"entries": {"data": {"lines": []}}, "refuse": {"reason": "not yours"}}
    outcomes, expected = {}, {}
    for route in world.routes_of("oneconnect document"):
        url = fill(route.path, {"integration_id": world.a.oneconnect["integration_id"],
                                "document_id": world.b_oneconnect_document})
        body = bodies.get(route.path.rsplit("/", 1)[-1]) if route.method == "POST" else None
        response = world.call(route.method, url, headers, body)
        outcomes[route.label] = (response.status_code, (_json(response) or {}).get("errorCode"),
                                 world.leaks(response))
        expected[route.label] = (404, "DOCUMENT_NOT_FOUND", [])
    assert len(outcomes) == 3
    assert outcomes == expected
    world.assert_b_unchanged()


def test_halves_of_a_and_b_credentials_open_nothing(world):
    """A's identifier with B's secret, or B's identifier with A's secret, for every pair."""
    a, b = world.a, world.b

    def login_page() -> str:
        return _csrf(world.client.get("/oneup/oauth2/login").text)

    attempts: dict[str, Callable[[str, str], Any]] = {
        "OneUp Basic": lambda i, s: world.call("GET", "/oneup/v1/me", {"Authorization": basic(i, s)}),
        "Upflow headers": lambda i, s: world.call("GET", "/upflow/v1/users",
                                                  {"X-Api-Key": i, "X-Api-Secret": s}),
        "Quipu token": lambda i, s: world.client.post("/quipu/oauth/token", auth=(i, s), data={
            "grant_type": "client_credentials", "scope": "ecommerce"}),
        "OneConnect token": lambda i, s: world.client.post("/oneconnect/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": i, "client_secret": s}),
        "OneConnect integration": lambda i, s: world.call("GET", f"/oneconnect/v1/integrations/{i}", {
            "Authorization": f"Bearer {world.a_tokens['oneconnect']}", "x-oneconnect-api-key": s}),
        "web login": lambda i, s: world.client.post("/oneup/oauth2/login", data={
            "email": i, "password": s, "csrf_token": login_page(), "next": ""}, follow_redirects=False),
    }
    pairs = {
        "OneUp Basic": ((a.oneup.email, a.oneup.api_key), (b.oneup.email, b.oneup.api_key)),
        "Upflow headers": ((a.upflow["api_key"], a.upflow["api_secret"]),
                           (b.upflow["api_key"], b.upflow["api_secret"])),
        "Quipu token": ((a.quipu["app_id"], a.quipu["app_secret"]),
                        (b.quipu["app_id"], b.quipu["app_secret"])),
        "OneConnect token": ((a.oneconnect["client_id"], a.oneconnect["client_secret"]),
                             (b.oneconnect["client_id"], b.oneconnect["client_secret"])),
        "OneConnect integration": ((a.oneconnect["integration_id"], a.oneconnect["integration_secret"]),
                                   (b.oneconnect["integration_id"], b.oneconnect["integration_secret"])),
        "web login": ((a.login.email, a.login.password), (b.login.email, b.login.password)),
    }
    outcomes, expected = {}, {}
    for name, ((a_id, a_secret), (b_id, b_secret)) in pairs.items():
        for halves, (identifier, secret) in (("A's identifier, B's secret", (a_id, b_secret)),
                                             ("B's identifier, A's secret", (b_id, a_secret))):
            response = attempts[name](identifier, secret)
            outcomes[(name, halves)] = (response.status_code, world.leaks(response))
            # The integration id in the path names B's integration in the second case: not found (400 SMB_NOTFOUND).
            b_integration = name == "OneConnect integration" and identifier == b_id
            expected[(name, halves)] = (400 if b_integration else 401, [])
    world.client.cookies.clear()
    assert outcomes == expected
    world.assert_b_unchanged()


# -- no credential opens another dialect -------------------------------------------------------

def a_request(world: World, route: Route) -> tuple[str, Any]:
    """The URL and body of a call to a gated route on A's own records: only the credential can fail."""
    values = {"name": "trial_balance", "owner_slug": world.a.slug,
              "integration_id": world.a.oneconnect["integration_id"], "document_id": str(uuid.uuid4())}
    if route.resource and route.dialect == "oneup":
        values["element"] = world.a_id(route.resource)
    path = route.path
    if route.rule == "upflow element":  # A's first record, and its first nested one
        item = world.a_upflow[route.resource][0]
        refs = [item["id"], *([item[route.sub][0]["id"]] if route.sub and item.get(route.sub) else [])]
        values.update(zip(path_params(path), refs))
    if route.dialect == "quipu" and "{element}" in route.path:
        values["element"] = world.a_quipu_id(route.resource)
    if route.rule == "upflow pdf upload":
        values["ref"] = world.a_documents[route.resource]
    path = fill(path, values)
    if route.rule == "oneup bulk delete":
        path += f"?ids={world.a_id(route.resource)}"
    return path, ({} if route.method in ("POST", "PUT") else None)


def presented(world: World, credential: Credential, route: Route, form: str) -> dict[str, str] | None:
    """A credential's headers for a route. On OneConnect the other half comes from A's valid pair, so
    that the credential under test is the only thing wrong: an Authorization header gets A's
    integration secret beside it, an integration secret header gets A's JWT."""
    headers = presentation(credential, form)
    if headers is None or route.dialect != "oneconnect":
        return headers
    if form in (BEARER, BASIC):
        return {**headers, "x-oneconnect-api-key": world.a.oneconnect["integration_secret"]}
    if form == INTEGRATION_HEADER:
        return {**headers, "Authorization": f"Bearer {world.a_tokens['oneconnect']}"}
    return headers


def test_every_credential_kind_on_every_route_of_the_other_dialects(world):
    """Table 1: every credential of A sent the way each route's dialect expects one (Basic on OneUp,
    X-Api-Key and X-Api-Secret on Upflow, Bearer on Quipu and OneConnect; tokens as Bearer) on every
    gated route, with A's own ids: 401 unless the credential is that dialect's own."""
    outcomes, expected = {}, {}
    for route in (route for rule in GATED for route in world.routes_of(rule)):
        url, body = a_request(world, route)
        for credential in world.credentials:
            form = SCHEME[route.dialect][0 if credential.identifier is not None else 1]
            if credential.native == (route.dialect, form):
                continue  # the credential's own dialect: the isolation tests above use it
            response = world.call(route.method, url, presented(world, credential, route, form), body)
            outcomes[(route.label, credential.kind)] = (response.status_code, world.leaks(response))
            expected[(route.label, credential.kind)] = (401, [])
    assert len(outcomes) > 500
    assert outcomes == expected
    world.assert_b_unchanged()


def _representatives(world: World) -> list[Route]:
    """Per dialect, its first gated GET route and its first gated route of another method (table 1
    already sends every credential to every route)."""
    chosen: dict[tuple[str | None, bool], Route] = {}
    for route in (route for rule in GATED for route in world.routes_of(rule)):
        chosen.setdefault((route.dialect, route.method == "GET"), route)
    return list(chosen.values())


def test_every_presentation_of_every_credential(world):
    """Table 2: every credential in every form (HTTP Basic, Bearer, X-Api-Key/X-Api-Secret,
    x-oneconnect-api-key) on a read and a write route of every dialect: 401, except a credential in
    its own dialect's form on a GET (2xx: the credentials under test are good ones). The consent
    page ignores API credentials: GET sends to the sign-in page, POST without a session is refused."""
    outcomes, expected = {}, {}
    for route in _representatives(world):
        url, body = a_request(world, route)
        for credential in world.credentials:
            for form in FORMS:
                headers = presented(world, credential, route, form)
                if headers is None:
                    continue
                native = credential.native == (route.dialect, form)
                if native and route.method != "GET":
                    continue
                response = world.call(route.method, url, headers, body)
                status = OK if 200 <= response.status_code < 300 else response.status_code
                outcomes[(route.label, credential.kind, form)] = (status, world.leaks(response))
                expected[(route.label, credential.kind, form)] = (OK if native else 401, [])
    params = {"response_type": "code", "client_id": world.oauth.client_id, "redirect_uri": REDIRECT,
              "scope": "offline_access", "state": "s"}
    for route in world.routes_of("consent page"):
        for credential in world.credentials:
            for form in FORMS:
                headers = presentation(credential, form)
                if headers is None:
                    continue
                if route.method == "GET":
                    response = world.client.get(route.path, params=params, headers=headers,
                                                follow_redirects=False)
                    where = response.headers.get("location", "").split("?")[0]
                    outcomes[(route.label, credential.kind, form)] = (response.status_code, where)
                    expected[(route.label, credential.kind, form)] = (303, "/oneup/oauth2/login")
                else:
                    response = world.client.post(route.path, data={**params, "decision": "allow"},
                                                 headers=headers, follow_redirects=False)
                    outcomes[(route.label, credential.kind, form)] = (response.status_code,
                                                                      response.headers.get("location"))
                    expected[(route.label, credential.kind, form)] = (400, None)
    assert outcomes == expected
    world.assert_b_unchanged()


def test_no_credential_of_another_kind_gets_a_token_or_a_sign_in(world):
    """Table 3: at each token endpoint and at the sign-in form, every other credential of A (in the
    body and as HTTP Basic; tokens as Bearer; every secret as the web login's password) is refused."""
    refresh = {"grant_type": "refresh_token", "refresh_token": world.a_tokens["oneup refresh"]}
    # path: (its own credential kind, the grant, the form fields of the credential)
    endpoints: dict[str, tuple[str, dict, list[str]]] = {
        "/quipu/oauth/token": ("Quipu app id and secret",
                               {"grant_type": "client_credentials", "scope": "ecommerce"},
                               ["client_id", "client_secret"]),
        "/oneconnect/oauth2/token": ("OneConnect client id and secret", {"grant_type": "client_credentials"},
                                     ["client_id", "client_secret"]),
        "/oneup/oauth2/token": ("OneUp OAuth2 client id and secret", refresh, ["client_id", "client_secret"]),
        "/oneup/oauth2/login": ("web login email and password", {"next": ""}, ["email", "password"]),
    }
    outcomes, expected = {}, {}
    for route in world.routes_of("token endpoint"):
        assert route.path in endpoints, f"no recipe for the token endpoint {route.path}"
        own, grant, (id_field, secret_field) = endpoints[route.path]
        for credential in world.credentials:
            if credential.kind == own:
                continue
            tries: dict[str, tuple[dict, dict]] = {}  # how: (form fields, headers)
            if credential.identifier is not None:
                tries["in the body"] = ({id_field: credential.identifier,
                                         secret_field: credential.secret}, {})
                tries["as HTTP Basic"] = ({}, presentation(credential, BASIC))
            else:
                tries["as Bearer"] = ({}, {"Authorization": f"Bearer {credential.secret}"})
            if route.path == "/oneup/oauth2/login":
                tries = {how: sent for how, sent in tries.items() if how == "in the body"}
                tries["as A's web password"] = ({id_field: world.a.login.email,
                                                 secret_field: credential.secret}, {})
            for how, (fields, headers) in tries.items():
                if route.path == "/oneup/oauth2/login":
                    fields = {**fields, "csrf_token": _csrf(world.client.get("/oneup/oauth2/login").text)}
                response = world.client.post(route.path, data={**grant, **fields}, headers=headers,
                                             follow_redirects=False)
                outcomes[(route.path, credential.kind, how)] = (response.status_code, world.leaks(response))
                expected[(route.path, credential.kind, how)] = (401, [])
    world.client.cookies.clear()
    assert outcomes == expected
    world.assert_b_unchanged()


def test_public_routes_hold_no_organization_data(world):
    """Documentation, OpenAPI schemas, the JWKS, the index, the health check and the sign-in page need
    no credential and show nothing of any organization."""
    outcomes = {}
    for route in world.routes_of("public"):
        response = world.client.request(route.method, route.path, follow_redirects=False)
        outcomes[route.label] = (response.status_code < 400, world.leaks(response))
    assert outcomes == {label: (True, []) for label in outcomes}
    world.assert_b_unchanged()


# -- Upflow PDFs and signed links --------------------------------------------------------------

PDF_OF_B = b"%PDF-1.7\n%" + MARKER.encode() + b"\n%%EOF\n"  # a leak of B's PDF shows the marker
A_PDF = b"%PDF-1.7\n%Alpha\n%%EOF\n"


def _upflow_documents(world: World) -> None:
    """An invoice and a credit note of A and of B imported with external ids (where Upflow imports
    them), and a PDF uploaded for B's invoice: what the PDF routes and the signed links are aimed at.
    A's external ids differ from B's, so that `external:<B's id>` names nothing in A's book."""
    for resource in ("invoices", "credit_notes"):
        if not world.has_route("POST", f"/upflow/v1/{resource}"):
            continue
        for org, who, marker in ((world.a, "a", "Alpha"), (world.b, "b", MARKER)):
            with open_book(world.context.database, org.id) as book:
                customer = book.parties.find(is_customer=True).uuid
            body = {"externalId": f"{who}-{resource}-{B_EXTERNAL}", "customId": f"{marker}-{resource[:2]}",
                    "issuedAt": "2024-03-01", "dueDate": "2024-03-31", "currency": "USD", "netAmount": 1000,
                    "grossAmount": 1000, "customer": {"id": customer}}
            response = world.call("POST", f"/upflow/v1/{resource}", world.upflow_auth(org), body)
            assert response.status_code == 200, (resource, response.text)
            record = {"id": response.json()["id"], "externalId": body["externalId"]}
            if org is world.a:
                world.a_documents[resource] = record["id"]
            else:
                world.b_documents[resource] = [record]
    if world.has_route("POST", "/upflow/v1/refunds"):  # a refund of each, with an external id
        for org, who in ((world.a, "a"), (world.b, "b")):
            with open_book(world.context.database, org.id) as book:
                customer = book.parties.find(is_customer=True).uuid
            body = {"externalId": f"{who}-refund-{B_EXTERNAL}", "currency": "USD", "amount": 300,
                    "validatedAt": "2024-03-02", "customer": {"id": customer}}
            response = world.call("POST", "/upflow/v1/refunds", world.upflow_auth(org), body)
            assert response.status_code == 200, response.text
    if world.b_documents.get("invoices"):
        for org, invoice, pdf in ((world.a, world.a_documents["invoices"], A_PDF),
                                  (world.b, world.b_documents["invoices"][0]["id"], PDF_OF_B)):
            uploaded = world.client.post(f"/upflow/v1/invoices/{invoice}/pdf", headers=world.upflow_auth(org),
                                         files={"file": ("invoice.pdf", pdf, "application/pdf")})
            assert uploaded.status_code == 204, uploaded.text


def _b_files(world: World) -> dict[str, bytes]:
    root = Path(world.context.settings.files_dir) / world.b.uuid
    return {str(path): path.read_bytes() for path in root.rglob("*") if path.is_file()} if root.exists() else {}


def test_upflow_pdf_uploads_on_b_documents_are_not_found(world):
    """A PDF (a real one, multipart or base64) sent by A to B's invoice or credit note, by id or by
    external:<externalId>, through either route: 404, and B's book and files are unchanged. The same
    PDF on A's own documents is accepted, so the refusals are B's."""
    b_files = _b_files(world)
    assert PDF_OF_B in b_files.values()
    sends = {
        "multipart": lambda url: world.client.post(url, headers=world.upflow_auth(world.a),
                                                   files={"file": ("a.pdf", A_PDF, "application/pdf")}),
        "base64": lambda url: world.call("POST", url, world.upflow_auth(world.a),
                                         {"data": base64.b64encode(A_PDF).decode()}),
    }
    b_documents = [record for records in world.b_documents.values() for record in records]
    outcomes, expected = {}, {}
    for route in world.routes_of("upflow pdf upload"):
        assert world.b_documents.get(route.resource), f"B has no Upflow {route.resource}: see _upflow_documents"
        for record in b_documents:  # B's documents of the route's kind, and of the other kind
            for ref in upflow_refs(record):
                url = fill(route.path, {"ref": ref})
                for how, send in sends.items():
                    response = send(url)
                    outcomes[(url, how)] = (response.status_code, world.leaks(response))
                    expected[(url, how)] = (404, [])
        own = fill(route.path, {"ref": world.a_documents[route.resource]})
        outcomes[(own, "A's own")] = (sends["multipart"](own).status_code, [])
        expected[(own, "A's own")] = (204, [])
    assert outcomes == expected
    assert _b_files(world) == b_files
    world.assert_b_unchanged()


def test_signed_links_open_nothing_of_b(world):
    """The public routes that take a signed token: A's own links open A's records only (B's invoice
    under A's portal link is not found); tokens naming B's organization, customer or document that
    the server did not sign, or signed for another purpose, or expired, show nothing of B."""
    from comptoir.dialects.upflow.pdfs import pdf_url
    from comptoir.services.access import links
    from comptoir.services.reporting import portal

    settings = world.context.settings
    secret = settings.session_secret()
    a_customer = world.a_upflow["customers"][0]["id"]
    answer = world.call("POST", f"/upflow/v1/customers/{a_customer}/portal", world.upflow_auth(world.a), {})
    assert answer.status_code == 200, answer.text
    a_portal = urlparse(answer.json()["url"]).path.rsplit("/", 1)[1]
    b_invoice = world.b_documents["invoices"][0]["id"]
    b_customer = world.b_upflow_customer
    a_invoice = world.a_documents["invoices"]
    with open_book(world.context.database, world.a.id) as book:
        a_pdf_link = urlparse(pdf_url(settings, book.documents.find(uuid=a_invoice))).path.rsplit("/", 1)[1]
    b_portal = {"o": world.b.id, "c": b_customer, "f": ""}
    b_pdf = {"o": world.b.id, "d": b_invoice}
    forged = {  # name: (portal token, pdfUrl token)
        "another secret": (links.sign("x" * 64, portal.PURPOSE, b_portal, 2**40),
                           links.sign("x" * 64, "comptoir.upflow.pdf", b_pdf, 2**40)),
        "A's signature on B's claims": (
            links.sign("x", portal.PURPOSE, b_portal, 2**40).rsplit(".", 1)[0] + "." + a_portal.rsplit(".", 1)[1],
            links.sign("x", "comptoir.upflow.pdf", b_pdf, 2**40).rsplit(".", 1)[0] + "." + a_pdf_link.rsplit(".", 1)[1]),
        "purposes swapped": (links.sign(secret, "comptoir.upflow.pdf", b_portal, 2**40),
                             links.sign(secret, portal.PURPOSE, b_pdf, 2**40)),
        "expired": (portal.issue(secret, world.b.id, b_customer, 60, (), now=0),
                    links.sign(secret, "comptoir.upflow.pdf", b_pdf, 60)),
        "garbage": ("not-a-token", "not-a-token"),
    }
    outcomes, expected = {}, {}
    for route in world.routes_of("signed link"):
        pdf_route = route.path.startswith("/upflow/")
        cases = {name: (pdf if pdf_route else token, b_invoice) for name, (token, pdf) in forged.items()}
        if pdf_route:
            cases["A's own link"] = (a_pdf_link, None)
        else:
            if "invoice_uuid" in route.path:
                cases["A's own link, B's invoice"] = (a_portal, b_invoice)
            else:
                cases["A's own link"] = (a_portal, None)
        for name, (token, invoice) in cases.items():
            url = fill(route.path, {"token": token, "invoice_uuid": invoice or a_invoice})
            response = world.client.request(route.method, url, follow_redirects=False)
            outcomes[(route.label, name)] = (response.status_code < 400, world.leaks(response))
            expected[(route.label, name)] = (name == "A's own link", [])
    assert len(outcomes) >= 15
    assert outcomes == expected
    world.assert_b_unchanged()


# -- Quipu: B's records, B's slug, B's signed links ---------------------------------------------

QUIPU_NOT_FOUND = "Record not found"
QUIPU_MEDIA = "application/vnd.quipu.v1+json"


def _quipu_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": QUIPU_MEDIA, "Content-Type": QUIPU_MEDIA}


def _quipu_token(client: TestClient, org: NewOrganization) -> str:
    response = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                           data={"grant_type": "client_credentials", "scope": "ecommerce"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _link(type_: str, row_id: Any) -> dict:
    return {"data": {"id": str(row_id), "type": type_}}


def _quipu_item(concept: str, **relationships) -> dict:
    return {"type": "book_entry_items", "attributes": {"concept": concept, "unitary_amount": "10.00", "quantity": 1,
                                                       "vat_percent": 21},
            **({"relationships": relationships} if relationships else {})}


def _quipu_records(client: TestClient, org: NewOrganization, marker: str) -> dict[str, list[dict]]:
    """A record of every Quipu resource, made through Quipu (the marker in every name), then every
    list as the organization sees it: {resource: [rendered records]}."""
    headers = _quipu_headers(_quipu_token(client, org))

    def create(path: str, attributes: dict, relationships: dict | None = None) -> dict:
        data = {"type": path, "attributes": attributes, **({"relationships": relationships} if relationships else {})}
        response = client.post(f"/quipu/{path}", content=simplejson.dumps({"data": data}), headers=headers)
        assert response.status_code == 201, (path, response.text)
        return response.json()["data"]

    contact = create("contacts", {"name": f"{marker} contact", "tax_id": f"{marker}-tax"})
    series = create("numbering_series", {"prefix": f"{marker}-"})
    category = client.get("/quipu/accounting_categories?filter[kind]=income", headers=headers).json()["data"][0]
    subcategory = create("accounting_subcategories", {"name": f"{marker} sub", "suffix": "9"},
                         {"accounting_category": _link("accounting_categories", category["id"])})
    create("analytic_categories", {"name": f"{marker} analytic"})
    invoice = create("invoices", {"kind": "income", "issue_date": "2024-03-01", "notes": marker}, {
        "contact": _link("contacts", contact["id"]), "numeration": _link("numbering_series", series["id"]),
        "accounting_subcategory": _link("accounting_subcategories", subcategory["id"]),
        "items": {"data": [_quipu_item(f"{marker} work")]}})
    create("invoices", {"kind": "expenses", "issue_date": "2024-03-02"}, {"contact": _link("contacts", contact["id"])})
    create("invoices", {}, {"amended_invoice": _link("invoices", invoice["id"])})
    for path in ("simplified_invoices", "additional_incomes", "tickets"):
        create(path, {"kind": "income", "issue_date": "2024-03-03", "recipient_name": f"{marker} walk-in"},
               {"items": {"data": [_quipu_item(f"{marker} {path}")]}})
    create("paysheets", {"kind": "expenses", "issue_date": "2024-03-31", "net_pay": "900"},
           {"contact": _link("contacts", contact["id"])})
    uploaded = client.post("/quipu/attachments", headers={"Authorization": headers["Authorization"]},
                           files={"file": (f"{marker}.png", b"\x89PNG\r\n\x1a\n" + marker.encode(), "image/png")},
                           data={"book_entry_id": invoice["id"]})
    assert uploaded.status_code == 201, uploaded.text
    records = {"attachments": [uploaded.json()["data"]]}
    for path in ("contacts", "invoices", "simplified_invoices", "additional_incomes", "tickets", "paysheets",
                 "book_entries", "numbering_series", "accounting_categories", "accounting_subcategories",
                 "analytic_categories", "users"):
        response = client.get(f"/quipu/{path}?page[size]=100", headers=headers)
        assert response.status_code == 200, (path, response.text)
        records[path] = response.json()["data"]
    return records


def _quipu_keys(records: dict[str, list[dict]]) -> set[tuple[str, str]]:
    return {(row["type"], row["id"]) for rows in records.values() for row in rows}


def _quipu_edit(resource: str) -> dict:
    """A PATCH body the owner could send."""
    attributes = {"contacts": {"name": "Taken over"}, "numbering_series": {"default": True},
                  "accounting_subcategories": {"name": "Taken over"}, "analytic_categories": {"name": "Taken over"},
                  "paysheets": {"net_pay": "1"}}.get(resource, {"notes": "Taken over"})
    return {"data": {"type": resource, "attributes": attributes}}


def _quipu_send(world: World, method: str, url: str, body: Any) -> Any:
    headers = _quipu_headers(world.a_tokens["quipu"])
    content = simplejson.dumps(body) if body is not None else None
    return world.client.request(method, url, content=content, headers=headers)


def _quipu_element_url(world: World, route: Route, slug: str, element: Any) -> str:
    return fill(route.path, {"owner_slug": slug, "element": element})


def test_quipu_lists_show_only_a(world):
    outcomes, expected = {}, {}
    b_keys = _quipu_keys(world.b_quipu)
    for route in world.routes_of("quipu list"):
        response = _quipu_send(world, "GET", route.path, None)
        data = (_json(response) or {}).get("data", [])
        shown = sorted({(row["type"], row["id"]) for row in data} & b_keys)
        outcomes[route.label] = (response.status_code, bool(data), shown, world.leaks(response))
        expected[route.label] = (200, True, [], [])
    assert outcomes == expected
    world.assert_b_unchanged()


def test_quipu_owner_slug_of_b_is_forbidden_and_b_ids_under_a_slug_are_not_found(world):
    """Every /{owner_slug}/... route, every method: B's slug or an unknown one is 403 (aimed at A's own
    records, so only the slug is wrong); A's slug with B's records is 404; A's slug on a list is 200."""
    outcomes, expected = {}, {}
    b_keys = _quipu_keys(world.b_quipu)
    for route in world.routes_of("quipu owner"):
        body = _quipu_edit(route.resource) if route.method in ("PATCH", "PUT", "POST") else None
        has_element = "{element}" in route.path
        for slug in (world.b.slug, "no-such-owner"):
            url = _quipu_element_url(world, route, slug, world.a_quipu_id(route.resource) if has_element else 0)
            response = _quipu_send(world, route.method, url, body)
            errors = (_json(response) or {}).get("errors") or [{}]
            outcomes[(route.label, slug)] = (response.status_code, errors[0].get("detail"), world.leaks(response))
            expected[(route.label, slug)] = (403, QUIPU_FORBIDDEN, [])
        if has_element:
            url = _quipu_element_url(world, route, world.a.slug, world.b_quipu_id(route.resource))
            response = _quipu_send(world, route.method, url, body)
            errors = (_json(response) or {}).get("errors") or [{}]
            outcomes[(route.label, "B's record")] = (response.status_code, errors[0].get("detail"),
                                                    world.leaks(response))
            expected[(route.label, "B's record")] = (404, QUIPU_NOT_FOUND, [])
        elif route.method == "GET":
            response = _quipu_send(world, "GET", fill(route.path, {"owner_slug": world.a.slug}), None)
            data = (_json(response) or {}).get("data", [])
            shown = sorted({(row["type"], row["id"]) for row in data} & b_keys)
            outcomes[(route.label, "A's slug")] = (response.status_code, bool(data), shown, world.leaks(response))
            expected[(route.label, "A's slug")] = (200, True, [], [])
    assert outcomes == expected
    world.assert_b_unchanged()


def test_quipu_element_routes_with_b_ids_are_not_found(world):
    outcomes, expected = {}, {}
    for route in (*world.routes_of("quipu element"), *world.routes_of("quipu element action")):
        body = _quipu_edit(route.resource) if route.method in ("PATCH", "PUT") else None
        for record in world.b_quipu[route.resource][:2]:
            response = _quipu_send(world, route.method, fill(route.path, {"element": record["id"]}), body)
            errors = (_json(response) or {}).get("errors") or [{}]
            outcomes[(route.label, record["id"])] = (response.status_code, errors[0].get("detail"),
                                                     world.leaks(response))
            expected[(route.label, record["id"])] = (404, QUIPU_NOT_FOUND, [])
    assert outcomes == expected
    world.assert_b_unchanged()


def _quipu_writes(w: World) -> dict[str, tuple[dict, dict[str, dict]]]:
    """Per resource: (the body of a valid record of A, {reference: the relationships naming B's})."""
    def b(resource: str) -> str:
        return w.b_quipu_id(resource)

    def a(resource: str) -> str:
        return w.a_quipu_id(resource)

    def entry(kind: str = "income") -> dict:
        return {"kind": kind, "issue_date": date.today().isoformat()}  # numbers follow dates (issue 17 §7)

    invoice_refs = {
        "contact": {"contact": _link("contacts", b("contacts"))},
        "numeration": {"contact": _link("contacts", a("contacts")), "numeration": _link("numbering_series",
                                                                                        b("numbering_series"))},
        "accounting_category": {"contact": _link("contacts", a("contacts")),
                                "accounting_category": _link("accounting_categories", b("accounting_categories"))},
        "accounting_subcategory": {"contact": _link("contacts", a("contacts")), "accounting_subcategory": _link(
            "accounting_subcategories", b("accounting_subcategories"))},
        "items[].accounting_category": {"contact": _link("contacts", a("contacts")), "items": {"data": [_quipu_item(
            "x", accounting_category=_link("accounting_categories", b("accounting_categories")))]}},
        "amended_invoice": {"amended_invoice": _link("invoices", b("invoices"))},
    }
    receipt_refs = {name: refs for name, refs in invoice_refs.items() if name != "amended_invoice"}
    return {
        "contacts": ({"attributes": {"name": "A ref"}}, {
            "income_category": {"income_category": _link("accounting_categories", b("accounting_categories"))},
            "expense_subcategory": {"expense_subcategory": _link("accounting_subcategories",
                                                                 b("accounting_subcategories"))}}),
        "invoices": ({"attributes": entry(), "relationships": {"contact": _link("contacts", a("contacts"))}},
                     invoice_refs),
        **{path: ({"attributes": entry(), "relationships": {}}, receipt_refs)
           for path in ("simplified_invoices", "additional_incomes", "tickets")},
        "paysheets": ({"attributes": entry("expenses"), "relationships": {"contact": _link("contacts", a("contacts"))}}, {
            "contact": {"contact": _link("contacts", b("contacts"))},
            "numeration": {"contact": _link("contacts", a("contacts")),
                           "numeration": _link("numbering_series", b("numbering_series"))},
            "accounting_subcategory": {"contact": _link("contacts", a("contacts")), "accounting_subcategory": _link(
                "accounting_subcategories", b("accounting_subcategories"))}}),
        "numbering_series": ({"attributes": {"prefix": f"A-{secrets.token_hex(3)}"}}, {}),
        "accounting_subcategories": (
            {"attributes": {"name": "A sub", "suffix": secrets.token_hex(2)},
             "relationships": {"accounting_category": _link("accounting_categories", a("accounting_categories"))}},
            {"accounting_category": {"accounting_category": _link("accounting_categories",
                                                                   b("accounting_categories"))}}),
        "analytic_categories": ({"attributes": {"name": "A analytic"}}, {
            "parent": {"parent": _link("analytic_categories", b("analytic_categories"))}}),
    }


def test_quipu_writes_cannot_reference_b(world):
    """New records of A naming B's records (contact, series, categories, the invoice amended, a parent)
    are refused, and so are edits of A's own records naming them; the same bodies without B's
    references are accepted. An attachment to B's book entry is refused."""
    writes = _quipu_writes(world)
    outcomes, expected = {}, {}
    for route in world.routes_of("quipu create"):
        if route.resource == "attachments":
            for whose, entry_id in (("B's", world.b_quipu_id("invoices")), ("A's", world.a_quipu_id("invoices"))):
                response = world.client.post(route.path, headers={"Authorization": f"Bearer {world.a_tokens['quipu']}"},
                                             files={"file": ("a.png", b"\x89PNG\r\n\x1a\nA", "image/png")},
                                             data={"book_entry_id": entry_id})
                outcomes[(route.label, whose)] = (response.status_code, world.leaks(response))
                expected[(route.label, whose)] = (422 if whose == "B's" else 201, [])
            continue
        assert route.resource in writes, f"no recipe for {route.label}: add one to _quipu_writes"
        own, references = writes[route.resource]
        response = _quipu_send(world, "POST", route.path, {"data": {"type": route.resource, **own}})
        outcomes[(route.label, "own")] = (response.status_code, world.leaks(response))
        expected[(route.label, "own")] = (201, [])
        for name, relationships in references.items():
            body = {"data": {"type": route.resource, "attributes": own.get("attributes", {}),
                             "relationships": relationships}}
            created = _quipu_send(world, "POST", route.path, body)
            edited = _quipu_send(world, "PATCH", f"{route.path}/{world.a_quipu_id(route.resource)}",
                                 {"data": {"type": route.resource, "relationships": relationships}})
            for verb, response in (("POST", created), ("PATCH", edited)):
                refused = response.status_code in (404, 422)
                outcomes[(route.label, name, verb)] = (refused or (response.status_code, response.text[:200]),
                                                       world.leaks(response))
                expected[(route.label, name, verb)] = (True, [])
    assert outcomes == expected
    world.assert_b_unchanged()


def test_quipu_signed_links_open_only_their_own_record(world):
    """The PDF and attachment links need no token but their signature: A's link names A's record only;
    B's ids with A's link, a forged or missing token, are all 404 (additional incomes have no PDF)."""
    outcomes, expected = {}, {}
    for route in world.routes_of("quipu signed link"):
        a_record = world.a_quipu[route.resource][0]
        url_attribute = "url" if route.resource == "attachments" else "ephemeral_open_download_pdf_url"
        link = a_record["attributes"].get(url_attribute)
        token = link.split("token=")[1] if link else "none"
        cases = {"A's own link": (a_record["id"], token),
                 "A's link, B's id": (world.b_quipu_id(route.resource), token),
                 "no token": (a_record["id"], ""), "garbage": (a_record["id"], "not-a-token")}
        for name, (element, sent) in cases.items():
            url = fill(route.path, {"owner_slug": world.a.slug, "element": element}) + f"?token={sent}"
            response = world.client.get(url)
            outcomes[(route.label, name)] = (response.status_code, world.leaks(response))
            opens = name == "A's own link" and link is not None
            expected[(route.label, name)] = (200 if opens else 404, [])
    assert outcomes == expected
    world.assert_b_unchanged()
