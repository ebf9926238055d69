"""Quorum and vote rules at their boundaries, by hand, and as properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.governance.engine import rules
from openipa.governance.engine.rules import Tally


@pytest.mark.parametrize(
    ("kind", "value", "base", "required"),
    [
        ("majority", 0, 9, 5),  # 9 seats: 5 is more than half
        ("majority", 0, 10, 6),  # 10 seats: 5 is half, not more
        ("majority", 0, 1, 1),
        ("count", 4, 9, 4),
        ("percent", Decimal("33.33"), 40, 14),  # 13.332 rounds up
        ("percent", 25, 40, 10),  # exactly a quarter
        ("percent", 50, 0, 1),  # nobody can be a quorum of nobody
    ],
)
def test_quorum_required(kind: str, value: Decimal | int, base: int, required: int) -> None:
    assert rules.quorum_required(kind, value, base) == required


def test_exactly_the_quorum_present_is_quorum_and_one_fewer_is_not() -> None:
    assert rules.quorum("majority", 0, 9, 5).met
    short = rules.quorum("majority", 0, 9, 4)
    assert not short.met
    assert short.short_by == 1
    assert rules.quorum("count", 4, 9, 4).met
    assert not rules.quorum("count", 4, 9, 3).met


@pytest.mark.parametrize(
    ("kind", "value", "base"),
    [("count", 0, 9), ("count", Decimal("2.5"), 9), ("percent", 0, 9), ("percent", 101, 9), ("nope", 1, 9),
     ("majority", 0, -1)],
)  # fmt: skip
def test_bad_quorum_rules_are_refused(kind: str, value: Decimal | int, base: int) -> None:
    with pytest.raises(rules.RuleError):
        rules.quorum_required(kind, value, base)


def test_a_tie_fails_a_simple_majority() -> None:
    assert not rules.carried("simple_majority", Tally(yes=3, no=3))
    assert rules.carried("simple_majority", Tally(yes=4, no=3))


def test_abstentions_and_recusals_are_not_votes_cast() -> None:
    tally = Tally.of(["yes", "yes", "no", "abstain", "abstain", "abstain", "recused"])
    assert (tally.yes, tally.no, tally.abstain, tally.recused, tally.cast) == (2, 1, 3, 1, 3)
    # 2 of 3 cast carries a simple majority though only 2 of the 7 present said yes
    assert rules.carried("simple_majority", tally)
    assert rules.carried("two_thirds", tally)  # exactly two-thirds of the votes cast


def test_two_thirds_boundary() -> None:
    assert rules.carried("two_thirds", Tally(yes=6, no=3))  # exactly 2/3
    assert not rules.carried("two_thirds", Tally(yes=5, no=3))  # 62.5%
    assert not rules.carried("two_thirds", Tally(yes=3, no=2))  # 60%: a simple majority, not two-thirds
    assert rules.carried("simple_majority", Tally(yes=3, no=2))


def test_no_votes_cast_fails() -> None:
    assert not rules.carried("simple_majority", Tally(abstain=5))
    assert not rules.carried("two_thirds", Tally())


def test_no_decision_without_quorum_whatever_the_votes() -> None:
    decision = rules.decide("simple_majority", Tally(yes=4), rules.quorum("majority", 0, 9, 4))
    assert not decision.decided
    assert not decision.carried
    assert "no quorum: 4 present, 5 required" in decision.reason
    decided = rules.decide("simple_majority", Tally(yes=4, no=1), rules.quorum("majority", 0, 9, 5))
    assert decided.decided
    assert decided.carried


def test_unknown_votes_and_rules_are_refused() -> None:
    with pytest.raises(rules.RuleError):
        Tally.of(["yes", "maybe"])
    with pytest.raises(rules.RuleError):
        rules.carried("unanimous", Tally(yes=1))


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 10), st.integers(0, 10))
def test_two_thirds_carried_implies_simple_majority_carried(
    yes: int, no: int, abstain: int, recused: int
) -> None:
    tally = Tally(yes, no, abstain, recused)
    if rules.carried("two_thirds", tally):
        assert rules.carried("simple_majority", tally)
    # abstentions and recusals never change the outcome
    bare = Tally(yes, no)
    for rule in rules.VOTE_RULES:
        assert rules.carried(rule, tally) == rules.carried(rule, bare)
    # swapping yes and no: both cannot carry a simple majority
    assert not (rules.carried("simple_majority", tally) and rules.carried("simple_majority", Tally(no, yes)))


@given(st.integers(0, 500), st.integers(0, 500))
def test_majority_quorum_is_more_than_half(base: int, present: int) -> None:
    q = rules.quorum("majority", 0, base, present)
    assert q.met == (present * 2 > base)
