"""Pages of the shell. Each view parses its input with a form, calls one selector or service, and renders.

Refusals come from the selectors and services (PermissionDenied, NotFound) and become the 403 and 404 pages
through `domain_errors`; validation failures come back as `ValidationFailed` and are shown next to the
fields. Reads of member data pass a purpose, which the selectors write to the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.accounts import services as account_services
from openipa.accounts.models import User
from openipa.contracts import selectors as contract_selectors
from openipa.contracts import services as contract_services
from openipa.contracts.models import Contract, ContractTerm, Payer
from openipa.core import selectors as core_selectors
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.pagination import paginate
from openipa.core.roles import (
    Perm,
    has_perm,
    is_practice_scoped,
    require,
    scoped_practice_id,
    sees_adt_notifications,
)
from openipa.membership import selectors as member_selectors
from openipa.network import selectors as network_selectors
from openipa.network import services as network_services
from openipa.network.models import Location, ParticipationAgreement, Practice, Provider
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.ui.forms import apply_errors, valid_data
from openipa.web import forms, portal, stats

ModelT = TypeVar("ModelT", bound=Model)


def _submit(
    request: HttpRequest,
    form: Any,
    save: Callable[[dict[str, Any]], ModelT],
    *,
    saved: Callable[[ModelT], str],
    detail: str,
    detail_pk: Callable[[ModelT], object] | None = None,
) -> HttpResponse | None:
    """On a valid POST, call the service `save` with the cleaned data: redirect to the object's `detail`
    page (or, with `detail_pk`, to the page of what the object hangs off, e.g. a location's practice) with
    the `saved` message, or put the service's refusal next to the form's fields and return None so the
    caller draws the form again."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        obj = save(dict(form.cleaned_data))
    except (ValidationFailed, ValidationError) as exc:
        apply_errors(form, exc)
        return None
    messages.success(request, saved(obj))
    return redirect(detail, pk=obj.pk if detail_pk is None else detail_pk(obj))


# ------------------------------------------------------------------------------------------ helpers


def _actor(request: HttpRequest) -> User:
    """The signed-in user. LoginRequiredMiddleware keeps anonymous requests out of every view below."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not signed in")
    return user


def _client_ip(request: HttpRequest) -> str | None:
    # The peer address only: X-Forwarded-For is client-controlled unless a trusted proxy sets it, and
    # trusting it would let an attacker rotate "addresses" past the throttle.
    return request.META.get("REMOTE_ADDR") or None


def _is_htmx_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "history_restore_request", False)


def _directory(request: HttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """A directory page, or only its results when htmx asks (search as you type)."""
    response = render(request, partial if _is_htmx_partial(request) else template, context)
    # The same URL answers with a fragment or a whole page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _today() -> dt.date:
    return timezone.localdate()


def _csv_response(
    filename: str, header: Iterable[str], rows: Iterator[Iterable[object]]
) -> StreamingHttpResponse:
    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    body = (writer.writerow(row) for row in itertools.chain([header], rows))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _primed(rows: Iterator[tuple[object, ...]]) -> Iterator[tuple[object, ...]]:
    """Run a row generator up to its first row now, so its permission check and audit record happen while
    the view can still answer 403, not after the response has started streaming."""
    first = next(rows, None)
    return rows if first is None else itertools.chain([first], rows)


# --------------------------------------------------------------------------------------- sign in/out


@login_not_required
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Sign in. A throttled user name or address is refused (429) before the password is looked at."""
    redirect_to = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        redirect_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        redirect_to = ""
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(redirect_to or settings.LOGIN_REDIRECT_URL)
    form = AuthenticationForm(request)
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        ip = _client_ip(request)
        if account_services.login_is_throttled(username=username, ip_address=ip):
            minutes = max(1, settings.LOGIN_THROTTLE_WINDOW_SECONDS // 60)
            form = AuthenticationForm(request, initial={"username": username})
            context = {
                "form": form,
                "next": redirect_to,
                "throttled": f"Too many failed sign-in attempts. Sign-in is locked for up to {minutes} "
                "minutes; try again later or ask an administrator.",
            }
            return render(request, "web/login.html", context, status=429)
        form = AuthenticationForm(request, data=request.POST)
        if form.is_valid():
            user = form.get_user()
            auth_login(request, user)
            account_services.login_succeeded(user=user, ip_address=ip)
            return HttpResponseRedirect(redirect_to or settings.LOGIN_REDIRECT_URL)
        account_services.login_failed(username=username, ip_address=ip)
    return render(request, "web/login.html", {"form": form, "next": redirect_to})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# ------------------------------------------------------------------------------------------ dashboard


CHART_MONTHS = 24  # the dashboard shows the most recent two years of member-months


def _member_months_chart() -> dict[str, Any]:
    """Member-months by payer and month, as a stacked bar chart and the table it is drawn from."""
    table = stats.member_months_by_payer_month()
    months = list(table.months[-CHART_MONTHS:])
    series = [
        charts.Series(code, tuple(per_month[m] for m in months))
        for code, per_month in table.by_payer_month.items()
    ]
    svg = charts.bar_chart(
        months,
        series,
        title="Member-months by payer and month",
        x_label="Coverage month",
        y_label="Member-months",
        stacked=True,
        chart_id="member-months",
    )
    totals = [sum(s.values[i] for s in series) for i in range(len(months))]
    # charts.bar_chart escapes every text it writes, so its markup is safe to embed.
    return {"svg": mark_safe(svg), "months": months, "series": series, "totals": totals}


def _require_network_wide_members(actor: User) -> None:
    """Network-wide member aggregates are for IPA staff who read members, not for a practice user."""
    require(actor, Perm.VIEW_MEMBERS)
    if is_practice_scoped(actor):
        raise PermissionDenied("network-wide member figures are not shown to practice users")


@domain_errors
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff: counts, the largest PCP panels, and the member-months chart (loaded after the page, as it
    is the slow part). A practice user: the practice portal home (`openipa.web.portal`): their own practice's
    panels, statements, offers awaiting an answer, and the cards loaded after the page (gaps, claims,
    authorizations, scorecard, value of membership); nothing about other practices."""
    actor = _actor(request)
    today = _today()
    scoped = is_practice_scoped(actor)
    context: dict[str, Any] = {"today": today, "scoped": scoped}
    if has_perm(actor, Perm.VIEW_MEMBERS):
        context["member_count"] = member_selectors.member_queryset(actor).count()
        context["eligible_count"] = member_selectors.member_queryset(actor, eligible_on=today).count()
        context["panels"] = member_selectors.pcp_panel_sizes(actor, on=today, limit=50 if scoped else 10)
    if scoped:
        context["practice"] = network_selectors.practice_get(actor, scoped_practice_id(actor))
    else:
        context["practice_count"] = network_selectors.practice_list(actor).count()
        context["provider_count"] = network_selectors.provider_list(actor).count()
        context["pcp_count"] = network_selectors.provider_list(actor, kind=Provider.Kind.PCP).count()
        context["show_chart"] = has_perm(actor, Perm.VIEW_MEMBERS)
        # the utilization app serves its own card (loaded after the page): the queue's counts
        context["um_summary"] = has_perm(actor, Perm.VIEW_UM)
    # the clinical app serves its own card (loaded after the page): new admissions, discharges and ED visits
    context["adt_summary"] = sees_adt_notifications(actor)
    if scoped:
        # the practice portal home: the quick cards here, the slow ones loaded after the page (htmx)
        practice = context["practice"]
        context["statements"] = portal.statements(actor, practice, today)
        context["offers"] = portal.offers_awaiting(actor, practice)
        context["sees_gaps"] = has_perm(actor, Perm.VIEW_GAPS)
        context["sees_claims"] = has_perm(actor, Perm.VIEW_CLAIMS)
        context["sees_um"] = has_perm(actor, Perm.VIEW_UM)
        context["sees_scorecard"] = has_perm(actor, Perm.VIEW_SCORECARDS)
        return render(request, "web/portal/home.html", context)
    return render(request, "web/dashboard.html", context)


@domain_errors
@require_GET
def member_months(request: HttpRequest) -> HttpResponse:
    """The member-months chart: a fragment for the dashboard (htmx), or a page of its own without htmx."""
    _require_network_wide_members(_actor(request))
    context = {"chart": _member_months_chart()}
    return _directory(request, "web/member_months.html", "web/_member_months.html", context)


# ------------------------------------------------------------------------------------------ practices


@domain_errors
@require_GET
def practice_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = forms.PracticeFilterForm(request.GET, actor=actor)
    data = valid_data(form)
    qs = network_selectors.practice_list(
        actor, q=data.get("q", ""), region=data.get("region", ""), status=data.get("status", "")
    )
    context = {
        "form": form,
        "page": paginate(qs, request.GET.get("page")),
        "can_create": has_perm(actor, Perm.EDIT_NETWORK),
    }
    return _directory(request, "web/practices/list.html", "web/practices/_results.html", context)


@never_cache  # finance sees bank details in clear here
@domain_errors
@require_GET
def practice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    practice = network_selectors.practice_get(actor, pk)
    show_contracts = network_selectors.agreement_fees_visible(actor)
    can_edit = has_perm(actor, Perm.EDIT_NETWORK)
    context = {
        "practice": practice,
        "bank": network_selectors.practice_bank_details(actor, practice),
        "locations": network_selectors.practice_locations(actor, practice),
        "agreements": network_selectors.practice_agreements(actor, practice),
        "providers": network_selectors.practice_providers(actor, practice, on=_today()),
        "show_contracts": show_contracts,
        "can_edit": can_edit,
        "can_edit_bank": has_perm(actor, Perm.EDIT_BANK),
        "can_join": can_edit and show_contracts,
        "can_see_members": has_perm(actor, Perm.VIEW_MEMBERS),
    }
    return render(request, "web/practices/detail.html", context)


def _practice_initial(practice: Practice) -> dict[str, Any]:
    return {name: getattr(practice, name) for name in network_services.PRACTICE_FIELDS}


@domain_errors
@require_http_methods(["GET", "POST"])
def practice_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a practice (no pk) or change one. Bank details are not on this form: finance changes them on
    their own page (`practice_bank_edit`)."""
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    practice = network_selectors.practice_get(actor, pk) if pk is not None else None
    initial = _practice_initial(practice) if practice is not None else None
    form = forms.PracticeForm(request.POST or None, actor=actor, initial=initial)

    def save(data: dict[str, Any]) -> Practice:
        if practice is None:
            return network_services.practice_create(actor=actor, data=data)
        return network_services.practice_update(actor=actor, practice=practice, data=data)

    done = _submit(
        request, form, save, saved=lambda p: f"Saved practice {p.legal_name}.", detail="web:practice_detail"
    )
    if done is not None:
        return done
    return render(request, "web/practices/form.html", {"form": form, "practice": practice})


def _practice_part(
    request: HttpRequest, form: Any, practice: Practice, *, heading: str, submit: str, intro: str = ""
) -> HttpResponse:
    context = {"form": form, "practice": practice, "heading": heading, "submit": submit, "intro": intro}
    return render(request, "web/practices/part_form.html", context)


@sensitive_post_parameters("bank_routing_number", "bank_account_number")
@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def practice_bank_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a practice's EFT bank details. Finance only: whoever edits the network cannot redirect a
    practice's payments."""
    actor = _actor(request)
    require(actor, Perm.EDIT_BANK)
    practice = network_selectors.practice_get(actor, pk)
    initial = {name: getattr(practice, name) for name in network_services.BANK_FIELDS}
    form = forms.BankDetailsForm(request.POST or None, initial=initial)
    done = _submit(
        request,
        form,
        lambda data: network_services.practice_bank_update(actor=actor, practice=practice, data=data),
        saved=lambda p: f"Saved the bank details of {p.legal_name}.",
        detail="web:practice_detail",
    )
    if done is not None:
        return done
    return _practice_part(
        request,
        form,
        practice,
        heading="Bank details",
        submit="Save bank details",
        intro="EFT payments to the practice go to this account. The change is audited, with the numbers masked.",
    )


@domain_errors
@require_http_methods(["GET", "POST"])
def location_edit(
    request: HttpRequest, practice_pk: int | None = None, pk: int | None = None
) -> HttpResponse:
    """Add a location to a practice (`practice_pk`) or change one (`pk`)."""
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    location = network_selectors.location_get(actor, pk) if pk is not None else None
    practice = (
        location.practice if location is not None else network_selectors.practice_get(actor, practice_pk or 0)
    )
    initial = {n: getattr(location, n) for n in network_services.LOCATION_FIELDS} if location else None
    form = forms.LocationForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> Location:
        if location is None:
            return network_services.location_create(actor=actor, practice=practice, data=data)
        return network_services.location_update(actor=actor, location=location, data=data)

    done = _submit(
        request,
        form,
        save,
        saved=lambda loc: f"Saved location {loc.name}.",
        detail="web:practice_detail",
        detail_pk=lambda loc: loc.practice_id,
    )
    if done is not None:
        return done
    heading = f"Edit location {location.name}" if location else "New location"
    return _practice_part(request, form, practice, heading=heading, submit="Save location")


@domain_errors
@require_http_methods(["GET", "POST"])
def agreement_edit(
    request: HttpRequest, practice_pk: int | None = None, pk: int | None = None
) -> HttpResponse:
    """Add a participation agreement to a practice (`practice_pk`), or change one's status, fees and end
    (`pk`). The admin-fee fields are offered only to users who may read contracts."""
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    agreement = network_selectors.agreement_get(actor, pk) if pk is not None else None
    practice = (
        agreement.practice
        if agreement is not None
        else network_selectors.practice_get(actor, practice_pk or 0)
    )
    initial = None
    if agreement is not None:
        initial = {n: getattr(agreement, n) for n in network_services.AGREEMENT_UPDATE_FIELDS}
    form = forms.AgreementForm(
        request.POST or None, actor=actor, initial=initial, editing=agreement is not None
    )

    def save(data: dict[str, Any]) -> ParticipationAgreement:
        if agreement is None:
            return network_services.agreement_create(actor=actor, practice=practice, data=data)
        return network_services.agreement_update(actor=actor, agreement=agreement, data=data)

    done = _submit(
        request,
        form,
        save,
        saved=lambda a: f"Saved the agreement from {a.valid_from.isoformat()}.",
        detail="web:practice_detail",
        detail_pk=lambda a: a.practice_id,
    )
    if done is not None:
        return done
    heading = (
        f"Agreement from {agreement.valid_from.isoformat()}" if agreement else "New participation agreement"
    )
    return _practice_part(request, form, practice, heading=heading, submit="Save agreement")


@domain_errors
@require_http_methods(["GET", "POST"])
def contract_join(request: HttpRequest, agreement_pk: int) -> HttpResponse:
    """The practice joins a payer contract under one of its agreements."""
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    require(actor, Perm.VIEW_CONTRACTS)
    agreement = network_selectors.agreement_get(actor, agreement_pk)
    form = forms.ContractJoinForm(
        request.POST or None, actor=actor, initial={"valid_from": agreement.valid_from}
    )
    done = _submit(
        request,
        form,
        lambda data: network_services.contract_join(actor=actor, agreement=agreement, **data),
        saved=lambda cp: f"{agreement.practice.code} joined {cp.contract.number}.",
        detail="web:practice_detail",
        detail_pk=lambda _cp: agreement.practice_id,
    )
    if done is not None:
        return done
    span = f"{agreement.valid_from.isoformat()} to {agreement.valid_to.isoformat() if agreement.valid_to else 'open'}"
    return _practice_part(
        request,
        form,
        agreement.practice,
        heading="Join a contract",
        submit="Join",
        intro=f"Under the agreement of {span}. The dates must lie within the agreement's and the contract's.",
    )


@domain_errors
@require_http_methods(["GET", "POST"])
def contract_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """The practice leaves a contract it joined: its last day in it."""
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    participation = network_selectors.participation_get(actor, pk)
    practice = participation.agreement.practice
    form = forms.EndDateForm(request.POST or None, initial={"valid_to": participation.valid_to})
    done = _submit(
        request,
        form,
        lambda data: network_services.contract_leave(actor=actor, participation=participation, **data),
        saved=lambda cp: f"{practice.code} leaves {cp.contract.number} after {cp.valid_to}.",
        detail="web:practice_detail",
        detail_pk=lambda _cp: practice.pk,
    )
    if done is not None:
        return done
    return _practice_part(
        request,
        form,
        practice,
        heading=f"Leave {participation.contract.number}",
        submit="Leave the contract",
        intro=f"Joined from {participation.valid_from.isoformat()}.",
    )


# ------------------------------------------------------------------------------------------ providers


@domain_errors
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = forms.ProviderFilterForm(request.GET, actor=actor)
    data = valid_data(form)
    qs = network_selectors.provider_list(
        actor,
        q=data.get("q", ""),
        kind=data.get("kind", ""),
        specialty=data.get("specialty", ""),
        practice_id=data.get("practice"),
        accepting=form.accepting_value(),
    )
    context = {
        "form": form,
        "page": paginate(qs, request.GET.get("page")),
        "can_create": has_perm(actor, Perm.EDIT_NETWORK),
    }
    return _directory(request, "web/providers/list.html", "web/providers/_results.html", context)


@domain_errors
@require_GET
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    provider = network_selectors.provider_get(actor, pk)
    affiliations = network_selectors.provider_affiliations(actor, provider)
    if is_practice_scoped(actor):
        # The directory shows every provider, but where they practise besides here is other practices' data.
        affiliations = affiliations.filter(practice_id=scoped_practice_id(actor))
    context = {
        "provider": provider,
        "private_visible": network_selectors.provider_private_visible(actor, provider),
        "affiliations": affiliations,
        "can_edit": has_perm(actor, Perm.EDIT_NETWORK),
    }
    return render(request, "web/providers/detail.html", context)


def _provider_initial(provider: Provider) -> dict[str, Any]:
    return {name: getattr(provider, name) for name in network_services.PROVIDER_FIELDS}


@domain_errors
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    provider = network_selectors.provider_get(actor, pk) if pk is not None else None
    initial = _provider_initial(provider) if provider is not None else None
    form = forms.ProviderForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> Provider:
        if provider is None:
            return network_services.provider_create(actor=actor, data=data)
        return network_services.provider_update(actor=actor, provider=provider, data=data)

    done = _submit(request, form, save, saved=lambda p: f"Saved provider {p}.", detail="web:provider_detail")
    if done is not None:
        return done
    return render(request, "web/providers/form.html", {"form": form, "provider": provider})


@domain_errors
@require_http_methods(["GET", "POST"])
def affiliation_create(request: HttpRequest, provider_pk: int) -> HttpResponse:
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    provider = network_selectors.provider_get(actor, provider_pk)
    form = forms.AffiliationForm(request.POST or None, actor=actor)
    done = _submit(
        request,
        form,
        lambda data: network_services.affiliation_create(actor=actor, provider=provider, **data),
        saved=lambda a: (
            f"{provider} is affiliated with {a.practice.legal_name} from {a.valid_from.isoformat()}."
        ),
        detail="web:provider_detail",
        detail_pk=lambda a: a.provider_id,
    )
    if done is not None:
        return done
    context = {"form": form, "provider": provider, "heading": "New affiliation", "submit": "Add affiliation"}
    return render(request, "web/providers/part_form.html", context)


@domain_errors
@require_http_methods(["GET", "POST"])
def affiliation_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an affiliation: refused, with the count, while members still have the provider as PCP there."""
    actor = _actor(request)
    require(actor, Perm.EDIT_NETWORK)
    affiliation = network_selectors.affiliation_get(actor, pk)
    form = forms.EndDateForm(request.POST or None, initial={"valid_to": affiliation.valid_to})
    done = _submit(
        request,
        form,
        lambda data: network_services.affiliation_end(actor=actor, affiliation=affiliation, **data),
        saved=lambda a: f"The affiliation with {a.practice.legal_name} ends on {a.valid_to}.",
        detail="web:provider_detail",
        detail_pk=lambda a: a.provider_id,
    )
    if done is not None:
        return done
    context = {
        "form": form,
        "provider": affiliation.provider,
        "heading": f"End the affiliation with {affiliation.practice.legal_name}",
        "submit": "End affiliation",
        "intro": f"From {affiliation.valid_from.isoformat()}.",
    }
    return render(request, "web/providers/part_form.html", context)


# -------------------------------------------------------------------------------------------- members


@never_cache
@domain_errors
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = forms.MemberFilterForm(request.GET, actor=actor)
    page = member_selectors.member_page(
        actor, page=request.GET.get("page"), purpose="member directory", **form.filters()
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "export_query": query.urlencode()}
    return _directory(request, "web/members/list.html", "web/members/_results.html", context)


@never_cache
@domain_errors
@require_GET
def member_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered member directory as CSV, scoped like the page; the export is one audited read."""
    actor = _actor(request)
    form = forms.MemberFilterForm(request.GET, actor=actor)
    today = _today()
    rows = member_selectors.member_export_rows(actor, on=today, purpose="member CSV export", **form.filters())
    return _csv_response(f"members-{today.isoformat()}.csv", member_selectors.EXPORT_COLUMNS, _primed(rows))


@never_cache
@domain_errors
@require_GET
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    member = member_selectors.member_get(actor, pk, purpose="member page")
    today = _today()
    context = {
        "member": member,
        # eligibility and PCP spans, the roster files behind them and the member's roster changes
        "timeline": member_selectors.member_timeline(actor, member, today=today),
        "today": today,
        "can_view_audit": has_perm(actor, Perm.VIEW_AUDIT),
    }
    return render(request, "web/members/detail.html", context)


# --------------------------------------------------------------------------------------------- payers


@domain_errors
@require_GET
def payer_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = forms.PayerFilterForm(request.GET, actor=actor)
    data = valid_data(form)
    qs = contract_selectors.payer_list(actor, q=data.get("q", ""))
    context = {
        "form": form,
        "page": paginate(qs, request.GET.get("page")),
        "can_create": has_perm(actor, Perm.EDIT_CONTRACTS),
    }
    return _directory(request, "web/payers/list.html", "web/payers/_results.html", context)


@domain_errors
@require_GET
def payer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    payer = contract_selectors.payer_get(actor, pk)
    context = {
        "payer": payer,
        "products": contract_selectors.product_list(actor, payer_id=payer.pk),
        "contracts": contract_selectors.contract_list(actor, payer_id=payer.pk),
        "can_edit": has_perm(actor, Perm.EDIT_CONTRACTS),
    }
    return render(request, "web/payers/detail.html", context)


@domain_errors
@require_http_methods(["GET", "POST"])
def payer_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    require(actor, Perm.EDIT_CONTRACTS)
    payer: Payer | None = contract_selectors.payer_get(actor, pk) if pk is not None else None
    initial = {"name": payer.name, "code": payer.code, "x12_payer_id": payer.x12_payer_id} if payer else None
    form = forms.PayerForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> Payer:
        if payer is None:
            return contract_services.payer_create(actor=actor, data=data)
        return contract_services.payer_update(actor=actor, payer=payer, data=data)

    done = _submit(request, form, save, saved=lambda p: f"Saved payer {p.name}.", detail="web:payer_detail")
    if done is not None:
        return done
    return render(request, "web/payers/form.html", {"form": form, "payer": payer})


# ------------------------------------------------------------------------------------------ contracts


@domain_errors
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = forms.ContractFilterForm(request.GET, actor=actor)
    data = valid_data(form)
    qs = contract_selectors.contract_list(
        actor,
        q=data.get("q", ""),
        payer_id=data.get("payer"),
        status=data.get("status", ""),
        legal_basis=data.get("legal_basis", ""),
    )
    context = {
        "form": form,
        "page": paginate(qs, request.GET.get("page")),
        "can_create": has_perm(actor, Perm.EDIT_CONTRACTS),
    }
    return _directory(request, "web/contracts/list.html", "web/contracts/_results.html", context)


@domain_errors
@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = contract_selectors.contract_get(actor, pk)
    context = {
        "contract": contract,
        "terms": contract_selectors.term_list(actor, contract),
        "products": contract.products.order_by("code"),
        "can_edit": has_perm(actor, Perm.EDIT_CONTRACTS),
    }
    return render(request, "web/contracts/detail.html", context)


@domain_errors
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    require(actor, Perm.EDIT_CONTRACTS)
    contract: Contract | None = contract_selectors.contract_get(actor, pk) if pk is not None else None
    initial = None
    if contract is not None:
        initial = {name: getattr(contract, name) for name in contract_services.CONTRACT_FIELDS}
        initial["products"] = list(contract.products.all())
    form = forms.ContractForm(request.POST or None, actor=actor, initial=initial)

    def save(data: dict[str, Any]) -> Contract:
        products = list(data.pop("products"))
        if contract is None:
            return contract_services.contract_create(actor=actor, data=data, products=products)
        return contract_services.contract_update(actor=actor, contract=contract, data=data, products=products)

    done = _submit(
        request, form, save, saved=lambda c: f"Saved contract {c.number}.", detail="web:contract_detail"
    )
    if done is not None:
        return done
    return render(request, "web/contracts/form.html", {"form": form, "contract": contract})


@domain_errors
@require_http_methods(["GET", "POST"])
def term_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    actor = _actor(request)
    require(actor, Perm.EDIT_CONTRACTS)
    contract = contract_selectors.contract_get(actor, contract_pk)
    initial = {"valid_from": contract.valid_from, "valid_to": contract.valid_to}
    form = forms.TermForm(request.POST or None, initial=initial)
    done = _submit(
        request,
        form,
        lambda data: contract_services.term_create(actor=actor, contract=contract, data=data),
        saved=lambda _term: "Added the term version. Upload its rate table below.",
        detail="web:term_detail",
    )
    if done is not None:
        return done
    return render(request, "web/contracts/term_form.html", {"form": form, "contract": contract})


def _dofr_formset(actor: User, term: ContractTerm, data: Any = None) -> Any:
    """The DOFR table as editable lines: one per category, then a few empty lines to add categories."""
    initial = [
        {"service_category": e.service_category, "responsible_party": e.responsible_party, "notes": e.notes}
        for e in contract_selectors.dofr_entries(actor, term)
    ]
    return forms.DofrFormSet(data, initial=initial, prefix="dofr")


def _term_context(
    actor: User, term: ContractTerm, upload: forms.RateTableUploadForm, dofr_form: Any = None
) -> dict[str, Any]:
    can_edit = has_perm(actor, Perm.EDIT_CONTRACTS)
    if dofr_form is None and can_edit:
        dofr_form = _dofr_formset(actor, term)
    return {
        "term": term,
        "contract": term.contract,
        "rate_cells": contract_selectors.rate_cells(actor, term),
        "dofr": contract_selectors.dofr_entries(actor, term),
        "upload": upload,
        "dofr_form": dofr_form,
        "can_edit": can_edit,
    }


@domain_errors
@require_GET
def term_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    term = contract_selectors.term_get(actor, pk)
    return render(
        request, "web/contracts/term_detail.html", _term_context(actor, term, forms.RateTableUploadForm())
    )


@domain_errors
@require_POST
def rate_table_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace a term version's rate table from an uploaded CSV; every error names its line and column."""
    actor = _actor(request)
    require(actor, Perm.EDIT_CONTRACTS)
    term = contract_selectors.term_get(actor, pk)
    form = forms.RateTableUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            cells = contract_services.rate_table_import(
                actor=actor, term=term, text=form.cleaned_data["file"], filename=form.filename
            )
        except ValidationFailed as exc:
            form.add_error("file", f"{form.filename} was not imported; nothing changed.")
            for message in exc.fields.get("file", []):
                form.add_error("file", message)
            exc.fields.pop("file", None)
            if exc.fields:
                apply_errors(form, ValidationFailed(exc.fields))
        else:
            messages.success(request, f"Imported {len(cells)} rates from {form.filename}.")
            return redirect("web:term_detail", pk=term.pk)
    return render(request, "web/contracts/term_detail.html", _term_context(actor, term, form), status=400)


def _apply_dofr_errors(formset: Any, lines: list[int], exc: ValidationFailed) -> list[str]:
    """Put the service's `entries.<i>.<field>` messages next to that field of the line they came from;
    return the messages about no line in particular."""
    unplaced: list[str] = []
    for key, messages_ in exc.fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "entries" and parts[1].isdigit() and int(parts[1]) < len(lines):
            form = formset.forms[lines[int(parts[1])]]
            for message in messages_:
                form.add_error(parts[2] if parts[2] in form.fields else None, message)
        else:
            unplaced.extend(messages_)
    return unplaced


@domain_errors
@require_POST
def dofr_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace a term version's DOFR table from its editable lines: all valid, or nothing changes and each
    error is shown next to its field on its line."""
    actor = _actor(request)
    require(actor, Perm.EDIT_CONTRACTS)
    term = contract_selectors.term_get(actor, pk)
    formset = _dofr_formset(actor, term, request.POST)
    unplaced: list[str] = []
    if formset.is_valid():
        lines = [i for i, form in enumerate(formset.forms) if form.is_entry]
        rows = [
            contract_services.DofrRow(
                formset.forms[i].cleaned_data["service_category"],
                formset.forms[i].cleaned_data["responsible_party"],
                formset.forms[i].cleaned_data.get("notes") or "",
            )
            for i in lines
        ]
        try:
            entries = contract_services.dofr_set(actor=actor, term=term, entries=rows)
        except ValidationFailed as exc:
            unplaced = _apply_dofr_errors(formset, lines, exc)
        else:
            messages.success(request, f"Saved the DOFR table: {len(entries)} service categories.")
            return redirect("web:term_detail", pk=term.pk)
    context = _term_context(actor, term, forms.RateTableUploadForm(), formset)
    context["dofr_errors"] = [*formset.non_form_errors(), *unplaced]
    return render(request, "web/contracts/term_detail.html", context, status=400)


# ---------------------------------------------------------------------------------------------- audit


@never_cache
@domain_errors
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require(actor, Perm.VIEW_AUDIT)
    form = forms.AuditFilterForm(request.GET, actor=actor)
    qs = core_selectors.audit_events(actor, **form.filters())
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": paginate(qs, request.GET.get("page"), 50),
        "export_query": query.urlencode(),
    }
    return _directory(request, "web/audit/list.html", "web/audit/_results.html", context)


@never_cache
@domain_errors
@require_GET
def audit_export(request: HttpRequest) -> HttpResponseBase:
    actor = _actor(request)
    require(actor, Perm.VIEW_AUDIT)
    form = forms.AuditFilterForm(request.GET, actor=actor)
    rows = core_selectors.audit_export_rows(actor, purpose="audit log export", **form.filters())
    return _csv_response(f"audit-{_today().isoformat()}.csv", core_selectors.AUDIT_EXPORT_COLUMNS, rows)
