"""Incentive settlements: formulas (versioned), runs draft -> approved -> paid, their ledger entries and payments.

- ``save_formula``: a new version of a contract's formula for one kind; its parameters checked by the engine and
  its dates by ``core.dating`` (versions of one contract and kind never overlap).
- ``prepare_settlement``: reads the period's inputs (the payer's approved capitation runs, the claims the IPA
  paid, a quality run, the quality-pool liability) and the formula in force, runs the pure engine and stores a
  draft with a line per practice. A draft is replaced when prepared again. Once the period has an approved
  run, preparing it again makes a correction: the full recomputed lines, naming the run it corrects, posting
  and paying the difference.
- ``approve_settlement``: by an EDIT_FINANCE user other than the preparer; posts the balanced entry (every
  practice's amount with its practice_id) in the same transaction. Approved runs never change.
- ``pay_settlement``: a NACHA file of what the run owes each practice (its difference, for a correction);
  practices without bank details are held.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from openipa.contracts.models import Contract
from openipa.core import audit
from openipa.core.dating import OverlapError, check_no_overlaps, in_force, validate_range
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor, Perm, require
from openipa.incentives import engine, selectors
from openipa.incentives.models import (
    IncentiveFormula,
    Kind,
    SettlementLine,
    SettlementPaymentFile,
    SettlementRun,
)
from openipa.ledger import accounts
from openipa.ledger.payouts import Credit, trace_prefix, write_ach
from openipa.ledger.services import Posting, post_entry
from openipa.quality.models import QualityRun

Status = SettlementRun.Status
PayStatus = SettlementLine.PayStatus
SOURCE_ACCOUNTS = {
    Kind.QUALITY: accounts.QUALITY_POOL_LIABILITY,
    Kind.WITHHOLD: accounts.WITHHOLD_LIABILITY,
    Kind.RISK_POOL: accounts.RISK_POOL_LIABILITY,
}


class SettlementRefused(ValueError):
    """The settlement cannot be prepared, approved or paid as asked; the message says why."""


def _who(actor: Actor | None, who: str) -> str:
    return who or (getattr(actor, "username", "") if actor is not None else "") or "system"


# -- formulas ------------------------------------------------------------------------------------------------


def _param_field(message: str) -> str:
    """The formula field a FormulaError names first ("tiers[1].percent: ..." -> "tiers"), else "params"."""
    match = re.match(r"^([a-z_]+)(?:\[\d+\])?(?:\.[a-z_]+)?:", message)
    return match.group(1) if match and match.group(1) in PARAM_FIELDS else "params"


PARAM_FIELDS = frozenset({
    "measures", "scoring", "min_denominator", "threshold", "pool_source", "fixed_pool_cents", "basis", "unearned",
    "tiers", "unscored_percent", "service_categories", "surplus_share_percent", "surplus_basis",
    "deficit_share_percent", "cap_kind", "cap_percent", "cap_cents",
})  # fmt: skip
"""The formulas' fields (engine.parse_params): a refusal names the one it is about."""


def _end_previous(
    actor: Actor | None, current: IncentiveFormula, parsed: Any, kind: str, valid_from: dt.date
) -> None:
    """End ``current`` (the version in force on ``valid_from``) the day before; refuse when nothing changed or
    when a settlement that is not a draft used it for a period reaching ``valid_from``."""
    try:
        same = engine.parse_params(kind, current.params) == parsed
    except engine.FormulaError:
        same = False
    if same:
        raise ValidationFailed.single("", f"nothing changed: version {current.pk} ({current.name}), in force on "
                                          f"{valid_from}, has the same fields; change a field or keep that version")  # fmt: skip
    if current.valid_from >= valid_from:
        return  # not ended: the overlap check refuses the new version
    used = (
        SettlementRun.objects.filter(formula=current, period_end__gte=valid_from)
        .exclude(status=Status.DRAFT)
        .order_by("-period_end", "-pk")
        .first()
    )
    if used is not None:
        raise ValidationFailed.single(
            "valid_from",
            f"settlement {used.pk} ({used.period}, {used.get_status_display().lower()}) used version {current.pk} "
            f"through {used.period_end}: a new version can start on {used.period_end + dt.timedelta(days=1)} at "
            "the earliest (correct a settled period with a correction run)",
        )  # fmt: skip
    audit.end_validity(actor, current, valid_from - dt.timedelta(days=1), "incentives.formula_end")


