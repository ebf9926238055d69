"""Care-gap wording and targets as data, and the gap columns of a run's results (pure: Polars, no Django).

* ``data/gaps.json``: per measure and rate, versioned by measurement year (``from_year``/``to_year``), the
  reason an open gap shows (quoting the latest result when there is one: with its value, or dated only), the service that closes it (text, the value sets that close it, example codes) and
  its due date (``my_end``: 31 December of the measurement year; ``episode``: the episode's date + days).
* ``data/targets.json``: per measurement year, measure and rate, the IPA's target and star cut points
  (illustrative IPA-configured values shipped; an IPA replaces the file, see docs/quality-measures.md).

:func:`gap_columns` adds ``gap``, ``gap_reason`` and ``gap_due`` to the engine's result rows: a gap is a row in
the denominator and not in the numerator, or in the numerator of an inverse rate (GSD >9: poor control). The
reason uses the member's latest result when the rate names result value sets and one exists in the year
("last HbA1c 9.4% on 2026-03-02"), else the rate's wording; a rate without an entry gets the measure's name.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

PLACEHOLDERS = frozenset(
    {"year", "prior_year", "my_end", "since", "episode_date", "date", "value", "unit", "measure"}
)
_FIELD = re.compile(r"\{([a-z_]+)\}")


class GapDataError(ValueError):
    """A gaps or targets file that breaks its layout: the message names the file and the place in it."""


@dataclass(frozen=True)
class GapSpec:
    reason: str
    closes: str
    closing_value_sets: tuple[str, ...] = ()
    example_codes: tuple[str, ...] = ()
    since_months: int = 0
    latest_value_sets: tuple[str, ...] = ()
    reason_with_result: str = ""
    reason_without_value: str = ""
    due_from: str = "my_end"
    due_days: int = 0

    def due(self, year: int, episode_date: dt.date | None = None) -> dt.date | None:
        if self.due_from == "episode":
            return None if episode_date is None else episode_date + dt.timedelta(days=self.due_days)
        return dt.date(year, 12, 31) + dt.timedelta(days=self.due_days)

    def since(self, year: int) -> dt.date:
        months = year * 12 + self.since_months
        return dt.date(months // 12, months % 12 + 1, 1)

    def closes_text(self, year: int) -> str:
        return _fill(self.closes, _year_fields(self, year))


def default_spec(measure_name: str) -> GapSpec:
    """The wording for a rate without an entry in gaps.json: the definition's name."""
    return GapSpec(reason=f"not met: {measure_name}", closes=f"The service {measure_name} counts")


def _year_fields(spec: GapSpec, year: int) -> dict[str, str]:
    return {
        "year": str(year),
        "prior_year": str(year - 1),
        "my_end": f"{year}-12-31",
        "since": spec.since(year).isoformat(),
    }


def _fill(template: str, fields: dict[str, str]) -> str:
    return _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), template)


def _data_path(name: str) -> Path:
    return Path(str(resources.files("openipa.quality") / "data" / name))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GapDataError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise GapDataError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from None


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise GapDataError(f"{where}: expected a text")
    for name in _FIELD.findall(value):
        if name not in PLACEHOLDERS:
            raise GapDataError(f"{where}: unknown placeholder {{{name}}}")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise GapDataError(f"{where}: expected a list of texts")
    return tuple(value)


