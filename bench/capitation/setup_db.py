"""Prepare a database for the capitation benchmark, after bench/eligibility/setup_db.py and the roster import
of the same 834 (neither timed): a rate table ($300.00 PMPM for every product, age and sex), a distribution rule,
each practice's participation agreement and bank account, a specialist practice, and two finance logins.

    python bench/capitation/setup_db.py
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openipa.config.settings")

RATE = "300.00"
START = dt.date(2000, 1, 1)


def main() -> None:
    import django

    django.setup()
    from openipa.accounts.services import user_create
    from openipa.capitation.models import DistributionRule
    from openipa.contracts.models import Contract, ContractTerm, RateCell
    from openipa.core.roles import Role
    from openipa.network.models import Affiliation, ParticipationAgreement, Practice, Provider, Region

    contract = Contract.objects.get(number="BENCH-1")
    term = ContractTerm.objects.get(contract=contract)
    term.admin_fee_percent = "12.000"
    term.reinsurance_pmpm = "3.50"
    term.withhold_percent = "10.000"
    term.save()
    RateCell.objects.bulk_create(
        RateCell(term=term, product=p, age_min=0, age_max=120, sex="U", pmpm=RATE)
        for p in contract.products.all()
    )
    DistributionRule.objects.create(contract=contract, valid_from=START, pcp_method="flat", pcp_pmpm="150.00",
                                    risk_pool_percent="2.000", specialist_percent="5.000", quality_percent="3.000")  # fmt: skip
    specialist_practice = Practice.objects.create(
        code="SPEC", legal_name="Benchmark Specialists", tin="129999999", address_line1="2 Main St",
        city="Pasadena", state="CA", zip_code="91101", region=Region.objects.get(code="BENCH"),
    )  # fmt: skip
    cardiologist = Provider.objects.create(npi="1003000126", first_name="Cy", last_name="Cardio", degree="MD",
                                           taxonomy_code="207RC0000X", specialty="Cardiology", kind="specialist")  # fmt: skip
    Affiliation.objects.create(provider=cardiologist, practice=specialist_practice, valid_from=START)
    for practice in Practice.objects.all():
        practice.bank_routing_number = "121000358"
        practice.bank_account_number = f"{practice.pk:09d}"
        practice.save()
        ParticipationAgreement.objects.create(practice=practice, valid_from=START, admin_fee_percent="10.000")
    user_create(actor=None, username="bench-fin", password="bench-only-password-1", role=Role.FINANCE)
    user_create(actor=None, username="bench-fin2", password="bench-only-password-1", role=Role.FINANCE)
    print(
        f"capitation: {Practice.objects.count()} practices, rate {RATE}, rule {DistributionRule.objects.get().pk}"
    )


if __name__ == "__main__":
    main()
