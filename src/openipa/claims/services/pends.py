"""The pend queue: an examiner decides a pended line, paying it (with the allowed amount and any member cost
share) or denying it (with a CARC), always with a reason. The decision is kept (PendOverride) and audited."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from openipa.claims.models import Claim, ClaimLine, PendOverride
from openipa.core import audit
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, require

_CODE = re.compile(r"[A-Z0-9]{1,5}")


def decide_pend(
    *,
    actor: Actor,
    line: ClaimLine,
    decision: str,
    reason: str,
    allowed_cents: int | None = None,
    cost_share_cents: int = 0,
    carc: str = "",
    rarc: str = "",
) -> PendOverride:
    """Pay or deny a pended line. Refused (nothing changes) unless the line is pended, a reason is given, and a
    payment has an allowed amount at least the cost share (or a denial a CARC)."""
    require(actor, Perm.EDIT_CLAIMS)
    reason = reason.strip()
    carc, rarc = carc.strip().upper(), rarc.strip().upper()
    if not reason:
        raise ValidationFailed.single("reason", "say why the line is paid or denied")
    if decision == PendOverride.Decision.PAY:
        if allowed_cents is None or allowed_cents < 0:
            raise ValidationFailed.single("allowed_cents", "give the allowed amount (not negative)")
        if not 0 <= cost_share_cents <= allowed_cents:
            raise ValidationFailed.single(
                "cost_share_cents", "the cost share must be between 0 and the allowed amount"
            )
    elif decision == PendOverride.Decision.DENY:
        if not _CODE.fullmatch(carc):
            raise ValidationFailed.single(
                "carc", "give the claim adjustment reason code (CARC) of the denial"
            )
        if rarc and not _CODE.fullmatch(rarc):
            raise ValidationFailed.single("rarc", f"{rarc!r} is not a remark code")
    else:
        raise ValidationFailed.single("decision", f"{decision!r} is neither pay nor deny")
    with transaction.atomic():
        line = ClaimLine.objects.select_for_update().get(pk=line.pk)
        if line.outcome != ClaimLine.Outcome.PENDED:
            raise ValidationFailed.single(
                "line", f"line {line.pk} is {line.get_outcome_display().lower()}, not pended"
            )
        before = {
            "outcome": line.outcome,
            "pend_reason": line.pend_reason,
            "allowed_cents": line.allowed_cents,
        }
        override = PendOverride.objects.create(
            line=line, decision=decision, reason=reason[:500], allowed_cents=allowed_cents if decision == "pay" else None,
            cost_share_cents=cost_share_cents if decision == "pay" else 0, carc=carc, rarc=rarc,
            pend_reason=line.pend_reason[:200], decided_by=actor.username,
        )  # fmt: skip
        if decision == PendOverride.Decision.PAY:
            assert allowed_cents is not None
            line.outcome = ClaimLine.Outcome.PAID
            line.allowed_cents = allowed_cents
            line.cost_share_cents = cost_share_cents
            line.paid_cents = allowed_cents - cost_share_cents
            line.carc = line.rarc = ""
        else:
            line.outcome = ClaimLine.Outcome.DENIED
            line.paid_cents = 0
            line.cost_share_cents = 0
            line.carc, line.rarc = carc, rarc
        line.findings = [*line.findings, {"rule": "examiner", "outcome": decision, "carc": carc, "rarc": rarc,
                                          "message": f"{actor.username}: {reason[:300]}"}]  # fmt: skip
        line.pend_reason = ""
        line.adjudicated_at = timezone.now()
        line.save()
        if not ClaimLine.objects.filter(claim_id=line.claim_id, outcome=ClaimLine.Outcome.PENDED).exists():
            Claim.objects.filter(pk=line.claim_id, status=Claim.Status.PENDED).update(
                status=Claim.Status.ADJUDICATED
            )
        audit.record_write(
            actor, "claims.decide_pend", line, before=before,
            after={"outcome": line.outcome, "allowed_cents": line.allowed_cents, "paid_cents": line.paid_cents,
                   "carc": line.carc, "reason": reason[:300]},
            member_ids=[line.claim.member_id] if line.claim.member_id else [],
        )  # fmt: skip
    return override
