"""Issue 17 §9: taxes per country, tax accounts per rate, entries that carry their rate and base, and
the tax return of a period (GET /reports/tax_return), shaped as France's CA3, Spain's modelo 303 and a
US sales-tax summary, in JSON and CSV. Every figure below was computed by hand before the code was
written (docs/decisions/0023-tax-returns.md)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from comptoir.domain.reference import taxes_for
from comptoir.services.tenancy.organizations import create_organization

from ..helpers import OneUpClient, error_of
from ..quipu.conftest import QuipuClient, item, relationship

D = Decimal
Q1_2025 = {"date_from": "2025-01-01", "date_to": "2025-03-31"}
Q2_2025 = {"date_from": "2025-04-01", "date_to": "2025-06-30"}
CSV_HEADER = ["section", "box", "label", "rate", "base", "tax", "amount"]


# -- helpers -------------------------------------------------------------------------------------

def taxes(oneup: OneUpClient) -> dict[str, Decimal]:
    return {tax["name"]: tax["rate"] for tax in oneup.ok("GET", "/taxes?limit=100")}


def tax_id(oneup: OneUpClient, name: str) -> int:
    return next(tax["id"] for tax in oneup.ok("GET", "/taxes?limit=100") if tax["name"] == name)


def accounts(oneup: OneUpClient) -> dict[str, dict]:
    return {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}


def entries_of(oneup: OneUpClient, piece_number: str) -> dict[tuple[str, str], tuple]:
    """The entries of a document's transaction: (amount, tax rate, tax base) by (account number, way)."""
    numbers = {account["id"]: number for number, account in accounts(oneup).items()}
    [transaction] = [t for t in oneup.ok("GET", "/transactions?limit=1000") if t["piece_number"] == piece_number]
    found = {}
    for entry in transaction["entries"]:
        key = (numbers[entry["account_id"]], entry["way"])
        assert key not in found, key
        found[key] = (entry["amount"], entry["tax_rate"], entry["tax_base"])
    return found


def tax_return(oneup: OneUpClient, **period) -> dict:
    query = "&".join(f"{key}={value}" for key, value in period.items())
    return oneup.ok("GET", f"/reports/tax_return?{query}")


def tax_return_csv(oneup: OneUpClient, **period) -> list[list[str]]:
    query = "&".join(f"{key}={value}" for key, value in {**period, "format": "csv"}.items())
    response = oneup.get(f"/reports/tax_return?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def boxes(found: dict) -> dict[str, Decimal]:
    return {box["box"]: box["amount"] for box in found["boxes"]}


def invoice(oneup: OneUpClient, on: str, lines: list[tuple], **fields) -> dict:
    """An invoice of lines (amount, tax id or None) to a new customer."""
    buyer = oneup.ok("POST", "/customers", {"type": 1, "company_name": f"Client {on}"})
    thing = oneup.ok("POST", "/items", {"type": 1, "name": f"Service {on}"})
    return oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": on, **fields, "order_lines": [
        {"item_id": thing["id"], "quantity": 1, "unit_price_wt": D(amount), **({"tax_id": tax} if tax else {})}
        for amount, tax in lines]})


def expense(quipu: QuipuClient, on: str, number: str, amount: str, vat: int) -> dict:
    """A Quipu expense invoice (a purchase) of one item with its VAT, from a new supplier."""
    supplier = quipu.contact(f"Proveedor {number}")
    return quipu.create("/invoices", "invoices", {"kind": "expenses", "issue_date": on, "number": number},
                        {"contact": relationship("contacts", supplier["id"]),
                         "items": {"data": [item("Material", amount, 1, vat)]}})


@pytest.fixture
def spain(client, context) -> tuple[OneUpClient, QuipuClient]:
    """A Spanish organization on the default chart."""
    org = create_organization(context.database, "Empresa", currency="EUR", country="ES")
    return OneUpClient(client, org), QuipuClient(client, org)


