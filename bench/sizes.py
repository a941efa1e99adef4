"""The sizes of book the suite runs at, and how long each scenario runs at each size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    entries: int  # ledger entries in the generated book
    import_invoices: int  # Upflow invoices in the generated JSON-lines file the CLI imports
    duration_s: float  # how long each HTTP scenario runs on each server (after its warm-up)
    warmup_s: float
    peer_writes_s: float  # how long each peer's write loop runs


SIZES = {
    "small": Size("small", 1_000, 500, 5.0, 1.0, 5.0),
    "medium": Size("medium", 100_000, 2_000, 10.0, 2.0, 10.0),
    "large": Size("large", 1_000_000, 100_000, 15.0, 3.0, 15.0),
}
