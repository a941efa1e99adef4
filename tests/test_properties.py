"""Property-based tests of the book: random sequences of operations through the services (not HTTP),
with the ledger's invariants checked after every step.

Operations: create an invoice, replace an invoice's lines, delete an invoice, pay an invoice, delete a
payment, write a manual transaction, delete a transaction, lock an entry, close a period. Some of them
are wrong on purpose (over-payments, payments dated before their invoice, unbalanced transactions,
family accounts, dates in a closed period, unknown ids, rates above 100): those must raise a
DomainError and leave the organization's rows exactly as they were (tests.helpers.book_snapshot
before and after). The test keeps a small model of what it did, so an operation that must be refused
is refused, and a valid one (a payment within what is left, a balanced transaction in the open
period, new lines of an editable invoice, ...) is accepted.

After every step, read back in a fresh unit of work:
- every transaction balances (and has at least two strictly positive entries), and so does the ledger;
- every invoice has paid + unpaid == total and 0 <= paid <= total, its settlements add up, and its
  generated transaction debits the receivable with its total;
- each customer's receivable balance (entries on the receivable account with its party_id) equals
  the sum of its invoices' unpaid amounts, and the aged receivables agree;
- the trial balance as of a far future date has debits == credits, and the maintained balances
  (account_balances, per account and day or month) are exactly the sums of the entries;
- entries that were locked or closed stay exactly as they were, and everything dated in the closed
  period is closed.

Each example is a fresh organization, created in the state machine's constructor. Beside the state
machine: a valid invoice is accepted with the totals of the totals rule, and the rule itself adds up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from comptoir.domain import charts
from comptoir.domain.documents import INVOICE, Line, compute_totals
from comptoir.domain.errors import DomainError
from comptoir.domain.ledger import CREDIT, DEBIT
from comptoir.domain.money import CENT, round_minor
from comptoir.services.documents.sales import INVOICES
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.chart import account_for
from comptoir.services.ledger.closing import close_period
from comptoir.services.ledger.posting import CLOSED, REVERSAL, reversal_of
from comptoir.services.ledger.transactions import TRANSACTIONS
from comptoir.services.masterdata.catalogue import ITEMS
from comptoir.services.masterdata.parties import CUSTOMERS
from comptoir.services.reporting.reports import aged_receivables, trial_balance
from comptoir.services.settlement.payments import PAYMENTS
from comptoir.services.settlement.standing import standing
from comptoir.services.tenancy.organizations import create_organization
from comptoir.storage.tables import Allocation, Document, Transaction

from .balance_support import assert_balances_match
from .helpers import book_snapshot

ZERO = Decimal(0)
BASE_DAY = date(2025, 1, 1)
FAR_FUTURE = date(2999, 12, 31)
MISSING_ID = 2_000_000_000  # an id no row of the test database has

SETTINGS = settings(
    max_examples=35,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


# -- strategies -----------------------------------------------------------------------------------

def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Decimals with two places, from low/100 to high/100."""
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


picks = st.integers(0, 1_000)  # an index into a list, taken modulo its length (shrinks to the first)
targets = st.integers(-100, 1_000)  # likewise, but a negative one names a deleted (or never seen) record
days = st.integers(0, 365)  # days after BASE_DAY
# 0 to 100 (discounts, reduces), bounds included: whole numbers and two places.
rates = st.one_of(st.sampled_from([ZERO, Decimal(100)]), st.integers(0, 100).map(Decimal), cents(0, 10_000))
optional_tax = st.one_of(st.none(), picks)  # None: no tax; else an index into the organization's taxes

line_specs = st.fixed_dictionaries({
    "item": picks,
    # 0.01 to 1000 and 0 to 10000, two places; plain amounts first, so that the simplest invoice has a total.
    "quantity": st.one_of(st.integers(1, 20).map(Decimal), cents(1, 100_000)),
    "price": st.one_of(cents(1_000, 100_000), cents(0, 1_000_000)),
    "discount": rates,
    "tax": optional_tax,
    "is_taxable": st.sampled_from([None, True, False]),
    "income_account": st.one_of(st.none(), picks),  # None: the default income account
})

# Mistakes slipped into an otherwise valid invoice; None (the usual case) is no mistake.
INVOICE_FLAWS = [None] * 8 + ["reduce_over_100", "discount_over_100", "unknown_tax", "unknown_item",
                              "unknown_customer", "family_income_account"]
