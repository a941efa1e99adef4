"""Upflow's invoice import by externalId as the floor serves it (dialects/upflow/invoices.py): created
the first time, updated after, posted either way."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg

from comptoir.domain.documents import spread_tax

from .app import (
    ZERO,
    Answer,
    Floor,
    Request,
    balance_deltas,
    dumps,
    ledger_args,
    ledger_ctes,
    loads_exact,
    not_served,
    stamp,
    transaction,
    transaction_cte,
)

JSON = b"application/json"
FIELDS = {"externalId", "customId", "issuedAt", "dueDate", "currency", "netAmount", "grossAmount", "name", "customer"}


def refusal(status: int, message: str, error: str) -> Answer:
    return Answer(status, {"message": message, "error": error, "statusCode": status}, JSON)


def parse_day(value: str, field: str) -> date:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise refusal(400, f"{field}: {value!r} is not a date (YYYY-MM-DD or ISO 8601)", "Bad Request") from None


def to_cents(amount: Decimal, factor: int) -> int:
    return int((amount * factor).to_integral_value())


# The organization's open period, the customer, and whether the externalId names an invoice already.
CONTEXT = """
SELECT o.closed_until, c.id, c.uuid, c.external_id, c.full_name, c.payment_terms_id, d.id
FROM organizations o
LEFT JOIN parties c ON c.org_id = o.id AND c.external_id = $2 AND c.is_customer
LEFT JOIN documents d ON d.org_id = o.id AND d.kind = 'invoice' AND d.external_id = $3
WHERE o.id = $1
"""

CREATE = f"""
WITH d AS (
  INSERT INTO documents (org_id, uuid, created_at, updated_at, kind, customer_id, user_code, po_number, date, due_date,
                         due_date_explicit, currency_iso_code, reduce_rate, public_note, private_note, payment_terms_id,
                         employee_id, subtotal, reduce_amount, tax_amount, total, fixed_tax_amount, delivery_status,
                         sent, cancelled, external_id, extra, retention_amount, taxes_per_line)
  VALUES ($1, gen_random_uuid()::text, now(), now(), 'invoice', $2, $3, '', $4, $5, true, $6, 0, '', '', $7, $8, $9, 0,
          $10, $11, $10, 1, true, false, $12, $13, 0, false)
  ON CONFLICT (org_id, kind, external_id) DO NOTHING
  RETURNING id, uuid, created_at),
l AS (
  INSERT INTO document_lines (org_id, document_id, position, description, quantity, unit_price_wt, discount_rate,
                              is_taxable, total, retention_rate, tax_amount, retention_amount, extra)
  SELECT $1, d.id, 0, $14, 1, $15, 0, false, $9, 0, 0, 0, '{{}}' FROM d),
{transaction_cte(16, on=4, journal=17, piece=3, currency=6)},
{ledger_ctes(18)}
SELECT d.id, d.uuid, d.created_at FROM d
"""

# The invoice's row held until COMMIT, in BEGIN's round trip (simple query protocol: its ids written
# in). What the rewrite reads is read by the next statement: at READ COMMITTED a statement that
# waited for a row lock reads the other rows as they were when it started.
LOCK = "SELECT FROM documents WHERE org_id = {org_id} AND id = {doc_id} FOR UPDATE"
FIND = "SELECT id FROM documents WHERE org_id = $1 AND kind = 'invoice' AND external_id = $2"

# Under the invoice's lock: what rewriting it must check, compare (what the invoice says; its
# transaction's header and entries, in posting order) and undo.
LOCKED = """
SELECT d.uuid, d.created_at, d.sent, d.extra, d.pdf_file_id, d.customer_id, d.user_code, d.date, d.currency_iso_code,
       d.subtotal, d.tax_amount, d.total,
       (SELECT array_agg(ROW(l.id, l.description, l.quantity, l.unit_price_wt, l.is_taxable, l.total))
          FROM document_lines l WHERE l.document_id = d.id AND l.org_id = d.org_id),
       t.id, t.status, t.date, t.piece_number, t.currency_iso_code,
       (SELECT array_agg(ROW(e.account_id, e.way, e.amount, e.label, e.lettering, e.party_id, e.tax_rate, e.tax_base,
                             e.date, e.locked, e.reconciled) ORDER BY e.id)
          FROM entries e WHERE e.transaction_id = t.id AND e.org_id = d.org_id),
       (SELECT count(*) FROM payment_allocations a WHERE a.document_id = d.id AND a.org_id = d.org_id),
       EXISTS (SELECT 1 FROM custom_field_values v JOIN custom_fields f ON f.id = v.field_id
               WHERE f.org_id = d.org_id AND f.entity_type = 'INVOICE' AND v.entity_id = d.id)
