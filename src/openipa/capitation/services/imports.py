"""Import a capitation remittance: X12 820, X12 835 (capitation in PLB) or a payer's CSV.

The same discipline as rosters: the file is kept as received; the whole file is read and checked before
anything is written; then one transaction writes the import record, its member-month lines and the cash
receipt in the ledger (debit cash, credit capitation received and undistributed). A file with any error is
rejected, with its errors (segment or line, element, message) and, for X12, its 999; the database is left as
it was. The same file again (by content hash) is a duplicate and changes nothing.

Money for a coverage period longer than a month is split across its months by days covered, with the one
allocation helper, so the month lines add up to the amount the payer sent.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.capitation.models import CapitationProfile, ReceivedLine, RemittanceImport
from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.bulk import check_references, insert_frame
from openipa.core.errors import ValidationFailed
from openipa.core.intake import MAX_LISTED, Issues, printable, relative_to_var, store_file
from openipa.core.money import allocate, format_money
from openipa.core.roles import Actor, Perm, require
from openipa.edi.csvremit import CsvRemitProfile, read_csv_remit
from openipa.edi.t820 import MemberRemittance, Remittance820, read_820
from openipa.edi.t835 import balance_problem, read_835_payments
from openipa.edi.x12.ack import acknowledge_file
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.errors import X12Error
from openipa.ledger import accounts
from openipa.ledger.services import Posting, post_entry
from openipa.membership import selectors as membership_selectors

PLB_KINDS = {
    "CT": ReceivedLine.Kind.CAPITATION,
    "CR": ReceivedLine.Kind.INTEREST,
    "RA": ReceivedLine.Kind.RETRO,
}
"""835 PLB reason codes that carry capitation; any other PLB adjustment is a payer adjustment."""
LINE_SCHEMA = {"member_id": pl.Int64, "payer_member_id": pl.String, "month": pl.Date, "kind": pl.String,
               "amount_cents": pl.Int64, "reason_code": pl.String, "reference": pl.String, "segment": pl.Int64}  # fmt: skip
"""A remittance's member-month lines as read, before they are written (with the import and payer ids)."""

Format = CapitationProfile.Format


def profile_for(payer: Payer) -> CapitationProfile:
    """The payer's capitation profile; the defaults (unsaved) when none was set, so reading writes nothing."""
    profile = CapitationProfile.objects.filter(payer=payer).first()
    return profile if profile is not None else CapitationProfile(payer=payer)


