"""The benchmark suite at its smallest, as a smoke test: every scenario completes without errors and
the results are written. No timing is asserted. The peers are not part of it (bench/run runs them).

Also: the bulk loader of the benchmark writes exactly the rows the services would have written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.check import differences, imbalance, snapshot
from bench.generate import make_plan
from bench.load import load, load_through_services

SCENARIOS = {"get_invoice", "list_invoices_deep", "trial_balance", "create_invoice", "post_transaction",
             "upflow_upsert", "quipu_invoice", "oneconnect_import"}


def test_the_smallest_run_completes_every_scenario_and_writes_its_results(database_url, tmp_path):
    results = tmp_path / "results"
    env = {**os.environ, "COLUMNS": "120"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "small", "--database-url", database_url, "--workers", "2",
         "--concurrency", "8", "--duration", "0.5", "--warmup", "0.2", "--import-count", "40",
         "--results", str(results), "--work", str(tmp_path / "work")],
        cwd=ROOT, env=env, capture_output=True, check=False, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]

    summary = json.loads((results / "small.json").read_text())
    assert {row["name"] for row in summary["scenarios"]} == SCENARIOS
    for row in summary["scenarios"]:
        assert row["requests"] > 0 and row["errors"] == 0, row
    assert (summary["import"]["created"], summary["import"]["failed"]) == (40, 0)
    assert summary["meta"]["book"]["invoices"] > 0
    assert "| OneUp: get one invoice |" in (results / "small.md").read_text()
    assert (results / "small.png").read_bytes().startswith(b"\x89PNG")


def test_the_generator_is_deterministic_and_counts_entries_exactly():
    first, second = make_plan(2_001, seed=3), make_plan(2_001, seed=3)
    assert first == second and list(first.events()) == list(second.events())
    assert list(first.events()) != list(make_plan(2_001, seed=4).events())
    assert sum(2 if not hasattr(event, "entries") else event.entries for event in first.events()) == 2_001


def test_the_bulk_loader_writes_what_the_services_write(context):
    plan = make_plan(300, seed=7)
    bulk = load(context.database, plan, name="Bulk Loaded")
    services = load_through_services(context.database, plan, name="Loaded Through Services")
    assert bulk.entries == services.entries == 300
    assert imbalance(context.database, bulk.org_id) == 0
    assert differences(snapshot(context.database, bulk.org_id), snapshot(context.database, services.org_id)) == []
