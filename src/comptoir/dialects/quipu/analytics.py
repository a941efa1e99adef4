"""Analytic categories (legacy, listed in the 2016 docs' summary only): a name and a parent."""

from __future__ import annotations

from typing import Any

from comptoir.services.ledger import analytics

from .conventions import Calls, Resource, Sent, View, linkage, relationships


def parse(data: dict, creating: bool) -> dict:
    sent = Sent(data)
    sent.text("name", length_max=analytics.NAME_LENGTH_MAX)
    sent.to_one("parent", "parent_id")
    if creating:
        sent.require("name")
    sent.raise_if_any()
    return sent.fields


def render(category: Any, view: View) -> dict:
    return {"id": str(category.id), "type": "analytic_categories", "attributes": {"name": category.name},
            "relationships": relationships(parent=linkage("analytic_categories", category.parent_id))}


RESOURCE = Resource(path="analytic_categories",
                    service=Calls(get=analytics.get, list=analytics.list_categories, count=analytics.count,
                                  create=analytics.create, update=analytics.update, delete=analytics.delete), render=render, parse=parse,
                    sorts={"name": "name"},
                    pointers={"name": "/data/attributes/name", "parent_id": "/data/relationships/parent"})
