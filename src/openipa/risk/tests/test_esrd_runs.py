"""ESRD members in database risk runs (ADR 0018): scored by ESRDV24 inside the payment year's run, everyone else
by the run's CMS-HCC model; the run is raw-only when a model it needs has no payment factors. Data: conftest's
Amy (F 1950, E11.9/I10 claim and N18.31) and Bert (M 1948, E11.22 in 2024, no 2025 diagnosis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from openipa.core.errors import ValidationFailed
from openipa.membership.models import Member
from openipa.risk import selectors, services
from openipa.risk.engine.score import score
from openipa.risk.engine.tables import TableError
from openipa.risk.models import CodingGap, MemberScore, RiskRun
from openipa.risk.tests.conftest import claim

pytestmark = pytest.mark.django_db


def _scores(run: RiskRun) -> dict[int, MemberScore]:
    return {s.member_id: s for s in MemberScore.objects.filter(run=run)}


def _bert_frame(crec: str | None, graft_months: int | None, codes: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"member_id": ["b"], "date_of_birth": [dt.date(1948, 7, 8)], "sex": ["M"], "orec": ["0"], "crec": [crec],
         "graft_months": [graft_months], "medicaid": ["00"], "diagnosis_codes": [codes]},
        schema_overrides={"crec": pl.String, "graft_months": pl.Int64, "diagnosis_codes": pl.List(pl.String)},
    )  # fmt: skip


def test_graft_months_counts_the_transplant_month_as_month_1() -> None:
    dates = [dt.date(2026, 2, 1), dt.date(2026, 2, 2), dt.date(2026, 1, 31), dt.date(2026, 1, 1),
             dt.date(2025, 12, 1), dt.date(2025, 11, 30), dt.date(2025, 2, 1), None]  # fmt: skip
    months = pl.DataFrame({"d": dates}, schema={"d": pl.Date}).select(
        services.graft_months(pl.col("d"), 2026).alias("d")
    )
    assert months["d"].to_list() == [1, None, 2, 2, 3, 4, 13, None]


def test_an_esrd_member_is_scored_by_the_esrd_model_and_the_others_by_the_runs_model(risk_ipa: Any) -> None:
    """Bert with the current reason for entitlement 2 (ESRD; his original reason stays 0): crec alone makes him
    an ESRD member, scored by ESRDV24 with the engine's numbers; Amy by V28 as before."""
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(crec="2")
    claim(risk_ipa, risk_ipa.member_b, dt.date(2025, 5, 5), ["N18.6", "Z99.2"])
    run = services.score_members(None, year=2026)
    scores = _scores(run)
    amy, bert = scores[risk_ipa.member_a.pk], scores[risk_ipa.member_b.pk]
    assert (amy.model, bert.model) == ("V28", "ESRDV24")
    assert amy.hccs == ["38", "329"]
    # 2026 has ESRD payment factors (dialysis and graft series): a payment run, with the engine's numbers
    expected = score(_bert_frame("2", None, ["N186", "Z992"]), 2026, "ESRDV24").members
    assert (bert.raf_milli, bert.payment_raf_milli, bert.segment, bert.category, bert.hccs) == (
        expected["raf"][0], expected["payment_raf"][0], expected["segment"][0], expected["category"][0],
        expected["hccs"][0].to_list(),
    )  # fmt: skip
    assert not run.raw_only
    assert bert.payment_raf_milli is not None
    assert bert.segment == "DI"  # dialysis, continuing enrollee
    assert run.inputs["members_by_model"] == {"ESRDV24": 1, "V28": 1}
    assert set(run.inputs["payment_factors"]) == {"V28", "ESRDV24"}
    assert [f["model"] for f in run.inputs["payment_factors"]["V28"]] == ["V28"]
    assert run.inputs["payment_factors"]["V28"][0]["normalization_factor_milli"] == 1067
    esrd_series = {
        f["model"]: f["normalization_factor_milli"] for f in run.inputs["payment_factors"]["ESRDV24"]
    }
    assert esrd_series == {"ESRDV24-DIALYSIS": 1062, "ESRDV24-GRAFT": 1104}


