"""Analytic categories: labels to analyse the book by (a shop, a line of business), in a tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.query import ListQuery
from comptoir.services.kernel.validation import Checks
from comptoir.storage.book import Book
from comptoir.storage.tables import AnalyticCategory

NAME_LENGTH_MAX = 255
DEPTH_MAX = 100


def get(book: Book, category_id: int) -> AnalyticCategory:
    return book.analytic_categories.require(category_id)


def list_categories(book: Book, query: ListQuery) -> tuple[Sequence[AnalyticCategory], bool]:
    return book.analytic_categories.list(query)


def count(book: Book, query: ListQuery) -> int:
    return book.analytic_categories.count_matching(query.conditions)


def create(book: Book, fields: Mapping[str, Any]) -> AnalyticCategory:
    category = AnalyticCategory()
    _write(book, category, fields, creating=True)
    return book.analytic_categories.add(category)


def update(book: Book, category_id: int, fields: Mapping[str, Any]) -> AnalyticCategory:
    category = get(book, category_id)
    _write(book, category, fields, creating=False)
    book.flush()
    return category


def delete(book: Book, category_id: int) -> None:
    """Delete the category and the categories under it."""
    book.analytic_categories.remove(get(book, category_id))


def _write(book: Book, category: AnalyticCategory, fields: Mapping[str, Any], *, creating: bool) -> None:
    checks = Checks()
    if creating or "name" in fields:
        checks.required(fields.get("name"), "name")
    if len(fields.get("name") or "") > NAME_LENGTH_MAX:
        checks.add(ErrorKind.INVALID, "name", f"is longer than {NAME_LENGTH_MAX} characters")
    checks.reference(fields, "parent_id", book.analytic_categories, "parent_id")
    checks.raise_if_any()
    if fields.get("parent_id") is not None and _descends_from(book, fields["parent_id"], category.id):
        raise fail(ErrorKind.INVALID, "parent_id", "a category cannot be under itself")
    if "name" in fields:
        category.name = fields["name"]
    if "parent_id" in fields:
        category.parent_id = fields["parent_id"]


def _descends_from(book: Book, category_id: int | None, ancestor_id: int | None) -> bool:
    """Whether `category_id` is `ancestor_id` or under it (the walk up is bounded)."""
    for _ in range(DEPTH_MAX):
        if category_id is None or ancestor_id is None:
            return False
        if category_id == ancestor_id:
            return True
        parent = book.analytic_categories.get(category_id)
        category_id = parent.parent_id if parent else None
    return True
