"""The `comptoir` command: run the server, create organizations and their credentials."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import multiprocessing
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import typer
import typer.core
import uvicorn
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from comptoir.app import DIALECTS, create_app
from comptoir.codec import MalformedJson, parse_json
from comptoir.dialects.upflow import invoices as upflow_invoices
from comptoir.dialects.upflow.errors import UpflowError
from comptoir.domain.currencies import smallest_unit
from comptoir.domain.errors import DomainError, ErrorKind, fail
from comptoir.domain.rates import CSV_HEADER
from comptoir.jobs.webhooks import Worker as WebhookWorker
from comptoir.services.access import credentials, identity, webhooks
from comptoir.services.documents import files, sales
from comptoir.services.kernel import unit_of_work
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger import rates, revaluation
from comptoir.services.ledger.closing import close_period
from comptoir.services.masterdata import parties
from comptoir.services.reporting import portal
from comptoir.services.tenancy.demo import load_demo_keeping
from comptoir.services.tenancy.organizations import (
    CHARTS,
    NewOrganization,
    create_organization,
    find_organization,
    first_employee_id,
    set_closed,
    set_fiscal_year_start,
)
from comptoir.settings import BadSetting, get_settings
from comptoir.storage import audit
from comptoir.storage.database import Database

# What each command reads besides COMPTOIR_DATABASE_URL and COMPTOIR_DATA_DIR (its --help says).
_SETTINGS_READ = {
    "serve": "every COMPTOIR_* setting of docs/configuration.md",
    "org create": "COMPTOIR_PUBLIC_URL (the base URLs it prints)",
    "webhooks run": "COMPTOIR_WEBHOOK_ATTEMPTS_MAX, COMPTOIR_WEBHOOK_RETRY_DELAY_S, COMPTOIR_WEBHOOK_RETRY_DELAY_MAX_S, "
                    "COMPTOIR_WEBHOOK_TIMEOUT_S, COMPTOIR_WEBHOOK_POLL_INTERVAL_S",
    "files sweep": "COMPTOIR_FILES_DIR",
}


def _footed(command: Any) -> Callable[[Any, Any], None]:
    """The command's help, ending with the database it uses and the settings it reads, worked out when
    the help is shown (the environment of that moment)."""
    shown = command.format_help

    def format_help(ctx: Any, formatter: Any) -> None:
        names, context = [], ctx
        while context.parent is not None:  # the command's path under `comptoir`, however it was started
            names.append(context.info_name)
            context = context.parent
        read = _SETTINGS_READ.get(" ".join(reversed(names)))
        command.epilog = (f"Database: {_database_said()}. Settings read: COMPTOIR_DATABASE_URL (or "
                          f"--database-url), COMPTOIR_DATA_DIR{', ' + read if read else ''} (docs/configuration.md).")
        shown(ctx, formatter)
    return format_help


class _Commands(typer.core.TyperGroup):
    """The `comptoir` group: the --help of every command it holds, at any depth, ends with the database
    it would use and the settings it reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in _leaves(self):
            command.format_help = _footed(command)


def _leaves(group: Any) -> Iterator[Any]:
    for command in group.commands.values():
        if hasattr(command, "commands"):  # a group (typer's own click: not click.Group)
            yield from _leaves(command)
        else:
            yield command


_DATABASE_URL = typer.Option(None, "--database-url", metavar="URL",
                             help="The database to use, instead of COMPTOIR_DATABASE_URL (sqlite:///PATH or "
                                  "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DBNAME).")
_VERBOSE = typer.Option(False, "-v", "--verbose", help="Say which database is used; show the traceback of an error.")


def _equip(app: typer.Typer) -> None:
    """Every command of `app`, at any depth, takes --database-url and -v, and turns a setting it cannot
    use (or a database it cannot open) into one line and exit code 2 (-v: with the traceback). Called
    once, after every command is registered."""
    for info in app.registered_commands:
        info.callback = _with_database_options(info.callback)
    for group in app.registered_groups:
        _equip(group.typer_instance)


def _with_database_options(function: Callable[..., Any]) -> Callable[..., Any]:
    import inspect
    from typing import get_type_hints

    signature = inspect.signature(function, eval_str=True)
    name = function.__name__

    @functools.wraps(function)
    def command(*args: Any, database_url: str | None = None, verbose: bool = False, **kwargs: Any) -> Any:
        before = os.environ.get("COMPTOIR_DATABASE_URL")
        if database_url is not None:  # in the environment: `serve --workers N` starts processes that read it
            os.environ["COMPTOIR_DATABASE_URL"] = database_url
            get_settings.cache_clear()
        try:
            if verbose and name != "serve":
                console.print(f"Database: {_redacted(get_settings().database_url)}", soft_wrap=True,
                              markup=False, highlight=False)
            return function(*args, **kwargs)
        except BadSetting as error:
            if verbose:
                traceback.print_exception(error, file=sys.stderr)
            typer.echo(f"comptoir: {error}", err=True)
            raise typer.Exit(2) from None
        finally:
            if database_url is not None:  # as it was (a command run in-process, by a test)
                if before is None:
                    os.environ.pop("COMPTOIR_DATABASE_URL", None)
                else:
                    os.environ["COMPTOIR_DATABASE_URL"] = before
                get_settings.cache_clear()

    extra = [inspect.Parameter("database_url", inspect.Parameter.KEYWORD_ONLY, default=_DATABASE_URL,
                               annotation=str | None),
             inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=_VERBOSE, annotation=bool)]
    command.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
    command.__annotations__ = {**get_type_hints(function), "database_url": str | None, "verbose": bool}
    del command.__wrapped__
    return command


