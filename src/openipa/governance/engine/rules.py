"""Quorum and vote results, from the body's rules (data) and the counts. Pure: no Django, no database.

Quorum. The base is the body's authorized seats (vacant seats included: a vacancy does not lower the quorum)
or, for the general membership, the member practices with an active participation agreement on the meeting's
day. ``majority``: more than half the base (base // 2 + 1); ``count``: that many present; ``percent``: at least
that percentage of the base, rounded up. Quorum is met when the voters present reach the number required.

Votes. Only yes and no are votes cast: an abstention and a recusal are neither for nor against. ``simple
majority``: carried when yes is more than half the votes cast (a tie fails); ``two-thirds``: carried when yes is
at least two-thirds of the votes cast. No votes cast: the motion fails. Without quorum there is no decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

MAJORITY = "majority"
COUNT = "count"
PERCENT = "percent"
QUORUM_KINDS = (MAJORITY, COUNT, PERCENT)

SIMPLE_MAJORITY = "simple_majority"
TWO_THIRDS = "two_thirds"
VOTE_RULES = (SIMPLE_MAJORITY, TWO_THIRDS)

CHOICES = ("yes", "no", "abstain", "recused")


class RuleError(ValueError):
    """A rule that cannot be applied (an unknown kind, a negative base, a percentage out of range)."""


@dataclass(frozen=True)
class Quorum:
    base: int
    required: int
    present: int

    @property
    def met(self) -> bool:
        return self.present >= self.required

    @property
    def short_by(self) -> int:
        return max(self.required - self.present, 0)


def quorum_required(kind: str, value: Decimal | int, base: int) -> int:
    """The number of voters who must be present for a body of ``base`` voters."""
    if base < 0:
        raise RuleError("the base (seats or member practices) cannot be negative")
    amount = Decimal(value)
    if kind == MAJORITY:
        return base // 2 + 1
    if kind == COUNT:
        if amount != amount.to_integral_value() or amount < 1:
            raise RuleError("a quorum count is a whole number of at least 1")
        return int(amount)
    if kind == PERCENT:
        if not Decimal(0) < amount <= Decimal(100):
            raise RuleError("a quorum percentage is above 0 and at most 100")
        needed = (Decimal(base) * amount / Decimal(100)).to_integral_value(rounding=ROUND_CEILING)
        return max(int(needed), 1)
    raise RuleError(f"unknown quorum rule {kind!r}")


def quorum(kind: str, value: Decimal | int, base: int, present: int) -> Quorum:
    if present < 0:
        raise RuleError("the number present cannot be negative")
    return Quorum(base=base, required=quorum_required(kind, value, base), present=present)


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    no: int = 0
    abstain: int = 0
    recused: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no

    @classmethod
    def of(cls, choices: Iterable[str]) -> Tally:
        counts = dict.fromkeys(CHOICES, 0)
        for choice in choices:
            if choice not in counts:
                raise RuleError(f"unknown vote {choice!r}")
            counts[choice] += 1
        return cls(**counts)


def carried(rule: str, tally: Tally) -> bool:
    """Whether the votes carry the motion under ``rule`` (quorum is the caller's: see ``decide``)."""
    if rule == SIMPLE_MAJORITY:
        return tally.cast > 0 and tally.yes * 2 > tally.cast
    if rule == TWO_THIRDS:
        return tally.cast > 0 and tally.yes * 3 >= tally.cast * 2
    raise RuleError(f"unknown vote rule {rule!r}")


@dataclass(frozen=True)
class Decision:
    decided: bool
    carried: bool
    reason: str


def decide(rule: str, tally: Tally, q: Quorum) -> Decision:
    """The motion's outcome: no decision without quorum; otherwise carried or failed by the rule."""
    if not q.met:
        return Decision(
            False, False, f"no quorum: {q.present} present, {q.required} required (short by {q.short_by})"
        )
    ok = carried(rule, tally)
    label = "a simple majority" if rule == SIMPLE_MAJORITY else "two-thirds"
    verdict = "carried" if ok else "failed"
    return Decision(
        True, ok, f"{verdict}: {tally.yes} yes, {tally.no} no of {tally.cast} cast ({label} needed); "
        f"{tally.abstain} abstained, {tally.recused} recused",
    )  # fmt: skip
