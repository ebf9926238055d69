"""IBNR reserves end to end: claim lines paid by paid runs on known dates give the engine's golden triangle and
numbers (docs/reserves.md, section 1-3); the PMPM months use the members' member-months; approval by a second
finance user; approved estimates never change; refusals change nothing; hindsight; the CLI; the page.

The golden lines (all Medicare Advantage, professional), cumulative paid in cents as of 2026-04:

    incurred   lag 0     lag 1     lag 2     lag 3
    2026-01    100000    150000    165000    168300
    2026-02    120000    174000    193140
    2026-03     90000    140400
    2026-04    110000
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.claims.models import Claim, ClaimImport, ClaimLine, ClaimPaymentRun, IbnrEstimate
from openipa.claims.selectors.reserves import hindsight, member_months_frame, paid_lines_frame
from openipa.claims.services.reserves import ReserveRefused, approve_estimate, estimate_ibnr
from openipa.contracts.models import Product
from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.membership.models import EligibilitySpan
from openipa.membership.services import eligibility_add
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db
d = dt.date
MAR, APR = Month(2026, 3), Month(2026, 4)
LOB, CAT = "medicare_advantage", "professional"

# (date of service, payment date, cents, reversed on): one line each, paid by the run paying on that date
GOLDEN = [
    (d(2026, 1, 5), d(2026, 1, 20), 60_000, None),
    (d(2026, 1, 28), d(2026, 1, 31), 40_000, None),
    (d(2026, 1, 9), d(2026, 2, 14), 50_000, None),
    (d(2026, 1, 30), d(2026, 3, 2), 15_000, None),
    (d(2026, 1, 2), d(2026, 4, 30), 3_300, None),
    (d(2026, 2, 3), d(2026, 2, 27), 120_000, None),
    (d(2026, 2, 10), d(2026, 3, 12), 53_140, None),
    (d(2026, 2, 10), d(2026, 3, 12), 860, d(2026, 4, 2)),  # reversed at lag 2: -860
    (d(2026, 2, 11), d(2026, 4, 1), 20_000, None),
    (d(2026, 3, 1), d(2026, 3, 31), 90_000, None),
    (d(2026, 3, 15), d(2026, 4, 15), 50_400, None),
    (d(2026, 4, 2), d(2026, 4, 29), 110_000, None),
    # left out: paid in May, incurred before the window
    (d(2026, 1, 5), d(2026, 5, 1), 7_777, None),
    (d(2025, 12, 20), d(2026, 1, 10), 9_999, None),
]


def _run(payment_date: dt.date, status: str = ClaimPaymentRun.Status.PAID) -> ClaimPaymentRun:
    run = ClaimPaymentRun.objects.filter(payment_date=payment_date, status=status).first()
    return run or ClaimPaymentRun.objects.create(
        through=payment_date, payment_date=payment_date, prepared_by="fin", status=status
    )


def _line(ipa: Any, service: dt.date, cents: int, run: ClaimPaymentRun | None, *, category: str = CAT,
          reversal: ClaimPaymentRun | None = None, outcome: str = ClaimLine.Outcome.PAID) -> ClaimLine:  # fmt: skip
    source = ClaimImport.objects.first() or ClaimImport.objects.create(
        file_name="t.837",
        sha256="0" * 64,
        format="x12",
        status="applied",
        received_on=service,
        imported_by="t",
    )
    claim = Claim.objects.create(
        source=source, kind="professional", patient_control_number=f"P{Claim.objects.count()}",
        member=ipa.member_a, member_key="SUN0001", billing_npi="1912301953", service_from=service,
        service_to=service, received_on=service, charge_cents=cents,
    )  # fmt: skip
    return ClaimLine.objects.create(
        claim=claim, number=1, code="99213", units=1, charge_cents=cents, service_from=service, service_to=service,
        outcome=ClaimLine.Outcome.REVERSED if reversal else outcome, service_category=category,
        allowed_cents=cents, paid_cents=cents, payment_run_id=run.pk if run else None,
        reversal_run_id=reversal.pk if reversal else None,
    )  # fmt: skip


@pytest.fixture
def golden(claims_ipa: Any) -> Any:
    for service, paid_on, cents, reversed_on in GOLDEN:
        _line(claims_ipa, service, cents, _run(paid_on), reversal=_run(reversed_on) if reversed_on else None)
    # not counted: a run approved but not paid, a denied line
    _line(claims_ipa, d(2026, 3, 3), 5_555, _run(d(2026, 3, 20), ClaimPaymentRun.Status.APPROVED))
    denied = _line(claims_ipa, d(2026, 3, 4), 0, _run(d(2026, 3, 20)), outcome=ClaimLine.Outcome.DENIED)
    assert denied.paid_cents == 0
    return claims_ipa


def _by_month(estimate: IbnrEstimate) -> dict[str, dict[str, Any]]:
    return {r["incurred_month"]: r for r in estimate.results}


def test_paid_lines_are_read_from_paid_runs_with_reversals_negative(golden: Any) -> None:
    frame = paid_lines_frame(golden.users["fin"], first=Month(2026, 1), last=APR)
    assert frame.columns == [
        "incurred_date",
        "paid_date",
        "paid_cents",
        "line_of_business",
        "service_category",
    ]
    assert frame["paid_cents"].sum() == 100_000 + 50_000 + 15_000 + 3_300 + 193_140 + 140_400 + 110_000
    reversal = frame.filter(frame["paid_cents"] < 0).rows()
    assert reversal == [(d(2026, 2, 10), d(2026, 4, 2), -860, LOB, CAT)]
    assert set(frame["line_of_business"]) == {LOB}


def test_golden_estimate_end_to_end(golden: Any) -> None:
    estimate = estimate_ibnr(golden.users["fin"], APR, months=4)
    assert (estimate.status, estimate.prepared_by, estimate.as_of) == ("draft", "fin", d(2026, 4, 1))
    triangle = {(r["incurred_month"], r["lag"]): r["cumulative_cents"] for r in estimate.inputs["triangle"]}
    assert [triangle[("2026-01", lag)] for lag in range(4)] == [100_000, 150_000, 165_000, 168_300]
    assert [triangle[("2026-02", lag)] for lag in range(3)] == [120_000, 174_000, 193_140]
    assert [triangle[("2026-03", lag)] for lag in range(2)] == [90_000, 140_400]
    assert triangle[("2026-04", 0)] == 110_000
    factors = [
        (f["lag"], f["age_to_age_micro"], f["cdf_micro"], f["completion_micro"]) for f in estimate.factors
    ]
    assert factors == [
        (0, 1_498_065, 1_689_034, 592_054),
        (1, 1_105_370, 1_127_477, 886_936),
        (2, 1_020_000, 1_020_000, 980_392),
        (3, 1_000_000, 1_000_000, 1_000_000),
    ]
    months = _by_month(estimate)
    # 2026-03: 140400 / 0.886936 = 158298.0... -> IBNR 17898 (docs/reserves.md section 3)
    assert (months["2026-03"]["ultimate_cents"], months["2026-03"]["ibnr_cents"]) == (158_298, 17_898)
    # 2026-04: 110000 / 0.592054 = 185794.0...; 2026-02: 193140 / 0.980392 = 197002.8...
    assert months["2026-04"]["ibnr_cents"] == 185_794 - 110_000
    assert months["2026-02"]["ibnr_cents"] == 197_003 - 193_140
    assert months["2026-01"]["ibnr_cents"] == 0
    assert {m["method"] for m in months.values()} == {"chain_ladder"}
    assert estimate.total_paid_cents == 168_300 + 193_140 + 140_400 + 110_000
    assert estimate.total_ibnr_cents == 17_898 + 75_794 + 3_863
    (group,) = estimate.inputs["groups"]
    assert (group["line_of_business"], group["service_category"], group["ibnr_cents"]) == (LOB, CAT, 97_555)


def test_a_young_month_is_projected_from_the_members_member_months(golden: Any) -> None:
    estimate = estimate_ibnr(golden.users["fin"], APR, months=4, threshold="0.6")
    april = _by_month(estimate)["2026-04"]
    # both members eligible all year: 2 member-months a month. PMPM = (168300 + 197003 + 158298) / 6 = 87266.83
    assert (april["method"], april["member_months"], april["pmpm_cents"]) == ("pmpm", 2, 87_267)
    assert (april["ultimate_cents"], april["ibnr_cents"]) == (174_534, 64_534)
    assert april["note"] == "PMPM of 2026-01..2026-03"
    assert {"line_of_business": LOB, "service_category": CAT, "month": "2026-04", "member_months": 2} in (
        estimate.inputs["member_months"]
    )


def test_selected_factors_are_kept_and_marked(golden: Any) -> None:
    override = {"line_of_business": LOB, "service_category": CAT, "lag": 3, "age_to_age": "1.05"}
    estimate = estimate_ibnr(golden.users["fin"], APR, months=4, overrides=[override])
    tail = estimate.factors[3]
    assert (tail["source"], tail["age_to_age_micro"], tail["note"]) == (
        "override",
        1_050_000,
        "selected; computed 1.000000",
    )
    assert _by_month(estimate)["2026-01"]["ibnr_cents"] == 8_415  # 168300 x 1.05 = 176715
    assert estimate.inputs["factor_source"] == "override"


def test_only_a_second_finance_user_approves(golden: Any) -> None:
    fin, fin2, ops = golden.users["fin"], golden.users["fin2"], golden.users["ops"]
    estimate = estimate_ibnr(fin, APR, months=4)
    events = AuditEvent.objects.count()
    with pytest.raises(ReserveRefused, match="prepared by fin: another finance user"):
        approve_estimate(fin, estimate)
    with pytest.raises(PermissionDenied):
        approve_estimate(ops, estimate)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.approved_by, estimate.approved_at) == ("draft", "", None)
    assert AuditEvent.objects.count() == events
    approve_estimate(fin2, estimate)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.approved_by) == ("approved", "fin2")
    assert estimate.approved_at is not None


def test_an_approved_estimate_never_changes(golden: Any) -> None:
    fin, fin2 = golden.users["fin"], golden.users["fin2"]
    approved = approve_estimate(fin2, estimate_ibnr(fin, APR, months=4))
    before = IbnrEstimate.objects.filter(pk=approved.pk).values().get()
    with pytest.raises(ReserveRefused, match="is approved: only a draft"):
        approve_estimate(fin, approved)
    # more paid for April later, a new estimate of the same month: a new row, the approved one as it was
    _line(golden, d(2026, 4, 3), 1_000, _run(d(2026, 4, 28)))
    again = estimate_ibnr(fin, APR, months=4)
    assert again.pk != approved.pk
    assert again.total_paid_cents == approved.total_paid_cents + 1_000
    assert IbnrEstimate.objects.filter(pk=approved.pk).values().get() == before


def test_refused_preparations_write_nothing(claims_ipa: Any, golden: Any) -> None:
    fin = golden.users["fin"]
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        estimate_ibnr(golden.users["ops"], APR, months=4)
    with pytest.raises(ReserveRefused, match="no claim line incurred from 2025-01 to 2025-04"):
        estimate_ibnr(fin, Month(2025, 4), months=4)
    with pytest.raises(ReserveRefused, match="method must be one of"):
        estimate_ibnr(fin, APR, months=4, method="median")
    with pytest.raises(ReserveRefused, match="group_by"):
        estimate_ibnr(fin, APR, group_by=["payer"])
    with pytest.raises(ReserveRefused, match="overrides: line_of_business medicare_advantage, service_category "
                                             "professional, lag 9: no such group and lag"):  # fmt: skip
        estimate_ibnr(fin, APR, months=4, overrides=[{"line_of_business": LOB, "service_category": CAT,
                                                      "lag": 9, "age_to_age": "1.1"}])  # fmt: skip
    with pytest.raises(ReserveRefused, match="threshold"):
        estimate_ibnr(fin, APR, months=4, threshold="half")
    with pytest.raises(ReserveRefused, match=r"threshold: 0\.5555 has more than 3 decimal places"):
        estimate_ibnr(fin, APR, months=4, threshold="0.5555")
    with pytest.raises(ReserveRefused, match="periods applies only to volume_weighted_last_n"):
        estimate_ibnr(fin, APR, months=4, periods=2)
    assert not IbnrEstimate.objects.exists()
    assert AuditEvent.objects.count() == events


def test_hindsight_sets_the_last_approved_estimate_against_the_run_out(golden: Any) -> None:
    fin, fin2 = golden.users["fin"], golden.users["fin2"]
    march = approve_estimate(fin2, estimate_ibnr(fin, MAR, months=3))
    april = estimate_ibnr(fin, APR, months=4)
    seen = hindsight(fin, april)
    assert seen.previous is not None
    assert seen.previous.pk == march.pk
    rows = {r["incurred_month"]: r for r in seen.rows}
    then = _by_month(march)
    assert rows["2026-01"]["paid_then_cents"] == 165_000
    assert rows["2026-01"]["runout_cents"] == 3_300
    assert rows["2026-03"]["runout_cents"] == 50_400
    assert rows["2026-03"]["remaining_ibnr_cents"] == then["2026-03"]["ibnr_cents"] - 50_400
    assert "2026-04" not in rows
    assert hindsight(fin, march).previous is None


def test_the_cli_prints_json_and_approves(golden: Any) -> None:
    out = StringIO()
    call_command(
        "reserves", "ibnr", "--as-of", "2026-04", "--months", "4", "--user", "fin", "--json", stdout=out
    )
    result = json.loads(out.getvalue())
    estimate = IbnrEstimate.objects.get()
    assert (result["as_of"], result["estimate_id"]) == ("2026-04", estimate.pk)
    assert (result["total_paid_cents"], result["total_ibnr_cents"]) == (611_840, 97_555)
    assert [(g["line_of_business"], g["service_category"], g["ibnr_cents"]) for g in result["groups"]] == [
        (LOB, CAT, 97_555)
    ]
    assert [(m["incurred_month"], m["ibnr_cents"]) for m in result["months"]] == [
        ("2026-01", 0), ("2026-02", 3_863), ("2026-03", 17_898), ("2026-04", 75_794)
    ]  # fmt: skip
    with pytest.raises(CommandError, match="another finance user"):
        call_command("reserves", "approve", str(estimate.pk), "--user", "fin", stdout=StringIO())
    out = StringIO()
    call_command("reserves", "approve", str(estimate.pk), "--user", "fin2", "--json", stdout=out)
    assert json.loads(out.getvalue())["status"] == "approved"
    with pytest.raises(CommandError, match="not a YYYY-MM month"):
        call_command("reserves", "ibnr", "--as-of", "April", stdout=StringIO())
    out = StringIO()
    call_command("reserves", "ibnr", "--as-of", "2026-04", "--months", "4", stdout=out)
    assert "IBNR $975.55" in out.getvalue()
    assert IbnrEstimate.objects.order_by("-id").first().prepared_by == "cli"  # type: ignore[union-attr]


def test_line_of_business_is_the_members_product_on_the_date_of_service(golden: Any) -> None:
    """Bert leaves the Medicare product at the end of February for a Medicaid one: his March lab line is
    Medicaid's, and the member-months move with him (a member counts once a month per line of business)."""
    ipa = golden
    medicaid = Product.objects.create(
        payer=ipa.payer, code="MCAL", name="Sunrise Medi-Cal", line_of_business="medicaid"
    )
    EligibilitySpan.objects.filter(member=ipa.member_b).update(valid_to=d(2026, 2, 28))
    eligibility_add(
        actor=None, member=ipa.member_b, product=medicaid, valid_from=d(2026, 3, 1), valid_to=None
    )
    line = _line(ipa, d(2026, 3, 5), 5_000, _run(d(2026, 3, 20)), category="lab")
    Claim.objects.filter(pk=line.claim_id).update(member=ipa.member_b)
    fin = ipa.users["fin"]
    frame = paid_lines_frame(fin, first=Month(2026, 1), last=APR)
    assert frame.filter(frame["service_category"] == "lab").rows() == [
        (d(2026, 3, 5), d(2026, 3, 20), 5_000, "medicaid", "lab")
    ]
    exposure = member_months_frame(fin, first=Month(2026, 1), last=APR, group_by=["line_of_business"])
    assert exposure.rows() == [
        ("medicaid", d(2026, 1, 1), 0), ("medicaid", d(2026, 2, 1), 0), ("medicaid", d(2026, 3, 1), 1),
        ("medicaid", d(2026, 4, 1), 1), (LOB, d(2026, 1, 1), 2), (LOB, d(2026, 2, 1), 2), (LOB, d(2026, 3, 1), 1),
        (LOB, d(2026, 4, 1), 1),
    ]  # fmt: skip
    estimate = estimate_ibnr(fin, APR, months=4, group_by=["line_of_business"])
    groups = {g["line_of_business"]: g["paid_cents"] for g in estimate.inputs["groups"]}
    assert groups == {"medicaid": 5_000, LOB: 611_840}
    whole = estimate_ibnr(fin, APR, months=4, group_by=[])
    assert whole.total_paid_cents == 616_840


