"""The stress tests: long runs against a real server, each with a short form that CI runs.

A test whose whole point is length (the crash runs, the big fuzz run) is skipped unless
COMPTOIR_STRESS=1; the others take their length from their own COMPTOIR_* variables, short by
default. docs/reliability.md gives the command of each long run."""

from __future__ import annotations

import os

import pytest

STRESS = os.environ.get("COMPTOIR_STRESS", "") == "1"

stress_only = pytest.mark.skipif(not STRESS, reason="a stress run, minutes long: COMPTOIR_STRESS=1 "
                                                    "(docs/reliability.md gives the command)")


@pytest.fixture
def postgres_only(is_postgres) -> None:
    if not is_postgres:
        pytest.skip("SQLite runs one writer at a time: requests cannot race there (run on PostgreSQL)")
