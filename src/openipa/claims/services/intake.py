"""Import a claims file (X12 837P/837I): validate all, apply all or nothing.

The same discipline as rosters and remittances: the file is kept as received; the whole file is read and
checked (every claim's content problems are listed, with the segment, element and claim) before anything is
written; then one transaction writes the import record, its claims and their lines. A file with any error is
rejected, with its errors and its 999; the database is left as it was. The same file again (by content hash)
is a duplicate and changes nothing.

Checked against the database: a replacement (frequency 7) or void (8) must name, in REF*F8, a claim on file
from the same billing provider (its claim number is what our 835s send in CLP07). A member the file names
but we do not have is a warning, not an error: the claim is kept and adjudication denies it (CARC 31).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.core import audit
from openipa.core.bulk import insert_frame, insert_rows, insert_rows_returning_pks
from openipa.core.errors import ValidationFailed
from openipa.core.intake import MAX_LISTED, Issues, issue, printable, relative_to_var, store_file
from openipa.core.keys import insert_frame_returning_pks
from openipa.core.roles import Actor, Perm, require
from openipa.edi.csvclaims import CsvClaimsError, read_claims_csv
from openipa.edi.t277ca import ACCEPTED, ClaimAck, acknowledge, write_277ca
from openipa.edi.t837 import Address, Claim837, ClaimProblem, Provider, read_837
from openipa.edi.t837_columns import Columns837, read_837_columns
from openipa.edi.x12.ack import acknowledge_file, build_999
from openipa.edi.x12.envelope import EnvelopeReader, TransactionHeader
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import SegmentBatch
from openipa.membership import selectors as membership_selectors
from openipa.network import selectors as network_selectors

CLAIM_COLUMNS = (
    "source_id", "kind", "patient_control_number", "frequency", "original_id", "original_reference", "member_id",
    "member_key", "patient_last_name", "patient_first_name", "patient_birth_date", "billing_npi", "billing_tin",
    "billing_name", "billing_practice_id", "rendering_npi", "referring_npi", "facility_npi", "place_of_service", "type_of_bill",
    "prior_authorization", "referral_number", "service_from", "service_to", "received_on", "charge_cents",
    "diagnoses", "status", "segment",
)  # fmt: skip
LINE_COLUMNS = (
    "claim_id", "number", "code", "modifiers", "revenue_code", "units", "charge_cents", "service_from",
    "service_to", "place_of_service", "diagnosis_codes", "rendering_npi", "line_control", "segment", "outcome",
    "responsible", "service_category", "cost_share_cents", "paid_cents", "carc", "rarc", "pend_reason", "findings",
    "pricing",
)  # fmt: skip


@dataclass
class _Checked(Issues):
    claims: list[Claim837] = field(default_factory=list)
    items: list[Claim837 | ClaimProblem] = field(default_factory=list)
    """Everything read, in order (claims and the problems of bad claims), for the 277CA."""
    controls: dict[str, int] = field(default_factory=dict)
    envelope: EnvelopeReader | None = None


class _Envelope(EnvelopeReader):
    """The envelope reader, noting each transaction set's ST segment number (the 999 places errors by it)."""

    def __init__(self, path: Path, name: str) -> None:
        super().__init__(path, filename=name)
        self.starts: dict[str, int] = {}

    def batches(self) -> Iterator[tuple[TransactionHeader, SegmentBatch, int, int]]:
        for header, batch, start, stop in super().batches():
            self.starts.setdefault(header.control_number, header.segment.number)
            yield header, batch, start, stop


def sniff_format(path: Path) -> str:
    """x12 for a file that starts with an ISA segment, else csv."""
    with path.open("rb") as fh:
        head = fh.read(16).lstrip(b"\xef\xbb\xbf \r\n\t")
    return ClaimImport.Format.X12 if head.startswith(b"ISA") else ClaimImport.Format.CSV


def _read_csv(path: Path, name: str) -> _Checked:
    out = _Checked()
    try:
        for item in read_claims_csv(path, filename=name):
            out.items.append(item)
            if isinstance(item, ClaimProblem):
                out.error_at(
                    item.segment_number, item.segment_id, None, f"claim {item.claim_id}: {item.message}"
                )
                continue
            out.claims.append(item)
    except CsvClaimsError as exc:
        out.error_at(1, "", None, str(exc))
    if not out.claims and not out.error_count:
        out.error_at(0, "", None, f"{name} holds no claim")
    return out


