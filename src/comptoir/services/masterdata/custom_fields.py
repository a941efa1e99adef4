"""Custom fields: definitions an organization makes for one entity type (customers, invoices, credit
notes, payments), the options of its SELECT and MULTI_SELECT fields, and the values entities carry.

Values live in custom_field_values only, one atomic value per row (domain/custom_fields.py says in
what text), so lists filter on them in SQL. Every function is generic in the entity type: an entity is
named by its type and its integer id (a party's id for CUSTOMER, a document's for INVOICE and
CREDIT_NOTE, a payment's for PAYMENT).

A new select label creates its option exactly once, even when concurrent requests create the same
one: the unique index on (org_id, field_id, label) decides the race, the loser's insert fails inside
its savepoint and it takes the winner's option (the pattern of services/imports.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from comptoir.domain import custom_fields as rules
from comptoir.domain.custom_fields import DATA_TYPES, ENTITY_TYPES, SELECTS, Refused
from comptoir.domain.errors import DomainError, ErrorKind, NotFound, fail
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.validation import Checks
from comptoir.storage import masterdata
from comptoir.storage.book import Book
from comptoir.storage.tables import CustomField, CustomFieldOption, CustomFieldValue

ATTEMPTS_MAX = 3
FILTER_PREFIX = "customFieldData_"
NAME_LENGTH_MAX = 255
EXTERNAL_ID_LENGTH_MAX = 255
ONLY_SELECTS = "only a SELECT or MULTI_SELECT field has options"

__all__ = ["DATA_TYPES", "ENTITY_TYPES", "clear_values", "define", "delete", "get", "list_fields",
           "matching_condition", "options_of", "set_values", "values_of"]


# -- definitions -------------------------------------------------------------------------------

def define(book: Book, fields: Mapping[str, Any]) -> tuple[CustomField, bool]:
    """Create a field, or update the one with the same external id; the field and whether it was
    created. `fields`: name, entity_type (CUSTOMER when absent), data_type, external_id, and options
    (labels of a SELECT or MULTI_SELECT, created if missing; options are never removed). An existing
    field keeps its entity type and data type: sending others is a conflict."""
    checks = Checks()
    name, external_id = fields.get("name"), fields.get("external_id")
    entity_type, data_type = fields.get("entity_type"), fields.get("data_type")
    for key, value, maximum in (("name", name, NAME_LENGTH_MAX), ("external_id", external_id,
                                                                   EXTERNAL_ID_LENGTH_MAX)):
        if value is not None and (not isinstance(value, str) or len(value) > maximum):
            checks.add(ErrorKind.INVALID, key, f"a text of at most {maximum} characters")
    if external_id == "":
        checks.add(ErrorKind.INVALID, "external_id", "may not be empty")
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        checks.add(ErrorKind.INVALID, "entity_type", f"one of {', '.join(ENTITY_TYPES)}")
    if data_type is not None and data_type not in DATA_TYPES:
        checks.add(ErrorKind.INVALID, "data_type", f"one of {', '.join(DATA_TYPES)}")
    labels: list[str] = []
    for index, label in enumerate(fields.get("options") or []):
        try:
            labels.extend(rules.atoms("SELECT", label))
        except Refused as refused:
            checks.add(ErrorKind.INVALID, f"options[{index}]", str(refused))
    labels = list(dict.fromkeys(labels))
    checks.raise_if_any()

    def create() -> CustomField:
        creating = Checks()
        creating.required(name, "name")
        creating.required(data_type, "data_type")
        if labels and data_type not in SELECTS:
            creating.add(ErrorKind.MUST_BE_EMPTY, "options", ONLY_SELECTS)
        creating.raise_if_any()
        field = book.custom_fields.add(CustomField(name=name, entity_type=entity_type or "CUSTOMER",
                                                   data_type=data_type, external_id=external_id))
        _options(book, field, labels)
        return field

    def update(field: CustomField) -> CustomField:
        changing = Checks()
        for key, sent, kept in (("entity_type", entity_type, field.entity_type),
                                ("data_type", data_type, field.data_type)):
            if sent is not None and sent != kept:
                changing.add(ErrorKind.CONFLICT, key, f"the field {field.external_id} is a {kept} field; "
                                                      "it cannot change (delete it and define it again)")
        if labels and field.data_type not in SELECTS:
            changing.add(ErrorKind.MUST_BE_EMPTY, "options", ONLY_SELECTS)
        if name is not None and not name.strip():
            changing.add(ErrorKind.MISSING, "name", "is mandatory")
        changing.raise_if_any()
        if name is not None:
            field.name = name
        book.flush()
        _options(book, field, labels)
        return field

    if external_id is None:
        return create(), True
    return upsert(book, find=lambda: book.custom_fields.find(external_id=external_id), create=create,
                  update=update)


def list_fields(book: Book, entity_type: str | None = None, offset: int = 0,
                limit: int = 100) -> tuple[Sequence[CustomField], int]:
    """One page of the organization's fields, oldest first, and how many there are in all."""
    if entity_type is not None and entity_type not in ENTITY_TYPES:
        raise fail(ErrorKind.INVALID, "entityType", f"one of {', '.join(ENTITY_TYPES)}")
    conditions = (Condition("entity_type", Op.EQ, entity_type),) if entity_type else ()
    rows, _ = book.custom_fields.list(ListQuery(conditions=conditions, offset=offset, limit=limit))
    return rows, book.custom_fields.count_matching(conditions)


