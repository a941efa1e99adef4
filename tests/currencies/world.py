"""A dollar book that every dialect writes euros into, and the readings the currency tests share: a
EUR invoice issued through OneUp, Upflow or Quipu, paid through another dialect, and what the book
then holds, read over HTTP through OneUp's transactions and reports, Upflow's invoices and Quipu's.

The rates: 1 EUR = 1.10 USD from 2025-01-01, 1.20 from 2025-02-01 (a gain on what January invoiced),
1.05 from 2025-03-01 (a loss). Every invoice here says 110.00 EUR of work and 11.00 EUR of tax,
121.00 EUR in all: 133.10 USD when it is issued in January."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.helpers import OneUpClient, set_rates
from tests.oneup.sales_support import customer as oneup_customer
from tests.oneup.sales_support import item, tax_id
from tests.quipu.conftest import item as quipu_item
from tests.quipu.conftest import relationship

D = Decimal
ZERO = D(0)
RATES = (("2025-01-01", "1.10"), ("2025-02-01", "1.20"), ("2025-03-01", "1.05"))
ISSUED_ON = "2025-01-15"  # at 1.10
RATE_ON = {"2025-01-15": D("1.1"), "2025-02-10": D("1.2"), "2025-03-10": D("1.05")}
TOTAL_EUR, NET_EUR, TAX_EUR = D("121"), D("110"), D("11")
RECEIVABLE, UNDEPOSITED, INCOME = "11100", "10500", "40150"
EXCHANGE_GAIN, EXCHANGE_LOSS = "40900", "62800"


def set_the_rates(context: Any, org_id: int) -> None:
    for since, rate in RATES:
        set_rates(context, org_id, {"EUR": rate}, since=since)


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def usd(amount: Decimal) -> Decimal:
    """An amount in dollars, rounded half-up to the cent as the book converts it."""
    return amount.quantize(D("0.01"), rounding="ROUND_HALF_UP")


@dataclass(frozen=True)
class Invoice:
    """One invoice as each dialect names it: OneUp's and Quipu's id (the same document), its number,
    Upflow's id, and its customer's Upflow id."""

    dialect: str
    oneup_id: int
    number: str
    upflow_id: str
    customer_upflow_id: str


@dataclass
class Dialects:
    """The three dialects of one organization's book, and what reads it back."""

    oneup: OneUpClient
    upflow: Any
    quipu: Any

    # -- issuing a EUR invoice ---------------------------------------------------------------------

    def eur_customer(self, name: str = "Euro Buyer") -> dict:
        """A customer who pays in euros (its currency is EUR: OneUp's `currency_iso_code`; Quipu
        invoices it in its currency, having no currency of its own)."""
        return oneup_customer(self.oneup, name, currency_iso_code="EUR")

    def issue(self, dialect: str, on: str = ISSUED_ON) -> Invoice:
        """121.00 EUR (110.00 of work, 11.00 of tax) invoiced through `dialect` on `on`."""
        return {"oneup": self.issue_through_oneup, "upflow": self.issue_through_upflow,
                "quipu": self.issue_through_quipu}[dialect](on)

    def issue_through_oneup(self, on: str) -> Invoice:
        buyer = self.eur_customer()
        work = item(self.oneup, f"Work {uuid.uuid4().hex[:6]}", NET_EUR)
        made = self.oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": on,
                                                   "tax_id": tax_id(self.oneup, "10% Federal Tax"),
                                                   "order_lines": [{"item_id": work["id"], "quantity": 1}]})
        assert (made["currency_iso_code"], made["total"]) == ("EUR", TOTAL_EUR)
        return self.known("oneup", made["id"])

    def issue_through_upflow(self, on: str) -> Invoice:
        tag = uuid.uuid4().hex[:8]
        buyer = self.upflow.ok("POST", "/customers", {"externalId": f"C-{tag}", "name": f"Upflow Buyer {tag}"})
        made = self.upflow.ok("POST", "/invoices", {
            "externalId": f"INV-{tag}", "customId": f"UF-{tag}", "issuedAt": on, "dueDate": on, "currency": "EUR",
            "netAmount": cents(NET_EUR), "grossAmount": cents(TOTAL_EUR), "customer": {"id": buyer["id"]}})
        assert (made["currency"], made["grossAmount"]) == ("EUR", cents(TOTAL_EUR))
        [found] = self.oneup.ok("GET", f"/invoices?user_code=eq:{made['customId']}")
        return self.known("upflow", found["id"])

    def issue_through_quipu(self, on: str) -> Invoice:
        buyer = self.eur_customer()
        made = self.quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": on},
                                 {"contact": relationship("contacts", buyer["id"]),
                                  "items": {"data": [quipu_item("Work", str(NET_EUR), 1, 10)]}})
        assert made["attributes"]["total_amount"] == "121.0"
        return self.known("quipu", int(made["id"]))

    def known(self, dialect: str, oneup_id: int) -> Invoice:
        number = self.oneup.ok("GET", f"/invoices/{oneup_id}")["user_code"]
        [seen] = [row for row in self.upflow.ok("GET", "/invoices", params={"limit": 500})["invoices"]
                  if row["customId"] == number]
        return Invoice(dialect, oneup_id, number, seen["id"], seen["customer"]["id"])

    # -- paying it ---------------------------------------------------------------------------------

    def pay(self, dialect: str, invoice: Invoice, on: str, amount: Decimal = TOTAL_EUR) -> dict:
        """`amount` EUR of the invoice paid through `dialect` on `on` (Quipu: declared paid on that
        day, which pays what remained); the payment as OneUp shows it."""
        if dialect == "oneup":
            self.oneup.ok("POST", "/payments", {"invoice_id": invoice.oneup_id, "amount": amount, "date": on})
        elif dialect == "upflow":
            self.upflow.ok("POST", "/payments", {
                "externalId": f"PAY-{uuid.uuid4().hex[:8]}", "currency": "EUR", "amount": cents(amount),
                "validatedAt": on, "instrument": "WIRE_TRANSFER", "customer": {"id": invoice.customer_upflow_id},
                "linkedInvoices": [{"id": invoice.upflow_id, "amountLinked": cents(amount)}]})
        else:
            assert amount == self.oneup_invoice(invoice)["unpaid"], "paid_at pays what remains"
            self.quipu.ok("PATCH", f"/invoices/{invoice.oneup_id}", {"data": {
                "type": "invoices", "id": str(invoice.oneup_id), "attributes": {"paid_at": on}}})
        payment_id = self.oneup_invoice(invoice)["payments_id"][-1]
        return self.oneup.ok("GET", f"/payments/{payment_id}")

    # -- reading the book --------------------------------------------------------------------------

    def oneup_invoice(self, invoice: Invoice) -> dict:
        return self.oneup.ok("GET", f"/invoices/{invoice.oneup_id}")

    def upflow_invoice(self, invoice: Invoice) -> dict:
        return self.upflow.ok("GET", f"/invoices/{invoice.upflow_id}")

    def quipu_invoice(self, invoice: Invoice) -> dict:
        return self.quipu.ok("GET", f"/invoices/{invoice.oneup_id}")["data"]["attributes"]

    def numbers(self) -> dict[int, str]:
        return {account["id"]: account["number"] for account in self.oneup.ok("GET", "/accounts?limit=1000")}

    def entries(self, piece_number: str) -> list[tuple]:
        """(account number, way, amount, currency, currency amount, rate) of the one transaction of
        that piece number, sorted."""
        [transaction] = self.oneup.ok("GET", f"/transactions?piece_number=eq:{piece_number}")
        numbers = self.numbers()
        return sorted((numbers[e["account_id"]], e["way"], e["amount"], e["currency_iso_code"], e["currency_amount"],
                       e["exchange_rate"]) for e in transaction["entries"])

    def lettered(self, letter: str) -> list[dict]:
        """Every receivable entry of the book lettered `letter`."""
        receivable = {i for i, number in self.numbers().items() if number == RECEIVABLE}
        return [entry for transaction in self.oneup.ok("GET", "/transactions?limit=1000")
                for entry in transaction["entries"]
                if entry["account_id"] in receivable and entry["lettering"] == letter]

    def letter_of(self, invoice: Invoice) -> str:
        """The letter of the invoice's receivable entry."""
        [transaction] = self.oneup.ok("GET", f"/transactions?piece_number=eq:{invoice.number}")
        numbers = self.numbers()
        [entry] = [e for e in transaction["entries"] if numbers[e["account_id"]] == RECEIVABLE]
        return entry["lettering"]

    def trial_balance(self, on: str = "2025-12-31") -> dict[str, Decimal]:
        """The balance of each account, after checking that the trial balance is balanced in dollars."""
        trial = self.oneup.ok("GET", f"/reports/trial_balance?date={on}")
        assert trial["total_debit"] == trial["total_credit"], trial
        assert trial["total_balance"] == 0, trial
        assert sum((line["debit"] for line in trial["accounts"]), ZERO) == trial["total_debit"]
        return {line["number"]: line["balance"] for line in trial["accounts"]}


def signed(entries: list[dict], field: str) -> Decimal:
    """Debits minus credits of `field` (amount, in dollars; currency_amount, in euros)."""
    return sum(((entry[field] or ZERO) if entry["way"] == "debit" else -(entry[field] or ZERO) for entry in entries),
               ZERO)
