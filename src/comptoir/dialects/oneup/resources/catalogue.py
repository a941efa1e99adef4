"""Products and services (items) and their families."""

from __future__ import annotations

from typing import Any

from comptoir.services.masterdata.catalogue import ITEM_FAMILIES, ITEMS, PRODUCT

from ..conventions import Filter, Resource, as_number
from ..fields import Choice, Integer, Number, Text, WireModel
from .common import TIMESTAMPS, id_filter, integer_filter, number, stamp_filters, stamps, text_filter

PRODUCT_ONLY = ("purchase_price", "net_weight", "width", "length", "height", "dimension_unit_id")


class ItemIn(WireModel):
    id: Integer | None = None
    type: Choice(1, 2) | None = None
    name: Text(255) | None = None
    unit_id: Integer | None = None
    sales_price: Number | None = None
    item_number: Text(64) | None = None
    description: str | None = None
    family_id: Integer | None = None
    private_note: str | None = None
    purchase_price: Number | None = None
    net_weight: Number | None = None
    width: Number | None = None
    length: Number | None = None
    height: Number | None = None
    dimension_unit_id: Integer | None = None
    created_at: str | None = None
    updated_at: str | None = None


ITEM_READ_ONLY = frozenset({"id", *TIMESTAMPS})


def render_item(item: Any, _book: Any = None) -> dict:
    rendered = {
        "id": item.id,
        "type": item.type,
        "name": item.name,
        "unit_id": item.unit_id,
        "sales_price": number(item.sales_price),
        "item_number": item.item_number,
        "description": item.description,
        "family_id": item.family_id,
        "private_note": item.private_note,
    }
    if item.type == PRODUCT:
        rendered.update({name: number(getattr(item, name)) for name in PRODUCT_ONLY[:-1]})
        rendered["dimension_unit_id"] = item.dimension_unit_id
    return {**rendered, **stamps(item)}


ITEMS_RESOURCE = Resource(
    path="items", service=ITEMS, render=render_item, schema=ItemIn,
    read_only=ITEM_READ_ONLY,
    filters={**id_filter(), **stamp_filters(), "type": integer_filter("type"), "name": text_filter("name"),
             "item_number": text_filter("item_number"), "family_id": integer_filter("family_id"),
             "unit_id": integer_filter("unit_id"), "sales_price": Filter("sales_price", as_number)},
    sorts={"id": "id", "name": "name", "item_number": "item_number", "sales_price": "sales_price",
           "type": "type", "created_at": "created_at", "updated_at": "updated_at"},
)


class ItemFamilyIn(WireModel):
    id: Integer | None = None
    name: Text(64) | None = None
    code: Text(64) | None = None


def render_item_family(family: Any, _book: Any = None) -> dict:
    return {"id": family.id, "name": family.name, "code": family.code}


ITEM_FAMILIES_RESOURCE = Resource(
    path="item_families", service=ITEM_FAMILIES, render=render_item_family, schema=ItemFamilyIn,
    filters={**id_filter(), "name": text_filter("name"), "code": text_filter("code")},
    sorts={"id": "id", "name": "name", "code": "code"},
)
