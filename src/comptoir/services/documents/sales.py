"""Sales orders, invoices and credit notes: lines, totals, settlements, conversion, and the postings of
invoices and credit notes (a credit note posts the opposite of an invoice). On the purchase side, with
the same lines and totals: purchase invoices and vendor credits, whose party is a vendor
(docs/decisions/0013)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from comptoir.domain import charts
from comptoir.domain.documents import (
    CREDIT_NOTE,
    CREDITS,
    INVOICE,
    LABELS,
    POSTED,
    PURCHASE_INVOICE,
    PURCHASES,
    SALES_ORDER,
    VENDOR_CREDIT,
    Line,
    RateTax,
    by_rate,
    compute_totals,
    deductible_part,
    line_amounts,
    spread_tax,
)
from comptoir.domain.errors import ErrorKind, NotFound, Rule, broken, fail
from comptoir.domain.ledger import CREDIT, DEBIT, Posting, net
from comptoir.domain.lettering import Part
from comptoir.domain.lists import replace_list
from comptoir.domain.money import TOO_LARGE, within_bounds
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.domain.settlements import schedule
from comptoir.services.documents import numbering
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.services.ledger import chart, posting, rates
from comptoir.services.masterdata import reference
from comptoir.services.settlement import allocations, lettering
from comptoir.services.settlement.standing import installments
from comptoir.storage import masterdata
from comptoir.storage.book import Book
from comptoir.storage.documents import DocumentDraft, LineDraft, draft_of
from comptoir.storage.settlement import settling
from comptoir.storage.tables import Allocation, Document, DocumentLine

HEADER_FIELDS = ("billing_contact_id", "shipping_contact_id", "po_number", "date", "due_date", "tax_id",
                 "currency_iso_code", "reduce_rate", "public_note", "private_note", "shipping_date",
                 "payment_terms_id", "project_id", "employee_id", "external_id", "fixed_tax_amount",
                 "taxes_per_line", "series_id", "vendor_reference", "paid_at", "amends_id", "account_id", "form")
LINE_FIELDS = ("item_id", "description", "quantity", "unit_price_wt", "discount_rate", "tax_id", "is_taxable",
               "account_id", "tax_rate", "retention_rate", "deductible_tax_rate")
ALLOCATED = (INVOICE, CREDIT_NOTE)  # the documents allocations link (docs/decisions/0008); not purchases
NOT_DELIVERED, PARTIALLY_DELIVERED, DELIVERED = 1, 2, 3
NOT_INVOICED, INVOICED, CANCELLED = 1, 2, 3
HUNDRED = Decimal(100)
# The key of `extra` that marks a document filed from a OneConnect document (docs/decisions/0015).
RECEIVED_MARK = "oneconnect"


class Documents:
    """The use cases of one kind of sales document."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        # The party of a sales document is a customer, of a purchase document a vendor.
        self.party_field, self.party_flag, self.party_label = (
            ("vendor_id", "is_vendor", "vendor") if kind in PURCHASES else ("customer_id", "is_customer", "customer"))

    def get(self, book: Book, document_id: int, *, lock: bool = False) -> Any:
        """The document of this kind and id (a DocumentView); `lock`: held until the unit of work ends."""
        document = book.document_store.read([document_id], lock=lock).get(document_id) \
            if _is_row_id(document_id) else None
        if document is None or document.kind != self.kind:
            raise NotFound(LABELS[self.kind], document_id)
        return document

    def list(self, book: Book, query: ListQuery) -> tuple[Sequence[Any], bool]:
        """A page of documents of this kind (DocumentViews) and whether another page follows: the
        page's ids found over the narrow rows, then the page read in two statements."""
        kind = Condition("kind", Op.EQ, self.kind)
        ids, has_next = book.documents.page_ids(ListQuery((kind, *query.conditions), query.order, query.offset,
                                                          query.limit))
        found = book.document_store.read(ids)
        return [found[row_id] for row_id in ids if row_id in found], has_next

    def create(self, book: Book, fields: Mapping[str, Any], *, claiming_external_id: bool = False) -> Any:
        """A new document, posted when its kind posts (a DocumentView). `claiming_external_id`: the
        external id taken already is a DUPLICATE error raised before anything is written, which leaves
        the transaction going (storage/documents.DocumentStore.can_claim_external_id)."""
        [document] = self.create_many(book, [self.prepare(book, fields)], claiming_external_id=claiming_external_id)
        return document

    def prepare(self, book: Book, fields: Mapping[str, Any]) -> Prepared:
        """A new document checked and computed with its transaction, neither written yet: `create_many`
        writes them, with others (an import's batch)."""
        draft = DocumentDraft(kind=self.kind, org_id=book.org_id, extra={}, reduce_rate=Decimal(0), po_number="",
                              public_note="", private_note="", delivery_status=NOT_DELIVERED, sent=False,
                              cancelled=False)
        self._check_and_apply(book, draft, fields, creating=True)
        postings = self._postings(book, draft)
        return Prepared(draft, posting.prepare(book, **self._posted_as(draft), postings=postings) if postings else None)

    def create_many(self, book: Book, prepared: Sequence[Prepared], *, claiming_external_id: bool = False) -> list[Any]:
        """Prepared documents and their transactions written, a few statements for all of them
        (DocumentViews)."""
        if len(prepared) == 1 and prepared[0].transaction is not None:  # a request's: one statement for both
            transaction = posting.pending_new(book, self.kind, prepared[0].transaction)
            [document] = book.document_store.insert([prepared[0].draft], claiming_external_id=claiming_external_id,
                                                    then=transaction.then())
            transaction.write(document.id)
            return [document]
        documents = book.document_store.insert([one.draft for one in prepared],
                                               claiming_external_id=claiming_external_id)
        posting.post_new(book, [(self.kind, document.id, one.transaction)
                                for document, one in zip(documents, prepared) if one.transaction is not None])
        return documents

    def update(self, book: Book, document_id: int, fields: Mapping[str, Any], *,
               check_allocations: bool = True, locked: Any = None, issued_elsewhere: bool = False) -> Any:
        """The document with the fields changed, posted again (a DocumentView).
        `check_allocations=False`: the caller replaces the document's allocations next, and that
        checks them (a credit note re-imported with a lower amount and lower links). `locked`: the
        document as the caller read it with `find_locked`, in this unit of work (not read again).
        `issued_elsewhere`: the document mirrors an invoice another system issued (Upflow's imports):
        a change to what it says, refused otherwise once it is issued, is recorded as a correction,
        its transaction reversed and posted anew (docs/decisions/0026)."""
        before = locked if locked is not None else self.get(book, document_id, lock=self.kind in POSTED)
        self._guard_editable(before, touches_lines="lines" in fields)
        _guard_not_received(before)
        draft = draft_of(before)
        # What settles an invoice, read once now that its row is held (whoever allocates locks it
        # first), for the checks and the answer. Not `before.settled`: a statement that waited for the
        # lock reads the rest of its answer as it was before the wait.
        settled = settling(book.link, book.org_id, [before.id])[before.id] if self.kind == INVOICE else None
        self._check_and_apply(book, draft, fields, creating=False, settled=settled or ())
        corrected = _issued_change(before, draft)
        if corrected is not None and not issued_elsewhere:
            raise broken(Rule.DOCUMENT_SENT, f"{before.user_code} has been issued: {corrected} (a credit note "
                                             "corrects it)")
        document = book.document_store.update(before, draft)
        if corrected is not None and self.kind in POSTED:
            posting.unpost(book, self.kind, document.id)  # reversed, then posted as it now is
        if self.kind in ALLOCATED and check_allocations:
            allocations.check(book, self._side(document), "order_lines", changed=document, current=settled)
        if check_allocations:  # else posted once its new allocations are written (documents/matching.py)
            self._post(book, document, lettered_before=(lettering.document_letter(before),))
        if lettering.document_letter(document) != lettering.document_letter(before):
            _post_again_what_carries_its_letter(book, document, settled or ())
        # The caller that replaces the allocations next (check_allocations=False) reads them again.
        return document._replace(settled=tuple(settled)) if settled is not None and check_allocations else document

    def delete(self, book: Book, document_id: int, *, issued_elsewhere: bool = False) -> None:
        """Delete the document; its transaction is reversed. An issued document cannot be, unless it
        mirrors one `issued_elsewhere` (`update`), which its issuer cancelled."""
        self.get(book, document_id)  # of this kind
        document = book.documents.get(document_id)  # deleted through the ORM (with its cascades): not a hot path
        _guard_not_received(document)
        if document.sent and not issued_elsewhere:
            raise broken(Rule.DOCUMENT_SENT, f"{document.user_code} has been issued: it cannot be deleted "
                                             "(a credit note cancels it)")
        self._guard_editable(document, touches_lines=True)
        ensure_unreferenced(book, Document, document.id, LABELS[self.kind])
        numbering.give_back_number(book, document)
        refunded = lettering.refunds_of(book, self._side(document)) if self.kind == CREDIT_NOTE else []
        if self.kind == CREDIT_NOTE:  # what it settled is open again
            book.allocations.delete_where(Allocation.credit_note_id == document.id)
        if self.kind in POSTED:
            posting.unpost(book, self.kind, document.id)
            for order in book.documents.all(Document.invoice_id == document.id):
                order.invoice_id = None
        book.documents.remove(document)
        if refunded:  # what they gave back of it is lettered as theirs now
            book.flush()
            lettering.post_refunds_again(book, refunded)

    def _side(self, document: Any) -> allocations.Side:
        return allocations.Side(self.kind, document.id)

    # -- writing -------------------------------------------------------------------------------

    def _guard_editable(self, document: Any, *, touches_lines: bool) -> None:
        if self.kind == SALES_ORDER and document.invoice_id is not None:
            raise broken(Rule.ALREADY_CONVERTED, f"{document.user_code} is already converted into an invoice")
        if self.kind == SALES_ORDER and touches_lines and document.delivery_status != NOT_DELIVERED:
            raise broken(Rule.ORDER_DELIVERED, f"{document.user_code} has been partially or fully delivered")

    def _check_and_apply(self, book: Book, document: Any, fields: Mapping[str, Any], *, creating: bool,
                         settled: Sequence[Any] = ()) -> None:
        """Check the fields and apply them to the draft, all problems at once; then number it and
        compute its totals. Nothing is written (but the numbers taken). `settled`: what settles the
        document (AllocationViews), when it exists."""
        lines = fields.get("lines") or ()
        masterdata.read_ahead(book.link, book.org_id, parties=[fields.get(self.party_field)],
                              contacts=[fields.get("billing_contact_id"), fields.get("shipping_contact_id")],
                              items=[line.get("item_id") for line in lines if isinstance(line, Mapping)])
        checks = Checks()
        self._check_header(book, document, fields, checks, creating=creating)
        due_before, dated_before, currency_before = document.due_date, document.date, document.currency_iso_code
        apply(document, fields, HEADER_FIELDS, checks)
        # A due date sent as it stands stays what it was: derived from the terms, a client that sends
        # back what it read pins nothing (docs/decisions/0019).
        if "due_date" in fields and (document.due_date_explicit or fields["due_date"] != due_before):
            document.due_date_explicit = fields["due_date"] is not None
        for name in ("billing_contact", "shipping_contact"):  # keep the contact in step with its id
            if f"{name}_id" in fields:
                contact_id = fields[f"{name}_id"]
                setattr(document, name, masterdata.contacts(book.link, book.org_id, [contact_id]).get(contact_id)
                        if contact_id else None)
        if "sent" in fields:
            document.sent = bool(fields["sent"])
        if fields.get("extra"):
            document.extra = {**(document.extra or {}), **fields["extra"]}
        document.taxes_per_line = bool(document.taxes_per_line)
        document.retention_amount = document.retention_amount or Decimal(0)
        if creating:
            self._defaults(book, document)
        if document.due_date_explicit and document.date is not None and document.due_date < document.date:
            checks.broken(Rule.DUE_BEFORE_DATE, "due_date", "due date before the document date")
        if "lines" in fields:
            self._replace_lines(book, document, fields["lines"] or [], checks)
        if self.kind == INVOICE and "date" in fields and document.id is not None:
            first_payment = _first_payment_date(book, settled)
            if first_payment is not None and document.date > first_payment:
                checks.broken(Rule.PAYMENT_BEFORE_DOCUMENT, "date",
                              f"a payment is dated {first_payment}, before the new invoice date")
        checks.raise_if_any()
        self._compute(book, document)
        _check_amounts(document)  # before any number is taken for it
        if self.kind in POSTED:  # a rate it cannot be booked at refuses it, before a number is taken too
            document.exchange_rate = rates.kept_or_new_rate(
                book, document, document.currency_iso_code, document.date,
                same=not creating and (document.currency_iso_code, document.date) == (currency_before, dated_before))
        if fields.get("code") and fields["code"] != document.user_code:
            if not creating:  # a draft renumbered by hand gives its number back
                numbering.give_back_number(book, document)
                document.series_number = None
            document.user_code = fields["code"]
        elif not document.user_code:
            numbering.number_document(book, document, with_transaction=self.kind in POSTED)
        elif document.date != dated_before and not creating:
            numbering.check_date_order(book, document)

    def _check_header(self, book: Book, document: Any, fields: Mapping[str, Any], checks: Checks, *,
                      creating: bool) -> None:
        if self.party_field in fields or creating:
            party_id = fields.get(self.party_field)
            party = masterdata.parties(book.link, book.org_id, [party_id]).get(party_id) \
                if party_id is not None else None
            if party_id is None:
                checks.required(None, self.party_field)
            elif party is None or not getattr(party, self.party_flag):
                checks.add(ErrorKind.INVALID, self.party_field, f"no {self.party_label} with id {party_id}")
            else:
                document.customer_id = party.id
                document.customer = party
        for name, known, label in (("tax_id", reference.tax_rates(book), book.taxes.label),
                                   ("payment_terms_id", reference.payment_terms(book), book.payment_terms.label)):
            value = fields.get(name)
            if value is not None and not (_is_id(value) and value in known):
                checks.add(ErrorKind.INVALID, name, f"no {label} with id {value}")
        for name, repository in (("project_id", book.projects), ("employee_id", book.employees),
                                 ("shipping_contact_id", book.contacts), ("series_id", book.numbering_series),
                                 ("amends_id", book.documents)):
            checks.reference(fields, name, repository)
        _check_postable(book, fields.get("account_id"), "account_id", checks)
        billing = fields.get("billing_contact_id", document.billing_contact_id)
        if billing is not None and ("billing_contact_id" in fields or "customer_id" in fields):
            contact = masterdata.contacts(book.link, book.org_id, [billing]).get(billing)
            if contact is None or contact.party_id != (fields.get("customer_id") or document.customer_id):
                checks.add(ErrorKind.INVALID, "billing_contact_id", "should be a contact of the document's customer")
        currency = fields.get("currency_iso_code")
        if currency is not None and not reference.is_currency_of(book, currency):
            checks.add(ErrorKind.INVALID, "currency_iso_code", f"{currency} is not one of the organization's currencies")
        rate = fields.get("reduce_rate")
        if rate is not None and not Decimal(0) <= rate <= HUNDRED:
            checks.add(ErrorKind.INVALID, "reduce_rate", "should be from 0 to 100")

    def _defaults(self, book: Book, document: Any) -> None:
        customer = document.customer if document.customer_id else None
        document.date = document.date or date.today()
        if not document.currency_iso_code:
            document.currency_iso_code = (customer.currency_iso_code if customer else None) \
                or book.organization.currency_iso_code
        if document.payment_terms_id is None:
            document.payment_terms_id = (customer.payment_terms_id if customer else None) or \
                reference.default_payment_terms_id(book)
        if document.employee_id is None:
            document.employee_id = book.actor_employee_id
        if document.reduce_rate is None:
            document.reduce_rate = Decimal(0)

    def _replace_lines(self, book: Book, document: Any, incoming: list[Mapping[str, Any]],
                       checks: Checks) -> None:
        current = {line.id: line for line in document.lines}
        changes = replace_list("order_lines", list(current), incoming)
        checks.extend(changes.problems)
        items = masterdata.items(book.link, book.org_id, [sent.get("item_id") for sent in incoming  # one query
                                                              if isinstance(sent, Mapping)])
        for line_id in changes.deleted_ids:
            document.lines.remove(current[line_id])
        for line_id, sent in changes.updated:
            self._write_line(book, current[line_id], sent, checks, f"order_lines[{line_id}]", items, creating=False)
        for index, sent in enumerate(changes.created):
            line = LineDraft(org_id=book.org_id, extra={})
            self._write_line(book, line, sent, checks, f"order_lines[new {index}]", items, creating=True)
            document.lines.append(line)
        for position, line in enumerate(document.lines):
            line.position = position

    def _write_line(self, book: Book, line: Any, sent: Mapping[str, Any], checks: Checks, where: str,
                    items: Mapping[int, Any], *, creating: bool) -> None:
        item = None
        if creating or "item_id" in sent:
            item_id = sent.get("item_id")
            item = items.get(item_id) if item_id is not None else None
            if item_id is None and not sent.get("description"):  # a line sells an item, or says what it sells
                checks.required(None, f"{where}.item_id")
            elif item_id is not None and item is None:
                checks.add(ErrorKind.INVALID, f"{where}.item_id", f"no item with id {item_id}")
        tax_id = sent.get("tax_id")
        if tax_id and not (_is_id(tax_id) and tax_id in reference.tax_rates(book)):
            checks.add(ErrorKind.INVALID, f"{where}.tax_id", f"no tax with id {tax_id}")
        _check_postable(book, sent.get("account_id"), f"{where}.account_id", checks)
        for name in ("quantity", "unit_price_wt"):
            if sent.get(name) is not None and abs(sent[name]) >= Decimal(10) ** 12:
                checks.add(ErrorKind.INVALID, f"{where}.{name}", "is out of range")
        for name in ("discount_rate", "tax_rate", "retention_rate", "deductible_tax_rate"):
            rate = sent.get(name)
            if rate is not None and not Decimal(0) <= rate <= HUNDRED:
                checks.add(ErrorKind.INVALID, f"{where}.{name}", "should be from 0 to 100")
        apply(line, sent, LINE_FIELDS)
        if sent.get("extra"):
            line.extra = {**(line.extra or {}), **sent["extra"]}
        line.extra = line.extra or {}
        line.retention_rate = line.retention_rate or Decimal(0)
        if line.tax_id == 0:
            line.tax_id = None
        if creating and item is not None:
            line.description = sent.get("description") if sent.get("description") is not None else item.description
            if sent.get("unit_price_wt") is None:
                line.unit_price_wt = item.sales_price
        line.quantity = Decimal(1) if line.quantity is None else line.quantity
        line.discount_rate = line.discount_rate or Decimal(0)
        line.unit_price_wt = Decimal(0) if line.unit_price_wt is None else line.unit_price_wt
        line.is_taxable = True if line.is_taxable is None else line.is_taxable
        line.description = line.description or ""

    def _compute(self, book: Book, document: Any) -> None:
        """The document's amounts, each rounded to its currency's minor unit (issue 18 §2: a JPY
        invoice has no decimals, a BHD one three)."""
        lines = _lines_with_rates(book, document)
        exponent = unit_of(book, document)
        if document.taxes_per_line:
            self._compute_per_line(document, lines, exponent)
        else:
            self._compute_per_rate(document, lines, exponent)
        if not document.due_date_explicit:
            settlements = schedule(document.total, document.date, installments(book, document), exponent)
            document.due_date = settlements[-1].due_date if settlements else document.date

    def _compute_per_line(self, document: Any, lines: list[Line], exponent: Decimal) -> None:
        """Quipu's rule: each line has its base, tax and retention; the document sums them."""
        for line, computed in zip(document.lines, lines):
            amounts = line_amounts(computed, line.retention_rate or Decimal(0), exponent)
            line.total, line.tax_amount, line.retention_amount = amounts.base, amounts.tax, amounts.retention
        document.subtotal = sum((line.total for line in document.lines), Decimal(0))
        document.reduce_amount = Decimal(0)
        document.tax_amount = sum((line.tax_amount for line in document.lines), Decimal(0))
        document.retention_amount = sum((line.retention_amount for line in document.lines), Decimal(0))
        document.total = document.subtotal + document.tax_amount - document.retention_amount

    def _compute_per_rate(self, document: Any, lines: list[Line], exponent: Decimal) -> None:
        totals = compute_totals(lines, document.reduce_rate or Decimal(0), exponent)
        for line, amount in zip(document.lines, totals.line_totals):
            line.total = amount
        document.subtotal = totals.subtotal
        document.reduce_amount = totals.reduce_amount
        # Documents imported with their amounts (Upflow's net and gross) carry their tax as given.
        document.tax_amount = totals.tax_amount if document.fixed_tax_amount is None else document.fixed_tax_amount
        document.total = totals.subtotal - totals.reduce_amount + document.tax_amount

    def _postings(self, book: Book, document: Any) -> list[Posting]:
        """What the document posts (none for a kind that does not post, or lines that cancel out). A
        credit note's receivable side is lettered by the invoices it settles."""
        if self.kind not in POSTED:
            return []
        purchase = self.kind in PURCHASES
        settles = lettering.credit_note_parts(book, document) if self.kind == CREDIT_NOTE and document.id else None
        postings = purchase_postings(book, document) if purchase else invoice_postings(book, document, settles)
        if self.kind in CREDITS:
            postings = [replace(p, way=CREDIT if p.way == DEBIT else DEBIT) for p in postings]
        return net(postings)

    def _posted_as(self, document: Any) -> dict[str, Any]:
        return {"journal_role": "purchases" if self.kind in PURCHASES else "sales", "on": document.date,
                "piece_number": document.user_code, "currency": document.currency_iso_code,
                "rate": document.exchange_rate}

    def _post(self, book: Book, document: Any, *, lettered_before: Sequence[str] = (),
              when_changed: bool = False) -> None:
        """Post the changed document again (its transaction rewritten, or removed when it posts nothing).
        `lettered_before`, `when_changed`: as services/ledger/posting.post's."""
        if self.kind not in POSTED:
            return
        postings = self._postings(book, document)
        if not postings:  # nothing to book (lines that cancel out, say)
            posting.unpost(book, self.kind, document.id)
            return
        posting.post(book, source_type=self.kind, source_id=document.id, postings=postings,
                     lettered_before=lettered_before, when_changed=when_changed, **self._posted_as(document))

    def post_again(self, book: Book, document: Any, *, when_changed: bool = False) -> None:
        """Post the document (as read, unchanged) again after what it settles changed (documents/matching.py)."""
        self._post(book, document, when_changed=when_changed)


