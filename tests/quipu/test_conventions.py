"""JSON:API as Quipu speaks it (specs/quipu.md §2, §5, §6, §10): both path shapes, tolerant slashes,
the media types, paging with meta.pagination_info on every list, include= only when asked, PUT as
PATCH, errors[] with detail and source.pointer, and a bad request that changes nothing."""

from __future__ import annotations

from ..helpers import book_snapshot
from .conftest import MEDIA_TYPE, item, quipu_errors, relationship


def test_both_path_shapes_and_tolerant_slashes_reach_the_same_contacts(quipu, org):
    contact = quipu.contact("Both Shapes S.L.")
    for path in ("/contacts", f"/{org.slug}/contacts", "//contacts", "/contacts/", f"//{org.slug}//contacts/"):
        body = quipu.ok("GET", path)
        assert [row["id"] for row in body["data"]] == [contact["id"]], path
    assert quipu.ok("GET", f"/{org.slug}/contacts/{contact['id']}/")["data"]["id"] == contact["id"]


def test_another_accounts_slug_is_forbidden(quipu, other_org):
    errors = quipu_errors(quipu.get(f"/{other_org.slug}/contacts"), 403)
    assert errors[0]["detail"] == "You are not authorized to access this resource"


def test_answers_are_quipus_media_type_with_ratelimit_headers(quipu):
    response = quipu.get("/contacts")
    assert response.headers["content-type"] == MEDIA_TYPE
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(response.headers)


def test_accept_header_generic_json_or_none_is_fine_only_non_json_is_refused(quipu):
    for accept in (MEDIA_TYPE, "*/*", "application/json", "application/vnd.api+json"):
        assert quipu.get("/contacts", headers={"Accept": accept}).status_code == 200, accept
    no_accept = {key: value for key, value in quipu.headers.items() if key != "Accept"}
    assert quipu.client.get("/quipu/contacts", headers=no_accept).status_code == 200
    quipu_errors(quipu.get("/contacts", headers={"Accept": "text/html"}), 406)


def test_bodies_that_are_not_jsonapi_are_400_and_change_nothing(quipu, context, org):
    before = book_snapshot(context, org.id)
    for raw, content_type in (("{not json", MEDIA_TYPE), ('{"name": "x"}', MEDIA_TYPE), ("[]", MEDIA_TYPE),
                              ('{"data": {"attributes": {"name": "x"}}}', "text/plain")):
        response = quipu.client.post("/quipu/contacts", content=raw,
                                     headers={**quipu.headers, "Content-Type": content_type})
        quipu_errors(response, 400)
    assert book_snapshot(context, org.id) == before


def test_lists_are_paged_with_pagination_info_even_when_empty(quipu):
    assert quipu.ok("GET", "/contacts")["meta"] == {"pagination_info": {"total_pages": 1, "current_page": 1,
                                                                         "total_results": 0}}
    for index in range(5):
        quipu.contact(f"Paged {index}")
    page = quipu.ok("GET", "/contacts", params={"page[number]": 2, "page[size]": 2, "sort": "name"})
    assert [row["attributes"]["name"] for row in page["data"]] == ["Paged 2", "Paged 3"]
    assert page["meta"]["pagination_info"] == {"total_pages": 3, "current_page": 2, "total_results": 5}
    encoded = quipu.client.get("/quipu/contacts?page%5Bnumber%5D=3&page%5Bsize%5D=2", headers=quipu.headers)
    assert [row["attributes"]["name"] for row in encoded.json()["data"]] == ["Paged 4"]
    for params in ({"page[size]": 101}, {"page[size]": 0}, {"page[number]": "x"}):
        quipu_errors(quipu.get("/contacts", params=params), 400)


def test_included_only_when_include_is_asked(quipu):
    contact = quipu.contact()
    invoice = quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-02-01"},
                           {"contact": relationship("contacts", contact["id"]),
                            "items": {"data": [item("Work", "10.00")]}})
    plain = quipu.ok("GET", f"/invoices/{invoice['id']}")
    assert set(plain) == {"data"}
    assert set(quipu.ok("GET", "/invoices")) == {"data", "meta"}
    included = quipu.ok("GET", f"/invoices/{invoice['id']}", params={"include": "items,contact"})
    assert sorted(entry["type"] for entry in included["included"]) == ["contacts", "items"]
    listed = quipu.ok("GET", "/invoices", params={"include": "items"})
    assert [entry["type"] for entry in listed["included"]] == ["items"]


