"""Lettering ("lettrage"): the entries of a receivable or payable account that match each other carry
one letter, the number of the invoice they are about, so that a settled invoice's group (same account,
same letter) sums to zero (docs/decisions/0021-lettering.md).

An invoice's entry carries its own letter; every settlement (a payment, a credit note, a refund) posts
one entry per document it settles, with that document's letter, and what it settles of nothing (an
unapplied credit, a refund linked to nothing) under its own number. A refund gives back a credit's
unapplied part, so its entries carry the letters of the payments and credit notes it refunds: a credit
and its refund sum to zero. A partly settled invoice keeps an open group: no separate mark for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .documents import printed_number


@dataclass(frozen=True)
class Part:
    """The share of a settlement's amount that carries one letter."""

    letter: str
    amount: Decimal
    # The rate of the document it settles, when that is in another currency than the organization's:
    # the share leaves the receivable at the rate it entered it (domain/conversion.py).
    rate: Decimal | None = None


def letter_of(kind: str, user_code: str, vendor_reference: str | None = None) -> str:
    """The letter of a document's receivable or payable entry: the number it is known by (the vendor's
    for a purchase document that has one, our code otherwise)."""
    return printed_number(kind, user_code, vendor_reference) or user_code


def parts(amount: Decimal, settled: Iterable[tuple[str, Decimal, Decimal | None]], own_letter: str) -> list[Part]:
    """A settlement's amount split by letter: what it settles of each document (letter, amount, the
    document's rate), summed per letter in the order first met, and the rest under its own letter.
    Nothing settled beyond the amount is lettered (the allocation rules forbid it; a document whose
    links are replaced next may hold its old ones for a moment), and parts of zero are left out."""
    shares: dict[str, Decimal] = {}
    rates: dict[str, Decimal | None] = {own_letter: None}
    left = amount
    for letter, settled_amount, rate in settled:
        share = min(settled_amount, left)
        if share > 0:
            shares[letter] = shares.get(letter, Decimal(0)) + share
            rates.setdefault(letter, rate)
            left -= share
    if left > 0:
        shares[own_letter] = shares.get(own_letter, Decimal(0)) + left
    return [Part(letter, share, rates[letter]) for letter, share in shares.items()]
