"""The revaluation of money owed in another currency (issue 18 §4; docs/currencies.md, "Revaluation";
docs/decisions/0029-revaluation.md).

What a customer owes in EUR, or what we owe a supplier in EUR, is booked in the organization's
currency at the rates of the documents and settlements that made it. On a closing date it is worth
its amount in EUR at that day's rate: the difference is an unrealised exchange gain or loss. Pure
arithmetic here: what one open balance is worth at a rate, and the postings that bring the book's
value of the open balances to it (services/ledger/revaluation.py reads the balances and writes them).

A revaluation entry changes the value of the money, never the money: on the party's account it
carries its currency with an amount of 0 in that currency, so that what the party owes in EUR (the
sum of `currency_amount`) stays as it is, while the book's value of it (the sum of `amount`) moves
to the rate of the day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .ledger import CREDIT, DEBIT, Posting
from .money import round_minor

ZERO = Decimal(0)


@dataclass(frozen=True)
class OpenBalance:
    """What one party's entries in one currency hold on one account up to a day: debits minus
    credits in that currency (`open_amount`), and in the organization's currency as booked (`booked`)."""

    account_id: int
    party_id: int | None
    currency: str
    open_amount: Decimal
    booked: Decimal


@dataclass(frozen=True)
class Revalued:
    """An open balance at a rate: its value at the rate (rounded to the organization's minor unit) and
    the difference with its booked value, positive for a gain (a debit balance worth more, a credit
    balance worth less), negative for a loss."""

    balance: OpenBalance
    rate: Decimal
    value: Decimal

    @property
    def difference(self) -> Decimal:
        return self.value - self.balance.booked


def revalued(balance: OpenBalance, rate: Decimal, exponent: Decimal) -> Revalued:
    """The balance at `rate` (1 currency = rate own currency), rounded half-up to `exponent`."""
    return Revalued(balance, rate, round_minor(balance.open_amount * rate, exponent))


def postings(lines: Sequence[Revalued], gain_account_id: int | None, loss_account_id: int | None,
             label: str) -> list[Posting]:
    """The postings that bring each line's booked value to its value at its rate: an entry on the
    line's account for its party, of the difference in the organization's currency and 0 in the
    line's currency (the party owes what it owed), against the gain account (total of the gains) and
    the loss account (total of the losses), kept gross. Lines without a difference post nothing."""
    moved = [line for line in lines if line.difference]
    found = [Posting(line.balance.account_id, DEBIT if line.difference > 0 else CREDIT, abs(line.difference),
                     f"{label} {line.balance.currency} at {line.rate}", party_id=line.balance.party_id,
                     currency=line.balance.currency, currency_amount=ZERO, rate=line.rate) for line in moved]
    gains = sum((line.difference for line in moved if line.difference > 0), ZERO)
    losses = ZERO - sum((line.difference for line in moved if line.difference < 0), ZERO)
    if gains:
        found.append(Posting(gain_account_id, CREDIT, gains, f"{label}: unrealised exchange gains"))
    if losses:
        found.append(Posting(loss_account_id, DEBIT, losses, f"{label}: unrealised exchange losses"))
    return found
