"""Distribution runs: draft -> approved -> paid.

- ``distribute_month`` prepares a draft for a payer-month: the month's roster, what was received for each
  member-month, the contract's distribution rule and term in force, each practice's admin fee and the
  specialist practices go to the pure engine; the run keeps its inputs' identity, its components, a line per
  member-month, the pool shares and a payment per practice. A draft is replaced when prepared again.
  Once the month has an approved run, preparing it again makes an adjustment run instead: the differences per
  member-month (negative lines are recoupments) and per practice, which net against the practice's next
  payment from this payer.
- ``approve_run``: by a finance user who did not prepare it; posts the run's balanced ledger entry in the same
  transaction; an approved run never changes.
- ``pay_run`` (payments): see ``services.payments``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from openipa.capitation.engine.adjust import adjustment_lines
from openipa.capitation.engine.distribution import LINE_AMOUNTS, DistributionRules, distribute
from openipa.capitation.models import (
    DistributionLine,
    DistributionRule,
    DistributionRun,
    PoolShare,
    PracticePayment,
)
from openipa.capitation.services.reconcile import expected_frame, received_frame
from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Contract, ContractTerm, Payer
from openipa.core import audit
from openipa.core.bulk import check_references, insert_frame
from openipa.core.money import allocate
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, require
from openipa.ledger import accounts
from openipa.ledger.services import LedgerError, Posting, accounting_date, post_entry
from openipa.membership import selectors as membership_selectors
from openipa.network import selectors as network_selectors
from openipa.risk import selectors as risk_selectors

DEFAULT_RAF_MILLI = 1000
"""The RAF of a member without a score in the payment year's latest approved risk run (assumed, and said so)."""
PAYMENT_FIELDS = ("pcp_gross_cents", "withhold_cents", "pcp_net_cents", "quality_cents", "specialist_cents")
LINE_COLUMNS = ("member_id", "month", "practice_id", "provider_id", "product_id", "term_id", "rule_id",
                "rate_cell_id", "reason", *LINE_AMOUNTS)  # fmt: skip
Status = DistributionRun.Status


class RunRefused(ValueError):
    """The run cannot be prepared, approved or paid as asked; the message says why (shown as it is)."""


# -- inputs ------------------------------------------------------------------------------------------------


def _milli(value: Decimal | int | str) -> int:
    return int(Decimal(value) * 1000)


def _cents(value: Decimal) -> int:
    return int(value * 100)


def rules_for(payer: Payer, month: Month) -> tuple[DistributionRules, DistributionRule, ContractTerm]:
    """The distribution rule and contract term in force for the payer's month, as engine rules."""
    on = month.first_day
    in_force = list(
        DistributionRule.objects.filter(
            contract__payer=payer, contract__status=Contract.Status.ACTIVE, valid_from__lte=on
        )
        .exclude(valid_to__lt=on)
        .select_related("contract")
    )
    if not in_force:
        raise RunRefused(
            f"no distribution rule of a {payer.code} contract is in force in {month}: add one on the contract"
        )
    if len(in_force) > 1:
        numbers = ", ".join(sorted(r.contract.number for r in in_force))
        raise RunRefused(f"{payer.code} has {len(in_force)} contracts with distribution rules in {month} ({numbers}); "
                         "a run distributes one contract's money")  # fmt: skip
    rule = in_force[0]
    term = contract_selectors.term_of_contract_on(rule.contract_id, on)
    if term is None:
        raise RunRefused(f"contract {rule.contract.number} has no term in force in {month}")
    factors = tuple((int(a), int(b), str(sex), _milli(str(f))) for a, b, sex, f in rule.age_sex_factors or ())
    rules = DistributionRules(
        rule_id=rule.pk,
        term_id=term.pk,
        reinsurance_pmpm_cents=_cents(term.reinsurance_pmpm),
        withhold_percent_milli=_milli(term.withhold_percent),
        risk_pool_percent_milli=_milli(rule.risk_pool_percent),
        pcp_method=rule.pcp_method,
        pcp_pmpm_cents=_cents(rule.pcp_pmpm),
        age_sex_factors=factors,
        specialist_percent_milli=_milli(rule.specialist_percent),
        specialist_pmpm_cents=_cents(rule.specialist_pmpm),
        specialist_split=rule.specialist_split,
        quality_percent_milli=_milli(rule.quality_percent),
        default_admin_fee_percent_milli=_milli(term.admin_fee_percent),
        default_admin_fee_pmpm_cents=_cents(term.admin_fee_pmpm),
    )
    return rules, rule, term


