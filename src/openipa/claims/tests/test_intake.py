"""Importing 837 files: the public samples apply with their claims and lines; a file with a bad claim is
rejected with every problem listed and nothing applied; the same file again is a duplicate; replacements must
name a claim on file; the CLI's JSON and exit status; who may import."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.claims.services.intake import import_claims
from openipa.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples" / "x12"
if not SAMPLES.is_dir():  # a clone beside the shared folder, or the CI's /tmp/shared link
    SAMPLES = Path("/tmp/shared/samples/x12")
EXAMPLE1 = SAMPLES / "lfh_demo.example1.837"
INSTITUTIONAL = SAMPLES / "lfh_institutional-claim.837i"


def test_the_professional_and_institutional_samples_apply(small_ipa: Any) -> None:
    ops = small_ipa.users["ops"]
    record = import_claims(actor=ops, path=EXAMPLE1, received_on=dt.date(2026, 5, 2))
    assert record.status == ClaimImport.Status.APPLIED, record.errors
    assert (record.claims, record.lines, record.charge_cents, record.unknown_members) == (1, 4, 10000, 1)
    claim = Claim.objects.get(source=record)
    assert (claim.kind, claim.frequency, claim.received_on) == ("professional", "1", dt.date(2026, 5, 2))
    assert claim.member is None  # the sample's member is not ours: adjudication will deny it
    lines = list(ClaimLine.objects.filter(claim=claim).order_by("number"))
    assert [line.number for line in lines] == [1, 2, 3, 4]
    assert sum(line.charge_cents for line in lines) == claim.charge_cents
    assert all(line.outcome == ClaimLine.Outcome.NEW for line in lines)
    assert record.ack_999.startswith("ISA")
    # the 277CA accepts the claim into adjudication under the claim number it got (REF*1K)
    assert "STC*A2:20" in record.ack_277ca
    assert f"REF*1K*{claim.pk}~" in record.ack_277ca
    institutional = import_claims(actor=ops, path=INSTITUTIONAL)
    assert institutional.status == ClaimImport.Status.APPLIED, institutional.errors
    inst = Claim.objects.get(source=institutional)
    assert inst.kind == "institutional"
    assert len(inst.type_of_bill) == 4
    assert all(line.revenue_code for line in inst.lines.all())


def test_the_same_file_again_is_a_duplicate_and_adds_nothing(small_ipa: Any) -> None:
    first = import_claims(actor=small_ipa.users["ops"], path=EXAMPLE1)
    again = import_claims(actor=small_ipa.users["ops"], path=EXAMPLE1)
    assert (again.status, again.duplicate_of_id) == (ClaimImport.Status.DUPLICATE, first.pk)
    assert Claim.objects.count() == 1


def _hostile(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE1.read_text()
    assert old in text, old
    path = tmp_path / "hostile.837"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("SV1*HC:99213*40.00*UN*1.00***1", "SV1*HC:99213*40.00*UN*-1.00***1", "unit"),  # negative units
        (
            "SV1*HC:99213*40.00*UN*1.00***1",
            "SV1*HC:99213*40.00*UN*1.00***7",
            "pointer",
        ),  # diagnosis pointer to nothing
        ("CLM*26463774*100.00", "CLM*26463774*150.00", "sum"),  # CLM02 is not the sum of the lines
    ],
)
def test_a_file_with_a_bad_claim_is_rejected_and_nothing_is_applied(
    small_ipa: Any, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = _hostile(tmp_path, old, new)
    record = import_claims(actor=small_ipa.users["ops"], path=path)
    assert record.status == ClaimImport.Status.REJECTED
    assert record.error_count >= 1
    message = " ".join(e["message"] for e in record.errors).lower()
    assert expected in message, record.errors
    assert all(e["segment"] for e in record.errors)  # positions named
    assert Claim.objects.count() == 0
    assert ClaimLine.objects.count() == 0
    assert (Path(small_ipa_var(record))).is_file()  # the rejected file is kept
    assert "IK5*R" in record.ack_999
    assert (
        "STC*A2" not in record.ack_277ca
    )  # nothing was accepted: the bad claim and the file's others rejected
    assert "STC*A3" in record.ack_277ca


def small_ipa_var(record: ClaimImport) -> str:
    from django.conf import settings

    return str(Path(settings.VAR_DIR) / record.stored_path)


def test_a_replacement_must_name_a_claim_on_file(small_ipa: Any, tmp_path: Path) -> None:
    path = _hostile(tmp_path, "CLM*26463774*100.00***11:B:1", "CLM*26463774*100.00***11:B:7")
    record = import_claims(actor=small_ipa.users["ops"], path=path)
    assert record.status == ClaimImport.Status.REJECTED
    assert "REF*F8" in record.errors[0]["message"]
    assert Claim.objects.count() == 0


def test_the_cli_prints_json_and_exits_1_on_a_rejected_file(small_ipa: Any, tmp_path: Path) -> None:
    out = StringIO()
    call_command("import-claims", str(EXAMPLE1), "--json", "--received", "2026-05-02", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["status"], result["claims"], result["lines"], result["charge_cents"]) == (
        "applied",
        1,
        4,
        10000,
    )
    bad = _hostile(tmp_path, "CLM*26463774*100.00", "CLM*26463774*150.00")
    shutil.copy(bad, tmp_path / "bad.837")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import-claims", str(tmp_path / "bad.837"), "--json", stdout=StringIO())
    assert exit_info.value.code == 1


def test_a_practice_user_cannot_import_and_nothing_is_written(small_ipa: Any) -> None:
    with pytest.raises(PermissionDenied):
        import_claims(actor=small_ipa.users["alice"], path=EXAMPLE1)
    assert ClaimImport.objects.count() == 0


def test_a_csv_claims_file_applies_and_a_bad_one_is_rejected_with_its_line(
    small_ipa: Any, tmp_path: Path
) -> None:
    header = "claim_id,line,member_id,billing_npi,place_of_service,service_from,code,units,charge,diagnoses\n"
    good = tmp_path / "claims.csv"
    good.write_text(header + "A1,1,SUN0001,1003000126,11,2026-05-10,99213,1,125.00,E119\n")
    record = import_claims(actor=small_ipa.users["ops"], path=good)
    assert (record.status, record.format, record.claims, record.charge_cents) == ("applied", "csv", 1, 12500)
    assert Claim.objects.get(source=record).member == small_ipa.member_a
    assert record.ack_999 == ""
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "B1,1,SUN0001,1003000126,11,2026-05-10,99213,0,125.00,E119\n")
    rejected = import_claims(actor=small_ipa.users["ops"], path=bad, fmt="csv")
    assert rejected.status == "rejected"
    assert (rejected.errors[0]["segment"], rejected.errors[0]["segment_id"]) == (2, "units")
    assert Claim.objects.count() == 1
