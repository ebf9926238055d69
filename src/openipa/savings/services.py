"""Writes of the savings app, each one transaction, audited: terms and formulas (versioned, effective-dated,
never overlapping), snapshots, settlement runs (draft -> approved by a different finance user -> paid, with
their ledger entries), and forecasts.

Ledger (integer cents, ``practice_id`` on every line that concerns a practice):

- approval of earned savings: Dr SHARED_SAVINGS_RECEIVABLE / Cr SHARED_SAVINGS_REVENUE (the payer's), then
  the distribution Dr SHARED_SAVINGS_DISTRIBUTED / Cr INCENTIVES_PAYABLE, one pair of lines per practice;
- approval of a shared loss: Dr SHARED_LOSS_EXPENSE / Cr SHARED_LOSS_PAYABLE;
- payment: a NACHA file of CCD+ credits, Dr INCENTIVES_PAYABLE per practice / Cr CASH.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from openipa.claims.models import IbnrEstimate
from openipa.contracts.models import Contract, LineOfBusiness
from openipa.core import audit
from openipa.core.dating import check_no_overlaps, describe_range, in_force, pick_in_force, validate_range
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, require
from openipa.ledger import accounts
from openipa.ledger.payouts import Credit, trace_prefix, write_ach
from openipa.ledger.services import Posting, post_entry
from openipa.quality.models import QualityRun
from openipa.risk.models import RiskRun
from openipa.savings import selectors, terms_data
from openipa.savings.engine import distribution as dist_engine
from openipa.savings.engine import forecast as forecast_engine
from openipa.savings.engine import settlement as engine
from openipa.savings.models import (
    DistributionFormula,
    Forecast,
    PracticeShare,
    SavingsTerm,
    SettlementRun,
    Snapshot,
)

MICRO = selectors.MICRO
TERM_DECIMALS = (
    "benchmark_amount", "target_mlr_percent", "msr_percent", "sharing_percent", "quality_min_score",
    "savings_cap_percent", "mlr_percent", "loss_sharing_percent", "loss_cap_percent", "reference_raf",
    "loss_cap_revenue_percent", "loss_sharing_floor_percent", "loss_sharing_ceiling_percent",
)  # fmt: skip
TERM_FIELDS = (
    *TERM_DECIMALS, "kind", "name", "line_of_business", "benchmark_basis", "msr_source", "msr_table",
    "first_dollar", "track", "quality_scale", "quality_standard", "two_sided", "risk_adjust", "ibnr_completion",
    "valid_from", "valid_to",
)  # fmt: skip


class RunRefused(ValueError):
    """A run that may not move on (wrong status, same user approving, nothing to pay). Nothing was changed."""


def _who(actor: Actor | None, who: str = "") -> str:
    return who or (actor.username if actor is not None else "") or "system"


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float | bool):
        raise ValidationFailed.single(field, "give a decimal as text, not a float")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed.single(field, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise ValidationFailed.single(field, f"{value!r} is not a number")
    return result


# -- terms and formulas ------------------------------------------------------------------------------------


def engine_terms(term: SavingsTerm, *, beneficiaries: int, on: dt.date) -> engine.Terms:
    """The engine's terms for ``term``: an MSSP table's MSR looked up for ``beneficiaries`` on ``on``."""
    msr = term.msr_percent
    if term.msr_source == SavingsTerm.MsrSource.TABLE:
        try:
            msr = engine.msr_from_table(beneficiaries, terms_data.msr_table(term.msr_table, on))
        except KeyError as error:
            raise ValidationFailed.single("msr_table", str(error)) from None
    scale = tuple(engine.QualityStep(Decimal(s), Decimal(p)) for s, p in term.quality_scale or [])
    return engine.Terms(
        benchmark_basis=term.benchmark_basis,
        benchmark_amount=term.benchmark_amount,
        target_mlr_percent=term.target_mlr_percent,
        msr_percent=msr,
        first_dollar=term.first_dollar,
        sharing_percent=term.sharing_percent,
        quality_min_score=term.quality_min_score,
        quality_scale=scale,
        savings_cap_percent=term.savings_cap_percent,
        two_sided=term.two_sided,
        mlr_percent=term.mlr_percent,
        loss_sharing_percent=term.loss_sharing_percent,
        loss_cap_percent=term.loss_cap_percent,
        loss_cap_revenue_percent=term.loss_cap_revenue_percent,
        loss_sharing_floor_percent=term.loss_sharing_floor_percent,
        loss_sharing_ceiling_percent=term.loss_sharing_ceiling_percent,
        risk_adjust=term.risk_adjust,
        reference_raf_milli=int(term.reference_raf * 1000),
    )


def _term_problems(data: Mapping[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if data.get("kind") not in SavingsTerm.Kind.values:
        add("kind", f"one of {', '.join(SavingsTerm.Kind.values)}")
    if not str(data.get("name") or "").strip():
        add("name", "required")
    lob = data.get("line_of_business") or ""
    if lob and lob not in LineOfBusiness.values:
        add("line_of_business", f"one of {', '.join(LineOfBusiness.values)}, or empty")
    if data.get("msr_source") not in SavingsTerm.MsrSource.values:
        add("msr_source", f"one of {', '.join(SavingsTerm.MsrSource.values)}")
    if data.get("msr_source") == SavingsTerm.MsrSource.TABLE:
        try:
            terms_data.msr_table(str(data.get("msr_table") or ""))
        except KeyError as error:
            add("msr_table", str(error.args[0]))
    scale = data.get("quality_scale") or []
    if not isinstance(scale, list) or any(not isinstance(s, list | tuple) or len(s) != 2 for s in scale):
        add("quality_scale", 'a list of [score, percent] pairs, e.g. [["60", "50"], ["80", "100"]]')
    if (
        data.get("kind") == SavingsTerm.Kind.MSSP
        and data.get("benchmark_basis") != SavingsTerm.Basis.BENEFICIARY_YEAR
    ):
        add("benchmark_basis", "MSSP-style terms have a benchmark per assigned beneficiary-year")
    try:
        if not isinstance(data["valid_from"], dt.date):
            raise TypeError
        if not isinstance(data.get("valid_to"), dt.date | None):
            add("valid_to", "a date, or empty for an open-ended version")
        else:
            validate_range(data["valid_from"], data.get("valid_to"))
    except (KeyError, TypeError):
        add("valid_from", "required (a date)")
    except ValueError as error:
        add("valid_to", str(error))
    if problems:
        return problems
    try:
        scale_steps = tuple(engine.QualityStep(Decimal(str(s)), Decimal(str(p))) for s, p in scale)
        engine.Terms(
            benchmark_basis=data["benchmark_basis"],
            benchmark_amount=data.get("benchmark_amount") or Decimal(0),
            target_mlr_percent=data.get("target_mlr_percent"),
            msr_percent=data.get("msr_percent") or Decimal(0),
            sharing_percent=Decimal(-1) if data.get("sharing_percent") is None else data["sharing_percent"],
            quality_min_score=data.get("quality_min_score"),
            quality_scale=scale_steps,
            savings_cap_percent=data.get("savings_cap_percent"),
            two_sided=bool(data.get("two_sided")),
            mlr_percent=data.get("mlr_percent") or Decimal(0),
            loss_sharing_percent=data.get("loss_sharing_percent") or Decimal(0),
            loss_cap_percent=data.get("loss_cap_percent"),
            loss_cap_revenue_percent=data.get("loss_cap_revenue_percent"),
            loss_sharing_floor_percent=data.get("loss_sharing_floor_percent"),
            loss_sharing_ceiling_percent=data.get("loss_sharing_ceiling_percent"),
            reference_raf_milli=int((data.get("reference_raf") or Decimal(1)) * 1000),
        ).check()
    except engine.SettlementError as error:
        field, _, message = str(error).partition(": ")
        add(field if field in TERM_FIELDS else "", message or str(error))
    except InvalidOperation:
        add("quality_scale", "scores and percents must be numbers")
    return problems


END_PREVIOUS_LABEL = "End the version in force the day before"
"""The pages' checkbox for ``end_previous`` (the command line's ``--end-previous``), as refusals name it."""

Versioned = SavingsTerm | DistributionFormula
V = TypeVar("V", SavingsTerm, DistributionFormula)


def _in_force_on(existing: Sequence[V], day: dt.date) -> V | None:
    """The version in force on ``day`` (versions never overlap, so at most one), or None."""
    return next((v for v in existing if in_force(v, day)), None)


def _overlap_refusal(
    error: ValueError, current: Versioned | None, valid_from: dt.date, end_previous: bool
) -> ValidationFailed:
    """The overlap refusal, on ``valid_from``. When ending the version in force that day would resolve it and
    the option was not given, it says that the option exists."""
    message = f"overlaps another version: {error}"
    if not end_previous and current is not None and current.valid_from < valid_from:
        message += (
            f"; to end version {current.version} ({describe_range(current.valid_from, current.valid_to)}) on "
            f"{valid_from - dt.timedelta(days=1)}, add the new one with --end-previous (on the page: tick "
            f"\u201c{END_PREVIOUS_LABEL}\u201d)"
        )
    return ValidationFailed.single("valid_from", message)


def _term_uses(term: SavingsTerm, valid_from: dt.date) -> list[tuple[dt.date, str]]:
    """The settlements (snapshots, with their runs) and forecasts that used ``term`` for a day on or after
    ``valid_from``: (the last day they used it, what they are)."""
    month = Month.of(valid_from).first_day
    uses: list[tuple[dt.date, str]] = []
    for snap in Snapshot.objects.filter(term=term, last_month__gte=month).prefetch_related("runs"):
        period = f"{snap.first_month:%Y-%m}..{snap.last_month:%Y-%m}"
        runs = sorted(snap.runs.all(), key=lambda r: r.pk)
        what = ", ".join(f"settlement run {r.pk} ({r.get_status_display().lower()}, {period})" for r in runs)
        uses.append((Month.of(snap.last_month).last_day, what or f"snapshot {snap.pk} ({period})"))
    for fc in Forecast.objects.filter(term=term, last_month__gte=month):
        uses.append((Month.of(fc.last_month).last_day,
                     f"forecast {fc.pk} ({fc.first_month:%Y-%m}..{fc.last_month:%Y-%m}, as of {fc.as_of})"))  # fmt: skip
    return uses


def _formula_uses(formula: DistributionFormula, valid_from: dt.date) -> list[tuple[dt.date, str]]:
    """The settlement runs that distributed by ``formula`` over a period reaching ``valid_from``."""
    month = Month.of(valid_from).first_day
    runs = SettlementRun.objects.filter(formula=formula, snapshot__last_month__gte=month).select_related(
        "snapshot"
    )
    return [(Month.of(r.snapshot.last_month).last_day,
             f"settlement run {r.pk} ({r.get_status_display().lower()}, "
             f"{r.snapshot.first_month:%Y-%m}..{r.snapshot.last_month:%Y-%m})") for r in runs]  # fmt: skip


def _end_previous(
    actor: Actor | None, current: Versioned, valid_from: dt.date, uses: list[tuple[dt.date, str]], action: str
) -> None:
    """End ``current`` (the version in force on ``valid_from``) on the day before, inside the caller's
    transaction. Refuse on ``valid_from`` (nothing written) when it starts that very day or when a settlement
    or forecast in ``uses`` used it for a day on or after ``valid_from``."""
    if current.valid_from >= valid_from:
        raise ValidationFailed.single(
            "valid_from",
            f"version {current.version} ({describe_range(current.valid_from, current.valid_to)}) starts on "
            f"{valid_from} itself, so it cannot end the day before: a version is never replaced, start the new one "
            "later",
        )  # fmt: skip
    if uses:
        uses.sort(key=lambda use: (use[0], use[1]))
        through, what = uses[-1]
        more = f" (and {len(uses) - 1} more)" if len(uses) > 1 else ""
        raise ValidationFailed.single(
            "valid_from",
            f"{what}{more} used version {current.version} through {through}: it cannot end on "
            f"{valid_from - dt.timedelta(days=1)}; the new version can start on {through + dt.timedelta(days=1)} "
            "at the earliest (a settled period is corrected by a new snapshot and run)",
        )  # fmt: skip
    audit.end_validity(actor, current, valid_from - dt.timedelta(days=1), action)


def term_create(
    actor: Actor | None,
    *,
    contract: Contract,
    data: Mapping[str, Any],
    who: str = "",
    end_previous: bool = False,
) -> SavingsTerm:
    """Add the next version of ``contract``'s shared savings terms. MSSP-style terms with a ``track`` take
    the track's sharing rate, payment limit, loss sharing (its rate, or its floor and ceiling) and loss caps
    (of the benchmark and of participant revenue) from data/mssp.json where not given. Shared savings terms
    are contract terms that move money: EDIT_CONTRACTS and EDIT_FINANCE (finance). Raise
    ValidationFailed (nothing written) for bad fields or a version overlapping another in time.

    With ``end_previous`` the version in force on ``valid_from`` (if any) ends the day before, in the same
    transaction; refused when it starts that day or a settlement or forecast used it for a later day."""
    if actor is not None:
        require(actor, Perm.EDIT_CONTRACTS)
        require(actor, Perm.EDIT_FINANCE)
    clean: dict[str, Any] = {k: data[k] for k in TERM_FIELDS if k in data}
    for name in TERM_DECIMALS:
        if name in clean:
            clean[name] = _decimal(clean[name], name)
    clean.setdefault("msr_source", SavingsTerm.MsrSource.FIXED)
    if clean.get("kind") == SavingsTerm.Kind.MSSP and clean.get("track"):
        try:
            track = terms_data.track(str(clean["track"]), clean["valid_from"])
        except (KeyError, TypeError) as error:
            raise ValidationFailed.single("track", str(error)) from None
        clean.setdefault("sharing_percent", track.sharing_percent)
        if clean.get("savings_cap_percent") is None:
            clean["savings_cap_percent"] = track.performance_payment_limit_percent
        clean.setdefault("two_sided", track.two_sided)
        if clean["two_sided"]:
            if not clean.get("loss_sharing_percent"):
                clean["loss_sharing_percent"] = track.loss_sharing_percent
            if clean.get("loss_cap_percent") is None:
                clean["loss_cap_percent"] = track.loss_cap_percent
                if clean.get("loss_cap_revenue_percent") is None:
                    clean["loss_cap_revenue_percent"] = track.loss_cap_revenue_percent
            if (
                clean.get("loss_sharing_floor_percent") is None
                and clean.get("loss_sharing_ceiling_percent") is None
            ):
                clean["loss_sharing_floor_percent"] = track.loss_sharing_floor_percent
                clean["loss_sharing_ceiling_percent"] = track.loss_sharing_ceiling_percent
    problems = _term_problems(clean)
    if problems:
        raise ValidationFailed(problems)
    for name in ("msr_percent", "mlr_percent", "loss_sharing_percent", "benchmark_amount"):
        if clean.get(name) is None:
            clean.pop(name, None)
    if clean.get("reference_raf") is None:
        clean.pop("reference_raf", None)
    with transaction.atomic():
        existing = list(SavingsTerm.objects.select_for_update().filter(contract=contract))
        current = _in_force_on(existing, clean["valid_from"])
        if end_previous and current is not None:
            _end_previous(actor, current, clean["valid_from"], _term_uses(current, clean["valid_from"]),
                          "savings.term_end")  # fmt: skip
        term = SavingsTerm(contract=contract, version=max((t.version for t in existing), default=0) + 1,
                           created_by=_who(actor, who), **clean)  # fmt: skip
        try:
            check_no_overlaps([*existing, term])
        except ValueError as error:
            raise _overlap_refusal(error, current, clean["valid_from"], end_previous) from None
        try:
            term.full_clean(exclude=["contract"])
        except DjangoValidationError as error:
            raise ValidationFailed(
                {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
            ) from None
        term.save()
        audit.record_write(actor, "savings.term_create", term,
                           after={"contract": contract.number, "version": term.version, "kind": term.kind})  # fmt: skip
    return term


def formula_create(
    actor: Actor | None, *, data: Mapping[str, Any], who: str = "", end_previous: bool = False
) -> DistributionFormula:
    """Add the next version of the distribution formula ``data["name"]``. Raise ValidationFailed for a formula
    the engine refuses or a version overlapping another. With ``end_previous`` the version in force on
    ``valid_from`` (if any) ends the day before, in the same transaction; refused when it starts that day or a
    settlement run distributed by it over a period reaching ``valid_from``."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationFailed.single("name", "required")
    reserve = _decimal(data.get("reserve_percent", "0"), "reserve_percent") or Decimal(0)
    fee = _decimal(data.get("admin_fee_percent", "0"), "admin_fee_percent") or Decimal(0)
    raw_pools = data.get("pools") or []
    try:
        pools = tuple(dist_engine.Pool(str(p["key"]), Decimal(str(p["percent"]))) for p in raw_pools)
        dist_engine.Formula(reserve, fee, pools).check()
    except (KeyError, TypeError, InvalidOperation):
        raise ValidationFailed.single("pools", 'a list of {"key": ..., "percent": ...}') from None
    except dist_engine.DistributionError as error:
        field, _, message = str(error).partition(": ")
        raise ValidationFailed.single(field, message) from None
    if not isinstance(data.get("valid_to"), dt.date | None):
        raise ValidationFailed.single("valid_to", "a date, or empty for an open-ended version")
    try:
        if not isinstance(data["valid_from"], dt.date):
            raise TypeError
        validate_range(data["valid_from"], data.get("valid_to"))
    except (KeyError, TypeError):
        raise ValidationFailed.single("valid_from", "required (a date)") from None
    except ValueError as error:
        raise ValidationFailed.single("valid_to", str(error)) from None
    with transaction.atomic():
        existing = list(DistributionFormula.objects.select_for_update().filter(name=name))
        current = _in_force_on(existing, data["valid_from"])
        if end_previous and current is not None:
            _end_previous(actor, current, data["valid_from"], _formula_uses(current, data["valid_from"]),
                          "savings.formula_end")  # fmt: skip
        formula = DistributionFormula(
            name=name, version=max((f.version for f in existing), default=0) + 1, reserve_percent=reserve,
            admin_fee_percent=fee, pools=[{"key": p.key, "percent": str(p.percent)} for p in pools],
            valid_from=data["valid_from"], valid_to=data.get("valid_to"), created_by=_who(actor, who),
        )  # fmt: skip
        try:
            check_no_overlaps([*existing, formula])
        except ValueError as error:
            raise _overlap_refusal(error, current, data["valid_from"], end_previous) from None
        formula.save()
        audit.record_write(
            actor, "savings.formula_create", formula, after={"name": name, "version": formula.version}
        )
    return formula


