"""A practice joins payer contracts under its agreement and leaves them: the dates lie within both the
agreement's and the contract's, spans of one contract do not overlap, and only roles that edit the network
and read contracts may do it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.network import services
from openipa.network.models import ContractParticipation, ParticipationAgreement

JAN = dt.date(2026, 1, 1)


@pytest.fixture
def agreement(small_ipa):
    return services.agreement_create(
        actor=small_ipa.users["admin"], practice=small_ipa.practice_a, data={"valid_from": JAN}
    )


def _join(
    small_ipa: Any, agreement: ParticipationAgreement, persona: str = "ops", **dates: Any
) -> ContractParticipation:
    return services.contract_join(
        actor=small_ipa.users[persona],
        agreement=agreement,
        contract=small_ipa.contract,
        **{"valid_from": JAN, **dates},
    )


def test_without_an_end_the_practice_stays_in_until_the_contract_ends(small_ipa, agreement):
    participation = _join(small_ipa, agreement)
    assert (participation.valid_from, participation.valid_to) == (JAN, dt.date(2026, 12, 31))
    assert AuditEvent.objects.filter(action="contract.join", object_id=str(participation.pk)).exists()


def test_the_agreement_ending_first_bounds_the_participation(small_ipa):
    agreement = services.agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_b,
        data={"valid_from": JAN, "valid_to": dt.date(2026, 8, 31)},
    )
    assert _join(small_ipa, agreement).valid_to == dt.date(2026, 8, 31)


def test_dates_outside_the_contract_are_refused_per_field(small_ipa, agreement):
    with pytest.raises(ValidationFailed) as err:
        _join(small_ipa, agreement, valid_to=dt.date(2027, 3, 31))
    assert err.value.fields == {"valid_to": ["After the contract SUN-2026 ends (2026-01-01..2026-12-31)."]}
    assert not ContractParticipation.objects.exists()


def test_a_start_before_the_agreement_is_refused(small_ipa):
    later = services.agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_b,
        data={"valid_from": dt.date(2026, 4, 1)},
    )
    with pytest.raises(ValidationFailed) as err:
        _join(small_ipa, later)
    assert err.value.fields["valid_from"] == ["Before the agreement starts (2026-04-01..open)."]


def test_an_end_before_the_start_is_refused(small_ipa, agreement):
    with pytest.raises(ValidationFailed) as err:
        _join(small_ipa, agreement, valid_from=dt.date(2026, 5, 1), valid_to=dt.date(2026, 4, 30))
    assert "valid_to" in err.value.fields


def test_joining_the_same_contract_twice_at_once_is_refused(small_ipa, agreement):
    _join(small_ipa, agreement, valid_to=dt.date(2026, 6, 30))
    with pytest.raises(ValidationFailed) as err:
        _join(small_ipa, agreement, valid_from=dt.date(2026, 6, 1))
    assert "already takes part in SUN-2026" in err.value.fields["valid_from"][0]
    _join(small_ipa, agreement, valid_from=dt.date(2026, 7, 1))  # after the first span: fine
    assert ContractParticipation.objects.count() == 2


def test_leaving_sets_the_last_day_and_is_audited(small_ipa, agreement):
    participation = _join(small_ipa, agreement)
    services.contract_leave(
        actor=small_ipa.users["ops"], participation=participation, valid_to=dt.date(2026, 9, 30)
    )
    participation.refresh_from_db()
    assert participation.valid_to == dt.date(2026, 9, 30)
    event = AuditEvent.objects.get(action="contract.leave")
    assert event.changes == {"valid_to": ["2026-12-31", "2026-09-30"]}


def test_leaving_cannot_extend_the_stay_nor_end_before_the_start(small_ipa, agreement):
    participation = _join(small_ipa, agreement)
    for day, words in (
        (dt.date(2027, 1, 31), "already ends on 2026-12-31"),
        (dt.date(2025, 1, 1), "starts on"),
    ):
        with pytest.raises(ValidationFailed) as err:
            services.contract_leave(actor=small_ipa.users["ops"], participation=participation, valid_to=day)
        assert words in err.value.fields["valid_to"][0]
    participation.refresh_from_db()
    assert participation.valid_to == dt.date(2026, 12, 31)


@pytest.mark.parametrize("persona", ["alice", "auditor", "fin", "messenger"])
def test_roles_without_network_edit_rights_join_and_leave_nothing(small_ipa, agreement, persona):
    participation = _join(small_ipa, agreement)
    with pytest.raises(PermissionDenied):
        _join(small_ipa, agreement, persona=persona)
    with pytest.raises(PermissionDenied):
        services.contract_leave(
            actor=small_ipa.users[persona], participation=participation, valid_to=dt.date(2026, 3, 31)
        )
    participation.refresh_from_db()
    assert participation.valid_to == dt.date(2026, 12, 31)
    assert ContractParticipation.objects.count() == 1


def test_credentialing_edits_the_network_but_may_not_join_contracts_it_cannot_read(small_ipa, agreement):
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role

    cred = user_create(actor=None, username="cred", password="x" * 12, role=Role.CREDENTIALING)
    with pytest.raises(PermissionDenied):
        services.contract_join(actor=cred, agreement=agreement, contract=small_ipa.contract, valid_from=JAN)
    assert not ContractParticipation.objects.exists()
