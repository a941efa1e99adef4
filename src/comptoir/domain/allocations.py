"""Allocations in the abstract: a credit (payment, credit note) settles a debit (invoice, refund) by
an amount; and how a set of credits is matched against a set of debits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

PAYMENT, CREDIT_NOTE, INVOICE, REFUND = "payment", "credit_note", "invoice", "refund"
CREDITS = (PAYMENT, CREDIT_NOTE)
DEBITS = (INVOICE, REFUND)


@dataclass(frozen=True)
class Side:
    """One document taking part in allocations: its kind and its id."""

    kind: str
    id: int


@dataclass(frozen=True)
class Link:
    credit: Side
    debit: Side
    amount: Decimal


def pair(credits: Sequence[tuple[Side, Decimal]], debits: Sequence[tuple[Side, Decimal]]) -> list[Link]:
    """Allocate the credits to the debits greedily, in order: the first credit settles the first
    debit until one of them is used up, and so on. Equal totals leave nothing over."""
    links: list[Link] = []
    credits_left = [[side, amount] for side, amount in credits]
    debits_left = [[side, amount] for side, amount in debits]
    i = j = 0
    while i < len(credits_left) and j < len(debits_left):
        amount = min(credits_left[i][1], debits_left[j][1])
        if amount > 0:
            links.append(Link(credits_left[i][0], debits_left[j][0], amount))
        credits_left[i][1] -= amount
        debits_left[j][1] -= amount
        if credits_left[i][1] <= 0:
            i += 1
        if debits_left[j][1] <= 0:
            j += 1
    return links
