"""Test helpers: a OneUp client with credentials, and a snapshot of an organization's book."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import simplejson
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from comptoir.services.tenancy.organizations import NewOrganization
from comptoir.storage.tables import Base

ONEUP = "/oneup/v1"


class OneUpClient:
    """Speaks to /oneup/v1 as a real client does: Basic auth, JSON bodies, exact decimals back."""

    def __init__(self, client: TestClient, org: NewOrganization) -> None:
        self.client = client
        self.org = org
        self.auth = (org.oneup.email, org.oneup.api_key)

    def request(self, method: str, path: str, body: Any = None, raw: bytes | str | None = None,
                headers: dict | None = None, **kwargs):
        headers = {"Content-Type": "application/json", **(headers or {})}
        content = raw if raw is not None else (simplejson.dumps(body, use_decimal=True) if body is not None else None)
        return self.client.request(method, ONEUP + path, content=content, headers=headers, auth=self.auth, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, **kwargs) -> Any:
        """The decoded body of a call that must succeed (decimals stay Decimal)."""
        response = self.request(method, path, body, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return simplejson.loads(response.text, use_decimal=True)


def error_of(response) -> dict:
    """The OneUp error object of a response, checked for the documented shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str) and error["message"]
    return error


def book_snapshot(context, org_id: int) -> dict[str, list[tuple]]:
    """Every row of the organization in every table (timestamps included): equal snapshots mean
    a request changed nothing. On PostgreSQL without `counters`: there automatic numbers are taken
    outside the request's transaction, like a sequence's, and a refused request may have used one
    (docs/decisions/0016)."""
    snapshot: dict[str, list[tuple]] = {}
    postgres = context.database.engine.dialect.name == "postgresql"
    with context.database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if "org_id" not in table.c or (postgres and table.name == "counters"):
                continue
            rows = session.execute(select(table).where(table.c.org_id == org_id).order_by(*table.primary_key))
            snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


def free_port() -> int:
    """A loopback port nothing listens on now (for a server that must know its address before it starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(app, *, start_timeout_s: float = 15, port: int = 0) -> Iterator[str]:
    """The app served by a real uvicorn in a background thread, on a loopback port (`port`, else a free
    one): its base URL (http://127.0.0.1:PORT) while the block runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", backlog=256))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout_s
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started serving"
            assert time.monotonic() < deadline, f"uvicorn did not start within {start_timeout_s} s"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def assert_reversed(original: dict, transactions: list[dict]) -> dict:
    """Issue 17 §8: a cancelled transaction stays in the book beside its reversal. `transactions` (as
    OneUp lists them) hold `original` unchanged but for its timestamps, and one transaction of the
    same date, journal and piece number whose entries mirror its entries (each on the other side),
    so that together they sum to zero on every account. The reversal."""
    by_id = {transaction["id"]: transaction for transaction in transactions}
    kept = by_id[original["id"]]
    assert [(e["account_id"], e["way"], e["amount"]) for e in kept["entries"]] == \
        [(e["account_id"], e["way"], e["amount"]) for e in original["entries"]]
    other = {"debit": "credit", "credit": "debit"}
    mirrored = sorted((e["account_id"], other[e["way"]], e["amount"]) for e in original["entries"])
    [reversal] = [t for t in transactions if t["id"] > original["id"] and t["piece_number"] == original["piece_number"]
                  and t["date"] == original["date"] and t["journal_id"] == original["journal_id"]
                  and sorted((e["account_id"], e["way"], e["amount"]) for e in t["entries"]) == mirrored]
    return reversal


def set_rates(context: Any, org_id: int, rates: dict[str, str], since: str = "2000-01-01") -> None:
    """Exchange rates of the organization's book from `since` on (1 currency = rate own currency), as
    `comptoir rates set` writes them: what a document in another currency is booked at."""
    from datetime import date
    from decimal import Decimal

    from comptoir.services.kernel.unit_of_work import open_book
    from comptoir.services.ledger import rates as book_rates

    with open_book(context.database, org_id) as book:
        for currency, rate in rates.items():
            book_rates.set_rate(book, currency, date.fromisoformat(since), Decimal(rate))
