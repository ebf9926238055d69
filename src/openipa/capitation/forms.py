"""Forms of the capitation pages. They parse and type the input; the rules live in the services
(`import_capitation`, `reconcile`, `distribute_month`, the discrepancy services), whose refusals are put
back next to the fields or shown as they are.

Choices come from the acting user's selectors, so nobody is offered what they may not pick.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms

from openipa.accounts.models import User
from openipa.capitation import selectors
from openipa.capitation.models import CapitationProfile, Discrepancy, DistributionRun, RemittanceImport
from openipa.contracts.models import Payer
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, is_practice_scoped
from openipa.membership.forms import MonthField
from openipa.network import selectors as network_selectors
from openipa.ui.forms import SearchInput, apply_errors, valid_data


def _blank(label: str, choices: Any) -> list[tuple[str, str]]:
    return [("", label), *[(str(k), str(v)) for k, v in choices]]


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def _payer_queryset(form: forms.Form, actor: Actor) -> None:
    payers = cast("forms.ModelChoiceField[Any]", form.fields["payer"])
    payers.queryset = selectors.capitation_payers(actor)


def _payer_choices(form: forms.Form, payers: Any) -> None:
    _choices(form, "payer").choices = _blank("Any payer", ((p.pk, p.name) for p in payers))


# ------------------------------------------------------------------------------------------ remittances


class RemittanceUploadForm(forms.Form):
    FORMATS = [
        ("", "Detect (X12 820 or 835 when the file starts with ISA, else the payer's usual format)")
    ] + [(value, label) for value, label in CapitationProfile.Format.choices]

    payer: forms.ModelChoiceField[Payer] = forms.ModelChoiceField(
        queryset=Payer.objects.none(), empty_label="Choose a payer"
    )
    file = forms.FileField(
        label="Remittance file",
        help_text="An X12 820, an X12 835 with capitation in PLB, or the payer's CSV, as the payer sent it.",
    )
    format = forms.ChoiceField(choices=FORMATS, required=False)

    def __init__(self, data: Any = None, files: Any = None, *, actor: Actor) -> None:
        super().__init__(data, files)
        _payer_queryset(self, actor)

    @property
    def filename(self) -> str:
        upload = self.files.get("file")
        return str(getattr(upload, "name", "") or "remittance")

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class RemittanceFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=100,
        widget=SearchInput,
        help_text="File name (part), trace number, SHA-256 or who imported it.",
    )
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=_blank("Any status", RemittanceImport.Status.choices))

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        _payer_choices(self, selectors.capitation_payers(actor))

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {"q": data.get("q") or "", "payer_id": data.get("payer"), "status": data.get("status") or ""}


# --------------------------------------------------------------------------------------- reconciliation


class ReconcileForm(forms.Form):
    month = MonthField(label="Coverage month", help_text="The month to reconcile, YYYY-MM.")


class QueueFilterForm(forms.Form):
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    month = MonthField(label="Month", required=False)
    category = forms.ChoiceField(required=False, choices=_blank("Any category", Discrepancy.Category.choices))
    status = forms.ChoiceField(required=False, choices=list(selectors.QUEUE_STATUSES.items()))
    owner = forms.ChoiceField(required=False)
    min_age = forms.IntegerField(
        required=False, min_value=0, max_value=3650, label="Open at least (days)",
        widget=forms.NumberInput(attrs={"placeholder": "days", "style": "width: 6rem"}),
    )  # fmt: skip
    sort = forms.ChoiceField(required=False, choices=list(selectors.QUEUE_SORTS.items()))

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        _payer_choices(self, selectors.capitation_payers(actor))
        owners = selectors.discrepancy_owners(actor)
        _choices(self, "owner").choices = [
            ("", "Anyone"), ("none", "Unassigned"), *[(str(u.pk), u.username) for u in owners]
        ]  # fmt: skip

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "payer_id": data.get("payer"),
            "month": data.get("month"),
            "category": data.get("category") or "",
            "status": data.get("status") or "",
            "owner": data.get("owner") or "",
            "min_age_days": data.get("min_age"),
            "sort": data.get("sort") or "impact",
        }


class DiscrepancyActionForm(forms.Form):
    ACTIONS = [
        ("assign", "Assign"),
        ("dispute", "Dispute"),
        ("resolve", "Resolve"),
        ("write_off", "Write off"),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    note = forms.CharField(required=False, max_length=1000)

    def __init__(self, data: Any = None, *, actor: Actor) -> None:
        super().__init__(data)
        owners = cast("forms.ModelChoiceField[Any]", self.fields["owner"])
        owners.queryset = selectors.discrepancy_owners(actor)

    def messages(self) -> list[str]:
        """The form's errors as sentences, for a row that has no room for field errors."""
        out = []
        for name, errors in self.errors.items():
            label = "" if name == "__all__" else f"{self.fields[name].label or name.title()}: "
            out += [f"{label}{e}" for e in errors]
        return out


