"""The IPA's network: regions, practices and their locations, providers, affiliations, agreements."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class Region(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Practice(models.Model):
    class Status(models.TextChoices):
        APPLICANT = "applicant", "Applicant"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        TERMINATED = "terminated", "Terminated"

    code = models.CharField(max_length=16, unique=True, help_text="Short code used on statements and files.")
    legal_name = models.CharField(max_length=200)
    dba_name = models.CharField("doing business as", max_length=200, blank=True)
    tin = models.CharField("TIN", max_length=9, unique=True, help_text="Nine digits, no dash.")
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=20, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="practices")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # EFT details: readable unmasked by finance only (selectors mask them for everyone else).
    bank_name = models.CharField(max_length=100, blank=True)
    bank_routing_number = models.CharField(max_length=9, blank=True)
    bank_account_number = models.CharField(max_length=17, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name


class Location(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=100)
    address_line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=20, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["practice", "-is_primary", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


class Provider(models.Model):
    class Kind(models.TextChoices):
        PCP = "pcp", "Primary care"
        SPECIALIST = "specialist", "Specialist"
        BEHAVIORAL = "behavioral", "Behavioral health"
        SOCIAL = "social", "Social services"
        FACILITY = "facility", "Facility"

    npi = models.CharField("NPI", max_length=10, unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, help_text="Or the organization name for a facility.")
    degree = models.CharField(max_length=20, blank=True, help_text="MD, DO, NP, PA, PhD, LCSW ...")
    taxonomy_code = models.CharField("NUCC taxonomy", max_length=10)
    specialty = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    accepting_new_patients = models.BooleanField(default=True)
    panel_limit = models.PositiveIntegerField(null=True, blank=True)
    # Private data: visible to IPA staff, never to other practices.
    date_of_birth = models.DateField(null=True, blank=True)
    personal_phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name}, {self.degree}" if self.degree else name

    @property
    def display_name(self) -> str:
        return str(self)


class Affiliation(EffectiveDated):
    """A provider practising at a practice (and optionally a location) over a span of dates."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="affiliations")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="affiliations")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="affiliation_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} at {self.practice}"


class ParticipationAgreement(EffectiveDated):
    """The practice's agreement with the IPA: dates, status, admin-fee terms."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        TERMINATED = "terminated", "Terminated"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="agreements")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    admin_fee_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    admin_fee_pmpm = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    signed_on = models.DateField(null=True, blank=True)
    non_exclusive = models.BooleanField(
        default=True,
        help_text="The practice may also contract with payers directly, outside the IPA (issue 6: participation).",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["practice", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="agreement_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practice} agreement from {self.valid_from}"


class ContractParticipation(EffectiveDated):
    """A practice joining (opting in to) one payer contract under its agreement, over a span of dates."""

    agreement = models.ForeignKey(
        ParticipationAgreement, on_delete=models.CASCADE, related_name="contract_participations"
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="participations"
    )

    class Meta:
        ordering = ["contract", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.agreement.practice} in {self.contract}"
