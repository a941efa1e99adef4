"""Reference data: read-only through the APIs, seeded when the organization is created."""

from __future__ import annotations

from .records import ReadOnlyRecords

CURRENCIES = ReadOnlyRecords("currencies")
TAXES = ReadOnlyRecords("taxes")
PAYMENT_TERMS = ReadOnlyRecords("payment_terms")
UNITS = ReadOnlyRecords("units")
