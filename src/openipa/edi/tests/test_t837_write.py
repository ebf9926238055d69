"""write_837: read back to equal claims (hypothesis), split into transaction sets, checked by pyx12."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.t837 import (
    FREQUENCY_CODES,
    INSTITUTIONAL,
    PROFESSIONAL,
    VERSION_INSTITUTIONAL,
    VERSION_PROFESSIONAL,
    Address,
    Claim837,
    Diagnosis,
    Header837,
    Patient,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
    read_837,
    write_837,
)
from openipa.edi.tests.helpers import samples_dir
from openipa.edi.tests.test_t837 import HEADER, INST, INST_CLAIM, VALID, build, subscriber

NPIS = ["1912301953", "5544332211", "1234567893"]
word = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
maybe = st.one_of(st.just(""), word)
day = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31))
address = st.builds(
    Address, word, maybe, word, st.sampled_from(["TX", "CA", "NY"]), st.sampled_from(["78701", "787011234"])
)


def provider(
    *, tin: bool = False, entity_type: str | None = None, located: bool = True
) -> st.SearchStrategy[Provider]:
    return st.builds(
        Provider,
        st.just(entity_type) if entity_type else st.sampled_from(["1", "2"]),
        word,
        maybe,
        maybe,
        st.just("XX"),
        st.sampled_from(NPIS),
        st.sampled_from(["123456789", "987654321"]) if tin else st.just(""),
        st.one_of(st.just(""), st.sampled_from(["207Q00000X", "261QP2300X"])),
        st.one_of(st.none(), address) if located else st.none(),
    )


@st.composite
def person(draw: st.DrawFn) -> Person:
    born = draw(st.one_of(st.none(), st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2024, 1, 1))))
    return Person(
        draw(word), draw(maybe), draw(maybe), draw(st.sampled_from(["", "MI"])), draw(maybe), born,
        draw(st.sampled_from("FMU")) if born else "", draw(st.one_of(st.none(), address)),
    )  # fmt: skip


@st.composite
def claim_837(draw: st.DrawFn, header: Header837) -> Claim837:
    kind = header.kind
    professional = kind == PROFESSIONAL
    patient = draw(st.one_of(st.none(), st.builds(Patient, st.sampled_from(["19", "01"]), person())))
    subscriber_ = Subscriber(
        draw(st.sampled_from("PST")), "18" if patient is None else "", draw(maybe), draw(maybe),
        draw(st.sampled_from(["CI", "MC", "MB"])), draw(person()),
    )  # fmt: skip
    codes = st.sampled_from(["E119", "I10", "J069", "Z0000", "M545"])
    if professional:
        quals = ["ABK"] + ["ABF"] * draw(st.integers(0, 5))
    else:
        quals = ["ABK"] + ["ABJ"] * draw(st.integers(0, 1)) + ["APR"] * draw(st.integers(0, 2))
        quals += ["ABF"] * draw(st.integers(0, 3))
    diagnoses = tuple(Diagnosis(q, draw(codes), n) for n, q in enumerate(quals, 1))
    pointable = [d for d in diagnoses if d.qualifier in ("ABK", "ABF")]
    rendering = draw(st.one_of(st.none(), provider()))
    lines = []
    for number in range(1, draw(st.integers(1, 6)) + 1):
        pointers: tuple[int, ...] = ()
        if professional:
            pointers = tuple(
                draw(st.lists(st.integers(1, len(pointable)), min_size=1, max_size=4, unique=True))
            )
        start = draw(st.one_of(st.none(), day))
        end = draw(st.one_of(st.none(), st.integers(1, 5))) if start else None
        procedure = draw(st.sampled_from(["99213", "81002", "G0439"]))
        lines.append(
            ServiceLine(
                number=number,
                procedure_qualifier="HC" if professional or procedure != "G0439" else "",
                procedure_code=procedure if professional or procedure != "G0439" else "",
                modifiers=tuple(draw(st.lists(st.sampled_from(["25", "59", "GT"]), max_size=4)))
                if professional or procedure != "G0439"
                else (),
                revenue_code="" if professional else draw(st.sampled_from(["0120", "0300", "0450"])),
                charge_cents=draw(st.integers(0, 10**8)),
                unit_basis=draw(st.sampled_from(["UN", "MJ"] if professional else ["UN", "DA"])),
                units=draw(st.sampled_from([Decimal(1), Decimal("2.5"), Decimal("0.25"), Decimal(30)])),
                place_of_service=draw(st.sampled_from(["", "11", "02"])) if professional else "",
                diagnosis_pointers=pointers,
                diagnoses=tuple(pointable[p - 1] for p in pointers),
                service_date=start,
                service_date_end=start + dt.timedelta(days=end) if start and end else None,
                control_number=draw(maybe),
                rendering=draw(st.one_of(st.just(rendering), provider(located=False))),  # 2420A: no N3/N4
                segment_number=0,
            )
        )
    statement = draw(day) if not professional else None
    return Claim837(
        transaction=header,
        billing_provider=draw(provider(tin=True, entity_type="2")),
        pay_to=draw(st.one_of(st.none(), st.builds(Provider, st.just("2"), st.just(""), address=address))),
        subscriber=subscriber_,
        patient=patient,
        payer=Payer(draw(word), "PI", draw(word), draw(st.one_of(st.none(), address))),
        claim_id=draw(word),
        total_charge_cents=sum(ln.charge_cents for ln in lines),
        place_of_service=draw(st.sampled_from(["11", "22"])) if professional else "",
        facility_type="" if professional else draw(st.sampled_from(["11", "13", "83"])),
        frequency_code=draw(st.sampled_from(sorted(FREQUENCY_CODES[kind]))),
        payer_claim_control_number=draw(maybe),
        prior_authorization=draw(maybe),
        referral_number=draw(maybe),
        onset_date=draw(st.one_of(st.none(), day)) if professional else None,
        statement_from=statement,
        statement_to=statement + dt.timedelta(days=draw(st.integers(0, 9))) if statement else None,
        admission_date=draw(st.one_of(st.none(), day)) if not professional else None,
        diagnoses=diagnoses,
        rendering=rendering,
        attending=None if professional else draw(st.one_of(st.none(), provider())),
        operating=None if professional else draw(st.one_of(st.none(), provider())),
        referring=draw(st.one_of(st.none(), provider())),
        service_facility=draw(st.one_of(st.none(), provider(entity_type="2"))),
        lines=tuple(lines),
        segment_number=0,
        admission_type="" if professional else draw(st.sampled_from(["1", "3"])),
        admission_source="" if professional else draw(st.sampled_from(["", "7"])),
        patient_status="" if professional else draw(st.sampled_from(["01", "30"])),
    )


def header(kind: str, control: str = "0001") -> Header837:
    version = VERSION_PROFESSIONAL if kind == PROFESSIONAL else VERSION_INSTITUTIONAL
    return Header837(control, version, kind, "BATCH7", dt.date(2024, 3, 1), "SUBMITTER", "S01", "IPA", "R01")


@st.composite
def claim_batches(draw: st.DrawFn) -> list[Claim837]:
    h = header(draw(st.sampled_from([PROFESSIONAL, INSTITUTIONAL])))
    first = draw(claim_837(h))
    out = [first]
    for _ in range(draw(st.integers(0, 4))):
        c = draw(claim_837(h))
        if draw(st.booleans()):  # the same billing provider / subscriber: shared HL loops
            c = dataclasses.replace(c, billing_provider=first.billing_provider, pay_to=first.pay_to)
            if draw(st.booleans()):
                c = dataclasses.replace(
                    c, subscriber=first.subscriber, payer=first.payer, patient=first.patient
                )
        out.append(c)
    return out


def write(claims: list[Claim837], **kwargs: object) -> bytes:
    out = io.BytesIO()
    assert write_837(out, claims, sender="SENDER01", receiver="RECEIVER01", **kwargs) == len(claims)  # type: ignore[arg-type]
    return out.getvalue()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_batches())
def test_round_trip(claims: list[Claim837]) -> None:
    back = list(read_837(write(claims)))
    assert back == claims


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_batches())
def test_split_into_transaction_sets(claims: list[Claim837]) -> None:
    data = write(claims, claims_per_transaction=2)
    back = read_837_claims(data)
    assert data.count(b"ST*837*") == (len(claims) + 1) // 2
    assert [c.transaction.control_number for c in back][::2] == [
        "0001",
        *(f"{n:04d}" for n in range(2, 1 + (len(claims) + 1) // 2)),
    ]
    same = [
        dataclasses.replace(c, transaction=claims[0].transaction) for c in back if isinstance(c, Claim837)
    ]
    assert same == claims


def test_written_counts_and_control_numbers() -> None:
    data = write(read_837_claims(VALID) * 3, interchange_control_number=42, group_control_number=7)
    text = data.decode()
    segments = text.split("~")[:-1]
    assert segments[-1] == "IEA*1*000000042"
    assert segments[-2] == "GE*1*7"
    assert segments[-3] == f"SE*{len(segments) - 4}*0001"
    assert text.count("HL*") == 1 + 1  # one billing provider, one subscriber for three claims


def test_mixed_versions_refused() -> None:
    (c,) = read_837_claims(VALID)
    other = dataclasses.replace(c, transaction=header(INSTITUTIONAL))
    with pytest.raises(ValueError, match="version"):
        write([c, other])
    with pytest.raises(ValueError, match="no service line"):
        write([dataclasses.replace(c, lines=())])
    with pytest.raises(ValueError, match="delimiter"):
        write([dataclasses.replace(c, claim_id="A*B")])


def read_837_claims(data: bytes) -> list[Claim837]:
    out = list(read_837(data))
    assert all(isinstance(c, Claim837) for c in out)
    return [c for c in out if isinstance(c, Claim837)]


def pyx12_errors(data: bytes, caplog: pytest.LogCaptureFixture) -> list[str]:
    """pyx12 picks its map from GS08 (837.5010.X222.A1.xml; 837Q3.I.5010.X223.A1.xml for X223A2)."""
    document = pytest.importorskip("pyx12.x12n_document")
    params = pytest.importorskip("pyx12.params")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pyx12"):
        valid = document.x12n_document(params.params(), io.StringIO(data.decode("latin-1")), None, None)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert bool(valid) == (not errors), errors
    return errors


def test_written_837p_validates_with_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    claims = read_837_claims(VALID)
    for name in ("lfh_demo.example1.837", "lfh_demo.example2.837", "lfh_demo.cob.example4.837"):
        for c in read_837_claims((samples_dir() / name).read_bytes()):
            claims.append(dataclasses.replace(c, transaction=claims[0].transaction))
    data = write(claims, claims_per_transaction=3)
    assert data.count(b"ST*837*") == 2
    assert pyx12_errors(data, caplog) == []
    back = read_837_claims(data)
    assert [c.transaction.control_number for c in back] == ["0001"] * 3 + ["0002"]
    assert [dataclasses.replace(c, transaction=claims[0].transaction) for c in back] == claims
    # the harness can fail: pyx12 flags a broken copy
    assert pyx12_errors(data.replace(b"SBR*P*18", b"SBR*Q*18", 1), caplog)


def test_written_837i_validates_with_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    head = [("N4", "AUSTIN", "TX", "787011234") if seg[0] == "N4" else seg for seg in HEADER]
    sub = subscriber()
    data_in = build(head + sub + INST_CLAIM + INST_CLAIM, INST)
    claims = read_837_claims(data_in)
    assert len(claims) == 2
    data = write(claims)
    assert pyx12_errors(data, caplog) == []
    assert read_837_claims(data) == claims
