"""Roster ingestion: a payer's 834 or CSV roster validated whole, then applied in one transaction.

    import_roster(actor=..., payer=payer, path=Path("roster.834"))  ->  RosterImport

1. The file is copied under var/imports/roster/ while its SHA-256 is taken. A file already applied for the
   payer is recorded as a duplicate and changes nothing.
2. Validation pass: every record is parsed and resolved (member id, plan -> product, dates, PCP by NPI)
   against what is on file; errors are collected, not raised. Any error rejects the whole file: the import
   row keeps the errors and the 999, the database is otherwise untouched.
3. Apply pass, one transaction: the file is read again and applied in batches. Per member the pure planner
   (membership.engine.roster) turns the record into span operations; new members, span inserts, updates and
   deletes and one RosterChange per changed member are written in bulk. A full (030) file then terms the
   payer's members it did not list, if the payer's roster profile says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.bulk import db_value, insert_rows, insert_rows_returning_pks, update_rows
from openipa.core.errors import ValidationFailed
from openipa.core.intake import Issues, intake_dir, issue, printable, relative_to_var, store_file
from openipa.core.roles import Actor, Perm, require
from openipa.edi.csvroster import CsvProfile, read_csv_roster
from openipa.edi.t834 import Enrollment834, MemberRecord, read_834
from openipa.edi.x12.ack import acknowledge_file
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.errors import X12Error
from openipa.membership.engine.roster import (
    DEMOGRAPHIC_FIELDS,
    Action,
    Instruction,
    Interval,
    MemberState,
    Plan,
    SpanRow,
    plan_member,
    retro_months,
)
from openipa.membership.models import (
    EligibilitySpan,
    Member,
    PcpAssignment,
    RosterChange,
    RosterImport,
    RosterProfile,
)
from openipa.network import selectors as network_selectors

ACTIONS: dict[str, Action] = {
    "021": "add",
    "001": "change",
    "024": "term",
    "025": "reinstate",
    "030": "audit",
}
BATCH = 2000
SQLITE_CACHE_KIB = 256 * 1024
MAX_LISTED = 1000
"""Errors and warnings kept per import; beyond this they are counted, not listed."""
ONE_DAY = dt.timedelta(days=1)
_MAX_LEN = {"first_name": 100, "last_name": 100, "address_line1": 200, "city": 100, "zip_code": 10}

Progress = Callable[[str, int, int | None], None]
"""progress(phase, records done, records in all or None)."""


def roster_dir() -> Path:
    return intake_dir("roster")


def roster_profile_for(payer: Payer) -> RosterProfile:
    """The payer's roster profile; the defaults (unsaved) when none was set, so reading writes nothing."""
    profile = RosterProfile.objects.filter(payer=payer).first()
    return profile if profile is not None else RosterProfile(payer=payer)


# -- issues ------------------------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control_characters(rec: MemberRecord) -> str | None:
    """The first text field of a record holding a control character (they have no place in a roster)."""
    plans = "".join(c.plan_description for c in rec.coverage)
    text = "".join((rec.member_id, rec.subscriber_id, rec.last_name, rec.first_name, *rec.address_lines,
                    rec.city, rec.state, rec.zip, plans))  # fmt: skip
    if _CONTROL.search(text) is None:  # one search for the common case
        return None
    fields = {
        "member id": rec.member_id,
        "subscriber id": rec.subscriber_id,
        "last name": rec.last_name,
        "first name": rec.first_name,
        "address": " ".join(rec.address_lines),
        "city": rec.city,
        "state": rec.state,
        "zip": rec.zip,
        "plan": plans,
    }
    return next(label for label, value in fields.items() if _CONTROL.search(value))


def _from_x12(error: X12Error) -> dict[str, Any]:
    return issue(error.segment_number or 0, error.segment_id or "", error.element, error.message)


# -- context: what the file is resolved against ---------------------------------------------------


@dataclass
class _Context:
    payer: Payer
    profile: RosterProfile
    is_csv: bool
    lines: frozenset[str]
    products: dict[str, int]
    """plan code as sent (upper case) -> product id."""
    default_product: int | None
    directory: dict[str, network_selectors.PcpDirectoryEntry]
    existing: dict[str, int]
    """payer member id -> member pk, for every member of the payer on file."""
    csv_columns: Mapping[str, str]
    reference: dt.date = field(default_factory=dt.date.today)
    today: dt.date = field(default_factory=dt.date.today)

    def where(
        self, segment: int, x12_id: str, element: int | None, csv_field: str
    ) -> tuple[int, str, int | None]:
        if self.is_csv:
            return segment, self.csv_columns.get(csv_field, csv_field), None
        return segment, x12_id, element


