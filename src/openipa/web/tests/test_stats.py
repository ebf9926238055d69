"""Platform counts: member-months from eligibility spans, per payer and month, and users per role."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from openipa.accounts.models import User
from openipa.contracts.models import LineOfBusiness, Payer, Product
from openipa.core.roles import Role
from openipa.membership.models import EligibilitySpan, Member
from openipa.web.stats import member_months_by_payer_month, platform_stats

pytestmark = pytest.mark.django_db

D = dt.date


def _member(payer: Payer, product: Product, member_id: str, *spans: tuple[dt.date, dt.date | None]) -> None:
    member = Member.objects.create(
        payer=payer,
        payer_member_id=member_id,
        first_name="Test",
        last_name=member_id,
        date_of_birth=D(1950, 1, 1),
        sex="F",
    )
    for start, end in spans:
        EligibilitySpan.objects.create(member=member, product=product, valid_from=start, valid_to=end)


@pytest.fixture
def spans() -> None:
    """Two payers over January-April 2026 (April is the last month any span starts or ends in)."""
    alpha = Payer.objects.create(code="ALPHA", name="Alpha Health")
    beta = Payer.objects.create(code="BETA", name="Beta Health")
    Payer.objects.create(code="GAMMA", name="Gamma Health (no members)")
    a1 = Product.objects.create(payer=alpha, code="A1", name="A1", line_of_business=LineOfBusiness.COMMERCIAL)
    a2 = Product.objects.create(payer=alpha, code="A2", name="A2", line_of_business=LineOfBusiness.COMMERCIAL)
    b1 = Product.objects.create(payer=beta, code="B1", name="B1", line_of_business=LineOfBusiness.MEDICAID)
    # Overlapping spans in two products count once per month: Jan, Feb, Mar.
    _member(alpha, a1, "A-1", (D(2026, 1, 15), D(2026, 2, 1)), (D(2026, 1, 20), D(2026, 3, 31)))
    _member(alpha, a2, "A-2", (D(2026, 1, 31), D(2026, 1, 31)))  # one day is enough: Jan
    _member(alpha, a1, "A-3", (D(2026, 3, 10), None))  # open: Mar and Apr
    _member(beta, b1, "B-1", (D(2026, 2, 1), D(2026, 2, 28)), (D(2026, 4, 1), D(2026, 4, 30)))  # gap in Mar
    _member(beta, b1, "B-2")  # no eligibility: a member, but no member-months


def test_member_months_count_each_member_once_per_month_covered(spans: None) -> None:
    result = member_months_by_payer_month()
    assert result.months == ("2026-01", "2026-02", "2026-03", "2026-04")
    assert result.by_payer_month == {
        "ALPHA": {"2026-01": 2, "2026-02": 1, "2026-03": 2, "2026-04": 1},
        "BETA": {"2026-01": 0, "2026-02": 1, "2026-03": 0, "2026-04": 1},
        "GAMMA": {"2026-01": 0, "2026-02": 0, "2026-03": 0, "2026-04": 0},
    }
    assert result.by_payer == {"ALPHA": 6, "BETA": 2, "GAMMA": 0}
    assert result.by_month == {"2026-01": 2, "2026-02": 2, "2026-03": 2, "2026-04": 2}
    assert result.total == 8


def test_open_spans_count_through_the_last_month_any_span_starts_or_ends_in(spans: None) -> None:
    beta = Payer.objects.get(code="BETA")
    product = Product.objects.get(code="B1")
    _member(beta, product, "B-3", (D(2026, 6, 5), D(2026, 6, 5)))
    result = member_months_by_payer_month()
    assert result.months[-1] == "2026-06"
    assert result.by_payer_month["ALPHA"]["2026-06"] == 1  # A-3, still open
    assert result.by_payer_month["ALPHA"]["2026-05"] == 1


def test_platform_stats_counts_everything_with_sorted_keys(spans: None) -> None:
    User.objects.create(username="ops1", role=Role.OPERATIONS)
    User.objects.create(username="ops2", role=Role.OPERATIONS)
    stats = platform_stats()
    assert list(stats) == sorted(stats)
    assert stats["members"] == 5
    assert stats["practices"] == 0
    assert stats["providers"] == 0
    assert stats["users_by_role"]["operations"] == 2
    assert stats["users_by_role"]["finance"] == 0
    assert list(stats["users_by_role"]) == sorted(role.value for role in Role)
    assert stats["member_months"]["by_payer"] == {"ALPHA": 6, "BETA": 2, "GAMMA": 0}
    assert list(stats["member_months"]["by_month"]) == ["2026-01", "2026-02", "2026-03", "2026-04"]


def test_an_empty_database_has_zero_counts_and_no_months() -> None:
    stats = platform_stats()
    assert stats["members"] == 0
    assert stats["member_months"] == {"by_month": {}, "by_payer": {}, "by_payer_month": {}}


def test_the_stats_command_prints_the_same_json_twice(spans: None) -> None:
    first, second = StringIO(), StringIO()
    call_command("stats", "--json", stdout=first)
    call_command("stats", "--json", stdout=second)
    assert first.getvalue() == second.getvalue()
    assert json.loads(first.getvalue()) == platform_stats()


def test_the_stats_command_prints_readable_tables(spans: None) -> None:
    out = StringIO()
    call_command("stats", stdout=out)
    text = out.getvalue()
    assert "Member-months" in text
    assert "ALPHA" in text
    assert "2026-04" in text
    assert "Users per role" in text
