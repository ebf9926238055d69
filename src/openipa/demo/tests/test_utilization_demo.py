"""The demo's utilization management, built once for the module through the real services: the reference data,
a realistic mix of requests and outcomes on the legal clocks, an open queue with overdue requests, and the same
data again for the same seed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from openipa.accounts.models import User
from openipa.contracts.models import Contract
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo import utilization as demo_um
from openipa.demo.services import DemoSummary, describe
from openipa.demo.tests.builds import module_demo
from openipa.membership.models import EligibilitySpan, PcpAssignment
from openipa.network.models import Practice
from openipa.utilization import selectors
from openipa.utilization.engine import clocks
from openipa.utilization.models import (
    Appeal,
    AuthAttachment,
    AuthEvent,
    AuthNotice,
    AuthRequest,
    AuthRequirement,
    AuthService,
    AutoApprovalRule,
    CriteriaReference,
    PeerToPeer,
)

AS_OF = Month(2026, 3)
MEMBERS = 2500
SEED = 7
NOW = dt.datetime(2026, 3, 31, 17, 0, tzinfo=selectors.ipa_zone())
"""The build's now for a demo as of a past month: 17:00 on its last day."""

Status = AuthRequest.Status


@pytest.fixture(scope="module")
def built(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSummary]:
    with module_demo(
        django_db_blocker,
        tmp_path_factory,
        "um-demo",
        seed=SEED,
        members=MEMBERS,
        as_of=AS_OF,
        capitation_year=False,
        claims_year=False,
        utilization=True,
    ) as summary:
        yield summary


@pytest.fixture
def demo(built: DemoSummary, db: None) -> DemoSummary:
    return built


def _requests() -> Any:
    return AuthRequest.objects.filter(number__startswith="UM")


def _fingerprint() -> list[tuple[Any, ...]]:
    rows = _requests().order_by("number").values_list(
        "number", "kind", "urgency", "status", "source", "member__payer_member_id", "received_at", "due_at",
        "decided_at", "decided_by__username", "created_by__username",
    )  # fmt: skip
    events = AuthEvent.objects.filter(request__number__startswith="UM").order_by(
        "request__number", "at", "action"
    )
    return [*rows, *events.values_list("request__number", "at", "action", "actor__username")]


def test_the_summary_counts_the_requests(demo: DemoSummary) -> None:
    requests = _requests()
    assert demo.um_requests == requests.count() >= demo_um.MIN_REQUESTS
    assert demo.um_open == requests.filter(status__in=AuthRequest.OPEN).count()
    assert demo.um_overdue == requests.filter(status__in=AuthRequest.OPEN, due_at__lt=NOW).count()
    assert demo.um_denied == requests.filter(status=Status.DENIED).count() > 0
    assert demo.um_appeals == Appeal.objects.count() > 0
    assert describe(demo)["um_requests"] == demo.um_requests
    assert describe(demo)["um_overdue"] == demo.um_overdue


def test_the_reference_data(demo: DemoSummary) -> None:
    codes = set(CriteriaReference.objects.values_list("code", flat=True))
    assert {"NCD 220.2", "NCD 20.4", "L34220", "UM-POL-004", "UM-POL-012"} <= codes
    assert (
        CriteriaReference.objects.filter(code="UM-POL-001").count() == 2
    )  # two versions, one after the other
    # advanced imaging under every contract for its own line(s) of business; the rest for every contract
    for contract in Contract.objects.filter(status=Contract.Status.ACTIVE).prefetch_related("products"):
        lines = {p.line_of_business for p in contract.products.all()}
        ranges = set(AuthRequirement.objects.filter(contract=contract).values_list("line_of_business", "code_from",
                                                                                   "code_to"))  # fmt: skip
        assert ranges == {(lob, lo, hi) for lob in lines for lo, hi, _t, _c in demo_um.IMAGING_RANGES}
    general = set(AuthRequirement.objects.filter(contract=None).values_list("code_from", "code_to"))
    assert {("95800", "95811"), ("E0100", "E8002"), ("97110", "97164")} <= general
    assert AuthRequirement.objects.filter(criteria=None).count() == 0
    rule = AutoApprovalRule.objects.order_by("pk").first()
    assert rule is not None
    assert (rule.kind, rule.code_from, rule.code_to, rule.max_units) == ("referral", "99202", "99215", 3)
    assert set(rule.specialties.split(",")) == {"cardiovascular disease", "dermatology", "ophthalmology",
                                                "orthopaedic surgery"}  # fmt: skip


