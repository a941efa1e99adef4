"""Money and quantities: always Decimal, rounded half-up at the points the APIs imply."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
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


def round_minor(value: Decimal, exponent: Decimal = CENT) -> Decimal:
    """Round to the currency's minor unit, half-up, as the seeds' worked examples require."""
    return value.quantize(exponent, rounding=ROUND_HALF_UP)
