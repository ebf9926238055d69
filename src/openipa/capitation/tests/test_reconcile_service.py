"""Reconciling a payer-month in the database: totals, discrepancies opened, updated and settled, the CLI."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from openipa.capitation.models import Discrepancy, ReceivedLine, Reconciliation, RemittanceImport
from openipa.capitation.services.reconcile import reconcile, result_json
from openipa.contracts.models import RateCell
from openipa.core.errors import PermissionDenied
from openipa.core.months import Month

pytestmark = pytest.mark.django_db
MAY = Month(2026, 5)


@pytest.fixture
def priced(small_ipa: Any) -> Any:
    """Rates for the small IPA's term: 65-74 at $300, 75+ at $350 (on the term's reference day, 1 January 2026, member A is 75 and B is 77)."""
    for low, high, pmpm in ((65, 74, "300.00"), (75, 120, "350.00")):
        RateCell.objects.create(term=small_ipa.term, product=small_ipa.product, age_min=low, age_max=high,
                                sex="U", pmpm=pmpm)  # fmt: skip
    return small_ipa


def _remit(ipa: Any, name: str, lines: list[tuple[Any, str, int]]) -> RemittanceImport:
    imp = RemittanceImport.objects.create(
        payer=ipa.payer, file_name=name, sha256=name.ljust(64, "0"), format="x12-820",
        status=RemittanceImport.Status.APPLIED, imported_by="t",
    )  # fmt: skip
    for member, key, cents in lines:
        ReceivedLine.objects.create(remittance=imp, payer=ipa.payer, member=member, payer_member_id=key,
                                    month=MAY.first_day, amount_cents=cents)  # fmt: skip
    return imp


def test_reconcile_finds_and_later_settles_a_wrong_rate(priced: Any) -> None:
    ipa = priced
    _remit(ipa, "may", [(ipa.member_a, "SUN0001", 30000), (ipa.member_b, "SUN0002", 35000)])
    record = reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    assert result_json(record) == {
        "expected_cents": 70000,
        "received_cents": 65000,
        "variance_cents": 5000,
        "by_category": {"wrong_rate": {"count": 1, "cents": 5000}},
    }
    (open_one,) = Discrepancy.objects.filter(status="open")
    assert open_one.member_id == ipa.member_a.pk
    assert "age band 65-74 (member is 75" in open_one.cause
    # reconciling again changes nothing
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    assert Discrepancy.objects.count() == 1
    # the payer pays the difference in a later file (as a second capitation line it would be a duplicate, so
    # it replaces the first here): the discrepancy closes itself
    ReceivedLine.objects.filter(member=ipa.member_a).update(amount_cents=35000)
    later = _remit(ipa, "june", [])
    record = reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    assert record.variance_cents == 0
    open_one.refresh_from_db()
    assert open_one.status == "resolved"
    assert open_one.settled_by_id is None or open_one.settled_by_id <= later.pk
    assert Reconciliation.objects.count() == 1


def test_unpaid_and_unknown_members_and_the_cli_json(priced: Any) -> None:
    ipa = priced
    _remit(ipa, "may", [(ipa.member_a, "SUN0001", 35000), (None, "NOPE1", 20000)])
    out = StringIO()
    call_command("capitation", "reconcile", "--payer", "sun", "--month", "2026-05", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["expected_cents"] == 70000
    assert result["received_cents"] == 55000
    assert result["by_category"] == {
        "eligible_not_paid": {"count": 1, "cents": 35000},
        "paid_not_eligible": {"count": 1, "cents": -20000},
    }


def test_practice_users_and_operations_cannot_reconcile(priced: Any) -> None:
    for who in ("alice", "ops"):
        with pytest.raises(PermissionDenied):
            reconcile(actor=priced.users[who], payer=priced.payer, month=MAY)
    assert not Reconciliation.objects.exists()
    assert not Discrepancy.objects.exists()
