"""Forms of the secretary's governance pages. They parse and type the input; the rules live in the services, whose
refusals are put back next to the fields (`apply_errors`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from openipa.core.errors import ValidationFailed
from openipa.governance import selectors
from openipa.governance.models import (
    AgendaItem,
    Attendance,
    Body,
    Meeting,
    Minutes,
    QuorumKind,
    SeatTerm,
    Vote,
    VoteRule,
)
from openipa.network.models import Practice, Provider
from openipa.ui.forms import DateInput, apply_errors


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class GovernanceForm(forms.Form):
    def put_errors(self, exc: ValidationFailed) -> None:
        apply_errors(self, exc)


class RuleFields(GovernanceForm):
    valid_from = forms.DateField(label="In force from", widget=DateInput)
    valid_to = forms.DateField(label="In force through", widget=DateInput, required=False)
    seat_count = forms.IntegerField(min_value=0, initial=0, help_text="0 for the general membership.")
    quorum_kind = forms.ChoiceField(choices=QuorumKind.choices, initial=QuorumKind.MAJORITY)
    quorum_value = forms.DecimalField(
        required=False, initial=0, max_digits=6, decimal_places=2,
        help_text="The number present (count) or the percentage (percent); unused for a majority.",
    )  # fmt: skip
    vote_rule = forms.ChoiceField(choices=VoteRule.choices, initial=VoteRule.SIMPLE_MAJORITY)
    note = forms.CharField(
        required=False, max_length=200, help_text="Where the rule comes from (bylaws article)."
    )


class BodyForm(RuleFields):
    code = forms.CharField(max_length=16)
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Body.Kind.choices)
    parent = forms.ModelChoiceField(
        queryset=Body.objects.exclude(kind=Body.Kind.COMMITTEE), required=False, label="Reports to"
    )
    charter = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    field_order = ["code", "name", "kind", "parent", "charter"]


class SeatForm(GovernanceForm):
    seat_number = forms.IntegerField(min_value=1)
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.exclude(kind=Provider.Kind.FACILITY).order_by("last_name", "first_name"),
        required=False, help_text="A provider of the network, or leave empty and name the person.",
    )  # fmt: skip
    person_name = forms.CharField(required=False, max_length=150, label="Or a named individual")
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.order_by("legal_name"), required=False, label="Represents practice"
    )
    office = forms.ChoiceField(choices=SeatTerm.Office.choices, initial=SeatTerm.Office.MEMBER)
    valid_from = forms.DateField(label="Term starts", widget=DateInput)
    valid_to = forms.DateField(label="Term ends", widget=DateInput, required=False)


class SeatEndForm(GovernanceForm):
    valid_to = forms.DateField(label="Last day", widget=DateInput)


class MeetingForm(GovernanceForm):
    body = forms.ModelChoiceField(queryset=Body.objects.order_by("kind", "name"))
    title = forms.CharField(max_length=200)
    starts_at = forms.DateTimeField(
        label="Starts at", widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    location = forms.CharField(max_length=200, required=False)
    video_link = forms.CharField(max_length=300, required=False)
    agenda = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="One agenda item a line."
    )

    def clean_starts_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["starts_at"]
        return value if timezone.is_aware(value) else timezone.make_aware(value, selectors.zone())


class AgendaForm(GovernanceForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AttendanceForm(GovernanceForm):
    """One status (and, for a member practice, who came) per voter of the meeting's electorate."""

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recorded = {
            (f"seat:{a.seat_term_id}" if a.seat_term_id else f"practice:{a.practice_id}"): a
            for a in meeting.attendance.all()
        }
        self.voters = selectors.electorate(meeting)
        for voter in self.voters:
            row = recorded.get(voter.key)
            label = f"{voter.name}" + (f" ({voter.office})" if voter.office else "")
            self.fields[f"status_{voter.key}"] = forms.ChoiceField(
                label=label, choices=[("", "(not recorded)"), *Attendance.Status.choices], required=False,
                initial=row.status if row else "",
            )  # fmt: skip
            if meeting.body.by_practice:
                self.fields[f"rep_{voter.key}"] = forms.CharField(
                    label=f"{voter.name}: representative", required=False, max_length=150,
                    initial=row.representative if row else "",
                )  # fmt: skip

    def entries(self) -> dict[str, tuple[str, str]]:
        out = {}
        for voter in self.voters:
            status = self.cleaned_data.get(f"status_{voter.key}") or ""
            if status:
                out[voter.key] = (status, self.cleaned_data.get(f"rep_{voter.key}") or "")
        return out


class VoterField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.voter_name)


class MotionForm(GovernanceForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    moved_by = VoterField(queryset=Attendance.objects.none())
    seconded_by = VoterField(queryset=Attendance.objects.none(), required=False)
    agenda_item = forms.ModelChoiceField(queryset=AgendaItem.objects.none(), required=False)
    vote_rule = forms.ChoiceField(
        choices=[("", "The body's rule"), *VoteRule.choices], required=False, label="Vote needed"
    )
    approves_minutes = forms.ModelChoiceField(
        queryset=Minutes.objects.none(), required=False, label="Approves the minutes of"
    )

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        present = meeting.attendance.filter(status=Attendance.Status.PRESENT).select_related(
            "seat_term__provider", "practice"
        )
        for name in ("moved_by", "seconded_by"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = present
        agenda = self.fields["agenda_item"]
        assert isinstance(agenda, forms.ModelChoiceField)
        agenda.queryset = meeting.agenda_items.all()
        minutes = self.fields["approves_minutes"]
        assert isinstance(minutes, forms.ModelChoiceField)
        minutes.queryset = Minutes.objects.filter(
            pk__in=[m.pk for m in selectors.draft_minutes_before(meeting)]
        )


class VotesForm(GovernanceForm):
    """One vote per voter present (left empty: did not vote)."""

    def __init__(self, *args: Any, motion: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recorded = {v.attendance_id: v.choice for v in motion.votes.all()}
        self.present = list(
            motion.meeting.attendance.filter(status=Attendance.Status.PRESENT).select_related(
                "seat_term__provider", "practice"
            )
        )
        for a in self.present:
            self.fields[f"vote_{a.pk}"] = forms.ChoiceField(
                label=a.voter_name, choices=[("", "(did not vote)"), *Vote.Choice.choices], required=False,
                initial=recorded.get(a.pk, ""),
            )  # fmt: skip

    def votes(self) -> dict[int, str]:
        return {a.pk: c for a in self.present if (c := self.cleaned_data.get(f"vote_{a.pk}") or "")}


class MotionActionForm(GovernanceForm):
    action = forms.ChoiceField(choices=[("decide", "Decide"), ("table", "Table"), ("withdraw", "Withdraw")])
    note = forms.CharField(required=False, max_length=500)


class MinutesForm(GovernanceForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}))


class StatusForm(GovernanceForm):
    status = forms.ChoiceField(choices=Meeting.Status.choices)


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
