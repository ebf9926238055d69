"""The capitation profile page: finance saves the CSV mapping and the accepted deductions; others may not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from openipa.capitation.models import CapitationProfile
from openipa.core.models import AuditEvent

pytestmark = pytest.mark.django_db

MAPPING = {"columns": {"member_id": "Member", "month": "Month", "amount": "Paid"}, "month_format": "%Y-%m"}


def _url(ipa: Any) -> str:
    return reverse("web:capitation:capitation_profile", args=[ipa.payer.pk])


def test_finance_saves_the_profile_and_the_csv_import_uses_it(small_ipa: Any, client_for: Any) -> None:
    client = client_for("fin")
    assert client.get(_url(small_ipa)).status_code == 200
    response = client.post(_url(small_ipa), {"default_format": "csv", "csv_profile": json.dumps(MAPPING),
                                             "accepted_deductions": "rp: reinsurance premium\n\nAA: ok"})  # fmt: skip
    assert response.status_code == 302
    profile = CapitationProfile.objects.get(payer=small_ipa.payer)
    assert profile.default_format == "csv"
    assert profile.csv_profile == MAPPING
    assert profile.accepted_deductions == {"RP": "reinsurance premium", "AA": "ok"}
    assert AuditEvent.objects.filter(action="capitation.profile").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"csv_profile": "{not json"}, "csv_profile", "Not JSON"),
        ({"csv_profile": json.dumps({"columns": {"member_id": "M"}})}, "csv_profile", "no column is mapped"),
        ({"default_format": "csv"}, "csv_profile", "needs a column mapping"),
        ({"accepted_deductions": "R P: bad"}, "accepted_deductions", "not a reason code"),
    ],
)
def test_bad_profiles_are_refused_field_by_field(
    small_ipa: Any, client_for: Any, data: dict[str, str], field: str, text: str
) -> None:
    response = client_for("fin").post(_url(small_ipa), {"default_format": "x12-820", **data})
    assert response.status_code == 400
    assert text in " ".join(str(e) for e in response.context["form"].errors.get(field, []))
    assert not CapitationProfile.objects.exists()


def test_only_finance_changes_it(small_ipa: Any, client_for: Any) -> None:
    assert client_for("auditor").get(_url(small_ipa)).status_code == 200
    for who in ("auditor", "admin"):
        response = client_for(who).post(
            _url(small_ipa), {"default_format": "csv", "csv_profile": json.dumps(MAPPING)}
        )
        assert response.status_code == 403
    assert client_for("alice").get(_url(small_ipa)).status_code in (403, 404)
    assert not CapitationProfile.objects.exists()
