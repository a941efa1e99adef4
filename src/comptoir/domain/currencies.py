"""Currencies as ISO 4217 defines them: codes, names and minor units, from ISO's own published list
(the `iso4217` package reads the maintenance agency's XML; docs/decisions/0027). Not the Unicode
CLDR's: its digits differ from ISO's minor units for some currencies (HUF: CLDR 0, ISO 2)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from iso4217 import Currency

from .money import minor_unit

# The currencies every new organization starts with, beside its own (OneUp's company settings: a
# document's currency must be one of them).
DEFAULT_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "CHF", "JPY")


@cache
def _current(code: str) -> Currency | None:
    """The ISO 4217 currency of this code, if it is a current one with minor units (not a precious
    metal, a fund code or XXX, which have none)."""
    try:
        currency = Currency(code)
    except ValueError:
        return None
    return currency if currency.exponent is not None else None


def is_currency(code: str) -> bool:
    """Whether `code` is a current ISO 4217 currency code (upper case, as ISO writes it)."""
    return len(code) == 3 and code.isupper() and _current(code) is not None


def minor_units(code: str) -> int:
    """The digits after the decimal point of the currency (ISO's minor unit): USD 2, JPY 0, BHD 3."""
    return _require(code).exponent


def smallest_unit(code: str) -> Decimal:
    """The currency's minor unit as an amount, what its amounts round to: 0.01 (USD), 1 (JPY), 0.001 (BHD)."""
    return minor_unit(minor_units(code))


def currency_name(code: str) -> str:
    """The currency's name as ISO writes it ("US Dollar", "Yen", "Pound Sterling")."""
    return _require(code).currency_name


def _require(code: str) -> Currency:
    currency = _current(code) if len(code) == 3 and code.isupper() else None
    if currency is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return currency
