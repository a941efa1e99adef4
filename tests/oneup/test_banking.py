"""OneUp v1 banking: bank accounts and bank entries as the resources seed describes them
(seeds/oneup-v1-resources.txt, "Bank" and "Bank Entries"), what they post to the ledger, our
reconciliation extension (POST /bank_entries/{id}/reconcile), and payments made on a bank account.
Everything goes through the real app over HTTP."""

from __future__ import annotations

from decimal import Decimal

from ..helpers import OneUpClient, assert_reversed, book_snapshot, error_of

MISSING_ID = 2_000_000_000
MESSAGES = {
    "2": "The resource was not found.",
    "3": "The request does not respect the specification. Please see the documentation and double-check each field.",
    "3005": "The accounting entry is reconciled and cannot be edited nor deleted.",
    "3006": "Bank Entries with zero amount are not recorded.",
    "3013": "A mandatory field is missing.",
    "5": "The request was not parsed. Please double-check the content of the request.",
}
NOT_DELETABLE = "This object cannot be deleted."


# -- helpers -----------------------------------------------------------------------------------

def assert_error(response, status: int, code: str, message: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == code, error
    assert error["message"] == (message or MESSAGES[code])
    return error


def assert_refused(response, code: str, message: str | None = None) -> dict:
    return assert_error(response, 422, code, message)


def assert_not_found(response) -> None:
    assert_error(response, 404, "2")


def chart(oneup: OneUpClient) -> dict[str, dict]:
    return {account["number"]: account for account in oneup.ok("GET", "/accounts?limit=1000")}


def new_bank(oneup: OneUpClient, name: str = "Bank of the West", **fields) -> dict:
    return oneup.ok("POST", "/bank_accounts", {"name": name, **fields})


def bank_entry(oneup: OneUpClient, bank: dict, amount, on: str = "2024-03-01", **fields) -> dict:
    return oneup.ok("POST", "/bank_entries", {"bank_account_id": bank["id"], "posted_date": on,
                                              "transaction_date": on, "amount": Decimal(str(amount)),
                                              "description": "Statement line", **fields})


def transactions_touching(oneup: OneUpClient, account_id: int, on: str | None = None) -> list[dict]:
    """The transactions (of the given day) with an entry on the account."""
    query = f"/transactions?limit=1000&date=eq:{on}" if on else "/transactions?limit=1000"
    return [t for t in oneup.ok("GET", query) if any(e["account_id"] == account_id for e in t["entries"])]


def entry_on(transaction: dict, account_id: int) -> dict:
    [entry] = [e for e in transaction["entries"] if e["account_id"] == account_id]
    return entry


def balance(oneup: OneUpClient, bank: dict) -> Decimal:
    return oneup.ok("GET", f"/bank_accounts/{bank['id']}")["accounting_bank_balance"]


def ledger_balance(oneup: OneUpClient, account_id: int) -> Decimal:
    """Debits minus credits of every transaction on the account, as a client adds them up."""
    total = Decimal(0)
    for transaction in transactions_touching(oneup, account_id):
        for entry in transaction["entries"]:
            if entry["account_id"] == account_id:
                total += entry["amount"] if entry["way"] == "debit" else -entry["amount"]
    return total


def make_invoice(oneup: OneUpClient, on: str = "2024-01-15", quantity=2, price=50) -> dict:
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    return oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "date": on, "order_lines": [
        {"item_id": item["id"], "quantity": quantity, "unit_price_wt": price}]})


# -- bank accounts -----------------------------------------------------------------------------