def get(book: Book, *, uuid: str | None = None, external_id: str | None = None) -> CustomField:
    """A field by its UUID or its external id."""
    field = book.custom_fields.find(uuid=uuid) if uuid is not None else \
        book.custom_fields.find(external_id=external_id) if external_id is not None else None
    if field is None:
        raise NotFound("custom field", uuid or external_id)
    return field


def delete(book: Book, *, uuid: str | None = None, external_id: str | None = None) -> None:
    """Delete a field with its options and every value entities carry for it."""
    field = get(book, uuid=uuid, external_id=external_id)
    book.custom_field_values.delete_where(CustomFieldValue.field_id == field.id)
    book.custom_field_options.delete_where(CustomFieldOption.field_id == field.id)
    book.custom_fields.remove(field)


def options_of(book: Book, field_ids: Iterable[int]) -> dict[int, list[CustomFieldOption]]:
    """The options of each field (by field id), in the order they were created: one query."""
    ids = set(field_ids)
    found: dict[int, list[CustomFieldOption]] = {field_id: [] for field_id in ids}
    if ids:
        for option in book.custom_field_options.all(CustomFieldOption.field_id.in_(ids)):
            found[option.field_id].append(option)
    return found


def _options(book: Book, field: CustomField, labels: Sequence[str]) -> None:
    """The options with these labels (case-sensitive), each created if it is missing, exactly once.
    Missing ones are created in sorted order (and callers go through fields by id), so that two
    requests creating the same options never wait on each other in a cycle."""
    if not labels:
        return
    found = {o.label for o in book.custom_field_options.all(CustomFieldOption.field_id == field.id,
                                                            CustomFieldOption.label.in_(set(labels)))}
    for label in sorted(set(labels) - found):
        _option(book, field, label)


def _option(book: Book, field: CustomField, label: str) -> CustomFieldOption:
    for _ in range(ATTEMPTS_MAX):
        existing = book.custom_field_options.find(field_id=field.id, label=label)
        if existing is not None:
            return existing
        try:
            with book.link.savepoint():
                return book.custom_field_options.add(CustomFieldOption(field_id=field.id, label=label))
        except DomainError as error:  # another request created it first: take that one
            if not any(p.kind == ErrorKind.DUPLICATE and p.field == "label" for p in error.problems):
                raise
    raise RuntimeError(f"no option {label!r} could be created or found after {ATTEMPTS_MAX} attempts")


# -- values ------------------------------------------------------------------------------------

