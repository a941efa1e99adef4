"""A customer with a statement worth showing, made through Upflow's API as an integrator would: an
overdue invoice, a partly paid one, a paid one, an uploaded PDF; and a second customer of the same
organization whose invoice must never show. Shared by the portal tests over HTTP and in a browser."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PDF = b"%PDF-1.7\n%uploaded for the portal\n" + bytes(range(256)) + b"\n%%EOF\n"
BALANCE = "1,230.00 USD"  # 1,200.00 + 50.00 + 80.00 invoiced, 20.00 + 80.00 paid


@dataclass(frozen=True)
class Statement:
    customer: dict
    overdue: dict  # 1,200.00, due 2024-02-10, unpaid, with an uploaded PDF
    due: dict  # 50.00, due 2099-01-31, 20.00 paid
    paid: dict  # 80.00, paid in full
    neighbour: dict  # another customer of the same organization
    neighbour_invoice: dict


def make_statement(post: Callable[[str, Any], dict], upload: Callable[[str, bytes], int],
                   name: str = "Müller & Söhne <GmbH>") -> Statement:
    """`post(path, body)` answers the decoded JSON of an Upflow call; `upload(path, pdf)` its status."""
    tag = secrets.token_hex(4)
    customer = post("/customers", {"externalId": f"portal-{tag}", "name": f"{name} {tag}"})
    neighbour = post("/customers", {"externalId": f"neighbour-{tag}", "name": f"Neighbour {tag}"})

    def invoice(code: str, gross: int, due: str, who: dict) -> dict:
        return post("/invoices", {"externalId": f"{code}-{tag}", "customId": f"{code}-{tag}", "issuedAt": "2024-01-10",
                                  "dueDate": due, "currency": "USD", "netAmount": gross, "grossAmount": gross,
                                  "customer": {"id": who["id"]}})

    overdue = invoice("OVR", 120000, "2024-02-10", customer)
    due = invoice("DUE", 5000, "2099-01-31", customer)
    paid = invoice("PAID", 8000, "2024-02-10", customer)
    neighbour_invoice = invoice("NBR", 99900, "2024-02-10", neighbour)
    for amount, target in ((2000, due), (8000, paid)):
        post("/payments", {"externalId": f"pay-{target['customId']}", "currency": "USD", "amount": amount,
                           "validatedAt": "2024-01-20", "customer": {"id": customer["id"]},
                           "linkedInvoices": [{"id": target["id"], "amountLinked": amount}]})
    assert upload(f"/invoices/{overdue['id']}/pdf", PDF) == 204
    return Statement(customer, overdue, due, paid, neighbour, neighbour_invoice)
