"""CSV rosters: a payer's flat file read into the same records as an 834; errors; the profile; fuzzing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.core.identifiers import generate_npi
from openipa.edi import csvroster
from openipa.edi.csvroster import TARGETS, CsvProfile, read_csv_roster
from openipa.edi.t834 import (
    Coverage,
    Enrollment834,
    MemberRecord,
    Party,
    PcpChoice,
    ReportingCategory,
)
from openipa.edi.tests.helpers import mutate
from openipa.edi.x12 import X12Error
from openipa.edi.x12.reader import Source

NPI = generate_npi(random.Random(1))
BAD_NPI = NPI[:-1] + str((int(NPI[-1]) + 1) % 10)
MBI = "1EG4-TE5-MK73"

# -- a realistic payer file --------------------------------------------------------------------------------

GOOD_PLAN = CsvProfile(
    columns={
        "member_id": "Member ID",
        "subscriber_id": "Subscriber ID",
        "mbi": "MBI",
        "last_name": "Last Name",
        "first_name": "First Name",
        "middle_name": "MI",
        "birth_date": "DOB",
        "sex": "Gender",
        "address_line1": "Address 1",
        "address_line2": "Address 2",
        "city": "City",
        "state": "State",
        "zip": "Zip",
        "plan_code": "Product",
        "coverage_begin": "Eff Date",
        "coverage_end": "Term Date",
        "pcp_npi": "PCP NPI",
        "pcp_name": "PCP Name",
        "pcp_begin": "PCP Eff Date",
        "maintenance": "Action",
        "reason": "Reason",
        "relationship": "Rel",
        "rate_cell": "Rate Cell",
        "aid_code": "Aid Code",
    },
    sex_values={"Female": "F", "Male": "M"},
    maintenance_values={"A": "021", "C": "001", "T": "024", "R": "025"},
    relationship_values={"Self": "18", "Spouse": "01", "Child": "19"},
)

HEADER = (
    "Member ID,Subscriber ID,MBI,Last Name,First Name,MI,DOB,Gender,Address 1,Address 2,City,State,Zip,"
    "Product,Eff Date,Term Date,PCP NPI,PCP Name,PCP Eff Date,Action,Reason,Rel,Rate Cell,Aid Code"
)
ROWS = [
    f'M0001,S0001,{MBI},DOE,JANE,Q,1980-02-03,Female,1 MAIN ST,"APT 4, BLDG B",SPRINGFIELD,IL,62701,'
    f"HMO-GOLD,2024-01-01,2024-12-31,{NPI},SMITH JOHN MD,2024-01-01,A,28,Self,RC12,1H",
    "M0002,S0001,,DOE,JOHN,,2015-07-04,M,1 MAIN ST,,SPRINGFIELD,IL,62701,HMO-GOLD,2024-01-01,,,,,,,Child,,",
    "M0003,M0003,,ROE,RICHARD,,1950-12-05,male,22 OAK AVE,,SHELBYVILLE,IL,62565,MA-PPO,2023-06-01,2024-03-31,,,,t,07,,RC40,",
]
CSV = ("\ufeff" + HEADER + "\r\n" + "\r\n".join(ROWS) + "\r\n\r\n,,,\r\n\r\n").encode()


def records(
    data: Source, profile: CsvProfile = GOOD_PLAN, **kwargs: Any
) -> list[Enrollment834 | MemberRecord]:
    return list(read_csv_roster(data, profile, **kwargs))


def read(
    data: Source, profile: CsvProfile = GOOD_PLAN, **kwargs: Any
) -> tuple[Enrollment834, list[MemberRecord]]:
    """The header and the members, checked to come in that order."""
    header, *rest = records(data, profile, **kwargs)
    assert isinstance(header, Enrollment834)
    members = [r for r in rest if isinstance(r, MemberRecord)]
    assert len(members) == len(rest)
    return header, members


def error(data: Source, profile: CsvProfile = GOOD_PLAN, **kwargs) -> X12Error:
    with pytest.raises(X12Error) as info:
        records(data, profile, **kwargs)
    return info.value


def test_a_payer_file_maps_to_member_records():
    header, members = read(
        CSV, filename="goodplan_202402.csv", payer_name="GOOD PLAN", file_date=dt.date(2024, 2, 1)
    )
    assert header == Enrollment834(
        control_number="",
        version="CSV",
        purpose_code="00",
        reference="goodplan_202402.csv",
        created=dt.date(2024, 2, 1),
        action_code="4",
        file_effective_date=dt.date(2024, 2, 1),
        sponsor=None,
        payer=Party("GOOD PLAN", "", ""),
        segment_number=1,
    )
    assert header.action == "verify (full file)"
    assert members == [
        MemberRecord(
            maintenance_type_code="021",
            reason_code="28",
            subscriber=True,
            relationship_code="18",
            subscriber_id="S0001",
            member_id="M0001",
            client_id="1EG4TE5MK73",
            last_name="DOE",
            first_name="JANE",
            middle_name="Q",
            address_lines=("1 MAIN ST", "APT 4, BLDG B"),
            city="SPRINGFIELD",
            state="IL",
            zip="62701",
            birth_date=dt.date(1980, 2, 3),
            sex="F",
            coverage=(Coverage("HLT", "HMO-GOLD", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "021"),),
            pcp=(PcpChoice(NPI, "SMITH JOHN MD", dt.date(2024, 1, 1), "HLT", "XX", NPI),),
            reporting_categories=(
                ReportingCategory("RATE CELL", "ZZ", "RC12"),
                ReportingCategory("AID CODE", "ZZ", "1H"),
            ),
            segment_number=2,
        ),
        MemberRecord(
            maintenance_type_code="030",
            reason_code="",
            subscriber=False,
            relationship_code="19",
            subscriber_id="S0001",
            member_id="M0002",
            client_id="",
            last_name="DOE",
            first_name="JOHN",
            middle_name="",
            address_lines=("1 MAIN ST",),
            city="SPRINGFIELD",
            state="IL",
            zip="62701",
            birth_date=dt.date(2015, 7, 4),
            sex="M",
            coverage=(Coverage("HLT", "HMO-GOLD", dt.date(2024, 1, 1), None, "030"),),
            pcp=(),
            reporting_categories=(),
            segment_number=3,
        ),
        MemberRecord(
            maintenance_type_code="024",
            reason_code="07",
            subscriber=True,
            relationship_code="18",
            subscriber_id="M0003",
            member_id="M0003",
            client_id="",
            last_name="ROE",
            first_name="RICHARD",
            middle_name="",
            address_lines=("22 OAK AVE",),
            city="SHELBYVILLE",
            state="IL",
            zip="62565",
            birth_date=dt.date(1950, 12, 5),
            sex="M",
            coverage=(Coverage("HLT", "MA-PPO", dt.date(2023, 6, 1), dt.date(2024, 3, 31), "024"),),
            pcp=(),
            reporting_categories=(ReportingCategory("RATE CELL", "ZZ", "RC40"),),
            segment_number=4,
        ),
    ]
    assert [m.maintenance_type for m in members] == [
        "addition",
        "audit or compare",
        "cancellation or termination",
    ]
    assert members[1].relationship == "child"
    # segment numbers (lines) are kept on the coverage and PCP lines too
    assert members[0].coverage[0].segment_number == 2
    assert members[0].pcp[0].segment_number == 2


def test_another_payer_with_its_own_headers_dates_and_values(tmp_path):
    profile = CsvProfile(
        columns={
            "member_id": "cin",
            "last_name": "  Surname ",
            "first_name": "GIVEN NAME",
            "birth_date": "Birth Dt",
            "sex": "Sex",
            "plan_code": "Plan",
            "coverage_begin": "Start",
            "maintenance": "Txn",
            "client_id": "Case No",
        },
        date_format="%m/%d/%Y",
        delimiter=";",
        encoding="cp1252",
        sex_values={"Femme": "F", "Homme": "M", "Inconnu": "U"},
        maintenance_values={"ADD": "021", "TRM": "024"},
        full_file=False,
        insurance_line="DEN",
    )
    assert profile.validate() == []
    text = (
        "CIN ; surname;Given Name;birth dt;SEX;PLAN;START;TXN;Case No;Unused\n"
        "A1;Lefèvre;Zoé;02/29/1960;femme;DENT1;3/1/2024;add;C-77;x\n"
        "A2;Martin;Paul;12/01/1999;Homme;;;;;\n"
        "A3;Dupont;Anne;01/15/2001;inconnu;DENT1;03/01/2024;TRM;;\n"
        "A4;Durand;Luc;01/15/2001;;DENT2;03/01/2024;;;"  # no line break at the end
    )
    path = tmp_path / "dental roster.txt"
    path.write_bytes(text.encode("cp1252"))
    header, members = read(path, profile)
    assert header.reference == "dental roster.txt"
    assert header.action_code == "2"
    assert header.payer == Party("", "", "")
    assert header.created is None
    assert [(m.member_id, m.last_name, m.first_name, m.birth_date, m.sex) for m in members] == [
        ("A1", "Lefèvre", "Zoé", dt.date(1960, 2, 29), "F"),
        ("A2", "Martin", "Paul", dt.date(1999, 12, 1), "M"),
        ("A3", "Dupont", "Anne", dt.date(2001, 1, 15), "U"),
        ("A4", "Durand", "Luc", dt.date(2001, 1, 15), "U"),
    ]
    assert [m.maintenance_type_code for m in members] == ["021", "001", "024", "001"]
    assert [m.coverage for m in members] == [
        (Coverage("DEN", "DENT1", dt.date(2024, 3, 1), None, "021"),),
        (),
        (Coverage("DEN", "DENT1", dt.date(2024, 3, 1), None, "024"),),
        (Coverage("DEN", "DENT2", dt.date(2024, 3, 1), None, "001"),),
    ]
    assert [m.client_id for m in members] == ["C-77", "", "", ""]
    assert all(
        m.subscriber and m.relationship_code == "18" and m.subscriber_id == m.member_id for m in members
    )
    assert [m.segment_number for m in members] == [2, 3, 4, 5]


def test_sources_bytes_path_and_file_object(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(CSV)
    from_bytes = records(CSV)
    assert read(CSV)[0].reference == ""
    assert records(path)[1:] == from_bytes[1:]
    assert read(str(path), filename="given.csv")[0].reference == "given.csv"
    with path.open("rb") as f:
        assert read(f)[0].reference == str(path)
    assert records(io.BytesIO(CSV), chunk_size=1) == from_bytes


def test_multiline_quoted_cells_and_blank_lines_keep_line_numbers():
    data = (
        HEADER + "\n\n" + ROWS[0].replace('"APT 4, BLDG B"', '"APT 4\nBLDG B"') + "\n\n" + ROWS[1] + "\n"
    ).encode()
    _, (first, second) = read(data)
    assert first.address_lines == ("1 MAIN ST", "APT 4\nBLDG B")
    assert (first.segment_number, second.segment_number) == (3, 6)
    e = error(data.replace(b"M0002,S0001,,DOE,JOHN,,2015-07-04", b"M0002,S0001,,DOE,JOHN,,2015-07-44"))
    assert (e.segment_number, e.segment_id, e.element) == (6, "DOB", 7)
    assert e.byte_offset == data.index(b"M0002")


# -- errors -------------------------------------------------------------------------------------------------


def with_row(row: str, *, header: str = HEADER) -> bytes:
    return (header + "\n" + ROWS[1] + "\n" + row + "\n").encode()


def cell(row: str, target: str, value: str) -> str:
    """``row`` with the cell of ``target`` (in GOOD_PLAN's header) replaced."""
    cells = row.split(",")
    cells[HEADER.split(",").index(GOOD_PLAN.columns[target])] = value
    return ",".join(cells)


BASE = ROWS[1]


@pytest.mark.parametrize(
    ("row", "segment_id", "element", "message"),
    [
        (cell(BASE, "member_id", " "), "Member ID", 1, "'Member ID' (member_id) is empty"),
        (cell(BASE, "last_name", ""), "Last Name", 4, "'Last Name' (last_name) is empty"),
        (cell(BASE, "first_name", ""), "First Name", 5, "'First Name' (first_name) is empty"),
        (cell(BASE, "birth_date", ""), "DOB", 7, "'DOB' (birth_date) is empty"),
        (
            cell(BASE, "coverage_begin", ""),
            "Eff Date",
            15,
            "'Eff Date' (coverage_begin) is empty but the row has a plan code (HMO-GOLD)",
        ),
        (
            cell(BASE, "birth_date", "07/04/2015"),
            "DOB",
            7,
            "'DOB' (birth_date) value '07/04/2015' is not a date written like 2024-01-31 (%Y-%m-%d)",
        ),
        (
            cell(BASE, "coverage_end", "2023-02-30"),
            "Term Date",
            16,
            "'Term Date' (coverage_end) value '2023-02-30' is not a date written like 2024-01-31 (%Y-%m-%d)",
        ),
        (
            cell(cell(BASE, "pcp_npi", NPI), "pcp_begin", "soon"),
            "PCP Eff Date",
            19,
            "'PCP Eff Date' (pcp_begin) value 'soon' is not a date written like 2024-01-31 (%Y-%m-%d)",
        ),
        (
            cell(BASE, "coverage_end", "2023-12-31"),
            "Term Date",
            16,
            "coverage ends 2023-12-31, before it begins 2024-01-01",
        ),
        (
            cell(BASE, "sex", "X"),
            "Gender",
            8,
            "'Gender' (sex) value 'X' is not one of F, M, U nor a value of the profile's sex values",
        ),
        (
            cell(BASE, "maintenance", "Z"),
            "Action",
            20,
            "'Action' (maintenance) value 'Z' is not one of 001, 021, 024, 025, 030 "
            "nor a value of the profile's maintenance values",
        ),
        (
            cell(BASE, "relationship", "Cousin"),
            "Rel",
            22,
            "'Rel' (relationship) value 'Cousin' is not one of 01, 03, 04, 05, 06, 07, 08, 09, 10, 11, 12, "
            "13, 14, 15, 16, 17, 18, 19, 23, 24, 25, 26, 31, 38, 53, 60, D2, G8, G9 "
            "nor a value of the profile's relationship values",
        ),
        (
            cell(BASE, "pcp_npi", BAD_NPI),
            "PCP NPI",
            17,
            f"NPI check digit is wrong: expected {NPI[-1]}, got {BAD_NPI[-1]} in {BAD_NPI}",
        ),
        (cell(BASE, "pcp_npi", "12345"), "PCP NPI", 17, "NPI must be 10 digits, got '12345'"),
        (
            cell(BASE, "mbi", "1EG4-TE5-MK7"),
            "MBI",
            3,
            "MBI must be 11 characters (dashes aside), got 10 in '1EG4-TE5-MK7'",
        ),
        (BASE + ",extra", "", None, "the line has 25 columns, the header has 24"),
        (",".join(BASE.split(",")[:-1]), "", None, "the line has 23 columns, the header has 24"),
    ],
)
def test_row_errors_name_line_column_and_value(row, segment_id, element, message):
    data = with_row(row)
    e = error(data, filename="r.csv")
    assert e.as_dict() == {
        "message": message,
        "segment_number": 3,
        "byte_offset": data.rindex(row.encode()),
        "segment_id": segment_id,
        "element": element,
        "filename": "r.csv",
    }


def test_records_before_a_bad_row_are_yielded_first():
    it = read_csv_roster(with_row(cell(BASE, "sex", "X")), GOOD_PLAN)
    assert isinstance(next(it), Enrollment834)
    member = next(it)
    assert isinstance(member, MemberRecord)
    assert member.member_id == "M0002"
    with pytest.raises(X12Error, match="'X' is not one of F, M, U"):
        next(it)


def test_missing_and_duplicated_header_columns():
    header = HEADER.replace("DOB,", "Birth,").replace("Zip,", "")
    e = error(with_row(BASE, header=header))
    assert e.as_dict() == {
        "message": "the header row has no columns 'DOB' (birth_date), 'Zip' (zip)",
        "segment_number": 1,
        "byte_offset": 0,
        "segment_id": "",
        "element": None,
        "filename": None,
    }
    e = error(("\n\n" + HEADER.replace("Zip,", "") + "\n").encode())
    assert (e.segment_number, e.byte_offset, e.message) == (3, 2, "the header row has no column 'Zip' (zip)")
    e = error(with_row(BASE, header=HEADER + ",dob"))
    assert e.as_dict() == {
        "message": "column 'DOB' (birth_date) appears more than once in the header (columns 7, 25)",
        "segment_number": 1,
        "byte_offset": 0,
        "segment_id": "dob",
        "element": 25,
        "filename": None,
    }
    # an unmapped header may repeat
    data = (HEADER + ",Notes,Notes\n" + BASE + ",a,b\n").encode()
    assert records(data)[1] == records(with_row(BASE))[1]


def test_invalid_bytes_name_the_line():
    data = with_row(BASE.replace("SPRINGFIELD", "SPRINGF\xffELD")).replace(b"\xc3\xbf", b"\xff")
    e = error(data)
    assert (e.segment_number, e.byte_offset, e.segment_id, e.element) == (3, data.rindex(b"M0002"), "", None)
    assert (
        e.message
        == "bytes ff at position 55 of the line are not valid utf-8-sig text (is the profile's encoding right?)"
    )
    # the same bytes are fine in Latin-1
    latin = dataclasses.replace(GOOD_PLAN, encoding="latin-1")
    assert read(data, latin)[1][1].city == "SPRINGF\xffELD"


@pytest.mark.parametrize(
    ("data", "line", "offset", "message"),
    [
        (b"", 1, 0, "the file is empty (no header row)"),
        (b"\xef\xbb\xbf\r\n \r\n,,\n", 1, 0, "the file is empty (no header row)"),
        (
            (HEADER + '\n"M0002,S0001\n\n\n').encode(),
            2,
            len(HEADER) + 1,
            "not a readable CSV line: unexpected end of data",
        ),
        (
            (HEADER + '\nM0002,"S0001"x,\n').encode(),
            2,
            len(HEADER) + 1,
            "not a readable CSV line: ',' expected after '\"'",
        ),
        (
            b"a,b\rc,d\re,f\r",
            1,
            0,
            "not a readable CSV line: new-line character seen in unquoted field - do you need to open the file in universal-newline mode?",
        ),
    ],
)
def test_unreadable_files(data, line, offset, message):
    e = error(data)
    assert (e.segment_number, e.byte_offset, e.segment_id, e.element, e.message) == (
        line,
        offset,
        "",
        None,
        message,
    )


def test_a_line_without_end_is_cut_off(monkeypatch):
    monkeypatch.setattr(csvroster, "MAX_LINE", 1000)
    data = (HEADER + "\n" + BASE + "\n").encode() + b"x" * 5000
    for chunk_size in (100, 1 << 20):
        e = error(data, chunk_size=chunk_size)
        assert (e.segment_number, e.byte_offset, e.message) == (
            3,
            len(HEADER) + len(BASE) + 2,
            "line is longer than 1000 bytes (is this a CSV file?)",
        )
    # a line of 1000 bytes (its LF included) is read
    assert error(data[:-4001] + b"\n").message == "the line has 1 columns, the header has 24"


def test_text_mode_file_and_unusable_profile():
    e = error(io.StringIO(HEADER))  # type: ignore[arg-type]
    assert (e.segment_number, e.message) == (None, "the file must be opened in binary mode, not as text")
    e = error(CSV, CsvProfile(columns={"member_id": "Member ID"}, date_format="%d"), filename="x.csv")
    assert e.as_dict() == {
        "message": "the CSV profile cannot be used: last_name must be mapped to a column; "
        "first_name must be mapped to a column; birth_date must be mapped to a column; the date format '%d' "
        "does not read back what it writes (it needs a four-digit year, a month and a day, e.g. %Y-%m-%d or "
        "%m/%d/%Y)",
        "segment_number": None,
        "byte_offset": None,
        "segment_id": None,
        "element": None,
        "filename": "x.csv",
    }


# -- the profile --------------------------------------------------------------------------------------------


def test_profile_json_round_trip():
    data = GOOD_PLAN.as_dict()
    assert data == {
        "columns": dict(GOOD_PLAN.columns),
        "date_format": "%Y-%m-%d",
        "delimiter": ",",
        "encoding": "utf-8-sig",
        "sex_values": {"Female": "F", "Male": "M"},
        "maintenance_values": {"A": "021", "C": "001", "T": "024", "R": "025"},
        "relationship_values": {"Self": "18", "Spouse": "01", "Child": "19"},
        "full_file": True,
        "insurance_line": "HLT",
    }
    assert CsvProfile.from_dict(json.loads(json.dumps(data))) == GOOD_PLAN
    assert CsvProfile.from_dict({}) == CsvProfile()
    assert CsvProfile.from_dict({"full_file": False}).action_code == "2"
    assert CsvProfile().default_maintenance == "030"


def test_profile_is_frozen_and_owns_its_mappings():
    columns = {"member_id": "ID"}
    profile = CsvProfile(columns=columns)
    columns["last_name"] = "Last"
    assert profile.columns == {"member_id": "ID"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.full_file = False  # type: ignore[misc]
    profile.as_dict()["columns"]["x"] = "y"
    assert "x" not in profile.columns


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a CSV profile must be an object, not list"),
        (
            {"colums": {}},
            "unknown CSV profile setting 'colums' (known: columns, date_format, delimiter, encoding, sex_values, maintenance_values, relationship_values, full_file, insurance_line)",
        ),
        ({"columns": ["member_id"]}, "CSV profile columns must map text to text"),
        ({"sex_values": {"F": 1}}, "CSV profile sex_values must map text to text"),
        ({"date_format": None}, "CSV profile date_format must be text, not NoneType"),
        ({"full_file": "yes"}, "CSV profile full_file must be true or false"),
    ],
)
def test_from_dict_rejects_wrong_shapes(data, message):
    with pytest.raises(ValueError, match=r"^CSV profile|^unknown|^a CSV") as info:
        CsvProfile.from_dict(data)
    assert str(info.value) == message


