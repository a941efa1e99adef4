"""Documents partners deposit through OneConnect: receiving one (its file stored, the document in the
book, exactly once per externalReference), booking it, refusing it.

A document with entries is decided at once: entries that balance and can be booked post as one
transaction of the document (Accepted), and the document is filed in the book as the invoice they
describe (services/received_invoices.py); otherwise it is Refused with the reason. A document without
entries is Waiting until `book` or `refuse` decides it. Each decision writes a DocumentStatus event
into the outbox, in the same transaction. The rules for accounts, journals and third parties the
organization lacks are in docs/decisions/0011-oneconnect-documents.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comptoir.codec import dump_json, parse_json
from comptoir.domain import received as rules
from comptoir.domain.errors import DomainError, ErrorKind, NotFound, Problem, fail
from comptoir.domain.ledger import CREDIT, DEBIT, Posting
from comptoir.domain.parties import COMPANY
from comptoir.domain.received import ACCEPTED, PURCHASE, REFUSED, WAITING, Line, ThirdParty
from comptoir.services.access import webhooks
from comptoir.services.documents import files, received_invoices
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.validation import Checks
from comptoir.services.ledger import chart, posting
from comptoir.services.masterdata import parties, reference
from comptoir.storage.book import Book
from comptoir.storage.repository import LEAN
from comptoir.storage.tables import Account, Journal, Party, ReceivedDocument
from comptoir.storage.tables.base import utcnow

SOURCE_TYPE = "received_document"  # the source_type of the transaction a document posts
NEW_ACCOUNT_NAME = "Account {number}"


class AlreadyDeposited(DomainError):
    """The externalReference is taken by an earlier document of the integration: its documentId and
    when it was deposited (plain values: they outlive the transaction)."""

    def __init__(self, document: ReceivedDocument) -> None:
        super().__init__([Problem(ErrorKind.DUPLICATE, "externalReference",
                                  f"already used by document {document.uuid}")])
        self.document_id, self.deposited_at = document.uuid, document.deposited_at


@dataclass(frozen=True)
class Deposit:
    """What a partner sends: the file and its declared name, the optional fields, and the `entries`
    and `organization` JSON already parsed (None when not sent)."""

    integration_id: str
    partner_id: str
    kind: str  # purchase, sales
    data: bytes | None
    filename: str | None
    user_email: str | None = None
    comment: str | None = None
    external_reference: str | None = None
    entries: Any = None
    counterparty: Any = None


def receive(book: Book, files_root: Path, deposit: Deposit) -> ReceivedDocument:
    """Keep the deposited document, and decide it when it came with entries. Every problem of the
    request is reported at once and nothing is kept then; a taken externalReference is AlreadyDeposited."""
    sniffed = files.sniff(deposit.data) if deposit.data else None
    checks = Checks()
    checks.extend(rules.deposit_problems(
        filename=deposit.filename, sniffed_type=sniffed, has_file=bool(deposit.data), user_email=deposit.user_email,
        comment=deposit.comment, external_reference=deposit.external_reference))
    lines = _lines(book, deposit.entries, checks) if deposit.entries is not None else []
    counterparty, problems = rules.counterparty_problems(deposit.counterparty)
    checks.extend(problems)
    checks.raise_if_any()
    _refuse_taken(book, deposit.integration_id, deposit.external_reference)
    stored = files.store(book, files_root, deposit.filename, sniffed, deposit.data)
    document = ReceivedDocument(
        integration_id=deposit.integration_id, partner_id=deposit.partner_id, kind=deposit.kind, file_id=stored.id,
        filename=deposit.filename, user_email=deposit.user_email, comment=deposit.comment,
        external_reference=deposit.external_reference, entries=_text(deposit.entries),
        counterparty=_text(deposit.counterparty),
        status=WAITING)
    try:
        with book.link.savepoint():  # the insert itself must happen inside the savepoint
            book.received_documents.add(document)
    except DomainError as error:  # a concurrent deposit of the same externalReference won the race
        if any(p.kind == ErrorKind.DUPLICATE and p.field == "external_reference" for p in error.problems):
            _refuse_taken(book, deposit.integration_id, deposit.external_reference)
        raise
    if lines:
        _decide(book, document, lines, counterparty, new=True)
    return document


def book_document(book: Book, integration_id: str, document_uuid: str, entries: Any) -> ReceivedDocument:
    """Book a Waiting document with entries: they must balance and be bookable, or nothing changes
    (the problems are reported and the document keeps waiting)."""
    document = _waiting(book, integration_id, document_uuid)
    checks = Checks()
    lines = _lines(book, entries, checks)
    checks.raise_if_any()
    sent = parse_json(document.counterparty.encode("utf-8")) if document.counterparty else None
    counterparty, _ = rules.counterparty_problems(sent)
    with book.link.savepoint():
        party_id = _post(book, document, lines, counterparty, new=False)
    document.entries = _text(entries)
    _accept(book, document, party_id)
    return document


def refuse_document(book: Book, integration_id: str, document_uuid: str, reason: str | None) -> ReceivedDocument:
    """Refuse a Waiting document, with the reason the partner will be told."""
    document = _waiting(book, integration_id, document_uuid)
    reason = (reason or "").strip()
    if not reason or len(reason) > rules.REASON_MAX:
        raise fail(ErrorKind.INVALID, "reason", f"is required: 1 to {rules.REASON_MAX} characters")
    _record(book, document, REFUSED, reason)
    return document


def get_document(book: Book, integration_id: str, document_uuid: str) -> ReceivedDocument:
    document = book.received_documents.find(uuid=document_uuid, integration_id=integration_id)
    if document is None:
        raise NotFound("document", document_uuid)
    return document


def transaction_of(book: Book, document: ReceivedDocument) -> Any:
    return book.transactions.find(source_type=SOURCE_TYPE, source_id=document.id)


# -- deciding ----------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    """JSON as kept with the document: exact numbers, as sent."""
    return dump_json(value).decode("utf-8") if value is not None else None


def _lines(book: Book, entries: Any, checks: Checks) -> list[Line]:
    minor_units = reference.minor_units(book).get(book.organization.currency_iso_code, 2)
    lines, problems = rules.entries_lines(entries, minor_units)
    checks.extend(problems)
    return lines


def _refuse_taken(book: Book, integration_id: str, external_reference: str | None) -> None:
    if external_reference is None:
        return
    existing = book.received_documents.find(integration_id=integration_id, external_reference=external_reference)
    if existing is not None:
        raise AlreadyDeposited(existing)


def _waiting(book: Book, integration_id: str, document_uuid: str) -> ReceivedDocument:
    document = book.received_documents.lock(get_document(book, integration_id, document_uuid).id)
    if document.status != WAITING:
        raise fail(ErrorKind.CONFLICT, "documentId", f"the document is already {document.status}")
    return document


def _decide(book: Book, document: ReceivedDocument, lines: Sequence[Line], counterparty: ThirdParty | None, *,
            new: bool) -> None:
    """Accepted when the entries post; Refused with the reason when they cannot."""
    try:
        with book.link.savepoint():
            party_id = _post(book, document, lines, counterparty, new=new)
    except DomainError as error:
        _record(book, document, REFUSED, error.describe()[:rules.REASON_MAX])
    else:
        _accept(book, document, party_id)


def _accept(book: Book, document: ReceivedDocument, party_id: int | None) -> None:
    """Accepted, with the party its entries named: one UPDATE of the document for both."""
    if party_id is not None:
        document.party_id = party_id
    _record(book, document, ACCEPTED, None)


def _record(book: Book, document: ReceivedDocument, status: str, reason: str | None) -> None:
    document.status, document.reason, document.decided_at = status, reason, utcnow()
    book.flush()
    webhooks.document_status(book, document)


def _post(book: Book, document: ReceivedDocument, lines: Sequence[Line], counterparty: ThirdParty | None, *,
          new: bool) -> int | None:
    """The entries as one transaction of the document, in its journal, on its accounts, with its
    third parties (what the book lacks is created by the rules of decision 0011); then the invoice
    they describe, which shares that transaction (decision 0015). The party the entries name (the
    document's, once accepted). `new`: the document was received in this unit of work, so it has no
    transaction yet to look for."""
    checks = Checks()
    on, problems = rules.one_value(lines, "on", "date")
    checks.extend(problems)
    journal_code, problems = rules.one_value(lines, "journal", "journal")
    checks.extend(problems)
    known = list(book.accounts_by_id().values())
    numbers = dict.fromkeys(line.account for line in lines)
    accounts = {number: _account(book, number, known, checks) for number in numbers}
    checks.raise_if_any()
    journal = _journal(book, journal_code, next((line.journal_label for line in lines if line.journal_label), ""))
    role = "vendor" if document.kind == PURCHASE else "customer"
    named = {third: _party(book, role, third) for third in dict.fromkeys(line.third_party for line in lines) if third}
    if named:
        party_id = next(iter(named.values())).id
    elif counterparty:
        party_id = _party(book, role, counterparty).id
    else:
        party_id = document.party_id
    postings = [Posting(accounts[line.account].id, way, amount, line.label[:128], None,
                        named[line.third_party].id if line.third_party else None)
                for line in lines for way, amount in ((DEBIT, line.debit), (CREDIT, line.credit)) if amount]
    transaction = {"on": on, "piece_number": document.external_reference or document.uuid,
                   "currency": book.organization.currency_iso_code, "postings": postings, "journal_id": journal.id}
    if new:
        posting.post_new(book, [(SOURCE_TYPE, document.id, posting.prepare(book, **transaction))])
    else:
        posting.post(book, source_type=SOURCE_TYPE, source_id=document.id, **transaction)
    received_invoices.file_invoice(book, document, lines, accounts, party_id)
    return party_id


def _account(book: Book, number: str, known: list[Account], checks: Checks) -> Account | None:
    """The chart's account of that number (padding zeros aside), else a new one under the family
    whose number prefixes it; refused when no family does."""
    account = rules.matching_account(number, known)
    if account is not None:
        return account
    family = rules.family_for(number, known)
    if family is None:
        checks.add(ErrorKind.INVALID, "entries", f"the account {number} is not in the chart, and no family "
                                                 "account of the chart is a prefix of it")
        return None
    created, _ = upsert(book, find=lambda: book.accounts.find(number=number), update=lambda row: row, key="number",
                        create=lambda: chart.ACCOUNTS.create(book, {"number": number, "family_id": family.id,
                                                                    "name": NEW_ACCOUNT_NAME.format(number=number)}))
    return created


def _journal(book: Book, code: str, label: str) -> Journal:
    """The journal of that code, created (named by the journalLabel, else the code) when missing."""
    kept = book.chart()
    found = next((journal for journal in kept.journals.values() if journal.code == code), None) if kept else None
    if found is not None:
        return found
    journal, _ = upsert(book, find=lambda: book.journals.find(code=code), update=lambda row: row, key="code",
                        create=lambda: chart.JOURNALS.create(book, {"code": code, "name": (label or code)[:64]}))
    return journal


def _party(book: Book, role: str, third: ThirdParty) -> Party:
    """The party a line names, in the role the document gives it (vendor of a purchase invoice,
    customer of a sales invoice): found by its code in that role, else its SIREN, else its name;
    created otherwise, with the code (thirdParty) as its customer or vendor code."""
    code_name = parties.code_attribute(role)
    # Its columns are all it takes (its relationships load if ever read).
    found = ((third.code and book.parties.find_with(LEAN, **{code_name: third.code}))
             or (third.siren and book.parties.find_with(LEAN, taxpayer_id=third.siren))
             or (third.name and book.parties.find_with(LEAN, full_name=third.name)))
    if found:
        if not getattr(found, f"is_{role}"):
            parties.take_role(book, found, role, third.code or None)
        return found
    fields = {"type": COMPANY, "company_name": third.name or third.code or third.siren, "taxpayer_id": third.siren,
              "code": third.code or None}
    if not third.code:
        return parties.create_party(book, role, fields)
    party, _ = upsert(book, find=lambda: book.parties.find(**{code_name: third.code}), update=lambda row: row,
                      key=code_name, create=lambda: parties.create_party(book, role, fields))
    return party
