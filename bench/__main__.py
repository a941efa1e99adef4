"""`python -m bench`: generate and load a book, start Comptoir as production does and the floor beside
it (bench/floor: the least a Python server does for the same answers, PostgreSQL only), run every
scenario against the floor and then against Comptoir with wrk, the CLI import and (optionally) the
peers, and write bench/results/<size>.{md,png,json} with Comptoir's figures as ratios of the floor's.

bench/run is the one command that also starts a PostgreSQL of its own and installs what is needed;
this module runs against whatever database it is given (the smoke test gives it SQLite).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from comptoir.storage.database import Database

from . import peers, profiles, report, wrk
from .check import imbalance
from .generate import make_plan, write_upflow_file
from .load import BookInfo, load
from .scenarios import (
    FLOOR_P99_FACTOR,
    FLOOR_THROUGHPUT_SHARE,
    IMPORT_TARGET,
    Scenario,
    obtain_tokens,
    scenarios,
)
from .server import FloorServer, Server
from .sizes import SIZES

ROOT = Path(__file__).resolve().parent.parent
console = Console(stderr=True)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--database-url", default=os.environ.get("COMPTOIR_BENCH_DATABASE_URL"),
                        help="SQLAlchemy URL of an empty or Comptoir database (bench/run starts a PostgreSQL)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("COMPTOIR_BENCH_WORKERS", "2")),
                        help="worker processes of Comptoir and of the floor alike (default 2)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients of each HTTP scenario (default 32)")
    parser.add_argument("--duration", type=float,
                        help="seconds each scenario is measured on each server (whole seconds, wrk's; default: by size)")
    parser.add_argument("--warmup", type=float,
                        help="seconds of warm-up before each measure (under 0.5: none; default: by size)")
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
    if book is not None and book.database_url == args.database_url and book.oneconnect_integration_id:
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
    postgres = database.engine.dialect.name == "postgresql"
    comptoir = Server(args.database_url, args.workers, work / "data", work / "server.log")
    floor = FloorServer(args.database_url, args.workers, work / "data", work / "floor.log",
                        public_url=comptoir.base_url) if postgres else None
    results_rows: list[dict] = []
    missed: list = []
    tag = run_id.upper()
    try:
        comptoir.start((book.oneup_email, book.oneup_key))
        console.print(f"Comptoir up at {comptoir.base_url} with {args.workers} workers.")
        if floor is not None:
            floor.start((book.oneup_email, book.oneup_key))
            console.print(f"The floor up at {floor.base_url} with {args.workers} workers.")
        else:
            console.print("[yellow]No floor: it serves PostgreSQL only (asyncpg); Comptoir is measured alone.[/yellow]")
        with httpx.Client(base_url=comptoir.base_url, timeout=60) as client:
            tokens = obtain_tokens(client, book)
        for scenario in selected:
            script = work / f"{scenario.name}.lua"
            script.write_text(wrk.script(scenario.make(book, args.seed, wrk.MARKER, tokens),
                                         wrk.threads_for(scenario.concurrency)))
            measured = {}
            for server, side in ((floor, "F"), (comptoir, "C")):
                if server is None:
                    continue
                if warmup >= 0.5:
                    wrk.run(scenario.name, server.base_url, script, concurrency=scenario.concurrency,
                            duration_s=warmup, tag=f"{tag}{side}W")
                measured[side] = wrk.run(scenario.name, server.base_url, script, concurrency=scenario.concurrency,
                                         duration_s=duration, tag=f"{tag}{side}").summary()
            row = _row(scenario, measured["C"], measured.get("F"))
            if any(target["verdict"] == "missed" for target in row["targets"]):
                missed.append(scenario)
            results_rows.append(row)
            floor_text = (f"floor {row['floor']['throughput_per_s']:>8.1f}/s p99 {row['floor']['p99_ms']:>7.2f} ms, "
                          if row["floor"] else "")
            ratios = (f"  ratios {row['throughput_ratio']:.2f} / {row['p99_ratio']:.2f}"
                      if row.get("throughput_ratio") is not None and row.get("p99_ratio") is not None else "")
            console.print(f"  {scenario.name:<19} {floor_text}Comptoir {row['throughput_per_s']:>8.1f}/s "
                          f"p99 {row['p99_ms']:>7.2f} ms  errors {row['floor']['errors'] if row['floor'] else '-'}"
                          f"/{row['errors']}{ratios}")
        profiled = _profile_server(args, comptoir, book, tag, missed, work) if args.profile else {}
    finally:
        comptoir.stop()
        if floor is not None:
            floor.stop()

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
            "concurrency": args.concurrency, "duration_s": max(1, round(duration)),
            "warmup_s": round(warmup) if warmup >= 0.5 else 0, "floor": postgres,
            "load_generator": "wrk (2 threads, Lua scripts of the scenarios' requests)",
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
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
    failures = sum(row["errors"] + (row["floor"]["errors"] if row["floor"] else 0) for row in results_rows) \
        + (imported["failed"] if imported else 0)
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


def _row(scenario: Scenario, comptoir: dict, floor: dict | None) -> dict:
    """A scenario's results: Comptoir's figures, the floor's, Comptoir's throughput and p99 as ratios
    of the floor's, and each target met or missed."""
    row = {**comptoir, "title": scenario.title, "hot": scenario.hot, "floor": floor}
    targets = []
    if floor is not None:
        row["throughput_ratio"] = (comptoir["throughput_per_s"] / floor["throughput_per_s"]
                                   if floor["throughput_per_s"] else None)
        row["p99_ratio"] = comptoir["p99_ms"] / floor["p99_ms"] if floor["p99_ms"] else None
        if scenario.hot and row["throughput_ratio"] is not None:
            targets.append({"text": f"throughput ≥ {FLOOR_THROUGHPUT_SHARE:.0%} of the floor's",
                            "verdict": "met" if row["throughput_ratio"] >= FLOOR_THROUGHPUT_SHARE else "missed",
                            "detail": f"{row['throughput_ratio']:.0%}"})
        if scenario.hot and row["p99_ratio"] is not None:
            targets.append({"text": f"p99 ≤ {FLOOR_P99_FACTOR:g}× the floor's",
                            "verdict": "met" if row["p99_ratio"] <= FLOOR_P99_FACTOR else "missed",
                            "detail": f"{row['p99_ratio']:.1f}×"})
    target = scenario.target
    if target is not None:
        ratio = target.ratio(comptoir)
        row.update(target=target.text, target_metric=target.metric, target_value=target.value, target_ratio=ratio)
        if target.floor_bound and floor is not None and floor["throughput_per_s"] < target.value:
            targets.append({"text": target.text, "verdict": "n/a",
                            "detail": f"the floor itself reaches {floor['throughput_per_s']:,.0f}/s: "
                                      "its ratio is the target"})
        else:
            targets.append({"text": target.text, "verdict": "met" if ratio is not None and ratio >= 1 else "missed",
                            "detail": f"{ratio:.2f}× the target" if ratio is not None else "not measured"})
    row["targets"] = targets
    return row


def _profile_server(args, server: Server, book: BookInfo, tag: str, missed: list, work: Path) -> dict:
    """Each scenario that missed a target again, for a few seconds, with py-spy on Comptoir's workers."""
    found = {}
    directory = args.results / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    pids = [pid for pid in server.worker_pids() if "spawn_main" in _cmdline(pid) or "uvicorn" in _cmdline(pid)]
    for scenario in missed:
        seconds = 8
        output = directory / f"{args.size}-{scenario.name}.raw"
        for stale in directory.glob(f"{output.stem}-*.txt"):  # an earlier run's workers: not this run's
            stale.unlink()
        recorders = profiles.record(pids, seconds, output)
        wrk.run(scenario.name, server.base_url, work / f"{scenario.name}.lua", concurrency=scenario.concurrency,
                duration_s=seconds + 1, tag=f"{tag}P")
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
    # --subprocesses: the import's own processes (one per core) do the work, not the one started.
    subprocess.run([binary, "record", "--subprocesses", "--rate", "200", "--format", "raw", "--output", str(raw), "--",
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
