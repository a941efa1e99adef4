"""The organization's currencies (storage/tables/reference.Currency): seeded with the book, and added to
when a rate is set for a currency it lacks (services/ledger/rates.py). A currency is never changed or
removed once there, which is what lets processes keep them (services/masterdata/reference.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite

from .repository import Repository
from .statements import Statement
from .tables import Currency

_currencies = Currency.__table__
_VALUES = ("org_id", "iso_code", "name", "minor_units", "is_main_currency")


def _add_missing(dialect) -> Statement:
    """One currency added, unless the organization has it already (a concurrent writer added it, say:
    the unique constraint on the organization and the code decides, and nothing fails)."""
    statement = dialect.insert(_currencies).values({name: bindparam(name) for name in _VALUES})
    return Statement(statement.on_conflict_do_nothing(index_elements=["org_id", "iso_code"]), writes=True)


_ADD_MISSING = {"postgresql": _add_missing(postgresql), "sqlite": _add_missing(sqlite)}


class CurrencyRepository(Repository[Currency]):
    def add_missing(self, currencies: Sequence[tuple[str, str, int]]) -> None:
        """Add these currencies, (ISO code, name, minor units) each, to those of the organization, in
        one round trip; one it has already is left as it is."""
        rows = [{"org_id": self.org_id, "iso_code": code, "name": name, "minor_units": digits,
                 "is_main_currency": False} for code, name, digits in currencies]
        _ADD_MISSING[self.link.dialect.name].run_many(self.link, rows)
        self.link.wrote(_currencies)
