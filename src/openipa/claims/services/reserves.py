"""IBNR reserves: prepare an estimate as of a month (a draft), approve it (a second finance user).

``estimate_ibnr`` reads the paid claim lines and member-months (``claims.selectors.reserves``), runs the engine
(``claims.engine.ibnr``: triangle, factors, optional selected factors, estimate) and keeps everything needed to
show and redo it in one ``IbnrEstimate`` row: the factors and the months' results as JSON, the totals, and in
``inputs`` the triangle, the member-months used, the tail, trend, overrides and the per-group totals.

``approve_estimate`` approves a draft: a finance user other than its preparer. An approved estimate never
changes; a new estimate of the same month is a new row. docs/reserves.md explains the method.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.claims.engine import ibnr
from openipa.claims.models import IbnrEstimate
from openipa.claims.selectors import reserves as selectors
from openipa.core import audit
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, require

Status = IbnrEstimate.Status


class ReserveRefused(ValueError):
    """An estimate cannot be prepared or approved as asked; the message says why (and names the field)."""


def _who(actor: Actor | None, who: str) -> str:
    return (who or (getattr(actor, "username", "") if actor is not None else "") or "system")[:150]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return f"{value:%Y-%m}"
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def _decimal(value: Decimal | str | int, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ReserveRefused(f"{field}: {value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ReserveRefused(f"{field}: {value!r} is not a finite number")
    return number


def _overrides_frame(overrides: Sequence[Mapping[str, Any]], keys: list[str]) -> pl.DataFrame:
    rows = []
    for n, item in enumerate(overrides, start=1):
        missing = [k for k in (*keys, "lag", "age_to_age") if k not in item]
        if missing:
            raise ReserveRefused(f"overrides: item {n}: missing {', '.join(missing)}")
        rows.append(
            {**{k: str(item[k]) for k in keys}, "lag": item["lag"], "age_to_age": str(item["age_to_age"])}
        )
    schema: dict[str, Any] = dict.fromkeys(keys, pl.String)
    schema.update(ibnr.OVERRIDE_SCHEMA)
    try:
        return pl.DataFrame(rows, schema=schema)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as error:
        raise ReserveRefused(f"overrides: {error}") from None


def estimate_ibnr(
    actor: Actor | None,
    as_of: Month,
    *,
    method: str = ibnr.VOLUME_WEIGHTED,
    periods: int | None = None,
    months: int = 24,
    threshold: Decimal | str = ibnr.DEFAULT_THRESHOLD,
    pmpm_months: int = ibnr.DEFAULT_PMPM_MONTHS,
    group_by: Sequence[str] = selectors.GROUP_COLUMNS,
    overrides: Sequence[Mapping[str, Any]] | None = None,
    tail: Decimal | str = ibnr.NO_TAIL,
    monthly_trend: Decimal | str = ibnr.NO_TREND,
    who: str = "",
) -> IbnrEstimate:
    """Prepare and keep the draft IBNR estimate as of `as_of` (payments through the month's end) over the
    `months` incurred months ending with it, grouped by `group_by` (some of GROUP_COLUMNS).

    `overrides` are selected age-to-age factors: ``{"line_of_business": ..., "service_category": ...,
    "lag": 2, "age_to_age": "1.0425"}`` (the group columns of `group_by`). Raise ReserveRefused (nothing
    written) for an unusable parameter or input, PermissionDenied for an actor without EDIT_FINANCE.
    """
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    keys = list(group_by)
    unknown = [k for k in keys if k not in selectors.GROUP_COLUMNS]
    if unknown or len(set(keys)) != len(keys):
        raise ReserveRefused(
            f"group_by: {keys} (choose from {', '.join(selectors.GROUP_COLUMNS)}, once each)"
        )
    if not 1 <= months <= 120:
        raise ReserveRefused(f"months: {months} (the window is 1 to 120 incurred months)")
    threshold_d = _decimal(threshold, "threshold")
    if threshold_d != threshold_d.quantize(Decimal("0.001")):
        raise ReserveRefused(f"threshold: {threshold} has more than 3 decimal places")
    tail_d = _decimal(tail, "tail")
    trend_d = _decimal(monthly_trend, "monthly_trend")
    first = as_of - (months - 1)
    paid = selectors.paid_lines_frame(actor, first=first, last=as_of)
    if paid.height == 0:
        raise ReserveRefused(
            f"as_of {as_of}: no claim line incurred from {first} to {as_of} was paid by a paid run by then"
        )
    paid = paid.select("incurred_date", "paid_date", "paid_cents", *keys)
    categories = sorted(set(paid["service_category"])) if "service_category" in keys else []
    member_months = selectors.member_months_frame(
        actor, first=first, last=as_of, group_by=keys, categories=categories
    )
    try:
        triangle = ibnr.lag_triangle(paid, as_of=as_of.first_day, months=months, group_by=keys)
        factors = ibnr.development_factors(triangle, method=method, periods=periods, tail=tail_d)
        if overrides:
            factors = ibnr.override_factors(factors, _overrides_frame(overrides, keys))
        result = ibnr.estimate(
            triangle,
            factors,
            member_months=member_months,
            threshold=threshold_d,
            pmpm_months=pmpm_months,
            monthly_trend=trend_d,
        )
    except ibnr.IbnrInputError as error:
        raise ReserveRefused(str(error)) from None
    used_exposure = member_months.join(
        result.months.select(*keys, pl.col("incurred_month").alias("month")).unique(), on=[*keys, "month"]
    ).sort([*keys, "month"])
    with transaction.atomic():
        record = IbnrEstimate.objects.create(
            as_of=as_of.first_day,
            method=method,
            periods=periods,
            months=months,
            threshold=threshold_d,
            pmpm_months=pmpm_months,
            group_by=keys,
            factors=_rows(factors),
            results=_rows(result.months),
            total_paid_cents=result.total_paid_cents,
            total_ibnr_cents=result.total_ibnr_cents,
            inputs={
                "tail": str(tail_d),
                "monthly_trend": str(trend_d),
                "overrides": [{k: _jsonable(v) for k, v in o.items()} for o in overrides or []],
                "factor_source": result.factor_source,
                "total_ultimate_cents": result.total_ultimate_cents,
                "groups": _rows(result.groups),
                "triangle": _rows(triangle),
                "member_months": _rows(used_exposure),
                "payments": paid.height,
            },
            prepared_by=_who(actor, who),
        )
        audit.record_write(
            actor,
            "claims.estimate_ibnr",
            record,
            after={"as_of": str(as_of), "method": method, "total_ibnr_cents": record.total_ibnr_cents},
        )
    return record


def approve_estimate(actor: Actor, estimate: IbnrEstimate) -> IbnrEstimate:
    """Approve a draft estimate: a finance user other than its preparer. Raise ReserveRefused otherwise."""
    require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        estimate = IbnrEstimate.objects.select_for_update().get(pk=estimate.pk)
        if estimate.status != Status.DRAFT:
            raise ReserveRefused(
                f"estimate {estimate.pk} is {estimate.get_status_display().lower()}: only a draft can be approved"
            )
        if actor.username == estimate.prepared_by:
            raise ReserveRefused(
                f"estimate {estimate.pk} was prepared by {estimate.prepared_by}: another finance user must approve it"
            )
        estimate.status = Status.APPROVED
        estimate.approved_by = actor.username
        estimate.approved_at = timezone.now()
        estimate.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record_write(
            actor, "claims.approve_estimate", estimate, after={"status": estimate.status,
                                                               "total_ibnr_cents": estimate.total_ibnr_cents}
        )  # fmt: skip
    return estimate


def result_json(estimate: IbnrEstimate, hindsight: selectors.Hindsight | None = None) -> dict[str, Any]:
    """The CLI's ``--json``: totals per group and overall, and the months, in cents and millionths."""
    inputs = estimate.inputs or {}
    out: dict[str, Any] = {
        "as_of": f"{estimate.as_of:%Y-%m}",
        "estimate_id": estimate.pk,
        "status": estimate.status,
        "method": estimate.method,
        "group_by": list(estimate.group_by or []),
        "total_paid_cents": estimate.total_paid_cents,
        "total_ultimate_cents": int(inputs.get("total_ultimate_cents", 0)),
        "total_ibnr_cents": estimate.total_ibnr_cents,
        "factor_source": inputs.get("factor_source", ibnr.COMPUTED),
        "groups": list(inputs.get("groups", [])),
        "months": list(estimate.results),
    }
    if hindsight is not None:
        out["hindsight"] = {
            "previous_estimate_id": hindsight.previous.pk if hindsight.previous else None,
            "note": hindsight.note,
            "months": hindsight.rows,
        }
    return out
