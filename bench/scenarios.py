"""The HTTP scenarios: what each client sends, and the targets they are held against (issue 8 §4 and
issue 15 §3).

A scenario's requests come from one generator, `make(book, seed, run, tokens)(client, n)`, the n-th
request of a client: the load generator (bench/wrk.py) turns the first requests of each of its
threads into a wrk script, the floor test (tests/test_floor.py) and bench/write_statements.py send
them in-process. `run` goes into every key that must be new (piece numbers, externalIds, external
references): wrk replaces it in each request with its own tag, so that the floor's run, Comptoir's
run and every warm-up write new keys. `tokens` holds what a run obtains once from the server before
it starts (`obtain_tokens`: a Quipu bearer token, a OneConnect JWT).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from comptoir.domain import charts

from .generate import DAYS, END, QUIPU_VAT_RATES
from .load import BookInfo

LIST_PAGE = 50
Request = tuple[str, str, dict[str, str], bytes | None]  # method, path with query, headers, body
Factory = Callable[[int, int], Request]
UPSERT_LAG = 64  # an Upflow update names the externalId created this many creations earlier
UPSERT_BLOCK = 200  # Upflow keys come in blocks of this many (wrk's scripts hold whole blocks)
ISSUED = "2026-01-15"  # the day of the invoices the write scenarios date themselves
QUIPU_MEDIA_TYPE = "application/vnd.quipu.v1+json"
BOUNDARY = "benchfloorboundary7MA4YWxkTrZu0gW"
# A small PDF, as OneConnect's partners deposit one (tests/oneconnect/conftest.py).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def json_body(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Target:
    """An absolute goal: a throughput at least `value` per second, or a latency at most `value` ms at
    the percentile `metric` names. `floor_bound`: a throughput goal that holds only where the floor
    itself reaches it (issue 15 §3: elsewhere the floor is the limit and its ratio is the goal)."""

    metric: str  # "throughput", "p50" or "p99"
    value: float
    text: str
    floor_bound: bool = False

    def ratio(self, summary: dict) -> float | None:
        """Above 1 when the target is met: measured/target for throughput, target/measured for latency."""
        if self.metric == "throughput":
            measured = summary["throughput_per_s"]
            return measured / self.value if self.value else None
        measured = summary[f"{self.metric}_ms"]
        return self.value / measured if measured else None


# Issue 15 §3: each hot scenario at ≥ 60% of the floor's throughput, with a p99 at most 3× the floor's.
FLOOR_THROUGHPUT_SHARE = 0.6
FLOOR_P99_FACTOR = 3.0


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    concurrency: int
    target: Target | None
    make: Callable[..., Factory]  # (book, seed, run, tokens) -> factory
    hot: bool = True  # held to the floor's ratios
    keyed: bool = False  # writes keys that must be new: every request takes the run tag


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


def obtain_tokens(client, book: BookInfo) -> dict[str, str]:
    """What the Quipu and OneConnect scenarios authenticate with, asked once of the server (an
    httpx-like client with Comptoir's base URL): a Quipu bearer token (POST /quipu/oauth/token) and a
    OneConnect partner JWT (POST /oneconnect/oauth2/token). Both servers check them in the same tables."""
    quipu = client.post("/quipu/oauth/token", auth=(book.quipu_app_id, book.quipu_app_secret),
                        data={"grant_type": "client_credentials", "scope": "ecommerce"})
    oneconnect = client.post("/oneconnect/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": book.oneconnect_client_id,
        "client_secret": book.oneconnect_client_secret})
    for response in (quipu, oneconnect):
        if response.status_code != 200:
            raise RuntimeError(f"no token from {response.request.url}: {response.status_code} {response.text[:300]}")
    return {"quipu": quipu.json()["access_token"], "oneconnect": oneconnect.json()["access_token"]}


# -- reads -------------------------------------------------------------------------------------

def get_invoice(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
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


def list_invoices(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
    headers = _oneup_headers(book)
    path = deep_list_query(book)

    def make(client: int, n: int) -> Request:
        return "GET", path, headers, None
    return make


def trial_balance(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
    headers = _oneup_headers(book)

    def make(client: int, n: int) -> Request:
        return "GET", "/oneup/v1/reports/trial_balance", headers, None
    return make


# -- writes ------------------------------------------------------------------------------------

def create_invoice(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
    headers = _oneup_headers(book)
    rng_of = _rngs(seed, "invoice")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        body = {"customer_id": rng.choice(book.customer_ids), "tax_id": book.tax_id,
                "order_lines": [{"item_id": rng.choice(book.item_ids), "quantity": rng.randint(1, 10)}
                                for _ in range(3)]}
        return "POST", "/oneup/v1/invoices", headers, json_body(body)
    return make


def post_transaction(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
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


def upflow_upsert(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
    """Half the calls create an invoice (a new externalId), half update one (a new amount): each
    externalId gets two calls UPSERT_LAG pairs of calls apart, so that with many connections per client
    (wrk's threads) the first is long answered when the second is sent. Keys come in blocks of
    UPSERT_BLOCK: in a block, the odd call n updates the key of the even call 2 * UPSERT_LAG before it,
    and the block's first odd calls name its last keys (they create them; the later even calls update
    them)."""
    headers = _upflow_headers(book)
    customers = [f"cust-{index + 1:06d}" for index in range(len(book.customer_ids))]
    rng_of = _rngs(seed, "upflow")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        number = n // 2
        if n % 2:
            block, offset = divmod(number, UPSERT_BLOCK)
            number = block * UPSERT_BLOCK + (offset - UPSERT_LAG) % UPSERT_BLOCK
        key = f"up{run}-{client}-{number}"
        net = rng.randint(1_000, 1_000_000)
        body = {"externalId": key, "customId": key.upper(), "issuedAt": ISSUED, "dueDate": "2026-02-14",
                "currency": "USD", "netAmount": net, "grossAmount": net + net // 5, "name": "Bench services",
                "customer": {"externalId": customers[(client * 7919 + number) % len(customers)]}}
        return "POST", "/upflow/v1/invoices", headers, json_body(body)
    return make


def quipu_invoice(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
    """An income invoice of two items with VAT (and a discount on one), to a customer of the book."""
    headers = {"Authorization": f"Bearer {(tokens or {}).get('quipu', '')}", "Accept": QUIPU_MEDIA_TYPE,
               "Content-Type": QUIPU_MEDIA_TYPE}
    rng_of = _rngs(seed, "quipu")

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        items = [{"type": "items", "attributes": {"concept": f"Service {rng.randint(1, 50)}",
                                                  "unitary_amount": f"{rng.randint(100, 100_000) / 100:.2f}",
                                                  "quantity": rng.randint(1, 10), "vat_percent": int(rng.choice(QUIPU_VAT_RATES)),
                                                  **({"discount_percent": 5} if index else {})}}
                 for index in range(2)]
        # Today, as the OneUp invoices of create_invoice: numbers of a series follow their dates.
        body = {"data": {"type": "invoices", "attributes": {"kind": "income", "issue_date": date.today().isoformat()},
                         "relationships": {
            "contact": {"data": {"id": str(rng.choice(book.customer_ids)), "type": "contacts"}},
            "items": {"data": items}}}}
        return "POST", "/quipu/invoices", headers, json_body(body)
    return make


def _role_number(role: str) -> str:
    return next(spec.number for spec in charts.DEFAULT_CHART if spec.role == role)


EXPENSE_NUMBERS = [spec.number for spec in charts.DEFAULT_CHART if spec.nature == charts.EXPENSE and not spec.is_family]


def oneconnect_import(book: BookInfo, seed: int, run: str, tokens: dict | None = None) -> Factory:
    """A purchase invoice deposited with its entries (multipart: the PDF, its name, a new
    externalReference, the entries JSON): the vendor's payable credited with the total, an expense
    and the deductible VAT debited. It is booked at once (Accepted) and filed as a purchase invoice."""
    headers = {"Authorization": f"Bearer {(tokens or {}).get('oneconnect', '')}",
               "x-oneconnect-api-key": book.oneconnect_integration_secret,
               "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    path = f"/oneconnect/v1/integrations/{book.oneconnect_integration_id}/purchase-invoices"
    payable, vat_account = _role_number(charts.PAYABLE), _role_number(charts.TAX_RECEIVABLE)
    rng_of = _rngs(seed, "oneconnect")

    def side(cents: int) -> dict:
        return {"amount": cents / 100, "currency": "USD", "currencyAmount": cents / 100, "currencyRate": 1}

    def make(client: int, n: int) -> Request:
        rng = rng_of(client)
        reference = f"OC{run}-{client}-{n}"
        base = rng.randint(1_000, 1_000_000)
        vat = base // 5
        common = {"date": f"{ISSUED}T00:00:00.000Z", "journal": "AC", "reference": reference,
                  "label": f"Supplier invoice {reference}"}
        lines = [{**common, "account": payable, "debit": side(0), "credit": side(base + vat),
                  "thirdParty": rng.choice(book.vendor_codes)},
                 {**common, "account": rng.choice(EXPENSE_NUMBERS), "debit": side(base), "credit": side(0)},
                 {**common, "account": vat_account, "debit": side(vat), "credit": side(0)}]
        fields = {"filename": "invoice.pdf", "externalReference": reference,
                  "entries": json.dumps({"data": {"lines": lines}}, separators=(",", ":"))}
        parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="invoice.pdf"\r\n'
                 f"Content-Type: application/pdf\r\n\r\n".encode() + PDF + b"\r\n"]
        parts += [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                  for name, value in fields.items()]
        return "POST", path, headers, b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
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
                 Target("throughput", 1000, "≥ 1,000 invoices/s", floor_bound=True), create_invoice),
        Scenario("post_transaction", "OneUp: post a balanced 2-entry transaction", concurrency,
                 Target("throughput", 2500, "≥ 2,500 transactions/s", floor_bound=True), post_transaction, keyed=True),
        Scenario("upflow_upsert", "Upflow: upsert an invoice (half create, half update)", concurrency, None,
                 upflow_upsert, keyed=True),
        Scenario("quipu_invoice", "Quipu: create an income invoice (2 items, VAT)", concurrency, None, quipu_invoice),
        Scenario("oneconnect_import", "OneConnect: import a purchase invoice with entries (multipart)",
                 concurrency, None, oneconnect_import, keyed=True),
    ]


IMPORT_TARGET = Target("throughput", 100_000 / 60, "100k invoices ≤ 60 s (≥ 1,667/s)")