@dataclass(frozen=True)
class Prepared:
    """A new document checked and computed (a DocumentDraft) with its transaction (posting.Prepared,
    None when it posts nothing), neither written yet."""

    draft: Any
    transaction: posting.Prepared | None


_LINE_AMOUNTS = ("total", "tax_amount", "retention_amount")
_DOCUMENT_AMOUNTS = ("subtotal", "reduce_amount", "tax_amount", "retention_amount", "total")


def _check_amounts(document: Any) -> None:
    """Every amount the document computed (each line's, its totals) is one the book keeps
    (money.AMOUNT_MAX): 10,000 x 1,000,000,000 is refused, not stored wrong or overflowed."""
    checks = Checks()
    for position, line in enumerate(document.lines):
        for name in _LINE_AMOUNTS:
            if not within_bounds(getattr(line, name, None)):
                checks.add(ErrorKind.INVALID, f"order_lines[{position}].{name}", TOO_LARGE)
    for name in _DOCUMENT_AMOUNTS:
        if not within_bounds(getattr(document, name, None)):
            checks.add(ErrorKind.INVALID, name, TOO_LARGE)
    checks.raise_if_any()


def unit_of(book: Book, document: Any) -> Decimal:
    """The minor unit of the document's currency: what its amounts round to."""
    return reference.smallest_unit(book, document.currency_iso_code)