def _database_said() -> str:
    try:
        url = get_settings().database_url
    except BadSetting as error:
        return f"none usable ({error})"
    where = "COMPTOIR_DATABASE_URL" if os.environ.get("COMPTOIR_DATABASE_URL") else "the default"
    return f"{_redacted(url)} ({where})"


cli = typer.Typer(help="Comptoir: a self-hosted accounting and invoicing server.", no_args_is_help=True,
                  cls=_Commands)
org_cli = typer.Typer(help="Organizations and their credentials.", no_args_is_help=True)
cli.add_typer(org_cli, name="org")
console = Console()


def _database() -> Database:
    """The configured database, migrated; `BadSetting` when it cannot be reached or opened."""
    url = get_settings().database_url
    database = Database(url)
    try:
        database.migrate()
    except OperationalError as error:  # no server there, refused, a file that cannot be opened
        reason = " ".join(str(error.orig).split()) or type(error.orig).__name__
        raise BadSetting(f"COMPTOIR_DATABASE_URL: cannot open {_redacted(url)}: {reason}") from error
    return database


def _port_taken(host: str, port: int) -> str | None:
    """Why (host, port) cannot be listened on, or None: found before anything is touched, so that a
    second server started on a taken port leaves the running one (and its database) alone."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot listen on {host}:{port}: {error.strerror}"
    for family, kind, protocol, _, address in addresses[:1]:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind(address)
            except OSError as error:
                return (f"cannot listen on {host}:{port}: {error.strerror} (another server, the demo perhaps, "
                        "is running there; stop it or pick another --port)")
    return None


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    _database()
    console.print("[green]Database is up to date.[/green]")


@cli.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="Port to listen on."),
          demo: bool = typer.Option(False, help="Load the demo organization and print its credentials."),
          workers: int = typer.Option(1, help="Worker processes."),
          http: str = typer.Option("httptools", help="uvicorn's HTTP server: httptools (the faster) or h11. Both "
                                                     "write header names as the dialects document them."),
          worker_healthcheck_timeout: int = typer.Option(
              5, min=1, help="Seconds a worker may take to answer the supervisor (when it starts, too) before it "
                             "is killed and replaced; raise it on a host too busy to start a worker in 5 s.")) -> None:
    """Migrate the configured database, then serve every dialect.

    Exits with code 2, before touching the database, when the port is taken or a setting cannot be used."""
    protocols = {"httptools": "comptoir.serving:HttpToolsProtocol", "h11": "h11"}
    if http not in protocols:
        raise typer.BadParameter(f"one of {', '.join(protocols)}", param_hint="--http")
    protocol = protocols[http]
    taken = _port_taken(host, port)
    if taken:
        typer.echo(f"comptoir serve: {taken}", err=True)
        raise typer.Exit(2)
    settings = get_settings()  # a setting that cannot be used stops it here, before anything is written
    console.print(f"Database: {_redacted(settings.database_url)}", soft_wrap=True, markup=False, highlight=False)
    base = f"http://{host}:{port}"
    if "COMPTOIR_PUBLIC_URL" not in os.environ:  # links the server hands out name where it listens
        os.environ["COMPTOIR_PUBLIC_URL"] = base
        get_settings.cache_clear()
        console.print(f"[yellow]COMPTOIR_PUBLIC_URL is not set: links, token issuers and webhook sources name "
                      f"{base}, where this server listens. Set it to the URL clients reach it at.[/yellow]",
                      soft_wrap=True)
    settings = get_settings()
    database = _database()
    if demo:
        kept = _demo_file(settings)
        _print_demo(load_demo_keeping(database, kept), base, kept)
    swept = files.sweep(database, Path(settings.files_dir))  # what a crash left in the file store
    if swept:
        console.print(f"Removed {len(swept)} files a crash left in the file store.")
    database.dispose()
    console.print(f"Serving on {base} (database: {_redacted(settings.database_url)})", soft_wrap=True)
    console.print(f"API documentation: {base.rstrip('/')}/docs", soft_wrap=True)
    if workers > 1:
        # Each worker builds its own app from the environment (create_app() reads get_settings()).
        # Made here once, so the workers all read the same session key rather than each racing to create it.
        settings.session_secret()
        if settings.rate_limits_enabled and not settings.redis_url:
            console.print(f"[yellow]Rate limits are counted in each of the {workers} workers separately; "
                          "set COMPTOIR_REDIS_URL to share them.[/yellow]", soft_wrap=True)
        uvicorn.run("comptoir.app:create_app", factory=True, host=host, port=port, workers=workers,
                    timeout_worker_healthcheck=worker_healthcheck_timeout, http=protocol)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, http=protocol)


@org_cli.command("create")
def org_create(name: str,
               as_json: bool = typer.Option(False, "--json", help="Print one JSON object: organization (id, uuid, "
                                                                  "name, slug), the credentials of oneup, upflow, quipu "
                                                                  "and oneconnect, and the first user's web login."),
               currency: str = typer.Option("USD", help="Main currency (ISO 4217)."),
               country: str = typer.Option("US", help="Country (ISO 3166 alpha-2); picks the default taxes."),
               chart: str = typer.Option("default", help=f"Chart of accounts: {', '.join(CHARTS)}."),
               fiscal_year_start: int = typer.Option(1, help="Month its fiscal years begin (1 to 12).")) -> None:
    """Create an organization with its reference data and an API user; print its credentials once."""
    try:
        created = create_organization(_database(), name, currency=currency, country=country, chart=chart,
                                      fiscal_year_start_month=fiscal_year_start)
    except DomainError as error:
        console.print(f"[red]Cannot create the organization:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(created.as_json()) + "\n")
        return
    _print_credentials(created, get_settings().public_url)


credentials_cli = typer.Typer(help="API credentials of every dialect and OAuth clients.", no_args_is_help=True)
cli.add_typer(credentials_cli, name="credentials")
oauth_cli = typer.Typer(help="OAuth2 clients of the OneUp authorization server.", no_args_is_help=True)
cli.add_typer(oauth_cli, name="oauth-client")


@credentials_cli.command("create")
def credentials_create(slug: str, kind: str = typer.Argument(..., help=f"One of: {', '.join(credentials.ISSUABLE)}."),
                       as_json: bool = typer.Option(False, "--json", help="Print one JSON object: kind, identifier, "
                                                                          "secret.")) -> None:
    """Issue a new credential of a dialect for an organization; the secret is printed once."""
    database = _database()
    try:
        org_id = find_organization(database, slug)
        with database.transaction() as session:
            employee_id = first_employee_id(session, org_id) if kind == "oneup" else None
            issued = credentials.issue(session, org_id, kind, employee_id=employee_id)
    except DomainError as error:
        console.print(f"[red]Cannot issue the credential:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps({"kind": kind, **issued}) + "\n")
    else:
        console.print(f"{kind} credential for {slug} (shown once):", soft_wrap=True)
        console.print(f"  identifier {issued['identifier']}", soft_wrap=True)
        console.print(f"  secret     {issued['secret']}", soft_wrap=True)


@credentials_cli.command("revoke")
def credentials_revoke(slug: str,
                       kind: str = typer.Argument(..., help=f"One of: {', '.join((*credentials.ISSUABLE, 'web'))}."),
                       identifier: str = typer.Argument(..., help="Its public half: the OneUp email, the API key or "
                                                                  "app id or client id, the integration id, the web "
                                                                  "login's email."),
                       reason: str = typer.Option("Revoked by an administrator", help="Told to later callers.")) -> None:
    """Revoke a credential; later calls with it are refused (OneConnect integrations say the reason)."""
    database = _database()
    try:
        credentials.revoke(database, find_organization(database, slug), kind, identifier, reason)
    except DomainError as error:
        console.print(f"[red]Cannot revoke:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    console.print(f"Revoked {kind} credential {identifier} of {slug}.")


@oauth_cli.command("create")
def oauth_client_create(name: str, redirect_uri: list[str] = typer.Option(..., "--redirect-uri",
                                                                          help="Allowed redirect URI (repeat)."),
                        as_json: bool = typer.Option(False, "--json", help="Print one JSON object: client_id, "
                                                     "client_secret, name, redirect_uris.")) -> None:
    """Register an OAuth2 client; prints its client_id and client_secret (the secret once)."""
    try:
        client = identity.register_client(_database(), name, redirect_uri)
    except DomainError as error:
        console.print(f"[red]Cannot register the client:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": client.client_secret,
                                     "name": client.name, "redirect_uris": client.redirect_uris}) + "\n")
        return
    console.print(f"client_id     {client.client_id}", soft_wrap=True)
    console.print(f"client_secret {client.client_secret}", soft_wrap=True)


@oauth_cli.command("revoke")
def oauth_client_revoke(client_id: str) -> None:
    """Revoke an OAuth2 client and every token it holds."""
    database = _database()
    try:
        identity.revoke_client(database, client_id)
    except DomainError as error:
        console.print(f"[red]Cannot revoke:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    revoked = identity.revoke_tokens_of(database, client_id=client_id)
    console.print(f"Revoked OAuth client {client_id} and {revoked} tokens.")


@org_cli.command("close")
def org_close(slug: str) -> None:
    """Close an organization (the company closed on the accounting side): every credential of it is
    refused from the next request, and its OneConnect integrations answer SMB_CLOSED, then are revoked."""
    database = _database()
    set_closed(database, _org_or_exit(database, slug), True)
    console.print(f"Organization {slug} is closed: its credentials are refused.")


@org_cli.command("reopen")
def org_reopen(slug: str) -> None:
    """Reopen a closed organization: its credentials work again (integrations revoked meanwhile stay revoked)."""
    database = _database()
    set_closed(database, _org_or_exit(database, slug), False)
    console.print(f"Organization {slug} is open again.")


def _org_or_exit(database: Database, slug: str) -> int:
    try:
        return find_organization(database, slug)
    except DomainError as error:
        console.print(f"[red]{error.describe()}[/red]")
        raise typer.Exit(2) from None


@org_cli.command("close-books")
def org_close_books(slug: str, until: str = typer.Option(..., help="Last day of the closed period (YYYY-MM-DD).")) -> None:
    """Close an organization's books up to a date: its transactions become Closed and nothing dated
    on or before it can be written any more."""
    database = _database()
    try:
        org_id = find_organization(database, slug)
        with open_book(database, org_id) as book:
            closed = close_period(book, date.fromisoformat(until))
    except (DomainError, ValueError) as error:
        console.print(f"[red]Cannot close the books:[/red] {error}")
        raise typer.Exit(2) from None
    console.print(f"Books of {slug} closed until {until}: {closed} transactions are now Closed.")


@org_cli.command("fiscal-year")
def org_fiscal_year(slug: str, start_month: int = typer.Option(..., help="Month fiscal years begin (1 to 12).")) -> None:
    """Set the month an organization's fiscal years begin (refused once its books are closed: the
    closed years' results, carried forward by fiscal year, must not move)."""
    database = _database()
    try:
        with open_book(database, find_organization(database, slug)) as book:
            set_fiscal_year_start(book, start_month)
    except DomainError as error:
        console.print(f"[red]Cannot set the fiscal year:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    console.print(f"Fiscal years of {slug} begin on the first of month {start_month}.")


rates_cli = typer.Typer(help="Exchange rates of an organization (docs/currencies.md).", no_args_is_help=True)
cli.add_typer(rates_cli, name="rates")
PROGRESS_ROWS_MIN = 1000  # a file of rates at least this long shows a progress bar
_DAY_FORMATS = ["%Y-%m-%d"]


@rates_cli.command("set")
def rates_set(currency: str = typer.Argument(..., help="ISO 4217 code of the currency (EUR)."),
              rate: str = typer.Argument(..., help="What one unit of it is worth in the organization's currency."),
              org: str = typer.Option(..., "--org", help="Slug of the organization."),
              day: datetime = typer.Option(None, "--date", formats=_DAY_FORMATS,
                                           help="First day of the rate, YYYY-MM-DD (default: today).")) -> None:
    """Set the rate of a currency from a day on; setting it again for the same day replaces it."""
    database = _database()
    org_id = _org_or_exit(database, org)
    fields = {"currency": currency, "rate": rate, "date": (day.date() if day else date.today()).isoformat()}
    try:
        with open_book(database, org_id) as book:
            kept = rates.set_rate_from_text(book, fields)
    except DomainError as error:
        _refuse("Cannot set the rate", error)
    console.print(f"Rate of {kept.currency} from {kept.day.isoformat()} on: {kept.rate}")


@rates_cli.command("import")
def rates_import(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                             help="CSV with the header date,currency,rate."),
                 org: str = typer.Option(..., "--org", help="Slug of the organization.")) -> None:
    """Import a CSV file of rates, all or nothing: a file with any bad line is refused, with the number
    of each bad line and why, and nothing is written."""
    database = _database()
    org_id = _org_or_exit(database, org)
    try:
        lines = _rate_lines(file)
        with open_book(database, org_id) as book, \
                Progress(*_RATE_COLUMNS, console=console, disable=len(lines) < PROGRESS_ROWS_MIN) as progress:
            task = progress.add_task("Importing rates", total=len(lines))
            count = rates.import_rates(book, lines, lambda written: progress.advance(task, written))
    except DomainError as error:
        _refuse("Refused, nothing was imported", error)
    console.print(f"Imported {count} rates into {org}.")