def _context(payer: Payer, profile: RosterProfile, is_csv: bool, today: dt.date) -> _Context:
    products = contract_selectors.product_ids_by_code(payer)
    by_code = dict(products)
    for sent, code in (profile.plan_map or {}).items():
        mapped = by_code.get(str(code).strip().upper())
        if mapped is not None:
            products[str(sent).strip().upper()] = mapped
    existing = dict(Member.objects.filter(payer=payer).values_list("payer_member_id", "pk"))
    columns = dict((profile.csv_profile or {}).get("columns", {})) if is_csv else {}
    return _Context(
        payer=payer,
        profile=profile,
        is_csv=is_csv,
        lines=frozenset(profile.insurance_line_codes),
        products=products,
        default_product=profile.default_product_id,
        directory=network_selectors.provider_directory_by_npi(),
        existing=existing,
        csv_columns=columns,
        reference=today,
        today=today,
    )


# -- resolving one record ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Resolved:
    key: str
    instruction: Instruction | None
    """None: nothing in this record concerns the IPA (or a termination of a member not on file)."""
    segment: int
    pcp_npis: tuple[str, ...] = ()


def _demographics(rec: MemberRecord) -> dict[str, object]:
    values: dict[str, object] = {
        "first_name": rec.first_name,
        "last_name": rec.last_name,
        "date_of_birth": rec.birth_date,
        "sex": rec.sex,
        "address_line1": rec.address_lines[0] if rec.address_lines else "",
        "city": rec.city,
        "state": rec.state if len(rec.state) == 2 else "",
        "zip_code": rec.zip,
    }
    for name, limit in _MAX_LEN.items():
        value = values[name]
        if isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
    return {k: v for k, v in values.items() if v not in (None, "")}