def _shares(roster: pl.DataFrame, expected: pl.DataFrame, received: pl.DataFrame) -> pl.DataFrame:
    """member_id -> share_cents: what was received for each member-month of the roster. Capitation paid as one
    amount (an 835) is spread over the members without a line of their own, by what each was expected to be
    paid, with the allocation helper."""
    capitation = received.filter(pl.col("kind").is_in(["capitation", "retro"]))
    own = (
        capitation.filter(pl.col("member_id").is_not_null())
        .group_by("member_id")
        .agg(pl.col("amount_cents").sum().alias("share_cents"))
    )
    shares = roster.select("member_id").join(own, on="member_id", how="left")
    lump = int(
        capitation.filter(pl.col("member_id").is_null() & (pl.col("payer_member_id") == ""))[
            "amount_cents"
        ].sum()
    )
    if lump:
        unpaid = shares.filter(pl.col("share_cents").is_null()).join(
            expected.select("member_id", "expected_cents"), on="member_id", how="left"
        )
        weights = [max(int(w or 0), 0) for w in unpaid["expected_cents"].to_list()]
        if unpaid.height and any(weights):
            spread = pl.DataFrame({"member_id": unpaid["member_id"], "lump": allocate(lump, weights)})
            shares = (
                shares.join(spread, on="member_id", how="left")
                .with_columns(pl.coalesce("share_cents", "lump").alias("share_cents"))
                .drop("lump")
            )
    return shares.with_columns(pl.col("share_cents").fill_null(0).cast(pl.Int64))


def _inputs(actor: Actor | None, payer: Payer, month: Month) -> tuple[int, pl.DataFrame, dict[str, Any]]:
    roster = membership_selectors.month_roster(
        actor, payer_id=payer.pk, month=month, purpose="capitation distribution"
    )
    expected = expected_frame(actor, payer, month, roster)
    received = received_frame(payer, month)
    # each member's payment RAF from the payment year's latest approved risk run; 1.000 assumed without one
    rafs = risk_selectors.approved_payment_rafs(month.year)
    member_months = (
        roster.join(_shares(roster, expected, received), on="member_id", how="left")
        .join(expected.select("member_id", "age"), on="member_id", how="left")
        .with_columns(
            pl.lit(month.first_day).alias("month"),
            pl.col("age").fill_null(0).cast(pl.Int32),
        )
        .join(rafs.select("member_id", pl.col("raf_milli").alias("raf_scored")), on="member_id", how="left")
        .with_columns(pl.col("raf_scored").fill_null(DEFAULT_RAF_MILLI).alias("raf_milli"))
        .select(
            "member_id",
            "month",
            "practice_id",
            "provider_id",
            "product_id",
            "age",
            "sex",
            "raf_milli",
            "share_cents",
            "raf_scored",
        )
    )
    remittances = sorted({int(r) for r in received["remittance_id"].unique().to_list()})
    member_months = member_months.join(
        expected.select("member_id", "rate_cell_id"), on="member_id", how="left"
    )
    inputs = {
        "remittances": remittances,
        "roster_members": roster.height,
        "raf": _raf_note(member_months, rafs, month),
        "prepared_on": dt.date.today().isoformat(),
    }
    return int(received["amount_cents"].sum()), member_months.drop("raf_scored"), inputs


