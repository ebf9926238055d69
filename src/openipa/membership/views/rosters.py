"""Roster pages: upload a file, the list of imports, one import's change report (with its 999 and the file
as received), and a payer's roster profile.

Imports list members of every practice, so they are IPA staff's pages: a practice user is refused (403)
by the selectors. The report records the members it shows as read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from openipa.accounts.models import User
from openipa.contracts.models import Payer
from openipa.core.errors import ValidationFailed
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, has_perm, require
from openipa.membership import selectors
from openipa.membership.forms import (
    RosterChangeFilterForm,
    RosterImportFilterForm,
    RosterProfileForm,
    RosterUploadForm,
)
from openipa.membership.models import RosterImport
from openipa.membership.services import profiles
from openipa.membership.services.roster import import_roster
from openipa.membership.views.common import (
    ack_download,
    actor_of,
    on_disk,
    page_or_results,
    received_file,
    record_url,
    upload_page,
)
from openipa.ui import charts
from openipa.ui.errors import domain_errors

REPORT_PURPOSE = "roster import report"
FILE_PURPOSE = "roster file download"


# ------------------------------------------------------------------------------------------ imports


@domain_errors
@require_GET
def roster_list(request: HttpRequest) -> HttpResponse:
    """Roster imports, newest first, filtered by payer, status or file name; counts only."""
    actor = actor_of(request)
    form = RosterImportFilterForm(request.GET, actor=actor)
    page = paginate(selectors.roster_import_list(actor, **form.filters()), request.GET.get("page"))
    context = {"form": form, "page": page, "can_upload": has_perm(actor, Perm.EDIT_MEMBERS)}
    return page_or_results(
        request, "web/eligibility/roster_list.html", "web/eligibility/_imports.html", context
    )


def _run_import(actor: User, payer: Payer, upload: UploadedFile, fmt: str | None) -> RosterImport:
    with on_disk(upload, "roster") as (path, name):
        return import_roster(actor=actor, payer=payer, path=path, file_name=name, fmt=fmt)


def _outcome(request: HttpRequest, record: RosterImport) -> None:
    name = record.file_name
    if record.status == RosterImport.Status.APPLIED:
        messages.success(
            request,
            f"{name} was applied: {record.added} added, {record.changed} changed, {record.termed} termed, "
            f"{record.reinstated} reinstated, {record.unchanged} unchanged.",
        )
    elif record.status == RosterImport.Status.DUPLICATE:
        messages.warning(request, f"{name} was imported before; nothing changed.")
    else:
        errors = len(record.errors or [])
        messages.error(
            request, f"{name} was rejected with {errors} error{'s' if errors != 1 else ''}; nothing changed."
        )


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def roster_upload(request: HttpRequest) -> HttpResponseBase:
    """Upload a roster: the import runs in the request (the page shows a progress indicator meanwhile) and
    ends on the import's report. A refused file (ValidationFailed) is shown on the form; a rejected file
    gets an import row with its errors, shown on its report."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_MEMBERS)
    form = RosterUploadForm(request.POST or None, request.FILES or None, actor=actor)
    return upload_page(
        request, form, lambda data: _run_import(actor, data["payer"], data["file"], data["format"] or None),
        outcome=_outcome, detail=record_url("web:eligibility:roster_report"),
        fragment="web/eligibility/_upload_form.html", page="web/eligibility/roster_upload.html",
        refused_whole=lambda exc: "file" in exc.fields or "format" in exc.fields,
    )  # fmt: skip


def _counts_chart(record: RosterImport) -> str:
    kinds = ["Added", "Changed", "Termed", "Reinstated"]
    values = (record.added, record.changed, record.termed, record.reinstated)
    svg = charts.bar_chart(
        kinds,
        [charts.Series("Members", tuple(float(v) for v in values))],
        title=f"Changes made by {record.file_name}",
        x_label="Change",
        y_label="Members",
        chart_id="roster-changes",
        plot_height=160,
    )
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def roster_report(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: header counts, warnings, errors, the 999, and its changes (filtered, paginated)."""
    actor = actor_of(request)
    form = RosterChangeFilterForm(request.GET)
    report = selectors.roster_import_report(
        actor, pk, page=request.GET.get("page"), purpose=REPORT_PURPOSE, **form.filters()
    )
    record = report.record
    context: dict[str, Any] = {
        "form": form,
        "record": record,
        "report": report,
        "page": report.changes,
        "can_download": selectors.roster_file_visible(actor),
        "chart": _counts_chart(record) if record.status == RosterImport.Status.APPLIED else "",
    }
    return page_or_results(
        request, "web/eligibility/roster_report.html", "web/eligibility/_changes.html", context
    )


@never_cache
@domain_errors
@require_GET
def roster_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The roster file as received (staff who import rosters, and auditors); recorded as a read."""
    actor = actor_of(request)
    record = selectors.roster_import_get(actor, pk)
    path = selectors.roster_import_file(actor, record, purpose=FILE_PURPOSE)
    return received_file(path, record.file_name)


@never_cache
@domain_errors
@require_GET
def roster_ack(request: HttpRequest, pk: int) -> HttpResponse:
    """The 999 acknowledgment of an X12 roster, as the text file to send back to the payer."""
    record = selectors.roster_import_get(actor_of(request), pk)
    return ack_download(request, record.ack_999, record.file_name, "roster")


# ----------------------------------------------------------------------------------- roster profile


@domain_errors
@require_http_methods(["GET", "POST"])
def roster_profile(request: HttpRequest, payer_pk: int) -> HttpResponse:
    """A payer's roster profile: read by whoever reads contracts, changed by whoever imports rosters."""
    actor = actor_of(request)
    payer, profile = selectors.roster_profile_get(actor, payer_pk)
    can_edit = has_perm(actor, Perm.EDIT_MEMBERS)
    if request.method == "POST":
        require(actor, Perm.EDIT_MEMBERS)
    form = RosterProfileForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        payer=payer,
        profile=profile,
        disabled=not can_edit,
    )
    if request.method == "POST" and form.is_valid():
        try:
            profiles.roster_profile_save(actor=actor, payer=payer, data=form.profile_data())
        except ValidationFailed as exc:
            form.put_errors(exc)
        else:
            messages.success(request, f"Saved the roster profile of {payer.name}.")
            return redirect("web:eligibility:roster_profile", payer_pk=payer.pk)
    context = {"payer": payer, "profile": profile, "form": form, "can_edit": can_edit}
    return render(
        request,
        "web/eligibility/roster_profile.html",
        context,
        status=400 if request.method == "POST" else 200,
    )
