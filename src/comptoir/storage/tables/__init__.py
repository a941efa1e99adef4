"""All tables of the book. Import from here so that every mapper is configured."""

from .audit import AuditEvent
from .base import Base
from .bookkeeping import AnalyticCategory, Attachment, NumberingSeries, PaysheetAmounts
from .catalogue import Item, ItemFamily
from .custom_fields import CustomField, CustomFieldOption, CustomFieldValue
from .files import StoredFile
from .identity import AccessToken, AuthorizationCode, OAuthClient, SigningKey
from .ledger import Account, AccountBalance, Entry, Journal, PaymentMethod, Transaction
from .organizations import Counter, Credential, Employee, Organization
from .parties import Contact, ContactPosition, Party
from .rates import ExchangeRate
from .received import OutboxEvent, ReceivedDocument, WebhookEndpoint
from .reference import Currency, PaymentTerm, PriceFamily, Tax, Unit
from .sales import Allocation, BankAccount, BankEntry, Document, DocumentLine, Payment, Reconciliation, Refund
from .work import Opportunity, Project, Task

# SQLite reuses the largest id after a delete unless asked not to; clients that sync by id must never
# see an id come back, so every table with an integer key uses AUTOINCREMENT there.
for _table in Base.metadata.tables.values():
    _table.dialect_options["sqlite"]["autoincrement"] = True

__all__ = [
    "AuditEvent",
    "AnalyticCategory",
    "Attachment",
    "NumberingSeries",
    "PaysheetAmounts",
    "AccessToken",
    "Account",
    "AccountBalance",
    "Allocation",
    "AuthorizationCode",
    "BankAccount",
    "BankEntry",
    "Base",
    "Contact",
    "ContactPosition",
    "Counter",
    "Credential",
    "Currency",
    "CustomField",
    "CustomFieldOption",
    "CustomFieldValue",
    "Document",
    "DocumentLine",
    "Employee",
    "Entry",
    "ExchangeRate",
    "Item",
    "ItemFamily",
    "Journal",
    "OAuthClient",
    "Opportunity",
    "Organization",
    "OutboxEvent",
    "Party",
    "Payment",
    "PaymentMethod",
    "PaymentTerm",
    "PriceFamily",
    "Project",
    "ReceivedDocument",
    "Reconciliation",
    "Refund",
    "SigningKey",
    "StoredFile",
    "Task",
    "Tax",
    "Transaction",
    "Unit",
    "WebhookEndpoint",
]

# The listeners that keep account_balances in step with the entries (after every table is defined).
from .. import balances as _balances  # noqa: E402,F401
