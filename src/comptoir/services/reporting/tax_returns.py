"""Tax returns over a period (our extension to OneUp, issue 17 §9): the tax collected on sales and the
tax deductible on purchases, each per rate with its base, their totals and the tax due, read from the
ledger's tax accounts; shaped as the country's form asks (docs/decisions/0023-tax-returns.md).

What is read is what the book holds: the entries of the tax accounts (each rate's, and the chart's
own, which hold earlier entries and tax of no known rate) dated in the period. A tax entry carries its
rate and base (domain.ledger.Posting); an entry without them (written by hand, imported as entries,
or posted before entries carried them) counts at the rate its account stands for, or at no known
rate, and adds no base. Tax at 0 % posts no entry, so it is not in the return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func

from comptoir.domain import charts
from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.ledger import CREDIT
from comptoir.domain.money import plain
from comptoir.storage.book import Book
from comptoir.storage.tables import Entry

ZERO = Decimal(0)
COLLECTED, DEDUCTIBLE = "collected", "deductible"
_SIDES = {charts.TAX_PAYABLE: COLLECTED, charts.TAX_RECEIVABLE: DEDUCTIBLE}
DUE, CREDIT_RESULT, NIL = "due", "credit", "nil"


@dataclass(frozen=True)
class TaxLine:
    """The tax of one rate on one side over the period: its base (None when no entry of it says
    one) and the tax, net of credit notes. `rate` None: tax of no known rate."""

    rate: Decimal | None
    base: Decimal | None
    tax: Decimal


@dataclass(frozen=True)
class Box:
    """A box (line, casilla) of the country's form: its number as the form prints it, and what goes in it."""

    box: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Jurisdiction:
    """A US sales tax: the organization's taxes of that rate, what was sold subject to it, and the tax."""

    name: str
    rate: Decimal | None
    taxable_sales: Decimal | None
    tax_collected: Decimal


@dataclass(frozen=True)
class TaxReturn:
    date_from: date
    date_to: date
    country: str
    form: str | None  # "CA3", "modelo_303", "sales_tax", or None where no form is shaped
    collected: tuple[TaxLine, ...]
    deductible: tuple[TaxLine, ...]
    boxes: tuple[Box, ...] = ()
    jurisdictions: tuple[Jurisdiction, ...] = ()

    @property
    def total_collected(self) -> Decimal:
        return _sum(line.tax for line in self.collected)

    @property
    def total_collected_base(self) -> Decimal:
        return _sum(line.base for line in self.collected if line.base is not None)

    @property
    def total_deductible(self) -> Decimal:
        return _sum(line.tax for line in self.deductible)

    @property
    def total_deductible_base(self) -> Decimal:
        return _sum(line.base for line in self.deductible if line.base is not None)

    @property
    def tax_due(self) -> Decimal:
        """Collected minus deductible: negative when the period leaves a credit."""
        return self.total_collected - self.total_deductible

    @property
    def result(self) -> str:
        return DUE if self.tax_due > 0 else CREDIT_RESULT if self.tax_due < 0 else NIL


def tax_return(book: Book, date_from: date, date_to: date) -> TaxReturn:
    """The tax return of the organization for the period (both days included)."""
    if date_from > date_to:
        raise fail(ErrorKind.INVALID, "date_from", f"the period starts on {date_from}, after it ends on {date_to}")
    sides = tax_lines(book, date_from, date_to)
    country = (book.organization.country or "").upper()
    plain_return = TaxReturn(date_from, date_to, country, None, sides[COLLECTED], sides[DEDUCTIBLE])
    shape = _FORMS.get(country)
    return shape(book, plain_return) if shape is not None else plain_return


# -- what the ledger holds ------------------------------------------------------------------------

def tax_lines(book: Book, date_from: date, date_to: date) -> dict[str, tuple[TaxLine, ...]]:
    """The tax collected and deductible per rate over the period, from the entries of the tax
    accounts: one statement, summing by account, side, rate and whether the base is known."""
    accounts = _tax_accounts(book)
    found: dict[str, dict[Decimal | None, TaxLine]] = {COLLECTED: {}, DEDUCTIBLE: {}}
    if not accounts:
        return {side: () for side in found}
    has_base = case((Entry.tax_base.is_(None), 0), else_=1)
    rows = book.entries.aggregate(
        [Entry.account_id, Entry.way, Entry.tax_rate, has_base.label("has_base"),
         func.sum(Entry.amount).label("amount"), func.sum(Entry.tax_base).label("base")],
        Entry.account_id.in_(list(accounts)), Entry.date >= date_from, Entry.date <= date_to,
        group_by=[Entry.account_id, Entry.way, Entry.tax_rate, has_base])
    for row in rows:
        side, account_rate = accounts[row.account_id]
        towards = 1 if (side == charts.TAX_PAYABLE) == (row.way == CREDIT) else -1
        rate = row.tax_rate if row.tax_rate is not None else account_rate
        _add(found[_SIDES[side]], None if rate is None else plain(Decimal(rate)),
             Decimal(row.base) * towards if row.has_base else None, Decimal(row.amount) * towards)
    return {side: tuple(sorted(lines.values(), key=_by_rate)) for side, lines in found.items()}


def _tax_accounts(book: Book) -> dict[int, tuple[str, Decimal | None]]:
    """The organization's tax accounts by id, each with its side and the rate it stands for."""
    chart = book.organization.chart
    found = {}
    for account in book.accounts_by_id().values():
        side = None if account.is_family else charts.tax_side_of(chart, account.role, account.number)
        if side is not None:
            found[account.id] = side
    return found


