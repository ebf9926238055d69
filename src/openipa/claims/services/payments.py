"""Claims payment runs: pick the decided lines by payee, add interest on late clean claims, approve (a second
finance user), remit an 835 per payee and pay by NACHA CCD+ with the 835's trace in the addenda.

- **Prepare** (``prepare_run``): every payable or denied line adjudicated on or before ``through`` and not yet
  in a run, and every reversal of a line an earlier run paid, grouped by billing provider (the payee). Interest
  on each late clean line comes from the interest engine under the rule of the line's product's line of
  business in force on the payment date. A draft can be prepared again: the new draft replaces it.
- **Approve** (``approve_run``): by a finance user other than the one who prepared it. Posts medical claims
  and interest expense against claims payable. Approved runs never change.
- **Remit** (``remit_run``): one 835 (005010X221A1) per payee: paid lines, denials with their CARC/RARC,
  member cost share, reversals (CLP status 22) and interest (PLB L6), balanced exactly.
- **Pay** (``pay_run``): a NACHA file with one CCD+ credit per payee whose net is above zero and who has bank
  details; claims payable paid out of cash.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from openipa.claims.engine.interest import interest_due
from openipa.claims.models import Claim, ClaimLine, ClaimPayment, ClaimPaymentRun, InterestRule, LineInterest
from openipa.claims.services.errors import RunRefused as RunRefused
from openipa.claims.services.stoploss import update_accumulators
from openipa.core import audit
from openipa.core.bulk import update_frame
from openipa.core.frames import query_frame
from openipa.core.roles import Actor, Perm, require
from openipa.edi.t820 import EftAccounts
from openipa.edi.t835 import (
    Address,
    ClaimAdjustment,
    ClaimPayment835,
    ClaimsText,
    Contact,
    Payment835,
    ServicePayment835,
    claims_payment,
    interest,
    reversal_of,
    write_835_claims,
    write_835_claims_text,
)
from openipa.ledger import accounts
from openipa.ledger.payouts import AchFile, Credit, company_id, trace_prefix, write_ach
from openipa.ledger.services import LedgerError, Posting, accounting_date, post_entry
from openipa.membership import selectors as membership_selectors

Status = ClaimPaymentRun.Status
Outcome = ClaimLine.Outcome


def _who(actor: Actor | None, who: str) -> str:
    return (who or (getattr(actor, "username", "") if actor is not None else "") or "system")[:150]


def _fresh(through: dt.date, last_pk: int) -> QuerySet[ClaimLine]:
    """Lines decided (paid or denied) by the end of ``through`` and in no run (up to ``last_pk``)."""
    end = dt.datetime.combine(
        through + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    return ClaimLine.objects.filter(
        outcome__in=(Outcome.PAID, Outcome.DENIED), payment_run_id__isnull=True, adjudicated_at__lt=end,
        pk__lte=last_pk,
    )  # fmt: skip


def _reversals(last_pk: int) -> QuerySet[ClaimLine]:
    """Reversed lines an earlier run paid, not yet remitted as reversals."""
    return ClaimLine.objects.filter(
        outcome=Outcome.REVERSED, payment_run_id__isnull=False, reversal_run_id__isnull=True, pk__lte=last_pk
    ).exclude(paid_cents=0)


def _by_payee(lines: QuerySet[ClaimLine], sign: int) -> dict[str, dict[str, Any]]:
    """Claims, lines and paid cents of ``lines`` by billing provider. The lines are summed per claim first, then
    the claims per payee: a count of distinct claims over a million lines cost twice as much."""
    per_claim, params = (
        lines.values("claim_id")
        .annotate(n=Count("pk"), cents=Sum("paid_cents"))
        .order_by()
        .query.sql_with_params()
    )
    claims = connection.ops.quote_name(Claim._meta.db_table)
    sql = (
        "SELECT c.billing_npi, c.billing_tin, c.billing_name, c.billing_practice_id, COUNT(*), SUM(l.n), "
        f"SUM(l.cents) FROM ({per_claim}) AS l JOIN {claims} AS c ON c.id = l.claim_id "
        "GROUP BY c.billing_npi, c.billing_tin, c.billing_name, c.billing_practice_id"
    )
    out: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for npi, tin, name, practice, claim_count, count, paid in rows:
        p = out.setdefault(npi, {"tin": tin, "name": name, "practice": practice, "claims": 0, "lines": 0})
        p["claims"] += int(claim_count)
        p["lines"] += int(count)
        p["cents"] = p.get("cents", 0) + sign * int(paid or 0)
    return out


def _interest(lines: QuerySet[ClaimLine], payment_date: dt.date) -> pl.DataFrame:
    """Interest on the late clean paid lines (the interest engine's rows, with the payee's NPI); only the lines
    received early enough to be late under the shortest rule are read."""
    rules = list(InterestRule.objects.all())
    schema = {"line_id": pl.Int64, "rule_id": pl.Int64, "due_on": pl.Date, "days_late": pl.Int32,
              "interest_cents": pl.Int64, "billing_npi": pl.String}  # fmt: skip
    if not rules:
        return pl.DataFrame(schema=schema)
    earliest = payment_date - dt.timedelta(days=min(r.limit_days for r in rules))
    candidates = query_frame(
        lines.filter(outcome=Outcome.PAID, paid_cents__gt=0, claim__received_on__lt=earliest),
        {"line_id": ("pk", pl.Int64), "member_id": ("claim__member_id", pl.Int64),
         "service_from": ("service_from", pl.Date), "received_on": ("claim__received_on", pl.Date),
         "paid_cents": ("paid_cents", pl.Int64), "billing_npi": ("claim__billing_npi", pl.String)},
    )  # fmt: skip
    if candidates.height == 0:
        return pl.DataFrame(schema=schema)
    lob = membership_selectors.lines_of_business_on(candidates.select("line_id", "member_id", "service_from"))
    frame = candidates.join(lob, on="line_id", how="left").with_columns(
        pl.col("line_of_business").fill_null(""), pl.lit(True).alias("clean")
    )
    rule_frame = pl.DataFrame(
        [(r.pk, r.line_of_business, r.valid_from, r.valid_to, r.limit_days, r.working_days, r.calendar_code,
          int(r.annual_rate_percent * 1000), int(r.minimum_interest * 100), r.count_from_next_day) for r in rules],
        schema={"rule_id": pl.Int64, "line_of_business": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
                "limit_days": pl.Int32, "working_days": pl.Boolean, "calendar_code": pl.String,
                "rate_milli": pl.Int64, "minimum_interest_cents": pl.Int64, "count_from_next_day": pl.Boolean},
        orient="row",
    )  # fmt: skip
    due = interest_due(frame, rule_frame, payment_date).filter(pl.col("interest_cents") > 0)
    return due.join(frame.select("line_id", "billing_npi"), on="line_id").select(list(schema))


def prepare_run(
    *, actor: Actor | None, through: dt.date, payment_date: dt.date | None = None, who: str = ""
) -> ClaimPaymentRun:
    """Prepare the draft run of everything decided through ``through`` (see the module docstring)."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    payment_date = payment_date or timezone.localdate() + dt.timedelta(days=1)
    if payment_date < through:
        raise RunRefused(f"the payment date {payment_date} is before the run's through date {through}")
    with transaction.atomic():
        for draft in ClaimPaymentRun.objects.select_for_update().filter(status=Status.DRAFT):
            _discard(draft)
        last_pk = ClaimLine.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        fresh, reversals = _fresh(through, last_pk), _reversals(last_pk)
        paid_by, reversed_by = _by_payee(fresh, 1), _by_payee(reversals, -1)
        if not paid_by and not reversed_by:
            raise RunRefused(f"no decided claim line through {through} is waiting for payment")
        interest = _interest(fresh, payment_date)
        interest_by = {
            npi: int(c)
            for npi, c in interest.group_by("billing_npi").agg(pl.col("interest_cents").sum()).rows()
        }
        run = ClaimPaymentRun.objects.create(
            through=through, payment_date=payment_date, prepared_by=_who(actor, who)
        )
        practices = _practices_by_tin({p["tin"] for p in (*paid_by.values(), *reversed_by.values())})
        totals = {"paid_cents": 0, "interest_cents": 0, "reversal_cents": 0, "lines": 0}
        for npi in sorted(set(paid_by) | set(reversed_by)):
            paid, rev = paid_by.get(npi, {}), reversed_by.get(npi, {})
            about = paid or rev
            cents = {"paid_cents": paid.get("cents", 0), "interest_cents": interest_by.get(npi, 0),
                     "reversal_cents": rev.get("cents", 0)}  # fmt: skip
            ClaimPayment.objects.create(
                run=run, payee_npi=npi, payee_tin=about["tin"], payee_name=about["name"][:60],
                practice_id=about["practice"] or practices.get(about["tin"]),
                claims=paid.get("claims", 0) + rev.get("claims", 0), lines=paid.get("lines", 0) + rev.get("lines", 0),
                net_cents=sum(cents.values()), **cents,
            )  # fmt: skip
            for key, value in cents.items():
                totals[key] += value
            totals["lines"] += paid.get("lines", 0) + rev.get("lines", 0)
        LineInterest.objects.bulk_create(
            LineInterest(run=run, line_id=r["line_id"], rule_id=r["rule_id"], due_on=r["due_on"],
                         days_late=r["days_late"], interest_cents=r["interest_cents"])
            for r in interest.iter_rows(named=True)
        )  # fmt: skip
        fresh.update(payment_run_id=run.pk)
        reversals.update(reversal_run_id=run.pk)
        ClaimPaymentRun.objects.filter(pk=run.pk).update(
            net_cents=totals["paid_cents"] + totals["interest_cents"] + totals["reversal_cents"],
            inputs={"last_line_id": last_pk}, **totals,
        )  # fmt: skip
        run.refresh_from_db()
        audit.record_write(actor, "claims.prepare_run", run,
                           after={"through": through.isoformat(), "lines": run.lines, "net_cents": run.net_cents})  # fmt: skip
    return run