def test_the_mix_of_kinds_urgencies_and_sources(demo: DemoSummary) -> None:
    requests = _requests()
    total = requests.count()
    kinds = Counter(requests.values_list("kind", flat=True))
    assert kinds["referral"] > kinds["prior_auth"] > kinds["admission"] > 0
    assert kinds["post_stabilization"] > 0
    assert 0.05 <= requests.filter(urgency="expedited").count() / total <= 0.2
    referrals = requests.filter(kind="referral")
    assert (
        referrals.exclude(auto_rule=None).count() > referrals.count() / 2
    )  # most referrals approved on receipt
    assert set(requests.values_list("source", flat=True)) == {"portal", "api", "staff", "x12_278"}
    assert set(requests.values_list("line_of_business", flat=True)) == {"medicare_advantage", "medicaid",
                                                                       "commercial"}  # fmt: skip


def test_every_request_is_for_a_covered_member_and_portal_ones_come_from_the_pcp_practice(
    demo: DemoSummary,
) -> None:
    requests = list(_requests().select_related("created_by"))
    spans: dict[int, list[tuple[dt.date, dt.date | None, str]]] = {}
    for member_id, start, end, lob in EligibilitySpan.objects.values_list(
        "member_id", "valid_from", "valid_to", "product__line_of_business"
    ):
        spans.setdefault(member_id, []).append((start, end, lob))
    pcps: dict[int, list[tuple[dt.date, dt.date | None, int]]] = {}
    for member_id, start, end, practice_id in PcpAssignment.objects.values_list(
        "member_id", "valid_from", "valid_to", "practice_id"
    ):
        pcps.setdefault(member_id, []).append((start, end, practice_id))
    portal = 0
    for r in requests:
        on = r.service_from
        covering = [lob for s, e, lob in spans[r.member_id] if s <= on and (e is None or on <= e)]
        assert r.line_of_business in covering, r.number
        assert r.created_by is not None
        if r.source in ("portal", "api"):
            portal += 1
            assert r.created_by.role == Role.PRACTICE_USER
            assert r.created_by.practice_id == r.practice_id
            assert any(
                s <= on and (e is None or on <= e) and p == r.practice_id for s, e, p in pcps[r.member_id]
            )
        else:
            assert r.created_by.role in (Role.OPERATIONS, Role.UM_NURSE)
    assert portal > len(requests) / 2


def test_every_due_time_follows_its_clock_rule(demo: DemoSummary) -> None:
    rules = selectors.clock_rules()
    tz = selectors.ipa_zone()
    calendars = selectors.calendars_for(rules)
    for r in _requests().select_related("member"):
        rule = clocks.pick_rule(rules, line_of_business=r.line_of_business, jurisdiction=r.member.state or "CA",
                                kind=r.kind, urgency=r.urgency, applies_to="request",
                                on=clocks.local_date(r.received_at, tz))  # fmt: skip
        assert r.clock_rule_id == rule.rule_id, r.number
        due = clocks.due_at(r.received_at, rule, tz, calendars)
        if r.extended_at is None:
            assert r.due_at == due, r.number
        else:
            assert r.original_due_at == due, r.number
            assert r.due_at == clocks.extended_due_at(due, rule, tz), r.number
            assert r.extended_at <= due
    for appeal in Appeal.objects.select_related("request"):
        assert appeal.clock_rule.applies_to == "appeal"
        assert appeal.due_at > appeal.received_at


def test_nothing_happens_after_now(demo: DemoSummary) -> None:
    assert not _requests().filter(received_at__gt=NOW).exists()
    assert not AuthEvent.objects.filter(request__number__startswith="UM", at__gt=NOW).exists()
    assert not Appeal.objects.filter(received_at__gt=NOW).exists()
    assert not Appeal.objects.filter(decided_at__gt=NOW).exists()
    assert _requests().filter(received_at__lt=NOW - dt.timedelta(days=demo_um.WINDOW_DAYS)).count() == 0
    assert _requests().filter(received_at__lt=NOW - dt.timedelta(days=demo_um.WINDOW_DAYS - 15)).exists()


