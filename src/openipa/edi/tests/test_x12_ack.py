"""999 and TA1: built from what the reader saw, and checked by pyx12 (an independent validator)."""

from __future__ import annotations

import io

import pytest

from openipa.edi.tests.helpers import build_834, samples_dir
from openipa.edi.x12 import ElementError, EnvelopeReader, Interchange, SegmentError
from openipa.edi.x12.ack import build_999, build_ta1

pyx12_document = pytest.importorskip("pyx12.x12n_document")
pyx12_params = pytest.importorskip("pyx12.params")


def _read(data: bytes) -> list[Interchange]:
    reader = EnvelopeReader(data, strict=False)
    for _ in reader:
        pass
    return reader.interchanges


def _segments(ack: bytes) -> list[str]:
    return [s for s in ack.decode().split("~") if s]


def _pyx12_valid(data: bytes) -> bool:
    """pyx12 picks the map from GS08 (005010X231A1 for a 999) and validates the whole interchange."""
    return bool(pyx12_document.x12n_document(pyx12_params.params(), io.StringIO(data.decode()), None, None))


def test_999_accepted():
    (interchange,) = _read(build_834(2, transactions=2))
    ack = build_999(interchange)
    segs = _segments(ack)
    assert segs[1:4] == ["GS*FA*RECEIVER*SENDER*20000101*0000*1*X*005010X231A1", "ST*999*0001*005010X231A1",
                         "AK1*BE*1*005010X220A1"]  # fmt: skip
    assert segs[4:8] == ["AK2*834*0001*005010X220A1", "IK5*A", "AK2*834*0002*005010X220A1", "IK5*A"]
    assert segs[8:] == ["AK9*A*2*2*2", "SE*8*0001", "GE*1*1", "IEA*1*000000001"]
    assert _pyx12_valid(ack)


def test_999_accepted_with_errors():
    (interchange,) = _read(build_834(2))
    result = interchange.groups[0].transactions[0]
    result.segment_errors.append(
        SegmentError("DMG", 8, "8", "2100A", (ElementError(2, "8", reference="1251", value="19701301"),))
    )
    result.segment_errors.append(SegmentError("HD", 9, "8", "2300", (ElementError(1, "7", reference="875"),)))
    ack = build_999(interchange, newline=True)
    segs = [s.strip() for s in _segments(ack)]
    assert segs[4:11] == [
        "AK2*834*0001*005010X220A1",
        "IK3*DMG*8*2100*8",  # IK303 holds at most 4 characters: pyx12 caught "2100A"
        "IK4*2*1251*8*19701301",
        "IK3*HD*9*2300*8",
        "IK4*1*875*7",
        "IK5*E*5",
        "AK9*E*1*1*1",
    ]
    assert _pyx12_valid(ack)


def test_999_rejected_and_partially_accepted():
    data = build_834(2).replace(b"SE*17*0001~", b"SE*16*0001~")
    (interchange,) = _read(data)
    segs = _segments(build_999(interchange))
    assert segs[5:7] == ["IK5*R*4", "AK9*R*1*1*0"]
    assert _pyx12_valid(build_999(interchange))

    data = build_834(1, transactions=2).replace(b"SE*11*0002~", b"SE*11*0003~")
    (interchange,) = _read(data)
    ack = build_999(interchange)
    segs = _segments(ack)
    assert segs[4:9] == ["AK2*834*0001*005010X220A1", "IK5*A", "AK2*834*0002*005010X220A1", "IK5*R*3",
                         "AK9*P*2*2*1"]  # fmt: skip
    assert _pyx12_valid(ack)


def test_999_group_errors():
    (interchange,) = _read(build_834(1).replace(b"GE*1*1~", b"GE*2*9~"))
    segs = _segments(build_999(interchange))
    assert segs[6] == "AK9*R*2*1*1*5*4"


def test_ta1_for_control_number_mismatch():
    data = build_834(1).replace(b"IEA*1*000000001~", b"IEA*1*000000002~")
    (interchange,) = _read(data)
    ta1 = _segments(build_ta1(interchange))
    assert ta1[1:] == ["TA1*000000001*000101*0000*R*001", "IEA*0*000000001"]
    (good,) = _read(build_834(1))
    assert _segments(build_ta1(good))[1] == "TA1*000000001*000101*0000*A*000"


def test_pyx12_harness_flags_a_broken_999():
    (interchange,) = _read(build_834(1))
    ack = build_999(interchange).replace(b"IK5*A~", b"IK5*Z~")
    assert not _pyx12_valid(ack)


@pytest.mark.parametrize(
    "name", ["lfh_add-subscriber-coverage.834", "lfh_enroll-employee-multiple-products.834"]
)
def test_pyx12_harness_on_samples(name):
    """The harness itself: pyx12 accepts the public 834 samples our reader accepts (pyx12 4.0 has no map for
    the 837 samples' 005010X222A2/X223A3 and rejects the 835 samples' content, so those are not used here)."""
    data = (samples_dir() / name).read_bytes()
    assert _read(data)[0].groups[0].transactions[0].errors == []
    assert _pyx12_valid(data)


def test_ta1_for_structure_errors():
    data = build_834(1)
    no_gs = data.replace(b"GS*BE*SENDER*RECEIVER*20000101*0000*1*X*005010X220A1~", b"")
    (interchange,) = _read(no_gs)
    assert interchange.errors[0].code == "024"
    assert (interchange.errors[0].error.segment_number, interchange.errors[0].error.segment_id) == (2, "ST")
    assert _segments(build_ta1(interchange))[1].endswith("*R*024")
    (interchange,) = _read(data[: data.index(b"IEA")])
    assert [e.code for e in interchange.errors] == ["023"]
    assert "IEA missing" in interchange.errors[0].error.message


def test_999_missing_trailers():
    data = build_834(1)
    (interchange,) = _read(data.replace(b"SE*11*0001~", b""))
    result = interchange.groups[0].transactions[0]
    assert [e.code for e in result.errors] == ["2"]
    segs = _segments(build_999(interchange))
    assert segs[5:7] == ["IK5*R*2", "AK9*R*1*1*0"]
    assert _pyx12_valid(build_999(interchange))


def test_values_echoed_from_the_file_cannot_break_the_acknowledgment():
    """A control number or id holding a component separator (':') is echoed without it, never an error."""
    data = (
        build_834(1).replace(b"GS*BE*SENDER*", b"GS*BE*SEN:DER*").replace(b"ST*834*0001*", b"ST*834*00:01*")
    )
    data = data.replace(b"SE*9*0001", b"SE*9*00:01")
    (interchange,) = _read(data)
    segs = _segments(build_999(interchange))
    assert segs[1].startswith("GS*FA*RECEIVER*SENDER*")
    assert "AK2*834*0001*005010X220A1" in segs
    ta1 = _segments(build_ta1(interchange))
    assert ta1[1].startswith("TA1*")
