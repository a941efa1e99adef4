"""The Upflow v1 dialect, mounted at /upflow/v1."""

from __future__ import annotations

import math
import time
import uuid
from typing import Iterator

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from comptoir.context import Context
from comptoir.services import credentials
from comptoir.services.book import open_book
from comptoir.services.credentials import Principal

EMPLOYEE_NAMESPACE = uuid.UUID("6f1c8a52-3f7e-4a53-9a4e-6d1f5d2e8b10")


class UpflowError(Exception):
    def __init__(self, status: int, message: str, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.error, self.headers = status, message, error, headers or {}


def error_response(error: UpflowError) -> JSONResponse:
    """Upflow's clients read `message`, then `error` (specs/upflow.md §5)."""
    return JSONResponse({"message": error.message, "error": error.error, "statusCode": error.status},
                        status_code=error.status, headers=error.headers)


def authenticated(request: Request) -> Iterator[Principal]:
    """X-Api-Key and X-Api-Secret (header names in any case); then 600 calls a minute and at most
    10 requests at once per organization."""
    context: Context = request.app.state.context
    key = request.headers.get("x-api-key", "")
    secret = request.headers.get("x-api-secret", "")
    principal = credentials.authenticate(context.database, "upflow", key, secret) if key and secret else None
    if principal is None:
        raise UpflowError(401, "Invalid API key or secret", "Unauthorized")
    maximum = context.settings.upflow_concurrent_requests_max
    with context.limiter.in_flight(f"upflow:{principal.org_id}", maximum) as admitted:
        if not admitted:  # refused before counting: a request turned away spends no budget
            raise UpflowError(429, f"Too many concurrent requests: at most {maximum} per organization",
                              "Too Many Requests", {"Retry-After": "1"})
        budget = context.limiter.hit(context.settings.upflow_rate_limit, "upflow", str(principal.org_id))
        if not budget.allowed:
            retry_after_s = max(1, math.ceil(budget.reset_at_s - time.time()))
            raise UpflowError(429, f"Rate limit exceeded: {context.settings.upflow_rate_limit} per organization",
                              "Too Many Requests", {"Retry-After": str(retry_after_s)})
        yield principal


def users(request: Request, principal: Principal = Depends(authenticated)) -> JSONResponse:
    """GET /users: the organization's users."""
    with open_book(request.app.state.context.database, principal.org_id) as book:
        employees = book.employees.all()
        return JSONResponse({"users": [{
            "id": str(uuid.uuid5(EMPLOYEE_NAMESPACE, f"{book.org_id}:{employee.id}")),
            "firstName": employee.first_name, "lastName": employee.last_name, "email": employee.email,
            "position": None} for employee in employees]})


def build(context: Context) -> FastAPI:
    app = FastAPI(title="Comptoir: Upflow v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    router = APIRouter()
    router.add_api_route("/users", users, methods=["GET"], tags=["users"])
    app.include_router(router)

    @app.exception_handler(UpflowError)
    async def on_upflow_error(_request: Request, error: UpflowError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(HTTPException)
    async def on_http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return error_response(UpflowError(error.status_code, str(error.detail), "Not Found"
                                          if error.status_code == 404 else "Bad Request"))

    return app