def test_denials_and_modifications_are_the_medical_directors_with_reasons_and_criteria(
    demo: DemoSummary,
) -> None:
    adverse = AuthEvent.objects.filter(request__number__startswith="UM", action__in=("denied", "modified"))
    assert adverse.filter(action="denied").exists()
    assert adverse.filter(action="modified").exists()
    assert {e.actor.role for e in adverse.select_related("actor") if e.actor} == {Role.MEDICAL_DIRECTOR}
    assert adverse.filter(actor=None).count() == 0
    for r in _requests().filter(status__in=(Status.DENIED, Status.MODIFIED)).select_related("decided_by"):
        assert r.decided_by is not None
        assert r.decided_by.role == Role.MEDICAL_DIRECTOR
        assert len(r.decision_reason) >= 20
        assert r.criteria_text
    # escalations are the nurse's; about one request in twelve is denied or modified
    escalated = AuthEvent.objects.filter(request__number__startswith="UM", action="escalated")
    assert {e.actor.username for e in escalated.select_related("actor") if e.actor} == {"um-nurse"}
    assert 0.03 <= adverse.values("request").distinct().count() / _requests().count() <= 0.15
    # the denial notices were written
    assert AuthNotice.objects.filter(request__status=Status.DENIED, kind="decision").exists()


def test_appeals_are_decided_by_the_other_physician_some_overturned(demo: DemoSummary) -> None:
    appeals = Appeal.objects.select_related("request", "decided_by")
    statuses = Counter(a.status for a in appeals)
    assert statuses["overturned"] >= 1
    assert statuses["upheld"] >= 1
    for appeal in appeals:
        if appeal.status == "open":
            assert appeal.decided_by is None
            continue
        assert appeal.decided_by is not None
        assert appeal.decided_by.role == Role.MEDICAL_DIRECTOR
        decision = (
            AuthEvent.objects.filter(request=appeal.request, action__in=("denied", "modified"))
            .order_by("at")
            .first()
        )
        assert decision is not None
        assert decision.actor_id != appeal.decided_by_id
        if appeal.status == "overturned":
            assert appeal.request.status == Status.APPROVED
    assert User.objects.filter(username="medical-director-2", role=Role.MEDICAL_DIRECTOR).exists()


def test_the_rest_of_the_story(demo: DemoSummary) -> None:
    requests = _requests()
    summary = demo_um.summarize(NOW)
    assert summary.decided_late >= 2
    assert summary.extended >= 1
    assert requests.filter(status=Status.WITHDRAWN).exists()
    assert PeerToPeer.objects.exists()
    assert AuthAttachment.objects.filter(request__number__startswith="UM").exists()
    deemed = requests.filter(status=Status.DEEMED_APPROVED)
    assert deemed.exists()
    for r in deemed:
        assert r.kind == "post_stabilization"
        assert r.decided_at == r.due_at
    for r in requests.filter(status=Status.MODIFIED):
        assert AuthService.objects.filter(request=r, units_approved__lt=models_units()).exists()


def models_units() -> Any:
    from django.db.models import F

    return F("units")


def test_standard_requests_are_answered_in_office_hours(demo: DemoSummary) -> None:
    tz = selectors.ipa_zone()
    answers = AuthEvent.objects.filter(
        request__number__startswith="UM", request__urgency="standard", action__in=("approved", "denied", "modified"),
        actor__isnull=False,
    ).values_list("at", "request__due_at")  # fmt: skip
    on_time = [at.astimezone(tz) for at, due in answers if at <= due]
    assert on_time
    in_hours = [at for at in on_time if at.weekday() < 5 and 8 <= at.hour < 17]
    assert len(in_hours) >= 0.9 * len(on_time)


def test_the_open_queue_has_overdue_and_due_soon_requests(demo: DemoSummary) -> None:
    open_ = _requests().filter(status__in=AuthRequest.OPEN)
    overdue = open_.filter(due_at__lt=NOW)
    assert overdue.count() >= demo_um.OVERDUE_PLANTED
    assert open_.filter(due_at__gte=NOW, due_at__lt=NOW + dt.timedelta(hours=24)).count() >= 1
    assert {"nurse_review", "physician_review"} <= set(open_.values_list("status", flat=True))
    assert {"nurse_review", "physician_review"} <= set(overdue.values_list("status", flat=True))
    nurse = User.objects.get(username="um-nurse")
    assert selectors.request_queryset(nurse, overdue_at=NOW).count() == overdue.count()
    assert Appeal.objects.filter(status="open").exists() or Appeal.objects.count() >= 2