def test_bank_accounts_crud(oneup):
    created = new_bank(oneup, account_number="748-94288-928")
    assert created["name"] == "Bank of the West" and created["account_number"] == "748-94288-928"
    assert created["currency"] == "USD"  # the organization's currency by default
    assert created["linked_to_provider"] is False
    assert created["accounting_bank_balance"] == 0
    assert oneup.ok("GET", f"/bank_accounts/{created['id']}") == created
    assert oneup.ok("GET", "/bank_accounts") == [created]

    updated = oneup.ok("PUT", f"/bank_accounts/{created['id']}", {
        "name": "Bank of the East", "bank_balance": Decimal("32487.09"), "bank_balance_date": "2015-02-20"})
    assert updated == {**created, "name": "Bank of the East", "bank_balance": Decimal("32487.09"),
                       "bank_balance_date": "2015-02-20"}
    assert oneup.ok("GET", f"/bank_accounts/{created['id']}") == updated

    euros = new_bank(oneup, "Euro account", currency="EUR")
    assert euros["currency"] == "EUR"
    assert oneup.ok("GET", "/bank_accounts?currency=eq:EUR") == [euros]
    assert oneup.ok("GET", "/bank_accounts?sort=-id") == [euros, updated]


def test_each_bank_account_has_its_own_ledger_account(oneup):
    accounts = chart(oneup)
    bank = new_bank(oneup)
    other = new_bank(oneup, "Second bank")
    assert bank["account_id"] != other["account_id"]
    for account_id, name in ((bank["account_id"], bank["name"]), (other["account_id"], other["name"])):
        ledger_account = oneup.ok("GET", f"/accounts/{account_id}")
        assert ledger_account["is_family"] is False
        assert ledger_account["family_id"] == accounts["10100"]["id"]  # Cash and Bank
        assert ledger_account["name"] == name


def test_an_unused_bank_account_is_deleted_with_its_ledger_account(oneup):
    bank = new_bank(oneup)
    kept = new_bank(oneup, "Second bank")
    assert oneup.ok("DELETE", f"/bank_accounts/{bank['id']}") == bank
    assert_not_found(oneup.get(f"/bank_accounts/{bank['id']}"))
    assert oneup.ok("GET", "/bank_accounts") == [kept]
    assert_not_found(oneup.get(f"/accounts/{bank['account_id']}"))
    assert oneup.ok("GET", f"/accounts/{kept['account_id']}")["name"] == "Second bank"
    result = oneup.ok("DELETE", f"/bank_accounts?ids={kept['id']}")
    assert result["success_count"] == 1 and result["error_count"] == 0


def test_bank_account_writes_that_are_refused(oneup, context, org):
    bank = new_bank(oneup)
    before = book_snapshot(context, org.id)
    assert_refused(oneup.post("/bank_accounts", {"account_number": "1"}), "3013")
    assert_refused(oneup.post("/bank_accounts", {"name": "X", "currency": "XYZ"}), "3")
    assert_refused(oneup.put(f"/bank_accounts/{bank['id']}", {"currency": "XYZ"}), "3")
    assert_refused(oneup.put(f"/bank_accounts/{bank['id']}", {"accounting_bank_balance": 100}), "3")
    assert book_snapshot(context, org.id) == before
    # The read-only balance sent unchanged is no change.
    assert oneup.ok("PUT", f"/bank_accounts/{bank['id']}", {"accounting_bank_balance": 0, "name": "Renamed"}) == \
        {**bank, "name": "Renamed"}


def test_the_accounting_balance_is_the_ledger_balance(oneup, context, org):
    bank = new_bank(oneup, bank_balance=Decimal(500))
    bank_entry(oneup, bank, "100", on="2024-03-01")
    bank_entry(oneup, bank, "-30.5", on="2024-03-02")
    current = oneup.ok("GET", f"/bank_accounts/{bank['id']}")
    assert current["accounting_bank_balance"] == Decimal("69.5")
    assert current["bank_balance"] == Decimal(500)  # the statement balance is the client's own figure
    assert ledger_balance(oneup, bank["account_id"]) == Decimal("69.5")

    # It stays read-only: a different value is refused, and nothing changes.
    before = book_snapshot(context, org.id)
    assert_refused(oneup.put(f"/bank_accounts/{bank['id']}", {"accounting_bank_balance": 70}), "3")
    assert book_snapshot(context, org.id) == before
    # A manual transaction on the bank's ledger account counts as well.
    accounts = chart(oneup)
    oneup.ok("POST", "/transactions", {"piece_number": "FEE-1", "date": "2024-03-03", "entries": [
        {"account_id": accounts["62700"]["id"], "way": "debit", "amount": Decimal("4.5")},
        {"account_id": bank["account_id"], "way": "credit", "amount": Decimal("4.5")}]})
    assert balance(oneup, bank) == Decimal(65) == ledger_balance(oneup, bank["account_id"])


