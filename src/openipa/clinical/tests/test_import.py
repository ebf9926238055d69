"""Importing clinical data: the shared FHIR and HL7 samples, a practice's CSV matched to members, the review
queue, bad records left out one by one, broken files refused whole, and who may import."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from openipa.clinical import services
from openipa.clinical.models import ClinicalImport, ClinicalRecord, ClinicalSource, SourcePatient
from openipa.conftest import SmallIpa
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples"
if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/samples")

HEADER = "record_id,patient_id,member_id,first_name,last_name,date_of_birth,sex,zip,record_type,code_system,code,value,unit,date\n"


def _source(small_ipa: SmallIpa, code: str = "alder-ehr", fmt: str = "csv") -> ClinicalSource:
    return services.register_source(actor=small_ipa.users["admin"], code=code, name="Alder EHR", kind="ehr",
                                    default_format=fmt, practice=small_ipa.practice_a)  # fmt: skip


def _csv(tmp_path: Path, body: str, name: str = "labs.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_shared_fhir_samples_import(small_ipa: SmallIpa) -> None:
    _source(small_ipa, "synthea", "fhir-ndjson")
    records = services.import_clinical(actor=None, path=SAMPLES / "fhir", source_code="synthea")
    assert records[0].file_name == "smart10_Patient.000.ndjson"
    assert all(r.status == ClinicalImport.Status.APPLIED for r in records)
    assert records[0].patients == 13  # the file's 13 Patient lines
    assert SourcePatient.objects.count() == 13
    assert ClinicalRecord.objects.filter(kind="condition").count() > 0
    assert ClinicalRecord.objects.filter(kind="immunization").count() > 0
    # none of Synthea's people is a member of the small IPA
    assert set(SourcePatient.objects.values_list("match", flat=True)) <= {"unmatched", "review"}
    assert not ClinicalRecord.objects.filter(member__isnull=False).exists()


def test_the_shared_hl7_samples_import(small_ipa: SmallIpa) -> None:
    _source(small_ipa, "lab", "hl7v2")
    for path in sorted((SAMPLES / "hl7").glob("*.hl7")):
        (record,) = services.import_clinical(actor=None, path=path, source_code="lab")
        assert record.status == ClinicalImport.Status.APPLIED, record.error
    assert ClinicalRecord.objects.filter(kind="observation").exists()


def test_a_practice_csv_links_its_members_and_their_facts(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa)
    path = _csv(tmp_path, "r1,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,7.2,%,2026-04-01\n"
                          "r2,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,vital,LOINC,85354-9,128/78,mm[Hg],2026-04-01\n")  # fmt: skip
    (record,) = services.import_clinical(actor=None, path=path, source_code="alder-ehr")
    assert (record.status, record.patients, record.linked) == ("applied", 1, 1)
    patient = SourcePatient.objects.get()
    assert (patient.member_id, patient.match_method) == (small_ipa.member_a.pk, "identifier")
    a1c = ClinicalRecord.objects.get(code="4548-4")
    assert (a1c.member_id, a1c.value, a1c.unit) == (small_ipa.member_a.pk, Decimal("7.2"), "%")
    # the blood pressure panel also gives its systolic and diastolic as observations
    assert ClinicalRecord.objects.get(code="8480-6").value == 128
    assert ClinicalRecord.objects.get(code="8462-4").value == 78
    event = AuditEvent.objects.get(action="clinical.import.apply")
    assert small_ipa.member_a.pk in event.member_ids


def test_an_uncertain_patient_waits_for_review_and_the_review_links_the_facts(
    small_ipa: SmallIpa, tmp_path: Path
) -> None:
    _source(small_ipa)
    # the member id names Amy, but the birth date disagrees: never linked on the identifier alone
    path = _csv(tmp_path, "r1,MRN9,SUN0001,Amy,Anders,1950-04-03,F,91101,lab,LOINC,4548-4,8.1,%,2026-04-01\n")
    (record,) = services.import_clinical(actor=None, path=path, source_code="alder-ehr")
    patient = SourcePatient.objects.get()
    assert (record.review, patient.match, patient.member_id) == (1, "review", None)
    assert patient.candidates
    assert ClinicalRecord.objects.get().member_id is None
    with pytest.raises(PermissionDenied):
        services.review_match(actor=small_ipa.users["alice"], patient=patient, member=small_ipa.member_a)
    assert SourcePatient.objects.get().match == "review"
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=small_ipa.member_a)
    assert ClinicalRecord.objects.get().member_id == small_ipa.member_a.pk
    assert SourcePatient.objects.get().match == "linked"


def test_bad_rows_are_left_out_one_by_one(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa)
    path = _csv(tmp_path, "r1,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,7.2,%,2026-04-01\n"
                          "r2,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,seven,%,2026-04-01\n"
                          "r3,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,7.0,%,2026-13-01\n")  # fmt: skip
    (record,) = services.import_clinical(actor=None, path=path, source_code="alder-ehr")
    assert (record.status, record.records, record.error_count) == ("applied", 1, 2)
    assert {i["line"] for i in record.issues} == {3, 4}
    assert ClinicalRecord.objects.get().record_id == "r1"


def test_a_file_that_cannot_be_read_is_refused_whole_and_kept(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa)
    path = tmp_path / "broken.csv"
    path.write_text("patient,whatever\nMRN1,x\n", encoding="utf-8")
    (record,) = services.import_clinical(actor=None, path=path, source_code="alder-ehr")
    assert record.status == ClinicalImport.Status.REJECTED
    assert "patient_id" in record.error
    assert Path(record.stored_path).read_bytes() == path.read_bytes()
    assert not SourcePatient.objects.exists()
    assert not ClinicalRecord.objects.exists()


def test_facts_for_an_unknown_patient_are_reported(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa, "hie", "fhir-ndjson")
    path = tmp_path / "Observation.000.ndjson"
    path.write_text(json.dumps({"resourceType": "Observation", "id": "o1", "status": "final",
                                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                                "subject": {"reference": "Patient/nobody"}, "effectiveDateTime": "2026-04-01",
                                "valueQuantity": {"value": 7.1, "unit": "%"}}) + "\n", encoding="utf-8")  # fmt: skip
    (record,) = services.import_clinical(actor=None, path=path, source_code="hie")
    assert (record.records, record.error_count) == (0, 1)
    assert "no patient 'nobody'" in record.issues[0]["message"]


def test_re_importing_a_record_replaces_it(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa)
    row = "r1,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,{},%,2026-04-01\n"
    services.import_clinical(
        actor=None, path=_csv(tmp_path, row.format("7.2"), "a.csv"), source_code="alder-ehr"
    )
    services.import_clinical(
        actor=None, path=_csv(tmp_path, row.format("6.9"), "b.csv"), source_code="alder-ehr"
    )
    assert list(ClinicalRecord.objects.values_list("value", flat=True)) == [Decimal("6.9")]


def test_who_may_import_and_unknown_sources(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa)
    path = _csv(tmp_path, "r1,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,7.2,%,2026-04-01\n")
    for persona in ("alice", "fin", "messenger"):
        with pytest.raises(PermissionDenied):
            services.import_clinical(actor=small_ipa.users[persona], path=path, source_code="alder-ehr")
    with pytest.raises(ValidationFailed, match="no clinical source 'nope'"):
        services.import_clinical(actor=None, path=path, source_code="nope")
    assert not ClinicalImport.objects.exists()


def test_the_command_prints_json_and_fails_on_a_rejected_file(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _source(small_ipa)
    good = _csv(tmp_path, "r1,MRN1,SUN0001,Amy,Anders,1950-03-04,F,91101,lab,LOINC,4548-4,7.2,%,2026-04-01\n")
    out = StringIO()
    call_command("import-clinical", str(good), "--source", "alder-ehr", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["patients"], result["linked"], result["records"]) == (1, 1, 1)
    assert result["imports"][0]["status"] == "applied"
    broken = tmp_path / "broken.csv"
    broken.write_text("nothing\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        call_command("import-clinical", str(broken), "--source", "alder-ehr", "--json", stdout=StringIO())
    assert exit_.value.code == 1


def test_sources_are_registered_and_listed_from_the_command(small_ipa: SmallIpa, tmp_path: Path) -> None:
    call_command("clinical", "source-add", "birch-ehr", "--name", "Birch EHR", "--kind", "ehr", "--format", "csv",
                 "--practice", "BIRCH", stdout=StringIO())  # fmt: skip
    assert ClinicalSource.objects.get(code="birch-ehr").practice == small_ipa.practice_b
    path = _csv(tmp_path, "r1,MRN1,SUN0002,Bert,Brooks,1948-07-08,M,,lab,LOINC,4548-4,6.1,%,2026-04-01\n")
    services.import_clinical(actor=None, path=path, source_code="birch-ehr")
    out = StringIO()
    call_command("clinical", "sources", "--json", stdout=out)
    (row,) = json.loads(out.getvalue())
    assert (row["code"], row["imports"], row["linked"]) == ("birch-ehr", 1, 1)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="taken"):
        call_command("clinical", "source-add", "birch-ehr", "--name", "x", "--kind", "ehr", "--format", "csv")