LINE_FLAWS = [None] * 6 + ["unknown_line_id", "duplicate_line_id", "discount_over_100"]


# -- the state machine ----------------------------------------------------------------------------

@dataclass
class Expect:
    """What an operation must come to: refused (`fail` says why), accepted (`succeed`), or either."""

    fail: str | None = None
    succeed: bool = False


def generated_by(book, source_type: str, source_id: int) -> Transaction | None:
    return book.transactions.find(source_type=source_type, source_id=source_id)


def unchangeable(transaction: Transaction) -> str | None:
    """Why the ledger must refuse to change or delete the transaction, if it must."""
    if transaction.status == CLOSED:
        return "closed"
    if any(entry.locked for entry in transaction.entries):
        return "locked"
    if any(entry.reconciled for entry in transaction.entries):
        return "reconciled"
    return None


class BookMachine(RuleBasedStateMachine):
    context = None  # set by the test from its fixture: the session-scoped Context

    def __init__(self) -> None:
        super().__init__()
        database = self.context.database
        organization = create_organization(database, "Property Company")
        self.org_id = organization.id
        with open_book(database, self.org_id) as book:
            self.employee_id = book.employees.all()[0].id
        with self.book() as book:
            self.customer_ids = [CUSTOMERS.create(book, {"type": 1, "company_name": name}).id
                                 for name in ("Acme", "Globex", "Initech")]
            self.item_ids = [ITEMS.create(book, {"type": 1, "name": name, "sales_price": price}).id
                             for name, price in (("Consulting", Decimal("120.50")), ("Support", Decimal(0)))]
            self.tax_ids = [tax.id for tax in book.taxes.all()]
            self.tax_rates = {tax.id: tax.rate for tax in book.taxes.all()}
            self.term_ids = [terms.id for terms in book.payment_terms.all()]
            accounts = book.accounts.all()
            self.postable_ids = [a.id for a in accounts if not a.is_family]
            self.family_ids = [a.id for a in accounts if a.is_family]
            self.income_ids = [a.id for a in accounts if a.nature == charts.INCOME and not a.is_family]
            self.receivable_id = account_for(book, charts.RECEIVABLE).id
        self.invoice_ids: list[int] = []  # invoices that exist
        self.numbered: list[tuple[int, date]] = []  # (id, date) of the invoices that exist, in number order
        self.payment_ids: list[int] = []  # payments that exist
        self.gone: list[int] = []  # ids of deleted invoices and payments
        self.closed_until: date | None = None
        self.frozen: dict[int, tuple] = {}  # entry id -> its content, for locked or closed entries
        self.snapshot = book_snapshot(self.context, self.org_id)
        self.steps = self.last_close = 0
        self.manual_transactions = 0

    def book(self):
        return open_book(self.context.database, self.org_id, self.employee_id)

    # -- running one operation --------------------------------------------------------------------

    def attempt(self, operation, expect: Expect | None = None) -> tuple[bool, object]:
        """Run `operation(book)` in its own unit of work and hold it to `expect` (which the operation
        may fill in itself, reading the book before it writes). A DomainError must leave every row
        of the organization as it was. Returns whether it was accepted, and its result."""
        expect = expect or Expect()
        self.steps += 1
        try:
            with self.book() as book:
                result = operation(book)
        except DomainError as error:
            event(f"{operation_name(operation)} refused: {error.kind.value} {error.rule.value if error.rule else ''}")
            after = book_snapshot(self.context, self.org_id)
            for table in self.snapshot:
                assert after[table] == self.snapshot[table], f"the refused operation ({error}) changed {table}"
            assert expect.fail is not None or not expect.succeed, f"a valid operation was refused: {error}"
            return False, None
        event(f"{operation_name(operation)} accepted")
        assert expect.fail is None, f"accepted although {expect.fail}"
        self.snapshot = book_snapshot(self.context, self.org_id)
        return True, result

    def target(self, ids: list[int], pick: int) -> int:
        if pick >= 0:
            return ids[pick % len(ids)]
        return self.gone[pick % len(self.gone)] if self.gone else MISSING_ID

    def in_closed_period(self, day: date) -> bool:
        return self.closed_until is not None and day <= self.closed_until

    def expected_total(self, lines: list[dict], header_tax_id: int | None, reduce_rate: Decimal) -> Decimal:
        """The total the totals rule gives `lines` (each the line's fields as they will stand)."""
        return compute_totals([
            Line(line["quantity"], line["unit_price_wt"], line["discount_rate"],
                 None if line.get("is_taxable") is False else self.tax_rates.get(line.get("tax_id") or header_tax_id))
            for line in lines], reduce_rate, CENT).total

    def line_fields(self, spec: dict, *, flaw: str | None = None) -> dict:
        fields = {
            "item_id": MISSING_ID if flaw == "unknown_item" else self.item_ids[spec["item"] % len(self.item_ids)],
            "quantity": spec["quantity"],
            "unit_price_wt": spec["price"],
            "discount_rate": Decimal(150) if flaw == "discount_over_100" else spec["discount"],
        }
        if flaw == "unknown_tax":
            fields["tax_id"] = MISSING_ID
        elif spec["tax"] is not None:
            fields["tax_id"] = self.tax_ids[spec["tax"] % len(self.tax_ids)]
        if spec["is_taxable"] is not None:
            fields["is_taxable"] = spec["is_taxable"]
        if flaw == "family_income_account":
            fields["account_id"] = self.family_ids[0]
        elif spec["income_account"] is not None:
            fields["account_id"] = self.income_ids[spec["income_account"] % len(self.income_ids)]
        return fields

    # -- invoices ---------------------------------------------------------------------------------

    @initialize(invoices=st.lists(st.tuples(picks, st.lists(line_specs, min_size=1, max_size=5), optional_tax,
                                            rates, st.one_of(st.none(), picks), days), min_size=1, max_size=3))
    def start_with_invoices(self, invoices):
        for customer, lines, tax, reduce_rate, terms, day in sorted(invoices, key=lambda spec: spec[5]):  # by date
            self.create_invoice(customer, lines, tax, reduce_rate, terms, day, None)

    @rule(customer=picks, lines=st.lists(line_specs, min_size=1, max_size=5), tax=optional_tax,
          reduce_rate=rates, terms=st.one_of(st.none(), picks), day=days, flaw=st.sampled_from(INVOICE_FLAWS))
    def create_invoice(self, customer, lines, tax, reduce_rate, terms, day, flaw):
        """A valid invoice is accepted, unless it posts (a non-zero total) in the closed period."""
        fields = {
            "customer_id": MISSING_ID if flaw == "unknown_customer" else
            self.customer_ids[customer % len(self.customer_ids)],
            "date": BASE_DAY + timedelta(days=day),
            "reduce_rate": Decimal(101) if flaw == "reduce_over_100" else reduce_rate,
            "lines": [self.line_fields(spec, flaw=flaw if index == 0 else None) for index, spec in enumerate(lines)],
        }
        if tax is not None:
            fields["tax_id"] = self.tax_ids[tax % len(self.tax_ids)]
        if terms is not None:
            fields["payment_terms_id"] = self.term_ids[terms % len(self.term_ids)]
        expect = Expect(fail=flaw, succeed=True)
        if self.in_closed_period(fields["date"]) and \
                self.expected_total(fields["lines"], fields.get("tax_id"), reduce_rate) != 0:
            expect.fail = expect.fail or "it posts in the closed period"
        if self.numbered and fields["date"] < self.numbered[-1][1]:  # numbers follow dates (issue 17 §7)
            expect.fail = expect.fail or "it is dated before the last numbered invoice"

        def create(book):
            invoice = INVOICES.create(book, fields)
            # An invoice that posts nothing (a zero total) writes no entry in the closed period.
            if self.in_closed_period(invoice.date) and generated_by(book, INVOICE, invoice.id) is not None:
                expect.fail = expect.fail or "it posts in the closed period"
            return invoice.id

        accepted, invoice_id = self.attempt(create, expect)
        if accepted:
            self.invoice_ids.append(invoice_id)
            self.numbered.append((invoice_id, fields["date"]))

    @precondition(lambda self: self.invoice_ids)
    @rule(change=st.fixed_dictionaries({
        "invoice": targets,
        "lines": st.lists(st.tuples(st.one_of(st.none(), picks), line_specs), min_size=0, max_size=5),
        "flaw": st.sampled_from(LINE_FLAWS),
    }))
    def change_invoice_lines(self, change):
        """Replace the lines: (k, spec) keeps the k-th current line not kept yet (modulo) with new
        values, (None, spec) adds a line; current lines not named are deleted.

        (Rules with one argument and an early name are drawn the most often: hence the packed
        arguments and the names of this rule, apply_payment and cancel_payment.)"""
        invoice, lines, flaw = change["invoice"], change["lines"], change["flaw"]
        invoice_id = self.target(self.invoice_ids, invoice)
        expect = Expect(fail=None if invoice_id in self.invoice_ids else "the invoice does not exist")

        def update(book):
            before = generated_by(book, INVOICE, invoice_id)
            if before is not None and unchangeable(before):
                expect.fail = expect.fail or f"its transaction is {unchangeable(before)}"
            document = INVOICES.get(book, invoice_id)
            current = {line.id: {"quantity": line.quantity, "unit_price_wt": line.unit_price_wt,
                                 "discount_rate": line.discount_rate, "tax_id": line.tax_id,
                                 "is_taxable": line.is_taxable} for line in document.lines}
            sent, keepable, resulting = [], list(current), []
            for keep, spec in lines:
                fields = self.line_fields(spec)
                if keep is not None and keepable:
                    fields["id"] = keepable.pop(keep % len(keepable))
                    del fields["item_id"]
                sent.append(fields)
                resulting.append({**current.get(fields.get("id"), {}), **fields})
            new_total = self.expected_total(resulting, document.tax_id, document.reduce_rate)
            if self.in_closed_period(document.date) and (before is not None or new_total != 0):
                expect.fail = expect.fail or "the invoice is in the closed period"
            if new_total < standing(book, document).paid:
                expect.fail = expect.fail or "the new total is below what is paid"
            expect.succeed = True
            if flaw == "unknown_line_id":
                sent.append({"id": MISSING_ID, "quantity": Decimal(1)})
                expect.fail = expect.fail or "a line id is not one of the invoice's"
            elif flaw == "duplicate_line_id" and current:
                first = next(iter(current))
                sent += [{"id": first}, {"id": first}]
                expect.fail = expect.fail or "a line id is sent twice"
            elif flaw == "discount_over_100":
                sent.append({**self.line_fields(lines[0][1] if lines else line_example()), "discount_rate": 101})
                expect.fail = expect.fail or "a discount is above 100"
            invoice = INVOICES.update(book, invoice_id, {"lines": sent})
            assert invoice.total == new_total, f"{invoice.user_code} totals {invoice.total}, the rule gives {new_total}"
            return invoice

        self.attempt(update, expect)

    @precondition(lambda self: self.invoice_ids)
    @rule(invoice=targets)
    def delete_invoice(self, invoice):
        invoice_id = self.target(self.invoice_ids, invoice)
        expect = Expect(fail=None if invoice_id in self.invoice_ids else "the invoice does not exist")
        if expect.fail is None and self.numbered[-1][0] != invoice_id:  # a draft's number would be a gap
            expect.fail = "its number is not the last of its series"

        def delete(book):
            transaction = generated_by(book, INVOICE, invoice_id)
            if transaction is not None and unchangeable(transaction):
                expect.fail = expect.fail or f"its transaction is {unchangeable(transaction)}"
            if book.allocations.all(Allocation.document_id == invoice_id):
                expect.fail = expect.fail or "it has payments"
            expect.succeed = True
            INVOICES.delete(book, invoice_id)

        if self.attempt(delete, expect)[0]:
            self.invoice_ids.remove(invoice_id)
            self.numbered.pop()
            self.gone.append(invoice_id)

    # -- payments ---------------------------------------------------------------------------------

    @precondition(lambda self: self.invoice_ids)
    @rule(payment=st.fixed_dictionaries({
        "invoice": targets,
        "mode": st.sampled_from(["part", "full"] * 3 + ["over", "any", "sub_cent", "negative", "early"]),
        "fraction": st.integers(1, 99),
        "amount": cents(0, 2_000_000),
        "offset": st.integers(0, 120),
    }))
    def apply_payment(self, payment):
        """Pay an invoice: part or all of what is left, or wrong on purpose: more than that, any
        amount, less than a cent, a negative one, or dated before the invoice ("early")."""
        invoice, mode, fraction, amount, offset = (payment[key] for key in
                                                   ("invoice", "mode", "fraction", "amount", "offset"))
        invoice_id = self.target(self.invoice_ids, invoice)
        expect = Expect()

        def pay(book):
            document = book.documents.get(invoice_id)
            if invoice >= 0:  # an invoice with something left to pay, if there is one
                documents = [book.documents.get(i) for i in self.invoice_ids]
                open_ones = [d for d in documents if standing(book, d).unpaid > 0]
                document = open_ones[invoice % len(open_ones)] if open_ones else document
            if document is None or document.kind != INVOICE:
                expect.fail = "the invoice does not exist"
                return PAYMENTS.create(book, {"invoice_id": invoice_id, "amount": Decimal(1)}).id
            invoice_id_paid = document.id
            unpaid = standing(book, document).unpaid
            value = {
                "part": round_minor(unpaid * fraction / 100, CENT),
                "early": round_minor(unpaid * fraction / 100, CENT),
                "full": unpaid,
                "over": unpaid + amount + Decimal("0.01"),
                "any": amount,
                "sub_cent": Decimal("0.004"),
                "negative": -amount,
            }[mode]
            on = document.date + timedelta(days=-1 - offset % 30 if mode == "early" else offset)
            if round_minor(value, CENT) <= 0:
                expect.fail = "the amount is not positive"
            elif round_minor(value, CENT) > unpaid:
                expect.fail = "it pays more than the unpaid amount"
            elif on < document.date:
                expect.fail = "it is dated before the invoice"
            elif self.in_closed_period(on):
                expect.fail = "it is dated in the closed period"
            expect.succeed = True
            return PAYMENTS.create(book, {"invoice_id": invoice_id_paid, "amount": value, "date": on}).id

        accepted, payment_id = self.attempt(pay, expect)
        if accepted:
            self.payment_ids.append(payment_id)

    @precondition(lambda self: self.payment_ids)
    @rule(payment=targets)
    def cancel_payment(self, payment):
        """Delete a payment (PAYMENTS.delete)."""
        payment_id = self.target(self.payment_ids, payment)
        expect = Expect(fail=None if payment_id in self.payment_ids else "the payment does not exist")

        def delete(book):
            transaction = generated_by(book, "payment", payment_id)
            if transaction is not None and unchangeable(transaction):
                expect.fail = expect.fail or f"its transaction is {unchangeable(transaction)}"
            expect.succeed = True
            PAYMENTS.delete(book, payment_id)

        if self.attempt(delete, expect)[0]:
            self.payment_ids.remove(payment_id)
            self.gone.append(payment_id)

    # -- the ledger -------------------------------------------------------------------------------

    @rule(entries=st.lists(st.tuples(picks, cents(1, 10_000_000)), min_size=1, max_size=4),
          kind=st.sampled_from(["balanced"] * 4 + ["unbalanced", "family", "sub_cent", "one_entry", "receivable"]),
          day=days)
    def create_transaction(self, entries, kind, day):
        """Debits as drawn, one credit balancing them (on purpose not, for some kinds)."""
        accounts = self.postable_ids
        sent = [{"account_id": accounts[pick % len(accounts)], "way": DEBIT, "amount": amount, "label": "debit"}
                for pick, amount in entries]
        total = sum((entry["amount"] for entry in sent), ZERO)
        credit = {"account_id": accounts[(entries[0][0] + 1) % len(accounts)], "way": CREDIT, "amount": total,
                  "label": "credit"}
        expect = Expect(succeed=True)
        if kind == "unbalanced":
            credit["amount"] = total + Decimal("0.01")
            expect.fail = "it does not balance"
        elif kind == "family":
            sent[0]["account_id"] = self.family_ids[entries[0][0] % len(self.family_ids)]
            expect.fail = "it posts to a family account"
        elif kind == "sub_cent":  # 0.005 rounds to 0.01 on both sides: still balanced after rounding
            sent.append({"account_id": accounts[0], "way": DEBIT, "amount": Decimal("0.005")})
            credit["amount"] = total + Decimal("0.005")
        elif kind == "receivable":
            credit["account_id"] = self.receivable_id
        sent.append(credit)
        if kind == "one_entry":
            sent = sent[:1]
            expect.fail = "it has one entry"
        on = BASE_DAY + timedelta(days=day)
        if self.in_closed_period(on):
            expect.fail = expect.fail or "it is dated in the closed period"
        if self.attempt(lambda book: TRANSACTIONS.create(book, {"piece_number": f"P-{day}", "date": on,
                                                                "entries": sent}).id, expect)[0]:
            self.manual_transactions += 1

    @precondition(lambda self: self.manual_transactions > 0)
    @rule(transaction=picks, generated=st.sampled_from([False, False, False, True]))
    def delete_transaction(self, transaction, generated):
        """A manual transaction, or one generated by a document (which only the document may delete).
        Deleting reverses it (issue 17 §8): it stays, and cannot be reversed again."""
        expect = Expect()

        def delete(book):
            every = book.transactions.all()
            rows = [row for row in every if (row.source_type is not None) == generated]
            reversed_ids = {row.source_id for row in every if row.source_type == REVERSAL}
            if rows:
                chosen = rows[transaction % len(rows)]
                expect.fail = "it was generated by a document" if generated else (
                    f"it is {unchangeable(chosen)}" if unchangeable(chosen) else
                    "it is already reversed" if chosen.id in reversed_ids else None)
                expect.succeed = True
                TRANSACTIONS.delete(book, chosen.id)
                return chosen.source_type is None

        if self.attempt(delete, expect)[1]:
            self.manual_transactions -= 1

    @rule(transaction=picks, entry=picks)
    def lock_entry(self, transaction, entry):
        expect = Expect()

        def lock(book):
            rows = book.transactions.all()
            if not rows:
                return
            chosen = rows[transaction % len(rows)]
            target = chosen.entries[entry % len(chosen.entries)]
            if chosen.status != CLOSED:
                expect.succeed = True
            elif not target.locked:
                expect.fail = "its transaction is closed"
            if chosen.source_type is None and reversal_of(book, chosen.id) is not None:
                expect.fail = expect.fail or "its transaction is reversed (deleted)"
            TRANSACTIONS.update(book, chosen.id, {"entries": [
                {"id": e.id, "locked": True if e.id == target.id else e.locked} for e in chosen.entries]})

        self.attempt(lock, expect)

    @precondition(lambda self: self.steps - self.last_close >= 4)  # closing is rare, and ends most ops
    @rule(day=days)
    def close_period(self, day):
        until = BASE_DAY + timedelta(days=day)
        earlier = self.closed_until is not None and until < self.closed_until
        if self.attempt(lambda book: close_period(book, until),
                        Expect(fail="it reopens a closed period" if earlier else None, succeed=True))[0]:
            self.closed_until = until
        self.last_close = self.steps

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def the_book_is_consistent(self):
        with self.book() as book:
            transactions = book.transactions.all()
            ledger_debit = ledger_credit = ZERO
            frozen: dict[int, tuple] = {}
            receivable_by_party: dict[int, Decimal] = defaultdict(lambda: ZERO)
            for transaction in transactions:
                debit = sum((e.amount for e in transaction.entries if e.way == DEBIT), ZERO)
                credit = sum((e.amount for e in transaction.entries if e.way == CREDIT), ZERO)
                assert debit == credit, f"transaction {transaction.id} debits {debit}, credits {credit}"
                assert len(transaction.entries) >= 2, f"transaction {transaction.id} has fewer than two entries"
                ledger_debit += debit
                ledger_credit += credit
                if self.closed_until is not None and transaction.date <= self.closed_until:
                    assert transaction.status == CLOSED, f"transaction {transaction.id} is in the closed period"
                for e in transaction.entries:
                    assert e.amount > 0, f"entry {e.id} has amount {e.amount}"
                    assert e.way in (DEBIT, CREDIT)
                    assert e.date == transaction.date, f"entry {e.id} is dated {e.date}, its transaction {transaction.date}"
                    if e.account_id == self.receivable_id and e.party_id is not None:
                        receivable_by_party[e.party_id] += e.amount if e.way == DEBIT else -e.amount
                    if e.locked or transaction.status == CLOSED:
                        frozen[e.id] = (transaction.id, e.amount, e.way, e.account_id, e.date, e.party_id,
                                        e.lettering, e.label, e.reconciled)
            assert ledger_debit == ledger_credit, f"the ledger debits {ledger_debit}, credits {ledger_credit}"
            assert len(book.entries.all()) == sum(len(t.entries) for t in transactions)

            for entry_id, content in self.frozen.items():
                assert frozen.get(entry_id) == content, (
                    f"locked or closed entry {entry_id} changed: {content} -> {frozen.get(entry_id)}")
            self.frozen = frozen

            unpaid_by_party: dict[int, Decimal] = defaultdict(lambda: ZERO)
            for invoice in book.documents.all(Document.kind == INVOICE):
                state = standing(book, invoice)
                assert state.paid + state.unpaid == invoice.total, invoice.user_code
                assert ZERO <= state.paid <= invoice.total, (
                    f"{invoice.user_code}: paid {state.paid} of a total of {invoice.total}")
                assert sum((s.amount for s in state.settlements), ZERO) == (invoice.total if state.settlements else 0)
                assert sum((s.paid for s in state.settlements), ZERO) == state.paid, invoice.user_code
                assert all(ZERO <= s.paid <= s.amount for s in state.settlements), invoice.user_code
                assert invoice.total == invoice.subtotal - invoice.reduce_amount + invoice.tax_amount
                assert invoice.subtotal == sum((line.total for line in invoice.lines), ZERO)
                generated = book.transactions.find(source_type=INVOICE, source_id=invoice.id)
                receivable = ZERO if generated is None else sum(
                    (e.amount if e.way == DEBIT else -e.amount for e in generated.entries
                     if e.account_id == self.receivable_id), ZERO)
                assert receivable == invoice.total, (
                    f"{invoice.user_code} totals {invoice.total}, its transaction debits the receivable {receivable}")
                unpaid_by_party[invoice.customer_id] += state.unpaid

            for customer_id in set(self.customer_ids) | set(receivable_by_party) | set(unpaid_by_party):
                assert receivable_by_party[customer_id] == unpaid_by_party[customer_id], (
                    f"customer {customer_id}: receivable {receivable_by_party[customer_id]}, "
                    f"open invoices {unpaid_by_party[customer_id]}")

            # The aged receivables add up to the receivable account: each customer's row is what it
            # owes (its open invoices: equal above), entries without a customer make a row of their own.
            receivable_balance = sum((e.amount if e.way == DEBIT else -e.amount for t in transactions
                                      for e in t.entries if e.account_id == self.receivable_id), ZERO)
            aged = {row.customer_id: row.total for row in aged_receivables(book, FAR_FUTURE)}
            assert sum(aged.values(), ZERO) == receivable_balance, "aged receivables and the receivable account"
            for customer_id in (set(aged) - {None}) | {c for c, unpaid in unpaid_by_party.items() if unpaid}:
                assert aged.get(customer_id, ZERO) == unpaid_by_party[customer_id], f"aged receivables of {customer_id}"

            # The trial balance of the year ahead: everything is its opening, earlier years' income and
            # expenses carried forward to retained earnings; the balances still total zero.
            lines = trial_balance(book, FAR_FUTURE).lines
            assert sum((line.debit for line in lines), ZERO) == sum((line.credit for line in lines), ZERO)
            assert sum((line.balance for line in lines), ZERO) == ZERO
            assert_balances_match(book.session, self.org_id)  # the maintained totals are the entries'

            for payment in book.payments.all():
                assert sum((a.amount for a in payment.allocations), ZERO) == payment.amount > 0


