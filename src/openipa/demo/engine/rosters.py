"""The demo's roster files: each payer's 834s for the twelve months, derived from the generated truth.

Pure: no Django, no clock, no I/O except writing to the stream it is given; deterministic from the seed.

The generated eligibility and PCP spans (:class:`DemoData`) are the truth, what the payer's enrollment system
holds. The payer tells the IPA about it in one 834 file a month (005010X220A1):

- the first month of the window: a full file (BGN08 ``4``, INS03 ``030``): every member the payer knows to be
  covered, with each coverage line (``HD*030**HLT*<product>``, DTP*348 its first day, DTP*349 its last day
  if known) and each PCP (loop 2310 ``NM1*P3`` by NPI, DTP*348 its first day);
- each later month: a change file (BGN08 ``2``, DTP*007 the month's first day) with one record per member
  whose events are reported that month: adds (``021``), terminations (``024``, DTP*349 the last covered
  day), product and PCP changes (``001``).

Events. Per member, everything that changes on one day is one :class:`Event`: an add (coverage starts, for
the first time or after a gap), a product change (a span starts the day after the previous one ended), a
termination (coverage ends and nothing follows the next day; it takes effect the day after the last covered
day) and a PCP change (a PCP span starts without coverage starting, or replaces the previous PCP). Spans
that start on or before the first day of the window are not events: the full file carries them, with their
real first day (a member covered for years has DTP*348 years back, the payer's enrollment history, as in a
real full file; the import keeps what a line states from its begin date on, and a payer's first file is its
initial load, so none of that history counts as retro).

Lateness. Each event is reported in a month: most in their own month (the month of the day they take
effect), about 12% one to three months later (retro), a few seven to nine months later (beyond the demo
contracts' six-month retro window, which the import flags). A member's events are reported in order (never
before an earlier event of the same member), a re-enrollment at least a month after the termination before
it, and a newborn once born (on or after the date of birth). An event that would be reported after the
as-of month is not sent, nor are the member's later events: the IPA's records lag the truth from there on,
as in life. :meth:`RosterPlan.known` is what the IPA should hold after the last file.

Records. A member's record in a change file states what the payer knows after that month's events, from the
first of them on: every known coverage span ending on or after the day before that first event (with its
begin and end) and the known PCP spans within them. The import's planner overwrites a member's timeline from
each line's begin date, so applying the record yields exactly what the payer knows. Two events that cannot
share one record (a termination and the re-enrollment after it: the import ends a PCP only where the
coverage of the record ends) are never reported in the same month.

Fields the import does not read yet are written where the 834 has a place for them: the MBI (``REF*F6``),
the phone (``PER*IP``), a language other than English (``LUI``) and the date of death (``INS11``/``INS12``,
with INS04 ``03`` on the termination).

One file is sent twice: for one payer and month (:attr:`RosterPlan.rejected`) the change file first goes out
with two bad records (a plan code that is not a product, an impossible date of birth), which the import
rejects as a whole, and then corrected.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from openipa.core.months import Month, age_on
from openipa.demo.engine import COMMERCIAL, DemoData, MemberSpec, ProviderSpec
from openipa.edi.x12.writer import X12Writer

ONE_DAY = dt.timedelta(days=1)

RETRO_SHARE = 0.12
"""Share of events reported one to three months late."""
RETRO_LATENESS = ((1, 0.65), (2, 0.25), (3, 0.10))
OUTSIDE_SHARE = 0.004
"""Share of events reported seven to nine months late (outside a six-month retro window)."""
OUTSIDE_LATENESS = (7, 8, 9)

RECEIVER_ID = "OPENIPA"
RECEIVER_NAME = "OpenIPA Demo Medical Group"
INSURANCE_LINE = "HLT"

ADD: Literal["add"] = "add"
PRODUCT: Literal["product"] = "product"
TERM: Literal["term"] = "term"
PCP: Literal["pcp"] = "pcp"
EventKind = Literal["add", "product", "term", "pcp"]
_KIND_ORDER: tuple[EventKind, ...] = (ADD, PRODUCT, TERM, PCP)

LANGUAGE_CODES = {
    "Arabic": "ARA",
    "Armenian": "ARM",
    "Chinese": "CHI",
    "Hindi": "HIN",
    "Khmer": "KHM",
    "Korean": "KOR",
    "Spanish": "SPA",
    "Tagalog": "TGL",
    "Vietnamese": "VIE",
}
"""ISO 639-2 codes for LUI02 (English is not sent)."""

Cov = tuple[str, dt.date, dt.date | None]
"""A coverage span: product code, first day, last day (None: open)."""
Pcp = tuple[str, str, dt.date, dt.date | None]
"""A PCP span: provider NPI, practice code, first day, last day (None: open)."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """A member's coverage and PCP spans, each ordered by first day."""

    coverage: tuple[Cov, ...] = ()
    pcp: tuple[Pcp, ...] = ()

    def clip(self, cut: dt.date | None) -> Timeline:
        """What is known when nothing taking effect on or after ``cut`` is: spans starting then are
        dropped, a span still running the day before is left open (its end is not known yet)."""
        if cut is None:
            return self
        last = cut - ONE_DAY
        return Timeline(
            tuple((k, s, None if e is None or e >= last else e) for k, s, e in self.coverage if s < cut),
            tuple((n, p, s, None if e is None or e >= last else e) for n, p, s, e in self.pcp if s < cut),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """Everything that changes for one member on one day, and the month the payer reports it."""

    member: int
    """Index into DemoData.members."""
    day: dt.date
    """The day it takes effect (for a termination: the day after the last covered day)."""
    kinds: tuple[EventKind, ...]
    reported: Month | None
    """None: it would be reported after the as-of month, so it is never sent."""

    @property
    def month(self) -> Month:
        return Month.of(self.day)

    @property
    def late(self) -> int | None:
        """Months between the event's own month and the month it is reported (None if never sent)."""
        return None if self.reported is None else self.reported.index - self.month.index


@dataclass(frozen=True, slots=True)
class RosterFile:
    """One 834 file of the plan, in import order."""

    payer_code: str
    month: Month
    full: bool
    """The first month's full file (BGN08 4); else a change file (BGN08 2)."""
    rejected: bool = False
    """The first, bad version of the file sent twice (the import rejects it)."""
    records: int = 0
    """INS loops (members) in the file."""
    adds: int = 0
    product_changes: int = 0
    terms: int = 0
    pcp_changes: int = 0
    """Events reported in the file, by kind (a full file counts none)."""
    retro: int = 0
    """Records whose first event takes effect in an earlier month."""
    outside_window: int = 0
    """Of those, records further back than the payer's retro window."""

    @property
    def file_name(self) -> str:
        return f"{self.month}{'-rejected' if self.rejected else ''}.834"

    @property
    def path(self) -> str:
        """Relative path: ``<payer code>/<YYYY-MM>[-rejected].834``."""
        return f"{self.payer_code}/{self.file_name}"


@dataclass(frozen=True, slots=True)
class _Record:
    member: int
    maintenance: str
    """INS03: 030, 021, 001 or 024."""
    reason: str
    """INS04."""
    lines: tuple[tuple[str, Cov], ...]
    """(HD01, coverage span)."""
    pcps: tuple[Pcp, ...]
    effective: dt.date | None
    """DTP*303 on a change; None on a full-file record, an add or a termination."""
    death: dt.date | None = None


@dataclass
class _Counts:
    records: int = 0
    adds: int = 0
    product_changes: int = 0
    terms: int = 0
    pcp_changes: int = 0
    retro: int = 0
    outside_window: int = 0


@dataclass
class RosterPlan:
    """The roster files of a demo IPA: which members each holds, and how to write them."""

    data: DemoData
    events: tuple[Event, ...]
    """Every event of every member, by member then day."""
    files: tuple[RosterFile, ...]
    """In import order: by month, then payer (a rejected file just before its correction)."""
    rejected: RosterFile | None
    """The bad version of the file sent twice (None when no change file has two records)."""
    retro_windows: dict[tuple[str, Month], int]
    """(payer, month) -> the retro window of the payer's contract term in force that month."""
    _truth: list[Timeline] = field(repr=False)
    _events_of: list[tuple[Event, ...]] = field(repr=False)
    _members_in: dict[tuple[str, int], list[int]] = field(repr=False)
    """(payer code, month index) -> members with a record in that month's file, by index."""
    _bad: tuple[int, int] = field(default=(-1, -1), repr=False)
    """Record positions (in the rejected file) with a bad plan code and a bad date of birth."""

    # -- what the files say ---------------------------------------------------------------------------

    def truth(self, member: int) -> Timeline:
        return self._truth[member]

    def known(self, member: int, through: Month | None = None) -> Timeline:
        """What the payer has told the IPA about ``member`` once the files through ``through`` (default:
        the as-of month) are imported."""
        through = through or self.data.as_of
        cut = next(
            (e.day for e in self._events_of[member] if e.reported is None or e.reported > through), None
        )
        return self._truth[member].clip(cut)

    def dropped(self) -> tuple[Event, ...]:
        """Events never sent (they would be reported after the as-of month)."""
        return tuple(e for e in self.events if e.reported is None)

    def complete_before(self, payer_code: str) -> Month:
        """The first month in which some member of the payer has an event never sent: member-months before
        it are the same in the IPA's records as in the truth (the month after the as-of month if none)."""
        months = [e.month for e in self.events if e.reported is None and self._payer(e.member) == payer_code]
        return min(months, default=self.data.as_of + 1)

    def _payer(self, member: int) -> str:
        return self.data.members[member].payer_code

    # -- writing ------------------------------------------------------------------------------------

    def write(self, roster: RosterFile, stream: BinaryIO) -> None:
        """Write ``roster`` as an 834 interchange to ``stream``."""
        writer = _Writer(self, roster, stream)
        writer.header()
        records = self._records(roster)
        for position, record in enumerate(records):
            bad = ""
            if roster.rejected:
                bad = "plan" if position == self._bad[0] else ("birth" if position == self._bad[1] else "")
            writer.member(record, bad)
        writer.trailer()

    def _records(self, roster: RosterFile) -> list[_Record]:
        code, month = roster.payer_code, roster.month
        if roster.full:
            out: list[_Record] = []
            for i in self._members_in.get((code, month.index), ()):
                known = self.known(i, month)
                if known.coverage:
                    out.append(_Record(i, "030", "XN", tuple(("030", c) for c in known.coverage),
                                       known.pcp, None))  # fmt: skip
            return out
        return [self._change(i, month) for i in self._members_in.get((code, month.index), ())]

    def _change(self, member: int, month: Month) -> _Record:
        events = self._events_of[member]
        mine = [k for k, e in enumerate(events) if e.reported == month]
        first, last = events[mine[0]], mine[-1]
        since = first.day
        cut = events[last + 1].day if last + 1 < len(events) else None
        before = self._truth[member].clip(since)
        after = self._truth[member].clip(cut)
        edge = since - ONE_DAY
        covs = [c for c in after.coverage if c[2] is None or c[2] >= edge]
        pcps = tuple(p for p in after.pcp if p[3] is None or p[3] >= edge)
        kinds = {k for e in events[mine[0] : last + 1] for k in e.kinds}
        spec = self.data.members[member]
        if kinds <= {TERM}:
            end = covs[-1][2]
            died = spec.date_of_death
            death = died if died is not None and end is not None and Month.of(died) == Month.of(end) else None
            return _Record(member, "024", "03" if death else "07", tuple(("024", c) for c in covs), (), None,
                           death)  # fmt: skip
        if not before.coverage:
            maintenance, reason, effective = "021", "28", None
        elif ADD in kinds:
            maintenance, reason, effective = "021", "41", None
        else:
            maintenance, effective = "001", since
            reason = "22" if PRODUCT in kinds else ("15" if PCP in kinds else "AI")
        lines: list[tuple[str, Cov]] = []
        for n, cov in enumerate(covs):
            switched = n + 1 < len(covs) and cov[2] is not None and covs[n + 1][1] == cov[2] + ONE_DAY
            # a product change: the old product's line ends (024) where the new one (021) begins
            if switched and maintenance == "001" and covs[n + 1][1] == since:
                lines.append(("024", cov))
            elif maintenance == "001" and cov[1] == since and n > 0:
                lines.append(("021", cov))
            else:
                lines.append((maintenance, cov))
        return _Record(member, maintenance, reason, tuple(lines), pcps, effective)


# -- planning -------------------------------------------------------------------------------------------


def _timelines(data: DemoData) -> list[Timeline]:
    cov: list[list[Cov]] = [[] for _ in data.members]
    for s in data.eligibility:
        cov[s.member].append((s.product_code, s.valid_from, s.valid_to))
    pcp: list[list[Pcp]] = [[] for _ in data.members]
    for a in data.pcp_assignments:
        pcp[a.member].append((a.provider_npi, a.practice_code, a.valid_from, a.valid_to))
    return [
        Timeline(tuple(sorted(c, key=lambda x: x[1])), tuple(sorted(p, key=lambda x: x[2])))
        for c, p in zip(cov, pcp, strict=True)
    ]


def _event_days(line: Timeline, window_start: dt.date) -> list[tuple[dt.date, tuple[EventKind, ...]]]:
    """The member's events: (day, kinds), by day."""
    days: dict[dt.date, list[EventKind]] = {}
    cov = line.coverage
    starts = {s for _k, s, _e in cov}
    ends = {e + ONE_DAY for _k, _s, e in cov if e is not None}
    for n, (_k, s, e) in enumerate(cov):
        if s > window_start:
            days.setdefault(s, []).append(PRODUCT if s in ends else ADD)
        if e is not None and not (n + 1 < len(cov) and cov[n + 1][1] == e + ONE_DAY):
            days.setdefault(e + ONE_DAY, []).append(TERM)
    pcp_ends = {e + ONE_DAY for _n, _p, _s, e in line.pcp if e is not None}
    for _npi, _practice, s, e in line.pcp:
        if s > window_start and (s in pcp_ends or s not in starts):
            days.setdefault(s, []).append(PCP)
        if e is not None:
            days.setdefault(e + ONE_DAY, [])
    return [(day, tuple(k for k in _KIND_ORDER if k in days[day])) for day in sorted(days)]


def _lateness(rng: random.Random) -> int:
    r = rng.random()
    if r < OUTSIDE_SHARE:
        return rng.choice(OUTSIDE_LATENESS)
    if r < OUTSIDE_SHARE + RETRO_SHARE:
        return rng.choices([m for m, _ in RETRO_LATENESS], [w for _, w in RETRO_LATENESS])[0]
    return 0


def plan_rosters(data: DemoData) -> RosterPlan:
    """Decide, from the truth and the seed, which month each event is reported in and which files go out."""
    rng = random.Random(f"openipa-demo-rosters-{data.seed}")
    first, last = data.first_month, data.as_of
    window_start = first.first_day
    truth = _timelines(data)
    events: list[Event] = []
    events_of: list[tuple[Event, ...]] = []
    members_in: dict[tuple[str, int], list[int]] = {}
    for index, (spec, line) in enumerate(zip(data.members, truth, strict=True)):
        mine: list[Event] = []
        previous = first.index
        previous_term = False
        gone = False
        baseline = any(s <= window_start for _k, s, _e in line.coverage)
        for day, kinds in _event_days(line, window_start):
            month = Month.of(day).index
            reported = max(month + _lateness(rng), previous)
            if ADD in kinds and previous_term:
                reported = max(reported, previous + 1)  # a re-enrollment after the termination's month
            if not mine and not baseline:
                born = spec.date_of_birth  # a newborn is reported once born
                reported = max(reported, Month.of(born).index + (0 if born.day == 1 else 1))
            if gone or reported > last.index:
                gone = True
                mine.append(Event(index, day, kinds, None))
                continue
            mine.append(Event(index, day, kinds, first + (reported - first.index)))
            previous, previous_term = reported, TERM in kinds
        events.extend(mine)
        events_of.append(tuple(mine))
        months = sorted({e.reported.index for e in mine if e.reported is not None})
        if baseline and first.index not in months:
            months.insert(0, first.index)
        for m in months:
            members_in.setdefault((spec.payer_code, m), []).append(index)

    windows = _retro_windows(data)
    plan = RosterPlan(data, tuple(events), (), None, windows, truth, events_of, members_in)
    files: list[RosterFile] = []
    for file_month in Month.range(first, last):
        for payer in data.payers:
            files.append(_summary(plan, payer.code, file_month))
    plan.files = tuple(files)
    _choose_rejected(plan, rng)
    return plan


def _retro_windows(data: DemoData) -> dict[tuple[str, Month], int]:
    contract_payer = {c.number: c.payer_code for c in data.contracts}
    out: dict[tuple[str, Month], int] = {}
    for month in Month.range(data.first_month, data.as_of):
        day = month.first_day
        for t in data.terms:
            if t.valid_from <= day and (t.valid_to is None or day <= t.valid_to):
                key = (contract_payer[t.contract_number], month)
                out[key] = max(out.get(key, 0), t.retro_window_months)
    return out


def _summary(plan: RosterPlan, payer_code: str, month: Month) -> RosterFile:
    full = month == plan.data.first_month
    counts = _Counts()
    window = plan.retro_windows.get((payer_code, month))
    for i in plan._members_in.get((payer_code, month.index), ()):
        reported = [e for e in plan._events_of[i] if e.reported == month]
        if full and not plan.known(i, month).coverage:
            continue
        counts.records += 1
        if full:
            continue
        for e in reported:
            counts.adds += ADD in e.kinds
            counts.product_changes += PRODUCT in e.kinds
            counts.terms += TERM in e.kinds
            counts.pcp_changes += PCP in e.kinds
        back = month.index - Month.of(reported[0].day).index
        if back > 0:
            counts.retro += 1
            if window is not None and back > window:
                counts.outside_window += 1
    return RosterFile(payer_code, month, full, False, counts.records, counts.adds, counts.product_changes,
                      counts.terms, counts.pcp_changes, counts.retro, counts.outside_window)  # fmt: skip


def _choose_rejected(plan: RosterPlan, rng: random.Random) -> None:
    """Pick the file sent twice: the Medi-Cal payer's (else the first payer's) change file of a month in the
    middle of the window, with a bad plan code in one record and an impossible date of birth in a later one."""
    data = plan.data
    if not data.payers:
        return
    codes = [p.code for p in data.payers]
    payer = "GOLDMC" if "GOLDMC" in codes else codes[0]
    months = list(Month.range(data.first_month + 2, data.as_of - 1)) or list(
        Month.range(data.first_month + 1, data.as_of)
    )
    rng.shuffle(months)
    for month in months:
        records = plan._records(RosterFile(payer, month, False))
        plan_bad = [n for n, r in enumerate(records[:-1]) if any(hd != "024" for hd, _c in r.lines)]
        if not plan_bad:
            continue
        first_bad = plan_bad[rng.randrange(min(len(plan_bad), max(1, len(records) // 2)))]
        second_bad = rng.randrange(first_bad + 1, len(records))
        position = next(n for n, f in enumerate(plan.files) if f.payer_code == payer and f.month == month)
        good = plan.files[position]
        bad = RosterFile(payer, month, False, True, good.records, good.adds, good.product_changes, good.terms,
                         good.pcp_changes, good.retro, good.outside_window)  # fmt: skip
        plan.files = (*plan.files[:position], bad, *plan.files[position:])
        plan.rejected = bad
        plan._bad = (first_bad, second_bad)
        return


# -- the 834 writer --------------------------------------------------------------------------------------


def _d8(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class _Writer:
    def __init__(self, plan: RosterPlan, roster: RosterFile, stream: BinaryIO) -> None:
        self.plan = plan
        self.roster = roster
        self.w = X12Writer(stream, newline=True)
        data = plan.data
        self.payer = next(p for p in data.payers if p.code == roster.payer_code)
        self.family = self.payer.line_of_business == COMMERCIAL
        self.providers: dict[str, ProviderSpec] = {p.npi: p for p in data.providers}
        payer_number = [p.code for p in data.payers].index(roster.payer_code) + 1
        sequence = roster.month.index - data.first_month.index + 1
        corrected = plan.rejected is not None and (roster.payer_code, roster.month) == (
            plan.rejected.payer_code,
            plan.rejected.month,
        )
        self.resubmission = corrected and not roster.rejected
        self.control = payer_number * 10_000 + sequence * 10 + (2 if self.resubmission else 1)
        effective = roster.month.first_day
        # sent a few days before the month starts; a correction two days after the rejected file
        self.created = effective - dt.timedelta(days=4 if roster.full else 3)
        if self.resubmission:
            self.created += dt.timedelta(days=2)

    def header(self) -> None:
        w, payer, roster = self.w, self.payer, self.roster
        when = dt.datetime.combine(self.created, dt.time(2, 15))
        w.start_interchange(
            "ZZ", payer.x12_payer_id, "ZZ", RECEIVER_ID, control_number=self.control, when=when
        )
        w.start_group("BE", payer.x12_payer_id, RECEIVER_ID, control_number=self.control, when=when,
                      version="005010X220A1")  # fmt: skip
        w.start_transaction("834", "0001", "005010X220A1")
        kind = "F" if roster.full else "C"
        reference = f"{payer.code}{roster.month.year:04d}{roster.month.month:02d}{kind}{'R' if self.resubmission else ''}"
        w.segment("BGN", "15" if self.resubmission else "00", reference, _d8(self.created), "0215", "", "", "",
                  "4" if roster.full else "2")  # fmt: skip
        w.segment("REF", "38", f"{payer.code}-IPA-DELEGATED")
        w.segment("DTP", "007", "D8", _d8(roster.month.first_day))
        w.segment("N1", "P5", RECEIVER_NAME, "94", RECEIVER_ID)
        w.segment("N1", "IN", payer.name, "XV", payer.x12_payer_id)

    def trailer(self) -> None:
        self.w.end_transaction()
        self.w.end_group()
        self.w.end_interchange()

    def member(self, record: _Record, bad: str) -> None:
        w = self.w
        spec: MemberSpec = self.plan.data.members[record.member]
        subscriber, relationship, subscriber_id = _relationship(
            spec, self.family, self.roster.month.first_day
        )
        ins = ["Y" if subscriber else "N", relationship, record.maintenance, record.reason, "A", "", ""]
        ins.append("FT" if subscriber and self.family else "")
        if record.death is not None:
            ins += ["", "", "D8", _d8(record.death)]
        w.segment("INS", *ins)
        w.segment("REF", "0F", subscriber_id)
        if spec.mbi:
            w.segment("REF", "F6", spec.mbi)
        if record.effective is not None:
            w.segment("DTP", "303", "D8", _d8(record.effective))
        w.segment("NM1", "IL", "1", spec.last_name, spec.first_name, "", "", "", "ZZ", spec.payer_member_id)
        if spec.phone:
            w.segment("PER", "IP", "", "TE", _digits(spec.phone))
        w.segment("N3", spec.address_line1)
        w.segment("N4", spec.city, spec.state, spec.zip_code)
        birth = _d8(spec.date_of_birth)
        if bad == "birth":
            birth = f"{spec.date_of_birth.year:04d}0230"  # February 30th: a typo the import must refuse
        w.segment("DMG", "D8", birth, spec.sex)
        language = LANGUAGE_CODES.get(spec.language)
        if language:
            w.segment("LUI", "LD", language, "", "7")
        bad_plan = bad == "plan"
        for n, (hd, (product, begin, end)) in enumerate(record.lines):
            plan_code = product
            if bad_plan and hd != "024":
                plan_code, bad_plan = product.replace("-", ""), False  # "GPCMCAL": not a product
            w.segment("HD", hd, "", INSURANCE_LINE, plan_code, "IND")
            w.segment("DTP", "348", "D8", _d8(begin))
            if end is not None:
                w.segment("DTP", "349", "D8", _d8(end))
            if hd == "024" and record.maintenance != "024":
                continue  # the old product of a product change: the PCP goes with the new one
            for pcp in _pcps_of(record, n):
                self.pcp(pcp)

    def pcp(self, pcp: Pcp) -> None:
        npi, _practice, begin, _end = pcp
        provider = self.providers[npi]
        self.w.segment("LX", "1")
        if provider.first_name:
            self.w.segment("NM1", "P3", "1", provider.last_name, provider.first_name, "", "", "", "XX", npi)
        else:
            self.w.segment("NM1", "P3", "2", provider.last_name, "", "", "", "", "XX", npi)
        self.w.segment("DTP", "348", "D8", _d8(begin))


def _pcps_of(record: _Record, line: int) -> Sequence[Pcp]:
    """The record's PCP spans written under coverage line ``line``: each under the last line it overlaps
    (not counting the old product of a product change)."""
    if record.maintenance == "024":
        return ()
    lines = record.lines
    out: list[Pcp] = []
    for pcp in record.pcps:
        _npi, _practice, start, end = pcp
        home = -1
        for n, (hd, (_p, begin, stop)) in enumerate(lines):
            if hd == "024":
                continue
            if begin <= (end or dt.date.max) and start <= (stop or dt.date.max):
                home = n
        if home == -1:
            home = next((n for n, (hd, _c) in enumerate(lines) if hd != "024"), 0)
        if home == line:
            out.append(pcp)
    return out


def _relationship(spec: MemberSpec, family: bool, on: dt.date) -> tuple[bool, str, str]:
    """(subscriber?, INS02, REF*0F). A commercial family shares one subscriber number (the member id without
    its two-digit suffix, suffix 00 being the subscriber): the second member is the spouse if an adult,
    the others children. Other members are their own subscriber."""
    member_id = spec.payer_member_id
    if family and len(member_id) > 2 and member_id[-2:].isdigit():
        position = int(member_id[-2:])
        subscriber_id = member_id[:-2] + "00"
        if position == 0:
            return True, "18", subscriber_id
        spouse = position == 1 and age_on(spec.date_of_birth, on) >= 26
        return False, "01" if spouse else "19", subscriber_id
    return True, "18", member_id
