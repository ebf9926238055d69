"""A PCP assignment takes the practice the provider is affiliated with on the assignment's first day."""

from __future__ import annotations

import datetime as dt

import pytest

from openipa.core.errors import ValidationFailed
from openipa.membership.models import PcpAssignment
from openipa.membership.services import pcp_assign


def test_assignment_takes_the_practice_of_the_affiliation_in_force(small_ipa):
    span = PcpAssignment.objects.get(member=small_ipa.member_b)
    assert span.practice_id == small_ipa.practice_b.pk


def test_provider_without_affiliation_on_the_date_is_refused(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        pcp_assign(
            actor=None,
            member=small_ipa.member_a,
            provider=small_ipa.pcp_a,
            valid_from=dt.date(2025, 6, 1),
            valid_to=dt.date(2025, 6, 30),
        )
    assert "no practice affiliation on 2025-06-01" in err.value.fields["provider"][0]
    assert PcpAssignment.objects.filter(member=small_ipa.member_a).count() == 1


def test_a_specialist_cannot_be_a_pcp(small_ipa):
    with pytest.raises(ValidationFailed, match="not a primary care provider"):
        pcp_assign(
            actor=None,
            member=small_ipa.member_a,
            provider=small_ipa.specialist,
            valid_from=dt.date(2026, 1, 1),
            valid_to=None,
        )
