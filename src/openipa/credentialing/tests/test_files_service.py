"""Credentialing files: the rules as seeded data (golden), opening files, verifications with documents, the
committee (refused unless complete on the decision date, never for an excluded provider), letters, the
credentialed network claims read, rosters and the delegation report, each write audited."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.credentialing import selectors
from openipa.credentialing.models import CommitteeDecision, CredentialingFile, Exclusion, ScreeningHit
from openipa.credentialing.services import (
    decide,
    mark_letter_sent,
    open_file,
    record_verification,
    review_hit,
    screen,
)
from openipa.credentialing.tests.conftest import DATA
from openipa.credentialing.tests.files_helpers import document, verified_file, verify

pytestmark = pytest.mark.django_db
GOLDEN = json.loads((DATA / "golden_psv_rules.json").read_text())


def test_the_seeded_rules_are_the_golden_ones(screening_ipa: Any) -> None:
    rules = selectors.rule_versions()
    assert [
        {"valid_from": r.valid_from.isoformat(), "valid_to": r.valid_to.isoformat() if r.valid_to else None,
         "window_days": r.window_days, "recredential_months": r.recredential_months, "letter_days": r.letter_days}
        for r in rules
    ] == GOLDEN["rules"]  # fmt: skip
    for day in (dt.date(2025, 6, 30), dt.date(2025, 7, 1)):
        rule = selectors.rule_on(day)
        for label, expected in GOLDEN["required"].items():
            kind, *flags = label.split()
            file = CredentialingFile(
                provider=screening_ipa.pcp_a, kind=kind, board_certification_claimed="board_claimed" in flags,
                prescribes="no_prescribing" not in flags, opened_on=day,
            )  # fmt: skip
            assert [e.code for e in selectors.required_elements(file, rule)] == expected, (day, label)


def test_a_file_verified_150_days_before_is_complete_on_2025_06_30_not_on_07_01(
    screening_ipa: Any, tmp_path: Path
) -> None:
    cred = screening_ipa.users["cred"]
    golden = GOLDEN["file"]
    expires = {k: dt.date.fromisoformat(v) for k, v in golden["expires_on"].items()}
    files = []
    for provider in (screening_ipa.pcp_a, screening_ipa.pcp_b):
        file = open_file(actor=cred, provider=provider, kind="initial", opened_on=dt.date(2025, 1, 15))
        for code, day in golden["verified_on"].items():
            verify(cred, file, code, dt.date.fromisoformat(day), tmp_path, expires_on=expires.get(code))
        files.append(file)
    for file, (day, expected) in zip(files, golden["decisions"].items(), strict=True):
        judged = selectors.checklist(file, dt.date.fromisoformat(day))
        assert judged.complete is expected["complete"]
        assert {r.element.code: str(r.item.state) for r in judged.missing} == expected["not_ok"]
    approved = decide(
        actor=cred, file=files[0], decided_on=dt.date(2025, 6, 30), decision="approve", minutes="ok"
    )
    assert approved.recredential_due == dt.date(2028, 6, 30)
    assert approved.letter_due == dt.date(2025, 7, 30)
    assert approved.rule.window_days == 180
    assert all(item["state"] == "ok" for item in approved.checklist)
    files[0].refresh_from_db()
    assert files[0].status == "decided"
    with pytest.raises(ValidationFailed) as refused:
        decide(actor=cred, file=files[1], decided_on=dt.date(2025, 7, 1), decision="approve", minutes="ok")
    assert "not complete on 2025-07-01" in str(refused.value)
    assert "State license(s) (stale)" in str(refused.value)
    assert not CommitteeDecision.objects.filter(file=files[1]).exists()


def test_deny_and_defer_are_allowed_on_an_incomplete_file(screening_ipa: Any, tmp_path: Path) -> None:
    cred = screening_ipa.users["cred"]
    file = open_file(actor=cred, provider=screening_ipa.pcp_a, kind="initial", opened_on=dt.date(2025, 9, 1))
    deferred = decide(
        actor=cred, file=file, decided_on=dt.date(2025, 9, 10), decision="defer", minutes="need NPDB"
    )
    assert (deferred.letter_due, deferred.recredential_due) == (None, None)
    file.refresh_from_db()
    assert file.status == "in_progress"
    with pytest.raises(ValidationFailed, match="before the deferral"):
        decide(actor=cred, file=file, decided_on=dt.date(2025, 9, 5), decision="deny", minutes="x")
    denied = decide(
        actor=cred, file=file, decided_on=dt.date(2025, 9, 20), decision="deny", minutes="no reply"
    )
    assert denied.letter_due == dt.date(2025, 10, 20)
    assert denied.recredential_due is None
    with pytest.raises(ValidationFailed, match="already decided"):
        decide(actor=cred, file=file, decided_on=dt.date(2025, 9, 21), decision="deny", minutes="again")
    with pytest.raises(ValidationFailed, match="sends no decision letter"):
        mark_letter_sent(actor=cred, decision=deferred, sent_on=dt.date(2025, 9, 11))
    with pytest.raises(ValidationFailed) as refused:
        decide(
            actor=cred, file=file, decided_on=dt.date(2025, 9, 21), decision="approve_conditions", minutes=""
        )
    assert set(refused.value.fields) == {"minutes", "conditions"}


def test_an_excluded_provider_cannot_be_approved(screening_ipa: Any, tmp_path: Path) -> None:
    cred = screening_ipa.users["cred"]
    screen(actor=cred, leie_path=DATA / "leie_small.csv")
    hit = ScreeningHit.objects.get(provider=screening_ipa.pcp_b)
    review_hit(actor=cred, hit=hit, decision="confirmed", note="same NPI")
    exclusion = Exclusion.objects.get(provider=screening_ipa.pcp_b)
    day = max(exclusion.valid_from, dt.date(2025, 9, 1))
    file = verified_file(cred, screening_ipa.pcp_b, day, tmp_path)
    assert selectors.checklist(file, day).complete
    with pytest.raises(ValidationFailed, match="cannot be approved"):
        decide(actor=cred, file=file, decided_on=day, decision="approve", minutes="ok")
    denied = decide(actor=cred, file=file, decided_on=day, decision="deny", minutes="excluded by OIG")
    assert denied.decision == "deny"


def test_verifications_keep_their_document_and_are_audited(screening_ipa: Any, tmp_path: Path) -> None:
    cred = screening_ipa.users["cred"]
    file = open_file(actor=cred, provider=screening_ipa.pcp_a, kind="initial", opened_on=dt.date(2025, 9, 1))
    v = verify(cred, file, "license", dt.date(2025, 9, 2), tmp_path)
    stored = Path(settings.VAR_DIR) / v.document_path
    assert v.document_path.startswith("imports/credentialing/")
    assert stored.read_bytes().startswith(b"%PDF")
    assert len(v.document_sha256) == 64
    assert v.verifier_name == "cred"
    event = AuditEvent.objects.filter(action="credentialing.verify").get()
    assert "source of State license(s)" in str(event.changes["source"])
    assert AuditEvent.objects.filter(action="credentialing.open_file").count() == 1
    base = {"actor": cred, "file": file, "element": "license", "source": "Board", "method": "online",
            "verified_on": dt.date(2025, 9, 2), "result": "verified", "document": document(tmp_path)}  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        record_verification(**base)
    assert refused.value.fields == {"expires_on": ["State license(s) expires: give its expiry date"]}
    with pytest.raises(ValidationFailed) as refused:
        record_verification(
            **{**base, "element": "nope", "source": " ", "document": tmp_path / "missing.pdf"}
        )
    assert set(refused.value.fields) == {"element", "source", "document"}
    with pytest.raises(ValidationFailed, match="future"):
        record_verification(**{**base, "element": "sanctions", "verified_on": dt.date(2999, 1, 1)})
    decide(actor=cred, file=file, decided_on=dt.date(2025, 9, 3), decision="deny", minutes="x")
    with pytest.raises(ValidationFailed, match="is decided"):
        record_verification(**{**base, "element": "sanctions"})
    renewal = record_verification(**{**base, "expires_on": dt.date(2027, 9, 30)})  # a renewed license
    assert renewal.file == file
    assert file.verifications.count() == 2


def test_opening_files(screening_ipa: Any, tmp_path: Path) -> None:
    cred = screening_ipa.users["cred"]
    with pytest.raises(ValidationFailed, match="never approved"):
        open_file(actor=cred, provider=screening_ipa.pcp_a, kind="recredentialing")
    file = verified_file(cred, screening_ipa.pcp_a, dt.date(2025, 9, 1), tmp_path)
    with pytest.raises(ValidationFailed, match="already has an open file"):
        open_file(actor=cred, provider=screening_ipa.pcp_a, kind="initial")
    decide(actor=cred, file=file, decided_on=dt.date(2025, 9, 2), decision="approve", minutes="ok")
    recred = open_file(actor=cred, provider=screening_ipa.pcp_a, kind="recredentialing")
    assert recred.kind == "recredentialing"
    for persona in ("auditor", "alice", "ops"):
        with pytest.raises(PermissionDenied):
            open_file(actor=screening_ipa.users[persona], provider=screening_ipa.pcp_b, kind="initial")
    with pytest.raises(PermissionDenied):
        selectors.file_list(screening_ipa.users["alice"])


def test_letters_are_tracked(screening_ipa: Any, tmp_path: Path) -> None:
    cred = screening_ipa.users["cred"]
    file = verified_file(cred, screening_ipa.pcp_a, dt.date(2025, 9, 1), tmp_path)
    d = decide(actor=cred, file=file, decided_on=dt.date(2025, 9, 2), decision="approve", minutes="ok")
    assert list(selectors.letters_pending(cred)) == [d]
    with pytest.raises(ValidationFailed, match="before the decision"):
        mark_letter_sent(actor=cred, decision=d, sent_on=dt.date(2025, 9, 1))
    d = mark_letter_sent(actor=cred, decision=d, sent_on=dt.date(2025, 9, 20))
    assert d.letter_sent_on == dt.date(2025, 9, 20)
    assert d.letter_sent_by == "cred"
    with pytest.raises(ValidationFailed, match="already sent"):
        mark_letter_sent(actor=cred, decision=d, sent_on=dt.date(2025, 9, 21))
    assert not selectors.letters_pending(cred).exists()
    assert AuditEvent.objects.filter(action="credentialing.letter_sent").count() == 1


def test_credentialed_npis_follow_the_latest_decision_and_the_clock(
    screening_ipa: Any, tmp_path: Path
) -> None:
    cred = screening_ipa.users["cred"]
    ipa = screening_ipa
    decided = dt.date(2024, 2, 29)
    file = verified_file(cred, ipa.pcp_a, decided, tmp_path)
    decide(
        actor=cred,
        file=file,
        decided_on=decided,
        decision="approve_conditions",
        minutes="ok",
        conditions="FPPE",
    )
    assert selectors.credentialed_npis(decided - dt.timedelta(days=1)) == set()
    assert selectors.credentialed_npis(decided) == {ipa.pcp_a.npi}
    assert selectors.credentialed_npis(dt.date(2027, 2, 28)) == {ipa.pcp_a.npi}
    assert selectors.credentialed_npis(dt.date(2027, 3, 1)) == set()
    recred = verified_file(cred, ipa.pcp_a, dt.date(2025, 9, 1), tmp_path, kind="recredentialing")
    decide(actor=cred, file=recred, decided_on=dt.date(2025, 9, 15), decision="defer", minutes="wait")
    assert selectors.credentialed_npis(dt.date(2025, 9, 16)) == {ipa.pcp_a.npi}
    decide(actor=cred, file=recred, decided_on=dt.date(2025, 9, 20), decision="deny", minutes="findings")
    assert selectors.credentialed_npis(dt.date(2025, 9, 19)) == {ipa.pcp_a.npi}
    assert selectors.credentialed_npis(dt.date(2025, 9, 20)) == set()


def _join_payer(ipa: Any) -> None:
    from openipa.network.models import ContractParticipation, ParticipationAgreement

    for practice in (ipa.practice_a, ipa.practice_b):
        agreement = ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2026, 1, 1))
        ContractParticipation.objects.create(
            agreement=agreement, contract=ipa.contract, valid_from=dt.date(2026, 1, 1)
        )


def test_roster_changes_and_the_delegation_report(screening_ipa: Any, tmp_path: Path) -> None:
    cred = screening_ipa.users["cred"]
    ipa = screening_ipa
    _join_payer(ipa)
    # Ada approved 2023-03-01: due 2026-03-01, recredentialed late on 2026-03-10 (a term, then an add)
    old = verified_file(cred, ipa.pcp_a, dt.date(2023, 2, 1), tmp_path)
    first = decide(actor=cred, file=old, decided_on=dt.date(2023, 3, 1), decision="approve", minutes="ok")
    mark_letter_sent(actor=cred, decision=first, sent_on=dt.date(2023, 3, 15))
    recred = verified_file(cred, ipa.pcp_a, dt.date(2026, 3, 5), tmp_path, kind="recredentialing")
    late = decide(
        actor=cred, file=recred, decided_on=dt.date(2026, 3, 10), decision="approve", minutes="late"
    )
    mark_letter_sent(actor=cred, decision=late, sent_on=dt.date(2026, 4, 20))  # due 2026-04-09: late
    # Ben approved 2026-02-01, letter on time; Cy denied
    ben = verified_file(cred, ipa.pcp_b, dt.date(2026, 1, 20), tmp_path)
    b = decide(actor=cred, file=ben, decided_on=dt.date(2026, 2, 1), decision="approve", minutes="ok")
    mark_letter_sent(actor=cred, decision=b, sent_on=dt.date(2026, 2, 5))
    cy = verified_file(cred, ipa.specialist, dt.date(2026, 1, 20), tmp_path)
    decide(actor=cred, file=cy, decided_on=dt.date(2026, 2, 2), decision="deny", minutes="no")
    rows = selectors.roster_changes(cred, ipa.payer, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert [(r["change"], r["npi"]) for r in rows] == [("add", ipa.pcp_b.npi), ("change", ipa.pcp_a.npi)]
    assert rows[1]["reason"] == "recredentialed 2026-03-10"
    rows = selectors.roster_changes(cred, ipa.payer, dt.date(2026, 1, 1), dt.date(2026, 3, 5))
    assert [(r["change"], r["npi"], r["reason"]) for r in rows] == [
        ("add", ipa.pcp_b.npi, "initial credentialing approved 2026-02-01"),
        ("term", ipa.pcp_a.npi, "recredentialing overdue since 2026-03-01"),
    ]
    report = selectors.delegation_report(cred, ipa.payer, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert (report.initial_decided, report.initial_approved, report.denied) == (2, 1, 1)
    assert (report.recred_decided, report.recred_on_time) == (1, 0)
    assert (report.letters_due, report.letters_on_time) == (3, 1)
    assert (report.roster_start, report.roster_end) == (1, 2)
    assert dict(report.rows())["letters_on_time_percent"] == "33.3"
    with pytest.raises(ValidationFailed):
        selectors.roster_changes(cred, ipa.payer, dt.date(2026, 2, 1), dt.date(2026, 1, 1))


def test_the_status_command(screening_ipa: Any, tmp_path: Path) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    cred = screening_ipa.users["cred"]
    done = verified_file(cred, screening_ipa.pcp_a, dt.date(2023, 1, 3), tmp_path)
    decide(actor=cred, file=done, decided_on=dt.date(2023, 1, 4), decision="approve", minutes="ok")
    verified_file(cred, screening_ipa.pcp_b, dt.date(2025, 9, 1), tmp_path)
    open_file(actor=cred, provider=screening_ipa.specialist, kind="initial", opened_on=dt.date(2025, 9, 1))
    out = StringIO()
    call_command("credentialing", "status", "--on", "2025-09-02", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "on": "2025-09-02", "in_progress": 1, "complete": 1, "decided": 1, "credentialed": 1,
        "recredentialing_overdue": 0, "letters_late": 1,
    }  # fmt: skip
    out = StringIO()
    call_command("credentialing", "status", "--on", "2026-01-05", stdout=out)
    assert "recredentialing overdue: 1" in out.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command("credentialing", "status", "--on", "soon")


def _pdf_text(data: bytes) -> str:
    """The text drawn in a ReportLab PDF: its page streams decoded (ASCII85, then Flate)."""
    import base64
    import re
    import zlib

    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        raw = stream.strip().removesuffix(b"~>")
        try:
            out.append(zlib.decompress(base64.a85decode(raw)).decode("latin-1"))
        except (ValueError, zlib.error):
            out.append(stream.decode("latin-1"))
    return " ".join(re.findall(r"\((.*?)\) Tj", " ".join(out)))


def test_decision_letters_say_what_was_decided(screening_ipa: Any, tmp_path: Path) -> None:
    from openipa.credentialing.letters import letter_pdf

    cred = screening_ipa.users["cred"]
    file = verified_file(cred, screening_ipa.pcp_a, dt.date(2024, 2, 20), tmp_path)
    approved = decide(actor=cred, file=file, decided_on=dt.date(2024, 2, 29), decision="approve_conditions",
                      minutes="ok", conditions="Focused review of 10 charts")  # fmt: skip
    text = _pdf_text(letter_pdf(approved))
    assert "approved your initial credentialing on 2024-02-29" in text
    assert "Focused review of 10 charts" in text
    assert "2027-02-28" in text
    other = open_file(actor=cred, provider=screening_ipa.pcp_b, kind="initial", opened_on=dt.date(2025, 9, 1))
    denied = decide(actor=cred, file=other, decided_on=dt.date(2025, 9, 2), decision="deny", minutes="no")
    text = _pdf_text(letter_pdf(denied))
    assert "denied your initial credentialing on 2025-09-02" in text
    assert "review of this decision" in text


def test_claims_see_the_exclusion_with_its_first_day_and_who_is_credentialed(screening_ipa: Any) -> None:
    cred = screening_ipa.users["cred"]
    screen(actor=cred, leie_path=DATA / "leie_small.csv")
    review_hit(actor=cred, hit=ScreeningHit.objects.get(provider=screening_ipa.pcp_b), decision="confirmed",
               note="same NPI")  # fmt: skip
    exclusion = Exclusion.objects.get(provider=screening_ipa.pcp_b)
    npi_b, npi_a = screening_ipa.pcp_b.npi, screening_ipa.pcp_a.npi
    frame = selectors.claims_provider_status({npi_a, npi_b}, dt.date(2026, 11, 1))
    rows = {r["npi"]: r for r in frame.to_dicts()}
    assert (rows[npi_b]["excluded"], rows[npi_b]["excluded_from"]) == (True, exclusion.valid_from)
    assert npi_a not in rows  # credentialing knows nothing of it: the claims engine treats it as not known


def test_a_flushed_database_gets_the_rules_back(transactional_db: Any) -> None:
    from django.core.management import call_command

    from openipa.credentialing.models import CredentialingRule, ScreeningPolicy

    call_command("flush", interactive=False, verbosity=0)
    assert CredentialingRule.objects.count() == 2
    assert ScreeningPolicy.objects.exists()
    assert selectors.rule_on(dt.date(2026, 11, 23)).window_days == 120
