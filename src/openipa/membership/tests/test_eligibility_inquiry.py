"""Eligibility inquiry: the selector (scope, audit, ambiguity) and `openipa edi eligibility` (270 in, 271 out)."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.core.management import CommandError, call_command

from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.identifiers import generate_npi
from openipa.core.models import AuditEvent
from openipa.edi.tests.helpers import samples_dir
from openipa.edi.tests.test_t270_271 import build_270, pyx12_valid, subscriber
from openipa.edi.x12 import EnvelopeReader
from openipa.membership import selectors
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment

ON = dt.date(2026, 3, 15)
PURPOSE = "eligibility inquiry"


def reads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind="read").order_by("id"))


def second_payer(small_ipa, member_id: str = "SUN0001"):
    """Another payer whose member uses the same id as one of Sunrise's."""
    from openipa.contracts.services import payer_create, product_create
    from openipa.membership.services import eligibility_add, member_create

    admin = small_ipa.users["admin"]
    payer = payer_create(
        actor=admin, data={"name": "Moonrise Health", "code": "MOON", "x12_payer_id": "MOON01"}
    )
    product = product_create(
        actor=admin, payer=payer, code="MEDI", name="Moonrise Medicaid", line_of_business="medicaid"
    )
    member = member_create(
        actor=None,
        data={
            "payer": payer,
            "payer_member_id": member_id,
            "first_name": "Mo",
            "last_name": "Moon",
            "date_of_birth": dt.date(1950, 3, 4),  # Amy Anders's too: only the payer tells them apart
            "sex": "M",
        },
    )
    eligibility_add(actor=None, member=member, product=product, valid_from=dt.date(2026, 1, 1), valid_to=None)
    return payer, member


# -- the selector ------------------------------------------------------------------------------------


def test_active_member_with_product_span_and_pcp(small_ipa):
    answer = selectors.eligibility_on(small_ipa.users["ops"], member_id="SUN0001", on=ON)
    assert answer.active
    assert (answer.member_pk, answer.member_id, answer.payer_code) == (
        small_ipa.member_a.pk,
        "SUN0001",
        "SUN",
    )
    assert (answer.member_name, answer.date_of_birth, answer.on) == ("Amy Anders", dt.date(1950, 3, 4), ON)
    assert (answer.product_code, answer.product_name) == ("MAHMO", "Sunrise Medicare HMO")
    assert (answer.coverage_from, answer.coverage_to) == (dt.date(2026, 1, 1), None)
    assert (answer.pcp_npi, answer.pcp_name, answer.practice_name) == (
        "1234567893",
        "Ada Alder, MD",
        "Alder Family Medicine",
    )
    (event,) = reads()
    assert (event.actor_username, event.purpose, event.member_ids, event.object_id) == (
        "ops",
        PURPOSE,
        [small_ipa.member_a.pk],
        str(small_ipa.member_a.pk),
    )


def test_inactive_before_and_after_the_span(small_ipa):
    ops = small_ipa.users["ops"]
    before = selectors.eligibility_on(ops, member_id="SUN0001", on=dt.date(2025, 12, 31))
    assert not before.active
    assert (before.product_code, before.coverage_from, before.pcp_npi) == (None, None, None)
    EligibilitySpan.objects.filter(member=small_ipa.member_a).update(valid_to=dt.date(2026, 2, 28))
    PcpAssignment.objects.filter(member=small_ipa.member_a).update(valid_to=dt.date(2026, 2, 28))
    last_day = selectors.eligibility_on(ops, member_id="SUN0001", on=dt.date(2026, 2, 28))
    assert last_day.active
    assert (last_day.coverage_from, last_day.coverage_to) == (dt.date(2026, 1, 1), dt.date(2026, 2, 28))
    after = selectors.eligibility_on(ops, member_id="SUN0001", on=dt.date(2026, 3, 1))
    assert not after.active
    assert (after.product_code, after.pcp_npi) == (None, None)
    assert len(reads()) == 3  # an inactive answer is still member data read


def test_unknown_member_is_not_found_and_nothing_is_logged(small_ipa):
    with pytest.raises(NotFound, match="member NOPE"):
        selectors.eligibility_on(small_ipa.users["ops"], member_id="NOPE", on=ON)
    with pytest.raises(NotFound, match="member SUN0001 of payer MOON"):
        selectors.eligibility_on(small_ipa.users["ops"], member_id="SUN0001", on=ON, payer_code="MOON")
    assert reads() == []


def test_practice_user_sees_own_member_and_is_refused_others_like_unknown_ids(small_ipa):
    alice = small_ipa.users["alice"]
    own = selectors.eligibility_on(alice, member_id="SUN0001", on=ON)
    assert (own.active, own.pcp_npi) == (True, "1234567893")
    events = AuditEvent.objects.count()
    snapshot = list(Member.objects.values())
    with pytest.raises(NotFound) as refused:
        selectors.eligibility_on(alice, member_id="SUN0002", on=ON)
    with pytest.raises(NotFound) as unknown:
        selectors.eligibility_on(alice, member_id="SUN9999", on=ON)
    assert str(refused.value) == "member SUN0002"  # the same words as for an id nobody holds
    assert str(unknown.value) == "member SUN9999"
    # the refusal is audit-neutral and changes nothing
    assert AuditEvent.objects.count() == events
    assert list(Member.objects.values()) == snapshot


