"""What points at what: a record that others reference is not deleted, and the caller is told why.

The foreign keys in the database back this up; this table gives the reason in words.
"""

from __future__ import annotations

from comptoir.domain.errors import ErrorKind, fail
from comptoir.storage.book import Book
from comptoir.storage.tables import (
    Account,
    Allocation,
    BankAccount,
    BankEntry,
    Contact,
    Document,
    DocumentLine,
    Employee,
    Entry,
    Item,
    ItemFamily,
    Journal,
    NumberingSeries,
    Party,
    Payment,
    Project,
    Refund,
    Task,
    Transaction,
)

_INVOICE = Document.kind == "invoice"
_ORDER = Document.kind == "sales_order"
_CREDIT_NOTE = Document.kind == "credit_note"
_PURCHASE = Document.kind.in_(("purchase_invoice", "vendor_credit"))
_PAYSHEET = Document.kind == "paysheet"

# referenced table: [(repository name on Book, referencing column, label shown to the caller, extra criteria)]
REFERRERS = {
    Party: [("documents", Document.customer_id, "Invoice", (_INVOICE,)),
            ("documents", Document.customer_id, "Sales Order", (_ORDER,)),
            ("documents", Document.customer_id, "Credit Note", (_CREDIT_NOTE,)),
            ("documents", Document.customer_id, "Purchase Invoice", (_PURCHASE,)),
            ("documents", Document.customer_id, "Paysheet", (_PAYSHEET,)),
            ("payments", Payment.party_id, "Incoming Payment", ()),
            ("entries", Entry.party_id, "Accounting Entry", ()),
            ("tasks", Task.customer_id, "Task", ())],
    Contact: [("documents", Document.billing_contact_id, "Sales Document", ()),
              ("documents", Document.shipping_contact_id, "Sales Document", ()),
              ("tasks", Task.contact_id, "Task", ())],
    Employee: [("parties", Party.assigned_to_id, "Customer", ()), ("tasks", Task.assigned_to_id, "Task", ()),
               ("documents", Document.employee_id, "Sales Document", ())],
    Item: [("document_lines", DocumentLine.item_id, "Order Line", ()),
           ("tasks", Task.service_to_bill_id, "Task", ())],
    ItemFamily: [("items", Item.family_id, "Product or Service", ())],
    Project: [("documents", Document.project_id, "Sales Document", ()), ("tasks", Task.project_id, "Task", ())],
    Document: [("allocations", Allocation.document_id, "Incoming Payment", (Allocation.payment_id.is_not(None),)),
               ("allocations", Allocation.document_id, "Credit Note", (Allocation.credit_note_id.is_not(None),)),
               ("documents", Document.amends_id, "Amending Document", ())],
    NumberingSeries: [("documents", Document.series_id, "Document", ())],
    Account: [("entries", Entry.account_id, "Accounting Entry", ()), ("accounts", Account.family_id, "Account", ()),
              ("bank_accounts", BankAccount.ledger_account_id, "Bank Account", ()),
              ("document_lines", DocumentLine.account_id, "Order Line", ()),
              ("documents", Document.account_id, "Document", ()),
              ("accounts", Account.category_id, "Account", ())],
    Journal: [("transactions", Transaction.journal_id, "Accounting Transaction", ())],
    BankAccount: [("bank_entries", BankEntry.bank_account_id, "Bank Entry", ()),
                  ("payments", Payment.bank_account_id, "Incoming Payment", ()),
                  ("refunds", Refund.bank_account_id, "Refund", ())],
}


def referrers_of(book: Book, model: type, row_id: int) -> list[str]:
    labels: list[str] = []
    for repository_name, column, label, criteria in REFERRERS.get(model, []):
        if label not in labels and getattr(book, repository_name).is_referenced(column, row_id, *criteria):
            labels.append(label)
    return labels


def ensure_unreferenced(book: Book, model: type, row_id: int, what: str) -> None:
    labels = referrers_of(book, model, row_id)
    if labels:
        raise fail(ErrorKind.REFERENCED, None,
                   f"The {what} cannot be deleted because it is referenced by: {', '.join(labels)}")