def test_two_practices_refer_less_and_admit_more(demo: DemoSummary) -> None:
    low = set(Practice.objects.filter(code__in=demo.um_low_referral_practices).values_list("pk", flat=True))
    assert len(low) == demo_um.LOW_REFERRAL_PRACTICES
    members = Counter(PcpAssignment.objects.filter(valid_to=None).values_list("practice_id", flat=True))
    asked = Counter(
        _requests().filter(kind__in=("referral", "prior_auth")).values_list("practice_id", flat=True)
    )
    practice_of = dict(PcpAssignment.objects.filter(valid_to=None).values_list("member_id", "practice_id"))
    acute = Counter(
        practice_of.get(member_id)
        for member_id in _requests()
        .filter(kind__in=("admission", "post_stabilization"))
        .values_list("member_id", flat=True)
    )
    others = [p for p in members if p not in low]

    def rate(counts: Counter[Any], practices: list[int] | set[int]) -> float:
        return sum(counts[p] for p in practices) / sum(members[p] for p in practices)

    # referrals and prior authorizations per member: well under half the others'; admissions: well over
    assert rate(asked, low) < 0.5 * rate(asked, others)
    assert rate(acute, low) > 1.5 * rate(acute, others)


def test_the_low_referral_practices_can_be_named(demo: DemoSummary) -> None:
    chosen = Practice.objects.exclude(code__in=demo.um_low_referral_practices).order_by("code").first()
    assert chosen is not None
    with transaction.atomic():
        _clear()
        again = demo_um.build_utilization(
            seed=SEED, today=AS_OF.last_day, low_referral_practices=[chosen.code]
        )
        assert again.low_referral_practices == (chosen.code,)
        transaction.set_rollback(True)


def _clear() -> None:
    for model in (Appeal, AuthNotice, PeerToPeer, AuthAttachment, AuthEvent, AuthService):
        model.objects.all().delete()
    AuthRequest.objects.filter(number__startswith="UM").delete()
    AuthRequirement.objects.all().delete()
    AutoApprovalRule.objects.all().delete()
    CriteriaReference.objects.all().delete()


def test_the_same_seed_builds_the_same_requests(demo: DemoSummary) -> None:
    first = _fingerprint()
    with transaction.atomic():
        _clear()
        again = demo_um.build_utilization(seed=SEED, today=AS_OF.last_day)
        assert again.requests == demo.um_requests
        assert _fingerprint() == first
        transaction.set_rollback(True)


def test_the_build_stays_quick(demo: DemoSummary) -> None:
    assert demo_um.request_count(25_000) == 900  # the full demo: about 15 s of requests
    assert demo_um.request_count(300) == demo_um.MIN_REQUESTS
    assert demo_um.request_count(10**6) == demo_um.MAX_REQUESTS


def test_a_demo_built_today_has_its_overdue_requests_overdue_now() -> None:
    today = dt.date(2026, 11, 30)
    wall = dt.datetime(2026, 11, 27, 4, 0, tzinfo=dt.UTC)
    assert demo_um.demo_now(today, wall=wall) == wall.astimezone(selectors.ipa_zone())
    assert demo_um.demo_now(dt.date(2026, 3, 31), wall=wall) == NOW


@pytest.mark.django_db
def test_without_the_demo_logins_nothing_is_written() -> None:
    # whether or not the module's demo is in this transaction: without the second physician, nothing is built
    User.objects.filter(username="medical-director-2").update(username="someone-else")
    before = (CriteriaReference.objects.count(), AuthRequirement.objects.count(), AuthRequest.objects.count())
    with pytest.raises(demo_um.MissingPersonas, match="medical-director-2"):
        demo_um.build_utilization(seed=SEED, today=AS_OF.last_day)
    after = (CriteriaReference.objects.count(), AuthRequirement.objects.count(), AuthRequest.objects.count())
    assert after == before
