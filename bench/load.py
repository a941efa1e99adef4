"""Loading a generated plan into a new organization's book.

The organization, its customers and its items are written through the services (they are few).
Invoices, payments and manual transfers are many: their rows are computed here the way the services
compute them (totals with `domain.documents.compute_totals`, due dates with `domain.settlements`,
one balanced transaction per document with the services' accounts, journals, labels and letterings,
codes from the same counters) and bulk-inserted: `COPY` on PostgreSQL, batched inserts on SQLite,
with the entries' maintained balances (storage/balances.py) added in the same transaction.
`load_through_services` writes the same plan through the services themselves; the smoke test checks
that both paths give the same rows (tests/test_bench_smoke.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from comptoir.domain import charts
from comptoir.domain.codes import CODE_PREFIXES, format_code
from comptoir.domain.documents import Line, compute_totals
from comptoir.domain.money import CENT
from comptoir.domain.settlements import schedule
from comptoir.services.access import webhooks
from comptoir.services.documents.sales import INVOICES
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.chart import account_for, journal_for, tax_account_id
from comptoir.services.ledger.transactions import TRANSACTIONS
from comptoir.services.masterdata import parties
from comptoir.services.masterdata.catalogue import ITEMS
from comptoir.services.settlement.payments import PAYMENTS
from comptoir.services.tenancy.organizations import create_organization, first_employee_id
from comptoir.storage import balances
from comptoir.storage.database import Database
from comptoir.storage.tables import (
    Account,
    Allocation,
    Counter,
    Document,
    DocumentLine,
    Entry,
    Payment,
    Transaction,
)

from .generate import TAX_RATE, VAT_RATES, InvoiceSpec, PaymentSpec, Plan, TransferSpec

CHUNK_EVENTS = 5_000
SETUP_BATCH = 500
VENDORS = 10  # vendors the OneConnect purchase invoices name by their code
WEBHOOK_URL = "http://127.0.0.1:9/bench-webhooks"  # the partner subscribes; no worker delivers in the bench


@dataclass
class BookInfo:
    """What the scenarios need to know of the loaded book."""

    org_id: int
    slug: str
    oneup_email: str
    oneup_key: str
    upflow_key: str
    upflow_secret: str
    quipu_app_id: str = ""
    quipu_app_secret: str = ""
    oneconnect_client_id: str = ""
    oneconnect_client_secret: str = ""
    oneconnect_integration_id: str = ""
    oneconnect_integration_secret: str = ""
    vendor_codes: list[str] = field(default_factory=list)  # vendor codes OneConnect entries name (thirdParty)
    customer_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    account_ids: list[int] = field(default_factory=list)  # postable accounts, by number
    tax_id: int = 0
    invoice_ids: list[int] = field(default_factory=list)
    entries: int = 0
    invoices: int = 0
    payments: int = 0
    transfers: int = 0
    load_s: float = 0.0
    method: str = ""
    database_url: str = ""

    def save(self, path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, path) -> BookInfo:
        return cls(**json.loads(path.read_text()))


@dataclass
class _Context:
    """The organization's ids the rows point at, looked up once."""

    org_id: int
    employee_id: int
    customers: list[Any]  # (id, payment_terms_id) per customer index
    items: list[tuple[int, Decimal, str]]  # (id, price, description) per item index
    installments: dict[int | None, list]
    accounts: list[int]
    receivable: int
    income: int
    tax_payable: int
    undeposited: int
    sales_journal: int
    bank_journal: int
    manual_journal: int
    payment_method: int
    tax_id: int


