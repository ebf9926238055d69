"""Risk adjustment pages (VIEW_CLINICAL; the selectors scope a practice-scoped actor to its practice's members):

- ``/risk/``: the runs, and for one of them (the latest unless ``?run=``) the mean payment RAF by practice and
  the distribution of payment RAFs (bar charts), the top HCCs, and the approve button of a draft;
- ``/risk/runs/<id>/``: its members' scores, paginated (audited read), filtered by practice or HCC;
- ``/risk/runs/<id>/members/<member>/``: one member's score, the diagnoses behind each HCC with their source
  record and date, and the member's coding gaps (audited read);
- ``/risk/gaps/``: the coding gaps of a run per PCP, filtered by practice, PCP, kind and HCC, and their CSV
  (``?format=csv``, audited as an export).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.core.errors import ValidationFailed
from openipa.core.roles import is_practice_scoped
from openipa.membership.views.common import actor_of
from openipa.risk import selectors, services
from openipa.risk.models import CodingGap, RiskRun
from openipa.ui import charts
from openipa.ui.errors import domain_errors


def _milli(value: int | None) -> str:
    """Thousandths as "1.234" ("-" for none)."""
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 1000}.{abs(value) % 1000:03d}"


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # charts escape every text they write


def _run_of(request: HttpRequest, actor: Any) -> RiskRun | None:
    raw = request.GET.get("run", "")
    if raw.isdigit():
        return selectors.run_get(actor, int(raw))
    return selectors.latest_run(actor)


@never_cache
@domain_errors
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    runs = selectors.run_list(actor)
    run = _run_of(request, actor)
    context: dict[str, Any] = {
        "runs": [(r, _milli(r.mean_raf_milli), _milli(r.mean_payment_raf_milli)) for r in runs],
        "run": run,
    }
    if run is not None:
        context.update(run_raf=_milli(run.mean_raf_milli), run_payment_raf=_milli(run.mean_payment_raf_milli),
                       by_model=selectors.members_by_model(actor, run),
                       is_practice_scoped=is_practice_scoped(actor))  # fmt: skip
        means = selectors.practice_means(actor, run)
        spread = selectors.distribution(actor, run)
        label = "raw RAF" if run.raw_only else "payment RAF"
        context.update(
            means=[(m, _milli(m.mean_payment_raf_milli)) for m in means],
            top=selectors.top_hccs(run) if not is_practice_scoped(actor) else [],
            can_approve=selectors.can_approve(actor, run),
            by_practice=_safe(charts.bar_chart(
                [m.name for m in means], [charts.Series(label, tuple(m.mean_payment_raf_milli / 1000
                                                                                  for m in means))],
                title=f"Mean {label} by practice", x_label="Practice (PCP on February 1)", y_label="RAF",
                chart_id="risk-by-practice", plot_height=220,
            )),
            spread=_safe(charts.bar_chart(
                [band for band, _n in spread], [charts.Series("Members", tuple(float(n) for _l, n in spread))],
                title=f"Members by {label}", x_label=label[0].upper() + label[1:], y_label="Members", chart_id="risk-spread",
                plot_height=220,
            )),
        )  # fmt: skip
    return render(request, "web/risk/home.html", context)


@never_cache
@domain_errors
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    try:
        services.approve_run(actor, run)
    except ValidationFailed as exc:
        messages.error(request, "; ".join(m for ms in exc.fields.values() for m in ms))
    else:
        messages.success(
            request, f"Risk run {run.pk} approved: capitation of {run.payment_year} now uses it."
        )
    return redirect(f"{reverse('web:risk:home')}?run={run.pk}")


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    practice_id, hcc = _int(request.GET.get("practice")), request.GET.get("hcc", "").strip()
    page = selectors.score_page(actor, run, page=request.GET.get("page"), practice_id=practice_id, hcc=hcc,
                                purpose="risk scores page")  # fmt: skip
    rows = [
        (
            s,
            _milli(s.raf_milli),
            _milli(s.payment_raf_milli),
            s.model or run.model,
            selectors.esrd_segment_label(s.segment),
        )
        for s in page.items
    ]
    means = selectors.practice_means(actor, run)
    context = {
        "run": run,
        "by_model": selectors.members_by_model(actor, run),
        "page": page,
        "rows": rows,
        "practices": means,
        "practice_id": practice_id,
        "hcc": hcc,
    }
    return render(request, "web/risk/run.html", context)


@never_cache
@domain_errors
@require_GET
def member_detail(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    detail = selectors.score_detail(actor, run, member_id, purpose="risk score of a member")
    model = detail.score.model or run.model
    context = {"run": run, "d": detail, "raf": _milli(detail.score.raf_milli),
               "payment_raf": _milli(detail.score.payment_raf_milli), "model": model,
               "model_label": selectors.MODEL_LABELS.get(model, model),
               "segment_label": selectors.esrd_segment_label(detail.score.segment)}  # fmt: skip
    return render(request, "web/risk/member.html", context)


class GapFilterForm(forms.Form):
    practice = forms.TypedChoiceField(label="Practice", required=False, coerce=int, empty_value=None)
    provider = forms.TypedChoiceField(label="PCP", required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label="Kind", required=False)
    hcc = forms.ChoiceField(label="HCC", required=False)

    def __init__(self, data: Any, *, choices: dict[str, list[tuple[Any, str]]]) -> None:
        super().__init__(data)
        self.fields["practice"].choices = [("", "All practices"), *choices["practices"]]  # type: ignore[attr-defined]
        self.fields["provider"].choices = [("", "All PCPs"), *choices["providers"]]  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", "Both kinds"), *CodingGap.Kind.choices]  # type: ignore[attr-defined]
        self.fields["hcc"].choices = [("", "All HCCs"), *choices["hccs"]]  # type: ignore[attr-defined]


@never_cache
@domain_errors
@require_GET
def gaps(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    run = _run_of(request, actor)
    if run is None:
        return render(request, "web/risk/gaps.html", {"run": None})
    form = GapFilterForm(request.GET, choices=selectors.gap_filters(actor, run))
    filters: dict[str, Any] = {"practice_id": None, "provider_id": None, "kind": "", "hcc": ""}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"practice_id": data.get("practice"), "provider_id": data.get("provider"),
                   "kind": data.get("kind") or "", "hcc": data.get("hcc") or ""}  # fmt: skip
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(selectors.gap_export_rows(actor, run, purpose="coding gaps CSV", **filters))
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="coding-gaps-{run.payment_year}-run-{run.pk}.csv"'
        )
        response["Cache-Control"] = "no-store"
        return response
    page, groups = selectors.gap_page(actor, run, page=request.GET.get("page"), purpose="coding gaps page",
                                      **filters)  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    query["run"] = str(run.pk)
    context = {"run": run, "form": form, "page": page, "groups": groups, "csv_query": query.urlencode()}
    return render(request, "web/risk/gaps.html", context)


urlpatterns = [
    path("risk/", home, name="home"),
    path("risk/gaps/", gaps, name="gaps"),
    path("risk/runs/<int:pk>/", run_detail, name="run"),
    path("risk/runs/<int:pk>/approve/", approve, name="approve"),
    path("risk/runs/<int:pk>/members/<int:member_id>/", member_detail, name="member"),
]