def _practices_by_tin(tins: set[str]) -> dict[str, int]:
    from openipa.network.selectors import practice_ids_by_tin

    return practice_ids_by_tin(tins)


def _discard(draft: ClaimPaymentRun) -> None:
    ClaimLine.objects.filter(payment_run_id=draft.pk).update(payment_run_id=None)
    ClaimLine.objects.filter(reversal_run_id=draft.pk).update(reversal_run_id=None)
    LineInterest.objects.filter(run=draft).delete()
    ClaimPayment.objects.filter(run=draft).delete()
    draft.delete()


def approve_run(
    *, actor: Actor, run: ClaimPaymentRun, posting_date: dt.date | None = None
) -> ClaimPaymentRun:
    """Approve a draft: a finance user other than its preparer. Posts the expense against claims payable, dated
    ``posting_date`` (the accounting date: not in the future, not before the run's through date) or today."""
    require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        run = ClaimPaymentRun.objects.select_for_update().get(pk=run.pk)
        try:
            on = accounting_date(posting_date, not_before=run.through, what=f"run {run.pk}'s entry")
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
        run.status = Status.APPROVED
        run.approved_by = actor.username
        run.approved_at = timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        for payment in run.payments.all():
            payment.trace_number = trace_number(payment)
            payment.save(update_fields=["trace_number"])
        # the run's claims still adjudicated, read as a frame and marked by key in one statement (an UPDATE
        # through the join is slow on PostgreSQL); a claim with a pended line stays pended
        claims = query_frame(
            Claim.objects.filter(
                pk__in=ClaimLine.objects.filter(payment_run_id=run.pk).values("claim_id"),
                status=Claim.Status.ADJUDICATED,
            ),
            {"id": ("pk", pl.Int64)},
        )
        update_frame(
            Claim, claims.with_columns(pl.lit(Claim.Status.PAID.value).alias("status")), key="id",
            where={"status": Claim.Status.ADJUDICATED},
        )  # fmt: skip
        postings = []
        for p in run.payments.all():
            claims_cost = p.paid_cents + p.reversal_cents
            if claims_cost:
                postings.append(_side(accounts.MEDICAL_CLAIMS_EXPENSE, claims_cost, p, debit=True))
            if p.interest_cents:
                postings.append(_side(accounts.CLAIMS_INTEREST_EXPENSE, p.interest_cents, p, debit=True))
            if p.net_cents:
                postings.append(_side(accounts.CLAIMS_PAYABLE, p.net_cents, p, debit=False))
        if postings:
            post_entry(actor=actor, date=on, memo=f"claims payment run {run.pk} through {run.through}",
                       postings=postings, source_type="claims_run", source_id=run.pk)  # fmt: skip
        audit.record_write(
            actor, "claims.approve_run", run, after={"status": run.status, "net_cents": run.net_cents}
        )
        update_accumulators(actor=actor, run=run)
    return run


