"""GET /book_entries: invoices, simplified invoices, additional incomes, tickets and paysheets in one
list, each rendered as its own resource type; GET /book_entries/{id} (Mirage's) reads one of them.
Entries written through OneUp or Upflow, and invoices accepted through OneConnect, are here too."""

from __future__ import annotations

from typing import Any

from comptoir.domain.documents import ALL_KINDS, INVOICE_KINDS, PAYSHEET
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.documents import book_entries

from . import paysheets
from .conventions import Resource, View
from .entries import BY_FORM, related, render_entry
from .entry_filters import ENTRY_FILTERS, ENTRY_SORTS

# filter[type]: the forms of each type (the 2016 docs' singular additional_income too).
TYPES = {"invoices": (INVOICE_KINDS, None),
         "simplified_invoices": (INVOICE_KINDS, "simplified_invoice"),
         "tickets": (INVOICE_KINDS, "ticket"), "paysheets": ((PAYSHEET,), None)}
TYPES["additional_incomes"] = TYPES["additional_income"] = (INVOICE_KINDS, "additional_income")
RENDERERS = {form: render_entry(entry_form) for form, entry_form in BY_FORM.items()}


def _type(value: Any) -> tuple[Condition, ...]:
    kinds, form = TYPES[str(value)]
    return Condition("kind", Op.IN, kinds), Condition("form", Op.EQ, form)


class Entries:
    def get(self, book: Any, document_id: int) -> Any:
        return book_entries.get_any(book, document_id)

    def list(self, book: Any, query: ListQuery) -> tuple[Any, bool]:
        return book.documents.list(ListQuery((Condition("kind", Op.IN, ALL_KINDS), *query.conditions),
                                             query.order, query.offset, query.limit))

    def count(self, book: Any, query: ListQuery) -> int:
        return book.documents.count_matching((Condition("kind", Op.IN, ALL_KINDS), *query.conditions))


def render(document: Any, view: View) -> dict:
    if document.kind == PAYSHEET:
        return paysheets.render(document, view)
    return RENDERERS[document.form](document, view)


def related_of(document: Any, view: View, includes: frozenset[str]) -> list[dict]:
    if document.kind == PAYSHEET:
        return paysheets.related(document, view, includes)
    return related(document, view, includes)


RESOURCE = Resource(path="book_entries", service=Entries(), render=render, related=related_of,
                    filters={**ENTRY_FILTERS, "type": _type}, sorts=ENTRY_SORTS,
                    operations=frozenset({"list", "get"}))
