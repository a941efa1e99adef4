"""OneUp v1 as the floor serves it: get one invoice, a page of invoices, create an invoice (posted),
post a transaction, the trial balance. Answers as dialects/oneup renders them (resources/sales.py,
resources/ledger.py, extensions.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl

import asyncpg

from comptoir.domain.documents import Line, compute_totals, spread_tax
from comptoir.domain.parties import NOT_APPLICABLE, full_address, short_locality
from comptoir.domain.settlements import fill, schedule

from .app import (
    MONTH,
    ZERO,
    Answer,
    Floor,
    Request,
    basic,
    dumps,
    ledger_args,
    ledger_ctes,
    loads_exact,
    not_served,
    num,
    out_of_date_order,
    plain_text,
    posting,
    stamp,
    text_num,
    transaction_cte,
)

JSON = b"application/json; charset=UTF-8"
CENT = Decimal("0.01")
INTEGER_MAX = 2**63 - 1
MESSAGES = {1: "Unauthorized.", 2: "The resource was not found.",
            3: "The request does not respect the specification. Please see the documentation and double-check "
               "each field.",
            3001: "Date is not included in the validity interval.", 3002: "Your entries are not balanced.",
            5: "The request was not parsed. Please double-check the content of the request."}
STATUSES = {1: 401, 2: 404, 5: 400}


def error(code: int, reason: str | None = None, headers: list | None = None) -> Answer:
    body: dict[str, Any] = {"status": STATUSES.get(code, 422), "code": str(code), "message": MESSAGES[code]}
    if reason:
        body["reason"] = reason
    return Answer(body["status"], {"error": body}, JSON, headers or [])


async def principal(floor: Floor, connection: asyncpg.Connection, request: Request) -> asyncpg.Record:
    """(credential id, org_id, employee_id) of the Basic credential, else 401 code 1."""
    sent = basic(request.header(b"authorization"))
    row = await floor.credential(connection, "oneup", *sent) if sent else None
    if row is None:
        raise error(1, headers=[(b"www-authenticate", b'Basic realm="OneUp API"')])
    return row


# -- rendering an invoice ------------------------------------------------------------------------

# The columns of an invoice and what its answer needs beside them, in one row: its customer's and
# contacts' addresses, its lines, and what its allocations settle (numbers written by PostgreSQL).
INVOICE = """d.id, d.customer_id, d.billing_contact_id, d.user_code, d.po_number, d.date, d.due_date,
  d.due_date_explicit, d.tax_id, d.currency_iso_code, trim_scale(d.reduce_rate)::text, d.public_note, d.shipping_date,
  d.shipping_contact_id, d.payment_terms_id, d.project_id, d.employee_id, d.private_note,
  trim_scale(d.subtotal)::text, trim_scale(d.reduce_amount)::text, trim_scale(d.tax_amount)::text, d.total,
  d.delivery_status, d.sent, d.created_at, d.updated_at, p.address, p.shipping_address, bc.address, sc.address,
  (SELECT array_agg(ROW(l.id, l.item_id, l.description, trim_scale(l.quantity)::text,
                        trim_scale(l.unit_price_wt)::text, trim_scale(l.discount_rate)::text, l.tax_id, l.is_taxable,
                        trim_scale(l.total)::text) ORDER BY l.position)
     FROM document_lines l WHERE l.document_id = d.id AND l.org_id = d.org_id),
  a.paid, a.payment_ids"""
INVOICE_JOINS = """JOIN parties p ON p.id = d.customer_id AND p.org_id = d.org_id
  LEFT JOIN contacts bc ON bc.id = d.billing_contact_id AND bc.org_id = d.org_id
  LEFT JOIN contacts sc ON sc.id = d.shipping_contact_id AND sc.org_id = d.org_id
  LEFT JOIN LATERAL (SELECT coalesce(sum(x.amount), 0) AS paid,
                            array_agg(DISTINCT x.payment_id) FILTER (WHERE x.payment_id IS NOT NULL) AS payment_ids
                     FROM payment_allocations x WHERE x.document_id = d.id AND x.org_id = d.org_id) a ON true"""
GET_INVOICE = f"SELECT {INVOICE} FROM documents d {INVOICE_JOINS} WHERE d.id = $2 AND d.org_id = $1 AND d.kind = 'invoice'"


def address(value: dict | None) -> dict:
    value = value or {}
    rendered = {name: value.get(name, "") for name in
                ("street_line1", "street_line2", "street_line3", "postal_code", "city", "country")}
    rendered["locality"] = value.get("locality") or NOT_APPLICABLE
    rendered["short_locality"] = short_locality(value.get("locality", ""))
    rendered["full_address"] = full_address(value)
    return rendered


def _has(value: dict | None) -> bool:
    return any((value or {}).values())


def render_invoice(row: Any, installments: tuple, unit: Decimal) -> dict:
    """An invoice's answer from its row (the columns of INVOICE, in order)."""
    (doc_id, customer_id, billing_id, code, po_number, on, due_date, due_explicit, tax_id, currency, reduce_rate,
     public_note, shipping_date, shipping_id, terms_id, project_id, employee_id, private_note, subtotal,
     reduce_amount, tax_amount, total, delivery_status, sent, created_at, updated_at, customer_address,
     customer_shipping, billing_address, shipping_address, lines, paid, payment_ids) = row
    customer_address = customer_address or {}
    paid = paid or ZERO
    settlements = fill(schedule(total, on, installments, unit, due_date if due_explicit else None), paid)
    shipping = shipping_address if _has(shipping_address) else (
        customer_shipping if _has(customer_shipping) else customer_address)
    return {
        "id": doc_id, "customer_id": customer_id, "billing_contact_id": billing_id,
        "billing_address": address(billing_address if _has(billing_address) else customer_address),
        "user_code": code, "po_number": po_number, "date": on.isoformat(),
        "due_date": due_date.isoformat() if due_date else None, "tax_id": tax_id, "currency_iso_code": currency,
        "reduce_rate": text_num(reduce_rate),
        "order_lines": [{"id": line[0], "item_id": line[1], "description": line[2], "quantity": text_num(line[3]),
                         "unit_price_wt": text_num(line[4]), "discount_rate": text_num(line[5]),
                         "tax_id": (None if line[7] is False else (line[6] or tax_id)) or 0, "is_taxable": line[7],
                         "total": text_num(line[8])} for line in lines or ()],
        "public_note": public_note, "shipping_date": shipping_date.isoformat() if shipping_date else None,
        "shipping_contact_id": shipping_id, "shipping_address": address(shipping), "payment_terms_id": terms_id,
        "project_id": project_id, "employee_id": employee_id, "private_note": private_note,
        "subtotal": text_num(subtotal), "reduce_amount": text_num(reduce_amount), "tax_amount": text_num(tax_amount),
        "total": num(total), "delivery_status": delivery_status, "sent": sent, "created_at": stamp(created_at),
        "updated_at": stamp(updated_at), "paid": num(paid), "unpaid": num(total - paid),
        "payments_id": list(payment_ids or ()),
        "installments": [{"invoice_id": doc_id, "due_date": s.due_date.isoformat(), "amount": num(s.amount),
                          "outstanding_amount": num(s.open_amount)} for s in settlements],
    }


