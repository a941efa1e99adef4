"""Charts of accounts an organization can start from, and its default journals.

Each account is (number, name, nature, role, parent number). `role` names the accounts posting rules
need (receivable, income, tax payable, ...); `nature` decides where an account shows in reports. An
account created later takes its nature by the chart's rules: on the French chart the plan's for its
number (domain/pcg.py), else its family's (docs/decisions/0020-account-natures.md).
Rows with a role of "family" are family accounts: they group others and take no entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import plain

ASSET, LIABILITY, EQUITY, INCOME, EXPENSE = "asset", "liability", "equity", "income", "expense"
NATURES = (ASSET, LIABILITY, EQUITY, INCOME, EXPENSE)
DEBIT_NATURES = (ASSET, EXPENSE)  # natures whose balance is normally on the debit side

# Roles the posting rules look up.
RECEIVABLE = "receivable"
PAYABLE = "payable"
INCOME_ROLE = "income"
EXPENSE_ROLE = "expense"
TAX_PAYABLE = "tax_payable"
TAX_RECEIVABLE = "tax_receivable"
UNDEPOSITED = "undeposited_funds"
BANK_FAMILY = "bank_family"
SUSPENSE = "bank_suspense"
RETAINED_EARNINGS = "retained_earnings"  # earlier years' results carried forward (a credit: profits)
RETAINED_LOSSES = "retained_losses"  # the same when it is a debit, on charts that keep it apart (PCG 119)
YEAR_PROFIT = "year_profit"  # the result of the year, on charts that have an account for it (PCG 120)
YEAR_LOSS = "year_loss"  # (PCG 129)
FAMILY = "family"
# Roles of purchase documents and paysheets (docs/decisions/0013), created on first use.
RETENTION_RECEIVABLE = "retention_receivable"  # income tax our customers withheld from us
RETENTION_PAYABLE = "retention_payable"  # income tax we withheld from vendors and employees
SALARIES = "salaries"
SOCIAL_SECURITY = "social_security"  # the company's social security contributions
SOCIAL_SECURITY_PAYABLE = "social_security_payable"
WAGES_PAYABLE = "wages_payable"  # net pay owed to employees, apart from suppliers (docs/decisions/0022)
# Roles of money in other currencies (issue 18, docs/currencies.md), created on first use: the realised
# gain or loss of a settlement at another rate than its invoice's, the unrealised one of a revaluation
# (`comptoir revalue`), and the rounding difference of a conversion.
EXCHANGE_GAIN, EXCHANGE_LOSS = "exchange_gain", "exchange_loss"
UNREALIZED_GAIN, UNREALIZED_LOSS = "unrealized_exchange_gain", "unrealized_exchange_loss"
ROUNDING_GAIN, ROUNDING_LOSS = "rounding_gain", "rounding_loss"


@dataclass(frozen=True)
class AccountSpec:
    number: str
    name: str
    nature: str
    role: str | None = None
    parent: str | None = None

    @property
    def is_family(self) -> bool:
        return self.role in (FAMILY, BANK_FAMILY)


DEFAULT_CHART = [
    AccountSpec("10000", "Assets", ASSET, FAMILY),
    AccountSpec("10100", "Cash and Bank", ASSET, BANK_FAMILY, "10000"),
    AccountSpec("10500", "Undeposited Funds", ASSET, UNDEPOSITED, "10000"),
    AccountSpec("10900", "Bank Suspense", ASSET, SUSPENSE, "10000"),
    AccountSpec("11000", "Receivables", ASSET, FAMILY, "10000"),
    AccountSpec("11100", "Accounts Receivable - Trade", ASSET, RECEIVABLE, "11000"),
    AccountSpec("12000", "Sales Tax Receivable", ASSET, TAX_RECEIVABLE, "10000"),
    AccountSpec("20000", "Liabilities", LIABILITY, FAMILY),
    AccountSpec("20100", "Accounts Payable", LIABILITY, PAYABLE, "20000"),
    AccountSpec("21100", "Sales Tax Payable", LIABILITY, TAX_PAYABLE, "20000"),
    AccountSpec("30000", "Equity", EQUITY, FAMILY),
    AccountSpec("30100", "Owner's Equity", EQUITY, None, "30000"),
    AccountSpec("39000", "Retained Earnings", EQUITY, RETAINED_EARNINGS, "30000"),
    AccountSpec("40000", "Income", INCOME, FAMILY),
    AccountSpec("40100", "Sales - Services", INCOME, None, "40000"),
    AccountSpec("40150", "Sales - Miscellaneous", INCOME, INCOME_ROLE, "40000"),
    AccountSpec("40200", "Sales - Products", INCOME, None, "40000"),
    AccountSpec("50000", "Expenses", EXPENSE, FAMILY),
    AccountSpec("50100", "Purchases", EXPENSE, EXPENSE_ROLE, "50000"),
    AccountSpec("56100", "Freight Charges", EXPENSE, None, "50000"),
    AccountSpec("60100", "Rent", EXPENSE, None, "50000"),
    AccountSpec("62700", "Bank Charges", EXPENSE, None, "50000"),
]

# The French Plan Comptable Général, reduced to what an invoicing book needs. OneConnect entries
# use these numbers (401, 411, 445xx, 6xx, 7xx).
PCG_CHART = [
    AccountSpec("1", "Comptes de capitaux", EQUITY, FAMILY),
    AccountSpec("101000", "Capital", EQUITY, None, "1"),
    AccountSpec("110000", "Report à nouveau (solde créditeur)", EQUITY, RETAINED_EARNINGS, "1"),
    AccountSpec("119000", "Report à nouveau (solde débiteur)", EQUITY, RETAINED_LOSSES, "1"),
    AccountSpec("120000", "Résultat de l'exercice (bénéfice)", EQUITY, YEAR_PROFIT, "1"),
    AccountSpec("129000", "Résultat de l'exercice (perte)", EQUITY, YEAR_LOSS, "1"),
    AccountSpec("4", "Comptes de tiers", LIABILITY, FAMILY),
    AccountSpec("401000", "Fournisseurs", LIABILITY, PAYABLE, "4"),
    AccountSpec("411000", "Clients", ASSET, RECEIVABLE, "4"),
    AccountSpec("445660", "TVA déductible sur autres biens et services", ASSET, TAX_RECEIVABLE, "4"),
    AccountSpec("445710", "TVA collectée", LIABILITY, TAX_PAYABLE, "4"),
    AccountSpec("471000", "Compte d'attente", ASSET, SUSPENSE, "4"),
    AccountSpec("5", "Comptes financiers", ASSET, FAMILY),
    AccountSpec("511200", "Chèques à encaisser", ASSET, UNDEPOSITED, "5"),
    AccountSpec("512", "Banques", ASSET, BANK_FAMILY, "5"),
    AccountSpec("6", "Comptes de charges", EXPENSE, FAMILY),
    AccountSpec("601000", "Achats stockés - Matières premières", EXPENSE, None, "6"),
    AccountSpec("606000", "Achats non stockés de matières et fournitures", EXPENSE, EXPENSE_ROLE, "6"),
    AccountSpec("607000", "Achats de marchandises", EXPENSE, None, "6"),
    AccountSpec("613200", "Locations immobilières", EXPENSE, None, "6"),
    AccountSpec("622600", "Honoraires", EXPENSE, None, "6"),
    AccountSpec("626000", "Frais postaux et de télécommunications", EXPENSE, None, "6"),
    AccountSpec("627000", "Services bancaires et assimilés", EXPENSE, None, "6"),
    AccountSpec("7", "Comptes de produits", INCOME, FAMILY),
    AccountSpec("706000", "Prestations de services", INCOME, INCOME_ROLE, "7"),
    AccountSpec("707000", "Ventes de marchandises", INCOME, None, "7"),
]

DEFAULT, FRENCH_CHART = "default", "pcg"  # the charts an organization starts from (Organization.chart)
CHARTS = {DEFAULT: DEFAULT_CHART, FRENCH_CHART: PCG_CHART}


def carried_forward_role(chart: str, balance) -> str:
    """The account that receives earlier years' results (`balance`: debits minus credits, so a
    profit is negative). The PCG keeps a debit carry-forward apart (119, "solde débiteur"); the
    default chart has one Retained Earnings account either way."""
    return RETAINED_LOSSES if chart == FRENCH_CHART and balance > 0 else RETAINED_EARNINGS


def year_result_role(chart: str, balance) -> str | None:
    """The account that shows the year's result on the balance sheet (PCG 120 profit, 129 loss);
    None where the chart presents it as a line of its own (the default chart's "Net income")."""
    if chart != FRENCH_CHART:
        return None
    return YEAR_LOSS if balance > 0 else YEAR_PROFIT

# Accounts a chart gets the first time a posting rule needs them, so that books created before the
# rule existed need no migration of their chart.
ON_DEMAND = {
    DEFAULT: [
        AccountSpec("12100", "Income Tax Withheld by Customers", ASSET, RETENTION_RECEIVABLE, "10000"),
        AccountSpec("21200", "Income Tax Withholdings Payable", LIABILITY, RETENTION_PAYABLE, "20000"),
        AccountSpec("21300", "Social Security Payable", LIABILITY, SOCIAL_SECURITY_PAYABLE, "20000"),
        AccountSpec("21400", "Wages Payable", LIABILITY, WAGES_PAYABLE, "20000"),
        AccountSpec("64000", "Salaries and Wages", EXPENSE, SALARIES, "50000"),
        AccountSpec("64200", "Social Security - Company", EXPENSE, SOCIAL_SECURITY, "50000"),
        AccountSpec("40900", "Realized Exchange Gains", INCOME, EXCHANGE_GAIN, "40000"),
        AccountSpec("40910", "Unrealized Exchange Gains", INCOME, UNREALIZED_GAIN, "40000"),
        AccountSpec("40990", "Currency Rounding Gains", INCOME, ROUNDING_GAIN, "40000"),
        AccountSpec("62800", "Realized Exchange Losses", EXPENSE, EXCHANGE_LOSS, "50000"),
        AccountSpec("62810", "Unrealized Exchange Losses", EXPENSE, UNREALIZED_LOSS, "50000"),
        AccountSpec("62890", "Currency Rounding Losses", EXPENSE, ROUNDING_LOSS, "50000"),
    ],
    FRENCH_CHART: [
        AccountSpec("444700", "Retenues à la source subies", ASSET, RETENTION_RECEIVABLE, "4"),
        AccountSpec("442100", "Prélèvements à la source à reverser", LIABILITY, RETENTION_PAYABLE, "4"),
        AccountSpec("431000", "Sécurité sociale", LIABILITY, SOCIAL_SECURITY_PAYABLE, "4"),
        AccountSpec("421000", "Personnel - Rémunérations dues", LIABILITY, WAGES_PAYABLE, "4"),
        AccountSpec("641000", "Rémunérations du personnel", EXPENSE, SALARIES, "6"),
        AccountSpec("645000", "Charges de sécurité sociale", EXPENSE, SOCIAL_SECURITY, "6"),
        AccountSpec("766000", "Gains de change", INCOME, EXCHANGE_GAIN, "7"),
        AccountSpec("666000", "Pertes de change", EXPENSE, EXCHANGE_LOSS, "6"),
        # The PCG keeps unrealised differences on the balance sheet (art. 420-7): 476 for a loss,
        # 477 for a gain, reversed on the first day of the next period.
        AccountSpec("476000", "Différences de conversion - Actif", ASSET, UNREALIZED_LOSS, "4"),
        AccountSpec("477000", "Différences de conversion - Passif", LIABILITY, UNREALIZED_GAIN, "4"),
        AccountSpec("658000", "Charges diverses de gestion courante", EXPENSE, ROUNDING_LOSS, "6"),
        AccountSpec("758000", "Produits divers de gestion courante", INCOME, ROUNDING_GAIN, "7"),
    ],
}

# -- tax accounts per rate (docs/decisions/0023-tax-returns.md) ------------------------------------
# Tax collected on sales and tax deductible on purchases have an account per rate, created the first
# time a document posts at that rate (as ON_DEMAND): role "tax_payable:20" (collected at 20 %),
# "tax_receivable:5.5" (deductible at 5.5 %). The chart's TAX_PAYABLE and TAX_RECEIVABLE accounts stay:
# they hold the tax of earlier entries, and what posts at a rate the chart numbers no account for.
TAX_ROLES = (TAX_PAYABLE, TAX_RECEIVABLE)
_RATE_ROLE_SEPARATOR = ":"
# The PCG's sub-accounts of 44571 (TVA collectée) and 44566 (TVA déductible sur autres biens et
# services) end with one digit per French rate: 445711 collected at 20 %, 445661 deductible at 20 %.
PCG_RATE_DIGITS = {Decimal(20): "1", Decimal(10): "2", Decimal("5.5"): "3", Decimal("2.1"): "4",
                   Decimal("8.5"): "5", Decimal(13): "6", Decimal("0.9"): "7", Decimal("1.05"): "8",
                   Decimal("1.75"): "9"}
_PCG_TAX_PREFIXES = {TAX_PAYABLE: ("44571", "TVA collectée"), TAX_RECEIVABLE: ("44566", "TVA déductible")}


def rate_text(rate: Decimal) -> str:
    """A rate as roles and names write it: 20, 5.5, 8.25 (no trailing zeros)."""
    return str(plain(Decimal(rate)))


def tax_role(side: str, rate: Decimal) -> str:
    """The role of the account of tax at `rate` on `side` (TAX_PAYABLE: collected, TAX_RECEIVABLE:
    deductible)."""
    return f"{side}{_RATE_ROLE_SEPARATOR}{rate_text(rate)}"


def tax_side_and_rate(role: str | None) -> tuple[str, Decimal | None] | None:
    """The side and the rate of a tax account's role (the rate None for the chart's own tax accounts,
    which hold every rate); None for an account that is not a tax account."""
    if role in TAX_ROLES:
        return role, None
    side, separator, rate = (role or "").partition(_RATE_ROLE_SEPARATOR)
    if not separator or side not in TAX_ROLES:
        return None
    try:
        return side, Decimal(rate)
    except ArithmeticError:  # not a role tax_role wrote
        return None


def is_tax_role(role: str | None) -> bool:
    return tax_side_and_rate(role) is not None


# PCG accounts made by hand or by a partner (OneConnect's 44566000): their number says their side.
_PCG_TAX_SIDES = (("4457", TAX_PAYABLE), ("4456", TAX_RECEIVABLE))


def tax_side_of(chart: str, role: str | None, number: str) -> tuple[str, Decimal | None] | None:
    """The side and rate of an account's tax (`tax_side_and_rate`); on the PCG, an account without a
    role numbered 4457 holds tax collected and 4456 tax deductible, at no known rate."""
    found = tax_side_and_rate(role)
    if found is not None or chart != "pcg" or role is not None:
        return found
    return next(((side, None) for prefix, side in _PCG_TAX_SIDES if number.startswith(prefix)), None)


def tax_account_spec(chart: str, side: str, rate: Decimal) -> AccountSpec | None:
    """The account of the chart for tax at `rate` on `side`, as it is created on first use; None when
    the chart numbers none for that rate (its tax then posts to the chart's account of the side, the
    entries still carrying their rate and base). PCG: 44571x / 44566x for the French rates; the
    default chart: 21100-2000 / 12000-2000 for 20 %, the rate in hundredths on four digits (8.25 %:
    0825)."""
    own = next((spec for spec in CHARTS.get(chart, ()) if spec.role == side), None)
    if own is None or side not in TAX_ROLES:
        return None
    rate = plain(Decimal(rate))
    if chart == "pcg":
        digit = PCG_RATE_DIGITS.get(rate)
        if digit is None:
            return None
        prefix, name = _PCG_TAX_PREFIXES[side]
        return AccountSpec(prefix + digit, f"{name} {rate_text(rate).replace('.', ',')} %", own.nature,
                           tax_role(side, rate), own.parent)
    hundredths = rate * 100
    if not 0 < rate < 100 or hundredths != hundredths.to_integral_value():
        return None
    return AccountSpec(f"{own.number}-{int(hundredths):04d}", f"{own.name} {rate_text(rate)}%", own.nature,
                       tax_role(side, rate), own.parent)


# name, code, role. "Miscellaneous Operations" is the default journal of manual transactions.
JOURNALS = [
    ("Sales", "VT", "sales"),
    ("Purchases", "AC", "purchases"),
    ("Bank", "BQ", "bank"),
    ("Cash", "CA", "cash"),
    ("Miscellaneous Operations", "OD", "miscellaneous"),
]

PAYMENT_METHODS = ["Check", "Credit card", "Cash", "Bank transfer", "Direct debit", "PayPal", "Other"]
