"""Fixtures of the Quipu v1 tests: a client that gets a token with the organization's app id and
secret and speaks JSON:API to /quipu, the way Quipu's integrators do."""

from __future__ import annotations

from typing import Any

import pytest
import simplejson

QUIPU = "/quipu"
MEDIA_TYPE = "application/vnd.quipu.v1+json"


class QuipuClient:
    def __init__(self, client, org) -> None:
        self.client = client
        self.org = org
        response = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                               data={"grant_type": "client_credentials", "scope": "ecommerce"})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}", "Accept": MEDIA_TYPE,
                        "Content-Type": MEDIA_TYPE}

    def request(self, method: str, path: str, body: Any = None, **kwargs):
        content = simplejson.dumps(body, use_decimal=True) if body is not None else None
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, QUIPU + path, content=content, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **kwargs) -> Any:
        response = self.request(method, path, body, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def create(self, path: str, type_: str, attributes: dict, relationships: dict | None = None) -> dict:
        data = {"type": type_, "attributes": attributes, **({"relationships": relationships} if relationships else {})}
        return self.ok("POST", path, {"data": data}, status=201)["data"]

    def contact(self, name: str = "ACME S.L.", **attributes) -> dict:
        return self.create("/contacts", "contacts", {"name": name, **attributes})


def quipu_errors(response, status: int) -> list[dict]:
    """The response is `status` with JSON:API errors, each with a detail and a source pointer."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"errors"}, body
    for error in body["errors"]:
        assert isinstance(error["detail"], str) and error["detail"]
        assert isinstance(error["source"]["pointer"], str)
    return body["errors"]


def item(concept: str, unitary_amount: str, quantity: Any = 1, vat: Any = 21, retention: Any = 0, **more) -> dict:
    return {"type": "book_entry_items", "attributes": {"concept": concept, "unitary_amount": unitary_amount,
                                                       "quantity": quantity, "vat_percent": vat,
                                                       "retention_percent": retention, **more}}


def relationship(type_: str, row_id: Any) -> dict:
    return {"data": {"id": str(row_id), "type": type_}}


@pytest.fixture
def quipu(client, org) -> QuipuClient:
    return QuipuClient(client, org)


@pytest.fixture
def other_quipu(client, other_org) -> QuipuClient:
    return QuipuClient(client, other_org)


@pytest.fixture
def upflow_client(client, org):
    from ..upflow.conftest import UpflowClient
    return UpflowClient(client, org)
