"""The OpenAPI documents the dialects publish (each mounted FastAPI sub-app's /openapi.json), completed
so that a fuzzer can hold the app to them.

As published, they describe paths, methods and path parameters, but no request body (the endpoints
read their bodies themselves: OneConnect's imports are the exception), an empty schema for every
answer, and a 422 FastAPI's own validation would answer, which the dialects never do (they answer
their own errors). Completed here, from the code that defines each dialect:

- request bodies: the Pydantic models the routes validate with (OneUp's `Resource.schema`, Upflow's
  `*In` models), and OneConnect's entries;
- answers: the success status each route gives with the shape of its body (a list, an object with
  an id, an Upflow envelope), and every error status the dialect uses, in the dialect's own error
  format and media type;
- links from each create to the routes of the created record, for stateful runs.

`docs/reliability.md` says what is missing from the published documents."""

from __future__ import annotations

import copy
import re

from starlette.routing import Mount

from comptoir.dialects.oneup.app import RESOURCES
from comptoir.dialects.oneup.exchange_rates import PATH as EXCHANGE_RATES, RateIn
from comptoir.dialects.upflow import custom_fields, customers, invoices, payments, portal, refunds

JSON = "application/json"
PROBLEM = "application/problem+json"


def sub_app(app, prefix: str):
    return next(route.app for route in app.routes if isinstance(route, Mount) and route.path == prefix)


def published(app, prefix: str) -> dict:
    """The document the dialect serves at <prefix>/openapi.json."""
    return copy.deepcopy(sub_app(app, prefix).openapi())


def _answers(success: dict[str, dict], errors: dict[str, dict]) -> dict:
    return {**success, **errors}


def _json(schema: dict, media: str = JSON, description: str = "") -> dict:
    return {"description": description or "answer", "content": {media: {"schema": schema}}}


