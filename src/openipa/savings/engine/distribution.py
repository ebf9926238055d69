"""Distribution of earned shared savings to practices by a configurable formula.

Pure (no Django). From the shared amount, off the top: the IPA's reserve (``reserve_percent``) and its
administrative fee (``admin_fee_percent``), each ``percent_of`` the shared amount; the rest is distributable.
The distributable amount is split into pools by their percents with ``allocate`` (so the pools sum to it
exactly), and each pool across practices with ``allocate`` by the pool's key:

- ``member_months``: the practice's attributed member-months;
- ``quality``: the practice's quality score (percent, 2 places) x its member-months, so a larger panel at the
  same score gets proportionally more; a practice without a score weighs 0;
- ``efficiency``: how far the practice's cost is below its share of the benchmark, never below 0:
  ``max(0, benchmark x practice member-months - cost x total member-months)`` (the same ratio, kept in
  integers).

A pool whose weights are all zero (no practice scored, none below benchmark) falls back to member-months,
and the result says so. Only savings are distributed: a loss stays with the IPA (it is not charged to
practices by this formula), and ``distribute`` refuses a negative amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from openipa.core.money import allocate, percent_of

MEMBER_MONTHS = "member_months"
QUALITY = "quality"
EFFICIENCY = "efficiency"
KEYS = (MEMBER_MONTHS, QUALITY, EFFICIENCY)


class DistributionError(ValueError):
    """A formula or input that cannot be distributed; the message names the field."""


@dataclass(frozen=True)
class Pool:
    key: str
    percent: Decimal


@dataclass(frozen=True)
class Formula:
    reserve_percent: Decimal
    admin_fee_percent: Decimal
    pools: tuple[Pool, ...]

    def check(self) -> None:
        for name, value in (
            ("reserve_percent", self.reserve_percent),
            ("admin_fee_percent", self.admin_fee_percent),
        ):
            if not 0 <= value <= 100:
                raise DistributionError(f"{name}: {value} is not between 0 and 100")
        if self.reserve_percent + self.admin_fee_percent > 100:
            raise DistributionError("reserve_percent + admin_fee_percent: more than 100")
        if not self.pools:
            raise DistributionError("pools: at least one pool")
        for pool in self.pools:
            if pool.key not in KEYS:
                raise DistributionError(f"pools: unknown key {pool.key!r} (one of {', '.join(KEYS)})")
            if pool.percent <= 0:
                raise DistributionError(f"pools: {pool.key} has a percent of {pool.percent}; above 0")
        if len({p.key for p in self.pools}) != len(self.pools):
            raise DistributionError("pools: each key once")
        if sum((p.percent for p in self.pools), Decimal(0)) != 100:
            raise DistributionError("pools: percents must sum to 100")


@dataclass(frozen=True)
class PracticeKeys:
    practice_id: int
    member_months: int
    cost_cents: int
    quality_score: Decimal | None


@dataclass(frozen=True)
class PracticeShare:
    practice_id: int
    member_months: int
    cost_cents: int
    quality_score: Decimal | None
    efficiency_weight: int
    pools: dict[str, int]

    @property
    def total_cents(self) -> int:
        return sum(self.pools.values())


@dataclass(frozen=True)
class Distribution:
    shared_cents: int
    reserve_cents: int
    admin_fee_cents: int
    distributable_cents: int
    pools: dict[str, int]
    fallbacks: tuple[str, ...]
    shares: tuple[PracticeShare, ...]


def efficiency_weight(benchmark_cents: int, total_member_months: int, keys: PracticeKeys) -> int:
    """The practice's savings against its share of the benchmark, scaled by total member-months, or 0."""
    return max(0, benchmark_cents * keys.member_months - keys.cost_cents * total_member_months)


def _weights(key: str, practices: Sequence[PracticeKeys], efficiency: list[int]) -> list[int | Decimal]:
    if key == MEMBER_MONTHS:
        return [p.member_months for p in practices]
    if key == QUALITY:
        return [(p.quality_score or Decimal(0)) * p.member_months for p in practices]
    return list(efficiency)


def distribute(
    shared_cents: int, *, benchmark_cents: int, practices: Sequence[PracticeKeys], formula: Formula
) -> Distribution:
    """Split ``shared_cents`` (>= 0) among ``practices`` (those with member-months) by ``formula``."""
    formula.check()
    if shared_cents < 0:
        raise DistributionError("shared_cents: a loss is not distributed to practices")
    if any(p.member_months < 0 for p in practices):
        raise DistributionError("member_months: negative for a practice")
    if len({p.practice_id for p in practices}) != len(practices):
        raise DistributionError("practices: each practice once")
    members = [p for p in sorted(practices, key=lambda p: p.practice_id) if p.member_months > 0]
    reserve = percent_of(shared_cents, formula.reserve_percent)
    fee = percent_of(shared_cents, formula.admin_fee_percent)
    distributable = shared_cents - reserve - fee
    if distributable > 0 and not members:
        raise DistributionError("practices: nobody to distribute to (no practice has member-months)")
    pool_amounts = allocate(distributable, [p.percent for p in formula.pools])
    total_mm = sum(p.member_months for p in members)
    efficiency = [efficiency_weight(benchmark_cents, total_mm, p) for p in members]
    by_practice: list[dict[str, int]] = [{} for _ in members]
    fallbacks: list[str] = []
    for pool, amount in zip(formula.pools, pool_amounts, strict=True):
        if not members:
            continue
        weights = _weights(pool.key, members, efficiency)
        if amount and not any(weights):
            fallbacks.append(pool.key)
            weights = _weights(MEMBER_MONTHS, members, efficiency)
        for slot, part in zip(by_practice, allocate(amount, weights), strict=True):
            slot[pool.key] = part
    shares = tuple(
        PracticeShare(practice_id=p.practice_id, member_months=p.member_months, cost_cents=p.cost_cents,
                      quality_score=p.quality_score, efficiency_weight=e, pools=parts)
        for p, e, parts in zip(members, efficiency, by_practice, strict=True)
    )  # fmt: skip
    return Distribution(
        shared_cents=shared_cents, reserve_cents=reserve, admin_fee_cents=fee, distributable_cents=distributable,
        pools={p.key: a for p, a in zip(formula.pools, pool_amounts, strict=True)}, fallbacks=tuple(fallbacks),
        shares=shares,
    )  # fmt: skip
