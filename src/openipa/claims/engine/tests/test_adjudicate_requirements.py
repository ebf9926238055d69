"""Utilization management's authorization requirements in adjudication: a code listed for the member's product
needs an authorization even when its service category does not (ADR 0014); emergency care never does."""

from __future__ import annotations

from typing import Any

from openipa.claims.engine.adjudicate import (
    AUTH_SCHEMA,
    CATEGORY_RULE_SCHEMA,
    DOFR_SCHEMA,
    REQUIREMENT_SCHEMA,
)
from openipa.claims.engine.tests.test_adjudicate import AMY, SPEC, D, _rule, frame, line, run

PT = {
    "product_id": 10,
    "code_from": "97110",
    "code_to": "97164",
    "valid_from": D(2026, 1, 1),
    "valid_to": None,
}
OTHER_PRODUCT = {**PT, "product_id": 11}
LATER = {**PT, "valid_from": D(2026, 6, 1)}


def _auth(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"member_id": AMY, "number": "UM2026-000001", "code": "97110", "servicing_npi": SPEC,
                           "units_milli": 6000, "valid_from": D(2026, 5, 1), "valid_to": D(2026, 5, 31)}  # fmt: skip
    row.update(over)
    return row


def _outcomes(
    requirements: list[dict[str, Any]], auths: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> dict[int, tuple[str, str]]:
    # therapy is a category that needs no authorization of its own: only the listed codes do
    categories = frame([_rule(1, "therapy", "97000", "97999")], CATEGORY_RULE_SCHEMA)
    dofr = frame([{"term_id": 100, "category": "therapy", "party": "ipa"}], DOFR_SCHEMA)
    out = run(rows, requirements=frame(requirements, REQUIREMENT_SCHEMA), authorizations=frame(auths, AUTH_SCHEMA),
              category_rules=categories, dofr=dofr)  # fmt: skip
    return {k: (v["outcome"], v["carc"] or "") for k, v in out.items()}


def test_a_listed_code_without_an_authorization_is_denied_197() -> None:
    rows = [line(1, code="97110", units_milli=4000), line(2, code="97530"), line(3, code="97010")]
    assert _outcomes([PT], [], rows) == {1: ("denied", "197"), 2: ("paid", ""), 3: ("paid", "")}


def test_listed_only_for_its_product_and_from_its_first_day() -> None:
    rows = [line(1, code="97110")]
    assert _outcomes([OTHER_PRODUCT], [], rows)[1][0] == "paid"
    assert _outcomes([LATER], [], rows)[1][0] == "paid"  # the service (May 10) is before the requirement
    assert _outcomes([], [], rows)[1][0] == "paid"


def test_an_approved_authorization_is_matched_by_dates_units_and_provider() -> None:
    rows = [
        line(1, code="97110", units_milli=4000),
        line(2, code="97110", units_milli=8000),  # more units than approved
        line(
            3, code="97110", service_from=D(2026, 6, 2), service_to=D(2026, 6, 2)
        ),  # after the approved span
        line(4, code="97110", billing_npi="1000000012", rendering_npi="1000000012"),  # another provider
    ]
    assert _outcomes([PT], [_auth()], rows) == {
        1: ("paid", ""), 2: ("denied", "197"), 3: ("denied", "197"), 4: ("denied", "197")
    }  # fmt: skip


def test_emergency_care_never_needs_one() -> None:
    rows = [line(1, code="97110", place_of_service="23")]
    assert _outcomes([PT], [], rows)[1][0] == "paid"
