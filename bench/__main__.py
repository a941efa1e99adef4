"""`python -m bench`: generate and load a book, start the server as production does, run the
scenarios, the CLI import and (optionally) the peers, and write bench/results/<size>.{md,png,json}.

bench/run is the one command that also starts a PostgreSQL of its own and installs what is needed;
this module runs against whatever database it is given (the smoke test gives it SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from comptoir.storage.database import Database

from . import loadgen, peers, profiles, report
from .check import imbalance
from .generate import make_plan, write_upflow_file
from .load import BookInfo, load
from .scenarios import IMPORT_TARGET, scenarios
from .server import Server
from .sizes import SIZES

ROOT = Path(__file__).resolve().parent.parent
console = Console(stderr=True)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--database-url", default=os.environ.get("COMPTOIR_BENCH_DATABASE_URL"),
                        help="SQLAlchemy URL of an empty or Comptoir database (bench/run starts a PostgreSQL)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("COMPTOIR_BENCH_WORKERS", "4")),
                        help="comptoir serve --workers (default 4)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients of each HTTP scenario (default 32)")
    parser.add_argument("--duration", type=float, help="seconds each scenario is measured (default: by size)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each (default: by size)")
    parser.add_argument("--requests-max", type=int, help="requests each scenario stops at (default: by size)")
    parser.add_argument("--import-count", type=int, help="Upflow invoices the CLI imports (default: by size)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", help="comma-separated scenario names to run (default: all)")
    parser.add_argument("--peers", action=argparse.BooleanOptionalAction, default=False,
                        help="also run the peers (needs bench/.peers and PostgreSQL; bench/run turns it on)")
    parser.add_argument("--peer-processes", type=int, default=1,
                        help="writer processes of each peer's write loop (default 1: see bench/peers)")
    parser.add_argument("--profile", action="store_true",
                        help="after measuring, profile each scenario that misses its target with py-spy")
    parser.add_argument("--reuse-book", action="store_true",
                        help="reuse the book the last run at this size loaded into the same database, if any")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not args.database_url:
        console.print("[red]No database: pass --database-url or run bench/run, which starts a PostgreSQL.[/red]")
        return 2
    size = SIZES[args.size]
    duration = args.duration if args.duration is not None else size.duration_s
    warmup = args.warmup if args.warmup is not None else size.warmup_s
    requests_max = args.requests_max or size.requests_max
    import_count = args.import_count if args.import_count is not None else size.import_invoices
    run_id = uuid.uuid4().hex[:6]
    work = args.work / args.size
    work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    busy_before = _cpu_busy(3.0)

    database = Database(args.database_url)
    database.migrate()
    plan = make_plan(size.entries, seed=args.seed)
    saved = work / "book.json"
    book = BookInfo.read(saved) if args.reuse_book and saved.exists() else None
    if book is not None and book.database_url == args.database_url:
        console.print(f"Reusing the book of organization {book.slug} ({book.entries:,} entries, "
                      "plus what earlier runs wrote).")
    else:
        console.print(f"Loading a book of {size.entries:,} entries (seed {args.seed}) ...")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task("events", total=None)
            book = load(database, plan, name=f"Bench {args.size} {run_id}",
                        progress=lambda count: progress.advance(task, count))
        book.database_url = args.database_url
        off_balance = imbalance(database, book.org_id)
        if off_balance != 0:
            console.print(f"[red]The loaded book does not balance: {off_balance}[/red]")
            return 1
        console.print(f"Loaded {book.entries:,} entries in {book.load_s} s ({book.method}); the book balances.")
    book.save(saved)

    selected = [s for s in scenarios(args.concurrency) if not args.only or s.name in args.only.split(",")]
    server = Server(args.database_url, args.workers, work / "data", work / "server.log")
    results_rows: list[dict] = []
    missed: list = []
    try:
        server.start((book.oneup_email, book.oneup_key))
        console.print(f"Server up at {server.base_url} with {args.workers} workers.")
        for scenario in selected:
            result = asyncio.run(loadgen.run(
                scenario.name, "127.0.0.1", server.port, scenario.make(book, args.seed, run_id),
                concurrency=scenario.concurrency, duration_s=duration, warmup_s=warmup, requests_max=requests_max))
            row = {**result.summary(), "title": scenario.title}
            if scenario.target:
                row.update(target=scenario.target.text, target_metric=scenario.target.metric,
                           target_value=scenario.target.value, target_ratio=scenario.target.ratio(row))
                if row["target_ratio"] is not None and row["target_ratio"] < 1:
                    missed.append(scenario)
            results_rows.append(row)
            console.print(f"  {scenario.name:<20} {row['throughput_per_s']:>9.1f}/s  p50 {row['p50_ms']:>8.2f} ms  "
                          f"p99 {row['p99_ms']:>8.2f} ms  errors {row['errors']}")
        profiled = _profile_server(args, server, book, run_id, missed, work) if args.profile else {}
    finally:
        server.stop()

    imported = None
    if import_count and (not args.only or "import" in args.only.split(",")):
        imported = run_import(args, book, plan, import_count, work)
        console.print(f"  cli import          {imported['per_second']:>9.1f}/s  {imported['lines']:,} invoices in "
                      f"{imported['seconds']} s, {imported['failed']} refused")
        if args.profile and imported.get("target_ratio", 1) < 1:
            profiled["cli_import"] = _profile_import(args, book, plan, work)

    peer_results = None
    if args.peers:
        peer_results = peers.run_all(args, database, book, results_rows, work, size.peer_writes_s, console)

    results = {
        "meta": {
            "size": args.size, "entries": size.entries, "seed": args.seed, "workers": args.workers,
            "concurrency": args.concurrency, "duration_s": duration, "warmup_s": warmup,
            "requests_max": requests_max, "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(), "machine": f"{platform.machine()}, Python {platform.python_version()}",
            "commit": _commit(), "database": _database_kind(database),
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in os.getloadavg()]},
            "cpu_busy_before": busy_before,
            "book": {"invoices": book.invoices, "payments": book.payments, "transfers": book.transfers,
                     "customers": len(book.customer_ids), "items": len(book.item_ids), "load_s": book.load_s,
                     "method": book.method},
        },
        "scenarios": results_rows,
        "import": imported,
        "peers": peer_results,
        "profiles": profiled if args.profile else None,
    }
    paths = report.write(results, args.results)
    console.print(f"Results: {', '.join(str(path) for path in paths)}")
    failures = sum(row["errors"] for row in results_rows) + (imported["failed"] if imported else 0)
    return 1 if failures or any(row["requests"] == 0 for row in results_rows) else 0


def run_import(args: argparse.Namespace, book: BookInfo, plan, count: int, work: Path) -> dict:
    """`comptoir import upflow-invoices` on a generated file, as an operator would run it."""
    path = work / f"upflow-invoices-{count}.jsonl"
    write_upflow_file(plan, count, path, prefix=f"imp{book.org_id}")
    env = {**os.environ, "COMPTOIR_DATABASE_URL": args.database_url, "COLUMNS": "120"}
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "comptoir.cli", "import", "upflow-invoices", str(path),
                                "--org", book.slug, "--json"], env=env, capture_output=True, check=False, text=True, timeout=3600)
    wall = time.perf_counter() - started
    if not completed.stdout.strip():
        console.print(f"[red]The import printed no summary (exit {completed.returncode}):[/red]\n"
                      f"{completed.stderr[-3000:]}")
        return {"title": "CLI: import Upflow invoices", "lines": count, "created": 0, "updated": 0, "failed": count,
                "seconds": round(wall, 2), "per_second": 0.0, "target": IMPORT_TARGET.text, "target_ratio": 0.0,
                "projected_100k_s": None, "exit_code": completed.returncode,
                "failures": [completed.stderr.strip().splitlines()[-1][:300] if completed.stderr.strip() else "?"]}
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    summary.update(title="CLI: import Upflow invoices (JSON lines, batches of 500)", wall_s=round(wall, 2),
                   target=IMPORT_TARGET.text, target_ratio=IMPORT_TARGET.ratio({"throughput_per_s": summary["per_second"]}),
                   projected_100k_s=100_000 / summary["per_second"] if summary["per_second"] else None,
                   exit_code=completed.returncode)
    return summary


def _profile_server(args, server: Server, book: BookInfo, run_id: str, missed: list, work: Path) -> dict:
    """Each scenario that missed its target again, for a few seconds, with py-spy on every worker."""
    found = {}
    directory = args.results / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    pids = [pid for pid in server.worker_pids() if "spawn_main" in _cmdline(pid) or "uvicorn" in _cmdline(pid)]
    for scenario in missed:
        seconds = 8
        output = directory / f"{args.size}-{scenario.name}.raw"
        recorders = profiles.record(pids, seconds, output)
        asyncio.run(loadgen.run(scenario.name, "127.0.0.1", server.port, scenario.make(book, args.seed, run_id + "p"),
                                concurrency=scenario.concurrency, duration_s=seconds + 1, warmup_s=0,
                                requests_max=10**9))
        for recorder in recorders:
            recorder.wait(timeout=60)
        raw = sorted(directory.glob(f"{output.stem}-*.txt"))
        summary_path = directory / f"{args.size}-{scenario.name}.md"
        summary_path.write_text(profiles.print_summary(profiles.summarise(raw), f"{scenario.title} ({args.size})"))
        found[scenario.name] = _shown(summary_path)
    return found


def _cpu_busy(seconds: float) -> float | None:
    """The share of the machine's CPU time (all cores) that was busy over the next `seconds`, from
    /proc/stat (Linux; None elsewhere): whether other work shares the machine as the run begins. The
    load average cannot say it: it decays over minutes, so it still counts a run that just ended."""
    def sample() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
        return sum(fields), idle
    try:
        total_start, idle_start = sample()
        time.sleep(seconds)
        total_end, idle_end = sample()
    except (OSError, ValueError, IndexError):
        return None
    elapsed = total_end - total_start
    return round(1 - (idle_end - idle_start) / elapsed, 3) if elapsed > 0 else None


def _profile_import(args, book: BookInfo, plan, work: Path) -> str:
    directory = args.results / "profiles"
    path = work / "upflow-profile.jsonl"
    # Enough invoices that the import itself, not starting the process, fills the profile.
    write_upflow_file(plan, 3_000, path, prefix=f"prof{book.org_id}")
    raw = directory / f"{args.size}-cli_import.txt"
    binary = profiles.py_spy()
    env = {**os.environ, "COMPTOIR_DATABASE_URL": args.database_url}
    subprocess.run([binary, "record", "--rate", "200", "--format", "raw", "--output", str(raw), "--",
                    sys.executable, "-m", "comptoir.cli", "import", "upflow-invoices", str(path), "--org", book.slug,
                    "--json"], env=env, capture_output=True, check=False, timeout=1800)
    summary_path = directory / f"{args.size}-cli_import.md"
    summary_path.write_text(profiles.print_summary(profiles.summarise([raw]), f"CLI import ({args.size})"))
    return _shown(summary_path)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=False, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, check=False, text=True, timeout=10).stdout.strip()
        return f"{head}{' + uncommitted changes' if dirty else ''}" if head else "unknown"
    except OSError:
        return "unknown"


def _database_kind(database: Database) -> str:
    if database.engine.dialect.name != "postgresql":
        return database.engine.dialect.name
    with database.engine.connect() as connection:
        version = connection.exec_driver_sql("SHOW server_version").scalar()
        fsync = connection.exec_driver_sql("SHOW fsync").scalar()
        commit = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
    return f"PostgreSQL {version} (fsync {fsync}, synchronous_commit {commit})"


if __name__ == "__main__":
    sys.exit(main())
