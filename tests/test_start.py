"""Starting Comptoir as a newcomer does (issue 19): the demo started twice, the CLI run from anywhere,
settings it cannot use. Real processes (`python -m comptoir.cli`), real HTTP on loopback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from comptoir import cli
from comptoir.settings import get_settings

from .conftest import empty_database
from .serve_support import free_port, stop

SRC = Path(__file__).resolve().parent.parent / "src"


def comptoir(*args: str, env: dict[str, str | None], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`comptoir ARGS` in a process of its own, with `env` over this one's (None: the variable unset)."""
    merged = {**os.environ, "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "comptoir.cli", *args], check=False, capture_output=True, text=True,
                          timeout=120,
                          env={name: value for name, value in merged.items() if value is not None}, cwd=cwd)


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """An empty database of the kind under test, of this test alone (the demo organization is `demo`)."""
    urls = empty_database(directory)
    try:
        yield next(urls)
    finally:
        urls.close()


@contextmanager
def demo(env: dict[str, str], port: int, log: Path) -> Iterator[tuple[subprocess.Popen, str, str]]:
    """`comptoir serve --demo --port PORT`, up: its process and the OneUp email and key it printed."""
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "comptoir.cli", "serve", "--demo", "--port", str(port)],
                                   env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **env},
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "Uvicorn running" not in log.read_text():
            assert process.poll() is None, f"the demo exited with {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the demo did not start:\n{log.read_text()}"
            time.sleep(0.1)
        printed = log.read_text()
        yield process, re.search(r"email\s+(\S+)", printed).group(1), re.search(r"api key\s+(\S+)", printed).group(1)
    finally:
        stop(process)


def customers(port: int, email: str, key: str) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/oneup/v1/customers", auth=(email, key), timeout=10).status_code


def test_a_second_start_on_a_taken_port_fails_in_one_line_and_the_demo_keeps_its_credentials(tmp_path):
    """Issue 19 §1: `./scripts/demo` run again while the demo runs. The second start says, in one line,
    that the port is taken, exits 2 and touches nothing: the running demo still answers the keys it
    printed. Another demo on another port of the same database, and a restart of the demo, print the
    same credentials, which work in every one of them."""
    with fresh_database(tmp_path) as url:
        env = {"COMPTOIR_DATABASE_URL": url, "COMPTOIR_DATA_DIR": str(tmp_path / "data")}
        port = free_port()
        with demo(env, port, tmp_path / "first.log") as (_, email, key):
            assert customers(port, email, key) == 200
            second = comptoir("serve", "--demo", "--port", str(port), env=env)
            assert second.returncode == 2
            assert second.stdout == ""
            assert second.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in second.stderr
            assert "Traceback" not in second.stderr
            assert customers(port, email, key) == 200
            beside = free_port()  # a second demo on another port, the same database: nobody locked out
            with demo(env, beside, tmp_path / "beside.log") as (_, email_beside, key_beside):
                assert (email_beside, key_beside) == (email, key)
                assert customers(port, email, key) == 200 and customers(beside, email, key) == 200
        again = free_port()
        with demo(env, again, tmp_path / "again.log") as (_, email_again, key_again):
            assert (email_again, key_again) == (email, key)
            assert customers(again, email, key) == 200
            assert "The same credentials on every start of this database" in (tmp_path / "again.log").read_text()


def test_the_demo_issues_fresh_credentials_when_the_kept_ones_no_longer_work(tmp_path):
    """The kept credentials are only printed while they open the demo: revoked, they are replaced."""
    with fresh_database(tmp_path) as url:
        env = {"COMPTOIR_DATABASE_URL": url, "COMPTOIR_DATA_DIR": str(tmp_path / "data")}
        port = free_port()
        with demo(env, port, tmp_path / "first.log") as (_, email, key):
            pass
        revoked = comptoir("credentials", "revoke", "demo", "oneup", email, env=env)
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr
        with demo(env, port, tmp_path / "again.log") as (_, email_again, key_again):
            assert key_again != key
            assert customers(port, email_again, key_again) == 200


def _checkout(tmp_path: Path, with_pyproject: bool) -> Path:
    """A copy of the package: in a checkout (src/comptoir beside a pyproject.toml) or installed (no checkout)."""
    root = tmp_path / ("checkout" if with_pyproject else "site-packages")
    package = root / "src" / "comptoir" if with_pyproject else root / "comptoir"
    shutil.copytree(SRC / "comptoir", package, ignore=shutil.ignore_patterns("__pycache__"))
    if with_pyproject:
        shutil.copy(SRC.parent / "pyproject.toml", root / "pyproject.toml")
    return package.parent


