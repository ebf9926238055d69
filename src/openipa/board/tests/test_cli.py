"""``openipa board``: the same figures as the page, as text and as JSON; bad input refused."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_json_has_the_golden_figures(board_ipa: Any) -> None:
    out = StringIO()
    call_command("board", "--period", "2026-Q2", "--as-of", "2026-07-15", "--json", stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["period"] == "2026-Q2"
    assert doc["total"]["revenue_cents"] == 571_000
    assert doc["total"]["medical_cost_cents"] == 505_000
    assert doc["total"]["mlr"] == "0.8844"
    assert doc["lines_of_business"]["medicare_advantage"]["revenue_pmpm_cents"] == 75_132
    assert doc["lines_of_business"]["commercial"]["cost_pmpm_cents"] == 11_667
    assert doc["rbo"]["cash_to_claims"] == {
        "light": "green", "value": "3.5187", "thresholds": "green >= 0.75, amber >= 0.65",
        "arithmetic": "$9,000.00 / ($2,000.00 + $557.77) = 3.5187",
    }  # fmt: skip
    assert doc["rbo"]["claims_timeliness"]["light"] == "red"
    assert doc["reserve"]["ibnr_cents"] == 55_777
    assert doc["reserve"]["method"] == "volume_weighted"
    assert doc["cost_drivers"]["paid_cents"] == 380_000
    assert doc["quality"]["measures"][0]["percents"] == ["50.0", "60.0"]


def test_text_output(board_ipa: Any) -> None:
    out = StringIO()
    call_command("board", "--period", "2026-Q2", "--as-of", "2026-07-15", stdout=out)
    text = out.getvalue()
    assert "Medicare Advantage" in text
    assert "$4,507.89" in text
    assert "[green] Cash-to-claims ratio" in text
    assert "[  red] Claims decided within 45 working days" in text
    assert "21 Inpatient hospital" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--period", "2026-Q9"], "--period"), (["--as-of", "15/07/2026"], "--as-of")],
)
def test_bad_input_is_refused(board_ipa: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("board", *args, stdout=StringIO())