def _lines_with_rates(book: Book, document: Any) -> list[Line]:
    """The document's lines as its totals compute them, each with its tax rate: its own, else its tax's."""
    rates = reference.tax_rates(book)
    return [Line(line.quantity, line.unit_price_wt, line.discount_rate,
                 line.tax_rate if line.tax_rate is not None else rates.get(effective_tax_id(document, line)))
            for line in document.lines]


def document_taxes(book: Book, document: Any) -> tuple[RateTax, ...]:
    """The document's tax per rate, summing exactly to its tax amount: each line's rounded on its own
    (Quipu's rule), or each rate's rounded once as its totals do (domain.documents.compute_totals); a
    tax amount imported as such spread over the rates (domain.documents.spread_tax)."""
    lines, exponent = _lines_with_rates(book, document), unit_of(book, document)
    if document.taxes_per_line:
        taxes = by_rate(RateTax(computed.tax_rate, line.total, line.tax_amount)
                        for line, computed in zip(document.lines, lines) if computed.tax_rate is not None)
        base = document.subtotal
    else:
        taxes = compute_totals(lines, document.reduce_rate or Decimal(0), exponent).taxes
        base = document.subtotal - document.reduce_amount
    return spread_tax(document.tax_amount, taxes, base, exponent)


def _deductible_taxes(book: Book, document: Any) -> tuple[RateTax, ...]:
    """What a purchase document's lines say may be deducted of their tax, per rate: the deductible
    part of each line's tax, on the same part of its base (docs/decisions/0013)."""
    lines, exponent = _lines_with_rates(book, document), unit_of(book, document)
    return by_rate(RateTax(computed.tax_rate, deductible_part(line.total, line.deductible_tax_rate, exponent),
                           deductible_part(line.tax_amount, line.deductible_tax_rate, exponent))
                   for line, computed in zip(document.lines, lines) if computed.tax_rate is not None)


