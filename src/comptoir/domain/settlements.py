"""Settlements: the installments an invoice is paid in, from its payment terms, and how payments
fill them (oldest first)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Mapping

from .money import round_minor


@dataclass(frozen=True)
class Settlement:
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class SettlementState:
    due_date: date
    amount: Decimal
    paid: Decimal

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid


def schedule(total: Decimal, document_date: date, installments: Iterable[Mapping], exponent: Decimal,
             due_date: date | None = None) -> list[Settlement]:
    """The settlements of a total under payment terms: each installment is a percent of the total,
    rounded to `exponent` (the document's currency's minor unit), due some days after the document
    date (optionally at the end of that month); the last one takes the rounding remainder. An
    explicit due date moves the last settlement. A zero total has none."""
    if total == 0:
        return []
    parts = list(installments) or [{"percent": "100", "days": 0, "end_of_month": False}]
    settlements: list[Settlement] = []
    allotted = Decimal(0)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        amount = total - allotted if last else round_minor(total * Decimal(str(part["percent"])) / 100, exponent)
        allotted += amount
        due = document_date + timedelta(days=int(part.get("days", 0)))
        if part.get("end_of_month"):
            due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
        if last and due_date is not None:
            due = due_date
        settlements.append(Settlement(due, amount))
    return settlements


def fill(settlements: list[Settlement], paid_total: Decimal) -> list[SettlementState]:
    """The settlements with what is paid on each, payments filling the first open ones first."""
    states = []
    remaining = paid_total
    for settlement in settlements:
        paid = min(settlement.amount, max(remaining, Decimal(0)))
        remaining -= paid
        states.append(SettlementState(settlement.due_date, settlement.amount, paid))
    return states
