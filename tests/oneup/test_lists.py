"""OneUp v1 lists, seen by a client: comparison filters, sorting, offset/limit paging, every
resource listed and fetched, read-only resources, unknown ids, and the CRUD round trip.

Everything goes through the real app (fixtures `oneup`, `client`, `org`, `context`); tasks, which
the API cannot create, are inserted through the service layer as the brief describes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.storage.tables import Opportunity, Project, Task

from ..helpers import OneUpClient, book_snapshot, error_of

HAS_NEXT = "X-OneUp-Has-Next-Page"
NOT_FOUND = {"status": 404, "code": "2", "message": "The resource was not found."}
PARSE_ERROR_MESSAGE = "The request was not parsed. Please double-check the content of the request."


# -- helpers -----------------------------------------------------------------------------------

def ids_of(response) -> list[int]:
    assert response.status_code == 200, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, list), body
    return [element["id"] for element in body]


def assert_parse_error(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == "5"
    assert error["message"] == PARSE_ERROR_MESSAGE
    return error


def assert_not_found(response) -> None:
    assert response.status_code == 404, (response.status_code, response.text)
    error = error_of(response)
    assert {k: error[k] for k in ("status", "code", "message")} == NOT_FOUND


def statuses(client, paths) -> dict[str, tuple[int, str | None]]:
    """GET each path: its status and OneUp error code (None when the body is not an error)."""
    outcomes = {}
    for path in paths:
        response = client.get(path)
        body = response.json()
        outcomes[path] = (response.status_code, body["error"]["code"] if isinstance(body, dict) else None)
    return outcomes


def assert_all_parse_errors(client, paths) -> None:
    assert statuses(client, paths) == {path: (400, "5") for path in paths}


def make_projects(oneup, *names: str) -> list[int]:
    return [oneup.ok("POST", "/projects", {"name": name})["id"] for name in names]


def make_customers(oneup, *names: str) -> list[int]:
    return [oneup.ok("POST", "/customers", {"type": 1, "company_name": name})["id"] for name in names]


def make_item(oneup, name: str, sales_price: str = "0", type: int = 1) -> int:
    return oneup.ok("POST", "/items", {"type": type, "name": name, "sales_price": Decimal(sales_price)})["id"]


def insert_projects(context, org, count: int) -> list[int]:
    """Many small projects at once, through the service layer (the API would take 1 call each)."""
    with open_book(context.database, org.id) as book:
        projects = [book.projects.add(Project(name=f"P{n:03d}", description="")) for n in range(count)]
        return [project.id for project in projects]


@pytest.fixture
def lenient(app, org, oneup) -> OneUpClient:
    """Like `oneup`, but a server error comes back as the 500 response a client sees (instead of
    the exception re-raised into the test): the robustness tests compare statuses."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield OneUpClient(test_client, org)


HUGE = 99999999999999999999999  # a well-formed integer no id (nor 64-bit column) can hold


# -- filters: integer field --------------------------------------------------------------------

@pytest.fixture
def five_projects(oneup) -> list[int]:
    return make_projects(oneup, "One", "Two", "Three", "Four", "Five")


def check_filters(oneup, path: str, expected: dict[str, list[int]]) -> None:
    """Every query of `expected` lists exactly its ids (in ascending order); one assertion shows
    every query that differs."""
    observed = {query: ids_of(oneup.get(f"{path}?{query}")) for query in expected}
    assert observed == expected


def test_integer_filter_operators(oneup, five_projects):
    p = five_projects
    c = p[2]
    check_filters(oneup, "/projects", {
        f"id=lt:{c}": p[:2],
        f"id=lte:{c}": p[:3],
        f"id=gt:{c}": p[3:],
        f"id=gte:{c}": p[2:],
        f"id=eq:{c}": [c],
        f"id=not:{c}": [p[0], p[1], p[3], p[4]],
        f"id={c}": [c],  # a bare value means eq
        f"id=eq:{p[0] - 1}": [],
        f"id=not:{p[0] - 1}": p,
    })


def test_two_comparisons_on_one_field_are_anded(oneup, five_projects):
    a, b, c, d, _ = five_projects
    assert ids_of(oneup.get(f"/projects?id=gte:{b}&id=lt:{d}")) == [b, c]
    assert ids_of(oneup.get(f"/projects?id=gt:{a}&id=lte:{d}&id=not:{c}")) == [b, d]
    # contradictory comparisons: nothing, not an error
    assert ids_of(oneup.get(f"/projects?id=lt:{b}&id=gt:{d}")) == []


