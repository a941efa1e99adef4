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
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import simplejson
from fastapi.testclient import TestClient
from starlette.routing import Mount

from comptoir.dialects.oneup.extensions import _REPORTS
from comptoir.services.book import open_book
from comptoir.services.identity import register_client
from comptoir.services.organizations import NewOrganization, create_organization
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
    ("consent page", "GET|POST", r"/oneup/oauth2/auth"),
    ("token endpoint", "POST",
     r"/oneup/oauth2/token|/oneup/oauth2/login|/quipu/oauth/token|/oneconnect/oauth2/token"),
    ("oneup me", "GET", r"/oneup/v1/me"),
    ("oneup report", "GET", r"/oneup/v1/reports/\{name\}"),
    ("oneup element action", "GET|POST|PUT|DELETE", r"/oneup/v1/(?P<resource>\w+)/\{element\}/[\w.]+"),
    ("oneup element", "GET|PUT|DELETE", r"/oneup/v1/(?P<resource>\w+)/\{element\}"),
    ("oneup list", "GET", r"/oneup/v1/(?P<resource>\w+)"),
    ("oneup create", "POST", r"/oneup/v1/(?P<resource>\w+)"),
    ("oneup bulk delete", "DELETE", r"/oneup/v1/(?P<resource>\w+)"),
    ("upflow list", "GET", r"/upflow/v1/\w+"),
    ("upflow create", "POST", r"/upflow/v1/\w+"),
    ("upflow element", "GET|POST|PUT|DELETE",
     r"/upflow/v1/(?P<resource>\w+)/\{\w+\}(/(?P<sub>\w+)(/\{\w+\})?)?"),
    ("quipu list", "GET", r"/quipu/\w+"),
    ("quipu owner", "GET", r"/quipu/\{owner_slug\}/\w+"),
    ("oneconnect integration", "GET|PUT", r"/oneconnect/v1/integrations/\{integration_id\}(/\w+)?"),
]
# The rules whose routes need credentials: the credential tables aim every one of them.
GATED = ("oneup me", "oneup report", "oneup element action", "oneup element", "oneup list", "oneup create",
         "oneup bulk delete", "upflow list", "upflow create", "upflow element", "quipu list", "quipu owner",
         "oneconnect integration")


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
            if isinstance(route, Mount):
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


def _document_references(w) -> tuple[dict, dict[str, dict]]:
    line = {"item_id": w.a_records["items"]["id"], "quantity": 1}
    return ({"customer_id": w.a_records["customers"]["id"], "date": "2024-03-01", "order_lines": [line]}, {
        "customer_id": {"customer_id": w.b_id("customers")},
        "billing_contact_id": {"billing_contact_id": w.b_contact},
        "shipping_contact_id": {"shipping_contact_id": w.b_contact},
        "tax_id": {"tax_id": w.b_id("taxes")},
        "payment_terms_id": {"payment_terms_id": w.b_id("payment_terms")},
        "project_id": {"project_id": w.b_id("projects")},
        "employee_id": {"employee_id": w.b_id("employees")},
        "order_lines[].item_id": {"order_lines": [{**line, "item_id": w.b_id("items")}]},
        "order_lines[].tax_id": {"order_lines": [{**line, "tax_id": w.b_id("taxes")}]}})


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

    def b_id(self, resource: str) -> int:
        record = self.b_records.get(resource)
        return record["id"] if record else self.b_all[resource][0]

    def a_id(self, resource: str) -> int:
        record = self.a_records.get(resource)
        return record["id"] if record else self.a_all[resource][0]

    def routes_of(self, rule: str) -> list[Route]:
        """The routes of a rule, reads first and deletions last (so that a deletion that wrongly
        succeeds cannot hide what the other verbs do)."""
        order = {"GET": 0, "HEAD": 1, "POST": 2, "PUT": 3, "DELETE": 4}
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
        if world.has_route("POST", "/upflow/v1/customers"):  # a customer and a contact with external ids
            for body in ({"externalId": f"ext-{B_EXTERNAL}", "name": f"{MARKER} imported", "contacts": [
                             {"externalId": f"ext-contact-{B_EXTERNAL}", "email": f"{MARKER}@b.example"}]},
                         {"externalId": f"ext2-{B_EXTERNAL}", "name": f"{MARKER} imported too"}):
                imported = client.post("/upflow/v1/customers", headers=world.upflow_auth(b), json=body)
                assert imported.status_code == 200, imported.text
        world.a_upflow, world.b_upflow = _upflow_records(world, a), _upflow_records(world, b)
        with open_book(context.database, b.id) as book:
            world.b_upflow_customer = book.parties.get(b_records["customers"]["id"]).uuid
        if world.has_route("GET", "/upflow/v1/users"):
            users = client.get("/upflow/v1/users", headers=world.upflow_auth(b)).json()["users"]
            world.b_upflow_user = users[0]["id"]
        world.b_before = book_snapshot(context, b.id)
        world.fingerprints = {MARKER, b.uuid, b.oneup.email, b.oneup.api_key, b.login.password,
                              *b.upflow.values(), b.quipu["app_id"], b.quipu["app_secret"],
                              *b.oneconnect.values(), *_uuids_in(world.b_before), *_upflow_only_uuids(world)}
        yield world