def _add(lines: dict[Decimal | None, TaxLine], rate: Decimal | None, base: Decimal | None, tax: Decimal) -> None:
    before = lines.get(rate)
    if before is not None:
        base = before.base if base is None else base + (before.base or ZERO)
        tax += before.tax
    lines[rate] = TaxLine(rate, base, tax)


def _by_rate(line: TaxLine) -> tuple[bool, Decimal]:
    """Highest rate first; tax of no known rate last."""
    return line.rate is None, -(line.rate or ZERO)


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


# -- France: déclaration n° 3310-CA3-SD (cerfa n° 10963) --------------------------------------------

# The CA3's lines of "TVA brute" per rate ("Opérations imposables", base hors taxe and taxe due).
CA3_LINES = {Decimal(20): ("08", "Taux normal 20 %"), Decimal("5.5"): ("09", "Taux réduit 5,5 %"),
             Decimal(10): ("9B", "Taux réduit 10 %"), Decimal("2.1"): ("T6", "France continentale, taux 2,1 %")}


def _ca3(_book: Book, figures: TaxReturn) -> TaxReturn:
    """Lines 08, 09, 9B and T6 (base and tax per rate), 16 (total TVA brute due), 20 (TVA déductible
    sur autres biens et services), 23 (total TVA déductible), 25 (crédit de TVA, 23 − 16) and 28 (TVA
    nette due, 16 − 23: nothing is carried to lines X5 and 29 from other periods or taxes)."""
    by_rate = {line.rate: line for line in figures.collected}
    boxes = []
    for rate, (number, label) in CA3_LINES.items():
        if rate in by_rate:
            boxes += [Box(f"{number}-base", f"{label} : base hors taxe", by_rate[rate].base or ZERO),
                      Box(f"{number}-tax", f"{label} : taxe due", by_rate[rate].tax)]
    due = figures.tax_due
    boxes += [Box("16", "Total de la TVA brute due", figures.total_collected),
              Box("20", "TVA déductible sur autres biens et services", figures.total_deductible),
              Box("23", "Total de la TVA déductible", figures.total_deductible),
              Box("25", "Crédit de TVA (ligne 23 - ligne 16)", max(-due, ZERO)),
              Box("28", "TVA nette due (ligne 16 - ligne 23)", max(due, ZERO))]
    return _shaped(figures, "CA3", boxes)


# -- Spain: modelo 303, IVA autoliquidación ------------------------------------------------------

# Régimen general: casillas of the base, the rate (tipo) and the tax (cuota) per rate.
MODELO_303_RATES = {Decimal(4): ("01", "02", "03"), Decimal(10): ("04", "05", "06"),
                    Decimal(21): ("07", "08", "09")}


def _modelo_303(_book: Book, figures: TaxReturn) -> TaxReturn:
    """Casillas 01 to 09 (régimen general at 4, 10 and 21 %: base imponible, tipo, cuota), 27 (total
    cuota devengada), 28 and 29 (cuotas soportadas en operaciones interiores corrientes: base and
    cuota), 45 (total a deducir), 46 (resultado régimen general, 27 − 45) and 71 (resultado de la
    liquidación: 46, no earlier period's amount to offset nor pro rata applied)."""
    by_rate = {line.rate: line for line in figures.collected}
    boxes = []
    for rate, (base_box, rate_box, tax_box) in MODELO_303_RATES.items():
        if rate in by_rate:
            label = f"Régimen general {rate} %"
            boxes += [Box(base_box, f"{label}: base imponible", by_rate[rate].base or ZERO),
                      Box(rate_box, f"{label}: tipo %", rate), Box(tax_box, f"{label}: cuota", by_rate[rate].tax)]
    boxes += [Box("27", "Total cuota devengada", figures.total_collected),
              Box("28", "Cuotas soportadas en operaciones interiores corrientes: base", figures.total_deductible_base),
              Box("29", "Cuotas soportadas en operaciones interiores corrientes: cuota", figures.total_deductible),
              Box("45", "Total a deducir", figures.total_deductible),
              Box("46", "Resultado régimen general (27 - 45)", figures.tax_due),
              Box("71", "Resultado de la liquidación", figures.tax_due)]
    return _shaped(figures, "modelo_303", boxes)


# -- United States: sales tax per jurisdiction ---------------------------------------------------

def _sales_tax(book: Book, figures: TaxReturn) -> TaxReturn:
    """A summary per jurisdiction: each sales tax of the organization (its taxes of that rate), what
    was sold subject to it, and the tax collected."""
    names: dict[Decimal, list[str]] = {}
    for tax in book.taxes.all():
        names.setdefault(plain(Decimal(tax.rate)), []).append(tax.name)
    jurisdictions = tuple(Jurisdiction(_jurisdiction_name(names, line.rate), line.rate, line.base, line.tax)
                          for line in figures.collected)
    return TaxReturn(figures.date_from, figures.date_to, figures.country, "sales_tax", figures.collected,
                     figures.deductible, (), jurisdictions)


def _jurisdiction_name(names: Mapping[Decimal, Sequence[str]], rate: Decimal | None) -> str:
    if rate is None:
        return "Tax of no known rate"
    return " / ".join(sorted(names.get(rate, ()))) or f"Tax at {charts.rate_text(rate)}%"


def _shaped(figures: TaxReturn, form: str, boxes: Sequence[Box]) -> TaxReturn:
    return TaxReturn(figures.date_from, figures.date_to, figures.country, form, figures.collected,
                     figures.deductible, tuple(boxes))


_FORMS: dict[str, Callable[[Book, TaxReturn], TaxReturn]] = {"FR": _ca3, "ES": _modelo_303, "US": _sales_tax}
