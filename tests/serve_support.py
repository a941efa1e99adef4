"""`comptoir serve --workers 2` as a process of its own, and connections to each of its workers.

Tests that must prove something of every worker (a budget shared through Redis, a revocation seen by
the next request wherever it lands) find, in /proc, which worker process holds the server end of each
of their connections, and keep one keep-alive connection to each.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check: Callable[[], object], timeout_s: float, what: str, log: Path | None = None,
             errors: tuple[type[BaseException], ...] = (OSError, httpx.HTTPError)) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except errors:
            pass
        time.sleep(0.1)
    details = f"\n{log.read_text()[-3000:]}" if log and log.exists() else ""
    pytest.fail(f"{what} did not come up in {timeout_s} s{details}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group this test started (the server and its workers), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def children(pid: int) -> set[int]:
    """Every descendant process of pid (the uvicorn manager's workers)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def serving_process(server_port: int, client_port: int, candidates: set[int]) -> int | None:
    """The process holding the server end of the TCP connection from client_port to server_port."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if local_port == server_port and remote_port == client_port:
            inode = fields[9]
    if inode is None:
        return None
    for pid in candidates:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


@contextmanager
def serving(database_url: str, tmp_path: Path, workers: int = 2, arguments: tuple[str, ...] = (), **environment: str) \
        -> Iterator[tuple[str, subprocess.Popen]]:
    """`comptoir serve --workers N [arguments]` on the database, up and answering /healthz: its base URL
    and process."""
    port = free_port()
    env = {**os.environ, "COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_DATA_DIR": str(tmp_path / "data"),
           "PYTHONUNBUFFERED": "1", **environment}
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "comptoir.cli", "serve", "--workers", str(workers),
                                    "--port", str(port), *arguments], env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            if process.poll() is not None:
                pytest.fail(f"comptoir serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            return httpx.get(base + "/healthz", timeout=2).status_code == 200

        wait_for(up, 60, f"comptoir serve --workers {workers}", log)
        yield base, process
    finally:
        stop(process)


@contextmanager
def one_connection_per_worker(base: str, process: subprocess.Popen, workers: int = 2) -> Iterator[list[httpx.Client]]:
    """A keep-alive connection to each worker of the server (the kernel hands each new connection to
    either: new ones are opened until every worker holds one)."""
    port = int(base.rsplit(":", 1)[1])
    by_worker: dict[int, httpx.Client] = {}
    opened: list[httpx.Client] = []
    try:
        deadline = time.monotonic() + 15
        while len(by_worker) < workers and time.monotonic() < deadline:
            connection = httpx.Client(base_url=base, limits=httpx.Limits(max_connections=1), timeout=5)
            opened.append(connection)
            response = connection.get("/healthz")
            client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
            worker = serving_process(port, client_port, children(process.pid))
            if worker is not None:
                by_worker.setdefault(worker, connection)
        assert len(by_worker) == workers, f"every connection went to the same workers: {list(by_worker)}"
        yield list(by_worker.values())
    finally:
        for connection in opened:
            connection.close()
