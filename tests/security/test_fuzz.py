"""Fuzzing OneUp, Upflow and OneConnect from their own OpenAPI documents (completed from the code that
defines them: tests/security/openapi_support.py) with Schemathesis, positive and negative data, as the
owner of an organization with a record of everything, rate limits off. No answer may be a server
error, have a status the operation does not list, or break the operation's schemas; and the other
organization's book never changes nor shows.

This is the small run of CI: COMPTOIR_FUZZ_EXAMPLES (default 2) cases per operation. The stress run
(tests/stress/test_fuzz_stress.py, docs/reliability.md) runs the same with thousands of cases.
Quipu's contract test, against Quipu's official document, is tests/quipu/test_contract.py."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, settings

from .conftest import World, state_of
from .fuzz_support import FUZZ_STATS, fuzz_case, schema_of, write_report

FUZZ_EXAMPLES = int(os.environ.get("COMPTOIR_FUZZ_EXAMPLES", "2"))
FUZZ_SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(scope="module")
def bystander(world: World):
    """B's book as it was before any fuzzing."""
    return state_of(world.context, world.b)


oneup = schema_of("oneup")
upflow = schema_of("upflow")
oneconnect = schema_of("oneconnect")


@oneup.parametrize()
@FUZZ_SETTINGS
def test_oneup_keeps_to_its_document(case, app, world, bystander):
    fuzz_case(case, app, world, "oneup", random.Random(repr(case)))


@upflow.parametrize()
@FUZZ_SETTINGS
def test_upflow_keeps_to_its_document(case, app, world, bystander):
    fuzz_case(case, app, world, "upflow", random.Random(repr(case)))


@oneconnect.parametrize()
@FUZZ_SETTINGS
def test_oneconnect_keeps_to_its_document(case, app, world, bystander):
    fuzz_case(case, app, world, "oneconnect", random.Random(repr(case)))


def test_the_bystander_saw_nothing_change(world, bystander):
    """Runs after the fuzzing above (file order): B's book is as it was."""
    after = state_of(world.context, world.b)
    assert after.books == bystander.books
    assert FUZZ_STATS["requests"] > 0
    write_report()
