"""OneUp v1 ledger: the chart (accounts), journals and accounting transactions, as the resources
seed describes them (seeds/oneup-v1-resources.txt, "Accounting Transactions", "Accounting journals",
"Accounts") with the error codes of the conventions seed, and the posting rules of the architecture
(a sales invoice posts receivable / income / tax payable). Everything goes through the real app over
HTTP; only closing a period, which has no OneUp endpoint, goes through the service layer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.closing import close_period
from comptoir.services.tenancy.organizations import create_organization

from ..helpers import OneUpClient, assert_reversed, book_snapshot, error_of

MISSING_ID = 2_000_000_000
MESSAGES = {
    "2": "The resource was not found.",
    "3": "The request does not respect the specification. Please see the documentation and double-check each field.",
    "3001": "Date is not included in the validity interval.",
    "3002": "Your entries are not balanced.",
    "3003": "The accounting entry is closed and cannot be edited nor deleted.",
    "3004": "The accounting entry is locked and cannot be edited nor deleted.",
    "3013": "A mandatory field is missing.",
    "3015": "Family accounts are not allowed.",
    "3019": "Amount should be strictly positive.",
    "5": "The request was not parsed. Please double-check the content of the request.",
}
DEFAULT_JOURNALS = {"Sales", "Purchases", "Bank", "Cash", "Miscellaneous Operations"}


# -- helpers -----------------------------------------------------------------------------------

def chart(oneup: OneUpClient) -> dict[str, dict]:
    """The organization's accounts by number."""
    return {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}


def journal_named(oneup: OneUpClient, name: str) -> dict:
    [journal] = [j for j in oneup.ok("GET", "/journals?limit=1000") if j["name"] == name]
    return journal


def line(account: dict, way: str, amount, **extra) -> dict:
    return {"account_id": account["id"], "way": way, "amount": Decimal(str(amount)), **extra}


def manual(oneup: OneUpClient, piece: str, on: str, *entries: dict, **fields) -> dict:
    return oneup.ok("POST", "/transactions", {"piece_number": piece, "date": on, "entries": list(entries), **fields})


def simple(oneup: OneUpClient, accounts: dict, piece: str, on: str, amount="100", **fields) -> dict:
    """Receivable against miscellaneous sales: the smallest balanced manual transaction."""
    return manual(oneup, piece, on, line(accounts["11100"], "debit", amount),
                  line(accounts["40150"], "credit", amount), **fields)


def close_books(context, org, until: date) -> None:
    with open_book(context.database, org.id) as book:
        close_period(book, until)


NOT_DELETABLE = "This object cannot be deleted."


def assert_error(response, status: int, code: str, message: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == code, error
    assert error["message"] == (message or MESSAGES[code])
    return error


def assert_refused(response, code: str, message: str | None = None) -> dict:
    return assert_error(response, 422, code, message)


def assert_not_deletable(response, reason_part: str) -> dict:
    error = assert_refused(response, "3", NOT_DELETABLE)
    assert reason_part in error["reason"], error
    return error


def assert_not_found(response) -> None:
    assert_error(response, 404, "2")


def tax_named(oneup: OneUpClient, name: str) -> dict:
    [tax] = [t for t in oneup.ok("GET", "/taxes") if t["name"] == name]
    return tax


def make_invoice(oneup: OneUpClient, on: str = "2024-01-15", quantity=2, price=50, tax_id=None) -> dict:
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    order_line = {"item_id": item["id"], "quantity": quantity, "unit_price_wt": price}
    if tax_id is not None:
        order_line["tax_id"] = tax_id
    return oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "date": on, "order_lines": [order_line]})


def transaction_of(oneup: OneUpClient, piece_number: str) -> dict:
    [transaction] = oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")
    return transaction


def by_account(transaction: dict) -> dict[int, dict]:
    return {entry["account_id"]: entry for entry in transaction["entries"]}


# -- the chart of accounts ---------------------------------------------------------------------

def test_the_default_chart_has_the_seed_accounts_in_their_families(oneup):
    accounts = chart(oneup)
    assert accounts["11100"]["name"] == "Accounts Receivable - Trade"
    assert accounts["21100"]["name"] == "Sales Tax Payable"
    assert accounts["40150"]["name"] == "Sales - Miscellaneous"
    for number in ("11100", "21100", "40150"):
        assert accounts[number]["is_family"] is False
    by_id = {account["id"]: account for account in accounts.values()}
    families = {number for number, account in accounts.items() if account["is_family"]}
    assert {"10000", "11000", "20000", "40000", "50000"} <= families
    # Every account that has a family points at a family account of the same chart.
    for account in accounts.values():
        if account["family_id"] is not None:
            assert by_id[account["family_id"]]["is_family"] is True, account
    assert accounts["11100"]["family_id"] == accounts["11000"]["id"]
    assert accounts["11000"]["family_id"] == accounts["10000"]["id"]
    assert by_id[accounts["21100"]["family_id"]]["number"] == "20000"
    assert by_id[accounts["40150"]["family_id"]]["number"] == "40000"
    assert set(accounts["11100"]) == {"id", "number", "name", "is_family", "family_id"}


def test_a_pcg_organization_has_the_french_chart_and_posts_to_it(client, context):
    french = create_organization(context.database, "Société Test", chart="pcg", currency="EUR", country="FR")
    oneup = OneUpClient(client, french)
    accounts = chart(oneup)
    assert {"401000", "411000", "445660", "445710", "706000"} <= set(accounts)
    assert accounts["411000"]["name"] == "Clients"
    assert accounts["445710"]["name"] == "TVA collectée"
    assert "11100" not in accounts
    assert all(not accounts[n]["is_family"] for n in ("401000", "411000", "445660", "445710", "706000"))
    # An invoice of that organization posts to the French accounts, in euros.
    invoice = make_invoice(oneup, quantity=1, price=100, tax_id=tax_named(oneup, "TVA 20%")["id"])
    transaction = transaction_of(oneup, invoice["user_code"])
    assert transaction["currency_iso_code"] == "EUR"
    entries = by_account(transaction)
    accounts = chart(oneup)  # with 445711 "TVA collectée 20 %", made by the invoice's first tax at 20 %
    assert entries[accounts["411000"]["id"]]["amount"] == Decimal(120)
    assert entries[accounts["411000"]["id"]]["way"] == "debit"
    assert entries[accounts["706000"]["id"]]["amount"] == Decimal(100)
    assert entries[accounts["445711"]["id"]]["amount"] == Decimal(20)
    assert entries[accounts["445711"]["id"]]["way"] == "credit"
    assert accounts["445711"]["name"] == "TVA collectée 20 %"


