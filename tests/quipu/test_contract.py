"""The contract test of issue 6: Schemathesis generates requests from Quipu's official OpenAPI
document (tests/quipu/openapi.yaml: the public operations, made by scripts/quipu-openapi) and sends
them to the app, as the owner of an account seeded with a record of every resource. No answer may be
a server error, have a status the operation does not document, or break the operation's schemas.

Each operation gets `CONTRACT_EXAMPLES` generated cases (Hypothesis), so the run takes a few
minutes; COMPTOIR_CONTRACT_EXAMPLES raises it for a deeper run (docs/reliability.md), and
COMPTOIR_CONTRACT_REPORT names a file for the counts of what was sent."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from comptoir.services.tenancy.organizations import create_organization

from .conftest import QuipuClient, item, relationship

SPEC = Path(__file__).with_name("openapi.yaml")
CONTRACT_EXAMPLES = int(os.environ.get("COMPTOIR_CONTRACT_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
RESOURCE = re.compile(r"^/(?:\{owner_slug\}/)?(\w+)")
STATS: Counter[str] = Counter()  # requests sent, by status class and by operation
CALLS = itertools.count()  # which cases get a real record: the same ones every run (Hypothesis is derandomized)

schema = schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def seeded(app, context):
    """An account with one record of every resource, its token and the ids of its records."""
    org = create_organization(context.database, "Contract Company")
    with TestClient(app) as client:
        quipu = QuipuClient(client, org)
        contact = quipu.contact("Contract S.L.", email="contract@example.com")
        series = quipu.create("/numbering_series", "numbering_series", {"prefix": "C-"})
        categories = quipu.ok("GET", "/accounting_categories")["data"]
        subcategory = quipu.create("/accounting_subcategories", "accounting_subcategories", {"name": "Sub", "suffix": "7"},
                                   {"accounting_category": relationship("accounting_categories", categories[0]["id"])})
        items = {"data": [item("Work", "100.00", 2, 21, 15)]}
        ids = {"contacts": contact["id"], "numbering_series": series["id"],
               "accounting_categories": categories[0]["id"], "accounting_subcategories": subcategory["id"]}
        for path in ("invoices", "simplified_invoices", "additional_incomes"):
            ids[path] = quipu.create(f"/{path}", path, {"kind": "income", "issue_date": "2024-03-01"},
                                     {"contact": relationship("contacts", contact["id"]), "items": items})["id"]
        ids["paysheets"] = quipu.create("/paysheets", "paysheets", {"kind": "expenses", "issue_date": "2024-03-31",
                                                                    "net_pay": "1000.00"},
                                        {"contact": relationship("contacts", contact["id"])})["id"]
        upload = client.post("/quipu/attachments", headers={"Authorization": quipu.headers["Authorization"]},
                             files={"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32, "image/png")},
                             data={"book_entry_id": ids["invoices"]})
        assert upload.status_code == 201, upload.text
        ids["attachments"] = upload.json()["data"]["id"]
        users = quipu.ok("GET", "/users")["data"]
        ids["users"] = users[0]["id"]
        yield org, quipu.headers["Authorization"], ids
    if os.environ.get("COMPTOIR_CONTRACT_REPORT"):
        Path(os.environ["COMPTOIR_CONTRACT_REPORT"]).write_text(json.dumps(dict(STATS), indent=2, sort_keys=True) + "\n")


@schema.parametrize()
@settings(max_examples=CONTRACT_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_public_operation_keeps_to_the_spec(case, app, seeded):
    org, authorization, ids = seeded
    if "owner_slug" in (case.path_parameters or {}):
        case.path_parameters["owner_slug"] = org.slug
    resource = RESOURCE.match(case.path).group(1)
    if "id" in (case.path_parameters or {}) and resource in ids and next(CALLS) % 10 < 7:
        case.path_parameters["id"] = ids[resource]  # mostly real records, sometimes the generated ids
    response = case.call(base_url="http://testserver/quipu", headers={"Authorization": authorization}, app=app)
    STATS["requests"] += 1
    STATS[f"quipu {response.status_code // 100}xx"] += 1
    STATS[f"quipu {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS)
