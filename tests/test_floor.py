"""The benchmark's floor (bench/floor) gives Comptoir's answers and writes Comptoir's rows.

Each scenario's request (bench/scenarios.py, the generator the benchmark's load uses) goes to Comptoir
(the real app) and to the floor (mounted in-process through httpx's ASGI transport) on the same
book. Their answers must be equal (status, body, the headers that matter), and so must what each
wrote (every row it added, changed or removed, the counters it moved and the balances it added to),
once the values that differ by construction are replaced explicitly: the ids of new rows, their
uuids and timestamps, the numbers (codes, their series numbers, transaction codes), the run tag each
side's keys carry. That is what shows the floor skips none of the work the answer or the book needs.
"""

from __future__ import annotations

import asyncio
import re
import sys
from base64 import b64encode
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import simplejson
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import scenarios as bench_scenarios
from bench.generate import make_plan
from bench.load import BookInfo, load

SEED = 5
COMPTOIR_TAG, FLOOR_TAG = "CMPT", "FLOR"
# The tables a request of the scenarios writes, and which table each reference column points at.
TABLES = ("documents", "document_lines", "transactions", "entries", "payment_allocations", "received_documents",
          "stored_files", "attachments", "outbox_events", "parties")
REFERENCES = {"document_id": "documents", "transaction_id": "transactions", "file_id": "stored_files",
              "stored_file_id": "stored_files", "customer_id": "parties", "party_id": "parties",
              "pdf_file_id": "stored_files"}
SOURCES = {"invoice": "documents", "received_document": "received_documents", "reversal": "transactions"}
# Columns whose values differ by construction: when the row was written, its number.
BY_CONSTRUCTION = {"created_at", "updated_at", "deposited_at", "decided_at", "next_attempt_at", "transaction_code",
                   "issued_at"}
