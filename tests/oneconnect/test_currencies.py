"""Issue 18 §1: OneConnect entry lines in another currency than the book's (docs/decisions/0028,
"OneConnect"). Each side's `amount` is in the book's currency; its `currency`, `currencyAmount` and
`currencyRate` are kept on the entry it posts; the rate a document carries is kept by the book for a
day it has none (source "document"), never over one it has; a line whose amount is not currencyAmount
x currencyRate to within one minor unit, or that gives the book's own currency a rate other than 1,
is refused with the reason. Lines all in one currency describe an invoice in it. Over HTTP, in the
French fixture's EUR book (`french_org`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson

from ..helpers import OneUpClient
from ..oneup.sales_support import customer, item
from .conftest import invalid_fields, problem_of

D = Decimal
ON = "2026-03-09"


def side(amount: Any, currency: str = "EUR", currency_amount: Any = None, rate: Any = 1) -> dict:
    return {"amount": D(str(amount)), "currency": currency,
            "currencyAmount": D(str(currency_amount if currency_amount is not None else amount)),
            "currencyRate": D(str(rate))}


def line(account: str, debit: dict, credit: dict, journal: str = "ACH", **more: Any) -> dict:
    return {"date": ON, "journal": journal, "account": account, "reference": "REF", "debit": debit, "credit": credit,
            **more}


def usd(amount: str, rate: str, book_amount: str) -> dict:
    """A side of `amount` USD at `rate`, `book_amount` EUR in the book."""
    return side(book_amount, "USD", amount, rate)


def purchase(debit_account: str = "60610000", *, given: dict | None = None, **vendor: Any) -> dict:
    """A supplier's invoice of 100 USD at 0.92 (92.00 EUR): supplies debited, the vendor credited."""
    given = given or usd("100", "0.92", "92.00")
    none = side(0, given["currency"], 0, given["currencyRate"])
    return {"data": {"lines": [
        line(debit_account, given, none, label="Supplies"),
        line("40100000", none, given, thirdParty="FRN-US", thirdPartyLabel="US Supplier", **vendor)]}}


def sale(given: dict, journal: str = "VT") -> dict:
    none = side(0, given["currency"], 0, given["currencyRate"])
    return {"data": {"lines": [line("41100000", given, none, journal, thirdParty="CLI-US", thirdPartyLabel="US Client"),
                               line("70600000", none, given, journal)]}}


def transaction_of(oneup: OneUpClient, piece_number: str) -> dict:
    [transaction] = oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")
    return transaction


def entries_of(transaction: dict) -> list[tuple]:
    return sorted((e["way"], e["amount"], e["currency_iso_code"], e["currency_amount"], e["exchange_rate"])
                  for e in transaction["entries"])


def rates_of(oneup: OneUpClient) -> list[tuple]:
    return [(r["currency"], r["date"], r["rate"], r["source"]) for r in oneup.ok("GET", "/exchange_rates")]


def test_a_usd_line_in_a_eur_book_keeps_its_dollars_and_its_rate(partner, client, french_org):
    oneup = OneUpClient(client, french_org)
    shown = partner.document(partner.deposited("purchase", externalReference="US-1", entries=purchase()))
    assert shown["documentState"] == "Accepted", shown
    transaction = transaction_of(oneup, "REF")
    assert transaction["currency_iso_code"] == "USD"  # the document's currency; amounts in the book's
    assert entries_of(transaction) == [("credit", D("92"), "USD", D("100"), D("0.92")),
                                       ("debit", D("92"), "USD", D("100"), D("0.92"))]
    assert rates_of(oneup) == [("USD", ON, D("0.92"), "document")]  # the book had none: it keeps the document's


def test_a_later_document_of_that_day_converts_at_the_rate_kept(partner, client, french_org):
    """The rate the first document carried is the book's for that day: a OneUp invoice in dollars of
    that day is booked at it; a second OneConnect document at another rate keeps its own, and
    changes nothing of the book's."""
    oneup = OneUpClient(client, french_org)
    partner.deposited("purchase", externalReference="US-1", entries=purchase())
    buyer = customer(oneup, currency_iso_code="USD")
    thing = {"item_id": item(oneup, "Thing", "50")["id"], "quantity": 1, "is_taxable": False}
    invoice = oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": ON, "order_lines": [thing]})
    assert {e[1:] for e in entries_of(transaction_of(oneup, invoice["user_code"]))} == {
        (D("46"), "USD", D("50"), D("0.92"))}

    second = purchase(given=usd("10", "0.93", "9.30"))
    for entry in second["data"]["lines"]:
        entry["documentReference"] = "REF-2"
    assert partner.document(partner.deposited("purchase", externalReference="US-2",
                                              entries=second))["documentState"] == "Accepted"
    assert {e[4] for e in entries_of(transaction_of(oneup, "REF-2"))} == {D("0.93")}
    assert rates_of(oneup) == [("USD", ON, D("0.92"), "document")]