def _raf_note(member_months: pl.DataFrame, rafs: pl.DataFrame, month: Month) -> dict[str, Any]:
    """Where the run's RAFs came from: the approved risk run, and the members whose 1.000 was assumed."""
    assumed = member_months.filter(pl.col("raf_scored").is_null())["member_id"].sort().to_list()
    run_id = int(rafs["run_id"][0]) if rafs.height else None
    return {
        "risk_run_id": run_id,
        "payment_year": month.year,
        "scored": member_months.height - len(assumed),
        "assumed": len(assumed),
        "assumed_member_ids": assumed[:200],
        "note": (f"payment RAF of approved risk run {run_id}" if run_id else
                 f"no approved risk run for {month.year}") + f"; {DEFAULT_RAF_MILLI / 1000:.3f} assumed for "
                f"{len(assumed)} member(s) without a score",
    }  # fmt: skip


def _agreements(member_months: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    terms = network_selectors.admin_fee_terms(on)
    practices = [int(p) for p in member_months["practice_id"].drop_nulls().unique().to_list()]
    missing = sorted(p for p in practices if p not in terms)
    if missing:
        names = ", ".join(
            sorted(code for code, _tin in network_selectors.practice_codes_and_tins(missing[:10]).values())
        )
        raise RunRefused(f"{len(missing)} practice(s) with members have no participation agreement in force on {on}: "
                         f"{names}")  # fmt: skip
    rows = [(p, *terms[p]) for p in sorted(terms)]
    return pl.DataFrame(rows, schema={"practice_id": pl.Int64, "admin_fee_percent_milli": pl.Int64,
                                      "admin_fee_pmpm_cents": pl.Int64}, orient="row")  # fmt: skip


def _specialists(rule: DistributionRule, on: dt.date) -> pl.DataFrame:
    weights = {str(k).strip().lower(): _milli(str(v)) for k, v in (rule.specialty_weights or {}).items()}
    by_practice: dict[int, tuple[list[str], int]] = {}
    for practice_id, specialty in network_selectors.specialist_practices(on):
        names, weight = by_practice.get(practice_id, ([], 0))
        names.append(specialty)
        by_practice[practice_id] = (names, weight + weights.get(specialty.strip().lower(), 1000))
    rows = [(p, ", ".join(sorted(set(n))), w, 0) for p, (n, w) in sorted(by_practice.items())]
    return pl.DataFrame(rows, schema={"practice_id": pl.Int64, "specialty": pl.String, "weight_milli": pl.Int64,
                                      "claims_cents": pl.Int64}, orient="row")  # fmt: skip


# -- preparing ---------------------------------------------------------------------------------------------


def _who(actor: Actor | None, who: str) -> str:
    return who or (getattr(actor, "username", "") if actor is not None else "") or "system"


def distribute_month(*, actor: Actor | None, payer: Payer, month: Month, who: str = "") -> DistributionRun:
    """Prepare the payer-month's draft run (or, after an approved one, an adjustment run)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    preparer = _who(actor, who)
    rules, rule, term = rules_for(payer, month)
    pool, member_months, inputs = _inputs(actor, payer, month)
    on = month.first_day
    result = distribute(pool, member_months, rules, _agreements(member_months, on), _specialists(rule, on))
    cells = member_months.select("member_id", "rate_cell_id")
    notes = list(result.notes)
    if rules.pcp_method == DistributionRule.PcpMethod.RISK:  # PCP capitation x RAF: whose RAFs were assumed
        notes.append(f"PCP capitation x RAF: {inputs['raf']['note']}")
    inputs.update({"rule_id": rule.pk, "term_id": term.pk, "notes": notes})
    with transaction.atomic():
        runs = DistributionRun.objects.select_for_update().filter(payer=payer, month=on)
        for draft in runs.filter(status=Status.DRAFT):
            _discard(draft)
        approved = list(runs.exclude(status=Status.DRAFT).order_by("pk"))
        if approved:
            run = _adjustment_run(payer, month, approved, pool, result, inputs, preparer, cells)
        else:
            run = _regular_run(payer, month, pool, result, inputs, preparer, cells)
        audit.record_write(actor, "capitation.distribute", run,
                           after={"pool_cents": run.pool_cents, "kind": run.kind, "lines": run.lines.count()})  # fmt: skip
    return run


def _discard(draft: DistributionRun) -> None:
    DistributionLine.objects.filter(run=draft).delete()
    PoolShare.objects.filter(run=draft).delete()
    PracticePayment.objects.filter(run=draft).delete()
    draft.delete()


def _lines(run: DistributionRun, lines: pl.DataFrame, cells: pl.DataFrame, reason: str | None = None) -> None:
    """Write a run's lines, each with the rate cell that priced its member-month (``cells``: member_id ->
    rate_cell_id, from the expected capitation)."""
    frame = lines.join(cells, on="member_id", how="left")
    if reason is not None or "reason" not in frame.columns:
        frame = frame.with_columns(pl.lit(reason or "").alias("reason"))
    frame = frame.select(LINE_COLUMNS)
    check_references(DistributionLine, frame, ("member", "practice", "provider"))
    insert_frame(DistributionLine, frame, constants={"run_id": run.pk})


def _pending_netting(payer: Payer) -> dict[int, list[PracticePayment]]:
    """Payments of this payer's approved runs still owed or owing: adjustment runs' differences and negative
    nets, by practice; they net into the practice's next regular payment."""
    pending = PracticePayment.objects.filter(
        Q(run__kind=DistributionRun.Kind.ADJUSTMENT) | Q(net_cents__lt=0),
        run__payer=payer,
        run__status__in=(Status.APPROVED, Status.PAID),
        status=PracticePayment.Status.PENDING,
    )
    out: dict[int, list[PracticePayment]] = defaultdict(list)
    for payment in pending.order_by("pk"):
        out[payment.practice_id].append(payment)
    return out


