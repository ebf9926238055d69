"""The request workflow: intake, review, decisions by role, extensions, appeals, peer-to-peer, notices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openipa.conftest import SmallIpa
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.utilization import selectors, services
from openipa.utilization.engine.intake import ServiceInput
from openipa.utilization.models import Appeal, AuthEvent, AuthNotice, AuthRequest, AutoApprovalRule
from openipa.utilization.tests.conftest import at, request_input

pytestmark = pytest.mark.django_db


def _submit(um: SmallIpa, user: str = "alice", **overrides: Any) -> AuthRequest:
    return services.submit_request(actor=um.users[user], data=request_input(**overrides), source="portal",
                                   received_at=at("2026-03-02 14:00"))  # fmt: skip


def test_a_practice_submits_for_its_own_member_and_the_clock_starts(um: SmallIpa) -> None:
    request = _submit(um)
    assert request.number == "UM2026-000001"
    assert request.status == AuthRequest.Status.RECEIVED
    assert request.line_of_business == "medicare_advantage"
    assert request.practice_id == um.practice_a.pk
    assert request.contract_id == um.contract.pk
    # Medicare Advantage from 2026: 7 calendar days, to the end of the day in Los Angeles
    assert request.due_at == at("2026-03-09 23:59").replace(second=59)
    assert request.diagnoses == "I509,R0600"
    assert [e.action for e in request.events.all()] == ["received"]
    assert AuditEvent.objects.filter(action="um.request.submit", object_id=str(request.pk)).exists()


def test_a_practice_cannot_submit_for_another_practices_member(um: SmallIpa) -> None:
    with pytest.raises(ValidationFailed, match="no member 'SUN0002'"):
        _submit(um, member_id="SUN0002")
    assert not AuthRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"member_id": "NOPE"}, "member_id", "no member 'NOPE'"),
        ({"diagnoses": []}, "diagnoses", "at least one diagnosis"),
        ({"diagnoses": ["banana"]}, "diagnoses", "not an ICD-10-CM code"),
        ({"services": [ServiceInput("93306", 1, dt.date(2026, 3, 31), dt.date(2026, 3, 10))]}, "services[1].dates",
         "reversed"),
        ({"services": [ServiceInput("9330", 1, dt.date(2026, 3, 1), dt.date(2026, 3, 1))]}, "services[1].code",
         "not a CPT"),
        ({"services": [ServiceInput("93306", 0, dt.date(2026, 3, 1), dt.date(2026, 3, 1))]}, "services[1].units",
         "above 0"),
        ({"requesting_npi": "1234567890"}, "requesting_npi", "not a valid NPI"),
        ({"services": [ServiceInput("93306", 1, dt.date(2025, 3, 1), dt.date(2025, 3, 1))]}, "member_id",
         "no coverage on 2025-03-01"),
    ],
)  # fmt: skip
def test_hostile_requests_are_refused_whole_naming_the_field(
    um: SmallIpa, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _submit(um, user="ops", **overrides)
    assert field in caught.value.fields
    assert any(message in m for m in caught.value.fields[field])
    assert not AuthRequest.objects.exists()
    assert not AuthEvent.objects.exists()


def test_a_nurse_approves_but_cannot_deny_or_modify(um: SmallIpa) -> None:
    request = _submit(um)
    nurse = um.users["nurse"]
    services.take_for_review(actor=nurse, request=request, now=at("2026-03-03 09:00"))
    for decision in ("deny", "modify"):
        with pytest.raises(PermissionDenied, match="only a physician"):
            services.decide(actor=nurse, request=request, decision=decision, reason="Not medically necessary here.",
                            criteria="NCD 20.29", approved_units={1: Decimal(0)})  # fmt: skip
    request.refresh_from_db()
    assert request.status == AuthRequest.Status.NURSE_REVIEW
    assert not AuthNotice.objects.exists()
    services.decide(actor=nurse, request=request, decision="approve", now=at("2026-03-03 10:00"))
    request.refresh_from_db()
    assert request.status == AuthRequest.Status.APPROVED
    assert request.services.get().units_approved == 1
    assert request.notices.get().pdf[:5] == b"%PDF-"


@pytest.mark.parametrize("user", ["admin", "ops", "auditor", "alice", "quality"])
def test_nobody_but_clinicians_decides(um: SmallIpa, user: str) -> None:
    request = _submit(um)
    with pytest.raises(PermissionDenied):
        services.decide(actor=um.users[user], request=request, decision="approve")
    request.refresh_from_db()
    assert request.status == AuthRequest.Status.RECEIVED


def test_the_medical_director_denies_with_a_reason_and_criteria_and_a_notice_with_appeal_rights(
    um: SmallIpa,
) -> None:
    request = _submit(um)
    md = um.users["md"]
    services.escalate(actor=um.users["nurse"], request=request, note="Criteria not met on the notes sent.")
    with pytest.raises(ValidationFailed) as caught:
        services.decide(actor=md, request=request, decision="deny", reason="no")
    assert set(caught.value.fields) == {"reason", "criteria"}
    services.decide(actor=md, request=request, decision="deny",
                    reason="A repeat echocardiogram within a year needs a change in symptoms, not documented.",
                    criteria="Internal policy UM-CARD-003 v2", now=at("2026-03-05 11:00"))  # fmt: skip
    request.refresh_from_db()
    assert request.status == AuthRequest.Status.DENIED
    assert request.decided_by == md
    assert request.services.get().units_approved == 0
    notice = request.notices.get()
    assert notice.kind == "decision"
    assert len(notice.sha256) == 64


def test_a_modification_approves_fewer_units(um: SmallIpa) -> None:
    request = _submit(um, user="ops", services=[ServiceInput("97110", 12, dt.date(2026, 3, 10), dt.date(2026, 4, 30))],
                      diagnoses=["M54.50"])  # fmt: skip
    md = um.users["md"]
    with pytest.raises(ValidationFailed, match="fewer units"):
        services.decide(actor=md, request=request, decision="modify", reason="Six visits first, then reassess progress.",
                        criteria="LCD L33631", approved_units={1: Decimal(12)})  # fmt: skip
    services.decide(actor=md, request=request, decision="modify", reason="Six visits first, then reassess progress.",
                    criteria="LCD L33631", approved_units={1: Decimal(6)})  # fmt: skip
    request.refresh_from_db()
    assert request.status == "modified"
    assert request.services.get().units_approved == 6
    frame = selectors.approved_authorizations_frame([um.member_a.pk])
    assert frame.select("code", "units_milli").rows() == [("97110", 6000)]


def test_extension_once_within_the_rule_with_notice(um: SmallIpa) -> None:
    request = _submit(um)
    nurse = um.users["nurse"]
    with pytest.raises(ValidationFailed, match="1 to 14"):
        services.extend(
            actor=nurse, request=request, reason="Awaiting records", days=15, now=at("2026-03-03 09:00")
        )
    services.extend(
        actor=nurse, request=request, reason="Awaiting the cardiology notes", now=at("2026-03-03 09:00")
    )
    request.refresh_from_db()
    assert request.original_due_at == at("2026-03-09 23:59").replace(second=59)
    assert request.due_at == at("2026-03-23 23:59").replace(second=59)
    assert request.notices.get().kind == "extension"
    with pytest.raises(ValidationFailed, match="already extended"):
        services.extend(actor=nurse, request=request, reason="again", now=at("2026-03-04 09:00"))


def test_an_appeal_has_its_own_clock_and_another_physician_decides_it(um: SmallIpa) -> None:
    request = _submit(um)
    md, md2 = um.users["md"], um.users["md2"]
    services.decide(actor=md, request=request, decision="deny", reason="Not medically necessary per the policy cited.",
                    criteria="UM-CARD-003 v2", now=at("2026-03-05 11:00"))  # fmt: skip
    appeal = services.open_appeal(actor=um.users["alice"], request=request, appellant="Dr. Ada Alder",
                                  grounds="New symptoms since the last echo.", received_at=at("2026-03-06 10:00"))  # fmt: skip
    assert appeal.due_at == at("2026-04-05 23:59").replace(second=59)  # 30 calendar days (42 CFR 422.590(a))
    with pytest.raises(PermissionDenied, match="did not make the decision"):
        services.decide_appeal(
            actor=md, appeal=appeal, outcome="overturned", reason="New symptoms documented now."
        )
    services.decide_appeal(actor=md2, appeal=appeal, outcome="overturned", reason="New symptoms documented in notes.",
                           now=at("2026-03-12 10:00"))  # fmt: skip
    request.refresh_from_db()
    assert request.status == "approved"
    assert Appeal.objects.get().status == "overturned"
    assert [n.kind for n in request.notices.all()] == ["decision", "appeal"]


def test_post_stabilization_is_deemed_approved_when_unanswered(um: SmallIpa) -> None:
    request = _submit(um, user="ops", kind="post_stabilization", urgency="standard")
    assert request.urgency == "expedited"
    assert request.due_at == at("2026-03-02 15:00")  # one hour (Medicare Advantage)
    assert services.sweep_deemed(at("2026-03-02 14:59")) == 0
    assert services.sweep_deemed(at("2026-03-02 15:01")) == 1
    request.refresh_from_db()
    assert request.status == "deemed_approved"
    assert request.decided_at == request.due_at


def test_auto_approval_of_an_in_network_referral_to_a_listed_specialty(um: SmallIpa) -> None:
    AutoApprovalRule.objects.create(name="In-network cardiology consults", kind="referral", specialties="Cardiology",
                                    code_from="99202", code_to="99215", max_units=3, valid_from=dt.date(2026, 1, 1))  # fmt: skip
    request = _submit(
        um, kind="referral", services=[ServiceInput("99204", 1, dt.date(2026, 3, 10), dt.date(2026, 6, 30))]
    )
    assert request.status == "approved"
    assert request.auto_rule is not None
    assert request.decided_at == request.received_at
    other = _submit(
        um, kind="referral", services=[ServiceInput("99204", 5, dt.date(2026, 3, 10), dt.date(2026, 6, 30))]
    )
    assert other.status == "received"


def test_practice_scope_on_reads(um: SmallIpa) -> None:
    request = _submit(um)
    assert selectors.request_get(um.users["alice"], request.pk, purpose="test").pk == request.pk
    with pytest.raises(NotFound):
        selectors.request_get(um.users["bob"], request.pk, purpose="test")
    assert not selectors.request_queryset(um.users["bob"]).exists()
    with pytest.raises(PermissionDenied):
        selectors.request_queryset(um.users["fin"])


def test_a_number_taken_by_a_concurrent_intake_is_skipped(
    um: SmallIpa, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _submit(um)
    real = services._next_number
    answers = iter([first.number])
    monkeypatch.setattr(services, "_next_number", lambda year: next(answers, None) or real(year))
    second = _submit(um)
    assert (first.number, second.number) == ("UM2026-000001", "UM2026-000002")


def test_a_practice_learns_nothing_of_another_practices_member_even_without_coverage(um: SmallIpa) -> None:
    # member B is Birch's; on this date nobody is covered: Alder hears "no member", not "no coverage"
    late = [ServiceInput("93306", 1, dt.date(2025, 6, 1), dt.date(2025, 6, 2))]
    with pytest.raises(ValidationFailed, match="no member 'SUN0002'"):
        _submit(um, member_id="SUN0002", services=late)
    with pytest.raises(ValidationFailed, match="no coverage on 2025-06-01"):  # staff are told
        _submit(um, user="ops", member_id="SUN0002", services=late)
