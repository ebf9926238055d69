"""Evaluate measure definitions on frames: eligible population, exclusions, numerators, evidence, rates.

``evaluate(inputs, measures, value_sets) -> MeasureResults``:

* ``MeasureResults.members`` (``RESULT_SCHEMA``), one row per (measure, rate, eligible member), or per
  eligible episode in an episode-based measure (FUM, FUH): ``measure``, ``rate``, ``member_id`` (String),
  ``episode_id`` (the index event's evidence id; null in member-based measures), ``excluded``, ``exclusion_reason`` (the first exclusion of the
  definition's list that applies, else null), ``denominator`` (eligible and not excluded), ``numerator``
  (meets the rate's numerator and is in the denominator), and the evidence ids behind each decision
  (``denominator_evidence``, ``exclusion_evidence``, ``numerator_evidence``, sorted lists; see
  ``inputs.coded_events`` for their form, ``member:<id>`` for a death). Members outside the eligible
  population (age, sex, enrollment, denominator events) have no row. A numerator hit has evidence, except
  in a rate whose ``latest`` condition counts a missing result as a hit (GSD > 9%): those hits have none.
* ``MeasureResults.rates`` (``RATE_SCHEMA``): per measure and rate, the eligible, excluded, denominator and
  numerator counts, ``rate`` = numerator / denominator (null when the denominator is 0) and ``inverse``.

Everything is joins, filters and group-bys over the whole population at once (no per-member Python).
Eligibility: the population rule (age as of a date, sex; or the N-month birthday in the measurement year),
continuous enrollment (per segment at most ``max_gaps`` gaps of at most ``max_gap_days`` days, a gap being
the uncovered days between, before or after the member's spans inside the segment) and coverage on the
``enrolled_on`` day, then the ``denominator`` condition when the measure has one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from .definitions import (
    Age,
    AllOf,
    AnyOf,
    Condition,
    DateRef,
    Death,
    Enrollment,
    Episodes,
    Events,
    Latest,
    Measure,
    MeasureSet,
    Pdc,
    Sex,
)
from .inputs import MeasureInputs, _coded_events, validate
from .valuesets import VALUE_SET_SCHEMA, ValueSetError

RESULT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "measure": pl.String,
    "rate": pl.String,
    "member_id": pl.String,
    "episode_id": pl.String,
    "excluded": pl.Boolean,
    "exclusion_reason": pl.String,
    "denominator": pl.Boolean,
    "numerator": pl.Boolean,
    "denominator_evidence": pl.List(pl.String),
    "exclusion_evidence": pl.List(pl.String),
    "numerator_evidence": pl.List(pl.String),
}
RATE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "measure": pl.String,
    "rate": pl.String,
    "eligible": pl.UInt32,
    "excluded": pl.UInt32,
    "denominator": pl.UInt32,
    "numerator": pl.UInt32,
    "rate_value": pl.Float64,
    "inverse": pl.Boolean,
}

_EVIDENCE = pl.List(pl.String)
_NO_EVIDENCE = pl.lit([], dtype=_EVIDENCE)


@dataclass(frozen=True)
class MeasureResults:
    members: pl.DataFrame
    rates: pl.DataFrame


class _Context:
    def __init__(self, year: int, events: pl.DataFrame) -> None:
        self.my_start = dt.date(year, 1, 1)
        self.my_end = dt.date(year, 12, 31)
        # Split once by value set: a condition then reads only its value sets' events, not a scan of all.
        self.schema = events.schema
        self.by_value_set = {
            str(key[0]): part.lazy() for key, part in events.partition_by("value_set", as_dict=True).items()
        }

    def of(self, value_sets: tuple[str, ...]) -> pl.LazyFrame:
        """The events in any of ``value_sets``."""
        parts = [self.by_value_set[name] for name in dict.fromkeys(value_sets) if name in self.by_value_set]
        if not parts:
            return pl.LazyFrame(schema=self.schema)
        return parts[0] if len(parts) == 1 else pl.concat(parts)

    def date(self, ref: DateRef) -> pl.Expr:
        if ref.base == "my_start":
            base = pl.lit(self.my_start)
        elif ref.base == "my_end":
            base = pl.lit(self.my_end)
        elif ref.base == "birth":
            base = pl.col("birth_date")
        else:
            base = pl.col("anchor_date")
        months = ref.years * 12 + ref.months
        if months:
            base = base.dt.offset_by(f"{months}mo")
        if ref.days:
            base = base + pl.duration(days=ref.days)
        return base

    def dated(
        self, pop: pl.LazyFrame, value_sets: tuple[str, ...], start: DateRef, end: DateRef
    ) -> pl.LazyFrame:
        """Events of ``pop``'s members in ``value_sets`` dated from ``start`` to ``end`` (both included)."""
        return (
            self.of(value_sets)
            .join(pop.select("unit", "member_id", "birth_date", "anchor_date"), on="member_id", how="inner")
            .filter(pl.col("date").is_between(self.date(start), self.date(end), closed="both"))
        )

    def same_row(self, found: pl.LazyFrame, value_sets: tuple[str, ...]) -> pl.LazyFrame:
        """The events of ``found`` whose source row (member_id, evidence_id) also carries a code in
        ``value_sets``. The few rows of ``found`` are the hashed side; the many events of ``value_sets``
        (every office visit) only probe it."""
        rows = found.select("member_id", "evidence_id").unique()
        carrying = (
            self.of(value_sets)
            .join(rows, on=["member_id", "evidence_id"], how="semi")
            .select("member_id", "evidence_id")
            .unique()
        )
        return found.join(carrying, on=["member_id", "evidence_id"], how="semi")

    def episodes(self, rule: Episodes, members: pl.LazyFrame) -> pl.LazyFrame:
        """One row per episode: the member's columns, ``anchor_date`` (the index date) and ``episode_id``
        (the smallest evidence id of the index events that day)."""
        index = self.of(rule.value_sets).filter(
            pl.col("date").is_between(self.date(rule.period.start), self.date(rule.period.end))
        )
        if rule.same_row_as:
            index = self.same_row(index, rule.same_row_as)
        days = (
            index.group_by("member_id", "date").agg(pl.col("evidence_id").min().alias("episode_id")).collect()
        )
        # An index event within dedupe_days after a *kept* one is dropped: the member's first event is kept,
        # the events it covers are dropped, and the first one left is kept next. Each round handles every
        # member at once; there are as many rounds as the most episodes any member has.
        kept_parts = []
        remaining = days
        while remaining.height:
            first = remaining.sort("member_id", "date").group_by("member_id", maintain_order=True).first()
            kept_parts.append(first)
            if rule.dedupe_days == 0:
                remaining = remaining.join(
                    first.select("member_id", "date"), on=["member_id", "date"], how="anti"
                )
                continue
            remaining = (
                remaining.join(first.select("member_id", pl.col("date").alias("kept")), on="member_id")
                .filter((pl.col("date") - pl.col("kept")).dt.total_days() > rule.dedupe_days)
                .drop("kept")
            )
        kept = pl.concat(kept_parts).lazy() if kept_parts else days.lazy()
        return kept.join(members, on="member_id", how="inner").rename({"date": "anchor_date"})

    def condition(self, cond: Condition, pop: pl.LazyFrame) -> pl.LazyFrame:
        """(member_id, evidence) for the members of ``pop`` who meet ``cond``."""
        if isinstance(cond, Events):
            found = self.dated(pop, cond.value_sets, cond.period.start, cond.period.end)
            if cond.same_row_as:
                found = self.same_row(found, cond.same_row_as)
            return (
                found.group_by("unit")
                .agg(
                    pl.col("date").n_unique().alias("n"),
                    pl.col("evidence_id").unique().sort().alias("evidence"),
                )
                .filter(pl.col("n") >= cond.min_dates)
                .select("unit", "evidence")
            )
        if isinstance(cond, AnyOf):
            parts = [self.condition(inner, pop) for inner in cond.conditions]
            return (
                pl.concat(parts)
                .explode("evidence", empty_as_null=True)  # a unit whose condition has no evidence stays
                .group_by("unit")
                .agg(pl.col("evidence").drop_nulls().unique().sort())
            )
        if isinstance(cond, AllOf):
            result = self.condition(cond.conditions[0], pop)
            for index, inner in enumerate(cond.conditions[1:]):
                other = self.condition(inner, pop).rename({"evidence": f"_e{index}"})
                result = result.join(other, on="unit", how="inner").select(
                    "unit", pl.concat_list("evidence", f"_e{index}").alias("evidence")
                )
            return result.with_columns(pl.col("evidence").list.unique().list.sort())
        if isinstance(cond, Age):
            keep = pl.lit(True)
            if cond.minimum is not None:
                keep = keep & (pl.col("age") >= cond.minimum)
            if cond.maximum is not None:
                keep = keep & (pl.col("age") <= cond.maximum)
            return pop.filter(keep).select("unit", _NO_EVIDENCE.alias("evidence"))
        if isinstance(cond, Sex):
            return pop.filter(pl.col("sex").is_in(cond.values)).select("unit", _NO_EVIDENCE.alias("evidence"))
        if isinstance(cond, Pdc):
            return self.pdc(cond, pop)
        if isinstance(cond, Death):
            died = pl.col("death_date").is_between(self.date(cond.period.start), self.date(cond.period.end))
            return pop.filter(died).select(
                "unit",
                pl.concat_list(pl.concat_str(pl.lit("member:"), pl.col("member_ref"))).alias("evidence"),
            )
        return self.latest(cond, pop)

    def pdc(self, cond: Pdc, pop: pl.LazyFrame) -> pl.LazyFrame:
        """Units whose proportion of days covered, IPSD to the end of the period, reaches the threshold."""
        day = pl.Int32
        end = self.date(cond.period.end).cast(day)
        fills = self.dated(pop, cond.value_sets, cond.period.start, cond.period.end).select(
            "unit",
            pl.col("date").cast(day).alias("d"),
            end.alias("end"),
            "evidence_id",
            pl.col("value").fill_null(0).clip(0).cast(pl.Int64).alias("supply"),
        )
        # One dispensing per day: the longest supply of that day's fills.
        days = (
            fills.group_by("unit", "d").agg(pl.col("end").first(), pl.col("supply").max()).sort("unit", "d")
        )
        # Shift forward: a fill starts the day after the coverage before it ends. With S the running sum of
        # supplies, its last covered day is e_i = max(d_i + s_i - 1, e_(i-1) + s_i), whose closed form is
        # S_i + max over j <= i of (d_j - 1 - S_(j-1)): a cumulative sum and a cumulative max per unit.
        total = pl.col("supply").cum_sum().over("unit")
        reach = (pl.col("d") - 1 - (total - pl.col("supply"))).cum_max().over("unit")
        covered = days.with_columns((total + reach).alias("last")).with_columns(
            (pl.col("last") - pl.col("supply") + 1).alias("first")
        )
        clipped = (pl.min_horizontal("last", "end") - pl.col("first") + 1).clip(0)
        per_unit = covered.group_by("unit").agg(
            pl.col("d").min().alias("ipsd"),
            pl.col("end").first(),
            clipped.sum().alias("covered"),
        )
        period_days = pl.col("end").cast(pl.Int64) - pl.col("ipsd") + 1
        reached = pl.col("covered") * cond.denominator >= period_days * cond.numerator
        # Every fill dated in the period is on or after the IPSD (the first of them): all are evidence.
        evidence = fills.group_by("unit").agg(pl.col("evidence_id").unique().sort().alias("evidence"))
        return per_unit.filter(reached).select("unit").join(evidence, on="unit")

    def latest(self, cond: Latest, pop: pl.LazyFrame) -> pl.LazyFrame:
        parts = []
        for index, comp in enumerate(cond.components):
            start, end = cond.period.start, cond.period.end
            value = pl.col("value")
            meets = (value < comp.threshold) if comp.below else (value > comp.threshold)
            parts.append(
                self.dated(pop, comp.numeric, start, end)
                .filter(value.is_not_null())
                .select("unit", "date", "evidence_id", meets.alias("meets"), pl.lit(index).alias("comp"))
            )
            for names, verdict in ((comp.meets, True), (comp.fails, False)):
                if names:
                    parts.append(
                        self.dated(pop, names, start, end).select(
                            "unit",
                            "date",
                            "evidence_id",
                            pl.lit(verdict).alias("meets"),
                            pl.lit(index).alias("comp"),
                        )
                    )
        readings = pl.concat(parts).collect().lazy()
        complete = (
            readings.group_by("unit", "date")
            .agg(pl.col("comp").n_unique().alias("n"))
            .filter(pl.col("n") == len(cond.components))
            .group_by("unit")
            .agg(pl.col("date").max().alias("latest"))
        )
        # The representative reading of a component is its lowest on the latest date: for "below" it meets
        # when any reading does, for "above" only when every reading does.
        below = pl.Series([c.below for c in cond.components])
        on_latest = readings.join(complete, on="unit").filter(pl.col("date") == pl.col("latest"))
        per_component = (
            on_latest.group_by("unit", "comp")
            .agg(
                pl.col("meets").any().alias("any"),
                pl.col("meets").all().alias("all"),
            )
            .with_columns(
                pl.when(
                    pl.col("comp").replace_strict(dict(enumerate(below.to_list())), return_dtype=pl.Boolean)
                )
                .then(pl.col("any"))
                .otherwise(pl.col("all"))
                .alias("ok")
            )
        )
        decided = per_component.group_by("unit").agg(pl.col("ok").all().alias("hit")).filter(pl.col("hit"))
        evidence = on_latest.group_by("unit").agg(pl.col("evidence_id").unique().sort().alias("evidence"))
        hits = decided.join(evidence, on="unit").select("unit", "evidence")
        if cond.missing_is_hit:
            missing = pop.join(complete, on="unit", how="anti").select("unit", _NO_EVIDENCE.alias("evidence"))
            hits = pl.concat([hits, missing])
        return hits

    def population(self, measure: Measure, members: pl.LazyFrame) -> pl.LazyFrame:
        """The measure's units (``unit``: one per member, or per episode) with age, anchor date, episode id."""
        if measure.episodes is not None:
            pop = self.episodes(measure.episodes, members)
        elif measure.turns_months is not None:
            anchor = pl.col("birth_date").dt.offset_by(f"{measure.turns_months}mo")
            pop = members.with_columns(anchor.alias("anchor_date")).filter(
                pl.col("anchor_date").is_between(pl.lit(self.my_start), pl.lit(self.my_end))
            )
        else:
            assert measure.age_as_of is not None
            pop = members.with_columns(self.date(measure.age_as_of).alias("anchor_date"))
        birth, anchor = pl.col("birth_date"), pl.col("anchor_date")
        before_birthday = (anchor.dt.month() * 100 + anchor.dt.day()) < (
            birth.dt.month() * 100 + birth.dt.day()
        )
        age = (
            anchor.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)
        )
        pop = pop.with_columns(age.alias("age")).filter(birth <= anchor)
        if measure.age_min is not None:
            pop = pop.filter(pl.col("age") >= measure.age_min)
        if measure.age_max is not None:
            pop = pop.filter(pl.col("age") <= measure.age_max)
        if measure.sex is not None:
            pop = pop.filter(pl.col("sex").is_in(measure.sex))
        if measure.episodes is None:
            pop = pop.with_columns(
                pl.col("member_id").alias("unit"), pl.lit(None, dtype=pl.String).alias("episode_id")
            )
        else:
            pop = pop.with_row_index("unit")
        return pop

    def enrolled(self, rule: Enrollment, pop: pl.LazyFrame, spans: pl.LazyFrame) -> pl.LazyFrame:
        """The members of ``pop`` continuously enrolled under ``rule``."""
        day = pl.Int32
        on = self.date(rule.enrolled_on)
        covered = (
            spans.join(pop.select("unit", "member_id", "birth_date", "anchor_date"), on="member_id")
            .filter(
                (pl.col("start_date") <= on) & (pl.col("end_date").is_null() | (pl.col("end_date") >= on))
            )
            .select("unit")
            .unique()
        )
        result = pop.select("unit").join(covered, on="unit", how="semi")
        for seg in rule.segments:
            bounds = pop.select(
                "unit",
                "member_id",
                self.date(seg.start).cast(day).alias("s"),
                self.date(seg.end).cast(day).alias("e"),
            )
            clipped = (
                spans.join(bounds, on="member_id")
                .select(
                    "unit",
                    "s",
                    "e",
                    pl.max_horizontal(pl.col("start_date").cast(day), "s").alias("cs"),
                    pl.min_horizontal(pl.col("end_date").cast(day).fill_null(pl.col("e")), "e").alias("ce"),
                )
                .filter(pl.col("cs") <= pl.col("ce"))
                .sort("unit", "cs")
            )
            previous = pl.col("ce").cum_max().shift(1).over("unit")
            gaps = (
                clipped.with_columns(
                    pl.when(previous.is_null())
                    .then(pl.col("cs") - pl.col("s"))
                    .otherwise(pl.col("cs") - previous - 1)
                    .alias("gap")
                )
                .group_by("unit")
                .agg(
                    (pl.col("gap") > 0).sum().alias("n"),
                    pl.col("gap").max().alias("longest"),
                    (pl.col("e").first() - pl.col("ce").max()).alias("tail"),
                )
                .select(
                    "unit",
                    (pl.col("n") + (pl.col("tail") > 0).cast(pl.UInt32)).alias("n"),
                    pl.max_horizontal("longest", "tail").alias("longest"),
                )
            )
            passing = gaps.filter(
                (pl.col("n") <= seg.max_gaps) & ((pl.col("n") == 0) | (pl.col("longest") <= seg.max_gap_days))
            )
            # A segment that ends before it starts (an anchor before the window) asks nothing.
            empty = bounds.filter(pl.col("e") < pl.col("s")).select("unit")
            result = result.join(pl.concat([passing.select("unit"), empty]), on="unit", how="semi")
        return result


