"""The member fields of CMS's ESRD risk model: current reason for entitlement and kidney transplant date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from openipa.core.errors import ValidationFailed
from openipa.membership.services import member_update

pytestmark = pytest.mark.django_db


def test_crec_and_the_transplant_date_are_set_and_blank_crec_means_unknown(small_ipa: Any) -> None:
    member = small_ipa.member_a
    assert (member.crec, member.kidney_transplant_date) == ("", None)
    updated = member_update(
        actor=None, member=member, data={"crec": "2", "kidney_transplant_date": dt.date(2024, 6, 15)}
    )
    assert (updated.crec, updated.kidney_transplant_date) == ("2", dt.date(2024, 6, 15))
    text = member_update(
        actor=None, member=updated, data={"crec": "", "kidney_transplant_date": "2023-01-09"}
    )
    assert (text.crec, text.kidney_transplant_date) == ("", dt.date(2023, 1, 9))
    cleared = member_update(actor=None, member=text, data={"kidney_transplant_date": ""})
    assert cleared.kidney_transplant_date is None


@pytest.mark.parametrize("crec", ["4", "9", "E", "22"])
def test_a_crec_outside_cmss_codes_is_refused(small_ipa: Any, crec: str) -> None:
    with pytest.raises(ValidationError, match="crec"):
        member_update(actor=None, member=small_ipa.member_a, data={"crec": crec})
    small_ipa.member_a.refresh_from_db()
    assert small_ipa.member_a.crec == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (dt.date.today() + dt.timedelta(days=1), "in the future"),
        (dt.date(1950, 3, 3), "before date of birth"),  # Amy was born on March 4, 1950
        ("2024-13-01", "is not a date"),
        (20240101, "is not a date"),
    ],
)
def test_a_bad_transplant_date_is_refused(small_ipa: Any, value: object, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as refused:
        member_update(actor=None, member=small_ipa.member_a, data={"kidney_transplant_date": value})
    assert "kidney_transplant_date" in refused.value.fields
    small_ipa.member_a.refresh_from_db()
    assert small_ipa.member_a.kidney_transplant_date is None


def test_the_transplant_date_may_be_the_birth_date_or_today(small_ipa: Any) -> None:
    member = member_update(
        actor=None, member=small_ipa.member_a, data={"kidney_transplant_date": dt.date(1950, 3, 4)}
    )
    assert member.kidney_transplant_date == dt.date(1950, 3, 4)
    member = member_update(actor=None, member=member, data={"kidney_transplant_date": dt.date.today()})
    assert member.kidney_transplant_date == dt.date.today()
