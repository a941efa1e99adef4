"""Our documented extensions to OneUp v1: sales order conversion and delivery, bank reconciliation,
invoice printing, reports, the audit trail and exchange rates (exchange_rates.py; docs/dialects/oneup.md
lists them). Credit notes are one too, a whole
resource: declared beside invoices (resources/sales.py) and mounted with the other resources."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response

from comptoir.domain.errors import DomainError
from comptoir.services.documents.sales import INVOICES, convert, deliver
from comptoir.services.ledger import revaluation
from comptoir.services.reporting import reports, tax_returns, trail
from comptoir.services.reporting.printing import invoice_printable
from comptoir.services.settlement.banking import BANK_ENTRIES

from .conventions import body_of, element_id, json_body, json_response, reading, writing
from .errors import OneUpError
from .exchange_rates import add_exchange_rates
from .resources.banking import render_bank_entry
from .resources.common import number
from .resources.sales import SALES_ORDERS_RESOURCE, render_invoice, render_sales_order


def add_extensions(router: APIRouter) -> None:
    router.add_api_route("/sales_orders/{element}/convert", convert_order, methods=["POST"], tags=["sales_orders"])
    router.add_api_route("/sales_orders/{element}/deliver", deliver_order, methods=["POST"], tags=["sales_orders"])
    router.add_api_route("/bank_entries/{element}/reconcile", reconcile_entry, methods=["POST"],
                         tags=["bank_entries"])
    router.add_api_route("/invoices/{element}/print.pdf", print_pdf, methods=["GET"], tags=["invoices"])
    router.add_api_route("/invoices/{element}/print.json", print_json, methods=["GET"], tags=["invoices"])
    router.add_api_route("/reports/{name}", report, methods=["GET"], tags=["reports"])
    router.add_api_route("/audit_events", audit_events, methods=["GET"], tags=["audit"])
    add_exchange_rates(router)


def _object(body: Any) -> dict:
    if body is None or body == b"":
        return {}
    if not isinstance(body, dict):
        raise OneUpError(5, "The body must be a JSON object")
    return body


async def optional_json_body(request: Request) -> Any:
    if not (await request.body()):
        return {}
    return await json_body(request)


async def convert_order(element: str, request: Request) -> Response:
    """POST /sales_orders/{id}/convert {"type": "invoice"}: the invoice the order became."""
    body = await body_of(request, optional_json_body)

    def work(book: Any) -> Response:
        target = _object(body.value()).get("type", "invoice")
        return json_response(render_invoice(convert(book, element_id(element), target), book))
    return await writing(request, work, SALES_ORDERS_RESOURCE.wire_names)


async def deliver_order(element: str, request: Request) -> Response:
    """POST /sales_orders/{id}/deliver {"delivery_status": 2 or 3}."""
    body = await body_of(request, optional_json_body)

    def work(book: Any) -> Response:
        status = _object(body.value()).get("delivery_status", 3)
        if isinstance(status, bool) or not isinstance(status, int):
            raise OneUpError(5, "delivery_status must be an integer")
        return json_response(render_sales_order(deliver(book, element_id(element), status)))
    return await writing(request, work, SALES_ORDERS_RESOURCE.wire_names)


async def reconcile_entry(element: str, request: Request) -> Response:
    return await writing(request, lambda book: json_response(render_bank_entry(
        BANK_ENTRIES.reconcile(book, element_id(element)))))


async def print_pdf(element: str, request: Request) -> Response:
    """The invoice's PDF: its contents read in the unit of work, the PDF drawn in a worker thread
    (a page takes tens of milliseconds of CPU, which must not hold up the event loop)."""
    printable = await reading(request, lambda book: invoice_printable(book, element_id(element)))
    pdf = await anyio.to_thread.run_sync(printable.render)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{printable.filename}"'})


async def print_json(element: str, request: Request) -> Response:
    await reading(request, lambda book: INVOICES.get(book, element_id(element)))
    return json_response({"url": str(request.url).replace("print.json", "print.pdf")})


# -- reports -----------------------------------------------------------------------------------

def _date(request: Request, name: str, default: date | None = None) -> date:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise OneUpError(5, f"{name} is required (yyyy-MM-dd)")
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise OneUpError(5, f"{name} must be a date as yyyy-MM-dd") from None


async def report(name: str, request: Request) -> Response:
    """GET /reports/{trial_balance|general_ledger|balance_sheet|profit_and_loss|aged_receivables|tax_return|
    revaluation}."""
    if name not in _REPORTS:
        raise OneUpError(2)
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise OneUpError(5, "format must be json or csv")
    header, rows, document = await reading(request, lambda book: _REPORTS[name](book, request))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return json_response(document)


def _trial_balance(book, request):
    date_to = _date(request, "date", date.today())
    date_from = _date(request, "date_from", None) if "date_from" in request.query_params else None
    try:
        trial = reports.trial_balance(book, date_to, date_from)
    except DomainError as error:  # a period that is not within one fiscal year: a bad parameter
        raise OneUpError(5, error.describe()) from None
    lines = trial.lines
    totals = {"opening_balance": _total(line.opening for line in lines), "debit": _total(line.debit for line in lines),
              "credit": _total(line.credit for line in lines), "balance": _total(line.balance for line in lines)}
    codes = _foreign_currencies(lines, _TRIAL_FIGURES)
    header = ["number", "name", "opening_balance", "debit", "credit", "balance", *_foreign_header(codes, _TRIAL_FIGURES)]
    rows = [[line.number, line.name, *(number(value) for value in (line.opening, line.debit, line.credit,
                                                                    line.balance)),
             *_foreign_cells(line, codes, _TRIAL_FIGURES)] for line in lines]
    rows.append(["", "Total", *(number(totals[name]) for name in _TRIAL_FIGURES), *_blanks(codes, _TRIAL_FIGURES)])
    document = {"date_from": trial.date_from.isoformat(), "date": date_to.isoformat(),
                "fiscal_year": _fiscal_year(trial.fiscal_year), "accounts": [
        {"account_id": line.account_id, "number": line.number, "name": line.name,
         "opening_balance": number(line.opening), "debit": number(line.debit), "credit": number(line.credit),
         "balance": number(line.balance), **_foreign_json(line, _TRIAL_FIGURES)} for line in lines],
        "total_opening_balance": number(totals["opening_balance"]), "total_debit": number(totals["debit"]),
        "total_credit": number(totals["credit"]), "total_balance": number(totals["balance"])}
    return header, rows, document


def _total(values) -> Decimal:
    return sum(values, Decimal(0))


# -- the amounts in other currencies beside an account's line (docs/dialects/oneup.md, "Reports") ------
# JSON: `foreign`, a list of the line's own figures in each other currency the account holds, on the
# lines that hold any. CSV: the same figures in columns of their own, named `{figure}_{currency}`
# (`balance_EUR`), one set per currency the report holds, left empty on the other lines and on the
# totals (the organization's currency's columns still add up; a book in one currency keeps its columns).
_TRIAL_FIGURES = ("opening_balance", "debit", "credit", "balance")
_BALANCE_FIGURES = ("balance",)


def _figures(figures: reports.ForeignFigures) -> dict[str, Decimal]:
    return {"opening_balance": figures.opening, "debit": figures.debit, "credit": figures.credit,
            "balance": figures.balance}


def _shown_foreign(line: reports.AccountLine, names: tuple[str, ...]) -> list[reports.ForeignFigures]:
    """The line's currencies with a figure to show among `names` (a balance sheet shows a currency the
    account still holds, not one it held and settled)."""
    return [figures for figures in line.foreign if any(_figures(figures)[name] for name in names)]


def _foreign_json(line: reports.AccountLine, names: tuple[str, ...]) -> dict:
    shown = _shown_foreign(line, names)
    return {"foreign": [{"currency": figures.currency, **{name: number(_figures(figures)[name]) for name in names}}
                        for figures in shown]} if shown else {}


def _foreign_currencies(lines, names: tuple[str, ...]) -> list[str]:
    return sorted({figures.currency for line in lines for figures in _shown_foreign(line, names)})


def _foreign_header(codes: list[str], names: tuple[str, ...]) -> list[str]:
    return [f"{name}_{code}" for code in codes for name in names]


def _foreign_cells(line: reports.AccountLine, codes: list[str], names: tuple[str, ...]) -> list:
    by_code = {figures.currency: _figures(figures) for figures in _shown_foreign(line, names)}
    return [number(by_code[code][name]) if code in by_code else "" for code in codes for name in names]


def _blanks(codes: list[str], names: tuple[str, ...]) -> list[str]:
    return [""] * (len(codes) * len(names))


def _fiscal_year(year) -> dict:
    return {"start": year.start.isoformat(), "end": year.end.isoformat()}


def _general_ledger(book, request):
    raw_account = request.query_params.get("account_id", "")
    if not (raw_account.isascii() and raw_account.isdigit() and len(raw_account) <= 100):
        raise OneUpError(5, "account_id is required")
    date_to = _date(request, "date_to", date.today())
    date_from = _date(request, "date_from", date(date_to.year, 1, 1))
    ledger = reports.general_ledger(book, int(raw_account), date_from, date_to)
    header = ["date", "transaction_id", "piece_number", "label", "debit", "credit", "balance", "lettering",
              "currency_iso_code", "currency_amount", "exchange_rate"]
    values = [[row.date.isoformat(), row.transaction_id, row.piece_number, row.label, number(row.debit),
               number(row.credit), number(row.balance), row.lettering or "", row.currency, number(row.currency_amount),
               number(row.rate)] for row in ledger.rows]
    document = {"account_id": ledger.account_id, "number": ledger.number, "name": ledger.name,
                "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
                "opening_balance": number(ledger.opening_balance), "closing_balance": number(ledger.closing_balance),
                "entries": [dict(zip(header, row)) for row in values]}
    rows = [["" if value is None else value for value in row] for row in values]
    return header, rows, document


def _section(section) -> dict:
    return {"total": number(section.total), "accounts": [
        {"account_id": line.account_id, "number": line.number, "name": line.name, "balance": number(line.balance),
         **_foreign_json(line, _BALANCE_FIGURES)} for line in section.lines]}


def _balance_sheet(book, request):
    as_of = _date(request, "date", date.today())
    sheet = reports.balance_sheet(book, as_of)
    sections = sheet["sections"]
    codes = _foreign_currencies([line for section in sections.values() for line in section.lines], _BALANCE_FIGURES)
    blanks = _blanks(codes, _BALANCE_FIGURES)
    rows = [[nature, line.number, line.name, number(line.balance), *_foreign_cells(line, codes, _BALANCE_FIGURES)]
            for nature, section in sections.items() for line in section.lines]
    rows += [[nature, "", f"Total {nature}", number(section.total), *blanks] for nature, section in sections.items()]
    rows += [[name, "", label, number(sheet[name]), *blanks] for name, label in (
        ("current_earnings", "Result of the year"), ("total_assets", "Total assets"),
        ("total_liabilities_and_equity", "Total liabilities and equity"))]
    document = {"date": as_of.isoformat(), "fiscal_year": _fiscal_year(sheet["fiscal_year"]),
                **{nature: _section(section) for nature, section in sections.items()},
                "retained_earnings": number(sheet["retained_earnings"]),
                "current_earnings": number(sheet["current_earnings"]),
                "current_earnings_account": _account_reference(sheet["current_earnings_account"]),
                "total_assets": number(sheet["total_assets"]),
                "total_liabilities_and_equity": number(sheet["total_liabilities_and_equity"])}
    return ["section", "number", "name", "balance", *_foreign_header(codes, _BALANCE_FIGURES)], rows, document


def _account_reference(account) -> dict | None:
    """The account that shows the year's result on charts that have one (PCG 120000 / 129000)."""
    return None if account is None else {"account_id": account.id, "number": account.number, "name": account.name}


