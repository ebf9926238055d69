"""The demo's board stage on a built demo (capitation and claims for the year): the opening balance and the
approved IBNR estimates go through the services, after which the board dashboard has cash, a reserve for every
closed quarter and every light judged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from openipa.accounts.models import User
from openipa.board import engine, selectors
from openipa.claims.models import IbnrEstimate
from openipa.core.months import Month
from openipa.demo import board as demo_board
from openipa.demo.services import DemoSummary
from openipa.demo.tests.value_based.shared import PROGRESS, TODAY
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> tuple[DemoSummary, demo_board.BoardSummary]:
    assert value_based_demo.board is not None
    return value_based_demo, value_based_demo.board


@pytest.fixture
def db_access(built: Any, db: None) -> None:
    """The module's build, read inside each test's transaction."""


def test_the_opening_balance_is_posted_through_the_ledger(built: Any, db_access: None) -> None:
    _summary, board = built
    entry = JournalEntry.objects.get(source_type=demo_board.SOURCE_TYPE)
    assert entry.number == board.opening_entry
    assert entry.posted_by == "finance"
    lines = {(line.account.code, int(line.debit * 100), int(line.credit * 100)) for line in entry.lines.all()}
    assert lines == {
        (accounts.CASH, board.opening_cents, 0),
        (accounts.RETAINED_SURPLUS, 0, board.opening_cents),
    }
    assert board.opening_cents >= demo_board.MINIMUM_OPENING_CENTS
    assert board.opening_cents % 100_000 == 0
    first = JournalEntry.objects.order_by("date").first()
    assert first is not None
    assert entry.date == first.date  # the first day of the books


def test_an_approved_estimate_for_each_closed_quarter_and_the_last_closed_month(
    built: Any, db_access: None
) -> None:
    _summary, board = built
    # An earlier stage (shared savings completes its cost with the IBNR as of its cut-off) may have approved
    # the estimate of a month already; the board stage then skips that month and says so.
    estimates = list(IbnrEstimate.objects.filter(status=IbnrEstimate.Status.APPROVED).order_by("as_of"))
    months = [f"{e.as_of:%Y-%m}" for e in estimates]
    assert months[-1] == "2026-10"
    assert {"2026-03", "2026-06", "2026-09"} <= set(months)
    assert set(board.estimates) <= {e.pk for e in estimates}
    made_elsewhere = {f"{e.as_of:%Y-%m}" for e in estimates if e.pk not in board.estimates}
    assert all(any(month in s and "already approved" in s for s in board.skipped) for month in made_elsewhere)
    for e in estimates:
        assert (e.status, e.prepared_by, e.approved_by) == (
            IbnrEstimate.Status.APPROVED,
            "finance",
            "finance-2",
        )
        assert e.method
    assert PROGRESS[demo_board.STAGE][-1][0] == PROGRESS[demo_board.STAGE][-1][1]


def test_the_board_dashboard_reads_the_demo(built: Any, db_access: None) -> None:
    board_user = User.objects.get(username="board")
    period = engine.parse_period("2026-Q3", today=TODAY)
    dash = selectors.board_dashboard(board_user, period=period, as_of=TODAY)
    lobs = {f.label for f in dash.lobs}
    assert {"medicare_advantage", "medicaid", "commercial"} <= lobs
    assert dash.total.revenue_cents > 0
    assert dash.total.member_months > 0
    assert dash.total.claims_cents > 0
    assert dash.total.ibnr_cents > 0
    assert dash.total.mlr is not None
    lights = {c.key: c for c in dash.criteria}
    assert lights["ibnr_documented"].light == engine.Light.GREEN
    assert lights["claims_timeliness"].light != engine.Light.UNKNOWN
    assert dash.drivers.paid_cents == dash.total.claims_cents


def test_the_criteria_on_the_books_as_they_stand(built: Any, db_access: None) -> None:
    """The other stages date some entries the day the demo is built (approvals of runs) and others by the
    history's payment dates, so only balances taken on or after the build day are whole: judged there, the
    opening balance gives a positive cash-to-claims ratio, working capital and tangible net equity."""
    today = timezone.localdate()
    period = engine.Period(engine.PeriodKind.MONTH, Month.of(today), Month.of(today))
    dash = selectors.board_dashboard(None, period=period, as_of=today)
    lights = {c.key: c for c in dash.criteria}
    assert isinstance(lights["cash_to_claims"].value, Decimal)
    assert lights["cash_to_claims"].value > 0
    assert lights["cash_to_claims"].light != engine.Light.UNKNOWN
    assert lights["working_capital"].light == engine.Light.GREEN
    assert lights["tangible_net_equity"].light == engine.Light.GREEN


def test_building_twice_adds_nothing(built: Any, db_access: None) -> None:
    with transaction.atomic():
        again = demo_board.build_board(seed=7, today=TODAY)
        transaction.set_rollback(True)
    assert again.opening_entry is None
    assert again.estimates == ()
    assert any("already posted" in s for s in again.skipped)
    assert isinstance(TODAY, dt.date)
