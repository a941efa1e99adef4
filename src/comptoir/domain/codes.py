"""Automatic user codes: CUS-002, SUP-002, ITM-012, FAM-007, EMP-001."""

from __future__ import annotations

CODE_PREFIXES = {
    "customer": "CUS",
    "vendor": "SUP",
    "item": "ITM",
    "item_family": "FAM",
    "employee": "EMP",
    "invoice": "CINV",
    "sales_order": "CORD",
    "payment": "IPAY",
    "credit_note": "CCN",
    "refund": "RFND",
    "purchase_invoice": "PINV",
    "vendor_credit": "VCR",
    "paysheet": "PAY",
}


def format_code(prefix: str, number: int) -> str:
    return f"{prefix}-{number:03d}"
