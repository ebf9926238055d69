"""The claims payment run pages on a full cycle (an 837 imported and adjudicated, as in test_payments.py):
preparing from the list, the draft's totals and payee, the preparer refused approval, a second finance user
approving (the ledger entry linked), the payee's 835 and the NACHA file (once), interest lines, and practice
users and non-finance staff refused with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from openipa.claims.models import Claim, ClaimPaymentRun, InterestRule
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.services.payments import approve_run, prepare_run
from openipa.claims.tests.conftest import claim_file
from openipa.claims.views.runs import DETAIL_PURPOSE, REMIT_PURPOSE
from openipa.core.models import AuditEvent
from openipa.ledger.models import JournalEntry
from openipa.web.tests.pages import field_errors, html, results

pytestmark = pytest.mark.django_db
NOV2 = dt.date(2026, 11, 2)
TODAY = timezone.localdate()
PAYEE_NPI = "1912301953"


def _decided(tmp_path: Path) -> Claim:
    record = import_claims(actor=None, path=claim_file(tmp_path), received_on=NOV2)
    adjudicate_waiting(actor=None)
    return Claim.objects.get(source=record)


def _section(body: str, testid: str) -> str:
    return body[body.index(f'data-testid="{testid}"') :].split("</table>")[0]


def test_finance_prepares_a_run_from_the_list(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    _decided(tmp_path)
    client = client_for("fin")
    assert "Prepare a run" in html(client.get("/claims/runs/"))
    response = client.post("/claims/runs/prepare/", {"prepare-through": TODAY.isoformat(),
                                                     "prepare-payment_date": (TODAY + dt.timedelta(days=1)).isoformat()})  # fmt: skip
    run = ClaimPaymentRun.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/claims/runs/{run.pk}/")
    assert (run.status, run.prepared_by, run.lines, run.net_cents) == ("draft", "fin", 3, 4000)
    listing = results(client.get("/claims/runs/?status=draft"))
    assert f"/claims/runs/{run.pk}/" in listing
    assert "<strong>$40.00</strong>" in listing
    assert f"/claims/runs/{run.pk}/" not in results(client.get("/claims/runs/?status=approved"))


def test_a_refused_preparation_is_shown_on_the_form(claims_ipa: Any, client_for: Any) -> None:
    client = client_for("fin")
    response = client.post("/claims/runs/prepare/", {"prepare-through": "2026-11-02"})
    assert response.status_code == 400
    assert (
        "No run was prepared through 2026-11-02: no decided claim line through 2026-11-02 is waiting for payment"
        in html(response)
    )
    response = client.post(
        "/claims/runs/prepare/", {"prepare-through": "2026-11-02", "prepare-payment_date": "2026-11-01"}
    )
    assert response.status_code == 400
    assert field_errors(response, "payment_date") == ["The payment date is before the through date."]
    assert not ClaimPaymentRun.objects.exists()


def test_a_draft_shows_its_totals_and_payee_and_the_preparer_cannot_approve(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    _decided(tmp_path)
    run = prepare_run(actor=claims_ipa.users["fin"], through=TODAY)
    auditor = html(client_for("auditor").get(f"/claims/runs/{run.pk}/"))
    totals = _section(auditor, "totals")
    assert 'Lines</th><td class="num">3</td>' in totals
    assert 'Paid</th><td class="num">$40.00</td>' in totals
    assert 'Net</th><td class="num"><strong>$40.00</strong>' in totals
    payees = _section(auditor, "payees")
    assert f"NPI {PAYEE_NPI} · TIN 234567891" in payees
    assert "Birch Pediatrics" in payees
    assert "on approval" in payees  # no 835 of a draft
    assert 'id="claims-run-payees-title">Run' in auditor
    assert "none yet (posted on approval)" in auditor
    assert "Approve run" not in auditor  # auditors read only
    client = client_for("fin")
    body = html(client.get(f"/claims/runs/{run.pk}/"))
    assert "You prepared this run: another finance user must approve it." in body
    assert f"/claims/runs/{run.pk}/approve/" not in body
    response = client.post(f"/claims/runs/{run.pk}/approve/", follow=True)
    assert f"run {run.pk} was prepared by fin: another finance user must approve it" in html(response)
    run.refresh_from_db()
    assert (run.status, run.approved_by) == ("draft", "")
    assert not JournalEntry.objects.filter(source_type="claims_run").exists()


def test_approval_remittance_and_payment_once(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    claim = _decided(tmp_path)
    run = prepare_run(actor=claims_ipa.users["fin"], through=TODAY)
    client = client_for("fin2")
    assert f'action="/claims/runs/{run.pk}/approve/"' in html(client.get(f"/claims/runs/{run.pk}/"))
    body = html(client.post(f"/claims/runs/{run.pk}/approve/", follow=True))
    assert f"Run {run.pk} is approved and posted to the ledger." in body
    entry = JournalEntry.objects.get(source_type="claims_run", source_id=str(run.pk))
    assert f'href="/ledger/entries/{entry.number}/"' in body
    payment = run.payments.get()
    payment.refresh_from_db()
    assert payment.trace_number
    assert payment.trace_number in _section(body, "payees")
    # the payee's 835: the file remit_run writes, recorded as a read of the claim's member
    link = f"/claims/runs/{run.pk}/835/{payment.pk}/"
    assert link in body
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="835-run{run.pk}-{PAYEE_NPI}.x12"'
    data = response.content.decode("latin-1")
    assert data.startswith("ISA*")
    assert f"TRN*1*{payment.trace_number}*" in data
    assert "CLP*26463774*1*" in data
    event = AuditEvent.objects.get(purpose=REMIT_PURPOSE)
    assert (event.member_count, event.actor_username) == (1, "fin2")
    assert claim.member_id is not None
    # paying: the NACHA file once, then the run is paid and the page links the cash entry
    response = client.post(f"/claims/runs/{run.pk}/pay/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="claims-run-{run.pk}.ach"'
    nacha = response.content.decode("ascii")
    assert nacha.startswith("101")
    assert "0000004000" in nacha  # the $40.00 credit
    run.refresh_from_db()
    assert run.status == "paid"
    again = client.post(f"/claims/runs/{run.pk}/pay/", follow=True)
    assert "only an approved run is paid" in html(again)
    assert JournalEntry.objects.filter(source_type="claims_payment").count() == 1
    cash = JournalEntry.objects.get(source_type="claims_payment")
    paid_page = html(client.get(f"/claims/runs/{run.pk}/"))
    assert f'href="/ledger/entries/{cash.number}/"' in paid_page
    assert "Sent" in _section(paid_page, "payees")
    assert "Pay: download the NACHA file" not in paid_page


def test_interest_lines_are_shown_and_their_members_recorded(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    InterestRule.objects.create(
        line_of_business="medicare_advantage", valid_from=dt.date(2026, 1, 1), limit_days=30, working_days=False,
        calendar_code="", annual_rate_percent=Decimal("4.125"), count_from_next_day=True,
    )  # fmt: skip
    _decided(tmp_path)
    run = prepare_run(actor=claims_ipa.users["fin"], through=TODAY, payment_date=dt.date(2027, 1, 1))
    body = html(client_for("fin2").get(f"/claims/runs/{run.pk}/"))
    interest = _section(body, "interest")
    # received 2 November, due 2 December, paid 1 January 2027: 30 days late, $40.00 x 4.125% x 30/365 = $0.14
    assert "2026-11-02" in interest
    assert "2026-12-02" in interest
    assert '<td class="num">30</td><td class="num">$40.00</td><td class="num">$0.14</td>' in interest
    assert 'Interest</th><td class="num">$0.14</td>' in _section(body, "totals")
    event = AuditEvent.objects.get(purpose=DETAIL_PURPOSE)
    assert (event.member_count, event.actor_username) == (1, "fin2")


@pytest.mark.parametrize("name", ["alice", "bob", "ops", "messenger"])
def test_practice_users_and_non_finance_staff_are_refused(
    claims_ipa: Any, client_for: Any, tmp_path: Path, name: str
) -> None:
    _decided(tmp_path)
    run = approve_run(
        actor=claims_ipa.users["fin2"], run=prepare_run(actor=claims_ipa.users["fin"], through=TODAY)
    )
    payment = run.payments.get()
    client = client_for(name)
    before = AuditEvent.objects.count()
    for url in ("/claims/runs/", f"/claims/runs/{run.pk}/", f"/claims/runs/{run.pk}/835/{payment.pk}/"):
        assert client.get(url).status_code == 403, url
    for url in ("/claims/runs/prepare/", f"/claims/runs/{run.pk}/approve/", f"/claims/runs/{run.pk}/pay/"):
        assert client.post(url, {"prepare-through": TODAY.isoformat()}).status_code == 403, url
    run.refresh_from_db()
    assert (run.status, ClaimPaymentRun.objects.count()) == ("approved", 1)
    assert AuditEvent.objects.count() == before
    assert not JournalEntry.objects.filter(source_type="claims_payment").exists()
