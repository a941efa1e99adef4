"""Issue 18 §1, first slice: exchange rates per organization, currency and day, set, imported and
listed (services/ledger/rates.py, `comptoir rates`), the rate of a day being that of the latest date
on or before it. Nothing converts documents with them yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import inspect, text

from comptoir import cli
from comptoir.domain.errors import DomainError
from comptoir.domain.rates import NoRate, Rate
from comptoir.domain.rates import rate_on as rate_among
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger import rates
from comptoir.storage import audit
from comptoir.storage.database import Database, alembic_config
from comptoir.storage.tables import AuditEvent

from .conftest import empty_database

D = Decimal
JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


def _with_eur_rates(context, org_id: int) -> None:
    with open_book(context.database, org_id) as book:
        rates.set_rate(book, "EUR", JAN, D("1.10"))
        rates.set_rate(book, "EUR", FEB, D("1.20"))


def _rate_on(context, org_id: int, currency: str, day: date) -> Decimal:
    with open_book(context.database, org_id) as book:
        return rates.rate_on(book, currency, day)


def _listed(context, org_id: int, **bounds) -> list[Rate]:
    with open_book(context.database, org_id) as book:
        return rates.list_rates(book, **bounds)


def test_the_rate_of_a_day_is_that_of_the_latest_date_on_or_before_it(context, org):
    _with_eur_rates(context, org.id)
    assert _rate_on(context, org.id, "EUR", date(2025, 1, 31)) == D("1.10")
    assert _rate_on(context, org.id, "EUR", FEB) == D("1.20")
    assert _rate_on(context, org.id, "EUR", date(2026, 6, 1)) == D("1.20")
    with pytest.raises(NoRate, match="no exchange rate for EUR on or before 2024-12-31") as refused:
        _rate_on(context, org.id, "EUR", date(2024, 12, 31))
    assert (refused.value.currency, refused.value.day) == ("EUR", date(2024, 12, 31))
    assert _rate_on(context, org.id, "USD", date(1990, 1, 1)) == 1  # the organization's own currency


def test_the_domain_picks_the_latest_known_rate_on_or_before_the_day():
    known = [Rate("EUR", FEB, D("1.20")), Rate("EUR", JAN, D("1.10")), Rate("GBP", JAN, D("1.30"))]
    assert rate_among(known, "EUR", date(2025, 1, 31)) == D("1.10")
    assert rate_among(known, "GBP", FEB) == D("1.30")
    assert rate_among([], "USD", JAN, own_currency="USD") == 1
    with pytest.raises(NoRate, match="no exchange rate for CHF on or before 2025-01-01"):
        rate_among(known, "CHF", JAN)


def test_setting_the_same_day_again_replaces_the_rate(context, org):
    with open_book(context.database, org.id) as book:
        rates.set_rate(book, "EUR", JAN, D("1.10"))
    with open_book(context.database, org.id) as book:
        rates.set_rate(book, "EUR", JAN, D("1.15"), source="document")
    assert _listed(context, org.id) == [Rate("EUR", JAN, D("1.15"), "document")]


@pytest.mark.parametrize(("currency", "rate", "message"), [
    ("XYZ", "1.1", "'XYZ' is not an ISO 4217 currency code"),
    ("USD", "1.1", "USD is the organization's currency: its rate is always 1"),
    ("EUR", "0", "rate: must be greater than 0"),
    ("EUR", "-2", "rate: must be greater than 0"),
    ("EUR", "1.12345678901", "rate: has more than 10 decimal places"),
    ("EUR", "100000000", "rate: must be below 100,000,000"),
])
def test_a_rate_the_book_cannot_keep_is_refused(context, org, currency, rate, message):
    with pytest.raises(DomainError, match=message), open_book(context.database, org.id) as book:
        rates.set_rate(book, currency, JAN, D(rate))
    assert _listed(context, org.id) == []


def test_ten_decimal_places_are_kept_exactly(context, org):
    with open_book(context.database, org.id) as book:
        rates.set_rate(book, "JPY", JAN, D("0.0066666667"))
    assert _rate_on(context, org.id, "JPY", JAN) == D("0.0066666667")


def test_a_file_of_rates_is_imported(context, org):
    lines = [(2, ["2025-01-01", "EUR", "1.10"]), (3, ["2025-01-01", "gbp", "1.25"]), (4, ["2025-02-01", "EUR", "1.2"])]
    with open_book(context.database, org.id) as book:
        assert rates.import_rates(book, lines) == 3
    assert _listed(context, org.id) == [Rate("EUR", JAN, D("1.10"), "import"), Rate("EUR", FEB, D("1.2"), "import"),
                                        Rate("GBP", JAN, D("1.25"), "import")]
    assert _listed(context, org.id, currency="eur", date_from=FEB) == [Rate("EUR", FEB, D("1.2"), "import")]
    assert _listed(context, org.id, date_to=JAN) == [Rate("EUR", JAN, D("1.10"), "import"),
                                                     Rate("GBP", JAN, D("1.25"), "import")]


def test_a_bad_file_is_refused_whole_naming_every_bad_line(context, org):
    lines = [(2, ["2025-01-01", "EUR", "1.10"]), (3, ["2025-01-01", "XYZ", "1.5"]), (4, ["2025-01-01", "GBP", "0"]),
             (5, ["2025-13-01", "CHF", "1.05"]), (6, ["2025-01-01", "CHF"])]
    with pytest.raises(DomainError) as refused, open_book(context.database, org.id) as book:
        rates.import_rates(book, lines)
    assert [problem.field for problem in refused.value.problems] == ["line 3", "line 4", "line 5", "line 6"]
    assert "XYZ" in refused.value.problems[0].message and "greater than 0" in refused.value.problems[1].message
    assert "'2025-13-01' is not a date" in refused.value.problems[2].message
    assert "expected 3 values" in refused.value.problems[3].message
    assert _listed(context, org.id) == []


def test_another_organizations_rates_are_invisible(context, org, other_org):
    _with_eur_rates(context, org.id)
    assert _listed(context, other_org.id) == []
    with pytest.raises(NoRate):
        _rate_on(context, other_org.id, "EUR", FEB)


def test_the_audit_trail_records_rate_changes(context, org):
    with open_book(context.database, org.id) as book:
        rates.set_rate(book, "EUR", JAN, D("1.10"))
    with open_book(context.database, org.id) as book:
        rates.set_rate(book, "EUR", JAN, D("1.15"))
    dialect = context.database.engine.dialect.name
    with context.database.transaction() as session:
        trail = audit.events(session, org.id, AuditEvent.subject == "exchange_rates")
    assert [event.action for event in trail] == ["insert", "update"]
    before, after = (audit.decoded("exchange_rates", trail[1].before, dialect),
                     audit.decoded("exchange_rates", trail[1].after, dialect))
    assert audit.changes(before, after)["rate"] == [D("1.1"), D("1.15")]


# -- the command line ----------------------------------------------------------------------------

def test_rates_set_and_list_on_the_command_line(run, context, org):
    done = run("rates", "set", "--org", org.slug, "EUR", "1.10", "--date", "2025-01-01")
    assert done.exit_code == 0, done.output
    assert "Rate of EUR from 2025-01-01 on: 1.1" in done.output
    assert run("rates", "set", "--org", org.slug, "EUR", "1.20", "--date", "2025-02-01").exit_code == 0
    listed = run("rates", "list", "--org", org.slug, "--currency", "EUR", "--from", "2025-01-15")
    assert listed.exit_code == 0, listed.output
    assert "2025-02-01" in listed.output and "1.2" in listed.output and "2025-01-01" not in listed.output
    assert _rate_on(context, org.id, "EUR", date(2025, 1, 31)) == D("1.1")


def test_rates_set_without_a_date_sets_todays_rate(run, context, org):
    assert run("rates", "set", "--org", org.slug, "CHF", "1.13").exit_code == 0
    assert _listed(context, org.id) == [Rate("CHF", date.today(), D("1.13"), "manual")]


def test_rates_set_refusals_and_usage_errors(run, context, org):
    refused = run("rates", "set", "--org", org.slug, "XYZ", "abc", "--date", "2025-01-01")
    assert refused.exit_code == 1
    assert "'XYZ' is not an ISO 4217 currency code" in refused.output and "'abc' is not a number" in refused.output
    assert run("rates", "set", "--org", org.slug, "EUR", "1.1", "--date", "01/02/2025").exit_code == 2
    assert run("rates", "set", "--org", "no-such-organization", "EUR", "1.1").exit_code == 2
    assert _listed(context, org.id) == []


def test_rates_import_of_a_csv_file(run, context, org, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2025-01-01,EUR,1.10\n2025-01-01,GBP,1.25\n\n2025-02-01,EUR,1.20\n")
    done = run("rates", "import", "--org", org.slug, str(path))
    assert done.exit_code == 0, done.output
    assert "Imported 3 rates" in done.output
    assert _rate_on(context, org.id, "EUR", date(2025, 3, 1)) == D("1.2")


def test_rates_import_refuses_a_bad_csv_file_and_writes_nothing(run, context, org, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2025-01-01,EUR,1.10\n2025-01-01,XYZ,1.5\n2025-01-01,GBP,0\n"
                    "2025-02-30,CHF,1.05\n")
    refused = run("rates", "import", "--org", org.slug, str(path))
    assert refused.exit_code == 1
    assert [line.split(":")[0].strip() for line in refused.output.splitlines()[1:]] == ["line 3", "line 4", "line 5"]
    assert "nothing was imported" in refused.output
    assert _listed(context, org.id) == []
    path.write_text("day,currency,rate\n2025-01-01,EUR,1.10\n")
    wrong_header = run("rates", "import", "--org", org.slug, str(path))
    assert wrong_header.exit_code == 1 and "line 1: the header must be exactly date,currency,rate" in wrong_header.output


def test_rates_import_of_a_large_file_shows_its_progress(run, context, org, tmp_path):
    path = tmp_path / "rates.csv"
    days = [date.fromordinal(JAN.toordinal() + n) for n in range(cli.PROGRESS_ROWS_MIN)]
    path.write_text("date,currency,rate\n" + "".join(f"{day.isoformat()},EUR,1.{n:04d}\n" for n, day in enumerate(days)))
    done = run("rates", "import", "--org", org.slug, str(path))
    assert done.exit_code == 0, done.output
    assert "Importing rates" in done.output and f"Imported {len(days)} rates" in done.output
    assert _rate_on(context, org.id, "EUR", days[-1]) == D("1.0999")


# -- the migration -------------------------------------------------------------------------------

@pytest.fixture
def fresh_database_url(tmp_path) -> Iterator[str]:
    """An empty database of the kind under test, for migrations run from an older revision."""
    yield from empty_database(tmp_path)


def test_0018_adds_the_rates_and_keeps_every_figure_of_a_book_at_0017(fresh_database_url):
    """A book written at 0017 keeps every row of every table through 0018, which adds an empty,
    audited `exchange_rates`."""
    database = Database(fresh_database_url)  # its connections know the audit trail's functions
    engine = database.engine
    config = alembic_config(fresh_database_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0017")
            _write_a_small_book(connection)
            before = _every_row(connection)
            command.upgrade(config, "0018")
            assert _every_row(connection) == before
            assert connection.execute(text("SELECT count(*) FROM exchange_rates")).scalar() == 0
            connection.execute(text(
                "INSERT INTO exchange_rates (org_id, currency, date, rate, source, created_at, updated_at) "
                "VALUES (1, 'EUR', '2025-01-01', 11, 'manual', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            assert connection.execute(text(
                "SELECT count(*) FROM audit_events WHERE subject = 'exchange_rates'")).scalar() == 1
    finally:
        database.dispose()


def _write_a_small_book(connection) -> None:
    connection.execute(text(
        "INSERT INTO organizations (id, uuid, name, slug, currency_iso_code, country, chart, created_at, "
        "reference_version) VALUES (1, '00000000-0000-0000-0000-000000000001', 'Old Co', 'old-co', 'USD', 'US', "
        "'default', CURRENT_TIMESTAMP, 0)"))
    connection.execute(text("INSERT INTO taxes (org_id, name, rate) VALUES (1, 'VAT', 20500000)"))
    connection.execute(text(
        "INSERT INTO accounts (org_id, number, name, is_family, nature, created_at, updated_at) VALUES "
        "(1, '411', 'Receivable', false, 'asset', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
        "(1, '706', 'Income', false, 'income', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def _every_row(connection) -> dict[str, list[tuple]]:
    tables = sorted(name for name in inspect(connection).get_table_names() if name != "alembic_version")
    return {name: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {name} ORDER BY 1"))]
            for name in tables if name != "exchange_rates"}
