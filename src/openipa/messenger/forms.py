"""Forms of the offer pages: the messenger's new offer, a practice's answer, a practice's standing minimum."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone

from openipa.contracts.models import Contract, Payer
from openipa.core.errors import ValidationFailed
from openipa.core.money import to_cents
from openipa.messenger.models import OfferResponse
from openipa.ui.forms import apply_errors


class _Form(forms.Form):
    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class OfferForm(_Form):
    """A payer's offer: its terms, and either a percent of Medicare or a rate table (CSV: code,modifier,amount)."""

    payer = forms.ModelChoiceField(queryset=Payer.objects.all())
    contract = forms.ModelChoiceField(
        queryset=Contract.objects.filter(legal_basis=Contract.LegalBasis.MESSENGER_FFS), required=False,
        help_text="The messenger fee-for-service contract it is for, if any.",
    )  # fmt: skip
    title = forms.CharField(max_length=200)
    terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    percent_of_medicare = forms.DecimalField(
        required=False, max_digits=6, decimal_places=2, min_value=Decimal("0.01"), label="Percent of Medicare"
    )
    rates = forms.FileField(
        required=False,
        label="Rate table (CSV)",
        help_text="Columns code, modifier, amount (dollars); a header row.",
    )
    effective_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    effective_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    respond_by = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean_rates(self) -> list[tuple[str, str, int]]:
        upload = self.cleaned_data.get("rates")
        if not upload:
            return []
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("the rate table is not UTF-8 text") from None
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [c.strip().lower() for c in rows[0][:3]] != ["code", "modifier", "amount"]:
            raise forms.ValidationError("the first row must be: code,modifier,amount")
        table: list[tuple[str, str, int]] = []
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise forms.ValidationError(f"line {number}: three columns: code, modifier, amount")
            try:
                amount = Decimal(row[2].strip())
            except InvalidOperation:
                raise forms.ValidationError(f"line {number}, amount: {row[2]!r} is not an amount") from None
            table.append((row[0], row[1], to_cents(amount)))
        return table

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "payer": data["payer"], "contract": data.get("contract"), "title": data["title"], "terms": data["terms"],
            "percent_of_medicare": data.get("percent_of_medicare"), "rates": data.get("rates") or [],
            "effective_from": data["effective_from"], "effective_to": data.get("effective_to"),
            "respond_by": data["respond_by"],
        }  # fmt: skip


class ResponseForm(_Form):
    """A practice's own answer, signed with the user's full name."""

    decision = forms.ChoiceField(choices=OfferResponse.Decision.choices, widget=forms.RadioSelect)
    counter_percent_of_medicare = forms.DecimalField(
        required=False, max_digits=6, decimal_places=2, min_value=Decimal("0.01"),
        label="Counter: percent of Medicare",
    )  # fmt: skip
    counter_terms = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Counter-terms"
    )
    signature = forms.CharField(max_length=200, label="Signed (your full name)")
    confirm = forms.BooleanField(
        label="I answer for my practice alone, and have not discussed this offer's prices with any other practice."
    )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "decision": data["decision"], "signature": data["signature"], "counter_terms": data.get("counter_terms") or "",
            "counter_percent_of_medicare": data.get("counter_percent_of_medicare"),
        }  # fmt: skip


class StandingAuthorizationForm(_Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.all(), required=False, empty_label="Any payer")
    minimum_percent_of_medicare = forms.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01"), label="Minimum percent of Medicare"
    )
    valid_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate)
    signature = forms.CharField(max_length=200, label="Signed (your full name)")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "payer": data.get("payer"), "minimum_percent_of_medicare": data["minimum_percent_of_medicare"],
            "valid_from": data["valid_from"], "signature": data["signature"],
        }  # fmt: skip
