"""A new version of an incentive formula from the pages: finance only (others get 403 and nothing changes),
each save a new version, the version in force ended the day before unless a settled run used it, nothing
changed refused, the service's refusals on the fields, and the list showing what each version changed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from openipa.accounts.services import user_create
from openipa.core.errors import ValidationFailed
from openipa.core.models import AuditEvent
from openipa.core.roles import Role
from openipa.incentives import services
from openipa.incentives.models import IncentiveFormula, SettlementRun
from openipa.incentives.services import SettlementRefused
from openipa.incentives.tests.conftest import PASSWORD, add_formulas
from openipa.web.tests.pages import field_errors, html

pytestmark = pytest.mark.django_db


def _rows(prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows),
                            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 40}  # fmt: skip
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def withhold_post(
    tiers: list[tuple[str, str]] | None = None, extra: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    tiers = [("80", "100"), ("50", "50")] if tiers is None else tiers
    return {
        "name": "Withhold return 2026 v2", "valid_from": "2026-04-01", "valid_to": "", "end_previous": "on",
        "notes": "gate lowered to 50", "scoring": "target", "min_denominator": "1", "unscored_percent": "0",
        **_rows("measure", [{"measure": "CBP|CBP", "weight": "100", "target": ""},
                            {"measure": "", "weight": "", "target": ""}]),
        **_rows("tier", [{"min_score": a, "percent": b} for a, b in tiers]),
        **fields,
        **(extra or {}),
    }  # fmt: skip


def quality_post(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Quality pool 2026 v2", "valid_from": "2026-04-01", "end_previous": "on", "scoring": "stars",
        "min_denominator": "5", "threshold": "55", "pool_source": "fixed", "fixed_pool": "1500.00",
        "basis": "pool", "unearned": "revenue",
        **_rows("measure", [{"measure": "CBP|CBP", "weight": "60", "target": ""},
                            {"measure": "COL-E|COL-E", "weight": "40", "target": "0.65"}]),
        **fields,
    }  # fmt: skip


def risk_post(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Professional risk pool 2026 v2", "valid_from": "2026-07-01", "end_previous": "on",
        "service_categories": ["professional"], "surplus_share_percent": "60", "surplus_basis": "efficiency",
        "deficit_share_percent": "40", "cap_kind": "percent_of_capitation", "cap_percent": "10", "cap_amount": "",
        **fields,
    }  # fmt: skip


def _url(ipa: Any, kind: str) -> str:
    return f"/incentives/formulas/new/?contract={ipa.contract.pk}&kind={kind}"


def _state() -> list[tuple[Any, ...]]:
    return list(IncentiveFormula.objects.order_by("pk").values_list("pk", "valid_from", "valid_to", "params"))


@pytest.fixture
def formulas(ipa: Any) -> dict[str, Any]:
    return add_formulas(ipa)


def test_the_form_starts_from_the_latest_version(ipa, formulas, client_for):
    page = html(client_for("fin").get(_url(ipa, "withhold")))
    assert "starts from version" in page
    assert 'name="tier-0-min_score" value="80"' in page
    assert 'value="CBP|CBP" selected' in page
    assert re.search(r'<input type="checkbox" name="end_previous"[^>]*checked', page)
    listing = html(client_for("fin").get("/incentives/formulas/"))
    assert 'id="new-version"' in listing
    assert "first version" in listing


def test_a_new_withhold_version_ends_the_one_in_force(ipa, formulas, client_for):
    fin = client_for("fin")
    response = fin.post(_url(ipa, "withhold"), withhold_post())
    assert response.status_code == 302, html(response)
    old = IncentiveFormula.objects.get(pk=formulas["withhold"].pk)
    new = IncentiveFormula.objects.filter(kind="withhold").latest("pk")
    assert old.valid_to == dt.date(2026, 3, 31)
    assert old.params == formulas["withhold"].params  # the old version's fields never change
    assert (new.valid_from, new.valid_to, new.created_by, new.notes) == (dt.date(2026, 4, 1), None, "fin",
                                                                          "gate lowered to 50")  # fmt: skip
    assert new.params["tiers"] == [
        {"min_score": "80", "percent": "100"},
        {"min_score": "50", "percent": "50"},
    ]
    assert new.params["measures"] == [{"measure": "CBP", "rate": "CBP", "weight": 100}]
    assert AuditEvent.objects.filter(action="incentives.formula_end").count() == 1
    listing = html(fin.get("/incentives/formulas/"))
    assert "score &gt;= 80: 100%; score &gt;= 60: 50% → score &gt;= 80: 100%; score &gt;= 50: 50%" in listing
    assert f"since version {old.pk}" in listing
    # the first quarter is still settled by the old version, the second by the new one
    q1 = services.prepare_settlement(
        actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", period="2026Q1"
    )
    assert q1.formula_id == old.pk


def test_quality_and_risk_pool_versions(ipa, formulas, client_for):
    fin = client_for("fin")
    assert fin.post(_url(ipa, "quality"), quality_post()).status_code == 302
    quality = IncentiveFormula.objects.filter(kind="quality").latest("pk")
    assert quality.params == {
        "measures": [{"measure": "CBP", "rate": "CBP", "weight": 60},
                     {"measure": "COL-E", "rate": "COL-E", "weight": 40, "target": "0.65"}],
        "scoring": "stars", "min_denominator": 5, "threshold": "55", "pool_source": "fixed", "basis": "pool",
        "unearned": "revenue", "fixed_pool_cents": 150_000,
    }  # fmt: skip
    assert fin.post(_url(ipa, "risk_pool"), risk_post()).status_code == 302
    risk = IncentiveFormula.objects.filter(kind="risk_pool").latest("pk")
    assert risk.params == {"service_categories": ["professional"], "surplus_share_percent": "60",
                           "surplus_basis": "efficiency", "deficit_share_percent": "40",
                           "cap_kind": "percent_of_capitation", "cap_percent": "10"}  # fmt: skip
    assert IncentiveFormula.objects.get(pk=formulas["risk_pool"].pk).valid_to == dt.date(2026, 6, 30)
    listing = html(fin.get("/incentives/formulas/"))
    assert "cap kind</strong>: amount → percent_of_capitation" in listing


def test_nothing_changed_is_refused(ipa, formulas, client_for):
    before = _state()
    response = client_for("fin").post(_url(ipa, "withhold"), withhold_post(tiers=[("80", "100"), ("60", "50")],
                                                                            name="same again"))  # fmt: skip
    assert response.status_code == 400
    assert "nothing changed: version" in html(response)
    assert _state() == before


@pytest.mark.parametrize(("post", "field", "message"), [
    (withhold_post(tiers=[("80", "50"), ("60", "100")]), "", "a higher score must not return a smaller percent"),
    (withhold_post(tiers=[("80", "150")]), "tier-0-percent", "less than or equal to 100"),
    (withhold_post(tiers=[("80", "")]), "", "Enter both the score and the percent"),
    (withhold_post(tiers=[]), "", "tiers: expected a non-empty list"),
    (withhold_post(valid_from="2026-04-01", valid_to="2026-03-01"), "valid_to", "is before valid_from"),
    (withhold_post(valid_from=""), "valid_from", "This field is required."),
    (withhold_post(name=" "), "name", "This field is required."),
    (withhold_post(extra={"measure-0-weight": ""}), "measure-0-weight", "Enter the points of the measure."),
    (withhold_post(extra={"measure-0-measure": "", "measure-0-weight": ""}), "", "measures: expected a non-empty list"),
    (withhold_post(extra={"measure-0-measure": "NOPE|NOPE"}), "measure-0-measure", "Select a valid choice"),
])  # fmt: skip
def test_bad_withhold_versions_change_nothing(ipa, formulas, client_for, post, field, message):
    before = _state()
    response = client_for("fin").post(_url(ipa, "withhold"), post)
    assert response.status_code == 400
    if field:
        assert any(message in e for e in field_errors(response, field)), field_errors(response, field)
    else:
        assert message in html(response)
    assert _state() == before


def test_bad_pool_fields_go_on_their_fields(ipa, formulas, client_for):
    fin = client_for("fin")
    before = _state()
    response = fin.post(_url(ipa, "quality"), quality_post(fixed_pool=""))
    assert response.status_code == 400
    assert any("a fixed pool needs an amount above zero" in e for e in field_errors(response, "fixed_pool"))
    response = fin.post(_url(ipa, "quality"), quality_post(threshold="101"))
    assert field_errors(response, "threshold")
    response = fin.post(_url(ipa, "risk_pool"), risk_post(cap_kind="amount"))
    assert any("a cap as an amount needs the amount" in e for e in field_errors(response, "cap_amount"))
    response = fin.post(_url(ipa, "risk_pool"), risk_post(cap_percent=""))
    assert any("needs the percent" in e for e in field_errors(response, "cap_percent"))
    assert _state() == before


def test_a_settled_period_keeps_its_version(ipa, formulas, client_for):
    """Q1 was settled (approved) with version 1: a new version from 1 February would take over part of it."""
    run = services.prepare_settlement(
        actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", period="2026Q1"
    )
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    before = _state()
    response = client_for("fin").post(_url(ipa, "withhold"), withhold_post(valid_from="2026-02-01"))
    assert response.status_code == 400
    errors = field_errors(response, "valid_from")
    assert any(f"settlement {run.pk} (2026Q1, approved) used version" in e and "2026-04-01 at the earliest" in e
               for e in errors), errors  # fmt: skip
    assert _state() == before
    assert (
        client_for("fin").post(_url(ipa, "withhold"), withhold_post(valid_from="2026-04-01")).status_code
        == 302
    )


def test_without_ending_the_previous_version_an_overlap_is_refused(ipa, formulas, client_for):
    before = _state()
    post = withhold_post()
    del post["end_previous"]
    response = client_for("fin").post(_url(ipa, "withhold"), post)
    assert response.status_code == 400
    assert any("overlaps another version" in e for e in field_errors(response, "valid_from"))
    assert _state() == before


def test_a_draft_of_the_replaced_version_must_be_prepared_again(ipa, formulas, client_for):
    draft = services.prepare_settlement(actor=ipa.users["fin"], contract=ipa.contract, kind="withhold",
                                        period="2026Q1")  # fmt: skip
    response = client_for("fin").post(
        _url(ipa, "withhold"), withhold_post(valid_from="2026-02-01"), follow=True
    )
    assert f"Draft settlement(s) {draft.pk} used the version this one replaces" in html(response)
    with pytest.raises(SettlementRefused, match="changed after this draft was prepared"):
        services.approve_settlement(actor=ipa.users["fin2"], run=draft)
    assert SettlementRun.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize("user", ["alice", "ops", "auditor", "admin", "board"])
def test_others_get_403_and_nothing_changes(ipa, formulas, client_for, user):
    if user == "board":
        client = Client()
        client.force_login(user_create(actor=None, username="board1", password=PASSWORD, role=Role.BOARD))
    else:
        client = client_for(user)
    before = _state()
    assert client.get(_url(ipa, "withhold")).status_code == 403
    assert client.post(_url(ipa, "withhold"), withhold_post()).status_code == 403
    assert _state() == before
    if user == "auditor":
        page = html(client.get("/incentives/formulas/"))
        assert 'id="new-version"' not in page


def test_unknown_contract_or_kind(ipa, formulas, client_for):
    fin = client_for("fin")
    assert fin.get(f"/incentives/formulas/new/?contract={ipa.contract.pk}&kind=bonus").status_code == 404
    assert fin.get("/incentives/formulas/new/?contract=999999&kind=withhold").status_code == 404
    assert fin.get("/incentives/formulas/new/").status_code == 404


def test_first_version_of_a_kind(ipa, client_for):
    fin = client_for("fin")
    page = html(fin.get(_url(ipa, "withhold")))
    assert "has no withhold return formula yet" in page
    assert fin.post(_url(ipa, "withhold"), withhold_post(valid_from="2026-01-01")).status_code == 302
    assert IncentiveFormula.objects.get().valid_from == dt.date(2026, 1, 1)


def test_nothing_changed_however_written(ipa, formulas):
    """The same rule written otherwise ("60.0", the tiers in another order) is the same rule."""
    before = _state()
    with pytest.raises(ValidationFailed, match="nothing changed"):
        services.save_formula(actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", name="again",
                              valid_from=dt.date(2026, 7, 1), end_previous=True,
                              params={"measures": [{"measure": "CBP", "rate": "CBP", "weight": 100}],
                                      "tiers": [{"min_score": "60.0", "percent": "50"},
                                                {"min_score": "80", "percent": "100.00"}],
                                      "unscored_percent": "0"})  # fmt: skip
    assert _state() == before
