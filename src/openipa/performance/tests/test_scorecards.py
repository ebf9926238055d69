"""Scorecards read from the database (golden, by hand: scorecard_fixtures.build), their scoping (a practice
user's own practice and PCPs only; peers only as aggregates of at least K other practices) and their refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openipa.conftest import SmallIpa
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.models import AuditEvent
from openipa.performance import scorecard_selectors as sel
from openipa.performance.engine import scorecard as sc
from openipa.performance.tests.scorecard_fixtures import add_practice, set_data

pytestmark = pytest.mark.django_db

Q1 = sc.parse_period("2026-Q1", dt.date(2026, 11, 27))


@pytest.fixture
def ipa(scorecard_ipa: SmallIpa) -> SmallIpa:
    return scorecard_ipa


def test_golden_practice_scorecard(ipa: SmallIpa) -> None:
    """Practice A: 3 member-months; claims 30,000 + 18,000 capitation = 48,000 cents / 3 = $160.00 PMPM, RAF
    1.500: $106.67; 1 ED visit and 1 imaging study: 12,000 / 3 = 4,000.00 per 1,000; no admission, no
    referral; 1 denial of 5 initial decisions: 0.2; HCCs 18 and 85, 85 open: 0.5; BCS-E met: 1.0, its one
    baseline gap closed: 1.0. The target of $100.00 is not met."""
    card = sel.practice_scorecard(ipa.users["ops"], ipa.practice_a.pk, Q1)
    counts = card.counts
    assert (counts.member_months, counts.claims_cents, counts.capitation_cents) == (3, 30_000, 18_000)
    v = {r.key: r.value for r in card.rows}
    assert v["cost_pmpm"] == Decimal("160.00")
    assert v["raf"] == Decimal("1.500")
    assert v["risk_adjusted_cost_pmpm"] == Decimal("106.67")
    assert v["ed_per_1000"] == v["imaging_per_1000"] == Decimal("4000.00")
    assert v["admissions_per_1000"] == v["referrals_per_1000"] == Decimal("0.00")
    assert (counts.decided, counts.denied, v["denial_rate"]) == (5, 1, Decimal("0.2000"))
    assert (counts.prior_hccs, counts.open_recaptures, v["recapture_rate"]) == (2, 1, Decimal("0.5000"))
    assert v["quality:BCS-E:BCS-E"] == Decimal("1.0000")
    assert (counts.baseline_gaps, counts.gaps_closed, v["gap_closure_rate"]) == (1, 1, Decimal("1.0000"))
    cost = card.row("risk_adjusted_cost_pmpm")
    assert (cost.target, cost.met) == (Decimal("100.00"), False)
    assert not card.raf_defaulted
    assert card.sources.quality_as_of == dt.date(2026, 3, 31)
    assert card.sources.baseline_as_of == dt.date(2026, 1, 31)
    assert set(card.sources.risk_run_ids) == {2026}
    # the trend: 12 months to March 2026; January's cost 30,000 + 6,000 = 36,000 cents / 1 month / 1.5 = $240.00
    trend = {t.key: t for t in card.trend}
    assert len(card.months) == 12
    assert trend["risk_adjusted_cost_pmpm"].values[-3] == Decimal("240.00")
    assert trend["risk_adjusted_cost_pmpm"].values[0] is None  # April 2025: no panel yet
    # quality across the year's runs: BCS-E a gap as of 31 January (0 of 1 met), closed as of 31 March (1 of 1)
    assert card.quality_dates == [dt.date(2026, 1, 31), dt.date(2026, 3, 31)]
    assert card.quality_trend.values == [Decimal("0.0000"), Decimal("1.0000")]
    assert card.quality_trend.peer_median == [
        Decimal("0.0000"),
        Decimal("1.0000"),
    ]  # staff: A is the only one


def test_practice_b_has_no_scores_and_defaults_the_raf(ipa: SmallIpa) -> None:
    card = sel.practice_scorecard(ipa.users["ops"], ipa.practice_b.pk, Q1)
    assert card.raf_defaulted
    assert card.row("raf").value == Decimal("1.000")
    assert card.row("risk_adjusted_cost_pmpm").value == Decimal("0.00")
    assert card.row("denial_rate").value is None
    assert card.row("recapture_rate").value is None


def test_golden_pcp_scorecard_and_the_staff_peers(ipa: SmallIpa) -> None:
    """Staff peers are over every practice with the minimum panel: A's $106.67 and B's $0.00: mean 53.34
    (half-even of 53.335), median 53.34."""
    card = sel.pcp_scorecard(ipa.users["ops"], ipa.pcp_a.pk, Q1)
    assert (card.name, card.code, card.practice_id) == (str(ipa.pcp_a), ipa.pcp_a.npi, ipa.practice_a.pk)
    assert card.row("risk_adjusted_cost_pmpm").value == Decimal("106.67")
    staff = sel.practice_scorecard(ipa.users["ops"], ipa.practice_a.pk, Q1)
    peers = staff.row("risk_adjusted_cost_pmpm").peers
    assert peers is not None
    assert (peers.units, peers.mean, peers.median) == (2, Decimal("53.34"), Decimal("53.34"))


def test_a_practice_user_sees_only_its_own(ipa: SmallIpa) -> None:
    alice = ipa.users["alice"]
    assert sel.practice_scorecard(alice, ipa.practice_a.pk, Q1).name == ipa.practice_a.legal_name
    assert sel.pcp_scorecard(alice, ipa.pcp_a.pk, Q1).unit_id == ipa.pcp_a.pk
    with pytest.raises(NotFound):
        sel.practice_scorecard(alice, ipa.practice_b.pk, Q1)
    with pytest.raises(NotFound):
        sel.pcp_scorecard(alice, ipa.pcp_b.pk, Q1)
    with pytest.raises(NotFound):
        sel.practice_pcps(alice, ipa.practice_b.pk, Q1)
    with pytest.raises(PermissionDenied):
        sel.league(alice, Q1)
    assert [line.unit_id for line in sel.practice_pcps(alice, ipa.practice_a.pk, Q1)] == [ipa.pcp_a.pk]


def test_roles_without_the_scorecards_are_refused(ipa: SmallIpa) -> None:
    for name in ("messenger", "nurse", "md"):
        with pytest.raises(PermissionDenied):
            sel.practice_scorecard(ipa.users[name], ipa.practice_a.pk, Q1)
    with pytest.raises(NotFound):
        sel.practice_scorecard(ipa.users["ops"], 999_999, Q1)


def test_k_boundary_for_a_practice_user(ipa: SmallIpa, monkeypatch: pytest.MonkeyPatch) -> None:
    """K = 2. Alice (practice A) with one other practice (B): "not enough peers" everywhere; with a second
    (C): the aggregate of B and C, never A's own value in it."""
    alice = ipa.users["alice"]
    card = sel.practice_scorecard(alice, ipa.practice_a.pk, Q1)
    assert all(r.peers is None for r in card.rows)
    assert all(m is None for t in card.trend for m in t.peer_median)
    add_practice(ipa, 1, "CEDAR", "Cedar Internal Medicine")
    card = sel.practice_scorecard(alice, ipa.practice_a.pk, Q1)
    peers = card.row("risk_adjusted_cost_pmpm").peers
    assert peers is not None
    assert (peers.units, peers.groups) == (2, 2)
    assert peers.mean == peers.median == Decimal("0.00")  # B and C: no cost; A's 106.67 is not among them
    set_data(monkeypatch, min_member_months=1, k=3)
    assert sel.practice_scorecard(alice, ipa.practice_a.pk, Q1).row("risk_adjusted_cost_pmpm").peers is None


def test_small_panels_are_not_peers(ipa: SmallIpa, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a minimum of 4 member-months, no practice (3 each) counts among the peers, even for staff."""
    set_data(monkeypatch, min_member_months=4, k=2)
    card = sel.practice_scorecard(ipa.users["ops"], ipa.practice_a.pk, Q1)
    assert not card.qualifies
    assert card.row("cost_pmpm").peers is None


def test_the_league_lists_every_practice_for_staff(ipa: SmallIpa) -> None:
    league = sel.league(ipa.users["auditor"], Q1)
    assert [line.code for line in league.lines] == ["ALDER", "BIRCH"]
    assert league.lines[0].values["risk_adjusted_cost_pmpm"] == Decimal("106.67")


def test_scorecards_are_aggregates_and_not_audited(ipa: SmallIpa) -> None:
    before = AuditEvent.objects.count()
    sel.practice_scorecard(ipa.users["alice"], ipa.practice_a.pk, Q1)
    assert AuditEvent.objects.count() == before
