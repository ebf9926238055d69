"""The under-service watch on synthetic practices: one planted as under-referring while its ED rate worsens,
one with many denials, and one small practice below the minimum member-months (never flagged)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from openipa.performance.engine import watch

D = dt.date
YEAR = watch.Period(D(2026, 1, 1), D(2026, 12, 31))
THRESHOLDS = watch.Thresholds(referral_ratio=0.5, outcome_ratio=1.2, denial_ratio=2.0, min_member_months=600)
MEMBERS = {1: 60, 2: 60, 3: 60, 4: 60, 5: 60, 6: 10}  # practice -> members (each eligible all of 2025-2026)
REFERRALS = {1: 3, 2: 30, 3: 36, 4: 24, 5: 30, 6: 0}  # in 2026
DENIED = {1: 0, 2: 3, 3: 3, 4: 3, 5: 12, 6: 0}  # of 30 prior authorizations (the referrals are approved)
ED_2026 = {1: 12, 2: 6, 3: 6, 4: 5, 5: 6, 6: 10}
ED_2025 = {1: 6, 2: 6, 3: 6, 4: 5, 5: 6, 6: 1}


def member_id(practice: int, i: int) -> int:
    return practice * 1000 + i


def build(ed_2026: dict[int, int] = ED_2026, ed_2025: dict[int, int] = ED_2025) -> dict[str, Any]:
    eligibility, assignments, requests, lines = [], [], [], []
    for practice, count in MEMBERS.items():
        for i in range(count):
            m = member_id(practice, i)
            eligibility.append((m, D(2025, 1, 1), None))
            assignments.append((m, practice, practice * 10, D(2025, 1, 1), None))
        for i in range(REFERRALS[practice]):
            requests.append((member_id(practice, i % count), D(2026, 3, 1 + i % 28), "referral", "approved"))
        # 30 prior authorizations per practice (none at the small one), DENIED[practice] of them denied
        for i in range(30 if practice != 6 else 0):
            outcome = "denied" if i < DENIED[practice] else "approved"
            requests.append((member_id(practice, i % count), D(2026, 5, 1 + i % 28), "prior_auth", outcome))
        for year, ed in ((2026, ed_2026), (2025, ed_2025)):
            for i in range(ed[practice]):
                lines.append((member_id(practice, i % count), D(year, 7, 1 + i), "professional", "23", "", "",
                              "99284"))  # fmt: skip
    return {
        "eligibility": pl.DataFrame(eligibility, schema=watch.ELIGIBILITY_SCHEMA, orient="row"),
        "assignments": pl.DataFrame(assignments, schema=watch.ASSIGNMENT_SCHEMA, orient="row"),
        "requests": pl.DataFrame(requests, schema=watch.REQUEST_SCHEMA, orient="row"),
        "claim_lines": pl.DataFrame(lines, schema=watch.CLAIM_LINE_SCHEMA, orient="row"),
    }


def rows(result: pl.DataFrame, unit: str = "practice") -> dict[int, dict[str, Any]]:
    return {r[unit]: r for r in result.iter_rows(named=True)}


def test_the_planted_practices_are_flagged_and_the_small_one_is_not() -> None:
    """Member-months: 60 members x 12 = 720 (the small practice 120). Referral rates per 1,000 member-years
    (n x 12,000 / 720): 50, 500, 600, 400, 500; peer median 500 (the small practice is not a peer). Practice 1
    refers under 0.5 x 500 = 250, and its 12 ED visits (200 per 1,000) are over 1.2 x the peer median 100.
    Denials over decisions (the referrals plus 30 prior authorizations): 0/33, 3/60, 3/66, 3/54 and 12/60 = 0%,
    5%, 4.5%, 5.6% and 20%; peer median 5%: practice 5 is over 2 x. The small practice (no referral, ED
    rate 1,000) has 120 member-months < 600: not flagged."""
    result = rows(watch.watch(**build(), period=YEAR, thresholds=THRESHOLDS))
    assert {p for p, r in result.items() if r["flagged"]} == {1, 5}
    one = result[1]
    assert one["member_months"] == 720
    assert one["referrals"] == 3
    assert one["referral_rate"] == pytest.approx(50)
    assert one["peer_referral_rate"] == pytest.approx(500)
    assert one["ed_rate"] == pytest.approx(200)
    assert one["peer_ed_rate"] == pytest.approx(100)
    assert one["prev_ed_rate"] == pytest.approx(100)
    assert len(one["reasons"]) == 1
    assert one["reasons"][0].startswith(
        "referrals 50.0 per 1,000 under 0.5 x the peer median 500.0, while ED visits"
    )
    assert result[5]["denial_rate"] == pytest.approx(20)
    assert result[5]["peer_denial_rate"] == pytest.approx(5)
    assert result[5]["reasons"] == ["denials 20.0% over 2 x the peer median 5.0%"]
    small = result[6]
    assert (small["member_months"], small["qualifies"], small["flagged"], small["reasons"]) == (
        120,
        False,
        False,
        [],
    )
    assert small["ed_rate"] == pytest.approx(1000)
    assert result[1]["risk"] is None
    # flagged first
    assert list(watch.watch(**build(), period=YEAR, thresholds=THRESHOLDS)["flagged"])[:2] == [
        True,
        True,
    ]


def test_an_outcome_worse_than_its_own_previous_period_flags() -> None:
    """Practice 1's ED visits: 7 in 2026 (116.7 per 1,000, under 1.2 x the peer median 100 = 120) but 3 in
    2025 (50): over 1.2 x its own previous rate. Under-referring, so flagged; with 2025 at 6 visits it is not."""
    result = rows(
        watch.watch(**build({**ED_2026, 1: 7}, {**ED_2025, 1: 3}), period=YEAR, thresholds=THRESHOLDS)
    )
    assert result[1]["flagged"]
    assert "over 1.2 x its previous period's 50.0" in result[1]["reasons"][0]
    steady = rows(
        watch.watch(**build({**ED_2026, 1: 7}, {**ED_2025, 1: 6}), period=YEAR, thresholds=THRESHOLDS)
    )
    assert not steady[1]["flagged"]


def test_under_referring_alone_does_not_flag() -> None:
    result = rows(watch.watch(**build({**ED_2026, 1: 6}), period=YEAR, thresholds=THRESHOLDS))
    assert result[1]["referral_rate"] < 250
    assert not result[1]["flagged"]


def test_per_pcp() -> None:
    result = rows(watch.watch(**build(), period=YEAR, thresholds=THRESHOLDS, unit="pcp"), "pcp")
    assert {p for p, r in result.items() if r["flagged"]} == {10, 50}
    with pytest.raises(ValueError, match="unit is practice or pcp"):
        watch.watch(**build(), period=YEAR, thresholds=THRESHOLDS, unit="region")


def test_risk_adjustment_divides_by_the_practices_mean_risk() -> None:
    """Practice 1's members have a risk score of 0.15 (a healthy panel), everybody else 1.0: its referral
    rate becomes 50 / 0.15 = 333.3, no longer under 0.5 x the peer median (500): not flagged."""
    frames = build()
    members = frames["eligibility"]["member"]
    risk = pl.DataFrame({"member": members, "risk": [0.15 if m < 2000 else 1.0 for m in members]},
                        schema=watch.RISK_SCHEMA)  # fmt: skip
    result = rows(watch.watch(**frames, period=YEAR, thresholds=THRESHOLDS, risk=risk))
    assert result[1]["risk"] == pytest.approx(0.15)
    assert result[1]["referral_rate"] == pytest.approx(50 / 0.15)
    assert not result[1]["flagged"]
    assert result[5]["flagged"]


def test_member_months_and_attribution_follow_the_panel_on_the_day() -> None:
    """A member eligible January to June 2026, on practice 1's panel to 15 March and practice 2's from 16 March:
    practice 1 has January-March (3 member-months), practice 2 March-June (4). A referral on 1 February is
    practice 1's, one on 1 May practice 2's, one on 1 August (not eligible) nobody's."""
    eligibility = pl.DataFrame(
        [(7, D(2026, 1, 1), D(2026, 6, 30))], schema=watch.ELIGIBILITY_SCHEMA, orient="row"
    )
    assignments = pl.DataFrame([(7, 1, 10, D(2025, 6, 1), D(2026, 3, 15)), (7, 2, 20, D(2026, 3, 16), None)],
                               schema=watch.ASSIGNMENT_SCHEMA, orient="row")  # fmt: skip
    requests = pl.DataFrame([(7, D(2026, 2, 1), "referral", "approved"), (7, D(2026, 5, 1), "referral", "denied"),
                             (7, D(2026, 8, 1), "referral", "")], schema=watch.REQUEST_SCHEMA, orient="row")  # fmt: skip
    result = rows(watch.watch(eligibility=eligibility, assignments=assignments, requests=requests,
                              claim_lines=pl.DataFrame(schema=watch.CLAIM_LINE_SCHEMA), period=YEAR,
                              thresholds=THRESHOLDS))  # fmt: skip
    assert {p: (r["member_months"], r["referrals"], r["denied"]) for p, r in result.items()} == {
        1: (3, 1, 0),
        2: (4, 1, 1),
    }