def french_oneup(client, context) -> tuple[OneUpClient, dict[str, dict]]:
    """A client of a new organization on the French chart, and its accounts by number."""
    french = create_organization(context.database, "Société Test", chart="pcg", currency="EUR",
                                 country="FR")
    oneup = OneUpClient(client, french)
    return oneup, chart(oneup)


def asset_numbers(sheet: dict) -> set[str]:
    return {account["number"] for account in sheet["asset"]["accounts"]}


def test_a_new_french_account_takes_its_nature_from_the_plan_not_from_its_family(client, context):
    """Issue 17 §2 (ADR 0020): on the French chart, 445620 "TVA sur immobilisations" is deductible VAT,
    a claim on the State (PCG art. 1214-44), so an asset, although its family, 4 "Comptes de tiers",
    is a liability. 100 of it against capital: the balance sheet's assets are those 100 (they were 0,
    the account counted among the liabilities)."""
    oneup, accounts = french_oneup(client, context)
    created = oneup.ok("POST", "/accounts", {"number": "445620", "name": "TVA sur immobilisations",
                                             "family_id": accounts["4"]["id"]})
    assert set(created) == {"id", "number", "name", "is_family", "family_id"}  # no nature on the wire
    capital = accounts["101000"]
    manual(oneup, "IMMO-1", "2024-03-01", line(created, "debit", 100), line(capital, "credit", 100))
    sheet = oneup.ok("GET", "/reports/balance_sheet?date=2024-03-31")
    assert "445620" in asset_numbers(sheet)
    assert sheet["total_assets"] == Decimal(100)


def test_a_french_account_renumbered_before_any_entry_takes_the_new_numbers_nature(client, context):
    """164100 (a bank loan: a liability) renumbered 218300 (office equipment) while it has no entry is
    an asset; 218400 (furniture) renumbered 164200 after an entry keeps its nature, so that the figures
    it holds stay where they were reported. Each holds 100 against capital: assets 100, then 200."""
    oneup, accounts = french_oneup(client, context)
    capital = accounts["101000"]
    loan = oneup.ok("POST", "/accounts", {"number": "164100", "name": "Prêt",
                                          "family_id": accounts["1"]["id"]})
    oneup.ok("PUT", f"/accounts/{loan['id']}", {"number": "218300"})
    manual(oneup, "EQ-1", "2024-03-01", line(loan, "debit", 100), line(capital, "credit", 100))
    sheet = oneup.ok("GET", "/reports/balance_sheet?date=2024-03-31")
    assert "218300" in asset_numbers(sheet)
    assert sheet["total_assets"] == Decimal(100)

    furniture = oneup.ok("POST", "/accounts", {"number": "218400", "name": "Mobilier",
                                               "family_id": accounts["1"]["id"]})
    manual(oneup, "EQ-2", "2024-03-02", line(furniture, "debit", 100), line(capital, "credit", 100))
    oneup.ok("PUT", f"/accounts/{furniture['id']}", {"number": "164200"})
    sheet = oneup.ok("GET", "/reports/balance_sheet?date=2024-03-31")
    assert {"218300", "164200"} <= asset_numbers(sheet)
    assert sheet["total_assets"] == Decimal(200)


def test_on_the_default_chart_a_new_account_takes_its_familys_nature(oneup):
    """The US chart has no rule by number: 44562 under Liabilities is a liability, whatever the PCG
    calls 44562. 100 of it against owner's equity leaves the assets at 0."""
    accounts = chart(oneup)
    created = oneup.ok("POST", "/accounts", {"number": "44562", "name": "Deposits held",
                                             "family_id": accounts["20000"]["id"]})
    manual(oneup, "DEP-1", "2024-03-01", line(created, "debit", 100), line(accounts["30100"], "credit", 100))
    sheet = oneup.ok("GET", "/reports/balance_sheet?date=2024-03-31")
    assert "44562" not in asset_numbers(sheet)
    assert sheet["total_assets"] == Decimal(0)


def test_accounts_crud_under_a_family(oneup):
    accounts = chart(oneup)
    expenses = accounts["50000"]
    created = oneup.ok("POST", "/accounts", {"number": "56200", "name": "Postage", "family_id": expenses["id"]})
    assert created["number"] == "56200" and created["name"] == "Postage"
    assert created["is_family"] is False and created["family_id"] == expenses["id"]
    assert oneup.ok("GET", f"/accounts/{created['id']}") == created
    assert oneup.ok("GET", "/accounts?number=eq:56200") == [created]

    updated = oneup.ok("PUT", f"/accounts/{created['id']}", {"name": "Postage and Stamps"})
    assert updated == {**created, "name": "Postage and Stamps"}
    assert oneup.ok("GET", f"/accounts/{created['id']}") == updated

    assert oneup.ok("DELETE", f"/accounts/{created['id']}") == updated
    assert_not_found(oneup.get(f"/accounts/{created['id']}"))
    assert "56200" not in chart(oneup)


def test_an_account_number_is_unique_in_the_organization(oneup, context, org):
    accounts = chart(oneup)
    before = book_snapshot(context, org.id)
    error = assert_refused(oneup.post("/accounts", {"number": "11100", "name": "Again",
                                                    "family_id": accounts["11000"]["id"]}), "3")
    assert "number" in error["reason"]
    assert book_snapshot(context, org.id) == before
    # Renaming an account onto a taken number is refused too.
    assert_refused(oneup.put(f"/accounts/{accounts['40100']['id']}", {"number": "40150"}), "3")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/accounts/{accounts['40100']['id']}")["number"] == "40100"


def test_another_organization_may_use_the_same_numbers(oneup, other_oneup):
    family = chart(oneup)["50000"]["id"]
    other_family = chart(other_oneup)["50000"]["id"]
    oneup.ok("POST", "/accounts", {"number": "56300", "name": "Mine", "family_id": family})
    other_oneup.ok("POST", "/accounts", {"number": "56300", "name": "Theirs", "family_id": other_family})


@pytest.mark.parametrize("family_number", ["11100", None])
def test_family_id_must_name_a_family_account(oneup, context, org, family_number):
    accounts = chart(oneup)
    family_id = accounts[family_number]["id"] if family_number else MISSING_ID
    before = book_snapshot(context, org.id)
    assert_refused(oneup.post("/accounts", {"number": "11101", "name": "Sub", "family_id": family_id}), "3")
    assert_refused(oneup.put(f"/accounts/{accounts['40100']['id']}", {"family_id": family_id}), "3")
    assert book_snapshot(context, org.id) == before


