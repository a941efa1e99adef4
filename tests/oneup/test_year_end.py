"""Issue 17 §4, §6 and §10: fiscal years and the year end, a trial balance with opening, movements and
closing columns, retained earnings apart from the year's result, mixed accounts classified by the
sign of their balance, aged receivables that add up to the receivable account, and CSV exports that
carry the JSON's totals. Every figure below was computed by hand before the code was written."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.closing import close_period
from comptoir.services.tenancy.organizations import create_organization, set_fiscal_year_start

from ..helpers import OneUpClient, error_of
from ..upflow.conftest import UpflowClient

D = Decimal


def chart(oneup: OneUpClient) -> dict[str, dict]:
    return {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}


def report(oneup: OneUpClient, name: str, **params) -> dict:
    return oneup.ok("GET", f"/reports/{name}?" + "&".join(f"{key}={value}" for key, value in params.items()))


def csv_rows(oneup: OneUpClient, name: str, **params) -> list[list[str]]:
    query = "&".join(f"{key}={value}" for key, value in {**params, "format": "csv"}.items())
    response = oneup.get(f"/reports/{name}?{query}")
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


def entry(account_id: int, way: str, amount) -> dict:
    return {"account_id": account_id, "way": way, "amount": D(str(amount))}


def manual(oneup: OneUpClient, piece: str, on: str, debit: int, credit: int, amount) -> None:
    oneup.ok("POST", "/transactions", {"piece_number": piece, "date": on, "entries": [
        entry(debit, "debit", amount), entry(credit, "credit", amount)]})


def sale(oneup: OneUpClient, customer: dict, item: dict, on: str, amount, **fields) -> dict:
    return oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "date": on, **fields, "order_lines": [
        {"item_id": item["id"], "quantity": 1, "unit_price_wt": D(str(amount))}]})


def two_years(oneup: OneUpClient) -> dict:
    """2024: capital 1000, a sale of 200, rent 50 (the year's result: 150).
    2025: a sale of 300 on 1 February, rent 80 on 15 February (the result to 31 March: 220)."""
    accounts = chart(oneup)
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Main bank"})
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    manual(oneup, "CAPITAL", "2024-01-02", bank["account_id"], accounts["30100"]["id"], 1000)
    sale(oneup, customer, item, "2024-03-01", 200)
    manual(oneup, "RENT-2024", "2024-06-01", accounts["60100"]["id"], bank["account_id"], 50)
    sale(oneup, customer, item, "2025-02-01", 300)
    manual(oneup, "RENT-2025", "2025-02-15", accounts["60100"]["id"], bank["account_id"], 80)
    return {"accounts": accounts, "bank": oneup.ok("GET", f"/accounts/{bank['account_id']}")["number"],
            "customer": customer, "item": item}


def columns(trial: dict) -> dict[str, tuple]:
    return {row["number"]: (row["opening_balance"], row["debit"], row["credit"], row["balance"])
            for row in trial["accounts"]}


# -- the trial balance of a fiscal year ------------------------------------------------------------

def test_income_and_expenses_start_each_fiscal_year_at_zero(oneup):
    book = two_years(oneup)
    trial = report(oneup, "trial_balance", date="2025-03-31")
    assert (trial["date_from"], trial["date"]) == ("2025-01-01", "2025-03-31")
    assert trial["fiscal_year"] == {"start": "2025-01-01", "end": "2025-12-31"}
    assert columns(trial) == {
        #            opening     movements: debit, credit   closing
        book["bank"]: (D(950), D(0), D(80), D(870)),
        "11100": (D(200), D(300), D(0), D(500)),
        "30100": (D(-1000), D(0), D(0), D(-1000)),
        "39000": (D(-150), D(0), D(0), D(-150)),  # 2024's result, carried forward
        "40150": (D(0), D(0), D(300), D(-300)),  # 2025's sales only, not 3,200 of all years
        "60100": (D(0), D(80), D(0), D(80)),
    }
    retained = next(row for row in trial["accounts"] if row["number"] == "39000")
    assert retained["account_id"] == book["accounts"]["39000"]["id"]
    assert retained["name"] == "Retained Earnings"
    assert (trial["total_debit"], trial["total_credit"]) == (D(380), D(380))
    assert trial["total_opening_balance"] == trial["total_balance"] == D(0)


def test_a_trial_balance_over_a_period_opens_where_the_day_before_closed(oneup):
    book = two_years(oneup)
    february = report(oneup, "trial_balance", date_from="2025-02-01", date="2025-02-28")
    assert columns(february) == {
        book["bank"]: (D(950), D(0), D(80), D(870)),
        "11100": (D(200), D(300), D(0), D(500)),
        "30100": (D(-1000), D(0), D(0), D(-1000)),
        "39000": (D(-150), D(0), D(0), D(-150)),
        "40150": (D(0), D(0), D(300), D(-300)),
        "60100": (D(0), D(80), D(0), D(80)),
    }
    # March has no movement: every account opens and closes at the same balance.
    march = report(oneup, "trial_balance", date_from="2025-03-01", date="2025-03-31")
    assert {number: (opening, closing) for number, (opening, _, _, closing) in columns(march).items()} == {
        book["bank"]: (D(870), D(870)), "11100": (D(500), D(500)), "30100": (D(-1000), D(-1000)),
        "39000": (D(-150), D(-150)), "40150": (D(-300), D(-300)), "60100": (D(80), D(80))}
    assert (march["total_debit"], march["total_credit"]) == (D(0), D(0))


def test_a_trial_balance_lies_within_one_fiscal_year(oneup):
    two_years(oneup)
    response = oneup.get("/reports/trial_balance?date_from=2024-12-01&date=2025-01-31")
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == "5" and "2025-01-01" in error["reason"], error
    response = oneup.get("/reports/trial_balance?date_from=2025-02-01&date=2025-01-31")
    assert response.status_code == 400 and error_of(response)["code"] == "5"


def test_the_trial_balance_as_csv_ends_with_its_totals(oneup):
    book = two_years(oneup)
    rows = csv_rows(oneup, "trial_balance", date="2025-03-31")
    assert rows[0] == ["number", "name", "opening_balance", "debit", "credit", "balance"]
    assert rows[-1] == ["", "Total", "0", "380", "380", "0"]
    assert {row[0]: tuple(D(value) for value in row[2:]) for row in rows[1:-1]} == columns(
        report(oneup, "trial_balance", date="2025-03-31"))
    assert book["bank"] in {row[0] for row in rows}


# -- the balance sheet and the profit and loss of a fiscal year ------------------------------------

def test_the_balance_sheet_shows_retained_earnings_and_the_years_result_apart(oneup):
    two_years(oneup)
    sheet = report(oneup, "balance_sheet", date="2025-03-31")
    assert sheet["total_assets"] == D(1370)  # bank 870 + receivable 500
    assert sheet["retained_earnings"] == D(150)  # 2024: 200 - 50
    assert sheet["current_earnings"] == D(220)  # 2025 to date: 300 - 80
    assert sheet["equity"]["total"] == D(1150)  # capital 1000 + retained 150
    assert [(a["number"], a["balance"]) for a in sheet["equity"]["accounts"]] == [("30100", D(-1000)),
                                                                                  ("39000", D(-150))]
    assert sheet["total_liabilities_and_equity"] == D(1370)
    assert sheet["current_earnings_account"] is None  # the default chart shows it as a line of its own
    # At the end of 2024 the year's result is 150 and nothing is retained yet.
    closing = report(oneup, "balance_sheet", date="2024-12-31")
    assert (closing["retained_earnings"], closing["current_earnings"]) == (D(0), D(150))
    assert closing["total_assets"] == closing["total_liabilities_and_equity"] == D(1150)


def test_the_balance_sheet_as_csv_balances(oneup):
    two_years(oneup)
    rows = csv_rows(oneup, "balance_sheet", date="2025-03-31")
    assert rows[0] == ["section", "number", "name", "balance"]
    totals = {row[0]: D(row[3]) for row in rows[1:] if not row[1]}
    assert totals == {"asset": D(1370), "liability": D(0), "equity": D(1150), "current_earnings": D(220),
                      "total_assets": D(1370), "total_liabilities_and_equity": D(1370)}


def test_profit_and_loss_defaults_to_the_fiscal_year_to_date(oneup):
    two_years(oneup)
    year = report(oneup, "profit_and_loss", date_to="2025-03-31")
    assert year["date_from"] == "2025-01-01"
    assert (year["income"]["total"], year["expenses"]["total"], year["net_income"]) == (D(300), D(80), D(220))
    rows = csv_rows(oneup, "profit_and_loss", date_to="2025-03-31")
    assert [row for row in rows if not row[1]] == [["income", "", "Total income", "300"],
                                                   ["expenses", "", "Total expenses", "80"],
                                                   ["net_income", "", "Net income", "220"]]


def test_a_fiscal_year_that_starts_in_april(client, context):
    """Fiscal years from 1 April: a sale of 100 on 2024-03-15 belongs to the year ending 2024-03-31,
    one of 40 on 2024-04-10 to the next. On 2024-05-31 the 100 is retained, the year's result is 40."""
    organization = create_organization(context.database, "April Ltd", fiscal_year_start_month=4)
    oneup = OneUpClient(client, organization)
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    sale(oneup, customer, item, "2024-03-15", 100)
    sale(oneup, customer, item, "2024-04-10", 40)
    trial = report(oneup, "trial_balance", date="2024-05-31")
    assert trial["fiscal_year"] == {"start": "2024-04-01", "end": "2025-03-31"}
    assert columns(trial) == {"11100": (D(100), D(40), D(0), D(140)), "39000": (D(-100), D(0), D(0), D(-100)),
                              "40150": (D(0), D(0), D(40), D(-40))}
    sheet = report(oneup, "balance_sheet", date="2024-05-31")
    assert (sheet["retained_earnings"], sheet["current_earnings"], sheet["total_assets"]) == (D(100), D(40), D(140))
    assert report(oneup, "profit_and_loss", date_to="2024-05-31")["net_income"] == D(40)
    # The general ledger of the sales account opens the fiscal year at zero.
    sales = chart(oneup)["40150"]["id"]
    ledger = report(oneup, "general_ledger", account_id=sales, date_from="2024-04-01", date_to="2024-05-31")
    assert (ledger["opening_balance"], ledger["closing_balance"]) == (D(0), D(-40))


def test_the_fiscal_year_start_cannot_move_once_books_are_closed(context):
    organization = create_organization(context.database, "Closing Ltd")
    with open_book(context.database, organization.id) as book:
        set_fiscal_year_start(book, 7)
        assert book.organization_row().fiscal_year_start_month == 7
    with open_book(context.database, organization.id) as book:
        close_period(book, date(2024, 6, 30))
    with pytest.raises(Exception, match="closed"), open_book(context.database, organization.id) as book:
        set_fiscal_year_start(book, 1)
    with pytest.raises(Exception, match="1 to 12"), open_book(context.database, organization.id) as book:
        set_fiscal_year_start(book, 13)


# -- mixed accounts on the French chart --------------------------------------------------------------

def test_a_bank_overdraft_is_a_liability_on_the_french_chart(client, context):
    """PCG: a bank account with a credit balance is a bank overdraft (concours bancaires courants),
    shown among liabilities. Rent of 300 paid from an empty bank: liabilities 300, assets 0, the
    year's result -300."""
    organization = create_organization(context.database, "Société Test", chart="pcg", currency="EUR", country="FR")
    oneup = OneUpClient(client, organization)
    accounts = chart(oneup)
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Banque"})
    manual(oneup, "LOYER", "2025-01-05", accounts["613200"]["id"], bank["account_id"], 300)
    sheet = report(oneup, "balance_sheet", date="2025-01-31")
    assert sheet["asset"] == {"total": D(0), "accounts": []}
    assert sheet["liability"]["total"] == D(300)
    assert [a["account_id"] for a in sheet["liability"]["accounts"]] == [bank["account_id"]]
    assert sheet["current_earnings"] == D(-300)
    assert sheet["current_earnings_account"] == {"account_id": accounts["129000"]["id"], "number": "129000",
                                                 "name": "Résultat de l'exercice (perte)"}
    assert sheet["total_assets"] == sheet["total_liabilities_and_equity"] == D(0)


def test_the_french_chart_carries_results_to_report_a_nouveau(client, context):
    """PCG: a profit of earlier years is carried to 110000 "Report à nouveau (solde créditeur)", a
    loss to 119000 "(solde débiteur)". 2024: a sale of 500 (profit 500); 2025: nothing yet."""
    organization = create_organization(context.database, "Société Résultat", chart="pcg", currency="EUR",
                                       country="FR")
    oneup = OneUpClient(client, organization)
    accounts = chart(oneup)
    assert {"110000", "119000", "120000", "129000"} <= set(accounts)
    manual(oneup, "VENTE", "2024-05-05", accounts["411000"]["id"], accounts["706000"]["id"], 500)
    trial = report(oneup, "trial_balance", date="2025-01-31")
    assert columns(trial) == {"110000": (D(-500), D(0), D(0), D(-500)), "411000": (D(500), D(0), D(0), D(500))}
    sheet = report(oneup, "balance_sheet", date="2025-01-31")
    assert [(a["number"], a["balance"]) for a in sheet["equity"]["accounts"]] == [("110000", D(-500))]
    assert (sheet["retained_earnings"], sheet["current_earnings"]) == (D(500), D(0))
    assert sheet["current_earnings_account"]["number"] == "120000"
    # A loss the next year is carried to 119000 the year after.
    manual(oneup, "LOYER", "2025-03-01", accounts["613200"]["id"], accounts["411000"]["id"], 800)
    later = columns(report(oneup, "trial_balance", date="2026-01-31"))
    assert later["119000"] == (D(300), D(0), D(0), D(300))  # 500 - 800: a debit of 300
    assert "110000" not in later


# -- aged receivables add up to the receivable account -----------------------------------------------

def test_aged_receivables_total_the_receivable_balance(oneup, client, org):
    """ACME owes 100 (an invoice of 2024-01-01); Zenith paid 50 that no invoice of its asks for yet:
    an unapplied payment. The receivable account's balance on 2024-02-15 is 100 - 50 = 50, and so
    is the report's total, with Zenith's row at -50."""
    acme = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    sale(oneup, acme, item, "2024-01-01", 100)
    upflow = UpflowClient(client, org)
    upflow.ok("POST", "/customers", {"externalId": "Z-1", "name": "Zenith"})
    upflow.ok("POST", "/payments", {"externalId": "P-1", "currency": "USD", "amount": 5000,
                                    "validatedAt": "2024-02-01", "instrument": "WIRE_TRANSFER",
                                    "customer": {"externalId": "Z-1"}})
    aged = report(oneup, "aged_receivables", date="2024-02-15")
    assert [(row["name"], row["31_60"], row["unapplied"], row["total"]) for row in aged["customers"]] == [
        ("ACME", D(100), D(0), D(100)), ("Zenith", D(0), D(-50), D(-50))]
    assert aged["totals"] == {"current": D(0), "1_30": D(0), "31_60": D(100), "61_90": D(0), "over_90": D(0),
                              "unapplied": D(-50), "total": D(50)}
    trial = report(oneup, "trial_balance", date="2024-02-15")
    assert aged["totals"]["total"] == next(row["balance"] for row in trial["accounts"] if row["number"] == "11100")
    rows = csv_rows(oneup, "aged_receivables", date="2024-02-15")
    assert rows[0][-2:] == ["unapplied", "total"]
    assert rows[-1][:2] == ["", "Total"] and D(rows[-1][-1]) == D(50)