def sniff_format(path: Path, default: str) -> str:
    """x12-820 or x12-835 from the first transaction set of an X12 file; ``default`` otherwise."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    text = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if not text.startswith(b"ISA") or len(text) < 106:
        return default if default == Format.CSV else Format.CSV
    element, terminator = chr(text[3]), chr(text[105])
    for segment in text.decode("latin-1").split(terminator):
        parts = segment.strip().split(element)
        if parts[0] == "ST" and len(parts) > 1:
            return Format.X12_835 if parts[1] == "835" else Format.X12_820
    return Format.X12_820


@dataclass
class _Checked(Issues):
    """What the read found: lines to write, totals, problems; nothing is written until all of it is known."""

    lines: list[tuple[Any, ...]] = field(default_factory=list)
    payment_cents: int = 0
    detail_cents: int = 0
    adjustment_cents: int = 0
    trace_number: str = ""
    payment_date: dt.date | None = None
    members: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    controls: dict[str, int] = field(default_factory=dict)
    envelope: EnvelopeReader | None = None


def _months(start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """The months of [start, end] with the days of each the period covers."""
    out: list[tuple[dt.date, int]] = []
    day = start
    while day <= end:
        first = day.replace(day=1)
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(end, following - dt.timedelta(days=1))
        out.append((first, (last - day).days + 1))
        day = following
    return out


_FIRSTS: dict[dt.date, dt.date] = {}


def _first_of_month(day: dt.date) -> dt.date:
    """The first of ``day``'s month (remembered: a month's remittance repeats a few dates on every line)."""
    first = _FIRSTS.get(day)
    if first is None:
        if len(_FIRSTS) > 10_000:
            _FIRSTS.clear()
        first = _FIRSTS[day] = day.replace(day=1)
    return first


def split_by_month(cents: int, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """``cents`` paid for [start, end] as (month, cents) per month, by days covered; parts sum to ``cents``."""
    if start.month == end.month and start.year == end.year:
        return [(start.replace(day=1), cents)]
    months = _months(start, end)
    parts = allocate(cents, [days for _m, days in months])
    return [(month, part) for (month, _d), part in zip(months, parts, strict=True)]


class _Reader:
    """Reads one file into a _Checked, member ids resolved against the payer's members on file."""

    def __init__(self, payer: Payer, path: Path, name: str, fmt: str, profile: CapitationProfile) -> None:
        self.payer = payer
        self.path = path
        self.name = name
        self.fmt = fmt
        self.profile = profile
        self.members = membership_selectors.member_ids_by_payer_id(payer.pk)
        self.out = _Checked()

    def _line(self, key: str, month: dt.date, kind: str, cents: int, reason: str, reference: str,
              segment: int) -> None:  # fmt: skip
        out = self.out
        member = self.members.get(key) if key else None
        if key:
            out.members.add(key)
            if member is None:
                out.unknown.add(key)
        out.lines.append((member, key[:40], month, kind, cents, reason[:10], reference[:50], segment))

    def read(self) -> _Checked:
        try:
            if self.fmt == Format.X12_820:
                self._read_820()
            elif self.fmt == Format.X12_835:
                self._read_835()
            else:
                self._read_csv()
        except X12Error as exc:
            self.out.error_at(exc.segment_number or 0, exc.segment_id or "", exc.element, exc.message)
        for key in sorted(self.out.unknown)[:MAX_LISTED]:
            self.out.warn_at(
                0, "NM1", 9, f"member {key} is not on file for {self.payer.code}: paid but not eligible"
            )
        self.out.warning_count += max(0, len(self.out.unknown) - MAX_LISTED)
        return self.out

    # -- 820 ---------------------------------------------------------------------------------------------

    def _read_820(self) -> None:
        out = self.out
        out.envelope = EnvelopeReader(self.path, filename=self.name)
        header: Remittance820 | None = None
        members_total = 0
        for item in read_820(self.path, filename=self.name, envelope=out.envelope):
            if isinstance(item, Remittance820):
                self._close_820(header, members_total)
                header, members_total = item, 0
                out.controls[item.control_number] = item.segment_number
                out.payment_cents += item.total_cents if item.credit_debit != "D" else -item.total_cents
                out.trace_number = out.trace_number or item.trace_number
                out.payment_date = out.payment_date or item.payment_date
                continue
            assert header is not None
            members_total += self._member_820(header, item)
        self._close_820(header, members_total)
        if not out.controls and not out.error_count:
            out.error_at(0, "", None, f"{self.name} holds no 820 transaction set")

    def _close_820(self, header: Remittance820 | None, members_total: int) -> None:
        if header is None or header.total_cents == members_total:
            return
        self.out.error_at(
            header.segment_number + 1, "BPR", 2,
            f"BPR02 payment amount {format_money(header.total_cents)} is not the sum of the member detail "
            f"(RMR04 and ADX01): {format_money(members_total)}",
        )  # fmt: skip

    def _member_820(self, header: Remittance820, member: MemberRemittance) -> int:
        """Adds the member's month lines; returns what the member's loops add to the payment."""
        key = member.member_id or member.subscriber_id
        lines = member.lines
        if key and len(lines) == 1 and not member.adjustments:
            # most members: one line for one month, no adjustment
            line = lines[0]
            start = line.coverage_start or header.period_start
            end = line.coverage_end or (
                header.period_end if line.coverage_start is None else line.coverage_start
            )
            if start is not None and end is not None and start <= end:
                first = _first_of_month(start)
                if _first_of_month(end) == first:
                    period_start = header.period_start
                    retro = period_start is not None and first < _first_of_month(period_start)
                    kind = ReceivedLine.Kind.RETRO if retro else ReceivedLine.Kind.CAPITATION
                    self._line(key, first, kind, line.paid_cents, "", line.reference, line.segment_number)
                    self.out.detail_cents += line.paid_cents
                    return line.paid_cents
        paid = sum(line.paid_cents for line in lines) + sum(a.amount_cents for a in member.adjustments)
        if not key:
            self.out.error_at(member.segment_number, "NM1", 9, "member has no id (NM109 or REF*0F)")
            return paid
        out = self.out
        line_months: list[dt.date] = []
        period_start = header.period_start
        for line in member.lines:
            start = line.coverage_start or period_start
            end = line.coverage_end or (
                header.period_end if line.coverage_start is None else line.coverage_start
            )
            if start is None or end is None:
                out.error_at(line.segment_number, "RMR", 4,
                          "no coverage period for the line (DTM*582 after the RMR, or in the header)")  # fmt: skip
                line_months.append(dt.date.min)
                continue
            if end < start:
                out.error_at(
                    line.segment_number, "DTM", 2, f"coverage period ends {end} before it begins {start}"
                )
                line_months.append(dt.date.min)
                continue
            first = _first_of_month(start)
            kind = (
                ReceivedLine.Kind.RETRO
                if period_start is not None and first < _first_of_month(period_start)
                else ReceivedLine.Kind.CAPITATION
            )
            if _first_of_month(end) == first:
                self._line(key, first, kind, line.paid_cents, "", line.reference, line.segment_number)
            else:
                for month, cents in split_by_month(line.paid_cents, start, end):
                    self._line(key, month, kind, cents, "", line.reference, line.segment_number)
            out.detail_cents += line.paid_cents
            line_months.append(first)
        fallback = _first_of_month(period_start) if period_start else None
        for adj in member.adjustments:
            adj_month = line_months[adj.line_index] if adj.line_index is not None else fallback
            if adj_month is None or adj_month == dt.date.min:
                out.error_at(adj.segment_number, "ADX", 1, "adjustment with no coverage month")
                continue
            self._line(key, adj_month, ReceivedLine.Kind.ADJUSTMENT, adj.amount_cents, adj.reason_code,
                       adj.reference, adj.segment_number)  # fmt: skip
            out.adjustment_cents += adj.amount_cents
        return paid

    # -- 835 ---------------------------------------------------------------------------------------------

    def _read_835(self) -> None:
        out = self.out
        out.envelope = EnvelopeReader(self.path, filename=self.name)
        for payment in read_835_payments(self.path, filename=self.name, envelope=out.envelope):
            out.controls[payment.control_number] = payment.segment_number
            problem = balance_problem(payment)
            if problem:
                out.error_at(payment.segment_number + 1, "BPR", 2, problem)
            out.payment_cents += payment.total_cents if payment.credit_debit != "D" else -payment.total_cents
            out.trace_number = out.trace_number or payment.trace_number
            out.payment_date = out.payment_date or payment.payment_date
            if payment.claim_count:
                out.warn_at(payment.segment_number, "CLP", None,
                         f"{payment.claim_count} claim(s) in the 835 are not capitation and were not imported")  # fmt: skip
            for adj in payment.adjustments:
                kind = PLB_KINDS.get(adj.reason_code, ReceivedLine.Kind.ADJUSTMENT)
                month = _plb_month(adj.reference) or adj.fiscal_period_end.replace(day=1)
                # a PLB amount reduces the payment: capitation paid to the IPA is negative in the file
                self._line(
                    "", month, kind, -adj.amount_cents, adj.reason_code, adj.reference, adj.segment_number
                )
                if kind == ReceivedLine.Kind.ADJUSTMENT:
                    out.adjustment_cents -= adj.amount_cents
                else:
                    out.detail_cents -= adj.amount_cents
        if not out.controls and not out.error_count:
            out.error_at(0, "", None, f"{self.name} holds no 835 transaction set")

    # -- CSV ---------------------------------------------------------------------------------------------

    def _read_csv(self) -> None:
        try:
            profile = CsvRemitProfile.from_dict(self.profile.csv_profile or {})
        except (TypeError, ValueError) as exc:
            self.out.error_at(0, "", None, f"the payer's CSV profile cannot be used: {exc}")
            return
        problems = profile.problems()
        if problems:
            self.out.error_at(0, "", None, "the payer's CSV profile cannot be used: " + "; ".join(problems))
            return
        for row in read_csv_remit(self.path, profile, filename=self.name):
            self._line(row.member_id, row.month, row.kind, row.amount_cents, row.reason_code, row.reference,
                       row.line)  # fmt: skip
            self.out.payment_cents += row.amount_cents
            if row.kind == "adjustment":
                self.out.adjustment_cents += row.amount_cents
            else:
                self.out.detail_cents += row.amount_cents