def save_formula(
    *,
    actor: Actor | None,
    contract: Contract,
    kind: str,
    name: str,
    params: dict[str, Any],
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    notes: str = "",
    who: str = "",
    end_previous: bool = False,
) -> IncentiveFormula:
    """Add a version of the contract's formula of ``kind``; refuses bad parameters and overlapping dates.

    With ``end_previous`` the version in force on ``valid_from`` (if any) is ended the day before, unless it has
    the same fields (nothing changed: refused) or a settlement that is not a draft used it for a period reaching
    ``valid_from`` (refused, naming the run). A draft of it is refused when approved (prepare it again)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    if kind not in Kind.values:
        raise ValidationFailed.single("kind", f"{kind!r} is not one of {', '.join(Kind.values)}")
    if not name.strip():
        raise ValidationFailed.single("name", "a formula needs a name")
    try:
        parsed = engine.parse_params(kind, params)
    except engine.FormulaError as exc:
        raise ValidationFailed.single(_param_field(str(exc)), str(exc)) from None
    try:
        validate_range(valid_from, valid_to)
    except ValueError as exc:
        raise ValidationFailed.single("valid_to", str(exc)) from None
    with transaction.atomic():
        Contract.objects.select_for_update().filter(
            pk=contract.pk
        ).first()  # one writer of its versions at a time
        existing = list(IncentiveFormula.objects.filter(contract=contract, kind=kind))
        if end_previous:
            current = next((f for f in existing if in_force(f, valid_from)), None)
            if current is not None:
                _end_previous(actor, current, parsed, kind, valid_from)
        formula = IncentiveFormula(contract=contract, kind=kind, name=name.strip(), params=params,
                                   valid_from=valid_from, valid_to=valid_to, notes=notes,
                                   created_by=_who(actor, who))  # fmt: skip
        try:
            check_no_overlaps([*existing, formula])
        except OverlapError as exc:
            raise ValidationFailed.single("valid_from", f"overlaps another version: {exc}") from None
        formula.save()
        audit.record_write(actor, "incentives.formula", formula,
                           after={"kind": kind, "valid_from": str(valid_from), "params": params})  # fmt: skip
    return formula


# -- preparing -----------------------------------------------------------------------------------------------


def _quality_run(year: int, quality_run_id: int | None) -> QualityRun:
    if quality_run_id is not None:
        run = QualityRun.objects.filter(pk=quality_run_id).first()
        if run is None:
            raise SettlementRefused(f"no quality run {quality_run_id}")
        return run
    run = selectors.latest_quality_run(year)
    if run is None:
        raise SettlementRefused(f"no quality run of measurement year {year}: run the measures first")
    return run


def _scores(
    scoring: engine.Scoring, quality: QualityRun, practice_ids: set[int]
) -> tuple[dict[int, engine.Score], dict[str, Any]]:
    counts = selectors.quality_counts(quality)
    targets = selectors.quality_targets(quality.measurement_year)
    try:
        scores = {p: engine.score(scoring, counts.get(p, {}), targets) for p in practice_ids}
    except engine.FormulaError as exc:
        raise SettlementRefused(str(exc)) from None
    used = {f"{m.measure} / {m.rate}": {"target": str(m.target if m.target is not None else targets[(m.measure, m.rate)].target),
                                        "cut_points": [str(c) for c in targets[(m.measure, m.rate)].cut_points]
                                        if (m.measure, m.rate) in targets else []}
            for m in scoring.measures}  # fmt: skip
    return scores, {"quality_run": quality.pk, "measurement_year": quality.measurement_year,
                    "as_of": str(quality.as_of), "targets": used}  # fmt: skip


def _compute(
    contract: Contract, kind: str, period: engine.Period, formula: IncentiveFormula, quality_run_id: int | None,
    pool_cents: int | None,
) -> tuple[engine.Settlement, selectors.CapitationInputs, dict[str, Any], int | None, dict[int, engine.Score]]:  # fmt: skip
    try:
        params = engine.parse_params(kind, formula.params)
    except engine.FormulaError as exc:
        raise SettlementRefused(f"formula {formula.pk}: {exc}") from None
    cap = selectors.capitation_inputs(contract.payer_id, period)
    if not cap.run_ids:
        raise SettlementRefused(f"{contract.payer.code} has no approved capitation run in {period.label}")
    inputs: dict[str, Any] = {"months_without_run": cap.months_without_run}
    practice_ids = set(cap.member_months) | set(cap.withheld) | set(cap.funded)
    scores: dict[int, engine.Score] = {}
    quality_id = None
    if isinstance(params, (engine.QualityParams, engine.WithholdParams)):
        quality = _quality_run(period.year, quality_run_id)
        scores, inputs["quality"] = _scores(params.scoring, quality, practice_ids)
        quality_id = quality.pk
    costs: dict[int, int] = {}
    if isinstance(params, engine.RiskPoolParams):
        costs = selectors.claims_paid_by_practice(cap.run_ids, period, params.service_categories)
        inputs["cost"] = {"source": "claim lines the IPA paid (claim paid, line payable, DOFR party ipa)",
                          "service_categories": list(params.service_categories) or "all"}  # fmt: skip
    practices = [
        engine.PracticeInput(
            practice_id=p,
            member_months=cap.member_months.get(p, 0),
            withheld_cents=max(cap.withheld.get(p, 0), 0),
            funded_cents=max(cap.funded.get(p, 0), 0),
            capitation_cents=max(cap.capitation.get(p, 0), 0),
            cost_cents=costs.get(p, 0),
            score=scores.get(p),
        )
        for p in sorted(practice_ids)
    ]
    try:
        if isinstance(params, engine.QualityParams):
            if pool_cents is None:
                if params.pool_source == "fixed":
                    pool_cents = params.fixed_pool_cents
                    inputs["pool"] = "fixed amount of the formula"
                else:
                    pool_cents = max(selectors.quality_pool_balance(contract.payer_id, period.last), 0)
                    inputs["pool"] = (
                        f"quality pool liability balance for {contract.payer.code} on {period.last}"
                    )
            else:
                inputs["pool"] = "amount entered when prepared"
            settlement = engine.settle_quality(params, pool_cents, practices)
        elif isinstance(params, engine.WithholdParams):
            settlement = engine.settle_withhold(params, practices)
        else:
            settlement = engine.settle_risk_pool(params, practices)
    except engine.FormulaError as exc:
        raise SettlementRefused(str(exc)) from None
    inputs["totals"] = dict(settlement.totals)
    inputs["notes"] = list(settlement.notes) + (
        [f"months without an approved capitation run: {', '.join(cap.months_without_run)}"]
        if cap.months_without_run else []
    )  # fmt: skip
    return settlement, cap, inputs, quality_id, scores


def prepare_settlement(
    *,
    actor: Actor | None,
    contract: Contract,
    kind: str,
    period: str,
    quality_run_id: int | None = None,
    pool_cents: int | None = None,
    who: str = "",
) -> SettlementRun:
    """Prepare the contract's settlement of ``kind`` for ``period`` (a draft, or a correction after an
    approved run)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    if kind not in Kind.values:
        raise SettlementRefused(f"kind {kind!r} is not one of {', '.join(Kind.values)}")
    if pool_cents is not None and (
        isinstance(pool_cents, bool) or not isinstance(pool_cents, int) or pool_cents < 0
    ):
        raise SettlementRefused("the pool entered must be whole cents, not negative")
    if pool_cents is not None and kind != Kind.QUALITY:
        raise SettlementRefused("only a quality pool takes an amount entered")
    try:
        span = engine.parse_period(period)
    except engine.FormulaError as exc:
        raise SettlementRefused(str(exc)) from None
    try:
        formula = selectors.formula_in_force(contract, kind, span)
    except NotFound as exc:
        raise SettlementRefused(str(exc)) from None
    settlement, cap, inputs, quality_id, scores = _compute(
        contract, kind, span, formula, quality_run_id, pool_cents
    )
    with transaction.atomic():
        Contract.objects.select_for_update().filter(
            pk=contract.pk
        ).first()  # one preparer of its runs at a time
        runs = SettlementRun.objects.select_for_update().filter(
            contract=contract, kind=kind, period=span.label
        )
        for draft in runs.filter(status=Status.DRAFT):
            draft.lines.all().delete()
            draft.delete()
        previous = runs.exclude(status=Status.DRAFT).order_by("-pk").first()
        before = {line.practice_id: line for line in previous.lines.all()} if previous else {}
        run = SettlementRun.objects.create(
            kind=kind, contract=contract, payer_id=contract.payer_id, period=span.label, period_start=span.first,
            period_end=span.last, formula=formula, formula_params=formula.params, corrects=previous,
            quality_run_id=quality_id, capitation_run_ids=cap.run_ids, snapshot_at=timezone.now(), inputs=inputs,
            release_cents=settlement.release_cents, paid_cents=settlement.totals["paid_cents"],
            charged_cents=settlement.totals["charged_cents"], kept_cents=settlement.totals["kept_cents"],
            pool_kept_cents=settlement.pool_kept_cents, prepared_by=_who(actor, who),
        )  # fmt: skip
        _write_lines(run, settlement, cap, before, scores)
        if previous is not None and not _changed(run, previous):
            raise SettlementRefused(f"nothing changed since settlement {previous.pk} was approved")
        audit.record_write(actor, "incentives.prepare", run,
                           after={"kind": kind, "period": span.label, "paid_cents": run.paid_cents,
                                  "corrects": previous.pk if previous else None})  # fmt: skip
    return run


