"""Running the association: membership-fee terms, invoice runs, invoices and their lines, payments received
from practices and how they were applied; health-improvement programs and their participating practices.

Amounts are integer cents (`*_cents`); percents are Decimal. Issued invoices never change (a correction is a
credit note: a new invoice with negative lines that names the original). Approved runs never change either.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class FeeTerm(EffectiveDated):
    """What a practice pays the IPA for membership, under one participation agreement, over a span of dates.

    Not the agreement's `admin_fee_percent`/`admin_fee_pmpm`: those are withheld from capitation by the
    distribution runs. This fee is invoiced to the practice each month (docs/membership-fees.md).
    """

    class Method(models.TextChoices):
        FLAT_MONTHLY = "flat_monthly", "Flat monthly fee"
        PERCENT_OF_REVENUE = "percent_of_revenue", "Percent of revenue through the IPA"

    agreement = models.ForeignKey(
        "network.ParticipationAgreement", on_delete=models.PROTECT, related_name="fee_terms"
    )
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="fee_terms")
    method = models.CharField(max_length=24, choices=Method.choices)
    amount_cents = models.BigIntegerField(default=0, help_text="The flat monthly fee.")
    percent = models.DecimalField(max_digits=7, decimal_places=4, default=0, help_text="Percent of revenue.")
    minimum_cents = models.BigIntegerField(null=True, blank=True, help_text="Least fee for a month.")
    maximum_cents = models.BigIntegerField(null=True, blank=True, help_text="Most fee for a month.")
    payment_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days from the invoice to its due date."
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="feeterm_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gte=0), name="feeterm_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} for practice {self.practice_id} from {self.valid_from}"


class InvoiceRun(models.Model):
    """One month's membership-fee invoices (or one credit note): draft -> approved -> issued."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", "Monthly invoices"
        CREDIT_NOTE = "credit_note", "Credit note"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        ISSUED = "issued", "Issued"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MONTHLY)
    month = models.DateField(help_text="First day of the month invoiced.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    total_cents = models.BigIntegerField(default=0)
    inputs = models.JSONField(
        default=dict, blank=True, help_text="Terms, revenue sources, practices left out."
    )
    reason = models.CharField(max_length=300, blank=True)
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.CharField(max_length=150, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issue_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "-id"]

    def __str__(self) -> str:
        return f"fee run {self.pk} {self.month:%Y-%m} ({self.get_status_display()})"

    ISSUE_FIELDS = frozenset({"status", "issued_by", "issued_at", "issue_date"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An approved run changes only to be issued; an issued one never."""
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            fields = set(kwargs.get("update_fields") or ())
            if stored == self.Status.ISSUED or (
                stored == self.Status.APPROVED and not (fields and fields <= self.ISSUE_FIELDS)
            ):
                raise ValueError(f"fee run {self.pk} is {stored}: it cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != self.Status.DRAFT:
            raise ValueError(f"fee run {self.pk} is {self.status}: it cannot be deleted")
        return super().delete(*args, **kwargs)


class Invoice(models.Model):
    """One practice's membership-fee invoice for a month, or a credit note against an issued invoice."""

    run = models.ForeignKey(InvoiceRun, on_delete=models.CASCADE, related_name="invoices")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="fee_invoices")
    number = models.CharField(max_length=40, unique=True)
    month = models.DateField()
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes",
        help_text="For a credit note: the issued invoice it corrects.",
    )  # fmt: skip
    total_cents = models.BigIntegerField(default=0)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["issue_date", "month", "id"]
        indexes = [models.Index(fields=["practice", "issue_date"])]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An invoice of an issued run never changes (a correction is a credit note)."""
        if (
            self.pk is not None
            and InvoiceRun.objects.filter(pk=self.run_id, status=InvoiceRun.Status.ISSUED).exists()
        ):
            raise ValueError(f"invoice {self.number} is issued: it cannot change; issue a credit note")
        super().save(*args, **kwargs)

    @property
    def is_credit_note(self) -> bool:
        return self.credits_id is not None


class InvoiceLine(models.Model):
    """A line of an invoice: the term, the base it applies to and the arithmetic, written out."""

    class Kind(models.TextChoices):
        BASE = "base", "Revenue (base, not charged)"
        FEE = "fee", "Fee"
        CREDIT = "credit", "Credit"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    term = models.ForeignKey(FeeTerm, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    base_cents = models.BigIntegerField(null=True, blank=True)
    amount_cents = models.BigIntegerField(default=0, help_text="Charged (0 on a base line).")
    arithmetic = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position} {self.description}"


class FeePayment(models.Model):
    """Money received from a practice for its membership fees."""

    class Method(models.TextChoices):
        ACH = "ach", "ACH"
        CHECK = "check", "Check"
        WIRE = "wire", "Wire"
        CARD = "card", "Card"

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="fee_payments")
    received_on = models.DateField()
    amount_cents = models.BigIntegerField()
    method = models.CharField(max_length=8, choices=Method.choices)
    reference = models.CharField(max_length=80)
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)
    entry_id = models.BigIntegerField(null=True, blank=True, help_text="The ledger entry that posted it.")

    class Meta:
        ordering = ["received_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="feepayment_positive")]

    def __str__(self) -> str:
        return f"payment {self.pk} from practice {self.practice_id} on {self.received_on}"


class PaymentApplication(models.Model):
    """Part of a payment (or of a credit note) applied to an issued invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="applications")
    payment = models.ForeignKey(
        FeePayment, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    credit_note = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_applications"
    )
    amount_cents = models.BigIntegerField()
    applied_on = models.DateField()

    class Meta:
        ordering = ["applied_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="application_positive"),
            models.CheckConstraint(
                condition=Q(payment__isnull=False, credit_note__isnull=True)
                | Q(payment__isnull=True, credit_note__isnull=False),
                name="application_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents} to invoice {self.invoice_id}"


class Program(models.Model):
    """A health-improvement program run by a regional group of practices, aimed at one measure rate."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    initiative = models.TextField(help_text="What the practices do.")
    region = models.ForeignKey(
        "network.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group_name = models.CharField(max_length=100, blank=True, help_text="A named group, when not a region.")
    measure = models.CharField(max_length=16)
    rate = models.CharField(max_length=40)
    baseline_run = models.ForeignKey("quality.QualityRun", on_delete=models.PROTECT, related_name="+")
    baseline_numerator = models.PositiveIntegerField(default=0)
    baseline_denominator = models.PositiveIntegerField(default=0)
    target_rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="A fraction, 0.7 = 70%.")
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="program_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramParticipant(models.Model):
    """A practice taking part in a program from `joined_on` until `left_on` (inclusive; empty: still in)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="participants")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["program", "practice__code", "joined_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="participant_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"practice {self.practice_id} in program {self.program_id}"
