"""The demo's board stage (issue 9, part 2): what the board dashboard needs and the other stages do not make,
recorded through the ledger's and the reserves' own services as the demo's finance users would:

- an **opening balance**: the member practices' capital contributions, posted on the first day of the demo's
  first month as cash against retained surplus (debit 1000 Cash, credit 3000 Retained surplus). The other stages
  only move money through the IPA (capitation in, capitation and claims out), so without it the IPA's cash would
  be whatever the year's flows leave and the cash-to-claims ratio would say nothing. The amount is three months
  of the year's average claims paid, rounded up to a thousand dollars (at least $100,000): a plausible
  solvency cushion, made by a rule rather than hard-coded so it scales with the demo's size.
- **IBNR estimates**: one as of each quarter-end month of the demo's claims year and one as of the last closed
  month, each prepared by ``finance`` (chain ladder on volume-weighted factors over 12 incurred months, by line
  of business and service category, a PMPM projection for months under 90% complete) and approved by
  ``finance-2``, so the dashboard's reserve and "IBNR documented" light have their
  source for every closed quarter.

Nothing here is random (the seed is taken for the common signature); run after every other stage. Skips (and
says so in the summary) what it cannot do: no ledger entries or no paid claims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Min, Sum

from openipa.accounts.models import User
from openipa.claims.models import ClaimPaymentRun, IbnrEstimate
from openipa.claims.services.reserves import ReserveRefused, approve_estimate, estimate_ibnr
from openipa.core.months import Month
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry
from openipa.ledger.services import Posting, post_entry

ProgressFn = Callable[[str, int, int], None]
STAGE = "Board dashboard"
SOURCE_TYPE = "opening_balance"
MINIMUM_OPENING_CENTS = 10_000_000
"""$100,000."""
CUSHION_MONTHS = 3
PMPM_BELOW = "0.900"
"""The estimates project by PMPM every incurred month less than 90% complete: the demo's newest month has
nothing paid yet, which the chain ladder (the reserves' default below 50%) would take as no cost at all."""


@dataclass(frozen=True)
class BoardSummary:
    opening_entry: int | None
    """The opening balance's journal entry number (None: not posted)."""
    opening_cents: int
    estimates: tuple[int, ...]
    """The approved IBNR estimates' ids, oldest as-of first."""
    skipped: tuple[str, ...]


def _closed_month(today: dt.date) -> Month:
    """The last month wholly over on ``today`` (today's month when today is its last day)."""
    month = Month.of(today)
    return month if today == month.last_day else month - 1


def _opening_cents(first: Month, last: Month) -> int:
    paid = ClaimPaymentRun.objects.filter(
        status=ClaimPaymentRun.Status.PAID,
        payment_date__gte=first.first_day,
        payment_date__lte=last.last_day,
    ).aggregate(total=Sum("paid_cents"))["total"]
    months = max(last.index - first.index + 1, 1)
    cushion = CUSHION_MONTHS * int(paid or 0) // months
    thousand = 100_000
    return max(MINIMUM_OPENING_CENTS, -(-cushion // thousand) * thousand)


def build_board(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> BoardSummary:
    """Post the opening balance and prepare and approve the IBNR estimates (see the module's doc)."""
    del seed  # deterministic without it: nothing is drawn at random
    finance = User.objects.get(username="finance")
    approver = User.objects.get(username="finance-2")
    skipped: list[str] = []
    closed = _closed_month(today)
    first_day = JournalEntry.objects.aggregate(first=Min("date"))["first"]
    quarter_ends = []
    if first_day is not None:
        first = Month.of(first_day)
        quarter_ends = [m for m in Month.range(first, closed) if m.month % 3 == 0 and m != closed]
    targets = [*quarter_ends, closed]
    total = 1 + len(targets)
    if progress:
        progress(STAGE, 0, total)

    entry_number: int | None = None
    opening = 0
    if first_day is None:
        skipped.append("opening balance: the ledger has no entries to open")
    elif JournalEntry.objects.filter(source_type=SOURCE_TYPE).exists():
        skipped.append("opening balance: already posted")
    else:
        first = Month.of(first_day)
        opening = _opening_cents(first, closed)
        entry = post_entry(
            actor=finance, date=first.first_day, memo="Opening balance: member practices' capital contributions",
            postings=[Posting(accounts.CASH, debit_cents=opening, memo="capital contributions received"),
                      Posting(accounts.RETAINED_SURPLUS, credit_cents=opening, memo="members' capital")],
            source_type=SOURCE_TYPE, source_id=f"{first}",
        )  # fmt: skip
        entry_number = entry.number
    if progress:
        progress(STAGE, 1, total)

    approved: list[int] = []
    for i, month in enumerate(targets, start=2):
        if IbnrEstimate.objects.filter(as_of=month.first_day, status=IbnrEstimate.Status.APPROVED).exists():
            skipped.append(f"IBNR as of {month}: already approved")
        else:
            try:
                draft = estimate_ibnr(finance, month, months=12, threshold=PMPM_BELOW, who=finance.username)
            except ReserveRefused as exc:
                skipped.append(f"IBNR as of {month}: {exc}")
            else:
                approved.append(approve_estimate(approver, draft).pk)
        if progress:
            progress(STAGE, i, total)
    return BoardSummary(entry_number, opening, tuple(approved), tuple(skipped))