def test_validate_lists_every_problem():
    assert GOOD_PLAN.validate() == []
    assert CsvProfile().validate() == [
        "member_id must be mapped to a column",
        "last_name must be mapped to a column",
        "first_name must be mapped to a column",
        "birth_date must be mapped to a column",
    ]
    profile = CsvProfile(
        columns={
            "member_id": "ID",
            "last_name": "Last",
            "first_name": "First",
            "birth_date": " ",
            "dob": "DOB",
            "plan_code": "Plan",
            "pcp_begin": " id ",
            "client_id": "Case",
            "mbi": "MBI",
            "city": "",
        },
        date_format="%y%m%d",
        delimiter="",
        encoding="utf-16",
        sex_values={"W": "F", "X": "Z"},
        maintenance_values={"add": "021", "ADD": "024"},
        relationship_values={"Self": "self"},
        insurance_line=" ",
    )
    assert profile.validate() == [
        f"'dob' is not a roster field (known: {', '.join(TARGETS)})",
        "birth_date must be mapped to a column",
        "plan_code is mapped, so coverage_begin must be mapped too",
        "map either client_id or mbi, not both: both are kept as the client id",
        "column 'id' is mapped to both member_id and pcp_begin",
        "city is mapped to an empty column name",
        "the date format '%y%m%d' does not read back what it writes (it needs a four-digit year, a month "
        "and a day, e.g. %Y-%m-%d or %m/%d/%Y)",
        "the delimiter must be one character other than a quote or a line break, not ''",
        "the encoding 'utf-16' is not supported: it must write plain ASCII as ASCII (UTF-8, Latin-1, "
        "Windows-1252...)",
        "sex value 'X' maps to 'Z', which is not one of F, M, U",
        "maintenance values 'add' and 'ADD' are the same value mapped to different codes",
        "relationship value 'Self' maps to 'self', which is not one of 01, 03, 04, 05, 06, 07, 08, 09, 10, "
        "11, 12, 13, 14, 15, 16, 17, 18, 19, 23, 24, 25, 26, 31, 38, 53, 60, D2, G8, G9",
        "the insurance line (HD03, e.g. HLT) must not be empty",
    ]