FROM documents d
LEFT JOIN transactions t ON t.org_id = d.org_id AND t.source_type = 'invoice' AND t.source_id = d.id
WHERE d.org_id = $1 AND d.id = $2 AND d.kind = 'invoice'
"""

# The invoice and its line rewritten (`updated_at` moved only when a value changed): what every
# rewrite starts with (parameters $1..$14).
DOCUMENT = """
WITH d AS (
  UPDATE documents SET customer_id = $3::bigint, user_code = $4::varchar, date = $5::date, due_date = $6::date,
         due_date_explicit = true, currency_iso_code = $7::varchar, subtotal = $8::numeric, tax_amount = $9::numeric,
         fixed_tax_amount = $9::numeric, total = $10::numeric, extra = $11::jsonb,
         updated_at = CASE WHEN (customer_id, user_code, date, due_date, due_date_explicit, currency_iso_code, subtotal,
                                 tax_amount, fixed_tax_amount, total, extra)
                                IS DISTINCT FROM ($3::bigint, $4::varchar, $5::date, $6::date, true, $7::varchar,
                                                  $8::numeric, $9::numeric, $9::numeric, $10::numeric, $11::jsonb)
                           THEN now() ELSE updated_at END
  WHERE id = $2 AND org_id = $1 RETURNING id, updated_at),
l AS (UPDATE document_lines SET description = $12, quantity = 1, unit_price_wt = $13, is_taxable = false,
        total = $8::numeric
      WHERE id = $14 AND org_id = $1)"""

# Its transaction posts what it posted: the invoice and its line alone.
REWRITE_DOCUMENT = f"{DOCUMENT}\nSELECT updated_at FROM d"

# Its transaction rewritten in place ($15): the entries replaced, the balances moved by the difference,
# the header when it changed.
UPDATE = f"""{DOCUMENT},
gone AS (DELETE FROM entries WHERE transaction_id = $15 AND org_id = $1),
t AS (SELECT $15::bigint AS id),
tu AS (UPDATE transactions SET date = $5::date, piece_number = $4::varchar, currency_iso_code = $7::varchar,
         updated_at = now()
       WHERE id = $15 AND org_id = $1
         AND (date, piece_number, currency_iso_code) IS DISTINCT FROM ($5::date, $4::varchar, $7::varchar)),
{ledger_ctes(16, "d")}
SELECT updated_at FROM d
"""

# An issued invoice whose issuer corrected it (docs/decisions/0026 §3; services/ledger/posting.reverse):
# its transaction ($15) detached from it (source 'invoice:reversed') and reversed by a transaction of
# its own (number $16: its date, journal, piece number and currency, every entry on the other side,
# lettering, party and tax kept), then a new transaction (number $17) posted for the invoice as it now
# reads; the balances moved by both. `n` makes the new transaction wait for the reversal's entries,
# so that ids come in Comptoir's order (the reversal first).
CORRECT = f"""{DOCUMENT},
x AS (UPDATE transactions SET source_type = 'invoice:reversed', source_id = NULL, updated_at = now()
      WHERE id = $15 AND org_id = $1 RETURNING id, date, journal_id, piece_number, currency_iso_code),
r AS (
  INSERT INTO transactions (org_id, uuid, created_at, updated_at, transaction_code, status, date, journal_id,
                            piece_number, currency_iso_code, source_type, source_id)
  SELECT $1, gen_random_uuid()::text, now(), now(), $16, 'Realized', x.date, x.journal_id, x.piece_number,
         x.currency_iso_code, 'reversal', x.id
  FROM x RETURNING id, date),
re AS (
  INSERT INTO entries (org_id, transaction_id, label, amount, way, account_id, lettering, locked, reconciled, date,
                       party_id, tax_rate, tax_base, currency_iso_code, currency_amount, rate)
  SELECT $1, r.id, CASE WHEN e.label <> '' THEN left('Reversal: ' || e.label, 128) ELSE 'Reversal' END, e.amount,
         CASE WHEN e.way = 'debit' THEN 'credit' ELSE 'debit' END, e.account_id, e.lettering, false, false, r.date,
         e.party_id, e.tax_rate, e.tax_base, e.currency_iso_code, e.currency_amount, e.rate
  FROM r, entries e WHERE e.transaction_id = $15 AND e.org_id = $1 ORDER BY e.id RETURNING id),
