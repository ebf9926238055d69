"""A new version after an open-ended one: ``--end-previous`` on ``openipa savings add-terms`` / ``add-formula``
and the "End the version in force the day before" checkbox on both pages end the version in force on the new
version's start the day before, in the same transaction. It is refused (on valid_from, nothing changed) when a
settlement (a snapshot, with its runs) or a forecast used that version for a day on or after the new start,
when that version starts the same day, or when the new version still overlaps another; without the option an
overlap refusal says that the option exists. Everyone but finance gets the 403 page and nothing changes.

The fixture (conftest.py): the contract's terms v1 in force 2026-01-01..2026-12-31, the formula ``standard``
v1 from 2026-01-01, open-ended."""

from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from openipa.core.errors import ValidationFailed
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.savings import services
from openipa.savings.models import DistributionFormula, SavingsTerm, SettlementRun
from openipa.savings.tests.conftest import CUTOFF, TERM
from openipa.savings.tests.test_term_formula_pages import FORMULA_POST, PAYER_POST

JAN, JUN, DEC = Month(2026, 1), Month(2026, 6), Month(2026, 12)


def _client(ss: Any, name: str = "fin") -> Client:
    client = Client()
    client.force_login(ss.users[name])
    return client


def _state() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Every term and formula row and the number of audited writes: a refusal changes none of them."""
    terms = [dict(row) for row in SavingsTerm.objects.order_by("pk").values()]
    formulas = [dict(row) for row in DistributionFormula.objects.order_by("pk").values()]
    return terms, formulas, AuditEvent.objects.filter(kind=AuditEvent.Kind.WRITE).count()


def _cli(tmp_path: Path, verb: str, data: dict[str, Any], *extra: str) -> str:
    path = tmp_path / f"{verb}.json"
    path.write_text(json.dumps(data, default=str))
    out = StringIO()
    call_command("savings", verb, *extra, "--file", str(path), "--user", "fin", stdout=out, stderr=StringIO())
    return out.getvalue()


def _terms(**change: Any) -> dict[str, Any]:
    return {**TERM, "name": "Sunrise shared savings, next version", **change}


def _formula(**change: Any) -> dict[str, Any]:
    return {"name": "standard", "reserve_percent": "5", "admin_fee_percent": "5",
            "pools": [{"key": "member_months", "percent": "100"}], **change}  # fmt: skip


def _snapshot(ss: Any, first: Month = JAN, last: Month = DEC) -> Any:
    return services.take_snapshot(
        ss.users["fin"], contract=ss.contract, first=first, last=last, cutoff=CUTOFF
    )


def _term_errors(response: Any) -> str:
    assert response.status_code == 400, response.content.decode()[:2000]
    return " ".join(response.context["form"].errors.get("valid_from") or [])


# -- the good path -------------------------------------------------------------------------------------------


def test_cli_terms_after_an_open_ended_version(ss: Any, tmp_path: Path) -> None:
    contract = ["--contract", ss.contract.number]
    assert "v2, in force from 2027-01-01" in _cli(tmp_path, "add-terms", _terms(valid_from="2027-01-01",
                                                                               valid_to=None), *contract)  # fmt: skip
    v2 = SavingsTerm.objects.get(contract=ss.contract, version=2)
    assert v2.valid_to is None
    before = _state()
    with pytest.raises(CommandError, match="overlaps another version") as refused:
        _cli(tmp_path, "add-terms", _terms(valid_from="2028-01-01", valid_to=None), *contract)
    assert "--end-previous" in str(refused.value)
    assert "to end version 2 (2027-01-01..open) on 2027-12-31" in str(refused.value)
    assert _state() == before
    out = _cli(
        tmp_path, "add-terms", _terms(valid_from="2028-01-01", valid_to=None), *contract, "--end-previous"
    )
    assert "v3, in force from 2028-01-01" in out
    assert "v2 now ends on 2027-12-31" in out
    v2.refresh_from_db()
    assert v2.valid_to == dt.date(2027, 12, 31)
    assert SavingsTerm.objects.get(contract=ss.contract, version=3).valid_to is None
    ended = AuditEvent.objects.get(action="savings.term_end")
    assert ended.object_id == str(v2.pk)
    assert "2027-12-31" in json.dumps(ended.changes["valid_to"])
    assert services.term_in_force(ss.contract, dt.date(2027, 12, 31)) == v2
    assert services.term_in_force(ss.contract, dt.date(2028, 1, 1)).version == 3


def test_cli_formula_after_an_open_ended_version(ss: Any, tmp_path: Path) -> None:
    before = _state()
    with pytest.raises(CommandError, match="--end-previous"):
        _cli(tmp_path, "add-formula", _formula(valid_from="2027-01-01"))
    assert _state() == before
    out = _cli(tmp_path, "add-formula", _formula(valid_from="2027-01-01"), "--end-previous")
    assert "standard v2, in force from 2027-01-01" in out
    assert "v1 now ends on 2026-12-31" in out
    ss.formula.refresh_from_db()
    assert ss.formula.valid_to == dt.date(2026, 12, 31)
    assert AuditEvent.objects.filter(action="savings.formula_end", object_id=str(ss.formula.pk)).count() == 1
    assert services.formula_in_force(dt.date(2027, 6, 30)).version == 2  # type: ignore[union-attr]


def test_the_pages_show_the_checkbox_unticked(ss: Any) -> None:
    fin = _client(ss)
    for name in ("web:savings:term_create", "web:savings:formula_create"):
        page = fin.get(reverse(name)).content.decode()
        assert 'type="checkbox" name="end_previous"' in page
        assert not re.search(r'<input[^>]*name="end_previous"[^>]*checked', page)
        assert "End the version in force the day before" in page


def test_term_page_ends_the_previous_version(ss: Any) -> None:
    fin = _client(ss)
    post = {**PAYER_POST, "contract": ss.contract.pk, "valid_from": "2026-07-01", "valid_to": ""}
    overlap = _term_errors(fin.post(reverse("web:savings:term_create"), post))
    assert "to end version 1 (2026-01-01..2026-12-31) on 2026-06-30" in overlap
    assert "End the version in force the day before" in overlap
    response = fin.post(reverse("web:savings:term_create"), {**post, "end_previous": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    ss.savings_term.refresh_from_db()
    assert ss.savings_term.valid_to == dt.date(2026, 6, 30)
    v2 = SavingsTerm.objects.get(contract=ss.contract, version=2)
    assert (v2.valid_from, v2.valid_to) == (dt.date(2026, 7, 1), None)
    page = fin.get(response["Location"]).content.decode()
    assert "v2 saved for contract" in page
    assert "Version 1 now ends on 2026-06-30" in page


def test_formula_page_ends_the_previous_version(ss: Any) -> None:
    fin = _client(ss)
    post = {**FORMULA_POST, "name": "standard", "end_previous": "on"}
    response = fin.post(reverse("web:savings:formula_create"), post)
    assert response.status_code == 302, response.content.decode()[:3000]
    ss.formula.refresh_from_db()
    assert ss.formula.valid_to == dt.date(2026, 12, 31)
    assert DistributionFormula.objects.get(name="standard", version=2).valid_from == dt.date(2027, 1, 1)
    assert "Version 1 now ends on 2026-12-31" in fin.get(response["Location"]).content.decode()


def test_a_snapshot_of_the_first_half_leaves_the_second_half_free(ss: Any) -> None:
    """Used through 2026-06-30: a version from 2026-07-01 ends it that day; from 2026-06-15 is refused."""
    _snapshot(ss, JAN, JUN)
    data = _terms(valid_from=dt.date(2026, 6, 15), valid_to=None)
    before = _state()
    with pytest.raises(
        ValidationFailed, match=r"snapshot \d+ \(2026-01..2026-06\) used version 1 through 2026-06-30"
    ):
        services.term_create(ss.users["fin"], contract=ss.contract, data=data, end_previous=True)
    assert _state() == before
    services.term_create(ss.users["fin"], contract=ss.contract, data={**data, "valid_from": dt.date(2026, 7, 1)},
                         end_previous=True)  # fmt: skip
    ss.savings_term.refresh_from_db()
    assert ss.savings_term.valid_to == dt.date(2026, 6, 30)


# -- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use", ["snapshot", "draft", "approved", "forecast"])
def test_terms_used_by_a_settlement_or_forecast_are_not_ended(ss: Any, tmp_path: Path, use: str) -> None:
    if use == "forecast":
        record = services.make_forecast(ss.users["fin"], contract=ss.contract, first=JAN, last=DEC, as_of=CUTOFF,
                                        samples=20, seed=1)  # fmt: skip
        what = f"forecast {record.pk} (2026-01..2026-12, as of {CUTOFF})"
    else:
        snapshot = _snapshot(ss)
        what = f"snapshot {snapshot.pk} (2026-01..2026-12)"
        if use != "snapshot":
            run = services.prepare_run(ss.users["fin"], snapshot=snapshot, formula=ss.formula)
            if use == "approved":
                services.approve_run(ss.users["fin2"], run)
            what = f"settlement run {run.pk} ({use}, 2026-01..2026-12)"
    before = _state()
    post = {
        **PAYER_POST,
        "contract": ss.contract.pk,
        "valid_from": "2026-07-01",
        "valid_to": "",
        "end_previous": "on",
    }
    message = _term_errors(_client(ss).post(reverse("web:savings:term_create"), post))
    assert f"{what} used version 1 through 2026-12-31" in message
    assert "it cannot end on 2026-06-30" in message
    assert "can start on 2027-01-01 at the earliest" in message
    assert _state() == before
    with pytest.raises(CommandError, match="used version 1 through 2026-12-31"):
        _cli(tmp_path, "add-terms", _terms(valid_from="2026-07-01", valid_to=None), "--contract",
             ss.contract.number, "--end-previous")  # fmt: skip
    assert _state() == before


def test_a_formula_used_by_a_run_is_not_ended(ss: Any, tmp_path: Path) -> None:
    run = services.prepare_run(ss.users["fin"], snapshot=_snapshot(ss), formula=ss.formula)
    before = _state()
    post = {**FORMULA_POST, "name": "standard", "valid_from": "2026-07-01", "end_previous": "on"}
    message = _term_errors(_client(ss).post(reverse("web:savings:formula_create"), post))
    assert f"settlement run {run.pk} (draft, 2026-01..2026-12) used version 1 through 2026-12-31" in message
    assert "can start on 2027-01-01 at the earliest" in message
    assert _state() == before
    with pytest.raises(CommandError, match=f"settlement run {run.pk}"):
        _cli(tmp_path, "add-formula", _formula(valid_from="2026-07-01"), "--end-previous")
    assert _state() == before
    # the first day after the run's period is fine
    assert "v1 now ends on 2026-12-31" in _cli(
        tmp_path, "add-formula", _formula(valid_from="2027-01-01"), "--end-previous"
    )


def test_a_version_starting_the_same_day_is_not_ended(ss: Any) -> None:
    before = _state()
    post = {**FORMULA_POST, "name": "standard", "valid_from": "2026-01-01", "end_previous": "on"}
    message = _term_errors(_client(ss).post(reverse("web:savings:formula_create"), post))
    assert "version 1 (2026-01-01..open) starts on 2026-01-01 itself" in message
    assert _state() == before
    with pytest.raises(ValidationFailed, match="starts on 2026-01-01 itself"):
        services.term_create(ss.users["fin"], contract=ss.contract, data=_terms(valid_from=dt.date(2026, 1, 1)),
                             end_previous=True)  # fmt: skip
    assert _state() == before


def test_still_overlapping_a_later_version_rolls_the_ending_back(ss: Any) -> None:
    """v1 2026, v2 from 2027 open-ended; v3 from 2026-07-01, open-ended, would end v1 but overlaps v2."""
    fin = ss.users["fin"]
    services.term_create(
        fin, contract=ss.contract, data=_terms(valid_from=dt.date(2027, 1, 1), valid_to=None)
    )
    before = _state()
    with pytest.raises(ValidationFailed, match="overlaps another version") as refused:
        services.term_create(fin, contract=ss.contract, data=_terms(valid_from=dt.date(2026, 7, 1), valid_to=None),
                             end_previous=True)  # fmt: skip
    assert "--end-previous" not in str(refused.value)  # given already: no hint
    assert _state() == before
    ss.savings_term.refresh_from_db()
    assert ss.savings_term.valid_to == dt.date(2026, 12, 31)


def test_nothing_in_force_on_the_start_day_ends_nothing(ss: Any) -> None:
    """Before every version (2025): the option has nothing to end, and the new version is added."""
    term = services.term_create(ss.users["fin"], contract=ss.contract, end_previous=True,
                                data=_terms(valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31)))  # fmt: skip
    assert term.version == 2
    assert not AuditEvent.objects.filter(action="savings.term_end").exists()
    ss.savings_term.refresh_from_db()
    assert ss.savings_term.valid_to == dt.date(2026, 12, 31)


@pytest.mark.parametrize("bad", [{"valid_from": "2027-01-01"}, {"valid_to": "2027-12-31"}])
def test_dates_that_are_not_dates_are_refused_on_their_field(ss: Any, bad: dict[str, str]) -> None:
    before = _state()
    field = next(iter(bad))
    dates = {"valid_from": dt.date(2027, 1, 1), "valid_to": None, **bad}
    with pytest.raises(ValidationFailed) as refused:
        services.term_create(ss.users["fin"], contract=ss.contract, data=_terms(**dates), end_previous=True)
    assert field in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        services.formula_create(ss.users["fin"], data=_formula(**dates), end_previous=True)
    assert field in refused.value.fields
    assert _state() == before


@pytest.mark.parametrize("user", ["alice", "ops", "auditor", "admin"])
def test_only_finance_may_end_a_version(ss: Any, user: str) -> None:
    client = _client(ss, user)
    before = _state()
    term = client.post(reverse("web:savings:term_create"), {**PAYER_POST, "contract": ss.contract.pk,
                                                            "valid_from": "2026-07-01", "end_previous": "on"})  # fmt: skip
    formula = client.post(reverse("web:savings:formula_create"), {**FORMULA_POST, "name": "standard",
                                                                  "end_previous": "on"})  # fmt: skip
    assert term.status_code == formula.status_code == 403
    assert "403.html" in [t.name for t in term.templates]
    assert _state() == before


def test_settle_by_name_uses_the_version_in_force_not_the_latest(ss: Any, tmp_path: Path) -> None:
    """After ``standard`` v1 ends on 2026-12-31 and v2 starts in 2027, ``settle --formula standard`` for 2026
    distributes by v1 (60/40 by member-months and efficiency), and for a year no version covers it refuses."""
    _cli(tmp_path, "add-formula", _formula(valid_from="2027-01-01"), "--end-previous")
    out = StringIO()
    call_command("savings", "settle", "--contract", ss.contract.number, "--year", "2026", "--cutoff", "2027-03-31",
                 "--formula", "standard", "--user", "fin", "--json", stdout=out, stderr=StringIO())  # fmt: skip
    result = json.loads(out.getvalue())
    assert SettlementRun.objects.get(pk=result["run_id"]).formula == ss.formula
    assert {s["practice"]: s["total_cents"] for s in result["shares"]} == {"ALDER": 57_800, "BIRCH": 44_200}
    with pytest.raises(CommandError, match="'standard' has no version in force on 2025-12-31"):
        call_command("savings", "settle", "--contract", ss.contract.number, "--year", "2025", "--cutoff",
                     "2027-03-31", "--formula", "standard", stdout=StringIO(), stderr=StringIO())  # fmt: skip
