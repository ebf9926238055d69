"""The demo's last stage: a stored quality run with its care gaps, and the two risk runs (the current payment
year approved by a second person, the next one a raw-only draft with the PCPs' coding gaps), made through the
services on what the other stages loaded."""

from __future__ import annotations

import datetime as dt

import pytest

from openipa.demo import measurement as demo_measurement
from openipa.demo.services import DemoSummary, describe
from openipa.demo.tests.value_based.shared import AS_OF, PROGRESS
from openipa.quality.models import MeasureResult, QualityRun, RateResult
from openipa.risk.models import CodingGap, RiskRun


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> DemoSummary:
    """The package's shared demo (shared.py)."""
    return value_based_demo


@pytest.fixture
def db_access(built: DemoSummary, db: None) -> None:
    """The module's build, read inside each test's transaction."""


def test_year_to_date_quality_runs_make_a_trend(built: DemoSummary, db_access: None) -> None:
    """One run as of each of the last month-ends (Jul-Sep) and the demo's day: each reads more data than the one
    before, and the care given since raises the rates (the trend chart's lines climb)."""
    runs = list(QualityRun.objects.filter(measurement_year=built.measurement.quality_year).order_by("as_of"))
    assert [r.as_of for r in runs] == [dt.date(2026, 7, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30),
                                       dt.date(2026, 10, 31)]  # fmt: skip
    assert built.measurement.quality_runs == 4
    assert runs[-1].pk == built.measurement.quality_run
    clinical = [r.input_counts["clinical"] for r in runs]
    assert clinical == sorted(clinical)
    assert clinical[0] < clinical[-1]
    for rate in ("WCV", "BCS-E", "COL-E"):  # a visit or a screening, once done, stays done for the year
        numerators = [RateResult.objects.get(run=r, rate=rate).numerator for r in runs]
        assert numerators == sorted(numerators), rate
        assert numerators[0] < numerators[-1], rate


def test_quality_days_stay_in_the_measurement_year() -> None:
    assert demo_measurement.quality_days(2026, dt.date(2026, 2, 10)) == [dt.date(2026, 1, 31),
                                                                         dt.date(2026, 2, 10)]  # fmt: skip
    assert demo_measurement.quality_days(2025, dt.date(2026, 3, 5))[-1] == dt.date(2025, 12, 31)


def test_a_quality_run_is_stored_for_the_clinical_year_with_its_gaps(
    built: DemoSummary, db_access: None
) -> None:
    m = built.measurement
    run = QualityRun.objects.get(pk=m.quality_run)
    assert run.measurement_year == m.quality_year == built.clinical.measurement_year
    assert run.run_by == "demo"
    assert m.quality_results == MeasureResult.objects.filter(run=run).count() > 0
    assert m.open_gaps == MeasureResult.objects.filter(run=run, gap=True).count() > 0
    # each gap says why and by when
    gap = MeasureResult.objects.filter(run=run, gap=True).first()
    assert gap is not None
    assert gap.gap_reason
    assert gap.gap_due is not None
    assert RateResult.objects.filter(run=run, denominator__gt=0).count() >= 5


def test_the_current_payment_year_is_approved_and_the_next_is_a_draft_with_coding_gaps(
    built: DemoSummary, db_access: None
) -> None:
    current, upcoming = (RiskRun.objects.get(pk=pk) for pk in built.measurement.risk_runs)
    assert (current.payment_year, upcoming.payment_year) == (AS_OF.year, AS_OF.year + 1)
    assert current.status == RiskRun.Status.APPROVED
    assert current.approved_by == "quality"
    assert current.prepared_by != current.approved_by
    assert upcoming.status == RiskRun.Status.DRAFT
    assert built.measurement.risk_members == current.members > 0
    kinds = set(CodingGap.objects.filter(run=upcoming).values_list("kind", flat=True))
    assert CodingGap.Kind.SUSPECT in kinds
    assert built.measurement.coding_gaps == current.gaps + upcoming.gaps > 0


def test_the_stage_reports_progress_and_the_summary_names_the_runs(
    built: DemoSummary, db_access: None
) -> None:
    steps = demo_measurement.QUALITY_RUNS + 2
    progress = PROGRESS[demo_measurement.STAGE]
    assert progress[0] == (0, steps)
    assert progress[-1] == (steps, steps)
    described = describe(built)
    assert described["quality_run"] == built.measurement.quality_run
    assert described["risk_runs"] == list(built.measurement.risk_runs)
