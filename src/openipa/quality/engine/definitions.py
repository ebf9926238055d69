"""Measure definitions as data, one JSON file per measurement year (``openipa/quality/data/measures/<year>.json``).

A file holds ``measurement_year``, ``shared_exclusions`` (name -> exclusion) and ``measures``. A measure:

* ``id``, ``name``;
* ``population``: either ``age_as_of`` (a date reference), ``age_min``, ``age_max`` (whole years, inclusive)
  and optionally ``sex`` (a list of ``F``/``M``), or ``turns_months`` N: members whose N-month birthday falls in
  the measurement year; that birthday is then the member's anchor date; or ``episodes`` (``events``,
  optional ``same_row_as``, ``period`` relative to the measurement year, ``dedupe_days``): one unit per
  index event (an ED visit, a discharge) on a distinct date, whose date is the anchor; an index event within
  ``dedupe_days`` after a kept one of the same member is dropped (the first is kept, then the first after the days it covers...). Ages are then as of the episode date;
* ``enrollment``: ``segments`` (each ``start``, ``end``, ``max_gaps``, ``max_gap_days``: at most that many gaps,
  none longer than that many days, inside the segment) and ``enrolled_on`` (a day the member must be covered);
* ``denominator`` (optional condition the eligible population must meet), ``exclusions`` (names of shared
  exclusions or inline ``{"reason", "when"}``; the first that applies is the member's reason), ``rates`` (each
  ``id``, ``numerator`` condition, optional ``inverse`` for a rate where lower is better, optional
  ``denominator`` condition narrowing the rate's rows, see below).

A date reference is ``{"from": "my_start"|"my_end"|"birth"|"anchor", "years": y, "months": m, "days": d}``
(offsets applied in that order; ``anchor`` is the population's anchor: ``age_as_of`` or the N-month
birthday). A period is ``{"start": ref, "end": ref}``, both days included.

Conditions (each yields, per member who meets it, the evidence ids behind it):

* ``{"events": [value sets], "period": P, "min_dates": n, "same_row_as": [value sets]}``: coded events
  (claim diagnoses and procedures, pharmacy NDCs, clinical facts, encounters) in any of the value sets, dated
  in P, on at least n distinct dates; with ``same_row_as``, only events whose source row (the same claim line)
  also carries a code of those value sets (a visit with a mental-health diagnosis);
* ``{"any": [conditions]}``, ``{"all": [conditions]}``;
* ``{"age": {"min": a, "max": b}}``: age as of the anchor date;
* ``{"sex": ["F"]}``: the member's sex is one of those listed (with ``age``, an age range that differs by sex:
  SPC's men 21-75 and women 40-75);
* ``{"death": P}``: the member died in P;
* ``{"latest": {"period": P, "components": [...], "missing_is_hit": false}}``: the latest date in P on which
  every component has a reading; on that date each component's representative reading is its lowest. A
  component has ``numeric`` value sets (readings with a value) and a threshold ``below`` x (value < x) or
  ``above`` x (value > x), and coded results in ``meets`` / ``fails`` value sets (CPT Category II). The
  condition holds when every component's representative meets its threshold; with ``missing_is_hit`` a member
  with no complete reading in P also meets it (inverse rates such as GSD > 9%);
* ``{"pdc": {"events": [value sets], "period": P, "at_least_percent": p}}``: proportion of days covered by
  pharmacy fills of those value sets. The treatment period runs from the first fill dated in P (the index
  prescription start date, IPSD) to the end of P; each fill covers ``days_supply`` days from its fill date;
  of fills on the same day the longest supply counts; a fill dated while an earlier one still covers the
  member starts the day after that coverage ends (shifted forward); days after the end of P do not count.
  The condition holds when days covered / days in the treatment period >= p% (compared exactly, in whole
  numbers). Its evidence is the fills in the treatment period.

A rate may have its own ``denominator`` condition (SPC Adherence: members who received a statin): only the
measure's eligible members who also meet it have a row for that rate, and its evidence joins theirs.

``load_measures(year)`` reads the shipped file; ``parse_measures(doc, source)`` validates any document.
Errors are ``DefinitionError`` naming the file and the JSON path of the bad field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any, Literal

Anchor = Literal["my_start", "my_end", "birth", "anchor"]
_ANCHORS = ("my_start", "my_end", "birth", "anchor")
_CONDITION_KINDS = ("events", "any", "all", "age", "sex", "death", "latest", "pdc")


class DefinitionError(ValueError):
    """A measure definition that cannot be used: the message names the file and the field's JSON path."""


