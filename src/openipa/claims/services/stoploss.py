"""Specific stop-loss: policies (finance enters them) and the members' accumulators, which every approved payment
run updates in its own transaction with the alerts it raised.

- ``policy_create(actor=, data=)``: a policy year, scope, attachment, coinsurance, maximum and categories,
  validated; refused when a policy of the same scope already covers part of the year and a category (the
  engine would stop every later run at that line).
- ``update_accumulators(actor=, run=)``: the run's paid lines and reversals (negative) through
  ``claims.engine.stoploss.accumulate`` with the current accumulators of their members; the new accumulators
  and the run's StopLossAlert rows are written, and audited, in the caller's transaction (``approve_run``).

docs/stop-loss.md explains the rules for users.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Q

from openipa.claims.engine import stoploss as engine
from openipa.claims.models import (
    ClaimLine,
    ClaimPaymentRun,
    StopLossAccumulator,
    StopLossAlert,
    StopLossPolicy,
)
from openipa.claims.selectors.stoploss import accumulators_frame, policies_frame
from openipa.claims.services.errors import RunRefused
from openipa.core import audit
from openipa.core.bulk import update_rows
from openipa.core.errors import ValidationFailed
from openipa.core.frames import query_frame
from openipa.core.money import round_cents
from openipa.core.roles import Actor, Perm, require

Outcome = ClaimLine.Outcome
_MAX_DOLLARS = Decimal("9999999999.99")  # the model's 12 digits with 2 places


def _decimal(data: Mapping[str, Any], field: str, errors: dict[str, list[str]]) -> Decimal | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, float | bool):
        errors.setdefault(field, []).append("give an exact decimal amount, not a float")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.setdefault(field, []).append(f"{value!r} is not a number")
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(f"{value!r} is not a number")
        return None
    return number


def categories_text(raw: str) -> str:
    """The categories as stored: stripped, lower case, without blanks or repeats, comma separated."""
    seen: list[str] = []
    for part in raw.split(","):
        name = part.strip().lower()
        if name and name not in seen:
            seen.append(name)
    return ",".join(seen)


def _overlapping(policy: StopLossPolicy) -> StopLossPolicy | None:
    """A policy of the same scope whose year overlaps ``policy``'s and that covers one of its categories (an
    empty list covers every category)."""
    payer = Q(payer__isnull=True) if policy.payer_id is None else Q(payer_id=policy.payer_id)
    product = Q(product__isnull=True) if policy.product_id is None else Q(product_id=policy.product_id)
    same_scope = StopLossPolicy.objects.filter(
        payer, product, valid_from__lte=policy.valid_to, valid_to__gte=policy.valid_from
    ).order_by("pk")
    mine = set(filter(None, policy.categories.split(",")))
    for other in same_scope:
        theirs = set(filter(None, other.categories.split(",")))
        if not mine or not theirs or mine & theirs:
            return other
    return None


def policy_create(*, actor: Actor, data: Mapping[str, Any]) -> StopLossPolicy:
    """Create a stop-loss policy (finance). ``data``: name, carrier, payer and product (objects or None),
    valid_from and valid_to (the policy year, both required), attachment, coinsurance_percent and maximum (in
    dollars, Decimal or text; maximum optional), categories (comma separated; empty: all).

    Raise ValidationFailed naming each bad field: dates missing or out of order, attachment not above zero,
    coinsurance outside 0-100, maximum negative, a product of another payer, or a policy of the same scope
    already covering part of the year for one of the categories. Nothing is written then."""
    require(actor, Perm.EDIT_FINANCE)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = ["give the policy a name"]
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    for field, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        if not isinstance(value, date):
            errors[field] = ["give the date (the policy year's first and last day of service)"]
    if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_to < valid_from:
        errors["valid_to"] = [f"the policy year ends ({valid_to}) before it starts ({valid_from})"]
    attachment = _decimal(data, "attachment", errors)
    if attachment is None and "attachment" not in errors:
        errors["attachment"] = ["give the attachment point (dollars per member per policy year)"]
    elif attachment is not None and not Decimal("0") < attachment <= _MAX_DOLLARS:
        errors.setdefault("attachment", []).append("the attachment point must be above zero")
    elif attachment is not None and round_cents(attachment) == 0:
        errors.setdefault("attachment", []).append("the attachment point must be at least one cent")
    coinsurance = _decimal(data, "coinsurance_percent", errors)
    if coinsurance is None and "coinsurance_percent" not in errors:
        errors["coinsurance_percent"] = ["give the reinsurer's share above the attachment (0 to 100%)"]
    elif coinsurance is not None and not Decimal("0") <= coinsurance <= Decimal("100"):
        errors.setdefault("coinsurance_percent", []).append("the coinsurance must be between 0 and 100%")
    elif coinsurance is not None and coinsurance != coinsurance.quantize(Decimal("0.001")):
        errors.setdefault("coinsurance_percent", []).append("at most three decimals of a percent")
    maximum = _decimal(data, "maximum", errors)
    if maximum is not None and not Decimal("0") <= maximum <= _MAX_DOLLARS:
        errors.setdefault("maximum", []).append("the maximum reimbursement must not be negative")
    payer, product = data.get("payer"), data.get("product")
    if product is not None and payer is not None and product.payer_id != payer.pk:
        errors["product"] = [f"{product} is not a product of {payer}"]
    if errors:
        raise ValidationFailed(errors)
    assert attachment is not None
    assert coinsurance is not None
    assert isinstance(valid_from, date)
    assert isinstance(valid_to, date)
    policy = StopLossPolicy(
        name=name[:200], carrier=str(data.get("carrier") or "").strip()[:200],
        payer=payer if payer is not None else (product.payer if product is not None else None), product=product,
        valid_from=valid_from, valid_to=valid_to, attachment=attachment.quantize(Decimal("0.01")),
        coinsurance_percent=coinsurance, maximum=maximum.quantize(Decimal("0.01")) if maximum is not None else None,
        categories=categories_text(str(data.get("categories") or ""))[:500],
    )  # fmt: skip
    with transaction.atomic():
        other = _overlapping(policy)
        if other is not None:
            raise ValidationFailed.single(
                "valid_from",
                f"policy {other.pk} ({other.name}, {other.valid_from} to {other.valid_to}) already covers this "
                "scope for part of the year and a category: a claim line would match both",
            )
        policy.save()
        audit.record_write(actor, "claims.stoploss_policy_create", policy, after=audit.snapshot(policy))
    return policy


def run_lines_frame(run: ClaimPaymentRun) -> pl.DataFrame:
    """The run's lines as the engine's PAID_LINE_SCHEMA: lines it paid (paid_cents), and the reversals it
    remitted (minus what an earlier run paid), of claims with a known member. The product is the member's on
    the date of service (its eligibility span), the payer the product's (or the member's without a span)."""
    from openipa.contracts.models import Product
    from openipa.membership.selectors import eligibility_spans_frame

    columns = {
        "line_id": ("pk", pl.Int64),
        "member_id": ("claim__member_id", pl.Int64),
        "member_payer_id": ("claim__member__payer_id", pl.Int64),
        "category": ("service_category", pl.String),
        "service_from": ("service_from", pl.Date),
        "paid_cents": ("paid_cents", pl.Int64),
    }
    # one pass over the lines: those the run paid, and the reversals it remitted (an outcome of its own)
    read = query_frame(
        ClaimLine.objects.filter(
            Q(payment_run_id=run.pk, outcome=Outcome.PAID) | Q(reversal_run_id=run.pk),
            claim__member__isnull=False,
        ).exclude(paid_cents=0),
        {**columns, "reversal": ("reversal_run_id", pl.Int64)},
    )
    reversal = pl.col("reversal").fill_null(0) == run.pk
    lines = read.with_columns(
        pl.when(reversal).then(-pl.col("paid_cents")).otherwise(pl.col("paid_cents"))
    ).drop("reversal")
    lines = lines.with_columns(
        pl.when(pl.col("category") == "").then(None).otherwise(pl.col("category")).alias("category")
    )
    if lines.height == 0:
        return pl.DataFrame(schema=engine.PAID_LINE_SCHEMA)
    spans = eligibility_spans_frame(lines["member_id"].unique().to_list())
    covered = (
        lines.select("line_id", "member_id", "service_from")
        .join(spans, on="member_id", how="inner")
        .filter(
            (pl.col("valid_from") <= pl.col("service_from"))
            & (pl.col("valid_to").is_null() | (pl.col("service_from") <= pl.col("valid_to")))
        )
        .sort("line_id", "valid_from")
        .unique("line_id", keep="last")  # overlapping spans: the latest one started
        .select("line_id", "product_id")
    )
    products = pl.DataFrame(
        list(Product.objects.values_list("pk", "payer_id")),
        schema={"product_id": pl.Int64, "product_payer_id": pl.Int64},
        orient="row",
    )
    return (
        lines.join(covered, on="line_id", how="left")
        .join(products, on="product_id", how="left")
        .with_columns(pl.coalesce("product_payer_id", "member_payer_id").alias("payer_id"))
        .select([pl.col(c).cast(t) for c, t in engine.PAID_LINE_SCHEMA.items()])
        .sort("line_id")
    )


def update_accumulators(*, actor: Actor | None, run: ClaimPaymentRun) -> list[StopLossAlert]:
    """Add an approved run's paid lines and reversals to the members' stop-loss accumulators; write the new
    accumulators and the alerts the run raised (StopLossAlert with the run); audit. Returns the alerts.

    Runs in the caller's transaction when there is one (``approve_run`` calls it after approving), so the
    approval, the accumulators and the alerts commit together or not at all; an engine refusal
    (two policies of one scope covering a line, say) is raised as RunRefused, with the engine's message, and
    undoes the approval. A run whose lines
    were already counted (an alert or an accumulator names it) is refused, so no line counts twice."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        if (
            StopLossAlert.objects.filter(run=run).exists()
            or StopLossAccumulator.objects.filter(updated_by_run=run).exists()
        ):
            raise RunRefused(f"run {run.pk}'s lines are already in the stop-loss accumulators")
        policies = list(StopLossPolicy.objects.order_by("pk"))
        lines = run_lines_frame(run)
        if not policies or lines.height == 0:
            return []
        members = sorted(set(lines["member_id"].to_list()))
        # lock the members' accumulators (in key order) so two runs approved at once add up, not overwrite
        existing = {
            (a.policy_id, a.member_id): a
            for a in StopLossAccumulator.objects.select_for_update()
            .filter(member_id__in=members)
            .order_by("pk")
        }
        try:
            accumulators, events = engine.accumulate(
                accumulators_frame(members), lines, policies_frame(policies)
            )
        except engine.EngineInputError as exc:
            raise RunRefused(f"run {run.pk} cannot be added to the stop-loss accumulators: {exc}") from exc
        created: list[StopLossAccumulator] = []
        changed: list[StopLossAccumulator] = []
        touched: set[int] = set()
        for row in accumulators.iter_rows(named=True):
            key = (row["policy_id"], row["member_id"])
            values = (row["paid_cents"], row["recoverable_cents"], row["alerted_pct"])
            current = existing.get(key)
            if current is None:
                created.append(StopLossAccumulator(
                    policy_id=key[0], member_id=key[1], paid_cents=values[0], recoverable_cents=values[1],
                    alerted=values[2], updated_by_run=run,
                ))  # fmt: skip
            elif (current.paid_cents, current.recoverable_cents, current.alerted) != values:
                current.paid_cents, current.recoverable_cents, current.alerted = values
                current.updated_by_run = run
                changed.append(current)
            else:
                continue
            touched.add(key[1])
        StopLossAccumulator.objects.bulk_create(created)
        # plain-row updates: Django's bulk_update writes one CASE per column over every row (slow by thousands)
        update_rows(
            StopLossAccumulator,
            ("paid_cents", "recoverable_cents", "alerted", "updated_by_run_id"),
            [(a.pk, a.paid_cents, a.recoverable_cents, a.alerted, run.pk) for a in changed],
        )
        alerts = StopLossAlert.objects.bulk_create(
            StopLossAlert(policy_id=e["policy_id"], member_id=e["member_id"], threshold=e["threshold_pct"],
                          paid_cents=e["paid_cents"], line_id=e["crossed_by_line_id"], run=run)
            for e in events.iter_rows(named=True)
        )  # fmt: skip
        audit.record_write(
            actor, "claims.stoploss_update", run,
            after={"lines": lines.height, "accumulators_created": len(created),
                   "accumulators_changed": len(changed), "alerts": len(alerts)},
            member_ids=touched,
        )  # fmt: skip
    return alerts


__all__ = [
    "categories_text",
    "policy_create",
    "run_lines_frame",
    "update_accumulators",
]
