"""Pay an approved run: a NACHA file of CCD+ credits, one per practice owed money, each with the addenda that
ties it to its payment trace; the payments marked sent, the run paid, and the ledger entry posted (provider
capitation payable paid out of cash), all in one transaction.

A practice without bank details is held; a practice whose net is zero or negative (recoupments larger than its
capitation) is not paid now: its net carries into its next payment from the payer. An adjustment run is never
paid by itself: its differences net into the practices' next regular payment.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from openipa.capitation.models import DistributionRun, PaymentFile, PracticePayment
from openipa.capitation.services.runs import RunRefused
from openipa.core import audit
from openipa.core.roles import Actor, Perm, require
from openipa.ledger import accounts
from openipa.ledger.payouts import Credit, trace_prefix, write_ach
from openipa.ledger.services import Posting, post_entry

Status = PracticePayment.Status


def pay_run(
    *, actor: Actor | None, run: DistributionRun, out: Path, effective: dt.date | None = None, who: str = ""
) -> PaymentFile:
    """Write ``out`` (a NACHA file) for ``run`` and record the payments. ``actor`` None is the system (CLI)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    created = timezone.localtime()
    effective = effective or (created.date() + dt.timedelta(days=1))
    with transaction.atomic():
        run = DistributionRun.objects.select_for_update().select_related("payer").get(pk=run.pk)
        if run.kind == DistributionRun.Kind.ADJUSTMENT:
            raise RunRefused(
                f"run {run.pk} is an adjustment: it is paid through each practice's next payment"
            )
        if run.status != DistributionRun.Status.APPROVED:
            raise RunRefused(
                f"run {run.pk} is {run.get_status_display().lower()}: only an approved run is paid"
            )
        payments = list(run.payments.select_related("practice").order_by("practice__tin"))
        payable = [p for p in payments if p.net_cents > 0 and p.status == Status.PENDING]
        banked = [p for p in payable if p.practice.bank_routing_number and p.practice.bank_account_number]
        held = [p for p in payable if p not in banked]
        if not banked:
            raise RunRefused(f"run {run.pk} has no payment to send (none above zero with bank details)")
        odfi = trace_prefix()
        traces = [f"{odfi}{n:07d}" for n in range(1, len(banked) + 1)]
        credits = [
            Credit(routing_number=p.practice.bank_routing_number, account_number=p.practice.bank_account_number,
                   amount_cents=p.net_cents, tin=p.practice.tin, name=p.practice.legal_name, trace_number=trace)
            for p, trace in zip(banked, traces, strict=True)
        ]  # fmt: skip
        written = write_ach(
            out, credits, description="CAPITATION", descriptive_date=run.month.strftime("%b %y").upper(),
            reference=f"RUN{run.pk}", effective=effective, kept_name=f"run-{run.pk}",
        )  # fmt: skip
        record = PaymentFile.objects.create(
            run=run, file_name=out.name, stored_path=written.stored_path, sha256=written.sha256,
            entries=written.entries, total_cents=written.total_cents, entry_hash=written.entry_hash,
            created_by=who or (getattr(actor, "username", "") if actor is not None else "") or "system",
        )  # fmt: skip
        for payment, trace in zip(banked, traces, strict=True):
            payment.status = Status.SENT
            payment.trace_number = trace
            payment.save(update_fields=["status", "trace_number"])
        for payment in held:
            payment.status = Status.HELD
            payment.save(update_fields=["status"])
        run.status = DistributionRun.Status.PAID
        run.paid_at = timezone.now()
        run.payment_date = effective
        run.save(update_fields=["status", "paid_at", "payment_date"])
        post_entry(
            actor=actor,
            date=effective,
            memo=f"capitation payments of run {run.pk} ({run.payer.code} {run.month:%Y-%m}): {out.name}",
            postings=[
                *(Posting(account=accounts.PROVIDER_CAPITATION_PAYABLE, debit_cents=p.net_cents,
                          practice_id=p.practice_id, payer_id=run.payer_id, memo=f"ACH trace {p.trace_number}")
                  for p in banked),
                Posting(account=accounts.CASH, credit_cents=written.total_cents, payer_id=run.payer_id),
            ],
            source_type="capitation_payment",
            source_id=record.pk,
        )  # fmt: skip
        audit.record_write(actor, "capitation.pay", record,
                           after={"run": run.pk, "entries": written.entries, "total_cents": record.total_cents,
                                  "held": len(held)})  # fmt: skip
    return record