def test_filters_on_several_fields_are_anded(oneup):
    cheap_service = make_item(oneup, "Cheap service", "5", type=1)
    dear_service = make_item(oneup, "Dear service", "50", type=1)
    dear_product = make_item(oneup, "Dear product", "50", type=2)
    assert ids_of(oneup.get("/items?type=1&sales_price=gt:10")) == [dear_service]
    assert ids_of(oneup.get("/items?type=eq:2&sales_price=gte:50")) == [dear_product]
    assert ids_of(oneup.get("/items?type=not:2&sales_price=lt:50")) == [cheap_service]


# -- filters: text field -----------------------------------------------------------------------

def test_text_filter_operators_on_customer_full_name(oneup):
    names = ["Charlie", "Alpha", "Delta", "Bravo"]
    by_name = dict(zip(names, make_customers(oneup, *names)))

    def named(*picked: str) -> list[int]:
        return sorted(by_name[name] for name in picked)

    check_filters(oneup, "/customers", {
        "full_name=lt:Charlie": named("Alpha", "Bravo"),
        "full_name=lte:Charlie": named("Alpha", "Bravo", "Charlie"),
        "full_name=gt:Charlie": named("Delta"),
        "full_name=gte:Charlie": named("Charlie", "Delta"),
        "full_name=eq:Bravo": named("Bravo"),
        "full_name=not:Bravo": named("Charlie", "Alpha", "Delta"),
        "full_name=Delta": named("Delta"),
        "full_name=Nobody": [],
        "full_name=gte:B&full_name=lt:D": named("Bravo", "Charlie"),
    })


def test_text_filter_value_may_contain_colons_and_spaces(oneup):
    plain, colon = make_customers(oneup, "Acme Corp", "Time: 10:30 Ltd")
    assert ids_of(oneup.get("/customers?full_name=eq:Time:%2010:30%20Ltd")) == [colon]
    # not a known operator before the first colon: the whole value is compared with eq
    assert ids_of(oneup.get("/customers?full_name=Time:%2010:30%20Ltd")) == [colon]
    assert ids_of(oneup.get("/customers?full_name=Acme%20Corp")) == [plain]
    assert ids_of(oneup.get("/customers?full_name=Acme+Corp")) == [plain]


def test_text_filter_operators_on_item_name(oneup):
    by_name = {name: make_item(oneup, name) for name in ("Mango", "Apple", "Zucchini", "Banana")}

    def named(*picked: str) -> list[int]:
        return sorted(by_name[name] for name in picked)

    check_filters(oneup, "/items", {
        "name=lt:Mango": named("Apple", "Banana"),
        "name=lte:Mango": named("Apple", "Banana", "Mango"),
        "name=gt:Mango": named("Zucchini"),
        "name=gte:Mango": named("Mango", "Zucchini"),
        "name=eq:Banana": named("Banana"),
        "name=not:Banana": named("Apple", "Mango", "Zucchini"),
        "name=Mango": named("Mango"),
    })


# -- filters: date fields ----------------------------------------------------------------------

@pytest.fixture
def dated_tasks(context, org) -> list[int]:
    """Three project tasks due 2024-01-10, 2024-02-15 and 2024-03-20."""
    with open_book(context.database, org.id) as book:
        project = book.projects.add(Project(name="Dated", description=""))
        tasks = [book.tasks.add(Task(kind="project", name=f"Task {n}", project_id=project.id, due_date=due))
                 for n, due in enumerate((date(2024, 1, 10), date(2024, 2, 15), date(2024, 3, 20)))]
        return [task.id for task in tasks]


def test_date_filter_operators_on_task_due_date(oneup, dated_tasks):
    jan, feb, mar = dated_tasks
    check_filters(oneup, "/project_tasks", {
        "due_date=lt:2024-02-15": [jan],
        "due_date=lte:2024-02-15": [jan, feb],
        "due_date=gt:2024-02-15": [mar],
        "due_date=gte:2024-02-15": [feb, mar],
        "due_date=eq:2024-02-15": [feb],
        "due_date=not:2024-02-15": [jan, mar],
        "due_date=2024-03-20": [mar],
        "due_date=gte:2024-01-01&due_date=lt:2024-03-01": [jan, feb],
        "due_date=gt:2024-03-20": [],
    })


