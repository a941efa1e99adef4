"""Fiscal years: twelve months from the organization's start month (January by default).

Income and expense accounts count from the start of the fiscal year; what earlier years earned or
lost is carried forward to retained earnings (docs/accounting.md, "The year end"). Pure dates, no
storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = range(1, 13)


@dataclass(frozen=True)
class FiscalYear:
    start: date
    end: date

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


def fiscal_year(day: date, start_month: int = 1) -> FiscalYear:
    """The fiscal year that holds `day`, for years that begin on the first of `start_month`."""
    year = day.year if day.month >= start_month else day.year - 1
    start = date(year, start_month, 1)
    following = date(year + 1, start_month, 1)
    return FiscalYear(start, following - timedelta(days=1))


def is_start_month(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in MONTHS
