"""Alice (practice A) cannot reach practice B's members, providers' private data or anything financial
through the pages: she is refused (404 or 403), the body carries none of the other practice's data, and a
refused POST writes nothing. Bank details are masked for everyone but finance."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openipa.contracts.models import Payer, RateCell
from openipa.core.models import AuditEvent
from openipa.network.models import Practice, Provider
from openipa.web.tests.pages import html, results

# Everything that identifies Bob's member; none of it may appear on a page Alice gets.
BOB_MEMBER = ("Brooks", "Bert", "SUN0002", "1948-07-08", "Arcadia")


def test_alice_gets_404_for_bobs_member_with_none_of_its_data(client_for, small_ipa):
    reads_before = AuditEvent.objects.filter(kind="read").count()
    response = client_for("alice").get(f"/members/{small_ipa.member_b.pk}/")
    assert response.status_code == 404
    body = html(response)
    assert "Page not found" in body
    for value in BOB_MEMBER:
        assert value not in body
    assert AuditEvent.objects.filter(kind="read").count() == reads_before  # nothing was read


def test_alice_opens_her_own_member(client_for, small_ipa):
    response = client_for("alice").get(f"/members/{small_ipa.member_a.pk}/")
    assert response.status_code == 200
    assert "Amy Anders" in html(response)


def test_alices_member_list_and_search_hold_only_her_members(client_for, small_ipa):
    client = client_for("alice")
    body = results(client.get("/members/"))
    assert "Anders, Amy" in body
    assert "1&ndash;1 of 1" in body
    for value in BOB_MEMBER:
        assert value not in body
    assert "No members match." in results(client.get("/members/", {"q": "SUN0002"}))


def test_alice_cannot_widen_the_member_list_with_a_filter(client_for, small_ipa):
    response = client_for("alice").get("/members/", {"practice": small_ipa.practice_b.pk, "payer": 1})
    body = html(response)
    assert "Brooks" not in body
    assert 'name="practice"' not in body
    assert 'name="payer"' not in body


def test_alices_member_export_holds_only_her_members(client_for, small_ipa):
    response = client_for("alice").get("/members/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r[1] for r in rows[1:]] == ["SUN0001"]


def test_alice_sees_provider_directory_data_but_not_another_practices_private_data(client_for, small_ipa):
    client = client_for("alice")
    body = html(client.get(f"/providers/{small_ipa.pcp_b.pk}/"))
    assert "Ben Birch, DO" in body
    assert "1245319599" in body
    assert "1975-05-06" not in body
    assert "626-555-0202" not in body
    assert "Birch Pediatrics" not in body  # where he practises is the other practice's business
    own = html(client.get(f"/providers/{small_ipa.pcp_a.pk}/"))
    assert "1970-01-02" in own
    assert "626-555-0101" in own


def test_alice_gets_404_for_the_other_practice(client_for, small_ipa):
    response = client_for("alice").get(f"/practices/{small_ipa.practice_b.pk}/")
    assert response.status_code == 404
    assert "Birch" not in html(response)
    assert "987654321" not in html(response)
    assert "Birch" not in results(client_for("alice").get("/practices/"))


@pytest.mark.parametrize(
    "url",
    [
        "/payers/",
        "/payers/{payer}/",
        "/contracts/",
        "/contracts/{contract}/",
        "/contracts/terms/{term}/",
        "/audit/",
        "/audit/export.csv",
        "/dashboard/member-months/",
    ],
)
def test_alice_is_refused_everything_financial_and_the_audit_log(client_for, small_ipa, url):
    url = url.format(payer=small_ipa.payer.pk, contract=small_ipa.contract.pk, term=small_ipa.term.pk)
    response = client_for("alice").get(url)
    assert response.status_code == 403
    body = html(response)
    for value in ("Sunrise", "SUN-2026", "12.000", "3.50"):
        assert value not in body


def test_alice_sees_her_practice_with_masked_bank_details_and_no_contract_terms(client_for, small_ipa):
    body = html(client_for("alice").get(f"/practices/{small_ipa.practice_a.pk}/"))
    assert "Alder Family Medicine" in body
    assert "000123456789" not in body
    assert "121000358" not in body
    assert "••••••••6789" in body
    assert "Admin fee" not in body


def test_bank_details_are_masked_for_admin_operations_and_auditor_and_clear_for_finance(
    client_for, small_ipa
):
    url = f"/practices/{small_ipa.practice_a.pk}/"
    for who in ("admin", "ops", "auditor"):
        page = html(client_for(who).get(url))
        assert "000123456789" not in page, who
        assert "121000358" not in page, who
        assert "••••••••6789" in page, who
        assert "•••••0358" in page, who
        assert "Masked: only finance can read bank details in full." in page, who
    fin = html(client_for("fin").get(url))
    assert "000123456789" in fin
    assert "121000358" in fin
    assert "Masked" not in fin


def test_refused_posts_change_nothing(client_for, small_ipa):
    alice = client_for("alice")
    before = (
        AuditEvent.objects.filter(kind="write").count(),
        Practice.objects.count(),
        Provider.objects.count(),
    )
    response = alice.post(
        f"/practices/{small_ipa.practice_b.pk}/edit/", {"legal_name": "Taken over", "tin": "123456789"}
    )
    assert response.status_code == 403
    response = alice.post(f"/practices/{small_ipa.practice_a.pk}/edit/", {"legal_name": "Renamed"})
    assert response.status_code == 403
    response = alice.post("/providers/new/", {"npi": "1598765437", "last_name": "X"})
    assert response.status_code == 403
    response = alice.post(f"/providers/{small_ipa.pcp_b.pk}/edit/", {"personal_phone": "555"})
    assert response.status_code == 403
    file = SimpleUploadedFile("r.csv", b"product_code,age_min,age_max,sex,pmpm\nMAHMO,0,1,U,1\n")
    assert alice.post(f"/contracts/terms/{small_ipa.term.pk}/rates/", {"file": file}).status_code == 403
    assert client_for("ops").post("/payers/new/", {"name": "X", "code": "X"}).status_code == 403
    assert client_for("auditor").post("/practices/new/", {"code": "Z"}).status_code == 403
    after = (
        AuditEvent.objects.filter(kind="write").count(),
        Practice.objects.count(),
        Provider.objects.count(),
    )
    assert after == before
    assert Practice.objects.get(pk=small_ipa.practice_b.pk).legal_name == "Birch Pediatrics"
    assert Provider.objects.get(pk=small_ipa.pcp_b.pk).personal_phone == "626-555-0202"
    assert not RateCell.objects.exists()
    assert not Payer.objects.filter(code="X").exists()


def test_bob_is_refused_alices_member_the_same_way(client_for, small_ipa):
    response = client_for("bob").get(f"/members/{small_ipa.member_a.pk}/")
    assert response.status_code == 404
    assert "Anders" not in html(response)
