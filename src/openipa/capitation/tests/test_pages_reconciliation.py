"""The reconciliation pages: the overview by payer, a payer's months with the chart and the variance by
category, reconciling a month from the page, one payer-month's discrepancies, and the dispute file."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from openipa.capitation.models import Discrepancy, ReceivedLine, Reconciliation, RemittanceImport
from openipa.capitation.services import discrepancies as service
from openipa.capitation.services.reconcile import reconcile
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.capitation.tests.test_pages_common import JUNE, MAY, paid
from openipa.core.models import AuditEvent, AuditMember
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db


def may_underpaid(ipa: Any) -> RemittanceImport:
    """May: Amy paid at the 65-74 rate ($300.00 instead of $350.00), Bert in full, GHOST1 $200.00."""
    remittance = paid(ipa, MAY, "may", {ipa.member_a: 30000, ipa.member_b: 35000})
    ReceivedLine.objects.create(remittance=remittance, payer=ipa.payer, payer_member_id="GHOST1",
                                month=MAY.first_day, amount_cents=20000)  # fmt: skip
    return remittance


def test_reconciling_a_month_from_the_page(client_for, capitated):
    ipa = capitated
    may_underpaid(ipa)
    client = client_for("fin")
    page = html(client.get(f"/capitation/payers/{ipa.payer.pk}/"))
    assert 'value="2026-05"' in page  # the form offers the latest month with money received
    assert '<td class="num">$850.00</td>' in page  # received, not yet reconciled
    response = client.post(f"/capitation/payers/{ipa.payer.pk}/reconcile/", {"month": "2026-05"})
    assert (response.status_code, response["Location"]) == (
        302,
        f"/capitation/payers/{ipa.payer.pk}/2026-05/",
    )
    rec = Reconciliation.objects.get()
    assert (rec.expected_cents, rec.received_cents, rec.variance_cents) == (70000, 85000, -15000)
    assert rec.computed_by == "fin"
    body = html(client.get(response["Location"]))
    assert ("Reconciled SUN 2026-05: expected $700.00, received $850.00, variance -$150.00; "
            "2 open discrepancies.") in body  # fmt: skip
    assert "Wrong rate" in body
    assert "Paid but not eligible" in body
    assert "Anders, Amy" in body
    assert "GHOST1" in body


def test_a_bad_month_or_an_engine_refusal_is_a_message_and_changes_nothing(client_for, capitated):
    ipa = capitated
    client = client_for("fin")
    response = client.post(f"/capitation/payers/{ipa.payer.pk}/reconcile/", {"month": "May"}, follow=True)
    assert "Write the month as YYYY-MM" in html(response)
    ipa.term.rate_cells.create(product=ipa.product, age_min=70, age_max=80, sex="U", pmpm="1.00")  # overlaps
    response = client.post(f"/capitation/payers/{ipa.payer.pk}/reconcile/", {"month": "2026-05"}, follow=True)
    body = html(response)
    assert "SUN 2026-05 was not reconciled:" in body
    assert "overlap" in body
    assert not Reconciliation.objects.exists()
    assert not Discrepancy.objects.exists()


def test_the_payer_page_shows_each_month_with_its_categories_and_a_chart(client_for, capitated):
    ipa = capitated
    may_underpaid(ipa)
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    paid(ipa, JUNE, "june")
    body = html(client_for("auditor").get(f"/capitation/payers/{ipa.payer.pk}/"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body
    assert "Expected, 2026-05: 700" in body
    assert "Received, 2026-05: 850" in body
    assert '<th scope="col" class="num">Wrong rate</th>' in body
    assert '<th scope="col" class="num">Paid but not eligible</th>' in body
    assert "$50.00 <span" in body  # wrong rate, owed to the IPA
    assert "-$200.00 <span" in body  # GHOST1, paid but not eligible
    june = body[body.index(f'href="/capitation/payers/{ipa.payer.pk}/2026-06/"') :]
    assert "not yet" in june.split("</tr>")[0]
    assert "Reconcile this month" not in body  # the auditor reads only


def test_a_month_whose_receipts_changed_since_it_was_reconciled_is_marked(client_for, capitated):
    ipa = capitated
    may_underpaid(ipa)
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    paid(ipa, MAY, "may-correction", {ipa.member_a: 5000})
    body = html(client_for("fin").get(f"/capitation/payers/{ipa.payer.pk}/"))
    assert "changed since" in body
    assert "Received on file now: $900.00" in body


def test_the_overview_sums_each_payers_months_and_open_discrepancies(client_for, capitated):
    ipa = capitated
    may_underpaid(ipa)
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    body = html(client_for("admin").get("/capitation/"))
    row = body[body.index("Sunrise Health Plan") :].split("</tr>")[0]
    for text in ("$700.00", "$850.00", "-$150.00", f"/capitation/payers/{ipa.payer.pk}/2026-05/", ">2</a>"):
        assert text in row, text
    assert "Upload a remittance" not in body  # the administrator does not move money


def test_the_month_page_filters_by_category_and_records_the_members_shown(client_for, capitated):
    ipa = capitated
    may_underpaid(ipa)
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    wrong = Discrepancy.objects.get(category="wrong_rate")
    service.resolve_discrepancy(actor=ipa.users["fin"], discrepancy=wrong, note="paid in June")
    client = client_for("auditor")
    body = html(client.get(f"/capitation/payers/{ipa.payer.pk}/2026-05/"))
    assert "paid in June" in body  # every status is listed on the month's page
    assert ">Resolved</span>" in body
    filtered = html(client.get(f"/capitation/payers/{ipa.payer.pk}/2026-05/?category=paid_not_eligible"))
    table = filtered[filtered.index('id="results"') :]
    assert "GHOST1" in table
    assert "Anders" not in table
    event = AuditEvent.objects.filter(kind="read", object_type="capitation.discrepancy").first()
    assert event is not None
    assert event.purpose == "capitation reconciliation: a payer-month's discrepancies"
    assert list(AuditMember.objects.filter(event=event).values_list("member_id", flat=True)) == [
        ipa.member_a.pk
    ]
    assert client.get(f"/capitation/payers/{ipa.payer.pk}/2026-13/").status_code == 404


def test_the_dispute_file_lists_open_and_disputed_discrepancies_and_is_recorded(client_for, capitated):
    ipa = capitated
    may_underpaid(ipa)
    reconcile(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    ghost = Discrepancy.objects.get(category="paid_not_eligible")
    service.dispute_discrepancy(actor=ipa.users["fin"], discrepancy=ghost, note="ticket 9")
    Discrepancy.objects.create(payer=ipa.payer, month=MAY.first_day, member=ipa.member_b, payer_member_id="SUN0002",
                               category="retro_add", impact_cents=100, status="written_off")  # fmt: skip
    response = client_for("fin").get(f"/capitation/payers/{ipa.payer.pk}/disputes.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="disputes-SUN-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    got = [(r["member_id"], r["name"], r["month"], r["category"], r["expected"], r["received"], r["impact"],
            r["status"], r["age_days"]) for r in rows]  # fmt: skip
    assert got == [
        ("GHOST1", "", "2026-05", "Paid but not eligible", "0.00", "200.00", "-200.00", "Disputed", "0"),
        ("SUN0001", "Anders, Amy", "2026-05", "Wrong rate", "350.00", "300.00", "50.00", "Open", "0"),
    ]
    assert "age band" in rows[1]["cause"]
    read = AuditEvent.objects.get(kind="read", action="export", object_type="capitation.discrepancy",
                                  member_count=1)  # fmt: skip
    assert (read.actor_username, read.purpose) == ("fin", "capitation dispute file for the payer")
    assert list(AuditMember.objects.filter(event=read).values_list("member_id", flat=True)) == [
        ipa.member_a.pk
    ]