def _side(account: str, cents: int, payment: ClaimPayment, *, debit: bool) -> Posting:
    """``cents`` on the account's normal side (``debit``), or on the other side when negative."""
    on_debit = (cents > 0) == debit
    amount = abs(cents)
    return Posting(account=account, debit_cents=amount if on_debit else 0, credit_cents=0 if on_debit else amount,
                   practice_id=payment.practice_id, memo=f"payee {payment.payee_npi}")  # fmt: skip


def result_json(run: ClaimPaymentRun) -> dict[str, Any]:
    """The CLI's ``--json``."""
    return {
        "run_id": run.pk,
        "status": run.status,
        "through": run.through.isoformat(),
        "payment_date": run.payment_date.isoformat(),
        "lines": run.lines,
        "paid_cents": run.paid_cents,
        "interest_cents": run.interest_cents,
        "reversal_cents": run.reversal_cents,
        "net_cents": run.net_cents,
        "payees": [
            {"npi": p.payee_npi, "tin": p.payee_tin, "net_cents": p.net_cents}
            for p in run.payments.order_by("payee_tin", "payee_npi")
        ],
    }


# -- remittance advice (835) and payment (NACHA) ------------------------------------------------------------


def _ipa_address() -> Address:
    street, city, state, zip_code = [*str(settings.IPA_ADDRESS).split("|"), "", "", "", ""][:4]
    return Address((street,), city, state, zip_code)


def trace_number(payment: ClaimPayment) -> str:
    """The payment's EFT trace: the IPA's bank (first 8 digits of its routing number) and the payment's id."""
    return f"{trace_prefix()}{payment.pk:07d}"


