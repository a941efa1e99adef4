"""Guard clauses shared by services: references that must exist in the organization's book."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import String, Text

from comptoir.domain.errors import DomainError, ErrorKind, Problem, Rule
from comptoir.storage.repository import Repository


class Checks:
    """Collects every problem of one request, so the caller hears of all of them at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, kind: ErrorKind, field: str | None, message: str) -> None:
        self.problems.append(Problem(kind, field, message))

    def broken(self, rule: Rule, field: str | None, message: str) -> None:
        """A business rule the request breaks (dialects report it under their own code)."""
        self.problems.append(Problem(ErrorKind.CONFLICT, field, message, rule))

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def reference(self, fields: Mapping[str, Any], name: str, repository: Repository, label: str | None = None) -> None:
        """A foreign id sent in `fields[name]` must name a row of this organization."""
        value = fields.get(name)
        if value is not None and repository.get(value) is None:
            self.add(ErrorKind.INVALID, label or name, f"no {repository.label} with id {value}")

    def required(self, value: Any, field: str) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.add(ErrorKind.MISSING, field, "is mandatory")

    def raise_if_any(self) -> None:
        if self.problems:
            raise DomainError(list(self.problems))


def apply(row: Any, fields: Mapping[str, Any], names: tuple[str, ...], checks: Checks | None = None) -> None:
    """Copy the given fields that were sent onto the row; missing fields stay as they are. A null
    sent for a column that cannot be null empties a text, and is refused for anything else; an empty
    text sent for a text that is null leaves it null (empty already: a client that sends back what it
    read changes nothing)."""
    columns = row.__table__.columns
    problems = checks or Checks()
    for name in names:
        if name not in fields:
            continue
        value = fields[name]
        if value == "" and getattr(row, name, None) is None:
            continue
        column = columns.get(name)
        if value is None and column is not None and not column.nullable:
            if isinstance(column.type, (String, Text)):
                value = ""
            else:
                problems.add(ErrorKind.MISSING, name, "may not be null")
                continue
        setattr(row, name, value)
    if checks is None:
        problems.raise_if_any()
