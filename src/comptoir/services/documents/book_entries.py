"""Book entries: the invoices of both sides seen together (Quipu's book_entries, invoices,
simplified invoices, additional incomes, tickets). An income entry is a sales invoice, an expense
entry a purchase invoice; an amending entry is a credit note of its side (docs/decisions/0013). They
are the documents of services/sales.py, with the same lines, totals and postings, so an invoice
written here is one OneUp lists, and an invoice written elsewhere is listed here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func

from comptoir.domain import charts
from comptoir.domain.documents import ALL_KINDS, INVOICE_KINDS, PAYSHEET
from comptoir.domain.errors import ErrorKind, NotFound, Rule, broken, fail
from comptoir.domain.ledger import CREDIT, DEBIT, Posting
from comptoir.domain.parties import COMPANY
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.documents import attachments
from comptoir.services.documents.sales import (
    BY_KIND,
    CREDIT_NOTE,
    CREDITS,
    INVOICE,
    LINE_FIELDS,
    PURCHASE_INVOICE,
    PURCHASES,
    VENDOR_CREDIT,
)
from comptoir.services.kernel.imports import upsert
from comptoir.services.ledger import chart, posting
from comptoir.services.masterdata import parties
from comptoir.services.settlement import lettering
from comptoir.services.settlement.payments import PAYMENTS
from comptoir.services.settlement.standing import standing
from comptoir.storage import masterdata
from comptoir.storage.book import Book
from comptoir.storage.tables import Allocation, Document

INCOME, EXPENSES = "income", "expenses"
_CREDIT_OF = {INVOICE: CREDIT_NOTE, PURCHASE_INVOICE: VENDOR_CREDIT}
PAID, PARTIALLY_PAID, UNPAID = "paid", "partially_paid", "unpaid"


def side_of(kind: str) -> str:
    return EXPENSES if kind in (*PURCHASES, PAYSHEET) else INCOME


def kinds_of(side: str | None) -> tuple[str, ...]:
    """The document kinds of a side (income, expenses), or of both."""
    if side is None:
        return INVOICE_KINDS
    return (INVOICE, CREDIT_NOTE) if side == INCOME else (PURCHASE_INVOICE, VENDOR_CREDIT)


def _scope(kinds: Sequence[str], form: str | None) -> tuple[Condition, ...]:
    return Condition("kind", Op.IN, tuple(kinds)), Condition("form", Op.EQ, form)


def get(book: Book, document_id: int, *, form: str | None = None, kinds: Sequence[str] = INVOICE_KINDS) -> Document:
    document = book.documents.get(document_id)
    if document is None or document.kind not in kinds or document.form != form:
        raise NotFound(form or "invoice", document_id)
    return document


def get_any(book: Book, document_id: int) -> Document:
    """A book entry of any kind and form (GET /book_entries/{id}): an invoice, a receipt, a paysheet."""
    document = book.documents.get(document_id)
    if document is None or document.kind not in ALL_KINDS:
        raise NotFound("book entry", document_id)
    return document


def list_entries(book: Book, query: ListQuery, *, form: str | None = None,
                 kinds: Sequence[str] = INVOICE_KINDS) -> tuple[Sequence[Document], bool]:
    return book.documents.list(replace(query, conditions=(*_scope(kinds, form), *query.conditions)))


def count_entries(book: Book, query: ListQuery, *, form: str | None = None,
                  kinds: Sequence[str] = INVOICE_KINDS) -> int:
    return book.documents.count_matching((*_scope(kinds, form), *query.conditions))


def create(book: Book, side: str, fields: Mapping[str, Any], *, form: str | None = None) -> Document:
    """A new entry of the side. With `amends_id` it amends that entry: a credit note of the entry's
    side, for the same party, with the entry's own lines when it names none (a full refund)."""
    kind = INVOICE if side == INCOME else PURCHASE_INVOICE
    fields = dict(fields)
    if fields.get("amends_id") is not None:
        amended = get(book, fields["amends_id"], form=form, kinds=(INVOICE, PURCHASE_INVOICE))
        kind = _CREDIT_OF[amended.kind]
        fields.setdefault("party_id", amended.customer_id)
        if "lines" not in fields:
            fields["lines"] = full_refund_lines(amended)
    if form is not None and fields.get("party_id") is None:  # a receipt names no one: a walk-in party
        fields["party_id"] = walk_in_party(book, side).id
    _give_role(book, kind, fields.get("party_id"))
    documents = BY_KIND[kind]
    document = documents.create(book, {**_core(documents, fields, form), "taxes_per_line": True})
    if document.paid_at is not None:
        settle_declared(book, document)
    return document


