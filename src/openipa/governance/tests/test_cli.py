"""`openipa governance meetings` and `openipa governance participation` on the fixture's board."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openipa.governance import services
from openipa.governance.tests.conftest import attend

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("governance", *args, stdout=out)
    return out.getvalue()


def test_meetings_and_participation(gov: Any) -> None:
    admin = gov.users["admin"]
    rows = attend(gov, gov.meeting, present=[1, 2])  # 2 of 5: no quorum
    services.motion_move(
        actor=admin, meeting=gov.meeting, text="Adjourn", moved_by=rows[1], seconded_by=rows[2]
    )
    data = json.loads(_run("meetings", "--year", "2026", "--json"))
    [row] = data["meetings"]
    assert row["title"] == "Board meeting, March 2026"
    assert (row["body"], row["status"], row["present"], row["quorum_required"], row["quorum_met"]) == (
        "BOARD", "held", 2, 3, False,
    )  # fmt: skip
    assert (row["motions"], row["carried"], row["minutes"]) == (1, 0, "none")
    assert row["starts_at"] == "2026-03-10T18:00-07:00"
    assert "NO QUORUM" in _run("meetings")
    assert json.loads(_run("meetings", "--year", "2025", "--json")) == {"meetings": []}
    assert json.loads(_run("meetings", "--body", "members", "--json")) == {"meetings": []}
    with pytest.raises(CommandError, match="no body"):
        _run("meetings", "--body", "NOPE")
    report = json.loads(_run("participation", "--year", "2026", "--json"))
    by = {r["practice"]: r for r in report["practices"]}
    assert report["meetings_held"] == 1
    assert (
        by["ALDER"]["meetings_entitled"],
        by["ALDER"]["meetings_attended"],
        by["ALDER"]["board_seats"],
    ) == (1, 1, 2)
    assert (by["BIRCH"]["meetings_entitled"], by["BIRCH"]["meetings_attended"]) == (1, 1)
    assert "ALDER" in _run("participation", "--year", "2026")
    with pytest.raises(CommandError, match="plausible"):
        _run("participation", "--year", "20")
