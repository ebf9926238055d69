"""Platform counts: practices, providers, members, member-months per payer and month, users per role.

Aggregates only, no member-level data, so nothing here is written to the audit log; a page that shows
them still decides who may see them. The numbers depend on the data alone, never on the clock: the
same demo seed gives the same numbers on any day.

A member-month is a member eligible (any eligibility span, any product of the member's payer) on at least
one day of the month. The months run from the month of the earliest `valid_from` to the latest month any
span starts or ends in; open-ended spans count through that last month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Count

from openipa.accounts.models import User
from openipa.contracts.models import Payer
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.membership import engine
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


SPAN_CHUNK = 100_000


def _month_index(day: dt.date | None) -> int | None:
    return None if day is None else day.year * 12 + day.month - 1


def _span_months() -> pl.DataFrame:
    """Every eligibility span as (member, payer, first, last) month indexes; last is null when open.

    Read in chunks and turned into integer columns chunk by chunk, so a million members never sit in
    memory as Python tuples of dates (that alone took 2.4 GB).
    """
    schema = engine.SPAN_SCHEMA
    frames = []
    rows = EligibilitySpan.objects.values_list("member_id", "member__payer_id", "valid_from", "valid_to")
    chunk: list[tuple[int, int, int | None, int | None]] = []
    for member, payer, start, end in rows.iterator(chunk_size=SPAN_CHUNK):
        chunk.append((member, payer, _month_index(start), _month_index(end)))
        if len(chunk) == SPAN_CHUNK:
            frames.append(pl.DataFrame(chunk, schema=schema, orient="row"))
            chunk = []
    if chunk:
        frames.append(pl.DataFrame(chunk, schema=schema, orient="row"))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def member_months_by_payer_month() -> MemberMonths:
    """Count member-months for every payer and month of the data's own range (see the module docstring).

    The spans are read as month indexes in chunks and counted by `membership.engine.member_months`.
    """
    payer_codes = dict(Payer.objects.values_list("id", "code"))
    spans = _span_months()
    if spans.height == 0:
        return MemberMonths(months=(), by_payer_month={code: {} for code in sorted(payer_codes.values())})
    low, high, counts = engine.member_months(spans)
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