def engine_formula(formula: DistributionFormula) -> dist_engine.Formula:
    return dist_engine.Formula(
        reserve_percent=formula.reserve_percent,
        admin_fee_percent=formula.admin_fee_percent,
        pools=tuple(dist_engine.Pool(p["key"], Decimal(p["percent"])) for p in formula.pools),
    )


def term_in_force(contract: Contract, on: dt.date) -> SavingsTerm:
    term = pick_in_force(SavingsTerm.objects.filter(contract=contract).select_related("contract"), on)
    if term is None:
        raise NotFound(f"contract {contract.number} has no shared savings terms in force on {on}")
    return term


def formula_in_force(on: dt.date, name: str | None = None) -> DistributionFormula | None:
    qs = DistributionFormula.objects.all()
    if name:
        qs = qs.filter(name=name)
    found = [f for f in qs if f.valid_from <= on and (f.valid_to is None or on <= f.valid_to)]
    if len(found) > 1 and not name:
        raise ValidationFailed.single("formula", "more than one formula in force: name one")
    return found[0] if found else None


def settlement_formula(last_day: dt.date, chosen: DistributionFormula | None) -> DistributionFormula | None:
    """The formula a settlement of a period ending ``last_day`` distributes by: ``chosen`` when it is in force
    on that day, else the formula in force then (None when there is none: a run with nothing to distribute
    needs none, `prepare_run` says when one is needed)."""
    if chosen is None:
        return formula_in_force(last_day)
    if chosen.valid_from > last_day or (chosen.valid_to is not None and chosen.valid_to < last_day):
        raise ValidationFailed.single(
            "formula",
            f"{chosen.name} version {chosen.version} is not in force on {last_day}, the period's last day "
            f"(in force {chosen.valid_from}..{chosen.valid_to or 'open'})",
        )
    return chosen


