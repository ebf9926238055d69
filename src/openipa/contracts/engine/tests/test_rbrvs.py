"""The CMS fee schedule file readers on small made-up files in CMS's layouts, good and bad."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from openipa.contracts.engine.rbrvs import (
    GPCI_SCHEMA,
    RVU_SCHEMA,
    ScheduleFileError,
    read_gpci_file,
    read_rvu_file,
)

DATA = Path(__file__).resolve().parents[3] / "claims" / "engine" / "tests" / "data"  # shared with pricing
RVU_HEADER = (
    "HCPCS,MOD,DESCRIPTION,CODE STATUS,PAYMENT POLICY INDICATOR,WORK RVU,NON-FAC PE RVU,NON-FAC NA INDICATOR,"
    "FACILITY PE RVU,FACILITY NA INDICATOR,MP RVU,NON-FACILITY TOTAL,FACILITY TOTAL,PCTC IND,GLOB DAYS,PRE OP,"
    "INTRA OP,POST OP,MULT PROC,BILAT SURG,ASST SURG,CO-SURG,TEAM SURG,ENDO BASE,CONV FACTOR"
)
GPCI_HEADER = (
    "Medicare Administrative Contractor (MAC),State,Locality Number,Locality Name,"
    "2027 PW GPCI (with 1.0 Floor),2027 PE GPCI,2027 MP GPCI"
)


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_rvu_fixture_reads_exact_scaled_values() -> None:
    jan = dt.date(2026, 1, 1)
    rvus = read_rvu_file(DATA / "PPRRVU_TEST.csv", valid_from=jan)
    assert rvus.schema == RVU_SCHEMA
    assert "description" not in [c.lower() for c in rvus.columns]
    assert rvus.height == 7  # the blank line and the note under the table are skipped
    row = rvus.filter(code="99213").row(0, named=True)
    assert row == {
        "code": "99213",
        "modifier": "",
        "status": "A",
        "work_rvu_centi": 130,
        "pe_nonfacility_rvu_centi": 120,
        "pe_facility_rvu_centi": 55,
        "mp_rvu_centi": 10,
        "pctc": 0,
        "global_days": "XXX",
        "mult_proc": 0,
        "bilat_surg": 0,
        "conversion_factor_e4": 334009,
        "valid_from": jan,
        "valid_to": None,
    }
    assert sorted(rvus.filter(code="93000")["modifier"].to_list()) == ["", "26", "TC"]
    surgery = rvus.filter(code="64721").row(0, named=True)
    assert (surgery["mult_proc"], surgery["bilat_surg"], surgery["global_days"]) == (2, 1, "090")


def test_gpci_fixture_reads_locality_ids_and_year_titles() -> None:
    gpci = read_gpci_file(DATA / "GPCI_TEST.csv")
    assert gpci.schema == GPCI_SCHEMA
    la = gpci.filter(locality_id="0118218").row(0, named=True)
    assert (la["state"], la["locality_name"]) == ("CA", "TEST LOS ANGELES")
    assert (la["pw_gpci_milli"], la["pe_gpci_milli"], la["mp_gpci_milli"]) == (1045, 1185, 724)
    assert gpci.filter(locality_id="1011200").height == 1  # MAC 10112 + locality 00


def test_gpci_other_year_and_short_mac(tmp_path: Path) -> None:
    path = write(tmp_path, f"title\n{GPCI_HEADER}\n1112,WA,2,TEST SEATTLE,1.012,1.100,0.900\n")
    gpci = read_gpci_file(path)
    assert gpci["locality_id"].to_list() == ["0111202"]


def test_rvu_header_split_over_two_lines(tmp_path: Path) -> None:
    text = (
        "title line\n"
        "HCPCS,MOD,DESCRIPTION,CODE,WORK,NON-FAC,FACILITY,MP,PCTC,GLOB,MULT,BILAT\n"
        ",,,STATUS,RVU,PE RVU,PE RVU,RVU,IND,DAYS,PROC,SURG\n"
        "99213,,x,A,1.30,1.20,0.55,0.10,0,XXX,0,0\n"
    )
    rvus = read_rvu_file(write(tmp_path, text))
    assert rvus.row(0, named=True)["pe_facility_rvu_centi"] == 55
    assert rvus.row(0, named=True)["conversion_factor_e4"] is None  # no CONV FACTOR column


def test_rvu_missing_column_named(tmp_path: Path) -> None:
    header = RVU_HEADER.replace("MP RVU,", "")
    with pytest.raises(ScheduleFileError, match=r"f\.csv: line 2: header row lacks column\(s\) MP RVU"):
        read_rvu_file(write(tmp_path, f"title\n{header}\n"))


def test_rvu_non_numeric_value_names_file_line_column(tmp_path: Path) -> None:
    good = "99213,,x,A,,1.30,1.20,,0.55,,0.10,2.60,1.95,0,XXX,0,0,0,0,0,0,0,0,,33.4009"
    bad = good.replace("1.30", "1.3O")
    with pytest.raises(ScheduleFileError, match=r"f\.csv: line 4: column WORK RVU: not a number: '1\.3O'"):
        read_rvu_file(write(tmp_path, f"t\n{RVU_HEADER}\n{good.replace('99213', '99214')}\n{bad}\n"))


def test_rvu_too_many_decimals_and_duplicates(tmp_path: Path) -> None:
    good = "99213,,x,A,,1.30,1.20,,0.55,,0.10,2.60,1.95,0,XXX,0,0,0,0,0,0,0,0,,33.4009"
    with pytest.raises(
        ScheduleFileError, match=r"line 2: column MP RVU: 0\.105 has more than 2 decimal places"
    ):
        read_rvu_file(write(tmp_path, f"{RVU_HEADER}\n{good.replace('0.10', '0.105')}\n"))
    with pytest.raises(
        ScheduleFileError, match=r"line 3: column HCPCS: 99213 \(no modifier\) repeats line 2"
    ):
        read_rvu_file(write(tmp_path, f"{RVU_HEADER}\n{good}\n{good}\n"))
    with pytest.raises(ScheduleFileError, match="column MULT PROC: not an indicator digit"):
        read_rvu_file(
            write(tmp_path, f"{RVU_HEADER}\n{good.replace(',0,0,0,0,0,0,0,0,', ',0,0,0,x,0,0,0,0,')}\n")
        )


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ScheduleFileError, match="no header row with a HCPCS column"):
        read_rvu_file(write(tmp_path, "just,a,file\n1,2,3\n"))
    with pytest.raises(ScheduleFileError, match="no data rows"):
        read_rvu_file(write(tmp_path, f"{RVU_HEADER}\n"))
    with pytest.raises(ScheduleFileError, match="cannot read"):
        read_rvu_file(tmp_path / "absent.csv")
    with pytest.raises(ScheduleFileError, match="line 3: column PE GPCI: not a number"):
        read_gpci_file(write(tmp_path, f"t\n{GPCI_HEADER}\n01182,CA,18,LA,1.045,n/a,0.724\n"))
    with pytest.raises(
        ScheduleFileError, match="line 3: column Locality Number: locality 0118218 repeats line 2"
    ):
        read_gpci_file(write(tmp_path, f"{GPCI_HEADER}\n01182,CA,18,LA,1,1,1\n01182,CA,18,LA,1,1,1\n"))
    with pytest.raises(ScheduleFileError, match=r"header row lacks column\(s\) PE GPCI"):
        read_gpci_file(write(tmp_path, GPCI_HEADER.replace("2027 PE GPCI,", "") + "\n"))
