"""The pend queue page: pended lines oldest first with their age and reason; the per-line form pays or denies
through `decide_pend`; refusals (no reason, no CARC, a line no longer pended, a practice user) change nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from openipa.claims.models import Claim, ClaimLine, PendOverride
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.tests.conftest import claim_file
from openipa.core.models import AuditEvent
from openipa.web.tests.pages import field_errors, html

pytestmark = pytest.mark.django_db


def _pended(tmp_path: Path, received: dt.date = dt.date(2026, 11, 2), **kwargs: Any) -> ClaimLine:
    import_claims(actor=None, path=claim_file(tmp_path, **kwargs), received_on=received)
    adjudicate_waiting(actor=None)
    return ClaimLine.objects.filter(code="99214", outcome="pended").order_by("-pk")[0]


def decide(client: Client, line: ClaimLine, **fields: str) -> Any:
    return client.post(
        f"/claims/pends/{line.pk}/decide/", {f"line{line.pk}-{k}": v for k, v in fields.items()}
    )


def test_the_queue_lists_pended_lines_oldest_first_with_age_and_reason(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    older = _pended(tmp_path, dt.date(2026, 10, 20))
    newer = _pended(tmp_path, dt.date(2026, 11, 2), name="bert.837", member="SUN0002")
    assert older.pk != newer.pk
    body = html(client_for("ops").get("/claims/pends/"))
    assert body.index(f'id="pend-{older.pk}"') < body.index(f'id="pend-{newer.pk}"')
    assert older.pend_reason in body
    age = (timezone.localdate() - dt.date(2026, 10, 20)).days
    assert f'<td class="num">{age:,}</td>' in body
    assert f'action="/claims/pends/{older.pk}/decide/"' in body
    assert AuditEvent.objects.filter(kind="read", action="pend_queue").exists()
    aging = body[body.index('data-testid="aging"') :]
    buckets = {"0-15": 0, "16-30": 0, "31-45": 0, "46-60": 0, "over 60": 0}
    for received in (dt.date(2026, 10, 20), dt.date(2026, 11, 2)):
        days = (timezone.localdate() - received).days
        label = next(k for k, high in zip(buckets, (15, 30, 45, 60, 10**9), strict=True) if days <= high)
        buckets[label] += 1
    for label, n in buckets.items():
        assert f'<td>{label}</td><td class="num">{n}</td>' in aging, label
    assert 'id="pend-aging-title"' in body


def test_paying_a_line_from_the_queue(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    line = _pended(tmp_path)
    client = client_for("ops")
    response = decide(
        client, line, decision="pay", allowed="35.00", cost_share="5.00", reason="priced by hand"
    )
    assert response.status_code == 302
    assert response["Location"] == "/claims/pends/"
    line.refresh_from_db()
    assert (line.outcome, line.allowed_cents, line.cost_share_cents, line.paid_cents) == (
        "paid",
        3500,
        500,
        3000,
    )
    override = PendOverride.objects.get()
    assert (override.decided_by, override.reason) == ("ops", "priced by hand")
    body = html(client.get("/claims/pends/"))
    assert f"Claim {line.claim_id} line {line.number} was paid ($35.00 allowed)." in body
    assert f'id="pend-{line.pk}"' not in body


def test_denying_a_line_from_the_queue(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    line = _pended(tmp_path)
    response = decide(client_for("fin"), line, decision="deny", carc="96", rarc="n130", reason="not covered")
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.outcome, line.carc, line.rarc, line.paid_cents) == ("denied", "96", "N130", 0)
    assert Claim.objects.get(pk=line.claim_id).status != "pended"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"decision": "pay", "allowed": "35.00"}, "reason", "This field is required."),
        ({"decision": "pay", "allowed": "35.00", "reason": "   "}, "reason", "This field is required."),
        ({"decision": "pay", "reason": "ok"}, "allowed", "give the allowed amount (not negative)"),
        ({"decision": "pay", "allowed": "1.00", "cost_share": "2.00", "reason": "ok"}, "cost_share",
         "the cost share must be between 0 and the allowed amount"),
        ({"decision": "deny", "reason": "ok"}, "carc", "give the claim adjustment reason code (CARC) of the denial"),
        ({"decision": "pay", "allowed": "-1", "reason": "ok"}, "allowed",
         "Ensure this value is greater than or equal to 0."),
    ],
)  # fmt: skip
def test_refusals_are_shown_on_the_line_and_change_nothing(
    claims_ipa: Any, client_for: Any, tmp_path: Path, fields: dict[str, str], field: str, message: str
) -> None:
    line = _pended(tmp_path)
    response = decide(client_for("ops"), line, **fields)
    assert response.status_code == 400
    assert message in field_errors(response, field)
    line.refresh_from_db()
    assert (line.outcome, line.paid_cents) == ("pended", 0)
    assert PendOverride.objects.count() == 0
    assert not AuditEvent.objects.filter(action="claims.decide_pend").exists()


def test_a_line_no_longer_pended_is_refused(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    _pended(tmp_path)
    paid = ClaimLine.objects.get(code="99213")
    response = decide(client_for("ops"), paid, decision="deny", carc="96", reason="second thoughts")
    assert response.status_code == 400
    assert "not pended" in html(response)
    paid.refresh_from_db()
    assert paid.outcome == "paid"
    assert PendOverride.objects.count() == 0


@pytest.mark.parametrize("who", ["bob", "alice", "auditor", "messenger"])
def test_only_claims_editors_decide(claims_ipa: Any, client_for: Any, tmp_path: Path, who: str) -> None:
    line = _pended(tmp_path)
    response = decide(client_for(who), line, decision="pay", allowed="1.00", reason="x")
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.outcome == "pended"
    assert PendOverride.objects.count() == 0


def test_the_auditor_reads_the_queue_without_forms(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    line = _pended(tmp_path)
    response = client_for("auditor").get("/claims/pends/")
    assert response.status_code == 200
    assert f'id="pend-{line.pk}"' in html(response)
    assert "/decide/" not in html(response)
    for who in ("bob", "messenger"):
        assert client_for(who).get("/claims/pends/").status_code == 403