def _tax_postings(book: Book, side: str, way: str, taxes: Sequence[RateTax], label: str) -> list[Posting]:
    """A posting per rate to that rate's tax account of the side, carrying its rate and base."""
    return [Posting(chart.tax_account_id(book, side, part.rate), way, part.tax, label,
                    tax_rate=part.rate, tax_base=part.base) for part in taxes if part.tax]


def effective_tax_id(document: Document, line: DocumentLine) -> int | None:
    """A line's own tax, else (US style) the document's tax when the line is taxable."""
    if line.is_taxable is False:
        return None
    return line.tax_id or document.tax_id


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_row_id(value: Any) -> bool:
    """Ids are 64-bit integers; anything else names no row (and must not reach the driver)."""
    return _is_id(value) and 0 < value < 2**63


# What an issued document says (docs/decisions/0026): once sent, none of it changes; a credit note
# corrects it. What it does not say may still change: private notes, custom fields, its due date (a
# payment plan agreed later), the day it was declared paid, its project or the person following it.
ISSUED_CONTENT = ("kind", "form", "customer_id", "user_code", "series_id", "date", "currency_iso_code",
                  "billing_contact_id", "shipping_contact_id", "po_number", "public_note", "shipping_date",
                  "tax_id", "reduce_rate", "subtotal", "reduce_amount", "tax_amount", "total", "retention_amount",
                  "amends_id", "vendor_reference")
