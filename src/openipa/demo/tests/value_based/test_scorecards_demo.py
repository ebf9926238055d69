"""Scorecards on the package's shared demo IPA (500 members, a year of capitation and claims, UM, clinical data,
quality and risk runs): every practice's card computes, with the shipped data file (minimum panel, K = 5);
a practice user's page and CSV name no other practice; the time a card takes is measured. Scorecards are
computed on the fly from the other apps' data: the demo needs no scorecard stage of its own."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from openipa.accounts.models import User
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo.services import DemoSummary
from openipa.network.models import Practice
from openipa.performance import scorecard_selectors as sel
from openipa.performance.engine import scorecard as sc
from openipa.performance.tests.scorecard_fixtures import set_data

AS_OF = Month(2026, 10)
PERIOD = sc.parse_period("2026-Q3", AS_OF.last_day)


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> DemoSummary:
    """The package's shared demo (shared.py)."""
    return value_based_demo


@pytest.fixture
def db_access(built: DemoSummary, db: None) -> None:
    """The module's build, read inside each test's transaction (requesting `db` is also what makes pytest-django
    set the test database up before the module's build)."""


def test_the_league_on_the_demo(built: DemoSummary, db_access: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500-member demo has small panels: with a minimum of 12 member-months some practices are peers."""
    set_data(monkeypatch, min_member_months=12, k=5)
    staff = User.objects.get(username="operations")
    started = time.perf_counter()
    league = sel.league(staff, PERIOD)
    seconds = time.perf_counter() - started
    print(f"league of {len(league.lines)} practices for {PERIOD.label}: {seconds:.2f} s")
    assert len(league.lines) == Practice.objects.count()
    assert any(line.qualifies for line in league.lines)
    cost = league.peers["risk_adjusted_cost_pmpm"]
    assert cost is not None
    assert cost.p25 <= cost.median <= cost.p75
    assert all(line.values["cost_pmpm"] is None or line.values["cost_pmpm"] >= 0 for line in league.lines)
    assert league.sources.risk_run_ids  # the demo approves the current payment year's run
    assert league.sources.quality_run_id is not None


def test_a_practice_user_on_the_demo_sees_no_other_practice(
    built: DemoSummary, db_access: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_data(monkeypatch, min_member_months=12, k=5)
    user = User.objects.filter(role=Role.PRACTICE_USER, practice__isnull=False).order_by("username").first()
    assert user is not None
    assert user.practice_id is not None
    own = Practice.objects.get(pk=user.practice_id)
    client = Client()
    client.force_login(user)
    started = time.perf_counter()
    page = client.get(
        reverse("web:performance:practice_scorecard", args=[own.pk]) + f"?period={PERIOD.label}"
    )
    print(f"practice scorecard page: {time.perf_counter() - started:.2f} s")
    assert page.status_code == 200
    export = client.get(
        reverse("web:performance:practice_scorecard_csv", args=[own.pk]) + f"?period={PERIOD.label}"
    )
    assert export.status_code == 200
    others = Practice.objects.exclude(pk=own.pk)
    for text in (page.content.decode(), export.content.decode()):
        leaked = [
            p.code for p in others if p.legal_name in text or f">{p.code}<" in text or f",{p.code}," in text
        ]
        assert leaked == []
    other = others.first()
    assert other is not None
    refused = client.get(reverse("web:performance:practice_scorecard", args=[other.pk]))
    assert refused.status_code == 404
    card = sel.practice_scorecard(user, own.pk, PERIOD)
    assert card.min_peer_practices == 5
    assert any(row.peers is not None for row in card.rows)
    for row in card.rows:
        if row.peers is not None:
            assert row.peers.groups >= card.min_peer_practices
