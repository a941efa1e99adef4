"""The list-replacement rule: a list sent on write becomes the whole new list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import ErrorKind, Problem


@dataclass(frozen=True)
class ListChanges:
    deleted_ids: list[int]
    updated: list[tuple[int, Mapping[str, Any]]]  # (existing id, fields sent for it)
    created: list[Mapping[str, Any]]
    problems: list[Problem]


def replace_list(field: str, existing_ids: Sequence[int], incoming: Sequence[Mapping[str, Any]]) -> ListChanges:
    """Elements missing from `incoming` are deleted, those with a known id are updated, those
    without an id are created. An id that is not in the current list is an error: it belongs to
    another record (or to nobody) and must not be moved or resurrected."""
    known = set(existing_ids)
    kept: set[int] = set()
    updated: list[tuple[int, Mapping[str, Any]]] = []
    created: list[Mapping[str, Any]] = []
    problems: list[Problem] = []
    for position, element in enumerate(incoming):
        element_id = element.get("id")
        if element_id is None:
            created.append(element)
        elif element_id in known and element_id not in kept:
            kept.add(element_id)
            updated.append((element_id, element))
        else:
            problems.append(Problem(ErrorKind.INVALID, f"{field}[{position}].id",
                                    f"{element_id} is not an element of this list"))
    deleted = [i for i in existing_ids if i not in kept]
    return ListChanges(deleted, updated, created, problems)
