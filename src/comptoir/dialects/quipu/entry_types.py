"""The JSON:API type of a book entry: the resource its form (or kind) is served by."""

from __future__ import annotations

from typing import Any

TYPES = {None: "invoices", "simplified_invoice": "simplified_invoices", "additional_income": "additional_incomes",
         "ticket": "tickets"}


def entry_type(document: Any) -> str:
    return "paysheets" if document.kind == "paysheet" else TYPES.get(document.form, "invoices")
