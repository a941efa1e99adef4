"""Quipu's income invoices as the floor serves them (dialects/quipu/entries.py and conventions.py):
POST /quipu/invoices or /quipu/{slug}/invoices with a Bearer token of POST /quipu/oauth/token, items
inline, taxes computed line by line, posted to the ledger."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from itsdangerous import URLSafeSerializer

from comptoir.domain.documents import Line, RateTax, by_rate, compute_totals, line_amounts, spread_tax
from comptoir.domain.money import plain
from comptoir.domain.settlements import schedule

from .app import (
    ZERO,
    Answer,
    Floor,
    Request,
    digest,
    dumps,
    ledger_args,
    ledger_ctes,
    loads_exact,
    not_served,
    out_of_date_order,
    transaction_cte,
)

MEDIA_TYPE = b"application/vnd.quipu.v1+json"
LINK_PURPOSE, LINK_LIFETIME_S = "quipu-pdf", 3600
HUNDRED = Decimal(100)
ATTRIBUTES = {"kind", "issue_date", "due_dates", "notes"}
ITEM_ATTRIBUTES = {"concept", "unitary_amount", "quantity", "vat_percent", "retention_percent", "discount_percent"}


def refusal(status: int, detail: str, pointer: str = "", headers: list | None = None) -> Answer:
    return Answer(status, {"errors": [{"status": str(status), "detail": detail, "source": {"pointer": pointer}}]},
                  MEDIA_TYPE, headers or [])


def money(value: Decimal) -> str:
    text = str(plain(Decimal(value)) + 0)
    return text if "." in text else text + ".0"


def rate_headers() -> list[tuple[bytes, bytes]]:
    """RateLimit headers as Comptoir sends them with its rate limits off (the benchmark's setting):
    the whole budget left, reset in 1 s. The floor counts nothing."""
    limit = os.environ.get("COMPTOIR_QUIPU_RATE_LIMIT", "5/5 seconds").split("/")[0].strip().encode()
    return [(b"ratelimit-limit", limit), (b"ratelimit-remaining", limit), (b"ratelimit-reset", b"1")]


TOKEN = """
SELECT t.org_id, t.credential_id, t.employee_id, t.kind, t.expires_at, t.revoked_at, c.revoked_at, c.id, o.slug
FROM access_tokens t LEFT JOIN credentials c ON c.id = t.credential_id JOIN organizations o ON o.id = t.org_id
WHERE t.token_hash = $1
"""

CONTEXT = """
SELECT o.name, o.country, o.closed_until, p.id, p.is_customer, p.full_name, p.taxpayer_id, p.address, p.phone_number,
       p.payment_terms_id, p.currency_iso_code
FROM organizations o LEFT JOIN parties p ON p.id = $2 AND p.org_id = o.id
WHERE o.id = $1
"""

WRITE = f"""
WITH d AS (
  INSERT INTO documents (org_id, uuid, created_at, updated_at, kind, customer_id, user_code, po_number, date, due_date,
                         due_date_explicit, currency_iso_code, reduce_rate, public_note, private_note, payment_terms_id,
                         employee_id, subtotal, reduce_amount, tax_amount, total, delivery_status, sent, cancelled,
                         extra, retention_amount, taxes_per_line, series_number)
  VALUES ($1, gen_random_uuid()::text, now(), now(), 'invoice', $2, $3, '', $4, $5, $6, $7, 0, '', $8, $9, $10, $11, 0,
          $12, $13, 1, true, false, $14, $15, true, $43)
  RETURNING id),
l AS (
  INSERT INTO document_lines (org_id, document_id, position, description, quantity, unit_price_wt, discount_rate,
                              is_taxable, total, tax_rate, retention_rate, tax_amount, retention_amount, extra)
  SELECT $1, d.id, u.n - 1, u.description, u.quantity, u.price, u.discount, true, u.total, u.tax_rate, u.retention_rate,
         u.tax, u.retention, '{{}}'
  FROM d, unnest($16::text[], $17::numeric[], $18::numeric[], $19::numeric[], $20::numeric[], $21::numeric[],
                 $22::numeric[], $23::numeric[], $24::numeric[])
            WITH ORDINALITY AS u(description, quantity, price, discount, total, tax_rate, retention_rate, tax, retention, n)
  ORDER BY u.n RETURNING id),
{transaction_cte(25, on=4, journal=26, piece=3, currency=7)},
{ledger_ctes(27)}
SELECT d.id, (SELECT array_agg(id ORDER BY id) FROM l) FROM d
"""


def _decimal(value: Any, pointer: str, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise TypeError(value)
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        if not number.is_finite() or abs(number) >= Decimal(10) ** 12 or (low is not None and number < low) \
                or (high is not None and number > high):
            raise ValueError(value)
    except (TypeError, ValueError, InvalidOperation):
        bounds = f" from {low} to {high}" if low is not None and high is not None else ""
        raise refusal(422, f"Is not a number{bounds}.", pointer) from None
    return number


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 100 and 0 < int(value) < 2**63:
        return int(value)
    return None


async def create_invoice(floor: Floor, request: Request, slug: str | None) -> tuple:
    """6 statements, 7 round trips: the token (with its credential and organization); the contact
    and the open period; the transaction's number (apart: ADR 0016); then in one transaction, BEGIN
    with the invoice's number held until COMMIT, whether its code is taken and the date of the invoice
    numbered before it (a date before it refused: docs/decisions/0026), the invoice (issued: `sent`,
    stage final), its items, its transaction, entries and balances in one statement, COMMIT (one
    durable commit)."""
    scheme, _, token = request.header(b"authorization").partition(" ")
    token = token.strip()
    async with floor.pool.acquire() as connection:
        row = await connection.fetchrow(TOKEN, digest(token)) if scheme.lower() == "bearer" and token else None
        now = datetime.now(UTC)
        if row is None or row[3] != "quipu" or row[5] is not None or row[4] <= now \
                or (row[1] is not None and (row[7] is None or row[6] is not None)):
            raise refusal(401, "Not authorized")
        headers = rate_headers()
        org_id, employee_id = row[0], row[2]
        if slug is not None and slug != row[8]:
            raise refusal(403, "Forbidden", headers=headers)
        data = (loads_exact(request.body) or {}).get("data")
        if not isinstance(data, dict):
            raise refusal(400, "Bad request: the body needs a data object", "/data", headers)
        attributes, relationships = data.get("attributes") or {}, data.get("relationships") or {}
        if set(attributes) - ATTRIBUTES or set(relationships) - {"contact", "items"} or attributes.get("kind") != "income":
            raise not_served("Quipu invoices beyond income ones with a contact, items, dates and notes")
        try:
            on = date.fromisoformat(attributes["issue_date"])
        except (KeyError, TypeError, ValueError):
            raise refusal(422, "Is not a date (YYYY-MM-DD).", "/data/attributes/issue_date", headers) from None
        party_id = _id(((relationships.get("contact") or {}).get("data") or {}).get("id"))
        if party_id is None:
            raise refusal(422, "Can't be blank.", "/data/relationships/contact", headers)
        due_dates = attributes.get("due_dates")
        if due_dates is not None:
            due_dates = [date.fromisoformat(value) for value in due_dates]
        items = ((relationships.get("items") or {}).get("data")) or []
        lines = []
        for index, item in enumerate(items):
            sent = item.get("attributes") or {}
            pointer = f"/data/relationships/items/data/{index}/attributes"
            if set(sent) - ITEM_ATTRIBUTES or item.get("type") not in ("items", "book_entry_items", None):
                raise not_served("Quipu items beyond concept, amounts, quantity, VAT, retention and discount")
            if not sent.get("concept"):
                raise refusal(422, "Can't be blank.", f"{pointer}/concept", headers)
            rates = [_decimal(sent[name], f"{pointer}/{name}", ZERO, HUNDRED) if sent.get(name) is not None else ZERO
                     for name in ("vat_percent", "retention_percent", "discount_percent")]
            lines.append((sent["concept"], _decimal(sent.get("quantity", 1), f"{pointer}/quantity"),
                          _decimal(sent.get("unitary_amount", 0), f"{pointer}/unitary_amount"), *rates))
        (org_name, country, closed_until, found_id, is_customer, full_name, taxpayer_id, address, phone, terms_id,
         currency) = await connection.fetchrow(CONTEXT, org_id, party_id)
        if found_id is None:
            raise refusal(422, f"No customer with id {party_id}.", "/data/relationships/contact", headers)
        if not is_customer:
            raise not_served("invoicing a contact that is not a customer yet")
        reference = await floor.reference_of(connection, org_id)
        terms_id = terms_id or reference.default_terms_id
        unit = reference.unit(currency)
        amounts = [line_amounts(Line(quantity, price, discount, vat), retention, unit)
                   for _, quantity, price, vat, retention, discount in lines]
        subtotal = sum((a.base for a in amounts), ZERO)
        tax = sum((a.tax for a in amounts), ZERO)
        retention = sum((a.retention for a in amounts), ZERO)
        total = subtotal + tax - retention
        if retention:
            raise not_served("a retention (its account is created on first use)")
        explicit = bool(due_dates)
        if explicit:
            due = due_dates[0]
        else:
            settlements = schedule(total, on, reference.installments.get(terms_id, ()), unit)
            due = settlements[-1].due_date if settlements else on
        extra = {"quipu": {"due_dates": [day.isoformat() for day in due_dates]}} if due_dates is not None else {}
        if not (total or tax or any(a.base for a in amounts)):
            raise not_served("an invoice that posts nothing")
        income = compute_totals([Line(quantity, price, discount) for _, quantity, price, _, _, discount in lines], ZERO,
                                unit)
        taxes = by_rate(RateTax(line[3], amount.base, amount.tax) for line, amount in zip(lines, amounts))
        transaction_number = (await floor.numbers(org_id, ["transaction"]))["transaction"]
        async with floor.numbered(connection, org_id) as (code, number, before):
            # Comptoir numbers the invoice, then checks the period as it prepares its transaction.
            wrong = out_of_date_order(code, on, before)
            if wrong:
                raise refusal(422, wrong + ".", "/data/attributes/issue_date", headers)
            if closed_until is not None and on <= closed_until:
                raise refusal(422, f"{on} is in a closed period (closed until {closed_until}).",
                              "/data/attributes/issue_date", headers)
            postings = await floor.sale_postings(connection, org_id, code, party_id, total,
                                                 sum(income.net_lines, ZERO), spread_tax(tax, taxes, subtotal, unit))
            if not postings:
                raise not_served("an invoice that posts nothing")
            document_id, line_ids = await connection.fetchrow(
                WRITE, org_id, party_id, code, on, due, explicit, currency, attributes.get("notes") or "", terms_id,
                employee_id, subtotal, tax, total, extra, retention,
                [line[0] for line in lines], [line[1] for line in lines], [line[2] for line in lines],
                [line[5] for line in lines], [a.base for a in amounts], [line[3] for line in lines],
                [line[4] for line in lines], [a.tax for a in amounts], [a.retention for a in amounts],
                transaction_number, reference.role_journals["sales"], *ledger_args(postings, on), number)
    address = address or {}
    country_code = (address.get("country") or "")
    base = f"{floor.config.public_url.rstrip('/')}/quipu/invoices/{document_id}"
    link = URLSafeSerializer(floor.secret, salt=LINK_PURPOSE).dumps(
        {"document": document_id, "org": org_id, "exp": int(time.time()) + LINK_LIFETIME_S})
    attributes = {
        "number": code, "issue_date": on.isoformat(),
        "due_dates": [day.isoformat() for day in due_dates] if due_dates else [], "paid_at": None,
        "payment_method": None, "payment_status": "unpaid", "total_amount": money(total), "tags": "",
        "issuing_name": org_name, "issuing_tax_id": "", "issuing_address": "", "issuing_phone": "",
        "issuing_town": "", "issuing_zip_code": "", "issuing_country_code": country.lower() if len(country) == 2 else None,
        "recipient_name": full_name, "recipient_tax_id": taxpayer_id, "recipient_address": address.get("street_line1", ""),
        "recipient_phone": phone, "recipient_town": address.get("city", ""),
        "recipient_zip_code": address.get("postal_code", ""),
        "recipient_country_code": country_code.lower() if len(country_code) == 2 else None,
        "accounting_account_code": None, "kind": "income", "total_amount_without_taxes": money(subtotal),
        "vat_amount": money(tax), "retention_amount": money(retention), "notes": attributes.get("notes") or None,
        "stage": "final", "concepts": sorted({line[0] for line in lines if line[0]}), "filing_number": None,
        "last_sent_at": None, "download_pdf_url": f"{base}/download",
        "ephemeral_open_download_pdf_url": f"{base}/ephemeral_open_download?token={link}"}
    return 201, dumps({"data": {"id": str(document_id), "type": "invoices", "attributes": attributes, "relationships": {
        "contact": {"data": {"id": str(party_id), "type": "contacts"}},
        "items": {"data": [{"id": str(line_id), "type": "items"} for line_id in line_ids]},
        "amending_invoices": {"data": []}}}}), MEDIA_TYPE, headers
