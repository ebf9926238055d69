"""Platform counts: practices, providers, members, member-months per payer and month, users per role.

Aggregates only, no member-level data, so nothing here is written to the audit log; a page that shows
them still decides who may see them. The numbers depend on the data alone, never on the clock: the
same demo seed gives the same numbers on any day.

A member-month is a member eligible (any eligibility span, any product of the member's payer) on at least
one day of the month. The months run from the month of the earliest `valid_from` to the latest month any
span starts or ends in; open-ended spans count through that last month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Count

from openipa.accounts.models import User
from openipa.contracts.models import Payer
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.membership.models import EligibilitySpan, Member
from openipa.network.models import Practice, Provider


@dataclass(frozen=True)
class MemberMonths:
    """Member-months per payer code and month ("YYYY-MM"); every payer has every month (zeros too)."""

    months: tuple[str, ...]
    by_payer_month: dict[str, dict[str, int]]

    @property
    def by_payer(self) -> dict[str, int]:
        return {code: sum(per_month.values()) for code, per_month in self.by_payer_month.items()}

    @property
    def by_month(self) -> dict[str, int]:
        return {m: sum(per_month[m] for per_month in self.by_payer_month.values()) for m in self.months}

    @property
    def total(self) -> int:
        return sum(self.by_payer.values())


def _month_label(index: int) -> str:
    year, month0 = divmod(index, 12)
    return str(Month(year, month0 + 1))


def member_months_by_payer_month() -> MemberMonths:
    """Count member-months for every payer and month of the data's own range (see the module docstring).

    One query returns the spans as plain values; Polars expands each span to its months, keeps one row
    per member and month (overlapping spans count once) and counts per payer and month.
    """
    payer_codes = dict(Payer.objects.values_list("id", "code"))
    rows = list(
        EligibilitySpan.objects.values_list("member_id", "member__payer_id", "valid_from", "valid_to")
    )
    if not rows:
        return MemberMonths(months=(), by_payer_month={code: {} for code in sorted(payer_codes.values())})
    member, payer, start, end = zip(*rows, strict=True)
    spans = pl.DataFrame(
        {"member": member, "payer": payer, "start": start, "end": end},
        schema={"member": pl.Int64, "payer": pl.Int64, "start": pl.Date, "end": pl.Date},
    ).with_columns(
        (pl.col("start").dt.year().cast(pl.Int64) * 12 + pl.col("start").dt.month() - 1).alias("first"),
        (pl.col("end").dt.year().cast(pl.Int64) * 12 + pl.col("end").dt.month() - 1).alias("last"),
    )
    bounds = spans.select(
        pl.col("first").min().alias("low"),
        pl.max_horizontal(pl.col("first").max(), pl.col("last").max()).alias("high"),
    ).row(0)
    low, high = int(bounds[0]), int(bounds[1])
    counts = (
        spans.select(
            "member",
            "payer",
            pl.int_ranges("first", pl.col("last").fill_null(high) + 1).alias("month"),
        )
        .explode("month")
        .unique(["member", "payer", "month"])
        .group_by("payer", "month")
        .len()
    )
    indexes = range(low, high + 1)
    labels = tuple(_month_label(i) for i in indexes)
    table = {code: dict.fromkeys(labels, 0) for code in sorted(payer_codes.values())}
    for payer_id, month, n in counts.iter_rows():
        table[payer_codes[payer_id]][_month_label(month)] = int(n)
    return MemberMonths(months=labels, by_payer_month=table)


def users_by_role() -> dict[str, int]:
    """Users per role value, every role listed (zero when nobody has it), keys sorted."""
    counts = {role.value: 0 for role in Role}
    for role, n in User.objects.values_list("role").annotate(n=Count("id")).order_by():
        counts[role] = n
    return dict(sorted(counts.items()))


def platform_stats() -> dict[str, Any]:
    """Counts for `openipa stats`: the same data gives the same dictionary, keys sorted at every level."""
    member_months = member_months_by_payer_month()
    return {
        "member_months": {
            "by_month": dict(sorted(member_months.by_month.items())),
            "by_payer": dict(sorted(member_months.by_payer.items())),
            "by_payer_month": {
                code: dict(sorted(per_month.items()))
                for code, per_month in sorted(member_months.by_payer_month.items())
            },
        },
        "members": Member.objects.count(),
        "practices": Practice.objects.count(),
        "providers": Provider.objects.count(),
        "users_by_role": users_by_role(),
    }
