"""Participation agreements through the practice page: add one, change its status, fees and end, join a
payer contract under it and leave it again. Admin-fee fields and contracts are offered only to roles that
may read contracts; errors appear next to the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openipa.accounts.services import user_create
from openipa.core.roles import Role
from openipa.network.models import ContractParticipation, ParticipationAgreement
from openipa.network.services import agreement_create, contract_join
from openipa.web.tests.pages import field_errors, html


@pytest.fixture
def agreement(small_ipa):
    return agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_a,
        data={"valid_from": dt.date(2026, 1, 1)},
    )


def test_operations_add_an_agreement_with_fees(client_for, small_ipa):
    client = client_for("ops")
    practice = small_ipa.practice_a
    assert f'href="/practices/{practice.pk}/agreements/new/"' in html(
        client.get(f"/practices/{practice.pk}/")
    )
    response = client.post(
        f"/practices/{practice.pk}/agreements/new/",
        {
            "valid_from": "2026-01-01",
            "status": "active",
            "admin_fee_percent": "11.5",
            "admin_fee_pmpm": "2.25",
        },
    )
    assert response.status_code == 302
    agreement = ParticipationAgreement.objects.get(practice=practice)
    assert (agreement.admin_fee_percent, agreement.admin_fee_pmpm) == (Decimal("11.5"), Decimal("2.25"))


def test_an_overlapping_agreement_is_shown_next_to_the_start_date(client_for, small_ipa, agreement):
    response = client_for("ops").post(
        f"/practices/{small_ipa.practice_a.pk}/agreements/new/",
        {"valid_from": "2026-03-01", "status": "active", "admin_fee_percent": "0", "admin_fee_pmpm": "0"},
    )
    assert response.status_code == 200
    assert "overlaps" in field_errors(response, "valid_from")[0]
    assert ParticipationAgreement.objects.count() == 1


def test_credentialing_adds_an_agreement_without_being_shown_fee_fields(client_for, small_ipa):
    small_ipa.users["cred"] = user_create(
        actor=None, username="cred", password="x" * 12, role=Role.CREDENTIALING
    )
    client = client_for("cred")
    url = f"/practices/{small_ipa.practice_b.pk}/agreements/new/"
    assert "admin_fee_percent" not in html(client.get(url))
    response = client.post(url, {"valid_from": "2026-01-01", "status": "draft", "admin_fee_percent": "50"})
    assert response.status_code == 302
    assert ParticipationAgreement.objects.get(practice=small_ipa.practice_b).admin_fee_percent == 0
    page = html(client.get(f"/practices/{small_ipa.practice_b.pk}/"))
    assert "Join a contract" not in page


def test_an_agreement_is_edited_and_its_start_is_fixed(client_for, small_ipa, agreement):
    client = client_for("ops")
    url = f"/practices/agreements/{agreement.pk}/edit/"
    assert 'name="valid_from"' not in html(client.get(url))
    response = client.post(
        url,
        {"valid_to": "2026-12-31", "status": "terminated", "admin_fee_percent": "9", "admin_fee_pmpm": "0"},
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.status, agreement.valid_to, agreement.admin_fee_percent) == (
        "terminated",
        dt.date(2026, 12, 31),
        Decimal("9"),
    )


def test_an_end_before_the_start_is_shown_next_to_the_end_date(client_for, small_ipa, agreement):
    response = client_for("ops").post(
        f"/practices/agreements/{agreement.pk}/edit/",
        {"valid_to": "2025-06-30", "status": "active", "admin_fee_percent": "0", "admin_fee_pmpm": "0"},
    )
    assert "before valid_from" in field_errors(response, "valid_to")[0]
    agreement.refresh_from_db()
    assert agreement.valid_to is None


def test_the_practice_joins_a_contract_and_it_is_listed_with_its_dates(client_for, small_ipa, agreement):
    client = client_for("ops")
    page = html(client.get(f"/practices/{small_ipa.practice_a.pk}/"))
    assert f'href="/practices/agreements/{agreement.pk}/join/"' in page
    response = client.post(
        f"/practices/agreements/{agreement.pk}/join/",
        {"contract": small_ipa.contract.pk, "valid_from": "2026-02-01", "valid_to": ""},
    )
    assert response.status_code == 302
    participation = ContractParticipation.objects.get()
    assert participation.valid_to == dt.date(2026, 12, 31)
    page = html(client.get(response["Location"]))
    assert "ALDER joined SUN-2026." in page
    assert "SUN-2026</a> 2026-02-01 to 2026-12-31" in page
    assert f'href="/practices/participations/{participation.pk}/leave/"' in page


def test_dates_outside_the_contract_are_shown_next_to_the_field(client_for, small_ipa, agreement):
    response = client_for("ops").post(
        f"/practices/agreements/{agreement.pk}/join/",
        {"contract": small_ipa.contract.pk, "valid_from": "2026-02-01", "valid_to": "2027-06-30"},
    )
    assert field_errors(response, "valid_to") == [
        "After the contract SUN-2026 ends (2026-01-01..2026-12-31)."
    ]
    assert not ContractParticipation.objects.exists()


def test_the_practice_leaves_a_contract(client_for, small_ipa, agreement):
    participation = contract_join(
        actor=small_ipa.users["admin"],
        agreement=agreement,
        contract=small_ipa.contract,
        valid_from=dt.date(2026, 1, 1),
    )
    client = client_for("ops")
    url = f"/practices/participations/{participation.pk}/leave/"
    bad = client.post(url, {"valid_to": "2027-01-31"})
    assert "already ends on 2026-12-31" in field_errors(bad, "valid_to")[0]
    response = client.post(url, {"valid_to": "2026-06-30"})
    assert response.status_code == 302
    participation.refresh_from_db()
    assert participation.valid_to == dt.date(2026, 6, 30)
