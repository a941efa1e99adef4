"""The big fuzz run: tests/security/test_fuzz.py with every Schemathesis phase (explicit examples,
coverage of every boundary, generated positive and negative data) and COMPTOIR_FUZZ_EXAMPLES cases an
operation, then stateful runs that follow the links from each create to the created record
(COMPTOIR_FUZZ_STATEFUL_EXAMPLES scenarios a dialect, each in a new organization). Skipped unless COMPTOIR_STRESS=1:

    COMPTOIR_STRESS=1 COMPTOIR_FUZZ_EXAMPLES=60 COMPTOIR_FUZZ_REPORT=/tmp/fuzz.json \\
      python -m pytest -q -p no:randomly tests/stress/test_fuzz_stress.py
    COMPTOIR_CONTRACT_EXAMPLES=100 python -m pytest -q tests/quipu/test_contract.py   # Quipu's own document

The counts of what was sent go to COMPTOIR_FUZZ_REPORT."""

from __future__ import annotations

import base64
import os
import random

import pytest
from hypothesis import HealthCheck, settings

from comptoir.services.tenancy.organizations import create_organization

from ..security.conftest import world  # noqa: F401 - the fixture of the security tests
from ..security.fuzz_support import CHECKS, FUZZ_STATS, fuzz_case, schema_of, write_report
from ..security.openapi_support import DOCUMENTS
from .conftest import stress_only

FUZZ_EXAMPLES = int(os.environ.get("COMPTOIR_FUZZ_EXAMPLES", "60"))
STATEFUL_EXAMPLES = int(os.environ.get("COMPTOIR_FUZZ_STATEFUL_EXAMPLES", "150"))
EVERY_PHASE = ("examples", "coverage", "fuzzing")
BIG = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))

oneup = schema_of("oneup", EVERY_PHASE)
upflow = schema_of("upflow", EVERY_PHASE)
oneconnect = schema_of("oneconnect", EVERY_PHASE)


@stress_only
@oneup.parametrize()
@BIG
def test_oneup(case, app, world):  # noqa: F811
    fuzz_case(case, app, world, "oneup", random.Random(repr(case)))


@stress_only
@upflow.parametrize()
@BIG
def test_upflow(case, app, world):  # noqa: F811
    fuzz_case(case, app, world, "upflow", random.Random(repr(case)))


@stress_only
@oneconnect.parametrize()
@BIG
def test_oneconnect(case, app, world):  # noqa: F811
    fuzz_case(case, app, world, "oneconnect", random.Random(repr(case)))


@stress_only
@pytest.mark.parametrize("dialect", ["oneup", "upflow"])
def test_stateful(app, world, dialect):  # noqa: F811
    """Scenarios of several steps: a create, then the created record read, changed, deleted."""
    prefix = DOCUMENTS[dialect][0]
    machine = schema_of(dialect, (*EVERY_PHASE, "stateful")).as_state_machine()
    marker = world.marker.encode()

    class Scenario(machine):
        def setup(self):
            # Each scenario in an organization of its own: the same steps then get the same answers
            # whenever Hypothesis replays them (in a shared book a create that was a 200 could be a
            # 409 the second time, which changes the steps that follow and reads as a flaky strategy).
            org = create_organization(world.context.database, "Stateful scenario")
            self.headers = {"oneup": {"Authorization": "Basic " + base64.b64encode(
                                f"{org.oneup.email}:{org.oneup.api_key}".encode()).decode()},
                            "upflow": {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]},
                            }[dialect]

        def get_call_kwargs(self, case):
            return {"base_url": f"http://testserver{prefix}", "headers": self.headers, "app": app}

        def after_call(self, response, case):
            FUZZ_STATS["requests"] += 1
            FUZZ_STATS[f"{dialect} stateful requests"] += 1
            FUZZ_STATS[f"{dialect} {response.status_code // 100}xx"] += 1
            FUZZ_STATS[f"{dialect} status {response.status_code}"] += 1
            assert marker not in response.content, "organization B's data in an answer to A"

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Scenario.run(settings=settings(max_examples=STATEFUL_EXAMPLES, deadline=None, database=None,
                                   suppress_health_check=list(HealthCheck), stateful_step_count=8))


@stress_only
def test_zz_report():
    print(f"\nfuzz: {dict(FUZZ_STATS)}")
    write_report()
    assert FUZZ_STATS["requests"] >= 10_000 or FUZZ_EXAMPLES < 60
