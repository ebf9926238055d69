"""Writes of clinical data: registering sources, importing their files, and the patient-matching review.

An import reads the whole file first (`openipa.edi.fhir`, `hl7v2`, `csvclinical`). A file that cannot be read
at all is rejected whole: kept, with the reason, and nothing of it loaded. Otherwise its records are
independent (a FHIR NDJSON line, an HL7 message, a CSV row): each bad one is reported with its file, line and
field and left out, and the rest are loaded in one transaction. A fact whose patient is neither in the file
nor known from an earlier file of the source is reported and left out too. New patients (and those not yet
linked) go through the matching engine (`clinical.engine.matching`): linked, to review, or unmatched; a
patient's facts carry the member once linked, and a review that confirms the link gives them the member.

An HL7 ADT admission, discharge or ED visit of a linked patient raises an `AdtNotification` for the member's PCP
practice (the rules: `clinical/data/adt_notifications.json`, `clinical.engine.adt`), in the import's transaction;
a patient linked later by the review raises then the notifications of their stored ADT records. One notification
per visit and event: a re-sent file or an A08 update changes it, never duplicates it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.clinical.engine import adt, matching
from openipa.clinical.models import (
    AdtNotification,
    ClinicalImport,
    ClinicalRecord,
    ClinicalSource,
    PharmacyFill,
    SourcePatient,
)
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.intake import MAX_LISTED, store_file
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require
from openipa.edi import clinicalfiles as clinical_formats
from openipa.edi import fhir, pharmacy
from openipa.edi.clinical import ClinicalFact, ClinicalFileError, ClinicalIssue, PatientRecord, Record
from openipa.edi.pharmacy import PharmacyClaim
from openipa.membership import selectors as member_selectors
from openipa.membership.models import Member, PcpAssignment
from openipa.network.models import Practice

Format = ClinicalSource.Format

# HL7 v2 table 0203 identifier types (FHIR identifier.type codes use the same table)
_MBI_TYPES = {"MC"}
_MEMBER_TYPES = {"MB", "SN"}
_MEDICAID_TYPES = {"MA", "MD"}
_MBI_SYSTEMS = ("us-mbi", "mbi", "2.16.840.1.113883.4.927")


def _check(actor: Actor | None, perm: Perm) -> None:
    if actor is not None:
        require(actor, perm)


def register_source(
    *, actor: Actor | None, code: str, name: str, kind: str, default_format: str,
    practice: Practice | None = None, accepted_for_risk: bool = True,
) -> ClinicalSource:  # fmt: skip
    """Register a sender of clinical data (its code is what `import-clinical --source` names)."""
    _check(actor, Perm.EDIT_CLINICAL)
    problems: dict[str, list[str]] = {}
    if not code.strip() or ClinicalSource.objects.filter(code=code.strip()).exists():
        problems["code"] = [f"give a new source code ({code!r} is empty or taken)"]
    if kind not in ClinicalSource.Kind.values:
        problems["kind"] = [f"one of {', '.join(ClinicalSource.Kind.values)}"]
    if default_format not in Format.values:
        problems["default_format"] = [f"one of {', '.join(Format.values)}"]
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        source = ClinicalSource.objects.create(
            code=code.strip(), name=name.strip() or code.strip(), kind=kind, default_format=default_format,
            practice=practice, accepted_for_risk=accepted_for_risk,
        )  # fmt: skip
        audit.record_write(actor, "clinical.source.register", source, after={"code": source.code})
    return source


def _files(path: Path, fmt: str) -> list[Path]:
    if path.is_dir():
        if fmt == Format.FHIR:
            try:
                return [p for _type, p in fhir.bulk_files(path)]
            except ClinicalFileError as exc:
                raise ValidationFailed.single("file", str(exc)) from None
        found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not found:
            raise ValidationFailed.single("file", f"{path}: the directory holds no file")
        return found
    if not path.is_file():
        raise ValidationFailed.single("file", f"no such file or directory: {path}")
    return [path]


def detect_format(path: Path, source: ClinicalSource) -> str:
    """The format the file's first bytes say (`edi.clinicalfiles.detect_format`), else the source's default (an
    empty or unreadable file is then refused by the reader, with the reason kept). A pharmacy source's files are
    its pharmacy CSV: a CSV's first bytes do not tell the two layouts apart."""
    if source.default_format == Format.PHARMACY:
        return Format.PHARMACY
    try:
        return clinical_formats.detect_format(path)
    except ClinicalFileError:
        return source.default_format


