"""Customers and vendors: one party table, two roles. Contacts follow the list-replacement rule."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

from comptoir.domain import parties as rules
from comptoir.domain.errors import ErrorKind, NotFound
from comptoir.domain.lists import replace_list
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.kernel.codes import next_code
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.references import ensure_unreferenced, referrers_of
from comptoir.services.kernel.validation import Checks, apply
from comptoir.services.masterdata import custom_fields, reference
from comptoir.storage import masterdata
from comptoir.storage.book import Book
from comptoir.storage.repository import LEAN
from comptoir.storage.tables import Contact, Party

ROLES = ("customer", "vendor")
EMPLOYEE = "employee"  # a third role, without a code: the people paysheets pay
SCALAR_FIELDS = (
    "status", "phone_number", "email", "website", "payment_terms_id", "currency_iso_code", "sales_tax_id",
    "opt_in_email", "notes", "assigned_to_id", "employee_count", "price_family_id", "taxpayer_id", "industry",
    "incorporation_status", "rating", "external_id", "parent_id",
)
COMPANY_FIELDS = ("company_name",)
PERSON_FIELDS = ("first_name", "middle_name", "last_name")
CONTACT_FIELDS = ("first_name", "last_name", "cell_phone", "work_phone", "home_phone", "email", "note", "position",
                  "external_id")
_ROLE_FLAG = {"customer": "is_customer", "vendor": "is_vendor"}
_ROLE_CODE = {"customer": "customer_code", "vendor": "vendor_code"}
_ROLE_LABEL = {"customer": "customer", "vendor": "vendor"}


def code_attribute(role: str) -> str:
    """The attribute that holds the role's user code (CUS-002 for customers, SUP-002 for vendors)."""
    return _ROLE_CODE[role]


def list_parties(book: Book, role: str, query: ListQuery) -> tuple[Sequence[Party], bool]:
    role_condition = Condition(_ROLE_FLAG[role], Op.EQ, True)
    return book.parties.list(replace(query, conditions=(role_condition, *query.conditions)))


def count_parties(book: Book, role: str, conditions: Sequence[Condition] = ()) -> int:
    """How many parties play the role (and meet the conditions, for a filtered list's total)."""
    return book.parties.count_matching((Condition(_ROLE_FLAG[role], Op.EQ, True), *conditions))


def get_party(book: Book, role: str, party_id: int) -> Party:
    party = book.parties.get(party_id)
    if party is None or not getattr(party, _ROLE_FLAG[role]):
        raise NotFound(_ROLE_LABEL[role], party_id)
    return party


def create_party(book: Book, role: str, fields: Mapping[str, Any]) -> Party:
    party = Party(
        type=fields.get("type"),
        currency_iso_code=book.organization.currency_iso_code,
        payment_terms_id=reference.default_payment_terms_id(book),
        assigned_to_id=book.actor_employee_id if role == "customer" else None,
        address={}, shipping_address={}, extra={},
    )
    setattr(party, _ROLE_FLAG[role], True)
    _write(book, role, party, fields, creating=True)
    return book.parties.add(party)


def update_party(book: Book, role: str, party_id: int, fields: Mapping[str, Any]) -> Party:
    party = get_party(book, role, party_id)
    _write(book, role, party, fields, creating=False)
    book.flush()
    return party


def delete_party(book: Book, role: str, party_id: int) -> None:
    """Delete the party, or only drop this role when it also plays the other one."""
    party = get_party(book, role, party_id)
    if role == "customer":  # its custom field values go with the role (dropped or deleted)
        custom_fields.clear_values(book, "CUSTOMER", [party.id])
    other_role = "vendor" if role == "customer" else "customer"
    if getattr(party, _ROLE_FLAG[other_role]):
        setattr(party, _ROLE_FLAG[role], False)
        setattr(party, _ROLE_CODE[role], None)
        book.flush()
        return
    ensure_unreferenced(book, Party, party.id, _ROLE_LABEL[role])
    for contact in party.contacts:
        ensure_unreferenced(book, Contact, contact.id, _ROLE_LABEL[role] + "'s contact")
    book.parties.remove(party)


def _write(book: Book, role: str | None, party: Party, fields: Mapping[str, Any], *, creating: bool) -> None:
    with book.session.no_autoflush:  # nothing reaches the database before every check has passed
        _check_and_apply(book, role, party, fields, creating=creating)


