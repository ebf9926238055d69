"""Fee terms on the pages: adding one and ending one (finance only). Ending is refused before the term began,
before a month already invoiced by it (naming the invoice), on the day it already ends, and into another term;
a draft priced by it asks to be prepared again. Others get 403; refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openipa.accounts.services import user_create
from openipa.association import services
from openipa.association.models import FeeTerm, InvoiceRun
from openipa.core.errors import ValidationFailed
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.web.tests.pages import field_errors, html

pytestmark = pytest.mark.django_db
TERMS = reverse("web:association:term_list")


def _client(ipa: Any, name: str) -> Client:
    client = Client()
    if name == "board":
        client.force_login(user_create(actor=None, username="board1", password="x" * 12, role=Role.BOARD))
    else:
        client.force_login(ipa.users[name])
    return client


def _flat(ipa: Any, practice: Any = None, amount: str = "250.00", start: dt.date = dt.date(2026, 1, 1),
          end: dt.date | None = None) -> FeeTerm:  # fmt: skip
    return services.fee_term_create(actor=ipa.users["fin"], practice=practice or ipa.practice_a, data={
        "method": "flat_monthly", "amount": amount, "valid_from": start, "valid_to": end})  # fmt: skip


def _end(client: Client, term: FeeTerm, day: str) -> Any:
    return client.post(reverse("web:association:term_end", args=[term.pk]), {"valid_to": day})


def _state() -> list[tuple[Any, ...]]:
    return list(FeeTerm.objects.order_by("pk").values_list("pk", "valid_from", "valid_to", "amount_cents"))


def _run(ipa: Any, month: Month, status: str) -> InvoiceRun:
    run = services.prepare_invoices(actor=ipa.users["fin"], month=month)
    if status in ("approved", "issued"):
        services.approve_run(actor=ipa.users["fin2"], run=run)
    if status == "issued":
        services.issue_run(actor=ipa.users["fin"], run=run, issue_date=month.last_day)
    return run


# -- adding a term ----------------------------------------------------------------------------------------------

GOOD = {"practice": "ALDER", "method": "percent_of_revenue", "amount": "", "percent": "4.5", "minimum": "500.00",
        "maximum": "1000.00", "payment_days": "30", "valid_from": "2026-01-01", "valid_to": ""}  # fmt: skip


def test_finance_adds_a_term_on_the_page(ipa):
    fin = _client(ipa, "fin")
    page = html(fin.get(TERMS))
    assert 'id="add-term"' in page
    response = fin.post(TERMS, GOOD)
    assert response.status_code == 302
    term = FeeTerm.objects.get()
    assert (term.practice_id, term.method, str(term.percent), term.minimum_cents, term.maximum_cents,
            term.valid_to, term.created_by) == (ipa.practice_a.pk, "percent_of_revenue", "4.5000", 50_000,
                                                100_000, None, "fin")  # fmt: skip
    assert "4.5%" in html(fin.get(TERMS))


@pytest.mark.parametrize(("post", "field", "message"), [
    ({**GOOD, "maximum": "400.00"}, "", "maximum is below the minimum"),
    ({**GOOD, "method": "flat_monthly", "percent": ""}, "amount", "Enter an amount."),
    ({**GOOD, "valid_from": "2025-01-01"}, "valid_from", "no participation agreement"),
    ({**GOOD, "valid_to": "2025-12-31"}, "valid_to", "is before valid_from"),
    ({**GOOD, "practice": "NOPE"}, "practice", "Select a valid choice"),
    ({**GOOD, "minimum": "-1"}, "minimum", "non-negative"),
])  # fmt: skip
def test_bad_terms_change_nothing(ipa, post, field, message):
    response = _client(ipa, "fin").post(TERMS, post)
    assert response.status_code == 400
    if field:
        assert any(message in e for e in field_errors(response, field)), field_errors(response, field)
    else:
        assert message in html(response)
    assert not FeeTerm.objects.exists()


def test_an_overlapping_term_is_refused_on_its_field(ipa):
    _flat(ipa)
    before = _state()
    response = _client(ipa, "fin").post(TERMS, {**GOOD, "valid_from": "2026-06-01"})
    assert response.status_code == 400
    assert any("Another fee term of ALDER" in e for e in field_errors(response, "valid_from"))
    assert _state() == before


@pytest.mark.parametrize("user", ["alice", "ops", "board", "auditor"])
def test_others_cannot_add_a_term(ipa, user):
    client = _client(ipa, user)
    assert client.post(TERMS, GOOD).status_code == 403
    assert not FeeTerm.objects.exists()
    if user == "auditor":  # reads the terms, without the forms
        page = html(client.get(TERMS))
        assert 'id="add-term"' not in page
        assert "/end/" not in page
    else:
        assert client.get(TERMS).status_code == 403


# -- ending a term ----------------------------------------------------------------------------------------------


def test_finance_ends_a_term_and_adds_the_next(ipa):
    term = _flat(ipa)
    fin = _client(ipa, "fin")
    assert f'data-testid="end-term-{term.pk}"' in html(fin.get(TERMS))
    response = _end(fin, term, "2026-06-30")
    assert response.status_code == 302
    assert response["Location"] == f"{TERMS}?practice=ALDER"
    term.refresh_from_db()
    assert term.valid_to == dt.date(2026, 6, 30)
    assert AuditEvent.objects.filter(action="fees.term_end").count() == 1
    assert fin.post(TERMS, {**GOOD, "valid_from": "2026-07-01"}).status_code == 302
    assert FeeTerm.objects.count() == 2


@pytest.mark.parametrize(("day", "message"), [
    ("2025-12-31", "The term began on 2026-01-01: it cannot end before that day."),
    ("soon", "Enter a valid date."),
    ("", "This field is required."),
])  # fmt: skip
def test_bad_end_days_change_nothing(ipa, day, message):
    term = _flat(ipa)
    before = _state()
    response = _end(_client(ipa, "fin"), term, day)
    assert response.status_code == 400
    assert message in html(response)
    assert any(message in e for e in field_errors(response, f"end-{term.pk}"))
    assert "was not ended; nothing changed" in html(response)
    assert _state() == before


def test_a_term_cannot_end_before_a_month_it_invoiced(ipa):
    """October 2026 was invoiced (issued) by the term: ending it in September would leave the invoice without
    its term. Ending during October keeps it (the month is priced by a term that ended during it)."""
    term = _flat(ipa)
    _run(ipa, Month(2026, 10), "issued")
    before = _state()
    fin = _client(ipa, "fin")
    response = _end(fin, term, "2026-09-30")
    assert response.status_code == 400
    errors = field_errors(response, f"end-{term.pk}")
    assert any("invoice MF-202610-ALDER (October 2026) was priced by this term: it can end on 2026-10-31 at the "
               "earliest" in e for e in errors), errors  # fmt: skip
    assert _state() == before
    with pytest.raises(ValidationFailed, match="MF-202610-ALDER"):
        services.fee_term_end(actor=ipa.users["fin"], term=term, valid_to=dt.date(2026, 1, 1))
    assert _end(fin, term, "2026-10-15").status_code == 302
    term.refresh_from_db()
    assert term.valid_to == dt.date(2026, 10, 15)


def test_an_approved_run_counts_as_invoiced(ipa):
    term = _flat(ipa)
    run = _run(ipa, Month(2026, 11), "approved")
    before = _state()
    response = _end(_client(ipa, "fin"), term, "2026-10-31")
    assert response.status_code == 400
    assert f"the invoice of ALDER in approved run {run.pk} (November 2026)" in html(response)
    assert _state() == before


def test_a_draft_priced_by_the_term_is_to_be_prepared_again(ipa):
    term = _flat(ipa)
    run = _run(ipa, Month(2026, 11), "draft")
    response = _client(ipa, "fin").post(
        reverse("web:association:term_end", args=[term.pk]), {"valid_to": "2026-10-31"}, follow=True
    )
    assert f"Draft run(s) {run.pk} (2026-11) priced a month after the new end by this term" in html(response)
    term.refresh_from_db()
    assert term.valid_to == dt.date(2026, 10, 31)
    again = services.prepare_invoices(actor=ipa.users["fin"], month=Month(2026, 11))
    assert not again.invoices.exists()


def test_a_later_end_cannot_reach_the_next_term_or_repeat_the_same_day(ipa):
    first = _flat(ipa, end=dt.date(2026, 6, 30))
    _flat(ipa, amount="300.00", start=dt.date(2026, 7, 1))
    before = _state()
    fin = _client(ipa, "fin")
    response = _end(fin, first, "2026-12-31")
    assert response.status_code == 400
    assert "Another fee term of ALDER" in html(response)
    response = _end(fin, first, "2026-06-30")
    assert "already ends on 2026-06-30: nothing changed" in html(response)
    assert _state() == before


@pytest.mark.parametrize("user", ["alice", "bob", "ops", "board", "auditor", "admin"])
def test_others_cannot_end_a_term(ipa, user):
    term = _flat(ipa)
    before = _state()
    assert _end(_client(ipa, user), term, "2026-06-30").status_code == 403
    assert _state() == before
    assert not AuditEvent.objects.filter(action="fees.term_end").exists()


def test_an_unknown_term_is_404(ipa):
    assert _end(_client(ipa, "fin"), FeeTerm(pk=999_999), "2026-06-30").status_code == 404


def test_terms_filtered_by_practice(ipa):
    _flat(ipa)
    _flat(ipa, practice=ipa.practice_b, amount="375.00")
    fin = _client(ipa, "fin")
    rows = html(fin.get(TERMS, {"practice": "BIRCH"})).split('data-testid="terms"')[1]
    assert "$375.00" in rows
    assert "$250.00" not in rows
    everything = html(fin.get(TERMS, {"practice": "NOPE"})).split('data-testid="terms"')[1]
    assert "$375.00" in everything
    assert "$250.00" in everything


def test_a_term_is_not_extended_over_a_month_already_invoiced(ipa):
    """The term ended in June; July was invoiced (issued) without it, for the other practice. Extending it to
    December would leave July inside the term with no invoice of it; extending it within June is fine."""
    term = _flat(ipa, end=dt.date(2026, 6, 30))
    _flat(ipa, practice=ipa.practice_b, amount="375.00")
    run = _run(ipa, Month(2026, 7), "issued")
    before = _state()
    fin = _client(ipa, "fin")
    response = _end(fin, term, "2026-12-31")
    assert response.status_code == 400
    assert f"fee run {run.pk} (July 2026, issued) was prepared without this term" in html(response)
    assert _state() == before
    services.fee_term_end(actor=ipa.users["fin"], term=term, valid_to=dt.date(2026, 5, 31))
    assert _end(fin, term, "2026-06-30").status_code == 302
