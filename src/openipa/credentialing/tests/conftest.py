"""The small IPA with three more providers to screen, and a credentialing user `cred`.

Providers and what the fixture lists (tests/data) hold about them:
- Ben Birch (NPI 1245319599): LEIE row with his NPI -> an NPI match (100).
- Ada Alder (1970-01-02): LEIE row ALDER, ADA, same date of birth -> name and date of birth (100).
- William Smith (1960-03-15): LEIE row SMYTH, BILL, same date -> a near match (nickname and a typo).
- Maria Garcia (1980-07-04): LEIE row GARCIA, ROSA, same date -> a different person, below the threshold;
  SAM row MARIA GARCIA (SAM has no date of birth) -> a name-only match.
- Robert Johnson (1965-11-30): LEIE row with his name and another date of birth -> no hit.
- Cy Cardio (no date of birth): an LEIE row reinstated in 2020 -> ignored; a SAM firm row with his NPI.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from openipa.conftest import PASSWORD

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def screening_ipa(small_ipa: Any) -> Any:
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role
    from openipa.network.services import provider_create

    admin = small_ipa.users["admin"]
    extra = {}
    for npi, first, last, dob in (
        ("1000000004", "William", "Smith", dt.date(1960, 3, 15)),
        ("1000000012", "Maria", "Garcia", dt.date(1980, 7, 4)),
        ("1000000020", "Robert", "Johnson", dt.date(1965, 11, 30)),
    ):
        extra[last.lower()] = provider_create(
            actor=admin,
            data={
                "npi": npi, "first_name": first, "last_name": last, "degree": "MD", "taxonomy_code": "207R00000X",
                "specialty": "Internal Medicine", "kind": "specialist", "date_of_birth": dob,
            },
        )  # fmt: skip
    small_ipa.smith = extra["smith"]
    small_ipa.garcia = extra["garcia"]
    small_ipa.johnson = extra["johnson"]
    small_ipa.users["cred"] = user_create(
        actor=None, username="cred", password=PASSWORD, role=Role.CREDENTIALING
    )
    return small_ipa
