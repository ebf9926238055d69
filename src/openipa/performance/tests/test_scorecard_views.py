"""The scorecard pages and CSVs by persona: staff see the league and any card; a practice user is sent to its
own card, and nothing it gets (pages, CSV) names another practice, its code, its PCP or its PCP's NPI;
another practice's card or PCP is a 404, the league a 403; roles without the scorecards get a 403."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from openipa.conftest import SmallIpa
from openipa.performance.tests.scorecard_fixtures import add_practice

pytestmark = pytest.mark.django_db

Q = "?period=2026-Q1"


def _urls(ipa: SmallIpa) -> dict[str, str]:
    return {
        "home": reverse("web:performance:scorecards") + Q,
        "a": reverse("web:performance:practice_scorecard", args=[ipa.practice_a.pk]) + Q,
        "b": reverse("web:performance:practice_scorecard", args=[ipa.practice_b.pk]) + Q,
        "a_csv": reverse("web:performance:practice_scorecard_csv", args=[ipa.practice_a.pk]) + Q,
        "b_csv": reverse("web:performance:practice_scorecard_csv", args=[ipa.practice_b.pk]) + Q,
        "pcp_a": reverse("web:performance:pcp_scorecard", args=[ipa.pcp_a.pk]) + Q,
        "pcp_b": reverse("web:performance:pcp_scorecard", args=[ipa.pcp_b.pk]) + Q,
        "pcp_a_csv": reverse("web:performance:pcp_scorecard_csv", args=[ipa.pcp_a.pk]) + Q,
        "pcp_b_csv": reverse("web:performance:pcp_scorecard_csv", args=[ipa.pcp_b.pk]) + Q,
        "league_csv": reverse("web:performance:scorecard_league_csv") + Q,
    }


def _leaks(text: str, ipa: SmallIpa, others: list[Any]) -> list[str]:
    secrets = [
        ipa.practice_b.legal_name,
        ipa.practice_b.code,
        ipa.pcp_b.npi,
        ipa.pcp_b.last_name,
        ipa.practice_b.tin,
    ]
    for practice in others:
        secrets += [practice.legal_name, practice.code]
    return [s for s in secrets if s in text]


def test_staff_see_the_league_and_every_card(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    ipa, urls = scorecard_ipa, _urls(scorecard_ipa)
    client = client_for("ops")
    home = client.get(urls["home"])
    assert home.status_code == 200
    text = home.content.decode()
    assert ipa.practice_a.legal_name in text
    assert ipa.practice_b.legal_name in text
    assert "scorecard-league-title" in text  # the chart
    for name in ("a", "b", "pcp_a", "pcp_b"):
        assert client.get(urls[name]).status_code == 200, name
    card = client.get(urls["a"]).content.decode()
    assert "$106.67" in card  # the risk-adjusted cost PMPM
    assert "Ada Alder" in card  # its PCPs
    assert "scorecard-risk_adjusted_cost_pmpm-title" in card  # a trend chart
    rows = list(csv.reader(io.StringIO(client.get(urls["league_csv"]).content.decode())))
    assert [r[0] for r in rows[1:]] == ["ALDER", "BIRCH"]


def test_the_scorecard_csv_is_exact(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    response = client_for("fin").get(_urls(scorecard_ipa)["a_csv"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["risk_adjusted_cost_pmpm"]["value"] == "106.67"
    assert rows["risk_adjusted_cost_pmpm"]["target_met"] == "false"
    assert rows["denial_rate"]["value"] == "0.2000"
    assert rows["quality:BCS-E:BCS-E"]["value"] == "1.0000"


def test_a_practice_user_sees_its_own_and_nothing_of_others(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    """Alice (practice A), with two other practices (B and C) and K = 2: peers are shown as aggregates, and no
    page or CSV she can open names B, C, their codes, B's PCP or NPI."""
    ipa, urls = scorecard_ipa, _urls(scorecard_ipa)
    cedar, _pcp, _member = add_practice(ipa, 1, "CEDAR", "Cedar Internal Medicine")
    client = client_for("alice")
    home = client.get(urls["home"])
    assert home.status_code == 302
    assert home["Location"].startswith(
        reverse("web:performance:practice_scorecard", args=[ipa.practice_a.pk])
    )
    for name in ("a", "a_csv", "pcp_a", "pcp_a_csv"):
        response = client.get(urls[name])
        assert response.status_code == 200, name
        text = response.content.decode()
        assert _leaks(text, ipa, [cedar]) == [], name
    page = client.get(urls["a"]).content.decode()
    cost = page[page.index('data-testid="metrics-cost"') :]
    cost = cost[: cost.index("</table>")]
    assert "not enough peers" not in cost  # two other practices with costs: aggregates are shown
    assert "$0.00" in cost  # B's and C's mean and quartiles
    assert "not enough peers" in page  # the denial rate: neither B nor C had a decision
    assert "All practices" not in page
    for name in ("b", "b_csv", "pcp_b", "pcp_b_csv"):
        assert client.get(urls[name]).status_code == 404, name
    assert client.get(urls["league_csv"]).status_code == 403


def test_a_practice_user_with_too_few_peers_sees_not_enough_peers(
    scorecard_ipa: SmallIpa, client_for: Any
) -> None:
    """K = 2 and only one other practice (B): no peer figure at all, in the page or the CSV."""
    urls = _urls(scorecard_ipa)
    client = client_for("alice")
    page = client.get(urls["a"]).content.decode()
    assert "not enough peers" in page
    assert "Peer median" not in page  # no peer line in the trend charts either
    rows = list(csv.DictReader(io.StringIO(client.get(urls["a_csv"]).content.decode())))
    assert {r["peer_units"] for r in rows} == {"not enough peers"}
    assert {r["peer_median"] for r in rows} == {""}


def test_roles_without_the_scorecards_get_403(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    urls = _urls(scorecard_ipa)
    client = client_for("messenger")
    for name in ("home", "a", "a_csv", "pcp_a", "league_csv"):
        assert client.get(urls[name]).status_code == 403, name


def test_a_bad_period_is_said_and_the_default_shown(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    url = (
        reverse("web:performance:practice_scorecard", args=[scorecard_ipa.practice_a.pk]) + "?period=2026-Q9"
    )
    response = client_for("ops").get(url)
    assert response.status_code == 200
    assert 'data-testid="period-error"' in response.content.decode()


def test_an_unknown_practice_is_404(scorecard_ipa: SmallIpa, client_for: Any) -> None:
    url = reverse("web:performance:practice_scorecard", args=[999_999]) + Q
    assert client_for("ops").get(url).status_code == 404
