"""A payer's capitation profile page: read by whoever reads capitation, changed by finance."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from openipa.capitation import selectors
from openipa.capitation.forms import CapitationProfileForm
from openipa.capitation.services.imports import profile_for
from openipa.capitation.services.profiles import capitation_profile_save
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Perm, has_perm, require
from openipa.membership.views.common import actor_of
from openipa.ui.errors import domain_errors
from openipa.ui.forms import apply_errors


@domain_errors
@require_http_methods(["GET", "POST"])
def capitation_profile(request: HttpRequest, payer_pk: int) -> HttpResponse:
    actor = actor_of(request)
    payer = selectors.payer_get(actor, payer_pk)
    profile = profile_for(payer)
    can_edit = has_perm(actor, Perm.EDIT_FINANCE)
    if request.method == "POST":
        require(actor, Perm.EDIT_FINANCE)
    form = CapitationProfileForm(
        request.POST if request.method == "POST" else None, profile=profile, disabled=not can_edit
    )
    if request.method == "POST" and form.is_valid():
        try:
            capitation_profile_save(actor=actor, payer=payer, data=form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Saved the capitation profile of {payer.name}.")
            return redirect("web:capitation:capitation_profile", payer_pk=payer.pk)
    context = {"payer": payer, "profile": profile, "form": form, "can_edit": can_edit}
    status = 400 if request.method == "POST" else 200
    return render(request, "web/capitation/profile.html", context, status=status)
