"""Crashes: `kill -9` of the server (`comptoir serve`) and of the webhook worker (`comptoir webhooks
run`) at random moments while clients import many documents (OneConnect purchase invoices with their
entries, Upflow invoices), on PostgreSQL. Each killed process is started again at once; the clients
send again what got no answer (an import is keyed: a OneConnect externalReference, an Upflow
externalId), as an integrator's retry does.

Afterwards:
- the book balances: the trial balance's debits equal its credits, every transaction balances;
- nothing is half-written: every OneConnect document and every Upflow invoice has its transaction,
  every stored file has its row and every row its file (with the right size);
- running the whole import again changes nothing: 409 DUPLICATE_EXTERNAL_REFERENCE for every
  OneConnect document, 200 for every Upflow invoice, and exactly one document of each key;
- the webhook receiver got every event of the outbox at least once, never one id with two payloads,
  and there is exactly one DocumentStatus event per document.

A stress run, skipped unless COMPTOIR_STRESS=1 (docs/reliability.md):

    COMPTOIR_STRESS=1 COMPTOIR_CRASH_KILLS=20 COMPTOIR_CRASH_DOCUMENTS=10000 \\
      COMPTOIR_TEST_DATABASE_URL=postgresql+psycopg://... python -m pytest -q -s tests/stress/test_crashes.py
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import simplejson
from sqlalchemy import func, select

from comptoir.domain.ledger import DEBIT
from comptoir.services.access import webhooks
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.tenancy.organizations import create_organization
from comptoir.storage.tables import Document, Entry, OutboxEvent, ReceivedDocument, StoredFile, Transaction

from ..auth.test_limits_redis import free_port
from ..oneconnect.conftest import seed_entries
from ..oneconnect.test_webhooks import Receiver
from .conftest import stress_only

KILLS = int(os.environ.get("COMPTOIR_CRASH_KILLS", "20"))
DOCUMENTS = int(os.environ.get("COMPTOIR_CRASH_DOCUMENTS", "10000"))
CLIENTS = int(os.environ.get("COMPTOIR_CRASH_CLIENTS", "4"))
SEED = int(os.environ.get("COMPTOIR_CRASH_SEED", "9"))
TIMEOUT_S = 30


@dataclass
class Managed:
    """A process of ours: started in its own session, killed with SIGKILL by its pid, started again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: object = None  # a callable: True once the process serves
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"\n--- start {self.starts} ---\n")
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while self.ready is not None and not self.ready():
            assert self.process.poll() is None, f"{self.name} died at start:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.name} did not come up:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.05)

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


def _healthy(base: str):
    def check() -> bool:
        try:
            return httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    return check


@dataclass
class Run:
    base: str
    org: object
    partner_headers: dict
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    anomalies: list[str] = field(default_factory=list)
    retries: int = 0

    @property
    def done(self) -> int:
        return sum(self.acknowledged.values())


def documents(count: int) -> list[tuple[str, str]]:
    """(kind, key): every other one a OneConnect purchase invoice, the others Upflow invoices."""
    return [("oneconnect", f"CR-{n}") if n % 2 == 0 else ("upflow", f"UI-{n}") for n in range(count)]


def pdf_of(key: str) -> bytes:
    return b"%PDF-1.4\n% " + key.encode() + b"\n" + hashlib.sha256(key.encode()).hexdigest().encode() + b"\n%%EOF\n"


def entries_of(key: str) -> str:
    entries = seed_entries()
    amount = 100 + int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % 900
    for line in entries["data"]["lines"]:
        line["reference"] = key
        for side in ("debit", "credit"):
            if line[side]["amount"]:
                line[side]["amount"] = line[side]["currencyAmount"] = amount
    return simplejson.dumps(entries)


def send(http: httpx.Client, run: Run, kind: str, key: str) -> httpx.Response:
    org = run.org
    if kind == "oneconnect":
        return http.post(f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}/purchase-invoices",
                         headers=run.partner_headers, files={"file": ("invoice.pdf", pdf_of(key), "application/pdf")},
                         data={"filename": "invoice.pdf", "externalReference": key, "entries": entries_of(key)})
    number = int(key.split("-")[1])
    return http.post("/upflow/v1/invoices", headers={"X-Api-Key": org.upflow["api_key"],
                                                     "X-Api-Secret": org.upflow["api_secret"]},
                     json={"externalId": key, "customId": key, "issuedAt": "2024-05-02", "dueDate": "2024-06-02",
                           "currency": "EUR", "netAmount": 1000 + number, "grossAmount": 1200 + number,
                           "customer": {"externalId": "CRASH-C"}})


