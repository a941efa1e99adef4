"""Domain errors: values with a code, a message and the fields they concern. Dialects map them to
their own wire format (OneUp error codes, JSON:API errors, RFC 9457 problems)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class ErrorKind(str, Enum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"  # a value outside its allowed set, too long, malformed
    MISSING = "missing"  # a mandatory field is absent
    MUST_BE_EMPTY = "must_be_empty"  # a field that does not apply carries a value
    READ_ONLY = "read_only"  # an attempt to change a read-only field
    DUPLICATE = "duplicate"  # a value promised unique is taken
    REFERENCED = "referenced"  # deletion refused: other records point at it
    CONFLICT = "conflict"  # a business rule refuses the operation


@dataclass(frozen=True)
class Problem:
    kind: ErrorKind
    field: str | None
    message: str


@dataclass
class DomainError(Exception):
    """One or more problems found by a service; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    @property
    def kind(self) -> ErrorKind:
        return self.problems[0].kind

    def describe(self) -> str:
        return "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in self.problems)


def fail(kind: ErrorKind, field: str | None, message: str) -> DomainError:
    return DomainError([Problem(kind, field, message)])


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__([Problem(ErrorKind.NOT_FOUND, None, f"{what} {ident} was not found")])
