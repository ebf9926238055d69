"""The savings pages: finance settles, a second finance user approves, statements reach each practice alone;
other roles are refused; the forecast page draws its charts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openipa.savings.models import PracticeShare, SettlementRun, Snapshot


def _client(ss: Any, name: str) -> Client:
    client = Client()
    client.force_login(ss.users[name])
    return client


def _settle(ss: Any) -> SettlementRun:
    response = _client(ss, "fin").post(reverse("web:savings:settle"), {
        "term": ss.savings_term.pk, "month_from": "2026-01", "month_to": "2026-12", "cutoff": "2027-03-31",
        "formula": ss.formula.pk,
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    run = SettlementRun.objects.get()
    assert response["Location"] == reverse("web:savings:run_detail", args=[run.pk])
    return run


def test_finance_settles_and_another_finance_user_approves(ss: Any) -> None:
    fin = _client(ss, "fin")
    page = fin.get(reverse("web:savings:overview"))
    assert page.status_code == 200
    assert "Sunrise shared savings 2026" in page.content.decode()
    run = _settle(ss)
    detail = fin.get(reverse("web:savings:run_detail", args=[run.pk])).content.decode()
    assert "$1,200.00" in detail
    assert "<svg" in detail
    assert "ALDER" in detail
    fin.post(reverse("web:savings:run_approve", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "draft"  # the preparer cannot approve
    _client(ss, "fin2").post(reverse("web:savings:run_approve", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "approved"
    _client(ss, "fin2").post(reverse("web:savings:run_pay", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "paid"


def test_bad_settle_input_is_shown_and_nothing_written(ss: Any) -> None:
    response = _client(ss, "fin").post(reverse("web:savings:settle"), {
        "term": ss.savings_term.pk, "month_from": "2026-01", "month_to": "2026-12", "cutoff": "2026-06-30",
    })  # fmt: skip
    assert response.status_code == 400
    assert "before the period ends" in response.content.decode()
    assert not SettlementRun.objects.exists()


def test_practice_users_see_only_their_own_statement(ss: Any) -> None:
    run = _settle(ss)
    alice = _client(ss, "alice")
    share_a = PracticeShare.objects.get(run=run, practice=ss.practice_a)
    share_b = PracticeShare.objects.get(run=run, practice=ss.practice_b)
    assert alice.get(reverse("web:savings:statement_detail", args=[share_a.pk])).status_code == 404  # draft
    _client(ss, "fin2").post(reverse("web:savings:run_approve", args=[run.pk]))
    assert alice.get(reverse("web:savings:overview"))["Location"] == reverse("web:savings:statement_list")
    listing = alice.get(reverse("web:savings:statement_list")).content.decode()
    own = alice.get(reverse("web:savings:statement_detail", args=[share_a.pk])).content.decode()
    assert "$578.00" in own
    # two practices: the network's totals would reveal Birch's figures, so they are not shown
    assert "totals-hidden" in own
    for total in ("$1,020.00", "$1,200.00", "$12,000.00", "$6,000.00", "$612.00", "$408.00"):
        assert total not in own
    for html in (listing, own):
        assert "Birch" not in html
        assert "BIRCH" not in html
        assert "$442.00" not in html
    for name in ("statement_detail", "statement_pdf", "statement_csv"):
        assert alice.get(reverse(f"web:savings:{name}", args=[share_b.pk])).status_code == 404
    pdf = alice.get(reverse("web:savings:statement_pdf", args=[share_a.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content[:4] == b"%PDF"
    csv_text = alice.get(reverse("web:savings:statement_csv", args=[share_a.pk])).content.decode()
    assert "your share,Total,,578.00" in csv_text
    assert "BIRCH" not in csv_text
    assert alice.get(reverse("web:savings:run_detail", args=[run.pk])).status_code == 403
    assert alice.post(reverse("web:savings:run_pay", args=[run.pk])).status_code == 403


@pytest.mark.parametrize("name", ["ops", "messenger"])
def test_other_roles_are_refused(ss: Any, name: str) -> None:
    client = _client(ss, name)
    assert client.get(reverse("web:savings:overview")).status_code == 403
    assert client.get(reverse("web:savings:statement_list")).status_code == 403


def test_the_auditor_reads_but_cannot_settle(ss: Any) -> None:
    auditor = _client(ss, "auditor")
    page = auditor.get(reverse("web:savings:overview")).content.decode()
    assert "settle-form" not in page
    response = auditor.post(reverse("web:savings:settle"), {
        "term": ss.savings_term.pk, "month_from": "2026-01", "month_to": "2026-12", "cutoff": "2027-03-31",
        "formula": ss.formula.pk,
    })  # fmt: skip
    assert response.status_code == 403
    assert not SettlementRun.objects.exists()


def test_forecast_page(ss: Any) -> None:
    fin = _client(ss, "fin")
    response = fin.post(reverse("web:savings:forecast_create"), {
        "term": ss.savings_term.pk, "year": 2026, "as_of": "2027-03-31", "samples": 100, "seed": 1,
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    page = fin.get(response["Location"]).content.decode()
    assert "savings-histogram" in page
    assert "savings-interval" in page
    assert "Minimum savings rate met" in page
    assert "$6,000.00" in page  # the whole year is observed by then: savings 12,000 - 6,000


def test_term_page_and_forecasts_are_finance_pages(ss: Any) -> None:
    page = _client(ss, "auditor").get(reverse("web:savings:term_detail", args=[ss.savings_term.pk]))
    assert page.status_code == 200
    assert "from the first dollar" in page.content.decode()
    assert (
        _client(ss, "alice").get(reverse("web:savings:term_detail", args=[ss.savings_term.pk])).status_code
        == 403
    )
    assert _client(ss, "fin").get(reverse("web:savings:term_detail", args=[9999])).status_code == 404
    assert _client(ss, "alice").post(reverse("web:savings:forecast_create"), {}).status_code == 403


def test_network_totals_appear_on_statements_with_three_practices_or_more(ss: Any) -> None:
    from openipa.network.services import practice_create
    from openipa.savings import statements

    run = _settle(ss)
    _client(ss, "fin2").post(reverse("web:savings:run_approve", args=[run.pk]))
    share_a = PracticeShare.objects.get(run=run, practice=ss.practice_a)
    assert not statements.statement(share_a).totals
    third = practice_create(actor=ss.users["admin"], data={
        "code": "CEDAR", "legal_name": "Cedar Clinic", "tin": "345678912", "address_line1": "2 Main St",
        "city": "Pasadena", "state": "CA", "zip_code": "91101", "region": ss.region,
    })  # fmt: skip
    PracticeShare.objects.create(
        run=run, practice=third, member_months=1, cost_cents=0, pools={}, total_cents=0
    )
    s = statements.statement(share_a)
    assert s.totals
    assert s.steps
    page = (
        _client(ss, "alice").get(reverse("web:savings:statement_detail", args=[share_a.pk])).content.decode()
    )
    assert "$1,020.00" in page
    assert "totals-hidden" not in page
    assert "pool total" in statements.statement_csv(s)


def test_settling_without_a_formula_distributes_by_the_one_in_force(ss: Any) -> None:
    response = _client(ss, "fin").post(reverse("web:savings:settle"), {
        "term": ss.savings_term.pk, "month_from": "2026-01", "month_to": "2026-12", "cutoff": "2027-03-31",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    run = SettlementRun.objects.get()
    assert run.formula == ss.formula
    assert PracticeShare.objects.filter(run=run).exists()


def test_a_formula_not_in_force_at_the_periods_end_is_refused_and_nothing_written(ss: Any) -> None:
    ss.formula.valid_to = dt.date(2026, 6, 30)
    ss.formula.save(update_fields=["valid_to"])
    snapshots = Snapshot.objects.count()
    response = _client(ss, "fin").post(reverse("web:savings:settle"), {
        "term": ss.savings_term.pk, "month_from": "2026-01", "month_to": "2026-12", "cutoff": "2027-03-31",
        "formula": ss.formula.pk,
    })  # fmt: skip
    assert response.status_code == 400
    assert "is not in force on 2026-12-31" in response.content.decode()
    assert not SettlementRun.objects.exists()
    assert Snapshot.objects.count() == snapshots


def test_finance_lists_every_practices_statement_of_an_approved_run(ss: Any) -> None:
    run = _settle(ss)
    _client(ss, "fin2").post(reverse("web:savings:run_approve", args=[run.pk]))
    page = _client(ss, "fin").get(reverse("web:savings:statement_list"))
    assert page.status_code == 200
    body = page.content.decode()
    for share in PracticeShare.objects.filter(run=run).select_related("practice"):
        assert reverse("web:savings:statement_detail", args=[share.pk]) in body
