"""How much the scorecard pages read (found on the 25,000-member demo, where a practice's page took over 8 s):
a practice's page reads the period's inputs once for its own card and its PCPs' lines, and capitation comes
summed per month, practice and PCP from the database instead of one row per member-month. The sums are the
same (the golden tests in test_scorecards check the figures)."""

from __future__ import annotations

import datetime as dt
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
