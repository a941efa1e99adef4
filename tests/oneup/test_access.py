"""OneUp v1 access: authentication (401 code 1), isolation between organizations (another
organization's records do not exist for you), and the per-key rate limit (429 code 4)."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from comptoir.app import create_app
from comptoir.context import Context
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.storage.tables import Task
from tests.conftest import make_context

from ..helpers import ONEUP, OneUpClient, book_snapshot, error_of

UNAUTHORIZED = {"status": 401, "code": "1", "message": "Unauthorized."}
TOKEN_NOT_ACTIVE = {"status": 401, "code": "1", "message": "Unauthorized: the provided token is not active"}
NOT_FOUND = {"status": 404, "code": "2", "message": "The resource was not found."}


def basic(email: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{key}".encode()).decode()


def assert_unauthorized(response, expected: dict = UNAUTHORIZED) -> None:
    assert response.status_code == 401, (response.status_code, response.text)
    error = error_of(response)
    assert {k: error[k] for k in ("status", "code", "message")} == expected


def assert_not_found(response) -> None:
    assert response.status_code == 404, (response.request.method, response.request.url, response.text)
    assert error_of(response) == NOT_FOUND


# -- authentication ----------------------------------------------------------------------------

CALLS = [
    ("GET", "/me", None),
    ("GET", "/customers", None),
    ("GET", "/customers/{id}", None),
    ("POST", "/customers", {"type": 1, "company_name": "Intruder"}),
    ("PUT", "/customers/{id}", {"company_name": "Intruder"}),
    ("DELETE", "/customers/{id}", None),
    ("DELETE", "/customers?ids={id}", None),
    ("PUT", "/customers/not-a-number", "{not json"),
    ("GET", "/taxes", None),
    ("POST", "/projects", {"name": "Intruder"}),
]


def _call(client, method, path, body, headers):
    content = body if body is None or isinstance(body, str) else json.dumps(body)
    return client.request(method, ONEUP + path, content=content,
                          headers={"Content-Type": "application/json", **headers})


def _every_call_refused(oneup, context, org, headers: dict, expected: dict = UNAUTHORIZED) -> None:
    """Every call of CALLS (on an existing customer), sent with these headers instead of the
    organization's credentials, is refused with `expected` and changes nothing."""
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Existing"})
    before = book_snapshot(context, org.id)
    outcomes = {}
    for method, path, body in CALLS:
        response = _call(oneup.client, method, path.format(id=customer["id"]), body, headers)
        error = response.json().get("error", {}) if isinstance(response.json(), dict) else {}
        outcomes[f"{method} {path}"] = (response.status_code, {k: error.get(k) for k in expected})
    assert outcomes == {f"{method} {path}": (401, expected) for method, path, _ in CALLS}
    assert book_snapshot(context, org.id) == before


def test_no_authorization_is_401_code_1(oneup, org, context):
    _every_call_refused(oneup, context, org, {})


def test_wrong_key_is_401_code_1(oneup, org, context):
    _every_call_refused(oneup, context, org, {"Authorization": basic(org.oneup.email, "wrong")})


def test_unknown_bearer_token_is_401_token_not_active(oneup, org, context):
    _every_call_refused(oneup, context, org, {"Authorization": "Bearer 0123456789abcdef"}, TOKEN_NOT_ACTIVE)


def test_the_api_key_itself_is_not_a_bearer_token(client, org):
    assert_unauthorized(client.get(ONEUP + "/me", headers={"Authorization": f"Bearer {org.oneup.api_key}"}),
                        TOKEN_NOT_ACTIVE)


def test_bad_credentials_are_401_code_1(client, org, other_org, context):
    email, key = org.oneup.email, org.oneup.api_key
    cases = {
        "unknown email": basic("nobody@api.comptoir.local", key),
        "email of another organization": basic(other_org.oneup.email, key),
        "key of another organization": basic(email, other_org.oneup.api_key),
        "empty key": basic(email, ""),
        "empty email and key": basic("", ""),
        "key with a trailing space": basic(email, key + " "),
        "key in another case": basic(email, key.swapcase()),
        "email and key swapped": basic(key, email),
        "not base64": "Basic !!!not-base64!!!",
        "no colon": "Basic " + base64.b64encode(f"{email}{key}".encode()).decode(),
        "not utf-8": "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
        "scheme only": "Basic",
        "empty value": "",
        "bare credentials": f"{email}:{key}",
        "credentials not encoded": f"Basic {email}:{key}",
        "other scheme": "Digest " + base64.b64encode(f"{email}:{key}".encode()).decode(),
        "token scheme": f"Token {key}",
    }
    before = book_snapshot(context, org.id)
    outcomes = {}
    for case, header in cases.items():
        for path in ("/customers", "/me"):
            response = client.get(ONEUP + path, headers={"Authorization": header})
            error = response.json().get("error", {}) if isinstance(response.json(), dict) else {}
            outcomes[(case, path)] = (response.status_code, {k: error.get(k) for k in UNAUTHORIZED})
    assert outcomes == {outcome: (401, UNAUTHORIZED) for outcome in outcomes}
    assert book_snapshot(context, org.id) == before