def test_practice_user_sees_a_pcp_only_at_their_practice(small_ipa):
    """Amy moves to Dr Birch at Birch Pediatrics in March: Alice still sees Amy (she was Alder's member),
    covered, but not the other practice's PCP."""
    PcpAssignment.objects.filter(member=small_ipa.member_a).update(valid_to=dt.date(2026, 2, 28))
    PcpAssignment.objects.create(
        member=small_ipa.member_a,
        provider=small_ipa.pcp_b,
        practice=small_ipa.practice_b,
        valid_from=dt.date(2026, 3, 1),
    )
    alice = selectors.eligibility_on(small_ipa.users["alice"], member_id="SUN0001", on=ON)
    assert (alice.active, alice.pcp_npi, alice.practice_name) == (True, None, None)
    ops = selectors.eligibility_on(small_ipa.users["ops"], member_id="SUN0001", on=ON)
    assert (ops.pcp_npi, ops.practice_name) == ("1245319599", "Birch Pediatrics")


def test_an_id_two_payers_hold_is_ambiguous_without_the_payer(small_ipa):
    _payer, moon = second_payer(small_ipa)
    ops = small_ipa.users["ops"]
    with pytest.raises(ValidationFailed) as info:
        selectors.eligibility_on(ops, member_id="SUN0001", on=ON)
    assert info.value.fields == {
        "payer": ["Member id SUN0001 is held by more than one payer (MOON, SUN): name the payer."]
    }
    assert reads() == []
    answer = selectors.eligibility_on(ops, member_id="SUN0001", on=ON, payer_code="MOON")
    assert (answer.member_pk, answer.product_name, answer.pcp_npi) == (moon.pk, "Moonrise Medicaid", None)
    # Alice sees only Sunrise's member, so for her the id is not ambiguous (and Moonrise's is not revealed)
    mine = selectors.eligibility_on(small_ipa.users["alice"], member_id="SUN0001", on=ON)
    assert mine.member_pk == small_ipa.member_a.pk


def test_the_system_answers_without_scope_and_is_logged_as_system(small_ipa):
    answer = selectors.eligibility_on(None, member_id="SUN0002", on=ON)
    assert answer.member_pk == small_ipa.member_b.pk
    (event,) = reads()
    assert (event.actor_username, event.purpose) == ("system", PURPOSE)


def test_roles_without_member_access_are_refused(small_ipa):
    with pytest.raises(PermissionDenied):
        selectors.eligibility_on(small_ipa.users["messenger"], member_id="SUN0001", on=ON)


# -- openipa edi eligibility -------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("edi", "eligibility", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


@pytest.fixture
def sample_member(small_ipa):
    """The shared sample 270's subscriber (SMITH ROBERT 11122333301, born 1943-05-19) at payer 842610001,
    covered in 2006 with a PCP."""
    from openipa.contracts.services import payer_create, product_create
    from openipa.membership.services import eligibility_add, member_create, pcp_assign
    from openipa.network.services import affiliation_create, provider_create

    admin = small_ipa.users["admin"]
    payer = payer_create(
        actor=admin, data={"name": "ABC Company", "code": "ABC", "x12_payer_id": "842610001"}
    )
    product = product_create(
        actor=admin, payer=payer, code="GOLD", name="GOLD 123 PLAN", line_of_business="commercial"
    )
    pcp = provider_create(
        actor=admin,
        data={
            "npi": generate_npi(random.Random(271)),
            "first_name": "Marcus",
            "last_name": "Jones",
            "taxonomy_code": "207Q00000X",
            "specialty": "Family Medicine",
            "kind": "pcp",
        },
    )
    affiliation_create(actor=admin, provider=pcp, practice=small_ipa.practice_a, valid_from=dt.date(2006, 1, 1),
                       valid_to=dt.date(2025, 12, 31))  # fmt: skip
    member = member_create(
        actor=None,
        data={
            "payer": payer,
            "payer_member_id": "11122333301",
            "first_name": "Robert",
            "last_name": "Smith",
            "date_of_birth": dt.date(1943, 5, 19),
            "sex": "M",
        },
    )
    eligibility_add(
        actor=None,
        member=member,
        product=product,
        valid_from=dt.date(2006, 1, 1),
        valid_to=dt.date(2006, 12, 31),
    )
    pcp_assign(actor=None, member=member, provider=pcp, valid_from=dt.date(2006, 1, 1), valid_to=None)
    return member, pcp


