"""Shared savings: contract terms (effective-dated, versioned), distribution formulas, frozen snapshots,
settlement runs with each practice's share, and forecasts.

A snapshot stores what it read (counts, totals, per practice and per month, the ids of the quality run, the
risk run and the IBNR estimate, and a hash of its member-level input), so settling it again gives the same
answer whatever has changed in the database since. A run goes draft -> approved (by another finance user;
then immutable) -> paid; a correction is a new run.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from openipa.core.models import EffectiveDated


class SavingsTerm(EffectiveDated):
    """One version of a contract's shared savings terms (payer deal or MSSP-style)."""

    class Kind(models.TextChoices):
        PAYER = "payer", "Payer deal"
        MSSP = "mssp", "MSSP-style"

    class Basis(models.TextChoices):
        PMPM = "pmpm", "PMPM benchmark"
        BENEFICIARY_YEAR = "beneficiary_year", "Per assigned beneficiary-year"
        TARGET_MLR = "target_mlr", "Target MLR against revenue"

    class MsrSource(models.TextChoices):
        FIXED = "fixed", "Fixed percent"
        TABLE = "table", "Table by assigned beneficiaries"

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=200)
    line_of_business = models.CharField(
        max_length=32, blank=True, help_text="Only members in products of this line of business; empty: all."
    )
    benchmark_basis = models.CharField(max_length=20, choices=Basis.choices)
    benchmark_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    target_mlr_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    msr_source = models.CharField(max_length=8, choices=MsrSource.choices, default=MsrSource.FIXED)
    msr_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    msr_table = models.CharField(
        max_length=40, blank=True, help_text="The MSR table's name (data/mssp.json)."
    )
    first_dollar = models.BooleanField(
        default=True, help_text="Share from the first dollar once past the corridor (else only above it)."
    )
    sharing_percent = models.DecimalField(max_digits=6, decimal_places=3)
    track = models.CharField(max_length=16, blank=True, help_text="MSSP track (BASIC_A..E, ENHANCED).")
    quality_min_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    quality_scale = models.JSONField(
        default=list,
        blank=True,
        help_text='Sliding scale: [["60.00", "50"], ["80.00", "100"]] (score, percent).',
    )
    quality_standard = models.CharField(
        max_length=200, blank=True, help_text="The quality standard as written."
    )
    savings_cap_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    two_sided = models.BooleanField(default=False)
    mlr_percent = models.DecimalField(
        "minimum loss rate percent", max_digits=6, decimal_places=3, default=Decimal(0)
    )
    loss_sharing_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    loss_cap_percent = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, help_text="Loss cap, percent of the benchmark."
    )
    loss_cap_revenue_percent = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True,
        help_text="Loss cap, percent of ACO participant revenue (MSSP BASIC C-E), at most the benchmark cap.",
    )  # fmt: skip
    loss_sharing_floor_percent = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True,
        help_text="With a ceiling: loss sharing = 100% - final sharing rate, within floor..ceiling (ENHANCED).",
    )  # fmt: skip
    loss_sharing_ceiling_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    risk_adjust = models.BooleanField(default=False)
    reference_raf = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1.000"))
    ibnr_completion = models.BooleanField(
        default=True, help_text="Complete the paid claims with the latest approved IBNR estimate's factors."
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract_id", "-valid_from", "-version"]
        constraints = [models.UniqueConstraint(fields=["contract", "version"], name="savings_term_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class DistributionFormula(EffectiveDated):
    """How earned savings reach practices: off-the-top reserve and fee, then pools by key (data, versioned)."""

    name = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    reserve_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    admin_fee_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    pools = models.JSONField(help_text='[{"key": "member_months", "percent": "50"}, ...] summing to 100.')
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="savings_formula_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Snapshot(models.Model):
    """What a settlement reads, frozen at a cut-off: attribution, costs, revenue, quality and risk."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(SavingsTerm, on_delete=models.PROTECT, related_name="snapshots")
    first_month = models.DateField()
    last_month = models.DateField()
    cutoff = models.DateField(help_text="Claims paid by a run dated on or before this day count.")
    quality_run = models.ForeignKey(
        "quality.QualityRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_run = models.ForeignKey(
        "risk.RiskRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ibnr_estimate = models.ForeignKey(
        "claims.IbnrEstimate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    members = models.PositiveIntegerField()
    member_months = models.PositiveIntegerField()
    paid_cents = models.BigIntegerField()
    cost_cents = models.BigIntegerField(help_text="Paid, completed for IBNR where the terms say so.")
    revenue_cents = models.BigIntegerField(default=0)
    quality_numerator = models.PositiveIntegerField(default=0)
    quality_denominator = models.PositiveIntegerField(default=0)
    mean_raf_milli = models.IntegerField(null=True, blank=True)
    practices = models.JSONField(help_text="Per practice: member-months, members, paid, cost, quality, RAF.")
    months = models.JSONField(help_text="Per month: member-months, paid, completion factor, cost.")
    inputs = models.JSONField(
        default=dict, help_text="Sources read, notes, and the member-level input's hash."
    )
    content_sha256 = models.CharField(max_length=64)
    taken_by = models.CharField(max_length=150)
    taken_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return (
            f"snapshot {self.pk} ({self.first_month:%Y-%m}..{self.last_month:%Y-%m}, cut-off {self.cutoff})"
        )


class SettlementRun(models.Model):
    """A settlement of a snapshot under its term, distributed by a formula; draft -> approved -> paid."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"

    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="runs")
    formula = models.ForeignKey(
        DistributionFormula, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    benchmark_cents = models.BigIntegerField()
    cost_cents = models.BigIntegerField()
    savings_cents = models.BigIntegerField()
    shared_cents = models.BigIntegerField(help_text="Positive: earned from the payer; negative: owed to it.")
    reserve_cents = models.BigIntegerField(default=0)
    admin_fee_cents = models.BigIntegerField(default=0)
    distributable_cents = models.BigIntegerField(default=0)
    result = models.JSONField(help_text="The settlement's flags and every step of the working.")
    distribution = models.JSONField(default=dict, help_text="Pools, their amounts and fallbacks.")
    supersedes = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_date = models.DateField(null=True, blank=True)
    payment_file = models.CharField(max_length=255, blank=True)
    payment_stored_path = models.CharField(max_length=500, blank=True)
    payment_sha256 = models.CharField(max_length=64, blank=True)
    payment_total_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-prepared_at", "-id"]

    def __str__(self) -> str:
        return f"settlement run {self.pk} ({self.get_status_display()})"


class PracticeShare(models.Model):
    """One practice's keys and share of a run's distribution."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        HELD = "held", "Held (no bank details)"

    run = models.ForeignKey(SettlementRun, on_delete=models.CASCADE, related_name="shares")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    member_months = models.PositiveIntegerField()
    cost_cents = models.BigIntegerField()
    quality_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    efficiency_weight = models.BigIntegerField(default=0)
    pools = models.JSONField(help_text="Cents per pool key.")
    total_cents = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    trace_number = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["run_id", "practice_id"]
        constraints = [models.UniqueConstraint(fields=["run", "practice"], name="savings_share_once")]

    def __str__(self) -> str:
        return f"run {self.run_id} practice {self.practice_id}: {self.total_cents}"


class Forecast(models.Model):
    """A year-end projection of a term's settlement as of a day, with its bootstrap interval."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey(SavingsTerm, on_delete=models.PROTECT, related_name="forecasts")
    first_month = models.DateField()
    last_month = models.DateField()
    as_of = models.DateField()
    samples = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    result = models.JSONField(help_text="Point settlement, interval, probabilities, histogram and inputs.")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"forecast {self.pk} as of {self.as_of}"
