"""The check that the maintained balances (account_balances) are exactly the sums of the entries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from comptoir.storage.link import balance_totals
from comptoir.storage.tables import AccountBalance, Entry

ZERO = Decimal(0)
RANGES = ((None, None), (None, date(2025, 6, 30)), (date(2025, 1, 17), date(2025, 9, 3)),
          (date(2024, 12, 1), date(2026, 1, 31)), (date(2025, 3, 2), date(2025, 3, 30)), (date(2025, 4, 1), None))


def entry_totals(session, org_id: int) -> dict[tuple, tuple[Decimal, Decimal]]:
    """(span, first day, account id) -> (debit, credit), added up from the entries in Python."""
    found: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for entry in session.scalars(select(Entry).where(Entry.org_id == org_id)):
        for span, first_day in (("day", entry.date), ("month", entry.date.replace(day=1))):
            found[(span, first_day, entry.account_id)][0 if entry.way == "debit" else 1] += entry.amount
    return {key: (debit, credit) for key, (debit, credit) in found.items() if debit or credit}


def maintained_totals(session, org_id: int) -> dict[tuple, tuple[Decimal, Decimal]]:
    """The same from account_balances, over every slot (rows that add up to nothing left out)."""
    found: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for row in session.scalars(select(AccountBalance).where(AccountBalance.org_id == org_id)):
        totals = found[(row.span, row.first_day, row.account_id)]
        totals[0] += row.debit
        totals[1] += row.credit
    return {key: (debit, credit) for key, (debit, credit) in found.items() if debit or credit}


def assert_balances_match(session, org_id: int) -> None:
    """Every day and month total is the sum of its entries, and range totals (as the reports read
    them) are those of the entries in the range."""
    expected, maintained = entry_totals(session, org_id), maintained_totals(session, org_id)
    wrong = {key: (maintained.get(key), expected.get(key)) for key in set(expected) | set(maintained)
             if maintained.get(key) != expected.get(key)}
    assert not wrong, f"maintained != entries: {sorted(wrong.items(), key=str)[:10]}"
    entries = list(session.scalars(select(Entry).where(Entry.org_id == org_id)))
    for date_from, date_to in RANGES:
        by_account: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for entry in entries:
            if (date_from is None or entry.date >= date_from) and (date_to is None or entry.date <= date_to):
                by_account[entry.account_id][0 if entry.way == "debit" else 1] += entry.amount
        read = {account: totals for account, totals in
                balance_totals(session, org_id, date_from=date_from, date_to=date_to).items() if any(totals)}
        assert read == {account: tuple(totals) for account, totals in by_account.items() if any(totals)}, \
            (date_from, date_to)
