"""The board dashboard end to end on the golden fixture (conftest.py): the figures computed by hand, the lights,
the drill-downs, the CSV, the refusals (nothing changed by them) and the firewall: the board persona's pages
carry no offer, rate, member or practice-level text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from openipa.board import engine, selectors
from openipa.board.tests.conftest import AS_OF, OFFER_RATE_CENTS, OFFER_TERMS, OFFER_TITLE
from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.ledger.models import JournalEntry
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db
Q2 = "2026-Q2"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages judge the criteria on 15 July 2026 (the fixture's 'today')."""
    monkeypatch.setattr("openipa.board.views.today", lambda: AS_OF)


def _dashboard(board_ipa: Any, period: str = Q2) -> selectors.Dashboard:
    return selectors.board_dashboard(
        board_ipa.users["board"], period=engine.parse_period(period, today=AS_OF), as_of=AS_OF
    )


def _client(board_ipa: Any, name: str) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(board_ipa.users[name])
    return client


# -- golden figures -----------------------------------------------------------------------------------------


def test_revenue_cost_pmpm_and_mlr_by_line_of_business_are_the_hand_computed_ones(board_ipa: Any) -> None:
    board = _dashboard(board_ipa)
    by_lob = {f.label: f for f in board.lobs}
    assert list(by_lob) == ["medicare_advantage", "commercial"]
    ma, comm, total = by_lob["medicare_advantage"], by_lob["commercial"], board.total
    assert (ma.member_months, ma.revenue_cents, ma.claims_cents, ma.capitation_cents, ma.ibnr_cents) == (
        6, 450_789, 350_000, 70_000, 50_000,
    )  # fmt: skip
    assert (comm.member_months, comm.revenue_cents, comm.claims_cents, comm.capitation_cents, comm.ibnr_cents) == (
        3, 120_211, 30_000, 0, 5_000,
    )  # fmt: skip
    assert ma.cost_cents == 470_000
    assert comm.cost_cents == 35_000
    assert total.cost_cents == 505_000
    # PMPM half up to the cent: 450,789 / 6 = 75,131.5 -> 75,132; 470,000 / 6 = 78,333.3 -> 78,333
    assert (ma.revenue_pmpm, ma.cost_pmpm) == (75_132, 78_333)
    assert (comm.revenue_pmpm, comm.cost_pmpm) == (40_070, 11_667)
    assert (total.member_months, total.revenue_cents, total.revenue_pmpm, total.cost_pmpm) == (
        9,
        571_000,
        63_444,
        56_111,
    )
    # MLR = cost / revenue: 470,000 / 450,789 = 1.04262; 35,000 / 120,211 = 0.29116; 505,000 / 571,000 = 0.88441
    assert (ma.mlr, comm.mlr, total.mlr) == (Decimal("1.0426"), Decimal("0.2912"), Decimal("0.8844"))
    assert total.mlr_percent == Decimal("88.4")


def test_monthly_figures_and_membership(board_ipa: Any) -> None:
    board = _dashboard(board_ipa)
    assert [f.label for f in board.months] == ["2026-04", "2026-05", "2026-06"]
    assert [f.member_months for f in board.months] == [3, 3, 3]
    assert [f.revenue_cents for f in board.months] == [191_000, 190_000, 190_000]
    # April: claims 100,000 + capitation 70,000; May: 250,000 (+20,000 -20,000) + IBNR 10,000; June: 30,000 + 45,000
    assert [f.cost_cents for f in board.months] == [170_000, 260_000, 75_000]
    assert [m.member_months for m in board.months_of("commercial")] == [1, 1, 1]


def test_one_month_and_year_to_date_periods(board_ipa: Any) -> None:
    may = _dashboard(board_ipa, "2026-05")
    assert may.period.first == may.period.last
    assert may.total.revenue_cents == 190_000
    ytd = _dashboard(board_ipa, "2026-06-YTD")
    assert str(ytd.period.first) == "2026-01"
    assert ytd.total.revenue_cents == 571_000
    # the March IBNR (7.77) falls in the year to date, not in the quarter
    assert ytd.total.ibnr_cents == 55_777


