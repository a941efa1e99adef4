"""Our extension to OneUp v1 for the book's exchange rates (issue 18 §1; docs/currencies.md): OneUp has
no rates resource. `GET /exchange_rates` lists them with OneUp's paging, sorting and filters,
`POST /exchange_rates` sets the rate of a currency from a day on (replacing that day's, as
`comptoir rates set` does), and `GET /exchange_rates/rate` answers the rate in force on a day.

A rate is identified by its currency and day, which is what setting it again replaces: it has no id
of its own on the wire. Only the organization's own rates are read and written (the repository's
scope)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from comptoir.domain.rates import NoRate, Rate
from comptoir.services.ledger import rates

from .conventions import Filter, as_date, as_number, as_text, body_of, json_response, list_query, page_headers, \
    reading, validate, writing
from .errors import OneUpError
from .fields import Day, Text, WireModel
from .resources.common import number

PATH = "/exchange_rates"
FILTERS = {"currency": Filter("currency", lambda text: text.upper()), "date": Filter("date", as_date),
           "rate": Filter("rate", as_number), "source": Filter("source", as_text)}
SORTS = {"currency": "currency", "date": "date", "rate": "rate"}


def add_exchange_rates(router: APIRouter) -> None:
    router.add_api_route(PATH, list_rates, methods=["GET"], tags=["exchange_rates"])
    router.add_api_route(PATH, set_rate, methods=["POST"], tags=["exchange_rates"])
    router.add_api_route(PATH + "/rate", rate_on_day, methods=["GET"], tags=["exchange_rates"])


def _any_number(value: Any) -> Decimal:
    """A JSON number, whatever its places: a rate keeps ten (the domain says which rates it keeps)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not Decimal(value).is_finite():
        raise PydanticCustomError("number_type", "Input should be a number")
    return Decimal(value)


class RateIn(WireModel):
    """`currency` and `rate` are mandatory; `date` is today when not sent."""

    currency: Text(3) | None = None
    date: Day | None = None
    rate: Annotated[Decimal, BeforeValidator(_any_number)] | None = None


def render_rate(rate: Rate) -> dict:
    return {"currency": rate.currency, "date": rate.day.isoformat(), "rate": number(rate.rate),
            "source": rate.source}


async def list_rates(request: Request) -> Response:
    """GET /exchange_rates: by currency and date unless `sort` says otherwise; `currency`, `date`,
    `rate` and `source` filter them (`date=gte:2025-01-01&date=lte:2025-03-31`)."""
    query = list_query(request.query_params, FILTERS, SORTS)

    def work(book: Any) -> Response:
        found, has_next = rates.page_of_rates(book, query)
        return json_response([render_rate(rate) for rate in found], headers=page_headers(has_next))
    return await reading(request, work)


async def set_rate(request: Request) -> Response:
    """POST /exchange_rates {"currency": "EUR", "date": "2025-01-01", "rate": 1.1}: the rate from that
    day on, replacing the rate of that day if there was one; answers the rate as kept."""
    body = await body_of(request)

    def work(book: Any) -> Response:
        sent = validate(RateIn, body.value())
        missing = [name for name in ("currency", "rate") if getattr(sent, name) is None]
        if missing:
            raise OneUpError(3013, "; ".join(f"{name}: is mandatory" for name in missing))
        kept = rates.set_rate(book, sent.currency.upper(), sent.date or date.today(), sent.rate)
        return json_response(render_rate(kept))
    return await writing(request, work)


async def rate_on_day(request: Request) -> Response:
    """GET /exchange_rates/rate?currency=EUR&date=2025-02-15: the rate in force that day (the latest on
    or before it; `date` is today when not given), with the date it was set for (`rate_date`) and its
    source; 1 for the company's own currency. No rate: 404 code 2, the reason naming currency and day.
    The parameters are read once the caller is known: without credentials, 401 whatever they say."""

    def work(book: Any) -> Response:
        currency = (request.query_params.get("currency") or "").strip().upper()
        if not currency:
            raise OneUpError(5, "currency is required (an ISO 4217 code, EUR)")
        day = _day(request.query_params.get("date"))
        try:
            found = rates.rate_in_force(book, currency, day)
        except NoRate as error:
            raise OneUpError(2, error.describe()) from None
        return json_response({"currency": currency, "date": day.isoformat(),
                              "rate": number(found.rate) if found else 1,
                              "rate_date": found.day.isoformat() if found else None,
                              "source": found.source if found else None})
    return await reading(request, work)


def _day(raw: str | None) -> date:
    if raw is None or raw == "":
        return date.today()
    try:
        return as_date(raw)
    except ValueError:
        raise OneUpError(5, "date must be a date as yyyy-MM-dd") from None
