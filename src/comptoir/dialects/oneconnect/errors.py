"""OneConnect's errors: RFC 9457 problems with its `errorCode` extension."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

PROBLEM = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
          409: "Conflict", 422: "Unprocessable Content", 429: "Too Many Requests"}


class Problem(Exception):
    """An RFC 9457 problem with OneConnect's `errorCode` extension (and any other extension)."""

    def __init__(self, status: int, detail: str, error_code: str | None = None, *,
                 headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.error_code, self.extensions = status, detail, error_code, extensions
        self.headers = headers or {}

    def body(self) -> dict:
        body = {"type": "about:blank", "title": TITLES.get(self.status, "Error"), "status": self.status,
                "detail": self.detail}
        if self.error_code:
            body["errorCode"] = self.error_code
        return {**body, **self.extensions}


def problem_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="OneConnect"'} if problem.status == 401 else {}
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM,
                        headers={**headers, **problem.headers})