@pytest.mark.parametrize("with_pyproject", [True, False], ids=["checkout", "installed"])
def test_every_command_finds_the_same_book_wherever_it_is_run_from(tmp_path, with_pyproject):
    """Issue 19 §2: with no COMPTOIR_DATABASE_URL, the book is in one place (the checkout's var/, or the
    platform's data directory once installed), whatever the current directory: an organization made
    from one directory is found by a command run from another, and -v names the same database."""
    package_path = _checkout(tmp_path, with_pyproject)
    env: dict[str, str | None] = {"PYTHONPATH": str(package_path), "XDG_DATA_HOME": str(tmp_path / "xdg"),
                                  "COMPTOIR_DATABASE_URL": None, "COMPTOIR_DATA_DIR": None, "COMPTOIR_FILES_DIR": None}
    here, there = tmp_path / "here", tmp_path / "there" / "deeper"
    here.mkdir()
    there.mkdir(parents=True)
    created = comptoir("org", "create", "Anywhere Inc", "--json", env=env, cwd=here)
    assert created.returncode == 0, created.stdout + created.stderr
    slug = json.loads(created.stdout)["organization"]["slug"]
    found = comptoir("credentials", "create", slug, "upflow", "--json", "-v", env=env, cwd=there)
    assert found.returncode == 0, found.stdout + found.stderr
    expected = (package_path.parent / "var" if with_pyproject else tmp_path / "xdg" / "comptoir") / "comptoir.sqlite3"
    assert found.stdout.splitlines()[0] == f"Database: sqlite:///{expected}"
    assert expected.is_file()
    assert not (here / "var").exists() and not (there / "var").exists()
    helped = comptoir("org", "create", "--help", env=env, cwd=there)
    assert f"sqlite:///{expected}" in helped.stdout.replace("\n", "").replace(" ", "")