async def get_invoice(floor: Floor, request: Request, raw_id: str) -> tuple:
    """2 statements: the credential, then the invoice with everything its answer shows."""
    async with floor.pool.acquire() as connection:
        who = await principal(floor, connection, request)
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 100) or int(raw_id) > INTEGER_MAX:
            raise error(2)
        row = await connection.fetchrow(GET_INVOICE, who[1], int(raw_id))
        if row is None:
            raise error(2)
        reference = await floor.reference_of(connection, who[1])
    return 200, dumps(render_invoice(row, reference.installments.get(row[14], ()), reference.unit(row[9]))), JSON, []


# -- a page of invoices --------------------------------------------------------------------------

FILTERS = {"id": ("id", int), "customer_id": ("customer_id", int), "date": ("date", date.fromisoformat),
           "due_date": ("due_date", date.fromisoformat), "total": ("total", Decimal)}
SORTS = {"id", "date", "due_date", "user_code", "total", "customer_id", "created_at", "updated_at"}
OPERATORS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "="}


def page_query(query: bytes) -> tuple[str, str, list, int, int]:
    """The conditions, the order, their values, the offset and the limit of OneUp's list parameters
    (the filters and sorts the benchmark uses; others are not served)."""
    conditions, order, values, offset, limit = [], [], [], 0, 100
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "offset":
            offset = int(value)
        elif name == "limit":
            limit = int(value)
            if not 1 <= limit <= 1000:
                raise error(5, "limit must be an integer from 1 to 1000")
        elif name == "sort":
            for term in value.split(","):
                term = term.strip()
                field = term.lstrip("+-")
                if field not in SORTS:
                    raise not_served(f"sort by {field}")
                order.append(f"{field} DESC" if term.startswith("-") else field)
        elif name in FILTERS:
            column, parse = FILTERS[name]
            operator, _, raw = value.partition(":")
            if operator not in OPERATORS:
                operator, raw = "eq", value
            values.append(parse(raw))
            conditions.append(f"{column} {OPERATORS[operator]} ${len(values) + 3}")
        elif name not in ("format",):
            raise not_served(f"the list parameter {name}")
    return "".join(f" AND {c}" for c in conditions), ", ".join([*order, "id"]), values, offset, limit


