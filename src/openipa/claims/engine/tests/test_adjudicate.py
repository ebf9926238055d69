"""The adjudication rule pack: each rule's passing and failing fixtures, the order denials are chosen in, cost
share arithmetic, and the whole pack's invariants (one result per line; paid = allowed - cost share)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.claims.engine.adjudicate import (
    AUTH_SCHEMA,
    CATEGORY_RULE_SCHEMA,
    COST_SHARE_SCHEMA,
    DOFR_SCHEMA,
    FINDING_SCHEMA,
    HISTORY_SCHEMA,
    LINE_SCHEMA,
    PRICE_SCHEMA,
    PROVIDER_SCHEMA,
    SPAN_SCHEMA,
    TERM_SCHEMA,
    Context,
    adjudicate,
)
from openipa.core.engine.frames import EngineInputError

D = dt.date
AMY, BERT = 1, 2
SPEC, LAB, PLAN_ONLY = "1000000004", "1000000012", "1000000020"  # NPIs (only compared, never checked here)


def line(line_id: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "line_id": line_id, "claim_id": line_id, "member_id": AMY, "service_from": D(2026, 5, 10),
        "service_to": D(2026, 5, 10), "received_on": D(2026, 5, 20), "code": "99213", "modifiers": "",
        "revenue_code": "", "units_milli": 1000, "charge_cents": 15000, "place_of_service": "11",
        "billing_npi": SPEC, "rendering_npi": SPEC,
    }  # fmt: skip
    row.update(over)
    return row


def frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def context(**over: Any) -> Context:
    parts: dict[str, Any] = {
        "spans": frame([{"member_id": AMY, "product_id": 10, "valid_from": D(2026, 1, 1), "valid_to": None},
                        {"member_id": BERT, "product_id": 10, "valid_from": D(2026, 1, 1),
                         "valid_to": D(2026, 3, 31)}], SPAN_SCHEMA),
        "providers": frame([
            {"npi": SPEC, "kind": "specialist", "contracted": True, "credentialed": True, "excluded": False},
            {"npi": LAB, "kind": "lab", "contracted": True, "credentialed": None, "excluded": False},
        ], PROVIDER_SCHEMA),
        "category_rules": frame([
            _rule(1, "professional", "99201", "99499"),
            _rule(2, "lab", "80000", "89999"),
            _rule(3, "imaging", "70000", "79999", requires_authorization=True),
            _rule(4, "inpatient", "", "", revenue_from="0100", revenue_to="0219"),
            _rule(5, "emergency", "99281", "99285", priority=10, emergency=True),
        ], CATEGORY_RULE_SCHEMA),
        "terms": frame([{"product_id": 10, "term_id": 100, "valid_from": D(2026, 1, 1), "valid_to": None,
                         "timely_filing_days": 90}], TERM_SCHEMA),
        "dofr": frame([{"term_id": 100, "category": c, "party": p} for c, p in
                       (("professional", "ipa"), ("lab", "ipa"), ("imaging", "ipa"), ("emergency", "ipa"),
                        ("inpatient", "hospital"))], DOFR_SCHEMA),
        "authorizations": frame([], AUTH_SCHEMA),
        "history": frame([], HISTORY_SCHEMA),
        "prices": None,
        "cost_shares": frame([{"product_id": 10, "category": "professional", "copay_cents": 2000,
                               "coinsurance_milli": 0, "valid_from": D(2026, 1, 1), "valid_to": None}],
                             COST_SHARE_SCHEMA),
    }  # fmt: skip
    parts.update(over)
    return Context(**parts)


def _rule(rid: int, category: str, code_from: str, code_to: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "category_rule_id": rid, "category": category, "priority": 100, "code_from": code_from, "code_to": code_to,
        "revenue_from": "", "revenue_to": "", "places": "", "provider_kind": "", "emergency": False,
        "requires_authorization": False, "valid_from": D(2026, 1, 1), "valid_to": None,
    }  # fmt: skip
    row.update(over)
    return row


def run(
    rows: list[dict[str, Any]], prices: dict[int, int | None] | None = None, **over: Any
) -> dict[int, dict[str, Any]]:
    lines = frame(rows, LINE_SCHEMA)
    allowed = prices or {}
    price_rows = [{"line_id": r["line_id"], "allowed_cents": allowed.get(r["line_id"], 10000), "pricing": "test"}
                  for r in rows]  # fmt: skip
    ctx = context(prices=frame(price_rows, PRICE_SCHEMA), **over)
    result = adjudicate(lines, ctx)
    assert result.lines.height == len(rows)
    return {r["line_id"]: r for r in result.lines.iter_rows(named=True)}


def test_a_clean_line_is_paid_the_allowed_amount_less_the_copay():
    out = run([line(1)])[1]
    assert (out["outcome"], out["allowed_cents"], out["cost_share_cents"], out["paid_cents"]) == (
        "paid",
        10000,
        2000,
        8000,
    )
    assert (out["product_id"], out["term_id"], out["category"], out["party"]) == (
        10,
        100,
        "professional",
        "ipa",
    )


# -- eligibility -------------------------------------------------------------------------------------------


def test_eligibility_unknown_member_before_and_after_coverage():
    out = run([line(1, member_id=None), line(2, member_id=BERT), line(3, service_from=D(2025, 12, 31),
                                                                       service_to=D(2025, 12, 31))])  # fmt: skip
    assert (out[1]["outcome"], out[1]["carc"]) == ("denied", "31")
    assert (out[2]["outcome"], out[2]["carc"]) == ("denied", "27")  # Bert's coverage ended 31 March
    assert (out[3]["outcome"], out[3]["carc"]) == ("denied", "26")  # Amy's began 1 January 2026
    assert all(o["paid_cents"] == 0 for o in out.values())


# -- provider ----------------------------------------------------------------------------------------------


def test_provider_excluded_denies_uncontracted_and_uncredentialed_pend():
    providers = frame([
        {"npi": SPEC, "kind": "specialist", "contracted": True, "credentialed": True, "excluded": True},
        {"npi": LAB, "kind": "lab", "contracted": True, "credentialed": False, "excluded": False},
    ], PROVIDER_SCHEMA)  # fmt: skip
    out = run([line(1), line(2, billing_npi=PLAN_ONLY, rendering_npi=PLAN_ONLY, code="80053"),
               line(3, billing_npi=LAB, rendering_npi=LAB, code="80053")], providers=providers)  # fmt: skip
    assert (out[1]["outcome"], out[1]["carc"], out[1]["rarc"]) == ("denied", "B7", "N570")
    assert out[2]["outcome"] == "pended"
    assert "no participation agreement" in out[2]["pend_reason"]
    assert (out[3]["outcome"], out[3]["pend_reason"]) == ("pended", "the provider is not credentialed")


def test_an_exclusion_denies_only_services_on_or_after_its_first_day():
    def providers(since: D | None) -> pl.DataFrame:
        return frame([
            {"npi": SPEC, "kind": "specialist", "contracted": True, "credentialed": True, "excluded": True,
             "excluded_from": since},
            {"npi": LAB, "kind": "lab", "contracted": True, "credentialed": None, "excluded": False},
        ], PROVIDER_SCHEMA)  # fmt: skip

    served = line(1)["service_from"]
    assert run([line(1)], providers=providers(served))[1]["carc"] == "B7"  # from that very day
    assert run([line(1)], providers=providers(None))[1]["carc"] == "B7"  # no first day: always
    later = run([line(1)], providers=providers(served + dt.timedelta(days=1)))[1]
    assert later["outcome"] == "paid"  # excluded only after the service


# -- DOFR --------------------------------------------------------------------------------------------------


def test_dofr_denies_the_hospitals_lines_and_pends_what_it_cannot_place():
    out = run([line(1, code="", revenue_code="0120"), line(2, code="J3490"), line(3, code="80053")])
    assert (out[1]["outcome"], out[1]["carc"], out[1]["party"]) == ("denied", "109", "hospital")
    assert out[2]["outcome"] == "pended"
    assert "no service category" in out[2]["pend_reason"]
    assert out[3]["outcome"] == "paid"


def test_a_category_rule_can_be_limited_to_places_of_service_and_ends_on_its_date():
    rules = frame([
        _rule(1, "professional", "99201", "99499", places="11,22", valid_to=D(2026, 4, 30)),
        _rule(2, "professional", "99201", "99499", places="11", valid_from=D(2026, 5, 1)),
    ], CATEGORY_RULE_SCHEMA)  # fmt: skip
    out = run([line(1), line(2, code="99214", place_of_service="22"), line(3, place_of_service="22", service_from=D(2026, 4, 2),
                                                            service_to=D(2026, 4, 2))], category_rules=rules)  # fmt: skip
    assert [out[i]["outcome"] for i in (1, 2, 3)] == ["paid", "pended", "paid"]


# -- authorization -----------------------------------------------------------------------------------------


def test_authorization_required_matched_by_member_code_dates_units_and_provider():
    auths = frame([{"member_id": AMY, "number": "A1", "code": "70553", "servicing_npi": SPEC, "units_milli": 1000,
                    "valid_from": D(2026, 5, 1), "valid_to": D(2026, 5, 31)}], AUTH_SCHEMA)  # fmt: skip
    out = run([
        line(1, code="70553"),
        line(2, code="70553", units_milli=2000),  # more units than authorized
        line(3, code="70551"),  # another code
        line(4, code="70553", service_from=D(2026, 6, 2), service_to=D(2026, 6, 2)),  # after the dates
        line(5, code="70553", place_of_service="23", member_id=BERT, service_from=D(2026, 3, 1),
             service_to=D(2026, 3, 1)),  # emergency room: never needs one
    ], authorizations=auths)  # fmt: skip
    assert out[1]["outcome"] == "paid"
    for i in (2, 3, 4):
        assert (out[i]["outcome"], out[i]["carc"]) == ("denied", "197"), i
    assert out[5]["outcome"] == "paid"


# -- duplicates --------------------------------------------------------------------------------------------


def test_exact_duplicates_deny_and_suspect_duplicates_pend():
    history = frame([{"line_id": 900, "member_id": AMY, "code": "99213", "modifiers": "", "service_from": D(2026, 5, 10),
                      "billing_npi": SPEC, "rendering_npi": SPEC, "units_milli": 1000, "charge_cents": 15000}],
                    HISTORY_SCHEMA)  # fmt: skip
    out = run([line(1), line(2, code="80053"), line(3, code="80053"), line(4, code="80053", billing_npi=LAB,
                                                                         rendering_npi=LAB)], history=history)  # fmt: skip
    assert (out[1]["outcome"], out[1]["carc"]) == ("denied", "18")  # same as line 900 paid before
    assert out[2]["outcome"] == "paid"  # the first of the batch's two
    assert (out[3]["outcome"], out[3]["carc"]) == ("denied", "18")
    assert out[4]["outcome"] == "pended"
    assert "suspect duplicate of line 2" in out[4]["pend_reason"]


# -- timely filing, pricing, order -------------------------------------------------------------------------


def test_timely_filing_counts_days_from_the_end_of_service():
    out = run([line(1, received_on=D(2026, 8, 8)), line(2, code="99214", received_on=D(2026, 8, 9))])
    assert out[1]["outcome"] == "paid"  # 90 days after 10 May
    assert (out[2]["outcome"], out[2]["carc"]) == ("denied", "29")


def test_a_line_no_schedule_prices_pends_and_a_denial_beats_a_pend():
    out = run([line(1), line(2, member_id=None)], prices={1: None, 2: None})
    assert out[1]["outcome"] == "pended"
    assert out[1]["pend_reason"].startswith("no fee schedule prices 99213")
    assert (out[2]["outcome"], out[2]["carc"]) == ("denied", "31")


def test_the_first_denying_rule_in_order_gives_the_reason():
    # unknown to the network (pend), outside timely filing (29) and the hospital's (109): DOFR comes first
    out = run([line(1, code="", revenue_code="0120", received_on=D(2027, 1, 1), billing_npi=PLAN_ONLY)])
    assert (out[1]["outcome"], out[1]["carc"]) == ("denied", "109")


def test_code_edit_findings_take_part_in_the_decision():
    edits = frame([{"line_id": 2, "rule": "code_edits", "outcome": "deny", "carc": "97", "rarc": "M15",
                    "message": "bundled into line 1"}], FINDING_SCHEMA)  # fmt: skip
    out = run([line(1), line(2, code="99214")], edits=edits)
    assert (out[2]["outcome"], out[2]["carc"], out[2]["rarc"]) == ("denied", "97", "M15")
    assert out[1]["outcome"] == "paid"


def test_two_edits_on_one_line_decide_alike_whatever_their_order():
    ptp = {
        "line_id": 2,
        "rule": "code_edits",
        "outcome": "deny",
        "carc": "97",
        "rarc": "M15",
        "message": "bundled",
    }
    mue = {
        "line_id": 2,
        "rule": "code_edits",
        "outcome": "deny",
        "carc": "151",
        "rarc": "N362",
        "message": "units",
    }
    first = run([line(1), line(2, code="99214")], edits=frame([ptp, mue], FINDING_SCHEMA))[2]
    second = run([line(1), line(2, code="99214")], edits=frame([mue, ptp], FINDING_SCHEMA))[2]
    assert (first["carc"], first["rarc"]) == (second["carc"], second["rarc"]) == ("151", "N362")


def test_coinsurance_is_on_what_the_copay_leaves_and_never_above_allowed():
    shares = frame([{"product_id": 10, "category": "professional", "copay_cents": 1000, "coinsurance_milli": 20_000,
                     "valid_from": D(2026, 1, 1), "valid_to": None}], COST_SHARE_SCHEMA)  # fmt: skip
    out = run([line(1), line(2, code="99214")], prices={1: 10001, 2: 500}, cost_shares=shares)
    # 10001: copay 1000, then 20% of 9001 = 1800.2 -> 1800; paid 10001 - 2800 = 7201
    assert (out[1]["cost_share_cents"], out[1]["paid_cents"]) == (2800, 7201)
    assert (out[1]["copay_cents"], out[1]["coinsurance_cents"]) == (1000, 1800)  # PR-3 and PR-2 on the 835
    # 500: the copay is capped at the allowed amount
    assert (out[2]["cost_share_cents"], out[2]["paid_cents"]) == (500, 0)


def test_line_ids_must_be_unique():
    with pytest.raises(EngineInputError, match="line_id is not unique"):
        run([line(1), line(1)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["99213", "80053", "70553", "J3490", ""]),
                          st.integers(0, 2_000_000), st.booleans(), st.integers(0, 120)), min_size=1, max_size=12))  # fmt: skip
def test_property_every_line_gets_one_outcome_and_paid_never_exceeds_allowed(rows):
    lines = [line(i + 1, code=code, charge_cents=charge, member_id=AMY if known else None,
                  received_on=D(2026, 5, 10) + dt.timedelta(days=late), revenue_code="" if code else "0120")
             for i, (code, charge, known, late) in enumerate(rows)]  # fmt: skip
    out = run(lines, prices={i + 1: charge for i, (_c, charge, _k, _l) in enumerate(rows)})
    for r in out.values():
        assert r["outcome"] in ("paid", "denied", "pended")
        if r["outcome"] == "paid":
            assert 0 <= r["paid_cents"] <= r["allowed_cents"]
            assert r["paid_cents"] + r["cost_share_cents"] == r["allowed_cents"]
        else:
            assert r["paid_cents"] == 0
        assert (r["outcome"] == "denied") == bool(r["carc"])
