"""Reads for quality measurement: the engine's input frames from the database, and the rates of a measurement
year. IPA-wide figures for quality staff (VIEW_CLINICAL, not practice users); the per-member results and care
gaps, which are member data, come with their own scoped and audited reads.

Sources: members (birth date, sex, death), eligibility spans, claim lines (with their claim's diagnoses; voids
and reversed claims left out), and clinical records of linked patients (observations, procedures,
immunizations as `clinical`; encounters as `encounters`), and pharmacy fills paid and not reversed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import Count, Q, QuerySet

from openipa.claims.models import Claim, ClaimLine
from openipa.clinical.models import ClinicalRecord, PharmacyFill
from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.frames import query_frame
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment
from openipa.network.models import Practice, Provider
from openipa.quality.engine import MeasureInputs, evaluate, load_measures, starter_value_sets
from openipa.quality.engine.valuesets import normalize_system
from openipa.quality.gapdata import GapSpec, Target, default_spec, load_gap_specs, load_targets
from openipa.quality.models import MeasureResult, QualityRun, RateResult


def _frame(rows: Any, schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


@dataclass(frozen=True)
class LeftOut:
    """Rows the engine cannot take, left out of its inputs (counted on the run)."""

    members_sex_unknown: int = 0
    clinical_unknown_system: int = 0

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if v}


def _known_systems(frame: pl.DataFrame) -> pl.Expr:
    known = [s for s in frame["code_system"].unique().to_list() if normalize_system(s) is not None]
    return pl.col("code_system").is_in(known)


def measure_inputs() -> MeasureInputs:
    """The engine's frames from the database (a batch read: no actor; the callers check it)."""
    return measure_inputs_and_left_out()[0]


def measure_inputs_and_left_out(through: dt.date | None = None) -> tuple[MeasureInputs, LeftOut]:
    """The engine's frames, leaving out what it refuses: members whose sex is unknown (``U``: the engine places
    members by F/M) and clinical records in a code system it does not know (a local lab code: no value set
    could match it). How many were left out comes with them.

    ``through``: only what was known for that day: claim lines, clinical records and fills dated on or before
    it, eligibility spans starting on or before it, and deaths on or before it (a year-to-date run as of a
    month's end is the same run whenever it is made, and runs through the year show the rates climbing)."""
    members = _frame(Member.objects.values_list("pk", "date_of_birth", "sex", "date_of_death"),
                     {"member_id": pl.Int64, "birth_date": pl.Date, "sex": pl.String, "death_date": pl.Date})  # fmt: skip
    enrollment = _frame(EligibilitySpan.objects.values_list("member_id", "valid_from", "valid_to"),
                        {"member_id": pl.Int64, "start_date": pl.Date, "end_date": pl.Date})  # fmt: skip
    lines = (
        ClaimLine.objects.filter(claim__member__isnull=False)
        .exclude(claim__status=Claim.Status.REVERSED)
        .exclude(claim__frequency=Claim.Frequency.VOID)
        .values_list("pk", "claim__member_id", "service_from", "claim__diagnoses", "code", "place_of_service")
    )
    claims = _frame(
        ((pk, member, day, [code for _qualifier, code in (diagnoses or [])], [code] if code else [], pos)
         for pk, member, day, diagnoses, code, pos in lines.iterator(chunk_size=20_000)),
        {"claim_line_id": pl.Int64, "member_id": pl.Int64, "service_date": pl.Date,
         "diagnosis_codes": pl.List(pl.String), "procedure_codes": pl.List(pl.String), "place_of_service": pl.String},
    )  # fmt: skip
    # a record without a code (an HL7 ADT encounter) has nothing a value set could match
    records = ClinicalRecord.objects.filter(member__isnull=False, date__isnull=False).exclude(code_system="")
    clinical = _frame(
        ((pk, member, system, code, None if value is None else float(value), unit, day)
         for pk, member, system, code, value, unit, day in records.exclude(kind="encounter").values_list(
             "pk", "member_id", "code_system", "code", "value", "unit", "date").iterator(chunk_size=20_000)),
        {"clinical_id": pl.Int64, "member_id": pl.Int64, "code_system": pl.String, "code": pl.String,
         "value": pl.Float64, "unit": pl.String, "observed_date": pl.Date},
    )  # fmt: skip
    encounters = _frame(
        records.filter(kind="encounter").values_list("pk", "member_id", "code_system", "code", "date"),
        {"encounter_id": pl.Int64, "member_id": pl.Int64, "code_system": pl.String, "code": pl.String,
         "encounter_date": pl.Date},
    )  # fmt: skip
    reversed_ids = PharmacyFill.objects.filter(status=PharmacyFill.Status.REVERSED).values("claim_id")
    fills = (
        PharmacyFill.objects.filter(member__isnull=False, status=PharmacyFill.Status.PAID)
        .exclude(claim_id__in=reversed_ids)
        .values_list("pk", "member_id", "ndc", "fill_date", "days_supply")
    )
    pharmacy = _frame(fills, {"fill_id": pl.Int64, "member_id": pl.Int64, "ndc": pl.String, "fill_date": pl.Date,
                              "days_supply": pl.Int64})  # fmt: skip
    known_sex = pl.col("sex").is_in(["F", "M"])
    left_out = LeftOut(
        members_sex_unknown=members.height - members.filter(known_sex).height,
        clinical_unknown_system=clinical.height
        - clinical.filter(_known_systems(clinical)).height
        + encounters.height
        - encounters.filter(_known_systems(encounters)).height,
    )
    members = members.filter(known_sex)
    clinical = clinical.filter(_known_systems(clinical))
    encounters = encounters.filter(_known_systems(encounters))
    if through is not None:
        day = pl.lit(through, dtype=pl.Date)
        members = members.with_columns(
            pl.when(pl.col("death_date") <= day).then(pl.col("death_date")).alias("death_date")
        )
        enrollment = enrollment.filter(pl.col("start_date") <= day)
        claims = claims.filter(pl.col("service_date") <= day)
        clinical = clinical.filter(pl.col("observed_date") <= day)
        encounters = encounters.filter(pl.col("encounter_date") <= day)
        pharmacy = pharmacy.filter(pl.col("fill_date") <= day)
    return MeasureInputs(members, enrollment, claims, pharmacy, clinical, encounters), left_out


