"""Docs that run: the examples of README.md and docs/ are executed in page order against a live server
(uvicorn over the app under test, on the test database: SQLite, or PostgreSQL with
COMPTOIR_TEST_DATABASE_URL), and each output is compared with the page's. One server per page, not per
block. What a page's markup means here:

- An example is a ```sh block. The page's blocks run in one bash, one after the other, as a reader
  pastes them into one terminal: what a block sets (variables, aliases, functions, the directory) the
  blocks below it see. Each runs with `set -euo pipefail`: a failing command fails the page there.
- The ```json or ```text block right after it, if any, is what it must print. A block may print several
  JSON values, one after the other, and the page shows them all in order.
- What a page does not fix: in JSON, the value "…" stands for anything (an id, a date, a count, a
  secret, a link), and a member "...": "..." for the members of an object the page does not show (the
  others must all be there, equal); in text, "…" stands for any characters within a line. Nothing else
  is ignored: every other value, member and character must be the page's.
- What a page substitutes: only the variables its `<!-- test_docs: env NAME ... -->` line names, which
  its text tells the reader to set (BASE, the server's address; credentials; COMPTOIR_DATABASE_URL, the
  database its `comptoir` commands act on). The test gives exactly those, plus PATH with the installed
  `comptoir`. No page hard-codes an id from an earlier run: an example sets up what it uses.
- A block a page cannot run in CI carries `<!-- test_docs: not run: REASON -->` between the block above
  it and itself, and the page says so in its text; the test names those blocks and their reasons. A
  page none of whose examples run carries `<!-- test_docs: page not run: REASON -->`, and
  test_every_page_with_examples_runs_or_says_why_not checks that every page with examples is run or
  says why not: never a silent skip.

Beside them: every link and `path/like/this.py` of README.md and docs/ names a file of the repository,
and the README lists every page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from comptoir.app import create_app
from comptoir.services.tenancy.demo import load_demo
from comptoir.services.tenancy.organizations import create_organization
from comptoir.settings import Settings

from .conftest import empty_database, make_context
from .helpers import free_port, served

DOCS = Path(__file__).resolve().parent.parent / "docs"
ANY = "…"
MORE = "..."  # "...": "..." in an object: it has other members, which the page does not show
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
_NOT_RUN = re.compile(r"<!-- test_docs: not run: (.+?) -->", re.DOTALL)  # between the block above and this one


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    kind: str | None  # json, text or None (no output shown)
    expected: str | None
    not_run: str | None = None  # why the test does not run it, as the page says just above the block


def examples(page: Path, *, every: bool = False) -> list[Example]:
    """The page's examples in page order; those the page marks not run only with `every`."""
    text = page.read_text()
    found: list[Example] = []
    matched = list(_BLOCK.finditer(text))
    for index, match in enumerate(matched):
        if match.group(1) != "sh":
            continue
        following = matched[index + 1] if index + 1 < len(matched) else None
        shown = following if following is not None and following.group(1) in ("json", "text") else None
        before = text[matched[index - 1].end() if index else 0:match.start()]
        not_run = _NOT_RUN.search(before)
        example = Example(text[:match.start()].count("\n") + 1, match.group(2), shown.group(1) if shown else None,
                          shown.group(2) if shown else None, " ".join(not_run.group(1).split()) if not_run else None)
        if every or example.not_run is None:
            found.append(example)
    return found


def not_run(page: Path) -> dict[int, str]:
    """The page's examples the test does not run, by line, with the reason the page gives."""
    return {example.line: example.not_run for example in examples(page, every=True) if example.not_run}