@pytest.mark.parametrize(
    ("fmt", "ok"),
    [
        ("%Y-%m-%d", True),
        ("%m/%d/%Y", True),
        ("%d.%m.%Y", True),
        ("%Y%m%d", True),
        ("%d-%b-%Y", True),
        ("%m/%d/%y", False),  # two-digit years: 1950 would read back as 2050
        ("%Y-%m", False),
        ("%Y-%m-%d %Q", False),
        ("", False),
    ],
)
def test_date_formats(fmt, ok):
    assert (CsvProfile(date_format=fmt).validate()[4:] == []) is ok


@pytest.mark.parametrize(
    ("encoding", "ok"),
    [
        ("utf-8", True),
        ("utf-8-sig", True),
        ("latin-1", True),
        ("cp1252", True),
        ("ascii", True),
        ("utf-16", False),
        ("utf-32-le", False),
        ("rot13", False),
        ("no-such-codec", False),
    ],
)
def test_encodings(encoding, ok):
    assert (CsvProfile(encoding=encoding).validate()[4:] == []) is ok


text = st.text(max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    columns=st.dictionaries(text, text, max_size=6),
    values=st.dictionaries(text, text, max_size=4),
    date_format=text,
    delimiter=text,
    full_file=st.booleans(),
)
def test_any_profile_round_trips_through_json_and_validates_without_crashing(
    columns, values, date_format, delimiter, full_file
):
    profile = CsvProfile(
        columns=columns,
        date_format=date_format,
        delimiter=delimiter,
        encoding=date_format,
        sex_values=values,
        maintenance_values=values,
        relationship_values=values,
        full_file=full_file,
        insurance_line=delimiter,
    )
    assert CsvProfile.from_dict(json.loads(json.dumps(profile.as_dict()))) == profile
    assert all(isinstance(p, str) and p for p in profile.validate())


