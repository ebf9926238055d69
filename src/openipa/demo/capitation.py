"""The demo's capitation year, run through the real services after the rosters are in.

For each payer and each month of the window: the payer's 820 (planned by ``demo.engine.remittances`` from what
the contract owes for the month's roster, with its noise) is written under ``var/demo/capitation/<PAYER>/``
and imported, and the month reconciled. For every month but the last, finance prepares the distribution run,
the second finance login approves it, and it is paid by a NACHA file under ``var/demo/payments/``; members
paid a month late make adjustment runs for the month before. The last month is imported and reconciled but
left for a new user to distribute, approve and pay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from statistics import median

from django.conf import settings

from openipa.accounts.models import User
from openipa.capitation.models import DistributionRule, DistributionRun, RemittanceImport
from openipa.capitation.services.imports import import_capitation
from openipa.capitation.services.payments import pay_run
from openipa.capitation.services.reconcile import expected_frame, reconcile
from openipa.capitation.services.runs import RunRefused, approve_run, distribute_month
from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Contract, Payer, RateCell
from openipa.core.months import Month
from openipa.demo.engine.remittances import Owed, PaidMember, plan_remittance
from openipa.edi.t820 import MemberRemittance, Remittance820, RemittanceLine, write_820
from openipa.membership import selectors as membership_selectors
from openipa.membership.models import Member

ProgressFn = Callable[[str, int, int], None]
PCP_SHARE = Decimal("0.40")
"""The demo rules pay PCPs 40% of the contract's median rate as a flat PMPM."""
SPECIALTY_WEIGHTS = {"Cardiology": "1.5", "Orthopedic Surgery": "1.25", "Gastroenterology": "1.25"}


@dataclass
class CapitationSummary:
    remittances: int = 0
    runs: int = 0
    adjustment_runs: int = 0
    payment_files: int = 0


def capitation_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "capitation"


def payments_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "payments"


def load_distribution_rules(valid_from: dt.date) -> None:
    """One distribution rule per contract: a flat PCP rate, a 2% risk pool, a 6% specialist pool split by
    specialty weight, a 3% quality pool."""
    for contract in Contract.objects.filter(status=Contract.Status.ACTIVE).order_by("number"):
        rates = [c.pmpm for c in RateCell.objects.filter(term__contract=contract)]
        if not rates:
            continue
        DistributionRule.objects.create(
            contract=contract,
            valid_from=max(contract.valid_from, valid_from),
            pcp_method=DistributionRule.PcpMethod.FLAT,
            pcp_pmpm=(Decimal(median(rates)) * PCP_SHARE).quantize(Decimal("0.01")),
            risk_pool_percent=Decimal("2.000"),
            specialist_percent=Decimal("6.000"),
            specialist_split=DistributionRule.Split.SPECIALTY_WEIGHT,
            specialty_weights=SPECIALTY_WEIGHTS,
            quality_percent=Decimal("3.000"),
            notes="demo rule",
        )


def _neighbours(payer: Payer) -> dict[int, int]:
    """Rate cell id -> the pmpm (cents) of the next age band of the same term, product and sex (or the one
    before, for the last band): what a payer paying the wrong age band pays."""
    cells = contract_selectors.pricing_frames(None, payer).rate_cells.sort(
        "term_id", "product_id", "sex", "age_min"
    )
    out: dict[int, int] = {}
    rows = list(cells.iter_rows(named=True))
    for i, row in enumerate(rows):
        same = [r for r in rows[max(0, i - 1) : i + 2] if r is not row and (r["term_id"], r["product_id"], r["sex"])
                == (row["term_id"], row["product_id"], row["sex"])]  # fmt: skip
        if same:
            out[row["rate_cell_id"]] = same[-1]["pmpm_cents"]
    return out


def _owed(payer: Payer, month: Month, names: dict[int, tuple[str, str, str]], before: set[int],
          neighbours: dict[int, int]) -> tuple[list[Owed], set[int]]:  # fmt: skip
    roster = membership_selectors.month_roster(
        None, payer_id=payer.pk, month=month, purpose="demo remittance"
    )
    expected = expected_frame(None, payer, month, roster).join(
        roster.select("member_id", "date_of_death", "first_covered_day"), on="member_id", how="left"
    )
    owed = []
    for row in expected.sort("member_id").iter_rows(named=True):
        key, last, first = names[row["member_id"]]
        died = row["date_of_death"]
        full = row["first_covered_day"] == 1 and row["expected_cents"] == row["full_month_cents"]
        owed.append(
            Owed(key, last, first, int(row["expected_cents"] or 0),
                 neighbours.get(row["rate_cell_id"]) if full and row["rate_cell_id"] is not None else None,
                 int(row["first_covered_day"]), died is not None and died < month.first_day,
                 new=row["member_id"] not in before)
        )  # fmt: skip
    return owed, set(roster["member_id"].to_list())


