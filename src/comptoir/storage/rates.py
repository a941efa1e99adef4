"""The organization's exchange rates (storage/tables/rates.py): written by upsert (a rate set again
for the same day replaces it), and the latest on or before a day found by the unique index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from comptoir.domain.query import ListQuery
from comptoir.domain.rates import Rate

from .repository import Repository
from .statements import Statement
from .tables import ExchangeRate
from .tables.base import utcnow

_rates = ExchangeRate.__table__
_COLUMNS = (_rates.c.currency, _rates.c.date, _rates.c.rate, _rates.c.source)


def _upsert(dialect) -> Statement:
    """One rate written: inserted, or replacing the rate of its currency and day."""
    values = {name: bindparam(name) for name in ("org_id", "currency", "date", "rate", "source")}
    statement = dialect.insert(_rates).values(**values, created_at=bindparam("now"), updated_at=bindparam("now"))
    return Statement(statement.on_conflict_do_update(
        index_elements=["org_id", "currency", "date"],
        set_={"rate": statement.excluded.rate, "source": statement.excluded.source,
              "updated_at": statement.excluded.updated_at}))


def _insert_new(dialect) -> Statement:
    """One rate written unless its currency and day have one already (which is kept)."""
    values = {name: bindparam(name) for name in ("org_id", "currency", "date", "rate", "source")}
    statement = dialect.insert(_rates).values(**values, created_at=bindparam("now"), updated_at=bindparam("now"))
    return Statement(statement.on_conflict_do_nothing(index_elements=["org_id", "currency", "date"]))


_UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}
_INSERT_NEW = {"postgresql": _insert_new(postgresql), "sqlite": _insert_new(sqlite)}
_LATEST = Statement(select(*_COLUMNS).where(_rates.c.org_id == bindparam("org_id"),
                                            _rates.c.currency == bindparam("currency"),
                                            _rates.c.date <= bindparam("day", type_=_rates.c.date.type))
                    .order_by(_rates.c.date.desc()).limit(1))


class RateRepository(Repository[ExchangeRate]):
    def put(self, rates: Sequence[Rate]) -> None:
        """Write these rates (one round trip); each replaces the rate of its currency and day."""
        now = utcnow()
        rows = [{"org_id": self.org_id, "currency": r.currency, "date": r.day, "rate": r.rate, "source": r.source,
                 "now": now} for r in rates]
        _UPSERT[self.link.dialect.name].run_many(self.link, rows)
        self.link.wrote(_rates)

    def put_new(self, rates: Sequence[Rate]) -> None:
        """Write these rates where their currency and day have none (one round trip): a rate of that day
        written meanwhile, by anyone, is kept as it is."""
        now = utcnow()
        rows = [{"org_id": self.org_id, "currency": r.currency, "date": r.day, "rate": r.rate, "source": r.source,
                 "now": now} for r in rates]
        _INSERT_NEW[self.link.dialect.name].run_many(self.link, rows)
        self.link.wrote(_rates)

    def latest(self, currency: str, day: date) -> list[Rate]:
        """The currency's rate of the latest date on or before `day` (none or one), by the unique index."""
        row = _LATEST.first(self.link, org_id=self.org_id, currency=currency, day=day)
        return [] if row is None else [Rate(*row)]

    def listed(self, currency: str | None = None, date_from: date | None = None,
               date_to: date | None = None) -> list[Rate]:
        """The organization's rates by currency and date, within the bounds given (inclusive)."""
        criteria = []
        if currency is not None:
            criteria.append(_rates.c.currency == currency)
        if date_from is not None:
            criteria.append(_rates.c.date >= date_from)
        if date_to is not None:
            criteria.append(_rates.c.date <= date_to)
        statement = select(*_COLUMNS).where(_rates.c.org_id == self.org_id, *criteria) \
            .order_by(_rates.c.currency, _rates.c.date)
        return [Rate(*row) for row in self.link.connection().execute(statement)]

    def page(self, query: ListQuery) -> tuple[list[Rate], bool]:
        """One page of the organization's rates that meet the query's conditions (on currency, date,
        rate, source), in its order and then by currency and date (unique: pages are stable), and
        whether another page follows."""
        order = [_rates.c[o.attribute].desc() if o.descending else _rates.c[o.attribute] for o in query.order]
        statement = select(*_COLUMNS).where(_rates.c.org_id == self.org_id,
                                            *(self._condition(c) for c in query.conditions)) \
            .order_by(*order, _rates.c.currency, _rates.c.date).offset(query.offset).limit(query.limit + 1)
        rows = [Rate(*row) for row in self.link.connection().execute(statement)]
        return rows[:query.limit], len(rows) > query.limit
