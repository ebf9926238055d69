"""The demo's 834 files, planned and written without a database: deterministic, readable by the 834 mapper,
realistic lateness, and records that say what the payer knows."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import Counter

import pytest

from openipa.core.identifiers import is_valid_npi
from openipa.core.months import Month
from openipa.demo.engine import DemoData, generate
from openipa.demo.engine.rosters import ADD, TERM, Event, RosterFile, RosterPlan, Timeline, plan_rosters
from openipa.edi.t834 import Enrollment834, MemberRecord, read_834
from openipa.edi.x12.errors import X12Error

AS_OF = Month(2026, 3)
D = dt.date


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=11, members=6000, as_of=AS_OF)


@pytest.fixture(scope="module")
def plan(data: DemoData) -> RosterPlan:
    return plan_rosters(data)


def _bytes(plan: RosterPlan, roster: RosterFile) -> bytes:
    out = io.BytesIO()
    plan.write(roster, out)
    return out.getvalue()


def _read(plan: RosterPlan, roster: RosterFile) -> tuple[Enrollment834, list[MemberRecord]]:
    items = list(read_834(io.BytesIO(_bytes(plan, roster))))
    head = items[0]
    assert isinstance(head, Enrollment834)
    return head, [r for r in items if isinstance(r, MemberRecord)]


def test_the_same_seed_plans_and_writes_the_same_files() -> None:
    first = plan_rosters(generate(seed=3, members=800, as_of=AS_OF))
    second = plan_rosters(generate(seed=3, members=800, as_of=AS_OF))
    other = plan_rosters(generate(seed=4, members=800, as_of=AS_OF))
    assert first.events == second.events
    assert first.files == second.files
    assert [_bytes(first, f) for f in first.files] == [_bytes(second, f) for f in second.files]
    assert first.events != other.events


def test_a_full_file_then_a_change_file_a_month_per_payer(data: DemoData, plan: RosterPlan) -> None:
    months = list(Month.range(data.first_month, AS_OF))
    good = [f for f in plan.files if not f.rejected]
    assert [(f.month, f.payer_code) for f in good] == [(m, p.code) for m in months for p in data.payers]
    assert [f.full for f in good] == [f.month == data.first_month for f in good]
    assert sum(f.rejected for f in plan.files) == 1
    assert {f.path for f in plan.files} >= {"GOLDMC/2025-04.834", "SUNMA/2026-03.834"}


def test_every_file_reads_back_with_the_834_mapper(data: DemoData, plan: RosterPlan) -> None:
    products = {p.code for p in data.products}
    for roster in plan.files:
        if roster.rejected:
            continue
        head, records = _read(plan, roster)
        assert head.action_code == ("4" if roster.full else "2")
        assert head.file_effective_date == roster.month.first_day
        assert head.payer is not None
        assert head.payer.id in {p.x12_payer_id for p in data.payers}
        assert len(records) == roster.records
        assert len({r.member_id for r in records}) == len(records)
        types = Counter(r.maintenance_type_code for r in records)
        if roster.full:
            assert set(types) == {"030"}
        else:
            assert set(types) <= {"021", "001", "024"}
            assert types["021"] + types["001"] + types["024"] == roster.records
        for r in records:
            assert r.birth_date is not None
            assert r.birth_date <= roster.month.first_day
            assert r.coverage
            assert all(c.insurance_line == "HLT" and c.plan_description in products for c in r.coverage)
            assert all(c.begin is not None for c in r.coverage)
            assert all(is_valid_npi(p.npi) for p in r.pcp)
            if r.maintenance_type_code == "024":
                assert all(c.end is not None and c.maintenance_type_code == "024" for c in r.coverage)


def test_the_full_file_lists_everyone_covered_on_its_first_day(data: DemoData, plan: RosterPlan) -> None:
    first_day = data.first_month.first_day
    for payer in data.payers:
        roster = next(f for f in plan.files if f.full and f.payer_code == payer.code)
        _head, records = _read(plan, roster)
        listed = {r.member_id for r in records}
        covered = {
            data.members[s.member].payer_member_id
            for s in data.eligibility
            if s.valid_from <= first_day and data.members[s.member].payer_code == payer.code
        }
        assert covered <= listed
        pcps = sum(bool(r.pcp) for r in records)
        assert pcps >= 0.9 * len(records)
        # each line's DTP*348 is the real first day of coverage: years back for a member with history
        begins = {(r.member_id, c.begin) for r in records for c in r.coverage}
        truth = {
            (data.members[s.member].payer_member_id, s.valid_from)
            for s in data.eligibility
            if s.valid_from <= first_day and data.members[s.member].payer_code == payer.code
        }
        assert truth <= begins
        assert all(c.begin is not None for r in records for c in r.coverage)
        assert sum(c.begin < first_day for r in records for c in r.coverage if c.begin) > 0.5 * len(records)


def test_most_events_come_on_time_some_late_a_few_outside_the_retro_window(plan: RosterPlan) -> None:
    late = Counter(e.late for e in plan.events)
    total = len(plan.events)
    assert late[0] / total > 0.75
    assert 0.08 < (late[1] + late[2] + late[3]) / total < 0.2
    assert 1 <= sum(n for months, n in late.items() if months is not None and months >= 7) <= 20
    sent = [f for f in plan.files if not f.rejected]
    assert sum(f.outside_window for f in sent) >= 1
    assert sum(f.retro for f in sent) > 10 * sum(f.outside_window for f in sent)
    assert sum(f.adds for f in sent)
    assert sum(f.terms for f in sent)
    assert sum(f.product_changes for f in sent)
    assert sum(f.pcp_changes for f in sent)


def test_a_members_events_are_reported_in_order_and_none_after_the_as_of_month(
    data: DemoData, plan: RosterPlan
) -> None:
    by_member: dict[int, list[Event]] = {}
    for e in plan.events:
        by_member.setdefault(e.member, []).append(e)
    for member, events in by_member.items():
        reported = [e.reported for e in events]
        sent = [m for m in reported if m is not None]
        assert sent == reported[: len(sent)]  # once one is never sent, neither are the later ones
        assert sent == sorted(sent)
        assert all(m <= AS_OF for m in sent)
        for before, after in itertools.pairwise(events):
            if TERM in before.kinds and ADD in after.kinds and after.reported is not None:
                assert before.reported is not None
                assert after.reported > before.reported
        first = events[0]
        if first.reported is not None:
            assert first.reported.first_day >= data.members[member].date_of_birth
    assert plan.dropped()


def test_what_is_known_is_the_truth_up_to_the_first_event_never_sent(
    data: DemoData, plan: RosterPlan
) -> None:
    dropped = {e.member: e.day for e in reversed(plan.dropped())}
    for i in range(len(data.members)):
        truth, known = plan.truth(i), plan.known(i)
        if i not in dropped:
            assert known == truth
        else:
            assert known == truth.clip(dropped[i])
    assert plan.complete_before("GOLDMC") <= AS_OF


def test_every_pcp_change_or_end_is_an_event(data: DemoData, plan: RosterPlan) -> None:
    assert all(e.kinds for e in plan.events)  # a PCP span ends with coverage or where the next one starts
    days = {(e.member, e.day) for e in plan.events}
    for i in range(len(data.members)):
        for _npi, _practice, start, end in plan.truth(i).pcp:
            if start > data.first_month.first_day:
                assert (i, start) in days
            if end is not None:
                assert (i, end + dt.timedelta(days=1)) in days


def test_the_rejected_file_has_a_bad_plan_code_then_a_bad_date(data: DemoData, plan: RosterPlan) -> None:
    bad = plan.rejected
    assert bad is not None
    assert bad.payer_code == "GOLDMC"
    assert not bad.full
    good = next(
        f for f in plan.files if (f.payer_code, f.month, f.rejected) == (bad.payer_code, bad.month, False)
    )
    assert plan.files.index(bad) + 1 == plan.files.index(good)
    records: list[MemberRecord] = []

    def read_all() -> None:
        records.extend(r for r in read_834(io.BytesIO(_bytes(plan, bad))) if isinstance(r, MemberRecord))

    with pytest.raises(X12Error, match="is not a CCYYMMDD date") as caught:
        read_all()
    assert caught.value.segment_id == "DMG"
    products = {p.code for p in data.products}
    plans = [c.plan_description for r in records for c in r.coverage]
    assert [p for p in plans if p not in products] == ["GPCMCAL"]
    _head, corrected = _read(plan, good)
    assert [r.member_id for r in records] == [r.member_id for r in corrected[: len(records)]]


def test_clip_keeps_what_is_known_before_the_cut() -> None:
    line = Timeline(
        (("A", D(2026, 1, 1), D(2026, 2, 28)), ("B", D(2026, 3, 1), D(2026, 6, 30))),
        (
            ("1234567893", "P1", D(2026, 1, 1), D(2026, 3, 31)),
            ("1245319599", "P2", D(2026, 4, 1), D(2026, 6, 30)),
        ),
    )
    assert line.clip(None) == line
    assert line.clip(D(2026, 3, 1)) == Timeline(
        (("A", D(2026, 1, 1), None),), (("1234567893", "P1", D(2026, 1, 1), None),)
    )
    assert line.clip(D(2026, 4, 1)) == Timeline(
        (("A", D(2026, 1, 1), D(2026, 2, 28)), ("B", D(2026, 3, 1), None)),
        (("1234567893", "P1", D(2026, 1, 1), None),),
    )
    assert line.clip(D(2026, 7, 1)).coverage[-1] == ("B", D(2026, 3, 1), None)
