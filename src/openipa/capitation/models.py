"""Capitation: what the payers sent (remittance files and their member-month lines), what the contracts say
they should have sent (reconciliation and its discrepancies), and how the money went out (distribution runs,
their member-month lines, pool shares and practice payments).

Amounts on the high-volume line tables are integer cents (`*_cents`, BigIntegerField): the engines compute in
cents and a run writes a line per member-month (ADR 0007). Configuration keeps Decimal (rates, percents).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class CapitationProfile(models.Model):
    """How one payer sends capitation: the default format and, for CSV files, the column mapping."""

    class Format(models.TextChoices):
        X12_820 = "x12-820", "X12 820 premium payment"
        X12_835 = "x12-835", "X12 835 with capitation in PLB"
        CSV = "csv", "CSV"

    payer = models.OneToOneField(
        "contracts.Payer", on_delete=models.CASCADE, related_name="capitation_profile"
    )
    default_format = models.CharField(max_length=8, choices=Format.choices, default=Format.X12_820)
    csv_profile = models.JSONField(
        default=dict, blank=True, help_text="Column mapping for CSV remittances (see docs/capitation.md)."
    )
    accepted_deductions = models.JSONField(
        default=dict, blank=True,
        help_text='Payer adjustment reason codes the contract allows, e.g. {"RP": "reinsurance premium"}; '
        "any other deduction is a discrepancy.",
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"capitation profile of {self.payer}"


class RemittanceImport(models.Model):
    """One capitation remittance file received: applied, rejected or a duplicate. Never changed once written."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="remittance_imports")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    format = models.CharField(max_length=8, choices=CapitationProfile.Format.choices)
    stored_path = models.CharField(max_length=500, blank=True, help_text="The file as received, under var/.")
    status = models.CharField(max_length=16, choices=Status.choices)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trace_number = models.CharField(max_length=50, blank=True, help_text="TRN02: the payment's trace number.")
    payment_date = models.DateField(null=True, blank=True)
    payment_cents = models.BigIntegerField(default=0, help_text="The payment's total (BPR02).")
    detail_cents = models.BigIntegerField(default=0, help_text="Sum of the member lines.")
    adjustment_cents = models.BigIntegerField(default=0, help_text="Sum of the payer's adjustments.")
    lines = models.PositiveIntegerField(default=0, help_text="Member-month lines written.")
    members = models.PositiveIntegerField(default=0)
    unknown_members = models.PositiveIntegerField(default=0)
    months = models.JSONField(default=list, blank=True, help_text="Coverage months the file pays (YYYY-MM).")
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