def _resolve(
    rec: MemberRecord, ctx: _Context, issues: Issues, seen: dict[str, int], *, checks: bool = True
) -> _Resolved | None:
    """Check one record and turn it into an Instruction. Errors and warnings go to ``issues``; returns None
    when the record has errors. ``checks=False`` (the apply pass, after validation) skips the date
    plausibility warnings, which validation has already reported."""
    ins_seg = rec.segment_number
    key = rec.member_id or (rec.subscriber_id if rec.subscriber else "")
    before = issues.error_count
    bad = _control_characters(rec)
    if bad is not None:
        issues.error(
            issue(ins_seg, "INS", None, f"the member's {bad} holds a control character", printable(key))
        )
        return None
    if not key:
        issues.error(issue(*ctx.where(ins_seg, "NM1", 9, "member_id"), "member has no member id (NM109)"))
        return None
    first = seen.get(key)
    if first is not None:
        issues.error(
            issue(
                *ctx.where(ins_seg, "INS", None, "member_id"),
                f"member {key} appears twice in the file (first at {'line' if ctx.is_csv else 'segment'} {first})",
                key,
            )
        )
        return None
    seen[key] = ins_seg
    action = ACTIONS.get(rec.maintenance_type_code)
    if action is None:  # the readers reject unknown codes; kept for safety
        issues.error(issue(*ctx.where(ins_seg, "INS", 3, "maintenance"), "unknown maintenance type", key))
        return None
    on_file = key in ctx.existing

    # coverage lines the IPA is at risk for
    coverage: list[Interval] = []
    ended: list[dt.date] = []
    all_out_of_scope = bool(rec.coverage)
    for line in rec.coverage:
        if line.insurance_line.upper() not in ctx.lines:
            continue
        all_out_of_scope = False
        seg = line.segment_number or ins_seg
        plan = line.plan_description.strip().upper()
        product = ctx.products.get(plan) if plan else ctx.default_product
        line_action = ACTIONS.get(line.maintenance_type_code, action)
        if line_action == "term" or action == "term":
            if line.end is not None:
                ended.append(line.end)
            continue  # a termination ends whatever the member has: the plan is not needed
        if product is None:
            what = f"plan {line.plan_description!r}" if plan else "a coverage line without a plan (HD04)"
            issues.error(
                issue(
                    *ctx.where(seg, "HD", 4, "plan_code"),
                    f"{what} is not a product of {ctx.payer.code}; map it on the payer's roster profile",
                    key,
                )
            )
            continue
        if line.begin is None:
            issues.error(
                issue(
                    *ctx.where(seg, "HD", None, "coverage_begin"),
                    "coverage line has no begin date (DTP*348)",
                    key,
                )
            )
            continue
        coverage.append((product, line.begin, line.end))
        if checks:
            _check_dates(rec, line.begin, seg, ctx, issues, key)

    if all_out_of_scope:
        return _Resolved(key, None, ins_seg)  # dental, vision ...: not the IPA's business

    if action == "term" or (ended and not coverage):
        term_date = max(ended) if ended else (rec.eligibility_end or rec.maintenance_effective)
        if term_date is None:
            issues.error(
                issue(
                    *ctx.where(ins_seg, "INS", 3, "coverage_end"),
                    "termination has no end date (DTP*349 on the coverage line, or DTP*357)",
                    key,
                )
            )
            return None
        if issues.error_count > before:
            return None
        if not on_file:
            issues.warn(
                issue(
                    ins_seg, "INS", 3, f"termination of member {key}, who is not on file: nothing to end", key
                )
            )
            return _Resolved(key, None, ins_seg)
        return _Resolved(key, Instruction("term", _demographics(rec), term_date=term_date), ins_seg)

    # PCP choices, attached to the coverage they belong to
    pcps: list[Interval] = []
    npis: list[str] = []
    cov_start = min((c[1] for c in coverage), default=None)
    cov_end = coverage[-1][2] if coverage else None
    for choice in rec.pcp:
        if choice.insurance_line and choice.insurance_line.upper() not in ctx.lines:
            continue
        seg = choice.segment_number or ins_seg
        entry = ctx.directory.get(choice.npi) if choice.npi else None
        if entry is None:
            shown = choice.npi or choice.identifier or "(none)"
            issues.warn(
                issue(
                    *ctx.where(seg, "NM1", 9, "pcp_npi"),
                    f"unknown PCP NPI {shown} ({choice.name}): PCP not assigned",
                    key,
                )
            )
            continue
        begin = choice.begin or cov_start or ctx.reference
        if not entry.is_pcp:
            issues.warn(
                issue(
                    *ctx.where(seg, "NM1", 9, "pcp_npi"),
                    f"{entry.name} ({choice.npi}) is not a primary care provider: PCP not assigned",
                    key,
                )
            )
            continue
        practice = entry.practice_on(begin)
        if practice is None:
            issues.warn(
                issue(
                    *ctx.where(seg, "NM1", 9, "pcp_npi"),
                    f"{entry.name} has no practice affiliation on {begin}: PCP not assigned",
                    key,
                )
            )
            continue
        pcps.append(((entry.provider_id, practice), begin, cov_end))
        npis.append(choice.npi)

    demographics = _demographics(rec)
    if not on_file:
        if not coverage:
            if issues.error_count == before:
                issues.warn(
                    issue(
                        ins_seg,
                        "INS",
                        3,
                        f"member {key} is not on file and the record has no coverage line for {', '.join(sorted(ctx.lines))}: skipped",
                        key,
                    )
                )
            return None if issues.error_count > before else _Resolved(key, None, ins_seg)
        for name, label, x12 in (
            ("last_name", "last name", ("NM1", 3)),
            ("first_name", "first name", ("NM1", 4)),
            ("date_of_birth", "date of birth", ("DMG", 2)),
            ("sex", "sex", ("DMG", 3)),
        ):
            if name not in demographics:
                issues.error(issue(*ctx.where(ins_seg, x12[0], x12[1], name.replace("date_of_birth", "birth_date")),
                                   f"new member {key} has no {label}", key))  # fmt: skip
    if rec.birth_date is not None and rec.birth_date > ctx.today:
        issues.error(
            issue(
                *ctx.where(ins_seg, "DMG", 2, "birth_date"),
                f"date of birth {rec.birth_date} is in the future",
                key,
            )
        )
    if issues.error_count > before:
        return None
    instruction = Instruction(action, demographics, coverage=tuple(coverage), pcp=tuple(pcps))
    return _Resolved(key, instruction, ins_seg, tuple(npis))