def _check_and_apply(book: Book, role: str | None, party: Party, fields: Mapping[str, Any], *, creating: bool) -> None:
    checks = Checks()
    checks.reference(fields, "payment_terms_id", book.payment_terms)
    checks.reference(fields, "sales_tax_id", book.taxes)
    checks.reference(fields, "assigned_to_id", book.employees)
    checks.reference(fields, "price_family_id", book.price_families)
    checks.reference(fields, "parent_id", book.parties, "parent")
    if fields.get("parent_id") is not None and _is_ancestor(book, party.id, fields["parent_id"]):
        checks.add(ErrorKind.INVALID, "parent", "a customer cannot be its own parent or ancestor")
    currency = fields.get("currency_iso_code")
    if currency is not None and not reference.is_currency_of(book, currency):
        checks.add(ErrorKind.INVALID, "currency_iso_code", f"{currency} is not one of the organization's currencies")
    if "type" in fields:
        party.type = fields["type"]
    if party.type not in (rules.COMPANY, rules.INDIVIDUAL):
        checks.add(ErrorKind.MISSING, "type", "is mandatory: 1 (company) or 2 (individual)")

    apply(party, fields, SCALAR_FIELDS, checks)
    if fields.get("extra"):  # data a dialect keeps for itself, by dialect name
        party.extra = {**(party.extra or {}), **fields["extra"]}
    _write_names(party, fields, checks)
    for name in ("address", "shipping_address"):  # always in normal form, so a round trip changes nothing
        if name in fields or creating:
            current = {} if creating else getattr(party, name)
            setattr(party, name, rules.normalize_address({**(current or {}), **(fields.get(name) or {})}))
    if "contacts" in fields:
        _replace_contacts(book, party, fields["contacts"] or [], checks)
    checks.raise_if_any()
    if role is None:  # a party in no role yet (a Quipu contact): codes come with its roles
        return

    code_name = _ROLE_CODE[role]
    if fields.get("code"):
        setattr(party, code_name, fields["code"])
    elif creating or not getattr(party, code_name):
        setattr(party, code_name, next_code(book, role, book.parties, code_name))


def _is_ancestor(book: Book, party_id: int | None, parent_id: int) -> bool:
    """Whether `party_id` is `parent_id` or one of its ancestors (the chain is bounded)."""
    seen: set[int] = set()
    current = parent_id
    while current is not None and current not in seen and len(seen) < 1000:
        if current == party_id:
            return True
        seen.add(current)
        parent = book.parties.get(current)
        current = parent.parent_id if parent else None
    return False


def _write_names(party: Party, fields: Mapping[str, Any], checks: Checks) -> None:
    """Companies carry a company name, individuals a first, middle and last name; a name of the
    other kind sent with a value is refused rather than silently dropped."""
    if party.type not in (rules.COMPANY, rules.INDIVIDUAL):
        return  # reported as a missing type; which names apply is unknown
    applies, other = (COMPANY_FIELDS, PERSON_FIELDS) if party.type == rules.COMPANY else (PERSON_FIELDS, COMPANY_FIELDS)
    for name in other:
        if fields.get(name):
            checks.add(ErrorKind.MUST_BE_EMPTY, name, "does not apply to this type of party")
        setattr(party, name, "")
    apply(party, fields, applies, checks)
    checks.required(party.company_name if party.type == rules.COMPANY else party.last_name,
                    "company_name" if party.type == rules.COMPANY else "last_name")
    party.full_name = rules.full_name(type=party.type, company_name=party.company_name,
                                      first_name=party.first_name, middle_name=party.middle_name,
                                      last_name=party.last_name)


def _replace_contacts(book: Book, party: Party, incoming: list[Mapping[str, Any]], checks: Checks) -> None:
    positions = contact_positions(book)
    current = {contact.id: contact for contact in party.contacts}
    external_ids = [sent.get("external_id") for sent in incoming if sent.get("external_id")]
    for repeated in sorted({e for e in external_ids if external_ids.count(e) > 1}):
        checks.add(ErrorKind.INVALID, "contacts", f"the external id {repeated!r} appears more than once")
    changes = replace_list("contacts", list(current), incoming)
    checks.extend(changes.problems)
    for contact_id in changes.deleted_ids:  # every check before the first removal: no query may flush half a change
        for label in referrers_of(book, Contact, contact_id):
            checks.add(ErrorKind.REFERENCED, "contacts", f"contact {contact_id} is referenced by: {label}")
    if checks.problems:
        return
    for contact_id in changes.deleted_ids:
        party.contacts.remove(current[contact_id])
    for contact_id, sent in changes.updated:
        write_contact(current[contact_id], sent, checks, f"contacts[{contact_id}]", positions)
    for index, sent in enumerate(changes.created):
        contact = Contact(org_id=book.org_id, address={}, extra={})
        write_contact(contact, sent, checks, f"contacts[new {index}]", positions)
        party.contacts.append(contact)


