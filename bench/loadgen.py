"""A small asyncio load generator: a fixed number of clients, each on its own keep-alive HTTP/1.1
connection, sending requests back to back for a bounded time and count; latencies are measured
per request around the exchange on the socket.

It speaks just enough HTTP/1.1 for a loopback server (Content-Length or chunked bodies). It is much
lighter than a general client such as httpx, which matters on a 2-core machine where the load
generator shares the CPU with the server it measures; the CPU it used is reported beside its results.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Request = tuple[str, str, dict[str, str], bytes | None]  # method, path with query, headers, body


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
        return ordered[rank]

    def summary(self) -> dict:
        return {"name": self.name, "concurrency": self.concurrency, "requests": self.requests, "errors": self.errors,
                "elapsed_s": round(self.elapsed_s, 3), "throughput_per_s": round(self.throughput, 1),
                "p50_ms": round(self.percentile(0.50), 2), "p99_ms": round(self.percentile(0.99), 2),
                "client_cpu_share": round(self.client_cpu_s / self.elapsed_s, 2) if self.elapsed_s else 0.0,
                "error_samples": self.error_samples}


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a keep-alive connection the server closed is opened again, once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            if body is not None:
                lines.append(f"Content-Length: {len(body)}")
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
            try:
                await self.writer.drain()
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None


async def run(name: str, host: str, port: int, make_request: Callable[[int, int], Request], *, concurrency: int,
              duration_s: float, warmup_s: float, requests_max: int,
              check: Callable[[int, bytes], str | None] | None = None) -> Result:
    """Clients 0..concurrency-1 send make_request(client, n) back to back (a closed loop): first for
    `warmup_s` (not counted), then until `duration_s` has passed or `requests_max` requests have
    completed. Throughput is the requests completed in the measured window over its length."""
    result = Result(name, concurrency)
    connections = [Connection(host, port) for _ in range(concurrency)]
    counters = [0] * concurrency
    state = {"measuring": False, "stop": False}

    async def client(index: int) -> None:
        connection = connections[index]
        while not state["stop"]:
            method, path, headers, body = make_request(index, counters[index])
            counters[index] += 1
            started = time.perf_counter()
            try:
                status, content = await connection.request(method, path, headers, body)
                problem = f"{status} {content[:300]!r}" if status >= 300 else (check(status, content) if check else None)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                problem = f"{type(error).__name__}: {error}"
            latency_ms = (time.perf_counter() - started) * 1000
            if state["measuring"]:  # a request counts when it completes inside the measured window
                if result.requests >= requests_max:
                    state["stop"] = True
                    return
                result.requests += 1
                result.latencies_ms.append(latency_ms)
                if problem:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{method} {path}: {problem}")

    tasks = [asyncio.create_task(client(index)) for index in range(concurrency)]
    await asyncio.sleep(warmup_s)
    state["measuring"] = True
    cpu_started, started = time.process_time(), time.perf_counter()
    deadline = started + duration_s
    # The window closes at its deadline, or later if no request has completed yet (a scenario slower
    # than its window still reports one figure), but never more than 60 s later.
    while (time.perf_counter() < deadline or (result.requests == 0 and time.perf_counter() < deadline + 60)) \
            and not state["stop"]:
        await asyncio.sleep(0.01)
    result.elapsed_s = time.perf_counter() - started
    result.client_cpu_s = time.process_time() - cpu_started
    state["measuring"] = False
    state["stop"] = True
    await asyncio.wait(tasks, timeout=30)
    for task in tasks:
        task.cancel()
    for connection in connections:
        await connection.close()
    return result


def json_body(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
