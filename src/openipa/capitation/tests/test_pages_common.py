"""The scenario the capitation page, statement and discrepancy tests share (no tests of its own).

The small IPA priced and set up for distribution as in test_runs.py: rate cells 65-74 at $300.00 and 75+ at
$350.00 (Amy is 75 and Bert 77 on 1 January 2026), a flat $200.00 PCP rule with a 2% risk pool, 5% specialist
and 3% quality pools, Alder's agreement at 10% and Birch's at 8% + $1.00 PMPM, and a second finance user
(fin2) to approve what fin prepares. `paid` records a remittance as applied without a file.

May 2026 paid $350.00 for each member gives the run of test_runs.py: Alder nets $190.50, Birch $225.50.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import zlib
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.capitation.models import DistributionRule, ReceivedLine, RemittanceImport
from openipa.contracts.models import RateCell
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.network.models import ParticipationAgreement

__all__ = ["_var_dir", "capitated", "world"]
"""The fixtures, for the test modules to take with `from ... import *` (pytest finds fixtures by name in a
test module, and the capitation tests have no conftest of their own)."""

MAY, JUNE = Month(2026, 5), Month(2026, 6)
STAFF_READERS = ("fin", "auditor", "admin")
NOT_STAFF = ("ops", "messenger", "alice", "bob")


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = str(tmp_path / "var")


@pytest.fixture
def capitated(small_ipa: Any) -> Any:
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


def paid(ipa: Any, month: Month, name: str, amounts: dict[Any, int] | None = None) -> RemittanceImport:
    """An applied remittance paying ``amounts`` (member -> cents; $350.00 each of Amy and Bert by default)."""
    imp = RemittanceImport.objects.create(
        payer=ipa.payer, file_name=name, sha256=name.ljust(64, "0"), format="x12-820", status="applied",
        imported_by="t", months=[str(month)],
    )  # fmt: skip
    for member, cents in (amounts or {ipa.member_a: 35000, ipa.member_b: 35000}).items():
        ReceivedLine.objects.create(remittance=imp, payer=ipa.payer, member=member,
                                    payer_member_id=member.payer_member_id, month=month.first_day,
                                    amount_cents=cents)  # fmt: skip
    return imp


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a PDF of ours: each content stream inflated, the strings of its text operators
    joined (enough to find a name or an amount; not a general PDF reader)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        data = stream.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2])
        with contextlib.suppress(zlib.error):
            data = zlib.decompress(data)
        out += [m.decode("latin-1") for m in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", data)]
    return "\n".join(s.replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\") for s in out)


@pytest.fixture
def world(capitated: Any) -> Any:
    """May paid (Amy and Bert $350.00 each, and $200.00 for GHOST1, who is not a member), reconciled (one
    discrepancy: GHOST1 paid but not eligible), distributed by fin and approved by fin2."""
    from openipa.capitation.services.reconcile import reconcile
    from openipa.capitation.services.runs import approve_run, distribute_month

    ipa = capitated
    ipa.remittance = paid(ipa, MAY, "may.820")
    ReceivedLine.objects.create(remittance=ipa.remittance, payer=ipa.payer, payer_member_id="GHOST1",
                                month=MAY.first_day, amount_cents=20000)  # fmt: skip
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    ipa.run = approve_run(actor=ipa.users["fin2"], run=distribute_month(actor=ipa.users["fin"], payer=ipa.payer,
                                                                        month=MAY))  # fmt: skip
    ipa.payment_a = ipa.run.payments.get(practice=ipa.practice_a)
    ipa.payment_b = ipa.run.payments.get(practice=ipa.practice_b)
    return ipa