def update(book: Book, document_id: int, fields: Mapping[str, Any], *, form: str | None = None) -> Document:
    document = get(book, document_id, form=form)
    if "amends_id" in fields and fields["amends_id"] != document.amends_id:
        raise fail(ErrorKind.READ_ONLY, "amends_id", "the entry an amending entry amends cannot change")
    if "party_id" in fields:
        _give_role(book, document.kind, fields["party_id"])
    documents = BY_KIND[document.kind]
    # As they were (the row is read again after): what is declared paid follows them.
    paid_at, total, letter = document.paid_at, document.total, _payable_letter(document)
    core = _core(documents, fields, form)
    if "lines" in fields:  # items written through Quipu: taxed as Quipu taxes them
        core["taxes_per_line"] = True
    updated = documents.update(book, document.id, core)
    declared = "paid_at" in fields and updated.paid_at != paid_at  # declared, moved or withdrawn
    if declared or (updated.paid_at is not None and (updated.total, _payable_letter(updated))
                    != (total, letter)):  # or its amount or its letter moved
        settle_declared(book, updated)
    return updated


def delete(book: Book, files_root: Path, document_id: int, *, form: str | None = None) -> None:
    """Delete the entry with its attachments (their bytes go once the transaction commits)."""
    document = get(book, document_id, form=form)
    withdraw_declared(book, document)  # the payment its paid_at made goes with it
    attachments.delete_of_document(book, files_root, document.id)
    BY_KIND[document.kind].delete(book, document.id)


def _core(documents: Any, fields: Mapping[str, Any], form: str | None) -> dict[str, Any]:
    """The entry's fields as the document service names them: its party under the side's name. An
    entry created here, or given items here, has its taxes computed line by line (`create`, `update`);
    one changed otherwise keeps its own rule: an invoice imported through Upflow with its tax as given,
    or a OneUp one taxed on its total, is not recomputed line by line because Quipu declares it paid."""
    core = {name: value for name, value in fields.items() if name != "party_id"}
    if "party_id" in fields:
        core[documents.party_field] = fields["party_id"]
    return {**core, "form": form}


# The party of the entries that name none (simplified invoices, tickets, additional incomes sold over
# the counter): one per side and organization, found by its external id.
WALK_IN = {INCOME: ("comptoir:walk-in-customers", "Walk-in customers", "customer"),
           EXPENSES: ("comptoir:walk-in-vendors", "Walk-in vendors", "vendor")}


def walk_in_party(book: Book, side: str) -> Any:
    """The organization's walk-in party of the side, created on first use (exactly once, even when
    requests race: services/imports.py)."""
    external_id, name, role = WALK_IN[side]
    party, _ = upsert(book, find=lambda: book.parties.find(external_id=external_id), update=lambda found: found,
                      create=lambda: parties.create_party_in_roles(
                          book, [role], {"type": COMPANY, "company_name": name, "external_id": external_id}))
    return party


def _give_role(book: Book, kind: str, party_id: int | None) -> None:
    """The party of an entry plays the side's role from then on (a contact first invoiced becomes a
    customer; first billed by, a vendor)."""
    party = masterdata.parties(book.link, book.org_id, [party_id]).get(party_id) if party_id is not None else None
    if party is None:
        return  # the document service reports the missing or unknown party
    role = "vendor" if kind in PURCHASES else "customer"
    if not getattr(party, f"is_{role}"):
        parties.take_role(book, book.parties.get(party_id), role)


def full_refund_lines(amended: Any) -> list[dict[str, Any]]:
    """The lines of a credit note that refunds the amended document in full: a copy of its own (OneUp's
    credit notes without order lines do the same: services/documents/credit_notes.py)."""
    if not amended.lines:  # an invoice imported with its totals only
        raise fail(ErrorKind.MISSING, "lines", "the amended entry has no items to refund in full: "
                                               "send the items of the refund")
    return [_copy_line(line) for line in amended.lines]


def _copy_line(line: Any) -> dict[str, Any]:
    copied = {name: getattr(line, name) for name in LINE_FIELDS}
    copied["extra"] = dict(line.extra or {})
    return copied


# -- paid by declaration (Quipu's paid_at) -----------------------------------------------------------

DECLARED_PAYMENT = "declared_payment"  # the source type of what settles an expense declared paid


