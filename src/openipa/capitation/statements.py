"""A practice's capitation statement for one run: the page's data, the PDF (ReportLab) and the CSV.

The statement explains one PracticePayment. Its summary is built from the payment's own amounts, so the net
it prints is the net paid: PCP capitation less the withhold, plus the quality incentive and the specialist
sub-capitation, plus what earlier adjustment runs carried into this payment. The detail beside it explains
where those amounts came from: the run's member-month lines by rate cell, retro adds and terms by month
(an adjustment run's own lines, or the lines of the adjustment runs netted here), and each member-month.

A run line carries the rate cell that priced it (`DistributionLine.rate_cell_id`), and the summary groups by
it. A line without one (a run prepared before lines carried it) gets its cell the way the expected-capitation
engine finds it: the member's age on the 1st of the term's age reference month of the service month's year,
and sex, within the line's term and product (a sex-specific cell beats an "any sex" one). A line no cell
prices is grouped by its product.

Who may read a statement is the selectors' business (`statement_payment`); reading member-months here is
recorded in the audit log with the caller's purpose.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Count, QuerySet, Sum

from openipa.capitation import selectors
from openipa.capitation.models import DistributionLine, DistributionRun, PracticePayment
from openipa.contracts.models import ContractTerm, Payer, Product, RateCell
from openipa.core import audit
from openipa.core.frames import query_frame
from openipa.core.money import decimal_text, format_money, to_cents
from openipa.core.months import Month, age_on
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor
from openipa.network.models import Practice

CSV_COLUMNS = ("member_id", "name", "month", "pcp_npi", "product", "pcp_gross", "withhold", "pcp_net",
               "quality_share", "reason")  # fmt: skip
LINE_FIELDS = ("pcp_gross_cents", "withhold_cents", "pcp_net_cents", "quality_share_cents")
SEX_WORDS = {"F": " female", "M": " male", "U": ""}
PDF_DETAIL_LIMIT = 5_000
"""Member-months a PDF lists one by one (about 100 pages); a larger panel's detail is in the CSV only."""


@dataclass(frozen=True)
class CellRow:
    """Member-months of one rate cell (or of a product, for lines no cell prices) and their amounts."""

    label: str
    member_months: int
    pcp_gross_cents: int
    withhold_cents: int
    pcp_net_cents: int
    quality_cents: int


@dataclass(frozen=True)
class RetroRow:
    """Retro adds, terms and other differences of one adjustment run, month and reason."""

    run_id: int
    month: dt.date
    reason: str
    member_months: int
    pcp_gross_cents: int
    withhold_cents: int
    pcp_net_cents: int
    quality_cents: int


@dataclass(frozen=True)
class CarriedRow:
    """An earlier payment (an adjustment run's, or a negative net) netted into this one."""

    payment_id: int
    run_id: int
    month: dt.date
    kind: str
    net_cents: int


@dataclass(frozen=True)
class SummaryLine:
    label: str
    cents: int


@dataclass(frozen=True)
class MemberLine:
    """One member-month of the run for this practice, as the CSV and the member detail show it."""

    member_pk: int
    member_id: str
    name: str
    month: dt.date
    pcp_npi: str
    product: str
    pcp_gross_cents: int
    withhold_cents: int
    pcp_net_cents: int
    quality_share_cents: int
    reason: str


@dataclass(frozen=True)
class Statement:
    payment: PracticePayment
    run: DistributionRun
    practice: Practice
    payer: Payer
    products: tuple[str, ...]
    month: Month
    payment_date: dt.date | None
    trace_number: str
    rate_cells: tuple[CellRow, ...]
    retro: tuple[RetroRow, ...]
    carried: tuple[CarriedRow, ...]

    @property
    def summary(self) -> list[SummaryLine]:
        """The payment, line by line down to the net."""
        p = self.payment
        return [
            SummaryLine("PCP capitation (gross)", p.pcp_gross_cents),
            SummaryLine("Withhold", -p.withhold_cents),
            SummaryLine("Quality incentive", p.quality_cents),
            SummaryLine("Specialist sub-capitation", p.specialist_cents),
            SummaryLine("Adjustments carried in", p.adjustment_cents),
        ]

    @property
    def net_cents(self) -> int:
        return sum(line.cents for line in self.summary)

    @property
    def ties(self) -> bool:
        """The statement's net is the payment's net (it always should be; the page says so if not)."""
        return self.net_cents == self.payment.net_cents

    @property
    def cells_total(self) -> CellRow:
        return _total("Total", self.rate_cells)

    @property
    def carried_cents(self) -> int:
        return sum(c.net_cents for c in self.carried)

    @property
    def file_stem(self) -> str:
        stem = f"statement-{self.practice.code}-{self.payer.code}-{self.month}-run{self.run.pk}"
        return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)