@pytest.fixture
def france(client, context) -> tuple[OneUpClient, QuipuClient]:
    org = create_organization(context.database, "Société", currency="EUR", country="FR", chart="pcg")
    return OneUpClient(client, org), QuipuClient(client, org)


# -- 1. reference data per country ----------------------------------------------------------------

def test_each_country_gets_its_own_vat_rates():
    assert taxes_for("ES") == [("IVA 21%", D(21)), ("IVA 10%", D(10)), ("IVA 4%", D(4)), ("IVA 0%", D(0))]
    assert taxes_for("FR") == [("TVA 20%", D(20)), ("TVA 10%", D(10)), ("TVA 5.5%", D("5.5")), ("TVA 2.1%", D("2.1")),
                               ("TVA 0%", D(0))]
    assert taxes_for("us") == [("0.0% Example of Sales Tax (Collected)", D(0)), ("10% Federal Tax", D(10)),
                               ("8.25% California Sales Tax", D("8.25"))]
    assert taxes_for("DE") == [("MwSt 19%", D(19)), ("MwSt 7%", D(7)), ("MwSt 0%", D(0))]


def test_a_spanish_organization_gets_iva_21_10_and_4(spain):
    oneup, _ = spain
    assert taxes(oneup) == {"IVA 21%": D(21), "IVA 10%": D(10), "IVA 4%": D(4), "IVA 0%": D(0)}


# -- 2. tax accounts per rate, entries with their rate and base ----------------------------------

def test_an_invoice_at_two_rates_posts_each_rate_to_its_account_with_its_rate_and_base(spain):
    oneup, _ = spain
    # 100 at 21 % and 50 at 10 %: taxes 21 and 5, total 176.
    sent = invoice(oneup, "2025-02-10", [("100", tax_id(oneup, "IVA 21%")), ("50", tax_id(oneup, "IVA 10%"))])
    assert (sent["subtotal"], sent["tax_amount"], sent["total"]) == (D(150), D(26), D(176))
    assert entries_of(oneup, sent["user_code"]) == {
        ("11100", "debit"): (D(176), None, None), ("40150", "credit"): (D(150), None, None),
        ("21100-2100", "credit"): (D(21), D(21), D(100)), ("21100-1000", "credit"): (D(5), D(10), D(50))}
    chart = accounts(oneup)
    assert (chart["21100-2100"]["name"], chart["21100-1000"]["name"]) == ("Sales Tax Payable 21%",
                                                                          "Sales Tax Payable 10%")
    assert chart["21100-2100"]["family_id"] == chart["20000"]["id"]
    assert chart["21100"]["name"] == "Sales Tax Payable"  # kept: earlier entries, tax of no known rate


def test_a_purchase_posts_its_deductible_vat_to_the_rate_account(spain):
    oneup, quipu = spain
    # 40 at 21 %: deductible VAT 8.40, payable 48.40.
    bought = expense(quipu, "2025-03-05", "F-100", "40", 21)
    assert (bought["attributes"]["vat_amount"], bought["attributes"]["total_amount"]) == ("8.4", "48.4")
    [transaction] = [t for t in oneup.ok("GET", "/transactions?limit=100") if t["journal"]["code"] == "AC"]
    assert entries_of(oneup, transaction["piece_number"]) == {
        ("50100", "debit"): (D(40), None, None), ("12000-2100", "debit"): (D("8.4"), D(21), D(40)),
        ("20100", "credit"): (D("48.4"), None, None)}
    assert accounts(oneup)["12000-2100"]["name"] == "Sales Tax Receivable 21%"