CODE = re.compile(r"\b(CINV|PINV)-\d{3,}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STORAGE_DIRECTORY = re.compile(r"/[0-9a-f]{2}/(" + UUID.pattern + ")")


@pytest.fixture(scope="module")
def book(context, is_postgres) -> BookInfo:
    if not is_postgres:
        pytest.skip("the floor is asyncpg-only: it runs on PostgreSQL (COMPTOIR_TEST_DATABASE_URL)")
    return load(context.database, make_plan(300, seed=SEED), name="Floor Test")


@pytest.fixture(scope="module")
def floor(context, book) -> Iterator[Any]:
    from bench.floor.app import Config, Floor

    settings = context.settings
    settings.session_secret()  # the secret both sign their links with, made if the app has not yet
    app = Floor(Config(settings.database_url, Path(settings.data_dir), Path(settings.files_dir),
                       settings.public_url, settings.secret_key))
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://floor")

    def send(method: str, path: str, headers: dict, body: bytes | None) -> httpx.Response:
        return loop.run_until_complete(client.request(method, path, headers=headers, content=body))

    yield send
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(app.stop())
    loop.close()


# -- what each side wrote ------------------------------------------------------------------------

def _rows(context, org_id: int) -> dict[str, dict[int, dict]]:
    found: dict[str, dict[int, dict]] = {}
    with context.database.engine.connect() as connection:
        for table in TABLES:
            found[table] = {row["id"]: dict(row) for row in connection.execute(
                text(f"SELECT * FROM {table} WHERE org_id = :org"), {"org": org_id}).mappings()}
        found["counters"] = {0: dict(connection.execute(text("SELECT key, value FROM counters WHERE org_id = :org"),
                                                        {"org": org_id}).all())}
        found["balances"] = {0: {(span, first_day, account): (debit, credit) for span, first_day, account, debit, credit
                                 in connection.execute(text(
                                     "SELECT span, first_day, account_id, sum(debit), sum(credit) FROM account_balances"
                                     " WHERE org_id = :org GROUP BY span, first_day, account_id"), {"org": org_id})}}
    return found


class Names:
    """Placeholders for values that differ by construction, given in the order they are met, so that
    the two sides' values must stand in the same relations (the invoice's id and its lines'
    document_id, the received document's uuid and its invoice's)."""

    def __init__(self, tag: str) -> None:
        self.tag, self.found = tag, {}
        self.new_ids: set[str] = set()  # the ids and uuids of the rows this side's requests added
        self.created: dict[str, set[int]] = {table: set() for table in TABLES}

    def __call__(self, kind: str, value: Any) -> str:
        return self.found.setdefault((kind, value), f"<{kind} {len(self.found) + 1}>")

    def text(self, value: str) -> str:
        value = value.replace(self.tag, "<run>").replace(self.tag.lower(), "<run>")
        value = CODE.sub(lambda match: self("code", match.group(0)), value)
        value = STORAGE_DIRECTORY.sub(r"/../\1", value)  # a file's directory: its uuid's first two characters
        return UUID.sub(lambda match: self("uuid", match.group(0)), value)


def _written(before: dict, after: dict, names: Names) -> dict:
    """What a request wrote: each table's new, changed and removed rows, normalised; the counters it
    moved; the balances it added to."""
    new_ids = {table: sorted(set(after[table]) - set(before[table])) for table in TABLES}
    for table in TABLES:
        for row_id in new_ids[table]:
            names(table, row_id)
            names.created[table].add(row_id)

    def value(table: str, row: dict, column: str, raw: Any) -> Any:
        target = REFERENCES.get(column) or (SOURCES.get(row.get("source_type")) if column == "source_id" else None)
        if column == "id":
            target = table
        if target is not None and raw in names.created.get(target, ()):
            return names(target, raw)
        if column in BY_CONSTRUCTION:
            return "<by construction>" if raw is not None else None
        if column == "series_number" and raw is not None and str(row.get("user_code")).endswith(f"-{raw:03d}"):
            return "<the number of its code>"  # a number (by construction), the one its code shows
        if isinstance(raw, str):
            return names.text(raw)
        if isinstance(raw, dict):
            return {key: value(table, row, key, item) for key, item in raw.items()}
        return raw

    def shown(table: str, row: dict) -> dict:
        return {column: value(table, row, column, raw) for column, raw in row.items() if column != "org_id"}

    written = {}
    for table in TABLES:
        changed = [(shown(table, before[table][i]), shown(table, after[table][i])) for i in sorted(before[table])
                   if i in after[table] and before[table][i] != after[table][i]]
        written[table] = {"new": [shown(table, after[table][i]) for i in new_ids[table]], "changed": changed,
                          "removed": [shown(table, before[table][i]) for i in sorted(set(before[table]) - set(after[table]))]}
    counters_before, counters_after = before["counters"][0], after["counters"][0]
    written["counters"] = {key: value_ - counters_before.get(key, 0) for key, value_ in counters_after.items()
                           if value_ != counters_before.get(key, 0)}
    zero = (Decimal(0), Decimal(0))
    written["balances"] = {key: (totals[0] - before["balances"][0].get(key, zero)[0],
                                 totals[1] - before["balances"][0].get(key, zero)[1])
                           for key, totals in after["balances"][0].items() if totals != before["balances"][0].get(key)}
    return written


def _answer(response: httpx.Response, names: Names) -> tuple:
    """The answer's status, the headers that matter and its body, the values that differ by
    construction replaced (new ids, codes, uuids, timestamps, signed links, the run tag)."""
    headers = {name: value for name, value in response.headers.items()
               if name not in ("date", "server", "content-length")}

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item, key) for item in value]
        if key in ("created_at", "updated_at", "createdAt", "updatedAt"):
            return "<by construction>"
        if key == "transaction_code":
            return names("transaction code", value)
        if key == "ephemeral_open_download_pdf_url":  # signed, with an expiry in seconds
            value = value.split("?token=")[0]
        if key in ("id", "invoice_id", "documentId") and isinstance(value, (int, str)):
            return names("id", str(value)) if str(value) in names.new_ids else names.text(str(value))
        if isinstance(value, str):
            value = names.text(value)
            for new_id in names.new_ids:
                value = value.replace(f"/invoices/{new_id}/", "/invoices/<new>/")
            return value
        return value

    body = simplejson.loads(response.text, use_decimal=True) if response.content else None
    return response.status_code, headers, walk(body)


