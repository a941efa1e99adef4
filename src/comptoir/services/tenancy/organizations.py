"""Creating organizations: the book, its reference data, its first employee and credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from comptoir.domain import currencies, fiscal, reference
from comptoir.domain.errors import ErrorKind, fail
from comptoir.services.access import credentials
from comptoir.services.access.identity import create_web_login
from comptoir.services.kernel.codes import next_code
from comptoir.services.ledger.chart import seed_ledger
from comptoir.storage.book import Book
from comptoir.storage.database import Database
from comptoir.storage.tables import (
    ContactPosition,
    Currency,
    Employee,
    ItemFamily,
    Organization,
    PaymentTerm,
    PriceFamily,
    Tax,
    Unit,
)

CHARTS = ("default", "pcg")


@dataclass(frozen=True)
class OneUpCredentials:
    email: str
    api_key: str


@dataclass(frozen=True)
class WebLogin:
    """The sign-in of the organization's first user on the OAuth pages."""

    email: str
    password: str


@dataclass(frozen=True)
class NewOrganization:
    """A new organization and the credentials of every dialect, in clear text this once."""

    id: int
    uuid: str
    name: str
    slug: str
    oneup: OneUpCredentials
    login: WebLogin
    upflow: dict
    quipu: dict
    oneconnect: dict

    def as_json(self) -> dict:
        return {
            "organization": {"id": self.id, "uuid": self.uuid, "name": self.name, "slug": self.slug},
            "oneup": {"email": self.oneup.email, "api_key": self.oneup.api_key},
            "upflow": self.upflow,
            "quipu": self.quipu,
            "oneconnect": self.oneconnect,
            "login": {"email": self.login.email, "password": self.login.password},
        }


def create_organization(database: Database, name: str, *, currency: str = "USD", country: str = "US",
                        chart: str = "default", slug: str | None = None,
                        fiscal_year_start_month: int = 1) -> NewOrganization:
    name = name.strip()
    currency = currency.upper()
    if not name:
        raise fail(ErrorKind.MISSING, "name", "an organization needs a name")
    # Any current ISO 4217 currency with minor units: every amount rounds to its own (issue 18 §2).
    if not currencies.is_currency(currency):
        raise fail(ErrorKind.INVALID, "currency", f"{currency!r} is not an ISO 4217 currency code (USD, EUR, JPY, BHD)")
    if chart not in CHARTS:
        raise fail(ErrorKind.INVALID, "chart", f"one of {', '.join(CHARTS)}")
    _check_start_month(fiscal_year_start_month)
    with database.transaction() as session:
        organization = Organization(name=name, slug=_free_slug(session, slug or reference.slugify(name)),
                                    currency_iso_code=currency, country=country.upper()[:2], chart=chart,
                                    fiscal_year_start_month=fiscal_year_start_month)
        session.add(organization)
        session.flush()
        book = Book(session, organization.id)
        _seed_reference_data(book, currency, country)
        seed_ledger(book, chart)
        employee = book.employees.add(Employee(first_name="API", last_name="User", email="",
                                               user_code=_code(book, "employee")))
        return issue_all(book, organization, employee)


def issue_all(book: Book, organization: Organization, employee: Employee) -> NewOrganization:
    """Fresh credentials of every kind for an organization."""
    oneup = issue_oneup_key(book, employee)
    login = issue_web_login(book, employee, organization.slug)
    upflow = credentials.issue(book.session, organization.id, "upflow")
    quipu = credentials.issue(book.session, organization.id, "quipu")
    partner = credentials.issue(book.session, organization.id, "oneconnect")
    integration = credentials.issue(book.session, organization.id, "oneconnect_integration")
    return NewOrganization(
        organization.id, organization.uuid, organization.name, organization.slug, oneup, login,
        upflow={"api_key": upflow["identifier"], "api_secret": upflow["secret"]},
        quipu={"app_id": quipu["identifier"], "app_secret": quipu["secret"], "owner_slug": organization.slug},
        oneconnect={"client_id": partner["identifier"], "client_secret": partner["secret"],
                    "integration_id": integration["identifier"], "integration_secret": integration["secret"]},
    )


