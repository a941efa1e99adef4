"""Names and addresses of parties and contacts, computed the way OneUp shows them."""

from __future__ import annotations

from typing import Mapping

COMPANY = 1
INDIVIDUAL = 2

ADDRESS_FIELDS = ("street_line1", "street_line2", "street_line3", "postal_code", "city", "country", "locality")
NOT_APPLICABLE = "N/A"

# Short codes of the localities we know (US states and Canadian provinces); others show "N/A".
_SHORT_LOCALITIES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "alberta": "AB", "british columbia": "BC", "manitoba": "MB", "new brunswick": "NB",
    "newfoundland and labrador": "NL", "nova scotia": "NS", "ontario": "ON",
    "prince edward island": "PE", "quebec": "QC", "saskatchewan": "SK",
}


def full_name(*, type: int, company_name: str = "", first_name: str = "", middle_name: str = "",
              last_name: str = "") -> str:
    if type == COMPANY:
        return company_name
    return person_name(first_name, middle_name, last_name)


def person_name(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def normalize_address(address: Mapping[str, str] | None) -> dict[str, str]:
    """The stored form of an address: the writable fields only, missing ones empty. "N/A" is how an
    empty locality is shown, so a client sending it back means no locality."""
    address = address or {}
    stored = {name: address.get(name) or "" for name in ADDRESS_FIELDS}
    if stored["locality"] == NOT_APPLICABLE:
        stored["locality"] = ""
    return stored


def short_locality(locality: str) -> str:
    return _SHORT_LOCALITIES.get(locality.strip().lower(), NOT_APPLICABLE)


def full_address(address: Mapping[str, str]) -> str:
    """Street lines, city, short locality, postal code and country, as printed on documents:
    "567 Sutter St. San Francisco CA 94102 United States"."""
    short = short_locality(address.get("locality", ""))
    parts = [
        address.get("street_line1", ""),
        address.get("street_line2", ""),
        address.get("street_line3", ""),
        address.get("city", ""),
        "" if short == NOT_APPLICABLE else short,
        address.get("postal_code", ""),
        address.get("country", ""),
    ]
    return " ".join(p for p in parts if p)