def _exchange(send, request: tuple, context, org_id: int, names: Names) -> tuple[tuple, dict]:
    before = _rows(context, org_id)
    response = send(*request)
    after = _rows(context, org_id)
    written = _written(before, after, names)
    names.new_ids |= {str(row_id) for table in TABLES for row_id in set(after[table]) - set(before[table])} | {
        str(row["uuid"]) for table in TABLES for row_id, row in after[table].items()
        if row_id not in before[table] and "uuid" in row}
    return _answer(response, names), written


def _comptoir(client):
    def send(method: str, path: str, headers: dict, body: bytes | None) -> httpx.Response:
        return client.request(method, path, headers=headers, content=body)
    return send


@pytest.mark.parametrize("name", [scenario.name for scenario in bench_scenarios.scenarios(32)])
def test_the_floor_answers_and_writes_what_comptoir_does(name, book, floor, client, context):
    scenario = next(s for s in bench_scenarios.scenarios(32) if s.name == name)
    tokens = bench_scenarios.obtain_tokens(client, book)
    comptoir_requests = scenario.make(book, SEED, COMPTOIR_TAG, tokens)
    floor_requests = scenario.make(book, SEED, FLOOR_TAG, tokens)
    comptoir_names, floor_names = Names(COMPTOIR_TAG), Names(FLOOR_TAG)
    # Upflow: the creation of an externalId, then its update (the call that names it again).
    for n in (0, 2 * bench_scenarios.UPSERT_LAG + 1) if name == "upflow_upsert" else (0, 1):
        seen_by_comptoir = _exchange(_comptoir(client), comptoir_requests(0, n), context, book.org_id, comptoir_names)
        seen_by_floor = _exchange(floor, floor_requests(0, n), context, book.org_id, floor_names)
        assert seen_by_comptoir[0][0] < 300, seen_by_comptoir[0]
        assert seen_by_floor[0] == seen_by_comptoir[0], f"the answers differ ({name}, request {n})"
        if name == "upflow_upsert" and n:
            assert seen_by_floor[1]["documents"]["changed"] and not seen_by_floor[1]["documents"]["new"]
        assert seen_by_floor[1] == seen_by_comptoir[1], f"the rows written differ ({name}, request {n})"
    if scenario.keyed or name in ("create_invoice", "quipu_invoice", "oneconnect_import"):
        written = seen_by_floor[1]
        assert any(written[table]["new"] or written[table]["changed"] for table in TABLES), "nothing was written"
        assert written["balances"], "no balance moved"
    if name == "oneconnect_import":  # the file is in the file store, and its row says where
        [stored] = [row for row in _rows(context, book.org_id)["stored_files"].values()][-1:]
        assert (Path(context.settings.files_dir) / stored["storage_key"]).read_bytes() == bench_scenarios.PDF


def test_the_floor_refuses_a_wrong_credential_and_another_organizations_invoice(book, floor, client, context,
                                                                                other_org):
    path = f"/oneup/v1/invoices/{book.invoice_ids[0]}"
    wrong = ("GET", path, {"Authorization": "Basic " + b64encode(f"{book.oneup_email}:{'0' * 64}".encode()).decode()},
             None)
    other = ("GET", path, {"Authorization": "Basic " + b64encode(
        f"{other_org.oneup.email}:{other_org.oneup.api_key}".encode()).decode()}, None)
    for request, status in ((wrong, 401), (other, 404)):
        theirs, ours = _comptoir(client)(*request), floor(*request)
        assert (ours.status_code, ours.json()) == (theirs.status_code, theirs.json()) and ours.status_code == status
        assert ours.headers.get("www-authenticate") == theirs.headers.get("www-authenticate")
