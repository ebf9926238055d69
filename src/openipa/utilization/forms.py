"""Forms of the utilization management pages. They parse and type the input; the rules (who may decide,
what a denial must state, which clock applies) live in the services, whose refusals are put back next to the
fields they name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from openipa.core.errors import ValidationFailed
from openipa.ui.forms import DateInput, SearchInput, apply_errors, valid_data
from openipa.utilization.engine.intake import RequestInput, ServiceInput
from openipa.utilization.models import (
    Appeal,
    AuthRequest,
    AuthService,
    CriteriaReference,
    PeerToPeer,
    RequestKind,
    Urgency,
)

SERVICE_ROWS = 10
"""Service lines the submission form offers (the API and the 278 take up to 50)."""

OPEN = "open"
CLOSED = "closed"
ALL = "all"
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    OPEN: tuple(AuthRequest.OPEN),
    CLOSED: tuple(s for s in AuthRequest.Status.values if s not in AuthRequest.OPEN),
    ALL: (),
}
QUEUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "nurse": ("Nurse queue", (AuthRequest.Status.RECEIVED, AuthRequest.Status.NURSE_REVIEW)),
    "physician": ("Physician queue", (AuthRequest.Status.PHYSICIAN_REVIEW,)),
}


def _blank(label: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *[(str(k), str(v)) for k, v in choices]]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleaned to a list (empty when none was chosen)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        one = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        return [f for f in (one(item, initial) for item in items if item) if f]


class ServiceFieldsMixin:
    """Approved units (and, for a modification, the approved end date) per service line: `units_<line>` and
    `approved_to_<line>`, filled with what was asked."""

    fields: dict[str, forms.Field]
    service_lines: list[AuthService]

    def add_service_fields(self, services: Sequence[AuthService], *, spans: bool) -> None:
        self.service_lines = list(services)
        for s in self.service_lines:
            self.fields[f"units_{s.line_number}"] = forms.DecimalField(
                required=False, min_value=Decimal(0), max_digits=9, decimal_places=2, initial=s.units,
                label=f"Line {s.line_number} ({s.code}): units approved of {s.units.normalize():f}",
            )  # fmt: skip
            if spans:
                self.fields[f"approved_to_{s.line_number}"] = forms.DateField(
                    required=False, widget=DateInput, label=f"Line {s.line_number}: approved to",
                    help_text=f"Empty: to {s.service_to:%Y-%m-%d} as asked.",
                )  # fmt: skip

    def units_by_line(self, data: dict[str, Any]) -> dict[int, Decimal]:
        return {
            s.line_number: data[f"units_{s.line_number}"]
            for s in self.service_lines
            if data.get(f"units_{s.line_number}") is not None
        }

    def spans_by_line(self, data: dict[str, Any]) -> dict[int, dt.date]:
        return {
            s.line_number: data[f"approved_to_{s.line_number}"]
            for s in self.service_lines
            if data.get(f"approved_to_{s.line_number}") is not None
        }

    def service_fields(self) -> list[Any]:
        form: Any = self
        return [form[name] for name in self.fields if name.startswith(("units_", "approved_to_"))]


class ErrorsMixin:
    def put_errors(self, exc: ValidationFailed) -> None:
        assert isinstance(self, forms.Form)
        apply_errors(self, exc)


# --------------------------------------------------------------------------------------------- queue


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", max_length=100, widget=SearchInput,
        help_text="Request number, member id or last name (start).",
    )  # fmt: skip
    status = forms.ChoiceField(
        required=False,
        choices=[
            (OPEN, "Open"), (CLOSED, "Closed (decided or withdrawn)"), (ALL, "Any status"),
            *AuthRequest.Status.choices,
        ],
    )  # fmt: skip
    kind = forms.ChoiceField(required=False, choices=_blank("Any kind", RequestKind.choices))
    urgency = forms.ChoiceField(required=False, choices=_blank("Any urgency", Urgency.choices))
    overdue = forms.BooleanField(required=False, label="Overdue only")
    queue = forms.ChoiceField(
        required=False,
        choices=_blank("All", ((k, v[0]) for k, v in QUEUES.items())),
        widget=forms.HiddenInput,
    )

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `request_queryset` but `overdue_at` (the caller's clock), from the valid
        fields only: a queue tab sets the statuses, else the status filter (open by default)."""
        data = valid_data(self)
        queue = data.get("queue") or ""
        status = data.get("status") or OPEN
        statuses = QUEUES[queue][1] if queue else STATUS_FILTERS.get(status, (status,))
        return {
            "status": statuses or None,
            "kind": data.get("kind") or "",
            "urgency": data.get("urgency") or "",
            "q": data.get("q") or "",
        }

    @property
    def overdue_only(self) -> bool:
        return bool(valid_data(self).get("overdue"))

    @property
    def queue_name(self) -> str:
        return str(valid_data(self).get("queue") or "")