def _total(label: str, rows: Iterable[CellRow | RetroRow]) -> CellRow:
    items = list(rows)
    return CellRow(
        label,
        sum(r.member_months for r in items),
        sum(r.pcp_gross_cents for r in items),
        sum(r.withhold_cents for r in items),
        sum(r.pcp_net_cents for r in items),
        sum(r.quality_cents for r in items),
    )


# -- building ----------------------------------------------------------------------------------------------


def _lines(run_ids: Iterable[int], practice_id: int) -> QuerySet[DistributionLine]:
    return DistributionLine.objects.filter(run_id__in=list(run_ids), practice_id=practice_id)


class _CellFinder:
    """The rate cell of a run line, as the expected-capitation engine would have priced it."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        term_ids = {r["term_id"] for r in lines if r["term_id"]}
        cell_ids = {r["rate_cell_id"] for r in lines if r["rate_cell_id"]}
        self.reference = dict(
            ContractTerm.objects.filter(pk__in=term_ids).values_list("pk", "age_reference_month")
        )
        cells = RateCell.objects.filter(term_id__in=term_ids) | RateCell.objects.filter(pk__in=cell_ids)
        self.cells = {c.pk: c for c in cells.select_related("product")}
        self.by_term: dict[tuple[int, int], list[RateCell]] = defaultdict(list)
        for cell in self.cells.values():
            self.by_term[(cell.term_id, cell.product_id)].append(cell)
        product_ids = {r["product_id"] for r in lines if r["product_id"]}
        self.products = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "code"))

    def cell(self, line: dict[str, Any]) -> RateCell | None:
        if line["rate_cell_id"] in self.cells:
            return self.cells[line["rate_cell_id"]]
        birth: dt.date | None = line["member__date_of_birth"]
        if birth is None or line["term_id"] is None:
            return None
        on = dt.date(line["month"].year, self.reference.get(line["term_id"]) or 1, 1)
        age = age_on(birth, on) if on >= birth else 0
        sex = line["member__sex"]
        fits = [
            c for c in self.by_term.get((line["term_id"], line["product_id"]), [])
            if c.age_min <= age <= c.age_max and c.sex in (sex, RateCell.Sex.ANY)
        ]  # fmt: skip
        fits.sort(key=lambda c: (c.sex == RateCell.Sex.ANY, c.age_min))
        return fits[0] if fits else None

    def label(self, line: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
        """A sort key and the label of the line's group."""
        product = self.products.get(line["product_id"], "no product")
        cell = self.cell(line)
        if cell is None:
            return (product, 1, 0, ""), f"{product} · no rate cell"
        band = f"ages {cell.age_min}-{cell.age_max}{SEX_WORDS.get(cell.sex, '')}"
        return (
            product,
            0,
            cell.age_min,
            cell.sex,
        ), f"{product} · {band} · {format_money(to_cents(cell.pmpm))} PMPM"


