"""The customer portal: a signed, expiring link to one customer's statement (balance, open and paid
invoices, their PDFs), which the organization hands to its customer or embeds in its own app.

The token carries the organization, the customer's UUID, when it was issued, the expiry and the
origins allowed to frame the page (docs/decisions/0010); nothing is stored per link. A customer's links
are withdrawn all at once (`revoke_links`: those issued before no longer open), and no link lives
longer than the server allows (COMPTOIR_PORTAL_LINK_DAYS_MAX).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from comptoir.domain.query import Condition, ListQuery, Op, Order
from comptoir.services.access import links
from comptoir.services.documents import files, sales
from comptoir.services.ledger.closing import receivable_balances_by_currency
from comptoir.services.reporting import printing
from comptoir.services.settlement import standing
from comptoir.storage.book import Book
from comptoir.storage.tables import Document, Party

PURPOSE = "comptoir.portal"
EXPIRES_IN_DEFAULT_S = 86400
EXPIRES_IN_MAX_S = 100 * 365 * 86400
INVOICES_MAX = 1000  # the most recent ones, open and paid together
FRAME_ANCESTORS_MAX = 32
# One CSP source expression: a scheme, a host (wildcards allowed), a port, a path. No quotes (no
# keywords), no ';' or ',' (no new directive, no second policy), no whitespace or control characters.
_SOURCE = re.compile(r"[A-Za-z0-9*][A-Za-z0-9.*:/\[\]_~%+-]{0,254}")


class BadFrameAncestors(ValueError):
    pass


@dataclass(frozen=True)
class Grant:
    """What a portal link opens: one customer of one organization, until `expires_at`."""

    org_id: int
    customer_uuid: str
    frame_ancestors: tuple[str, ...]
    expires_at: int
    issued_at_ms: int = 0  # links made before issue 16 carry none: any withdrawal withdraws them


def frame_ancestors(value: str | None) -> tuple[str, ...]:
    """The origins allowed to frame the portal, from a space-separated list (None or blank: none)."""
    if value is None or value.strip(" ") == "":
        return ()
    sources = tuple(source for source in value.split(" ") if source)
    if len(sources) > FRAME_ANCESTORS_MAX:
        raise BadFrameAncestors(f"at most {FRAME_ANCESTORS_MAX} hosts")
    for source in sources:
        if not _SOURCE.fullmatch(source):
            raise BadFrameAncestors(f"{source[:60]!r} is not a host or origin (hosts are separated by spaces; "
                                    "no quotes, ';', ',' or control characters)")
    return sources


def content_security_policy(ancestors: tuple[str, ...]) -> str:
    """The portal's Content-Security-Policy header: exactly the allowed framers, else none."""
    return "frame-ancestors " + (" ".join(ancestors) if ancestors else "'none'")


def issue(secret: str, org_id: int, customer_uuid: str, expires_in_s: int, ancestors: tuple[str, ...],
          now: float | None = None) -> str:
    now = time.time() if now is None else now
    return links.sign(secret, PURPOSE, {"o": org_id, "c": customer_uuid, "f": " ".join(ancestors),
                                        "i": int(now * 1000)}, int(now) + expires_in_s)


def grant_of(payload: dict[str, Any]) -> Grant:
    """The grant of a verified payload (an expired one too: its framers still apply to the error page)."""
    try:
        grant = Grant(payload["o"], payload["c"], frame_ancestors(payload["f"]), payload[links.EXPIRY],
                      payload.get("i", 0))
    except (KeyError, TypeError, ValueError):
        raise links.LinkInvalid() from None
    if not isinstance(grant.org_id, int) or not isinstance(grant.customer_uuid, str) \
            or not isinstance(grant.issued_at_ms, int):
        raise links.LinkInvalid()
    return grant


def open_link(secret: str, token: str) -> Grant:
    """The grant of a live token; links.LinkInvalid or links.LinkExpired otherwise."""
    return grant_of(links.verify(secret, PURPOSE, token))


# -- the statement -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str
    minor_units: int

    def __str__(self) -> str:
        return f"{self.amount:,.{self.minor_units}f} {self.currency}"

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency, self.minor_units)


@dataclass(frozen=True)
class InvoiceLine:
    uuid: str
    number: str
    issued_on: date
    due_on: date | None
    total: Money
    outstanding: Money
    state: str  # DUE, OVERDUE or PAID


@dataclass(frozen=True)
class Balance:
    """What the customer owes in one currency, and how it adds up: what is left to pay on its open
    invoices, less its payments and credit notes not yet applied to an invoice, plus whatever else
    its account holds (a refund linked to no credit); `owed` is the balance of its account in that currency,
    negative when the customer is in credit. `open_invoices - unapplied + other == owed`."""

    open_invoices: Money
    unapplied: Money  # zero or more: the credits (payments, credit notes) no invoice was settled with
    other: Money  # zero or more: what the account holds beyond its invoices and credits
    owed: Money


@dataclass(frozen=True)
class Statement:
    organization: str
    customer: str
    balances: list[Balance]  # one per currency the customer is invoiced or credited in, one at least
    open_invoices: list[InvoiceLine]
    paid_invoices: list[InvoiceLine]
    truncated: bool  # more invoices than INVOICES_MAX: the oldest are not listed


