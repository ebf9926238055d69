"""Incentive formulas (effective-dated, versioned per contract and kind) and their settlement runs.

A run is draft -> approved (by a second finance user) -> paid; an approved or paid run never changes but for
being paid, and a correction is a new run that names the run it corrects and posts the difference (ADR 0021).
Amounts are integer cents.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from openipa.core.models import EffectiveDated


class Kind(models.TextChoices):
    QUALITY = "quality", "Quality incentive pool"
    WITHHOLD = "withhold", "Withhold return"
    RISK_POOL = "risk_pool", "Risk-pool surplus or deficit"


class IncentiveFormula(EffectiveDated):
    """One version of a contract's formula for one kind of settlement. Its parameters are checked by
    ``engine.parse_params`` when saved through the service; versions of one (contract, kind) never overlap."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    params = models.JSONField(help_text="The formula's fields (docs/incentives.md).")
    notes = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "kind", "-valid_from"]
        indexes = [models.Index(fields=["contract", "kind", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()}, from {self.valid_from})"


class SettlementRun(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=8, help_text="2026 or 2026Q3.")
    period_start = models.DateField()
    period_end = models.DateField()
    formula = models.ForeignKey(IncentiveFormula, on_delete=models.PROTECT, related_name="runs")
    formula_params = models.JSONField(help_text="The formula's parameters as they were when prepared.")
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections",
        help_text="For a correction: the approved run it corrects; it posts and pays the difference.",
    )  # fmt: skip
    quality_run_id = models.BigIntegerField(null=True, blank=True)
    capitation_run_ids = models.JSONField(default=list, blank=True)
    snapshot_at = models.DateTimeField(help_text="When the inputs were read.")
    inputs = models.JSONField(default=dict, blank=True, help_text="Sources, targets, notes.")
    release_cents = models.BigIntegerField(default=0)
    paid_cents = models.BigIntegerField(default=0, help_text="Owed to practices (the settlement's total).")
    charged_cents = models.BigIntegerField(default=0, help_text="Charged to practices (risk-pool deficit).")
    kept_cents = models.BigIntegerField(default=0, help_text="Kept by the IPA.")
    pool_kept_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["contract", "kind", "period"])]

    def __str__(self) -> str:
        return f"settlement {self.pk}: {self.get_kind_display()} {self.period} ({self.get_status_display()})"

    PAYMENT_FIELDS = frozenset({"status", "paid_at", "payment_date"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Approved and paid runs never change, but for an approved one becoming paid."""
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in (self.Status.APPROVED, self.Status.PAID):
                fields = set(kwargs.get("update_fields") or ())
                if not fields or not fields <= self.PAYMENT_FIELDS or stored == self.Status.PAID:
                    raise ValueError(
                        f"settlement {self.pk} is {stored}: it cannot change (prepare a correction)"
                    )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != self.Status.DRAFT:
            raise ValueError(f"settlement {self.pk} is {self.status}: it cannot be deleted")
        return super().delete(*args, **kwargs)


class SettlementLine(models.Model):
    """One practice in a run: every input, the arithmetic's values and the amount (for a correction, the
    full recomputed amount and what the corrected run had)."""

    class PayStatus(models.TextChoices):
        NONE = "none", "Nothing to pay"
        PENDING = "pending", "To pay"
        SENT = "sent", "Sent"
        HELD = "held", "Held (no bank details)"

    run = models.ForeignKey(SettlementRun, on_delete=models.CASCADE, related_name="lines")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    member_months = models.IntegerField(default=0)
    score_milli = models.IntegerField(null=True, blank=True, help_text="Quality score x 1000 (points).")
    qualifies = models.BooleanField(default=False)
    tier = models.CharField(max_length=40, blank=True)
    percent = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    base_cents = models.BigIntegerField(default=0)
    weight = models.BigIntegerField(default=0)
    withheld_cents = models.BigIntegerField(default=0)
    funded_cents = models.BigIntegerField(default=0)
    cost_cents = models.BigIntegerField(default=0)
    capitation_cents = models.BigIntegerField(default=0)
    cap_cents = models.BigIntegerField(null=True, blank=True)
    cap_applied = models.BooleanField(default=False)
    amount_cents = models.BigIntegerField(default=0, help_text="> 0 owed to the practice, < 0 charged to it.")
    kept_cents = models.BigIntegerField(default=0)
    previous_amount_cents = models.BigIntegerField(default=0)
    previous_kept_cents = models.BigIntegerField(default=0)
    measures = models.JSONField(default=list, blank=True, help_text="The score's arithmetic per measure.")
    pay_status = models.CharField(max_length=8, choices=PayStatus.choices, default=PayStatus.NONE)
    trace_number = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["run", "practice__code"]
        constraints = [models.UniqueConstraint(fields=["run", "practice"], name="incentives_line_once")]

    def __str__(self) -> str:
        return f"settlement {self.run_id} practice {self.practice_id}: {self.amount_cents}"

    PAYMENT_FIELDS = frozenset({"pay_status", "trace_number"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A line of an approved or paid run changes only in its payment (status and trace)."""
        if self.pk is not None:
            status = SettlementRun.objects.filter(pk=self.run_id).values_list("status", flat=True).first()
            fields = set(kwargs.get("update_fields") or ())
            if status != SettlementRun.Status.DRAFT and (not fields or not fields <= self.PAYMENT_FIELDS):
                raise ValueError(f"settlement {self.run_id} is {status}: its lines cannot change")
        super().save(*args, **kwargs)

    @property
    def difference_cents(self) -> int:
        return self.amount_cents - self.previous_amount_cents


class SettlementPaymentFile(models.Model):
    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="payment_files")
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    entries = models.PositiveIntegerField()
    total_cents = models.BigIntegerField()
    entry_hash = models.CharField(max_length=10)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"payment file {self.pk} of settlement {self.run_id}"
