"""OneConnect webhooks, the writing half: where each partner wants them, and the events, written
into the outbox in the same transaction as the change that causes them (a document accepted or
refused, an integration revoked). `jobs/webhooks.py` delivers them.

An event goes to every partner of the organization that has a webhook URL at the time of the change
(a DocumentStatus only to the partner that deposited the document). Its id, type, time and data are
fixed here; delivery is at least once, so receivers deduplicate by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from comptoir.codec import dump_json, iso_timestamp
from comptoir.domain.errors import ErrorKind, NotFound, fail
from comptoir.storage import outbox
from comptoir.storage.book import Book
from comptoir.storage.identity import IdentityStore
from comptoir.storage.tables import OutboxEvent, ReceivedDocument, WebhookEndpoint
from comptoir.storage.tables.base import utcnow

DOCUMENT_STATUS, REVOCATION = "DocumentStatus", "Revocation"
PENDING, DELIVERED, FAILED, DROPPED = "pending", "delivered", "failed", "dropped"
PARTNER = "oneconnect"
URL_MAX = 2048


# -- configuration -----------------------------------------------------------------------------

def set_endpoint(book: Book, partner_id: str, url: str) -> WebhookEndpoint:
    """Where the partner (its client id) receives webhooks from now on: an absolute http(s) URL."""
    _require_partner(book, partner_id)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        raise fail(ErrorKind.INVALID, "url", f"must be an absolute http or https URL of at most {URL_MAX} characters")
    endpoint = book.webhook_endpoints.find(partner_id=partner_id)
    if endpoint is None:
        return book.webhook_endpoints.add(WebhookEndpoint(partner_id=partner_id, url=url))
    endpoint.url = url
    book.flush()
    return endpoint


def remove_endpoint(book: Book, partner_id: str) -> None:
    """No more webhooks for this partner; its events not yet delivered are dropped when their turn comes."""
    endpoint = book.webhook_endpoints.find(partner_id=partner_id)
    if endpoint is None:
        raise NotFound("webhook endpoint of partner", partner_id)
    book.webhook_endpoints.remove(endpoint)


def _require_partner(book: Book, partner_id: str) -> None:
    credential = IdentityStore(book.session).credential(PARTNER, partner_id)
    if credential is None or credential.org_id != book.org_id:
        raise fail(ErrorKind.NOT_FOUND, "partner", f"no OneConnect partner {partner_id} in this organization")


# -- events ------------------------------------------------------------------------------------

def document_status(book: Book, document: ReceivedDocument, source: str | None) -> None:
    """DocumentStatus: the document was Accepted, or Refused (with the reason), told the partner that
    deposited it (one statement, which writes nothing when it has no webhook endpoint). `source`: the
    public URL of the server the partner deposited it at (the event's CloudEvents `source`)."""
    data = {"integrationId": document.integration_id, "documentId": document.uuid,
            "externalReference": document.external_reference, "documentState": document.status}
    if document.reason is not None:
        data["rejectedReason"] = document.reason
    outbox.emit_to(book.link, book.org_id, document.partner_id, DOCUMENT_STATUS, dump_json(data).decode("utf-8"),
                   utcnow(), source)


def revocation(book: Book, integration_id: str, reason: str, revoked_at: datetime,
               source: str | None = None) -> list[OutboxEvent]:
    """Revocation: the integration was revoked (by the partner, an administrator or a business event).
    `source`: as for `document_status` (None from the command line: the delivering worker's)."""
    data = {"integrationId": integration_id, "reason": reason, "revokedAt": iso_timestamp(revoked_at)}
    return _emit(book, [endpoint.partner_id for endpoint in book.webhook_endpoints.all()], REVOCATION, data, source)


def _emit(book: Book, partner_ids: Iterable[str], event_type: str, data: dict[str, Any],
          source: str | None) -> list[OutboxEvent]:
    subscribed = {endpoint.partner_id for endpoint in book.webhook_endpoints.all()}
    now = utcnow()
    return [book.outbox_events.add(OutboxEvent(partner_id=partner_id, type=event_type,
                                               data=dump_json(data).decode("utf-8"), source=source,
                                               status=PENDING, attempts=0,
                                               next_attempt_at=now, created_at=now))
            for partner_id in dict.fromkeys(partner_ids) if partner_id in subscribed]
