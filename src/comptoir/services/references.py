"""What points at what: a record that others reference is not deleted, and the caller is told why.

The foreign keys in the database back this up; this table gives the reason in words.
"""

from __future__ import annotations

from comptoir.domain.errors import ErrorKind, fail
from comptoir.storage.book import Book
from comptoir.storage.tables import Contact, Employee, Item, ItemFamily, Party, Project, Task

# referenced table: [(repository name on Book, referencing column, label shown to the caller)]
REFERRERS = {
    Party: [("tasks", Task.customer_id, "Task")],
    Contact: [("tasks", Task.contact_id, "Task")],
    Employee: [("parties", Party.assigned_to_id, "Customer"), ("tasks", Task.assigned_to_id, "Task")],
    Item: [("tasks", Task.service_to_bill_id, "Task")],
    ItemFamily: [("items", Item.family_id, "Product or Service")],
    Project: [("tasks", Task.project_id, "Task")],
}


def referrers_of(book: Book, model: type, row_id: int) -> list[str]:
    labels: list[str] = []
    for repository_name, column, label in REFERRERS.get(model, []):
        if label not in labels and getattr(book, repository_name).is_referenced(column, row_id):
            labels.append(label)
    return labels


def ensure_unreferenced(book: Book, model: type, row_id: int, what: str) -> None:
    labels = referrers_of(book, model, row_id)
    if labels:
        raise fail(ErrorKind.REFERENCED, None,
                   f"The {what} cannot be deleted because it is referenced by: {', '.join(labels)}")
