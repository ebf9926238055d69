"""Reads for the under-service watch: the engine's frames from membership (eligibility, PCP assignments),
utilization management (requests and their initial outcomes, through
:func:`openipa.utilization.reports.watch_requests_frame`) and claims (lines that may be ED visits or
admissions), and the report per practice and per PCP.

The watch is IPA-wide: it needs VIEW_UM and is refused to practice users (the rule of the utilization reports,
``openipa.utilization.reports.require_staff``). Aggregates only: not audited. The thresholds are
``openipa.utilization.models.WatchThreshold`` rows (read with ``openipa.utilization.selectors.watch_threshold``):
the model stayed in utilization when the watch moved here, as moving a table between apps needs a migration
of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Q

from openipa.claims.models import Claim, ClaimLine
from openipa.core.engine.frames import conform
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor
from openipa.membership.models import EligibilitySpan, PcpAssignment
from openipa.network.models import Practice, Provider
from openipa.performance.engine import watch
from openipa.risk import selectors as risk_selectors
from openipa.utilization import reports as um_reports
from openipa.utilization import selectors as um_selectors
from openipa.utilization.models import WatchThreshold


def require_staff(actor: Actor) -> None:
    """The watch is for IPA staff with the UM view, as the utilization reports are."""
    um_reports.require_staff(actor)


@dataclass(frozen=True)
class WatchUnit:
    key: int
    name: str
    practice: str
    row: dict[str, Any]


@dataclass(frozen=True)
class WatchReport:
    period: watch.Period
    previous: watch.Period
    threshold: WatchThreshold
    risk_adjusted: bool
    practices: list[WatchUnit]
    pcps: list[WatchUnit]

    @property
    def flagged_practices(self) -> list[WatchUnit]:
        return [u for u in self.practices if u.row["flagged"]]

    @property
    def flagged_pcps(self) -> list[WatchUnit]:
        return [u for u in self.pcps if u.row["flagged"]]

    @property
    def peers(self) -> dict[str, Any]:
        first = self.practices[0].row if self.practices else {}
        return {k: first.get(k) for k in ("peer_referral_rate", "peer_request_rate", "peer_denial_rate",
                                          "peer_ed_rate", "peer_admit_rate")}  # fmt: skip


def _overlapping(qs: Any, first: dt.date, last: dt.date) -> Any:
    return qs.filter(valid_from__lte=last).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))


def watch_inputs(actor: Actor, first: dt.date, last: dt.date) -> dict[str, pl.DataFrame]:
    """The engine's frames for the days `first` through `last`: eligibility, PCP assignments, requests (member,
    local date received, kind, initial outcome) and the claim lines that may be ED visits or admissions (not
    voids, not reversed claims)."""
    require_staff(actor)
    eligibility = pl.DataFrame(
        list(
            _overlapping(EligibilitySpan.objects.all(), first, last).values_list(
                "member_id", "valid_from", "valid_to"
            )
        ),
        schema=watch.ELIGIBILITY_SCHEMA,
        orient="row",
    )
    assignments = pl.DataFrame(
        list(
            _overlapping(PcpAssignment.objects.all(), first, last).values_list(
                "member_id", "practice_id", "provider_id", "valid_from", "valid_to"
            )
        ),
        schema=watch.ASSIGNMENT_SCHEMA,
        orient="row",
    )
    requests = conform(
        um_reports.watch_requests_frame(actor, first=first, last=last), watch.REQUEST_SCHEMA, "requests"
    )
    lines = (
        ClaimLine.objects.filter(
            claim__member__isnull=False,
            service_from__gte=first,
            service_from__lte=last,
        )
        .exclude(claim__status=Claim.Status.REVERSED)
        .exclude(claim__frequency=Claim.Frequency.VOID)
        .filter(
            Q(place_of_service=watch.ED_PLACE)
            | Q(claim__place_of_service=watch.ED_PLACE)
            | Q(revenue_code__startswith=watch.ED_REVENUE_PREFIX)
            | Q(revenue_code=watch.ED_REVENUE_OTHER)
            | Q(code__in=[*watch.ED_CODES, *watch.ADMIT_CODES])
            | Q(claim__kind=Claim.Kind.INSTITUTIONAL, claim__type_of_bill__startswith="0" + watch.INPATIENT_BILL)
        )
        .values_list(
            "claim__member_id", "service_from", "claim__kind", "place_of_service", "claim__place_of_service",
            "claim__type_of_bill", "revenue_code", "code",
        )
    )  # fmt: skip
    claim_lines = pl.DataFrame(
        [
            (m, on, kind, pos or claim_pos, tob, rev, code)
            for m, on, kind, pos, claim_pos, tob, rev, code in lines
        ],
        schema=watch.CLAIM_LINE_SCHEMA,
        orient="row",
    )
    return {
        "eligibility": eligibility,
        "assignments": assignments,
        "requests": requests,
        "claim_lines": claim_lines,
    }


def watch_report(actor: Actor, *, period: watch.Period) -> WatchReport:
    """The under-service watch per practice and per PCP over `period`, against the previous period of the
    same length, with the thresholds in force on the period's last day. The rates are risk-adjusted (each unit's
    rates divided by its members' mean payment RAF) when the payment year of the period's last day has an
    approved risk run (``openipa.risk.selectors.approved_payment_rafs``); raw otherwise."""
    require_staff(actor)
    if period.last < period.first:
        raise ValidationFailed.single("month_to", "the last month is before the first")
    try:
        threshold = um_selectors.watch_threshold(period.last)
    except NotFound:
        raise ValidationFailed.single(
            "month_to", f"no under-service watch thresholds are in force on {period.last}: add them first"
        ) from None
    limits = watch.Thresholds(
        referral_ratio=float(threshold.referral_ratio),
        outcome_ratio=float(threshold.outcome_ratio),
        denial_ratio=float(threshold.denial_ratio),
        min_member_months=threshold.min_member_months,
    )
    previous = period.previous()
    inputs = watch_inputs(actor, previous.first, period.last)
    rafs = risk_selectors.approved_payment_rafs(period.last.year)
    risk = (
        rafs.select(pl.col("member_id").alias("member"), (pl.col("raf_milli") / 1000).alias("risk")).cast(
            watch.RISK_SCHEMA  # type: ignore[arg-type]
        )
        if rafs.height
        else None
    )
    by_practice = watch.watch(**inputs, period=period, thresholds=limits, unit="practice", risk=risk)
    by_pcp = watch.watch(**inputs, period=period, thresholds=limits, unit="pcp", risk=risk)
    practice_names = dict(Practice.objects.values_list("pk", "legal_name"))
    pcp_practice = dict(
        inputs["assignments"].select("pcp", "practice").unique("pcp", keep="last").iter_rows()
    )
    providers = Provider.objects.in_bulk(list(by_pcp["pcp"]))
    practices = [
        WatchUnit(r["practice"], practice_names.get(r["practice"], str(r["practice"])), "", r)
        for r in by_practice.iter_rows(named=True)
    ]
    pcps = [
        WatchUnit(
            r["pcp"],
            f"{providers[r['pcp']]} ({providers[r['pcp']].npi})" if r["pcp"] in providers else str(r["pcp"]),
            practice_names.get(pcp_practice.get(r["pcp"], 0), ""),
            r,
        )
        for r in by_pcp.iter_rows(named=True)
    ]
    return WatchReport(period, previous, threshold, risk is not None, practices, pcps)