# -- snapshots ---------------------------------------------------------------------------------------------


def _majority_practice(attribution: pl.DataFrame) -> pl.DataFrame:
    """Member -> the practice of most of its attributed months (a tie: the later month's)."""
    return (
        attribution.group_by("member_id", "practice_id")
        .agg(pl.len().alias("n"), pl.col("month").max().alias("latest"))
        .sort(["member_id", "n", "latest"], descending=[False, True, True])
        .group_by("member_id", maintain_order=True)
        .agg(pl.col("practice_id").first())
    )


def _round(value: Fraction) -> int:
    return engine._round(value)


def freeze(gathered: selectors.Gathered) -> dict[str, Any]:
    """The snapshot's numbers from what was gathered: per month, per practice, totals (exact, integers)."""
    att = gathered.attribution
    mm = att.group_by("practice_id", "month").agg(pl.len().alias("member_months"))
    paid = (
        gathered.costs.join(att, on=["member_id", "month"], how="inner")
        .group_by("practice_id", "month")
        .agg(pl.col("paid_cents").sum())
    )
    cells = mm.join(paid, on=["practice_id", "month"], how="left").with_columns(
        pl.col("paid_cents").fill_null(0)
    )
    completion = gathered.completion
    rows = cells.sort("practice_id", "month").to_dicts()
    mature_mm = mature_cost = 0
    for row in rows:
        factor = completion.get(row["month"], MICRO) if completion else MICRO
        row["completion_micro"] = factor
        row["mature"] = factor >= max(gathered.threshold_micro, 1)
        if row["mature"]:
            row["cost_cents"] = _round(Fraction(row["paid_cents"] * MICRO, factor))
            mature_mm += row["member_months"]
            mature_cost += row["cost_cents"]
    notes = list(gathered.notes)
    if any(not r["mature"] for r in rows):
        if mature_mm:
            rate = Fraction(mature_cost, mature_mm)
            notes.append(
                f"immature months costed at the run-rate of the mature months, {float(rate) / 100:.2f} PMPM"
            )
        else:
            rate = Fraction(0)
            notes.append("no mature month: immature months costed at paid only")
        for row in rows:
            if not row["mature"]:
                row["cost_cents"] = _round(rate * row["member_months"]) if mature_mm else row["paid_cents"]
    member_practice = _majority_practice(att)
    members = member_practice.group_by("practice_id").agg(pl.len().alias("members"))
    quality = (
        gathered.quality.join(member_practice, on="member_id")
        .group_by("practice_id")
        .agg(pl.col("quality_numerator").sum(), pl.col("quality_denominator").sum())
    )
    raf = (
        gathered.raf.join(member_practice, on="member_id")
        .group_by("practice_id")
        .agg(pl.col("raf_milli").sum().alias("raf_sum_milli"), pl.len().alias("raf_count"))
    )
    practices: dict[int, dict[str, int]] = {}
    for row in rows:
        p = practices.setdefault(row["practice_id"], {"practice_id": row["practice_id"], "member_months": 0,
                                                      "paid_cents": 0, "cost_cents": 0})  # fmt: skip
        p["member_months"] += row["member_months"]
        p["paid_cents"] += row["paid_cents"]
        p["cost_cents"] += row["cost_cents"]
    extra: dict[int, dict[str, int]] = {}
    for frame in (members, quality, raf):
        for r in frame.to_dicts():
            extra.setdefault(r.pop("practice_id"), {}).update({k: int(v) for k, v in r.items()})
    practice_rows = []
    for pid in sorted(practices):
        e = extra.get(pid, {})
        practice_rows.append({**practices[pid], "members": e.get("members", 0),
                              "quality_numerator": e.get("quality_numerator", 0),
                              "quality_denominator": e.get("quality_denominator", 0),
                              "raf_sum_milli": e.get("raf_sum_milli", 0), "raf_count": e.get("raf_count", 0)})  # fmt: skip
    by_month: dict[dt.date, dict[str, Any]] = {}
    for row in rows:
        m = by_month.setdefault(row["month"], {"month": row["month"].isoformat(), "member_months": 0, "paid_cents": 0,
                                               "cost_cents": 0, "completion_micro": row["completion_micro"],
                                               "mature": row["mature"]})  # fmt: skip
        m["member_months"] += row["member_months"]
        m["paid_cents"] += row["paid_cents"]
        m["cost_cents"] += row["cost_cents"]
    raf_count = sum(p["raf_count"] for p in practice_rows)
    raf_sum = sum(p["raf_sum_milli"] for p in practice_rows)
    return {
        "members": member_practice.height,
        "member_months": sum(p["member_months"] for p in practice_rows),
        "paid_cents": sum(p["paid_cents"] for p in practice_rows),
        "cost_cents": sum(p["cost_cents"] for p in practice_rows),
        "quality_numerator": sum(p["quality_numerator"] for p in practice_rows),
        "quality_denominator": sum(p["quality_denominator"] for p in practice_rows),
        "mean_raf_milli": _round(Fraction(raf_sum, raf_count)) if raf_count else None,
        "practices": practice_rows,
        "months": [by_month[k] for k in sorted(by_month)],
        "notes": notes,
    }


