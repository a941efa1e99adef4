"""Docs that run: the examples of the pages below are executed in page order against a live server
(uvicorn over the app under test), and each output is compared with the page's.

A page's example is a ```sh block, run by bash; the ```json or ```text block right after it, if
any, is what it must print. In JSON, the value "…" stands for anything (an id, a date, a secret: the
page marks what it does not fix so); text must match exactly. Blocks share their exported variables,
in page order (each block sees what the blocks above it exported). The test substitutes only what
the page says it needs: `BASE`, the server's address, and the credentials named at the top of the
page, given as environment variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from comptoir.services.tenancy.organizations import create_organization

from .helpers import served

DOCS = Path(__file__).resolve().parent.parent / "docs"
ANY = "…"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\s*$", re.S | re.M)


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    kind: str | None  # json, text or None (no output shown)
    expected: str | None


def examples(page: Path) -> list[Example]:
    found: list[Example] = []
    blocks = [(page.read_text()[:match.start()].count("\n") + 1, match.group(1), match.group(2))
              for match in _BLOCK.finditer(page.read_text())]
    for index, (line, kind, body) in enumerate(blocks):
        if kind != "sh":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        shown = following if following is not None and following[1] in ("json", "text") else None
        found.append(Example(line, body, shown[1] if shown else None, shown[2] if shown else None))
    return found


def matches(expected: Any, actual: Any) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, dict):
        return isinstance(actual, dict) and expected.keys() == actual.keys() and all(
            matches(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            matches(e, a) for e, a in zip(expected, actual))
    return expected == actual


def run_page(page: Path, environment: dict[str, str], tmp_path: Path) -> None:
    """Each example of the page in page order, in `tmp_path` (the files an example writes go there)."""
    state = tmp_path / f"{page.stem}.env"
    state.write_text("")
    for example in examples(page):
        script = f"set -euo pipefail\nsource {state}\n{example.command}\nexport -p > {state}\n"
        result = subprocess.run(["bash", "-c", script], env={**os.environ, **environment}, capture_output=True,
                                text=True, timeout=60, cwd=tmp_path)
        where = f"{page.name}:{example.line}"
        assert result.returncode == 0, f"{where}: exit {result.returncode}\n{result.stderr}"
        if example.kind == "json":
            actual = json.loads(result.stdout)
            assert matches(json.loads(example.expected), actual), \
                f"{where}: the output differs from the page\n{json.dumps(actual, indent=2, ensure_ascii=False)}"
        elif example.kind == "text":
            assert result.stdout == example.expected, f"{where}: the output differs from the page\n{result.stdout}"


def test_the_accounting_guide_runs_as_written(app, context, tmp_path):
    """docs/accounting.md: a US-chart organization (ONEUP) and a French one (ONEUP_FR)."""
    us = create_organization(context.database, "Docs Inc")
    french = create_organization(context.database, "Docs SARL", currency="EUR", country="FR", chart="pcg")
    with served(app) as base:
        run_page(DOCS / "accounting.md", {"BASE": base, "ONEUP": f"{us.oneup.email}:{us.oneup.api_key}",
                                          "ONEUP_FR": f"{french.oneup.email}:{french.oneup.api_key}"}, tmp_path)


def test_the_currencies_page_runs_as_written(app, context, tmp_path):
    """docs/currencies.md: the `comptoir rates` and `comptoir revalue` commands, on an organization whose
    slug is acme-inc, and its OneUp requests (`/exchange_rates`, reports; ONEUP: its credentials)."""
    acme = create_organization(context.database, "Acme Inc", slug="acme-inc")
    with served(app) as base:
        run_page(DOCS / "currencies.md", {"COMPTOIR_DATABASE_URL": context.database.url,
                                          "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                                          "BASE": base, "ONEUP": f"{acme.oneup.email}:{acme.oneup.api_key}"},
                 tmp_path)


@pytest.mark.parametrize("expected, actual, same", [
    ({"id": ANY, "n": 1}, {"id": 7, "n": 1}, True), ({"n": 1}, {"n": 2}, False), ({"n": 1}, {"n": 1, "m": 2}, False),
    ([ANY, 2], [1, 2], True), ([1], [1, 2], False)])
def test_the_comparison_ignores_only_what_the_page_marks(expected, actual, same):
    assert matches(expected, actual) is same
