"""Utilization management: referrals and prior authorizations.

For now the decided authorizations that claims adjudication matches lines against (issue 5); the request
workflow, clocks and letters come with issue 7.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class Authorization(EffectiveDated):
    """A decided referral or prior authorization: which services, for which member, by which provider, for
    which dates (`valid_from`..`valid_to`) and how many units."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", "Referral"
        PRIOR_AUTHORIZATION = "prior_auth", "Prior authorization"

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        PENDING = "pending", "Pending"

    number = models.CharField(max_length=50, unique=True, help_text="The number given to the provider.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PRIOR_AUTHORIZATION)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPROVED)
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="authorizations")
    servicing_npi = models.CharField(max_length=10, blank=True, help_text="Empty: any provider.")
    codes = models.CharField(max_length=200, help_text="Comma-separated CPT/HCPCS codes authorized.")
    units = models.DecimalField(max_digits=10, decimal_places=3, default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="authorization_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} ({self.status})"
