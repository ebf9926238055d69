"""Membership fees end to end on the small IPA: terms, golden invoices (computed by hand below), the run's
workflow and its refusals, issuing to the ledger, payments and their application, credit notes, aging and
statements, and what a practice user may see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openipa.association import selectors, services
from openipa.association.models import FeePayment, FeeTerm, Invoice, InvoiceRun, PaymentApplication
from openipa.capitation.models import DistributionRun, PracticePayment
from openipa.claims.models import ClaimPayment, ClaimPaymentRun
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.months import Month
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry, JournalLine
from openipa.ledger.services import Posting, post_entry

OCT = Month(2026, 10)
NOV = Month(2026, 11)


def _terms(ipa: Any, *, a: dict[str, Any] | None = None, b: dict[str, Any] | None = None) -> None:
    fin = ipa.users["fin"]
    services.fee_term_create(actor=fin, practice=ipa.practice_a, data=a or {
        "method": "flat_monthly", "amount": "250.00", "valid_from": dt.date(2026, 1, 1)})  # fmt: skip
    services.fee_term_create(actor=fin, practice=ipa.practice_b, data=b or {
        "method": "percent_of_revenue", "percent": "4.5", "minimum": "500.00", "maximum": "1000.00",
        "valid_from": dt.date(2026, 1, 1)})  # fmt: skip


def _revenue_b(ipa: Any, month: Month = OCT) -> None:
    """Practice B's October: $10,000.00 capitation (approved run: PCP net 8,000 + specialist 1,500 + quality
    500), $2,345.67 claims (a paid claims run dated in October) and $500.00 incentives (ledger 2650). Noise that
    must not count: a draft capitation run, a September claims run, a debit to 2650."""
    run = DistributionRun.objects.create(
        payer=ipa.payer, month=month.first_day, status="approved", prepared_by="x"
    )
    PracticePayment.objects.create(run=run, practice=ipa.practice_b, pcp_net_cents=800_000,
                                   specialist_cents=150_000, quality_cents=50_000, withhold_cents=99_999)  # fmt: skip
    draft = DistributionRun.objects.create(
        payer=ipa.payer, month=month.first_day, status="draft", prepared_by="x"
    )
    PracticePayment.objects.create(run=draft, practice=ipa.practice_b, pcp_net_cents=777_777)
    paid = ClaimPaymentRun.objects.create(status="paid", through=month.first_day, payment_date=month.first_day + dt.timedelta(days=9), prepared_by="x")  # fmt: skip
    ClaimPayment.objects.create(run=paid, payee_npi="1245319599", practice=ipa.practice_b, net_cents=234_567)
    sept = ClaimPaymentRun.objects.create(status="paid", through=month.first_day, payment_date=month.first_day - dt.timedelta(days=1), prepared_by="x")  # fmt: skip
    ClaimPayment.objects.create(run=sept, payee_npi="1245319599", practice=ipa.practice_b, net_cents=111_111)
    post_entry(actor=None, date=month.first_day + dt.timedelta(days=14), memo="quality incentive", postings=[
        Posting(accounts.QUALITY_POOL_LIABILITY, debit_cents=50_000),
        Posting(accounts.INCENTIVES_PAYABLE, credit_cents=50_000, practice_id=ipa.practice_b.pk)],
        source_type="test", source_id=1)  # fmt: skip
    post_entry(actor=None, date=month.first_day + dt.timedelta(days=20), memo="paid out", postings=[
        Posting(accounts.INCENTIVES_PAYABLE, debit_cents=50_000, practice_id=ipa.practice_b.pk),
        Posting(accounts.CASH, credit_cents=50_000)], source_type="test", source_id=2)  # fmt: skip


def _issued(ipa: Any, month: Month = OCT, on: dt.date | None = None) -> InvoiceRun:
    run = services.prepare_invoices(actor=ipa.users["fin"], month=month)
    services.approve_run(actor=ipa.users["fin2"], run=run)
    return services.issue_run(actor=ipa.users["fin"], run=run, issue_date=on or month.last_day)


def _receivable(practice_id: int) -> int:
    total = 0
    for line in JournalLine.objects.filter(
        account__code=accounts.PRACTICE_RECEIVABLE, practice_id=practice_id
    ):
        total += int((line.debit - line.credit) * 100)
    return total


@pytest.mark.django_db
def test_revenue_is_capitation_claims_and_incentives_of_the_month(ipa: Any) -> None:
    _revenue_b(ipa)
    revenue = selectors.revenue_by_practice(OCT)[ipa.practice_b.pk]
    assert (revenue.capitation_cents, revenue.claims_cents, revenue.incentives_cents) == (
        1_000_000,
        234_567,
        50_000,
    )
    assert ipa.practice_a.pk not in selectors.revenue_by_practice(OCT)


@pytest.mark.django_db
def test_golden_invoices_flat_and_percent(ipa: Any) -> None:
    _terms(ipa)
    _revenue_b(ipa)
    run = services.prepare_invoices(actor=ipa.users["fin"], month=OCT)
    invoices = {i.practice.code: i for i in run.invoices.all()}
    # A: flat $250.00
    assert invoices["ALDER"].total_cents == 25_000
    # B: 4.5% of $12,845.67 = $578.0551... -> $578.06 (min $500 and max $1,000 do not bind)
    b = invoices["BIRCH"]
    assert b.total_cents == 57_806
    fee_line = b.lines.get(kind="fee")
    assert fee_line.base_cents == 1_284_567
    assert fee_line.arithmetic == "4.5% of $12,845.67 = $578.06"
    assert [ln.base_cents for ln in b.lines.filter(kind="base")] == [1_000_000, 234_567, 50_000]
    assert run.total_cents == 82_806
    assert run.inputs["terms"]["BIRCH"] == FeeTerm.objects.get(practice=ipa.practice_b).pk


@pytest.mark.django_db
def test_minimum_and_maximum_bind(ipa: Any) -> None:
    _terms(ipa, b={"method": "percent_of_revenue", "percent": "4.5", "minimum": "500.00", "maximum": "550.00",
                   "valid_from": dt.date(2026, 1, 1)})  # fmt: skip
    _revenue_b(ipa)
    run = services.prepare_invoices(actor=ipa.users["fin"], month=OCT)
    b = run.invoices.get(practice=ipa.practice_b)
    assert b.total_cents == 55_000  # $578.06 lowered to the maximum
    assert b.lines.get(kind="fee").arithmetic.endswith("above the maximum, so $550.00")
    # November: no revenue at all: 4.5% of $0.00 = $0.00, raised to the $500.00 minimum
    nov = services.prepare_invoices(actor=ipa.users["fin"], month=NOV)
    assert nov.invoices.get(practice=ipa.practice_b).total_cents == 50_000


@pytest.mark.django_db
def test_approving_ones_own_run_is_refused_and_changes_nothing(ipa: Any) -> None:
    _terms(ipa)
    run = services.prepare_invoices(actor=ipa.users["fin"], month=OCT)
    with pytest.raises(services.RunRefused, match="another finance user"):
        services.approve_run(actor=ipa.users["fin"], run=run)
    run.refresh_from_db()
    assert run.status == "draft"
    assert run.approved_by == ""
    with pytest.raises(PermissionDenied):
        services.approve_run(actor=ipa.users["admin"], run=run)
    with pytest.raises(services.RunRefused, match="only an approved run"):
        services.issue_run(actor=ipa.users["fin"], run=run)
    assert not JournalEntry.objects.filter(source_type="membership_fee_invoice").exists()


@pytest.mark.django_db
def test_issue_posts_each_invoice_with_its_practice_and_an_issued_run_never_changes(ipa: Any) -> None:
    _terms(ipa)
    run = _issued(ipa, on=dt.date(2026, 11, 2))
    a = run.invoices.get(practice=ipa.practice_a)
    assert a.number == "MF-202610-ALDER"
    assert a.issue_date == dt.date(2026, 11, 2)
    assert a.due_date == dt.date(2026, 12, 2)
    assert _receivable(ipa.practice_a.pk) == 25_000
    revenue = JournalLine.objects.get(
        account__code=accounts.MEMBERSHIP_FEE_REVENUE, practice_id=ipa.practice_a.pk
    )
    assert revenue.credit == Decimal("250.00")
    a.total_cents = 1
    with pytest.raises(ValueError, match="cannot change"):
        a.save()
    run.reason = "x"
    with pytest.raises(ValueError, match="cannot change"):
        run.save()
    with pytest.raises(services.RunRefused, match="credit note"):
        services.prepare_invoices(actor=ipa.users["fin"], month=OCT)
    assert Invoice.objects.get(pk=a.pk).total_cents == 25_000


@pytest.mark.django_db
def test_payments_go_to_the_oldest_invoice_first_and_overpayment_is_a_credit(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 31))
    _issued(ipa, NOV, dt.date(2026, 11, 30))
    fin, today = ipa.users["fin"], dt.date(2026, 12, 5)
    oct_a = Invoice.objects.get(number="MF-202610-ALDER")
    nov_a = Invoice.objects.get(number="MF-202611-ALDER")
    # $300: $250 clears October, $50 goes to November
    services.record_payment(actor=fin, practice=ipa.practice_a, amount="300.00", received_on=dt.date(2026, 12, 1),
                            method="check", reference="1001", today=today)  # fmt: skip
    applied = {a.invoice_id: a.amount_cents for a in PaymentApplication.objects.all()}
    assert applied == {oct_a.pk: 25_000, nov_a.pk: 5_000}
    # $400 more: $200 clears November, $200 is a credit balance
    services.record_payment(actor=fin, practice=ipa.practice_a, amount=Decimal("400"),
                            received_on=dt.date(2026, 12, 2), method="ach", reference="T-2", today=today)  # fmt: skip
    [balance] = [b for b in selectors.balances(fin, as_of=today) if b.practice.pk == ipa.practice_a.pk]
    assert balance.aging.open_cents == 0
    assert balance.aging.credit_cents == 20_000
    assert balance.aging.balance_cents == -20_000
    assert _receivable(ipa.practice_a.pk) == -20_000  # the ledger agrees
    # the credit pays December's invoice when it is issued
    _issued(ipa, Month(2026, 12), dt.date(2026, 12, 31))
    dec_a = Invoice.objects.get(number="MF-202612-ALDER")
    assert PaymentApplication.objects.get(invoice=dec_a).amount_cents == 20_000
    [balance] = [
        b for b in selectors.balances(fin, as_of=dt.date(2026, 12, 31)) if b.practice.pk == ipa.practice_a.pk
    ]
    assert balance.aging.balance_cents == 5_000 == _receivable(ipa.practice_a.pk)


@pytest.mark.django_db
def test_a_payment_to_a_named_invoice_goes_there_first(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 31))
    _issued(ipa, NOV, dt.date(2026, 11, 30))
    nov_a = Invoice.objects.get(number="MF-202611-ALDER")
    services.record_payment(actor=ipa.users["fin"], practice=ipa.practice_a, amount="250.00", invoice=nov_a,
                            received_on=dt.date(2026, 12, 1), method="wire", reference="W1",
                            today=dt.date(2026, 12, 1))  # fmt: skip
    assert [(a.invoice_id, a.amount_cents) for a in PaymentApplication.objects.all()] == [(nov_a.pk, 25_000)]


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("amount", {"amount": "-5.00"}),
        ("amount", {"amount": "0"}),
        ("amount", {"amount": "12.345"}),
        ("amount", {"amount": "abc"}),
        ("practice", {"practice": None}),
        ("received_on", {"received_on": dt.date(2026, 12, 2)}),
        ("method", {"method": "bitcoin"}),
        ("reference", {"reference": "  "}),
    ],
)
@pytest.mark.django_db
def test_bad_payments_are_refused_and_nothing_is_applied(
    ipa: Any, field: str, changes: dict[str, Any]
) -> None:
    _terms(ipa)
    _issued(ipa, OCT)
    entries = JournalEntry.objects.count()
    data = {"actor": ipa.users["fin"], "practice": ipa.practice_a, "amount": "10.00",
            "received_on": dt.date(2026, 12, 1), "method": "check", "reference": "1", "today": dt.date(2026, 12, 1),
            **changes}  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        services.record_payment(**data)
    assert field in exc.value.fields
    assert not FeePayment.objects.exists()
    assert not PaymentApplication.objects.exists()
    assert JournalEntry.objects.count() == entries


@pytest.mark.django_db
def test_a_payment_naming_another_practices_invoice_is_refused(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT)
    b_invoice = Invoice.objects.get(practice=ipa.practice_b)
    with pytest.raises(ValidationFailed) as exc:
        services.record_payment(actor=ipa.users["fin"], practice=ipa.practice_a, amount="1.00", invoice=b_invoice,
                                received_on=dt.date(2026, 11, 1), method="ach", reference="x",
                                today=dt.date(2026, 11, 2))  # fmt: skip
    assert "invoice" in exc.value.fields
    assert not FeePayment.objects.exists()


@pytest.mark.django_db
def test_a_credit_note_reverses_part_of_an_issued_invoice(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 31))
    original = Invoice.objects.get(number="MF-202610-ALDER")
    with pytest.raises(ValidationFailed):
        services.credit_note(actor=ipa.users["fin"], invoice=original, amount="250.01", reason="too much")
    note_run = services.credit_note(
        actor=ipa.users["fin"], invoice=original, amount="100.00", reason="billed twice"
    )
    assert note_run.status == "draft"
    assert note_run.total_cents == -10_000
    services.approve_run(actor=ipa.users["fin2"], run=note_run)
    services.issue_run(actor=ipa.users["fin"], run=note_run, issue_date=dt.date(2026, 11, 5))
    note = note_run.invoices.get()
    assert note.credits == original
    assert note.total_cents == -10_000
    assert note.lines.get().amount_cents == -10_000
    assert note.number.startswith("CN-202610-ALDER")
    assert _receivable(ipa.practice_a.pk) == 15_000
    [item] = selectors.open_items(ipa.practice_a.pk)
    assert item.open_cents == 15_000
    # what was credited cannot be credited again
    with pytest.raises(ValidationFailed, match=r"\$150.00"):
        services.credit_note(actor=ipa.users["fin"], invoice=original, amount="150.01", reason="again")
    original.refresh_from_db()
    assert original.total_cents == 25_000  # the original is untouched


@pytest.mark.django_db
def test_aging_buckets_at_their_boundaries(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 1))
    fin = ipa.users["fin"]

    def buckets(as_of: dt.date) -> dict[str, int]:
        [b] = [b for b in selectors.balances(fin, as_of=as_of) if b.practice.pk == ipa.practice_a.pk]
        return {k: v for k, v in b.aging.buckets.items() if v}

    assert buckets(dt.date(2026, 10, 31)) == {"0-30": 25_000}  # 30 days
    assert buckets(dt.date(2026, 11, 1)) == {"31-60": 25_000}  # 31 days
    assert buckets(dt.date(2026, 11, 30)) == {"31-60": 25_000}  # 60
    assert buckets(dt.date(2026, 12, 1)) == {"61-90": 25_000}  # 61
    assert buckets(dt.date(2026, 12, 30)) == {"61-90": 25_000}  # 90
    assert buckets(dt.date(2026, 12, 31)) == {"90+": 25_000}  # 91


@pytest.mark.django_db
def test_statement_of_account(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 31))
    _issued(ipa, NOV, dt.date(2026, 11, 30))
    services.record_payment(actor=ipa.users["fin"], practice=ipa.practice_a, amount="100.00",
                            received_on=dt.date(2026, 11, 15), method="check", reference="77",
                            today=dt.date(2026, 12, 1))  # fmt: skip
    _practice, st = selectors.statement_of_account(
        ipa.users["fin"], ipa.practice_a.pk, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)
    )
    assert st.opening_cents == 25_000
    assert [(r.txn.kind, r.txn.amount_cents, r.balance_cents) for r in st.rows] == [
        ("Payment", -10_000, 15_000), ("Invoice", 25_000, 40_000)]  # fmt: skip
    assert st.closing_cents == 40_000


@pytest.mark.django_db
def test_a_practice_user_sees_only_its_own_fees(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT)
    alice = ipa.users["alice"]
    b_invoice = Invoice.objects.get(practice=ipa.practice_b)
    with pytest.raises(NotFound):
        selectors.invoice_get(alice, b_invoice.pk)
    with pytest.raises(NotFound):
        selectors.statement_of_account(
            alice, ipa.practice_b.pk, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31)
        )
    assert {i.practice_id for i in selectors.issued_invoices(alice)} == {ipa.practice_a.pk}
    assert [b.practice.pk for b in selectors.balances(alice, as_of=dt.date(2026, 11, 1))] == [
        ipa.practice_a.pk
    ]
    with pytest.raises(PermissionDenied):
        selectors.runs(alice)
    with pytest.raises(PermissionDenied):
        selectors.balances(ipa.users["messenger"], as_of=dt.date(2026, 11, 1))


@pytest.mark.django_db
def test_term_refusals(ipa: Any) -> None:
    fin = ipa.users["fin"]
    _terms(ipa)
    with pytest.raises(ValidationFailed, match="Another fee term"):
        services.fee_term_create(actor=fin, practice=ipa.practice_a, data={
            "method": "flat_monthly", "amount": "10.00", "valid_from": dt.date(2026, 6, 1)})  # fmt: skip
    with pytest.raises(ValidationFailed, match="maximum is below the minimum"):
        services.fee_term_create(actor=fin, practice=ipa.practice_a, data={
            "method": "percent_of_revenue", "percent": "2", "minimum": "10", "maximum": "5",
            "valid_from": dt.date(2027, 1, 1)})  # fmt: skip
    with pytest.raises(ValidationFailed, match="no participation agreement"):
        services.fee_term_create(actor=fin, practice=ipa.practice_a, data={
            "method": "flat_monthly", "amount": "10.00", "valid_from": dt.date(2025, 1, 1)})  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.fee_term_create(actor=ipa.users["admin"], practice=ipa.practice_a, data={
            "method": "flat_monthly", "amount": "10.00", "valid_from": dt.date(2027, 1, 1)})  # fmt: skip
    assert FeeTerm.objects.count() == 2


@pytest.mark.django_db
def test_two_draft_credit_notes_cannot_credit_more_than_the_invoice(ipa: Any) -> None:
    _terms(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 31))
    original = Invoice.objects.get(number="MF-202610-ALDER")
    first = services.credit_note(actor=ipa.users["fin"], invoice=original, amount="200.00", reason="one")
    second = services.credit_note(actor=ipa.users["fin"], invoice=original, amount="100.00", reason="two")
    for run in (first, second):
        services.approve_run(actor=ipa.users["fin2"], run=run)
    services.issue_run(actor=ipa.users["fin"], run=first, issue_date=dt.date(2026, 11, 2))
    entries = JournalEntry.objects.count()
    with pytest.raises(services.RunRefused, match=r"only \$50.00 left"):
        services.issue_run(actor=ipa.users["fin"], run=second, issue_date=dt.date(2026, 11, 3))
    second.refresh_from_db()
    assert second.status == "approved"
    assert JournalEntry.objects.count() == entries
    assert _receivable(ipa.practice_a.pk) == 5_000


@pytest.mark.django_db
def test_balances_in_bulk_agree_with_one_practice_at_a_time(ipa: Any) -> None:
    _terms(ipa)
    _revenue_b(ipa)
    _issued(ipa, OCT, dt.date(2026, 10, 31))
    _issued(ipa, NOV, dt.date(2026, 11, 30))
    fin = ipa.users["fin"]
    note = services.credit_note(actor=fin, invoice=Invoice.objects.get(number="MF-202610-BIRCH"), reason="x",
                                amount="100.00")  # fmt: skip
    services.approve_run(actor=ipa.users["fin2"], run=note)
    services.issue_run(actor=fin, run=note, issue_date=dt.date(2026, 12, 1))
    services.record_payment(actor=fin, practice=ipa.practice_a, amount="600.00", received_on=dt.date(2026, 12, 2),
                            method="ach", reference="A", today=dt.date(2026, 12, 3))  # fmt: skip
    services.record_payment(actor=fin, practice=ipa.practice_b, amount="100.00", received_on=dt.date(2026, 12, 2),
                            method="ach", reference="B", today=dt.date(2026, 12, 3))  # fmt: skip
    for balance in selectors.balances(fin, as_of=dt.date(2026, 12, 31)):
        pid = balance.practice.pk
        assert balance.aging.open_cents == sum(max(i.open_cents, 0) for i in selectors.open_items(pid))
        assert balance.aging.credit_cents == sum(c.cents for c in selectors.unapplied_credits(pid))
        assert balance.aging.balance_cents == _receivable(pid)
