"""Items (services and products) and the other records of the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from comptoir.domain import reference
from comptoir.domain.errors import ErrorKind
from comptoir.services.kernel.codes import next_code
from comptoir.services.kernel.records import ReadOnlyRecords, Records
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.storage.book import Book
from comptoir.storage.tables import Item, ItemFamily

SERVICE, PRODUCT = 1, 2
ITEM_FIELDS = ("name", "unit_id", "sales_price", "item_number", "description", "family_id", "private_note")
PRODUCT_FIELDS = ("purchase_price", "net_weight", "width", "length", "height", "dimension_unit_id")

ITEM_FAMILIES = Records("item_families", model=ItemFamily, fields=("name", "code"), required=("name",),
                        code_key="item_family", code_attribute="code")


@dataclass(frozen=True)
class Items(ReadOnlyRecords):
    def create(self, book: Book, fields: Mapping[str, Any]) -> Item:
        item = Item(type=fields.get("type"))
        self._write(book, item, fields)
        return book.items.add(item)

    def update(self, book: Book, item_id: int, fields: Mapping[str, Any]) -> Item:
        item = self.get(book, item_id)
        self._write(book, item, fields)
        book.flush()
        return item

    def delete(self, book: Book, item_id: int) -> None:
        item = self.get(book, item_id)
        ensure_unreferenced(book, Item, item.id, "item")
        book.items.remove(item)

    def _write(self, book: Book, item: Item, fields: Mapping[str, Any]) -> None:
        with book.session.no_autoflush:  # nothing reaches the database before every check has passed
            self._check_and_apply(book, item, fields)

    def _check_and_apply(self, book: Book, item: Item, fields: Mapping[str, Any]) -> None:
        checks = Checks()
        if "type" in fields:
            item.type = fields["type"]
        if item.type not in (SERVICE, PRODUCT):
            checks.add(ErrorKind.MISSING, "type", "is mandatory: 1 (service) or 2 (product)")
        checks.reference(fields, "unit_id", book.units)
        checks.reference(fields, "family_id", book.item_families)
        self._check_dimension_unit(book, fields, checks)
        if item.type == SERVICE:
            for name in PRODUCT_FIELDS:
                if fields.get(name):
                    checks.add(ErrorKind.MUST_BE_EMPTY, name, "applies to products only")
        apply(item, fields, ITEM_FIELDS + (PRODUCT_FIELDS if item.type == PRODUCT else ()))
        checks.required(item.name, "name")
        checks.raise_if_any()
        self._fill_defaults(book, item)

    def _check_dimension_unit(self, book: Book, fields: Mapping[str, Any], checks: Checks) -> None:
        unit_id = fields.get("dimension_unit_id")
        if unit_id is None:
            return
        unit = book.units.get(unit_id)
        if unit is None or unit.type != reference.UNIT_DIMENSION:
            checks.add(ErrorKind.INVALID, "dimension_unit_id", f"no dimension unit with id {unit_id}")

    def _fill_defaults(self, book: Book, item: Item) -> None:
        if item.unit_id is None:
            name = reference.DEFAULT_PRODUCT_UNIT if item.type == PRODUCT else reference.DEFAULT_SERVICE_UNIT
            item.unit_id = book.units.find(name=name).id
        if item.family_id is None:
            family = book.item_families.find(name=reference.DEFAULT_ITEM_FAMILY) or ITEM_FAMILIES.create(
                book, {"name": reference.DEFAULT_ITEM_FAMILY})
            item.family_id = family.id
        if item.type == PRODUCT and item.dimension_unit_id is None:
            item.dimension_unit_id = book.units.find(name=reference.DEFAULT_DIMENSION_UNIT).id
        for name in ("sales_price", "purchase_price", "net_weight", "width", "length", "height"):
            if getattr(item, name) is None:
                setattr(item, name, Decimal(0))
        if not item.item_number:
            item.item_number = next_code(book, "item", book.items, "item_number")


ITEMS = Items("items")
