"""Issue 17 §8: the audit trail. Every change to the book is recorded by the database, with who made
it (the credential of the request, the command line, the system), when, and the row before and
after; it is read per document and per organization through OneUp (GET /audit_events), a deleted
document's trail stays readable, nothing can change the trail, and each organization reads only its
own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.closing import close_period
from comptoir.storage import audit
from comptoir.storage.tables import Base, Credential

from .helpers import OneUpClient, error_of
from .upflow.conftest import UpflowClient

D = Decimal


def credential_id(context, kind: str, identifier: str) -> int:
    with context.database.transaction() as session:
        return session.scalar(select(Credential.id).where(Credential.kind == kind, Credential.identifier == identifier))


def invoice(oneup: OneUpClient, price: str = "100") -> dict:
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    return oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "date": "2025-03-01", "order_lines": [
        {"item_id": item["id"], "quantity": 1, "unit_price_wt": D(price)}]})


def trail_of(oneup: OneUpClient, document_id: int) -> list[dict]:
    return oneup.ok("GET", f"/audit_events?document_id={document_id}")


def test_a_documents_trail_from_creation_to_deletion(oneup, context, org):
    made = invoice(oneup)
    me = f"credential:{credential_id(context, 'oneup', org.oneup.email)}"
    created = trail_of(oneup, made["id"])
    assert [(event["action"], event["subject"]) for event in created] == [
        ("insert", "documents"), ("insert", "document_lines"), ("insert", "transactions"),
        ("insert", "entries"), ("insert", "entries")]
    assert {event["actor"] for event in created} == {me}
    document = created[0]
    assert (document["subject_id"], document["before"]) == (made["id"], None)
    assert document["after"]["user_code"] == made["user_code"] and document["after"]["total"] == D(100)
    entries = {(e["after"]["way"], e["after"]["amount"]) for e in created if e["subject"] == "entries"}
    assert entries == {("debit", D(100)), ("credit", D(100))}
    transaction_id = created[2]["subject_id"]
    assert {e["parent_id"] for e in created if e["subject"] == "entries"} == {transaction_id}

    oneup.ok("PUT", f"/invoices/{made['id']}", {"po_number": "PO-9"})
    [changed] = [e for e in trail_of(oneup, made["id"]) if e["action"] == "update" and e["subject"] == "documents"]
    assert changed["changes"]["po_number"] == [None, "PO-9"] or changed["changes"]["po_number"] == ["", "PO-9"]
    assert changed["before"]["po_number"] != changed["after"]["po_number"] == "PO-9"

    oneup.ok("DELETE", f"/invoices/{made['id']}")
    after = trail_of(oneup, made["id"])  # the trail outlives the document
    tail = [(event["action"], event["subject"]) for event in after[len(created) + 1:]]
    assert ("delete", "documents") in tail and ("delete", "document_lines") in tail
    reversal = [e for e in after if e["subject"] == "transactions" and e["parent"] == "reversal"]
    assert [(e["action"], e["parent_id"]) for e in reversal] == [("insert", transaction_id)]
    reversed_entries = {(e["after"]["way"], e["after"]["amount"]) for e in after
                        if e["subject"] == "entries" and e["parent_id"] == reversal[0]["subject_id"]}
    assert reversed_entries == {("credit", D(100)), ("debit", D(100))}
    [detached] = [e for e in after if e["subject"] == "transactions" and e["action"] == "update"]
    assert detached["changes"]["source_type"] == ["invoice", "invoice:reversed"]
    assert {event["actor"] for event in after} == {me}
    assert [event["id"] for event in after] == sorted(event["id"] for event in after)


def test_the_organizations_trail_pages_newest_first_and_names_each_actor(oneup, client, context, org):
    made = invoice(oneup)
    upflow = UpflowClient(client, org)
    upflow.ok("POST", "/customers", {"externalId": "C-9", "name": "Zenith"})
    with open_book(context.database, org.id) as book:
        close_period(book, __import__("datetime").date(2020, 12, 31))
    newest = oneup.ok("GET", "/audit_events?limit=2")
    assert [(e["action"], e["subject"], e["actor"]) for e in newest] == [
        ("update", "organizations", "system"),
        ("insert", "parties", f"credential:{credential_id(context, 'upflow', org.upflow['api_key'])}")]
    assert newest[0]["changes"]["closed_until"] == [None, "2020-12-31"]
    older = oneup.ok("GET", f"/audit_events?limit=1000&before_id={newest[-1]['id']}")
    assert all(event["id"] < newest[-1]["id"] for event in older)
    assert [e["subject_id"] for e in older if e["subject"] == "documents"] == [made["id"]]
    only = oneup.ok("GET", f"/audit_events?subject=documents&subject_id={made['id']}")
    assert [(e["action"], e["subject_id"]) for e in only] == [("insert", made["id"])]


def test_the_command_line_is_named_as_the_actor(oneup, context, org):
    made = invoice(oneup)
    audit.act_as_default("cli")
    try:
        with open_book(context.database, org.id) as book:
            book.documents.get(made["id"]).po_number = "BY-CLI"
    finally:
        audit.act_as_default(audit.SYSTEM)
    [changed] = [e for e in trail_of(oneup, made["id"]) if e["action"] == "update"]
    assert (changed["actor"], changed["changes"]["po_number"][1]) == ("cli", "BY-CLI")


def test_nothing_changes_the_trail(oneup, context):
    invoice(oneup)
    with pytest.raises(Exception, match="audit trail cannot be changed"), context.database.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    with pytest.raises(Exception, match="audit trail cannot be changed"), context.database.transaction() as session:
        session.execute(text("DELETE FROM audit_events"))
    if context.database.is_postgres:
        with pytest.raises(Exception, match="audit trail cannot be changed"), \
                context.database.transaction() as session:
            session.execute(text("TRUNCATE audit_events"))


def test_another_organization_reads_none_of_the_trail(oneup, other_oneup):
    made = invoice(oneup)
    response = other_oneup.get(f"/audit_events?document_id={made['id']}")
    assert response.status_code == 404 and error_of(response)["code"] == "2"
    assert all(event["subject_id"] != made["id"] for event in other_oneup.ok("GET", "/audit_events?limit=1000")
               if event["subject"] == "documents")


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "document_id=-1", "before_id=1.5"])
def test_bad_parameters_are_400_code_5(oneup, query):
    response = oneup.get(f"/audit_events?{query}")
    assert response.status_code == 400 and error_of(response)["code"] == "5"


def test_every_table_of_the_book_is_traced_column_by_column(context):
    """Each audited table has its three triggers, and on SQLite each trigger names every column the
    table has (a migration that adds a column must install the triggers again: storage/audit.install)."""
    assert set(audit.NOT_AUDITED) <= set(Base.metadata.tables)
    with context.database.engine.connect() as connection:
        if context.database.is_postgres:
            found = {(row[0], row[1]) for row in connection.execute(text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"))}
            missing = [(table, f"audit_{action}_{table}") for table in audit.audited_tables()
                       for action in ("insert", "update", "delete") if (table, f"audit_{action}_{table}") not in found]
            assert missing == []
            return
        triggers = dict(connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
        untraced = []
        for table in audit.audited_tables():
            columns = [column["name"] for column in inspect(connection).get_columns(table)]
            for action in ("insert", "update", "delete"):
                sql = triggers.get(f"audit_{action}_{table}", "")
                untraced += [(table, action, column) for column in columns if f".{column}" not in sql]
        assert untraced == []