# -- mutated and garbage files only raise X12Error ------------------------------------------------------------

LATIN = dataclasses.replace(GOOD_PLAN, encoding="latin-1", date_format="%m/%d/%Y")
SEMICOLON = dataclasses.replace(GOOD_PLAN, delimiter=";", full_file=False)


def _consume(data: bytes, chunk_size: int) -> None:
    messages: list[tuple[str, str]] = []
    for profile in (GOOD_PLAN, LATIN, SEMICOLON):
        try:
            for _ in read_csv_roster(io.BytesIO(data), profile, chunk_size=chunk_size):
                pass
        except X12Error as exc:
            messages.append((str(exc), exc.message))
    assert all(text and message for text, message in messages)


mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(CSV) - 1),
    st.one_of(
        st.binary(min_size=1, max_size=8),
        st.sampled_from([b",", b'"', b"\n", b"\r", b"\x00", b"\xff", b"\xc3", b";", b"2024-13-01", b"Z"]),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4), chunk_size=st.sampled_from([1, 7, 64, 1 << 20]))
def test_mutated_files_raise_only_x12error(ops, chunk_size):
    _consume(mutate(CSV, ops), chunk_size)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600))
def test_garbage_raises_only_x12error(data):
    _consume(data, 64)
    _consume(HEADER.encode() + b"\n" + data, 64)