def _measure(ctx: _Context, measure: Measure, members: pl.LazyFrame, spans: pl.LazyFrame) -> pl.LazyFrame:
    # Materialized once: an episode's ``unit`` is a row index, which must not change between the reads below.
    pop = ctx.population(measure, members).collect().lazy()
    # The denominator condition first (it narrows adults to the few with a diagnosis or an event), then the
    # enrollment rule on those: the same units as the other way round, with less enrollment work.
    if measure.denominator is not None:
        denominator = ctx.condition(measure.denominator, pop).rename({"evidence": "denominator_evidence"})
        pop = pop.join(denominator, on="unit", how="inner").collect().lazy()
    else:
        pop = pop.with_columns(_NO_EVIDENCE.alias("denominator_evidence"))
    pop = pop.join(ctx.enrolled(measure.enrollment, pop, spans), on="unit", how="semi")
    pop = pop.collect().lazy()  # materialized: every condition below reads it, and small plans plan fast
    if measure.exclusions:
        found = pl.concat(
            [
                ctx.condition(exclusion.when, pop).select(
                    "unit",
                    pl.lit(order).alias("order"),
                    pl.lit(exclusion.reason).alias("reason"),
                    "evidence",
                )
                for order, exclusion in enumerate(measure.exclusions)
            ]
        )
        excluded = (
            found.sort("unit", "order")
            .group_by("unit")
            .agg(
                pl.col("reason").first().alias("exclusion_reason"),
                pl.col("evidence").first().alias("exclusion_evidence"),
            )
        )
        pop = pop.join(excluded, on="unit", how="left")
    else:
        pop = pop.with_columns(
            pl.lit(None, dtype=pl.String).alias("exclusion_reason"),
            pl.lit(None, dtype=_EVIDENCE).alias("exclusion_evidence"),
        )
    out = []
    for rate in measure.rates:
        units = pop
        if rate.denominator is not None:
            # A rate-level denominator (SPC Adherence: members who received a statin) narrows the rows.
            extra = ctx.condition(rate.denominator, pop).select("unit", pl.col("evidence").alias("_extra"))
            units = pop.join(extra, on="unit", how="inner").with_columns(
                pl.concat_list("denominator_evidence", "_extra")
                .list.unique()
                .list.sort()
                .alias("denominator_evidence")
            )
        hits = ctx.condition(rate.numerator, units).select(
            "unit", pl.col("evidence").alias("numerator_evidence")
        )
        is_excluded = pl.col("exclusion_reason").is_not_null()
        hit = pl.col("numerator_evidence").is_not_null() & ~is_excluded
        out.append(
            units.join(hits, on="unit", how="left").select(
                pl.lit(measure.id).alias("measure"),
                pl.lit(rate.id).alias("rate"),
                "member_id",
                "episode_id",
                is_excluded.alias("excluded"),
                "exclusion_reason",
                (~is_excluded).alias("denominator"),
                hit.alias("numerator"),
                "denominator_evidence",
                pl.col("exclusion_evidence").fill_null(_NO_EVIDENCE),
                pl.when(hit)
                .then(pl.col("numerator_evidence"))
                .otherwise(_NO_EVIDENCE)
                .alias("numerator_evidence"),
            )
        )
    return pl.concat(out)