def _int(value: Any, where: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise GapDataError(f"{where}: expected a whole number")
    return value


def _spec(raw: Any, where: str) -> GapSpec:
    if not isinstance(raw, dict):
        raise GapDataError(f"{where}: expected an object")
    unknown = set(raw) - {"reason", "since", "latest_result", "reason_with_result", "reason_without_value",
                          "closes", "closing_value_sets", "example_codes", "due"}  # fmt: skip
    if unknown:
        raise GapDataError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    since = raw.get("since") or {}
    if not isinstance(since, dict) or set(since) - {"years", "months"}:
        raise GapDataError(f"{where}.since: expected {{years, months}}")
    latest = raw.get("latest_result") or {}
    if not isinstance(latest, dict):
        raise GapDataError(f"{where}.latest_result: expected {{value_sets}}")
    latest_sets = _texts(latest.get("value_sets"), f"{where}.latest_result.value_sets")
    with_result = _text(
        raw.get("reason_with_result"), f"{where}.reason_with_result", required=bool(latest_sets)
    )
    due = raw.get("due")
    if not isinstance(due, dict) or due.get("from") not in ("my_end", "episode"):
        raise GapDataError(f"{where}.due.from: expected 'my_end' or 'episode'")
    return GapSpec(
        reason=_text(raw.get("reason"), f"{where}.reason"),
        closes=_text(raw.get("closes"), f"{where}.closes"),
        closing_value_sets=_texts(raw.get("closing_value_sets"), f"{where}.closing_value_sets"),
        example_codes=_texts(raw.get("example_codes"), f"{where}.example_codes"),
        since_months=12 * _int(since.get("years"), f"{where}.since.years")
        + _int(since.get("months"), f"{where}.since.months"),
        latest_value_sets=latest_sets,
        reason_with_result=with_result,
        reason_without_value=_text(
            raw.get("reason_without_value"), f"{where}.reason_without_value", required=False
        ),
        due_from=due["from"],
        due_days=_int(due.get("days"), f"{where}.due.days"),
    )


def load_gap_specs(year: int, path: Path | None = None) -> dict[tuple[str, str], GapSpec]:
    """The gap wording in force in measurement year ``year``: (measure, rate) -> GapSpec."""
    path = path or _data_path("gaps.json")
    doc = _read(path)
    versions = doc.get("versions") if isinstance(doc, dict) else None
    if not isinstance(versions, list):
        raise GapDataError(f"{path}: $.versions: expected a list")
    found: dict[tuple[str, str], GapSpec] = {}
    for i, version in enumerate(versions):
        where = f"{path}: $.versions[{i}]"
        if not isinstance(version, dict):
            raise GapDataError(f"{where}: expected an object")
        first = _int(version.get("from_year"), f"{where}.from_year")
        last = version.get("to_year")
        if last is not None:
            last = _int(last, f"{where}.to_year")
        rates = version.get("rates")
        if not isinstance(rates, dict):
            raise GapDataError(f"{where}.rates: expected an object")
        specs = {}
        for measure, per_rate in rates.items():
            if not isinstance(per_rate, dict):
                raise GapDataError(f"{where}.rates.{measure}: expected an object")
            for rate, raw in per_rate.items():
                specs[(measure, rate)] = _spec(raw, f"{where}.rates.{measure}.{rate}")
        if first <= year and (last is None or year <= last):
            found.update(specs)
    return found


# -- targets and stars


@dataclass(frozen=True)
class Target:
    target: Decimal
    cut_points: tuple[Decimal, Decimal, Decimal, Decimal]
    """The lowest rate for 2, 3, 4 and 5 stars; an inverse rate's: the highest."""

    def stars(self, rate: Decimal | None, inverse: bool) -> int | None:
        if rate is None:
            return None
        if inverse:
            return 1 + sum(1 for cut in self.cut_points if rate <= cut)
        return 1 + sum(1 for cut in self.cut_points if rate >= cut)

    def met(self, rate: Decimal | None, inverse: bool) -> bool | None:
        if rate is None:
            return None
        return rate <= self.target if inverse else rate >= self.target


def _fraction(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value)) if isinstance(value, str) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        raise GapDataError(f'{where}: expected a rate from "0" to "1" as a text ("0.72")')
    return number


def load_targets(year: int, path: Path | None = None) -> dict[tuple[str, str], Target]:
    """The IPA's targets and star cut points for measurement year ``year`` (empty when the file has none)."""
    path = path or _data_path("targets.json")
    doc = _read(path)
    years = doc.get("years") if isinstance(doc, dict) else None
    if not isinstance(years, dict):
        raise GapDataError(f"{path}: $.years: expected an object")
    raw_year = years.get(str(year))
    if raw_year is None:
        return {}
    if not isinstance(raw_year, dict):
        raise GapDataError(f"{path}: $.years.{year}: expected an object")
    found = {}
    for measure, per_rate in raw_year.items():
        if not isinstance(per_rate, dict):
            raise GapDataError(f"{path}: $.years.{year}.{measure}: expected an object")
        for rate, raw in per_rate.items():
            where = f"{path}: $.years.{year}.{measure}.{rate}"
            if not isinstance(raw, dict) or not isinstance(raw.get("stars"), list) or len(raw["stars"]) != 4:
                raise GapDataError(f"{where}: expected {{target, stars: [2, 3, 4 and 5 star cut points]}}")
            cuts = tuple(_fraction(v, f"{where}.stars[{i}]") for i, v in enumerate(raw["stars"]))
            ascending = all(a < b for a, b in itertools.pairwise(cuts))
            descending = all(a > b for a, b in itertools.pairwise(cuts))
            if not (ascending or descending):
                raise GapDataError(f"{where}.stars: cut points must rise (or fall, for an inverse rate)")
            found[(measure, rate)] = Target(_fraction(raw.get("target"), f"{where}.target"), cuts)  # type: ignore[arg-type]
    return found


# -- gap columns of a run's results


def _value_text(column: str) -> pl.Expr:
    v = pl.col(column)
    whole = v.round(0) == v
    return (
        pl.when(v.is_null())
        .then(pl.lit(""))
        .when(whole)
        .then(v.cast(pl.Int64).cast(pl.String))
        .otherwise(v.round(2).cast(pl.String))
    )