def test_cli_answers_the_shared_sample(sample_member, tmp_path):
    member, pcp = sample_member
    out, err = run(str(samples_dir() / "lfh_subscriber-health-benefit-check.270"))
    segs = segments(out)
    start = segs.index("TRN*2*93175-012547*9877281234")
    assert segs[start + 1 : start + 11] == [
        "NM1*IL*1*Smith*Robert****MI*11122333301",
        "DMG*D8*19430519*M",
        "DTP*346*D8*20060101",
        "DTP*347*D8*20061231",
        "EB*1*IND*30**GOLD 123 PLAN",
        "EB*L",
        "LS*2120",
        f"NM1*P3*1*Jones*Marcus****XX*{pcp.npi}",
        "LE*2120",
        "SE*18*0001",
    ]
    assert pyx12_valid(out.encode())
    assert "1 inquiries: 1 active" in err
    (event,) = reads()
    assert (event.actor_username, event.purpose, event.member_ids) == ("system", PURPOSE, [member.pk])
    # --out writes the file and nothing on standard output
    target = tmp_path / "answer.271"
    out2, _err = run(str(samples_dir() / "lfh_subscriber-health-benefit-check.270"), "--out", str(target))
    assert out2 == ""
    assert segments(target.read_text())[4:] == segs[4:]  # after ISA, GS, ST, BHT (their time stamps)


def test_cli_active_inactive_not_found_and_rejections(small_ipa, tmp_path):
    path = tmp_path / "in.270"
    path.write_bytes(
        build_270(
            subscriber("SUN0001"),  # active
            subscriber("SUN0001", dtp=("DTP", "291", "D8", "20251231")),  # before the span
            subscriber("SUN0404"),  # nobody
            subscriber("SUN0002", dmg=("DMG", "D8", "19500304")),  # Bert is not born on Amy's birthday
            subscriber("", name=("NM1", "IL", "1", "BROOKS", "BERT")),  # no id
        )
    )
    out, err = run(str(path))
    ebs = [s for s in segments(out) if s.startswith(("EB*", "AAA*"))]
    assert ebs == ["EB*1*IND*30**Sunrise Medicare HMO", "EB*L", "EB*6**30", "AAA*Y**75*C", "AAA*Y**71*C",
                   "AAA*Y**72*C"]  # fmt: skip
    assert "5 inquiries: 1 active, 1 inactive, 3 rejected" in err
    assert pyx12_valid(out.encode())
    assert len(reads()) == 3  # SUN0001 twice and SUN0002 were read; the unknown and id-less ones read nothing


def test_cli_payer_from_nm1_pr_else_from_the_option(small_ipa, tmp_path):
    second_payer(small_ipa)
    path = tmp_path / "in.270"
    path.write_bytes(build_270(subscriber("SUN0001")))  # NM1*PR ... PI*SUN01: Sunrise's X12 payer id
    out, _err = run(str(path))
    assert "EB*1*IND*30**Sunrise Medicare HMO" in segments(out)
    unknown = tmp_path / "unknown-payer.270"
    unknown.write_bytes(build_270(subscriber("SUN0001")).replace(b"PI*SUN01", b"PI*ZZZ99"))
    out, _err = run(str(unknown))
    assert "AAA*Y**76*C" in segments(out)  # two payers hold SUN0001
    out, _err = run(str(unknown), "--payer", "MOON")
    assert "EB*1*IND*30**Moonrise Medicaid" in segments(out)
    with pytest.raises(CommandError, match="unknown payer 'NOPE'"):
        run(str(unknown), "--payer", "NOPE")


def test_cli_bad_270_writes_nothing_and_exits_1(small_ipa, tmp_path):
    path = tmp_path / "bad.270"
    path.write_bytes(
        build_270(subscriber("SUN0001"), subscriber("SUN0002", dtp=("DTP", "291", "D8", "20261301")))
    )
    target = tmp_path / "answer.271"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("edi", "eligibility", str(path), "--out", str(target), stdout=out, stderr=err)
    assert info.value.code == 1
    assert "segment 19 (DTP)" in err.getvalue()
    assert "element 3: '20261301' is not a CCYYMMDD date" in err.getvalue()
    assert out.getvalue() == ""
    assert not target.exists()
    assert reads() == []  # nothing was looked up either
    # a file with no 270 in it
    empty = tmp_path / "empty.270"
    empty.write_bytes(build_270(subscriber("SUN0001")).replace(b"ST*270", b"ST*271"))
    with pytest.raises(SystemExit):
        call_command("edi", "eligibility", str(empty), stdout=out, stderr=err)
    assert "no 270 inquiry" in err.getvalue()


def test_cli_output_reads_back(small_ipa, tmp_path):
    path = tmp_path / "in.270"
    path.write_bytes(build_270(subscriber("SUN0001"), subscriber("SUN0002"), transactions=2))
    out, _err = run(str(path))
    assert [t.set_id for t in EnvelopeReader(out.encode()).transactions()] == ["271", "271"]