def _regular_run(
    payer: Payer,
    month: Month,
    pool: int,
    result: Any,
    inputs: dict[str, Any],
    preparer: str,
    cells: pl.DataFrame,
) -> DistributionRun:
    netting = _pending_netting(payer)
    inputs["netted_payments"] = sorted(p.pk for ps in netting.values() for p in ps)
    run = DistributionRun.objects.create(
        payer=payer, month=month.first_day, kind=DistributionRun.Kind.REGULAR, pool_cents=pool,
        components=result.components, inputs=inputs, prepared_by=preparer,
    )  # fmt: skip
    _lines(run, result.lines, cells)
    PoolShare.objects.bulk_create(
        PoolShare(run=run, pool=r["pool"], practice_id=r["practice_id"], weight=str(r["weight"]), basis=r["basis"],
                  cents=r["cents"])
        for r in result.pool_shares.iter_rows(named=True)
    )  # fmt: skip
    payouts = {r["practice_id"]: r for r in result.practice_payouts.iter_rows(named=True)}
    payments = []
    for practice_id in sorted(set(payouts) | set(netting)):
        row = payouts.get(practice_id) or {}
        carried = sum(p.net_cents for p in netting.get(practice_id, []))
        values = {f: int(row.get(f) or 0) for f in PAYMENT_FIELDS}
        net = values["pcp_net_cents"] + values["quality_cents"] + values["specialist_cents"] + carried
        payments.append(PracticePayment(run=run, practice_id=practice_id, adjustment_cents=carried, net_cents=net,
                                        **values))  # fmt: skip
    PracticePayment.objects.bulk_create(payments)
    return run


def _paid_so_far(runs: list[DistributionRun]) -> dict[int, dict[str, int]]:
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PAYMENT_FIELDS, 0))
    for payment in PracticePayment.objects.filter(run__in=runs):
        for f in PAYMENT_FIELDS:
            totals[payment.practice_id][f] += getattr(payment, f)
    return totals