def create_book(database: Database, plan: Plan, name: str = "Bench Co") -> tuple[BookInfo, _Context]:
    """The organization with its credentials, customers and items, all through the services."""
    created = create_organization(database, name, currency="USD", country="US")
    with database.transaction() as session:
        employee_id = first_employee_id(session, created.id)
    customer_ids, item_ids = [], []
    for start in range(0, len(plan.customers), SETUP_BATCH):
        with open_book(database, created.id, employee_id) as book:
            for spec in plan.customers[start:start + SETUP_BATCH]:
                customer_ids.append(parties.create_party(book, "customer", {
                    "type": 1, "company_name": spec.name, "email": spec.email, "external_id": spec.external_id}).id)
    vendor_codes = [f"V{number:04d}" for number in range(1, VENDORS + 1)]
    with open_book(database, created.id, employee_id) as book:
        for code in vendor_codes:
            parties.create_party(book, "vendor", {"type": 1, "company_name": f"Bench Supplier {code}", "code": code})
        # The OneConnect partner wants webhooks: every document it deposits writes an outbox event.
        webhooks.set_endpoint(book, created.oneconnect["client_id"], WEBHOOK_URL)
    with open_book(database, created.id, employee_id) as book:
        for spec in plan.items:
            item_ids.append(ITEMS.create(book, {"type": 1, "name": spec.name, "sales_price": spec.price,
                                                "description": spec.description}).id)
        context = _lookup(book, employee_id, customer_ids, plan)
    info = BookInfo(created.id, created.slug, created.oneup.email, created.oneup.api_key,
                    created.upflow["api_key"], created.upflow["api_secret"],
                    quipu_app_id=created.quipu["app_id"], quipu_app_secret=created.quipu["app_secret"],
                    oneconnect_client_id=created.oneconnect["client_id"],
                    oneconnect_client_secret=created.oneconnect["client_secret"],
                    oneconnect_integration_id=created.oneconnect["integration_id"],
                    oneconnect_integration_secret=created.oneconnect["integration_secret"],
                    vendor_codes=vendor_codes, customer_ids=customer_ids, item_ids=item_ids,
                    account_ids=context.accounts, tax_id=context.tax_id)
    return info, context


def _lookup(book, employee_id: int, customer_ids: list[int], plan: Plan) -> _Context:
    by_id = {party.id: party.payment_terms_id for party in book.parties.all()}
    items = [(item.id, item.sales_price, item.description) for item in book.items.all()]
    installments = {terms.id: terms.installments for terms in book.payment_terms.all()}
    installments[None] = []
    postable = [account.id for account in sorted(book.accounts.all(Account.is_family.is_(False)),
                                                 key=lambda account: account.number)]
    if len(postable) < plan.accounts:
        raise RuntimeError(f"the chart has {len(postable)} postable accounts; the plan needs {plan.accounts}")
    tax = next(tax for tax in book.taxes.all() if tax.rate == TAX_RATE)
    # The tax accounts of the rates the invoices post at, made as their first invoice would make them
    # (services/ledger/chart.tax_account_id): the floor makes none, and finds them here.
    for rate in VAT_RATES:
        tax_account_id(book, charts.TAX_PAYABLE, rate)
    return _Context(
        org_id=book.org_id, employee_id=employee_id,
        customers=[(customer_id, by_id[customer_id]) for customer_id in customer_ids],
        items=items, installments=installments, accounts=postable[:plan.accounts],
        receivable=account_for(book, charts.RECEIVABLE).id, income=account_for(book, charts.INCOME_ROLE).id,
        tax_payable=tax_account_id(book, charts.TAX_PAYABLE, TAX_RATE),
        undeposited=account_for(book, charts.UNDEPOSITED).id,
        sales_journal=journal_for(book, "sales").id, bank_journal=journal_for(book, "bank").id,
        manual_journal=journal_for(book, "miscellaneous").id,
        payment_method=book.payment_methods.all()[0].id, tax_id=tax.id)


# -- bulk path ---------------------------------------------------------------------------------