def _read(path: Path, name: str) -> _Checked:
    out = _Checked()
    envelope = out.envelope = _Envelope(path, name)
    try:
        for item in read_837(path, filename=name, envelope=envelope):
            out.items.append(item)
            if isinstance(item, ClaimProblem):
                out.error_at(item.segment_number, item.segment_id, item.element,
                          f"claim {item.claim_id}: {item.message}" if item.claim_id else item.message)  # fmt: skip
                continue
            out.claims.append(item)
    except X12Error as exc:
        out.error_at(exc.segment_number or 0, exc.segment_id or "", exc.element, exc.message)
    out.controls.update(envelope.starts)
    if not out.claims and not out.error_count:
        out.error_at(0, "", None, f"{name} holds no 837 claim")
    return out


def _span(claim: Claim837) -> tuple[dt.date | None, dt.date | None]:
    days = [d for line in claim.lines for d in (line.service_date, line.service_date_end) if d is not None]
    first = claim.statement_from or (min(days) if days else None)
    last = claim.statement_to or (max(days) if days else first)
    return first, last


def _warn_unknown_members(checked: _Checked, keys: Iterable[str], on_file: Mapping[str, Any]) -> None:
    """A warning per member key the file names and the roster does not have (the first MAX_LISTED listed)."""
    unknown = sorted(k for k in keys if k and k not in on_file)
    for key in unknown[:MAX_LISTED]:
        checked.warn_at(
            0, "NM1", 9, f"member {key} is not on file: the claim is kept and will be denied (CARC 31)"
        )
    checked.warning_count += max(0, len(unknown) - MAX_LISTED)


