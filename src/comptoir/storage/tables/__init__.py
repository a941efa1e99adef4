"""All tables of the book. Import from here so that every mapper is configured."""

from .base import Base
from .catalogue import Item, ItemFamily
from .organizations import Counter, Credential, Employee, Organization
from .parties import Contact, Party
from .reference import Currency, PaymentTerm, PriceFamily, Tax, Unit
from .work import Opportunity, Project, Task

__all__ = [
    "Base",
    "Contact",
    "Counter",
    "Credential",
    "Currency",
    "Employee",
    "Item",
    "ItemFamily",
    "Opportunity",
    "Organization",
    "Party",
    "PaymentTerm",
    "PriceFamily",
    "Project",
    "Task",
    "Tax",
    "Unit",
]
