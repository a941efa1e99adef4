"""Plain records of the book (projects, item families, employees, reference data): the same
create, update, delete and read use cases, configured per kind instead of written again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from comptoir.domain.errors import NotFound
from comptoir.domain.query import Condition, ListQuery
from comptoir.services.kernel.codes import next_code
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.storage.book import Book
from comptoir.storage.repository import Repository


@dataclass(frozen=True)
class ReadOnlyRecords:
    repository: str  # the Book attribute
    # Conditions every row of this kind meets (tasks of kind "project", say).
    conditions: tuple[Condition, ...] = ()

    def of(self, book: Book) -> Repository:
        return getattr(book, self.repository)

    def get(self, book: Book, row_id: int) -> Any:
        row = self.of(book).get(row_id)
        if row is None or any(getattr(row, c.attribute) != c.value for c in self.conditions):
            raise NotFound(self.of(book).label, row_id)
        return row

    def list(self, book: Book, query: ListQuery) -> tuple[Sequence[Any], bool]:
        return self.of(book).list(replace(query, conditions=self.conditions + query.conditions))

    def all(self, book: Book) -> Sequence[Any]:
        """Every row of this kind, by id (a short list: the organization's users, say)."""
        return [row for row in self.of(book).all()
                if all(getattr(row, c.attribute) == c.value for c in self.conditions)]

    def count(self, book: Book, query: ListQuery) -> int:
        """How many rows the query's conditions select (the total of a paged list)."""
        return self.of(book).count_matching(self.conditions + query.conditions)


@dataclass(frozen=True, kw_only=True)
class Records(ReadOnlyRecords):
    model: type
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    code_key: str | None = None  # counter of the automatic code, e.g. "item_family" for FAM-007
    code_attribute: str | None = None

    def create(self, book: Book, fields: Mapping[str, Any]) -> Any:
        row = self.model()
        self._write(book, row, fields, creating=True)
        return self.of(book).add(row)

    def update(self, book: Book, row_id: int, fields: Mapping[str, Any]) -> Any:
        row = self.get(book, row_id)
        self._write(book, row, fields, creating=False)
        book.flush()
        return row

    def delete(self, book: Book, row_id: int) -> None:
        row = self.get(book, row_id)
        ensure_unreferenced(book, self.model, row.id, self.of(book).label)
        self.of(book).remove(row)

    def _write(self, book: Book, row: Any, fields: Mapping[str, Any], *, creating: bool) -> None:
        checks = Checks()
        apply(row, fields, self.fields, checks)
        for name in self.required:
            checks.required(getattr(row, name, None), name)
        checks.raise_if_any()
        if self.code_attribute and not getattr(row, self.code_attribute):
            setattr(row, self.code_attribute, next_code(book, self.code_key, self.of(book), self.code_attribute))
