"""Money and quantities: always Decimal, rounded half-up at the points the APIs imply."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def plain(value: Decimal) -> Decimal:
    """The value without trailing zeros and without an exponent (1E+2 becomes 100)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def round_minor(value: Decimal, exponent: Decimal = CENT) -> Decimal:
    """Round to the currency's minor unit, half-up, as the seeds' worked examples require."""
    return value.quantize(exponent, rounding=ROUND_HALF_UP)