@dataclass(frozen=True)
class QualityRates:
    year: int
    rates: pl.DataFrame
    """The engine's RATE_SCHEMA: measure, rate, eligible, excluded, denominator, numerator, rate_value."""
    members: int


def quality_rates(actor: Actor | None, *, year: int) -> QualityRates:
    """Every measure's rates for a measurement year, with the shipped definitions and the open starter value
    sets. Quality staff only (a practice user is refused: these are network-wide)."""
    if actor is not None:
        require(actor, Perm.VIEW_CLINICAL)
        if is_practice_scoped(actor):
            raise PermissionDenied("network-wide quality rates are for IPA staff")
    inputs = measure_inputs()
    results = evaluate(inputs, load_measures(year), starter_value_sets(year))
    return QualityRates(year=year, rates=results.rates, members=inputs.members.height)


# -- stored runs (ADR 0015): runs, rates against targets, care gaps, a member's results, supplemental data


def attribution_on(as_of: dt.date) -> pl.DataFrame:
    """Each member's PCP and practice (the PCP assignment in force on ``as_of``, the latest begun) and payer
    (of the product of the eligibility span in force that day, the latest begun): member_id, practice_id,
    pcp_id, payer_id. The batch form of ``membership.selectors.pcp_practice_on`` / ``coverage_on`` (ids only)."""
    in_force = Q(valid_from__lte=as_of) & (Q(valid_to__isnull=True) | Q(valid_to__gte=as_of))
    pcps = query_frame(
        PcpAssignment.objects.filter(in_force).order_by("member_id", "-valid_from", "-pk"),
        {"member_id": ("member_id", pl.Int64), "practice_id": ("practice_id", pl.Int64),
         "pcp_id": ("provider_id", pl.Int64)},
    ).unique("member_id", keep="first", maintain_order=True)  # fmt: skip
    payers = query_frame(
        EligibilitySpan.objects.filter(in_force).order_by("member_id", "-valid_from", "-pk"),
        {"member_id": ("member_id", pl.Int64), "payer_id": ("product__payer_id", pl.Int64)},
    ).unique("member_id", keep="first", maintain_order=True)
    return pcps.join(payers, on="member_id", how="full", coalesce=True)


def _require_view(actor: Actor) -> None:
    require(actor, Perm.VIEW_GAPS)