def take_snapshot(
    actor: Actor | None,
    *,
    contract: Contract,
    first: Month,
    last: Month,
    cutoff: dt.date,
    quality_run: QualityRun | None = None,
    risk_run: RiskRun | None = None,
    ibnr_estimate: IbnrEstimate | None = None,
    who: str = "",
) -> Snapshot:
    """Freeze what the settlement of ``contract`` over ``first``..``last`` reads at ``cutoff``. The IBNR
    estimate defaults to the latest approved one as of the cut-off (when the terms complete claims)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    if last.index < first.index:
        raise ValidationFailed.single("last_month", "is before the first month")
    if cutoff < last.last_day:
        raise ValidationFailed.single("cutoff", f"{cutoff} is before the period ends ({last.last_day})")
    term = term_in_force(contract, first.first_day)
    if term.ibnr_completion and ibnr_estimate is None:
        ibnr_estimate = selectors.latest_ibnr(cutoff)
    gathered = selectors.gather(actor, term, first=first, last=last, cutoff=cutoff, quality_run=quality_run,
                                risk_run=risk_run, ibnr_estimate=ibnr_estimate)  # fmt: skip
    if gathered.attribution.height == 0:
        raise ValidationFailed.single(
            "contract", f"nobody is attributed to {contract.number} from {first} to {last}"
        )
    frozen = freeze(gathered)
    digest = selectors.content_hash([gathered.attribution, gathered.costs, gathered.quality, gathered.raf])
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            contract=contract, term=term, first_month=first.first_day, last_month=last.first_day, cutoff=cutoff,
            quality_run=quality_run, risk_run=risk_run, ibnr_estimate=ibnr_estimate if term.ibnr_completion else None,
            members=frozen["members"], member_months=frozen["member_months"], paid_cents=frozen["paid_cents"],
            cost_cents=frozen["cost_cents"], revenue_cents=gathered.revenue_cents,
            quality_numerator=frozen["quality_numerator"], quality_denominator=frozen["quality_denominator"],
            mean_raf_milli=frozen["mean_raf_milli"], practices=frozen["practices"], months=frozen["months"],
            inputs={"term_version": term.version, "quality_run": getattr(quality_run, "pk", None),
                    "risk_run": getattr(risk_run, "pk", None),
                    "ibnr_estimate": getattr(ibnr_estimate, "pk", None) if term.ibnr_completion else None,
                    "notes": frozen["notes"], "attributed_rows": gathered.attribution.height,
                    "cost_rows": gathered.costs.height},
            content_sha256=digest, taken_by=_who(actor, who),
        )  # fmt: skip
        audit.record_write(actor, "savings.snapshot", snapshot,
                           after={"members": snapshot.members, "member_months": snapshot.member_months,
                                  "cost_cents": snapshot.cost_cents, "sha256": digest})  # fmt: skip
    return snapshot


def snapshot_totals(snapshot: Snapshot) -> engine.Totals:
    return engine.Totals(
        member_months=snapshot.member_months,
        cost_cents=snapshot.cost_cents,
        revenue_cents=snapshot.revenue_cents,
        quality_numerator=snapshot.quality_numerator,
        quality_denominator=snapshot.quality_denominator,
        mean_raf_milli=snapshot.mean_raf_milli,
    )


def practice_keys(snapshot: Snapshot) -> list[dist_engine.PracticeKeys]:
    keys = []
    for p in snapshot.practices:
        totals = engine.Totals(member_months=p["member_months"], cost_cents=p["cost_cents"],
                               quality_numerator=p["quality_numerator"], quality_denominator=p["quality_denominator"])  # fmt: skip
        keys.append(
            dist_engine.PracticeKeys(
                p["practice_id"], p["member_months"], p["cost_cents"], totals.quality_score
            )
        )
    return keys


def settle_snapshot(snapshot: Snapshot) -> engine.Settlement:
    """The settlement of a frozen snapshot under its own term version: the same answer every time."""
    term = snapshot.term
    terms = engine_terms(term, beneficiaries=snapshot.members, on=snapshot.last_month)
    try:
        return engine.settle(terms, snapshot_totals(snapshot))
    except engine.SettlementError as error:
        raise ValidationFailed.single("terms", str(error)) from None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def prepare_run(
    actor: Actor | None, *, snapshot: Snapshot, formula: DistributionFormula | None, who: str = ""
) -> SettlementRun:
    """A draft settlement run of ``snapshot``, its savings distributed by ``formula`` (needed when savings
    are earned). Raise ValidationFailed (nothing written) for terms or a formula the engines refuse."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    result = settle_snapshot(snapshot)
    distributed: dist_engine.Distribution | None = None
    if result.shared_cents > 0:
        if formula is None:
            raise ValidationFailed.single("formula", "savings were earned: name a distribution formula")
        try:
            distributed = dist_engine.distribute(result.shared_cents, benchmark_cents=result.benchmark_cents,
                                                 practices=practice_keys(snapshot), formula=engine_formula(formula))  # fmt: skip
        except dist_engine.DistributionError as error:
            raise ValidationFailed.single("formula", str(error)) from None
    flags = {k: getattr(result, k) for k in ("msr_cents", "msr_met", "quality_met", "earned_cents", "cap_cents",
                                             "cap_binding", "mlr_cents", "mlr_met", "loss_cap_binding")}  # fmt: skip
    result_json = _jsonable({
        **flags, "savings_rate": result.savings_rate, "quality_score": result.quality_score,
        "quality_percent": result.quality_percent, "outcome": result.outcome,
        "steps": [{"label": s.label, "value": s.value, "cents": s.cents} for s in result.steps],
    })  # fmt: skip
    with transaction.atomic():
        run = SettlementRun.objects.create(
            snapshot=snapshot, formula=formula if distributed else None, benchmark_cents=result.benchmark_cents,
            cost_cents=result.cost_cents, savings_cents=result.savings_cents, shared_cents=result.shared_cents,
            reserve_cents=distributed.reserve_cents if distributed else 0,
            admin_fee_cents=distributed.admin_fee_cents if distributed else 0,
            distributable_cents=distributed.distributable_cents if distributed else 0, result=result_json,
            distribution={"pools": distributed.pools, "fallbacks": list(distributed.fallbacks)} if distributed else {},
            prepared_by=_who(actor, who),
        )  # fmt: skip
        if distributed:
            PracticeShare.objects.bulk_create(
                PracticeShare(run=run, practice_id=s.practice_id, member_months=s.member_months,
                              cost_cents=s.cost_cents, quality_score=s.quality_score,
                              efficiency_weight=s.efficiency_weight, pools=s.pools, total_cents=s.total_cents)
                for s in distributed.shares
            )  # fmt: skip
        audit.record_write(actor, "savings.prepare", run,
                           after={"snapshot": snapshot.pk, "shared_cents": run.shared_cents})  # fmt: skip
    return run


