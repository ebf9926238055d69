"""Practice statements: the header, the summary by rate cell, retro lines, carried adjustments and the net,
which always equals what the payment nets (checked here for regular, adjustment and netting runs, and as a
property over the amounts received); the CSV and the PDF; who sees what; the audit of member reads.

Numbers: the scenario of test_pages_common (May: Alder $190.50, Birch $225.50 with the $35.00 specialist
pool; after Bert's retro term an adjustment run takes $208.00 back from Birch, netted in June).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.capitation import statements
from openipa.capitation.models import DistributionLine, PracticePayment
from openipa.capitation.services.runs import approve_run, distribute_month
from openipa.capitation.statements import CSV_COLUMNS, CarriedRow, CellRow, RetroRow
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.capitation.tests.test_pages_common import JUNE, MAY, paid, pdf_text
from openipa.contracts.models import RateCell
from openipa.core.models import AuditEvent, AuditMember
from openipa.core.selectors import audit_events
from openipa.membership.models import EligibilitySpan
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db
CELL_75 = "MAHMO · ages 75-120 · $350.00 PMPM"


def approved_may(ipa: Any) -> Any:
    paid(ipa, MAY, "may")
    return approve_run(
        actor=ipa.users["fin2"], run=distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    )


def adjusted(ipa: Any) -> tuple[Any, Any, Any]:
    """May approved; Bert's coverage ended retroactively on 30 April; the adjustment run approved; June paid
    (Amy only) and distributed. Returns (may run, adjustment run, june draft)."""
    may = approved_may(ipa)
    EligibilitySpan.objects.filter(member=ipa.member_b).update(valid_to=dt.date(2026, 4, 30))
    adjustment = approve_run(
        actor=ipa.users["fin2"], run=distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    )
    paid(ipa, JUNE, "june", {ipa.member_a: 35000})
    june = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=JUNE)
    return may, adjustment, june


# -- the statement's numbers ----------------------------------------------------------------------------


def test_a_regular_statement_sums_by_rate_cell_and_nets_to_the_payment(capitated):
    ipa = capitated
    run = approved_may(ipa)
    alder = run.payments.get(practice=ipa.practice_a)
    s = statements.statement_for(ipa.users["fin"], alder.pk)
    assert (s.practice.legal_name, s.practice.tin, s.payer.code, str(s.month)) == (
        "Alder Family Medicine", "123456789", "SUN", "2026-05"
    )  # fmt: skip
    assert s.products == ("MAHMO (Sunrise Medicare HMO)",)
    assert (s.payment_date, s.trace_number) == (None, "")
    assert s.rate_cells == (CellRow(CELL_75, 1, 20000, 2000, 18000, 1050),)
    assert [(line.label, line.cents) for line in s.summary] == [
        ("PCP capitation (gross)", 20000), ("Withhold", -2000), ("Quality incentive", 1050),
        ("Specialist sub-capitation", 0), ("Adjustments carried in", 0),
    ]  # fmt: skip
    assert s.net_cents == alder.net_cents == 19050
    assert s.ties
    assert (s.retro, s.carried) == ((), ())
    birch = statements.statement_for(ipa.users["fin"], run.payments.get(practice=ipa.practice_b).pk)
    assert birch.net_cents == birch.payment.net_cents == 22550
    assert birch.cells_total.pcp_gross_cents == birch.payment.pcp_gross_cents


def test_a_line_keeps_the_cell_that_priced_it_even_when_the_rates_change_later(capitated):
    ipa = capitated
    run = approved_may(ipa)
    payment = run.payments.get(practice=ipa.practice_a)
    RateCell.objects.create(
        term=ipa.term, product=ipa.product, age_min=75, age_max=120, sex="F", pmpm="360.00"
    )
    (cell,) = statements.statement_for(ipa.users["fin"], payment.pk).rate_cells
    assert cell.label == CELL_75


def test_a_line_without_its_cell_gets_the_engines_sex_specific_first_or_its_product(capitated):
    ipa = capitated
    run = approved_may(ipa)
    payment = run.payments.get(practice=ipa.practice_a)
    DistributionLine.objects.filter(run=run).update(rate_cell_id=None)
    assert statements.statement_for(ipa.users["fin"], payment.pk).rate_cells[0].label == CELL_75
    RateCell.objects.create(
        term=ipa.term, product=ipa.product, age_min=75, age_max=120, sex="F", pmpm="360.00"
    )
    cells = statements.statement_for(ipa.users["fin"], payment.pk).rate_cells
    assert [c.label for c in cells] == ["MAHMO · ages 75-120 female · $360.00 PMPM"]
    RateCell.objects.all().delete()
    (cell,) = statements.statement_for(ipa.users["fin"], payment.pk).rate_cells
    assert (cell.label, cell.member_months, cell.pcp_gross_cents) == ("MAHMO · no rate cell", 1, 20000)


def test_an_adjustment_statement_lists_retro_terms_and_the_next_payment_carries_them(capitated):
    ipa = capitated
    _may, adjustment, june = adjusted(ipa)
    recoup = adjustment.payments.get(practice=ipa.practice_b)
    s = statements.statement_for(ipa.users["fin"], recoup.pk)
    assert s.rate_cells == ()
    assert s.retro == (RetroRow(adjustment.pk, MAY.first_day, "retro term", 1, -20000, -2000, -18000, -1050),)
    assert s.net_cents == recoup.net_cents == -20800  # PCP, quality and half the specialist pool back
    june_birch = june.payments.get(practice=ipa.practice_b)
    carried = statements.statement_for(ipa.users["fin"], june_birch.pk)
    assert carried.carried == (CarriedRow(recoup.pk, adjustment.pk, MAY.first_day, "Adjustment", -20800),)
    assert carried.retro == s.retro
    assert {line.label: line.cents for line in carried.summary}["Adjustments carried in"] == -20800
    assert carried.net_cents == june_birch.net_cents
    assert carried.ties
    june_alder = june.payments.get(practice=ipa.practice_a)
    assert statements.statement_for(ipa.users["fin"], june_alder.pk).carried == ()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amy=st.integers(1, 200_000), bert=st.integers(1, 200_000))
def test_property_every_statement_ties_to_its_payment(capitated, amy, bert):
    ipa = capitated
    with transaction.atomic():
        paid(ipa, MAY, f"may-{amy}-{bert}", {ipa.member_a: amy, ipa.member_b: bert})
        run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
        for payment in PracticePayment.objects.filter(run=run):
            s = statements.statement_for(ipa.users["fin"], payment.pk)
            lines = statements.all_member_lines(ipa.users["fin"], s, purpose="test")
            assert s.net_cents == payment.net_cents
            assert (
                s.cells_total.pcp_gross_cents
                == payment.pcp_gross_cents
                == sum(x.pcp_gross_cents for x in lines)
            )
            assert s.cells_total.withhold_cents == payment.withhold_cents
            assert sum(x.pcp_net_cents for x in lines) == payment.pcp_net_cents
            assert sum(x.quality_share_cents for x in lines) == payment.quality_cents
        transaction.set_rollback(True)


# -- CSV, PDF and the page ------------------------------------------------------------------------------


def test_the_csv_has_a_row_per_member_month_in_dollars(client_for, capitated):
    run = approved_may(capitated)
    payment = run.payments.get(practice=capitated.practice_a)
    response = client_for("fin").get(f"/capitation/statements/{payment.pk}/statement.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="statement-ALDER-SUN-2026-05-run{run.pk}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        list(CSV_COLUMNS),
        [
            "SUN0001",
            "Anders, Amy",
            "2026-05",
            "1234567893",
            "MAHMO",
            "200.00",
            "20.00",
            "180.00",
            "10.50",
            "",
        ],
    ]


def test_the_pdf_carries_the_header_the_summary_and_the_members(client_for, capitated):
    run = approved_may(capitated)
    payment = run.payments.get(practice=capitated.practice_b)
    PracticePayment.objects.filter(pk=payment.pk).update(trace_number="TRC000123")
    run.payment_date = dt.date(2026, 6, 5)
    run.save(update_fields=["payment_date"])
    response = client_for("fin").get(f"/capitation/statements/{payment.pk}/statement.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in ("Capitation statement", "Birch Pediatrics", "234567891", "Sunrise Health Plan (SUN)",
                     "2026-05", "2026-06-05", "TRC000123", "Summary by rate cell", "Specialist sub-capitation",
                     "$35.00", "Net payment", "$225.50", "Brooks, Bert", "SUN0002", "1245319599"):  # fmt: skip
        assert expected in text, expected
    assert "Anders" not in text


def test_an_unpaid_statement_says_so_on_the_page(client_for, capitated):
    run = approved_may(capitated)
    payment = run.payments.get(practice=capitated.practice_a)
    body = html(client_for("alice").get(f"/capitation/statements/{payment.pk}/"))
    assert "not paid yet" in body
    assert '<dd class="mono">-</dd>' in body  # no trace number
    assert '<strong data-testid="statement-net">$190.50</strong>' in body
    assert CELL_75 in body
    assert "Anders, Amy" in body
    assert "Brooks" not in body
    assert "does not equal the payment" not in body


def test_a_paid_statement_shows_its_date_and_trace(client_for, capitated):
    run = approved_may(capitated)
    payment = run.payments.get(practice=capitated.practice_a)
    PracticePayment.objects.filter(pk=payment.pk).update(trace_number="TRC000777")
    run.payment_date = dt.date(2026, 6, 5)
    run.save(update_fields=["payment_date"])
    body = html(client_for("alice").get(f"/capitation/statements/{payment.pk}/"))
    assert "<dd>2026-06-05</dd>" in body
    assert "TRC000777" in body


def test_reading_a_statement_records_its_members(client_for, capitated):
    """The page indexes the members it shows; an export of an approved run's statement names the statement's
    member set instead of writing a row per member, and the audit log still finds it by member."""
    run = approved_may(capitated)
    payment = run.payments.get(practice=capitated.practice_a)
    client = client_for("alice")
    for suffix, action in (("", "view"), ("statement.pdf", "export"), ("statement.csv", "export")):
        assert client.get(f"/capitation/statements/{payment.pk}/{suffix}").status_code == 200
        event = AuditEvent.objects.filter(kind="read", object_type="capitation.practicepayment").latest("id")
        assert (event.actor_username, event.action, event.object_id) == ("alice", action, str(payment.pk))
        assert event.member_ids == [capitated.member_a.pk]
        assert event.member_count == 1
        indexed = list(AuditMember.objects.filter(event=event).values_list("member_id", flat=True))
        if action == "view":
            assert indexed == [capitated.member_a.pk]
            assert event.member_set == ""
        else:
            assert indexed == []
            assert event.member_set == f"capitation.statement:{payment.pk}"
        assert event.purpose.startswith("capitation statement")
    found = audit_events(capitated.users["auditor"], member_id=capitated.member_a.pk)
    assert found.filter(object_type="capitation.practicepayment").count() == 3
    assert (
        not audit_events(capitated.users["auditor"], member_id=capitated.member_b.pk)
        .filter(object_type="capitation.practicepayment")
        .exists()
    )


def test_a_draft_statements_export_indexes_every_member(capitated):
    """A draft run can still be recomputed, so its statement is not a fixed set: its members are indexed."""
    paid(capitated, MAY, "may")
    run = distribute_month(actor=capitated.users["fin"], payer=capitated.payer, month=MAY)
    payment = run.payments.get(practice=capitated.practice_a)
    s = statements.statement_for(capitated.users["fin"], payment.pk)
    statements.all_member_lines(capitated.users["fin"], s, purpose="test")
    event = AuditEvent.objects.filter(kind="read", object_type="capitation.practicepayment").latest("id")
    assert event.member_set == ""
    assert list(AuditMember.objects.filter(event=event).values_list("member_id", flat=True)) == [
        capitated.member_a.pk
    ]
    assert statements.statements_holding(capitated.member_a.pk) == []
    approve_run(actor=capitated.users["fin2"], run=run)
    assert statements.statements_holding(capitated.member_a.pk) == [str(payment.pk)]


def test_the_statement_list_filters_by_practice_and_month(client_for, capitated):
    may, _adjustment, june = adjusted(capitated)
    client = client_for("fin")
    body = html(client.get(f"/capitation/statements/?practice={capitated.practice_b.pk}"))
    birch = PracticePayment.objects.filter(practice=capitated.practice_b)
    assert birch.count() == 3
    for p in birch:
        assert f"/capitation/statements/{p.pk}/" in body
    assert "Alder Family Medicine</td>" not in body
    body = html(client.get("/capitation/statements/?month=2026-06"))
    assert {f"/capitation/statements/{p.pk}/" in body for p in june.payments.all()} == {True}
    assert f"/capitation/statements/{may.payments.get(practice=capitated.practice_a).pk}/" not in body
