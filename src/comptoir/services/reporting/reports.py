"""Reports over the ledger (our extension to OneUp): trial balance, general ledger, balance sheet,
profit and loss, aged receivables. Totals by account come from the maintained balances
(storage/balances.py: day and month totals kept with the entries), never from a sum of every entry;
the general ledger lists the entries of its range, the aged receivables the invoices' settlements.

Every figure is in the organization's currency. Beside an account's line, the amounts its entries
carry in other currencies (issue 18 §4, docs/currencies.md "Reports"), per currency, read in one
grouped query over the entries in another currency (`foreign_figures`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func

from comptoir.domain import charts, pcg, received
from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.fiscal import FiscalYear, fiscal_year
from comptoir.domain.documents import INVOICE
from comptoir.domain.ledger import DEBIT
from comptoir.services.ledger.chart import account_id_for
from comptoir.services.settlement.standing import standings
from comptoir.storage.balances import Totals
from comptoir.storage.link import balance_totals, balance_totals_of_periods
from comptoir.storage.book import Book
from comptoir.storage.tables import Document, Entry

ZERO = Decimal(0)
AGE_BUCKETS = (("current", None, 0), ("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("over_90", 91, None))


@dataclass(frozen=True)
class ForeignFigures:
    """An account's figures in one other currency than the organization's: what its entries in that
    currency carry beside their amounts (`currency_amount`), as AccountLine's."""

    currency: str
    debit: Decimal
    credit: Decimal
    opening: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class AccountLine:
    """An account's figures over a period: its balance when the period opened (debits minus
    credits), the debits and credits of the period, and its balance when it closed. `foreign`: the
    same figures in each other currency its entries hold, by currency code (none for most accounts)."""

    account_id: int | None
    number: str
    name: str
    nature: str
    debit: Decimal
    credit: Decimal
    opening: Decimal = ZERO
    foreign: tuple[ForeignFigures, ...] = ()

    @property
    def balance(self) -> Decimal:
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    fiscal_year: FiscalYear
    date_from: date
    date_to: date
    lines: list[AccountLine]


