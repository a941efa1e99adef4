"""Upflow's error body: `{"message", "error", "statusCode"}` (its clients read message, then error)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from comptoir.domain.errors import DomainError, ErrorKind

_STATUS = {ErrorKind.NOT_FOUND: (404, "Not Found"), ErrorKind.REFERENCED: (409, "Conflict"),
           ErrorKind.DUPLICATE: (409, "Conflict"), ErrorKind.CONFLICT: (409, "Conflict")}


class UpflowError(Exception):
    def __init__(self, status: int, message: str, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.error, self.headers = status, message, error, headers or {}


def error_response(error: UpflowError) -> JSONResponse:
    return JSONResponse({"message": error.message, "error": error.error, "statusCode": error.status},
                        status_code=error.status, headers=error.headers)


def from_domain(error: DomainError) -> UpflowError:
    status, title = _STATUS.get(error.kind, (400, "Bad Request"))
    return UpflowError(status, error.describe(), title)
