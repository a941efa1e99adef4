"""OneConnect's purchase invoice import as the floor serves it (dialects/oneconnect/documents.py,
services received_documents and received_invoices, ADR 0011 and 0015): a multipart deposit of a PDF
with its entries, which are booked at once (the document Accepted) and filed as a purchase invoice.

Every write Comptoir makes for it is made: the file in the file store (written whole under a
temporary name, fsync'ed, renamed into place; removed again when the database refuses the rest), its
`stored_files` row, the `received_documents` row (Accepted, decided), the transaction and its entries
with their day and month balances, the purchase invoice in `documents` with its attachment, and the
DocumentStatus event in the outbox when the partner has a webhook endpoint. Comptoir writes the
received document Waiting and then Accepted in the same transaction; the floor writes the row it
commits. What the benchmark does not send (accounts, journals or third parties the book lacks and
would create, entries that would be refused, counterparty metadata) is not served (501).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import tempfile
import time
import uuid
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from comptoir.domain import received as rules

from .app import (
    Answer,
    Floor,
    Request,
    balance_args,
    balance_deltas,
    balances_cte,
    digest,
    dumps,
    entries_cte,
    entry_args,
    format_code,
    not_served,
    posting,
    transaction_cte,
)

PROBLEM = b"application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
MAGIC = (("application/pdf", b"%PDF-"), ("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"))
TEXT_FIELDS = ("filename", "userEmail", "comment", "externalReference")


def problem(status: int, detail: str, error_code: str | None = None, **extensions: Any) -> Answer:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
                            "detail": detail}
    if error_code:
        body["errorCode"] = error_code
    headers = [(b"www-authenticate", b'Bearer realm="OneConnect"')] if status == 401 else []
    return Answer(status, {**body, **extensions}, PROBLEM, headers)


def invalid(errors: list[dict[str, str]]) -> Answer:
    return problem(400, "; ".join(f"{e['field']}: {e['detail']}" for e in errors), "VALIDATION_ERROR", errors=errors)


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _claims(floor: Floor, connection: asyncpg.Connection, token: str) -> dict | None:
    """The claims of a JWT the server signed (RS256, its keys by kid, kept per process once read: a
    key never changes) that has not expired; None otherwise."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = orjson.loads(_b64(header_b64))
        key = floor._keys.get(header.get("kid"))
        if key is None:
            for kid, pem in await connection.fetch("SELECT kid, private_pem FROM signing_keys"):
                floor._keys[kid] = serialization.load_pem_private_key(pem.encode(), None).public_key()
            key = floor._keys.get(header.get("kid"))
        if key is None or header.get("alg") != "RS256":
            return None
        key.verify(_b64(signature_b64), f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        claims = orjson.loads(_b64(payload_b64))
    except (ValueError, TypeError, InvalidSignature, orjson.JSONDecodeError):
        return None
    return claims if int(claims.get("exp", 0)) > int(time.time()) else None


CREDENTIALS = """
SELECT kind, org_id, secret_hash, revoked_at, revocation_reason FROM credentials
WHERE (kind = 'oneconnect' AND identifier = $1) OR (kind = 'oneconnect_integration' AND identifier = $2)
"""


def _parts(request: Request) -> dict[str, tuple[bytes, str | None]]:
    """The parts of a multipart/form-data body: name -> (bytes, file name)."""
    content_type = request.header(b"content-type")
    boundary = next((p.strip()[9:].strip('"') for p in content_type.split(";") if p.strip().startswith("boundary=")),
                    None)
    if not content_type.startswith("multipart/form-data") or not boundary:
        raise invalid([{"field": "body", "detail": "the body must be multipart/form-data (with a boundary)"}])
    found: dict[str, tuple[bytes, str | None]] = {}
    for chunk in request.body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk[2:].partition(b"\r\n\r\n")
        disposition = next((line for line in head.decode("latin-1").split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        params = dict(part.strip().split("=", 1) for part in disposition.split(";")[1:] if "=" in part)
        name = params.get("name", "").strip('"')
        if name in found:
            raise invalid([{"field": name, "detail": "is sent more than once"}])
        filename = params.get("filename")
        found[name] = (data[:-2] if data.endswith(b"\r\n") else data, filename.strip('"') if filename else None)
    return found


def _sniff(data: bytes) -> str | None:
    for content_type, magic in MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:2] == b"BM" and len(data) >= 26 and int.from_bytes(data[14:18], "little") in {12, 40, 52, 56, 64, 108, 124}:
        return "image/bmp"
    return None


def _safe_filename(name: str, default: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return (name or default)[-255:]


def _iso_instant(value) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


CONTEXT = """
SELECT o.uuid, o.currency_iso_code, o.chart, o.closed_until,
       (SELECT ROW(r.uuid, r.deposited_at) FROM received_documents r
         WHERE r.org_id = o.id AND r.integration_id = $2 AND r.external_reference = $3),
       (SELECT array_agg(ROW(a.id, a.number, a.role, a.is_family)) FROM accounts a
         WHERE a.org_id = o.id AND (a.number = ANY($4::text[])
                                    OR coalesce(nullif(rtrim(a.number, '0'), ''), '0') = ANY($5::text[]))),
       (SELECT j.id FROM journals j WHERE j.org_id = o.id AND j.code = $6),
       (SELECT array_agg(ROW(p.vendor_code, p.id)) FROM parties p
         WHERE p.org_id = o.id AND p.vendor_code = ANY($7::text[]) AND p.is_vendor),
       EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.org_id = o.id AND w.partner_id = $8)
FROM organizations o WHERE o.id = $1
"""

WRITE = f"""
WITH f AS (
  INSERT INTO stored_files (org_id, uuid, created_at, updated_at, filename, content_type, byte_size, sha256, storage_key)
  VALUES ($1, $2, now(), now(), $3, $4, $5, $6, $7) RETURNING id),
r AS (
  INSERT INTO received_documents (org_id, uuid, created_at, updated_at, integration_id, partner_id, kind, file_id,
                                  filename, user_email, comment, external_reference, entries, counterparty, status,
                                  reason, party_id, deposited_at, decided_at)
  SELECT $1, $8, now(), now(), $9, $10, 'purchase', f.id, $11, $12, $13, $14, $15, NULL, 'Accepted', NULL, $16, now(),
         now()
  FROM f RETURNING id),
{transaction_cte(17, on=18, journal=19, piece=20, currency=21, source="r")},
{entries_cte(22, taxed=False)},
d AS (
  INSERT INTO documents (org_id, uuid, created_at, updated_at, kind, customer_id, user_code, po_number, date, due_date,
                         due_date_explicit, currency_iso_code, reduce_rate, public_note, private_note, subtotal,
                         reduce_amount, tax_amount, fixed_tax_amount, total, retention_amount, taxes_per_line,
                         vendor_reference, extra, delivery_status, sent, cancelled)
  SELECT $1, $8, now(), now(), 'purchase_invoice', $16, $30, '', $18, $31, $32, $21, 0, '', $33, $34, 0, $35, $35, $36,
         0, false, $37, $38, 1, false, false
  FROM r RETURNING id),
att AS (
  INSERT INTO attachments (org_id, document_id, stored_file_id, created_at, updated_at)
  SELECT $1, d.id, f.id, now(), now() FROM d, f),
outbox AS (
  INSERT INTO outbox_events (org_id, uuid, partner_id, type, data, source, status, attempts, next_attempt_at,
                             created_at)
  SELECT $1, gen_random_uuid()::text, $10, 'DocumentStatus', $39, $47, 'pending', 0, now(), now() FROM r WHERE $40),
{balances_cte(41, "t")}
SELECT r.id FROM r
"""


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def import_invoice(floor: Floor, request: Request, integration_id: str, kind: str) -> tuple:
    """4 statements once the signing keys are known: the partner's and the integration's credentials
    (one statement); the organization, the externalReference, the accounts, the journal, the third
    parties and the webhook endpoint (one); the transaction's number and the purchase invoice's
    (ADR 0016); then every row of the document in one statement (one durable commit). The file is
    written and fsync'ed before that statement, in a thread."""
    async with floor.pool.acquire() as connection:
        scheme, _, token = request.header(b"authorization").partition(" ")
        claims = await _claims(floor, connection, token.strip()) if scheme.lower() == "bearer" else None
        if not claims or claims.get("aud") != "oneconnect":
            raise problem(401, "The access token is missing, invalid or expired.")
        secret = request.header(b"x-oneconnect-api-key") or request.header(b"x-one-connect-api-key")
        rows = {row[0]: row for row in await connection.fetch(CREDENTIALS, claims.get("sub", ""), integration_id)}
        partner = rows.get("oneconnect")
        if partner is None or partner[3] is not None:
            raise problem(401, "The partner credentials behind this token are revoked.")
        if not secret:
            raise problem(401, "The integration secret is missing: send it in the x-oneconnect-api-key header.")
        integration = rows.get("oneconnect_integration")
        if integration is None or integration[1] != partner[1]:
            raise problem(404, f"No integration {integration_id}.", "SMB_NOTFOUND")
        if not hmac.compare_digest(digest(secret), integration[2]):
            raise problem(401, "The integration secret is wrong.")
        if integration[3] is not None:
            raise problem(401, f"The integration is revoked: {integration[4]}", "SMB_CLOSED", reason=integration[4])
        org_id, partner_id = partner[1], claims["sub"]

        parts = _parts(request)
        if "organization" in parts:
            raise not_served("counterparty metadata (organization)")
        data = parts.get("file", (b"", None))[0]
        fields = {name: parts[name][0].decode("utf-8") for name in TEXT_FIELDS if name in parts}
        try:
            entries = json.loads(parts["entries"][0], parse_float=Decimal) if "entries" in parts else None
            if isinstance(entries, str):
                entries = json.loads(entries, parse_float=Decimal)
        except ValueError as error:
            raise invalid([{"field": "entries", "detail": f"is not JSON: {error}"}]) from None
        if entries is None:
            raise not_served("a deposit without entries (it waits for a decision)")
        sniffed = _sniff(data) if data else None
        external_reference = fields.get("externalReference") or None
        problems = rules.deposit_problems(
            filename=fields.get("filename"), sniffed_type=sniffed, has_file=bool(data),
            user_email=fields.get("userEmail") or None, comment=fields.get("comment"),
            external_reference=external_reference)
        raw_lines = ((entries.get("data") or {}).get("lines") if isinstance(entries, dict) else None) or []
        raw_lines = [line for line in raw_lines if isinstance(line, dict)]
        numbers_sent = sorted({str(line.get("account") or "").strip() for line in raw_lines})
        (org_uuid, currency, chart, closed_until, taken, accounts, journal_id, vendors, subscribed) = \
            await connection.fetchrow(
                CONTEXT, org_id, integration_id, external_reference, numbers_sent,
                [rules.significant(number) for number in numbers_sent],
                str(raw_lines[0].get("journal") or "").strip() if raw_lines else "",
                sorted({str(line.get("thirdParty") or "").strip() for line in raw_lines}), partner_id)
        reference = await floor.reference_of(connection, org_id)
        lines, line_problems = rules.entries_lines(entries, reference.minor_units.get(currency, 2))
        problems = [*problems, *line_problems]
        if problems:
            raise invalid([{"field": p.field or "entries", "detail": p.message} for p in problems])
        if taken is not None:
            raise problem(409, "externalReference already used for this integration", "DUPLICATE_EXTERNAL_REFERENCE",
                          documentId=taken[0], depositDate=_iso_instant(taken[1]))
        on, date_problems = rules.one_value(lines, "on", "date")
        _journal, journal_problems = rules.one_value(lines, "journal", "journal")
        chart_rows = [SimpleNamespace(id=row[0], number=row[1], role=row[2], is_family=row[3]) for row in accounts or ()]
        by_number = {line.account: rules.matching_account(line.account, chart_rows) for line in lines}
        vendor_ids = dict(vendors or ())
        thirds = [line.third_party for line in lines if line.third_party]
        if date_problems or journal_problems or journal_id is None or None in by_number.values() \
                or any(account.is_family for account in by_number.values()) \
                or any(third.code not in vendor_ids for third in thirds) \
                or (closed_until is not None and on <= closed_until):
            raise not_served("entries the book would refuse, or that name accounts, journals or third parties it "
                             "lacks (Comptoir creates them)")
        postings = [posting(by_number[line.account].id, way, amount, line.label[:128], None,
                            vendor_ids[line.third_party.code] if line.third_party else None)
                    for line in lines for way, amount in (("debit", line.debit), ("credit", line.credit)) if amount]
        if sum(p[2] for p in postings if p[1] == "debit") != sum(p[2] for p in postings if p[1] == "credit") \
                or len(postings) < 2:
            raise not_served("entries that do not balance (the document would be Refused)")
        party_id = vendor_ids[thirds[0].code] if thirds else None
        if party_id is None:
            raise not_served("a document that names no third party (it goes to the walk-in vendor)")
        amounts = rules.invoice_amounts(lines, rules.PURCHASE, by_number, chart)
        if amounts.credit:
            raise not_served("entries that make a vendor credit")
        document_uuid, file_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        number = external_reference or document_uuid
        numbers = await floor.numbers(org_id, ["transaction", "purchase_invoice"], "purchase_invoice", "PINV")
        key = f"{org_uuid}/{file_uuid[:2]}/{file_uuid}"
        path = floor.config.files_dir / key
        await asyncio.to_thread(_store, path, data)
        event = dumps({"integrationId": integration_id, "documentId": document_uuid,
                       "externalReference": external_reference, "documentState": "Accepted"}).decode()
        try:
            await connection.fetchrow(
                WRITE, org_id, file_uuid, _safe_filename(fields["filename"], file_uuid), sniffed, len(data),
                hashlib.sha256(data).hexdigest(), key, document_uuid, integration_id, partner_id, fields["filename"],
                fields.get("userEmail") or None, fields.get("comment"), external_reference, dumps(entries).decode(),
                party_id, numbers["transaction"], on, journal_id, number, currency, *entry_args(postings, on, taxed=False),
                format_code("PINV", numbers["purchase_invoice"]), amounts.due_on or on, amounts.due_on is not None,
                fields.get("comment") or "", amounts.base, amounts.tax, amounts.total, number,
                {"oneconnect": {"documentId": document_uuid, "integrationId": integration_id}}, event, subscribed,
                *balance_args(balance_deltas({}, on, postings)), floor.config.public_url.rstrip("/"))
        except BaseException as error:
            path.unlink(missing_ok=True)  # the file follows its row: the transaction rolled back
            if isinstance(error, asyncpg.UniqueViolationError):
                raise problem(409, "externalReference already used for this integration",
                              "DUPLICATE_EXTERNAL_REFERENCE") from None
            raise
    return 200, dumps({"documentId": document_uuid}), b"application/json", []
