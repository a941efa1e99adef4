"""A world for the adversarial tests: one organization with a record of every kind in every dialect,
spoken to the way each dialect's integrators speak (OneUp Basic, Upflow key and secret, a Quipu token,
a OneConnect JWT and integration secret), and a second organization whose book must never change
nor show (its name and records carry a marker).

Also the checks every test of this directory shares: the error format of each dialect, and a
snapshot of an organization's book and of its files in the file store."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import simplejson
from fastapi.testclient import TestClient

from comptoir.services.tenancy.organizations import NewOrganization, create_organization

from ..auth.test_isolation_matrix import populate
from ..helpers import OneUpClient, book_snapshot
from ..oneconnect.conftest import PDF, PNG, Partner, seed_entries
from ..upflow.conftest import UpflowClient

QUIPU_MEDIA = "application/vnd.quipu.v1+json"
DIALECTS = ("oneup", "upflow", "quipu", "oneconnect")


class QuipuApi:
    """/quipu with a Bearer token from the app id and secret, JSON:API bodies."""

    def __init__(self, client: TestClient, org: NewOrganization) -> None:
        self.client, self.org = client, org
        response = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                               data={"grant_type": "client_credentials", "scope": "ecommerce"})
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}", "Accept": QUIPU_MEDIA, "Content-Type": QUIPU_MEDIA}

    def request(self, method: str, path: str, body: Any = None, **kwargs):
        content = simplejson.dumps(body, use_decimal=True) if body is not None else None
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, "/quipu" + path, content=content, headers=headers, **kwargs)

    def create(self, path: str, type_: str, attributes: dict, relationships: dict | None = None) -> dict:
        data = {"type": type_, "attributes": attributes, **({"relationships": relationships} if relationships else {})}
        response = self.request("POST", path, {"data": data})
        assert response.status_code == 201, (path, response.status_code, response.text)
        return response.json()["data"]


def quipu_relationship(type_: str, row_id: Any) -> dict:
    return {"data": {"id": str(row_id), "type": type_}}


def quipu_item(concept: str, amount: str) -> dict:
    return {"type": "book_entry_items", "attributes": {"concept": concept, "unitary_amount": amount, "quantity": 1,
                                                       "vat_percent": 21, "retention_percent": 0}}


@dataclass
class Org:
    """One organization spoken to in every dialect, with the ids of one record of every kind."""

    org: NewOrganization
    client: TestClient
    oneup: OneUpClient
    upflow: UpflowClient
    quipu: QuipuApi
    oneconnect: Partner
    ids: dict[str, Any] = field(default_factory=dict)  # "<dialect>:<resource>" -> the id a path takes


def build_org(client: TestClient, context, name: str, marker: str) -> Org:
    org = create_organization(context.database, name)
    world = Org(org, client, OneUpClient(client, org), UpflowClient(client, org), QuipuApi(client, org),
                Partner(client, org))
    ids = world.ids
    for resource, record in populate(world.oneup, context, marker).items():
        ids[f"oneup:{resource}"] = record["id"]

    upflow = world.upflow
    customer = upflow.ok("POST", "/customers", {"externalId": f"{marker}-c", "name": f"{marker} customer",
                                                "contacts": [{"externalId": f"{marker}-k", "email": "k@example.com",
                                                              "firstName": marker}]})
    ids["upflow:customers"], ids["upflow:contacts"] = customer["id"], customer["contacts"][0]["id"]
    invoice = {"externalId": f"{marker}-i", "customId": f"{marker}-I", "issuedAt": "2024-01-10",
               "dueDate": "2024-02-10", "currency": "USD", "netAmount": 10000, "grossAmount": 12000,
               "customer": {"id": customer["id"]}}
    ids["upflow:invoices"] = upflow.ok("POST", "/invoices", invoice)["id"]
    note = {**invoice, "externalId": f"{marker}-n", "customId": f"{marker}-N", "netAmount": 100, "grossAmount": 120}
    ids["upflow:credit_notes"] = upflow.ok("POST", "/credit_notes", note)["id"]
    ids["upflow:payments"] = upflow.ok("POST", "/payments", {
        "externalId": f"{marker}-p", "currency": "USD", "amount": 500, "validatedAt": "2024-02-01",
        "customer": {"id": customer["id"]}})["id"]
    ids["upflow:refunds"] = upflow.ok("POST", "/refunds", {
        "externalId": f"{marker}-r", "currency": "USD", "amount": 100, "validatedAt": "2024-02-02",
        "customer": {"id": customer["id"]}, "linkedPayments": [{"id": ids["upflow:payments"], "amountLinked": 100}]
    })["id"]
    field_created = upflow.post("/custom_fields", {"name": f"{marker} tier", "externalId": f"{marker}-tier",
                                                   "dataType": "STRING"})
    assert field_created.status_code == 201, field_created.text
    ids["upflow:custom_fields"] = field_created.json()["id"]

    quipu = world.quipu
    contact = quipu.create("/contacts", "contacts", {"name": f"{marker} contact", "tax_id": "ESB85033470"})
    ids["quipu:contacts"] = contact["id"]
    ids["quipu:numbering_series"] = quipu.create("/numbering_series", "numbering_series", {"prefix": f"{marker}-"})["id"]
    categories = quipu.request("GET", "/accounting_categories").json()["data"]
    ids["quipu:accounting_categories"] = categories[0]["id"]
    ids["quipu:accounting_subcategories"] = quipu.create(
        "/accounting_subcategories", "accounting_subcategories", {"name": f"{marker} sub", "suffix": "7"},
        {"accounting_category": quipu_relationship("accounting_categories", categories[0]["id"])})["id"]
    for path in ("invoices", "simplified_invoices", "additional_incomes", "tickets"):
        ids[f"quipu:{path}"] = quipu.create(f"/{path}", path, {"kind": "income", "issue_date": "2024-03-01"}, {
            "contact": quipu_relationship("contacts", contact["id"]),
            "items": {"data": [quipu_item(f"{marker} work", "100.00")]}})["id"]
    ids["quipu:paysheets"] = quipu.create("/paysheets", "paysheets", {
        "kind": "expenses", "issue_date": "2024-03-31", "net_pay": "1000.00"},
        {"contact": quipu_relationship("contacts", contact["id"])})["id"]
    ids["quipu:analytic_categories"] = quipu.create("/analytic_categories", "analytic_categories",
                                                    {"name": f"{marker} analytic"})["id"]
    upload = client.post("/quipu/attachments", headers={"Authorization": quipu.headers["Authorization"]},
                         files={"file": ("a.png", PNG, "image/png")}, data={"book_entry_id": ids["quipu:invoices"]})
    assert upload.status_code == 201, upload.text
    ids["quipu:attachments"] = upload.json()["data"]["id"]
    ids["quipu:users"] = quipu.request("GET", "/users").json()["data"][0]["id"]

    partner = world.oneconnect
    ids["oneconnect:accepted"] = partner.deposited("purchase", externalReference=f"{marker}-A", entries=seed_entries())
    ids["oneconnect:waiting"] = partner.deposited("sales", file=PDF)
    return world


@dataclass
class World:
    client: TestClient
    context: Any
    a: Org
    b: Org
    marker: str


@pytest.fixture(scope="module")
def world(app, context) -> Iterator[World]:
    """Organizations A (the caller) and B (the bystander, marked), each with a record of everything."""
    marker = "zq" + uuid.uuid4().hex[:10]
    with TestClient(app) as client:
        a = build_org(client, context, "Hostile A", "aa" + uuid.uuid4().hex[:6])
        b = build_org(client, context, f"{marker} B", marker)
        yield World(client, context, a, b, marker)


# -- what a refusal looks like in each dialect ---------------------------------------------------

REFUSALS: Counter[str] = Counter()  # hostile requests seen refused properly, per dialect (docs/reliability.md)


@pytest.fixture(scope="session", autouse=True)
def refusals_report() -> Iterator[None]:
    """The count of refusals checked, written where COMPTOIR_HOSTILE_REPORT says at the end of the run."""
    yield
    if os.environ.get("COMPTOIR_HOSTILE_REPORT"):
        Path(os.environ["COMPTOIR_HOSTILE_REPORT"]).write_text(
            json.dumps({"total": sum(REFUSALS.values()), **REFUSALS}, indent=2) + "\n")


def refused(dialect: str, response, statuses: tuple[int, ...] | None = None) -> Any:
    """A 4xx in the dialect's own error format (and one of `statuses` when given); the decoded body."""
    REFUSALS[dialect] += 1
    status = response.status_code
    assert 400 <= status < 500, (dialect, status, response.text[:500])
    if statuses is not None:
        assert status in statuses, (dialect, status, response.text[:500])
    body = response.json()
    if dialect == "oneup":
        assert set(body) == {"error"}, body
        assert body["error"]["status"] == status and isinstance(body["error"]["code"], str), body
        assert body["error"]["message"], body
    elif dialect == "upflow":
        assert body.get("statusCode") == status and body.get("message") and body.get("error"), body
    elif dialect == "quipu":
        assert response.headers["content-type"].startswith(QUIPU_MEDIA), response.headers
        assert set(body) == {"errors"} and body["errors"], body
        for error in body["errors"]:
            assert error["status"] == str(status) and error["detail"], body
            assert isinstance(error["source"]["pointer"], str), body
    elif dialect == "oneconnect":
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        assert body["status"] == status and body["title"] and body["type"] == "about:blank", body
    elif dialect == "oauth":  # the token endpoints: RFC 6749's error object
        assert isinstance(body.get("error"), str) and body["error"], body
    else:
        raise AssertionError(f"unknown dialect {dialect}")
    return body


