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

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="members")
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
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="pcp_assignments")

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
