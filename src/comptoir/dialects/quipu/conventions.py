"""The conventions every Quipu resource follows (seeds/quipu-v1-reference-intro.md, specs/quipu.md
§2, §5, §7, §10), written once: both path shapes, `//` and a trailing `/` tolerated, the Accept and
Content-Type headers, JSON:API bodies read attribute by attribute (every problem reported at once,
under its JSON pointer), `filter[...]`, `sort`, `page[number]`/`page[size]` with
`meta.pagination_info` on every list, `include=` into `included` only when asked, PUT as PATCH,
201 on create and 204 on delete. A resource module declares its parsing, rendering and service."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from comptoir.codec import MalformedJson, dump_json, parse_json
from comptoir.domain.errors import DomainError
from comptoir.domain.money import plain
from comptoir.domain.query import Condition, ListQuery, Order
from comptoir.services.kernel import unit_of_work
from comptoir.wire import BodyTooLarge, Deferred, deferred, read_body

from .errors import BAD_REQUEST, MEDIA_TYPE, Detail, QuipuError, from_domain
from .security import caller, context_of, rate_headers

T = TypeVar("T")
PAGE_SIZE_DEFAULT = 25
PAGE_SIZE_MAX = 100
PAGE_NUMBER_MAX = (2**63 - 1) // PAGE_SIZE_MAX  # the offset of its first row still fits a 64-bit integer
ID_MAX = 2**63 - 1
TEXT_LENGTH_MAX = 255
MISSING: Any = object()  # an attribute the client did not send (left unchanged on update)
NUL = "\x00"  # PostgreSQL stores none in a text (wire.parse_json refuses them in bodies)
_FILTER = re.compile(r"^filter\[([^\[\]]+)\](?:\[([^\[\]]+)\])?$")
_DIGITS = re.compile(r"^[0-9]{1,100}$")  # int() reads 4300 digits at most
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- paths -------------------------------------------------------------------------------------

class TolerantPaths:
    """ASGI middleware: `//contacts` and `/contacts/` reach `/contacts`. Clients build URLs by joining
    a base that ends in a slash with a path that starts with one (specs/quipu.md §1)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = re.sub(r"/{2,}", "/", scope["path"])
            root = scope.get("root_path", "")
            if len(path) > len(root) + 1:
                path = path.rstrip("/") or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


# Every route is served as the legacy clients call it and under the owner's slug (the 2026 spec);
# the unscoped ones are added first, so that /invoices/42 is never read as the slug "invoices".
PATH_SHAPES = ("", "/{owner_slug}")


# -- responses ---------------------------------------------------------------------------------

def jsonapi_response(request: Request, body: Any, status: int = 200) -> Response:
    return Response(dump_json(body), status_code=status, media_type=MEDIA_TYPE, headers=rate_headers(request))


def no_content(request: Request) -> Response:
    return Response(status_code=204, headers=rate_headers(request))


def money(value: Decimal | None) -> str | None:
    """An amount as Quipu writes it: a string with at least one decimal ("2333.0", "489.93")."""
    if value is None:
        return None
    text = str(plain(Decimal(value)) + 0)  # + 0 turns -0 into 0
    return text if "." in text else text + ".0"


def linkage(type_: str, row_id: int | None) -> dict | None:
    """A to-one relationship, or None when it names nothing: the spec's RelationshipLinkage has no
    `{"data": null}`, so an empty relationship is left out (`relationships`)."""
    return {"data": {"id": str(row_id), "type": type_}} if row_id is not None else None


def relationships(**found: dict | None) -> dict:
    """The relationships that name something (to-many ones are always there, maybe empty)."""
    return {name: value for name, value in found.items() if value is not None}


def linkages(type_: str, row_ids: list[int]) -> dict:
    return {"data": [{"id": str(row_id), "type": type_} for row_id in row_ids]}


def iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- requests ----------------------------------------------------------------------------------

