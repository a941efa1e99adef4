"""Checks of a loaded book: it balances, and the bulk path wrote what the services would have."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, func, select

from comptoir.storage.database import Database
from comptoir.storage.tables import (
    Account,
    AccountBalance,
    Allocation,
    Document,
    DocumentLine,
    Entry,
    Item,
    Journal,
    Party,
    Payment,
    PaymentMethod,
    PaymentTerm,
    Tax,
    Transaction,
)

SKIPPED = {"id", "org_id", "uuid", "created_at", "updated_at"}


def imbalance(database: Database, org_id: int) -> Decimal:
    """Debits minus credits over the whole book: zero when every transaction balances."""
    signed = case((Entry.way == "debit", Entry.amount), else_=-Entry.amount)
    with database.transaction() as session:
        return Decimal(session.scalar(select(func.coalesce(func.sum(signed), 0)).where(Entry.org_id == org_id)))


def snapshot(database: Database, org_id: int) -> dict[str, list[dict]]:
    """The book's invoices, lines, payments, allocations, transactions and entries, with every id
    replaced by what it names (codes, numbers, external ids), so two books can be compared."""
    with database.transaction() as session:
        def names(model, attribute: str) -> dict[int, str]:
            return dict(session.execute(select(model.id, getattr(model, attribute)).where(model.org_id == org_id)).all())

        refs = {"customer_id": names(Party, "external_id"), "party_id": names(Party, "external_id"),
                "item_id": names(Item, "item_number"), "account_id": names(Account, "number"),
                "journal_id": names(Journal, "code"), "tax_id": names(Tax, "name"),
                "payment_terms_id": names(PaymentTerm, "name"),
                "payment_method_id": names(PaymentMethod, "name"), "document_id": names(Document, "user_code"),
                "payment_id": names(Payment, "user_code"), "transaction_id": names(Transaction, "piece_number")}
        sources = {"invoice": refs["document_id"], "payment": refs["payment_id"]}

        def rows(model, order) -> list[dict]:
            result = []
            for row in session.scalars(select(model).where(model.org_id == org_id).order_by(*order)):
                values = {}
                for column in model.__table__.columns:
                    if column.name in SKIPPED:
                        continue
                    value = getattr(row, column.key)
                    if column.name == "employee_id":
                        value = value is not None
                    elif column.name == "source_id" and value is not None:
                        value = sources[row.source_type][value]
                    elif column.name in refs and refs[column.name] is not None and value is not None:
                        value = refs[column.name][value]
                    values[column.name] = value
                result.append(values)
            return result

        return {
            "invoices": rows(Document, (Document.user_code,)),
            "lines": sorted(rows(DocumentLine, (DocumentLine.id,)), key=lambda r: (r["document_id"], r["position"])),
            "payments": rows(Payment, (Payment.user_code,)),
            "allocations": sorted(rows(Allocation, (Allocation.id,)), key=lambda r: str(r["payment_id"])),
            "transactions": rows(Transaction, (Transaction.transaction_code,)),
            "entries": sorted(rows(Entry, (Entry.id,)),
                              key=lambda r: (r["transaction_id"], r["account_id"], r["way"], r["amount"])),
            # The maintained totals, over every slot (which slot a commit used is chance).
            "account_balances": sorted([
                {"span": span, "first_day": first_day, "account": refs["account_id"][account_id], "debit": debit,
                 "credit": credit}
                for span, first_day, account_id, debit, credit in session.execute(
                    select(AccountBalance.span, AccountBalance.first_day, AccountBalance.account_id,
                           func.sum(AccountBalance.debit), func.sum(AccountBalance.credit))
                    .where(AccountBalance.org_id == org_id)
                    .group_by(AccountBalance.span, AccountBalance.first_day, AccountBalance.account_id))],
                key=lambda r: (r["span"], r["first_day"], r["account"])),
        }


def differences(first: dict[str, list[dict]], second: dict[str, list[dict]], limit: int = 10) -> list[str]:
    found = []
    for table, rows in first.items():
        if len(rows) != len(second[table]):
            found.append(f"{table}: {len(rows)} rows against {len(second[table])}")
            continue
        for a, b in zip(rows, second[table]):
            if a != b:
                changed = {key: (a[key], b.get(key)) for key in a if a[key] != b.get(key)}
                found.append(f"{table}: {changed}")
                if len(found) >= limit:
                    return found
    return found
