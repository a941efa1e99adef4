"""The reference data every new organization starts with."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import eu_vat_rates_data

US_TAXES = [
    ("0.0% Example of Sales Tax (Collected)", Decimal(0)),
    ("10% Federal Tax", Decimal(10)),
    ("8.25% California Sales Tax", Decimal("8.25")),
]
# What a country the VAT source below does not know starts with (the list every non-US organization
# had before per-country rates: docs/decisions/0023-tax-returns.md).
VAT_TAXES = [
    ("VAT 20%", Decimal(20)),
    ("VAT 10%", Decimal(10)),
    ("VAT 5.5%", Decimal("5.5")),
    ("VAT 2.1%", Decimal("2.1")),
    ("VAT 0%", Decimal(0)),
]
# Rates the European Commission's TEDB lists for a country (and so the package eu-vat-rates-data)
# that apply only to part of its territory, not where an organization of that country stands by
# default. France: 8.5 % (Guadeloupe, Martinique, La Réunion, CGI art. 296), 1.05 % (the same
# départements, CGI art. 296 ter), 0.9 % and 13 % (Corsica, CGI art. 297); France's 2.1 % is also
# metropolitan (CGI art. 281 quater to 281 nonies) and stays.
TERRITORIAL_RATES = {"FR": (Decimal("0.9"), Decimal("1.05"), Decimal("8.5"), Decimal(13))}

DUE_ON_RECEIPT = "Due on receipt"
PAYMENT_TERMS = [  # name, installments (percent of the total, days after the document date)
    (DUE_ON_RECEIPT, [{"percent": "100", "days": 0, "end_of_month": False}]),
    ("Net 15", [{"percent": "100", "days": 15, "end_of_month": False}]),
    ("Net 30", [{"percent": "100", "days": 30, "end_of_month": False}]),
    ("Net 45", [{"percent": "100", "days": 45, "end_of_month": False}]),
    ("Net 60", [{"percent": "100", "days": 60, "end_of_month": False}]),
    ("30 days end of month", [{"percent": "100", "days": 30, "end_of_month": True}]),
    ("In two installments", [{"percent": "50", "days": 0, "end_of_month": False},
                             {"percent": "50", "days": 30, "end_of_month": False}]),
]

UNIT_PIECE, UNIT_WEIGHT, UNIT_DIMENSION, UNIT_SURFACE, UNIT_VOLUME, UNIT_TIME = range(1, 7)
UNITS = [
    ("Piece", UNIT_PIECE),
    ("Kilogram", UNIT_WEIGHT),
    ("Gram", UNIT_WEIGHT),
    ("Meter", UNIT_DIMENSION),
    ("Centimeter", UNIT_DIMENSION),
    ("Square meter", UNIT_SURFACE),
    ("Liter", UNIT_VOLUME),
    ("Hour", UNIT_TIME),
    ("Day", UNIT_TIME),
]
DEFAULT_SERVICE_UNIT = "Day"
DEFAULT_PRODUCT_UNIT = "Piece"
DEFAULT_DIMENSION_UNIT = "Meter"

CONTACT_POSITIONS = ("ACCOUNTING", "SALES", "PAYER", "PURCHASER")  # Upflow's four defaults

DEFAULT_ITEM_FAMILY = "Miscellaneous"
DEFAULT_PRICE_FAMILY = "Standard prices"


def taxes_for(country: str) -> list[tuple[str, Decimal]]:
    """The taxes a new organization of this country (ISO 3166 alpha-2) starts with: the US sales
    taxes; a European country's VAT rates in force (standard first, then the reduced ones, and 0 %
    for exempt supplies) from eu-vat-rates-data, which tracks the European Commission's TEDB; the
    generic VAT list for a country it does not know."""
    country = country.upper()
    if country == "US":
        return list(US_TAXES)
    found = eu_vat_rates_data.get_rate(country)
    if found is None:
        return list(VAT_TAXES)
    name = found.get("vat_abbr") or "VAT"
    return [(f"{name} {rate}%", rate) for rate in vat_rates(country)] + [(f"{name} 0%", Decimal(0))]


def vat_rates(country: str) -> list[Decimal]:
    """A European country's VAT rates in force where its organizations stand, highest first (none for
    a country the source does not know)."""
    found = eu_vat_rates_data.get_rate(country.upper())
    if found is None:
        return []
    listed = [found["standard"], *(found.get("reduced") or ()), found.get("super_reduced"), found.get("parking")]
    excluded = TERRITORIAL_RATES.get(country.upper(), ())
    rates = {_exact(rate) for rate in listed if rate is not None} - set(excluded)
    return sorted((rate for rate in rates if rate > 0), reverse=True)


def _exact(rate: float) -> Decimal:
    """The source's float as the decimal it was written as (5.5, not 5.499999...)."""
    value = Decimal(str(rate))
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48] or "org"