def test_outcome_events_from_claim_lines() -> None:
    """Member 1 on 1 July: a physician's ED visit (POS 23) and the facility's ED line (revenue 0450): one visit.
    Member 2 on 2 July: an inpatient facility claim (bill type 0111) and the admitting physician's 99222: one
    admission. Member 3 on 3 July: only the admitting physician's 99223: an admission. Member 4: an ED evaluation
    code (99283) billed at another place of service: a visit. Member 5: an office visit: nothing."""
    lines = pl.DataFrame(
        [
            (1, D(2026, 7, 1), "professional", "23", "", "", "99285"),
            (1, D(2026, 7, 1), "institutional", "", "0131", "0450", ""),
            (2, D(2026, 7, 2), "institutional", "", "0111", "0120", ""),
            (2, D(2026, 7, 2), "professional", "21", "", "", "99222"),
            (3, D(2026, 7, 3), "professional", "21", "", "", "99223"),
            (4, D(2026, 7, 4), "professional", "20", "", "", "99283"),
            (5, D(2026, 7, 5), "professional", "11", "", "", "99213"),
        ],
        schema=watch.CLAIM_LINE_SCHEMA,
        orient="row",
    )
    events = watch.outcome_events(lines)
    assert events.rows() == [(1, D(2026, 7, 1), "ed"), (2, D(2026, 7, 2), "admission"),
                             (3, D(2026, 7, 3), "admission"), (4, D(2026, 7, 4), "ed")]  # fmt: skip


