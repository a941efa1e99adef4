"""Quipu contacts: the book's parties, whatever their roles (OneUp's customers and vendors and
Upflow's customers are the same rows). `is_client` and `is_supplier` are the customer and vendor
roles; a contact takes a role when it is first invoiced on that side (services/book_entries.py)."""

from __future__ import annotations

import re
from typing import Any

from comptoir.domain.parties import COMPANY
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.documents import book_entries
from comptoir.services.ledger import subaccounts
from comptoir.services.masterdata import parties

from .conventions import MISSING, Resource, Sent, View, money

TYPE = "contacts"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
KINDS = {"client": "is_customer", "supplier": "is_vendor", "employee": "is_employee"}
# Attributes Quipu keeps that the core has no column for: kept per party under extra["quipu"].
KEPT = ("bank_account_number", "bank_account_swift_bic", "document_type", "is_supplier_of_direct_goods",
        "description", "pdf_language", "incomes_due_date", "incomes_payment_method", "expenses_payment_method",
        "expenses_due_date", "equivalence_subcharge", "contact_analytic_value_ids", "employee_number",
        "a3_nom_id")
KEPT_RELATIONSHIPS = ("expense_category", "expense_subcategory", "income_category", "income_subcategory")
ADDRESS = {"address": "street_line1", "town": "city", "zip_code": "postal_code", "country_code": "country"}
POINTERS = {"company_name": "/data/attributes/name", "last_name": "/data/attributes/name",
            "taxpayer_id": "/data/attributes/tax_id", "phone_number": "/data/attributes/phone",
            "email": "/data/attributes/email", "customer_code": "/data/attributes/client_number",
            "vendor_code": "/data/attributes/supplier_number", "address": "/data/attributes/address",
            **{f"{kind}_accounting_{level}": f"/data/relationships/{kind}_{level}"
               for kind in ("expense", "income") for level in ("category", "subcategory")}}


def parse(data: dict, creating: bool) -> dict[str, Any]:
    sent = Sent(data)
    sent.text("name", "company_name")
    sent.text("tax_id", "taxpayer_id", 64)
    sent.text("phone", "phone_number", 64)
    if sent.text("email") not in (MISSING, None, "") and not EMAIL.match(sent.fields["email"]):
        sent.problem(sent.at("email"), "is not an email address")
    sent.text("client_number", "customer_code", 64)
    sent.text("supplier_number", "vendor_code", 64)
    address = {core: sent.text(wire, f"address.{core}") for wire, core in ADDRESS.items()}
    for name in ("is_supplier_of_direct_goods", "equivalence_subcharge"):
        sent.boolean(name, f"quipu.{name}")
    for name in (n for n in KEPT if n not in ("is_supplier_of_direct_goods", "equivalence_subcharge")):
        sent.text(name, f"quipu.{name}")
    for name in KEPT_RELATIONSHIPS:
        sent.to_one(name, f"quipu.{name}_id")
    iban = sent.fields.get("quipu.bank_account_number")
    if iban and not valid_iban(iban):
        sent.problem(sent.at("bank_account_number"),
                     "this Iban is not valid, please contact your bank and provide a new one")
    if creating:
        sent.require("name", "company_name")
    sent.raise_if_any()
    fields = sent.core_fields()
    sent_address = {core: value or "" for core, value in address.items() if value is not MISSING}
    if "country" in sent_address:
        sent_address["country"] = sent_address["country"].upper()
    if sent_address:
        fields["address"] = sent_address
    return fields


def valid_iban(text: str) -> bool:
    """ISO 13616: two letters, two check digits, up to 30 letters or digits; mod 97 of the
    rearranged number is 1."""
    iban = text.replace(" ", "").upper()
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


