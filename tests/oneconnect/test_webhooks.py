"""Webhooks: DocumentStatus and Revocation events written into the outbox with the change that causes
them, delivered by the worker (in process, and as `comptoir webhooks run` processes) to a real HTTP
receiver on loopback, as signed CloudEvents that a receiver verifies with joserfc against the JWKS the
app serves; retried with backoff, bounded; redelivered with the same id after a worker is killed."""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from joserfc import jwk, jws
from joserfc.errors import BadSignatureError
from sqlalchemy import select

from comptoir.app import create_app
from comptoir.jobs.webhooks import SIGNATURE_HEADER, Worker
from comptoir.services.access import webhooks
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.storage.tables import OutboxEvent
from comptoir.storage.tables.base import utcnow

from ..conftest import make_context
from .conftest import LINE, Partner, invalid_fields, seed_entries


class Receiver:
    """A partner's webhook endpoint: a real HTTP server in a thread that keeps every POST and answers
    the statuses queued in `statuses` (200 once they run out)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.statuses: queue.Queue[int] = queue.Queue()
        self.on_post = None  # called with the body before answering
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name for it
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.on_post:
                    receiver.on_post(body)
                status = 200 if receiver.statuses.empty() else receiver.statuses.get()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oneconnect"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def subscribed(partner, context, french_org, receiver):
    with open_book(context.database, french_org.id) as book:
        webhooks.set_endpoint(book, french_org.oneconnect["client_id"], receiver.url)
    return partner


def outbox(context, org) -> list[OutboxEvent]:
    with context.database.transaction() as session:
        rows = list(session.scalars(select(OutboxEvent).where(OutboxEvent.org_id == org.id).order_by(OutboxEvent.id)))
        session.expunge_all()
    return rows


def _due_now(context, org) -> None:
    with context.database.transaction() as session:
        for row in session.scalars(select(OutboxEvent).where(OutboxEvent.org_id == org.id)):
            row.next_attempt_at = utcnow()


def verify(client, headers: dict, body: bytes) -> dict:
    """What a receiver does: the detached JWS of the header, with BASE64URL(body) put back between its
    dots, checked against the keys the server publishes; the verified body as JSON."""
    keys = jwk.KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    signature = jws.deserialize_compact(headers[SIGNATURE_HEADER.lower()], keys, payload=body)
    assert signature.protected["alg"] == "RS256" and signature.protected["kid"]
    return json.loads(signature.payload)


def test_document_status_events_are_signed_cloudevents(subscribed, receiver, context, client, french_org):
    accepted = subscribed.deposited("purchase", externalReference="FA-1", entries=seed_entries())
    refused = subscribed.deposited("sales", externalReference="VT-1", entries={"data": {"lines": [LINE]}})
    waiting = subscribed.deposited("purchase")
    assert [row.type for row in outbox(context, french_org)] == ["DocumentStatus", "DocumentStatus"]  # none for waiting
    assert subscribed.post_json(f"/documents/{waiting}/refuse", {"reason": "Duplicate of FA-1"}).status_code == 200

    Worker(context.database, context.settings).drain()

    events = {event["data"]["documentId"]: event for event in receiver.events()}
    assert set(events) == {accepted, refused, waiting}
    for headers, body in receiver.received:
        assert headers["content-type"] == "application/cloudevents+json"
        assert verify(client, headers, body) == json.loads(body)
    event = events[accepted]
    assert set(event) == {"specversion", "id", "source", "type", "datacontenttype", "time", "data"}
    assert (event["specversion"], event["type"], event["datacontenttype"]) == ("1.0", "DocumentStatus",
                                                                             "application/json")
    assert event["source"] == context.settings.public_url.rstrip("/")
    assert event["data"] == {"integrationId": french_org.oneconnect["integration_id"], "documentId": accepted,
                             "externalReference": "FA-1", "documentState": "Accepted"}
    assert events[refused]["data"]["documentState"] == "Refused"
    assert "not balanced" in events[refused]["data"]["rejectedReason"]
    assert events[waiting]["data"]["rejectedReason"] == "Duplicate of FA-1"
    assert {row.id: row.status for row in outbox(context, french_org)} == \
        {row.id: "delivered" for row in outbox(context, french_org)}


def test_the_source_is_the_server_the_partner_talks_to_whichever_worker_sends(subscribed, receiver, context):
    """Issue 16 §8: the CloudEvents `source` is the public URL of the server the partner's requests
    reached, the base of its token's `iss`, even when the worker that delivers runs apart with another
    configuration (`comptoir webhooks run` without the server's COMPTOIR_PUBLIC_URL)."""
    token = subscribed.headers["Authorization"].removeprefix("Bearer ")
    payload = token.split(".")[1]
    issuer = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iss"]
    waiting = subscribed.deposited("purchase")
    subscribed.deposited("purchase", externalReference="FA-9", entries=seed_entries())
    assert subscribed.post_json(f"/documents/{waiting}/refuse", {"reason": "Duplicate"}).status_code == 200
    elsewhere = context.settings.model_copy(update={"public_url": "http://worker.invalid:8080"})
    assert elsewhere.public_url != context.settings.public_url
    Worker(context.database, elsewhere).drain()
    sources = {event["source"] for event in receiver.events()}
    assert sources == {context.settings.public_url.rstrip("/")}
    assert issuer == context.settings.public_url.rstrip("/") + "/oneconnect"


def test_a_tampered_body_fails_verification(subscribed, receiver, context, client):
    subscribed.deposited("purchase", entries=seed_entries())
    Worker(context.database, context.settings).drain()
    [(headers, body)] = receiver.received
    with pytest.raises(BadSignatureError):
        verify(client, headers, body.replace(b"Accepted", b"Refused!"))


def test_revocation_is_an_event_too(subscribed, receiver, context, client, french_org):
    assert client.put(f"{subscribed.base}/revoke", headers=subscribed.headers).status_code == 200
    Worker(context.database, context.settings).drain()
    [event] = receiver.events()
    assert event["type"] == "Revocation"
    assert event["data"]["integrationId"] == french_org.oneconnect["integration_id"]
    assert event["data"]["reason"] == "Revoked by the partner" and event["data"]["revokedAt"].endswith("Z")


def test_a_refused_request_writes_no_event(subscribed, context, french_org):
    assert invalid_fields(subscribed.deposit(externalReference="bad ref", entries=seed_entries()))
    assert outbox(context, french_org) == []


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(subscribed, receiver, context, french_org):
    for _ in range(10):
        receiver.statuses.put(500)
    subscribed.deposited("purchase", entries=seed_entries())
    worker = Worker(context.database, context.settings)
    worker.run_once()
    [row] = outbox(context, french_org)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    worker.run_once()
    assert len(receiver.received) == 1  # not due again before the delay
    assert [worker.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert worker.retry_delay(30).total_seconds() == 3600
    _due_now(context, french_org)  # as if the delay had passed
    impatient = Worker(context.database, context.settings.model_copy(update={
        "webhook_retry_delay_s": 0.0, "webhook_attempts_max": 3}))
    impatient.drain()
    [row] = outbox(context, french_org)
    assert (row.status, row.attempts) == ("failed", 3)
    assert len({json.loads(body)["id"] for _, body in receiver.received}) == 1 and len(receiver.received) == 3


def test_an_answer_after_a_failure_delivers_the_same_event_id(subscribed, receiver, context, french_org):
    receiver.statuses.put(503)
    subscribed.deposited("purchase", entries=seed_entries())
    Worker(context.database, context.settings.model_copy(update={"webhook_retry_delay_s": 0.0})).drain()
    ids = [event["id"] for event in receiver.events()]
    assert len(ids) == 2 and ids[0] == ids[1] == outbox(context, french_org)[0].uuid
    assert outbox(context, french_org)[0].status == "delivered"


def test_concurrent_workers_deliver_each_event_once(subscribed, receiver, context, french_org):
    for n in range(30):
        subscribed.deposited("purchase", externalReference=f"MANY-{n}", entries=seed_entries())
    workers = [Worker(context.database, context.settings, batch_size=3) for _ in range(4)]
    threads = [threading.Thread(target=worker.drain) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ids = [event["id"] for event in receiver.events()]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert {row.status for row in outbox(context, french_org)} == {"delivered"}


def test_a_partner_without_a_url_gets_no_event_and_a_removed_url_drops_pending_ones(partner, receiver, context,
                                                                                      french_org):
    partner.deposited("purchase", entries=seed_entries())
    assert outbox(context, french_org) == []
    client_id = french_org.oneconnect["client_id"]
    with open_book(context.database, french_org.id) as book:
        webhooks.set_endpoint(book, client_id, receiver.url)
    partner.deposited("purchase", entries=seed_entries())
    with open_book(context.database, french_org.id) as book:
        webhooks.remove_endpoint(book, client_id)
    Worker(context.database, context.settings).drain()
    assert receiver.received == [] and [row.status for row in outbox(context, french_org)] == ["dropped"]


# -- the worker as a process -------------------------------------------------------------------

def _cli(database_url: str, *args: str, env: dict | None = None, **kwargs):
    environment = {**os.environ, "COMPTOIR_DATABASE_URL": database_url, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "comptoir.cli", *args], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_the_cli_sets_the_url_and_a_killed_worker_loses_nothing(database_url, partner, receiver, context, french_org):
    """`comptoir webhooks set-url`, then a `comptoir webhooks run` process killed (SIGKILL) while its
    POST is being answered: the event stays claimed, and once the lease is over the next worker sends
    it again under the same id, and records it delivered."""
    client_id = french_org.oneconnect["client_id"]
    bad = _cli(database_url, "webhooks", "set-url", french_org.slug, client_id, "ftp://nowhere")
    assert bad.wait(60) == 2 and "http" in bad.stdout.read()
    set_url = _cli(database_url, "webhooks", "set-url", french_org.slug, client_id, receiver.url)
    assert set_url.wait(60) == 0, set_url.stderr.read()
    partner.deposited("purchase", externalReference="CRASH-1", entries=seed_entries())

    settings = {"COMPTOIR_WEBHOOK_TIMEOUT_S": "1", "COMPTOIR_WEBHOOK_POLL_INTERVAL_S": "0.2"}
    worker = _cli(database_url, "webhooks", "run", "--batch-size", "1", env=settings)
    killed = threading.Event()

    def crash(body: bytes) -> None:
        if json.loads(body)["data"].get("externalReference") == "CRASH-1" and not killed.is_set():
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(30)
            killed.set()

    receiver.on_post = crash
    assert killed.wait(60), "the worker never delivered"
    [row] = outbox(context, french_org)
    assert (row.status, row.attempts) == ("pending", 1) and row.claim is not None  # sent, not recorded

    deadline = time.monotonic() + 30
    while row.status != "delivered" and time.monotonic() < deadline:
        again = _cli(database_url, "webhooks", "run", "--once", env=settings)
        assert again.wait(60) == 0, again.stderr.read()
        [row] = outbox(context, french_org)
        time.sleep(0.5)
    assert row.status == "delivered" and row.attempts == 2
    ids = [event["id"] for event in receiver.events() if event["data"].get("externalReference") == "CRASH-1"]
    assert ids == [row.uuid, row.uuid]  # at least once, and always under the same id


def test_serve_can_run_the_worker_itself(database_url, tmp_path, french_org, receiver):
    """COMPTOIR_WEBHOOKS_IN_SERVE: the app's lifespan runs a worker thread, stopped with the app."""
    context = make_context(database_url, tmp_path, webhooks_in_serve=True, webhook_poll_interval_s=0.1)
    with open_book(context.database, french_org.id) as book:
        webhooks.set_endpoint(book, french_org.oneconnect["client_id"], receiver.url)
    with TestClient(create_app(context=context)) as client:
        document_id = Partner(client, french_org).deposited("purchase", entries=seed_entries())
        deadline = time.monotonic() + 30
        while not any(event["data"]["documentId"] == document_id for event in receiver.events()):
            assert time.monotonic() < deadline, "the worker of the server delivered nothing"
            time.sleep(0.1)
    context.database.dispose()