def test_the_tax_per_rate_is_rounded_as_the_totals_and_sums_to_the_document_tax(spain):
    oneup, _ = spain
    # Lines 33.33 (21 %), 33.33 (10 %), 33.34 (4 %), reduce 3.5 %: subtotal 100, reduce 3.50.
    # Tax per rate on the base reduced by 3.5 %: 33.33 x 0.965 x 21 % = 6.7543 -> 6.75;
    # 33.33 x 0.965 x 10 % = 3.2163 -> 3.22; 33.34 x 0.965 x 4 % = 1.2869 -> 1.29; tax 11.26.
    # Bases after the reduce (96.50 split by line: 32.16, 32.16, 32.17 + the cent left -> 32.18).
    sent = invoice(oneup, "2025-02-11", [("33.33", tax_id(oneup, "IVA 21%")), ("33.33", tax_id(oneup, "IVA 10%")),
                                         ("33.34", tax_id(oneup, "IVA 4%"))], reduce_rate=D("3.5"))
    assert (sent["reduce_amount"], sent["tax_amount"], sent["total"]) == (D("3.5"), D("11.26"), D("107.76"))
    posted = entries_of(oneup, sent["user_code"])
    assert {key: value for key, value in posted.items() if key[0].startswith("21100-")} == {
        ("21100-2100", "credit"): (D("6.75"), D(21), D("32.16")),
        ("21100-1000", "credit"): (D("3.22"), D(10), D("32.16")),
        ("21100-0400", "credit"): (D("1.29"), D(4), D("32.18"))}
    assert posted[("40150", "credit")] == (D("96.5"), None, None)


# -- 3. the tax return ----------------------------------------------------------------------------

def spanish_quarters(oneup: OneUpClient, quipu: QuipuClient) -> None:
    """Q1 2025: sales of 100 at 21 % and 50 at 10 % (tax 21 and 5), a purchase of 40 at 21 % (8.40).
    Q2 2025: a Quipu sale of 200 at 21 % (42), amended by -50 at 21 % (-10.50)."""
    invoice(oneup, "2025-02-10", [("100", tax_id(oneup, "IVA 21%")), ("50", tax_id(oneup, "IVA 10%"))])
    expense(quipu, "2025-03-05", "F-100", "40", 21)
    customer = quipu.contact("Cliente S.L.")
    sold = quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2025-04-02"},
                        {"contact": relationship("contacts", customer["id"]), "items": {"data": [item("Obra", "200")]}})
    quipu.create("/invoices", "invoices", {"issue_date": "2025-04-20"}, {
        "amended_invoice": relationship("invoices", sold["id"]), "items": {"data": [item("Descuento", "-50", 1, 21)]}})


def test_the_spanish_return_of_the_quarter_is_a_modelo_303(spain):
    oneup, quipu = spain
    spanish_quarters(oneup, quipu)
    found = tax_return(oneup, **Q1_2025)
    assert {name: found[name] for name in ("date_from", "date_to", "country", "form")} == {
        "date_from": "2025-01-01", "date_to": "2025-03-31", "country": "ES", "form": "modelo_303"}
    assert found["collected"] == [{"rate": D(21), "base": D(100), "tax": D(21)},
                                  {"rate": D(10), "base": D(50), "tax": D(5)}]
    assert found["deductible"] == [{"rate": D(21), "base": D(40), "tax": D("8.4")}]
    assert {name: found[name] for name in ("total_collected", "total_collected_base", "total_deductible",
                                            "total_deductible_base", "tax_due", "result")} == {
        "total_collected": D(26), "total_collected_base": D(150), "total_deductible": D("8.4"),
        "total_deductible_base": D(40), "tax_due": D("17.6"), "result": "due"}
    assert boxes(found) == {"04": D(50), "05": D(10), "06": D(5), "07": D(100), "08": D(21), "09": D(21),
                            "27": D(26), "28": D(40), "29": D("8.4"), "45": D("8.4"), "46": D("17.6"),
                            "71": D("17.6")}
    assert found["jurisdictions"] == []


def test_a_credit_note_takes_its_tax_and_base_off_the_quarter_it_is_dated_in(spain):
    oneup, quipu = spain
    spanish_quarters(oneup, quipu)
    found = tax_return(oneup, **Q2_2025)
    # 200 - 50 at 21 %: base 150, tax 42 - 10.50 = 31.50; nothing deductible: 31.50 due.
    assert found["collected"] == [{"rate": D(21), "base": D(150), "tax": D("31.5")}]
    assert (found["deductible"], found["tax_due"]) == ([], D("31.5"))
    assert boxes(found) == {"07": D(150), "08": D(21), "09": D("31.5"), "27": D("31.5"), "28": D(0), "29": D(0),
                            "45": D(0), "46": D("31.5"), "71": D("31.5")}


