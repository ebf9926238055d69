"""How much the scorecard pages read (found on the 25,000-member demo, where a practice's page took over 8 s):
a practice's page reads the period's inputs once for its own card and its PCPs' lines, and capitation comes
summed per month, practice and PCP from the database instead of one row per member-month. The sums are the
same (the golden tests in test_scorecards check the figures)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openipa.capitation.models import DistributionLine, DistributionRun
from openipa.conftest import SmallIpa
from openipa.core.errors import NotFound
from openipa.performance import scorecard_selectors as sel
from openipa.performance.engine import scorecard as sc

pytestmark = pytest.mark.django_db

Q1 = sc.parse_period("2026-Q1", dt.date(2026, 11, 27))


def _distribution_reads(queries: list[dict[str, Any]]) -> int:
    return sum(1 for q in queries if 'FROM "capitation_distributionline"' in q["sql"])


def test_a_practice_page_reads_its_inputs_once(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    url = (
        reverse("web:performance:practice_scorecard", args=[scorecard_ipa.practice_a.pk]) + "?period=2026-Q1"
    )
    client = client_for("ops")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert scorecard_ipa.pcp_a.npi in response.content.decode()  # the PCPs' table is there
    assert _distribution_reads(ctx.captured_queries) == 1  # was 2: once for the card, once for the PCPs


def test_practice_page_matches_the_two_reads(scorecard_ipa: SmallIpa) -> None:
    ipa, ops = scorecard_ipa, scorecard_ipa.users["ops"]
    card, pcps = sel.practice_page(ops, ipa.practice_a.pk, Q1)
    alone = sel.practice_scorecard(ops, ipa.practice_a.pk, Q1)
    assert [(r.key, r.value, r.peers) for r in card.rows] == [(r.key, r.value, r.peers) for r in alone.rows]
    assert pcps == sel.practice_pcps(ops, ipa.practice_a.pk, Q1)


def test_practice_page_refuses_another_practice_before_reading(
    scorecard_ipa: SmallIpa, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[sc.ScorePeriod] = []
    monkeypatch.setattr(sel, "load_inputs", lambda period: calls.append(period))
    with pytest.raises(NotFound):
        sel.practice_page(scorecard_ipa.users["alice"], scorecard_ipa.practice_b.pk, Q1)
    assert calls == []


def test_capitation_is_summed_per_month_practice_and_pcp(scorecard_ipa: SmallIpa) -> None:
    ipa = scorecard_ipa
    run = DistributionRun.objects.filter(status="paid").get()
    # a second member of the same panel in January: two lines, one row
    DistributionLine.objects.create(run=run, member=ipa.member_b, month=dt.date(2026, 1, 1), practice=ipa.practice_a,
                                    provider=ipa.pcp_a, pcp_net_cents=700, specialist_cents=-200)  # fmt: skip
    frame = sel.capitation_frame(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert frame.schema == sc.CAPITATION_SCHEMA
    rows = sorted((r["month"], r["practice"], r["pcp"], r["cents"]) for r in frame.iter_rows(named=True))
    assert rows == [
        (dt.date(2026, 1, 1), ipa.practice_a.pk, ipa.pcp_a.pk, 6_000 + 500),  # the draft run's 9,999 left out
        (dt.date(2026, 2, 1), ipa.practice_a.pk, ipa.pcp_a.pk, 6_000),
        (dt.date(2026, 3, 1), ipa.practice_a.pk, ipa.pcp_a.pk, 6_000),
    ]
    card = sel.practice_scorecard(ipa.users["ops"], ipa.practice_a.pk, Q1)
    assert card.counts.capitation_cents == 18_500


def test_no_paid_capitation_is_an_empty_frame(scorecard_ipa: SmallIpa) -> None:
    frame = sel.capitation_frame(dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert frame.height == 0
    assert frame.schema == sc.CAPITATION_SCHEMA


def _unit(member_months: int, scored: int, raf_milli_months: int, claims_cents: int) -> sc.UnitMetrics:
    return sc._with_values(
        sc.UnitMetrics(1, member_months, claims_cents, 0, scored, raf_milli_months, 0, 0, 0, 0, 0, 0, 0, 0, None,
                       None, ())
    )  # fmt: skip


def test_unscored_member_months_count_one_in_the_risk_adjustment() -> None:
    """4 member-months, one scored at 0.500, $350.00: cost PMPM $87.50 / ((0.500 + 3 x 1.000) / 4 = 0.875) =
    $100.00 (dividing by the scored month's 0.500 alone gave $175.00); the RAF shown stays the scored mean."""
    mixed = _unit(4, 1, 500, 35_000)
    assert mixed.values["cost_pmpm"] == Decimal("87.50")
    assert mixed.values["risk_adjusted_cost_pmpm"] == Decimal("100.00")
    assert mixed.values["raf"] == Decimal("0.500")
    assert sc.adjusting_raf(500, 1, 4) == Fraction(7, 8)


def test_the_risk_adjustment_of_wholly_scored_and_unscored_panels() -> None:
    scored = _unit(3, 3, 4_500, 48_000)  # every month at 1.500: $160.00 / 1.5
    assert scored.values["risk_adjusted_cost_pmpm"] == Decimal("106.67")
    unscored = _unit(3, 0, 0, 48_000)  # no score: divided by 1.000
    assert unscored.values["risk_adjusted_cost_pmpm"] == unscored.values["cost_pmpm"] == Decimal("160.00")
    assert unscored.values["raf"] == Decimal("1.000")
    assert sc.adjusting_raf(0, 0, 0) == 1
    assert _unit(0, 0, 0, 0).values["risk_adjusted_cost_pmpm"] is None
