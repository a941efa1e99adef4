"""The audit trail, kept by the database (issue 17 §8; docs/decisions/0024-audit-trail.md).

Every insert, update and delete of a row of the book writes an `audit_events` row in the same
statement, by a trigger: no write path can forget it, the ORM's and the Core stores' alike, and on
PostgreSQL it costs no round trip. Who acted is the unit of work's `actor`: PostgreSQL reads it from
the transaction's setting `comptoir.actor` (set with the BEGIN the link sends, or when the session
begins), SQLite from the function `comptoir_actor()` this module registers on each connection, which
reads the actor of the unit of work running in this thread. The trail itself refuses UPDATE, DELETE
and TRUNCATE.

`install` (re)creates the triggers from the columns the database has; a migration that adds a
column to an audited table calls it again (tests/test_audit.py checks that every column is traced)."""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, String, inspect, select, text, type_coerce
from sqlalchemy.engine import Connection

from .tables import AuditEvent, Base
from .types import ExactDecimal

# Audited tables: the row each belongs to (a table, or "@column" for a table named by the row), and
# the column of that row's id. Every table of the book is audited except those in NOT_AUDITED.
PARENTS: dict[str, tuple[str, str]] = {
    "document_lines": ("documents", "document_id"),
    "payment_allocations": ("documents", "document_id"),
    "paysheet_amounts": ("documents", "document_id"),
    "attachments": ("documents", "document_id"),
    "entries": ("transactions", "transaction_id"),
    "transactions": ("@source_type", "source_id"),
    "contacts": ("parties", "party_id"),
}
NOT_AUDITED = {
    "audit_events": "the trail itself",
    "access_tokens": "sessions of the security layer, with their own expiry and revocation",
    "authorization_codes": "sessions of the security layer, with their own expiry and revocation",
    "credentials": "secrets' digests: issuance and revocation are kept on the row itself",
    "oauth_clients": "secrets' digests, not part of any organization's book",
    "signing_keys": "key material, not part of any organization's book",
    "account_balances": "totals derived from the entries, which are audited",
    "counters": "numbers handed out outside the transaction (docs/decisions/0016); the documents are audited",
    "outbox_events": "the delivery state of webhooks, not the book",
}
# Columns whose change alone is not a change of the book: the version of the organization's chart
# that the process caches key on (storage/reference.py), bumped by every write of an account or journal;
# the mark of a book that holds money in another currency, set with the entries, which are audited.
NOT_A_CHANGE: dict[str, tuple[str, ...]] = {"organizations": ("reference_version", "holds_foreign_money")}
SYSTEM = "system"
_ACTOR_SHAPE = re.compile(r"[a-z_]+(:[0-9]+)?")
_current_actor: contextvars.ContextVar[str] = contextvars.ContextVar("comptoir_actor", default=SYSTEM)


def audited_tables() -> list[str]:
    return sorted(name for name in Base.metadata.tables if name not in NOT_AUDITED)


def org_column(table: str) -> str:
    return "id" if table == "organizations" else "org_id"


# -- who acts ------------------------------------------------------------------------------------

def actor_label(*, credential_id: int | None = None, employee_id: int | None = None, default: str = SYSTEM) -> str:
    if credential_id is not None:
        return f"credential:{int(credential_id)}"
    if employee_id is not None:
        return f"employee:{int(employee_id)}"
    return default


def checked_actor(actor: str) -> str:
    """An actor is a kind and maybe a number: it goes into SQL text (the link's BEGIN), never a
    caller's words."""
    if not _ACTOR_SHAPE.fullmatch(actor) or len(actor) > 64:
        raise ValueError(f"not an actor: {actor!r}")
    return actor


def current_actor() -> str:
    return _current_actor.get()


def act_as_default(actor: str) -> None:
    """The actor of this process's units that name none (the CLI: `cli`)."""
    _current_actor.set(checked_actor(actor))


@contextmanager
def acting(actor: str) -> Iterator[None]:
    """The actor of what this thread writes on SQLite while the block runs."""
    token = _current_actor.set(checked_actor(actor))
    try:
        yield
    finally:
        _current_actor.reset(token)


def set_actor_sql(actor: str) -> str:
    """PostgreSQL: the statement that names the transaction's actor for the triggers."""
    return f"SELECT set_config('comptoir.actor', '{checked_actor(actor)}', true)"


