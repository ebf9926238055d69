"""Forms of the association pages. They parse input only; the services check the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openipa.association.models import FeePayment, FeeTerm, Program
from openipa.membership.forms import MonthField
from openipa.network.models import Practice, Region
from openipa.quality.models import QualityRun
from openipa.ui.forms import DateInput


class PrepareForm(forms.Form):
    month = MonthField(label="Month", help_text="YYYY-MM")


class IssueForm(forms.Form):
    issue_date = forms.DateField(label="Invoice date", widget=DateInput, required=False)


class TermForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.order_by("code"), to_field_name="code")
    method = forms.ChoiceField(choices=FeeTerm.Method.choices)
    amount = forms.DecimalField(label="Flat amount ($)", required=False, decimal_places=2, max_digits=12)
    percent = forms.DecimalField(label="Percent of revenue", required=False, decimal_places=4, max_digits=7)
    minimum = forms.DecimalField(label="Minimum a month ($)", required=False, decimal_places=2, max_digits=12)
    maximum = forms.DecimalField(label="Maximum a month ($)", required=False, decimal_places=2, max_digits=12)
    payment_days = forms.IntegerField(label="Days to pay", initial=30, min_value=0, max_value=365)
    valid_from = forms.DateField(widget=DateInput)
    valid_to = forms.DateField(widget=DateInput, required=False)


class TermFilterForm(forms.Form):
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="Any practice",
    )

    def __init__(self, data: Any = None) -> None:
        super().__init__(data, auto_id="filter_%s")  # the page's other form has a practice field too


class EndTermForm(forms.Form):
    valid_to = forms.DateField(label="Last day of the term", widget=DateInput)


class PaymentForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.order_by("code"), to_field_name="code")
    amount = forms.CharField(label="Amount ($)", max_length=20)
    received_on = forms.DateField(label="Received on", widget=DateInput)
    method = forms.ChoiceField(choices=FeePayment.Method.choices)
    reference = forms.CharField(max_length=80)
    invoice = forms.CharField(label="Invoice number (optional)", required=False, max_length=40)


class CreditForm(forms.Form):
    amount = forms.CharField(label="Amount to credit ($, empty: what is left of the invoice)", required=False)
    reason = forms.CharField(max_length=300)


class StatementForm(forms.Form):
    start = forms.DateField(label="From", widget=DateInput, required=False)
    end = forms.DateField(label="To", widget=DateInput, required=False)

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or dt.date(end.year, 1, 1)
        if end < start:
            start, end = end, start
        return start, end


class ProgramForm(forms.Form):
    name = forms.CharField(max_length=200)
    initiative = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    region = forms.ModelChoiceField(queryset=Region.objects.order_by("name"), required=False)
    group_name = forms.CharField(label="Or a named group", max_length=100, required=False)
    practices = forms.ModelMultipleChoiceField(
        queryset=Practice.objects.order_by("code"), required=False,
        help_text="Empty: every active practice of the region.",
    )  # fmt: skip
    measure = forms.CharField(max_length=16, help_text="e.g. CBP")
    rate = forms.CharField(max_length=40, help_text="e.g. CBP, or GSD <8")
    baseline_run = forms.ModelChoiceField(queryset=QualityRun.objects.order_by("-as_of", "-pk"))
    target_rate = forms.DecimalField(label="Target rate (0-1)", max_digits=7, decimal_places=4)
    start = forms.DateField(widget=DateInput)
    end = forms.DateField(widget=DateInput)
    status = forms.ChoiceField(choices=Program.Status.choices)


class JoinForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.order_by("code"), to_field_name="code")
    joined_on = forms.DateField(widget=DateInput)


class LeaveForm(forms.Form):
    left_on = forms.DateField(widget=DateInput)
