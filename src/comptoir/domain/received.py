"""Documents received from partners (OneConnect): the rules of a deposit and of its accounting
entries, as pure functions that report every problem at once.

An `entries` document is `{"data": {"lines": [line, ...]}}`; a line carries `date`, `debit` and
`credit` (each with `amount`, `currency`, `currencyAmount`, `currencyRate`), `journal`, `account` and
`reference`, and optionally `dueDate`, `journalLabel`, `thirdParty`, `thirdPartySiren`,
`thirdPartyLabel`, `label` and `documentReference`.

A side's `amount` is in the book's currency; `currency`, `currencyAmount` and `currencyRate` say the
money it was in (issue 18; docs/decisions/0028, "OneConnect"): 1 `currency` = `currencyRate` of the
book's currency, as the book's own rates say it (domain/rates.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from . import charts
from .currencies import is_currency, minor_units, smallest_unit
from .errors import ErrorKind, Problem
from .ledger import CREDIT, DEBIT
from .money import TOO_LARGE, plain, round_minor, within_bounds
from .rates import not_a_currency, rate_problems

PURCHASE, SALES = "purchase", "sales"
WAITING, ACCEPTED, REFUSED = "Waiting", "Accepted", "Refused"

EXTERNAL_REFERENCE = re.compile(r"[A-Za-z0-9_:-]{1,64}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# The file types a document may be, by the extensions its declared name may end with.
EXTENSIONS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
              ".bmp": "image/bmp"}
FILENAME_MAX, EMAIL_MAX, COMMENT_MAX, REASON_MAX = 255, 255, 10_000, 2_000
LINES_MAX = 10_000
AMOUNT_INTEGER_DIGITS_MAX = 14
SIDES = ("debit", "credit")
SIDE_FIELDS = ("amount", "currency", "currencyAmount", "currencyRate")
# (field, longest value); the required ones first.
REQUIRED_TEXT = (("journal", 64), ("account", 64), ("reference", 255))
OPTIONAL_TEXT = (("journalLabel", 64), ("thirdParty", 64), ("thirdPartySiren", 32), ("thirdPartyLabel", 255),
                 ("label", 255), ("documentReference", 255))
COUNTERPARTY_TEXT = (("name", 255), ("siren", 32), ("legalForm", 64), ("naf", 16), ("phoneNumber", 64),
                     ("contactEmail", 255))


@dataclass(frozen=True)
class ThirdParty:
    """Who a line (or the document) is with: an identifier (the party's code), a SIREN, a name."""

    code: str = ""
    siren: str = ""
    name: str = ""

    def __bool__(self) -> bool:
        return bool(self.code or self.siren or self.name)


@dataclass(frozen=True)
class Given:
    """A side of a line as the partner's system had it: `amount` of `currency`, 1 `currency` being
    `rate` of the book's currency (the line's `currency`, `currencyAmount` and `currencyRate`)."""

    currency: str
    amount: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Line:
    """One line of entries, checked: a debit and a credit amount in the book's currency, and each side
    as it was given in its own currency (`debit_given`, `credit_given`)."""

    on: date
    journal: str
    account: str
    debit: Decimal
    credit: Decimal
    label: str
    third_party: ThirdParty
    due_on: date | None = None
    reference: str = ""  # on a purchase, the supplier's invoice number (the seed's FA-2026-042)
    document_reference: str = ""  # the invoice's reference, when the partner sends it apart
    debit_given: Given | None = None
    credit_given: Given | None = None


def posted_sides(line: Line) -> list[tuple[str, Decimal, Given | None]]:
    """The sides of the line that post an entry (a side of amount 0 posts none): (way, amount in the
    book's currency, the side as given in its currency)."""
    return [(way, amount, given) for way, amount, given in ((DEBIT, line.debit, line.debit_given),
                                                            (CREDIT, line.credit, line.credit_given)) if amount]


# -- the deposit -------------------------------------------------------------------------------

def deposit_problems(*, filename: str | None, sniffed_type: str | None, has_file: bool, user_email: str | None,
                     comment: str | None, external_reference: str | None) -> list[Problem]:
    """What is wrong with a deposit's file and plain fields (every problem, not the first)."""
    problems: list[Problem] = []
    if not has_file:
        problems.append(Problem(ErrorKind.MISSING, "file", "is required: the invoice file (PDF, JPEG, PNG or BMP)"))
    elif sniffed_type is None:
        problems.append(Problem(ErrorKind.INVALID, "file", "is not a PDF, JPEG, PNG or BMP file (by its content)"))
    if not filename:
        problems.append(Problem(ErrorKind.MISSING, "filename", "is required: the file's name, ending in .pdf, "
                                                               ".jpg, .jpeg, .png or .bmp"))
    else:
        problems.extend(_filename_problems(filename, sniffed_type))
    if user_email is not None and (len(user_email) > EMAIL_MAX or not EMAIL.fullmatch(user_email)):
        problems.append(Problem(ErrorKind.INVALID, "userEmail", "is not an email address"))
    if comment is not None and len(comment) > COMMENT_MAX:
        problems.append(Problem(ErrorKind.INVALID, "comment", f"is longer than {COMMENT_MAX} characters"))
    if external_reference is not None and not EXTERNAL_REFERENCE.fullmatch(external_reference):
        problems.append(Problem(ErrorKind.INVALID, "externalReference",
                                "must be 1 to 64 characters among letters, digits, _, - and :"))
    return problems


def _filename_problems(filename: str, sniffed_type: str | None) -> list[Problem]:
    if len(filename) > FILENAME_MAX:
        return [Problem(ErrorKind.INVALID, "filename", f"is longer than {FILENAME_MAX} characters")]
    if any(c in filename for c in "/\\") or filename in (".", "..") or not filename.isprintable():
        return [Problem(ErrorKind.INVALID, "filename", "must be a file name, without a directory part or "
                                                       "control characters")]
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    declared = EXTENSIONS.get(extension)
    if declared is None:
        return [Problem(ErrorKind.INVALID, "filename", "must end with .pdf, .jpg, .jpeg, .png or .bmp")]
    if sniffed_type is not None and sniffed_type != declared:
        return [Problem(ErrorKind.INVALID, "file", f"its content is {sniffed_type}, but the filename says "
                                                   f"{declared} ({extension})")]
    return []


def counterparty_problems(value: Any) -> tuple[ThirdParty | None, list[Problem]]:
    """The `organization` JSON (metadata about the counterparty): an object of optional texts and an
    `address` (object or text)."""
    if value is None:
        return None, []
    if not isinstance(value, dict):
        return None, [Problem(ErrorKind.INVALID, "organization", "must be a JSON object")]
    problems = [problem for name, longest in COUNTERPARTY_TEXT
                for problem in _text_problems(value, name, longest, f"organization.{name}", required=False)]
    if value.get("address") is not None and not isinstance(value["address"], (dict, str)):
        problems.append(Problem(ErrorKind.INVALID, "organization.address", "must be an object or a text"))
    if problems:
        return None, problems
    return ThirdParty("", value.get("siren") or "", value.get("name") or ""), []


# -- entries -----------------------------------------------------------------------------------

def entries_lines(value: Any, minor_units: int) -> tuple[list[Line], list[Problem]]:
    """The lines of an `entries` document, or every problem of it (field names as JSON paths)."""
    data = value.get("data") if isinstance(value, dict) else None
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        return [], [Problem(ErrorKind.INVALID, "entries", 'must be a JSON object {"data": {"lines": [...]}}')]
    if not lines:
        return [], [Problem(ErrorKind.MISSING, "entries.data.lines", "must hold at least one line")]
    if len(lines) > LINES_MAX:
        return [], [Problem(ErrorKind.INVALID, "entries.data.lines", f"holds more than {LINES_MAX} lines")]
    checked, problems = [], []
    for index, line in enumerate(lines):
        line_checked, line_problems = _line(line, f"entries.data.lines[{index}]", minor_units)
        problems.extend(line_problems)
        if line_checked is not None:
            checked.append(line_checked)
    return (checked, []) if not problems else ([], problems)


def _line(line: Any, where: str, minor_units: int) -> tuple[Line | None, list[Problem]]:
    if not isinstance(line, dict):
        return None, [Problem(ErrorKind.INVALID, where, "must be a JSON object")]
    problems: list[Problem] = []
    for name, longest in REQUIRED_TEXT:
        problems.extend(_text_problems(line, name, longest, f"{where}.{name}", required=True))
    for name, longest in OPTIONAL_TEXT:
        problems.extend(_text_problems(line, name, longest, f"{where}.{name}", required=False))
    on = _date(line.get("date"), f"{where}.date", problems, required=True)
    due_on = _date(line.get("dueDate"), f"{where}.dueDate", problems, required=False)
    amounts = {side: _side(line.get(side), f"{where}.{side}", minor_units, problems) for side in SIDES}
    if problems:
        return None, problems
    third_party = ThirdParty(*(str(line.get(name) or "").strip()
                               for name in ("thirdParty", "thirdPartySiren", "thirdPartyLabel")))
    return Line(on=on, journal=line["journal"].strip(), account=line["account"].strip(),
                debit=amounts["debit"], credit=amounts["credit"],
                label=(line.get("label") or line["reference"]).strip(), third_party=third_party,
                due_on=due_on, reference=line["reference"].strip(),
                document_reference=(line.get("documentReference") or "").strip(),
                debit_given=_given(line["debit"]), credit_given=_given(line["credit"])), []


def _text_problems(source: Mapping[str, Any], name: str, longest: int, where: str, *, required: bool) -> list[Problem]:
    value = source.get(name)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        return [Problem(ErrorKind.MISSING, where, "is required")] if required else []
    if not isinstance(value, str):
        return [Problem(ErrorKind.INVALID, where, "must be a string")]
    if len(value) > longest:
        return [Problem(ErrorKind.INVALID, where, f"is longer than {longest} characters")]
    return []


def _date(value: Any, where: str, problems: list[Problem], *, required: bool) -> date | None:
    """An ISO 8601 date or date-time (its day is the date)."""
    if value is None:
        if required:
            problems.append(Problem(ErrorKind.MISSING, where, "is required"))
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            pass
    problems.append(Problem(ErrorKind.INVALID, where, "must be an ISO 8601 date or date-time"))
    return None


def _side(value: Any, where: str, minor_units: int, problems: list[Problem]) -> Decimal:
    """A debit or credit object: `amount` (in the book's currency, at most its minor units, not
    negative), `currency` (ISO 4217), `currencyAmount` and `currencyRate` (numbers)."""
    if not isinstance(value, dict):
        problems.append(Problem(ErrorKind.MISSING if value is None else ErrorKind.INVALID, where,
                                "is required: an object with amount, currency, currencyAmount and currencyRate"))
        return Decimal(0)
    for name in SIDE_FIELDS:
        if value.get(name) is None:
            problems.append(Problem(ErrorKind.MISSING, f"{where}.{name}", "is required"))
        elif name == "currency":
            if not isinstance(value[name], str) or not re.fullmatch(r"[A-Z]{3}", value[name]):
                problems.append(Problem(ErrorKind.INVALID, f"{where}.currency", "must be an ISO 4217 code (EUR)"))
        elif not _is_number(value[name]):
            problems.append(Problem(ErrorKind.INVALID, f"{where}.{name}", "must be a number"))
    amount = value.get("amount")
    if not _is_number(amount):
        return Decimal(0)
    amount = Decimal(amount)
    if amount < 0:
        problems.append(Problem(ErrorKind.INVALID, f"{where}.amount", "must not be negative"))
    elif amount.as_tuple().exponent < -minor_units and amount != amount.quantize(Decimal(1).scaleb(-minor_units)):
        problems.append(Problem(ErrorKind.INVALID, f"{where}.amount", f"has more than {minor_units} decimals"))
    elif amount.adjusted() >= AMOUNT_INTEGER_DIGITS_MAX:
        problems.append(Problem(ErrorKind.INVALID, f"{where}.amount", "is too large"))
    return amount


def _given(side: Mapping[str, Any]) -> Given:
    """A side checked by `_side`, as given in its currency."""
    return Given(side["currency"], Decimal(side["currencyAmount"]), Decimal(side["currencyRate"]))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and Decimal(value).is_finite()


def one_value(lines: Sequence[Line], attribute: str, label: str) -> tuple[Any, list[Problem]]:
    """The value every line shares (its date, its journal): a document books as one transaction."""
    values = sorted({getattr(line, attribute) for line in lines}, key=str)
    if len(values) > 1:
        shown = ", ".join(str(value) for value in values[:5])
        return None, [Problem(ErrorKind.CONFLICT, "entries", f"the lines have several {label}s ({shown}); "
                                                             f"a document books as one transaction of one {label}")]
    return values[0], []


# -- money in another currency (docs/decisions/0028, "OneConnect") ----------------------------

def currency_problems(lines: Sequence[Line], own_currency: str) -> list[Problem]:
    """What each side that posts says in its currency, against its amount in the book's (every
    problem at once, under the side's JSON path). In another currency than the book's: a current
    ISO 4217 currency, a rate the book may keep (domain/rates.py), a `currencyAmount` not negative
    with no more decimals than its currency has. In the book's own currency: a rate of 1 (one euro is
    one euro: a line that says otherwise contradicts itself). Either way `amount` is `currencyAmount`
    x `currencyRate` to within one minor unit of the book's currency: the partner may round the
    product its own way, but a line further off than that says two different amounts."""
    unit = smallest_unit(own_currency)
    problems = []
    for index, line in enumerate(lines):
        for way, amount, given in posted_sides(line):
            if given is not None:
                problems.extend(_given_problems(amount, given, own_currency, unit,
                                                f"entries.data.lines[{index}].{way}"))
    return problems


def _given_problems(amount: Decimal, given: Given, own_currency: str, unit: Decimal, where: str) -> list[Problem]:
    problems = _own_rate_problems(given, own_currency, where) if given.currency == own_currency \
        else _foreign_problems(given, where)
    if problems:
        return problems
    product = given.amount * given.rate
    if abs(amount - product) > unit:
        return [Problem(ErrorKind.INVALID, f"{where}.amount",
                        f"{plain(amount)} {own_currency} is not currencyAmount x currencyRate ({plain(given.amount)} "
                        f"{given.currency} x {plain(given.rate)} = {round_minor(product, unit)} "
                        f"{own_currency}), to within {plain(unit)}")]
    return []


def _own_rate_problems(given: Given, own_currency: str, where: str) -> list[Problem]:
    if given.rate == 1:
        return []
    return [Problem(ErrorKind.INVALID, f"{where}.currencyRate",
                    f"{own_currency} is the book's currency: its rate is 1, not {plain(given.rate)}")]


def _foreign_problems(given: Given, where: str) -> list[Problem]:
    if not is_currency(given.currency):
        return [Problem(ErrorKind.INVALID, f"{where}.currency", not_a_currency(given.currency))]
    problems = [Problem(ErrorKind.INVALID, f"{where}.currencyRate", message) for _, message in rate_problems(given.rate)]
    places = minor_units(given.currency)
    if given.amount < 0:
        problems.append(Problem(ErrorKind.INVALID, f"{where}.currencyAmount", "must not be negative"))
    elif not within_bounds(given.amount):
        problems.append(Problem(ErrorKind.INVALID, f"{where}.currencyAmount", TOO_LARGE))
    elif given.amount != round_minor(given.amount, smallest_unit(given.currency)):
        problems.append(Problem(ErrorKind.INVALID, f"{where}.currencyAmount",
                                f"has more than {places} decimals ({given.currency})"))
    return problems


def foreign(given: Given | None, own_currency: str) -> Given | None:
    """The side as given when it is money in another currency than the book's; None otherwise."""
    return given if given is not None and given.currency != own_currency else None


def carried_rates(lines: Sequence[Line], own_currency: str) -> dict[str, Decimal]:
    """The rate the lines carry for each currency other than the book's they post in: the first line's,
    in the order of the lines, when several give one currency."""
    found: dict[str, Decimal] = {}
    for line in lines:
        for _, _, given in posted_sides(line):
            if foreign(given, own_currency) is not None:
                found.setdefault(given.currency, given.rate)
    return found


def one_foreign_currency(lines: Sequence[Line], own_currency: str) -> str | None:
    """The currency every side that posts is given in, when it is one currency and not the book's."""
    currencies = {given.currency if given is not None else own_currency
                  for line in lines for _, _, given in posted_sides(line)}
    return currencies.pop() if len(currencies) == 1 and own_currency not in currencies else None


def as_given(lines: Sequence[Line]) -> list[Line]:
    """The lines with their amounts as given in their currency (`currencyAmount`), for the invoice they
    describe in that currency (`invoice_amounts`); a side that posts nothing stays 0."""
    def given_amount(amount: Decimal, given: Given | None) -> Decimal:
        return given.amount if amount and given is not None else Decimal(0)
    return [replace(line, debit=given_amount(line.debit, line.debit_given),
                    credit=given_amount(line.credit, line.credit_given)) for line in lines]


PIECE_NUMBER_MAX = 64  # the longest piece number a transaction has


def supplier_invoice_number(lines: Sequence[Line]) -> str | None:
    """The supplier's invoice number the lines of a purchase carry: the one `documentReference` they
    give, else the one `reference` they share; None when they name several, or one too long to be a
    piece number (docs/decisions/0022)."""
    for attribute in ("document_reference", "reference"):
        values = {getattr(line, attribute) for line in lines} - {""}
        if len(values) == 1 and len(number := values.pop()) <= PIECE_NUMBER_MAX:
            return number
    return None


def piece_number(kind: str, lines: Sequence[Line], external_reference: str | None, document_id: str) -> str:
    """The number a document's transaction (and a purchase's vendor reference) takes: a purchase's is
    its supplier's invoice number; otherwise, and when the lines name none, the partner's
    externalReference, else the documentId."""
    supplier = supplier_invoice_number(lines) if kind == PURCHASE else None
    return supplier or external_reference or document_id


# -- the chart ---------------------------------------------------------------------------------

def significant(number: str) -> str:
    """An account number without its padding zeros: 40100000, 401000 and 401 are one account."""
    return number.rstrip("0") or "0"


def matching_account(number: str, accounts: Iterable[Any]) -> Any | None:
    """The chart's account for a number: the same number, else the one that is equal but for the
    padding zeros (the lowest id when several are)."""
    accounts = list(accounts)
    exact = next((account for account in accounts if account.number == number), None)
    if exact is not None:
        return exact
    wanted = significant(number)
    return min((account for account in accounts if significant(account.number) == wanted),
               key=lambda account: account.id, default=None)


def family_for(number: str, accounts: Iterable[Any]) -> Any | None:
    """The family account a new account of this number belongs under: the family whose number
    (without padding zeros) is the longest prefix of it (60610000 goes under 6 in the PCG)."""
    wanted = significant(number)
    families = [account for account in accounts
                if account.is_family and wanted.startswith(significant(account.number))]
    return max(families, key=lambda account: (len(significant(account.number)), -account.id), default=None)


# -- the invoice the entries describe (docs/decisions/0015) ------------------------------------

# Where an invoice's third party and its VAT are booked: accounts of these roles in the chart, and on
# the French chart (partners' charts are longer than ours) every account numbered 40 (vendors), 41
# (customers) or 445 (VAT).
PARTY_ROLES = {SALES: charts.RECEIVABLE, PURCHASE: charts.PAYABLE}
FRENCH_CHART = charts.FRENCH_CHART
FRENCH_PARTY_PREFIXES = {SALES: "41", PURCHASE: "40"}
FRENCH_TAX_PREFIX = "445"


@dataclass(frozen=True)
class InvoiceAmounts:
    """What the entries of a document say its invoice amounts to, in the document's direction."""

    credit: bool  # the entries run the other way (the customer credited): a credit note of its side
    total: Decimal  # what the third party owes, or is owed; never negative
    tax: Decimal
    due_on: date | None

    @property
    def base(self) -> Decimal:
        return self.total - self.tax


def is_party_account(account: Any, kind: str, chart: str) -> bool:
    """The account holds the document's third party: receivable for a sale, payable for a purchase."""
    return account.role == PARTY_ROLES[kind] or (
        chart == FRENCH_CHART and account.number.startswith(FRENCH_PARTY_PREFIXES[kind]))


def is_tax_account(account: Any, chart: str) -> bool:
    """The chart's tax accounts, those of each rate among them (charts.tax_role)."""
    return charts.is_tax_role(account.role) or (chart == FRENCH_CHART and account.number.startswith(FRENCH_TAX_PREFIX))


def invoice_amounts(lines: Sequence[Line], kind: str, accounts: Mapping[str, Any], chart: str) -> InvoiceAmounts:
    """The total is what the lines on the third party's account say (a sale debits the customer, a
    purchase credits the vendor); with no such line, the transaction's amount (its debits). The VAT is
    what the tax accounts' lines say, in the same direction; none when no line is on one. A total
    that comes out negative makes the document a credit note, with both amounts turned positive.
    `accounts` maps each line's account number to the book's account (its number and role)."""
    def towards(line: Line) -> Decimal:  # positive in the direction of an invoice of this kind
        return line.debit - line.credit if kind == SALES else line.credit - line.debit

    on_party = [is_party_account(accounts[line.account], kind, chart) for line in lines]
    party = [line for line, is_party in zip(lines, on_party) if is_party]
    taxed = [line for line, is_party in zip(lines, on_party)
             if not is_party and is_tax_account(accounts[line.account], chart)]
    total = sum(map(towards, party), Decimal(0)) if party else sum((line.debit for line in lines), Decimal(0))
    tax = -sum(map(towards, taxed), Decimal(0))
    due_on = next((line.due_on for line in (*party, *lines) if line.due_on), None)
    if total < 0:
        return InvoiceAmounts(True, -total, -tax, due_on)
    return InvoiceAmounts(False, total, tax, due_on)


def invoice_rate(lines: Sequence[Line], kind: str, accounts: Mapping[str, Any], chart: str) -> Decimal | None:
    """The rate of the invoice the lines describe in another currency (`one_foreign_currency`): that of
    the first line on its third party's account, the receivable or payable a payment settles at the
    invoice's rate (docs/decisions/0028), else of the first line that posts."""
    party = [line for line in lines if is_party_account(accounts[line.account], kind, chart)]
    return next((given.rate for line in (*party, *lines) for _, _, given in posted_sides(line) if given is not None),
                None)