def _read(path: Path, fmt: str) -> Iterator[Record]:
    return clinical_formats.read_clinical(path, fmt)


def import_clinical(
    *, actor: Actor | None, path: Path, source_code: str, fmt: str | None = None, imported_by: str = "",
    now: dt.datetime | None = None, file_name: str | None = None,
) -> list[ClinicalImport]:  # fmt: skip
    """Import a file, or every file of a directory (a FHIR bulk export: Patient files first), from a
    registered source. One `ClinicalImport` per file; see the module docstring for what is loaded. `file_name`:
    the name a single file was sent under (an upload's), when `path` is a temporary copy."""
    _check(actor, Perm.EDIT_CLINICAL)
    source = ClinicalSource.objects.filter(code=source_code.strip()).first()
    if source is None:
        raise ValidationFailed.single("source", f"no clinical source {source_code!r}: register it first")
    if not source.active:
        raise ValidationFailed.single("source", f"the source {source.code} is inactive")
    if fmt is not None and fmt not in Format.values:
        raise ValidationFailed.single("format", f"one of {', '.join(Format.values)}")
    files = _files(path, fmt or (Format.FHIR if path.is_dir() else ""))
    who = imported_by or (getattr(actor, "username", "") if actor is not None else "system")
    name = file_name if file_name and len(files) == 1 and not path.is_dir() else None
    return [_import_file(actor, source, f, fmt or detect_format(f, source), who, now or timezone.now(),
                         name or f.name) for f in files]  # fmt: skip


def _import_file(
    actor: Actor | None, source: ClinicalSource, path: Path, fmt: str, who: str, now: dt.datetime, name: str
) -> ClinicalImport:
    sha, size, stored = store_file(path, name, f"clinical/{source.code}")
    base = {"source": source, "file_name": name[:300], "stored_path": str(stored), "sha256": sha, "size": size,
            "format": fmt, "imported_at": now, "imported_by": who}  # fmt: skip
    if fmt == Format.PHARMACY:
        return _import_pharmacy(actor, source, path, name, base)
    patients: dict[str, PatientRecord] = {}
    facts: list[ClinicalFact] = []
    issues: list[ClinicalIssue] = []
    try:
        for item in _read(path, fmt):
            if isinstance(item, PatientRecord):
                patients[item.patient_ref] = item
            elif isinstance(item, ClinicalFact):
                facts.extend(item.flatten())
            else:
                issues.append(item)
    except ClinicalFileError as exc:
        with transaction.atomic():
            rejected = ClinicalImport.objects.create(
                **base, status=ClinicalImport.Status.REJECTED, error=str(exc)
            )
            audit.record_write(actor, "clinical.import.reject", rejected, after={"error": str(exc)})
        return rejected
    known = dict(
        SourcePatient.objects.filter(
            source=source, source_patient_id__in={f.patient_ref for f in facts} - set(patients)
        ).values_list("source_patient_id", "pk")
    )
    kept: list[ClinicalFact] = []
    for fact in facts:
        if fact.patient_ref in patients or fact.patient_ref in known:
            kept.append(fact)
        else:
            issues.append(ClinicalIssue("error", f"no patient {fact.patient_ref!r} in this file or an earlier one "
                                        "of the source; the record is left out", fact.where, "patient"))  # fmt: skip
    errors = [i for i in issues if i.is_error]
    with transaction.atomic():
        record = ClinicalImport.objects.create(
            **base, status=ClinicalImport.Status.APPLIED, patients=len(patients), records=len(kept),
            error_count=len(errors), warning_count=len(issues) - len(errors),
            issues=[i.as_dict() for i in (errors[:MAX_LISTED] + [i for i in issues if not i.is_error][:MAX_LISTED])],
        )  # fmt: skip
        by_ref, new = _upsert_patients(source, patients, record)
        by_ref.update(
            {p.source_patient_id: p for p in SourcePatient.objects.filter(pk__in=list(known.values()))}
        )
        counts = _match(source, [p for p in [*by_ref.values(), *new] if p.match in (SourcePatient.Match.REVIEW,
                                                                                     SourcePatient.Match.UNMATCHED)], now)  # fmt: skip
        by_ref.update(_create_patients(source, new))  # created matched: one insert, no update after
        _store_facts(source, record, kept, by_ref)
        raised = _raise_adt(actor, record, _visits_of_facts(source, record, kept, by_ref), now)
        record.linked, record.review, record.unmatched = counts
        record.save(update_fields=["linked", "review", "unmatched"])
        member_ids = {p.member_id for p in by_ref.values() if p.member_id is not None}
        audit.record_write(actor, "clinical.import.apply", record, member_ids=member_ids,
                           after={"sha256": sha, "patients": len(patients), "records": len(kept),
                                  "adt_notifications": raised})  # fmt: skip
    return record


