"""Delivering the webhook outbox (services/webhooks.py writes it): `comptoir webhooks run`, or a
thread of `comptoir serve` when COMPTOIR_WEBHOOKS_IN_SERVE is on.

A worker claims a batch of due events in one short transaction (a lease, FOR UPDATE SKIP LOCKED on
PostgreSQL, so several workers never claim the same row), POSTs each one outside any transaction, then
records the outcome in another. An event is retried with exponential backoff up to
COMPTOIR_WEBHOOK_ATTEMPTS_MAX attempts, then marked failed. A worker that dies between the POST and
the record leaves the event claimed until its lease runs out; another worker then sends it again,
with the same id: delivery is at least once, and receivers deduplicate by the CloudEvents `id`.

Each POST is a CloudEvents 1.0 structured-mode event (`application/cloudevents+json`) signed in the
`X-OneConnect-Signature` header: a detached JWS (RS256) of the exact body, verifiable with the keys
published at /.well-known/jwks.json (docs/dialects/oneconnect.md shows how).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import httpx

from comptoir.codec import dump_json, iso_instant, parse_json
from comptoir.services.access import signing
from comptoir.settings import Settings
from comptoir.storage.database import Database
from comptoir.storage.outbox import OutboxQueue
from comptoir.storage.tables import OutboxEvent
from comptoir.storage.tables.base import utcnow

CONTENT_TYPE = "application/cloudevents+json"
SIGNATURE_HEADER = "X-OneConnect-Signature"
BATCH_SIZE = 20
ERROR_MAX = 1024
log = logging.getLogger("comptoir.webhooks")


def cloud_event(event: OutboxEvent, source: str) -> bytes:
    """The event's body: always the same bytes for the same event and source."""
    return dump_json({"specversion": "1.0", "id": event.uuid, "source": source, "type": event.type,
                      "datacontenttype": "application/json", "time": iso_instant(event.created_at),
                      "data": parse_json(event.data.encode("utf-8"))})


@dataclass(frozen=True)
class Attempt:
    """One claimed event, ready to send (url None: its partner no longer has a webhook URL)."""

    event_id: int
    attempts: int
    url: str | None
    body: bytes


class Worker:
    def __init__(self, database: Database, settings: Settings, *, http: httpx.Client | None = None,
                 batch_size: int = BATCH_SIZE) -> None:
        self.database, self.settings, self.batch_size = database, settings, batch_size
        self.http = http or httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)
        self.source = settings.public_url.rstrip("/")
        # Long enough to cover every POST of a batch: a live worker's claim never runs out.
        self.lease_s = batch_size * settings.webhook_timeout_s + 5

    def run_once(self) -> int:
        """Claim one batch of due events and attempt each; how many were attempted."""
        with self.database.transaction() as session:
            queue = OutboxQueue(session)
            claim, events = queue.claim(utcnow(), self.lease_s, self.batch_size)
            attempts = [Attempt(event.id, event.attempts, queue.endpoint_url(event),
                                cloud_event(event, event.source or self.source)) for event in events]
        for attempt in attempts:
            self._record(claim, attempt, *self._send(attempt))
        return len(attempts)

    def drain(self, rounds_max: int = 1000) -> int:
        """Attempt every event due now (bounded); how many attempts were made."""
        total = 0
        for _ in range(rounds_max):
            done = self.run_once()
            total += done
            if done == 0:
                break
        return total

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set, looking for due events every poll interval when idle."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database is away, say: log it and try again after a pause
                log.exception("webhook delivery round failed")
                busy = 0
            if not busy:
                stop.wait(self.settings.webhook_poll_interval_s)

    def _send(self, attempt: Attempt) -> tuple[int | None, str | None]:
        """The status code of the POST (None when it never got one) and what went wrong, if anything."""
        if attempt.url is None:
            return None, "the partner has no webhook URL any more"
        headers = {"Content-Type": CONTENT_TYPE,
                   SIGNATURE_HEADER: signing.sign_detached(self.database, attempt.body)}
        try:
            response = self.http.post(attempt.url, content=attempt.body, headers=headers)
        except httpx.HTTPError as error:
            return None, f"{type(error).__name__}: {error}"[:ERROR_MAX]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"

    def _record(self, claim: str, attempt: Attempt, status_code: int | None, error: str | None) -> None:
        now = utcnow()
        if error is None:
            values = {"status": "delivered", "delivered_at": now}
        elif attempt.url is None:
            values = {"status": "dropped"}
        elif attempt.attempts >= self.settings.webhook_attempts_max:
            values = {"status": "failed"}
        else:
            values = {"next_attempt_at": now + self.retry_delay(attempt.attempts)}
        with self.database.transaction() as session:
            OutboxQueue(session).record(attempt.event_id, claim, last_status_code=status_code, last_error=error,
                                        **values)

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the n-th failed attempt: the first delay, doubled each time, capped."""
        delay_s = self.settings.webhook_retry_delay_s * 2 ** min(attempts - 1, 30)
        return timedelta(seconds=min(delay_s, self.settings.webhook_retry_delay_max_s))


def start_in_background(database: Database, settings: Settings) -> tuple[threading.Thread, threading.Event]:
    """A worker on a daemon thread (for `comptoir serve`); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=Worker(database, settings).run, args=(stop,), name="webhooks", daemon=True)
    thread.start()
    return thread, stop


