"""Issue 18 §2: currencies are ISO 4217's, with ISO's names and minor units, from ISO's own list
(domain/currencies.py, docs/decisions/0027): JPY has none, BHD three, HUF two (where the Unicode CLDR
says none). Every amount rounds to its currency's minor unit (tests/currencies/test_minor_units.py),
so a book may be kept in any current ISO currency; it starts with the usual six and its own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptoir.domain import currencies
from comptoir.domain.errors import DomainError
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.masterdata import reference
from comptoir.services.tenancy.organizations import create_organization

from .helpers import OneUpClient, set_rates
from .upflow.conftest import UpflowClient

D = Decimal


@pytest.mark.parametrize("code, digits, name", [("USD", 2, "US Dollar"), ("JPY", 0, "Yen"), ("BHD", 3, "Bahraini Dinar"),
                                                ("HUF", 2, "Forint"), ("CLP", 0, "Chilean Peso")])
def test_minor_units_and_names_are_iso_4217s(code, digits, name):
    assert (currencies.minor_units(code), currencies.currency_name(code)) == (digits, name)


@pytest.mark.parametrize("code", ["ABC", "DEM", "XAU", "XXX", "usd", "US"])
def test_what_is_not_a_current_iso_currency_with_minor_units(code):
    assert not currencies.is_currency(code)


def test_an_organization_starts_with_the_usual_currencies_and_their_iso_minor_units(context):
    org = create_organization(context.database, "Tokyo Trading", currency="jpy", country="JP")
    with open_book(context.database, org.id) as book:
        assert dict(reference.minor_units(book)) == {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "CHF": 2, "JPY": 0}


def test_an_organization_in_another_iso_currency_has_it_besides_the_usual_six(context):
    org = create_organization(context.database, "Manama Trading", currency="BHD")
    with open_book(context.database, org.id) as book:
        assert dict(reference.minor_units(book)) == {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "CHF": 2, "JPY": 0,
                                                     "BHD": 3}
        assert [c.iso_code for c in book.currencies.all() if c.is_main_currency] == ["BHD"]


@pytest.mark.parametrize("code", ["XAU", "DEM", "ABC"])
def test_a_book_is_kept_in_no_code_that_is_not_a_current_iso_currency(context, code):
    with pytest.raises(DomainError, match=f"'{code}' is not an ISO 4217 currency code"):
        create_organization(context.database, "Gold Holdings", currency=code)


def test_upflow_cents_are_the_currencys_minor_units(client, context, org):
    """1000 "cents" of yen are 1000 JPY (yen have no minor unit), 1000 of dollars 10.00 USD."""
    upflow, oneup = UpflowClient(client, org), OneUpClient(client, org)
    set_rates(context, org.id, {"JPY": "0.0067"})
    upflow.ok("POST", "/customers", {"externalId": "C-1", "name": "Buyer"})
    for external_id, currency in (("JP-1", "JPY"), ("US-1", "USD")):
        imported = upflow.ok("POST", "/invoices", {
            "externalId": external_id, "customId": external_id, "issuedAt": "2026-01-15", "dueDate": "2026-02-15",
            "currency": currency, "netAmount": 1000, "grossAmount": 1000, "customer": {"externalId": "C-1"}})
        assert (imported["grossAmount"], imported["currency"]) == (1000, currency)
    totals = {row["user_code"]: (row["total"], row["currency_iso_code"]) for row in oneup.ok("GET", "/invoices")}
    assert totals == {"JP-1": (D(1000), "JPY"), "US-1": (D(10), "USD")}


def test_rates_for_currencies_the_book_lacks_add_them_once_with_iso_names_and_minor_units(context, org):
    """`comptoir rates set` and `rates import` are how a book gains a currency (services/ledger/rates.py)."""
    from datetime import date

    from comptoir.services.ledger import rates

    with open_book(context.database, org.id) as book:
        rates.import_rates(book, [(2, ["2025-01-01", "HUF", "0.0026"]), (3, ["2025-01-01", "BHD", "2.65"]),
                                  (4, ["2025-02-01", "HUF", "0.0027"]), (5, ["2025-01-01", "EUR", "1.1"])])
    with open_book(context.database, org.id) as book:
        rates.set_rate(book, "BHD", date(2025, 3, 1), D("2.66"))
    with open_book(context.database, org.id) as book:
        added = {c.iso_code: (c.name, c.minor_units, c.is_main_currency) for c in book.currencies.all()}
        assert len(book.currencies.all()) == 8
        assert (added["HUF"], added["BHD"]) == (("Forint", 2, False), ("Bahraini Dinar", 3, False))
        assert (reference.currency_minor_units(book, "BHD"), reference.smallest_unit(book, "BHD")) == (3, D("0.001"))