# ------------------------------------------------------------------------------------------ submission


def _split_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", text.strip()) if c]


class RequestForm(ErrorsMixin, forms.Form):
    """A new request: who, for whom, why, and up to SERVICE_ROWS service lines (a row left empty is skipped).
    A practice user picks the requesting provider among their practice's own."""

    kind = forms.ChoiceField(choices=RequestKind.choices, initial=RequestKind.PRIOR_AUTHORIZATION)
    urgency = forms.ChoiceField(
        choices=Urgency.choices, initial=Urgency.STANDARD,
        help_text="Expedited when waiting could seriously jeopardize the member's life, health or function.",
    )  # fmt: skip
    member_id = forms.CharField(label="Member id", max_length=80, help_text="The payer's member id.")
    requesting_npi = forms.CharField(label="Requesting provider NPI", max_length=10)
    servicing_npi = forms.CharField(
        label="Servicing provider NPI", max_length=10, required=False,
        help_text="Who will give the service (empty if not known yet).",
    )  # fmt: skip
    servicing_name = forms.CharField(label="Servicing provider name", max_length=200, required=False)
    diagnoses = forms.CharField(
        max_length=200, help_text="ICD-10-CM codes, principal first, separated by commas or spaces."
    )
    clinical_notes = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="History, findings and why the service is needed.",
    )  # fmt: skip
    attachments = MultipleFileField(
        required=False,
        help_text="Clinical notes, imaging or lab reports (several files; 10 MB each at most).",
    )

    def __init__(self, data: Any = None, files: Any = None, *,
                 providers: Sequence[tuple[str, str]] | None = None) -> None:  # fmt: skip
        super().__init__(data, files)
        if providers is not None:
            self.fields["requesting_npi"] = forms.ChoiceField(
                label="Requesting provider", choices=_blank("Choose a provider", providers)
            )
        for n in range(1, SERVICE_ROWS + 1):
            self.fields[f"code_{n}"] = forms.CharField(
                required=False, max_length=5, label=f"Line {n} code",
                widget=forms.TextInput(attrs={"aria-label": f"Line {n} CPT or HCPCS code", "size": 6}),
            )  # fmt: skip
            self.fields[f"units_{n}"] = forms.CharField(
                required=False, max_length=12, label=f"Line {n} units",
                widget=forms.TextInput(attrs={"aria-label": f"Line {n} units", "size": 5, "inputmode": "decimal"}),
            )  # fmt: skip
            self.fields[f"from_{n}"] = forms.DateField(
                required=False,
                label=f"Line {n} from",
                widget=DateInput(attrs={"aria-label": f"Line {n} from"}),
            )
            self.fields[f"to_{n}"] = forms.DateField(
                required=False, label=f"Line {n} to", widget=DateInput(attrs={"aria-label": f"Line {n} to"})
            )
        self._rows: list[int] = []

    MAIN_FIELDS = ("kind", "urgency", "member_id", "requesting_npi", "servicing_npi", "servicing_name",
                   "diagnoses", "clinical_notes", "attachments")  # fmt: skip

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.MAIN_FIELDS]

    def service_rows(self) -> list[tuple[int, list[Any]]]:
        return [
            (n, [self[f"{p}_{n}"] for p in ("code", "units", "from", "to")])
            for n in range(1, SERVICE_ROWS + 1)
        ]

    def request_input(self) -> RequestInput:
        """The request as the services take it (call after is_valid)."""
        data = self.cleaned_data
        services = []
        self._rows = []
        for n in range(1, SERVICE_ROWS + 1):
            code, units = data.get(f"code_{n}") or "", data.get(f"units_{n}") or ""
            start, end = data.get(f"from_{n}"), data.get(f"to_{n}")
            if not (code.strip() or units.strip() or start or end):
                continue
            self._rows.append(n)
            services.append(ServiceInput(code=code.strip(), units=units.strip() or "0", service_from=start,
                                         service_to=end or start))  # fmt: skip
        return RequestInput(
            kind=data["kind"], urgency=data["urgency"], member_id=data["member_id"].strip(),
            requesting_npi=str(data["requesting_npi"]).strip(), servicing_npi=data["servicing_npi"].strip(),
            servicing_name=data["servicing_name"].strip(), diagnoses=_split_codes(data["diagnoses"]),
            services=services, clinical_notes=data["clinical_notes"],
        )  # fmt: skip

    def put_errors(self, exc: ValidationFailed) -> None:
        """The services number service lines from 1 among those filled in: back to the form's rows."""
        fields: dict[str, list[str]] = {}
        for name, messages in exc.fields.items():
            match = re.fullmatch(r"services\[(\d+)\]\.(code|units|dates)", name)
            if match and 0 < int(match.group(1)) <= len(self._rows):
                row = self._rows[int(match.group(1)) - 1]
                target = {"code": "code", "units": "units", "dates": "from"}[match.group(2)]
                name = f"{target}_{row}"
            elif name == "services":
                name = "code_1"
            fields.setdefault(name, []).extend(messages)
        apply_errors(self, ValidationFailed(fields))

    def service_errors(self) -> list[str]:
        """The errors of the service rows, in row order, for the summary above the table."""
        out: list[str] = []
        for n in range(1, SERVICE_ROWS + 1):
            for p in ("code", "units", "from", "to"):
                out.extend(f"Line {n}: {e}" for e in self.errors.get(f"{p}_{n}", []))
        return out