def json_values(text: str) -> list[Any]:
    """The JSON values of a text, one after the other (a block may print several)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):  # the next value's first character
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


def matches(expected: Any, actual: Any) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, dict):
        shown = {key: value for key, value in expected.items() if key != MORE}
        keys_agree = shown.keys() <= actual.keys() if expected.get(MORE) == MORE else shown.keys() == actual.keys()
        return isinstance(actual, dict) and keys_agree and all(matches(value, actual[key]) for key, value in shown.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            matches(e, a) for e, a in zip(expected, actual))
    return expected == actual


def difference(expected: Any, actual: Any, where: str = "") -> str | None:
    """Where `actual` first departs from `expected` (a JSON path and both values), None when it matches."""
    if matches(expected, actual):
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key != MORE and key in actual and not matches(value, actual[key]):
                return difference(value, actual[key], f"{where}.{key}")
        shown = set(expected) - {MORE}
        return f"{where or '.'}: members {sorted(shown - set(actual))} missing, {sorted(set(actual) - shown)} not shown"
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return next(difference(e, a, f"{where}[{i}]") for i, (e, a) in enumerate(zip(expected, actual))
                    if not matches(e, a))
    return f"{where or '.'}: the page shows {json.dumps(expected, ensure_ascii=False)[:300]}, " \
           f"the server answered {json.dumps(actual, ensure_ascii=False)[:300]}"


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
    result = subprocess.run(["bash", "-c", "\n".join(script)], check=False, env={**os.environ, **environment},
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
            actual = json_values(stdout)
        except ValueError:
            return f"{where}: not the JSON the page shows\n{stdout}"
        if (different := difference(json_values(example.expected), actual)) is not None:
            return f"{where}: the output differs from the page at {different}\n{json.dumps(actual, ensure_ascii=False)}"
    elif example.kind == "text" and not _text_matches(example.expected, stdout):
        return f"{where}: the output differs from the page\n{stdout}"
    return None


@contextmanager
def page_server(database_url: str, data_dir: Path, **settings: str):
    """A server of its own for a page, on the test database, that knows its address (links it hands out
    open): (its context, its base URL). Rate limits are off unless `settings` say otherwise."""
    port = free_port()
    context = make_context(database_url, data_dir, public_url=f"http://127.0.0.1:{port}", **settings)
    try:
        with served(create_app(context=context), port=port) as base:
            yield context, base
    finally:
        context.database.dispose()


CLI = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # `comptoir` as installed


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
        run_page(DOCS / "currencies.md", {"COMPTOIR_DATABASE_URL": context.database.url, **CLI,
                                          "BASE": base, "ONEUP": f"{acme.oneup.email}:{acme.oneup.api_key}"},
                 tmp_path)


def test_the_configuration_page_runs_as_written(tmp_path):
    """docs/configuration.md: `comptoir migrate` and `comptoir org create` on a new, empty database."""
    with contextmanager(empty_database)(tmp_path) as database_url:
        run_page(DOCS / "configuration.md", {"COMPTOIR_DATABASE_URL": database_url, **CLI}, tmp_path)


def test_the_upflow_page_runs_as_written(context, database_url, tmp_path):
    """docs/dialects/upflow.md, on a new organization (KEY, SECRET: its Upflow credentials), by a server
    that knows its address (the PDF and portal links it hands out open)."""
    with page_server(database_url, tmp_path / "data") as (served_context, base):
        org = create_organization(served_context.database, "Upflow Docs")
        run_page(DOCS / "dialects" / "upflow.md",
                 {"BASE": base, "KEY": org.upflow["api_key"], "SECRET": org.upflow["api_secret"]}, tmp_path)


def test_the_quipu_page_runs_as_written_within_the_rate_limit(context, database_url, tmp_path):
    """docs/dialects/quipu.md, on a new organization, with Quipu's rate limit on (5 calls in 5 s, as
    the demo runs): the page's `quipu` waits a second before each call, so its blocks pass as pasted.
    Its block on OneConnect's deposits is not run (the page says why)."""
    assert Settings().quipu_rate_limit == "5/5 seconds"
    with page_server(database_url, tmp_path / "data", rate_limits="on") as (served_context, base):
        org = create_organization(served_context.database, "Quipu Docs")
        run_page(DOCS / "dialects" / "quipu.md", {"BASE": base, "APP_ID": org.quipu["app_id"],
                                                  "APP_SECRET": org.quipu["app_secret"], "SLUG": org.slug}, tmp_path)
    assert list(not_run(DOCS / "dialects" / "quipu.md").values()) == [
        ("it reads what the examples of oneconnect.md deposit on another organization, served on port 8794; "
         "tests/oneconnect/test_in_the_book.py (test_accepted_purchase_and_sales_documents_are_quipu_invoices) "
         "checks these answers.")]


def test_the_auth_page_runs_as_written(tmp_path):
    """docs/auth.md, on a new, empty database served with the rate limits on (its Quipu example shows the
    429): the page creates its organization and OAuth clients with `comptoir` (COMPTOIR_DATABASE_URL)
    and reads every credential from their answers."""
    with contextmanager(empty_database)(tmp_path) as database_url, \
            page_server(database_url, tmp_path / "data", rate_limits="on") as (served_context, base):
        served_context.database.migrate()
        run_page(DOCS / "auth.md", {"BASE": base, "COMPTOIR_DATABASE_URL": database_url, **CLI}, tmp_path)
    assert list(not_run(DOCS / "auth.md").values()) == [
        "it starts a server that runs until it is stopped; the test starts its own."]


