"""Reads of claims payment runs, for the run pages: the runs, one run's payees, interest lines and ledger
entries, and a payee's 835 as bytes.

Payment runs move money: they are IPA finance staff's (VIEW_FINANCE: finance, auditors, the administrator),
never a practice user's. Payees are billing providers (no member data); the interest lines and the 835s name
claims of members, so handing them out records the read with its purpose.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Count, Q, QuerySet

from openipa.claims.models import ClaimLine, ClaimPayment, ClaimPaymentRun, LineInterest
from openipa.claims.services.payments import remit_run
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require
from openipa.ledger import selectors as ledger_selectors

APPROVAL_SOURCE = "claims_run"
PAYMENT_SOURCE = "claims_payment"


def _require_staff(actor: Actor) -> None:
    """Payment runs are IPA finance staff's: VIEW_FINANCE, never a practice user."""
    require(actor, Perm.VIEW_FINANCE)
    if is_practice_scoped(actor):
        raise PermissionDenied("claims payment runs are not shown to practice users")


def can_act(actor: Actor) -> bool:
    """Prepare, approve and pay runs: finance alone."""
    return has_perm(actor, Perm.EDIT_FINANCE) and not is_practice_scoped(actor)


def run_list(actor: Actor, *, status: str = "") -> QuerySet[ClaimPaymentRun]:
    """Payment runs, newest first, with their payee count (totals only: not audited)."""
    _require_staff(actor)
    qs = ClaimPaymentRun.objects.annotate(payees=Count("payments"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-prepared_at", "-id")


def run_get(actor: Actor, run_id: int) -> ClaimPaymentRun:
    _require_staff(actor)
    try:
        return ClaimPaymentRun.objects.get(pk=run_id)
    except ClaimPaymentRun.DoesNotExist:
        raise NotFound(f"claims payment run {run_id}") from None


@dataclass(frozen=True)
class InterestRow:
    """One late clean line's interest: the claim and line, when it was due, how late, what it costs."""

    claim_id: int
    patient_control_number: str
    line_number: int
    code: str
    payee_npi: str
    received_on: dt.date
    due_on: dt.date
    days_late: int
    paid_cents: int
    interest_cents: int


@dataclass(frozen=True)
class RunDetail:
    run: ClaimPaymentRun
    payments: list[ClaimPayment]
    interest: list[InterestRow]
    approval_entry: int | None
    """The ledger entry posted on approval (expense against claims payable)."""
    payment_entry: int | None
    """The ledger entry posted when paid (claims payable out of cash)."""

    @property
    def payments_net_cents(self) -> int:
        return sum(p.net_cents for p in self.payments)

    @property
    def sendable(self) -> list[ClaimPayment]:
        """The payees a NACHA file would credit: net above zero and bank details on file."""
        return [
            p
            for p in self.payments
            if p.net_cents > 0
            and p.practice is not None
            and p.practice.bank_routing_number
            and p.practice.bank_account_number
        ]


def _entry(actor: Actor, source_type: str, run: ClaimPaymentRun) -> int | None:
    number: int | None = (
        ledger_selectors.journal(actor, source_type=source_type)
        .filter(source_id=str(run.pk))
        .order_by("number")
        .values_list("number", flat=True)
        .first()
    )
    return number


def run_detail(actor: Actor, run_id: int, *, purpose: str) -> RunDetail:
    """A run with its payees, its interest lines (the members of those lines are recorded as read) and its
    ledger entries."""
    run = run_get(actor, run_id)
    payments = list(run.payments.select_related("practice").order_by("payee_tin", "payee_npi", "pk"))
    lines = list(
        LineInterest.objects.filter(run=run)
        .select_related("line", "line__claim")
        .order_by("line__claim__billing_npi", "line__claim_id", "line__number")
    )
    interest = [
        InterestRow(
            claim_id=li.line.claim_id,
            patient_control_number=li.line.claim.patient_control_number,
            line_number=li.line.number,
            code=li.line.code or li.line.revenue_code,
            payee_npi=li.line.claim.billing_npi,
            received_on=li.line.claim.received_on,
            due_on=li.due_on,
            days_late=li.days_late,
            paid_cents=li.line.paid_cents,
            interest_cents=li.interest_cents,
        )
        for li in lines
    ]
    if lines:
        audit.record_read(
            actor,
            object_type="claims.claimpaymentrun",
            object_id=str(run.pk),
            action="view",
            member_ids=sorted({li.line.claim.member_id for li in lines if li.line.claim.member_id}),
            purpose=purpose,
        )
    return RunDetail(
        run=run,
        payments=payments,
        interest=interest,
        approval_entry=_entry(actor, APPROVAL_SOURCE, run),
        payment_entry=_entry(actor, PAYMENT_SOURCE, run),
    )


def payment_get(actor: Actor, run: ClaimPaymentRun, payment_id: int) -> ClaimPayment:
    _require_staff(actor)
    try:
        return run.payments.select_related("practice").get(pk=payment_id)
    except ClaimPayment.DoesNotExist:
        raise NotFound(f"payee {payment_id} of run {run.pk}") from None


def remittance_bytes(
    actor: Actor, run: ClaimPaymentRun, payment: ClaimPayment, *, purpose: str
) -> tuple[str, bytes]:
    """One payee's 835 of an approved or paid run: its file name and bytes (written by ``remit_run`` into a
    temporary folder, which is then removed). The download is recorded, with the members the 835 names."""
    _require_staff(actor)
    if payment.run_id != run.pk:
        raise NotFound(f"payee {payment.pk} of run {run.pk}")
    with tempfile.TemporaryDirectory(prefix="openipa-835-") as tmp:
        files = remit_run(actor=actor, run=run, out=Path(tmp))
        wanted = f"835-run{run.pk}-{payment.payee_npi}.x12"
        path = next((f for f in files if f.name == wanted), None)
        if path is None:
            raise NotFound(f"the 835 of payee {payment.payee_npi} in run {run.pk}")
        data = path.read_bytes()
    members = (
        ClaimLine.objects.filter(Q(payment_run_id=run.pk) | Q(reversal_run_id=run.pk))
        .filter(claim__billing_npi=payment.payee_npi, claim__member__isnull=False)
        .values_list("claim__member_id", flat=True)
        .distinct()
    )
    audit.record_read(
        actor,
        object_type="claims.claimpaymentrun",
        object_id=str(run.pk),
        action="download",
        member_ids=list(members),
        purpose=purpose,
    )
    return wanted, data
