"""What the fuzzing tests share (tests/security/test_fuzz.py, tests/stress/test_fuzz_stress.py): the
completed documents as Schemathesis schemas, one case sent as organization A with mostly A's real
records in its path, the checks, and a count of what was sent."""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections import Counter
from pathlib import Path

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import World, headers_for
from .openapi_support import DOCUMENTS, completed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_STATS: Counter[str] = Counter()
REAL_RECORDS = 0.7  # the share of cases whose path names one of A's records rather than a generated id


def _app_for_documents():
    """An app only to read its documents from (its database is never opened)."""
    from comptoir.app import create_app
    from comptoir.context import Context
    from comptoir.settings import Settings

    directory = tempfile.mkdtemp(prefix="comptoir-documents-")
    return create_app(context=Context.from_settings(Settings(database_url=f"sqlite:///{directory}/unused.sqlite3",
                                                             data_dir=directory, secret_key="documents only")))


_DOCUMENTS_APP = None


def schema_of(dialect: str, phases: tuple[str, ...] = ("examples", "fuzzing")):
    """The dialect's completed document as a Schemathesis schema, at import time (for parametrize).
    The coverage phase (every boundary of every parameter: hundreds of cases an operation) is for
    the stress run."""
    global _DOCUMENTS_APP
    if _DOCUMENTS_APP is None:
        _DOCUMENTS_APP = _app_for_documents()
    _, document = completed(_DOCUMENTS_APP, dialect)
    schema = schemathesis.openapi.from_dict(document)
    schema.config.phases.update(phases=list(phases))
    return schema


def _record_of(world: World, dialect: str, path: str, parameter: str) -> str | None:
    ids = world.a.ids
    if dialect == "oneconnect":
        return {"integration_id": world.a.org.oneconnect["integration_id"],
                "document_id": ids["oneconnect:waiting"]}.get(parameter)
    if parameter == "contact_ref":
        return ids["upflow:contacts"]
    resource = path.strip("/").split("/")[0]
    value = ids.get(f"{dialect}:{resource}")
    return str(value) if value is not None else None


def spare_integration(world: World) -> dict:
    """A new OneConnect integration of A (its id and secret), for a case that revokes one."""
    from comptoir.services.access import credentials

    with world.context.database.transaction() as session:
        return credentials.issue(session, world.a.org.id, "oneconnect_integration")


def fuzz_case(case, app, world: World, dialect: str, chance: random.Random) -> None:
    """Send one generated case as A (mostly at A's own records) and hold the answer to the document."""
    parameters = case.path_parameters or {}
    for name in list(parameters):
        real = _record_of(world, dialect, case.path, name)
        if dialect == "oneconnect" and name == "integration_id":
            parameters[name] = real  # another integration is only ever 404: not worth the cases
        elif real is not None and chance.random() < REAL_RECORDS:
            parameters[name] = real
    headers = headers_for(dialect, world.a, None)
    if dialect == "oneconnect" and case.path.endswith("/revoke"):
        # Revoking A's integration would close it to every later case (401 SMB_CLOSED): a new one each time.
        spare = spare_integration(world)
        parameters["integration_id"] = spare["identifier"]
        headers["x-oneconnect-api-key"] = spare["secret"]
    if case.headers:
        headers = {**case.headers, **headers}
    prefix = DOCUMENTS[dialect][0]
    response = case.call(base_url=f"http://testserver{prefix}", headers=headers, app=app)
    FUZZ_STATS["requests"] += 1
    FUZZ_STATS[f"{dialect} requests"] += 1
    FUZZ_STATS[f"{dialect} {response.status_code // 100}xx"] += 1
    FUZZ_STATS[f"{dialect} status {response.status_code}"] += 1
    if dialect == "oneconnect" and parameters.get("integration_id") == world.a.org.oneconnect["integration_id"]:
        assert b"SMB_CLOSED" not in response.content, "A's integration is closed: every later case would be 401"
    assert world.marker.encode() not in response.content, "organization B's data in an answer to A"
    case.validate_response(response, checks=CHECKS)


def write_report(path: str | None = None) -> None:
    """The counts, as JSON, where COMPTOIR_FUZZ_REPORT says (for docs/reliability.md)."""
    target = path or os.environ.get("COMPTOIR_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps(dict(FUZZ_STATS), indent=2, sort_keys=True) + "\n")
