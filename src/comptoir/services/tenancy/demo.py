"""The demo organization `comptoir serve --demo` loads: a small, realistic book to try requests on."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from comptoir.services.access import credentials, identity
from comptoir.services.masterdata.catalogue import ITEMS
from comptoir.services.masterdata.parties import CUSTOMERS, VENDORS
from comptoir.services.masterdata.work import EMPLOYEES
from comptoir.services.tenancy.organizations import (
    NewOrganization,
    OneUpCredentials,
    WebLogin,
    create_organization,
    issue_all,
)
from comptoir.storage.book import Book
from comptoir.storage.database import Database
from comptoir.storage.tables import Credential, Opportunity, Organization, Project, Task

DEMO_SLUG = "demo"


def load_demo_keeping(database: Database, kept: Path) -> NewOrganization:
    """The demo organization with the same credentials on every start of the same database: the first
    start creates it and writes its credentials (in clear, readable by the owner only) to `kept`; later
    starts read them back and print them again as long as every one still works against this database.
    Otherwise (the file is gone, a credential was revoked, the database was replaced) fresh ones are
    issued, as `load_demo` does, and kept instead."""
    found = _kept(kept)
    if found is not None and _still_work(database, found):
        return found
    created = load_demo(database)
    kept.parent.mkdir(parents=True, exist_ok=True)
    temporary = kept.with_name(f".{kept.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(created.as_json(), file)
    os.replace(temporary, kept)
    return created


def _kept(kept: Path) -> NewOrganization | None:
    try:
        saved = json.loads(kept.read_text())
        organization = saved["organization"]
        return NewOrganization(organization["id"], organization["uuid"], organization["name"], organization["slug"],
                               OneUpCredentials(saved["oneup"]["email"], saved["oneup"]["api_key"]),
                               WebLogin(saved["login"]["email"], saved["login"]["password"]),
                               upflow=saved["upflow"], quipu=saved["quipu"], oneconnect=saved["oneconnect"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _still_work(database: Database, demo: NewOrganization) -> bool:
    """Every credential of `demo` opens the demo organization of this database."""
    pairs = [("oneup", demo.oneup.email, demo.oneup.api_key),
             ("upflow", demo.upflow["api_key"], demo.upflow["api_secret"]),
             ("quipu", demo.quipu["app_id"], demo.quipu["app_secret"]),
             ("oneconnect", demo.oneconnect["client_id"], demo.oneconnect["client_secret"]),
             ("oneconnect_integration", demo.oneconnect["integration_id"], demo.oneconnect["integration_secret"])]
    with database.transaction() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.slug == DEMO_SLUG))
        if org_id is None or org_id != demo.id:
            return False
        for kind, identifier, secret in pairs:
            principal = credentials.verify(session, kind, identifier, secret).principal
            if principal is None or principal.org_id != org_id:
                return False
    login = identity.log_in(database, demo.login.email, demo.login.password)
    return login is not None and login.org_id == org_id


def load_demo(database: Database) -> NewOrganization:
    """Create the demo organization once; on later starts, issue it fresh credentials (keys are
    shown once and stored hashed, so the previous ones cannot be printed again)."""
    with database.transaction() as session:
        existing = session.scalars(select(Organization).where(Organization.slug == DEMO_SLUG)).first()
        if existing is not None:
            book = Book(session, existing.id)
            for credential in session.scalars(select(Credential).where(Credential.org_id == existing.id)):
                session.delete(credential)
            session.flush()
            employee = EMPLOYEES.of(book).find(user_code="EMP-001")
            return issue_all(book, existing, employee)
    created = create_organization(database, "Demo Company", slug=DEMO_SLUG)
    with database.transaction() as session:
        employee_id = EMPLOYEES.of(Book(session, created.id)).find(user_code="EMP-001").id
        _fill(Book(session, created.id, actor_employee_id=employee_id))
    return created


def _fill(book: Book) -> None:
    acme = CUSTOMERS.create(book, {
        "type": 1, "company_name": "ACME Corporation", "email": "billing@acme.example",
        "phone_number": "(415) 779-6536", "website": "www.acme.example",
        "address": {"street_line1": "567 Sutter St.", "city": "San Francisco", "postal_code": "94102",
                    "country": "United States", "locality": "California"},
        "contacts": [{"first_name": "Ed", "last_name": "Smith", "email": "ed@acme.example"},
                     {"first_name": "John", "last_name": "Doe", "email": "john@acme.example"}],
    })
    CUSTOMERS.create(book, {"type": 2, "first_name": "Jane", "last_name": "Roe", "email": "jane@roe.example"})
    VENDORS.create(book, {"type": 1, "company_name": "Regular Vendor", "email": "regular.vendor@example.com"})
    consulting = ITEMS.create(book, {"type": 1, "name": "Consulting", "sales_price": Decimal("750")})
    ITEMS.create(book, {"type": 2, "name": "Stickers album", "sales_price": Decimal("9.99"),
                        "purchase_price": Decimal("4.20")})
    project = book.projects.add(Project(name="Project X", description="A wonderful project!"))
    opportunity = book.opportunities.add(Opportunity(name="Opportunity 2"))
    today = date.today()
    book.tasks.add(Task(kind="project", name="Buy supplies", notes="Let's buy the supplies.", status="todo",
                        due_date=today + timedelta(days=7), assigned_to_id=book.actor_employee_id,
                        customer_id=acme.id, contact_id=acme.contacts[0].id, project_id=project.id,
                        service_to_bill_id=consulting.id))
    book.tasks.add(Task(kind="opportunity", name="Call back", status="done", done_date=today,
                        time_spent=Decimal("0.5"), customer_id=acme.id, opportunity_id=opportunity.id))
