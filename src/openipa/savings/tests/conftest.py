"""The small IPA with shared savings terms for 2026, a distribution formula, a second finance user and paid
claims: member A (practice Alder) $2,000.00, member B (practice Birch) $4,000.00, paid by a run of 15 March
2027; a $500.00 claim of member B paid on 15 April 2027 comes after the cut-off of 31 March 2027.

By hand: 24 member-months x $500.00 = benchmark $12,000.00; cost $6,000.00; savings $6,000.00 (50%); MSR 2%
met; first dollar x 50% = $3,000.00 earned; the cap of 10% of the benchmark ($1,200.00) binds: $1,200.00
shared. Off the top 10% reserve ($120.00) and 5% fee ($60.00): $1,020.00 distributable; member-months pool
60% = $612.00 (12:12, $306.00 each); efficiency 40% = $408.00 by 1,200,000 x 12 - cost x 24: Alder 9,600,000,
Birch 4,800,000, so $272.00 and $136.00. Alder $578.00, Birch $442.00."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.claims.models import Claim, ClaimImport, ClaimLine, ClaimPaymentRun
from openipa.core.roles import Role
from openipa.savings import services

YEAR_START = dt.date(2026, 1, 1)
CUTOFF = dt.date(2027, 3, 31)


def paid_claim(ipa: Any, member: Any, on: dt.date, cents: int, paid_on: dt.date) -> ClaimLine:
    source = ClaimImport.objects.first() or ClaimImport.objects.create(
        file_name="t.837", sha256="0" * 64, format="x12", status="applied", received_on=on, imported_by="t"
    )
    run = ClaimPaymentRun.objects.filter(payment_date=paid_on).first() or ClaimPaymentRun.objects.create(
        status="paid", through=paid_on, payment_date=paid_on, prepared_by="x"
    )
    claim = Claim.objects.create(
        source=source, kind="professional", patient_control_number=f"P{Claim.objects.count()}", member=member,
        member_key=member.payer_member_id, billing_npi="1912301953", service_from=on, service_to=on, received_on=on,
        charge_cents=cents, place_of_service="11",
    )  # fmt: skip
    return ClaimLine.objects.create(claim=claim, number=1, code="99214", units=1, charge_cents=cents, service_from=on,
                                    service_to=on, paid_cents=cents, payment_run_id=run.pk)  # fmt: skip


TERM = {
    "kind": "payer", "name": "Sunrise shared savings 2026", "benchmark_basis": "pmpm", "benchmark_amount": "500.00",
    "msr_source": "fixed", "msr_percent": "2", "first_dollar": True, "sharing_percent": "50",
    "savings_cap_percent": "10", "two_sided": True, "mlr_percent": "2", "loss_sharing_percent": "40",
    "loss_cap_percent": "5", "ibnr_completion": False, "valid_from": YEAR_START, "valid_to": dt.date(2026, 12, 31),
}  # fmt: skip
FORMULA = {
    "name": "standard", "reserve_percent": "10", "admin_fee_percent": "5", "valid_from": YEAR_START,
    "pools": [{"key": "member_months", "percent": "60"}, {"key": "efficiency", "percent": "40"}],
}  # fmt: skip


@pytest.fixture
def ss(small_ipa: Any) -> Any:
    small_ipa.users["fin2"] = user_create(actor=None, username="fin2", password="x" * 12, role=Role.FINANCE)
    fin = small_ipa.users["fin"]
    small_ipa.savings_term = services.term_create(fin, contract=small_ipa.contract, data=TERM)
    small_ipa.formula = services.formula_create(fin, data=FORMULA)
    paid_claim(small_ipa, small_ipa.member_a, dt.date(2026, 3, 10), 200_000, dt.date(2027, 3, 15))
    paid_claim(small_ipa, small_ipa.member_b, dt.date(2026, 6, 10), 400_000, dt.date(2027, 3, 15))
    paid_claim(small_ipa, small_ipa.member_b, dt.date(2026, 12, 10), 50_000, dt.date(2027, 4, 15))
    return small_ipa
