"""The reference data every new organization starts with."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

CURRENCIES = {  # iso code: (name, minor units)
    "USD": ("U.S. Dollar", 2),
    "EUR": ("Euro", 2),
    "GBP": ("Pound Sterling", 2),
    "CAD": ("Canadian Dollar", 2),
    "CHF": ("Swiss Franc", 2),
    "JPY": ("Japanese Yen", 0),
}

US_TAXES = [
    ("0.0% Example of Sales Tax (Collected)", Decimal("0")),
    ("10% Federal Tax", Decimal("10")),
    ("8.25% California Sales Tax", Decimal("8.25")),
]
VAT_TAXES = [
    ("VAT 20%", Decimal("20")),
    ("VAT 10%", Decimal("10")),
    ("VAT 5.5%", Decimal("5.5")),
    ("VAT 2.1%", Decimal("2.1")),
    ("VAT 0%", Decimal("0")),
]

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
    return US_TAXES if country.upper() == "US" else VAT_TAXES


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48] or "org"
