"""The association pages: finance prepares, a second finance user approves, finance issues and records payments;
a practice user reaches its own invoices, payments and statement only, and nothing of another practice's leaks
into its pages, PDFs or CSVs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openipa.association import services
from openipa.association.models import FeePayment, Invoice, InvoiceRun
from openipa.core.months import Month


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def fees(ipa: Any) -> Any:
    fin = ipa.users["fin"]
    for practice, amount in ((ipa.practice_a, "250.00"), (ipa.practice_b, "375.00")):
        services.fee_term_create(actor=fin, practice=practice, data={
            "method": "flat_monthly", "amount": amount, "valid_from": dt.date(2026, 1, 1)})  # fmt: skip
    run = services.prepare_invoices(actor=fin, month=Month(2026, 10))
    services.approve_run(actor=ipa.users["fin2"], run=run)
    services.issue_run(actor=fin, run=run, issue_date=dt.date(2026, 10, 31))
    services.record_payment(actor=fin, practice=ipa.practice_b, amount="375.00", received_on=dt.date(2026, 11, 3),
                            method="ach", reference="BIRCH-TRACE-991", today=dt.date(2026, 11, 3))  # fmt: skip
    return ipa


@pytest.mark.django_db
def test_finance_prepares_and_cannot_approve_its_own_run_on_the_page(fees: Any) -> None:
    fin, fin2 = _client(fees.users["fin"]), _client(fees.users["fin2"])
    response = fin.post(reverse("web:association:run_list"), {"month": "2026-11"})
    assert response.status_code == 302
    run = InvoiceRun.objects.get(month=dt.date(2026, 11, 1))
    page = fin.get(reverse("web:association:run_detail", args=[run.pk])).content.decode()
    assert "another finance user must approve it" in page
    assert "Approve run" not in page
    fin.post(reverse("web:association:run_approve", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "draft"
    fin2.post(reverse("web:association:run_approve", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "approved"
    assert (
        fin.post(
            reverse("web:association:run_issue", args=[run.pk]), {"issue_date": "2026-11-30"}
        ).status_code
        == 302
    )
    run.refresh_from_db()
    assert run.status == "issued"
    # a month already issued is refused on the page, with nothing new
    response = fin.post(reverse("web:association:run_list"), {"month": "2026-11"})
    assert response.status_code == 400
    assert "credit note" in response.content.decode()
    assert InvoiceRun.objects.filter(month=dt.date(2026, 11, 1)).count() == 1


@pytest.mark.django_db
def test_staff_pages_render(fees: Any) -> None:
    fin = _client(fees.users["fin"])
    invoice = Invoice.objects.get(practice=fees.practice_a)
    for name, args in (("term_list", []), ("run_list", []), ("invoice_list", []), ("payment_list", []),
                       ("balances", []), ("statement", [fees.practice_a.pk]), ("invoice_detail", [invoice.pk])):  # fmt: skip
        response = fin.get(reverse(f"web:association:{name}", args=args))
        assert response.status_code == 200, name
    balances = fin.get(reverse("web:association:balances"), {"end": "2026-12-15"}).content.decode()
    assert 'id="fee-aging-title"' in balances
    assert "$250.00" in balances
    auditor = _client(fees.users["auditor"])
    assert auditor.get(reverse("web:association:balances")).status_code == 200
    assert auditor.post(reverse("web:association:run_list"), {"month": "2026-12"}).status_code == 403
    assert _client(fees.users["messenger"]).get(reverse("web:association:balances")).status_code == 403


@pytest.mark.django_db
def test_recording_a_bad_payment_on_the_page_changes_nothing(fees: Any) -> None:
    fin = _client(fees.users["fin"])
    before = FeePayment.objects.count()
    response = fin.post(reverse("web:association:payment_list"), {
        "practice": "ALDER", "amount": "-5", "received_on": "2026-11-01", "method": "check", "reference": "1"})  # fmt: skip
    assert response.status_code == 400
    assert "more than zero" in response.content.decode()
    assert FeePayment.objects.count() == before
    response = fin.post(reverse("web:association:payment_list"), {
        "practice": "ALDER", "amount": "100.00", "received_on": "2026-11-01", "method": "check", "reference": "1"})  # fmt: skip
    assert response.status_code == 302
    assert FeePayment.objects.count() == before + 1


@pytest.mark.django_db
def test_a_practice_user_sees_its_own_fees_and_nothing_of_another_practice(fees: Any) -> None:
    alice = _client(fees.users["alice"])
    own = Invoice.objects.get(practice=fees.practice_a)
    other = Invoice.objects.get(practice=fees.practice_b)
    assert alice.get(reverse("web:association:fees_home"))["Location"] == reverse(
        "web:association:statement", args=[fees.practice_a.pk]
    )
    pages = [
        alice.get(reverse("web:association:statement", args=[fees.practice_a.pk])),
        alice.get(reverse("web:association:statement_csv", args=[fees.practice_a.pk])),
        alice.get(reverse("web:association:invoice_list")),
        alice.get(reverse("web:association:payment_list")),
        alice.get(reverse("web:association:balances")),
        alice.get(reverse("web:association:invoice_detail", args=[own.pk])),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        for leak in ("BIRCH", "Birch Pediatrics", "BIRCH-TRACE-991", "$375.00"):
            assert leak not in body, (response.request["PATH_INFO"], leak)
    assert "MF-202610-ALDER" in pages[2].content.decode()
    pdf = alice.get(reverse("web:association:invoice_pdf", args=[own.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    statement_pdf = alice.get(reverse("web:association:statement_pdf", args=[fees.practice_a.pk]))
    assert statement_pdf.content.startswith(b"%PDF")
    # another practice's: not found; the staff pages: forbidden
    for name, args in (("invoice_detail", [other.pk]), ("invoice_pdf", [other.pk]),
                       ("statement", [fees.practice_b.pk]), ("statement_pdf", [fees.practice_b.pk]),
                       ("statement_csv", [fees.practice_b.pk])):  # fmt: skip
        assert alice.get(reverse(f"web:association:{name}", args=args)).status_code == 404, name
    for name in ("run_list", "term_list"):
        assert alice.get(reverse(f"web:association:{name}")).status_code == 403
    assert alice.post(reverse("web:association:payment_list"), {}).status_code == 403


@pytest.mark.django_db
def test_statement_csv_rows(fees: Any) -> None:
    fin = _client(fees.users["fin"])
    body = fin.get(reverse("web:association:statement_csv", args=[fees.practice_b.pk]),
                   {"start": "2026-10-01", "end": "2026-11-30"}).content.decode()  # fmt: skip
    assert body.splitlines() == [
        "date,kind,reference,amount,balance",
        "2026-10-01,Opening balance,BIRCH,,0.00",
        "2026-10-31,Invoice,MF-202610-BIRCH,375.00,375.00",
        "2026-11-03,Payment,ACH BIRCH-TRACE-991,-375.00,0.00",
        "2026-11-30,Closing balance,BIRCH,,0.00",
    ]


@pytest.mark.django_db
def test_a_percent_invoice_shows_its_base_arithmetic_and_the_revenue_definition(ipa: Any) -> None:
    from openipa.association.tests.test_fees import OCT, _issued, _revenue_b, _terms

    _terms(ipa)
    _revenue_b(ipa)
    _issued(ipa, OCT)
    invoice = Invoice.objects.get(number="MF-202610-BIRCH")
    bob = _client(ipa.users["bob"])
    body = bob.get(reverse("web:association:invoice_detail", args=[invoice.pk])).content.decode()
    assert "4.5% of $12,845.67 = $578.06" in body
    assert "$2,345.67" in body
    assert "Revenue through the IPA for a month" in body
    assert "ALDER" not in body
    assert "Alder" not in body
    pdf = bob.get(reverse("web:association:invoice_pdf", args=[invoice.pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
