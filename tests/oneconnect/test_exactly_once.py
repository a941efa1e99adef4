"""50 identical deposits (same externalReference) at once, over real HTTP to uvicorn: exactly one
200, the other 49 are 409 DUPLICATE_EXTERNAL_REFERENCE naming that one document, and the book holds
one document, one file and one transaction. On PostgreSQL the requests really overlap and the unique
index decides; SQLite serializes writers, and the same must hold there."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import simplejson

from comptoir.app import create_app
from comptoir.services.kernel.unit_of_work import open_book

from ..helpers import served
from .conftest import PDF, seed_entries, stored_files

WORKERS = 50
TIMEOUT_S = 60


def test_fifty_identical_deposits_make_one_document(context, partner, french_org, is_postgres):
    assert is_postgres == os.environ.get("COMPTOIR_TEST_DATABASE_URL", "").startswith("postgresql")
    barrier = threading.Barrier(WORKERS, timeout=TIMEOUT_S)
    fields = {"filename": "invoice.pdf", "externalReference": "RACE-2026-1",
              "entries": simplejson.dumps(seed_entries(), use_decimal=True)}

    def one(base: str) -> httpx.Response:
        with httpx.Client(base_url=base, headers=partner.headers, timeout=TIMEOUT_S) as http:
            assert http.get(partner.base).status_code == 200  # connected (keep-alive) before the start
            barrier.wait()
            return http.post(f"{partner.base}/purchase-invoices", data=fields,
                             files={"file": ("invoice.pdf", PDF, "application/pdf")})

    with served(create_app(context=context)) as base, ThreadPoolExecutor(max_workers=WORKERS) as pool:
        responses = list(pool.map(one, [base] * WORKERS))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * (WORKERS - 1), [r.text for r in responses if r.status_code not in (200, 409)]
    [winner] = [response.json()["documentId"] for response in responses if response.status_code == 200]
    losers = [response.json() for response in responses if response.status_code == 409]
    assert {(body["errorCode"], body["documentId"]) for body in losers} == {("DUPLICATE_EXTERNAL_REFERENCE", winner)}
    assert len({body["depositDate"] for body in losers}) == 1
    with open_book(context.database, french_org.id) as book:
        assert book.received_documents.count() == 1
        assert book.transactions.count() == 1
    assert len(stored_files(context, french_org)) == 1  # the losers' files went with their transactions
