"""Stored quality runs (ADR 0015): one run of every measure of a measurement year on the database as it was,
each member's result with the evidence behind it and its open care gap, and the rates.

A run is written whole in one transaction and never changed afterwards: running the measures again makes a
new run. It records what it ran on (the definitions' and value sets' SHA-256, the input row counts) so two
runs can be compared, and each result carries the member's PCP, practice and payer on the run's as-of date.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class StoredOnce(models.Model):
    """A row of a stored run: written once, never saved again (a new run is made instead)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError(
                f"{type(self).__name__} {self.pk} belongs to a stored quality run: runs never change"
            )
        super().save(*args, **kwargs)


class QualityRun(StoredOnce):
    class Status(models.TextChoices):
        COMPLETE = "complete", "Complete"
        # every measure ran, but the value sets lack some that definitions name: those conditions never hit
        MISSING_VALUE_SETS = "missing_value_sets", "Complete, value sets missing"

    measurement_year = models.PositiveSmallIntegerField()
    as_of = models.DateField(
        help_text="The day PCP, practice and payer are attributed on, and the last day of the data read."
    )
    run_at = models.DateTimeField()
    run_by = models.CharField(max_length=150)
    definitions_sha256 = models.CharField(max_length=64)
    value_sets_sha256 = models.CharField(max_length=64)
    value_sets_source = models.CharField(max_length=40, default="starter")
    input_counts = models.JSONField(default=dict, help_text="Rows per input frame: members, claims, ...")
    member_count = models.PositiveIntegerField()
    result_count = models.PositiveIntegerField(default=0)
    gap_count = models.PositiveIntegerField(default=0)
    missing_value_sets = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)

    class Meta:
        ordering = ["-run_at", "-pk"]
        indexes = [models.Index(fields=["measurement_year", "-run_at"], name="quality_run_year")]

    def __str__(self) -> str:
        return f"quality run {self.pk} (MY {self.measurement_year}, as of {self.as_of})"


class RateResult(StoredOnce):
    """A measure rate's counts in a run (the IPA as a whole)."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="rates")
    measure = models.CharField(max_length=16)
    measure_name = models.CharField(max_length=200, blank=True)
    rate = models.CharField(max_length=40)
    eligible = models.PositiveIntegerField()
    excluded = models.PositiveIntegerField()
    denominator = models.PositiveIntegerField()
    numerator = models.PositiveIntegerField()
    rate_value = models.DecimalField(
        max_digits=7, decimal_places=6, null=True, blank=True, help_text="numerator / denominator"
    )
    inverse = models.BooleanField(default=False, help_text="Lower is better (GSD >9).")

    class Meta:
        ordering = ["run", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "measure", "rate"], name="quality_rate_once")]

    def __str__(self) -> str:
        return f"{self.rate} in run {self.run_id}"


class MeasureResult(StoredOnce):
    """One member's (or one episode's) result for a measure rate in a run, with the evidence ids behind each
    decision (``claim:<claim line>``, ``clinical:<record>``, ``encounter:<record>``, ``rx:<fill>``,
    ``member:<member>`` for a death) and, when it is an open care gap, the gap's reason and due date."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="results")
    measure = models.CharField(max_length=16)
    rate = models.CharField(max_length=40)
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="+")
    episode_id = models.CharField(max_length=40, blank=True)
    excluded = models.BooleanField()
    exclusion_reason = models.CharField(max_length=200, blank=True)
    denominator = models.BooleanField()
    numerator = models.BooleanField()
    denominator_evidence = models.JSONField(default=list)
    exclusion_evidence = models.JSONField(default=list)
    numerator_evidence = models.JSONField(default=list)
    # attribution on the run's as-of date
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, null=True, related_name="+")
    pcp = models.ForeignKey("network.Provider", on_delete=models.PROTECT, null=True, related_name="+")
    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, null=True, related_name="+")
    # the open care gap (in the denominator and not in the numerator; in the numerator of an inverse rate)
    gap = models.BooleanField(default=False)
    gap_reason = models.CharField(max_length=300, blank=True)
    gap_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["run", "pk"]
        indexes = [
            models.Index(fields=["run", "measure", "rate"], name="quality_result_rate"),
            models.Index(fields=["run", "member"], name="quality_result_member"),
            models.Index(fields=["run", "gap", "practice"], name="quality_result_gap"),
        ]

    def __str__(self) -> str:
        return f"{self.rate} for member {self.member_id} in run {self.run_id}"
