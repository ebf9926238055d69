"""Remittance pages: the files received, uploading one (the import runs in the request, behind a progress
indicator), and one file's detail with its errors, its 999 and the file as received."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from openipa.accounts.models import User
from openipa.capitation import selectors
from openipa.capitation.forms import RemittanceFilterForm, RemittanceUploadForm
from openipa.capitation.models import RemittanceImport
from openipa.capitation.services.imports import import_capitation
from openipa.contracts.models import Payer
from openipa.core.money import format_money
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, require
from openipa.membership.views.common import (
    ack_download,
    actor_of,
    on_disk,
    page_or_results,
    received_file,
    record_url,
    upload_page,
)
from openipa.ui.errors import domain_errors

FILE_PURPOSE = "capitation remittance file download"


@domain_errors
@require_GET
def remittance_list(request: HttpRequest) -> HttpResponse:
    """Files received, newest first, filtered by payer, status or name; totals only."""
    actor = actor_of(request)
    form = RemittanceFilterForm(request.GET, actor=actor)
    page = paginate(selectors.remittance_list(actor, **form.filters()), request.GET.get("page"))
    context = {"form": form, "page": page, "can_act": selectors.can_act(actor)}
    return page_or_results(
        request, "web/capitation/remittance_list.html", "web/capitation/_remittances.html", context
    )


def _run_import(actor: User, payer: Payer, upload: UploadedFile, fmt: str | None) -> RemittanceImport:
    with on_disk(upload, "remittance") as (path, name):
        return import_capitation(actor=actor, payer=payer, path=path, file_name=name, fmt=fmt)


def _outcome(request: HttpRequest, record: RemittanceImport) -> None:
    name = record.file_name
    if record.status == RemittanceImport.Status.APPLIED:
        months = ", ".join(record.months) or "no month"
        messages.success(
            request,
            f"{name} was applied: {format_money(record.payment_cents)} for {months}, {record.lines} member-month "
            f"line{'s' if record.lines != 1 else ''}, {record.unknown_members} unknown member"
            f"{'s' if record.unknown_members != 1 else ''}.",
        )
    elif record.status == RemittanceImport.Status.DUPLICATE:
        messages.warning(request, f"{name} was imported before; nothing changed.")
    else:
        errors = len(record.errors or [])
        messages.error(
            request, f"{name} was rejected with {errors} error{'s' if errors != 1 else ''}; nothing changed."
        )


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def remittance_upload(request: HttpRequest) -> HttpResponseBase:
    """Upload a remittance: the import runs in the request and ends on the file's page. A file the import
    refuses outright (ValidationFailed) is shown on the form; a rejected file gets a record with its errors."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    form = RemittanceUploadForm(request.POST or None, request.FILES or None, actor=actor)
    return upload_page(
        request, form, lambda data: _run_import(actor, data["payer"], data["file"], data["format"] or None),
        outcome=_outcome, detail=record_url("web:capitation:remittance_detail"),
        fragment="web/capitation/_upload_form.html", page="web/capitation/remittance_upload.html",
    )  # fmt: skip


@never_cache
@domain_errors
@require_GET
def remittance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One file: payment, trace, months, counts, its lines by month and kind, warnings, errors, the 999."""
    actor = actor_of(request)
    record = selectors.remittance_get(actor, pk)
    context = {
        "record": record,
        "totals": selectors.remittance_totals(actor, record),
        "can_act": selectors.can_act(actor),
    }
    return render(request, "web/capitation/remittance_detail.html", context)


@never_cache
@domain_errors
@require_GET
def remittance_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file as received; recorded as a read of the members it paid."""
    actor = actor_of(request)
    record = selectors.remittance_get(actor, pk)
    path = selectors.remittance_file(actor, record, purpose=FILE_PURPOSE)
    return received_file(path, record.file_name)


@never_cache
@domain_errors
@require_GET
def remittance_ack(request: HttpRequest, pk: int) -> HttpResponse:
    """The 999 acknowledgment of an X12 remittance, as the file to send back to the payer."""
    record = selectors.remittance_get(actor_of(request), pk)
    return ack_download(request, record.ack_999, record.file_name, "remittance")