def _require_staff(actor: Actor) -> None:
    require(actor, Perm.VIEW_CLINICAL)
    if is_practice_scoped(actor):
        raise PermissionDenied("this is for IPA staff")


def can_run(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_CLINICAL) and not is_practice_scoped(actor)


def scoped_results(actor: Actor, run: QualityRun) -> QuerySet[MeasureResult]:
    """The run's results the actor may see: a practice-scoped actor, those attributed to its practice."""
    _require_view(actor)
    qs = MeasureResult.objects.filter(run=run)
    if is_practice_scoped(actor):
        qs = qs.filter(practice_id=scoped_practice_id(actor))
    return qs


def runs(actor: Actor, *, year: int | None = None, limit: int = 50) -> list[QualityRun]:
    """The latest stored runs (their counts and hashes: no member data)."""
    _require_view(actor)
    qs = QualityRun.objects.all()
    if year is not None:
        qs = qs.filter(measurement_year=year)
    return list(qs.order_by("-run_at", "-pk")[:limit])


def run_get(actor: Actor, run_id: int) -> QualityRun:
    _require_view(actor)
    try:
        return QualityRun.objects.get(pk=run_id)
    except QualityRun.DoesNotExist:
        raise NotFound(f"no quality run {run_id}") from None


@dataclass(frozen=True)
class RateRow:
    measure: str
    measure_name: str
    rate: str
    eligible: int
    excluded: int
    denominator: int
    numerator: int
    rate_value: Decimal | None
    inverse: bool
    target: Decimal | None = None
    stars: int | None = None
    met: bool | None = None

    @property
    def percent(self) -> Decimal | None:
        return None if self.rate_value is None else (100 * self.rate_value).quantize(Decimal("0.1"))

    @property
    def target_percent(self) -> Decimal | None:
        return None if self.target is None else (100 * self.target).quantize(Decimal("0.1"))

    @property
    def gaps(self) -> int:
        return self.numerator if self.inverse else self.denominator - self.numerator


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.000001"))


def _with_target(row: RateRow, targets: dict[tuple[str, str], Target]) -> RateRow:
    target = targets.get((row.measure, row.rate))
    if target is None:
        return row
    return RateRow(**{**row.__dict__, "target": target.target, "stars": target.stars(row.rate_value, row.inverse),
                      "met": target.met(row.rate_value, row.inverse)})  # fmt: skip


def _rate_meta(run_ids: list[int]) -> dict[tuple[int, str, str], RateResult]:
    return {(r.run_id, r.measure, r.rate): r for r in RateResult.objects.filter(run_id__in=run_ids)}


def _aggregate(qs: QuerySet[MeasureResult], *keys: str) -> list[dict[str, Any]]:
    return list(
        qs.values(*keys, "measure", "rate")
        .annotate(
            eligible=Count("pk"),
            excluded=Count("pk", filter=Q(excluded=True)),
            den=Count("pk", filter=Q(denominator=True)),
            num=Count("pk", filter=Q(numerator=True)),
        )
        .order_by(*keys, "measure", "rate")
    )


def rate_rows(actor: Actor, run: QualityRun) -> list[RateRow]:
    """The run's rates with the IPA's target and star level: the IPA's for staff; a practice-scoped actor's
    practice's own (computed from its attributed results)."""
    _require_view(actor)
    targets = load_targets(run.measurement_year)
    meta = _rate_meta([run.pk])
    if not is_practice_scoped(actor):
        rows = [RateRow(r.measure, r.measure_name, r.rate, r.eligible, r.excluded, r.denominator, r.numerator,
                        r.rate_value, r.inverse) for r in meta.values()]  # fmt: skip
    else:
        counts = {(a["measure"], a["rate"]): a for a in _aggregate(scoped_results(actor, run))}
        rows = []
        for (_run, measure, rate), r in meta.items():
            a = counts.get((measure, rate), {"eligible": 0, "excluded": 0, "den": 0, "num": 0})
            rows.append(RateRow(measure, r.measure_name, rate, a["eligible"], a["excluded"], a["den"], a["num"],
                                _ratio(a["num"], a["den"]), r.inverse))  # fmt: skip
    order = {key: i for i, key in enumerate((r.measure, r.rate) for r in meta.values())}
    rows.sort(key=lambda r: order.get((r.measure, r.rate), 0))
    return [_with_target(r, targets) for r in rows]


