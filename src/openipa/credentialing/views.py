"""Exclusion screening pages (credentialing staff; auditors read; practice users are refused):

- the screening page: when the last screening ran and when the next is due (overdue in red), the open alerts
  highest score first, the recent runs and reviews;
- one run: its lists, counts, every match and the rows rejected from its files;
- one alert: the provider beside the list entry, and the review (confirm or dismiss, with a note);
- the upload form: the same screening as `openipa credentialing screen`, run in the request behind a progress
  indicator.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.accounts.models import User
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Perm, require
from openipa.credentialing import selectors
from openipa.credentialing.forms import HitReviewForm, ScreeningUploadForm
from openipa.credentialing.models import ScreeningHit, ScreeningRun
from openipa.credentialing.services import review_hit, screen
from openipa.membership.views.common import actor_of, on_disk, record_url, upload_page
from openipa.ui.errors import domain_errors


@never_cache
@domain_errors
@require_GET
def screening(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context = {
        "sweep": selectors.sweep_status(actor, timezone.localdate()),
        "alerts": selectors.open_alerts(actor)[:200],
        "alert_count": selectors.open_alerts(actor).count(),
        "runs": selectors.run_list(actor),
        "reviews": selectors.recent_reviews(actor),
        "can_edit": selectors.can_edit(actor),
    }
    return render(request, "web/credentialing/screening.html", context)


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    imports = [i for i in (run.leie_import, run.sam_import) if i is not None]
    context = {"run": run, "imports": imports, "hits": selectors.run_hits(actor, run)}
    return render(request, "web/credentialing/run_detail.html", context)


def _hit_page(
    request: HttpRequest, hit: ScreeningHit, form: HitReviewForm | None, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    can_review = selectors.can_edit(actor) and hit.status == ScreeningHit.Status.OPEN
    context = {
        "hit": hit,
        "provider": hit.provider,
        "matched": sorted(hit.matched.items()),
        "form": (form or HitReviewForm()) if can_review else None,
        # a refusal the form cannot show (the alert was reviewed meanwhile)
        "refusal": [str(m) for m in form.non_field_errors()] if form is not None and not can_review else [],
    }
    return render(request, "web/credentialing/hit_detail.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def hit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _hit_page(request, selectors.hit_get(actor_of(request), pk), None)


@never_cache
@domain_errors
@require_POST
def hit_review(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Confirm or dismiss an alert. Refused (400, the alert with the errors): nothing changed."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_CREDENTIALING)
    hit = selectors.hit_get(actor, pk)
    form = HitReviewForm(request.POST)
    if form.is_valid():
        try:
            hit = review_hit(
                actor=actor, hit=hit, decision=form.cleaned_data["decision"], note=form.cleaned_data["note"]
            )
        except ValidationFailed as exc:
            form.put_errors(exc)
        else:
            verb = (
                "confirmed: the provider is recorded as excluded"
                if hit.status == "confirmed"
                else "dismissed"
            )
            messages.success(request, f"Alert {hit.pk} ({hit.provider}) was {verb}.")
            return redirect(reverse("web:credentialing:screening"))
    hit = selectors.hit_get(actor, pk)
    return _hit_page(request, hit, form, status=400)


def _run_screen(actor: User, data: dict[str, Any]) -> ScreeningRun:
    with contextlib.ExitStack() as stack:
        leie_path, leie_name = stack.enter_context(on_disk(data["leie"], "leie"))
        sam_path: Path | None = None
        sam_name: str | None = None
        if data.get("sam"):
            sam_path, sam_name = stack.enter_context(on_disk(data["sam"], "sam"))
        return screen(
            actor=actor, leie_path=leie_path, leie_name=leie_name, sam_path=sam_path, sam_name=sam_name,
            run_by=actor.username,
        )  # fmt: skip


def _outcome(request: HttpRequest, run: ScreeningRun) -> None:
    messages.success(
        request,
        f"Screened {run.providers_screened:,} providers: {run.matches:,} match{'es' if run.matches != 1 else ''}, "
        f"{run.new_alerts:,} new alert{'s' if run.new_alerts != 1 else ''}, {run.rejected_rows:,} rejected "
        f"row{'s' if run.rejected_rows != 1 else ''}.",
    )


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponseBase:
    """Upload the lists and screen: ends on the run's page. A file not in its list's layout is shown on the
    form, nothing changed."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_CREDENTIALING)
    form = ScreeningUploadForm(request.POST or None, request.FILES or None)
    return upload_page(
        request, form, lambda data: _run_screen(actor, data),
        outcome=_outcome, detail=record_url("web:credentialing:run_detail"),
        fragment="web/credentialing/upload_form.html", page="web/credentialing/upload.html",
    )  # fmt: skip


urlpatterns = [
    path("credentialing/screening/", screening, name="screening"),
    path("credentialing/screening/upload/", upload, name="upload"),
    path("credentialing/screening/runs/<int:pk>/", run_detail, name="run_detail"),
    path("credentialing/screening/alerts/<int:pk>/", hit_detail, name="hit_detail"),
    path("credentialing/screening/alerts/<int:pk>/review/", hit_review, name="hit_review"),
]