# -- the pages


def test_finance_prepares_an_estimate_from_the_page(golden: Any, client_for: Any) -> None:
    client = client_for("fin")
    assert "Prepare an estimate" in html(client.get("/claims/reserves/"))
    response = client.post("/claims/reserves/prepare/", {
        "prepare-as_of": "2026-04", "prepare-method": "volume_weighted", "prepare-months": "4",
        "prepare-threshold": "0.5", "prepare-pmpm_months": "12", "prepare-tail": "1", "prepare-monthly_trend": "0",
    })  # fmt: skip
    estimate = IbnrEstimate.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/claims/reserves/{estimate.pk}/")
    assert (estimate.prepared_by, estimate.total_ibnr_cents) == ("fin", 97_555)
    listing = html(client.get("/claims/reserves/"))
    assert f"/claims/reserves/{estimate.pk}/" in listing
    assert "$975.55" in listing


def test_a_refused_preparation_is_shown_and_writes_nothing(golden: Any, client_for: Any) -> None:
    response = client_for("fin").post("/claims/reserves/prepare/", {
        "prepare-as_of": "2025-04", "prepare-method": "volume_weighted", "prepare-months": "4",
        "prepare-threshold": "0.5", "prepare-pmpm_months": "12", "prepare-tail": "1", "prepare-monthly_trend": "0",
    })  # fmt: skip
    assert response.status_code == 400
    assert "No estimate was prepared as of 2025-04: as_of 2025-04: no claim line incurred" in html(response)
    assert (
        client_for("ops").post("/claims/reserves/prepare/", {"prepare-as_of": "2026-04"}).status_code == 403
    )
    assert not IbnrEstimate.objects.exists()


