"""Shared savings settlement: benchmark against cost, the minimum savings (or loss) rate corridor, the quality
gate, the sharing rate and the caps, every step shown.

Pure (no Django). Money is integer cents; percents are Decimals. Each amount is computed exactly (as a
fraction) from the ones before it and rounded once, half-up, to the cent, so anyone can redo it by hand:

- benchmark: ``PMPM x member-months`` (basis ``pmpm``), ``per-beneficiary-year x member-months / 12``
  (``beneficiary_year``), or ``revenue x target MLR %`` (``target_mlr``); with risk adjustment, times
  ``mean RAF / reference RAF``.
- savings = benchmark - cost (negative: a loss); the savings rate is savings / benchmark.
- savings: the MSR is met when savings >= MSR% x benchmark. Shareable savings are all the savings
  (``first_dollar``) or only those above the MSR amount. Earned = shareable x sharing% x quality%, where
  quality% is 100 when the quality gate is met (score >= minimum), 0 when not, or the sliding scale's
  percent for the highest step at or below the score. Paid = min(earned, savings cap% x benchmark).
- losses (two-sided terms only): the MLR (minimum loss rate) is met when loss >= MLR% x benchmark; owed =
  (all of the loss, or the part above the MLR amount) x loss sharing%, at most the loss cap. The loss sharing
  rate is fixed, or (MSSP ENHANCED, 42 CFR 425.610) 100% minus the final sharing rate (sharing% x quality%)
  kept between a floor and a ceiling. The loss cap is loss cap% x benchmark; with a revenue-based cap (MSSP
  BASIC levels C-E, 42 CFR 425.605) it is the revenue% x ACO participant revenue, but never more than the
  benchmark-based cap; when the participant revenue is not known, only the benchmark-based cap applies and
  the working says so (the larger of the two possible caps: what may be owed at most).
- the MSSP one-sided MSR (42 CFR 425.604(b)): a table of bands of assigned beneficiaries with an MSR at the
  low end and at the high end of each band; between them the MSR is interpolated linearly on the exact
  number of beneficiaries (CMS's sliding scale), to 3 decimal places, half-up.

The result's ``shared_cents`` is signed: positive is earned from the payer, negative owed to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from openipa.core.money import format_money

PMPM = "pmpm"
BENEFICIARY_YEAR = "beneficiary_year"
TARGET_MLR = "target_mlr"
BASES = (PMPM, BENEFICIARY_YEAR, TARGET_MLR)
RAF_MILLI = 1000


class SettlementError(ValueError):
    """Terms or totals that cannot be settled; the message says which field."""


def _round(value: Fraction) -> int:
    """Half-up (away from zero) to an integer."""
    magnitude = (2 * abs(value.numerator) + value.denominator) // (2 * value.denominator)
    return magnitude if value >= 0 else -magnitude


def _pct(value: Decimal) -> Fraction:
    return Fraction(value) / 100


@dataclass(frozen=True)
class QualityStep:
    """A step of a sliding scale: from ``min_score`` (percent) up, ``percent`` of the share is earned."""

    min_score: Decimal
    percent: Decimal


@dataclass(frozen=True)
class Terms:
    """One version of a contract's shared savings terms, resolved (an MSSP table's MSR already looked up)."""

    benchmark_basis: str
    benchmark_amount: Decimal = Decimal(0)
    target_mlr_percent: Decimal | None = None
    msr_percent: Decimal = Decimal(0)
    first_dollar: bool = True
    sharing_percent: Decimal = Decimal(50)
    quality_min_score: Decimal | None = None
    quality_scale: tuple[QualityStep, ...] = ()
    savings_cap_percent: Decimal | None = None
    two_sided: bool = False
    mlr_percent: Decimal = Decimal(0)
    loss_sharing_percent: Decimal = Decimal(0)
    loss_cap_percent: Decimal | None = None
    loss_cap_revenue_percent: Decimal | None = None
    loss_sharing_floor_percent: Decimal | None = None
    loss_sharing_ceiling_percent: Decimal | None = None
    risk_adjust: bool = False
    reference_raf_milli: int = RAF_MILLI

    def check(self) -> None:
        """Raise SettlementError naming the first unusable field."""
        if self.benchmark_basis not in BASES:
            raise SettlementError(f"benchmark_basis: {self.benchmark_basis!r} (one of {', '.join(BASES)})")
        if self.benchmark_basis == TARGET_MLR:
            if self.target_mlr_percent is None or not 0 < self.target_mlr_percent <= 100:
                raise SettlementError("target_mlr_percent: a target MLR basis needs a percent in (0, 100]")
        elif self.benchmark_amount <= 0:
            raise SettlementError("benchmark_amount: must be above zero")
        percents = {
            "msr_percent": self.msr_percent,
            "sharing_percent": self.sharing_percent,
            "mlr_percent": self.mlr_percent,
            "loss_sharing_percent": self.loss_sharing_percent,
        }
        for name, value in percents.items():
            if not 0 <= value <= 100:
                raise SettlementError(f"{name}: {value} is not between 0 and 100")
        for name, cap in (
            ("savings_cap_percent", self.savings_cap_percent),
            ("loss_cap_percent", self.loss_cap_percent),
            ("loss_cap_revenue_percent", self.loss_cap_revenue_percent),
            ("loss_sharing_floor_percent", self.loss_sharing_floor_percent),
            ("loss_sharing_ceiling_percent", self.loss_sharing_ceiling_percent),
        ):
            if cap is not None and not 0 <= cap <= 100:
                raise SettlementError(f"{name}: {cap} is not between 0 and 100")
        if self.loss_cap_revenue_percent is not None and self.loss_cap_percent is None:
            raise SettlementError(
                "loss_cap_percent: a revenue-based loss cap is capped at a percent of the benchmark: give both"
            )
        floor, ceiling = self.loss_sharing_floor_percent, self.loss_sharing_ceiling_percent
        if (floor is None) != (ceiling is None):
            raise SettlementError("loss_sharing_ceiling_percent: give the floor and the ceiling together")
        if floor is not None and ceiling is not None and floor > ceiling:
            raise SettlementError("loss_sharing_ceiling_percent: the ceiling is below the floor")
        if self.quality_min_score is not None and not 0 <= self.quality_min_score <= 100:
            raise SettlementError(f"quality_min_score: {self.quality_min_score} is not between 0 and 100")
        previous: Decimal | None = None
        for step in self.quality_scale:
            if not (0 <= step.min_score <= 100 and 0 <= step.percent <= 100):
                raise SettlementError("quality_scale: scores and percents are between 0 and 100")
            if previous is not None and step.min_score <= previous:
                raise SettlementError("quality_scale: steps must rise in score")
            previous = step.min_score
        if self.reference_raf_milli <= 0:
            raise SettlementError("reference_raf: must be above zero")


@dataclass(frozen=True)
class Totals:
    """What the settlement reads from a snapshot: attribution, cost, revenue, quality and risk."""

    member_months: int
    cost_cents: int
    revenue_cents: int = 0
    quality_numerator: int = 0
    quality_denominator: int = 0
    mean_raf_milli: int | None = None
    participant_revenue_cents: int | None = None

    @property
    def quality_score(self) -> Decimal | None:
        """The pooled quality rate in percent, 2 places, half-up; None with no denominator."""
        if self.quality_denominator <= 0:
            return None
        hundredths = _round(Fraction(self.quality_numerator * 10_000, self.quality_denominator))
        return Decimal(hundredths).scaleb(-2)


@dataclass(frozen=True)
class Step:
    """One line of the working: what, its value as people read it, and the cents when it is money."""

    label: str
    value: str
    cents: int | None = None


@dataclass(frozen=True)
class Settlement:
    benchmark_cents: int
    cost_cents: int
    savings_cents: int
    savings_rate: Decimal
    msr_cents: int
    msr_met: bool
    quality_score: Decimal | None
    quality_met: bool
    quality_percent: Decimal
    earned_cents: int
    cap_cents: int | None
    cap_binding: bool
    mlr_cents: int
    mlr_met: bool
    loss_cap_binding: bool
    shared_cents: int
    steps: tuple[Step, ...] = field(default=())

    @property
    def outcome(self) -> str:
        if self.shared_cents > 0:
            return "savings earned"
        if self.shared_cents < 0:
            return "loss owed"
        return "nothing shared"


def quality_percent(terms: Terms, score: Decimal | None) -> tuple[bool, Decimal]:
    """(gate met, percent of the share earned) for a quality score. No gate and no scale: met, 100%.

    A sliding scale gives the percent of the highest step whose score is at or below ``score``; below every
    step, 0%. A minimum score gates first: below it, 0% whatever the scale says. No score (no denominator)
    fails any gate or scale.
    """
    if terms.quality_min_score is None and not terms.quality_scale:
        return True, Decimal(100)
    if score is None:
        return False, Decimal(0)
    if terms.quality_min_score is not None and score < terms.quality_min_score:
        return False, Decimal(0)
    if not terms.quality_scale:
        return True, Decimal(100)
    percent = Decimal(0)
    for step in terms.quality_scale:
        if score >= step.min_score:
            percent = step.percent
    return percent > 0, percent


def benchmark_cents(terms: Terms, totals: Totals) -> tuple[int, list[Step]]:
    steps: list[Step] = []
    if terms.benchmark_basis == PMPM:
        exact = Fraction(terms.benchmark_amount) * 100 * totals.member_months
        steps.append(Step("Benchmark PMPM x member-months",
                          f"${terms.benchmark_amount} x {totals.member_months:,}"))  # fmt: skip
    elif terms.benchmark_basis == BENEFICIARY_YEAR:
        exact = Fraction(terms.benchmark_amount) * 100 * totals.member_months / 12
        steps.append(Step("Benchmark per beneficiary-year x member-months / 12",
                          f"${terms.benchmark_amount} x {totals.member_months:,} / 12"))  # fmt: skip
    else:
        assert terms.target_mlr_percent is not None
        exact = Fraction(totals.revenue_cents) * _pct(terms.target_mlr_percent)
        steps.append(Step("Revenue x target MLR",
                          f"{format_money(totals.revenue_cents)} x {terms.target_mlr_percent}%"))  # fmt: skip
    if terms.risk_adjust:
        if totals.mean_raf_milli is None or totals.mean_raf_milli <= 0:
            raise SettlementError("risk adjustment: the snapshot has no mean RAF (name a risk run)")
        exact = exact * totals.mean_raf_milli / terms.reference_raf_milli
        steps.append(Step("Risk adjustment: x mean RAF / reference RAF",
                          f"x {totals.mean_raf_milli / 1000:.3f} / {terms.reference_raf_milli / 1000:.3f}"))  # fmt: skip
    cents = _round(exact)
    steps.append(Step("Benchmark", format_money(cents), cents))
    return cents, steps


def loss_sharing_rate(terms: Terms, q_percent: Decimal) -> Decimal:
    """The loss sharing percent: fixed, or 100 minus the final sharing rate (sharing% x quality%) kept
    within the floor and the ceiling (MSSP ENHANCED)."""
    floor, ceiling = terms.loss_sharing_floor_percent, terms.loss_sharing_ceiling_percent
    if floor is None or ceiling is None:
        return terms.loss_sharing_percent
    final_sharing = terms.sharing_percent * q_percent / 100
    return min(max(100 - final_sharing, floor), ceiling)


def loss_cap_cents(terms: Terms, benchmark: int, participant_revenue_cents: int | None) -> tuple[int, str]:
    """(the loss cap in cents, its line of the working). Only for terms with a ``loss_cap_percent``."""
    assert terms.loss_cap_percent is not None
    on_benchmark = _round(Fraction(benchmark) * _pct(terms.loss_cap_percent))
    if terms.loss_cap_revenue_percent is None:
        return on_benchmark, f"Loss cap {terms.loss_cap_percent}% of benchmark"
    if participant_revenue_cents is None:
        return on_benchmark, (
            f"Loss cap {terms.loss_cap_revenue_percent}% of ACO participant revenue, at most "
            f"{terms.loss_cap_percent}% of benchmark (revenue not known: the benchmark cap applies)"
        )
    on_revenue = _round(Fraction(participant_revenue_cents) * _pct(terms.loss_cap_revenue_percent))
    return min(on_revenue, on_benchmark), (
        f"Loss cap {terms.loss_cap_revenue_percent}% of ACO participant revenue "
        f"({format_money(participant_revenue_cents)}), at most {terms.loss_cap_percent}% of benchmark"
    )


def settle(terms: Terms, totals: Totals) -> Settlement:
    """Settle ``totals`` under ``terms``; raise SettlementError for unusable terms or totals."""
    terms.check()
    if totals.member_months <= 0:
        raise SettlementError("member_months: nobody is attributed in the period")
    benchmark, steps = benchmark_cents(terms, totals)
    if benchmark <= 0:
        raise SettlementError("benchmark: comes to zero (no revenue or member-months)")
    cost = totals.cost_cents
    steps.append(Step("Cost (claims paid and completed)", format_money(cost), cost))
    savings = benchmark - cost
    rate_hundredths = _round(Fraction(savings * 10_000, benchmark))
    savings_rate = Decimal(rate_hundredths).scaleb(-2)
    steps.append(Step("Savings = benchmark - cost", f"{format_money(savings)} ({savings_rate}% of benchmark)",
                      savings))  # fmt: skip
    msr = _round(Fraction(benchmark) * _pct(terms.msr_percent))
    mlr = _round(Fraction(benchmark) * _pct(terms.mlr_percent))
    score = totals.quality_score
    q_met, q_percent = quality_percent(terms, score)
    steps.append(Step("Quality score", "none" if score is None else f"{score}%"))
    earned = 0
    cap: int | None = None
    cap_binding = loss_cap_binding = False
    msr_met = savings > 0 and savings >= msr
    mlr_met = False
    shared = 0
    if savings > 0:
        steps.append(Step(f"Minimum savings rate {terms.msr_percent}% of benchmark",
                          f"{format_money(msr)}: {'met' if msr_met else 'not met'}", msr))  # fmt: skip
        if msr_met:
            shareable = savings if terms.first_dollar else savings - msr
            steps.append(Step("Shareable savings" + (" (first dollar)" if terms.first_dollar else " (above the MSR)"),
                              format_money(shareable), shareable))  # fmt: skip
            steps.append(
                Step("Quality gate", f"{'met' if q_met else 'not met'}: {q_percent}% of the share earned")
            )
            earned = _round(Fraction(shareable) * _pct(terms.sharing_percent) * _pct(q_percent))
            steps.append(Step(f"Earned = shareable x {terms.sharing_percent}% x {q_percent}%", format_money(earned),
                              earned))  # fmt: skip
            shared = earned
            if terms.savings_cap_percent is not None:
                cap = _round(Fraction(benchmark) * _pct(terms.savings_cap_percent))
                cap_binding = earned > cap
                shared = min(earned, cap)
                steps.append(Step(f"Savings cap {terms.savings_cap_percent}% of benchmark",
                                  f"{format_money(cap)}: {'binding' if cap_binding else 'not reached'}", cap))  # fmt: skip
    elif savings < 0:
        loss = -savings
        if not terms.two_sided:
            steps.append(Step("Loss", "one-sided terms: no loss is shared", 0))
        else:
            mlr_met = loss >= mlr
            steps.append(Step(f"Minimum loss rate {terms.mlr_percent}% of benchmark",
                              f"{format_money(mlr)}: {'met' if mlr_met else 'not met (inside the corridor)'}", mlr))  # fmt: skip
            if mlr_met:
                base = loss if terms.first_dollar else loss - mlr
                rate = loss_sharing_rate(terms, q_percent)
                if rate != terms.loss_sharing_percent:
                    steps.append(Step("Loss sharing rate = 100% - final sharing rate, within "
                                      f"{terms.loss_sharing_floor_percent}%..{terms.loss_sharing_ceiling_percent}%",
                                      f"{rate}%"))  # fmt: skip
                owed = _round(Fraction(base) * _pct(rate))
                steps.append(Step(f"Owed = loss x {rate}%", format_money(owed), owed))
                if terms.loss_cap_percent is not None:
                    cap, label = loss_cap_cents(terms, benchmark, totals.participant_revenue_cents)
                    loss_cap_binding = owed > cap
                    owed = min(owed, cap)
                    steps.append(Step(label, f"{format_money(cap)}: {'binding' if loss_cap_binding else 'not reached'}",
                                      cap))  # fmt: skip
                shared = -owed
    steps.append(Step("Shared (+ earned, - owed)", format_money(shared), shared))
    return Settlement(
        benchmark_cents=benchmark, cost_cents=cost, savings_cents=savings, savings_rate=savings_rate,
        msr_cents=msr, msr_met=msr_met, quality_score=score, quality_met=q_met, quality_percent=q_percent,
        earned_cents=earned, cap_cents=cap, cap_binding=cap_binding, mlr_cents=mlr, mlr_met=mlr_met,
        loss_cap_binding=loss_cap_binding, shared_cents=shared, steps=tuple(steps),
    )  # fmt: skip


@dataclass(frozen=True)
class MsrBand:
    """A band of the one-sided MSR table: ``from_beneficiaries``..``to_beneficiaries`` (None: no upper end),
    the MSR at the band's low end and at its high end (the same for a band without an upper end)."""

    from_beneficiaries: int
    to_beneficiaries: int | None
    low_end_percent: Decimal
    high_end_percent: Decimal