def operation_name(operation) -> str:
    return operation.__qualname__.split(".")[1]


def line_example() -> dict:
    return {"item": 0, "quantity": Decimal(1), "price": Decimal(1), "discount": ZERO, "tax": None,
            "is_taxable": None, "income_account": None}


def test_random_operations_keep_the_book_consistent(context):
    BookMachine.context = context
    run_state_machine_as_test(BookMachine, settings=SETTINGS)


# -- a valid invoice is accepted ------------------------------------------------------------------

@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(line_specs, min_size=1, max_size=5), tax=optional_tax, reduce_rate=rates,
       terms=st.one_of(st.none(), picks), day=days)
def test_a_valid_invoice_is_accepted(context, lines, tax, reduce_rate, terms, day):
    """Every field within its documented range, every reference valid, the period open: the invoice
    is created, with the totals of the totals rule, and posts them (or nothing, for a zero total)."""
    organization = create_organization(context.database, "Valid Invoice Company")
    with open_book(context.database, organization.id) as book:
        customer_id = CUSTOMERS.create(book, {"type": 1, "company_name": "Acme"}).id
        item_id = ITEMS.create(book, {"type": 1, "name": "Consulting"}).id
        taxes = book.taxes.all()
        term_ids = [terms.id for terms in book.payment_terms.all()]
        income_ids = [a.id for a in book.accounts.all() if a.nature == charts.INCOME and not a.is_family]
    rates_by_id = {t.id: t.rate for t in taxes}
    header_tax = taxes[tax % len(taxes)].id if tax is not None else None
    sent = []
    for spec in lines:
        line = {"item_id": item_id, "quantity": spec["quantity"], "unit_price_wt": spec["price"],
                "discount_rate": spec["discount"]}
        if spec["tax"] is not None:
            line["tax_id"] = taxes[spec["tax"] % len(taxes)].id
        if spec["is_taxable"] is not None:
            line["is_taxable"] = spec["is_taxable"]
        if spec["income_account"] is not None:
            line["account_id"] = income_ids[spec["income_account"] % len(income_ids)]
        sent.append(line)
    fields = {"customer_id": customer_id, "date": BASE_DAY + timedelta(days=day), "reduce_rate": reduce_rate,
              "tax_id": header_tax, "lines": sent}
    if terms is not None:
        fields["payment_terms_id"] = term_ids[terms % len(term_ids)]

    with open_book(context.database, organization.id) as book:
        invoice = INVOICES.create(book, fields)
        expected = compute_totals([Line(line["quantity"], line["unit_price_wt"], line["discount_rate"],
                                        None if line.get("is_taxable") is False else
                                        rates_by_id.get(line.get("tax_id") or header_tax)) for line in sent],
                                  reduce_rate, CENT)
        assert (invoice.subtotal, invoice.reduce_amount, invoice.tax_amount, invoice.total) == (
            expected.subtotal, expected.reduce_amount, expected.tax_amount, expected.total)
        transaction = generated_by(book, INVOICE, invoice.id)
        posted = ZERO if transaction is None else sum(
            (e.amount for e in transaction.entries if e.way == DEBIT), ZERO)
        assert posted == invoice.total