def test_created_at_filter_compares_whole_days(oneup):
    """created_at filters take a date (yyyy-MM-dd): a record created today is created *on*
    today, so eq/lte/gte today find it and lt/gt/not today do not."""
    made = [make_item(oneup, "Made today"), make_item(oneup, "Also made today")]
    today = datetime.now(UTC).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    found = {
        f"gt:{yesterday}": made, f"lt:{tomorrow}": made, f"gte:{today}": made,
        f"lt:{today}": [], f"gt:{tomorrow}": [], f"lte:{yesterday}": [], f"gt:{today}": [],
        f"eq:{today}": made, f"lte:{today}": made, f"{today}": made, f"not:{today}": [],
        f"eq:{yesterday}": [], f"not:{yesterday}": made,
    }
    observed = {value: ids_of(oneup.get(f"/items?created_at={value}")) for value in found}
    assert observed == found


# -- filters: number field ---------------------------------------------------------------------

def test_number_filter_operators_on_item_sales_price(oneup):
    # 9.5 < 10 < 10.25 < 100 numerically, but not as text: a string comparison shows up here
    by_price = {price: make_item(oneup, f"Priced {price}", price) for price in ("100", "9.5", "10.25", "10")}

    def priced(*picked: str) -> list[int]:
        return sorted(by_price[price] for price in picked)

    check_filters(oneup, "/items", {
        "sales_price=lt:10": priced("9.5"),
        "sales_price=lte:10": priced("9.5", "10"),
        "sales_price=gt:10": priced("10.25", "100"),
        "sales_price=gte:10.25": priced("10.25", "100"),
        "sales_price=eq:10": priced("10"),
        "sales_price=eq:10.00": priced("10"),
        "sales_price=not:10": priced("9.5", "10.25", "100"),
        "sales_price=100": priced("100"),
        "sales_price=gt:9.99&sales_price=lt:100": priced("10", "10.25"),
        "sales_price=lt:-1": [],
        "sales_price=eq:10.250001": [],
    })


# -- filters: errors and unknown parameters ----------------------------------------------------

def test_invalid_filter_value_is_400_code_5(oneup, five_projects):
    assert_parse_error(oneup.get("/projects?id=gt:abc"))
    assert_all_parse_errors(oneup, [
        "/projects?id=gt:abc",
        "/projects?id=abc",
        "/projects?id=gt:",
        "/projects?id=like:3",
        "/projects?id=gt:1.5",
        "/items?sales_price=lt:abc",
        "/items?sales_price=eq:NaN",
        "/items?created_at=gte:2020-13-45",
        "/items?created_at=gte:yesterday",
        "/project_tasks?due_date=eq:2024-02-30",
        "/customers?id=gte:1&id=lt:x",
        f"/projects?id=gte:{five_projects[0]}&id=lt:x",
    ])


def _outcome(response, expected_ids: list[int]) -> str:
    """'ok' when the list is the expected one, or the value refused with 400 code 5; else what came."""
    if response.status_code == 400 and response.json()["error"]["code"] == "5":
        return "ok"
    if response.status_code == 200 and [e["id"] for e in response.json()] == expected_ids:
        return "ok"
    return f"{response.status_code} {response.text[:120]}"


def test_integer_filter_beyond_the_id_range(lenient, five_projects):
    """A well-formed integer too large for any id: the comparison holds (or the value is refused
    with 400 code 5); it is never a server error."""
    cases = {f"id=lt:{HUGE}": five_projects, f"id=gt:{HUGE}": [], f"id={HUGE}": [], f"id=not:{HUGE}": five_projects,
             f"id=gt:-{HUGE}": five_projects}
    outcomes = {query: _outcome(lenient.get("/projects?" + query), expected) for query, expected in cases.items()}
    assert outcomes == {query: "ok" for query in cases}


def test_number_filter_beyond_the_stored_range(lenient, oneup):
    prices = [make_item(oneup, f"Priced {price}", price) for price in ("5", "7")]
    cases = {f"sales_price=lt:{HUGE}": prices, f"sales_price=gt:{HUGE}": [], f"sales_price=gt:-{HUGE}": prices,
             f"sales_price=eq:{HUGE}.5": []}
    outcomes = {query: _outcome(lenient.get("/items?" + query), expected) for query, expected in cases.items()}
    assert outcomes == {query: "ok" for query in cases}


def test_unknown_query_parameters_are_ignored(oneup, five_projects):
    assert ids_of(oneup.get("/projects?foo=bar&unknown=gt:abc&description=eq:nothing")) == five_projects
    assert ids_of(oneup.get(f"/projects?colour=blue&id=gte:{five_projects[3]}")) == five_projects[3:]


