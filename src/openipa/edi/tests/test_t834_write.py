"""write_834: round trips through read_834 (hypothesis), pyx12 validation, streaming, refused records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import random
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.core.identifiers import generate_npi
from openipa.edi.t834 import (
    MAINTENANCE_TYPES,
    Coverage,
    Enrollment834,
    MemberRecord,
    Party,
    PcpChoice,
    ReportingCategory,
    read_834,
    write_834,
)
from openipa.edi.x12 import Delimiters

NPIS = [generate_npi(random.Random(seed)) for seed in range(20)]

HEADER = Enrollment834(
    control_number="0042",
    version="005010X220A1",
    purpose_code="00",
    reference="ROSTER202402",
    created=dt.date(2024, 1, 25),
    action_code="4",
    file_effective_date=dt.date(2024, 2, 1),
    sponsor=Party("STATE MEDICAID AGENCY", "FI", "990000001"),
    payer=Party("GOOD HEALTH PLAN", "XV", "H1234"),
    segment_number=0,
)


def subscriber(n: int = 1, **changes: object) -> MemberRecord:
    record = MemberRecord(
        maintenance_type_code="030",
        reason_code="XN",
        subscriber=True,
        relationship_code="18",
        subscriber_id=f"{n:09d}",
        member_id=f"{n:09d}",
        client_id=f"CIN{n:06d}",
        last_name="GONZALEZ",
        first_name="MARIA",
        middle_name="L",
        address_lines=(f"{n} MAIN ST", "APT 4"),
        city="SPRINGFIELD",
        state="IL",
        zip="62701",
        birth_date=dt.date(1980, 2, 29),
        sex="F",
        coverage=(
            Coverage("HLT", "MEDICAID HMO", dt.date(2024, 2, 1), None, "030", "IND"),
            Coverage("DEN", "DENTAL", dt.date(2024, 2, 1), dt.date(2024, 12, 31), "030", ""),
        ),
        pcp=(
            PcpChoice(NPIS[0], "MARCUS WELBY", dt.date(2024, 2, 1), "HLT", "XX", NPIS[0]),
            PcpChoice(NPIS[1], "SMILE DENTAL GROUP", None, "DEN", "XX", NPIS[1]),
        ),
        reporting_categories=(
            ReportingCategory("RATE CELL", "ZZ", "TANF-A"),
            ReportingCategory("AID CODE", "17", "01"),
        ),
        segment_number=0,
        control_number=HEADER.control_number,
        benefit_status="A",
        employment_status="FT",
        eligibility_begin=dt.date(2024, 2, 1),
        eligibility_end=None,
        maintenance_effective=dt.date(2024, 2, 1),
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def dependent(n: int) -> MemberRecord:
    return subscriber(
        n,
        subscriber=False,
        relationship_code="19",
        subscriber_id=f"{n - 1:09d}",
        member_id=f"M{n}",
        first_name="SOFIA",
        middle_name="",
        address_lines=(),
        city="",
        state="",
        zip="",
        birth_date=dt.date(2015, 7, 4),
        coverage=(Coverage("HLT", "MEDICAID HMO", dt.date(2024, 2, 1), None, "030", "DEP"),),
        pcp=(PcpChoice("", "CLINIC", None, "HLT", "", ""),),
        reporting_categories=(),
        employment_status="",
        eligibility_begin=None,
        maintenance_effective=None,
    )


def write(members: list[MemberRecord], header: Enrollment834 = HEADER, **options: object) -> bytes:
    out = io.BytesIO()
    written = write_834(out, header, members, sender_id="MEDICAID", receiver_id="IPA01", **options)  # type: ignore[arg-type]
    assert written == len(members)
    return out.getvalue()


def read(data: bytes) -> tuple[Enrollment834, list[MemberRecord]]:
    head, *members = read_834(data)
    assert isinstance(head, Enrollment834)
    assert all(isinstance(m, MemberRecord) for m in members)
    return head, members  # type: ignore[return-value]


def test_round_trip_and_segment_order():
    members = [subscriber(1), dependent(2)]
    data = write(members, newline=True)
    head, back = read(data)
    assert head == HEADER
    assert back == members
    text = data.decode()
    segments = [line.rstrip("~") for line in text.splitlines()]
    assert segments[3:7] == [
        "BGN*00*ROSTER202402*20240125*0000****4",
        "DTP*007*D8*20240201",
        "N1*P5*STATE MEDICAID AGENCY*FI*990000001",
        "N1*IN*GOOD HEALTH PLAN*XV*H1234",
    ]
    first = segments[7 : segments.index("INS*N*19*030*XN*A")]
    assert first == [
        "INS*Y*18*030*XN*A***FT",
        "REF*0F*000000001",
        "REF*23*CIN000001",
        "DTP*356*D8*20240201",
        "DTP*303*D8*20240201",
        "NM1*IL*1*GONZALEZ*MARIA*L***34*000000001",
        "N3*1 MAIN ST*APT 4",
        "N4*SPRINGFIELD*IL*62701",
        "DMG*D8*19800229*F",
        "HD*030**HLT*MEDICAID HMO*IND",
        "DTP*348*D8*20240201",
        "LX*1",
        f"NM1*P3*1*WELBY*MARCUS****XX*{NPIS[0]}*72",
        "PLA*2*1P*20240201**AG",
        "HD*030**DEN*DENTAL",
        "DTP*348*D8*20240201",
        "DTP*349*D8*20241231",
        "LX*1",
        f"NM1*P3*1*GROUP*SMILE DENTAL****XX*{NPIS[1]}*72",
        "LS*2700",
        "LX*1",
        "N1*75*RATE CELL",
        "REF*ZZ*TANF-A",
        "LX*2",
        "N1*75*AID CODE",
        "REF*17*01",
        "LE*2700",
    ]
    assert "NM1*IL*1*GONZALEZ*SOFIA****ZZ*M2" in segments
    assert segments[-3:] == [f"SE*{len(segments) - 4}*0042", "GE*1*1", "IEA*1*000000001"]


def test_envelope_options():
    data = write(
        [subscriber()],
        delimiters=Delimiters("|", "!", "^", "\n"),
        sender_qualifier="30",
        receiver_qualifier="01",
        interchange_control_number=123456789,
        group_control_number=77,
        when=dt.datetime(2024, 1, 26, 13, 45),
        usage="T",
    )
    isa, gs, st, bgn = data.split(b"\n")[:4]
    assert isa.startswith(
        b"ISA|00|          |00|          |30|MEDICAID       |01|IPA01          |240126|1345|^|"
    )
    assert isa.endswith(b"|123456789|0|T|!")
    assert gs == b"GS|BE|MEDICAID|IPA01|20240126|1345|77|X|005010X220A1"
    assert st == b"ST|834|0042|005010X220A1"
    assert bgn == b"BGN|00|ROSTER202402|20240125|1345||||4"
    assert data.endswith(b"GE|1|77\nIEA|1|123456789\n")
    assert read(data)[1] == [subscriber()]


def test_pla_date_and_dtp_348_both_read_as_pcp_begin():
    data = write([subscriber()])
    assert b"PLA*2*1P*20240201**AG~" in data
    legacy = data.replace(b"PLA*2*1P*20240201**AG~", b"DTP*348*D8*20240201~")
    assert read(legacy)[1] == read(data)[1] == [subscriber()]


# -- pyx12, an independent validator --------------------------------------------------------------------


def _pyx12_errors(data: bytes, caplog: pytest.LogCaptureFixture) -> list[str]:
    document = pytest.importorskip("pyx12.x12n_document")
    params = pytest.importorskip("pyx12.params")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pyx12"):
        valid = document.x12n_document(params.params(), io.StringIO(data.decode("latin-1")), None, None)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert bool(valid) == (not errors), errors
    return errors


def test_pyx12_validates_written_files(caplog):
    members = [subscriber(1), dependent(2), subscriber(3, pcp=(), reporting_categories=())]
    members.append(
        subscriber(
            4,
            maintenance_type_code="021",
            reason_code="28",
            coverage=(Coverage("HLT", "", dt.date(2024, 3, 1), None, "021", "FAM"),),
            pcp=tuple(
                PcpChoice(npi, f"DOCTOR {i}", dt.date(2024, 3, 1), "HLT", "XX", npi)
                for i, npi in enumerate(NPIS[:3])
            ),
            birth_date=None,
            sex="",
            member_id="",
        )
    )
    members.append(subscriber(5, maintenance_type_code="024", reason_code="07", benefit_status="T"))
    assert _pyx12_errors(write(members), caplog) == []
    assert (
        _pyx12_errors(write(members, delimiters=Delimiters("|", ">", "^", "~"), newline=True), caplog) == []
    )
    bad = write(members).replace(b"*72~", b"~", 1)  # the validator does catch a missing NM110
    assert _pyx12_errors(bad, caplog)


# -- property: read_834(write_834(x)) == x -----------------------------------------------------------------

WORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ'-", min_size=1, max_size=10).filter(
    lambda w: w[0].isalpha()
)
TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 #.,&/-'ÉÑ", min_size=1, max_size=25)
OPTIONAL_TEXT = st.just("") | TEXT
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
IDENT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=15)
DAY = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
OPTIONAL_DAY = st.none() | DAY
MAINTENANCE = st.sampled_from(sorted(MAINTENANCE_TYPES))
LINES = ["HLT", "DEN", "VIS", "HMO", "PPO", "POS", "EPO", "MM"]


@st.composite
def pcp_choices(draw: st.DrawFn, line: str) -> PcpChoice:
    kind = draw(st.sampled_from(["npi", "other", "none"]))
    begin = draw(OPTIONAL_DAY)
    name = draw(NAME)
    if kind == "npi":
        npi = draw(st.sampled_from(NPIS))
        return PcpChoice(npi, name, begin, line, "XX", npi)
    if kind == "other":
        return PcpChoice("", name, begin, line, draw(st.sampled_from(["34", "FI", "SV"])), draw(IDENT))
    return PcpChoice("", name, begin, line, "", "")


@st.composite
def member_records(draw: st.DrawFn, control_number: str) -> MemberRecord:
    lines = draw(st.lists(st.sampled_from(LINES), max_size=3, unique=True))
    coverage = []
    pcps: list[PcpChoice] = []
    for line in lines:
        begin = draw(DAY)
        coverage.append(
            Coverage(
                line,
                draw(OPTIONAL_TEXT),
                begin,
                draw(st.none() | st.dates(min_value=begin, max_value=dt.date(2099, 12, 31))),
                draw(MAINTENANCE),
                draw(st.sampled_from(["", "IND", "FAM", "EMP", "DEP"])),
            )
        )
        pcps += draw(st.lists(pcp_choices(line), max_size=2))
    birth = draw(OPTIONAL_DAY)
    return MemberRecord(
        maintenance_type_code=draw(MAINTENANCE),
        reason_code=draw(st.sampled_from(["", "01", "07", "28", "XN", "AI", "EC"])),
        subscriber=draw(st.booleans()),
        relationship_code=draw(st.sampled_from(["18", "01", "19", "15", "G8"])),
        subscriber_id=draw(IDENT),
        member_id=draw(st.just("") | IDENT | st.from_regex(r"[0-9]{9}", fullmatch=True)),
        client_id=draw(st.just("") | IDENT),
        last_name=draw(NAME),
        first_name=draw(st.just("") | NAME),
        middle_name=draw(st.just("") | WORD),
        address_lines=tuple(draw(st.lists(TEXT, max_size=2))),
        city=draw(OPTIONAL_TEXT),
        state=draw(st.sampled_from(["", "IL", "CA", "NY"])),
        zip=draw(st.sampled_from(["", "62701", "941031234"])),
        birth_date=birth,
        sex=draw(st.sampled_from(["F", "M", "U"])) if birth else "",
        coverage=tuple(coverage),
        pcp=tuple(pcps),
        reporting_categories=tuple(
            draw(
                st.lists(
                    st.builds(
                        ReportingCategory, NAME, st.sampled_from(["ZZ", "17", "18", "26", "9V"]), IDENT
                    ),
                    max_size=3,
                )
            )
        ),
        segment_number=draw(st.integers(0, 10)),  # not compared
        control_number=control_number,
        benefit_status=draw(st.sampled_from(["A", "C", "S", "T"])),
        employment_status=draw(st.sampled_from(["", "FT", "PT", "RT", "TE"])),
        eligibility_begin=draw(OPTIONAL_DAY),
        eligibility_end=draw(OPTIONAL_DAY),
        maintenance_effective=draw(OPTIONAL_DAY),
    )


@st.composite
def files(draw: st.DrawFn) -> tuple[Enrollment834, list[MemberRecord]]:
    header = Enrollment834(
        control_number=draw(st.from_regex(r"[0-9]{4,9}", fullmatch=True)),
        version="005010X220A1",
        purpose_code=draw(st.sampled_from(["00", "15", "22"])),
        reference=draw(IDENT),
        created=draw(DAY),
        action_code=draw(st.sampled_from(["2", "4", "RX"])),
        file_effective_date=draw(OPTIONAL_DAY),
        sponsor=Party(draw(OPTIONAL_TEXT), draw(st.sampled_from(["FI", "94", "24"])), draw(IDENT)),
        payer=Party(draw(OPTIONAL_TEXT), draw(st.sampled_from(["FI", "XV", "94"])), draw(IDENT)),
        segment_number=draw(st.integers(0, 10)),
    )
    return header, draw(st.lists(member_records(header.control_number), max_size=4))


DELIMITERS = st.sampled_from(
    [
        Delimiters(),
        Delimiters("|", "!", "^", "~"),
        Delimiters("*", ":", None, "\n"),
        Delimiters("\x1d", "\x1f", "\x1e", "\x1c"),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=files(), delimiters=DELIMITERS, newline=st.booleans())
def test_read_834_of_write_834_gives_back_the_records(
    file: tuple[Enrollment834, list[MemberRecord]], delimiters: Delimiters, newline: bool
) -> None:
    header, members = file
    head, back = read(write(members, header, delimiters=delimiters, newline=newline))
    assert head == header
    assert back == members


# -- streaming and refused records ----------------------------------------------------------------------


def test_members_are_streamed_into_the_file(tmp_path):
    """Members come from a generator and go straight to the file: memory does not grow with them."""
    count = 4_000

    def members() -> Iterator[MemberRecord]:
        for n in range(count):
            yield subscriber(n)

    path = tmp_path / "big.834"
    tracemalloc.start()
    try:
        written = write_834(path, HEADER, members(), sender_id="S", receiver_id="R")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == count
    assert path.stat().st_size > count * 500
    assert peak < 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert sum(1 for r in read_834(path) if isinstance(r, MemberRecord)) == count


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"maintenance_type_code": "022"}, "maintenance type code '022'"),
        ({"relationship_code": ""}, "no relationship code"),
        ({"benefit_status": ""}, "no benefit status"),
        ({"subscriber_id": ""}, "no subscriber id"),
        ({"last_name": ""}, "no last name"),
        ({"address_lines": ("A", "B", "C")}, "3 address lines"),
        ({"birth_date": None}, "without a birth date"),
        ({"sex": "X"}, "sex 'X'"),
        ({"coverage": (Coverage("HLT", "", None, None, "030"),), "pcp": ()}, "no begin date"),
        ({"coverage": (Coverage("", "", dt.date(2024, 1, 1), None, "030"),), "pcp": ()}, "no insurance line"),
        ({"pcp": (PcpChoice(NPIS[0], "X", None, "VIS", "XX", NPIS[0]),)}, "'VIS', not covered"),
        ({"pcp": (PcpChoice("1234567890", "X", None, "HLT", "XX", "1234567890"),)}, "not a valid NPI"),
        ({"last_name": "O*BRIEN"}, "contains a delimiter"),
    ],
)
def test_refused_records(changes, message):
    with pytest.raises(ValueError, match=r"^member 2 \(subscriber ") as info:
        write([subscriber(1), subscriber(2, **changes)])
    assert message in str(info.value)


def test_header_needs_sponsor_and_payer():
    with pytest.raises(ValueError, match="sponsor"):
        write([], dataclasses.replace(HEADER, payer=None))