def _write_lines(
    run: SettlementRun, settlement: engine.Settlement, cap: selectors.CapitationInputs,
    before: dict[int, SettlementLine], scores: dict[int, engine.Score],
) -> None:  # fmt: skip
    rows = []
    seen = set()
    for line in settlement.lines:
        seen.add(line.practice_id)
        old = before.get(line.practice_id)
        rows.append(SettlementLine(
            run=run, practice_id=line.practice_id, member_months=line.member_months, score_milli=line.score_milli,
            qualifies=line.qualifies, tier=line.tier, percent=line.percent, base_cents=line.base_cents,
            weight=line.weight, withheld_cents=cap.withheld.get(line.practice_id, 0),
            funded_cents=cap.funded.get(line.practice_id, 0), cost_cents=line.cost_cents,
            capitation_cents=cap.capitation.get(line.practice_id, 0), cap_cents=line.cap_cents,
            cap_applied=line.cap_applied, amount_cents=line.amount_cents, kept_cents=line.kept_cents,
            previous_amount_cents=old.amount_cents if old else 0, previous_kept_cents=old.kept_cents if old else 0,
            measures=measure_rows(scores.get(line.practice_id)),
        ))  # fmt: skip
    for practice_id, old in before.items():
        if practice_id not in seen:
            rows.append(SettlementLine(run=run, practice_id=practice_id, tier="no longer in the period",
                                       previous_amount_cents=old.amount_cents, previous_kept_cents=old.kept_cents))  # fmt: skip
    SettlementLine.objects.bulk_create(rows)


