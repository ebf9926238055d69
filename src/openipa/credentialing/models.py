"""Credentialing tables. This first part is ongoing monitoring: exclusion lists received (OIG LEIE, SAM.gov),
screening runs over the network's providers, the alerts (hits) they raise with their review, and the
exclusions a confirmed hit records. The matching policy (thresholds, weights, the sweep interval) is
effective-dated data. Credentialing files, verifications, committee decisions and expirables come later."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class ExclusionSource(models.TextChoices):
    LEIE = "leie", "OIG LEIE"
    SAM = "sam", "SAM.gov exclusions"


class ScreeningPolicy(EffectiveDated):
    """How exclusion screening matches and how often it must run, from a date. Versions must not overlap."""

    threshold = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        help_text="Name score (0-100) a name and date-of-birth match must reach.",
    )
    name_only_threshold = models.DecimalField(
        max_digits=5, decimal_places=1,
        help_text="Name score a match on the name alone must reach (SAM, or no date of birth on either side).",
    )  # fmt: skip
    last_name_weight = models.DecimalField(max_digits=5, decimal_places=2)
    first_name_weight = models.DecimalField(max_digits=5, decimal_places=2)
    sweep_interval_days = models.PositiveIntegerField(
        help_text="Days from one screening to the next one due (monthly monitoring)."
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="screening_policy_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"screening policy from {self.valid_from}"


class ExclusionListImport(models.Model):
    """One exclusion list file received for a screening: kept as received, with its rejected rows."""

    source = models.CharField(max_length=8, choices=ExclusionSource.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    stored_path = models.CharField(max_length=500, blank=True, help_text="The file as received, under var/.")
    rows = models.PositiveIntegerField(default=0, help_text="Data rows in the file.")
    entries = models.PositiveIntegerField(default=0, help_text="Rows read as exclusions in force.")
    not_in_force = models.PositiveIntegerField(default=0, help_text="Reinstated or terminated rows.")
    rejected_rows = models.JSONField(default=list, blank=True, help_text="[{row, message}], the first 1,000")
    rejected_count = models.PositiveIntegerField(default=0)
    imported_by_id = models.BigIntegerField(null=True, blank=True)
    imported_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name}"


class ScreeningRun(models.Model):
    """One screening of every provider against the lists received with it. Never changed once written."""

    screened_on = models.DateField(help_text="The day the lists were read as of (reinstatements before it).")
    leie_import = models.ForeignKey(
        ExclusionListImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sam_import = models.ForeignKey(
        ExclusionListImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lists = models.JSONField(default=list, help_text="The sources screened against: leie, sam.")
    policy = models.ForeignKey(ScreeningPolicy, on_delete=models.PROTECT, related_name="runs")
    threshold = models.DecimalField(max_digits=5, decimal_places=1)
    name_only_threshold = models.DecimalField(max_digits=5, decimal_places=1)
    providers_screened = models.PositiveIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0, help_text="Matches found (known alerts included).")
    new_alerts = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    found = models.JSONField(
        default=list,
        blank=True,
        help_text="Every match of the run: npi, provider_id, score, source, kind, hit.",
    )
    run_by_id = models.BigIntegerField(null=True, blank=True)
    run_by = models.CharField(max_length=150)
    seconds = models.FloatField(default=0, help_text="Wall time of the run (a measurement).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"screening {self.pk} of {self.screened_on}"


class ScreeningHit(models.Model):
    """An alert: a provider matched an exclusion list entry. It is also the review task: open until a
    reviewer confirms it (the provider is excluded) or dismisses it (not the same person), with a note.
    One alert per provider and list entry: later screenings finding the same match do not raise it again."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"

    class Kind(models.TextChoices):
        NPI = "npi", "NPI"
        NAME_DOB = "name_dob", "Name and date of birth"
        NAME = "name", "Name alone"

    run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="hits")
    provider = models.ForeignKey("network.Provider", on_delete=models.PROTECT, related_name="screening_hits")
    source = models.CharField(max_length=8, choices=ExclusionSource.choices)
    row_key = models.CharField(max_length=64, help_text="SHA-256 of the list entry's identifying fields.")
    row_number = models.PositiveIntegerField(help_text="Line of the entry in the list file.")
    matched = models.JSONField(default=dict, help_text="The list entry's fields as received.")
    matched_name = models.CharField(max_length=300, blank=True)
    match_kind = models.CharField(max_length=10, choices=Kind.choices)
    score = models.DecimalField(max_digits=5, decimal_places=1)
    exclusion_date = models.DateField()
    exclusion_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewer_id = models.BigIntegerField(null=True, blank=True)
    reviewer = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "source", "row_key"], name="screening_hit_once"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="screening_hit_queue")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} hit {self.pk} ({self.score})"


class Exclusion(EffectiveDated):
    """A provider excluded, from the list's exclusion date: written when a reviewer confirms a hit. Claims
    read them through `credentialing.selectors.excluded_npis`."""

    provider = models.ForeignKey("network.Provider", on_delete=models.PROTECT, related_name="exclusions")
    source = models.CharField(max_length=8, choices=ExclusionSource.choices)
    hit = models.OneToOneField(ScreeningHit, on_delete=models.PROTECT, related_name="exclusion")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="exclusion_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} excluded ({self.get_source_display()}) from {self.valid_from}"
