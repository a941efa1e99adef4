"""Upflow customers and contacts: import (create or update) by externalId, addressing by
`id` or `external:<externalId>`, lists in `{offset, limit, total, customers}` envelopes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from comptoir.codec import MalformedJson, dump_json, iso_timestamp, parse_json
from comptoir.domain.errors import DomainError
from comptoir.domain.query import ListQuery
from comptoir.services.kernel import unit_of_work
from comptoir.services.ledger.closing import receivable_balance, receivable_balances
from comptoir.services.masterdata import custom_fields, parties, reference
from comptoir.wire import BodyTooLarge, Deferred, deferred, read_body

from .errors import UpflowError, from_domain
from .security import caller

CUSTOMERS_PAGE_MAX = 1000
EMPLOYEE_NAMESPACE = uuid.UUID("6f1c8a52-3f7e-4a53-9a4e-6d1f5d2e8b10")
DUNNING_NAMESPACE = uuid.UUID("0b7e1c4e-1d5b-4b8a-8a8c-5b0d2f3c9e21")
DUNNING_PLANS = ("Standard", "Strict")

router = APIRouter()
T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class Link(Model):
    id: str | None = None
    externalId: str | None = None  # noqa: N815 - Upflow's wire names


class Address(Model):
    address: str | None = Field(None, max_length=255)
    zipcode: str | None = Field(None, max_length=128)
    city: str | None = Field(None, max_length=128)
    state: str | None = Field(None, max_length=255)
    country: str | None = Field(None, max_length=128)


class ContactIn(Model):
    id: str | None = None
    externalId: str | None = Field(None, max_length=255)  # noqa: N815
    email: str | None = Field(None, max_length=255)
    firstName: str | None = Field(None, max_length=255)  # noqa: N815
    lastName: str | None = Field(None, max_length=255)  # noqa: N815
    phone: str | None = Field(None, max_length=128)
    isMain: bool | None = None  # noqa: N815
    position: str | None = Field(None, max_length=64)


class CustomerIn(Model):
    id: str | None = None
    externalId: str | None = Field(None, max_length=255)  # noqa: N815
    name: str | None = Field(None, max_length=255)
    vatNumber: str | None = Field(None, max_length=255)  # noqa: N815
    accountingRef: str | None = Field(None, max_length=255)  # noqa: N815
    accountManagerId: str | None = None  # noqa: N815
    dunningPlanId: str | None = None  # noqa: N815
    address: Address | None = None
    parent: Link | None = None
    paymentMethods: dict | None = None  # noqa: N815
    customFields: list | None = None  # noqa: N815
    contacts: list[ContactIn] | None = None


class ExactJSONResponse(JSONResponse):
    """JSON with Decimals written exactly (a NUMBER custom field's 12.5), never through a float."""

    def render(self, content: Any) -> bytes:
        return dump_json(content)


# -- reading requests --------------------------------------------------------------------------

async def json_object(request: Request) -> Deferred[dict]:
    """The body as a JSON object, or its refusal kept until the caller is admitted (wire.Deferred)."""
    return await deferred(_json_object(request), UpflowError)


async def _json_object(request: Request) -> dict:
    try:
        body = parse_json(await read_body(request, request.app.state.context.settings.json_body_bytes_max))
    except BodyTooLarge as error:
        raise UpflowError(413, str(error), "Payload Too Large") from error
    except MalformedJson as error:
        raise UpflowError(400, f"Malformed JSON: {error}", "Bad Request") from error
    if not isinstance(body, dict):
        raise UpflowError(400, "The body must be a JSON object", "Bad Request")
    return body


def _validated(model: type[Model], body: dict) -> Model:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        details = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in error.errors(include_url=False))
        raise UpflowError(400, details, "Bad Request") from error


def _reference(ref: str) -> dict[str, Any]:
    """`<uuid>` or `external:<externalId>`."""
    if ref.startswith("external:"):
        return {"external_id": ref.removeprefix("external:")}
    return {"uuid": ref}


# -- mapping -----------------------------------------------------------------------------------

def dunning_plans(org_uuid: str) -> list[dict]:
    return [{"id": str(uuid.uuid5(DUNNING_NAMESPACE, f"{org_uuid}:{name}")), "name": name, "mode": "AUTOMATIC",
             "entity": "CUSTOMER"} for name in DUNNING_PLANS]


def employee_uuid(org_id: int, employee_id: int) -> str:
    return str(uuid.uuid5(EMPLOYEE_NAMESPACE, f"{org_id}:{employee_id}"))