ISSUED_LINE_CONTENT = ("item_id", "description", "quantity", "unit_price_wt", "discount_rate", "tax_id",
                       "is_taxable", "tax_rate", "retention_rate", "total")


def _issued_change(before: Any, after: Any) -> str | None:
    """What a change does to an issued (sent) document that only a correction may do, in words: what
    it says changed, or its return to a draft; None for a draft, or a change that leaves it as issued."""
    if not before.sent:
        return None
    if not after.sent:
        return "it cannot become a draft again"
    changed = next((name for name in ISSUED_CONTENT if getattr(before, name) != getattr(after, name)), None)
    if changed is None and _lines_said(before) != _lines_said(after):
        changed = "lines"
    return None if changed is None else f"its {changed.replace('_', ' ')} cannot change"


def _lines_said(document: Any) -> list[tuple]:
    return [tuple(getattr(line, name) for name in ISSUED_LINE_CONTENT) for line in document.lines]


def _guard_not_received(document: Document) -> None:
    """A document filed from an accepted OneConnect document (services/received_invoices.py) is what
    its entries say, and their transaction is its own: rewritten here, it would post a second one."""
    if (document.extra or {}).get(RECEIVED_MARK):
        number = document.vendor_reference or document.user_code  # the number its side shows
        raise fail(ErrorKind.CONFLICT, None, f"{number} was received through OneConnect and booked from its "
                                             "entries: it cannot be changed or deleted")


