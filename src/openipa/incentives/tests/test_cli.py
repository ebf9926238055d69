"""`openipa incentives settle | approve | pay` with --json, and its refusals."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.incentives.models import IncentiveFormula, SettlementRun
from openipa.incentives.tests.conftest import add_formulas

pytestmark = pytest.mark.django_db


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command("incentives", *args, stdout=out)
    return out.getvalue()


def test_settle_approve_pay(ipa, tmp_path):
    add_formulas(ipa)
    number = ipa.contract.number
    result = json.loads(_call("settle", "--kind", "withhold", "--contract", number, "--period", "2026Q1",
                              "--user", "fin", "--json"))  # fmt: skip
    assert result["status"] == "draft"
    assert {p["practice"]: p["amount_cents"] for p in result["practices"]} == {"ALDER": 3000, "BIRCH": 0}
    with pytest.raises(CommandError, match="another finance user"):
        _call("approve", str(result["run_id"]), "--user", "fin")
    assert (
        json.loads(_call("approve", str(result["run_id"]), "--user", "fin2", "--json"))["status"]
        == "approved"
    )
    paid = json.loads(_call("pay", str(result["run_id"]), "--out", str(tmp_path / "i.ach"), "--json"))
    assert (paid["entries"], paid["total_cents"], paid["held"]) == (1, 3000, 0)
    assert (tmp_path / "i.ach").exists()
    assert SettlementRun.objects.get().status == "paid"
    text = _call("settle", "--kind", "risk-pool", "--contract", number, "--period", "2026Q1", "--user", "fin")
    assert "deficit $7.00" in text


def test_refusals(ipa):
    with pytest.raises(CommandError, match="no contract"):
        _call("settle", "--kind", "quality", "--contract", "NOPE", "--period", "2026", "--user", "fin")
    with pytest.raises(CommandError, match="no quality formula"):
        _call(
            "settle",
            "--kind",
            "quality",
            "--contract",
            ipa.contract.number,
            "--period",
            "2026",
            "--user",
            "fin",
        )
    with pytest.raises(CommandError, match="no settlement run"):
        _call("approve", "12345", "--user", "fin2")


def test_formula_versions_from_a_file(ipa, tmp_path):
    params = tmp_path / "withhold.json"
    params.write_text(json.dumps({"measures": [{"measure": "CBP", "weight": 100}],
                                  "tiers": [{"min_score": "70", "percent": "100"}]}))  # fmt: skip
    args = ["formula", "--contract", ipa.contract.number, "--kind", "withhold", "--name", "2026 return",
            "--params", str(params), "--user", "fin"]  # fmt: skip
    result = json.loads(_call(*args, "--from", "2026-01-01", "--to", "2026-12-31", "--json"))
    assert result["valid_to"] == "2026-12-31"
    with pytest.raises(CommandError, match="overlaps"):
        _call(*args, "--from", "2026-06-01")
    params.write_text(json.dumps({"measures": []}))
    with pytest.raises(CommandError, match="non-empty"):
        _call(*args, "--from", "2027-01-01")
    with pytest.raises(CommandError, match="not a date"):
        _call(*args, "--from", "soon")
    assert IncentiveFormula.objects.count() == 1


def test_formula_end_previous(ipa, tmp_path):
    params = tmp_path / "withhold.json"
    params.write_text(json.dumps({"measures": [{"measure": "CBP", "weight": 100}],
                                  "tiers": [{"min_score": "70", "percent": "100"}]}))  # fmt: skip
    args = ["formula", "--contract", ipa.contract.number, "--kind", "withhold", "--name", "2026 return",
            "--params", str(params), "--user", "fin"]  # fmt: skip
    _call(*args, "--from", "2026-01-01")
    with pytest.raises(CommandError, match="nothing changed"):
        _call(*args, "--from", "2026-07-01", "--end-previous")
    params.write_text(json.dumps({"measures": [{"measure": "CBP", "weight": 100}],
                                  "tiers": [{"min_score": "60", "percent": "100"}]}))  # fmt: skip
    result = json.loads(_call(*args, "--from", "2026-07-01", "--end-previous", "--json"))
    first, second = IncentiveFormula.objects.order_by("valid_from")
    assert (first.valid_to, second.pk) == (dt.date(2026, 6, 30), result["formula_id"])
