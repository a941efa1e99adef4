"""The invoice an accepted OneConnect document becomes in the book (docs/decisions/0015): a row of
`documents` (a sales invoice, a purchase invoice, or the credit note of their side when the entries
run the other way), so that Quipu's book entries and invoices, and OneUp's and Upflow's invoices, list
it with every other document.

It takes the received document's uuid (its documentId): that is the link both ways. Lines given in
one currency other than the book's describe an invoice in that currency, at the rate of its third
party's line (docs/decisions/0028, "OneConnect"). It posts
nothing: the transaction the received document posted from its entries is the invoice's, so the
document services refuse to change or delete a document marked as received (`extra["oneconnect"]`,
services/sales.py): rewriting it would post a second transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from comptoir.domain import received as rules
from comptoir.domain.errors import DomainError, ErrorKind
from comptoir.domain.received import PURCHASE, SALES, Line
from comptoir.services.documents import book_entries, files
from comptoir.services.documents.sales import (
    CREDIT_NOTE,
    INVOICE,
    NOT_DELIVERED,
    PURCHASE_INVOICE,
    PURCHASES,
    RECEIVED_MARK,
    VENDOR_CREDIT,
)
from comptoir.services.kernel.codes import next_code
from comptoir.services.masterdata import reference
from comptoir.storage import deposits
from comptoir.storage.book import Book
from comptoir.storage.documents import DocumentDraft
from comptoir.storage.tables import Account, Document

KINDS = {(SALES, False): INVOICE, (SALES, True): CREDIT_NOTE,
         (PURCHASE, False): PURCHASE_INVOICE, (PURCHASE, True): VENDOR_CREDIT}
SIDES = {SALES: book_entries.INCOME, PURCHASE: book_entries.EXPENSES}


def draft_invoice(book: Book, received: Any, lines: Sequence[Line], accounts: Mapping[str, Account],
                  party_id: int | None, number: str) -> Any:
    """The invoice a document's entries describe, not written yet (a DocumentDraft): its amounts
    checked (a refusal is the document's), its code not taken yet. `received`: the received
    document (its uuid, kind, integration and comment); `party_id`: the third party its entries name,
    if any; `number`: its transaction's piece number (`rules.piece_number`), which is a sale's number
    and a purchase's vendor reference (the supplier's invoice number)."""
    chart = book.organization.chart
    currency = currency_of(book, lines)
    in_book_currency = currency == book.organization.currency_iso_code
    amounts = rules.invoice_amounts(lines if in_book_currency else rules.as_given(lines), received.kind, accounts,
                                    chart)
    kind = KINDS[received.kind, amounts.credit]
    on = lines[0].on  # every line has the same date: the document posted one transaction
    return DocumentDraft(
        kind=kind, uuid=received.uuid, customer_id=_party_id(book, received, party_id), date=on,
        due_date=amounts.due_on or on, due_date_explicit=amounts.due_on is not None, currency_iso_code=currency,
        exchange_rate=None if in_book_currency else rules.invoice_rate(lines, received.kind, accounts, chart),
        subtotal=amounts.base, reduce_rate=Decimal(0),
        reduce_amount=Decimal(0), tax_amount=amounts.tax, fixed_tax_amount=amounts.tax, total=amounts.total,
        retention_amount=Decimal(0), taxes_per_line=False, vendor_reference=number if kind in PURCHASES else None,
        user_code=None if kind in PURCHASES else number, private_note=received.comment or "", public_note="",
        po_number="", extra={RECEIVED_MARK: {"documentId": received.uuid, "integrationId": received.integration_id}},
        # A sale accepted is an invoice issued (by the partner's system, under its number): final
        # (docs/decisions/0026); a purchase is its supplier's.
        delivery_status=NOT_DELIVERED, sent=kind not in PURCHASES, cancelled=False)


def currency_of(book: Book, lines: Sequence[Line]) -> str:
    """The currency of the invoice the lines describe (and of their transaction): the one currency every
    line that posts was given in, when it is not the book's and is one of the organization's (a
    document's currency must be: OneUp, Upflow and Quipu read it); else the book's, the currency of
    the lines' amounts (docs/decisions/0028, "OneConnect")."""
    own = book.organization.currency_iso_code
    given = rules.one_foreign_currency(lines, own)
    return given if given is not None and given in reference.minor_units(book) else own


def number(book: Book, invoice: Any) -> None:
    """A purchase document's automatic code, and the number of the transaction posted next with it
    (one round trip: services/kernel/codes.next_code). A sales document is numbered by the partner's
    number already (`draft_invoice`)."""
    if invoice.kind in PURCHASES:
        invoice.user_code = next_code(book, invoice.kind, book.documents, "user_code", with_numbers=("transaction",))


def file_invoice(book: Book, invoice: Any, file_id: int) -> Any:
    """The invoice written (a DocumentView), with the deposited file attached. A sales document whose
    number another of its kind has takes the documentId instead, which is always free."""
    if invoice.kind in PURCHASES:
        [filed] = book.document_store.insert([invoice])
    else:
        try:
            with book.link.savepoint():  # the insert itself in the savepoint: a refusal leaves no row
                [filed] = book.document_store.insert([invoice])
        except DomainError as error:
            taken = any(p.kind == ErrorKind.DUPLICATE and p.field == "user_code" for p in error.problems)
            if not taken or invoice.user_code == invoice.uuid:
                raise
            invoice.user_code = invoice.uuid
            [filed] = book.document_store.insert([invoice])
    deposits.insert_attachment(book.link, book.org_id, filed.id, file_id)
    return filed


def original_copy(book: Book, root: Path, document: Document) -> files.Copy | None:
    """The file a partner deposited for this invoice, when it came from OneConnect as a PDF (and its
    bytes are still on the disk); None otherwise."""
    received = book.received_documents.find(uuid=document.uuid)
    stored = book.stored_files.get(received.file_id) if received is not None else None
    if stored is None or stored.content_type != files.PDF:
        return None
    copy = files.copy_of(root, stored)
    return copy if copy.path.exists() else None


def _party_id(book: Book, received: Any, named: int | None) -> int:
    """The third party the entries (or the `organization` JSON) named; else, as for a receipt that
    names no one, the walk-in party of the side."""
    if named is not None:
        return named
    return book_entries.walk_in_party(book, SIDES[received.kind]).id