def test_a_deleted_invoice_leaves_the_return_as_if_it_never_was(spain):
    """Issue 17 §8 with §9: an invoice of 80 at 21 % (tax 16.80) deleted in Q1 is reversed, not
    removed; its reversal carries the same rate and base, so Q1's return is exactly the one above."""
    oneup, quipu = spain
    spanish_quarters(oneup, quipu)
    # Numbered by hand: the automatic series has reached April, and its numbers follow their dates.
    extra = invoice(oneup, "2025-03-10", [("80", tax_id(oneup, "IVA 21%"))], user_code="A-2025-1")
    assert tax_return(oneup, **Q1_2025)["collected"][0] == {"rate": D(21), "base": D(180), "tax": D("37.8")}
    oneup.ok("DELETE", f"/invoices/{extra['id']}")
    found = tax_return(oneup, **Q1_2025)
    assert found["collected"] == [{"rate": D(21), "base": D(100), "tax": D(21)},
                                  {"rate": D(10), "base": D(50), "tax": D(5)}]
    assert found["tax_due"] == D("17.6")


def test_the_spanish_return_as_csv_has_the_same_figures_and_its_totals(spain):
    oneup, quipu = spain
    spanish_quarters(oneup, quipu)
    rows = tax_return_csv(oneup, **Q1_2025)
    assert rows[0] == CSV_HEADER
    assert [row for row in rows[1:] if row[0] != "box"] == [
        ["collected", "", "Tax collected at 21%", "21", "100", "21", ""],
        ["collected", "", "Tax collected at 10%", "10", "50", "5", ""],
        ["deductible", "", "Tax deductible at 21%", "21", "40", "8.4", ""],
        ["total_collected", "", "Total collected", "", "150", "26", ""],
        ["total_deductible", "", "Total deductible", "", "40", "8.4", ""],
        ["tax_due", "", "Tax due (collected - deductible; negative: a credit)", "", "", "17.6", ""]]
    assert {row[1]: row[6] for row in rows if row[0] == "box"} == {
        "04": "50", "05": "10", "06": "5", "07": "100", "08": "21", "09": "21", "27": "26", "28": "40", "29": "8.4",
        "45": "8.4", "46": "17.6", "71": "17.6"}


def test_the_french_return_is_a_ca3_and_shows_a_credit(france):
    oneup, quipu = france
    # Sales: 200 at 20 % (40) and 100 at 5.5 % (5.50); a purchase of 300 at 20 % (60 deductible).
    sent = invoice(oneup, "2025-05-15", [("200", tax_id(oneup, "TVA 20%")), ("100", tax_id(oneup, "TVA 5.5%"))])
    assert entries_of(oneup, sent["user_code"]) == {
        ("411000", "debit"): (D("345.5"), None, None), ("706000", "credit"): (D(300), None, None),
        ("445711", "credit"): (D(40), D(20), D(200)), ("445713", "credit"): (D("5.5"), D("5.5"), D(100))}
    expense(quipu, "2025-05-20", "FA-1", "300", 20)
    chart = accounts(oneup)
    assert [chart[number]["name"] for number in ("445711", "445713", "445661")] == [
        "TVA collectée 20 %", "TVA collectée 5,5 %", "TVA déductible 20 %"]
    found = tax_return(oneup, **Q2_2025)
    assert (found["country"], found["form"]) == ("FR", "CA3")
    assert found["collected"] == [{"rate": D(20), "base": D(200), "tax": D(40)},
                                  {"rate": D("5.5"), "base": D(100), "tax": D("5.5")}]
    assert found["deductible"] == [{"rate": D(20), "base": D(300), "tax": D(60)}]
    # Collected 45.50, deductible 60: a credit of 14.50 (line 25), nothing due (line 28).
    assert (found["total_collected"], found["total_deductible"], found["tax_due"], found["result"]) == (
        D("45.5"), D(60), D("-14.5"), "credit")
    assert boxes(found) == {"08-base": D(200), "08-tax": D(40), "09-base": D(100), "09-tax": D("5.5"),
                            "16": D("45.5"), "20": D(60), "23": D(60), "25": D("14.5"), "28": D(0)}
    rows = tax_return_csv(oneup, **Q2_2025)
    assert ["tax_due", "", "Tax due (collected - deductible; negative: a credit)", "", "", "-14.5", ""] in rows
    assert {row[1]: row[6] for row in rows if row[0] == "box"} == {
        "08-base": "200", "08-tax": "40", "09-base": "100", "09-tax": "5.5", "16": "45.5", "20": "60", "23": "60",
        "25": "14.5", "28": "0"}