def test_rbo_criteria_from_the_ledger_the_reserve_and_the_claims(board_ipa: Any) -> None:
    board = _dashboard(board_ipa)
    lights = {c.key: c for c in board.criteria}
    # cash 9,000.00 / (claims payable 2,000.00 + IBNR 557.77) = 3.5187 (the July entry is after the period)
    assert lights["cash_to_claims"].value == Decimal("3.5187")
    assert lights["cash_to_claims"].light == engine.Light.GREEN
    # current assets 9,500.00 - current liabilities 2,000.00 - unbooked IBNR 557.77
    assert lights["working_capital"].value == 694_223
    # equity 10,000.00 + revenue 500.00 - expenses 3,000.00 - IBNR 557.77 - no intangibles
    assert lights["tangible_net_equity"].value == 694_223
    assert lights["ibnr_documented"].light == engine.Light.GREEN
    assert lights["ibnr_documented"].value_text == "approved (2026-06)"
    assert "method volume_weighted" in lights["ibnr_documented"].arithmetic
    # 6 claims decided within 45 working days of 7 counted (one pended since 2 April): 85.7%, red (< 90)
    assert lights["claims_timeliness"].value == Decimal("85.7")
    assert lights["claims_timeliness"].light == engine.Light.RED


def test_ibnr_undocumented_for_the_last_closed_month_is_red_and_a_draft_amber(board_ipa: Any) -> None:
    from openipa.claims.models import IbnrEstimate

    # judged on 15 August: the last closed month is July, which has no estimate
    board = selectors.board_dashboard(None, period=engine.parse_period("2026-07", today=AS_OF),
                                      as_of=dt.date(2026, 8, 15))  # fmt: skip
    assert board.criterion("ibnr_documented").light == engine.Light.RED
    IbnrEstimate.objects.create(as_of=dt.date(2026, 7, 1), method="simple", prepared_by="fin")
    board = selectors.board_dashboard(None, period=engine.parse_period("2026-07", today=AS_OF),
                                      as_of=dt.date(2026, 8, 15))  # fmt: skip
    assert board.criterion("ibnr_documented").light == engine.Light.AMBER


def test_cost_drivers_sum_to_the_claims_paid_with_pmpm(board_ipa: Any) -> None:
    drivers = _dashboard(board_ipa).drivers
    assert drivers.paid_cents == 380_000
    assert [(d.label, d.paid_cents, d.pmpm_cents) for d in drivers.categories] == [
        ("inpatient", 250_000, 27_778), ("professional", 100_000, 11_111), ("emergency", 30_000, 3_333),
    ]  # fmt: skip
    assert [d.label for d in drivers.diagnoses] == [
        "Circulatory system", "Endocrine, nutritional and metabolic", "Injury and poisoning",
    ]  # fmt: skip
    assert [d.label for d in drivers.places] == ["21 Inpatient hospital", "11 Office", "23 Emergency room"]
    for rows in (drivers.categories, drivers.diagnoses, drivers.places):
        assert sum(d.paid_cents for d in rows) == drivers.paid_cents


def test_quality_trajectory_across_runs_against_target(board_ipa: Any) -> None:
    quality = _dashboard(board_ipa).quality
    assert quality.runs == ("MY2026 as of 2026-03-31", "MY2026 as of 2026-06-30")
    (col,) = quality.measures
    assert col.percents == (Decimal("50.0"), Decimal("60.0"))
    assert col.latest == Decimal("60.0")
    if col.target_percent is not None:
        assert col.met == (Decimal("60.0") >= col.target_percent)


# -- pages ---------------------------------------------------------------------------------------------------


def test_the_board_member_sees_the_dashboard_with_lights_and_charts(board_ipa: Any) -> None:
    response = _client(board_ipa, "board").get(reverse("web:board:dashboard"), {"period": Q2})
    assert response.status_code == 200
    page = html(response)
    for key in engine.CRITERION_TITLES:
        assert f'data-testid="light-{key}"' in page
    assert 'data-testid="light-claims_timeliness" data-light="red"' in page
    assert 'data-testid="light-cash_to_claims" data-light="green"' in page
    assert page.count("<svg") >= 5
    assert "$4,507.89" in page
    assert "$751.32" in page
    assert "104.3%" in page
    assert "88.4%" in page
    assert "volume_weighted" in page