def settle_declared(book: Book, document: Any) -> None:
    """What `paid_at` declares, in the book for every dialect to see (docs/decisions/0019 §8): an
    invoice declared paid gets a payment of what remained unpaid, dated `paid_at` (bank or undeposited
    funds against receivable, allocated to it as any payment); a purchase invoice, the payable settled
    against undeposited funds on that day; a paysheet, the net pay owed to the employee, on wages
    payable (docs/decisions/0022). Written again whenever the entry changes while declared paid;
    withdrawn when `paid_at` is cleared. Credit notes keep `paid_at` as a declaration only."""
    withdraw_declared(book, document)
    if document.paid_at is None or document.kind not in (INVOICE, PURCHASE_INVOICE, PAYSHEET):
        return
    # Wages may be paid before the paysheet's date (on the 28th, for a sheet dated the 31st).
    if document.paid_at < document.date and document.kind != PAYSHEET:
        raise broken(Rule.PAYMENT_BEFORE_DOCUMENT, f"paid on {document.paid_at}, before the entry's date "
                                                   f"{document.date}", "paid_at")
    if document.kind == INVOICE:
        remaining = standing(book, book.documents.get(document.id)).unpaid
        if remaining > 0:
            PAYMENTS.create(book, {"invoice_id": document.id, "amount": remaining, "date": document.paid_at,
                                   "external_id": _declared_key(document)})
        return
    owed, amount = _owed(book, document)
    if amount == 0:
        return
    letter = lettering.document_letter(document)  # the document's own entry's: their group sums to zero
    label = f"Paid {letter}"
    posting.post(book, source_type=DECLARED_PAYMENT, source_id=document.id, journal_role="bank",
                 on=document.paid_at, piece_number=document.user_code, currency=document.currency_iso_code,
                 postings=[Posting(chart.account_for(book, owed).id, DEBIT, amount, label, letter,
                                   document.customer_id, rate=document.exchange_rate),  # leaves at its rate
                           Posting(chart.account_for(book, charts.UNDEPOSITED).id, CREDIT, amount, label)])


def _owed(book: Book, document: Any) -> tuple[str, Decimal]:
    """The role of the account an expense declared paid settles, and how much: a purchase invoice's
    total, owed to its vendor; a paysheet's net pay, owed to its employee."""
    if document.kind == PAYSHEET:
        return charts.WAGES_PAYABLE, book.paysheet_amounts.find(document_id=document.id).net_pay
    return charts.PAYABLE, document.total


def _payable_letter(document: Any) -> str | None:
    """The letter a purchase invoice's declared payment carries (a sales invoice's payment takes its
    invoice's new letter when the invoice is renumbered: services/documents/sales.py)."""
    return lettering.document_letter(document) if document.kind == PURCHASE_INVOICE else None


def withdraw_declared(book: Book, document: Any) -> None:
    """Undo what a former `paid_at` of the entry wrote (nothing when it had none)."""
    if document.kind == INVOICE:
        declared = book.payments.find(external_id=_declared_key(document))
        if declared is not None:
            PAYMENTS.delete(book, declared.id)
    elif document.kind in (PURCHASE_INVOICE, PAYSHEET):
        posting.unpost(book, DECLARED_PAYMENT, document.id)


def _declared_key(document: Any) -> str:
    """The external id of the payment an invoice's paid_at made (unique, as every payment's is)."""
    return f"paid-at:{document.uuid}"


# -- what is paid ------------------------------------------------------------------------------

def paid_amount(book: Book, document: Document) -> Decimal:
    """What is settled of an entry: all of it once it is declared paid, else what payments and
    credit notes allocate to it."""
    if document.paid_at is not None:
        return document.total
    settled = getattr(document, "settled", None)  # read with the document (a DocumentView), or known: none
    if settled is not None:
        return sum((allocation.amount for allocation in settled), Decimal(0))
    return book.allocations.sum(Allocation.amount, Allocation.document_id == document.id) or Decimal(0)


def payment_status(book: Book, document: Document) -> str:
    paid = paid_amount(book, document)
    if document.paid_at is not None or (paid >= document.total and document.total != 0):
        return PAID
    return PARTIALLY_PAID if paid > 0 else UNPAID


def amending_ids(book: Book, document: Document) -> list[int]:
    return book.document_store.amending(document.id)


def party_totals(book: Book, party_id: int, currency: str) -> dict[str, Decimal]:
    """Totals of a party's entries in `currency` (its own) by side: total, paid and unpaid (credit
    notes count negatively), summed in the database. Its entries in another currency are not added
    to them, as Upflow's customer balance leaves them out (docs/currencies.md)."""
    totals = {f"{what}_{side}": Decimal(0) for what in ("total", "paid", "unpaid") for side in (INCOME, EXPENSES)}
    declared_paid = Document.paid_at.is_not(None)
    of_party = (Document.customer_id == party_id, Document.kind.in_(ALL_KINDS), Document.currency_iso_code == currency)
    for kind, paid, amount in book.documents.aggregate(
            [Document.kind, declared_paid, func.sum(Document.total)], *of_party, group_by=[Document.kind, declared_paid]):
        _add(totals, kind, "total", amount)
        if paid:
            _add(totals, kind, "paid", amount)
    for kind, amount in book.allocations.aggregate(  # what payments and credit notes settle of the others
            [Document.kind, func.sum(Allocation.amount)], Allocation.document_id == Document.id, *of_party,
            Document.paid_at.is_(None), group_by=[Document.kind]):
        _add(totals, kind, "paid", amount)
    for side in (INCOME, EXPENSES):
        totals[f"unpaid_{side}"] = totals[f"total_{side}"] - totals[f"paid_{side}"]
    return totals


def _add(totals: dict[str, Decimal], kind: str, what: str, amount: Decimal | None) -> None:
    sign = -1 if kind in CREDITS else 1
    totals[f"{what}_{side_of(kind)}"] += sign * Decimal(amount or 0)