def test_good_credentials_in_every_accepted_form(client, org):
    email, key = org.oneup.email, org.oneup.api_key
    for header in (basic(email, key), "basic " + basic(email, key).split(" ", 1)[1],
                   "BASIC " + basic(email, key).split(" ", 1)[1]):
        response = client.get(ONEUP + "/me", headers={"Authorization": header})
        assert response.status_code == 200, (header, response.text)
        assert response.json()["email"] == email


# -- isolation ---------------------------------------------------------------------------------

@pytest.fixture
def a_book(oneup, context, org) -> dict:
    """Organization A's records, one of each kind, tasks included."""
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "A Customer",
                                               "contacts": [{"first_name": "Ann", "last_name": "A"}]})
    vendor = oneup.ok("POST", "/vendors", {"type": 1, "company_name": "A Vendor",
                                           "contacts": [{"first_name": "Vic", "last_name": "A"}]})
    family = oneup.ok("POST", "/item_families", {"name": "A family"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "A service", "family_id": family["id"]})
    project = oneup.ok("POST", "/projects", {"name": "A project"})
    employee = oneup.ok("POST", "/employees", {"first_name": "Al", "last_name": "A"})
    with open_book(context.database, org.id) as book:
        task = book.tasks.add(Task(kind="project", name="A task", due_date=date(2024, 1, 1),
                                   customer_id=customer["id"], project_id=project["id"],
                                   service_to_bill_id=item["id"]))
        price_family_id = book.price_families.all()[0].id
        task_id = task.id
    return {
        "customers": customer, "vendors": vendor, "item_families": family, "items": item, "projects": project,
        "employees": employee, "task": task_id, "price_family": price_family_id,
        "tax": oneup.ok("GET", "/taxes")[1], "payment_term": oneup.ok("GET", "/payment_terms")[1],
        "currency": oneup.ok("GET", "/currencies")[0], "unit": oneup.ok("GET", "/units")[0],
        "me": oneup.ok("GET", "/me"),
    }


EDITS = {
    "customers": {"company_name": "Taken over"},
    "vendors": {"company_name": "Taken over"},
    "item_families": {"name": "Taken over"},
    "items": {"name": "Taken over"},
    "projects": {"name": "Taken over"},
    "employees": {"last_name": "Taken over"},
}


def _status_and_error(response) -> tuple[int, dict | None]:
    body = response.json()
    return response.status_code, body.get("error") if isinstance(body, dict) else None


def test_another_organization_gets_404_on_every_element(a_book, other_oneup, context, org):
    before = book_snapshot(context, org.id)
    outcomes = {}
    for resource, edit in EDITS.items():
        a_id = a_book[resource]["id"]
        outcomes[f"GET /{resource}/{a_id}"] = _status_and_error(other_oneup.get(f"/{resource}/{a_id}"))
        outcomes[f"PUT /{resource}/{a_id}"] = _status_and_error(other_oneup.put(f"/{resource}/{a_id}", edit))
        outcomes[f"DELETE /{resource}/{a_id}"] = _status_and_error(other_oneup.delete(f"/{resource}/{a_id}"))
    for resource, key in (("project_tasks", "task"), ("taxes", "tax"), ("payment_terms", "payment_term"),
                          ("currencies", "currency"), ("units", "unit")):
        a_id = a_book[key] if isinstance(a_book[key], int) else a_book[key]["id"]
        outcomes[f"GET /{resource}/{a_id}"] = _status_and_error(other_oneup.get(f"/{resource}/{a_id}"))
    assert outcomes == {call: (404, NOT_FOUND) for call in outcomes}
    assert book_snapshot(context, org.id) == before


def test_the_api_user_of_another_organization_is_not_an_employee(a_book, other_oneup, oneup):
    a_me, b_me = a_book["me"], other_oneup.ok("GET", "/me")
    assert b_me["id"] != a_me["id"]
    assert b_me["company"]["name"] == "Other Company"
    assert_not_found(other_oneup.get(f"/employees/{a_me['id']}"))
    assert [e["id"] for e in other_oneup.ok("GET", "/employees")] == [b_me["id"]]


