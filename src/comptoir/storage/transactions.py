"""Ledger transactions with their entries, read and written with SQLAlchemy Core (storage/views.py).

A transaction is read with two statements (the transactions with their journal; their entries with
their account), whatever their number; written with one statement per table (the header, then every
entry in one INSERT), and the entries' maintained balances noted for the commit (storage/balances.py).
The rules (balance, open period, changeable entries) are the services'."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from .link import Link
from .reference import AccountView, Chart, JournalView
from .statements import ROWS_PER_INSERT_MAX, Inserts, Statement, Then, WithChildren, array_of, in_ids, records
from .tables import Account, Entry, Journal, Transaction
from .tables.base import utcnow
from .views import view_type

_transactions, _entries, _journals, _accounts = (Transaction.__table__, Entry.__table__, Journal.__table__,
                                                 Account.__table__)

EntryView = view_type("EntryView", _entries, extra=("account",),
                      doc="An entry of a transaction, with its account (an AccountView).")
TransactionView = view_type("TransactionView", _transactions, extra=("journal", "entries"),
                            doc="A transaction, with its journal (a JournalView) and its entries (EntryViews, by id).")

_HEADER = select(*_transactions.columns, *_journals.columns).join(_journals, _journals.c.id == _transactions.c.journal_id)
_BY_IDS = Statement(_HEADER.where(_transactions.c.org_id == bindparam("org_id"), in_ids(_transactions.c.id)))
_BY_IDS_LOCKED = Statement(_HEADER.where(_transactions.c.org_id == bindparam("org_id"), in_ids(_transactions.c.id))
                           .with_for_update(of=_transactions))
_BY_SOURCE = _HEADER.where(_transactions.c.org_id == bindparam("org_id"),
                           _transactions.c.source_type == bindparam("source_type"),
                           _transactions.c.source_id == bindparam("source_id"))
_BY_SOURCE_FREE, _BY_SOURCE_LOCKED = Statement(_BY_SOURCE), Statement(_BY_SOURCE.with_for_update(of=_transactions))
# PostgreSQL under asyncpg (the request path): the transaction and its entries in one statement (their
# accounts: the kept chart), as a document is read (storage/documents.py).
_BY_SOURCE_WHOLE = _BY_SOURCE.add_columns(array_of(_entries, _entries.c.transaction_id == _transactions.c.id,
                                                   _entries.c.id))
_BY_SOURCE_WHOLE_FREE = Statement(_BY_SOURCE_WHOLE)
_BY_SOURCE_WHOLE_LOCKED = Statement(_BY_SOURCE_WHOLE.with_for_update(of=_transactions))
_ENTRIES = Statement(select(*_entries.columns, *_accounts.columns)
                     .join(_accounts, _accounts.c.id == _entries.c.account_id)
                     .where(_entries.c.org_id == bindparam("org_id"), in_ids(_entries.c.transaction_id))
                     .order_by(_entries.c.transaction_id, _entries.c.id))
_ACCOUNTS = Statement(select(*_accounts.columns).where(_accounts.c.org_id == bindparam("org_id"),
                                                       in_ids(_accounts.c.id)))
_JOURNAL = Statement(select(*_journals.columns).where(_journals.c.org_id == bindparam("org_id"),
                                                      _journals.c.id == bindparam("journal_id")))
# PostgreSQL: the transaction the document `:document_id` posted (as `:source_type`) and its entries,
# as two columns of a statement reading ahead what a document's update reads
# (storage/documents.DocumentStore.read_ahead_for_update).
_OF_SOURCE = ((_transactions.c.org_id == bindparam("org_id")) & (_transactions.c.source_type == bindparam("source_type"))
              & (_transactions.c.source_id == bindparam("document_id")))
AHEAD = (array_of(_transactions, _OF_SOURCE, _transactions.c.id),
         array_of(_entries, (_entries.c.org_id == bindparam("org_id"))
                  & _entries.c.transaction_id.in_(select(_transactions.c.id).where(_OF_SOURCE)), _entries.c.id))
_INSERT_HEADERS = Inserts(_transactions, [column.name for column in _transactions.columns if column.name != "id"])
_INSERT_ENTRIES = Inserts(_entries, [column.name for column in _entries.columns if column.name != "id"])
_INSERT_WITH_ENTRIES = WithChildren(_transactions, _entries, "transaction_id")
_DELETE_ENTRIES_OF = delete(_entries).where(_entries.c.org_id == bindparam("org_id"),
                                            _entries.c.transaction_id == bindparam("transaction_id"))
_DELETE_ENTRIES = Statement(_DELETE_ENTRIES_OF)
# PostgreSQL: a transaction's entries replaced in one statement (the DELETE a CTE of the INSERT).
_REPLACE_ENTRIES = Inserts(_entries, [column.name for column in _entries.columns if column.name != "id"],
                           first=_DELETE_ENTRIES_OF)
_SET_SOURCE_TYPE = Statement(update(_transactions).where(_transactions.c.org_id == bindparam("org_id"),
                                                         _transactions.c.id == bindparam("transaction_id"))
                             .values(source_type=bindparam("source_type", type_=_transactions.c.source_type.type),
                                     source_id=None,
                                     updated_at=bindparam("updated_at", type_=_transactions.c.updated_at.type)))
_HEADER_CHANGES = tuple(column.name for column in _transactions.columns
                        if column.name not in ("id", "org_id", "uuid", "created_at"))
_UPDATE_HEADER = Statement(update(_transactions).where(_transactions.c.id == bindparam("transaction_id"))
                           .values({name: bindparam(f"new_{name}", type_=_transactions.c[name].type)
                                    for name in _HEADER_CHANGES}))
_MISSING = object()
_TRANSACTION_WIDTH, _ENTRY_WIDTH = len(_transactions.columns), len(_entries.columns)
_ENTRY_ACCOUNT_ID = _entries.columns.keys().index("account_id")


class TransactionStore:
    def __init__(self, link: Link, org_id: int, chart: Callable[[], Chart | None] = lambda: None) -> None:
        """`chart`: the organization's chart the process keeps (storage/reference.py), None when this
        unit of work must read accounts and journals from the database."""
        self.link = link
        self.org_id = org_id
        self._chart = chart

    # -- reading -------------------------------------------------------------------------------

    def read(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, Any]:
        """The transactions of these ids that are this organization's, by id (`lock`: held until the
        transaction ends, PostgreSQL)."""
        if not ids:
            return {}
        return self._with_entries((_BY_IDS_LOCKED if lock else _BY_IDS).all(self.link, org_id=self.org_id,
                                                                            ids=list(ids)))

    def find_by_source(self, source_type: str, source_id: int, *, lock: bool = False) -> Any | None:
        """The transaction a document (or a payment, a bank entry...) generated, if any (read ahead,
        when it was: `keep_ahead`)."""
        kept = None if lock else self.link.kept([("by_source", source_type, source_id)], _transactions, _entries)
        if kept is not None:
            return kept[0]
        values = {"org_id": self.org_id, "source_type": source_type, "source_id": source_id}
        if self.link.dialect.driver == "asyncpg":
            rows = (_BY_SOURCE_WHOLE_LOCKED if lock else _BY_SOURCE_WHOLE_FREE).all(self.link, **values)
            return next(iter(self._whole(rows).values()), None)
        rows = (_BY_SOURCE_LOCKED if lock else _BY_SOURCE_FREE).all(self.link, **values)
        return next(iter(self._with_entries(rows).values()), None)

    def keep_ahead(self, source_type: str, source_id: int, raw_headers: Any, raw_entries: Any) -> None:
        """What `AHEAD` read (the transaction of a document, its entries), kept for `find_by_source`
        while the unit of work writes no transaction or entry."""
        header_of, entry_of = records(_transactions, self.link.dialect), records(_entries, self.link.dialect)
        entries = [entry_of(raw) for raw in raw_entries or ()]
        accounts = self.accounts(entry[_ENTRY_ACCOUNT_ID] for entry in entries)
        found = None
        for raw in raw_headers or ():
            header = TransactionView(*header_of(raw))
            found = header._replace(journal=self.journal(header.journal_id), entries=tuple(
                EntryView(*entry, account=accounts.get(entry[_ENTRY_ACCOUNT_ID])) for entry in entries))
        self.link.read_rows["by_source", source_type, source_id] = found

    def _whole(self, rows: Sequence[Any]) -> dict[int, Any]:
        """Rows of `_BY_SOURCE_WHOLE`: the transaction, its journal and its entries as records."""
        if not rows:
            return {}
        entry_of = records(_entries, self.link.dialect)
        found = {}
        for row in rows:
            entries = [entry_of(raw) for raw in row[-1] or ()]
            accounts = self.accounts(entry[_ENTRY_ACCOUNT_ID] for entry in entries)
            header = TransactionView(*row[:_TRANSACTION_WIDTH])
            found[header.id] = header._replace(
                journal=JournalView(*row[_TRANSACTION_WIDTH:-1]),
                entries=tuple(EntryView(*entry, account=accounts.get(entry[_ENTRY_ACCOUNT_ID])) for entry in entries))
        return found

    def _with_entries(self, rows: Sequence[Any]) -> dict[int, Any]:
        headers = [(TransactionView(*row[:_TRANSACTION_WIDTH]), JournalView(*row[_TRANSACTION_WIDTH:])) for row in rows]
        if not headers:
            return {}
        entries: dict[int, list[Any]] = {header.id: [] for header, _ in headers}
        for row in _ENTRIES.all(self.link, org_id=self.org_id, ids=list(entries)):
            entry = EntryView(*row[:_ENTRY_WIDTH], account=AccountView(*row[_ENTRY_WIDTH:]))
            entries[entry.transaction_id].append(entry)
        return {header.id: header._replace(journal=journal, entries=tuple(entries[header.id]))
                for header, journal in headers}

    def accounts(self, ids: Iterable[int]) -> dict[int, Any]:
        """The accounts of these ids that are this organization's, by id (AccountViews)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        chart = self._chart()
        if chart is not None:
            return {account_id: chart.accounts[account_id] for account_id in wanted if account_id in chart.accounts}
        accounts = (AccountView(*row) for row in _ACCOUNTS.all(self.link, org_id=self.org_id, ids=wanted))
        return {account.id: account for account in accounts}

    def journal(self, journal_id: int) -> Any | None:
        chart = self._chart()
        if chart is not None:
            return chart.journals.get(journal_id)
        row = _JOURNAL.first(self.link, org_id=self.org_id, journal_id=journal_id)
        return None if row is None else JournalView(*row)

    # -- writing -------------------------------------------------------------------------------

    def insert(self, transactions: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]], *,
               journal: Any = None, accounts: Mapping[int, Any] | None = None) -> list[Any]:
        """New transactions, each a header (its columns but id and timestamps) and its entries (their
        columns but id, transaction and date), in two statements whatever their number. `journal` and
        `accounts` (views, by id): what the answer shows of them, when the caller's checks read them."""
        if not transactions:
            return []
        headers = [self._header(header) for header, _ in transactions]
        if len(headers) == 1:  # the usual request: the transaction and its entries in one statement
            rows = self._insert_one(headers[0], transactions[0][1])
        else:
            for header, transaction_id in zip(headers, _INSERT_HEADERS.ids(self.link, headers)):
                header["id"] = transaction_id
            rows = self._insert_entries([(header, entries) for header, (_, entries) in zip(headers, transactions)])
        by_transaction: dict[int, list[dict]] = {}
        for row in rows:
            by_transaction.setdefault(row["transaction_id"], []).append(row)
        return [self._view(header, by_transaction.get(header["id"], ()), journal, accounts or {}) for header in headers]

    def pending(self, header: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], *,
                accounts: Mapping[int, Any] | None = None) -> PendingTransaction:
        """A new transaction (as `insert` takes one) whose source is written in this unit of work
        next: it rides along in that statement (`PendingTransaction.then`), or is written after it."""
        return PendingTransaction(self, self._header(header), entries, accounts or {})

    def _header(self, header: Mapping[str, Any]) -> dict[str, Any]:
        now = utcnow()
        return {"uuid": str(uuid.uuid4()), "created_at": now, "updated_at": now, **header, "org_id": self.org_id}

    def holds(self, before: Any, header: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> bool:
        """Whether the transaction already holds these header values and these entries, in order,
        whatever their locks and reconciliations (a document posted again to the same entries)."""
        if len(entries) != len(before.entries) or any(getattr(before, name) != value for name, value in header.items()):
            return False
        return all(getattr(old, name, _MISSING) == value for old, entry in zip(before.entries, entries)
                   for name, value in entry.items() if name not in ("locked", "reconciled"))

    def rewrite(self, before: Any, header: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], *,
                journal: Any, accounts: Mapping[int, Any]) -> Any:
        """The transaction with new header values and new entries in place of all its entries (a
        document that changed posts again)."""
        values = {**_columns_of(before), **header}
        header_changed = any(getattr(before, name) != value for name, value in header.items())
        if not header_changed and self._same_entries(before, values, entries):
            return self._view(values, [_columns_of(entry) for entry in before.entries], journal, accounts)
        if header_changed:
            values["updated_at"] = utcnow()  # new entries alone leave the row as it was
            _UPDATE_HEADER.run(self.link, transaction_id=before.id,
                               **{f"new_{name}": values[name] for name in _HEADER_CHANGES})
        self.link.forget(Transaction, [before.id])
        if self.link.dialect.name != "postgresql" or not entries or len(entries) > ROWS_PER_INSERT_MAX:
            self._delete_entries(before)
            return self._view(values, self._insert_entries([(values, entries)]), journal, accounts)
        self._forget_entries(before)
        rows = [{**self._entry_row(values, entry), "transaction_id": before.id} for entry in entries]
        for row, entry_id in zip(rows, _REPLACE_ENTRIES.ids(self.link, rows, org_id=self.org_id,
                                                             transaction_id=before.id)):
            row["id"] = entry_id
        self.link.balances.note_rows(rows)
        return self._view(values, rows, journal, accounts)

    def detach(self, before: Any, source_type: str) -> None:
        """The transaction no longer stands for its source (reversed: services/ledger/posting.reverse):
        its source kind becomes `source_type`, without an id (the source may post again, and be
        reversed again: its reversals name it by their piece number)."""
        _SET_SOURCE_TYPE.run(self.link, org_id=self.org_id, transaction_id=before.id, source_type=source_type,
                             updated_at=utcnow())
        self.link.forget(Transaction, [before.id])
        self.link.read_rows.pop(("by_source", before.source_type, before.source_id), None)

    def _insert_one(self, header: dict[str, Any], entries: Sequence[Mapping[str, Any]]) -> list[dict]:
        rows = [self._entry_row(header, entry) for entry in entries]  # its id comes with the statement
        header["id"], entry_ids = _INSERT_WITH_ENTRIES.ids(self.link, header, rows)
        for row, entry_id in zip(rows, entry_ids):
            row["id"], row["transaction_id"] = entry_id, header["id"]
        if rows:
            self.link.balances.note_rows(rows)
        return rows

    def _insert_entries(self, transactions: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]) \
            -> list[dict]:
        rows = [{**self._entry_row(header, entry), "transaction_id": header["id"]}
                for header, entries in transactions for entry in entries]
        if rows:
            for row, entry_id in zip(rows, _INSERT_ENTRIES.ids(self.link, rows)):
                row["id"] = entry_id
            self.link.balances.note_rows(rows)
        return rows

    def _same_entries(self, before: Any, header: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> bool:
        """Whether the new entries are the transaction's own, value for value and in order (a document
        sent back unchanged posts what it posted: nothing is rewritten)."""
        if len(entries) != len(before.entries):
            return False
        return all(getattr(old, name, _MISSING) == value for old, entry in zip(before.entries, entries)
                   for name, value in self._entry_row(header, entry).items())

    def _entry_row(self, header: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
        """An entry's row as its transaction's header gives it (the organization, the date)."""
        return {**entry, "org_id": self.org_id, "date": header["date"]}

    def _delete_entries(self, before: Any) -> None:
        _DELETE_ENTRIES.run(self.link, org_id=self.org_id, transaction_id=before.id)
        self._forget_entries(before)

    def _forget_entries(self, before: Any) -> None:
        """The transaction's entries as it was read are gone: their balances taken back."""
        self.link.balances.note_rows([_columns_of(entry) for entry in before.entries], -1)
        self.link.forget(Entry, [entry.id for entry in before.entries])

    def _view(self, header: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], journal: Any,
              accounts: Mapping[int, Any]) -> Any:
        return TransactionView(**{column.name: header.get(column.name) for column in _transactions.columns},
                               journal=journal,
                               entries=tuple(EntryView(**{column.name: entry.get(column.name)
                                                          for column in _entries.columns},
                                                       account=accounts.get(entry["account_id"]))
                                             for entry in entries))


class PendingTransaction:
    """A new transaction and its entries, to be written with the new document they post: in the
    statement that writes the document (`then`: PostgreSQL, one round trip for both), else by `write`
    once the document's id is known. `view`: the transaction as written (None until it is)."""

    def __init__(self, store: TransactionStore, header: dict[str, Any], entries: Sequence[Mapping[str, Any]],
                 accounts: Mapping[int, Any]) -> None:
        self.store, self.header, self.accounts = store, header, accounts
        self.rows = [store._entry_row(header, entry) for entry in entries]
        self.view: Any = None
        self._column = "source_id"

    def then(self, column: str = "source_id") -> Then:
        """The insert to ride along in the source's statement, `column` taking the source's new id."""
        self._column = column
        return Then(_INSERT_WITH_ENTRIES, self.header, self.rows, column, self._written)

    def write(self, source_id: int) -> Any:
        """The transaction written, of that source, unless it rode along already: its view."""
        if self.view is None:
            [self.view] = self.store.insert([({**self.header, self._column: source_id}, self.rows)],
                                            accounts=self.accounts)
        return self.view

    def _written(self, source_id: int | None, transaction_id: int | None, entry_ids: list[int]) -> None:
        if transaction_id is None:
            return  # its source was not written (its external id taken): neither is it
        self.header.update({self._column: source_id, "id": transaction_id})
        for row, entry_id in zip(self.rows, entry_ids):
            row["id"], row["transaction_id"] = entry_id, transaction_id
        if self.rows:
            self.store.link.balances.note_rows(self.rows)
        self.view = self.store._view(self.header, self.rows, None, self.accounts)


def _columns_of(view: Any) -> dict[str, Any]:
    """A view's column values (its table's), without the related views."""
    table = _transactions if isinstance(view, TransactionView) else _entries
    return {column.name: getattr(view, column.name) for column in table.columns}