class Contacts:
    """The party services, as the contacts resource calls them."""

    def get(self, book: Any, party_id: int) -> Any:
        return parties.get_any_party(book, party_id)

    def list(self, book: Any, query: ListQuery) -> tuple[Any, bool]:
        return parties.list_all_parties(book, query)

    def count(self, book: Any, query: ListQuery) -> int:
        return book.parties.count_matching(query.conditions)

    def create(self, book: Any, fields: dict) -> Any:
        _check_categories(book, fields)
        roles = [role for role, code in (("customer", "customer_code"), ("vendor", "vendor_code")) if fields.get(code)]
        if (fields.get("extra") or {}).get("quipu", {}).get("employee_number"):
            roles.append(parties.EMPLOYEE)
        return parties.create_party_in_roles(book, roles, {**fields, "type": COMPANY})

    def update(self, book: Any, party_id: int, fields: dict) -> Any:
        party = parties.get_any_party(book, party_id)
        _check_categories(book, fields)
        if party.type != COMPANY and "company_name" in fields:  # an individual keeps its one name field
            fields = {**fields, "first_name": "", "middle_name": "", "last_name": fields.pop("company_name")}
        if fields.get("extra"):
            fields["extra"] = {"quipu": {**(party.extra or {}).get("quipu", {}), **fields["extra"]["quipu"]}}
        return parties.update_any_party(book, party_id, fields)

    def delete(self, book: Any, party_id: int) -> None:
        parties.delete_any_party(book, party_id)


def _check_categories(book: Any, fields: dict) -> None:
    """The default categories a contact names must be the book's own."""
    kept = (fields.get("extra") or {}).get("quipu", {})
    for kind in ("expense", "income"):
        subaccounts.account_of(book, kept.get(f"{kind}_category_id"), kept.get(f"{kind}_subcategory_id"), f"{kind}_")


def render(party: Any, view: View) -> dict:
    book = view.book
    kept = (party.extra or {}).get("quipu", {})
    address = party.address or {}
    totals = book_entries.party_totals(book, party.id, party.currency_iso_code)  # in its currency
    country = address.get("country") or ""
    attributes = {
        "name": party.full_name, "tax_id": party.taxpayer_id, "phone": party.phone_number,
        "address": address.get("street_line1", ""), "town": address.get("city", ""),
        "zip_code": address.get("postal_code", ""), "country_code": country.lower() if len(country) == 2 else "",
        "total_paid_incomes": money(totals["paid_income"]), "total_unpaid_incomes": money(totals["unpaid_income"]),
        "total_incomes": money(totals["total_income"]), "total_paid_expenses": money(totals["paid_expenses"]),
        "total_unpaid_expenses": money(totals["unpaid_expenses"]), "total_expenses": money(totals["total_expenses"]),
        "client_number": party.customer_code, "supplier_number": party.vendor_code,
        "document_type": kept.get("document_type"), "is_client": party.is_customer, "is_supplier": party.is_vendor,
        "is_employee": party.is_employee,
        "is_supplier_of_direct_goods": bool(kept.get("is_supplier_of_direct_goods")),
        "bank_account_number": kept.get("bank_account_number"),
        "bank_account_swift_bic": kept.get("bank_account_swift_bic"),
        "deletable": parties.is_deletable(book, party.id), "account_code": None,
    }
    if EMAIL.match(party.email or ""):  # the spec's email is an email: an empty one is left out
        attributes["email"] = party.email
    return {"id": str(party.id), "type": TYPE, "attributes": attributes}


def _kind(value: str) -> tuple[Condition, ...]:
    flags = [KINDS[kind.strip()] for kind in value.split(",") if kind.strip() in KINDS]
    if not flags:
        raise ValueError(value)
    return tuple(Condition(flag, Op.EQ, True) for flag in flags[:1])


RESOURCE = Resource(
    path=TYPE, service=Contacts(), render=render, parse=parse, pointers=POINTERS,
    filters={"q": lambda value: (Condition("full_name", Op.CONTAINS, str(value)),),
             "kind": _kind,
             "tax_id": lambda value: (Condition("taxpayer_id", Op.EQ, str(value)),),
             "email": lambda value: (Condition("email", Op.EQ, str(value)),)},
    sorts={"name": "full_name"},
)
