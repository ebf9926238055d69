"""The demo's quality and risk measurement, run last, on everything the other stages loaded.

* Year-to-date quality runs for the measurement year the clinical data is about
  (``demo.engine.clinical.measurement_year``), as of the last month-ends and the demo's last day (each run
  reads what was dated on or before its day), so the Quality pages show the rates climbing through the year,
  and the care gaps and the supplemental export have a run.
* Two CMS-HCC risk runs with the V28 model: the current payment year (diagnoses from the year before),
  approved by the quality user as a second person, so that later capitation runs with a risk-adjusted PCP
  method and the under-service watch read its scores; and the next payment year (this year's diagnoses),
  left as a draft, whose coding gaps (recapture and suspects) are the PCPs' work list. The next year has no
  normalization factor on file yet, so that run is raw-only (see docs/risk-adjustment.md).

Everything goes through the services, as a user would run it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from openipa.accounts.models import User
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo.engine.clinical import measurement_year
from openipa.quality import services as quality_services
from openipa.risk import services as risk_services

STAGE = "Quality and risk"
ProgressFn = Callable[[str, int, int], None]
QUALITY_RUNS = 4
"""Year-to-date quality runs: as of each of the last month-ends, the last one as of the demo's day."""


@dataclass(frozen=True)
class MeasurementSummary:
    quality_run: int = 0
    """The latest of the year-to-date runs."""
    quality_runs: int = 0
    quality_year: int = 0
    quality_results: int = 0
    open_gaps: int = 0
    risk_runs: tuple[int, ...] = ()
    risk_members: int = 0
    coding_gaps: int = 0


def quality_days(year: int, today: dt.date) -> list[dt.date]:
    """The as-of days of the demo's quality runs: up to QUALITY_RUNS month-ends of the measurement year before
    ``today``, then ``today`` (capped at December 31), as an IPA runs the measures each month."""
    last = min(today, dt.date(year, 12, 31))
    days = [last]
    month = Month.of(last)
    while len(days) < QUALITY_RUNS:
        month = month - 1
        if month.year != year:
            break
        days.insert(0, month.last_day)
    return days


def build_measurement(*, today: dt.date, progress: ProgressFn | None = None) -> MeasurementSummary:
    """Run the measures and score the members (see the module docstring)."""
    year = measurement_year(today)
    days = quality_days(year, today)
    steps = len(days) + 2
    if progress is not None:
        progress(STAGE, 0, steps)
    run = None
    for n, day in enumerate(days, start=1):
        run = quality_services.run_measures(None, year=year, as_of=day, run_by="demo")
        if progress is not None:
            progress(STAGE, n, steps)
    assert run is not None  # days is never empty
    approver = User.objects.filter(role=Role.QUALITY).order_by("username").first()
    current = risk_services.score_members(None, year=today.year, who="demo")
    if approver is not None and not current.raw_only:
        current = risk_services.approve_run(approver, current)
    if progress is not None:
        progress(STAGE, steps - 1, steps)
    upcoming = risk_services.score_members(None, year=today.year + 1, who="demo")
    if progress is not None:
        progress(STAGE, steps, steps)
    runs = (current, upcoming)
    return MeasurementSummary(
        quality_run=run.pk,
        quality_runs=len(days),
        quality_year=year,
        quality_results=run.result_count,
        open_gaps=run.gap_count,
        risk_runs=tuple(r.pk for r in runs),
        risk_members=current.members,
        coding_gaps=sum(r.gaps for r in runs),
    )