def test_is_family_is_read_only(oneup, context, org):
    accounts = chart(oneup)
    before = book_snapshot(context, org.id)
    assert_refused(oneup.put(f"/accounts/{accounts['40100']['id']}", {"is_family": True}), "3")
    assert_refused(oneup.put(f"/accounts/{accounts['40000']['id']}", {"is_family": False}), "3")
    assert book_snapshot(context, org.id) == before
    # Sending the current value is no change and is accepted.
    assert oneup.ok("PUT", f"/accounts/{accounts['40100']['id']}", {"is_family": False})["is_family"] is False
    assert oneup.ok("GET", f"/accounts/{accounts['40000']['id']}")["is_family"] is True


def test_an_account_with_closed_entries_keeps_its_number_and_family(oneup, context, org):
    """Issue 17 §1. Figures first: 200 of sales on 40150 in June 2024, books closed at 2024-12-31; moving
    40150 to the expenses' family, or renumbering it, would turn 2024's income of 200 into an expense.
    Both are refused (3003); its name may change; an account without closed entries may move."""
    accounts = chart(oneup)
    manual(oneup, "Y24", "2024-06-30", line(accounts["11100"], "debit", 200), line(accounts["40150"], "credit", 200))
    close_books(context, org, date(2024, 12, 31))
    sales = accounts["40150"]
    expenses_family = accounts["60100"]["family_id"]
    for change in ({"family_id": expenses_family}, {"number": "40159"}):
        refused = oneup.put(f"/accounts/{sales['id']}", change)
        assert error_of(refused)["code"] == "3003", refused.text
    renamed = oneup.ok("PUT", f"/accounts/{sales['id']}", {"name": "Sales - Other"})
    assert (renamed["number"], renamed["family_id"], renamed["name"]) == ("40150", sales["family_id"], "Sales - Other")
    unused = oneup.ok("PUT", f"/accounts/{accounts['40100']['id']}", {"number": "40109"})
    assert unused["number"] == "40109"
    trial = oneup.ok("GET", "/reports/trial_balance?date=2024-12-31")
    assert {row["number"]: row["balance"] for row in trial["accounts"]}["40150"] == Decimal(-200)


def test_an_account_with_entries_or_children_is_not_deleted(oneup, context, org):
    accounts = chart(oneup)
    manual(oneup, "P-1", "2024-01-10", line(accounts["11100"], "debit", 10), line(accounts["40100"], "credit", 10))
    used, unused, family = accounts["40100"], accounts["56100"], accounts["40000"]

    before = book_snapshot(context, org.id)
    assert_not_deletable(oneup.delete(f"/accounts/{used['id']}"), "Accounting Entry")
    assert_refused(oneup.delete(f"/accounts/{family['id']}"), "3", NOT_DELETABLE)  # it has children
    assert book_snapshot(context, org.id) == before

    result = oneup.ok("DELETE", f"/accounts?ids={used['id']},{unused['id']},{MISSING_ID}")
    assert result["success_count"] == 1 and result["error_count"] == 2
    assert [s["id"] for s in result["successes"]] == [unused["id"]]
    refused, missing = result["errors"]
    assert refused["id"] == used["id"]
    assert refused["error"]["status"] == 422 and refused["error"]["code"] == "3"
    assert refused["error"]["message"] == NOT_DELETABLE
    assert refused["error"]["reason"] == "The account cannot be deleted because it is referenced by: Accounting Entry"
    assert missing == {"id": MISSING_ID, "error": {"status": 404, "code": "2", "message": MESSAGES["2"]}}
    assert oneup.ok("GET", f"/accounts/{used['id']}") == used
    assert_not_found(oneup.get(f"/accounts/{unused['id']}"))


# -- journals ----------------------------------------------------------------------------------

def test_the_default_journals(oneup):
    journals = oneup.ok("GET", "/journals")
    assert {journal["name"] for journal in journals} == DEFAULT_JOURNALS
    assert len({journal["code"] for journal in journals}) == len(journals)
    for journal in journals:
        assert set(journal) == {"id", "name", "code"}


def test_journals_crud_with_unique_codes(oneup, context, org):
    created = oneup.ok("POST", "/journals", {"name": "Journal name", "code": "JN"})
    assert created == {"id": created["id"], "name": "Journal name", "code": "JN"}
    assert oneup.ok("GET", f"/journals/{created['id']}") == created
    updated = oneup.ok("PUT", f"/journals/{created['id']}", {"name": "Renamed"})
    assert updated == {**created, "name": "Renamed"}

    before = book_snapshot(context, org.id)
    assert_refused(oneup.post("/journals", {"name": "Another", "code": "JN"}), "3")
    sales = journal_named(oneup, "Sales")
    assert_refused(oneup.put(f"/journals/{created['id']}", {"code": sales["code"]}), "3")
    assert_refused(oneup.post("/journals", {"name": "No code"}), "3013")
    assert_refused(oneup.post("/journals", {"code": "NN"}), "3013")
    assert book_snapshot(context, org.id) == before

    assert oneup.ok("DELETE", f"/journals/{created['id']}") == updated
    assert_not_found(oneup.get(f"/journals/{created['id']}"))


def test_a_journal_used_by_a_transaction_is_not_deleted(oneup, context, org):
    journal = oneup.ok("POST", "/journals", {"name": "Journal name", "code": "JN"})
    transaction = simple(oneup, chart(oneup), "P-1", "2024-01-10", journal={"id": journal["id"]})
    assert transaction["journal"] == journal
    before = book_snapshot(context, org.id)
    assert_not_deletable(oneup.delete(f"/journals/{journal['id']}"), "Accounting Transaction")
    assert book_snapshot(context, org.id) == before
    # A deleted transaction is reversed, not removed (issue 17 §8): the journal still holds both.
    oneup.ok("DELETE", f"/transactions/{transaction['id']}")
    assert_not_deletable(oneup.delete(f"/journals/{journal['id']}"), "Accounting Transaction")
    # A journal that never held a transaction can go.
    unused = oneup.ok("POST", "/journals", {"name": "Unused", "code": "UN"})
    oneup.ok("DELETE", f"/journals/{unused['id']}")


# -- manual transactions -----------------------------------------------------------------------