def contact_positions(book: Book) -> set[str]:
    return {position.name for position in book.contact_positions.all()}


def write_contact(contact: Contact, fields: Mapping[str, Any], checks: Checks, where: str,
                  positions: set[str]) -> None:
    """A contact's position, when it has one, must be one the organization defined (case counts)."""
    position = fields.get("position")
    if position is not None and position not in positions:
        checks.add(ErrorKind.INVALID, f"{where}.position",
                   f"{position!r} is not a position of this organization ({', '.join(sorted(positions))})")
    apply(contact, fields, CONTACT_FIELDS, checks)
    if fields.get("extra"):
        contact.extra = {**(contact.extra or {}), **fields["extra"]}
    contact.address = rules.normalize_address({**(contact.address or {}), **(fields.get("address") or {})})
    # OneUp names people by their last name, Upflow by their email: a contact needs one or the other.
    checks.required(contact.last_name or contact.email, f"{where}.last_name")
    contact.full_name = rules.person_name(contact.first_name or "", contact.last_name or "")


@dataclass(frozen=True)
class PartyRole:
    """The use cases of one role, in the shape every dialect resource expects."""

    role: str

    def get(self, book: Book, party_id: int) -> Party:
        return get_party(book, self.role, party_id)

    def list(self, book: Book, query: ListQuery) -> tuple[Sequence[Party], bool]:
        return list_parties(book, self.role, query)

    def create(self, book: Book, fields: Mapping[str, Any]) -> Party:
        return create_party(book, self.role, fields)

    def update(self, book: Book, party_id: int, fields: Mapping[str, Any]) -> Party:
        return update_party(book, self.role, party_id, fields)

    def delete(self, book: Book, party_id: int) -> None:
        delete_party(book, self.role, party_id)


# -- parties in any role (Quipu's contacts) ------------------------------------------------------

def create_party_in_roles(book: Book, roles: Sequence[str], fields: Mapping[str, Any]) -> Party:
    """A party playing the given roles, maybe none yet (a contact that has bought and sold nothing).
    `fields` may carry each role's code as `customer_code` or `vendor_code`; others are numbered."""
    party = Party(type=fields.get("type"), currency_iso_code=book.organization.currency_iso_code,
                  payment_terms_id=reference.default_payment_terms_id(book), address={}, shipping_address={},
                  extra={})
    _write(book, None, party, fields, creating=True)
    book.parties.add(party)
    for role in roles:
        take_role(book, party, role, code=fields.get(_ROLE_CODE.get(role, "")))
    return party


def take_role(book: Book, party: Party, role: str, code: str | None = None) -> None:
    """Give the party a role it may not have yet (a contact invoiced for the first time becomes a
    customer), with its code: the one given, the one it has, or the next automatic one."""
    if role == EMPLOYEE:
        party.is_employee = True
    else:
        setattr(party, _ROLE_FLAG[role], True)
        code_name = _ROLE_CODE[role]
        if code or not getattr(party, code_name):
            setattr(party, code_name, code or next_code(book, role, book.parties, code_name))
    book.flush()


def get_any_party(book: Book, party_id: int) -> Party:
    party = book.parties.get(party_id)
    if party is None:
        raise NotFound("contact", party_id)
    return party


def is_deletable(book: Book, party_id: int) -> bool:
    """Whether nothing (documents, payments, entries, tasks) names the party any more."""
    return not referrers_of(book, Party, party_id)


def list_all_parties(book: Book, query: ListQuery) -> tuple[Sequence[Party], bool]:
    return book.parties.list(query)


def update_any_party(book: Book, party_id: int, fields: Mapping[str, Any]) -> Party:
    """Update a party whatever its roles; codes sent as `customer_code`/`vendor_code` give it the role."""
    party = get_any_party(book, party_id)
    _write(book, None, party, fields, creating=False)
    for role in ROLES:
        if fields.get(_ROLE_CODE[role]):
            take_role(book, party, role, code=fields[_ROLE_CODE[role]])
    book.flush()
    return party


def delete_any_party(book: Book, party_id: int) -> None:
    """Delete the party in every role; refused while documents, payments or entries name it."""
    party = get_any_party(book, party_id)
    ensure_unreferenced(book, Party, party.id, "contact")
    for contact in party.contacts:
        ensure_unreferenced(book, Contact, contact.id, "contact's person")
    custom_fields.clear_values(book, "CUSTOMER", [party.id])
    book.parties.remove(party)


