"""Reports over the ledger (our extension to OneUp): trial balance, general ledger, balance sheet,
profit and loss, aged receivables. Totals by account come from the maintained balances
(storage/balances.py: day and month totals kept with the entries), never from a sum of every entry;
the general ledger lists the entries of its range, the aged receivables the invoices' settlements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from comptoir.domain import charts
from comptoir.domain.documents import INVOICE
from comptoir.domain.ledger import DEBIT
from comptoir.services.settlement.standing import standings
from comptoir.storage.link import balance_totals
from comptoir.storage.book import Book
from comptoir.storage.tables import Document, Entry

ZERO = Decimal(0)
AGE_BUCKETS = (("current", None, 0), ("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("over_90", 91, None))


@dataclass(frozen=True)
class AccountLine:
    account_id: int
    number: str
    name: str
    nature: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def _sums(book: Book, date_from: date | None = None, date_to: date | None = None,
          account_ids: list[int] | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """Debit and credit totals by account of the entries dated from `date_from` to `date_to` (both
    included, None unbounded), read from the maintained balances."""
    return balance_totals(book.link, book.org_id, date_from=date_from, date_to=date_to, account_ids=account_ids)


def trial_balance(book: Book, as_of: date) -> list[AccountLine]:
    sums = _sums(book, date_to=as_of)
    accounts = book.accounts_by_id()
    lines = [AccountLine(account_id, accounts[account_id].number, accounts[account_id].name,
                         accounts[account_id].nature, debit, credit) for account_id, (debit, credit) in sums.items()]
    return sorted(lines, key=lambda line: line.number)


@dataclass(frozen=True)
class LedgerRow:
    date: date
    transaction_id: int
    piece_number: str
    label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    lettering: str | None


@dataclass
class GeneralLedger:
    account_id: int
    number: str
    name: str
    opening_balance: Decimal
    rows: list[LedgerRow] = field(default_factory=list)

    @property
    def closing_balance(self) -> Decimal:
        return self.rows[-1].balance if self.rows else self.opening_balance


def general_ledger(book: Book, account_id: int, date_from: date, date_to: date) -> GeneralLedger:
    account = book.accounts.require(account_id)
    before = (_sums(book, date_to=date_from - timedelta(days=1), account_ids=[account.id]) if date_from > date.min
              else {}).get(account.id, (ZERO, ZERO))
    report = GeneralLedger(account.id, account.number, account.name, before[0] - before[1])
    balance = report.opening_balance
    entries = book.entries.all(Entry.account_id == account.id, Entry.date >= date_from, Entry.date <= date_to)
    for entry in sorted(entries, key=lambda e: (e.date, e.id)):
        debit, credit = (entry.amount, ZERO) if entry.way == DEBIT else (ZERO, entry.amount)
        balance += debit - credit
        report.rows.append(LedgerRow(entry.date, entry.transaction_id, entry.transaction.piece_number, entry.label,
                                     debit, credit, balance, entry.lettering))
    return report


@dataclass(frozen=True)
class Section:
    nature: str
    lines: list[AccountLine]

    @property
    def total(self) -> Decimal:
        sign = 1 if self.nature in charts.DEBIT_NATURES else -1
        return sum((sign * line.balance for line in self.lines), ZERO)


def balance_sheet(book: Book, as_of: date) -> dict:
    lines = trial_balance(book, as_of)
    sections = {nature: Section(nature, [line for line in lines if line.nature == nature])
                for nature in (charts.ASSET, charts.LIABILITY, charts.EQUITY)}
    earnings = _earnings(lines)
    return {"as_of": as_of, "sections": sections, "current_earnings": earnings,
            "total_assets": sections[charts.ASSET].total,
            "total_liabilities_and_equity": sections[charts.LIABILITY].total + sections[charts.EQUITY].total + earnings}


def profit_and_loss(book: Book, date_from: date, date_to: date) -> dict:
    sums = _sums(book, date_from, date_to)
    accounts = book.accounts_by_id()
    lines = sorted((AccountLine(i, accounts[i].number, accounts[i].name, accounts[i].nature, d, c)
                    for i, (d, c) in sums.items() if accounts[i].nature in (charts.INCOME, charts.EXPENSE)),
                   key=lambda line: line.number)
    income = Section(charts.INCOME, [line for line in lines if line.nature == charts.INCOME])
    expense = Section(charts.EXPENSE, [line for line in lines if line.nature == charts.EXPENSE])
    return {"date_from": date_from, "date_to": date_to, "income": income, "expenses": expense,
            "net_income": income.total - expense.total}


def _earnings(lines: list[AccountLine]) -> Decimal:
    return -sum((line.balance for line in lines if line.nature in (charts.INCOME, charts.EXPENSE)), ZERO)


@dataclass
class AgedCustomer:
    customer_id: int
    name: str
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def aged_receivables(book: Book, as_of: date) -> list[AgedCustomer]:
    """Open settlements of invoices dated up to `as_of`, by customer and by days past due."""
    customers: dict[int, AgedCustomer] = {}
    invoices = book.documents.all(Document.kind == INVOICE, Document.date <= as_of)
    states = standings(book, invoices, as_of)
    for invoice in invoices:
        for settlement in states[invoice.id].settlements:
            if settlement.open_amount == 0:
                continue
            row = customers.setdefault(invoice.customer_id, AgedCustomer(
                invoice.customer_id, invoice.customer.full_name, {name: ZERO for name, _, _ in AGE_BUCKETS}))
            row.buckets[_bucket((as_of - settlement.due_date).days)] += settlement.open_amount
    return sorted(customers.values(), key=lambda row: row.name)


def _bucket(days_late: int) -> str:
    for name, low, high in AGE_BUCKETS:
        if (low is None or days_late >= low) and (high is None or days_late <= high):
            return name
    return AGE_BUCKETS[-1][0]
