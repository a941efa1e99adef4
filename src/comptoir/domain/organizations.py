"""Who acts in which organization: the principal behind a credential, and what a unit of work knows
of its organization (read once, with the caller's credential)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class OrganizationFacts:
    """The organization's own row, as it was when the unit of work began: its identity, its main
    currency and country, its chart, the day up to which its books are closed, and the month its
    fiscal years begin."""

    id: int
    uuid: str
    name: str
    slug: str
    currency_iso_code: str
    country: str
    chart: str
    closed_until: date | None
    created_at: datetime
    reference_version: int = 0  # of its chart of accounts and journals (storage/reference.py)
    closed_at: datetime | None = None  # when the organization was closed: its credentials are refused
    fiscal_year_start_month: int = 1  # 1 to 12 (domain/fiscal.py)
    # Whether any of its entries is of money in another currency (docs/decisions/0029): a report of a
    # book that holds none reads no figures in other currencies, and sends no statement for them.
    holds_foreign_money: bool = False


@dataclass(frozen=True)
class Principal:
    """Who is calling: the organization whose book they may use, and the credential used. When the
    credential was checked in the unit of work's own transaction, `organization` holds what that
    statement read of the organization, so that the book needs no query for it."""

    org_id: int
    credential_id: int | None
    employee_id: int | None
    organization: OrganizationFacts | None = field(default=None, compare=False, repr=False)
