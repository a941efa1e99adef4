"""Numbering series (services/numbering.py): a prefix, what it numbers, and a counter."""

from __future__ import annotations

from typing import Any

from comptoir.domain.query import Condition, Op
from comptoir.services.documents import numbering

from .conventions import Calls, Resource, Sent, View, flag

POINTERS = {"prefix": "/data/attributes/prefix", "applicable_to": "/data/attributes/applicable_to",
            "applies_to": "/data/attributes/applies_to"}


def parse(data: dict, creating: bool) -> dict:
    sent = Sent(data)
    sent.text("prefix", length_max=numbering.PREFIX_LENGTH_MAX)
    # S1 names what a series numbers in the singular ("invoice"); stored in the plural.
    applicable = sent.raw("applicable_to")
    if isinstance(applicable, str) and applicable + "s" in numbering.APPLICABLE_TO:
        sent.attributes["applicable_to"] = applicable + "s"
    sent.choice("applicable_to", numbering.APPLICABLE_TO)
    sent.choice("applies_to", numbering.APPLIES_TO)
    sent.boolean("default", "is_default")
    sent.boolean("amending")
    if creating:
        sent.require("prefix")
    sent.raise_if_any()
    return sent.fields


def render(series: Any, view: View) -> dict:
    return {"id": str(series.id), "type": "numbering_series",
            "attributes": {"prefix": series.prefix, "default": series.is_default, "amending": series.amending,
                           "deletable": not numbering.in_use(view.book, series),
                           "applicable_to": series.applicable_to, "is_valid": True,
                           "applies_to": series.applies_to}}


RESOURCE = Resource(
    path="numbering_series",
    service=Calls(get=numbering.get, list=numbering.list_series, count=numbering.count, create=numbering.create,
                  update=numbering.update_series, delete=numbering.delete), render=render, parse=parse, pointers=POINTERS,
    filters={"prefix": lambda value: (Condition("prefix", Op.CONTAINS, str(value)),),
             "applicable_to": lambda value: (Condition("applicable_to", Op.EQ,
                                                       str(value) if str(value).endswith("s") else f"{value}s"),),
             "amending": lambda value: (Condition("amending", Op.EQ, flag(value)),),
             "applies_to": lambda value: (Condition("applies_to", Op.EQ, str(value)),)},
    sorts={"prefix": "prefix"},
)
