"""The run pages: preparing a run from the list, a run's detail (components and their chart, notes,
payments, pool shares, the ledger entry), approval by a second finance user (and the service's refusal
shown to the preparer), and an adjustment run's lines with their reasons."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from openipa.capitation.models import DistributionRun, PracticePayment
from openipa.capitation.services.runs import approve_run, distribute_month
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.capitation.tests.test_pages_common import MAY, paid
from openipa.core.models import AuditEvent, AuditMember
from openipa.ledger.models import JournalEntry
from openipa.membership.models import EligibilitySpan
from openipa.web.tests.pages import html, results

pytestmark = pytest.mark.django_db


def test_finance_prepares_a_run_from_the_list(client_for, capitated):
    paid(capitated, MAY, "may")
    client = client_for("fin")
    assert "Prepare a run" in html(client.get("/capitation/runs/"))
    response = client.post("/capitation/runs/prepare/", {"prepare-payer": capitated.payer.pk,
                                                         "prepare-month": "2026-05"})  # fmt: skip
    run = DistributionRun.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/capitation/runs/{run.pk}/")
    assert (run.status, run.prepared_by, run.pool_cents) == ("draft", "fin", 70000)
    listing = results(client.get("/capitation/runs/?status=draft"))
    assert f"/capitation/runs/{run.pk}/" in listing
    assert "$700.00" in listing
    assert "$416.00" in listing  # paid to practices: 190.50 + 225.50
    assert f"/capitation/runs/{run.pk}/" not in results(client.get("/capitation/runs/?status=approved"))


def test_a_refused_preparation_is_shown_on_the_form(client_for, capitated):
    client = client_for("fin")
    response = client.post("/capitation/runs/prepare/", {"prepare-payer": capitated.payer.pk,
                                                         "prepare-month": "2025-05"})  # fmt: skip
    assert response.status_code == 400
    assert "No run was prepared for SUN 2025-05: no distribution rule of a SUN contract is in force" in html(
        response
    )
    response = client.post("/capitation/runs/prepare/", {"prepare-month": "2026-05"})
    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert not DistributionRun.objects.exists()


def test_a_draft_shows_its_components_payments_and_pool_shares(client_for, capitated):
    paid(capitated, MAY, "may")
    run = distribute_month(actor=capitated.users["fin"], payer=capitated.payer, month=MAY)
    body = html(client_for("auditor").get(f"/capitation/runs/{run.pk}/"))
    components = body[body.index('data-testid="components"') :].split("</table>")[0]
    for label, amount in (("Admin fee", "$64.00"), ("Reinsurance", "$7.00"), ("Withhold and risk pool", "$54.00"),
                          ("PCP capitation (net)", "$360.00"), ("Specialist sub-capitation", "$35.00"),
                          ("Quality pool", "$21.00"), ("Retained", "$159.00"), ("Total (the pool)", "$700.00")):  # fmt: skip
        assert re.search(
            rf"{re.escape(label)}</t[dh]><td class=\"num\">(<strong>)?{re.escape(amount)}", components
        ), label
    assert 'id="run-components-title">Where run' in body
    assert "Admin fee: 64" in body  # a bar per component, with its tooltip
    payments = body[body.index('data-testid="payments"') :].split("</table>")[0]
    assert "Alder Family Medicine" in payments
    assert "<strong>$190.50</strong>" in payments
    assert "<strong>$225.50</strong>" in payments
    assert "<strong>$416.00</strong>" in payments
    assert "Specialist sub-capitation" in body  # the pool share's label
    assert "none yet (posted on approval)" in body
    assert "Approve run" not in body  # auditors read only


def test_the_preparer_sees_no_approve_button_and_is_refused_with_the_services_message(client_for, capitated):
    paid(capitated, MAY, "may")
    run = distribute_month(actor=capitated.users["fin"], payer=capitated.payer, month=MAY)
    client = client_for("fin")
    body = html(client.get(f"/capitation/runs/{run.pk}/"))
    assert "You prepared this run: another finance user must approve it." in body
    assert f"/capitation/runs/{run.pk}/approve/" not in body
    response = client.post(f"/capitation/runs/{run.pk}/approve/", follow=True)
    assert f"run {run.pk} was prepared by fin: another finance user must approve it" in html(response)
    run.refresh_from_db()
    assert run.status == "draft"
    assert not JournalEntry.objects.exists()


def test_a_second_finance_user_approves_and_the_run_links_its_ledger_entry(client_for, capitated):
    paid(capitated, MAY, "may")
    run = distribute_month(actor=capitated.users["fin"], payer=capitated.payer, month=MAY)
    client = client_for("fin2")
    assert f'action="/capitation/runs/{run.pk}/approve/"' in html(client.get(f"/capitation/runs/{run.pk}/"))
    response = client.post(f"/capitation/runs/{run.pk}/approve/", follow=True)
    body = html(response)
    assert f"Run {run.pk} is approved and posted to the ledger." in body
    entry = JournalEntry.objects.get(source_type="capitation_run", source_id=str(run.pk))
    assert f'href="/ledger/entries/{entry.number}/"' in body
    assert "by fin2" in body
    again = client.post(f"/capitation/runs/{run.pk}/approve/", follow=True)
    assert "only a draft can be approved" in html(again)
    assert JournalEntry.objects.filter(source_type="capitation_run").count() == 1


def test_an_adjustment_run_lists_its_lines_with_reasons_and_records_the_members(client_for, capitated):
    ipa = capitated
    paid(ipa, MAY, "may")
    may = approve_run(
        actor=ipa.users["fin2"], run=distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    )
    EligibilitySpan.objects.filter(member=ipa.member_b).update(valid_to=dt.date(2026, 4, 30))
    adjustment = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    body = html(client_for("fin2").get(f"/capitation/runs/{adjustment.pk}/"))
    assert f'An adjustment of <a href="/capitation/runs/{may.pk}/">run {may.pk}</a>' in body
    lines = body[body.index('data-testid="adjustment-lines"') :].split("</table>")[0]
    assert "Brooks, Bert" in lines
    assert "retro term" in lines
    assert "-$180.00" in lines
    assert "Anders" not in lines
    birch = PracticePayment.objects.get(run=adjustment, practice=ipa.practice_b)
    assert birch.net_cents == -20800
    assert "-$208.00" in body
    event = AuditEvent.objects.get(kind="read", object_type="capitation.distributionrun")
    assert (event.object_id, event.purpose) == (str(adjustment.pk), "capitation run: adjustment lines")
    assert list(AuditMember.objects.filter(event=event).values_list("member_id", flat=True)) == [
        ipa.member_b.pk
    ]
    may_body = html(client_for("fin2").get(f"/capitation/runs/{may.pk}/"))
    assert f'href="/capitation/runs/{adjustment.pk}/">run {adjustment.pk}</a>' in may_body  # adjusted by
    assert 'data-testid="adjustment-lines"' not in may_body