_REMIT_COLUMNS: dict[str, tuple[Any, Any]] = {
    "outcome": ("outcome", pl.String), "carc": ("carc", pl.String), "rarc": ("rarc", pl.String),
    "charge_cents": ("charge_cents", pl.Int64), "allowed_cents": ("allowed_cents", pl.Int64),
    "paid_cents": ("paid_cents", pl.Int64), "cost_share_cents": ("cost_share_cents", pl.Int64),
    # the member's share as the pricing split it, read out of the JSON by the database
    "copay_cents": (Cast(KT("pricing__copay_cents"), BigIntegerField()), pl.Int64),
    "coinsurance_cents": (Cast(KT("pricing__coinsurance_cents"), BigIntegerField()), pl.Int64),
    "units_milli": (Cast(F("units") * 1000, BigIntegerField()), pl.Int64),
    "code": ("code", pl.String), "revenue_code": ("revenue_code", pl.String), "modifiers": ("modifiers", pl.String),
    "service_from": ("service_from", pl.Date), "line_control": ("line_control", pl.String),
    "reversal_run_id": ("reversal_run_id", pl.Int64), "claim_id": ("claim_id", pl.Int64),
    "billing_npi": ("claim__billing_npi", pl.String),
    "patient_control_number": ("claim__patient_control_number", pl.String),
    "patient_last_name": ("claim__patient_last_name", pl.String),
    "patient_first_name": ("claim__patient_first_name", pl.String), "member_key": ("claim__member_key", pl.String),
    "place_of_service": ("claim__place_of_service", pl.String),
    "type_of_bill": ("claim__type_of_bill", pl.String), "frequency": ("claim__frequency", pl.String),
    "rendering_npi": ("claim__rendering_npi", pl.String), "received_on": ("claim__received_on", pl.Date),
}  # fmt: skip
"""What a remittance reads of each line of the run and of its claim."""


_DENIED, _REVERSED = Outcome.DENIED.value, Outcome.REVERSED.value
_SERVICE_COLUMNS = ("outcome", "carc", "rarc", "charge_cents", "allowed_cents", "paid_cents", "cost_share_cents",
                    "copay_cents", "coinsurance_cents", "units_milli", "code", "revenue_code", "modifiers",
                    "service_from", "line_control")  # fmt: skip
_CLAIM_COLUMNS = ("claim_id", "reversal_run_id", "billing_npi", "patient_control_number", "patient_last_name",
                  "patient_first_name", "member_key", "place_of_service", "type_of_bill", "frequency",
                  "rendering_npi", "received_on")  # fmt: skip


def _service(
    outcome: str, carc: str, rarc: str, charge: int, allowed_cents: int | None, paid: int, share: int,
    copay_cents: int | None, coinsurance_cents: int | None, milli: int, code: str, revenue_code: str,
    modifiers: str, service_from: dt.date, line_control: str,
) -> ServicePayment835:  # fmt: skip
    """A line as the 835 explains it: denied lines carry their CARC for the whole charge, paid lines the
    contractual reduction (CO-45) and the member's copay (PR-3) and coinsurance (PR-2). Takes the values of
    ``_SERVICE_COLUMNS`` in order (a run has a million lines: no dict per line)."""
    adjustments: list[ClaimAdjustment] = []
    allowed: int | None = None
    if outcome == _DENIED or (outcome == _REVERSED and not paid):
        adjustments.append(ClaimAdjustment("CO", carc or "A1", charge))
    else:
        allowed = allowed_cents if allowed_cents is not None else paid + share
        if charge != allowed:
            adjustments.append(ClaimAdjustment("CO", "45", charge - allowed))
        copay = copay_cents or 0
        coinsurance = coinsurance_cents or 0
        other = share - copay - coinsurance  # lines decided before the split was kept
        if copay:
            adjustments.append(ClaimAdjustment("PR", "3", copay))
        if coinsurance + other:
            adjustments.append(ClaimAdjustment("PR", "2", coinsurance + other))
    return ServicePayment835(
        code or revenue_code, charge, paid if outcome != _DENIED else 0,
        tuple(m for m in modifiers.split(",") if m) if modifiers else (),
        milli // 1000 if milli % 1000 == 0 and milli > 1000 else None,
        service_from, tuple(adjustments), line_control, allowed, (rarc,) if rarc else (), "HC" if code else "NU",
    )  # fmt: skip


def _claim_835(c: tuple[Any, ...], services: tuple[ServicePayment835, ...]) -> ClaimPayment835:
    """The claim of ``services``; ``c`` holds the values of ``_CLAIM_COLUMNS`` of its first line."""
    (claim_id, _reversal, billing_npi, patient_control_number, last_name, first_name, member_key, place_of_service,
     type_of_bill, frequency, rendering_npi, received_on) = c  # fmt: skip
    paid = sum(s.paid_cents for s in services)
    responsibility = sum(a.amount_cents for s in services for a in s.adjustments if a.group == "PR")
    return ClaimPayment835(
        patient_control_number=patient_control_number,
        status="1" if paid or responsibility else "4",
        charge_cents=sum(s.charge_cents for s in services),
        paid_cents=paid,
        payer_claim_number=str(claim_id),
        patient_last_name=last_name or "UNKNOWN",
        patient_first_name=first_name,
        patient_id=member_key,
        patient_responsibility_cents=responsibility,
        facility_code=place_of_service or (type_of_bill[1:3] if type_of_bill else ""),
        frequency_code=frequency,
        rendering_npi=rendering_npi if rendering_npi != billing_npi else "",
        received=received_on,
        services=services,
    )