def _sums(book: Book, date_from: date | None = None, date_to: date | None = None,
          account_ids: list[int] | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """Debit and credit totals by account of the entries dated from `date_from` to `date_to` (both
    included, None unbounded), read from the maintained balances."""
    if date_from is not None and date_to is not None and date_from > date_to:
        return {}
    return balance_totals(book.link, book.org_id, date_from=date_from, date_to=date_to, account_ids=account_ids)


def fiscal_year_of(book: Book, day: date) -> FiscalYear:
    return fiscal_year(day, book.organization.fiscal_year_start_month)


def _resets(nature: str) -> bool:
    """Income and expenses count from the start of each fiscal year."""
    return nature in (charts.INCOME, charts.EXPENSE)


def _net(pair: tuple[Decimal, Decimal]) -> Decimal:
    return pair[0] - pair[1]


def opening_balances(book: Book, day: date, *, until: date | None = None) -> tuple[dict[int, Decimal], Totals]:
    """Each account's balance when `day` begins, as the fiscal year that holds it sees it: balance
    sheet accounts hold everything before; income and expenses only what their fiscal year saw
    before `day`; and what earlier fiscal years earned or lost is carried forward to the chart's
    retained earnings account (presented, not posted: docs/accounting.md, "The year end"). With
    `until`, also the movements from `day` to `until`, read in the same statement."""
    accounts = book.accounts_by_id()
    start = fiscal_year_of(book, day).start
    periods = [(None, start - timedelta(days=1)), (start, day - timedelta(days=1))]
    before_year, in_year, *movements = balance_totals_of_periods(
        book.link, book.org_id, periods + ([(day, until)] if until is not None else []))
    opening: dict[int, Decimal] = {}
    carried = ZERO
    for account_id, pair in before_year.items():
        if _resets(accounts[account_id].nature):
            carried += _net(pair)
        else:
            opening[account_id] = _net(pair)
    for account_id, pair in in_year.items():
        opening[account_id] = opening.get(account_id, ZERO) + _net(pair)
    if carried:
        retained = account_id_for(book, charts.carried_forward_role(book.organization.chart, carried))
        opening[retained] = opening.get(retained, ZERO) + carried
    return opening, (movements[0] if movements else {})


def foreign_figures(book: Book, date_to: date, *, date_from: date,
                    year_start: date | None = None) -> dict[int, tuple[ForeignFigures, ...]]:
    """What each account's entries in other currencies carry, per currency: the debits and credits
    from `date_from` to `date_to`, and with `year_start` (the fiscal year's first day) the opening
    balance as `opening_balances` counts it (income and expenses from the fiscal year's start only;
    what earlier years earned is carried forward in the organization's currency alone). One grouped
    statement over the entries in another currency (the partial index ix_entries_org_foreign); none in a
    book that holds no money in another currency (the organization's `holds_foreign_money`)."""
    if not book.organization.holds_foreign_money:  # read with the credential: no statement at all
        return {}
    signed = case((Entry.way == DEBIT, Entry.currency_amount), else_=-Entry.currency_amount)
    in_period = Entry.date >= date_from
    columns = [Entry.account_id, Entry.currency_iso_code,
               func.sum(case((and_(in_period, Entry.way == DEBIT), Entry.currency_amount), else_=0)).label("debit"),
               func.sum(case((and_(in_period, Entry.way != DEBIT), Entry.currency_amount), else_=0)).label("credit")]
    criteria = [Entry.currency_iso_code.isnot(None), Entry.date <= date_to]
    if year_start is None:
        criteria.append(in_period)
    else:
        columns += [func.sum(case((Entry.date < year_start, signed), else_=0)).label("before_year"),
                    func.sum(case((and_(Entry.date >= year_start, Entry.date < date_from), signed),
                                  else_=0)).label("in_year")]
    rows = book.entries.aggregate(columns, *criteria, group_by=[Entry.account_id, Entry.currency_iso_code])
    accounts = book.accounts_by_id()
    found: dict[int, list[ForeignFigures]] = {}
    for row in rows:
        opening = ZERO
        if year_start is not None:
            carried = ZERO if _resets(accounts[row.account_id].nature) else Decimal(row.before_year or 0)
            opening = carried + Decimal(row.in_year or 0)
        figures = ForeignFigures(row.currency_iso_code, Decimal(row.debit or 0), Decimal(row.credit or 0), opening)
        if figures.opening or figures.debit or figures.credit:
            found.setdefault(row.account_id, []).append(figures)
    return {account_id: tuple(sorted(figures, key=lambda one: one.currency)) for account_id, figures in found.items()}


def trial_balance(book: Book, date_to: date, date_from: date | None = None) -> TrialBalance:
    """Every account with its opening balance, the period's movements and its closing balance. The
    period lies within one fiscal year (from its start by default): across a year end, income and
    expenses would close one year and open the next at zero, which no single column can show."""
    year = fiscal_year_of(book, date_to)
    date_from = year.start if date_from is None else date_from
    if date_from > date_to:
        raise fail(ErrorKind.INVALID, "date_from", f"the period starts on {date_from}, after it ends on {date_to}")
    if date_from < year.start:
        raise fail(ErrorKind.INVALID, "date_from", f"a trial balance lies within one fiscal year: {date_to} is in "
                                                   f"the year from {year.start} to {year.end}")
    opening, movements = opening_balances(book, date_from, until=date_to)
    foreign = foreign_figures(book, date_to, date_from=date_from, year_start=year.start)
    accounts = book.accounts_by_id()
    lines = []
    for account_id in opening.keys() | movements.keys() | foreign.keys():
        account = accounts[account_id]
        debit, credit = movements.get(account_id, (ZERO, ZERO))
        line = AccountLine(account_id, account.number, account.name, account.nature, debit, credit,
                           opening.get(account_id, ZERO), foreign.get(account_id, ()))
        if line.opening or line.debit or line.credit or line.foreign:
            lines.append(line)
    return TrialBalance(year, date_from, date_to, sorted(lines, key=lambda line: line.number))


@dataclass(frozen=True)
class LedgerRow:
    """An entry of the general ledger, in the organization's currency, with its running balance; an
    entry of money in another currency also says that currency, the amount in it and its rate."""

    date: date
    transaction_id: int
    piece_number: str
    label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    lettering: str | None
    currency: str | None = None
    currency_amount: Decimal | None = None
    rate: Decimal | None = None


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
    """The entries of one account over a period with their running balance, opening where the
    trial balance of `date_from` opens; an income or expense account starts again at zero on the
    first day of each fiscal year the period reaches."""
    account = book.accounts.require(account_id)
    report = GeneralLedger(account.id, account.number, account.name,
                           opening_balances(book, date_from)[0].get(account.id, ZERO))
    balance, year = report.opening_balance, fiscal_year_of(book, date_from)
    entries = book.entries.all(Entry.account_id == account.id, Entry.date >= date_from, Entry.date <= date_to)
    for entry in sorted(entries, key=lambda e: (e.date, e.id)):
        if not year.holds(entry.date):
            year = fiscal_year_of(book, entry.date)
            balance = ZERO if _resets(account.nature) else balance
        debit, credit = (entry.amount, ZERO) if entry.way == DEBIT else (ZERO, entry.amount)
        balance += debit - credit
        report.rows.append(LedgerRow(entry.date, entry.transaction_id, entry.transaction.piece_number, entry.label,
                                     debit, credit, balance, entry.lettering, entry.currency_iso_code,
                                     entry.currency_amount, entry.rate))
    return report


@dataclass(frozen=True)
class Section:
    nature: str
    lines: list[AccountLine]

    @property
    def total(self) -> Decimal:
        sign = 1 if self.nature in charts.DEBIT_NATURES else -1
        return sum((sign * line.balance for line in self.lines), ZERO)


def _section_of(chart: str, line: AccountLine) -> str:
    """Where a balance sheet account shows: by its nature, or, for the chart's mixed accounts, by
    the sign of its balance (a bank overdraft among liabilities, a supplier owing us among assets)."""
    if chart == charts.FRENCH_CHART and pcg.is_mixed(line.number) and line.balance:
        return charts.ASSET if line.balance > 0 else charts.LIABILITY
    return line.nature


def balance_sheet(book: Book, as_of: date) -> dict:
    """Assets, liabilities and equity on a day. Equity holds the results of earlier fiscal years,
    carried forward to retained earnings; the year's own result (to that day) is shown apart."""
    trial = trial_balance(book, as_of)
    chart = book.organization.chart
    standing = [line for line in trial.lines if not _resets(line.nature) and line.balance]
    sections = {nature: Section(nature, [line for line in standing if _section_of(chart, line) == nature])
                for nature in (charts.ASSET, charts.LIABILITY, charts.EQUITY)}
    earnings = -sum((line.balance for line in trial.lines if _resets(line.nature)), ZERO)
    retained_roles = (charts.RETAINED_EARNINGS, charts.RETAINED_LOSSES)
    accounts = book.accounts_by_id()
    retained = -sum((line.balance for line in sections[charts.EQUITY].lines
                     if accounts[line.account_id].role in retained_roles), ZERO)
    result_role = charts.year_result_role(chart, -earnings)
    result_account = accounts[account_id_for(book, result_role)] if result_role else None
    return {"as_of": as_of, "fiscal_year": trial.fiscal_year, "sections": sections, "retained_earnings": retained,
            "current_earnings": earnings, "current_earnings_account": result_account, "total_assets": sections[charts.ASSET].total,
            "total_liabilities_and_equity": sections[charts.LIABILITY].total + sections[charts.EQUITY].total + earnings}


def profit_and_loss(book: Book, date_from: date, date_to: date) -> dict:
    sums = _sums(book, date_from, date_to)
    foreign = foreign_figures(book, date_to, date_from=date_from) if date_from <= date_to else {}
    accounts = book.accounts_by_id()
    lines = sorted((AccountLine(i, accounts[i].number, accounts[i].name, accounts[i].nature, d, c,
                                foreign=foreign.get(i, ()))
                    for i, (d, c) in sums.items() if _resets(accounts[i].nature)),
                   key=lambda line: line.number)
    income = Section(charts.INCOME, [line for line in lines if line.nature == charts.INCOME])
    expense = Section(charts.EXPENSE, [line for line in lines if line.nature == charts.EXPENSE])
    return {"date_from": date_from, "date_to": date_to, "income": income, "expenses": expense,
            "net_income": income.total - expense.total}


@dataclass
class AgedCustomer:
    """What one customer owes in one currency on a day: its invoices' open settlements in that
    currency by days past due, and the rest of its receivable balance in that currency that no
    invoice explains (payments and credits not applied yet, negative; entries made by hand)."""

    customer_id: int | None
    name: str
    currency: str
    buckets: dict[str, Decimal]
    unapplied: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), self.unapplied)


