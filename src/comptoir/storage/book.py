"""The book of one organization: its repositories, all bound to one session and one scope."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from comptoir.domain.errors import NotFound
from comptoir.domain.organizations import OrganizationFacts

from .database import UNKNOWN, Database
from .documents import DocumentStore
from .identity import mark_holding_foreign_money, organization_facts
from .link import Link, link_of
from .currencies import CurrencyRepository
from .rates import RateRepository
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
    ExchangeRate,
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
from .reference import Chart, read_chart
from .transactions import TransactionStore

T = TypeVar("T")


class per_book(Generic[T]):  # noqa: N801 - used as a decorator, like functools.cached_property
    """A property computed once per book, like `functools.cached_property` but without its lock: on
    Python 3.11 that lock is one per class, held while the value is computed, so a book whose first
    access runs a query (`organization`) waiting for SQLite's write lock would block every other
    request's book, among them the one holding the write lock: a deadlock. A book is used by one
    thread at a time, so it needs no lock."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, book: Any, owner: type | None = None) -> T:
        if book is None:
            return self  # type: ignore[return-value]
        value = book.__dict__[self.name] = self.compute(book)
        return value


class Book:
    def __init__(self, where: Link | Session, org_id: int, actor_employee_id: int | None = None, *,
                 database: Database | None = None, organization: OrganizationFacts | None = None,
                 numbers: Engine | None = None) -> None:
        """`where`: the unit of work's link (storage/link.py), or a caller's session (its link is made).
        `database`: the database the link belongs to, when the organization exists already
        (committed): what the process remembers of the organization is then used (`remember`).
        `organization`: its facts when the caller read them already (with the credential).
        `numbers`: where counters take numbers outside this transaction (PostgreSQL), when the
        organization exists already (storage/repository.Counters)."""
        self.link = link_of(where)
        self.org_id = org_id
        # The employee behind the credential that opened the book: the default "assigned to".
        self.actor_employee_id = actor_employee_id
        self.database = database
        self.numbers = numbers
        if organization is not None:
            self.__dict__["organization"] = organization
        self._memo: dict[Any, Any] = {}
        self._learned: dict[Any, Any] = {}

    @property
    def session(self) -> Session:
        """The ORM session of the unit of work (made on first use: the hot paths go without)."""
        return self.link.session

    def flush(self) -> None:
        flush(self.link)

    def remember(self, key: Any, load: Callable[[], T], *, lasting: bool = False) -> T:
        """`load()`, called once per unit of work (its rows stay in the session's identity map for
        as long as the book lives). `lasting`: the value never changes once committed (reference data
        seeded with the organization, the id of the account that holds a role): the process then
        keeps it for later units of work too, once this one has committed (`learned`)."""
        value = self.known(key, lasting=lasting)
        if value is UNKNOWN:
            value = load()
            self.keep(key, value, lasting=lasting)
        return value

    def known(self, key: Any, *, lasting: bool = False) -> Any:
        """What `remember` would answer without loading: the value kept in this unit of work or (when
        `lasting`) by the process, else UNKNOWN."""
        if key in self._memo:
            return self._memo[key]
        value = self.database.cache.get(self.org_id, key) if lasting and self.database is not None else UNKNOWN
        if value is not UNKNOWN:
            self._memo[key] = value
        return value

    def keep(self, key: Any, value: Any, *, lasting: bool = False) -> None:
        """Keep a value for the rest of this unit of work; `lasting` (it never changes once committed,
        and comes from committed rows, not from rows this unit of work wrote): for the process too,
        once this unit of work has committed."""
        self._memo[key] = value
        if lasting:
            self._learned[key] = value

    def note(self, key: Any, value: Any) -> None:
        """Keep a value (or a row, so that it stays in the identity map) for this unit of work."""
        self._memo[key] = value

    def recall(self, key: Any, default: Any = None) -> Any:
        return self._memo.get(key, default)

    def learned(self) -> dict[Any, Any]:
        """The lasting values this unit of work loaded: the process keeps them once it has committed."""
        return dict(self._learned)

    def _repository(self, model, label: str) -> Repository:
        return Repository(self.link, self.org_id, model, label)

    @per_book
    def organization(self) -> OrganizationFacts:
        """The organization's facts as they were when the unit of work began (a writer of its row,
        closing the books, say, changes the row itself: `organization_row`)."""
        facts = organization_facts(self.link, self.org_id)
        if facts is None:
            raise NotFound("organization", self.org_id)
        return facts

    def note_foreign_money(self) -> None:
        """Entries of money in another currency are being written: the organization is marked as
        holding some, in this transaction, unless it was when the unit of work began. Asked of the
        database each time until then (a savepoint rolled back may undo a mark made before)."""
        if not self.organization.holds_foreign_money:
            mark_holding_foreign_money(self.link, self.org_id)

    def organization_row(self) -> Organization:
        """The organization's row, to change it."""
        return self.session.get(Organization, self.org_id)

    @per_book
    def document_store(self) -> DocumentStore:
        return DocumentStore(self.link, self.org_id)

    @per_book
    def transaction_store(self) -> TransactionStore:
        return TransactionStore(self.link, self.org_id, self.chart)

    def chart(self) -> Chart | None:
        """The organization's accounts and journals as the process keeps them (storage/reference.py),
        at the version the request read with its credential; None when they must be read from the
        database: this unit of work wrote some, or the book was not opened by a request."""
        facts = self.__dict__.get("organization")
        if self.database is None or facts is None:
            return None
        if self.link.changed():
            self.link.connection()  # what the session holds written: its accounts and journals are noted
        if self.org_id in self.link.reference_changed:
            return None
        return self.database.charts.get(self.org_id, facts.reference_version, lambda: read_chart(self.link, self.org_id))

    def accounts_by_id(self) -> Mapping[int, Any]:
        """Every account of the organization by id (AccountViews): the kept chart when it may be used
        (`chart`), else read now."""
        return (self.chart() or read_chart(self.link, self.org_id)).accounts

    @per_book
    def counters(self) -> Counters:
        return Counters(self.link, self.org_id, self.numbers)

    @per_book
    def parties(self) -> Repository[Party]:
        return self._repository(Party, "party")

    @per_book
    def contacts(self) -> Repository[Contact]:
        return self._repository(Contact, "contact")

    @per_book
    def employees(self) -> Repository[Employee]:
        return self._repository(Employee, "employee")

    @per_book
    def items(self) -> Repository[Item]:
        return self._repository(Item, "item")

    @per_book
    def item_families(self) -> Repository[ItemFamily]:
        return self._repository(ItemFamily, "item family")

    @per_book
    def projects(self) -> Repository[Project]:
        return self._repository(Project, "project")

    @per_book
    def opportunities(self) -> Repository[Opportunity]:
        return self._repository(Opportunity, "opportunity")

    @per_book
    def tasks(self) -> Repository[Task]:
        return self._repository(Task, "task")

    @per_book
    def currencies(self) -> CurrencyRepository:
        return CurrencyRepository(self.link, self.org_id, Currency, "currency")

    @per_book
    def taxes(self) -> Repository[Tax]:
        return self._repository(Tax, "tax")

    @per_book
    def payment_terms(self) -> Repository[PaymentTerm]:
        return self._repository(PaymentTerm, "payment term")

    @per_book
    def units(self) -> Repository[Unit]:
        return self._repository(Unit, "unit")

    @per_book
    def price_families(self) -> Repository[PriceFamily]:
        return self._repository(PriceFamily, "price family")

    @per_book
    def accounts(self) -> Repository[Account]:
        return self._repository(Account, "account")

    @per_book
    def journals(self) -> Repository[Journal]:
        return self._repository(Journal, "journal")

    @per_book
    def payment_methods(self) -> Repository[PaymentMethod]:
        return self._repository(PaymentMethod, "payment method")

    @per_book
    def transactions(self) -> Repository[Transaction]:
        return self._repository(Transaction, "transaction")

    @per_book
    def entries(self) -> Repository[Entry]:
        return self._repository(Entry, "entry")

    @per_book
    def documents(self) -> Repository[Document]:
        return self._repository(Document, "document")

    @per_book
    def document_lines(self) -> Repository[DocumentLine]:
        return self._repository(DocumentLine, "order line")

    @per_book
    def payments(self) -> Repository[Payment]:
        return self._repository(Payment, "payment")

    @per_book
    def allocations(self) -> Repository[Allocation]:
        return self._repository(Allocation, "allocation")

    @per_book
    def refunds(self) -> Repository[Refund]:
        return self._repository(Refund, "refund")

    @per_book
    def reconciliations(self) -> Repository[Reconciliation]:
        return self._repository(Reconciliation, "reconciliation")

    @per_book
    def stored_files(self) -> Repository[StoredFile]:
        return self._repository(StoredFile, "file")

    @per_book
    def custom_fields(self) -> Repository[CustomField]:
        return self._repository(CustomField, "custom field")

    @per_book
    def custom_field_options(self) -> Repository[CustomFieldOption]:
        return self._repository(CustomFieldOption, "custom field option")

    @per_book
    def custom_field_values(self) -> Repository[CustomFieldValue]:
        return self._repository(CustomFieldValue, "custom field value")

    @per_book
    def bank_accounts(self) -> Repository[BankAccount]:
        return self._repository(BankAccount, "bank account")

    @per_book
    def bank_entries(self) -> Repository[BankEntry]:
        return self._repository(BankEntry, "bank entry")

    @per_book
    def contact_positions(self) -> Repository[ContactPosition]:
        return self._repository(ContactPosition, "contact position")

    @per_book
    def received_documents(self) -> Repository[ReceivedDocument]:
        return self._repository(ReceivedDocument, "document")

    @per_book
    def webhook_endpoints(self) -> Repository[WebhookEndpoint]:
        return self._repository(WebhookEndpoint, "webhook endpoint")

    @per_book
    def outbox_events(self) -> Repository[OutboxEvent]:
        return self._repository(OutboxEvent, "event")

    @per_book
    def numbering_series(self) -> Repository[NumberingSeries]:
        return self._repository(NumberingSeries, "numbering series")

    @per_book
    def attachments(self) -> Repository[Attachment]:
        return self._repository(Attachment, "attachment")

    @per_book
    def paysheet_amounts(self) -> Repository[PaysheetAmounts]:
        return self._repository(PaysheetAmounts, "paysheet amounts")

    @per_book
    def analytic_categories(self) -> Repository[AnalyticCategory]:
        return self._repository(AnalyticCategory, "analytic category")

    @per_book
    def exchange_rates(self) -> RateRepository:
        return RateRepository(self.link, self.org_id, ExchangeRate, "exchange rate")