# -- sorting -----------------------------------------------------------------------------------

def test_sort_descending_by_id(oneup, five_projects):
    assert ids_of(oneup.get("/projects?sort=-id")) == five_projects[::-1]
    assert ids_of(oneup.get("/projects?sort=%2Did")) == five_projects[::-1]
    assert ids_of(oneup.get("/projects?sort=id")) == five_projects
    # no sort: ascending ids
    assert ids_of(oneup.get("/projects")) == five_projects


@pytest.fixture
def named_projects(oneup) -> dict[str, int]:
    names = ["Charlie", "Alpha", "Echo", "Bravo", "Delta"]
    return dict(zip(names, make_projects(oneup, *names)))


def test_sort_ascending_by_name_with_percent_encoded_plus(oneup, named_projects):
    response = oneup.get("/projects?sort=%2Bname")
    assert response.request.url.query == b"sort=%2Bname"
    assert [p["name"] for p in response.json()] == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert ids_of(response) == [named_projects[n] for n in ("Alpha", "Bravo", "Charlie", "Delta", "Echo")]


def test_sort_ascending_by_name_with_raw_plus(oneup, named_projects):
    """A raw + in a query string decodes to a space; `sort=+name` must still sort ascending."""
    response = oneup.get("/projects?sort=+name")
    assert response.request.url.query == b"sort=+name"
    assert [p["name"] for p in response.json()] == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


def test_sort_descending_by_name_and_without_prefix(oneup, named_projects):
    assert [p["name"] for p in oneup.ok("GET", "/projects?sort=-name")] == ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]
    assert [p["name"] for p in oneup.ok("GET", "/projects?sort=name")] == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


def test_sort_by_two_terms(oneup):
    s1 = make_item(oneup, "S1", type=1)
    p1 = make_item(oneup, "P1", type=2)
    s2 = make_item(oneup, "S2", type=1)
    p2 = make_item(oneup, "P2", type=2)
    assert ids_of(oneup.get("/items?sort=type,-id")) == [s2, s1, p2, p1]
    assert ids_of(oneup.get("/items?sort=-type,id")) == [p1, p2, s1, s2]
    assert ids_of(oneup.get("/items?sort=%2Btype,-id")) == [s2, s1, p2, p1]
    assert ids_of(oneup.get("/items?sort=+type,-id")) == [s2, s1, p2, p1]


def test_sort_by_two_terms_on_customers(oneup):
    c1 = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Co one"})["id"]
    i1 = oneup.ok("POST", "/customers", {"type": 2, "last_name": "Person one"})["id"]
    c2 = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Co two"})["id"]
    assert ids_of(oneup.get("/customers?sort=type,-id")) == [c2, c1, i1]


def test_unknown_sort_field_is_400_code_5(oneup):
    assert_parse_error(oneup.get("/projects?sort=bogus"))
    assert_all_parse_errors(oneup, [
        "/projects?sort=bogus",
        "/projects?sort=-bogus",
        "/projects?sort=%2Bbogus",
        "/projects?sort=id,bogus",
        "/projects?sort=description",
        "/customers?sort=notes",
        "/items?sort=private_note",
    ])


@pytest.mark.parametrize("resource, body", [
    ("customers", {"type": 1, "company_name": "Newest"}),
    ("items", {"type": 1, "name": "Newest"}),
])
def test_sort_by_descending_created_at(oneup, resource, body):
    created = [oneup.ok("POST", f"/{resource}", {**body})["id"] for _ in range(3)]
    response = oneup.get(f"/{resource}?limit=100&offset=0&sort=-created_at")
    assert ids_of(response) == created[::-1]
    assert response.headers[HAS_NEXT] == "false"
    assert ids_of(oneup.get(f"/{resource}?sort=created_at")) == created


# -- paging ------------------------------------------------------------------------------------

@pytest.fixture
def seven_projects(oneup) -> list[int]:
    return make_projects(oneup, *(f"Page {n}" for n in range(7)))