NO_CUSTOMER = "(no customer)"


def aged_receivables(book: Book, as_of: date) -> list[AgedCustomer]:
    """Open settlements of invoices dated up to `as_of`, by customer and currency and by days past
    due, and what the receivable accounts hold beyond them: in each currency, the rows add up to the
    receivable balance in it that day. A customer's euros are never added to its dollars, nor to the
    dollars its euros were booked at (docs/currencies.md)."""
    customers: dict[tuple[int | None, str], AgedCustomer] = {}

    def row(customer_id: int | None, name: str, currency: str) -> AgedCustomer:
        return customers.setdefault((customer_id, currency), AgedCustomer(
            customer_id, name, currency, {bucket: ZERO for bucket, _, _ in AGE_BUCKETS}))
    own = book.organization.currency_iso_code
    invoices = book.documents.all(Document.kind == INVOICE, Document.date <= as_of)
    states = standings(book, invoices, as_of)
    for invoice in invoices:  # owed in its currency
        for settlement in states[invoice.id].settlements:
            if settlement.open_amount:
                row(invoice.customer_id, invoice.customer.full_name, invoice.currency_iso_code).buckets[
                    _bucket((as_of - settlement.due_date).days)] += settlement.open_amount
    for (party_id, currency), balance in _receivable_by_party(book, as_of).items():
        explained = customers[party_id, currency].total if (party_id, currency) in customers else ZERO
        if balance != explained:
            name = NO_CUSTOMER if party_id is None else book.parties.require(party_id).full_name
            row(party_id, name, currency).unapplied += balance - explained
    return sorted(customers.values(),
                  key=lambda found: (found.customer_id is None, found.name, found.currency != own, found.currency))


def _receivable_by_party(book: Book, as_of: date) -> dict[tuple[int | None, str], Decimal]:
    """The balance of every customer's entries on the receivable accounts up to `as_of`, in each
    currency: an entry of money in another currency counts its amount in that currency (as
    services/ledger/closing.receivable_balances_by_currency does)."""
    chart = book.organization.chart
    receivable = [account.id for account in book.accounts_by_id().values()
                  if not account.is_family and received.is_party_account(account, received.SALES, chart)]
    money = func.coalesce(Entry.currency_amount, Entry.amount)
    signed = case((Entry.way == DEBIT, money), else_=-money)
    currency = func.coalesce(Entry.currency_iso_code, book.organization.currency_iso_code).label("currency")
    rows = book.entries.aggregate([Entry.party_id, currency, func.sum(signed).label("balance")],
                                  Entry.account_id.in_(receivable), Entry.date <= as_of,
                                  group_by=[Entry.party_id, currency])
    return {(found.party_id, found.currency): Decimal(found.balance or 0) for found in rows}


def _bucket(days_late: int) -> str:
    for name, low, high in AGE_BUCKETS:
        if (low is None or days_late >= low) and (high is None or days_late <= high):
            return name
    return AGE_BUCKETS[-1][0]