def _check_dates(
    rec: MemberRecord, begin: dt.date, seg: int, ctx: _Context, issues: Issues, key: str
) -> None:
    if rec.birth_date is not None:
        if begin < rec.birth_date:
            issues.warn(
                issue(
                    *ctx.where(seg, "DTP", 3, "coverage_begin"),
                    f"coverage begins {begin}, before the date of birth {rec.birth_date}",
                    key,
                )
            )
        elif rec.birth_date.year < ctx.today.year - 120:
            issues.warn(
                issue(
                    *ctx.where(rec.segment_number, "DMG", 2, "birth_date"),
                    f"implausible date of birth {rec.birth_date}",
                    key,
                )
            )
    if begin > ctx.reference + dt.timedelta(days=366):
        issues.warn(
            issue(
                *ctx.where(seg, "DTP", 3, "coverage_begin"),
                f"coverage begins {begin}, more than a year after the file date",
                key,
            )
        )


# -- reading ----------------------------------------------------------------------------------------


def _records(
    path: Path, ctx: _Context, file_name: str, envelope: EnvelopeReader | None = None
) -> Iterator[Enrollment834 | MemberRecord]:
    if ctx.is_csv:
        profile = CsvProfile.from_dict(ctx.profile.csv_profile or {})
        return read_csv_roster(
            path, profile, filename=file_name, payer_name=ctx.payer.name, file_date=ctx.reference
        )
    return read_834(path, filename=file_name, envelope=envelope)


def _csv_problems(payer: Payer, profile: RosterProfile) -> list[str]:
    if not profile.csv_profile:
        return [f"{payer.code} has no CSV column mapping: set one on the payer's roster profile page"]
    try:
        return CsvProfile.from_dict(profile.csv_profile).validate()
    except ValueError as exc:
        return [f"{payer.code}'s CSV column mapping is unreadable ({exc}): save it again on the profile page"]


def sniff_format(path: Path, default: str) -> str:
    """x12 when the file starts with ISA (after a byte-order mark or blanks); else the payer's usual format."""
    with path.open("rb") as f:
        head = f.read(16).lstrip(b"\xef\xbb\xbf \t\r\n")
    return RosterProfile.Format.X12 if head.startswith(b"ISA") else default


def _store(path: Path, file_name: str) -> tuple[str, int, Path]:
    """Copy the file under var/imports/roster/ while hashing it; return (sha256, size, stored path)."""
    return store_file(path, file_name, "roster")


def _relative(path: Path) -> str:
    return relative_to_var(path)


# -- the service ------------------------------------------------------------------------------------


@dataclass
class _Validated:
    header: Enrollment834 | None = None
    records: int = 0
    rejected: int = 0
    full_file: bool = False
    x12_error: X12Error | None = None
    envelope: EnvelopeReader | None = None
    """The validation pass's envelope reader (X12): its interchanges are acknowledged when all is well."""
    controls: dict[str, int] = field(default_factory=dict)
    """ST02 -> the ST segment number, for the 999."""


