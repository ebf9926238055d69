"""Roster ingestion: adds, changes, terms, reinstatements, full files, retro flags, duplicates, rejections."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.membership.models import (
    EligibilitySpan,
    Member,
    PcpAssignment,
    RosterChange,
    RosterImport,
    RosterProfile,
)
from openipa.membership.services.roster import import_roster, result_json
from openipa.membership.tests.roster_files import NPI_A, NPI_B, NPI_SPECIALIST, M, roster_834

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def earlier_roster(small_ipa: Any) -> RosterImport:
    """small_ipa's members came from an earlier roster of the payer: the files below are not its initial load
    (an initial load has no retro changes; see test_initial_load_has_no_retro_changes)."""
    return RosterImport.objects.create(
        payer=small_ipa.payer, file_name="2026-01.834", sha256="e" * 64, format="x12", status="applied",
        imported_by="earlier",
    )  # fmt: skip


def write(tmp_path: Path, data: bytes, name: str = "roster.834") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(ipa: Any, tmp_path: Path, data: bytes, name: str = "roster.834", **kw: Any) -> RosterImport:
    return import_roster(actor=ipa.users["ops"], payer=ipa.payer, path=write(tmp_path, data, name), **kw)


def db_state() -> tuple[Any, ...]:
    return (
        sorted(
            Member.objects.values_list("payer_member_id", "last_name", "first_name", "date_of_birth", "city")
        ),
        sorted(EligibilitySpan.objects.values_list("member_id", "product_id", "valid_from", "valid_to")),
        sorted(PcpAssignment.objects.values_list("member_id", "provider_id", "valid_from", "valid_to")),
        RosterChange.objects.count(),
    )


def spans(member_id: str) -> list[tuple[D, D | None]]:
    return list(
        EligibilitySpan.objects.filter(member__payer_member_id=member_id)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to")
    )


def pcps(member_id: str) -> list[tuple[str, D, D | None]]:
    return [
        (p.provider.npi, p.valid_from, p.valid_to)
        for p in PcpAssignment.objects.filter(member__payer_member_id=member_id)
        .select_related("provider")
        .order_by("valid_from")
    ]


# -- each maintenance type ---------------------------------------------------------------------------


def test_addition_creates_member_coverage_and_pcp(small_ipa: Any, tmp_path: Path) -> None:
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01", pcp_npi=NPI_A, pcp_begin="20260101")]))
    assert rec.status == "applied"
    assert (rec.added, rec.changed, rec.termed, rec.reinstated, rec.unchanged) == (1, 0, 0, 0, 0)
    member = Member.objects.get(payer_member_id="NEW01")
    assert (member.last_name, member.first_name, member.date_of_birth, member.sex) == (
        "DOE",
        "JANE",
        D(1950, 3, 4),
        "F",
    )
    assert spans("NEW01") == [(D(2026, 1, 1), None)]
    assert pcps("NEW01") == [(NPI_A, D(2026, 1, 1), None)]
    span = EligibilitySpan.objects.get(member=member)
    assert span.source_import_id == rec.pk
    change = RosterChange.objects.get(member=member)
    assert change.kind == "add"
    assert change.roster_import_id == rec.pk
    assert change.segment == 8  # the INS segment (ISA 1, GS 2, ST 3, BGN 4, DTP 5, N1 6, N1 7, INS 8)
    # added in January by a file for June: retro, 5 months back, inside the 6-month window
    assert (change.retro_months, change.outside_window) == (5, False)
    assert rec.retro == 1
    assert "AK9*A*1*1*1" in rec.ack_999
    assert (Path(small_ipa.payer.pk and rec.stored_path).name).endswith("roster.834")


def test_change_demographics_and_pcp(small_ipa: Any, tmp_path: Path) -> None:
    data = roster_834(
        [
            M(
                "SUN0001",
                "001",
                "25",
                last="ANDERS-LEE",
                first="AMY",
                dob="19500304",
                pcp_npi=NPI_B,
                pcp_begin="20260601",
            )
        ]
    )
    rec = run(small_ipa, tmp_path, data)
    assert (rec.added, rec.changed) == (0, 1)
    member = Member.objects.get(payer_member_id="SUN0001")
    assert member.last_name == "ANDERS-LEE"
    assert pcps("SUN0001") == [(NPI_A, D(2026, 1, 1), D(2026, 5, 31)), (NPI_B, D(2026, 6, 1), None)]
    change = RosterChange.objects.get(member=member)
    assert change.detail["fields"]["last_name"] == ["Anders", "ANDERS-LEE"]
    assert change.effective == D(2026, 6, 1)
    assert change.retro_months == 0


def test_termination(small_ipa: Any, tmp_path: Path) -> None:
    rec = run(
        small_ipa,
        tmp_path,
        roster_834([M("SUN0002", "024", "07", last="BROOKS", first="BERT", begin=None, end="20260430")]),
    )
    assert (rec.termed, rec.changed) == (1, 0)
    assert spans("SUN0002") == [(D(2026, 1, 1), D(2026, 4, 30))]
    assert pcps("SUN0002")[-1][2] == D(2026, 4, 30)
    change = RosterChange.objects.get(member__payer_member_id="SUN0002")
    assert (change.kind, change.effective, change.retro_months) == ("term", D(2026, 5, 1), 1)


def test_termination_by_member_level_date(small_ipa: Any, tmp_path: Path) -> None:
    rec = run(
        small_ipa,
        tmp_path,
        roster_834([M("SUN0002", "024", "07", begin=None, member_dates={"357": "20260531"})]),
    )
    assert rec.termed == 1
    assert spans("SUN0002") == [(D(2026, 1, 1), D(2026, 5, 31))]


def test_reinstatement(small_ipa: Any, tmp_path: Path) -> None:
    run(small_ipa, tmp_path, roster_834([M("SUN0002", "024", begin=None, end="20260430")]), "term.834")
    rec = run(
        small_ipa,
        tmp_path,
        roster_834([M("SUN0002", "025", "41", begin="20260501")], control="0002"),
        "reinstate.834",
    )
    assert (rec.reinstated, rec.termed) == (1, 0)
    assert spans("SUN0002") == [(D(2026, 1, 1), None)]  # the abutting span is merged back


def test_same_content_again_is_unchanged(small_ipa: Any, tmp_path: Path) -> None:
    run(small_ipa, tmp_path, roster_834([M("NEW01")]), "a.834")
    before = db_state()
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01")], control="0002"), "b.834")
    assert rec.status == "applied"
    assert (rec.added, rec.changed, rec.unchanged) == (0, 0, 1)
    assert db_state() == before


def test_duplicate_file_changes_nothing(small_ipa: Any, tmp_path: Path) -> None:
    data = roster_834([M("NEW01"), M("NEW02", last="ROE")])
    first = run(small_ipa, tmp_path, data)
    before = db_state()
    again = run(small_ipa, tmp_path, data, "renamed.834")
    assert again.status == "duplicate"
    assert again.duplicate_of_id == first.pk
    assert db_state() == before
    assert result_json(again)["status"] == "duplicate"


# -- full files -----------------------------------------------------------------------------------


def test_full_file_terms_missing_members(small_ipa: Any, tmp_path: Path) -> None:
    data = roster_834([M("SUN0001", "030", last="ANDERS", first="AMY"), M("NEW01", "030")], action="4")
    rec = run(small_ipa, tmp_path, data)
    assert rec.full_file
    assert (rec.added, rec.termed) == (1, 1)
    # SUN0002 is not in the June full file: covered through May 31
    assert spans("SUN0002") == [(D(2026, 1, 1), D(2026, 5, 31))]
    assert RosterChange.objects.get(member__payer_member_id="SUN0002").segment == 0


def test_full_file_keeps_missing_members_when_the_payer_says_so(small_ipa: Any, tmp_path: Path) -> None:
    RosterProfile.objects.create(payer=small_ipa.payer, full_file_terms_missing=False)
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01", "030")], action="4"))
    assert rec.termed == 0
    assert spans("SUN0002") == [(D(2026, 1, 1), None)]


# -- retro and warnings ----------------------------------------------------------------------------


def test_initial_load_has_no_retro_changes(
    small_ipa: Any, tmp_path: Path, earlier_roster: RosterImport
) -> None:
    RosterImport.objects.filter(pk=earlier_roster.pk).delete()
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01", begin="20200101")], effective="20261201"))
    assert (rec.status, rec.added, rec.retro, rec.outside_window) == ("applied", 1, 0, 0)
    assert RosterChange.objects.get(member__payer_member_id="NEW01").retro_months == 0
    # the next file is measured against it
    rec = run(small_ipa, tmp_path, roster_834([M("NEW02", begin="20260101")], effective="20261201"), "2.834")
    assert (rec.retro, rec.outside_window) == (1, 1)


def test_retro_outside_the_contract_window_is_flagged(small_ipa: Any, tmp_path: Path) -> None:
    # a December file adding coverage from January: 11 months back, the window is 6
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01", begin="20260101")], effective="20261201"))
    change = RosterChange.objects.get(member__payer_member_id="NEW01")
    assert (change.retro_months, change.outside_window) == (11, True)
    assert rec.outside_window == 1
    assert any("outside the contract's 6-month retro window" in w["message"] for w in rec.warnings)


def test_pcp_warnings_do_not_reject(small_ipa: Any, tmp_path: Path) -> None:
    small_ipa.pcp_b.accepting_new_patients = False
    small_ipa.pcp_b.save()
    data = roster_834(
        [
            M("NEW01", pcp_npi="1111111112"),  # valid check digit, not in the network
            M("NEW02", pcp_npi=NPI_SPECIALIST),
            M("NEW03", pcp_npi=NPI_B),
        ]
    )
    rec = run(small_ipa, tmp_path, data)
    assert rec.status == "applied"
    assert rec.added == 3
    messages = [w["message"] for w in rec.warnings]
    assert any("unknown PCP NPI 1111111112" in m for m in messages)
    assert any("is not a primary care provider" in m for m in messages)
    assert any("not accepting new patients" in m for m in messages)
    assert pcps("NEW01") == []
    assert pcps("NEW03") == [(NPI_B, D(2026, 1, 1), None)]


def test_implausible_dates_warn(small_ipa: Any, tmp_path: Path) -> None:
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01", dob="19500304", begin="20280101")]))
    assert rec.status == "applied"
    assert any("more than a year after the file date" in w["message"] for w in rec.warnings)


def test_out_of_scope_lines_are_ignored(small_ipa: Any, tmp_path: Path) -> None:
    rec = run(small_ipa, tmp_path, roster_834([M("NEW01", line="DEN", plan="DENTAL")]))
    assert rec.status == "applied"
    assert (rec.added, rec.unchanged) == (0, 1)
    assert not Member.objects.filter(payer_member_id="NEW01").exists()


# -- rejections: nothing applied, file and report kept ---------------------------------------------


def _rejected(ipa: Any, tmp_path: Path, data: bytes) -> RosterImport:
    before = db_state()
    rec = run(ipa, tmp_path, data)
    assert rec.status == "rejected"
    assert db_state() == before
    assert (Path(tmp_path / "var") / rec.stored_path).read_bytes() == data
    assert rec.errors
    return rec


def test_unknown_plan_rejects_the_whole_file(small_ipa: Any, tmp_path: Path) -> None:
    rec = _rejected(small_ipa, tmp_path, roster_834([M("NEW01"), M("NEW02", plan="GOLDPPO")]))
    (error,) = rec.errors
    assert error["segment_id"] == "HD"
    assert error["element"] == 4
    assert "plan 'GOLDPPO' is not a product of SUN" in error["message"]
    assert rec.rejected == 1
    assert "IK3*HD*" in rec.ack_999
    assert "IK5*R" in rec.ack_999


def test_new_member_without_birth_date(small_ipa: Any, tmp_path: Path) -> None:
    rec = _rejected(small_ipa, tmp_path, roster_834([M("NEW01", dob=None)]))
    assert rec.errors[0]["message"] == "new member NEW01 has no date of birth"


def test_member_twice_in_one_file(small_ipa: Any, tmp_path: Path) -> None:
    rec = _rejected(small_ipa, tmp_path, roster_834([M("NEW01"), M("NEW01")]))
    assert "appears twice" in rec.errors[0]["message"]


def test_termination_without_a_date(small_ipa: Any, tmp_path: Path) -> None:
    rec = _rejected(small_ipa, tmp_path, roster_834([M("SUN0002", "024", begin=None)]))
    assert "termination has no end date" in rec.errors[0]["message"]


@pytest.mark.parametrize(
    ("mutate", "segment_id", "words"),
    [
        (lambda d: d.replace(b"*021*28*", b"*099*28*", 1), "INS", "maintenance type code '099'"),
        (lambda d: d.replace(b"DMG*D8*19500304", b"DMG*D8*19501304", 1), "DMG", "is not a CCYYMMDD date"),
        (lambda d: d.replace(b"~SE*", b"~SE*9", 1), "SE", ""),
        (lambda d: d.replace(b"*00*          *00*", b"*00*         *00*", 1), "ISA", ""),
        (lambda d: d[: len(d) // 2], "", ""),
        (lambda d: d.replace(b"IEA*1*000000007", b"IEA*1*000000008"), "IEA", ""),
        (lambda d: d.replace(b"NM1*IL*1*DOE*JANE****34*NEW01~", b""), "", "NM1*IL"),
        (lambda d: bytes(range(256)) * 4, "", ""),
    ],
    ids=[
        "unknown-maintenance",
        "invalid-date",
        "se-count",
        "isa-length",
        "truncated",
        "control-numbers",
        "missing-nm1",
        "garbage",
    ],
)
def test_hostile_files_are_rejected_with_nothing_applied(
    small_ipa: Any, tmp_path: Path, mutate: Any, segment_id: str, words: str
) -> None:
    rec = _rejected(small_ipa, tmp_path, mutate(roster_834([M("NEW01"), M("NEW02")])))
    error = rec.errors[0]
    if segment_id:
        assert error["segment_id"] == segment_id
    assert words in error["message"]
    assert isinstance(error["segment"], int)


# -- the shared samples --------------------------------------------------------------------------


def _sample(name: str) -> Path:
    from openipa.edi.tests.helpers import samples_dir

    return samples_dir() / name


def test_shared_samples_import(small_ipa: Any, tmp_path: Path) -> None:
    from openipa.contracts.services import product_create

    dental = product_create(
        actor=small_ipa.users["admin"],
        payer=small_ipa.payer,
        code="DENTAL",
        name="Dental",
        line_of_business="commercial",
    )
    RosterProfile.objects.create(
        payer=small_ipa.payer, insurance_lines="HLT,DEN", default_product=small_ipa.product, plan_map={}
    )
    # the enrollment sample adds John Doe with HLT (default product) and VIS (ignored)
    enroll = import_roster(
        actor=None, payer=small_ipa.payer, path=_sample("lfh_enroll-employee-multiple-products.834")
    )
    assert (enroll.status, enroll.added) == ("applied", 1)
    assert spans("123456789") == [(D(1996, 6, 1), None)]
    # the change sample adds dental coverage for a member already on file
    from openipa.membership.services import member_create

    member_create(actor=None, data={"payer": small_ipa.payer, "payer_member_id": "2024433307", "first_name": "WILLIAM",
                                    "last_name": "SMITH", "date_of_birth": D(1980, 1, 1), "sex": "M"})  # fmt: skip
    RosterProfile.objects.filter(payer=small_ipa.payer).update(default_product=dental)
    change = import_roster(actor=None, payer=small_ipa.payer, path=_sample("lfh_add-subscriber-coverage.834"))
    assert (change.status, change.changed) == ("applied", 1)
    assert spans("2024433307") == [(D(2002, 7, 1), None)]
    # the termination sample ends a member's coverage by the member-level DTP*357
    member_create(actor=None, data={"payer": small_ipa.payer, "payer_member_id": "103229876", "first_name": "JOHN",
                                    "last_name": "DOE", "date_of_birth": D(1990, 1, 1), "sex": "M"})  # fmt: skip
    from openipa.membership.services import eligibility_add

    eligibility_add(actor=None, member=Member.objects.get(payer_member_id="103229876"), product=small_ipa.product,
                    valid_from=D(1995, 1, 1), valid_to=None)  # fmt: skip
    term = import_roster(
        actor=None, payer=small_ipa.payer, path=_sample("lfh_terminate-subscriber-eligibility.834")
    )
    assert (term.status, term.termed) == ("applied", 1)
    assert spans("103229876") == [(D(1995, 1, 1), D(1996, 8, 1))]


# -- the command ----------------------------------------------------------------------------------


def _command(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import-roster", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_command_json_shape_and_exit_codes(small_ipa: Any, tmp_path: Path) -> None:
    good = write(tmp_path, roster_834([M("NEW01")]), "good.834")
    code, out = _command(str(good), "--payer", "SUN", "--json")
    assert code == 0
    result = json.loads(out)
    assert list(result) == [
        "status",
        "added",
        "changed",
        "termed",
        "reinstated",
        "unchanged",
        "warnings",
        "errors",
    ]
    assert (result["status"], result["added"]) == ("applied", 1)
    code, out = _command(str(good), "--payer", "sun", "--json")
    assert (code, json.loads(out)["status"]) == (0, "duplicate")
    bad = write(tmp_path, roster_834([M("NEW02", plan="NOPE")]), "bad.834")
    before = db_state()
    code, out = _command(str(bad), "--payer", "SUN", "--json")
    result = json.loads(out)
    assert code == 1
    assert result["status"] == "rejected"
    assert list(result["errors"][0]) == ["segment", "segment_id", "element", "message"]
    assert db_state() == before


def test_command_text_and_unknown_payer(small_ipa: Any, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    good = write(tmp_path, roster_834([M("NEW01")]), "good.834")
    code, out = _command(str(good), "--payer", "SUN")
    assert code == 0
    assert "applied" in out
    assert "added" in out
    with pytest.raises(CommandError, match="no payer with code 'XYZ'"):
        call_command("import-roster", str(good), "--payer", "XYZ")


def test_practice_user_may_not_import(small_ipa: Any, tmp_path: Path) -> None:
    from openipa.core.errors import PermissionDenied

    before = db_state()
    with pytest.raises(PermissionDenied):
        import_roster(
            actor=small_ipa.users["alice"], payer=small_ipa.payer, path=write(tmp_path, roster_834([M("X1")]))
        )
    assert db_state() == before
    assert RosterImport.objects.count() == 1  # only the earlier roster


# -- CSV rosters -----------------------------------------------------------------------------------

CSV_PROFILE = {
    "columns": {
        "member_id": "Member ID",
        "last_name": "Last",
        "first_name": "First",
        "birth_date": "DOB",
        "sex": "Sex",
        "plan_code": "Plan",
        "coverage_begin": "Eff",
        "coverage_end": "Term",
        "pcp_npi": "PCP NPI",
        "maintenance": "Action",
    },
    "date_format": "%m/%d/%Y",
    "maintenance_values": {"A": "021", "C": "001", "T": "024"},
    "full_file": False,
}
CSV_HEAD = "Member ID,Last,First,DOB,Sex,Plan,Eff,Term,PCP NPI,Action\n"


def test_csv_roster_applies_through_the_same_service(small_ipa: Any, tmp_path: Path) -> None:
    RosterProfile.objects.create(payer=small_ipa.payer, default_format="csv", csv_profile=CSV_PROFILE)
    data = (
        CSV_HEAD
        + f"C001,ROE,RITA,02/03/1951,F,MAHMO,06/01/2026,,{NPI_B},A\n"
        + "SUN0002,BROOKS,BERT,07/08/1948,M,MAHMO,,05/31/2026,,T\n"
    ).encode()
    rec = run(small_ipa, tmp_path, data, "roster.csv")
    assert (rec.status, rec.format, rec.added, rec.termed) == ("applied", "csv", 1, 1)
    assert spans("C001") == [(D(2026, 6, 1), None)]
    assert pcps("C001") == [(NPI_B, D(2026, 6, 1), None)]
    assert spans("SUN0002") == [(D(2026, 1, 1), D(2026, 5, 31))]
    assert rec.ack_999 == ""


def test_csv_roster_errors_name_line_and_column(small_ipa: Any, tmp_path: Path) -> None:
    RosterProfile.objects.create(payer=small_ipa.payer, default_format="csv", csv_profile=CSV_PROFILE)
    data = (CSV_HEAD + "C001,ROE,RITA,02/03/1951,F,GOLD,06/01/2026,,,A\n").encode()
    rec = _rejected(small_ipa, tmp_path, data)
    (error,) = rec.errors
    assert (error["segment"], error["segment_id"]) == (2, "Plan")
    assert "plan 'GOLD' is not a product of SUN" in error["message"]
    bad_date = (CSV_HEAD + "C001,ROE,RITA,1951-02-03,F,MAHMO,06/01/2026,,,A\n").encode()
    rec = _rejected(small_ipa, tmp_path, bad_date)
    assert (rec.errors[0]["segment"], rec.errors[0]["segment_id"]) == (2, "DOB")


def test_csv_without_a_mapping_is_refused_before_anything_is_kept(small_ipa: Any, tmp_path: Path) -> None:
    from openipa.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="no CSV column mapping"):
        run(small_ipa, tmp_path, CSV_HEAD.encode(), "roster.csv", fmt="csv")
    assert RosterImport.objects.count() == 1  # only the earlier roster


# -- acknowledgments -------------------------------------------------------------------------------


def _pyx12_valid(text: str) -> bool:
    pyx12_document = pytest.importorskip("pyx12.x12n_document")
    pyx12_params = pytest.importorskip("pyx12.params")
    return bool(pyx12_document.x12n_document(pyx12_params.params(), io.StringIO(text), None, None))


def test_999_for_applied_and_rejected_files_validates(small_ipa: Any, tmp_path: Path) -> None:
    good = run(small_ipa, tmp_path, roster_834([M("NEW01")]), "good.834")
    assert "IK5*A" in good.ack_999
    assert _pyx12_valid(good.ack_999)
    bad = run(small_ipa, tmp_path, roster_834([M("NEW02", plan="NOPE")]), "bad.834")
    assert "IK5*R" in bad.ack_999
    assert "AK9*R*1*1*0" in bad.ack_999
    assert _pyx12_valid(bad.ack_999)


def test_envelope_error_answers_with_ta1(small_ipa: Any, tmp_path: Path) -> None:
    data = roster_834([M("NEW01")]).replace(b"IEA*1*000000007", b"IEA*1*000000008")
    rec = run(small_ipa, tmp_path, data)
    assert rec.status == "rejected"
    assert "TA1*000000007*" in rec.ack_999
    assert "*R*001" in rec.ack_999


# -- mutated files: a clean result, never a crash or a partial write ------------------------------------

_MUTATION = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=2000),
    st.sampled_from(
        [b"*", b"~", b":", b"X", b"0", b"99999999", b"INS*Y*18*024", b"HD*021", b"\x00\xff", b"DTP*348*D8*"]
    ),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_MUTATION, min_size=1, max_size=3))
def test_mutated_rosters_are_applied_whole_or_rejected_whole(
    small_ipa: Any, tmp_path: Path, ops: list[tuple[str, int, bytes]]
) -> None:
    from openipa.edi.tests.helpers import mutate

    data = mutate(roster_834([M("NEW01", pcp_npi=NPI_A), M("SUN0002", "024", begin=None, end="20260430"),
                              M("NEW02", last="ROE")]), ops)  # fmt: skip
    before = db_state()
    rec = run(small_ipa, tmp_path, data, f"m{len(data)}-{abs(hash(data))}.834")
    assert rec.status in ("applied", "rejected", "duplicate")
    if rec.status != "applied":
        assert db_state() == before
    if rec.status == "rejected":
        assert all(isinstance(e["message"], str) and e["message"] for e in rec.errors)


def test_control_characters_are_rejected_and_reported_printably(small_ipa: Any, tmp_path: Path) -> None:
    rec = _rejected(small_ipa, tmp_path, roster_834([M("NEW01", last="DO\x00E")]))
    assert rec.errors[0]["message"] == "the member's last name holds a control character"
    data = roster_834([M("NEW01")]).replace(b"DMG*D8*19500304", b"DMG*D8*1950\x0004", 1)
    rec = _rejected(small_ipa, tmp_path, data)
    assert "\\x00" in rec.errors[0]["message"]