def approve_run(actor: Actor | None, run: SettlementRun, *, who: str = "") -> SettlementRun:
    """Approve a draft run (a finance user other than its preparer) and post its ledger entries."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    approver = _who(actor, who)
    with transaction.atomic():
        run = (
            SettlementRun.objects.select_for_update()
            .select_related("snapshot", "snapshot__contract")
            .get(pk=run.pk)
        )
        if run.status != SettlementRun.Status.DRAFT:
            raise RunRefused(f"run {run.pk} is {run.get_status_display().lower()}: only a draft is approved")
        if approver == run.prepared_by:
            raise RunRefused(f"run {run.pk} was prepared by {approver}: another finance user approves it")
        run.status = SettlementRun.Status.APPROVED
        run.approved_by = approver
        run.approved_at = timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        contract = run.snapshot.contract
        day = timezone.localdate()
        label = f"shared savings run {run.pk} ({contract.number} {run.snapshot.first_month:%Y-%m}.."
        label += f"{run.snapshot.last_month:%Y-%m})"
        if run.shared_cents > 0:
            post_entry(actor=actor, date=day, memo=f"{label}: savings earned", postings=[
                Posting(account=accounts.SHARED_SAVINGS_RECEIVABLE, debit_cents=run.shared_cents, payer_id=contract.payer_id),
                Posting(account=accounts.SHARED_SAVINGS_REVENUE, credit_cents=run.shared_cents, payer_id=contract.payer_id),
            ], source_type="savings_settlement", source_id=run.pk)  # fmt: skip
            shares = [s for s in run.shares.all() if s.total_cents > 0]
            if shares:
                total = sum(s.total_cents for s in shares)
                post_entry(actor=actor, date=day, memo=f"{label}: distribution to practices", postings=[
                    *(Posting(account=accounts.SHARED_SAVINGS_DISTRIBUTED, debit_cents=s.total_cents,
                              practice_id=s.practice_id) for s in shares),
                    *(Posting(account=accounts.INCENTIVES_PAYABLE, credit_cents=s.total_cents,
                              practice_id=s.practice_id) for s in shares),
                ], source_type="savings_distribution", source_id=run.pk)  # fmt: skip
                assert total == run.distributable_cents
        elif run.shared_cents < 0:
            post_entry(actor=actor, date=day, memo=f"{label}: shared loss owed", postings=[
                Posting(account=accounts.SHARED_LOSS_EXPENSE, debit_cents=-run.shared_cents, payer_id=contract.payer_id),
                Posting(account=accounts.SHARED_LOSS_PAYABLE, credit_cents=-run.shared_cents, payer_id=contract.payer_id),
            ], source_type="savings_settlement", source_id=run.pk)  # fmt: skip
        audit.record_write(actor, "savings.approve", run, after={"approved_by": approver})
    return run


def pay_run(
    actor: Actor | None, run: SettlementRun, *, out: Path, effective: dt.date | None = None, who: str = ""
) -> SettlementRun:
    """Pay an approved run's practice shares: one NACHA file of CCD+ credits; practices without bank details
    are held. Raise RunRefused (nothing written) for a run that is not approved or has nothing to pay."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    effective = effective or (timezone.localdate() + dt.timedelta(days=1))
    with transaction.atomic():
        run = (
            SettlementRun.objects.select_for_update()
            .select_related("snapshot", "snapshot__contract")
            .get(pk=run.pk)
        )
        if run.status != SettlementRun.Status.APPROVED:
            raise RunRefused(
                f"run {run.pk} is {run.get_status_display().lower()}: only an approved run is paid"
            )
        if run.shared_cents <= 0:
            raise RunRefused(f"run {run.pk} earned no savings: there is nothing to pay to practices")
        shares = list(
            run.shares.select_related("practice").filter(total_cents__gt=0).order_by("practice__tin")
        )
        banked = [s for s in shares if s.practice.bank_routing_number and s.practice.bank_account_number]
        held = [s for s in shares if s not in banked]
        if not banked:
            raise RunRefused(f"run {run.pk} has no share to send (none above zero with bank details)")
        odfi = trace_prefix()
        traces = [f"{odfi}{n:07d}" for n in range(1, len(banked) + 1)]
        credits = [Credit(routing_number=s.practice.bank_routing_number, account_number=s.practice.bank_account_number,
                          amount_cents=s.total_cents, tin=s.practice.tin, name=s.practice.legal_name, trace_number=t)
                   for s, t in zip(banked, traces, strict=True)]  # fmt: skip
        written = write_ach(out, credits, description="SHSAVINGS", descriptive_date=f"{run.snapshot.last_month:%b %y}".upper(),
                            reference=f"SSR{run.pk}", effective=effective, kept_name=f"savings-run-{run.pk}")  # fmt: skip
        for share, trace in zip(banked, traces, strict=True):
            share.status = PracticeShare.Status.SENT
            share.trace_number = trace
            share.save(update_fields=["status", "trace_number"])
        for share in held:
            share.status = PracticeShare.Status.HELD
            share.save(update_fields=["status"])
        run.status = SettlementRun.Status.PAID
        run.paid_at = timezone.now()
        run.payment_date = effective
        run.payment_file = out.name
        run.payment_stored_path = written.stored_path
        run.payment_sha256 = written.sha256
        run.payment_total_cents = written.total_cents
        run.save(update_fields=["status", "paid_at", "payment_date", "payment_file", "payment_stored_path",
                                "payment_sha256", "payment_total_cents"])  # fmt: skip
        post_entry(actor=actor, date=effective, memo=f"shared savings payments of run {run.pk}: {out.name}", postings=[
            *(Posting(account=accounts.INCENTIVES_PAYABLE, debit_cents=s.total_cents, practice_id=s.practice_id,
                      memo=f"ACH trace {s.trace_number}") for s in banked),
            Posting(account=accounts.CASH, credit_cents=written.total_cents),
        ], source_type="savings_payment", source_id=run.pk)  # fmt: skip
        audit.record_write(actor, "savings.pay", run, after={"entries": written.entries, "total_cents": written.total_cents,
                                                             "held": len(held), "who": _who(actor, who)})  # fmt: skip
    return run


