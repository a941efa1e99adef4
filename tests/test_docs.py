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


def _text_matches(expected: str, actual: str) -> bool:
    """Text: exact, but for `…`, which stands for any characters within one line (an id, a date, a secret)."""
    pattern = "".join(".*?" if part == ANY else re.escape(part) for part in re.split(f"({ANY})", expected))
    return re.fullmatch(pattern, actual) is not None


def declared(page: Path) -> set[str]:
    """The variables a page says the reader sets (its `<!-- test_docs: env NAME ... -->` line)."""
    found = re.search(r"<!-- test_docs: env ([A-Z_ ]+?) -->", page.read_text())
    return set(found.group(1).split()) if found else set()


def run_page(page: Path, environment: dict[str, str], tmp_path: Path, *, timeout_s: float = 120) -> None:
    """Each example of the page in page order, in one bash, as a reader pastes them into one terminal:
    what a block sets (variables, aliases, functions, the directory) the blocks below it see. Runs in
    `tmp_path` (the files an example writes go there). `environment` is what the page says the reader
    sets, no more: its `<!-- test_docs: env ... -->` line names the same variables."""
    given = set(environment) - {"PATH"}
    assert given == declared(page), f"{page.name}: the page names {sorted(declared(page))}, the test gives {sorted(given)}"
    blocks = examples(page)
    outputs = tmp_path / f"{page.stem}.outputs"
    outputs.mkdir()
    script = ["set -euo pipefail", "shopt -s expand_aliases"]
    for index, example in enumerate(blocks):
        script += [f'exec >"{outputs}/{index}.out" 2>"{outputs}/{index}.err"', example.command.rstrip("\n")]
    script.append(f'exec >"{outputs}/done" 2>&1')
    result = subprocess.run(["bash", "-c", "\n".join(script)], env={**os.environ, **environment},
                            capture_output=True, text=True, timeout=timeout_s, cwd=tmp_path)
    failures = [failure for index, example in enumerate(blocks)
                if (failure := _checked(page, blocks, index, outputs, result)) is not None]
    assert not failures, failures[0]


def _checked(page: Path, blocks: list[Example], index: int, outputs: Path, result) -> str | None:
    """What is wrong with the page's block `index` as it ran, or None."""
    example = blocks[index]
    where = f"{page.relative_to(DOCS.parent)}:{example.line}"
    ran = (outputs / f"{index}.out").exists()
    finished = (outputs / f"{index + 1}.out").exists() or (index == len(blocks) - 1 and (outputs / "done").exists())
    if not (ran and finished):
        return f"{where}: exit {result.returncode}\n{(outputs / f'{index}.err').read_text() if ran else result.stderr}"
    stdout = (outputs / f"{index}.out").read_text()
    if example.kind == "json":
        try:
            actual = json.loads(stdout)
        except ValueError:
            return f"{where}: not the JSON the page shows\n{stdout}"
        if not matches(json.loads(example.expected), actual):
            return f"{where}: the output differs from the page\n{json.dumps(actual, indent=2, ensure_ascii=False)}"
    elif example.kind == "text" and not _text_matches(example.expected, stdout):
        return f"{where}: the output differs from the page\n{stdout}"
    return None


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


# Links and file names in README.md and docs/: each names a file of the repository. A `path/like/this.py`
# is read from the repository's root, from the page's folder or from src/comptoir/ (pages name modules
# as `services/ledger/posting.py`); globs must match at least one file.
ROOT = DOCS.parent
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_PATH = re.compile(r"`([\w.\-]+(?:/[\w.\-*]+)+\.(?:py|md|txt|yaml|yml|json|toml|sh|csv|ini|cfg|html))`")
# Files of other projects a page names with their project, beside the name (the page, the project).
ELSEWHERE = {"versions/2026/flat.json": ("0020-account-natures.md", "arrhes/PCG"),
             "data/l10n.fr.account.vat.box.csv": ("0023-tax-returns.md", "l10n_fr_account_vat_return"),
             "protocols/http/httptools_impl.py": ("0019-what-clients-see-on-the-wire.md", "uvicorn")}
# The decisions cite the vendors' documentation (seeds/) and our research notes (specs/) they were taken
# on, kept outside the repository, as docs/decisions/README.md says.
CITED_NOTES = ("seeds/", "specs/")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _exists(page: Path, name: str) -> bool:
    places = (ROOT, page.parent, ROOT / "src" / "comptoir")
    return any(any(place.glob(name)) if "*" in name else (place / name).exists() for place in places)


def test_every_link_and_file_name_of_the_docs_names_a_file_of_the_repository():
    missing = []
    for page in _pages():
        text = page.read_text()
        for target in _LINK.findall(text):
            if "://" not in target and not target.startswith("mailto:") and not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)}: link {target}")
        for name in _PATH.findall(text):
            if name in ELSEWHERE and page.name == ELSEWHERE[name][0] and ELSEWHERE[name][1] in text:
                continue
            if page.parent.name == "decisions" and name.startswith(CITED_NOTES):
                continue
            if not _exists(page, name):
                missing.append(f"{page.relative_to(ROOT)}: {name}")
    assert not missing, "\n".join(missing)


def test_the_readme_lists_every_page_of_the_docs():
    readme = (ROOT / "README.md").read_text()
    pages = [page.relative_to(ROOT).as_posix() for page in sorted(DOCS.rglob("*.md")) if page.parent.name != "decisions"]
    assert [page for page in pages if f"]({page})" not in readme] == []
    assert "](docs/decisions/)" in readme
