"""Ledger entries and the invariants every transaction keeps."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterable

from .errors import ErrorKind, Problem, Rule
from .money import TOO_LARGE, within_bounds

DEBIT, CREDIT = "debit", "credit"


@dataclass(frozen=True)
class Posting:
    """One entry of a transaction about to be written. A tax entry says the rate it was computed at
    and its base, the taxable amount (signed as the amount: a negative tax has a negative base), so
    that tax returns read them from the ledger (docs/decisions/0023-tax-returns.md)."""

    account_id: int
    way: str
    amount: Decimal
    label: str = ""
    lettering: str | None = None
    party_id: int | None = None
    tax_rate: Decimal | None = None
    tax_base: Decimal | None = None
    # Money in another currency than the organization's (domain/conversion.py): the currency, the
    # amount in it and the rate it converts at. Before conversion, `rate` alone may be set: the rate
    # this posting converts at when it is not its transaction's (a payment's share of an invoice
    # settles at the invoice's rate).
    currency: str | None = None
    currency_amount: Decimal | None = None
    rate: Decimal | None = None

    @property
    def signed(self) -> Decimal:
        """Debits positive, credits negative: a balanced transaction sums to zero."""
        return self.amount if self.way == DEBIT else -self.amount

    def signed_as(self, amount: Decimal) -> Decimal:
        """An amount signed as this posting's way signs it."""
        return amount if self.way == DEBIT else -amount


def signed(way: str, amount: Decimal) -> Decimal:
    return amount if way == DEBIT else -amount


def balance_problems(postings: Iterable[Posting]) -> list[Problem]:
    postings = list(postings)
    problems = []
    if len(postings) < 2:
        problems.append(Problem(ErrorKind.MISSING, "entries", "a transaction needs at least two entries"))
    for index, posting in enumerate(postings):
        if posting.amount <= 0:
            problems.append(Problem(ErrorKind.CONFLICT, f"entries[{index}].amount", "should be strictly positive",
                                    Rule.NOT_POSITIVE))
        elif not within_bounds(posting.amount):
            problems.append(Problem(ErrorKind.INVALID, f"entries[{index}].amount", TOO_LARGE))
    debit = sum((p.amount for p in postings if p.way == DEBIT), Decimal(0))
    credit = sum((p.amount for p in postings if p.way == CREDIT), Decimal(0))
    if debit != credit:
        problems.append(Problem(ErrorKind.CONFLICT, "entries",
                                f"not balanced: debits {debit} and credits {credit}", Rule.UNBALANCED))
    return problems


def opposite(way: str) -> str:
    return CREDIT if way == DEBIT else DEBIT


def reversal_label(label: str) -> str:
    return f"Reversal: {label}"[:128] if label else "Reversal"


def reversal(postings: Iterable[Posting]) -> list[Posting]:
    """The postings that cancel these: each on the other side, same account, amount, party and
    lettering (so that a lettered group still sums to zero once reversed)."""
    return [replace(posting, way=opposite(posting.way), label=reversal_label(posting.label)) for posting in postings]


def net(postings: Iterable[Posting]) -> list[Posting]:
    """Drop zero postings and turn negative ones to the other side (a discount line, say)."""
    result = []
    for posting in postings:
        if posting.amount == 0:
            continue
        if posting.amount < 0:
            posting = replace(posting, way=CREDIT if posting.way == DEBIT else DEBIT, amount=-posting.amount,
                              tax_base=None if posting.tax_base is None else -posting.tax_base,
                              currency_amount=None if posting.currency_amount is None else -posting.currency_amount)
        result.append(posting)
    return result
