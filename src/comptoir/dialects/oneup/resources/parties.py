"""Customers and vendors, with their addresses and contacts."""

from __future__ import annotations

from typing import Any

from comptoir.domain.parties import NOT_APPLICABLE, full_address, short_locality
from comptoir.services.masterdata.parties import CUSTOMERS, VENDORS

from ..conventions import Resource, core_fields
from ..fields import Choice, Flag, Integer, Ref, Text, WireModel
from .common import (
    TIMESTAMPS,
    employee_ref,
    id_filter,
    integer_filter,
    number,
    stamp_filters,
    stamps,
    text_filter,
)

# -- address -----------------------------------------------------------------------------------

ADDRESS_READ_ONLY = ("short_locality", "full_address")


class AddressIn(WireModel):
    street_line1: Text(255) | None = None
    street_line2: Text(255) | None = None
    street_line3: Text(255) | None = None
    postal_code: Text(128) | None = None
    city: Text(128) | None = None
    country: Text(128) | None = None
    locality: Text(255) | None = None
    short_locality: str | None = None
    full_address: str | None = None


def address_fields(address: AddressIn | None) -> dict:
    if address is None:
        return {}
    return core_fields(address, skip=frozenset(ADDRESS_READ_ONLY))


def render_address(address: dict | None) -> dict:
    address = address or {}
    rendered = {name: address.get(name, "") for name in
                ("street_line1", "street_line2", "street_line3", "postal_code", "city", "country")}
    rendered["locality"] = address.get("locality") or NOT_APPLICABLE
    rendered["short_locality"] = short_locality(address.get("locality", ""))
    rendered["full_address"] = full_address(address)
    return rendered


def _address_read_only(prefix: str) -> set[str]:
    return {f"{prefix}.{name}" for name in ADDRESS_READ_ONLY}


# -- contacts ----------------------------------------------------------------------------------

class ContactIn(WireModel):
    id: Integer | None = None
    first_name: Text(255) | None = None
    last_name: Text(255) | None = None
    full_name: str | None = None
    cell_phone: Text(128) | None = None
    cell_number: Text(128) | None = None  # the name the vendor example uses
    work_phone: Text(128) | None = None
    home_phone: Text(128) | None = None
    email: Text(255) | None = None
    address: AddressIn | None = None
    note: str | None = None


def contact_fields(contact: ContactIn) -> dict:
    fields = core_fields(contact, rename={"cell_number": "cell_phone"}, nested={"address": address_fields},
                         skip=frozenset({"full_name"}))
    if contact.id is not None:
        fields["id"] = contact.id
    return fields


def render_contact(contact: Any) -> dict:
    return {
        "id": contact.id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "cell_phone": contact.cell_phone,
        "cell_number": contact.cell_phone,
        "work_phone": contact.work_phone,
        "home_phone": contact.home_phone,
        "email": contact.email,
        "address": render_address(contact.address),
        "note": contact.note,
    }


CONTACT_READ_ONLY = {"contacts[].full_name"} | _address_read_only("contacts[].address")


# -- customers ---------------------------------------------------------------------------------

class PartyIn(WireModel):
    """Fields customers and vendors share."""

    id: Integer | None = None
    type: Choice(1, 2) | None = None
    full_name: str | None = None
    address: AddressIn | None = None
    phone_number: Text(64) | None = None
    email: Text(255) | None = None
    website: Text(255) | None = None
    contacts: list[ContactIn] | None = None
    currency_iso_code: Text(4) | None = None
    user_code: Text(64) | None = None
    company_name: Text(255) | None = None
    first_name: Text(255) | None = None
    last_name: Text(255) | None = None
    middle_name: Text(255) | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CustomerIn(PartyIn):
    status: Choice(1, 2) | None = None
    shipping_address: AddressIn | None = None
    payment_terms: Ref | None = None
    sales_tax: Ref | None = None
    opt_in_email: Flag | None = None
    notes: str | None = None
    assigned_to: Ref | None = None
    employee_count: Integer | None = None
    price_family: Ref | None = None
    taxpayer_id: Text(255) | None = None
    industry: Text(255) | None = None
    incorporation_status: Text(255) | None = None
    rating: Text(255) | None = None


CUSTOMER_READ_ONLY = frozenset({"id", "full_name", *TIMESTAMPS} | _address_read_only("address")
                               | _address_read_only("shipping_address") | CONTACT_READ_ONLY)


