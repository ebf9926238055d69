"""Reads for incentive settlements: the formulas, the runs (staff with VIEW_FINANCE see all; a practice user
its own practice's statement lines of approved or paid runs), and the settlement's inputs read from the other
apps' tables, read-only: the approved capitation runs' member-month lines, the claims the IPA paid, a quality
run's counts per practice, and the quality-pool liability's ledger balance.

Inputs are aggregates per practice (no member is shown or returned), so reading them is not a member read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from openipa.capitation.models import DistributionLine, DistributionRun
from openipa.claims.models import Claim, ClaimLine
from openipa.contracts.models import Contract, ServiceCategoryRule
from openipa.core import audit
from openipa.core.dating import pick_in_force
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.incentives import engine
from openipa.incentives.models import IncentiveFormula, SettlementLine, SettlementRun
from openipa.ledger import accounts
from openipa.ledger.models import JournalLine
from openipa.quality.gapdata import load_targets
from openipa.quality.models import MeasureResult, QualityRun, RateResult

STATEMENT_STATUSES = (SettlementRun.Status.APPROVED, SettlementRun.Status.PAID)
IPA_RESPONSIBLE = "ipa"
"""ClaimLine.responsible of lines the IPA pays under the DOFR (claims.engine.adjudicate.IPA)."""


def _require_staff(actor: Actor) -> None:
    require(actor, Perm.VIEW_FINANCE)
    if is_practice_scoped(actor):
        raise PermissionDenied("this is for IPA finance staff")


def can_act(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_FINANCE) and not is_practice_scoped(actor)


# -- formulas and runs ---------------------------------------------------------------------------------------


def formula_list(actor: Actor, *, contract_id: int | None = None) -> QuerySet[IncentiveFormula]:
    _require_staff(actor)
    qs = IncentiveFormula.objects.select_related("contract", "contract__payer")
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    return qs.order_by("contract__number", "kind", "-valid_from")


def formula_latest(contract: Contract, kind: str) -> IncentiveFormula | None:
    """The contract's latest version of ``kind`` (by start): what a new version's form starts from."""
    return (
        IncentiveFormula.objects.filter(contract=contract, kind=kind).order_by("-valid_from", "-pk").first()
    )


def formula_history(actor: Actor, formulas: list[IncentiveFormula]) -> dict[int, IncentiveFormula]:
    """For each version, the version of the same contract and kind that started before it (what it changed)."""
    _require_staff(actor)
    out: dict[int, IncentiveFormula] = {}
    groups: dict[tuple[int, str], list[IncentiveFormula]] = defaultdict(list)
    for f in formulas:
        groups[(f.contract_id, f.kind)].append(f)
    for versions in groups.values():
        ordered = sorted(versions, key=lambda f: (f.valid_from, f.pk))
        for earlier, later in itertools.pairwise(ordered):
            out[later.pk] = earlier
    return out


def runs_by_formula(actor: Actor, formula_ids: list[int]) -> dict[int, list[SettlementRun]]:
    """The settlement runs that used each version (a version a run used is never edited)."""
    _require_staff(actor)
    out: dict[int, list[SettlementRun]] = defaultdict(list)
    for run in SettlementRun.objects.filter(formula_id__in=formula_ids).order_by("period_end", "pk"):
        out[run.formula_id].append(run)
    return dict(out)


def stale_drafts(actor: Actor, formula: IncentiveFormula) -> list[SettlementRun]:
    """Drafts of the formula's contract and kind prepared with another version whose period the new version now
    reaches: approving them is refused, they need preparing again."""
    _require_staff(actor)
    qs = SettlementRun.objects.filter(contract_id=formula.contract_id, kind=formula.kind,
                                      status=SettlementRun.Status.DRAFT, period_end__gte=formula.valid_from)  # fmt: skip
    if formula.valid_to is not None:
        qs = qs.filter(period_start__lte=formula.valid_to)
    return list(qs.exclude(formula=formula).order_by("pk"))


def contracts_for_formulas(actor: Actor) -> QuerySet[Contract]:
    _require_staff(actor)
    return Contract.objects.select_related("payer").order_by("number")


def measure_choices(years: list[int]) -> list[tuple[str, str]]:
    """(measure, rate) pairs with a target in the quality data of any of ``years``, as "MEASURE|RATE" choices."""
    pairs: set[tuple[str, str]] = set()
    for year in years:
        pairs.update(load_targets(year))
    return [(f"{m}|{r}", m if m == r else f"{m} / {r}") for m, r in sorted(pairs)]


def service_categories() -> list[str]:
    """The service categories of the contracts' service category rules (what a risk pool can pay for)."""
    return sorted(set(ServiceCategoryRule.objects.values_list("category", flat=True)))