def rates_of(results: pl.DataFrame, measures: MeasureSet) -> pl.DataFrame:
    """Per measure and rate: eligible, excluded, denominator, numerator counts and the rate."""
    order = [(m.id, r.id, r.inverse) for m in measures.measures for r in m.rates]
    keys = pl.DataFrame(
        {"measure": [o[0] for o in order], "rate": [o[1] for o in order], "inverse": [o[2] for o in order]},
        schema={"measure": pl.String, "rate": pl.String, "inverse": pl.Boolean},
    )
    counts = results.group_by("measure", "rate").agg(
        pl.len().alias("eligible"),
        pl.col("excluded").sum().alias("excluded"),
        pl.col("denominator").sum().alias("denominator"),
        pl.col("numerator").sum().alias("numerator"),
    )
    table = keys.join(counts, on=["measure", "rate"], how="left", maintain_order="left").with_columns(
        pl.col("eligible", "excluded", "denominator", "numerator").fill_null(0).cast(pl.UInt32)
    )
    return table.with_columns(
        pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator"))
        .otherwise(None)
        .alias("rate_value")
    ).select(list(RATE_SCHEMA))


def missing_value_sets(measures: MeasureSet, value_sets: pl.DataFrame) -> dict[str, list[str]]:
    """The value sets ``measures`` refer to that ``value_sets`` lacks, each with the measures using it."""
    present = set(value_sets["value_set"].unique().to_list())
    missing: dict[str, list[str]] = {}
    for measure in measures.measures:
        one = MeasureSet(measures.year, (measure,), measures.source)
        for name in sorted(one.value_sets() - present):
            missing.setdefault(name, []).append(measure.id)
    return dict(sorted(missing.items()))


