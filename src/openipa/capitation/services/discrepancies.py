"""Working the discrepancy queue: assign an owner, dispute with the payer, resolve with a note, write off.

Each change is one transaction that locks the discrepancy, checks its status, saves it and writes the audit
record (before and after), so two people acting on the same row at once cannot both succeed on a stale view.
Closed discrepancies (resolved or written off) stay closed: reconciliation opens a new one if the same
difference comes back. Money a person gives up on (write off) or declares settled (resolve) needs words:
the note is what an auditor reads later.

A dispute's note (the payer's ticket, what was sent) is kept on the discrepancy and in the audit record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from openipa.accounts.models import User
from openipa.capitation.models import Discrepancy
from openipa.core import audit
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, has_perm, require

Status = Discrepancy.Status
OPEN_STATUSES = (Status.OPEN, Status.DISPUTED)
NOTE_MAX = 300
"""The length of `Discrepancy.resolution`."""
AUDITED = ("status", "owner", "closed_at", "dispute_note", "resolution")


def _note(note: str, *, required: bool, what: str) -> str:
    text = " ".join((note or "").split())
    if required and not text:
        raise ValidationFailed.single(
            "note", f"Write why the discrepancy is {what}: the note is kept with it."
        )
    if len(text) > NOTE_MAX:
        raise ValidationFailed.single("note", f"Keep the note to {NOTE_MAX} characters (it has {len(text)}).")
    return text


def _change(
    actor: Actor,
    discrepancy: Discrepancy,
    action: str,
    apply: Callable[[Discrepancy], None],
    *,
    extra: dict[str, Any] | None = None,
) -> Discrepancy:
    """Lock, check it is still open or disputed, apply, save, audit: one transaction."""
    require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        current = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        if current.status not in OPEN_STATUSES:
            raise ValidationFailed.single(
                "status",
                f"This discrepancy is already {current.get_status_display().lower()}; "
                "a closed discrepancy cannot be changed.",
            )
        before = audit.snapshot(current, AUDITED)
        apply(current)
        current.save(update_fields=["status", "owner", "closed_at", "dispute_note", "resolution"])
        after = {**audit.snapshot(current, AUDITED), **(extra or {})}
        audit.record_write(
            actor,
            f"capitation.discrepancy.{action}",
            current,
            before=before,
            after=after,
            member_ids=[current.member_id] if current.member_id else [],
        )
    return current


def assign_discrepancy(*, actor: Actor, discrepancy: Discrepancy, owner: User | None) -> Discrepancy:
    """Make ``owner`` (an active finance user) the one who works it; None leaves it unassigned."""
    if owner is not None and (not owner.is_active or not has_perm(owner, Perm.EDIT_FINANCE)):
        raise ValidationFailed.single(
            "owner", f"{owner.username} cannot work discrepancies: choose an active finance user."
        )

    def apply(d: Discrepancy) -> None:
        d.owner = owner

    return _change(actor, discrepancy, "assign", apply)


def dispute_discrepancy(*, actor: Actor, discrepancy: Discrepancy, note: str = "") -> Discrepancy:
    """Mark an open discrepancy as disputed with the payer (a disputed one stays disputed); the note, e.g.
    the payer's ticket number, is kept on it."""
    text = _note(note, required=False, what="disputed")

    def apply(d: Discrepancy) -> None:
        if d.status == Status.DISPUTED:
            raise ValidationFailed.single("status", "This discrepancy is already disputed.")
        d.status = Status.DISPUTED
        d.dispute_note = text

    return _change(actor, discrepancy, "dispute", apply)


def resolve_discrepancy(*, actor: Actor, discrepancy: Discrepancy, note: str) -> Discrepancy:
    """Close it as resolved (the payer corrected it, or it was not a discrepancy after all), saying how."""
    text = _note(note, required=True, what="resolved")

    def apply(d: Discrepancy) -> None:
        d.status = Status.RESOLVED
        d.closed_at = timezone.now()
        d.resolution = text

    return _change(actor, discrepancy, "resolve", apply)


def write_off_discrepancy(*, actor: Actor, discrepancy: Discrepancy, note: str) -> Discrepancy:
    """Close it as written off: the IPA stops pursuing the money, and says why."""
    text = _note(note, required=True, what="written off")

    def apply(d: Discrepancy) -> None:
        d.status = Status.WRITTEN_OFF
        d.closed_at = timezone.now()
        d.resolution = text

    return _change(actor, discrepancy, "write_off", apply)
