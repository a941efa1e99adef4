"""Upflow custom field definitions: `POST /custom_fields` (and `/custom_field`, the guide's spelling)
creates one, or updates the one with the same externalId; lists in `{offset, limit, total, items}`;
addressing by `id` or `external:<externalId>`. Values are set on the entities themselves
(`customFields` of a customer), through services/custom_fields.py. Wire choices: ADR 0009."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from comptoir.codec import iso_timestamp
from comptoir.domain.errors import DomainError
from comptoir.services.masterdata import custom_fields

from .customers import ExactJSONResponse, Model, _reference, _unit, _validated, json_object, page
from .errors import UpflowError

FIELDS_PAGE_MAX = 1000

WIRE_NAMES = {"external_id": "externalId", "entity_type": "entityType", "data_type": "dataType"}

router = APIRouter()


class CustomFieldIn(Model):
    name: str | None = Field(None, max_length=255)
    externalId: str | None = Field(None, max_length=255)  # Upflow's wire names
    entityType: str | None = None
    dataType: str | None = None
    options: list[dict | str] | None = None


def render_field(field: Any, options: list[Any]) -> dict:
    return {"id": field.uuid, "externalId": field.external_id, "name": field.name,
            "entityType": field.entity_type, "dataType": field.data_type,
            "options": [{"id": option.uuid, "label": option.label} for option in options],
            "createdAt": iso_timestamp(field.created_at), "updatedAt": iso_timestamp(field.updated_at)}


def _rendered(book: Any, field: Any) -> dict:
    return render_field(field, custom_fields.options_of(book, [field.id])[field.id])


@router.post("/custom_fields", tags=["custom_fields"])
@router.post("/custom_field", tags=["custom_fields"])
async def define_field(request: Request) -> ExactJSONResponse:
    body = await json_object(request)

    def work(book):
        fields = _definition(_validated(CustomFieldIn, body.value()))
        try:
            field, created = custom_fields.define(book, fields)
        except DomainError as error:  # the service's names are the core ones
            raise DomainError([replace(p, field=WIRE_NAMES.get(p.field or "", p.field))
                               for p in error.problems]) from error
        return _rendered(book, field), created

    rendered, created = await _unit(request, work)
    return ExactJSONResponse(rendered, status_code=201 if created else 200)


def _definition(sent: CustomFieldIn) -> dict[str, Any]:
    labels = []
    for index, option in enumerate(sent.options or []):
        label = option.get("label") if isinstance(option, dict) else option
        if not isinstance(label, str):
            raise UpflowError(400, f'options.{index}: an option is {{"label": "<text>"}}', "Bad Request")
        labels.append(label)
    return {"name": sent.name, "external_id": sent.externalId, "entity_type": sent.entityType,
            "data_type": sent.dataType, "options": labels}


@router.get("/custom_fields", tags=["custom_fields"])
@router.get("/custom_field", tags=["custom_fields"])
async def list_fields(request: Request) -> ExactJSONResponse:
    offset, limit = page(request, FIELDS_PAGE_MAX)
    entity_type = request.query_params.get("entityType") or None

    def work(book):
        rows, total = custom_fields.list_fields(book, entity_type, offset, limit)
        options = custom_fields.options_of(book, [row.id for row in rows])
        return {"offset": offset, "limit": limit, "total": total,
                "items": [render_field(row, options[row.id]) for row in rows]}

    return ExactJSONResponse(await _unit(request, work, reads=True))


@router.get("/custom_fields/{ref}", tags=["custom_fields"])
async def get_field(ref: str, request: Request) -> ExactJSONResponse:
    return ExactJSONResponse(await _unit(request, lambda book: _rendered(book, custom_fields.get(book, **_reference(ref))),
                                         reads=True))


@router.delete("/custom_fields/{ref}", status_code=204, tags=["custom_fields"])
async def delete_field(ref: str, request: Request) -> Response:
    await _unit(request, lambda book: custom_fields.delete(book, **_reference(ref)))
    return Response(status_code=204)