async def list_invoices(floor: Floor, request: Request) -> tuple:
    """2 statements: the credential, then the page (found by id over the narrow rows, as Comptoir's
    repositories do) with everything its answer shows; one row more tells whether a page follows."""
    where, order, values, offset, limit = page_query(request.query)
    outer = ", ".join(f"d.{term}" for term in order.split(", "))
    statement = (f"WITH page AS (SELECT id FROM documents WHERE org_id = $1 AND kind = 'invoice'{where} "
                 f"ORDER BY {order} OFFSET $2 LIMIT $3) "
                 f"SELECT {INVOICE} FROM page JOIN documents d ON d.id = page.id {INVOICE_JOINS} ORDER BY {outer}")
    async with floor.pool.acquire() as connection:
        who = await principal(floor, connection, request)
        rows = await connection.fetch(statement, who[1], offset, limit + 1, *values)
        reference = await floor.reference_of(connection, who[1])
    has_next = b"true" if len(rows) > limit else b"false"
    body = dumps([render_invoice(row, reference.installments.get(row[14], ()), reference.unit(row[9]))
                  for row in rows[:limit]])
    return 200, body, JSON, [(b"x-oneup-has-next-page", has_next), (b"x-myerp-has-next-page", has_next)]


# -- creating an invoice -------------------------------------------------------------------------

INVOICE_CONTEXT = """
SELECT o.closed_until, p.id, p.payment_terms_id, p.currency_iso_code, p.address, p.shipping_address,
       (SELECT array_agg(ROW(i.id, i.sales_price, i.description)) FROM items i
         WHERE i.org_id = o.id AND i.id = ANY($3::bigint[]))
FROM organizations o LEFT JOIN parties p ON p.id = $2 AND p.org_id = o.id AND p.is_customer
WHERE o.id = $1
"""

WRITE_INVOICE = f"""
WITH d AS (
  INSERT INTO documents (org_id, uuid, created_at, updated_at, kind, customer_id, user_code, po_number, date, due_date,
                         due_date_explicit, tax_id, currency_iso_code, reduce_rate, public_note, private_note,
                         payment_terms_id, employee_id, subtotal, reduce_amount, tax_amount, total, delivery_status,
                         sent, cancelled, extra, retention_amount, taxes_per_line, series_number)
  VALUES ($1, gen_random_uuid()::text, now(), now(), 'invoice', $2, $3, '', $4, $5, false, $6, $7, 0, '', '', $8, $9,
          $10, 0, $11, $12, 1, false, false, '{{}}', 0, false, $39)
  RETURNING id, created_at),
l AS (
  INSERT INTO document_lines (org_id, document_id, position, item_id, description, quantity, unit_price_wt,
                              discount_rate, tax_id, is_taxable, total, retention_rate, tax_amount, retention_amount,
                              extra)
  SELECT $1, d.id, u.n - 1, u.item_id, u.description, u.quantity, u.price, u.discount, u.tax_id, u.taxable, u.total,
         0, 0, 0, '{{}}'
  FROM d, unnest($13::bigint[], $14::text[], $15::numeric[], $16::numeric[], $17::numeric[], $18::bigint[],
                 $19::boolean[], $20::numeric[])
            WITH ORDINALITY AS u(item_id, description, quantity, price, discount, tax_id, taxable, total, n)
  ORDER BY u.n RETURNING id),
{transaction_cte(21, on=4, journal=22, piece=3, currency=7)},
{ledger_ctes(23)}
SELECT d.id, d.created_at, (SELECT array_agg(id ORDER BY id) FROM l) FROM d
"""

