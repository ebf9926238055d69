"""Fixtures for utilization management: the small IPA plus a UM nurse and two physicians, and a request
builder."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from openipa.conftest import PASSWORD, SmallIpa
from openipa.utilization.engine.intake import RequestInput, ServiceInput

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def um(small_ipa: SmallIpa) -> SmallIpa:
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role

    small_ipa.users["nurse"] = user_create(
        actor=None, username="nurse", password=PASSWORD, role=Role.UM_NURSE
    )
    small_ipa.users["md"] = user_create(
        actor=None, username="md", password=PASSWORD, role=Role.MEDICAL_DIRECTOR, first_name="Maya",
        last_name="Director",
    )  # fmt: skip
    small_ipa.users["md2"] = user_create(
        actor=None, username="md2", password=PASSWORD, role=Role.MEDICAL_DIRECTOR
    )
    small_ipa.users["quality"] = user_create(
        actor=None, username="quality", password=PASSWORD, role=Role.QUALITY
    )
    return small_ipa


def request_input(**overrides: Any) -> RequestInput:
    """A standard prior authorization for member A (SUN0001, Medicare Advantage) by PCP A to the cardiologist:
    an echocardiogram in March 2026."""
    data: dict[str, Any] = {
        "kind": "prior_auth",
        "urgency": "standard",
        "member_id": "SUN0001",
        "requesting_npi": "1234567893",
        "servicing_npi": "1003000126",
        "diagnoses": ["I50.9", "R06.00"],
        "services": [ServiceInput("93306", 1, dt.date(2026, 3, 10), dt.date(2026, 3, 31))],
        "clinical_notes": "Worsening dyspnea on exertion.",
    }
    data.update(overrides)
    return RequestInput(**data)


def at(text: str) -> dt.datetime:
    """A Los Angeles wall-clock time, 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LA)
