"""The roster planner: timelines overwritten, truncated and reopened; fewest span operations; idempotence."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.membership.engine.roster import (
    Action,
    Instruction,
    Interval,
    MemberState,
    SpanOps,
    SpanRow,
    first_difference,
    merge_abutting,
    overwrite,
    plan_member,
    retro_months,
    truncate,
)

D = dt.date
PERSON = {"first_name": "ANA", "last_name": "RUIZ", "date_of_birth": D(1950, 1, 2), "sex": "F"}


def state(coverage: list[Interval], pcp: list[Interval] | None = None) -> MemberState:
    rows = tuple(SpanRow(i + 1, k, s, e) for i, (k, s, e) in enumerate(coverage))
    prow = tuple(SpanRow(100 + i, k, s, e) for i, (k, s, e) in enumerate(pcp or []))
    return MemberState(PERSON, rows, prow)


def apply(rows: tuple[SpanRow, ...], ops: SpanOps) -> list[Interval]:
    """What the service does with the operations."""
    by_id = {r.id: (r.key, r.start, r.end) for r in rows}
    for row_id in ops.delete:
        del by_id[row_id]
    for row_id, s, e in ops.update:
        by_id[row_id] = (by_id[row_id][0], s, e)
    return sorted([*by_id.values(), *ops.insert], key=lambda i: i[1])


def test_new_member_is_added_from_coverage_begin() -> None:
    plan = plan_member(None, Instruction("add", PERSON, coverage=((7, D(2026, 1, 1), None),)))
    assert plan.kind == "add"
    assert plan.coverage.insert == ((7, D(2026, 1, 1), None),)
    assert plan.effective == D(2026, 1, 1)


def test_same_record_again_changes_nothing() -> None:
    current = state([(7, D(2026, 1, 1), None)])
    plan = plan_member(current, Instruction("audit", PERSON, coverage=((7, D(2026, 1, 1), None),)))
    assert plan.kind is None
    assert not plan.coverage
    assert plan.effective is None


def test_product_change_cuts_the_old_span_the_day_before() -> None:
    current = state([(7, D(2025, 1, 1), None)])
    plan = plan_member(current, Instruction("change", PERSON, coverage=((8, D(2026, 3, 1), None),)))
    assert plan.kind == "change"
    assert plan.coverage.update == ((1, D(2025, 1, 1), D(2026, 2, 28)),)
    assert plan.coverage.insert == ((8, D(2026, 3, 1), None),)
    assert plan.effective == D(2026, 3, 1)


def test_retro_begin_date_moves_the_span_start() -> None:
    current = state([(7, D(2026, 3, 1), None)])
    plan = plan_member(current, Instruction("change", PERSON, coverage=((7, D(2026, 1, 1), None),)))
    assert plan.coverage.update == ((1, D(2026, 1, 1), None),)
    assert plan.effective == D(2026, 1, 1)


def test_termination_ends_coverage_and_pcp() -> None:
    current = state([(7, D(2025, 1, 1), None)], [((3, 9), D(2025, 1, 1), None)])
    plan = plan_member(current, Instruction("term", term_date=D(2026, 4, 30)))
    assert plan.kind == "term"
    assert plan.coverage.update == ((1, D(2025, 1, 1), D(2026, 4, 30)),)
    assert plan.pcp.update == ((100, D(2025, 1, 1), D(2026, 4, 30)),)
    assert plan.effective == D(2026, 5, 1)


def test_termination_before_start_cancels_the_span() -> None:
    current = state([(7, D(2026, 6, 1), None)])
    plan = plan_member(current, Instruction("term", term_date=D(2026, 5, 31)))
    assert plan.coverage.delete == (1,)
    assert plan.kind == "term"


def test_termination_already_applied_is_unchanged() -> None:
    current = state([(7, D(2025, 1, 1), D(2026, 4, 30))])
    assert plan_member(current, Instruction("term", term_date=D(2026, 4, 30))).kind is None


def test_reinstatement_without_coverage_reopens_the_latest_span() -> None:
    current = state([(7, D(2025, 1, 1), D(2026, 4, 30))])
    plan = plan_member(current, Instruction("reinstate", PERSON))
    assert plan.kind == "reinstate"
    assert plan.coverage.update == ((1, D(2025, 1, 1), None),)
    assert plan.effective == D(2026, 5, 1)


def test_reinstatement_abutting_the_old_span_merges_it() -> None:
    current = state([(7, D(2025, 1, 1), D(2026, 4, 30))])
    plan = plan_member(current, Instruction("reinstate", PERSON, coverage=((7, D(2026, 5, 1), None),)))
    assert plan.coverage.update == ((1, D(2025, 1, 1), None),)
    assert not plan.coverage.insert


def test_add_after_a_gap_is_an_add() -> None:
    current = state([(7, D(2025, 1, 1), D(2025, 6, 30))])
    plan = plan_member(current, Instruction("add", PERSON, coverage=((7, D(2026, 1, 1), None),)))
    assert plan.kind == "add"
    assert plan.coverage.insert == ((7, D(2026, 1, 1), None),)


def test_pcp_change_only() -> None:
    current = state([(7, D(2025, 1, 1), None)], [((3, 9), D(2025, 1, 1), None)])
    ins = Instruction(
        "change", PERSON, coverage=((7, D(2025, 1, 1), None),), pcp=(((4, 9), D(2026, 2, 1), None),)
    )
    plan = plan_member(current, ins)
    assert plan.kind == "change"
    assert not plan.coverage
    assert plan.pcp.update == ((100, D(2025, 1, 1), D(2026, 1, 31)),)
    assert plan.pcp.insert == (((4, 9), D(2026, 2, 1), None),)
    assert plan.effective == D(2026, 2, 1)


def test_pcp_runs_no_longer_than_coverage() -> None:
    ins = Instruction(
        "add", PERSON, coverage=((7, D(2026, 1, 1), D(2026, 6, 30)),), pcp=(((4, 9), D(2026, 1, 1), None),)
    )
    plan = plan_member(None, ins)
    assert plan.pcp.insert == (((4, 9), D(2026, 1, 1), D(2026, 6, 30)),)


def test_demographics_only_the_fields_sent_and_different() -> None:
    current = state([(7, D(2025, 1, 1), None)])
    plan = plan_member(current, Instruction("change", {"last_name": "RUIZ-DIAZ", "city": "", "sex": "F"}))
    assert plan.demographics == {"last_name": ("RUIZ", "RUIZ-DIAZ")}
    assert plan.kind == "change"
    assert plan.effective is None


def test_timeline_helpers() -> None:
    a: list[Interval] = [(1, D(2026, 1, 1), D(2026, 1, 31)), (1, D(2026, 2, 1), None)]
    assert merge_abutting(a) == [(1, D(2026, 1, 1), None)]
    assert truncate(a, D(2026, 1, 15)) == [(1, D(2026, 1, 1), D(2026, 1, 15))]
    assert overwrite(a, D(2026, 1, 10), None) == [(1, D(2026, 1, 1), D(2026, 1, 9))]
    assert first_difference(a, [(1, D(2026, 1, 1), None)]) is None
    assert first_difference(a, [(2, D(2026, 1, 1), None)]) == D(2026, 1, 1)
    assert retro_months(D(2026, 1, 20), D(2026, 4, 1)) == 3
    assert retro_months(D(2026, 5, 1), D(2026, 4, 1)) == 0


# -- properties ------------------------------------------------------------------------------------

days = st.integers(min_value=0, max_value=1000).map(lambda n: D(2024, 1, 1) + dt.timedelta(days=n))


@st.composite
def timelines(draw: st.DrawFn) -> list[Interval]:
    """Non-overlapping spans over up to 4 products."""
    cuts = sorted(draw(st.sets(days, max_size=8)))
    out: list[Interval] = []
    nexts: list[dt.date | None] = [*cuts[1:], None]
    for start, nxt in zip(cuts, nexts[: len(cuts)], strict=True):
        if draw(st.booleans()):
            end = None if nxt is None else nxt - dt.timedelta(days=draw(st.integers(1, 3)))
            if end is None or end >= start:
                out.append((draw(st.integers(1, 4)), start, end))
    return out


@st.composite
def instructions(draw: st.DrawFn) -> Instruction:
    action: Action = draw(st.sampled_from(["add", "change", "term", "reinstate", "audit"]))
    if action == "term":
        return Instruction("term", term_date=draw(days))
    lines = []
    for _ in range(draw(st.integers(0, 2))):
        begin = draw(days)
        later = draw(days)
        end = None if draw(st.booleans()) else max(later, begin)
        lines.append((draw(st.integers(1, 4)), begin, end))
    pcp = [((draw(st.integers(1, 3)), 1), draw(days), None) for _ in range(draw(st.integers(0, 1)))]
    return Instruction(action, PERSON, coverage=tuple(lines), pcp=tuple(pcp))


def _no_overlaps(intervals: list[Interval]) -> bool:
    items = sorted(intervals, key=lambda i: i[1])
    return all(a[2] is not None and a[2] < b[1] for a, b in itertools.pairwise(items))


@settings(max_examples=300, deadline=None)
@given(timelines(), timelines(), instructions())
def test_operations_reach_the_planned_timeline_and_are_idempotent(
    cov: list[Interval], pcp_keys: list[Interval], ins: Instruction
) -> None:
    pcp: list[Interval] = [((k, 1), s, e) for k, s, e in pcp_keys]
    current = state(cov, pcp)
    plan = plan_member(current, ins)
    after_cov = apply(current.coverage, plan.coverage)
    after_pcp = apply(current.pcp, plan.pcp)
    assert after_cov == list(plan.new_coverage)
    assert after_pcp == list(plan.new_pcp)
    assert _no_overlaps(after_cov)
    assert _no_overlaps(after_pcp)
    assert (plan.kind is None) == (not plan.coverage and not plan.pcp and not plan.demographics)
    # applying the same record to the result changes nothing more
    again = MemberState(
        {**PERSON},
        tuple(SpanRow(i + 1, k, s, e) for i, (k, s, e) in enumerate(after_cov)),
        tuple(SpanRow(100 + i, k, s, e) for i, (k, s, e) in enumerate(after_pcp)),
    )
    assert plan_member(again, ins).kind is None


@settings(max_examples=200, deadline=None)
@given(instructions())
def test_new_member_fast_path_equals_the_general_plan(ins: Instruction) -> None:
    """plan_member(None, ...) takes a shortcut; it must agree with planning against an empty record."""
    from openipa.membership.engine.roster import _plan_new

    if ins.action == "term":
        return
    empty = MemberState({})
    general = plan_member(empty, ins)
    fast = _plan_new(ins)
    assert fast.coverage == general.coverage
    assert fast.pcp == general.pcp
    assert fast.new_coverage == general.new_coverage
    assert fast.new_pcp == general.new_pcp
    assert fast.demographics == {k: (None, v) for k, (_b, v) in general.demographics.items()}
    assert fast.effective == general.effective
