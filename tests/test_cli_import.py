"""`comptoir import upflow-invoices`: Upflow invoice bodies from a JSON-lines file, imported through the
same service and mapping as POST /upflow/v1/invoices, in batches, exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from comptoir.services import parties
from comptoir.services.book import open_book
from comptoir.services.organizations import create_organization
from comptoir.storage.tables import Document, Transaction


def _import(database_url: str, path, slug: str, *extra: str) -> tuple[int, dict]:
    env = {**os.environ, "COMPTOIR_DATABASE_URL": database_url}
    completed = subprocess.run([sys.executable, "-m", "comptoir.cli", "import", "upflow-invoices", str(path),
                                "--org", slug, "--json", *extra], env=env, capture_output=True, check=False, text=True, timeout=120)
    assert completed.stdout.strip(), completed.stderr
    return completed.returncode, json.loads(completed.stdout.strip().splitlines()[-1])


def _invoice(index: int, customer: str = "cust-1") -> dict:
    return {"externalId": f"inv-{index}", "customId": f"F-{index:03d}", "issuedAt": "2025-03-01",
            "dueDate": "2025-03-31T00:00:00Z", "currency": "USD", "netAmount": 10_000 + index,
            "grossAmount": 12_000 + index, "customer": {"externalId": customer}}


def _counts(context, org_id: int) -> tuple[int, int]:
    with open_book(context.database, org_id) as book:
        return (book.documents.count(Document.kind == "invoice", Document.external_id.is_not(None)),
                book.transactions.count(Transaction.source_type == "invoice"))


def _organization_with_customers(context, name: str):
    created = create_organization(context.database, name)
    with open_book(context.database, created.id) as book:
        for number in (1, 2):
            parties.create_party(book, "customer", {"type": 1, "company_name": f"Customer {number}",
                                                    "external_id": f"cust-{number}"})
    return created


def test_imports_every_invoice_in_batches_and_a_rerun_creates_nothing_new(context, database_url, tmp_path):
    created = _organization_with_customers(context, "Import Co")
    path = tmp_path / "invoices.jsonl"
    path.write_text("".join(json.dumps(_invoice(i, f"cust-{1 + i % 2}")) + "\n" for i in range(7)) + "\n")

    code, summary = _import(database_url, path, created.slug, "--batch-size", "3")
    assert code == 0, summary
    assert (summary["lines"], summary["created"], summary["updated"], summary["failed"]) == (7, 7, 0, 0)
    assert _counts(context, created.id) == (7, 7)  # each invoice posted to the ledger once

    code, again = _import(database_url, path, created.slug)
    assert code == 0, again
    assert (again["created"], again["updated"], again["failed"]) == (0, 7, 0)
    assert _counts(context, created.id) == (7, 7)


def test_a_refused_line_is_reported_and_the_others_are_imported(context, database_url, tmp_path):
    created = _organization_with_customers(context, "Import Errors Co")
    path = tmp_path / "invoices.jsonl"
    lines = [json.dumps(_invoice(1)), json.dumps(_invoice(2, "cust-unknown")), "{not json",
             json.dumps({**_invoice(4), "externalId": None}), json.dumps(_invoice(5))]
    path.write_text("\n".join(lines) + "\n")

    code, summary = _import(database_url, path, created.slug, "--batch-size", "2")
    assert code == 1
    assert (summary["created"], summary["failed"]) == (2, 3)
    assert [failure.split(":")[0] for failure in summary["failures"]] == ["line 2", "line 3", "line 4"]
    assert _counts(context, created.id) == (2, 2)
