"""OneUp v1 bulk deletion: DELETE on a collection with ids=42,12,1337 (at most 50), answered with
the seed example's shape: counts, the deleted objects, and one error per refused or missing id.

Tasks, which the API cannot create, are inserted through the service layer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.storage.tables import Project, Task

from ..helpers import OneUpClient, book_snapshot, error_of

MISSING_ID = 2_000_000_000  # no row of any organization has this id
NOT_FOUND_ERROR = {"status": 404, "code": "2", "message": "The resource was not found."}


def refused(row_id: int, reason: str) -> dict:
    return {"id": row_id, "error": {"status": 422, "code": "3", "message": "This object cannot be deleted.",
                                    "reason": reason}}


def missing(row_id: int) -> dict:
    return {"id": row_id, "error": NOT_FOUND_ERROR}


def add_task(context, org, **links) -> int:
    with open_book(context.database, org.id) as book:
        return book.tasks.add(Task(kind="project", name="t", **links)).id


def assert_parse_error(response) -> None:
    assert response.status_code == 400, (response.status_code, response.text)
    assert error_of(response)["code"] == "5"


def assert_not_found(response) -> None:
    assert response.status_code == 404, (response.status_code, response.text)
    assert error_of(response) == NOT_FOUND_ERROR


# -- one scenario per deletable resource -------------------------------------------------------
# Each builds (deletable id, referenced id, reason the referenced one is refused).

def _customers(oneup, context, org):
    deletable = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})["id"]
    busy = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Busy Inc"})["id"]
    add_task(context, org, customer_id=busy)
    return deletable, busy, "The customer cannot be deleted because it is referenced by: Task"


def _items(oneup, context, org):
    deletable = oneup.ok("POST", "/items", {"type": 2, "name": "Spare"})["id"]
    billed = oneup.ok("POST", "/items", {"type": 1, "name": "Billed service"})["id"]
    add_task(context, org, service_to_bill_id=billed)
    return deletable, billed, "The item cannot be deleted because it is referenced by: Task"


def _item_families(oneup, context, org):
    deletable = oneup.ok("POST", "/item_families", {"name": "Empty family"})["id"]
    used = oneup.ok("POST", "/item_families", {"name": "Used family"})["id"]
    oneup.ok("POST", "/items", {"type": 1, "name": "Member", "family_id": used})
    return deletable, used, "The item family cannot be deleted because it is referenced by: Product or Service"


def _employees(oneup, context, org):
    deletable = oneup.ok("POST", "/employees", {"first_name": "Free", "last_name": "Agent"})["id"]
    assigned = oneup.ok("POST", "/employees", {"first_name": "Account", "last_name": "Manager"})["id"]
    oneup.ok("POST", "/customers", {"type": 1, "company_name": "Managed", "assigned_to": {"id": assigned}})
    return deletable, assigned, "The employee cannot be deleted because it is referenced by: Customer"


def _projects(oneup, context, org):
    deletable = oneup.ok("POST", "/projects", {"name": "Idle"})["id"]
    planned = oneup.ok("POST", "/projects", {"name": "Planned"})["id"]
    add_task(context, org, project_id=planned)
    return deletable, planned, "The project cannot be deleted because it is referenced by: Task"


SCENARIOS: dict[str, Callable] = {
    "customers": _customers, "items": _items, "item_families": _item_families, "employees": _employees,
    "projects": _projects,
}


@pytest.mark.parametrize("resource", list(SCENARIOS))
def test_bulk_delete_reports_successes_and_errors_like_the_seed(oneup, context, org, resource):
    deletable, referenced, reason = SCENARIOS[resource](oneup, context, org)
    shown = oneup.ok("GET", f"/{resource}/{deletable}")
    referenced_before = oneup.ok("GET", f"/{resource}/{referenced}")

    response = oneup.delete(f"/{resource}?ids={deletable},{referenced},{MISSING_ID}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "success_count": 1,
        "error_count": 2,
        "successes": [shown],
        "errors": [refused(referenced, reason), missing(MISSING_ID)],
    }
    assert_not_found(oneup.get(f"/{resource}/{deletable}"))
    assert oneup.ok("GET", f"/{resource}/{referenced}") == referenced_before
    assert deletable not in [e["id"] for e in oneup.ok("GET", f"/{resource}?limit=1000")]


@pytest.mark.parametrize("resource", list(SCENARIOS))
def test_single_delete_of_a_referenced_record_is_refused_the_same_way(oneup, context, org, resource):
    _, referenced, reason = SCENARIOS[resource](oneup, context, org)
    before = book_snapshot(context, org.id)
    response = oneup.delete(f"/{resource}/{referenced}")
    assert response.status_code == 422, response.text
    assert response.json() == {"error": refused(referenced, reason)["error"]}
    assert book_snapshot(context, org.id) == before


def test_bulk_delete_order_follows_the_ids(oneup, context, org):
    """The seed example: ids=42,12,1337 where 12 is refused and 1337 does not exist."""
    first, second = (oneup.ok("POST", "/customers", {"type": 1, "company_name": n}) for n in ("One", "Two"))
    busy = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Busy"})
    add_task(context, org, customer_id=busy["id"])
    response = oneup.delete(f"/customers?ids={MISSING_ID},{busy['id']},{second['id']},{first['id']}")
    assert response.status_code == 200
    assert response.json() == {
        "success_count": 2,
        "error_count": 2,
        "successes": [second, first],
        "errors": [missing(MISSING_ID),
                   refused(busy["id"], "The customer cannot be deleted because it is referenced by: Task")],
    }
    assert [c["id"] for c in oneup.ok("GET", "/customers")] == [busy["id"]]


def test_bulk_delete_of_vendors(oneup):
    vendor = oneup.ok("POST", "/vendors", {"type": 1, "company_name": "Supplier"})
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Not a vendor"})
    response = oneup.delete(f"/vendors?ids={vendor['id']},{customer['id']}")
    assert response.status_code == 200
    assert response.json() == {"success_count": 1, "error_count": 1, "successes": [vendor],
                               "errors": [missing(customer["id"])]}
    assert oneup.ok("GET", "/vendors") == []
    assert oneup.ok("GET", "/customers") == [customer]


def test_the_api_user_assigned_to_customers_cannot_be_deleted(oneup, context, org):
    me = oneup.ok("GET", "/me")
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Mine"})
    assert customer["assigned_to"]["id"] == me["id"]
    response = oneup.delete(f"/employees?ids={me['id']}")
    assert response.status_code == 200
    assert response.json() == {
        "success_count": 0, "error_count": 1, "successes": [],
        "errors": [refused(me["id"], "The employee cannot be deleted because it is referenced by: Customer")],
    }
    assert oneup.ok("GET", "/me")["id"] == me["id"]


def test_bulk_delete_with_only_successes(oneup):
    projects = [oneup.ok("POST", "/projects", {"name": f"P{n}"}) for n in range(3)]
    response = oneup.delete("/projects?ids=" + ",".join(str(p["id"]) for p in projects))
    assert response.status_code == 200
    assert response.json() == {"success_count": 3, "error_count": 0, "successes": projects, "errors": []}
    assert oneup.ok("GET", "/projects") == []


def test_a_referenced_record_can_be_deleted_once_its_referrer_is_gone(oneup, context, org):
    family = oneup.ok("POST", "/item_families", {"name": "Soon empty"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Member", "family_id": family["id"]})
    ids = f"{family['id']}"
    assert oneup.delete(f"/item_families?ids={ids}").json()["error_count"] == 1
    assert oneup.ok("DELETE", f"/items/{item['id']}") == item
    assert oneup.delete(f"/item_families?ids={ids}").json() == {
        "success_count": 1, "error_count": 0, "successes": [family], "errors": []}


# -- limits and malformed ids ------------------------------------------------------------------

def insert_projects(context, org, count: int) -> list[int]:
    with open_book(context.database, org.id) as book:
        return [book.projects.add(Project(name=f"Bulk {n}", description="")).id for n in range(count)]


def test_exactly_50_ids_are_deleted(oneup, context, org):
    ids = insert_projects(context, org, 50)
    shown = oneup.ok("GET", "/projects?limit=1000")
    response = oneup.delete("/projects?ids=" + ",".join(map(str, ids)))
    assert response.status_code == 200, response.text
    assert response.json() == {"success_count": 50, "error_count": 0, "successes": shown, "errors": []}
    assert oneup.ok("GET", "/projects") == []


def test_50_ids_mostly_missing_are_accepted(oneup, context, org):
    (kept,) = insert_projects(context, org, 1)
    ids = [kept] + [MISSING_ID - n for n in range(49)]
    body = oneup.ok("DELETE", "/projects?ids=" + ",".join(map(str, ids)))
    assert (body["success_count"], body["error_count"]) == (1, 49)
    assert body["errors"] == [missing(row_id) for row_id in ids[1:]]


def test_more_than_50_ids_is_400_code_5_and_nothing_is_deleted(oneup, context, org):
    ids = insert_projects(context, org, 51)
    before = book_snapshot(context, org.id)
    assert_parse_error(oneup.delete("/projects?ids=" + ",".join(map(str, ids))))
    assert book_snapshot(context, org.id) == before
    assert [p["id"] for p in oneup.ok("GET", "/projects?limit=1000")] == ids


@pytest.mark.parametrize("query", [
    "?ids={id},a", "?ids=", "", "?ids=,", "?ids={id},", "?ids=,{id}", "?ids={id},,{id}", "?ids=-{id}",
    "?ids={id}.0", "?ids={id}%20{id}", "?ids={id};{id}", "?ids=abc", "?ids=%20{id}", "?ids=[{id}]",
    "?id={id}", "?ids={id},0x1f", "?ids={id},1e3",
    "?ids={id},%C2%B2",  # a superscript two is not an integer
])
def test_malformed_ids_are_400_code_5_and_nothing_is_deleted(oneup, context, org, query):
    project = oneup.ok("POST", "/projects", {"name": "Survivor"})
    before = book_snapshot(context, org.id)
    assert_parse_error(oneup.delete("/projects" + query.format(id=project["id"])))
    assert book_snapshot(context, org.id) == before
    assert oneup.ok("GET", f"/projects/{project['id']}") == project



@pytest.fixture
def lenient(app, org, oneup) -> OneUpClient:
    """Like `oneup`, but a server error comes back as the 500 response a client sees."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield OneUpClient(test_client, org)


