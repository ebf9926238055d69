"""Stored quality runs: what a run keeps (results, evidence, attribution, gaps, rates), that the same database
gives the same run, that refusals and bad input store nothing, and the command line."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.quality.models import MeasureResult, QualityRun, RateResult
from openipa.quality.services import default_as_of, run_measures
from openipa.quality.tests.conftest import QualityIpa

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 1)


def _result(run: QualityRun, member: Any, rate: str) -> MeasureResult:
    return MeasureResult.objects.get(run=run, member=member, rate=rate)


def _rows(run: QualityRun) -> list[tuple[Any, ...]]:
    fields = ("measure", "rate", "member_id", "episode_id", "excluded", "exclusion_reason", "denominator",
              "numerator", "denominator_evidence", "exclusion_evidence", "numerator_evidence", "practice_id",
              "pcp_id", "payer_id", "gap", "gap_reason", "gap_due")  # fmt: skip
    return list(
        MeasureResult.objects.filter(run=run).order_by("measure", "rate", "member_id").values_list(*fields)
    )


def test_a_run_stores_each_members_results_with_evidence_attribution_and_gaps(
    quality_ipa: QualityIpa,
) -> None:
    ipa = quality_ipa.ipa
    run = run_measures(quality_ipa.quality, year=2026, as_of=AS_OF)
    assert (run.measurement_year, run.as_of, run.run_by, run.member_count) == (2026, AS_OF, "quinn", 3)
    assert run.status == QualityRun.Status.COMPLETE
    assert len(run.definitions_sha256) == 64
    assert run.input_counts["clinical"] > 0
    assert run.result_count == MeasureResult.objects.filter(run=run).count()

    # Amy: hypertensive, last reading 150/95: in CBP's denominator, not its numerator: an open gap at practice A
    amy = _result(run, ipa.member_a, "CBP")
    assert (amy.denominator, amy.numerator, amy.gap) == (True, False, True)
    assert (amy.practice_id, amy.pcp_id, amy.payer_id) == (ipa.practice_a.pk, ipa.pcp_a.pk, ipa.payer.pk)
    assert amy.gap_reason == "last blood pressure on 2026-04-01 not below 140/90 (systolic 150 mm[Hg])"
    assert amy.gap_due == dt.date(2026, 12, 31)
    assert len(amy.denominator_evidence) == 2
    assert all(e.startswith("clinical:") for e in amy.denominator_evidence)
    # Bert: 128/78 meets CBP at practice B: no gap, the reading is the numerator's evidence
    bert = _result(run, ipa.member_b, "CBP")
    assert (bert.numerator, bert.gap, bert.gap_reason, bert.practice_id) == (
        True,
        False,
        "",
        ipa.practice_b.pk,
    )
    assert len(bert.numerator_evidence) == 2
    # Cara: HbA1c 9.4%: a gap in GSD <8 and, the rate being inverse, in GSD >9 (its numerator: poor control)
    cara = quality_ipa.cara
    assert _result(run, cara, "GSD <8").gap_reason == "last HbA1c 9.4% on 2026-03-02"
    poor = _result(run, cara, "GSD >9")
    assert (poor.numerator, poor.gap, poor.gap_reason) == (True, True, "last HbA1c 9.4% on 2026-03-02")
    assert _result(run, cara, "BCS-E").gap_reason == "no mammogram since 2024-10-01"
    assert run.gap_count == MeasureResult.objects.filter(run=run, gap=True).count() == 7

    rates = {r.rate: r for r in RateResult.objects.filter(run=run)}
    assert (rates["CBP"].denominator, rates["CBP"].numerator, str(rates["CBP"].rate_value)) == (
        2,
        1,
        "0.500000",
    )
    assert rates["GSD >9"].inverse
    assert rates["W30-15"].rate_value is None


def test_the_same_database_gives_the_same_run_and_each_run_is_a_new_one(quality_ipa: QualityIpa) -> None:
    first = run_measures(None, year=2026, as_of=AS_OF)
    second = run_measures(None, year=2026, as_of=AS_OF)
    assert first.pk != second.pk
    assert QualityRun.objects.count() == 2
    assert _rows(first) == _rows(second)
    assert len(_rows(first)) == first.result_count
    keys = ("definitions_sha256", "value_sets_sha256", "input_counts", "member_count", "gap_count")
    assert [getattr(first, k) for k in keys] == [getattr(second, k) for k in keys]
    rates = [list(RateResult.objects.filter(run=r).order_by("pk").values_list(
        "measure", "rate", "eligible", "excluded", "denominator", "numerator", "rate_value")) for r in (first, second)]  # fmt: skip
    assert rates[0] == rates[1]


def test_attribution_follows_the_as_of_date(quality_ipa: QualityIpa) -> None:
    # Cara's PCP assignment begins 2026-01-01: as of 2026-01-01 she is at practice A; the run of 2025 as of
    # 2025-12-31 finds no PCP for her (her eligibility, and so her payer, began in 2024)
    run = run_measures(None, year=2025, as_of=dt.date(2025, 12, 31))
    rows = MeasureResult.objects.filter(run=run, member=quality_ipa.cara)
    assert rows.exists()
    assert {(r.practice_id, r.pcp_id, r.payer_id) for r in rows} == {(None, None, quality_ipa.ipa.payer.pk)}


def test_as_of_defaults_to_today_capped_at_the_end_of_the_year() -> None:
    assert default_as_of(2026, dt.date(2026, 5, 1)) == dt.date(2026, 5, 1)
    assert default_as_of(2025, dt.date(2026, 5, 1)) == dt.date(2025, 12, 31)


@pytest.mark.parametrize("persona", ["alice", "auditor", "fin", "messenger"])
def test_who_may_not_run_measures_is_refused_and_nothing_is_stored(
    quality_ipa: QualityIpa, persona: str
) -> None:
    with pytest.raises(PermissionDenied):
        run_measures(quality_ipa.ipa.users[persona], year=2026)
    assert not QualityRun.objects.exists()
    assert not MeasureResult.objects.exists()


@pytest.mark.parametrize(
    ("year", "as_of", "field"), [(1999, None, "year"), (2026, dt.date(2025, 12, 31), "as_of")]
)
def test_bad_input_is_refused_and_nothing_is_stored(
    quality_ipa: QualityIpa, year: int, as_of: dt.date | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run_measures(quality_ipa.quality, year=year, as_of=as_of)
    assert field in caught.value.fields
    assert not QualityRun.objects.exists()


def test_quality_run_stores_the_run_and_prints_its_id(quality_ipa: QualityIpa) -> None:
    out = StringIO()
    call_command(
        "quality", "run", "--year", "2026", "--as-of", "2026-11-01", "--json", stdout=out, stderr=StringIO()
    )
    result = json.loads(out.getvalue())
    run = QualityRun.objects.get()
    assert set(result) == {"year", "members", "rates", "run_id"}
    assert result["run_id"] == run.pk
    assert run.run_by.startswith("cli")
    assert run.as_of == AS_OF
    cbp = next(r for r in result["rates"] if r["rate"] == "CBP")
    assert (cbp["numerator"], cbp["denominator"], cbp["rate_value"]) == (1, 2, 0.5)


def test_quality_run_refuses_a_bad_as_of_date(quality_ipa: QualityIpa) -> None:
    with pytest.raises(CommandError, match="--as-of: '2026-13-01' is not a date"):
        call_command("quality", "run", "--year", "2026", "--as-of", "2026-13-01", stdout=StringIO())
    with pytest.raises(CommandError, match="before measurement year 2026"):
        call_command("quality", "run", "--year", "2026", "--as-of", "2025-06-01", stdout=StringIO())
    assert not QualityRun.objects.exists()


def test_supplemental_command_writes_the_payers_non_claims_numerator_evidence(
    quality_ipa: QualityIpa, tmp_path: Path
) -> None:
    run = run_measures(None, year=2026, as_of=AS_OF)
    out = tmp_path / "supp.csv"
    stdout = StringIO()
    call_command(
        "quality", "supplemental", "--run", str(run.pk), "--payer", "SUN", "--out", str(out), stdout=stdout
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert (
        lines[0]
        == "payer_member_id,measure,rate,evidence_kind,code_system,code,date,value,unit,source,evidence_id"
    )
    body = sorted(line.rsplit(",", 1)[0] for line in lines[1:])
    assert body == sorted([
        "SUN0002,CBP,CBP,observation,LOINC,8462-4,2026-04-01,78,mm[Hg],Alder EHR",
        "SUN0002,CBP,CBP,observation,LOINC,8480-6,2026-04-01,128,mm[Hg],Alder EHR",
        "SUN0003,GSD,GSD >9,observation,LOINC,4548-4,2026-03-02,9.4,%,Alder EHR",
    ])  # fmt: skip
    assert "3 rows" in stdout.getvalue()


@pytest.mark.parametrize(
    ("run_id", "payer", "message"),
    [("999", "SUN", "--run: no quality run 999"), (None, "NOPE", "no payer with code 'NOPE'")],
)
def test_supplemental_command_refuses_an_unknown_run_or_payer(
    quality_ipa: QualityIpa, tmp_path: Path, run_id: str | None, payer: str, message: str
) -> None:
    run = run_measures(None, year=2026, as_of=AS_OF)
    out = tmp_path / "supp.csv"
    with pytest.raises(CommandError, match=message):
        call_command(
            "quality", "supplemental", "--run", run_id or str(run.pk), "--payer", payer, "--out", str(out)
        )
    assert not out.exists()


def test_a_stored_run_cannot_be_saved_again(quality_ipa: QualityIpa) -> None:
    run = run_measures(None, year=2026, as_of=AS_OF)
    result = MeasureResult.objects.filter(run=run, gap=True).first()
    rate = RateResult.objects.filter(run=run).first()
    assert result is not None
    assert rate is not None
    for row, field, value in ((run, "run_by", "someone"), (result, "gap", False), (rate, "numerator", 99)):
        setattr(row, field, value)
        with pytest.raises(ValueError, match="runs never change"):
            row.save()
    assert QualityRun.objects.get(pk=run.pk).run_by == "system"
    assert MeasureResult.objects.get(pk=result.pk).gap is True


def test_rows_the_engine_cannot_take_are_left_out_and_counted(
    quality_ipa: QualityIpa, tmp_path: Path
) -> None:
    from openipa.clinical import services as clinical_services
    from openipa.clinical.models import ClinicalRecord
    from openipa.membership.services import eligibility_add, member_create

    ipa = quality_ipa.ipa
    dee = member_create(
        actor=None,
        data={"payer": ipa.payer, "payer_member_id": "SUN0004", "first_name": "Dee", "last_name": "Doe",
              "date_of_birth": dt.date(1980, 1, 1), "sex": "U"},
    )  # fmt: skip
    eligibility_add(
        actor=None, member=dee, product=ipa.product, valid_from=dt.date(2024, 1, 1), valid_to=None
    )
    path = tmp_path / "local.csv"
    path.write_text(
        "record_id,patient_id,member_id,first_name,last_name,date_of_birth,sex,record_type,code_system,code,value,"
        "unit,date\nx1,MRN3,SUN0003,Cara,Cole,1970-05-06,F,diagnosis,ICD9CM,25000,,,2026-05-01\n",
        encoding="utf-8",
    )
    clinical_services.import_clinical(actor=None, path=path, source_code="alder-ehr")
    assert ClinicalRecord.objects.filter(code="25000").exists()
    run = run_measures(None, year=2026, as_of=AS_OF)
    assert run.input_counts["left_out_members_sex_unknown"] == 1
    assert run.input_counts["left_out_clinical_unknown_system"] == 1
    assert run.member_count == 3
    assert not MeasureResult.objects.filter(run=run, member=dee).exists()


def test_a_run_reads_only_what_is_dated_on_or_before_its_as_of_date(quality_ipa: QualityIpa) -> None:
    """Year-to-date runs: as of March 31 Bert's April reading is not known yet (an open CBP gap); as of April 30
    it is (met). The earlier run stays as it was, and making it again gives the same rows."""
    ipa = quality_ipa.ipa
    march = run_measures(None, year=2026, as_of=dt.date(2026, 3, 31))
    april = run_measures(None, year=2026, as_of=dt.date(2026, 4, 30))
    before, after = _result(march, ipa.member_b, "CBP"), _result(april, ipa.member_b, "CBP")
    assert (before.denominator, before.numerator, before.gap) == (True, False, True)
    assert before.numerator_evidence == []
    assert (after.numerator, after.gap) == (True, False)
    assert after.numerator_evidence
    assert march.input_counts["clinical"] < april.input_counts["clinical"]
    again = run_measures(None, year=2026, as_of=dt.date(2026, 3, 31))
    assert _rows(again) == _rows(march)


def test_the_trend_has_one_point_per_as_of_day_earliest_first(quality_ipa: QualityIpa) -> None:
    """Runs are year-to-date: the trend orders them by their day, and of two runs as of one day the one made
    last stands for it (whatever order they were made in)."""
    from openipa.quality import selectors

    april = run_measures(None, year=2026, as_of=dt.date(2026, 4, 30))
    march = run_measures(None, year=2026, as_of=dt.date(2026, 3, 31))
    april_again = run_measures(None, year=2026, as_of=dt.date(2026, 4, 30))
    trend = selectors.trend(quality_ipa.quality, year=2026)
    assert [r.pk for r in trend.runs] == [march.pk, april_again.pk]
    assert april.pk not in [r.pk for r in trend.runs]
    # Bert's reading came in April: CBP climbs from 0 of 2 to 1 of 2
    assert trend.values[("CBP", "CBP")] == [Decimal(0), Decimal("0.5")]
