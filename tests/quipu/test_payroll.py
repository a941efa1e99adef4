"""Payroll in the book (issue 17 §3, docs/decisions/0022): a Quipu paysheet owes its net pay to the
employee on the wages-payable account (PCG 421000, 21400 on the default chart), not to suppliers
(401000, 20100), in the miscellaneous operations journal (OD); declaring it paid debits that same
account. Read back through OneUp, as an accountant's tool would. The figures were written first:

    gross pay 2,000 = net pay 1,570 + employee social security 130 + income tax withheld 300
    company social security 600, so social security payable 730 (130 + 600)
    debits 2,000 + 600 = 2,600 = credits 1,570 + 300 + 730
"""

from __future__ import annotations

from decimal import Decimal

from comptoir.services.tenancy.organizations import create_organization

from ..helpers import OneUpClient, assert_reversed
from .conftest import QuipuClient, relationship

PAYSHEET = {"kind": "expenses", "issue_date": "2024-03-31", "net_pay": "1570.00", "employee_ss_amount": "130.00",
            "employee_retention": "300.00", "company_ss_amount": "600.00"}


def pay(quipu: QuipuClient, **attributes) -> dict:
    employee = quipu.contact("Ana García", employee_number="E-1")
    return quipu.create("/paysheets", "paysheets", {**PAYSHEET, **attributes},
                        {"contact": relationship("contacts", employee["id"])})


def numbers(oneup: OneUpClient) -> dict[int, str]:
    return {account["id"]: account["number"] for account in oneup.ok("GET", "/accounts", params={"limit": 1000})}


def transactions(oneup: OneUpClient, piece_number: str) -> list[dict]:
    return [t for t in oneup.ok("GET", "/transactions", params={"limit": 1000}) if t["piece_number"] == piece_number]


def postings(oneup: OneUpClient, transaction: dict) -> dict[tuple[str, str], Decimal]:
    """A transaction's entries by (account number, way)."""
    by_number = numbers(oneup)
    found: dict[tuple[str, str], Decimal] = {}
    for entry in transaction["entries"]:
        key = (by_number[entry["account_id"]], entry["way"])
        found[key] = found.get(key, Decimal(0)) + Decimal(str(entry["amount"]))
    return found


def balance(oneup: OneUpClient, number: str) -> Decimal:
    """Debits minus credits of every entry on the account of that number, in every transaction."""
    by_number = numbers(oneup)
    return sum((Decimal(str(entry["amount"])) * (1 if entry["way"] == "debit" else -1)
                for transaction in oneup.ok("GET", "/transactions", params={"limit": 1000})
                for entry in transaction["entries"] if by_number[entry["account_id"]] == number), Decimal(0))


def french(client, context) -> tuple[QuipuClient, OneUpClient]:
    org = create_organization(context.database, "Société Paie", currency="EUR", country="FR", chart="pcg")
    return QuipuClient(client, org), OneUpClient(client, org)


