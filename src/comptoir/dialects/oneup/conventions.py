"""The conventions every OneUp resource follows (seeds/oneup-v1-conventions.txt), written once:
the verbs, JSON parsing, read-only fields, list paging, sorting, comparison filters and bulk
deletion. A resource module only declares its fields, its rendering and its service."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from comptoir.codec import MalformedJson, dump_json, parse_json
from comptoir.domain.errors import DomainError
from comptoir.domain.query import Condition, ListQuery, Op, Order
from comptoir.services.kernel import unit_of_work
from comptoir.wire import BodyTooLarge, Deferred, deferred, read_body

from .errors import MESSAGES, OneUpError, from_domain
from .fields import NUMBER_MAGNITUDE_MAX, TYPE_ERRORS, WireModel
from .security import caller, context_of

T = TypeVar("T")
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
BULK_DELETE_MAX = 50
_IDS = re.compile(r"^[0-9]{1,100}(,[0-9]{1,100})*$")  # int() reads 4300 digits at most
_OPERATORS = {op.value: op for op in (Op.LT, Op.LTE, Op.GT, Op.GTE, Op.EQ, Op.NOT)}
JSON_MEDIA_TYPE = "application/json; charset=UTF-8"


# -- responses ---------------------------------------------------------------------------------

def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dump_json(data), status_code=status, media_type=JSON_MEDIA_TYPE, headers=headers)


def error_response(error: OneUpError) -> Response:
    return json_response(error.body(), error.status, error.headers)


# -- request bodies ----------------------------------------------------------------------------

async def json_body(request: Request) -> Any:
    """The parsed body: code 5 when it is not JSON, too large, or sent as another content type."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise OneUpError(5, f"Content-Type must be application/json, not {media_type}")
    try:
        raw = await read_body(request, context_of(request).settings.json_body_bytes_max)
        return parse_json(raw)
    except BodyTooLarge as error:
        raise OneUpError(5, str(error)) from error
    except MalformedJson as error:
        raise OneUpError(5, f"Malformed JSON: {error}") from error


async def body_of(request: Request, read: Callable[[Request], Awaitable[Any]] = json_body) -> Deferred[Any]:
    """The body, or its refusal kept until the caller is admitted (wire.Deferred)."""
    return await deferred(read(request), OneUpError)


def validate(schema: type[WireModel], body: Any) -> WireModel:
    if not isinstance(body, dict):
        raise OneUpError(5, "The body must be a JSON object")
    try:
        return schema.model_validate(body)
    except ValidationError as error:
        raise _wire_error(error) from error


def _wire_error(error: ValidationError) -> OneUpError:
    details = error.errors(include_url=False)
    reason = "; ".join(f"{_location(d['loc'])}: {d['msg']}" for d in details)
    bad_type = any(d["type"] in TYPE_ERRORS for d in details)
    return OneUpError(5 if bad_type else 3, reason)


