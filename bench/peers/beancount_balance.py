"""beancount (PyPI): the trial balance of a journal, as beancount computes it: load the file (parse,
book, validate; no pickle cache) and sum every posting per account. Runs in bench/.peers.

Usage: python beancount_balance.py FILE  -> prints {"seconds", "accounts", "errors"}
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from decimal import Decimal

from beancount import loader
from beancount.core import data

if hasattr(loader, "initialize"):
    loader.initialize(use_cache=False)

started = time.perf_counter()
entries, errors, _options = loader.load_file(sys.argv[1])
sums: dict[str, Decimal] = defaultdict(Decimal)
for entry in entries:
    if isinstance(entry, data.Transaction):
        for posting in entry.postings:
            sums[posting.account] += posting.units.number
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "accounts": len(sums), "errors": len(errors),
                  "first_error": str(errors[0])[:300] if errors else None}))
