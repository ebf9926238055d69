"""read_837_columns against read_837: same values whenever it answers, None whenever read_837 finds anything wrong."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.t837 import Claim837, ClaimProblem, read_837, write_837
from openipa.edi.t837_columns import CLAIM_SCHEMA, LINE_SCHEMA, Columns837, read_837_columns
from openipa.edi.tests.helpers import mutate, samples_dir
from openipa.edi.tests.test_t837 import DATA, HEADER, INST, VALID, build, claim, subscriber
from openipa.edi.tests.test_t837_write import claim_batches
from openipa.edi.x12 import EnvelopeReader, X12Error, build_999


def _npi(provider: Any) -> str:
    return provider.identifier if provider is not None and provider.id_qualifier == "XX" else ""


def expected(data: bytes) -> tuple[pl.DataFrame, pl.DataFrame, EnvelopeReader] | None:
    """What read_837 makes of ``data`` in read_837_columns' columns; None when it finds any problem."""
    envelope = EnvelopeReader(data)
    try:
        items = list(read_837(data, envelope=envelope))
    except X12Error:
        return None
    if any(isinstance(i, ClaimProblem) for i in items) or not items:
        return None
    claims: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for index, c in enumerate(items):
        assert isinstance(c, Claim837)
        b = c.billing_provider
        person = c.patient_person
        days = [d for ln in c.lines for d in (ln.service_date, ln.service_date_end) if d is not None]
        claims.append({
            "claim": index, "segment": c.segment_number, "kind": c.kind, "claim_id": c.claim_id,
            "total_charge_cents": c.total_charge_cents, "frequency_code": c.frequency_code,
            "place_of_service": c.place_of_service, "facility_type": c.facility_type,
            "payer_claim_control_number": c.payer_claim_control_number,
            "prior_authorization": c.prior_authorization, "referral_number": c.referral_number,
            "statement_from": c.statement_from, "statement_to": c.statement_to,
            "member_id": c.subscriber.person.member_id, "patient_member_id": person.member_id,
            "patient_last_name": person.last_name, "patient_first_name": person.first_name,
            "patient_birth_date": person.birth_date,
            "billing_entity_type": b.entity_type, "billing_name": b.name, "billing_first_name": b.first_name,
            "billing_middle_name": b.middle_name, "billing_id_qualifier": b.id_qualifier,
            "billing_identifier": b.identifier, "billing_tin": b.tin, "billing_taxonomy": b.taxonomy,
            "billing_address": b.address is not None,
            "billing_line1": b.address.line1 if b.address else "", "billing_line2": b.address.line2 if b.address else "",
            "billing_city": b.address.city if b.address else "", "billing_state": b.address.state if b.address else "",
            "billing_zip": b.address.zip if b.address else "",
            "rendering_npi": _npi(c.rendering or c.attending), "referring_npi": _npi(c.referring),
            "facility_npi": _npi(c.service_facility),
            "diagnoses": json.dumps([[d.qualifier, d.code] for d in c.diagnoses]),
            "lines": len(c.lines), "first_line_day": min(days) if days else None,
            "last_line_day": max(days) if days else None,
        })  # fmt: skip
        for ln in c.lines:
            own = ln.rendering is not None and ln.rendering is not c.rendering
            lines.append({
                "claim": index, "segment": ln.segment_number, "number": ln.number,
                "procedure_qualifier": ln.procedure_qualifier, "procedure_code": ln.procedure_code,
                "modifiers": ",".join(ln.modifiers), "revenue_code": ln.revenue_code,
                "charge_cents": ln.charge_cents, "unit_basis": ln.unit_basis, "units": str(ln.units),
                "place_of_service": ln.place_of_service,
                "diagnosis_codes": ",".join(d.code for d in ln.diagnoses),
                "service_date": ln.service_date, "service_date_end": ln.service_date_end,
                "control_number": ln.control_number, "rendering_npi": _npi(ln.rendering) if own else "",
            })  # fmt: skip
    return (
        pl.DataFrame(claims, schema=CLAIM_SCHEMA),
        pl.DataFrame(lines, schema=LINE_SCHEMA),
        envelope,
    )


