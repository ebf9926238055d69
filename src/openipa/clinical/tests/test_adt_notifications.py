"""ADT notifications: raised by an import for linked patients (admission, discharge, ED visit), once per visit and
event (a re-sent file or an A08 changes it), later by the review that links a patient, with the member's PCP on the
day and the follow-up due from the rules file; listed scoped to a practice, acknowledged by the practice or staff,
counted on the dashboard, listed by the command."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from openipa.clinical import adt_selectors, services
from openipa.clinical.models import AdtNotification, ClinicalRecord, SourcePatient
from openipa.conftest import SmallIpa
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.quality.selectors import quality_rates

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "samples"
if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/samples")

AMY = "1EG4TE5MK73^^^CMS^MC"  # member_a's MBI: links by identifier (birth dates equal)


def adt(
    trigger: str, control: str, visit: str, *, pid3: str = AMY, name: str = "ANDERS^AMY", dob: str = "19500304",
    cls: str = "I", admit: str = "202605010815", discharge: str = "", location: str = "4W^401^A^MERCY",
    dg1: str = "", disposition: str = "", sending: str = "MERCYHOSP",
) -> str:  # fmt: skip
    """One ADT message, fields placed by number."""
    pv1 = [""] * 46
    pv1[0], pv1[1], pv1[2], pv1[3] = "PV1", "1", cls, location
    pv1[7] = "1234567893^Smith^John"
    pv1[19], pv1[36], pv1[44], pv1[45] = visit, disposition, admit, discharge
    lines = [
        f"MSH|^~\\&|EPIC|{sending}|OPENIPA|IPA|202605011200||ADT^{trigger}|{control}|P|2.5",
        f"EVN|{trigger}|202605011200",
        f"PID|1||{pid3}||{name}||{dob}|F|||12 Oak St^^Pasadena^CA^91101",
        "|".join(pv1),
    ]
    if dg1:
        lines.append(f"DG1|1||{dg1}^^I10||{admit[:8]}|A")
    return "\r".join(lines) + "\r"


def _write(tmp_path: Path, name: str, *messages: str) -> Path:
    path = tmp_path / name
    path.write_bytes("".join(messages).encode())
    return path


@pytest.fixture
def hospital(small_ipa: SmallIpa) -> str:
    services.register_source(actor=small_ipa.users["admin"], code="mercy", name="Mercy Hospital", kind="hospital",
                             default_format="hl7v2")  # fmt: skip
    return "mercy"


def _import(path: Path, source: str = "mercy") -> None:
    (record,) = services.import_clinical(actor=None, path=path, source_code=source)
    assert record.status == "applied", record.error


def test_an_admission_and_a_discharge_raise_one_notification_each(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> None:
    _import(_write(tmp_path, "a01.hl7", adt("A01", "C1", "V100", dg1="I21.4")))
    admit = AdtNotification.objects.get()
    assert (admit.event, admit.label, admit.status, admit.patient_class) == ("A01", "Admission", "new", "I")
    assert (admit.member_id, admit.pcp_practice_id, admit.pcp_id) == (
        small_ipa.member_a.pk, small_ipa.practice_a.pk, small_ipa.pcp_a.pk,
    )  # fmt: skip
    assert (admit.facility, admit.diagnosis_code, admit.follow_up_due) == ("MERCY", "I214", None)
    assert admit.event_date == dt.date(2026, 5, 1)
    assert admit.admitted_at is not None
    assert timezone.localtime(admit.admitted_at).hour == 8  # sent without an offset: local time
    assert admit.record is not None
    assert admit.record.event == "A01"
    _import(_write(tmp_path, "a03.hl7", adt("A03", "C2", "V100", discharge="202605041130", disposition="01")))
    discharge = AdtNotification.objects.get(event="A03")
    assert (discharge.label, discharge.event_date, discharge.discharge_date) == (
        "Inpatient discharge", dt.date(2026, 5, 4), dt.date(2026, 5, 4),
    )  # fmt: skip
    # the rules file: a TCM visit within 7 days of an inpatient discharge
    assert (discharge.follow_up_due, discharge.follow_up_what) == (
        dt.date(2026, 5, 11),
        "TCM face-to-face visit",
    )
    assert discharge.disposition == "01"
    # the visit's record is the latest message's; the admission still points at it
    assert ClinicalRecord.objects.get(kind="encounter").event == "A03"
    assert AdtNotification.objects.get(event="A01").record_id == discharge.record_id
    assert AuditEvent.objects.filter(action="clinical.adt.raise").count() == 2
    # the measures read the member's records: an ADT encounter has no code for a value set, and is left out
    assert quality_rates(None, year=2026).rates.height > 0


def test_a_resent_file_and_an_update_never_duplicate(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> None:
    path = _write(tmp_path, "a01.hl7", adt("A01", "C1", "V100"))
    _import(path)
    first = AdtNotification.objects.get()
    services.acknowledge_notification(actor=small_ipa.users["ops"], notification_id=first.pk)
    _import(path)  # the same file again
    again = AdtNotification.objects.get()
    assert (again.pk, again.status) == (first.pk, "acknowledged")  # changed in place, not raised again
    # an A08 updates what the visit raised (the facility, a diagnosis), and raises nothing of its own
    _import(_write(tmp_path, "a08.hl7", adt("A08", "C3", "V100", location="5E^12^^MERCY-EAST", dg1="J18.9")))
    updated = AdtNotification.objects.get()
    assert (updated.facility, updated.diagnosis_code, updated.event) == ("MERCY-EAST", "J189", "A01")
    # an A08 of a visit that raised nothing raises nothing
    _import(_write(tmp_path, "a08b.hl7", adt("A08", "C4", "V999")))
    assert AdtNotification.objects.count() == 1


def test_an_admission_and_discharge_in_one_file_raise_both(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> None:
    _import(_write(tmp_path, "day.hl7", adt("A01", "C1", "V7", cls="E"),
                   adt("A03", "C2", "V7", cls="E", discharge="202605011900")))  # fmt: skip
    assert sorted(AdtNotification.objects.values_list("event", "label")) == [
        ("A01", "Admission"), ("A03", "ED discharge"),
    ]  # fmt: skip
    assert AdtNotification.objects.get(event="A03").follow_up_due == dt.date(2026, 5, 8)
    assert ClinicalRecord.objects.get(kind="encounter").event == "A03"  # the later message wins


def test_outpatient_registrations_raise_nothing_and_ed_registrations_do(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> None:
    _import(_write(tmp_path, "o.hl7", adt("A04", "C1", "V1", cls="O")))
    assert not AdtNotification.objects.exists()
    _import(_write(tmp_path, "e.hl7", adt("A04", "C2", "V2", cls="E", location="")))
    ed = AdtNotification.objects.get()
    assert (ed.label, ed.follow_up_due) == ("ED visit", dt.date(2026, 5, 8))
    assert ed.facility == "MERCYHOSP"  # no PV1-3 facility: MSH-4, the sending facility


def test_the_shared_adt_sample_raises_only_once_its_patient_is_linked(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> None:
    """The python-hl7 batch: two ADT^A04 (outpatient) of one patient who is no member. As sent, they raise
    nothing; the same messages as emergency registrations raise a notification once the review links the
    patient, with the facility from MSH-4 and the day from EVN-2 (no admit time is sent)."""
    sample = (SAMPLES / "hl7" / "pythonhl7_sample_batch1.hl7").read_bytes()
    _import(_write(tmp_path, "batch.hl7", sample.decode()))
    patient = SourcePatient.objects.get()
    assert patient.match != "linked"
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=small_ipa.member_b)
    assert not AdtNotification.objects.exists()  # outpatient registrations raise nothing
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=None)
    emergency = sample.replace(b"PV1|1|O|", b"PV1|1|E|")
    _import(_write(tmp_path, "batch-ed.hl7", emergency.decode()))
    assert not AdtNotification.objects.exists()  # the patient is not linked ("not a member")
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=small_ipa.member_b)
    notes = list(AdtNotification.objects.order_by("visit_id"))
    assert [(n.visit_id, n.event, n.facility, n.event_date) for n in notes] == [
        ("12334456778890", "A04", "ABCHS", dt.date(2006, 7, 5)),
        ("12334456778891", "A04", "ABCHS", dt.date(2006, 7, 5)),
    ]
    assert {n.member_id for n in notes} == {small_ipa.member_b.pk}
    # no PCP assignment in force in 2006: nobody's practice
    assert {n.pcp_practice_id for n in notes} == {None}


def test_a_review_link_raises_and_a_not_a_member_removes(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> None:
    # a name typo and no identifier the IPA knows: not linked by the import
    _import(_write(tmp_path, "a03.hl7", adt("A03", "C1", "V5", pid3="MRN77^^^MERCY^MR", name="ANDRES^AMY",
                                            discharge="202605031000")))  # fmt: skip
    patient = SourcePatient.objects.get()
    assert patient.match in ("review", "unmatched")
    assert not AdtNotification.objects.exists()
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=small_ipa.member_a)
    note = AdtNotification.objects.get()
    assert (note.event, note.member_id, note.pcp_practice_id) == (
        "A03",
        small_ipa.member_a.pk,
        small_ipa.practice_a.pk,
    )
    assert note.follow_up_due == dt.date(2026, 5, 10)
    assert note.admitted_at is not None  # kept on the record
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=small_ipa.member_b)
    assert (
        AdtNotification.objects.get().pcp_practice_id == small_ipa.practice_b.pk
    )  # follows the corrected link
    services.review_match(actor=small_ipa.users["ops"], patient=patient, member=None)
    assert not AdtNotification.objects.exists()


@pytest.fixture
def two_practices(
    small_ipa: SmallIpa, hospital: str, tmp_path: Path
) -> tuple[AdtNotification, AdtNotification]:
    _import(_write(tmp_path, "both.hl7", adt("A01", "C1", "VA"),
                   adt("A01", "C2", "VB", pid3="SUN0002^^^SUN^MB", name="BROOKS^BERT", dob="19480708")))  # fmt: skip
    return AdtNotification.objects.get(visit_id="VA"), AdtNotification.objects.get(visit_id="VB")


def test_practice_users_see_and_acknowledge_only_their_own(
    small_ipa: SmallIpa, two_practices: tuple[AdtNotification, AdtNotification], client_for: object
) -> None:
    mine, theirs = two_practices
    assert (mine.pcp_practice_id, theirs.pcp_practice_id) == (
        small_ipa.practice_a.pk,
        small_ipa.practice_b.pk,
    )
    alice = client_for("alice")  # type: ignore[operator]
    page = alice.get("/clinical/notifications/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Anders" in body
    assert "Brooks" not in body
    assert 'href="/clinical/notifications/"' in alice.get("/").content.decode()  # the nav entry
    read = AuditEvent.objects.filter(action="list", object_type="clinical.adtnotification").latest("pk")
    assert read.member_ids == [small_ipa.member_a.pk]
    # another practice's notification: not found, and nothing changed
    before = AuditEvent.objects.count()
    refused = alice.post(f"/clinical/notifications/{theirs.pk}/acknowledge/")
    assert refused.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.acknowledged_by_id, theirs.acknowledged_at) == ("new", None, None)
    assert not AuditEvent.objects.filter(pk__gt=0, action="clinical.adt.acknowledge").exists()
    assert AuditEvent.objects.count() == before
    with pytest.raises(PermissionDenied):
        services.acknowledge_notification(actor=small_ipa.users["alice"], notification_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.status == "new"
    # their own
    done = alice.post(f"/clinical/notifications/{mine.pk}/acknowledge/")
    assert done.status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.acknowledged_by_id) == ("acknowledged", small_ipa.users["alice"].pk)
    assert mine.acknowledged_at is not None
    assert AuditEvent.objects.filter(action="clinical.adt.acknowledge", object_id=str(mine.pk)).exists()
    # twice is refused, with the reason
    with pytest.raises(ValidationFailed):
        services.acknowledge_notification(actor=small_ipa.users["alice"], notification_id=mine.pk)


def test_staff_see_every_practice_and_who_may_acknowledge(
    small_ipa: SmallIpa, two_practices: tuple[AdtNotification, AdtNotification], client_for: object
) -> None:
    mine, theirs = two_practices
    ops = client_for("ops")  # type: ignore[operator]
    body = ops.get("/clinical/notifications/").content.decode()
    assert "Anders" in body
    assert "Brooks" in body
    only_b = ops.get(f"/clinical/notifications/?practice={small_ipa.practice_b.code}").content.decode()
    assert "Brooks" in only_b
    assert "Anders" not in only_b
    assert "Anders" not in ops.get("/clinical/notifications/?event=A03").content.decode()
    # the auditor reads but may not acknowledge; finance (no clinical data) may not read
    auditor = client_for("auditor")  # type: ignore[operator]
    assert auditor.get("/clinical/notifications/").status_code == 200
    assert auditor.post(f"/clinical/notifications/{mine.pk}/acknowledge/").status_code == 403
    assert client_for("fin").get("/clinical/notifications/").status_code == 403  # type: ignore[operator]
    mine.refresh_from_db()
    assert mine.status == "new"
    assert ops.post(f"/clinical/notifications/{theirs.pk}/acknowledge/").status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == "acknowledged"
    assert "Brooks" not in ops.get("/clinical/notifications/?status=new").content.decode()
    with pytest.raises(NotFound):
        adt_selectors.notification_get(small_ipa.users["bob"], mine.pk)


def test_the_dashboard_card_counts_the_new_ones(
    small_ipa: SmallIpa, two_practices: tuple[AdtNotification, AdtNotification], client_for: object
) -> None:
    assert 'id="adt-summary"' in client_for("alice").get("/").content.decode()  # type: ignore[operator]
    assert 'id="adt-summary"' in client_for("ops").get("/").content.decode()  # type: ignore[operator]
    assert 'id="adt-summary"' not in client_for("fin").get("/").content.decode()  # type: ignore[operator]
    card = client_for("alice").get("/clinical/notifications/summary/")  # type: ignore[operator]
    assert card.status_code == 200
    html = card.content.decode()
    assert "New admissions" in html
    assert '<span class="stat-value">1</span><span class="stat-label">New admissions' in html  # hers only
    assert client_for("fin").get("/clinical/notifications/summary/").status_code == 403  # type: ignore[operator]
    assert adt_selectors.counts(small_ipa.users["alice"], today=dt.date(2026, 6, 1)).new_admissions == 1
    assert adt_selectors.counts(small_ipa.users["ops"], today=dt.date(2026, 6, 1)).new_admissions == 2


def test_the_command_lists_them(
    small_ipa: SmallIpa, two_practices: tuple[AdtNotification, AdtNotification]
) -> None:
    mine, _theirs = two_practices
    services.acknowledge_notification(actor=small_ipa.users["ops"], notification_id=mine.pk)
    out = StringIO()
    call_command("clinical", "notifications", "--status", "new", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert [(r["member"], r["event"], r["practice"], r["facility"]) for r in rows] == [
        ("SUN0002", "A01", small_ipa.practice_b.code, "MERCY"),
    ]
    out = StringIO()
    call_command("clinical", "notifications", stdout=out)
    assert out.getvalue().strip().endswith("2 notifications")
    assert AuditEvent.objects.filter(action="export", object_type="clinical.adtnotification").exists()