@dataclass(frozen=True)
class PracticeRates:
    practice_id: int | None
    practice: str
    rates: dict[tuple[str, str], RateRow]


def practice_rates(actor: Actor, run: QualityRun) -> list[PracticeRates]:
    """The run's rates per attributed practice (members without a PCP on the as-of date: one row 'No PCP'),
    with targets and star levels; a practice-scoped actor gets its own practice only."""
    _require_view(actor)
    targets = load_targets(run.measurement_year)
    meta = _rate_meta([run.pk])
    names = dict(Practice.objects.values_list("pk", "code"))
    by_practice: dict[int | None, dict[tuple[str, str], RateRow]] = {}
    for a in _aggregate(scoped_results(actor, run), "practice_id"):
        r = meta.get((run.pk, a["measure"], a["rate"]))
        inverse = bool(r and r.inverse)
        row = RateRow(a["measure"], r.measure_name if r else "", a["rate"], a["eligible"], a["excluded"],
                      a["den"], a["num"], _ratio(a["num"], a["den"]), inverse)  # fmt: skip
        by_practice.setdefault(a["practice_id"], {})[(row.measure, row.rate)] = _with_target(row, targets)
    result = [PracticeRates(pid, names.get(pid, "No PCP") if pid else "No PCP", rates)
              for pid, rates in by_practice.items()]  # fmt: skip
    return sorted(result, key=lambda p: (p.practice_id is None, p.practice))


@dataclass(frozen=True)
class Trend:
    runs: list[QualityRun]
    values: dict[tuple[str, str], list[Decimal | None]]
    """(measure, rate) -> the rate in each run (None where it had no denominator)."""


def trend(actor: Actor, *, year: int, limit: int = 12) -> Trend:
    """The rates of measurement year ``year`` as of its latest ``limit`` as-of dates, earliest first (runs are
    year-to-date: of several runs as of one day, the latest made stands for it): the IPA's for staff, the
    actor's practice's for a practice-scoped actor."""
    _require_view(actor)
    latest_per_day: dict[dt.date, QualityRun] = {}
    for run in QualityRun.objects.filter(measurement_year=year).order_by("-as_of", "-run_at", "-pk"):
        if run.as_of not in latest_per_day:
            if len(latest_per_day) == limit:
                break
            latest_per_day[run.as_of] = run
    chosen = sorted(latest_per_day.values(), key=lambda run: run.as_of)
    values: dict[tuple[str, str], list[Decimal | None]] = {}
    index = {run.pk: i for i, run in enumerate(chosen)}
    if is_practice_scoped(actor):
        qs = MeasureResult.objects.filter(run__in=chosen, practice_id=scoped_practice_id(actor))
        found = {(a["run_id"], a["measure"], a["rate"]): _ratio(a["num"], a["den"])
                 for a in _aggregate(qs, "run_id")}  # fmt: skip
    else:
        found = {key: r.rate_value for key, r in _rate_meta(list(index)).items()}
    for (run_id, measure, rate), value in found.items():
        values.setdefault((measure, rate), [None] * len(chosen))[index[run_id]] = value
    return Trend(chosen, dict(sorted(values.items())))


# -- care gaps


@dataclass(frozen=True)
class GapFilters:
    measure_rate: str = ""  # "measure|rate"
    practice_id: int | None = None
    pcp_id: int | None = None


def measure_names(run: QualityRun) -> dict[str, str]:
    """Measure id -> name, as the run's definitions had it."""
    return dict(RateResult.objects.filter(run=run).values_list("measure", "measure_name"))


def gap_specs(run: QualityRun) -> dict[tuple[str, str], GapSpec]:
    return load_gap_specs(run.measurement_year)


def gap_queryset(actor: Actor, run: QualityRun, filters: GapFilters | None = None) -> QuerySet[MeasureResult]:
    """The run's open gaps the actor may see, filtered; ordered by due date, measure, member."""
    filters = filters or GapFilters()
    qs = scoped_results(actor, run).filter(gap=True)
    if filters.measure_rate:
        measure, _, rate = filters.measure_rate.partition("|")
        qs = qs.filter(measure=measure, rate=rate)
    if filters.practice_id is not None:
        qs = qs.filter(practice_id=filters.practice_id)
    if filters.pcp_id is not None:
        qs = qs.filter(pcp_id=filters.pcp_id)
    return qs.select_related("member", "member__payer", "practice", "pcp").order_by(
        "gap_due", "measure", "rate", "member__last_name", "member__first_name", "member_id", "pk"
    )