def _leaves(command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    for name, sub in getattr(command, "commands", {}).items():
        if hasattr(sub, "commands"):
            yield from _leaves(sub, (*path, name))
        else:
            yield (*path, name), sub


def test_every_command_takes_database_url_and_says_what_it_reads(tmp_path, monkeypatch):
    """Issue 19 §2 and §7: every command of the CLI, at any depth, accepts --database-url and -v, and
    its --help names the database it would use and the COMPTOIR_* settings it reads."""
    import typer.main

    url = f"sqlite:///{tmp_path / 'named.sqlite3'}"
    monkeypatch.setenv("COMPTOIR_DATABASE_URL", url)
    get_settings.cache_clear()
    leaves = list(_leaves(typer.main.get_command(cli.cli)))
    assert len(leaves) >= 20, [path for path, _ in leaves]
    for path, command in leaves:
        assert {"database_url", "verbose"} <= {param.name for param in command.params}, path
        shown = CliRunner().invoke(cli.cli, [*path, "--database-url", "sqlite:///elsewhere.sqlite3", "-v", "--help"],
                                   env={"COLUMNS": "300"})
        assert shown.exit_code == 0, (path, shown.output)
        text = " ".join(shown.output.split())
        assert f"Database: {url} (COMPTOIR_DATABASE_URL)" in text, (path, text)
        assert "Settings read: COMPTOIR_DATABASE_URL (or --database-url), COMPTOIR_DATA_DIR" in text, path
        if any(param.name == "as_json" for param in command.params):
            json_help = next(param.help for param in command.params if param.name == "as_json")
            assert json_help and "JSON object:" in json_help, path
    get_settings.cache_clear()


def test_database_url_names_the_book_of_the_command(tmp_path, database_url):
    """--database-url is the book a command works on, and -v says so; the environment stays as it was."""
    before = os.environ.get("COMPTOIR_DATABASE_URL")
    runner = CliRunner()
    created = runner.invoke(cli.cli, ["org", "create", "Flag Inc", "--json", "--database-url", database_url])
    assert created.exit_code == 0, created.output
    slug = json.loads(created.stdout)["organization"]["slug"]
    listed = runner.invoke(cli.cli, ["credentials", "create", slug, "quipu", "--database-url", database_url, "-v"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0] == f"Database: {cli._redacted(database_url)}"
    assert os.environ.get("COMPTOIR_DATABASE_URL") == before
    elsewhere = runner.invoke(cli.cli, ["credentials", "create", slug, "quipu", "--database-url",
                                        f"sqlite:///{tmp_path / 'other.sqlite3'}"])
    assert elsewhere.exit_code == 2 and f"no organization with slug {slug!r}" in elsewhere.output


BAD_SETTINGS = [
    ({"COMPTOIR_DATABASE_URL": "not a url"}, ("migrate",), "COMPTOIR_DATABASE_URL is not a database URL",
     "sqlite:///PATH or postgresql+psycopg://"),
    ({"COMPTOIR_DATABASE_URL": "mysql://user@localhost/comptoir"}, ("migrate",), "COMPTOIR_DATABASE_URL names mysql://",
     "sqlite:///PATH or postgresql+psycopg://"),
    ({"COMPTOIR_DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:9/comptoir"}, ("org", "create", "X"),
     "COMPTOIR_DATABASE_URL: cannot open postgresql+psycopg://***@127.0.0.1:9/comptoir", "refused"),
    ({"COMPTOIR_DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:9/comptoir"}, ("serve", "--port", "0"),
     "COMPTOIR_DATABASE_URL: cannot open postgresql+psycopg://***@127.0.0.1:9/comptoir", "refused"),
    ({"COMPTOIR_RATE_LIMITS": "maybe"}, ("migrate",), "COMPTOIR_RATE_LIMITS is 'maybe'", "it accepts on or off"),
    ({"COMPTOIR_ONEUP_RATE_LIMIT": "lots"}, ("serve", "--port", "0"), "COMPTOIR_ONEUP_RATE_LIMIT is 'lots'",
     "1800/15 minutes"),
    ({"COMPTOIR_UPFLOW_CONCURRENT_REQUESTS_MAX": "ten"}, ("migrate",), "COMPTOIR_UPFLOW_CONCURRENT_REQUESTS_MAX is 'ten'",
     "valid integer"),
    ({"COMPTOIR_REDIS_URL": "localhost:6379"}, ("webhooks", "run", "--once"), "COMPTOIR_REDIS_URL is 'localhost:6379'",
     "redis://HOST:PORT/DB"),
]


@pytest.mark.parametrize("setting, command, named, accepts", BAD_SETTINGS, ids=[
    "malformed-url", "unsupported-scheme", "unreachable-postgresql", "serve-unreachable-postgresql", "rate-limits", "oneup-rate", "integer", "redis"])
def test_a_bad_setting_stops_the_command_in_one_line(tmp_path, setting, command, named, accepts):
    """Issue 19 §5: one line naming the setting and what it accepts, exit 2, no traceback; -v adds it.
    Nothing is written: no database file appears."""
    env = {"COMPTOIR_DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}", "COMPTOIR_DATA_DIR": str(tmp_path),
           **setting}
    result = comptoir(*command, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    line = result.stderr.strip().splitlines()
    assert len(line) == 1 and named in line[0] and accepts in line[0], result.stderr
    assert "secret" not in result.stdout + result.stderr
    assert not (tmp_path / "never.sqlite3").exists()
    verbose = comptoir(*command, "-v", env=env)
    assert verbose.returncode == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == line[0]


def test_postgresql_urls_without_a_driver_are_read_as_psycopg(monkeypatch):
    monkeypatch.setenv("COMPTOIR_DATABASE_URL", "postgresql://user:pw@db.example/books")
    get_settings.cache_clear()
    try:
        assert get_settings().database_url == "postgresql+psycopg://user:pw@db.example/books"
    finally:
        get_settings.cache_clear()


def test_setup_installs_what_the_server_needs_and_only_test_setup_what_the_tests_need(tmp_path):
    """Issue 19 §3: ./scripts/demo runs scripts/setup, which installs Comptoir (no test extra) and no
    test tool; scripts/setup --test (scripts/test) adds the test extra, redis-server, curl and jq. Run
    on a copy of the checkout whose .venv/bin/python and apt-get only record what they are asked, as
    root, on a PATH where redis-server, curl and jq are missing."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SRC.parent / "scripts" / "setup", root / "scripts" / "setup")
    shutil.copy(SRC.parent / "pyproject.toml", root / "pyproject.toml")
    calls = tmp_path / "calls"
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("bash", "sha256sum", "cut", "ldconfig", "grep", "rm", "touch", "dirname", "cat"):
        found = shutil.which(name, path=f"{os.environ['PATH']}:/usr/sbin:/sbin")
        assert found, name
        (tools / name).symlink_to(found)
    for name, body in (("apt-get", f'echo "apt-get $*" >> {calls}'), ("id", "echo 0")):
        (tools / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (tools / name).chmod(0o755)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").write_text(f"#!{shutil.which('bash')}\necho \"python $*\" >> {calls}\n")
    (root / ".venv" / "bin" / "python").chmod(0o755)

    def setup(*args: str) -> list[str]:
        calls.write_text("")
        result = subprocess.run([str(root / "scripts" / "setup"), *args], env={"PATH": str(tools)}, check=False,
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        return calls.read_text().splitlines()

    server = setup()
    assert "python -m pip install --quiet -e ." in server
    assert not any("redis-server" in call or " jq" in call or "chromium" in call or "[test]" in call for call in server)
    assert setup() == []  # installed: nothing more to do
    tests = setup("--test")
    assert "python -m pip install --quiet -e .[test]" in tests
    assert any("redis-server" in call for call in tests) and any("curl jq" in call for call in tests)
    assert setup() == [] and not [call for call in setup("--test") if call.startswith("python")]
