"""The servers the benchmark measures, each started in its own process group and stopped by that
group's id: Comptoir as production runs it (`comptoir serve --workers N`, uvicorn) on the benchmark's
database with rate limits off, and the floor (bench/floor) served by uvicorn the same way (the same
workers, uvloop and httptools, access log on), on the same database and data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ROOT = Path(__file__).resolve().parent.parent


class Server:
    name = "Comptoir"

    def __init__(self, database_url: str, workers: int, data_dir: Path, log_path: Path, port: int | None = None,
                 public_url: str | None = None) -> None:
        """`public_url`: where clients reach Comptoir (the links its answers hold); its own base URL
        by default. The floor is given Comptoir's, so that its answers hold the same links."""
        self.database_url = database_url
        self.workers = workers
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port or free_port()
        self.public_url = public_url
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "comptoir.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers), "--worker-healthcheck-timeout", "120"]

    def answering(self, check_auth: tuple[str, str]) -> bool:
        return all(httpx.get(f"{self.base_url}/oneup/v1/me", auth=check_auth, timeout=5).status_code == 200
                   for _ in range(self.workers * 2))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, check_auth: tuple[str, str], timeout_s: float = 180) -> None:
        env = {**os.environ, "COMPTOIR_DATABASE_URL": self.database_url, "COMPTOIR_RATE_LIMITS": "off",
               "COMPTOIR_DATA_DIR": str(self.data_dir), "COMPTOIR_PUBLIC_URL": self.public_url or self.base_url, "COLUMNS": "200"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.answering(check_auth) and self.log().count("Application startup complete") >= self.workers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout_s} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor this object started)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def log(self) -> str:
        return self.log_path.read_text()[-5000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class FloorServer(Server):
    """The floor: `uvicorn bench.floor.app:app` with Comptoir's worker count, event loop and HTTP parser."""

    name = "the floor"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "bench.floor.app:app", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers), "--loop", "uvloop", "--http", "httptools",
                "--timeout-worker-healthcheck", "120"]

    def answering(self, check_auth: tuple[str, str]) -> bool:
        return all(httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200 for _ in range(self.workers * 2))
