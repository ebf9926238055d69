"""The demo's capitation remittances: each payer's 820 for a month, derived from what the contract says it owes,
with the noise real remittances carry.

Pure: no Django, no clock, no I/O; deterministic from the seed, the payer and the month.

What the payer pays for a month, per member on the IPA's roster for it (the ``Owed`` rows, priced by the
expected capitation engine), is the expected amount, except for:

- about 1% of members missing from the month's file (eligible but not paid);
- about 0.5% paid at the rate of the neighbouring age band (wrong rate);
- a fifth of the members new that month paid a month late, as a retro line in the next month's
  file (eligible but not paid until then; the later file settles it);
- one member paid twice in one month of the year (duplicate payment);
- members who died before the month still paid (paid after date of death) - the payer's death file lags;
- now and then a member id the IPA has never heard of (paid but not eligible).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from openipa.core.months import Month

MISSING_SHARE = 0.01
WRONG_BAND_SHARE = 0.005
LATE_SHARE = 0.2
"""Of the members new that month (not on the roster the month before)."""
UNKNOWN_MEMBERS = 2


@dataclass(frozen=True, slots=True)
class Owed:
    """One member-month the contract prices (from the expected capitation engine and the month's roster)."""

    key: str
    last_name: str
    first_name: str
    expected_cents: int
    neighbour_cents: int | None
    """What the neighbouring age band's rate cell would pay (None: no neighbour)."""
    first_covered_day: int
    dead_before_month: bool
    new: bool = False
    """Not on the roster the month before."""


@dataclass(frozen=True, slots=True)
class PaidLine:
    cents: int
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class PaidMember:
    key: str
    last_name: str
    first_name: str
    lines: tuple[PaidLine, ...]


@dataclass
class Remittance:
    """One payer-month's 820: who is paid what, the lines carried to the next month, and what noise went in."""

    members: list[PaidMember] = field(default_factory=list)
    late: list[PaidMember] = field(default_factory=list)
    """Paid in the next month's file, for this month (retro)."""
    noise: dict[str, int] = field(default_factory=dict)

    @property
    def total_cents(self) -> int:
        return sum(line.cents for m in self.members for line in m.lines)


def plan_remittance(
    *,
    seed: int,
    payer_code: str,
    month: Month,
    owed: Sequence[Owed],
    carried: Sequence[PaidMember] = (),
    deceased: Sequence[Owed] = (),
    duplicate: bool = False,
) -> Remittance:
    """The payer's 820 for ``month``: ``owed`` as the payer pays it, plus ``carried`` (last month's late lines)
    and ``deceased`` (members who died the month before, whom the payer's lagging death file still pays)."""
    rng = random.Random(f"openipa-demo-820-{seed}-{payer_code}-{month}")
    out = Remittance(
        noise=dict.fromkeys(("missing", "wrong_band", "late", "duplicate", "after_death", "unknown"), 0)
    )
    start, end = month.first_day, month.last_day
    out.members.extend(carried)
    for row in owed:
        if row.expected_cents <= 0:
            continue
        draw = rng.random()
        if draw < MISSING_SHARE:
            out.noise["missing"] += 1
            continue
        if row.new and draw < MISSING_SHARE + LATE_SHARE:
            out.late.append(
                PaidMember(
                    row.key, row.last_name, row.first_name, (PaidLine(row.expected_cents, start, end),)
                )
            )
            out.noise["late"] += 1
            continue
        cents = row.expected_cents
        if row.neighbour_cents is not None and rng.random() < WRONG_BAND_SHARE and row.first_covered_day == 1:
            cents = row.neighbour_cents
            out.noise["wrong_band"] += 1
        if row.dead_before_month:
            out.noise["after_death"] += 1
        lines = [PaidLine(cents, start, end)]
        if duplicate and out.noise["duplicate"] == 0:
            lines.append(PaidLine(cents, start, end))
            out.noise["duplicate"] += 1
        out.members.append(PaidMember(row.key, row.last_name, row.first_name, tuple(lines)))
    for row in deceased:
        if row.expected_cents > 0:
            out.members.append(PaidMember(row.key, row.last_name, row.first_name,
                                          (PaidLine(row.expected_cents, start, end),)))  # fmt: skip
            out.noise["after_death"] += 1
    for n in range(UNKNOWN_MEMBERS if rng.random() < 0.5 else 0):
        out.members.append(
            PaidMember(f"X{payer_code}{month.year % 100:02d}{month.month:02d}{n}", "UNKNOWN", "MEMBER",
                       (PaidLine(25000, start, end),))
        )  # fmt: skip
        out.noise["unknown"] += 1
    return out
