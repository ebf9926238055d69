"""An IPA's own payment-factors file (OPENIPA_PAYMENT_FACTORS): its rows replace the shipped rows of the same
payment year and model, or add a factor the release does not ship (2027's CMS-HCC normalization factor, say),
and a risk run records where each factor came from. A bad file is refused naming the file, line and field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from openipa.risk.engine import tables
from openipa.risk.engine.score import score
from openipa.risk.engine.tables import TableError

HEADER = "payment_year,model,blend_weight,normalization_factor,coding_adjustment,status,source\n"
# the shipped 2027 V28 row has no normalization factor (status missing): payment scores are refused
ROW_2027 = (
    '2027,V28,1.00,1.100,0.059,cms,"Read by the IPA in the CY 2027 Rate Announcement (example value)"\n'
)


@pytest.fixture
def own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "factors.csv"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(tables.FACTORS_ENV, str(path))
        factors = tables._all_payment_factors.__wrapped__()
        monkeypatch.setattr(tables, "_all_payment_factors", lambda: factors)
        return path

    return write


def _member() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "member_id": ["m1"],
            "date_of_birth": [dt.date(1950, 3, 4)],
            "sex": ["F"],
            "orec": ["0"],
            "medicaid": ["00"],
            "diagnosis_codes": [["E119"]],
        }
    )


def test_without_the_file_2027_payment_scores_are_refused() -> None:
    with pytest.raises(TableError, match="2027"):
        score(_member(), 2027, "V28")


def test_the_ipa_factor_gives_2027_payment_scores_and_says_where_it_came_from(
    own_file: Callable[[str], Path],
) -> None:
    path = own_file(HEADER + ROW_2027)
    [factor] = tables.payment_factors(2027, "CMS-HCC")
    assert (factor.normalization_factor, factor.status, factor.origin) == (1100, "cms", str(path))
    # other years stay as shipped
    assert {f.origin for f in tables.payment_factors(2026)} == {"payment_factors.csv"}
    got = score(_member(), 2027, "V28").members
    raw = got["raf"][0]
    # payment RAF = raw / 1.100, rounded to thousandths, x (1 - 0.059), rounded half away from zero
    normalized = round(raw / 1100 * 1000)
    assert got["payment_raf"][0] == round(normalized * 941 / 1000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("payment_year,model\n2027,V28\n", r"factors.csv: line 1: missing column\(s\) blend_weight"),
        (HEADER + ROW_2027.replace("1.100", "abc"), r"factors.csv, line 2, field 'normalization_factor'"),
        (HEADER + ROW_2027 + ROW_2027, "factors.csv: payment year 2027 model V28 listed twice"),
        (HEADER + ROW_2027.replace("1.00,1.100", "0.50,1.100"), r"factors.csv: the blend weights of 2027"),
    ],
)
def test_a_bad_ipa_file_is_refused_naming_the_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    path = tmp_path / "factors.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(tables.FACTORS_ENV, str(path))
    with pytest.raises(TableError, match=message):
        tables._all_payment_factors.__wrapped__()


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tables.FACTORS_ENV, str(tmp_path / "nowhere.csv"))
    with pytest.raises(TableError, match=r"OPENIPA_PAYMENT_FACTORS=.*nowhere\.csv: cannot be read"):
        tables._all_payment_factors.__wrapped__()