def import_roster(
    *,
    actor: Actor | None,
    payer: Payer,
    path: Path,
    file_name: str | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
    imported_by: str = "",
) -> RosterImport:
    """Import one roster file for ``payer``. Returns the import record (applied, rejected or duplicate)."""
    if actor is not None:
        require(actor, Perm.EDIT_MEMBERS)
    started = time.perf_counter()
    name = file_name or path.name
    if not path.is_file():
        raise ValidationFailed.single("file", f"no such file: {path}")
    profile = roster_profile_for(payer)
    fmt = fmt or sniff_format(path, profile.default_format)
    if fmt not in RosterProfile.Format.values:
        raise ValidationFailed.single("format", f"format {fmt!r} is not x12 or csv")
    if fmt == RosterProfile.Format.CSV:
        problems = _csv_problems(payer, profile)
        if problems:
            raise ValidationFailed.single("format", "; ".join(problems))
    sha, size, stored = _store(path, name)
    who_id = getattr(actor, "pk", None) if actor is not None else None
    who = imported_by or (getattr(actor, "username", "") if actor is not None else "") or "system"
    base: dict[str, Any] = {
        "payer": payer,
        "file_name": printable(name)[:255],
        "sha256": sha,
        "size_bytes": size,
        "format": fmt,
        "stored_path": _relative(stored),
        "imported_by_id": who_id,
        "imported_by": who[:150],
    }
    original = RosterImport.objects.filter(
        payer=payer, sha256=sha, status=RosterImport.Status.APPLIED
    ).first()
    if original is not None:
        stored.unlink(missing_ok=True)  # the original's copy is kept
        dup = RosterImport.objects.create(
            **{**base, "stored_path": original.stored_path},
            status=RosterImport.Status.DUPLICATE,
            duplicate_of=original,
            full_file=original.full_file,
            file_date=original.file_date,
            records=original.records,
            seconds=time.perf_counter() - started,
        )
        audit.record_write(actor, "roster.duplicate", dup, after={"sha256": sha, "duplicate_of": original.pk})
        return dup

    with _gc_paused():
        return _import(actor, payer, path, name, fmt, profile, base, sha, started, today, progress)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a roster is read and applied. The import allocates millions of
    small acyclic objects (records, rows), and each collection rescans every object alive, the payer's member
    ids included: on 100,000 members a quarter of the time went there. Reference counting still frees all
    of them; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    actor: Actor | None,
    payer: Payer,
    path: Path,
    name: str,
    fmt: str,
    profile: RosterProfile,
    base: dict[str, Any],
    sha: str,
    started: float,
    today: dt.date | None,
    progress: Progress | None,
) -> RosterImport:
    day = today or timezone.localdate()
    ctx = _context(payer, profile, fmt == RosterProfile.Format.CSV, day)
    issues = Issues(MAX_LISTED)
    checked = _validate(path, name, ctx, issues, progress)
    ack = ""
    if not ctx.is_csv:
        try:
            ack = printable(_acknowledgment(path, name, checked, issues))
        except ValueError as exc:  # an envelope too broken to answer: the import's own report still stands
            issues.warn(issue(0, "", None, f"no acknowledgment could be written for this file: {exc}"))
    if issues.error_count:
        rejected = RosterImport.objects.create(
            **base,
            status=RosterImport.Status.REJECTED,
            full_file=checked.full_file,
            file_date=ctx.reference if checked.header else None,
            records=checked.records,
            rejected=checked.rejected,
            unchanged=0,
            warnings=issues.listed_warnings(),
            warning_count=issues.warning_count,
            errors=issues.errors,
            ack_999=ack,
            seconds=time.perf_counter() - started,
        )
        audit.record_write(
            actor, "roster.reject", rejected, after={"errors": issues.error_count, "sha256": sha}
        )
        return rejected

    with transaction.atomic(), _large_page_cache():
        record = RosterImport.objects.create(
            **base,
            status=RosterImport.Status.APPLIED,
            full_file=checked.full_file,
            file_date=ctx.reference,
            records=checked.records,
            ack_999=ack,
        )
        applier = _Applier(ctx, record, issues)
        applier.run(_resolved_stream(path, name, ctx), checked.records, progress)
        if checked.full_file and profile.full_file_terms_missing:
            applier.term_missing(ctx.reference - ONE_DAY)
        applier.panel_warnings()
        counts = applier.counts
        RosterImport.objects.filter(pk=record.pk).update(
            added=counts["add"],
            changed=counts["change"],
            termed=counts["term"],
            reinstated=counts["reinstate"],
            unchanged=counts["unchanged"],
            retro=applier.retro,
            outside_window=applier.outside,
            warnings=issues.listed_warnings(),
            warning_count=issues.warning_count,
            seconds=time.perf_counter() - started,
        )
        record.refresh_from_db()
        audit.record_write(
            actor,
            "roster.apply",
            record,
            after={
                k: getattr(record, k)
                for k in ("sha256", "added", "changed", "termed", "reinstated", "unchanged")
            },
        )
    return record


