"""Accounting categories (read-only) and subcategories: the chart's income and expense accounts and
their subaccounts (services/subaccounts.py). The category id is the account's id, not its number;
`prefix` is the number."""

from __future__ import annotations

from typing import Any

from comptoir.domain import charts
from comptoir.domain.query import Condition, Op
from comptoir.services.ledger import subaccounts

from .conventions import Calls, Resource, Sent, View, flag, linkage, relationships, split_ids

KINDS = {charts.INCOME: "income", charts.EXPENSE: "expenses"}
NATURES = {kind: nature for nature, kind in KINDS.items()}


def render_category(account: Any, view: View) -> dict:
    if account.category_id is not None:
        return render_subcategory(account, view)
    prefix = int(account.number) if account.number.isdigit() else None
    return {"id": str(account.id), "type": "accounting_categories",
            "attributes": {"name": account.name, "prefix": prefix, "kind": KINDS.get(account.nature, account.nature),
                           "accounting_digits_number": len(account.number)}}


def render_subcategory(account: Any, view: View) -> dict:
    return {"id": str(account.id), "type": "accounting_subcategories",
            "attributes": {"name": account.name, "suffix": account.suffix},
            "relationships": relationships(accounting_category=linkage("accounting_categories", account.category_id))}


def category_and_subcategory(book: Any, category_id: int | None, subcategory_id: int | None) -> tuple:
    """The category and subcategory ids a document shows: the subcategory's own category when only
    the subcategory was given."""
    if subcategory_id and not category_id:
        subaccount = book.accounts.get(subcategory_id)
        category_id = subaccount.category_id if subaccount else None
    return category_id, subcategory_id


def parse_subcategory(data: dict, creating: bool) -> dict:
    sent = Sent(data)
    sent.text("name", length_max=subaccounts.NAME_LENGTH_MAX)
    sent.text("suffix", length_max=subaccounts.SUFFIX_LENGTH_MAX)  # S1 sends a number: read as its text
    sent.to_one("accounting_category", "category_id")  # on update only to say the same (it cannot change)
    if creating:
        sent.require("name")
        sent.require("suffix")
        sent.require("accounting_category", "category_id", relationship=True)
    sent.raise_if_any()
    return sent.fields


def _kinds(value: Any) -> tuple[Condition, ...]:
    natures = [NATURES[kind.strip()] for kind in str(value).split(",") if kind.strip() in NATURES]
    return (Condition("nature", Op.IN, tuple(natures)),)


def _prefixes(value: Any) -> tuple[Condition, ...]:
    numbers = [part.strip() for part in str(value).split(",") if part.strip()]
    if not all(number.isdigit() for number in numbers):
        raise ValueError(value)
    return (Condition("number", Op.IN, tuple(numbers)),)


def _active(value: Any) -> tuple[Condition, ...]:
    flag(value)  # every category of the chart is active
    return ()


CATEGORIES = Resource(
    path="accounting_categories", render=render_category,
    service=Calls(get=subaccounts.get_category, list=subaccounts.list_categories, count=subaccounts.count_categories),
    operations=frozenset({"list", "get"}),
    filters={"id": lambda value: (Condition("id", Op.IN, tuple(split_ids(value))),), "kind": _kinds,
             "prefix": _prefixes, "active": _active},
    sorts={"prefix": "number", "name": "name"},
)
SUBCATEGORIES = Resource(
    path="accounting_subcategories", render=render_subcategory, parse=parse_subcategory,
    service=Calls(get=subaccounts.get_subaccount, list=subaccounts.list_subaccounts, count=subaccounts.count_subaccounts,
                  create=subaccounts.create, update=subaccounts.update, delete=subaccounts.delete),
    filters={"accounting_category_id": lambda value: (Condition("category_id", Op.IN, tuple(split_ids(value))),)},
    sorts={"suffix": "suffix", "name": "name"},
    pointers={"category_id": "/data/relationships/accounting_category", "name": "/data/attributes/name",
              "suffix": "/data/attributes/suffix"},
)
