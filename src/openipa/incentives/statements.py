"""A practice's incentive statement: the formula, the practice's own inputs, the arithmetic step by step and the
amount, as rows shared by the page, the CSV and the PDF. Only the practice's own figures and pool-level
totals appear: never another practice's name, code or amount."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openipa.core.money import format_money
from openipa.incentives.models import Kind, SettlementLine


def _points(milli: int | None) -> str:
    return "not scored" if milli is None else f"{Decimal(milli) / 1000:.3f}"


@dataclass(frozen=True)
class Statement:
    line: SettlementLine
    header: list[tuple[str, str]]
    formula: list[tuple[str, str]]
    steps: list[tuple[str, str]]
    measures: list[dict[str, Any]]

    @property
    def file_stem(self) -> str:
        return f"incentive-{self.line.run_id}-{self.line.practice.code}"


MIN_PRACTICES_FOR_TOTALS = 3
"""A statement shows pool-level totals (the pool, the pool's surplus or deficit) only when at least this many
practices share the pool: with fewer, the total less the practice's own figures would be one other practice's."""
HIDDEN = "not shown (fewer than three practices share the pool)"


def _formula_rows(params: dict[str, Any], *, hide_pool: bool = False) -> list[tuple[str, str]]:
    rows = []
    for key, value in params.items():
        if hide_pool and key == "fixed_pool_cents":
            value = HIDDEN
            rows.append((key.replace("_", " "), value))
            continue
        if key == "measures":
            value = ", ".join(
                f"{m.get('measure')}/{m.get('rate', m.get('measure'))} x{m.get('weight')}" for m in value
            )
        elif key == "tiers":
            value = "; ".join(f"score >= {t.get('min_score')}: {t.get('percent')}%" for t in value)
        elif key.endswith("_cents") and isinstance(value, int):
            value = format_money(value)
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "all"
        rows.append((key.replace("_", " "), str(value)))
    return rows


def formula_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field of a version that differs from the version before it, as the
    formula's rows show them ("—": not set)."""
    if before is None:
        return []
    old, new = dict(_formula_rows(before)), dict(_formula_rows(after))
    return [(key, old.get(key, "—"), new.get(key, "—")) for key in [*new, *(k for k in old if k not in new)]
            if old.get(key, "—") != new.get(key, "—")]  # fmt: skip


def _steps(line: SettlementLine, *, totals: bool) -> list[tuple[str, str]]:
    run = line.run
    params = run.formula_params or {}
    money = format_money
    steps: list[tuple[str, str]] = [("Member-months (approved capitation runs)", f"{line.member_months:,}")]
    if run.kind == Kind.QUALITY:
        steps += [
            (
                "Pool for the period (all practices)",
                money(
                    run.release_cents
                    if params.get("pool_source") != "fixed"
                    else params.get("fixed_pool_cents", 0)
                )
                if totals
                else HIDDEN,
            ),
            ("Quality score (points of 100)", _points(line.score_milli)),
            ("Threshold gate", str(params.get("threshold", "0"))),
            ("Qualifies", "yes" if line.qualifies else "no"),
        ]
        if params.get("basis") == "slice":
            steps += [("Slice of the pool by member-months", money(line.base_cents)),
                      ("Earned: slice x score / 100", money(line.amount_cents)),
                      ("Unearned, kept by the IPA", money(line.kept_cents))]  # fmt: skip
        else:
            steps += [("Weight: score x member-months", f"{line.weight:,}" if line.qualifies else "0"),
                      ("Share of the pool by weight among the qualifying practices", money(line.amount_cents))]  # fmt: skip
    elif run.kind == Kind.WITHHOLD:
        steps += [
            ("Withheld in the period", money(line.withheld_cents)),
            ("Quality score (points of 100)", _points(line.score_milli)),
            ("Tier", line.tier),
            ("Percent returned", f"{line.percent}%"),
            ("Returned: withheld x percent (half-up to the cent)", money(line.amount_cents)),
            ("Kept by the IPA", money(line.kept_cents)),
        ]
    else:
        result = int(((run.inputs or {}).get("totals") or {}).get("result_cents", 0))
        steps += [
            ("Risk pool funded from your capitation", money(line.funded_cents)),
            ("Claims paid for your members' pool services", money(line.cost_cents)),
            ("Pool result, all practices (funded - claims)", money(result) if totals else HIDDEN),
        ]
        if line.amount_cents >= 0:
            steps += [("Practices' share of the surplus", f"{params.get('surplus_share_percent')}%"),
                      (f"Your share (by {params.get('surplus_basis', 'member_months').replace('_', '-')})",
                       money(line.amount_cents))]  # fmt: skip
        else:
            steps += [("Practices' share of the deficit", f"{params.get('deficit_share_percent')}%"),
                      ("Your cap", "none" if line.cap_cents is None else money(line.cap_cents)),
                      ("Cap applied", "yes" if line.cap_applied else "no"),
                      ("Charged to you (a receivable)", money(-line.amount_cents))]  # fmt: skip
    if run.corrects_id:
        steps += [(f"Settled before (run {run.corrects_id})", money(line.previous_amount_cents)),
                  ("Difference in this correction", money(line.difference_cents))]  # fmt: skip
    return steps


def statement(line: SettlementLine) -> Statement:
    run = line.run
    totals = run.lines.filter(member_months__gt=0).count() >= MIN_PRACTICES_FOR_TOTALS
    practice = line.practice
    header = [
        ("Practice", f"{practice.legal_name} ({practice.code}, TIN {practice.tin})"),
        (
            "Settlement",
            f"{run.get_kind_display()} {run.period} (run {run.pk}, {run.get_status_display().lower()})",
        ),
        ("Contract", f"{run.contract.number} {run.contract.name} ({run.payer.name})"),
        ("Period", f"{run.period_start:%Y-%m-%d} to {run.period_end:%Y-%m-%d}"),
        (
            "Formula",
            f"{run.formula.name}, version {run.formula_id} in force from {run.formula.valid_from:%Y-%m-%d}",
        ),
        ("Quality run", str(run.quality_run_id) if run.quality_run_id else "-"),
        ("Amount", format_money(line.difference_cents if run.corrects_id else line.amount_cents)),
        (
            "Payment",
            line.get_pay_status_display() + (f", ACH trace {line.trace_number}" if line.trace_number else ""),
        ),
    ]
    return Statement(
        line,
        header,
        _formula_rows(run.formula_params or {}, hide_pool=not totals),
        _steps(line, totals=totals),
        list(line.measures or []),
    )


MEASURE_COLUMNS = ("measure", "rate", "weight", "numerator", "denominator", "rate_value", "target", "counted", "met",
                   "stars", "earned_milli")  # fmt: skip


def statement_csv(s: Statement) -> str:
    """The statement as CSV: section, item, value rows (header, formula, arithmetic, then the measures)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "item", "value"])
    for section, rows in (("statement", s.header), ("formula", s.formula), ("arithmetic", s.steps)):
        for item, value in rows:
            writer.writerow([section, item, value])
    for m in s.measures:
        writer.writerow(["measure", f"{m.get('measure')} / {m.get('rate')}",
                         "; ".join(f"{k}={m.get(k)}" for k in MEASURE_COLUMNS[2:])])  # fmt: skip
    return out.getvalue()


def statement_pdf(s: Statement) -> bytes:
    """The statement as a PDF (Letter, Helvetica): header, formula, the practice's measures, the arithmetic."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    grid = TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("ROWBACKGROUNDS", (0, 0), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")])])  # fmt: skip

    def table(rows: list[list[str]] | list[tuple[str, str]]) -> Table:
        t = Table([list(r) for r in rows], hAlign="LEFT", colWidths=None)
        t.setStyle(grid)
        return t

    story: list[Any] = [Paragraph("Incentive settlement statement", styles["Title"]), table(s.header),
                        Spacer(1, 0.15 * inch), Paragraph("Formula", styles["Heading3"]), table(s.formula)]  # fmt: skip
    if s.measures:
        story.append(Paragraph("Your quality measures", styles["Heading3"]))
        rows = [["Measure", "Weight", "Numerator", "Denominator", "Rate", "Target", "Counted", "Met", "Stars",
                 "Points"]]  # fmt: skip
        for m in s.measures:
            rows.append([f"{m['measure']} / {m['rate']}", str(m["weight"]), str(m["numerator"]), str(m["denominator"]),
                         m["rate_value"] or "-", m["target"], "yes" if m["counted"] else "no",
                         "yes" if m["met"] else "no", str(m["stars"] or "-"),
                         f"{Decimal(m['earned_milli']) / 1000:.3f}"])  # fmt: skip
        story.append(table(rows))
    story += [Paragraph("The arithmetic", styles["Heading3"]), table(s.steps)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=letter, title=f"Incentive statement {s.line.run_id}",
                            author="OpenIPA", leftMargin=0.6 * inch, rightMargin=0.6 * inch)  # fmt: skip
    doc.build(story)
    return buffer.getvalue()
