"""Payments received: applied to an invoice's open settlements, posted bank against receivable
(services/settlement/lettering.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from comptoir.domain.documents import INVOICE
from comptoir.domain.errors import ErrorKind, Rule, broken, fail
from comptoir.domain.lettering import Part
from comptoir.domain.money import round_minor
from comptoir.services.kernel.codes import next_code
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.records import ReadOnlyRecords
from comptoir.services.kernel.validation import Checks
from comptoir.services.ledger import posting, rates
from comptoir.services.masterdata import reference
from comptoir.services.settlement import allocations, lettering
from comptoir.services.settlement.standing import standing
from comptoir.storage.book import Book
from comptoir.storage.tables import Allocation, BankAccount, Document, Payment

PAYMENT = "payment"


@dataclass(frozen=True)
class Payments(ReadOnlyRecords):
    def create(self, book: Book, fields: Mapping[str, Any]) -> Payment:
        """A payment of one invoice, applied to its first open settlement onwards. The invoice row
        is locked first, so concurrent payments of one invoice queue and never over-pay it."""
        checks = Checks()
        invoice_id = fields.get("invoice_id")
        checks.required(invoice_id, "invoice_id")
        checks.raise_if_any()
        invoice = book.documents.lock(invoice_id)
        if invoice is None or invoice.kind != INVOICE:
            raise fail(ErrorKind.INVALID, "invoice_id", f"no invoice with id {invoice_id}")
        amount = rounded(book, fields.get("amount"), invoice.currency_iso_code)  # the invoice's currency
        on = fields.get("date") or date.today()
        if amount is None:
            checks.required(None, "amount")
        elif amount <= 0:
            raise broken(Rule.NOT_POSITIVE, "the amount should be strictly positive", "amount")
        if on < invoice.date:
            raise broken(Rule.PAYMENT_BEFORE_DOCUMENT, f"the payment date {on} is before the invoice date "
                                                       f"{invoice.date}", "date")
        checks.reference(fields, "payment_method_id", book.payment_methods)
        bank_account = bank_account_of(book, fields.get("bank_id"), invoice.currency_iso_code, "bank_id", checks)
        checks.raise_if_any()
        self._check_open(book, invoice, amount)
        payment = Payment(user_code=next_code(book, PAYMENT, book.payments, "user_code"), party_id=invoice.customer_id,
                          date=on, amount=amount, currency_iso_code=invoice.currency_iso_code,
                          payment_method_id=fields.get("payment_method_id") or book.payment_methods.all()[0].id,
                          bank_reference=fields.get("bank_reference") or "",
                          bank_account_id=bank_account.id if bank_account else None,
                          external_id=fields.get("external_id"), extra={},
                          exchange_rate=rates.booking_rate(book, invoice.currency_iso_code, on))
        book.payments.add(payment)
        side = allocations.Side(allocations.PAYMENT, payment.id)
        allocations.replace(book, allocations.owned_by(side),
                            [allocations.Link(side, allocations.Side(allocations.INVOICE, invoice.id), amount)],
                            owner=side, field="amount")
        lettering.post_payment(book, payment, [Part(lettering.document_letter(invoice), amount, invoice.exchange_rate)])
        return payment

    def delete(self, book: Book, payment_id: int) -> None:
        """The payment, its transaction and its allocations go; the refunds that gave back some of it
        are posted again, their share of it now lettered as theirs."""
        payment = self.get(book, payment_id)
        posting.unpost(book, PAYMENT, payment.id)
        refunded = [a.refund_id for a in payment.allocations if a.refund_id is not None]
        book.payments.remove(payment)
        if refunded:
            book.flush()
            lettering.post_refunds_again(book, refunded)

    def _check_open(self, book: Book, invoice: Document, amount: Decimal) -> None:
        state = standing(book, invoice)
        if not state.settlements:
            raise broken(Rule.NO_INSTALLMENTS, f"{invoice.user_code} has nothing to pay")
        if all(settlement.open_amount == 0 for settlement in state.settlements):
            raise fail(ErrorKind.CONFLICT, "invoice_id", f"every settlement of {invoice.user_code} is paid")
        if amount > state.unpaid:
            raise fail(ErrorKind.CONFLICT, "amount", f"{amount} is more than the {state.unpaid} left to pay "
                                                     f"on {invoice.user_code}")


class ReceivedPayments(ReadOnlyRecords):
    """Payments received from a customer and applied to any of its invoices (Upflow's model): what
    is not applied stays as a credit on the customer's account."""

    def create(self, book: Book, fields: Mapping[str, Any]) -> Payment:
        payment = Payment(user_code=next_code(book, PAYMENT, book.payments, "user_code"), extra={},
                          bank_reference="", external_id=fields.get("external_id"))
        payment.org_id = book.org_id
        self._write(book, payment, fields)
        book.payments.add(payment)
        self._link(book, payment, fields)
        self._post(book, payment)
        return payment

    def update(self, book: Book, payment_id: int, fields: Mapping[str, Any]) -> Payment:
        allocations.lock_with_counterparts(book, allocations.Side(allocations.PAYMENT, payment_id), {
            allocations.Side(allocations.INVOICE, invoice_id) for invoice_id, _ in fields.get("allocations") or []})
        payment = self.get(book, payment_id)
        self._write(book, payment, {**self._current(payment), **fields})
        book.flush()
        self._link(book, payment, fields)
        self._post(book, payment)
        return payment

    def delete(self, book: Book, payment_id: int) -> None:
        PAYMENTS.delete(book, payment_id)

    def _current(self, payment: Payment) -> dict[str, Any]:
        return {"party_id": payment.party_id, "date": payment.date, "amount": payment.amount,
                "currency_iso_code": payment.currency_iso_code}

    def _write(self, book: Book, payment: Payment, fields: Mapping[str, Any]) -> None:
        write_movement(book, payment, fields)
        payment.payment_method_id = payment.payment_method_id or book.payment_methods.all()[0].id

    def _link(self, book: Book, payment: Payment, fields: Mapping[str, Any]) -> None:
        """The invoices the payment itself settles (`allocations`: (invoice id, amount) pairs), when sent;
        the allocations of refunds and reconciliations stay, and all of them must still fit the payment."""
        side = allocations.Side(allocations.PAYMENT, payment.id)
        links = [allocations.Link(side, allocations.Side(allocations.INVOICE, invoice_id), applied)
                 for invoice_id, applied in fields.get("allocations") or []] if "allocations" in fields else \
            [allocations.Link(side, allocations.Side(allocations.INVOICE, a.document_id), a.amount)
             for a in book.allocations.all(*allocations.owned_by(side), Allocation.document_id.is_not(None))]
        allocations.replace(book, (*allocations.owned_by(side), Allocation.document_id.is_not(None)), links,
                            owner=side, field="linkedInvoices")

    def _post(self, book: Book, payment: Payment) -> None:
        lettering.post_payment(book, payment)


def write_movement(book: Book, row: Payment | Any, fields: Mapping[str, Any]) -> None:
    """The customer, amount, currency, date, bank account and extra fields of money received or paid
    back (a payment, a refund), checked: all problems at once, nothing written when one is found."""
    checks = Checks()
    party = book.parties.get(fields.get("party_id")) if fields.get("party_id") is not None else None
    if party is None or not party.is_customer:
        checks.add(ErrorKind.INVALID, "customer", "no such customer")
    currency = fields.get("currency_iso_code")
    amount = rounded(book, fields.get("amount"), currency)
    if amount is None or amount <= 0:
        raise broken(Rule.NOT_POSITIVE, "the amount should be strictly positive", "amount")
    if not reference.is_currency_of(book, currency):
        checks.add(ErrorKind.INVALID, "currency", f"{currency} is not a currency of this organization")
    bank_id = fields.get("bank_account_id", row.bank_account_id)
    bank_account = bank_account_of(book, bank_id, currency, "bankAccountId", checks)
    checks.raise_if_any()
    on = fields.get("date") or date.today()
    row.exchange_rate = rates.kept_or_new_rate(book, row, currency, on,
                                               same=(row.currency_iso_code, row.date) == (currency, on))
    row.party_id, row.date, row.amount, row.currency_iso_code = party.id, on, amount, currency
    row.bank_account_id = bank_account.id if bank_account is not None else None
    if fields.get("extra"):
        row.extra = {**(row.extra or {}), **fields["extra"]}


def rounded(book: Book, amount: Decimal | None, currency: str | None) -> Decimal | None:
    """An amount of money received or paid back, rounded half-up to its currency's minor unit (as
    amounts sent with more decimals than the cents of a dollar always were): 1.5 JPY is 2 JPY."""
    return round_minor(amount, reference.smallest_unit(book, currency)) if amount is not None else None


def import_payment(book: Book, external_id: str, fields: Mapping[str, Any]) -> tuple[Payment, bool]:
    """Create the payment with this external id, or update it (exactly once: services/imports.py)."""
    return upsert(book, find=lambda: book.payments.find(external_id=external_id),
                  update=lambda existing: RECEIVED.update(book, existing.id, fields),
                  create=lambda: RECEIVED.create(book, {**fields, "external_id": external_id}))


def bank_account_of(book: Book, bank_id: Any, currency: str | None, field: str, checks: Checks) -> BankAccount | None:
    """The bank account money moves through, when one is named: one of the organization's, in the
    currency of the money (a problem added to `checks` otherwise)."""
    if bank_id is None:
        return None
    bank_account = book.bank_accounts.get(bank_id)  # None for what is no id at all ("BA-1")
    if bank_account is None:
        checks.add(ErrorKind.INVALID, field, f"no bank account with id {bank_id}")
    elif currency is not None and bank_account.currency_iso_code != currency:
        checks.add(ErrorKind.INVALID, field, f"the bank account is in {bank_account.currency_iso_code}, "
                                             f"the money in {currency}")
    return bank_account


def invoice_of(payment: Payment) -> int | None:
    return payment.allocations[0].document_id if payment.allocations else None


PAYMENTS = Payments("payments")
RECEIVED = ReceivedPayments("payments")
