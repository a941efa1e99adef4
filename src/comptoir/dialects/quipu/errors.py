"""Quipu's errors: JSON:API `errors[]`, each with a `detail` and a `source.pointer` (the official PHP
client reads `errors[0].source.pointer` unconditionally), and the status codes of specs/quipu.md §6."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fastapi.responses import Response

from comptoir.codec import dump_json
from comptoir.domain.errors import DomainError, ErrorKind, Rule

MEDIA_TYPE = "application/vnd.quipu.v1+json"
BAD_REQUEST = "Bad request"
NOT_AUTHORIZED = "Not authorized"
FORBIDDEN = "You are not authorized to access this resource"
NOT_FOUND = "Record not found"
# Deleting what others still point at (a contact with invoices, a series in use) is 403 in Quipu.
_STATUS = {ErrorKind.NOT_FOUND: 404, ErrorKind.REFERENCED: 403}
# What a final invoice forbids (docs/decisions/0026), as Quipu refuses what it does not allow: 403.
_RULE_STATUS = {Rule.DOCUMENT_SENT: 403, Rule.NUMBER_IN_SEQUENCE: 403}


@dataclass(frozen=True)
class Detail:
    detail: str
    pointer: str = ""


class QuipuError(Exception):
    def __init__(self, status: int, detail: str, pointer: str = "", headers: dict[str, str] | None = None,
                 details: Sequence[Detail] = ()) -> None:
        super().__init__(detail)
        self.status, self.headers = status, headers or {}
        self.details = list(details) or [Detail(detail, pointer)]

    @property
    def detail(self) -> str:
        return self.details[0].detail


def error_response(error: QuipuError) -> Response:
    errors = [{"status": str(error.status), "detail": d.detail, "source": {"pointer": d.pointer}}
              for d in error.details]
    return Response(dump_json({"errors": errors}), status_code=error.status, headers=error.headers,
                    media_type=MEDIA_TYPE)


def from_domain(error: DomainError, pointers: Mapping[str, str]) -> QuipuError:
    """A domain error as Quipu shows it: 404 for what is not found, 403 for a deletion others
    prevent and for a change a final invoice forbids, 422 for everything the request got wrong, with each field under its JSON pointer."""
    status = _RULE_STATUS.get(error.rule) or _STATUS.get(error.kind, 422)
    if status == 404:
        return QuipuError(404, NOT_FOUND)
    details = [Detail(_sentence(problem.field, problem.message), pointer_of(problem.field, pointers))
               for problem in error.problems]
    if status == 403:
        return QuipuError(403, FORBIDDEN, details=[Detail(FORBIDDEN, ""), *details])
    return QuipuError(422, details[0].detail, details=details)


def pointer_of(field: str | None, pointers: Mapping[str, str]) -> str:
    """The JSON pointer of a core field: the resource's own mapping, else `/data` for what the
    request did as a whole."""
    if not field:
        return "/data"
    base = field.split(".")[0].split("[")[0]
    return pointers.get(field) or pointers.get(base) or "/data"


def _sentence(field: str | None, message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
