"""Projects, opportunities and the tasks attached to them (read-only through OneUp)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..types import ExactDecimal
from .base import Base, OrgScoped, Timestamped
from .catalogue import Item
from .organizations import Employee
from .parties import Contact, Party


class Project(OrgScoped, Timestamped, Base):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(128), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)


class Opportunity(OrgScoped, Timestamped, Base):
    __tablename__ = "opportunities"

    name: Mapped[str] = mapped_column(String(255), nullable=False)


class Task(OrgScoped, Timestamped, Base):
    """A to-do on a project (project task) or on an opportunity (opportunity task)."""

    __tablename__ = "tasks"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "project" or "opportunity"
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(8), default="todo", nullable=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    done_date: Mapped[date | None] = mapped_column(Date)
    time_spent: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    service_to_bill_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))

    assigned_to: Mapped[Employee | None] = relationship(lazy="joined")
    customer: Mapped[Party | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    project: Mapped[Project | None] = relationship(lazy="joined")
    opportunity: Mapped[Opportunity | None] = relationship(lazy="joined")
    service_to_bill: Mapped[Item | None] = relationship(lazy="joined")
