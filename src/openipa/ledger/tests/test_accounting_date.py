"""Runs are approved with an accounting date: finance closes a month a few days after it ends and dates the run's
entry within it. Never in the future, never before the run's own period; today when not given."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from openipa.ledger.services import LedgerError, accounting_date


def test_today_when_not_given() -> None:
    assert accounting_date(None) == timezone.localdate()


def test_a_past_day_is_kept() -> None:
    day = timezone.localdate() - dt.timedelta(days=20)
    assert accounting_date(day, not_before=day) == day


def test_the_future_is_refused() -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(LedgerError, match="in the future"):
        accounting_date(tomorrow, what="run 7's entry")


def test_before_the_period_is_refused() -> None:
    day = dt.date(2026, 3, 31)
    with pytest.raises(LedgerError, match="run 7's entry cannot be dated 2026-03-31: before 2026-04-01"):
        accounting_date(day, not_before=dt.date(2026, 4, 1), what="run 7's entry")
