"""Fixtures of the currency tests: the organization's book is kept in dollars (the root `org`), and
every dialect speaks to it the way its clients do: OneUp (`oneup`), Upflow (`upflow`) and Quipu
(`quipu`)."""

from __future__ import annotations

import pytest

from tests.quipu.conftest import QuipuClient
from tests.upflow.conftest import UpflowClient


@pytest.fixture
def upflow(client, org) -> UpflowClient:
    return UpflowClient(client, org)


@pytest.fixture
def quipu(client, org) -> QuipuClient:
    return QuipuClient(client, org)