def test_a_paysheet_owes_net_pay_on_421_in_the_od_journal_and_its_payment_settles_it(client, context):
    quipu, oneup = french(client, context)
    paysheet = pay(quipu)
    number = paysheet["attributes"]["number"]
    assert paysheet["attributes"]["gross_pay"] == "2000.0"
    [posted] = transactions(oneup, number)
    assert postings(oneup, posted) == {
        ("641000", "debit"): Decimal(2000), ("645000", "debit"): Decimal(600),
        ("421000", "credit"): Decimal(1570), ("442100", "credit"): Decimal(300),
        ("431000", "credit"): Decimal(730)}
    assert posted["journal"]["code"] == "OD"
    [wages] = [a for a in oneup.ok("GET", "/accounts", params={"limit": 1000}) if a["number"] == "421000"]
    assert wages["name"] == "Personnel - Rémunérations dues"
    assert (balance(oneup, "421000"), balance(oneup, "401000")) == (Decimal(-1570), Decimal(0))

    quipu.ok("PATCH", f"/paysheets/{paysheet['id']}", {"data": {"type": "paysheets", "attributes": {
        "paid_at": "2024-04-05"}}})
    [_, paid] = sorted(transactions(oneup, number), key=lambda t: t["id"])
    assert postings(oneup, paid) == {("421000", "debit"): Decimal(1570), ("511200", "credit"): Decimal(1570)}
    assert (paid["date"], paid["journal"]["code"]) == ("2024-04-05", "BQ")
    assert {entry["lettering"] for t in (posted, paid) for entry in t["entries"]
            if numbers(oneup)[entry["account_id"]] == "421000"} == {number}  # one lettered group, summing to 0
    assert (balance(oneup, "421000"), balance(oneup, "401000")) == (Decimal(0), Decimal(0))

    quipu.ok("PATCH", f"/paysheets/{paysheet['id']}", {"data": {"type": "paysheets", "attributes": {
        "net_pay": "1600.00"}}})  # the payment follows the amount while it is declared paid
    # The payment of 1570 is reversed (issue 17 §8), one of 1600 posted.
    [_, first_paid, reversal, paid] = sorted(transactions(oneup, number), key=lambda t: t["id"])
    assert assert_reversed(first_paid, [first_paid, reversal, paid]) == reversal
    assert postings(oneup, paid) == {("421000", "debit"): Decimal(1600), ("511200", "credit"): Decimal(1600)}
    quipu.ok("PATCH", f"/paysheets/{paysheet['id']}", {"data": {"type": "paysheets", "attributes": {
        "paid_at": None}}})
    assert len(transactions(oneup, number)) == 5 and balance(oneup, "421000") == Decimal(-1600)
    assert quipu.delete(f"/paysheets/{paysheet['id']}").status_code == 204
    assert len(transactions(oneup, number)) == 6 and balance(oneup, "421000") == Decimal(0)  # all reversed


def test_on_the_default_chart_net_pay_is_wages_payable_and_the_employee_no_vendor(quipu, oneup):
    paysheet = pay(quipu, paid_at="2024-03-28")  # paid before the paysheet's date: salaries often are
    number = paysheet["attributes"]["number"]
    [posted, paid] = sorted(transactions(oneup, number), key=lambda t: t["id"])
    assert postings(oneup, posted) == {
        ("64000", "debit"): Decimal(2000), ("64200", "debit"): Decimal(600),
        ("21400", "credit"): Decimal(1570), ("21200", "credit"): Decimal(300), ("21300", "credit"): Decimal(730)}
    assert posted["journal"]["name"] == "Miscellaneous Operations"
    assert postings(oneup, paid) == {("21400", "debit"): Decimal(1570), ("10500", "credit"): Decimal(1570)}
    assert paid["date"] == "2024-03-28"
    assert (balance(oneup, "21400"), balance(oneup, "20100")) == (Decimal(0), Decimal(0))
    [wages] = [a for a in oneup.ok("GET", "/accounts", params={"limit": 1000}) if a["number"] == "21400"]
    assert (wages["name"], numbers(oneup)[wages["family_id"]]) == ("Wages Payable", "20000")
    employee_id = int(paysheet["relationships"]["contact"]["data"]["id"])
    assert employee_id not in {vendor["id"] for vendor in oneup.ok("GET", "/vendors", params={"limit": 1000})}
    contact = quipu.ok("GET", f"/contacts/{employee_id}")["data"]["attributes"]
    assert (contact["is_supplier"], contact["is_employee"]) == (False, True)


def test_a_421000_the_book_already_has_becomes_the_wages_account(client, context):
    """A French book may hold 421000 already (made by hand, or by a OneConnect import): the paysheet
    posts to it rather than failing for want of a free number."""
    quipu, oneup = french(client, context)
    family = next(a for a in oneup.ok("GET", "/accounts", params={"limit": 1000}) if a["number"] == "4")
    made = oneup.ok("POST", "/accounts", {"number": "421000", "name": "Salaires à payer", "family_id": family["id"]})
    paysheet = pay(quipu)
    [posted] = transactions(oneup, paysheet["attributes"]["number"])
    assert postings(oneup, posted)[("421000", "credit")] == Decimal(1570)
    assert [a["id"] for a in oneup.ok("GET", "/accounts", params={"limit": 1000}) if a["number"] == "421000"] == [
        made["id"]]