def load(database: Database, plan: Plan, name: str = "Bench Co",
         progress: Callable[[int], None] | None = None) -> BookInfo:
    """A new organization holding the plan's book, invoices, payments and transfers bulk-inserted."""
    started = time.perf_counter()
    info, context = create_book(database, plan, name)
    writer = _PostgresWriter(database) if database.engine.dialect.name == "postgresql" else _SqliteWriter(database)
    with database.engine.begin() as connection:
        codes = {key: _counter(connection, context.org_id, key) for key in ("invoice", "payment", "transaction")}
    chunk: list = []
    invoices: dict[int, tuple[int, int, str]] = {}  # invoice number -> (id, customer id, code)
    for event in plan.events():
        chunk.append(event)
        if len(chunk) >= CHUNK_EVENTS:
            _write_chunk(writer, context, chunk, codes, invoices, info)
            if progress:
                progress(len(chunk))
            chunk = []
    if chunk:
        _write_chunk(writer, context, chunk, codes, invoices, info)
        if progress:
            progress(len(chunk))
    with database.engine.begin() as connection:
        for key, value in codes.items():
            _set_counter(connection, context.org_id, key, value)
        if database.engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    info.load_s = round(time.perf_counter() - started, 2)
    info.method = f"bulk ({'COPY' if isinstance(writer, _PostgresWriter) else 'batched INSERT'})"
    return info


def _write_chunk(writer, context: _Context, events: list, codes: dict[str, int],
                 invoices: dict[int, tuple[int, int, str]], info: BookInfo) -> None:
    n_invoices = sum(isinstance(e, InvoiceSpec) for e in events)
    n_lines = sum(len(e.lines) for e in events if isinstance(e, InvoiceSpec))
    n_payments = sum(isinstance(e, PaymentSpec) for e in events)
    n_entries = sum(e.entries if not isinstance(e, PaymentSpec) else 2 for e in events)
    with writer.transaction():
        ids = {"documents": writer.reserve("documents", n_invoices),
               "document_lines": writer.reserve("document_lines", n_lines),
               "payments": writer.reserve("payments", n_payments),
               "payment_allocations": writer.reserve("payment_allocations", n_payments),
               "transactions": writer.reserve("transactions", len(events)),
               "entries": writer.reserve("entries", n_entries)}
        rows: dict[str, list[dict]] = {name: [] for name in ids}

        def next_id(table: str) -> int:
            value = ids[table]
            ids[table] += 1
            return value

        for event in events:
            codes["transaction"] += 1
            if isinstance(event, InvoiceSpec):
                codes["invoice"] += 1
                document, lines, transaction, entries = invoice_rows(context, event, format_code(
                    CODE_PREFIXES["invoice"], codes["invoice"]), codes["transaction"], next_id)
                invoices[event.number] = (document["id"], document["customer_id"], document["user_code"])
                info.invoice_ids.append(document["id"])
                info.invoices += 1
                rows["documents"].append(document)
                rows["document_lines"] += lines
            elif isinstance(event, PaymentSpec):
                codes["payment"] += 1
                payment, allocation, transaction, entries = payment_rows(context, event, invoices[event.invoice],
                                                                         format_code(CODE_PREFIXES["payment"],
                                                                                     codes["payment"]),
                                                                         codes["transaction"], next_id)
                info.payments += 1
                rows["payments"].append(payment)
                rows["payment_allocations"].append(allocation)
            else:
                transaction, entries = transfer_rows(context, event, codes["transaction"], next_id)
                info.transfers += 1
            rows["transactions"].append(transaction)
            rows["entries"] += entries
            info.entries += len(entries)
        for table in ("documents", "document_lines", "payments", "payment_allocations", "transactions", "entries"):
            writer.insert(table, rows[table])
        # The entries' day and month totals, in the same transaction (as the services' commits add them).
        balances.add(writer.connection, balances.deltas_of(rows["entries"]), slot=0)


def _stamp(on: date) -> datetime:
    return datetime.combine(on, clock(12), tzinfo=UTC)


