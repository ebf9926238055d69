"""Scoring the database's members into a risk run (see conftest for the data), approving it, and the command."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.clinical.models import ClinicalRecord, ClinicalSource
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.risk import services
from openipa.risk.engine.score import score
from openipa.risk.models import CodingGap, MemberScore, RiskRun, ScoreDiagnosis
from openipa.risk.tests.conftest import claim

pytestmark = pytest.mark.django_db


def _scores(run: RiskRun) -> dict[int, MemberScore]:
    return {s.member_id: s for s in MemberScore.objects.filter(run=run)}


def test_scores_diagnoses_behind_each_hcc_and_gaps(risk_ipa: Any) -> None:
    run = services.score_members(risk_ipa.users["quality"], year=2026)
    assert (run.status, run.payment_year, run.model, run.prepared_by) == ("draft", 2026, "V28", "quality")
    assert (run.window_start, run.window_end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    scores = _scores(run)
    amy, bert = scores[risk_ipa.member_a.pk], scores[risk_ipa.member_b.pk]
    # the void claim's I50.20 (HCC 226) and the not-accepted HIE's I48.91 (HCC 238) do not count
    assert amy.hccs == ["38", "329"]
    assert bert.hccs == []
    assert (amy.practice_id, amy.provider_id) == (risk_ipa.practice_a.pk, risk_ipa.pcp_a.pk)
    # the same numbers as the engine given the same beneficiaries
    frame = pl.DataFrame(
        {"member_id": ["a", "b"], "date_of_birth": [dt.date(1950, 3, 4), dt.date(1948, 7, 8)], "sex": ["F", "M"],
         "orec": ["0", "0"], "medicaid": ["00", "00"], "diagnosis_codes": [["E119", "I10", "N1831"], []]}
    )  # fmt: skip
    expected = score(frame, 2026, "V28").members
    assert [amy.raf_milli, bert.raf_milli] == expected["raf"].to_list()
    assert [amy.payment_raf_milli, bert.payment_raf_milli] == expected["payment_raf"].to_list()
    assert amy.payment_raf_milli is not None
    assert bert.payment_raf_milli is not None
    assert run.mean_payment_raf_milli == (amy.payment_raf_milli + bert.payment_raf_milli + 1) // 2
    behind = {(d.hcc, d.diagnosis_code, d.source): d for d in ScoreDiagnosis.objects.filter(score=amy)}
    assert set(behind) == {("38", "E119", "claim"), ("329", "N1831", "clinical")}
    assert behind["38", "E119", "claim"].claim_line_id == risk_ipa.amy_line.pk
    assert behind["38", "E119", "claim"].service_date == dt.date(2025, 3, 10)
    n18 = ClinicalRecord.objects.get(code="N1831")
    assert behind["329", "N1831", "clinical"].clinical_record_id == n18.pk
    gaps = {(g.member_id, g.kind, g.hcc): g for g in CodingGap.objects.filter(run=run)}
    b = risk_ipa.member_b.pk
    assert set(gaps) == {(b, "recapture", "37"), (b, "suspect", "238"), (b, "suspect", "329")}
    recapture = gaps[b, "recapture", "37"]
    assert recapture.reason.startswith("HCC 37 (Diabetes with Chronic Complications) coded in 2024 (E1122")
    assert recapture.evidence == [{"source": "claim", "source_id": risk_ipa.bert_prior_line.pk, "code": "E1122",
                                   "date": "2024-08-01", "value": None}]  # fmt: skip
    assert (recapture.practice_id, recapture.provider_id) == (risk_ipa.practice_b.pk, risk_ipa.pcp_b.pk)
    assert gaps[b, "suspect", "238"].rule == "anticoagulant-af-vte"
    assert gaps[b, "suspect", "238"].evidence[0]["code"] == "00003089421"
    assert [e["value"] for e in gaps[b, "suspect", "329"].evidence] == ["48.0 mL/min", "52.0 mL/min"]
    assert run.gaps == 3
    assert AuditEvent.objects.filter(action="risk.score").count() == 1


def test_a_diagnosis_counts_only_from_a_source_accepted_for_risk(risk_ipa: Any) -> None:
    """The HIE's I48.91 (HCC 238) is left out while the HIE is not accepted, and counts once it is."""
    first = services.score_members(None, year=2026)
    assert "238" not in _scores(first)[risk_ipa.member_a.pk].hccs
    ClinicalSource.objects.filter(code="hie").update(accepted_for_risk=True)
    second = services.score_members(None, year=2026)
    amy = _scores(second)[risk_ipa.member_a.pk]
    assert amy.hccs == ["38", "238", "329"]
    assert ScoreDiagnosis.objects.get(score=amy, hcc="238").source == "clinical"


