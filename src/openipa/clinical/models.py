"""Clinical data from the member practices' EHRs, labs and HIEs, matched to members (issue 8).

A registered :class:`ClinicalSource` sends files (FHIR R4 bulk NDJSON, HL7 v2, the clinical CSV layout). Each
file is a :class:`ClinicalImport`, kept as received with its hash and its issues. The patients it names are
:class:`SourcePatient` rows (the source's key and demographics), each linked to a member, waiting in the review
queue, or unmatched (the matching engine decides: `clinical.engine.matching`). The facts are
:class:`ClinicalRecord` rows (one coded fact: a condition, observation, procedure, immunization, encounter or
report), carrying the member once their patient is linked. An HL7 ADT admission, discharge or ED visit of a
linked patient raises an :class:`AdtNotification` for the member's PCP practice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ClinicalSource(models.Model):
    """A sender of clinical data, registered before its first file."""

    class Kind(models.TextChoices):
        EHR = "ehr", "Practice EHR"
        LAB = "lab", "Laboratory"
        HIE = "hie", "Health information exchange"
        HOSPITAL = "hospital", "Hospital (ADT)"
        PHARMACY = "pharmacy", "Pharmacy claims (PBM or plan)"

    class Format(models.TextChoices):
        FHIR = "fhir-ndjson", "FHIR R4 bulk NDJSON"
        HL7 = "hl7v2", "HL7 v2"
        CSV = "csv", "Clinical CSV"
        PHARMACY = "pharmacy-csv", "Pharmacy claims CSV (NCPDP-style)"

    code = models.SlugField(max_length=40, unique=True, help_text="The name given to --source.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="clinical_sources",
        help_text="The practice whose EHR this is (empty for labs and HIEs).",
    )  # fmt: skip
    default_format = models.CharField(max_length=14, choices=Format.choices)
    accepted_for_risk = models.BooleanField(
        default=True, help_text="Its diagnoses count for risk adjustment (a face-to-face source)."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class ClinicalImport(models.Model):
    """One file from a source: applied (its good records loaded) or rejected whole (nothing loaded)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"

    source = models.ForeignKey(ClinicalSource, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=300)
    stored_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=14, choices=ClinicalSource.Format.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True, help_text="Why the whole file was refused.")
    patients = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    linked = models.PositiveIntegerField(default=0)
    review = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    issues = models.JSONField(default=list, blank=True, help_text="The first issues (all are counted).")
    imported_at = models.DateTimeField()
    imported_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source.code} {self.file_name} ({self.status})"


