"""Peers measured in the same run on the same machine.

- The write loop (balanced 2-entry transfers between random accounts), against django-ledger and
  python-accounting: both are libraries, so they run in-process (no HTTP), each in a database of its
  own on the same PostgreSQL server. One writer process by default (--peer-processes): with two
  concurrent writers on one ledger, django-ledger fails (RecursionError after ~25 s per transfer) and
  python-accounting collides on its transaction numbers (unique violations), so one writer is the
  most either does correctly.
- The trial balance over the same generated book, exported to their journal formats: hledger and
  ledger (Debian packages) on a ledger journal, beancount (PyPI) on a beancount file.

The peers live in their own virtual environment, bench/.peers (bench/run makes it), so they never
touch Comptoir's dependencies. A peer that is missing or fails is reported as such, with the reason.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, select, text

from comptoir.storage.database import Database
from comptoir.storage.tables import Account, Entry, Transaction

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE.parent / ".peers" / "bin" / "python"
ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity", "income": "Income", "expense": "Expenses"}


def export_journals(database: Database, org_id: int, directory: Path) -> tuple[Path, Path, int]:
    """The book as a ledger/hledger journal and as a beancount file; returns both and the posting count."""
    journal, beancount = directory / "book.journal", directory / "book.beancount"
    statement = (select(Transaction.id, Transaction.date, Transaction.piece_number, Account.number, Account.nature,
                        Entry.way, Entry.amount)
                 .join(Transaction, Transaction.id == Entry.transaction_id).join(Account, Account.id == Entry.account_id)
                 .where(Entry.org_id == org_id).order_by(Transaction.id, Entry.id))
    postings = 0
    with database.engine.connect() as connection:
        accounts = connection.execute(select(Account.number, Account.nature)
                                      .where(Account.org_id == org_id, Account.is_family.is_(False))).all()
        first = connection.scalar(select(Transaction.date).where(Transaction.org_id == org_id)
                                  .order_by(Transaction.date).limit(1))
        with journal.open("w") as ledger_file, beancount.open("w") as bean_file:
            bean_file.write('option "operating_currency" "USD"\n\n')
            for number, nature in accounts:
                bean_file.write(f"{first} open {ROOTS[nature]}:A{number} USD\n")
            current = None
            for transaction_id, on, piece, number, nature, way, amount in connection.execution_options(
                    stream_results=True, yield_per=10_000).execute(statement):
                if transaction_id != current:
                    current = transaction_id
                    ledger_file.write(f"\n{on} {piece}\n")
                    bean_file.write(f'\n{on} * "{piece}"\n')
                signed = amount if way == "debit" else -amount
                account = f"{ROOTS[nature]}:A{number}"
                ledger_file.write(f"    {account}  {signed:.2f} USD\n")
                bean_file.write(f"  {account}  {signed:.2f} USD\n")
                postings += 1
    return journal, beancount, postings


def _timed(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, check=False, text=True, timeout=1800)
        times.append(time.perf_counter() - started)
        if completed.returncode != 0:
            raise RuntimeError(f"exit {completed.returncode}: {completed.stderr.strip()[:300]}")
    return statistics.median(times)


def trial_balance_peers(journal: Path, beancount: Path, postings: int) -> list[dict]:
    repeats = 3 if postings <= 200_000 else 1
    found = []
    for name, command in (("hledger", ["hledger", "-f", str(journal), "balance"]),
                          ("ledger", ["ledger", "-f", str(journal), "balance"])):
        if shutil.which(command[0]) is None:
            found.append({"peer": name, "error": f"`{command[0]}` is not installed (apt-get install -y {name})"})
            continue
        try:
            version = subprocess.run([command[0], "--version"], capture_output=True, check=False, text=True).stdout.split("\n")[0]
            found.append({"peer": name, "seconds": _timed(command, repeats), "version": version.strip(),
                          "how": f"`{' '.join(command[:1] + command[3:])}` on the exported journal, whole process, "
                                 f"median of {repeats}"})
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as error:
            found.append({"peer": name, "error": str(error)})
    if not PEERS_PYTHON.exists():
        found.append({"peer": "beancount", "error": "bench/.peers is missing (bench/run creates it)"})
        return found
    try:
        runs = []
        for _ in range(repeats):
            completed = subprocess.run([str(PEERS_PYTHON), str(HERE / "beancount_balance.py"), str(beancount)],
                                       capture_output=True, check=False, text=True, timeout=3600)
            if completed.returncode != 0:
                raise RuntimeError(completed.stderr.strip()[-300:])
            runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        if runs[0]["errors"]:
            raise RuntimeError(f"beancount reported {runs[0]['errors']} errors: {runs[0]['first_error']}")
        found.append({"peer": "beancount", "seconds": statistics.median(run["seconds"] for run in runs),
                      "version": _peer_version("beancount"),
                      "how": f"loader.load_file (no cache) and a sum per account, in-process, median of {repeats}"})
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as error:
        found.append({"peer": "beancount", "error": str(error)})
    return found


def _peer_version(package: str) -> str:
    completed = subprocess.run([str(PEERS_PYTHON), "-c", f"import importlib.metadata as m; print(m.version('{package}'))"],
                               capture_output=True, check=False, text=True)
    return f"{package} {completed.stdout.strip()}"


def write_loop_peers(database_url: str, seconds: float, processes: int, tag: str) -> list[dict]:
    found = []
    if not database_url.startswith("postgresql"):
        return [{"peer": name, "error": "the peers' write loops run on PostgreSQL only"}
                for name in ("django-ledger", "python-accounting")]
    if not PEERS_PYTHON.exists():
        return [{"peer": name, "error": "bench/.peers is missing (bench/run creates it)"}
                for name in ("django-ledger", "python-accounting")]
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    for name, script, package in (("django-ledger", "django_ledger_loop.py", "django-ledger"),
                                  ("python-accounting", "python_accounting_loop.py", "python-accounting")):
        database = f"peer_{name.replace('-', '_')}_{tag}"
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
                connection.execute(text(f'CREATE DATABASE "{database}"'))
            url = database_url.rsplit("/", 1)[0] + "/" + database
            command = [str(PEERS_PYTHON), "-W", "ignore", str(HERE / script)]
            setup = subprocess.run([*command, "setup", url], capture_output=True, check=False, text=True, timeout=600)
            if setup.returncode != 0:
                raise RuntimeError(f"setup failed: {setup.stderr.strip()[-300:]}")
            prepared = setup.stdout.strip().splitlines()[-1]

            def one(index: int, command=command, url=url, prepared=prepared) -> dict:
                completed = subprocess.run([*command, "loop", url, prepared, str(seconds), str(index)],
                                           capture_output=True, check=False, text=True, timeout=seconds + 600)
                if completed.returncode != 0:
                    raise RuntimeError(completed.stderr.strip()[-300:])
                return json.loads(completed.stdout.strip().splitlines()[-1])

            with ThreadPoolExecutor(processes) as pool:
                runs = list(pool.map(one, range(processes)))
            done = sum(run["transactions"] for run in runs)
            errors = sum(run["errors"] for run in runs)
            elapsed = max(run["seconds"] for run in runs)
            found.append({"peer": name, "per_s": done / elapsed if elapsed else 0.0, "transactions": done,
                          "errors": errors, "first_error": next((r["first_error"] for r in runs if r["first_error"]),
                                                                None),
                          "version": _peer_version(package),
                          "how": f"{processes} processes × {seconds:.0f} s, in-process library calls, "
                                 f"one database transaction per transfer"})
        except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as error:
            found.append({"peer": name, "error": str(error)})
    admin.dispose()
    return found


def _ratio_text(ratio: float) -> str:
    return f"{ratio:,.1f}× faster" if ratio >= 1 else f"{1 / ratio:,.1f}× slower"


def _verdict(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return "met" if ratio >= 10 else f"missed ({ratio / 10:,.2f}× the target)"


def run_all(args, database: Database, book, scenario_rows: list[dict], work: Path, duration: float, console) -> dict:
    rows, notes = [], []
    by_name = {row["name"]: row for row in scenario_rows}
    processes = args.peer_processes
    console.print("Peers: exporting the book to ledger and beancount journals ...")
    journal, beancount, postings = export_journals(database, book.org_id, work)
    notes.append(f"Exported {postings:,} postings to {journal.name} (hledger, ledger) and {beancount.name} (beancount).")
    balance = by_name.get("trial_balance")
    for peer in trial_balance_peers(journal, beancount, postings):
        row = {"work": "trial balance over the generated book", "work_short": "trial balance", "peer": peer["peer"]}
        if "error" in peer:
            row.update(comptoir="—", figure=f"did not run: {peer['error']}", ratio=None, ratio_text="—",
                       verdict="n/a")
        elif balance is None:
            row.update(comptoir="not measured", figure=f"{peer['seconds'] * 1000:,.0f} ms", ratio=None,
                       ratio_text="—", verdict="n/a")
        else:
            ratio = peer["seconds"] * 1000 / balance["p50_ms"] if balance["p50_ms"] else None
            row.update(comptoir=f"{balance['p50_ms']:,.1f} ms (p50, over HTTP)",
                       figure=f"{peer['seconds'] * 1000:,.0f} ms ({peer['version']})", ratio=ratio,
                       ratio_text=_ratio_text(ratio) if ratio else "—", verdict=_verdict(ratio))
            notes.append(f"{peer['peer']}: {peer['how']}.")
        rows.append(row)
    console.print(f"Peers: write loops ({processes} processes × {duration:.0f} s each) ...")
    transfers = by_name.get("post_transaction")
    for peer in write_loop_peers(args.database_url, duration, processes, str(book.org_id)):
        row = {"work": "write loop: balanced 2-entry transfers", "work_short": "write loop", "peer": peer["peer"]}
        if "error" in peer:
            row.update(comptoir="—", figure=f"did not run: {peer['error']}", ratio=None, ratio_text="—",
                       verdict="n/a")
        elif transfers is None or not peer["per_s"]:
            row.update(comptoir="not measured", figure=f"{peer['per_s']:,.1f}/s", ratio=None, ratio_text="—",
                       verdict="n/a")
        else:
            ratio = transfers["throughput_per_s"] / peer["per_s"]
            row.update(comptoir=f"{transfers['throughput_per_s']:,.1f}/s (over HTTP)",
                       figure=f"{peer['per_s']:,.1f}/s ({peer['version']}; {peer['errors']} errors)", ratio=ratio,
                       ratio_text=_ratio_text(ratio), verdict=_verdict(ratio))
            notes.append(f"{peer['peer']}: {peer['how']}.")
            if peer.get("first_error"):
                notes.append(f"{peer['peer']} first error: {peer['first_error']}")
        rows.append(row)
    return {"rows": rows, "notes": notes}
