"""The pend queue: an examiner pays or denies a pended line with a reason; every refusal changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from openipa.claims.models import Claim, ClaimLine, PendOverride
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.services.pends import decide_pend
from openipa.claims.tests.conftest import claim_file
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _pended(ipa: Any, tmp_path: Path) -> ClaimLine:
    import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    adjudicate_waiting(actor=None)
    return ClaimLine.objects.get(code="99214")  # no RVU row prices it: pended


def test_paying_a_pended_line_records_the_examiner_and_why(claims_ipa: Any, tmp_path: Path) -> None:
    line = _pended(claims_ipa, tmp_path)
    ops = claims_ipa.users["ops"]
    override = decide_pend(actor=ops, line=line, decision="pay", reason="priced by hand at the 99213 rate",
                           allowed_cents=3500, cost_share_cents=500)  # fmt: skip
    line.refresh_from_db()
    assert (line.outcome, line.allowed_cents, line.paid_cents, line.pend_reason) == ("paid", 3500, 3000, "")
    assert line.findings[-1]["rule"] == "examiner"
    assert (override.decided_by, override.pend_reason[:25]) == ("ops", "no fee schedule prices 99")
    assert line.claim.status == Claim.Status.ADJUDICATED  # no line pends any more
    event = AuditEvent.objects.filter(action="claims.decide_pend").get()
    assert event.member_count == 1


def test_denying_needs_a_carc(claims_ipa: Any, tmp_path: Path) -> None:
    line = _pended(claims_ipa, tmp_path)
    ops = claims_ipa.users["ops"]
    with pytest.raises(ValidationFailed, match="CARC"):
        decide_pend(actor=ops, line=line, decision="deny", reason="not covered")
    decide_pend(actor=ops, line=line, decision="deny", reason="not a covered benefit", carc="96", rarc="n130")
    line.refresh_from_db()
    assert (line.outcome, line.carc, line.rarc, line.paid_cents) == ("denied", "96", "N130", 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decision": "pay", "reason": "", "allowed_cents": 100}, "why"),
        ({"decision": "pay", "reason": "ok"}, "allowed amount"),
        ({"decision": "pay", "reason": "ok", "allowed_cents": 100, "cost_share_cents": 200}, "cost share"),
        ({"decision": "maybe", "reason": "ok"}, "neither"),
    ],
)
def test_refusals_change_nothing(
    claims_ipa: Any, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    line = _pended(claims_ipa, tmp_path)
    with pytest.raises(ValidationFailed, match=message):
        decide_pend(actor=claims_ipa.users["ops"], line=line, **kwargs)
    line.refresh_from_db()
    assert line.outcome == "pended"
    assert PendOverride.objects.count() == 0


def test_only_pended_lines_and_only_claims_staff(claims_ipa: Any, tmp_path: Path) -> None:
    line = _pended(claims_ipa, tmp_path)
    with pytest.raises(PermissionDenied):
        decide_pend(actor=claims_ipa.users["alice"], line=line, decision="pay", reason="x", allowed_cents=1)
    paid = ClaimLine.objects.get(code="99213")
    with pytest.raises(ValidationFailed, match="not pended"):
        decide_pend(actor=claims_ipa.users["ops"], line=paid, decision="deny", reason="x", carc="96")
    assert PendOverride.objects.count() == 0
