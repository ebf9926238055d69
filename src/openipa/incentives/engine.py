"""Incentive settlements, pure: the formulas' parameters, the quality score, and the three settlements.

No Django here. The caller reads the period's inputs (member-months, withheld and funded cents, claims paid,
quality counts) and the formula version in force; these functions return every practice's inputs, the
arithmetic's intermediate values and the amounts, in integer cents. Every split of money goes through
`openipa.core.money.allocate`, so the parts always sum to the whole. docs/incentives.md has worked examples;
the golden tests use its numbers.

Scores are integer thousandths of a point ("score_milli": 87.5 points -> 87500), on a 0..100 point scale:
score = 100 x earned points / available points, over the measures the practice has a denominator of at least
``min_denominator`` in, rounded half-up to a thousandth. A measure earns its full weight when the practice's
rate meets the target (``scoring: target``), or weight x stars / 5 (``scoring: stars``, stars 1..5 from the
cut points).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from openipa.core.money import allocate, format_money, percent_of

KINDS = ("quality", "withhold", "risk_pool")
SCORINGS = ("target", "stars")
QUALITY_SOURCES = ("liability", "fixed")
UNEARNED = ("revenue", "carry")
QUALITY_BASES = ("pool", "slice")
SURPLUS_BASES = ("member_months", "efficiency")
CAP_KINDS = ("percent_of_capitation", "amount", "none")
_MILLI = 1000
_MAX_CENTS = 10**13


class FormulaError(ValueError):
    """A formula's parameters or a settlement's inputs break a rule; the message says which and why."""


# -- periods -------------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"^(\d{4})(?:-?Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A settlement period: a calendar year ("2026") or a quarter ("2026Q3"), first and last day inclusive."""

    label: str
    first: dt.date
    last: dt.date

    @property
    def year(self) -> int:
        return self.first.year

    def months(self) -> list[dt.date]:
        out = []
        month = self.first
        while month <= self.last:
            out.append(month)
            month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        return out


def parse_period(text: str) -> Period:
    """ "2026" -> the year; "2026Q3" or "2026-Q3" -> the quarter."""
    match = _PERIOD.match(str(text).strip().upper())
    if not match:
        raise FormulaError(f"period {text!r} is not a year (2026) or a quarter (2026Q3)")
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise FormulaError(f"period {text!r}: the year must be between 2000 and 2100")
    if match.group(2) is None:
        return Period(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))
    quarter = int(match.group(2))
    first = dt.date(year, 3 * quarter - 2, 1)
    last = dt.date(year, 12, 31) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1) - dt.timedelta(days=1)
    return Period(f"{year}Q{quarter}", first, last)


# -- parameters ----------------------------------------------------------------------------------------------


