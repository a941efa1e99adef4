"""Issue 18 §4: the reports stay in the organization's currency with the amounts in other currencies
beside the accounts that hold them; the revaluation report values the open foreign receivables and
payables at a day's rates; `comptoir revalue` posts it, reversed the next day, once per day, and
`--undo` takes it out. Through OneUp over HTTP (Quipu for purchases), and the command line."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal


from comptoir.domain.ledger import CREDIT, DEBIT, Posting
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger import posting
from comptoir.services.ledger.chart import account_id_for
from comptoir.services.tenancy.organizations import create_organization
from tests.helpers import OneUpClient, set_rates
from tests.oneup.sales_support import assert_error, customer, item
from tests.quipu.conftest import QuipuClient
from tests.quipu.conftest import item as quipu_item
from tests.quipu.conftest import relationship
from tests.statements_support import REQUEST, counted
from tests.upflow.conftest import UpflowClient

D = Decimal


# -- helpers -----------------------------------------------------------------------------------

def _invoice(oneup: OneUpClient, buyer: dict, on: str, price: str) -> dict:
    thing = item(oneup, f"Thing {price}", price)
    return oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": on,
                                          "order_lines": [{"item_id": thing["id"], "quantity": 1, "is_taxable": False}]})


def _purchase(client, oneup: OneUpClient, currency: str, on: str, price: str, name: str = "Lieferant GmbH") -> dict:
    """A purchase invoice from a vendor who bills in `currency` (a Quipu expense: OneUp has none)."""
    vendor = oneup.ok("POST", "/vendors", {"type": 1, "company_name": name, "currency": currency})
    quipu = QuipuClient(client, oneup.org)
    quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": on, "number": f"F-{vendor['id']}"},
                 {"contact": relationship("contacts", vendor["id"]),
                  "items": {"data": [quipu_item("Parts", price, 1, 0, 0)]}})
    return vendor


def _numbers(oneup: OneUpClient) -> dict[int, str]:
    return {account["id"]: account["number"] for account in oneup.ok("GET", "/accounts?limit=1000")}


def _ids(oneup: OneUpClient) -> dict[str, int]:
    return {number: account_id for account_id, number in _numbers(oneup).items()}


def _report(oneup: OneUpClient, name: str, **params) -> dict:
    return oneup.ok("GET", f"/reports/{name}?" + "&".join(f"{key}={value}" for key, value in params.items()))


def _csv(oneup: OneUpClient, name: str, **params) -> list[list[str]]:
    response = oneup.get(f"/reports/{name}?format=csv&" + "&".join(f"{key}={value}" for key, value in params.items()))
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


def _lines(trial: dict) -> dict[str, dict]:
    return {line["number"]: line for line in trial["accounts"]}


def _balanced(oneup: OneUpClient, on: str) -> dict:
    trial = _report(oneup, "trial_balance", date=on)
    assert trial["total_debit"] == trial["total_credit"]
    assert sum((line["balance"] for line in trial["accounts"]), D(0)) == 0
    return trial


def _entries_of(oneup: OneUpClient, piece_number: str) -> list[tuple]:
    """(date, account number, way, amount, currency, currency amount, rate) of every transaction of
    that piece number, sorted."""
    numbers = _numbers(oneup)
    return sorted((transaction["date"], numbers[entry["account_id"]], entry["way"], entry["amount"],
                   entry["currency_iso_code"], entry["currency_amount"], entry["exchange_rate"])
                  for transaction in oneup.ok("GET", f"/transactions?limit=1000&piece_number=eq:{piece_number}")
                  for entry in transaction["entries"])


def _usd_book_in_january(context, org, oneup, client) -> tuple[dict, dict]:
    """A USD book: a 100 EUR invoice of 15 January booked at 1.10 (110 USD), a 50 EUR purchase of
    10 January at 1.10 (55 USD); the EUR is worth 1.20 from 31 January."""
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    set_rates(context, org.id, {"EUR": "1.20"}, since="2025-01-31")
    buyer = customer(oneup, "Acme Corp", currency_iso_code="EUR")
    _invoice(oneup, buyer, "2025-01-15", "100")
    vendor = _purchase(client, oneup, "EUR", "2025-01-10", "50")
    return buyer, vendor


# -- the reports: foreign amounts beside the accounts -------------------------------------------

def test_the_trial_balance_shows_the_foreign_amounts_beside_the_accounts_that_hold_them(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10", "GBP": "1.25"}, since="2025-01-01")
    eur, gbp, usd = (customer(oneup, name, currency_iso_code=code)
                     for name, code in (("Euro Co", "EUR"), ("Sterling Ltd", "GBP"), ("Dollar Inc", "USD")))
    _invoice(oneup, eur, "2025-01-15", "100")
    _invoice(oneup, gbp, "2025-01-20", "40")
    _invoice(oneup, usd, "2025-01-25", "7")
    trial = _balanced(oneup, "2025-01-31")
    lines = _lines(trial)
    assert lines["11100"] == {"account_id": lines["11100"]["account_id"], "number": "11100",
                              "name": "Accounts Receivable - Trade", "opening_balance": 0, "debit": D("167"),
                              "credit": 0, "balance": D("167"),  # 110 + 50 + 7, in USD
                              "foreign": [{"currency": "EUR", "opening_balance": 0, "debit": 100, "credit": 0,
                                           "balance": 100},
                                          {"currency": "GBP", "opening_balance": 0, "debit": 40, "credit": 0,
                                           "balance": 40}]}
    assert lines["40150"]["foreign"] == [
        {"currency": "EUR", "opening_balance": 0, "debit": 0, "credit": 100, "balance": -100},
        {"currency": "GBP", "opening_balance": 0, "debit": 0, "credit": 40, "balance": -40}]

    rows = _csv(oneup, "trial_balance", date="2025-01-31")
    assert rows[0] == ["number", "name", "opening_balance", "debit", "credit", "balance",
                       "opening_balance_EUR", "debit_EUR", "credit_EUR", "balance_EUR",
                       "opening_balance_GBP", "debit_GBP", "credit_GBP", "balance_GBP"]
    assert rows[1] == ["11100", "Accounts Receivable - Trade", "0", "167", "0", "167", "0", "100", "0", "100",
                       "0", "40", "0", "40"]
    assert rows[-1] == ["", "Total", "0", "167", "167", "0", *[""] * 8]  # the USD columns still add up


def test_a_book_in_one_currency_keeps_its_reports_as_they_were(oneup):
    _invoice(oneup, customer(oneup), "2025-01-15", "100")
    trial = _report(oneup, "trial_balance", date="2025-01-31")
    assert all("foreign" not in line for line in trial["accounts"])
    assert _csv(oneup, "trial_balance", date="2025-01-31")[0] == \
        ["number", "name", "opening_balance", "debit", "credit", "balance"]
    assert _csv(oneup, "balance_sheet", date="2025-01-31")[0] == ["section", "number", "name", "balance"]
    ledger = _report(oneup, "general_ledger", account_id=_ids(oneup)["11100"], date_from="2025-01-01",
                     date_to="2025-01-31")
    [entry] = ledger["entries"]
    assert (entry["currency_iso_code"], entry["currency_amount"], entry["exchange_rate"]) == (None, None, None)


def test_the_foreign_amounts_follow_the_fiscal_years_as_the_figures_do(context, org, oneup):
    """In the next fiscal year the receivable opens with what the customer still owes in EUR; the
    income account opens at zero in EUR as in USD (what it earned is carried forward in USD alone)."""
    set_rates(context, org.id, {"EUR": "1.10"}, since="2024-01-01")
    buyer = customer(oneup, currency_iso_code="EUR")
    _invoice(oneup, buyer, "2024-12-15", "100")
    lines = _lines(_balanced(oneup, "2025-01-31"))
    assert lines["11100"]["foreign"] == [{"currency": "EUR", "opening_balance": 100, "debit": 0, "credit": 0,
                                          "balance": 100}]
    assert "40150" not in lines and "foreign" not in lines["39000"]  # carried forward to retained earnings
    assert _report(oneup, "profit_and_loss", date_from="2025-01-01", date_to="2025-01-31")["income"]["accounts"] == []


def test_the_balance_sheet_and_the_profit_and_loss_show_the_foreign_balances(context, org, oneup, client):
    _usd_book_in_january(context, org, oneup, client)
    sheet = _report(oneup, "balance_sheet", date="2025-01-31")
    assert sheet["asset"]["accounts"] == [{"account_id": _ids(oneup)["11100"], "number": "11100",
                                           "name": "Accounts Receivable - Trade", "balance": 110,
                                           "foreign": [{"currency": "EUR", "balance": 100}]}]
    assert [(line["number"], line["balance"], line["foreign"]) for line in sheet["liability"]["accounts"]] == \
        [("20100", -55, [{"currency": "EUR", "balance": -50}])]
    assert _csv(oneup, "balance_sheet", date="2025-01-31")[:3] == [
        ["section", "number", "name", "balance", "balance_EUR"],
        ["asset", "11100", "Accounts Receivable - Trade", "110", "100"],
        ["liability", "20100", "Accounts Payable", "-55", "-50"]]
    result = _report(oneup, "profit_and_loss", date_from="2025-01-01", date_to="2025-01-31")
    assert [(line["number"], line["balance"], line["foreign"]) for line in result["income"]["accounts"]] == \
        [("40150", -110, [{"currency": "EUR", "balance": -100}])]
    assert [(line["number"], line["foreign"]) for line in result["expenses"]["accounts"]] == \
        [("50100", [{"currency": "EUR", "balance": 50}])]
    rows = _csv(oneup, "profit_and_loss", date_from="2025-01-01", date_to="2025-01-31")
    assert rows[0] == ["section", "number", "name", "balance", "balance_EUR"]
    assert rows[-1] == ["net_income", "", "Net income", "55", ""]


def test_a_paid_foreign_invoice_leaves_no_foreign_balance_on_the_balance_sheet(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    set_rates(context, org.id, {"EUR": "1.05"}, since="2025-02-01")
    invoice = _invoice(oneup, customer(oneup, currency_iso_code="EUR"), "2025-01-15", "100")
    oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": 100, "date": "2025-02-10"})
    lines = _lines(_balanced(oneup, "2025-02-28"))
    assert lines["11100"]["balance"] == 0
    assert lines["11100"]["foreign"] == [{"currency": "EUR", "opening_balance": 0, "debit": 100, "credit": 100,
                                          "balance": 0}]
    assert "foreign" not in lines["62800"]  # the realised loss is in USD only
    sheet = _report(oneup, "balance_sheet", date="2025-02-28")
    assert [line["number"] for line in sheet["asset"]["accounts"]] == ["10500"]
    assert sheet["asset"]["accounts"][0]["foreign"] == [{"currency": "EUR", "balance": 100}]  # the money received


def test_the_general_ledger_shows_each_entrys_currency_amount_and_rate(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    set_rates(context, org.id, {"EUR": "1.25"}, since="2025-02-01")
    invoice = _invoice(oneup, customer(oneup, currency_iso_code="EUR"), "2025-01-15", "100")
    oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": 40, "date": "2025-02-10"})
    receivable = _ids(oneup)["11100"]
    ledger = _report(oneup, "general_ledger", account_id=receivable, date_from="2025-01-01", date_to="2025-12-31")
    assert [(row["debit"], row["credit"], row["balance"], row["currency_iso_code"], row["currency_amount"],
             row["exchange_rate"]) for row in ledger["entries"]] == [
        (110, 0, 110, "EUR", 100, D("1.1")),
        (0, 44, 66, "EUR", 40, D("1.1")),  # the payment's share leaves at the invoice's rate
    ]
    rows = _csv(oneup, "general_ledger", account_id=receivable, date_from="2025-01-01", date_to="2025-12-31")
    assert rows[0][-3:] == ["currency_iso_code", "currency_amount", "exchange_rate"]
    assert [row[-3:] for row in rows[1:]] == [["EUR", "100", "1.1"], ["EUR", "40", "1.1"]]


def test_the_foreign_amounts_cost_one_statement_however_many_accounts_hold_them(context, org, oneup, client):
    """The trial balance reads the foreign amounts of every account in one grouped statement: a book
    holding them on four accounts costs one statement more than a book holding none, which sends none
    for them (the organization, read with the credential, says it holds no money in another currency)."""
    def statements() -> int:
        oneup.get("/reports/trial_balance?date=2025-01-31")  # the chart, read once and kept
        with counted() as seen:
            assert oneup.get("/reports/trial_balance?date=2025-01-31").status_code == 200
        return len(seen.statements(REQUEST))
    _invoice(oneup, customer(oneup), "2025-01-05", "10")
    without = statements()
    _usd_book_in_january(context, org, oneup, client)
    _invoice(oneup, customer(oneup, "Sterling", currency_iso_code="EUR"), "2025-01-20", "30")
    assert len([line for line in _report(oneup, "trial_balance", date="2025-01-31")["accounts"]
                if "foreign" in line]) == 4
    assert statements() == without + 1


# -- the revaluation report ---------------------------------------------------------------------

def test_the_revaluation_report_values_open_receivables_and_payables_at_the_days_rate(context, org, oneup, client):
    buyer, vendor = _usd_book_in_january(context, org, oneup, client)
    found = _report(oneup, "revaluation", date="2025-01-31")
    numbers = _ids(oneup)
    assert found == {
        "date": "2025-01-31", "currency": "USD", "revaluation_transaction_id": None,
        "lines": [
            {"kind": "receivable", "party_id": buyer["id"], "party": "Acme Corp", "account_id": numbers["11100"],
             "account_number": "11100", "currency": "EUR", "open_amount": 100, "booked_value": 110,
             "rate": D("1.2"), "value_at_rate": 120, "gain_or_loss": 10},  # 10 of gain per 100 EUR open
            {"kind": "payable", "party_id": vendor["id"], "party": "Lieferant GmbH", "account_id": numbers["20100"],
             "account_number": "20100", "currency": "EUR", "open_amount": -50, "booked_value": -55,
             "rate": D("1.2"), "value_at_rate": -60, "gain_or_loss": -5}],  # we owe more: a loss
        "total_booked_value": 55, "total_value_at_rate": 60, "total_gains": 10, "total_losses": 5,
        "net_gain_or_loss": 5}
    assert _csv(oneup, "revaluation", date="2025-01-31") == [
        ["kind", "party_id", "party", "account_id", "account_number", "currency", "open_amount", "booked_value",
         "rate", "value_at_rate", "gain_or_loss"],
        ["receivable", str(buyer["id"]), "Acme Corp", str(numbers["11100"]), "11100", "EUR", "100", "110", "1.2",
         "120", "10"],
        ["payable", str(vendor["id"]), "Lieferant GmbH", str(numbers["20100"]), "20100", "EUR", "-50", "-55", "1.2",
         "-60", "-5"],
        ["", "", "Total gains", "", "", "", "", "", "", "", "10"],
        ["", "", "Total losses", "", "", "", "", "", "", "", "-5"],
        ["", "", "Total", "", "", "", "", "55", "", "60", "5"]]
    # The day before, the rate was the booked one: nothing to gain or lose.
    before = _report(oneup, "revaluation", date="2025-01-30")
    assert [line["gain_or_loss"] for line in before["lines"]] == [0, 0] and before["net_gain_or_loss"] == 0
    # Before the documents, nothing is open.
    assert _report(oneup, "revaluation", date="2025-01-09")["lines"] == []


def test_a_partly_paid_invoice_is_revalued_on_what_is_still_open(context, org, oneup):
    set_rates(context, org.id, {"EUR": "1.10"}, since="2025-01-01")
    set_rates(context, org.id, {"EUR": "1.25"}, since="2025-02-01")
    set_rates(context, org.id, {"EUR": "1.30"}, since="2025-02-28")
    buyer = customer(oneup, currency_iso_code="EUR")
    invoice = _invoice(oneup, buyer, "2025-01-15", "100")
    oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": 40, "date": "2025-02-10"})
    [line] = _report(oneup, "revaluation", date="2025-02-28")["lines"]
    # 60 EUR open, booked at the invoice's 1.10 (66 USD), worth 78 USD at 1.30.
    assert (line["open_amount"], line["booked_value"], line["value_at_rate"], line["gain_or_loss"]) == (60, 66, 78, 12)


def _booked_without_a_rate(context, org_id: int, party_id: int) -> None:
    """A GBP receivable booked at a rate the book does not hold (as a partner's entries may come with
    the rate they were booked at): the book has no GBP rate."""
    with open_book(context.database, org_id) as book:
        receivable, income = account_id_for(book, "receivable"), account_id_for(book, "income")
        prepared = posting.prepare(book, on=date(2025, 1, 10), piece_number="GBP-1", currency="GBP", journal_role="sales",
                                   rate=D("1.3"), postings=[Posting(receivable, DEBIT, D("20"), "GBP sale",
                                                                    party_id=party_id),
                                                            Posting(income, CREDIT, D("20"), "GBP sale")])
        posting.post_new(book, [("manual_test", 1, prepared)])


def test_a_currency_without_a_rate_on_the_day_is_refused_naming_it(context, org, oneup, client, run):
    _usd_book_in_january(context, org, oneup, client)
    _booked_without_a_rate(context, org.id, customer(oneup, "Sterling Ltd", currency_iso_code="GBP")["id"])
    error = assert_error(oneup.get("/reports/revaluation?date=2025-01-31"), "3")
    assert error["reason"] == "currency: no exchange rate for GBP on or before 2025-01-31"
    assert_error(oneup.get("/reports/revaluation?date=2025-02-31"), "5")  # not a date
    refused = run("revalue", "--org", org.slug, "--date", "2025-01-31")
    assert refused.exit_code == 1, refused.output
    assert "no exchange rate for GBP on or before 2025-01-31" in refused.output
    assert _entries_of(oneup, "REVAL-2025-01-31") == []


# -- comptoir revalue ---------------------------------------------------------------------------

def test_revalue_posts_the_differences_and_their_reversal_the_next_day(context, org, oneup, client, run):
    _usd_book_in_january(context, org, oneup, client)
    done = run("revalue", "--org", org.slug, "--date", "2025-01-31")
    assert done.exit_code == 0, done.output
    assert "Acme Corp" in done.output and "Lieferant GmbH" in done.output
    assert "Posted REVAL-2025-01-31 on 2025-01-31" in done.output and "reversed on 2025-02-01" in done.output
    assert _entries_of(oneup, "REVAL-2025-01-31") == [
        # On the day: the receivable worth 10 more, the payable 5 more, 0 EUR each (what is owed in EUR
        # does not move); the gain and the loss on the unrealised exchange accounts.
        ("2025-01-31", "11100", "debit", 10, "EUR", 0, D("1.2")),
        ("2025-01-31", "20100", "credit", 5, "EUR", 0, D("1.2")),
        ("2025-01-31", "40910", "credit", 10, None, None, None),
        ("2025-01-31", "62810", "debit", 5, None, None, None),
        # The next day, every entry on the other side.
        ("2025-02-01", "11100", "credit", 10, "EUR", 0, D("1.2")),
        ("2025-02-01", "20100", "debit", 5, "EUR", 0, D("1.2")),
        ("2025-02-01", "40910", "debit", 10, None, None, None),
        ("2025-02-01", "62810", "credit", 5, None, None, None),
    ]
    [revaluation, reversal] = sorted(oneup.ok("GET", "/transactions?piece_number=eq:REVAL-2025-01-31"),
                                     key=lambda transaction: transaction["date"])
    assert revaluation["journal"]["code"] == reversal["journal"]["code"] == "OD"
    for generated in (revaluation, reversal):  # taken out by `revalue --undo`, not through the API
        assert_error(oneup.delete(f"/transactions/{generated['id']}"), "30")
    assert {entry["label"] for entry in reversal["entries"]} == \
        {f"Reversal: {entry['label']}" for entry in revaluation["entries"]}

    on_the_day = _lines(_balanced(oneup, "2025-01-31"))  # still balanced
    assert (on_the_day["11100"]["balance"], on_the_day["20100"]["balance"]) == (120, -60)  # at 1.20
    assert on_the_day["11100"]["foreign"][0]["balance"] == 100 and on_the_day["20100"]["foreign"][0]["balance"] == -50
    # 110 of sales, 55 of purchases, 10 of unrealised gain and 5 of unrealised loss.
    assert _report(oneup, "profit_and_loss", date_from="2025-01-01", date_to="2025-01-31")["net_income"] == 60
    ledger = _report(oneup, "general_ledger", account_id=_ids(oneup)["11100"], date_from="2025-01-01",
                     date_to="2025-02-28")
    assert [(row["date"], row["debit"], row["credit"], row["balance"], row["lettering"], row["currency_iso_code"],
             row["currency_amount"], row["exchange_rate"]) for row in ledger["entries"]] == [
        ("2025-01-15", 110, 0, 110, "CINV-001", "EUR", 100, D("1.1")),
        ("2025-01-31", 10, 0, 120, "", "EUR", 0, D("1.2")),  # unlettered: it revalues a balance, not a document
        ("2025-02-01", 0, 10, 110, "", "EUR", 0, D("1.2"))]
    next_day = _lines(_balanced(oneup, "2025-02-01"))
    assert (next_day["11100"]["balance"], next_day["20100"]["balance"]) == (110, -55)  # back to the booked rates
    assert next_day["40910"]["balance"] == next_day["62810"]["balance"] == 0

    # What the customer owes in EUR has not moved (Upflow shows it in its currency's cents).
    [seen] = [one for one in UpflowClient(client, org).all_customers() if one["name"] == "Acme Corp"]
    assert (seen["currency"], seen["balance"]) == ("EUR", 10000)
    # The report of the day sees the revaluation: nothing left to gain or lose.
    found = _report(oneup, "revaluation", date="2025-01-31")
    assert found["revaluation_transaction_id"] == revaluation["id"]
    assert [(line["booked_value"], line["gain_or_loss"]) for line in found["lines"]] == [(120, 0), (-60, 0)]


def test_a_day_is_revalued_once(context, org, oneup, client, run):
    _usd_book_in_january(context, org, oneup, client)
    assert run("revalue", "--org", org.slug, "--date", "2025-01-31").exit_code == 0
    again = run("revalue", "--org", org.slug, "--date", "2025-01-31")
    assert again.exit_code == 1
    assert "the book is already revalued on 2025-01-31" in again.output
    assert len(oneup.ok("GET", "/transactions?piece_number=eq:REVAL-2025-01-31")) == 2
    # Another day is revalued on its own (the first day's reversal makes the book start again from
    # the booked rates).
    set_rates(context, org.id, {"EUR": "1.15"}, since="2025-02-28")
    assert run("revalue", "--org", org.slug, "--date", "2025-02-28").exit_code == 0
    assert [entry[1:4] for entry in _entries_of(oneup, "REVAL-2025-02-28") if entry[0] == "2025-02-28"] == [
        ("11100", "debit", 5), ("20100", "credit", D("2.5")), ("40910", "credit", 5), ("62810", "debit", D("2.5"))]
    _balanced(oneup, "2025-02-28")


def test_undo_takes_the_revaluation_out_and_the_day_may_be_revalued_again(context, org, oneup, client, run):
    _usd_book_in_january(context, org, oneup, client)
    assert run("revalue", "--org", org.slug, "--date", "2025-01-31").exit_code == 0
    undone = run("revalue", "--org", org.slug, "--date", "2025-01-31", "--undo")
    assert undone.exit_code == 0, undone.output
    assert "The revaluation of 2025-01-31 is undone" in undone.output
    transactions = oneup.ok("GET", "/transactions?piece_number=eq:REVAL-2025-01-31")
    assert sorted(transaction["date"] for transaction in transactions) == \
        ["2025-01-31", "2025-01-31", "2025-02-01", "2025-02-01"]  # nothing deleted: reversals
    assert _lines(_balanced(oneup, "2025-01-31"))["11100"]["balance"] == 110  # as if never revalued
    assert _report(oneup, "revaluation", date="2025-01-31")["revaluation_transaction_id"] is None

    nothing = run("revalue", "--org", org.slug, "--date", "2025-01-31", "--undo")
    assert nothing.exit_code == 1 and "no revaluation of 2025-01-31 stands in the book" in nothing.output
    set_rates(context, org.id, {"EUR": "1.30"}, since="2025-01-31")  # the right rate, say
    assert run("revalue", "--org", org.slug, "--date", "2025-01-31").exit_code == 0
    assert _lines(_balanced(oneup, "2025-01-31"))["11100"]["balance"] == 130


def test_revalue_says_when_there_is_nothing_to_revalue(context, org, oneup, client, run):
    empty = run("revalue", "--org", org.slug, "--date", "2025-01-31")
    assert empty.exit_code == 0 and "Nothing to revalue" in empty.output
    assert "no receivable or payable is open in another currency" in empty.output
    _usd_book_in_january(context, org, oneup, client)
    at_booked_rates = run("revalue", "--org", org.slug, "--date", "2025-01-20")
    assert at_booked_rates.exit_code == 0 and "booked at that day's rates already" in at_booked_rates.output
    assert oneup.ok("GET", "/transactions?piece_number=eq:REVAL-2025-01-20") == []


def test_revalue_refuses_a_closed_period_and_usage_errors(context, org, oneup, client, run):
    _usd_book_in_january(context, org, oneup, client)
    assert run("org", "close-books", org.slug, "--until", "2025-01-31").exit_code == 0
    closed = run("revalue", "--org", org.slug, "--date", "2025-01-31")
    assert closed.exit_code == 1 and "closed period" in closed.output
    assert run("revalue", "--org", org.slug, "--date", "31/01/2025").exit_code == 2
    assert run("revalue", "--org", "no-such-organization", "--date", "2025-01-31").exit_code == 2
    assert oneup.ok("GET", "/transactions?piece_number=eq:REVAL-2025-01-31") == []


# -- the French chart ---------------------------------------------------------------------------

def test_a_french_book_keeps_unrealised_differences_on_476_and_477(context, client, run):
    """Under the PCG an unrealised difference is not income: 477 (gain) and 476 (loss) are balance
    sheet accounts, and the P&L of the period does not move."""
    french = create_organization(context.database, "Société Change", currency="EUR", country="FR", chart="pcg")
    oneup = OneUpClient(client, french)
    set_rates(context, french.id, {"USD": "0.90"}, since="2025-01-01")
    set_rates(context, french.id, {"USD": "0.95"}, since="2025-01-31")
    _invoice(oneup, customer(oneup, "Acme Inc", currency_iso_code="USD"), "2025-01-15", "100")  # 90 EUR
    _purchase(client, oneup, "USD", "2025-01-10", "50", "Supplier Inc")  # 45 EUR
    income_before = _report(oneup, "profit_and_loss", date_from="2025-01-01", date_to="2025-01-31")["net_income"]

    done = run("revalue", "--org", french.slug, "--date", "2025-01-31")
    assert done.exit_code == 0, done.output
    assert [entry[1:6] for entry in _entries_of(oneup, "REVAL-2025-01-31") if entry[0] == "2025-01-31"] == [
        ("401000", "credit", D("2.5"), "USD", 0),  # 50 USD owed: 47.50 EUR at 0.95, booked 45
        ("411000", "debit", 5, "USD", 0),  # 100 USD owed to us: 95 EUR, booked 90
        ("476000", "debit", D("2.5"), None, None),  # Différences de conversion - Actif (a loss)
        ("477000", "credit", 5, None, None),  # Différences de conversion - Passif (a gain)
    ]
    names = {account["number"]: account["name"] for account in oneup.ok("GET", "/accounts?limit=1000")}
    assert (names["476000"], names["477000"]) == ("Différences de conversion - Actif",
                                                  "Différences de conversion - Passif")
    assert _report(oneup, "profit_and_loss", date_from="2025-01-01", date_to="2025-01-31")["net_income"] == \
        income_before
    sheet = _report(oneup, "balance_sheet", date="2025-01-31")
    assert ("476000", D("2.5")) in [(line["number"], line["balance"]) for line in sheet["asset"]["accounts"]]
    assert ("477000", -5) in [(line["number"], line["balance"]) for line in sheet["liability"]["accounts"]]
    assert sheet["total_assets"] == sheet["total_liabilities_and_equity"]
    assert _lines(_balanced(oneup, "2025-02-01"))["411000"]["balance"] == 90  # reversed the next day