INVOICE_FIELDS = {"customer_id", "tax_id", "date", "order_lines"}
LINE_FIELDS = {"item_id", "quantity", "unit_price_wt", "discount_rate", "description", "tax_id", "is_taxable"}


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


async def create_invoice(floor: Floor, request: Request) -> tuple:
    """6 statements, 7 round trips: the credential; the customer, the items and the open period; the
    transaction's number (apart: ADR 0016); then in one transaction, BEGIN with the invoice's number
    held until COMMIT, whether its code is taken and the date of the invoice numbered before it (a
    date before it refused: docs/decisions/0026), the invoice, its lines, its transaction, its entries
    and their day and month balances in one statement, COMMIT (one durable commit)."""
    sent = loads_exact(request.body)
    if not isinstance(sent, dict):
        raise error(5, "The body must be a JSON object")
    if set(sent) - INVOICE_FIELDS or any(set(line) - LINE_FIELDS for line in sent.get("order_lines") or []):
        raise not_served("invoice fields beyond customer_id, tax_id, date and order lines of items")
    customer_id, tax_id = sent.get("customer_id"), sent.get("tax_id")
    lines = sent.get("order_lines") or []
    if not _is_id(customer_id) or not lines or any(not _is_id(line.get("item_id")) for line in lines):
        raise not_served("an invoice without a customer or lines of items")
    on = date.fromisoformat(sent["date"]) if sent.get("date") else date.today()
    async with floor.pool.acquire() as connection:
        who = await principal(floor, connection, request)
        org_id, employee_id = who[1], who[2]
        reference = await floor.reference_of(connection, org_id)
        closed_until, party_id, terms_id, currency, customer_address, customer_shipping, items = \
            await connection.fetchrow(INVOICE_CONTEXT, org_id, customer_id, [line["item_id"] for line in lines])
        items = {item[0]: item for item in items or ()}
        problems = []
        if party_id is None:
            problems.append(f"customer_id: no customer with id {customer_id}")
        if tax_id is not None and tax_id not in reference.tax_rates:
            problems.append(f"tax_id: no tax with id {tax_id}")
        for index, line in enumerate(lines):
            if line["item_id"] not in items:
                problems.append(f"order_lines[new {index}].item_id: no item with id {line['item_id']}")
        if problems:
            raise error(3, "; ".join(problems))
        terms_id = terms_id or reference.default_terms_id
        written = []  # (item, description, quantity, price, discount, tax_id, taxable)
        computed = []
        for line in lines:
            item = items[line["item_id"]]
            quantity = Decimal(line["quantity"]) if line.get("quantity") is not None else Decimal(1)
            price = Decimal(line["unit_price_wt"]) if line.get("unit_price_wt") is not None else (item[1] or ZERO)
            discount = Decimal(line.get("discount_rate") or 0)
            description = line["description"] if line.get("description") is not None else item[2]
            line_tax = line.get("tax_id") or None
            taxable = line.get("is_taxable", True) is not False
            written.append((item[0], description or "", quantity, price, discount, line_tax, taxable))
            effective = (line_tax or tax_id) if taxable else None
            computed.append(Line(quantity, price, discount, reference.tax_rates.get(effective)))
        unit = reference.unit(currency)
        totals = compute_totals(computed, ZERO, unit)
        settlements = schedule(totals.total, on, reference.installments.get(terms_id, ()), unit)
        due_date = settlements[-1].due_date if settlements else on
        income = sum(compute_totals([Line(c.quantity, c.unit_price, c.discount_rate) for c in computed], ZERO,
                                    unit).net_lines, ZERO)
        transaction_number = (await floor.numbers(org_id, ["transaction"]))["transaction"]
        async with floor.numbered(connection, org_id) as (code, number, before):
            # Comptoir numbers the invoice, then checks the period as it prepares its transaction.
            wrong = out_of_date_order(code, on, before)
            if wrong:
                raise error(3001, f"date: {wrong}")
            if closed_until is not None and on <= closed_until:
                raise error(3001, f"date: {on} is in a closed period (closed until {closed_until})")
            postings = await floor.sale_postings(connection, org_id, code, party_id, totals.total, income,
                                                 spread_tax(totals.tax_amount, totals.taxes, totals.subtotal, unit))
            row = await connection.fetchrow(
                WRITE_INVOICE, org_id, party_id, code, on, due_date, tax_id, currency, terms_id, employee_id,
                totals.subtotal, totals.tax_amount, totals.total,
                *map(list, zip(*written)), list(totals.line_totals),
                transaction_number, reference.role_journals["sales"], *ledger_args(postings, on), number)
    doc_id, created_at, line_ids = row
    rendered = render_invoice((
        doc_id, party_id, None, code, "", on, due_date, False, tax_id, currency, "0", "", None, None, terms_id, None,
        employee_id, "", plain_text(totals.subtotal), "0", plain_text(totals.tax_amount), totals.total, 1, False, created_at,
        created_at, customer_address, customer_shipping, None, None,
        [(line_id, w[0], w[1], plain_text(w[2]), plain_text(w[3]), plain_text(w[4]), w[5], w[6], plain_text(total))
         for line_id, w, total in zip(line_ids, written, totals.line_totals)], ZERO, None),
        reference.installments.get(terms_id, ()), unit)
    return 200, dumps(rendered), JSON, []