def test_a_balanced_transaction_is_realized_in_miscellaneous_operations(oneup):
    accounts = chart(oneup)
    created = manual(oneup, "CINV-237", "2014-01-31",
                     line(accounts["11100"], "debit", "17578.65", label="Invoice Payment", lettering="CINV-237"),
                     line(accounts["40150"], "credit", "16238.92", label="Invoice Payment - Before taxes"),
                     line(accounts["21100"], "credit", "1339.73", label="Invoice Payment - Taxes"),
                     external_id="EXT-API-079")
    misc = journal_named(oneup, "Miscellaneous Operations")
    assert created["status"] == "Realized"
    assert created["journal"] == misc and created["journal_id"] == misc["id"]
    assert created["date"] == "2014-01-31" and created["piece_number"] == "CINV-237"
    assert created["external_id"] == "EXT-API-079"
    assert created["currency_iso_code"] == "USD"
    assert isinstance(created["transaction_code"], int)
    receivable, sales, tax = created["entries"]
    assert receivable == {"id": receivable["id"], "label": "Invoice Payment", "amount": Decimal("17578.65"),
                          "way": "debit", "account_id": accounts["11100"]["id"],
                          "account_label": "11100  ( Accounts Receivable - Trade )", "lettering": "CINV-237",
                          "locked": False, "tax_rate": None, "tax_base": None, "currency_iso_code": None,
                          "currency_amount": None, "exchange_rate": None}
    assert sales["account_label"] == "40150  ( Sales - Miscellaneous )"
    assert sales["amount"] == Decimal("16238.92") and sales["way"] == "credit"
    assert tax["account_label"] == "21100  ( Sales Tax Payable )"
    assert tax["amount"] == Decimal("1339.73")
    assert oneup.ok("GET", f"/transactions/{created['id']}") == created

    second = simple(oneup, accounts, "P-2", "2014-02-01")
    assert isinstance(second["transaction_code"], int)
    assert second["transaction_code"] != created["transaction_code"]


def test_amounts_are_rounded_half_up_to_two_decimals(oneup):
    accounts = chart(oneup)
    created = manual(oneup, "R-1", "2024-01-10", line(accounts["11100"], "debit", "10.005"),
                     line(accounts["40150"], "credit", "10.01"))
    assert [entry["amount"] for entry in created["entries"]] == [Decimal("10.01"), Decimal("10.01")]
    created = manual(oneup, "R-2", "2024-01-10", line(accounts["11100"], "debit", "2.344"),
                     line(accounts["40150"], "credit", "2.335"))
    assert [entry["amount"] for entry in created["entries"]] == [Decimal("2.34"), Decimal("2.34")]


def test_the_journal_can_be_chosen_by_reference_or_by_the_deprecated_journal_id(oneup):
    accounts = chart(oneup)
    cash = journal_named(oneup, "Cash")
    bank = journal_named(oneup, "Bank")
    assert simple(oneup, accounts, "J-1", "2024-01-10", journal={"id": cash["id"]})["journal"] == cash
    assert simple(oneup, accounts, "J-2", "2024-01-10", journal_id=bank["id"])["journal"] == bank
    assert_refused(oneup.post("/transactions", {
        "piece_number": "J-3", "date": "2024-01-10", "journal": {"id": MISSING_ID},
        "entries": [line(accounts["11100"], "debit", 1), line(accounts["40150"], "credit", 1)]}), "3")


