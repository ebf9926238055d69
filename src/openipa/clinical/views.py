"""Clinical data pages (IPA staff with VIEW_CLINICAL; practice users are refused):

- the clinical data page: the sources, the latest files, how many patients wait for review, and the upload form
  (the same import as `openipa import-clinical`, run in the request);
- one file: its counts, and each error and warning with its file, line and field;
- the review queue: patients the matching could not decide, with the candidate members and why; confirm one,
  or say the patient is not a member;
- the ADT notifications (admissions, discharges, ED visits of members): IPA staff with VIEW_CLINICAL see every
  practice's, a practice user their own practice's; acknowledge one (EDIT_CLINICAL staff, or the practice's
  users); and the dashboard's card of the new ones (counts).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.clinical import adt_selectors, selectors, services
from openipa.clinical.models import AdtNotification, ClinicalSource
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.intake import cli_user
from openipa.core.roles import is_practice_scoped
from openipa.membership import selectors as member_selectors
from openipa.membership.views.common import actor_of, on_disk
from openipa.network.models import Practice
from openipa.ui.errors import domain_errors


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=ClinicalSource.objects.none(), to_field_name="code")
    file = forms.FileField()
    format = forms.ChoiceField(
        choices=[("", "Detect from the file"), *list(ClinicalSource.Format.choices)], required=False
    )

    def __init__(self, *args: Any, sources: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sources if sources is not None else ClinicalSource.objects.none()


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    sources = selectors.sources(actor)
    form = UploadForm(request.POST or None, request.FILES or None, sources=sources)
    if request.method == "POST":
        if not selectors.can_edit(actor):
            raise PermissionDenied("importing clinical data needs EDIT_CLINICAL")
        if form.is_valid():
            try:
                with on_disk(form.cleaned_data["file"], "clinical") as (file_path, name):
                    records = services.import_clinical(
                        actor=actor, path=file_path, source_code=form.cleaned_data["source"].code,
                        fmt=form.cleaned_data["format"] or None, imported_by=actor.username, file_name=name,
                    )  # fmt: skip
            except ValidationFailed as exc:
                form.add_error(None, "; ".join(m for ms in exc.fields.values() for m in ms))
            else:
                record = records[0]
                if record.status == "rejected":
                    messages.error(request, f"{record.file_name} was refused whole: {record.error}")
                else:
                    messages.success(request, f"{record.file_name}: {record.records:,} records from {record.patients:,} "
                                              f"patients ({record.linked:,} linked, {record.review:,} to review).")  # fmt: skip
                return redirect(reverse("web:clinical:import", args=[record.pk]))
    context = {
        "summary": selectors.source_summary(),
        "imports": selectors.recent_imports(actor),
        "review_count": selectors.review_count(actor),
        "form": form,
        "can_edit": selectors.can_edit(actor),
        "cli": cli_user(),
    }
    return render(request, "web/clinical/home.html", context, status=400 if form.errors else 200)


@never_cache
@domain_errors
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.import_get(actor_of(request), pk)
    return render(request, "web/clinical/import.html", {"record": record})


@never_cache
@domain_errors
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context = {"patients": selectors.review_queue(actor), "can_edit": selectors.can_edit(actor),
               "count": selectors.review_count(actor)}  # fmt: skip
    return render(request, "web/clinical/review.html", context)


@never_cache
@domain_errors
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    patient = selectors.review_patient(actor, pk)
    choice = request.POST.get("member", "")
    member = None
    if choice != "none":
        allowed = {str(c.get("member_id")) for c in patient.candidates} | {str(patient.member_id)}
        found = (
            member_selectors.members_by_ids([int(choice)]) if choice.isdigit() and choice in allowed else []
        )
        if not found:
            messages.error(request, "Choose one of the candidates, or 'not a member'.")
            return redirect(reverse("web:clinical:review"))
        member = found[0]
    services.review_match(actor=actor, patient=patient, member=member)
    messages.success(request, f"{patient.source.code} patient {patient.source_patient_id}: "
                              + (f"linked to member {member.payer_member_id}." if member else "not a member."))  # fmt: skip
    return redirect(reverse("web:clinical:review"))


class NotificationFilter(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *AdtNotification.Status.choices], required=False)
    event = forms.ChoiceField(choices=[("", "Any event"), *AdtNotification.Event.choices], required=False)
    practice = forms.ModelChoiceField(
        queryset=Practice.objects.none(), required=False, to_field_name="code", empty_label="Any practice"
    )

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff:
            field = self.fields["practice"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Practice.objects.order_by("code")
        else:  # a practice user sees their own practice's only
            del self.fields["practice"]


@never_cache
@domain_errors
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    staff = not is_practice_scoped(actor)
    form = NotificationFilter(request.GET or None, staff=staff)
    data = form.cleaned_data if form.is_valid() else {}
    practice = data.get("practice")
    page = adt_selectors.notification_page(
        actor, status=data.get("status") or "", event=data.get("event") or "",
        practice_id=practice.pk if practice is not None else None, page=request.GET.get("page"),
    )  # fmt: skip
    context = {"page": page, "form": form, "staff": staff, "today": timezone.localdate(),
               "can_acknowledge": adt_selectors.can_acknowledge(actor)}  # fmt: skip
    return render(request, "web/clinical/notifications.html", context)


@never_cache
@domain_errors
@require_POST
def notification_acknowledge(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    notification = adt_selectors.notification_get(actor, pk)
    try:
        services.acknowledge_notification(actor=actor, notification_id=notification.pk)
    except ValidationFailed as exc:
        messages.error(request, "; ".join(m for ms in exc.fields.values() for m in ms))
    else:
        messages.success(
            request, f"{notification.get_event_display()} {notification.event_date}: acknowledged."
        )
    back = request.POST.get("next", "")
    return redirect(
        back if back.startswith("/clinical/notifications/") else reverse("web:clinical:notifications")
    )


@never_cache
@domain_errors
@require_GET
def notifications_summary(request: HttpRequest) -> HttpResponse:
    """The dashboard's card: the new admissions, discharges and ED visits, and the overdue follow-ups
    (counts only: no member data)."""
    actor = actor_of(request)
    counts = adt_selectors.counts(actor, today=timezone.localdate())
    return render(request, "web/clinical/_notifications_summary.html", {"counts": counts})


urlpatterns = [
    path("clinical/", home, name="home"),
    path("clinical/imports/<int:pk>/", import_detail, name="import"),
    path("clinical/review/", review, name="review"),
    path("clinical/review/<int:pk>/", review_decide, name="review_decide"),
    path("clinical/notifications/", notifications, name="notifications"),
    path("clinical/notifications/summary/", notifications_summary, name="notifications_summary"),
    path(
        "clinical/notifications/<int:pk>/acknowledge/",
        notification_acknowledge,
        name="notification_acknowledge",
    ),
]
