"""Our reports extension to OneUp v1 (GET /oneup/v1/reports/{name}?date=&date_from=&date_to=&
account_id=&format=json|csv): trial balance, general ledger, balance sheet, profit and loss and aged
receivables, checked against a small book written through the API (invoices, payments, bank entries,
manual transactions) and against the transactions a client reads back from /transactions."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest

from ..helpers import OneUpClient, error_of

MISSING_ID = 2_000_000_000
BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")
D = Decimal


# -- helpers -----------------------------------------------------------------------------------

def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == code, error
    return error


def chart(oneup: OneUpClient) -> dict[str, dict]:
    return {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}


def report(oneup: OneUpClient, name: str, **params) -> dict:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return oneup.ok("GET", f"/reports/{name}?{query}")


def line(account_id: int, way: str, amount) -> dict:
    return {"account_id": account_id, "way": way, "amount": D(str(amount))}


def invoice(oneup: OneUpClient, customer: dict, item: dict, on: str, quantity, price, tax_id=None, **fields) -> dict:
    order_line = {"item_id": item["id"], "quantity": D(str(quantity)), "unit_price_wt": D(str(price))}
    if tax_id is not None:
        order_line["tax_id"] = tax_id
    return oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "date": on, "order_lines": [order_line],
                                          **fields})


def customer_and_item(oneup: OneUpClient, name: str = "ACME") -> tuple[dict, dict]:
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": name})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    return customer, item


@dataclass
class Book:
    accounts: dict[str, dict]
    bank: dict
    customer: dict
    first_invoice: dict
    second_invoice: dict


def write_book(oneup: OneUpClient) -> Book:
    """Capital paid in, two invoices (one taxed), a partial payment on a bank account, rent paid by
    hand and bank fees from a statement line, over the first quarter of 2024."""
    accounts = chart(oneup)
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Main bank"})
    customer, item = customer_and_item(oneup)
    [tax] = [t for t in oneup.ok("GET", "/taxes") if t["name"] == "10% Federal Tax"]
    oneup.ok("POST", "/transactions", {"piece_number": "CAPITAL", "date": "2024-01-02", "entries": [
        line(bank["account_id"], "debit", 1000), line(accounts["30100"]["id"], "credit", 1000)]})
    first = invoice(oneup, customer, item, "2024-01-10", 2, 50, tax["id"])  # 110, of which 10 of tax
    assert first["total"] == D("110")
    oneup.ok("POST", "/payments", {"invoice_id": first["id"], "amount": 60, "bank_id": bank["id"],
                                   "date": "2024-02-01"})
    second = invoice(oneup, customer, item, "2024-02-20", 1, 200)  # 200, untaxed
    oneup.ok("POST", "/transactions", {"piece_number": "RENT-03", "date": "2024-03-05", "entries": [
        line(accounts["60100"]["id"], "debit", "75.25"), line(bank["account_id"], "credit", "75.25")]})
    oneup.ok("POST", "/bank_entries", {"bank_account_id": bank["id"], "posted_date": "2024-03-10",
                                       "transaction_date": "2024-03-10", "amount": D("-12.5"),
                                       "description": "Bank fees"})
    return Book(accounts, bank, customer, first, second)


def sums_from_transactions(oneup: OneUpClient, as_of: str) -> dict[int, tuple[Decimal, Decimal]]:
    """Debit and credit per account of every transaction dated up to `as_of`, as a client adds them."""
    sums: dict[int, list[Decimal]] = {}
    for transaction in oneup.ok("GET", f"/transactions?limit=1000&date=lte:{as_of}"):
        for entry in transaction["entries"]:
            pair = sums.setdefault(entry["account_id"], [D(0), D(0)])
            pair[0 if entry["way"] == "debit" else 1] += entry["amount"]
    return {account_id: (debit, credit) for account_id, (debit, credit) in sums.items()}


def balances(trial: dict) -> dict[str, Decimal]:
    return {row["number"]: row["balance"] for row in trial["accounts"]}


# -- trial balance -----------------------------------------------------------------------------

def test_the_trial_balance_balances_and_matches_the_transactions(oneup):
    book = write_book(oneup)
    trial = report(oneup, "trial_balance", date="2024-12-31")
    assert trial["date"] == "2024-12-31"
    assert trial["total_debit"] == trial["total_credit"] == D("1457.75")
    for row in trial["accounts"]:
        assert row["balance"] == row["debit"] - row["credit"], row
    assert sum(row["debit"] for row in trial["accounts"]) == trial["total_debit"]
    assert sum(row["credit"] for row in trial["accounts"]) == trial["total_credit"]
    # The same figures as the transactions themselves.
    expected = sums_from_transactions(oneup, "2024-12-31")
    assert {row["account_id"]: (row["debit"], row["credit"]) for row in trial["accounts"]} == expected
    bank_number = oneup.ok("GET", f"/accounts/{book.bank['account_id']}")["number"]
    assert balances(trial) == {
        bank_number: D("972.25"),  # 1000 + 60 - 75.25 - 12.5
        "10900": D("12.5"),  # the bank fees wait in suspense
        "11100": D("250"),  # 110 + 200 - 60
        "21100-1000": D("-10"),  # Sales Tax Payable 10%: the first invoice's tax
        "30100": D("-1000"),
        "40150": D("-300"),
        "60100": D("75.25"),
    }
    receivable = next(row for row in trial["accounts"] if row["number"] == "11100")
    assert receivable == {"account_id": book.accounts["11100"]["id"], "number": "11100",
                          "name": "Accounts Receivable - Trade", "opening_balance": D("0"), "debit": D("310"),
                          "credit": D("60"), "balance": D("250")}
    assert [row["number"] for row in trial["accounts"]] == sorted(row["number"] for row in trial["accounts"])


def test_the_trial_balance_as_csv_has_the_same_figures(oneup):
    write_book(oneup)
    trial = report(oneup, "trial_balance", date="2024-12-31")
    response = oneup.get("/reports/trial_balance?date=2024-12-31&format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["number", "name", "opening_balance", "debit", "credit", "balance"]
    assert [(r[0], r[1], D(r[2]), D(r[3]), D(r[4]), D(r[5])) for r in rows[1:-1]] == \
        [(a["number"], a["name"], a["opening_balance"], a["debit"], a["credit"], a["balance"])
         for a in trial["accounts"]]
    assert rows[-1] == ["", "Total", "0", "1457.75", "1457.75", "0"]  # the JSON's totals
    assert len(rows) == 1 + len(trial["accounts"]) + 1 == 9


def test_a_report_as_of_a_date_leaves_out_what_came_after(oneup):
    book = write_book(oneup)
    january = report(oneup, "trial_balance", date="2024-01-31")
    bank_number = oneup.ok("GET", f"/accounts/{book.bank['account_id']}")["number"]
    assert balances(january) == {bank_number: D("1000"), "11100": D("110"), "21100-1000": D("-10"),
                                 "30100": D("-1000"), "40150": D("-100")}
    assert january["total_debit"] == january["total_credit"] == D("1110")
    assert {row["account_id"]: (row["debit"], row["credit"]) for row in january["accounts"]} == \
        sums_from_transactions(oneup, "2024-01-31")
    sheet = report(oneup, "balance_sheet", date="2024-02-01")
    assert sheet["total_assets"] == D("1110")  # the second invoice, rent and fees are later
    assert sheet["total_assets"] == sheet["total_liabilities_and_equity"]
    assert report(oneup, "profit_and_loss", date_to="2024-01-31")["net_income"] == D("100")


def test_the_trial_balance_of_an_empty_period(oneup):
    write_book(oneup)
    # The day before anything happened, the books are empty.
    empty = report(oneup, "trial_balance", date="2024-01-01")
    assert empty == {"date_from": "2024-01-01", "date": "2024-01-01",
                     "fiscal_year": {"start": "2024-01-01", "end": "2024-12-31"}, "accounts": [],
                     "total_opening_balance": 0, "total_debit": 0, "total_credit": 0, "total_balance": 0}
    response = oneup.get("/reports/trial_balance?date=2024-01-01&format=csv")
    assert response.status_code == 200, response.text
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["number", "name", "opening_balance", "debit", "credit", "balance"], ["", "Total", "0", "0", "0", "0"]]


# -- general ledger ----------------------------------------------------------------------------

def test_the_general_ledger_of_the_receivable(oneup):
    book = write_book(oneup)
    receivable = book.accounts["11100"]["id"]
    ledger = report(oneup, "general_ledger", account_id=receivable, date_from="2024-02-01", date_to="2024-12-31")
    assert (ledger["account_id"], ledger["number"], ledger["name"]) == \
        (receivable, "11100", "Accounts Receivable - Trade")
    assert (ledger["date_from"], ledger["date_to"]) == ("2024-02-01", "2024-12-31")
    assert ledger["opening_balance"] == D("110")  # the first invoice, before the period
    running = ledger["opening_balance"]
    for row in ledger["entries"]:
        running += row["debit"] - row["credit"]
        assert row["balance"] == running, row
    assert ledger["closing_balance"] == running == D("250")
    assert [(row["date"], row["piece_number"], row["debit"], row["credit"], row["lettering"])
            for row in ledger["entries"]] == [
        ("2024-02-01", oneup.ok("GET", "/payments")[0]["user_code"], D("0"), D("60"), book.first_invoice["user_code"]),
        ("2024-02-20", book.second_invoice["user_code"], D("200"), D("0"), book.second_invoice["user_code"]),
    ]
    trial = report(oneup, "trial_balance", date="2024-12-31")
    assert ledger["closing_balance"] == balances(trial)["11100"]

    # Over the whole year it opens at zero; over January it closes where the trial balance stands then.
    year = report(oneup, "general_ledger", account_id=receivable, date_from="2024-01-01", date_to="2024-12-31")
    assert year["opening_balance"] == 0 and len(year["entries"]) == 3 and year["closing_balance"] == D("250")
    january = report(oneup, "general_ledger", account_id=receivable, date_from="2024-01-01", date_to="2024-01-31")
    assert january["closing_balance"] == balances(report(oneup, "trial_balance", date="2024-01-31"))["11100"]


def test_the_general_ledger_of_the_bank_as_csv(oneup):
    book = write_book(oneup)
    ledger = report(oneup, "general_ledger", account_id=book.bank["account_id"], date_from="2024-01-01",
                    date_to="2024-12-31")
    assert ledger["closing_balance"] == D("972.25")
    assert ledger["closing_balance"] == oneup.ok("GET", f"/bank_accounts/{book.bank['id']}")["accounting_bank_balance"]
    response = oneup.get(f"/reports/general_ledger?account_id={book.bank['account_id']}&date_from=2024-01-01"
                         f"&date_to=2024-12-31&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:7] == ["date", "transaction_id", "piece_number", "label", "debit", "credit", "balance"]
    assert [D(r[6]) for r in rows[1:]] == [row["balance"] for row in ledger["entries"]]


# -- balance sheet, profit and loss ------------------------------------------------------------

def test_the_balance_sheet_balances(oneup):
    write_book(oneup)
    sheet = report(oneup, "balance_sheet", date="2024-12-31")
    assert sheet["total_assets"] == D("1234.75")  # bank 972.25 + suspense 12.5 + receivable 250
    assert sheet["total_liabilities_and_equity"] == sheet["total_assets"]
    assert sheet["asset"]["total"] == sheet["total_assets"]
    assert sheet["liability"]["total"] == D("10")
    assert sheet["equity"]["total"] == D("1000")
    assert sheet["current_earnings"] == D("224.75")
    assert sheet["liability"]["total"] + sheet["equity"]["total"] + sheet["current_earnings"] == \
        sheet["total_liabilities_and_equity"]


def test_profit_and_loss(oneup):
    write_book(oneup)
    year = report(oneup, "profit_and_loss", date_from="2024-01-01", date_to="2024-12-31")
    assert year["income"]["total"] == D("300")
    assert year["expenses"]["total"] == D("75.25")
    assert year["net_income"] == year["income"]["total"] - year["expenses"]["total"] == D("224.75")
    assert [a["number"] for a in year["income"]["accounts"]] == ["40150"]
    assert [a["number"] for a in year["expenses"]["accounts"]] == ["60100"]
    # The net income of the year is the balance sheet's current earnings.
    assert year["net_income"] == report(oneup, "balance_sheet", date="2024-12-31")["current_earnings"]

    february = report(oneup, "profit_and_loss", date_from="2024-02-01", date_to="2024-02-29")
    assert (february["income"]["total"], february["expenses"]["total"], february["net_income"]) == \
        (D("200"), D("0"), D("200"))
    march = report(oneup, "profit_and_loss", date_from="2024-03-01", date_to="2024-03-31")
    assert march["net_income"] == march["income"]["total"] - march["expenses"]["total"] == D("-75.25")


# -- aged receivables --------------------------------------------------------------------------

def test_aged_receivables_by_days_past_due(oneup):
    customer, item = customer_and_item(oneup, "ACME")
    other, _ = customer_and_item(oneup, "Zenith")
    invoice(oneup, other, item, "2023-10-01", 1, 15)  # 137 days late
    invoice(oneup, customer, item, "2024-01-01", 1, 100)  # due on receipt: 45 days late on 2024-02-15
    invoice(oneup, customer, item, "2024-02-05", 1, 40)  # 10 days late
    invoice(oneup, other, item, "2024-02-10", 1, 70, due_date="2024-03-10")  # not due yet
    invoice(oneup, other, item, "2024-03-01", 1, 999)  # after the report date
    aged = report(oneup, "aged_receivables", date="2024-02-15")
    assert aged["date"] == "2024-02-15"
    assert aged["customers"] == [
        {"customer_id": customer["id"], "name": "ACME", "currency_iso_code": "USD", "current": D(0), "1_30": D(40),
         "31_60": D(100), "61_90": D(0), "over_90": D(0), "unapplied": D(0), "total": D(140)},
        {"customer_id": other["id"], "name": "Zenith", "currency_iso_code": "USD", "current": D(70), "1_30": D(0),
         "31_60": D(0), "61_90": D(0), "over_90": D(15), "unapplied": D(0), "total": D(85)},
    ]
    assert aged["totals"] == {"current": D(70), "1_30": D(40), "31_60": D(100), "61_90": D(0), "over_90": D(15),
                              "unapplied": D(0), "total": D(225)}
    assert aged["totals_by_currency"] == {"USD": aged["totals"]}
    response = oneup.get("/reports/aged_receivables?date=2024-02-15&format=csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["customer_id", "name", "currency", *BUCKETS, "unapplied", "total"]
    assert rows[1][1:3] == ["ACME", "USD"] and D(rows[1][5]) == D(100)
    assert rows[-1] == ["", "Total", "USD", "70", "40", "100", "0", "15", "0", "225"]


def test_aged_receivables_leave_out_paid_invoices(oneup):
    customer, item = customer_and_item(oneup)
    paid = invoice(oneup, customer, item, "2024-01-01", 1, 100)
    oneup.ok("POST", "/payments", {"invoice_id": paid["id"], "amount": 100, "date": "2024-01-05"})
    partly = invoice(oneup, customer, item, "2024-01-01", 1, 80)
    oneup.ok("POST", "/payments", {"invoice_id": partly["id"], "amount": 30, "date": "2024-01-05"})
    aged = report(oneup, "aged_receivables", date="2024-02-15")
    [row] = aged["customers"]
    assert row["31_60"] == D(50) and row["total"] == D(50)


def test_aged_receivables_as_of_a_date_before_a_payment(oneup):
    """As of 2024-02-15 the invoice was still wholly unpaid: a payment dated 2024-03-01 must not
    reduce what was open on that date."""
    customer, item = customer_and_item(oneup)
    unpaid = invoice(oneup, customer, item, "2024-01-01", 1, 100)
    oneup.ok("POST", "/payments", {"invoice_id": unpaid["id"], "amount": 100, "date": "2024-03-01"})
    assert report(oneup, "aged_receivables", date="2024-03-31")["customers"] == []
    # The ledger agrees that 100 was receivable on 2024-02-15.
    assert balances(report(oneup, "trial_balance", date="2024-02-15"))["11100"] == D(100)
    aged = report(oneup, "aged_receivables", date="2024-02-15")
    assert [(row["customer_id"], row["31_60"], row["total"]) for row in aged["customers"]] == \
        [(customer["id"], D(100), D(100))]


# -- errors ------------------------------------------------------------------------------------

DATE_PARAMETERS = [("trial_balance", "date"), ("balance_sheet", "date"), ("aged_receivables", "date"),
                   ("general_ledger", "date_from"), ("general_ledger", "date_to"),
                   ("profit_and_loss", "date_from"), ("profit_and_loss", "date_to")]


@pytest.mark.parametrize("name, parameter", DATE_PARAMETERS)
@pytest.mark.parametrize("value", ["2024-02-30", "15/02/2024"])
def test_a_bad_date_is_400_code_5(oneup, name, parameter, value):
    account = chart(oneup)["11100"]["id"]
    assert_error(oneup.get(f"/reports/{name}?account_id={account}&{parameter}={value}"), 400, "5")


def test_unknown_reports_and_bad_parameters(oneup):
    assert_error(oneup.get("/reports/cash_flow?date=2024-01-01"), 404, "2")
    assert_error(oneup.get("/reports/trial_balance?format=xml"), 400, "5")
    assert_error(oneup.get("/reports/general_ledger?date_from=2024-01-01"), 400, "5")  # account_id required
    assert_error(oneup.get("/reports/general_ledger?account_id=abc"), 400, "5")
    assert_error(oneup.get(f"/reports/general_ledger?account_id={MISSING_ID}"), 404, "2")


def test_reports_need_credentials(client):
    response = client.get("/oneup/v1/reports/trial_balance?date=2024-01-01")
    assert_error(response, 401, "1")


# -- isolation ---------------------------------------------------------------------------------

def test_reports_show_only_the_organizations_own_book(oneup, other_oneup):
    book = write_book(oneup)
    theirs = chart(other_oneup)
    other_oneup.ok("POST", "/transactions", {"piece_number": "B-1", "date": "2024-01-05", "entries": [
        line(theirs["11100"]["id"], "debit", 5000), line(theirs["40150"]["id"], "credit", 5000)]})

    trial = report(other_oneup, "trial_balance", date="2024-12-31")
    assert [(row["account_id"], row["balance"]) for row in trial["accounts"]] == \
        [(theirs["11100"]["id"], D(5000)), (theirs["40150"]["id"], D(-5000))]
    assert trial["total_debit"] == D(5000)
    # Their receivable holds 5000 that no customer owes (an entry by hand): the only row, none of ours.
    aged = report(other_oneup, "aged_receivables", date="2024-12-31")
    assert [(row["customer_id"], row["name"], row["unapplied"], row["total"]) for row in aged["customers"]] == \
        [(None, "(no customer)", D(5000), D(5000))]
    sheet = report(other_oneup, "balance_sheet", date="2024-12-31")
    assert sheet["total_assets"] == sheet["total_liabilities_and_equity"] == D(5000)
    assert report(other_oneup, "profit_and_loss", date_from="2024-01-01", date_to="2024-12-31")["net_income"] == \
        D(5000)
    for account_id in (book.accounts["11100"]["id"], book.bank["account_id"]):
        assert_error(other_oneup.get(f"/reports/general_ledger?account_id={account_id}&date_from=2024-01-01"
                                     f"&date_to=2024-12-31"), 404, "2")
    # And the other organization's activity does not show in the first one's reports.
    assert report(oneup, "trial_balance", date="2024-12-31")["total_debit"] == D("1457.75")
    assert report(oneup, "profit_and_loss", date_from="2024-01-01", date_to="2024-12-31")["net_income"] == \
        D("224.75")
