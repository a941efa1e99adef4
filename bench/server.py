"""The server as production runs it: `comptoir serve --workers N` (uvicorn) on the benchmark's
database, rate limits off; started in its own process group and stopped by that group's id."""

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


class Server:
    def __init__(self, database_url: str, workers: int, data_dir: Path, log_path: Path, port: int | None = None) -> None:
        self.database_url = database_url
        self.workers = workers
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, check_auth: tuple[str, str], timeout_s: float = 180) -> None:
        env = {**os.environ, "COMPTOIR_DATABASE_URL": self.database_url, "COMPTOIR_RATE_LIMITS": "off",
               "COMPTOIR_DATA_DIR": str(self.data_dir), "COMPTOIR_PUBLIC_URL": self.base_url, "COLUMNS": "200"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "comptoir.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers), "--worker-healthcheck-timeout", "120"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                answers = [httpx.get(f"{self.base_url}/oneup/v1/me", auth=check_auth, timeout=5).status_code
                           for _ in range(self.workers * 2)]
                if all(status == 200 for status in answers) and self.log().count("Application startup complete") \
                        >= self.workers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout_s} s:\n{self.log()}")

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