_RATE_COLUMNS = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                 TimeElapsedColumn())


def _rate_lines(file: Path) -> list[tuple[int, list[str]]]:
    """The lines of a CSV file of rates after its header (checked), with their numbers; blank ones left out."""
    with file.open(newline="", encoding="utf-8-sig") as text:
        reader = csv.reader(text)
        header = next(reader, [])
        if tuple(name.strip() for name in header) != CSV_HEADER:
            raise fail(ErrorKind.INVALID, "line 1", f"the header must be exactly {','.join(CSV_HEADER)}")
        return [(reader.line_num, values) for values in reader if any(value.strip() for value in values)]


@rates_cli.command("list")
def rates_list(org: str = typer.Option(..., "--org", help="Slug of the organization."),
               currency: str = typer.Option(None, "--currency", help="Only this currency (EUR)."),
               date_from: datetime = typer.Option(None, "--from", formats=_DAY_FORMATS, help="From this day (YYYY-MM-DD)."),
               date_to: datetime = typer.Option(None, "--to", formats=_DAY_FORMATS, help="Up to this day (YYYY-MM-DD).")
               ) -> None:
    """List the organization's rates by currency and date."""
    database = _database()
    with open_book(database, _org_or_exit(database, org)) as book:
        found = rates.list_rates(book, currency, date_from and date_from.date(), date_to and date_to.date())
    table = Table("Currency", "Date", "Rate", "Source", title=f"Exchange rates of {org}")
    for rate in found:
        table.add_row(rate.currency, rate.day.isoformat(), str(rate.rate), rate.source)
    console.print(table)