def _check_postable(book: Book, account_id: int | None, field: str, checks: Checks) -> None:
    if account_id is not None:
        account = book.accounts.get(account_id)
        if account is None or account.is_family:
            checks.add(ErrorKind.INVALID, field, f"no postable account with id {account_id}")


def _is_empty(document: Document) -> bool:
    return document.total == 0 and document.tax_amount == 0 and not any(line.total for line in document.lines)


def _net_by_account(book: Book, document: Document, default_role: str) -> dict[int, Decimal]:
    """The lines' amounts before taxes (net of discounts and reduce), summed by the account each line
    posts to: its own, else the document's, else the chart's account for the role."""
    totals = compute_totals([Line(line.quantity, line.unit_price_wt, line.discount_rate) for line in document.lines],
                            document.reduce_rate, unit_of(book, document))
    by_account: dict[int, Decimal] = {}
    for line, amount in zip(document.lines, totals.net_lines):
        account_id = line.account_id or _default_account(book, document, default_role)
        by_account[account_id] = by_account.get(account_id, Decimal(0)) + amount
    return by_account


def _default_account(book: Book, document: Document, role: str) -> int:
    return document.account_id or chart.account_id_for(book, role)


def _label(document: Document) -> str:
    return f"{LABELS[document.kind].capitalize()} {document.user_code}"


