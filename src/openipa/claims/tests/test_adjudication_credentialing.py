"""Claims use credentialing (issue 6): a practitioner credentialing knows but has not credentialed is pended; one
with a confirmed exclusion is denied from the exclusion's first day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.claims.models import ClaimLine
from openipa.claims.selectors.claims import provider_status_frame
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.tests.conftest import claim_file
from openipa.core.roles import Role
from openipa.credentialing.services import open_file
from openipa.network.models import Affiliation
from openipa.network.services import provider_create

pytestmark = pytest.mark.django_db
BILLING_NPI = "1912301953"  # the sample claim's billing provider


def _billing_provider(small_ipa: Any) -> Any:
    """The sample's billing provider as a network practitioner of Birch Pediatrics (contracted)."""
    provider = provider_create(actor=small_ipa.users["admin"], data={
        "npi": BILLING_NPI, "first_name": "Ben", "last_name": "Kildare", "degree": "MD", "taxonomy_code": "207Q00000X",
        "specialty": "Family Medicine", "kind": "specialist",
    })  # fmt: skip
    Affiliation.objects.create(
        provider=provider, practice=small_ipa.practice_b, valid_from=dt.date(2026, 1, 1)
    )
    return provider


def test_a_practitioner_with_a_file_in_progress_is_pended(claims_ipa: Any, tmp_path: Path) -> None:
    provider = _billing_provider(claims_ipa)
    cred = user_create(actor=None, username="cred", password="x" * 12, role=Role.CREDENTIALING)
    open_file(actor=cred, provider=provider, kind="initial", opened_on=dt.date(2026, 10, 1))
    import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    adjudicate_waiting(actor=None, today=dt.date(2026, 11, 3))
    office = ClaimLine.objects.get(code="99213")
    assert (office.outcome, office.pend_reason) == ("pended", "the provider is not credentialed")
    assert ClaimLine.objects.get(code="87070").carc == "109"  # the plan's lab: still the DOFR's denial


def test_the_status_frame_without_credentialing_knowledge_is_the_networks(claims_ipa: Any) -> None:
    _billing_provider(claims_ipa)
    frame = provider_status_frame(
        {BILLING_NPI, "1234567893"}, [], dt.date(2026, 11, 1), credentialed_on=dt.date(2026, 11, 3)
    )
    rows = {r["npi"]: r for r in frame.to_dicts()}
    assert rows[BILLING_NPI]["credentialed"] is None  # no file: not known, nothing pends for it
    assert rows[BILLING_NPI]["excluded"] is False
    assert rows["1234567893"]["excluded_from"] is None