REFUSALS = {
    "unbalanced": ("3002", lambda a: {"piece_number": "X", "entries": [
        line(a["11100"], "debit", "100"), line(a["40150"], "credit", "99.99")]}),
    "family account": ("3015", lambda a: {"piece_number": "X", "entries": [
        line(a["11000"], "debit", "100"), line(a["40150"], "credit", "100")]}),
    "zero amount": ("3019", lambda a: {"piece_number": "X", "entries": [
        line(a["11100"], "debit", "0"), line(a["40150"], "credit", "0")]}),
    "a zero entry beside balanced ones": ("3019", lambda a: {"piece_number": "X", "entries": [
        line(a["11100"], "debit", "5"), line(a["40150"], "credit", "5"), line(a["40100"], "credit", "0")]}),
    "negative amounts": ("3019", lambda a: {"piece_number": "X", "entries": [
        line(a["11100"], "debit", "-5"), line(a["40150"], "credit", "-5")]}),
    "no piece_number": ("3013", lambda a: {"entries": [
        line(a["11100"], "debit", "5"), line(a["40150"], "credit", "5")]}),
    "blank piece_number": ("3013", lambda a: {"piece_number": " ", "entries": [
        line(a["11100"], "debit", "5"), line(a["40150"], "credit", "5")]}),
    "another currency": ("3", lambda a: {"piece_number": "X", "currency_iso_code": "EUR", "entries": [
        line(a["11100"], "debit", "5"), line(a["40150"], "credit", "5")]}),
    "unknown account": ("3", lambda a: {"piece_number": "X", "entries": [
        {"account_id": MISSING_ID, "way": "debit", "amount": 5}, line(a["40150"], "credit", "5")]}),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_transaction_writes_nothing(oneup, context, org, case):
    code, body = REFUSALS[case]
    accounts = chart(oneup)
    before = book_snapshot(context, org.id)
    assert_refused(oneup.post("/transactions", {"date": "2024-01-10", **body(accounts)}), code)
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", "/transactions") == []


def test_put_replaces_the_entries_as_a_list(oneup):
    accounts = chart(oneup)
    created = manual(oneup, "L-1", "2024-01-10", line(accounts["11100"], "debit", 100),
                     line(accounts["40150"], "credit", 60), line(accounts["40100"], "credit", 40))
    kept, changed, dropped = created["entries"]
    updated = oneup.ok("PUT", f"/transactions/{created['id']}", {"entries": [
        {"id": kept["id"]},
        {"id": changed["id"], "label": "now labelled"},
        line(accounts["40200"], "credit", 40, label="added"),
    ]})
    assert len(updated["entries"]) == 3
    by_id = {entry["id"]: entry for entry in updated["entries"]}
    assert by_id[kept["id"]] == kept
    assert by_id[changed["id"]] == {**changed, "label": "now labelled"}
    assert dropped["id"] not in by_id
    [added] = [entry for entry in updated["entries"] if entry["id"] not in (kept["id"], changed["id"])]
    assert added["account_id"] == accounts["40200"]["id"] and added["label"] == "added"
    assert added["amount"] == Decimal(40) and added["way"] == "credit" and added["locked"] is False
    assert oneup.ok("GET", f"/transactions/{created['id']}") == updated

    # Moving amounts between existing entries is fine while they balance.
    updated = oneup.ok("PUT", f"/transactions/{created['id']}", {"entries": [
        {"id": kept["id"], "amount": 150}, {"id": changed["id"], "amount": 110}, {"id": added["id"]}]})
    assert [entry["amount"] for entry in updated["entries"]] == [Decimal(150), Decimal(110), Decimal(40)]
    # Missing fields are left as they are.
    renamed = oneup.ok("PUT", f"/transactions/{created['id']}", {"piece_number": "L-1b", "external_id": "E"})
    assert renamed["entries"] == updated["entries"] and renamed["piece_number"] == "L-1b"


def test_many_entries_are_written_and_replaced_in_their_order(oneup):
    """More entries than one multi-row INSERT takes on PostgreSQL (storage/statements.Inserts: one
    array per column): each kept with its own values, in the order sent, and the balances follow."""
    accounts = chart(oneup)
    debits = [line(accounts["11100"], "debit", f"{n}.{n:02d}", label=f"debit {n}", lettering=f"L{n}")
              for n in range(1, 25)]
    total = sum(entry["amount"] for entry in debits)
    created = manual(oneup, "MANY-1", "2024-03-01", *debits, line(accounts["40150"], "credit", total))
    sent = [(entry["label"], entry["amount"], entry.get("lettering")) for entry in debits]
    assert [(entry["label"], entry["amount"], entry["lettering"]) for entry in created["entries"][:24]] == sent

    credits = [line(accounts["40100"], "credit", f"{n}.50", label=f"credit {n}") for n in range(1, 31)]
    replaced = oneup.ok("PUT", f"/transactions/{created['id']}", {"entries": [
        line(accounts["11100"], "debit", sum(entry["amount"] for entry in credits), label="one debit"), *credits]})
    assert [(entry["label"], entry["amount"], entry["way"]) for entry in replaced["entries"]] == \
        [("one debit", Decimal("480.00"), "debit"), *((f"credit {n}", Decimal(f"{n}.50"), "credit") for n in range(1, 31))]
    assert oneup.ok("GET", f"/transactions/{created['id']}") == replaced
    trial = oneup.ok("GET", "/reports/trial_balance?date=2024-12-31")
    by_number = {row["number"]: row for row in trial["accounts"]}
    assert by_number["11100"]["debit"] == Decimal("480.00")
    assert by_number["40100"]["credit"] == Decimal("480.00")
    assert "40150" not in by_number or by_number["40150"]["credit"] == 0


def test_put_must_keep_the_transaction_balanced(oneup, context, org):
    accounts = chart(oneup)
    created = manual(oneup, "B-1", "2024-01-10", line(accounts["11100"], "debit", 100),
                     line(accounts["40150"], "credit", 100))
    debit, credit = created["entries"]
    before = book_snapshot(context, org.id)
    assert_refused(oneup.put(f"/transactions/{created['id']}", {"entries": [
        {"id": debit["id"], "amount": 120}, {"id": credit["id"]}]}), "3002")
    assert_refused(oneup.put(f"/transactions/{created['id']}", {"entries": [{"id": debit["id"]}]}), "3013")
    assert_refused(oneup.put(f"/transactions/{created['id']}", {"entries": [
        {"id": debit["id"]}, {"id": credit["id"]}, line(accounts["40100"], "credit", 5)]}), "3002")
    assert_refused(oneup.put(f"/transactions/{created['id']}", {"entries": [
        {"id": debit["id"]}, {"id": credit["id"], "account_id": accounts["40000"]["id"]}]}), "3015")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/transactions/{created['id']}") == created


def test_a_locked_entry_stays_locked_and_unchanged(oneup, context, org):
    accounts = chart(oneup)
    created = manual(oneup, "K-1", "2024-01-10", line(accounts["11100"], "debit", 100),
                     line(accounts["40150"], "credit", 100))
    debit, credit = created["entries"]
    locked = oneup.ok("PUT", f"/transactions/{created['id']}", {"entries": [
        {"id": debit["id"], "locked": True}, {"id": credit["id"]}]})
    assert [entry["locked"] for entry in locked["entries"]] == [True, False]

    before = book_snapshot(context, org.id)
    path = f"/transactions/{created['id']}"
    response = oneup.put(path, {"entries": [{"id": debit["id"], "locked": False}, {"id": credit["id"]}]})
    assert response.status_code == 422, response.text
    assert_refused(oneup.put(path, {"entries": [{"id": debit["id"], "amount": 90},
                                                {"id": credit["id"], "amount": 90}]}), "3004")
    assert_refused(oneup.put(path, {"entries": [{"id": debit["id"], "lettering": "AA"}, {"id": credit["id"]}]}),
                   "3004")
    assert_refused(oneup.put(path, {"entries": [{"id": debit["id"], "label": "new"}, {"id": credit["id"]}]}),
                   "3004")
    assert_refused(oneup.put(path, {"entries": [{"id": credit["id"]}, line(accounts["11100"], "debit", 100)]}),
                   "3004")
    assert_refused(oneup.put(path, {"date": "2024-01-11"}), "3004")
    assert_refused(oneup.delete(path), "3004")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", path) == locked

    # The entry beside it is still editable, and the lock survives it.
    lettered = oneup.ok("PUT", path, {"entries": [{"id": debit["id"]}, {"id": credit["id"], "lettering": "AB"}]})
    assert [entry["lettering"] for entry in lettered["entries"]] == [None, "AB"]
    assert [entry["locked"] for entry in lettered["entries"]] == [True, False]


def test_a_locked_entry_does_not_move_in_time_when_the_entries_are_resent(oneup, context, org):
    """Re-sending the entries unchanged with a new date moves the locked entry too: it must be refused
    exactly like the same date change sent alone."""
    accounts = chart(oneup)
    created = manual(oneup, "K-2", "2024-01-10", line(accounts["11100"], "debit", 100),
                     line(accounts["40150"], "credit", 100))
    debit, credit = created["entries"]
    path = f"/transactions/{created['id']}"
    locked = oneup.ok("PUT", path, {"entries": [{"id": debit["id"], "locked": True}, {"id": credit["id"]}]})
    before = book_snapshot(context, org.id)
    assert_refused(oneup.put(path, {"date": "2024-02-01", "entries": [{"id": debit["id"]}, {"id": credit["id"]}]}),
                   "3004")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", path)["date"] == locked["date"] == "2024-01-10"


def test_a_locked_entry_can_be_created_locked(oneup):
    accounts = chart(oneup)
    created = manual(oneup, "K-3", "2024-01-10", line(accounts["11100"], "debit", 5, locked=True),
                     line(accounts["40150"], "credit", 5))
    assert [entry["locked"] for entry in created["entries"]] == [True, False]
    assert_refused(oneup.delete(f"/transactions/{created['id']}"), "3004")


def test_a_closed_period_freezes_its_transactions(oneup, context, org):
    accounts = chart(oneup)
    january = simple(oneup, accounts, "C-1", "2024-01-10")
    last_day = simple(oneup, accounts, "C-2", "2024-01-31")
    february = simple(oneup, accounts, "C-3", "2024-02-10")
    close_books(context, org, date(2024, 1, 31))

    assert oneup.ok("GET", f"/transactions/{january['id']}")["status"] == "Closed"
    assert oneup.ok("GET", f"/transactions/{last_day['id']}")["status"] == "Closed"
    assert oneup.ok("GET", f"/transactions/{february['id']}")["status"] == "Realized"
    closed = [t["id"] for t in oneup.ok("GET", "/transactions?status=eq:Closed")]
    assert sorted(closed) == sorted([january["id"], last_day["id"]])

    before = book_snapshot(context, org.id)
    path = f"/transactions/{january['id']}"
    assert_refused(oneup.put(path, {"external_id": "late"}), "3003")
    assert_refused(oneup.put(path, {"date": "2024-02-15"}), "3003")
    assert_refused(oneup.delete(path), "3003")
    for day in ("2024-01-31", "2024-01-01", "2023-06-30"):
        assert_refused(oneup.post("/transactions", {"piece_number": "N", "date": day, "entries": [
            line(accounts["11100"], "debit", 1), line(accounts["40150"], "credit", 1)]}), "3001")
    assert_refused(oneup.put(f"/transactions/{february['id']}", {"date": "2024-01-20"}), "3001")
    result = oneup.ok("DELETE", f"/transactions?ids={january['id']}")
    assert result["success_count"] == 0 and result["errors"][0]["error"]["code"] == "3003"
    assert book_snapshot(context, org.id) == before

    # After the closing date, business goes on.
    assert simple(oneup, accounts, "C-4", "2024-02-01")["status"] == "Realized"
    assert oneup.ok("PUT", f"/transactions/{february['id']}", {"date": "2024-02-11"})["date"] == "2024-02-11"


def test_the_entries_of_a_closed_transaction_are_closed(oneup, context, org):
    """Lettering or locking an entry of a closed transaction is an edit of a closed entry: 3003,
    as for a transaction generated by a document (the date itself is not being changed)."""
    accounts = chart(oneup)
    january = simple(oneup, accounts, "C-1", "2024-01-10")
    close_books(context, org, date(2024, 1, 31))
    debit, credit = january["entries"]
    path = f"/transactions/{january['id']}"
    before = book_snapshot(context, org.id)
    assert_refused(oneup.put(path, {"entries": [{"id": debit["id"], "lettering": "Z"}, {"id": credit["id"]}]}),
                   "3003")
    assert_refused(oneup.put(path, {"entries": [{"id": debit["id"], "locked": True}, {"id": credit["id"]}]}),
                   "3003")
    assert book_snapshot(context, org.id) == before


# -- transactions generated by documents -------------------------------------------------------

def test_an_invoice_posts_receivable_income_and_tax(oneup):
    accounts = chart(oneup)
    tax = tax_named(oneup, "10% Federal Tax")
    invoice = make_invoice(oneup, on="2024-01-15", quantity=2, price=50, tax_id=tax["id"])
    assert invoice["total"] == Decimal(110)
    transaction = transaction_of(oneup, invoice["user_code"])
    assert transaction["status"] == "Realized"
    assert transaction["date"] == "2024-01-15"
    assert transaction["journal"]["name"] == "Sales"
    assert transaction["currency_iso_code"] == "USD"
    entries = by_account(transaction)
    accounts = chart(oneup)  # with 21100-1000 "Sales Tax Payable 10%", made by this first tax at 10 %
    assert set(entries) == {accounts[n]["id"] for n in ("11100", "40150", "21100-1000")}
    receivable = entries[accounts["11100"]["id"]]
    assert (receivable["way"], receivable["amount"], receivable["lettering"]) == ("debit", Decimal(110),
                                                                                  invoice["user_code"])
    assert receivable["account_label"] == "11100  ( Accounts Receivable - Trade )"
    income = entries[accounts["40150"]["id"]]
    assert (income["way"], income["amount"]) == ("credit", Decimal(100))
    tax_entry = entries[accounts["21100-1000"]["id"]]
    assert (tax_entry["way"], tax_entry["amount"]) == ("credit", Decimal(10))
    assert (tax_entry["tax_rate"], tax_entry["tax_base"]) == (Decimal(10), Decimal(100))
    assert (income["tax_rate"], income["tax_base"]) == (None, None)
    assert all(entry["locked"] is False for entry in transaction["entries"])


def test_an_untaxed_invoice_has_no_tax_entry(oneup):
    accounts = chart(oneup)
    invoice = make_invoice(oneup, quantity=3, price=Decimal("19.99"))
    transaction = transaction_of(oneup, invoice["user_code"])
    entries = by_account(transaction)
    assert set(entries) == {accounts["11100"]["id"], accounts["40150"]["id"]}
    assert entries[accounts["11100"]["id"]]["amount"] == entries[accounts["40150"]["id"]]["amount"] == Decimal("59.97")


def test_a_generated_transaction_takes_external_id_lettering_and_locks(oneup):
    invoice = make_invoice(oneup, tax_id=tax_named(oneup, "10% Federal Tax")["id"])
    transaction = transaction_of(oneup, invoice["user_code"])
    first, second, third = transaction["entries"]
    updated = oneup.ok("PUT", f"/transactions/{transaction['id']}", {
        "external_id": "EXT-1",
        "entries": [{"id": first["id"], "lettering": "LT-1"}, {"id": second["id"], "locked": True},
                    {"id": third["id"]}]})
    assert updated["external_id"] == "EXT-1"
    assert updated["entries"] == [{**first, "lettering": "LT-1"}, {**second, "locked": True}, third]
    assert {k: v for k, v in updated.items() if k not in ("external_id", "entries", "updated_at")} == \
        {k: v for k, v in transaction.items() if k not in ("external_id", "entries", "updated_at")}
    assert oneup.ok("GET", f"/transactions/{transaction['id']}") == updated
    # Sending the read-only values unchanged is no change.
    assert oneup.ok("PUT", f"/transactions/{transaction['id']}", {
        "date": transaction["date"], "piece_number": transaction["piece_number"],
        "entries": [{"id": e["id"], "amount": e["amount"], "way": e["way"], "account_id": e["account_id"]}
                    for e in updated["entries"]]})["entries"] == updated["entries"]


GENERATED_CHANGES = {
    "an amount": lambda t, a: {"entries": [{"id": t["entries"][0]["id"], "amount": 111},
                                           *({"id": e["id"]} for e in t["entries"][1:])]},
    "a way": lambda t, a: {"entries": [{"id": t["entries"][0]["id"], "way": "credit"},
                                       *({"id": e["id"]} for e in t["entries"][1:])]},
    "an account": lambda t, a: {"entries": [{"id": t["entries"][0]["id"], "account_id": a["11100"]["id"]
                                             if t["entries"][0]["account_id"] != a["11100"]["id"]
                                             else a["12000"]["id"]},
                                            *({"id": e["id"]} for e in t["entries"][1:])]},
    "the date": lambda t, a: {"date": "2024-01-16"},
    "the piece_number": lambda t, a: {"piece_number": "OTHER-1"},
    "the journal": lambda t, a: {"journal": {"id": a["_misc"]}},
    "an added entry": lambda t, a: {"entries": [*({"id": e["id"]} for e in t["entries"]),
                                                line(a["40100"], "credit", 1)]},
    "a removed entry": lambda t, a: {"entries": [{"id": e["id"]} for e in t["entries"][:-1]]},
    "no entries at all": lambda t, a: {"entries": []},
}


@pytest.mark.parametrize("change", list(GENERATED_CHANGES))
def test_a_generated_transaction_refuses_other_changes(oneup, context, org, change):
    accounts = chart(oneup)
    accounts["_misc"] = journal_named(oneup, "Miscellaneous Operations")["id"]
    invoice = make_invoice(oneup, tax_id=tax_named(oneup, "10% Federal Tax")["id"])
    transaction = transaction_of(oneup, invoice["user_code"])
    before = book_snapshot(context, org.id)
    body = {"external_id": "EXT-X", **GENERATED_CHANGES[change](transaction, accounts)}
    assert_refused(oneup.put(f"/transactions/{transaction['id']}", body), "3")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/transactions/{transaction['id']}") == transaction


def test_a_generated_transaction_is_not_deleted(oneup, context, org):
    invoice = make_invoice(oneup)
    transaction = transaction_of(oneup, invoice["user_code"])
    before = book_snapshot(context, org.id)
    response = oneup.delete(f"/transactions/{transaction['id']}")
    assert response.status_code == 422, response.text
    error_of(response)
    result = oneup.ok("DELETE", f"/transactions?ids={transaction['id']}")
    assert result["success_count"] == 0 and result["errors"][0]["error"]["status"] == 422
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/transactions/{transaction['id']}") == transaction


def test_a_locked_entry_freezes_the_invoice_that_generated_it(oneup, context, org):
    invoice = make_invoice(oneup, quantity=2, price=50)
    transaction = transaction_of(oneup, invoice["user_code"])
    receivable = transaction["entries"][0]
    oneup.ok("PUT", f"/transactions/{transaction['id']}", {"entries": [
        {"id": receivable["id"], "locked": True}, *({"id": e["id"]} for e in transaction["entries"][1:])]})

    before = book_snapshot(context, org.id)
    assert_refused(oneup.put(f"/invoices/{invoice['id']}", {"order_lines": [
        {"id": invoice["order_lines"][0]["id"], "quantity": 3}]}), "3004")
    assert_refused(oneup.delete(f"/invoices/{invoice['id']}"), "3004")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["total"] == Decimal(100)


def test_editing_an_invoice_rewrites_its_transaction(oneup):
    accounts = chart(oneup)
    invoice = make_invoice(oneup, quantity=2, price=50)
    transaction = transaction_of(oneup, invoice["user_code"])
    oneup.ok("PUT", f"/invoices/{invoice['id']}", {"order_lines": [
        {"id": invoice["order_lines"][0]["id"], "quantity": 3}]})
    rewritten = transaction_of(oneup, invoice["user_code"])
    assert rewritten["id"] == transaction["id"]
    entries = by_account(rewritten)
    assert entries[accounts["11100"]["id"]]["amount"] == Decimal(150)
    assert entries[accounts["40150"]["id"]]["amount"] == Decimal(150)


def test_a_closed_generated_transaction_is_not_edited(oneup, context, org):
    invoice = make_invoice(oneup, on="2024-01-15")
    transaction = transaction_of(oneup, invoice["user_code"])
    close_books(context, org, date(2024, 1, 31))
    closed = oneup.ok("GET", f"/transactions/{transaction['id']}")
    assert closed["status"] == "Closed"
    before = book_snapshot(context, org.id)
    path = f"/transactions/{transaction['id']}"
    assert_refused(oneup.put(path, {"entries": [{"id": e["id"], "lettering": "Q"} for e in transaction["entries"]]}),
                   "3003")
    # Like a closed manual transaction, whose external_id is refused with 3003 too.
    assert_refused(oneup.put(path, {"external_id": "late"}), "3003")
    assert book_snapshot(context, org.id) == before


# -- lists: filters, sorting, paging, bulk deletion ---------------------------------------------

def test_the_seed_filter_realized_transactions_of_one_journal_in_a_quarter(oneup, context, org):
    accounts = chart(oneup)
    journal = oneup.ok("POST", "/journals", {"name": "Journal name", "code": "JN"})
    misc = journal_named(oneup, "Miscellaneous Operations")

    def in_journal(piece, on, journal_id):
        return simple(oneup, accounts, piece, on, journal={"id": journal_id})["id"]

    in_journal("before", "2019-12-31", journal["id"])
    closed_in_quarter = in_journal("closed", "2020-01-10", journal["id"])
    february = in_journal("february", "2020-02-15", journal["id"])
    quarter_end = in_journal("quarter-end", "2020-03-31", journal["id"])
    in_journal("after", "2020-04-01", journal["id"])
    in_journal("other journal", "2020-02-15", misc["id"])
    close_books(context, org, date(2020, 1, 15))

    found = oneup.ok("GET", f"/transactions?journal_id=eq:{journal['id']}&status=eq:Realized"
                            f"&date=gte:2020-01-01&date=lte:2020-03-31")
    assert sorted(t["id"] for t in found) == sorted([february, quarter_end])
    assert all(t["status"] == "Realized" and t["journal"]["id"] == journal["id"] for t in found)

    all_in_quarter = oneup.ok("GET", f"/transactions?journal_id=eq:{journal['id']}"
                                     f"&date=gte:2020-01-01&date=lte:2020-03-31")
    assert sorted(t["id"] for t in all_in_quarter) == sorted([closed_in_quarter, february, quarter_end])
    assert len(oneup.ok("GET", "/transactions?date=gte:2020-01-01&date=lte:2020-03-31")) == 4
    assert [t["piece_number"] for t in oneup.ok("GET", f"/transactions?journal_id=not:{journal['id']}")] == \
        ["other journal"]


def test_sort_by_date_descending_and_paging(oneup):
    accounts = chart(oneup)
    days = ["2024-03-01", "2024-01-15", "2024-05-20", "2024-02-10", "2024-04-05"]
    for index, day in enumerate(days):
        simple(oneup, accounts, f"S-{index}", day)
    everything = oneup.ok("GET", "/transactions?sort=-date")
    assert [t["date"] for t in everything] == sorted(days, reverse=True)
    assert [t["date"] for t in oneup.ok("GET", "/transactions?sort=+date")] == sorted(days)

    pages, flags = [], []
    for offset in (0, 2, 4):
        response = oneup.get(f"/transactions?sort=-date&limit=2&offset={offset}")
        assert response.status_code == 200
        pages += [t["id"] for t in response.json()]
        flags.append(response.headers["X-OneUp-Has-Next-Page"])
    assert pages == [t["id"] for t in everything]
    assert flags == ["true", "true", "false"]
    assert_error(oneup.get("/transactions?sort=-amount"), 400, "5")
    assert_error(oneup.get("/transactions?date=gte:2024-13-01"), 400, "5")


def test_bulk_deletion_of_manual_transactions(oneup, context, org):
    accounts = chart(oneup)
    deletable = simple(oneup, accounts, "D-1", "2024-01-10")
    locked = manual(oneup, "D-2", "2024-01-10", line(accounts["11100"], "debit", 5, locked=True),
                    line(accounts["40150"], "credit", 5))
    result = oneup.ok("DELETE", f"/transactions?ids={deletable['id']},{locked['id']},{MISSING_ID}")
    assert result["success_count"] == 1 and result["error_count"] == 2
    assert result["successes"] == [deletable]
    refused, missing = result["errors"]
    assert refused["id"] == locked["id"]
    assert set(refused["error"]) == {"status", "code", "message", "reason"}
    assert refused["error"]["status"] == 422 and refused["error"]["code"] == "3004"
    assert refused["error"]["message"] == MESSAGES["3004"]
    assert missing == {"id": MISSING_ID, "error": {"status": 404, "code": "2", "message": MESSAGES["2"]}}
    # Deleted means reversed (issue 17 §8): it stays, beside the reversal that cancels it.
    assert_reversed(deletable, oneup.ok("GET", "/transactions?piece_number=eq:D-1"))
    assert oneup.ok("GET", f"/transactions/{locked['id']}") == locked


def test_deleting_a_manual_transaction(oneup):
    accounts = chart(oneup)
    created = manual(oneup, "X-1", "2024-01-10", line(accounts["11100"], "debit", 7),
                     line(accounts["40100"], "credit", 7))
    assert_refused(oneup.delete(f"/accounts/{accounts['40100']['id']}"), "3", NOT_DELETABLE)
    assert oneup.ok("DELETE", f"/transactions/{created['id']}") == created
    # Issue 17 §8: reversed, never removed. Both stay, the accounts with them; the reversed one
    # cannot change or be reversed again, nor can the reversal be deleted.
    both = oneup.ok("GET", "/transactions")
    reversal = assert_reversed(created, both)
    assert len(both) == 2
    assert oneup.ok("GET", f"/transactions/{created['id']}")["entries"] == created["entries"]
    assert_refused(oneup.delete(f"/transactions/{created['id']}"), "3003")
    assert_refused(oneup.put(f"/transactions/{created['id']}", {"piece_number": "X-2"}), "3003")
    refused = error_of(oneup.delete(f"/transactions/{reversal['id']}"))
    assert refused["code"] == "30" and "generated by a reversal" in refused["reason"], refused
    assert_refused(oneup.delete(f"/accounts/{accounts['40100']['id']}"), "3", NOT_DELETABLE)


# -- isolation ---------------------------------------------------------------------------------

def test_another_organization_cannot_touch_the_ledger(oneup, other_oneup, context, org):
    accounts = chart(oneup)
    journal = oneup.ok("POST", "/journals", {"name": "Journal name", "code": "JN"})
    transaction = simple(oneup, accounts, "A-1", "2024-01-10", journal={"id": journal["id"]})
    account = accounts["40150"]
    before = book_snapshot(context, org.id)

    for path, body in ((f"/accounts/{account['id']}", {"name": "Hacked"}),
                       (f"/journals/{journal['id']}", {"name": "Hacked"}),
                       (f"/transactions/{transaction['id']}", {"external_id": "hacked"})):
        assert_not_found(other_oneup.get(path))
        assert_not_found(other_oneup.put(path, body))
        assert_not_found(other_oneup.delete(path))
    for collection, row_id in (("accounts", account["id"]), ("journals", journal["id"]),
                               ("transactions", transaction["id"])):
        result = other_oneup.ok("DELETE", f"/{collection}?ids={row_id}")
        assert result["success_count"] == 0 and result["errors"][0]["error"]["code"] == "2"
    assert transaction["id"] not in [t["id"] for t in other_oneup.ok("GET", "/transactions")]
    assert journal["id"] not in [j["id"] for j in other_oneup.ok("GET", "/journals")]
    assert account["id"] not in [a["id"] for a in other_oneup.ok("GET", "/accounts?limit=1000")]

    # Nor write on A's accounts, journals or entries from its own book.
    assert_refused(other_oneup.post("/transactions", {"piece_number": "B-1", "date": "2024-01-10", "entries": [
        line(accounts["11100"], "debit", 5), line(accounts["40150"], "credit", 5)]}), "3")
    theirs = chart(other_oneup)
    assert_refused(other_oneup.post("/transactions", {"piece_number": "B-2", "date": "2024-01-10",
                                                      "journal": {"id": journal["id"]}, "entries": [
        line(theirs["11100"], "debit", 5), line(theirs["40150"], "credit", 5)]}), "3")
    own = simple(other_oneup, theirs, "B-3", "2024-01-10")
    assert_refused(other_oneup.put(f"/transactions/{own['id']}", {"entries": [
        {"id": transaction["entries"][0]["id"]}, {"id": own["entries"][1]["id"]}]}), "3")
    assert_refused(other_oneup.post("/accounts", {"number": "99999", "name": "Sub",
                                                  "family_id": accounts["10000"]["id"]}), "3")
    assert book_snapshot(context, org.id) == before
