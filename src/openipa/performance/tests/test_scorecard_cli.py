"""`openipa scorecard`: a practice's and a PCP's scorecard as text and JSON, as staff or as a user with its
scope, and its refusals."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from openipa.conftest import SmallIpa

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("scorecard", *args, stdout=out)
    return out.getvalue()


def test_the_practice_scorecard_as_json(scorecard_ipa: SmallIpa) -> None:
    doc = json.loads(_run("--practice", "ALDER", "--period", "2026-Q1", "--json"))
    metrics = {m["key"]: m for m in doc["metrics"]}
    assert (doc["member_months"], doc["claims_cents"], doc["capitation_cents"]) == (3, 30_000, 18_000)
    assert metrics["risk_adjusted_cost_pmpm"]["value"] == "106.67"
    assert metrics["risk_adjusted_cost_pmpm"]["peers"]["units"] == 2  # staff: over every practice
    assert doc["sources"]["quality_run"] is not None


def test_the_pcp_scorecard_as_text(scorecard_ipa: SmallIpa) -> None:
    text = _run("--practice", "ALDER", "--period", "2026-Q1", "--pcp", scorecard_ipa.pcp_a.npi)
    assert "Risk-adjusted cost PMPM" in text
    assert "106.67" in text


def test_as_a_practice_user_the_scope_holds(scorecard_ipa: SmallIpa) -> None:
    doc = json.loads(_run("--practice", "ALDER", "--period", "2026-Q1", "--user", "alice", "--json"))
    assert all(m["peers"] is None for m in doc["metrics"])  # K = 2, one other practice
    with pytest.raises(CommandError, match="not found"):
        _run("--practice", "BIRCH", "--period", "2026-Q1", "--user", "alice")
    with pytest.raises(CommandError, match="not a PCP of"):
        _run("--practice", "ALDER", "--period", "2026-Q1", "--pcp", scorecard_ipa.pcp_b.npi)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--practice", "NOPE", "--period", "2026-Q1"], "no practice"),
     (["--practice", "ALDER", "--period", "2026-Q7"], "--period"),
     (["--practice", "ALDER", "--period", "2026-Q1", "--pcp", "0000000000"], "no provider"),
     (["--practice", "ALDER", "--period", "2026-Q1", "--user", "ghost"], "no active user"),
     (["--practice", "ALDER", "--period", "2026-Q1", "--user", "messenger"], "not allowed")],
)  # fmt: skip
def test_refusals(scorecard_ipa: SmallIpa, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)