def test_the_report_shows_triangle_factors_months_chart_and_hindsight(golden: Any, client_for: Any) -> None:
    fin, fin2 = golden.users["fin"], golden.users["fin2"]
    march = approve_estimate(fin2, estimate_ibnr(fin, MAR, months=3))
    april = estimate_ibnr(fin, APR, months=4, threshold="0.6")
    body = html(client_for("auditor").get(f"/claims/reserves/{april.pk}/"))
    triangle = body[body.index('data-testid="triangle"') :].split("</table>")[0]
    assert "<td>2026-01</td>" in triangle
    for amount in ("$1,683.00", "$1,931.40", "$1,404.00", "$1,100.00"):
        assert amount in triangle
    factors = body[body.index('data-testid="factors"') :].split("</table>")[0]
    for text in ("1.498065", "1.689034", "0.592054", "0.886936"):
        assert text in factors
    months = body[body.index('data-testid="months"') :].split("</table>")[0]
    assert "PMPM of 2026-01..2026-03" in months
    assert "$872.67" in months  # April's PMPM
    assert "<svg" in body
    assert "Paid and IBNR by incurred month, as of 2026-04" in body
    hindsight_table = body[body.index('data-testid="hindsight"') :].split("</table>")[0]
    assert f"/claims/reserves/{march.pk}/" in body
    assert "$33.00" in hindsight_table  # January's run-out: 3,300 cents
    assert "Approve estimate" not in body  # the auditor reads only


def test_approval_on_the_page_by_a_second_finance_user_only(golden: Any, client_for: Any) -> None:
    estimate = estimate_ibnr(golden.users["fin"], APR, months=4)
    url = f"/claims/reserves/{estimate.pk}/"
    own = html(client_for("fin").get(url))
    assert "another finance user must approve it" in own
    assert "Approve estimate" not in own
    assert client_for("ops").post(f"{url}approve/").status_code == 403
    assert client_for("alice").get(url).status_code == 403
    assert client_for("alice").get("/claims/reserves/").status_code == 403
    response = client_for("fin").post(f"{url}approve/", follow=True)
    assert "another finance user must approve it" in html(response)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.approved_by) == ("draft", "")
    client = client_for("fin2")
    assert "Approve estimate" in html(client.get(url))
    assert client.post(f"{url}approve/").status_code == 302
    estimate.refresh_from_db()
    assert (estimate.status, estimate.approved_by) == ("approved", "fin2")
    assert "Approve estimate" not in html(client.get(url))
