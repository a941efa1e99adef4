"""What a unit of work and the process remember of an organization (storage/book.Book.remember,
docs/performance.md §2): only what never changes once committed, learned once the unit of work that
read it has committed, and never a row that a rolled-back savepoint could undo."""

from __future__ import annotations

import pytest

from comptoir.domain import charts
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger import chart
from comptoir.services.masterdata import reference
from comptoir.storage.tables import Account


class Rollback(Exception):
    pass


def test_an_account_created_in_a_savepoint_rolled_back_is_not_remembered(context, org):
    with open_book(context.database, org.id) as book:
        with pytest.raises(Rollback), book.session.begin_nested():
            created = chart.account_id_for(book, charts.RETENTION_RECEIVABLE)  # on demand: created now
            assert book.accounts.get(created) is not None
            raise Rollback
        again = chart.account_id_for(book, charts.RETENTION_RECEIVABLE)  # created again (SQLite may reuse the id)
        assert book.accounts.get(again).role == charts.RETENTION_RECEIVABLE
        assert len(book.accounts.all(Account.role == charts.RETENTION_RECEIVABLE)) == 1
    with open_book(context.database, org.id) as book:
        assert chart.account_id_for(book, charts.RETENTION_RECEIVABLE) == again
        assert book.accounts.all(Account.role == charts.RETENTION_RECEIVABLE)[0].id == again


def test_what_a_rolled_back_unit_of_work_read_is_not_kept_by_the_process(context, org):
    with pytest.raises(Rollback), open_book(context.database, org.id) as book:
        receivable = chart.account_id_for(book, charts.RECEIVABLE)
        reference.tax_rates(book)
        raise Rollback
    assert context.database.cache.get(org.id, ("account role", charts.RECEIVABLE)) is not receivable
    with open_book(context.database, org.id) as book:
        assert chart.account_id_for(book, charts.RECEIVABLE) == receivable
    assert context.database.cache.get(org.id, ("account role", charts.RECEIVABLE))[0] == receivable
    with open_book(context.database, org.id) as book:
        assert chart.account_for(book, charts.RECEIVABLE).id == receivable  # from the process: no lookup by role
