"""python-accounting (PyPI): the write loop, balanced 2-entry transfers between random accounts, each a
posted Journal Entry (main account credited, one line item debited) in its own database transaction.

Runs in the peers' virtual environment (bench/.peers), never in Comptoir's. Usage:
  python python_accounting_loop.py setup URL            -> prints {"entity_id", "currency_id", "accounts"}
  python python_accounting_loop.py loop URL SETUP SECONDS SEED   -> prints {"transactions", "seconds", "errors"}
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime
from decimal import Decimal

from python_accounting.config import config


def _engine(url: str):
    config.configure_database(url=url, echo=False)
    from sqlalchemy import create_engine

    return create_engine(url)


def setup(url: str) -> dict:
    engine = _engine(url)
    from python_accounting.database.session import get_session
    from python_accounting.models import Account, Base, Currency, Entity, ReportingPeriod

    Base.metadata.create_all(engine)
    with get_session(engine) as session:
        entity = Entity(name="Bench Peer")
        session.add(entity)
        session.commit()
        currency = Currency(name="US Dollars", code="USD", entity_id=entity.id)
        session.add(currency)
        session.commit()
        year = datetime.now().year
        if session.query(ReportingPeriod).filter_by(entity_id=entity.id, calendar_year=year).first() is None:
            session.add(ReportingPeriod(calendar_year=year, period_count=1, entity_id=entity.id))
            session.commit()
        kinds = [Account.AccountType.BANK, Account.AccountType.CURRENT_ASSET, Account.AccountType.EQUITY,
                 Account.AccountType.OPERATING_REVENUE, Account.AccountType.OPERATING_EXPENSE,
                 Account.AccountType.CURRENT_LIABILITY, Account.AccountType.NON_CURRENT_ASSET,
                 Account.AccountType.DIRECT_EXPENSE]
        accounts = []
        for index in range(15):
            account = Account(name=f"Account {index + 1}", account_type=kinds[index % len(kinds)],
                              currency_id=currency.id, entity_id=entity.id)
            session.add(account)
            session.commit()
            accounts.append(account.id)
        return {"entity_id": entity.id, "currency_id": currency.id, "accounts": accounts}


def loop(url: str, prepared: dict, seconds: float, seed: int) -> dict:
    engine = _engine(url)
    from python_accounting.database.session import get_session
    from python_accounting.models import Entity, LineItem
    from python_accounting.transactions import JournalEntry

    rng = random.Random(seed)
    done = errors = 0
    first_error = None
    with get_session(engine) as session:
        session.entity = session.get(Entity, prepared["entity_id"])
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            credit, debit = rng.sample(prepared["accounts"], 2)
            amount = Decimal(rng.randint(100, 1_000_000)) / 100
            try:
                journal = JournalEntry(narration="Transfer", transaction_date=datetime.now(), account_id=credit,
                                       currency_id=prepared["currency_id"], entity_id=prepared["entity_id"],
                                       main_account_amount=amount)
                session.add(journal)
                session.flush()
                line = LineItem(narration="Transfer", account_id=debit, amount=amount, entity_id=prepared["entity_id"])
                session.add(line)
                session.flush()
                journal.line_items.add(line)
                session.add(journal)
                session.flush()
                journal.post(session)
                session.commit()
                done += 1
            except Exception as error:  # noqa: BLE001 - counted and reported, the loop goes on
                session.rollback()
                errors += 1
                first_error = first_error or f"{type(error).__name__}: {error}"[:300]
        elapsed = time.perf_counter() - started
    return {"transactions": done, "seconds": elapsed, "errors": errors, "first_error": first_error}


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        print(json.dumps(setup(sys.argv[2])))
    else:
        print(json.dumps(loop(sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))))
