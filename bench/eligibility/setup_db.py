"""Prepare a fresh OpenIPA database for the import benchmark: `python bench/eligibility/setup_db.py FILE`.

Reads the 834 once (not timed) for its plan codes and PCP NPIs, then creates payer BENCH with those products,
a contract with a 6-month retro window, one practice per 500 PCPs and the PCPs themselves with affiliations,
so the timed import resolves every plan and assigns every PCP, as a real one would.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openipa.config.settings")


def main(path: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from openipa.accounts.services import user_create
    from openipa.contracts.services import contract_create, payer_create, product_create, term_create
    from openipa.core.roles import Role
    from openipa.edi.t834 import MemberRecord, read_834
    from openipa.network.services import affiliation_create, practice_create, provider_create, region_create

    call_command("migrate", interactive=False, verbosity=0)
    plans: set[str] = set()
    npis: set[str] = set()
    for item in read_834(path):
        if isinstance(item, MemberRecord):
            plans.update(c.plan_description for c in item.coverage if c.plan_description)
            npis.update(p.npi for p in item.pcp if p.npi)
    admin = user_create(
        actor=None, username="bench-admin", password="bench-only-password-1", role=Role.IPA_ADMIN
    )
    region = region_create(actor=admin, code="BENCH", name="Benchmark region")
    payer = payer_create(actor=admin, data={"name": "Benchmark Health Plan", "code": "BENCH"})
    products = [
        product_create(
            actor=admin, payer=payer, code=code, name=f"Plan {code}", line_of_business="medicare_advantage"
        )
        for code in sorted(plans)
    ]
    start = dt.date(2000, 1, 1)
    contract = contract_create(
        actor=admin,
        data={"payer": payer, "number": "BENCH-1", "name": "Benchmark capitation", "legal_basis": "capitated_risk",
              "valid_from": start},
        products=products,
    )  # fmt: skip
    term_create(actor=admin, contract=contract, data={"valid_from": start, "capitation_basis": "pmpm_table",
                                                      "retro_window_months": 6})  # fmt: skip
    practice = None
    for i, npi in enumerate(sorted(npis)):
        if i % 500 == 0:
            practice = practice_create(
                actor=admin,
                data={"code": f"P{i // 500:04d}", "legal_name": f"Practice {i // 500}", "tin": f"{12_000_0000 + i // 500:09d}",
                      "address_line1": "1 Main St", "city": "Pasadena", "state": "CA", "zip_code": "91101",
                      "region": region},
            )  # fmt: skip
        provider = provider_create(
            actor=admin,
            data={"npi": npi, "first_name": "Pat", "last_name": f"Doctor{i}", "degree": "MD",
                  "taxonomy_code": "207Q00000X", "specialty": "Family Medicine", "kind": "pcp"},
        )  # fmt: skip
        assert practice is not None
        affiliation_create(actor=admin, provider=provider, practice=practice, valid_from=start)
    print(f"payer BENCH: {len(products)} products, {len(npis)} PCPs")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
