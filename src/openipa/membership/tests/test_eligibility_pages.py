"""The roster pages: who may open them, uploading a roster (applied, rejected, hostile files), the imports
list and one import's change report with its filters, its 999 and the file as received, and the audit
records they leave."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openipa.core.models import AuditEvent, AuditMember
from openipa.membership.models import (
    EligibilitySpan,
    Member,
    PcpAssignment,
    RosterChange,
    RosterImport,
    RosterProfile,
)
from openipa.membership.services.roster import import_roster
from openipa.membership.tests.roster_files import NPI_A, NPI_B, M, roster_834
from openipa.web.tests.pages import field_errors, html, nav_labels, results

pytestmark = pytest.mark.django_db

STAFF = ("admin", "ops", "fin", "auditor")


def db_state() -> tuple[Any, ...]:
    return (
        sorted(Member.objects.values_list("payer_member_id", "last_name", "first_name", "date_of_birth")),
        sorted(EligibilitySpan.objects.values_list("member_id", "product_id", "valid_from", "valid_to")),
        sorted(PcpAssignment.objects.values_list("member_id", "provider_id", "valid_from", "valid_to")),
        RosterChange.objects.count(),
    )


def upload(
    client: Client, ipa: Any, data: bytes, name: str = "sunrise.834", fmt: str = "", **extra: Any
) -> Any:
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post("/rosters/upload/", {"payer": ipa.payer.pk, "file": file, "format": fmt}, **extra)


def imported(ipa: Any, tmp_path: Path, data: bytes, name: str = "roster.834") -> RosterImport:
    path = tmp_path / name
    path.write_bytes(data)
    return import_roster(actor=ipa.users["ops"], payer=ipa.payer, path=path)


# -- who sees what ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", STAFF)
def test_staff_open_the_imports_list_and_a_report(client_for, small_ipa, tmp_path, persona):
    record = imported(small_ipa, tmp_path, roster_834([M("NEW01", pcp_npi=NPI_A)]))
    client = client_for(persona)
    listing = client.get("/rosters/")
    assert listing.status_code == 200
    assert "roster.834" in results(listing)
    assert client.get(f"/rosters/{record.pk}/").status_code == 200


@pytest.mark.parametrize("persona", ["alice", "bob", "messenger"])
def test_practice_users_and_the_messenger_are_refused_rosters(client_for, small_ipa, tmp_path, persona):
    record = imported(small_ipa, tmp_path, roster_834([M("NEW01", pcp_npi=NPI_A)]))
    client = client_for(persona)
    reads = AuditEvent.objects.filter(kind="read").count()
    for url in (
        "/rosters/",
        f"/rosters/{record.pk}/",
        f"/rosters/{record.pk}/file/",
        f"/rosters/{record.pk}/999/",
        "/rosters/upload/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You do not have access to this page" in html(response)
        assert "NEW01" not in html(response)
    assert AuditEvent.objects.filter(kind="read").count() == reads  # a refusal reads nothing


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("ops", 200), ("fin", 403), ("auditor", 403)]
)
def test_only_staff_who_edit_members_may_upload(client_for, small_ipa, persona, status):
    assert client_for(persona).get("/rosters/upload/").status_code == status


def test_a_refused_upload_changes_nothing(client_for, small_ipa):
    before = db_state()
    for persona in ("alice", "fin", "auditor"):
        response = upload(client_for(persona), small_ipa, roster_834([M("NEW01", pcp_npi=NPI_A)]))
        assert response.status_code == 403
    assert db_state() == before
    assert not RosterImport.objects.exists()


@pytest.mark.parametrize(
    ("persona", "labels"),
    [
        ("ops", ["Rosters", "Member-months", "PCP panels"]),
        ("auditor", ["Rosters", "Member-months", "PCP panels"]),
        ("alice", ["Member-months", "PCP panels"]),
        ("messenger", []),
    ],
)
def test_the_eligibility_navigation_follows_the_role(client_for, small_ipa, persona, labels):
    body = html(client_for(persona).get("/"))
    found = body.split('<nav aria-label="Eligibility">')
    shown = (
        []
        if len(found) == 1
        else [
            part.split("</a>")[0].rsplit(">", 1)[1] for part in found[1].split("</nav>")[0].split("<a ")[1:]
        ]
    )
    assert shown == labels
    # the main navigation is unchanged
    assert "Rosters" not in nav_labels(client_for(persona).get("/"))


def test_the_current_page_is_marked_in_the_eligibility_navigation(client_for, small_ipa):
    body = html(client_for("ops").get("/rosters/"))
    assert '<a href="/rosters/" aria-current="page">Rosters</a>' in body


# -- uploading ---------------------------------------------------------------------------------------


def test_an_upload_is_applied_and_lands_on_its_report(client_for, small_ipa):
    client = client_for("ops")
    response = upload(client, small_ipa, roster_834([M("NEW01", pcp_npi=NPI_A, pcp_begin="20260101")]))
    record = RosterImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/rosters/{record.pk}/"
    assert (record.status, record.added, record.file_name, record.imported_by) == (
        "applied",
        1,
        "sunrise.834",
        "ops",
    )
    assert Member.objects.filter(payer_member_id="NEW01").exists()
    body = html(client.get(response["Location"]))
    assert "sunrise.834 was applied: 1 added, 0 changed, 0 termed, 0 reinstated, 0 unchanged." in body
    assert "DOE, JANE" in body.upper()
    assert "MAHMO 2026-01-01 to open" in body  # coverage by product code
    assert "Ada Alder, MD at Alder Family Medicine 2026-01-01 to open" in body  # PCP by name
    assert "AK9*A*1*1*1" in body  # the 999


def test_an_htmx_upload_answers_with_a_client_redirect(client_for, small_ipa):
    response = upload(client_for("ops"), small_ipa, roster_834([M("NEW01")]), HTTP_HX_REQUEST="true")
    record = RosterImport.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/rosters/{record.pk}/"


def test_the_upload_page_shows_a_progress_indicator(client_for, small_ipa):
    body = html(client_for("ops").get("/rosters/upload/"))
    assert 'hx-indicator="#upload-progress"' in body
    assert '<progress max="100"></progress>' in body
    assert 'enctype="multipart/form-data"' in body  # works without htmx too


def test_a_rejected_file_changes_nothing_and_its_report_names_segment_and_element(client_for, small_ipa):
    client = client_for("ops")
    before = db_state()
    data = roster_834([M("NEW01"), M("NEW02", plan="NOPE")])
    response = upload(client, small_ipa, data, name="bad.834")
    assert response.status_code == 302
    assert db_state() == before  # nothing applied, not even the good member
    record = RosterImport.objects.get()
    assert record.status == "rejected"
    assert record.errors
    assert record.errors[0]["segment_id"] == "HD"
    assert record.errors[0]["element"] == 4
    body = html(client.get(response["Location"]))
    assert "bad.834 was rejected with 1 error; nothing changed." in body
    assert "This file was rejected" in body
    assert "plan &#x27;NOPE&#x27; is not a product of SUN" in body
    assert '<td class="mono">HD</td>' in body
    assert "AK9*R" in body  # the 999 rejects the transaction set


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\x00\xff\xfe garbage \x89PNG", ""),
        (b"ISA*00*garbage", ""),
        (b"ISA" + b"*" * 200, "x12"),
        ("naïve,text\n1,2\n".encode("latin-1"), "x12"),
    ],
)
def test_a_hostile_file_is_rejected_with_a_report_never_a_500(client_for, small_ipa, data, fmt):
    before = db_state()
    response = upload(client_for("ops"), small_ipa, data, name="hostile.dat", fmt=fmt)
    assert response.status_code == 302
    record = RosterImport.objects.get()
    assert record.status == "rejected"
    assert record.errors
    assert db_state() == before
    assert client_for("ops").get(response["Location"]).status_code == 200


def test_a_csv_upload_without_a_column_mapping_is_refused_on_the_form(client_for, small_ipa):
    response = upload(client_for("ops"), small_ipa, b"id,last\n1,X\n", name="roster.csv", fmt="csv")
    assert response.status_code == 400
    assert "roster.csv was not imported; nothing changed." in html(response)
    assert any("no CSV column mapping" in e for e in field_errors(response, "format"))
    assert not RosterImport.objects.exists()


def test_an_empty_file_and_a_missing_payer_are_form_errors(client_for, small_ipa):
    client = client_for("ops")
    response = upload(client, small_ipa, b"", name="empty.834")
    assert response.status_code == 400
    assert "The submitted file is empty." in field_errors(response, "file")
    response = client.post("/rosters/upload/", {"payer": "", "format": ""})
    assert response.status_code == 400
    assert "This field is required." in field_errors(response, "payer")
    assert not RosterImport.objects.exists()


def test_an_htmx_upload_with_errors_comes_back_as_the_form(client_for, small_ipa):
    response = upload(client_for("ops"), small_ipa, b"", name="empty.834", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "The submitted file is empty." in html(response)
    assert "<html" not in html(response)


def test_a_second_upload_of_the_same_file_is_a_duplicate(client_for, small_ipa):
    client = client_for("ops")
    data = roster_834([M("NEW01")])
    upload(client, small_ipa, data)
    before = db_state()
    response = upload(client, small_ipa, data, name="again.834")
    assert db_state() == before
    record = RosterImport.objects.order_by("-id").first()
    assert record is not None
    assert record.status == "duplicate"
    body = html(client.get(response["Location"]))
    assert "again.834 was imported before; nothing changed." in body
    assert f"import #{record.duplicate_of_id}" in body


# -- the imports list --------------------------------------------------------------------------------


def test_the_imports_list_filters_by_status_and_file_name(client_for, small_ipa, tmp_path):
    imported(small_ipa, tmp_path, roster_834([M("NEW01")]), name="good.834")
    imported(small_ipa, tmp_path, roster_834([M("NEW02", plan="NOPE")]), name="bad.834")
    client = client_for("auditor")
    body = results(client.get("/rosters/"))
    assert "good.834" in body
    assert "bad.834" in body
    body = results(client.get("/rosters/", {"status": "rejected"}))
    assert "bad.834" in body
    assert "good.834" not in body
    body = results(client.get("/rosters/", {"q": "good"}))
    assert "good.834" in body
    assert "bad.834" not in body
    body = results(client.get("/rosters/", {"payer": small_ipa.payer.pk + 999}))
    assert "good.834" in body  # an unknown payer is an invalid choice, dropped


def test_the_imports_list_is_paginated(client_for, small_ipa, tmp_path):
    for i in range(27):
        imported(
            small_ipa, tmp_path, roster_834([M(f"NEW{i:02d}")], control=f"{i + 1:04d}"), name=f"r{i}.834"
        )
    client = client_for("ops")
    assert "1&ndash;25 of 27" in results(client.get("/rosters/"))
    assert "26&ndash;27 of 27" in results(client.get("/rosters/", {"page": 2}))


def test_the_imports_list_answers_htmx_with_its_results_only(client_for, small_ipa):
    response = client_for("ops").get("/rosters/", HTTP_HX_REQUEST="true")
    assert "<html" not in html(response)
    assert "No roster imports match." in html(response)


# -- the change report ------------------------------------------------------------------------------


def _two_changes(ipa: Any, tmp_path: Path) -> RosterImport:
    """One file: a new member (added in January by a June file: 5 months retro) and a change of Amy's PCP
    from June (no retro). An earlier roster of the payer is on record, so this file is not the initial load."""
    RosterImport.objects.create(
        payer=ipa.payer,
        file_name="2026-01.834",
        sha256="e" * 64,
        format="x12",
        status="applied",
        imported_by="x",
    )
    data = roster_834(
        [
            M("NEW01", pcp_npi=NPI_A, pcp_begin="20260101"),
            M("SUN0001", "001", "25", last="ANDERS-LEE", first="AMY", pcp_npi=NPI_B, pcp_begin="20260601"),
        ]
    )
    return imported(ipa, tmp_path, data)


def test_the_report_lists_changes_with_what_changed(client_for, small_ipa, tmp_path):
    record = _two_changes(small_ipa, tmp_path)
    body = html(client_for("ops").get(f"/rosters/{record.pk}/"))
    assert "last name: Anders → ANDERS-LEE" in body
    assert "zip code: — → 91101" in body
    assert "Ben Birch, DO at Birch Pediatrics 2026-06-01 to open" in body
    assert "Ada Alder, MD at Alder Family Medicine 2026-01-01 to 2026-05-31" in body
    assert f'href="/members/{small_ipa.member_a.pk}/"' in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body  # the counts chart


def test_the_report_filters_by_kind_and_retro(client_for, small_ipa, tmp_path):
    record = _two_changes(small_ipa, tmp_path)
    client = client_for("ops")
    added = results(client.get(f"/rosters/{record.pk}/", {"kind": "add"}))
    assert "NEW01" in added
    assert "SUN0001" not in added
    changed = results(client.get(f"/rosters/{record.pk}/", {"kind": "change"}))
    assert "SUN0001" in changed
    assert "NEW01" not in changed
    retro = results(client.get(f"/rosters/{record.pk}/", {"retro": "retro"}))
    assert "NEW01" in retro
    assert "SUN0001" not in retro
    outside = results(client.get(f"/rosters/{record.pk}/", {"retro": "outside"}))
    assert "No changes match." in outside


def test_the_report_records_the_members_it_shows_as_read(client_for, small_ipa, tmp_path):
    record = _two_changes(small_ipa, tmp_path)
    client_for("auditor").get(f"/rosters/{record.pk}/", {"kind": "change"})
    event = AuditEvent.objects.filter(kind="read", object_type="membership.rosterimport").get()
    assert (event.actor_username, event.purpose, event.object_id) == (
        "auditor",
        "roster import report",
        str(record.pk),
    )
    assert list(AuditMember.objects.filter(event=event).values_list("member_id", flat=True)) == [
        small_ipa.member_a.pk
    ]


def test_the_report_pages_its_changes(client_for, small_ipa, tmp_path):
    record = imported(small_ipa, tmp_path, roster_834([M(f"N{i:03d}") for i in range(55)]))
    client = client_for("ops")
    assert "1&ndash;50 of 55" in results(client.get(f"/rosters/{record.pk}/"))
    assert "51&ndash;55 of 55" in results(client.get(f"/rosters/{record.pk}/", {"page": "2"}))


def test_warnings_name_their_member_with_a_link(client_for, small_ipa, tmp_path):
    record = imported(small_ipa, tmp_path, roster_834([M("SUN0001", "001", "25", pcp_npi="1999999992")]))
    assert record.status == "applied"
    assert record.warning_count
    body = html(client_for("ops").get(f"/rosters/{record.pk}/"))
    assert "unknown PCP NPI 1999999992" in body
    assert f'<a href="/members/{small_ipa.member_a.pk}/">SUN0001</a>' in body


def test_an_unknown_import_is_404(client_for, small_ipa):
    assert client_for("ops").get("/rosters/999999/").status_code == 404


# -- the 999 and the file as received ----------------------------------------------------------------


def test_the_999_downloads_as_text(client_for, small_ipa, tmp_path):
    record = imported(small_ipa, tmp_path, roster_834([M("NEW01")]))
    response = client_for("fin").get(f"/rosters/{record.pk}/999/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="roster-999.x12"'
    assert response.content.decode("latin-1") == record.ack_999


@pytest.mark.parametrize(
    ("persona", "status"), [("admin", 200), ("ops", 200), ("auditor", 200), ("fin", 403)]
)
def test_the_file_as_received_is_for_importers_and_auditors(client_for, small_ipa, tmp_path, persona, status):
    data = roster_834([M("NEW01")])
    record = imported(small_ipa, tmp_path, data)
    response = client_for(persona).get(f"/rosters/{record.pk}/file/")
    assert response.status_code == status
    body = html(client_for(persona).get(f"/rosters/{record.pk}/"))
    assert (f'href="/rosters/{record.pk}/file/"' in body) == (status == 200)
    if status == 200:
        assert b"".join(response.streaming_content) == data
        assert "no-store" in response["Cache-Control"]
        event = AuditEvent.objects.filter(kind="read", action="download").latest("id")
        assert (event.actor_username, event.purpose) == (
            small_ipa.users[persona].username,
            "roster file download",
        )
    else:
        assert not AuditEvent.objects.filter(action="download").exists()


def test_a_stored_path_outside_the_roster_folder_is_not_served(client_for, small_ipa, tmp_path):
    record = imported(small_ipa, tmp_path, roster_834([M("NEW01")]))
    RosterImport.objects.filter(pk=record.pk).update(stored_path="../../etc/passwd")
    assert client_for("ops").get(f"/rosters/{record.pk}/file/").status_code == 404


def test_the_payer_page_links_its_roster_profile(client_for, small_ipa):
    body = html(client_for("fin").get(f"/payers/{small_ipa.payer.pk}/"))
    assert f'href="/payers/{small_ipa.payer.pk}/roster-profile/"' in body


def test_a_profile_of_a_payer_changes_how_an_upload_is_read(client_for, small_ipa):
    """The plan map set on the profile page is what the next upload resolves plan codes with."""
    client = client_for("ops")
    response = upload(client, small_ipa, roster_834([M("NEW01", plan="H1234-001")]), name="a.834")
    assert RosterImport.objects.get().status == "rejected"
    RosterProfile.objects.create(payer=small_ipa.payer, plan_map={"H1234-001": "MAHMO"})
    response = upload(
        client, small_ipa, roster_834([M("NEW01", plan="H1234-001")], control="0002"), name="b.834"
    )
    assert response.status_code == 302
    assert RosterImport.objects.latest("id").status == "applied"
    assert EligibilitySpan.objects.filter(member__payer_member_id="NEW01").get().valid_from == dt.date(
        2026, 1, 1
    )