def invoice_postings(book: Book, document: Document, settles: Sequence[Part] | None = None) -> list[Posting]:
    """Receivable for the total, income per line (net of discounts and reduce), tax payable, and the
    income tax the customer withheld as a claim on the tax office (a credit note's are the same, on
    the opposite sides). The receivable entry carries the document's letter; `settles`: a credit
    note's total by letter of what it settles (one receivable entry each)."""
    if _is_empty(document):
        return []
    label, letter = _label(document), lettering.document_letter(document)
    shares = settles if settles is not None else [Part(letter, document.total)]
    postings = lettering.receivable_postings(book, DEBIT, label, letter, shares, document.customer_id)
    postings += [Posting(account_id, CREDIT, amount, f"{label} - Before taxes")
                 for account_id, amount in _net_by_account(book, document, charts.INCOME_ROLE).items()]
    if document.tax_amount:
        postings += _tax_postings(book, charts.TAX_PAYABLE, CREDIT, document_taxes(book, document), f"{label} - Taxes")
    if document.retention_amount:
        postings.append(Posting(chart.account_id_for(book, charts.RETENTION_RECEIVABLE), DEBIT,
                                document.retention_amount, f"{label} - Income tax withheld"))
    return postings


def purchase_postings(book: Book, document: Document) -> list[Posting]:
    """Expense per line (with the tax it may not deduct), deductible tax receivable, payable to the
    vendor for the total, and the income tax withheld from the vendor as a debt to the tax office (a
    vendor credit's are the same, on the opposite sides)."""
    if _is_empty(document):
        return []
    label = _label(document)
    expense = _net_by_account(book, document, charts.EXPENSE_ROLE)
    if document.taxes_per_line:  # each line says how much of its tax may be deducted
        deductible = _deductible_taxes(book, document)
        for line in document.lines:
            account_id = line.account_id or _default_account(book, document, charts.EXPENSE_ROLE)
            expense[account_id] = expense.get(account_id, Decimal(0)) + line.tax_amount - \
                deductible_part(line.tax_amount, line.deductible_tax_rate, unit_of(book, document))
    else:
        deductible = document_taxes(book, document)
    postings = [Posting(account_id, DEBIT, amount, f"{label} - Before taxes") for account_id, amount in expense.items()]
    postings += _tax_postings(book, charts.TAX_RECEIVABLE, DEBIT, deductible, f"{label} - Deductible taxes")
    postings.append(Posting(chart.account_id_for(book, charts.PAYABLE), CREDIT, document.total, label,
                            lettering.document_letter(document), document.customer_id))
    if document.retention_amount:
        postings.append(Posting(chart.account_id_for(book, charts.RETENTION_PAYABLE), CREDIT,
                                document.retention_amount, f"{label} - Income tax withheld"))
    return postings


def _post_again_what_carries_its_letter(book: Book, document: Any, settled: Sequence[Any]) -> None:
    """A renumbered document's letter moves: the payments and credit notes that settle an invoice
    (`settled`), the refunds that give back a credit note's credit, are posted again with the new one."""
    if document.kind == CREDIT_NOTE:
        lettering.post_refunds_again(book, lettering.refunds_of(book, allocations.Side(CREDIT_NOTE, document.id)))
        return
    for payment_id in dict.fromkeys(a.payment_id for a in settled if a.payment_id is not None):
        lettering.post_payment(book, book.payments.get(payment_id), when_changed=True)
    for note_id in dict.fromkeys(a.credit_note_id for a in settled if a.credit_note_id is not None):
        CREDIT_NOTES.post_again(book, CREDIT_NOTES.get(book, note_id), when_changed=True)


def _first_payment_date(book: Book, settled: Sequence[Any]) -> date | None:
    """The date of the first payment among these allocations."""
    dates = [book.payments.get(allocation.payment_id).date for allocation in settled
             if allocation.payment_id is not None]
    return min(dates) if dates else None



def convert(book: Book, order_id: int, target: str) -> Any:
    """Turn a sales order into an invoice (our extension): same customer, terms and lines."""
    order = SALES_ORDERS.get(book, order_id)
    if target != INVOICE:
        raise broken(Rule.CANNOT_CONVERT, f"a sales order converts into an invoice, not into {target!r}")
    if order.invoice_id is not None:
        raise broken(Rule.ALREADY_CONVERTED, f"{order.user_code} is already converted into an invoice")
    if order.cancelled:
        raise broken(Rule.CANNOT_CONVERT, f"{order.user_code} is cancelled")
    if order.delivery_status == PARTIALLY_DELIVERED:
        raise broken(Rule.ORDER_DELIVERED, f"{order.user_code} is partially delivered; deliver it fully first")
    fields = {name: getattr(order, name) for name in HEADER_FIELDS if name not in ("external_id", "date", "due_date")}
    fields["customer_id"] = order.customer_id
    fields["lines"] = [{name: getattr(line, name) for name in LINE_FIELDS} for line in order.lines]
    invoice = INVOICES.create(book, fields)
    book.document_store.set(invoice.id, delivery_status=order.delivery_status)
    book.document_store.set(order.id, invoice_id=invoice.id)
    return INVOICES.get(book, invoice.id)


def deliver(book: Book, order_id: int, status: int) -> Any:
    """Record the delivery state of a sales order (our extension)."""
    order = SALES_ORDERS.get(book, order_id)
    if status not in (NOT_DELIVERED, PARTIALLY_DELIVERED, DELIVERED):
        raise fail(ErrorKind.INVALID, "delivery_status", "should be 1, 2 or 3")
    book.document_store.set(order.id, delivery_status=status)
    return SALES_ORDERS.get(book, order.id)


