"""Claims pages: the claims list and one claim's detail (scoped, audited), and the 837 files received:
uploading one (the same import as `openipa import-claims`, run in the request behind a progress indicator),
the list of files and one file's record with its errors, its 999 and the file as received."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from openipa.accounts.models import User
from openipa.claims.forms import ClaimFilterForm, ClaimUploadForm, ImportFilterForm
from openipa.claims.models import ClaimImport
from openipa.claims.selectors import claims as selectors
from openipa.claims.services.intake import import_claims
from openipa.core.errors import PermissionDenied
from openipa.core.money import format_money
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, require
from openipa.membership.views.common import (
    ack_download,
    actor_of,
    on_disk,
    page_or_results,
    query_without_page,
    received_file,
    record_url,
    upload_page,
)
from openipa.ui.errors import domain_errors

LIST_PURPOSE = "claims list page"
DETAIL_PURPOSE = "claim page"
FILE_PURPOSE = "claims file download"


@domain_errors
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """Claims newest received first, filtered by status, received dates, payee and member."""
    actor = actor_of(request)
    if not selectors.can_read_claims(actor):
        raise PermissionDenied("no claims for this role")
    form = ClaimFilterForm(request.GET)
    page = selectors.claim_page(actor, page=request.GET.get("page"), purpose=LIST_PURPOSE, **form.filters())
    context = {
        "form": form,
        "page": page,
        "query": query_without_page(request),
        "can_edit": selectors.can_edit_claims(actor),
    }
    return page_or_results(request, "web/claims/claim_list.html", "web/claims/claim_results.html", context)


@never_cache
@domain_errors
@require_GET
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One claim: header, diagnoses, each line's decision with its findings and pricing, the runs that paid
    it, its corrections or its original. Recorded as a read of the member."""
    actor = actor_of(request)
    detail = selectors.claim_detail(actor, pk, purpose=DETAIL_PURPOSE)
    return render(request, "web/claims/claim_detail.html", {"detail": detail, "claim": detail.claim})


# ------------------------------------------------------------------------------------------ 837 files


@domain_errors
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = ImportFilterForm(request.GET)
    page = paginate(selectors.import_list(actor, **form.filters()), request.GET.get("page"))
    context = {"form": form, "page": page, "can_edit": selectors.can_edit_claims(actor)}
    return page_or_results(request, "web/claims/import_list.html", "web/claims/import_results.html", context)


def _run_import(actor: User, upload: UploadedFile, form: ClaimUploadForm) -> ClaimImport:
    with on_disk(upload, "claims") as (file_path, name):
        return import_claims(
            actor=actor, path=file_path, file_name=name, received_on=form.cleaned_data.get("received_on"),
            imported_by=actor.username,
        )  # fmt: skip


def _outcome(request: HttpRequest, record: ClaimImport) -> None:
    name = record.file_name
    if record.status == ClaimImport.Status.APPLIED:
        messages.success(
            request,
            f"{name} was applied: {record.claims} claim{'s' if record.claims != 1 else ''}, {record.lines} "
            f"line{'s' if record.lines != 1 else ''}, {format_money(record.charge_cents)} charged, "
            f"{record.unknown_members} unknown member{'s' if record.unknown_members != 1 else ''}.",
        )
    elif record.status == ClaimImport.Status.DUPLICATE:
        messages.warning(request, f"{name} was imported before; nothing changed.")
    else:
        errors = record.error_count or len(record.errors or [])
        messages.error(
            request, f"{name} was rejected with {errors} error{'s' if errors != 1 else ''}; nothing changed."
        )


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponseBase:
    """Upload an 837: the import runs in the request and ends on the file's record. A file the import refuses
    outright (ValidationFailed) is shown on the form; a rejected file gets a record with its errors."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_CLAIMS)
    if not selectors.can_edit_claims(actor):
        raise PermissionDenied("practice users do not import claims")
    form = ClaimUploadForm(request.POST or None, request.FILES or None)
    return upload_page(
        request, form, lambda data: _run_import(actor, data["file"], form),
        outcome=_outcome, detail=record_url("web:claims:import_detail"),
        fragment="web/claims/import_form.html", page="web/claims/import_upload.html",
    )  # fmt: skip


@never_cache
@domain_errors
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One 837 file: status, counts, warnings, errors with their positions, the 999 and the file."""
    actor = actor_of(request)
    record = selectors.import_get(actor, pk)
    return render(request, "web/claims/import_detail.html", {"record": record})


@never_cache
@domain_errors
@require_GET
def import_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The 837 as received; recorded as a read of the members it names."""
    actor = actor_of(request)
    record = selectors.import_get(actor, pk)
    return received_file(selectors.import_file(actor, record, purpose=FILE_PURPOSE), record.file_name)


@never_cache
@domain_errors
@require_GET
def import_ack(request: HttpRequest, pk: int) -> HttpResponse:
    """The 999 acknowledgment of the file, to send back to the submitter."""
    record = selectors.import_get(actor_of(request), pk)
    return ack_download(request, record.ack_999, record.file_name, "claims")


urlpatterns = [
    path("claims/", claim_list, name="claim_list"),
    path("claims/<int:pk>/", claim_detail, name="claim_detail"),
    path("claims/imports/", import_list, name="import_list"),
    path("claims/imports/upload/", import_upload, name="import_upload"),
    path("claims/imports/<int:pk>/", import_detail, name="import_detail"),
    path("claims/imports/<int:pk>/file/", import_file, name="import_file"),
    path("claims/imports/<int:pk>/999/", import_ack, name="import_ack"),
]
