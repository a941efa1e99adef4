"""Profiles with py-spy: record the server's workers (or a command) while a scenario runs, and
summarise the collapsed stacks as the share of samples spent in each function (inclusive) and
in each leaf (exclusive), the way docs/performance.md reports them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def record(pids: list[int], seconds: float, output: Path, rate: int = 200) -> list[subprocess.Popen]:
    """Start one py-spy per process, sampling for `seconds`; returns the recorders to wait for."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed (pip install '.[bench]')")
    recorders = []
    for pid in pids:
        target = output.with_name(f"{output.stem}-{pid}.txt")
        recorders.append(subprocess.Popen([binary, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                                           "--rate", str(rate), "--format", "raw", "--nonblocking",
                                           "--output", str(target)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
    return recorders


def _short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['function']} ({path})"


IDLE_LEAVES = ("Runner.run (asyncio/runners.py)", "wait (threading.py)", "select (selectors.py)",
               "_wait_for_tstate_lock (threading.py)", "_recv (multiprocessing/connection.py)",
               "poll (multiprocessing/connection.py)", "select (selectors.py)")
DB_WAIT_LEAVES = ("Connection.wait (psycopg/connection.py)",)


def summarise(paths: list[Path], top: int = 25) -> dict:
    """Shares of samples: idle (an event loop or a thread pool waiting for work), waiting for
    PostgreSQL (psycopg's wait), and busy; then, of the busy and waiting samples, the share spent in
    each function (inclusive), in each of Comptoir's own functions, and in each leaf (exclusive)."""
    inclusive: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [_short(frame) for frame in stack.split(";") if frame]
            samples = int(count)
            leaf = frames[-1] if frames else ""
            if leaf.startswith(IDLE_LEAVES) or leaf.startswith("Condition.wait"):
                kinds["idle"] += samples
                continue
            kinds["waiting for PostgreSQL" if leaf.startswith(DB_WAIT_LEAVES) else "busy"] += samples
            for frame in set(frames):
                inclusive[frame] += samples
                if "comptoir/" in frame:
                    ours[frame] += samples
            exclusive[leaf] += samples
    total = kinds["busy"] + kinds["waiting for PostgreSQL"]

    def shares(counter: Counter[str], count: int = top) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(count)] if total else []
    every = sum(kinds.values()) or 1
    return {"samples": sum(kinds.values()), "kinds": {kind: round(100 * n / every, 1) for kind, n in kinds.items()},
            "inclusive": shares(inclusive), "ours": shares(ours, 30), "exclusive": shares(exclusive)}


def print_summary(summary: dict, title: str) -> str:
    kinds = ", ".join(f"{kind} {share}%" for kind, share in sorted(summary["kinds"].items()))
    lines = [f"### {title}", "", (f"{summary['samples']} samples of every worker thread: {kinds}. "
                                  "The shares below are of the busy and waiting samples."), "",
             "| inclusive % | Comptoir's function |", "|---:|---|"]
    lines += [f"| {share} | `{name}` |" for name, share in summary["ours"]]
    lines += ["", "| inclusive % | any function |", "|---:|---|"]
    lines += [f"| {share} | `{name}` |" for name, share in summary["inclusive"]]
    lines += ["", "| exclusive % | function (leaf) |", "|---:|---|"]
    lines += [f"| {share} | `{name}` |" for name, share in summary["exclusive"][:15]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(print_summary(summarise([Path(p) for p in sys.argv[1:]], top=40), "profile"))
