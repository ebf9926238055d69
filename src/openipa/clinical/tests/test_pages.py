"""The clinical data pages: who sees them, the upload, a file's issues, and the matching review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openipa.clinical import services
from openipa.clinical.models import ClinicalImport, ClinicalRecord, SourcePatient
from openipa.conftest import SmallIpa
from openipa.core.models import AuditEvent

pytestmark = pytest.mark.django_db

HEADER = b"record_id,patient_id,member_id,first_name,last_name,date_of_birth,sex,record_type,code_system,code,value,unit,date\n"


@pytest.fixture
def source(small_ipa: SmallIpa) -> None:
    services.register_source(actor=None, code="alder-ehr", name="Alder EHR", kind="ehr", default_format="csv",
                             practice=small_ipa.practice_a)  # fmt: skip


@pytest.mark.parametrize(("persona", "status"), [("admin", 200), ("ops", 200), ("auditor", 200), ("alice", 403),
                                                 ("fin", 403), ("messenger", 403)])  # fmt: skip
def test_who_sees_the_clinical_pages(source: None, client_for: Any, persona: str, status: int) -> None:
    client = client_for(persona)
    assert client.get("/clinical/").status_code == status
    assert client.get("/clinical/review/").status_code == status


def test_the_upload_imports_and_shows_the_file_with_its_issues(source: None, client_for: Any) -> None:
    body = HEADER + b"r1,MRN1,SUN0001,Amy,Anders,1950-03-04,F,lab,LOINC,4548-4,7.2,%,2026-04-01\n" \
                    b"r2,MRN1,SUN0001,Amy,Anders,1950-03-04,F,lab,LOINC,4548-4,seven,%,2026-04-01\n"  # fmt: skip
    client = client_for("ops")
    response = client.post("/clinical/", {"source": "alder-ehr", "format": "",
                                          "file": SimpleUploadedFile("april labs.csv", body, "text/csv")})  # fmt: skip
    record = ClinicalImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/clinical/imports/{record.pk}/"
    assert (record.file_name, record.records, record.error_count, record.linked) == (
        "april labs.csv",
        1,
        1,
        1,
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="issues"' in page
    assert "seven" in page or "number" in page


def test_the_auditor_reads_but_cannot_upload(source: None, client_for: Any) -> None:
    client = client_for("auditor")
    assert 'data-testid="upload"' not in client.get("/clinical/").content.decode()
    response = client.post("/clinical/", {"source": "alder-ehr",
                                          "file": SimpleUploadedFile("x.csv", HEADER, "text/csv")})  # fmt: skip
    assert response.status_code == 403
    assert not ClinicalImport.objects.exists()


def test_the_review_queue_links_a_patient_and_is_audited(small_ipa: SmallIpa, source: None, client_for: Any,
                                                         tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "labs.csv"
    # the member id names Amy but the birth date disagrees: review
    path.write_bytes(HEADER + b"r1,MRN9,SUN0001,Amy,Anders,1950-04-03,F,lab,LOINC,4548-4,8.1,%,2026-04-01\n")
    services.import_clinical(actor=None, path=path, source_code="alder-ehr")
    patient = SourcePatient.objects.get()
    client = client_for("ops")
    page = client.get("/clinical/review/").content.decode()
    assert f'id="patient-{patient.pk}"' in page
    read = AuditEvent.objects.filter(object_type="clinical.sourcepatient", action="view").get()
    assert small_ipa.member_a.pk in read.member_ids
    # a member who is not a candidate cannot be chosen
    client.post(f"/clinical/review/{patient.pk}/", {"member": str(small_ipa.member_b.pk)})
    assert SourcePatient.objects.get().match == "review"
    client.post(f"/clinical/review/{patient.pk}/", {"member": str(small_ipa.member_a.pk)})
    assert SourcePatient.objects.get().member_id == small_ipa.member_a.pk
    assert ClinicalRecord.objects.get().member_id == small_ipa.member_a.pk
    assert 'data-testid="review-empty"' in client.get("/clinical/review/").content.decode()
    # a practice user can neither read nor decide
    assert client_for("alice").post(f"/clinical/review/{patient.pk}/", {"member": "none"}).status_code == 403
    assert SourcePatient.objects.get().match == "linked"
