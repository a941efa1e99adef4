"""The invoice an accepted OneConnect document becomes in the book (docs/decisions/0015): a row of
`documents` (a sales invoice, a purchase invoice, or the credit note of their side when the entries
run the other way), so that Quipu's book entries and invoices, and OneUp's and Upflow's invoices, list
it with every other document.

It takes the received document's uuid (its documentId): that is the link both ways. It posts
nothing: the transaction the received document posted from its entries is the invoice's, so the
document services refuse to change or delete a document marked as received (`extra["oneconnect"]`,
services/sales.py): rewriting it would post a second transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

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
from comptoir.storage.book import Book
from comptoir.storage.tables import Account, Attachment, Document, ReceivedDocument

KINDS = {(SALES, False): INVOICE, (SALES, True): CREDIT_NOTE,
         (PURCHASE, False): PURCHASE_INVOICE, (PURCHASE, True): VENDOR_CREDIT}
SIDES = {SALES: book_entries.INCOME, PURCHASE: book_entries.EXPENSES}


def file_invoice(book: Book, received: ReceivedDocument, lines: Sequence[Line],
                 accounts: Mapping[str, Account], party_id: int | None) -> Document:
    """The invoice of a document whose entries were just posted, with its file attached; `party_id`:
    the third party its entries name, if any."""
    amounts = rules.invoice_amounts(lines, received.kind, accounts, book.organization.chart)
    kind = KINDS[received.kind, amounts.credit]
    number = received.external_reference or received.uuid
    on = lines[0].on  # every line has the same date: the document posted one transaction
    document = Document(
        kind=kind, uuid=received.uuid, customer_id=_party_id(book, received, party_id), date=on,
        due_date=amounts.due_on or on, due_date_explicit=amounts.due_on is not None,
        currency_iso_code=book.organization.currency_iso_code, subtotal=amounts.base, reduce_rate=Decimal(0),
        reduce_amount=Decimal(0), tax_amount=amounts.tax, fixed_tax_amount=amounts.tax, total=amounts.total,
        retention_amount=Decimal(0), taxes_per_line=False, vendor_reference=number if kind in PURCHASES else None,
        private_note=received.comment or "", public_note="", po_number="",
        extra={RECEIVED_MARK: {"documentId": received.uuid, "integrationId": received.integration_id}},
        delivery_status=NOT_DELIVERED, sent=False, cancelled=False)
    _add_numbered(book, document, number)
    book.attachments.add(Attachment(document_id=document.id, stored_file_id=received.file_id))
    return document


def original_copy(book: Book, root: Path, document: Document) -> files.Copy | None:
    """The file a partner deposited for this invoice, when it came from OneConnect as a PDF (and its
    bytes are still on the disk); None otherwise."""
    received = book.received_documents.find(uuid=document.uuid)
    stored = book.stored_files.get(received.file_id) if received is not None else None
    if stored is None or stored.content_type != files.PDF:
        return None
    copy = files.copy_of(root, stored)
    return copy if copy.path.exists() else None


def _party_id(book: Book, received: ReceivedDocument, named: int | None) -> int:
    """The third party the entries (or the `organization` JSON) named; else, as for a receipt that
    names no one, the walk-in party of the side."""
    if named is not None:
        return named
    return book_entries.walk_in_party(book, SIDES[received.kind]).id


def _add_numbered(book: Book, document: Document, number: str) -> None:
    """A sales document is numbered by the partner's number (externalReference, else the
    documentId), unless another of its kind has it: then by the documentId, which is always free. A
    purchase document keeps that number as the vendor's reference and takes an automatic code."""
    if document.kind in PURCHASES:
        document.user_code = next_code(book, document.kind, book.documents, "user_code")
        book.documents.add(document)
        return
    document.user_code = number
    try:
        with book.link.savepoint():  # the insert itself in the savepoint: a refusal leaves no row
            book.documents.add(document)
    except DomainError as error:
        taken = any(p.kind == ErrorKind.DUPLICATE and p.field == "user_code" for p in error.problems)
        if not taken or number == document.uuid:
            raise
        document.user_code = document.uuid
        book.documents.add(document)