# -- forecast ----------------------------------------------------------------------------------------------


def forecast_inputs(
    actor: Actor | None, term: SavingsTerm, *, first: Month, last: Month, as_of: dt.date,
    quality_run: QualityRun | None, risk_run: RiskRun | None,
) -> tuple[pl.DataFrame, int, int, int | None, list[str]]:  # fmt: skip
    """Members' observed (mature) member-months and completed cost, quality; the expected member-months of the
    year; revenue; mean RAF; notes. Months up to the as-of month are observed; immature ones (completion
    below the IBNR threshold) and those after it are projected."""
    seen_last = Month.of(as_of) if Month.of(as_of).index <= last.index else last
    if seen_last.last_day > as_of:
        seen_last = seen_last - 1
    if seen_last.index < first.index:
        raise ValidationFailed.single("as_of", f"{as_of}: no whole month of the year has passed")
    estimate = selectors.latest_ibnr(as_of) if term.ibnr_completion else None
    gathered = selectors.gather(actor, term, first=first, last=seen_last, cutoff=as_of, quality_run=quality_run,
                                risk_run=risk_run, ibnr_estimate=estimate)  # fmt: skip
    if gathered.attribution.height == 0:
        raise ValidationFailed.single("contract", "nobody is attributed so far this year")
    notes = list(gathered.notes)
    completion = gathered.completion
    threshold = max(gathered.threshold_micro, 1)
    months = pl.DataFrame(
        {"month": [m.first_day for m in Month.range(first, seen_last)]}, schema={"month": pl.Date}
    ).with_columns(
        pl.col("month")
        .replace_strict(completion or {}, default=MICRO, return_dtype=pl.Int64)
        .alias("completion")
    )
    mature = months.filter(pl.col("completion") >= threshold)
    att = gathered.attribution
    observed_att = att.join(mature.select("month"), on="month", how="semi")
    costs = gathered.costs.join(mature, on="month").with_columns(
        ((pl.col("paid_cents") * MICRO * 2 + pl.col("completion")) // (2 * pl.col("completion"))).alias(
            "cost"
        )
    )
    member_mm = observed_att.group_by("member_id").agg(pl.len().alias("member_months"))
    member_cost = costs.group_by("member_id").agg(pl.col("cost").sum().alias("cost_cents"))
    frame = (
        att.select("member_id").unique()
        .join(member_mm, on="member_id", how="left")
        .join(member_cost, on="member_id", how="left")
        .join(gathered.quality, on="member_id", how="left")
        .with_columns(pl.col("member_months", "cost_cents", "quality_numerator", "quality_denominator").fill_null(0))
        .sort("member_id")
    )  # fmt: skip
    remaining = last.index - seen_last.index
    latest = att.filter(pl.col("month") == pl.col("month").max()).height
    expected = att.height + remaining * latest
    if months.height > mature.height:
        notes.append(f"{months.height - mature.height} immature month(s) projected at the run-rate")
    notes.append(f"{remaining} month(s) to come at {latest:,} members (the last month's attribution)")
    raf = gathered.raf
    mean_raf = _round(Fraction(int(raf["raf_milli"].sum()), raf.height)) if raf.height else None
    return frame, expected, gathered.revenue_cents, mean_raf, notes