def _approved_lines(runs: list[DistributionRun]) -> pl.DataFrame:
    """The approved runs' lines summed per member-month and practice: what has been distributed so far."""
    rows = DistributionLine.objects.filter(run__in=runs).values_list(
        "member_id", "month", "practice_id", "provider_id", "product_id", "rule_id", "term_id", *LINE_AMOUNTS
    )
    frame = pl.DataFrame(
        list(rows),
        schema={"member_id": pl.Int64, "month": pl.Date, "practice_id": pl.Int64, "provider_id": pl.Int64,
                "product_id": pl.Int64, "rule_id": pl.Int64, "term_id": pl.Int64,
                **dict.fromkeys(LINE_AMOUNTS, pl.Int64)},
        orient="row",
    )  # fmt: skip
    keys = ["member_id", "month", "practice_id", "product_id"]
    return (
        frame.group_by(keys)
        .agg(
            pl.col("provider_id").last(), pl.col("rule_id").last(), pl.col("term_id").last(),
            *[pl.col(c).sum() for c in LINE_AMOUNTS],
        )
        .filter(pl.any_horizontal([pl.col(c) != 0 for c in LINE_AMOUNTS]))
        .sort(keys)
    )  # fmt: skip


def _adjustment_run(
    payer: Payer, month: Month, approved: list[DistributionRun], pool: int, result: Any, inputs: dict[str, Any],
    preparer: str, cells: pl.DataFrame,
) -> DistributionRun:  # fmt: skip
    deltas = adjustment_lines(_approved_lines(approved), result.lines)
    before_pool = sum(r.pool_cents for r in approved)
    before = _paid_so_far(approved)
    payouts = {r["practice_id"]: r for r in result.practice_payouts.iter_rows(named=True)}
    changes: dict[int, dict[str, int]] = {}
    for practice_id in sorted(set(payouts) | set(before)):
        row = payouts.get(practice_id) or {}
        diff = {f: int(row.get(f) or 0) - before[practice_id][f] if practice_id in before else int(row.get(f) or 0)
                for f in PAYMENT_FIELDS}  # fmt: skip
        if any(diff.values()):
            changes[practice_id] = diff
    if deltas.height == 0 and not changes and pool == before_pool:
        raise RunRefused(f"nothing changed for {payer.code} {month} since run {approved[-1].pk} was approved")
    previous: dict[str, int] = defaultdict(int)
    for r in approved:
        for key, value in (r.components or {}).items():
            previous[key] += int(value)
    components = {key: int(value) - previous.get(key, 0) for key, value in result.components.items()}
    reasons = sorted(set(deltas["reason"].to_list())) if deltas.height else []
    run = DistributionRun.objects.create(
        payer=payer, month=month.first_day, kind=DistributionRun.Kind.ADJUSTMENT, adjusts=approved[0],
        reason=("; ".join(reasons) or "pool change")[:300], pool_cents=pool - before_pool,
        components=components, inputs=inputs, prepared_by=preparer,
    )  # fmt: skip
    _lines(run, deltas, cells)
    PracticePayment.objects.bulk_create(
        PracticePayment(run=run, practice_id=p, net_cents=d["pcp_net_cents"] + d["quality_cents"] + d["specialist_cents"],
                        **d)
        for p, d in changes.items()
    )  # fmt: skip
    return run


# -- approving ---------------------------------------------------------------------------------------------


def approve_run(
    *, actor: Actor, run: DistributionRun, posting_date: dt.date | None = None
) -> DistributionRun:
    """Approve a draft run: someone other than who prepared it, with EDIT_FINANCE. Posts the ledger entry, dated
    ``posting_date`` (the accounting date: not in the future, not before the run's month) or today."""
    require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        run = DistributionRun.objects.select_for_update().get(pk=run.pk)
        try:
            on = accounting_date(posting_date, not_before=run.month, what=f"run {run.pk}'s entry")
        except LedgerError as exc:
            raise RunRefused(str(exc)) from None
        if run.status != Status.DRAFT:
            raise RunRefused(
                f"run {run.pk} is {run.get_status_display().lower()}: only a draft can be approved"
            )
        if actor.username == run.prepared_by:
            raise RunRefused(
                f"run {run.pk} was prepared by {run.prepared_by}: another finance user must approve it"
            )
        into = {p.practice_id: p.pk for p in run.payments.all()}
        for earlier in PracticePayment.objects.filter(
            pk__in=list(run.inputs.get("netted_payments", [])), status=PracticePayment.Status.PENDING
        ):
            earlier.status = PracticePayment.Status.NETTED
            earlier.netted_into_id = into.get(earlier.practice_id)
            earlier.save(update_fields=["status", "netted_into"])
        run.status = Status.APPROVED
        run.approved_by = actor.username
        run.approved_at = timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        _post_run(actor, run, on)
        audit.record_write(
            actor, "capitation.approve", run, after={"status": run.status, "pool_cents": run.pool_cents}
        )
    return run


