"""Guard clauses shared by services: references that must exist in the organization's book."""

from __future__ import annotations

from typing import Any, Mapping

from comptoir.domain.errors import DomainError, ErrorKind, Problem
from comptoir.storage.repository import Repository


class Checks:
    """Collects every problem of one request, so the caller hears of all of them at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, kind: ErrorKind, field: str | None, message: str) -> None:
        self.problems.append(Problem(kind, field, message))

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


def apply(row: Any, fields: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """Copy the given fields that were sent onto the row; missing fields stay as they are."""
    for name in names:
        if name in fields:
            setattr(row, name, fields[name])
