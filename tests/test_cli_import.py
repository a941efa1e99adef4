"""`comptoir import upflow-invoices`: Upflow invoice bodies from a JSON-lines file, imported through the
same service and mapping as POST /upflow/v1/invoices, in batches, exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.closing import close_period
from comptoir.services.masterdata import parties
from comptoir.services.tenancy.organizations import create_organization
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
    assert (summary["lines"], summary["imported"], summary["refused"]) == (5, 2, 3)
    assert [failure.split(":")[0] for failure in summary["failures"]] == ["line 2", "line 3", "line 4"]
    assert _counts(context, created.id) == (2, 2)


def _import_said(database_url: str, path, slug: str) -> subprocess.CompletedProcess:
    """The command as a person runs it: its words, not --json."""
    env = {**os.environ, "COMPTOIR_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "comptoir.cli", "import", "upflow-invoices", str(path),
                           "--org", slug], env=env, capture_output=True, check=False, text=True, timeout=120)


def test_the_summary_says_how_many_lines_were_imported_and_how_many_refused(context, database_url, tmp_path):
    created = _organization_with_customers(context, "Import Words Co")
    path = tmp_path / "invoices.jsonl"
    lines = [json.dumps(_invoice(i)) for i in range(1, 4)] + [json.dumps(_invoice(4, "cust-unknown")), "{not [json"]
    path.write_text("\n".join(lines) + "\n")

    done = _import_said(database_url, path, created.slug)
    assert done.returncode == 1, done.stdout + done.stderr  # something was refused: a script can tell
    said = " ".join(done.stdout.split())
    assert "Read 5 lines in " in said
    assert "3 invoices imported (3 created, 0 updated), 2 lines refused." in said
    assert "refused line 4: customer" in said  # each refused line with its number and reason
    assert "refused line 5: Expecting property name" in said  # the JSON reader's words, printed as they are
    assert _counts(context, created.id) == (3, 3)

    path.write_text("\n".join(lines[:3]) + "\n")
    again = _import_said(database_url, path, created.slug)
    assert again.returncode == 0, again.stdout + again.stderr  # every line imported
    assert "3 invoices imported (0 created, 3 updated), 0 lines refused." in " ".join(again.stdout.split())

    missing = _import_said(database_url, path, "no-such-organization")
    assert missing.returncode == 2  # nothing imported at all
    assert "Cannot import" in missing.stdout + missing.stderr


def test_past_twenty_refused_lines_the_summary_counts_the_rest(context, database_url, tmp_path):
    created = _organization_with_customers(context, "Import Many Refusals Co")
    path = tmp_path / "invoices.jsonl"
    path.write_text("{bad\n" * 23 + json.dumps(_invoice(1)) + "\n")

    done = _import_said(database_url, path, created.slug)
    assert done.returncode == 1
    said = " ".join(done.stdout.split())
    assert "1 invoice imported (1 created, 0 updated), 23 lines refused." in said
    assert said.count("refused line ") == 20 and "refused line 20: " in said and "refused line 21: " not in said
    assert "… and 3 more refused lines." in said
    code, summary = _import(database_url, path, created.slug)
    assert code == 1
    assert (summary["imported"], summary["refused"], len(summary["failures"])) == (1, 23, 20)


# -- the batch, in-process: new invoices written together, the rest one by one ------------------------

def _batch(context, created, lines: list[str]) -> tuple[dict, list[str]]:
    from comptoir.cli import _import_upflow_batch
    from comptoir.services.tenancy.organizations import first_employee_id
    with context.database.transaction() as session:
        employee_id = first_employee_id(session, created.id)
    counts = {"created": 0, "updated": 0, "failed": 0}
    failures: list[str] = []
    _import_upflow_batch(context.database, created.id, employee_id,
                         [(number, line.encode()) for number, line in enumerate(lines, start=1)], counts, failures)
    return counts, failures


def _rows(context, org_id: int) -> list[tuple]:
    """The invoices with their lines, transaction and entries, as values (no ids, UUIDs or times)."""
    with open_book(context.database, org_id) as book:
        accounts = {account.id: account.number for account in book.accounts.all()}
        journals = {journal.id: journal.code for journal in book.journals.all()}
        terms = {terms.id: terms.name for terms in book.payment_terms.all()}
        employees = {employee.id: employee.user_code for employee in book.employees.all()}
        customers = {party.id: party.external_id for party in book.parties.all()}
        rows = []
        for document in sorted(book.documents.all(Document.kind == "invoice"), key=lambda d: d.external_id):
            transaction = book.transactions.find(source_type="invoice", source_id=document.id)
            rows.append((
                document.external_id, document.user_code, customers[document.customer_id], document.date,
                document.due_date, document.due_date_explicit, document.currency_iso_code, document.subtotal,
                document.tax_amount, document.total, document.fixed_tax_amount, terms.get(document.payment_terms_id),
                employees.get(document.employee_id), document.extra, document.reduce_rate, document.sent,
                [(line.description, line.quantity, line.unit_price_wt, line.total, line.is_taxable, line.position)
                 for line in document.lines],
                (transaction.date, transaction.piece_number, journals[transaction.journal_id], transaction.status,
                 sorted((accounts[entry.account_id], entry.way, entry.amount, entry.label, entry.lettering,
                         customers.get(entry.party_id)) for entry in transaction.entries))))
        return rows


def test_a_batch_writes_the_same_rows_as_the_service_one_invoice_at_a_time(context):
    batched = _organization_with_customers(context, "Batched Co")
    single = _organization_with_customers(context, "One By One Co")
    invoices = [{**_invoice(i, f"cust-{1 + i % 2}"), "name": f"Services {i}" if i % 3 else None} for i in range(12)]
    counts, failures = _batch(context, batched, [json.dumps(body) for body in invoices])
    assert (counts, failures) == ({"created": 12, "updated": 0, "failed": 0}, [])
    from comptoir.dialects.upflow import invoices as upflow_invoices
    from comptoir.services.documents import sales
    from comptoir.services.tenancy.organizations import first_employee_id
    with context.database.transaction() as session:
        employee_id = first_employee_id(session, single.id)
    for body in invoices:
        with open_book(context.database, single.id, employee_id) as book:
            sent = upflow_invoices.InvoiceIn.model_validate(body)
            sales.import_invoice(book, sent.externalId, upflow_invoices.document_fields(book, "invoice", sent, None))
    left, right = _rows(context, batched.id), _rows(context, single.id)
    for a, b in zip(left, right):
        assert a == b, [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
    assert len(left) == len(right)
    transactions = _counts(context, batched.id)[1]
    assert transactions == 12


def test_in_a_batch_a_refused_invoice_leaves_no_trace_and_the_others_are_written(context):
    created = _organization_with_customers(context, "Batch Refusals Co")
    with open_book(context.database, created.id) as book:
        close_period(book, date(2024, 12, 31))
    lines = [json.dumps(_invoice(1)),
             json.dumps({**_invoice(2), "dueDate": "2025-02-01"}),  # due before it is issued: the services refuse it
             json.dumps(_invoice(3, "cust-unknown")),
             # refused when it is posted, after the invoice was added to the session
             json.dumps({**_invoice(4), "issuedAt": "2024-12-01", "dueDate": "2024-12-31"}),
             json.dumps(_invoice(5))]
    counts, failures = _batch(context, created, lines)
    assert (counts["created"], counts["failed"]) == (2, 3)
    assert [failure.split(":")[0] for failure in failures] == ["line 2", "line 3", "line 4"]
    assert _counts(context, created.id) == (2, 2)


def test_a_customid_used_twice_in_a_batch_refuses_the_second_only(context):
    created = _organization_with_customers(context, "Batch Duplicates Co")
    lines = [json.dumps(_invoice(1)), json.dumps({**_invoice(2), "customId": "F-001"}), json.dumps(_invoice(3))]
    counts, failures = _batch(context, created, lines)
    assert (counts["created"], counts["failed"]) == (2, 1)
    assert [failure.split(":")[0] for failure in failures] == ["line 2"]
    assert _counts(context, created.id) == (2, 2)


def test_an_externalid_twice_in_a_batch_is_created_then_updated(context):
    created = _organization_with_customers(context, "Batch Twice Co")
    lines = [json.dumps(_invoice(1)), json.dumps({**_invoice(1), "netAmount": 50_000, "grossAmount": 60_000}),
             json.dumps(_invoice(2))]
    counts, failures = _batch(context, created, lines)
    assert (counts, failures) == ({"created": 2, "updated": 1, "failed": 0}, [])
    with open_book(context.database, created.id) as book:
        invoice = book.documents.find(external_id="inv-1")
        assert (invoice.subtotal, invoice.total) == (500, 600)
    assert _counts(context, created.id) == (2, 2)


def test_several_processes_import_each_externalid_in_the_order_of_the_file(context, database_url, tmp_path):
    """`--processes 2`: the externalIds shared out between two processes, each importing its lines in
    the order of the file: an invoice updated by a later line ends with the later line's amount, the
    counts and the refused line are reported as by one process."""
    created = _organization_with_customers(context, "Import Parallel Co")
    first = [_invoice(index, f"cust-{1 + index % 2}") for index in range(12)]
    later = [{**_invoice(index), "netAmount": 50_000 + index, "grossAmount": 60_000 + index} for index in range(0, 12, 3)]
    path = tmp_path / "invoices.jsonl"
    path.write_text("".join(json.dumps(body) + "\n" for body in first + later) + "{not json\n")

    code, summary = _import(database_url, path, created.slug, "--batch-size", "2", "--processes", "2")
    assert code == 1, summary
    assert (summary["lines"], summary["created"], summary["updated"], summary["failed"]) == (17, 12, 4, 1)
    assert [failure.split(":")[0] for failure in summary["failures"]] == ["line 17"]
    assert _counts(context, created.id) == (12, 12)  # each invoice posted once, updated in place
    with open_book(context.database, created.id) as book:
        totals = {document.external_id: document.subtotal for document in book.documents.all(Document.kind == "invoice")}
    assert totals == {f"inv-{index}": Decimal((50_000 if index % 3 == 0 else 10_000) + index) / 100
                      for index in range(12)}
