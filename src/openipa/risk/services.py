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
from openipa.risk.engine.score import ScoreInputError, score
from openipa.risk.engine.tables import TableError
from openipa.risk.models import CodingGap, MemberScore, RiskRun, ScoreDiagnosis

MODELS = ("V28", "V24")
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
    year's acceptable list) and the conditions of clinical sources accepted for risk adjustment, the earliest of
    each code per source."""
    encounter_filter = encounters.load_filter(first.year)
    claims = claim_selectors.risk_diagnoses_frame(
        first=first, last=last,
        line_counts=lambda institutional, bill_type, code: encounter_filter.counts(
            institutional=institutional, type_of_bill=bill_type, procedure_code=code
        ),
    ).select(
        "member_id", "diagnosis_code", "service_date", pl.lit("claim").alias("source"),
        pl.col("claim_line_id").alias("source_id"),
    )  # fmt: skip
    clinical = clinical_selectors.risk_conditions_frame(first=first, last=last).select(
        "member_id", "diagnosis_code", "service_date", pl.lit("clinical").alias("source"),
        pl.col("clinical_record_id").alias("source_id"),
    )  # fmt: skip
    return pl.concat([claims.cast(_DX_SCHEMA), clinical.cast(_DX_SCHEMA)])  # type: ignore[arg-type]


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
        scorable.join(codes, on="member_id", how="left")
        .with_columns(pl.col("diagnosis_codes").fill_null([]))
        .select("member_id", "date_of_birth", "sex", "orec", "medicaid", "lti", "diagnosis_codes")
    )
    raw_reason = ""
    try:
        rules = gap_engine.load_rules()
        beneficiaries = frame.with_columns(pl.col("member_id").cast(pl.String))
        try:
            result = score(beneficiaries, year, model)
        except TableError as exc:
            # no payment factors for the year (the current service year's, say): raw scores and coding gaps still
            # help; the run is raw-only and cannot be approved for payment
            result = score(beneficiaries, year, model, payment=False)
            raw_reason = str(exc)
    except (TableError, ScoreInputError, gap_engine.RuleError) as exc:
        raise ValidationFailed.single(
            "year", f"payment year {year} with {model} cannot be scored: {exc}"
        ) from None
    members = result.members.with_columns(pl.col("member_id").cast(pl.Int64)).join(
        scorable.select("member_id", "practice_id", "provider_id"), on="member_id", how="left"
    )
    behind = (
        result.diagnoses.with_columns(pl.col("member_id").cast(pl.Int64))
        .join(current, on=["member_id", "diagnosis_code"], how="inner")
        .sort(["member_id", "hcc", "diagnosis_code", "source"])
    )
    prior = window_diagnoses(window.prior_first, window.prior_last).join(
        scorable.select("member_id"), on="member_id", how="semi"
    )
    current_hccs = members.select("member_id", "hccs")
    recapture = gap_engine.recapture_gaps(frame, current_hccs, prior, year, model)
    suspects = gap_engine.suspect_gaps(
        rules,
        current_hccs,
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
        **({"raw_only": raw_reason} if raw_reason else {}),
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
            "mean_payment_raf_milli": run.mean_payment_raf_milli})  # fmt: skip
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
                segment=r["segment"],
                category=r["category"],
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
            raise ValidationFailed.single("", f"risk run {locked.pk} has raw scores only (no payment factors for "
                                              f"{locked.payment_year} on file): it cannot be approved for payment")  # fmt: skip
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
