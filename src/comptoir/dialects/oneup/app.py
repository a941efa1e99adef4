"""The OneUp v1 dialect, mounted at /oneup/v1."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException

from comptoir.context import Context
from comptoir.domain.errors import DomainError
from comptoir.routing import allowed_methods
from comptoir.services.masterdata.work import EMPLOYEES
from comptoir.wire import api

from .conventions import error_response, json_response, mount, reading
from .errors import OneUpError, from_domain
from .extensions import add_extensions
from .resources.banking import BANK_ACCOUNTS_RESOURCE, BANK_ENTRIES_RESOURCE
from .resources.catalogue import ITEM_FAMILIES_RESOURCE, ITEMS_RESOURCE
from .resources.ledger import ACCOUNTS_RESOURCE, JOURNALS_RESOURCE, TRANSACTIONS_RESOURCE
from .resources.parties import CUSTOMERS_RESOURCE, VENDORS_RESOURCE
from .resources.reference import CURRENCIES_RESOURCE, PAYMENT_TERMS_RESOURCE, TAXES_RESOURCE, UNITS_RESOURCE
from .resources.sales import CREDIT_NOTES_RESOURCE, INVOICES_RESOURCE, PAYMENTS_RESOURCE, SALES_ORDERS_RESOURCE
from .resources.work import (
    EMPLOYEES_RESOURCE,
    OPPORTUNITY_TASKS_RESOURCE,
    PROJECT_TASKS_RESOURCE,
    PROJECTS_RESOURCE,
    render_employee,
)

# Routes are tried in this order: the resources integrations call most come first.
RESOURCES = (
    INVOICES_RESOURCE, TRANSACTIONS_RESOURCE, PAYMENTS_RESOURCE, CUSTOMERS_RESOURCE, VENDORS_RESOURCE, ITEMS_RESOURCE,
    SALES_ORDERS_RESOURCE, ACCOUNTS_RESOURCE, JOURNALS_RESOURCE, ITEM_FAMILIES_RESOURCE, PROJECTS_RESOURCE,
    PROJECT_TASKS_RESOURCE, OPPORTUNITY_TASKS_RESOURCE, EMPLOYEES_RESOURCE, PAYMENT_TERMS_RESOURCE, TAXES_RESOURCE,
    CURRENCIES_RESOURCE, UNITS_RESOURCE, BANK_ACCOUNTS_RESOURCE, BANK_ENTRIES_RESOURCE,
    CREDIT_NOTES_RESOURCE,  # our extension: OneUp has no credit notes (docs/dialects/oneup.md)
)


def build(context: Context) -> FastAPI:
    app = api("Comptoir: OneUp v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    router = app.router
    router.add_api_route("/me", me, methods=["GET"], name="me", tags=["me"])
    add_extensions(router)
    for resource in RESOURCES:
        mount(router, resource)
    _handle_errors(app)
    return app


async def me(request: Request) -> Response:
    """The API user behind the credential, and its company (our reading of OneUp's /me)."""
    def work(book: Any) -> Response:
        organization = book.organization
        employee = EMPLOYEES.get(book, book.actor_employee_id) if book.actor_employee_id else None
        rendered = render_employee(employee) if employee else {}
        rendered["company"] = {"id": organization.id, "name": organization.name,
                               "currency_iso_code": organization.currency_iso_code, "country": organization.country}
        return json_response(rendered)
    return await reading(request, work)


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(OneUpError)
    async def on_oneup_error(_request: Request, error: OneUpError) -> Response:
        return error_response(error)

    @app.exception_handler(DomainError)
    async def on_domain_error(_request: Request, error: DomainError) -> Response:
        return error_response(from_domain(error))

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            return error_response(OneUpError(2))
        if error.status_code == 408:  # a body that stopped coming (wire.BodyDeadline)
            return error_response(OneUpError(5, str(error.detail), status=408))
        if error.status_code == 405:
            return error_response(OneUpError(5, "This method is not available on this resource", status=405,
                                             headers={"Allow": ", ".join(allowed_methods(app, request.scope))}))
        return error_response(OneUpError(5, str(error.detail)))