def _rate_cells(run: DistributionRun, practice_id: int) -> tuple[CellRow, ...]:
    if run.kind != DistributionRun.Kind.REGULAR:
        return ()
    lines = _lines([run.pk], practice_id)
    # lines that carry their rate cell are summed by the database; the others are priced one by one
    carried = list(
        lines.filter(rate_cell_id__isnull=False)
        .values("product_id", "term_id", "rate_cell_id")
        .annotate(count=Count("id"), **{f"sum_{f}": Sum(f) for f in LINE_FIELDS})
        .order_by()
    )
    bare = list(
        lines.filter(rate_cell_id__isnull=True).values(
            "month",
            "product_id",
            "term_id",
            "rate_cell_id",
            "member__date_of_birth",
            "member__sex",
            *LINE_FIELDS,
        )
    )
    finder = _CellFinder([*carried, *bare])
    groups: dict[tuple[tuple[Any, ...], str], list[int]] = {}
    for row in carried:
        sums = groups.setdefault(finder.label(row), [0, 0, 0, 0, 0])
        sums[0] += int(row["count"])
        for i, name in enumerate(LINE_FIELDS, start=1):
            sums[i] += int(row[f"sum_{name}"] or 0)
    for line in bare:
        sums = groups.setdefault(finder.label(line), [0, 0, 0, 0, 0])
        sums[0] += 1
        for i, name in enumerate(LINE_FIELDS, start=1):
            sums[i] += int(line[name])
    return tuple(CellRow(label, *sums) for (_key, label), sums in sorted(groups.items()))


def _retro(run_ids: list[int], practice_id: int) -> tuple[RetroRow, ...]:
    if not run_ids:
        return ()
    sums: dict[tuple[int, dt.date, str], list[int]] = {}
    for line in _lines(run_ids, practice_id).values("run_id", "month", "reason", *LINE_FIELDS):
        s = sums.setdefault((line["run_id"], line["month"], line["reason"] or "-"), [0, 0, 0, 0, 0])
        s[0] += 1
        for i, name in enumerate(LINE_FIELDS, start=1):
            s[i] += int(line[name])
    return tuple(RetroRow(run_id, month, reason, *s) for (run_id, month, reason), s in sorted(sums.items()))


def _carried(run: DistributionRun, practice_id: int) -> tuple[CarriedRow, ...]:
    ids = [int(i) for i in (run.inputs or {}).get("netted_payments", [])]
    if not ids:
        return ()
    payments = PracticePayment.objects.filter(pk__in=ids, practice_id=practice_id).select_related("run")
    return tuple(
        CarriedRow(p.pk, p.run_id, p.run.month, p.run.get_kind_display(), p.net_cents)
        for p in payments.order_by("run__month", "run_id")
    )


def statement_for(actor: Actor, payment_id: int) -> Statement:
    """The statement of one payment the actor may read (amounts and groups, no member named)."""
    payment = selectors.statement_payment(actor, payment_id)
    run = payment.run
    carried = _carried(run, payment.practice_id)
    if run.kind == DistributionRun.Kind.ADJUSTMENT:
        retro_runs = [run.pk]
    else:
        kinds = dict(
            DistributionRun.objects.filter(pk__in={c.run_id for c in carried}).values_list("pk", "kind")
        )
        retro_runs = sorted(r for r, kind in kinds.items() if kind == DistributionRun.Kind.ADJUSTMENT)
    product_ids = _lines([run.pk], payment.practice_id).values("product_id").distinct()
    products = tuple(
        f"{code} ({name})"
        for code, name in Product.objects.filter(pk__in=product_ids)
        .order_by("code")
        .values_list("code", "name")
    )
    return Statement(
        payment=payment,
        run=run,
        practice=payment.practice,
        payer=run.payer,
        products=products,
        month=Month.of(run.month),
        payment_date=run.payment_date,
        trace_number=payment.trace_number,
        rate_cells=_rate_cells(run, payment.practice_id),
        retro=_retro(retro_runs, payment.practice_id),
        carried=carried,
    )


def _member_lines_query(statement: Statement) -> QuerySet[DistributionLine]:
    return (
        _lines([statement.run.pk], statement.practice.pk)
        .select_related("member", "provider")
        .order_by("member__last_name", "member__first_name", "member__payer_member_id", "month", "pk")
    )


def _member_line(line: DistributionLine, products: dict[int, str]) -> MemberLine:
    m = line.member
    return MemberLine(
        member_pk=m.pk,
        member_id=m.payer_member_id,
        name=f"{m.last_name}, {m.first_name}",
        month=line.month,
        pcp_npi=line.provider.npi if line.provider else "",
        product=products.get(line.product_id or 0, ""),
        pcp_gross_cents=line.pcp_gross_cents,
        withhold_cents=line.withhold_cents,
        pcp_net_cents=line.pcp_net_cents,
        quality_share_cents=line.quality_share_cents,
        reason=line.reason,
    )