def test_offset_and_limit_slice_exactly(oneup, seven_projects):
    cases = [  # offset, limit, expected slice of the seven, has next page
        (0, 3, slice(0, 3), "true"),
        (2, 3, slice(2, 5), "true"),
        (4, 3, slice(4, 7), "false"),  # the page ends exactly at the last record
        (5, 3, slice(5, 7), "false"),
        (6, 1, slice(6, 7), "false"),
        (0, 6, slice(0, 6), "true"),
        (0, 7, slice(0, 7), "false"),
        (0, 1000, slice(0, 7), "false"),
        (3, 1, slice(3, 4), "true"),
    ]
    observed, expected = {}, {}
    for offset, limit, part, has_next in cases:
        response = oneup.get(f"/projects?offset={offset}&limit={limit}")
        observed[(offset, limit)] = (ids_of(response), response.headers[HAS_NEXT])
        expected[(offset, limit)] = (seven_projects[part], has_next)
    assert observed == expected


def test_offset_past_the_end_is_an_empty_page(lenient, seven_projects):
    offsets = [7, 8, 100, 1000000, 2**63, HUGE]
    observed = {}
    for offset in offsets:
        response = lenient.get(f"/projects?offset={offset}&limit=5")
        observed[offset] = (response.status_code, response.json(), response.headers.get(HAS_NEXT))
    assert observed == {offset: (200, [], "false") for offset in offsets}


def test_paging_applies_after_filter_and_sort(oneup, seven_projects):
    response = oneup.get(f"/projects?id=gt:{seven_projects[0]}&sort=-id&offset=1&limit=2")
    assert ids_of(response) == [seven_projects[5], seven_projects[4]]
    assert response.headers[HAS_NEXT] == "true"
    response = oneup.get(f"/projects?id=gt:{seven_projects[0]}&sort=-id&offset=4&limit=2")
    assert ids_of(response) == [seven_projects[2], seven_projects[1]]
    assert response.headers[HAS_NEXT] == "false"


def test_empty_list_says_no_next_page(oneup):
    response = oneup.get("/projects")
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers[HAS_NEXT] == "false"
    assert response.headers["content-type"].startswith("application/json")


def test_bad_paging_parameters_are_400_code_5(oneup):
    assert_parse_error(oneup.get("/projects?limit=0"))
    queries = ["limit=0", "limit=1001", "offset=-1", "limit=abc", "limit=-5", "limit=1.5", "offset=abc",
               "offset=1.5", "limit=100000", "limit=1&limit=0"]
    assert_all_parse_errors(oneup, [f"/{resource}?{query}" for resource in ("projects", "customers")
                                    for query in queries])


def test_paging_parameters_in_non_ascii_digits_are_400_code_5(lenient):
    # "²" is a Unicode digit that int() refuses; "١" (Arabic-Indic one) is one it accepts:
    # neither is an integer of the query grammar
    assert_all_parse_errors(lenient, ["/projects?limit=%C2%B2", "/projects?offset=%C2%B2", "/projects?limit=%D9%A1",
                                      "/projects?offset=%D9%A1", "/projects?limit=%EF%BC%95"])


def test_default_page_size_is_100(oneup, context, org):
    ids = insert_projects(context, org, 105)
    first = oneup.get("/projects")
    assert ids_of(first) == ids[:100]
    assert first.headers[HAS_NEXT] == "true"
    rest = oneup.get("/projects?offset=100")
    assert ids_of(rest) == ids[100:]
    assert rest.headers[HAS_NEXT] == "false"
    everything = oneup.get("/projects?limit=1000")
    assert ids_of(everything) == ids
    assert everything.headers[HAS_NEXT] == "false"
    exactly = oneup.get("/projects?limit=105")
    assert len(ids_of(exactly)) == 105 and exactly.headers[HAS_NEXT] == "false"
    short = oneup.get("/projects?limit=104")
    assert len(ids_of(short)) == 104 and short.headers[HAS_NEXT] == "true"


# -- every resource is listed and fetched ------------------------------------------------------

