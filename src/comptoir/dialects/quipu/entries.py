"""Quipu's invoices, simplified invoices, additional incomes and tickets: one shape (a book entry
with items), four resources. Each is the book's sales or purchase documents (services/book_entries.py)
of one form; items are written inline in `relationships.items.data` (typed `book_entry_items` or
`items`) and read through `include=items`. Amending entries (credit notes) show negative amounts, as
Quipu does; the book keeps them as positive credit notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from comptoir.domain.documents import deductible_part, printed_number
from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.query import ListQuery
from comptoir.services.documents import attachments, book_entries
from comptoir.services.documents import sales
from comptoir.services.documents.sales import CREDITS
from comptoir.services.ledger import subaccounts

from .accounting import category_and_subcategory, render_category
from .attachments import render as render_attachment
from .contacts import render as render_contact
from .conventions import MISSING, Resource, Sent, View, iso, linkage, linkages, money, relationships
from .entry_filters import ENTRY_FILTERS, ENTRY_SORTS
from .pdfs import pdf_urls

ITEM_TYPE = "items"  # the 2026 spec's type; `book_entry_items` (the 2016 docs') is read too
ITEM_TYPES = ("items", "book_entry_items", None)
PAYMENT_METHODS = ("cash", "bank_transfer", "bank_card", "direct_debit", "paypal", "check", "factoring")
HUNDRED = Decimal(100)
# Attributes Quipu keeps that the core has no column for, kept on the document under extra["quipu"].
KEPT_TEXTS = ("payment_method", "tags", "filing_number", "credit_note_reason", "exempt_reason", "collection_type",
              "canary_island_special_zone", "account_number_and_swift_bic", "recipient_name", "issuing_name",
              "target_country")
POINTERS = {"customer_id": "/data/relationships/contact", "vendor_id": "/data/relationships/contact",
            "date": "/data/attributes/issue_date", "due_date": "/data/attributes/due_dates",
            "code": "/data/attributes/number", "user_code": "/data/attributes/number",
            "series_id": "/data/relationships/numeration", "amends_id": "/data/relationships/amended_invoice",
            "account_id": "/data/relationships/accounting_category", "order_lines": "/data/relationships/items",
            "lines": "/data/relationships/items", "items": "/data/relationships/items",
            "paid_at": "/data/attributes/paid_at", "kind": "/data/attributes/kind",
            "accounting_category": "/data/relationships/accounting_category",
            "accounting_subcategory": "/data/relationships/accounting_subcategory"}


@dataclass(frozen=True)
class Form:
    """One of Quipu's book-entry resources."""

    path: str  # and JSON:API type
    form: str | None  # Document.form
    amended: str  # the relationship naming the entry an amending entry amends
    amending: str  # the relationship listing the entries that amend this one
    sides: tuple[str, ...] = (book_entries.INCOME, book_entries.EXPENSES)
    pdf: bool = True


INVOICES = Form("invoices", None, "amended_invoice", "amending_invoices")
SIMPLIFIED_INVOICES = Form("simplified_invoices", "simplified_invoice", "amended_simplified_invoice",
                           "amending_simplified_invoices")
ADDITIONAL_INCOMES = Form("additional_incomes", "additional_income", "amended_additional_income",
                          "amending_additional_incomes", sides=(book_entries.INCOME,), pdf=False)
TICKETS = Form("tickets", "ticket", "amended_ticket", "amending_tickets")
FORMS = (INVOICES, SIMPLIFIED_INVOICES, ADDITIONAL_INCOMES, TICKETS)
BY_FORM = {form.form: form for form in FORMS}


# -- reading a body ----------------------------------------------------------------------------

def parser(form: Form):
    def parse(data: dict, creating: bool) -> dict[str, Any]:
        sent = Sent(data)
        _legacy_aliases(sent)
        amends = sent.to_one(form.amended, "amends_id")
        _read_kind(sent, form)
        _read_attributes(sent)
        _read_relationships(sent)
        if creating and amends in (MISSING, None):  # an amending entry takes all this from the one it amends
            sent.require("kind", "side")
            sent.require("issue_date", "date")
            if form is INVOICES:  # the others may go to a walk-in party
                sent.require("contact", "party_id", relationship=True)
        sent.raise_if_any()
        return _core(sent.fields)
    return parse


