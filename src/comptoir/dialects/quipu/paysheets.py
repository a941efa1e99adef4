"""Paysheets (services/paysheets.py): the contact is the employee; amounts are decimal strings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from comptoir.domain.documents import PAYSHEET
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.documents import paysheets

from .contacts import render as render_contact
from .conventions import Resource, Sent, View, linkage, money, relationships
from .entries import PAYMENT_METHODS, entry_attributes
from .entry_filters import ENTRY_FILTERS, ENTRY_SORTS

POINTERS = {"party_id": "/data/relationships/contact", "date": "/data/attributes/issue_date",
            "series_id": "/data/relationships/numeration", "account_id": "/data/relationships/accounting_subcategory",
            **{name: f"/data/attributes/{name}"
                                                              for name in paysheets.AMOUNTS}}


def parse(data: dict, creating: bool) -> dict:
    sent = Sent(data)
    sent.choice("kind", ("expenses",), "quipu.kind")
    sent.date("issue_date", "date")
    sent.date("paid_at")
    sent.choice("payment_method", PAYMENT_METHODS, "quipu.payment_method")
    sent.text("tags", "quipu.tags")
    sent.text("account_number_and_swift_bic", "quipu.account_number_and_swift_bic")
    sent.text("number", "quipu.number", 64)
    for name in paysheets.AMOUNTS:  # S3 types them as numbers; clients send strings ("1185.76")
        sent.decimal(name, low=Decimal(0))
    sent.to_one("contact", "party_id")
    sent.to_one("numeration", "series_id")
    sent.to_one("accounting_subcategory", "account_id")
    if creating:
        sent.require("kind", "quipu.kind")
        sent.require("issue_date", "date")
        sent.require("contact", "party_id", relationship=True)
    sent.raise_if_any()
    fields = {name: value for name, value in sent.fields.items() if not name.startswith("quipu.")}
    kept = {name[6:]: value for name, value in sent.fields.items() if name.startswith("quipu.")}
    if kept:
        fields["extra"] = {"quipu": kept}
    return fields


class Paysheets:
    def __init__(self, files_root: Path) -> None:
        self.files_root = files_root

    def get(self, book: Any, document_id: int) -> Any:
        return paysheets.get(book, document_id)

    def list(self, book: Any, query: ListQuery) -> tuple[Any, bool]:
        return book.documents.list(ListQuery((Condition("kind", Op.EQ, PAYSHEET), *query.conditions),
                                             query.order, query.offset, query.limit))

    def count(self, book: Any, query: ListQuery) -> int:
        return book.documents.count_matching((Condition("kind", Op.EQ, PAYSHEET), *query.conditions))

    def create(self, book: Any, fields: dict) -> Any:
        return paysheets.create(book, fields)

    def update(self, book: Any, document_id: int, fields: dict) -> Any:
        if fields.get("extra"):
            current = paysheets.get(book, document_id).extra or {}
            fields = {**fields, "extra": {"quipu": {**current.get("quipu", {}), **fields["extra"]["quipu"]}}}
        return paysheets.update(book, document_id, fields)

    def delete(self, book: Any, document_id: int) -> None:
        paysheets.delete(book, self.files_root, document_id)


def render(document: Any, view: View) -> dict:
    amounts = paysheets.amounts_of(view.book, document)
    kept = (document.extra or {}).get("quipu", {})
    attributes = {**entry_attributes(view, document), "number": kept.get("number") or document.user_code,
                  "kind": "expenses", "net_pay": money(amounts.net_pay), "gross_pay": money(paysheets.gross_pay(amounts)),
                  "employee_ss_amount": money(amounts.employee_ss_amount),
                  "employee_retention": money(amounts.employee_retention),
                  "company_ss_amount": money(amounts.company_ss_amount),
                  "retention_amount": money(amounts.employee_retention)}
    account = view.book.accounts.get(document.account_id) if document.account_id else None
    return {"id": str(document.id), "type": "paysheets", "attributes": attributes, "relationships": relationships(
        contact=linkage("contacts", document.customer_id),
        numeration=linkage("numbering_series", document.series_id),
        accounting_category=linkage("accounting_categories", account.category_id if account else None),
        accounting_subcategory=linkage("accounting_subcategories", document.account_id))}


def related(document: Any, view: View, includes: frozenset[str]) -> list[dict]:
    return [render_contact(document.customer, view)] if "contact" in includes else []


def resource(files_root: Path) -> Resource:
    return Resource(path="paysheets", service=Paysheets(files_root), render=render, parse=parse, related=related,
                    filters=ENTRY_FILTERS, sorts=ENTRY_SORTS, pointers=POINTERS)
