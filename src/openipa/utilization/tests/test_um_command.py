"""`openipa um sweep [--json]` (deemed approvals, overdue count) and `openipa um status [--at] [--json]`."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openipa.conftest import SmallIpa
from openipa.core.models import AuditEvent
from openipa.utilization import services
from openipa.utilization.models import AuthEvent, AuthRequest
from openipa.utilization.tests.conftest import at, request_input

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("um", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _submit(um: SmallIpa, received: str, **overrides: Any) -> AuthRequest:
    return services.submit_request(actor=um.users["ops"], data=request_input(**overrides), source="staff",
                                   received_at=at(received))  # fmt: skip


def test_sweep_approves_what_the_law_deems_approved_and_counts_the_overdue(um: SmallIpa) -> None:
    post_stabilization = _submit(um, "2026-03-02 14:00", kind="post_stabilization")  # due an hour later
    overdue = _submit(um, "2026-03-02 14:00")  # 7 days: long past
    decided = _submit(um, "2026-03-02 14:00")
    services.decide(actor=um.users["nurse"], request=decided, decision="approve")
    result = json.loads(run("sweep", "--json"))
    assert (result["deemed_approved"], result["overdue"]) == (1, 1)
    assert result["at"][-6:] in ("-08:00", "-07:00")
    post_stabilization.refresh_from_db()
    assert post_stabilization.status == "deemed_approved"
    assert post_stabilization.decided_at == post_stabilization.due_at
    assert post_stabilization.services.get().units_approved == 1
    assert post_stabilization.events.filter(action=AuthEvent.Action.DEEMED_APPROVED).exists()
    assert post_stabilization.notices.get().kind == "decision"
    assert (
        AuditEvent.objects.filter(action="um.request.deemed_approved", actor_username="system").count() == 1
    )
    overdue.refresh_from_db()
    assert overdue.status == "received"  # an ordinary request is never approved by the clock
    # a second sweep finds nothing more to approve
    assert run("sweep") == "0 deemed approved (no decision by the due time); 1 open requests overdue\n"


def test_sweep_on_an_empty_queue(um: SmallIpa) -> None:
    assert json.loads(run("sweep", "--json"))["deemed_approved"] == 0
    assert not AuthRequest.objects.exists()


def test_status_counts_by_status_overdue_and_due_soon(um: SmallIpa) -> None:
    _submit(um, "2026-03-02 14:00")  # due 2026-03-09 23:59:59
    _submit(um, "2026-03-05 09:00")  # due 2026-03-12 23:59:59
    taken = _submit(um, "2026-03-02 14:00")
    services.take_for_review(actor=um.users["nurse"], request=taken, now=at("2026-03-03 09:00"))
    denied = _submit(um, "2026-03-02 14:00")
    services.decide(actor=um.users["md"], request=denied, decision="deny", now=at("2026-03-04 09:00"),
                    reason="Not medically necessary per the policy cited.", criteria="UM-CARD-003 v2")  # fmt: skip
    services.open_appeal(actor=um.users["alice"], request=denied, appellant="Dr. Ada Alder",
                         grounds="New symptoms.", received_at=at("2026-03-06 10:00"))  # fmt: skip

    counts = json.loads(run("status", "--at", "2026-03-09T12:00", "--json"))
    assert counts["at"] == "2026-03-09T12:00:00-07:00"
    assert counts["by_status"] == {
        "received": 2, "nurse_review": 1, "physician_review": 0, "approved": 0, "modified": 0, "denied": 1,
        "deemed_approved": 0, "withdrawn": 0,
    }  # fmt: skip
    assert (counts["total"], counts["open"], counts["overdue"], counts["due_24h"]) == (4, 3, 0, 2)
    assert (counts["appeals_open"], counts["appeals_overdue"]) == (1, 0)

    later = json.loads(run("status", "--at", "2026-03-10T00:00:00-07:00", "--json"))
    assert (later["overdue"], later["due_24h"]) == (2, 0)
    assert json.loads(run("status", "--at", "2026-04-06T00:00", "--json"))["appeals_overdue"] == 1

    text = run("status", "--at", "2026-03-09T12:00")
    assert "authorization requests at 2026-03-09T12:00:00-07:00: 4" in text
    assert "Nurse review" in text
    assert "open 3: 0 overdue, 2 due in the next 24 hours" in text
    assert "appeals open 1: 0 overdue" in text


def test_status_refuses_a_bad_moment(um: SmallIpa) -> None:
    with pytest.raises(CommandError, match="not an ISO 8601"):
        run("status", "--at", "yesterday")
