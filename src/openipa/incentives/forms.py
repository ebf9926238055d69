"""Forms of the incentives pages: preparing a settlement."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from openipa.contracts.models import Contract
from openipa.core.money import to_cents
from openipa.incentives import engine
from openipa.incentives.models import Kind


class PrepareForm(forms.Form):
    contract: forms.ModelChoiceField[Contract] = forms.ModelChoiceField(
        queryset=Contract.objects.none(), empty_label="Choose a contract"
    )
    kind = forms.ChoiceField(choices=Kind.choices)
    period = forms.CharField(max_length=8, help_text="A year (2026) or a quarter (2026Q3)")
    quality_run = forms.IntegerField(required=False, min_value=1, help_text="Default: the year's latest run")
    pool = forms.DecimalField(
        required=False, min_value=Decimal(0), max_digits=14, decimal_places=2,
        label="Quality pool entered (dollars)", help_text="Only to override the formula's pool source",
    )  # fmt: skip

    def __init__(self, data: Any = None) -> None:
        super().__init__(data, prefix="prepare")
        field = self.fields["contract"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Contract.objects.select_related("payer").order_by("number")

    def clean_period(self) -> str:
        try:
            return engine.parse_period(self.cleaned_data["period"]).label
        except engine.FormulaError as exc:
            raise forms.ValidationError(str(exc)) from None

    def pool_cents(self) -> int | None:
        pool = self.cleaned_data.get("pool")
        return None if pool is None else to_cents(pool)
