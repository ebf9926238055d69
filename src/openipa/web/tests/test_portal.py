"""The practice portal home: the value-of-membership arithmetic on hand-posted ledger entries (by hand: received,
fees and net per month), the ledger read it stands on (scoped: own practice, or finance), a capitation run's admin
fee, the cards, and what a practice user sees: her practice only, every link opening.

The hand-posted ledger of Alder Family Medicine (practice A), August to October 2026 (Birch, practice B, has
entries in the same months that must never show):

| month | entry                                          | capitation | incentives | savings | fees   | net     |
|-------|------------------------------------------------|-----------:|-----------:|--------:|-------:|--------:|
| Aug   | Cr 2100 A 800.00 (capitation payable)           |     800.00 |            |         |        |  800.00 |
| Sep   | Dr 2100 A 800.00 / Cr CASH (paid to A)          |            |            |         |        |         |
| Sep   | Dr 2400 / Cr 2650 A 250.00 (risk-pool surplus)  |            |     250.00 |         |        |         |
| Sep   | Dr 5300 A 120.00 / Cr 2650 A 120.00 (savings)   |            |            |  120.00 |        |  370.00 |
| Oct   | Dr 1300 A 40.00 / Cr 2400 (deficit charged)     |            |     -40.00 |         |        |         |
| Oct   | Dr 1300 A 50.00 / Cr 4300 A 50.00 (fee invoice) |            |            |         |  50.00 |         |
| Oct   | Dr CASH / Cr 1300 A 50.00 (fee paid by A)       |            |            |         |        |         |
| Oct   | Dr 2650 A 370.00 / Cr CASH (incentives paid)    |            |            |         |        |  -90.00 |

Totals: received 800.00 + 370.00 - 40.00 = 1,130.00; fees 50.00; net 1,080.00. Paid to A: 800.00 (Sep) and
370.00 (Oct); paid by A: 50.00 (Oct).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from openipa.capitation.services.runs import approve_run, distribute_month
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.capitation.tests.test_pages_common import MAY, paid
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.months import Month
from openipa.ledger import accounts
from openipa.ledger.selectors import PracticeFlow, practice_monthly_flows
from openipa.ledger.services import Posting, post_entry
from openipa.web import portal
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db

AUG, SEP, OCT = Month(2026, 8), Month(2026, 9), Month(2026, 10)
TODAY = dt.date(2026, 10, 15)
BIRCH_ONLY = "987,654.32"  # an amount posted for Birch only


def _post(day: dt.date, memo: str, *postings: Posting) -> None:
    post_entry(actor=None, date=day, memo=memo, postings=list(postings), source_type="test", source_id=memo)


@pytest.fixture
def ledger(small_ipa: Any) -> Any:
    a, b = small_ipa.practice_a.pk, small_ipa.practice_b.pk
    _post(dt.date(2026, 8, 20), "capitation", Posting(accounts.CAPITATION_UNDISTRIBUTED, debit_cents=80000),
          Posting(accounts.PROVIDER_CAPITATION_PAYABLE, credit_cents=80000, practice_id=a))  # fmt: skip
    _post(dt.date(2026, 8, 20), "birch capitation", Posting(accounts.CAPITATION_UNDISTRIBUTED, debit_cents=98765432),
          Posting(accounts.PROVIDER_CAPITATION_PAYABLE, credit_cents=98765432, practice_id=b))  # fmt: skip
    _post(dt.date(2026, 9, 2), "capitation paid", Posting(accounts.PROVIDER_CAPITATION_PAYABLE, debit_cents=80000,
          practice_id=a), Posting(accounts.CASH, credit_cents=80000))  # fmt: skip
    _post(dt.date(2026, 9, 10), "risk pool", Posting(accounts.RISK_POOL_LIABILITY, debit_cents=25000),
          Posting(accounts.INCENTIVES_PAYABLE, credit_cents=25000, practice_id=a))  # fmt: skip
    _post(dt.date(2026, 9, 30), "savings", Posting(accounts.SHARED_SAVINGS_DISTRIBUTED, debit_cents=12000, practice_id=a),
          Posting(accounts.INCENTIVES_PAYABLE, credit_cents=12000, practice_id=a))  # fmt: skip
    _post(dt.date(2026, 10, 1), "deficit", Posting(accounts.PRACTICE_RECEIVABLE, debit_cents=4000, practice_id=a),
          Posting(accounts.RISK_POOL_LIABILITY, credit_cents=4000))  # fmt: skip
    _post(dt.date(2026, 10, 1), "fee", Posting(accounts.PRACTICE_RECEIVABLE, debit_cents=5000, practice_id=a),
          Posting(accounts.MEMBERSHIP_FEE_REVENUE, credit_cents=5000, practice_id=a))  # fmt: skip
    _post(dt.date(2026, 10, 9), "fee paid", Posting(accounts.CASH, debit_cents=5000, practice_id=a),
          Posting(accounts.PRACTICE_RECEIVABLE, credit_cents=5000, practice_id=a))  # fmt: skip
    _post(dt.date(2026, 10, 12), "incentives paid", Posting(accounts.INCENTIVES_PAYABLE, debit_cents=37000,
          practice_id=a), Posting(accounts.CASH, credit_cents=37000))  # fmt: skip
    _post(dt.date(2025, 10, 31), "before the window", Posting(accounts.CAPITATION_UNDISTRIBUTED, debit_cents=111),
          Posting(accounts.PROVIDER_CAPITATION_PAYABLE, credit_cents=111, practice_id=a))  # fmt: skip
    return small_ipa


# -- the arithmetic, by hand --------------------------------------------------------------------------------------


def test_value_by_month_matches_the_hand_computation(ledger):
    alice = ledger.users["alice"]
    value = portal.value_of_membership(alice, ledger.practice_a.pk, TODAY)
    assert value.months[0] == Month(2025, 11)
    assert value.months[-1] == OCT
    assert len(value.rows) == 12
    rows = {r.month: r for r in value.rows}
    got = {m: (r.capitation_cents, r.incentives_cents, r.shared_savings_cents, r.fees_cents, r.net_cents,
               r.paid_to_practice_cents, r.paid_by_practice_cents) for m, r in rows.items()}  # fmt: skip
    assert got[AUG] == (80000, 0, 0, 0, 80000, 0, 0)
    assert got[SEP] == (0, 25000, 12000, 0, 37000, 80000, 0)
    assert got[OCT] == (0, -4000, 0, 5000, -9000, 37000, 5000)
    assert rows[OCT].membership_fee_cents == 5000
    assert rows[OCT].admin_fee_cents == 0
    assert all(
        got[m] == (0,) * 7 for m in value.months if m not in (AUG, SEP, OCT)
    )  # October 2025 is outside
    t = value.totals
    assert (t.received_cents, t.fees_cents, t.net_cents) == (113000, 5000, 108000)
    assert (t.paid_to_practice_cents, t.paid_by_practice_cents) == (117000, 5000)


def test_the_admin_fee_counts_as_capitation_received_and_as_a_fee():
    flows = [PracticeFlow(AUG, accounts.PROVIDER_CAPITATION_PAYABLE, False, 0, 19050)]
    (row,) = portal.value_months(flows, {AUG: 3500}, [AUG])
    assert (row.capitation_cents, row.admin_fee_cents, row.received_cents, row.fees_cents) == (
        22550,
        3500,
        22550,
        3500,
    )
    assert row.net_cents == 19050  # what the practice earned net of the fee


ACCOUNTS = (accounts.PROVIDER_CAPITATION_PAYABLE, accounts.INCENTIVES_PAYABLE, accounts.SHARED_SAVINGS_DISTRIBUTED,
            accounts.PRACTICE_RECEIVABLE, accounts.MEMBERSHIP_FEE_REVENUE, accounts.CASH)  # fmt: skip
cents = st.integers(min_value=0, max_value=10**11)
flow = st.builds(
    PracticeFlow, st.sampled_from([AUG, SEP, OCT]), st.sampled_from(ACCOUNTS), st.booleans(), cents, cents
)


@given(st.lists(flow, max_size=30), st.dictionaries(st.sampled_from([AUG, SEP, OCT]), cents))
def test_net_is_what_the_ledger_credited_less_the_fees_whatever_the_flows(flows, admin):
    rows = portal.value_months(flows, admin, [AUG, SEP, OCT])
    for r in rows:
        mine = [f for f in flows if f.month == r.month]

        def credit(account: str, cash: bool | None = None, mine: list[PracticeFlow] = mine) -> int:
            return sum(
                -f.net_cents for f in mine if f.account == account and (cash is None or f.cash == cash)
            )

        expected = (credit(accounts.PROVIDER_CAPITATION_PAYABLE, False) + credit(accounts.INCENTIVES_PAYABLE, False)
                    + credit(accounts.PRACTICE_RECEIVABLE, False))  # fmt: skip
        assert r.net_cents == expected
        assert r.received_cents - r.fees_cents == r.net_cents
        assert r.admin_fee_cents == admin.get(r.month, 0)
        assert r.fees_cents == r.membership_fee_cents + r.admin_fee_cents
    totals = portal.value_totals(rows)
    assert totals.net_cents == sum(r.net_cents for r in rows)
    assert totals.received_cents - totals.fees_cents == totals.net_cents


# -- the ledger read ----------------------------------------------------------------------------------------------


def test_the_flows_are_summed_by_month_account_and_cash(ledger):
    flows = practice_monthly_flows(ledger.users["fin"], ledger.practice_a.pk, AUG, OCT)
    key = {(f.month, f.account, f.cash): (f.debit_cents, f.credit_cents) for f in flows}
    assert key[(AUG, accounts.PROVIDER_CAPITATION_PAYABLE, False)] == (0, 80000)
    assert key[(SEP, accounts.PROVIDER_CAPITATION_PAYABLE, True)] == (80000, 0)
    assert key[(SEP, accounts.INCENTIVES_PAYABLE, False)] == (0, 37000)
    assert key[(OCT, accounts.PRACTICE_RECEIVABLE, False)] == (9000, 0)
    assert key[(OCT, accounts.PRACTICE_RECEIVABLE, True)] == (0, 5000)
    assert key[(OCT, accounts.CASH, True)] == (5000, 0)  # the fee received names the practice
    assert len(flows) == len(key) == 9
    assert all(f.month in (AUG, SEP, OCT) for f in flows)


def test_the_flows_are_the_practice_users_own_or_finances(ledger):
    a, b = ledger.practice_a.pk, ledger.practice_b.pk
    with pytest.raises(NotFound):
        practice_monthly_flows(ledger.users["alice"], b, AUG, OCT)
    with pytest.raises(PermissionDenied):
        practice_monthly_flows(ledger.users["ops"], a, AUG, OCT)
    with pytest.raises(ValidationFailed):
        practice_monthly_flows(ledger.users["fin"], a, OCT, AUG)
    birch = practice_monthly_flows(ledger.users["bob"], b, AUG, OCT)
    assert [(f.account, f.credit_cents) for f in birch] == [(accounts.PROVIDER_CAPITATION_PAYABLE, 98765432)]


# -- a capitation run: its admin fee and its statement ------------------------------------------------------------


def test_an_approved_run_shows_its_net_and_admin_fee_and_its_statement(capitated):
    paid(capitated, MAY, "may")
    run = distribute_month(actor=capitated.users["fin"], payer=capitated.payer, month=MAY)
    approve_run(actor=capitated.users["fin2"], run=run)
    today = timezone.localdate()
    alice = capitated.users["alice"]
    value = portal.value_of_membership(alice, capitated.practice_a.pk, today)
    row = value.rows[-1]
    # Alder's May: nets $190.50 after its 10% admin fee of $35.00 (test_runs.py)
    assert (row.capitation_cents, row.admin_fee_cents, row.net_cents) == (22550, 3500, 19050)
    body = html(client_for_user(alice).get("/"))
    assert "$190.50" in body
    payment = run.payments.get(practice=capitated.practice_a)
    assert f'href="/capitation/statements/{payment.pk}/"' in body
    assert "Birch" not in body


def test_a_run_posted_on_an_earlier_accounting_date_counts_in_that_month(capitated):
    """Finance approves the run today but dates its entry two months back (closing that month): capitation and
    the admin fee both count in the entry's month, not the approval's."""
    paid(capitated, MAY, "may")
    run = distribute_month(actor=capitated.users["fin"], payer=capitated.payer, month=MAY)
    today = timezone.localdate()
    back = max(MAY.first_day, (Month.of(today) - 2).first_day)
    approve_run(actor=capitated.users["fin2"], run=run, posting_date=back)
    value = portal.value_of_membership(capitated.users["alice"], capitated.practice_a.pk, today)
    by_month = {r.month: r for r in value.rows}
    assert (by_month[Month.of(back)].capitation_cents, by_month[Month.of(back)].admin_fee_cents) == (
        22550,
        3500,
    )
    if Month.of(back) != Month.of(today):
        assert (by_month[Month.of(today)].capitation_cents, by_month[Month.of(today)].admin_fee_cents) == (
            0,
            0,
        )


def client_for_user(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# -- the pages ----------------------------------------------------------------------------------------------------

CARDS = (
    "/portal/value/",
    "/portal/gaps/",
    "/portal/claims/",
    "/portal/authorizations/",
    "/portal/scorecard/",
)


def _links(body: str) -> set[str]:
    found = set(re.findall(r'(?:href|hx-get)="(/[^"]*)"', body))
    return {h.replace("&amp;", "&") for h in found if not h.startswith("/static/") and h != "/logout/"}


def test_a_practice_user_lands_on_her_portal_with_every_card(client_for, ledger):
    body = html(client_for("alice").get("/"))
    assert "Alder Family Medicine" in body
    assert "Your practice portal" in body
    for card in CARDS:
        assert f'hx-get="{card}"' in body
    for testid in ("portal-statements", "portal-offers", "portal-panels"):
        assert f'data-testid="{testid}"' in body
    assert "Largest PCP panels" not in body  # not the staff dashboard


def test_every_card_answers_a_fragment_to_htmx_and_a_page_otherwise(client_for, ledger):
    client = client_for("alice")
    for card in CARDS:
        fragment = client.get(card, HTTP_HX_REQUEST="true")
        assert fragment.status_code == 200, card
        assert "<html" not in html(fragment)
        page = client.get(card)
        assert page.status_code == 200
        assert "<html" in html(page)


def test_the_value_card_has_the_chart_and_the_table(client_for, ledger, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    body = html(client_for("alice").get("/portal/value/", HTTP_HX_REQUEST="true"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body
    assert "Value of membership by month" in body
    assert "$1,080.00" in body  # the net total
    assert "$1,130.00" in body  # received
    assert BIRCH_ONLY not in body


def test_every_link_on_a_practice_users_home_opens_and_names_no_other_practice(client_for, ledger):
    client = client_for("alice")
    home = html(client.get("/"))
    pages = [home] + [html(client.get(card, HTTP_HX_REQUEST="true")) for card in CARDS]
    links = set().union(*(_links(p) for p in pages))
    assert len(links) > 15
    for link in sorted(links):
        # a section's own landing may send a practice user on to its own page (membership fees: its statement)
        response = client.get(link, follow=True)
        assert response.status_code == 200, link
    for body in pages:
        for other in ("Birch Pediatrics", ledger.practice_b.code, "Ben Birch", BIRCH_ONLY):
            assert other not in body


def test_staff_keep_their_dashboard_and_get_no_portal_card(client_for, ledger):
    body = html(client_for("ops").get("/"))
    assert "Largest PCP panels" in body
    assert "portal-value" not in body
    for who in ("ops", "fin", "admin", "auditor"):
        for card in CARDS:
            assert client_for(who).get(card).status_code == 403, (who, card)


def test_the_cards_need_a_signed_in_user(client, ledger):
    for card in CARDS:
        response = client.get(card)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