def evaluate(
    inputs: MeasureInputs,
    measures: MeasureSet,
    value_sets: pl.DataFrame,
    *,
    allow_missing_value_sets: bool = False,
) -> MeasureResults:
    """Evaluate every measure of ``measures`` for measurement year ``measures.year`` on ``inputs``.

    A value set the definitions use but ``value_sets`` lacks is a ``ValueSetError`` (a licensed directory of
    another year or an incomplete file would otherwise silently find nothing), unless
    ``allow_missing_value_sets``: then it matches no code. Events and spans of member ids that are not in
    ``inputs.members`` are ignored.
    """
    missing_columns = [c for c in VALUE_SET_SCHEMA if c not in value_sets.columns]
    if missing_columns:
        raise ValueSetError(f"value sets: missing column(s) {', '.join(missing_columns)}")
    if not allow_missing_value_sets:
        missing = missing_value_sets(measures, value_sets)
        if missing:
            listed = "; ".join(f"{name} ({', '.join(ids)})" for name, ids in missing.items())
            raise ValueSetError(f"value sets missing for measurement year {measures.year}: {listed}")
    validate(inputs)
    used = value_sets.filter(pl.col("value_set").is_in(sorted(measures.value_sets())))
    # Inside the engine a member is a UInt32 key (its row in ``members``): joins on it are cheaper than on
    # strings. ``member_ref`` keeps the caller's id (as a string) for the output and for death evidence.
    ids = inputs.members.select(pl.col("member_id").cast(pl.String).alias("member_ref")).with_row_index("key")
    keys = inputs.members.select("member_id").with_row_index("key")
    names = sorted(measures.value_sets())
    events = _coded_events(inputs, used, keys).select(
        "member_id",
        pl.col("value_set").cast(pl.Enum(names)),
        "date",
        "evidence_id",
        "value",
    )
    ctx = _Context(measures.year, events)
    death = pl.col("death_date") if "death_date" in inputs.members.columns else pl.lit(None, dtype=pl.Date)
    members = (
        inputs.members.with_row_index("key")
        .select(
            pl.col("key").alias("member_id"),
            pl.col("member_id").cast(pl.String).alias("member_ref"),
            "birth_date",
            "sex",
            death.alias("death_date"),
        )
        .lazy()
    )
    spans = (
        inputs.enrollment.lazy()
        .select("member_id", "start_date", "end_date")
        .join(keys.lazy(), on="member_id", how="inner")
        .select(pl.col("key").alias("member_id"), "start_date", "end_date")
        .collect()
        .lazy()
    )
    frames = [_measure(ctx, measure, members, spans) for measure in measures.measures]
    order = {(m.id, r.id): i for i, (m, r) in enumerate((m, r) for m in measures.measures for r in m.rates)}
    keys = pl.DataFrame(
        {"measure": [k[0] for k in order], "rate": [k[1] for k in order], "_order": list(order.values())},
        schema={"measure": pl.String, "rate": pl.String, "_order": pl.Int32},
    )
    results = (
        pl.concat(pl.collect_all(frames))
        .join(keys, on=["measure", "rate"], how="left")
        .join(ids, left_on="member_id", right_on="key", how="left")
        .with_columns(pl.col("member_ref").alias("member_id"))
        .sort("_order", "member_id", "episode_id", nulls_last=True)
        .select(list(RESULT_SCHEMA))
    )
    if results.height == 0:
        results = pl.DataFrame(schema=RESULT_SCHEMA)
    return MeasureResults(members=results, rates=rates_of(results, measures))