def test_ids_in_non_ascii_digits_are_400_code_5(lenient, context, org):
    """"١" is an Arabic-Indic one: a digit to Python's int(), not an integer of ids=42,12,1337."""
    project = lenient.ok("POST", "/projects", {"name": "Survivor"})
    before = book_snapshot(context, org.id)
    assert_parse_error(lenient.delete(f"/projects?ids={project['id']},%D9%A1"))
    assert_parse_error(lenient.delete("/projects?ids=%EF%BC%95"))  # a fullwidth five
    assert book_snapshot(context, org.id) == before


@pytest.mark.parametrize("huge", [2**63, 99999999999999999999999])
def test_an_id_too_large_for_any_row_is_not_found(lenient, context, org, huge):
    """ids=<integer beyond any id> is well formed: that id is reported not found (or the whole
    request refused with 400 code 5); it is never a server error, and the others are handled."""
    project = lenient.ok("POST", "/projects", {"name": "Ordinary"})
    response = lenient.delete(f"/projects?ids={project['id']},{huge}")
    if response.status_code == 400:
        assert_parse_error(response)
        assert lenient.ok("GET", f"/projects/{project['id']}") == project
    else:
        assert response.status_code == 200, response.text
        assert response.json() == {"success_count": 1, "error_count": 1, "successes": [project],
                                   "errors": [missing(huge)]}