def _import_pharmacy(
    actor: Actor | None, source: ClinicalSource, path: Path, name: str, base: dict[str, Any]
) -> ClinicalImport:
    """A pharmacy claims file: each claim is independent (a bad row is reported and left out); a claim whose
    member id names no member, or several, is kept without a member and counted as unmatched."""
    fills: list[PharmacyClaim] = []
    issues: list[ClinicalIssue] = []
    try:
        for item in pharmacy.read_pharmacy_claims(path, filename=name, delimiter=None):
            (fills if isinstance(item, PharmacyClaim) else issues).append(item)  # type: ignore[arg-type]
    except ClinicalFileError as exc:
        with transaction.atomic():
            rejected = ClinicalImport.objects.create(
                **base, status=ClinicalImport.Status.REJECTED, error=str(exc)
            )
            audit.record_write(actor, "clinical.import.reject", rejected, after={"error": str(exc)})
        return rejected
    keys = member_selectors.members_by_payer_member_id(f.member_id for f in fills)
    member_of = {key: found[0][0] for key, found in keys.items() if len(found) == 1}
    errors = [i for i in issues if i.is_error]
    with transaction.atomic():
        record = ClinicalImport.objects.create(
            **base, status=ClinicalImport.Status.APPLIED, records=len(fills),
            linked=len({f.member_id for f in fills if f.member_id in member_of}),
            unmatched=len({f.member_id for f in fills if f.member_id not in member_of}),
            error_count=len(errors), warning_count=len(issues) - len(errors),
            issues=[i.as_dict() for i in (errors[:MAX_LISTED] + [i for i in issues if not i.is_error][:MAX_LISTED])],
        )  # fmt: skip
        for status in (PharmacyFill.Status.PAID, PharmacyFill.Status.REVERSED):
            ids = [f.claim_id[:60] for f in fills if f.status == status]
            for start in range(0, len(ids), 5000):
                PharmacyFill.objects.filter(source=source, status=status,
                                            claim_id__in=ids[start : start + 5000]).delete()  # fmt: skip
        PharmacyFill.objects.bulk_create(
            [PharmacyFill(
                source=source, clinical_import=record, member_id=member_of.get(f.member_id), member_key=f.member_id[:40],
                claim_id=f.claim_id[:60], status=f.status, ndc=f.ndc, drug_name=f.drug_name[:200],
                fill_date=f.fill_date, days_supply=f.days_supply, quantity=f.quantity,
                prescriber_npi=f.prescriber_npi, pharmacy_npi=f.pharmacy_npi, paid_cents=f.paid_cents,
            ) for f in {(f.claim_id, f.status): f for f in fills}.values()],
            batch_size=2000,
        )  # fmt: skip
        audit.record_write(actor, "clinical.import.apply", record, member_ids=set(member_of.values()),
                           after={"sha256": record.sha256, "pharmacy_claims": len(fills)})  # fmt: skip
    return record


def _demographics(p: PatientRecord) -> dict[str, Any]:
    address = p.addresses[0] if p.addresses else None
    return {
        "last_name": p.family[:100], "first_name": p.first_name[:100], "date_of_birth": p.birth_date,
        "sex": p.sex if p.sex in ("F", "M") else "", "address_line": (address.lines[0] if address and address.lines
                                                                      else "")[:200],
        "city": (address.city if address else "")[:100], "zip_code": (address.zip if address else "")[:10],
        "phone": (p.phones[0] if p.phones else "")[:30],
        "identifiers": [{"system": i.system, "value": i.value, "type": i.type} for i in p.identifiers],
    }  # fmt: skip