def customer_of(book: Book, grant: Grant) -> Party | None:
    """The customer the link opens; None when it is gone, or its links were withdrawn after this one
    was issued."""
    party = book.parties.find(uuid=grant.customer_uuid)
    if party is None or not party.is_customer:
        return None
    withdrawn = party.portal_revoked_at
    if withdrawn is not None:
        withdrawn = withdrawn if withdrawn.tzinfo is not None else withdrawn.replace(tzinfo=timezone.utc)  # SQLite
        if grant.issued_at_ms <= int(withdrawn.timestamp() * 1000):
            return None
    return party


def revoke_links(book: Book, customer: Party) -> None:
    """Withdraw every portal link the customer was given until now: they no longer open."""
    customer.portal_revoked_at = datetime.now(timezone.utc)
    book.flush()


def statement(book: Book, grant: Grant, today: date | None = None) -> Statement | None:
    """The customer's statement; None when the customer no longer exists."""
    customer = customer_of(book, grant)
    if customer is None:
        return None
    today = today or date.today()
    minor_units = {currency.iso_code: currency.minor_units for currency in book.currencies.all()}

    def money(amount: Decimal, currency: str) -> Money:
        return Money(amount, currency, minor_units.get(currency, 2))

    invoices, truncated = sales.INVOICES.list(book, ListQuery(
        (Condition("customer_id", Op.EQ, customer.id),), (Order("date", descending=True),), 0, INVOICES_MAX))
    open_invoices, paid_invoices = [], []
    states = standing.standings(book, invoices)  # one query for every invoice's payments
    for invoice in invoices:
        if invoice.cancelled:
            continue
        unpaid = states[invoice.id].unpaid
        paid = unpaid <= 0
        state = "PAID" if paid else ("OVERDUE" if invoice.due_date is not None and invoice.due_date < today
                                     else "DUE")
        line = InvoiceLine(invoice.uuid, invoice.user_code, invoice.date, invoice.due_date,
                           money(invoice.total, invoice.currency_iso_code),
                           money(max(unpaid, Decimal(0)), invoice.currency_iso_code), state)
        (paid_invoices if paid else open_invoices).append(line)
    open_invoices.sort(key=lambda line: (line.due_on or line.issued_on, line.number))
    left_to_pay: dict[str, Decimal] = {}
    for line in open_invoices:
        left_to_pay[line.outstanding.currency] = left_to_pay.get(line.outstanding.currency, Decimal(0)) \
            + line.outstanding.amount
    if truncated:  # the older invoices, not listed, count in the totals all the same
        left_to_pay = _left_to_pay(book, customer)
    return Statement(book.organization.name, customer.full_name, _balances(book, customer, left_to_pay, money),
                     open_invoices, paid_invoices, truncated)


def _left_to_pay(book: Book, customer: Party) -> dict[str, Decimal]:
    """What is left to pay on every open invoice of the customer, by currency, page after page."""
    found: dict[str, Decimal] = {}
    offset, more = 0, True
    while more:
        invoices, more = sales.INVOICES.list(book, ListQuery(
            (Condition("customer_id", Op.EQ, customer.id),), (Order("date", descending=True),), offset, INVOICES_MAX))
        states = standing.standings(book, invoices)
        for invoice in invoices:
            unpaid = states[invoice.id].unpaid
            if not invoice.cancelled and unpaid > 0:
                found[invoice.currency_iso_code] = found.get(invoice.currency_iso_code, Decimal(0)) + unpaid
        offset += len(invoices)
        more = more and bool(invoices)
    return found


def _balances(book: Book, customer: Party, left_to_pay: dict[str, Decimal],
              money: Callable[[Decimal, str], Money]) -> list[Balance]:
    """How much the customer owes in each currency it has entries or open invoices in, its own first
    (none at all reads as nothing owed in its own currency), and how it adds up: the balance of its
    account, what is left to pay on its open invoices, and the difference, read as the aged
    receivables report reads it (services/reporting/reports.aged_receivables): credits not applied
    yet when it lowers the balance, other amounts when it raises it. A currency is never converted
    into another here: the customer owes euros and dollars, not their sum (docs/currencies.md)."""
    own = customer.currency_iso_code or book.organization.currency_iso_code
    owed = receivable_balances_by_currency(book, [customer.id])[customer.id]
    currencies = {currency for currency, amount in owed.items() if amount} \
        | {currency for currency, amount in left_to_pay.items() if amount} or {own}
    balances = []
    for currency in sorted(currencies, key=lambda code: (code != own, code)):
        invoiced, balance = left_to_pay.get(currency, Decimal(0)), owed.get(currency, Decimal(0))
        rest = balance - invoiced
        balances.append(Balance(money(invoiced, currency), money(max(-rest, Decimal(0)), currency),
                                money(max(rest, Decimal(0)), currency), money(balance, currency)))
    return balances


def invoice_pdf(book: Book, root: Path, grant: Grant, invoice_uuid: str) -> tuple[str, bytes] | None:
    """The file name and bytes of one of the customer's invoices: the PDF uploaded for it, else the
    one printed from the book. None when the invoice is not this customer's."""
    customer = customer_of(book, grant)
    invoice: Document | None = book.documents.find(kind=sales.INVOICE, uuid=invoice_uuid) if customer else None
    if invoice is None or invoice.customer_id != customer.id:
        return None
    stored = book.stored_files.get(invoice.pdf_file_id) if invoice.pdf_file_id else None
    if stored is not None:
        try:
            return stored.filename, files.read(root, stored)
        except FileNotFoundError:
            pass  # the bytes are gone from the disk: the book can still print the invoice
    return printing.invoice_pdf(book, invoice.id)
