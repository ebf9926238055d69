"""Forms of the screening and credentialing files pages. They parse and type the input; the rules live in the services (`screen`,
`review_hit`), whose refusals are put back next to the fields."""

from __future__ import annotations

from django import forms

from openipa.core.errors import ValidationFailed
from openipa.credentialing.models import (
    CommitteeDecision,
    CredentialingFile,
    ElementKind,
    ScreeningHit,
    Verification,
)
from openipa.network.models import Provider
from openipa.ui.forms import DateInput, apply_errors


class ScreeningUploadForm(forms.Form):
    leie = forms.FileField(
        label="OIG LEIE file",
        help_text="The LEIE downloadable file as published (UPDATED.csv or a monthly supplement, CSV).",
    )
    sam = forms.FileField(
        required=False,
        label="SAM.gov exclusions extract",
        help_text="Optional: SAM.gov's public exclusions extract (CSV). SAM has no dates of birth: names alone "
        "and NPIs are matched.",
    )

    @property
    def filename(self) -> str:
        upload = self.files.get("leie")
        return str(getattr(upload, "name", "") or "the exclusion list")

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class HitReviewForm(forms.Form):
    """Confirm or dismiss an alert; the note is required by the service (`review_hit`)."""

    decision = forms.ChoiceField(
        choices=[
            (ScreeningHit.Status.CONFIRMED.value, "Confirm: this provider is the person excluded"),
            (ScreeningHit.Status.DISMISSED.value, "Dismiss: not the same person"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you checked (NPI registry, license, date of birth, address) and what you found.",
    )  # fmt: skip

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class FileOpenForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.order_by("last_name", "first_name", "pk"))
    kind = forms.ChoiceField(choices=CredentialingFile.Kind.choices)
    opened_on = forms.DateField(label="Opened on", widget=DateInput, required=False,
                                help_text="Default: today.")  # fmt: skip
    board_certification_claimed = forms.BooleanField(required=False, label="Board certification claimed")
    prescribes = forms.BooleanField(
        required=False, initial=True, label="Prescribes controlled substances (DEA / CDS required)"
    )
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class VerificationForm(forms.Form):
    element = forms.ModelChoiceField(queryset=ElementKind.objects.all(), to_field_name="code")
    source = forms.CharField(
        max_length=200, help_text="The primary source, e.g. Medical Board of California."
    )
    method = forms.ChoiceField(choices=Verification.Method.choices)
    verified_on = forms.DateField(label="Verified on", widget=DateInput)
    result = forms.ChoiceField(choices=Verification.Result.choices)
    expires_on = forms.DateField(
        label="Credential expires on", widget=DateInput, required=False,
        help_text="Licenses, DEA, board certification and insurance expire: required for them.",
    )  # fmt: skip
    reference = forms.CharField(max_length=100, required=False, label="License or registration number")
    document = forms.FileField(help_text="The source's page, letter or query response (PDF or image).")
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, elements: list[ElementKind] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if elements is not None:
            field = self.fields["element"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = ElementKind.objects.filter(pk__in=[e.pk for e in elements])

    @property
    def filename(self) -> str:
        upload = self.files.get("document")
        return str(getattr(upload, "name", "") or "the document")

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class DecisionForm(forms.Form):
    decided_on = forms.DateField(label="Committee date", widget=DateInput)
    decision = forms.ChoiceField(choices=CommitteeDecision.Decision.choices, widget=forms.RadioSelect)
    conditions = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for an approval with conditions (e.g. focused review for 6 months).",
    )  # fmt: skip
    minutes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The committee's discussion of this file: findings weighed, vote.",
    )  # fmt: skip

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class LetterSentForm(forms.Form):
    sent_on = forms.DateField(label="Sent on", widget=DateInput)

    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class PeriodForm(forms.Form):
    payer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    start = forms.DateField(widget=DateInput)
    end = forms.DateField(widget=DateInput)