@contextlib.contextmanager
def _large_page_cache() -> Iterator[None]:
    """On SQLite, a page cache large enough for the indexes a big roster inserts into (the default 2 MiB
    makes a million-member file spill pages to disk over and over); restored afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _validate(path: Path, name: str, ctx: _Context, issues: Issues, progress: Progress | None) -> _Validated:
    out = _Validated()
    seen: dict[str, int] = {}
    try:
        if not ctx.is_csv:
            out.envelope = EnvelopeReader(path, filename=name)
        for item in _records(path, ctx, name, out.envelope):
            if isinstance(item, Enrollment834):
                _header(item, ctx, out, issues)
                continue
            out.records += 1
            if item.maintenance_type_code == "030":
                out.full_file = True
            errors_before = issues.error_count
            _resolve(item, ctx, issues, seen)
            if issues.error_count > errors_before:
                out.rejected += 1
            if progress is not None and out.records % 5000 == 0:
                progress("validate", out.records, None)
    except X12Error as exc:
        out.x12_error = exc
        out.rejected += 1
        issues.error(_from_x12(exc))
    if out.header is None and out.x12_error is None:
        issues.error(issue(0, "", None, f"{name} holds no 834 transaction set"))
    if progress is not None:
        progress("validate", out.records, out.records)
    return out


def _header(head: Enrollment834, ctx: _Context, out: _Validated, issues: Issues) -> None:
    if out.header is None:
        out.header = head
        date = head.file_effective_date or head.created
        if date is not None and not ctx.is_csv:
            ctx.reference = date
    out.controls[head.control_number] = head.segment_number
    if head.action_code == "4":
        out.full_file = True


def _resolved_stream(path: Path, name: str, ctx: _Context) -> Iterator[tuple[MemberRecord, _Resolved]]:
    """The second read: records resolved again (they validated in the first pass, so nothing is dropped)."""
    scratch = Issues(MAX_LISTED)
    seen: dict[str, int] = {}
    for item in _records(path, ctx, name):
        if isinstance(item, Enrollment834):
            continue
        resolved = _resolve(item, ctx, scratch, seen, checks=False)
        if resolved is None or scratch.error_count:
            raise RuntimeError(f"record at segment {item.segment_number} failed on the second read")
        yield item, resolved


# -- applying --------------------------------------------------------------------------------------

MEMBER_COLUMNS = ("payer_id", "payer_member_id", "mbi", *DEMOGRAPHIC_FIELDS, "date_of_death", "phone",
                  "language", "created_at", "updated_at")  # fmt: skip
SPAN_DATES = ("valid_from", "valid_to", "source_import_id")
SPAN_COLUMNS = ("member_id", "product_id", "valid_from", "valid_to", "source_import_id")
PCP_COLUMNS = ("member_id", "provider_id", "practice_id", "valid_from", "valid_to", "source_import_id")
CHANGE_COLUMNS = ("roster_import_id", "member_id", "kind", "effective", "retro_months", "outside_window",
                  "segment", "detail")  # fmt: skip
_MEMBER_DEFAULTS: dict[str, object] = dict.fromkeys(DEMOGRAPHIC_FIELDS, "")


def _member_row(
    payer_pk: int, key: str, demographics: Mapping[str, tuple[object, object]], now: object
) -> tuple[object, ...]:
    values = {**_MEMBER_DEFAULTS, **{k: v[1] for k, v in demographics.items()}}
    return (payer_pk, key, "", *(values[f] for f in DEMOGRAPHIC_FIELDS), None, "", "English", now, now)


class _Applier:
    def __init__(self, ctx: _Context, record: RosterImport, issues: Issues) -> None:
        self.ctx = ctx
        self.record = record
        self.issues = issues
        self.counts = {"add": 0, "change": 0, "term": 0, "reinstate": 0, "unchanged": 0}
        self.retro = 0
        self.outside = 0
        self.windows = contract_selectors.retro_windows(ctx.payer, ctx.reference)
        # The payer's first roster is the initial load: everyone's coverage began in the past, and none of
        # it is a retro change (nothing was reported before it to change).
        self.initial_load = (
            not RosterImport.objects.filter(payer=ctx.payer, status=RosterImport.Status.APPLIED)
            .exclude(pk=record.pk)
            .exists()
        )
        self.seen_pks: set[int] = set()
        self.members_before = len(ctx.existing)
        """Members of the payer on file before this import: the only ones a full file can leave out."""
        self.new_assignments: dict[int, int] = {}
        """provider id -> PCP spans this file started for them."""

    # state of a batch of members
    def _states(self, pks: list[int]) -> dict[int, MemberState]:
        demo: dict[int, dict[str, object]] = {}
        for row in Member.objects.filter(pk__in=pks).values("pk", *DEMOGRAPHIC_FIELDS):
            demo[row.pop("pk")] = row
        cov: dict[int, list[SpanRow]] = {}
        for pk, member_id, product_id, start, end in EligibilitySpan.objects.filter(
            member_id__in=pks
        ).values_list("pk", "member_id", "product_id", "valid_from", "valid_to"):
            cov.setdefault(member_id, []).append(SpanRow(pk, product_id, start, end))
        pcp: dict[int, list[SpanRow]] = {}
        for pk, member_id, provider_id, practice_id, start, end in PcpAssignment.objects.filter(
            member_id__in=pks
        ).values_list("pk", "member_id", "provider_id", "practice_id", "valid_from", "valid_to"):
            pcp.setdefault(member_id, []).append(SpanRow(pk, (provider_id, practice_id), start, end))
        return {pk: MemberState(d, tuple(cov.get(pk, ())), tuple(pcp.get(pk, ()))) for pk, d in demo.items()}

    def run(
        self, stream: Iterable[tuple[MemberRecord, _Resolved]], total: int, progress: Progress | None
    ) -> None:
        batch: list[tuple[MemberRecord, _Resolved]] = []
        done = 0
        for item in stream:
            batch.append(item)
            if len(batch) >= BATCH:
                self._apply_batch(batch)
                done += len(batch)
                batch = []
                if progress is not None:
                    progress("apply", done, total)
        if batch:
            self._apply_batch(batch)
            done += len(batch)
        if progress is not None:
            progress("apply", done, total)

    def _apply_batch(self, batch: list[tuple[MemberRecord, _Resolved]]) -> None:
        existing = self.ctx.existing
        pks = [existing[r.key] for _rec, r in batch if r.key in existing]
        states = self._states(pks) if pks else {}
        plans: list[tuple[_Resolved, int | None, Plan]] = []
        for _rec, resolved in batch:
            pk = existing.get(resolved.key)
            if pk is not None:
                self.seen_pks.add(pk)
            if resolved.instruction is None:
                self.counts["unchanged"] += 1
                continue
            plan = plan_member(states.get(pk) if pk is not None else None, resolved.instruction)
            if plan.kind is None:
                self.counts["unchanged"] += 1
                continue
            plans.append((resolved, pk, plan))
        self._write(plans, states)

    def _write(
        self, plans: list[tuple[_Resolved, int | None, Plan]], states: Mapping[int, MemberState]
    ) -> None:
        payer_pk = self.ctx.payer.pk
        now = timezone.now()
        fresh = [(r.key, plan) for r, pk, plan in plans if pk is None]
        if fresh:
            stamp = db_value(Member, "created_at", now)
            new_pks = insert_rows_returning_pks(
                Member,
                MEMBER_COLUMNS,
                [_member_row(payer_pk, key, plan.demographics, stamp) for key, plan in fresh],
                prepared=("created_at", "updated_at"),
            )
            for (key, _plan), pk in zip(fresh, new_pks, strict=True):
                self.ctx.existing[key] = pk
            self.seen_pks.update(new_pks)
        updated: list[tuple[Any, ...]] = []
        spans: list[tuple[Any, ...]] = []
        pcps: list[tuple[Any, ...]] = []
        span_updates: list[tuple[Any, ...]] = []
        pcp_updates: list[tuple[Any, ...]] = []
        span_deletes: list[int] = []
        pcp_deletes: list[int] = []
        changes: list[tuple[Any, ...]] = []
        source = self.record.pk
        for resolved, current_pk, plan in plans:
            member_pk = current_pk if current_pk is not None else self.ctx.existing[resolved.key]
            if current_pk is not None and plan.demographics:
                values = {
                    **states[current_pk].demographics,
                    **{k: v[1] for k, v in plan.demographics.items()},
                }
                updated.append((current_pk, *(values.get(f) for f in DEMOGRAPHIC_FIELDS), now))
            for product_key, start, end in plan.coverage.insert:
                spans.append((member_pk, product_key, start, end, source))
            for row_id, start, end in plan.coverage.update:
                span_updates.append((row_id, start, end, source))
            span_deletes.extend(plan.coverage.delete)
            for pcp_key, start, end in plan.pcp.insert:
                provider_id, practice_id = cast(tuple[int, int], pcp_key)
                pcps.append((member_pk, provider_id, practice_id, start, end, source))
                self.new_assignments[provider_id] = self.new_assignments.get(provider_id, 0) + 1
            for row_id, start, end in plan.pcp.update:
                pcp_updates.append((row_id, start, end, source))
            pcp_deletes.extend(plan.pcp.delete)
            changes.append(self._change(member_pk, resolved, plan))
        # deletes first, then updates (which may shrink spans), then inserts: no overlap at any point
        if span_deletes:
            EligibilitySpan.objects.filter(pk__in=span_deletes).delete()
        if pcp_deletes:
            PcpAssignment.objects.filter(pk__in=pcp_deletes).delete()
        update_rows(EligibilitySpan, SPAN_DATES, span_updates)
        update_rows(PcpAssignment, SPAN_DATES, pcp_updates)
        update_rows(Member, (*DEMOGRAPHIC_FIELDS, "updated_at"), updated)
        insert_rows(EligibilitySpan, SPAN_COLUMNS, spans)
        insert_rows(PcpAssignment, PCP_COLUMNS, pcps)
        insert_rows(RosterChange, CHANGE_COLUMNS, changes)

    def _change(self, member_pk: int, resolved: _Resolved, plan: Plan) -> tuple[Any, ...]:
        assert plan.kind is not None
        self.counts[plan.kind] += 1
        effective = plan.effective or self.ctx.reference
        months = 0 if self.initial_load else retro_months(effective, self.ctx.reference)
        outside = False
        if months:
            self.retro += 1
            product = next(
                (k for k, s, e in plan.new_coverage if s <= effective and (e is None or effective <= e)), None
            )
            if product is None and plan.new_coverage:
                product = plan.new_coverage[-1][0]
            window = self.windows.get(product) if isinstance(product, int) else None
            if window is not None and months > window:
                outside = True
                self.outside += 1
                self.issues.warn(
                    issue(
                        resolved.segment,
                        "INS",
                        None,
                        f"retro {plan.kind} effective {effective} is {months} months back, outside the "
                        f"contract's {window}-month retro window",
                        resolved.key,
                    )
                )
        detail: dict[str, Any] = {}
        if plan.demographics and plan.kind != "add":  # a new member's fields are on the member itself
            detail["fields"] = {k: [_plain(b), _plain(a)] for k, (b, a) in plan.demographics.items()}
        if plan.coverage:
            detail["coverage"] = [_interval(i) for i in plan.new_coverage]
        if plan.pcp:
            detail["pcp"] = [_interval(i) for i in plan.new_pcp]
        return (self.record.pk, member_pk, plan.kind, effective, months, outside, resolved.segment, detail)

    def term_missing(self, last_day: dt.date) -> None:
        """A full file: members of the payer covered after ``last_day`` but not in the file lose coverage."""
        if self.members_before == 0:
            return  # everyone on file came in with this file
        covered = set(
            EligibilitySpan.objects.filter(member__payer=self.ctx.payer)
            .exclude(valid_to__lt=last_day + ONE_DAY)
            .values_list("member_id", flat=True)
            .distinct()
        )
        missing = sorted(covered - self.seen_pks)
        by_pk = {pk: key for key, pk in self.ctx.existing.items()}
        for start in range(0, len(missing), BATCH):
            pks = missing[start : start + BATCH]
            states = self._states(pks)
            plans: list[tuple[_Resolved, int | None, Plan]] = []
            for pk in pks:
                plan = plan_member(states[pk], Instruction("term", term_date=last_day))
                if plan.kind is not None:
                    plans.append((_Resolved(by_pk.get(pk, str(pk)), None, 0), pk, plan))
            self._write(plans, states)

    def panel_warnings(self) -> None:
        if not self.new_assignments:
            return
        entries = {e.provider_id: e for e in self.ctx.directory.values()}
        open_counts = dict(
            PcpAssignment.objects.filter(provider_id__in=list(self.new_assignments))
            .exclude(valid_to__lt=self.ctx.reference)
            .filter(valid_from__lte=self.ctx.reference)
            .values_list("provider_id")
            .annotate(n=Count("id"))
            .values_list("provider_id", "n")
        )
        for provider_id, added in sorted(self.new_assignments.items()):
            entry = entries.get(provider_id)
            if entry is None:
                continue
            if not entry.accepting_new_patients:
                self.issues.warn(
                    issue(
                        0,
                        "NM1",
                        9,
                        f"{entry.name} is not accepting new patients but was assigned {added} member(s)",
                    )
                )
            panel = open_counts.get(provider_id, 0)
            if entry.panel_limit is not None and panel > entry.panel_limit:
                self.issues.warn(
                    issue(
                        0, "NM1", 9, f"{entry.name}'s panel is {panel}, over the limit of {entry.panel_limit}"
                    )
                )


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _interval(i: Interval) -> list[object]:
    key, start, end = i
    return [list(key) if isinstance(key, tuple) else key, start.isoformat(), end.isoformat() if end else None]


# -- acknowledgment --------------------------------------------------------------------------------


def _acknowledgment(path: Path, name: str, checked: _Validated, issues: Issues) -> str:
    """The 999 (and a TA1 when the interchange envelope itself is in error) for an X12 roster."""
    return acknowledge_file(path, name, checked.envelope, checked.controls, issues.errors)


def result_json(record: RosterImport) -> dict[str, Any]:
    """The `import-roster --json` answer, exactly this shape."""
    return {
        "status": record.status,
        "added": record.added,
        "changed": record.changed,
        "termed": record.termed,
        "reinstated": record.reinstated,
        "unchanged": record.unchanged,
        "warnings": list(record.warnings),
        "errors": [
            {k: e.get(k) for k in ("segment", "segment_id", "element", "message")} for e in record.errors
        ],
    }