def set_values(book: Book, entity_type: str, entity_id: int, sent: Any) -> None:
    """Set the values of the fields sent on one entity. `sent` is the wire list
    `[{"id": <field uuid>, "externalId"?: <field external id>, "value": ...}]`: a field is found by id,
    else by externalId; each field sent has its values replaced (null or [] clears it), the others
    are untouched. A new select label creates its option. Every item is checked before anything is
    written; problems are reported as `customFields[<index>]`.

    Concurrent writes to the same entity must be serialized by the caller (lock the entity's row,
    e.g. `book.parties.lock(id)`), as they are for every other change of that entity."""
    if sent is None:
        return
    checks = Checks()
    if not isinstance(sent, list):
        raise fail(ErrorKind.INVALID, "customFields", "a list of {id, value}")
    fields = _fields_named(book, [item for item in sent if isinstance(item, Mapping)])
    chosen: list[tuple[CustomField, list[str]]] = []
    for index, item in enumerate(sent):
        where = f"customFields[{index}]"
        if not isinstance(item, Mapping):
            checks.add(ErrorKind.INVALID, where, "an object {id, externalId, value}")
            continue
        field = _field_of(fields, item)
        if field is None:
            checks.add(ErrorKind.INVALID, where, f"no custom field {_named(item)}")
            continue
        if field.entity_type != entity_type:
            checks.add(ErrorKind.INVALID, where, f"the custom field {_named(item)} is a field of "
                                                 f"{field.entity_type}, not of {entity_type}")
            continue
        if any(field is other for other, _ in chosen):
            checks.add(ErrorKind.INVALID, where, f"the custom field {_named(item)} is sent twice")
            continue
        if "value" not in item:
            checks.add(ErrorKind.MISSING, where + ".value", "is mandatory (null clears the field)")
            continue
        try:
            chosen.append((field, rules.atoms(field.data_type, item["value"])))
        except Refused as refused:
            checks.add(ErrorKind.INVALID, where + ".value", f"{field.name} ({field.data_type}): {refused}")
    checks.raise_if_any()
    if not chosen:
        return

    current: dict[int, list[str]] = defaultdict(list)
    for row in book.custom_field_values.all(CustomFieldValue.entity_id == entity_id,
                                            CustomFieldValue.field_id.in_([field.id for field, _ in chosen])):
        current[row.field_id].append(row.value)
    changed = [(field, atoms) for field, atoms in chosen if current[field.id] != atoms]
    for field, atoms in sorted(changed, key=lambda pair: pair[0].id):
        if field.data_type in SELECTS:
            _options(book, field, atoms)
    for field, atoms in changed:
        book.custom_field_values.delete_where(CustomFieldValue.field_id == field.id,
                                              CustomFieldValue.entity_id == entity_id)
        book.session.add_all([CustomFieldValue(org_id=book.org_id, field_id=field.id, entity_id=entity_id,
                                               value=atom) for atom in atoms])
    book.flush()