class SourcePatient(models.Model):
    """A patient as one source knows them, and which member they are."""

    class Match(models.TextChoices):
        LINKED = "linked", "Linked"
        REVIEW = "review", "Needs review"
        UNMATCHED = "unmatched", "Unmatched"
        REJECTED = "rejected", "Not a member (reviewed)"

    source = models.ForeignKey(ClinicalSource, on_delete=models.PROTECT, related_name="patients")
    source_patient_id = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    identifiers = models.JSONField(default=list, blank=True, help_text="[{system, value, type}] as sent.")
    member = models.ForeignKey(
        "membership.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="source_patients"
    )
    match = models.CharField(max_length=10, choices=Match.choices, db_index=True)
    match_method = models.CharField(max_length=12, blank=True)
    match_reason = models.CharField(max_length=60, blank=True)
    match_score = models.IntegerField(null=True, blank=True, help_text="Hundredths of a bit.")
    agreement = models.JSONField(default=dict, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    last_import = models.ForeignKey(ClinicalImport, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["source", "source_patient_id"]
        unique_together = [("source", "source_patient_id")]

    def __str__(self) -> str:
        return f"{self.source.code}:{self.source_patient_id} {self.last_name}, {self.first_name}"


class ClinicalRecord(models.Model):
    """One coded clinical fact as a source sent it (its primary code; the others in `codes`)."""

    source = models.ForeignKey(ClinicalSource, on_delete=models.PROTECT, related_name="+")
    clinical_import = models.ForeignKey(
        ClinicalImport, on_delete=models.PROTECT, related_name="clinical_records"
    )
    patient = models.ForeignKey(SourcePatient, on_delete=models.PROTECT, related_name="clinical_records")
    member = models.ForeignKey(
        "membership.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="clinical_records"
    )
    kind = models.CharField(max_length=14)
    record_id = models.CharField(max_length=120)
    code_system = models.CharField(max_length=40)
    code = models.CharField(max_length=40)
    codes = models.JSONField(default=list, blank=True, help_text="Every coding sent: [[system, code], ...].")
    date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=30, blank=True)
    category = models.CharField(max_length=40, blank=True)
    value = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    comparator = models.CharField(max_length=2, blank=True)
    value_text = models.CharField(max_length=200, blank=True)
    event = models.CharField(
        max_length=4, blank=True, help_text="HL7 ADT trigger (A01 admit, A03 discharge)."
    )
    disposition = models.CharField(max_length=20, blank=True)
    location = models.CharField(max_length=120, blank=True, help_text="Where (an ADT's facility).")
    time = models.DateTimeField(null=True, blank=True, help_text="The start's timestamp, when sent.")
    end_time = models.DateTimeField(null=True, blank=True, help_text="The end's timestamp, when sent.")
    recorded = models.DateField(null=True, blank=True, help_text="When recorded (an ADT's EVN-2).")
    performer = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["patient", "date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "record_id"], name="clinical_record_unique"),
        ]
        indexes = [
            models.Index(fields=["member", "kind", "date"]),
            models.Index(fields=["code_system", "code"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code_system}:{self.code} {self.date}"


class PharmacyFill(models.Model):
    """One pharmacy claim (a fill, or the reversal of one) as a PBM or plan sent it, with the member it is for
    when the member id names exactly one member. Measures and suspecting read paid fills not reversed."""

    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        REVERSED = "reversed", "Reversed"

    source = models.ForeignKey(ClinicalSource, on_delete=models.PROTECT, related_name="+")
    clinical_import = models.ForeignKey(
        ClinicalImport, on_delete=models.PROTECT, related_name="pharmacy_fills"
    )
    member = models.ForeignKey(
        "membership.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="pharmacy_fills"
    )
    member_key = models.CharField(max_length=40, help_text="The member id as sent.")
    claim_id = models.CharField(max_length=60)
    status = models.CharField(max_length=8, choices=Status.choices)
    ndc = models.CharField(max_length=11)
    drug_name = models.CharField(max_length=200, blank=True)
    fill_date = models.DateField()
    days_supply = models.PositiveIntegerField()
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    prescriber_npi = models.CharField(max_length=10, blank=True)
    pharmacy_npi = models.CharField(max_length=10)
    paid_cents = models.BigIntegerField()

    class Meta:
        ordering = ["member", "fill_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "claim_id", "status"], name="pharmacy_fill_unique"),
        ]
        indexes = [models.Index(fields=["member", "fill_date"])]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.ndc} {self.fill_date} ({self.status})"


class AdtNotification(models.Model):
    """An admission, discharge or ED visit a hospital or HIE reported (HL7 ADT) for a member, for the member's
    PCP practice to act on (a follow-up visit due by a day the rules file gives). One per visit and event: a
    re-sent message or an A08 update changes it, never duplicates it."""

    class Event(models.TextChoices):
        ADMIT = "A01", "Admission"
        DISCHARGE = "A03", "Discharge"
        REGISTER = "A04", "ED visit"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    source = models.ForeignKey(ClinicalSource, on_delete=models.PROTECT, related_name="+")
    clinical_import = models.ForeignKey(
        ClinicalImport, on_delete=models.PROTECT, related_name="adt_notifications",
        help_text="The file that raised or last updated it.",
    )  # fmt: skip
    record = models.ForeignKey(
        ClinicalRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The visit's encounter record (re-pointed when the source re-sends the visit).",
    )  # fmt: skip
    patient = models.ForeignKey(SourcePatient, on_delete=models.PROTECT, related_name="adt_notifications")
    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="adt_notifications"
    )
    visit_id = models.CharField(
        max_length=120, help_text="PV1-19 visit number (else the message control id)."
    )
    event = models.CharField(max_length=4, choices=Event.choices)
    label = models.CharField(max_length=60, help_text="The rule's label (Admission, Inpatient discharge...).")
    patient_class = models.CharField(
        max_length=10, help_text="PV1-2: I inpatient, E emergency, O outpatient..."
    )
    facility = models.CharField(max_length=120, blank=True)
    event_date = models.DateField(help_text="The discharge day for a discharge, else the admit day.")
    admit_date = models.DateField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    discharge_date = models.DateField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    disposition = models.CharField(max_length=20, blank=True)
    diagnosis_system = models.CharField(max_length=40, blank=True)
    diagnosis_code = models.CharField(max_length=40, blank=True)
    pcp_practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The member's PCP practice on the event's day (who is notified).",
    )  # fmt: skip
    pcp = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    follow_up_due = models.DateField(null=True, blank=True)
    follow_up_what = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    raised_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-event_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "visit_id", "event"], name="adt_notification_unique"),
        ]
        indexes = [
            models.Index(fields=["pcp_practice", "status", "event_date"]),
            models.Index(fields=["status", "event_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} {self.visit_id} {self.event_date} ({self.status})"
