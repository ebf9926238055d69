"""Messenger-model contracting: a payer's fee-for-service offer conveyed to each practice on its own.

Competing independent practices may not agree on fee-for-service prices. Under the messenger model the IPA
conveys a payer's offer to each practice individually, and each practice decides alone: it accepts, declines or
answers with its own counter-terms, and the messenger carries each answer back to the payer on its own. These
tables hold the offer (`OfferPackage`, its `OfferRate` rows), its conveyance to one practice (`Conveyance`), that
practice's signed answers (`OfferResponse`), and a practice's private standing authorization (a minimum rate at
or above which the messenger may accept for it). What the firewall allows each role to see is decided in
`selectors` (ADR 0012): no table here is ever read in aggregate across practices.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class OfferPackage(models.Model):
    """A payer's fee-for-service offer: its terms and its fee schedule (a percent of Medicare, or a code table)."""

    class Basis(models.TextChoices):
        PERCENT_OF_MEDICARE = "percent_of_medicare", "Percent of Medicare"
        CODE_TABLE = "code_table", "Rate per code"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        CONVEYED = "conveyed", "Conveyed"
        CLOSED = "closed", "Closed"

    payer = models.ForeignKey("contracts.Payer", on_delete=models.PROTECT, related_name="offers")
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="offers",
        help_text="The messenger fee-for-service contract the offer is for, when there is one.",
    )  # fmt: skip
    title = models.CharField(max_length=200)
    terms = models.TextField(help_text="The payer's terms as offered (term, termination, timely filing...).")
    basis = models.CharField(max_length=24, choices=Basis.choices, default=Basis.PERCENT_OF_MEDICARE)
    percent_of_medicare = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    respond_by = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="offer_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(basis="percent_of_medicare") | Q(percent_of_medicare__isnull=False),
                name="offer_percent_given",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OfferRate(models.Model):
    """One code of an offer's code table: the rate offered for it (cents)."""

    offer = models.ForeignKey(OfferPackage, on_delete=models.CASCADE, related_name="rates")
    code = models.CharField(max_length=10)
    modifier = models.CharField(max_length=2, blank=True)
    rate_cents = models.BigIntegerField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["code", "modifier"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "code", "modifier"], name="offer_rate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code}-{self.modifier}" if self.modifier else self.code


class Conveyance(models.Model):
    """The offer conveyed to one practice: the practice's own copy, which only it and the messenger see."""

    offer = models.ForeignKey(OfferPackage, on_delete=models.PROTECT, related_name="conveyances")
    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    conveyed_at = models.DateTimeField(auto_now_add=True)
    conveyed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offer", "practice__legal_name"]
        constraints = [models.UniqueConstraint(fields=["offer", "practice"], name="conveyance_once")]

    def __str__(self) -> str:
        return f"{self.offer} to {self.practice}"


class OfferResponse(models.Model):
    """One practice's answer to its conveyance, signed by a named user; the latest answer is the practice's."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accept"
        DECLINE = "decline", "Decline"
        COUNTER = "counter", "Counter-offer"

    conveyance = models.ForeignKey(Conveyance, on_delete=models.PROTECT, related_name="responses")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    counter_terms = models.TextField(blank=True)
    counter_percent_of_medicare = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signature = models.CharField(max_length=200, help_text="The signer's full name as typed.")
    responded_at = models.DateTimeField(auto_now_add=True)
    under_standing_authorization = models.ForeignKey(
        "StandingAuthorization", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Accepted by the messenger for the practice, under this standing authorization.",
    )  # fmt: skip
    transmitted_at = models.DateTimeField(null=True, blank=True)
    transmitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-responded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.conveyance.practice})"


class StandingAuthorization(EffectiveDated):
    """A practice's private minimum: offers of at least this percent of Medicare (from one payer, or any) the
    messenger may accept for it. Seen only by that practice and the messenger."""

    practice = models.ForeignKey("network.Practice", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(
        "contracts.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty: offers from any payer.",
    )  # fmt: skip
    minimum_percent_of_medicare = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signature = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="standing_authorization_dates_ordered",
            )
        ]
