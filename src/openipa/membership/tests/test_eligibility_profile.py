"""A payer's roster profile page: who may read and change it, each rule's error next to its field (nothing
saved), the audit record of a change, and a CSV roster read with the mapping set on the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openipa.contracts.services import product_create
from openipa.core.models import AuditEvent
from openipa.edi.csvroster import TARGETS
from openipa.membership.models import Member, RosterImport, RosterProfile
from openipa.membership.services.profiles import csv_problem_field, roster_profile_save
from openipa.web.tests.pages import field_errors, html

pytestmark = pytest.mark.django_db


def url(ipa: Any) -> str:
    return f"/payers/{ipa.payer.pk}/roster-profile/"


def form_data(**changes: Any) -> dict[str, Any]:
    """A valid POST of the profile form: X12, no CSV mapping."""
    data: dict[str, Any] = {
        "default_format": "x12",
        "full_file_terms_missing": "on",
        "insurance_lines": "HLT",
        "plan_map": "",
        "default_product": "",
        "csv_date_format": "%Y-%m-%d",
        "csv_delimiter": ",",
        "csv_encoding": "utf-8-sig",
        "csv_full_file": "on",
        "csv_insurance_line": "HLT",
        "csv_sex_values": "",
        "csv_maintenance_values": "",
        "csv_relationship_values": "",
    }
    for target in TARGETS:
        data[f"col_{target}"] = ""
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


CSV_COLUMNS = {
    "col_member_id": "Member ID",
    "col_last_name": "Last",
    "col_first_name": "First",
    "col_birth_date": "DOB",
    "col_sex": "Gender",
    "col_plan_code": "Plan",
    "col_coverage_begin": "Start",
    "col_pcp_npi": "PCP NPI",
}


# -- who may read and change it ----------------------------------------------------------------------


def test_staff_who_import_rosters_see_an_editable_form_with_the_defaults(client_for, small_ipa):
    response = client_for("ops").get(url(small_ipa))
    assert response.status_code == 200
    body = html(response)
    assert "Roster profile of Sunrise Health Plan" in body
    assert "Not set yet: these are the defaults." in body
    assert "Save the roster profile" in body
    assert 'name="col_member_id"' in body
    assert 'value="HLT"' in body


@pytest.mark.parametrize("persona", ["fin", "auditor", "messenger"])
def test_other_readers_of_contracts_see_it_read_only_and_may_not_post(client_for, small_ipa, persona):
    client = client_for(persona)
    body = html(client.get(url(small_ipa)))
    assert "Save the roster profile" not in body
    assert 'name="insurance_lines" value="HLT" maxlength="100" required disabled' in body
    response = client.post(url(small_ipa), form_data(insurance_lines="HMO"))
    assert response.status_code == 403
    assert not RosterProfile.objects.exists()
    assert not AuditEvent.objects.filter(object_type="membership.rosterprofile").exists()


@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_practice_users_are_refused_and_their_post_changes_nothing(client_for, small_ipa, persona):
    client = client_for(persona)
    assert client.get(url(small_ipa)).status_code == 403
    assert client.post(url(small_ipa), form_data(insurance_lines="HMO")).status_code == 403
    assert not RosterProfile.objects.exists()


def test_an_unknown_payer_is_404(client_for, small_ipa):
    assert client_for("ops").get("/payers/99999/roster-profile/").status_code == 404


# -- saving --------------------------------------------------------------------------------------------


def test_a_valid_profile_is_saved_and_audited_with_before_and_after(client_for, small_ipa):
    client = client_for("ops")
    response = client.post(
        url(small_ipa),
        form_data(
            insurance_lines="hlt, hmo",
            plan_map="H1234-001=mahmo\n# a comment\n\nH1234-002 = MAHMO",
            default_product=small_ipa.product.pk,
            full_file_terms_missing=None,
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == url(small_ipa)
    profile = RosterProfile.objects.get(payer=small_ipa.payer)
    assert profile.insurance_lines == "HLT,HMO"
    assert profile.plan_map == {"H1234-001": "MAHMO", "H1234-002": "MAHMO"}
    assert profile.default_product == small_ipa.product
    assert profile.full_file_terms_missing is False
    assert profile.csv_profile == {}
    assert profile.updated_by == "ops"
    event = AuditEvent.objects.get(object_type="membership.rosterprofile")
    assert (event.kind, event.action, event.actor_username) == ("write", "roster_profile.create", "ops")
    assert event.changes["insurance_lines"] == [None, "HLT,HMO"]
    assert event.changes["default_product"] == [None, "MAHMO"]
    body = html(client.get(response["Location"]))
    assert "Saved the roster profile of Sunrise Health Plan." in body
    assert "H1234-001=MAHMO" in body

    client.post(url(small_ipa), form_data(insurance_lines="HLT", plan_map="H1234-001=MAHMO"))
    update = AuditEvent.objects.filter(object_type="membership.rosterprofile").latest("id")
    assert update.action == "roster_profile.update"
    assert update.changes["insurance_lines"] == ["HLT,HMO", "HLT"]
    assert update.changes["plan_map"] == [
        {"H1234-001": "MAHMO", "H1234-002": "MAHMO"},
        {"H1234-001": "MAHMO"},
    ]
    assert "csv_profile" not in update.changes  # unchanged fields are not in the record


def test_a_csv_mapping_is_saved_from_one_input_per_roster_field(client_for, small_ipa):
    response = client_for("ops").post(
        url(small_ipa),
        form_data(
            default_format="csv",
            csv_delimiter="TAB",
            csv_date_format="%m/%d/%Y",
            csv_sex_values="Female=F\nMale=M",
            **CSV_COLUMNS,
        ),
    )
    assert response.status_code == 302
    csv = RosterProfile.objects.get().csv_profile
    assert csv["columns"] == {k.removeprefix("col_"): v for k, v in CSV_COLUMNS.items()}
    assert csv["delimiter"] == "\t"
    assert csv["date_format"] == "%m/%d/%Y"
    assert csv["sex_values"] == {"Female": "F", "Male": "M"}
    body = html(client_for("ops").get(url(small_ipa)))
    assert 'name="col_last_name" value="Last"' in body
    assert 'name="csv_delimiter" value="TAB"' in body


# -- errors next to their fields, nothing saved ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"plan_map": "H1=NOPE"}, "plan_map", "Plan H1 maps to NOPE, which is not a product of SUN"),
        ({"plan_map": "just a code"}, "plan_map", "Line 1: write PLAN CODE=PRODUCT CODE"),
        ({"plan_map": "H1=MAHMO\nH1=MAHMO"}, "plan_map", "Line 2: H1 is listed twice."),
        ({"plan_map": "h1=MAHMO\nH1=MAHMO"}, "plan_map", "Plan code H1 is listed twice"),
        ({"insurance_lines": "HLT, DENTAL"}, "insurance_lines", "DENTAL: an insurance line code is 1 to 3"),
        ({"insurance_lines": " , "}, "insurance_lines", "Name at least one insurance line"),
        ({"default_format": "csv"}, "col_member_id", "The payer sends CSV rosters: map the file"),
        ({**CSV_COLUMNS, "col_last_name": ""}, "col_last_name", "Last_name must be mapped to a column."),
        ({**CSV_COLUMNS, "col_coverage_begin": ""}, "col_coverage_begin", "Plan_code is mapped, so"),
        ({**CSV_COLUMNS, "col_first_name": "Last"}, "col_first_name", "is mapped to both"),
        ({**CSV_COLUMNS, "csv_date_format": "%d"}, "csv_date_format", "does not read back what it writes"),
        ({**CSV_COLUMNS, "csv_delimiter": ";;"}, "csv_delimiter", "The delimiter must be one character"),
        ({**CSV_COLUMNS, "csv_encoding": "utf-16"}, "csv_encoding", "is not supported"),
        ({**CSV_COLUMNS, "csv_encoding": "klingon"}, "csv_encoding", "is not a known text encoding"),
        (
            {**CSV_COLUMNS, "csv_sex_values": "Female=W"},
            "csv_sex_values",
            "sex value &#x27;Female&#x27; maps to",
        ),
        ({**CSV_COLUMNS, "csv_maintenance_values": "NEW=999"}, "csv_maintenance_values", "maps to &#x27;999"),
        ({**CSV_COLUMNS, "csv_sex_values": "Female"}, "csv_sex_values", "Line 1: write VALUE=CODE"),
    ],
)
def test_each_rule_is_shown_next_to_its_field_and_nothing_is_saved(
    client_for, small_ipa, changes, field, message
):
    response = client_for("ops").post(url(small_ipa), form_data(**changes))
    assert response.status_code == 400
    assert "Nothing was saved. Please correct the fields marked below." in html(response)
    errors = field_errors(response, field)
    assert any(message.lower() in e.lower() for e in errors), errors
    assert not RosterProfile.objects.exists()
    assert not AuditEvent.objects.filter(object_type="membership.rosterprofile").exists()


def test_a_product_of_another_payer_is_not_a_default_product(client_for, small_ipa):
    from openipa.contracts.services import payer_create

    other = payer_create(actor=small_ipa.users["admin"], data={"name": "Other Plan", "code": "OTH"})
    theirs = product_create(
        actor=small_ipa.users["admin"],
        payer=other,
        code="OTHMO",
        name="Other HMO",
        line_of_business="commercial",
    )
    response = client_for("ops").post(url(small_ipa), form_data(default_product=theirs.pk))
    assert response.status_code == 400
    assert field_errors(response, "default_product")  # not one of the choices
    with pytest.raises(Exception, match="Choose a product of SUN"):
        roster_profile_save(
            actor=small_ipa.users["ops"], payer=small_ipa.payer, data={"default_product": theirs}
        )
    assert not RosterProfile.objects.exists()


def test_the_service_refuses_whoever_may_not_edit_members(small_ipa):
    from openipa.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        roster_profile_save(
            actor=small_ipa.users["fin"], payer=small_ipa.payer, data={"insurance_lines": "HMO"}
        )
    assert not RosterProfile.objects.exists()


@pytest.mark.parametrize(
    ("problem", "key"),
    [
        ("member_id must be mapped to a column", "csv.columns.member_id"),
        ("column 'X' is mapped to both last_name and first_name", "csv.columns.first_name"),
        ("the date format '%d' is not a valid strptime format: bad", "csv.date_format"),
        ("'klingon' is not a known text encoding", "csv.encoding"),
        (
            "relationship values 'a' and 'A' are the same value mapped to different codes",
            "csv.relationship_values",
        ),
        ("something new nobody expected", "csv"),
    ],
)
def test_csv_problems_are_put_next_to_their_field(problem, key):
    assert csv_problem_field(problem) == key


# -- the mapping at work -------------------------------------------------------------------------------


def test_a_csv_roster_is_read_with_the_mapping_set_on_the_page(client_for, small_ipa):
    client = client_for("ops")
    saved = client.post(
        url(small_ipa),
        form_data(
            default_format="csv",
            csv_full_file=None,
            csv_date_format="%m/%d/%Y",
            csv_sex_values="Female=F",
            plan_map="GOLD=MAHMO",
            **CSV_COLUMNS,
        ),
    )
    assert saved.status_code == 302
    text = "Member ID,Last,First,DOB,Gender,Plan,Start,PCP NPI\nCSV01,Lopez,Maria,03/04/1950,Female,GOLD,01/01/2026,1234567893\n"
    file = SimpleUploadedFile("sunrise.csv", text.encode(), content_type="text/csv")
    response = client.post("/rosters/upload/", {"payer": small_ipa.payer.pk, "file": file, "format": ""})
    assert response.status_code == 302
    record = RosterImport.objects.get()
    assert (record.format, record.status, record.added) == ("csv", "applied", 1)
    member = Member.objects.get(payer_member_id="CSV01")
    assert (member.last_name, member.sex) == ("Lopez", "F")


@pytest.mark.parametrize(
    "data",
    [
        "Member ID,Last,First,DOB\nCSV01,L\xf3pez,Maria,03/04/1950\n".encode("latin-1"),  # not UTF-8
        b"Some,Other,Header\n1,2,3\n",  # the mapped columns are missing
        b"Member ID,Last,First,DOB,Gender,Plan,Start,PCP NPI\nCSV01,Lopez,Maria,31/31/1950,Female,GOLD,x,1\n",
        b"\x00\x01\x02\xff" * 100,
        b"Member ID,Last,First,DOB\n" + b"A" * (1 << 20) + b"\n",  # a line longer than the reader takes
    ],
)
def test_a_hostile_csv_roster_is_rejected_never_a_500(client_for, small_ipa, data):
    client = client_for("ops")
    client.post(
        url(small_ipa),
        form_data(default_format="csv", csv_date_format="%m/%d/%Y", plan_map="GOLD=MAHMO", **CSV_COLUMNS),
    )
    members = Member.objects.count()
    file = SimpleUploadedFile("hostile.csv", data, content_type="text/csv")
    response = client.post("/rosters/upload/", {"payer": small_ipa.payer.pk, "file": file, "format": "csv"})
    assert response.status_code == 302
    record = RosterImport.objects.get()
    assert record.status == "rejected"
    assert record.errors
    assert Member.objects.count() == members
    assert client.get(response["Location"]).status_code == 200