@dataclass(frozen=True)
class DateRef:
    base: Anchor
    years: int = 0
    months: int = 0
    days: int = 0


@dataclass(frozen=True)
class Period:
    start: DateRef
    end: DateRef


@dataclass(frozen=True)
class Events:
    value_sets: tuple[str, ...]
    period: Period
    min_dates: int = 1
    same_row_as: tuple[str, ...] = ()
    """When given, only events whose source row (claim line, clinical row...) also has a code in these."""


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Age:
    minimum: int | None
    maximum: int | None


@dataclass(frozen=True)
class Sex:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Death:
    period: Period


@dataclass(frozen=True)
class Pdc:
    """Proportion of days covered by fills of ``value_sets`` from the first fill in ``period`` to its end."""

    value_sets: tuple[str, ...]
    period: Period
    numerator: int
    denominator: int
    """The threshold ``at_least_percent`` / 100 as an exact fraction numerator / denominator."""


@dataclass(frozen=True)
class Component:
    name: str
    numeric: tuple[str, ...]
    threshold: float
    below: bool
    """True: a reading meets when value < threshold; False: when value > threshold."""
    meets: tuple[str, ...]
    fails: tuple[str, ...]


@dataclass(frozen=True)
class Latest:
    period: Period
    components: tuple[Component, ...]
    missing_is_hit: bool = False


Condition = Events | AnyOf | AllOf | Age | Sex | Death | Latest | Pdc


@dataclass(frozen=True)
class Segment:
    start: DateRef
    end: DateRef
    max_gaps: int
    max_gap_days: int


@dataclass(frozen=True)
class Enrollment:
    segments: tuple[Segment, ...]
    enrolled_on: DateRef


@dataclass(frozen=True)
class Exclusion:
    reason: str
    when: Condition


@dataclass(frozen=True)
class Rate:
    id: str
    numerator: Condition
    inverse: bool = False
    denominator: Condition | None = None
    """When given, only the measure's eligible units that also meet it are in this rate."""


@dataclass(frozen=True)
class Episodes:
    """An episode-based population: one unit per index event (an ED visit, a discharge), not per member."""

    value_sets: tuple[str, ...]
    same_row_as: tuple[str, ...]
    period: Period
    dedupe_days: int
    """An index event within this many days after an earlier one of the member is not a new episode."""


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    age_as_of: DateRef | None
    age_min: int | None
    age_max: int | None
    sex: tuple[str, ...] | None
    turns_months: int | None
    episodes: Episodes | None
    enrollment: Enrollment
    denominator: Condition | None
    exclusions: tuple[Exclusion, ...]
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class MeasureSet:
    year: int
    measures: tuple[Measure, ...]
    source: str

    def value_sets(self) -> frozenset[str]:
        """Every value set a measure of the set refers to."""
        names: set[str] = set()
        for measure in self.measures:
            conditions: list[Condition] = [e.when for e in measure.exclusions]
            conditions += [r.numerator for r in measure.rates]
            conditions += [r.denominator for r in measure.rates if r.denominator is not None]
            if measure.denominator is not None:
                conditions.append(measure.denominator)
            if measure.episodes is not None:
                names |= set(measure.episodes.value_sets) | set(measure.episodes.same_row_as)
            for condition in conditions:
                names |= condition_value_sets(condition)
        return frozenset(names)


