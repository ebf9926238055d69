"""Forms of the ledger pages: the filters (typed, invalid values dropped) and the reversal confirmation."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from openipa.core.roles import Actor
from openipa.ledger import selectors
from openipa.ledger.services import MEMO_MAX
from openipa.ui.forms import DateInput, scope_payer_and_practice, valid_data


def _date_order(form: forms.Form, data: dict[str, Any]) -> None:
    start, end = data.get("date_from"), data.get("date_to")
    if start and end and end < start:
        form.add_error("date_to", "The end date is before the start date.")


class TrialBalanceForm(forms.Form):
    as_of = forms.DateField(
        required=False, label="As of", widget=DateInput, help_text="Entries dated on or before; empty: all."
    )

    def as_of_date(self) -> dt.date | None:
        value = valid_data(self).get("as_of")
        return value if isinstance(value, dt.date) else None


class AccountActivityForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        scope_payer_and_practice(self, actor)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _date_order(self, data)
        return data

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "practice_id": data.get("practice"),
            "payer_id": data.get("payer"),
        }


class JournalFilterForm(forms.Form):
    source_type = forms.ChoiceField(required=False, label="Source")
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        field = cast(forms.ChoiceField, self.fields["source_type"])
        field.choices = [("", "Any source"), *[(s, s) for s in selectors.source_types(actor)]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _date_order(self, data)
        return data

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "source_type": data.get("source_type") or None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class ReverseForm(forms.Form):
    date = forms.DateField(
        label="Accounting date", widget=DateInput, help_text="Not before the entry's own date."
    )
    memo = forms.CharField(
        max_length=MEMO_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the entry is reversed; it is kept with the reversal.",
    )
    confirm = forms.BooleanField(
        label="Post the reversal",
        help_text="A new entry that cancels every line of this one. It cannot be undone.",
    )