def _customer_fields(book: Any, sent: CustomerIn, party: Any | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    names = sent.model_fields_set
    if party is None:
        fields["type"] = 1
    if "name" in names:
        fields["company_name"] = sent.name or ""
    if "vatNumber" in names:
        fields["taxpayer_id"] = sent.vatNumber or ""
    if "address" in names:
        address = sent.address or Address()
        fields["address"] = {"street_line1": address.address or "", "postal_code": address.zipcode or "",
                             "city": address.city or "", "locality": address.state or "",
                             "country": address.country or ""}
    if "parent" in names:
        fields["parent_id"] = _parent_id(book, sent.parent)
    if "accountManagerId" in names:
        fields["assigned_to_id"] = _employee_id(book, sent.accountManagerId)
    if "dunningPlanId" in names and sent.dunningPlanId is not None:
        if sent.dunningPlanId not in {plan["id"] for plan in dunning_plans(book.organization.uuid)}:
            raise UpflowError(400, f"dunningPlanId: no dunning plan {sent.dunningPlanId}", "Bad Request")
    kept = {name: getattr(sent, name) for name in ("accountingRef", "dunningPlanId", "paymentMethods")
            if name in names}
    if kept:
        before = {key: value for key, value in ((party.extra or {}).get("upflow", {}) if party else {}).items()
                  if key != "customFields"}  # kept here before they had their own table
        fields["extra"] = {"upflow": {**before, **kept}}
    if "contacts" in names:
        fields["contacts"] = _contacts(party, sent.contacts or [])
    return fields


def _parent_id(book: Any, link: Link | None) -> int | None:
    if link is None or (link.id is None and link.externalId is None):
        return None
    try:
        return (parties.find_customer(book, uuid=link.id) if link.id else
                parties.find_customer(book, external_id=link.externalId)).id
    except DomainError:
        raise UpflowError(400, "parent: no such customer", "Bad Request") from None


def _employee_id(book: Any, manager: str | None) -> int | None:
    if manager is None:
        return None
    for employee in book.employees.all():
        if employee_uuid(book.org_id, employee.id) == manager:
            return employee.id
    raise UpflowError(400, f"accountManagerId: no user {manager}", "Bad Request")


def contact_fields(sent: ContactIn) -> dict[str, Any]:
    names = sent.model_fields_set
    mapping = {"email": "email", "firstName": "first_name", "lastName": "last_name", "phone": "work_phone",
               "externalId": "external_id", "position": "position"}
    fields = {core: getattr(sent, wire) for wire, core in mapping.items() if wire in names}
    for text in ("email", "first_name", "last_name", "work_phone"):
        if text in fields and fields[text] is None:
            fields[text] = ""
    if "isMain" in names:
        fields["extra"] = {"upflow": {"isMain": bool(sent.isMain)}}
    return fields


def _contacts(party: Any | None, incoming: list[ContactIn]) -> list[dict]:
    """The full new list of contacts: each sent contact matched to an existing one by id,
    externalId or email (in that order); the others are new; the rest are removed."""
    existing = list(party.contacts) if party is not None else []
    result = []
    for sent in incoming:
        match = next((c for c in existing if sent.id and c.uuid == sent.id), None) \
            or next((c for c in existing if sent.externalId and c.external_id == sent.externalId), None) \
            or next((c for c in existing if sent.email and c.email == sent.email), None)
        fields = contact_fields(sent)
        if match is not None:
            fields["id"] = match.id
        elif not sent.email:
            raise UpflowError(400, "contacts: email is required for a new contact", "Bad Request")
        result.append(fields)
    return result


def render_contact(contact: Any) -> dict:
    return {"id": contact.uuid, "externalId": contact.external_id, "email": contact.email,
            "firstName": contact.first_name, "lastName": contact.last_name, "phone": contact.work_phone,
            "position": contact.position, "isMain": bool((contact.extra or {}).get("upflow", {}).get("isMain"))}


def _set_custom_fields(book: Any, party: Any, sent: CustomerIn) -> None:
    """The custom field values sent (`customFields`), the customer's row locked so that concurrent
    writes to the same customer queue up."""
    if "customFields" in sent.model_fields_set and sent.customFields is not None:
        book.parties.lock(party.id)
        custom_fields.set_values(book, "CUSTOMER", party.id, sent.customFields)


def render_customer(book: Any, party: Any, base_url: str, custom: list[dict] | None = None,
                    balance: Decimal | None = None) -> dict:
    """A customer on the wire; `custom` is its `customFields` and `balance` what it owes when the
    caller read them for a whole page (custom_fields.values_of, receivable_balances), else they are
    read here."""
    upflow = (party.extra or {}).get("upflow", {})
    address = party.address or {}
    parent = book.parties.get(party.parent_id) if party.parent_id else None
    # The balance is in the customer's currency, the organization's when it has none; in its cents.
    digits = reference.currency_minor_units(book, party.currency_iso_code or book.organization.currency_iso_code)
    minor = 10 ** (digits if digits is not None else 2)
    return {
        "id": party.uuid,
        "externalId": party.external_id,
        "name": party.full_name,
        "vatNumber": party.taxpayer_id or None,
        "accountingRef": upflow.get("accountingRef"),
        "accountManagerId": employee_uuid(book.org_id, party.assigned_to_id) if party.assigned_to_id else None,
        "dunningPlanId": upflow.get("dunningPlanId"),
        "address": {"address": address.get("street_line1", ""), "zipcode": address.get("postal_code", ""),
                    "city": address.get("city", ""), "state": address.get("locality", ""),
                    "country": address.get("country", "")},
        "parent": {"id": parent.uuid, "externalId": parent.external_id} if parent else None,
        "paymentMethods": upflow.get("paymentMethods"),
        "customFields": custom if custom is not None else
        custom_fields.values_of(book, "CUSTOMER", [party.id])[party.id],
        "contacts": [render_contact(contact) for contact in party.contacts],
        # What it owes in its currency: its invoices in another currency are not added to it.
        "balance": int((receivable_balance(book, party.id, party.currency_iso_code) if balance is None
                        else balance) * minor),
        "currency": party.currency_iso_code,
        "directUrl": f"{base_url}/upflow/v1/customers/{party.uuid}",
        "createdAt": iso_timestamp(party.created_at),
        "updatedAt": iso_timestamp(party.updated_at),
    }


# -- routes ------------------------------------------------------------------------------------

def base_url(request: Request) -> str:
    """Where clients reach this server, for the links it hands out (directUrl)."""
    return request.app.state.context.settings.public_url.rstrip("/")


async def _unit(request: Request, work: Callable[[Any], T], *, reads: bool = False) -> T:
    """`work(book)` in one unit of work of the caller's book (a read-only one when `reads`; a write is
    run again if it lost a deadlock), the caller checked in it; domain errors become Upflow errors."""
    run = unit_of_work.reading if reads else unit_of_work.writing
    try:
        return await run(request.app.state.context.database, caller(request), work)
    except DomainError as error:
        raise from_domain(error) from error


@router.post("/customers", tags=["customers"])
async def import_customer(request: Request) -> JSONResponse:
    body = await json_object(request)

    def work(book):
        sent = _validated(CustomerIn, body.value())
        if sent.externalId:
            def fields_for(existing):
                if existing is None and not sent.name:
                    raise UpflowError(400, "name: required to create a customer", "Bad Request")
                return _customer_fields(book, sent, existing)

            party, _created = parties.import_customer(book, sent.externalId, fields_for)
        elif sent.id:
            party = parties.find_customer(book, uuid=sent.id)
            party = parties.update_party(book, "customer", party.id, _customer_fields(book, sent, party))
        else:
            if not sent.name:
                raise UpflowError(400, "name: required to create a customer", "Bad Request")
            party = parties.create_party(book, "customer", _customer_fields(book, sent, None))
        _set_custom_fields(book, party, sent)
        return render_customer(book, party, base_url(request))

    return ExactJSONResponse(await _unit(request, work))


@router.get("/customers", tags=["customers"])
async def list_customers(request: Request) -> JSONResponse:
    offset, limit = page(request, CUSTOMERS_PAGE_MAX)

    def work(book):
        matching = custom_fields.matching_condition(book, "CUSTOMER", request.query_params)
        conditions = (matching,) if matching is not None else ()
        query = ListQuery(conditions=conditions, offset=offset, limit=limit)
        rows, _ = parties.list_parties(book, "customer", query)
        total = parties.count_parties(book, "customer", conditions)
        ids = [row.id for row in rows]
        custom = custom_fields.values_of(book, "CUSTOMER", ids)
        balances = receivable_balances(book, ids, {row.id: row.currency_iso_code for row in rows})  # one query
        parents = book.parties.get_many([row.parent_id for row in rows if row.parent_id])  # held while rendering
        rendered = [render_customer(book, row, base_url(request), custom[row.id], balances[row.id]) for row in rows]
        del parents
        return {"offset": offset, "limit": limit, "total": total, "customers": rendered}

    return ExactJSONResponse(await _unit(request, work, reads=True))


def page(request: Request, maximum: int) -> tuple[int, int]:
    """offset and limit (page also accepted, as old clients send it); at most `maximum` a page."""
    def integer(name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 100):  # int() reads 4300 digits at most
            raise UpflowError(400, f"{name} must be a non-negative integer", "Bad Request")
        return int(raw)

    limit = integer("limit", 100)
    if not 1 <= limit <= maximum:
        raise UpflowError(400, f"limit must be from 1 to {maximum}", "Bad Request")
    offset = integer("offset", integer("page", 0) * limit)
    return min(offset, 2**62), limit


@router.get("/customers/{ref}", tags=["customers"])
async def get_customer(ref: str, request: Request) -> JSONResponse:
    return ExactJSONResponse(await _unit(request,
                                   lambda book: render_customer(book, parties.find_customer(book, **_reference(ref)),
                                                                base_url(request)), reads=True))


@router.put("/customers/{ref}", tags=["customers"])
async def update_customer(ref: str, request: Request) -> JSONResponse:
    body = await json_object(request)

    def work(book):
        sent = _validated(CustomerIn, body.value())
        party = parties.find_customer(book, **_reference(ref))
        fields = _customer_fields(book, sent, party)
        if "externalId" in sent.model_fields_set:
            fields["external_id"] = sent.externalId
        party = parties.update_party(book, "customer", party.id, fields)
        _set_custom_fields(book, party, sent)
        return render_customer(book, party, base_url(request))

    return ExactJSONResponse(await _unit(request, work))


@router.delete("/customers/{ref}", status_code=204, tags=["customers"])
async def delete_customer(ref: str, request: Request) -> Response:
    def work(book):
        party = parties.find_customer(book, **_reference(ref))
        parties.delete_party(book, "customer", party.id)

    await _unit(request, work)
    return Response(status_code=204)


def _contact_of(party: Any, ref: str) -> Any:
    key = _reference(ref)
    for contact in party.contacts:
        if contact.uuid == key.get("uuid") if "uuid" in key else contact.external_id == key["external_id"]:
            return contact
    raise UpflowError(404, f"No contact {ref}", "Not Found")


@router.post("/customers/{ref}/contacts", tags=["contacts"])
async def create_contact(ref: str, request: Request) -> JSONResponse:
    body = await json_object(request)

    def work(book):
        sent = _validated(ContactIn, body.value())
        party = parties.find_customer(book, **_reference(ref))
        existing = next((c for c in party.contacts if sent.externalId and c.external_id == sent.externalId), None)
        if existing is None and not sent.email:
            raise UpflowError(400, "email: required to create a contact", "Bad Request")
        contact = parties.save_contact(book, party, contact_fields(sent), existing.id if existing else None)
        return render_contact(contact)

    return JSONResponse(await _unit(request, work))


@router.get("/customers/{ref}/contacts", tags=["contacts"])
async def list_contacts(ref: str, request: Request) -> JSONResponse:
    offset, limit = page(request, CUSTOMERS_PAGE_MAX)

    def work(book):
        contacts = parties.find_customer(book, **_reference(ref)).contacts
        return {"offset": offset, "limit": limit, "total": len(contacts),
                "contacts": [render_contact(c) for c in contacts[offset:offset + limit]]}

    return JSONResponse(await _unit(request, work, reads=True))


@router.get("/customers/{ref}/contacts/{contact_ref}", tags=["contacts"])
async def get_contact(ref: str, contact_ref: str, request: Request) -> JSONResponse:
    return JSONResponse(await _unit(request, lambda book: render_contact(
        _contact_of(parties.find_customer(book, **_reference(ref)), contact_ref)), reads=True))


@router.put("/customers/{ref}/contacts/{contact_ref}", tags=["contacts"])
async def update_contact(ref: str, contact_ref: str, request: Request) -> JSONResponse:
    body = await json_object(request)

    def work(book):
        sent = _validated(ContactIn, body.value())
        party = parties.find_customer(book, **_reference(ref))
        contact = _contact_of(party, contact_ref)
        return render_contact(parties.save_contact(book, party, contact_fields(sent), contact.id))

    return JSONResponse(await _unit(request, work))


@router.delete("/customers/{ref}/contacts/{contact_ref}", status_code=204, tags=["contacts"])
async def delete_contact(ref: str, contact_ref: str, request: Request) -> Response:
    def work(book):
        party = parties.find_customer(book, **_reference(ref))
        parties.delete_contact(book, party, _contact_of(party, contact_ref).id)

    await _unit(request, work)
    return Response(status_code=204)


@router.get("/dunning_plans", tags=["dunning_plans"])
async def list_dunning_plans(request: Request) -> JSONResponse:
    plans = await _unit(request, lambda book: dunning_plans(book.organization.uuid), reads=True)
    return JSONResponse({"offset": 0, "limit": len(plans), "total": len(plans), "items": plans})


