"""Documents as PDF: an HTML template (Jinja2) rendered by WeasyPrint."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from comptoir.domain.money import round_minor
from comptoir.services.masterdata import reference
from comptoir.domain.parties import full_address
from comptoir.services.documents.sales import INVOICES
from comptoir.services.settlement.standing import standing
from comptoir.storage.book import Book
from comptoir.storage.tables import Item

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parents[2] / "templates"),
                        autoescape=select_autoescape(["html"]))


@pass_context
def _money(context: Context, value: Decimal) -> str:
    """An amount as the page prints it: with the decimals of the document's currency (the page's
    `exponent`, its minor unit), 1140.20 USD, 1000 JPY, 12.345 BHD."""
    exponent = context["exponent"]
    return f"{round_minor(Decimal(value), exponent):.{-exponent.as_tuple().exponent}f}"


TEMPLATES.filters["money"] = _money


@dataclass(frozen=True)
class Printable:
    """A document ready to print: its file name and its page as HTML. Drawing the PDF (`render`)
    takes tens of milliseconds of CPU and reads nothing of the book: callers on the event loop do it
    in a worker thread, after the unit of work."""

    filename: str
    html: str

    def render(self) -> bytes:
        from weasyprint import HTML  # imported on first use: it loads Pango and fonts

        return HTML(string=self.html).write_pdf()


def invoice_pdf(book: Book, invoice_id: int) -> tuple[str, bytes]:
    """The file name and the PDF bytes of an invoice (drawn here: for callers that may block)."""
    printable = invoice_printable(book, invoice_id)
    return printable.filename, printable.render()


def invoice_printable(book: Book, invoice_id: int) -> Printable:
    """An invoice's page, to print."""
    invoice = INVOICES.get(book, invoice_id)
    state = standing(book, invoice)
    contact = invoice.billing_contact
    items = book.items.get_many(sorted({line.item_id for line in invoice.lines if line.item_id is not None}))
    html = TEMPLATES.get_template("invoice.html").render(
        invoice=invoice,
        organization=book.organization,
        customer=invoice.customer,
        billing_address=full_address(contact.address if contact else invoice.customer.address),
        due_date=invoice.due_date,
        lines=[{**_wording(items.get(line.item_id), line.description), "quantity": _plain(line.quantity),
                "unit_price": line.unit_price_wt, "discount": _plain(line.discount_rate),
                "total": line.total} for line in invoice.lines],
        paid=state.paid,
        unpaid=state.unpaid,
        exponent=reference.smallest_unit(book, invoice.currency_iso_code),
    )
    return Printable(f"{invoice.user_code}.pdf", html)


def _wording(item: Item | None, description: str) -> dict[str, str]:
    """What a line says: the item's name, and under it the line's description (not twice when they are
    the same). A line without an item says its description; a line without a description its item's name."""
    name = item.name if item is not None else ""
    if not name:
        return {"name": description, "details": ""}
    return {"name": name, "details": "" if description.strip() == name.strip() else description}


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