def _changed(run: SettlementRun, previous: SettlementRun) -> bool:
    if (run.release_cents, run.pool_kept_cents) != (previous.release_cents, previous.pool_kept_cents):
        return True
    return any(line.amount_cents != line.previous_amount_cents or line.kept_cents != line.previous_kept_cents
               for line in run.lines.all())  # fmt: skip


def measure_rows(score: engine.Score | None) -> list[dict[str, Any]]:
    """A score's arithmetic per measure, for the line (and its statement)."""
    return [] if score is None else [asdict(m) for m in score.measures]


# -- approving -----------------------------------------------------------------------------------------------


def _kept_stays(run: SettlementRun) -> bool:
    """A quality pool's unearned part stays where it is: in the liability (``carry``), or never left the IPA's
    revenue (a fixed pool)."""
    if run.kind != Kind.QUALITY:
        return False
    params = run.formula_params or {}
    return params.get("pool_source") == "fixed" or params.get("unearned") == "carry"


def _source_account(run: SettlementRun) -> str:
    if run.kind == Kind.QUALITY and (run.formula_params or {}).get("pool_source") == "fixed":
        return accounts.CAPITATION_REVENUE
    return SOURCE_ACCOUNTS[Kind(run.kind)]


def _post(account: str, cents: int, *, debit_when_positive: bool, practice_id: int | None, payer_id: int,
          memo: str) -> Posting | None:  # fmt: skip
    if cents == 0:
        return None
    debit = (cents > 0) == debit_when_positive
    return Posting(account=account, debit_cents=abs(cents) if debit else 0, credit_cents=0 if debit else abs(cents),
                   practice_id=practice_id, payer_id=payer_id, memo=memo[:200])  # fmt: skip