def values_of(book: Book, entity_type: str, entity_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Per entity id, the wire list `[{"id", "externalId", "name", "value"}]` of the fields that have
    a value on it (in the order the fields were defined; [] when none), values typed back. One
    statement for a whole page of entities."""
    ids = list(dict.fromkeys(entity_ids))
    shown: dict[int, list[dict]] = {entity_id: [] for entity_id in ids}
    stored: dict[int, dict[int, list[str]]] = defaultdict(dict)  # the values, by entity and field
    fields: dict[int, tuple] = {}  # (uuid, external id, name, data type) by field id
    for entity_id, field_id, *field, value in masterdata.custom_values(book.link, book.org_id, entity_type, ids):
        fields[field_id] = field
        stored[entity_id].setdefault(field_id, []).append(value)
    for entity_id, by_field in stored.items():
        shown[entity_id] = [_shown(*fields[field_id], values) for field_id, values in by_field.items()]
    return shown


def _shown(uuid: str, external_id: str | None, name: str, data_type: str, values: list[str]) -> dict:
    return {"id": uuid, "externalId": external_id, "name": name, "value": rules.typed(data_type, values)}


def clear_values(book: Book, entity_type: str, entity_ids: Iterable[int]) -> None:
    """Remove every custom field value of these entities (when they are deleted)."""
    ids = list(entity_ids)
    if ids:
        of_type = book.custom_fields.subquery(CustomField.id, CustomField.entity_type == entity_type)
        book.custom_field_values.delete_where(CustomFieldValue.entity_id.in_(ids),
                                              CustomFieldValue.field_id.in_(of_type))


# -- filters -----------------------------------------------------------------------------------

def matching_condition(book: Book, entity_type: str,
                       query_params: Mapping[str, str] | Iterable[tuple[str, str]]) -> Condition | None:
    """The condition on `id` that selects the entities matching every `customFieldData_<fieldId>.eq=
    <value>` parameter (fieldId: the field's UUID, or `external:<externalId>`), or None when there is
    none. SELECT matches by label, MULTI_SELECT by any of its labels, STRING exactly, BOOLEAN true or
    false, NUMBER by numeric equality (1.50 = 1.5), DATE by day. Other parameters are ignored. The
    condition is a subquery: the database does the filtering."""
    pairs = query_params.multi_items() if hasattr(query_params, "multi_items") else \
        query_params.items() if isinstance(query_params, Mapping) else query_params
    wanted = [(name.removeprefix(FILTER_PREFIX), text) for name, text in pairs
              if name.startswith(FILTER_PREFIX)]
    if not wanted:
        return None
    checks = Checks()
    parsed: list[tuple[str, str, str, str]] = []  # (parameter, key, ref, text)
    for rest, text in wanted:
        ref, _, operator = rest.rpartition(".")
        parameter = FILTER_PREFIX + rest
        if not ref or operator != "eq":
            checks.add(ErrorKind.INVALID, parameter, f"the filter is {FILTER_PREFIX}<fieldId>.eq=<value>")
            continue
        key, value = ("external_id", ref.removeprefix("external:")) if ref.startswith("external:") \
            else ("uuid", ref)
        parsed.append((parameter, key, value, text))
    fields = _fields_named(book, [{"id" if key == "uuid" else "externalId": value}
                                  for _, key, value, _ in parsed])
    matches: list[tuple[CustomField, str]] = []
    for parameter, key, value, text in parsed:
        field = fields.get((key, value))
        if field is None:
            checks.add(ErrorKind.INVALID, parameter, f"no custom field {value}")
        elif field.entity_type != entity_type:
            checks.add(ErrorKind.INVALID, parameter, f"the custom field {value} is a field of "
                                                     f"{field.entity_type}, not of {entity_type}")
        else:
            try:
                matches.append((field, rules.filter_atom(field.data_type, text)))
            except Refused as refused:
                checks.add(ErrorKind.INVALID, parameter, f"{field.name} ({field.data_type}): {refused}")
    checks.raise_if_any()
    entities = None
    for field, atom in matches:
        matching = book.custom_field_values.subquery(CustomFieldValue.entity_id,
                                                     CustomFieldValue.field_id == field.id,
                                                     CustomFieldValue.value == atom)
        entities = matching if entities is None else entities.where(CustomFieldValue.entity_id.in_(matching))
    return Condition("id", Op.IN, entities)


# -- helpers -----------------------------------------------------------------------------------

def _fields_named(book: Book, items: Sequence[Mapping[str, Any]]) -> dict[tuple[str, Any], CustomField]:
    """The organization's fields named by the items' `id` (UUID) or `externalId`, keyed by
    ("uuid", id) and ("external_id", externalId): one query."""
    uuids = {item["id"] for item in items if isinstance(item.get("id"), str)}
    external_ids = {item["externalId"] for item in items if isinstance(item.get("externalId"), str)}
    if not uuids and not external_ids:
        return {}
    found: dict[tuple[str, Any], CustomField] = {}
    named = CustomField.uuid.in_(uuids) | CustomField.external_id.in_(external_ids)
    for field in book.custom_fields.all(named):
        found[("uuid", field.uuid)] = field
        if field.external_id is not None:
            found[("external_id", field.external_id)] = field
    return found


def _field_of(fields: Mapping[tuple[str, Any], CustomField], item: Mapping[str, Any]) -> CustomField | None:
    """The field an item names: by its id, else by its externalId."""
    ref, external_id = item.get("id"), item.get("externalId")
    return (fields.get(("uuid", ref)) if isinstance(ref, str) else None) or \
        (fields.get(("external_id", external_id)) if isinstance(external_id, str) else None)


def _named(item: Mapping[str, Any]) -> str:
    parts = [f"id {item['id']}" if item.get("id") is not None else "",
             f"externalId {item['externalId']}" if item.get("externalId") is not None else ""]
    return " / ".join(part for part in parts if part) or "(neither id nor externalId sent)"