def formula_in_force(contract: Contract, kind: str, period: engine.Period) -> IncentiveFormula:
    """The one version in force over the whole period; refuses a period two versions share."""
    versions = list(IncentiveFormula.objects.filter(contract=contract, kind=kind))
    first = pick_in_force(versions, period.first)
    last = pick_in_force(versions, period.last)
    if first is None or last is None:
        raise NotFound(f"contract {contract.number} has no {kind} formula in force from {period.first} through "
                       f"{period.last}")  # fmt: skip
    if first.pk != last.pk:
        raise NotFound(f"contract {contract.number}'s {kind} formula changes within {period.label} (versions "
                       f"{first.pk} and {last.pk}): settle each version's part as its own period")  # fmt: skip
    return first


def run_list(actor: Actor, *, kind: str = "", contract_id: int | None = None) -> QuerySet[SettlementRun]:
    _require_staff(actor)
    qs = SettlementRun.objects.select_related("contract", "payer", "formula")
    if kind:
        qs = qs.filter(kind=kind)
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    return qs.order_by("-period_end", "-pk")


def run_get(actor: Actor, run_id: int) -> SettlementRun:
    _require_staff(actor)
    try:
        return SettlementRun.objects.select_related("contract", "payer", "formula").get(pk=run_id)
    except SettlementRun.DoesNotExist:
        raise NotFound(f"no settlement run {run_id}") from None


def run_lines(actor: Actor, run: SettlementRun) -> QuerySet[SettlementLine]:
    _require_staff(actor)
    return run.lines.select_related("practice").order_by("practice__code")


PAYMENT_FILE_PURPOSE = "incentive payment file download"


class PaymentFileChanged(ValueError):
    """The kept copy of a payment file no longer matches the hash recorded when it was written."""


def payment_file(actor: Actor, run: SettlementRun, file_id: int) -> tuple[str, bytes]:
    """The kept copy of one of the run's NACHA files (it holds the practices' bank accounts: finance with
    VIEW_BANK only), checked against the hash recorded when it was written; the download is recorded."""
    _require_staff(actor)
    require(actor, Perm.VIEW_BANK)
    record = run.payment_files.filter(pk=file_id).first()
    if record is None:
        raise NotFound(f"no payment file {file_id} of settlement {run.pk}")
    root = (Path(settings.VAR_DIR) / "payments").resolve()
    path = (Path(settings.VAR_DIR) / record.stored_path).resolve()
    if not record.stored_path or not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"the kept copy of payment file {record.file_name}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise PaymentFileChanged(f"the kept copy of payment file {record.file_name} does not match the hash "
                                 "recorded when it was written: it is not served")  # fmt: skip
    audit.record_access(actor, object_type="incentives.settlementpaymentfile", action="download",
                        purpose=PAYMENT_FILE_PURPOSE,
                        details={"run": run.pk, "file": record.pk, "file_name": record.file_name,
                                 "sha256": record.sha256})  # fmt: skip
    return record.file_name, data


def _statement_scope(actor: Actor) -> QuerySet[SettlementLine]:
    qs = SettlementLine.objects.select_related(
        "run", "run__contract", "run__payer", "run__formula", "practice"
    )
    if is_practice_scoped(actor):
        return qs.filter(practice_id=scoped_practice_id(actor), run__status__in=STATEMENT_STATUSES)
    _require_staff(actor)
    return qs


def statement_list(actor: Actor) -> QuerySet[SettlementLine]:
    """Statements (one per practice per run): a practice user's own of approved or paid runs."""
    return _statement_scope(actor).order_by("-run__period_end", "-run_id", "practice__code")


def statement_line(actor: Actor, line_id: int) -> SettlementLine:
    """One statement; NotFound outside the actor's scope (another practice's, a draft's)."""
    try:
        return _statement_scope(actor).get(pk=line_id)
    except SettlementLine.DoesNotExist:
        raise NotFound(f"statement {line_id}") from None


# -- the settlement's inputs ---------------------------------------------------------------------------------


@dataclass
class CapitationInputs:
    """Per practice, from the payer's approved (or paid) capitation runs of the period's months."""

    run_ids: list[int] = field(default_factory=list)
    months_without_run: list[str] = field(default_factory=list)
    member_months: dict[int, int] = field(default_factory=dict)
    withheld: dict[int, int] = field(default_factory=dict)
    funded: dict[int, int] = field(default_factory=dict)
    capitation: dict[int, int] = field(default_factory=dict)