def test_a_rate_the_book_has_is_never_overwritten(partner, client, french_org):
    oneup = OneUpClient(client, french_org)
    oneup.ok("POST", "/exchange_rates", {"currency": "USD", "date": "2026-03-01", "rate": D("0.9")})
    partner.deposited("purchase", externalReference="US-1", entries=purchase())
    oneup.ok("POST", "/exchange_rates", {"currency": "GBP", "date": ON, "rate": D("1.15")})
    partner.deposited("sales", externalReference="GB-1", entries=sale(side("117.00", "GBP", "100", "1.17")))
    assert rates_of(oneup) == [("GBP", ON, D("1.15"), "manual"), ("USD", "2026-03-01", D("0.9"), "manual")]
    # each document is booked at its own rate all the same: its amounts are the partner's
    assert {e[4] for e in entries_of(transaction_of(oneup, "REF"))} == {D("0.92")}
    assert {e[4] for e in entries_of(transaction_of(oneup, "GB-1"))} == {D("1.17")}


def test_lines_in_one_currency_describe_an_invoice_in_it_at_the_third_partys_rate(partner, client, french_org):
    oneup = OneUpClient(client, french_org)
    partner.deposited("sales", externalReference="INV-US", entries=sale(usd("100", "0.92", "92.00")))
    [invoice] = oneup.ok("GET", "/invoices?user_code=INV-US")
    assert (invoice["currency_iso_code"], invoice["total"], invoice["unpaid"]) == ("USD", 100, 100)
    # paid in dollars later at 0.95: the receivable leaves at the invoice's rate, 0.92, the rest is a gain
    oneup.ok("POST", "/exchange_rates", {"currency": "USD", "date": "2026-04-01", "rate": D("0.95")})
    payment = oneup.ok("POST", "/payments", {"invoice_id": invoice["id"], "amount": 100, "date": "2026-04-01"})
    numbers = {a["id"]: a["number"] for a in oneup.ok("GET", "/accounts?limit=1000")}
    [paid] = [t for t in oneup.ok("GET", "/transactions?date=2026-04-01") if t["piece_number"] == payment["user_code"]]
    assert sorted((numbers[e["account_id"]][:3], e["way"], e["amount"]) for e in paid["entries"]) == [
        ("411", "credit", D("92")), ("511", "debit", D("95")), ("766", "credit", D("3"))]
    assert oneup.ok("GET", f"/invoices/{invoice['id']}")["unpaid"] == 0


def test_lines_in_several_currencies_describe_an_invoice_in_the_books(partner, client, french_org):
    oneup = OneUpClient(client, french_org)
    none = side(0)
    entries = {"data": {"lines": [
        line("41100000", usd("100", "0.92", "92.00"), none, "VT", thirdParty="CLI-MIX"),
        line("41100000", side("23.40", "GBP", "20", "1.17"), none, "VT", thirdParty="CLI-MIX"),
        line("70600000", none, side("115.40"), "VT")]}}
    partner.deposited("sales", externalReference="INV-MIX", entries=entries)
    [invoice] = oneup.ok("GET", "/invoices?user_code=INV-MIX")
    assert (invoice["currency_iso_code"], invoice["total"]) == ("EUR", D("115.4"))
    assert entries_of(transaction_of(oneup, "INV-MIX")) == [
        ("credit", D("115.4"), None, None, None), ("debit", D("23.4"), "GBP", D("20"), D("1.17")),
        ("debit", D("92"), "USD", D("100"), D("0.92"))]
    assert rates_of(oneup) == [("GBP", ON, D("1.17"), "document"), ("USD", ON, D("0.92"), "document")]


