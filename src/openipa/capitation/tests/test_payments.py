"""Paying an approved run: the NACHA file read back by the published record layout, payments and ledger."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from openipa.capitation.models import PracticePayment
from openipa.capitation.services.payments import pay_run
from openipa.capitation.services.runs import RunRefused, approve_run, distribute_month
from openipa.capitation.tests.conftest import paid_month
from openipa.core.months import Month
from openipa.ledger.models import JournalEntry
from openipa.ledger.selectors import trial_balance

pytestmark = pytest.mark.django_db
MAY = Month(2026, 5)
_paid = paid_month


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = str(tmp_path / "var")


def _records(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    assert all(len(line) == 94 for line in lines)
    assert len(lines) % 10 == 0
    return lines


def test_an_approved_run_is_paid_by_a_nacha_file(ipa: Any, tmp_path: Path) -> None:
    _paid(ipa, MAY, "may")
    run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    with pytest.raises(RunRefused, match="only an approved run"):
        pay_run(actor=ipa.users["fin"], run=run, out=tmp_path / "early.ach")
    approve_run(actor=ipa.users["fin2"], run=run)
    out = tmp_path / "may.ach"
    result = StringIO()
    call_command("payments", "nacha", str(run.pk), "--out", str(out), "--json", stdout=result)
    summary = json.loads(result.getvalue())
    assert (summary["entries"], summary["total_cents"]) == (2, 19050 + 22550)
    records = _records(out)
    kinds = [r[0] for r in records]
    assert kinds[:8] == ["1", "5", "6", "7", "6", "7", "8", "9"]
    assert set(kinds[8:]) == {"9"}  # block padding
    entries = [r for r in records if r[0] == "6"]
    # entry detail: 2-3 transaction code, 4-11 RDFI, 12 check digit, 13-29 account, 30-39 amount, 40-54 id
    assert [(e[1:3], e[3:11], e[29:39].lstrip("0"), e[39:54].strip()) for e in entries] == [
        ("22", "12100035", "19050", "123456789"), ("22", "32227162", "22550", "234567891"),
    ]  # fmt: skip
    addenda = [r for r in records if r[0] == "7"]
    payments = {p.practice.tin: p for p in PracticePayment.objects.filter(run=run).select_related("practice")}
    assert addenda[0][3:83].strip() == f"TRN*1*{payments['123456789'].trace_number}*1951234567\\"
    batch_control = next(r for r in records if r[0] == "8")
    # batch control: 5-10 entry/addenda count, 11-20 entry hash, 21-32 debits, 33-44 credits
    assert batch_control[4:10] == "000004"
    assert int(batch_control[10:20]) == 12100035 + 32227162
    assert int(batch_control[32:44]) == 41600
    file_control = next(r for r in records if r[0] == "9")
    assert (file_control[1:7], file_control[7:13], file_control[13:21]) == ("000001", "000001", "00000004")
    assert int(file_control[31:43]) == 0
    assert int(file_control[43:55]) == 41600
    run.refresh_from_db()
    assert run.status == "paid"
    assert {p.status for p in payments.values()} == {"sent"}
    assert payments["123456789"].trace_number == "121000350000001"
    (entry,) = JournalEntry.objects.filter(source_type="capitation_payment")
    assert sum(line.credit for line in entry.lines.all() if line.account.code == "1000") == 416
    balance = trial_balance(ipa.users["fin"])
    assert balance.total_debit_cents == balance.total_credit_cents
    with pytest.raises(CommandError, match="only an approved run"):
        call_command("payments", "nacha", str(run.pk), "--out", str(tmp_path / "again.ach"))


def test_a_practice_without_bank_details_is_held(ipa: Any, tmp_path: Path) -> None:
    _paid(ipa, MAY, "may")
    ipa.practice_b.bank_account_number = ""
    ipa.practice_b.save()
    run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    approve_run(actor=ipa.users["fin2"], run=run)
    record = pay_run(actor=ipa.users["fin"], run=run, out=tmp_path / "may.ach")
    assert (record.entries, record.total_cents) == (1, 19050)
    assert PracticePayment.objects.get(run=run, practice=ipa.practice_b).status == "held"


def test_the_cli_writes_every_practices_statement(ipa: Any, tmp_path: Path) -> None:
    _paid(ipa, MAY, "may")
    run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    approve_run(actor=ipa.users["fin2"], run=run)
    out = tmp_path / "statements"
    call_command(
        "capitation", "statements", str(run.pk), "--out", str(out), "--user", "fin", stdout=StringIO()
    )
    assert sorted(p.name for p in out.iterdir()) == [
        f"ALDER-run{run.pk}.csv", f"ALDER-run{run.pk}.pdf", f"BIRCH-run{run.pk}.csv", f"BIRCH-run{run.pk}.pdf"
    ]  # fmt: skip
    assert (out / f"ALDER-run{run.pk}.pdf").read_bytes().startswith(b"%PDF")
    rows = (out / f"BIRCH-run{run.pk}.csv").read_text().splitlines()
    assert len(rows) == 2  # the header and Bert's member-month
    assert "SUN0002" in rows[1]
    with pytest.raises(CommandError, match="no active user"):
        call_command("capitation", "statements", str(run.pk), "--out", str(out), "--user", "nobody")


def test_a_large_panels_pdf_leaves_the_member_detail_to_the_csv(ipa: Any, monkeypatch: Any) -> None:
    from openipa.capitation import statements

    _paid(ipa, MAY, "may")
    run = distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    approve_run(actor=ipa.users["fin2"], run=run)
    payment = run.payments.get(practice=ipa.practice_a)
    statement = statements.statement_for(ipa.users["fin"], payment.pk)
    lines = statements.all_member_lines(ipa.users["fin"], statement, purpose="test")
    assert [(line.member_id, line.pcp_net_cents) for line in lines] == [("SUN0001", 18000)]
    with_detail = statements.statement_pdf(statement, lines)
    monkeypatch.setattr(statements, "PDF_DETAIL_LIMIT", 0)
    without = statements.statement_pdf(statement, lines)
    assert without.startswith(b"%PDF")
    assert with_detail != without


@given(
    st.lists(
        st.tuples(
            st.text(alphabet='ab ,"\\n-', max_size=8), st.integers(-(10**9), 10**9), st.integers(-999, 999)
        ),
        max_size=20,
    )
)
def test_the_statement_csv_is_the_csv_of_its_rows(rows: list[tuple[str, int, int]]) -> None:
    import csv
    import datetime as dt
    import io

    from openipa.capitation import statements

    lines = [
        statements.MemberLine(member_pk=i, member_id=f"M{i}", name=name, month=dt.date(2026, 5, 1), pcp_npi="1",
                              product="HMO", pcp_gross_cents=gross, withhold_cents=small, pcp_net_cents=gross - small,
                              quality_share_cents=small, reason=name)
        for i, (name, gross, small) in enumerate(rows)
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(statements.CSV_COLUMNS)
    writer.writerows(statements.csv_rows(lines))
    assert statements.statement_csv(lines) == out.getvalue()