@cli.command()
def revalue(org: str = typer.Option(..., "--org", help="Slug of the organization."),
            day: datetime = typer.Option(..., "--date", formats=_DAY_FORMATS,
                                         help="The day to revalue on (YYYY-MM-DD): its rates, the entries dated up to it."),
            undo: bool = typer.Option(False, "--undo", help="Take the revaluation of that day out of the book "
                                                            "instead (it and its reversal are reversed).")) -> None:
    """Revalue the receivables and payables open in other currencies at a day's rates: post their
    unrealised exchange gains and losses, dated that day, and the reversal of that posting, dated the
    next day (docs/currencies.md, "Revaluation"). A day is revalued once: a second run is refused
    until `--undo` takes the first out."""
    database = _database()
    org_id = _org_or_exit(database, org)
    on = day.date()
    try:
        with open_book(database, org_id) as book:
            if undo:
                undone = revaluation.undo(book, on)
            else:
                posted = revaluation.revalue(book, on)
    except DomainError as error:
        _refuse(f"Cannot {'undo the revaluation of' if undo else 'revalue'} {org} on {on.isoformat()}", error)
    except IntegrityError:  # another run revalued the day meanwhile: the book holds one revaluation per day
        _refuse(f"Cannot revalue {org} on {on.isoformat()}",
                fail(ErrorKind.CONFLICT, "date", f"the book was revalued on {on.isoformat()} meanwhile"))
    if undo:
        console.print(f"The revaluation of {on.isoformat()} is undone: reversed by transactions "
                      f"{', '.join(f'{written.id} ({written.date.isoformat()})' for written in undone)}.", soft_wrap=True)
    else:
        _print_revaluation(org, posted)