def _decimal(value: Any, where: str, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FormulaError(f'{where}: expected a number as text ("60"), not {value!r}')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise FormulaError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite() or not low <= number <= high:
        raise FormulaError(f"{where}: {value} is not between {low} and {high}")
    return number


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FormulaError(f"{where}: expected a whole number from {low} to {high}, not {value!r}")
    return int(value)


def _choice(value: Any, where: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise FormulaError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


def _known(params: Mapping[str, Any], allowed: set[str], kind: str) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise FormulaError(f"{kind} formula: unknown field(s) {', '.join(unknown)}")


@dataclass(frozen=True)
class MeasureWeight:
    measure: str
    rate: str
    weight: int
    """Points the measure is worth (whole points)."""
    target: Decimal | None = None
    """Overrides the IPA's target from quality/data/targets.json when set."""


@dataclass(frozen=True)
class Scoring:
    """How a practice's quality score is computed from a quality run's rates."""

    measures: tuple[MeasureWeight, ...]
    scoring: str
    min_denominator: int


@dataclass(frozen=True)
class Tier:
    min_score_milli: int
    percent: Decimal


@dataclass(frozen=True)
class QualityParams:
    scoring: Scoring
    threshold_milli: int
    pool_source: str
    fixed_pool_cents: int
    basis: str
    unearned: str


@dataclass(frozen=True)
class WithholdParams:
    scoring: Scoring
    tiers: tuple[Tier, ...]
    """Highest minimum first; a score at or above a tier's minimum returns its percent."""
    unscored_percent: Decimal


@dataclass(frozen=True)
class RiskPoolParams:
    service_categories: tuple[str, ...]
    """ClaimLine.service_category values the pool pays for; empty means every IPA-paid claim line."""
    surplus_share_percent: Decimal
    surplus_basis: str
    deficit_share_percent: Decimal
    cap_kind: str
    cap_percent: Decimal
    cap_cents: int


def _scoring(params: Mapping[str, Any]) -> Scoring:
    raw = params.get("measures")
    if not isinstance(raw, list) or not raw:
        raise FormulaError("measures: expected a non-empty list of {measure, rate, weight}")
    measures = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(raw):
        where = f"measures[{i}]"
        if not isinstance(item, dict):
            raise FormulaError(f"{where}: expected an object")
        _known(item, {"measure", "rate", "weight", "target"}, where)
        measure = item.get("measure")
        if not isinstance(measure, str) or not measure.strip():
            raise FormulaError(f'{where}.measure: expected the measure\'s id ("CBP")')
        rate = item.get("rate", measure)
        if not isinstance(rate, str) or not rate.strip():
            raise FormulaError(f"{where}.rate: expected the rate's name")
        key = (measure.strip(), rate.strip())
        if key in seen:
            raise FormulaError(f"{where}: {key[0]} / {key[1]} is listed twice")
        seen.add(key)
        weight = _int(item.get("weight"), f"{where}.weight", 1, 1000)
        target = item.get("target")
        measures.append(MeasureWeight(key[0], key[1], weight,
                                      None if target is None else _decimal(target, f"{where}.target", Decimal(0),
                                                                           Decimal(1))))  # fmt: skip
    return Scoring(
        measures=tuple(measures),
        scoring=_choice(params.get("scoring", "target"), "scoring", SCORINGS),
        min_denominator=_int(params.get("min_denominator", 1), "min_denominator", 1, 100_000),
    )


def _milli(value: Decimal) -> int:
    scaled = value * _MILLI
    if scaled != scaled.to_integral_value():
        raise FormulaError(f"{value}: at most three decimals")
    return int(scaled)


_SCORING_FIELDS = {"measures", "scoring", "min_denominator"}


def parse_quality(params: Mapping[str, Any]) -> QualityParams:
    _known(params, _SCORING_FIELDS | {"threshold", "pool_source", "fixed_pool_cents", "basis", "unearned"},
           "quality")  # fmt: skip
    source = _choice(params.get("pool_source", "liability"), "pool_source", QUALITY_SOURCES)
    fixed = params.get("fixed_pool_cents", 0)
    fixed = _int(fixed, "fixed_pool_cents", 0, _MAX_CENTS)
    if source == "fixed" and fixed <= 0:
        raise FormulaError("fixed_pool_cents: a fixed pool needs an amount above zero")
    return QualityParams(
        scoring=_scoring(params),
        threshold_milli=_milli(_decimal(params.get("threshold", "0"), "threshold", Decimal(0), Decimal(100))),
        pool_source=source,
        fixed_pool_cents=fixed if source == "fixed" else 0,
        basis=_choice(params.get("basis", "pool"), "basis", QUALITY_BASES),
        unearned=_choice(params.get("unearned", "revenue"), "unearned", UNEARNED),
    )


def parse_withhold(params: Mapping[str, Any]) -> WithholdParams:
    _known(params, _SCORING_FIELDS | {"tiers", "unscored_percent"}, "withhold")
    raw = params.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise FormulaError("tiers: expected a non-empty list of {min_score, percent}")
    tiers = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise FormulaError(f"tiers[{i}]: expected an object")
        _known(item, {"min_score", "percent"}, f"tiers[{i}]")
        tiers.append(Tier(
            _milli(_decimal(item.get("min_score"), f"tiers[{i}].min_score", Decimal(0), Decimal(100))),
            _decimal(item.get("percent"), f"tiers[{i}].percent", Decimal(0), Decimal(100)),
        ))  # fmt: skip
    minimums = [t.min_score_milli for t in tiers]
    if len(set(minimums)) != len(minimums):
        raise FormulaError("tiers: two tiers have the same min_score")
    ordered = sorted(tiers, key=lambda t: -t.min_score_milli)
    for higher, lower in itertools.pairwise(ordered):
        if higher.percent < lower.percent:
            raise FormulaError("tiers: a higher score must not return a smaller percent")
    return WithholdParams(
        scoring=_scoring(params),
        tiers=tuple(ordered),
        unscored_percent=_decimal(
            params.get("unscored_percent", "0"), "unscored_percent", Decimal(0), Decimal(100)
        ),
    )


def parse_risk_pool(params: Mapping[str, Any]) -> RiskPoolParams:
    _known(params, {"service_categories", "surplus_share_percent", "surplus_basis", "deficit_share_percent",
                    "cap_kind", "cap_percent", "cap_cents"}, "risk_pool")  # fmt: skip
    categories = params.get("service_categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) and c.strip() for c in categories):
        raise FormulaError("service_categories: expected a list of service category names (empty: all)")
    cap_kind = _choice(params.get("cap_kind", "none"), "cap_kind", CAP_KINDS)
    cap_percent = _decimal(params.get("cap_percent", "0"), "cap_percent", Decimal(0), Decimal(100))
    cap_cents = _int(params.get("cap_cents", 0), "cap_cents", 0, _MAX_CENTS)
    if cap_kind == "percent_of_capitation" and not params.get("cap_percent"):
        raise FormulaError("cap_percent: a cap as a percent of capitation needs the percent")
    if cap_kind == "amount" and "cap_cents" not in params:
        raise FormulaError("cap_cents: a cap as an amount needs the amount")
    return RiskPoolParams(
        service_categories=tuple(sorted({c.strip() for c in categories})),
        surplus_share_percent=_decimal(
            params.get("surplus_share_percent"), "surplus_share_percent", Decimal(0), Decimal(100)
        ),
        surplus_basis=_choice(params.get("surplus_basis", "member_months"), "surplus_basis", SURPLUS_BASES),
        deficit_share_percent=_decimal(
            params.get("deficit_share_percent", "0"), "deficit_share_percent", Decimal(0), Decimal(100)
        ),
        cap_kind=cap_kind,
        cap_percent=cap_percent,
        cap_cents=cap_cents,
    )


def parse_params(kind: str, params: Mapping[str, Any]) -> QualityParams | WithholdParams | RiskPoolParams:
    """Check a formula's parameters for its kind; raise FormulaError naming the first problem."""
    if not isinstance(params, Mapping):
        raise FormulaError("parameters: expected an object")
    if kind == "quality":
        return parse_quality(params)
    if kind == "withhold":
        return parse_withhold(params)
    if kind == "risk_pool":
        return parse_risk_pool(params)
    raise FormulaError(f"kind {kind!r} is not one of {', '.join(KINDS)}")


# -- scores --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """A practice's counts in one rate of a quality run."""

    numerator: int
    denominator: int
    inverse: bool = False


@dataclass(frozen=True)
class Target:
    target: Decimal
    cut_points: tuple[Decimal, Decimal, Decimal, Decimal]


@dataclass(frozen=True)
class MeasureScore:
    measure: str
    rate: str
    weight: int
    numerator: int
    denominator: int
    rate_value: str
    """The rate as an exact fraction's decimal text, 6 places ("" when not counted)."""
    target: str
    counted: bool
    met: bool
    stars: int
    earned_milli: int


@dataclass(frozen=True)
class Score:
    score_milli: int | None
    """None when no measure had enough denominator to count."""
    earned_milli: int
    available_milli: int
    measures: tuple[MeasureScore, ...]


def _half_up(numerator: int, denominator: int) -> int:
    if denominator <= 0:
        raise FormulaError("division by zero")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


def _stars(numerator: int, denominator: int, cuts: Sequence[Decimal], inverse: bool) -> int:
    # compare exact fractions: rate >= cut  <=>  numerator >= cut x denominator
    if inverse:
        return 1 + sum(1 for cut in cuts if numerator <= cut * denominator)
    return 1 + sum(1 for cut in cuts if numerator >= cut * denominator)


def score(scoring: Scoring, counts: Mapping[tuple[str, str], Counts], targets: Mapping[tuple[str, str], Target]
          ) -> Score:  # fmt: skip
    """A practice's score from its counts per (measure, rate). A measure whose denominator is below
    ``min_denominator`` does not count (neither earned nor available). Refuses a measure without a target."""
    rows = []
    earned = available = 0
    for m in scoring.measures:
        key = (m.measure, m.rate)
        found = targets.get(key)
        if found is None and (m.target is None or scoring.scoring == "stars"):
            raise FormulaError(
                f"{m.measure} / {m.rate}: no target or star cut points for the quality run's year"
            )
        target = m.target if m.target is not None else found.target  # type: ignore[union-attr]
        c = counts.get(key, Counts(0, 0))
        counted = c.denominator >= scoring.min_denominator
        met = False
        stars = 0
        points = 0
        if counted:
            met = (
                (c.numerator <= target * c.denominator)
                if c.inverse
                else (c.numerator >= target * c.denominator)
            )
            if scoring.scoring == "target":
                points = m.weight * _MILLI if met else 0
            else:
                assert found is not None
                stars = _stars(c.numerator, c.denominator, found.cut_points, c.inverse)
                points = (
                    m.weight * _MILLI * stars // 5
                )  # weight x 1000 x stars / 5 = weight x 200 x stars: exact
            earned += points
            available += m.weight * _MILLI
        rate_value = (
            str((Decimal(c.numerator) / Decimal(c.denominator)).quantize(Decimal("0.000001")))
            if counted
            else ""
        )
        rows.append(MeasureScore(m.measure, m.rate, m.weight, c.numerator, c.denominator, rate_value,
                                 str(target), counted, met, stars, points))  # fmt: skip
    value = _half_up(100 * earned * _MILLI, available) if available else None
    return Score(value, earned, available, tuple(rows))


def tier_percent(params: WithholdParams, score_milli: int | None) -> tuple[str, Decimal]:
    """(tier label, percent returned) for a score: the first tier whose minimum the score reaches."""
    if score_milli is None:
        return "unscored", params.unscored_percent
    for tier in params.tiers:
        if score_milli >= tier.min_score_milli:
            return f">= {Decimal(tier.min_score_milli) / _MILLI:g}", tier.percent
    return "below every tier", Decimal(0)


# -- settlements ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeInput:
    """One practice's inputs for the period (from the approved capitation runs and the claims paid)."""

    practice_id: int
    member_months: int
    withheld_cents: int = 0
    funded_cents: int = 0
    capitation_cents: int = 0
    """PCP capitation (gross) of the period: the base of a cap as a percent of capitation."""
    cost_cents: int = 0
    score: Score | None = None


@dataclass(frozen=True)
class Line:
    practice_id: int
    member_months: int
    score_milli: int | None
    qualifies: bool
    tier: str
    percent: Decimal
    base_cents: int
    """What the percent or the share applies to: withheld (withhold), the practice's slice (quality slice
    basis), funded (risk pool)."""
    weight: int
    """The allocation weight: score x member-months, member-months, or efficiency."""
    amount_cents: int
    """Paid to the practice (> 0) or charged to it (< 0, a risk-pool deficit)."""
    kept_cents: int
    """What of this practice's base the IPA keeps (withhold kept, a slice's unearned part)."""
    cap_cents: int | None = None
    cap_applied: bool = False
    cost_cents: int = 0
    funded_cents: int = 0


@dataclass(frozen=True)
class Settlement:
    release_cents: int
    """What leaves the source account (quality pool, withhold or risk-pool liability, or revenue)."""
    pool_kept_cents: int
    """What the IPA keeps that is not any one practice's (unearned pool, the IPA's part of the surplus, the
    deficit it bears)."""
    lines: tuple[Line, ...]
    totals: dict[str, int]
    notes: tuple[str, ...]


def _check_practices(practices: Sequence[PracticeInput]) -> None:
    ids = [p.practice_id for p in practices]
    if len(set(ids)) != len(ids):
        raise FormulaError("a practice is listed twice")
    for p in practices:
        for name in ("member_months", "withheld_cents", "funded_cents", "capitation_cents", "cost_cents"):
            value = getattr(p, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise FormulaError(f"practice {p.practice_id}: {name} must be an int")
            if value < 0:
                raise FormulaError(f"practice {p.practice_id}: {name} is negative ({value})")


def settle_quality(params: QualityParams, pool_cents: int, practices: Sequence[PracticeInput]) -> Settlement:
    """The quality pool among the practices whose score reaches the threshold.

    basis ``pool``: the whole pool by score x member-months among qualifying practices (unearned only when
    none qualifies). basis ``slice``: each practice's slice of the pool by member-months, times its score
    (score 80 earns 80% of its slice) when it qualifies; the rest is unearned."""
    _check_practices(practices)
    if isinstance(pool_cents, bool) or not isinstance(pool_cents, int) or pool_cents < 0:
        raise FormulaError(f"the pool must be integer cents, not negative ({pool_cents!r})")
    notes = []
    ordered = sorted(practices, key=lambda p: p.practice_id)
    scores = [p.score.score_milli if p.score is not None else None for p in ordered]
    qualifies = [s is not None and s >= params.threshold_milli and p.member_months > 0
                 for p, s in zip(ordered, scores, strict=True)]  # fmt: skip
    lines = []
    if params.basis == "pool":
        weights = [
            (s or 0) * p.member_months if q else 0 for p, s, q in zip(ordered, scores, qualifies, strict=True)
        ]
        shares = allocate(pool_cents, weights) if ordered and any(weights) else [0] * len(ordered)
        if not any(weights):
            notes.append("no practice qualified: the whole pool is unearned")
        for p, s, q, w, cents in zip(ordered, scores, qualifies, weights, shares, strict=True):
            lines.append(Line(p.practice_id, p.member_months, s, q, "qualifies" if q else "below the gate",
                              Decimal(0), 0, w, cents, 0))  # fmt: skip
        kept = pool_cents - sum(shares)
    else:
        mm = [p.member_months for p in ordered]
        slices = allocate(pool_cents, mm) if ordered and any(mm) else [0] * len(ordered)
        for p, s, q, cut in zip(ordered, scores, qualifies, slices, strict=True):
            earned = _half_up(cut * (s or 0), 100 * _MILLI) if q else 0
            lines.append(Line(p.practice_id, p.member_months, s, q, "qualifies" if q else "below the gate",
                              Decimal(s or 0) / _MILLI if q else Decimal(0), cut, p.member_months, earned,
                              cut - earned))  # fmt: skip
        kept = pool_cents - sum(slices)
        if kept:
            notes.append("no member-months: the whole pool is unearned")
    return _finish(pool_cents, kept, lines, notes)


def settle_withhold(params: WithholdParams, practices: Sequence[PracticeInput]) -> Settlement:
    """Each practice's withheld total returned at its tier's percent (half-up to the cent); the rest kept."""
    _check_practices(practices)
    lines = []
    for p in sorted(practices, key=lambda p: p.practice_id):
        s = p.score.score_milli if p.score is not None else None
        tier, percent = tier_percent(params, s)
        returned = percent_of(p.withheld_cents, percent)
        lines.append(Line(p.practice_id, p.member_months, s, percent > 0, tier, percent, p.withheld_cents,
                          p.member_months, returned, p.withheld_cents - returned))  # fmt: skip
    return _finish(sum(p.withheld_cents for p in practices), 0, lines, [])


def _cap(params: RiskPoolParams, p: PracticeInput) -> int | None:
    if params.cap_kind == "percent_of_capitation":
        return percent_of(p.capitation_cents, params.cap_percent)
    if params.cap_kind == "amount":
        return params.cap_cents
    return None


def settle_risk_pool(params: RiskPoolParams, practices: Sequence[PracticeInput]) -> Settlement:
    """The pool (funded) against its target cost (claims paid for its services). A surplus: the practices'
    share of it (sharing %) split by member-months or by efficiency (funded - cost where positive); the IPA
    keeps the rest. A deficit: the practices' share (deficit %) split by member-months, each capped; what caps
    hold back is borne by the IPA. The practices' charges are receivables (negative amounts)."""
    _check_practices(practices)
    ordered = sorted(practices, key=lambda p: p.practice_id)
    funded = sum(p.funded_cents for p in ordered)
    cost = sum(p.cost_cents for p in ordered)
    result = funded - cost
    notes = [f"funded {format_money(funded)}, target cost (claims paid) {format_money(cost)}: "
             f"{'surplus' if result >= 0 else 'deficit'} {format_money(abs(result))}"]  # fmt: skip
    lines = []
    mm = [p.member_months for p in ordered]
    if result >= 0:
        shared = percent_of(result, params.surplus_share_percent)
        weights = mm
        if params.surplus_basis == "efficiency":
            weights = [max(p.funded_cents - p.cost_cents, 0) for p in ordered]
            if shared and not any(weights):
                notes.append(
                    "no practice's members cost less than they funded: surplus split by member-months"
                )
                weights = mm
        if shared and not any(weights):
            notes.append("no member-months: the surplus is kept")
            shared = 0
        shares = allocate(shared, weights) if ordered else []
        for p, w, cents in zip(ordered, weights, shares, strict=True):
            lines.append(Line(p.practice_id, p.member_months, None, cents > 0, "surplus", params.surplus_share_percent,
                              p.funded_cents, w, cents, 0, cost_cents=p.cost_cents, funded_cents=p.funded_cents))  # fmt: skip
        paid = sum(shares)
    else:
        charged_total = percent_of(-result, params.deficit_share_percent)
        if charged_total and not any(mm):
            notes.append("no member-months: the deficit is borne by the IPA")
            charged_total = 0
        parts = allocate(charged_total, mm) if ordered else []
        for p, part in zip(ordered, parts, strict=True):
            cap = _cap(params, p)
            charge = part if cap is None else min(part, cap)
            lines.append(Line(p.practice_id, p.member_months, None, False, "deficit", params.deficit_share_percent,
                              p.funded_cents, p.member_months, -charge, 0, cap_cents=cap,
                              cap_applied=cap is not None and part > cap, cost_cents=p.cost_cents,
                              funded_cents=p.funded_cents))  # fmt: skip
        paid = sum(line.amount_cents for line in lines)
        if charged_total + paid:
            notes.append(
                f"caps held back {format_money(charged_total + paid)} of the practices' share: borne by the IPA"
            )
    settlement = _finish(funded, funded - paid, lines, notes)
    settlement.totals.update({"cost_cents": cost, "result_cents": result})
    return settlement


def _finish(release: int, pool_kept: int, lines: list[Line], notes: list[str]) -> Settlement:
    paid = sum(line.amount_cents for line in lines if line.amount_cents > 0)
    charged = -sum(line.amount_cents for line in lines if line.amount_cents < 0)
    kept_lines = sum(line.kept_cents for line in lines)
    if release != sum(line.amount_cents for line in lines) + kept_lines + pool_kept:
        raise FormulaError("internal: the settlement does not add up")  # pragma: no cover - by construction
    return Settlement(
        release_cents=release,
        pool_kept_cents=pool_kept,
        lines=tuple(lines),
        totals={
            "release_cents": release,
            "paid_cents": paid,
            "charged_cents": charged,
            "kept_cents": kept_lines + pool_kept,
        },
        notes=tuple(notes),
    )