def invoice_rows(context: _Context, spec: InvoiceSpec, code: str, transaction_code: int,
                 next_id: Callable[[str], int]) -> tuple[dict, list[dict], dict, list[dict]]:
    """The rows INVOICES.create writes for an invoice of these lines (services/sales.py)."""
    customer_id, terms_id = context.customers[spec.customer]
    items = [context.items[line.item] for line in spec.lines]
    tax_rate = TAX_RATE if spec.taxed else None
    totals = compute_totals([Line(line.quantity, item[1], line.discount_rate, tax_rate)
                             for line, item in zip(spec.lines, items)], Decimal(0), CENT)  # a USD book
    settlements = schedule(totals.total, spec.on, context.installments[terms_id], CENT)
    stamp = _stamp(spec.on)
    document_id = next_id("documents")
    document = {
        "id": document_id, "org_id": context.org_id, "uuid": str(uuid.uuid4()), "created_at": stamp,
        "updated_at": stamp, "kind": "invoice", "customer_id": customer_id, "billing_contact_id": None,
        "shipping_contact_id": None, "user_code": code, "po_number": "", "date": spec.on,
        "due_date": settlements[-1].due_date if settlements else spec.on, "due_date_explicit": False,
        "tax_id": context.tax_id if spec.taxed else None, "currency_iso_code": "USD", "reduce_rate": Decimal(0),
        "public_note": "", "private_note": "", "shipping_date": None, "payment_terms_id": terms_id,
        "project_id": None, "employee_id": context.employee_id, "subtotal": totals.subtotal,
        "reduce_amount": totals.reduce_amount, "tax_amount": totals.tax_amount,
        "total": totals.subtotal - totals.reduce_amount + totals.tax_amount, "fixed_tax_amount": None,
        "delivery_status": 1, "sent": False, "invoice_id": None, "cancelled": False, "external_id": None,
        "extra": {}, "pdf_file_id": None, "series_number": int(code.rsplit("-", 1)[1]),  # its automatic code's
    }
    lines = [{"id": next_id("document_lines"), "org_id": context.org_id, "document_id": document_id,
              "position": position, "item_id": item[0], "description": item[2], "quantity": line.quantity,
              "unit_price_wt": item[1], "discount_rate": line.discount_rate, "tax_id": None, "is_taxable": True,
              "total": amount, "account_id": None}
             for position, (line, item, amount) in enumerate(zip(spec.lines, items, totals.line_totals))]
    label = f"Invoice {code}"
    postings = [(context.receivable, "debit", document["total"], label, code, customer_id),
                (context.income, "credit", sum(totals.net_lines, Decimal(0)), f"{label} - Before taxes", None, None)]
    postings += [(context.tax_payable, "credit", part.tax, f"{label} - Taxes", None, None, part.rate, part.base)
                 for part in totals.taxes if part.tax]
    transaction, entries = _transaction(context, next_id, transaction_code, spec.on, context.sales_journal, code,
                                        postings, source=("invoice", document_id))
    return document, lines, transaction, entries


def payment_rows(context: _Context, spec: PaymentSpec, invoice: tuple[int, int, str], code: str,
                 transaction_code: int, next_id: Callable[[str], int]) -> tuple[dict, dict, dict, list[dict]]:
    """The rows PAYMENTS.create writes for a payment of one invoice (services/payments.py)."""
    invoice_id, customer_id, invoice_code = invoice
    stamp = _stamp(spec.on)
    payment_id = next_id("payments")
    payment = {"id": payment_id, "org_id": context.org_id, "uuid": str(uuid.uuid4()), "created_at": stamp,
               "updated_at": stamp, "user_code": code, "party_id": customer_id, "date": spec.on,
               "amount": spec.amount, "currency_iso_code": "USD", "payment_method_id": context.payment_method,
               "bank_reference": "", "bank_account_id": None, "external_id": None, "extra": {}}
    allocation = {"id": next_id("payment_allocations"), "org_id": context.org_id, "payment_id": payment_id,
                  "credit_note_id": None, "document_id": invoice_id, "refund_id": None, "amount": spec.amount,
                  "reconciliation_id": None}
    label = f"Payment {code}"
    transaction, entries = _transaction(context, next_id, transaction_code, spec.on, context.bank_journal, code, [
        (context.undeposited, "debit", spec.amount, label, None, None),
        (context.receivable, "credit", spec.amount, f"{label} - {invoice_code}", invoice_code, customer_id)],
        source=("payment", payment_id))  # the receivable's label names what it settles (docs/decisions/0021)
    return payment, allocation, transaction, entries