# -- streaming ----------------------------------------------------------------------------------------------


class GeneratedCsv:
    """A read-only binary file producing a large roster on the fly (nothing is held in memory)."""

    def __init__(self, rows: int) -> None:
        self._parts = self._generate(rows)
        self._buf = b""
        self.produced = 0

    @staticmethod
    def _generate(rows: int) -> Iterator[bytes]:
        yield (HEADER + "\r\n").encode()
        for start in range(0, rows, 1000):
            yield "".join(
                f"{cell(BASE, 'member_id', f'M{i:08d}')}\r\n" for i in range(start, min(start + 1000, rows))
            ).encode()

    def read(self, size: int = -1, /) -> bytes:
        while not self._buf:
            try:
                self._buf = next(self._parts)
            except StopIteration:
                return b""
        n = len(self._buf) if size < 0 else size
        out, self._buf = self._buf[:n], self._buf[n:]
        self.produced += len(out)
        return out


def test_first_records_come_before_the_file_is_read():
    source = GeneratedCsv(10_000_000)  # about 1 GB if it were read whole
    it = read_csv_roster(source, GOOD_PLAN, chunk_size=1 << 16)
    assert isinstance(next(it), Enrollment834)
    first = next(it)
    assert isinstance(first, MemberRecord)
    assert first.member_id == "M00000000"
    assert source.produced <= 2 << 16


def test_a_large_file_is_read_in_constant_memory():
    source = GeneratedCsv(20_000)  # kept whole, its records alone would take tens of megabytes
    tracemalloc.start()
    try:
        count = sum(1 for r in read_csv_roster(source, GOOD_PLAN) if isinstance(r, MemberRecord))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert source.produced > 2_000_000
    assert peak < 4 << 20