def _location(location: tuple) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def core_fields(model: WireModel, *, rename: Mapping[str, str] | None = None,
                refs: Mapping[str, str] | None = None,
                nested: Mapping[str, Callable[[Any], Any]] | None = None,
                skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields the client sent, under their core names. Missing fields are absent (left
    unchanged on edit); a null text becomes empty; a nested {"id": ...} becomes the id."""
    rename, refs, nested = rename or {}, refs or {}, nested or {}
    out: dict[str, Any] = {}
    for name in type(model).model_fields:  # declaration order: an alias declared later wins, every time
        if name not in model.model_fields_set or name in skip:
            continue
        value = getattr(model, name)
        if name in refs:
            out[refs[name]] = value.id if value is not None else None
        elif name in nested:
            out[rename.get(name, name)] = nested[name](value)
        else:
            if value is None and _is_text(model, name):
                value = ""
            out[rename.get(name, name)] = value
    return out


def _is_text(model: WireModel, name: str) -> bool:
    return _mentions_str(type(model).model_fields[name].annotation)


def _mentions_str(annotation: Any) -> bool:
    """Whether a type is str, or an Optional/Annotated wrapping of str."""
    return annotation is str or any(_mentions_str(argument) for argument in get_args(annotation))


# -- read-only fields --------------------------------------------------------------------------

def changed_read_only(sent: Mapping[str, Any], current: Mapping[str, Any], read_only: frozenset[str],
                      prefix: str = "") -> list[str]:
    """The read-only fields (paths such as "address.full_address" or "contacts[].full_name") the
    body tries to change. Sending a read-only field with its current value is allowed."""
    changed: list[str] = []
    for key, value in sent.items():
        path = prefix + key
        before = current.get(key)
        if path in read_only:
            if not _same(value, before):
                changed.append(path)
        elif isinstance(value, dict) and isinstance(before, dict):
            changed += changed_read_only(value, before, read_only, path + ".")
        elif isinstance(value, list) and isinstance(before, list):
            by_id = {element.get("id"): element for element in before if isinstance(element, dict)}
            for element in value:
                if isinstance(element, dict) and element.get("id") in by_id:
                    changed += changed_read_only(element, by_id[element["id"]], read_only, path + "[].")
    return changed


def _same(sent: Any, current: Any) -> bool:
    if sent in (None, "") and current in (None, ""):
        return True
    if isinstance(sent, bool) or isinstance(current, bool):
        return sent is current
    if isinstance(sent, (int, Decimal)) and isinstance(current, (int, Decimal)):
        return Decimal(sent) == Decimal(current)
    return sent == current


# -- lists -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filter:
    """A filterable field: the core attribute it reads and how its query value is parsed."""

    attribute: str
    parse: Callable[[str], Any]


INTEGER_MAX = 2**63 - 1


def as_integer(text: str) -> int:
    if not _is_ascii_integer(text.removeprefix("-")) or abs(int(text)) > INTEGER_MAX:
        raise ValueError(text)
    return int(text)


def as_text(text: str) -> str:
    return text


def as_date(text: str) -> date:
    return date.fromisoformat(text)


def as_number(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or abs(value) >= NUMBER_MAGNITUDE_MAX:
        raise ValueError(text)
    return value


def as_boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def list_query(params: QueryParams, filters: Mapping[str, Filter], sorts: Mapping[str, str]) -> ListQuery:
    """offset/limit paging, `sort=-id,+name`, and `field=op:value` filters (repeat a field to AND
    several comparisons: `date=gte:2020-01-01&date=lt:2020-04-01`). Other parameters are ignored,
    like unknown JSON fields."""
    offset = min(_bounded_integer(params, "offset", 0, 0, None), INTEGER_MAX)  # far past the end: an empty page
    limit = _bounded_integer(params, "limit", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX)
    conditions = []
    for name, spec in filters.items():
        for raw in params.getlist(name):
            operator, _, value = raw.partition(":")
            op = _OPERATORS.get(operator)
            if op is None:
                op, value = Op.EQ, raw
            try:
                conditions.append(Condition(spec.attribute, op, spec.parse(value)))
            except (ValueError, InvalidOperation):
                raise OneUpError(5, f"Filter {name}: {value!r} is not a valid value") from None
    return ListQuery(tuple(conditions), _order(params.get("sort"), sorts), offset, limit)


def _is_ascii_integer(raw: str) -> bool:
    """Digits only, and few enough for int() (Python refuses to read more than 4300)."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 100


def _bounded_integer(params: QueryParams, name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not _is_ascii_integer(raw) or int(raw) < low or (high is not None and int(raw) > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise OneUpError(5, f"{name} must be an integer {bounds}")
    return int(raw)


def _order(raw: str | None, sorts: Mapping[str, str]) -> tuple[Order, ...]:
    if not raw:
        return ()
    order = []
    for term in raw.split(","):
        term = term.strip()  # "+name" arrives as " name" when the + is not percent-encoded
        descending = term.startswith("-")
        name = term.lstrip("+-")
        if name not in sorts:
            raise OneUpError(5, f"Cannot sort by {name!r}; available: {', '.join(sorted(sorts))}")
        order.append(Order(sorts[name], descending))
    return tuple(order)


def page_headers(has_next: bool) -> dict[str, str]:
    value = "true" if has_next else "false"
    return {"X-OneUp-Has-Next-Page": value, "X-MyERP-Has-Next-Page": value}


def parse_ids(raw: str | None) -> list[int]:
    if not raw or not _IDS.match(raw):
        raise OneUpError(5, "ids must be a comma-separated list of integers, e.g. ids=42,12,1337")
    ids = [int(part) for part in raw.split(",")]
    if len(ids) > BULK_DELETE_MAX:
        raise OneUpError(5, f"At most {BULK_DELETE_MAX} ids can be deleted at once; got {len(ids)}")
    return ids


# -- resources ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Resource:
    """One OneUp collection. `schema` None makes it read-only (GET only).

    `rename` maps wire names to core names where they differ, `refs` maps nested {"id": ...}
    references to the core id they carry, `nested` converts list or object fields. Core names in
    errors are shown back under the wire name (`error_names` adds names only services use)."""

    path: str
    service: Any  # get, list and, when writable, create, update, delete
    render: Callable[[Any, Any], dict]  # (row, book) -> the resource's JSON
    schema: type[WireModel] | None = None
    # (rows, book) -> a page of the resource's JSON, when a page reads what its rows need in a few
    # queries for all of them (rather than `render`'s queries per row)
    render_page: Callable[[Sequence[Any], Any], list[dict]] | None = None
    read_only: frozenset[str] = frozenset({"id"})
    rename: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)
    nested: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    error_names: Mapping[str, str] = field(default_factory=dict)
    filters: Mapping[str, Filter] = field(default_factory=dict)
    sorts: Mapping[str, str] = field(default_factory=lambda: {"id": "id"})
    updatable: bool = True
    deletable: bool = True

    def to_core(self, sent: WireModel) -> dict[str, Any]:
        return core_fields(sent, rename=self.rename, refs=self.refs, nested=self.nested, skip=self.read_only)

    @property
    def wire_names(self) -> dict[str, str]:
        names = {core: wire for wire, core in {**self.rename, **self.refs}.items()}
        return {**names, **self.error_names}


def element_id(raw: str) -> int:
    if not _is_ascii_integer(raw) or int(raw) > INTEGER_MAX:
        raise OneUpError(2)
    return int(raw)


def mount(router: APIRouter, resource: Resource) -> None:
    """Add the collection and element routes of a resource to the router."""
    path = f"/{resource.path}"
    tag = resource.path
    names = resource.wire_names

    @router.get(path, name=f"{tag}.list", tags=[tag])
    async def list_elements(request: Request) -> Response:
        query = list_query(request.query_params, resource.filters, resource.sorts)

        def work(book: Any) -> Response:
            rows, has_next = resource.service.list(book, query)
            rendered = resource.render_page(rows, book) if resource.render_page else \
                [resource.render(row, book) for row in rows]
            return json_response(rendered, headers=page_headers(has_next))
        return await reading(request, work, names)

    @router.get(path + "/{element}", name=f"{tag}.get", tags=[tag])
    async def get_element(element: str, request: Request) -> Response:
        row_id = element_id(element)
        return await reading(request, lambda book: json_response(resource.render(resource.service.get(book, row_id),
                                                                                 book)), names)

    if resource.schema is None:
        return

    @router.post(path, name=f"{tag}.create", tags=[tag])
    async def create_element(request: Request) -> Response:
        body = await body_of(request)

        def work(book: Any) -> Response:
            sent = validate(resource.schema, body.value())
            return json_response(resource.render(resource.service.create(book, resource.to_core(sent)), book))
        return await writing(request, work, names)

    if resource.updatable:
        @router.put(path + "/{element}", name=f"{tag}.update", tags=[tag])
        async def update_element(element: str, request: Request) -> Response:
            body = await body_of(request)

            def work(book: Any) -> Response:
                sent = validate(resource.schema, body.value())
                row_id = element_id(element)
                current = resource.render(resource.service.get(book, row_id), book)
                changed = changed_read_only(body.value(), current, resource.read_only)
                if changed:
                    raise OneUpError(3, f"Read-only fields cannot be changed: {', '.join(changed)}")
                row = resource.service.update(book, row_id, resource.to_core(sent))
                return json_response(resource.render(row, book))
            return await writing(request, work, names)

    if not resource.deletable:
        return

    @router.delete(path + "/{element}", name=f"{tag}.delete", tags=[tag])
    async def delete_element(element: str, request: Request) -> Response:
        def work(book: Any) -> Response:
            row_id = element_id(element)
            rendered = resource.render(resource.service.get(book, row_id), book)
            resource.service.delete(book, row_id)
            return json_response(rendered)
        return await writing(request, work, names)

    @router.delete(path, name=f"{tag}.bulk_delete", tags=[tag])
    async def delete_elements(request: Request) -> Response:
        ids = parse_ids(request.query_params.get("ids"))
        return await writing(request, lambda book: json_response(bulk_delete(book, resource, ids)), names)


def bulk_delete(book: Any, resource: Resource, ids: list[int]) -> dict:
    """Delete each id on its own (a savepoint each): one failure does not stop the others."""
    successes: list[dict] = []
    errors: list[dict] = []
    for row_id in ids:
        try:
            with unit_of_work.apart(book):
                rendered = resource.render(resource.service.get(book, row_id), book)
                resource.service.delete(book, row_id)
            successes.append(rendered)
        except DomainError as error:
            errors.append({"id": row_id, **from_domain(error, resource.wire_names).body()})
    return {"success_count": len(successes), "error_count": len(errors), "successes": successes, "errors": errors}


async def reading(request: Request, work: Callable[[Any], T], wire_names: Mapping[str, str] | None = None) -> T:
    """`work(book)` in a unit of work that only reads, for the request's caller (checked in it); a
    domain error becomes a OneUp error naming fields as the client did."""
    try:
        return await unit_of_work.reading(context_of(request).database, caller(request), work)
    except DomainError as error:
        raise from_domain(error, wire_names) from error


async def writing(request: Request, work: Callable[[Any], T], wire_names: Mapping[str, str] | None = None) -> T:
    """`reading` for a unit of work that writes (run again after a deadlock)."""
    try:
        return await unit_of_work.writing(context_of(request).database, caller(request), work)
    except DomainError as error:
        raise from_domain(error, wire_names) from error


__all__ = ["MESSAGES", "Filter", "Resource", "core_fields", "mount"]