def _run_lines(run: ClaimPaymentRun) -> pl.DataFrame:
    """The lines the run remits (paid, denied, reversed), by payee, claim and line number."""
    return query_frame(
        ClaimLine.objects.filter(Q(payment_run_id=run.pk) | Q(reversal_run_id=run.pk)).order_by(
            "claim__billing_npi", "claim_id", "number"
        ),
        _REMIT_COLUMNS,
    )


def _run_claims(run: ClaimPaymentRun, lines: pl.DataFrame) -> dict[str, list[ClaimPayment835]]:
    """Every claim the run remits, by payee NPI: reversals (CLP status 22) first, then the claims paid or
    denied; read in one pass over the run's lines (as tuples of columns: no dict per line)."""
    by_payee: dict[str, tuple[list[ClaimPayment835], list[ClaimPayment835]]] = {}
    claims = lines.select(_CLAIM_COLUMNS).iter_rows()
    first: tuple[Any, ...] | None = None
    services: list[ServicePayment835] = []

    def flush() -> None:
        if first is None:
            return
        reversal = first[1] == run.pk
        claim = _claim_835(first, tuple(services))
        reversals, fresh = by_payee.setdefault(first[2], ([], []))
        (reversals if reversal else fresh).append(reversal_of(claim) if reversal else claim)

    key: tuple[int, bool] | None = None
    for values, c in zip(lines.select(_SERVICE_COLUMNS).iter_rows(), claims, strict=True):
        this = (c[0], c[1] == run.pk)
        if this != key:
            flush()
            first, services, key = c, [], this
        services.append(_service(*values))
    flush()
    return {npi: [*reversals, *fresh] for npi, (reversals, fresh) in by_payee.items()}