def test_suspects_only_what_is_not_coded_this_window(risk_ipa: Any) -> None:
    """Coding Bert's atrial fibrillation and CKD 3b in 2025 removes both suspects and leaves the recapture."""
    claim(risk_ipa, risk_ipa.member_b, dt.date(2025, 9, 1), ["I4891", "N1832"])
    run = services.score_members(None, year=2026)
    assert _scores(run)[risk_ipa.member_b.pk].hccs == ["238", "328"]
    assert list(CodingGap.objects.filter(run=run).values_list("kind", "hcc")) == [("recapture", "37")]


def test_a_member_who_died_is_scored_but_gets_no_coding_gap(risk_ipa: Any) -> None:
    from openipa.membership.models import Member

    Member.objects.filter(pk=risk_ipa.member_b.pk).update(date_of_death=dt.date(2025, 10, 1))
    run = services.score_members(None, year=2026)
    assert run.members == 2
    assert not CodingGap.objects.filter(run=run).exists()
    assert run.gaps == 0


def test_a_new_scoring_replaces_the_draft_and_an_approved_run_never_changes(risk_ipa: Any) -> None:
    quality, quality2 = risk_ipa.users["quality"], risk_ipa.users["quality2"]
    first = services.score_members(quality, year=2026)
    second = services.score_members(quality, year=2026)
    assert not RiskRun.objects.filter(pk=first.pk).exists()
    assert not MemberScore.objects.filter(run_id=first.pk).exists()
    with pytest.raises(ValidationFailed, match="another user"):
        services.approve_run(quality, second)
    approved = services.approve_run(quality2, second)
    assert (approved.status, approved.approved_by) == ("approved", "quality2")
    with pytest.raises(ValidationFailed, match="already approved"):
        services.approve_run(quality, approved)
    approved.members = 1
    with pytest.raises(ValueError, match="cannot change"):
        approved.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        RiskRun.objects.get(pk=approved.pk).delete()
    # a correction is a new run; the approved one stays
    third = services.score_members(quality, year=2026)
    assert RiskRun.objects.get(pk=approved.pk).members == 2
    assert third.status == "draft"
    assert third.pk != approved.pk


@pytest.mark.parametrize("persona", ["fin", "alice", "auditor", "ops_view"])
def test_scoring_and_approving_are_refused_without_edit_clinical(risk_ipa: Any, persona: str) -> None:
    if persona == "ops_view":
        from openipa.accounts.services import user_create
        from openipa.core.roles import Role

        risk_ipa.users[persona] = user_create(
            actor=None, username="nurse", password="x" * 12, role=Role.UM_NURSE
        )
    run = services.score_members(risk_ipa.users["quality"], year=2026)
    with pytest.raises(PermissionDenied):
        services.score_members(risk_ipa.users[persona], year=2026)
    with pytest.raises(PermissionDenied):
        services.approve_run(risk_ipa.users[persona], run)
    assert list(RiskRun.objects.values_list("pk", "status")) == [(run.pk, "draft")]


def test_a_year_or_model_that_cannot_be_scored_is_refused(risk_ipa: Any) -> None:
    with pytest.raises(ValidationFailed, match="unknown model"):
        services.score_members(None, year=2026, model="V99")
    with pytest.raises(ValidationFailed, match="payment year 2031 with V28 cannot be scored"):
        services.score_members(None, year=2031)
    assert not RiskRun.objects.exists()


def test_members_without_medicare_advantage_coverage_or_sex_are_not_scored(risk_ipa: Any) -> None:
    from openipa.membership.models import EligibilitySpan, Member

    Member.objects.filter(pk=risk_ipa.member_b.pk).update(sex="U")
    run = services.score_members(None, year=2026)
    assert (run.members, run.not_scored) == (1, 1)
    EligibilitySpan.objects.filter(member=risk_ipa.member_a).update(valid_from=dt.date(2026, 3, 1))
    later = services.score_members(None, year=2026)
    assert later.members == 0
    assert later.mean_payment_raf_milli is None


