"""Issue 18 §1: the book's exchange rates through OneUp, our extension `/exchange_rates` (no seed has
a rates resource): set one (an upsert of that day, as `comptoir rates set`), list them with OneUp's
paging, sorting and filters, ask the rate in force on a day; refusals in OneUp's error format; each
organization sees and changes only its own. Over HTTP, in a USD book (`org`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.helpers import error_of
from tests.oneup.sales_support import customer, item

D = Decimal


def _set(oneup, currency: str, day: str, rate: str) -> dict:
    return oneup.ok("POST", "/exchange_rates", {"currency": currency, "date": day, "rate": D(rate)})


def _listed(oneup, query: str = "") -> list[tuple]:
    return [(rate["currency"], rate["date"], rate["rate"], rate["source"])
            for rate in oneup.ok("GET", f"/exchange_rates{query}")]


def test_a_rate_set_is_answered_and_listed(oneup):
    assert _set(oneup, "EUR", "2025-01-01", "1.1") == {"currency": "EUR", "date": "2025-01-01", "rate": D("1.1"),
                                                        "source": "manual"}
    assert _listed(oneup) == [("EUR", "2025-01-01", D("1.1"), "manual")]


def test_setting_a_day_again_replaces_its_rate(oneup):
    _set(oneup, "EUR", "2025-01-01", "1.1")
    assert _set(oneup, "eur", "2025-01-01", "1.0987654321")["rate"] == D("1.0987654321")  # ten places kept
    assert _listed(oneup) == [("EUR", "2025-01-01", D("1.0987654321"), "manual")]


def test_the_list_filters_sorts_and_pages_as_oneup_lists_do(oneup):
    for day, eur, gbp in (("2025-01-01", "1.10", "1.25"), ("2025-02-01", "1.20", "1.26"),
                          ("2025-03-01", "1.15", "1.27")):
        _set(oneup, "EUR", day, eur)
        _set(oneup, "GBP", day, gbp)
    assert [(c, d) for c, d, _, _ in _listed(oneup)] == [
        ("EUR", "2025-01-01"), ("EUR", "2025-02-01"), ("EUR", "2025-03-01"),
        ("GBP", "2025-01-01"), ("GBP", "2025-02-01"), ("GBP", "2025-03-01")]
    assert [(c, d) for c, d, _, _ in _listed(oneup, "?currency=eur&date=gte:2025-02-01&date=lte:2025-03-31")] == [
        ("EUR", "2025-02-01"), ("EUR", "2025-03-01")]
    assert [r for _, _, r, _ in _listed(oneup, "?currency=GBP&sort=-date")] == [D("1.27"), D("1.26"), D("1.25")]
    assert _listed(oneup, "?rate=gt:1.2&currency=EUR") == []

    first = oneup.get("/exchange_rates?limit=4")
    assert first.headers["X-OneUp-Has-Next-Page"] == "true" and len(first.json()) == 4
    rest = oneup.get("/exchange_rates?limit=4&offset=4")
    assert rest.headers["X-OneUp-Has-Next-Page"] == "false"
    assert [(r["currency"], r["date"]) for r in rest.json()] == [("GBP", "2025-02-01"), ("GBP", "2025-03-01")]

    assert error_of(oneup.get("/exchange_rates?limit=1001"))["code"] == "5"
    assert error_of(oneup.get("/exchange_rates?date=gte:March"))["code"] == "5"
    assert error_of(oneup.get("/exchange_rates?sort=source"))["code"] == "5"


def test_the_rate_on_a_day_is_the_latest_on_or_before_it(oneup):
    _set(oneup, "EUR", "2025-01-01", "1.10")
    _set(oneup, "EUR", "2025-02-01", "1.20")
    assert oneup.ok("GET", "/exchange_rates/rate?currency=EUR&date=2025-01-31") == {
        "currency": "EUR", "date": "2025-01-31", "rate": D("1.1"), "rate_date": "2025-01-01", "source": "manual"}
    assert oneup.ok("GET", "/exchange_rates/rate?currency=eur&date=2025-02-01")["rate"] == D("1.2")
    assert oneup.ok("GET", "/exchange_rates/rate?currency=USD&date=2025-02-01") == {
        "currency": "USD", "date": "2025-02-01", "rate": 1, "rate_date": None, "source": None}

    none = oneup.get("/exchange_rates/rate?currency=EUR&date=2024-12-31")
    assert (none.status_code, error_of(none)["code"], error_of(none)["reason"]) == (
        404, "2", "currency: no exchange rate for EUR on or before 2024-12-31")
    assert error_of(oneup.get("/exchange_rates/rate?currency=XYZ&date=2025-01-01"))["code"] == "3"
    assert error_of(oneup.get("/exchange_rates/rate?date=2025-01-01"))["code"] == "5"
    assert error_of(oneup.get("/exchange_rates/rate?currency=EUR&date=2025-02-30"))["code"] == "5"


def _refusal(oneup, body) -> tuple:
    response = oneup.post("/exchange_rates", body)
    error = error_of(response)
    return response.status_code, error["code"], error.get("reason")


def test_refusals_are_oneup_errors_and_write_nothing(oneup):
    assert _refusal(oneup, {"currency": "XYZ", "date": "2025-01-01", "rate": 2}) == (
        422, "3", "currency: 'XYZ' is not an ISO 4217 currency code")
    assert _refusal(oneup, {"currency": "USD", "date": "2025-01-01", "rate": 1}) == (
        422, "3", "currency: USD is the organization's currency: its rate is always 1")
    assert _refusal(oneup, {"currency": "EUR", "date": "2025-01-01", "rate": 0}) == (
        422, "3", "rate: must be greater than 0")
    assert _refusal(oneup, {"currency": "EUR", "date": "2025-01-01", "rate": -1.1}) == (
        422, "3", "rate: must be greater than 0")
    assert _refusal(oneup, {"currency": "EUR", "rate": D("1.12345678901")}) == (
        422, "3", "rate: has more than 10 decimal places")
    assert _refusal(oneup, {"date": "2025-01-01"}) == (422, "3013", "currency: is mandatory; rate: is mandatory")
    assert _refusal(oneup, {"currency": "EUR", "date": "2025-01-01", "rate": "1.1"})[:2] == (400, "5")
    assert _refusal(oneup, {"currency": "EUR", "date": "01/01/2025", "rate": 1.1})[:2] == (422, "3")
    assert _refusal(oneup, [1])[:2] == (400, "5")
    assert [error_of(oneup.request(method, "/exchange_rates"))["code"] for method in ("PUT", "DELETE")] == ["5", "5"]
    assert oneup.get("/exchange_rates/EUR").status_code == 404  # a rate has no path of its own
    assert _listed(oneup) == []


def test_the_date_is_today_when_not_sent(oneup):
    kept = oneup.ok("POST", "/exchange_rates", {"currency": "CHF", "rate": D("0.9")})
    assert kept["date"] == date.today().isoformat()
    assert oneup.ok("GET", "/exchange_rates/rate?currency=CHF")["rate"] == D("0.9")


def test_another_organization_neither_sees_nor_changes_them(oneup, other_oneup):
    _set(oneup, "EUR", "2025-01-01", "1.10")
    assert _listed(other_oneup) == []
    assert other_oneup.get("/exchange_rates/rate?currency=EUR&date=2025-06-01").status_code == 404
    _set(other_oneup, "EUR", "2025-01-01", "2.00")  # its own book's rate, not ours
    assert _listed(oneup) == [("EUR", "2025-01-01", D("1.1"), "manual")]
    assert _listed(other_oneup) == [("EUR", "2025-01-01", D("2"), "manual")]


def test_a_rate_set_through_oneup_books_a_document_and_is_in_the_audit_trail(oneup):
    _set(oneup, "EUR", "2025-01-01", "1.10")
    buyer = customer(oneup, currency_iso_code="EUR")
    line = {"item_id": item(oneup, "Thing", "100")["id"], "quantity": 1, "is_taxable": False}
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": "2025-02-15", "order_lines": [line]})
    [transaction] = oneup.ok("GET", f"/transactions?piece_number={invoice['user_code']}")
    assert {(e["amount"], e["exchange_rate"]) for e in transaction["entries"]} == {(D("110"), D("1.1"))}
    [event] = oneup.ok("GET", "/audit_events?subject=exchange_rates")
    assert (event["action"], event["actor"].split(":")[0], event["after"]["currency"], event["after"]["rate"],
            event["after"]["source"]) == ("insert", "credential", "EUR", D("1.1"), "manual")
