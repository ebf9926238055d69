"""Forms of the claims pages. They parse and type the input; the rules live in the services (`import_claims`,
`decide_pend`), whose refusals are put back next to the fields. Amounts are typed in dollars and handed to the
services in integer cents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from openipa.claims.models import ClaimImport, PendOverride
from openipa.claims.selectors.claims import claim_statuses
from openipa.core.errors import ValidationFailed
from openipa.core.money import to_cents
from openipa.ui.forms import DateInput, SearchInput, apply_errors, valid_data


def _blank(label: str, choices: Any) -> list[tuple[str, str]]:
    return [("", label), *[(str(k), str(v)) for k, v in choices]]


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=())
    received_from = forms.DateField(required=False, label="Received from", widget=DateInput)
    received_to = forms.DateField(required=False, label="Received to", widget=DateInput)
    payee = forms.CharField(
        required=False, max_length=10, label="Payee NPI or TIN", widget=SearchInput,
        help_text="The billing provider's NPI (10 digits) or TIN (9).",
    )  # fmt: skip
    member_id = forms.CharField(required=False, max_length=80, label="Member id", widget=SearchInput)

    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        self.fields["status"].choices = _blank("Any status", claim_statuses())  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        """The valid filters, ready for ``claim_queryset`` (an invalid value is reported and dropped)."""
        data = valid_data(self)
        return {
            "status": data.get("status") or "",
            "received_from": data.get("received_from"),
            "received_to": data.get("received_to"),
            "payee": data.get("payee") or "",
            "member_id": data.get("member_id") or "",
        }


class ImportFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", max_length=100, widget=SearchInput,
        help_text="File name (part), SHA-256 or who imported it.",
    )  # fmt: skip
    status = forms.ChoiceField(required=False, choices=_blank("Any status", ClaimImport.Status.choices))

    def filters(self) -> dict[str, Any]:
        data = valid_data(self)
        return {"q": data.get("q") or "", "status": data.get("status") or ""}


class ClaimUploadForm(forms.Form):
    file = forms.FileField(
        label="837 file",
        help_text="An X12 837P (005010X222A1) or 837I (005010X223A2/A3) as the submitter sent it.",
    )
    received_on = forms.DateField(
        required=False, label="Received on", widget=DateInput,
        help_text="The date the claims count as received (timely filing, prompt-pay clocks). Default: today.",
    )  # fmt: skip

    def clean_received_on(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("received_on")
        if value is not None and value > timezone.localdate() + dt.timedelta(days=1):
            raise forms.ValidationError("claims cannot be received in the future")
        return value

    @property
    def filename(self) -> str:
        upload = self.files.get("file")
        return str(getattr(upload, "name", "") or "claims file")

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class PendDecisionForm(forms.Form):
    """Pay (allowed amount and member cost share, in dollars) or deny (CARC, optional RARC); a reason always."""

    decision = forms.ChoiceField(choices=PendOverride.Decision.choices, widget=forms.RadioSelect)
    allowed = forms.DecimalField(
        required=False, label="Allowed ($)", max_digits=12, decimal_places=2, min_value=Decimal("0")
    )
    cost_share = forms.DecimalField(
        required=False, label="Cost share ($)", max_digits=12, decimal_places=2, min_value=Decimal("0")
    )
    carc = forms.CharField(required=False, max_length=5, label="CARC")
    rarc = forms.CharField(required=False, max_length=5, label="RARC")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data: Any = None, *, prefix: str | None = None) -> None:
        super().__init__(data, prefix=prefix)

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned input as ``decide_pend``'s keyword arguments (amounts in cents)."""
        data = self.cleaned_data
        allowed = data.get("allowed")
        cost_share = data.get("cost_share")
        return {
            "decision": data["decision"],
            "reason": data["reason"],
            "allowed_cents": to_cents(allowed) if allowed is not None else None,
            "cost_share_cents": to_cents(cost_share) if cost_share is not None else 0,
            "carc": data.get("carc") or "",
            "rarc": data.get("rarc") or "",
        }

    def put_errors(self, exc: ValidationFailed) -> None:
        renamed = ValidationFailed(
            {
                {"allowed_cents": "allowed", "cost_share_cents": "cost_share"}.get(k, k): v
                for k, v in exc.fields.items()
            }
        )
        apply_errors(self, renamed)