def _resolve(checked: _Checked) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Member ids by key, and the originals of replacements and voids by (billing NPI, claim number);
    problems go on ``checked``."""
    keys = {c.patient_person.member_id or c.subscriber.person.member_id for c in checked.claims}
    on_file = membership_selectors.members_by_payer_member_id(k for k in keys if k)
    members: dict[str, int] = {}
    for key, found in on_file.items():
        members[key] = found[0][0]
    _warn_unknown_members(checked, keys, on_file)
    wanted = [c.payer_claim_control_number for c in checked.claims if c.frequency_code in ("7", "8")]
    numbers = [int(n) for n in wanted if n.isdigit()]
    originals: dict[tuple[str, str], int] = {
        (npi, str(pk)): pk
        for pk, npi in Claim.objects.filter(pk__in=numbers).values_list("pk", "billing_npi")
    }
    for c in checked.claims:
        if c.frequency_code in ("7", "8"):
            ref = c.payer_claim_control_number
            if not ref:
                checked.error_at(c.segment_number, "CLM", 5, f"claim {c.claim_id}: a replacement or void (CLM05-3 "
                              f"{c.frequency_code}) needs the original claim's number in REF*F8")  # fmt: skip
            elif (c.billing_provider.identifier, ref) not in originals:
                checked.error_at(c.segment_number, "REF", 2, f"claim {c.claim_id}: REF*F8 {ref} is not a claim on file "
                              f"from billing provider {c.billing_provider.identifier}")  # fmt: skip
    return members, originals


COLUMNS_FROM_BYTES = 256 * 1024
"""An 837 of this size or more is read as columns (read_837_columns, written from frames); a smaller one by
read_837, a claim at a time. The columnar reader has a fixed cost of about 0.1 s a file (its frames' set-up),
more than reading a few hundred claims one by one: measured on the demo's files, 12 claims took 118 ms as
columns and 2 ms as rows, 397 claims (180 KB) 106 ms and 65 ms; a large file is many times faster as columns
(ADR 0010). Both paths store the same rows (test_intake_columns.py)."""


def import_claims(
    *,
    actor: Actor | None,
    path: Path,
    file_name: str | None = None,
    received_on: dt.date | None = None,
    imported_by: str = "",
    fmt: str | None = None,
) -> ClaimImport:
    """Import one claims file (X12 837, or CSV: ``fmt`` None detects it): applied, rejected or duplicate (the
    returned record says which). A CSV's errors name its line and column; it gets no 999 or 277CA."""
    if actor is not None:
        require(actor, Perm.EDIT_CLAIMS)
    started = time.perf_counter()
    name = file_name or path.name
    if not path.is_file():
        raise ValidationFailed.single("file", f"no such file: {path}")
    received = received_on or timezone.localdate()
    fmt = fmt or sniff_format(path)
    if fmt not in ClaimImport.Format.values:
        raise ValidationFailed.single(
            "format", f"format {fmt!r} is not one of {', '.join(ClaimImport.Format.values)}"
        )
    x12 = fmt == ClaimImport.Format.X12
    sha, size, stored = store_file(path, name, "claims")
    who = imported_by or (getattr(actor, "username", "") if actor is not None else "") or "system"
    base: dict[str, Any] = {
        "file_name": printable(name)[:255], "sha256": sha, "size_bytes": size, "format": fmt,
        "stored_path": relative_to_var(stored), "imported_by_id": getattr(actor, "pk", None),
        "imported_by": who[:150], "received_on": received,
    }  # fmt: skip
    original = ClaimImport.objects.filter(sha256=sha, status=ClaimImport.Status.APPLIED).first()
    if original is not None:
        stored.unlink(missing_ok=True)
        dup = ClaimImport.objects.create(
            **{**base, "stored_path": original.stored_path}, status=ClaimImport.Status.DUPLICATE,
            duplicate_of=original, claims=original.claims, lines=original.lines,
            charge_cents=original.charge_cents, seconds=time.perf_counter() - started,
        )  # fmt: skip
        audit.record_write(actor, "claims.duplicate", dup, after={"sha256": sha, "duplicate_of": original.pk})
        return dup
    if x12 and size >= COLUMNS_FROM_BYTES:
        columns = read_837_columns(path, filename=name)
        if columns is not None:
            fast = _import_columns(actor, columns, base, name, received, started)
            if fast is not None:
                return fast
    checked = _read(path, name) if x12 else _read_csv(path, name)
    members, originals = _resolve(checked) if checked.claims else ({}, {})
    ack = ""
    if x12:
        try:
            ack = printable(acknowledge_file(path, name, checked.envelope, checked.controls, checked.errors))
        except ValueError as exc:
            checked.warn_at(0, "", None, f"no acknowledgment could be written for this file: {exc}")
    summary: dict[str, Any] = {
        "claims": len(checked.claims), "lines": sum(len(c.lines) for c in checked.claims),
        "charge_cents": sum(c.total_charge_cents for c in checked.claims),
        "unknown_members": sum(1 for c in checked.claims if _key(c) not in members),
        "warnings": checked.warnings, "warning_count": checked.warning_count, "ack_999": ack,
    }  # fmt: skip
    if checked.error_count:
        summary["ack_277ca"] = _ack_277ca(checked, name, received, rejected=True) if x12 else ""
        rejected = ClaimImport.objects.create(
            **base, **summary, status=ClaimImport.Status.REJECTED, errors=checked.errors,
            error_count=checked.error_count, seconds=time.perf_counter() - started,
        )  # fmt: skip
        audit.record_write(
            actor, "claims.reject", rejected, after={"errors": checked.error_count, "sha256": sha}
        )
        return rejected
    with transaction.atomic():
        record = ClaimImport.objects.create(**base, **summary, status=ClaimImport.Status.APPLIED)
        numbers = _write(record, checked.claims, members, originals, received)
        if x12:
            record.ack_277ca = _ack_277ca(checked, name, received, rejected=False, numbers=numbers)
            record.save(update_fields=["ack_277ca"])
        ClaimImport.objects.filter(pk=record.pk).update(seconds=time.perf_counter() - started)
        record.refresh_from_db()
        audit.record_write(actor, "claims.apply", record,
                           after={"sha256": sha, "claims": record.claims, "lines": record.lines},
                           member_ids=set(members.values()))  # fmt: skip
    return record


def _import_columns(
    actor: Actor | None,
    columns: Columns837,
    base: dict[str, Any],
    name: str,
    received: dt.date,
    started: float,
) -> ClaimImport | None:
    """The bulk path: a file read_837_columns read (so nothing is wrong in it as an 837) written from frames.
    None when the database finds something to reject (a replacement naming no claim on file, a claim with no
    service date): the caller then reads the file again with read_837, whose rejection names every problem."""
    claims, lines = columns.claims, columns.lines
    first = pl.coalesce("statement_from", "first_line_day")
    claims = claims.with_columns(
        key=pl.when(pl.col("patient_member_id") != "").then(pl.col("patient_member_id")).otherwise(pl.col("member_id")), service_from=first,
        service_to=pl.coalesce("statement_to", "last_line_day", first),
    )  # fmt: skip
    if claims.get_column("service_from").null_count():
        return None
    keys = claims.get_column("key").unique().to_list()
    on_file = membership_selectors.members_by_payer_member_id(k for k in keys if k)
    members = pl.DataFrame(
        {"key": list(on_file), "member_pk": [found[0][0] for found in on_file.values()]},
        schema={"key": pl.String, "member_pk": pl.Int64},
    )
    checked = _Checked()
    _warn_unknown_members(checked, keys, on_file)
    corrections = claims.filter(pl.col("frequency_code").is_in(["7", "8"]))
    originals = pl.DataFrame(schema={"billing_identifier": pl.String, "payer_claim_control_number": pl.String,
                                     "original_id": pl.Int64})  # fmt: skip
    if corrections.height:
        wanted = [int(n) for n in corrections.get_column("payer_claim_control_number") if n.isdigit()]
        found = list(Claim.objects.filter(pk__in=wanted).values_list("billing_npi", "pk"))
        originals = pl.DataFrame(
            {"billing_identifier": [npi for npi, _pk in found],
             "payer_claim_control_number": [str(pk) for _npi, pk in found],
             "original_id": [pk for _npi, pk in found]},
            schema=originals.schema,
        )  # fmt: skip
        named = corrections.join(
            originals, on=["billing_identifier", "payer_claim_control_number"], how="left"
        )
        if named.get_column("original_id").null_count():
            return None  # read_837's path names each replacement or void that names no claim of ours
    practices = network_selectors.practice_ids_by_tin(
        t for t in claims.get_column("billing_tin").unique().to_list() if t
    )
    by_tin = pl.DataFrame(
        {"billing_tin": list(practices), "billing_practice_id": list(practices.values())},
        schema={"billing_tin": pl.String, "billing_practice_id": pl.Int64},
    )
    ack = printable(build_999(columns.interchange).decode("latin-1"))
    summary: dict[str, Any] = {
        "claims": claims.height, "lines": lines.height,
        "charge_cents": int(claims.get_column("total_charge_cents").sum()),
        "unknown_members": claims.filter(~pl.col("key").is_in(members.get_column("key").implode())).height,
        "warnings": checked.warnings, "warning_count": checked.warning_count, "ack_999": ack,
    }  # fmt: skip
    with transaction.atomic():
        record = ClaimImport.objects.create(**base, **summary, status=ClaimImport.Status.APPLIED)
        rows = (
            claims.join(members, on="key", how="left", maintain_order="left")
            .join(
                originals,
                on=["billing_identifier", "payer_claim_control_number"],
                how="left",
                maintain_order="left",
            )
            .join(by_tin, on="billing_tin", how="left", maintain_order="left")
        )
        frequency = pl.col("frequency_code")
        pks = insert_frame_returning_pks(Claim, rows.select(
            "kind", "original_id", "billing_practice_id", "patient_birth_date", "service_from",
            "service_to", "diagnoses", "segment",
            member_id=pl.col("member_pk"),
            patient_control_number=pl.col("claim_id").str.slice(0, 38),
            frequency=frequency,
            original_reference=pl.col("payer_claim_control_number").str.slice(0, 50),
            member_key=pl.col("key").str.slice(0, 80),
            patient_last_name=pl.col("patient_last_name").str.slice(0, 60),
            patient_first_name=pl.col("patient_first_name").str.slice(0, 35),
            billing_npi=pl.col("billing_identifier").str.slice(0, 10),
            billing_tin=pl.col("billing_tin").str.slice(0, 9),
            billing_name=pl.col("billing_name").str.slice(0, 60),
            rendering_npi=pl.col("rendering_npi").str.slice(0, 10),
            referring_npi=pl.col("referring_npi").str.slice(0, 10),
            facility_npi=pl.col("facility_npi").str.slice(0, 10),
            place_of_service=pl.col("place_of_service").str.slice(0, 2),
            type_of_bill=pl.when(pl.col("facility_type") != "").then(
                pl.lit("0") + pl.col("facility_type") + frequency).otherwise(pl.lit("")).str.slice(0, 4),
            prior_authorization=pl.col("prior_authorization").str.slice(0, 50),
            referral_number=pl.col("referral_number").str.slice(0, 50),
            received_on=pl.lit(received),
            charge_cents=pl.col("total_charge_cents"),
            status=pl.lit(Claim.Status.RECEIVED.value),
        ), constants={"source_id": record.pk})  # fmt: skip
        numbered = rows.select(
            "claim", "service_from", "service_to", "place_of_service", "rendering_npi", pks.alias("claim_id")
        )
        insert_frame(ClaimLine, lines.join(numbered, on="claim", how="left", suffix="_claim", maintain_order="left").select(
            "claim_id", "number", "charge_cents", "segment",
            code=pl.col("procedure_code").str.slice(0, 10),
            modifiers=pl.col("modifiers").str.slice(0, 11),
            revenue_code=pl.col("revenue_code").str.slice(0, 4),
            units=pl.col("units"),
            service_from=pl.coalesce("service_date", "service_from"),
            service_to=pl.coalesce("service_date_end", "service_date", "service_to"),
            place_of_service=pl.when(pl.col("place_of_service") != "").then(pl.col("place_of_service"))
            .otherwise(pl.col("place_of_service_claim")).str.slice(0, 2),
            diagnosis_codes=pl.col("diagnosis_codes").str.slice(0, 40),
            rendering_npi=pl.when(pl.col("rendering_npi") != "").then(pl.col("rendering_npi"))
            .otherwise(pl.col("rendering_npi_claim")).str.slice(0, 10),
            line_control=pl.col("control_number").str.slice(0, 50),
            outcome=pl.lit(ClaimLine.Outcome.NEW.value),
            responsible=pl.lit(""), service_category=pl.lit(""), cost_share_cents=pl.lit(0, dtype=pl.Int64),
            paid_cents=pl.lit(0, dtype=pl.Int64), carc=pl.lit(""), rarc=pl.lit(""), pend_reason=pl.lit(""),
            findings=pl.lit("[]"), pricing=pl.lit("{}"),
        ))  # fmt: skip
        try:
            record.ack_277ca = _ack_277ca_columns(
                columns, rows.with_columns(pks.alias("number")), name, received
            )
        except ValueError as exc:
            record.warnings = [
                *record.warnings,
                issue(0, "", None, f"no 277CA could be written for this file: {exc}"),
            ]
            record.warning_count += 1
        record.save(update_fields=["ack_277ca", "warnings", "warning_count"])
        ClaimImport.objects.filter(pk=record.pk).update(seconds=time.perf_counter() - started)
        record.refresh_from_db()
        audit.record_write(actor, "claims.apply", record,
                           after={"sha256": record.sha256, "claims": record.claims, "lines": record.lines},
                           member_ids=set(members.get_column("member_pk").to_list()))  # fmt: skip
    if connection.vendor == "postgresql":
        refresh_statistics(lines.height)
    return record


_ANALYZE_AFTER = 50_000
"""Lines in one file above which PostgreSQL's statistics of the claims tables are always refreshed."""
_ANALYZE_GROWTH = 0.2
"""Or when a file adds this share of the lines the statistics know of (many small files grow a table as much)."""
_ANALYZE_MIN = 500


def statistics_stale(new_lines: int, known_lines: float) -> bool:
    """Whether an import of `new_lines` makes PostgreSQL's statistics of the claims tables stale: a large file,
    a table never analyzed (`known_lines` < 0, pg_class.reltuples), or growth of a fifth or more. Without them
    the planner takes a million new lines for a few thousand (or the weekly files of a year for the first
    week's) and adjudication's reads and the payment run choose nested loops. Autovacuum cannot help: it does
    not see rows of a transaction still open (an import inside a larger one, as the demo's and tests' are)."""
    if new_lines >= _ANALYZE_AFTER:
        return True
    if new_lines < _ANALYZE_MIN:
        return False
    return known_lines < 0 or new_lines >= _ANALYZE_GROWTH * known_lines


def refresh_statistics(new_lines: int) -> bool:
    """ANALYZE the claims tables when :func:`statistics_stale` says so (PostgreSQL only); True if it did."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [ClaimLine._meta.db_table])
        found = cursor.fetchone()
        if not statistics_stale(new_lines, float(found[0]) if found else -1.0):
            return False
        cursor.execute(f"ANALYZE {Claim._meta.db_table}, {ClaimLine._meta.db_table}")
    return True


def _ack_277ca_columns(columns: Columns837, claims: pl.DataFrame, name: str, received: dt.date) -> str:
    """The 277CA of a file read as columns: every claim accepted, with the number it got."""
    providers: dict[tuple[Any, ...], Provider] = {}
    billing = [
        "billing_entity_type", "billing_name", "billing_first_name", "billing_middle_name", "billing_id_qualifier",
        "billing_identifier", "billing_tin", "billing_taxonomy", "billing_address", "billing_line1", "billing_line2",
        "billing_city", "billing_state", "billing_zip",
    ]  # fmt: skip
    for row in claims.select(billing).unique().iter_rows():
        kind, name_, first, middle, qualifier, identifier, tin, taxonomy, has_address, *lines = row
        providers[row] = Provider(kind, name_, first, middle, qualifier, identifier, tin, taxonomy,
                                  Address(*lines) if has_address else None)  # fmt: skip
    days = claims.select(
        first=pl.min_horizontal("first_line_day", "statement_from"),
        last=pl.max_horizontal("last_line_day", "statement_to", "statement_from"),
    )
    acks = [
        ClaimAck(
            claim_id=claim_id, total_charge_cents=charge, accepted=True, billing_provider=providers[tuple(provider)],
            patient_last_name=last, patient_first_name=first_name, member_id=member or "UNKNOWN",
            service_from=start or received, service_to=end or received, category=ACCEPTED[0], status=ACCEPTED[1],
            payer_claim_number=str(number),
            type_of_bill=f"0{facility}{frequency}" if facility else "",
        )
        for (claim_id, charge, last, first_name, member, number, facility, frequency, *provider), start, end in zip(
            claims.select("claim_id", "total_charge_cents", "patient_last_name", "patient_first_name", "member_id",
                          "number", "facility_type", "frequency_code", *billing).iter_rows(),
            days.get_column("first"), days.get_column("last"), strict=True,
        )
    ]  # fmt: skip
    out = io.BytesIO()
    write_277ca(
        out, acks, source_name=str(settings.IPA_NAME)[:60], source_id=str(settings.IPA_TIN),
        receiver_name=columns.submitter_name[:60] or "SUBMITTER", receiver_id=columns.submitter_id or "UNKNOWN",
        batch_reference=columns.originator_reference or name[:30], received=received,
        sender=str(settings.IPA_TIN), receiver=columns.submitter_id or "UNKNOWN",
    )  # fmt: skip
    return printable(out.getvalue().decode("latin-1"))


def _key(claim: Claim837) -> str:
    return claim.patient_person.member_id or claim.subscriber.person.member_id


def _npi(provider: Any) -> str:
    return provider.identifier if provider is not None and provider.id_qualifier == "XX" else ""


def _write(
    record: ClaimImport,
    claims: list[Claim837],
    members: dict[str, int],
    originals: dict[tuple[str, str], int],
    received: dt.date,
) -> dict[int, str]:
    rows = []
    practices = network_selectors.practice_ids_by_tin(
        {c.billing_provider.tin for c in claims if c.billing_provider.tin}
    )
    spans = [_span(c) for c in claims]
    for c, (first, last) in zip(claims, spans, strict=True):
        person = c.patient_person
        original = originals.get((c.billing_provider.identifier, c.payer_claim_control_number))
        key = _key(c)
        rows.append((
            record.pk, c.kind, c.claim_id[:38], c.frequency_code or "1", original, c.payer_claim_control_number[:50],
            members.get(key), key[:80], person.last_name[:60], person.first_name[:35], person.birth_date,
            c.billing_provider.identifier[:10], c.billing_provider.tin[:9], c.billing_provider.name[:60],
            practices.get(c.billing_provider.tin),
            _npi(c.rendering or c.attending), _npi(c.referring), _npi(c.service_facility), c.place_of_service[:2],
            c.type_of_bill[:4], c.prior_authorization[:50], c.referral_number[:50], first, last, received,
            c.total_charge_cents, [[d.qualifier, d.code] for d in c.diagnoses], Claim.Status.RECEIVED,
            c.segment_number,
        ))  # fmt: skip
    pks = insert_rows_returning_pks(Claim, CLAIM_COLUMNS, rows)
    numbers = {id(c): str(pk) for pk, c in zip(pks, claims, strict=True)}
    lines: list[tuple[Any, ...]] = []
    for pk, c, (first, last) in zip(pks, claims, spans, strict=True):
        for line in c.lines:
            start = line.service_date or first
            end = line.service_date_end or line.service_date or last
            lines.append((
                pk, line.number, line.procedure_code[:10], ",".join(line.modifiers)[:11], line.revenue_code[:4],
                line.units, line.charge_cents, start, end, (line.place_of_service or c.place_of_service)[:2],
                ",".join(d.code for d in line.diagnoses)[:40], _npi(line.rendering) or _npi(c.rendering or c.attending),
                line.control_number[:50], line.segment_number, ClaimLine.Outcome.NEW, "", "", 0, 0, "", "", "", "[]", "{}",
            ))  # fmt: skip
    insert_rows(ClaimLine, LINE_COLUMNS, lines, prepared=("findings", "pricing"))  # empty JSON, as text
    record.lines = len(lines)
    return numbers


def _ack_277ca(
    checked: _Checked, name: str, received: dt.date, *, rejected: bool, numbers: dict[int, str] | None = None
) -> str:
    """The 277CA of the file: each claim accepted into adjudication (with the claim number it got), or
    rejected with its problem; in a rejected file, the clean claims too (nothing was applied)."""
    if not checked.items:
        return ""
    first = next((c for c in checked.items if isinstance(c, Claim837)), None)
    whole_file = "not applied: other claims in the file have errors; correct them and send the file again"
    acks = list(acknowledge(
        checked.items, received=received, check=(lambda _c: whole_file) if rejected else None,
        payer_claim_number=(lambda c: (numbers or {}).get(id(c), "")) if numbers else None,
    ))  # fmt: skip
    out = io.BytesIO()
    header = first.transaction if first is not None else None
    try:
        write_277ca(
            out, acks, source_name=str(settings.IPA_NAME)[:60], source_id=str(settings.IPA_TIN),
            receiver_name=(header.submitter_name if header else "SUBMITTER")[:60] or "SUBMITTER",
            receiver_id=(header.submitter_id if header else "") or "UNKNOWN",
            batch_reference=(header.originator_reference if header else "") or name[:30], received=received,
            sender=str(settings.IPA_TIN), receiver=(header.submitter_id if header else "") or "UNKNOWN",
        )  # fmt: skip
    except ValueError as exc:
        checked.warn_at(0, "", None, f"no 277CA could be written for this file: {exc}")
        return ""
    return printable(out.getvalue().decode("latin-1"))


def result_json(record: ClaimImport) -> dict[str, Any]:
    """The CLI's ``--json``."""
    return {
        "import_id": record.pk,
        "status": record.status,
        "claims": record.claims,
        "lines": record.lines,
        "charge_cents": record.charge_cents,
        "unknown_members": record.unknown_members,
        "warnings": list(record.warnings),
        "errors": [
            {"segment": e.get("segment"), "segment_id": e.get("segment_id"), "element": e.get("element"),
             "message": e.get("message")}
            for e in record.errors
        ],
    }  # fmt: skip
