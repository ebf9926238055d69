"""The claims dashboard's numbers: inventory and aging of undecided claims, the share decided within 45
working days of receipt (the California RBO criterion), the auto-adjudication rate of each adjudication run,
the denial rate by CARC and the paid PMPM by month of service.

Counts and sums only (no member rows), so nothing is written to the audit log. IPA claims staff's
(VIEW_CLAIMS), never a practice user's.

Definitions (docs/claims-payments.md says the same):

- **Inventory** as of a day: claims received on or before it whose status is received (not adjudicated yet) or
  pended, aged in calendar days since receipt: 0-15, 16-30, 31-45, 46+.
- **Timeliness** by month received: a claim is decided when none of its lines is new or pended; it is decided
  on the day its last line was (``adjudicated_at``, local time). It is on time when decided within
  ``TIMELY_WORKING_DAYS`` working days of receipt (the US-CA calendar: working days after the day received up
  to and including the day decided). A claim not decided yet is late once that deadline has passed, and not
  counted yet before it. Voids and originals later replaced or voided are left out (the reversal overwrites
  the day they were decided). Share = on time / (on time + late + open past the deadline).
- **Auto-adjudication**: per adjudication run, lines paid or denied without a person / lines decided.
- **Denial rate by CARC**: of the lines decided (paid or denied) of claims received in the window, the lines
  denied with each CARC.
- **Paid PMPM**: paid cents of lines in approved or paid payment runs, less lines whose reversal is in an
  approved or paid run, by month of service (first service day), over the member-months of that month
  (``membership.selectors.member_months_report``), rounded half up to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from openipa.claims.models import AdjudicationRun, Claim, ClaimLine, ClaimPaymentRun
from openipa.core.calendars import get_calendar
from openipa.core.errors import PermissionDenied
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, is_practice_scoped, require
from openipa.membership.selectors import member_months_report

TIMELY_WORKING_DAYS = 45
CALENDAR = "US-CA"
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-15 days", 0, 15),
    ("16-30 days", 16, 30),
    ("31-45 days", 31, 45),
    ("46+ days", 46, None),
)
RUNS_SHOWN = 24
CARCS_SHOWN = 15
Outcome = ClaimLine.Outcome
OPEN_STATUSES = (Claim.Status.RECEIVED, Claim.Status.PENDED)
PAID_RUN_STATUSES = (ClaimPaymentRun.Status.APPROVED, ClaimPaymentRun.Status.PAID)


def _require_staff(actor: Actor) -> None:
    require(actor, Perm.VIEW_CLAIMS)
    if is_practice_scoped(actor):
        raise PermissionDenied("the claims dashboard is not shown to practice users")


def _percent(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage with one decimal (half up); None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")


# -- inventory and aging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBucket:
    label: str
    received: int
    """Claims not adjudicated yet."""
    pended: int
    charge_cents: int

    @property
    def claims(self) -> int:
        return self.received + self.pended


def _bucket(days: int) -> int:
    for i, (_label, low, high) in enumerate(AGE_BUCKETS):
        if days >= low and (high is None or days <= high):
            return i
    return 0  # received after the day asked about: not in the inventory (filtered out before)


def inventory(actor: Actor, *, as_of: dt.date) -> list[AgeBucket]:
    """Undecided claims (received or pended) on file as of ``as_of``, by age since receipt."""
    _require_staff(actor)
    counts: dict[tuple[int, str], int] = Counter()
    charges: dict[int, int] = Counter()
    rows = (
        Claim.objects.filter(status__in=OPEN_STATUSES, received_on__lte=as_of)
        .values("received_on", "status")
        .order_by()
        .annotate(n=Count("id"), charge=Sum("charge_cents"))
    )
    for r in rows:
        i = _bucket((as_of - r["received_on"]).days)
        counts[(i, r["status"])] += r["n"]
        charges[i] += int(r["charge"] or 0)
    return [
        AgeBucket(label, counts[(i, Claim.Status.RECEIVED)], counts[(i, Claim.Status.PENDED)], charges[i])
        for i, (label, _low, _high) in enumerate(AGE_BUCKETS)
    ]


# -- timeliness --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelyMonth:
    month: str
    received: int
    on_time: int
    late: int
    open_late: int
    """Not decided, past the deadline already."""
    open_in_time: int
    """Not decided, the deadline still ahead: not counted yet."""

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.open_late

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.on_time, self.counted)


def timeliness(actor: Actor, *, first: Month, last: Month, as_of: dt.date) -> list[TimelyMonth]:
    """Per month received, from ``first`` through ``last``: claims decided within 45 working days."""
    _require_staff(actor)
    calendar = get_calendar(CALENDAR)
    months = list(Month.range(first, last))
    tally: dict[str, Counter[str]] = {str(m): Counter() for m in months}
    claims = (
        Claim.objects.filter(received_on__gte=first.first_day, received_on__lte=last.last_day)
        .exclude(status=Claim.Status.REVERSED)
        .exclude(frequency=Claim.Frequency.VOID)
        .annotate(
            decided_at=Max("lines__adjudicated_at"),
            undecided=Count("lines", filter=Q(lines__outcome__in=(Outcome.NEW, Outcome.PENDED))),
        )
        .order_by()
        .values_list("received_on", "decided_at", "undecided")
    )
    # late from the 46th working day after receipt: decided before it is decided within 45 working days
    late_from: dict[dt.date, dt.date] = {}
    for received_on, decided_at, undecided in claims.iterator(chunk_size=5000):
        row = tally[str(Month.of(received_on))]
        row["received"] += 1
        late_on = late_from.get(received_on)
        if late_on is None:
            late_on = late_from[received_on] = calendar.add_business_days(
                received_on, TIMELY_WORKING_DAYS + 1
            )
        if undecided or decided_at is None:
            row["open_late" if as_of >= late_on else "open_in_time"] += 1
        else:
            row["on_time" if timezone.localdate(decided_at) < late_on else "late"] += 1
    return [
        TimelyMonth(str(m), t["received"], t["on_time"], t["late"], t["open_late"], t["open_in_time"])
        for m, t in ((m, tally[str(m)]) for m in months)
    ]


# -- auto-adjudication -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRate:
    run: AdjudicationRun

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.run.paid + self.run.denied, self.run.lines)


def auto_adjudication(actor: Actor, *, runs: int = RUNS_SHOWN) -> list[RunRate]:
    """The latest ``runs`` adjudication runs that decided lines, oldest first."""
    _require_staff(actor)
    latest = list(AdjudicationRun.objects.filter(lines__gt=0).order_by("-created_at", "-id")[:runs])
    return [RunRate(r) for r in reversed(latest)]


# -- denials by CARC ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarcRow:
    carc: str
    lines: int
    charge_cents: int
    percent: Decimal | None
    """Of all lines decided."""


@dataclass(frozen=True)
class Denials:
    decided: int
    denied: int
    rows: list[CarcRow]

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.denied, self.decided)


def denials(actor: Actor, *, first: Month, last: Month) -> Denials:
    """Lines of claims received from ``first`` through ``last`` decided paid or denied, denials by CARC
    (most frequent first)."""
    _require_staff(actor)
    lines = ClaimLine.objects.filter(
        claim__received_on__gte=first.first_day,
        claim__received_on__lte=last.last_day,
        outcome__in=(Outcome.PAID, Outcome.DENIED),
    )
    decided = lines.count()
    by_carc = list(
        lines.filter(outcome=Outcome.DENIED)
        .values("carc")
        .order_by()
        .annotate(n=Count("id"), charge=Sum("charge_cents"))
    )
    rows = sorted(
        (
            CarcRow(r["carc"] or "?", r["n"], int(r["charge"] or 0), _percent(r["n"], decided))
            for r in by_carc
        ),
        key=lambda r: (-r.lines, r.carc),
    )
    return Denials(decided, sum(r.lines for r in rows), rows)


# -- paid PMPM ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PmpmMonth:
    month: str
    paid_cents: int
    member_months: int

    @property
    def pmpm_cents(self) -> int | None:
        """Paid per member-month in cents, rounded half up (half away from zero); None without members."""
        if not self.member_months:
            return None
        sign = -1 if self.paid_cents < 0 else 1
        return sign * ((2 * abs(self.paid_cents) + self.member_months) // (2 * self.member_months))


def paid_pmpm(actor: Actor, *, first: Month, last: Month) -> list[PmpmMonth]:
    """Per month of service from ``first`` through ``last``: paid cents, member-months and PMPM."""
    _require_staff(actor)
    paid_runs = ClaimPaymentRun.objects.filter(status__in=PAID_RUN_STATUSES).values("pk")
    paid: dict[str, int] = defaultdict(int)
    rows = (
        ClaimLine.objects.filter(service_from__gte=first.first_day, service_from__lte=last.last_day)
        .filter(payment_run_id__in=paid_runs)
        .exclude(reversal_run_id__in=paid_runs)
        .annotate(month=TruncMonth("service_from"))
        .values("month")
        .order_by()
        .annotate(cents=Sum("paid_cents"))
    )
    for r in rows:
        paid[str(Month.of(r["month"]))] += int(r["cents"] or 0)
    report = member_months_report(actor, group_by="payer", first=first, last=last)
    members = dict(zip(report.months, report.totals, strict=True))
    return [PmpmMonth(str(m), paid[str(m)], int(members.get(str(m), 0))) for m in Month.range(first, last)]


# -- all of it ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    as_of: dt.date
    first: Month
    last: Month
    inventory: list[AgeBucket]
    timeliness: list[TimelyMonth]
    runs: list[RunRate]
    denials: Denials
    pmpm: list[PmpmMonth]

    @property
    def inventory_total(self) -> int:
        return sum(b.claims for b in self.inventory)

    @property
    def timely_percent(self) -> Decimal | None:
        return _percent(sum(t.on_time for t in self.timeliness), sum(t.counted for t in self.timeliness))


def claims_dashboard(actor: Actor, *, first: Month, last: Month, as_of: dt.date | None = None) -> Dashboard:
    """Every number of the dashboard for claims received (or services) from ``first`` through ``last``."""
    _require_staff(actor)
    as_of = as_of or timezone.localdate()
    return Dashboard(
        as_of=as_of,
        first=first,
        last=last,
        inventory=inventory(actor, as_of=as_of),
        timeliness=timeliness(actor, first=first, last=last, as_of=as_of),
        runs=auto_adjudication(actor),
        denials=denials(actor, first=first, last=last),
        pmpm=paid_pmpm(actor, first=first, last=last),
    )