def condition_value_sets(condition: Condition) -> set[str]:
    if isinstance(condition, Events):
        return set(condition.value_sets) | set(condition.same_row_as)
    if isinstance(condition, AnyOf | AllOf):
        out: set[str] = set()
        for inner in condition.conditions:
            out |= condition_value_sets(inner)
        return out
    if isinstance(condition, Latest):
        return {name for c in condition.components for name in (*c.numeric, *c.meets, *c.fails)}
    if isinstance(condition, Pdc):
        return set(condition.value_sets)
    return set()


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> DefinitionError:
        return DefinitionError(f"{self.source}: {where}: {message}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def field(self, obj: dict[str, Any], key: str, where: str) -> Any:
        if key not in obj:
            raise self.fail(f"{where}.{key}", "missing")
        return obj[key]

    def integer(self, value: Any, where: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be at least {minimum}, got {value}")
        return int(value)

    def opt_int(self, obj: dict[str, Any], key: str, where: str) -> int | None:
        value = obj.get(key)
        return None if value is None else self.integer(value, f"{where}.{key}", 0)

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {value!r}")
        return value

    def names(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "expected a non-empty list of value-set names")
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(value))

    def date_ref(self, value: Any, where: str) -> DateRef:
        obj = self.obj(value, where)
        base = self.field(obj, "from", where)
        if base not in _ANCHORS:
            raise self.fail(f"{where}.from", f"expected one of {', '.join(_ANCHORS)}, got {base!r}")
        unknown = set(obj) - {"from", "years", "months", "days"}
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        offsets = [self.integer(obj.get(k, 0), f"{where}.{k}") for k in ("years", "months", "days")]
        return DateRef(base, offsets[0], offsets[1], offsets[2])

    def period(self, value: Any, where: str) -> Period:
        obj = self.obj(value, where)
        return Period(
            self.date_ref(self.field(obj, "start", where), f"{where}.start"),
            self.date_ref(self.field(obj, "end", where), f"{where}.end"),
        )

    def component(self, value: Any, where: str) -> Component:
        obj = self.obj(value, where)
        if ("below" in obj) == ("above" in obj):
            raise self.fail(where, "give exactly one of below, above")
        key = "below" if "below" in obj else "above"
        threshold = obj[key]
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise self.fail(f"{where}.{key}", f"expected a number, got {threshold!r}")
        return Component(
            name=self.text(self.field(obj, "name", where), f"{where}.name"),
            numeric=self.names(self.field(obj, "numeric", where), f"{where}.numeric"),
            threshold=float(threshold),
            below=key == "below",
            meets=self.names(obj["meets"], f"{where}.meets") if "meets" in obj else (),
            fails=self.names(obj["fails"], f"{where}.fails") if "fails" in obj else (),
        )

    def condition(self, value: Any, where: str) -> Condition:
        obj = self.obj(value, where)
        kinds = [k for k in _CONDITION_KINDS if k in obj]
        if len(kinds) != 1:
            raise self.fail(where, f"expected exactly one of {', '.join(_CONDITION_KINDS)}")
        kind = kinds[0]
        if kind == "events":
            min_dates = self.integer(obj.get("min_dates", 1), f"{where}.min_dates", 1)
            return Events(
                self.names(obj["events"], f"{where}.events"),
                self.period(self.field(obj, "period", where), f"{where}.period"),
                min_dates,
                self.names(obj["same_row_as"], f"{where}.same_row_as") if "same_row_as" in obj else (),
            )
        if kind in ("any", "all"):
            items = obj[kind]
            if not isinstance(items, list) or not items:
                raise self.fail(f"{where}.{kind}", "expected a non-empty list of conditions")
            inner = tuple(self.condition(v, f"{where}.{kind}[{i}]") for i, v in enumerate(items))
            return AnyOf(inner) if kind == "any" else AllOf(inner)
        if kind == "age":
            age = self.obj(obj["age"], f"{where}.age")
            low, high = self.opt_int(age, "min", f"{where}.age"), self.opt_int(age, "max", f"{where}.age")
            if low is None and high is None:
                raise self.fail(f"{where}.age", "give min, max or both")
            return Age(low, high)
        if kind == "death":
            return Death(self.period(obj["death"], f"{where}.death"))
        if kind == "sex":
            values = self.names(obj["sex"], f"{where}.sex")
            bad = [v for v in values if v not in ("F", "M")]
            if bad:
                raise self.fail(f"{where}.sex", f"expected F or M, got {bad[0]!r}")
            return Sex(values)
        if kind == "pdc":
            return self.pdc(obj["pdc"], f"{where}.pdc")
        latest = self.obj(obj["latest"], f"{where}.latest")
        components = self.field(latest, "components", f"{where}.latest")
        if not isinstance(components, list) or not components:
            raise self.fail(f"{where}.latest.components", "expected a non-empty list")
        return Latest(
            self.period(self.field(latest, "period", f"{where}.latest"), f"{where}.latest.period"),
            tuple(self.component(c, f"{where}.latest.components[{i}]") for i, c in enumerate(components)),
            bool(latest.get("missing_is_hit", False)),
        )

    def pdc(self, value: Any, where: str) -> Pdc:
        obj = self.obj(value, where)
        unknown = set(obj) - {"events", "period", "at_least_percent"}
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        raw = self.field(obj, "at_least_percent", where)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 100:
            raise self.fail(
                f"{where}.at_least_percent", f"expected a number above 0 and at most 100, got {raw!r}"
            )
        share = Fraction(str(raw)) / 100
        return Pdc(
            self.names(self.field(obj, "events", where), f"{where}.events"),
            self.period(self.field(obj, "period", where), f"{where}.period"),
            share.numerator,
            share.denominator,
        )

    def exclusion(self, value: Any, where: str, shared: dict[str, Exclusion]) -> Exclusion:
        if isinstance(value, str):
            if value not in shared:
                raise self.fail(where, f"unknown shared exclusion {value!r}")
            return shared[value]
        obj = self.obj(value, where)
        return Exclusion(
            self.text(self.field(obj, "reason", where), f"{where}.reason"),
            self.condition(self.field(obj, "when", where), f"{where}.when"),
        )

    def measure(self, value: Any, where: str, shared: dict[str, Exclusion]) -> Measure:
        obj = self.obj(value, where)
        ident = self.text(self.field(obj, "id", where), f"{where}.id")
        where = f"{where}({ident})"
        pop = self.obj(self.field(obj, "population", where), f"{where}.population")
        turns = self.opt_int(pop, "turns_months", f"{where}.population")
        age_as_of = None
        episodes = None
        if "episodes" in pop:
            at = f"{where}.population.episodes"
            raw = self.obj(pop["episodes"], at)
            period = self.period(self.field(raw, "period", at), f"{at}.period")
            for side, ref in (("start", period.start), ("end", period.end)):
                if ref.base not in ("my_start", "my_end"):
                    raise self.fail(f"{at}.period.{side}.from", "must be my_start or my_end")
            episodes = Episodes(
                self.names(self.field(raw, "events", at), f"{at}.events"),
                self.names(raw["same_row_as"], f"{at}.same_row_as") if "same_row_as" in raw else (),
                period,
                self.integer(raw.get("dedupe_days", 0), f"{at}.dedupe_days", 0),
            )
            if turns is not None or "age_as_of" in pop:
                raise self.fail(f"{where}.population", "episodes take their age on the episode date")
        elif turns is None:
            age_as_of = self.date_ref(
                self.field(pop, "age_as_of", f"{where}.population"), f"{where}.population.age_as_of"
            )
            if age_as_of.base in ("birth", "anchor"):
                raise self.fail(f"{where}.population.age_as_of.from", "must be my_start or my_end")
        elif "age_as_of" in pop:
            raise self.fail(f"{where}.population", "give turns_months or age_as_of, not both")
        sex = None
        if "sex" in pop:
            sex = self.names(pop["sex"], f"{where}.population.sex")
            bad = [s for s in sex if s not in ("F", "M")]
            if bad:
                raise self.fail(f"{where}.population.sex", f"expected F or M, got {bad[0]!r}")
        enr = self.obj(self.field(obj, "enrollment", where), f"{where}.enrollment")
        raw_segments = self.field(enr, "segments", f"{where}.enrollment")
        if not isinstance(raw_segments, list) or not raw_segments:
            raise self.fail(f"{where}.enrollment.segments", "expected a non-empty list")
        segments = []
        for i, raw in enumerate(raw_segments):
            at = f"{where}.enrollment.segments[{i}]"
            seg = self.obj(raw, at)
            segments.append(
                Segment(
                    self.date_ref(self.field(seg, "start", at), f"{at}.start"),
                    self.date_ref(self.field(seg, "end", at), f"{at}.end"),
                    self.integer(self.field(seg, "max_gaps", at), f"{at}.max_gaps", 0),
                    self.integer(self.field(seg, "max_gap_days", at), f"{at}.max_gap_days", 0),
                )
            )
        enrollment = Enrollment(
            tuple(segments),
            self.date_ref(
                self.field(enr, "enrolled_on", f"{where}.enrollment"), f"{where}.enrollment.enrolled_on"
            ),
        )
        denominator = None
        if obj.get("denominator") is not None:
            denominator = self.condition(obj["denominator"], f"{where}.denominator")
        raw_exclusions = obj.get("exclusions", [])
        if not isinstance(raw_exclusions, list):
            raise self.fail(f"{where}.exclusions", "expected a list")
        exclusions = tuple(
            self.exclusion(v, f"{where}.exclusions[{i}]", shared) for i, v in enumerate(raw_exclusions)
        )
        raw_rates = self.field(obj, "rates", where)
        if not isinstance(raw_rates, list) or not raw_rates:
            raise self.fail(f"{where}.rates", "expected a non-empty list")
        rates = []
        for i, raw in enumerate(raw_rates):
            at = f"{where}.rates[{i}]"
            rate = self.obj(raw, at)
            rates.append(
                Rate(
                    self.text(self.field(rate, "id", at), f"{at}.id"),
                    self.condition(self.field(rate, "numerator", at), f"{at}.numerator"),
                    bool(rate.get("inverse", False)),
                    self.condition(rate["denominator"], f"{at}.denominator")
                    if rate.get("denominator") is not None
                    else None,
                )
            )
        return Measure(
            id=ident,
            name=self.text(self.field(obj, "name", where), f"{where}.name"),
            age_as_of=age_as_of,
            age_min=self.opt_int(pop, "age_min", f"{where}.population"),
            age_max=self.opt_int(pop, "age_max", f"{where}.population"),
            sex=sex,
            turns_months=turns,
            episodes=episodes,
            enrollment=enrollment,
            denominator=denominator,
            exclusions=exclusions,
            rates=tuple(rates),
        )


def parse_measures(doc: Any, source: str) -> MeasureSet:
    """Validate a measure-definition document (already parsed JSON); ``source`` names it in errors."""
    reader = _Reader(source)
    root = reader.obj(doc, "$")
    year = reader.integer(reader.field(root, "measurement_year", "$"), "$.measurement_year", 1900)
    raw_shared = reader.obj(root.get("shared_exclusions", {}), "$.shared_exclusions")
    shared = {name: reader.exclusion(v, f"$.shared_exclusions.{name}", {}) for name, v in raw_shared.items()}
    raw_measures = reader.field(root, "measures", "$")
    if not isinstance(raw_measures, list) or not raw_measures:
        raise reader.fail("$.measures", "expected a non-empty list")
    measures = tuple(reader.measure(v, f"$.measures[{i}]", shared) for i, v in enumerate(raw_measures))
    seen: set[str] = set()
    for measure in measures:
        if measure.id in seen:
            raise reader.fail("$.measures", f"measure id {measure.id!r} appears twice")
        seen.add(measure.id)
    return MeasureSet(year, measures, source)


def read_measures(path: Path) -> MeasureSet:
    """A measure-definition file at ``path``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot be read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from exc
    return parse_measures(doc, str(path))


def available_years() -> list[int]:
    folder = resources.files("openipa.quality") / "data" / "measures"
    return sorted(
        int(e.name[:-5]) for e in folder.iterdir() if e.name.endswith(".json") and e.name[:-5].isdigit()
    )


def load_measures(year: int) -> MeasureSet:
    """The shipped definitions for measurement year ``year``."""
    if year not in available_years():
        years = ", ".join(str(y) for y in available_years())
        raise DefinitionError(f"no measure definitions for measurement year {year} (available: {years})")
    path = resources.files("openipa.quality") / "data" / "measures" / f"{year}.json"
    measures = read_measures(Path(str(path)))
    if measures.year != year:
        raise DefinitionError(f"{path}: $.measurement_year: {measures.year}, expected {year}")
    return measures
