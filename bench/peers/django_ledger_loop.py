"""django-ledger (PyPI): the write loop, balanced 2-entry transfers between random accounts, each
committed and posted through the ledger's own `commit_txs` (one journal entry, two transactions,
balance checked by the library) in its own database transaction.

Runs in the peers' virtual environment (bench/.peers), never in Comptoir's. Usage:
  python django_ledger_loop.py setup URL            -> prints {"ledger", "accounts"}
  python django_ledger_loop.py loop URL SETUP SECONDS SEED   -> prints {"transactions", "seconds", "errors"}
URL is a SQLAlchemy-style PostgreSQL URL (postgresql+psycopg://user@host:port/name).
"""

from __future__ import annotations

import json
import random
import sys
import time
from decimal import Decimal
from urllib.parse import urlparse


def _configure(url: str) -> None:
    import django
    from django.conf import settings

    parsed = urlparse(url.replace("postgresql+psycopg://", "postgresql://"))
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                        "django.contrib.messages", "django.contrib.humanize", "django_ledger"],
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": parsed.path.lstrip("/"),
                               "USER": parsed.username or "postgres", "PASSWORD": parsed.password or "",
                               "HOST": parsed.hostname, "PORT": str(parsed.port or 5432)}},
        USE_TZ=True, TIME_ZONE="UTC", DEFAULT_AUTO_FIELD="django.db.models.BigAutoField", SECRET_KEY="bench",
    )
    django.setup()


def setup(url: str) -> dict:
    _configure(url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django_ledger.models import EntityModel

    call_command("migrate", verbosity=0)
    admin = get_user_model().objects.create_user(username="bench", password="bench-peer")
    entity = EntityModel.create_entity(name="Bench Peer", use_accrual_method=True, admin=admin, fy_start_month=1)
    entity.create_chart_of_accounts(assign_as_default=True, commit=True, coa_name="Bench")
    entity.populate_default_coa(activate_accounts=True)
    ledger = entity.create_ledger(name="Bench ledger", posted=True)
    accounts = [str(account.uuid) for account in entity.get_default_coa_accounts().filter(active=True)[:15]]
    return {"entity": entity.slug, "ledger": str(ledger.uuid), "accounts": accounts}


def loop(url: str, prepared: dict, seconds: float, seed: int) -> dict:
    _configure(url)
    from django.utils import timezone
    from django_ledger.models import AccountModel, LedgerModel

    ledger = LedgerModel.objects.get(uuid=prepared["ledger"])
    accounts = list(AccountModel.objects.filter(uuid__in=prepared["accounts"]))
    rng = random.Random(seed)
    done = errors = 0
    first_error = None
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        debit, credit = rng.sample(accounts, 2)
        amount = Decimal(rng.randint(100, 1_000_000)) / 100
        try:
            ledger.commit_txs(je_timestamp=timezone.now(), je_posted=True, je_desc="Transfer", je_txs=[
                {"account": debit, "amount": amount, "tx_type": "debit", "description": "Transfer"},
                {"account": credit, "amount": amount, "tx_type": "credit", "description": "Transfer"}])
            done += 1
        except Exception as error:  # noqa: BLE001 - counted and reported, the loop goes on
            errors += 1
            first_error = first_error or f"{type(error).__name__}: {error}"[:300]
    return {"transactions": done, "seconds": time.perf_counter() - started, "errors": errors,
            "first_error": first_error}


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        print(json.dumps(setup(sys.argv[2])))
    else:
        print(json.dumps(loop(sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))))
