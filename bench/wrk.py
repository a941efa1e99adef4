"""The load generator: wrk (Debian's package), driven by a Lua script made from a scenario's requests.

wrk is C: at thousands of requests a second on the same 2 cores as the servers it measures, it takes
far less of the CPU than a Python client would (whose share would count against whichever server is
faster). Each of its threads cycles through the first requests its client index gets from the
scenario's generator (bench/scenarios.py); in requests that must write new keys, the marker the
generator was given as its run tag is replaced by the run's own tag and the cycle number, so that
every request of every run writes keys of its own. Its connections send requests back to back
(a closed loop, keep-alive). The script's `done` prints the summary as JSON: requests, duration,
socket errors, non-2xx answers (wrk counts status >= 400; the script also counts 3xx), latency
percentiles (wrk measures each request from its send to its answer), and a few error samples.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .scenarios import UPSERT_BLOCK, Factory

MARKER = "RUNTAG"  # the run tag the generator is given; wrk puts the run's own in its place
TEMPLATES_PER_THREAD = 2 * UPSERT_BLOCK  # whole blocks of Upflow keys: each key's two calls in every cycle
DONE = "WRKJSON "
SAMPLE = "WRKSAMPLE "


def lua_string(value: str | bytes) -> str:
    """A Lua string literal holding exactly these bytes."""
    data = value.encode() if isinstance(value, str) else value
    out = []
    for byte in data:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def script(make: Factory, threads: int, per_thread: int = TEMPLATES_PER_THREAD) -> str:
    """The Lua script of a scenario: each thread's requests, built by the scenario's generator with
    the thread's index as the client."""
    tables = []
    for thread in range(threads):
        rows = []
        for n in range(per_thread):
            method, path, headers, body = make(thread, n)
            keyed = MARKER in path or (body is not None and MARKER.encode() in body)
            header_table = ", ".join(f"[{lua_string(name)}] = {lua_string(value)}" for name, value in headers.items())
            rows.append(f"{{{lua_string(method)}, {lua_string(path)}, {{{header_table}}}, "
                        f"{lua_string(body) if body is not None else 'nil'}, {'true' if keyed else 'false'}}}")
        tables.append("{\n" + ",\n".join(rows) + "}")
    return LUA.replace("--TEMPLATES--", ",\n".join(tables)).replace("--MARKER--", lua_string(MARKER))


LUA = r"""
local templates = {
--TEMPLATES--
}
local marker = --MARKER--
local threads = {}
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end

local mine, formatted, position, cycle, tag
samples = ""
non2xx = 0

function init(args)
  tag = args[1] or "T"
  mine = templates[(index % #templates) + 1]
  formatted = {}
  for i, t in ipairs(mine) do
    if not t[5] then formatted[i] = wrk.format(t[1], t[2], t[3], t[4]) end
  end
  position, cycle = 0, 0
end

function request()
  position = position + 1
  if position > #mine then position, cycle = 1, cycle + 1 end
  local ready = formatted[position]
  if ready then return ready end
  local t = mine[position]
  local run = tag .. "X" .. cycle
  local path = (string.gsub(t[2], marker, run))
  local body = t[4] and (string.gsub(t[4], marker, run)) or nil
  return wrk.format(t[1], path, t[3], body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if #samples < 1500 then
      samples = samples .. status .. " " .. string.gsub(string.sub(body or "", 1, 300), "[\r\n]", " ") .. "\n"
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local s = thread:get("samples") or ""
    for line in string.gmatch(s, "[^\n]+") do io.write("WRKSAMPLE " .. line .. "\n") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "non2xx": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    error_samples: list[str] = field(default_factory=list)
    socket_errors: dict = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> dict:
        return {"name": self.name, "concurrency": self.concurrency, "requests": self.requests, "errors": self.errors,
                "elapsed_s": round(self.elapsed_s, 3), "throughput_per_s": round(self.throughput, 1),
                "p50_ms": round(self.p50_ms, 2), "p90_ms": round(self.p90_ms, 2), "p99_ms": round(self.p99_ms, 2),
                "max_ms": round(self.max_ms, 2), "socket_errors": self.socket_errors,
                "error_samples": self.error_samples}


def binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (bench/run does it when root)")
    return found


def threads_for(concurrency: int) -> int:
    return max(1, min(2, concurrency))


def run(name: str, base_url: str, script_path: Path, *, concurrency: int, duration_s: float, tag: str,
        timeout_s: int = 60) -> Result:
    """wrk with the script for `duration_s` (whole seconds, at least 1) at `concurrency` connections."""
    threads = threads_for(concurrency)
    seconds = max(1, round(duration_s))
    completed = subprocess.run(
        [binary(), "-t", str(threads), "-c", str(max(concurrency, threads)), "-d", f"{seconds}s",
         "--timeout", f"{timeout_s}s", "-s", str(script_path), base_url, "--", tag],
        capture_output=True, text=True, check=False, timeout=seconds + timeout_s + 60)
    result = Result(name, concurrency)
    lines = completed.stdout.splitlines()
    summary = next((json.loads(line[len(DONE):]) for line in lines if line.startswith(DONE)), None)
    if summary is None:
        raise RuntimeError(f"wrk printed no summary (exit {completed.returncode}):\n{completed.stdout[-2000:]}\n"
                           f"{completed.stderr[-2000:]}")
    socket_errors = {kind: summary[kind] for kind in ("connect", "read", "write", "timeout") if summary[kind]}
    result.requests = summary["requests"]
    result.errors = summary["non2xx"] + sum(socket_errors.values())
    result.elapsed_s = summary["duration_us"] / 1e6
    result.p50_ms, result.p90_ms = summary["p50_us"] / 1000, summary["p90_us"] / 1000
    result.p99_ms, result.max_ms = summary["p99_us"] / 1000, summary["max_us"] / 1000
    result.socket_errors = socket_errors
    result.error_samples = [line[len(SAMPLE):] for line in lines if line.startswith(SAMPLE)][:5]
    if socket_errors:
        result.error_samples.append(f"socket errors: {socket_errors}")
    return result
