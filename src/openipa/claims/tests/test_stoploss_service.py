"""Stop-loss with the database: finance enters a policy; approving a payment run adds its paid lines (and its
reversals, negative) to the members' accumulators and raises the 50/75/100% alerts once each; the stop-loss
page shows the policies, the alerts and the recoverables; practice users and non-finance staff are refused, and
a refusal changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from openipa.claims.models import (
    Claim,
    ClaimLine,
    StopLossAccumulator,
    StopLossAlert,
    StopLossPolicy,
)
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.services.payments import RunRefused, approve_run, prepare_run
from openipa.claims.services.stoploss import policy_create, update_accumulators
from openipa.claims.tests.conftest import claim_file
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db
NOV2 = dt.date(2026, 11, 2)
TODAY = timezone.localdate()
YEAR = {"valid_from": dt.date(2026, 1, 1), "valid_to": dt.date(2026, 12, 31)}


def _policy(ipa: Any, **overrides: Any) -> StopLossPolicy:
    """$60.00 attachment, 90% above it: the sample claim's paid $40.00 is 66.7% of it."""
    data = {"name": "Sunrise specific 2026", "carrier": "Acme Re", "payer": ipa.payer, "product": None,
            "attachment": "60.00", "coinsurance_percent": "90", "maximum": None, "categories": "", **YEAR}  # fmt: skip
    return policy_create(actor=ipa.users["fin"], data={**data, **overrides})


def _claim(
    tmp_path: Path, name: str, clm_id: str, day: int, frequency: str = "1", original: int = 0
) -> Claim:
    """The sample 837P (its 99213 pays $40.00) as claim ``clm_id`` with its dates moved to October ``day``."""
    path = claim_file(tmp_path, name, clm=f"CLM*{clm_id}*100.00***11:B:{frequency}*Y*A*Y*I")
    text = (
        path.read_text().replace("20261003", f"202610{day:02d}").replace("20261010", f"202610{day + 7:02d}")
    )
    if original:
        text = text.replace("REF*D9*17312345600006351", f"REF*F8*{original}")
    path.write_text(text)
    record = import_claims(actor=None, path=path, received_on=NOV2)
    adjudicate_waiting(actor=None)
    return Claim.objects.get(source=record)


def _pay(ipa: Any) -> Any:
    return approve_run(actor=ipa.users["fin2"], run=prepare_run(actor=ipa.users["fin"], through=TODAY))


def _accumulator(ipa: Any) -> tuple[int, int, int]:
    a = StopLossAccumulator.objects.get(member=ipa.member_a)
    return a.paid_cents, a.recoverable_cents, a.alerted