def _side(account: str, cents: int, *, credit_normal: bool = True, practice_id: int | None = None,
          payer_id: int | None = None, memo: str = "") -> Posting | None:  # fmt: skip
    if cents == 0:
        return None
    credit = (cents > 0) == credit_normal
    amount = abs(cents)
    return Posting(account=account, debit_cents=0 if credit else amount, credit_cents=amount if credit else 0,
                   practice_id=practice_id, payer_id=payer_id, memo=memo)  # fmt: skip


def _post_run(actor: Actor | None, run: DistributionRun, on: dt.date) -> None:
    """Pool out of 'received, undistributed' into revenue, liabilities, provider payables and surplus."""
    payer_id = run.payer_id
    columns = ("admin_fee_cents", "reinsurance_cents", "withhold_cents", "risk_pool_cents")
    totals = run.lines.aggregate(**{c: Sum(c) for c in columns})
    sums = {c: int(totals[c] or 0) for c in columns}
    payments = list(run.payments.all())
    paid_out = sum(p.pcp_net_cents + p.quality_cents + p.specialist_cents for p in payments)
    retained = run.pool_cents - sum(sums.values()) - paid_out
    postings = [
        _side(accounts.CAPITATION_UNDISTRIBUTED, run.pool_cents, credit_normal=False, payer_id=payer_id,
              memo="capitation pool"),
        _side(accounts.ADMIN_FEE_REVENUE, sums["admin_fee_cents"], payer_id=payer_id, memo="administrative fee"),
        _side(accounts.REINSURANCE_PREMIUM_PAYABLE, sums["reinsurance_cents"], payer_id=payer_id, memo="reinsurance"),
        _side(accounts.WITHHOLD_LIABILITY, sums["withhold_cents"], payer_id=payer_id, memo="PCP withhold"),
        _side(accounts.RISK_POOL_LIABILITY, sums["risk_pool_cents"], payer_id=payer_id, memo="risk pool"),
        _side(accounts.RETAINED_SURPLUS, retained, payer_id=payer_id, memo="retained surplus (deficit)"),
    ]  # fmt: skip
    for p in payments:
        postings.append(_side(accounts.PROVIDER_CAPITATION_PAYABLE, p.pcp_net_cents + p.quality_cents + p.specialist_cents,
                              practice_id=p.practice_id, payer_id=payer_id, memo="capitation payable"))  # fmt: skip
    kept = [p for p in postings if p is not None]
    if not kept:
        return
    post_entry(
        actor=actor,
        date=on,
        memo=f"capitation {run.get_kind_display().lower()} run {run.pk}: {run.payer.code} {run.month:%Y-%m}",
        postings=kept,
        source_type="capitation_run",
        source_id=run.pk,
    )


def result_json(run: DistributionRun) -> dict[str, Any]:
    """The CLI's ``--json``."""
    ids = list(run.payments.values_list("practice_id", flat=True))
    tins = {pk: tin for pk, (_code, tin) in network_selectors.practice_codes_and_tins(ids).items()}
    keys = ("admin_fee", "reinsurance", "withhold", "pcp", "specialist", "quality", "retained")
    return {
        "run_id": run.pk,
        "status": run.status,
        "pool_cents": run.pool_cents,
        "components": {k: int((run.components or {}).get(k, 0)) for k in keys},
        "practices": [
            {"tin": tins.get(p.practice_id, ""), "net_cents": p.net_cents}
            for p in run.payments.order_by("practice__tin")
        ],
    }