def _upsert_patients(
    source: ClinicalSource, patients: dict[str, PatientRecord], record: ClinicalImport
) -> tuple[dict[str, SourcePatient], list[SourcePatient]]:
    """The file's patients the source sent before (their demographics updated), and the new ones (not saved:
    `_create_patients` inserts them once matched)."""
    existing = {p.source_patient_id: p for p in SourcePatient.objects.filter(source=source,
                                                                               source_patient_id__in=list(patients))}  # fmt: skip
    out: dict[str, SourcePatient] = {}
    new: list[SourcePatient] = []
    for ref, incoming in patients.items():
        fields = _demographics(incoming)
        found = existing.get(ref)
        if found is None:
            new.append(SourcePatient(source=source, source_patient_id=ref[:100], match=SourcePatient.Match.UNMATCHED,
                                     last_import=record, **fields))  # fmt: skip
            continue
        for name, value in fields.items():
            setattr(found, name, value)
        found.last_import = record
        found.save(update_fields=[*fields, "last_import"])
        out[ref] = found
    return out, new


def _create_patients(source: ClinicalSource, new: list[SourcePatient]) -> dict[str, SourcePatient]:
    out = {p.source_patient_id: p for p in SourcePatient.objects.bulk_create(new, batch_size=2000)}
    if any(p.pk is None for p in out.values()):  # SQLite before 3.35 returns no keys
        ids = dict(SourcePatient.objects.filter(source=source, source_patient_id__in=list(out)).values_list(
            "source_patient_id", "pk"))  # fmt: skip
        for ref, patient in out.items():
            patient.pk = ids[ref]
    return out


def _identifiers(values: list[dict[str, str]], payers: list[str]) -> list[dict[str, str]]:
    """The engine's identifiers: an MBI, a Medicaid id, a payer member id (for each payer, as the source does
    not say which), and the rest (an MRN) ignored by the engine."""
    out = []
    for ident in values:
        system, value, kind = (
            ident.get("system", "").lower(),
            ident.get("value", ""),
            ident.get("type", "").upper(),
        )
        if kind in _MBI_TYPES or any(s in system for s in _MBI_SYSTEMS):
            out.append({"system": "mbi", "value": value, "payer": ""})
        elif kind in _MEDICAID_TYPES:
            out.append({"system": "medicaid", "value": value, "payer": ""})
        elif kind in _MEMBER_TYPES or "member" in system:
            out.extend({"system": "payer_member_id", "value": value, "payer": payer} for payer in payers)
        else:
            out.append({"system": "mrn", "value": value, "payer": ""})
    return out


def _match(source: ClinicalSource, pending: list[SourcePatient], now: dt.datetime) -> tuple[int, int, int]:
    """Run the matching engine on the source's patients not yet linked; (linked, review, unmatched) of this
    file's patients after it."""
    if pending:
        members = member_selectors.matching_frame()
        payers = sorted(set(members["payer_id"].to_list()))
        incoming = pl.DataFrame(
            [{"source": source.code, "source_patient_id": p.source_patient_id,
              "identifiers": _identifiers(p.identifiers, payers), "last_name": p.last_name,
              "first_name": p.first_name, "date_of_birth": p.date_of_birth, "sex": p.sex,
              "address_line": p.address_line, "city": p.city, "zip": p.zip_code, "phone": p.phone}
             for p in pending],
            schema=matching.INCOMING_SCHEMA,
        )  # fmt: skip
        links = pl.DataFrame(schema=matching.LINK_SCHEMA)
        result = matching.match_patients(incoming, members, links, matching.load_settings(now.date()))
        by_ref = {p.source_patient_id: p for p in pending}
        for row in result.decisions.iter_rows(named=True):
            patient = by_ref[row["source_patient_id"]]
            patient.match = row["decision"]
            patient.member_id = row["member_id"] if row["decision"] == "linked" else None
            patient.match_method = row["method"] or ""
            patient.match_reason = row["reason"] or ""
            patient.match_score = row["score"]
            patient.agreement = dict(row["agreement"] or {})
            patient.candidates = [_plain(c) for c in row["candidates"] or []]
        SourcePatient.objects.bulk_update(  # the new patients are inserted matched, after this
            [p for p in pending if p.pk is not None],
            ["match", "member", "match_method", "match_reason", "match_score", "agreement", "candidates"],
            batch_size=200,
        )
    states = [p.match for p in pending]
    return (states.count("linked"), states.count("review"), states.count("unmatched"))


def _plain(candidate: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in candidate.items()}


