"""Numbering series: prefixes and counters that number invoices without gaps or duplicates, even
when requests race (the real app on uvicorn, 30 clients released together; on PostgreSQL they truly
overlap and queue on the series' row lock)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from comptoir.app import create_app

from ..helpers import book_snapshot, served
from .conftest import item, quipu_errors, relationship

WORKERS = 30
TIMEOUT_S = 60


def series(quipu, prefix: str = "2024-", **attributes) -> dict:
    return quipu.create("/numbering_series", "numbering_series", {"prefix": prefix, **attributes})


def numbered(quipu, contact_id: str, series_id: str) -> dict:
    return quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-03-01"},
                        {"contact": relationship("contacts", contact_id),
                         "numeration": relationship("numbering_series", series_id),
                         "items": {"data": [item("Work", "10")]}})


def test_a_series_numbers_invoices_and_a_failed_request_uses_no_number(quipu):
    contact = quipu.contact()
    numeration = series(quipu, applicable_to="invoices", default=True)
    assert numeration["attributes"] == {"prefix": "2024-", "default": True, "amending": False, "deletable": True,
                                        "applicable_to": "invoices", "is_valid": True, "applies_to": None}
    first = numbered(quipu, contact["id"], numeration["id"])
    failed = quipu.post("/invoices", {"data": {"type": "invoices", "attributes": {"kind": "income",
                                                                                  "issue_date": "2024-03-01"},
                                               "relationships": {
                                                   "contact": relationship("contacts", 999999999),
                                                   "numeration": relationship("numbering_series", numeration["id"])}}})
    quipu_errors(failed, 422)
    second = numbered(quipu, contact["id"], numeration["id"])
    assert (first["attributes"]["number"], second["attributes"]["number"]) == ("2024-1", "2024-2")
    assert second["relationships"]["numeration"]["data"] == {"id": numeration["id"], "type": "numbering_series"}


def test_prefixes_are_unique_and_fixed_series_in_use_cannot_go(quipu, context, org):
    numeration = series(quipu, "R-", amending=True)
    errors = quipu_errors(quipu.post("/numbering_series", {"data": {"type": "numbering_series",
                                                                    "attributes": {"prefix": "R-"}}}), 422)
    assert errors[0]["source"]["pointer"] == "/data/attributes/prefix"
    quipu_errors(quipu.patch(f"/numbering_series/{numeration['id']}", {"data": {
        "type": "numbering_series", "attributes": {"prefix": "S-"}}}), 422)
    numbered(quipu, quipu.contact()["id"], numeration["id"])
    assert quipu.ok("GET", f"/numbering_series/{numeration['id']}")["data"]["attributes"]["deletable"] is False
    before = book_snapshot(context, org.id)
    quipu_errors(quipu.delete(f"/numbering_series/{numeration['id']}"), 403)
    assert book_snapshot(context, org.id) == before
    unused = series(quipu, "U-")
    assert quipu.delete(f"/numbering_series/{unused['id']}").status_code == 204


def test_series_filters(quipu):
    series(quipu, "2024-", applicable_to="invoices")
    series(quipu, "R-2024-", amending=True, applicable_to="invoice")  # the 2016 docs' singular
    prefixes = lambda **params: [row["attributes"]["prefix"]
                                 for row in quipu.ok("GET", "/numbering_series", params=params)["data"]]
    assert prefixes(**{"filter[amending]": "true"}) == ["R-2024-"]
    assert prefixes(**{"filter[amending]": ""}) == ["2024-", "R-2024-"]  # an empty value filters nothing
    assert prefixes(**{"filter[amending]": "0"}) == ["2024-"]
    assert prefixes(**{"filter[prefix]": "r-"}) == ["R-2024-"]
    assert prefixes(**{"filter[applicable_to]": "invoices"}) == ["2024-", "R-2024-"]


@pytest.fixture(scope="module")
def base_url(context):
    with served(create_app(context=context)) as base:
        yield base + "/quipu"


def test_concurrent_invoices_get_consecutive_numbers_without_gaps_or_duplicates(quipu, base_url):
    contact = quipu.contact()
    numeration = series(quipu, "C-")
    body = {"data": {"type": "invoices", "attributes": {"kind": "income", "issue_date": "2024-03-01"},
                     "relationships": {"contact": relationship("contacts", contact["id"]),
                                       "numeration": relationship("numbering_series", numeration["id"]),
                                       "items": {"data": [item("Work", "10")]}}}}
    barrier = threading.Barrier(WORKERS, timeout=TIMEOUT_S)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers=quipu.headers, timeout=TIMEOUT_S) as http:
            assert http.get("/users").status_code == 200  # connected before the start
            barrier.wait()
            return http.post("/invoices", json=body)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        responses = list(pool.map(one, range(WORKERS)))
    assert [response.status_code for response in responses] == [201] * WORKERS, [r.text for r in responses][:3]
    numbers = sorted(int(r.json()["data"]["attributes"]["number"].removeprefix("C-")) for r in responses)
    assert numbers == list(range(1, WORKERS + 1))
