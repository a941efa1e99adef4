"""The HTTP scenarios: what each client sends, and the targets of issue 8 §4 they are held against."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .generate import DAYS, END
from .load import BookInfo
from .loadgen import Request, json_body

LIST_PAGE = 50


@dataclass(frozen=True)
class Target:
    """A goal from issue 8 §4: a throughput at least `value` per second, or a latency at most
    `value` ms at the percentile `metric` names."""

    metric: str  # "throughput", "p50" or "p99"
    value: float
    text: str

    def ratio(self, summary: dict) -> float | None:
        """Above 1 when the target is met: measured/target for throughput, target/measured for latency."""
        if self.metric == "throughput":
            measured = summary["throughput_per_s"]
            return measured / self.value if self.value else None
        measured = summary[f"{self.metric}_ms"]
        return self.value / measured if measured else None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    concurrency: int
    target: Target | None
    make: Callable[[BookInfo, int, str], Callable[[int, int], Request]]  # (book, seed, run id) -> factory


def _oneup_headers(book: BookInfo) -> dict[str, str]:
    token = base64.b64encode(f"{book.oneup_email}:{book.oneup_key}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}


def _upflow_headers(book: BookInfo) -> dict[str, str]:
    return {"X-Api-Key": book.upflow_key, "X-Api-Secret": book.upflow_secret, "Content-Type": "application/json"}


def _rngs(seed: int, salt: str) -> Callable[[int], random.Random]:
    """Each client's own random stream of a scenario, the same for the same seed in every run."""
    rngs: dict[int, random.Random] = {}

    def rng_of(client: int) -> random.Random:
        if client not in rngs:
            rngs[client] = random.Random(f"{seed}:{salt}:{client}")
        return rngs[client]
    return rng_of


def create_invoice(book: BookInfo, seed: int, run: str) -> Callable[[int, int], Request]:
    headers = _oneup_headers(book)
    rng_of = _rngs(seed, "invoice")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        body = {"customer_id": rng.choice(book.customer_ids), "tax_id": book.tax_id,
                "order_lines": [{"item_id": rng.choice(book.item_ids), "quantity": rng.randint(1, 10)}
                                for _ in range(3)]}
        return "POST", "/oneup/v1/invoices", headers, json_body(body)
    return make


def post_transaction(book: BookInfo, seed: int, run: str) -> Callable[[int, int], Request]:
    headers = _oneup_headers(book)
    rng_of = _rngs(seed, "transfer")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        debit, credit = rng.sample(book.account_ids, 2)
        amount = rng.randint(100, 1_000_000) / 100
        body = {"piece_number": f"B{run}-{client}-{n}", "entries": [
            {"account_id": debit, "way": "debit", "amount": amount, "label": "Transfer"},
            {"account_id": credit, "way": "credit", "amount": amount, "label": "Transfer"}]}
        return "POST", "/oneup/v1/transactions", headers, json_body(body)
    return make


def upflow_upsert(book: BookInfo, seed: int, run: str) -> Callable[[int, int], Request]:
    """Each external id is sent twice in a row: the first call creates the invoice, the second
    updates it (a new amount), so half the calls take each path of the upsert."""
    headers = _upflow_headers(book)
    customers = [f"cust-{index + 1:06d}" for index in range(len(book.customer_ids))]
    rng_of = _rngs(seed, "upflow")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        key = f"up{run}-{client}-{n // 2}"
        net = rng.randint(1_000, 1_000_000)
        body = {"externalId": key, "customId": key.upper(), "issuedAt": "2026-01-15", "dueDate": "2026-02-14",
                "currency": "USD", "netAmount": net, "grossAmount": net + net // 5, "name": "Bench services",
                "customer": {"externalId": customers[(client * 7919 + n // 2) % len(customers)]}}
        return "POST", "/upflow/v1/invoices", headers, json_body(body)
    return make


def get_invoice(book: BookInfo, seed: int, run: str) -> Callable[[int, int], Request]:
    headers = _oneup_headers(book)
    rng_of = _rngs(seed, "get")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        return "GET", f"/oneup/v1/invoices/{rng.choice(book.invoice_ids)}", headers, None
    return make


def deep_list_query(book: BookInfo) -> str:
    """Invoices of the last year of the book, largest total first, one page about 90% of the way
    down the matches: the database filters, sorts, and skips most of them."""
    since = date.fromordinal(END.toordinal() - DAYS // 2)
    matches = book.invoices // 2
    offset = max(0, (int(matches * 0.9) // LIST_PAGE) * LIST_PAGE - LIST_PAGE)
    return f"/oneup/v1/invoices?date=gte:{since.isoformat()}&sort=-total&offset={offset}&limit={LIST_PAGE}"


def list_invoices(book: BookInfo, seed: int, run: str) -> Callable[[int, int], Request]:
    headers = _oneup_headers(book)
    path = deep_list_query(book)

    def make(client: int, n: int) -> Request:
        return "GET", path, headers, None
    return make


def trial_balance(book: BookInfo, seed: int, run: str) -> Callable[[int, int], Request]:
    headers = _oneup_headers(book)

    def make(client: int, n: int) -> Request:
        return "GET", "/oneup/v1/reports/trial_balance", headers, None
    return make


def scenarios(concurrency: int) -> list[Scenario]:
    """Reads first, on the book as generated; then the writes."""
    return [
        Scenario("get_invoice", "OneUp: get one invoice", concurrency,
                 Target("p99", 10, "p99 ≤ 10 ms (32 clients, 1M entries)"), get_invoice),
        Scenario("list_invoices_deep", "OneUp: list invoices, filter + sort, deep page", concurrency, None,
                 list_invoices),
        Scenario("trial_balance", "OneUp: trial balance report", 1,
                 Target("p50", 50, "≤ 50 ms (1M entries)"), trial_balance),
        Scenario("create_invoice", "OneUp: create a 3-line invoice (posted)", concurrency,
                 Target("throughput", 1000, "≥ 1,000 invoices/s"), create_invoice),
        Scenario("post_transaction", "OneUp: post a balanced 2-entry transaction", concurrency,
                 Target("throughput", 2500, "≥ 2,500 transactions/s"), post_transaction),
        Scenario("upflow_upsert", "Upflow: upsert an invoice (half create, half update)", concurrency, None,
                 upflow_upsert),
    ]


IMPORT_TARGET = Target("throughput", 100_000 / 60, "100k invoices ≤ 60 s (≥ 1,667/s)")
