"""Distribution runs end to end on the small IPA, with hand-computed numbers.

May 2026, two members, each paid $350.00 by the payer; the term: admin fee 12% (for member-months with no
practice), reinsurance $3.50 PMPM, withhold 10%. The rule: PCP capitation flat $200.00, risk pool 2%, specialist
pool 5% (Birch has the IPA's one specialist), quality pool 3%. Agreements: Alder 10%, Birch 8% + $1.00 PMPM.

| per member-month | Amy (Alder) | Bert (Birch) |
|---|---:|---:|
| share | 350.00 | 350.00 |
| admin fee | 35.00 | 28.00 + 1.00 = 29.00 |
| reinsurance | 3.50 | 3.50 |
| risk pool 2% | 7.00 | 7.00 |
| PCP gross | 200.00 | 200.00 |
| withhold 10% of PCP | 20.00 | 20.00 |
| specialist 5% | 17.50 | 17.50 |
| quality 3% | 10.50 | 10.50 |
| retained | 350 - 273.50 = 76.50 | 350 - 267.50 = 82.50 |

Quality pool $21.00 by member-months: $10.50 each. Specialist pool $35.00: all to Birch.
Payments: Alder 180.00 + 10.50 = $190.50; Birch 180.00 + 10.50 + 35.00 = $225.50.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.capitation.models import DistributionRule, DistributionRun, PracticePayment
from openipa.capitation.services.runs import RunRefused, approve_run, distribute_month, result_json
from openipa.capitation.tests.conftest import paid_month
from openipa.contracts.models import RateCell
from openipa.core.months import Month
from openipa.ledger.models import JournalEntry
from openipa.ledger.selectors import trial_balance
from openipa.membership.models import EligibilitySpan
from openipa.network.models import ParticipationAgreement

pytestmark = pytest.mark.django_db
MAY, JUNE = Month(2026, 5), Month(2026, 6)
_paid = paid_month


def test_a_run_is_prepared_approved_by_someone_else_and_posted(ipa: Any) -> None:
    _paid(ipa, MAY, "may")
    run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    assert result_json(run) == {
        "run_id": run.pk,
        "status": "draft",
        "pool_cents": 70000,
        "components": {"admin_fee": 6400, "reinsurance": 700, "withhold": 5400, "pcp": 36000, "specialist": 3500,
                       "quality": 2100, "retained": 15900},
        "practices": [{"tin": "123456789", "net_cents": 19050}, {"tin": "234567891", "net_cents": 22550}],
    }  # fmt: skip
    assert sum(result_json(run)["components"].values()) == run.pool_cents
    line = run.lines.get(member=ipa.member_b)
    assert line.rate_cell_id == RateCell.objects.get(age_min=75).pk  # the cell that priced the member-month
    assert (line.admin_fee_cents, line.retained_cents, line.term_id, line.rule_id) == (
        2900, 8250, ipa.term.pk, DistributionRule.objects.get().pk
    )  # fmt: skip
    with pytest.raises(RunRefused, match="another finance user must approve it"):
        approve_run(actor=ipa.users["fin"], run=run)
    assert not JournalEntry.objects.exists()
    approve_run(actor=ipa.users["fin2"], run=run)
    run.refresh_from_db()
    assert (run.status, run.approved_by) == ("approved", "fin2")
    (entry,) = JournalEntry.objects.filter(source_type="capitation_run")
    credits = {(ln.account.code, ln.practice_id): ln.credit for ln in entry.lines.all() if ln.credit}
    assert credits == {
        ("4100", None): 64, ("2200", None): 7, ("2300", None): 40, ("2400", None): 14, ("3000", None): 159,
        ("2100", ipa.practice_a.pk): 190.5, ("2100", ipa.practice_b.pk): 225.5,
    }  # fmt: skip
    balance = trial_balance(ipa.users["fin"])
    assert balance.total_debit_cents == balance.total_credit_cents
    with pytest.raises(RunRefused, match="only a draft"):
        approve_run(actor=ipa.users["fin2"], run=run)
    # an approved run cannot change, nor be deleted
    run.pool_cents = 1
    with pytest.raises(ValueError, match="cannot change"):
        run.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        DistributionRun.objects.get(pk=run.pk).delete()
    run.refresh_from_db()
    assert run.pool_cents == 70000
    with pytest.raises(RunRefused, match="nothing changed"):
        distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)


def test_a_retro_term_after_approval_makes_an_adjustment_netted_next_month(ipa: Any) -> None:
    _paid(ipa, MAY, "may")
    may = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    approve_run(actor=ipa.users["fin2"], run=may)
    # Bert's coverage is ended retroactively at the end of April: May was paid for a member not eligible
    EligibilitySpan.objects.filter(member=ipa.member_b).update(valid_to=dt.date(2026, 4, 30))
    may_lines = sorted(may.lines.values_list("member_id", "pcp_net_cents", "retained_cents"))
    adjustment = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    assert sorted(may.lines.values_list("member_id", "pcp_net_cents", "retained_cents")) == may_lines
    assert (adjustment.kind, adjustment.adjusts_id, adjustment.pool_cents) == ("adjustment", may.pk, 0)
    assert "retro term" in adjustment.reason
    (bert,) = adjustment.lines.filter(member=ipa.member_b)
    assert (bert.pcp_net_cents, bert.reason) == (-18000, "retro term")
    birch = adjustment.payments.get(practice=ipa.practice_b)
    # Birch loses Bert's PCP capitation and quality share, and half the specialist pool (Amy's 5% is left)
    assert (birch.pcp_net_cents, birch.quality_cents, birch.specialist_cents, birch.net_cents) == (
        -18000, -1050, -1750, -20800
    )  # fmt: skip
    assert not adjustment.payments.filter(practice=ipa.practice_a).exists()
    approve_run(actor=ipa.users["fin2"], run=adjustment)
    # June: Amy only; Birch's recoupment nets against its next payment
    _paid(ipa, JUNE, "june")
    june = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=JUNE)
    june_birch = june.payments.get(practice=ipa.practice_b)
    assert june_birch.adjustment_cents == -20800
    assert june_birch.net_cents == june_birch.specialist_cents - 20800
    approve_run(actor=ipa.users["fin2"], run=june)
    birch.refresh_from_db()
    assert (birch.status, birch.netted_into_id) == ("netted", june_birch.pk)
    balance = trial_balance(ipa.users["fin"])
    assert balance.total_debit_cents == balance.total_credit_cents


def test_the_cli_distributes_and_refuses_self_approval(ipa: Any) -> None:
    _paid(ipa, MAY, "may")
    out = StringIO()
    call_command("capitation", "distribute", "--payer", "SUN", "--month", "2026-05", "--user", "fin", "--json",
                 stdout=out)  # fmt: skip
    result = json.loads(out.getvalue())
    assert (result["status"], result["pool_cents"]) == ("draft", 70000)
    with pytest.raises(CommandError, match="prepared by fin"):
        call_command("capitation", "approve", str(result["run_id"]), "--user", "fin")
    out = StringIO()
    call_command("capitation", "approve", str(result["run_id"]), "--user", "fin2", "--json", stdout=out)
    assert json.loads(out.getvalue())["status"] == "approved"
    assert DistributionRun.objects.get().status == "approved"
    assert PracticePayment.objects.count() == 2


def test_a_practice_without_an_agreement_stops_the_run(ipa: Any) -> None:
    _paid(ipa, MAY, "may")
    ParticipationAgreement.objects.filter(practice=ipa.practice_b).delete()
    with pytest.raises(RunRefused, match="no participation agreement in force"):
        distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    assert not DistributionRun.objects.exists()


def test_a_run_is_posted_on_its_accounting_date_and_not_outside_its_month_or_in_the_future(ipa: Any) -> None:
    """Finance closes May on June 3: the entry is dated June 3. A date before May, or after today, is refused
    and nothing is approved or posted."""
    _paid(ipa, MAY, "may")
    run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    for bad, message in ((dt.date(2026, 4, 30), "before 2026-05-01"), (dt.date(2999, 1, 1), "in the future")):
        with pytest.raises(RunRefused, match=message):
            approve_run(actor=ipa.users["fin2"], run=run, posting_date=bad)
        run.refresh_from_db()
        assert run.status == "draft"
        assert not JournalEntry.objects.exists()
    approve_run(actor=ipa.users["fin2"], run=run, posting_date=dt.date(2026, 6, 3))
    (entry,) = JournalEntry.objects.filter(source_type="capitation_run")
    assert entry.date == dt.date(2026, 6, 3)
