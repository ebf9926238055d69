"""Reads for the IBNR reserves: the paid claim lines and the member-months the engine needs, the estimates, and
the hindsight of an estimate.

Paid lines: a line counts when a claims payment run that is **paid** carried it. Its incurred date is the line's
date of service (``service_from``), its paid date that run's ``payment_date``. A line reversed later counts
again, negated, on the payment date of the (paid) run that remitted the reversal. The line of business is
that of the member's product on the date of service (``unknown`` when no eligibility span covers it); the
service category is the one adjudication gave the line (``unspecified`` when blank).

Member-months: a member counts in a month and line of business when eligible in a product of that line of
business on at least one day of the month (once, however many spans), counted by the membership engine.
Every service category of a line of business has the same member-months (the exposure is the member's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Q, QuerySet

from openipa.claims.engine import ibnr
from openipa.claims.models import ClaimLine, ClaimPaymentRun, IbnrEstimate
from openipa.contracts.models import Product
from openipa.core.errors import NotFound
from openipa.core.frames import query_frame
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, require
from openipa.membership import engine as membership_engine
from openipa.membership.models import EligibilitySpan
from openipa.membership.selectors import eligibility_spans_frame

UNKNOWN_LOB = "unknown"
UNSPECIFIED_CATEGORY = "unspecified"
GROUP_COLUMNS = ("line_of_business", "service_category")
"""The columns an estimate may be grouped by."""

PAID_COLUMNS = ("incurred_date", "paid_date", "paid_cents", *GROUP_COLUMNS)


def _require_view(actor: Actor | None) -> None:
    if actor is not None:
        require(actor, Perm.VIEW_FINANCE)


def _lobs() -> dict[int, str]:
    return {pk: str(lob) for pk, lob in Product.objects.values_list("pk", "line_of_business")}


def paid_lines_frame(actor: Actor | None, *, first: Month, last: Month) -> pl.DataFrame:
    """Every payment (and reversal, negative) of a claim line incurred from `first` through the end of `last`,
    paid by a paid run dated no later than `last`: PAID_COLUMNS, one row per payment, by line then date."""
    _require_view(actor)
    runs = dict(
        ClaimPaymentRun.objects.filter(
            status=ClaimPaymentRun.Status.PAID, payment_date__lte=last.last_day
        ).values_list("pk", "payment_date")
    )
    run_frame = pl.DataFrame(
        {"run_id": list(runs), "paid_date": list(runs.values())},
        schema={"run_id": pl.Int64, "paid_date": pl.Date},
    )
    columns = {
        "line_id": ("pk", pl.Int64),
        "member_id": ("claim__member_id", pl.Int64),
        "incurred_date": ("service_from", pl.Date),
        "service_category": ("service_category", pl.String),
        "paid_cents": ("paid_cents", pl.Int64),
    }
    window = ClaimLine.objects.filter(
        service_from__gte=first.first_day, service_from__lte=last.last_day
    ).exclude(paid_cents=0)
    parts = []
    for field, sign in (("payment_run_id", 1), ("reversal_run_id", -1)):
        rows = query_frame(
            window.filter(**{f"{field}__in": list(runs)}), {**columns, "run_id": (field, pl.Int64)}
        )
        parts.append(rows.join(run_frame, on="run_id", how="inner").with_columns(pl.col("paid_cents") * sign))
    lines = pl.concat(parts)
    member_ids = lines["member_id"].drop_nulls().unique().to_list()
    spans = eligibility_spans_frame(member_ids)
    lobs = _lobs()
    spans = spans.with_columns(
        pl.col("product_id").replace_strict(lobs, default=UNKNOWN_LOB, return_dtype=pl.String).alias("lob")
    )
    covered = (
        lines.select("line_id", "member_id", "incurred_date")
        .join(spans, on="member_id", how="inner")
        .filter(
            (pl.col("valid_from") <= pl.col("incurred_date"))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("incurred_date")))
        )
        # overlapping spans: the one that began last is the member's product on that day
        .sort("line_id", "valid_from", "product_id", descending=[False, True, False])
        .unique("line_id", keep="first")
        .select("line_id", "lob")
    )
    category = pl.col("service_category")
    return (
        lines.join(covered, on="line_id", how="left")
        .select(
            "incurred_date",
            "paid_date",
            "paid_cents",
            pl.col("lob").fill_null(UNKNOWN_LOB).alias("line_of_business"),
            pl.when(category.is_null() | (category == ""))
            .then(pl.lit(UNSPECIFIED_CATEGORY))
            .otherwise(category)
            .alias("service_category"),
            "line_id",
        )
        .sort("line_id", "paid_date")
        .drop("line_id")
    )


def member_months_frame(
    actor: Actor | None, *, first: Month, last: Month, group_by: Sequence[str], categories: Sequence[str] = ()
) -> pl.DataFrame:
    """Member-months from `first` through `last` in the engine's MEMBER_MONTH_SCHEMA, with the `group_by`
    columns: by line of business, repeated for each of `categories` when grouped by service category too.
    Every group and month of the window has a row (zero included)."""
    _require_view(actor)
    spans = query_frame(
        EligibilitySpan.objects.filter(valid_from__lte=last.last_day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=first.first_day)
        ),
        {
            "member": ("member_id", pl.Int64),
            "product_id": ("product_id", pl.Int64),
            "valid_from": ("valid_from", pl.Date),
            "valid_to": ("valid_to", pl.Date),
        },
    )
    lobs = _lobs()
    by_lob = "line_of_business" in group_by
    names = sorted(set(lobs.values())) if by_lob else ["all"]
    codes = {name: i for i, name in enumerate(names)}
    months = [first + i for i in range(last.index - first.index + 1)]
    counts: dict[tuple[str, int], int] = {}
    if spans.height:
        month_index = pl.col("valid_from").dt.year().cast(pl.Int64) * 12 + pl.col("valid_from").dt.month() - 1
        end_index = pl.col("valid_to").dt.year().cast(pl.Int64) * 12 + pl.col("valid_to").dt.month() - 1
        frame = spans.select(
            "member",
            (
                pl.col("product_id").replace_strict(lobs, default=UNKNOWN_LOB, return_dtype=pl.String)
                if by_lob
                else pl.lit("all")
            )
            .replace_strict(codes, default=-1, return_dtype=pl.Int64)
            .alias("payer"),
            month_index.clip(first.index, last.index).alias("first"),
            end_index.fill_null(last.index).clip(first.index, last.index).alias("last"),
        )
        _low, _high, counted = membership_engine.member_months(frame)
        for code, month, n in counted.iter_rows():
            if first.index <= month <= last.index:
                counts[(names[code] if code >= 0 else UNKNOWN_LOB, month)] = int(n)
    rows: list[dict[str, Any]] = []
    for name in names:
        wanted: list[str | None] = list(categories) if "service_category" in group_by else [None]
        for category in wanted:
            for month in months:
                row: dict[str, Any] = {}
                if by_lob:
                    row["line_of_business"] = name
                if category is not None:
                    row["service_category"] = category
                row["month"] = month.first_day
                row["member_months"] = counts.get((name, month.index), 0)
                rows.append(row)
    schema: dict[str, Any] = {k: pl.String for k in GROUP_COLUMNS if k in group_by}
    schema.update(ibnr.MEMBER_MONTH_SCHEMA)
    return pl.DataFrame(rows, schema=schema)


# -- estimates


def estimate_list(actor: Actor, *, limit: int = 24) -> QuerySet[IbnrEstimate]:
    """The latest estimates, newest as-of month first."""
    require(actor, Perm.VIEW_FINANCE)
    return IbnrEstimate.objects.order_by("-as_of", "-id")[:limit]


def estimate_get(actor: Actor, pk: int) -> IbnrEstimate:
    require(actor, Perm.VIEW_FINANCE)
    try:
        return IbnrEstimate.objects.get(pk=pk)
    except IbnrEstimate.DoesNotExist:
        raise NotFound(f"no IBNR estimate {pk}") from None


def _month_date(text: str) -> dt.date:
    return Month.parse(text).first_day


def results_frame(estimate: IbnrEstimate) -> pl.DataFrame:
    """An estimate's stored months as the engine's Estimate.months frame (group columns + ESTIMATE_SCHEMA)."""
    keys = list(estimate.group_by or [])
    schema: dict[str, Any] = dict.fromkeys(keys, pl.String)
    schema.update(ibnr.ESTIMATE_SCHEMA)
    rows = [{**r, "incurred_month": _month_date(r["incurred_month"])} for r in estimate.results]
    return pl.DataFrame(rows, schema=schema)


def triangle_frame(estimate: IbnrEstimate) -> pl.DataFrame:
    """The triangle an estimate was made from, as lag_triangle returned it."""
    keys = list(estimate.group_by or [])
    schema: dict[str, Any] = dict.fromkeys(keys, pl.String)
    schema.update(ibnr.TRIANGLE_SCHEMA)
    rows = [
        {**r, "incurred_month": _month_date(r["incurred_month"])}
        for r in (estimate.inputs or {}).get("triangle", [])
    ]
    return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class Hindsight:
    """The previous approved estimate (None when there is none or it was grouped otherwise) and, per group and
    incurred month, its figures against what this estimate's triangle shows paid since (HINDSIGHT_SCHEMA)."""

    previous: IbnrEstimate | None
    rows: list[dict[str, Any]]
    note: str

    @property
    def runout_cents(self) -> int:
        return sum(int(r["runout_cents"] or 0) for r in self.rows)

    @property
    def ibnr_then_cents(self) -> int:
        return sum(int(r["ibnr_then_cents"]) for r in self.rows)

    @property
    def remaining_ibnr_cents(self) -> int:
        return sum(int(r["remaining_ibnr_cents"] or 0) for r in self.rows)


def previous_approved(estimate: IbnrEstimate) -> IbnrEstimate | None:
    """The latest approved estimate as of a month before `estimate`'s."""
    return (
        IbnrEstimate.objects.filter(status=IbnrEstimate.Status.APPROVED, as_of__lt=estimate.as_of)
        .order_by("-as_of", "-id")
        .first()
    )


def hindsight(actor: Actor | None, estimate: IbnrEstimate) -> Hindsight:
    """The previous approved estimate against the run-out since, read from `estimate`'s own triangle."""
    _require_view(actor)
    previous = previous_approved(estimate)
    if previous is None:
        return Hindsight(None, [], "No approved estimate before this month to compare with.")
    if list(previous.group_by or []) != list(estimate.group_by or []):
        return Hindsight(
            previous,
            [],
            f"Estimate {previous.pk} was grouped by {', '.join(previous.group_by) or 'nothing'}: not comparable.",
        )
    compared = ibnr.compare(results_frame(previous), triangle_frame(estimate))
    rows = [{**r, "incurred_month": f"{r['incurred_month']:%Y-%m}"} for r in compared.iter_rows(named=True)]
    return Hindsight(previous, rows, "")
