"""Code edits: NCCI-style procedure-to-procedure pairs and medically unlikely edits, on hand-made tables, with
the CSV readers on good and bad files and a property (findings do not depend on line order)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.claims.engine.edits import (
    EDIT_LINE_SCHEMA,
    FINDING_SCHEMA,
    MUE_SCHEMA,
    PTP_SCHEMA,
    EngineInputError,
    ScheduleFileError,
    mue_edits,
    ptp_edits,
    read_mue_csv,
    read_ptp_csv,
)

DATA = Path(__file__).parent / "data"
DOS = dt.date(2026, 3, 2)
PAIRS = read_ptp_csv(DATA / "ptp_test.csv")
MUES = read_mue_csv(DATA / "mue_test.csv")
Row = dict[str, Any]


def line(
    line_id: int, code: str, *modifiers: str, units: int = 1, claim: int = 1, date: dt.date = DOS
) -> Row:
    return {
        "line_id": line_id,
        "claim_id": claim,
        "service_date": date,
        "code": code,
        "modifiers": list(modifiers),
        "units": units,
    }


def frame(lines: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(lines, schema=EDIT_LINE_SCHEMA)


def outcomes(findings: pl.DataFrame) -> list[tuple[int, str, int]]:
    assert findings.schema == FINDING_SCHEMA
    return [(r["line_id"], r["outcome"], r["denied_units"]) for r in findings.iter_rows(named=True)]


def test_readers_on_fixtures() -> None:
    assert PAIRS.schema == PTP_SCHEMA
    assert MUES.schema == MUE_SCHEMA
    # deletion date 2026-03-01 -> the pair applies through 2026-02-28; "*" and empty mean still in force
    assert PAIRS["valid_to"].to_list() == [None, None, dt.date(2026, 2, 28), None]
    assert PAIRS["modifier_indicator"].to_list() == [1, 0, 1, 9]
    assert MUES.filter(code="64721").row(0, named=True)["valid_to"] == dt.date(2026, 12, 31)


def test_indicator_0_denies_the_column_2_line_whatever_the_modifiers() -> None:
    # 99213 + 93000 with indicator 0: 93000 (column 2) is denied even with 59; 99213 is not touched.
    findings = ptp_edits(frame([line(1, "99213", "25"), line(2, "93000", "59")]), PAIRS)
    assert outcomes(findings) == [(2, "deny", 1)]
    row = findings.row(0, named=True)
    assert (row["rule"], row["carc"], row["rarc"]) == ("ncci_ptp", "97", "M15")
    assert (
        row["message"]
        == "93000 is a column-2 code of 99213 (line 1); modifier indicator 0: never paid together"
    )


def test_indicator_1_bypassed_by_a_modifier_on_either_line() -> None:
    # 64721 + 20610, indicator 1: no modifier -> deny; 59 on the column-2 line or XS on the column-1 line -> ok.
    assert outcomes(ptp_edits(frame([line(1, "64721"), line(2, "20610", units=2)]), PAIRS)) == [
        (2, "deny", 2)
    ]
    ok = ptp_edits(frame([line(1, "64721"), line(2, "20610", "59")]), PAIRS)
    assert outcomes(ok) == [(2, "ok", 0)]
    assert ok["message"][0] == "20610 with 64721 (line 1) allowed by modifier 59"
    assert ok["carc"][0] is None
    assert outcomes(ptp_edits(frame([line(1, "64721", "XS"), line(2, "20610")]), PAIRS)) == [(2, "ok", 0)]
    # With a narrower bypass list, XS no longer bypasses.
    narrow = ptp_edits(frame([line(1, "64721", "XS"), line(2, "20610")]), PAIRS, bypass_modifiers={"59"})
    assert outcomes(narrow) == [(2, "deny", 1)]


def test_indicator_9_dates_claims_and_other_dates_do_not_apply() -> None:
    lines = [
        line(1, "99213"),
        line(2, "64721"),  # 99213/64721 has indicator 9: not applicable
        line(3, "93000", claim=2),  # another claim
        line(4, "93000", date=dt.date(2026, 3, 3)),  # another date
        line(5, "20610", date=dt.date(2026, 3, 3)),
        line(6, "99213", date=dt.date(2026, 3, 3)),  # 20610/99213 was deleted 2026-03-01
    ]
    findings = ptp_edits(frame(lines), PAIRS)
    assert outcomes(findings) == [(4, "deny", 1)]  # 99213 (line 6) with 93000 (line 4), same claim and date
    before = ptp_edits(
        frame([line(1, "20610", date=dt.date(2026, 2, 28)), line(2, "99213", date=dt.date(2026, 2, 28))]),
        PAIRS,
    )
    assert outcomes(before) == [(2, "deny", 1)]  # the last day the 20610/99213 pair applies


def test_custom_reason_codes() -> None:
    findings = ptp_edits(frame([line(1, "99213"), line(2, "93000")]), PAIRS, carc="236", rarc="M80")
    assert (findings["carc"][0], findings["rarc"][0]) == ("236", "M80")


def test_mue_line_edit_and_date_of_service_edit() -> None:
    # 64721 MAI 1, max 1: a 2-unit line denies 1 unit; a second 1-unit line the same day is fine (line edit).
    # 20610 MAI 2, max 2: lines of 1 + 2 units on one day = 3, 1 unit over: taken from the last line (5).
    # 99213 MAI 3, max 1: one unit, ok.
    lines = [
        line(1, "64721", units=2),
        line(2, "64721"),
        line(3, "20610"),
        line(5, "20610", units=2),
        line(6, "99213"),
    ]
    findings = mue_edits(frame(lines), MUES)
    assert outcomes(findings) == [(1, "deny", 1), (2, "ok", 0), (3, "ok", 0), (5, "deny", 1), (6, "ok", 0)]
    assert (findings["carc"][0], findings["rarc"][0]) == ("151", "N362")
    assert findings["message"][3] == (
        "20610: 3 unit(s) on the date of service against a maximum of 2 (MAI 2); 1 unit(s) denied on this line"
    )


def test_mue_excess_spans_lines_and_whole_line_option() -> None:
    # 20610 max 2 per day: 2 + 1 + 2 = 5 units, 3 over: line 9 loses 2, line 8 loses 1, line 7 keeps its 2.
    lines = [
        line(7, "20610", units=2),
        line(8, "20610"),
        line(9, "20610", units=2),
        line(10, "20610", claim=2),
    ]
    assert outcomes(mue_edits(frame(lines), MUES)) == [
        (7, "ok", 0),
        (8, "deny", 1),
        (9, "deny", 2),
        (10, "ok", 0),
    ]
    whole = mue_edits(frame(lines), MUES, deny_whole_line=True)
    assert outcomes(whole) == [(7, "deny", 2), (8, "deny", 1), (9, "deny", 2), (10, "ok", 0)]


def test_mue_effective_dating_and_codes_without_mue() -> None:
    # The 64721 MUE ends 2026-12-31; 93000 has none: no findings for either.
    lines = [line(1, "64721", units=5, date=dt.date(2027, 1, 4)), line(2, "93000", units=9)]
    assert mue_edits(frame(lines), MUES).height == 0


def test_edit_input_errors() -> None:
    with pytest.raises(EngineInputError, match="lines: units must be at least 1: line_id 1"):
        mue_edits(frame([line(1, "99213", units=0)]), MUES)
    with pytest.raises(EngineInputError, match="mues: more than one version in force"):
        mue_edits(frame([line(1, "99213")]), pl.concat([MUES, MUES]))
    bad = PAIRS.with_columns(modifier_indicator=pl.lit(2, dtype=pl.Int8))
    with pytest.raises(EngineInputError, match="ptp_pairs: modifier_indicator must be 0, 1 or 9"):
        ptp_edits(frame([line(1, "99213")]), bad)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


def test_reader_errors_name_file_line_column(tmp_path: Path) -> None:
    header = "column1,column2,effective_date,deletion_date,modifier_indicator\n"
    with pytest.raises(
        ScheduleFileError, match=r"t\.csv: line 3: column modifier_indicator: must be 0, 1 or 9"
    ):
        read_ptp_csv(write(tmp_path, header + "1,2,2020-01-01,,0\n1,3,2020-01-01,,5\n"))
    with pytest.raises(ScheduleFileError, match="line 2: column effective_date: not a date: '2020-13-01'"):
        read_ptp_csv(write(tmp_path, header + "1,2,2020-13-01,,0\n"))
    with pytest.raises(ScheduleFileError, match=r"line 1: missing column\(s\) modifier_indicator"):
        read_ptp_csv(write(tmp_path, "column1,column2,effective_date,deletion_date\n"))
    mue_header = "code,max_units,mai,valid_from,valid_to\n"
    with pytest.raises(ScheduleFileError, match="line 2: column max_units: not a whole number: 'two'"):
        read_mue_csv(write(tmp_path, mue_header + "20610,two,2,,\n"))
    with pytest.raises(ScheduleFileError, match="line 2: column mai: must be 1, 2 or 3"):
        read_mue_csv(write(tmp_path, mue_header + "20610,2,4,,\n"))
    with pytest.raises(ScheduleFileError, match="cannot read"):
        read_mue_csv(tmp_path / "absent.csv")


@settings(max_examples=40, deadline=None)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(["99213", "93000", "20610", "64721"]),
            st.sampled_from([[], ["59"], ["25"]]),
            st.integers(1, 4),
            st.integers(1, 2),
        ),
        min_size=1,
        max_size=8,
    ),
    seed=st.integers(0, 1000),
)
def test_property_findings_do_not_depend_on_line_order(
    specs: list[tuple[str, list[str], int, int]], seed: int
) -> None:
    lines = [
        line(i, code, *mods, units=units, claim=claim) for i, (code, mods, units, claim) in enumerate(specs)
    ]
    shuffled = lines[:]
    random.Random(seed).shuffle(shuffled)

    def ptp(f: pl.DataFrame) -> pl.DataFrame:
        return ptp_edits(f, PAIRS)

    def mue(f: pl.DataFrame) -> pl.DataFrame:
        return mue_edits(f, MUES)

    for edit in (ptp, mue):
        first, second = edit(frame(lines)), edit(frame(shuffled))
        assert first.equals(second)
        assert all(d >= 0 for d in first["denied_units"].to_list())
    # MUE denies exactly the units above the maximum: per line for MAI 1, per claim, date and code for MAI 2/3.
    findings = mue(frame(lines)).join(frame(lines), on="line_id").join(MUES, on="code")
    per_line = findings.filter(pl.col("mai") == 1)
    assert (per_line["denied_units"] == (per_line["units"] - per_line["max_units"]).clip(0)).all()
    per_day = (
        findings.filter(pl.col("mai") != 1)
        .group_by("claim_id", "service_date", "code")
        .agg(pl.col("denied_units").sum(), pl.col("units").sum(), pl.col("max_units").first())
    )
    assert (per_day["denied_units"] == (per_day["units"] - per_day["max_units"]).clip(0)).all()
