"""Fixtures of the association tests: the small IPA with participation agreements, a second finance user and a
third practice (so that aggregates of 'other practices' can be shown)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.core.roles import Role
from openipa.network.models import ParticipationAgreement, Practice


@pytest.fixture
def ipa(small_ipa: Any) -> Any:
    for practice in (small_ipa.practice_a, small_ipa.practice_b):
        ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2026, 1, 1))
    small_ipa.users["fin2"] = user_create(actor=None, username="fin2", password="x" * 12, role=Role.FINANCE)
    small_ipa.users["quality"] = user_create(
        actor=None, username="qual", password="x" * 12, role=Role.QUALITY
    )
    return small_ipa


def add_practice(ipa: Any, code: str, name: str, tin: str) -> Practice:
    practice = Practice.objects.create(
        code=code, legal_name=name, tin=tin, address_line1="1 Elm St", city="Pasadena", state="CA",
        zip_code="91101", region=ipa.region,
    )  # fmt: skip
    ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2026, 1, 1))
    return practice