# ------------------------------------------------------------------------------------------- actions


class ConfirmForm(ErrorsMixin, forms.Form):
    """An action without fields (take for review): its refusals show above its button."""


class NoteForm(ErrorsMixin, forms.Form):
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(ErrorsMixin, forms.Form):
    note = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
        label="Why a physician", help_text="What the nurse cannot approve on the criteria.",
    )  # fmt: skip


class ExtendForm(ErrorsMixin, forms.Form):
    reason = forms.CharField(
        required=False, max_length=300, label="Reason",
        help_text="Told to the member in the extension notice, e.g. the records still missing.",
    )  # fmt: skip
    days = forms.IntegerField(
        required=False, min_value=1, max_value=90, help_text="Empty: as many as the clock rule allows."
    )


class WithdrawForm(ErrorsMixin, forms.Form):
    reason = forms.CharField(required=False, max_length=300)


class AttachmentForm(ErrorsMixin, forms.Form):
    file = forms.FileField(label="Document")


class ApproveForm(ErrorsMixin, forms.Form):
    reason = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="Note (optional)"
    )
    criteria = forms.CharField(required=False, max_length=300, label="Criteria met (optional)")


class PhysicianDecisionForm(ServiceFieldsMixin, ErrorsMixin, forms.Form):
    """Deny or modify: the decision comes from the button pressed."""

    decision = forms.ChoiceField(choices=[("deny", "Deny"), ("modify", "Modify")], widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        label="Specific reason", help_text="In words the member can understand: it is printed on the notice.",
    )  # fmt: skip
    criteria_id = forms.ModelChoiceField(
        queryset=CriteriaReference.objects.none(), required=False, label="Criteria reference",
        empty_label="None of these",
    )  # fmt: skip
    criteria = forms.CharField(
        required=False, max_length=300, label="Criteria (text)",
        help_text="The criteria used, when not in the list (NCD, LCD or policy and its version).",
    )  # fmt: skip

    def __init__(self, data: Any = None, *, services: Sequence[AuthService],
                 criteria: QuerySet[CriteriaReference]) -> None:  # fmt: skip
        super().__init__(data)
        field = self.fields["criteria_id"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = criteria
        self.add_service_fields(services, spans=True)


class PeerToPeerForm(ErrorsMixin, forms.Form):
    held_at = forms.DateTimeField(
        label="Held at", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    provider_name = forms.CharField(required=False, max_length=200, label="Requesting provider who took part")
    outcome = forms.ChoiceField(choices=PeerToPeer.Outcome.choices)
    notes = forms.CharField(required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 3}))


class AppealOpenForm(ErrorsMixin, forms.Form):
    appellant = forms.CharField(
        required=False, max_length=200, help_text="The member, or the provider for them."
    )
    grounds = forms.CharField(required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 3}))
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.STANDARD)


class AppealDecisionForm(ServiceFieldsMixin, ErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=[(s.value, s.label) for s in (Appeal.Status.UPHELD, Appeal.Status.OVERTURNED, Appeal.Status.PARTIAL)],
        widget=forms.RadioSelect,
    )  # fmt: skip
    reason = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, data: Any = None, *, services: Sequence[AuthService]) -> None:
        super().__init__(data)
        self.add_service_fields(services, spans=False)
        for s in services:
            self.fields[f"units_{s.line_number}"].help_text = "Used for a partial overturn only."