# -- bank entries ------------------------------------------------------------------------------

def test_a_bank_entry_of_zero_is_not_recorded(oneup, context, org):
    bank = new_bank(oneup)
    before = book_snapshot(context, org.id)
    for amount in ("0", "0.00", "0.004"):
        response = oneup.post("/bank_entries", {"bank_account_id": bank["id"], "posted_date": "2024-03-01",
                                                "transaction_date": "2024-03-01", "amount": Decimal(amount),
                                                "description": "Nothing"})
        assert_refused(response, "3006")
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", "/bank_entries") == []


def test_bank_entries_that_are_refused(oneup, context, org):
    bank = new_bank(oneup)
    before = book_snapshot(context, org.id)
    body = {"bank_account_id": bank["id"], "posted_date": "2024-03-01", "transaction_date": "2024-03-01",
            "amount": 10, "description": "Line"}
    for missing in ("bank_account_id", "posted_date", "transaction_date", "amount", "description"):
        assert_refused(oneup.post("/bank_entries", {k: v for k, v in body.items() if k != missing}), "3013")
    assert_refused(oneup.post("/bank_entries", {**body, "bank_account_id": MISSING_ID}), "3")
    assert book_snapshot(context, org.id) == before


def test_money_in_debits_the_bank_and_money_out_credits_it(oneup):
    bank = new_bank(oneup)
    incoming = bank_entry(oneup, bank, "100", on="2024-03-01", external_id="EXT-API-093",
                          description="Customer transfer")
    assert incoming["amount"] == Decimal(100) and incoming["currency_iso_code"] == "USD"
    assert incoming["bank_account_id"] == bank["id"] and incoming["description"] == "Customer transfer"
    assert incoming["external_id"] == "EXT-API-093"
    assert oneup.ok("GET", f"/bank_entries/{incoming['id']}") == incoming

    [posted] = transactions_touching(oneup, bank["account_id"], "2024-03-01")
    assert posted["journal"]["name"] == "Bank"
    bank_side = entry_on(posted, bank["account_id"])
    assert (bank_side["way"], bank_side["amount"]) == ("debit", Decimal(100))
    [other_side] = [e for e in posted["entries"] if e["account_id"] != bank["account_id"]]
    assert (other_side["way"], other_side["amount"]) == ("credit", Decimal(100))

    outgoing = bank_entry(oneup, bank, "-133.94", on="2024-03-02", description="Walmart - Credit card payment")
    assert outgoing["amount"] == Decimal("-133.94")
    [posted] = transactions_touching(oneup, bank["account_id"], "2024-03-02")
    bank_side = entry_on(posted, bank["account_id"])
    assert (bank_side["way"], bank_side["amount"]) == ("credit", Decimal("133.94"))
    [other_side] = [e for e in posted["entries"] if e["account_id"] != bank["account_id"]]
    assert (other_side["way"], other_side["amount"]) == ("debit", Decimal("133.94"))

    assert [e["id"] for e in oneup.ok("GET", f"/bank_entries?bank_account_id=eq:{bank['id']}&amount=lt:0")] == \
        [outgoing["id"]]


def test_bank_entries_have_no_put(oneup, context, org):
    bank = new_bank(oneup)
    entry = bank_entry(oneup, bank, "100")
    before = book_snapshot(context, org.id)
    response = oneup.put(f"/bank_entries/{entry['id']}", {"amount": 200})
    assert response.status_code == 405, response.text
    assert error_of(response)["status"] == 405
    assert book_snapshot(context, org.id) == before