def test_the_oneconnect_page_runs_as_written(tmp_path):
    """docs/dialects/oneconnect.md, on a new, empty database: the page creates its two organizations with
    `comptoir org create --json` (COMPTOIR_DATABASE_URL), deposits, decides, and delivers its webhooks
    with `comptoir webhooks run --once` to the receiver it writes."""
    with contextmanager(empty_database)(tmp_path) as database_url, \
            page_server(database_url, tmp_path / "data") as (served_context, base):
        served_context.database.migrate()
        run_page(DOCS / "dialects" / "oneconnect.md", {"BASE": base, "COMPTOIR_DATABASE_URL": database_url, **CLI},
                 tmp_path)
    assert list(not_run(DOCS / "dialects" / "oneconnect.md").values()) == [
        ("it starts the demo server, which runs until it is stopped; the test starts its own, and the page's "
         "setup block sets the same variables."),
        "it delivers until it is stopped; the receiver's example below runs `comptoir webhooks run --once`."]


def test_the_oneup_page_runs_as_written(tmp_path):
    """docs/dialects/oneup.md, on a fresh demo server: a new, empty database with the demo organization
    (EMAIL, KEY: its OneUp credentials), served by a server that knows its address; the page's `comptoir`
    commands act on that database (COMPTOIR_DATABASE_URL).
    Only the block that starts a server is not run (the page says why)."""
    with contextmanager(empty_database)(tmp_path) as fresh_url:
        migrating = make_context(fresh_url, tmp_path / "migrate")
        migrating.database.migrate()
        migrating.database.dispose()
        with page_server(fresh_url, tmp_path / "data") as (served_context, base):
            demo = load_demo(served_context.database)
            run_page(DOCS / "dialects" / "oneup.md",
                     {"BASE": base, "EMAIL": demo.oneup.email, "KEY": demo.oneup.api_key,
                      "COMPTOIR_DATABASE_URL": fresh_url, **CLI}, tmp_path)
    assert list(not_run(DOCS / "dialects" / "oneup.md").values()) == [
        "it starts a server that runs until stopped, and the test starts its own."]


# Every page with ```sh examples is run above, or is here with the reason it is not (the page says so too,
# in a `<!-- test_docs: page not run: ... -->` line and in its text).
RUN = {"accounting.md", "currencies.md", "configuration.md", "dialects/upflow.md", "dialects/quipu.md", "auth.md",
       "dialects/oneconnect.md", "dialects/oneup.md"}
_PAGE_NOT_RUN = re.compile(r"<!-- test_docs: page not run: (.+?) -->", re.DOTALL)
# Cannot run in CI: README.md (servers that run until stopped, the suite itself), performance.md (the
# benchmarks), reliability.md (the stress runs).


def test_every_page_with_examples_runs_or_says_why_not():
    with_examples = {page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else page.name: page
                     for page in _pages() if examples(page, every=True)}
    unexplained = {name for name, page in with_examples.items()
                   if name not in RUN and not _PAGE_NOT_RUN.search(page.read_text())}
    assert unexplained == set(), "pages whose examples the suite neither runs nor says why"
    assert RUN <= set(with_examples), "a page the tests above run has no examples left, or moved"
    assert {name for name, page in with_examples.items() if name in RUN and _PAGE_NOT_RUN.search(page.read_text())} == set()


@pytest.mark.parametrize("expected, actual, same", [
    ({"id": ANY, "n": 1}, {"id": 7, "n": 1}, True), ({"n": 1}, {"n": 2}, False), ({"n": 1}, {"n": 1, "m": 2}, False),
    ([ANY, 2], [1, 2], True), ([1], [1, 2], False), ({"n": 1, MORE: MORE}, {"n": 1, "m": 2}, True),
    ({"n": 1, MORE: MORE}, {"m": 2}, False), ({"n": 1, MORE: MORE}, {"n": 2, "m": 2}, False)])
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


def test_a_block_may_print_several_json_values():
    assert json_values('{"a": 1}\n[2]\n"x" ') == [{"a": 1}, [2], "x"]
