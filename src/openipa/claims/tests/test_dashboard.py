"""The claims dashboard: every number on a small example counted by hand (claims written directly, with their
decision days chosen around the 45th working day), the page on a full cycle, and practice users refused.

The example (as of Thursday 26 November 2026; Amy and Bert eligible all year, so 2 member-months a month):

| claim | received   | lines (outcome, CARC, paid cents, service)            | decided    | status      |
|-------|------------|-------------------------------------------------------|------------|-------------|
| C1    | 2026-06-01 | paid 5000 05-20, paid 2500 05-20 (run 1 approved)     | 2026-08-03 | adjudicated |
| C2    | 2026-06-01 | denied 109, paid 3001 06-10 (run 1)                   | 2026-08-04 | paid        |
| C3    | 2026-06-15 | pended, paid 700 06-01 (draft run 3)                  | -          | pended      |
| C4    | 2026-11-20 | new                                                   | -          | received    |
| C5    | 2026-06-10 | reversed 1000 06-05 (paid run 1, reversed run 2)      | -          | reversed    |
| C7    | 2026-10-30 | denied 97, denied 109                                 | 2026-11-02 | adjudicated |

The 45th working day after Monday 1 June (US-CA) is Monday 3 August: June 2-30 has 21 working days, July 23
(Independence Day falls on a Saturday and is not moved), so 3 August is the 45th and 4 August the 46th.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from openipa.claims.models import AdjudicationRun, Claim, ClaimImport, ClaimLine, ClaimPaymentRun
from openipa.claims.selectors.dashboard import claims_dashboard
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.services.payments import approve_run, prepare_run
from openipa.claims.tests.conftest import claim_file
from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 26)
Outcome = ClaimLine.Outcome


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def _claim(
    source: ClaimImport, pcn: str, received: dt.date, status: str, lines: list[tuple[Any, ...]], **extra: Any
) -> Claim:
    """A claim of Amy's from Birch with ``lines`` of (outcome, carc, paid cents, service day, decided day,
    payment run, reversal run)."""
    claim = Claim.objects.create(
        source=source, kind="professional", patient_control_number=pcn, member_key="SUN0001",
        billing_npi="1912301953", service_from=dt.date(2026, 5, 20), service_to=dt.date(2026, 6, 10),
        received_on=received, charge_cents=10000 * len(lines), status=status, **extra,
    )  # fmt: skip
    for number, (outcome, carc, paid, service, decided, run, reversal) in enumerate(lines, start=1):
        ClaimLine.objects.create(
            claim=claim, number=number, code="99213", units=1, charge_cents=10000, service_from=service,
            service_to=service, outcome=outcome, carc=carc, paid_cents=paid,
            adjudicated_at=_at(decided) if decided else None, payment_run_id=run, reversal_run_id=reversal,
        )  # fmt: skip
    return claim


@pytest.fixture
def example(claims_ipa: Any) -> Any:
    source = ClaimImport.objects.create(file_name="x.837", sha256="0" * 64, format="x12", status="imported",
                                        received_on=AS_OF, imported_by="t")  # fmt: skip
    run1, run2, run3 = (
        ClaimPaymentRun.objects.create(status=status, through=AS_OF, payment_date=AS_OF, prepared_by="t")
        for status in ("approved", "paid", "draft")
    )
    may20, jun10, jun1, jun5 = (
        dt.date(2026, 5, 20),
        dt.date(2026, 6, 10),
        dt.date(2026, 6, 1),
        dt.date(2026, 6, 5),
    )
    aug3, aug4 = dt.date(2026, 8, 3), dt.date(2026, 8, 4)
    _claim(source, "C1", jun1, "adjudicated", [(Outcome.PAID, "", 5000, may20, aug3, run1.pk, None),
                                               (Outcome.PAID, "", 2500, may20, aug3, run1.pk, None)])  # fmt: skip
    _claim(source, "C2", jun1, "paid", [(Outcome.DENIED, "109", 0, jun10, aug4, run1.pk, None),
                                        (Outcome.PAID, "", 3001, jun10, aug4, run1.pk, None)])  # fmt: skip
    _claim(source, "C3", dt.date(2026, 6, 15), "pended", [(Outcome.PENDED, "", 0, jun1, aug3, None, None),
                                                          (Outcome.PAID, "", 700, jun1, aug3, run3.pk, None)])  # fmt: skip
    _claim(source, "C4", dt.date(2026, 11, 20), "received", [(Outcome.NEW, "", 0, jun1, None, None, None)])
    _claim(source, "C5", jun5, "reversed", [(Outcome.REVERSED, "", 1000, jun5, aug3, run1.pk, run2.pk)])
    _claim(source, "C7", dt.date(2026, 10, 30), "adjudicated",
           [(Outcome.DENIED, "97", 0, jun1, dt.date(2026, 11, 2), None, None),
            (Outcome.DENIED, "109", 0, jun1, dt.date(2026, 11, 2), None, None)])  # fmt: skip
    for lines, paid, denied, pended in ((10, 6, 2, 2), (0, 0, 0, 0), (3, 1, 0, 2)):
        AdjudicationRun.objects.create(run_by="t", lines=lines, paid=paid, denied=denied, pended=pended)
    return claims_ipa


def _dashboard(ipa: Any, user: str = "ops") -> Any:
    return claims_dashboard(ipa.users[user], first=Month(2026, 5), last=Month(2026, 11), as_of=AS_OF)


def test_inventory_by_age(example: Any) -> None:
    d = _dashboard(example)
    # C4 is 6 days old and not adjudicated; C3 is 164 days old and pended
    assert [(b.label, b.received, b.pended, b.charge_cents) for b in d.inventory] == [
        ("0-15 days", 1, 0, 10000),
        ("16-30 days", 0, 0, 0),
        ("31-45 days", 0, 0, 0),
        ("46+ days", 0, 1, 20000),
    ]
    assert d.inventory_total == 2


def test_share_decided_within_45_working_days(example: Any) -> None:
    d = _dashboard(example)
    rows = {
        t.month: (t.received, t.on_time, t.late, t.open_late, t.open_in_time, t.percent) for t in d.timeliness
    }
    # June: C1 decided on the 45th working day (on time), C2 on the 46th (late), C3 still open and past it;
    # C5 (reversed later) is left out
    assert rows["2026-06"] == (3, 1, 1, 1, 0, Decimal("33.3"))
    assert rows["2026-10"] == (1, 1, 0, 0, 0, Decimal("100.0"))
    assert rows["2026-11"] == (1, 0, 0, 0, 1, None)  # C4: its deadline is still ahead
    assert rows["2026-05"] == (0, 0, 0, 0, 0, None)
    assert d.timely_percent == Decimal("50.0")  # 2 of 4


def test_auto_adjudication_per_run(example: Any) -> None:
    d = _dashboard(example)
    # the run that decided nothing is left out; oldest first
    assert [(r.run.lines, r.percent) for r in d.runs] == [(10, Decimal("80.0")), (3, Decimal("33.3"))]


def test_denial_rate_by_carc(example: Any) -> None:
    d = _dashboard(example)
    # decided lines: C1 2 paid, C2 1 denied + 1 paid, C3 1 paid, C7 2 denied = 7; the reversed and the pended
    # and new lines are not decided
    assert (d.denials.decided, d.denials.denied, d.denials.percent) == (7, 3, Decimal("42.9"))
    assert [(r.carc, r.lines, r.charge_cents, r.percent) for r in d.denials.rows] == [
        ("109", 2, 20000, Decimal("28.6")),
        ("97", 1, 10000, Decimal("14.3")),
    ]


def test_paid_pmpm_by_month_of_service(example: Any) -> None:
    d = _dashboard(example)
    rows = {p.month: (p.paid_cents, p.member_months, p.pmpm_cents) for p in d.pmpm}
    # May: C1's 5000 + 2500 over 2 member-months; June: C2's 3001 / 2 = 1500.5 -> 1501 (C3's line is in a
    # draft run, C5's payment was reversed by a paid run)
    assert rows["2026-05"] == (7500, 2, 3750)
    assert rows["2026-06"] == (3001, 2, 1501)
    assert rows["2026-07"] == (0, 2, 0)
    assert len(rows) == 7


def test_the_dashboard_page_shows_the_example(example: Any, client_for: Any) -> None:
    body = html(client_for("auditor").get("/claims/dashboard/?month_from=2026-05&month_to=2026-11"))
    assert "Decided within 45 working days: 50.0%" in body
    assert "Denial rate: 42.9%" in body
    assert (
        '<th scope="row">2026-05</th><td class="num">$75.00</td><td class="num">2</td><td class="num">$37.50</td>'
        in body
    )
    for chart in (
        "claims-inventory",
        "claims-timeliness",
        "claims-auto-adjudication",
        "claims-denials",
        "claims-pmpm",
    ):
        assert f'id="{chart}-title"' in body, chart


def test_the_page_on_a_full_cycle(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    adjudicate_waiting(actor=None)
    today = timezone.localdate()
    approve_run(actor=claims_ipa.users["fin2"], run=prepare_run(actor=claims_ipa.users["fin"], through=today))
    body = html(client_for("ops").get("/claims/dashboard/?month_from=2026-10&month_to=2026-11"))
    # 4 lines: the 99213 paid, two labs denied (CO-109, the plan's), the 99214 pended
    auto = body[body.index('data-testid="auto-adjudication"') :].split("</table>")[0]
    assert (
        '<td class="num">4</td><td class="num">1</td><td class="num">2</td><td class="num">1</td><td class="num">75.0%</td>'
        in auto
    )
    assert "Denial rate: 66.7%" in body
    denials = body[body.index('data-testid="denials"') :].split("</table>")[0]
    assert '<th scope="row" class="mono">109</th><td class="num">2</td><td class="num">66.7%</td>' in denials
    # October's services: $40.00 paid over Amy's and Bert's 2 member-months
    assert (
        '<th scope="row">2026-10</th><td class="num">$40.00</td><td class="num">2</td><td class="num">$20.00</td>'
        in body
    )
    # the claim is pended, so undecided: in the inventory
    assert "2 undecided" not in body
    assert "1 undecided claim<" in body


@pytest.mark.parametrize("name", ["alice", "bob", "messenger"])
def test_practice_users_and_others_are_refused(example: Any, client_for: Any, name: str) -> None:
    before = AuditEvent.objects.count()
    assert client_for(name).get("/claims/dashboard/").status_code == 403
    with pytest.raises(PermissionDenied):
        _dashboard(example, name)
    assert AuditEvent.objects.count() == before


def test_a_bad_window_is_reported_and_the_default_shown(example: Any, client_for: Any) -> None:
    response = client_for("fin").get("/claims/dashboard/?month_from=2026-11&month_to=2026-05")
    assert response.status_code == 200
    assert "The last month is before the first." in html(response)