def _print_revaluation(org: str, posted: revaluation.Posted) -> None:
    """What `revalue` posted: a line per party, currency and account it revalued, then its transactions."""
    found = posted.revaluation
    if posted.transaction is None:
        why = ("every balance open in another currency is booked at that day's rates already" if found.lines
               else "no receivable or payable is open in another currency")
        console.print(f"Nothing to revalue in {org} on {found.day.isoformat()}: {why}.", soft_wrap=True)
        return
    own = found.currency
    table = Table("Party", "Account", "Open", "Rate", "Booked", "At rate", "Gain/loss", box=box.SIMPLE_HEAD,
                  title=f"Revaluation of {org} on {found.day.isoformat()} (booked, at rate, gain/loss: {own})")
    for line in found.differences:
        balance, revalued = line.balance, line.revalued
        table.add_row(line.party_name, line.account_number,
                      f"{_money(balance.open_amount, balance.currency)} {balance.currency}", str(revalued.rate),
                      _money(balance.booked, own), _money(revalued.value, own), _money(revalued.difference, own))
    console.print(table)
    console.print(f"Posted {posted.transaction.piece_number} on {posted.transaction.date.isoformat()} (transaction "
                  f"{posted.transaction.id}): gains {_money(found.gains, own)}, losses {_money(found.losses, own)} "
                  f"{own}; reversed on {posted.reversal.date.isoformat()} (transaction {posted.reversal.id}).",
                  soft_wrap=True)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(smallest_unit(currency)):,}"