@dataclass(frozen=True)
class GapChoices:
    measure_rates: list[tuple[str, str]]
    practices: list[tuple[int, str]]
    pcps: list[tuple[int, str]]


def gap_choices(actor: Actor, run: QualityRun) -> GapChoices:
    """The filter choices of a run's gaps: its rates, and the practices and PCPs its results are attributed to
    (the actor's scope)."""
    qs = scoped_results(actor, run)
    pairs = list(RateResult.objects.filter(run=run).order_by("pk").values_list("measure", "rate"))
    practice_ids = set(qs.exclude(practice_id__isnull=True).values_list("practice_id", flat=True).distinct())
    pcp_ids = set(qs.exclude(pcp_id__isnull=True).values_list("pcp_id", flat=True).distinct())
    practices = [
        (p.pk, f"{p.code} - {p.legal_name}")
        for p in Practice.objects.filter(pk__in=practice_ids).order_by("code")
    ]
    pcps = [
        (p.pk, str(p)) for p in Provider.objects.filter(pk__in=pcp_ids).order_by("last_name", "first_name")
    ]
    return GapChoices([(f"{m}|{r}", r) for m, r in pairs], practices, pcps)


@dataclass(frozen=True)
class PcpGaps:
    pcp_id: int | None
    pcp: str
    practice_id: int | None
    practice: str
    gaps: int
    members: int


def gaps_by_pcp(actor: Actor, run: QualityRun, filters: GapFilters | None = None) -> list[PcpGaps]:
    """Open gaps (and the members who have them) per PCP and practice, most first: the worklists' sizes (counts
    only, no member named)."""
    rows = (
        gap_queryset(actor, run, filters)
        .order_by()
        .values("pcp_id", "practice_id")
        .annotate(gaps=Count("pk"), members=Count("member_id", distinct=True))
    )
    pcps = {p.pk: str(p) for p in Provider.objects.filter(pk__in={r["pcp_id"] for r in rows if r["pcp_id"]})}
    practices = dict(Practice.objects.values_list("pk", "code"))
    found = [PcpGaps(r["pcp_id"], pcps.get(r["pcp_id"], "No PCP"), r["practice_id"],
                     practices.get(r["practice_id"], "") if r["practice_id"] else "", r["gaps"], r["members"])
             for r in rows]  # fmt: skip
    return sorted(found, key=lambda g: (-g.gaps, g.practice, g.pcp))


def gap_page(actor: Actor, run: QualityRun, filters: GapFilters, *, page: int | str | None, purpose: str,
             per_page: int | str | None = None) -> Page[MeasureResult]:  # fmt: skip
    """One page of open gaps; the members on it are recorded as read."""
    result = paginate(gap_queryset(actor, run, filters), page, per_page)
    audit.record_read(actor, object_type="quality.measureresult", action="list", purpose=purpose,
                      object_id=f"run:{run.pk}", member_ids=[r.member_id for r in result.items])  # fmt: skip
    return result


GAP_CSV_HEADER = (
    "run_id", "measurement_year", "as_of", "measure", "rate", "payer", "payer_member_id", "last_name",
    "first_name", "date_of_birth", "practice", "pcp_npi", "pcp", "reason", "closes_with", "example_codes",
    "due_date", "episode_id",
)  # fmt: skip


def gap_export_rows(
    actor: Actor, run: QualityRun, filters: GapFilters, *, purpose: str
) -> Iterator[tuple[object, ...]]:
    """The CSV rows of the filtered gaps (GAP_CSV_HEADER); the whole export is recorded as one read listing
    every member in it, before the first row is handed out."""
    qs = gap_queryset(actor, run, filters)
    ids = list(qs.values_list("member_id", flat=True))
    audit.record_read(actor, object_type="quality.measureresult", action="export", purpose=purpose,
                      object_id=f"run:{run.pk}", member_ids=ids)  # fmt: skip
    return _gap_rows(run, qs)


