"""`openipa edi auth FILE [--out FILE] [--json]`: a 278's patient events received as requests by the 278
gateway and answered in one 278 response (A4 pended, A1 certified, AAA for refused events, which are not
written); a broken file writes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openipa.accounts.models import User
from openipa.conftest import SmallIpa
from openipa.core.models import AuditEvent
from openipa.edi.t278 import (
    Decision278,
    Diagnosis,
    Event,
    Party,
    Patient,
    Procedure,
    Quantity,
    Rejection278,
    Request278,
    Service,
    Trace,
    Transaction278,
    write_278_request,
)
from openipa.edi.x12 import EnvelopeReader
from openipa.utilization import services, x12
from openipa.utilization.models import AuthEvent, AuthRequest, AuthService, AutoApprovalRule
from openipa.utilization.tests.conftest import at, request_input

pytestmark = pytest.mark.django_db

TX = Transaction278("0001", "13", "ALDER-BATCH-7", dt.date(2026, 3, 2), "0915")
UMO = Party("X3", "2", "SUNRISE HEALTH PLAN", id_qualifier="PI", id="SUN01")
ALDER = Party("1P", "1", "ALDER", "ADA", id_qualifier="XX", id="1234567893")
CARDIO = Party("SJ", "1", "CARDIO", "CY", id_qualifier="XX", id="1003000126")
AMY = Patient(
    "IL", "ANDERS", "AMY", id_qualifier="MI", member_id="SUN0001", birth_date=dt.date(1950, 3, 4), sex="F"
)


def service(code: str, units: int, start: dt.date | None, end: dt.date | None, trace: str) -> Service:
    return Service("HS", "I", Procedure("SV1", "HC", code, units=Decimal(units), unit_basis="UN", charge_cents=0),
                   traces=(Trace(trace, "9123456789"),), date=start, date_end=end)  # fmt: skip


def event(trace: str, *, category: str = "HS", diagnoses: tuple[Diagnosis, ...] = (Diagnosis("ABK", "I509"),),
          services: tuple[Service, ...] | None = None, **fields: Any) -> Event:  # fmt: skip
    if services is None:
        services = (service("93306", 1, dt.date(2026, 3, 10), dt.date(2026, 3, 31), f"{trace}-S1"),)
    return Event(category, "I", diagnoses, traces=(Trace(trace, "9123456789"),), service_type="1",
                 providers=(CARDIO,), services=services, message="WORSENING DYSPNEA", **fields)  # fmt: skip


def request(ev: Event, *, patient: Patient = AMY, **fields: Any) -> Request278:
    return Request278(TX, UMO, ALDER, patient, ev, **fields)


def echo() -> Request278:
    """Alder's echocardiogram for Amy Anders: waits for review."""
    return request(event("EV-ECHO"))


def consult() -> Request278:
    """An in-network cardiology consult: approved on receipt by the rule `_consult_rule` adds."""
    return request(
        event(
            "EV-CONSULT",
            category="SC",
            services=(service("99204", 1, dt.date(2026, 3, 10), dt.date(2026, 6, 30), "EV-CONSULT-S1"),),
        )
    )


def _consult_rule() -> None:
    AutoApprovalRule.objects.create(name="In-network cardiology consults", kind="referral", specialties="Cardiology",
                                    code_from="99202", code_to="99215", max_units=3, valid_from=dt.date(2026, 1, 1))  # fmt: skip


def write(tmp_path: Path, *requests: Request278, name: str = "in.278") -> Path:
    path = tmp_path / name
    path.write_bytes(write_278_request(requests, sender=("ZZ", "ALDERCLINIC"), receiver=("ZZ", "SUNRISEUMO")))
    return path


