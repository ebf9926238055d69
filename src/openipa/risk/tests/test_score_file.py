"""`openipa risk score-file`: scores a CSV without the database (no django_db mark: any query would fail
these tests), checks the whole file first and writes nothing for a bad one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.risk.engine.beneficiary_file import BeneficiaryFileError, parse_beneficiaries

HEADER = "member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes\n"
GOOD = HEADER + (
    "A1,1950-03-01,F,0,00,E11.9 I50.9 J44.1\n"
    "A2,1970-01-15,M,1,02,F20.9 E1122 N184\n"
    "A3,1940-01-01,F,1,03,\n"
    "A4,1950-03-01,F,0,00,e11.9  E1122\n"
)


def run(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str, Path]:
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("risk", "score-file", str(src), "--out", str(out), *args, stdout=stdout, stderr=stderr)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, stdout.getvalue(), stderr.getvalue(), out


def test_scores_a_file(tmp_path: Path):
    code, stdout, _, out = run(tmp_path, GOOD, "--year", "2026", "--model", "V28")
    assert code == 0
    assert "4 members scored with V28 for 2026" in stdout
    assert out.read_text().splitlines() == [
        "member_id,raf,payment_raf,hccs",
        "A1,1.500,1.323,38 226 280",
        "A2,1.720,1.517,37 151 327",
        "A3,0.721,0.636,",
        "A4,0.631,0.556,37",
    ]


def test_model_defaults_to_v28_and_2025_blends(tmp_path: Path):
    code, _, _, out = run(tmp_path, HEADER + "A1,1950-03-01,F,0,00,E11.9 I50.9\n", "--year", "2025")
    assert code == 0
    assert out.read_text().splitlines()[1] == "A1,1.033,0.878,38 226"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("A1,1950-13-01,F,0,00,\n", "line 3, column date_of_birth: '1950-13-01' is not a date YYYY-MM-DD"),
        ("A1,2026-02-02,F,0,00,\n", "line 3, column date_of_birth: '2026-02-02' is after February 1, 2026"),
        ("A1,1950-03-01,X,0,00,\n", "line 3, column sex: 'X' must be M or F"),
        ("A1,1950-03-01,F,4,00,\n", "line 3, column orec: '4' must be 0, 1, 2 or 3"),
        ("A1,1950-03-01,F,0,Y,\n", "line 3, column medicaid: 'Y' must be a dual status code 00-10"),
        (
            "A1,1950-03-01,F,0,00,E11.9 I5$\n",
            "line 3, column diagnosis_codes: 'I5$' is not an ICD-10-CM code",
        ),
        (",1950-03-01,F,0,00,\n", "line 3, column member_id: '' is empty"),
        ("A1,1950-03-01,F,0,00,\nA1,1950-03-01,F,0,00,\n", "line 3, column member_id: 'A1' appears twice"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_written(tmp_path: Path, body: str, message: str):
    code, _, stderr, out = run(tmp_path, HEADER + "A0,1950-03-01,F,0,00,E11.9\n" + body, "--year", "2026")
    assert code == 1
    assert f"in.csv, {message}" in stderr.replace(str(tmp_path) + "/", "")
    assert not out.exists()


def test_every_problem_of_the_file_is_reported(tmp_path: Path):
    code, _, stderr, out = run(
        tmp_path, HEADER + "A1,1950-13-01,X,0,00,\nA2,1950-03-01,F,7,2,Q\n", "--year", "2026"
    )
    assert code == 1
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert [line.split(", ", 1)[1] for line in lines] == [
        "line 2, column date_of_birth: '1950-13-01' is not a date YYYY-MM-DD",
        "line 2, column sex: 'X' must be M or F",
        "line 3, column orec: '7' must be 0, 1, 2 or 3",
        "line 3, column medicaid: '2' must be a dual status code 00-10",
        "line 3, column diagnosis_codes: 'Q' is not an ICD-10-CM code",
    ]
    assert not out.exists()


def test_wrong_header_and_ragged_rows(tmp_path: Path):
    code, _, stderr, out = run(tmp_path, "member,dob\nA1,1950-03-01\n", "--year", "2026")
    assert (code, out.exists()) == (1, False)
    assert (
        "line 1: the header must be exactly member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes"
        in stderr
    )
    code, _, stderr, _ = run(tmp_path, HEADER + "A1,1950-03-01,F,0,00,E119,extra\n", "--year", "2026")
    assert code == 1
    assert "not a CSV of 6 columns" in stderr


def test_a_year_without_payment_factors_or_a_model_outside_the_blend_is_refused(tmp_path: Path):
    code, _, stderr, out = run(tmp_path, GOOD, "--year", "2027")
    assert (code, out.exists()) == (1, False)
    assert "2027: no normalization factor on file for V28" in stderr
    code, _, stderr, _ = run(tmp_path, GOOD, "--year", "2026", "--model", "V24")
    assert code == 1
    assert "V24 is not a payment model in 2026" in stderr


def test_missing_input_file(tmp_path: Path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("risk", "score-file", str(tmp_path / "nope.csv"), "--year", "2026", "--out", "x.csv")


def test_parser_returns_the_engine_frame_and_rejects_undecodable_bytes():
    frame = parse_beneficiaries(GOOD.encode(), "in.csv", 2026)
    assert frame.columns == ["member_id", "date_of_birth", "sex", "orec", "medicaid", "diagnosis_codes"]
    assert frame["diagnosis_codes"].to_list()[3] == ["e11.9", "E1122"]
    assert frame["diagnosis_codes"].to_list()[2] == []
    with pytest.raises(BeneficiaryFileError, match="line 1: the header"):
        parse_beneficiaries(b"", "empty.csv", 2026)
    with pytest.raises(UnicodeDecodeError):
        parse_beneficiaries(HEADER.encode() + b"A1,1950-03-01,F,0,00,\xff\n", "in.csv", 2026)
