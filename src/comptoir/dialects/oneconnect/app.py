"""The OneConnect v1 dialect, mounted at /oneconnect/v1 (its token endpoint at /oneconnect/oauth2/token)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from comptoir.context import Context
from comptoir.wire import api

from . import documents
from .errors import Problem, problem_response
from .integrations import get_integration, revoke_integration
from .security import CompanyClosed, revoke_closed


def build(context: Context) -> FastAPI:
    app = api("Comptoir: OneConnect v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    router = app.router  # the routes are the app's own (comptoir/routing.py)
    router.add_api_route("/integrations/{integration_id}", get_integration, methods=["GET"], tags=["integrations"])
    router.add_api_route("/integrations/{integration_id}/revoke", revoke_integration, methods=["PUT"],
                         tags=["integrations"])
    for path, endpoint in (("purchase-invoices", documents.import_purchase_invoice),
                           ("sales-invoices", documents.import_sales_invoice)):
        router.add_api_route(f"/integrations/{{integration_id}}/{path}", endpoint, methods=["POST"], tags=["imports"],
                             openapi_extra=documents.IMPORT_OPENAPI)
    router.add_api_route("/integrations/{integration_id}/documents/{document_id}", documents.get_document,
                         methods=["GET"], tags=["documents"])
    router.add_api_route("/integrations/{integration_id}/documents/{document_id}/entries", documents.book_document,
                         methods=["POST"], tags=["documents"])
    router.add_api_route("/integrations/{integration_id}/documents/{document_id}/refuse", documents.refuse_document,
                         methods=["POST"], tags=["documents"])

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        if isinstance(problem, CompanyClosed):
            await revoke_closed(request, problem)
        return problem_response(problem)

    @app.exception_handler(HTTPException)
    async def on_http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return problem_response(Problem(error.status_code, str(error.detail)))

    return app