def test_deleting_a_bank_entry_reverses_its_transaction(oneup):
    bank = new_bank(oneup)
    kept = bank_entry(oneup, bank, "100", on="2024-03-01")
    entry = bank_entry(oneup, bank, "-30.5", on="2024-03-02")
    [posted] = transactions_touching(oneup, bank["account_id"], "2024-03-02")
    assert oneup.ok("DELETE", f"/bank_entries/{entry['id']}") == entry
    assert_not_found(oneup.get(f"/bank_entries/{entry['id']}"))
    assert_reversed(posted, transactions_touching(oneup, bank["account_id"], "2024-03-02"))  # issue 17 §8
    assert balance(oneup, bank) == Decimal(100)
    assert oneup.ok("GET", "/bank_entries") == [kept]


def test_a_bank_account_with_entries_is_not_deleted(oneup, context, org):
    bank = new_bank(oneup)
    bank_entry(oneup, bank, "100")
    before = book_snapshot(context, org.id)
    error = assert_refused(oneup.delete(f"/bank_accounts/{bank['id']}"), "3", NOT_DELETABLE)
    assert "Bank Entry" in error["reason"]
    assert book_snapshot(context, org.id) == before


def test_a_bank_account_whose_ledger_account_holds_entries_is_not_deleted(oneup, context, org):
    accounts = chart(oneup)
    bank = new_bank(oneup)
    oneup.ok("POST", "/transactions", {"piece_number": "FEE-1", "date": "2024-03-03", "entries": [
        {"account_id": accounts["62700"]["id"], "way": "debit", "amount": 3},
        {"account_id": bank["account_id"], "way": "credit", "amount": 3}]})
    before = book_snapshot(context, org.id)
    error = assert_refused(oneup.delete(f"/bank_accounts/{bank['id']}"), "3", NOT_DELETABLE)
    assert "Accounting Entry" in error["reason"]
    result = oneup.ok("DELETE", f"/bank_accounts?ids={bank['id']}")
    assert result["success_count"] == 0 and result["errors"][0]["error"]["code"] == "3"
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/bank_accounts/{bank['id']}")["accounting_bank_balance"] == Decimal(-3)


def test_a_reconciled_entry_is_frozen(oneup, context, org):
    bank = new_bank(oneup)
    entry = bank_entry(oneup, bank, "-30.5", on="2024-03-02")
    [posted] = transactions_touching(oneup, bank["account_id"], "2024-03-02")
    assert oneup.ok("POST", f"/bank_entries/{entry['id']}/reconcile") == entry

    before = book_snapshot(context, org.id)
    assert_refused(oneup.delete(f"/bank_entries/{entry['id']}"), "3005")
    bank_side = entry_on(posted, bank["account_id"])
    assert_refused(oneup.put(f"/transactions/{posted['id']}", {"entries": [
        {"id": e["id"], **({"lettering": "REC-1"} if e["id"] == bank_side["id"] else {})}
        for e in posted["entries"]]}), "3005")
    assert_refused(oneup.put(f"/transactions/{posted['id']}", {"entries": [
        {"id": e["id"], "lettering": "REC-1"} for e in posted["entries"]]}), "3005")
    result = oneup.ok("DELETE", f"/bank_entries?ids={entry['id']}")
    assert result["success_count"] == 0 and result["errors"][0]["error"]["code"] == "3005"
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/bank_entries/{entry['id']}") == entry
    assert oneup.ok("GET", f"/transactions/{posted['id']}") == posted
    assert_not_found(oneup.post(f"/bank_entries/{MISSING_ID}/reconcile"))


def test_an_unreconciled_bank_transaction_takes_lettering(oneup):
    bank = new_bank(oneup)
    bank_entry(oneup, bank, "100", on="2024-03-01")
    [posted] = transactions_touching(oneup, bank["account_id"], "2024-03-01")
    updated = oneup.ok("PUT", f"/transactions/{posted['id']}", {"entries": [
        {"id": e["id"], "lettering": "L-1"} for e in posted["entries"]]})
    assert [e["lettering"] for e in updated["entries"]] == ["L-1", "L-1"]


