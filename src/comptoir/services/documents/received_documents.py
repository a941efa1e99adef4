"""Documents partners deposit through OneConnect: receiving one (its file stored, the document in the
book, exactly once per externalReference), booking it, refusing it.

A document with entries is decided at once: entries that balance and can be booked post as one
transaction of the document (Accepted), and the document is filed in the book as the invoice they
describe (services/received_invoices.py); otherwise it is Refused with the reason. Lines in another
currency than the book's keep it on their entries, and the rates they carry are kept for days the
book has none (docs/decisions/0028, "OneConnect"). A document without
entries is Waiting until `book` or `refuse` decides it. Each decision writes a DocumentStatus event
into the outbox, in the same transaction. The rules for accounts, journals and third parties the
organization lacks are in docs/decisions/0011-oneconnect-documents.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from comptoir.codec import dump_json, parse_json
from comptoir.domain import received as rules
from comptoir.domain.errors import DomainError, ErrorKind, NotFound, Problem, fail
from comptoir.domain.ledger import Posting
from comptoir.domain.parties import COMPANY
from comptoir.domain.rates import Rate
from comptoir.domain.received import ACCEPTED, PURCHASE, REFUSED, SALES, WAITING, Line, ThirdParty
from comptoir.services.access import webhooks
from comptoir.services.documents import files, received_invoices
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.validation import Checks
from comptoir.services.ledger import chart, posting, rates
from comptoir.services.masterdata import parties, reference
from comptoir.storage import deposits, masterdata
from comptoir.storage.book import Book
from comptoir.storage.repository import LEAN
from comptoir.storage.tables import Account, Party, ReceivedDocument
from comptoir.storage.tables.base import utcnow

SOURCE_TYPE = "received_document"  # the source_type of the transaction a document posts
NEW_ACCOUNT_NAME = "Account {number}"
# The journal of a document whose journal code the organization lacks (docs/decisions/0022).
JOURNAL_ROLES = {PURCHASE: "purchases", SALES: "sales"}


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
    source: str | None = None  # the public URL of the server it was deposited at: its webhooks' source


def receive(book: Book, files_root: Path, deposit: Deposit) -> Any:
    """Keep the deposited document, and decide it when it came with entries. Every problem of the
    request is reported at once and nothing is kept then; a taken externalReference is AlreadyDeposited.

    A document with entries is decided before it is written (its entries checked and their accounts,
    journal and third parties found, or made in a savepoint that a refusal undoes), so that it is
    written once, Accepted or Refused; then its transaction and its invoice are written."""
    sniffed = files.sniff(deposit.data) if deposit.data else None
    checks = Checks()
    checks.extend(rules.deposit_problems(
        filename=deposit.filename, sniffed_type=sniffed, has_file=bool(deposit.data), user_email=deposit.user_email,
        comment=deposit.comment, external_reference=deposit.external_reference))
    lines = _lines(book, deposit.entries, checks) if deposit.entries is not None else []
    counterparty, problems = rules.counterparty_problems(deposit.counterparty)
    checks.extend(problems)
    checks.raise_if_any()
    fields = {"uuid": str(uuid.uuid4()), "deposited_at": utcnow(),  # before it is decided
              "integration_id": deposit.integration_id, "partner_id": deposit.partner_id,
              "kind": deposit.kind, "filename": deposit.filename, "user_email": deposit.user_email,
              "comment": deposit.comment, "external_reference": deposit.external_reference,
              "entries": _text(deposit.entries), "counterparty": _text(deposit.counterparty), "status": WAITING}
    plan = _decide(book, SimpleNamespace(**fields, party_id=None), lines, counterparty) if lines else None
    if isinstance(plan, _Plan):
        fields.update(status=ACCEPTED, party_id=plan.party_id, decided_at=utcnow())
    elif plan is not None:
        fields.update(status=REFUSED, reason=plan, decided_at=utcnow())
    _, document = deposits.insert_deposit(book.link, book.org_id, files.write(
        book, files_root, deposit.filename, sniffed, deposit.data), fields)
    if document is None:  # another document of the integration holds its externalReference
        raise AlreadyDeposited(book.received_documents.find(integration_id=deposit.integration_id,
                                                            external_reference=deposit.external_reference))
    if isinstance(plan, _Plan):
        _book(book, document, plan)
    if plan is not None:
        webhooks.document_status(book, document, deposit.source)
    return document


def book_document(book: Book, integration_id: str, document_uuid: str, entries: Any, *,
                  source: str | None = None) -> ReceivedDocument:
    """Book a Waiting document with entries: they must balance and be bookable, or nothing changes
    (the problems are reported and the document keeps waiting). `source`: as `Deposit.source`."""
    document = _waiting(book, integration_id, document_uuid)
    checks = Checks()
    lines = _lines(book, entries, checks)
    checks.raise_if_any()
    sent = parse_json(document.counterparty.encode("utf-8")) if document.counterparty else None
    counterparty, _ = rules.counterparty_problems(sent)
    plan = _plan(book, document, lines, counterparty)  # a refusal ends the unit of work: nothing changes
    _book(book, document, plan)
    document.entries = _text(entries)
    if plan.party_id is not None:
        document.party_id = plan.party_id
    _record(book, document, ACCEPTED, None, source)
    return document


def refuse_document(book: Book, integration_id: str, document_uuid: str, reason: str | None, *,
                    source: str | None = None) -> ReceivedDocument:
    """Refuse a Waiting document, with the reason the partner will be told. `source`: as `Deposit.source`."""
    document = _waiting(book, integration_id, document_uuid)
    reason = (reason or "").strip()
    if not reason or len(reason) > rules.REASON_MAX:
        raise fail(ErrorKind.INVALID, "reason", f"is required: 1 to {rules.REASON_MAX} characters")
    _record(book, document, REFUSED, reason, source)
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
    minor_units = reference.currency_minor_units(book, book.organization.currency_iso_code)  # seeded with the book
    minor_units = 2 if minor_units is None else minor_units
    lines, problems = rules.entries_lines(entries, minor_units)
    checks.extend(problems)
    return lines


def _waiting(book: Book, integration_id: str, document_uuid: str) -> ReceivedDocument:
    document = book.received_documents.lock(get_document(book, integration_id, document_uuid).id)
    if document.status != WAITING:
        raise fail(ErrorKind.CONFLICT, "documentId", f"the document is already {document.status}")
    return document


def _record(book: Book, document: ReceivedDocument, status: str, reason: str | None, source: str | None) -> None:
    document.status, document.reason, document.decided_at = status, reason, utcnow()
    book.flush()
    webhooks.document_status(book, document, source)


@dataclass(frozen=True)
class _Plan:
    """What a document's entries post, checked and not written yet: the transaction, the invoice they
    describe (services/received_invoices.py) and the party they name (the document's, once accepted)."""

    transaction: Any  # posting.Prepared
    invoice: Any  # a DocumentDraft
    party_id: int | None
    rates: tuple[Rate, ...] = ()  # the rates its lines carry that the book will keep (`_rates_to_keep`)


def _decide(book: Book, document: Any, lines: Sequence[Line], counterparty: ThirdParty | None) -> _Plan | str:
    """The plan of a new document's entries, or the reason they are refused. What the plan made (an
    account, a journal, a third party the book lacked) is undone with a refusal: in a savepoint,
    which costs no statement when nothing was made (storage/link.Link.savepoint)."""
    try:
        with book.link.savepoint():
            return _plan(book, document, lines, counterparty)
    except DomainError as error:
        return error.describe()[:rules.REASON_MAX]


def _plan(book: Book, document: Any, lines: Sequence[Line], counterparty: ThirdParty | None) -> _Plan:
    """The entries as one transaction of the document, in its journal, on its accounts, with its
    third parties (what the book lacks is created by the rules of decision 0011); and the invoice
    they describe, which shares that transaction (decision 0015). Refused (DomainError) when they
    cannot post."""
    checks = Checks()
    on, problems = rules.one_value(lines, "on", "date")
    checks.extend(problems)
    journal_code, problems = rules.one_value(lines, "journal", "journal")
    checks.extend(problems)
    own = book.organization.currency_iso_code
    checks.extend(rules.currency_problems(lines, own))
    known = list(book.accounts_by_id().values())
    numbers = dict.fromkeys(line.account for line in lines)
    accounts = {number: _account(book, number, known, checks) for number in numbers}
    checks.raise_if_any()
    journal_id = _journal_id(book, journal_code, document.kind)
    role = "vendor" if document.kind == PURCHASE else "customer"
    named = {third: _party(book, role, third) for third in dict.fromkeys(line.third_party for line in lines) if third}
    if named:
        party_id = next(iter(named.values())).id
    elif counterparty:
        party_id = _party(book, role, counterparty).id
    else:
        party_id = document.party_id
    postings = [Posting(accounts[line.account].id, way, amount, line.label[:128], None,
                        named[line.third_party].id if line.third_party else None, **_in_currency(given, own))
                for line in lines for way, amount, given in rules.posted_sides(line)]
    number = rules.piece_number(document.kind, lines, document.external_reference, document.uuid)
    # The amounts are the book's already: posted as they are, in the currency of the invoice they describe.
    transaction = posting.prepare(book, on=on, piece_number=number, postings=postings, journal_id=journal_id,
                                  currency=received_invoices.currency_of(book, lines), converted=True)
    invoice = received_invoices.draft_invoice(book, document, lines, accounts, party_id, number)
    return _Plan(transaction, invoice, party_id, _rates_to_keep(book, lines, on))


def _in_currency(given: rules.Given | None, own_currency: str) -> dict[str, Any]:
    """An entry's money in another currency, as the line gave it (domain/ledger.Posting's fields):
    nothing for money in the book's currency, whose entries carry none."""
    given = rules.foreign(given, own_currency)
    return {} if given is None else {"currency": given.currency, "currency_amount": given.amount, "rate": given.rate}


def _rates_to_keep(book: Book, lines: Sequence[Line], on: Any) -> tuple[Rate, ...]:
    """The rates the lines carry for the currencies the book has no rate of on their day: kept once the
    document is booked, so that later documents of that day convert as it did (docs/decisions/0028,
    "OneConnect"). A rate the book has in force on that day is its own and stays so."""
    own = book.organization.currency_iso_code
    return tuple(Rate(currency, on, rate, "document") for currency, rate in rules.carried_rates(lines, own).items()
                 if not rates.has_rate_on(book, currency, on))


def _book(book: Book, document: Any, plan: _Plan) -> None:
    """The plan written: the transaction of the document, then its invoice with the file attached. A
    document is booked once, Waiting to Accepted: it has no transaction yet to look for."""
    received_invoices.number(book, plan.invoice)  # with the transaction's number, in one round trip
    posting.post_new(book, [(SOURCE_TYPE, document.id, plan.transaction)])
    received_invoices.file_invoice(book, plan.invoice, document.file_id)
    rates.keep_document_rates(book, plan.rates)


def _account(book: Book, number: str, known: list[Account], checks: Checks) -> Account | None:
    """The chart's account of that number (padding zeros aside), else a new one under the family
    whose number prefixes it, with the chart's name and nature for its number; refused when no family
    does."""
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
                                                                    "name": _new_account_name(book, number)}))
    return created