def _model(document: dict, model) -> dict:
    """The model's JSON schema, its definitions moved into the document's components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    return schema


def _body(schema: dict, media: str = JSON, required: bool = True) -> dict:
    return {"required": required, "content": {media: {"schema": schema}}}


WITH_INT_ID = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
WITH_STR_ID = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
ANY_OBJECT = {"type": "object"}

# -- OneUp ---------------------------------------------------------------------------------------

ONEUP_ERROR = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
    "error": {"type": "object", "required": ["status", "code", "message"], "additionalProperties": False,
              "properties": {"status": {"type": "integer"}, "code": {"type": "string", "pattern": "^[0-9]+$"},
                             "message": {"type": "string", "minLength": 1}, "reason": {"type": "string"}}}}}
ONEUP_ERRORS = {str(status): _json(ONEUP_ERROR) for status in (400, 401, 404, 405, 422, 429)}


def oneup(app) -> dict:
    document = published(app, "/oneup/v1")
    models = {f"/{resource.path}": resource.schema for resource in RESOURCES if resource.schema is not None}
    models[EXCHANGE_RATES] = RateIn  # our extension: rates have no id of their own (a currency and a day)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            element = "{element}" in path
            action = re.fullmatch(r"/\w+/\{element\}/([\w.]+)", path)
            if path == "/me" or path.startswith(("/reports/", EXCHANGE_RATES)):
                success = _json({"type": ["object", "array"]})
            elif action and action.group(1) == "print.pdf":
                success = {"description": "the PDF", "content": {"application/pdf": {"schema": {}}}}
            elif action:
                success = _json(WITH_INT_ID if action.group(1) != "print.json" else ANY_OBJECT)
            elif method == "get" and not element:
                success = _json({"type": "array", "items": WITH_INT_ID})
            elif method == "delete" and not element:
                success = _json({"type": "object", "required": ["success_count", "error_count", "successes", "errors"]})
            else:
                success = _json(WITH_INT_ID)
            operation["responses"] = _answers({"200": success}, ONEUP_ERRORS)
            base = "/" + path.split("/")[1]
            if method in ("post", "put") and not action and base in models:
                operation["requestBody"] = _body(_model(document, models[base]))
            elif action and action.group(1) in ("convert", "deliver"):
                operation["requestBody"] = _body(ANY_OBJECT, required=False)
            if method == "delete" and not element:
                operation["parameters"] = [{"name": "ids", "in": "query", "required": True,
                                            "schema": {"type": "string", "pattern": "^[0-9]{1,4}(,[0-9]{1,4}){0,3}$"}}]
    _links(document, "#/id")
    return document


# -- Upflow --------------------------------------------------------------------------------------

UPFLOW_ERROR = {"type": "object", "required": ["message", "error", "statusCode"], "properties": {
    "message": {"type": "string", "minLength": 1}, "error": {"type": "string", "minLength": 1},
    "statusCode": {"type": "integer"}}}
UPFLOW_ERRORS = {str(status): _json(UPFLOW_ERROR) for status in (400, 401, 404, 405, 409, 413, 429)}
UPFLOW_LISTS = {"/customers": "customers", "/invoices": "invoices", "/credit_notes": "creditNotes",
                "/payments": "items", "/refunds": "items", "/custom_fields": "items", "/custom_field": "items",
                "/bank_accounts": "items"}
UPFLOW_MODELS = {
    ("post", "/customers"): customers.CustomerIn, ("put", "/customers/{ref}"): customers.CustomerIn,
    ("post", "/customers/{ref}/contacts"): customers.ContactIn,
    ("put", "/customers/{ref}/contacts/{contact_ref}"): customers.ContactIn,
    ("post", "/invoices"): invoices.InvoiceIn, ("post", "/credit_notes"): invoices.CreditNoteIn,
    ("post", "/payments"): payments.PaymentIn, ("post", "/refunds"): refunds.RefundIn,
    ("post", "/reconcile"): refunds.ReconcileIn, ("post", "/custom_fields"): custom_fields.CustomFieldIn,
    ("post", "/custom_field"): custom_fields.CustomFieldIn,
    ("post", "/customers/{ref}/portal"): portal.PortalIn, ("post", "/customers/{ref}/portalUrl"): portal.PortalIn,
}


def upflow(app) -> dict:
    document = published(app, "/upflow/v1")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "delete":
                success = {"204": {"description": "deleted"}}
            elif path.endswith("/pdf"):
                success = {"204": {"description": "stored"}}
                operation["requestBody"] = {"required": True, "content": {
                    JSON: {"schema": {"type": "object", "required": ["data"], "properties": {
                        "data": {"type": "string"}, "filename": {"type": "string"}}}},
                    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"}}}}}}
            elif path == "/reconcile":
                success = {"200": _json({"type": "string", "enum": ["CREATED"]})}
            elif method == "get" and path in UPFLOW_LISTS:
                key = UPFLOW_LISTS[path]
                success = {"200": _json({"type": "object", "required": ["offset", "limit", "total", key],
                                         "properties": {key: {"type": "array", "items": WITH_STR_ID},
                                                        "total": {"type": "integer", "minimum": 0}}})}
            elif path in ("/users", "/dunning_plans"):
                success = {"200": _json({"type": ["object", "array"]})}
            elif path.endswith(("/portal", "/portalUrl")):
                success = {"200": _json({"type": "object", "required": ["url"]})}
            elif path.endswith("/contacts") and method == "get":
                success = {"200": _json({"type": ["object", "array"]})}
            elif path.startswith("/custom_field") and method == "post":
                success = {"200": _json(WITH_STR_ID), "201": _json(WITH_STR_ID)}
            else:
                success = {"200": _json(WITH_STR_ID)}
            operation["responses"] = _answers(success, UPFLOW_ERRORS)
            model = UPFLOW_MODELS.get((method, path))
            if model is not None:
                operation["requestBody"] = _body(_model(document, model), required=not path.endswith(
                    ("/portal", "/portalUrl")))
    _links(document, "#/id", parameter="ref")
    return document


# -- OneConnect ----------------------------------------------------------------------------------

PROBLEM_SCHEMA = {"type": "object", "required": ["type", "title", "status"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "errorCode": {"type": "string"}}}
ONECONNECT_ERRORS = {str(status): _json(PROBLEM_SCHEMA, PROBLEM) for status in (400, 401, 404, 405, 409, 413, 429)}
AMOUNT = {"type": "object", "required": ["amount", "currency", "currencyAmount", "currencyRate"], "properties": {
    "amount": {"type": "number"}, "currency": {"type": "string"}, "currencyAmount": {"type": "number"},
    "currencyRate": {"type": "number"}}}
ENTRIES = {"type": "object", "required": ["data"], "properties": {"data": {
    "type": "object", "required": ["lines"], "properties": {"lines": {"type": "array", "maxItems": 4, "items": {
        "type": "object", "required": ["date", "debit", "credit", "journal", "account", "reference"],
        "properties": {"date": {"type": "string", "format": "date"}, "debit": AMOUNT, "credit": AMOUNT,
                       "journal": {"type": "string"}, "account": {"type": "string"},
                       "reference": {"type": "string"}, "thirdParty": {"type": "string"},
                       "label": {"type": "string"}}}}}}}}


def oneconnect(app) -> dict:
    document = published(app, "/oneconnect/v1")
    for path, item in document["paths"].items():
        for operation in item.values():
            operation["responses"] = _answers({"200": _json(ANY_OBJECT)}, ONECONNECT_ERRORS)
            if path.endswith("/entries"):
                operation["requestBody"] = _body(ENTRIES)
            elif path.endswith("/refuse"):
                operation["requestBody"] = _body({"type": "object", "properties": {"reason": {"type": "string"}}})
    return document


# -- links ---------------------------------------------------------------------------------------

def _links(document: dict, pointer: str, parameter: str = "element") -> None:
    """From each `POST /x` to the routes of `/x/{parameter}`: the id the create answered."""
    paths = document["paths"]
    for path, item in paths.items():
        create = item.get("post")
        if create is None or "{" in path:
            continue
        element = f"{path}/{{{parameter}}}"
        if element not in paths:
            continue
        links = {}
        for method in paths[element]:
            operation_id = paths[element][method].get("operationId")
            if operation_id:
                links[f"{method.upper()} {element}"] = {"operationId": operation_id,
                                                        "parameters": {parameter: f"$response.body{pointer}"}}
        for status, answer in create["responses"].items():
            if status.startswith("2"):
                answer["links"] = links


DOCUMENTS = {"oneup": ("/oneup/v1", oneup), "upflow": ("/upflow/v1", upflow), "oneconnect": ("/oneconnect/v1", oneconnect)}


def completed(app, dialect: str) -> tuple[str, dict]:
    prefix, build = DOCUMENTS[dialect]
    return prefix, build(app)


def what_is_published(app) -> dict[str, dict[str, int]]:
    """For docs/reliability.md: per dialect, how many operations the published document has, how
    many describe a request body, and how many describe an answer other than 200/204 and FastAPI's 422."""
    counts = {}
    for dialect, (prefix, _) in DOCUMENTS.items():
        document = published(app, prefix)
        operations = [op for item in document["paths"].values() for op in item.values()]
        counts[dialect] = {
            "operations": len(operations),
            "with a request body": sum("requestBody" in op for op in operations),
            "with an error answer of the dialect": sum(any(s not in ("200", "201", "204", "422") for s in op["responses"])
                                                       for op in operations),
            "with a response schema": sum(any(c.get("schema") for r in op["responses"].values()
                                              for c in r.get("content", {}).values() if r is not op["responses"].get("422"))
                                          for op in operations),
        }
    return counts