def test_the_us_return_is_a_sales_tax_summary_per_jurisdiction(oneup):
    # 200 at 8.25 % California (16.50), 100 at 10 % Federal (10), 70 untaxed: 26.50 collected.
    california, federal = tax_id(oneup, "8.25% California Sales Tax"), tax_id(oneup, "10% Federal Tax")
    first = invoice(oneup, "2025-01-15", [("200", None)], tax_id=california)
    invoice(oneup, "2025-02-15", [("100", None)], tax_id=federal)
    invoice(oneup, "2025-03-15", [("70", None)])
    assert entries_of(oneup, first["user_code"])[("21100-0825", "credit")] == (D("16.5"), D("8.25"), D(200))
    found = tax_return(oneup, **Q1_2025)
    assert (found["country"], found["form"], found["boxes"]) == ("US", "sales_tax", [])
    assert found["jurisdictions"] == [
        {"name": "10% Federal Tax", "rate": D(10), "taxable_sales": D(100), "tax_collected": D(10)},
        {"name": "8.25% California Sales Tax", "rate": D("8.25"), "taxable_sales": D(200), "tax_collected": D("16.5")}]
    assert (found["total_collected"], found["total_collected_base"], found["tax_due"]) == (D("26.5"), D(300),
                                                                                          D("26.5"))
    rows = tax_return_csv(oneup, **Q1_2025)
    assert [row for row in rows if row[0] in ("jurisdiction", "total_collected")] == [
        ["jurisdiction", "", "10% Federal Tax", "10", "100", "10", ""],
        ["jurisdiction", "", "8.25% California Sales Tax", "8.25", "200", "16.5", ""],
        ["total_collected", "", "Total collected", "", "300", "26.5", ""]]


def test_tax_of_no_known_rate_is_reported_apart(oneup, client):
    """An Upflow invoice gives its tax as an amount (gross - net): it posts to the chart's own tax
    account, with its net as the base and no rate. 1000.00 net, 1200.00 gross: 200 of no known rate."""
    from ..upflow.conftest import UpflowClient

    upflow = UpflowClient(client, oneup.org)
    upflow.ok("POST", "/customers", {"externalId": "c-1", "name": "Upflow Client"})
    upflow.ok("POST", "/invoices", {"externalId": "i-1", "customId": "UP-1", "customer": {"externalId": "c-1"},
                                    "issuedAt": "2025-02-01", "dueDate": "2025-03-01", "currency": "USD",
                                    "netAmount": 100000, "grossAmount": 120000})
    assert entries_of(oneup, "UP-1")[("21100", "credit")] == (D(200), None, D(1000))
    found = tax_return(oneup, **Q1_2025)
    assert found["collected"] == [{"rate": None, "base": D(1000), "tax": D(200)}]
    assert found["jurisdictions"] == [{"name": "Tax of no known rate", "rate": None, "taxable_sales": D(1000),
                                       "tax_collected": D(200)}]


def test_a_period_that_ends_before_it_starts_is_refused(oneup):
    response = oneup.get("/reports/tax_return?date_from=2025-04-01&date_to=2025-03-31")
    assert response.status_code == 400 and error_of(response)["code"] == "5"
