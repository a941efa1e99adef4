"""Read-only reference data: payment terms, taxes, currencies, units."""

from __future__ import annotations

from typing import Any

from comptoir.services.masterdata.reference import CURRENCIES, PAYMENT_TERMS, TAXES, UNITS

from ..conventions import Resource
from .common import id_filter, integer_filter, number, text_filter

PAYMENT_TERMS_RESOURCE = Resource(
    path="payment_terms", service=PAYMENT_TERMS, render=lambda term, _book: {"id": term.id, "name": term.name},
    filters={**id_filter(), "name": text_filter("name")}, sorts={"id": "id", "name": "name"},
)
TAXES_RESOURCE = Resource(
    path="taxes", service=TAXES, render=lambda tax, _book: {"id": tax.id, "name": tax.name, "rate": number(tax.rate)},
    filters={**id_filter(), "name": text_filter("name")}, sorts={"id": "id", "name": "name", "rate": "rate"},
)


def render_currency(currency: Any, _book: Any = None) -> dict:
    return {"id": currency.id, "iso_code": currency.iso_code, "name": currency.name,
            "is_main_currency": currency.is_main_currency}


CURRENCIES_RESOURCE = Resource(
    path="currencies", service=CURRENCIES, render=render_currency,
    filters={**id_filter(), "iso_code": text_filter("iso_code")}, sorts={"id": "id", "iso_code": "iso_code"},
)
UNITS_RESOURCE = Resource(
    path="units", service=UNITS, render=lambda unit, _book: {"id": unit.id, "name": unit.name, "type": unit.type},
    filters={**id_filter(), "type": integer_filter("type"), "name": text_filter("name")},
    sorts={"id": "id", "name": "name", "type": "type"},
)