def test_previous_period() -> None:
    assert YEAR.previous() == watch.Period(D(2025, 1, 1), D(2025, 12, 31))
    assert watch.Period(D(2026, 1, 1), D(2026, 3, 31)).previous() == watch.Period(
        D(2025, 10, 1), D(2025, 12, 31)
    )


def test_without_claims_in_the_previous_period_its_outcome_rates_are_unknown() -> None:
    """Members enrolled in 2025 but no claim on file for 2025 (the claims history starts later): the previous
    period has member-months, but its ED and admission rates are unknown (None), not 0."""
    inputs = build({**ED_2026, 1: 7}, dict.fromkeys(ED_2025, 0))
    result = rows(watch.watch(**inputs, period=YEAR, thresholds=THRESHOLDS))
    assert result[1]["prev_member_months"] == 720
    assert result[1]["prev_ed_rate"] is None
    assert result[1]["prev_admit_rate"] is None
    assert not result[1]["flagged"]
    # one claim line in 2025 (not an ED visit) and the rates are measured: 0 ED visits
    lab = pl.DataFrame([(member_id(2, 0), D(2025, 3, 1), "professional", "81", "", "", "80053")],
                       schema=watch.CLAIM_LINE_SCHEMA, orient="row")  # fmt: skip
    inputs["claim_lines"] = pl.concat([inputs["claim_lines"], lab])
    measured = rows(watch.watch(**inputs, period=YEAR, thresholds=THRESHOLDS))
    assert measured[1]["prev_ed_rate"] == 0
