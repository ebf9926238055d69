"""Importing capitation remittances: 820, CSV, 835 PLB; rejection leaves nothing; duplicates; the CLI."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from openipa.capitation.models import CapitationProfile, ReceivedLine, RemittanceImport
from openipa.capitation.services.imports import import_capitation, split_by_month
from openipa.capitation.tests.remit_files import MAY, member, write_820_file
from openipa.core.errors import PermissionDenied
from openipa.ledger.models import JournalEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = str(tmp_path / "var")


def test_an_820_applies_with_its_lines_and_the_cash_receipt(small_ipa: Any, tmp_path: Path) -> None:
    path = write_820_file(
        tmp_path / "may.820",
        [
            member("SUN0001", [(35000, None, None)], ((-1000, "52"),)),
            member("SUN0002", [(35000, MAY, dt.date(2026, 5, 31))], ent=2),
            member("GHOST9", [(20000, None, None)], ent=3),
        ],
    )
    record = import_capitation(actor=small_ipa.users["fin"], payer=small_ipa.payer, path=path)
    assert record.status == "applied", record.errors
    assert (record.payment_cents, record.detail_cents, record.adjustment_cents) == (89000, 90000, -1000)
    assert (record.members, record.unknown_members, record.months) == (3, 1, ["2026-05"])
    lines = {(r.payer_member_id, r.kind): r for r in ReceivedLine.objects.filter(remittance=record)}
    assert lines[("SUN0001", "capitation")].member_id == small_ipa.member_a.pk
    assert lines[("SUN0001", "adjustment")].amount_cents == -1000
    assert lines[("GHOST9", "capitation")].member_id is None
    assert "GHOST9 is not on file" in record.warnings[0]["message"]
    assert record.ack_999.startswith("ISA")
    assert "IK5*A" in record.ack_999
    (entry,) = JournalEntry.objects.filter(source_type="capitation_import", source_id=str(record.pk))
    got = sorted((line.account.code, str(line.debit), str(line.credit)) for line in entry.lines.all())
    assert got == [("1000", "890.00", "0.00"), ("2000", "0.00", "890.00")]


def test_a_retro_line_over_three_months_is_split_by_days(small_ipa: Any, tmp_path: Path) -> None:
    path = write_820_file(
        tmp_path / "retro.820", [member("SUN0001", [(10000, dt.date(2026, 2, 1), dt.date(2026, 4, 30))])]
    )
    record = import_capitation(actor=None, payer=small_ipa.payer, path=path)
    got = sorted(ReceivedLine.objects.filter(remittance=record).values_list("month", "kind", "amount_cents"))
    assert got == [
        (dt.date(2026, 2, 1), "retro", 3146), (dt.date(2026, 3, 1), "retro", 3483),
        (dt.date(2026, 4, 1), "retro", 3371),
    ]  # fmt: skip
    assert sum(c for _m, _k, c in got) == 10000


def test_bpr_not_equal_to_the_details_rejects_the_file_and_writes_nothing(
    small_ipa: Any, tmp_path: Path
) -> None:
    path = write_820_file(tmp_path / "bad.820", [member("SUN0001", [(35000, None, None)])], total=40000)
    record = import_capitation(actor=None, payer=small_ipa.payer, path=path)
    assert record.status == "rejected"
    (error,) = record.errors
    assert (error["segment_id"], error["element"]) == ("BPR", 2)
    assert "$400.00 is not the sum of the member detail" in error["message"]
    assert "IK5*R" in record.ack_999
    assert not ReceivedLine.objects.exists()
    assert not JournalEntry.objects.exists()
    assert (Path(small_ipa.payer.pk and record.stored_path)).name  # the rejected file is kept
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import-capitation", str(path), "--payer", "SUN", "--json", stdout=out)
    assert exit_info.value.code == 1
    assert json.loads(out.getvalue())["status"] == "rejected"


@pytest.mark.parametrize(
    ("mangle", "segment_id", "text"),
    [
        (lambda s: s.replace("RMR*IK*CAP0**350", "RMR*IK*CAP0**35O"), "RMR", "not a decimal amount"),
        (lambda s: s.replace("RMR*IK*CAP0**350", "RMR*IK*CAP0**350.123"), "RMR", "more than two decimal"),
        (lambda s: s.replace("RD8*20260501-20260531", "RD8*20260501-20260532"), "DTM", "date"),
        (lambda s: s[: len(s) // 2], "", "truncated"),
    ],
)
def test_hostile_820s_are_rejected_with_the_segment(
    small_ipa: Any, tmp_path: Path, mangle: Any, segment_id: str, text: str
) -> None:
    good = write_820_file(tmp_path / "good.820", [member("SUN0001", [(35000, MAY, dt.date(2026, 5, 31))])])
    bad = tmp_path / "bad.820"
    content = good.read_text("latin-1")
    changed = mangle(content)
    assert changed != content
    bad.write_text(changed, "latin-1")
    record = import_capitation(actor=None, payer=small_ipa.payer, path=bad, fmt="x12-820")
    assert record.status == "rejected"
    assert any(
        text in e["message"] and (not segment_id or e["segment_id"] == segment_id) for e in record.errors
    ), record.errors
    assert not ReceivedLine.objects.exists()


def test_the_same_file_twice_is_a_duplicate(small_ipa: Any, tmp_path: Path) -> None:
    path = write_820_file(tmp_path / "may.820", [member("SUN0001", [(35000, None, None)])])
    first = import_capitation(actor=None, payer=small_ipa.payer, path=path)
    again = import_capitation(actor=None, payer=small_ipa.payer, path=path)
    assert (first.status, again.status, again.duplicate_of_id) == ("applied", "duplicate", first.pk)
    assert ReceivedLine.objects.count() == 1
    assert JournalEntry.objects.count() == 1


def test_a_csv_remittance_through_the_payers_profile(small_ipa: Any, tmp_path: Path) -> None:
    CapitationProfile.objects.create(
        payer=small_ipa.payer, default_format="csv",
        csv_profile={"columns": {"member_id": "Member", "month": "Month", "amount": "Paid", "kind": "Type",
                                 "reason": "Reason"}, "month_format": "%m/%Y"},
    )  # fmt: skip
    path = tmp_path / "may.csv"
    path.write_text("Member,Month,Paid,Type,Reason\nSUN0001,05/2026,350.00,,\nSUN0002,05/2026,\"1,050.00\",retro,\n"
                    ",05/2026,-25.50,adjustment,AA\n")  # fmt: skip
    record = import_capitation(actor=None, payer=small_ipa.payer, path=path)
    assert record.status == "applied", record.errors
    assert (record.payment_cents, record.lines) == (137450, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("Member,Month,Paid,Type,Reason\nSUN0001,2026-05,350.00,,\n")
    rejected = import_capitation(actor=None, payer=small_ipa.payer, path=bad)
    assert rejected.status == "rejected"
    assert (rejected.errors[0]["segment"], rejected.errors[0]["segment_id"]) == (2, "Month")
    assert ReceivedLine.objects.count() == 3


def test_operations_and_practice_users_cannot_import(small_ipa: Any, tmp_path: Path) -> None:
    path = write_820_file(tmp_path / "may.820", [member("SUN0001", [(35000, None, None)])])
    for who in ("ops", "alice"):
        with pytest.raises(PermissionDenied):
            import_capitation(actor=small_ipa.users[who], payer=small_ipa.payer, path=path)
    assert not RemittanceImport.objects.exists()


def test_split_by_month_parts_sum_to_the_whole() -> None:
    assert split_by_month(100, dt.date(2026, 1, 20), dt.date(2026, 2, 10)) == [
        (dt.date(2026, 1, 1), 55), (dt.date(2026, 2, 1), 45)
    ]  # fmt: skip
    assert split_by_month(-7, dt.date(2026, 5, 1), dt.date(2026, 5, 31)) == [(dt.date(2026, 5, 1), -7)]


def test_an_835_with_capitation_in_plb_applies_payer_level_lines(small_ipa: Any) -> None:
    path = Path(__file__).resolve().parents[2] / "edi" / "tests" / "data" / "835_capitation.x12"
    record = import_capitation(actor=None, payer=small_ipa.payer, path=path)
    assert record.status == "applied", record.errors
    assert record.format == "x12-835"
    assert record.payment_cents == 2517550
    got = sorted(ReceivedLine.objects.filter(remittance=record).values_list("month", "kind", "reason_code",
                                                                           "amount_cents"))  # fmt: skip
    assert got == [
        (dt.date(2023, 12, 1), "capitation", "CT", 300), (dt.date(2023, 12, 1), "retro", "RA", 41000),
        (dt.date(2024, 1, 1), "capitation", "CT", 2500000), (dt.date(2024, 1, 1), "interest", "CR", 1250),
        (dt.date(2024, 2, 1), "capitation", "CT", -1),
        (dt.date(2024, 12, 1), "adjustment", "L6", 1), (dt.date(2024, 12, 1), "adjustment", "WO", -25000),
    ]  # fmt: skip
    assert sum(c for *_rest, c in got) == record.payment_cents
