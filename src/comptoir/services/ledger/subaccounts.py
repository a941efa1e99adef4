"""Subaccounts: accounts under a postable account of income or expenses (Quipu's accounting
subcategories under its accounting categories). A subaccount's number is its account's number followed
by its suffix (700 and 01 give 70001), so documents that name it post to an account of the chart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from comptoir.domain import charts
from comptoir.domain.errors import ErrorKind, NotFound, fail
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks
from comptoir.storage.book import Book
from comptoir.storage.tables import Account

CATEGORY_NATURES = (charts.INCOME, charts.EXPENSE)
SUFFIX_LENGTH_MAX = 16
NAME_LENGTH_MAX = 128


def categories_scope() -> tuple[Condition, ...]:
    """The accounts that documents may be categorized under: postable income and expense accounts
    that are no one's subaccount."""
    return (Condition("is_family", Op.EQ, False), Condition("nature", Op.IN, CATEGORY_NATURES),
            Condition("category_id", Op.EQ, None))


def get_category(book: Book, account_id: int) -> Account:
    account = book.accounts.get(account_id)
    if account is None or account.is_family or account.nature not in CATEGORY_NATURES or account.category_id:
        raise NotFound("accounting category", account_id)
    return account


def list_categories(book: Book, query: ListQuery) -> tuple[Sequence[Account], bool]:
    return book.accounts.list(ListQuery((*categories_scope(), *query.conditions), query.order, query.offset,
                                        query.limit))


def count_categories(book: Book, query: ListQuery) -> int:
    return book.accounts.count_matching((*categories_scope(), *query.conditions))


def get_subaccount(book: Book, account_id: int) -> Account:
    account = book.accounts.get(account_id)
    if account is None or account.category_id is None:
        raise NotFound("accounting subcategory", account_id)
    return account


def list_subaccounts(book: Book, query: ListQuery) -> tuple[Sequence[Account], bool]:
    return book.accounts.list(ListQuery((Condition("category_id", Op.NOT, None), *query.conditions),
                                        query.order, query.offset, query.limit))


def count_subaccounts(book: Book, query: ListQuery) -> int:
    return book.accounts.count_matching((Condition("category_id", Op.NOT, None), *query.conditions))


def create(book: Book, fields: Mapping[str, Any]) -> Account:
    checks = Checks()
    checks.required(fields.get("category_id"), "category_id")
    checks.required(fields.get("name"), "name")
    checks.required(fields.get("suffix"), "suffix")
    _check_lengths(fields, checks)
    category = None
    if fields.get("category_id") is not None:
        try:
            category = get_category(book, fields["category_id"])
        except NotFound:
            checks.add(ErrorKind.INVALID, "category_id", f"no accounting category with id {fields['category_id']}")
    checks.raise_if_any()
    _check_suffix_free(book, category, fields["suffix"], None)
    return book.accounts.add(Account(number=category.number + fields["suffix"], name=fields["name"],
                                     nature=category.nature, family_id=category.family_id, is_family=False,
                                     category_id=category.id, suffix=fields["suffix"]))


def update(book: Book, account_id: int, fields: Mapping[str, Any]) -> Account:
    account = get_subaccount(book, account_id)
    if "category_id" in fields and fields["category_id"] != account.category_id:
        raise fail(ErrorKind.READ_ONLY, "category_id", "the category of a subcategory cannot change")
    checks = Checks()
    for name in ("name", "suffix"):
        if name in fields:
            checks.required(fields[name], name)
    _check_lengths(fields, checks)
    checks.raise_if_any()
    category = book.accounts.get(account.category_id)
    if fields.get("suffix") and fields["suffix"] != account.suffix:
        _check_suffix_free(book, category, fields["suffix"], account.id)
        account.suffix = fields["suffix"]
        account.number = category.number + account.suffix
    if fields.get("name"):
        account.name = fields["name"]
    book.flush()
    return account


def delete(book: Book, account_id: int) -> None:
    account = get_subaccount(book, account_id)
    ensure_unreferenced(book, Account, account.id, "accounting subcategory")
    book.accounts.remove(account)


def _check_lengths(fields: Mapping[str, Any], checks: Checks) -> None:
    for name, length_max in (("name", NAME_LENGTH_MAX), ("suffix", SUFFIX_LENGTH_MAX)):
        if len(fields.get(name) or "") > length_max:
            checks.add(ErrorKind.INVALID, name, f"is longer than {length_max} characters")


def _check_suffix_free(book: Book, category: Account, suffix: str, own_id: int | None) -> None:
    """A suffix is unique within its category, and the number it makes must be free in the chart."""
    taken = book.accounts.find(number=category.number + suffix)
    if taken is not None and taken.id != own_id:
        raise fail(ErrorKind.DUPLICATE, "suffix", "this value is already used")


def account_of(book: Book, category_id: int | None, subcategory_id: int | None, where: str = "") -> int | None:
    """The account a document (or a line) categorized under a category and/or a subcategory posts to:
    the subcategory's when there is one. Both must be of this book, and the subcategory of the category."""
    checks = Checks()
    category = subaccount = None
    if category_id is not None:
        category = _found(lambda: get_category(book, category_id))
        if category is None:
            checks.add(ErrorKind.INVALID, f"{where}accounting_category", f"no accounting category with id {category_id}")
    if subcategory_id is not None:
        subaccount = _found(lambda: get_subaccount(book, subcategory_id))
        if subaccount is None or (category is not None and subaccount.category_id != category.id):
            checks.add(ErrorKind.INVALID, f"{where}accounting_subcategory",
                       f"no accounting subcategory with id {subcategory_id} in this category")
    checks.raise_if_any()
    return (subaccount or category).id if (subaccount or category) else None


def _found(lookup: Any) -> Account | None:
    try:
        return lookup()
    except NotFound:
        return None