async def jsonapi_body(request: Request) -> dict:
    """The `data` object of a JSON:API body: 400 when the body is not JSON, too large, sent as
    another content type, or has no `data` object."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in (MEDIA_TYPE, "application/json") and not media_type.endswith("+json"):
        raise QuipuError(400, f"{BAD_REQUEST}: Content-Type must be {MEDIA_TYPE}", "")
    try:
        body = parse_json(await read_body(request, context_of(request).settings.json_body_bytes_max))
    except (BodyTooLarge, MalformedJson) as error:
        raise QuipuError(400, f"{BAD_REQUEST}: {error}", "") from error
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise QuipuError(400, f"{BAD_REQUEST}: the body needs a data object", "/data")
    return body["data"]


def row_id(raw: Any) -> int | None:
    """An id as clients send it, a string or a number (specs/quipu.md §2); None if it names no row."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= ID_MAX else None
    if isinstance(raw, str) and _DIGITS.match(raw) and 0 < int(raw) <= ID_MAX:
        return int(raw)
    return None


def element_id(raw: str) -> int:
    found = row_id(raw)
    if found is None:
        raise QuipuError(404, "Record not found")
    return found


class Sent:
    """The attributes and relationships of one resource object a client sent. Each reader copies a
    value the client sent into `fields` under its core name, or records a problem under the value's
    JSON pointer; `raise_if_any` then reports every problem at once (422)."""

    def __init__(self, data: Mapping[str, Any], pointer: str = "/data") -> None:
        self.pointer = pointer
        self.fields: dict[str, Any] = {}
        self.problems: list[Detail] = []
        self.attributes = self._object(data, "attributes")
        self.relationships = self._object(data, "relationships")

    def _object(self, data: Mapping[str, Any], name: str) -> dict:
        value = data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(f"{self.pointer}/{name}", "must be an object")
            return {}
        return value

    def problem(self, pointer: str, detail: str) -> None:
        self.problems.append(Detail(detail[:1].upper() + detail[1:] + ".", pointer))

    def at(self, name: str) -> str:
        return f"{self.pointer}/attributes/{name}"

    def has(self, name: str) -> bool:
        return name in self.attributes

    def raw(self, name: str) -> Any:
        return self.attributes.get(name, MISSING)

    def _read(self, name: str, core: str | None, parse: Callable[[Any], Any], expected: str) -> Any:
        value = self.attributes.get(name, MISSING)
        if value is MISSING:
            return MISSING
        if value is not None:
            try:
                value = parse(value)
            except (ValueError, TypeError, InvalidOperation):
                self.problem(self.at(name), expected)
                return MISSING
        self.fields[core or name] = value
        return value

    def text(self, name: str, core: str | None = None, length_max: int = TEXT_LENGTH_MAX) -> Any:
        def parse(value: Any) -> str:
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                value = str(value)  # client numbers sent as numbers (client_number: 6)
            if not isinstance(value, str) or len(value) > length_max:
                raise TypeError(value)
            return value
        return self._read(name, core, parse, f"is not a text of at most {length_max} characters")

    def decimal(self, name: str, core: str | None = None, low: Decimal | None = None,
                high: Decimal | None = None) -> Any:
        def parse(value: Any) -> Decimal:
            if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
                raise TypeError(value)
            number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
            if not number.is_finite() or abs(number) >= Decimal(10) ** 12 \
                    or (low is not None and number < low) or (high is not None and number > high):
                raise ValueError
            return number
        bounds = f" from {low} to {high}" if low is not None and high is not None else ""
        return self._read(name, core, parse, f"is not a number{bounds}")

    def date(self, name: str, core: str | None = None) -> Any:
        def parse(value: Any) -> date:
            if not isinstance(value, str) or not _DATE.match(value):
                raise TypeError(value)
            return date.fromisoformat(value)
        return self._read(name, core, parse, "is not a date (YYYY-MM-DD)")

    def boolean(self, name: str, core: str | None = None) -> Any:
        def parse(value: Any) -> bool:
            if not isinstance(value, bool):
                raise TypeError(value)
            return value
        return self._read(name, core, parse, "is not true or false")

    def choice(self, name: str, options: tuple[str, ...], core: str | None = None) -> Any:
        def parse(value: Any) -> str:
            if value not in options:
                raise ValueError
            return value
        return self._read(name, core, parse, f"is not one of {', '.join(options)}")

    def to_one(self, name: str, core: str | None = None) -> Any:
        """The id of a to-one relationship (`{"data": {"id": ..., "type": ...}}` or `{"data": null}`)."""
        if name not in self.relationships:
            return MISSING
        relationship = self.relationships[name]
        data = relationship.get("data", MISSING) if isinstance(relationship, dict) else MISSING
        found = row_id(data.get("id")) if isinstance(data, dict) else None
        if data is not None and found is None:
            self.problem(f"{self.pointer}/relationships/{name}", "is not a reference to a record")
            return MISSING
        self.fields[core or name] = found
        return found

    def to_many(self, name: str) -> Any:
        """The objects of a to-many relationship as sent (items are written inline), or MISSING."""
        if name not in self.relationships:
            return MISSING
        relationship = self.relationships[name]
        data = relationship.get("data") if isinstance(relationship, dict) else None
        if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
            self.problem(f"{self.pointer}/relationships/{name}", "is not a list of resource objects")
            return MISSING
        return data

    def require(self, name: str, core: str | None = None, *, relationship: bool = False) -> None:
        value = self.fields.get(core or name)
        if value is None or (isinstance(value, str) and not value.strip()):
            where = f"{self.pointer}/relationships/{name}" if relationship else self.at(name)
            if not any(problem.pointer == where for problem in self.problems):
                self.problem(where, "can't be blank")

    def raise_if_any(self) -> None:
        if self.problems:
            raise QuipuError(422, self.problems[0].detail, details=self.problems)

    def core_fields(self) -> dict[str, Any]:
        """The fields read, under their core names; those read as `quipu.<name>` (attributes the core
        has no column for) gathered under extra["quipu"]; other dotted names are the caller's."""
        core = {name: value for name, value in self.fields.items() if "." not in name}
        kept = {name[6:]: value for name, value in self.fields.items() if name.startswith("quipu.")}
        if kept:
            core["extra"] = {"quipu": kept}
        return core


