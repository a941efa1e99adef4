"""The `comptoir` command: run the server, create organizations and their credentials."""

from __future__ import annotations

import json
import sys
from datetime import date

import typer
import uvicorn
from rich.console import Console

from comptoir.app import DIALECTS, create_app
from comptoir.domain.errors import DomainError
from comptoir.services.book import open_book
from comptoir.services.demo import load_demo
from comptoir.services.ledger import close_period
from comptoir.services.organizations import CHARTS, NewOrganization, create_organization, find_organization
from comptoir.settings import get_settings
from comptoir.storage.database import Database

cli = typer.Typer(help="Comptoir: a self-hosted accounting and invoicing server.", no_args_is_help=True)
org_cli = typer.Typer(help="Organizations and their credentials.", no_args_is_help=True)
cli.add_typer(org_cli, name="org")
console = Console()


def _database() -> Database:
    database = Database(get_settings().database_url)
    database.migrate()
    return database


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    _database()
    console.print("[green]Database is up to date.[/green]")


@cli.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="Port to listen on."),
          demo: bool = typer.Option(False, help="Load the demo organization and print its credentials."),
          workers: int = typer.Option(1, help="Worker processes.")) -> None:
    """Migrate the configured database, then serve every dialect."""
    settings = get_settings()
    database = _database()
    base = f"http://{host}:{port}"
    if demo:
        _print_demo(load_demo(database), base)
    database.dispose()
    console.print(f"Serving on {base} (database: {_redacted(settings.database_url)})")
    if workers > 1:
        uvicorn.run("comptoir.app:create_app", factory=True, host=host, port=port, workers=workers)
    else:
        uvicorn.run(create_app(settings), host=host, port=port)


@org_cli.command("create")
def org_create(name: str,
               as_json: bool = typer.Option(False, "--json", help="Print one JSON object, for scripts."),
               currency: str = typer.Option("USD", help="Main currency (ISO 4217)."),
               country: str = typer.Option("US", help="Country (ISO 3166 alpha-2); picks the default taxes."),
               chart: str = typer.Option("default", help=f"Chart of accounts: {', '.join(CHARTS)}.")) -> None:
    """Create an organization with its reference data and an API user; print its credentials once."""
    try:
        created = create_organization(_database(), name, currency=currency, country=country, chart=chart)
    except DomainError as error:
        console.print(f"[red]Cannot create the organization:[/red] {error.describe()}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(created.as_json()) + "\n")
        return
    _print_credentials(created, get_settings().public_url)


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


def _print_credentials(created: NewOrganization, base: str) -> None:
    """One line per fact, never wrapped or cut, so keys can be copied from a narrow terminal."""
    base = base.rstrip("/")
    console.print(f"[bold]{created.name}[/bold] (id {created.id}, slug {created.slug})", soft_wrap=True)
    console.print("Credentials are shown once; only their hashes are stored.", soft_wrap=True)
    console.print(f"  OneUp v1   {base}{DIALECTS['oneup']}", soft_wrap=True)
    console.print(f"    email    {created.oneup.email}", soft_wrap=True)
    console.print(f"    api key  {created.oneup.api_key}", soft_wrap=True)
    console.print(f"  OAuth sign-in page {base}/oneup/oauth2/login", soft_wrap=True)
    console.print(f"    email    {created.login.email}", soft_wrap=True)
    console.print(f"    password {created.login.password}", soft_wrap=True)


def _print_demo(created: NewOrganization, base: str) -> None:
    _print_credentials(created, base)
    console.print(f'Try: curl -u "{created.oneup.email}:{created.oneup.api_key}" {base}/oneup/v1/customers',
                  soft_wrap=True)


def _redacted(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
