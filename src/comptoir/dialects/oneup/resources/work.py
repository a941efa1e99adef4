"""Projects, project and opportunity tasks (read-only), employees and /me."""

from __future__ import annotations

from typing import Any

from comptoir.services.masterdata.work import EMPLOYEES, OPPORTUNITY_TASKS, PROJECT_TASKS, PROJECTS

from ..conventions import Filter, Resource, as_date, as_text
from ..fields import Integer, Text, WireModel
from .common import TIMESTAMPS, employee_ref, id_filter, integer_filter, number, stamps, text_filter


class ProjectIn(WireModel):
    id: Integer | None = None
    name: Text(128) | None = None
    description: str | None = None


def render_project(project: Any, _book: Any = None) -> dict:
    return {"id": project.id, "name": project.name, "description": project.description}


PROJECTS_RESOURCE = Resource(
    path="projects", service=PROJECTS, render=render_project, schema=ProjectIn,
    filters={**id_filter(), "name": text_filter("name")},
    sorts={"id": "id", "name": "name"},
)


def _compact(row: Any, *, code: str | None = None) -> dict | None:
    if row is None:
        return None
    compact = {"id": row.id, "name": getattr(row, "full_name", None) or row.name}
    if code is not None:
        compact["user_code"] = code
    return compact


def _render_task(task: Any) -> dict:
    return {
        "id": task.id,
        "name": task.name,
        "notes": task.notes,
        "status": task.status,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "done_date": task.done_date.isoformat() if task.done_date else None,
        "time_spent": number(task.time_spent),
        "assigned_to": employee_ref(task.assigned_to),
        "customer": _compact(task.customer, code=task.customer.customer_code if task.customer else None),
        "contact": {"id": task.contact.id, "name": task.contact.full_name} if task.contact else None,
    }


def render_project_task(task: Any, _book: Any = None) -> dict:
    service = task.service_to_bill
    return {
        **_render_task(task),
        "project": _compact(task.project),
        "service_to_bill": _compact(service, code=service.item_number) if service else None,
    }


def render_opportunity_task(task: Any, _book: Any = None) -> dict:
    return {**_render_task(task), "opportunity": _compact(task.opportunity)}


TASK_FILTERS = {**id_filter(), "status": Filter("status", as_text), "due_date": Filter("due_date", as_date),
                "done_date": Filter("done_date", as_date), "customer_id": integer_filter("customer_id"),
                "assigned_to_id": integer_filter("assigned_to_id")}
TASK_SORTS = {"id": "id", "name": "name", "due_date": "due_date", "done_date": "done_date"}

PROJECT_TASKS_RESOURCE = Resource(
    path="project_tasks", service=PROJECT_TASKS, render=render_project_task,
    filters={**TASK_FILTERS, "project_id": integer_filter("project_id")}, sorts=TASK_SORTS,
)
OPPORTUNITY_TASKS_RESOURCE = Resource(
    path="opportunity_tasks", service=OPPORTUNITY_TASKS, render=render_opportunity_task,
    filters={**TASK_FILTERS, "opportunity_id": integer_filter("opportunity_id")}, sorts=TASK_SORTS,
)


class EmployeeIn(WireModel):
    id: Integer | None = None
    first_name: Text(255) | None = None
    last_name: Text(255) | None = None
    email: Text(255) | None = None
    user_code: Text(64) | None = None
    created_at: str | None = None
    updated_at: str | None = None


def render_employee(employee: Any, _book: Any = None) -> dict:
    return {"id": employee.id, "first_name": employee.first_name, "last_name": employee.last_name,
            "email": employee.email, "user_code": employee.user_code, **stamps(employee)}


EMPLOYEES_RESOURCE = Resource(
    path="employees", service=EMPLOYEES, render=render_employee, schema=EmployeeIn,
    read_only=frozenset({"id", *TIMESTAMPS}),
    filters={**id_filter(), "last_name": text_filter("last_name"), "email": text_filter("email"),
             "user_code": text_filter("user_code")},
    sorts={"id": "id", "last_name": "last_name", "first_name": "first_name", "user_code": "user_code",
           "created_at": "created_at"},
)