def same(data: bytes, *, must_answer: bool) -> Columns837 | None:
    """read_837_columns(data) gives read_837's values, or None; None whenever read_837 finds a problem."""
    got = read_837_columns(data)
    want = expected(data)
    if want is None:
        assert got is None, "read_837 finds a problem in this file, but read_837_columns answered"
        return None
    if got is None:
        assert not must_answer, "read_837_columns did not answer for a clean file"
        return None
    claims, lines, envelope = want
    # units as read_837 keeps them (Decimal) may print differently from the text sent ("1.0" and "1.00")
    assert [Decimal(u) for u in got.lines["units"]] == [Decimal(u) for u in lines["units"]]
    assert got.claims.to_dicts() == claims.to_dicts()
    assert got.lines.drop("units").to_dicts() == lines.drop("units").to_dicts()
    assert got.controls == _st_numbers(data)
    assert build_999(got.interchange) == build_999(envelope.interchanges[0])
    return got


def _st_numbers(data: bytes) -> dict[str, int]:
    out: dict[str, int] = {}
    for header, _segment in EnvelopeReader(data):
        out.setdefault(header.control_number, header.segment.number)
    return out


@pytest.mark.parametrize("path", sorted(samples_dir().glob("*.837*")), ids=lambda p: p.name)
def test_samples(path: Path) -> None:
    same(path.read_bytes(), must_answer=True)


def test_built_files() -> None:
    got = same(VALID, must_answer=True)
    assert got is not None
    assert got.claims.height == 1
    assert got.lines.height == 2
    assert got.lines["diagnosis_codes"].to_list() == ["E119,I10", "I10"]
    two = build(HEADER + subscriber() + claim("A") + claim("B") + subscriber(2, 3) + claim("C"))
    got = same(two, must_answer=True)
    assert got is not None
    assert got.claims["claim_id"].to_list() == ["A", "B", "C"]
    patient = build(HEADER + subscriber() + [("HL", "3", "2", "23", "0"), ("PAT", "19"),
                    ("NM1", "QC", "1", "DOE", "JIM"), ("DMG", "D8", "20100101", "M")] + claim())  # fmt: skip
    got = same(patient, must_answer=True)
    assert got is not None
    assert got.claims["patient_first_name"].to_list() == ["JIM"]


def test_non_ascii_files_and_line_breaks() -> None:
    # a latin-1 name: split as read_837 decodes (the CSV reader takes ASCII only)
    latin = VALID.replace(b"NM1*IL*1*DOE*JANE", "NM1*IL*1*MU\xd1OZ*JANE".encode("latin-1"))
    got = same(latin, must_answer=True)
    assert got is not None
    assert got.claims["patient_last_name"].to_list() == ["MU\xd1OZ"]
    # a line break after each terminator, and a blank line at the end
    broken = VALID.replace(b"~", b"~\r\n") + b"\n"
    got = same(broken, must_answer=True)
    assert got is not None
    assert got.claims.height == 1
    # a carriage return inside a segment, just before its terminator, is part of the element for read_837
    assert same(VALID.replace(b"ABF:I10~", b"ABF:I10\r~"), must_answer=False) is None
    # an empty segment is read_837's error to report
    assert read_837_columns(VALID.replace(b"~LX*1~", b"~~LX*1~")) is None


@pytest.mark.parametrize("path", sorted(DATA.glob("*.837")), ids=lambda p: p.name)
def test_hostile_files_are_left_to_read_837(path: Path) -> None:
    assert read_837_columns(path.read_bytes()) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_batches())
def test_written_files(claims: list[Claim837]) -> None:
    out = io.BytesIO()
    write_837(out, claims, sender="SENDER", receiver="RECEIVER", claims_per_transaction=3)
    same(out.getvalue(), must_answer=True)


mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.binary(min_size=1, max_size=8)
    | st.sampled_from([b"*", b"~", b":", b"0", b"-", b"LX*9~", b"HL*9*1*22*0~", b"DTP*472*D8*20240230~",
                       b"SBR*P~", b"NM1*82*1*X****XX*1~", b"SV1*HC:1*0*UN*1~", b"HI*ABK:~", b"CLM*X*1***11::1~"]),
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4), base=st.sampled_from(["pro", "inst", "patient"]))
def test_mutated_files(ops: list[tuple[str, int, bytes]], base: str) -> None:
    source = {
        "pro": VALID,
        "inst": build(HEADER + subscriber() + [("CLM", "I1", "80", "", "", "11:A:1"), ("DTP", "434", "RD8", "20240101-20240103"),
                      ("HI", "ABK:E119"), ("LX", "1"), ("SV2", "0450", "HC:99284", "80", "UN", "1")], INST),
        "patient": build(HEADER + subscriber() + [("HL", "3", "2", "23", "0"), ("PAT", "19"),
                         ("NM1", "QC", "1", "DOE", "JIM"), ("DMG", "D8", "20100101", "M")] + claim()),
    }[base]  # fmt: skip
    same(mutate(source, ops), must_answer=False)


RICH = build(HEADER + subscriber() + [("HL", "3", "2", "23", "0"), ("PAT", "19"), ("NM1", "QC", "1", "DOE", "JIM"),
             ("DMG", "D8", "20100101", "M")] + claim() + [("NM1", "82", "1", "R", "A", "", "", "", "XX", "1111111111"),
             ("LX", "3"), ("SV1", "HC:1", "0", "UN", "1"), ("NM1", "82", "1", "Z", "", "", "", "", "XX", "222")]
             + subscriber(3, 4) + claim("Z"))  # fmt: skip
RICH_837I = build([
    *HEADER, ("NM1", "87", "2", "PAYTO"), ("N3", "X"), ("REF", "EI", "999"), *subscriber(),
    ("CLM", "I1", "80", "", "", "11:A:1"), ("DTP", "434", "RD8", "20240101-20240103"),
    ("HI", "ABK:E119", "BH:A1:D8:20240101"), ("NM1", "71", "1", "ATT", "", "", "", "", "XX", "333"), ("LX", "1"),
    ("SV2", "0450", "HC:99284", "80", "UN", "1"), ("SVD", "X"), ("NM1", "82", "1", "Q", "", "", "", "", "XX", "444"),
], INST)  # fmt: skip


@st.composite
def moved_segments(draw: st.DrawFn) -> bytes:
    """A valid file with whole segments deleted, repeated, swapped or moved inside its transaction set (the SE
    count kept right, so read_837 reaches the loops)."""
    segs = draw(st.sampled_from([VALID, RICH, RICH_837I])).split(b"~")[:-1]
    for _ in range(draw(st.integers(1, 3))):
        inner = range(3, len(segs) - 3)  # ISA GS ST ... SE GE IEA
        if len(inner) < 2:
            break
        i, j = draw(st.sampled_from(inner)), draw(st.sampled_from(inner))
        op = draw(st.sampled_from(["delete", "repeat", "swap", "move"]))
        if op == "delete":
            segs.pop(i)
        elif op == "repeat":
            segs.insert(i, segs[i])
        elif op == "swap":
            segs[i], segs[j] = segs[j], segs[i]
        else:
            segs.insert(j, segs.pop(i))
    segs[-3] = b"SE*%d*0001" % (len(segs) - 5)
    return b"~".join(segs) + b"~"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=moved_segments())
def test_segments_out_of_place(data: bytes) -> None:
    same(data, must_answer=False)


def test_rich_files_are_read() -> None:
    for data in (RICH, RICH_837I):
        assert same(data, must_answer=True) is not None
