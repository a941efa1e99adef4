"""OneConnect integrations: `GET /integrations/{id}` (status and the organization's details) and
`PUT /integrations/{id}/revoke`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from comptoir.codec import iso_timestamp
from comptoir.services.access import credentials

from .documents import reading, writing
from .security import caller, public_base

REVOKED_BY_PARTNER = "Revoked by the partner"


def _integration_body(book: Any, integration_id: str) -> dict:
    state = credentials.states(book.link, [("oneconnect_integration", integration_id)])["oneconnect_integration"]
    return {
        "integrationId": integration_id,
        "status": "revoked" if state.revoked_at else "active",
        "createdAt": iso_timestamp(state.created_at),
        "revokedAt": iso_timestamp(state.revoked_at),
        "revocationReason": state.revocation_reason,
        "organization": _organization(book.organization),
    }


def _organization(organization: Any) -> dict:
    """The brief's organization object (specs/oneconnect.md §3: name, siren, legalForm, naf, address,
    phoneNumber, contactEmail) from what the book keeps of its organization: its name, and its country
    as the address. The book keeps no SIREN, legal form, NAF code, phone or email: they are null.
    Beside them, the book's currency and the day it was opened."""
    return {"name": organization.name, "siren": None, "legalForm": None, "naf": None,
            "address": {"country": organization.country}, "phoneNumber": None, "contactEmail": None,
            "currency": organization.currency_iso_code, "createdAt": iso_timestamp(organization.created_at)}


async def get_integration(integration_id: str, request: Request) -> JSONResponse:
    """GET /integrations/{id}: active or revoked, with the organization's details."""
    return JSONResponse(await reading(request, caller(request, integration_id, active_only=False),
                                      lambda book: _integration_body(book, integration_id)))


async def revoke_integration(integration_id: str, request: Request) -> JSONResponse:
    """PUT /integrations/{id}/revoke: from now on every call with this integration gets 401."""
    def work(book: Any) -> dict:
        credentials.revoke_in(book, "oneconnect_integration", integration_id, REVOKED_BY_PARTNER,
                              source=public_base(request))
        return _integration_body(book, integration_id)
    return JSONResponse(await writing(request, caller(request, integration_id), work))