def test_the_member_fields_reach_the_model(risk_ipa: Any) -> None:
    """Amy as a full-benefit dual, disabled at entitlement: the community full-dual segment; then long-term
    institutional. The member service sets the fields and refuses a code outside CMS's."""
    from django.core.exceptions import ValidationError

    from openipa.membership.services import member_update

    ops = risk_ipa.users["ops"]
    member_update(actor=ops, member=risk_ipa.member_a, data={"orec": "1", "medicaid_dual_status": "02"})
    run = services.score_members(None, year=2026)
    assert _scores(run)[risk_ipa.member_a.pk].segment == "CFA"
    member_update(actor=ops, member=risk_ipa.member_a, data={"long_term_institutional": True})
    assert _scores(services.score_members(None, year=2026))[risk_ipa.member_a.pk].segment == "INS"
    with pytest.raises(ValidationError, match="medicaid_dual_status"):
        member_update(actor=ops, member=risk_ipa.member_a, data={"medicaid_dual_status": "11"})
    risk_ipa.member_a.refresh_from_db()
    assert risk_ipa.member_a.medicaid_dual_status == "02"


def test_the_command_scores_and_prints_json(risk_ipa: Any) -> None:
    out = StringIO()
    call_command("risk", "score", "--year", "2026", "--json", stdout=out)
    data = json.loads(out.getvalue())
    run = RiskRun.objects.get()
    assert (data["run_id"], data["year"], data["model"], data["members"]) == (run.pk, 2026, "V28", 2)
    amy = _scores(run)[risk_ipa.member_a.pk]
    assert amy.payment_raf_milli is not None
    assert data["members_by_model"] == {"V28": 2}
    assert data["scores"][0] == {
        "member_id": risk_ipa.member_a.pk,
        "model": "V28",
        "raf": f"{amy.raf_milli // 1000}.{amy.raf_milli % 1000:03d}",
        "payment_raf": f"{amy.payment_raf_milli // 1000}.{amy.payment_raf_milli % 1000:03d}",
        "hccs": ["38", "329"],
    }
    assert data["mean_payment_raf"] == f"0.{run.mean_payment_raf_milli:03d}"
    assert {h["hcc"] for h in data["top_hccs"]} == {"38", "329"}
    assert run.prepared_by.startswith("cli")
    text = StringIO()
    call_command("risk", "score", "--year", "2026", stdout=text)
    assert "2 members scored; 2 by V28" in text.getvalue()
    assert "HCC 38" in text.getvalue()


def test_the_command_refuses_a_year_without_factors(risk_ipa: Any) -> None:
    with pytest.raises(CommandError, match="payment year 2031"):
        call_command("risk", "score", "--year", "2031", stdout=StringIO())
    assert not RiskRun.objects.exists()


def test_a_year_without_payment_factors_gives_a_raw_only_run_that_cannot_be_approved(
    risk_ipa: Any, monkeypatch: pytest.MonkeyPatch, client_for: Any
) -> None:
    """As for the current service year before the Rate Announcement: the engine refuses payment scores (no
    normalization factor), so the run keeps raw RAFs, HCCs and gaps, and is never approved for payment."""
    from openipa.risk.engine.tables import TableError

    def no_factors(frame: pl.DataFrame, year: int, model: str, *, payment: bool = True, **kw: Any) -> Any:
        if payment:
            raise TableError(f"payment year {year}: no normalization factor on file for {model}")
        return score(frame, year, model, payment=False, **kw)

    monkeypatch.setattr(services, "score", no_factors)
    out = StringIO()
    call_command("risk", "score", "--year", "2026", "--json", stdout=out)
    data = json.loads(out.getvalue())
    run = RiskRun.objects.get()
    assert run.raw_only
    assert run.inputs["raw_only"] == "V28: payment year 2026: no normalization factor on file for V28"
    assert run.inputs["raw_only_models"] == ["V28"]
    assert (data["raw_only"], data["mean_payment_raf"]) == (True, None)
    assert data["scores"][0]["hccs"] == ["38", "329"]
    assert data["scores"][0]["payment_raf"] is None
    assert data["scores"][0]["raf"] is not None
    assert run.gaps == 3  # the coding gaps stand
    with pytest.raises(ValidationFailed, match="raw scores only"):
        services.approve_run(risk_ipa.users["quality2"], run)
    assert RiskRun.objects.get().status == "draft"
    page = client_for("quality2").get("/risk/").content.decode()
    assert 'data-testid="raw-only"' in page
    assert 'data-testid="approve"' not in page
    assert "Mean raw RAF by practice" in page