def _aware(stamp: dt.datetime | None) -> dt.datetime | None:
    """A timestamp as stored: one sent without an offset is taken as local time (TIME_ZONE)."""
    if stamp is None or timezone.is_aware(stamp):
        return stamp
    try:
        return timezone.make_aware(stamp)
    except (ValueError, OverflowError):  # a local time skipped by a DST change: taken as standard time
        return timezone.make_aware(stamp + dt.timedelta(hours=1))


def _store_facts(source: ClinicalSource, record: ClinicalImport, facts: list[ClinicalFact],
                 patients: dict[str, SourcePatient]) -> None:  # fmt: skip
    """Insert the facts, replacing any the source sent before under the same kind and record id."""
    rows = []
    latest = {(fact.kind, fact.record_id[:120]): fact for fact in facts}  # a later message updates an earlier
    seen = set(latest)
    for key, fact in latest.items():
        patient = patients[fact.patient_ref]
        primary = fact.primary
        rows.append(ClinicalRecord(
            source=source, clinical_import=record, patient=patient, member_id=patient.member_id, kind=fact.kind,
            record_id=key[1], code_system=(primary.system if primary else "")[:40],
            code=(primary.code if primary else "")[:40], codes=[[c.system, c.code] for c in fact.codes],
            date=fact.date, end_date=fact.end_date, status=fact.status[:30], category=fact.category[:40],
            value=fact.value, unit=fact.unit[:40], comparator=fact.comparator[:2], value_text=fact.value_text[:200],
            event=fact.event[:4], disposition=fact.disposition[:20], performer=fact.performer[:40],
            location=fact.location[:120], time=_aware(fact.time), end_time=_aware(fact.end_time), recorded=fact.recorded,
        ))  # fmt: skip
    for kind in {k for k, _ in seen}:
        ids = [r for k, r in seen if k == kind]
        for start in range(0, len(ids), 5000):
            ClinicalRecord.objects.filter(
                source=source, kind=kind, record_id__in=ids[start : start + 5000]
            ).delete()
    ClinicalRecord.objects.bulk_create(rows, batch_size=2000)


def review_match(
    *, actor: Actor, patient: SourcePatient, member: Member | None, now: dt.datetime | None = None
) -> SourcePatient:
    """Decide a patient of the review queue (or correct a link): the member it is, or None for "not a
    member". The patient's facts take the member (or lose it)."""
    require(actor, Perm.EDIT_CLINICAL)
    with transaction.atomic():
        patient = SourcePatient.objects.select_for_update().get(pk=patient.pk)
        before: dict[str, Any] = {"match": patient.match, "member": patient.member_id}
        was = patient.member_id
        patient.member = member
        patient.match = SourcePatient.Match.LINKED if member is not None else SourcePatient.Match.REJECTED
        patient.match_method = "review"
        patient.reviewed_by_id = int(str(actor.pk))
        patient.reviewed_at = now or timezone.now()
        patient.save(update_fields=["member", "match", "match_method", "reviewed_by", "reviewed_at"])
        ClinicalRecord.objects.filter(patient=patient).update(member=member)
        if member is None:
            AdtNotification.objects.filter(patient=patient).delete()  # they were about someone else
        else:
            _raise_adt(actor, patient.last_import, _visits_of_records(patient), patient.reviewed_at)
        audit.record_write(actor, "clinical.match.review", patient, before=before,
                           after={"match": patient.match, "member": patient.member_id},
                           member_ids=[m for m in (was, patient.member_id) if m is not None])  # fmt: skip
    return patient


# -- ADT notifications ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Visit:
    """One ADT event of a linked patient, as a message (or its stored record) gave it."""

    source: ClinicalSource
    clinical_import: ClinicalImport
    patient: SourcePatient
    visit_id: str
    event: str
    patient_class: str
    facility: str
    admit: dt.date | None
    admitted_at: dt.datetime | None
    discharge: dt.date | None
    discharged_at: dt.datetime | None
    recorded: dt.date | None
    disposition: str
    diagnosis: tuple[str, str]


