"""Stop-loss engine: worked examples (alerts, reversals, rounding, the cap, policy choice), errors and
properties (order independence, bounds of the recoverable, one run versus two).

The main policy (id 1) covers every payer, product and category in 2026: attachment $10,000.00
(1,000,000 cents), the reinsurer pays 90% above it, at most $100,000.00 per member.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.claims.engine.stoploss import (
    ACCUMULATOR_SCHEMA,
    EVENT_SCHEMA,
    MEMBER_RECOVERABLE_SCHEMA,
    POLICY_TOTAL_SCHEMA,
    EngineInputError,
    accumulate,
    assign_policies,
    recoverables,
)

d = dt.date
Y26 = d(2026, 3, 1)


def policy(
    policy_id: int = 1,
    *,
    payer_id: int | None = None,
    product_id: int | None = None,
    year: int = 2026,
    attachment: int = 1_000_000,
    coinsurance: int = 90_000,
    maximum: int | None = 10_000_000,
    categories: str = "",
) -> dict[str, object]:
    return {
        "policy_id": policy_id,
        "payer_id": payer_id,
        "product_id": product_id,
        "valid_from": d(year, 1, 1),
        "valid_to": d(year, 12, 31),
        "attachment_cents": attachment,
        "coinsurance_milli": coinsurance,
        "max_reimbursement_cents": maximum,
        "categories": categories,
    }


def policies(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows) or [policy()],
        schema_overrides={"payer_id": pl.Int64, "product_id": pl.Int64, "max_reimbursement_cents": pl.Int64},
    )


def lines(
    rows: list[tuple[int, int, int]],
    *,
    when: dt.date = Y26,
    product_id: int = 7,
    payer_id: int = 3,
    category: str = "professional",
) -> pl.DataFrame:
    """(line_id, member_id, paid_cents) rows sharing the other fields."""
    return pl.DataFrame(
        {
            "line_id": [r[0] for r in rows],
            "member_id": [r[1] for r in rows],
            "payer_id": [payer_id] * len(rows),
            "product_id": [product_id] * len(rows),
            "category": [category] * len(rows),
            "service_from": [when] * len(rows),
            "paid_cents": [r[2] for r in rows],
        },
        schema_overrides={"line_id": pl.Int64, "member_id": pl.Int64, "paid_cents": pl.Int64},
    )


EMPTY = pl.DataFrame(schema=ACCUMULATOR_SCHEMA)


def events_of(events: pl.DataFrame) -> list[tuple[int, int, int, int, int]]:
    return [tuple(r) for r in events.iter_rows()]


def test_it_alerts_each_threshold_once_and_computes_the_recoverable() -> None:
    accs, events = accumulate(
        EMPTY, lines([(1, 10, 400_000), (2, 10, 200_000), (3, 10, 500_000)]), policies()
    )
    # 400,000 is 40%; +200,000 = 600,000 is 60% (crosses 50%); +500,000 = 1,100,000 crosses 75% and 100%.
    assert events_of(events) == [
        (1, 10, 50, 600_000, 2),
        (1, 10, 75, 1_100_000, 3),
        (1, 10, 100, 1_100_000, 3),
    ]
    # excess 100,000 x 90% = 90,000
    assert accs.rows() == [(1, 10, 1_100_000, 90_000, 100)]
    assert accs.schema == pl.Schema(ACCUMULATOR_SCHEMA)
    assert events.schema == pl.Schema(EVENT_SCHEMA)


def test_reaching_a_threshold_exactly_alerts() -> None:
    _, events = accumulate(EMPTY, lines([(1, 10, 500_000), (2, 10, 250_000), (3, 10, 249_999)]), policies())
    assert events_of(events) == [(1, 10, 50, 500_000, 1), (1, 10, 75, 750_000, 2)]


def test_lines_apply_in_line_id_order_whatever_the_row_order() -> None:
    shuffled = lines([(3, 10, 500_000), (1, 10, 400_000), (2, 10, 200_000)])
    accs, events = accumulate(EMPTY, shuffled, policies())
    assert events_of(events)[0] == (1, 10, 50, 600_000, 2)
    assert accs["paid_cents"].to_list() == [1_100_000]


def test_a_reversal_lowers_the_recoverable_and_recrossing_does_not_alert_again() -> None:
    first, _ = accumulate(EMPTY, lines([(1, 10, 1_100_000)]), policies())
    after_reversal, events = accumulate(first, lines([(2, 10, -300_000)]), policies())
    assert events.height == 0
    assert after_reversal.rows() == [(1, 10, 800_000, 0, 100)]
    again, events = accumulate(after_reversal, lines([(3, 10, 400_000)]), policies())
    assert events.height == 0
    # excess 200,000 x 90% = 180,000
    assert again.rows() == [(1, 10, 1_200_000, 180_000, 100)]


def test_within_one_run_a_dip_below_and_back_does_not_alert_twice() -> None:
    _, events = accumulate(EMPTY, lines([(1, 10, 600_000), (2, 10, -500_000), (3, 10, 500_000)]), policies())
    assert events_of(events) == [(1, 10, 50, 600_000, 1)]


def test_the_recoverable_rounds_half_up_once() -> None:
    # excess 5 cents x 90% = 4.5 cents -> 5; excess 3 cents x 90% = 2.7 -> 3; excess 1 cent -> 0.9 -> 1
    accs, _ = accumulate(
        EMPTY, lines([(1, 10, 1_000_005), (2, 11, 1_000_003), (3, 12, 1_000_001)]), policies()
    )
    assert accs["recoverable_cents"].to_list() == [5, 3, 1]
    # 85%: excess 10 cents -> 8.5 -> 9; excess 1 cent -> 0.85 -> 1; the cent below half goes down: 0.45 -> 0
    p = policies(policy(coinsurance=85_000), policy(2, year=2027, coinsurance=45_000))
    accs, _ = accumulate(
        EMPTY,
        pl.concat(
            [lines([(1, 10, 1_000_010), (2, 11, 1_000_001)]), lines([(3, 10, 1_000_001)], when=d(2027, 1, 2))]
        ),
        p,
    )
    assert accs.rows() == [(1, 10, 1_000_010, 9, 100), (1, 11, 1_000_001, 1, 100), (2, 10, 1_000_001, 0, 100)]


def test_the_maximum_reimbursement_caps_the_recoverable() -> None:
    accs, _ = accumulate(EMPTY, lines([(1, 10, 30_000_000)]), policies())
    # 90% of 29,000,000 is 26,100,000, capped at 10,000,000
    assert accs["recoverable_cents"].to_list() == [10_000_000]
    uncapped, _ = accumulate(EMPTY, lines([(1, 10, 30_000_000)]), policies(policy(maximum=None)))
    assert uncapped["recoverable_cents"].to_list() == [26_100_000]


def test_policy_choice_by_scope_category_and_policy_year() -> None:
    p = policies(
        policy(1),
        policy(
            2,
            product_id=7,
            attachment=500_000,
            coinsurance=80_000,
            maximum=None,
            categories="professional, lab",
        ),
        policy(3, year=2025),
    )
    frame = pl.concat(
        [
            lines([(1, 10, 100)], product_id=7, category="professional"),  # policy 2, more specific
            lines([(2, 10, 100)], product_id=7, category="lab"),  # policy 2 (spaces after commas ignored)
            lines([(3, 10, 100)], product_id=7, category="facility"),  # 2 does not cover it: policy 1
            lines([(4, 10, 100)], product_id=8, category="professional"),  # another product: policy 1
            lines([(5, 10, 100)], when=d(2025, 12, 31)),  # policy year 2025
            lines([(6, 10, 100)], when=d(2024, 6, 1)),  # no policy that year: not eligible
        ]
    )
    assigned = assign_policies(frame, p).sort("line_id")
    assert assigned.select("line_id", "policy_id").rows() == [(1, 2), (2, 2), (3, 1), (4, 1), (5, 3)]


def test_a_category_filter_excludes_uncovered_lines_and_a_line_without_category() -> None:
    p = policies(policy(categories="professional"))
    frame = pl.concat([lines([(1, 10, 700_000)]), lines([(2, 10, 900_000)], category="pharmacy")])
    frame = pl.concat([frame, lines([(3, 10, 100)]).with_columns(pl.lit(None, pl.String).alias("category"))])
    accs, events = accumulate(EMPTY, frame, p)
    assert accs.rows() == [(1, 10, 700_000, 0, 50)]
    assert events_of(events) == [(1, 10, 50, 700_000, 1)]


def test_blank_entries_in_the_category_list_do_not_widen_it() -> None:
    p = policies(policy(1, categories="lab, ,"), policy(2, year=2027, categories=" , "))
    frame = pl.concat(
        [
            lines([(1, 10, 100)], category="lab"),
            lines([(2, 10, 200)], category="professional"),  # not covered: "lab, ," names only lab
            lines([(3, 10, 300)], category="professional", when=d(2027, 2, 1)),  # " , " names none: all
        ]
    )
    assert assign_policies(frame, p).sort("line_id").select("line_id", "policy_id").rows() == [(1, 1), (3, 2)]


def test_a_payer_scoped_policy_covers_only_its_payer() -> None:
    p = policies(policy(1, payer_id=3), policy(2, payer_id=4))
    frame = pl.concat(
        [
            lines([(1, 10, 100)], payer_id=3),
            lines([(2, 10, 200)], payer_id=4),
            lines([(3, 10, 300)], payer_id=5),
        ]
    )
    accs, _ = accumulate(EMPTY, frame, p)
    assert accs.select("policy_id", "member_id", "paid_cents").rows() == [(1, 10, 100), (2, 10, 200)]


def test_two_equally_specific_policies_for_a_line_are_an_error_naming_it() -> None:
    p = policies(policy(1, product_id=7), policy(2, product_id=7, attachment=2_000_000))
    with pytest.raises(
        EngineInputError, match="same scope covers the line: line_id 1, policy_id 1, and_policy_id 2"
    ):
        accumulate(EMPTY, lines([(1, 10, 100)]), p)


def test_previous_accumulators_without_new_lines_are_carried_over() -> None:
    first, _ = accumulate(EMPTY, lines([(1, 10, 800_000), (2, 11, 100)]), policies())
    again, events = accumulate(first, lines([(3, 11, 100)]), policies())
    assert events.height == 0
    assert again.rows() == [(1, 10, 800_000, 0, 75), (1, 11, 200, 0, 0)]


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (policies(policy(attachment=0)), "policies: attachment_cents must be positive: policy_id 1"),
        (policies(policy(coinsurance=100_001)), "policies: coinsurance_milli must be between 0 and 100000"),
        (policies(policy(maximum=-1)), "policies: max_reimbursement_cents is negative: policy_id 1"),
        (policies(policy(), policy()), "policies: more than one row for the same policy_id"),
        (policies(policy()).drop("categories"), "policies: missing column\\(s\\) categories"),
        (
            policies(policy()).with_columns(pl.lit("x").alias("attachment_cents")),
            "policies: column attachment_cents",
        ),
    ],
)
def test_bad_policies_are_refused_with_the_field_and_row(frame: pl.DataFrame, match: str) -> None:
    with pytest.raises(EngineInputError, match=match):
        accumulate(EMPTY, lines([(1, 10, 100)]), frame)


def test_bad_lines_and_accumulators_are_refused() -> None:
    with pytest.raises(
        EngineInputError, match="paid lines: more than one row for the same line_id: line_id 1"
    ):
        accumulate(EMPTY, lines([(1, 10, 100), (1, 11, 100)]), policies())
    with pytest.raises(EngineInputError, match="paid lines: member_id is empty: line_id 2"):
        accumulate(
            EMPTY, lines([(2, 10, 100)]).with_columns(pl.lit(None, pl.Int64).alias("member_id")), policies()
        )
    with pytest.raises(EngineInputError, match="paid lines: paid_cents is beyond"):
        accumulate(EMPTY, lines([(2, 10, 10**12)]), policies())
    with pytest.raises(EngineInputError, match="accumulator would exceed"):
        accumulate(EMPTY, lines([(1, 10, 10**11), (2, 10, 10**11)]), policies())
    stray = pl.DataFrame([(9, 10, 0, 0, 0)], schema=ACCUMULATOR_SCHEMA, orient="row")
    with pytest.raises(
        EngineInputError, match="previous accumulators: no such policy: policy_id 9, member_id 10"
    ):
        accumulate(stray, lines([(1, 10, 100)]), policies())
    odd = pl.DataFrame([(1, 10, 0, 0, 60)], schema=ACCUMULATOR_SCHEMA, orient="row")
    with pytest.raises(
        EngineInputError, match="alerted_pct must be 0, 50, 75 or 100: policy_id 1, member_id 10"
    ):
        accumulate(odd, lines([(1, 10, 100)]), policies())


def test_recoverables_lists_members_over_the_attachment_with_totals() -> None:
    p = policies(policy(1), policy(2, product_id=9, attachment=500_000, coinsurance=80_000, maximum=None))
    frame = pl.concat(
        [
            lines([(1, 10, 1_500_000), (2, 11, 900_000), (3, 12, 40_000_000)]),
            lines([(4, 10, 600_001)], product_id=9),
        ]
    )
    accs, _ = accumulate(EMPTY, frame, p)
    result = recoverables(accs, p)
    assert result.members.schema == pl.Schema(MEMBER_RECOVERABLE_SCHEMA)
    assert result.members.rows() == [
        (1, 10, 1_500_000, 1_000_000, 500_000, 450_000, False),
        (1, 12, 40_000_000, 1_000_000, 39_000_000, 10_000_000, True),
        (2, 10, 600_001, 500_000, 100_001, 80_001, False),  # 80,000.8 -> 80,001
    ]
    assert result.totals.schema == pl.Schema(POLICY_TOTAL_SCHEMA)
    assert result.totals.rows() == [
        (1, 2, 41_500_000, 39_500_000, 10_450_000),
        (2, 1, 600_001, 100_001, 80_001),
    ]
    assert recoverables(EMPTY, p).totals.height == 0


# -- properties ---------------------------------------------------------------------------------------------

PROPERTY_POLICIES = policies(
    policy(1, attachment=1_000, coinsurance=87_500, maximum=700),
    policy(2, product_id=8, attachment=333, coinsurance=100_000, maximum=None, categories="facility"),
)
_line = st.tuples(
    st.integers(1, 4),  # member
    st.one_of(
        st.integers(-400, 1_500), st.integers(-8, 30).map(lambda n: n * 50)
    ),  # paid; 50s hit thresholds
    st.sampled_from([7, 8]),  # product
    st.sampled_from(["professional", "facility"]),
)


def _frame(rows: list[tuple[int, int, int, str]], ids: list[int]) -> pl.DataFrame:
    parts = [
        lines([(line_id, m, paid)], product_id=p, category=c)
        for line_id, (m, paid, p, c) in zip(ids, rows, strict=True)
    ]
    return pl.concat(parts) if parts else lines([])


def _alert_set(events: pl.DataFrame) -> set[tuple[int, int, int]]:
    return {(r[0], r[1], r[2]) for r in events.iter_rows()}


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_line, max_size=25), seed=st.randoms(use_true_random=False))
def test_row_order_never_changes_the_result(rows: list[tuple[int, int, int, str]], seed: object) -> None:
    frame = _frame(rows, list(range(1, len(rows) + 1)))
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed.randint(0, 10**6))  # type: ignore[attr-defined]
    a = accumulate(EMPTY, frame, PROPERTY_POLICIES)
    b = accumulate(EMPTY, shuffled, PROPERTY_POLICIES)
    assert a[0].equals(b[0])
    assert a[1].equals(b[1])


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_line, max_size=25), perm=st.permutations(list(range(25))))
def test_line_order_changes_at_most_which_line_crosses(
    rows: list[tuple[int, int, int, str]], perm: list[int]
) -> None:
    ids = [i + 1 for i in perm[: len(rows)]]
    in_order = accumulate(EMPTY, _frame(rows, list(range(1, len(rows) + 1))), PROPERTY_POLICIES)
    reordered = accumulate(EMPTY, _frame(rows, ids), PROPERTY_POLICIES)
    money = ["policy_id", "member_id", "paid_cents", "recoverable_cents"]
    assert in_order[0].select(money).equals(reordered[0].select(money))
    if all(paid >= 0 for _, paid, _, _ in rows):  # without reversals the accumulator only grows
        assert in_order[0].equals(reordered[0])
        assert _alert_set(in_order[1]) == _alert_set(reordered[1])


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(_line, max_size=25))
def test_the_recoverable_is_bounded_by_coinsurance_times_excess_and_the_cap(
    rows: list[tuple[int, int, int, str]],
) -> None:
    accs, _ = accumulate(EMPTY, _frame(rows, list(range(1, len(rows) + 1))), PROPERTY_POLICIES)
    terms = {r["policy_id"]: r for r in PROPERTY_POLICIES.iter_rows(named=True)}
    for policy_id, _member, paid, recoverable, _pct in accs.iter_rows():
        term = terms[policy_id]
        excess = max(0, paid - term["attachment_cents"])
        exact = excess * term["coinsurance_milli"]  # the recoverable in hundred-thousandths of a cent
        assert recoverable >= 0
        # never more than coinsurance x excess plus the half cent the one rounding may add
        assert recoverable * 100_000 - exact <= 50_000
        if recoverable != term["max_reimbursement_cents"]:  # not capped: the nearest cent, half up
            assert recoverable * 100_000 - exact > -50_000
        if term["max_reimbursement_cents"] is not None:
            assert recoverable <= term["max_reimbursement_cents"]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_line, max_size=25), cut=st.integers(0, 25), perm=st.permutations(list(range(25))))
def test_two_runs_give_what_one_run_gives(
    rows: list[tuple[int, int, int, str]], cut: int, perm: list[int]
) -> None:
    ids = list(range(1, len(rows) + 1))
    # consecutive batches (the second run's lines paid after the first's): identical, events included
    frame = _frame(rows, ids)
    one_accs, one_events = accumulate(EMPTY, frame, PROPERTY_POLICIES)
    first_accs, first_events = accumulate(EMPTY, frame.filter(pl.col("line_id") <= cut), PROPERTY_POLICIES)
    two_accs, second_events = accumulate(first_accs, frame.filter(pl.col("line_id") > cut), PROPERTY_POLICIES)
    assert two_accs.equals(one_accs)
    both = pl.concat([first_events, second_events]).sort("policy_id", "member_id", "threshold_pct")
    assert both.equals(one_events)
    # any split: the same money; without reversals also the same alerts
    chosen = {i + 1 for i in perm[:cut]}
    first_accs, first_events = accumulate(
        EMPTY, frame.filter(pl.col("line_id").is_in(chosen)), PROPERTY_POLICIES
    )
    two_accs, second_events = accumulate(
        first_accs, frame.filter(~pl.col("line_id").is_in(chosen)), PROPERTY_POLICIES
    )
    money = ["policy_id", "member_id", "paid_cents", "recoverable_cents"]
    assert two_accs.select(money).equals(one_accs.select(money))
    if all(paid >= 0 for _, paid, _, _ in rows):
        assert two_accs.equals(one_accs)
        assert _alert_set(first_events) | _alert_set(second_events) == _alert_set(one_events)
        assert not _alert_set(first_events) & _alert_set(second_events)


def _by_hand(rows: list[tuple[int, int, int, str]]) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """A plain-Python reading of the rules for PROPERTY_POLICIES: policy 2 takes product 8 facility lines,
    policy 1 everything else; lines applied in line_id order."""
    terms = {r["policy_id"]: r for r in PROPERTY_POLICIES.iter_rows(named=True)}
    totals: dict[tuple[int, int], int] = {}
    alerted: dict[tuple[int, int], int] = {}
    events: list[tuple[int, ...]] = []
    for line_id, (member, paid, product, category) in enumerate(rows, start=1):
        policy_id = 2 if (product, category) == (8, "facility") else 1
        key = (policy_id, member)
        totals[key] = totals.get(key, 0) + paid
        attachment = terms[policy_id]["attachment_cents"]
        for threshold in (50, 75, 100):
            if alerted.get(key, 0) < threshold and totals[key] * 100 >= attachment * threshold:
                alerted[key] = threshold
                events.append((policy_id, member, threshold, totals[key], line_id))
    accs: list[tuple[int, ...]] = []
    for (policy_id, member), paid in sorted(totals.items()):
        term = terms[policy_id]
        share = Fraction(max(0, paid - term["attachment_cents"]) * term["coinsurance_milli"], 100_000)
        recoverable = math.floor(share + Fraction(1, 2))
        if term["max_reimbursement_cents"] is not None:
            recoverable = min(recoverable, term["max_reimbursement_cents"])
        accs.append((policy_id, member, paid, recoverable, alerted.get((policy_id, member), 0)))
    return accs, sorted(events)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(_line, max_size=30))
def test_the_engine_agrees_with_a_line_by_line_reading(rows: list[tuple[int, int, int, str]]) -> None:
    accs, events = accumulate(EMPTY, _frame(rows, list(range(1, len(rows) + 1))), PROPERTY_POLICIES)
    assert (accs.rows(), events.rows()) == _by_hand(rows)
