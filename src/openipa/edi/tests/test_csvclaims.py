"""Claims in CSV: one row per line into the 837 reader's records; each bad claim named by line and column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from openipa.edi.csvclaims import CsvClaimsError, read_claims_csv
from openipa.edi.t837 import Claim837, ClaimProblem

HEADER = "claim_id,line,member_id,billing_npi,billing_tin,place_of_service,service_from,code,modifiers,units,charge,diagnoses\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "claims.csv"
    path.write_text(header + body)
    return path


def test_rows_of_a_claim_become_one_claim_with_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "A1,1,SUN0001,1003000126,234567891,11,2026-05-10,99213,,1,125.00,E11.9:I10\n"
                           "A1,2,SUN0001,1003000126,234567891,11,2026-05-10,93000,26:59,2,40.5,\n"
                           "B7,1,SUN0002,1003000126,234567891,11,2026-05-11,99214,,1,150,J449\n")  # fmt: skip
    a, b = list(read_claims_csv(path))
    assert isinstance(a, Claim837)
    assert isinstance(b, Claim837)
    assert (a.claim_id, a.total_charge_cents, a.place_of_service, a.kind) == (
        "A1",
        16550,
        "11",
        "professional",
    )
    assert [d.code for d in a.diagnoses] == ["E119", "I10"]
    assert [(x.procedure_code, x.modifiers, x.units, x.charge_cents) for x in a.lines] == [
        ("99213", (), Decimal("1"), 12500), ("93000", ("26", "59"), Decimal("2"), 4050)]  # fmt: skip
    assert a.lines[0].service_date == dt.date(2026, 5, 10)
    assert a.billing_provider.tin == "234567891"
    assert b.subscriber.person.member_id == "SUN0002"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("A1,1,SUN0001,1003000126,234567891,11,2026-05-10,99213,,-1,125.00,E119\n", "units", "above zero"),
        ("A1,1,SUN0001,1003000126,234567891,11,2026-13-10,99213,,1,125.00,E119\n", "service_from", "date"),
        ("A1,1,SUN0001,1003000126,234567891,11,2026-05-10,99213,,1,12.345,E119\n", "charge", "decimal"),
        ("A1,1,SUN0001,1003000126,234567891,11,2026-05-10,99213,,1,125.00,\n", "diagnoses", "no diagnosis"),
        ("A1,1,,1003000126,234567891,11,2026-05-10,99213,,1,125.00,E119\n", "member_id", "empty"),
        ("A1,1,SUN0001,1003000126,234567891,,2026-05-10,99213,,1,125.00,E119\n", "place_of_service", "place"),
    ],
)
def test_a_bad_claim_is_named_by_line_and_column_and_the_next_is_read(
    tmp_path: Path, row: str, column: str, message: str
) -> None:
    good = "B7,1,SUN0002,1003000126,234567891,11,2026-05-11,99214,,1,150,J449\n"
    problem, claim = list(read_claims_csv(write(tmp_path, row + good)))
    assert isinstance(problem, ClaimProblem)
    assert (problem.segment_number, problem.segment_id, problem.claim_id) == (2, column, "A1")
    assert message in problem.message
    assert isinstance(claim, Claim837)


def test_a_file_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CsvClaimsError, match="line 1: missing column"):
        list(read_claims_csv(write(tmp_path, "x\n", header="claim_id,member_id\n")))
