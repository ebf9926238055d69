"""Claims payment runs: prepare by payee, approve by a second finance user, remit balanced 835s that pyx12
accepts, pay by NACHA with the 835's trace in the addenda, the ledger in balance; interest on late clean claims;
a paid claim replaced later is reversed in the next run."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from openipa.claims.models import Claim, ClaimLine, ClaimPaymentRun, InterestRule, LineInterest
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.services.payments import RunRefused, approve_run, pay_run, prepare_run, remit_run
from openipa.claims.tests.conftest import claim_file
from openipa.edi.nacha import read_nacha
from openipa.edi.t835 import read_835_claims
from openipa.ledger.models import JournalEntry, JournalLine

pytestmark = pytest.mark.django_db
NOV2 = dt.date(2026, 11, 2)
TODAY = timezone.localdate()  # lines are adjudicated today: a run through today picks them up


def _decided(ipa: Any, tmp_path: Path, received: dt.date = NOV2) -> Claim:
    record = import_claims(actor=None, path=claim_file(tmp_path), received_on=received)
    adjudicate_waiting(actor=None)
    return Claim.objects.get(source=record)


def pyx12_errors(data: bytes, caplog: pytest.LogCaptureFixture) -> list[str]:
    document = pytest.importorskip("pyx12.x12n_document")
    params = pytest.importorskip("pyx12.params")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pyx12"):
        document.x12n_document(params.params(), io.StringIO(data.decode("latin-1")), None, None)
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_run_is_prepared_approved_remitted_and_paid(
    claims_ipa: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ipa = claims_ipa
    claim = _decided(ipa, tmp_path)
    fin, fin2 = ipa.users["fin"], ipa.users["fin2"]
    run = prepare_run(actor=fin, through=TODAY, payment_date=TODAY + dt.timedelta(days=1))
    # the paid 99213 and the two denied labs are in the run; the pended 99214 waits
    assert (run.lines, run.paid_cents, run.interest_cents, run.net_cents) == (3, 4000, 0, 4000)
    (payment,) = run.payments.all()
    assert (payment.payee_npi, payment.payee_tin, payment.practice_id) == ("1912301953", "234567891",
                                                                            ipa.practice_b.pk)  # fmt: skip
    assert ClaimLine.objects.get(claim=claim, code="99214").payment_run_id is None
    with pytest.raises(RunRefused, match="another finance user"):
        approve_run(actor=fin, run=run)
    approve_run(actor=fin2, run=run)
    run.refresh_from_db()
    payment.refresh_from_db()
    assert run.status == ClaimPaymentRun.Status.APPROVED
    assert payment.trace_number.startswith("12100035")
    # the 835 balances, pyx12 accepts it, and it explains every line
    (path,) = remit_run(actor=fin, run=run, out=tmp_path / "835")
    data = path.read_bytes()
    assert pyx12_errors(data, caplog) == []
    (read,) = list(read_835_claims(path))
    remittance, claims = read.payment, read.claims
    assert (remittance.total_cents, remittance.trace_number) == (4000, payment.trace_number)
    (clp,) = claims
    assert (clp.patient_control_number, clp.paid_cents, clp.payer_claim_number) == (
        "26463774",
        4000,
        str(claim.pk),
    )
    codes = {s.procedure_code: s for s in clp.services}
    assert [(a.group, a.reason_code) for a in codes["87070"].adjustments] == [("CO", "109")]
    assert codes["99213"].paid_cents == 4000
    # paying: one CCD+ credit whose addenda quote the 835's trace; the ledger balances
    written = pay_run(actor=fin, run=run, out=tmp_path / "claims.ach")
    nacha = read_nacha(tmp_path / "claims.ach")
    ((_batch, entries),) = [(b, b.entries) for b in nacha.batches]
    (entry,) = entries
    assert (entry.entry.amount_cents, entry.trace_number) == (4000, payment.trace_number)
    assert payment.trace_number in (entry.entry.addenda or "")
    assert written.total_cents == nacha.control.total_credit_cents == 4000
    run.refresh_from_db()
    assert run.status == ClaimPaymentRun.Status.PAID
    entries_ = JournalEntry.objects.filter(source_type__in=("claims_run", "claims_payment"))
    assert entries_.count() == 2
    for e in entries_:
        lines = JournalLine.objects.filter(entry=e)
        assert sum(x.debit for x in lines) == sum(x.credit for x in lines)
    with pytest.raises(RunRefused, match="only an approved run"):
        pay_run(actor=fin, run=run, out=tmp_path / "again.ach")


def test_interest_on_a_late_clean_claim(claims_ipa: Any, tmp_path: Path) -> None:
    InterestRule.objects.create(
        line_of_business="medicare_advantage", valid_from=dt.date(2026, 1, 1), limit_days=30, working_days=False,
        calendar_code="", annual_rate_percent=Decimal("4.125"), count_from_next_day=True,
    )  # fmt: skip
    _decided(claims_ipa, tmp_path)
    # received 2 November, due by 2 December, paid 1 January 2027: 30 days late
    run = prepare_run(actor=claims_ipa.users["fin"], through=TODAY, payment_date=dt.date(2027, 1, 1))
    (late,) = LineInterest.objects.filter(run=run)
    # 4000 cents x 4.125% x 30 / 365 = 13.56 -> 14 cents
    assert (late.days_late, late.interest_cents) == (30, 14)
    assert (run.interest_cents, run.net_cents) == (14, 4014)


def test_a_paid_claim_replaced_later_is_reversed_in_the_next_run(claims_ipa: Any, tmp_path: Path) -> None:
    ipa = claims_ipa
    original = _decided(ipa, tmp_path)
    first = approve_run(actor=ipa.users["fin2"], run=prepare_run(actor=ipa.users["fin"], through=TODAY))
    replacement = claim_file(tmp_path, "replacement.837", clm="CLM*26463774*100.00***11:B:7*Y*A*Y*I")
    replacement.write_text(
        replacement.read_text().replace("REF*D9*17312345600006351", f"REF*F8*{original.pk}")
    )
    import_claims(actor=None, path=replacement, received_on=dt.date(2026, 11, 20))
    adjudicate_waiting(actor=None)
    second = prepare_run(actor=ipa.users["fin"], through=TODAY)
    # the first run's $40 comes back, the replacement's $40 is paid: net zero
    assert (second.reversal_cents, second.paid_cents, second.net_cents) == (-4000, 4000, 0)
    assert first.pk != second.pk
    second = approve_run(actor=ipa.users["fin2"], run=second)
    files = remit_run(actor=None, run=second, out=tmp_path / "835b")
    (read,) = list(read_835_claims(files[0]))
    remittance, claims = read.payment, read.claims
    assert [c.status for c in claims] == ["22", "1"]
    assert remittance.total_cents == 0


def test_the_cli_prepares_approves_and_refuses_the_preparer(claims_ipa: Any, tmp_path: Path) -> None:
    _decided(claims_ipa, tmp_path)
    out = StringIO()
    call_command("claims", "pay", "--through", TODAY.isoformat(), "--user", "fin", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["status"], result["net_cents"], result["payees"][0]["npi"]) == (
        "draft",
        4000,
        "1912301953",
    )
    with pytest.raises(CommandError, match="another finance user"):
        call_command("claims", "approve", str(result["run_id"]), "--user", "fin", stdout=StringIO())
    call_command("claims", "approve", str(result["run_id"]), "--user", "fin2", stdout=StringIO())
    assert ClaimPaymentRun.objects.get(pk=result["run_id"]).status == "approved"
    with pytest.raises(CommandError, match="no decided claim line"):
        call_command("claims", "pay", "--through", TODAY.isoformat(), "--user", "fin", stdout=StringIO())


def test_a_run_with_two_payees_pays_each_under_the_trace_its_835_quotes(
    claims_ipa: Any, tmp_path: Path
) -> None:
    from openipa.network.models import ParticipationAgreement

    ipa = claims_ipa
    ParticipationAgreement.objects.create(
        practice=ipa.practice_a, valid_from=dt.date(2026, 1, 1), status="active"
    )
    _decided(ipa, tmp_path)
    alder = claim_file(tmp_path, "alder.837", member="SUN0002")
    text = (
        alder.read_text().replace("REF*EI*234567891", "REF*EI*123456789").replace("1912301953", "1234567893")
    )
    alder.write_text(text.replace("CLM*26463774", "CLM*A77"))
    import_claims(actor=None, path=alder, received_on=NOV2)
    adjudicate_waiting(actor=None)
    run = approve_run(actor=ipa.users["fin2"], run=prepare_run(actor=ipa.users["fin"], through=TODAY))
    payments = list(run.payments.order_by("pk"))
    assert len(payments) == 2
    pay_run(actor=ipa.users["fin"], run=run, out=tmp_path / "two.ach")
    (batch,) = read_nacha(tmp_path / "two.ach").batches
    assert [e.trace_number for e in batch.entries] == [p.trace_number for p in payments]
    assert [e.entry.amount_cents for e in batch.entries] == [p.net_cents for p in payments]


def _remit_both_ways(
    run: ClaimPaymentRun, out: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[bytes, bytes]]:
    """The run's 835s made from frames, and made again from claim records (the path taken when a value would be
    refused): {file name: (frames' bytes, records' bytes)}."""
    from openipa.claims.services import payments

    assert payments._claims_text(payments._run_lines(run), run.pk) is not None  # the frames' path is taken
    fast = {p.name: p.read_bytes() for p in remit_run(actor=None, run=run, out=out / "frames")}
    with monkeypatch.context() as m:
        m.setattr(payments, "_claims_text", lambda lines, run_pk: None)
        slow = {p.name: p.read_bytes() for p in remit_run(actor=None, run=run, out=out / "records")}
    assert fast.keys() == slow.keys()
    return {name: (fast[name], slow[name]) for name in fast}


def test_835_text_from_frames_is_what_the_claim_records_write(
    claims_ipa: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with a reversal (CLP02 22, amounts negated), a paid replacement and interest (PLB L6): the 835 made
    in frames is byte for byte the one the claim records give."""
    ipa = claims_ipa
    InterestRule.objects.create(
        line_of_business="medicare_advantage", valid_from=dt.date(2026, 1, 1), limit_days=30, working_days=False,
        calendar_code="", annual_rate_percent=Decimal("4.125"), count_from_next_day=True,
    )  # fmt: skip
    original = _decided(ipa, tmp_path)
    first = approve_run(actor=ipa.users["fin2"], run=prepare_run(actor=ipa.users["fin"], through=TODAY))
    first_files = _remit_both_ways(first, tmp_path / "first", monkeypatch)
    replacement = claim_file(tmp_path, "replacement.837", clm="CLM*26463774*100.00***11:B:7*Y*A*Y*I")
    replacement.write_text(
        replacement.read_text().replace("REF*D9*17312345600006351", f"REF*F8*{original.pk}")
    )
    import_claims(actor=None, path=replacement, received_on=dt.date(2026, 11, 20))
    adjudicate_waiting(actor=None)
    second = prepare_run(actor=ipa.users["fin"], through=TODAY, payment_date=dt.date(2027, 1, 1))
    second = approve_run(actor=ipa.users["fin2"], run=second)
    files = {**first_files, **_remit_both_ways(second, tmp_path / "second", monkeypatch)}
    assert len(files) == 2
    for frames, records in files.values():
        assert frames == records
    assert b"CLP*" in files[next(iter(files))][0]


def test_a_value_holding_a_delimiter_is_refused_through_the_claim_records(
    claims_ipa: Any, tmp_path: Path
) -> None:
    """Frames make no 835 holding a delimiter in a value: the claim records' path refuses it, naming it."""
    ipa = claims_ipa
    _decided(ipa, tmp_path)
    run = approve_run(actor=ipa.users["fin2"], run=prepare_run(actor=ipa.users["fin"], through=TODAY))
    ClaimLine.objects.filter(payment_run_id=run.pk).update(line_control="L1*2")
    with pytest.raises(ValueError, match="delimiter"):
        remit_run(actor=None, run=run, out=tmp_path / "835")
