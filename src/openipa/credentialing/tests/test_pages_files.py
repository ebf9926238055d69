"""The credentialing files pages: the list and its status filter, a file's checklist (missing, stale, redo-by),
the verification form with its upload, the committee's decision (refused when incomplete), the queue and letters
(PDF, mark sent), expirables with the chart and the recredentialing due list, the delegation page and its CSVs;
auditors read only, practice users are refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from openipa.credentialing.models import CommitteeDecision, CredentialingFile, Verification
from openipa.credentialing.services import decide, open_file
from openipa.credentialing.tests.files_helpers import verified_file, verify
from openipa.web.tests.pages import field_errors, html

pytestmark = pytest.mark.django_db


def _client(ipa: Any, persona: str) -> Client:
    client = Client()
    client.force_login(ipa.users[persona])
    return client


@pytest.fixture
def files(screening_ipa: Any, tmp_path: Path) -> Any:
    """Ada: complete today; Ben: in progress (license only); Cy: approved 35 months ago (recredentialing due)."""
    cred = screening_ipa.users["cred"]
    today = timezone.localdate()
    screening_ipa.complete = verified_file(cred, screening_ipa.pcp_a, today - dt.timedelta(days=10), tmp_path)
    screening_ipa.partial = open_file(
        actor=cred, provider=screening_ipa.pcp_b, kind="initial", opened_on=today - dt.timedelta(days=5)
    )
    verify(cred, screening_ipa.partial, "license", today - dt.timedelta(days=5), tmp_path,
           expires_on=today + dt.timedelta(days=20))  # fmt: skip
    decided_on = today - dt.timedelta(days=35 * 30)
    old = verified_file(cred, screening_ipa.specialist, decided_on - dt.timedelta(days=3), tmp_path)
    screening_ipa.approval = decide(
        actor=cred, file=old, decided_on=decided_on, decision="approve", minutes="ok"
    )
    screening_ipa.old = old
    return screening_ipa


def test_the_files_list_and_its_status_filter(files: Any) -> None:
    client = _client(files, "cred")
    body = html(client.get("/credentialing/files/"))
    assert 'href="/credentialing/files/new/"' in body
    assert "Complete (1)" in body
    assert "In progress (1)" in body
    assert "Decided (1)" in body
    only = html(client.get("/credentialing/files/?status=complete"))
    assert f'id="file-{files.complete.pk}"' in only
    assert f'id="file-{files.partial.pk}"' not in only
    assert f'id="file-{files.old.pk}"' not in only


def test_a_file_shows_what_is_missing_or_stale_and_by_when(files: Any) -> None:
    client = _client(files, "cred")
    body = html(client.get(f"/credentialing/files/{files.partial.pk}/"))
    assert 'data-testid="state-license">Verified' in body
    assert 'data-testid="state-sanctions">Missing' in body
    assert "Not complete" in body
    later = timezone.localdate() + dt.timedelta(days=200)
    body = html(client.get(f"/credentialing/files/{files.complete.pk}/?on={later.isoformat()}"))
    assert 'data-testid="state-sanctions">Stale' in body
    redo = timezone.localdate() - dt.timedelta(days=10) + dt.timedelta(days=120)
    assert f'data-testid="redo-sanctions">{redo.isoformat()}' in body
    body = html(client.get(f"/credentialing/files/{files.complete.pk}/"))
    assert "the committee must decide by" in body
    assert client.get(f"/credentialing/files/{files.complete.pk}/?on=soon").status_code == 400
    before_rules = client.get(f"/credentialing/files/{files.complete.pk}/?on=1999-01-01")
    assert before_rules.status_code == 400
    assert "no credentialing rules are in force on 1999-01-01" in html(before_rules)
    refused = client.post(f"/credentialing/files/{files.complete.pk}/decide/",
                          {"decided_on": "1999-01-01", "decision": "deny", "minutes": "x"})  # fmt: skip
    assert refused.status_code == 400


def test_recording_a_verification_with_its_document(files: Any) -> None:
    client = _client(files, "cred")
    url = f"/credentialing/files/{files.partial.pk}/verify/"
    assert "Record the verification" in html(client.get(url + "?element=sanctions"))
    today = timezone.localdate().isoformat()
    data = {"element": "sanctions", "source": "OIG LEIE online", "method": "online", "verified_on": today,
            "result": "verified", "document": SimpleUploadedFile("leie.pdf", b"%PDF-1.4 leie", "application/pdf")}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    v = Verification.objects.get(file=files.partial, element__code="sanctions")
    assert v.document_name == "leie.pdf"
    download = client.get(f"/credentialing/verifications/{v.pk}/document/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 leie"  # type: ignore[attr-defined]
    refused = client.post(url, {**data, "element": "dea", "result": "verified",
                                "document": SimpleUploadedFile("dea.pdf", b"x")})  # fmt: skip
    assert refused.status_code == 400
    assert field_errors(refused, "expires_on") == [
        "DEA / state controlled-substance registration expires: give its expiry date"
    ]


def test_the_committee_decides_complete_files_only(files: Any) -> None:
    client = _client(files, "cred")
    today = timezone.localdate().isoformat()
    body = html(client.get("/credentialing/committee/"))
    assert f'id="queue-{files.complete.pk}"' in body
    assert f'id="queue-{files.partial.pk}"' not in body
    refused = client.post(
        f"/credentialing/files/{files.partial.pk}/decide/",
        {"decided_on": today, "decision": "approve", "minutes": "ok"},
    )
    assert refused.status_code == 400
    assert "the file is not complete on" in field_errors(refused, "decided_on")[0]
    response = client.post(
        f"/credentialing/files/{files.complete.pk}/decide/",
        {"decided_on": today, "decision": "approve", "minutes": "Reviewed; no findings."},
    )
    assert response.status_code == 302
    d = CommitteeDecision.objects.get(file=files.complete)
    files.complete.refresh_from_db()
    assert files.complete.status == CredentialingFile.Status.DECIDED
    body = html(client.get("/credentialing/committee/"))
    assert f'id="letter-{d.pk}"' in body
    pdf = client.get(f"/credentialing/decisions/{d.pk}/letter.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.post(f"/credentialing/decisions/{d.pk}/letter-sent/", {"sent_on": today}).status_code == 302
    d.refresh_from_db()
    assert d.letter_sent_on == timezone.localdate()
    assert f'id="letter-{d.pk}"' not in html(client.get("/credentialing/committee/"))


def test_expirables_and_the_recredentialing_due_list(files: Any) -> None:
    body = html(_client(files, "cred").get("/credentialing/expirables/"))
    assert "<svg" in body
    assert 'id="expirables-title"' in body
    assert "State license(s)" in body
    assert f'id="due-{files.specialist.pk}"' in body
    assert files.approval.recredential_due.isoformat() in body


def test_the_delegation_page_and_its_csvs(files: Any) -> None:
    from openipa.network.models import ContractParticipation, ParticipationAgreement

    for practice in (files.practice_a, files.practice_b):
        agreement = ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2026, 1, 1))
        ContractParticipation.objects.create(
            agreement=agreement, contract=files.contract, valid_from=dt.date(2026, 1, 1)
        )
    client = _client(files, "cred")
    query = f"?payer={files.payer.pk}&start=2026-01-01&end={timezone.localdate().isoformat()}"
    body = html(client.get("/credentialing/delegation/" + query))
    assert 'data-testid="report"' in body
    assert "1 credentialed at the start, 1 at the end" in body
    roster = client.get("/credentialing/delegation/" + query + "&format=roster.csv")
    assert roster["Content-Type"].startswith("text/csv")
    assert roster.content.decode().splitlines()[0].startswith("change,npi,last_name")
    report = client.get("/credentialing/delegation/" + query + "&format=report.csv").content.decode()
    assert "initial_files_decided," in report
    assert client.get("/credentialing/delegation/?start=2026-02-01&end=2026-01-01").status_code == 400


def test_auditors_read_and_practice_users_are_refused(files: Any) -> None:
    auditor = _client(files, "auditor")
    body = html(auditor.get(f"/credentialing/files/{files.partial.pk}/"))
    assert "Record the verification" not in body
    assert "Record the committee" not in body
    assert auditor.get("/credentialing/files/new/").status_code == 403
    assert auditor.post(f"/credentialing/files/{files.complete.pk}/decide/", {}).status_code == 403
    alice = _client(files, "alice")
    for url in ("/credentialing/files/", f"/credentialing/files/{files.partial.pk}/", "/credentialing/committee/",
                "/credentialing/expirables/", "/credentialing/delegation/",
                f"/credentialing/decisions/{files.approval.pk}/letter.pdf"):  # fmt: skip
        assert alice.get(url).status_code == 403, url
    assert alice.post(f"/credentialing/decisions/{files.approval.pk}/letter-sent/", {}).status_code == 403
    assert not CommitteeDecision.objects.filter(letter_sent_on__isnull=False).exists()


def test_opening_a_file_from_the_form(files: Any) -> None:
    client = _client(files, "cred")
    response = client.post("/credentialing/files/new/", {"provider": files.specialist.pk, "kind": "recredentialing",
                                                          "prescribes": "on"})  # fmt: skip
    assert response.status_code == 302
    refused = client.post("/credentialing/files/new/", {"provider": files.specialist.pk, "kind": "initial"})
    assert refused.status_code == 400
    assert "already has an open file" in field_errors(refused, "provider")[0]


def test_a_file_names_the_providers_open_screening_alerts(files: Any) -> None:
    from openipa.credentialing.models import ScreeningHit
    from openipa.credentialing.services import screen
    from openipa.credentialing.tests.conftest import DATA

    screen(actor=files.users["cred"], leie_path=DATA / "leie_small.csv")
    hit = ScreeningHit.objects.get(provider=files.pcp_a)
    body = html(_client(files, "cred").get(f"/credentialing/files/{files.complete.pk}/"))
    assert 'data-testid="open-alert"' in body
    assert f'href="/credentialing/screening/alerts/{hit.pk}/"' in body


def test_a_decided_file_takes_renewals_of_expiring_credentials_only(files: Any) -> None:
    client = _client(files, "cred")
    body = html(client.get(f"/credentialing/files/{files.old.pk}/"))
    assert "Record a renewal" in body
    form = html(client.get(f"/credentialing/files/{files.old.pk}/verify/"))
    assert 'value="license"' in form
    assert 'value="sanctions"' not in form
