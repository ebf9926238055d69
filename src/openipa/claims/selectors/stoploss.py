"""Reads of stop-loss: the policies, the alerts (newest first) and the recoverables per policy, for finance and
auditors. Practice users never see them (they are the IPA's reinsurance, and name members of every practice);
the members shown are written to the audit log as read.

The recoverables are recomputed by the engine from the stored accumulators and the policies
(``claims.engine.stoploss.recoverables``), so the report always agrees with the policy terms as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from openipa.claims.engine import stoploss as engine
from openipa.claims.models import StopLossAccumulator, StopLossAlert, StopLossPolicy
from openipa.core import audit
from openipa.core.errors import PermissionDenied
from openipa.core.frames import query_frame
from openipa.core.money import round_cents
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require

ALERTS_SHOWN = 200
CHART_MEMBERS = 12


def policies_frame(policies: list[StopLossPolicy] | None = None) -> pl.DataFrame:
    """The policies (all of them by default) as the engine's POLICY_SCHEMA frame, amounts in cents."""
    rows = policies if policies is not None else list(StopLossPolicy.objects.order_by("pk"))
    return pl.DataFrame(
        [
            (p.pk, p.payer_id, p.product_id, p.valid_from, p.valid_to, round_cents(p.attachment),
             int(p.coinsurance_percent * 1000), round_cents(p.maximum) if p.maximum is not None else None,
             p.categories)
            for p in rows
        ],
        schema=engine.POLICY_SCHEMA,
        orient="row",
    )  # fmt: skip


def accumulators_frame(member_ids: list[int] | None = None) -> pl.DataFrame:
    """The stored accumulators (of ``member_ids``, or all) as the engine's ACCUMULATOR_SCHEMA frame."""
    query = StopLossAccumulator.objects.all()
    if member_ids is not None:
        query = query.filter(member_id__in=member_ids)
    return query_frame(
        query.order_by("policy_id", "member_id"),
        {"policy_id": ("policy_id", pl.Int64), "member_id": ("member_id", pl.Int64),
         "paid_cents": ("paid_cents", pl.Int64), "recoverable_cents": ("recoverable_cents", pl.Int64),
         "alerted_pct": ("alerted", pl.Int32)},
    )  # fmt: skip


@dataclass(frozen=True)
class MemberRecoverable:
    member_id: int
    member: str
    """Last, First (payer member id)."""
    payer_member_id: str
    paid_cents: int
    excess_cents: int
    recoverable_cents: int
    capped: bool
    """The maximum reimbursement limited the recoverable."""


@dataclass(frozen=True)
class ChartMember:
    payer_member_id: str
    paid_cents: int
    up_to_attachment_cents: int
    above_attachment_cents: int


@dataclass(frozen=True)
class PolicyRecoverables:
    policy: StopLossPolicy
    attachment_cents: int
    maximum_cents: int | None
    members: list[MemberRecoverable]
    """Members over the attachment, largest paid first."""
    members_over: int
    paid_cents: int
    excess_cents: int
    recoverable_cents: int
    chart: list[ChartMember]
    """The members with the most eligible paid (up to CHART_MEMBERS), over the attachment or not."""


@dataclass(frozen=True)
class AlertRow:
    alert: StopLossAlert
    member: str


@dataclass(frozen=True)
class StopLossReport:
    policies: list[PolicyRecoverables]
    alerts: list[AlertRow]
    """Newest first, at most ALERTS_SHOWN."""
    alert_count: int
    recoverable_cents: int
    """All policies together."""


def _require_reader(actor: Actor) -> None:
    if is_practice_scoped(actor):
        raise PermissionDenied("stop-loss is the IPA's reinsurance: not shown to practice users")
    require(actor, Perm.VIEW_FINANCE)
    require(actor, Perm.VIEW_CLAIMS)


def can_add_policy(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_FINANCE) and not is_practice_scoped(actor)