def _legacy_aliases(sent: Sent) -> None:
    """Pipedream's singular `due_date`; the 2016 docs' `counter_reason` for `credit_note_reason`."""
    if "due_date" in sent.attributes and "due_dates" not in sent.attributes:
        sent.attributes["due_dates"] = [sent.attributes["due_date"]]
    if "counter_reason" in sent.attributes:
        sent.attributes.setdefault("credit_note_reason", sent.attributes["counter_reason"])


def _read_kind(sent: Sent, form: Form) -> None:
    if len(form.sides) > 1:
        sent.choice("kind", form.sides, "side")
    elif sent.has("kind"):
        sent.fields["side"] = form.sides[0]  # any kind is forced to income (specs/quipu.md §8.6)


def _read_attributes(sent: Sent) -> None:
    sent.date("issue_date", "date")
    sent.date("paid_at")
    _due_dates(sent)
    for name in KEPT_TEXTS:
        sent.text(name, f"quipu.{name}")
    if sent.fields.get("quipu.payment_method") not in (None, *PAYMENT_METHODS):
        sent.problem(sent.at("payment_method"), f"is not one of {', '.join(PAYMENT_METHODS)}")
    sent.text("notes", "private_note", 10_000)
    sent.boolean("equivalence_surcharge", "quipu.equivalence_surcharge")
    sent.text("complete_number", "complete_number", 64)
    sent.text("number", "number", 64)


def _read_relationships(sent: Sent) -> None:
    sent.to_one("contact", "party_id")
    sent.to_one("numeration", "series_id")
    sent.to_one("accounting_category", "quipu.accounting_category_id")
    sent.to_one("accounting_subcategory", "quipu.accounting_subcategory_id")
    items = sent.to_many("items")
    if items is not MISSING:
        sent.fields["lines"] = [_item(sent, index, item) for index, item in enumerate(items)]


def _due_dates(sent: Sent) -> None:
    raw = sent.raw("due_dates")
    if raw is MISSING:
        return
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(value, str) for value in raw):
        sent.problem(sent.at("due_dates"), "is not a list of dates")
        return
    try:
        sent.fields["due_dates"] = [date.fromisoformat(value) for value in raw]
    except ValueError:
        sent.problem(sent.at("due_dates"), "is not a list of dates (YYYY-MM-DD)")


def _item(sent: Sent, index: int, item: dict) -> dict[str, Any]:
    pointer = f"{sent.pointer}/relationships/items/data/{index}"
    line = Sent(item, pointer)
    if item.get("type") not in ITEM_TYPES:
        line.problem(f"{pointer}/type", "is not items or book_entry_items")
    line.text("concept", "description", 1000)
    line.decimal("unitary_amount", "unit_price_wt")
    line.decimal("quantity")
    for wire, core in (("vat_percent", "tax_rate"), ("retention_percent", "retention_rate"),
                       ("discount_percent", "discount_rate"), ("deductible_vat_percent", "deductible_tax_rate"),
                       ("deductible_expense_percent", "quipu.deductible_expense_percent")):
        line.decimal(wire, core, Decimal(0), HUNDRED)
    line.text("description", "quipu.description", 10_000)
    line.text("kind", "quipu.kind", 32)
    line.boolean("equivalence_surcharge", "quipu.equivalence_surcharge")
    line.to_one("accounting_category", "quipu.accounting_category_id")
    line.to_one("accounting_subcategory", "quipu.accounting_subcategory_id")
    if "id" in item:
        found = item["id"]
        line.fields["id"] = int(found) if str(found).isdigit() and len(str(found)) <= 100 else found
    if "id" not in item:
        line.require("concept", "description")
    sent.problems.extend(line.problems)
    fields = _core(line.fields)
    if fields.get("tax_rate") is None and "tax_rate" in fields:
        fields["tax_rate"] = Decimal(0)
    if "quipu.deductible_expense_percent" in line.fields:  # a Decimal kept in JSON as its text
        fields["extra"]["quipu"]["deductible_expense_percent"] = str(line.fields["quipu.deductible_expense_percent"])
    return fields


