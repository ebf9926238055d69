"""Prepare a database for the claims benchmark, after bench/eligibility/setup_db.py and the roster import of the
same 834 (neither timed): what the IPA needs to adjudicate and pay the generated 837's claims.

    python bench/claims/setup_db.py [--seed 7]

- fee schedules through the real loaders: a PPRRVU file in CMS's layout (the demo's made-up RVUs, plus made-up
  rows for the bench's codes the demo does not price: HCPCS level II drugs and visits, therapy, vaccines) and
  the demo's GPCI file, in force from 1 January 2026 (the file's CONV FACTOR column sets the conversion factor); the contract term pays
  100% of Medicare in Los Angeles, lesser of charge, 90 days' timely filing;
- the demo's service-category rules (and one for HCPCS level II codes) and its DOFR for the term; member
  cost shares per product (a specialist copay, behavioral coinsurance);
- a few code edits (E/M and venipuncture unit limits, two procedure-to-procedure pairs);
- California's prompt-pay interest rule for the products' line of business;
- the 837's 200 billing groups as practices (their TINs, a bank account, a participation agreement in force)
  and its 2,000 rendering doctors as network providers affiliated with them (PCPs or specialists by taxonomy);
- two finance users (bench-fin prepares payment runs, bench-fin2 approves them).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
if not __package__:
    sys.path.insert(0, str(ROOT))
    __package__ = "bench.claims"
    importlib.import_module(__package__)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openipa.config.settings")

from . import generate  # noqa: E402

START = dt.date(2000, 1, 1)
FEES_FROM = dt.date(2026, 1, 1)
HCPCS_LEVEL_II = "HCPCS level II services"
PCP_TAXONOMIES = ("207Q00000X", "208D00000X")
UNIT_LIMITS = (("99211", 1), ("99212", 1), ("99213", 1), ("99214", 1), ("99215", 1), ("36415", 2))
PAIRS = (("99213", "99211", 0), ("80053", "85025", 1))
"""Made-up pairs (not NCCI's): column 2 is not paid with column 1 on the same claim and day (0: never; 1:
unless a bypass modifier such as 59)."""


def rvu_file(path: Path, seed: int) -> Path:
    """The demo's PPRRVU file plus made-up global rows for the bench's codes it does not list: total RVUs of
    about 70% of the bench's charge for the code, split 50/45/5 between work, practice expense and malpractice."""
    from openipa.demo.engine import fees

    fees.write_rvu_file(path, seed)
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "HCPCS")
    at = {name: i for i, name in enumerate(rows[header])}
    listed = {row[0] for row in rows[header + 1 :] if row}
    cf_e4 = int(fees.CONVERSION_FACTOR * 10_000)
    with path.open("a", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream, lineterminator="\r\n")
        for code, charge in generate.FEES.items():
            if code in listed:
                continue
            total = charge * 70 * 10_000 // (cf_e4 * 100)  # hundredths of an RVU
            work, mp = total * 50 // 100, total * 5 // 100
            pe = total - work - mp
            facility_pe = pe * 6 // 10
            rvus = {"WORK RVU": work, "NON-FAC PE RVU": pe, "FACILITY PE RVU": facility_pe, "MP RVU": mp,
                    "NON-FACILITY TOTAL": work + pe + mp, "FACILITY TOTAL": work + facility_pe + mp}  # fmt: skip
            texts = {"HCPCS": code, "CODE STATUS": "A", "PCTC IND": "0", "GLOB DAYS": "XXX", "MULT PROC": "0",
                     "BILAT SURG": "0", "ASST SURG": "0", "CO-SURG": "0", "TEAM SURG": "0",
                     "CONV FACTOR": str(fees.CONVERSION_FACTOR)}  # fmt: skip
            texts.update({name: f"{v // 100}.{v % 100:02d}" for name, v in rvus.items()})
            row = [""] * len(rows[header])
            for name, text in texts.items():
                row[at[name]] = text
            out.writerow(row)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="the 837 generator's seed")
    args = parser.parse_args(argv)
    import django

    django.setup()
    from openipa.accounts.services import user_create
    from openipa.claims.models import InterestRule, ProcedurePairEdit, UnitLimit
    from openipa.contracts.models import Contract, ContractTerm, CostShare, DofrEntry, ServiceCategoryRule
    from openipa.contracts.services.fees import load_gpci_file, load_rvu_file
    from openipa.core.roles import Role
    from openipa.demo.engine import fees
    from openipa.network.models import Affiliation, ParticipationAgreement, Practice, Provider, Region

    contract = Contract.objects.get(number="BENCH-1")
    term = ContractTerm.objects.get(contract=contract)
    term.claims_locality = fees.DEFAULT_LOCALITY_ID
    term.claims_pricing = ContractTerm.ClaimsPricing.PERCENT_OF_MEDICARE
    term.claims_percent_of_medicare = Decimal("100.00")
    term.claims_lesser_of_charge = True
    term.timely_filing_days = 90
    term.save()
    with tempfile.TemporaryDirectory(prefix="openipa-bench-fees-") as tmp:
        load_rvu_file(actor=None, path=rvu_file(Path(tmp) / "PPRRVU_BENCH.csv", args.seed), valid_from=FEES_FROM,
                      who="bench")  # fmt: skip
        load_gpci_file(
            actor=None, path=fees.write_gpci_file(Path(tmp) / "GPCI_BENCH.csv"), valid_from=FEES_FROM
        )
    rules = [
        ServiceCategoryRule(category=r.category, priority=r.priority, code_from=r.code_from, code_to=r.code_to,
                            revenue_from=r.revenue_from, revenue_to=r.revenue_to, places_of_service=r.places,
                            provider_kind=r.provider_kind, emergency=r.emergency,
                            requires_authorization=r.requires_authorization, valid_from=START)
        for r in fees.SERVICE_CATEGORIES
    ]  # fmt: skip
    rules.append(ServiceCategoryRule(category=HCPCS_LEVEL_II, priority=150, code_from="A0000", code_to="V9999",
                                     valid_from=START))  # fmt: skip
    ServiceCategoryRule.objects.bulk_create(rules)
    dofr = {**fees.DOFR, HCPCS_LEVEL_II: fees.IPA}
    DofrEntry.objects.bulk_create(
        DofrEntry(term=term, service_category=category, responsible_party=party)
        for category, party in dofr.items()
    )
    products = list(contract.products.all())
    CostShare.objects.bulk_create(
        [CostShare(product=p, service_category=fees.SPECIALIST, copay=Decimal("15.00"), valid_from=START)
         for p in products]
        + [CostShare(product=p, service_category=fees.BEHAVIORAL, coinsurance_percent=Decimal("10.000"),
                     valid_from=START) for p in products]
    )  # fmt: skip
    UnitLimit.objects.bulk_create(
        UnitLimit(code=c, max_units=n, mai=1, valid_from=START) for c, n in UNIT_LIMITS
    )
    ProcedurePairEdit.objects.bulk_create(
        ProcedurePairEdit(column1=a, column2=b, modifier_indicator=m, valid_from=START) for a, b, m in PAIRS
    )
    for lob in {p.line_of_business for p in products}:
        InterestRule.objects.create(line_of_business=lob, limit_days=45, working_days=True, calendar_code="US-CA",
                                    annual_rate_percent=Decimal("15.000"), valid_from=START)  # fmt: skip
    groups, doctors = generate.panels(args.seed)
    region = Region.objects.get(code="BENCH")
    known_tins = set(Practice.objects.values_list("tin", flat=True))
    practices = []
    for n, group in enumerate(groups):
        if group.tin in known_tins:
            continue
        known_tins.add(group.tin)
        a = group.address
        assert a is not None
        practices.append(
            Practice(code=f"G{n:04d}", legal_name=group.name[:200], tin=group.tin,
                     address_line1=a.line1, city=a.city.title(), state=a.state, zip_code=a.zip[:5], region=region,
                     bank_routing_number="121000358", bank_account_number=f"{n + 1:09d}")
        )  # fmt: skip
    Practice.objects.bulk_create(practices)
    by_tin = dict(Practice.objects.filter(tin__in=[g.tin for g in groups]).values_list("tin", "pk"))
    ParticipationAgreement.objects.bulk_create(
        ParticipationAgreement(practice_id=pk, valid_from=START, status="active")
        for pk in set(by_tin.values())
    )
    known_npis = set(Provider.objects.values_list("npi", flat=True))
    new = []
    for doctor in doctors:
        if doctor.identifier in known_npis:
            continue
        known_npis.add(doctor.identifier)
        pcp = doctor.taxonomy in PCP_TAXONOMIES
        new.append(
            Provider(npi=doctor.identifier, first_name=doctor.first_name.title(), last_name=doctor.name.title(),
                     degree="MD", taxonomy_code=doctor.taxonomy, specialty="Family Medicine" if pcp else "Internal Medicine",
                     kind="pcp" if pcp else "specialist")
        )  # fmt: skip
    created = Provider.objects.bulk_create(new)
    Affiliation.objects.bulk_create(
        Affiliation(provider_id=p.pk, practice_id=by_tin[groups[i % len(groups)].tin], valid_from=START)
        for i, p in enumerate(
            Provider.objects.filter(npi__in=[d.identifier for d in doctors]).order_by("npi")
        )
    )
    user_create(actor=None, username="bench-fin", password="bench-only-password-1", role=Role.FINANCE)
    user_create(actor=None, username="bench-fin2", password="bench-only-password-1", role=Role.FINANCE)
    print(
        f"claims: {len(practices)} billing groups, {len(created)} rendering providers, {len(rules)} category rules, "
        f"{len(dofr)} DOFR entries, fee schedules from {FEES_FROM}"
    )


if __name__ == "__main__":
    main()