def miscount(data: bytes, by: int = -1) -> tuple[bytes, str]:
    """The file with its SE01 changed `by` (one short by default), and where the SE is."""
    segs = data.split(b"~")
    n = next(i for i, seg in enumerate(segs) if seg.startswith(b"SE*"))
    parts = segs[n].split(b"*")
    parts[1] = str(int(parts[1]) + by).encode()
    segs[n] = b"*".join(parts)
    return b"~".join(segs), f"segment {n + 1} (SE)"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("edi", "auth", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def segments(data: bytes) -> list[str]:
    return [s.strip() for s in data.decode("latin-1").split("~") if s.strip()]


def answers(data: bytes) -> list[tuple[str, str]]:
    """(the event's TRN02, its HCR or AAA) for each patient event of a 278 response, in order. An AAA above
    the event (in the patient loop) answers the event echoed after it."""
    found: list[tuple[str, str]] = []
    segs = segments(data)
    above: str | None = None
    for n, seg in enumerate(segs):
        if seg.startswith("AAA*") and not any(
            s.startswith("HL*") and s.split("*")[3] == "EV" for s in segs[:n][-3:]
        ):
            above = seg
        if not (seg.startswith("HL*") and seg.split("*")[3] == "EV"):
            continue
        trace = segs[n + 1].split("*")[2]
        tail = segs[n + 2 :]
        stop = next((i for i, s in enumerate(tail) if s.startswith(("HL*", "SE*"))), len(tail))
        own = next((s for s in tail[:stop] if s.startswith(("HCR*", "AAA*"))), None)
        answer = own or above
        assert answer is not None, f"event {trace} has no answer"
        found.append((trace, answer))
        above = None
    return found


# ------------------------------------------------------------------------------------------ receive


def test_a_278_for_the_small_ipas_member_is_received_and_answered(um: SmallIpa, tmp_path: Path) -> None:
    _consult_rule()
    source = write(tmp_path, echo(), consult())
    target = tmp_path / "out.278"
    out, _ = run(str(source), "--out", str(target), "--json")
    summary = json.loads(out)
    pended, approved = AuthRequest.objects.order_by("id")
    assert summary == {"requests": 2, "received": [pended.number, approved.number], "approved": [approved.number],
                       "duplicates": [], "rejected": []}  # fmt: skip
    gateway = User.objects.get(username="x12-278")
    assert not gateway.has_usable_password()
    assert pended.source == approved.source == "x12_278"
    assert pended.created_by == gateway
    assert (pended.status, pended.kind, pended.trace_number) == ("received", "prior_auth", "EV-ECHO")
    assert (approved.status, approved.kind) == ("approved", "referral")
    assert pended.member_id == um.member_a.pk
    assert pended.practice_id == um.practice_a.pk
    assert pended.servicing_npi == "1003000126"
    assert pended.diagnoses == "I509"
    assert pended.clinical_notes == "WORSENING DYSPNEA"
    assert [(s.code, s.units, s.service_from, s.service_to) for s in pended.services.all()] == [
        ("93306", Decimal(1), dt.date(2026, 3, 10), dt.date(2026, 3, 31))
    ]
    assert AuditEvent.objects.filter(action="um.request.submit", actor_username="x12-278").count() == 2

    # the response read back: one answer per event, the request number as HCR02 (the certification number)
    reply = target.read_bytes()
    assert not (tmp_path / "out.278.partial").exists()
    assert answers(reply) == [
        ("EV-ECHO", f"HCR*A4*{pended.number}"),
        ("EV-CONSULT", f"HCR*A1*{approved.number}"),
    ]
    segs = segments(reply)
    assert f"HCR*A1*{approved.number}" in segs[segs.index("TRN*2*EV-CONSULT-S1*9123456789") + 1 :][1]
    assert "DTP*AAH*RD8*20260310-20260630" in segs
    assert segs[3].startswith("BHT*0007*11*ALDER-BATCH-7*")
    reader = EnvelopeReader(reply)
    (tx,) = list(reader.transactions())
    assert (tx.set_id, tx.functional_id, tx.version) == ("278", "HI", "005010X217")
    (interchange,) = reader.interchanges
    assert all(not t.errors for group in interchange.groups for t in group.transactions)
    assert (interchange.sender_id, interchange.receiver_id) == ("SUNRISEUMO", "ALDERCLINIC")


def test_without_out_the_response_goes_to_standard_output(um: SmallIpa, tmp_path: Path) -> None:
    out, err = run(str(write(tmp_path, echo())))
    number = AuthRequest.objects.get().number
    assert answers(out.encode("latin-1")) == [("EV-ECHO", f"HCR*A4*{number}")]
    assert err.strip() == "1 requests: 1 received, 0 approved on receipt, 0 rejected"


def test_json_needs_out(um: SmallIpa, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="give --out"):
        run(str(write(tmp_path, echo())), "--json")
    assert not AuthRequest.objects.exists()


def test_a_file_sent_again_is_answered_as_it_stands_and_not_written_twice(
    um: SmallIpa, tmp_path: Path
) -> None:
    source = write(tmp_path, echo())
    run(str(source), "--out", str(tmp_path / "first.278"))
    stored = AuthRequest.objects.get()
    services.take_for_review(actor=um.users["nurse"], request=stored)
    services.decide(actor=um.users["nurse"], request=stored, decision="approve")
    out, _ = run(str(source), "--out", str(tmp_path / "second.278"), "--json")
    assert json.loads(out)["duplicates"] == [stored.number]
    assert json.loads(out)["received"] == []
    assert AuthRequest.objects.count() == 1
    assert answers((tmp_path / "second.278").read_bytes()) == [("EV-ECHO", f"HCR*A1*{stored.number}")]
    assert AuditEvent.objects.filter(kind="read", actor_username="x12-278", purpose="x12 278 resent").exists()


def test_a_trace_sent_again_with_fewer_lines_gets_one_answer_for_the_event(
    um: SmallIpa, tmp_path: Path
) -> None:
    second = service("93307", 1, dt.date(2026, 3, 10), None, "EV-ECHO-S2")
    two = request(dataclasses.replace(echo().event, services=(*echo().event.services, second)))
    run(str(write(tmp_path, two)), "--out", str(tmp_path / "first.278"))
    stored = AuthRequest.objects.get()
    assert stored.services.count() == 2
    services.decide(actor=um.users["nurse"], request=stored, decision="approve")
    target = tmp_path / "second.278"
    out, _ = run(str(write(tmp_path, echo(), name="again.278")), "--out", str(target), "--json")
    assert json.loads(out)["duplicates"] == [stored.number]
    assert [s for s in segments(target.read_bytes()) if s.startswith("HCR")] == [
        f"HCR*A1*{stored.number}"
    ] * 2


# ------------------------------------------------------------------------------------------ refuse


def test_hostile_events_are_rejected_with_aaa_and_not_written(um: SmallIpa, tmp_path: Path) -> None:
    stranger = dataclasses.replace(
        AMY, last_name="NOBODY", member_id="NOPE404", birth_date=dt.date(1960, 1, 1)
    )
    admission = event("EV-REVERSED", category="AR", facility_code="21", facility_qualifier="B",
                      admission_date=dt.date(2026, 3, 10), discharge_date=dt.date(2026, 3, 5),
                      services=(service("99223", 1, None, None, "EV-REVERSED-S1"),))  # fmt: skip
    source = write(
        tmp_path,
        request(event("EV-UNKNOWN"), patient=stranger),
        request(admission),
        request(event("EV-NO-DX", diagnoses=(Diagnosis("DR", "291"),))),
        request(
            event("EV-BAD-CODE", services=(service("9330", 1, dt.date(2026, 3, 10), None, "EV-BAD-CODE-S1"),))
        ),
        request(
            event(
                "EV-NO-COVER", services=(service("93306", 1, dt.date(2025, 3, 10), None, "EV-NO-COVER-S1"),)
            )
        ),
        echo(),
    )
    target = tmp_path / "out.278"
    summary = json.loads(run(str(source), "--out", str(target), "--json")[0])
    good = AuthRequest.objects.get()
    assert good.trace_number == "EV-ECHO"
    assert AuthService.objects.count() == 1
    assert {e.request_id for e in AuthEvent.objects.all()} == {good.pk}
    assert summary["requests"] == 6
    assert summary["received"] == [good.number]
    rejected = {r["trace"]: (r["reason"], sorted(r["errors"])) for r in summary["rejected"]}
    assert rejected == {
        "EV-UNKNOWN": ("75", ["member_id"]),
        "EV-REVERSED": ("57", ["services[1].dates"]),
        "EV-NO-DX": ("15", ["diagnoses"]),
        "EV-BAD-CODE": ("33", ["services[1].code"]),
        "EV-NO-COVER": ("95", ["member_id"]),
    }
    assert any("reversed" in m for r in summary["rejected"] for m in r["errors"].get("services[1].dates", []))
    assert sorted(answers(target.read_bytes())) == sorted([
        ("EV-UNKNOWN", "AAA*Y**75*C"), ("EV-REVERSED", "AAA*N**57*C"), ("EV-NO-DX", "AAA*N**15*C"),
        ("EV-BAD-CODE", "AAA*N**33*C"), ("EV-NO-COVER", "AAA*Y**95*C"), ("EV-ECHO", f"HCR*A4*{good.number}"),
    ])  # fmt: skip
    assert not any(s.startswith("HCR") for s in segments(target.read_bytes()) if "AAA" in s)


def test_what_a_278_may_not_ask_is_rejected_before_any_lookup(um: SmallIpa, tmp_path: Path) -> None:
    appeal = dataclasses.replace(
        event("EV-APPEAL"), certification_type="2", previous_authorization="UM2026-000001"
    )
    dependent = Patient("QC", "ANDERS", "ALEX", birth_date=dt.date(2010, 1, 1), sex="M", relationship="19")
    source = write(tmp_path, request(appeal), request(event("EV-DEPENDENT"), dependent=dependent))
    summary = json.loads(run(str(source), "--out", str(tmp_path / "out.278"), "--json")[0])
    assert not AuthRequest.objects.exists()
    assert {r["trace"]: (r["reason"], sorted(r["errors"])) for r in summary["rejected"]} == {
        "EV-APPEAL": ("33", ["certification_type"]),
        "EV-DEPENDENT": ("77", ["patient"]),
    }


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (b"", b"", "(SE)"),  # the segment count is wrong
        (b"DTP*472*RD8*20260310-20260331", b"DTP*472*RD8*20260331-20260310", "(DTP)"),  # reversed dates
        (b"HI*ABK:I509~", b"", "has no HI segment"),  # no diagnosis at all
    ],
)
def test_a_broken_file_writes_nothing(
    um: SmallIpa, tmp_path: Path, old: bytes, new: bytes, where: str
) -> None:
    data = write(tmp_path, consult(), echo()).read_bytes()
    if old:
        assert old in data
        data = data.replace(old, new, 1)
        if not new:  # one segment fewer: the count kept right, so the error is the one meant
            data = miscount(data)[0]
    else:
        data = miscount(data)[0]
    broken = tmp_path / "broken.278"
    broken.write_bytes(data)
    target = tmp_path / "out.278"
    err = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("edi", "auth", str(broken), "--out", str(target), stdout=io.StringIO(), stderr=err)
    assert info.value.code == 1
    assert where in err.getvalue()
    assert not AuthRequest.objects.exists()
    assert not target.exists()
    assert not User.objects.filter(username="x12-278").exists()


