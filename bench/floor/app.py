"""The floor server: a raw ASGI application over asyncpg and orjson (bench/floor/README.md).

What every route shares is here: the configuration (Comptoir's own environment variables), one pool
of connections for the book per worker process and a small one for numbers (the counters, taken in a
one-statement autocommit transaction without waiting for the disk, as Comptoir's numbers engine
does: ADR 0016), the credential checks, the organization's reference data kept per process (exactly
what Comptoir keeps per process: taxes, payment terms, currencies, the accounts and journals that
hold a role, all of which never change once committed), and the answers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from comptoir.domain import charts
from comptoir.domain.documents import RateTax
from comptoir.domain.money import plain

SLOTS = 8  # account_balances rows per account and period that concurrent commits spread over (ADR 0017)
DAY, MONTH = "day", "month"
ZERO = Decimal(0)


# -- configuration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    database_url: str  # a SQLAlchemy or libpq URL of Comptoir's PostgreSQL database
    data_dir: Path
    files_dir: Path
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str | None = None
    pool_size: int = 20  # connections of the book per worker process

    @classmethod
    def from_env(cls) -> Config:
        """Comptoir's own settings (COMPTOIR_DATABASE_URL, COMPTOIR_DATA_DIR, ...), so that the floor
        serves the same database, file store and signing secret as `comptoir serve` beside it."""
        data_dir = Path(os.environ.get("COMPTOIR_DATA_DIR", "var"))
        return cls(database_url=os.environ.get("COMPTOIR_DATABASE_URL", ""), data_dir=data_dir,
                   files_dir=Path(os.environ.get("COMPTOIR_FILES_DIR") or data_dir / "files"),
                   public_url=os.environ.get("COMPTOIR_PUBLIC_URL", "http://127.0.0.1:8000"),
                   secret_key=os.environ.get("COMPTOIR_SECRET_KEY") or None,
                   pool_size=int(os.environ.get("COMPTOIR_FLOOR_POOL_SIZE", "20")))

    @property
    def dsn(self) -> str:
        """libpq's form of the URL: postgresql+psycopg://... becomes postgresql://..."""
        scheme, _, rest = self.database_url.partition("://")
        if not scheme.startswith("postgresql"):
            raise ValueError("the floor serves PostgreSQL only (asyncpg)")
        return "postgresql://" + rest

    def session_secret(self) -> str:
        """The secret Comptoir signs its links with (COMPTOIR_SECRET_KEY, else data_dir/secret_key,
        which `comptoir serve` creates)."""
        return self.secret_key or (self.data_dir / "secret_key").read_text().strip()


# -- requests and answers ------------------------------------------------------------------------

class Answer(Exception):
    """An answer other than the route's own (a refusal), raised from anywhere in a handler."""

    def __init__(self, status: int, body: Any, content_type: bytes = b"application/json",
                 headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        super().__init__(status)
        self.status, self.body, self.content_type, self.headers = status, body, content_type, list(headers)


def not_served(what: str) -> Answer:
    """A request the floor does not reproduce (it serves the benchmark's requests, not the whole API)."""
    return Answer(501, {"error": f"not served by the floor: {what}"})


@dataclass
class Request:
    method: str
    path: str
    query: bytes
    headers: dict[bytes, bytes]
    body: bytes

    def header(self, name: bytes) -> str:
        return self.headers.get(name, b"").decode("latin-1")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_exact)


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(type(value))


def num(value: Decimal | None) -> orjson.Fragment | None:
    """A number as Comptoir writes it: exact, without trailing zeros (1140.2, 199)."""
    return None if value is None else orjson.Fragment(str(plain(value)))


def plain_text(value: Decimal) -> str:
    return str(plain(value))


def text_num(value: str | None) -> orjson.Fragment | None:
    """A number PostgreSQL already wrote as text (trim_scale(x)::text): the same digits."""
    return None if value is None else orjson.Fragment(value)


def stamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second with a Z (asyncpg hands timestamptz back in UTC)."""
    return None if value is None else f"{value:%Y-%m-%dT%H:%M:%S}Z"


def loads_exact(raw: bytes) -> Any:
    """JSON with every non-integer number as an exact Decimal (orjson would read floats)."""
    import json
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise Answer(400, {"error": f"malformed JSON: {error}"}) from None


def basic(authorization: str) -> tuple[str, str] | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    padded = encoded.strip() + "=" * (-len(encoded.strip()) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            user, separator, password = decode(padded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if separator:
            return (user, password) if "\x00" not in user + password else None
    return None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# -- reference data, kept per process ------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """An organization's data that never changes once committed (what Comptoir's process cache keeps)."""

    tax_rates: dict[int, Decimal]
    installments: dict[int, tuple]
    default_terms_id: int | None
    minor_units: dict[str, int]
    role_accounts: dict[str, int]  # postable accounts holding a role
    role_journals: dict[str, int]
    chart: str = "default"

    def unit(self, currency: str | None) -> Decimal:
        """The minor unit of one of the organization's currencies, what its amounts round to
        (services/masterdata/reference.smallest_unit); the cent for none (the benchmark's books are in USD)."""
        return Decimal(1).scaleb(-self.minor_units.get(currency, 2))


REFERENCE = """
SELECT (SELECT coalesce(array_agg(ROW(id, rate)), '{}') FROM taxes WHERE org_id = $1),
       (SELECT coalesce(array_agg(ROW(id, installments, is_default)), '{}') FROM payment_terms WHERE org_id = $1),
       (SELECT coalesce(array_agg(ROW(iso_code, minor_units)), '{}') FROM currencies WHERE org_id = $1),
       (SELECT coalesce(array_agg(ROW(role, id)), '{}') FROM accounts
         WHERE org_id = $1 AND role IS NOT NULL AND NOT is_family),
       (SELECT coalesce(array_agg(ROW(role, id)), '{}') FROM journals WHERE org_id = $1 AND role IS NOT NULL),
       (SELECT chart FROM organizations WHERE id = $1)
"""


# -- the ledger: entries and their maintained balances -------------------------------------------

# account, way, amount, label, lettering, party, and a tax entry's rate and base (None on other entries)
Posting = tuple[int, str, Decimal, str, str | None, int | None, Decimal | None, Decimal | None]


def posting(account: int, way: str, amount: Decimal, label: str, lettering: str | None = None,
            party: int | None = None, tax_rate: Decimal | None = None, tax_base: Decimal | None = None) -> Posting:
    return (account, way, amount, label, lettering, party, tax_rate, tax_base)


def net(postings: Iterable[Posting]) -> list[Posting]:
    """Zero postings dropped, negative ones turned to the other side, with their base (domain.ledger.net)."""
    found = []
    for account, way, amount, label, lettering, party, rate, base in postings:
        if amount == 0:
            continue
        if amount < 0:
            way, amount = ("credit" if way == "debit" else "debit"), -amount
            base = None if base is None else -base
        found.append((account, way, amount, label, lettering, party, rate, base))
    return found


def balance_deltas(deltas: dict, on: date, postings: Iterable[Sequence], sign: int = 1) -> dict:
    """Add postings dated `on` to the day and month deltas. Only their first three items are read
    (account, way, amount), so that postings and the entries a rewrite undoes are passed as they are."""
    month = on.replace(day=1)
    for account, way, amount, *_ in postings:
        amount = amount * sign
        debit, credit = (amount, ZERO) if way == "debit" else (ZERO, amount)
        for key in ((DAY, on, account), (MONTH, month, account)):
            found = deltas.get(key)
            deltas[key] = (debit, credit) if found is None else (found[0] + debit, found[1] + credit)
    return deltas


# Each CTE below has the function that builds its parameters beside it, in the order its numbers
# say: the statements number their parameters by hand, and the two must not drift apart.

def transaction_cte(code: int, *, on: int, journal: int, piece: int, currency: int, source: str = "d",
                    source_type: str | None = None) -> str:
    """The CTE `t` inserting the Realized transaction a document posts (parameters: the numbers of its
    code, date, journal, piece number and currency), written only when the document's CTE `source`
    wrote its row: `d` an invoice, `r` a received document, another of `source_type`."""
    source_type = source_type or {"d": "invoice", "r": "received_document"}[source]
    return f"""t AS (
  INSERT INTO transactions (org_id, uuid, created_at, updated_at, transaction_code, status, date, journal_id,
                            piece_number, currency_iso_code, source_type, source_id)
  SELECT $1, gen_random_uuid()::text, now(), now(), ${code}, 'Realized', ${on}, ${journal}, ${piece}, ${currency},
         '{source_type}', {source}.id
  FROM {source} RETURNING id)"""


def entries_cte(first: int, transaction: str = "t", *, taxed: bool = True) -> str:
    """A CTE inserting the entries (parameters `first`..`first`+6: labels, amounts, ways, accounts,
    letterings, parties, locks; `first`+7: their date; with `taxed`, `first`+8 and +9: the tax rates
    and bases, as entry_args gives them; without, none of the entries is a tax entry) of the
    transaction `transaction` just written."""
    p = [f"${first + i}" for i in range(10)]
    rates, bases = ("u.tax_rate, u.tax_base", f", {p[8]}::numeric[], {p[9]}::numeric[]") if taxed else ("NULL, NULL", "")
    taxes = ", tax_rate, tax_base" if taxed else ""
    return f"""e AS (INSERT INTO entries (org_id, transaction_id, label, amount, way, account_id, lettering, locked,
                               reconciled, date, party_id, tax_rate, tax_base)
      SELECT $1, {transaction}.id, u.label, u.amount, u.way, u.account_id, u.lettering, u.locked, false, {p[7]},
             u.party_id, {rates}
      FROM {transaction}, unnest({p[0]}::text[], {p[1]}::numeric[], {p[2]}::text[], {p[3]}::bigint[], {p[4]}::text[],
                        {p[5]}::bigint[], {p[6]}::boolean[]{bases})
                        WITH ORDINALITY AS u(label, amount, way, account_id, lettering, party_id, locked{taxes}, n)
      ORDER BY u.n RETURNING id)"""


def entry_args(postings: list[Posting], on: date, locked: list[bool] | None = None, *, taxed: bool = True) -> list:
    """The parameters of entries_cte (10 `taxed`, else 8): the postings as arrays, their date, then
    their tax rates and bases."""
    found = [[p[3][:128] for p in postings], [p[2] for p in postings], [p[1] for p in postings],
             [p[0] for p in postings], [p[4] for p in postings], [p[5] for p in postings],
             locked or [False] * len(postings), on]
    return found + [[p[6] for p in postings], [p[7] for p in postings]] if taxed else found


def balances_cte(first: int, depends_on: str) -> str:
    """A data-modifying CTE adding the deltas (parameters `first`..`first`+4: spans, days, accounts,
    debits, credits; `first`+5: the slot, as balance_args gives them) to account_balances, run only
    when `depends_on` wrote its row."""
    p = [f"${first + i}" for i in range(6)]
    return f"""b AS (INSERT INTO account_balances (org_id, span, first_day, account_id, slot, debit, credit)
      SELECT $1, u.span, u.first_day, u.account_id, {p[5]}, u.debit, u.credit
      FROM (SELECT 1 FROM {depends_on} LIMIT 1) x,
           unnest({p[0]}::text[], {p[1]}::date[], {p[2]}::bigint[], {p[3]}::numeric[], {p[4]}::numeric[])
             AS u(span, first_day, account_id, debit, credit)
      ON CONFLICT (org_id, span, first_day, account_id, slot) DO UPDATE
        SET debit = account_balances.debit + excluded.debit, credit = account_balances.credit + excluded.credit)"""


def balance_args(deltas: dict) -> list:
    """The 6 parameters of balances_cte: the deltas as arrays, in the order of their keys (so that two
    writers take the rows in the same order: no deadlock), those that net to nothing left out; then a
    random slot of 0..SLOTS-1, which spreads concurrent commits over the rows of an account (ADR 0017)."""
    rows = [(key, values) for key, values in sorted(deltas.items()) if values[0] or values[1]]
    return [[key[0] for key, _ in rows], [key[1] for key, _ in rows], [key[2] for key, _ in rows],
            [values[0] for _, values in rows], [values[1] for _, values in rows], random.randrange(SLOTS)]


def ledger_ctes(first: int, depends_on: str = "t") -> str:
    """The entries of `t` and their balances, one CTE after the other (parameters `first`..`first`+15,
    as ledger_args gives them): what every write that posts ends with."""
    return f"{entries_cte(first)},\n{balances_cte(first + 10, depends_on)}"


def ledger_args(postings: list[Posting], on: date, *, deltas: dict | None = None,
                locked: list[bool] | None = None) -> list:
    """The 16 parameters of ledger_ctes. The balances move by the postings themselves unless `deltas`
    says otherwise (a rewrite moves them by the difference with the entries it replaces)."""
    if deltas is None:
        deltas = balance_deltas({}, on, postings)
    return [*entry_args(postings, on, locked), *balance_args(deltas)]


# -- numbers -------------------------------------------------------------------------------------

def code_sql(number: str) -> str:
    """The digits of the code of `number` (an SQL expression), as format_code writes them."""
    return f"CASE WHEN {number} < 1000 THEN lpad({number}::text, 3, '0') ELSE {number}::text END"


NUMBERS = f"""
WITH n AS (
  INSERT INTO counters AS c (org_id, key, value) SELECT $1, k, 1 FROM unnest($2::text[]) WITH ORDINALITY AS u(k, i)
  ORDER BY u.i
  ON CONFLICT (org_id, key) DO UPDATE SET value = c.value + 1 RETURNING key, value)
SELECT n.key, n.value,
       n.key = ANY($3::text[]) AND EXISTS (SELECT 1 FROM documents d WHERE d.org_id = $1
         AND d.user_code = $4 || {code_sql("n.value")})
FROM n
"""

# The numbers the law numbers (invoices: CINV-001) are taken in the request's transaction, their
# counter's row held until it ends (gap-free, in date order: docs/decisions/0026). HOLD begins the
# transaction and increments the counter in one round trip (simple query protocol: no parameters,
# the organization's id written in); SEQUENCED, a statement of its own so that its snapshot is taken
# once the row is held (READ COMMITTED: the invoice numbered before is committed by then), reads the
# number, whether a document has its code already (taken by hand) and the date and code of the one
# numbered before it. NEXT_SEQUENCED skips a taken code: the next number, under the row already held.
HOLD = ("BEGIN;INSERT INTO counters AS c (org_id, key, value) VALUES ({org_id}, '{key}', 1) "
        "ON CONFLICT (org_id, key) DO UPDATE SET value = c.value + 1")
_SEQUENCED = f"""
SELECT n.value, EXISTS (SELECT 1 FROM documents d WHERE d.org_id = $1 AND d.user_code = $3 || {code_sql("n.value")}),
       p.date, p.user_code
FROM {{counter}} n
LEFT JOIN LATERAL (SELECT d.date, d.user_code FROM documents d
                   WHERE d.org_id = $1 AND d.series_id IS NULL AND d.kind = $2 AND d.series_number = n.value - 1
                   LIMIT 1) p ON true
"""
# The nearest document numbered before $3, when number - 1 is no document's (a code taken by hand, the
# first number): rare, and its generic plan may scan the organization's documents.
NEAREST_BEFORE = """
SELECT d.date, d.user_code FROM documents d
WHERE d.org_id = $1 AND d.series_id IS NULL AND d.kind = $2 AND d.series_number < $3
ORDER BY d.series_number DESC LIMIT 1
"""
SEQUENCED = _SEQUENCED.format(counter="(SELECT value FROM counters WHERE org_id = $1 AND key = $2)")
NEXT_SEQUENCED = ("WITH u AS (UPDATE counters SET value = value + 1 WHERE org_id = $1 AND key = $2 RETURNING value)"
                  + _SEQUENCED.format(counter="u"))


# `count` numbers of one counter at once (a correction's reversal and new transaction): the last.
RUN_OF_NUMBERS = """
INSERT INTO counters AS c (org_id, key, value) VALUES ($1, $2, $3)
ON CONFLICT (org_id, key) DO UPDATE SET value = c.value + excluded.value RETURNING value
"""


def format_code(prefix: str, number: int) -> str:
    return f"{prefix}-{number:03d}"


def out_of_date_order(code: str, on: date, before: tuple[date, str] | None) -> str | None:
    """Why a new number dated `on` would break its series' date order (services/documents/numbering.py's
    words), `before` being the date and code of the one numbered before it; None when it does not."""
    if before is None or on >= before[0]:
        return None
    return (f"{code} would be dated {on}, before {before[1]} of {before[0]}: numbers of a series follow the order "
            "of their dates")


@asynccontextmanager
async def transaction(connection: asyncpg.Connection, first: str = "") -> AsyncIterator[None]:
    """A transaction of the request's connection: BEGIN, with `first` (statements without parameters)
    in its round trip; COMMIT when the block ends, ROLLBACK when it raises (a connection that cannot
    roll back is closed: it never goes back to the pool inside a transaction, which _keep would not
    see)."""
    try:
        await connection.execute(f"BEGIN;{first}" if first else "BEGIN")
        yield
        await connection.execute("COMMIT")
    except BaseException:
        try:
            await connection.execute("ROLLBACK")
        except BaseException:  # noqa: BLE001 - whatever it was, the connection is not left in a transaction
            connection.terminate()
        raise


# -- the application -----------------------------------------------------------------------------

Handler = Callable[["Floor", Request], Awaitable[tuple[int, bytes, bytes, list]]]


async def _keep(_connection: asyncpg.Connection) -> None:
    """Connections go back to the pool as they are (asyncpg would reset them: a round trip each)."""


async def _codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=lambda value: orjson.dumps(value).decode(),
                                        decoder=orjson.loads, schema="pg_catalog")