# -- the totals rule alone (no database) ----------------------------------------------------------

@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(lines=st.lists(st.tuples(cents(1, 100_000), cents(0, 1_000_000), rates,
                                st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal("5.5"), Decimal("8.25"),
                                                                      Decimal(20)]))), max_size=5),
       reduce_rate=rates, exponent=st.sampled_from([CENT, Decimal(1), Decimal("0.001")]))  # USD, JPY, BHD
def test_totals_add_up(lines, reduce_rate, exponent):
    totals = compute_totals([Line(q, p, d, t) for q, p, d, t in lines], reduce_rate, exponent)
    assert totals.subtotal == sum(totals.line_totals, ZERO)
    assert totals.total == totals.subtotal - totals.reduce_amount + totals.tax_amount
    assert sum(totals.net_lines, ZERO) == totals.subtotal - totals.reduce_amount
    assert all(amount == round_minor(amount, exponent) for amount in (totals.subtotal, totals.reduce_amount,
                                                            totals.tax_amount, totals.total, *totals.net_lines))
    assert ZERO <= totals.reduce_amount <= totals.subtotal
    assert totals.total >= 0


# -- matching credits against debits (a reconciliation, domain/allocations.pair) -----------------

@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(credit_cents=st.lists(st.integers(1, 10**8), min_size=1, max_size=6),
       debit_cents=st.lists(st.integers(1, 10**8), min_size=1, max_size=6))
