"""A deterministic plan of a realistic book: customers, items, invoices of 1 to 10 lines, payments
and manual transfers, drawn from one seed. The same seed and size always give the same plan.

The plan is pure data; `bench/load.py` writes it into an organization's book, and `bench/peers`
exports the loaded book to the plain-text formats of hledger, ledger and beancount.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from comptoir.domain.documents import Line, compute_totals
from comptoir.domain.money import CENT, round_minor

END = date(2025, 12, 31)  # the generated book covers the two years up to this day
DAYS = 730
TAX_RATE = Decimal("8.25")  # the US chart's "8.25% California Sales Tax", on taxed invoices
QUIPU_VAT_RATES = (Decimal(21), Decimal(10))  # the VAT of the Quipu scenario's items (scenarios.quipu_invoice)
VAT_RATES = (TAX_RATE, *QUIPU_VAT_RATES)  # every rate the load and the scenarios post tax at
TAXED_SHARE = 0.6
PAID_SHARE = 0.75  # invoices with a payment; a fifth of those are paid in part
TRANSFER_SHARE = 0.1  # of the entries: manual balanced 2-entry transfers between accounts
ENTRIES_PER_INVOICE = 2 + TAXED_SHARE + 2 * PAID_SHARE  # its posting, and its payment's when paid
INVOICES_PER_CUSTOMER = 20
WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Soylent", "Hooli", "Vandelay",
         "Cyberdyne", "Wonka", "Gringotts", "Monarch", "Oscorp", "Duff", "Nakatomi", "Aperture", "Massive", "Dynamic")
SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "SA", "Partners", "Group", "Holdings")
SERVICES = ("Consulting day", "Support hour", "Training session", "Audit", "Design", "Hosting month", "License seat",
            "Maintenance", "Installation", "Migration")


@dataclass(frozen=True)
class CustomerSpec:
    index: int
    name: str
    external_id: str
    email: str


@dataclass(frozen=True)
class ItemSpec:
    index: int
    name: str
    price: Decimal
    description: str


@dataclass(frozen=True)
class LineSpec:
    item: int  # index into the plan's items
    quantity: Decimal
    discount_rate: Decimal


@dataclass(frozen=True)
class InvoiceSpec:
    number: int  # 1-based, in creation order: the invoice's code is CINV-<number>
    customer: int
    on: date
    taxed: bool
    lines: tuple[LineSpec, ...]
    total: Decimal  # what compute_totals gives for these lines (the loader recomputes and checks)
    entries: int  # ledger entries its posting makes: receivable, income, and tax when taxed


@dataclass(frozen=True)
class PaymentSpec:
    invoice: int  # the InvoiceSpec.number it pays
    on: date
    amount: Decimal


@dataclass(frozen=True)
class TransferSpec:
    number: int
    on: date
    debit: int  # indexes into the postable accounts the loader finds in the chart
    credit: int
    amount: Decimal
    split_with: int | None = None  # a second credit account taking half the amount (3 entries)

    @property
    def entries(self) -> int:
        return 2 if self.split_with is None else 3


Event = InvoiceSpec | PaymentSpec | TransferSpec


@dataclass(frozen=True)
class Plan:
    seed: int
    entries: int
    customers: tuple[CustomerSpec, ...]
    items: tuple[ItemSpec, ...]
    accounts: int  # how many postable accounts the transfers choose among (the chart's first ones)

    def events(self) -> Iterator[Event]:
        """Invoices in date order over the period, each followed by its payment if it has one, then
        the transfers (random dates), until the book holds exactly `entries` ledger entries. The same
        plan always yields the same events."""
        rng = random.Random(f"{self.seed}:events")
        prices = [item.price for item in self.items]
        invoice_budget = int(self.entries * (1 - TRANSFER_SHARE))
        expected_invoices = max(1.0, invoice_budget / ENTRIES_PER_INVOICE)
        written = number = transfers = 0
        while self.entries - written >= 3 and written < invoice_budget:
            on = END - timedelta(days=DAYS - 1 - min(DAYS - 1, int(number * DAYS / expected_invoices)))
            number += 1
            invoice = _invoice(rng, number, len(self.customers), prices, on, taxed=rng.random() < TAXED_SHARE)
            if invoice.entries > self.entries - written:
                invoice = _invoice(rng, number, len(self.customers), prices, on, taxed=False)
            written += invoice.entries
            yield invoice
            if self.entries - written >= 2 and rng.random() < PAID_SHARE:
                amount = round_minor(invoice.total / 2, CENT) if rng.random() < 0.2 else invoice.total
                written += 2
                yield PaymentSpec(number, min(END, on + timedelta(days=rng.randint(0, 45))), amount)
        while self.entries - written >= 2:  # the rest: transfers, the last one of 3 entries if the rest is odd
            transfers += 1
            three = self.entries - written == 3
            written += 3 if three else 2
            yield _transfer(rng, transfers, END - timedelta(days=rng.randint(0, DAYS - 1)), self.accounts, three)

    def as_json(self) -> dict:
        return {"seed": self.seed, "entries": self.entries, "customers": len(self.customers), "items": len(self.items)}


def _invoice(rng: random.Random, number: int, customers: int, prices: list[Decimal], on: date, *,
             taxed: bool) -> InvoiceSpec:
    lines = []
    for _ in range(rng.randint(1, 10)):
        quantity = Decimal(rng.randint(1, 20)) if rng.random() < 0.8 else Decimal(rng.randint(1, 40)) / 4
        discount = Decimal(rng.choice((0, 0, 0, 0, 5, 10)))
        lines.append(LineSpec(rng.randrange(len(prices)), quantity, discount))
    totals = compute_totals([Line(line.quantity, prices[line.item], line.discount_rate,
                                  TAX_RATE if taxed else None) for line in lines], Decimal(0), CENT)  # in USD
    entries = 2 + (1 if totals.tax_amount else 0)
    return InvoiceSpec(number, rng.randrange(customers), on, taxed, tuple(lines), totals.total, entries)


def _transfer(rng: random.Random, number: int, on: date, accounts: int, three: bool = False) -> TransferSpec:
    debit, credit, other = rng.sample(range(accounts), 3)  # never the same account on two sides
    return TransferSpec(number, on, debit, credit, Decimal(rng.randint(100, 5_000_000)) / 100,
                        other if three else None)


def make_plan(entries: int, seed: int = 42, accounts: int = 12) -> Plan:
    rng = random.Random(f"{seed}:catalogue")
    invoices = max(1, int(entries * (1 - TRANSFER_SHARE)) // 4)
    customers = []
    for index in range(max(5, invoices // INVOICES_PER_CUSTOMER)):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)} {index + 1}"
        customers.append(CustomerSpec(index, name, f"cust-{index + 1:06d}", f"billing{index + 1}@example.com"))
    items = []
    for index in range(min(500, max(10, invoices // 100))):
        service = SERVICES[index % len(SERVICES)]
        price = Decimal(rng.randint(500, 200_000)) / 100
        items.append(ItemSpec(index, f"{service} {index + 1}", price, f"{service} ({index + 1})"))
    return Plan(seed, entries, tuple(customers), tuple(items), accounts)


def upflow_invoices(plan: Plan, count: int, *, prefix: str = "imp") -> Iterator[dict]:
    """`count` Upflow invoice payloads (POST /invoices bodies) for the plan's customers, deterministic."""
    rng = random.Random(f"{plan.seed}:upflow:{prefix}")
    for index in range(1, count + 1):
        on = END - timedelta(days=rng.randint(0, DAYS - 1))
        net = rng.randint(1_000, 5_000_000)
        gross = net + (round(net * 0.2) if rng.random() < 0.7 else 0)
        customer = plan.customers[rng.randrange(len(plan.customers))]
        yield {"externalId": f"{prefix}-{index:07d}", "customId": f"{prefix.upper()}-{index:07d}",
               "issuedAt": on.isoformat(), "dueDate": (on + timedelta(days=30)).isoformat(),
               "name": f"Services {on:%B %Y}", "currency": "USD", "netAmount": net, "grossAmount": gross,
               "customer": {"externalId": customer.external_id}}


def write_upflow_file(plan: Plan, count: int, path, *, prefix: str = "imp") -> None:
    with open(path, "w") as file:
        file.writelines(json.dumps(payload) + "\n" for payload in upflow_invoices(plan, count, prefix=prefix))