def test_the_board_pages_carry_no_offer_rate_member_or_practice_text(board_ipa: Any) -> None:
    client = _client(board_ipa, "board")
    pages = [client.get(reverse("web:board:dashboard"), {"period": Q2})]
    pages += [
        client.get(reverse("web:board:criterion", args=[k]), {"period": Q2}) for k in engine.CRITERION_TITLES
    ]
    pages.append(client.get(reverse("web:board:dashboard_csv"), {"period": Q2}))
    ipa = board_ipa.ipa
    forbidden = [
        OFFER_TITLE, OFFER_TERMS, "Zephyr", "quill-feather", "133.77", str(OFFER_RATE_CENTS), "99213",
        ipa.member_a.last_name, ipa.member_b.last_name, board_ipa.member_c.last_name, "SUN0001", "SUN0003",
        ipa.practice_a.legal_name, ipa.practice_b.legal_name, "ALDER", "BIRCH", "1234567893", "12.000",
        "/messenger/", "/contracts/", "/members/", "/ledger/", "/claims/",
    ]  # fmt: skip
    for response in pages:
        assert response.status_code == 200
        text = response.content.decode()
        found = [f for f in forbidden if f in text]
        assert not found, f"{response.request['PATH_INFO']} shows {found}"


def test_staff_get_links_to_the_ledger_claims_and_reserves_pages(board_ipa: Any) -> None:
    page = html(_client(board_ipa, "auditor").get(reverse("web:board:criterion", args=["cash_to_claims"]),
                                                  {"period": Q2}))  # fmt: skip
    assert reverse("web:ledger:trial_balance") in page
    assert reverse("web:ledger:account_detail", args=["1000"]) in page
    assert reverse("web:claims:reserve_detail", args=[board_ipa.estimate.pk]) in page
    assert reverse("web:claims:dashboard") in page


def test_a_drill_down_shows_inputs_and_arithmetic(board_ipa: Any) -> None:
    response = _client(board_ipa, "board").get(reverse("web:board:criterion", args=["cash_to_claims"]),
                                               {"period": Q2})  # fmt: skip
    page = html(response)
    assert "$9,000.00 / ($2,000.00 + $557.77) = 3.5187" in page
    assert "no intangible asset account" in page
    assert 'data-light="green"' in page
    assert _client(board_ipa, "board").get("/board/criteria/no-such/").status_code == 404


def test_the_csv_has_the_figures(board_ipa: Any) -> None:
    response = _client(board_ipa, "fin").get(reverse("web:board:dashboard_csv"), {"period": Q2})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('board-2026-Q2.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == list(selectors.CSV_HEADER)
    found = {(r[0], r[1], r[3]): r[4] for r in rows[1:]}
    assert found[("period", "all", "revenue")] == "5710.00"
    assert found[("period", "all", "mlr")] == "0.8844"
    assert found[("period", "medicare_advantage", "cost_pmpm")] == "783.33"
    assert found[("rbo", "", "claims_timeliness_light")] == "red"


def test_a_bad_period_is_said_and_the_default_shown(board_ipa: Any) -> None:
    response = _client(board_ipa, "board").get(reverse("web:board:dashboard"), {"period": "2026-Q7"})
    assert response.status_code == 200
    assert "expected a month" in html(response)
    assert re.search(r"quarter 2026-Q2", html(response), re.IGNORECASE)


@pytest.mark.parametrize("name", ["alice", "bob", "ops", "quality", "messenger"])
def test_practice_users_operations_and_quality_are_refused_and_nothing_changes(
    board_ipa: Any, name: str
) -> None:
    before = (AuditEvent.objects.count(), JournalEntry.objects.count())
    client = _client(board_ipa, name)
    for url in (
        reverse("web:board:dashboard"),
        reverse("web:board:dashboard_csv"),
        reverse("web:board:criterion", args=["cash_to_claims"]),
    ):
        response = client.get(url, {"period": Q2})
        assert response.status_code == 403
        assert "$4,507.89" not in response.content.decode()
    assert (AuditEvent.objects.count(), JournalEntry.objects.count()) == before
    with pytest.raises(PermissionDenied):
        selectors.board_dashboard(
            board_ipa.users[name], period=engine.parse_period(Q2, today=AS_OF), as_of=AS_OF
        )


@pytest.mark.parametrize("name", ["admin", "fin", "auditor", "board"])
def test_every_role_with_view_board_sees_it(board_ipa: Any, name: str) -> None:
    assert _client(board_ipa, name).get(reverse("web:board:dashboard"), {"period": Q2}).status_code == 200


def test_anonymous_is_sent_to_sign_in(client: Any, board_ipa: Any) -> None:
    response = client.get(reverse("web:board:dashboard"))
    assert response.status_code in (302, 403)
    assert "$4,507.89" not in response.content.decode()
