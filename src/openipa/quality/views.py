"""Quality pages (VIEW_CLINICAL; a practice-scoped actor sees its own practice's results only; ADR 0015):

- ``/quality/``: the stored runs, the latest run's rates against the IPA's targets and star levels, a trend
  chart per measure across the year's runs, a bar chart of one rate by practice, and "Run measures"
  (EDIT_CLINICAL staff: the same service as ``openipa quality run``);
- ``/quality/runs/<id>/``: one run: what it ran on, its rates, the rates per practice, the supplemental-data
  download per payer;
- ``/quality/gaps/``: the open care gaps of a run, filtered by rate, practice and PCP, paginated, and as CSV;
- ``/quality/runs/<id>/members/<member_id>/``: a member's results in a run with the evidence behind each.

Member-level reads (the gap list, its CSV, a member's results, the supplemental file) are audited.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.roles import is_practice_scoped
from openipa.membership.views.common import actor_of
from openipa.quality import selectors, services
from openipa.quality.engine.definitions import available_years
from openipa.quality.gapdata import default_spec
from openipa.quality.models import QualityRun
from openipa.ui import charts
from openipa.ui.errors import domain_errors


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # charts escape every text they write


def _csv_response(header: Iterable[object], rows: Iterable[Iterable[object]], name: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _streamed_csv(
    header: Iterable[object], rows: Iterable[Iterable[object]], name: str
) -> StreamingHttpResponse:
    """A CSV written as it is sent (a run's gaps can be hundreds of thousands of rows)."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in itertools.chain([header], rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class RunForm(forms.Form):
    year = forms.TypedChoiceField(label="Measurement year", coerce=int)
    as_of = forms.DateField(
        label="As of", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="PCP, practice and payer are taken on this day (default: today, at most 31 December).",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["year"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(y, str(y)) for y in reversed(available_years())]


def _run_label(run: QualityRun) -> str:
    return f"as of {run.as_of:%Y-%m-%d}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _percent(value: Any) -> float:
    return 0.0 if value is None else float(100 * value)


def _trend_charts(trend: selectors.Trend) -> list[tuple[str, SafeString]]:
    labels = [_run_label(r) for r in trend.runs]
    by_measure: dict[str, list[charts.Series]] = {}
    for (measure, rate), values in trend.values.items():
        if all(v is None for v in values):
            continue  # no denominator in any run: nothing to draw (a line at 0 would mislead)
        by_measure.setdefault(measure, []).append(charts.Series(rate, tuple(_percent(v) for v in values)))
    return [
        (measure, _safe(charts.line_chart(labels, series, title=f"{measure}: rate year to date", x_label="As of",
                                          y_label="% of denominator", chart_id="trend-" + _slug(measure),
                                          description=f"{measure}: each rate's percentage year to date, as of each run's day.",
                                          plot_height=160, width=520)))
        for measure, series in sorted(by_measure.items())
    ]  # fmt: skip


def _practice_chart(practices: list[selectors.PracticeRates], key: tuple[str, str]) -> SafeString:
    rows = [p for p in practices if key in p.rates]
    svg = charts.bar_chart(
        [p.practice for p in rows],
        [charts.Series(key[1], tuple(_percent(p.rates[key].rate_value) for p in rows))],
        title=f"{key[1]} by practice", x_label="Practice (PCP on the as-of date)", y_label="% of denominator",
        chart_id="rate-by-practice", plot_height=200,
        description=f"{key[1]}: the percentage of each practice's denominator in the numerator.",
    )  # fmt: skip
    return _safe(svg)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    runs = selectors.runs(actor)
    can_run = selectors.can_run(actor)
    form = RunForm(request.POST or None)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied("running the measures needs EDIT_CLINICAL")
        if form.is_valid():
            try:
                run = services.run_measures(actor, year=form.cleaned_data["year"], as_of=form.cleaned_data["as_of"],
                                            run_by=actor.username)  # fmt: skip
            except ValidationFailed as exc:
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, f"Quality run {run.pk} stored: {run.result_count:,} results, "
                                          f"{run.gap_count:,} open gaps.")  # fmt: skip
                return redirect(reverse("web:quality:run", args=[run.pk]))
    latest = runs[0] if runs else None
    context: dict[str, Any] = {"runs": runs, "latest": latest, "form": form, "can_run": can_run,
                               "scoped": is_practice_scoped(actor)}  # fmt: skip
    if latest is not None:
        rates = selectors.rate_rows(actor, latest)
        practices = selectors.practice_rates(actor, latest)
        keys = [(r.measure, r.rate) for r in rates]
        chosen = request.GET.get("rate", "")
        key = next((k for k in keys if f"{k[0]}|{k[1]}" == chosen), keys[0] if keys else None)
        context |= {
            "rates": rates,
            "trend_charts": _trend_charts(selectors.trend(actor, year=latest.measurement_year)),
            "rate_choices": [(f"{m}|{r}", r) for m, r in keys],
            "chosen_rate": f"{key[0]}|{key[1]}" if key else "",
            "practice_chart": _practice_chart(practices, key) if key else "",
        }
    return render(request, "web/quality/home.html", context, status=400 if form.errors else 200)


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    rates = selectors.rate_rows(actor, run)
    practices = selectors.practice_rates(actor, run)
    staff = not is_practice_scoped(actor)
    context = {
        "run": run,
        "rates": rates,
        "practices": practices,
        "rate_keys": [(r.measure, r.rate) for r in rates],
        "matrix": [(p, [p.rates.get((r.measure, r.rate)) for r in rates]) for p in practices],
        "payers": selectors.supplemental_payers(actor, run) if staff else [],
    }
    return render(request, "web/quality/run.html", context)


@never_cache
@domain_errors
@require_GET
def run_supplemental(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    payer = request.GET.get("payer", "")
    try:
        rows = list(
            selectors.supplemental_rows(actor, run, payer_code=payer, purpose="supplemental data export")
        )
    except ValidationFailed as exc:
        messages.error(request, "; ".join(m for ms in exc.fields.values() for m in ms))
        return redirect(reverse("web:quality:run", args=[run.pk]))
    name = f"supplemental-{payer}-MY{run.measurement_year}-run{run.pk}.csv"
    return _csv_response(selectors.SUPPLEMENTAL_HEADER, rows, name)


class GapFilterForm(forms.Form):
    run = forms.TypedChoiceField(label="Run", coerce=int, required=False, empty_value=None)
    rate = forms.ChoiceField(label="Measure", required=False)
    practice = forms.TypedChoiceField(label="Practice", coerce=int, required=False, empty_value=None)
    pcp = forms.TypedChoiceField(label="PCP", coerce=int, required=False, empty_value=None)

    def __init__(self, data: Any, *, runs: list[QualityRun], choices: selectors.GapChoices | None) -> None:
        super().__init__(data)
        self._set("run", [(r.pk, f"#{r.pk}: MY {r.measurement_year}, as of {r.as_of}") for r in runs])
        if choices is not None:
            self._set("rate", [("", "All"), *choices.measure_rates])
            self._set("practice", [("", "All"), *choices.practices])
            self._set("pcp", [("", "All"), *choices.pcps])

    def _set(self, name: str, values: list[tuple[Any, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = values


@never_cache
@domain_errors
@require_GET
def gaps(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    runs = selectors.runs(actor)
    run_id = request.GET.get("run", "")
    run = selectors.run_get(actor, int(run_id)) if run_id.isdigit() else (runs[0] if runs else None)
    choices = selectors.gap_choices(actor, run) if run is not None else None
    data = request.GET.copy()
    if run is not None:
        data["run"] = str(run.pk)
    form = GapFilterForm(data, runs=runs, choices=choices)
    filters = selectors.GapFilters()
    if form.is_valid():
        filters = selectors.GapFilters(form.cleaned_data["rate"] or "", form.cleaned_data["practice"],
                                       form.cleaned_data["pcp"])  # fmt: skip
    context: dict[str, Any] = {"form": form, "run": run, "page": None}
    if run is not None:
        if request.GET.get("format") == "csv":
            rows = selectors.gap_export_rows(actor, run, filters, purpose="care gap export")  # audited here
            return _streamed_csv(
                selectors.GAP_CSV_HEADER, rows, f"care-gaps-MY{run.measurement_year}-run{run.pk}.csv"
            )
        page = selectors.gap_page(
            actor,
            run,
            filters,
            page=request.GET.get("page"),
            purpose="care gap list",
            per_page=request.GET.get("per_page"),
        )
        context |= {
            "page": page,
            "rows": _gap_rows(run, page.items),
            "by_pcp": selectors.gaps_by_pcp(actor, run, filters),
            "year": run.measurement_year,
            "csv_query": _query(request, format="csv", page=None),
        }
    return render(request, "web/quality/gaps.html", context, status=200 if form.is_valid() else 400)


def _gap_rows(run: QualityRun, gaps: list[Any]) -> list[tuple[Any, str, tuple[str, ...]]]:
    """Each gap with the text of the service that closes it (for the run's year) and example codes."""
    specs = selectors.gap_specs(run)
    names = selectors.measure_names(run)
    rows = []
    for g in gaps:
        spec = specs.get((g.measure, g.rate)) or default_spec(names.get(g.measure, g.measure))
        rows.append((g, spec.closes_text(run.measurement_year), spec.example_codes))
    return rows


def _query(request: HttpRequest, **changes: str | None) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@never_cache
@domain_errors
@require_GET
def member_results(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    member, results = selectors.member_results(actor, run, member_id, purpose="quality results with evidence")
    context = {"run": run, "member": member, "results": results, "year": run.measurement_year}
    return render(request, "web/quality/member.html", context)


urlpatterns = [
    path("quality/", home, name="home"),
    path("quality/gaps/", gaps, name="gaps"),
    path("quality/runs/<int:pk>/", run_detail, name="run"),
    path("quality/runs/<int:pk>/supplemental/", run_supplemental, name="supplemental"),
    path("quality/runs/<int:pk>/members/<int:member_id>/", member_results, name="member"),
]