def find_organization(database: Database, slug: str) -> int:
    """The id of the organization with this slug."""
    with database.transaction() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.slug == slug))
    if org_id is None:
        raise fail(ErrorKind.NOT_FOUND, "slug", f"no organization with slug {slug!r}")
    return org_id


def set_closed(database: Database, org_id: int, closed: bool) -> None:
    """Close the organization (the company closed on the accounting side: every credential of its
    is refused, and its OneConnect integrations answer SMB_CLOSED once, then are revoked), or reopen it."""
    with database.transaction() as session:
        session.get(Organization, org_id).closed_at = datetime.now(timezone.utc) if closed else None


def set_fiscal_year_start(book: Book, month: int) -> None:
    """Fiscal years begin on the first of `month` from now on. Refused once books are closed: the
    closed years' results, carried forward by fiscal year, must not move."""
    _check_start_month(month)
    organization = book.organization_row()
    if organization.closed_until is not None and month != organization.fiscal_year_start_month:
        raise fail(ErrorKind.INVALID, "fiscal_year_start_month",
                   f"the books are closed until {organization.closed_until}: the fiscal year cannot move")
    organization.fiscal_year_start_month = month


def _check_start_month(month: object) -> None:
    if not fiscal.is_start_month(month):
        raise fail(ErrorKind.INVALID, "fiscal_year_start_month", "a month number, 1 to 12")


def first_employee_id(session, org_id: int) -> int | None:
    return session.scalar(select(Employee.id).where(Employee.org_id == org_id).order_by(Employee.id).limit(1))


def organization_slug(database: Database, org_id: int) -> str:
    with database.transaction() as session:
        return session.get(Organization, org_id).slug


def issue_oneup_key(book: Book, employee: Employee) -> OneUpCredentials:
    """A new OneUp API email and key for an employee. The key is returned once, stored hashed."""
    issued = credentials.issue(book.session, book.org_id, "oneup", employee_id=employee.id)
    employee.email = employee.email or issued["identifier"]
    book.flush()
    return OneUpCredentials(issued["identifier"], issued["secret"])


def issue_web_login(book: Book, employee: Employee, slug: str) -> WebLogin:
    email = f"admin@{slug}.comptoir.local"
    return WebLogin(email, create_web_login(book.session, book.org_id, employee.id, email))


def _free_slug(session, wanted: str) -> str:
    taken = set(session.scalars(select(Organization.slug).where(Organization.slug.like(f"{wanted}%"))))
    slug, number = wanted, 1
    while slug in taken:
        number += 1
        slug = f"{wanted}-{number}"
    return slug


def _code(book: Book, key: str) -> str:
    repository, attribute = (book.employees, "user_code") if key == "employee" else (book.item_families, "code")
    return next_code(book, key, repository, attribute)


def _seed_reference_data(book: Book, currency: str, country: str) -> None:
    """The organization's currencies (the usual six and its own), taxes, terms, units and the rest."""
    for iso_code in dict.fromkeys((*currencies.DEFAULT_CURRENCIES, currency)):
        book.currencies.add(Currency(iso_code=iso_code, name=currencies.currency_name(iso_code),
                                     minor_units=currencies.minor_units(iso_code),
                                     is_main_currency=iso_code == currency))
    for name, rate in reference.taxes_for(country):
        book.taxes.add(Tax(name=name, rate=rate))
    for name, installments in reference.PAYMENT_TERMS:
        book.payment_terms.add(PaymentTerm(name=name, installments=installments,
                                           is_default=name == reference.DUE_ON_RECEIPT))
    for name, unit_type in reference.UNITS:
        book.units.add(Unit(name=name, type=unit_type))
    book.price_families.add(PriceFamily(name=reference.DEFAULT_PRICE_FAMILY))
    for name in reference.CONTACT_POSITIONS:
        book.contact_positions.add(ContactPosition(name=name))
    book.item_families.add(ItemFamily(name=reference.DEFAULT_ITEM_FAMILY, code=_code(book, "item_family")))