def _plb_month(reference: str) -> dt.date | None:
    """A capitation month in a PLB reference (CCYYMM or CCYYMMDD at its start), else None."""
    digits = reference[:8] if reference[:8].isdigit() else reference[:6]
    try:
        if len(digits) >= 6 and digits.isdigit():
            return dt.date(int(digits[:4]), int(digits[4:6]), 1)
    except ValueError:
        return None
    return None


def import_capitation(
    *,
    actor: Actor | None,
    payer: Payer,
    path: Path,
    file_name: str | None = None,
    fmt: str | None = None,
    imported_by: str = "",
) -> RemittanceImport:
    """Import one remittance file for ``payer``: applied, rejected or duplicate (the returned record says)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    started = time.perf_counter()
    name = file_name or path.name
    if not path.is_file():
        raise ValidationFailed.single("file", f"no such file: {path}")
    profile = profile_for(payer)
    fmt = fmt or sniff_format(path, profile.default_format)
    if fmt not in Format.values:
        raise ValidationFailed.single("format", f"format {fmt!r} is not one of {', '.join(Format.values)}")
    sha, size, stored = store_file(path, name, "capitation")
    who = imported_by or (getattr(actor, "username", "") if actor is not None else "") or "system"
    base: dict[str, Any] = {
        "payer": payer, "file_name": printable(name)[:255], "sha256": sha, "size_bytes": size, "format": fmt,
        "stored_path": relative_to_var(stored), "imported_by_id": getattr(actor, "pk", None),
        "imported_by": who[:150],
    }  # fmt: skip
    original = RemittanceImport.objects.filter(
        payer=payer, sha256=sha, status=RemittanceImport.Status.APPLIED
    ).first()
    if original is not None:
        stored.unlink(missing_ok=True)
        dup = RemittanceImport.objects.create(
            **{**base, "stored_path": original.stored_path}, status=RemittanceImport.Status.DUPLICATE,
            duplicate_of=original, trace_number=original.trace_number, payment_date=original.payment_date,
            payment_cents=original.payment_cents, seconds=time.perf_counter() - started,
        )  # fmt: skip
        audit.record_write(
            actor, "capitation.duplicate", dup, after={"sha256": sha, "duplicate_of": original.pk}
        )
        return dup
    checked = _Reader(payer, path, name, fmt, profile).read()
    ack = ""
    if fmt != Format.CSV:
        try:
            ack = printable(acknowledge_file(path, name, checked.envelope, checked.controls, checked.errors))
        except ValueError as exc:
            checked.warn_at(0, "", None, f"no acknowledgment could be written for this file: {exc}")
    months = [m.strftime("%Y-%m") for m in sorted({line[2] for line in checked.lines})]
    summary: dict[str, Any] = {
        "trace_number": checked.trace_number[:50], "payment_date": checked.payment_date,
        "payment_cents": checked.payment_cents, "detail_cents": checked.detail_cents,
        "adjustment_cents": checked.adjustment_cents, "members": len(checked.members),
        "unknown_members": len(checked.unknown), "months": months, "warnings": checked.warnings,
        "warning_count": checked.warning_count, "ack_999": ack,
    }  # fmt: skip
    if checked.error_count:
        rejected = RemittanceImport.objects.create(
            **base, **summary, status=RemittanceImport.Status.REJECTED, errors=checked.errors,
            seconds=time.perf_counter() - started,
        )  # fmt: skip
        audit.record_write(
            actor, "capitation.reject", rejected, after={"errors": checked.error_count, "sha256": sha}
        )
        return rejected
    with transaction.atomic():
        record = RemittanceImport.objects.create(
            **base, **summary, status=RemittanceImport.Status.APPLIED, lines=len(checked.lines)
        )
        lines = pl.DataFrame(checked.lines, schema=LINE_SCHEMA, orient="row")
        check_references(ReceivedLine, lines, ("member",))
        insert_frame(ReceivedLine, lines, constants={"remittance_id": record.pk, "payer_id": payer.pk})
        _post_receipt(actor, record, payer)
        RemittanceImport.objects.filter(pk=record.pk).update(seconds=time.perf_counter() - started)
        record.refresh_from_db()
        audit.record_write(actor, "capitation.apply", record,
                           after={"sha256": sha, "lines": record.lines, "payment_cents": record.payment_cents})  # fmt: skip
    return record


def _post_receipt(actor: Actor | None, record: RemittanceImport, payer: Payer) -> None:
    """Cash received for capitation, held as received and undistributed until a run distributes it."""
    cents = record.payment_cents
    if cents == 0:
        return
    cash, held = accounts.CASH, accounts.CAPITATION_UNDISTRIBUTED
    debit, credit = (cash, held) if cents > 0 else (held, cash)
    amount = abs(cents)
    post_entry(
        actor=actor,
        date=record.payment_date or timezone.localdate(),
        memo=f"capitation received from {payer.code}: {record.file_name} (trace {record.trace_number or '-'})",
        postings=[
            Posting(account=debit, debit_cents=amount, payer_id=payer.pk),
            Posting(account=credit, credit_cents=amount, payer_id=payer.pk),
        ],
        source_type="capitation_import",
        source_id=record.pk,
    )


def result_json(record: RemittanceImport) -> dict[str, Any]:
    """The CLI's ``--json``."""
    return {
        "status": record.status,
        "payment_cents": record.payment_cents,
        "detail_cents": record.detail_cents,
        "adjustment_cents": record.adjustment_cents,
        "lines": record.lines,
        "members": record.members,
        "unknown_members": record.unknown_members,
        "months": list(record.months),
        "warnings": list(record.warnings),
        "errors": [
            {"segment": e.get("segment"), "segment_id": e.get("segment_id"), "element": e.get("element"),
             "message": e.get("message")}
            for e in record.errors
        ],
    }  # fmt: skip