def test_pairing_equal_totals_uses_every_credit_and_debit_exactly(credit_cents, debit_cents):
    from comptoir.domain.allocations import CREDIT_NOTE as NOTE
    from comptoir.domain.allocations import INVOICE as BILL
    from comptoir.domain.allocations import Side, pair

    gap = sum(credit_cents) - sum(debit_cents)  # balance the two sides with one more record
    if gap > 0:
        debit_cents = [*debit_cents, gap]
    elif gap < 0:
        credit_cents = [*credit_cents, -gap]
    credits = [(Side(NOTE, n), Decimal(c) / 100) for n, c in enumerate(credit_cents)]
    debits = [(Side(BILL, n), Decimal(c) / 100) for n, c in enumerate(debit_cents)]
    links = pair(credits, debits)
    assert all(link.amount > 0 for link in links)
    for side, amount in credits:
        assert sum((link.amount for link in links if link.credit == side), ZERO) == amount
    for side, amount in debits:
        assert sum((link.amount for link in links if link.debit == side), ZERO) == amount
    assert len(links) <= len(credits) + len(debits) - 1  # greedy: each link uses up a credit or a debit
    assert [link.credit.id for link in links] == sorted(link.credit.id for link in links)  # in order
    assert [link.debit.id for link in links] == sorted(link.debit.id for link in links)