def accepted(kind: str, response: httpx.Response, first_pass: bool) -> bool:
    if kind == "upflow":
        return response.status_code == 200
    if response.status_code == 409:
        return response.json().get("errorCode") == "DUPLICATE_EXTERNAL_REFERENCE"
    return response.status_code == 200 and first_pass


def importer(run: Run, work: queue.Queue, first_pass: bool) -> None:
    """Send every document until it is answered; a request without an answer (the server died) is
    sent again once the server is back."""
    http = httpx.Client(base_url=run.base, timeout=TIMEOUT_S)
    while True:
        try:
            kind, key = work.get_nowait()
        except queue.Empty:
            break
        for _ in range(1000):
            try:
                response = send(http, run, kind, key)
            except httpx.HTTPError:
                with run.lock:
                    run.retries += 1
                time.sleep(0.2)
                http.close()
                http = httpx.Client(base_url=run.base, timeout=TIMEOUT_S)
                continue
            with run.lock:
                run.statuses[(kind, response.status_code)] += 1
            if accepted(kind, response, first_pass):
                with run.lock:
                    run.acknowledged[kind] += 1
                break
            if response.status_code >= 500:  # the database restarting under a live server, say: try again
                with run.lock:
                    run.retries += 1
                time.sleep(0.2)
                continue
            with run.lock:
                run.anomalies.append(f"{key}: refused {response.status_code} {response.text[:200]}")
            break
    http.close()