def _cents_text(amount: pl.Expr) -> pl.Expr:
    """``format_cents`` in Polars: 123450 -> "1234.5", 1200 -> "12", 5 -> "0.05", -127 -> "-1.27"."""
    whole = amount.abs() // 100
    part = amount.abs() % 100
    decimals = (
        pl.when(part == 0)
        .then(pl.lit(""))
        .when(part % 10 == 0)
        .then(pl.lit(".") + (part // 10).cast(pl.String))
        .otherwise(pl.lit(".") + part.cast(pl.String).str.zfill(2))
    )
    sign = pl.when(amount < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole.cast(pl.String), decimals])


_FORBIDDEN = "[*:^~]"
"""The default delimiters (element, component, repetition, segment): no value may hold one."""


def _claims_text(lines: pl.DataFrame, run_pk: int) -> dict[str, ClaimsText] | None:
    """The run's claims as 835 text per payee NPI (reversals first, then the claims paid or denied, as
    :func:`_run_claims` orders them), made in frames: the same segments, byte for byte, that the claim
    records would give. None when any value would not pass :func:`write_835_claims`' checks (a delimiter in a
    value, a bad CARC, a line that does not balance...): the caller then takes the records' path, which
    refuses it naming the claim and element."""
    t = "~"
    rev = pl.col("reversal_run_id").fill_null(0) == run_pk
    sign = pl.when(rev).then(-1).otherwise(1)
    denied_line = (pl.col("outcome") == _DENIED) | (
        (pl.col("outcome") == _REVERSED) & (pl.col("paid_cents") == 0)
    )
    share = pl.col("cost_share_cents")
    copay = pl.col("copay_cents").fill_null(0)
    allowed = pl.coalesce(pl.col("allowed_cents"), pl.col("paid_cents") + share)
    f = lines.with_columns(
        rev.alias("rev"), sign.alias("sign"), denied_line.alias("denied_line"),
        pl.col("modifiers").str.split(",").list.eval(pl.element().filter(pl.element() != "")).alias("mods"),
    ).with_columns(
        (pl.col("charge_cents") * pl.col("sign")).alias("charge"),
        (pl.when(pl.col("outcome") == _DENIED).then(0).otherwise(pl.col("paid_cents")) * pl.col("sign")).alias("paid"),
        (pl.when(pl.col("denied_line")).then(None).otherwise(allowed) * pl.col("sign")).alias("allowed"),
        pl.when(pl.col("denied_line")).then(pl.col("charge_cents"))
        .when(pl.col("charge_cents") != allowed).then(pl.col("charge_cents") - allowed)
        .otherwise(None).mul(pl.col("sign")).alias("co"),
        pl.when(pl.col("denied_line")).then(pl.when(pl.col("carc") != "").then(pl.col("carc")).otherwise(pl.lit("A1")))
        .otherwise(pl.lit("45")).alias("co_code"),
        pl.when(~pl.col("denied_line") & (copay != 0)).then(copay).otherwise(None).mul(pl.col("sign")).alias("pr3"),
        # coinsurance, and what of the share the split does not name (lines decided before it was kept)
        pl.when(~pl.col("denied_line") & (share - copay != 0))
        .then(share - copay).otherwise(None).mul(pl.col("sign")).alias("pr2"),
        pl.when(pl.col("code") != "").then(pl.col("code")).otherwise(pl.col("revenue_code")).alias("procedure"),
        pl.when((pl.col("units_milli") % 1000 == 0) & (pl.col("units_milli") > 1000))
        .then(pl.col("units_milli") // 1000).otherwise(None).alias("units"),
    )  # fmt: skip
    # what write_835_claims would refuse: then the records' path says what and where
    texts = ["patient_control_number", "patient_last_name", "patient_first_name", "member_key", "place_of_service",
             "type_of_bill", "frequency", "rendering_npi", "procedure", "modifiers", "line_control", "rarc", "co_code"]  # fmt: skip
    amounts = ["charge", "paid", "allowed", "co", "pr3", "pr2"]
    checks = [
        pl.any_horizontal([pl.col(c).str.contains(_FORBIDDEN) for c in texts]).any(),
        (pl.col("patient_control_number") == "").any(),
        (pl.col("procedure") == "").any(),
        (~pl.col("co_code").str.contains(r"^[A-Za-z0-9]{1,5}$")).any(),
        (pl.col("mods").list.len() > 4).any(),
        (pl.col("rev") & ((pl.col("charge") > 0) | (pl.col("paid") > 0))).any(),
        (~pl.col("rev") & (pl.col("charge_cents") < 0)).any(),
        # a claim's lines in one run of reversal or not, as the records' path groups them
        ((pl.col("claim_id") != pl.col("claim_id").shift(1)) | (pl.col("rev") != pl.col("rev").shift(1)))
        .fill_null(True).sum() != pl.struct("claim_id", "rev").n_unique(),
        pl.any_horizontal([pl.col(c).abs() >= 10**16 for c in amounts]).any(),
        (pl.col("charge") - pl.col("co").fill_null(0) - pl.col("pr3").fill_null(0) - pl.col("pr2").fill_null(0)
         != pl.col("paid")).any(),
    ]  # fmt: skip
    bad = f.select(check.alias(f"check{n}") for n, check in enumerate(checks)).row(0)
    if any(bad):
        return None
    pr = (
        pl.when(pl.col("pr3").is_not_null() & pl.col("pr2").is_not_null())
        .then(pl.lit("CAS*PR*3*") + _cents_text(pl.col("pr3")) + pl.lit("**2*") + _cents_text(pl.col("pr2")))
        .when(pl.col("pr3").is_not_null()).then(pl.lit("CAS*PR*3*") + _cents_text(pl.col("pr3")))
        .when(pl.col("pr2").is_not_null()).then(pl.lit("CAS*PR*2*") + _cents_text(pl.col("pr2")))
    )  # fmt: skip
    mods = pl.col("mods").list.join(":")
    line_segments = [
        pl.concat_str([
            pl.lit("SVC*"), pl.when(pl.col("code") != "").then(pl.lit("HC")).otherwise(pl.lit("NU")), pl.lit(":"),
            pl.col("procedure"), pl.when(mods != "").then(pl.lit(":") + mods).otherwise(pl.lit("")), pl.lit("*"),
            _cents_text(pl.col("charge")), pl.lit("*"), _cents_text(pl.col("paid")),
            pl.when(pl.col("units").is_not_null()).then(pl.lit("**") + pl.col("units").cast(pl.String))
            .otherwise(pl.lit("")),
        ]),
        pl.lit("DTM*472*") + pl.col("service_from").dt.strftime("%Y%m%d"),
        pl.when(pl.col("co").is_not_null())
        .then(pl.lit("CAS*CO*") + pl.col("co_code") + pl.lit("*") + _cents_text(pl.col("co"))),
        pr,
        pl.when(pl.col("line_control") != "").then(pl.lit("REF*6R*") + pl.col("line_control")),
        pl.when(pl.col("allowed").is_not_null()).then(pl.lit("AMT*B6*") + _cents_text(pl.col("allowed"))),
        pl.when(pl.col("rarc") != "").then(pl.lit("LQ*HE*") + pl.col("rarc")),
    ]  # fmt: skip
    f = f.with_columns(
        pl.concat_str([segment + pl.lit(t) for segment in line_segments], ignore_nulls=True).alias(
            "line_text"
        ),
        pl.sum_horizontal([segment.is_not_null().cast(pl.Int64) for segment in line_segments]).alias(
            "line_segments"
        ),
        (pl.col("pr3").fill_null(0) + pl.col("pr2").fill_null(0)).alias("pr"),
    )
    firsts = ["patient_control_number", "patient_last_name", "patient_first_name", "member_key", "place_of_service",
              "type_of_bill", "frequency", "rendering_npi", "received_on"]  # fmt: skip
    claims = f.group_by("billing_npi", "claim_id", "rev", maintain_order=True).agg(
        pl.col("line_text").str.join(""), pl.col("line_segments").sum(), pl.len().alias("services"),
        pl.col("charge").sum(), pl.col("paid").sum(), pl.col("pr").sum(), *(pl.col(c).first() for c in firsts),
    )  # fmt: skip
    facility = (
        pl.when(pl.col("place_of_service") != "")
        .then(pl.col("place_of_service"))
        .otherwise(pl.col("type_of_bill").str.slice(1, 2))
    )
    rendering = (pl.col("rendering_npi") != pl.col("billing_npi")) & (pl.col("rendering_npi") != "")
    status = (
        pl.when(pl.col("rev")).then(pl.lit("22"))
        .when((pl.col("paid") != 0) | (pl.col("pr") != 0)).then(pl.lit("1")).otherwise(pl.lit("4"))
    )  # fmt: skip
    clp = pl.concat_str([
        pl.lit("CLP*"), pl.col("patient_control_number"), pl.lit("*"), status, pl.lit("*"), _cents_text(pl.col("charge")),
        pl.lit("*"), _cents_text(pl.col("paid")), pl.lit("*"),
        pl.when(pl.col("pr") != 0).then(_cents_text(pl.col("pr"))).otherwise(pl.lit("")), pl.lit("*HM*"),
        pl.col("claim_id").cast(pl.String), pl.lit("*"), pl.col("facility"), pl.lit("*"), pl.col("frequency"),
    ]).str.strip_chars_end("*")  # fmt: skip
    nm1 = pl.concat_str([
        pl.lit("NM1*QC*1*"),
        pl.when(pl.col("patient_last_name") != "").then(pl.col("patient_last_name")).otherwise(pl.lit("UNKNOWN")),
        pl.lit("*"), pl.col("patient_first_name"), pl.lit("****"),
        pl.when(pl.col("member_key") != "").then(pl.lit("MI")).otherwise(pl.lit("")), pl.lit("*"), pl.col("member_key"),
    ]).str.strip_chars_end("*")  # fmt: skip
    claims = (
        claims.with_columns(facility.alias("facility"))
        .sort("billing_npi", pl.col("rev").not_(), maintain_order=True)  # reversals first, each in claim order
        .with_columns(
            (pl.col("facility") != pl.col("facility").shift(1).over("billing_npi")).fill_null(True).alias("new_lx")
        )
        .with_columns(pl.col("new_lx").cast(pl.Int64).cum_sum().over("billing_npi").alias("lx"))
        .with_columns(
            pl.concat_str([
                pl.when(pl.col("new_lx")).then(pl.lit("LX*") + pl.col("lx").cast(pl.String) + pl.lit(t)),
                clp + pl.lit(t), nm1 + pl.lit(t),
                pl.when(rendering).then(pl.lit("NM1*82*2******XX*") + pl.col("rendering_npi") + pl.lit(t)),
                pl.lit("DTM*050*") + pl.col("received_on").dt.strftime("%Y%m%d") + pl.lit(t), pl.col("line_text"),
            ], ignore_nulls=True).alias("text"),
            (pl.col("line_segments") + 3 + rendering.cast(pl.Int64) + pl.col("new_lx").cast(pl.Int64)).alias("segments"),
        )
        .group_by("billing_npi", maintain_order=True)
        .agg(pl.col("text").str.join(""), pl.col("segments").sum(), pl.len().alias("claims"),
             pl.col("services").sum(), pl.col("paid").sum())
    )  # fmt: skip
    return {
        npi: ClaimsText(text, int(segments), int(count), int(services), int(paid))
        for npi, text, segments, count, services, paid in claims.iter_rows()
    }


def remit_run(*, actor: Actor | None, run: ClaimPaymentRun, out: Path) -> list[Path]:
    """Write one 835 per payee of an approved (or paid) run into the folder ``out``; return the files."""
    if actor is not None:
        require(actor, Perm.VIEW_FINANCE)
    if run.status == Status.DRAFT:
        raise RunRefused(f"run {run.pk} is a draft: only an approved run is remitted")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    year_end = dt.date(run.payment_date.year, 12, 31)
    payments = list(run.payments.select_related("practice").order_by("payee_tin", "payee_npi"))
    lines = _run_lines(run)
    # the claims as 835 text made in frames; the claim records when a value would be refused (they say why)
    texts = _claims_text(lines, run.pk)
    claims = _run_claims(run, lines) if texts is None else {}
    for number, payment in enumerate(payments, start=1):
        plbs = (
            [interest(payment.payee_npi, year_end, payment.interest_cents)] if payment.interest_cents else []
        )
        banked = payment.practice is not None and bool(payment.practice.bank_routing_number)
        header = Payment835(
            control_number=f"{number:04d}", total_cents=0, credit_debit="C",
            payment_method="ACH" if banked else "CHK", payment_date=run.payment_date,
            trace_number=payment.trace_number or trace_number(payment), originator_id=company_id(),
            payer_name=str(settings.IPA_NAME)[:60], payer_id=str(settings.IPA_TIN),
            payee_name=(payment.payee_name or payment.payee_npi)[:60], payee_id_qualifier="XX",
            payee_id=payment.payee_npi, payee_tin=payment.payee_tin, production_date=timezone.localdate(),
            claim_count=0, claim_paid_cents=0, adjustments=(), segment_number=0,
        )  # fmt: skip
        path = out / f"835-run{run.pk}-{payment.payee_npi}.x12"
        eft = EftAccounts(
            originating_dfi=str(settings.IPA_BANK_ROUTING), originating_account=str(settings.IPA_BANK_ACCOUNT),
            receiving_dfi=payment.practice.bank_routing_number,
            receiving_account=payment.practice.bank_account_number,
        ) if banked and payment.practice is not None else None  # fmt: skip
        parties: dict[str, Any] = {
            "sender_id": str(settings.IPA_TIN), "receiver_id": payment.payee_tin or payment.payee_npi,
            "payer_address": _ipa_address(), "payer_contact": Contact(name="CLAIMS", phone=str(settings.IPA_CLAIMS_PHONE)),
            "eft": eft, "control_number": run.pk * 1000 + number,
        }  # fmt: skip
        if texts is not None:
            text = texts.get(payment.payee_npi, ClaimsText("", 0, 0, 0, 0))
            write_835_claims_text(path, claims_payment(header, text, plbs), text, **parties)
        else:
            claims_835 = claims.get(payment.payee_npi, [])
            write_835_claims(path, claims_payment(header, claims_835, plbs), claims_835, **parties)
        written.append(path)
    audit.record_write(actor, "claims.remit_run", run, after={"files": len(written)})
    return written


def pay_run(
    *, actor: Actor | None, run: ClaimPaymentRun, out: Path, effective: dt.date | None = None
) -> AchFile:
    """Write the NACHA file paying an approved run (one CCD+ credit per payee whose net is above zero and who
    has bank details, with the 835's trace in its addenda); mark the run paid and post cash out of claims
    payable. Payees without bank details are held; a net not above zero is carried."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    effective = effective or run.payment_date
    with transaction.atomic():
        run = ClaimPaymentRun.objects.select_for_update().get(pk=run.pk)
        if run.status != Status.APPROVED:
            raise RunRefused(
                f"run {run.pk} is {run.get_status_display().lower()}: only an approved run is paid"
            )
        payments = list(run.payments.select_related("practice").order_by("pk"))
        banked = [p for p in payments if p.net_cents > 0 and p.practice is not None
                  and p.practice.bank_routing_number and p.practice.bank_account_number]  # fmt: skip
        if not banked:
            raise RunRefused(f"run {run.pk} has no payment to send (none above zero with bank details)")
        credits = [
            Credit(routing_number=p.practice.bank_routing_number, account_number=p.practice.bank_account_number,
                   amount_cents=p.net_cents, tin=p.payee_tin or p.practice.tin, name=p.payee_name or p.practice.legal_name,
                   trace_number=p.trace_number)
            for p in banked if p.practice is not None
        ]  # fmt: skip
        written = write_ach(
            out, credits, description="CLAIMS", descriptive_date=run.payment_date.strftime("%b %y").upper(),
            reference=f"CLM{run.pk}", effective=effective, kept_name=f"claims-run-{run.pk}",
        )  # fmt: skip
        for p in payments:
            p.status = (
                ClaimPayment.Status.SENT if p in banked
                else ClaimPayment.Status.CARRIED if p.net_cents <= 0
                else ClaimPayment.Status.HELD
            )  # fmt: skip
            p.save(update_fields=["status"])
        run.status = Status.PAID
        run.paid_at = timezone.now()
        run.save(update_fields=["status", "paid_at"])
        post_entry(
            actor=actor,
            date=effective,
            memo=f"claims payments of run {run.pk}: {out.name}",
            postings=[
                *(Posting(account=accounts.CLAIMS_PAYABLE, debit_cents=p.net_cents, practice_id=p.practice_id,
                          memo=f"ACH trace {p.trace_number}") for p in banked),
                Posting(account=accounts.CASH, credit_cents=written.total_cents),
            ],
            source_type="claims_payment",
            source_id=run.pk,
        )  # fmt: skip
        audit.record_write(actor, "claims.pay_run", run,
                           after={"entries": written.entries, "total_cents": written.total_cents,
                                  "file": written.stored_path})  # fmt: skip
    return written