# -- lists -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    number: int
    size: int

    def query(self, conditions: tuple[Condition, ...], order: tuple[Order, ...]) -> ListQuery:
        return ListQuery(conditions, order, (self.number - 1) * self.size, self.size)

    def meta(self, total: int) -> dict:
        """`meta.pagination_info`, on every list; an empty list still has one page."""
        return {"pagination_info": {"total_pages": max(1, math.ceil(total / self.size)),
                                    "current_page": self.number, "total_results": total}}


def page_of(request: Request) -> Page:
    return Page(_page_parameter(request, "page[number]", 1, PAGE_NUMBER_MAX),
                _page_parameter(request, "page[size]", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX))


def _page_parameter(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not 1 <= int(raw) <= high:
        raise QuipuError(400, f"{BAD_REQUEST}: {name} must be an integer from 1 to {high}")
    return int(raw)


def filters_of(request: Request) -> dict[str, Any]:
    """`filter[name]=value` as {name: value}; nested `filter[period][from]=...` as {name: {sub: value}}."""
    found: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        match = _FILTER.match(key)
        if match is None:
            continue
        name, sub = match.groups()
        if sub is None:
            found[name] = value
        elif isinstance(found.setdefault(name, {}), dict):
            found[name][sub] = value
    return found


# A filter turns the value sent into conditions; ValueError makes it a 400.
FilterFunction = Callable[[Any], tuple[Condition, ...]]


def list_conditions(request: Request, filters: Mapping[str, FilterFunction]) -> tuple[Condition, ...]:
    """The conditions of the filters this resource knows; unknown filters are ignored (clients send
    `filter[issued_at_gteq]`, specs/quipu.md §5)."""
    conditions: list[Condition] = []
    for name, value in filters_of(request).items():
        if NUL in str(value):
            raise QuipuError(400, f"{BAD_REQUEST}: filter[{name}] contains a NUL character", f"filter[{name}]")
        if name in filters and value not in ("", {}):
            try:
                conditions.extend(filters[name](value))
            except (ValueError, TypeError, KeyError, InvalidOperation):  # a value outside the filter's set
                raise QuipuError(400, f"{BAD_REQUEST}: filter[{name}] has an invalid value",
                                 f"filter[{name}]") from None
    return tuple(conditions)


def list_order(request: Request, sorts: Mapping[str, str]) -> tuple[Order, ...]:
    """`sort=a,-b`; criteria the resource does not sort by are ignored (`sort=-issued_at` is seen)."""
    order = []
    for term in (request.query_params.get("sort") or "").split(","):
        name = term.strip().lstrip("+-")
        if name in sorts:
            order.append(Order(sorts[name], term.strip().startswith("-")))
    return tuple(order)


def includes_of(request: Request) -> frozenset[str] | None:
    """The `include=` paths (nested ones such as `items.accounting_category` too); None when the
    client asked for none, so that `included` is left out of the answer."""
    raw = request.query_params.get("include")
    if raw is None:
        return None
    return frozenset(path.strip() for path in raw.split(",") if path.strip())


def split_ids(value: Any) -> list[int]:
    """A comma list of ids (`filter[id]=1,2`)."""
    ids = [row_id(part.strip()) for part in str(value).split(",") if part.strip()]
    if None in ids:
        raise ValueError(value)
    return [found for found in ids if found is not None]


def flag(value: Any) -> bool:
    """A boolean filter as clients send it: true/1 (and PHP's true) or false/0/empty."""
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise ValueError(value)


# -- resources ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Calls:
    """The service functions a resource calls, each `(book, ...)`: get(id), list(query), count(query),
    and for the operations it has, create(fields), update(id, fields), delete(id)."""

    get: Callable[..., Any]
    list: Callable[..., Any]
    count: Callable[..., int]
    create: Callable[..., Any] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[..., None] | None = None


@dataclass(frozen=True)
class View:
    """What rendering needs beside the row: the book, where clients reach the server (links in
    attributes), and the secret that signs the links that need no token."""

    book: Any
    base_url: str
    secret: str
    detailed_amounts: bool = False  # `with_detailed_amounts` was in the query, with any value


def view_of(request: Request, book: Any) -> View:
    settings = context_of(request).settings
    return View(book, settings.public_url.rstrip("/"), settings.session_secret(),
                "with_detailed_amounts" in request.query_params)


@dataclass(frozen=True)
class Resource:
    """One Quipu collection. The service answers get, list and count, and create, update and delete
    for the operations the resource has. `render(row, view)` is the resource object; `related(row,
    view, includes)` its included resources; `parse(data, creating)` the core fields of a body.
    `pointers` maps core field names to the JSON pointers errors show."""

    path: str
    service: Any
    render: Callable[[Any, View], dict]
    parse: Callable[[dict, bool], dict] | None = None
    related: Callable[[Any, View, frozenset[str]], list[dict]] | None = None
    filters: Mapping[str, FilterFunction] = field(default_factory=dict)
    sorts: Mapping[str, str] = field(default_factory=dict)
    pointers: Mapping[str, str] = field(default_factory=dict)
    operations: frozenset[str] = frozenset({"list", "get", "create", "update", "delete"})


def document(view: View, resource: Resource, rows: list, includes: frozenset[str] | None) -> tuple[Any, list]:
    """The rendered rows and, when asked, their included resources (each once)."""
    rendered = [resource.render(row, view) for row in rows]
    included: dict[tuple[str, str], dict] = {}
    if includes is not None and resource.related is not None:
        for row in rows:
            for entry in resource.related(row, view, includes):
                included.setdefault((entry["type"], entry["id"]), entry)
    return rendered, list(included.values())


def answer(request: Request, book: Any, resource: Resource, row: Any, status: int = 200) -> Response:
    includes = includes_of(request)
    rendered, included = document(view_of(request, book), resource, [row], includes)
    body = {"data": rendered[0], **({"included": included} if includes is not None else {})}
    return jsonapi_response(request, body, status)


async def reading(request: Request, work: Callable[[Any], T], pointers: Mapping[str, str] | None = None, *,
                  answers_json: bool = True) -> T:
    """`work(book)` in a unit of work that only reads, for the request's caller (checked in it); a
    domain error becomes a JSON:API error pointing at the fields as the client named them."""
    try:
        return await unit_of_work.reading(context_of(request).database, caller(request, answers_json=answers_json),
                                          work)
    except DomainError as error:
        raise from_domain(error, pointers or {}) from error


async def writing(request: Request, work: Callable[[Any], T], pointers: Mapping[str, str] | None = None) -> T:
    """`reading` for a unit of work that writes (run again after a deadlock)."""
    try:
        return await unit_of_work.writing(context_of(request).database, caller(request), work)
    except DomainError as error:
        raise from_domain(error, pointers or {}) from error


async def body_of(request: Request) -> Deferred[dict]:
    """The body's `data`, or its refusal kept until the caller is admitted (wire.Deferred)."""
    return await deferred(jsonapi_body(request), QuipuError)


def mount(router: APIRouter, resource: Resource, prefix: str) -> None:
    """The routes of a resource under one path shape ("" or "/{owner_slug}"); PATCH and PUT are the
    same partial update."""
    path = f"{prefix}/{resource.path}"
    _mount_collection(router, resource, path)
    _mount_element(router, resource, path + "/{element}")


def _mount_collection(router: APIRouter, resource: Resource, path: str) -> None:
    tag = resource.path
    if "list" in resource.operations:
        @router.get(path, tags=[tag])
        async def list_elements(request: Request) -> Response:
            page = page_of(request)
            query = page.query(list_conditions(request, resource.filters), list_order(request, resource.sorts))
            includes = includes_of(request)

            def work(book: Any) -> Response:
                rows, _ = resource.service.list(book, query)
                total = resource.service.count(book, query)
                rendered, included = document(view_of(request, book), resource, list(rows), includes)
                body = {"data": rendered, "meta": page.meta(total),
                        **({"included": included} if includes is not None else {})}
                return jsonapi_response(request, body)
            return await reading(request, work, resource.pointers)

    if "create" in resource.operations and resource.parse is not None:
        @router.post(path, tags=[tag], status_code=201)
        async def create_element(request: Request) -> Response:
            data = await body_of(request)

            def work(book: Any) -> Response:
                row = resource.service.create(book, resource.parse(data.value(), True))
                return answer(request, book, resource, row, 201)
            return await writing(request, work, resource.pointers)


def _mount_element(router: APIRouter, resource: Resource, path: str) -> None:
    tag = resource.path
    if "get" in resource.operations:
        @router.get(path, tags=[tag])
        async def get_element(element: str, request: Request) -> Response:
            return await reading(request, lambda book: answer(
                request, book, resource, resource.service.get(book, element_id(element))), resource.pointers)

    if "update" in resource.operations and resource.parse is not None:
        async def update_element(element: str, request: Request) -> Response:
            data = await body_of(request)

            def work(book: Any) -> Response:
                row = element_id(element)
                fields = resource.parse(data.value(), False)
                return answer(request, book, resource, resource.service.update(book, row, fields))
            return await writing(request, work, resource.pointers)

        for method in ("PATCH", "PUT"):  # two routes, so each has its own operation in the OpenAPI document
            router.add_api_route(path, update_element, methods=[method], tags=[tag])

    if "delete" in resource.operations:
        @router.delete(path, tags=[tag], status_code=204)
        async def delete_element(element: str, request: Request) -> Response:
            await writing(request, lambda book: resource.service.delete(book, element_id(element)), resource.pointers)
            return no_content(request)
