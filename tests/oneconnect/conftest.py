"""A OneConnect partner speaking to the real app: a JWT from the token endpoint, the integration
secret, multipart deposits as the seed's curl commands send them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import simplejson

from comptoir.services.tenancy.organizations import NewOrganization, create_organization

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
BMP = b"BM" + (90).to_bytes(4, "little") + b"\x00" * 8 + (40).to_bytes(4, "little") + b"\x00" * 72

LINE = {"date": "2026-03-09T00:00:00.000Z",
        "debit": {"amount": 100.0, "currency": "EUR", "currencyAmount": 100.0, "currencyRate": 1},
        "credit": {"amount": 0, "currency": "EUR", "currencyAmount": 0, "currencyRate": 1},
        "journal": "ACH", "account": "40100000", "thirdParty": "FRN001", "thirdPartySiren": "123456789",
        "thirdPartyLabel": "Fournisseur Exemple", "label": "Facture achat mars", "reference": "FA-2026-042"}


def seed_entries() -> dict:
    """The seed's full example: 100 on the debit of 40100000, 100 on the credit of 60100000."""
    second = copy.deepcopy(LINE)
    second["debit"], second["credit"] = copy.deepcopy(LINE["credit"]), copy.deepcopy(LINE["debit"])
    second["account"] = "60100000"
    return {"data": {"lines": [copy.deepcopy(LINE), second]}}


class Partner:
    """A partner application: its token, the integration's secret, and the calls of the seed."""

    def __init__(self, client, org: NewOrganization) -> None:
        self.client, self.org = client, org
        token = client.post("/oneconnect/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": org.oneconnect["client_id"],
            "client_secret": org.oneconnect["client_secret"]})
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}",
                        "x-oneconnect-api-key": org.oneconnect["integration_secret"]}
        self.base = f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}"

    def deposit(self, kind: str = "purchase", *, file: bytes | None = PDF, file_name: str = "invoice.pdf",
                entries: Any = None, headers: dict | None = None, **fields: Any):
        """POST a purchase or sales invoice as multipart: `file`, then the text fields (`filename`
        defaults to invoice.pdf; None leaves a field out), `entries` as a JSON string."""
        data = {"filename": "invoice.pdf", "userEmail": "user@someCompany.com", **fields}
        if entries is not None:
            data["entries"] = entries if isinstance(entries, str) else simplejson.dumps(entries, use_decimal=True)
        data = {name: value for name, value in data.items() if value is not None}
        files = {"file": (file_name, file, "application/pdf")} if file is not None else None
        return self.client.post(f"{self.base}/{kind}-invoices", data=data, files=files or {"_": ("", b"")},
                                headers={**self.headers, **(headers or {})})

    def deposited(self, kind: str = "purchase", **kwargs: Any) -> str:
        response = self.deposit(kind, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()["documentId"]

    def document(self, document_id: str) -> dict:
        response = self.client.get(f"{self.base}/documents/{document_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def post_json(self, path: str, body: Any):
        return self.client.post(self.base + path, content=json.dumps(body), headers={
            **self.headers, "Content-Type": "application/json"})


def problem_of(response, status: int, error_code: str | None) -> dict:
    """The RFC 9457 body of a refused request, checked for its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert body.get("errorCode") == error_code, body
    return body


def invalid_fields(response) -> set[str]:
    return {error["field"] for error in problem_of(response, 400, "VALIDATION_ERROR")["errors"]}


def stored_files(context, org: NewOrganization) -> list[Path]:
    root = Path(context.settings.files_dir) / org.uuid
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def french_org(context) -> NewOrganization:
    """An organization on the French chart (PCG) in euros: the accounts OneConnect entries name."""
    return create_organization(context.database, "Société Test", currency="EUR", country="FR", chart="pcg")


@pytest.fixture
def partner(client, french_org) -> Partner:
    return Partner(client, french_org)