# -- posting a transaction -----------------------------------------------------------------------

WRITE_TRANSACTION = f"""
WITH o AS (SELECT currency_iso_code, closed_until FROM organizations WHERE id = $1),
j AS (SELECT id, name, code FROM journals WHERE id = $3 AND org_id = $1),
a AS (SELECT id, number, name FROM accounts WHERE org_id = $1 AND id = ANY($4::bigint[]) AND NOT is_family),
t AS (
  INSERT INTO transactions (org_id, uuid, created_at, updated_at, external_id, transaction_code, status, date,
                            journal_id, piece_number, currency_iso_code, source_type, source_id)
  SELECT $1, gen_random_uuid()::text, now(), now(), $5, $6, 'Realized', $2, j.id, $7, o.currency_iso_code, NULL, NULL
  FROM o, j
  WHERE (o.closed_until IS NULL OR o.closed_until < $2) AND coalesce($8, o.currency_iso_code) = o.currency_iso_code
    AND (SELECT count(*) FROM a) = $9
  RETURNING id, created_at, currency_iso_code),
{ledger_ctes(10)}
SELECT t.id, t.created_at, t.currency_iso_code, j.name, j.code, (SELECT array_agg(id ORDER BY id) FROM e),
       (SELECT array_agg(ROW(a.id, a.number, a.name)) FROM a), o.closed_until, o.currency_iso_code
FROM (SELECT 1) x LEFT JOIN t ON true LEFT JOIN j ON true LEFT JOIN o ON true
"""

TRANSACTION_FIELDS = {"piece_number", "date", "journal_id", "currency_iso_code", "external_id", "entries"}
ENTRY_FIELDS = {"account_id", "way", "amount", "label", "lettering", "locked"}