def _contacts(contacts: list[ContactIn] | None) -> list[dict]:
    return [contact_fields(contact) for contact in contacts or []]


def _names(party: Any) -> dict:
    if party.type == 1:
        return {"company_name": party.company_name}
    return {"first_name": party.first_name, "last_name": party.last_name, "middle_name": party.middle_name}


def _render_party(party: Any, user_code: str | None) -> dict:
    return {
        "id": party.id,
        "type": party.type,
        "full_name": party.full_name,
        "address": render_address(party.address),
        "phone_number": party.phone_number,
        "email": party.email,
        "website": party.website,
        "contacts": [render_contact(contact) for contact in party.contacts],
        "currency_iso_code": party.currency_iso_code,
        "user_code": user_code,
        **_names(party),
        **stamps(party),
    }


def render_customer(party: Any, _book: Any = None) -> dict:
    terms, tax, family = party.payment_terms, party.sales_tax, party.price_family
    return {
        **_render_party(party, party.customer_code),
        "status": party.status,
        "shipping_address": render_address(party.shipping_address),
        "payment_terms": {"id": terms.id, "name": terms.name} if terms else None,
        "sales_tax": {"id": tax.id, "name": tax.name, "rate": number(tax.rate)} if tax else None,
        "opt_in_email": party.opt_in_email,
        "notes": party.notes,
        "assigned_to": employee_ref(party.assigned_to),
        "employee_count": party.employee_count,
        "price_family": {"id": family.id, "name": family.name} if family else None,
        "taxpayer_id": party.taxpayer_id,
        "industry": party.industry,
        "incorporation_status": party.incorporation_status,
        "rating": party.rating,
    }


PARTY_SORTS = {"id": "id", "full_name": "full_name", "type": "type", "email": "email",
               "created_at": "created_at", "updated_at": "updated_at"}


def _party_filters(code_attribute: str) -> dict:
    return {
        **id_filter(), **stamp_filters(),
        "type": integer_filter("type"),
        "full_name": text_filter("full_name"),
        "company_name": text_filter("company_name"),
        "last_name": text_filter("last_name"),
        "email": text_filter("email"),
        "user_code": text_filter(code_attribute),
        "currency_iso_code": text_filter("currency_iso_code"),
    }


CUSTOMERS_RESOURCE = Resource(
    path="customers", service=CUSTOMERS, render=render_customer, schema=CustomerIn, read_only=CUSTOMER_READ_ONLY,
    rename={"user_code": "code"},
    refs={"payment_terms": "payment_terms_id", "sales_tax": "sales_tax_id", "assigned_to": "assigned_to_id",
          "price_family": "price_family_id"},
    nested={"address": address_fields, "shipping_address": address_fields, "contacts": _contacts},
    error_names={"customer_code": "user_code"},
    filters={**_party_filters("customer_code"), "status": integer_filter("status"),
             "assigned_to_id": integer_filter("assigned_to_id")},
    sorts={**PARTY_SORTS, "user_code": "customer_code", "status": "status"},
)


# -- vendors -----------------------------------------------------------------------------------

class VendorIn(PartyIn):
    payment_terms_id: Integer | None = None
    currency: Text(4) | None = None  # the name the vendor example uses; declared last, so it wins
    note: str | None = None
    taxpayer_id_number: Text(255) | None = None


VENDOR_READ_ONLY = frozenset({"id", "full_name", *TIMESTAMPS} | _address_read_only("address") | CONTACT_READ_ONLY)


def render_vendor(party: Any, _book: Any = None) -> dict:
    return {
        **_render_party(party, party.vendor_code),
        "currency": party.currency_iso_code,
        "payment_terms_id": party.payment_terms_id,
        "taxpayer_id_number": party.taxpayer_id,
        "note": party.notes,
    }


VENDORS_RESOURCE = Resource(
    path="vendors", service=VENDORS, render=render_vendor, schema=VendorIn, read_only=VENDOR_READ_ONLY,
    rename={"user_code": "code", "currency": "currency_iso_code", "note": "notes",
            "taxpayer_id_number": "taxpayer_id"},
    nested={"address": address_fields, "contacts": _contacts},
    error_names={"vendor_code": "user_code", "currency_iso_code": "currency_iso_code"},
    filters=_party_filters("vendor_code"),
    sorts={**PARTY_SORTS, "user_code": "vendor_code"},
)