def _core(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted `quipu.` names gathered under extra["quipu"]; the rest as they are."""
    core = {name: value for name, value in fields.items() if not name.startswith("quipu.")}
    kept = {name[6:]: value for name, value in fields.items() if name.startswith("quipu.")}
    if kept:
        core["extra"] = {"quipu": kept}
    return core


# -- the service, as the resource calls it ------------------------------------------------------

class Entries:
    """Wire fields that need the book (numbers, accounts, signs of credit notes) become core fields
    here; the rules are services/book_entries.py's."""

    def __init__(self, form: Form, files_root: Path) -> None:
        self.form = form
        self.files_root = files_root

    def get(self, book: Any, document_id: int) -> Any:
        return book_entries.get(book, document_id, form=self.form.form)

    def list(self, book: Any, query: ListQuery) -> tuple[Any, bool]:
        return book_entries.list_entries(book, query, form=self.form.form)

    def count(self, book: Any, query: ListQuery) -> int:
        return book_entries.count_entries(book, query, form=self.form.form)

    def create(self, book: Any, fields: dict) -> Any:
        side = fields.pop("side", None)
        if fields.get("amends_id") is not None:
            amended = book_entries.get(book, fields["amends_id"], form=self.form.form)
            side = book_entries.side_of(amended.kind)
            credit = True
        else:
            credit = False
        core = self._core(book, fields, side, credit)
        # Quipu numbers an income entry as it is created, and a numbered invoice is final (issued:
        # docs/decisions/0026); an expense is the supplier's invoice, booked.
        core["sent"] = side == book_entries.INCOME
        return book_entries.create(book, side, core, form=self.form.form)

    def update(self, book: Any, document_id: int, fields: dict) -> Any:
        document = self.get(book, document_id)
        side = fields.pop("side", None)
        if side is not None and side != book_entries.side_of(document.kind):
            raise fail(ErrorKind.READ_ONLY, "kind", "an entry cannot move from income to expenses or back")
        fields = self._core(book, fields, book_entries.side_of(document.kind), document.kind in CREDITS,
                            document.extra)
        return book_entries.update(book, document.id, fields, form=self.form.form)

    def delete(self, book: Any, document_id: int) -> None:
        book_entries.delete(book, self.files_root, document_id, form=self.form.form)

    def _core(self, book: Any, fields: dict, side: str, credit: bool, extra: dict | None = None) -> dict:
        fields = dict(fields)
        complete, number = fields.pop("complete_number", None), fields.pop("number", None)
        if side == book_entries.EXPENSES:
            if complete or number:
                fields["vendor_reference"] = complete or number
        elif complete or number:
            fields["code"] = complete or number
        if "due_dates" in fields:
            due = fields.pop("due_dates")
            fields["due_date"] = due[0] if due else None
            fields.setdefault("extra", {"quipu": {}})["quipu"]["due_dates"] = [day.isoformat() for day in due]
        kept = (fields.get("extra") or {}).get("quipu")
        if kept:
            fields["extra"] = {"quipu": {**(extra or {}).get("quipu", {}), **kept}}
            if "accounting_category_id" in kept or "accounting_subcategory_id" in kept:
                fields["account_id"] = _account(book, kept)
        if "lines" in fields:
            fields["lines"] = [self._line(book, line, credit, index) for index, line in enumerate(fields["lines"])]
        return fields

    def _line(self, book: Any, line: dict, credit: bool, index: int) -> dict:
        line = dict(line)
        if credit and line.get("unit_price_wt") is not None:  # amending entries carry negative amounts
            line["unit_price_wt"] = -line["unit_price_wt"]
        kept = (line.get("extra") or {}).get("quipu", {})
        if "accounting_category_id" in kept or "accounting_subcategory_id" in kept:
            line["account_id"] = _account(book, kept, f"items[{index}].")
        return line


def _account(book: Any, kept: Mapping[str, Any], where: str = "") -> int | None:
    """The account a (sub)category names (the subcategory's own when there is one), both checked."""
    return subaccounts.account_of(book, kept.get("accounting_category_id"), kept.get("accounting_subcategory_id"),
                                  where)


# -- rendering ---------------------------------------------------------------------------------

def _party_fields(prefix: str, name: str, tax_id: str, address: Mapping[str, str], phone: str) -> dict:
    country = address.get("country") or ""
    return {f"{prefix}_name": name, f"{prefix}_tax_id": tax_id, f"{prefix}_address": address.get("street_line1", ""),
            f"{prefix}_phone": phone, f"{prefix}_town": address.get("city", ""),
            f"{prefix}_zip_code": address.get("postal_code", ""),
            f"{prefix}_country_code": country.lower() if len(country) == 2 else None}


def counterparts(book: Any, document: Any) -> dict:
    """Issuing and recipient: the organization and the party, swapped on the expense side."""
    party = document.customer
    kept = (document.extra or {}).get("quipu", {})
    own = _party_fields("issuing", book.organization.name, "", {"country": book.organization.country}, "")
    other = _party_fields("recipient", kept.get("recipient_name") or party.full_name, party.taxpayer_id,
                          party.address or {}, party.phone_number)
    if book_entries.side_of(document.kind) == book_entries.EXPENSES:
        own, other = ({name.replace("issuing", "recipient"): value for name, value in own.items()},
                      {name.replace("recipient", "issuing"): value for name, value in other.items()})
    return {**own, **other}


def entry_attributes(view: View, document: Any) -> dict:
    """The attributes every book entry has (specs/quipu.md §8.3), and `detailed_amounts` when asked."""
    book = view.book
    kept = (document.extra or {}).get("quipu", {})
    sign = -1 if document.kind in CREDITS else 1
    due_dates = kept.get("due_dates") or ([iso(document.due_date)] if document.due_date_explicit else [])
    account = book.accounts.get(document.account_id) if document.account_id else None
    return {
        "number": printed_number(document.kind, document.user_code, document.vendor_reference),
        "issue_date": iso(document.date), "due_dates": due_dates, "paid_at": iso(document.paid_at),
        "payment_method": kept.get("payment_method"),
        "payment_status": book_entries.payment_status(book, document),
        "total_amount": money(sign * document.total), "tags": kept.get("tags") or "",
        **counterparts(book, document),
        "accounting_account_code": account.number if account else None,
        **({"detailed_amounts": detailed_amounts(document, sales.unit_of(book, document))}
           if view.detailed_amounts else {}),
    }


DETAILED = ("user_amount_without_taxes", "user_vat_amount", "user_equalization_tax_amount", "user_income_tax_amount",
            "user_total_amount", "expense_amount", "non_deductible_expense_amount", "income_amount",
            "input_vat_amount", "non_deductible_input_vat_amount", "non_deductible_assets_vat_amount",
            "non_computable_input_vat_amount", "output_vat_amount", "input_equalization_tax_amount",
            "output_equalization_tax_amount", "income_tax_withheld_amount", "income_tax_deducted_amount",
            "assets_amount", "non_deductible_assets_amount", "disbursements_amount")


def detailed_amounts(document: Any, exponent: Decimal) -> dict[str, str]:
    """The tax breakdown of an entry from its own amounts (specs/quipu.md §8.3). What the book does not
    track (equalization tax, assets, disbursements, non-deductible expenses) is zero."""
    sign = -1 if document.kind in CREDITS else 1
    base, vat = sign * document.subtotal, sign * document.tax_amount
    retention, total = sign * document.retention_amount, sign * document.total
    amounts = dict.fromkeys(DETAILED, Decimal(0))
    amounts.update(user_amount_without_taxes=base, user_vat_amount=vat, user_income_tax_amount=retention,
                   user_total_amount=total)
    if book_entries.side_of(document.kind) == book_entries.INCOME:
        amounts.update(income_amount=base, output_vat_amount=vat, income_tax_withheld_amount=retention)
    else:
        deductible = sign * sum((_deductible(line, exponent) for line in document.lines), Decimal(0)) \
            if document.lines else vat
        amounts.update(expense_amount=base, input_vat_amount=deductible, non_deductible_input_vat_amount=vat - deductible,
                       income_tax_deducted_amount=retention)
    return {name: money(amount) for name, amount in amounts.items()}


def render_entry(form: Form):
    def render(document: Any, view: View) -> dict:
        book = view.book
        kept = (document.extra or {}).get("quipu", {})
        sign = -1 if document.kind in CREDITS else 1
        income = book_entries.side_of(document.kind) == book_entries.INCOME
        attributes = {
            **entry_attributes(view, document),
            "kind": book_entries.side_of(document.kind),
            "total_amount_without_taxes": money(sign * document.subtotal),
            "vat_amount": money(sign * document.tax_amount),
            "retention_amount": money(sign * document.retention_amount),
            "notes": document.private_note or None, "stage": "final" if document.sent or not income else "draft",
            "concepts": sorted({line.description for line in document.lines if line.description}),
            "filing_number": kept.get("filing_number"), "last_sent_at": None,
        }
        if form.pdf:
            attributes.update(pdf_urls(view, form.path, document, income))
        category, subcategory = category_and_subcategory(book, kept.get("accounting_category_id"),
                                                         kept.get("accounting_subcategory_id"))
        return {"id": str(document.id), "type": form.path, "attributes": attributes, "relationships": relationships(
            contact=linkage("contacts", document.customer_id),
            numeration=linkage("numbering_series", document.series_id),
            items=linkages(ITEM_TYPE, [line.id for line in document.lines]),
            accounting_category=linkage("accounting_categories", category),
            accounting_subcategory=linkage("accounting_subcategories", subcategory),
            **{form.amended: linkage(form.path, document.amends_id),
               form.amending: linkages(form.path, book_entries.amending_ids(book, document))})}
    return render


def render_item(line: Any, document: Any, exponent: Decimal) -> dict:
    """A document's line; `exponent`: the minor unit of the document's currency, its amounts' unit."""
    kept = (line.extra or {}).get("quipu", {})
    sign = -1 if document.kind in CREDITS else 1
    base = line.total
    attributes = {
        "concept": line.description, "unitary_amount": money(sign * line.unit_price_wt), "quantity": line.quantity,
        "kind": kept.get("kind") or "current", "vat_percent": line.tax_rate if line.tax_rate is not None else 0,
        "retention_percent": line.retention_rate, "discount_percent": line.discount_rate,
        "deductible_vat_percent": line.deductible_tax_rate if line.deductible_tax_rate is not None else HUNDRED,
        "deductible_expense_percent": Decimal(kept.get("deductible_expense_percent") or HUNDRED),
        "vat_amount": money(sign * line.tax_amount), "retention_amount": money(sign * line.retention_amount),
        "discount_amount": money(sign * (line.quantity * line.unit_price_wt - base).quantize(exponent)),
        "deductible_vat_amount": money(sign * _deductible(line, exponent)),
        "total_amount": money(sign * (base + line.tax_amount - line.retention_amount)),
        "description": kept.get("description"),
    }
    return {"id": str(line.id), "type": ITEM_TYPE, "attributes": attributes, "relationships": relationships(
        accounting_category=linkage("accounting_categories", kept.get("accounting_category_id")),
        accounting_subcategory=linkage("accounting_subcategories", kept.get("accounting_subcategory_id")))}


def _deductible(line: Any, exponent: Decimal) -> Decimal:
    return deductible_part(line.tax_amount, line.deductible_tax_rate, exponent)


def related(document: Any, view: View, includes: frozenset[str]) -> list[dict]:
    """The included resources asked for: items (and, nested, their categories), contact, categories."""
    found: list[dict] = []
    names = {path.split(".")[0] for path in includes}
    nested = {path.split(".", 1)[1] for path in includes if "." in path}
    if "items" in names:
        exponent = sales.unit_of(view.book, document)
        for line in document.lines:
            found.append(render_item(line, document, exponent))
            kept = (line.extra or {}).get("quipu", {})
            found += _categories(view, kept, nested)
    if "contact" in names and document.customer is not None:
        found.append(render_contact(document.customer, view))
    if "attachments" in names:
        found += [render_attachment(attachment, view) for attachment in attachments.of_document(view.book, document.id)]
    kept = (document.extra or {}).get("quipu", {})
    found += _categories(view, kept, names)
    return found


def _categories(view: View, kept: Mapping[str, Any], names: set[str]) -> list[dict]:
    found = []
    for name in ("accounting_category", "accounting_subcategory"):
        row_id = kept.get(f"{name}_id")
        account = view.book.accounts.get(row_id) if name in names and row_id else None
        if account is not None:
            found.append(render_category(account, view))
    return found


def resources(files_root: Path) -> list[Resource]:
    """The four book-entry resources; deleting an entry removes its attachments' files under the root."""
    return [Resource(path=form.path, service=Entries(form, files_root), render=render_entry(form),
                     parse=parser(form), related=related, filters=ENTRY_FILTERS, sorts=ENTRY_SORTS,
                     pointers=POINTERS) for form in FORMS]