def test_a_payment_on_a_bank_account_posts_to_that_bank(oneup, context, org):
    accounts = chart(oneup)
    bank = new_bank(oneup)
    other_bank = new_bank(oneup, "Other bank")
    invoice = make_invoice(oneup, quantity=2, price=50)
    payment = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": 40, "bank_id": bank["id"],
                                             "date": "2024-01-20"})
    assert payment["bank_id"] == bank["id"] and payment["amount"] == Decimal(40)
    [posted] = oneup.ok("GET", f"/transactions?piece_number=eq:{payment['user_code']}")
    assert posted["date"] == "2024-01-20"
    bank_side = entry_on(posted, bank["account_id"])
    assert (bank_side["way"], bank_side["amount"]) == ("debit", Decimal(40))
    receivable = entry_on(posted, accounts["11100"]["id"])
    assert (receivable["way"], receivable["amount"], receivable["lettering"]) == \
        ("credit", Decimal(40), invoice["user_code"])
    assert balance(oneup, bank) == Decimal(40)
    assert balance(oneup, other_bank) == Decimal(0)
    assert oneup.ok("GET", f"/payments?bank_id=eq:{bank['id']}") == [payment]

    # The bank account is now in use.
    before = book_snapshot(context, org.id)
    assert_refused(oneup.delete(f"/bank_accounts/{bank['id']}"), "3", NOT_DELETABLE)
    # A payment in another currency than its bank account's is refused.
    euros = new_bank(oneup, "Euro account", currency="EUR")
    after_euros = book_snapshot(context, org.id)
    assert_refused(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": 10, "bank_id": euros["id"],
                                            "date": "2024-01-21"}), "3")
    assert_refused(oneup.post("/payments", {"invoice_id": invoice["id"], "amount": 10, "bank_id": MISSING_ID,
                                            "date": "2024-01-21"}), "3")
    assert book_snapshot(context, org.id) == after_euros
    assert before["payments"] == after_euros["payments"]


def test_a_payment_without_bank_does_not_touch_the_banks(oneup):
    bank = new_bank(oneup)
    invoice = make_invoice(oneup)
    payment = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": 25, "date": "2024-01-20"})
    assert payment["bank_id"] is None
    assert balance(oneup, bank) == Decimal(0)


# -- isolation ---------------------------------------------------------------------------------

def test_another_organization_cannot_touch_the_banks(oneup, other_oneup, context, org):
    bank = new_bank(oneup)
    entry = bank_entry(oneup, bank, "100")
    invoice_of_b = make_invoice(other_oneup)
    before = book_snapshot(context, org.id)

    for path, body in ((f"/bank_accounts/{bank['id']}", {"name": "Hacked", "bank_balance": 1}),
                       (f"/bank_entries/{entry['id']}", None)):
        assert_not_found(other_oneup.get(path))
        if body is not None:
            assert_not_found(other_oneup.put(path, body))
        assert_not_found(other_oneup.delete(path))
    for collection, row_id in (("bank_accounts", bank["id"]), ("bank_entries", entry["id"])):
        result = other_oneup.ok("DELETE", f"/{collection}?ids={row_id}")
        assert result["success_count"] == 0 and result["errors"][0]["error"]["code"] == "2"
    assert_not_found(other_oneup.post(f"/bank_entries/{entry['id']}/reconcile"))
    assert other_oneup.ok("GET", "/bank_accounts") == []
    assert other_oneup.ok("GET", "/bank_entries") == []

    assert_refused(other_oneup.post("/bank_entries", {"bank_account_id": bank["id"], "posted_date": "2024-03-01",
                                                      "transaction_date": "2024-03-01", "amount": 5,
                                                      "description": "Into A's bank"}), "3")
    assert_refused(other_oneup.post("/payments", {"invoice_id": invoice_of_b["id"], "amount": 5,
                                                  "bank_id": bank["id"], "date": "2024-01-20"}), "3")
    assert_refused(other_oneup.post("/transactions", {"piece_number": "B-1", "date": "2024-03-01", "entries": [
        {"account_id": bank["account_id"], "way": "debit", "amount": 5},
        {"account_id": chart(other_oneup)["40150"]["id"], "way": "credit", "amount": 5}]}), "3")
    assert book_snapshot(context, org.id) == before
    assert balance(oneup, bank) == Decimal(100)
