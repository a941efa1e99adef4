"""Postings in another currency turned into the organization's (issue 18 §2; docs/currencies.md).

A document in EUR in a USD book posts its amounts in EUR; each entry is written in USD, the amount in
EUR times the rate rounded to the cent (the organization's currency's minor unit), with the EUR
amount and the rate beside it. Converted one by one, the entries may miss balancing by a few minor
units: that rounding difference is an entry of its own, on the rounding account, never spread
silently over the others. A posting that converts at its own rate (a payment's share of an invoice,
at the invoice's rate) leaves an exchange difference, the realised gain or loss: an entry of its own
too, on the exchange account. Both are computed here and written by services/ledger/posting.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from .ledger import Posting
from .money import round_minor

ZERO = Decimal(0)


@dataclass(frozen=True)
class Converted:
    """Postings in the organization's currency, and what they miss balancing by (debits minus
    credits): the exchange difference (postings at a rate of their own) and the rounding difference."""

    postings: list[Posting]
    exchange_difference: Decimal
    rounding_difference: Decimal


def in_own_currency(postings: Sequence[Posting], currency: str, rate: Decimal, exponent: Decimal) -> Converted:
    """The postings (positive amounts in `currency`) converted at `rate` (each at its own when it has
    one), rounded half-up to `exponent` (the organization's currency's minor unit)."""
    converted, exchange = [], ZERO
    for posting in postings:
        posting_rate = posting.rate if posting.rate is not None else rate
        amount = round_minor(posting.amount * posting_rate, exponent)
        if posting_rate != rate:
            exchange += posting.signed_as(amount - round_minor(posting.amount * rate, exponent))
        converted.append(replace(posting, amount=amount, currency=currency, currency_amount=posting.amount,
                                 rate=posting_rate, tax_base=_converted_base(posting, posting_rate, exponent)))
    imbalance = sum((posting.signed for posting in converted), ZERO)
    return Converted(converted, exchange, imbalance - exchange)


def _converted_base(posting: Posting, rate: Decimal, exponent: Decimal) -> Decimal | None:
    """A tax entry's base in the organization's currency, as its tax is (a tax return adds both)."""
    return None if posting.tax_base is None else round_minor(posting.tax_base * rate, exponent)
