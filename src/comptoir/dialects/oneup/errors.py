"""OneUp's error object, {"error": {"status", "code", "message", "reason"}}, and its codes."""

from __future__ import annotations

from typing import Mapping

from comptoir.domain.errors import DomainError, ErrorKind, Rule

MESSAGES = {
    0: "Oops something went wrong. Please contact us so the OneUp team can investigate.",
    1: "Unauthorized.",
    2: "The resource was not found.",
    3: "The request does not respect the specification. Please see the documentation and double-check each field.",
    30: "Business logic violation. The request cannot be fulfilled.",
    3001: "Date is not included in the validity interval.",
    3002: "Your entries are not balanced.",
    3003: "The accounting entry is closed and cannot be edited nor deleted.",
    3004: "The accounting entry is locked and cannot be edited nor deleted.",
    3005: "The accounting entry is reconciled and cannot be edited nor deleted.",
    3006: "Bank Entries with zero amount are not recorded.",
    3009: "This document has no installments.",
    3010: "This document has been sent and cannot be edited nor deleted.",
    3011: "Due date should be after the document date.",
    3012: "Payment date should be after the document date.",
    3013: "A mandatory field is missing.",
    3014: "A field that should be left empty contains an actual value.",
    3015: "Family accounts are not allowed.",
    3019: "Amount should be strictly positive.",
    3020: "The document is already converted.",
    3021: "The document cannot be converted to the wanted type.",
    3025: "The order has been partially or fully delivered.",
    4: "Rate limited.",
    5: "The request was not parsed. Please double-check the content of the request.",
}
STATUSES = {0: 500, 1: 401, 2: 404, 3: 422, 4: 429, 5: 400}

NOT_DELETABLE = "This object cannot be deleted."

_CODE_OF_KIND = {
    ErrorKind.NOT_FOUND: 2,
    ErrorKind.MISSING: 3013,
    ErrorKind.MUST_BE_EMPTY: 3014,
    ErrorKind.INVALID: 3,
    ErrorKind.READ_ONLY: 3,
    ErrorKind.DUPLICATE: 3,
    ErrorKind.REFERENCED: 3,
    ErrorKind.CONFLICT: 30,
}


RULE_CODES = {
    Rule.OUTSIDE_OPEN_PERIOD: 3001,
    Rule.NUMBER_DATE_ORDER: 3001,  # "Date is not included in the validity interval": between its neighbours'
    Rule.UNBALANCED: 3002,
    Rule.ENTRY_CLOSED: 3003,
    Rule.ENTRY_LOCKED: 3004,
    Rule.ENTRY_RECONCILED: 3005,
    Rule.ZERO_BANK_ENTRY: 3006,
    Rule.NO_INSTALLMENTS: 3009,
    Rule.DOCUMENT_SENT: 3010,
    Rule.DUE_BEFORE_DATE: 3011,
    Rule.PAYMENT_BEFORE_DOCUMENT: 3012,
    Rule.FAMILY_ACCOUNT: 3015,
    Rule.NOT_POSITIVE: 3019,
    Rule.ALREADY_CONVERTED: 3020,
    Rule.CANNOT_CONVERT: 3021,
    Rule.ORDER_DELIVERED: 3025,
}


class OneUpError(Exception):
    def __init__(self, code: int, reason: str | None = None, message: str | None = None,
                 headers: dict[str, str] | None = None, status: int | None = None) -> None:
        super().__init__(reason or message or MESSAGES.get(code, ""))
        self.code = code
        self.reason = reason
        self.message = message or MESSAGES[code]
        self.headers = headers or {}
        self.status = status or STATUSES.get(code, 422)

    def body(self) -> dict:
        error = {"status": self.status, "code": str(self.code), "message": self.message}
        if self.reason:
            error["reason"] = self.reason
        return {"error": error}


def from_domain(error: DomainError, wire_names: Mapping[str, str] | None = None) -> OneUpError:
    """The OneUp form of a domain error: the code of its first problem, every problem in the
    reason, each under the field name the client used (`wire_names` maps core names back)."""
    kind = error.kind
    if kind == ErrorKind.NOT_FOUND:
        return OneUpError(2)
    reason = describe(error, wire_names or {})
    if kind == ErrorKind.REFERENCED:
        return OneUpError(3, reason, NOT_DELETABLE)
    return OneUpError(RULE_CODES.get(error.rule, _CODE_OF_KIND[kind]), reason)  # a rule of its own, else 30


def describe(error: DomainError, wire_names: Mapping[str, str]) -> str:
    parts = []
    for problem in error.problems:
        if problem.field is None:
            parts.append(problem.message)
        else:
            head, dot, rest = problem.field.partition(".")
            parts.append(f"{wire_names.get(head, head)}{dot}{rest}: {problem.message}")
    return "; ".join(parts)