def test_a_broken_file_names_its_segment(um: SmallIpa, tmp_path: Path) -> None:
    data, where = miscount(write(tmp_path, echo()).read_bytes())
    broken = tmp_path / "broken.278"
    broken.write_bytes(data)
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("edi", "auth", str(broken), stdout=io.StringIO(), stderr=err)
    assert where in err.getvalue()
    assert "segment count" in err.getvalue()
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("edi", "auth", str(broken), "--out", str(tmp_path / "o.278"), "--json", stdout=out)
    error = json.loads(out.getvalue())["error"]
    assert f"segment {error['segment_number']} ({error['segment_id']})" == where
    empty = tmp_path / "empty.278"
    empty.write_bytes(b"")
    with pytest.raises(SystemExit):
        call_command("edi", "auth", str(empty), stdout=io.StringIO(), stderr=err)
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.278"))
    assert not AuthRequest.objects.exists()


# ------------------------------------------------------------------------------------------ mapping


def test_the_mapping_of_a_278_event_to_a_request(um: SmallIpa) -> None:
    therapy = Service("HS", "I", Procedure("SV1", "HC", "97110", ("GP", "59")), quantity=Quantity("VS", Decimal(12)),
                      date=dt.date(2026, 3, 15), message="TWICE A WEEK")  # fmt: skip
    nursing = Service("HS", "I", Procedure("SV2", "N4", "00002143380"), date=dt.date(2026, 3, 15))
    ev = Event("HS", "I", (Diagnosis("ABK", "M545"), Diagnosis("LD", "2345-7"), Diagnosis("BF", "7242")),
               traces=(Trace("EV-9", "1"),), level_of_service="U", providers=(CARDIO,), date=dt.date(2026, 3, 10),
               date_end=dt.date(2026, 5, 10), services=(therapy, nursing), message="AFTER A FALL")  # fmt: skip
    data = x12.request_input(request(ev), payer_code="SUN")
    assert (data.kind, data.urgency, data.member_id, data.payer_code) == (
        "prior_auth",
        "expedited",
        "SUN0001",
        "SUN",
    )
    assert (data.requesting_npi, data.servicing_npi, data.servicing_name) == (
        "1234567893",
        "1003000126",
        "CY CARDIO",
    )
    assert data.diagnoses == ["M545", "7242"]  # LOINC left out; ICD-9 kept, for the intake to refuse
    first, second = data.services
    assert (first.code, first.units, first.modifiers, first.service_from, first.service_to) == (
        "97110", Decimal(12), "GP,59", dt.date(2026, 3, 15), dt.date(2026, 3, 15)
    )  # fmt: skip
    assert (second.code, second.units) == ("N4:00002143380", Decimal(1))  # not a CPT/HCPCS code: refused
    assert data.clinical_notes == "AFTER A FALL\nTWICE A WEEK"
    assert (data.trace_number, data.member_birth_date) == ("EV-9", dt.date(1950, 3, 4))
    undated = dataclasses.replace(ev, services=(dataclasses.replace(nursing, date=None),))
    assert x12.request_input(request(undated)).services[0].service_to == dt.date(2026, 5, 10)