async def post_transaction(floor: Floor, request: Request) -> tuple:
    """3 statements: the credential; the transaction's number (ADR 0016); then, in one statement that
    checks the journal, the accounts (the organization's, postable), the open period and the
    currency, the transaction, its entries and their day and month balances (one durable commit)."""
    sent = loads_exact(request.body)
    if not isinstance(sent, dict) or set(sent) - TRANSACTION_FIELDS:
        raise not_served("transaction fields beyond piece_number, date, journal_id, currency, external_id, entries")
    entries = sent.get("entries") or []
    if any(not isinstance(entry, dict) or set(entry) - ENTRY_FIELDS for entry in entries):
        raise not_served("entry fields beyond account_id, way, amount, label, lettering, locked")
    problems = []
    if not sent.get("piece_number"):
        problems.append("piece_number: is required")
    postings = []
    for index, entry in enumerate(entries):
        # To the organization's currency's minor unit, as Comptoir does: the cent, the benchmark's books being in USD.
        amount = Decimal(entry["amount"]).quantize(CENT, ROUND_HALF_UP) if entry.get("amount") is not None else ZERO
        if entry.get("way", "debit") not in ("debit", "credit"):
            raise error(5, f"entries[{index}].way: Input should be one of debit, credit")
        if amount <= 0:
            problems.append(f"entries[{index}].amount: should be strictly positive")
        if not _is_id(entry.get("account_id")):
            problems.append(f"entries[{index}].account_id: no account with id {entry.get('account_id')}")
        postings.append(posting(entry.get("account_id"), entry.get("way") or "debit", amount, entry.get("label") or "",
                                entry.get("lettering")))
    if len(postings) < 2:
        problems.append("entries: a transaction needs at least two entries")
    debit = sum((p[2] for p in postings if p[1] == "debit"), ZERO)
    credit = sum((p[2] for p in postings if p[1] == "credit"), ZERO)
    if debit != credit:
        raise error(3002, f"entries: not balanced: debits {debit} and credits {credit}")
    if problems:
        raise error(3, "; ".join(problems))
    on = date.fromisoformat(sent["date"]) if sent.get("date") else date.today()
    accounts = sorted({p[0] for p in postings})
    locked = [bool(entry.get("locked")) for entry in entries]
    async with floor.pool.acquire() as connection:
        who = await principal(floor, connection, request)
        org_id = who[1]
        reference = await floor.reference_of(connection, org_id)
        journal_id = sent.get("journal_id") or reference.role_journals["miscellaneous"]
        number = (await floor.numbers(org_id, ["transaction"]))["transaction"]
        row = await connection.fetchrow(
            WRITE_TRANSACTION, org_id, on, journal_id, accounts, sent.get("external_id"), number,
            sent["piece_number"], sent.get("currency_iso_code"), len(accounts),
            *ledger_args(postings, on, locked=locked))
    transaction_id, created_at, currency, journal_name, journal_code, entry_ids, found, closed_until, main = row
    if transaction_id is None:
        raise _refusal(sent, on, journal_name, found, accounts, closed_until, main)
    labels = {account[0]: f"{account[1]}  ( {account[2]} )" for account in found}
    return 200, dumps({
        "id": transaction_id, "external_id": sent.get("external_id"), "transaction_code": number,
        "status": "Realized", "date": on.isoformat(), "journal_id": journal_id,
        "journal": {"id": journal_id, "name": journal_name, "code": journal_code},
        "piece_number": sent["piece_number"], "currency_iso_code": currency,
        "entries": [{"id": entry_id, "label": p[3], "amount": num(p[2]), "way": p[1], "account_id": p[0],
                     "account_label": labels[p[0]], "lettering": p[4], "locked": lock, "tax_rate": None,
                     "tax_base": None, "currency_iso_code": None, "currency_amount": None, "exchange_rate": None}
                    for entry_id, p, lock in zip(entry_ids, postings, locked)],
        "created_at": stamp(created_at), "updated_at": stamp(created_at)}), JSON, []


def _refusal(sent: dict, on: date, journal_name: str | None, found: Any, accounts: list, closed_until: date | None,
             main: str) -> Answer:
    """Why the write wrote nothing (the statement checks, this says which check failed)."""
    if journal_name is None:
        return error(3, f"journal: no journal with id {sent.get('journal_id')}")
    missing = sorted(set(accounts) - {account[0] for account in found or ()})
    if missing:
        return error(3, f"entries: no postable account with id {missing[0]}")
    if closed_until is not None and on <= closed_until:
        return error(3001, f"date: {on} is in a closed period (closed until {closed_until})")
    return error(3, f"currency_iso_code: new transactions are in {main} only")


# -- the trial balance ---------------------------------------------------------------------------

TRIAL_BALANCE = """
WITH o AS (
  SELECT chart, fiscal_year_start_month AS m,
         make_date(extract(year FROM $5::date)::int - (extract(month FROM $5::date) < fiscal_year_start_month)::int,
                   fiscal_year_start_month, 1) AS fy
  FROM organizations WHERE id = $1),
s AS (
  SELECT b.account_id,
         sum(b.debit - b.credit) FILTER (WHERE b.first_day < o.fy) AS before,
         sum(b.debit) FILTER (WHERE b.first_day >= o.fy) AS debit,
         sum(b.credit) FILTER (WHERE b.first_day >= o.fy) AS credit
  FROM account_balances b, o
  WHERE b.org_id = $1 AND ((b.span = 'day' AND b.first_day >= $2 AND b.first_day <= $3)
                           OR (b.span = 'month' AND b.first_day <= $4))
  GROUP BY b.account_id),
f AS (
  SELECT e.account_id, e.currency_iso_code AS currency,
         sum(CASE WHEN e.way = 'debit' THEN e.currency_amount ELSE -e.currency_amount END)
           FILTER (WHERE e.date < o.fy) AS before,
         coalesce(sum(e.currency_amount) FILTER (WHERE e.way = 'debit' AND e.date >= o.fy), 0) AS debit,
         coalesce(sum(e.currency_amount) FILTER (WHERE e.way <> 'debit' AND e.date >= o.fy), 0) AS credit
  FROM entries e, o
  WHERE e.org_id = $1 AND e.currency_iso_code IS NOT NULL AND e.date <= $5
  GROUP BY e.account_id, e.currency_iso_code),
fa AS (SELECT account_id, array_agg(ROW(currency, coalesce(before, 0), debit, credit) ORDER BY currency) AS foreign
       FROM f GROUP BY account_id)
SELECT o.chart, o.m, o.fy, a.id, a.number, a.name, a.nature, a.role,
       coalesce(s.before, 0), coalesce(s.debit, 0), coalesce(s.credit, 0), fa.foreign
FROM o LEFT JOIN accounts a ON a.org_id = $1 LEFT JOIN s ON s.account_id = a.id LEFT JOIN fa ON fa.account_id = a.id
WHERE a.id IS NULL OR s.account_id IS NOT NULL OR a.role IN ('retained_earnings', 'retained_losses')
"""
RESETS = ("income", "expense")