# -- coverage ----------------------------------------------------------------------------------

def test_every_route_is_covered_by_a_rule(world):
    assert [route.label for route in world.routes if route.rule is None] == []
    # Every rule the routes use has a test below that aims its routes at B.
    assert {route.rule for route in world.routes} <= {"public", "consent page", "token endpoint", *GATED}
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
    return refused, own


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


# POST routes of Upflow (imports): (bodies naming B's records, refused with 400 or 404; bodies A owns,
# accepted as A's own records). A new import route fails the test until it has a recipe here.
UPFLOW_IMPORTS: dict[str, Callable[[World], tuple[dict, dict]]] = {
    "/upflow/v1/customers": _customer_imports,
    "/upflow/v1/invoices": _invoice_imports,
    "/upflow/v1/payments": _payment_imports,
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
            outcomes[(route.path, name)] = (response.status_code, sorted(ids & world.fingerprints),
                                            world.leaks(response))
            expected[(route.path, name)] = (200, [], [])
    assert outcomes == expected
    world.assert_b_unchanged()


def test_quipu_owner_slug_of_b_is_forbidden_and_lists_show_only_a(world):
    headers = {"Authorization": f"Bearer {world.a_tokens['quipu']}"}
    outcomes, expected = {}, {}
    for route in world.routes_of("quipu owner"):
        for slug, status in ((world.b.slug, 403), ("no-such-owner", 403), (world.a.slug, 200)):
            url = route.path.replace("{owner_slug}", slug)
            response = world.call("GET", url, headers)
            body = _json(response)
            detail = body["errors"][0]["detail"] if status == 403 and "errors" in body else None
            shown = sorted({int(row["id"]) for row in body.get("data", [])} & set(world.b_all["employees"]))
            outcomes[url] = (response.status_code, detail, shown, world.leaks(response))
            expected[url] = (status, QUIPU_FORBIDDEN if status == 403 else None, [], [])
    for route in world.routes_of("quipu list"):
        response = world.call("GET", route.path, headers)
        data = _json(response).get("data", [])
        shown = sorted({int(row["id"]) for row in data} & set(world.b_all["employees"]))
        outcomes[route.label] = (response.status_code, bool(data), shown, world.leaks(response))
        expected[route.label] = (200, True, [], [])
    assert outcomes == expected
    world.assert_b_unchanged()


def test_oneconnect_integration_of_b_is_not_found(world):
    """B's integration with A's token, alone (A's secret) or with B's secret, in either header
    spelling: 404 SMB_NOTFOUND, and B's integration stays active."""
    token = {"Authorization": f"Bearer {world.a_tokens['oneconnect']}"}
    outcomes, expected = {}, {}
    for route in world.routes_of("oneconnect integration"):
        url = route.path.replace("{integration_id}", world.b.oneconnect["integration_id"])
        for whose, secret in (("A's secret", world.a.oneconnect["integration_secret"]),
                              ("B's secret", world.b.oneconnect["integration_secret"])):
            for header in ("x-oneconnect-api-key", "x-one-connect-api-key"):
                response = world.call(route.method, url, {**token, header: secret})
                body = _json(response) or {}
                outcomes[(route.label, whose, header)] = (response.status_code, body.get("errorCode"),
                                                          world.leaks(response))
                expected[(route.label, whose, header)] = (404, "SMB_NOTFOUND", [])
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
            # The integration id in the path names B's integration in the second case: not found.
            b_integration = name == "OneConnect integration" and identifier == b_id
            expected[(name, halves)] = (404 if b_integration else 401, [])
    world.client.cookies.clear()
    assert outcomes == expected
    world.assert_b_unchanged()


# -- no credential opens another dialect -------------------------------------------------------

def a_request(world: World, route: Route) -> tuple[str, Any]:
    """The URL and body of a call to a gated route on A's own records: only the credential can fail."""
    values = {"name": "trial_balance", "owner_slug": world.a.slug,
              "integration_id": world.a.oneconnect["integration_id"]}
    if route.resource and route.dialect == "oneup":
        values["element"] = world.a_id(route.resource)
    path = route.path
    if route.rule == "upflow element":  # A's first record, and its first nested one
        item = world.a_upflow[route.resource][0]
        refs = [item["id"], *([item[route.sub][0]["id"]] if route.sub and item.get(route.sub) else [])]
        values.update(zip(path_params(path), refs))
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
