"""The French Plan Comptable Général as reference data (src/comptoir/domain/pcg.py): names and natures
by the longest standard account that prefixes a number, and the accounts whose place on the balance
sheet follows the sign of their balance. Pure: no server, no database. The expected names are the
plan's (règlement ANC n° 2014-03, consolidated at 1 January 2026); the natures are argued in
docs/decisions/0020-account-natures.md."""

from __future__ import annotations

import pytest

from comptoir.domain import charts, pcg
from comptoir.domain.charts import ASSET, EQUITY, EXPENSE, INCOME, LIABILITY


@pytest.mark.parametrize(("number", "name"), [
    ("60610000", "Fournitures non stockables (eau, énergie, etc.)"),  # 6061, its padding zeros aside
    ("445620", "TVA sur immobilisations"),  # 44562
    ("44566000", "TVA sur autres biens et services"),
    ("44571", "TVA collectée"),
    ("4455", "Taxes sur le chiffre d'affaires à décaisser"),
    ("44567", "Crédit de TVA à reporter"),
    ("401000", "Fournisseurs"),
    ("4011", "Fournisseurs - Achats de biens et prestations de services"),
    ("411000", "Clients"),
    ("421000", "Personnel - Rémunérations dues"),
    ("431000", "Sécurité sociale"),
    ("4386", "Autres charges à payer"),
    ("455000", "Associés - Comptes courants"),
    ("471000", "Comptes d'attente"),
    ("512000", "Banques"),
    ("5121", "Comptes en euros"),
    ("530", "Caisse"),  # 53: the plan has no 530, the zero is padding
    ("580000", "Virements internes"),
    ("606300", "Fournitures d'entretien et de petit équipement"),
    ("622600", "Honoraires"),
    ("6251", "Voyages et déplacements"),
    ("6278", "Autres frais et commissions sur prestations de services"),
    ("641100", "Salaires, appointements"),
    ("6451", "Cotisations à l'Urssaf"),
    ("706100", "Prestations de services"),  # 706 has no standard subdivision 7061
    ("707000", "Ventes de marchandises"),
    # An account of the plan whose own number ends in zero is that account, not its parent padded.
    ("10", "Capital et réserves"),
    ("1200000", "Résultat de l'exercice - bénéfice"),
    ("280", "Amortissements des immobilisations incorporelles et des frais d'établissement"),
    ("7", "Comptes de produits"),
])
def test_the_name_is_the_longest_standard_account_that_prefixes_the_number(number, name):
    assert pcg.name_for(number) == name


@pytest.mark.parametrize("number", ["", "  ", "8", "88000", "9100", "ABC", "0401"])
def test_numbers_outside_classes_1_to_7_have_no_standard_name_or_nature(number):
    assert pcg.name_for(number) is None
    assert pcg.nature_for(number) is None
    assert pcg.is_mixed(number) is False