def import_all(run: Run, docs: list[tuple[str, str]], first_pass: bool) -> None:
    work: queue.Queue = queue.Queue()
    for doc in docs:
        work.put(doc)
    threads = [threading.Thread(target=importer, args=(run, work, first_pass)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def killer(run: Run, server: Managed, worker: Managed, thresholds: list[int], kills: list[str],
           finished: threading.Event) -> None:
    """Kill -9 the server or the worker each time the import passes the next threshold (after a random
    few milliseconds, so the kill lands anywhere in a request), then start it again."""
    rng = random.Random(SEED)
    for threshold in thresholds:
        while run.done < threshold and not finished.is_set():
            time.sleep(0.005)
        if finished.is_set():
            return
        time.sleep(rng.uniform(0, 0.3))
        target = server if rng.random() < 0.6 else worker
        target.kill9()
        kills.append(target.name)
        target.start()


@stress_only
def test_kill_9_during_an_import_loses_nothing(database_url, context, tmp_path, postgres_only):
    data_dir = tmp_path / "data"
    files_dir = data_dir / "files"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_DATA_DIR": str(data_dir),
           "COMPTOIR_FILES_DIR": str(files_dir), "COMPTOIR_RATE_LIMITS": "off", "COMPTOIR_SECRET_KEY": "crash-test",
           "COMPTOIR_PUBLIC_URL": base, "COMPTOIR_WEBHOOK_TIMEOUT_S": "1", "COMPTOIR_WEBHOOK_POLL_INTERVAL_S": "0.1",
           "COMPTOIR_WEBHOOK_RETRY_DELAY_S": "0.5", "COMPTOIR_WEBHOOK_RETRY_DELAY_MAX_S": "2"}
    org = create_organization(context.database, "Crash Test", currency="EUR", country="FR", chart="pcg")
    receiver = Receiver()
    with open_book(context.database, org.id) as book:
        webhooks.set_endpoint(book, org.oneconnect["client_id"], receiver.url)
    cli = [sys.executable, "-m", "comptoir.cli"]
    server = Managed("server", [*cli, "serve", "--port", str(port)], env, tmp_path / "server.log", _healthy(base))
    worker = Managed("worker", [*cli, "webhooks", "run", "--batch-size", "5"], env, tmp_path / "worker.log")
    kills: list[str] = []
    try:
        server.start()
        worker.start()
        token = httpx.post(base + "/oneconnect/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": org.oneconnect["client_id"],
            "client_secret": org.oneconnect["client_secret"]}).json()["access_token"]
        run = Run(base, org, {"Authorization": f"Bearer {token}", "x-oneconnect-api-key": org.oneconnect["integration_secret"]})
        assert httpx.post(base + "/upflow/v1/customers", json={"externalId": "CRASH-C", "name": "Crash customer"},
                          headers={"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]}
                          ).status_code == 200
        docs = documents(DOCUMENTS)
        rng = random.Random(SEED)
        thresholds = sorted(rng.sample(range(DOCUMENTS // 20, DOCUMENTS - DOCUMENTS // 20), KILLS))
        finished = threading.Event()
        started = time.monotonic()
        killing = threading.Thread(target=killer, args=(run, server, worker, thresholds, kills, finished))
        killing.start()
        import_all(run, docs, first_pass=True)
        finished.set()
        killing.join()
        import_seconds = time.monotonic() - started

        # The import again, from the start: nothing new may appear.
        again = Run(base, org, run.partner_headers)
        import_all(again, docs, first_pass=False)

        # Let the worker deliver everything (a killed worker's lease runs out first).
        deadline = time.monotonic() + 120
        while True:
            with context.database.transaction() as session:
                pending = session.scalar(select(func.count()).select_from(OutboxEvent).where(
                    OutboxEvent.org_id == org.id, OutboxEvent.status == "pending"))
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        trial = httpx.get(base + "/oneup/v1/reports/trial_balance", auth=(org.oneup.email, org.oneup.api_key)).json()
    finally:
        server.stop()
        worker.stop()
        receiver.close()
    # What the killed servers left in the file store: files their uncommitted transactions wrote.
    sweep = subprocess.run([*cli, "files", "sweep", "--older-than", "0"], env=env, capture_output=True, text=True,
                           check=False,
                           timeout=120)
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    swept = [line.strip() for line in sweep.stdout.splitlines()[1:] if line.strip()]

    problems = list(run.anomalies) + [f"re-run: {a}" for a in again.anomalies]
    expected = Counter(kind for kind, _ in docs)
    problems += [f"re-run acknowledged {again.acknowledged[k]} of {n} {k} documents" for k, n in expected.items()
                 if again.acknowledged[k] != n]
    if len(kills) != KILLS:
        problems.append(f"{len(kills)} kills of {KILLS}: the import ended first")
    if trial["total_debit"] != trial["total_credit"]:
        problems.append(f"unbalanced trial balance {trial['total_debit']} != {trial['total_credit']}")

    with context.database.transaction() as session:
        sums = session.execute(
            select(Entry.transaction_id,
                   func.sum(Entry.amount).filter(Entry.way == DEBIT), func.sum(Entry.amount).filter(Entry.way != DEBIT))
            .where(Entry.org_id == org.id).group_by(Entry.transaction_id)).all()
        unbalanced = [row for row in sums if (row[1] or 0) != (row[2] or 0)]
        problems += [f"transaction {row[0]} unbalanced: {row[1]} / {row[2]}" for row in unbalanced[:10]]
        posted = {(t.source_type, t.source_id) for t in session.scalars(
            select(Transaction).where(Transaction.org_id == org.id))}
        received = list(session.scalars(select(ReceivedDocument).where(ReceivedDocument.org_id == org.id)))
        invoices = list(session.scalars(select(Document).where(Document.org_id == org.id, Document.kind == "invoice")))
        stored = {row.storage_key: row.byte_size for row in session.scalars(
            select(StoredFile).where(StoredFile.org_id == org.id))}
        events = list(session.scalars(select(OutboxEvent).where(OutboxEvent.org_id == org.id)))
        session.expunge_all()

    references = Counter(document.external_reference for document in received)
    problems += [f"{count} OneConnect documents {reference}" for reference, count in references.items() if count != 1]
    if set(references) != {key for kind, key in docs if kind == "oneconnect"}:
        problems.append(f"{len(references)} OneConnect references in the book, {expected['oneconnect']} imported")
    problems += [f"OneConnect document {d.external_reference} is {d.status}" for d in received if d.status != "Accepted"]
    problems += [f"OneConnect document {d.external_reference} has no transaction" for d in received
                 if ("received_document", d.id) not in posted]
    externals = Counter(invoice.external_id for invoice in invoices)
    problems += [f"{count} Upflow invoices {key}" for key, count in externals.items() if count != 1]
    if set(externals) != {key for kind, key in docs if kind == "upflow"}:
        problems.append(f"{len(externals)} Upflow invoices in the book, {expected['upflow']} imported")
    problems += [f"Upflow invoice {i.external_id} has no transaction" for i in invoices if ("invoice", i.id) not in posted]
    root = files_dir.resolve()
    on_disk = {str(path.relative_to(root)): path.stat().st_size for path in (root / org.uuid).rglob("*")
               if path.is_file()} if (root / org.uuid).exists() else {}
    temporary = [key for key in on_disk if Path(key).name.startswith(".")]
    problems += [f"a half-written temporary file is left: {key}" for key in temporary[:10]]
    problems += [f"a file without its row: {key}" for key in sorted(set(on_disk) - set(stored) - set(temporary))[:10]]
    problems += [f"a row without its file: {key}" for key in sorted(set(stored) - set(on_disk))[:10]]
    problems += [f"{key}: {on_disk[key]} bytes on disk, {size} in its row" for key, size in stored.items()
                 if key in on_disk and on_disk[key] != size][:10]
    if len(stored) != len(received):
        problems.append(f"{len(stored)} stored files for {len(received)} OneConnect documents")

    status_events = Counter(json.loads(event.data)["documentId"] for event in events if event.type == "DocumentStatus")
    problems += [f"{count} DocumentStatus events for document {d}" for d, count in status_events.items() if count != 1]
    if set(status_events) != {d.uuid for d in received}:
        problems.append(f"DocumentStatus events for {len(status_events)} documents, {len(received)} documents")
    problems += [f"event {e.uuid} is {e.status} after {e.attempts} attempts" for e in events if e.status != "delivered"][:10]
    bodies: dict[str, set[bytes]] = defaultdict(set)
    deliveries: Counter[str] = Counter()
    for _, body in list(receiver.received):
        bodies[json.loads(body)["id"]].add(body)
        deliveries[json.loads(body)["id"]] += 1
    problems += [f"event {e.uuid} never reached the receiver" for e in events if e.uuid not in bodies][:10]
    problems += [f"event {i} delivered with {len(b)} different payloads" for i, b in bodies.items() if len(b) > 1][:10]

    summary = {"documents": DOCUMENTS, "kills": dict(Counter(kills)), "server starts": server.starts,
               "worker starts": worker.starts, "import seconds": round(import_seconds, 1),
               "requests sent again after a crash": run.retries, "transactions": len(posted),
               "stored files": len(stored), "files a crash left, swept": len(swept), "events": len(events),
               "deliveries": len(receiver.received),
               "event ids delivered more than once": sum(1 for count in deliveries.values() if count > 1),
               "problems": len(problems)}
    print(f"\ncrashes: {summary}")
    if os.environ.get("COMPTOIR_CRASH_REPORT"):
        Path(os.environ["COMPTOIR_CRASH_REPORT"]).write_text(json.dumps({**summary, "first problems": problems[:30]},
                                                                       indent=2) + "\n")
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:30])



# -- the sweep, in CI ---------------------------------------------------------------------------------

CRASHING_STORE = """
import os, sys
from pathlib import Path
from comptoir.services.documents import files
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.storage.database import Database
database = Database(sys.argv[1])
with open_book(database, int(sys.argv[3])) as book:
    stored = files.store(book, Path(sys.argv[2]), "lost.pdf", files.PDF, b"%PDF-1.4 lost")
    print(stored.storage_key, flush=True)
    os.kill(os.getpid(), 9)  # dies before its transaction commits or rolls back
"""


def test_the_sweep_removes_what_a_killed_process_left(database_url, context, org, tmp_path):
    """A process killed between writing a file and committing its row leaves the file behind (a
    rollback would have removed it); `files.sweep` removes it, and half-written temporary files, once
    they are older than its grace, and never a file that has its row."""
    from comptoir.services.documents import files

    root = tmp_path / "files"
    with open_book(context.database, org.id) as book:
        kept = files.store(book, root, "kept.pdf", files.PDF, b"%PDF-1.4 kept").storage_key
    crashed = subprocess.run([sys.executable, "-c", CRASHING_STORE, database_url, str(root), str(org.id)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    lost = crashed.stdout.strip()
    assert (root / lost).exists()
    half = root / kept.rsplit("/", 1)[0] / ".0000-half-written.tmp"
    half.write_bytes(b"%PDF-1.4 hal")
    assert files.sweep(context.database, root) == []  # younger than the grace: a transaction may be running
    assert sorted(files.sweep(context.database, root, older_than_s=0)) == sorted(
        [lost, half.relative_to(root).as_posix()])
    assert (root / kept).exists() and not (root / lost).exists() and not half.exists()