def test_a_currency_the_organization_lacks_keeps_the_invoice_in_the_books(partner, client, french_org):
    oneup = OneUpClient(client, french_org)
    partner.deposited("sales", externalReference="INV-SEK", entries=sale(side("8.70", "SEK", "100", "0.087")))
    [invoice] = oneup.ok("GET", "/invoices?user_code=INV-SEK")
    assert (invoice["currency_iso_code"], invoice["total"]) == ("EUR", D("8.7"))
    assert {e[2:] for e in entries_of(transaction_of(oneup, "INV-SEK"))} == {("SEK", D("100"), D("0.087"))}
    assert rates_of(oneup) == [("SEK", ON, D("0.087"), "document")]


def as_json(entries: dict) -> Any:
    """The entries as plain JSON values (numbers as floats), for a JSON body."""
    return json.loads(simplejson.dumps(entries, use_decimal=True))


def _refused(partner, entries: dict) -> str:
    shown = partner.document(partner.deposited("purchase", entries=entries))
    assert shown["documentState"] == "Refused", shown
    return shown["rejectedReason"]


def test_a_line_off_by_more_than_a_cent_is_refused_and_keeps_no_rate(partner, client, french_org):
    assert _refused(partner, purchase(given=usd("100", "0.92", "92.02"))) == (
        "entries.data.lines[0].debit.amount: 92.02 EUR is not currencyAmount x currencyRate "
        "(100 USD x 0.92 = 92.00 EUR), to within 0.01; entries.data.lines[1].credit.amount: 92.02 EUR is not "
        "currencyAmount x currencyRate (100 USD x 0.92 = 92.00 EUR), to within 0.01")
    assert rates_of(OneUpClient(client, french_org)) == []
    # one cent off is the partner's rounding: accepted, booked as the partner sent it
    partner.deposited("purchase", externalReference="ROUNDED", entries=purchase(given=usd("100", "0.92", "92.01")))
    assert {e[1:] for e in entries_of(transaction_of(OneUpClient(client, french_org), "REF"))} == {
        (D("92.01"), "USD", D("100"), D("0.92"))}


def test_the_books_own_currency_at_a_rate_other_than_one_is_refused(partner):
    assert _refused(partner, purchase(given=side("120", "EUR", "100", "1.2"))) == (
        "entries.data.lines[0].debit.currencyRate: EUR is the book's currency: its rate is 1, not 1.2; "
        "entries.data.lines[1].credit.currencyRate: EUR is the book's currency: its rate is 1, not 1.2")
    assert "currencyAmount x currencyRate (100 EUR x 1" in _refused(partner, purchase(given=side("120", "EUR", "100")))


def test_money_the_book_cannot_keep_is_refused(partner):
    assert _refused(partner, purchase(given=side("92", "XYZ", "100", "0.92"))).startswith(
        "entries.data.lines[0].debit.currency: 'XYZ' is not an ISO 4217 currency code")
    assert _refused(partner, purchase(given=usd("100", "0", "0.01"))).startswith(
        "entries.data.lines[0].debit.currencyRate: must be greater than 0")
    assert _refused(partner, purchase(given=usd("100.001", "0.92", "92.00"))).startswith(
        "entries.data.lines[0].debit.currencyAmount: has more than 2 decimals (USD)")
    assert _refused(partner, purchase(given=usd("-100", "0.92", "92.00"))).startswith(
        "entries.data.lines[0].debit.currencyAmount: must not be negative")


def test_booking_a_waiting_document_with_an_inconsistent_line_is_400_and_it_keeps_waiting(partner, client,
                                                                                          french_org):
    document_id = partner.deposited("purchase", externalReference="WAIT-1")
    refused = partner.post_json(f"/documents/{document_id}/entries",
                                as_json(purchase(given=usd("100", "0.92", "95.00"))))
    assert invalid_fields(refused) == {"entries.data.lines[0].debit.amount", "entries.data.lines[1].credit.amount"}
    assert partner.document(document_id)["documentState"] == "Waiting"
    booked = partner.post_json(f"/documents/{document_id}/entries", as_json(purchase()))
    assert booked.status_code == 200 and booked.json()["documentState"] == "Accepted"
    assert rates_of(OneUpClient(client, french_org)) == [("USD", ON, D("0.92"), "document")]
    problem_of(partner.post_json(f"/documents/{document_id}/entries", as_json(purchase())), 409,
               "DOCUMENT_ALREADY_DECIDED")