async def trial_balance(floor: Floor, request: Request) -> tuple:
    """2 statements: the credential, then the sums of the maintained balances (the month rows of the
    whole months, the day rows of the month of the day asked) by account, before the fiscal year
    and within it, with the amounts of the entries in other currencies beside them (the partial
    index of those entries); earlier years' income and expenses carried forward to retained earnings."""
    params = dict(parse_qsl(request.query.decode("latin-1")))
    if set(params) - {"date", "format"} or params.get("format", "json") != "json":
        raise not_served("trial balance parameters beyond date")
    as_of = date.fromisoformat(params["date"]) if params.get("date") else date.today()
    month = as_of.replace(day=1)
    if (as_of + timedelta(days=1)).day == 1:  # the last day of its month: the month rows only
        day_from, day_to, last_month = as_of + timedelta(days=1), as_of, month
    else:  # the day rows of its month, the month rows before it
        day_from, day_to, last_month = month, as_of, (month - timedelta(days=1)).replace(day=1)
    async with floor.pool.acquire() as connection:
        who = await principal(floor, connection, request)
        rows = await connection.fetch(TRIAL_BALANCE, who[1], day_from, day_to, last_month, as_of)
    chart, start_month, year_start = rows[0][0], rows[0][1], rows[0][2]
    opening = {row[3]: ZERO if row[6] in RESETS else row[8] for row in rows if row[3] is not None}
    carried = sum((row[8] for row in rows if row[6] in RESETS), ZERO)
    if carried:
        role = "retained_losses" if chart == "pcg" and carried > 0 else "retained_earnings"
        retained = next(row[3] for row in rows if row[7] == role)
        opening[retained] += carried
    foreign = {row[3]: _foreign(row[6], row[11]) for row in rows if row[3] is not None and row[11]}
    lines = sorted(((row[4], row[3], row[5], opening[row[3]], row[9], row[10]) for row in rows
                    if row[3] is not None and (opening[row[3]] or row[9] or row[10])))
    year_end = date(year_start.year + 1, start_month, 1) - timedelta(days=1)
    return 200, dumps({
        "date_from": year_start.isoformat(), "date": as_of.isoformat(),
        "fiscal_year": {"start": year_start.isoformat(), "end": year_end.isoformat()},
        "accounts": [{"account_id": account_id, "number": number, "name": name, "opening_balance": num(before),
                      "debit": num(debit), "credit": num(credit), "balance": num(before + debit - credit),
                      **({"foreign": foreign[account_id]} if foreign.get(account_id) else {})}
                     for number, account_id, name, before, debit, credit in lines],
        "total_opening_balance": num(sum((line[3] for line in lines), ZERO)),
        "total_debit": num(sum((line[4] for line in lines), ZERO)),
        "total_credit": num(sum((line[5] for line in lines), ZERO)),
        "total_balance": num(sum((line[3] + line[4] - line[5] for line in lines), ZERO))}), JSON, []


def _foreign(nature: str, found: list) -> list[dict]:
    """An account's figures in each other currency (income and expenses open each year at zero),
    the currencies with none left out."""
    shown = []
    for currency, before, debit, credit in found:
        opening = ZERO if nature in RESETS else before
        if opening or debit or credit:
            shown.append({"currency": currency, "opening_balance": num(opening), "debit": num(debit),
                          "credit": num(credit), "balance": num(opening + debit - credit)})
    return shown


__all__ = ["MONTH", "create_invoice", "get_invoice", "list_invoices", "post_transaction", "trial_balance"]
