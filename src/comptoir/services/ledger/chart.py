"""The chart of accounts and the journals: what a new organization starts with, the accounts and
journals that hold a posting role, and their use cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from comptoir.domain import charts, pcg
from comptoir.domain.errors import ErrorKind, Rule, broken, fail
from comptoir.services.kernel.records import Records
from comptoir.storage.book import Book
from comptoir.storage.database import UNKNOWN
from comptoir.storage.tables import Account, Entry, Journal, PaymentMethod


def seed_ledger(book: Book, chart: str) -> None:
    """The chart, journals and payment methods a new organization starts with."""
    by_number: dict[str, Account] = {}
    for spec in charts.CHARTS[chart]:
        parent = by_number.get(spec.parent) if spec.parent else None
        by_number[spec.number] = book.accounts.add(Account(
            number=spec.number, name=spec.name, nature=spec.nature, role=spec.role, is_family=spec.is_family,
            family_id=parent.id if parent else None))
    for name, code, role in charts.JOURNALS:
        book.journals.add(Journal(name=name, code=code, role=role))
    for name in charts.PAYMENT_METHODS:
        book.payment_methods.add(PaymentMethod(name=name))


def account_for(book: Book, role: str) -> Account:
    account = book.accounts.get(account_id_for(book, role))
    if account is None:  # an account that holds a role cannot be deleted
        raise fail(ErrorKind.CONFLICT, None, f"the chart of accounts has no {role.replace('_', ' ')} account")
    return account


def account_id_for(book: Book, role: str) -> int:
    """The id of the chart's account for a role. It never changes once committed (an account that
    holds a role cannot be deleted, and its role and kind never change): the process keeps it. Not
    an account created by this unit of work (`_on_demand_account`): a savepoint rolled back may undo it."""
    account_id = _role_account_id(book, role)
    if account_id is None:
        raise fail(ErrorKind.CONFLICT, None, f"the chart of accounts has no {role.replace('_', ' ')} account")
    return account_id


def tax_account_id(book: Book, side: str, rate: Decimal | None) -> int:
    """The account of tax at `rate` on `side` (charts.TAX_PAYABLE: collected on sales, TAX_RECEIVABLE:
    deductible on purchases), created on first use; the chart's account of the side when the rate is
    not known, when the chart numbers no account for it, or when that number is taken by another."""
    spec = charts.tax_account_spec(book.organization.chart, side, rate) if rate is not None else None
    found = _role_account_id(book, spec.role) if spec is not None else None
    return found if found is not None else account_id_for(book, side)


def _role_account_id(book: Book, role: str) -> int | None:
    """`account_id_for`, None when the chart has no account for the role and none can be made."""
    key = ("account role", role)
    known = book.known(key, lasting=True)
    if known is not UNKNOWN:
        account_id, is_family = known
    else:
        account = book.accounts.find(role=role)
        if account is not None and not book.recall(("created account", account.id)):
            book.keep(key, (account.id, bool(account.is_family)), lasting=True)
            book.note(("row", Account, account.id), account)  # loaded for this unit of work: no query to get it again
        else:
            account = account or _on_demand_account(book, role)
            return None if account is None else account.id
        account_id, is_family = account.id, bool(account.is_family)
    if not is_family:
        book.note(("postable account", account_id), True)
    return account_id


def _on_demand_spec(chart: str, role: str) -> charts.AccountSpec | None:
    """The account a chart gets on first use for a role (charts.ON_DEMAND, or a tax rate's account)."""
    found = charts.tax_side_and_rate(role)
    if found is not None and found[1] is not None:
        return charts.tax_account_spec(chart, found[0], found[1])
    return next((spec for spec in charts.ON_DEMAND.get(chart, []) if spec.role == role), None)


def _on_demand_account(book: Book, role: str) -> Account | None:
    """The chart's account for a role that books get on first use (charts.ON_DEMAND, a tax rate's
    account), created now. An account of that number the book already has (made by hand, or by a
    OneConnect import: 421000 in a French book) takes the role when it holds none and takes entries;
    None when the chart has no such role, or when its number is taken by a family or an account of
    another role."""
    spec = _on_demand_spec(book.organization.chart, role)
    if spec is None:
        return None
    taken = book.accounts.find(number=spec.number)
    if taken is not None:
        if taken.role is not None or taken.is_family:
            return None
        taken.role = spec.role
        account = taken
    else:
        family = book.accounts.find(number=spec.parent) if spec.parent else None
        account = book.accounts.add(Account(number=spec.number, name=spec.name, nature=spec.nature,
                                            role=spec.role, is_family=False,
                                            family_id=family.id if family else None))
    book.note(("created account", account.id), True)  # a savepoint rolled back may undo it: not kept yet
    return account


def journal_for(book: Book, role: str) -> Journal:
    journal = book.journals.get(journal_id_for(book, role))
    if journal is None:  # a journal that holds a role cannot be deleted
        raise fail(ErrorKind.CONFLICT, None, f"the organization has no {role} journal")
    return journal


def journal_id_for(book: Book, role: str) -> int:
    """The id of the journal for a role; like an account's, the process keeps it."""
    def load() -> int:
        journal = book.journals.find(role=role)
        if journal is None:
            raise fail(ErrorKind.CONFLICT, None, f"the organization has no {role} journal")
        book.note(("row", Journal, journal.id), journal)
        return journal.id
    return book.remember(("journal role", role), load, lasting=True)


# -- accounts and journals ---------------------------------------------------------------------

class Accounts(Records):
    """Accounts of the chart. An account takes its nature by the chart's rules (`_nature_by_the_chart`)
    when it is created or put under another family, and on the French chart when it is renumbered
    before it holds entries; no dialect can give one (docs/decisions/0020-account-natures.md). Families
    hold no entries."""

    def _write(self, book: Book, row: Any, fields: Mapping[str, Any], *, creating: bool) -> None:
        if not creating:
            _keep_closed_accounts(book, row, fields)
        family = _family(book, row, fields.get("family_id"))
        placed_again = creating or _changes(row, fields, "family_id") or (
            _changes(row, fields, "number") and numbers_decide(book) and not _has_entries(book, row))
        super()._write(book, row, fields, creating=creating)
        if placed_again:
            row.nature = _nature_by_the_chart(book, row, family)


    def delete(self, book: Book, row_id: int) -> None:
        account = self.get(book, row_id)
        if account.role not in (None, charts.FAMILY):  # the posting rules need it (plain families do not)
            raise fail(ErrorKind.REFERENCED, None, f"The account {account.number} cannot be deleted because it is "
                                                   f"referenced by: Posting rules ({account.role.replace('_', ' ')})")
        super().delete(book, row_id)


def _family(book: Book, account: Any, family_id: Any) -> Account | None:
    """The family account an account is put under, None when none is given."""
    if family_id is None:
        return None
    family = book.accounts.get(family_id)
    if family is None or not family.is_family:
        raise fail(ErrorKind.INVALID, "family_id", f"no family account with id {family_id}")
    if family.id == account.id:
        raise fail(ErrorKind.INVALID, "family_id", "an account cannot be its own family")
    return family


def numbers_decide(book: Book) -> bool:
    """Whether the book's chart names accounts and gives their natures by number: the French one does
    (the PCG, domain/pcg.py), the US one does not."""
    return book.organization.chart == charts.FRENCH_CHART


def name_by_the_chart(book: Book, number: str) -> str | None:
    """The name the chart gives an account of that number: on the French chart, the plan's name of the
    standard account it extends (60610000: 6061's); None on the US chart or outside the plan."""
    return pcg.name_for(number) if numbers_decide(book) else None


def _nature_by_the_chart(book: Book, account: Any, family: Account | None) -> str:
    """On the French chart, the nature the PCG gives the account's number (445620, deductible VAT, is
    an asset although its family, class 4, is a liability); else, or for a number outside the plan,
    its family's; else the nature it has (asset for a new account without a family)."""
    by_number = pcg.nature_for(account.number) if numbers_decide(book) else None
    return by_number or (family.nature if family is not None else None) or account.nature or charts.ASSET


def _changes(account: Any, fields: Mapping[str, Any], name: str) -> bool:
    return name in fields and fields[name] != getattr(account, name)


def _has_entries(book: Book, account: Any) -> bool:
    """Whether the account holds entries: then a new number keeps its nature, so that the figures it
    holds stay where they were reported (a closed period's cannot be renumbered at all)."""
    return book.entries.count(Entry.account_id == account.id) > 0


def _keep_closed_accounts(book: Book, account: Any, fields: Mapping[str, Any]) -> None:
    """An account that holds entries of a closed period keeps its number and its family (and so its
    nature): a closed year's figures do not move through the chart (issue 17 §1). Its name may change."""
    closed_until = book.organization.closed_until
    moved = [name for name in ("number", "family_id") if _changes(account, fields, name)]
    if not moved or closed_until is None:
        return
    if book.entries.count(Entry.account_id == account.id, Entry.date <= closed_until):
        raise broken(Rule.ENTRY_CLOSED, f"the account {account.number} holds entries of the period closed until "
                                        f"{closed_until}: its {' and '.join(moved)} cannot change", moved[0])


class Journals(Records):
    def delete(self, book: Book, row_id: int) -> None:
        journal = self.get(book, row_id)
        if journal.role is not None:
            raise fail(ErrorKind.REFERENCED, None, f"The journal {journal.code} cannot be deleted because it is "
                                                   f"referenced by: Posting rules ({journal.role})")
        super().delete(book, row_id)


ACCOUNTS = Accounts("accounts", model=Account, fields=("number", "name", "family_id"), required=("number", "name"))
JOURNALS = Journals("journals", model=Journal, fields=("name", "code"), required=("name", "code"))
