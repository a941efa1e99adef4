"""Allocations under real concurrency (PostgreSQL only; SQLite runs one writer at a time, so nothing
can race there): the real app on uvicorn (tests/upflow/test_exactly_once.py), 20 httpx clients in 20
threads released together by a barrier, all settling the same invoice (or giving back the same payment
credit) in full. Exactly one may win; the others are refused with 409; nothing is ever allocated beyond
a document's amount; and no request fails with a server error (a deadlock, say)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .allocation_support import credit_note_body, ext, invoice_body, payment_body, refund_body
from .test_exactly_once import base_url, headers_of  # noqa: F401 - the live-server fixture

RACERS = 20
TIMEOUT_S = 60
GROSS = 12000


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres) -> None:
    if not is_postgres:
        pytest.skip("SQLite runs one writer at a time: requests cannot race there (run on PostgreSQL)")


def http_of(base_url: str, org) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=headers_of(org), timeout=TIMEOUT_S)


def ok(http: httpx.Client, path: str, body) -> object:
    response = http.post(path, json=body)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def world(base_url: str, org) -> None:
    """Customer C-1 and invoice INV-A (gross 12000)."""
    with http_of(base_url, org) as http:
        ok(http, "/customers", {"externalId": "C-1", "name": "Acme"})
        ok(http, "/invoices", invoice_body("INV-A", GROSS, 10000))


def all_at_once(base_url: str, org, requests: list[tuple[str, dict]]) -> list[httpx.Response]:
    """Each (path, body) POSTed from its own client and thread, all released together once every
    client is connected."""
    barrier = threading.Barrier(len(requests), timeout=TIMEOUT_S)

    def one(request: tuple[str, dict]) -> httpx.Response:
        path, body = request
        with http_of(base_url, org) as http:
            assert http.get("/users").status_code == 200  # connected (keep-alive) before the start
            barrier.wait()
            return http.post(path, json=body)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def get(base_url: str, org, path: str, **params) -> dict:
    with http_of(base_url, org) as http:
        response = http.get(path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()


def one_winner(responses: list[httpx.Response]) -> int:
    """Exactly one 200, every other answer a 409; the index of the winner."""
    statuses = [response.status_code for response in responses]
    unexpected = [(r.status_code, r.text[:200]) for r in responses if r.status_code not in (200, 409)]
    assert not unexpected, f"{len(unexpected)} of {len(responses)} requests answered neither 200 nor 409, " \
                           f"e.g. {unexpected[0]}"
    assert statuses.count(200) == 1, f"{statuses.count(200)} of {len(responses)} requests settled the invoice"
    return statuses.index(200)


def assert_settled_once(base_url: str, org) -> dict:
    settled = get(base_url, org, "/invoices/external:INV-A")
    assert settled["amountOutstanding"] == 0, settled
    assert settled["state"] == "PAID"
    linked = sum(p["amount"] for p in settled["payments"]) + sum(c["amountLinked"] for c in settled["creditNotes"])
    assert linked == GROSS, settled
    return settled


def test_concurrent_payments_of_one_invoice_settle_it_once(base_url, org):  # noqa: F811
    world(base_url, org)
    responses = all_at_once(base_url, org, [
        ("/payments", payment_body(f"P-{n}", GROSS, [ext("INV-A", GROSS)])) for n in range(RACERS)])
    winner = one_winner(responses)
    settled = assert_settled_once(base_url, org)
    listed = get(base_url, org, "/payments")
    assert listed["total"] == 1, "a refused payment was stored"
    assert listed["items"][0]["externalId"] == f"P-{winner}"
    assert [p["externalId"] for p in settled["payments"]] == [f"P-{winner}"]


def test_concurrent_credit_notes_of_one_invoice_settle_it_once(base_url, org):  # noqa: F811
    world(base_url, org)
    responses = all_at_once(base_url, org, [
        ("/credit_notes", credit_note_body(f"CN-{n}", GROSS, 10000, [ext("INV-A", GROSS)])) for n in range(RACERS)])
    winner = one_winner(responses)
    settled = assert_settled_once(base_url, org)
    listed = get(base_url, org, "/credit_notes")
    assert listed["total"] == 1, "a refused credit note was stored"
    assert [c["externalId"] for c in settled["creditNotes"]] == [f"CN-{winner}"]


def test_concurrent_reconciles_of_one_invoice_settle_it_once(base_url, org):  # noqa: F811
    world(base_url, org)
    with http_of(base_url, org) as http:
        for n in range(RACERS):
            ok(http, "/payments", payment_body(f"P-{n}", GROSS, []))
    responses = all_at_once(base_url, org, [
        ("/reconcile", {"externalId": f"partial-{n}", "invoices": [ext("INV-A", GROSS)],
                        "payments": [ext(f"P-{n}", GROSS)]}) for n in range(RACERS)])
    winner = one_winner(responses)
    assert responses[winner].json() == "CREATED"
    settled = assert_settled_once(base_url, org)
    assert [p["externalId"] for p in settled["payments"]] == [f"P-{winner}"]


def test_payments_credit_notes_and_reconciles_racing_for_one_invoice(base_url, org):  # noqa: F811
    world(base_url, org)
    with http_of(base_url, org) as http:
        for n in range(RACERS):
            ok(http, "/credit_notes", credit_note_body(f"CN-FREE-{n}", GROSS, 10000, []))
    requests: list[tuple[str, dict]] = []
    for n in range(RACERS):
        if n % 3 == 0:
            requests.append(("/payments", payment_body(f"P-{n}", GROSS, [ext("INV-A", GROSS)])))
        elif n % 3 == 1:
            requests.append(("/credit_notes", credit_note_body(f"CN-{n}", GROSS, 10000, [ext("INV-A", GROSS)])))
        else:
            requests.append(("/reconcile", {"externalId": f"partial-{n}", "invoices": [ext("INV-A", GROSS)],
                                            "creditNotes": [ext(f"CN-FREE-{n}", GROSS)]}))
    one_winner(all_at_once(base_url, org, requests))
    assert_settled_once(base_url, org)


def test_concurrent_refunds_of_one_payment_credit_give_it_back_once(base_url, org):  # noqa: F811
    world(base_url, org)
    with http_of(base_url, org) as http:
        ok(http, "/payments", payment_body("P-1", 5000, []))
    responses = all_at_once(base_url, org, [
        ("/refunds", refund_body(f"R-{n}", 5000, payments=[ext("P-1", 5000)])) for n in range(RACERS)])
    winner = one_winner(responses)
    paid = get(base_url, org, "/payments/external:P-1")
    assert [(r["externalId"], r["amountLinked"]) for r in paid["linkedRefunds"]] == [(f"R-{winner}", 5000)]
    assert get(base_url, org, "/refunds")["total"] == 1


def no_server_error(responses: list[httpx.Response], allowed: Callable[[httpx.Response], bool]) -> None:
    bad = [(r.request.url.path, r.status_code, r.text[:300]) for r in responses if not allowed(r)]
    assert not bad, f"{len(bad)} of {len(responses)} requests failed, e.g. {bad[0]}"


def test_payments_and_credit_notes_settling_parts_of_one_invoice_never_fail(base_url, org):  # noqa: F811
    """Room for all: each of the 20 settles 100 of the invoice, so every one must be answered 200.
    A payment locks the invoice, then posts (taking the book's transaction counter); a credit note
    posts first, then locks the invoice it settles."""
    world(base_url, org)
    requests: list[tuple[str, dict]] = []
    for n in range(RACERS):
        if n % 2:
            requests.append(("/payments", payment_body(f"P-{n}", 100, [ext("INV-A", 100)])))
        else:
            requests.append(("/credit_notes", credit_note_body(f"CN-{n}", 100, None, [ext("INV-A", 100)])))
    responses = all_at_once(base_url, org, requests)
    no_server_error(responses, lambda r: r.status_code == 200)
    assert get(base_url, org, "/invoices/external:INV-A")["amountOutstanding"] == GROSS - 100 * RACERS


def test_reimporting_a_payment_while_reconciling_it_never_fails(base_url, org):  # noqa: F811
    """A payment re-import locks the payment, then the invoices it links; a reconciliation locks the
    invoices, then the payments. Racing on the same payment and invoice, every request must still be
    answered 200 (there is room for all of them): none may fail on a deadlock."""
    world(base_url, org)
    with http_of(base_url, org) as http:
        ok(http, "/payments", payment_body("P-1", GROSS, [ext("INV-A", 1000)]))
    requests: list[tuple[str, dict]] = []
    for n in range(RACERS):
        if n % 2:
            requests.append(("/payments", payment_body("P-1", GROSS, [ext("INV-A", 1000)])))
        else:
            requests.append(("/reconcile", {"externalId": f"partial-{n}", "invoices": [ext("INV-A", 100)],
                                            "payments": [ext("P-1", 100)]}))
    responses = all_at_once(base_url, org, requests)
    no_server_error(responses, lambda r: r.status_code == 200)
    settled = get(base_url, org, "/invoices/external:INV-A")
    assert settled["amountOutstanding"] == GROSS - 1000 - 100 * (RACERS // 2)


def test_reimporting_a_refund_while_reconciling_its_payment_never_fails(base_url, org):  # noqa: F811
    """A refund re-import locks the refund, then its payments; a reconciliation of that payment with
    that refund locks the payment, then the refund."""
    world(base_url, org)
    with http_of(base_url, org) as http:
        ok(http, "/payments", payment_body("P-1", GROSS, []))
        ok(http, "/refunds", refund_body("R-1", GROSS, payments=[ext("P-1", 1000)]))
    requests: list[tuple[str, dict]] = []
    for n in range(RACERS):
        if n % 2:
            requests.append(("/refunds", refund_body("R-1", GROSS, payments=[ext("P-1", 1000)])))
        else:
            requests.append(("/reconcile", {"externalId": f"partial-{n}", "refunds": [ext("R-1", 100)],
                                            "payments": [ext("P-1", 100)]}))
    responses = all_at_once(base_url, org, requests)
    no_server_error(responses, lambda r: r.status_code == 200)
    refunded = get(base_url, org, "/refunds/external:R-1")
    assert refunded["amountLinked"] == 1000 + 100 * (RACERS // 2)


def test_reimporting_a_credit_note_while_reconciling_it_never_fails(base_url, org):  # noqa: F811
    """A credit note re-import locks the credit note, then the invoices it links; a reconciliation
    locks the credit note, then the invoices (the same order): this one must pass."""
    world(base_url, org)
    with http_of(base_url, org) as http:
        ok(http, "/credit_notes", credit_note_body("CN-1", GROSS, 10000, [ext("INV-A", 1000)]))
    requests: list[tuple[str, dict]] = []
    for n in range(RACERS):
        if n % 2:
            requests.append(("/credit_notes", credit_note_body("CN-1", GROSS, 10000, [ext("INV-A", 1000)])))
        else:
            requests.append(("/reconcile", {"externalId": f"partial-{n}", "invoices": [ext("INV-A", 100)],
                                            "creditNotes": [ext("CN-1", 100)]}))
    responses = all_at_once(base_url, org, requests)
    no_server_error(responses, lambda r: r.status_code == 200)
    settled = get(base_url, org, "/invoices/external:INV-A")
    assert settled["amountOutstanding"] == GROSS - 1000 - 100 * (RACERS // 2)
