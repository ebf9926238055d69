"""Forms of the screening pages. They parse and type the input; the rules live in the services (`screen`,
`review_hit`), whose refusals are put back next to the fields."""

from __future__ import annotations

from django import forms

from openipa.core.errors import ValidationFailed
from openipa.credentialing.models import ScreeningHit
from openipa.web.forms import apply_errors


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
