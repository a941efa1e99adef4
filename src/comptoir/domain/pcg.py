"""The French Plan Comptable Général as reference data: the standard accounts, their names and natures.

Source: règlement ANC n° 2014-03 relatif au plan comptable général, consolidated at 1 January 2026
(the plan as amended by règlement ANC n° 2022-06), book IV, title XI "Plan de comptes" for the list and
title XII "Fonctionnement des comptes" for what each account records; taken from the listing of
https://github.com/arrhes/PCG (versions/2026), which replicates the ANC's text. Kept: every account of
one to three digits of classes 1 to 7, and the subdivisions a small business uses whose name stands
on its own (4456x and 4457x, 6061, 6226, 6411, ...; not "Principal" or "Divers"). Names are the
plan's, with its instructions left out ("(même ventilation que celle du compte 211)", "Achats (sauf
603)" is "Achats"; the accounts the plan only describes, 36, 38, 608, 672 and 772, are named by that
description) and with plain apostrophes and hyphens.

A company's account number extends a standard one (401000, 40100000 and 401FOURN are all 401), and a
zero to the right of a standard number is padding (article 1131-2): the standard account of a number
is the longest one that prefixes it. 60610000 is 6061, as the plan has no 60610; 1200000 is 120
itself (a standard account whose number ends in zero) and 10 is "Capital et réserves", not class 1.

The nature of each account says where the reports put it, by what the plan says it records:

- class 1 is equity (capital, reserves, report à nouveau, the year's result, investment grants,
  regulated provisions, and the "autres fonds propres" 167 of the balance sheet model, article 821-1),
  but for provisions (15), borrowings and debts (16, 17) and liaison accounts (18), which are
  liabilities, and for 109 (capital subscribed, not called) and 169 (premiums on the redemption of
  loans), which the model puts among the assets;
- classes 2, 3 and 5 are assets, their amortisation and depreciation (28, 29, 39, 59) included: the
  model deducts them from the assets they concern; 229 "Droits du concédant" is shown among the
  "autres fonds propres", and 519 "Concours bancaires courants" is a debt;
- class 4 by account: what the entity owes is a liability (40, 419, 42, 43, 4457, 4455...), what it
  is owed an asset (409, 41, 425, 439, 441, 4456...), and the accruals of 48 by their side;
- class 6 is expense and class 7 income, their rebates (609, 709) and stock variations (603, 713)
  included: they correct the accounts they sit beside.

Mixed accounts (`is_mixed`): the balance sheet shows a debit balance among the assets and a credit
balance among the liabilities, whatever the account's nature, because the plan forbids netting claims
and debts (article 1215-51 for banks: "Aucune compensation ne peut être opérée entre les comptes à
solde créditeur et les comptes à solde débiteur"). They are:

- 40 and 41, suppliers and customers: a supplier's account with a debit balance (an overpayment, a
  credit note to receive) is a claim, moved to 4097 "Fournisseurs - Autres avoirs" (article 1214-40);
  a customer's with a credit balance is a debt (419 "Clients créditeurs"; article 1131-4 II, a final 9
  records the opposite side);
- 42 and 43, personnel and social bodies: debts (421, 431) beside claims (425 advances to staff, 439
  benefits to receive) in one family (articles 1214-42 and 1214-43);
- 44, the State: deductible VAT (4456) is a claim on the Treasury, collected VAT (4457) a debt to it
  (article 1214-44); 4455 is the VAT due for the period, 44567 a VAT credit carried forward; 444 is
  credited with the corporate tax due and debited with instalments, which may exceed it;
- 45, group and associates: 451 records funds advanced to group companies on its debit and funds
  received from them on its credit (article 1214-45), 455 an associate's current account;
- 46, sundry debtors and creditors: "Les opérations dont le solde peut être indifféremment soit
  débiteur, soit créditeur" go to 467 or 468 (article 1214-46);
- 47, suspense accounts: their balances are reclassified among the balance sheet's items at the
  year end (article 1214-47);
- 488, periodic allocation of expenses and income, which records both (article 1214-48);
- 51, banks: an account of 512 with a credit balance is an overdraft, among "Emprunts et dettes
  auprès des établissements de crédit" of the liabilities, the others "Disponibilités" (articles
  1215-51 and 821-1);
- 521, forward financial instruments, an item of both sides of the model (article 821-1).

53 "Caisse" is not mixed: its balance "est soit débiteur soit nul" (article 1215-53). The reports
decide from these rules; this module holds them as data and small functions, with no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from comptoir.domain.charts import ASSET, EQUITY, EXPENSE, INCOME, LIABILITY


@dataclass(frozen=True)
class StandardAccount:
    number: str
    name: str
    nature: str


_CLASS_1 = [
    ("1", "Comptes de capitaux", EQUITY),
    ("10", "Capital et réserves", EQUITY),
    ("101", "Capital", EQUITY),
    ("1011", "Capital souscrit - non appelé", EQUITY),
    ("1012", "Capital souscrit - appelé, non versé", EQUITY),
    ("1013", "Capital souscrit - appelé, versé", EQUITY),
    ("1018", "Capital souscrit soumis à des réglementations particulières", EQUITY),
    ("102", "Fonds fiduciaires", EQUITY),
    ("104", "Primes liées au capital", EQUITY),
    ("1041", "Primes d'émission", EQUITY),
    ("1042", "Primes de fusion", EQUITY),
    ("1043", "Primes d'apport", EQUITY),
    ("105", "Écarts de réévaluation", EQUITY),
    ("106", "Réserves", EQUITY),
    ("1061", "Réserve légale", EQUITY),
    ("1062", "Réserves indisponibles", EQUITY),
    ("1063", "Réserves statutaires ou contractuelles", EQUITY),
    ("1064", "Réserves réglementées", EQUITY),
    ("1068", "Autres réserves", EQUITY),
    ("107", "Écart d'équivalence", EQUITY),
    ("108", "Compte de l'exploitant", EQUITY),
    ("109", "Actionnaires : capital souscrit - non appelé", ASSET),
    ("11", "Report à nouveau", EQUITY),
    ("110", "Report à nouveau - solde créditeur", EQUITY),
    ("119", "Report à nouveau - solde débiteur", EQUITY),
    ("12", "Résultat de l'exercice", EQUITY),
    ("120", "Résultat de l'exercice - bénéfice", EQUITY),
    ("1209", "Acomptes sur dividendes", EQUITY),
    ("129", "Résultat de l'exercice - perte", EQUITY),
    ("13", "Subventions d'investissement", EQUITY),
    ("131", "Subventions d'investissement octroyées", EQUITY),
    ("139", "Subventions d'investissement inscrites au compte de résultat", EQUITY),
    ("14", "Provisions réglementées", EQUITY),
    ("143", "Provisions réglementées pour hausse de prix", EQUITY),
    ("145", "Amortissements dérogatoires", EQUITY),
    ("148", "Autres provisions réglementées", EQUITY),
    ("15", "Provisions", LIABILITY),
    ("151", "Provisions pour risques", LIABILITY),
    ("1511", "Provisions pour litiges", LIABILITY),
    ("1512", "Provisions pour garanties données aux clients", LIABILITY),
    ("1515", "Provisions pour pertes de change", LIABILITY),
    ("1516", "Provisions pour pertes sur contrats", LIABILITY),
    ("1518", "Autres provisions pour risques", LIABILITY),
    ("152", "Provisions pour charges", LIABILITY),
    ("1521", "Provisions pour pensions et obligations similaires", LIABILITY),
    ("1523", "Provisions pour impôts", LIABILITY),
    ("1525", "Provisions pour gros entretien ou grandes révisions", LIABILITY),
    ("1527", "Autres provisions pour charges", LIABILITY),
    ("16", "Emprunts et dettes assimilées, fonds non remboursables et avances conditionnées", LIABILITY),
    ("161", "Emprunts obligataires convertibles", LIABILITY),
    ("162", "Obligations représentatives de passifs nets remis en fiducie", LIABILITY),
    ("163", "Autres emprunts obligataires", LIABILITY),
    ("164", "Emprunts auprès des établissements de crédit", LIABILITY),
    ("1648", "Intérêts courus sur emprunts auprès des établissements de crédit", LIABILITY),
    ("165", "Dépôts et cautionnements reçus", LIABILITY),
    ("166", "Participation des salariés aux résultats", LIABILITY),
    ("167", "Fonds non remboursables et avances conditionnées", EQUITY),
    ("1671", "Fonds non remboursables montant principal", EQUITY),
    ("1673", "Avances conditionnées montant principal", EQUITY),
    ("1674", "Avances conditionnées intérêts courus", EQUITY),
    ("168", "Autres emprunts et dettes assimilées", LIABILITY),
    ("1681", "Autres emprunts", LIABILITY),
    ("1682", "Emprunts participatifs", LIABILITY),
    ("1687", "Autres dettes", LIABILITY),
    ("1688", "Intérêts courus sur autres emprunts et dettes assimilées", LIABILITY),
    ("169", "Primes de remboursement des emprunts", ASSET),
    ("17", "Dettes rattachées à des participations", LIABILITY),
    ("171", "Dettes rattachées à des participations - groupe", LIABILITY),
    ("174", "Dettes rattachées à des participations - hors groupe", LIABILITY),
    ("178", "Dettes rattachées à des sociétés en participation", LIABILITY),
    ("18", "Comptes de liaison des établissements et sociétés en participation", LIABILITY),
    ("181", "Comptes de liaison des établissements", LIABILITY),
    ("186", "Biens et prestations de services échangés entre établissements - charges", LIABILITY),
    ("187", "Biens et prestations de services échangés entre établissements - produits", LIABILITY),
    ("188", "Comptes de liaison des sociétés en participation", LIABILITY),
]

_CLASS_2 = [
    ("2", "Comptes d'immobilisations", ASSET),
    ("20", "Immobilisations incorporelles et frais d'établissement", ASSET),
    ("201", "Frais d'établissement", ASSET),
    ("203", "Frais de développement", ASSET),
    ("205", ("Concessions et droits similaires, brevets, licences, marques, procédés, "
             "solutions informatiques, droits et valeurs similaires"), ASSET),
    ("206", "Droit au bail", ASSET),
    ("207", "Fonds commercial", ASSET),
    ("208", "Autres immobilisations incorporelles", ASSET),
    ("21", "Immobilisations corporelles", ASSET),
    ("211", "Terrains", ASSET),
    ("212", "Agencements et aménagements de terrains", ASSET),
    ("213", "Constructions", ASSET),
    ("2131", "Bâtiments", ASSET),
    ("2135", "Installations générales - agencements - aménagements des constructions", ASSET),
    ("214", "Constructions sur sol d'autrui", ASSET),
    ("215", "Installations techniques, matériels et outillages industriels", ASSET),
    ("2154", "Matériels industriels", ASSET),
    ("2155", "Outillages industriels", ASSET),
    ("218", "Autres immobilisations corporelles", ASSET),
    ("2181", "Installations générales, agencements, aménagements divers", ASSET),
    ("2182", "Matériel de transport", ASSET),
    ("2183", "Matériel de bureau et matériel informatique", ASSET),
    ("2184", "Mobilier", ASSET),
    ("22", "Immobilisations mises en concession", ASSET),
    ("229", "Droits du concédant", EQUITY),
    ("23", "Immobilisations en cours, avances et acomptes", ASSET),
    ("231", "Immobilisations corporelles en cours", ASSET),
    ("232", "Immobilisations incorporelles en cours", ASSET),
    ("237", "Avances et acomptes versés sur commandes d'immobilisations incorporelles", ASSET),
    ("238", "Avances et acomptes versés sur commandes d'immobilisations corporelles", ASSET),
    ("26", "Participations et créances rattachées à des participations", ASSET),
    ("261", "Titres de participation", ASSET),
    ("262", "Titres évalués par équivalence", ASSET),
    ("266", "Autres formes de participation", ASSET),
    ("267", "Créances rattachées à des participations", ASSET),
    ("268", "Créances rattachées à des sociétés en participation", ASSET),
    ("269", "Versements restant à effectuer sur titres de participation non libérés", ASSET),
    ("27", "Autres immobilisations financières", ASSET),
    ("271", ("Titres immobilisés autres que les titres immobilisés de l'activité de portefeuille "
             "(droit de propriété)"), ASSET),
    ("272", "Titres immobilisés (droit de créance)", ASSET),
    ("273", "Titres immobilisés de l'activité de portefeuille", ASSET),
    ("274", "Prêts", ASSET),
    ("275", "Dépôts et cautionnements versés", ASSET),
    ("276", "Autres créances immobilisées", ASSET),
    ("277", "Actions propres ou parts propres", ASSET),
    ("278", "Mali de fusion sur actifs financiers", ASSET),
    ("279", "Versements restant à effectuer sur titres immobilisés non libérés", ASSET),
    ("28", "Amortissements des immobilisations", ASSET),
    ("280", "Amortissements des immobilisations incorporelles et des frais d'établissement", ASSET),
    ("281", "Amortissements des immobilisations corporelles", ASSET),
    ("282", "Amortissements des immobilisations mises en concession", ASSET),
    ("29", "Dépréciations des immobilisations", ASSET),
    ("290", "Dépréciations des immobilisations incorporelles", ASSET),
    ("291", "Dépréciations des immobilisations corporelles", ASSET),
    ("292", "Dépréciations des immobilisations mises en concession", ASSET),
    ("293", "Dépréciations des immobilisations en cours", ASSET),
    ("296", "Dépréciations des participations et créances rattachées à des participations", ASSET),
    ("297", "Dépréciations des autres immobilisations financières", ASSET),
]

_CLASS_3 = [
    ("3", "Comptes de stocks et en-cours", ASSET),
    ("31", "Matières premières et fournitures", ASSET),
    ("32", "Autres approvisionnements", ASSET),
    ("321", "Matières consommables", ASSET),
    ("322", "Fournitures consommables", ASSET),
    ("326", "Emballages", ASSET),
    ("33", "En-cours de production de biens", ASSET),
    ("331", "Produits en cours", ASSET),
    ("335", "Travaux en cours", ASSET),
    ("34", "En-cours de production de services", ASSET),
    ("341", "Études en cours", ASSET),
    ("345", "Prestations de services en cours", ASSET),
    ("35", "Stocks de produits", ASSET),
    ("351", "Produits intermédiaires", ASSET),
    ("355", "Produits finis", ASSET),
    ("358", "Produits résiduels ou matières de récupération", ASSET),
    ("36", "Stocks provenant d'immobilisations", ASSET),
    ("37", "Stocks de marchandises", ASSET),
    ("38", "Stocks en voie d'acheminement, mis en dépôt ou donnés en consignation", ASSET),
    ("39", "Dépréciations des stocks et en-cours", ASSET),
    ("391", "Dépréciations des matières premières et fournitures", ASSET),
    ("392", "Dépréciations des autres approvisionnements", ASSET),
    ("393", "Dépréciations des en-cours de production de biens", ASSET),
    ("394", "Dépréciations des en-cours de production de services", ASSET),
    ("395", "Dépréciations des stocks de produits", ASSET),
    ("397", "Dépréciations des stocks de marchandises", ASSET),
]

_CLASS_4 = [
    ("4", "Comptes de tiers", LIABILITY),
    ("40", "Fournisseurs et comptes rattachés", LIABILITY),
    ("401", "Fournisseurs", LIABILITY),
    ("4011", "Fournisseurs - Achats de biens et prestations de services", LIABILITY),
    ("4017", "Fournisseurs - Retenues de garantie", LIABILITY),
    ("403", "Fournisseurs - Effets à payer", LIABILITY),
    ("404", "Fournisseurs d'immobilisations", LIABILITY),
    ("4041", "Fournisseurs - Achats d'immobilisations", LIABILITY),
    ("4047", "Fournisseurs d'immobilisations - Retenues de garantie", LIABILITY),
    ("405", "Fournisseurs d'immobilisations - Effets à payer", LIABILITY),
    ("408", "Fournisseurs - Factures non parvenues", LIABILITY),
    ("4088", "Fournisseurs - Intérêts courus", LIABILITY),
    ("409", "Fournisseurs débiteurs", ASSET),
    ("4091", "Fournisseurs - Avances et acomptes versés sur commandes", ASSET),
    ("4096", "Fournisseurs - Créances pour emballages et matériel à rendre", ASSET),
    ("4097", "Fournisseurs - Autres avoirs", ASSET),
    ("4098", "Rabais, remises, ristournes à obtenir et autres avoirs non encore reçus", ASSET),
    ("41", "Clients et comptes rattachés", ASSET),
    ("411", "Clients", ASSET),
    ("4111", "Clients - Ventes de biens ou de prestations de services", ASSET),
    ("4117", "Clients - Retenues de garantie", ASSET),
    ("413", "Clients - Effets à recevoir", ASSET),
    ("416", "Clients douteux ou litigieux", ASSET),
    ("418", "Clients - Produits non encore facturés", ASSET),
    ("4181", "Clients - Factures à établir", ASSET),
    ("4188", "Clients - Intérêts courus", ASSET),
    ("419", "Clients créditeurs", LIABILITY),
    ("4191", "Clients - Avances et acomptes reçus sur commandes", LIABILITY),
    ("4196", "Clients - Dettes sur emballages et matériels consignés", LIABILITY),
    ("4197", "Clients - Autres avoirs", LIABILITY),
    ("4198", "Rabais, remises, ristournes à accorder et autres avoirs à établir", LIABILITY),
    ("42", "Personnel et comptes rattachés", LIABILITY),
    ("421", "Personnel - Rémunérations dues", LIABILITY),
    ("422", "Comité social et économique", LIABILITY),
    ("424", "Participation des salariés aux résultats", LIABILITY),
    ("425", "Personnel - Avances et acomptes et autres comptes débiteurs", ASSET),
    ("426", "Personnel - Dépôts", LIABILITY),
    ("427", "Personnel - Oppositions", LIABILITY),
    ("428", "Personnel - Charges à payer", LIABILITY),
    ("4282", "Dettes provisionnées pour congés à payer", LIABILITY),
    ("4284", "Dettes provisionnées pour participation des salariés aux résultats", LIABILITY),
    ("4286", "Autres charges à payer", LIABILITY),
    ("43", "Sécurité sociale et autres organismes sociaux", LIABILITY),
    ("431", "Sécurité sociale", LIABILITY),
    ("437", "Autres organismes sociaux", LIABILITY),
    ("438", "Organismes sociaux - Charges à payer", LIABILITY),
    ("4382", "Charges sociales sur congés à payer", LIABILITY),
    ("4386", "Autres charges à payer", LIABILITY),
    ("439", "Organismes sociaux - Produits à recevoir", ASSET),
    ("44", "État et autres collectivités publiques", LIABILITY),
    ("441", "État - Subventions et aides à recevoir", ASSET),
    ("442", "Contributions, impôts et taxes recouvrés pour le compte de l'État", LIABILITY),
    ("4421", "Prélèvements à la source (Impôt sur le revenu)", LIABILITY),
    ("4422", "Prélèvements forfaitaires non libératoires", LIABILITY),
    ("4423", "Retenues et prélèvements sur les distributions", LIABILITY),
    ("444", "État - Impôts sur les bénéfices", LIABILITY),
    ("445", "État - Taxes sur le chiffre d'affaires", LIABILITY),
    ("4452", "TVA due intracommunautaire", LIABILITY),
    ("4455", "Taxes sur le chiffre d'affaires à décaisser", LIABILITY),
    ("44551", "TVA à décaisser", LIABILITY),
    ("44558", "Taxes assimilées à la TVA", LIABILITY),
    ("4456", "Taxes sur le chiffre d'affaires déductibles", ASSET),
    ("44562", "TVA sur immobilisations", ASSET),
    ("44563", "TVA transférée par d'autres entités", ASSET),
    ("44566", "TVA sur autres biens et services", ASSET),
    ("44567", "Crédit de TVA à reporter", ASSET),
    ("44568", "Taxes assimilées à la TVA", ASSET),
    ("4457", "Taxes sur le chiffre d'affaires collectées", LIABILITY),
    ("44571", "TVA collectée", LIABILITY),
    ("44578", "Taxes assimilées à la TVA", LIABILITY),
    ("4458", "Taxes sur le chiffre d'affaires à régulariser ou en attente", ASSET),
    ("44581", "Acomptes - Régime simplifié d'imposition", ASSET),
    ("44583", "Remboursement de taxes sur le chiffre d'affaires demandé", ASSET),
    ("44584", "TVA récupérée d'avance", ASSET),
    ("44586", "Taxes sur le chiffre d'affaires sur factures non parvenues", ASSET),
    ("44587", "Taxes sur le chiffre d'affaires sur factures à établir", LIABILITY),
    ("446", "Obligations cautionnées", LIABILITY),
    ("447", "Autres impôts, taxes et versements assimilés", LIABILITY),
    ("448", "État - Charges à payer et produits à recevoir", LIABILITY),
    ("4481", "État - Charges à payer", LIABILITY),
    ("4482", "État - Produits à recevoir", ASSET),
    ("449", "Quotas d'émission à acquérir", LIABILITY),
    ("45", "Groupe et associés", LIABILITY),
    ("451", "Groupe", LIABILITY),
    ("455", "Associés - Comptes courants", LIABILITY),
    ("456", "Associés - Opérations sur le capital", ASSET),
    ("4561", "Associés - Comptes d'apport en société", ASSET),
    ("4562", "Apporteurs - Capital appelé, non versé", ASSET),
    ("4563", "Associés - Versements reçus sur augmentation de capital", LIABILITY),
    ("4564", "Associés - Versements anticipés", LIABILITY),
    ("4566", "Actionnaires défaillants", ASSET),
    ("4567", "Associés - Capital à rembourser", LIABILITY),
    ("457", "Associés - Dividendes à payer", LIABILITY),
    ("458", "Associés - Opérations faites en commun et en GIE", LIABILITY),
    ("46", "Débiteurs divers et créditeurs divers", ASSET),
    ("462", "Créances sur cessions d'immobilisations", ASSET),
    ("464", "Dettes sur acquisitions de valeurs mobilières de placement", LIABILITY),
    ("465", "Créances sur cessions de valeurs mobilières de placement", ASSET),
    ("467", "Divers comptes débiteurs et produits à recevoir", ASSET),
    ("468", "Divers comptes créditeurs et charges à payer", LIABILITY),
    ("47", "Comptes transitoires ou d'attente", ASSET),
    ("471", "Comptes d'attente", ASSET),
    ("472", "Comptes d'attente", ASSET),
    ("473", "Comptes d'attente", ASSET),
    ("474", "Différences d'évaluation - Actif", ASSET),
    ("475", "Différences d'évaluation - Passif", LIABILITY),
    ("476", "Différence de conversion - Actif", ASSET),
    ("477", "Différences de conversion - Passif", LIABILITY),
    ("478", "Autres comptes transitoires", ASSET),
    ("48", "Comptes de régularisation", ASSET),
    ("481", "Frais d'émission des emprunts", ASSET),
    ("486", "Charges constatées d'avance", ASSET),
    ("487", "Produits constatés d'avance", LIABILITY),
    ("488", "Comptes de répartition périodique des charges et des produits", ASSET),
    ("49", "Dépréciations des comptes de tiers", ASSET),
    ("491", "Dépréciations des comptes de clients", ASSET),
    ("495", "Dépréciations des comptes du groupe et des associés", ASSET),
    ("496", "Dépréciations des comptes de débiteurs divers", ASSET),
]

_CLASS_5 = [
    ("5", "Comptes financiers", ASSET),
    ("50", "Valeurs mobilières de placement", ASSET),
    ("502", "Actions propres", ASSET),
    ("503", "Actions", ASSET),
    ("504", "Autres titres conférant un droit de propriété", ASSET),
    ("505", "Obligations et bons émis par la société et rachetés par elle", ASSET),
    ("506", "Obligations", ASSET),
    ("507", "Bons du Trésor et bons de caisse à court terme", ASSET),
    ("508", "Autres valeurs mobilières de placement et autres créances assimilées", ASSET),
    ("509", "Versements restant à effectuer sur valeurs mobilières de placement non libérées", ASSET),
    ("51", "Banques, établissements financiers et assimilés", ASSET),
    ("511", "Valeurs à l'encaissement", ASSET),
    ("5111", "Coupons échus à l'encaissement", ASSET),
    ("5112", "Chèques à encaisser", ASSET),
    ("5113", "Effets à l'encaissement", ASSET),
    ("5114", "Effets à l'escompte", ASSET),
    ("512", "Banques", ASSET),
    ("5121", "Comptes en euros", ASSET),
    ("5124", "Comptes en devises", ASSET),
    ("517", "Autres organismes financiers", ASSET),
    ("518", "Intérêts courus", ASSET),
    ("5181", "Intérêts courus à payer", LIABILITY),
    ("5188", "Intérêts courus à recevoir", ASSET),
    ("519", "Concours bancaires courants", LIABILITY),
    ("5191", "Crédit de mobilisation de créances commerciales", LIABILITY),
    ("5193", "Mobilisation de créances nées à l'étranger", LIABILITY),
    ("5198", "Intérêts courus sur concours bancaires courants", LIABILITY),
    ("52", "Instruments financiers à terme et jetons détenus", ASSET),
    ("521", "Instruments financiers à terme", ASSET),
    ("522", "Jetons détenus", ASSET),
    ("523", "Jetons auto-détenus", ASSET),
    ("524", "Jetons empruntés", ASSET),
    ("53", "Caisse", ASSET),
    ("58", "Virements internes", ASSET),
    ("59", "Dépréciations des comptes financiers", ASSET),
    ("590", "Dépréciations des valeurs mobilières de placement", ASSET),
]

_CLASS_6 = [
    ("6", "Comptes de charges", EXPENSE),
    ("60", "Achats", EXPENSE),
    ("601", "Achats stockés - Matières premières et fournitures", EXPENSE),
    ("602", "Achats stockés - Autres approvisionnements", EXPENSE),
    ("6021", "Matières consommables", EXPENSE),
    ("6022", "Fournitures consommables", EXPENSE),
    ("6026", "Emballages", EXPENSE),
    ("603", "Variation des stocks d'approvisionnements et de marchandises", EXPENSE),
    ("6031", "Variation des stocks de matières premières et fournitures", EXPENSE),
    ("6032", "Variation des stocks des autres approvisionnements", EXPENSE),
    ("6037", "Variation des stocks de marchandises", EXPENSE),
    ("604", "Achats d'études et prestations de services", EXPENSE),
    ("605", "Achats de matériel, équipements et travaux", EXPENSE),
    ("606", "Achats non stockés de matière et fournitures", EXPENSE),
    ("6061", "Fournitures non stockables (eau, énergie, etc.)", EXPENSE),
    ("6063", "Fournitures d'entretien et de petit équipement", EXPENSE),
    ("6064", "Fournitures administratives", EXPENSE),
    ("6068", "Autres matières et fournitures", EXPENSE),
    ("607", "Achats de marchandises", EXPENSE),
    ("608", "Frais accessoires incorporés aux achats", EXPENSE),
    ("609", "Rabais, remises et ristournes obtenus sur achats", EXPENSE),
    ("61", "Services extérieurs", EXPENSE),
    ("611", "Sous-traitance générale", EXPENSE),
    ("612", "Redevances de crédit-bail", EXPENSE),
    ("6122", "Crédit-bail mobilier", EXPENSE),
    ("6125", "Crédit-bail immobilier", EXPENSE),
    ("613", "Locations", EXPENSE),
    ("6132", "Locations immobilières", EXPENSE),
    ("6135", "Locations mobilières", EXPENSE),
    ("614", "Charges locatives et de copropriété", EXPENSE),
    ("615", "Entretien et réparation", EXPENSE),
    ("6152", "Entretien et réparation sur biens immobiliers", EXPENSE),
    ("6155", "Entretien et réparation sur biens mobiliers", EXPENSE),
    ("6156", "Maintenance", EXPENSE),
    ("616", "Primes d'assurances", EXPENSE),
    ("617", "Études et recherches", EXPENSE),
    ("618", "Divers", EXPENSE),
    ("6181", "Documentation générale", EXPENSE),
    ("6183", "Documentation technique", EXPENSE),
    ("6185", "Frais de colloques, séminaires, conférences", EXPENSE),
    ("619", "Rabais, remises et ristournes obtenus sur services extérieurs", EXPENSE),
    ("62", "Autres services extérieurs", EXPENSE),
    ("621", "Personnel extérieur à l'entité", EXPENSE),
    ("6211", "Personnel intérimaire", EXPENSE),
    ("6214", "Personnel détaché ou prêté à l'entité", EXPENSE),
    ("622", "Rémunérations d'intermédiaires et honoraires", EXPENSE),
    ("6221", "Commissions et courtages sur achats", EXPENSE),
    ("6222", "Commissions et courtages sur ventes", EXPENSE),
    ("6224", "Rémunérations des transitaires", EXPENSE),
    ("6225", "Rémunérations d'affacturage", EXPENSE),
    ("6226", "Honoraires", EXPENSE),
    ("6227", "Frais d'actes et de contentieux", EXPENSE),
    ("623", "Publicité, publications, relations publiques", EXPENSE),
    ("6231", "Annonces et insertions", EXPENSE),
    ("6232", "Échantillons", EXPENSE),
    ("6233", "Foires et expositions", EXPENSE),
    ("6234", "Cadeaux à la clientèle", EXPENSE),
    ("6235", "Primes", EXPENSE),
    ("6236", "Catalogues et imprimés", EXPENSE),
    ("6237", "Publications", EXPENSE),
    ("6238", "Divers (pourboires, dons courants)", EXPENSE),
    ("624", "Transports de biens et transports collectifs du personnel", EXPENSE),
    ("6241", "Transports sur achats", EXPENSE),
    ("6242", "Transports sur ventes", EXPENSE),
    ("6243", "Transports entre établissements ou chantiers", EXPENSE),
    ("6244", "Transports administratifs", EXPENSE),
    ("6247", "Transports collectifs du personnel", EXPENSE),
    ("625", "Déplacements, missions et réceptions", EXPENSE),
    ("6251", "Voyages et déplacements", EXPENSE),
    ("6255", "Frais de déménagement", EXPENSE),
    ("6256", "Missions", EXPENSE),
    ("6257", "Réceptions", EXPENSE),
    ("626", "Frais postaux et de télécommunications", EXPENSE),
    ("627", "Services bancaires et assimilés", EXPENSE),
    ("6271", "Frais sur titres (achat, vente, garde)", EXPENSE),
    ("6272", "Commissions et frais sur émission d'emprunts", EXPENSE),
    ("6275", "Frais sur effets", EXPENSE),
    ("6276", "Location de coffres", EXPENSE),
    ("6278", "Autres frais et commissions sur prestations de services", EXPENSE),
    ("628", "Divers", EXPENSE),
    ("6281", "Concours divers (cotisations)", EXPENSE),
    ("6284", "Frais de recrutement de personnel", EXPENSE),
    ("629", "Rabais, remises et ristournes obtenus sur autres services extérieurs", EXPENSE),
    ("63", "Impôts, taxes et versements assimilés", EXPENSE),
    ("631", "Impôts, taxes et versements assimilés sur rémunérations (administrations des impôts)", EXPENSE),
    ("6311", "Taxe sur les salaires", EXPENSE),
    ("633", "Impôts, taxes et versements assimilés sur rémunérations (autres organismes)", EXPENSE),
    ("6331", "Versement de transport", EXPENSE),
    ("6333", "Contribution unique des employeurs à la formation professionnelle", EXPENSE),
    ("6334", "Participation des employeurs à l'effort de construction", EXPENSE),
    ("635", "Autres impôts, taxes et versements assimilés (administrations des impôts)", EXPENSE),
    ("6351", "Impôts directs (sauf impôts sur les bénéfices)", EXPENSE),
    ("63511", "Contribution économique territoriale", EXPENSE),
    ("63512", "Taxes foncières", EXPENSE),
    ("63513", "Autres impôts locaux", EXPENSE),
    ("63514", "Taxe sur les véhicules des sociétés", EXPENSE),
    ("6352", "Taxe sur le chiffre d'affaires non récupérables", EXPENSE),
    ("6353", "Impôts indirects", EXPENSE),
    ("6354", "Droits d'enregistrement et de timbre", EXPENSE),
    ("637", "Autres impôts, taxes et versements assimilés (autres organismes)", EXPENSE),
    ("638", "Rappel d'impôts (autres qu'impôts sur les bénéfices)", EXPENSE),
    ("64", "Charges de personnel", EXPENSE),
    ("641", "Rémunérations du personnel", EXPENSE),
    ("6411", "Salaires, appointements", EXPENSE),
    ("6412", "Congés payés", EXPENSE),
    ("6413", "Primes et gratifications", EXPENSE),
    ("6414", "Indemnités et avantages divers", EXPENSE),
    ("6415", "Supplément familial", EXPENSE),
    ("644", "Rémunération du travail de l'exploitant", EXPENSE),
    ("645", "Cotisations de sécurité sociale et de prévoyance", EXPENSE),
    ("6451", "Cotisations à l'Urssaf", EXPENSE),
    ("6452", "Cotisations aux mutuelles", EXPENSE),
    ("6453", "Cotisations aux caisses de retraites", EXPENSE),
    ("6454", "Cotisations à Pôle emploi", EXPENSE),
    ("6458", "Cotisations aux autres organismes sociaux", EXPENSE),
    ("646", "Cotisations sociales personnelles de l'exploitant", EXPENSE),
    ("647", "Autres cotisations sociales", EXPENSE),
    ("6475", "Médecine du travail, pharmacie", EXPENSE),
    ("648", "Autres charges de personnel", EXPENSE),
    ("649", "Remboursements de charges de personnel", EXPENSE),
    ("65", "Autres charges de gestion courante", EXPENSE),
    ("651", ("Redevances pour concessions, brevets, licences, marques, procédés, solutions informatiques, "
             "droits et valeurs similaires"), EXPENSE),
    ("653", "Rémunérations de l'activité des administrateurs et des gérants", EXPENSE),
    ("654", "Pertes sur créances irrécouvrables", EXPENSE),
    ("655", "Quote-part de résultat sur opérations faites en commun", EXPENSE),
    ("656", "Pertes de change sur créances et dettes commerciales", EXPENSE),
    ("657", "Valeurs comptables des immobilisations incorporelles et corporelles cédées", EXPENSE),
    ("658", "Pénalités et autres charges", EXPENSE),
    ("6581", "Pénalités sur marchés (et dédits payés sur achats et ventes)", EXPENSE),
    ("6582", "Pénalités, amendes fiscales et pénales", EXPENSE),
    ("66", "Charges financières", EXPENSE),
    ("661", "Charges d'intérêts", EXPENSE),
    ("6611", "Intérêts des emprunts et dettes", EXPENSE),
    ("6615", "Intérêts des comptes courants et des dépôts créditeurs", EXPENSE),
    ("6616", "Intérêts bancaires et sur opérations de financement (escompte...)", EXPENSE),
    ("6618", "Intérêts des autres dettes", EXPENSE),
    ("664", "Pertes sur créances liées à des participations", EXPENSE),
    ("665", "Escomptes accordés", EXPENSE),
    ("666", "Pertes de change financières", EXPENSE),
    ("667", "Charges sur cession d'éléments financiers", EXPENSE),
    ("668", "Autres charges financières", EXPENSE),
    ("67", "Charges exceptionnelles", EXPENSE),
    ("672", "Charges sur exercices antérieurs", EXPENSE),
    ("678", "Autres charges exceptionnelles", EXPENSE),
    ("68", "Dotations aux amortissements, aux dépréciations et aux provisions", EXPENSE),
    ("681", ("Dotations aux amortissements, aux dépréciations et aux provisions (à inscrire dans les charges "
             "d'exploitation)"), EXPENSE),
    ("6811", "Dotations aux amortissements sur immobilisations incorporelles et corporelles", EXPENSE),
    ("6815", "Dotations aux provisions d'exploitation", EXPENSE),
    ("6816", "Dotations pour dépréciations des immobilisations incorporelles et corporelles", EXPENSE),
    ("6817", "Dotations pour dépréciations des actifs circulants", EXPENSE),
    ("686", ("Dotations aux amortissements, aux dépréciations et aux provisions (à inscrire dans les charges "
             "financières)"), EXPENSE),
    ("687", ("Dotations aux amortissements, aux dépréciations et aux provisions (à inscrire dans les charges "
             "exceptionnelles)"), EXPENSE),
    ("69", "Participation des salariés - Impôts sur les bénéfices et assimilés", EXPENSE),
    ("691", "Participation des salariés aux résultats", EXPENSE),
    ("695", "Impôts sur les bénéfices", EXPENSE),
    ("696", "Suppléments d'impôt sur les sociétés liés aux distributions", EXPENSE),
    ("698", "Intégration fiscale", EXPENSE),
    ("699", "Produits - Reports en arrière des déficits", EXPENSE),
]

_CLASS_7 = [
    ("7", "Comptes de produits", INCOME),
    ("70", "Ventes de produits fabriqués, prestations de services, marchandises", INCOME),
    ("701", "Ventes de produits finis", INCOME),
    ("702", "Ventes de produits intermédiaires", INCOME),
    ("703", "Ventes de produits résiduels", INCOME),
    ("704", "Travaux", INCOME),
    ("705", "Études", INCOME),
    ("706", "Prestations de services", INCOME),
    ("707", "Ventes de marchandises", INCOME),
    ("708", "Produits des activités annexes", INCOME),
    ("7081", "Produits des services exploités dans l'intérêt du personnel", INCOME),
    ("7082", "Commissions et courtages", INCOME),
    ("7083", "Locations diverses", INCOME),
    ("7084", "Mise à disposition de personnel facturée", INCOME),
    ("7085", "Ports et frais accessoires facturés", INCOME),
    ("7088", "Autres produits d'activités annexes (cessions d'approvisionnements)", INCOME),
    ("709", "Rabais, remises et ristournes accordés", INCOME),
    ("7091", "Rabais, remises et ristournes accordés sur ventes de produits finis", INCOME),
    ("7094", "Rabais, remises et ristournes accordés sur travaux", INCOME),
    ("7095", "Rabais, remises et ristournes accordés sur études", INCOME),
    ("7096", "Rabais, remises et ristournes accordés sur prestations de services", INCOME),
    ("7097", "Rabais, remises et ristournes accordés sur ventes de marchandises", INCOME),
    ("7098", "Rabais, remises et ristournes accordés sur produits des activités annexes", INCOME),
    ("71", "Production stockée (ou déstockage)", INCOME),
    ("713", "Variation des stocks des en-cours de production et de produits", INCOME),
    ("72", "Production immobilisée", INCOME),
    ("721", "Immobilisations incorporelles", INCOME),
    ("722", "Immobilisations corporelles", INCOME),
    ("74", "Subventions", INCOME),
    ("741", "Subventions d'exploitation", INCOME),
    ("742", "Subventions d'équilibre", INCOME),
    ("747", "Quote-part des subventions d'investissement virée au résultat de l'exercice", INCOME),
    ("75", "Autres produits de gestion courante", INCOME),
    ("751", ("Redevances pour concessions, brevets, licences, marques, procédés, solutions informatiques, "
             "droits et valeurs similaires"), INCOME),
    ("752", "Revenus des immeubles non affectés à des activités professionnelles", INCOME),
    ("753", "Rémunérations de l'activité des administrateurs et des gérants", INCOME),
    ("754", "Ristournes perçues des coopératives provenant des excédents", INCOME),
    ("755", "Quote-part de résultat sur opérations faites en commun", INCOME),
    ("756", "Gains de change sur créances et dettes commerciales", INCOME),
    ("757", "Produits des cessions d'immobilisations incorporelles et corporelles", INCOME),
    ("758", "Indemnités et autres produits", INCOME),
    ("76", "Produits financiers", INCOME),
    ("761", "Produits de participations", INCOME),
    ("762", "Produits des autres immobilisations financières", INCOME),
    ("763", "Revenus des autres créances", INCOME),
    ("764", "Revenus des valeurs mobilières de placement", INCOME),
    ("765", "Escomptes obtenus", INCOME),
    ("766", "Gains de change financiers", INCOME),
    ("767", "Produits sur cession d'éléments financiers", INCOME),
    ("768", "Autres produits financiers", INCOME),
    ("77", "Produits exceptionnels", INCOME),
    ("772", "Produits sur exercices antérieurs", INCOME),
    ("778", "Autres produits exceptionnels", INCOME),
    ("78", "Reprises sur amortissements, dépréciations et provisions", INCOME),
    ("781", ("Reprises sur amortissements, dépréciations et provisions (à inscrire dans les produits "
             "d'exploitation)"), INCOME),
    ("786", "Reprises sur dépréciations et provisions (à inscrire dans les produits financiers)", INCOME),
    ("787", "Reprises sur dépréciations et provisions (à inscrire dans les produits exceptionnels)", INCOME),
]

_CLASSES = (_CLASS_1, _CLASS_2, _CLASS_3, _CLASS_4, _CLASS_5, _CLASS_6, _CLASS_7)
ACCOUNTS = tuple(StandardAccount(*row) for rows in _CLASSES for row in rows)

# The accounts, and those their numbers prefix, whose balance sheet side is the sign of their balance.
MIXED = ("40", "41", "42", "43", "44", "45", "46", "47", "488", "51", "521")

_BY_NUMBER = {account.number: account for account in ACCOUNTS}
_LONGEST = max(len(number) for number in _BY_NUMBER)


def standard_account(number: str) -> StandardAccount | None:
    """The longest standard account whose number prefixes this one (a padding zero is not a digit
    of its own: 60610000 is 6061); None for a number outside classes 1 to 7."""
    wanted = number.strip()
    for length in range(min(len(wanted), _LONGEST), 0, -1):
        found = _BY_NUMBER.get(wanted[:length])
        if found is not None:
            return found
    return None


def name_for(number: str) -> str | None:
    """The plan's name for an account of this number: its standard account's."""
    account = standard_account(number)
    return account.name if account else None


def nature_for(number: str) -> str | None:
    """The nature the plan gives an account of this number: its standard account's."""
    account = standard_account(number)
    return account.nature if account else None


def is_mixed(number: str) -> bool:
    """Whether the balance sheet puts this account by the sign of its balance: a debit balance among
    the assets, a credit balance among the liabilities (the module's docstring says which and why)."""
    wanted = number.strip()
    return any(wanted.startswith(prefix) for prefix in MIXED)
