"""OneConnect integrations: `GET /integrations/{id}` (status and the organization's details) and
`PUT /integrations/{id}/revoke`."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from comptoir.codec import iso_timestamp
from comptoir.context import Context
from comptoir.services.access import credentials
from comptoir.services.kernel.unit_of_work import open_book

from .security import Caller, active, integration

REVOKED_BY_PARTNER = "Revoked by the partner"


def _integration_body(context: Context, caller: Caller) -> dict:
    state = credentials.credential_state(context.database, "oneconnect_integration", caller.integration_id)
    with open_book(context.database, caller.partner.org_id) as book:
        return {
            "integrationId": caller.integration_id,
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


def get_integration(request: Request, caller: Caller = Depends(integration)) -> JSONResponse:
    """GET /integrations/{id}: active or revoked, with the organization's details."""
    return JSONResponse(_integration_body(request.app.state.context, caller))


def revoke_integration(request: Request, caller: Caller = Depends(active)) -> JSONResponse:
    """PUT /integrations/{id}/revoke: from now on every call with this integration gets 401."""
    context: Context = request.app.state.context
    credentials.revoke(context.database, caller.partner.org_id, "oneconnect_integration", caller.integration_id,
                       REVOKED_BY_PARTNER)
    return JSONResponse(_integration_body(context, caller))
