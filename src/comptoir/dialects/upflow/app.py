"""The Upflow v1 dialect, mounted at /upflow/v1."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from comptoir.context import Context
from comptoir.routing import include_routes
from comptoir.services.masterdata.work import EMPLOYEES
from comptoir.wire import api

from . import bank_accounts, custom_fields, customers, invoices, payments, pdfs, portal, refunds
from .customers import employee_uuid
from .errors import UpflowError, error_response


async def users(request: Request) -> JSONResponse:
    """GET /users: the organization's users."""
    def work(book: Any) -> JSONResponse:
        return JSONResponse({"users": [{
            "id": employee_uuid(book.org_id, employee.id),
            "firstName": employee.first_name, "lastName": employee.last_name, "email": employee.email,
            "position": None} for employee in EMPLOYEES.all(book)]})
    return await customers._unit(request, work, reads=True)


def build(context: Context) -> FastAPI:
    app = api("Comptoir: Upflow v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    app.router.add_api_route("/users", users, methods=["GET"], tags=["users"])
    for module in (bank_accounts, customers, custom_fields, invoices, payments, pdfs, portal, refunds):
        include_routes(app, module.router)

    @app.exception_handler(UpflowError)
    async def on_upflow_error(_request: Request, error: UpflowError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(HTTPException)
    async def on_http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return error_response(UpflowError(error.status_code, str(error.detail),
                                          {404: "Not Found", 408: "Request Timeout"}.get(error.status_code,
                                                                                         "Bad Request")))

    return app