class ReceivedLine(models.Model):
    """Money received for one member-month (or, with no member, for the payer-month as a whole: a payer
    adjustment, interest, a PLB amount). A remittance line covering several months is split across them."""

    class Kind(models.TextChoices):
        CAPITATION = "capitation", "Capitation"
        ADJUSTMENT = "adjustment", "Payer adjustment"
        RETRO = "retro", "Retro-activity"
        INTEREST = "interest", "Capitation interest"

    # A line table: references are checked as a set when a file's lines are written, not by a database
    # constraint row by row (ADR 0009); PROTECT still guards deletes through the ORM.
    remittance = models.ForeignKey(
        RemittanceImport, on_delete=models.PROTECT, related_name="received", db_constraint=False
    )
    payer = models.ForeignKey(
        "contracts.Payer", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    member = models.ForeignKey(
        "membership.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    payer_member_id = models.CharField(max_length=40, blank=True, help_text="As the payer sent it.")
    month = models.DateField(help_text="First day of the coverage month paid.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CAPITATION)
    amount_cents = models.BigIntegerField()
    reason_code = models.CharField(max_length=10, blank=True)
    reference = models.CharField(max_length=50, blank=True, help_text="Rate cell or reference as sent.")
    segment = models.PositiveIntegerField(default=0, help_text="Segment (X12) or line (CSV) in the file.")

    class Meta:
        ordering = ["month", "payer_member_id", "id"]
        indexes = [models.Index(fields=["payer", "month"])]

    def __str__(self) -> str:
        return f"{self.payer_member_id or 'payer'} {self.month:%Y-%m} {self.amount_cents}"


class Discrepancy(models.Model):
    """One difference between what a contract says a payer owes for a member-month and what it paid."""

    class Category(models.TextChoices):
        PAID_NOT_ELIGIBLE = "paid_not_eligible", "Paid but not eligible"
        ELIGIBLE_NOT_PAID = "eligible_not_paid", "Eligible but not paid"
        WRONG_RATE = "wrong_rate", "Wrong rate"
        RETRO_ADD = "retro_add", "Retro add"
        RETRO_TERM = "retro_term", "Retro term"
        DUPLICATE = "duplicate_payment", "Duplicate payment"
        PAID_AFTER_DEATH = "paid_after_death", "Paid after date of death"
        DEDUCTION = "deduction_mismatch", "Payer deduction not in the contract"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISPUTED = "disputed", "Disputed"
        RESOLVED = "resolved", "Resolved"
        WRITTEN_OFF = "written_off", "Written off"

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="+", db_index=False)
    month = models.DateField(help_text="First day of the coverage month.")
    member = models.ForeignKey(
        "membership.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer_member_id = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=24, choices=Category.choices)
    expected_cents = models.BigIntegerField(default=0)
    received_cents = models.BigIntegerField(default=0)
    impact_cents = models.BigIntegerField(
        help_text="What the IPA is owed (positive) or was overpaid (negative)."
    )
    cause = models.CharField(max_length=300, blank=True, help_text="The likely cause, in words.")
    detail = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    dispute_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the dispute with the payer rests on (e.g. its ticket number).",
    )
    resolution = models.CharField(max_length=300, blank=True)
    settled_by = models.ForeignKey(
        RemittanceImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The remittance that settled it, when a later file closed it.",
    )  # fmt: skip

    class Meta:
        ordering = ["payer", "month", "category", "payer_member_id"]
        indexes = [
            models.Index(fields=["payer", "month", "status"]),
            models.Index(fields=["status", "opened_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.payer_member_id} {self.month:%Y-%m}"


class Reconciliation(models.Model):
    """The latest reconciliation of one payer-month: expected vs received and the variance by category."""

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="+", db_index=False)
    month = models.DateField()
    expected_cents = models.BigIntegerField(default=0)
    received_cents = models.BigIntegerField(default=0)
    variance_cents = models.BigIntegerField(default=0)
    by_category = models.JSONField(default=dict, blank=True)
    member_months = models.PositiveIntegerField(default=0)
    inputs = models.JSONField(
        default=dict, blank=True, help_text="Remittance ids and hashes, term versions, the eligibility date."
    )
    computed_by = models.CharField(max_length=150)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["payer", "-month"]
        constraints = [models.UniqueConstraint(fields=["payer", "month"], name="reconciliation_unique_month")]

    def __str__(self) -> str:
        return f"reconciliation {self.payer} {self.month:%Y-%m}"


class DistributionRule(EffectiveDated):
    """How a contract's capitation is shared out, as effective-dated data (one version at a time).

    The admin fee comes from each practice's participation agreement (the contract term's admin fee applies
    to member-months with no PCP); the reinsurance premium and the withhold come from the contract term.
    """

    class PcpMethod(models.TextChoices):
        FLAT = "flat", "Flat PMPM"
        AGE_SEX = "age_sex", "PMPM x age/sex factor"
        RISK = "risk_adjusted", "PMPM x risk score"

    class Split(models.TextChoices):
        EQUAL = "equal", "Equally"
        SPECIALTY_WEIGHT = "specialty_weight", "By specialty weight"
        CLAIMS_VOLUME = "claims_volume", "By claims volume"

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="distribution_rules"
    )
    pcp_method = models.CharField(max_length=16, choices=PcpMethod.choices, default=PcpMethod.FLAT)
    pcp_pmpm = models.DecimalField("PCP PMPM", max_digits=10, decimal_places=2)
    age_sex_factors = models.JSONField(
        default=list,
        blank=True,
        help_text='[[age_min, age_max, "F|M|U", "1.250"], ...] for the age/sex method.',
    )
    risk_pool_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    specialist_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    specialist_pmpm = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    specialist_split = models.CharField(max_length=20, choices=Split.choices, default=Split.EQUAL)
    specialty_weights = models.JSONField(
        default=dict, blank=True, help_text='{"Cardiology": "2.0", ...}; specialties not named weigh 1.'
    )
    quality_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["contract", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="distribution_rule_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} distribution from {self.valid_from}"


class DistributionRun(models.Model):
    """One distribution of a payer-month's capitation: draft -> approved -> paid. Approved runs never change;
    a correction is a new adjustment run."""

    class Kind(models.TextChoices):
        REGULAR = "regular", "Regular"
        ADJUSTMENT = "adjustment", "Adjustment"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REGULAR)
    adjusts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments",
        help_text="For an adjustment run: the approved run it corrects.",
    )  # fmt: skip
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    pool_cents = models.BigIntegerField(default=0)
    components = models.JSONField(default=dict, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    prepared_by = models.CharField(max_length=150)
    prepared_by_id = models.BigIntegerField(null=True, blank=True)
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "-id"]
        indexes = [models.Index(fields=["payer", "month"])]

    def __str__(self) -> str:
        return f"run {self.pk} {self.payer} {self.month:%Y-%m} ({self.get_status_display()})"

    PAYMENT_FIELDS = frozenset({"status", "paid_at", "payment_date"})
    """All an approved run may still change: becoming paid."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An approved or paid run never changes, but for being paid (``update_fields`` limited to
        PAYMENT_FIELDS, status approved -> paid); a correction is an adjustment run."""
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in (self.Status.APPROVED, self.Status.PAID):
                fields = set(kwargs.get("update_fields") or ())
                if not fields or not fields <= self.PAYMENT_FIELDS or stored == self.Status.PAID:
                    raise ValueError(f"run {self.pk} is {stored}: it cannot change (make an adjustment run)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != self.Status.DRAFT:
            raise ValueError(f"run {self.pk} is {self.status}: it cannot be deleted")
        return super().delete(*args, **kwargs)


class DistributionLine(models.Model):
    """One member-month of a run: where each cent of its share of the pool went, and the rule and contract
    term version that priced it. An adjustment run's lines are the differences (negative: recoupments)."""

    # A line table: references are checked as a set when a run's lines are written, not by a database
    # constraint row by row (ADR 0009); PROTECT still guards deletes through the ORM. The (run, practice) index
    # serves lookups by run.
    run = models.ForeignKey(
        DistributionRun, on_delete=models.PROTECT, related_name="lines", db_index=False, db_constraint=False
    )
    member = models.ForeignKey(
        "membership.Member", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    month = models.DateField()
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    product_id = models.BigIntegerField(null=True, blank=True)
    term_id = models.BigIntegerField(null=True, blank=True, help_text="The contract term version.")
    rule_id = models.BigIntegerField(null=True, blank=True, help_text="The distribution rule version.")
    rate_cell_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=40, blank=True, help_text="For adjustment lines: retro add, ...")
    share_cents = models.BigIntegerField(default=0)
    admin_fee_cents = models.BigIntegerField(default=0)
    reinsurance_cents = models.BigIntegerField(default=0)
    risk_pool_cents = models.BigIntegerField(default=0)
    pcp_gross_cents = models.BigIntegerField(default=0)
    withhold_cents = models.BigIntegerField(default=0)
    pcp_net_cents = models.BigIntegerField(default=0)
    specialist_cents = models.BigIntegerField(default=0)
    quality_cents = models.BigIntegerField(default=0)
    quality_share_cents = models.BigIntegerField(default=0)
    retained_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["run", "member", "month"]
        indexes = [models.Index(fields=["run", "practice"])]

    def __str__(self) -> str:
        return f"run {self.run_id} member {self.member_id} {self.month:%Y-%m}"


class PoolShare(models.Model):
    """A practice's share of a run's specialist or quality pool, and the weight that gave it."""

    class Pool(models.TextChoices):
        SPECIALIST = "specialist", "Specialist sub-capitation"
        QUALITY = "quality", "Quality incentive"

    run = models.ForeignKey(DistributionRun, on_delete=models.PROTECT, related_name="pool_shares")
    pool = models.CharField(max_length=16, choices=Pool.choices)
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    weight = models.CharField(max_length=40, help_text="The weight as a number, e.g. member-months.")
    basis = models.CharField(max_length=200)
    cents = models.BigIntegerField()

    class Meta:
        ordering = ["run", "pool", "practice"]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.pool} pool: practice {self.practice_id} {self.cents}"


class PracticePayment(models.Model):
    """What one run pays one practice, and what became of the payment."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent (NACHA file written)"
        HELD = "held", "Held (no bank details)"
        NETTED = "netted", "Netted against a later payment"

    run = models.ForeignKey(DistributionRun, on_delete=models.PROTECT, related_name="payments")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    pcp_gross_cents = models.BigIntegerField(default=0)
    withhold_cents = models.BigIntegerField(default=0)
    pcp_net_cents = models.BigIntegerField(default=0)
    quality_cents = models.BigIntegerField(default=0)
    specialist_cents = models.BigIntegerField(default=0)
    adjustment_cents = models.BigIntegerField(
        default=0, help_text="Recoupments and retro amounts of earlier adjustment runs netted here."
    )
    net_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    trace_number = models.CharField(max_length=15, blank=True)
    netted_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="A negative net carried to the practice's next payment.",
    )  # fmt: skip

    class Meta:
        ordering = ["run", "practice"]
        constraints = [models.UniqueConstraint(fields=["run", "practice"], name="payment_unique_practice")]

    def __str__(self) -> str:
        return f"run {self.run_id} practice {self.practice_id}: {self.net_cents}"


class PaymentFile(models.Model):
    """A NACHA file written for a run's payments."""

    run = models.ForeignKey(DistributionRun, on_delete=models.PROTECT, related_name="payment_files")
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    entries = models.PositiveIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=10)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name