def register_sqlite_functions(dbapi_connection: Any) -> None:
    dbapi_connection.create_function("comptoir_actor", 0, lambda: _current_actor.get(), deterministic=False)


# -- the triggers --------------------------------------------------------------------------------

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION comptoir_audit_parent(row_json jsonb, kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN kind = '' THEN NULL WHEN left(kind, 1) = '@' THEN row_json->>substr(kind, 2) ELSE kind END
$$;
CREATE OR REPLACE FUNCTION comptoir_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  who text := coalesce(nullif(current_setting('comptoir.actor', true), ''), 'system');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO audit_events (org_id, at, actor, action, subject, subject_id, parent, parent_id, before, after)
    SELECT (r->>TG_ARGV[0])::bigint, now(), who, 'insert', TG_TABLE_NAME, (r->>'id')::bigint,
           comptoir_audit_parent(r, TG_ARGV[1]), (r->>TG_ARGV[2])::bigint, NULL, r::text
    FROM (SELECT to_jsonb(n) AS r FROM new_rows n) x;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO audit_events (org_id, at, actor, action, subject, subject_id, parent, parent_id, before, after)
    SELECT (r->>TG_ARGV[0])::bigint, now(), who, 'update', TG_TABLE_NAME, (r->>'id')::bigint,
           comptoir_audit_parent(r, TG_ARGV[1]), (r->>TG_ARGV[2])::bigint, o::text, r::text
    FROM (SELECT to_jsonb(n) AS r, to_jsonb(p) AS o FROM new_rows n JOIN old_rows p ON p.id = n.id) x
    WHERE (r - string_to_array(TG_ARGV[3], ',')) IS DISTINCT FROM (o - string_to_array(TG_ARGV[3], ','));
  ELSE
    INSERT INTO audit_events (org_id, at, actor, action, subject, subject_id, parent, parent_id, before, after)
    SELECT (o->>TG_ARGV[0])::bigint, now(), who, 'delete', TG_TABLE_NAME, (o->>'id')::bigint,
           comptoir_audit_parent(o, TG_ARGV[1]), (o->>TG_ARGV[2])::bigint, o::text, NULL
    FROM (SELECT to_jsonb(p) AS o FROM old_rows p) x;
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION comptoir_audit_unchangeable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail cannot be changed';
END
$$;
"""
_TRAIL_GUARD = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_events_unchangeable ON audit_events",
        "CREATE TRIGGER audit_events_unchangeable BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION comptoir_audit_unchangeable()",
        "DROP TRIGGER IF EXISTS audit_events_untruncatable ON audit_events",
        "CREATE TRIGGER audit_events_untruncatable BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION comptoir_audit_unchangeable()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END",
    ],
}
_EVENTS = (("insert", "INSERT"), ("update", "UPDATE"), ("delete", "DELETE"))


def install(connection: Connection, tables: list[str] | None = None) -> None:
    """(Re)create the audit triggers of these tables (every audited table of the database by
    default) from the columns they have now, and the trail's own guard."""
    present = set(inspect(connection).get_table_names())
    wanted = [name for name in (tables or audited_tables()) if name in present]
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text(_PG_FUNCTIONS))
    for name in wanted:
        for statement in (_postgres_triggers(name) if dialect == "postgresql" else _sqlite_triggers(connection, name)):
            connection.exec_driver_sql(statement)
    for statement in _TRAIL_GUARD[dialect]:
        connection.exec_driver_sql(statement)


def uninstall(connection: Connection, tables: list[str]) -> None:
    """Drop the audit triggers of these tables: before a migration drops one of their columns (SQLite
    refuses to drop a column a trigger names), after which `install` makes them again."""
    postgres = connection.dialect.name == "postgresql"
    for table in tables:
        for action, _ in _EVENTS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_{action}_{table}" + (f" ON {table}" if postgres else ""))