def _visits_of_facts(source: ClinicalSource, record: ClinicalImport, facts: list[ClinicalFact],
                     patients: dict[str, SourcePatient]) -> list[_Visit]:  # fmt: skip
    """The file's ADT events of linked patients, in the file's order, with each visit's first diagnosis."""
    diagnoses: dict[str, tuple[str, str]] = {}
    for fact in facts:
        if fact.kind == "condition" and fact.encounter_ref and fact.primary is not None:
            diagnoses.setdefault(fact.encounter_ref, (fact.primary.system, fact.primary.code))
    return [
        _Visit(source, record, patients[f.patient_ref], f.record_id[:120], f.event, f.category, f.location,
               f.date, _aware(f.time), f.end_date, _aware(f.end_time), f.recorded, f.disposition,
               diagnoses.get(f.record_id, ("", "")))
        for f in facts
        if f.kind == "encounter" and f.event and patients[f.patient_ref].member_id is not None
    ]  # fmt: skip


def _visits_of_records(patient: SourcePatient) -> list[_Visit]:
    """The stored ADT events of a patient (each visit's latest), with each visit's first stored diagnosis."""
    encounters = list(
        ClinicalRecord.objects.filter(patient=patient, kind="encounter")
        .exclude(event="")
        .select_related("source", "clinical_import")
        .order_by("date", "pk")
    )
    conditions = ClinicalRecord.objects.filter(patient=patient, kind="condition").order_by("pk")
    diagnoses: dict[str, tuple[str, str]] = {}
    for system, code, record_id in conditions.values_list("code_system", "code", "record_id"):
        diagnoses.setdefault(record_id.rsplit(":", 1)[0], (system, code))
    return [
        _Visit(r.source, r.clinical_import, patient, r.record_id, r.event, r.category, r.location, r.date,
               r.time, r.end_date, r.end_time, r.recorded, r.disposition, diagnoses.get(r.record_id, ("", "")))
        for r in encounters
    ]  # fmt: skip


def _raise_adt(actor: Actor | None, record: ClinicalImport, visits: list[_Visit], now: dt.datetime) -> int:
    """Raise (or update) the notifications of `visits`, in order; how many were raised new. Runs inside the
    caller's transaction."""
    if not visits:
        return 0
    rules = adt.load_rules()
    keys = {(v.source.pk, v.visit_id) for v in visits}
    existing: dict[tuple[str, str], AdtNotification] = {}
    for source_id in {k[0] for k in keys}:
        ids = [visit for s, visit in keys if s == source_id]
        for n in AdtNotification.objects.filter(source_id=source_id, visit_id__in=ids):
            existing[(n.visit_id, n.event)] = n
    record_ids = dict(
        ClinicalRecord.objects.filter(
            source_id__in={v.source.pk for v in visits}, kind="encounter", record_id__in={v.visit_id for v in visits}
        ).values_list("record_id", "pk")
    )  # fmt: skip
    pcps = _pcp_table({int(str(v.patient.member_id)) for v in visits})
    raised = 0
    touched: set[int] = set()
    for visit in visits:
        fallback = visit.recorded or visit.clinical_import.imported_at.date()
        day = adt.event_day(visit.event, visit.admit, visit.discharge, fallback)
        if rules.is_update(visit.event, day):
            targets = [n for (v, _e), n in existing.items() if v == visit.visit_id]
        else:
            decision = rules.decide(visit.event, visit.patient_class, admit=visit.admit,
                                    discharge=visit.discharge, fallback=fallback)  # fmt: skip
            if decision is None:
                continue
            found = existing.get((visit.visit_id, visit.event))
            if found is None:
                found = AdtNotification(
                    source=visit.source, visit_id=visit.visit_id, event=visit.event, raised_at=now,
                    status=AdtNotification.Status.NEW,
                )  # fmt: skip
                existing[(visit.visit_id, visit.event)] = found
                raised += 1
            found.label = decision.label[:60]
            found.event_date = decision.event_date
            found.follow_up_due = decision.follow_up_due
            found.follow_up_what = decision.follow_up_what[:80]
            targets = [found]
        for n in targets:
            _apply(n, visit, record, record_ids.get(visit.visit_id), now, pcps)
            touched.add(id(n))
    AdtNotification.objects.bulk_create([n for n in existing.values() if n.pk is None], batch_size=1000)
    for n in existing.values():
        if n.pk is None:
            continue
        if id(n) in touched:
            n.save()
        elif n.record_id != record_ids.get(n.visit_id):  # the visit's record was replaced by a later message
            n.record_id = record_ids.get(n.visit_id)
            n.save(update_fields=["record"])
    if raised or touched:
        audit.record_write(actor, "clinical.adt.raise", record, after={"raised": raised, "updated": len(touched) - raised},
                           member_ids={v.patient.member_id for v in visits if v.patient.member_id is not None})  # fmt: skip
    return raised


