"""Reads for the utilization reports: the SLA dashboard and the CMS-0057-F metrics, and the requests frame
the under-service watch (``openipa.performance``, an app above this one) reads through
:func:`watch_requests_frame`.

These reports are IPA-wide: they need VIEW_UM and are refused to practice users (who have VIEW_UM for their
own requests only), whatever page or API asks. Aggregates are not audited; the lists of overdue and soon-due
requests (rows naming requests) are recorded as reads, and the metrics CSV as an export
(:func:`record_metrics_export`). The computations are the pure engine's (``engine.metrics``); this module only
loads its frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import Count, Q

from openipa.contracts.models import Contract
from openipa.core import audit
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.roles import Actor, Perm, is_practice_scoped, require
from openipa.utilization import selectors
from openipa.utilization.engine import metrics
from openipa.utilization.models import Appeal, AuthEvent, AuthRequest

DECISION_ACTIONS: dict[str, str] = {
    AuthEvent.Action.AUTO_APPROVED.value: "approved",
    AuthEvent.Action.APPROVED.value: "approved",
    AuthEvent.Action.MODIFIED.value: "modified",
    AuthEvent.Action.DENIED.value: "denied",
    AuthEvent.Action.DEEMED_APPROVED.value: "deemed_approved",
}
OUTCOME_LABELS = {
    "approved": "Approved",
    "modified": "Modified (approved in part)",
    "denied": "Denied",
    "deemed_approved": "Deemed approved",
}
NO_CONTRACT = "(no contract)"
DUE_SOON_HOURS = 24
MAX_WEEKS = 53


def require_staff(actor: Actor) -> None:
    """The IPA-wide UM reports: VIEW_UM, and not a practice user."""
    require(actor, Perm.VIEW_UM)
    if is_practice_scoped(actor):
        raise PermissionDenied("the IPA-wide utilization reports are for IPA staff")


def _tz() -> str:
    return str(selectors.ipa_zone())


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def _initial_decisions(request_ids: Iterable[int]) -> dict[int, tuple[str, dt.datetime]]:
    """Per request: its first decision (outcome, when), from its history; later ones (a peer-to-peer reversal,
    an appeal) do not replace it."""
    ids = list(request_ids)
    found: dict[int, tuple[str, dt.datetime]] = {}
    for start in range(0, len(ids), 20_000):
        events = (
            AuthEvent.objects.filter(
                request_id__in=ids[start : start + 20_000], action__in=list(DECISION_ACTIONS)
            )
            .order_by("request_id", "at", "id")
            .values_list("request_id", "action", "at")
        )
        for request_id, action, at in events:
            found.setdefault(request_id, (DECISION_ACTIONS[action], at))
    return found


def _last_appeals(request_ids: Iterable[int]) -> dict[int, str]:
    ids = list(request_ids)
    found: dict[int, str] = {}
    for start in range(0, len(ids), 20_000):
        rows = (
            Appeal.objects.filter(request_id__in=ids[start : start + 20_000])
            .order_by("request_id", "received_at", "id")
            .values_list("request_id", "status")
        )
        for request_id, status in rows:
            found[request_id] = status  # the latest wins
    return found


def requests_frame(
    actor: Actor,
    *,
    decided_from: dt.datetime | None = None,
    decided_to: dt.datetime | None = None,
    contract_id: int | None = None,
) -> pl.DataFrame:
    """Every request as the metrics engine reads it (``metrics.REQUEST_SCHEMA``): its initial decision and
    when, whether its clock was extended, its last appeal's status. With `decided_from`/`decided_to`, the
    requests whose initial decision may fall in [from, to) (and the open ones received before `to`); the
    engine picks by the decision itself. IPA staff only; counts, not member rows: not audited."""
    require_staff(actor)
    qs = AuthRequest.objects.all()
    if decided_to is not None:
        qs = qs.filter(received_at__lt=decided_to)
    if decided_from is not None:
        # the initial decision comes no later than the last one, so a request last decided before `from` was
        # initially decided before it too
        qs = qs.filter(Q(decided_at__isnull=True) | Q(decided_at__gte=decided_from))
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    rows = list(
        qs.values_list(
            "pk", "contract__number", "contract__name", "line_of_business", "kind", "urgency", "received_at",
            "due_at", "decided_at", "status", "extended_at",
        )
    )  # fmt: skip
    ids = [r[0] for r in rows]
    decisions = _initial_decisions(ids)
    appeals = _last_appeals(ids)
    out = []
    for pk, number, name, lob, kind, urgency, received, due, decided, status, extended_at in rows:
        outcome, at = decisions.get(pk, ("", None))
        if not outcome:
            if status == AuthRequest.Status.WITHDRAWN:
                outcome, at = "withdrawn", decided
            elif status not in AuthRequest.OPEN:  # decided without a history (loaded data): its status stands
                outcome, at = str(status), decided
        out.append(
            {
                "contract": f"{number} {name}" if number else "",
                "line_of_business": lob,
                "kind": kind,
                "urgency": urgency,
                "received_at": _utc(received),
                "due_at": _utc(due),
                "decided_at": _utc(at),
                "outcome": outcome,
                "extended": extended_at is not None,
                "appeal_outcome": appeals.get(pk, ""),
            }
        )
    return pl.DataFrame(out, schema=metrics.REQUEST_SCHEMA)


# -- CMS-0057-F metrics


@dataclass(frozen=True)
class MetricsReport:
    rows: list[dict[str, Any]]
    contracts: list[tuple[int, str]]
    years: list[int]
    contract_id: int | None
    year: int | None


CSV_COLUMNS = (
    ("contract", "Contract"),
    ("line_of_business", "Line of business"),
    ("year", "Year"),
    ("standard_decided", "Standard requests decided"),
    ("standard_approved_pct", "Standard approved %"),
    ("standard_denied_pct", "Standard denied %"),
    ("standard_approved_after_appeal_pct", "Standard approved after appeal %"),
    ("standard_approved_after_extension_pct", "Standard approved after extension %"),
    ("standard_modified_pct", "Standard approved in part (modified) %"),
    ("standard_appealed", "Standard adverse decisions appealed"),
    ("expedited_decided", "Expedited requests decided"),
    ("expedited_approved_pct", "Expedited approved %"),
    ("expedited_denied_pct", "Expedited denied %"),
    ("expedited_approved_after_extension_pct", "Expedited approved after extension %"),
    ("standard_hours_mean", "Standard decision time, mean hours"),
    ("standard_hours_median", "Standard decision time, median hours"),
    ("expedited_hours_mean", "Expedited decision time, mean hours"),
    ("expedited_hours_median", "Expedited decision time, median hours"),
)


def cms_metrics_report(
    actor: Actor, *, contract_id: int | None = None, year: int | None = None
) -> MetricsReport:
    """The CMS-0057-F metrics per contract, line of business and year of the initial decision, optionally for
    one contract and one year."""
    require_staff(actor)
    if year is not None and not 2000 <= year <= 2100:
        raise ValidationFailed.single("year", "a year between 2000 and 2100")
    zone = selectors.ipa_zone()
    decided_from = dt.datetime(year, 1, 1, tzinfo=zone) if year else None
    decided_to = dt.datetime(year + 1, 1, 1, tzinfo=zone) if year else None
    frame = requests_frame(actor, decided_from=decided_from, decided_to=decided_to, contract_id=contract_id)
    result = metrics.cms_metrics(frame, tz=_tz())
    if year is not None:
        result = result.filter(pl.col("year") == year)
    rows = [{**r, "contract": r["contract"] or NO_CONTRACT} for r in result.iter_rows(named=True)]
    contracts, years = cms_metrics_choices()
    return MetricsReport(rows, contracts, sorted(set(years) | ({year} if year else set()), reverse=True),
                         contract_id, year)  # fmt: skip


def cms_metrics_choices() -> tuple[list[tuple[int, str]], list[int]]:
    """The contracts (id, "number name") and the years with decisions, latest first, for the report's filters
    (reference data and years only)."""
    contracts = [(pk, f"{number} {name}") for pk, number, name in
                 Contract.objects.order_by("number").values_list("pk", "number", "name")]  # fmt: skip
    decided = AuthRequest.objects.filter(decided_at__isnull=False).dates("decided_at", "year")
    return contracts, sorted({d.year for d in decided}, reverse=True)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(Decimal(repr(value)).quantize(Decimal("0.01")))
    return str(value)


def metrics_csv_rows(report: MetricsReport) -> list[list[str]]:
    """The report as CSV rows (header first); shares and hours with two decimals, empty when undefined."""
    header = [label for _key, label in CSV_COLUMNS]
    return [header, *([_cell(r[key]) for key, _label in CSV_COLUMNS] for r in report.rows)]


def record_metrics_export(actor: Actor, report: MetricsReport) -> None:
    require_staff(actor)
    audit.record_access(
        actor,
        object_type="utilization.cms_metrics",
        action="export",
        purpose="CMS-0057-F prior authorization metrics CSV",
        details={
            "contract_id": report.contract_id or "all",
            "year": report.year or "all",
            "rows": len(report.rows),
        },
    )


# -- the SLA dashboard


@dataclass(frozen=True)
class SlaDashboard:
    as_of: dt.datetime
    weeks: list[dt.date]
    timeliness: pl.DataFrame  # week, urgency, decided, on_time, late, on_time_pct, hours_mean
    outcomes: pl.DataFrame  # week, outcome, n
    open_by_status: list[tuple[str, str, int, int]]  # status, label, standard, expedited
    overdue: list[AuthRequest]
    due_soon: list[AuthRequest]

    def timeliness_row(self, week: dt.date, urgency: str) -> dict[str, Any] | None:
        found = self.timeliness.filter((pl.col("week") == week) & (pl.col("urgency") == urgency))
        return found.row(0, named=True) if found.height else None

    def totals(self) -> dict[str, int]:
        decided = int(self.timeliness["decided"].sum() or 0)
        on_time = int(self.timeliness["on_time"].sum() or 0)
        return {"decided": decided, "on_time": on_time, "late": decided - on_time}


def sla_dashboard(actor: Actor, *, first: dt.date, last: dt.date, now: dt.datetime) -> SlaDashboard:
    """Decisions on time and late per week (by urgency) and by outcome, for initial decisions from `first`
    through `last` (local dates); open requests by status, those overdue at `now` and those due within the
    next 24 hours (these two lists are recorded as reads)."""
    require_staff(actor)
    if last < first:
        raise ValidationFailed.single("week_to", "the last week is before the first")
    weeks = metrics.weeks(first, last)
    if len(weeks) > MAX_WEEKS:
        raise ValidationFailed.single("week_to", f"choose at most {MAX_WEEKS} weeks")
    zone = selectors.ipa_zone()
    start = dt.datetime.combine(weeks[0], dt.time(), tzinfo=zone)
    end = dt.datetime.combine(weeks[-1] + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    frame = requests_frame(actor, decided_from=start, decided_to=end)
    frame = frame.filter(pl.col("decided_at").is_between(_utc(start), _utc(end), closed="left"))
    tz = _tz()
    open_counts = {
        (row["status"], row["urgency"]): row["n"]
        for row in AuthRequest.objects.filter(status__in=AuthRequest.OPEN)
        .values("status", "urgency")
        .annotate(n=Count("id"))
    }
    labels = dict(AuthRequest.Status.choices)
    open_by_status = [
        (
            str(s),
            str(labels[s]),
            int(open_counts.get((s, "standard"), 0)),
            int(open_counts.get((s, "expedited"), 0)),
        )
        for s in AuthRequest.OPEN
    ]
    overdue = list(selectors.request_queryset(actor, overdue_at=now))
    due_soon = list(
        selectors.request_queryset(actor, status=AuthRequest.OPEN).filter(
            due_at__gte=now, due_at__lt=now + dt.timedelta(hours=DUE_SOON_HOURS)
        )
    )
    if overdue or due_soon:
        selectors.record_request_read(
            actor, [*overdue, *due_soon], purpose="UM SLA dashboard: overdue and due soon"
        )
    return SlaDashboard(
        as_of=now,
        weeks=weeks,
        timeliness=metrics.weekly_timeliness(frame, tz=tz),
        outcomes=metrics.weekly_outcomes(frame, tz=tz),
        open_by_status=open_by_status,
        overdue=overdue,
        due_soon=due_soon,
    )


# -- the requests the under-service watch reads

# the columns of ``openipa.performance.engine.watch.REQUEST_SCHEMA`` (restated: this app does not import the
# one above it; the watch conforms the frame to its own schema)
WATCH_REQUEST_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "on": pl.Date, "kind": pl.String,
    "outcome": pl.String,  # the initial decision: approved | modified | denied | deemed_approved | withdrawn | ""
}  # fmt: skip


def watch_requests_frame(actor: Actor, *, first: dt.date, last: dt.date) -> pl.DataFrame:
    """The requests received from `first` through `last` (local dates) as the under-service watch reads them
    (:data:`WATCH_REQUEST_SCHEMA`): member, local date received, kind and initial outcome (the first decision
    of its history; "withdrawn" for a withdrawn request without one; "" while open). IPA staff only; member
    ids and counts for an aggregate report, not audited."""
    require_staff(actor)
    zone = selectors.ipa_zone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = list(
        AuthRequest.objects.filter(received_at__gte=start, received_at__lt=end).values_list(
            "pk", "member_id", "received_at", "kind", "status"
        )
    )
    decisions = _initial_decisions(r[0] for r in rows)
    return pl.DataFrame(
        [
            (member, received.astimezone(zone).date(), kind,
             decisions.get(pk, ("withdrawn" if status == AuthRequest.Status.WITHDRAWN else "", None))[0])
            for pk, member, received, kind, status in rows
        ],
        schema=WATCH_REQUEST_SCHEMA,
        orient="row",
    )  # fmt: skip