STATEMENT_SET = "capitation.statement"
"""The audit log's member set of a statement of an approved run: ``capitation.statement:<payment id>``."""
FROZEN = (DistributionRun.Status.APPROVED, DistributionRun.Status.PAID)
"""Runs whose lines can no longer change."""


def statements_holding(member_id: int) -> list[str]:
    """The payments (statements) of approved runs whose member-months include ``member_id`` (core.audit asks,
    to find the statement exports that read the member)."""
    pairs = set(
        DistributionLine.objects.filter(member_id=member_id, run__status__in=FROZEN)
        .values_list("run_id", "practice_id")
        .distinct()
    )
    if not pairs:
        return []
    runs = {run for run, _practice in pairs}
    payments = PracticePayment.objects.filter(run_id__in=runs).values_list("pk", "run_id", "practice_id")
    return [str(pk) for pk, run, practice in payments if (run, practice) in pairs]


def _read(actor: Actor, statement: Statement, member_ids: list[int], purpose: str, action: str) -> None:
    whole = action == "export" and statement.run.status in FROZEN
    audit.record_read(
        actor,
        object_type="capitation.practicepayment",
        object_id=str(statement.payment.pk),
        action=action,
        member_ids=member_ids,
        purpose=purpose,
        member_set=f"{STATEMENT_SET}:{statement.payment.pk}" if whole else "",
    )


def _products(items: Iterable[DistributionLine]) -> dict[int, str]:
    ids = {line.product_id for line in items if line.product_id}
    return dict(Product.objects.filter(pk__in=ids).values_list("pk", "code"))


def member_lines(
    actor: Actor,
    statement: Statement,
    *,
    purpose: str,
    page: int | str | None = 1,
    per_page: int | str | None = 50,
) -> Page[MemberLine]:
    """A page of the statement's member-months; the members on it are recorded as read."""
    selectors.statement_payment(actor, statement.payment.pk)
    result = paginate(_member_lines_query(statement), page, per_page)
    products = _products(result.items)
    rows = [_member_line(line, products) for line in result.items]
    _read(actor, statement, [line.member_pk for line in rows], purpose, "view")
    return Page(rows, result.number, result.per_page, result.total)


DETAIL_SCHEMA = {"member_pk": pl.Int64, "member_id": pl.String, "name": pl.String, "month": pl.Date,
                 "pcp_npi": pl.String, "product": pl.String, "pcp_gross_cents": pl.Int64, "withhold_cents": pl.Int64,
                 "pcp_net_cents": pl.Int64, "quality_share_cents": pl.Int64, "reason": pl.String}  # fmt: skip
"""The member detail's columns, in the order of :class:`MemberLine`'s fields."""


