"""``openipa savings``: settle (JSON), approve by a second user, pay, forecast; refusals exit with a message."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.savings.models import SettlementRun


def _call(*args: str) -> str:
    out = StringIO()
    call_command("savings", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_settle_approve_pay_and_forecast(ss: Any, tmp_path: Path) -> None:
    result = json.loads(_call("settle", "--contract", "SUN-2026", "--year", "2026", "--cutoff", "2027-03-31",
                              "--formula", "standard", "--user", "fin", "--json"))  # fmt: skip
    assert result["shared_cents"] == 120_000
    assert {s["practice"]: s["total_cents"] for s in result["shares"]} == {"ALDER": 57_800, "BIRCH": 44_200}
    run_id = str(result["run_id"])
    with pytest.raises(CommandError, match="another finance user"):
        _call("approve", run_id, "--user", "fin")
    assert SettlementRun.objects.get(pk=run_id).status == "draft"
    assert json.loads(_call("approve", run_id, "--user", "fin2", "--json"))["status"] == "approved"
    paid = json.loads(_call("pay", run_id, "--user", "fin", "--out", str(tmp_path / "s.ach"), "--json"))
    assert paid["status"] == "paid"
    assert (tmp_path / "s.ach").exists()
    forecast = json.loads(_call("forecast", "--contract", "SUN-2026", "--year", "2026", "--as-of", "2027-03-31",
                                "--samples", "50", "--seed", "2", "--json"))  # fmt: skip
    assert forecast["savings_cents"] == 600_000
    assert forecast["samples"] == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [(["settle", "--contract", "NOPE", "--year", "2026", "--cutoff", "2027-03-31"], "no contract"),
     (["settle", "--contract", "SUN-2026", "--cutoff", "2027-03-31"], "--year"),
     (["settle", "--contract", "SUN-2026", "--year", "2026", "--cutoff", "31/03/2027"], "not a date"),
     (["approve", "999", "--user", "fin2"], "no settlement run"),
     (["forecast", "--contract", "SUN-2026", "--year", "2026", "--as-of", "2026-01-15"], "no whole month")],
)  # fmt: skip
def test_refusals(ss: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _call(*args)


def test_add_terms_and_formula_from_files(ss: Any, tmp_path: Path) -> None:
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({
        "kind": "mssp", "name": "ACO 2027", "benchmark_basis": "beneficiary_year", "benchmark_amount": "11000",
        "msr_source": "table", "msr_table": "mssp_one_sided", "track": "BASIC_E", "valid_from": "2027-01-01",
    }))  # fmt: skip
    assert "v2, in force from 2027-01-01" in _call(
        "add-terms", "--contract", "SUN-2026", "--file", str(terms)
    )
    formula = tmp_path / "formula.json"
    formula.write_text(json.dumps({"name": "standard", "valid_from": "2027-01-01",
                                   "pools": [{"key": "quality", "percent": "100"}]}))  # fmt: skip
    with pytest.raises(CommandError, match="overlaps"):
        _call("add-formula", "--file", str(formula))
    formula.write_text(json.dumps({"name": "quality-only", "valid_from": "2027-01-01",
                                   "pools": [{"key": "quality", "percent": "90"}]}))  # fmt: skip
    with pytest.raises(CommandError, match="sum to 100"):
        _call("add-formula", "--file", str(formula))
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(CommandError, match="one JSON object"):
        _call("add-terms", "--contract", "SUN-2026", "--file", str(tmp_path / "bad.json"))
