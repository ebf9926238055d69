"""The claims pages: the list and its filters, one claim's detail (scoped to the practice that billed it and
audited), uploading an 837 (applied, rejected with nothing applied, refused to practice users), the list of
files, one file's record, the file as received and its 999."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.tests.conftest import claim_file
from openipa.core.models import AuditEvent
from openipa.web.tests.pages import html, nav_labels, results

pytestmark = pytest.mark.django_db

RECEIVED = dt.date(2026, 11, 2)


def _adjudicated(tmp_path: Path) -> Claim:
    import_claims(actor=None, path=claim_file(tmp_path), received_on=RECEIVED)
    adjudicate_waiting(actor=None)
    return Claim.objects.get()


def upload(client: Client, data: bytes, name: str = "claims.837", received: str = "2026-11-02") -> Any:
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post("/claims/imports/upload/", {"file": file, "received_on": received})


@pytest.mark.parametrize("who", ["ops", "fin", "admin", "auditor"])
def test_staff_see_the_list_and_the_detail(
    claims_ipa: Any, client_for: Any, tmp_path: Path, who: str
) -> None:
    claim = _adjudicated(tmp_path)
    client = client_for(who)
    listing = client.get("/claims/")
    assert listing.status_code == 200
    assert f'href="/claims/{claim.pk}/"' in results(listing)
    assert "Claims" in nav_labels(listing)
    detail = client.get(f"/claims/{claim.pk}/")
    assert detail.status_code == 200
    body = html(detail)
    assert "26463774" in body
    assert "SUN0001" in body
    for line in ClaimLine.objects.filter(claim=claim):
        assert f'id="line-{line.number}"' in body
        assert line.get_outcome_display() in body
    pended = ClaimLine.objects.get(code="99214")
    assert pended.pend_reason
    assert pended.pend_reason[:20] in body
    paid = ClaimLine.objects.get(code="99213")
    assert paid.outcome == "paid"
    assert str(paid.pricing.get("method", "")) in body  # the pricing detail is shown
    assert f'href="/claims/imports/{claim.source_id}/"' in body


def test_reading_a_claim_is_audited_as_a_read_of_its_member(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    claim = _adjudicated(tmp_path)
    assert claim.member_id == claims_ipa.member_a.pk
    client_for("ops").get(f"/claims/{claim.pk}/")
    event = AuditEvent.objects.get(kind="read", object_type="claims.claim", object_id=str(claim.pk))
    assert (event.actor_username, event.member_ids, event.purpose) == ("ops", [claim.member_id], "claim page")
    client_for("ops").get("/claims/")
    listed = AuditEvent.objects.get(kind="read", object_type="claims.claim", action="list")
    assert listed.member_ids == [claim.member_id]


def test_the_practice_that_billed_sees_its_claim_another_practice_does_not(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    claim = _adjudicated(tmp_path)  # billed under Birch's TIN 234567891
    bob, alice = client_for("bob"), client_for("alice")
    assert f'href="/claims/{claim.pk}/"' in results(bob.get("/claims/"))
    detail = bob.get(f"/claims/{claim.pk}/")
    assert detail.status_code == 200
    assert f'href="/claims/imports/{claim.source_id}/"' not in html(detail)  # the file is staff's
    before = AuditEvent.objects.filter(kind="read").count()
    assert "No claims match." in results(alice.get("/claims/"))
    assert alice.get(f"/claims/{claim.pk}/").status_code == 404
    assert alice.get(f"/claims/{claim.pk + 1000}/").status_code == 404  # the same answer as no claim
    assert AuditEvent.objects.filter(kind="read").count() == before  # nothing was read
    for url in ("/claims/imports/", f"/claims/imports/{claim.source_id}/", "/claims/pends/"):
        assert bob.get(url).status_code == 403, url


def test_roles_without_claims_are_refused(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    claim = _adjudicated(tmp_path)
    client = client_for("messenger")
    assert client.get("/claims/").status_code == 403
    assert client.get(f"/claims/{claim.pk}/").status_code == 403
    assert not AuditEvent.objects.filter(kind="read", object_type="claims.claim").exists()


def test_the_filters_narrow_the_list(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    claim = _adjudicated(tmp_path)
    client = client_for("ops")
    link = f'href="/claims/{claim.pk}/"'
    hits = [
        f"?status={claim.status}", "?received_from=2026-11-02&received_to=2026-11-02", "?payee=234567891",
        f"?payee={claim.billing_npi}", "?member_id=sun0001",
    ]  # fmt: skip
    misses = ["?status=paid", "?received_from=2026-11-03", "?received_to=2026-11-01", "?payee=123456789",
              "?member_id=SUN0002"]  # fmt: skip
    for query in hits:
        assert link in results(client.get(f"/claims/{query}")), query
    for query in misses:
        assert link not in results(client.get(f"/claims/{query}")), query
    bad = client.get("/claims/?received_from=yesterday")
    assert bad.status_code == 200
    assert link in results(bad)


def test_an_upload_applies_and_lands_on_the_file(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    client = client_for("ops")
    response = upload(client, claim_file(tmp_path).read_bytes())
    record = ClaimImport.objects.get()
    assert (record.status, record.claims, record.lines, record.imported_by) == (
        "applied",
        1,
        Claim.objects.get().lines.count(),
        "ops",
    )
    assert record.received_on == RECEIVED
    assert response.status_code == 302
    assert response["Location"] == f"/claims/imports/{record.pk}/"
    body = html(client.get(response["Location"]))
    assert (
        f"claims.837 was applied: 1 claim, {record.lines} lines, $100.00 charged, 0 unknown members." in body
    )
    assert f'href="/claims/imports/{record.pk}/999/"' in body
    assert f'href="/claims/imports/{record.pk}/file/"' in body
    kept = client.get(f"/claims/imports/{record.pk}/file/")
    assert kept.status_code == 200
    assert b"".join(kept.streaming_content) == claim_file(tmp_path, "again.837").read_bytes()
    assert AuditEvent.objects.filter(
        kind="read", object_type="claims.claimimport", action="download"
    ).exists()
    ack = client.get(f"/claims/imports/{record.pk}/999/")
    assert ack.status_code == 200
    assert b"ST*999" in ack.content
    assert f'href="/claims/imports/{record.pk}/"' in results(client.get("/claims/imports/"))
    again = upload(client, claim_file(tmp_path).read_bytes())
    assert again.status_code == 302
    assert ClaimImport.objects.filter(status="duplicate").count() == 1
    assert Claim.objects.count() == 1


def test_a_hostile_file_is_rejected_with_its_positions_and_nothing_applied(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    text = claim_file(tmp_path).read_text()
    assert "SV1*HC:99213*40.00*UN*1.00***1" in text
    hostile = text.replace("SV1*HC:99213*40.00*UN*1.00***1", "SV1*HC:99213*40.00*UN*-1.00***1", 1)
    client = client_for("ops")
    response = upload(client, hostile.encode(), name="hostile.837")
    record = ClaimImport.objects.get()
    assert record.status == "rejected"
    assert response["Location"] == f"/claims/imports/{record.pk}/"
    body = html(client.get(response["Location"]))
    assert "hostile.837 was rejected with" in body
    assert "nothing changed" in body
    error = record.errors[0]
    assert error["segment"]
    assert error["segment_id"] == "SV1"
    assert f'<td class="num">{error["segment"]}</td>' in body
    assert Claim.objects.count() == 0
    assert ClaimLine.objects.count() == 0


def test_practice_users_and_readers_cannot_upload(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    data = claim_file(tmp_path).read_bytes()
    for who in ("bob", "auditor", "messenger"):
        assert upload(client_for(who), data).status_code == 403, who
        assert client_for(who).get("/claims/imports/upload/").status_code == 403, who
    assert ClaimImport.objects.count() == 0


def test_an_upload_without_a_file_is_shown_on_the_form(claims_ipa: Any, client_for: Any) -> None:
    response = client_for("ops").post("/claims/imports/upload/", {"received_on": "2026-11-02"})
    assert response.status_code == 400
    assert 'data-field="file"' in html(response)
    assert ClaimImport.objects.count() == 0


def test_a_correction_and_its_original_point_at_each_other(
    claims_ipa: Any, client_for: Any, tmp_path: Path
) -> None:
    original = _adjudicated(tmp_path)
    text = claim_file(tmp_path, "void.837").read_text()
    text = text.replace("CLM*26463774*100.00***11:B:1", "CLM*26463774*100.00***11:B:8")
    text = text.replace("REF*D9*17312345600006351", f"REF*F8*{original.pk}")
    path = tmp_path / "void2.837"
    path.write_text(text)
    record = import_claims(actor=None, path=path, received_on=RECEIVED)
    assert record.status == "applied", record.errors
    void = Claim.objects.exclude(pk=original.pk).get()
    client = client_for("ops")
    assert f'href="/claims/{void.pk}/"' in html(client.get(f"/claims/{original.pk}/"))
    assert f'href="/claims/{original.pk}/"' in html(client.get(f"/claims/{void.pk}/"))


def test_htmx_filtering_answers_only_the_results(claims_ipa: Any, client_for: Any, tmp_path: Path) -> None:
    claim = _adjudicated(tmp_path)
    response = client_for("ops").get("/claims/?payee=234567891", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = html(response)
    assert f'href="/claims/{claim.pk}/"' in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]
