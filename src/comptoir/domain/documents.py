"""Totals of sales documents (orders, invoices): line totals, subtotal, reduce, tax and total.

The rule, worked through in specs/oneup.md §5 on the seed's example (1092.3, 38.23, 86.13, 1140.2):
each line total is quantity × unit price × (1 − discount), rounded to the cent; the subtotal is their
sum; the reduce is subtotal × reduce rate, rounded; the tax of each rate is the taxable base of that
rate, reduced by the same rate, times the tax rate, rounded once; total = subtotal − reduce + tax.
"""

from __future__ import annotations

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
class Totals:
    line_totals: tuple[Decimal, ...]
    subtotal: Decimal
    reduce_amount: Decimal
    tax_amount: Decimal
    total: Decimal
    net_lines: tuple[Decimal, ...]  # each line after the document's reduce, summing to subtotal - reduce


def line_total(line: Line) -> Decimal:
    return round_minor(line.quantity * line.unit_price * (1 - line.discount_rate / HUNDRED))


def compute_totals(lines: list[Line], reduce_rate: Decimal = Decimal(0)) -> Totals:
    line_totals = tuple(line_total(line) for line in lines)
    subtotal = sum(line_totals, Decimal(0))
    reduce_amount = round_minor(subtotal * reduce_rate / HUNDRED)
    remaining = 1 - reduce_rate / HUNDRED
    bases: dict[Decimal, Decimal] = {}
    for line, amount in zip(lines, line_totals):
        if line.tax_rate is not None:
            bases[line.tax_rate] = bases.get(line.tax_rate, Decimal(0)) + amount
    tax_amount = sum((round_minor(base * remaining * rate / HUNDRED) for rate, base in bases.items()), Decimal(0))
    total = subtotal - reduce_amount + tax_amount
    return Totals(line_totals, subtotal, reduce_amount, tax_amount, total,
                  allocate(subtotal - reduce_amount, line_totals))


def allocate(amount: Decimal, weights: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    """Split `amount` in proportion to `weights`, to the cent, the parts summing exactly to it (the
    rounding difference goes to the largest weight)."""
    if not weights:
        return ()
    whole = sum(weights, Decimal(0))
    if whole == 0:
        parts = [Decimal(0)] * len(weights)
        parts[0] = amount
        return tuple(parts)
    parts = [round_minor(amount * weight / whole) for weight in weights]
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


def line_amounts(line: Line, retention_rate: Decimal = Decimal(0)) -> LineAmounts:
    """Base = quantity × unit price × (1 − discount), tax = base × rate, retention = base × retention
    rate, each rounded half-up to the cent: the document's amounts are the sums of its lines', so
    they add up exactly on the page and in the ledger."""
    base = line_total(line)
    tax = round_minor(base * line.tax_rate / HUNDRED) if line.tax_rate is not None else Decimal(0)
    return LineAmounts(base, tax, round_minor(base * retention_rate / HUNDRED))


def deductible_part(tax: Decimal, deductible_rate: Decimal | None) -> Decimal:
    """The part of a purchase's tax that may be deducted (all of it when no rate is given)."""
    if deductible_rate is None:
        return tax
    return round_minor(tax * deductible_rate / HUNDRED)