def _postgres_triggers(table: str) -> list[str]:
    parent, parent_id = PARENTS.get(table, ("", ""))
    arguments = f"'{org_column(table)}', '{parent}', '{parent_id or 'none'}', '{','.join(NOT_A_CHANGE.get(table, ()))}'"
    statements = []
    for action, event in _EVENTS:
        transition = {"insert": "NEW TABLE AS new_rows", "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                      "delete": "OLD TABLE AS old_rows"}[action]
        statements += [f"DROP TRIGGER IF EXISTS audit_{action}_{table} ON {table}",
                       f"CREATE TRIGGER audit_{action}_{table} AFTER {event} ON {table} REFERENCING {transition} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION comptoir_audit({arguments})"]
    return statements


def _sqlite_triggers(connection: Connection, table: str) -> list[str]:
    columns = [row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")]
    parent, parent_id = PARENTS.get(table, ("", ""))

    def row(alias: str) -> str:
        return "json_object(" + ", ".join(f"'{column}', {alias}.{column}" for column in columns) + ")"

    def values(alias: str, action: str, before: str, after: str) -> str:
        parent_value = "NULL" if not parent else (f"{alias}.{parent[1:]}" if parent.startswith("@") else f"'{parent}'")
        parent_id_value = f"{alias}.{parent_id}" if parent_id else "NULL"
        return (f"INSERT INTO audit_events (org_id, at, actor, action, subject, subject_id, parent, parent_id, "
                f"before, after) VALUES ({alias}.{org_column(table)}, strftime('%Y-%m-%d %H:%M:%f', 'now'), "
                f"comptoir_actor(), '{action}', '{table}', {alias}.id, {parent_value}, {parent_id_value}, "
                f"{before}, {after});")
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns
                          if column not in NOT_A_CHANGE.get(table, ()))
    return [
        f"DROP TRIGGER IF EXISTS audit_insert_{table}",
        f"CREATE TRIGGER audit_insert_{table} AFTER INSERT ON {table} BEGIN "
        f"{values('NEW', 'insert', 'NULL', row('NEW'))} END",
        f"DROP TRIGGER IF EXISTS audit_update_{table}",
        f"CREATE TRIGGER audit_update_{table} AFTER UPDATE ON {table} WHEN {changed} BEGIN "
        f"{values('NEW', 'update', row('OLD'), row('NEW'))} END",
        f"DROP TRIGGER IF EXISTS audit_delete_{table}",
        f"CREATE TRIGGER audit_delete_{table} AFTER DELETE ON {table} BEGIN "
        f"{values('OLD', 'delete', row('OLD'), 'NULL')} END",
    ]


# -- reading what was recorded -------------------------------------------------------------------

_trail = AuditEvent.__table__
_COLUMNS = (_trail.c.id, type_coerce(_trail.c.at, String).label("at"), _trail.c.actor, _trail.c.action,
            _trail.c.subject, _trail.c.subject_id, _trail.c.parent, _trail.c.parent_id, _trail.c.before,
            _trail.c.after)


def events(where: Any, org_id: int, *criteria: Any, after_id: int | None = None, limit: int | None = None,
           descending: bool = False) -> list[Any]:
    """The organization's audit events that meet the criteria (columns of `audit_events`), oldest
    first (or newest first), after the event `after_id` (a cursor)."""
    statement = select(*_COLUMNS).where(_trail.c.org_id == org_id, *criteria)
    if after_id is not None:
        statement = statement.where(_trail.c.id < after_id if descending else _trail.c.id > after_id)
    statement = statement.order_by(_trail.c.id.desc() if descending else _trail.c.id)
    if limit is not None:
        statement = statement.limit(limit)
    return list(where.connection().execute(statement))


def moment(value: Any) -> str:
    """When, as ISO 8601 in UTC (the trail keeps `now()` on PostgreSQL, a text on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace(" ", "T"))
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")



def decoded(table: str, raw: str | None, dialect: str) -> dict[str, Any] | None:
    """A row as the trail holds it (JSON), with its values as the book shows them: exact amounts
    (SQLite keeps a count of millionths, or of the column's own 10^-scale), booleans, ISO dates and times in UTC."""
    if raw is None:
        return None
    values = json.loads(raw, parse_float=Decimal)
    columns = Base.metadata.tables[table].columns if table in Base.metadata.tables else {}
    return {name: _value(columns[name].type if name in columns else None, value, dialect)
            for name, value in values.items()}


def _value(kind: Any, value: Any, dialect: str) -> Any:
    if value is None or kind is None:
        return value
    if isinstance(kind, ExactDecimal):
        amount = Decimal(value) / kind.factor if dialect == "sqlite" else Decimal(str(value))
        return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, DateTime) and isinstance(value, str):
        moment = datetime.fromisoformat(value.replace(" ", "T"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(kind, Date) and isinstance(value, str):
        return date.fromisoformat(value[:10]).isoformat()
    return value


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """What an update changed: {column: [before, after]}."""
    if before is None or after is None:
        return {}
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}