def capitation_inputs(payer_id: int, period: engine.Period) -> CapitationInputs:
    """Member-months (distinct member-months of the regular runs' lines), withheld, risk-pool funded and PCP
    gross capitation (summed over regular and adjustment runs) per practice."""
    runs = list(
        DistributionRun.objects.filter(
            payer_id=payer_id,
            month__gte=period.first,
            month__lte=period.last,
            status__in=(DistributionRun.Status.APPROVED, DistributionRun.Status.PAID),
        ).values_list("pk", "month", "kind")
    )
    out = CapitationInputs(run_ids=sorted(r[0] for r in runs))
    covered = {m for _pk, m, kind in runs if kind == DistributionRun.Kind.REGULAR}
    out.months_without_run = [f"{m:%Y-%m}" for m in period.months() if m not in covered]
    lines = DistributionLine.objects.filter(run_id__in=out.run_ids, practice_id__isnull=False)
    # order_by(): no default ordering, whose joins (run, member) would only slow the sums down
    sums = (
        lines.order_by()
        .values("practice_id")
        .annotate(
            withheld=Sum("withhold_cents"), funded=Sum("risk_pool_cents"), capitation=Sum("pcp_gross_cents")
        )
    )
    for row in sums:
        p = int(row["practice_id"])
        out.withheld[p] = int(row["withheld"] or 0)
        out.funded[p] = int(row["funded"] or 0)
        out.capitation[p] = int(row["capitation"] or 0)
    regular = [pk for pk, _m, kind in runs if kind == DistributionRun.Kind.REGULAR]
    counts = (
        DistributionLine.objects.filter(run_id__in=regular, practice_id__isnull=False)
        .order_by()
        .values("practice_id")
        .annotate(n=Count("pk"))
    )
    for row in counts:
        out.member_months[int(row["practice_id"])] = int(row["n"])
    return out


def claims_paid_by_practice(
    run_ids: list[int], period: engine.Period, categories: tuple[str, ...]
) -> dict[int, int]:
    """Paid cents of the claim lines the IPA paid (claim paid, line payable, DOFR party the IPA) for services in
    the period, each charged to the practice whose member-month (in the capitation runs' lines) the service
    month is; lines in ``categories`` only when given. Services of months without a line are not counted."""
    owner: dict[tuple[int, dt.date], int] = {}
    for member_id, month, practice_id in (
        DistributionLine.objects.filter(run_id__in=run_ids, practice_id__isnull=False)
        .values_list("member_id", "month", "practice_id")
        .order_by("run_id")
    ):
        owner[(member_id, month)] = practice_id
    if not owner:
        return {}
    members = sorted({m for m, _ in owner})
    lines = ClaimLine.objects.filter(
        claim__status=Claim.Status.PAID,
        outcome=ClaimLine.Outcome.PAID,
        responsible=IPA_RESPONSIBLE,
        service_from__gte=period.first,
        service_from__lte=period.last,
        claim__member_id__in=members,
    )
    if categories:
        lines = lines.filter(service_category__in=categories)
    out: dict[int, int] = defaultdict(int)
    for member_id, served, paid in lines.values_list(
        "claim__member_id", "service_from", "paid_cents"
    ).iterator():
        practice = owner.get((member_id, served.replace(day=1)))
        if practice is not None:
            out[practice] += int(paid)
    return dict(out)


def quality_counts(run: QualityRun) -> dict[int, dict[tuple[str, str], engine.Counts]]:
    """practice_id -> (measure, rate) -> counts, as the quality app counts them (denominator and numerator
    flags of the run's member results, attributed to the practice on the run's as-of date)."""
    inverse = {(r.measure, r.rate): r.inverse for r in RateResult.objects.filter(run=run)}
    rows = (
        MeasureResult.objects.filter(run=run, practice_id__isnull=False)
        .order_by()
        .values("practice_id", "measure", "rate")
        .annotate(den=Count("pk", filter=Q(denominator=True)), num=Count("pk", filter=Q(numerator=True)))
    )
    out: dict[int, dict[tuple[str, str], engine.Counts]] = defaultdict(dict)
    for r in rows:
        key = (r["measure"], r["rate"])
        out[int(r["practice_id"])][key] = engine.Counts(int(r["num"]), int(r["den"]), inverse.get(key, False))
    return dict(out)


def quality_targets(year: int) -> dict[tuple[str, str], engine.Target]:
    return {key: engine.Target(t.target, t.cut_points) for key, t in load_targets(year).items()}


def latest_quality_run(year: int) -> QualityRun | None:
    return QualityRun.objects.filter(measurement_year=year).order_by("-run_at", "-pk").first()


def liability_balance(account: str, payer_id: int, through: dt.date) -> int:
    """Credit minus debit of a liability account's lines for the payer, in entries dated through ``through``."""
    sums = JournalLine.objects.filter(
        account__code=account, payer_id=payer_id, entry__date__lte=through
    ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return int((Decimal(sums["credit"] or 0) - Decimal(sums["debit"] or 0)) * 100)


def quality_pool_balance(payer_id: int, through: dt.date) -> int:
    return liability_balance(accounts.QUALITY_POOL_LIABILITY, payer_id, through)
