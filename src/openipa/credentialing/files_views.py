"""Credentialing files pages (credentialing staff edit; auditors and the administrator read; practice users are
refused and change nothing):

- files: the list with a status filter (in progress, complete, decided) and "open a file";
- a file: its checklist on a committee date (today or ``?on=``): each required element verified, missing, stale
  or expired, and the date by which it must be redone; its verifications with their documents; its decisions;
- the verification form with its document upload; the committee's decision form;
- the committee: the queue of files complete today, and the decision letters waiting to be sent (late in red),
  each letter as a PDF and "mark sent";
- expirables: licenses, DEA, board certifications and insurance expired or expiring in 30/60/90 days (a chart and
  the table) and the recredentialing due list;
- delegation: per payer, the roster's adds, terms and changes between two dates (page and CSV) and the
  semiannual delegation report (page and CSV).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Perm, require
from openipa.credentialing import selectors
from openipa.credentialing.engine.files import BUCKETS
from openipa.credentialing.forms import DecisionForm, FileOpenForm, LetterSentForm, VerificationForm
from openipa.credentialing.letters import letter_pdf
from openipa.credentialing.models import CommitteeDecision, CredentialingFile
from openipa.credentialing.services import decide, mark_letter_sent, open_file, record_verification
from openipa.membership.views.common import actor_of, csv_download, on_disk
from openipa.ui import charts
from openipa.ui.errors import domain_errors


def _day(request: HttpRequest, name: str, default: dt.date) -> tuple[dt.date, bool]:
    """The date in the query parameter ``name`` (or ``default``), and whether it was well formed; a bad one is
    reported with a message and the default used."""
    text = request.GET.get(name)
    if not text:
        return default, True
    try:
        return dt.date.fromisoformat(text), True
    except ValueError:
        messages.error(request, f"{text!r} is not a date (YYYY-MM-DD): {default.isoformat()} is shown.")
        return default, False


@never_cache
@domain_errors
@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status", "")
    if status not in selectors.FILE_STATUSES:
        status = ""
    today = timezone.localdate()
    rows = selectors.file_list(actor, status, today)
    counts = Counter(shown for _f, shown in (rows if not status else selectors.file_list(actor, "", today)))
    context = {
        "rows": rows[:500],
        "total": len(rows),
        "status": status,
        "statuses": [("", "All", sum(counts.values()))]
        + [(s, s.replace("_", " ").capitalize(), counts[s]) for s in selectors.FILE_STATUSES],
        "can_edit": selectors.can_edit(actor),
        "today": today,
    }
    return render(request, "web/credentialing/files.html", context)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def file_open(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_CREDENTIALING)
    initial = {"prescribes": True, "kind": "initial", "provider": request.GET.get("provider")}
    form = FileOpenForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                file = open_file(
                    actor=actor, provider=data["provider"], kind=data["kind"], opened_on=data["opened_on"],
                    board_certification_claimed=data["board_certification_claimed"],
                    prescribes=data["prescribes"], note=data["note"],
                )  # fmt: skip
            except ValidationFailed as exc:
                form.put_errors(exc)
            else:
                messages.success(request, f"{file} was opened.")
                return redirect(reverse("web:credentialing:file_detail", args=[file.pk]))
    return render(request, "web/credentialing/file_open.html", {"form": form}, status=status)


def _file_page(
    request: HttpRequest,
    file: CredentialingFile,
    *,
    on: dt.date | None = None,
    decision_form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    today = timezone.localdate()
    on = on or today
    try:
        judged = selectors.checklist(file, on)
    except ValidationFailed as exc:  # no rules in force that day
        messages.error(
            request, f"{exc.fields.get('decided_on', [str(exc)])[0]}: {today.isoformat()} is shown."
        )
        on, status = today, 400
        judged = selectors.checklist(file, on)
    can_edit = selectors.can_edit(actor) and file.status == CredentialingFile.Status.IN_PROGRESS
    context = {
        "file": file,
        "provider": file.provider,
        "check": judged,
        "on": on,
        "today": today,
        "verifications": file.verifications.select_related("element").order_by("-verified_on", "-id"),
        "decisions": file.decisions.order_by("-decided_on", "-id"),
        "excluded": selectors.excluded_on_or_after(file.provider_id, on),
        "alerts": selectors.open_alerts(actor).filter(provider_id=file.provider_id),
        "can_edit": can_edit,
        "can_renew": selectors.can_edit(actor) and file.status == CredentialingFile.Status.DECIDED,
        "decision_form": (decision_form or DecisionForm(initial={"decided_on": on})) if can_edit else None,
    }
    return render(request, "web/credentialing/file_detail.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    file = selectors.file_get(actor_of(request), pk)
    on, good = _day(request, "on", timezone.localdate())
    return _file_page(request, file, on=on, status=200 if good else 400)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def verification_new(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Record a verification of an element of an open file, with its document."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_CREDENTIALING)
    file = selectors.file_get(actor, pk)
    elements = [r.element for r in selectors.checklist(file, timezone.localdate()).rows]
    if file.status == CredentialingFile.Status.DECIDED:  # renewals of expiring credentials only
        elements = [e for e in elements if e.expires]
    initial = {"element": request.GET.get("element"), "verified_on": timezone.localdate()}
    form = VerificationForm(request.POST or None, request.FILES or None, initial=initial, elements=elements)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                with on_disk(data["document"], "document") as (doc, name):
                    v = record_verification(
                        actor=actor, file=file, element=data["element"].code, source=data["source"],
                        method=data["method"], verified_on=data["verified_on"], result=data["result"],
                        expires_on=data["expires_on"], reference=data["reference"], note=data["note"],
                        document=doc, document_name=name,
                    )  # fmt: skip
            except ValidationFailed as exc:
                form.put_errors(exc)
            else:
                messages.success(
                    request, f"{v.element.name}: {v.get_result_display().lower()} on {v.verified_on}."
                )
                return redirect(reverse("web:credentialing:file_detail", args=[file.pk]))
    context = {"file": file, "provider": file.provider, "form": form}
    return render(request, "web/credentialing/verification_form.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def verification_document(request: HttpRequest, pk: int) -> FileResponse:
    v = selectors.verification_get(actor_of(request), pk)
    stored = Path(settings.VAR_DIR) / v.document_path
    if not v.document_path or not stored.is_file():
        raise NotFound(f"the document of verification {pk}")
    kind = mimetypes.guess_type(v.document_name)[0] or "application/octet-stream"
    return FileResponse(stored.open("rb"), as_attachment=True, filename=v.document_name, content_type=kind)


@never_cache
@domain_errors
@require_POST
def file_decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The committee's decision. Refused (400, the file with the errors): nothing changed."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_CREDENTIALING)
    file = selectors.file_get(actor, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = decide(
                actor=actor, file=file, decided_on=data["decided_on"], decision=data["decision"],
                minutes=data["minutes"], conditions=data["conditions"],
            )  # fmt: skip
        except ValidationFailed as exc:
            form.put_errors(exc)
        else:
            tail = f"; letter due {made.letter_due}" if made.letter_due else ""
            messages.success(request, f"{file.provider}: {made.get_decision_display().lower()}{tail}.")
            return redirect(reverse("web:credentialing:file_detail", args=[file.pk]))
    on = form.cleaned_data.get("decided_on") if hasattr(form, "cleaned_data") else None
    return _file_page(request, selectors.file_get(actor, pk), on=on, decision_form=form, status=400)


@never_cache
@domain_errors
@require_GET
def committee(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    today = timezone.localdate()
    context = {
        "queue": selectors.committee_queue(actor, today),
        "letters": selectors.letters_pending(actor),
        "today": today,
        "can_edit": selectors.can_edit(actor),
        "sent_form": LetterSentForm(initial={"sent_on": today}),
    }
    return render(request, "web/credentialing/committee.html", context)


@never_cache
@domain_errors
@require_GET
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    d = selectors.decision_get(actor_of(request), pk)
    if d.decision == CommitteeDecision.Decision.DEFER:
        raise NotFound(f"a letter for decision {pk} (a deferral has none)")
    response = HttpResponse(letter_pdf(d), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="credentialing-decision-{d.pk}.pdf"'
    return response


@never_cache
@domain_errors
@require_POST
def letter_sent(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_CREDENTIALING)
    d = selectors.decision_get(actor, pk)
    form = LetterSentForm(request.POST)
    if form.is_valid():
        try:
            d = mark_letter_sent(actor=actor, decision=d, sent_on=form.cleaned_data["sent_on"])
        except ValidationFailed as exc:
            messages.error(request, f"Nothing changed: {exc}")
        else:
            messages.success(request, f"The letter to {d.provider} is marked sent on {d.letter_sent_on}.")
    else:
        messages.error(request, "Nothing changed: give the day the letter was sent.")
    return redirect(reverse("web:credentialing:committee"))


@never_cache
@domain_errors
@require_GET
def expirables(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    today = timezone.localdate()
    rows = selectors.expirables(actor, today)
    labels = [label for _limit, label in BUCKETS]
    kinds = sorted({r.verification.element.name for r in rows})
    counts = Counter((r.verification.element.name, r.bucket) for r in rows)
    series = [charts.Series(kind, tuple(float(counts[(kind, b)]) for b in labels)) for kind in kinds]
    svg = charts.bar_chart(
        labels, series, title="Credentials expired or expiring", x_label="Expires within",
        y_label="Credentials", stacked=True, chart_id="expirables",
    )  # fmt: skip
    context = {
        "rows": rows,
        "today": today,
        # charts.bar_chart escapes every text it writes
        "chart": mark_safe(svg),
        "labels": labels,
        "table": [(kind, [counts[(kind, b)] for b in labels]) for kind in kinds],
        "due": selectors.recredentialing_due(actor, today),
    }
    return render(request, "web/credentialing/expirables.html", context)


@never_cache
@domain_errors
@require_GET
def delegation(request: HttpRequest) -> HttpResponse:
    """Per payer: the roster's changes between two dates and the semiannual report (``?format=roster.csv`` or
    ``report.csv`` for the files)."""
    actor = actor_of(request)
    payers = list(selectors.payers(actor))
    context: dict[str, Any] = {"payers": payers}
    start, end = selectors.half_year(timezone.localdate())
    start, good_start = _day(request, "start", start)
    end, good_end = _day(request, "end", end)
    status = 200 if good_start and good_end else 400
    if end < start:
        messages.error(request, "The end date is before the start date: the half year is shown.")
        start, end = selectors.half_year(timezone.localdate())
        status = 400
    context.update(start=start, end=end)
    payer_id = request.GET.get("payer") or (str(payers[0].pk) if payers else "")
    if not payer_id:
        return render(request, "web/credentialing/delegation.html", context, status=status)
    if not payer_id.isdigit():
        raise NotFound(f"payer {payer_id!r}")
    payer = selectors.payer_get(actor, int(payer_id))
    roster = selectors.roster_changes(actor, payer, start, end)
    report = selectors.delegation_report(actor, payer, start, end)
    stem = f"{payer.code}-{start.isoformat()}-{end.isoformat()}"
    kind = request.GET.get("format", "")
    if kind == "roster.csv":
        return csv_download(
            f"roster-changes-{stem}.csv",
            selectors.ROSTER_COLUMNS,
            ([r[c] for c in selectors.ROSTER_COLUMNS] for r in roster),
        )
    if kind == "report.csv":
        return csv_download(f"delegation-report-{stem}.csv", ("measure", "value"), report.rows())
    context.update(
        payer=payer, roster=roster, report=report, query=f"payer={payer.pk}&start={start}&end={end}"
    )
    return render(request, "web/credentialing/delegation.html", context, status=status)


urlpatterns = [
    path("credentialing/files/", file_list, name="files"),
    path("credentialing/files/new/", file_open, name="file_open"),
    path("credentialing/files/<int:pk>/", file_detail, name="file_detail"),
    path("credentialing/files/<int:pk>/verify/", verification_new, name="verification_new"),
    path("credentialing/files/<int:pk>/decide/", file_decide, name="file_decide"),
    path(
        "credentialing/verifications/<int:pk>/document/", verification_document, name="verification_document"
    ),
    path("credentialing/committee/", committee, name="committee"),
    path("credentialing/decisions/<int:pk>/letter.pdf", letter, name="letter"),
    path("credentialing/decisions/<int:pk>/letter-sent/", letter_sent, name="letter_sent"),
    path("credentialing/expirables/", expirables, name="expirables"),
    path("credentialing/delegation/", delegation, name="delegation"),
]
