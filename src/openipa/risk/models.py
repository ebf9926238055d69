"""Risk runs: the CMS-HCC scores of the members of a payment year, the diagnoses behind each HCC, and the
coding gaps found with them (ADR 0016).

A :class:`RiskRun` is prepared as a draft (``openipa risk score`` or the service ``score_members``) and
approved by another user with EDIT_CLINICAL. An approved run never changes: a correction is a new run, and the
latest approved run of a payment year is the one capitation and the performance watch read.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class RiskRun(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    payment_year = models.PositiveSmallIntegerField()
    model = models.CharField(
        max_length=8,
        help_text="CMS-HCC model (V28, V24) of the run's non-ESRD members; ESRD members are scored by ESRDV24 "
        "(MemberScore.model).",
    )
    window_start = models.DateField(help_text="First day of the diagnosis window (the calendar year before).")
    window_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField()
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    members = models.PositiveIntegerField(default=0, help_text="Members scored.")
    not_scored = models.PositiveIntegerField(default=0, help_text="Covered members left out (sex unknown).")
    diagnoses = models.PositiveIntegerField(default=0, help_text="Member-diagnosis pairs read in the window.")
    mean_raf_milli = models.IntegerField(null=True, blank=True)
    mean_payment_raf_milli = models.IntegerField(null=True, blank=True)
    gaps = models.PositiveIntegerField(default=0)
    raw_only = models.BooleanField(
        default=False,
        help_text="The payment year has no payment factors on file: raw scores only, never approved for payment.",
    )
    inputs = models.JSONField(default=dict, blank=True, help_text="Coverage rule, sources, rules file.")

    class Meta:
        ordering = ["-payment_year", "-pk"]
        indexes = [models.Index(fields=["payment_year", "status"])]

    def __str__(self) -> str:
        return f"risk run {self.pk} {self.payment_year} {self.model} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An approved run never changes (a correction is a new run)."""
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.APPROVED:
                raise ValueError(f"risk run {self.pk} is approved: it cannot change (score the year again)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != self.Status.DRAFT:
            raise ValueError(f"risk run {self.pk} is {self.status}: it cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def rank_field(self) -> str:
        """The score the pages rank and chart by: the payment RAF, or the raw RAF of a raw-only run."""
        return "raf_milli" if self.raw_only else "payment_raf_milli"


class MemberScore(models.Model):
    run = models.ForeignKey(RiskRun, on_delete=models.PROTECT, related_name="scores", db_index=False)
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The PCP's practice on February 1 of the payment year (or the latest before).",
    )  # fmt: skip
    provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    age = models.PositiveSmallIntegerField()
    model = models.CharField(
        max_length=8, default="", blank=True,
        help_text="The model CMS scores this member with: ESRDV24 for ESRD members, else the run's CMS-HCC model "
        "(scores stored before this field: the run's model, filled in by migration 0003).",
    )  # fmt: skip
    segment = models.CharField(
        max_length=32,
        help_text="The model's segment: CNA, INS, NE... for CMS-HCC; DI/DNE (dialysis), GI/GNE/GFA/GFN/GNPA/GNPN "
        "(functioning graft), TRANSPLANT_KIDNEY_ONLY_1M..3M (transplant months) for ESRD.",
    )
    category = models.CharField(max_length=16, help_text="Demographic cell, e.g. F70_74.")
    raf_milli = models.IntegerField(help_text="The model's raw score, in thousandths.")
    payment_raf_milli = models.IntegerField(
        null=True,
        blank=True,
        help_text="After normalization, coding adjustment and blend (empty: raw-only run).",
    )
    hccs = models.JSONField(default=list, help_text="Payment HCCs after edits and hierarchies.")

    class Meta:
        ordering = ["run", "member"]
        constraints = [models.UniqueConstraint(fields=["run", "member"], name="risk_score_unique_member")]
        indexes = [models.Index(fields=["run", "practice"])]

    def __str__(self) -> str:
        return f"{self.member_id} {self.payment_raf_milli}"


class ScoreDiagnosis(models.Model):
    """One diagnosis behind one HCC of a member's score, with the record it came from."""

    class Source(models.TextChoices):
        CLAIM = "claim", "Claim"
        CLINICAL = "clinical", "Clinical record"

    score = models.ForeignKey(MemberScore, on_delete=models.PROTECT, related_name="diagnoses")
    hcc = models.CharField(max_length=8)
    diagnosis_code = models.CharField(max_length=8)
    source = models.CharField(max_length=10, choices=Source.choices)
    claim_line_id = models.BigIntegerField(null=True, blank=True)
    clinical_record_id = models.BigIntegerField(null=True, blank=True)
    service_date = models.DateField()

    class Meta:
        ordering = ["score", "hcc", "diagnosis_code", "source"]

    def __str__(self) -> str:
        return f"HCC{self.hcc} {self.diagnosis_code} ({self.source})"


class CodingGap(models.Model):
    """An HCC to look at: captured last window and not yet this one (recapture), or suggested by medications
    or lab values (suspect), with the evidence that raised it."""

    class Kind(models.TextChoices):
        RECAPTURE = "recapture", "Recapture"
        SUSPECT = "suspect", "Suspect"

    run = models.ForeignKey(RiskRun, on_delete=models.PROTECT, related_name="coding_gaps")
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    hcc = models.CharField(max_length=8)
    rule = models.CharField(max_length=60, blank=True, help_text="The suspect rule's id.")
    reason = models.CharField(max_length=300)
    evidence = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "practice", "provider", "member", "kind", "hcc"]
        indexes = [models.Index(fields=["run", "practice", "provider"])]

    def __str__(self) -> str:
        return f"{self.kind} HCC{self.hcc} member {self.member_id}"