def _gap_rows(run: QualityRun, qs: QuerySet[MeasureResult]) -> Iterator[tuple[object, ...]]:
    specs = gap_specs(run)
    names = measure_names(run)
    closes: dict[tuple[str, str], tuple[str, str]] = {}
    fields = ("measure", "rate", "member__payer__code", "member__payer_member_id", "member__last_name",
              "member__first_name", "member__date_of_birth", "practice__code", "pcp__npi", "pcp__first_name",
              "pcp__last_name", "pcp__degree", "gap_reason", "gap_due", "episode_id")  # fmt: skip
    for (measure, rate, payer, payer_member_id, last, first, born, practice, npi, pcp_first, pcp_last, degree,
         reason, due, episode) in qs.values_list(*fields).iterator(chunk_size=5000):  # fmt: skip
        key = (measure, rate)
        if key not in closes:
            spec = specs.get(key) or default_spec(names.get(measure, measure))
            closes[key] = (spec.closes_text(run.measurement_year), " ".join(spec.example_codes))
        pcp = f"{pcp_first} {pcp_last}".strip() if npi else ""
        if pcp and degree:
            pcp = f"{pcp}, {degree}"
        yield (run.pk, run.measurement_year, run.as_of.isoformat(), measure, rate, payer, payer_member_id, last,
               first, born.isoformat(), practice or "", npi or "", pcp, reason, *closes[key],
               due.isoformat() if due else "", episode)  # fmt: skip


# -- evidence


@dataclass(frozen=True)
class Evidence:
    id: str
    kind: str  # claim line, lab, vital, immunization..., pharmacy fill, encounter, death
    source: str  # "claims", the clinical source's name, the pharmacy source's name, "member record"
    date: dt.date | None
    code_system: str
    code: str
    value: str = ""
    unit: str = ""
    detail: str = ""
    claims_source: bool = False


def _ids(evidence_ids: list[str], prefix: str) -> list[int]:
    return [
        int(e[len(prefix) :]) for e in evidence_ids if e.startswith(prefix) and e[len(prefix) :].isdigit()
    ]


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


def evidence_details(evidence_ids: list[str]) -> dict[str, Evidence]:
    """What each evidence id names (a lookup: the callers check the actor and audit the read)."""
    found: dict[str, Evidence] = {}
    claim_ids = _ids(evidence_ids, "claim:")
    for pk, code, day, diagnoses, pcn in ClaimLine.objects.filter(pk__in=claim_ids).values_list(
        "pk", "code", "service_from", "claim__diagnoses", "claim__patient_control_number"
    ):
        dx = " ".join(c for _q, c in (diagnoses or []))
        found[f"claim:{pk}"] = Evidence(f"claim:{pk}", "claim line", "claims", day, "CPT/HCPCS", code or "",
                                        detail=f"claim {pcn}; diagnoses {dx}".strip(), claims_source=True)  # fmt: skip
    record_ids = _ids(evidence_ids, "clinical:") + _ids(evidence_ids, "encounter:")
    for r in ClinicalRecord.objects.filter(pk__in=record_ids).select_related("source"):
        prefix = "encounter:" if r.kind == "encounter" else "clinical:"
        found[f"{prefix}{r.pk}"] = Evidence(f"{prefix}{r.pk}", r.kind, r.source.name, r.date, r.code_system, r.code,
                                            _number(r.value) or r.value_text, r.unit, r.record_id)  # fmt: skip
    for f in PharmacyFill.objects.filter(pk__in=_ids(evidence_ids, "rx:")).select_related("source"):
        found[f"rx:{f.pk}"] = Evidence(f"rx:{f.pk}", "pharmacy fill", f.source.name, f.fill_date, "NDC", f.ndc,
                                       str(f.days_supply), "days supply", f"{f.drug_name} (claim {f.claim_id})")  # fmt: skip
    for pk, died in Member.objects.filter(pk__in=_ids(evidence_ids, "member:")).values_list(
        "pk", "date_of_death"
    ):
        found[f"member:{pk}"] = Evidence(f"member:{pk}", "death", "member record", died, "", "")
    return found


@dataclass(frozen=True)
class ResultView:
    result: MeasureResult
    measure_name: str
    spec: GapSpec
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    """"denominator", "exclusion", "numerator" -> the evidence rows, in the order of their ids."""
    closes: str = ""
    """The service that closes the gap, for the run's measurement year."""