ALL_LISTS = ["customers", "vendors", "items", "item_families", "projects", "project_tasks", "opportunity_tasks",
             "employees", "payment_terms", "taxes", "currencies", "units"]


def test_lists_never_show_another_organizations_records(a_book, oneup, other_oneup):
    other_oneup.ok("POST", "/customers", {"type": 1, "company_name": "B Customer"})
    leaks = {}
    for resource in ALL_LISTS:
        a_ids = {e["id"] for e in oneup.ok("GET", f"/{resource}?limit=1000")}
        b_ids = {e["id"] for e in other_oneup.ok("GET", f"/{resource}?limit=1000")}
        shown = a_ids & b_ids
        for a_id in sorted(a_ids):
            shown |= {e["id"] for e in other_oneup.ok("GET", f"/{resource}?id={a_id}")}
        if a_ids:
            between = other_oneup.ok("GET", f"/{resource}?id=lte:{max(a_ids)}&id=gte:{min(a_ids)}&limit=1000")
            shown |= {e["id"] for e in between} & a_ids
        leaks[resource] = sorted(shown)
    assert leaks == {resource: [] for resource in ALL_LISTS}


def test_bulk_delete_of_another_organizations_ids_finds_nothing(a_book, other_oneup, context, org):
    before = book_snapshot(context, org.id)
    outcomes, expected = {}, {}
    for resource in EDITS:
        a_id = a_book[resource]["id"]
        response = other_oneup.delete(f"/{resource}?ids={a_id}")
        outcomes[resource] = (response.status_code, response.json())
        expected[resource] = (200, {"success_count": 0, "error_count": 1, "successes": [],
                                    "errors": [{"id": a_id, "error": NOT_FOUND}]})
    assert outcomes == expected
    assert book_snapshot(context, org.id) == before


def test_bulk_delete_mixing_own_and_foreign_ids(a_book, other_oneup, oneup, context, org):
    own = other_oneup.ok("POST", "/projects", {"name": "B project"})
    a_project = a_book["projects"]
    response = other_oneup.delete(f"/projects?ids={a_project['id']},{own['id']}")
    assert response.json() == {"success_count": 1, "error_count": 1, "successes": [own],
                               "errors": [{"id": a_project["id"], "error": NOT_FOUND}]}
    assert oneup.ok("GET", f"/projects/{a_project['id']}") == a_project


def _refused(response) -> None:
    assert response.status_code == 422, (response.status_code, response.text)
    assert error_of(response)["code"] == "3"


def test_references_to_another_organizations_records_are_refused(a_book, other_oneup, context, org, other_org):
    references = {"sales_tax": a_book["tax"]["id"], "payment_terms": a_book["payment_term"]["id"],
                  "assigned_to": a_book["employees"]["id"], "price_family": a_book["price_family"]}
    b_customer = other_oneup.ok("POST", "/customers", {"type": 1, "company_name": "B Customer"})
    a_before = book_snapshot(context, org.id)
    b_before = book_snapshot(context, other_org.id)

    outcomes = {}
    for field, reference in references.items():
        put = other_oneup.put(f"/customers/{b_customer['id']}", {field: {"id": reference}})
        post = other_oneup.post("/customers", {"type": 1, "company_name": "B Other", field: {"id": reference}})
        outcomes[f"PUT {field}"] = (put.status_code, put.json().get("error", {}).get("code"))
        outcomes[f"POST {field}"] = (post.status_code, post.json().get("error", {}).get("code"))
    assert outcomes == {call: (422, "3") for call in outcomes}

    assert book_snapshot(context, org.id) == a_before
    assert book_snapshot(context, other_org.id) == b_before
    assert other_oneup.ok("GET", f"/customers/{b_customer['id']}") == b_customer


def test_other_references_to_another_organization_are_refused(a_book, other_oneup, context, org, other_org):
    b_item = other_oneup.ok("POST", "/items", {"type": 1, "name": "B service"})
    b_vendor = other_oneup.ok("POST", "/vendors", {"type": 1, "company_name": "B Vendor"})
    a_before = book_snapshot(context, org.id)
    b_before = book_snapshot(context, other_org.id)

    _refused(other_oneup.put(f"/items/{b_item['id']}", {"family_id": a_book["item_families"]["id"]}))
    _refused(other_oneup.put(f"/items/{b_item['id']}", {"unit_id": a_book["unit"]["id"]}))
    _refused(other_oneup.post("/items", {"type": 1, "name": "B x", "family_id": a_book["item_families"]["id"]}))
    _refused(other_oneup.put(f"/vendors/{b_vendor['id']}", {"payment_terms_id": a_book["payment_term"]["id"]}))

    assert book_snapshot(context, org.id) == a_before
    assert book_snapshot(context, other_org.id) == b_before