def _template(template: str, fixed: dict[str, str], columns: dict[str, pl.Expr]) -> pl.Expr:
    parts: list[pl.Expr] = []
    at = 0
    for match in _FIELD.finditer(template):
        if match.start() > at:
            parts.append(pl.lit(template[at : match.start()]))
        name = match.group(1)
        if name in columns:
            parts.append(columns[name].fill_null(""))
        else:
            parts.append(pl.lit(fixed.get(name, match.group(0))))
        at = match.end()
    if at < len(template):
        parts.append(pl.lit(template[at:]))
    return pl.concat_str(parts) if parts else pl.lit("")


def gap_columns(
    results: pl.DataFrame,
    rates: pl.DataFrame,
    events: pl.DataFrame,
    units: pl.DataFrame,
    specs: dict[tuple[str, str], GapSpec],
    names: dict[str, str],
    year: int,
) -> pl.DataFrame:
    """``results`` (the engine's RESULT_SCHEMA) with ``gap``, ``gap_reason`` and ``gap_due``.

    ``rates``: the engine's RATE_SCHEMA (``inverse``); ``events``: the coded events (member_id, value_set,
    date, evidence_id, value) for episode dates and latest results; ``units``: (evidence_id, unit);
    ``names``: measure id -> name."""
    inverse = rates.select("measure", "rate", "inverse")
    frame = results.join(inverse, on=["measure", "rate"], how="left").with_columns(
        pl.when(pl.col("inverse").fill_null(False))
        .then(pl.col("denominator") & pl.col("numerator"))
        .otherwise(pl.col("denominator") & ~pl.col("numerator"))
        .alias("gap")
    )
    episodes = frame.select(pl.col("episode_id").alias("evidence_id")).drop_nulls().unique()
    dates = (
        events.join(episodes, on="evidence_id", how="semi")
        .group_by("evidence_id")
        .agg(pl.col("date").min().alias("episode_date"))
    )
    frame = frame.join(dates, left_on="episode_id", right_on="evidence_id", how="left")
    parts = []
    my_start, my_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    for (measure, rate), group in frame.partition_by(["measure", "rate"], as_dict=True).items():
        spec = specs.get((str(measure), str(rate))) or default_spec(names.get(str(measure), str(measure)))
        fixed = {**_year_fields(spec, year), "measure": names.get(str(measure), str(measure))}
        columns = {"episode_date": pl.col("episode_date").dt.to_string("%Y-%m-%d")}
        group = group.with_columns(
            pl.lit(None, dtype=pl.Date).alias("result_date"),
            pl.lit(None, dtype=pl.Float64).alias("result_value"),
            pl.lit(None, dtype=pl.String).alias("result_unit"),
        )
        reason = _template(spec.reason, fixed, columns)
        if spec.latest_value_sets:
            latest = (
                events.filter(
                    pl.col("value_set").is_in(spec.latest_value_sets)
                    & pl.col("date").is_between(my_start, my_end)
                )
                .with_columns(pl.col("value").is_not_null().alias("has_value"))
                .sort("member_id", "date", "has_value", "evidence_id")
                .group_by("member_id", maintain_order=True)
                .last()
                .join(units, on="evidence_id", how="left")
                .select(
                    "member_id",
                    pl.col("date").alias("latest_date"),
                    pl.col("value").alias("latest_value"),
                    pl.col("unit").alias("latest_unit"),
                )
            )
            group = (
                group.join(latest, on="member_id", how="left")
                .with_columns(
                    pl.col("latest_date").alias("result_date"),
                    pl.col("latest_value").alias("result_value"),
                    pl.col("latest_unit").alias("result_unit"),
                )
                .drop("latest_date", "latest_value", "latest_unit")
            )
            with_result = _template(
                spec.reason_with_result,
                fixed,
                {
                    **columns,
                    "date": pl.col("result_date").dt.to_string("%Y-%m-%d"),
                    "value": _value_text("result_value"),
                    "unit": pl.col("result_unit"),
                },
            )
            without_value = (
                _template(
                    spec.reason_without_value,
                    fixed,
                    {**columns, "date": pl.col("result_date").dt.to_string("%Y-%m-%d")},
                )
                if spec.reason_without_value
                else reason
            )
            reason = (
                pl.when(pl.col("result_date").is_not_null() & pl.col("result_value").is_not_null())
                .then(with_result)
                .when(pl.col("result_date").is_not_null())
                .then(without_value)
                .otherwise(reason)
            )
        if spec.due_from == "episode":
            due = pl.col("episode_date") + pl.duration(days=spec.due_days)
        else:
            due = pl.lit(spec.due(year))
        parts.append(
            group.with_columns(
                pl.when(pl.col("gap")).then(reason).otherwise(pl.lit("")).alias("gap_reason"),
                pl.when(pl.col("gap")).then(due).otherwise(pl.lit(None, dtype=pl.Date)).alias("gap_due"),
            ).drop("result_date", "result_value", "result_unit")
        )
    if not parts:
        return frame.with_columns(
            pl.lit("").alias("gap_reason"), pl.lit(None, dtype=pl.Date).alias("gap_due")
        )
    return pl.concat(parts, how="vertical_relaxed").drop("inverse", "episode_date")
