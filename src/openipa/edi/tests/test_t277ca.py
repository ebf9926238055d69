"""277CA: accepted and rejected claims of a read 837, the per-provider and batch totals, checked by pyx12."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.edi.amounts import format_cents
from openipa.edi.t277ca import ClaimAck, _claim_loops, _clean, _d8, acknowledge, write_277ca
from openipa.edi.t837 import Claim837, Provider, read_837
from openipa.edi.tests.test_t837 import HEADER, INST, INST_CLAIM, build, claim, subscriber
from openipa.edi.x12 import EnvelopeReader, X12Writer

RECEIVED = dt.date(2024, 1, 5)
SECOND_BILLING = [
    ("HL", "3", "", "20", "1"),
    ("NM1", "85", "2", "OTHER CLINIC", "", "", "", "", "XX", "5544332211"),
    ("N3", "2 MAIN ST"),
    ("N4", "AUSTIN", "TX", "78701"),
    ("REF", "EI", "987654321"),
]
BATCH = build(
    HEADER
    + subscriber()
    + claim("GOOD1")
    + claim("BADSUM", total="999")
    + SECOND_BILLING
    + subscriber(2, 4)
    + claim("GOOD2")
)


def acks(data: bytes = BATCH, **kwargs: object) -> list[ClaimAck]:
    return list(acknowledge(read_837(data), received=RECEIVED, **kwargs))  # type: ignore[arg-type]


def write(items: list[ClaimAck]) -> bytes:
    out = io.BytesIO()
    write_277ca(
        out, items, source_name="SUNRISE IPA", source_id="IPA01", receiver_name="CLEARING HOUSE",
        receiver_id="SUB01", batch_reference="BATCH1", received=RECEIVED, sender="SUNRISEIPA",
        receiver="CLEARINGHSE", when=dt.datetime(2024, 1, 6, 9, 30),
    )  # fmt: skip
    return out.getvalue()


def segments(data: bytes) -> list[str]:
    return data.decode().split("~")[:-1]


def test_accepted_and_rejected_claims() -> None:
    items = acks(payer_claim_number=lambda c: f"PCN-{c.claim_id}")
    assert [(a.claim_id, a.accepted, a.category, a.status) for a in items] == [
        ("GOOD1", True, "A2", "20"),
        ("BADSUM", False, "A3", "21"),
        ("GOOD2", True, "A2", "20"),
    ]
    bad = items[1]
    assert bad.total_charge_cents == 99900
    assert "not the sum of the line charges 150" in bad.message
    assert "segment" in bad.message
    assert bad.billing_provider.name == "GOOD CLINIC"
    assert bad.member_id == "M000000001"
    assert (bad.service_from, bad.service_to) == (dt.date(2024, 1, 2), dt.date(2024, 1, 3))
    assert items[0].payer_claim_number == "PCN-GOOD1"
    assert bad.payer_claim_number == ""


def test_written_277ca_content() -> None:
    data = write(acks(payer_claim_number=lambda c: f"PCN-{c.claim_id}"))
    segs = segments(data)
    assert "TRN*2*BATCH1" in segs
    batch_stc = segs.index("TRN*2*BATCH1") + 1
    assert segs[batch_stc : batch_stc + 5] == [
        "STC*A1:19*20240106*WQ*1299",
        "QTY*90*2",
        "QTY*AA*1",
        "AMT*YU*300",
        "AMT*YY*999",
    ]
    first = segs.index("NM1*85*2*GOOD CLINIC*****XX*1912301953")
    assert segs[first + 1 : first + 7] == ["TRN*1*1912301953", "STC*A1:19**WQ*1149", "QTY*QA*1", "QTY*QC*1",
                                           "AMT*YU*150", "AMT*YY*999"]  # fmt: skip
    second = segs.index("NM1*85*2*OTHER CLINIC*****XX*5544332211")
    assert segs[second + 1 : second + 5] == [
        "TRN*1*5544332211",
        "STC*A1:19**WQ*150",
        "QTY*QA*1",
        "AMT*YU*150",
    ]
    good = segs.index("TRN*2*GOOD1")
    assert segs[good - 1] == "NM1*QC*1*DOE*JANE****MI*M000000001"
    assert segs[good + 1 : good + 4] == [
        "STC*A2:20*20240106*WQ*150",
        "REF*1K*PCN-GOOD1",
        "DTP*472*RD8*20240102-20240103",
    ]
    bad = segs.index("TRN*2*BADSUM")
    assert segs[bad + 1].startswith("STC*A3:21*20240106*WQ*999********claim 'BADSUM'")
    assert "not the sum of the line charges 150" in segs[bad + 1]
    assert [s[:6] for s in segs if s.startswith("HL*")] == ["HL*1**", "HL*2*1", "HL*3*2", "HL*4*3", "HL*5*3",
                                                             "HL*6*2", "HL*7*6"]  # fmt: skip
    # the envelope is consistent: the reader checks SE/GE/IEA counts and control numbers
    txs = list(EnvelopeReader(data).transactions())
    assert [t.set_id for t in txs] == ["277"]


def test_check_rejects_a_clean_claim_and_837i_bill_type() -> None:
    data = build(HEADER + subscriber() + INST_CLAIM, INST)
    (ack,) = acks(data, check=lambda c: "member not on the roster" if c.claim_id == "I1" else None)
    assert not ack.accepted
    assert ack.message == "claim 'I1': member not on the roster"
    assert ack.type_of_bill == "0117"
    assert (ack.service_from, ack.service_to) == (dt.date(2024, 1, 1), dt.date(2024, 1, 4))
    assert "REF*BLT*117" in segments(write([ack]))


def test_delimiters_in_a_message_are_made_safe() -> None:
    (c,) = [x for x in read_837(build(HEADER + subscriber() + claim("X"))) if isinstance(x, Claim837)]
    (ack,) = acknowledge([c], received=RECEIVED, check=lambda _: "bad*value:here~" + "x" * 400)
    stc = next(s for s in segments(write([ack])) if s.startswith("STC*A3"))
    message = stc.split("*")[-1]
    assert message.startswith("claim 'X'  bad value here x")  # ':' is the component separator
    assert len(message) <= 264


def test_nothing_to_acknowledge() -> None:
    with pytest.raises(ValueError, match="no claims"):
        write([])


def pyx12_errors(data: bytes, caplog: pytest.LogCaptureFixture) -> list[str]:
    """pyx12 has a 005010X214 map (277.5010.X214.xml), picked from GS08."""
    document = pytest.importorskip("pyx12.x12n_document")
    params = pytest.importorskip("pyx12.params")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pyx12"):
        valid = document.x12n_document(params.params(), io.StringIO(data.decode("latin-1")), None, None)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert bool(valid) == (not errors), errors
    return errors


def test_pyx12_accepts_the_277ca(caplog: pytest.LogCaptureFixture) -> None:
    items = acks(payer_claim_number=lambda c: f"PCN-{c.claim_id}")
    inst = acks(build(HEADER + subscriber() + INST_CLAIM, INST))
    data = write(items + inst)
    assert pyx12_errors(data, caplog) == []
    assert pyx12_errors(data.replace(b"STC*A2:20*", b"STC*A2:20**", 1), caplog)  # the harness can fail


def test_all_rejected_and_all_accepted_batches(caplog: pytest.LogCaptureFixture) -> None:
    items = acks()
    rejected = [
        dataclasses.replace(a, accepted=False, category="A3", status="21", message="no") for a in items
    ]
    for batch in (rejected, [a for a in items if a.accepted]):
        assert pyx12_errors(write(batch), caplog) == []


def _reference_loops(acks: list[ClaimAck], parent: int, today: str, w: X12Writer) -> None:
    """Loop 2000D written one segment at a time with X12Writer.segment: what the columnar rendering must equal."""
    forbidden = {
        w.delimiters.element,
        w.delimiters.component,
        w.delimiters.segment,
        w.delimiters.repetition or "^",
    }
    for hl, ack in enumerate(acks, start=parent + 1):
        w.segment("HL", str(hl), str(parent), "PT")
        w.segment(
            "NM1", "QC", "1", ack.patient_last_name, ack.patient_first_name, "", "", "", "MI", ack.member_id
        )
        w.segment("TRN", "2", ack.claim_id)
        w.segment("STC", (ack.category, ack.status), today, "WQ", format_cents(ack.total_charge_cents),
                  "", "", "", "", "", "", "", _clean(ack.message, forbidden))  # fmt: skip
        if ack.payer_claim_number:
            w.segment("REF", "1K", ack.payer_claim_number)
        if ack.type_of_bill:
            w.segment("REF", "BLT", ack.type_of_bill[1:] if len(ack.type_of_bill) == 4 else ack.type_of_bill)
        if ack.service_from == ack.service_to:
            w.segment("DTP", "472", "D8", _d8(ack.service_from))
        else:
            w.segment("DTP", "472", "RD8", f"{_d8(ack.service_from)}-{_d8(ack.service_to)}")


text = st.text(alphabet=st.sampled_from("AZ09 .-'*:~^"), max_size=6)


@st.composite
def claim_acks(draw: st.DrawFn) -> list[ClaimAck]:
    provider = Provider("2", "CLINIC", identifier="1912301953", id_qualifier="XX")
    out = []
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
        accepted = draw(st.booleans())
        out.append(ClaimAck(
            claim_id=draw(text), total_charge_cents=draw(st.integers(-10**9, 10**12)), accepted=accepted,
            billing_provider=provider, patient_last_name=draw(text), patient_first_name=draw(text),
            member_id=draw(text) or "UNKNOWN", service_from=start,
            service_to=start + dt.timedelta(days=draw(st.integers(0, 3))),
            category="A2" if accepted else "A3", status="20" if accepted else "21", message=draw(text),
            payer_claim_number=draw(text), type_of_bill=draw(st.sampled_from(["", "0111", "131"])),
        ))  # fmt: skip
    return out


@given(acks=claim_acks())
def test_claim_loops_render_as_the_writer_writes_segments(acks: list[ClaimAck]) -> None:
    """The claims' loops, rendered as columns, are byte for byte what X12Writer.segment writes, and refused
    alike when an element holds a delimiter."""
    reference = io.BytesIO()
    w = X12Writer(reference)
    numbers, parents = list(range(4, 4 + len(acks))), [3] * len(acks)
    args = (acks, numbers, parents, "20261102", w.delimiters, w.terminator, w._forbidden)
    try:
        _reference_loops(acks, 3, "20261102", w)
    except ValueError:
        with pytest.raises(ValueError, match="delimiter"):
            _claim_loops(*args)
        return
    texts, counts = _claim_loops(*args)
    assert len(texts) == len(counts) == len(acks)
    assert "".join(texts).encode("latin-1") == reference.getvalue()
    assert sum(counts) == w.segments_written
