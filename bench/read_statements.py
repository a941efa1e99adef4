"""Statements and time per read request: how many SQL statements each read of the book sends to the
database (counted with SQLAlchemy's cursor events, in-process, through the app with FastAPI's
TestClient: no server, no load), and the median time of the request in-process. A tool for
docs/performance.md, not part of `bench/run`; `bench/write_statements.py` does the same for the writes.

    .venv/bin/python -m bench.read_statements --database-url postgresql+psycopg://...  [--size 1000]

It loads a book of `--size` entries (bulk path), then sends each read several times and prints, per
request, the statements it sent (the most frequent shapes) and its median time.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from comptoir.app import create_app
from comptoir.context import Context
from comptoir.settings import Settings

from .generate import make_plan
from .load import load
from .scenarios import _oneup_headers, _upflow_headers, deep_list_query
from .statements import Recorder, shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", type=int, default=1_000, help="Entries of the generated book.")
    parser.add_argument("--requests", type=int, default=20, help="Timed requests per read (after 3 of warm-up).")
    parser.add_argument("--shapes", type=int, default=8, help="Statement shapes shown per read.")
    arguments = parser.parse_args()

    recorder = Recorder()
    event.listen(Engine, "before_cursor_execute", recorder)
    data_dir = Path(tempfile.mkdtemp(prefix="comptoir-read-statements-"))
    context = Context.from_settings(Settings(database_url=arguments.database_url, data_dir=data_dir,
                                             rate_limits="off"))
    context.database.migrate()
    book = load(context.database, make_plan(arguments.size), name=f"Reads {time.time_ns()}")
    oneup, upflow = _oneup_headers(book), _upflow_headers(book)
    invoice = book.invoice_ids[len(book.invoice_ids) // 2]
    with TestClient(create_app(context=context)) as client:
        some = client.get("/upflow/v1/invoices?limit=1", headers=upflow).json()["invoices"][0]["id"]
        reads = [
            ("OneUp GET /invoices/{id}", f"/oneup/v1/invoices/{invoice}", oneup),
            ("OneUp GET /invoices?limit=50", "/oneup/v1/invoices?limit=50", oneup),
            ("OneUp GET /invoices, deep page (the benchmark's)", deep_list_query(book), oneup),
            ("OneUp GET /reports/trial_balance", "/oneup/v1/reports/trial_balance", oneup),
            ("OneUp GET /reports/profit_and_loss (mid-month bounds)",
             "/oneup/v1/reports/profit_and_loss?date_from=2024-03-15&date_to=2025-10-20", oneup),
            ("Upflow GET /customers?limit=50", "/upflow/v1/customers?limit=50", upflow),
            ("Upflow GET /invoices?limit=50", "/upflow/v1/invoices?limit=50", upflow),
            ("Upflow GET /invoices/{id}", f"/upflow/v1/invoices/{some}", upflow),
        ]
        print(f"book: {book.entries} entries, {book.invoices} invoices, {len(book.customer_ids)} customers; "
              f"{context.database.engine.dialect.name}")
        for title, path, headers in reads:
            for _ in range(3):
                assert client.get(path, headers=headers).status_code == 200, client.get(path, headers=headers).text
            counts, times = [], []
            shapes: collections.Counter = collections.Counter()
            for _ in range(arguments.requests):
                recorder.take()
                recorder.on = True
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                recorder.on = False
                assert response.status_code == 200, response.text
                statements = recorder.take()
                counts.append(len(statements))
                shapes.update(shape(s) for s in statements)
            print(f"\n## {title}: {statistics.mean(counts):.1f} statements, median {statistics.median(times):.1f} ms")
            for described, count in shapes.most_common(arguments.shapes):
                print(f"  {count / arguments.requests:6.2f}  {described}")
    context.database.dispose()


if __name__ == "__main__":
    main()