def test_a_year_without_esrd_payment_factors_makes_the_run_raw_only_and_says_why(
    risk_ipa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_esrd_factors(
        frame: pl.DataFrame, year: int, model: str, *, payment: bool = True, **kw: Any
    ) -> Any:
        if model == "ESRDV24" and payment:
            raise TableError(f"payment year {year}: no normalization factor on file for {model}")
        return score(frame, year, model, payment=payment, **kw)

    monkeypatch.setattr(services, "score", no_esrd_factors)
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(orec="2")
    run = services.score_members(None, year=2026)
    assert run.raw_only
    assert run.inputs["raw_only_models"] == ["ESRDV24"]
    assert run.inputs["raw_only"] == "ESRDV24: payment year 2026: no normalization factor on file for ESRDV24"
    # no member gets a payment RAF in a raw-only run, not even the V28 ones whose factors exist
    assert [s.payment_raf_milli for s in _scores(run).values()] == [None, None]
    assert run.mean_payment_raf_milli is None
    with pytest.raises(
        ValidationFailed, match=r"raw scores only \(no payment factors for 2026 on file for ESRDV24\)"
    ):
        services.approve_run(risk_ipa.users["quality2"], run)
    # without an ESRD member the ESRD model is not needed: the same year's run is not raw-only
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(orec="0")
    again = services.score_members(None, year=2026)
    assert not again.raw_only
    assert again.inputs["members_by_model"] == {"V28": 2}


def test_a_year_without_esrd_tables_scores_esrd_members_by_the_runs_model_raw_only(
    risk_ipa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year the ESRD model has no tables for (they start in 2026): the ESRD member gets the run model's raw
    scores (for the coding gaps) and the run cannot be approved (CMS would not pay him by V28)."""

    def no_esrd_tables(frame: pl.DataFrame, year: int, model: str, *, payment: bool = True, **kw: Any) -> Any:
        if model == "ESRDV24":
            raise TableError(f"the ESRD model V24 has no tables for {year} (years: [2027])")
        return score(frame, year, model, payment=payment, **kw)

    monkeypatch.setattr(services, "score", no_esrd_tables)
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(orec="3")
    run = services.score_members(None, year=2026)
    assert run.raw_only
    assert run.inputs["raw_only_models"] == ["ESRDV24"]
    assert "its 1 ESRD members are scored by V28, raw scores only" in run.inputs["raw_only"]
    assert {s.model for s in _scores(run).values()} == {"V28"}
    assert [s.payment_raf_milli for s in _scores(run).values()] == [None, None]


def test_an_approved_run_gives_capitation_the_esrd_members_payment_raf(risk_ipa: Any) -> None:
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(orec="2")
    run = services.score_members(risk_ipa.users["quality"], year=2026)
    assert not run.raw_only
    bert = _scores(run)[risk_ipa.member_b.pk]
    assert bert.model == "ESRDV24"
    assert bert.payment_raf_milli is not None
    assert bert.payment_raf_milli != bert.raf_milli
    services.approve_run(risk_ipa.users["quality2"], run)
    rafs = selectors.approved_payment_rafs(2026)
    assert (
        dict(zip(rafs["member_id"], rafs["raf_milli"], strict=True))[bert.member_id] == bert.payment_raf_milli
    )


def test_a_recent_transplant_makes_an_esrd_member_with_transplant_months(risk_ipa: Any) -> None:
    """A kidney transplant on December 10 before the payment year: month 3 on February 1 (Dec, Jan, Feb); with
    the current reason unknown the transplant makes him an ESRD beneficiary (crec 2 for the engine)."""
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(kidney_transplant_date=dt.date(2025, 12, 10))
    run = services.score_members(None, year=2026)
    bert = _scores(run)[risk_ipa.member_b.pk]
    assert bert.model == "ESRDV24"
    expected = score(_bert_frame("2", 3, []), 2026, "ESRDV24", payment=False).members
    assert (bert.segment, bert.raf_milli) == (expected["segment"][0], expected["raf"][0])
    # a transplant after February 1 of the payment year does not count for it
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(kidney_transplant_date=dt.date(2026, 2, 2))
    later = services.score_members(None, year=2026)
    assert _scores(later)[risk_ipa.member_b.pk].model == "V28"


def test_an_esrd_members_coding_gaps_use_the_esrd_models_hccs(risk_ipa: Any) -> None:
    """Bert's 2024 E11.22 is recaptured in the ESRD model's (V24) numbering, HCC 18, not V28's 37; the suspect
    rules (V28 HCCs) still apply to him."""
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(crec="2")
    run = services.score_members(None, year=2026)
    gaps = set(CodingGap.objects.filter(run=run).values_list("member_id", "kind", "hcc"))
    b = risk_ipa.member_b.pk
    assert (b, "recapture", "18") in gaps
    assert (b, "recapture", "37") not in gaps
    assert (b, "suspect", "238") in gaps


def test_refusals_are_unchanged_with_esrd_members(risk_ipa: Any) -> None:
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(crec="2")
    with pytest.raises(ValidationFailed, match="unknown model"):
        services.score_members(None, year=2026, model="ESRDV24")
    with pytest.raises(ValidationFailed, match="payment year 2031 with V28"):
        services.score_members(None, year=2031)
    assert not RiskRun.objects.exists()


def test_the_risk_members_frame_reads_crec_and_the_transplant_date(risk_ipa: Any) -> None:
    from openipa.contracts.models import LineOfBusiness
    from openipa.membership import selectors as membership_selectors

    Member.objects.filter(pk=risk_ipa.member_b.pk).update(
        crec="3", kidney_transplant_date=dt.date(2020, 5, 1)
    )
    frame = membership_selectors.risk_members_frame(
        covered_on=dt.date(2026, 2, 1), first=dt.date(2025, 1, 1), last=dt.date(2025, 12, 31),
        line_of_business=LineOfBusiness.MEDICARE_ADVANTAGE,
    ).sort("member_id")  # fmt: skip
    rows = {r["member_id"]: (r["crec"], r["kidney_transplant_date"]) for r in frame.iter_rows(named=True)}
    assert rows[risk_ipa.member_a.pk] == (None, None)  # blank crec: unknown
    assert rows[risk_ipa.member_b.pk] == ("3", dt.date(2020, 5, 1))
    marked = services.esrd_members(frame, 2026)
    assert dict(zip(marked["member_id"], marked["esrd"], strict=True)) == {
        risk_ipa.member_a.pk: False, risk_ipa.member_b.pk: True
    }  # fmt: skip
    assert marked.filter(pl.col("member_id") == risk_ipa.member_b.pk)["graft_months"].item() == 70


def test_the_pages_show_each_members_model_and_segment_and_count_members_per_model(
    risk_ipa: Any, client_for: Any
) -> None:
    from django.urls import reverse

    Member.objects.filter(pk=risk_ipa.member_b.pk).update(crec="2")
    run = services.score_members(risk_ipa.users["quality"], year=2026)
    client = client_for("quality")
    listing = client.get(reverse("web:risk:run", args=[run.pk])).content.decode()
    assert '<span data-model="V28">CMS-HCC V28: 1</span>' in listing
    assert (
        '<span data-model="ESRDV24">ESRD V24 (dialysis, functioning graft, kidney transplant): 1</span>'
        in listing
    )
    assert listing.count('data-testid="score-model">ESRDV24<') == 1
    assert listing.count('data-testid="score-model">V28<') == 1
    assert '>DI <span class="muted small">dialysis</span><' in listing
    bert = client.get(reverse("web:risk:member", args=[run.pk, risk_ipa.member_b.pk])).content.decode()
    assert 'data-testid="score-model">ESRD V24 (dialysis, functioning graft, kidney transplant)<' in bert
    assert 'data-testid="score-segment">DI (dialysis)<' in bert
    home = client.get(reverse("web:risk:home")).content.decode()
    assert 'data-testid="members-by-model">(V28 1, ESRDV24 1)<' in home
    # a practice user counts its own members only: Bob's practice has Bert
    bob_home = client_for("bob").get(reverse("web:risk:home")).content.decode()
    assert 'data-testid="members-by-model">(ESRDV24 1 of your practice)<' in bob_home


def test_segment_labels() -> None:
    assert selectors.esrd_segment_label("TRANSPLANT_KIDNEY_ONLY_2M") == "kidney transplant, month 2"
    assert selectors.esrd_segment_label("GNPA") == "functioning graft, community, not full dual, 65+"
    assert selectors.esrd_segment_label("CNA") == ""
    assert selectors.esrd_segment_label("TRANSPLANT_KIDNEY_ONLY_") == ""  # malformed: no label
    assert selectors.esrd_segment_label("TRANSPLANT_KIDNEY_ONLY_M") == ""


def test_the_migration_gives_older_scores_their_runs_model(risk_ipa: Any) -> None:
    """Scores stored before MemberScore.model (empty) take their run's model; a filled one is left alone."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("openipa.risk.migrations.0003_esrd_members")
    Member.objects.filter(pk=risk_ipa.member_b.pk).update(crec="2")
    run = services.score_members(None, year=2026, model="V24")
    MemberScore.objects.filter(run=run, member_id=risk_ipa.member_a.pk).update(model="")
    migration.scores_take_their_run_model(apps, None)
    assert {s.member_id: s.model for s in MemberScore.objects.filter(run=run)} == {
        risk_ipa.member_a.pk: "V24", risk_ipa.member_b.pk: "ESRDV24"
    }  # fmt: skip