def transfer_rows(context: _Context, spec: TransferSpec, transaction_code: int,
                  next_id: Callable[[str], int]) -> tuple[dict, list[dict]]:
    """The rows TRANSACTIONS.create writes for a manual transaction (services/ledger.py)."""
    return _transaction(context, next_id, transaction_code, spec.on, context.manual_journal,
                        f"OD-{spec.number:07d}", transfer_postings(context.accounts, spec), source=(None, None))


def transfer_postings(accounts: list[int], spec: TransferSpec) -> list[tuple]:
    if spec.split_with is None:
        return [(accounts[spec.debit], "debit", spec.amount, "Transfer", None, None),
                (accounts[spec.credit], "credit", spec.amount, "Transfer", None, None)]
    half = (spec.amount / 2).quantize(Decimal("0.01"))
    return [(accounts[spec.debit], "debit", spec.amount, "Transfer", None, None),
            (accounts[spec.credit], "credit", half, "Transfer", None, None),
            (accounts[spec.split_with], "credit", spec.amount - half, "Transfer", None, None)]


def _transaction(context: _Context, next_id, transaction_code: int, on: date, journal_id: int, piece: str,
                 postings: Iterable[tuple], *, source: tuple[str | None, int | None]) -> tuple[dict, list[dict]]:
    stamp = _stamp(on)
    transaction_id = next_id("transactions")
    transaction = {"id": transaction_id, "org_id": context.org_id, "uuid": str(uuid.uuid4()), "created_at": stamp,
                   "updated_at": stamp, "external_id": None, "transaction_code": transaction_code,
                   "status": "Realized", "date": on, "journal_id": journal_id, "piece_number": piece,
                   "currency_iso_code": "USD", "source_type": source[0], "source_id": source[1]}
    entries = [{"id": next_id("entries"), "org_id": context.org_id, "transaction_id": transaction_id,
                "label": label[:128], "amount": amount, "way": way, "account_id": account_id, "lettering": lettering,
                "locked": False, "reconciled": False, "date": on, "party_id": party_id, "tax_rate": rate,
                "tax_base": base}
               for account_id, way, amount, label, lettering, party_id, rate, base in map(_taxed, postings) if amount]
    return transaction, entries


def _taxed(posting: tuple) -> tuple:
    """A posting (account, way, amount, label, lettering, party) with its tax rate and base, None
    when it is not a tax entry."""
    return (*posting, None, None)[:8]


def _counter(connection, org_id: int, key: str) -> int:
    value = connection.scalar(select(Counter.value).where(Counter.org_id == org_id, Counter.key == key))
    return value or 0


def _set_counter(connection, org_id: int, key: str, value: int) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(Counter).values(org_id=org_id, key=key, value=value)
                       .on_conflict_do_update(index_elements=["org_id", "key"], set_={"value": value}))


_TABLES: dict[str, Table] = {model.__tablename__: model.__table__ for model in
                             (Document, DocumentLine, Payment, Allocation, Transaction, Entry)}