def _profit_and_loss(book, request):
    date_to = _date(request, "date_to", date.today())
    date_from = _date(request, "date_from", reports.fiscal_year_of(book, date_to).start)
    result = reports.profit_and_loss(book, date_from, date_to)
    sections = ("income", "expenses")
    codes = _foreign_currencies([line for section in sections for line in result[section].lines], _BALANCE_FIGURES)
    blanks = _blanks(codes, _BALANCE_FIGURES)
    rows = [[section, line.number, line.name, number(line.balance), *_foreign_cells(line, codes, _BALANCE_FIGURES)]
            for section in sections for line in result[section].lines]
    rows += [[section, "", f"Total {section}", number(result[section].total), *blanks] for section in sections]
    rows.append(["net_income", "", "Net income", number(result["net_income"]), *blanks])
    document = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
                "income": _section(result["income"]), "expenses": _section(result["expenses"]),
                "net_income": number(result["net_income"])}
    return ["section", "number", "name", "balance", *_foreign_header(codes, _BALANCE_FIGURES)], rows, document


def _aged_receivables(book, request):
    """One row per customer and currency, in that currency (`currency_iso_code`); `totals` are those of
    the rows in the company's currency, `totals_by_currency` each currency's (docs/currencies.md)."""
    as_of = _date(request, "date", date.today())
    customers = reports.aged_receivables(book, as_of)
    columns = [name for name, _, _ in reports.AGE_BUCKETS] + ["unapplied"]
    own = book.organization.currency_iso_code

    def figures(row) -> dict[str, Decimal]:
        return {**row.buckets, "unapplied": row.unapplied, "total": row.total}

    def totals_in(currency: str) -> dict[str, Decimal]:
        return {name: _total(figures(row)[name] for row in customers if row.currency == currency)
                for name in [*columns, "total"]}
    currencies = [own, *sorted({row.currency for row in customers} - {own})]
    totals = {currency: totals_in(currency) for currency in currencies}
    rows = [[row.customer_id or "", row.name, row.currency, *(number(value) for value in figures(row).values())]
            for row in customers]
    rows += [["", "Total", currency, *(number(found[name]) for name in [*columns, "total"])]
             for currency, found in totals.items()]
    document = {"date": as_of.isoformat(), "customers": [
        {"customer_id": row.customer_id, "name": row.name, "currency_iso_code": row.currency,
         **{name: number(value) for name, value in figures(row).items()}} for row in customers],
        "totals": {name: number(value) for name, value in totals[own].items()},
        "totals_by_currency": {currency: {name: number(value) for name, value in found.items()}
                               for currency, found in totals.items()}}
    return ["customer_id", "name", "currency", *columns, "total"], rows, document


