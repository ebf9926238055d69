"""Writes of risk adjustment: scoring the members of a payment year into a draft run, and approving it.

``score_members`` reads (through the other apps' selectors) the members with Medicare Advantage coverage, their
diagnoses of the window (claims, and ICD-10-CM conditions from clinical sources accepted for risk adjustment),
scores them with the pure engine (:func:`openipa.risk.engine.score.score`), finds the coding gaps
(:mod:`openipa.risk.gaps`) and stores it all as a draft :class:`RiskRun` in one transaction (an earlier draft of
the same payment year and model is replaced). ``approve_run``: another user with EDIT_CLINICAL than the one who
prepared it; an approved run never changes (a correction is a new run, approved in turn; the latest approved
run of a payment year is the one capitation reads).

Members scored: those with an eligibility span of a Medicare Advantage product in force on February 1 of the
payment year or overlapping the diagnosis window (the calendar year before). Members whose sex is unknown
cannot be scored (the model's cells are by sex): they are counted in ``not_scored``. Members who have died are
scored (their scores explain the year's money) but get no coding gap.

A payment year without payment factors on file (the current service year's payment year, before CMS's Rate
Announcement or before they are entered) gives a **raw-only** run: raw RAFs, HCCs and coding gaps, no payment
RAF; it cannot be approved, so it never reaches capitation.

Each member is scored by the model CMS pays them with (ADR 0018): ESRD members (:func:`esrd_members`: original
or current reason for entitlement 2 or 3, or a kidney transplant on or before February 1) by the ESRD model
``ESRDV24``, everyone else by the run's CMS-HCC model. The run is raw-only when any model it needs has no
payment factors for the year; ``inputs["payment_factors"]`` records the factors each model used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.claims.selectors import claims as claim_selectors
from openipa.clinical import selectors as clinical_selectors
from openipa.contracts.models import LineOfBusiness
from openipa.core import audit
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.roles import Actor, Perm, is_practice_scoped, require
from openipa.membership import selectors as membership_selectors
from openipa.risk import encounters
from openipa.risk import gaps as gap_engine
from openipa.risk.engine import tables
from openipa.risk.engine.esrd import ESRD_MODELS
from openipa.risk.engine.score import ScoreInputError, score
from openipa.risk.engine.tables import TableError
from openipa.risk.models import CodingGap, MemberScore, RiskRun, ScoreDiagnosis

MODELS = ("V28", "V24")
ESRD_MODEL = ESRD_MODELS[0]  # "ESRDV24": CMS's ESRD model (dialysis, functioning graft, transplant months)
ESRD_CODES = ("2", "3")  # original / current reason for entitlement: ESRD, disability and ESRD
ESRD_RULE = (
    "ESRD members (original or current reason for entitlement 2 or 3, or a kidney transplant on or before "
    "February 1 of the payment year) are scored by ESRDV24; a transplant with the current reason unknown counts "
    "as current reason 2 (ESRD); graft months = months from the transplant month (month 1) to February"
)
COVERAGE_RULE = (
    "members with a Medicare Advantage eligibility span in force on February 1 of the payment year or "
    "overlapping the diagnosis window (the calendar year before)"
)
_DX_SCHEMA = {"member_id": pl.Int64, "diagnosis_code": pl.String, "service_date": pl.Date, "source": pl.String,
              "source_id": pl.Int64}  # fmt: skip


@dataclass(frozen=True)
class Window:
    payment_year: int

    @property
    def first(self) -> dt.date:
        return dt.date(self.payment_year - 1, 1, 1)

    @property
    def last(self) -> dt.date:
        return dt.date(self.payment_year - 1, 12, 31)

    @property
    def prior_first(self) -> dt.date:
        return dt.date(self.payment_year - 2, 1, 1)

    @property
    def prior_last(self) -> dt.date:
        return dt.date(self.payment_year - 2, 12, 31)

    @property
    def february_1(self) -> dt.date:
        return dt.date(self.payment_year, 2, 1)


def _require_editor(actor: Actor | None) -> None:
    if actor is None:
        return
    require(actor, Perm.EDIT_CLINICAL)
    if is_practice_scoped(actor):
        raise PermissionDenied("risk runs are prepared and approved by IPA staff")


def _who(actor: Actor | None, who: str) -> str:
    return who or (getattr(actor, "username", "") if actor is not None else "") or "system"


def window_diagnoses(first: dt.date, last: dt.date) -> pl.DataFrame:
    """Every member's diagnoses dated ``first`` through ``last`` (member_id, diagnosis_code, service_date,
    source ``claim``/``clinical``, source_id: the claim line or clinical record): the diagnoses of claims CMS's
    encounter filter accepts (``risk.encounters``: inpatient stays, and visits whose procedure code is on the
    year's acceptable list, not audio-only from 2026) and the conditions of clinical sources accepted for risk
    adjustment (from 2026 dates of service only those linked to a counting encounter of the member on the same
    day: record reviews), the earliest of each code per source."""
    encounter_filter = encounters.load_filter(first.year)
    found, encounter_days = claim_selectors.risk_diagnoses_and_encounter_days(
        first=first, last=last,
        line_counts=lambda institutional, bill_type, code, modifiers: encounter_filter.counts(
            institutional=institutional, type_of_bill=bill_type, procedure_code=code, modifiers=modifiers
        ),
    )  # fmt: skip
    claims = found.select(
        "member_id", "diagnosis_code", "service_date", pl.lit("claim").alias("source"),
        pl.col("claim_line_id").alias("source_id"),
    )  # fmt: skip
    conditions = clinical_selectors.risk_conditions_frame(first=first, last=last)
    if encounter_filter.linked_clinical_only:
        # record reviews count only when linked to an encounter that counts: the member's, on the same day
        conditions = conditions.join(encounter_days, on=["member_id", "service_date"], how="semi")
    clinical = conditions.select(
        "member_id", "diagnosis_code", "service_date", pl.lit("clinical").alias("source"),
        pl.col("clinical_record_id").alias("source_id"),
    )  # fmt: skip
    return pl.concat([claims.cast(_DX_SCHEMA), clinical.cast(_DX_SCHEMA)])  # type: ignore[arg-type]


def graft_months(transplant: pl.Expr, payment_year: int) -> pl.Expr:
    """Months since a kidney transplant as the ESRD model takes them: whole months from the transplant date to
    February 1 of ``payment_year``, the transplant month counting as month 1 (a transplant in February of the
    payment year, on the 1st, is month 1; in January, month 2; in December before, month 3, the last
    transplant month; in November before, month 4, the first functioning-graft month). Null when there is no
    transplant date or it is after February 1."""
    february_1 = dt.date(payment_year, 2, 1)
    months = pl.lit(payment_year * 12 + 2) - (transplant.dt.year().cast(pl.Int64) * 12
                                              + transplant.dt.month().cast(pl.Int64)) + 1  # fmt: skip
    return pl.when(transplant.is_not_null() & (transplant <= february_1)).then(months).otherwise(None)


def esrd_members(people: pl.DataFrame, payment_year: int) -> pl.DataFrame:
    """``people`` (``risk_members_frame``'s columns) with ``graft_months`` (:func:`graft_months`), ``esrd``
    (Boolean: scored by the ESRD model) and ``crec`` as the ESRD model takes it: a member with a transplant
    on or before February 1 and no current reason for entitlement on file is an ESRD beneficiary (current reason
    2); a known current reason is kept."""
    with_months = people.with_columns(
        graft_months(pl.col("kidney_transplant_date"), payment_year).alias("graft_months")
    )
    transplanted = pl.col("graft_months").is_not_null()
    return with_months.with_columns(
        pl.when(transplanted & pl.col("crec").is_null())
        .then(pl.lit("2"))
        .otherwise(pl.col("crec"))
        .alias("crec"),
        (
            pl.col("orec").is_in(ESRD_CODES)
            | pl.col("crec").is_in(ESRD_CODES).fill_null(False)
            | transplanted
        ).alias("esrd"),
    )


def _factors_used(year: int, model: str) -> list[dict[str, object]]:
    """The payment_factors.csv rows a model's payment scores of ``year`` use (for the ESRD model, its series
    rows: ESRDV24 or ESRDV24-<series>), as the run records them."""
    rows = []
    for f in tables.payment_factors(year):
        family = f.model.split("-")[0]
        if model in ESRD_MODELS:
            keep = family == model
        else:
            keep = family not in ESRD_MODELS and tables.domain_of(f.model) == tables.domain_of(model)
        if keep:
            rows.append({
                "payment_year": f.payment_year, "model": f.model, "blend_weight_milli": f.blend_weight,
                "normalization_factor_milli": f.normalization_factor,
                "coding_adjustment_milli": f.coding_adjustment, "status": f.status, "origin": f.origin,
            })  # fmt: skip
    return rows


def _score_part(frame: pl.DataFrame, year: int, model: str) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """Score one model's members: (members with a ``model`` column, diagnoses behind the HCCs, the reason the
    scores are raw only or ""). TableError/ScoreInputError when the model cannot score the year at all."""
    beneficiaries = frame.with_columns(pl.col("member_id").cast(pl.String))
    raw_reason = ""
    try:
        result = score(beneficiaries, year, model)
    except TableError as exc:
        # no payment factors for the year (the current service year's, say): raw scores and coding gaps still
        # help; the run is raw-only and cannot be approved for payment
        result = score(beneficiaries, year, model, payment=False)
        raw_reason = f"{model}: {exc}"
    members = result.members.with_columns(pl.col("member_id").cast(pl.Int64), pl.lit(model).alias("model"))
    diagnoses = result.diagnoses.with_columns(pl.col("member_id").cast(pl.Int64))
    return members, diagnoses, raw_reason


def _mean(values: pl.Series) -> int | None:
    values = values.drop_nulls()
    if values.len() == 0:
        return None
    total, n = int(values.sum()), values.len()
    return (total * 2 + n) // (2 * n)


def score_members(actor: Actor | None, *, year: int, model: str = "V28", who: str = "") -> RiskRun:
    """Score the database's Medicare Advantage members for payment year ``year`` and store a draft run with
    their scores, the diagnoses behind each HCC and the coding gaps. ``actor`` None is the system (the CLI);
    a person needs EDIT_CLINICAL (IPA staff). ValidationFailed when the year or model cannot be scored."""
    _require_editor(actor)
    if model not in MODELS:
        raise ValidationFailed.single("model", f"unknown model {model!r}: one of {', '.join(MODELS)}")
    if not 2000 <= year <= 2100:
        raise ValidationFailed.single("year", f"{year} is not a payment year")
    window = Window(year)
    people = membership_selectors.risk_members_frame(
        covered_on=window.february_1, first=window.first, last=window.last,
        line_of_business=LineOfBusiness.MEDICARE_ADVANTAGE,
    )  # fmt: skip
    scorable = people.filter(pl.col("sex").is_in(["M", "F"]))
    current = window_diagnoses(window.first, window.last).join(scorable.select("member_id"), on="member_id",
                                                                 how="semi")  # fmt: skip
    codes = current.group_by("member_id").agg(
        pl.col("diagnosis_code").unique().sort().alias("diagnosis_codes")
    )
    frame = (
        esrd_members(scorable, year)
        .join(codes, on="member_id", how="left")
        .with_columns(pl.col("diagnosis_codes").fill_null([]))
        .select("member_id", "date_of_birth", "sex", "orec", "crec", "graft_months", "medicaid", "lti",
                "diagnosis_codes", "esrd")
    )  # fmt: skip
    parts = {
        model: frame.filter(~pl.col("esrd")).drop("crec", "graft_months", "esrd"),
        ESRD_MODEL: frame.filter(pl.col("esrd")).drop("esrd"),
    }
    parts = {m: part for m, part in parts.items() if m == model or part.height}  # the run's model always
    prior = window_diagnoses(window.prior_first, window.prior_last).join(
        scorable.select("member_id"), on="member_id", how="semi"
    )
    scored: list[pl.DataFrame] = []
    diagnosed: list[pl.DataFrame] = []
    recaptured: list[pl.DataFrame] = []
    suspect_hccs: list[pl.DataFrame] = []
    raw_reasons: dict[str, str] = {}
    factors: dict[str, object] = {}
    try:
        rules = gap_engine.load_rules()
        for part_model, part in parts.items():
            try:
                part_members, part_diagnoses, reason = _score_part(part, year, part_model)
            except TableError as exc:
                if part_model != ESRD_MODEL:
                    raise
                # the ESRD model has no tables for the year: its members get the run's model's raw scores (for
                # the coding gaps), and the run is raw-only: CMS would not pay them by that model
                part_model, part = model, part.drop("crec", "graft_months")
                part_members, part_diagnoses, _ = _score_part(part, year, model)
                raw_reasons[ESRD_MODEL] = (f"{ESRD_MODEL}: {exc}; its {part.height} ESRD members are scored by "
                                           f"{model}, raw scores only")  # fmt: skip
            if reason:
                raw_reasons[part_model] = reason
            factors[part_model] = _factors_used(year, part_model)
            scored.append(part_members)
            diagnosed.append(part_diagnoses)
            # recapture against the hierarchy of the model that scored the member (same HCC numbering)
            part_hccs = part_members.select("member_id", "hccs")
            recaptured.append(gap_engine.recapture_gaps(part, part_hccs, prior, year, part_model))
            if part_model == ESRD_MODEL and part.height:
                # the suspect rules name V28 HCCs: an ESRD member's are checked against its V28 HCCs
                v28 = score(part.with_columns(pl.col("member_id").cast(pl.String)).drop("crec", "graft_months"),
                            year, "V28", payment=False)  # fmt: skip
                part_hccs = v28.members.select(pl.col("member_id").cast(pl.Int64), "hccs")
            suspect_hccs.append(part_hccs)
    except (TableError, ScoreInputError, gap_engine.RuleError) as exc:
        raise ValidationFailed.single(
            "year", f"payment year {year} with {', '.join(parts)} cannot be scored: {exc}"
        ) from None
    members = (
        pl.concat(scored)
        .sort("member_id")
        .join(scorable.select("member_id", "practice_id", "provider_id"), on="member_id", how="left")
    )
    raw_reason = "; ".join(raw_reasons.values())
    if (
        raw_reason
    ):  # a model without payment factors: the whole run is raw-only (no member gets a payment RAF)
        members = members.with_columns(pl.lit(None, dtype=pl.Int64).alias("payment_raf"))
    behind = (
        pl.concat(diagnosed)
        .join(current, on=["member_id", "diagnosis_code"], how="inner")
        .sort(["member_id", "hcc", "diagnosis_code", "source"])
    )
    recapture = pl.concat(recaptured)
    suspects = gap_engine.suspect_gaps(
        rules,
        pl.concat(suspect_hccs),
        clinical_selectors.risk_fills_frame(first=window.first, last=window.last),
        clinical_selectors.risk_lab_results_frame(
            first=window.first, last=window.last, loinc_codes=sorted({c for r in rules for c in r.loinc})
        ),
    )
    # gaps are for the PCP to act on: not for members who have died
    living = scorable.filter(pl.col("date_of_death").is_null())
    found = pl.concat([recapture, suspects]).join(
        living.select("member_id", "practice_id", "provider_id"), on="member_id", how="inner"
    )
    inputs = {
        "coverage": COVERAGE_RULE,
        "diagnoses": "claims (not void, not reversed; principal and other diagnoses) and ICD-10-CM conditions "
        "from clinical sources accepted for risk adjustment",
        "window": [window.first.isoformat(), window.last.isoformat()],
        "prior_window": [window.prior_first.isoformat(), window.prior_last.isoformat()],
        "suspect_rules": [r.id for r in rules],
        "recapture_gaps": recapture.height,
        "suspect_gaps": suspects.height,
        "esrd": ESRD_RULE,
        "members_by_model": {m: int((members["model"] == m).sum()) for m in sorted(set(members["model"]))},
        "payment_factors": factors,
        **({"raw_only": raw_reason, "raw_only_models": sorted(raw_reasons)} if raw_reason else {}),
    }
    with transaction.atomic():
        for draft in RiskRun.objects.select_for_update().filter(
            payment_year=year, model=model, status=RiskRun.Status.DRAFT
        ):
            _discard(draft)
        run = RiskRun.objects.create(
            payment_year=year, model=model, window_start=window.first, window_end=window.last,
            prepared_by=_who(actor, who), prepared_at=timezone.now(), members=members.height,
            not_scored=people.height - scorable.height, diagnoses=current.height,
            mean_raf_milli=_mean(members["raf"]), mean_payment_raf_milli=_mean(members["payment_raf"]),
            gaps=found.height, raw_only=bool(raw_reason), inputs=inputs,
        )  # fmt: skip
        _write(run, members, behind, found)
        audit.record_write(actor, "risk.score", run, after={
            "payment_year": year, "model": model, "members": run.members, "gaps": run.gaps,
            "members_by_model": inputs["members_by_model"], "mean_payment_raf_milli": run.mean_payment_raf_milli,
        })  # fmt: skip
    return run


def _write(run: RiskRun, members: pl.DataFrame, behind: pl.DataFrame, found: pl.DataFrame) -> None:
    created = MemberScore.objects.bulk_create(
        [
            MemberScore(
                run=run,
                member_id=r["member_id"],
                practice_id=r["practice_id"],
                provider_id=r["provider_id"],
                age=r["age"],
                model=r["model"],
                segment=r["segment"],
                category=r["category"] or "",  # the ESRD transplant months have no demographic cell
                raf_milli=r["raf"],
                payment_raf_milli=r["payment_raf"],
                hccs=list(r["hccs"] or []),
            )
            for r in members.iter_rows(named=True)
        ],
        batch_size=2000,
    )
    score_ids = {s.member_id: s.pk for s in created}
    if any(pk is None for pk in score_ids.values()):  # a backend that does not return keys
        score_ids = dict(MemberScore.objects.filter(run=run).values_list("member_id", "pk"))
    ScoreDiagnosis.objects.bulk_create(
        [
            ScoreDiagnosis(
                score_id=score_ids[r["member_id"]],
                hcc=r["hcc"],
                diagnosis_code=r["diagnosis_code"],
                source=r["source"],
                claim_line_id=r["source_id"] if r["source"] == "claim" else None,
                clinical_record_id=r["source_id"] if r["source"] == "clinical" else None,
                service_date=r["service_date"],
            )
            for r in behind.iter_rows(named=True)
        ],
        batch_size=2000,
    )
    CodingGap.objects.bulk_create(
        [
            CodingGap(
                run=run,
                member_id=r["member_id"],
                practice_id=r["practice_id"],
                provider_id=r["provider_id"],
                kind=r["kind"],
                hcc=r["hcc"],
                rule=r["rule"] or "",
                reason=r["reason"][:300],
                evidence=[
                    {**e, "date": e["date"].isoformat() if e["date"] else None} for e in r["evidence"] or []
                ],
            )
            for r in found.iter_rows(named=True)
        ],
        batch_size=2000,
    )


def _discard(draft: RiskRun) -> None:
    ScoreDiagnosis.objects.filter(score__run=draft).delete()
    MemberScore.objects.filter(run=draft).delete()
    CodingGap.objects.filter(run=draft).delete()
    draft.delete()


def approve_run(actor: Actor, run: RiskRun) -> RiskRun:
    """Approve a draft run: by IPA staff with EDIT_CLINICAL who did not prepare it. ValidationFailed (nothing
    changed) for a run already approved or one's own."""
    _require_editor(actor)
    with transaction.atomic():
        locked = RiskRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RiskRun.Status.DRAFT:
            raise ValidationFailed.single("", f"risk run {locked.pk} is already approved: it never changes; "
                                              "score the year again for a correction")  # fmt: skip
        if locked.raw_only:
            models = ", ".join(locked.inputs.get("raw_only_models") or [locked.model])
            raise ValidationFailed.single("", f"risk run {locked.pk} has raw scores only (no payment factors for "
                                              f"{locked.payment_year} on file for {models}): it cannot be approved "
                                              "for payment")  # fmt: skip
        if locked.prepared_by == actor.username:
            raise ValidationFailed.single(
                "", "a risk run is approved by another user than the one who prepared it"
            )
        locked.status = RiskRun.Status.APPROVED
        locked.approved_by = actor.username
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record_write(
            actor, "risk.approve", locked, before={"status": "draft"}, after={"status": "approved"}
        )
    return locked