CUSTOMERS = PartyRole("customer")
VENDORS = PartyRole("vendor")


# -- imports by external id (Upflow) -----------------------------------------------------------

def import_customer(book: Book, external_id: str,
                    fields_for: Callable[[Party | None], Mapping[str, Any]]) -> tuple[Party, bool]:
    """Create the customer with this external id, or update it (exactly once: services/imports.py).
    `fields_for` maps the request onto the party as it is once locked (None when creating), so a
    request that lost a race to create works on the winner's row, contacts included."""
    def update(existing: Party) -> Party:
        party = book.parties.lock(existing.id) or existing
        book.session.refresh(party)
        party.is_customer = True
        return _update_imported(book, party, fields_for(party))

    return upsert(book, find=lambda: book.parties.find(external_id=external_id), update=update,
                  create=lambda: create_party(book, "customer", {**fields_for(None), "external_id": external_id}))


def _update_imported(book: Book, party: Party, fields: Mapping[str, Any]) -> Party:
    _write(book, "customer", party, fields, creating=False)
    book.flush()
    return party


def find_customer(book: Book, *, party_id: int | None = None, uuid: str | None = None,
                  external_id: str | None = None, lean: bool = False) -> Any:
    """A customer by integer id, UUID or external id (read once by `preload_parties`, when it was).
    `lean`: its columns are all the caller needs: a PartyView read by the store (kept for the unit of
    work, so that a document's checks find it by id without a statement), unless preloaded."""
    key = ("uuid", uuid) if uuid is not None else ("external_id", external_id) if external_id is not None else None
    if key is not None:
        party = book.recall(("party", *key))
        if party is None and lean:
            party = masterdata.party_by(book.link, book.org_id, *key)
        elif party is None:
            party = book.parties.find_with((), **dict([key]))
    else:
        party = book.parties.get(party_id, *(LEAN if lean else ()))
    if party is None or not party.is_customer:
        raise NotFound("customer", uuid or external_id or party_id)
    if isinstance(party, Party):
        book.note(("row", Party, party.id), party)  # kept loaded: the unit of work gets it by id without a query
    return party


IN_LIST_MAX = 500  # values in one IN (...) list: well under SQLite's limit of bound parameters


def preload_parties(book: Book, *, uuids: Sequence[str] = (), external_ids: Sequence[str] = ()) -> None:
    """Read the parties of these UUIDs and external ids in one query each, for the rest of this unit of
    work (a bulk import; `find_customer` then finds them without a query). Only for a unit of work
    that does not change parties' UUIDs or external ids."""
    for attribute, values in (("uuid", uuids), ("external_id", external_ids)):
        wanted = sorted({value for value in values if isinstance(value, str)})
        for start in range(0, len(wanted), IN_LIST_MAX):
            chunk = wanted[start:start + IN_LIST_MAX]
            for party in book.parties.all(getattr(Party, attribute).in_(chunk), options=LEAN):
                book.note(("party", attribute, getattr(party, attribute)), party)


def unchanged(book: Book) -> AbstractContextManager[None]:
    """A block of the unit of work that changes no party, contact or item (a bulk import's checks,
    before it writes its documents): each one read there is read once (storage/masterdata.unchanged)."""
    return masterdata.unchanged(book.link)


def save_contact(book: Book, party: Party, fields: Mapping[str, Any], contact_id: int | None = None) -> Contact:
    """Create a contact of the party, or update one of its contacts (the same rules as in lists)."""
    checks = Checks()
    with book.session.no_autoflush:
        if contact_id is None:
            contact = Contact(org_id=book.org_id, address={}, extra={})
            write_contact(contact, fields, checks, "contact", contact_positions(book))
            checks.raise_if_any()
            party.contacts.append(contact)
        else:
            contact = next((c for c in party.contacts if c.id == contact_id), None)
            if contact is None:
                raise NotFound("contact", contact_id)
            write_contact(contact, fields, checks, "contact", contact_positions(book))
            checks.raise_if_any()
    book.flush()
    return contact


def delete_contact(book: Book, party: Party, contact_id: int) -> None:
    contact = next((c for c in party.contacts if c.id == contact_id), None)
    if contact is None:
        raise NotFound("contact", contact_id)
    ensure_unreferenced(book, Contact, contact.id, "contact")
    party.contacts.remove(contact)
    book.flush()
