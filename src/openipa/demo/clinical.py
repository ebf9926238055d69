"""The demo's clinical data (issue 8): five senders registered, their files written under
``var/demo/clinical/`` and imported through :func:`openipa.clinical.services.import_clinical`, as real files are.

- ``sunrise-ehr``: the EHR of half the connected practices (by code, up to :data:`MAX_EHR_PATIENTS` members
  in all), sending a FHIR R4 bulk export;
- ``valley-ehr``: the other half's EHR, sending the clinical CSV layout;
- ``regional-lab``: HL7 v2 ORU^R01 results (HbA1c, eGFR, urine albumin/creatinine ratio);
- ``foothill-hie``: the hospitals' HL7 v2 ADT feed of the last five weeks (admissions, discharges, ED visits),
  which raises the ADT notifications; those more than ten days old are acknowledged by the practice's user;
- ``sunrise-pbm``: the pharmacy claims CSV.

What the files hold is :mod:`openipa.demo.engine.clinical` (rates chosen so the quality measures show realistic
gaps; a few patients planted for the matching review queue, a few who are no members; fills and labs without a
diagnosis behind them for the risk suspects). Deterministic from the seed and "today".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from openipa.accounts.models import User
from openipa.clinical import services
from openipa.clinical.models import (
    AdtNotification,
    ClinicalImport,
    ClinicalRecord,
    ClinicalSource,
    PharmacyFill,
    SourcePatient,
)
from openipa.core.roles import Role
from openipa.demo.engine import clinical as engine
from openipa.membership.models import Member, PcpAssignment
from openipa.utilization import selectors as um

ProgressFn = Callable[[str, int, int], None]
STAGE = "Clinical data"
MAX_EHR_PATIENTS = 4000
"""Members of the practices connected to the two EHR feeds (the others' care is in no file but the ADT feed):
bounds the stage's time on a large demo."""
ACKNOWLEDGED_AFTER_DAYS = 10
"""ADT notifications older than this are acknowledged by the practice (the newer ones stay new)."""

SOURCES: tuple[tuple[str, str, str, str, bool], ...] = (
    # code, name, kind, format, accepted for risk adjustment
    ("sunrise-ehr", "Sunrise Health hosted EHR (FHIR bulk export)", "ehr", "fhir-ndjson", True),
    ("valley-ehr", "Valley Practice EHR (clinical CSV)", "ehr", "csv", True),
    ("regional-lab", "San Gabriel Regional Laboratory (HL7 ORU)", "lab", "hl7v2", False),
    ("foothill-hie", "Foothill Hospitals HIE (HL7 ADT)", "hie", "hl7v2", True),
    ("sunrise-pbm", "Sunrise Pharmacy Benefits (pharmacy claims)", "pharmacy", "pharmacy-csv", False),
)


@dataclass(frozen=True)
class ClinicalSummary:
    sources: int = 0
    files: int = 0
    records: int = 0
    patients_linked: int = 0
    patients_review: int = 0
    patients_unmatched: int = 0
    pharmacy_fills: int = 0
    adt_notifications: int = 0
    adt_new: int = 0
    measurement_year: int = 0


def demo_now(today: dt.date) -> dt.datetime:
    """The wall clock, but not past 17:00 on ``today`` (as the utilization demo's)."""
    end = dt.datetime.combine(today, dt.time(17, 0), tzinfo=um.ipa_zone())
    return min(timezone.now().astimezone(um.ipa_zone()), end).replace(second=0, microsecond=0)


def _people(today: dt.date) -> list[engine.Person]:
    """The members, each with the EHR group of their PCP practice on ``today`` (alternate practices by code)."""
    in_force = Q(valid_from__lte=today) & (Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    pcp: dict[int, tuple[str, str]] = {}
    for member_id, code, npi in (
        PcpAssignment.objects.filter(in_force)
        .order_by("member_id", "valid_from", "pk")
        .values_list("member_id", "practice__code", "provider__npi")
    ):
        pcp[member_id] = (code, npi)
    panels = Counter(code for code, _ in pcp.values())
    groups: dict[str, str] = {}
    covered = 0
    for code in sorted(panels):  # the practices connected to an EHR feed, up to MAX_EHR_PATIENTS members
        if covered + panels[code] > MAX_EHR_PATIENTS:
            continue
        groups[code] = ("fhir", "csv")[len(groups) % 2]
        covered += panels[code]
    people = []
    for row in Member.objects.order_by("pk").values_list(
        "pk", "payer_member_id", "mbi", "first_name", "last_name", "date_of_birth", "sex", "address_line1", "city",
        "zip_code", "phone", "date_of_death",
    ):  # fmt: skip
        pk, payer_member_id, mbi, first, last, born, sex, address, city, zip_code, phone, died = row
        if died is not None and died < today - dt.timedelta(days=365):
            continue
        code, npi = pcp.get(pk, ("", ""))
        people.append(engine.Person(pk, payer_member_id, mbi or "", first, last, born, sex, address or "", city or "",
                                    zip_code or "", phone or "", groups.get(code, ""), npi))  # fmt: skip
    return people


def _write(folder: Path, files: engine.ClinicalFiles) -> dict[str, Path]:
    """Each source's file (or directory, for the FHIR export) under ``folder``."""
    out: dict[str, Path] = {}
    fhir = folder / "sunrise-ehr"
    fhir.mkdir(parents=True, exist_ok=True)
    for name, text in files.fhir.items():
        (fhir / name).write_text(text, encoding="utf-8")
    out["sunrise-ehr"] = fhir
    for code, name, text in (
        ("valley-ehr", "valley-ehr-export.csv", files.csv),
        ("regional-lab", "regional-lab-results.hl7", files.oru),
        ("foothill-hie", "foothill-adt.hl7", files.adt),
        ("sunrise-pbm", "sunrise-pbm-fills.csv", files.pharmacy),
    ):
        path = folder / name
        path.write_bytes(text.encode("utf-8"))
        out[code] = path
    return out


def build_clinical(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> ClinicalSummary:
    """Register the senders, write their files and import them (see the module docstring)."""
    now = demo_now(today)
    today = now.date()
    steps = len(SOURCES) + 3
    if progress is not None:
        progress(STAGE, 0, steps)
    people = _people(today)
    files = engine.generate(people, seed=seed, today=today)
    paths = _write(Path(settings.VAR_DIR) / "demo" / "clinical", files)
    if progress is not None:
        progress(STAGE, 1, steps)
    for code, name, kind, fmt, for_risk in SOURCES:
        if not ClinicalSource.objects.filter(code=code).exists():
            services.register_source(actor=None, code=code, name=name, kind=kind, default_format=fmt,
                                     accepted_for_risk=for_risk)  # fmt: skip
    if progress is not None:
        progress(STAGE, 2, steps)
    for done, (code, *_rest) in enumerate(SOURCES, start=3):
        services.import_clinical(actor=None, path=paths[code], source_code=code, imported_by="demo", now=now)
        if progress is not None:
            progress(STAGE, done, steps)
    _acknowledge_older(now)
    if progress is not None:
        progress(STAGE, steps, steps)
    return summarize(engine.measurement_year(today))


def _acknowledge_older(now: dt.datetime) -> None:
    """The practices have acknowledged the notifications older than :data:`ACKNOWLEDGED_AFTER_DAYS` (through the
    service, as their user would; one without a practice user, or a PCP, by the operations user)."""
    users = {u.practice_id: u for u in User.objects.filter(role=Role.PRACTICE_USER).order_by("username")}
    staff = User.objects.filter(role=Role.OPERATIONS).order_by("username").first()
    cutoff = now.date() - dt.timedelta(days=ACKNOWLEDGED_AFTER_DAYS)
    for n in AdtNotification.objects.filter(
        status=AdtNotification.Status.NEW, event_date__lt=cutoff
    ).order_by("pk"):
        actor = users.get(n.pcp_practice_id) or staff
        if actor is not None:
            when = dt.datetime.combine(
                n.event_date + dt.timedelta(days=1), dt.time(9, 30), tzinfo=um.ipa_zone()
            )
            services.acknowledge_notification(actor=actor, notification_id=n.pk, now=min(when, now))


def summarize(year: int = 0) -> ClinicalSummary:
    """Counts of what the demo's senders loaded."""
    states = dict(SourcePatient.objects.values_list("match").order_by().annotate(n=Count("pk")))
    return ClinicalSummary(
        sources=ClinicalSource.objects.count(),
        files=ClinicalImport.objects.count(),
        records=ClinicalRecord.objects.count(),
        patients_linked=states.get("linked", 0),
        patients_review=states.get("review", 0),
        patients_unmatched=states.get("unmatched", 0),
        pharmacy_fills=PharmacyFill.objects.count(),
        adt_notifications=AdtNotification.objects.count(),
        adt_new=AdtNotification.objects.filter(status=AdtNotification.Status.NEW).count(),
        measurement_year=year,
    )