@pytest.mark.parametrize(("number", "nature"), [
    # Class 1: equity (capital, reserves, results, grants, regulated provisions)...
    ("101000", EQUITY), ("106100", EQUITY), ("110000", EQUITY), ("119000", EQUITY), ("120000", EQUITY),
    ("129000", EQUITY), ("131000", EQUITY), ("145000", EQUITY),
    # ... and "other equity" (fonds non remboursables, avances conditionnées), not debts...
    ("167100", EQUITY),
    # ... except provisions, borrowings and debts, and what the balance sheet puts on the assets side.
    ("151100", LIABILITY), ("164000", LIABILITY), ("165000", LIABILITY), ("171000", LIABILITY),
    ("181000", LIABILITY), ("109000", ASSET), ("169000", ASSET),
    # Classes 2 and 3, and their depreciation and amortisation, deducted from them: assets.
    ("218300", ASSET), ("281830", ASSET), ("291000", ASSET), ("370000", ASSET), ("397000", ASSET),
    ("229000", EQUITY),  # droits du concédant, shown among "autres fonds propres"
    # Class 4 by what each account records.
    ("401000", LIABILITY), ("404000", LIABILITY), ("408000", LIABILITY), ("409100", ASSET),
    ("411000", ASSET), ("416000", ASSET), ("418100", ASSET), ("419100", LIABILITY),
    ("421000", LIABILITY), ("425000", ASSET), ("428200", LIABILITY),
    ("431000", LIABILITY), ("437000", LIABILITY), ("438600", LIABILITY), ("439000", ASSET),
    ("441000", ASSET), ("442100", LIABILITY), ("444000", LIABILITY),
    ("445200", LIABILITY), ("445510", LIABILITY), ("445620", ASSET), ("445660", ASSET), ("445670", ASSET),
    ("445710", LIABILITY), ("445810", ASSET), ("445860", ASSET), ("445870", LIABILITY),
    ("447000", LIABILITY), ("448100", LIABILITY), ("448200", ASSET),
    ("455000", LIABILITY), ("456200", ASSET), ("457000", LIABILITY),
    ("462000", ASSET), ("464000", LIABILITY), ("467000", ASSET), ("468000", LIABILITY),
    ("471000", ASSET), ("476000", ASSET), ("477000", LIABILITY),
    ("486000", ASSET), ("487000", LIABILITY), ("491000", ASSET),
    # Class 5: assets, but for the bank overdrafts of 519.
    ("503000", ASSET), ("512000", ASSET), ("512100", ASSET), ("519000", LIABILITY), ("530000", ASSET),
    ("590000", ASSET),
    # Classes 6 and 7, their rebates (609, 709) and stock variations (603, 713) included.
    ("606100", EXPENSE), ("603700", EXPENSE), ("609000", EXPENSE), ("641100", EXPENSE), ("695000", EXPENSE),
    ("706000", INCOME), ("709000", INCOME), ("713500", INCOME), ("781100", INCOME),
])
def test_the_nature_follows_the_plan(number, nature):
    assert pcg.nature_for(number) == nature


@pytest.mark.parametrize("number", [
    "401000", "409100", "411000", "419100", "421000", "431000", "444000", "445510", "445660", "445670",
    "445710", "451000", "455000", "467000", "471000", "512000", "5121", "512100",
])
def test_third_party_accounts_and_banks_are_mixed(number):
    assert pcg.is_mixed(number) is True


@pytest.mark.parametrize("number", [
    "101000", "164000", "218300", "281830", "370000", "486000", "487000", "491000", "503000", "530000",
    "580000", "606100", "706000",
])
def test_other_accounts_keep_their_side(number):
    assert pcg.is_mixed(number) is False


def test_every_standard_account_has_a_name_within_the_column_and_a_nature():
    for account in pcg.ACCOUNTS:
        assert account.number.isdigit() and account.number[0] in "1234567", account
        assert 0 < len(account.name) <= 128, account  # accounts.name is 128 characters
        assert account.nature in charts.NATURES, account
    numbers = [account.number for account in pcg.ACCOUNTS]
    assert len(numbers) == len(set(numbers))


def test_every_two_and_three_digit_account_of_classes_1_to_7_is_there():
    numbers = {account.number for account in pcg.ACCOUNTS}
    assert {"1", "2", "3", "4", "5", "6", "7"} <= numbers
    for two in ("10", "16", "21", "28", "37", "40", "44", "47", "51", "53", "58", "60", "64", "70", "78"):
        assert two in numbers, two
    for three in ("101", "164", "218", "281", "401", "409", "411", "419", "421", "431", "437", "444", "445",
                  "455", "467", "471", "512", "519", "606", "613", "622", "626", "627", "641", "645", "706"):
        assert three in numbers, three


def test_the_french_chart_and_its_on_demand_accounts_agree_with_the_plan():
    """PCG_CHART's natures are the plan's (families aside: they group and take no entries), but for
    444700, tax withheld at source from us, a claim on the State filed under 444 (corporate tax due)."""
    for spec in charts.PCG_CHART + charts.ON_DEMAND["pcg"]:
        if spec.is_family or spec.number == "444700":
            continue
        assert spec.nature == pcg.nature_for(spec.number), spec
