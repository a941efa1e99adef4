"""The book of one organization: its repositories, all bound to one session and one scope."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.orm import Session

from .repository import Counters, Repository, flush
from .tables import (
    Account,
    Allocation,
    AnalyticCategory,
    Attachment,
    BankAccount,
    BankEntry,
    Contact,
    ContactPosition,
    Currency,
    CustomField,
    CustomFieldOption,
    CustomFieldValue,
    Document,
    DocumentLine,
    Employee,
    Entry,
    Item,
    ItemFamily,
    Journal,
    NumberingSeries,
    Opportunity,
    Organization,
    OutboxEvent,
    Party,
    Payment,
    PaymentMethod,
    PaymentTerm,
    PaysheetAmounts,
    PriceFamily,
    Project,
    ReceivedDocument,
    Reconciliation,
    Refund,
    StoredFile,
    Task,
    Tax,
    Transaction,
    Unit,
    WebhookEndpoint,
)


class Book:
    def __init__(self, session: Session, org_id: int, actor_employee_id: int | None = None) -> None:
        self.session = session
        self.org_id = org_id
        # The employee behind the credential that opened the book: the default "assigned to".
        self.actor_employee_id = actor_employee_id

    def flush(self) -> None:
        flush(self.session)

    def _repository(self, model, label: str) -> Repository:
        return Repository(self.session, self.org_id, model, label)

    @cached_property
    def organization(self) -> Organization:
        return self.session.get(Organization, self.org_id)

    @cached_property
    def counters(self) -> Counters:
        return Counters(self.session, self.org_id)

    @cached_property
    def parties(self) -> Repository[Party]:
        return self._repository(Party, "party")

    @cached_property
    def contacts(self) -> Repository[Contact]:
        return self._repository(Contact, "contact")

    @cached_property
    def employees(self) -> Repository[Employee]:
        return self._repository(Employee, "employee")

    @cached_property
    def items(self) -> Repository[Item]:
        return self._repository(Item, "item")

    @cached_property
    def item_families(self) -> Repository[ItemFamily]:
        return self._repository(ItemFamily, "item family")

    @cached_property
    def projects(self) -> Repository[Project]:
        return self._repository(Project, "project")

    @cached_property
    def opportunities(self) -> Repository[Opportunity]:
        return self._repository(Opportunity, "opportunity")

    @cached_property
    def tasks(self) -> Repository[Task]:
        return self._repository(Task, "task")

    @cached_property
    def currencies(self) -> Repository[Currency]:
        return self._repository(Currency, "currency")

    @cached_property
    def taxes(self) -> Repository[Tax]:
        return self._repository(Tax, "tax")

    @cached_property
    def payment_terms(self) -> Repository[PaymentTerm]:
        return self._repository(PaymentTerm, "payment term")

    @cached_property
    def units(self) -> Repository[Unit]:
        return self._repository(Unit, "unit")

    @cached_property
    def price_families(self) -> Repository[PriceFamily]:
        return self._repository(PriceFamily, "price family")

    @cached_property
    def accounts(self) -> Repository[Account]:
        return self._repository(Account, "account")

    @cached_property
    def journals(self) -> Repository[Journal]:
        return self._repository(Journal, "journal")

    @cached_property
    def payment_methods(self) -> Repository[PaymentMethod]:
        return self._repository(PaymentMethod, "payment method")

    @cached_property
    def transactions(self) -> Repository[Transaction]:
        return self._repository(Transaction, "transaction")

    @cached_property
    def entries(self) -> Repository[Entry]:
        return self._repository(Entry, "entry")

    @cached_property
    def documents(self) -> Repository[Document]:
        return self._repository(Document, "document")

    @cached_property
    def document_lines(self) -> Repository[DocumentLine]:
        return self._repository(DocumentLine, "order line")

    @cached_property
    def payments(self) -> Repository[Payment]:
        return self._repository(Payment, "payment")

    @cached_property
    def allocations(self) -> Repository[Allocation]:
        return self._repository(Allocation, "allocation")

    @cached_property
    def refunds(self) -> Repository[Refund]:
        return self._repository(Refund, "refund")

    @cached_property
    def reconciliations(self) -> Repository[Reconciliation]:
        return self._repository(Reconciliation, "reconciliation")

    @cached_property
    def stored_files(self) -> Repository[StoredFile]:
        return self._repository(StoredFile, "file")

    @cached_property
    def custom_fields(self) -> Repository[CustomField]:
        return self._repository(CustomField, "custom field")

    @cached_property
    def custom_field_options(self) -> Repository[CustomFieldOption]:
        return self._repository(CustomFieldOption, "custom field option")

    @cached_property
    def custom_field_values(self) -> Repository[CustomFieldValue]:
        return self._repository(CustomFieldValue, "custom field value")

    @cached_property
    def bank_accounts(self) -> Repository[BankAccount]:
        return self._repository(BankAccount, "bank account")

    @cached_property
    def bank_entries(self) -> Repository[BankEntry]:
        return self._repository(BankEntry, "bank entry")

    @cached_property
    def contact_positions(self) -> Repository[ContactPosition]:
        return self._repository(ContactPosition, "contact position")

    @cached_property
    def received_documents(self) -> Repository[ReceivedDocument]:
        return self._repository(ReceivedDocument, "document")

    @cached_property
    def webhook_endpoints(self) -> Repository[WebhookEndpoint]:
        return self._repository(WebhookEndpoint, "webhook endpoint")

    @cached_property
    def outbox_events(self) -> Repository[OutboxEvent]:
        return self._repository(OutboxEvent, "event")

    @cached_property
    def numbering_series(self) -> Repository[NumberingSeries]:
        return self._repository(NumberingSeries, "numbering series")

    @cached_property
    def attachments(self) -> Repository[Attachment]:
        return self._repository(Attachment, "attachment")

    @cached_property
    def paysheet_amounts(self) -> Repository[PaysheetAmounts]:
        return self._repository(PaysheetAmounts, "paysheet amounts")

    @cached_property
    def analytic_categories(self) -> Repository[AnalyticCategory]:
        return self._repository(AnalyticCategory, "analytic category")
