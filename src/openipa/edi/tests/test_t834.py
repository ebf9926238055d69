"""834 mapper: the shared samples, one fixture per maintenance type, hostile files, mutated files."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.core.identifiers import generate_npi
from openipa.edi.t834 import (
    Coverage,
    Enrollment834,
    MemberRecord,
    Party,
    PcpChoice,
    ReportingCategory,
    read_834,
)
from openipa.edi.tests.helpers import Generated834, mutate, samples_dir
from openipa.edi.x12 import X12Error, X12Writer

NPI = generate_npi(random.Random(834))
BAD_NPI = NPI[:-1] + str((int(NPI[-1]) + 1) % 10)

Seg = tuple[str, ...]


def build(*members: list[Seg], header: list[Seg] | None = None) -> bytes:
    """An 834 (ISA ... IEA) with ``header`` after BGN (default: DTP*007, N1*P5, N1*IN) and the members."""
    out = io.BytesIO()
    w = X12Writer(out, newline=True)
    w.start_interchange("ZZ", "SENDER", "ZZ", "RECEIVER", control_number=1)
    w.start_group("BE", "SENDER", "RECEIVER", control_number=1, version="005010X220A1")
    w.start_transaction("834", "0007", "005010X220A1")
    w.segment("BGN", "00", "REF1", "20240115", "1200", "", "", "", "4")
    for seg in (
        header
        if header is not None
        else [
            ("DTP", "007", "D8", "20240201"),
            ("N1", "P5", "ACME CORP", "FI", "123456789"),
            ("N1", "IN", "GOOD HEALTH PLAN", "FI", "987654321"),
        ]
    ):
        w.segment(*seg)
    for member in members:
        for seg in member:
            w.segment(*seg)
    w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue()


def member(
    maintenance: str = "021",
    reason: str = "28",
    *,
    ins: Seg | None = None,
    extra_2000: list[Seg] | None = None,
    name: Seg | None = ("NM1", "IL", "1", "DOE", "JANE", "Q", "", "", "34", "M0001"),
    after_name: list[Seg] | None = None,
    coverage: list[Seg] | None = None,
    subscriber_id: str | None = "S0001",
) -> list[Seg]:
    segs: list[Seg] = [ins or ("INS", "Y", "18", maintenance, reason, "A", "", "", "FT")]
    if subscriber_id is not None:
        segs.append(("REF", "0F", subscriber_id))
    segs += extra_2000 or []
    if name is not None:
        segs.append(name)
    segs += (
        after_name
        if after_name is not None
        else [
            ("N3", "1 MAIN ST", "UNIT 2"),
            ("N4", "SPRINGFIELD", "IL", "62701"),
            ("DMG", "D8", "19800229", "F"),
        ]
    )
    segs += coverage if coverage is not None else [("HD", maintenance, "", "HLT", "GOLD PPO", "IND")]
    return segs


def records(data: bytes) -> tuple[Enrollment834, list[MemberRecord]]:
    out = list(read_834(data))
    head = out[0]
    assert isinstance(head, Enrollment834)
    members = [r for r in out[1:] if isinstance(r, MemberRecord)]
    assert len(members) == len(out) - 1
    return head, members


def error(data: bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        list(read_834(data))
    return info.value


# -- the shared samples -----------------------------------------------------------------------------


def test_sample_add_subscriber_coverage() -> None:
    head, (m,) = records((samples_dir() / "lfh_add-subscriber-coverage.834").read_bytes())
    assert head.control_number == "0001"
    assert head.reference == "12456"
    assert head.created == dt.date(1998, 5, 20)
    assert head.action_code == "2"
    assert head.action == "change (update)"
    assert head.sponsor == Party("", "FI", "999888777")
    assert head.payer == Party("", "FI", "654456654")
    assert head.file_effective_date is None
    assert (m.maintenance_type_code, m.maintenance_type, m.reason_code, m.reason) == (
        "001",
        "change",
        "22",
        "plan change",
    )
    assert m.subscriber
    assert m.relationship_code == "18"
    assert m.relationship == "self"
    assert (m.subscriber_id, m.member_id, m.last_name, m.first_name) == (
        "123456789",
        "2024433307",
        "SMITH",
        "WILLIAM",
    )
    assert m.coverage == (Coverage("DEN", "", dt.date(2002, 7, 1), None, "021", ""),)
    assert m.segment_number == 8


def test_sample_enroll_employee_multiple_products() -> None:
    _head, (m,) = records((samples_dir() / "lfh_enroll-employee-multiple-products.834").read_bytes())
    assert m.maintenance_type == "addition"
    assert m.reason_code == "20"
    assert (m.last_name, m.first_name, m.middle_name, m.member_id) == ("DOE", "JOHN", "P", "123456789")
    assert m.address_lines == ("100 MARKET ST", "APT 30")
    assert (m.city, m.state, m.zip) == ("CAMP HILL", "PA", "17011")
    assert m.birth_date == dt.date(1940, 8, 16)
    assert m.sex == "M"
    assert [(c.insurance_line, c.begin) for c in m.coverage] == [
        ("HLT", dt.date(1996, 6, 1)),
        ("VIS", dt.date(1996, 6, 1)),
    ]
    assert [c.segment_number for c in m.coverage] == [16, 18]
    assert m.employment_status == "FT"
    assert m.eligibility_begin == dt.date(1996, 5, 23)


def test_sample_terminate_subscriber() -> None:
    _head, (m,) = records((samples_dir() / "lfh_terminate-subscriber-eligibility.834").read_bytes())
    assert m.maintenance_type_code == "024"
    assert m.maintenance_type == "cancellation or termination"
    assert m.reason_code == "08"
    assert m.reason == "termination of employment"
    assert m.relationship == "child"
    assert (m.member_id, m.middle_name, m.employment_status) == ("103229876", "E", "TE")
    assert m.coverage == ()
    assert m.birth_date is None
    assert m.eligibility_end == dt.date(1996, 8, 1)
    assert m.eligibility_begin is None
    assert m.maintenance_effective is None


def test_every_sample_maps() -> None:
    files = sorted(samples_dir().glob("*.834"))
    assert len(files) >= 3
    for path in files:
        head, members = records(path.read_bytes())
        assert head.payer is not None
        assert members


# -- one fixture per maintenance type ---------------------------------------------------------------


def test_addition_with_pcp_and_reporting_categories() -> None:
    data = build(
        member(
            "021",
            "28",
            extra_2000=[("REF", "23", "CLIENT9"), ("DTP", "356", "D8", "20240201")],
            coverage=[
                ("HD", "021", "", "HLT", "MEDICAID HMO", "IND"),
                ("DTP", "348", "D8", "20240201"),
                ("LX", "1"),
                ("NM1", "P3", "1", "WELBY", "MARCUS", "", "", "", "XX", NPI),
                ("DTP", "348", "D8", "20240215"),
                ("HD", "021", "", "DEN", "DENTAL BASIC"),
                ("DTP", "348", "RD8", "20240201-20241231"),
                ("LS", "2700"),
                ("LX", "1"),
                ("N1", "75", "RATE CELL"),
                ("REF", "ZZ", "TANF-A"),
                ("LX", "2"),
                ("N1", "75", "AID CODE"),
                ("REF", "17", "01"),
                ("DTP", "007", "D8", "20240201"),
                ("LE", "2700"),
            ],
        )
    )
    head, (m,) = records(data)
    assert head.action_code == "4"
    assert head.action == "verify (full file)"
    assert head.file_effective_date == dt.date(2024, 2, 1)
    assert head.sponsor == Party("ACME CORP", "FI", "123456789")
    assert head.payer == Party("GOOD HEALTH PLAN", "FI", "987654321")
    assert head.control_number == "0007"
    assert m.maintenance_type == "addition"
    assert m.reason == "initial enrollment"
    assert (m.subscriber_id, m.client_id, m.member_id) == ("S0001", "CLIENT9", "M0001")
    assert m.birth_date == dt.date(1980, 2, 29)
    assert m.sex == "F"
    assert m.coverage == (
        Coverage("HLT", "MEDICAID HMO", dt.date(2024, 2, 1), None, "021", "IND"),
        Coverage("DEN", "DENTAL BASIC", dt.date(2024, 2, 1), dt.date(2024, 12, 31), "021", ""),
    )
    assert m.pcp == (PcpChoice(NPI, "MARCUS WELBY", dt.date(2024, 2, 15), "HLT", "XX", NPI),)
    assert m.reporting_categories == (
        ReportingCategory("RATE CELL", "ZZ", "TANF-A"),
        ReportingCategory("AID CODE", "17", "01"),
    )


def test_change_dependent_spouse() -> None:
    data = build(
        member(
            "001",
            "25",
            ins=("INS", "N", "01", "001", "25"),
            name=("NM1", "IL", "1", "ROE", "RICHARD"),
            after_name=[("DMG", "D8", "19790704", "M")],
            coverage=[],
        )
    )
    _head, (m,) = records(data)
    assert not m.subscriber
    assert m.relationship == "spouse"
    assert m.maintenance_type == "change"
    assert m.reason == "change in identifying data elements"
    assert (m.last_name, m.first_name, m.member_id, m.address_lines) == ("ROE", "RICHARD", "", ())


def test_termination_with_end_date() -> None:
    data = build(
        member(
            "024",
            "07",
            coverage=[
                ("HD", "024", "", "HLT"),
                ("DTP", "348", "D8", "20230101"),
                ("DTP", "349", "D8", "20240131"),
            ],
        )
    )
    _head, (m,) = records(data)
    assert m.maintenance_type_code == "024"
    assert m.coverage[0].begin == dt.date(2023, 1, 1)
    assert m.coverage[0].end == dt.date(2024, 1, 31)


def test_reinstatement() -> None:
    _head, (m,) = records(build(member("025", "41")))
    assert m.maintenance_type == "reinstatement"
    assert m.reason == "re-enrollment"


def test_audit_full_file_many_members() -> None:
    members = [member("030", "XN", subscriber_id=f"S{i}", name=("NM1", "IL", "1", f"L{i}")) for i in range(5)]
    _head, out = records(build(*members))
    assert [m.subscriber_id for m in out] == [f"S{i}" for i in range(5)]
    assert {m.maintenance_type for m in out} == {"audit or compare"}
    assert out[0].segment_number == 8  # ISA GS ST BGN DTP N1 N1, then the INS


def test_header_only_and_other_sets_skipped() -> None:
    out = list(read_834(build()))
    assert len(out) == 1
    assert isinstance(out[0], Enrollment834)


# -- hostile files ------------------------------------------------------------------------------------


def _locate(data: bytes, exc: X12Error, seg_id: str, element: int | None) -> None:
    assert exc.segment_id == seg_id
    assert exc.element == element
    assert exc.segment_number is not None
    assert exc.byte_offset is not None
    assert data[exc.byte_offset :].startswith(seg_id.encode())
    assert exc.message


def test_unknown_maintenance_type() -> None:
    data = build(member("022"))
    exc = error(data)
    _locate(data, exc, "INS", 3)
    assert exc.segment_number == 8
    assert "'022'" in exc.message


def test_bad_subscriber_indicator() -> None:
    exc = error(build(member(ins=("INS", "X", "18", "021"))))
    assert (exc.segment_id, exc.element) == ("INS", 1)


@pytest.mark.parametrize(
    ("dtp", "element"),
    [
        (("DTP", "348", "D8", "20230230"), 3),
        (("DTP", "348", "D8", "2023011"), 3),
        (("DTP", "348", "D6", "230101"), 2),
        (("DTP", "348", "RD8", "20230101"), 3),
        (("DTP", "348", "RD8", "20230101-20221231"), 3),
        (("DTP", "348", "D8", "2023\xb2101"), 3),
    ],
)
def test_bad_coverage_dates(dtp: Seg, element: int) -> None:
    data = build(member(coverage=[("HD", "021", "", "HLT"), dtp]))
    exc = error(data)
    _locate(data, exc, "DTP", element)
    assert exc.segment_number == 15


def test_bad_header_date() -> None:
    data = build(header=[("DTP", "007", "D8", "20241301")])
    exc = error(data)
    _locate(data, exc, "DTP", 3)
    assert exc.segment_number == 5


@pytest.mark.parametrize(
    ("dmg", "element"),
    [
        (("DMG", "D8", "19801301", "F"), 2),
        (("DMG", "D8", "", "F"), 2),
        (("DMG", "D6", "800101", "F"), 1),
        (("DMG", "D8", "19800101", "X"), 3),
        (("DMG", "D8", "19800101"), 3),
    ],
)
def test_bad_demographics(dmg: Seg, element: int) -> None:
    data = build(member(after_name=[dmg]))
    exc = error(data)
    _locate(data, exc, "DMG", element)


def test_missing_nm1_il() -> None:
    data = build(member(name=None), member())
    exc = error(data)
    _locate(data, exc, "INS", None)
    assert exc.segment_number == 8
    assert "NM1*IL" in exc.message
    assert "(INS)" in exc.message


def test_missing_nm1_il_before_se() -> None:
    data = build(member(name=("NM1", "70", "1", "OLDNAME")))
    exc = error(data)
    _locate(data, exc, "INS", None)
    assert "(SE)" in exc.message


def test_missing_ref_0f() -> None:
    data = build(member(subscriber_id=None))
    exc = error(data)
    _locate(data, exc, "INS", None)
    assert "REF*0F" in exc.message


def test_bad_npi() -> None:
    data = build(
        member(
            coverage=[
                ("HD", "021", "", "HLT"),
                ("LX", "1"),
                ("NM1", "P3", "1", "X", "", "", "", "", "XX", BAD_NPI),
            ]
        )
    )
    exc = error(data)
    _locate(data, exc, "NM1", 9)
    assert BAD_NPI in exc.message


def test_missing_bgn() -> None:
    data = build(member()).replace(b"BGN*", b"BGX*")
    exc = error(data)
    _locate(data, exc, "INS", None)


def test_members_are_streamed() -> None:
    """The first member comes out before the reader gets to the end of a large file."""
    source = Generated834(200_000)
    it = read_834(source, chunk_size=1 << 14)
    assert isinstance(next(it), Enrollment834)
    first = next(it)
    assert isinstance(first, MemberRecord)
    assert first.subscriber_id == "000000000"
    assert source.produced < 1 << 16


# -- mutated files only raise X12Error ------------------------------------------------------------------

VALID = build(
    member(
        coverage=[
            ("HD", "021", "", "HLT", "PLAN"),
            ("DTP", "348", "RD8", "20240101-20241231"),
            ("LX", "1"),
            ("NM1", "P3", "1", "WELBY", "", "", "", "", "XX", NPI),
            ("DTP", "348", "D8", "20240101"),
            ("LS", "2700"),
            ("LX", "1"),
            ("N1", "75", "RATE CELL"),
            ("REF", "ZZ", "A1"),
            ("LE", "2700"),
        ]
    ),
    member("024", "07"),
)

mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.binary(min_size=1, max_size=8)
    | st.sampled_from([b"*", b"~", b"X", b"0", b"D8", b"RD8", b"INS*Y*18*021~"]),
)


def test_valid_fixture_maps() -> None:
    _head, (first, second) = records(VALID)
    assert first.pcp[0].npi == NPI
    assert first.reporting_categories[0].value == "A1"
    assert second.maintenance_type_code == "024"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_834_raise_only_x12error(ops: list[tuple[str, int, bytes]]) -> None:
    caught: list[X12Error] = []
    try:
        for _ in read_834(mutate(VALID, ops)):
            pass
    except X12Error as exc:
        caught.append(exc)
    assert all(str(exc) and exc.message for exc in caught)


def test_pcp_effective_date_from_pla():
    """005010X220A1 puts the PCP's effective date in PLA03 (loop 2310 has no DTP)."""
    pcp_loop = [
        ("HD", "021", "", "HLT"),
        ("DTP", "348", "D8", "20240101"),
        ("LX", "1"),
        ("NM1", "P3", "1", "WELBY", "MARCUS", "", "", "", "XX", NPI, "72"),
        ("PLA", "2", "1P", "20240315", "", "AG"),
    ]
    _head, (m,) = records(build(member(coverage=pcp_loop)))
    assert m.pcp == (PcpChoice(NPI, "MARCUS WELBY", dt.date(2024, 3, 15), "HLT", "XX", NPI),)
    data = build(member(coverage=[*pcp_loop[:-1], ("PLA", "2", "1P", "20241332", "", "AG")]))
    _locate(data, error(data), "PLA", 3)