def invoice_status(order: Any) -> int:
    if order.cancelled:
        return CANCELLED
    return INVOICED if order.invoice_id is not None else NOT_INVOICED


INVOICES = Documents(INVOICE)
SALES_ORDERS = Documents(SALES_ORDER)
CREDIT_NOTES = Documents(CREDIT_NOTE)
PURCHASE_INVOICES = Documents(PURCHASE_INVOICE)
VENDOR_CREDITS = Documents(VENDOR_CREDIT)
BY_KIND = {INVOICE: INVOICES, SALES_ORDER: SALES_ORDERS, CREDIT_NOTE: CREDIT_NOTES,
           PURCHASE_INVOICE: PURCHASE_INVOICES, VENDOR_CREDIT: VENDOR_CREDITS}


NOT_LOOKED_UP = object()


def import_document(book: Book, kind: str, external_id: str, fields: Mapping[str, Any], *,
                    check_allocations: bool = True, found: Any = NOT_LOOKED_UP,
                    found_locked: bool = False, issued_elsewhere: bool = False) -> tuple[Document, bool]:
    """Create the document of this kind with this external id, or update it (exactly once:
    services/imports.py). `found`: what the caller's own `find_document` of this external id gave,
    in this unit of work (not looked up again, unless a concurrent import wins the race);
    `found_locked`: it came from `find_locked`, and is updated as read. `issued_elsewhere`: see
    `Documents.update`."""
    documents = BY_KIND[kind]
    known = [found]
    locked = found if found_locked and found is not None else None

    def find() -> Document | None:
        if known[0] is not NOT_LOOKED_UP:
            document, known[0] = known[0], NOT_LOOKED_UP
            return document
        return find_document(book, kind, external_id=external_id, missing_ok=True)

    # Where the insert can claim the external id without ending the transaction, a lost race needs no
    # savepoint to be taken back: the winner's document is found and updated instead.
    claiming = book.document_store.can_claim_external_id(len(fields.get("lines") or ()))
    return upsert(book, find=find,
                  update=lambda existing: documents.update(book, existing.id, fields,
                                                           check_allocations=check_allocations,
                                                           locked=existing if existing is locked else None,
                                                           issued_elsewhere=issued_elsewhere),
                  create=lambda: documents.create(book, {**fields, "external_id": external_id},
                                                  claiming_external_id=claiming),
                  create_leaves_nothing=claiming)


def import_invoice(book: Book, external_id: str, fields: Mapping[str, Any], *,
                   found: Any = NOT_LOOKED_UP) -> tuple[Document, bool]:
    """An invoice of an Upflow-format import file: issued elsewhere (`Documents.update`)."""
    return import_document(book, INVOICE, external_id, fields, found=found, issued_elsewhere=True)


def find_document(book: Book, kind: str, *, uuid: str | None = None, external_id: str | None = None,
                  missing_ok: bool = False) -> Document | None:
    """A document of this kind by UUID or external id."""
    key = {"uuid": uuid} if uuid is not None else {"external_id": external_id}
    document = book.documents.find(kind=kind, **key)
    if document is None and not missing_ok:
        raise NotFound(LABELS[kind], uuid or external_id)
    return document


def find_for_import(book: Book, kind: str, external_id: str, *, customer_external_id: str | None,
                    custom_fields_as: str) -> Any | None:
    """`find_locked`, for an import that names its customer by external id: the customer and whether
    the document exists are read first, in one statement (the customer kept for the document's
    checks), and a document that does not exist yet is not looked for again (it is created, claiming
    its external id: a concurrent creation is found then, and updated)."""
    if customer_external_id is not None:
        customer, document_id = book.document_store.party_and_document(customer_external_id, kind, external_id)
        if customer is not None:
            book.note(("party", "external_id", customer_external_id), customer)
            if document_id is None:
                return None
    return find_locked(book, kind, external_id, custom_fields_as=custom_fields_as)


def find_locked(book: Book, kind: str, external_id: str, *, custom_fields_as: str) -> Any | None:
    """The document of this kind with this external id, read whole (a DocumentView) and locked until
    the unit of work ends, since it is about to be updated; None when there is none yet. What its
    update reads next (what settles it, its transaction, its custom field values as entities of
    `custom_fields_as`) is read ahead, in one statement, once its row is held."""
    document = book.document_store.find(kind, "external_id", external_id, lock=True)
    if document is not None:
        book.document_store.read_ahead_for_update(book.transaction_store, document.id, source_type=kind,
                                                  entity_type=custom_fields_as)
    return document


def find_documents(book: Book, kind: str, external_ids: Sequence[str]) -> dict[str, Document]:
    """The documents of this kind with these external ids, by external id, in one query per 500."""
    wanted = sorted({value for value in external_ids if isinstance(value, str)})
    found: dict[str, Document] = {}
    for start in range(0, len(wanted), 500):
        for document in book.documents.all(Document.kind == kind, Document.external_id.in_(wanted[start:start + 500])):
            found[document.external_id] = document
    return found


def find_invoice(book: Book, **key: Any) -> Document | None:
    return find_document(book, INVOICE, **key)