n AS (SELECT d.id FROM d, (SELECT count(*) FROM re) written),
{transaction_cte(17, on=5, journal=18, piece=4, currency=7, source="n", source_type="invoice")},
{ledger_ctes(19, "d")}
SELECT updated_at FROM d
"""


async def import_invoice(floor: Floor, request: Request) -> tuple:
    """A new externalId: 4 statements (the credential; the customer, the open period and whether the
    externalId is known; the transaction's number; the invoice (issued: `sent`), its line, its
    transaction, entries and balances in one statement). A known one: 5 statements, 6 round trips
    (the credential; the same read; then in one transaction, BEGIN with the invoice's row locked, what
    it settles and posts read once the row is held, its rewrite in one statement, COMMIT); when what
    an issued invoice says changed (its issuer's correction), 6 statements, 7 round trips: the two
    transaction numbers too, and the rewrite reverses its transaction and posts a new one (`_update`)."""
    async with floor.pool.acquire() as connection:
        key, secret = request.header(b"x-api-key"), request.header(b"x-api-secret")
        who = await floor.credential(connection, "upflow", key, secret) if key and secret else None
        if who is None:
            raise refusal(401, "Invalid API key or secret", "Unauthorized")
        sent = loads_exact(request.body)
        if not isinstance(sent, dict):
            raise refusal(400, "The body must be a JSON object", "Bad Request")
        if set(sent) - FIELDS or not sent.get("externalId") or "externalId" not in (sent.get("customer") or {}):
            raise not_served("Upflow invoices beyond an externalId, a customer by externalId and amounts")
        missing = [name for name in ("customId", "issuedAt", "dueDate", "currency", "grossAmount", "netAmount")
                   if sent.get(name) is None]
        if missing:
            raise not_served("an Upflow invoice without " + ", ".join(missing))
        org_id, employee_id = who[1], who[2]
        reference = await floor.reference_of(connection, org_id)
        closed_until, customer_id, customer_uuid, customer_external, customer_name, terms_id, existing = \
            await connection.fetchrow(CONTEXT, org_id, sent["customer"]["externalId"], sent["externalId"])
        if customer_id is None:
            raise refusal(404, f"customer {sent['customer']['externalId']} not found", "Not Found")
        currency = sent["currency"]
        if currency not in reference.minor_units:
            raise refusal(400, f"currency: {currency} is not a currency of this organization", "Bad Request")
        factor = 10 ** reference.minor_units[currency]
        net_cents, gross_cents = sent["netAmount"], sent["grossAmount"]
        if gross_cents < net_cents:
            raise refusal(400, "grossAmount: cannot be less than netAmount", "Bad Request")
        on, due = parse_day(sent["issuedAt"], "issuedAt"), parse_day(sent["dueDate"], "dueDate")
        if due < on:
            raise refusal(409, "due_date: due date before the document date", "Conflict")
        if closed_until is not None and on <= closed_until:
            raise refusal(409, f"date: {on} is in a closed period (closed until {closed_until})", "Conflict")
        code = sent["customId"]
        unit = reference.unit(currency)
        subtotal = (Decimal(net_cents) / factor).quantize(unit, ROUND_HALF_UP)
        tax = Decimal(gross_cents - net_cents) / factor
        total = subtotal + tax
        description = sent.get("name") or code
        # The tax is given as an amount: of no known rate, on the whole net (domain.documents.spread_tax).
        postings = await floor.sale_postings(connection, org_id, code, customer_id, total, subtotal,
                                             spread_tax(tax, (), subtotal, unit))
        journal_id = reference.role_journals["sales"]
        created, extra = None, {}
        if existing is None:
            extra = {"upflow": {"name": sent["name"]}} if "name" in sent else {}
            number = (await floor.numbers(org_id, ["transaction"]))["transaction"]
            try:
                created = await connection.fetchrow(
                    CREATE, org_id, customer_id, code, on, due, currency, terms_id or reference.default_terms_id,
                    employee_id, subtotal, tax, total, sent["externalId"], extra, description, Decimal(net_cents) / factor,
                    number, journal_id, *ledger_args(postings, on))
            except asyncpg.UniqueViolationError as error:
                raise refusal(409, f"code: {code} is used already ({error.constraint_name})", "Conflict") from None
        if created is not None:
            doc_uuid, created_at, updated_at = created[1], created[2], created[2]
        else:  # known (or created meanwhile by another request): rewritten under its lock
            if existing is None:
                existing = await connection.fetchval(FIND, org_id, sent["externalId"])
                if existing is None:
                    raise not_served("an invoice deleted while it was imported again")
            async with transaction(connection, LOCK.format(org_id=int(org_id), doc_id=int(existing))):
                doc_uuid, created_at, updated_at, extra = await _update(
                    floor, connection, org_id, existing, closed_until, sent, customer_id, code, on, due, currency,
                    subtotal, tax, total, description, Decimal(net_cents) / factor, postings, journal_id)
    state = "OVERDUE" if due < date.today() else "DUE"  # nothing settles it: the floor serves no settled invoice
    return 200, dumps({
        "id": doc_uuid, "externalId": sent["externalId"], "customId": code, "customerId": customer_uuid,
        "customer": {"id": customer_uuid, "externalId": customer_external, "companyName": customer_name},
        "issuedAt": f"{on.isoformat()}T00:00:00Z", "dueDate": f"{due.isoformat()}T00:00:00Z",
        "name": (extra.get("upflow") or {}).get("name"), "currency": currency,
        "netAmount": to_cents(subtotal, factor), "grossAmount": to_cents(total, factor), "pdfUrl": None,
        "customFields": [], "createdAt": stamp(created_at), "updatedAt": stamp(updated_at),
        "amountOutstanding": to_cents(total, factor), "state": state, "payments": [], "creditNotes": []}), JSON, []


async def _update(floor: Floor, connection: asyncpg.Connection, org_id: int, doc_id: int, closed_until: date | None,
                  sent: dict, customer_id: int, code: str, on: date, due: date, currency: str, subtotal: Decimal,
                  tax: Decimal, total: Decimal, description: str, price: Decimal, postings: list,
                  journal_id: int) -> tuple[str, Any, Any, dict]:
    """The invoice rewritten under its lock (services/documents/sales.Documents.update): a change to
    what an issued invoice says is its issuer's correction (issued elsewhere: docs/decisions/0026 §3),
    its transaction reversed and a new one posted; otherwise its transaction is rewritten, or left as
    it is when it would post the same (what storage/transactions.rewrite does)."""
    row = await connection.fetchrow(LOCKED, org_id, doc_id)
    if row is None:
        raise not_served("an invoice deleted while it was imported again")
    (doc_uuid, created_at, issued, extra, pdf_file_id, *said, lines, transaction_id, status, posted_on, piece_number,
     posted_currency, old_entries, allocated, has_custom) = row
    extra = extra or {}
    if extra.get("oneconnect") or pdf_file_id or has_custom or allocated or transaction_id is None \
            or len(lines or ()) != 1:
        raise not_served("rewriting an invoice that was received, settled, has a PDF, custom field values, "
                         "no transaction or several lines")
    if status == "Closed" or any(entry[9] or entry[10] for entry in old_entries or ()):
        raise refusal(409, "entries: an entry of the invoice is closed, locked or reconciled", "Conflict")
    if "name" in sent:
        extra = {**extra, "upflow": {**(extra.get("upflow") or {}), "name": sent["name"]}}
    old_entries = old_entries or []
    (line_id, *line_said) = lines[0]
    # What an issued invoice says, of what the import rewrites (services/documents/sales.ISSUED_CONTENT
    # and ISSUED_LINE_CONTENT): a change to it is a correction.
    corrected = issued and (tuple(said) != (customer_id, code, on, currency, subtotal, tax, total)
                            or tuple(line_said) != (description, 1, price, False, subtotal))
    document = (org_id, doc_id, customer_id, code, on, due, currency, subtotal, tax, total, extra, description, price,
                line_id)
    if corrected:
        if closed_until is not None and posted_on <= closed_until:
            raise refusal(409, f"date: {posted_on} is in a closed period (closed until {closed_until})",
                          "Conflict")
        # Undone by entries on the other side, on the day it was posted; then posted as it now reads.
        deltas = balance_deltas({}, posted_on, [(entry[0], "credit" if entry[1] == "debit" else "debit", entry[2])
                                                for entry in old_entries])
        reversal_number, number = await floor.run_of_numbers(org_id, "transaction", 2)
        (updated_at,) = await connection.fetchrow(
            CORRECT, *document, transaction_id, reversal_number, number, journal_id,
            *ledger_args(postings, on, deltas=balance_deltas(deltas, on, postings)))
        return doc_uuid, created_at, updated_at, extra
    # Letterings set by hand (not the document's own number) stay on the entry of the same account and way.
    kept = {(entry[0], entry[1]): entry[4] for entry in old_entries if entry[4] and entry[4] != piece_number}
    postings = [(*p[:4], kept.get((p[0], p[1]), p[4]), *p[5:]) for p in postings]
    if (posted_on, piece_number, posted_currency) == (on, code, currency) and len(old_entries) == len(postings) \
            and all(tuple(entry[:8]) == (*p[:3], p[3][:128], *p[4:]) and entry[8] == on
                    for entry, p in zip(old_entries, postings)):
        (updated_at,) = await connection.fetchrow(REWRITE_DOCUMENT, *document)
        return doc_uuid, created_at, updated_at, extra
    deltas: dict = {}
    for entry in old_entries:  # (account, way, amount, ..., date, ...): undone on the day it was posted
        balance_deltas(deltas, entry[8], [entry], -1)
    balance_deltas(deltas, on, postings)
    (updated_at,) = await connection.fetchrow(UPDATE, *document, transaction_id,
                                              *ledger_args(postings, on, deltas=deltas))
    return doc_uuid, created_at, updated_at, extra


__all__ = ["ZERO", "import_invoice"]