def _apply(n: AdtNotification, visit: _Visit, record: ClinicalImport, record_id: int | None,
           now: dt.datetime, pcps: _PcpTable) -> None:  # fmt: skip
    """Copy what the message gave (an update keeps what it leaves empty) and the member's PCP that day."""
    n.clinical_import = visit.clinical_import if visit.clinical_import.pk else record
    n.record = None if record_id is None else ClinicalRecord(pk=record_id)
    n.patient = visit.patient
    member_id = visit.patient.member_id
    assert member_id is not None  # only linked patients' visits raise notifications
    n.member_id = member_id
    n.patient_class = visit.patient_class[:10] or n.patient_class
    n.facility = visit.facility[:120] or n.facility
    n.admit_date = visit.admit or n.admit_date
    n.admitted_at = visit.admitted_at or n.admitted_at
    n.discharge_date = visit.discharge or n.discharge_date
    n.discharged_at = visit.discharged_at or n.discharged_at
    n.disposition = visit.disposition[:20] or n.disposition
    if visit.diagnosis[1]:
        n.diagnosis_system, n.diagnosis_code = visit.diagnosis[0][:40], visit.diagnosis[1][:40]
    n.pcp_practice_id, n.pcp_id = _pcp_on(pcps, member_id, n.event_date)
    n.updated_at = now


_PcpTable = dict[int, list[tuple[dt.date, dt.date | None, int, int, int]]]


def _pcp_table(member_ids: set[int]) -> _PcpTable:
    """Each member's PCP assignments (valid_from, valid_to, pk, practice, provider), read once for a batch of
    notifications (ids and dates only)."""
    table: _PcpTable = {}
    ids = sorted(member_ids)
    for start in range(0, len(ids), 5000):
        rows = PcpAssignment.objects.filter(member_id__in=ids[start : start + 5000]).values_list(
            "member_id", "valid_from", "valid_to", "pk", "practice_id", "provider_id"
        )
        for member_id, *row in rows:
            table.setdefault(member_id, []).append(tuple(row))  # type: ignore[arg-type]
    return table


def _pcp_on(table: _PcpTable, member_id: int, on: dt.date) -> tuple[int | None, int | None]:
    """(practice, provider) of the member's PCP assignment in force on the day: the latest begun, as
    `membership.selectors.pcp_practice_on` chooses it."""
    in_force = [r for r in table.get(member_id, []) if r[0] <= on and (r[1] is None or on <= r[1])]
    if not in_force:
        return None, None
    _from, _to, _pk, practice, provider = max(in_force, key=lambda r: (r[0], r[2]))
    return practice, provider


def acknowledge_notification(
    *, actor: Actor, notification_id: int, now: dt.datetime | None = None
) -> AdtNotification:
    """Mark a new notification acknowledged (who and when): IPA staff with EDIT_CLINICAL, or a user of the
    member's PCP practice (the practice the notification is for). Anyone else is refused; nothing changes."""
    with transaction.atomic():
        found = AdtNotification.objects.select_for_update().filter(pk=notification_id).first()
        if found is None:
            raise NotFound(f"no ADT notification {notification_id}")
        if is_practice_scoped(actor):
            if actor.practice_id is None or found.pcp_practice_id != actor.practice_id:
                raise PermissionDenied("the notification is for another practice")
            require(actor, Perm.VIEW_MEMBERS)
        elif not has_perm(actor, Perm.EDIT_CLINICAL):
            raise PermissionDenied(f"role {actor.role!r} lacks {Perm.EDIT_CLINICAL.value!r}")
        if found.status == AdtNotification.Status.ACKNOWLEDGED:
            raise ValidationFailed.single(
                "status", f"already acknowledged on {found.acknowledged_at:%Y-%m-%d %H:%M}"
            )
        found.status = AdtNotification.Status.ACKNOWLEDGED
        found.acknowledged_by_id = int(str(actor.pk))
        found.acknowledged_at = now or timezone.now()
        found.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit.record_write(actor, "clinical.adt.acknowledge", found, before={"status": "new"},
                           after={"status": found.status}, member_ids=[found.member_id])  # fmt: skip
    return found