@pytest.fixture
def book_with_everything(oneup, context, org) -> dict:
    """One record of each writable resource through the API, and one task of each kind."""
    me = oneup.ok("GET", "/me")
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Listed Customer",
                                               "contacts": [{"first_name": "Ann", "last_name": "Lee"}]})
    vendor = oneup.ok("POST", "/vendors", {"type": 2, "first_name": "Val", "last_name": "Vendor"})
    family = oneup.ok("POST", "/item_families", {"name": "Listed family"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Listed service", "family_id": family["id"]})
    project = oneup.ok("POST", "/projects", {"name": "Listed project", "description": "Desc"})
    employee = oneup.ok("POST", "/employees", {"first_name": "Eve", "last_name": "Employee"})
    with open_book(context.database, org.id) as book:
        opportunity = book.opportunities.add(Opportunity(name="Big deal"))
        project_task = book.tasks.add(Task(
            kind="project", name="Buy supplies", notes="Let's buy the supplies.", due_date=date(2016, 3, 17),
            assigned_to_id=me["id"], customer_id=customer["id"], contact_id=customer["contacts"][0]["id"],
            project_id=project["id"], service_to_bill_id=item["id"]))
        opportunity_task = book.tasks.add(Task(
            kind="opportunity", name="Call back", status="done", done_date=date(2016, 3, 18),
            time_spent=Decimal("1.5"), customer_id=customer["id"], opportunity_id=opportunity.id))
        ids = {"project_task": project_task.id, "opportunity_task": opportunity_task.id,
               "opportunity": opportunity.id}
    return {"me": me, "customer": customer, "vendor": vendor, "family": family, "item": item,
            "project": project, "employee": employee, **ids}


WRITABLE = ["customers", "vendors", "items", "item_families", "projects", "employees"]
READ_ONLY = ["payment_terms", "taxes", "currencies", "units", "project_tasks", "opportunity_tasks"]


def test_every_resource_is_listed_and_each_element_fetched(oneup, book_with_everything):
    problems = {}
    for resource in WRITABLE + READ_ONLY:
        response = oneup.get(f"/{resource}")
        listed = oneup.ok("GET", f"/{resource}")
        if response.headers.get(HAS_NEXT) != "false":
            problems[resource] = f"{HAS_NEXT}: {response.headers.get(HAS_NEXT)}"
        elif not listed:
            problems[resource] = "lists nothing"
        elif [e["id"] for e in listed] != sorted(e["id"] for e in listed):
            problems[resource] = "not in ascending id order"
        else:
            fetched = [oneup.ok("GET", f"/{resource}/{e['id']}") for e in listed]
            if fetched != listed:
                problems[resource] = "an element fetched differs from the list"
    assert problems == {}


def test_writable_resources_list_what_was_created(oneup, book_with_everything):
    b = book_with_everything
    assert [c["id"] for c in oneup.ok("GET", "/customers")] == [b["customer"]["id"]]
    assert [v["id"] for v in oneup.ok("GET", "/vendors")] == [b["vendor"]["id"]]
    assert [i["id"] for i in oneup.ok("GET", "/items")] == [b["item"]["id"]]
    assert [p["id"] for p in oneup.ok("GET", "/projects")] == [b["project"]["id"]]
    assert b["family"] in oneup.ok("GET", "/item_families")
    assert [e["id"] for e in oneup.ok("GET", "/employees")] == [b["me"]["id"], b["employee"]["id"]]
    assert oneup.ok("GET", f"/projects/{b['project']['id']}") == {
        "id": b["project"]["id"], "name": "Listed project", "description": "Desc"}
    assert oneup.ok("GET", f"/item_families/{b['family']['id']}") == {
        "id": b["family"]["id"], "name": "Listed family", "code": b["family"]["code"]}
    assert b["family"]["code"].startswith("FAM-")


def test_project_and_opportunity_tasks_show_their_links(oneup, book_with_everything):
    b = book_with_everything
    me, customer, item, project = b["me"], b["customer"], b["item"], b["project"]
    contact = customer["contacts"][0]
    assert oneup.ok("GET", "/project_tasks") == [{
        "id": b["project_task"],
        "name": "Buy supplies",
        "notes": "Let's buy the supplies.",
        "status": "todo",
        "due_date": "2016-03-17",
        "done_date": None,
        "time_spent": None,
        "assigned_to": {"id": me["id"], "first_name": "API", "last_name": "User", "user_code": "EMP-001"},
        "customer": {"id": customer["id"], "name": "Listed Customer", "user_code": customer["user_code"]},
        "contact": {"id": contact["id"], "name": "Ann Lee"},
        "project": {"id": project["id"], "name": "Listed project"},
        "service_to_bill": {"id": item["id"], "name": "Listed service", "user_code": item["item_number"]},
    }]
    assert oneup.ok("GET", "/opportunity_tasks") == [{
        "id": b["opportunity_task"],
        "name": "Call back",
        "notes": "",
        "status": "done",
        "due_date": None,
        "done_date": "2016-03-18",
        "time_spent": Decimal("1.5"),
        "assigned_to": None,
        "customer": {"id": customer["id"], "name": "Listed Customer", "user_code": customer["user_code"]},
        "contact": None,
        "opportunity": {"id": b["opportunity"], "name": "Big deal"},
    }]
    # a task is only reachable under its own kind
    assert_not_found(oneup.get(f"/opportunity_tasks/{b['project_task']}"))
    assert_not_found(oneup.get(f"/project_tasks/{b['opportunity_task']}"))


def test_task_filters(oneup, book_with_everything):
    b = book_with_everything
    assert ids_of(oneup.get("/project_tasks?status=todo")) == [b["project_task"]]
    assert ids_of(oneup.get("/project_tasks?status=done")) == []
    assert ids_of(oneup.get(f"/project_tasks?project_id={b['project']['id']}")) == [b["project_task"]]
    assert ids_of(oneup.get(f"/opportunity_tasks?customer_id={b['customer']['id']}")) == [b["opportunity_task"]]
    assert ids_of(oneup.get("/opportunity_tasks?done_date=gte:2016-03-18")) == [b["opportunity_task"]]


def test_currencies_main_currency_is_usd(oneup):
    currencies = oneup.ok("GET", "/currencies")
    main = [c for c in currencies if c["is_main_currency"] is True]
    assert [(c["iso_code"], c["name"]) for c in main] == [("USD", "US Dollar")]  # ISO 4217's name
    assert all(c["is_main_currency"] is False for c in currencies if c["iso_code"] != "USD")
    assert all(set(c) == {"id", "iso_code", "name", "is_main_currency"} for c in currencies)
    usd = main[0]
    assert oneup.ok("GET", f"/currencies/{usd['id']}") == usd
    assert oneup.ok("GET", "/currencies?iso_code=USD") == [usd]


def test_units_cover_the_six_types(oneup):
    units = oneup.ok("GET", "/units")
    assert {u["type"] for u in units} == {1, 2, 3, 4, 5, 6}
    assert all(set(u) == {"id", "name", "type"} for u in units)
    days = [u for u in units if u["name"] == "Day"]
    assert [u["type"] for u in days] == [6]
    assert {u["type"] for u in oneup.ok("GET", "/units?type=3")} == {3}
    assert [u["type"] for u in oneup.ok("GET", "/units?sort=type")] == sorted(u["type"] for u in units)


def test_payment_terms_and_taxes(oneup):
    terms = oneup.ok("GET", "/payment_terms")
    assert all(set(t) == {"id", "name"} for t in terms)
    assert "Due on receipt" in [t["name"] for t in terms]
    taxes = oneup.ok("GET", "/taxes")
    assert all(set(t) == {"id", "name", "rate"} for t in taxes)
    assert {"name": "10% Federal Tax", "rate": 10} in [{"name": t["name"], "rate": t["rate"]} for t in taxes]
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Default terms"})
    due_on_receipt = next(t for t in terms if t["name"] == "Due on receipt")
    assert customer["payment_terms"] == due_on_receipt


# -- read-only resources -----------------------------------------------------------------------

def test_read_only_resources_refuse_writes(oneup, book_with_everything, context, org):
    before = book_snapshot(context, org.id)
    lists = {resource: oneup.ok("GET", f"/{resource}") for resource in READ_ONLY}
    refused = {}
    for resource in READ_ONLY:
        first = lists[resource][0]["id"]
        for method, path, body in (("POST", f"/{resource}", {"name": "New one"}),
                                   ("PUT", f"/{resource}/{first}", {"name": "Renamed"}),
                                   ("DELETE", f"/{resource}/{first}", None),
                                   ("DELETE", f"/{resource}?ids={first}", None)):
            response = oneup.request(method, path, body)
            error_of(response)  # a OneUp error body whose status is the response's
            refused[f"{method} {path}"] = 400 <= response.status_code < 500
    assert refused == {call: True for call in refused}
    assert {resource: oneup.ok("GET", f"/{resource}") for resource in READ_ONLY} == lists
    assert book_snapshot(context, org.id) == before


@pytest.mark.parametrize("method, path", [
    ("PUT", "/customers"),
    ("POST", "/customers/{id}"),
])
def test_methods_the_collection_or_element_does_not_offer(oneup, method, path):
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Only one"})
    response = oneup.request(method, path.format(id=customer["id"]), {"type": 1, "company_name": "Other"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error_of(response)
    assert oneup.ok("GET", "/customers") == [customer]


# -- unknown ids -------------------------------------------------------------------------------

def test_unknown_or_non_numeric_id_is_404_code_2(oneup):
    outcomes = {}
    for resource in WRITABLE + READ_ONLY:
        for element in ("2000000000", "abc", "1.5", "-1", "0", "%2B1", "1e3", "12abc", "%20"):
            response = oneup.get(f"/{resource}/{element}")
            outcomes[f"/{resource}/{element}"] = (response.status_code, response.json())
    assert outcomes == {path: (404, {"error": NOT_FOUND}) for path in outcomes}


def test_ids_no_row_can_have_are_404_code_2(lenient):
    """A superscript digit, a 24-digit and a 2**63 id: 404 code 2 like any unknown id, never a 500."""
    elements = ["%C2%B2", str(HUGE), str(2**63), str(2**31)]
    outcomes = {}
    for resource in WRITABLE + READ_ONLY:
        for element in elements:
            for method in ("GET", "PUT", "DELETE") if resource in WRITABLE else ("GET",):
                response = lenient.request(method, f"/{resource}/{element}", {"name": "x"} if method == "PUT" else None)
                outcomes[f"{method} /{resource}/{element}"] = (response.status_code, response.json())
    assert outcomes == {call: (404, {"error": NOT_FOUND}) for call in outcomes}


def test_writes_to_an_unknown_id_are_404_code_2(oneup):
    outcomes = {}
    for resource in WRITABLE:
        for element in ("2000000000", "abc"):
            put = oneup.put(f"/{resource}/{element}", {"name": "x", "last_name": "x", "company_name": "x"})
            delete = oneup.delete(f"/{resource}/{element}")
            outcomes[f"PUT /{resource}/{element}"] = (put.status_code, put.json())
            outcomes[f"DELETE /{resource}/{element}"] = (delete.status_code, delete.json())
    assert outcomes == {call: (404, {"error": NOT_FOUND}) for call in outcomes}


def test_a_customer_is_not_a_vendor(oneup):
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "Only a customer"})
    vendor = oneup.ok("POST", "/vendors", {"type": 1, "company_name": "Only a vendor"})
    assert_not_found(oneup.get(f"/vendors/{customer['id']}"))
    assert_not_found(oneup.get(f"/customers/{vendor['id']}"))
    assert_not_found(oneup.delete(f"/vendors/{customer['id']}"))
    assert oneup.ok("GET", f"/customers/{customer['id']}") == customer


# -- CRUD round trips --------------------------------------------------------------------------

ROUND_TRIPS = {
    "customers": ({"type": 1, "company_name": "Round Trip Inc", "email": "a@example.com"},
                  {"phone_number": "(415) 555-0000"}, {"full_name": "Round Trip Inc", "email": "a@example.com"}),
    "vendors": ({"type": 2, "first_name": "Rita", "last_name": "Round"},
                {"email": "rita@example.com"}, {"full_name": "Rita Round", "last_name": "Round"}),
    "items": ({"type": 2, "name": "Round widget", "sales_price": Decimal("19.9"), "purchase_price": Decimal(7)},
              {"sales_price": Decimal("21.5")}, {"name": "Round widget", "purchase_price": 7}),
    "item_families": ({"name": "Round family"}, {"name": "Renamed family"}, {}),
    "projects": ({"name": "Round project", "description": "First"}, {"description": "Second"},
                 {"name": "Round project"}),
    "employees": ({"first_name": "Rob", "last_name": "Round"}, {"email": "rob@example.com"},
                  {"first_name": "Rob", "last_name": "Round"}),
}


@pytest.mark.parametrize("resource", list(ROUND_TRIPS))
def test_crud_round_trip(oneup, resource):
    create, change, kept = ROUND_TRIPS[resource]
    created = oneup.ok("POST", f"/{resource}", create)
    element = f"/{resource}/{created['id']}"
    assert isinstance(created["id"], int)
    assert oneup.ok("GET", element) == created
    assert created["id"] in ids_of(oneup.get(f"/{resource}"))

    updated = oneup.ok("PUT", element, change)
    for name, value in {**change, **kept}.items():
        assert updated[name] == value, (name, updated[name], value)
    untouched = {k: v for k, v in created.items() if k not in change and k != "updated_at"}
    assert {k: updated[k] for k in untouched} == untouched
    fetched = oneup.ok("GET", element)
    assert fetched == updated
    assert fetched in oneup.ok("GET", f"/{resource}")

    deleted = oneup.ok("DELETE", element)
    assert deleted == fetched
    assert_not_found(oneup.get(element))
    assert_not_found(oneup.delete(element))
    assert_not_found(oneup.put(element, change))
    assert created["id"] not in ids_of(oneup.get(f"/{resource}"))