def test_put_is_patch_and_both_are_partial(quipu):
    contact = quipu.contact("Partial S.L.", tax_id="B111", phone="600")
    for method, change in (("PATCH", {"phone": "700"}), ("PUT", {"tax_id": "B222"})):
        quipu.ok(method, f"/contacts/{contact['id']}", {"data": {"type": "contacts", "attributes": change}})
    attributes = quipu.ok("GET", f"/contacts/{contact['id']}")["data"]["attributes"]
    assert (attributes["name"], attributes["tax_id"], attributes["phone"]) == ("Partial S.L.", "B222", "700")


def test_unknown_filters_and_sorts_are_ignored_bad_filter_values_are_400(quipu):
    quipu.contact()
    assert len(quipu.ok("GET", "/contacts", params={"filter[issued_at_gteq]": "2020", "sort": "-issued_at"})["data"]) == 1
    quipu_errors(quipu.get("/invoices", params={"filter[period]": "someday"}), 400)
    quipu_errors(quipu.get("/invoices", params={"filter[payment_status]": "maybe"}), 400)


def test_unknown_ids_and_other_accounts_ids_are_record_not_found(quipu, other_quipu):
    theirs = other_quipu.contact("Theirs S.L.")
    for path in ("/contacts/999999999", "/contacts/abc", f"/contacts/{theirs['id']}"):
        assert quipu_errors(quipu.get(path), 404)[0]["detail"] == "Record not found"
    assert quipu_errors(quipu.delete(f"/contacts/{theirs['id']}"), 404)
    assert other_quipu.ok("GET", f"/contacts/{theirs['id']}")["data"]["attributes"]["name"] == "Theirs S.L."


def test_created_is_201_deleted_is_204_without_a_body(quipu):
    response = quipu.post("/contacts", {"data": {"type": "contacts", "attributes": {"name": "Short Lived"}}})
    assert response.status_code == 201
    deleted = quipu.delete(f"/contacts/{response.json()['data']['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")


def test_ids_are_strings_and_accepted_as_numbers(quipu):
    contact = quipu.contact()
    assert isinstance(contact["id"], str)
    invoice = quipu.create("/invoices", "invoices", {"kind": "income", "issue_date": "2024-02-01"},
                           {"contact": {"data": {"id": int(contact["id"]), "type": "contacts"}}})
    assert invoice["relationships"]["contact"]["data"] == {"id": contact["id"], "type": "contacts"}


def test_unauthenticated_calls_are_jsonapi_401(client):
    response = client.get("/quipu/contacts", headers={"Authorization": "Bearer nope"})
    assert quipu_errors(response, 401)[0]["detail"] == "Not authorized"


def test_nul_characters_are_refused_not_stored(quipu, context, org):
    """PostgreSQL can store no NUL in a text: a body or a filter with one is a 400, never a 500."""
    before = book_snapshot(context, org.id)
    quipu_errors(quipu.post("/contacts", {"data": {"type": "contacts", "attributes": {"name": "Nul\u0000 S.L."}}}),
                 400)
    quipu_errors(quipu.get("/contacts", params={"filter[q]": "a\u0000b"}), 400)
    assert book_snapshot(context, org.id) == before


ALLOW_PATHS = ["/invoices", "/contacts", "/accounting_subcategories", "/additional_incomes", "/numbering_series",
               "/paysheets", "/simplified_invoices", "/invoices/999999999", "/attachments/999999999"]


def test_allow_lists_every_method_served_at_the_path(quipu, context, org):
    """Issue 16 §3: OPTIONS answers 204 with `Allow`, and a 405 carries the same `Allow`: exactly the
    methods that are not refused with 405 at that path (probed with bodies that are refused, so that
    nothing is written)."""
    before = book_snapshot(context, org.id)
    for path in ALLOW_PATHS:
        options = quipu.request("OPTIONS", path)
        assert options.status_code == 204, (path, options.status_code, options.text)
        allowed = {method.strip() for method in options.headers["Allow"].split(",")}
        served = {method for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
                  if quipu.request(method, path, {"data": "not a resource"}).status_code != 405}
        assert allowed == served, path
        for method in {"POST", "PUT", "PATCH", "DELETE"} - served:
            refused = quipu.request(method, path, {"data": "not a resource"})
            assert {m.strip() for m in refused.headers["Allow"].split(",")} == served, (path, method)
    assert "POST" in {m.strip() for m in quipu.request("OPTIONS", "/invoices").headers["Allow"].split(",")}
    assert book_snapshot(context, org.id) == before
