"""Fixtures of the Upflow v1 tests: a client that speaks to /upflow/v1 with an organization's
X-Api-Key and X-Api-Secret, as Upflow's integrators do."""

from __future__ import annotations

from typing import Any

import pytest

UPFLOW = "/upflow/v1"


class UpflowClient:
    def __init__(self, client, org) -> None:
        self.client = client
        self.org = org
        self.headers = {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": org.upflow["api_secret"]}

    def request(self, method: str, path: str, body: Any = None, **kwargs):
        return self.client.request(method, UPFLOW + path, json=body, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, **kwargs) -> Any:
        """The decoded body of a call that must answer 200."""
        response = self.request(method, path, body, **kwargs)
        assert response.status_code == 200, (method, path, response.status_code, response.text)
        return response.json()

    def customer(self, ref: str) -> dict:
        return self.ok("GET", f"/customers/{ref}")

    def all_customers(self) -> list[dict]:
        return self.ok("GET", "/customers", params={"limit": 1000})["customers"]


def upflow_error(response, status: int) -> dict:
    """The response is `status` with Upflow's error body: a message and an error title."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("error"), str) and body["error"], body
    return body


@pytest.fixture
def org(context):
    """An organization whose book is kept in euros, as most of Upflow's users' are: the tests' EUR
    documents are in its own currency, their USD ones booked at a rate (tests/currencies/ checks how)."""
    from comptoir.services.tenancy.organizations import create_organization
    from tests.helpers import set_rates

    created = create_organization(context.database, "Test Company", currency="EUR")
    set_rates(context, created.id, {"USD": "0.92"})
    return created


@pytest.fixture
def upflow(client, org) -> UpflowClient:
    return UpflowClient(client, org)


@pytest.fixture
def other_upflow(client, other_org) -> UpflowClient:
    return UpflowClient(client, other_org)
