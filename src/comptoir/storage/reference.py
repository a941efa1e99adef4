"""An organization's chart of accounts and its journals, kept by the process between requests for as
long as they do not change.

Posting checks the accounts and the journal of every transaction (are they the organization's, can
they be posted to): two statements per request that read rows which change a few times in a book's
life. So a process keeps each organization's chart, read whole once, with the version it was read
at: `organizations.reference_version`, which every commit that writes accounts or journals moves on
(storage/link.Link: mapper events note the writes, the commit adds one in the same transaction), and
which a request reads with its credential, in the same statement (storage/identity.py). A request
that finds the version it read uses the chart it has: a change committed by any process is seen by
the next request of every process, as a credential's revocation is. A unit of work that writes
accounts or journals itself reads them from the database instead (its own writes are not in the
kept chart).

A chart read after the version was (the version is read first, with the credential) is at least as
new as that version: kept under it, it is never older than what a request that read that version
may see."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import bindparam, select

from .statements import Statement
from .tables import Account, Journal
from .views import view_type

_accounts, _journals = Account.__table__, Journal.__table__
AccountView = view_type("AccountView", _accounts)
JournalView = view_type("JournalView", _journals)
ORGANIZATIONS_KEPT = 1000  # charts a process keeps, the most recently used

_ACCOUNTS = Statement(select(*_accounts.columns).where(_accounts.c.org_id == bindparam("org_id"))
                      .order_by(_accounts.c.id))
_JOURNALS = Statement(select(*_journals.columns).where(_journals.c.org_id == bindparam("org_id"))
                      .order_by(_journals.c.id))


@dataclass(frozen=True)
class Chart:
    """An organization's accounts and journals by id (AccountViews, JournalViews), as read once."""

    accounts: Mapping[int, Any]
    journals: Mapping[int, Any]


def read_chart(where: Any, org_id: int) -> Chart:
    """The organization's chart as it is now: two statements."""
    accounts = (AccountView(*row) for row in _ACCOUNTS.all(where, org_id=org_id))
    journals = (JournalView(*row) for row in _JOURNALS.all(where, org_id=org_id))
    return Chart(MappingProxyType({account.id: account for account in accounts}),
                 MappingProxyType({journal.id: journal for journal in journals}))


class Charts:
    """The charts a process keeps, by organization, each with the version it was read at."""

    def __init__(self, size: int = ORGANIZATIONS_KEPT) -> None:
        self._kept: OrderedDict[int, tuple[int, Chart]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, org_id: int, version: int, read: Callable[[], Chart]) -> Chart:
        """The organization's chart at this version: the one kept, else `read()` (then kept)."""
        kept = self._kept.get(org_id)
        if kept is not None and kept[0] == version:
            return kept[1]
        chart = read()
        with self._lock:
            current = self._kept.get(org_id)
            if current is None or current[0] <= version:  # never replaced by an older version's
                self._kept[org_id] = (version, chart)
                self._kept.move_to_end(org_id)
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return chart

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