MSR_PLACES = Decimal("0.001")


def msr_from_table(beneficiaries: int, bands: Sequence[MsrBand]) -> Decimal:
    """The MSR percent for ``beneficiaries``: linear between the band's low-end MSR (at its first number) and
    its high-end MSR (at its last number), to 3 decimal places, half-up; a band without an upper end is flat.

    Raise SettlementError below the first band (the program's minimum), in a gap between bands, or for an
    empty, unordered or overlapping table.
    """
    if not bands:
        raise SettlementError("MSR table: empty")
    previous_end: int | None = None
    for number, band in enumerate(bands):
        if band.to_beneficiaries is not None and band.to_beneficiaries < band.from_beneficiaries:
            raise SettlementError("MSR table: a band ends before it starts")
        if band.to_beneficiaries is None and number != len(bands) - 1:
            raise SettlementError("MSR table: only the last band may be open-ended")
        if number and (previous_end is None or band.from_beneficiaries <= previous_end):
            raise SettlementError("MSR table: bands must rise in beneficiaries without overlapping")
        previous_end = band.to_beneficiaries
    if beneficiaries < bands[0].from_beneficiaries:
        raise SettlementError(
            f"MSR table: {beneficiaries:,} assigned beneficiaries is below the minimum of "
            f"{bands[0].from_beneficiaries:,}"
        )
    for band in bands:
        end = band.to_beneficiaries
        if band.from_beneficiaries <= beneficiaries and (end is None or beneficiaries <= end):
            if end is None or end == band.from_beneficiaries:
                return band.low_end_percent.quantize(MSR_PLACES)
            position = Fraction(beneficiaries - band.from_beneficiaries, end - band.from_beneficiaries)
            exact = (
                Fraction(band.low_end_percent)
                + (Fraction(band.high_end_percent) - Fraction(band.low_end_percent)) * position
            )
            thousandths = _round(exact * 1000)
            return Decimal(thousandths).scaleb(-3)
    raise SettlementError(f"MSR table: no band holds {beneficiaries:,} assigned beneficiaries")