def headers_for(dialect: str, org: Org, content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"oneup": {"Authorization": "Basic " + base64.b64encode(
                   f"{org.org.oneup.email}:{org.org.oneup.api_key}".encode()).decode()},
               "upflow": dict(org.upflow.headers),
               "quipu": {"Authorization": org.quipu.headers["Authorization"], "Accept": QUIPU_MEDIA},
               "oneconnect": dict(org.oneconnect.headers)}[dialect]
    if content_type is not None:
        headers["Content-Type"] = QUIPU_MEDIA if dialect == "quipu" and content_type == "application/json" \
            else content_type
    return headers


def dialect_of(path: str) -> str:
    for name, prefix in (("oneup", "/oneup/v1"), ("upflow", "/upflow/v1"), ("quipu", "/quipu"),
                         ("oneconnect", "/oneconnect/v1")):
        if path.startswith(prefix + "/"):
            return name
    raise AssertionError(f"no dialect serves {path}")


# -- nothing changed -----------------------------------------------------------------------------

def files_under(root: Path) -> list[tuple[str, int]]:
    """Every file of the file store (and anything written next to it): relative path and size."""
    root = Path(root)
    if not root.exists():
        return []
    return sorted((str(path.relative_to(root)), path.stat().st_size) for path in root.rglob("*") if path.is_file())


@dataclass
class State:
    books: dict[int, dict]
    files: list[tuple[str, int]]


def state_of(context, *orgs: Org) -> State:
    """Both books, row by row, and every file under the data directory (the file store is inside it)."""
    return State({o.org.id: book_snapshot(context, o.org.id) for o in orgs}, files_under(context.settings.data_dir))


def assert_unchanged(context, before: State, *orgs: Org) -> None:
    after = state_of(context, *orgs)
    for org_id, snapshot in before.books.items():
        changed = [table for table in snapshot if snapshot[table] != after.books[org_id].get(table)]
        assert not changed, f"organization {org_id}: rows changed in {changed}"
    assert after.files == before.files, "files were written or removed"
