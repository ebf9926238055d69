"""Fixtures of the capitation tests: the small IPA priced and ruled for distribution (see test_runs.py for the
hand-computed numbers of its May 2026)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.capitation.models import DistributionRule, ReceivedLine, RemittanceImport
from openipa.contracts.models import RateCell
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.network.models import ParticipationAgreement


@pytest.fixture
def ipa(small_ipa: Any) -> Any:
    for low, high, pmpm in ((65, 74, "300.00"), (75, 120, "350.00")):
        RateCell.objects.create(term=small_ipa.term, product=small_ipa.product, age_min=low, age_max=high,
                                sex="U", pmpm=pmpm)  # fmt: skip
    DistributionRule.objects.create(
        contract=small_ipa.contract, valid_from=dt.date(2026, 1, 1), pcp_method="flat", pcp_pmpm="200.00",
        risk_pool_percent="2.000", specialist_percent="5.000", quality_percent="3.000",
    )  # fmt: skip
    for practice, percent, pmpm in (
        (small_ipa.practice_a, "10.000", "0"),
        (small_ipa.practice_b, "8.000", "1.00"),
    ):
        ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2026, 1, 1),
                                              admin_fee_percent=percent, admin_fee_pmpm=pmpm)  # fmt: skip
    small_ipa.users["fin2"] = user_create(actor=None, username="fin2", password="x" * 12, role=Role.FINANCE)
    return small_ipa


def paid_month(ipa: Any, month: Month, name: str, cents: int = 35000) -> RemittanceImport:
    """An applied remittance paying ``cents`` for each of the small IPA's two members in ``month``."""
    imp = RemittanceImport.objects.create(payer=ipa.payer, file_name=name, sha256=name.ljust(64, "0"),
                                          format="x12-820", status="applied", imported_by="t")  # fmt: skip
    for member in (ipa.member_a, ipa.member_b):
        ReceivedLine.objects.create(remittance=imp, payer=ipa.payer, member=member,
                                    payer_member_id=member.payer_member_id, month=month.first_day,
                                    amount_cents=cents)  # fmt: skip
    return imp