# -------------------------------------------------------------------------------------------------- runs


class RunFilterForm(forms.Form):
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    month = MonthField(label="Month", required=False)
    status = forms.ChoiceField(required=False, choices=_blank("Any status", DistributionRun.Status.choices))
    kind = forms.ChoiceField(required=False, choices=_blank("Any kind", DistributionRun.Kind.choices))

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        _payer_choices(self, selectors.capitation_payers(actor))

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "payer_id": data.get("payer"),
            "month": data.get("month"),
            "status": data.get("status") or "",
            "kind": data.get("kind") or "",
        }


class PrepareRunForm(forms.Form):
    payer: forms.ModelChoiceField[Payer] = forms.ModelChoiceField(
        queryset=Payer.objects.none(), empty_label="Choose a payer"
    )
    month = MonthField(label="Coverage month", help_text="YYYY-MM")

    def __init__(self, data: Any = None, *, actor: Actor) -> None:
        super().__init__(data, prefix="prepare")
        _payer_queryset(self, actor)


# -------------------------------------------------------------------------------------------- statements


class StatementFilterForm(forms.Form):
    payer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    practice = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    month = MonthField(label="Month", required=False)

    def __init__(self, data: Any, *, actor: Actor) -> None:
        super().__init__(data)
        _payer_choices(self, selectors.statement_payers(actor))
        if is_practice_scoped(actor):
            del self.fields["practice"]
        else:
            practices = network_selectors.practice_list(actor)
            _choices(self, "practice").choices = _blank(
                "Any practice", ((p.pk, p.legal_name) for p in practices)
            )

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {
            "payer_id": data.get("payer"),
            "practice_id": data.get("practice"),
            "month": data.get("month"),
        }


class CapitationProfileForm(forms.Form):
    """A payer's capitation profile: the CSV column mapping as JSON, accepted deductions one per line."""

    default_format = forms.ChoiceField(label="Default format", choices=CapitationProfile.Format.choices)
    csv_profile = forms.CharField(
        label="CSV column mapping (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text='e.g. {"columns": {"member_id": "Member ID", "month": "Coverage Month", "amount": "Paid"}, '
        '"month_format": "%Y-%m"}; fields: member_id, month, amount, kind, reason, reference, last_name.',
    )
    accepted_deductions = forms.CharField(
        label="Deductions the contract allows",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: the payer's reason code, a colon, what it is (e.g. RP: reinsurance premium).",
    )

    def __init__(
        self, data: Any = None, *, profile: CapitationProfile, disabled: bool = False, **kwargs: Any
    ) -> None:
        initial = {
            "default_format": profile.default_format,
            "csv_profile": json.dumps(profile.csv_profile, indent=2) if profile.csv_profile else "",
            "accepted_deductions": "\n".join(
                f"{k}: {v}" for k, v in (profile.accepted_deductions or {}).items()
            ),
        }
        super().__init__(data, initial=initial, **kwargs)
        if disabled:
            for field in self.fields.values():
                field.disabled = True

    def clean_csv_profile(self) -> dict[str, Any]:
        text = self.cleaned_data.get("csv_profile", "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The mapping is a JSON object: {...}.")
        return value

    def clean_accepted_deductions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data.get("accepted_deductions", "").splitlines(), start=1):
            if not line.strip():
                continue
            code, _sep, label = line.partition(":")
            if not code.strip():
                raise forms.ValidationError(f"Line {number}: no reason code before the colon.")
            out[code.strip()] = label.strip()
        return out