def member_results(
    actor: Actor, run: QualityRun, member_id: int, *, purpose: str
) -> tuple[Member, list[ResultView]]:
    """A member's results in a run with the evidence behind each decision (recorded as a read). NotFound when
    the member has no result the actor may see."""
    results = list(scoped_results(actor, run).filter(member_id=member_id).select_related("practice", "pcp")
                   .order_by("measure", "rate", "episode_id"))  # fmt: skip
    if not results:
        raise NotFound(f"member {member_id} has no result in quality run {run.pk}")
    member = Member.objects.select_related("payer").get(pk=member_id)
    audit.record_read(actor, object_type="quality.measureresult", action="view", purpose=purpose,
                      object_id=f"run:{run.pk}", member_ids=[member_id])  # fmt: skip
    every = [
        e for r in results for e in (*r.denominator_evidence, *r.exclusion_evidence, *r.numerator_evidence)
    ]
    details = evidence_details(sorted(set(every)))
    specs = gap_specs(run)
    names = measure_names(run)
    views = []
    for r in results:
        name = names.get(r.measure, r.measure)
        evidence = {
            kind: [details.get(e) or Evidence(e, "not found", "", None, "", "") for e in ids]
            for kind, ids in (("denominator", r.denominator_evidence), ("exclusion", r.exclusion_evidence),
                              ("numerator", r.numerator_evidence))
        }  # fmt: skip
        spec = specs.get((r.measure, r.rate)) or default_spec(name)
        views.append(ResultView(r, name, spec, evidence, spec.closes_text(run.measurement_year)))
    return member, views


# -- supplemental data for plans


SUPPLEMENTAL_HEADER = (
    "payer_member_id", "measure", "rate", "evidence_kind", "code_system", "code", "date", "value", "unit",
    "source", "evidence_id",
)  # fmt: skip


def supplemental_payers(actor: Actor, run: QualityRun) -> list[Payer]:
    _require_staff(actor)
    ids = MeasureResult.objects.filter(run=run).exclude(payer_id__isnull=True).values("payer_id").distinct()
    return list(Payer.objects.filter(pk__in=ids).order_by("code"))


def supplemental_rows(
    actor: Actor | None, run: QualityRun, *, payer_code: str, purpose: str
) -> Iterator[tuple[object, ...]]:
    """The numerator evidence of the run that came from non-claims sources (clinical records, encounters and
    pharmacy fills) for the members covered by payer ``payer_code``'s products on the run's as-of date
    (SUPPLEMENTAL_HEADER), one row per (result, evidence). IPA staff only; the export is recorded as one read
    of every member in it. ValidationFailed for an unknown payer."""
    if actor is not None:  # None: the system (the command line)
        _require_staff(actor)
    payer = Payer.objects.filter(code=payer_code).first()
    if payer is None:
        raise ValidationFailed({"payer": [f"no payer with code {payer_code!r}"]})
    qs = (
        MeasureResult.objects.filter(run=run, payer=payer, numerator=True)
        .order_by("member_id", "measure", "rate", "episode_id", "pk")
        .values_list("member_id", "member__payer_member_id", "measure", "rate", "numerator_evidence")
    )
    picked = []
    for member_id, payer_member_id, measure, rate, evidence in qs.iterator(chunk_size=5000):
        kept = [e for e in evidence if not e.startswith(("claim:", "member:"))]
        if kept:
            picked.append((member_id, payer_member_id, measure, rate, kept))
    audit.record_read(actor, object_type="quality.supplemental", action="export", purpose=purpose,
                      object_id=f"run:{run.pk}:payer:{payer.code}", member_ids=[p[0] for p in picked])  # fmt: skip
    return _supplemental(picked)


def _supplemental(picked: list[tuple[int, str, str, str, list[str]]]) -> Iterator[tuple[object, ...]]:
    for start in range(0, len(picked), 2000):
        chunk = picked[start : start + 2000]
        details = evidence_details(sorted({e for p in chunk for e in p[4]}))
        for _member_id, payer_member_id, measure, rate, evidence in chunk:
            for e in evidence:
                d = details.get(e)
                if d is None:
                    continue
                yield (payer_member_id, measure, rate, d.kind, d.code_system, d.code,
                       d.date.isoformat() if d.date else "", d.value, d.unit, d.source, d.id)  # fmt: skip
