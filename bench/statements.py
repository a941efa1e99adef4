"""Counting the SQL statements a request sends, for `bench.read_statements` and
`bench.write_statements`: a recorder of every statement any engine of the process sends (SQLAlchemy's
cursor events), and the shape of a statement (what it does, without its values) to group them by."""

from __future__ import annotations

import re
import threading


class Recorder:
    """Collects the statements every engine of the process sends, while `on`. Register it with
    `event.listen(Engine, "before_cursor_execute", recorder)`."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.lock = threading.Lock()
        self.on = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            with self.lock:
                self.statements.append(statement)

    def take(self) -> list[str]:
        with self.lock:
            taken, self.statements = self.statements, []
        return taken


def shape(statement: str) -> str:
    """The statement without its values: its verb and table; for a SELECT, its first table, how many
    more it joins, the start of its WHERE and whether it locks (FOR UPDATE); savepoints by kind."""
    statement = " ".join(statement.split())
    if statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
        return statement.split(" sa_")[0]
    if statement.startswith("SELECT"):
        tables = re.findall(r"(?:FROM|JOIN) (\w+)", statement)
        where = re.search(r"WHERE (.{0,80})", statement)
        described = "SELECT " + (tables[0] if tables else statement[7:40])
        if len(tables) > 1:
            described += f" (+{len(tables) - 1} tables)"
        if where:
            described += " WHERE " + re.sub(r"%\(\w+\)s|\?", "?", where.group(1))[:60]
        return described + (" FOR UPDATE" if "FOR UPDATE" in statement else "")
    match = re.match(r"(INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|\w+)", statement)
    return match.group(1) if match else statement[:60]
