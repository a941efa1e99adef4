"""Totals of sales documents (orders, invoices): line totals, subtotal, reduce, tax and total.

The rule, worked through in specs/oneup.md §5 on the seed's example (1092.3, 38.23, 86.13, 1140.2):
each line total is quantity × unit price × (1 − discount), rounded to the cent; the subtotal is their
sum; the reduce is subtotal × reduce rate, rounded; the tax of each rate is the taxable base of that
rate, reduced by the same rate, times the tax rate, rounded once; total = subtotal − reduce + tax.

"The cent" is the document's currency's minor unit (ISO 4217: 0.01 USD, 1 JPY, 0.001 BHD), which
every function here is given as `exponent` (what `money.round_minor` rounds to): they do not know
the document, its currency or the book, and look nothing up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .money import round_minor

HUNDRED = Decimal(100)

# The kinds of documents the book keeps.
INVOICE, SALES_ORDER, CREDIT_NOTE = "invoice", "sales_order", "credit_note"
PURCHASE_INVOICE, VENDOR_CREDIT = "purchase_invoice", "vendor_credit"
LABELS = {INVOICE: "invoice", SALES_ORDER: "sales order", CREDIT_NOTE: "credit note",
          PURCHASE_INVOICE: "purchase invoice", VENDOR_CREDIT: "vendor credit"}
POSTED = (INVOICE, CREDIT_NOTE, PURCHASE_INVOICE, VENDOR_CREDIT)  # the kinds that write a transaction
PURCHASES = (PURCHASE_INVOICE, VENDOR_CREDIT)  # their party is a vendor
CREDITS = (CREDIT_NOTE, VENDOR_CREDIT)  # they post the opposite of the invoice of their side
# The documents an organization issues under numbers the law says run without gaps and in date order
# (docs/decisions/0026): their automatic codes are numbered so. A purchase's number is its vendor's.
SEQUENCED = (INVOICE, CREDIT_NOTE)
PAYSHEET = "paysheet"  # a payroll document (Quipu's paysheets)
INVOICE_KINDS = (INVOICE, CREDIT_NOTE, PURCHASE_INVOICE, VENDOR_CREDIT)
ALL_KINDS = (*INVOICE_KINDS, PAYSHEET)  # the documents Quipu lists as book entries


def printed_number(kind: str, user_code: str, vendor_reference: str | None) -> str | None:
    """The number printed on a document: its vendor's for a purchase document, the organization's own
    code for the rest (storage's `Document.number` is this in a query too)."""
    return vendor_reference if kind in PURCHASES else user_code



@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount_rate: Decimal = Decimal(0)
    tax_rate: Decimal | None = None  # None: the line is not taxed


@dataclass(frozen=True)
class RateTax:
    """The tax of a document at one rate: its base (the taxable amount, net of line discounts and of
    the document's reduce) and the tax, as the document's totals have it. `rate` None: tax whose rate
    is not known (a document imported with its tax as an amount)."""

    rate: Decimal | None
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    line_totals: tuple[Decimal, ...]
    subtotal: Decimal
    reduce_amount: Decimal
    tax_amount: Decimal
    total: Decimal
    net_lines: tuple[Decimal, ...]  # each line after the document's reduce, summing to subtotal - reduce
    taxes: tuple[RateTax, ...] = ()  # per rate, in the order the lines first name it; summing to tax_amount


def line_total(line: Line, exponent: Decimal) -> Decimal:
    return round_minor(line.quantity * line.unit_price * (1 - line.discount_rate / HUNDRED), exponent)


def compute_totals(lines: list[Line], reduce_rate: Decimal, exponent: Decimal) -> Totals:
    """The document's totals, each amount rounded half-up to `exponent`, its currency's minor unit."""
    line_totals = tuple(line_total(line, exponent) for line in lines)
    subtotal = sum(line_totals, Decimal(0))
    reduce_amount = round_minor(subtotal * reduce_rate / HUNDRED, exponent)
    net_lines = allocate(subtotal - reduce_amount, line_totals, exponent)
    taxes = _taxes_by_rate(lines, line_totals, net_lines, 1 - reduce_rate / HUNDRED, exponent)
    tax_amount = sum((part.tax for part in taxes), Decimal(0))
    total = subtotal - reduce_amount + tax_amount
    return Totals(line_totals, subtotal, reduce_amount, tax_amount, total, net_lines, taxes)


def _taxes_by_rate(lines: Sequence[Line], line_totals: Sequence[Decimal], net_lines: Sequence[Decimal],
                   remaining: Decimal, exponent: Decimal) -> tuple[RateTax, ...]:
    """The tax of each rate: the lines' totals at that rate, reduced by the document's reduce, times
    the rate, rounded once (the seed's rule); its base, the lines' amounts after the reduce."""
    gross: dict[Decimal, Decimal] = {}
    net: dict[Decimal, Decimal] = {}
    for line, amount, after_reduce in zip(lines, line_totals, net_lines):
        if line.tax_rate is not None:
            gross[line.tax_rate] = gross.get(line.tax_rate, Decimal(0)) + amount
            net[line.tax_rate] = net.get(line.tax_rate, Decimal(0)) + after_reduce
    return tuple(RateTax(rate, net[rate], round_minor(base * remaining * rate / HUNDRED, exponent))
                 for rate, base in gross.items())


def by_rate(parts: Iterable[RateTax]) -> tuple[RateTax, ...]:
    """Parts of a document's tax (a line's, say) summed by rate, in the order the rates come."""
    found: dict[Decimal | None, RateTax] = {}
    for part in parts:
        before = found.get(part.rate)
        found[part.rate] = part if before is None else RateTax(part.rate, before.base + part.base,
                                                               before.tax + part.tax)
    return tuple(found.values())


def spread_tax(tax_amount: Decimal, taxes: Sequence[RateTax], base: Decimal,
               exponent: Decimal) -> tuple[RateTax, ...]:
    """The document's tax amount over its rates, the parts summing to it exactly: each rate's own
    when they add up to it; a tax amount given as such (an import's) in proportion to the tax
    computed at each rate (documents.allocate), or, when none was computed, as tax of no known rate
    on the whole `base` (the document's amount before taxes)."""
    computed = [part for part in taxes if part.tax]
    if not computed:
        return (RateTax(None, base, tax_amount),) if tax_amount else ()
    amounts = allocate(tax_amount, tuple(part.tax for part in computed), exponent)
    return tuple(RateTax(part.rate, part.base, amount) for part, amount in zip(computed, amounts))


def allocate(amount: Decimal, weights: tuple[Decimal, ...], exponent: Decimal) -> tuple[Decimal, ...]:
    """Split `amount` in proportion to `weights`, to the minor unit `exponent`, the parts summing
    exactly to it (the rounding difference goes to the largest weight)."""
    if not weights:
        return ()
    whole = sum(weights, Decimal(0))
    if whole == 0:
        parts = [Decimal(0)] * len(weights)
        parts[0] = amount
        return tuple(parts)
    parts = [round_minor(amount * weight / whole, exponent) for weight in weights]
    largest = max(range(len(weights)), key=lambda index: abs(weights[index]))
    parts[largest] += amount - sum(parts, Decimal(0))
    return tuple(parts)


@dataclass(frozen=True)
class LineAmounts:
    """One line of a document whose taxes are computed line by line (Quipu's items)."""

    base: Decimal
    tax: Decimal
    retention: Decimal

    @property
    def total(self) -> Decimal:
        return self.base + self.tax - self.retention


def line_amounts(line: Line, retention_rate: Decimal, exponent: Decimal) -> LineAmounts:
    """Base = quantity × unit price × (1 − discount), tax = base × rate, retention = base × retention
    rate, each rounded half-up to `exponent` (the currency's minor unit): the document's amounts are
    the sums of its lines', so they add up exactly on the page and in the ledger."""
    base = line_total(line, exponent)
    tax = round_minor(base * line.tax_rate / HUNDRED, exponent) if line.tax_rate is not None else Decimal(0)
    return LineAmounts(base, tax, round_minor(base * retention_rate / HUNDRED, exponent))


def deductible_part(tax: Decimal, deductible_rate: Decimal | None, exponent: Decimal) -> Decimal:
    """The part of a purchase's tax that may be deducted (all of it when no rate is given), rounded to
    the minor unit `exponent`; also the part of its base that the deducted tax stands on."""
    if deductible_rate is None:
        return tax
    return round_minor(tax * deductible_rate / HUNDRED, exponent)