def _write(payer: Payer, month: Month, members: list[PaidMember], path: Path, control: int) -> None:
    total = sum(line.cents for m in members for line in m.lines)
    header = Remittance820(
        control_number=f"{control:04d}", version="005010X218", handling_code="C", total_cents=total,
        credit_debit="C", payment_method="CHK", payment_date=month.first_day + dt.timedelta(days=9),
        trace_number=f"{payer.code}{month.year}{month.month:02d}", originator_id="1" + payer.x12_payer_id.rjust(9, "0")[-9:],
        payer_name=payer.name.upper()[:60], payer_id=payer.x12_payer_id, payee_name="OPEN IPA DEMO",
        payee_id_qualifier="FI", payee_id=str(settings.IPA_TIN), period_start=month.first_day,
        period_end=month.last_day, created=month.first_day + dt.timedelta(days=5), segment_number=0,
        payer_id_qualifier="PI",
    )  # fmt: skip
    remits = (
        MemberRemittance(
            control_number=header.control_number, ent_number=n, member_id=m.key, last_name=m.last_name.upper(),
            first_name=m.first_name.upper(), subscriber_id="",
            lines=tuple(RemittanceLine("IK", "CAPITATION", line.cents, None, line.start, line.end) for line in m.lines),
            adjustments=(), segment_number=0,
        )
        for n, m in enumerate(members, start=1)
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    write_820(path, header, remits, sender_id=payer.x12_payer_id or payer.code, receiver_id="OPENIPA",
              control_number=control)  # fmt: skip


def build_capitation(
    *, seed: int, first: Month, last: Month, progress: ProgressFn | None = None
) -> CapitationSummary:
    """Remittances, reconciliations, runs and payments for every payer and month from ``first`` to ``last``."""
    stage = "Capitation (820s, runs, payments)"
    summary = CapitationSummary()
    preparer = User.objects.get(username="finance")
    approver = User.objects.get(username="finance-2")
    payers = list(Payer.objects.order_by("code"))
    months = list(Month.range(first, last))
    total = len(payers) * len(months)
    step = 0
    if progress is not None:
        progress(stage, 0, total)
    for payer in payers:
        if not DistributionRule.objects.filter(contract__payer=payer).exists():
            continue
        names = {pk: (key, ln, fn) for pk, key, ln, fn in
                 Member.objects.filter(payer=payer).values_list("pk", "payer_member_id", "last_name", "first_name")}  # fmt: skip
        neighbours = _neighbours(payer)
        before: set[int] = set()
        carried: list[PaidMember] = []
        last_owed: dict[str, Owed] = {}
        deaths: dict[str, dt.date] = {
            key: died
            for key, died in Member.objects.filter(payer=payer).values_list(
                "payer_member_id", "date_of_death"
            )
            if died is not None
        }
        for index, month in enumerate(months):
            owed, before = _owed(payer, month, names, before, neighbours)
            paid_keys = {row.key for row in owed}
            previous_month = (month - 1).first_day
            deceased = [row for key, row in last_owed.items() if key not in paid_keys
                        and previous_month <= deaths.get(key, dt.date.min) < month.first_day]  # fmt: skip
            plan = plan_remittance(seed=seed, payer_code=payer.code, month=month, owed=owed, carried=carried,
                                   deceased=deceased, duplicate=index == 3)  # fmt: skip
            last_owed = {row.key: row for row in owed}
            path = capitation_dir() / payer.code / f"{month}.820"
            _write(payer, month, plan.members, path, control=index + 1)
            record = import_capitation(actor=None, payer=payer, path=path, imported_by="demo")
            if record.status != RemittanceImport.Status.APPLIED:
                raise RuntimeError(f"the demo remittance {path} was {record.status}: {record.errors[:3]}")
            summary.remittances += 1
            reconcile(actor=None, payer=payer, month=month, who="demo")
            if carried and index:
                previous = months[index - 1]
                reconcile(actor=None, payer=payer, month=previous, who="demo")  # the late lines settle it
                if previous < last:
                    _adjust(
                        payer, previous, preparer, approver, summary, month.first_day + dt.timedelta(days=13)
                    )
            carried = list(plan.late)
            if month < last:
                run = distribute_month(actor=preparer, payer=payer, month=month)
                # finance closes the month two weeks in, the day before the payment goes out
                approve_run(actor=approver, run=run, posting_date=month.first_day + dt.timedelta(days=13))
                summary.runs += 1
                out = payments_dir() / payer.code / f"{month}.ach"
                try:
                    pay_run(
                        actor=preparer, run=run, out=out, effective=month.first_day + dt.timedelta(days=14)
                    )
                    summary.payment_files += 1
                except RunRefused:
                    pass  # nothing to send (every practice held or recouped): the run stays approved
            step += 1
            if progress is not None:
                progress(stage, step, total)
    return summary


def _adjust(
    payer: Payer, month: Month, preparer: User, approver: User, summary: CapitationSummary, on: dt.date
) -> None:
    """Members paid late for ``month`` after its run was approved: an adjustment run, approved."""
    if (
        not DistributionRun.objects.filter(payer=payer, month=month.first_day)
        .exclude(status="draft")
        .exists()
    ):
        return
    try:
        run = distribute_month(actor=preparer, payer=payer, month=month)
    except RunRefused:
        return  # nothing changed for the month
    approve_run(actor=approver, run=run, posting_date=on)
    summary.adjustment_runs += 1