def settlement_postings(run: SettlementRun) -> list[Posting]:
    """The run's entry: the difference from the run it corrects (everything, for a first run).

    Dr the source (pool liability, withhold liability, risk-pool liability; revenue for a fixed quality pool)
    for what is released; per practice Cr INCENTIVES_PAYABLE what it is owed, or Dr PRACTICE_RECEIVABLE what it
    is charged; Cr CAPITATION_REVENUE what the IPA keeps (per practice where it is that practice's)."""
    lines = list(run.lines.all())
    previous = run.corrects
    stays = _kept_stays(run)
    payer = run.payer_id
    label = f"{run.get_kind_display().lower()} {run.period}"
    amounts = sum(line.difference_cents for line in lines)
    pool_kept = run.pool_kept_cents - (previous.pool_kept_cents if previous else 0)
    release = run.release_cents - (previous.release_cents if previous else 0)
    if stays:
        release = amounts
    postings = [_post(_source_account(run), release, debit_when_positive=True, practice_id=None, payer_id=payer,
                      memo=f"{label}: released")]  # fmt: skip
    for line in lines:
        diff = line.difference_cents
        if diff > 0:
            postings.append(_post(accounts.INCENTIVES_PAYABLE, diff, debit_when_positive=False,
                                  practice_id=line.practice_id, payer_id=payer, memo=f"{label}: owed"))  # fmt: skip
        elif diff < 0:
            postings.append(_post(accounts.PRACTICE_RECEIVABLE, -diff, debit_when_positive=True,
                                  practice_id=line.practice_id, payer_id=payer, memo=f"{label}: charged"))  # fmt: skip
        if not stays:
            postings.append(_post(accounts.CAPITATION_REVENUE, line.kept_cents - line.previous_kept_cents,
                                  debit_when_positive=False, practice_id=line.practice_id, payer_id=payer,
                                  memo=f"{label}: kept by the IPA"))  # fmt: skip
    if not stays:
        postings.append(_post(accounts.CAPITATION_REVENUE, pool_kept, debit_when_positive=False, practice_id=None,
                              payer_id=payer, memo=f"{label}: kept by the IPA"))  # fmt: skip
    return [p for p in postings if p is not None]


def approve_settlement(*, actor: Actor, run: SettlementRun) -> SettlementRun:
    """Approve a draft: an EDIT_FINANCE user who did not prepare it. Posts the entry in the same transaction."""
    require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        run = (
            SettlementRun.objects.select_for_update(of=("self",))
            .select_related("payer", "corrects", "contract")
            .get(pk=run.pk)
        )
        if run.status != Status.DRAFT:
            raise SettlementRefused(f"settlement {run.pk} is {run.get_status_display().lower()}: only a draft "
                                    "can be approved")  # fmt: skip
        if actor.username == run.prepared_by:
            raise SettlementRefused(f"settlement {run.pk} was prepared by {run.prepared_by}: another finance user "
                                    "must approve it")  # fmt: skip
        newer = SettlementRun.objects.filter(contract_id=run.contract_id, kind=run.kind, period=run.period,
                                             status__in=(Status.APPROVED, Status.PAID))  # fmt: skip
        latest = newer.order_by("-pk").first()
        if latest is not None and (run.corrects_id != latest.pk):
            raise SettlementRefused(f"settlement {latest.pk} was approved after this draft was prepared: prepare "
                                    "it again")  # fmt: skip
        period = engine.Period(run.period, run.period_start, run.period_end)
        try:
            in_force_now = selectors.formula_in_force(run.contract, run.kind, period).pk
        except NotFound:
            in_force_now = None
        if in_force_now != run.formula_id:
            raise SettlementRefused(f"the {run.kind} formula in force for {run.period} changed after this draft was "
                                    f"prepared with version {run.formula_id}: prepare it again")  # fmt: skip
        postings = settlement_postings(run)
        for line in run.lines.all():
            if line.difference_cents > 0:
                line.pay_status = PayStatus.PENDING
                line.save(update_fields=["pay_status"])
        run.status = Status.APPROVED
        run.approved_by = actor.username
        run.approved_at = timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        if postings:
            post_entry(actor=actor, date=timezone.localdate(), postings=postings, source_type="incentive_settlement",
                       source_id=run.pk, memo=f"incentive settlement {run.pk}: {run.get_kind_display().lower()} "
                       f"{run.contract.number} {run.period}" + (f" (corrects {run.corrects_id})" if run.corrects_id
                                                                else ""))  # fmt: skip
        audit.record_write(
            actor, "incentives.approve", run, after={"status": run.status, "paid_cents": run.paid_cents}
        )
    return run


# -- paying --------------------------------------------------------------------------------------------------


