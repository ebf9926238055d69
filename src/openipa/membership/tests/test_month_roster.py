"""month_roster: one row per member covered in a payer-month, with the days, product and PCP capitation needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.membership.models import EligibilitySpan, PcpAssignment
from openipa.membership.selectors import month_roster

pytestmark = pytest.mark.django_db


def _rows(frame: Any) -> dict[str, dict[str, Any]]:
    return {row["payer_member_id"]: row for row in frame.iter_rows(named=True)}


def test_a_member_covered_all_month_with_a_pcp(small_ipa: Any) -> None:
    frame = month_roster(
        small_ipa.users["fin"], payer_id=small_ipa.payer.pk, month=Month(2026, 2), purpose="t"
    )
    rows = _rows(frame)
    a = rows["SUN0001"]
    assert a["covered_days"] == 28
    assert a["first_covered_day"] == 1
    assert a["days_in_month"] == 28
    assert a["product_id"] == small_ipa.product.pk
    assert a["practice_id"] == small_ipa.practice_a.pk
    assert a["birth_date"] == dt.date(1950, 3, 4)
    assert a["coverage_file_date"] is None  # entered by hand, not by a roster file
    assert AuditEvent.objects.filter(action="batch_read", object_type="membership.member").count() == 1


def test_mid_month_term_and_a_pcp_change_pick_the_longer_assignment(small_ipa: Any) -> None:
    span = EligibilitySpan.objects.get(member=small_ipa.member_b)
    span.valid_to = dt.date(2026, 3, 20)
    span.save()
    old = PcpAssignment.objects.get(member=small_ipa.member_b)
    old.valid_to = dt.date(2026, 3, 5)
    old.save()
    PcpAssignment.objects.create(
        member=small_ipa.member_b, provider=small_ipa.pcp_a, practice=small_ipa.practice_a,
        valid_from=dt.date(2026, 3, 6),
    )  # fmt: skip
    rows = _rows(
        month_roster(small_ipa.users["fin"], payer_id=small_ipa.payer.pk, month=Month(2026, 3), purpose="t")
    )
    b = rows["SUN0002"]
    assert (b["covered_days"], b["first_covered_day"], b["days_in_month"]) == (20, 1, 31)
    assert b["practice_id"] == small_ipa.practice_a.pk  # 15 covered days with Alder, 5 with Birch
    # after the term the member is not on the month's roster at all
    later = month_roster(
        small_ipa.users["fin"], payer_id=small_ipa.payer.pk, month=Month(2026, 4), purpose="t"
    )
    assert "SUN0002" not in _rows(later)


def test_practice_users_cannot_read_a_whole_roster(small_ipa: Any) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        month_roster(small_ipa.users["alice"], payer_id=small_ipa.payer.pk, month=Month(2026, 2), purpose="t")
    assert AuditEvent.objects.count() == before