def _labels(member_ids: set[int]) -> dict[int, tuple[str, str]]:
    from openipa.membership.models import Member

    return {
        pk: (f"{last}, {first} ({key})", key)
        for pk, last, first, key in Member.objects.filter(pk__in=member_ids).values_list(
            "pk", "last_name", "first_name", "payer_member_id"
        )
    }


def stoploss_report(actor: Actor, *, purpose: str) -> StopLossReport:
    """Every policy (newest policy year first) with its recoverables and chart rows, and the latest alerts.
    Raise PermissionDenied for practice users and roles without finance and claims reading. The members
    shown are recorded as read for ``purpose``."""
    _require_reader(actor)
    policies = list(StopLossPolicy.objects.select_related("payer", "product"))
    frame = policies_frame(policies)
    accumulators = accumulators_frame()
    result = engine.recoverables(accumulators, frame)
    members_by_policy: dict[int, list[dict[str, Any]]] = {}
    for row in result.members.sort("paid_cents", descending=True).iter_rows(named=True):
        members_by_policy.setdefault(row["policy_id"], []).append(row)
    totals = {row["policy_id"]: row for row in result.totals.iter_rows(named=True)}
    top: dict[int, list[tuple[int, int]]] = {}
    for row in (
        accumulators.filter(pl.col("paid_cents") > 0)
        .sort(["policy_id", "paid_cents", "member_id"], descending=[False, True, False])
        .group_by("policy_id", maintain_order=True)
        .head(CHART_MEMBERS)
        .iter_rows(named=True)
    ):
        top.setdefault(row["policy_id"], []).append((row["member_id"], row["paid_cents"]))
    alert_query = StopLossAlert.objects.select_related("policy", "run", "line").order_by("-created_at", "-id")
    alerts = list(alert_query[:ALERTS_SHOWN])
    shown = {int(r["member_id"]) for rows in members_by_policy.values() for r in rows}
    shown |= {m for rows in top.values() for m, _paid in rows} | {a.member_id for a in alerts}
    labels = _labels(shown)
    report: list[PolicyRecoverables] = []
    for policy, attachment, maximum in zip(
        policies, frame["attachment_cents"].to_list(), frame["max_reimbursement_cents"].to_list(), strict=True
    ):
        total = totals.get(policy.pk, {})
        report.append(
            PolicyRecoverables(
                policy=policy, attachment_cents=attachment, maximum_cents=maximum,
                members=[
                    MemberRecoverable(
                        member_id=int(r["member_id"]), member=labels.get(int(r["member_id"]), ("?", "?"))[0],
                        payer_member_id=labels.get(int(r["member_id"]), ("?", "?"))[1],
                        paid_cents=int(r["paid_cents"]), excess_cents=int(r["excess_cents"]),
                        recoverable_cents=int(r["recoverable_cents"]), capped=bool(r["capped"]),
                    )
                    for r in members_by_policy.get(policy.pk, [])
                ],
                members_over=int(total.get("members_over", 0)), paid_cents=int(total.get("paid_cents", 0)),
                excess_cents=int(total.get("excess_cents", 0)),
                recoverable_cents=int(total.get("recoverable_cents", 0)),
                chart=[
                    ChartMember(payer_member_id=labels.get(m, ("?", str(m)))[1], paid_cents=paid,
                                up_to_attachment_cents=min(paid, attachment),
                                above_attachment_cents=max(0, paid - attachment))
                    for m, paid in top.get(policy.pk, [])
                ],
            )
        )  # fmt: skip
    audit.record_read(actor, object_type="claims.stoploss", member_ids=shown, purpose=purpose)
    return StopLossReport(
        policies=report,
        alerts=[AlertRow(alert=a, member=labels.get(a.member_id, ("?", "?"))[0]) for a in alerts],
        alert_count=alert_query.count(),
        recoverable_cents=sum(p.recoverable_cents for p in report),
    )


__all__ = [
    "ALERTS_SHOWN",
    "AlertRow",
    "ChartMember",
    "MemberRecoverable",
    "PolicyRecoverables",
    "StopLossReport",
    "accumulators_frame",
    "can_add_policy",
    "policies_frame",
    "stoploss_report",
]
