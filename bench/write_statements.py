"""Statements per request: how many SQL statements each write scenario sends to the database,
counted with SQLAlchemy's cursor events in-process (no server, no load: the count does not depend on
either), and the same for the CLI import. A tool for docs/performance.md, not part of `bench/run`.

    .venv/bin/python -m bench.write_statements --database-url postgresql+psycopg://...  [--requests 20]

It loads the small book (bulk path), then sends each write scenario's requests through the app with
FastAPI's TestClient, and prints per scenario the mean statements per request and the most frequent
statements (SAVEPOINT and RELEASE counted apart).
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

from comptoir.app import create_app
from comptoir.context import Context
from comptoir.settings import Settings

from .generate import make_plan, upflow_invoices
from .load import load
from .scenarios import create_invoice, post_transaction, upflow_upsert
from .statements import Recorder, shape


def _report(title: str, statements: list[str], units: int) -> None:
    shapes = collections.Counter(shape(s) for s in statements)
    print(f"\n## {title}: {len(statements) / units:.1f} statements per unit ({len(statements)} for {units})")
    for described, count in shapes.most_common(25):
        print(f"  {count / units:6.2f}  {described}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=20, help="Requests per scenario (after 3 of warm-up).")
    parser.add_argument("--imports", type=int, default=200, help="Invoices imported through the CLI's batch function.")
    arguments = parser.parse_args()

    recorder = Recorder()
    event.listen(__import__("sqlalchemy").engine.Engine, "before_cursor_execute", recorder)
    data_dir = Path(tempfile.mkdtemp(prefix="comptoir-statements-"))
    context = Context.from_settings(Settings(database_url=arguments.database_url, data_dir=data_dir,
                                             rate_limits="off"))
    context.database.migrate()
    plan = make_plan(1_000)
    book = load(context.database, plan, name=f"Statements {time.time_ns()}")
    run = str(time.time_ns())[-6:]
    with TestClient(create_app(context=context)) as client:
        for name, factory in (("OneUp POST /invoices", create_invoice), ("OneUp POST /transactions", post_transaction),
                              ("Upflow POST /invoices (half create, half update)", upflow_upsert)):
            make = factory(book, 42, run)
            for n in range(3):
                method, path, headers, body = make(0, n)
                assert client.request(method, path, headers=headers, content=body).status_code < 300
            recorder.take()
            recorder.on = True
            for n in range(3, 3 + arguments.requests):
                method, path, headers, body = make(0, n)
                response = client.request(method, path, headers=headers, content=body)
                assert response.status_code < 300, response.text
            recorder.on = False
            _report(name, recorder.take(), arguments.requests)

    from comptoir import cli  # the import path of `comptoir import upflow-invoices`, in-process
    from comptoir.services.tenancy.organizations import first_employee_id
    with context.database.transaction() as session:
        employee_id = first_employee_id(session, book.org_id)
    import json
    lines = [(number, json.dumps(body).encode())
             for number, body in enumerate(upflow_invoices(plan, arguments.imports, prefix=f"st{run}"), start=1)]
    counts = {"created": 0, "updated": 0, "failed": 0}
    failures: list[str] = []
    recorder.on = True
    cli._import_upflow_batch(context.database, book.org_id, employee_id, lines, counts, failures)
    recorder.on = False
    assert counts["created"] == arguments.imports, (counts, failures[:3])
    _report(f"CLI import, one batch of {arguments.imports} new invoices", recorder.take(), arguments.imports)
    counts = {"created": 0, "updated": 0, "failed": 0}
    recorder.on = True
    cli._import_upflow_batch(context.database, book.org_id, employee_id, lines, counts, failures)
    recorder.on = False
    assert counts["updated"] == arguments.imports, (counts, failures[:3])
    _report(f"CLI import, the same {arguments.imports} again (updates)", recorder.take(), arguments.imports)
    context.database.dispose()


if __name__ == "__main__":
    main()