def _tax_return(book, request):
    """Tax collected and deductible per rate, their totals and the tax due, with the boxes of the
    country's form (France CA3, Spain modelo 303) or the US sales taxes per jurisdiction. The period:
    `date_from` to `date_to`, by default the quarter of `date_to` (today) up to it."""
    date_to = _date(request, "date_to", date.today())
    date_from = _date(request, "date_from", date(date_to.year, 3 * ((date_to.month - 1) // 3) + 1, 1))
    try:
        found = tax_returns.tax_return(book, date_from, date_to)
    except DomainError as error:
        raise OneUpError(5, error.describe()) from None
    return ["section", "box", "label", "rate", "base", "tax", "amount"], _tax_return_rows(found), \
        _tax_return_document(found)


def _tax_return_rows(found) -> list[list]:
    """The CSV: a row per rate and side (per jurisdiction in the US), the totals, the tax due, the boxes."""
    def cell(value):
        return "" if value is None else number(value)
    rows = [[side, "", _side_label(side, line.rate), cell(line.rate), cell(line.base), number(line.tax), ""]
            for side in ("collected", "deductible") for line in getattr(found, side)]
    rows += [["jurisdiction", "", place.name, cell(place.rate), cell(place.taxable_sales),
              number(place.tax_collected), ""] for place in found.jurisdictions]
    rows += [["total_collected", "", "Total collected", "", number(found.total_collected_base),
              number(found.total_collected), ""],
             ["total_deductible", "", "Total deductible", "", number(found.total_deductible_base),
              number(found.total_deductible), ""],
             ["tax_due", "", "Tax due (collected - deductible; negative: a credit)", "", "", number(found.tax_due), ""]]
    return rows + [["box", box.box, box.label, "", "", "", number(box.amount)] for box in found.boxes]


def _tax_return_document(found) -> dict:
    def line(tax_line) -> dict:
        return {"rate": number(tax_line.rate), "base": number(tax_line.base), "tax": number(tax_line.tax)}
    return {"date_from": found.date_from.isoformat(), "date_to": found.date_to.isoformat(),
            "country": found.country, "form": found.form, "collected": [line(one) for one in found.collected],
            "deductible": [line(one) for one in found.deductible],
            "total_collected": number(found.total_collected), "total_collected_base": number(found.total_collected_base),
            "total_deductible": number(found.total_deductible),
            "total_deductible_base": number(found.total_deductible_base),
            "tax_due": number(found.tax_due), "result": found.result,
            "boxes": [{"box": box.box, "label": box.label, "amount": number(box.amount)} for box in found.boxes],
            "jurisdictions": [{"name": place.name, "rate": number(place.rate),
                               "taxable_sales": number(place.taxable_sales),
                               "tax_collected": number(place.tax_collected)} for place in found.jurisdictions]}


def _side_label(side: str, rate) -> str:
    return f"Tax {side} at {number(rate)}%" if rate is not None else f"Tax {side}, rate not known"


_REVALUATION_COLUMNS = ("kind", "party_id", "party", "account_id", "account_number", "currency", "open_amount",
                        "booked_value", "rate", "value_at_rate", "gain_or_loss")


def _revaluation(book, request):
    """The open receivables and payables in other currencies on `date` (default today), per party,
    currency and account, at the date's rates, with the unrealised gain or loss of each (what
    `comptoir revalue` posts). A currency without a rate on or before the date: 422 code 3 naming it."""
    found = revaluation.revaluation(book, _date(request, "date", date.today()))
    lines = [dict(zip(_REVALUATION_COLUMNS, (
        line.kind, line.balance.party_id, line.party_name, line.balance.account_id, line.account_number,
        line.balance.currency, number(line.balance.open_amount), number(line.balance.booked),
        number(line.revalued.rate), number(line.revalued.value), number(line.revalued.difference))))
        for line in found.lines]
    totals = {"total_booked_value": number(found.booked), "total_value_at_rate": number(found.value),
              "total_gains": number(found.gains), "total_losses": number(found.losses),
              "net_gain_or_loss": number(found.net)}
    rows = [["" if value is None else value for value in line.values()] for line in lines]
    rows += [_revaluation_total("Total gains", difference=totals["total_gains"]),
             _revaluation_total("Total losses", difference=number(Decimal(0) - found.losses)),
             _revaluation_total("Total", totals["total_booked_value"], totals["total_value_at_rate"],
                                totals["net_gain_or_loss"])]
    document = {"date": found.day.isoformat(), "currency": found.currency,
                "revaluation_transaction_id": found.transaction_id, "lines": lines, **totals}
    return list(_REVALUATION_COLUMNS), rows, document


def _revaluation_total(label: str, booked: Any = "", value: Any = "", difference: Any = "") -> list:
    """A totals line of the revaluation's CSV: its label under `party`, its figures in their columns
    (the losses signed as the lines' differences are, negative)."""
    return ["", "", label, "", "", "", "", booked, "", value, difference]


# -- the audit trail -----------------------------------------------------------------------------

def _whole_number(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise OneUpError(5, f"{name} must be a whole number")
    return int(raw)


async def audit_events(request: Request) -> Response:
    """GET /audit_events: the organization's changes, newest first (`subject`, `subject_id`,
    `before_id` and `limit` narrow them); with `document_id`, every change of that document and of
    what belongs to it, oldest first."""
    document_id = _whole_number(request, "document_id")
    limit = _whole_number(request, "limit")
    limit = 100 if limit is None else limit
    if not 1 <= limit <= trail.PAGE_MAX:
        raise OneUpError(5, f"limit must be 1 to {trail.PAGE_MAX}")

    def work(book: Any) -> list:
        if document_id is not None:
            found = trail.document_trail(book, document_id)
            if not found:
                raise OneUpError(2)
            return found
        return trail.organization_trail(book, subject=request.query_params.get("subject"),
                                        subject_id=_whole_number(request, "subject_id"),
                                        before_id=_whole_number(request, "before_id"), limit=limit)
    return json_response([_change(change) for change in await reading(request, work)])


def _change(change: trail.Change) -> dict:
    return {"id": change.id, "at": change.at, "actor": change.actor, "action": change.action,
            "subject": change.subject, "subject_id": change.subject_id, "parent": change.parent,
            "parent_id": change.parent_id, "before": change.before, "after": change.after, "changes": change.changes}


_REPORTS = {
    "trial_balance": _trial_balance,
    "general_ledger": _general_ledger,
    "balance_sheet": _balance_sheet,
    "profit_and_loss": _profit_and_loss,
    "aged_receivables": _aged_receivables,
    "tax_return": _tax_return,
    "revaluation": _revaluation,
}
