"""Governance pages by role: what each reader sees (a practice user: the membership's meetings, published minutes,
its own participation, other practices only in aggregate), the secretary's forms and their refusals (403 for
everyone else, nothing changed; 400 with the reason, nothing changed), and the firewall: no governance page, as
any role, shows a fee-for-service rate, a contract term or a messenger answer."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from openipa.core.models import AuditEvent
from openipa.governance import services
from openipa.governance.models import Attendance, Meeting, Minutes, Motion, Vote
from openipa.governance.tests.conftest import PACIFIC, attend

pytestmark = pytest.mark.django_db
READERS = ["admin", "auditor", "board", "alice", "bob"]
NOT_READERS = ["ops", "fin", "messenger"]


def _url(name: str, *args: Any) -> str:
    return reverse(f"web:governance:{name}", args=args)


@pytest.fixture
def held(gov: Any) -> Any:
    """March: seats 1-3 present; motion 1 (moved by Ben Birch, practice B) carried 3-0; draft minutes. The
    annual membership meeting in June: both practices present, a motion carried. April: the March minutes approved."""
    admin = gov.users["admin"]
    rows = attend(gov, gov.meeting, present=[1, 2, 3])
    motion = services.motion_move(actor=admin, meeting=gov.meeting, text="Adopt the 2027 budget", moved_by=rows[2],
                                  seconded_by=rows[1])  # fmt: skip
    services.votes_record(actor=admin, motion=motion, votes={rows[n].pk: "yes" for n in (1, 2, 3)})
    services.motion_decide(actor=admin, motion=motion)
    gov.march_minutes = services.minutes_save(
        actor=admin, meeting=gov.meeting, text="The board adopted the budget."
    )
    annual = services.meeting_schedule(actor=admin, body=gov.membership, title="Annual membership meeting 2026",
                                       starts_at=dt.datetime(2026, 6, 20, 10, tzinfo=PACIFIC), location="Hall")  # fmt: skip
    mrows = services.attendance_record(actor=admin, meeting=annual, entries={
        f"practice:{gov.practice_a.pk}": ("present", "Ada Alder"),
        f"practice:{gov.practice_b.pk}": ("present", "Bea Representative")})  # fmt: skip
    mm = services.motion_move(actor=admin, meeting=annual, text="Elect the directors", moved_by=mrows[1],
                              seconded_by=mrows[0])  # fmt: skip
    services.votes_record(actor=admin, motion=mm, votes={mrows[0].pk: "yes", mrows[1].pk: "no"})
    gov.annual = annual
    return gov


def _approve_march(gov: Any) -> Meeting:
    admin = gov.users["admin"]
    april = services.meeting_schedule(actor=admin, body=gov.board, title="Board meeting, April 2026",
                                      starts_at=dt.datetime(2026, 4, 14, 18, tzinfo=PACIFIC), location="Office")  # fmt: skip
    rows = attend(gov, april, present=[1, 4, 5])
    m = services.motion_move(actor=admin, meeting=april, text="Approve the March minutes", moved_by=rows[5],
                             seconded_by=rows[4], approves_minutes=gov.march_minutes)  # fmt: skip
    services.votes_record(actor=admin, motion=m, votes={rows[n].pk: "yes" for n in (1, 4, 5)})
    services.motion_decide(actor=admin, motion=m)
    return april


@pytest.mark.parametrize("name", READERS)
def test_readers_see_the_governance_pages(held: Any, client_for: Any, name: str) -> None:
    client = client_for(name)
    for url in (_url("home"), _url("body", held.membership.pk), _url("meetings") + "?year=2026",
                _url("meeting", held.annual.pk), _url("participation") + "?year=2026"):  # fmt: skip
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", NOT_READERS)
def test_staff_without_governance_are_refused(held: Any, client_for: Any, name: str) -> None:
    client = client_for(name)
    for url in (_url("home"), _url("meetings"), _url("meeting", held.meeting.pk), _url("participation")):
        assert client.get(url).status_code == 403, url


def test_the_secretary_sees_the_meeting_whole(held: Any, client_for: Any) -> None:
    html = client_for("admin").get(_url("meeting", held.meeting.pk)).content.decode()
    assert "Quorum present: 3 present, 3 required" in html
    assert "Carried" in html
    assert "3 yes, 0 no (3 cast)" in html
    assert "Ben Birch" in html  # moved by
    assert "The board adopted the budget." in html  # the draft, to the secretary
    assert 'data-testid="secretary-actions"' in html


def test_the_board_reads_results_but_not_draft_minutes_nor_forms(held: Any, client_for: Any) -> None:
    client = client_for("board")
    html = client.get(_url("meeting", held.meeting.pk)).content.decode()
    assert "3 yes, 0 no (3 cast)" in html
    assert "The board adopted the budget." not in html
    assert "secretary-actions" not in html
    _approve_march(held)
    html = client.get(_url("meeting", held.meeting.pk)).content.decode()
    assert "The board adopted the budget." in html
    assert "Approved" in html


def test_a_practice_user_sees_membership_meetings_and_published_minutes_only(
    held: Any, client_for: Any
) -> None:
    alice = client_for("alice")
    assert alice.get(_url("meeting", held.meeting.pk)).status_code == 404  # draft minutes: not published
    listing = alice.get(_url("meetings") + "?year=2026").content.decode()
    assert "Annual membership meeting 2026" in listing
    assert "Board meeting, March 2026" not in listing
    _approve_march(held)
    page = alice.get(_url("meeting", held.meeting.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "The board adopted the budget." in html
    assert "3 yes, 0 no (3 cast)" in html  # the result, in aggregate
    for leak in ("Birch Pediatrics", "BIRCH", "Ben Birch", "Cy Cardio"):
        assert leak not in html, leak  # who else attended, moved or voted: not named
    assert "Ada Alder" in html  # her own practice's representative


def test_a_practice_user_sees_other_practices_only_in_aggregate(held: Any, client_for: Any) -> None:
    alice = client_for("alice")
    annual = alice.get(_url("meeting", held.annual.pk)).content.decode()
    assert "Bea Representative" not in annual
    assert "Birch Pediatrics" not in annual
    assert "2 present, 0 absent, 0 excused" in annual
    participation = alice.get(_url("participation") + "?year=2026").content.decode()
    assert "Alder Family Medicine" in participation
    for leak in ("Birch Pediatrics", "BIRCH"):
        assert leak not in participation
    assert 'data-testid="peers-hidden"' in participation  # two practices: an average would give Birch away
    assert 'data-testid="network-average"' not in participation
    body = alice.get(_url("body", held.board.pk)).content.decode()
    assert "Birch Pediatrics" not in body
    assert "another member practice" in body
    staff = client_for("board").get(_url("participation") + "?year=2026").content.decode()
    assert "Birch Pediatrics" in staff
    assert "Alder Family Medicine" in staff


def test_out_of_scope_and_missing_records_are_404(held: Any, client_for: Any) -> None:
    admin = client_for("admin")
    assert admin.get(_url("meeting", 999999)).status_code == 404
    assert admin.get(_url("body", 999999)).status_code == 404


def test_the_secretary_records_a_meeting_through_the_forms(gov: Any, client_for: Any) -> None:
    client = client_for("admin")
    response = client.post(_url("meeting_new"), {"body": gov.board.pk, "title": "Special meeting",
                                                 "starts_at": "2026-05-05T18:30", "location": "Office",
                                                 "agenda": "Budget\nAuditor"})  # fmt: skip
    assert response.status_code == 302
    meeting = Meeting.objects.get(title="Special meeting")
    assert meeting.starts_at == dt.datetime(2026, 5, 5, 18, 30, tzinfo=PACIFIC)
    assert [a.title for a in meeting.agenda_items.all()] == ["Budget", "Auditor"]
    seats = gov.seats
    data = {f"status_seat:{seats[n].pk}": "present" for n in (1, 2)}
    data[f"status_seat:{seats[3].pk}"] = "absent"
    assert client.post(_url("attendance", meeting.pk), data).status_code == 302
    present = {a.seat_term_id: a for a in Attendance.objects.filter(meeting=meeting)}
    assert client.post(_url("motion_new", meeting.pk), {"text": "Adjourn", "moved_by": present[seats[1].pk].pk,
                                                        "seconded_by": present[seats[2].pk].pk}).status_code == 302  # fmt: skip
    motion = Motion.objects.get(meeting=meeting)
    assert client.post(_url("votes", motion.pk), {f"vote_{present[seats[1].pk].pk}": "yes",
                                                  f"vote_{present[seats[2].pk].pk}": "yes"}).status_code == 302  # fmt: skip
    assert Vote.objects.filter(motion=motion).count() == 2
    # 2 of 5 present: no quorum, the decision is refused on the form and nothing changes
    refused = client.post(_url("motion_action", motion.pk), {"action": "decide"})
    assert refused.status_code == 400
    assert "no quorum: 2 present, 3 required" in refused.content.decode()
    motion.refresh_from_db()
    assert motion.status == Motion.Status.PENDING
    data[f"status_seat:{seats[3].pk}"] = "present"
    assert client.post(_url("attendance", meeting.pk), data).status_code == 302
    assert client.post(_url("motion_action", motion.pk), {"action": "decide"}).status_code == 302
    motion.refresh_from_db()
    assert motion.status == Motion.Status.CARRIED
    assert client.post(_url("minutes", meeting.pk), {"text": "Adjourned."}).status_code == 302
    assert Minutes.objects.get(meeting=meeting).status == Minutes.Status.DRAFT
    # a body with its first rules
    assert client.post(_url("body_new"), {"code": "FIN", "name": "Finance Committee", "kind": "committee",
                                          "parent": gov.board.pk, "valid_from": "2026-01-01", "seat_count": 3,
                                          "quorum_kind": "count", "quorum_value": "2",
                                          "vote_rule": "simple_majority"}).status_code == 302  # fmt: skip
    bad = client.post(_url("body_new"), {"code": "QUAL", "name": "Quality", "kind": "committee",
                                         "valid_from": "2026-01-01", "seat_count": 3, "quorum_kind": "count",
                                         "quorum_value": "9", "vote_rule": "simple_majority"})  # fmt: skip
    assert bad.status_code == 400
    assert "could never meet" in bad.content.decode()
    from openipa.governance.models import Body

    assert not Body.objects.filter(code="QUAL").exists()  # the body was not kept without its rules


@pytest.mark.parametrize("name", ["board", "alice", "auditor"])
def test_readers_cannot_record_and_nothing_changes(held: Any, client_for: Any, name: str) -> None:
    client = client_for(name)
    motion = Motion.objects.get(meeting=held.annual)
    before = (Meeting.objects.count(), Motion.objects.filter(status="pending").count(), Vote.objects.count(),
              Minutes.objects.get(pk=held.march_minutes.pk).text, AuditEvent.objects.count())  # fmt: skip
    posts = [
        (
            _url("meeting_new"),
            {"body": held.board.pk, "title": "X", "starts_at": "2026-05-05T18:30", "location": "X"},
        ),
        (_url("attendance", held.annual.pk), {f"status_practice:{held.practice_b.pk}": "absent"}),
        (_url("motion_new", held.annual.pk), {"text": "X"}),
        (_url("votes", motion.pk), {}),
        (_url("motion_action", motion.pk), {"action": "decide"}),
        (_url("minutes", held.meeting.pk), {"text": "Rewritten"}),
        (_url("meeting_status", held.meeting.pk), {"status": "cancelled"}),
        (_url("body_new"), {"code": "X"}),
        (_url("seat_new", held.board.pk), {}),
        (_url("seat_end", held.seats[1].pk), {"valid_to": "2026-05-01"}),
        (_url("rule_new", held.board.pk), {}),
        (_url("agenda_new", held.annual.pk), {"title": "X"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
        assert client.get(url).status_code == 403, url
    after = (Meeting.objects.count(), Motion.objects.filter(status="pending").count(), Vote.objects.count(),
             Minutes.objects.get(pk=held.march_minutes.pk).text, AuditEvent.objects.count())  # fmt: skip
    assert after == before


# ---------------------------------------------------------------------------------------------- the firewall

RATE_TEXT = "ZEBRA-RATE-TERMS 99214 at $987.65"
COUNTER_TEXT = "QUOKKA COUNTER 187.25 PERCENT"
OFFER_TITLE = "Platypus PPO fee schedule"


def test_no_governance_page_shows_rates_contract_terms_or_messenger_answers(
    held: Any, client_for: Any
) -> None:
    """A messenger offer (a rate table with a distinctive rate and terms) conveyed to both practices, one practice's
    counter-offer with distinctive text, and a board motion about the payer contract. Every governance page, as
    every role that reads them, shows the motion's text and none of the offer, its rates, the answer or the
    contract's terms."""
    from openipa.messenger import services as messenger

    admin = held.users["admin"]
    for practice in (held.practice_a, held.practice_b):
        practice.agreements.update(status="active")
    u = held.users
    offer = messenger.offer_create(
        actor=u["messenger"], payer=held.payer, title=OFFER_TITLE, terms=RATE_TEXT,
        effective_from=dt.date(2027, 1, 1), respond_by=dt.date(2026, 12, 31), rates=[("99214", "", 98765)],
        contract=held.contract,
    )  # fmt: skip
    to_b = messenger.convey(actor=u["messenger"], offer=offer, practice=held.practice_b)
    messenger.respond(actor=u["bob"], conveyance=to_b, decision="counter", signature="Bob Birch",
                      counter_terms=COUNTER_TEXT, counter_percent_of_medicare=Decimal("187.25"))  # fmt: skip
    rows = {a.seat_term_id: a for a in Attendance.objects.filter(meeting=held.meeting, status="present")}
    services.motion_move(
        actor=admin, meeting=held.meeting, text="Authorize the CEO to sign the Sunrise capitation renewal",
        moved_by=rows[held.seats[1].pk], seconded_by=rows[held.seats[2].pk],
    )  # fmt: skip
    _approve_march(held)
    pages = [_url("home"), _url("meetings") + "?year=2026", _url("participation") + "?year=2026"]
    pages += [_url("body", b) for b in (held.board.pk, held.membership.pk)]
    pages += [_url("meeting", m.pk) for m in Meeting.objects.all()]
    secretary_forms = [_url("motion_new", held.meeting.pk), _url("attendance", held.meeting.pk),
                       _url("seat_new", held.board.pk), _url("meeting_new"), _url("body_new")]  # fmt: skip
    secrets = (RATE_TEXT, "987.65", "98765", COUNTER_TEXT, "187.25", OFFER_TITLE, "Platypus", "QUOKKA", "ZEBRA",
               "12.000", "reinsurance")  # fmt: skip
    seen_motion = False
    for name in READERS:
        client = client_for(name)
        for url in pages + (secretary_forms if name == "admin" else []):
            response = client.get(url)
            if response.status_code == 404:
                continue
            assert response.status_code == 200, (name, url)
            html = response.content.decode()
            for secret in secrets:
                assert secret not in html, (name, url, secret)
            seen_motion = seen_motion or "Sunrise capitation renewal" in html
    assert seen_motion  # the motion's text is shown, only its text


def test_the_governance_app_imports_nothing_from_contracts_or_the_messenger() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith(("openipa.contracts", "openipa.messenger")) or name in (
                    "openipa.contracts", "openipa.messenger",
                ):  # fmt: skip
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert (root / "views.py").is_file()  # the walk did read the app