class MemberDetail:
    """Every member-month of a statement, as a frame (a large practice has a few hundred thousand in a month);
    iterating gives :class:`MemberLine` rows."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame.select(list(DETAIL_SCHEMA))

    def __len__(self) -> int:
        return self.frame.height

    def __iter__(self) -> Iterator[MemberLine]:
        for row in self.frame.iter_rows():
            yield MemberLine(*row)


def all_member_lines(actor: Actor, statement: Statement, *, purpose: str) -> MemberDetail:
    """Every member-month of the statement (for its PDF and CSV), ordered by member name, member id and month;
    every member is recorded as read. Read straight into a frame (`core.frames`)."""
    selectors.statement_payment(actor, statement.payment.pk)
    raw = query_frame(
        _lines([statement.run.pk], statement.practice.pk),
        {"member_pk": ("member_id", pl.Int64), "member_id": ("member__payer_member_id", pl.String),
         "last": ("member__last_name", pl.String), "first": ("member__first_name", pl.String),
         "month": ("month", pl.Date), "pcp_npi": ("provider__npi", pl.String), "product_id": ("product_id", pl.Int64),
         "pk": ("pk", pl.Int64), **{name: (name, pl.Int64) for name in LINE_FIELDS}, "reason": ("reason", pl.String)},
    )  # fmt: skip
    ids = raw["product_id"].drop_nulls().unique().to_list()
    products = dict(Product.objects.filter(pk__in=ids).values_list("pk", "code"))
    frame = raw.sort(["last", "first", "member_id", "month", "pk"]).with_columns(
        pl.concat_str([pl.col("last"), pl.lit(", "), pl.col("first")]).alias("name"),
        pl.col("pcp_npi").fill_null(""),
        pl.col("product_id")
        .replace_strict(products, default="", return_dtype=pl.String)
        .fill_null("")
        .alias("product"),
    )
    _read(actor, statement, frame["member_pk"].to_list(), purpose, "export")
    return MemberDetail(frame)


# -- CSV ---------------------------------------------------------------------------------------------------


def _dollars(cents: int) -> str:
    return decimal_text(cents)


def csv_rows(lines: Iterable[MemberLine]) -> Iterator[tuple[str, ...]]:
    """One row per member-month (CSV_COLUMNS), amounts in dollars with two places."""
    for line in lines:
        yield (
            line.member_id, line.name, line.month.strftime("%Y-%m"), line.pcp_npi, line.product,
            _dollars(line.pcp_gross_cents), _dollars(line.withhold_cents), _dollars(line.pcp_net_cents),
            _dollars(line.quality_share_cents), line.reason,
        )  # fmt: skip


def _amount_text(column: str) -> pl.Expr:
    """Cents as "1234.56" / "-0.05", vectorized (the text of ``decimal_text``)."""
    cents = pl.col(column)
    whole = (cents.abs() // 100).cast(pl.String)
    rest = (cents.abs() % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole, pl.lit("."), rest]).alias(column)


def statement_csv(lines: MemberDetail | Iterable[MemberLine]) -> str:
    """The member detail as CSV (CSV_COLUMNS, the rows of ``csv_rows``), written by Polars: a large practice's
    statement has a few hundred thousand member-months."""
    frame = (lines.frame if isinstance(lines, MemberDetail) else _detail_frame(list(lines))).rename(
        {"pcp_gross_cents": "pcp_gross", "withhold_cents": "withhold", "pcp_net_cents": "pcp_net",
         "quality_share_cents": "quality_share"}
    ).with_columns(
        pl.col("month").dt.strftime("%Y-%m"), *(_amount_text(c) for c in ("pcp_gross", "withhold", "pcp_net",
                                                                           "quality_share"))
    )  # fmt: skip
    # an empty text is written as nothing, as the csv module does (Polars would quote it)
    texts = [c for c, kind in frame.schema.items() if kind == pl.String]
    frame = frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in texts)
    return frame.select(CSV_COLUMNS).write_csv(line_terminator="\r\n")


def _detail_frame(items: list[MemberLine]) -> pl.DataFrame:
    columns = list(DETAIL_SCHEMA)
    return pl.DataFrame([tuple(getattr(x, c) for c in columns) for x in items], schema=DETAIL_SCHEMA,
                        orient="row")  # fmt: skip


# -- PDF ---------------------------------------------------------------------------------------------------


def _header_rows(s: Statement) -> list[list[str]]:
    return [
        ["Payee", s.practice.legal_name],
        ["TIN", s.practice.tin],
        ["Payer", f"{s.payer.name} ({s.payer.code})"],
        ["Product(s)", ", ".join(s.products) or "-"],
        ["Service month", str(s.month)],
        ["Payment date", s.payment_date.isoformat() if s.payment_date else "not paid yet"],
        ["Trace number", s.trace_number or "-"],
        ["Run", f"{s.run.pk} ({s.run.get_kind_display().lower()}, {s.run.get_status_display().lower()})"],
    ]


def statement_pdf(statement: Statement, lines: MemberDetail | list[MemberLine]) -> bytes:
    """The statement as a PDF: header, summary by rate cell, retro lines, carried adjustments, the payment
    down to its net, then every member-month. Letter, landscape; the standard Helvetica fonts only."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    s = statement
    styles = getSampleStyleSheet()
    money = format_money
    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
    ])  # fmt: skip

    def table(rows: list[list[str]], *, left: int = 1, total: bool = False, long: bool = False) -> Table:
        t = (LongTable if long else Table)(rows, repeatRows=1, hAlign="LEFT")
        t.setStyle(grid)
        t.setStyle(TableStyle([("ALIGN", (0, 0), (left - 1, -1), "LEFT")]))
        if total:
            t.setStyle(TableStyle([("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8),
                                   ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.grey)]))  # fmt: skip
        return t

    story: list[Any] = [
        Paragraph("Capitation statement", styles["Title"]),
        Table(
            _header_rows(s),
            hAlign="LEFT",
            style=[("FONT", (0, 0), (0, -1), "Helvetica-Bold", 9), ("FONT", (1, 0), (1, -1), "Helvetica", 9)],
        ),
        Spacer(1, 0.15 * inch),
    ]
    if s.rate_cells:
        story.append(Paragraph("Summary by rate cell", styles["Heading3"]))
        rows = [["Rate cell", "Member-months", "PCP gross", "Withhold", "PCP net", "Quality share"]]
        for c in (*s.rate_cells, s.cells_total):
            rows.append([c.label, f"{c.member_months:,}", money(c.pcp_gross_cents), money(c.withhold_cents),
                         money(c.pcp_net_cents), money(c.quality_cents)])  # fmt: skip
        story.append(table(rows, total=True))
    if s.retro:
        story.append(Paragraph("Retro adds and terms by month", styles["Heading3"]))
        rows = [
            ["Month", "Reason", "Run", "Member-months", "PCP gross", "Withhold", "PCP net", "Quality share"]
        ]
        for r in s.retro:
            rows.append([r.month.strftime("%Y-%m"), r.reason, str(r.run_id), f"{r.member_months:,}",
                         money(r.pcp_gross_cents), money(r.withhold_cents), money(r.pcp_net_cents),
                         money(r.quality_cents)])  # fmt: skip
        story.append(table(rows, left=3))
    if s.carried:
        story.append(Paragraph("Adjustments carried in", styles["Heading3"]))
        rows = [["Run", "Month", "Kind", "Amount"]]
        rows += [[str(c.run_id), c.month.strftime("%Y-%m"), c.kind, money(c.net_cents)] for c in s.carried]
        rows.append(["Total", "", "", money(s.carried_cents)])
        story.append(table(rows, left=3, total=True))
    story.append(Paragraph("Payment", styles["Heading3"]))
    rows = [["", "Amount"]] + [[line.label, money(line.cents)] for line in s.summary]
    rows.append(["Net payment", money(s.net_cents)])
    story.append(table(rows, total=True))
    story.append(Paragraph(f"Member detail ({len(lines):,} member-months)", styles["Heading3"]))
    if len(lines) > PDF_DETAIL_LIMIT:
        story.append(Paragraph(
            f"More than {PDF_DETAIL_LIMIT:,} member-months: the member detail is in the statement's CSV, one row "
            "per member-month, with the same columns.", styles["Normal"]))  # fmt: skip
        lines = []
    rows = [["Member id", "Name", "Month", "PCP NPI", "Product", "PCP gross", "Withhold", "PCP net",
             "Quality share", "Reason"]]  # fmt: skip
    for line in lines:
        rows.append([line.member_id, line.name, line.month.strftime("%Y-%m"), line.pcp_npi, line.product,
                     money(line.pcp_gross_cents), money(line.withhold_cents), money(line.pcp_net_cents),
                     money(line.quality_share_cents), line.reason])  # fmt: skip
    detail = table(rows, left=5, long=True)
    detail.setStyle(TableStyle([("ALIGN", (9, 0), (9, -1), "LEFT")]))
    story.append(detail)

    footer = f"{s.practice.legal_name} · {s.payer.code} {s.month} · run {s.run.pk} · statement {s.payment.pk}"

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(doc.leftMargin, 0.4 * inch, footer)
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 0.4 * inch, f"page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(letter), leftMargin=0.5 * inch, rightMargin=0.5 * inch, topMargin=0.5 * inch,
        bottomMargin=0.6 * inch, title=f"Capitation statement {s.practice.code} {s.payer.code} {s.month}",
        author="OpenIPA", invariant=1,
    )  # fmt: skip
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
