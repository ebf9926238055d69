"""Pharmacy claims: NDC normalization, exact paid amounts, reversals, NCPDP names, bad rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.edi.clinical import ClinicalFileError, ClinicalIssue
from openipa.edi.pharmacy import PharmacyClaim, read_pharmacy_claims

DATA = Path(__file__).parent / "data" / "clinical"
HEADER = "claim_id,member_id,ndc,fill_date,days_supply,quantity,pharmacy_npi,paid_amount,claim_status\n"


def claims(out: list[PharmacyClaim | ClinicalIssue]) -> list[PharmacyClaim]:
    return [c for c in out if isinstance(c, PharmacyClaim)]


def test_claims_read() -> None:
    out = list(read_pharmacy_claims(DATA / "pharmacy.csv"))
    good = claims(out)
    assert [(c.claim_id, c.ndc, c.paid_cents, c.status) for c in good] == [
        ("RX1", "00093714656", 1234, "paid"),
        ("RX2", "00093714656", 810, "paid"),
        ("RX2", "00093071456", -810, "reversed"),  # 5-3-2: the product code padded
        ("RX3", "12345678901", 10000, "paid"),  # 5-4-1: the package code padded
    ]
    first = good[0]
    assert (first.fill_date, first.days_supply, first.quantity) == (dt.date(2025, 1, 5), 90, Decimal(90))
    assert (first.prescriber_npi, first.pharmacy_npi) == ("1234567893", "1245319599")
    assert (first.drug_name, first.refill_number) == ("Atorvastatin 40 MG", 0)
    assert first.paid == Decimal("12.34")
    assert first.last_day_covered == dt.date(2025, 4, 4)
    rx3 = good[3]
    assert (rx3.quantity, rx3.prescriber_npi, rx3.refill_number, rx3.fill_date) == (
        Decimal("2.5"),
        "",
        None,
        dt.date(2025, 1, 15),
    )


def test_bad_rows_are_reported_and_the_rest_read() -> None:
    out = list(read_pharmacy_claims(DATA / "pharmacy.csv"))
    found = [(i.where.record_id, i.field) for i in out if isinstance(i, ClinicalIssue)]
    assert found == [
        ("RX4", "ndc"),  # 10 digits without hyphens
        ("RX5", "days_supply"),  # 0
        ("RX6", "quantity"),  # negative
        ("RX7", "pharmacy_npi"),  # check digit
        ("RX8", "paid_amount"),  # a fraction of a cent
        ("RX9", "claim_status"),  # pending
        ("RX10", "paid_amount"),  # an exponent
        ("RX11", "paid_amount"),  # a paid claim with a negative amount
        ("RX12", "ndc"),  # 4-5-1 is not an NDC form
    ]
    first = next(i for i in out if isinstance(i, ClinicalIssue))
    assert str(first).startswith("pharmacy.csv, line 6, id RX4, ndc: error: NDC '1234567890' has 10 digits")


def test_ncpdp_names_pipes_and_sniffing() -> None:
    out = list(read_pharmacy_claims(DATA / "pharmacy_ncpdp.txt", delimiter=None, chunk_size=16))
    assert [(c.claim_id, c.member_id, c.ndc, c.fill_date, c.paid_cents, c.status) for c in claims(out)] == [
        ("N1", "M0003", "00002322730", dt.date(2025, 3, 1), 4567, "paid"),
        ("N1", "M0003", "00002322730", dt.date(2025, 3, 1), 4567, "reversed"),
    ]
    assert len(out) == 2
    # read as commas, the pipe-delimited header is one unknown column
    with pytest.raises(ClinicalFileError, match="unknown column"):
        list(read_pharmacy_claims(DATA / "pharmacy_ncpdp.txt"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (HEADER.replace(",paid_amount", "").encode(), "no paid_amount column"),
        (b"claim_id,member_id\n", "no ndc, fill_date"),
    ],
)
def test_files_refused_whole(content: bytes, message: str) -> None:
    with pytest.raises(ClinicalFileError, match=message):
        list(read_pharmacy_claims(content))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_amounts_round_trip_exactly(cents: int) -> None:
    sign = "-" if cents < 0 else ""
    text = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
    status = "reversed" if cents < 0 else "paid"
    row = f"C1,M1,0002-3227-30,2025-01-01,30,30,1245319599,{text},{status}\n"
    (claim,) = list(read_pharmacy_claims((HEADER + row).encode()))
    assert isinstance(claim, PharmacyClaim)
    assert claim.paid_cents == cents
    assert claim.paid == Decimal(text)


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(ClinicalFileError, match="cannot be read") as exc:
        list(read_pharmacy_claims(tmp_path / "missing.csv"))
    assert "missing.csv" in str(exc.value)
