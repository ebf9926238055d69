"""Members of the payers' plans, their eligibility spans and PCP assignment spans."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class Member(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        UNKNOWN = "U", "Unknown"

    # no index of its own: the unique (payer, payer_member_id) index serves lookups by payer
    payer = models.ForeignKey(
        "contracts.Payer", on_delete=models.PROTECT, related_name="members", db_index=False
    )
    payer_member_id = models.CharField(max_length=40)
    mbi = models.CharField("MBI", max_length=11, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    date_of_death = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=40, blank=True, default="English")
    # what CMS-HCC risk scores need beyond birth date and sex (openipa.risk)
    orec = models.CharField(
        "original reason for entitlement", max_length=1, default="0", db_default="0",
        choices=[("0", "0 old age"), ("1", "1 disability"), ("2", "2 ESRD"), ("3", "3 disability and ESRD")],
    )  # fmt: skip
    crec = models.CharField(
        "current reason for entitlement", max_length=1, blank=True, default="", db_default="",
        choices=[("0", "0 old age"), ("1", "1 disability"), ("2", "2 ESRD"), ("3", "3 disability and ESRD")],
        help_text="Blank: unknown. 2 or 3 (ESRD) puts the member in CMS's ESRD risk model.",
    )  # fmt: skip
    kidney_transplant_date = models.DateField(
        null=True, blank=True,
        help_text="Date of the member's latest kidney transplant (ESRD risk model: transplant and graft months).",
    )  # fmt: skip
    medicaid_dual_status = models.CharField(
        "Medicaid dual status", max_length=2, default="00", db_default="00",
        choices=[(f"{i:02d}", f"{i:02d}") for i in range(11)],
        help_text="CMS dual status code: 00 not dual; full-benefit 02, 04, 08; partial 01, 03, 05, 06.",
    )  # fmt: skip
    long_term_institutional = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Long-term institutional (90+ days in a nursing facility) for risk scores.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payer", "payer_member_id"], name="member_unique_payer_id"),
        ]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.payer_member_id})"


class EligibilitySpan(EffectiveDated):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="eligibility_spans")
    product = models.ForeignKey("contracts.Product", on_delete=models.PROTECT, related_name="+")
    source_import = models.ForeignKey(
        "RosterImport", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The roster file that last set this span (empty when entered by hand).",
    )  # fmt: skip

    class Meta:
        ordering = ["member", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="eligibility_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.product_id} {self.valid_from}..{self.valid_to or ''}"


class PcpAssignment(EffectiveDated):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="pcp_assignments")
    provider = models.ForeignKey("network.Provider", on_delete=models.PROTECT, related_name="pcp_assignments")
    # no index of its own: the (practice, valid_from) index serves lookups by practice
    practice = models.ForeignKey(
        "network.Practice", on_delete=models.PROTECT, related_name="pcp_assignments", db_index=False
    )
    source_import = models.ForeignKey(
        "RosterImport", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The roster file that last set this span (empty when entered by hand).",
    )  # fmt: skip

    class Meta:
        ordering = ["member", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="pcp_dates_ordered",
            )
        ]
        indexes = [models.Index(fields=["practice", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.member_id} -> {self.provider_id} {self.valid_from}..{self.valid_to or ''}"


class RosterProfile(models.Model):
    """How one payer's roster files are read and applied. Changed on the roster settings page (audited)."""

    class Format(models.TextChoices):
        X12 = "x12", "X12 834"
        CSV = "csv", "CSV flat file"

    payer = models.OneToOneField("contracts.Payer", on_delete=models.CASCADE, related_name="roster_profile")
    default_format = models.CharField(max_length=8, choices=Format.choices, default=Format.X12)
    full_file_terms_missing = models.BooleanField(
        "a full file terms missing members",
        default=True,
        help_text="On a full (030 audit) file, members not in the file lose coverage the day before the "
        "file's effective date.",
    )
    insurance_lines = models.CharField(
        max_length=100,
        default="HLT",
        help_text="HD03 insurance line codes the IPA is at risk for, comma-separated; other lines "
        "(dental, vision...) are ignored.",
    )
    plan_map = models.JSONField(
        default=dict,
        blank=True,
        help_text="Plan code as sent in the file (HD04, or the CSV plan column) -> product code.",
    )
    default_product = models.ForeignKey(
        "contracts.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Product for coverage lines that name no plan.",
    )
    csv_profile = models.JSONField(default=dict, blank=True, help_text="Column mapping for CSV rosters.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"roster profile of {self.payer}"

    @property
    def insurance_line_codes(self) -> list[str]:
        return [c.strip().upper() for c in self.insurance_lines.split(",") if c.strip()]


class RosterImport(models.Model):
    """One roster file received: applied, rejected or a duplicate. Never changed once written."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="roster_imports")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    format = models.CharField(max_length=8, choices=RosterProfile.Format.choices)
    stored_path = models.CharField(max_length=500, blank=True, help_text="The file as received, under var/.")
    status = models.CharField(max_length=16, choices=Status.choices)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    full_file = models.BooleanField(default=False)
    file_date = models.DateField(null=True, blank=True, help_text="The file's effective date.")
    records = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    termed = models.PositiveIntegerField(default=0)
    reinstated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    retro = models.PositiveIntegerField(
        default=0, help_text="Changes effective in a month before the file's."
    )
    outside_window = models.PositiveIntegerField(
        default=0, help_text="Retro changes further back than the contract's retro window."
    )
    warnings = models.JSONField(default=list, blank=True)
    warning_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    ack_999 = models.TextField("999 acknowledgment", blank=True)
    imported_by_id = models.BigIntegerField(null=True, blank=True)
    imported_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    seconds = models.FloatField(default=0, help_text="Wall time of the import.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["payer", "sha256"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class RosterChange(models.Model):
    """One change a roster import made to one member: the file behind every span and every edit."""

    class Kind(models.TextChoices):
        ADD = "add", "Added"
        CHANGE = "change", "Changed"
        TERM = "term", "Termed"
        REINSTATE = "reinstate", "Reinstated"

    roster_import = models.ForeignKey(RosterImport, on_delete=models.PROTECT, related_name="changes")
    # no index of its own: the (member, roster_import) index serves lookups by member
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="roster_changes", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    effective = models.DateField(help_text="The first day the member's record differs.")
    retro_months = models.PositiveSmallIntegerField(default=0)
    outside_window = models.BooleanField(default=False)
    segment = models.PositiveIntegerField(
        default=0, help_text="The INS segment (834) or line (CSV); 0 for a full file's missing member."
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["roster_import", "id"]
        indexes = [models.Index(fields=["member", "roster_import"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.member_id} from {self.effective}"
