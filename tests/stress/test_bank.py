"""A bank in the style of Jepsen, on PostgreSQL: writers move money between six accounts of one book
with balanced OneUp transactions (create, change, delete), readers read the trial balance and single
transactions all the while, over a real uvicorn.

Every read must be balanced: the trial balance's debits equal its credits and the six accounts
together hold nothing (every transfer stays among them); every transaction read balances. At the end
the book holds exactly the acknowledged writes: every acknowledged transaction as last acknowledged,
no deleted or refused one, and each account's balance is the sum of the acknowledged movements (no
lost update, no phantom). A write answered 5xx, or not at all, is an anomaly.

CI runs it for a few seconds (COMPTOIR_BANK_SECONDS, default 4); the stress run for minutes:

    COMPTOIR_BANK_SECONDS=300 COMPTOIR_BANK_REPORT=/tmp/bank.json \\
      COMPTOIR_TEST_DATABASE_URL=postgresql+psycopg://... python -m pytest -q tests/stress/test_bank.py
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import simplejson

from comptoir.app import create_app
from comptoir.services.tenancy.organizations import create_organization

from ..helpers import served

SECONDS = float(os.environ.get("COMPTOIR_BANK_SECONDS", "4"))
WRITERS = int(os.environ.get("COMPTOIR_BANK_WRITERS", "6"))
READERS = int(os.environ.get("COMPTOIR_BANK_READERS", "3"))
SEED = int(os.environ.get("COMPTOIR_BANK_SEED", "20261122"))
ACCOUNTS = 6
TIMEOUT_S = 60


def decimal_json(response: httpx.Response):
    return simplejson.loads(response.text, use_decimal=True)


@dataclass
class Bank:
    """What the clients know: acknowledged transactions by piece number, and every anomaly seen."""

    accounts: list[int]
    lock: threading.Lock = field(default_factory=threading.Lock)
    alive: dict[str, tuple[int, dict[int, Decimal]]] = field(default_factory=dict)  # piece -> (id, movements)
    deleted: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    anomalies: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def anomaly(self, text: str) -> None:
        with self.lock:
            self.anomalies.append(text)


def transfer(rng: random.Random, accounts: list[int]) -> tuple[list[dict], dict[int, Decimal]]:
    """Entries moving a random amount from one account to one or two others, and their movements."""
    source, *targets = rng.sample(accounts, rng.choice((2, 3)))
    amount = Decimal(rng.randint(1, 50_000)) / 100
    entries = [{"account_id": source, "way": "credit", "amount": amount, "label": "out"}]
    movements = {source: -amount}
    if len(targets) == 2 and amount >= Decimal("0.02"):
        first = Decimal(rng.randint(1, int(amount * 100) - 1)) / 100
        shares = [first, amount - first]
    else:
        shares, targets = [amount], targets[:1]
    for target, share in zip(targets, shares):
        entries.append({"account_id": target, "way": "debit", "amount": share, "label": "in"})
        movements[target] = movements.get(target, Decimal(0)) + share
    return entries, movements


def movements_of(transaction: dict) -> dict[int, Decimal]:
    moved: dict[int, Decimal] = {}
    for entry in transaction["entries"]:
        sign = 1 if entry["way"] == "debit" else -1
        moved[entry["account_id"]] = moved.get(entry["account_id"], Decimal(0)) + sign * Decimal(entry["amount"])
    return {account: amount for account, amount in moved.items() if amount}


def balanced(transaction: dict) -> bool:
    return sum(movements_of(transaction).values(), Decimal(0)) == 0


def writer(base: str, auth, bank: Bank, number: int, deadline: float) -> None:
    rng = random.Random(SEED * 1000 + number)
    mine: list[str] = []
    sequence = 0
    with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
        while time.monotonic() < deadline:
            choice = rng.random()
            try:
                if choice < 0.7 or not mine:
                    sequence += 1
                    piece = f"W{number}-{sequence}"
                    entries, moved = transfer(rng, bank.accounts)
                    body = {"piece_number": piece, "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                            "entries": entries}
                    response = http.post("/transactions", content=simplejson.dumps(body, use_decimal=True),
                                         headers={"Content-Type": "application/json"})
                    bank.counts["create"] += 1
                    if response.status_code == 200:
                        created = decimal_json(response)
                        if movements_of(created) != moved:
                            bank.anomaly(f"{piece}: created as {movements_of(created)}, sent {moved}")
                        with bank.lock:
                            bank.alive[piece] = (created["id"], moved)
                        mine.append(piece)
                    elif response.status_code < 500:
                        with bank.lock:
                            bank.refused.add(piece)
                        bank.anomaly(f"{piece}: a valid transfer refused: {response.status_code} {response.text[:200]}")
                    else:
                        bank.anomaly(f"{piece}: create answered {response.status_code} {response.text[:200]}")
                elif choice < 0.85:
                    piece = rng.choice(mine)
                    transaction_id, _ = bank.alive[piece]
                    entries, moved = transfer(rng, bank.accounts)
                    response = http.put(f"/transactions/{transaction_id}", content=simplejson.dumps(
                        {"entries": entries}, use_decimal=True), headers={"Content-Type": "application/json"})
                    bank.counts["update"] += 1
                    if response.status_code == 200:
                        if movements_of(decimal_json(response)) != moved:
                            bank.anomaly(f"{piece}: updated as {movements_of(decimal_json(response))}, sent {moved}")
                        with bank.lock:
                            bank.alive[piece] = (transaction_id, moved)
                    else:
                        bank.anomaly(f"{piece}: update answered {response.status_code} {response.text[:200]}")
                else:
                    piece = mine.pop(rng.randrange(len(mine)))
                    transaction_id, _ = bank.alive[piece]
                    response = http.delete(f"/transactions/{transaction_id}")
                    bank.counts["delete"] += 1
                    if response.status_code == 200:
                        with bank.lock:
                            del bank.alive[piece]
                            bank.deleted.add(piece)
                    else:
                        bank.anomaly(f"{piece}: delete answered {response.status_code} {response.text[:200]}")
            except httpx.HTTPError as error:
                bank.anomaly(f"writer {number}: no answer ({error!r})")


def reader(base: str, auth, bank: Bank, number: int, deadline: float) -> None:
    rng = random.Random(SEED * 7 + number)
    ours = set(bank.accounts)
    with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
        while time.monotonic() < deadline:
            try:
                if rng.random() < 0.6:
                    response = http.get("/reports/trial_balance")
                    bank.counts["trial balance reads"] += 1
                    if response.status_code != 200:
                        bank.anomaly(f"trial balance answered {response.status_code} {response.text[:200]}")
                        continue
                    report = decimal_json(response)
                    if report["total_debit"] != report["total_credit"]:
                        bank.anomaly(f"unbalanced trial balance: {report['total_debit']} != {report['total_credit']}")
                    held = sum((Decimal(a["balance"]) for a in report["accounts"] if a["account_id"] in ours), Decimal(0))
                    if held != 0:
                        bank.anomaly(f"the six accounts hold {held} together in a read")
                else:
                    with bank.lock:
                        known = [transaction_id for transaction_id, _ in bank.alive.values()]
                    if not known:
                        continue
                    response = http.get(f"/transactions/{rng.choice(known)}")
                    bank.counts["transaction reads"] += 1
                    if response.status_code == 200 and not balanced(decimal_json(response)):
                        bank.anomaly(f"an unbalanced transaction read: {response.text[:300]}")
                    elif response.status_code not in (200, 404):  # 404: deleted since
                        bank.anomaly(f"transaction read answered {response.status_code} {response.text[:200]}")
            except httpx.HTTPError as error:
                bank.anomaly(f"reader {number}: no answer ({error!r})")


def final_check(http: httpx.Client, bank: Bank) -> None:
    """The book holds exactly the acknowledged writes: one transaction per live piece, and a deleted
    one beside the reversal that cancels it (issue 17 §8), the two moving nothing together."""
    found: dict[str, list[dict]] = {}
    offset = 0
    while True:
        page = decimal_json(http.get("/transactions", params={"limit": 1000, "offset": offset}))
        for transaction in page:
            found.setdefault(transaction["piece_number"], []).append(transaction)
        if len(page) < 1000:
            break
        offset += 1000
    for piece, (transaction_id, moved) in bank.alive.items():
        if piece not in found:
            bank.anomaly(f"{piece}: acknowledged, but not in the book (a lost write)")
        elif len(found[piece]) != 1:
            bank.anomaly(f"{piece}: {len(found[piece])} transactions with that piece number")
        elif found[piece][0]["id"] != transaction_id or movements_of(found[piece][0]) != moved:
            bank.anomaly(f"{piece}: the book has {movements_of(found[piece][0])}, the last acknowledged write "
                         f"was {moved} (a lost update)")
    for piece in bank.deleted:
        together: dict[int, Decimal] = {}
        for transaction in found.get(piece, []):
            for account, amount in movements_of(transaction).items():
                together[account] = together.get(account, Decimal(0)) + amount
        if len(found.get(piece, [])) != 2 or any(together.values()):
            bank.anomaly(f"{piece}: deleted, but the book has {len(found.get(piece, []))} transactions moving "
                         f"{together} (not a transaction and its reversal)")
    for piece in set(found) - set(bank.alive) - bank.deleted:
        bank.anomaly(f"{piece}: in the book, but never acknowledged")
    expected = {account: Decimal(0) for account in bank.accounts}
    for _, moved in bank.alive.values():
        for account, amount in moved.items():
            expected[account] += amount
    report = decimal_json(http.get("/reports/trial_balance"))
    actual = {a["account_id"]: Decimal(a["balance"]) for a in report["accounts"] if a["account_id"] in expected}
    for account, amount in expected.items():
        if actual.get(account, Decimal(0)) != amount:
            bank.anomaly(f"account {account}: balance {actual.get(account, 0)}, acknowledged writes sum to {amount}")
    if report["total_debit"] != report["total_credit"]:
        bank.anomaly("the final trial balance is unbalanced")


def test_no_read_sees_an_unbalanced_book_and_no_write_is_lost(context, postgres_only):
    org = create_organization(context.database, "Jepsen Bank")
    auth = (org.oneup.email, org.oneup.api_key)
    with served(create_app(context=context)) as root:
        base = root + "/oneup/v1"
        with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
            # Vaults are assets: their balances carry over the year end, where the trial balance of
            # a later year would start expenses again at zero (issue 17 §4).
            family = next(a["id"] for a in http.get("/accounts", params={"limit": 1000}).json() if a["number"] == "10000")
            accounts = [http.post("/accounts", json={"number": str(15500 + n), "name": f"Vault {n}",
                                                     "family_id": family}).json()["id"] for n in range(ACCOUNTS)]
        bank = Bank(accounts)
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [threading.Thread(target=writer, args=(base, auth, bank, n, deadline)) for n in range(WRITERS)]
        threads += [threading.Thread(target=reader, args=(base, auth, bank, n, deadline)) for n in range(READERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 3 * TIMEOUT_S)
        elapsed = time.monotonic() - started
        with httpx.Client(base_url=base, auth=auth, timeout=TIMEOUT_S) as http:
            final_check(http, bank)

    summary = {"seconds": round(elapsed, 1), "writers": WRITERS, "readers": READERS, **bank.counts,
               "acknowledged transactions alive": len(bank.alive), "deleted": len(bank.deleted),
               "anomalies": len(bank.anomalies)}
    print(f"\nbank: {summary}")
    if os.environ.get("COMPTOIR_BANK_REPORT"):
        Path(os.environ["COMPTOIR_BANK_REPORT"]).write_text(json.dumps({**summary, "first anomalies": bank.anomalies[:20]},
                                                                      indent=2) + "\n")
    assert bank.counts["create"] > WRITERS and bank.counts["trial balance reads"] > READERS, summary
    assert not bank.anomalies, f"{len(bank.anomalies)} anomalies, e.g.:\n" + "\n".join(bank.anomalies[:15])
