"""Money and quantities: always Decimal, rounded half-up at the points the APIs imply."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")  # the minor unit of most currencies (USD, EUR): what amounts rounded to before issue 18 §2
# The largest amount the book keeps, in any currency: below what both databases store exactly
# (PostgreSQL's NUMERIC(24, 6) holds 10^18; SQLite's signed 64-bit count of millionths about 9.2 x 10^12),
# with room for a few of them summed. Every amount written or computed is checked against it.
AMOUNT_MAX = Decimal(10) ** 12
TOO_LARGE = "is beyond the largest amount the book keeps (1,000,000,000,000)"


def within_bounds(value: Decimal | None) -> bool:
    """Whether the amount is one the book keeps (strictly below AMOUNT_MAX in size)."""
    return value is None or abs(value) < AMOUNT_MAX


def plain(value: Decimal) -> Decimal:
    """The value without trailing zeros and without an exponent (1E+2 becomes 100)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def minor_unit(digits: int) -> Decimal:
    """A currency's minor unit as an amount, from its digits after the decimal point (ISO 4217's minor
    units): 2 gives 0.01 (USD), 0 gives 1 (JPY), 3 gives 0.001 (BHD)."""
    return Decimal(1).scaleb(-digits)


def round_minor(value: Decimal, exponent: Decimal) -> Decimal:
    """Round to the currency's minor unit (`exponent`: 0.01, 1, 0.001), half-up, as the seeds' worked
    examples require. Required, never defaulted: every amount rounds to its own currency's unit."""
    return value.quantize(exponent, rounding=ROUND_HALF_UP)
