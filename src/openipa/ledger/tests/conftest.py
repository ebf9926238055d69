"""Ledger test helpers: a short way to post an entry, and the finance user who posts it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry
from openipa.ledger.services import Posting, post_entry

JAN31 = dt.date(2026, 1, 31)


def dr(account: str, cents: int, **kw: Any) -> Posting:
    return Posting(account, debit_cents=cents, **kw)


def cr(account: str, cents: int, **kw: Any) -> Posting:
    return Posting(account, credit_cents=cents, **kw)


def receipt(cents: int = 100_000) -> list[Posting]:
    """Capitation received: cash in, held undistributed."""
    return [dr(accounts.CASH, cents), cr(accounts.CAPITATION_UNDISTRIBUTED, cents)]


@pytest.fixture
def fin(small_ipa: Any) -> Any:
    return small_ipa.users["fin"]


@pytest.fixture
def post(fin: Any) -> Callable[..., JournalEntry]:
    """`post(postings, date=..., source_id=...)` as the finance user."""

    def make(
        postings: Sequence[Posting],
        *,
        date: dt.date = JAN31,
        memo: str = "January capitation",
        source_type: str = "capitation_run",
        source_id: str | int = 1,
        actor: Any = fin,
    ) -> JournalEntry:
        return post_entry(
            actor=actor, date=date, memo=memo, postings=postings, source_type=source_type, source_id=source_id
        )

    return make
