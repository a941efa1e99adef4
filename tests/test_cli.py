"""The command line as a user runs it: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMPTOIR_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "comptoir.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_org_create_json_prints_the_organization_and_working_oneup_credentials(database_url, client):
    result = _run(database_url, "org", "create", "Script Corp", "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"organization", "oneup", "upflow", "quipu", "oneconnect", "login"}
    assert set(created["upflow"]) == {"api_key", "api_secret"}
    assert set(created["quipu"]) == {"app_id", "app_secret", "owner_slug"}
    assert created["quipu"]["owner_slug"] == created["organization"]["slug"]
    assert set(created["oneconnect"]) == {"client_id", "client_secret", "integration_id", "integration_secret"}
    assert created["organization"]["name"] == "Script Corp"
    assert re.fullmatch(r"script-corp(-\d+)?", created["organization"]["slug"])
    assert isinstance(created["organization"]["id"], int)
    oneup = created["oneup"]
    me = client.get("/oneup/v1/me", auth=(oneup["email"], oneup["api_key"]))
    assert me.status_code == 200
    assert me.json()["company"]["name"] == "Script Corp"


def test_org_create_refuses_an_unknown_currency_with_a_clear_message(database_url):
    result = _run(database_url, "org", "create", "Bad", "--currency", "XYZ")
    assert result.returncode == 2
    assert "currency" in result.stdout


def test_close_books_closes_the_period(database_url, client):
    created = json.loads(_run(database_url, "org", "create", "Closing Co", "--json").stdout)
    auth = (created["oneup"]["email"], created["oneup"]["api_key"])
    accounts = {a["number"]: a["id"] for a in client.get("/oneup/v1/accounts", auth=auth).json()}
    body = {"piece_number": "OD-1", "date": "2020-06-30", "entries": [
        {"account_id": accounts["10500"], "way": "debit", "amount": 10},
        {"account_id": accounts["30100"], "way": "credit", "amount": 10}]}
    transaction = client.post("/oneup/v1/transactions", json=body, auth=auth).json()
    result = _run(database_url, "org", "close-books", created["organization"]["slug"], "--until", "2020-12-31")
    assert result.returncode == 0, result.stdout + result.stderr
    assert client.get(f"/oneup/v1/transactions/{transaction['id']}", auth=auth).json()["status"] == "Closed"
    late = client.post("/oneup/v1/transactions", json={**body, "date": "2020-07-01"}, auth=auth)
    assert late.status_code == 422 and late.json()["error"]["code"] == "3001"


def test_the_fiscal_year_start_is_set_at_creation_and_later(database_url, client):
    """`--fiscal-year-start 4` at creation, then `org fiscal-year --start-month 7`: the trial balance
    follows; a month outside 1 to 12 is refused with exit code 2 and the reason."""
    created = json.loads(_run(database_url, "org", "create", "April Co", "--json", "--fiscal-year-start", "4").stdout)
    auth, slug = (created["oneup"]["email"], created["oneup"]["api_key"]), created["organization"]["slug"]

    def year() -> dict:
        return client.get("/oneup/v1/reports/trial_balance?date=2025-05-15", auth=auth).json()["fiscal_year"]
    assert year() == {"start": "2025-04-01", "end": "2026-03-31"}
    result = _run(database_url, "org", "fiscal-year", slug, "--start-month", "7")
    assert result.returncode == 0, result.stdout + result.stderr
    assert year() == {"start": "2024-07-01", "end": "2025-06-30"}
    refused = _run(database_url, "org", "fiscal-year", slug, "--start-month", "13")
    assert refused.returncode == 2 and "1 to 12" in refused.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_demo_prints_credentials_that_work_over_http(tmp_path):
    """README's first command: the server starts on SQLite with the demo organization loaded."""
    port = _free_port()
    env = {**os.environ, "COMPTOIR_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "COLUMNS": "200",
           "COMPTOIR_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen([sys.executable, "-m", "comptoir", "serve", "--demo", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "Uvicorn running" in line or server.poll() is not None:
                break
        output = "".join(lines)
        email = re.search(r"email\s+(\S+)", output).group(1)
        key = re.search(r"api key\s+(\S+)", output).group(1)
        assert f"http://127.0.0.1:{port}/oneup/v1" in output
        assert f"API documentation: http://127.0.0.1:{port}/docs" in output  # served from the package
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=10).status_code == 200
        customers = httpx.get(f"http://127.0.0.1:{port}/oneup/v1/customers", auth=(email, key), timeout=10)
        assert customers.status_code == 200
        assert "ACME Corporation" in [c["full_name"] for c in customers.json()]
    finally:
        server.terminate()
        server.wait(timeout=20)