@pytest.mark.parametrize(
    ("problems", "reason"),
    [
        ({"member_birth_date": ["the birth date does not match"]}, "71"),
        ({"member_id": ["member id 'X' is held at several payers: name the payer"]}, "76"),
        ({"member_id": ["the member's id is missing"], "diagnoses": ["at least one"]}, "72"),
        ({"requesting_npi": ["'1' is not a valid NPI"]}, "43"),
        ({"services[2].dates": ["the service dates are missing"]}, "57"),
        ({"services": ["at least one service is required"]}, "15"),
        ({"": ["no request clock for x: add the clock rule before receiving this request"]}, "42"),
        ({"kind": ["unknown kind"]}, "33"),
    ],
)
def test_a_refusal_becomes_one_reject_reason(problems: dict[str, list[str]], reason: str) -> None:
    assert x12.rejection_for(problems).reason == reason


def test_decisions_become_hcr_actions(um: SmallIpa) -> None:
    def submitted() -> AuthRequest:
        return services.submit_request(actor=um.users["ops"], data=request_input(
            services=[request_input().services[0], dataclasses.replace(request_input().services[0], code="93307",
                                                                       units=4)]),
            source="portal", received_at=at("2026-03-02 14:00"))  # fmt: skip

    md = um.users["md"]
    pended = submitted()
    assert x12.decision_for(pended) == Decision278("A4", pended.number)
    modified = services.decide(actor=md, request=submitted(), decision="modify", reason="Two units first, then review.",
                               criteria="LCD L1", approved_units={2: Decimal(2)})  # fmt: skip
    answer = x12.decision_for(modified)
    assert (answer.action, answer.certification_number, answer.effective_start, answer.effective_end) == (
        "A6", modified.number, dt.date(2026, 3, 10), dt.date(2026, 3, 31)
    )  # fmt: skip
    assert [(s.action, s.approved_units) for s in answer.services if s] == [
        ("A1", Decimal(1)),
        ("A6", Decimal(2)),
    ]
    denied = services.decide(actor=md, request=submitted(), decision="deny", reason="Not necessary per the policy.",
                             criteria="LCD L1")  # fmt: skip
    assert x12.decision_for(denied).action == "A3"
    withdrawn = services.withdraw(actor=um.users["ops"], request=submitted(), reason="sent twice")
    assert x12.decision_for(withdrawn).action == "C"
    assert x12.rejection_for({}) == Rejection278("33")