def _new_account_name(book: Book, number: str) -> str:
    """A new account is named by the chart (on the French one, 60610000 is "Fournitures non stockables
    (eau, énergie, etc.)", the plan's 6061); else "Account 60610000"."""
    return chart.name_by_the_chart(book, number) or NEW_ACCOUNT_NAME.format(number=number)


def _journal_id(book: Book, code: str, kind: str) -> int:
    """The journal of that code when the organization has one; else its journal of the document's
    side, purchases or sales: a partner's own code for it (ACH, HA, VE) makes no second purchases or
    sales journal (docs/decisions/0022). The kept chart answers without a statement."""
    kept = book.chart()
    if kept is not None:
        found = next((journal.id for journal in kept.journals.values() if journal.code == code), None)
    else:
        journal = book.journals.find(code=code)
        found = journal.id if journal is not None else None
    return found if found is not None else chart.journal_id_for(book, JOURNAL_ROLES[kind])


def _party(book: Book, role: str, third: ThirdParty) -> Party:
    """The party a line names, in the role the document gives it (vendor of a purchase invoice,
    customer of a sales invoice): found by its code in that role, else its SIREN, else its name;
    created otherwise, with the code (thirdParty) as its customer or vendor code."""
    code_name = parties.code_attribute(role)
    # By its code, the usual case, without the ORM (a view: its id is all the entries take).
    found = ((third.code and masterdata.party_by(book.link, book.org_id, code_name, third.code))
             or (third.siren and book.parties.find_with(LEAN, taxpayer_id=third.siren))
             or (third.name and book.parties.find_with(LEAN, full_name=third.name)))
    if found:
        if not getattr(found, f"is_{role}"):
            parties.take_role(book, book.parties.get(found.id), role, third.code or None)
        return found
    fields = {"type": COMPANY, "company_name": third.name or third.code or third.siren, "taxpayer_id": third.siren,
              "code": third.code or None}
    if not third.code:
        return parties.create_party(book, role, fields)
    party, _ = upsert(book, find=lambda: book.parties.find(**{code_name: third.code}), update=lambda row: row,
                      key=code_name, create=lambda: parties.create_party(book, role, fields))
    return party
