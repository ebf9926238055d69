"""The remittance pages: uploading a file (applied, rejected with its segment errors, duplicate, refused
outright, with htmx), the list and its filters, one file's detail, the file as received and its 999."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openipa.capitation.models import CapitationProfile, ReceivedLine, RemittanceImport
from openipa.capitation.services.imports import import_capitation
from openipa.capitation.tests.remit_files import member, write_820_file
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.core.models import AuditEvent, AuditMember
from openipa.ledger.models import JournalEntry
from openipa.web.tests.pages import field_errors, html, results

pytestmark = pytest.mark.django_db


def may_820(tmp_path: Path, *, total: int | None = None, trace: str = "TRACE1") -> bytes:
    path = write_820_file(
        tmp_path / "may.820",
        [
            member("SUN0001", [(35000, None, None)], ((-1000, "52"),)),
            member("SUN0002", [(35000, None, None)], ent=2),
            member("GHOST9", [(20000, None, None)], ent=3),
        ],
        total=total,
        trace=trace,
    )
    return path.read_bytes()


def upload(client: Client, ipa: Any, data: bytes, name: str = "may.820", fmt: str = "", **extra: Any) -> Any:
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post("/capitation/remittances/upload/", {"payer": ipa.payer.pk, "file": file, "format": fmt},
                       **extra)  # fmt: skip


def test_an_applied_upload_lands_on_its_detail(client_for, small_ipa, tmp_path):
    client = client_for("fin")
    response = upload(client, small_ipa, may_820(tmp_path))
    record = RemittanceImport.objects.get()
    assert record.status == "applied"
    assert response.status_code == 302
    assert response["Location"] == f"/capitation/remittances/{record.pk}/"
    page = client.get(response["Location"])
    body = html(page)
    assert "may.820 was applied: $890.00 for 2026-05, 4 member-month lines, 1 unknown member." in body
    for text in ("$890.00", "$900.00", "-$10.00", "TRACE1", "2026-05-10", 'href="/capitation/payers/'):
        assert text in body, text
    assert "member GHOST9 is not on file for SUN: paid but not eligible" in body
    assert f'href="/capitation/remittances/{record.pk}/999/"' in body
    assert f'href="/capitation/remittances/{record.pk}/file/"' in body
    assert record.imported_by == "fin"
    assert JournalEntry.objects.filter(source_type="capitation_import").count() == 1


def test_a_rejected_upload_shows_its_errors_with_segment_and_element(client_for, small_ipa, tmp_path):
    client = client_for("fin")
    response = upload(client, small_ipa, may_820(tmp_path, total=40000), follow=True)
    body = html(response)
    assert "may.820 was rejected with 1 error; nothing changed." in body
    assert "This file was rejected" in body
    errors = body[body.index('id="errors"') :]
    assert '<td class="mono">BPR</td>' in errors
    assert '<td class="num">2</td>' in errors
    assert "is not the sum of the member detail" in errors
    assert not ReceivedLine.objects.exists()
    assert not JournalEntry.objects.exists()
    record = RemittanceImport.objects.get()
    ack = client.get(f"/capitation/remittances/{record.pk}/999/")
    assert ack["Content-Disposition"] == 'attachment; filename="may-999.x12"'
    assert "IK5*R" in ack.content.decode("latin-1")


def test_the_same_file_again_is_a_duplicate(client_for, small_ipa, tmp_path):
    client = client_for("fin")
    data = may_820(tmp_path)
    upload(client, small_ipa, data)
    body = html(upload(client, small_ipa, data, follow=True))
    assert "may.820 was imported before; nothing changed." in body
    first = RemittanceImport.objects.get(status="applied")
    assert f'href="/capitation/remittances/{first.pk}/"' in body
    assert ReceivedLine.objects.count() == 4


def test_with_htmx_the_upload_redirects_the_client_or_returns_the_form(client_for, small_ipa, tmp_path):
    client = client_for("fin")
    response = upload(client, small_ipa, may_820(tmp_path), HTTP_HX_REQUEST="true")
    record = RemittanceImport.objects.get()
    assert (response.status_code, response["HX-Redirect"]) == (200, f"/capitation/remittances/{record.pk}/")
    response = client.post("/capitation/remittances/upload/", {"payer": small_ipa.payer.pk},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    assert field_errors(response, "file") == ["This field is required."]
    assert "<html" not in html(response)


def test_a_payer_csv_without_a_profile_is_rejected_naming_the_problem(client_for, small_ipa):
    CapitationProfile.objects.create(payer=small_ipa.payer, default_format="csv", csv_profile={})
    body = html(upload(client_for("fin"), small_ipa, b"Member,Month,Paid\nSUN0001,2026-05,350.00\n", "may.csv",
                       follow=True))  # fmt: skip
    assert "the payer&#x27;s CSV profile cannot be used: no column is mapped to &#x27;month&#x27;" in body
    assert RemittanceImport.objects.get().status == "rejected"


def test_an_empty_or_unknown_choice_is_a_form_error(client_for, small_ipa, tmp_path):
    client = client_for("fin")
    response = upload(client, small_ipa, may_820(tmp_path), fmt="pdf")
    assert response.status_code == 400
    assert field_errors(response, "format") == [
        "Select a valid choice. pdf is not one of the available choices."
    ]
    response = client.post("/capitation/remittances/upload/", {"payer": "999999"})
    assert response.status_code == 400
    assert field_errors(response, "payer") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not RemittanceImport.objects.exists()


def test_the_list_filters_by_payer_status_and_name(client_for, small_ipa, tmp_path):
    fin = small_ipa.users["fin"]
    path = tmp_path / "may.820"
    path.write_bytes(may_820(tmp_path))
    applied = import_capitation(actor=fin, payer=small_ipa.payer, path=path, file_name="sunrise-may.820")
    bad = tmp_path / "bad.820"
    bad.write_bytes(may_820(tmp_path, total=1, trace="TRACE2"))
    rejected = import_capitation(actor=fin, payer=small_ipa.payer, path=bad, file_name="sunrise-bad.820")
    client = client_for("auditor")
    body = results(client.get("/capitation/remittances/"))
    assert "sunrise-may.820" in body
    assert "sunrise-bad.820" in body
    assert "$890.00" in body
    only_rejected = results(client.get("/capitation/remittances/?status=rejected"))
    assert f"/capitation/remittances/{rejected.pk}/" in only_rejected
    assert f"/capitation/remittances/{applied.pk}/" not in only_rejected
    by_trace = results(client.get("/capitation/remittances/?q=TRACE2"))
    assert "sunrise-bad.820" in by_trace
    assert "sunrise-may.820" not in by_trace
    partial = client.get("/capitation/remittances/?q=may", HTTP_HX_REQUEST="true")
    assert "<html" not in html(partial)
    assert "sunrise-may.820" in html(partial)


def test_the_file_as_received_is_downloaded_and_recorded(client_for, small_ipa, tmp_path):
    path = tmp_path / "may.820"
    data = may_820(tmp_path)
    path.write_bytes(data)
    record = import_capitation(actor=small_ipa.users["fin"], payer=small_ipa.payer, path=path)
    response = client_for("auditor").get(f"/capitation/remittances/{record.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert "no-store" in response["Cache-Control"]
    read = AuditEvent.objects.get(kind="read", action="download", object_type="capitation.remittanceimport",
                                  member_count__gt=0)  # fmt: skip
    assert read.actor_username == "auditor"
    assert set(AuditMember.objects.filter(event=read).values_list("member_id", flat=True)) == {
        small_ipa.member_a.pk, small_ipa.member_b.pk
    }  # fmt: skip
    assert AuditEvent.objects.filter(kind="read", action="download", changes__has_key="sha256").exists()


def test_a_missing_stored_file_is_not_found(client_for, small_ipa, tmp_path):
    path = tmp_path / "may.820"
    path.write_bytes(may_820(tmp_path))
    record = import_capitation(actor=small_ipa.users["fin"], payer=small_ipa.payer, path=path)
    RemittanceImport.objects.filter(pk=record.pk).update(stored_path="../../etc/passwd")
    assert client_for("fin").get(f"/capitation/remittances/{record.pk}/file/").status_code == 404
    assert client_for("fin").get("/capitation/remittances/999999/").status_code == 404
