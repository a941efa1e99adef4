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


class Rule(str, Enum):
    """Business rules a dialect may report under its own code (OneUp 3001 to 3027, say)."""

    OUTSIDE_OPEN_PERIOD = "outside_open_period"
    UNBALANCED = "unbalanced"
    ENTRY_CLOSED = "entry_closed"
    ENTRY_LOCKED = "entry_locked"
    ENTRY_RECONCILED = "entry_reconciled"
    ZERO_BANK_ENTRY = "zero_bank_entry"
    NO_INSTALLMENTS = "no_installments"
    DOCUMENT_SENT = "document_sent"
    DUE_BEFORE_DATE = "due_before_date"
    PAYMENT_BEFORE_DOCUMENT = "payment_before_document"
    FAMILY_ACCOUNT = "family_account"
    NOT_POSITIVE = "not_positive"
    ALREADY_CONVERTED = "already_converted"
    CANNOT_CONVERT = "cannot_convert"
    ORDER_DELIVERED = "order_delivered"
    NUMBER_DATE_ORDER = "number_date_order"  # a number of a series dated out of the series' order
    NUMBER_IN_SEQUENCE = "number_in_sequence"  # a number given back that is not its series' last


@dataclass(frozen=True)
class Problem:
    kind: ErrorKind
    field: str | None
    message: str
    rule: Rule | None = None


@dataclass
class DomainError(Exception):
    """One or more problems found by a service; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    @property
    def kind(self) -> ErrorKind:
        return self.problems[0].kind

    @property
    def rule(self) -> Rule | None:
        return self.problems[0].rule

    def describe(self) -> str:
        return "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in self.problems)


def fail(kind: ErrorKind, field: str | None, message: str, rule: Rule | None = None) -> DomainError:
    return DomainError([Problem(kind, field, message, rule)])


def broken(rule: Rule, message: str, field: str | None = None) -> DomainError:
    """A business rule refuses the operation."""
    return fail(ErrorKind.CONFLICT, field, message, rule)


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__([Problem(ErrorKind.NOT_FOUND, None, f"{what} {ident} was not found")])
