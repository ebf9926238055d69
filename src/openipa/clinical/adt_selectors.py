"""Reads of ADT notifications (admissions, discharges, ED visits a hospital or HIE reported for members).

Who sees them: IPA staff with VIEW_CLINICAL, every practice's; a practice user (VIEW_MEMBERS, bound to a
practice) those of the members whose PCP practice on the event's day was their own. The list records the
members it hands out as read; the counts hand out none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from openipa.clinical.models import AdtNotification
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.pagination import Page, paginate
from openipa.core.roles import (
    Actor,
    Perm,
    has_perm,
    is_practice_scoped,
    scoped_practice_id,
    sees_adt_notifications,
)

PURPOSE = "ADT notifications"


def can_view(actor: Actor) -> bool:
    """Staff with VIEW_CLINICAL, or a practice user bound to a practice (``core.roles.sees_adt_notifications``)."""
    return sees_adt_notifications(actor)


def can_acknowledge(actor: Actor) -> bool:
    """Staff with EDIT_CLINICAL, or a practice user (their own practice's: the list shows no other)."""
    if is_practice_scoped(actor):
        return can_view(actor)
    return has_perm(actor, Perm.EDIT_CLINICAL)


def _scope(actor: Actor | None) -> QuerySet[AdtNotification]:
    """Every notification (actor None: the command line), or those the actor may see."""
    qs = AdtNotification.objects.all()
    if actor is None:
        return qs
    if not can_view(actor):
        raise PermissionDenied("ADT notifications need VIEW_CLINICAL, or a practice user's own practice")
    if is_practice_scoped(actor):
        qs = qs.filter(pcp_practice_id=scoped_practice_id(actor))
    return qs


def _filtered(
    actor: Actor | None, *, status: str = "", event: str = "", practice_id: int | None = None
) -> QuerySet[AdtNotification]:
    qs = _scope(actor)
    if status:
        qs = qs.filter(status=status)
    if event:
        qs = qs.filter(event=event)
    if practice_id is not None:
        qs = qs.filter(pcp_practice_id=practice_id)
    return qs.order_by("-event_date", "-pk")


def notification_page(
    actor: Actor, *, status: str = "", event: str = "", practice_id: int | None = None,
    page: int | str | None = 1, per_page: int | str | None = None,
) -> Page[AdtNotification]:  # fmt: skip
    """One page, newest event first, with the member, the PCP practice and the PCP; its members recorded as
    read."""
    qs = _filtered(actor, status=status, event=event, practice_id=practice_id).select_related(
        "member", "pcp_practice", "pcp", "source", "acknowledged_by"
    )
    result = paginate(qs, page, per_page)
    audit.record_read(actor, object_type="clinical.adtnotification", action="list",
                      member_ids=[n.member_id for n in result.items], purpose=PURPOSE)  # fmt: skip
    return result


def notification_get(actor: Actor, notification_id: int) -> AdtNotification:
    """One notification the actor may see (NotFound for another practice's: its existence is not told)."""
    found = _scope(actor).filter(pk=notification_id).first()
    if found is None:
        raise NotFound(f"no ADT notification {notification_id}")
    return found


@dataclass(frozen=True)
class Counts:
    new_admissions: int
    new_discharges: int
    new_ed_visits: int
    overdue: int  # new, with the follow-up due before today

    @property
    def new(self) -> int:
        return self.new_admissions + self.new_discharges + self.new_ed_visits


def counts(actor: Actor, *, today: Any) -> Counts:
    """The new notifications by event, and those whose follow-up is overdue (counts only: no member data)."""
    new = Q(status=AdtNotification.Status.NEW)
    row = _scope(actor).aggregate(
        admissions=Count("pk", filter=new & Q(event=AdtNotification.Event.ADMIT)),
        discharges=Count("pk", filter=new & Q(event=AdtNotification.Event.DISCHARGE)),
        ed=Count("pk", filter=new & Q(event=AdtNotification.Event.REGISTER)),
        overdue=Count("pk", filter=new & Q(follow_up_due__lt=today)),
    )
    return Counts(row["admissions"], row["discharges"], row["ed"], row["overdue"])


def export_rows(*, status: str = "", limit: int | None = None) -> list[dict[str, Any]]:
    """Every notification (newest first) as plain values, for the command line (no actor: the operator's
    command; the members handed out are recorded as read by a system read)."""
    qs = _filtered(None, status=status).select_related("member", "pcp_practice", "pcp", "source")
    items = list(qs[:limit] if limit else qs)
    audit.record_read(None, object_type="clinical.adtnotification", action="export",
                      member_ids=[n.member_id for n in items], purpose=PURPOSE)  # fmt: skip
    return [
        {
            "id": n.pk, "event": n.event, "label": n.label, "status": n.status, "event_date": n.event_date.isoformat(),
            "member": n.member.payer_member_id, "member_name": f"{n.member.last_name}, {n.member.first_name}",
            "patient_class": n.patient_class, "facility": n.facility, "source": n.source.code, "visit": n.visit_id,
            "admitted": n.admitted_at.isoformat() if n.admitted_at else (n.admit_date.isoformat() if n.admit_date else None),
            "discharged": n.discharged_at.isoformat() if n.discharged_at
            else (n.discharge_date.isoformat() if n.discharge_date else None),
            "diagnosis": f"{n.diagnosis_system}:{n.diagnosis_code}" if n.diagnosis_code else None,
            "practice": n.pcp_practice.code if n.pcp_practice else None,
            "pcp_npi": n.pcp.npi if n.pcp else None,
            "follow_up_due": n.follow_up_due.isoformat() if n.follow_up_due else None,
            "follow_up": n.follow_up_what or None,
        }
        for n in items
    ]  # fmt: skip