@pytest.mark.parametrize("resource", ["customers", "vendors"])
def test_another_organizations_contacts_cannot_be_taken_over(a_book, oneup, other_oneup, context, org,
                                                             other_org, resource):
    a_party = a_book[resource]
    a_contact = a_party["contacts"][0]
    body = {"type": 1, "company_name": "B Party"}
    b_party = other_oneup.ok("POST", f"/{resource}", body)
    a_before = book_snapshot(context, org.id)
    b_before = book_snapshot(context, other_org.id)

    _refused(other_oneup.put(f"/{resource}/{b_party['id']}",
                             {"contacts": [{"id": a_contact["id"], "last_name": "Stolen"}]}))
    _refused(other_oneup.post(f"/{resource}", {**body, "contacts": [{"id": a_contact["id"], "email": "x@b.com"}]}))

    assert book_snapshot(context, org.id) == a_before
    assert book_snapshot(context, other_org.id) == b_before
    assert oneup.ok("GET", f"/{resource}/{a_party['id']}")["contacts"] == [a_contact]


def test_filters_by_another_organizations_ids_find_nothing(a_book, other_oneup):
    assert other_oneup.ok("GET", f"/project_tasks?project_id={a_book['projects']['id']}") == []
    assert other_oneup.ok("GET", f"/project_tasks?customer_id={a_book['customers']['id']}") == []
    assert other_oneup.ok("GET", f"/items?family_id={a_book['item_families']['id']}") == []
    assert other_oneup.ok("GET", f"/customers?assigned_to_id={a_book['me']['id']}") == []


# -- rate limit --------------------------------------------------------------------------------

def limited_context(database_url: str, tmp_path, rate_limits: str) -> Context:
    return make_context(database_url, tmp_path, rate_limits=rate_limits, oneup_rate_limit="5/15 minutes")


@pytest.fixture
def limited(database_url, tmp_path, context):
    """A second app over the same (already migrated) database, limited to 5 calls per 15 minutes."""
    ctx = limited_context(database_url, tmp_path, "on")  # the `context` fixture migrated the schema
    with TestClient(create_app(context=ctx)) as test_client:
        yield test_client
    ctx.database.dispose()


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    error = error_of(response)
    assert {k: error[k] for k in ("status", "code", "message")} == {"status": 429, "code": "4",
                                                                    "message": "Rate limited."}
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 15 * 60, retry_after


def test_the_sixth_call_in_the_window_is_429_code_4(limited, org, context):
    a = OneUpClient(limited, org)
    assert a.get("/me").status_code == 200
    assert a.get("/customers").status_code == 200
    assert a.get("/customers/2000000000").status_code == 404  # every call counts, errors too
    created = a.ok("POST", "/projects", {"name": "Within budget"})
    assert a.get(f"/projects/{created['id']}").status_code == 200

    before = book_snapshot(context, org.id)
    assert_rate_limited(a.get("/customers"))
    assert_rate_limited(a.post("/projects", {"name": "Over budget"}))
    assert_rate_limited(a.delete(f"/projects/{created['id']}"))
    assert book_snapshot(context, org.id) == before


def test_the_limit_is_per_key(limited, org, other_org):
    a, b = OneUpClient(limited, org), OneUpClient(limited, other_org)
    for _ in range(5):
        assert a.get("/customers").status_code == 200
    assert_rate_limited(a.get("/customers"))
    for _ in range(5):
        assert b.get("/customers").status_code == 200
    assert_rate_limited(b.get("/customers"))
    assert_rate_limited(a.get("/me"))


def test_failed_authentication_does_not_spend_the_keys_budget(limited, org):
    for _ in range(6):
        assert_unauthorized(limited.get(ONEUP + "/customers", auth=(org.oneup.email, "wrong")))
    a = OneUpClient(limited, org)
    for _ in range(5):
        assert a.get("/customers").status_code == 200
    assert_rate_limited(a.get("/customers"))
    # a limited key with a wrong secret is still a 401: authentication comes first
    assert_unauthorized(limited.get(ONEUP + "/customers", auth=(org.oneup.email, "wrong")))


def test_no_limit_when_rate_limits_are_off(database_url, tmp_path, context, org):
    ctx = limited_context(database_url, tmp_path, "off")
    try:
        with TestClient(create_app(context=ctx)) as test_client:
            a = OneUpClient(test_client, org)
            for _ in range(12):
                assert a.get("/customers").status_code == 200
    finally:
        ctx.database.dispose()