def _refuse(what: str, error: DomainError) -> NoReturn:
    """Say why a command refused, one problem a line, and exit with code 1 (nothing was changed)."""
    console.print(f"[red]{what}:[/red]")
    for problem in error.problems:
        console.print(f"  {problem.field}: {problem.message}" if problem.field else f"  {problem.message}",
                      soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(1) from None


import_cli = typer.Typer(help="Bulk imports from files.", no_args_is_help=True)
cli.add_typer(import_cli, name="import")


@import_cli.command("upflow-invoices")
def import_upflow_invoices(
        file: Path = typer.Argument(..., exists=True, dir_okay=False,  # noqa: B008 - typer's idiom
                                    help="JSON lines: one Upflow invoice a line."),
        org: str = typer.Option(..., "--org", help="Slug of the organization to import into."),
        batch_size: int = typer.Option(500, min=1, help="Invoices written per database transaction."),
        processes: int = typer.Option(0, "--processes", min=0,
                                      help="Processes importing at once (0: one per CPU core, at most 4, on "
                                           "PostgreSQL; SQLite writes one transaction at a time: 1)."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object: created, "
                                                           "updated, failed, lines, seconds, per_second, failures "
                                                           "(the first 20).")) -> None:
    """Import Upflow invoices (the bodies of POST /upflow/v1/invoices, one a line) as the Upflow route
    does: by externalId, created or else updated, exactly once; a re-run creates nothing new. A line
    that is refused is reported with its number and skipped; the others are imported. With several
    processes, each imports the lines of its share of the externalIds, in the order of the file.
    The summary says how many lines were read, imported and refused. Exit code: 0 every line
    imported, 1 some line refused (the others are imported), 2 nothing imported (no such organization)."""
    database = _database()
    try:
        org_id = find_organization(database, org)
    except DomainError as error:
        console.print(f"[red]Cannot import:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    with database.transaction() as session:
        employee_id = first_employee_id(session, org_id)
    total = sum(1 for line in file.open("rb") if line.strip())
    counts = {"created": 0, "updated": 0, "failed": 0}
    failures: list[str] = []
    shown = Console(stderr=True) if as_json else console
    started = time.perf_counter()
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>7.0f}/s"), TimeElapsedColumn(), TimeRemainingColumn())
    workers = processes or (min(os.cpu_count() or 1, IMPORT_PROCESSES_MAX) if database.is_postgres else 1)
    with Progress(*columns, console=shown) as progress, file.open("rb") as lines:
        task = progress.add_task("Importing Upflow invoices", total=total, rate=0.0)

        def done(batch_counts: dict[str, int], batch_failures: list[str], size: int) -> None:
            for key, value in batch_counts.items():
                counts[key] += value
            failures.extend(batch_failures)
            progress.update(task, advance=size, rate=sum(counts.values()) / (time.perf_counter() - started))
        numbered = ((number, line) for number, line in enumerate(lines, start=1) if line.strip())
        if workers > 1:
            _import_in_processes(database.url, org_id, employee_id, _shares(numbered, workers), batch_size, done)
        else:
            for batch in _batches(numbered, batch_size):
                done(*_import_upflow_batch_counted(database, org_id, employee_id, batch), len(batch))
    failures.sort(key=lambda failure: int(failure.split(":", 1)[0].removeprefix("line ")))
    elapsed = time.perf_counter() - started
    imported = counts["created"] + counts["updated"]
    summary = {**counts, "lines": total, "imported": imported, "refused": counts["failed"],
               "seconds": round(elapsed, 3), "per_second": round(total / elapsed, 1) if elapsed else None,
               "failures": failures[:IMPORT_FAILURES_SHOWN]}
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        console.print(f"Read {total} {_plural(total, 'line')} in {elapsed:.1f} s ({summary['per_second']}/s): "
                      f"{imported} {_plural(imported, 'invoice')} imported ({counts['created']} created, "
                      f"{counts['updated']} updated), {counts['failed']} {_plural(counts['failed'], 'line')} "
                      "refused.", soft_wrap=True, highlight=False)
        for failure in failures[:IMPORT_FAILURES_SHOWN]:
            console.print("  [red]refused[/red] " + escape(failure), soft_wrap=True, highlight=False)
        if len(failures) > IMPORT_FAILURES_SHOWN:
            more = len(failures) - IMPORT_FAILURES_SHOWN
            console.print(f"  … and {more} more refused {_plural(more, 'line')}.", soft_wrap=True, highlight=False)
    if counts["failed"]:
        raise typer.Exit(1)


IMPORT_PROCESSES_MAX = 4
IMPORT_FAILURES_SHOWN = 20  # the refused lines listed, with their reasons; the summary counts them all


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _batches(numbered: Iterable[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for item in numbered:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _shares(numbered: Iterable[tuple[int, bytes]], workers: int) -> list[list[tuple[int, bytes]]]:
    """The lines split among the processes by externalId (a stable hash of it), each share in the
    order of the file: every line of one externalId goes to one process, which imports them in
    order, as one process would. A line without a readable externalId goes to the first share,
    which reports it."""
    shares: list[list[tuple[int, bytes]]] = [[] for _ in range(workers)]
    for number, line in numbered:
        try:
            payload = parse_json(line)
        except MalformedJson:
            payload = None
        external_id = payload.get("externalId") if isinstance(payload, dict) else None
        share = zlib.crc32(external_id.encode("utf-8")) % workers if isinstance(external_id, str) else 0
        shares[share].append((number, line))
    return shares


def _import_in_processes(url: str, org_id: int, employee_id: int | None, shares: list[list[tuple[int, bytes]]],
                         batch_size: int, done: Callable[[dict[str, int], list[str], int], None]) -> None:
    """Each share imported by a process of its own (its own connections), batch after batch; `done`
    told of each batch as it ends. Two invoices of different externalIds but one customId may then
    meet in two processes: one is refused as in one process, though not always the later line."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no connection inherited
    with context.Manager() as manager, ProcessPoolExecutor(len(shares), mp_context=context) as pool:
        outcomes = manager.Queue()
        running = [pool.submit(_import_share, url, org_id, employee_id, share, batch_size, outcomes)
                   for share in shares if share]
        finished = 0
        while finished < len(running):
            try:
                outcome = outcomes.get(timeout=1)
            except queue.Empty:  # a process that died says nothing more: its error is this command's
                for future in running:
                    if future.done() and future.exception() is not None:
                        raise future.exception()
                continue
            if outcome is None:
                finished += 1
            else:
                done(*outcome)
        for future in running:
            future.result()  # an error of a process is this command's


def _import_share(url: str, org_id: int, employee_id: int | None, share: list[tuple[int, bytes]],
                  batch_size: int, outcomes: Any) -> None:
    """In a process of `_import_in_processes`: the share's batches, each outcome put on the queue,
    then None."""
    database = Database(url)
    try:
        for batch in _batches(share, batch_size):
            outcomes.put((*_import_upflow_batch_counted(database, org_id, employee_id, batch), len(batch)))
    finally:
        outcomes.put(None)
        database.dispose()


def _import_upflow_batch_counted(database: Database, org_id: int, employee_id: int | None,
                                 batch: list[tuple[int, bytes]]) -> tuple[dict[str, int], list[str]]:
    """`_import_upflow_batch` of one batch: its counts and its failures."""
    counts = {"created": 0, "updated": 0, "failed": 0}
    failures: list[str] = []
    _import_upflow_batch(database, org_id, employee_id, batch, counts, failures)
    return counts, failures


def _import_upflow_batch(database: Database, org_id: int, employee_id: int | None, batch: list[tuple[int, bytes]],
                         counts: dict[str, int], failures: list[str]) -> None:
    """One database transaction for the batch, with the outcome of one invoice at a time (a refused
    one leaves no trace and does not undo the others), but the work of the whole batch at once:

    1. every line is parsed and checked;
    2. the invoices their externalIds name and their customers are read, in one query each;
    3. the new invoices (first mention of an externalId the book does not have) are written together
       (`_create_upflow_invoices`: a few statements for all of them), each as `sales.import_invoice`
       would create it. One that the services refuse leaves the batch, and is taken again in step 4; if
       the database refuses the batch (a customId used twice), none of it is kept, and every line of
       it is taken again in step 4;
    4. the other lines (updates, later mentions of an externalId) and those, in the order of the file,
       each in its own savepoint through `sales.import_invoice`, exactly as before.
    """
    refused: list[tuple[int, str]] = []
    parsed: list[tuple[int, upflow_invoices.InvoiceIn]] = []
    for number, line in batch:
        try:
            payload = parse_json(line)
            if not isinstance(payload, dict):
                raise ValueError("the line is not a JSON object")  # noqa: TRY004 - reported like the others
            sent = upflow_invoices.InvoiceIn.model_validate(payload)
            if not sent.externalId:
                raise ValueError("externalId is required to import from a file (it makes a re-run safe)")
            parsed.append((number, sent))
        except (MalformedJson, ValidationError, ValueError) as error:
            refused.append((number, _reason(error)))
    if parsed:
        with open_book(database, org_id, employee_id) as book:
            known = sales.find_documents(book, sales.INVOICE, [sent.externalId for _, sent in parsed])
            customers = [sent.customer for _, sent in parsed if sent.customer is not None]
            parties.preload_parties(book, uuids=[link.id for link in customers if link.id],
                                    external_ids=[link.externalId for link in customers if not link.id])
            fresh: dict[str, tuple[int, upflow_invoices.InvoiceIn]] = {}
            for number, sent in parsed:
                if sent.externalId not in known:
                    fresh.setdefault(sent.externalId, (number, sent))
            created = _create_upflow_invoices(book, list(fresh.values()))
            for number, sent in parsed:
                if number in created:
                    known[sent.externalId] = created[number]
                    counts["created"] += 1
                    continue
                try:
                    with book.link.savepoint():
                        existing = known.get(sent.externalId)
                        fields = upflow_invoices.document_fields(book, sales.INVOICE, sent, existing)
                        document, was_created = sales.import_invoice(book, sent.externalId, fields, found=existing)
                    known[sent.externalId] = document
                    counts["created" if was_created else "updated"] += 1
                except (UpflowError, DomainError, ValueError) as error:
                    refused.append((number, _reason(error)))
    counts["failed"] += len(refused)
    failures.extend(f"line {number}: {reason}" for number, reason in sorted(refused))


def _create_upflow_invoices(book, fresh: list[tuple[int, upflow_invoices.InvoiceIn]]) -> dict[int, Any]:
    """Create these invoices (none of their externalIds is in the book) together: each checked and
    computed by the services (`prepare`), then all written at once (`create_many`: a few statements
    for the whole batch); the created ones by line number. Those the services refuse are left out
    (the caller takes them again one by one); when the database refuses the batch (a customId used
    twice), none is created."""
    if not fresh:
        return {}
    book.counters.reserve("transaction", len(fresh))
    prepared = {}
    with parties.unchanged(book):  # checked, not written: each customer read once for the batch
        for number, sent in fresh:
            try:
                fields = upflow_invoices.document_fields(book, sales.INVOICE, sent, None)
                prepared[number] = sales.INVOICES.prepare(book, {**fields, "external_id": sent.externalId})
            except (UpflowError, DomainError, ValueError):
                continue  # taken again on its own, where its refusal is reported
    try:
        with unit_of_work.apart(book):
            created = sales.INVOICES.create_many(book, list(prepared.values()))
    except (SQLAlchemyError, DomainError):
        return {}
    return dict(zip(prepared, created))


def _reason(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.describe()
    if isinstance(error, UpflowError):
        return error.message
    return str(error).splitlines()[0]


files_cli = typer.Typer(help="The file store (COMPTOIR_FILES_DIR).", no_args_is_help=True)
cli.add_typer(files_cli, name="files")


@files_cli.command("sweep")
def files_sweep(older_than: float = typer.Option(3600, "--older-than", min=0,
                                                 help="Only files at least this many seconds old (0 when the server "
                                                      "is stopped).")) -> None:
    """Remove the files a crash left in the file store: files no row names, half-written temporary files."""
    settings = get_settings()
    swept = files.sweep(_database(), Path(settings.files_dir), older_than_s=older_than)
    console.print(f"Removed {len(swept)} files.")
    for key in swept:
        console.print(f"  {key}")


portal_cli = typer.Typer(help="Customer portal links (Upflow's POST /customers/{id}/portal).", no_args_is_help=True)
cli.add_typer(portal_cli, name="portal")


@portal_cli.command("revoke")
def portal_revoke(slug: str, customer: str = typer.Argument(
        ..., help="The customer's id (its UUID, as Upflow shows it) or external:<externalId>.")) -> None:
    """Withdraw every portal link the customer was given: they no longer open (new ones can be made)."""
    database = _database()
    org_id = _org_or_exit(database, slug)
    key = {"external_id": customer.removeprefix("external:")} if customer.startswith("external:") \
        else {"uuid": customer}
    try:
        with open_book(database, org_id) as book:
            portal.revoke_links(book, parties.find_customer(book, **key))
    except DomainError as error:
        console.print(f"[red]Cannot withdraw the links:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    console.print(f"Every portal link of customer {customer} is withdrawn.")


webhooks_cli = typer.Typer(help="OneConnect webhooks: partners' URLs and the delivery worker.", no_args_is_help=True)
cli.add_typer(webhooks_cli, name="webhooks")


@webhooks_cli.command("set-url")
def webhooks_set_url(slug: str, client_id: str = typer.Argument(..., help="The OneConnect partner's client id."),
                     url: str = typer.Argument(..., help="Absolute http(s) URL; '-' removes the partner's URL.")) -> None:
    """Where a OneConnect partner of the organization receives its webhooks (DocumentStatus, Revocation)."""
    database = _database()
    try:
        with open_book(database, find_organization(database, slug)) as book:
            if url == "-":
                webhooks.remove_endpoint(book, client_id)
            else:
                webhooks.set_endpoint(book, client_id, url)
    except DomainError as error:
        console.print(f"[red]Cannot set the webhook URL:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    console.print(f"Webhooks of partner {client_id} of {slug}: {'none' if url == '-' else url}", soft_wrap=True)


@webhooks_cli.command("run")
def webhooks_run(once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
                 batch_size: int = typer.Option(20, min=1, help="Events claimed at a time.")) -> None:
    """Deliver the webhook outbox: every event due, retried with backoff, until stopped (Ctrl-C or
    SIGTERM). Run as many as you like beside the server: they never claim the same event."""
    worker = WebhookWorker(_database(), get_settings(), batch_size=batch_size)
    if once:
        console.print(f"{worker.drain()} webhook deliveries attempted.")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print("Delivering webhooks; Ctrl-C to stop.")
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()


def _print_credentials(created: NewOrganization, base: str,
                       note: str = "Credentials are shown once; only their hashes are stored.") -> None:
    """One line per fact, never wrapped or cut, so secrets can be copied from a narrow terminal."""
    base = base.rstrip("/")
    lines = [
        f"[bold]{created.name}[/bold] (id {created.id}, slug {created.slug})",
        note,
        f"  OneUp v1       {base}{DIALECTS['oneup']}   (HTTP Basic)",
        f"    email        {created.oneup.email}",
        f"    api key      {created.oneup.api_key}",
        f"    OAuth2 sign-in {base}/oneup/oauth2/login",
        f"    email        {created.login.email}",
        f"    password     {created.login.password}",
        f"  Upflow v1      {base}{DIALECTS['upflow']}   (X-Api-Key, X-Api-Secret)",
        f"    api key      {created.upflow['api_key']}",
        f"    api secret   {created.upflow['api_secret']}",
        f"  Quipu v1       {base}{DIALECTS['quipu']}   (token: POST {base}/quipu/oauth/token)",
        f"    app id       {created.quipu['app_id']}",
        f"    app secret   {created.quipu['app_secret']}",
        f"    owner slug   {created.quipu['owner_slug']}",
        f"  OneConnect v1  {base}{DIALECTS['oneconnect']}   (token: POST {base}/oneconnect/oauth2/token)",
        f"    client id    {created.oneconnect['client_id']}",
        f"    client secret {created.oneconnect['client_secret']}",
        f"    integration id     {created.oneconnect['integration_id']}",
        f"    integration secret {created.oneconnect['integration_secret']}",
    ]
    for line in lines:
        console.print(line, soft_wrap=True)


def _print_demo(created: NewOrganization, base: str, kept: Path) -> None:
    _print_credentials(created, base, f"The same credentials on every start of this database (kept in {kept}).")
    console.print(f'Try: curl -u "{created.oneup.email}:{created.oneup.api_key}" {base}/oneup/v1/customers',
                  soft_wrap=True)
    oneconnect = created.oneconnect  # what the OneConnect seed's curl commands need (docs/dialects/oneconnect.md)
    console.print("OneConnect: paste these, then run the seed's curl commands with $BASE in place of "
                  "https://api.oneconnect.shine.co/v1:", soft_wrap=True)
    for line in (f"  export BASE={base}{DIALECTS['oneconnect']}",
                 f"  export integrationId={oneconnect['integration_id']}",
                 f"  export integrationSecret={oneconnect['integration_secret']}",
                 (f"  export access_token=$(curl -s {base}/oneconnect/oauth2/token -d grant_type=client_credentials "
                  f"-d client_id={oneconnect['client_id']} -d client_secret={oneconnect['client_secret']} "
                  "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')")):
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def _demo_file(settings: Any) -> Path:
    """Where the demo's credentials of this database are kept between starts (beside the secret key)."""
    return Path(settings.data_dir) / f"demo-{hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]}.json"


def _redacted(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


_equip(cli)


def main() -> None:
    audit.act_as_default("cli")  # the audit trail names the command line as the actor of its changes
    cli()


if __name__ == "__main__":
    main()