def _complete(table: str, rows: list[dict]) -> list[dict]:
    """Columns the rows above do not name (added to the tables since) get their column default,
    as an ORM insert would give them."""
    missing = [column for column in _TABLES[table].columns if column.name not in rows[0]]
    if not missing:
        return rows
    defaults = {}
    for column in missing:
        default = column.default
        if default is None:
            defaults[column.name] = None
        elif default.is_scalar:
            defaults[column.name] = default.arg
        elif default.is_callable:
            defaults[column.name] = default.arg(None)
        else:
            defaults[column.name] = None
    return [{**defaults, **row} for row in rows]


class _Writer:
    """Writes a chunk of the book in one database transaction, on one connection."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connection = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.database.engine.connect() as connection, connection.begin():
            self.connection = connection
            try:
                yield
            finally:
                self.connection = None


class _PostgresWriter(_Writer):
    """COPY into the tables, with ids taken from each table's own sequence (so the server's later
    inserts continue after them). A generated book is loaded below the application, as a restore
    is: without the audit trail's triggers when the role may skip them (a superuser's
    session_replication_role), which would double what the load writes."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with super().transaction():
            if self.connection.scalar(text("SELECT current_setting('is_superuser')")) == "on":
                self.connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield

    def reserve(self, table: str, count: int) -> int:
        if count == 0:
            return 0
        last = self.connection.scalar(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), nextval(pg_get_serial_sequence('{table}', 'id'))"
            f" + {count - 1})"))
        return int(last) - count + 1

    def insert(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        rows = _complete(table, rows)
        columns = [column.name for column in _TABLES[table].columns]
        raw = self.connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in columns])


class _SqliteWriter(_Writer):
    """Batched INSERTs through SQLAlchemy Core (the column types store money as integer millionths)."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.next: dict[str, int] = {}

    def reserve(self, table: str, count: int) -> int:
        if table not in self.next:
            self.next[table] = (self.connection.scalar(select(func.max(_TABLES[table].c.id))) or 0) + 1
            sequence = self.connection.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table})
            self.next[table] = max(self.next[table], (sequence or 0) + 1)
        start = self.next[table]
        self.next[table] += count
        return start

    def insert(self, table: str, rows: list[dict]) -> None:
        if rows:
            self.connection.execute(_TABLES[table].insert(), _complete(table, rows))


# -- through the services (the reference the bulk path is checked against) -------------------------

def load_through_services(database: Database, plan: Plan, name: str = "Bench Co (services)") -> BookInfo:
    """The same plan written request by request through the services, as the API would."""
    started = time.perf_counter()
    info, context = create_book(database, plan, name)
    invoices: dict[int, int] = {}
    events = list(plan.events())
    for start in range(0, len(events), SETUP_BATCH):
        with open_book(database, info.org_id, context.employee_id) as book:
            for event in events[start:start + SETUP_BATCH]:
                if isinstance(event, InvoiceSpec):
                    customer_id = context.customers[event.customer][0]
                    invoice = INVOICES.create(book, {
                        "customer_id": customer_id, "date": event.on,
                        "tax_id": context.tax_id if event.taxed else None,
                        "lines": [{"item_id": context.items[line.item][0], "quantity": line.quantity,
                                   "discount_rate": line.discount_rate} for line in event.lines]})
                    invoices[event.number] = invoice.id
                    info.invoice_ids.append(invoice.id)
                    info.invoices += 1
                elif isinstance(event, PaymentSpec):
                    PAYMENTS.create(book, {"invoice_id": invoices[event.invoice], "amount": event.amount,
                                           "date": event.on})
                    info.payments += 1
                else:
                    TRANSACTIONS.create(book, {"piece_number": f"OD-{event.number:07d}", "date": event.on,
                                               "entries": [{"account_id": a, "way": w, "amount": x, "label": lab}
                                                           for a, w, x, lab, _, _ in
                                                           transfer_postings(context.accounts, event)]})
                    info.transfers += 1
    with database.transaction() as session:
        info.entries = session.scalar(select(func.count()).select_from(Entry).where(Entry.org_id == info.org_id))
    info.load_s = round(time.perf_counter() - started, 2)
    info.method = "services"
    return info
