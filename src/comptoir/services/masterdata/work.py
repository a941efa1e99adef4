"""Projects, employees and tasks."""

from __future__ import annotations

from comptoir.domain.query import Condition, Op
from comptoir.services.kernel.records import ReadOnlyRecords, Records
from comptoir.storage.tables import Employee, Project

PROJECTS = Records("projects", model=Project, fields=("name", "description"), required=("name",))
EMPLOYEES = Records("employees", model=Employee, fields=("first_name", "last_name", "email", "user_code"),
                    required=("last_name",), code_key="employee", code_attribute="user_code")
PROJECT_TASKS = ReadOnlyRecords("tasks", conditions=(Condition("kind", Op.EQ, "project"),))
OPPORTUNITY_TASKS = ReadOnlyRecords("tasks", conditions=(Condition("kind", Op.EQ, "opportunity"),))