def test_finance_creates_a_policy_and_it_is_audited(claims_ipa: Any) -> None:
    policy = _policy(claims_ipa, categories=" Professional, lab,,professional ", maximum="1000")
    assert (policy.attachment, policy.coinsurance_percent, policy.maximum, policy.categories) == (
        Decimal("60.00"), Decimal("90"), Decimal("1000.00"), "professional,lab")  # fmt: skip
    event = AuditEvent.objects.get(action="claims.stoploss_policy_create")
    assert (event.actor_username, event.object_id) == ("fin", str(policy.pk))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_to": dt.date(2025, 12, 31)}, "valid_to"),
        ({"valid_from": None}, "valid_from"),
        ({"attachment": "0"}, "attachment"),
        ({"attachment": "-5"}, "attachment"),
        ({"attachment": "abc"}, "attachment"),
        ({"coinsurance_percent": "100.5"}, "coinsurance_percent"),
        ({"coinsurance_percent": "-1"}, "coinsurance_percent"),
        ({"maximum": "-0.01"}, "maximum"),
        ({"name": " "}, "name"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(
    claims_ipa: Any, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _policy(claims_ipa, **overrides)
    assert field in refused.value.fields
    assert not StopLossPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="claims.stoploss_policy_create").exists()


def test_the_edges_of_the_ranges_are_accepted(claims_ipa: Any) -> None:
    policy = _policy(claims_ipa, attachment="0.01", coinsurance_percent="100", maximum="0",
                     valid_to=YEAR["valid_from"])  # fmt: skip
    assert (policy.attachment, policy.coinsurance_percent, policy.maximum) == (
        Decimal("0.01"), Decimal("100"), Decimal("0.00"))  # fmt: skip
    assert _policy(claims_ipa, coinsurance_percent="0", **{**YEAR, "valid_from": dt.date(2026, 1, 2)}).pk


def test_an_overlapping_policy_of_the_same_scope_is_refused(claims_ipa: Any) -> None:
    first = _policy(claims_ipa, categories="professional")
    with pytest.raises(ValidationFailed, match=f"policy {first.pk}"):
        _policy(claims_ipa, valid_from=dt.date(2026, 7, 1), categories="")
    with pytest.raises(ValidationFailed, match=f"policy {first.pk}"):
        _policy(claims_ipa, categories="lab,professional")
    # another category, another year, or another scope is fine
    assert _policy(claims_ipa, categories="lab").pk
    assert _policy(claims_ipa, valid_from=dt.date(2027, 1, 1), valid_to=dt.date(2027, 12, 31)).pk
    assert _policy(claims_ipa, payer=None).pk
    assert StopLossPolicy.objects.count() == 4


def test_only_finance_creates_policies(claims_ipa: Any) -> None:
    for name in ("ops", "admin", "auditor", "alice"):
        with pytest.raises(PermissionDenied):
            policy_create(actor=claims_ipa.users[name], data={"name": "x", "attachment": "1",
                                                               "coinsurance_percent": "90", **YEAR})  # fmt: skip
    assert not StopLossPolicy.objects.exists()


def test_a_member_crossing_50_75_and_100_percent_over_two_runs_gets_three_alerts_once_each(
    claims_ipa: Any, tmp_path: Path
) -> None:
    ipa = claims_ipa
    policy = _policy(ipa)
    _claim(tmp_path, "first.837", "A1", 3)
    first = _pay(ipa)
    # $40.00 of $60.00: 66.7%, the 50% alert only
    assert _accumulator(ipa) == (4000, 0, 50)
    (alert,) = StopLossAlert.objects.all()
    line = ClaimLine.objects.get(payment_run_id=first.pk, paid_cents=4000)
    assert (alert.policy_id, alert.member_id, alert.threshold, alert.paid_cents, alert.line_id, alert.run_id) == (
        policy.pk, ipa.member_a.pk, 50, 4000, line.pk, first.pk)  # fmt: skip
    _claim(tmp_path, "second.837", "B2", 5)
    second = _pay(ipa)
    # $80.00: 133%; both the 75% and the 100% are crossed by the second run's line; 90% of $20.00 recoverable
    assert _accumulator(ipa) == (8000, 1800, 100)
    alerts = list(
        StopLossAlert.objects.order_by("threshold").values_list("threshold", "paid_cents", "run_id")
    )
    assert alerts == [(50, 4000, first.pk), (75, 8000, second.pk), (100, 8000, second.pk)]
    assert StopLossAccumulator.objects.get().updated_by_run_id == second.pk
    event = AuditEvent.objects.filter(action="claims.stoploss_update").latest("pk")
    assert (event.object_id, event.member_ids, event.changes["alerts"][1]) == (
        str(second.pk),
        [ipa.member_a.pk],
        2,
    )
    # a third run over the threshold raises nothing new
    _claim(tmp_path, "third.837", "C3", 12)
    _pay(ipa)
    assert _accumulator(ipa) == (12000, 5400, 100)
    assert StopLossAlert.objects.count() == 3


def test_a_reversal_lowers_the_accumulator_and_the_recoverable_and_alerts_nothing(
    claims_ipa: Any, tmp_path: Path
) -> None:
    ipa = claims_ipa
    _policy(ipa)
    first = _claim(tmp_path, "first.837", "A1", 3)
    _claim(tmp_path, "second.837", "B2", 5)
    _pay(ipa)
    assert _accumulator(ipa) == (8000, 1800, 100)
    _claim(tmp_path, "void.837", "A1", 3, frequency="8", original=first.pk)
    third = _pay(ipa)
    assert (third.reversal_cents, third.paid_cents) == (-4000, 0)
    # back to $40.00: under the attachment, nothing recoverable; the thresholds stay alerted
    assert _accumulator(ipa) == (4000, 0, 100)
    assert StopLossAlert.objects.filter(run=third).count() == 0


def test_lines_outside_the_policy_do_not_count(claims_ipa: Any, tmp_path: Path) -> None:
    ipa = claims_ipa
    _policy(ipa, categories="lab")  # the paid 99213 is professional
    _policy(ipa, valid_from=dt.date(2027, 1, 1), valid_to=dt.date(2027, 12, 31))  # another policy year
    _claim(tmp_path, "first.837", "A1", 3)
    _pay(ipa)
    assert not StopLossAccumulator.objects.exists()
    assert not StopLossAlert.objects.exists()


def test_the_product_of_the_members_eligibility_on_the_date_of_service_picks_the_most_specific_policy(
    claims_ipa: Any, tmp_path: Path
) -> None:
    ipa = claims_ipa
    _policy(ipa, name="Sunrise, every product")
    by_product = _policy(ipa, name="Medicare HMO", payer=None, product=ipa.product)
    _claim(tmp_path, "first.837", "A1", 3)
    _pay(ipa)
    # the member's span is of the product (and its payer): the product's policy takes the line
    assert list(StopLossAccumulator.objects.values_list("policy_id", "paid_cents")) == [(by_product.pk, 4000)]
    assert by_product.payer_id == ipa.payer.pk  # the product's payer is stored with it


def test_a_run_without_policies_approves_and_counts_nothing(claims_ipa: Any, tmp_path: Path) -> None:
    _claim(tmp_path, "first.837", "A1", 3)
    run = _pay(claims_ipa)
    assert run.status == "approved"
    assert not StopLossAccumulator.objects.exists()


def test_a_run_is_counted_once(claims_ipa: Any, tmp_path: Path) -> None:
    _policy(claims_ipa)
    _claim(tmp_path, "first.837", "A1", 3)
    run = _pay(claims_ipa)
    with pytest.raises(RunRefused, match="already in the stop-loss accumulators"):
        update_accumulators(actor=claims_ipa.users["fin"], run=run)
    assert _accumulator(claims_ipa) == (4000, 0, 50)


def test_an_engine_refusal_undoes_the_approval(claims_ipa: Any, tmp_path: Path) -> None:
    ipa = claims_ipa
    _policy(ipa)
    # a second policy of the same scope, entered around the service's check: the run must not half-count
    StopLossPolicy.objects.create(name="twin", payer=ipa.payer, attachment=Decimal("60"), **YEAR)
    _claim(tmp_path, "first.837", "A1", 3)
    run = prepare_run(actor=ipa.users["fin"], through=TODAY)
    with pytest.raises(RunRefused, match=r"stop-loss accumulators: .*more than one stop-loss policy"):
        approve_run(actor=ipa.users["fin2"], run=run)
    with pytest.raises(CommandError, match="more than one stop-loss policy"):
        call_command("claims", "approve", str(run.pk), "--user", "fin2", stdout=StringIO())
    run.refresh_from_db()
    assert run.status == "draft"
    assert not StopLossAccumulator.objects.exists()
    assert not StopLossAlert.objects.exists()


# -- the page ----------------------------------------------------------------------------------------------


def _two_runs(ipa: Any, tmp_path: Path) -> StopLossPolicy:
    policy = _policy(ipa)
    _claim(tmp_path, "first.837", "A1", 3)
    _pay(ipa)
    _claim(tmp_path, "second.837", "B2", 5)
    _pay(ipa)
    return policy


def test_the_page_shows_policies_alerts_and_recoverables(
    client_for: Any, claims_ipa: Any, tmp_path: Path
) -> None:
    ipa = claims_ipa
    policy = _two_runs(ipa, tmp_path)
    response = client_for("auditor").get("/claims/stoploss/")
    assert response.status_code == 200
    body = html(response)
    policies = body[body.index('data-testid="policies"') :].split("</table>")[0]
    assert "Sunrise specific 2026" in policies
    assert "$60.00" in policies
    alerts = body[body.index('data-testid="alerts"') :].split("</table>")[0]
    assert [t for t in ("100%", "75%", "50%") if t in alerts] == ["100%", "75%", "50%"]
    assert alerts.index("100%") < alerts.index("50%")  # newest first
    assert "Anders, Amy" in alerts
    recoverables = body[body.index(f'data-testid="recoverables-{policy.pk}"') :].split("</table>")[0]
    for amount in ("$80.00", "$60.00", "$20.00", "$18.00"):
        assert amount in recoverables
    assert f'id="stoploss-{policy.pk}-title"' in body  # the chart of paid against the attachment
    assert "Add a policy" not in body  # auditors read only
    read = AuditEvent.objects.filter(kind="read", object_type="claims.stoploss").latest("pk")
    assert read.member_ids == [ipa.member_a.pk]


def test_finance_adds_a_policy_on_the_page(client_for: Any, claims_ipa: Any) -> None:
    client = client_for("fin")
    assert "Add a policy" in html(client.get("/claims/stoploss/"))
    response = client.post("/claims/stoploss/policies/", {
        "name": "Pro 2026", "carrier": "Acme Re", "payer": claims_ipa.payer.pk, "valid_from": "2026-01-01",
        "valid_to": "2026-12-31", "attachment": "10000.00", "coinsurance_percent": "90", "maximum": "",
        "categories": "professional"})  # fmt: skip
    assert (response.status_code, response["Location"]) == (302, "/claims/stoploss/")
    policy = StopLossPolicy.objects.get()
    assert (policy.name, policy.attachment, policy.maximum, policy.categories) == (
        "Pro 2026", Decimal("10000.00"), None, "professional")  # fmt: skip


def test_a_bad_policy_on_the_page_shows_the_error_and_saves_nothing(client_for: Any, claims_ipa: Any) -> None:
    response = client_for("fin").post("/claims/stoploss/policies/", {
        "name": "Pro 2026", "valid_from": "2026-01-01", "valid_to": "2025-12-31", "attachment": "0",
        "coinsurance_percent": "120"})  # fmt: skip
    assert response.status_code == 400
    body = html(response)
    assert "the policy year ends (2025-12-31) before it starts (2026-01-01)" in body
    assert "the attachment point must be above zero" in body
    assert not StopLossPolicy.objects.exists()


@pytest.mark.parametrize("name", ["alice", "bob", "ops", "messenger"])
def test_others_are_refused_the_page_and_the_form_and_nothing_changes(
    client_for: Any, claims_ipa: Any, tmp_path: Path, name: str
) -> None:
    _two_runs(claims_ipa, tmp_path)
    reads = AuditEvent.objects.filter(kind="read").count()
    client = client_for(name)
    assert client.get("/claims/stoploss/").status_code == 403
    response = client.post("/claims/stoploss/policies/", {"name": "x", "valid_from": "2027-01-01",
                                                          "valid_to": "2027-12-31", "attachment": "1",
                                                          "coinsurance_percent": "90"})  # fmt: skip
    assert response.status_code == 403
    assert StopLossPolicy.objects.count() == 1
    assert AuditEvent.objects.filter(kind="read").count() == reads


def test_the_auditor_cannot_add_a_policy(client_for: Any, claims_ipa: Any) -> None:
    response = client_for("auditor").post("/claims/stoploss/policies/", {"name": "x"})
    assert response.status_code == 403
    assert not StopLossPolicy.objects.exists()
