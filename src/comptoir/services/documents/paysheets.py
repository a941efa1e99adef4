"""Paysheets: what an employee is paid for a period. A paysheet is a document of kind `paysheet`
whose party is the employee, with its amounts beside it (PaysheetAmounts); it posts the gross pay and
the company's social security as expenses, against what is owed to the employee, to the tax office
(income tax withheld) and to social security (docs/decisions/0013), in the miscellaneous operations
journal. What is owed to the employee is wages payable (PCG 421), never the suppliers' account, and
`paid_at` settles it (docs/decisions/0022)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from comptoir.domain import charts
from comptoir.domain.documents import PAYSHEET
from comptoir.domain.errors import ErrorKind, NotFound
from comptoir.domain.ledger import CREDIT, DEBIT, Posting, net
from comptoir.domain.money import round_minor
from comptoir.services.documents import attachments, book_entries
from comptoir.services.documents import numbering
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.services.ledger import chart, posting
from comptoir.services.masterdata import parties, reference
from comptoir.storage.book import Book
from comptoir.storage.tables import Document, PaysheetAmounts

AMOUNTS = ("net_pay", "employee_ss_amount", "employee_retention", "company_ss_amount")
HEADER = ("date", "paid_at", "series_id", "account_id")
# Payroll is posted in the OD journal, which every book has (charts.JOURNALS): docs/decisions/0022.
JOURNAL_ROLE = "miscellaneous"


def get(book: Book, document_id: int) -> Document:
    document = book.documents.get(document_id)
    if document is None or document.kind != PAYSHEET:
        raise NotFound("paysheet", document_id)
    return document


def amounts_of(book: Book, document: Document) -> PaysheetAmounts:
    return book.paysheet_amounts.find(document_id=document.id)


def gross_pay(amounts: PaysheetAmounts) -> Decimal:
    return amounts.net_pay + amounts.employee_ss_amount + amounts.employee_retention


def create(book: Book, fields: Mapping[str, Any]) -> Document:
    document = Document(kind=PAYSHEET, extra={}, reduce_rate=Decimal(0), po_number="", public_note="",
                        private_note="", delivery_status=1, sent=False, cancelled=False,
                        currency_iso_code=book.organization.currency_iso_code)
    amounts = PaysheetAmounts(**{name: Decimal(0) for name in AMOUNTS})
    _write(book, document, amounts, fields, creating=True)
    book.documents.add(document)
    amounts.document_id = document.id
    book.paysheet_amounts.add(amounts)
    _post(book, document, amounts)
    if document.paid_at is not None:
        book_entries.settle_declared(book, document)
    return document


def update(book: Book, document_id: int, fields: Mapping[str, Any]) -> Document:
    document = get(book, document_id)
    book.documents.lock(document.id)
    amounts = amounts_of(book, document)
    paid_at, net_pay = document.paid_at, amounts.net_pay  # as they were
    _write(book, document, amounts, fields, creating=False)
    book.flush()
    _post(book, document, amounts)
    declared = "paid_at" in fields and document.paid_at != paid_at  # declared, moved or withdrawn
    if declared or (document.paid_at is not None and amounts.net_pay != net_pay):  # or what it pays moved
        book_entries.settle_declared(book, document)
    return document


def delete(book: Book, files_root: Path, document_id: int) -> None:
    document = get(book, document_id)
    attachments.delete_of_document(book, files_root, document.id)
    ensure_unreferenced(book, Document, document.id, "paysheet")
    book_entries.withdraw_declared(book, document)
    posting.unpost(book, PAYSHEET, document.id)
    book.documents.remove(document)


def _write(book: Book, document: Document, amounts: PaysheetAmounts, fields: Mapping[str, Any], *,
           creating: bool) -> None:
    checks = Checks()
    with book.session.no_autoflush:
        if creating or "party_id" in fields:
            party = book.parties.get(fields.get("party_id")) if fields.get("party_id") is not None else None
            if fields.get("party_id") is None:
                checks.required(None, "party_id")
            elif party is None:
                checks.add(ErrorKind.INVALID, "party_id", f"no contact with id {fields['party_id']}")
        checks.reference(fields, "series_id", book.numbering_series)
        account = book.accounts.get(fields["account_id"]) if fields.get("account_id") is not None else None
        if fields.get("account_id") is not None and (account is None or account.is_family):
            checks.add(ErrorKind.INVALID, "account_id", f"no postable account with id {fields['account_id']}")
        for name in AMOUNTS:
            if fields.get(name) is not None and fields[name] < 0:
                checks.add(ErrorKind.INVALID, name, "should not be negative")
        checks.raise_if_any()
        if fields.get("party_id") is not None:
            parties.take_role(book, party, parties.EMPLOYEE)
            document.customer_id = party.id
            document.customer = party
        apply(document, fields, HEADER)
        exponent = reference.smallest_unit(book, document.currency_iso_code)  # the organization's currency
        apply(amounts, {name: round_minor(fields[name], exponent) for name in AMOUNTS if fields.get(name) is not None},
              AMOUNTS)
        if fields.get("extra"):
            document.extra = {**(document.extra or {}), **fields["extra"]}
        document.date = document.date or date.today()
        document.due_date = document.date
        if not document.user_code:
            numbering.number_document(book, document, with_transaction=False)
        document.subtotal = document.total = gross_pay(amounts)
        document.retention_amount = amounts.employee_retention


def _post(book: Book, document: Document, amounts: PaysheetAmounts) -> None:
    """Salaries (gross) and the company's social security as expenses; owed to the employee (net, on
    wages payable: an employee is no supplier), to the tax office (retention) and to social security
    (both shares)."""
    label = f"Paysheet {document.user_code}"
    account = chart.account_for
    salaries = document.account_id or account(book, charts.SALARIES).id
    postings = net([
        Posting(salaries, DEBIT, gross_pay(amounts), label),
        Posting(account(book, charts.SOCIAL_SECURITY).id, DEBIT, amounts.company_ss_amount, f"{label} - Social security"),
        Posting(account(book, charts.WAGES_PAYABLE).id, CREDIT, amounts.net_pay, label, document.user_code,
                document.customer_id),
        Posting(account(book, charts.RETENTION_PAYABLE).id, CREDIT, amounts.employee_retention,
                f"{label} - Income tax withheld"),
        Posting(account(book, charts.SOCIAL_SECURITY_PAYABLE).id, CREDIT,
                amounts.employee_ss_amount + amounts.company_ss_amount, f"{label} - Social security"),
    ])
    if not postings:
        posting.unpost(book, PAYSHEET, document.id)
        return
    posting.post(book, source_type=PAYSHEET, source_id=document.id, journal_role=JOURNAL_ROLE,
                 on=document.date, piece_number=document.user_code, currency=document.currency_iso_code,
                 postings=postings)