def pay_settlement(
    *, actor: Actor | None, run: SettlementRun, out: Path, effective: dt.date | None = None, who: str = ""
) -> SettlementPaymentFile:
    """Write ``out`` (NACHA CCD+) for what the approved run owes practices, mark the lines sent (or held
    without bank details) and the run paid, and post Dr INCENTIVES_PAYABLE / Cr CASH, in one transaction."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    created = timezone.localtime()
    effective = effective or (created.date() + dt.timedelta(days=1))
    with transaction.atomic():
        run = (
            SettlementRun.objects.select_for_update(of=("self",))
            .select_related("payer", "contract")
            .get(pk=run.pk)
        )
        if run.status != Status.APPROVED:
            raise SettlementRefused(f"settlement {run.pk} is {run.get_status_display().lower()}: only an approved "
                                    "run is paid")  # fmt: skip
        lines = list(run.lines.select_related("practice").filter(pay_status=PayStatus.PENDING)
                     .order_by("practice__tin"))  # fmt: skip
        banked = [x for x in lines if x.practice.bank_routing_number and x.practice.bank_account_number]
        held = [x for x in lines if x not in banked]
        if not banked:
            raise SettlementRefused(
                f"settlement {run.pk} has no payment to send (none owed with bank details)"
            )
        traces = [f"{trace_prefix()}{n:07d}" for n in range(1, len(banked) + 1)]
        credits = [Credit(routing_number=x.practice.bank_routing_number, account_number=x.practice.bank_account_number,
                          amount_cents=x.difference_cents, tin=x.practice.tin, name=x.practice.legal_name,
                          trace_number=t) for x, t in zip(banked, traces, strict=True)]  # fmt: skip
        written = write_ach(out, credits, description="INCENTIVE", descriptive_date=run.period[:6],
                            reference=f"INC{run.pk}", effective=effective, kept_name=f"incentive-{run.pk}")  # fmt: skip
        record = SettlementPaymentFile.objects.create(
            run=run, file_name=out.name, stored_path=written.stored_path, sha256=written.sha256,
            entries=written.entries, total_cents=written.total_cents, entry_hash=written.entry_hash,
            created_by=_who(actor, who),
        )  # fmt: skip
        for line, trace in zip(banked, traces, strict=True):
            line.pay_status = PayStatus.SENT
            line.trace_number = trace
            line.save(update_fields=["pay_status", "trace_number"])
        for line in held:
            line.pay_status = PayStatus.HELD
            line.save(update_fields=["pay_status"])
        run.status = Status.PAID
        run.paid_at = timezone.now()
        run.payment_date = effective
        run.save(update_fields=["status", "paid_at", "payment_date"])
        post_entry(
            actor=actor, date=effective, source_type="incentive_payment", source_id=record.pk,
            memo=f"incentive payments of settlement {run.pk} ({run.contract.number} {run.period}): {out.name}",
            postings=[
                *(Posting(account=accounts.INCENTIVES_PAYABLE, debit_cents=x.difference_cents,
                          practice_id=x.practice_id, payer_id=run.payer_id, memo=f"ACH trace {x.trace_number}")
                  for x in banked),
                Posting(account=accounts.CASH, credit_cents=written.total_cents, payer_id=run.payer_id),
            ],
        )  # fmt: skip
        audit.record_write(actor, "incentives.pay", record,
                           after={"run": run.pk, "entries": written.entries, "total_cents": written.total_cents,
                                  "held": len(held)})  # fmt: skip
    return record


def result_json(run: SettlementRun) -> dict[str, Any]:
    """The CLI's ``--json``."""
    return {
        "run_id": run.pk,
        "kind": run.kind,
        "contract": run.contract.number,
        "period": run.period,
        "status": run.status,
        "corrects": run.corrects_id,
        "formula_id": run.formula_id,
        "quality_run_id": run.quality_run_id,
        "capitation_run_ids": run.capitation_run_ids,
        "release_cents": run.release_cents,
        "paid_cents": run.paid_cents,
        "charged_cents": run.charged_cents,
        "kept_cents": run.kept_cents,
        "notes": (run.inputs or {}).get("notes", []),
        "practices": [
            {"practice": line.practice.code, "member_months": line.member_months,
             "score": None if line.score_milli is None else str(Decimal(line.score_milli) / 1000),
             "tier": line.tier, "amount_cents": line.amount_cents, "difference_cents": line.difference_cents,
             "kept_cents": line.kept_cents}
            for line in run.lines.select_related("practice").order_by("practice__code")
        ],
    }  # fmt: skip