class Floor:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.pool: asyncpg.Pool | None = None
        self.numbers_pool: asyncpg.Pool | None = None
        self.reference: dict[int, Reference] = {}
        self._starting: asyncio.Lock | None = None
        self._secret: str | None = None
        self._keys: dict[str, Any] = {}  # OneConnect: public keys by kid

    # -- lifecycle --

    async def start(self) -> None:
        if self.pool is not None:
            return
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self.pool is None:
                self.numbers_pool = await asyncpg.create_pool(
                    self.config.dsn, min_size=1, max_size=8, reset=_keep,
                    server_settings={"synchronous_commit": "off", "lock_timeout": "2s"})
                self.pool = await asyncpg.create_pool(self.config.dsn, min_size=2, max_size=self.config.pool_size,
                                                      reset=_keep, init=_codecs)

    async def stop(self) -> None:
        for pool in (self.pool, self.numbers_pool):
            if pool is not None:
                await pool.close()
        self.pool = self.numbers_pool = None

    @property
    def secret(self) -> str:
        if self._secret is None:
            self._secret = self.config.session_secret()
        return self._secret

    # -- shared steps of the routes --

    async def reference_of(self, connection: asyncpg.Connection, org_id: int, *, reload: bool = False) -> Reference:
        found = self.reference.get(org_id)
        if found is None or reload:
            taxes, terms, currencies, accounts, journals, chart = await connection.fetchrow(REFERENCE, org_id)
            found = self.reference[org_id] = Reference(
                tax_rates={row[0]: plain(row[1]) for row in taxes},
                installments={row[0]: tuple(row[1] or ()) for row in terms},
                default_terms_id=next((row[0] for row in terms if row[2]), None),
                minor_units={row[0]: row[1] for row in currencies},
                role_accounts={row[0]: row[1] for row in accounts},
                role_journals={row[0]: row[1] for row in journals}, chart=chart)
        return found

    async def role_account(self, connection: asyncpg.Connection, org_id: int, role: str) -> int:
        reference = await self.reference_of(connection, org_id)
        if role not in reference.role_accounts:  # an account created on first use since: read it again
            reference = await self.reference_of(connection, org_id, reload=True)
        if role not in reference.role_accounts:
            raise not_served(f"a posting to the {role} account, which the chart does not have yet")
        return reference.role_accounts[role]

    async def tax_account(self, connection: asyncpg.Connection, org_id: int, side: str,
                          rate: Decimal | None) -> int:
        """The account of tax at `rate` on `side`, as services/ledger/chart.tax_account_id finds it:
        the rate's own (made by Comptoir on first use: one the chart lacks yet is not served), else the
        chart's account of the side when the chart numbers none for the rate."""
        reference = await self.reference_of(connection, org_id)
        spec = charts.tax_account_spec(reference.chart, side, rate) if rate is not None else None
        return await self.role_account(connection, org_id, side if spec is None else spec.role)

    async def sale_postings(self, connection: asyncpg.Connection, org_id: int, code: str, party_id: int,
                            total: Decimal, income: Decimal, taxes: Sequence[RateTax]) -> list[Posting]:
        """A sales invoice's entries as Comptoir posts them, netted: the receivable debited with the
        total (lettered with the code, for the customer), income credited with the lines before taxes,
        each rate's tax account with its tax, rate and base (a chart lacking one of these accounts is
        not served: role_account)."""
        label = f"Invoice {code}"
        postings = [posting(await self.role_account(connection, org_id, "receivable"), "debit", total, label, code,
                            party_id),
                    posting(await self.role_account(connection, org_id, "income"), "credit", income,
                            f"{label} - Before taxes")]
        for part in taxes:
            if part.tax:
                postings.append(posting(await self.tax_account(connection, org_id, "tax_payable", part.rate), "credit",
                                        part.tax, f"{label} - Taxes", tax_rate=part.rate, tax_base=part.base))
        return net(postings)

    async def credential(self, connection: asyncpg.Connection, kind: str, identifier: str,
                         secret: str) -> asyncpg.Record | None:
        """The credential of this kind and identifier if the secret's SHA-256 matches and it is not
        revoked: (id, org_id, employee_id)."""
        if not identifier or not secret or "\x00" in identifier:
            return None
        row = await connection.fetchrow(
            "SELECT id, org_id, employee_id, secret_hash, revoked_at FROM credentials WHERE kind = $1 AND identifier = $2",
            kind, identifier)
        if row is None or not hmac.compare_digest(digest(secret), row[3]) or row[4] is not None:
            return None
        return row

    async def numbers(self, org_id: int, keys: list[str], code_key: str | None = None,
                      prefix: str = "") -> dict[str, int]:
        """The next number of each counter, in one statement of its own (committed at once, not
        waiting for the disk: ADR 0016). With `code_key`, that counter's number makes a document code
        (`prefix`-001) that no document of the organization may already have: a taken one (a code a
        user gave by hand) is skipped, as services/codes.next_code does."""
        assert self.numbers_pool is not None
        found: dict[str, int] = {}
        wanted = list(keys)
        async with self.numbers_pool.acquire() as connection:
            for _ in range(1000):
                rows = await connection.fetch(NUMBERS, org_id, wanted, [code_key] if code_key else [], prefix + "-")
                retry = []
                for key, value, taken in rows:
                    if taken:
                        retry.append(key)
                    else:
                        found[key] = value
                if not retry:
                    return found
                wanted = retry
        raise RuntimeError("no free code after 1000 numbers")

    async def run_of_numbers(self, org_id: int, key: str, count: int) -> list[int]:
        """`count` numbers of one counter, lowest first, in one statement of its own (as `numbers`)."""
        assert self.numbers_pool is not None
        async with self.numbers_pool.acquire() as connection:
            last = await connection.fetchval(RUN_OF_NUMBERS, org_id, key, count)
        return list(range(last - count + 1, last + 1))

    @asynccontextmanager
    async def numbered(self, connection: asyncpg.Connection, org_id: int, kind: str = "invoice",
                       prefix: str = "CINV") -> AsyncIterator[tuple[str, int, tuple[date, str] | None]]:
        """A transaction of the request's connection (`transaction`) that holds the next number of
        `kind` until it ends, as services/documents/numbering does (docs/decisions/0026): the block
        gets the code (`prefix`-001, a code taken by hand skipped), its number (the document's
        `series_number`) and the date and code of the document numbered before it (out_of_date_order).
        2 round trips: BEGIN with the increment (HOLD), then SEQUENCED (+ 1 per code taken by hand)."""
        async with transaction(connection, HOLD.format(org_id=int(org_id), key=kind)):
            statement = SEQUENCED
            for _ in range(1000):
                number, taken, on, code = await connection.fetchrow(statement, org_id, kind, prefix + "-")
                if not taken:
                    if code is None and number > 1:
                        nearest = await connection.fetchrow(NEAREST_BEFORE, org_id, kind, number)
                        on, code = nearest if nearest is not None else (None, None)
                    yield format_code(prefix, number), number, None if code is None else (on, code)
                    return
                statement = NEXT_SEQUENCED
            raise RuntimeError("no free code after 1000 numbers")

    # -- ASGI --

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Request(scope["method"], scope["path"], scope["query_string"], dict(scope["headers"]), body)
        try:
            if self.pool is None:
                await self.start()
            status, payload, content_type, headers = await self.route(request)
        except Answer as answer:
            status, content_type, headers = answer.status, answer.content_type, answer.headers
            payload = answer.body if isinstance(answer.body, bytes) else dumps(answer.body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(payload)).encode()),
                                *headers]})
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as error:  # noqa: BLE001 - reported to the server, which stops
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def route(self, request: Request) -> tuple[int, bytes, bytes, list]:
        path, method = request.path, request.method
        if path.startswith("/oneup/v1/"):
            from . import oneup
            rest = path[10:]
            if rest == "invoices":
                return await (oneup.list_invoices if method == "GET" else oneup.create_invoice)(self, request)
            if rest.startswith("invoices/") and method == "GET":
                return await oneup.get_invoice(self, request, rest[9:])
            if rest == "transactions" and method == "POST":
                return await oneup.post_transaction(self, request)
            if rest == "reports/trial_balance" and method == "GET":
                return await oneup.trial_balance(self, request)
        elif path == "/upflow/v1/invoices" and method == "POST":
            from . import upflow
            return await upflow.import_invoice(self, request)
        elif path.startswith("/quipu/") and method == "POST":
            parts = path[7:].strip("/").split("/")
            if parts[-1] == "invoices" and len(parts) <= 2:
                from . import quipu
                return await quipu.create_invoice(self, request, parts[0] if len(parts) == 2 else None)
        elif path.startswith("/oneconnect/v1/integrations/") and method == "POST":
            integration_id, _, rest = path[28:].partition("/")
            if rest == "purchase-invoices":
                from . import oneconnect
                return await oneconnect.import_invoice(self, request, integration_id, "purchase")
        elif path == "/healthz":
            assert self.pool is not None
            await self.pool.fetchval("SELECT 1")
            return 200, b'{"status":"ok"}', b"application/json", []
        raise not_served(f"{method} {path}")


def create() -> Floor:
    return Floor(Config.from_env())


app = create()
