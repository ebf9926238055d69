"""Membership-fee documents: a practice's statement of account (PDF and CSV) and one invoice (PDF).

Who may read them is the selectors' business; these functions only lay out what they are given. ReportLab,
Letter portrait, the standard Helvetica fonts only.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openipa.association import engine
from openipa.association.models import Invoice
from openipa.core.money import decimal_text, format_money
from openipa.network.models import Practice

REVENUE_DEFINITION = (
    "Revenue through the IPA for a month = capitation paid to the practice (PCP net, specialist and quality "
    "shares of the month's approved or paid distribution runs) + claims paid to the practice (claims payment "
    "runs approved or paid, by payment date in the month) + incentives and shared savings credited to it "
    "(ledger account 2650, dated in the month). A negative total counts as zero."
)
STATEMENT_COLUMNS = ("date", "kind", "reference", "amount", "balance")


def statement_csv(practice: Practice, st: engine.Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    writer.writerow(
        [st.start.isoformat(), "Opening balance", practice.code, "", decimal_text(st.opening_cents)]
    )
    for row in st.rows:
        t = row.txn
        writer.writerow([t.on.isoformat(), t.kind, t.reference, decimal_text(t.amount_cents),
                         decimal_text(row.balance_cents)])  # fmt: skip
    writer.writerow(
        [st.end.isoformat(), "Closing balance", practice.code, "", decimal_text(st.closing_cents)]
    )
    return out.getvalue()


def _styles() -> tuple[Any, Any]:
    from reportlab.lib import colors
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import TableStyle

    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
    ])  # fmt: skip
    return getSampleStyleSheet(), grid


def _practice_rows(practice: Practice) -> list[list[str]]:
    return [
        ["Practice", f"{practice.legal_name} ({practice.code})"],
        ["Address", f"{practice.address_line1}, {practice.city}, {practice.state} {practice.zip_code}"],
    ]


def statement_pdf(practice: Practice, st: engine.Statement) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.units import inch
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table

    styles, grid = _styles()
    rows = [["Date", "Transaction", "Reference", "Amount", "Balance"],
            [st.start.isoformat(), "Opening balance", "", "", format_money(st.opening_cents)]]  # fmt: skip
    for row in st.rows:
        t = row.txn
        rows.append([t.on.isoformat(), t.kind, t.reference, format_money(t.amount_cents),
                     format_money(row.balance_cents)])  # fmt: skip
    rows.append([st.end.isoformat(), "Closing balance", "", "", format_money(st.closing_cents)])
    table = LongTable(rows, repeatRows=1, hAlign="LEFT", colWidths=[0.9 * inch, 1.1 * inch, 2.6 * inch, 1.1 * inch,
                                                                     1.1 * inch])  # fmt: skip
    table.setStyle(grid)
    closing = st.closing_cents
    owed = (f"Amount due: {format_money(closing)}" if closing > 0 else
            f"In credit: {format_money(-closing)}" if closing < 0 else "Nothing is due.")  # fmt: skip
    story = [
        Paragraph("Statement of account: membership fees", styles["Title"]),
        Table(
            [*_practice_rows(practice), ["Period", f"{st.start.isoformat()} to {st.end.isoformat()}"]],
            hAlign="LEFT",
        ),
        Spacer(1, 0.15 * inch),
        table,
        Spacer(1, 0.15 * inch),
        Paragraph(owed, styles["Heading3"]),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=letter, title=f"Statement {practice.code}").build(story)
    return buffer.getvalue()


def invoice_pdf(invoice: Invoice) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles, grid = _styles()
    title = "Credit note" if invoice.is_credit_note else "Invoice: membership fee"
    facts = [
        *_practice_rows(invoice.practice),
        ["Number", invoice.number],
        ["Month", f"{invoice.month:%Y-%m}"],
        ["Invoice date", invoice.issue_date.isoformat() if invoice.issue_date else "draft"],
        ["Due", invoice.due_date.isoformat() if invoice.due_date else ""],
    ]
    if invoice.credits is not None:
        facts.append(["Credits", invoice.credits.number])
    rows = [["Line", "Base", "Amount", "Arithmetic"]]
    cell = styles["BodyText"]
    for line in invoice.lines.all():
        rows.append([Paragraph(line.description, cell), "" if line.base_cents is None else format_money(line.base_cents),
                     format_money(line.amount_cents), Paragraph(line.arithmetic, cell)])  # fmt: skip
    rows.append(["Total", "", format_money(invoice.total_cents), ""])
    table = Table(rows, hAlign="LEFT", colWidths=[2.4 * inch, 1.1 * inch, 1.0 * inch, 2.4 * inch])
    table.setStyle(grid)
    story = [Paragraph(title, styles["Title"]), Table(facts, hAlign="LEFT"), Spacer(1, 0.15 * inch), table]
    if any(line.kind == "base" for line in invoice.lines.all()):
        story += [Spacer(1, 0.15 * inch), Paragraph(REVENUE_DEFINITION, styles["BodyText"])]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=letter, title=invoice.number).build(story)
    return buffer.getvalue()
