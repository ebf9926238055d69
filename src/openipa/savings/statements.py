"""A practice's shared savings statement: the settlement, step by step, then the practice's keys and its share of
each pool, as page data, a PDF (ReportLab) and a CSV. Aggregates only: no member appears on it, and no other
practice: the pools are shown as totals, never another practice's keys or share.

Totals that concern other practices (the network's settlement steps, the reserve, the fee, each pool's total)
are shown only when at least ``MIN_PRACTICES_FOR_TOTALS`` practices share the distribution: with two, the
network's cost less the practice's own would be the other practice's cost. Below that, the statement shows
the practice's own keys and share of each pool only.

Who may read one is the selectors' business (``statement_get``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from openipa.core.money import decimal_text, format_money
from openipa.savings.engine.distribution import EFFICIENCY, MEMBER_MONTHS, QUALITY
from openipa.savings.models import PracticeShare, SettlementRun

MIN_PRACTICES_FOR_TOTALS = 3
HIDDEN = "not shown (fewer than three practices share the distribution)"
POOL_LABELS = {
    MEMBER_MONTHS: "Attributed member-months",
    QUALITY: "Quality score x member-months",
    EFFICIENCY: "Efficiency (cost below the benchmark)",
}


@dataclass(frozen=True)
class PoolLine:
    key: str
    label: str
    percent: str
    pool_cents: int
    share_cents: int
    fallback: bool


@dataclass(frozen=True)
class Statement:
    share: PracticeShare
    run: SettlementRun
    steps: list[dict[str, Any]]
    pools: list[PoolLine]
    totals: bool

    @property
    def file_stem(self) -> str:
        return f"shared-savings-{self.share.practice.code}-run{self.run.pk}"


def statement(share: PracticeShare) -> Statement:
    run = share.run
    percents = {p["key"]: p["percent"] for p in (run.formula.pools if run.formula else [])}
    fallbacks = set(run.distribution.get("fallbacks", []))
    pools = [
        PoolLine(key=k, label=POOL_LABELS.get(k, k), percent=percents.get(k, ""), pool_cents=int(amount),
                 share_cents=int(share.pools.get(k, 0)), fallback=k in fallbacks)
        for k, amount in run.distribution.get("pools", {}).items()
    ]  # fmt: skip
    totals = run.shares.filter(member_months__gt=0).count() >= MIN_PRACTICES_FOR_TOTALS
    steps = list(run.result.get("steps", [])) if totals else []
    return Statement(share=share, run=run, steps=steps, pools=pools, totals=totals)


def _money(cents: int | None) -> str:
    return "" if cents is None else format_money(cents)


def statement_csv(s: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "item", "value", "amount"])
    for step in s.steps:
        cents = step.get("cents")
        writer.writerow(
            ["settlement", step["label"], step["value"], "" if cents is None else decimal_text(cents)]
        )
    if s.totals:
        writer.writerow(["off the top", "IPA reserve", "", decimal_text(s.run.reserve_cents)])
        writer.writerow(["off the top", "IPA administrative fee", "", decimal_text(s.run.admin_fee_cents)])
        writer.writerow(["off the top", "Distributable", "", decimal_text(s.run.distributable_cents)])
    else:
        writer.writerow(["settlement", "Network totals", HIDDEN, ""])
    share = s.share
    writer.writerow(["keys", "Attributed member-months", share.member_months, ""])
    writer.writerow(["keys", "Cost (completed)", "", decimal_text(share.cost_cents)])
    writer.writerow(
        ["keys", "Quality score", "" if share.quality_score is None else str(share.quality_score), ""]
    )
    for pool in s.pools:
        if s.totals:
            writer.writerow(["pool total", pool.label, f"{pool.percent}%", decimal_text(pool.pool_cents)])
        writer.writerow(["your share", pool.label, "", decimal_text(pool.share_cents)])
    writer.writerow(["your share", "Total", "", decimal_text(share.total_cents)])
    return out.getvalue()


def statement_pdf(s: Statement) -> bytes:
    """Letter, portrait, standard Helvetica fonts only."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
    ])  # fmt: skip
    share, run = s.share, s.run
    snapshot = run.snapshot
    header = [
        ["Practice", f"{share.practice.legal_name} ({share.practice.code})"],
        ["Contract", f"{snapshot.contract.number}: {snapshot.term.name} v{snapshot.term.version}"],
        [
            "Period",
            f"{snapshot.first_month:%Y-%m} to {snapshot.last_month:%Y-%m}, claims paid by {snapshot.cutoff}",
        ],
        ["Run", f"{run.pk} ({run.get_status_display().lower()})"],
        ["Trace number", share.trace_number or "-"],
    ]
    story: list[Any] = [
        Paragraph("Shared savings statement", styles["Title"]),
        Table(header, hAlign="LEFT", style=[("FONT", (0, 0), (0, -1), "Helvetica-Bold", 9)]),
        Spacer(1, 0.15 * inch),
        Paragraph("Settlement", styles["Heading3"]),
    ]
    steps = [["Step", "Value"]] + (
        [[st["label"], st["value"]] for st in s.steps] if s.totals else [["Network totals", HIDDEN]]
    )
    table = Table(steps, hAlign="LEFT", repeatRows=1)
    table.setStyle(grid)
    story.append(table)
    story.append(Paragraph("Distribution", styles["Heading3"]))
    rows = [["", "Pool", "Your share"],
            ["IPA reserve", format_money(run.reserve_cents), ""],
            ["IPA administrative fee", format_money(run.admin_fee_cents), ""]]  # fmt: skip
    rows += [
        [f"{p.label} ({p.percent}%)", format_money(p.pool_cents), format_money(p.share_cents)]
        for p in s.pools
    ]
    rows.append(["Total", format_money(run.distributable_cents), format_money(share.total_cents)])
    table = Table(rows, hAlign="LEFT", repeatRows=1)
    table.setStyle(grid)
    story.append(table)
    story.append(Paragraph("Your keys", styles["Heading3"]))
    keys = [["Key", "Value"], ["Attributed member-months", f"{share.member_months:,}"],
            ["Cost (completed)", format_money(share.cost_cents)],
            ["Quality score", "-" if share.quality_score is None else f"{share.quality_score}%"]]  # fmt: skip
    table = Table(keys, hAlign="LEFT", repeatRows=1)
    table.setStyle(grid)
    story.append(table)
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=letter, title="Shared savings statement").build(story)
    return buffer.getvalue()