def make_forecast(
    actor: Actor | None, *, contract: Contract, first: Month, last: Month, as_of: dt.date,
    samples: int = forecast_engine.DEFAULT_SAMPLES, seed: int = 1, quality_run: QualityRun | None = None,
    risk_run: RiskRun | None = None, who: str = "",
) -> Forecast:  # fmt: skip
    """Project the settlement of ``contract`` over ``first``..``last`` as of ``as_of`` and keep it."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    term = term_in_force(contract, first.first_day)
    frame, expected, revenue, mean_raf, notes = forecast_inputs(
        actor, term, first=first, last=last, as_of=as_of, quality_run=quality_run, risk_run=risk_run
    )
    beneficiaries = frame.height
    terms = engine_terms(term, beneficiaries=beneficiaries, on=last.first_day)
    try:
        result = forecast_engine.forecast(frame, terms=terms, expected_member_months=expected, revenue_cents=revenue,
                                          mean_raf_milli=mean_raf, samples=samples, seed=seed)  # fmt: skip
    except forecast_engine.ForecastError as error:
        raise ValidationFailed.single("", str(error)) from None
    point = result.point
    payload = _jsonable({
        "beneficiaries": beneficiaries, "observed_member_months": result.observed_member_months,
        "expected_member_months": expected, "observed_cost_cents": result.observed_cost_cents,
        "projected_cost_cents": result.projected_cost_cents, "benchmark_cents": point.benchmark_cents,
        "savings_cents": point.savings_cents, "savings_rate": point.savings_rate, "shared_cents": point.shared_cents,
        "msr_cents": point.msr_cents, "quality_score": point.quality_score,
        "interval": {"low": result.savings_low_cents, "median": result.savings_median_cents,
                     "high": result.savings_high_cents},
        "shared_interval": {"low": result.shared_low_cents, "median": result.shared_median_cents,
                            "high": result.shared_high_cents},
        "probabilities": {"msr_met": result.p_msr_met, "quality_met": result.p_quality_met,
                          "savings_cap": result.p_savings_cap, "loss_shared": result.p_loss_shared,
                          "loss_cap": result.p_loss_cap},
        "histogram": forecast_engine.histogram(result.savings_samples),
        "steps": [{"label": s.label, "value": s.value, "cents": s.cents} for s in point.steps],
        "notes": notes, "term_version": term.version, "quality_run": getattr(quality_run, "pk", None),
        "risk_run": getattr(risk_run, "pk", None),
    })  # fmt: skip
    with transaction.atomic():
        record = Forecast.objects.create(contract=contract, term=term, first_month=first.first_day,
                                         last_month=last.first_day, as_of=as_of, samples=samples, seed=seed,
                                         result=payload, created_by=_who(actor, who))  # fmt: skip
        audit.record_write(actor, "savings.forecast", record, after={"savings_cents": point.savings_cents})
    return record
