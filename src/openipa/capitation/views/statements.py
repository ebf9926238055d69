"""Statement pages: the list (a practice user's own practice alone), one statement with its member detail,
and the same statement as a PDF and as a CSV of its member-months. Reading member-months is audited."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.capitation import selectors, statements
from openipa.capitation.forms import StatementFilterForm
from openipa.core.pagination import paginate
from openipa.core.roles import is_practice_scoped
from openipa.membership.views.common import actor_of, page_or_results
from openipa.ui.errors import domain_errors
from openipa.ui.responses import attachment

PAGE_PURPOSE = "capitation statement: member detail"
PDF_PURPOSE = "capitation statement PDF"
CSV_PURPOSE = "capitation statement CSV"


@never_cache
@domain_errors
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = StatementFilterForm(request.GET, actor=actor)
    page = paginate(selectors.statement_list(actor, **form.filters()), request.GET.get("page"))
    context = {"form": form, "page": page, "scoped": is_practice_scoped(actor)}
    return page_or_results(
        request, "web/capitation/statement_list.html", "web/capitation/_statements.html", context
    )


@never_cache
@domain_errors
@require_GET
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    statement = statements.statement_for(actor, pk)
    lines = statements.member_lines(actor, statement, purpose=PAGE_PURPOSE, page=request.GET.get("page"))
    context = {"s": statement, "page": lines, "scoped": is_practice_scoped(actor)}
    return page_or_results(
        request, "web/capitation/statement.html", "web/capitation/_statement_lines.html", context
    )


@never_cache
@domain_errors
@require_GET
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    statement = statements.statement_for(actor, pk)
    lines = statements.all_member_lines(actor, statement, purpose=PDF_PURPOSE)
    pdf = statements.statement_pdf(statement, lines)
    return attachment(HttpResponse(pdf, content_type="application/pdf"), f"{statement.file_stem}.pdf")


@never_cache
@domain_errors
@require_GET
def statement_csv(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    statement = statements.statement_for(actor, pk)
    lines = statements.all_member_lines(actor, statement, purpose=CSV_PURPOSE)
    body = statements.statement_csv(lines)
    return attachment(
        HttpResponse(body, content_type="text/csv; charset=utf-8"), f"{statement.file_stem}.csv"
    )
