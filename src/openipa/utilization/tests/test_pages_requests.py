"""The utilization pages: the queue (by due time, overdue alert, filters, nurse and physician queues, deemed
approvals swept in, reads audited), a request's page and its actions by role (a forged POST gets 403 and
changes nothing), the submission form, the appeals queue and the reference data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from openipa.conftest import SmallIpa
from openipa.core.models import AuditEvent
from openipa.utilization import services
from openipa.utilization.engine.intake import ServiceInput
from openipa.utilization.models import (
    Appeal,
    AuthAttachment,
    AuthEvent,
    AuthNotice,
    AuthRequest,
    CriteriaReference,
    PeerToPeer,
)
from openipa.utilization.tests.conftest import at, request_input
from openipa.web.tests.pages import field_errors, html, nav_labels

pytestmark = pytest.mark.django_db

ClientFor = Callable[[str], Client]
QUEUE = "/authorizations/"
REASON = "A repeat echocardiogram within a year needs a change in symptoms, which is not documented."


@pytest.fixture
def client_as(um: SmallIpa, client_for: ClientFor) -> ClientFor:
    return client_for


def _submit(
    um: SmallIpa, user: str = "alice", received_at: dt.datetime | None = None, **overrides: Any
) -> AuthRequest:
    return services.submit_request(actor=um.users[user], data=request_input(**overrides),
                                   source="portal" if user in ("alice", "bob") else "staff",
                                   received_at=received_at or timezone.now())  # fmt: skip


def _deny(um: SmallIpa, request: AuthRequest, user: str = "md") -> AuthRequest:
    return services.decide(actor=um.users[user], request=request, decision="deny", reason=REASON,
                           criteria="Internal policy UM-CARD-003 v2")  # fmt: skip


def _snapshot(request: AuthRequest) -> tuple[Any, ...]:
    request.refresh_from_db()
    return (
        request.status,
        request.due_at,
        request.decided_at,
        request.events.count(),
        request.notices.count(),
        list(request.services.values_list("units_approved", flat=True)),
        request.appeals.count(),
    )


def _form_errors(response: Any, testid: str, field: str) -> list[str]:
    """The errors next to `field` in the form `testid` of a request's page."""
    body = html(response)
    start = body.index(f'data-testid="{testid}"')
    form = body[start : body.index("</form>", start)]
    block = re.search(rf'data-field="{field}">(.*?)</div>', form, re.DOTALL)
    assert block, f"no field {field} in {testid}"
    return [re.sub(r"<[^>]+>", "", e).strip() for e in re.findall(r"<li>(.*?)</li>", block.group(1))]


def _row_ids(body: str) -> list[str]:
    return re.findall(r'<tr id="request-(\d+)"', body)


# ------------------------------------------------------------------------------------------ access


@pytest.mark.parametrize(
    ("user", "status"),
    [("nurse", 200), ("md", 200), ("alice", 200), ("bob", 200), ("admin", 200), ("auditor", 200), ("ops", 200),
     ("quality", 200), ("fin", 403), ("messenger", 403)],
)  # fmt: skip
def test_the_queue_by_role(um: SmallIpa, client_as: ClientFor, user: str, status: int) -> None:
    _submit(um)
    response = client_as(user).get(QUEUE)
    assert response.status_code == status
    if status == 200:
        assert "Authorizations" in nav_labels(response)
    else:
        assert "UM2026" not in html(response)


@pytest.mark.parametrize(
    ("user", "status"),
    [("nurse", 200), ("md", 200), ("alice", 200), ("bob", 404), ("admin", 200), ("auditor", 200), ("fin", 403)],
)  # fmt: skip
def test_a_request_page_by_role(um: SmallIpa, client_as: ClientFor, user: str, status: int) -> None:
    request = _submit(um)
    response = client_as(user).get(f"{QUEUE}{request.pk}/")
    assert response.status_code == status
    if status != 200:
        assert request.number not in html(response)
        assert "Anders" not in html(response)


def test_a_practice_user_sees_only_its_own_requests_and_no_clinical_action(
    um: SmallIpa, client_as: ClientFor
) -> None:
    mine = _submit(um)
    theirs = _submit(um, user="bob", member_id="SUN0002", requesting_npi="1245319599")
    body = html(client_as("alice").get(QUEUE))
    assert _row_ids(body) == [str(mine.pk)]
    assert "Nurse queue" not in body
    page = html(client_as("alice").get(f"{QUEUE}{mine.pk}/"))
    for clinical in (
        "approve-form",
        "escalate-form",
        "decide-form",
        "review-form",
        "extend-form",
        "note-form",
    ):
        assert f'data-testid="{clinical}"' not in page
    assert 'data-testid="attach-form"' in page
    assert 'data-testid="withdraw-form"' in page
    assert client_as("bob").get(f"{QUEUE}{mine.pk}/").status_code == 404
    assert _row_ids(html(client_as("bob").get(QUEUE))) == [str(theirs.pk)]


ACTION_FORMS = (
    "review-form",
    "approve-form",
    "escalate-form",
    "decide-form",
    "extend-form",
    "note-form",
    "attach-form",
    "withdraw-form",
)


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("nurse", {"review-form", "approve-form", "escalate-form", "extend-form", "note-form", "attach-form",
                   "withdraw-form"}),
        ("md", set(ACTION_FORMS)),
        ("alice", {"attach-form", "withdraw-form"}),
        ("admin", {"attach-form", "withdraw-form"}),
        ("ops", {"attach-form", "withdraw-form"}),
        ("auditor", set()),
        ("quality", set()),
    ],
)  # fmt: skip
def test_each_role_is_offered_only_its_own_actions(
    um: SmallIpa, client_as: ClientFor, user: str, shown: set[str]
) -> None:
    request = _submit(um)
    body = html(client_as(user).get(f"{QUEUE}{request.pk}/"))
    assert {f for f in ACTION_FORMS if f'data-testid="{f}"' in body} == shown
    assert ('data-testid="actions"' in body) == bool(shown)


@pytest.mark.parametrize(
    ("user", "url", "data"),
    [
        ("alice", "decide", {"decision": "approve"}),
        ("alice", "escalate", {"note": "Please look"}),
        ("alice", "review", {}),
        ("auditor", "attach", {}),
        ("auditor", "withdraw", {"reason": "x"}),
        ("admin", "decide", {"decision": "approve"}),
        ("nurse", "peer-to-peer", {"held_at": "2026-03-05T10:00", "provider_name": "Dr A", "outcome": "reversed",
                                   "notes": "n"}),
        ("fin", "note", {"note": "hello"}),
    ],
)  # fmt: skip
def test_forged_actions_outside_the_role_are_refused_and_change_nothing(
    um: SmallIpa, client_as: ClientFor, user: str, url: str, data: dict[str, str]
) -> None:
    request = _submit(um)
    before = _snapshot(request)
    response = client_as(user).post(f"{QUEUE}{request.pk}/{url}/", data)
    assert response.status_code == 403
    assert _snapshot(request) == before


def test_another_practice_cannot_act_on_a_request_it_cannot_see(um: SmallIpa, client_as: ClientFor) -> None:
    request = _deny(um, _submit(um))
    before = _snapshot(request)
    response = client_as("bob").post(f"{QUEUE}{request.pk}/appeal/", {"appellant": "Bob", "grounds": "Because",
                                                                       "urgency": "standard"})  # fmt: skip
    assert response.status_code == 404
    assert _snapshot(request) == before


# ---------------------------------------------------------------------------------------------- queue


def test_the_queue_orders_by_due_time_counts_and_highlights_the_overdue(
    um: SmallIpa, client_as: ClientFor
) -> None:
    now = timezone.now()
    late = _submit(um, received_at=now - dt.timedelta(days=10))  # 7 days: past due
    expedited = _submit(um, urgency="expedited", received_at=now)  # 72 hours
    standard = _submit(um, received_at=now - dt.timedelta(days=1))  # due in about 6 days
    decided = _deny(um, _submit(um, received_at=now))
    response = client_as("nurse").get(QUEUE)
    body = html(response)
    assert _row_ids(body) == [str(late.pk), str(expedited.pk), str(standard.pk)]  # closed ones are not listed
    assert 'data-testid="overdue-alert"' in body
    assert "1 open request is past its due time" in body
    assert 'href="/authorizations/?overdue=on"' in body
    late_row = re.search(rf'<tr id="request-{late.pk}"[^>]*>', body)
    assert late_row is not None
    assert "um-overdue-row" in late_row.group(0)
    assert re.search(rf'<tr id="request-{standard.pk}">', body)  # not highlighted
    assert re.search(r'data-testid="left"><strong class="um-late">overdue [23]d \d+h</strong>', body)
    assert re.search(r'data-testid="left">2d 23h</td>|data-testid="left">2d 22h</td>', body)
    # the due time is the local end of day (Los Angeles)
    local_due = timezone.localtime(standard.due_at)
    assert f"{local_due:%Y-%m-%d} 23:59 P" in body
    # overdue only
    overdue_only = html(client_as("nurse").get(QUEUE, {"overdue": "on"}))
    assert _row_ids(overdue_only) == [str(late.pk)]
    # closed requests on demand
    assert _row_ids(html(client_as("nurse").get(QUEUE, {"status": "closed"}))) == [str(decided.pk)]
    assert _row_ids(html(client_as("nurse").get(QUEUE, {"status": "denied"}))) == [str(decided.pk)]
    assert len(_row_ids(html(client_as("nurse").get(QUEUE, {"status": "all"})))) == 4
    assert f'<span class="muted">decided {timezone.localtime(decided.decided_at):%Y-%m-%d}</span>' in html(
        client_as("nurse").get(QUEUE, {"status": "closed"})
    )


def test_no_alert_when_nothing_is_overdue(um: SmallIpa, client_as: ClientFor) -> None:
    _submit(um)
    assert 'data-testid="overdue-alert"' not in html(client_as("nurse").get(QUEUE))


def test_the_queue_filters_by_kind_urgency_and_search(um: SmallIpa, client_as: ClientFor) -> None:
    prior = _submit(um)
    referral = _submit(um, kind="referral", urgency="expedited")
    other = _submit(um, user="ops", member_id="SUN0002", requesting_npi="1245319599")
    client = client_as("nurse")
    assert _row_ids(html(client.get(QUEUE, {"kind": "referral"}))) == [str(referral.pk)]
    assert _row_ids(html(client.get(QUEUE, {"urgency": "standard"}))) == [str(prior.pk), str(other.pk)]
    assert _row_ids(html(client.get(QUEUE, {"q": prior.number}))) == [str(prior.pk)]
    assert _row_ids(html(client.get(QUEUE, {"q": "SUN0002"}))) == [str(other.pk)]
    assert _row_ids(html(client.get(QUEUE, {"q": "brook"}))) == [str(other.pk)]
    # a bad filter value is reported and dropped, the rest applies
    response = client.get(QUEUE, {"kind": "nonsense", "q": "SUN0002"})
    assert response.status_code == 200
    assert _row_ids(html(response)) == [str(other.pk)]
    # htmx gets the results only
    partial = client.get(QUEUE, {"kind": "referral"}, headers={"HX-Request": "true"})
    assert "<form" not in html(partial)
    assert _row_ids(html(partial)) == [str(referral.pk)]


def test_the_nurse_and_physician_queues(um: SmallIpa, client_as: ClientFor) -> None:
    received = _submit(um)
    in_review = services.take_for_review(actor=um.users["nurse"], request=_submit(um))
    escalated = services.escalate(actor=um.users["nurse"], request=_submit(um), note="Needs a physician.")
    client = client_as("md")
    nurse_queue = html(client.get(QUEUE, {"queue": "nurse"}))
    assert _row_ids(nurse_queue) == [str(received.pk), str(in_review.pk)]
    assert "<h1>Nurse queue</h1>" in nurse_queue
    assert _row_ids(html(client.get(QUEUE, {"queue": "physician"}))) == [str(escalated.pk)]
    assert len(_row_ids(html(client.get(QUEUE)))) == 3


def test_the_queue_is_paginated(um: SmallIpa, client_as: ClientFor) -> None:
    made = [_submit(um, user="ops") for _ in range(27)]
    client = client_as("nurse")
    first = html(client.get(QUEUE))
    assert len(_row_ids(first)) == 25
    assert "1&ndash;25 of 27" in first
    second = html(client.get(QUEUE, {"page": "2"}))
    assert _row_ids(second) == [str(r.pk) for r in made[25:]]


def test_the_queue_sweeps_deemed_approvals_first(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(
        um, user="ops", kind="post_stabilization", received_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert request.status == "received"
    body = html(client_as("nurse").get(QUEUE))
    request.refresh_from_db()
    assert request.status == "deemed_approved"
    assert _row_ids(body) == []
    assert _row_ids(html(client_as("nurse").get(QUEUE, {"status": "deemed_approved"}))) == [str(request.pk)]


def test_the_rows_shown_are_recorded_as_reads(um: SmallIpa, client_as: ClientFor) -> None:
    _submit(um)
    _submit(um, user="ops", member_id="SUN0002", requesting_npi="1245319599")
    client_as("alice").get(QUEUE)
    event = AuditEvent.objects.filter(purpose="utilization queue").get()
    assert event.actor_username == "alice"
    assert sorted(event.member_ids) == [um.member_a.pk]
    client_as("nurse").get(QUEUE, {"q": "nobody"})
    assert AuditEvent.objects.filter(purpose="utilization queue").count() == 1  # nothing shown, nothing read


# --------------------------------------------------------------------------------------- request page


def test_the_request_page_shows_everything_about_it(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um, user="ops", received_at=at("2026-03-02 14:00"))
    body = html(client_as("nurse").get(f"{QUEUE}{request.pk}/"))
    assert request.number in body
    assert "Amy Anders" in body
    assert "SUN0001" in body
    assert 'NPI <span class="mono">1234567893</span>' in body
    assert "Cy Cardio" in body
    assert "I509, R0600" in body
    assert '<td class="mono">93306</td>' in body
    assert "2026-03-09 23:59 PDT" in body or "2026-03-09 23:59 PST" in body
    assert "42 CFR 422.568(b)(1) as amended by CMS-0057-F" in body
    assert "in force from 2026-01-01" in body
    assert "Medicare Advantage HMO" in body
    assert re.search(r'<strong class="um-late" data-testid="left">overdue \d+d \d+h</strong>', body)
    assert "Worsening dyspnea on exertion." in body
    assert "Received" in body
    assert AuditEvent.objects.filter(purpose="authorization request page", object_id=str(request.pk)).exists()


def test_a_nurse_sees_no_deny_button_and_a_forged_deny_is_refused(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um)
    nurse = client_as("nurse")
    body = html(nurse.get(f"{QUEUE}{request.pk}/"))
    assert 'data-testid="approve-form"' in body
    assert 'data-testid="escalate-form"' in body
    assert 'data-testid="review-form"' in body
    assert 'data-testid="decide-form"' not in body
    assert 'value="deny"' not in body
    assert 'value="modify"' not in body
    before = _snapshot(request)
    for decision in ("deny", "modify"):
        response = nurse.post(f"{QUEUE}{request.pk}/decide/", {"decision": decision, "reason": REASON,
                                                                "criteria": "UM-CARD-003 v2", "units_1": "0"})  # fmt: skip
        assert response.status_code == 403
        assert "You do not have access" in html(response)
    assert _snapshot(request) == before
    assert not AuthNotice.objects.exists()


def test_the_medical_director_sees_deny_and_modify(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um)
    body = html(client_as("md").get(f"{QUEUE}{request.pk}/"))
    assert 'data-testid="decide-form"' in body
    assert '<button type="submit" name="decision" value="deny"' in body
    assert 'name="units_1"' in body
    assert 'name="approved_to_1"' in body


def test_take_for_review_escalate_and_approve(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um)
    nurse = client_as("nurse")
    response = nurse.post(f"{QUEUE}{request.pk}/review/")
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}{request.pk}/"
    request.refresh_from_db()
    assert request.status == "nurse_review"
    assert 'data-testid="review-form"' not in html(nurse.get(f"{QUEUE}{request.pk}/"))
    # taking it again is refused on the form, nothing changed
    before = _snapshot(request)
    again = nurse.post(f"{QUEUE}{request.pk}/review/")
    assert again.status_code == 400
    assert "already in review" in html(again)
    assert _snapshot(request) == before
    response = nurse.post(f"{QUEUE}{request.pk}/escalate/", {"note": "Symptoms unclear: physician review."})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "physician_review"
    md = client_as("md")
    page = html(md.get(f"{QUEUE}{request.pk}/"))
    assert "Symptoms unclear: physician review." in page
    assert 'data-testid="escalate-form"' not in page
    response = md.post(f"{QUEUE}{request.pk}/decide/", {"decision": "approve", "reason": "",
                                                                       "criteria": ""})  # fmt: skip
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.services.get().units_approved == 1
    follow = md.get(f"{QUEUE}{request.pk}/")
    assert "was approved" in html(follow)
    assert 'data-testid="notice-link"' in html(follow)


def test_an_escalation_without_a_note_is_refused_on_the_form(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um)
    before = _snapshot(request)
    response = client_as("nurse").post(f"{QUEUE}{request.pk}/escalate/", {"note": "  "})
    assert response.status_code == 400
    assert _form_errors(response, "escalate-form", "note") == ["say why the request needs a physician"]
    assert _snapshot(request) == before


def test_a_denial_without_a_specific_reason_or_criteria_is_refused(
    um: SmallIpa, client_as: ClientFor
) -> None:
    request = _submit(um)
    before = _snapshot(request)
    response = client_as("md").post(f"{QUEUE}{request.pk}/decide/", {"decision": "deny", "reason": "no"})
    assert response.status_code == 400
    assert "at least 20" in _form_errors(response, "decide-form", "reason")[0]
    assert "name the criteria used" in _form_errors(response, "decide-form", "criteria")[0]
    assert _snapshot(request) == before


def test_the_medical_director_denies_with_a_criteria_reference(um: SmallIpa, client_as: ClientFor) -> None:
    ref = CriteriaReference.objects.create(source="internal", code="UM-CARD-003", version="2",
                                           title="Repeat echocardiography", valid_from=dt.date(2026, 1, 1))  # fmt: skip
    request = _submit(um)
    page = html(client_as("md").get(f"{QUEUE}{request.pk}/"))
    assert (
        f'<option value="{ref.pk}">Internal policy UM-CARD-003 v2: Repeat echocardiography</option>' in page
    )
    response = client_as("md").post(f"{QUEUE}{request.pk}/decide/", {"decision": "deny", "reason": REASON,
                                                                       "criteria_id": str(ref.pk)})  # fmt: skip
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "denied"
    assert request.criteria == ref
    assert request.decided_by == um.users["md"]
    body = html(client_as("alice").get(f"{QUEUE}{request.pk}/"))
    assert "Decision: Denied" in body
    assert REASON in body
    assert "Internal policy UM-CARD-003 v2" in body
    notice = request.notices.get()
    link = f"/authorizations/notices/{notice.pk}.pdf"
    assert link in body
    pdf = client_as("alice").get(link)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(notice.pdf)
    assert AuditEvent.objects.filter(object_type="utilization.authnotice", object_id=str(notice.pk)).exists()
    # another practice: no notice
    assert client_as("bob").get(link).status_code == 404
    assert client_as("fin").get(link).status_code == 403


def test_a_modification_per_line(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um, services=[ServiceInput("97110", 12, dt.date(2026, 3, 10), dt.date(2026, 4, 30)),
                                    ServiceInput("97140", 4, dt.date(2026, 3, 10), dt.date(2026, 4, 30))],
                      diagnoses=["M54.50"])  # fmt: skip
    md = client_as("md")
    before = _snapshot(request)
    refused = md.post(f"{QUEUE}{request.pk}/decide/", {"decision": "modify", "reason": REASON, "criteria": "LCD L33631",
                                                        "units_1": "12", "units_2": "4"})  # fmt: skip
    assert refused.status_code == 400
    assert "fewer units or a shorter span" in html(refused)
    assert _snapshot(request) == before
    response = md.post(f"{QUEUE}{request.pk}/decide/", {"decision": "modify", "reason": REASON, "criteria": "LCD L33631",
                                                         "units_1": "6", "units_2": "4", "approved_to_2": "2026-03-31"})  # fmt: skip
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "modified"
    lines = list(request.services.order_by("line_number").values_list("units_approved", "approved_to"))
    assert lines == [(Decimal(6), None), (Decimal(4), dt.date(2026, 3, 31))]
    body = html(md.get(f"{QUEUE}{request.pk}/"))
    assert '<td class="num" data-testid="approved-1">6</td>' in body


def test_extend_the_clock_once(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um)
    nurse = client_as("nurse")
    due = request.due_at
    response = nurse.post(
        f"{QUEUE}{request.pk}/extend/", {"reason": "Awaiting the cardiology notes", "days": "15"}
    )
    assert response.status_code == 400
    assert "1 to 14" in _form_errors(response, "extend-form", "days")[0]
    response = nurse.post(
        f"{QUEUE}{request.pk}/extend/", {"reason": "Awaiting the cardiology notes", "days": "7"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.original_due_at == due
    assert timezone.localtime(request.due_at).date() == timezone.localtime(due).date() + dt.timedelta(days=7)
    assert request.notices.get().kind == "extension"
    body = html(nurse.get(f"{QUEUE}{request.pk}/"))
    assert 'data-testid="extension"' in body
    assert 'data-testid="extend-form"' not in body


def test_notes_attachments_and_withdrawal(um: SmallIpa, client_as: ClientFor) -> None:
    request = _submit(um)
    assert (
        client_as("nurse").post(f"{QUEUE}{request.pk}/note/", {"note": "Called the office."}).status_code
        == 302
    )
    upload = SimpleUploadedFile("echo report.pdf", b"%PDF-1.4 echo", content_type="application/pdf")
    assert client_as("alice").post(f"{QUEUE}{request.pk}/attach/", {"file": upload}).status_code == 302
    attachment = AuthAttachment.objects.get()
    assert attachment.uploaded_by == um.users["alice"]
    body = html(client_as("alice").get(f"{QUEUE}{request.pk}/"))
    assert "Called the office." in body
    url = f"/authorizations/{request.pk}/attachments/{attachment.pk}/"
    assert url in body
    download = client_as("nurse").get(url)
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 echo"
    assert 'filename="echo_report.pdf"' in download["Content-Disposition"]
    assert client_as("bob").get(url).status_code == 404
    empty = client_as("alice").post(f"{QUEUE}{request.pk}/attach/", {})
    assert empty.status_code == 400
    assert _form_errors(empty, "attach-form", "file") == ["This field is required."]
    response = client_as("alice").post(f"{QUEUE}{request.pk}/withdraw/", {"reason": "Member moved away."})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"
    assert list(request.events.values_list("action", flat=True)) == [
        "received",
        "note",
        "attachment",
        "withdrawn",
    ]
    again = client_as("alice").post(f"{QUEUE}{request.pk}/withdraw/", {"reason": "again"})
    assert again.status_code == 400
    assert "no longer open" in html(again)


def test_peer_to_peer_reversal_approves(um: SmallIpa, client_as: ClientFor) -> None:
    request = _deny(um, _submit(um))
    page = html(client_as("md").get(f"{QUEUE}{request.pk}/"))
    assert 'data-testid="p2p-form"' in page
    assert 'data-testid="p2p-form"' not in html(client_as("nurse").get(f"{QUEUE}{request.pk}/"))
    refused = client_as("md").post(f"{QUEUE}{request.pk}/peer-to-peer/", {"held_at": "2026-03-06T10:00",
                                   "provider_name": "", "outcome": "reversed", "notes": ""})  # fmt: skip
    assert refused.status_code == 400
    assert not PeerToPeer.objects.exists()
    response = client_as("md").post(f"{QUEUE}{request.pk}/peer-to-peer/", {"held_at": "2026-03-06T10:00",
                                    "provider_name": "Dr. Ada Alder", "outcome": "reversed",
                                    "notes": "New symptoms described on the call."})  # fmt: skip
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    body = html(client_as("md").get(f"{QUEUE}{request.pk}/"))
    assert "Dr. Ada Alder" in body
    assert "Decision reversed" in body


def test_appeals_opened_by_the_practice_and_decided_by_another_physician(
    um: SmallIpa, client_as: ClientFor
) -> None:
    request = _deny(um, _submit(um))
    alice = client_as("alice")
    assert 'data-testid="appeal-open-form"' in html(alice.get(f"{QUEUE}{request.pk}/"))
    refused = alice.post(
        f"{QUEUE}{request.pk}/appeal/", {"appellant": "", "grounds": "", "urgency": "standard"}
    )
    assert refused.status_code == 400
    assert not Appeal.objects.exists()
    response = alice.post(f"{QUEUE}{request.pk}/appeal/", {"appellant": "Dr. Ada Alder", "urgency": "standard",
                                                           "grounds": "New symptoms since the last echo."})  # fmt: skip
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    # the appeals queue lists it with its due time
    queue = html(client_as("nurse").get("/authorizations/appeals/"))
    assert f'<tr id="appeal-{appeal.pk}"' in queue
    assert f"{timezone.localtime(appeal.due_at):%Y-%m-%d} 23:59" in queue
    assert AuditEvent.objects.filter(purpose="utilization appeals queue", actor_username="nurse").exists()
    assert f'<tr id="appeal-{appeal.pk}"' in html(alice.get("/authorizations/appeals/"))
    assert f'<tr id="appeal-{appeal.pk}"' not in html(client_as("bob").get("/authorizations/appeals/"))
    # the physician who denied is not offered the appeal, and is refused it
    assert 'data-testid="appeal-decide-form"' not in html(client_as("md").get(f"{QUEUE}{request.pk}/"))
    url = f"{QUEUE}{request.pk}/appeals/{appeal.pk}/decide/"
    data = {"outcome": "overturned", "reason": "New symptoms are documented in the notes sent."}
    assert client_as("md").post(url, data).status_code == 403
    assert client_as("nurse").post(url, data).status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == "open"
    assert 'data-testid="appeal-decide-form"' in html(client_as("md2").get(f"{QUEUE}{request.pk}/"))
    response = client_as("md2").post(url, data)
    assert response.status_code == 302
    appeal.refresh_from_db()
    request.refresh_from_db()
    assert appeal.status == "overturned"
    assert request.status == "approved"
    assert f'<tr id="appeal-{appeal.pk}"' not in html(client_as("nurse").get("/authorizations/appeals/"))
    assert f'<tr id="appeal-{appeal.pk}"' in html(
        client_as("nurse").get("/authorizations/appeals/?status=all")
    )
    assert client_as("fin").get("/authorizations/appeals/").status_code == 403


def test_a_partial_appeal_approves_the_units_given(um: SmallIpa, client_as: ClientFor) -> None:
    request = _deny(um, _submit(um, services=[ServiceInput("97110", 12, dt.date(2026, 3, 10), dt.date(2026, 4, 30))],
                                 diagnoses=["M54.50"]))  # fmt: skip
    appeal = services.open_appeal(
        actor=um.users["alice"], request=request, appellant="Amy Anders", grounds="Pain."
    )
    response = client_as("md2").post(f"{QUEUE}{request.pk}/appeals/{appeal.pk}/decide/", {
        "outcome": "partial", "reason": "Six visits are supported by the notes sent.", "units_1": "6"})  # fmt: skip
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "modified"
    assert request.services.get().units_approved == 6


# ---------------------------------------------------------------------------------------- submission


def _form(**overrides: str) -> dict[str, str]:
    data = {"kind": "prior_auth", "urgency": "standard", "member_id": "SUN0001", "requesting_npi": "1234567893",
            "servicing_npi": "1003000126", "servicing_name": "", "diagnoses": "I50.9, R06.00",
            "clinical_notes": "Worsening dyspnea.", "code_1": "93306", "units_1": "1", "from_1": "2026-03-10",
            "to_1": "2026-03-31"}  # fmt: skip
    data.update(overrides)
    return data


def test_a_practice_user_submits_for_its_member_and_sees_the_due_time(
    um: SmallIpa, client_as: ClientFor
) -> None:
    alice = client_as("alice")
    page = html(alice.get("/authorizations/new/"))
    assert '<option value="1234567893">Ada Alder, MD (1234567893)</option>' in page
    assert "1245319599" not in page  # not another practice's provider
    files = [SimpleUploadedFile("notes.pdf", b"%PDF notes", content_type="application/pdf"),
             SimpleUploadedFile("ecg.txt", b"sinus rhythm", content_type="text/plain")]  # fmt: skip
    response = alice.post("/authorizations/new/", {**_form(), "attachments": files})
    assert response.status_code == 302
    request = AuthRequest.objects.get()
    assert response["Location"] == f"/authorizations/{request.pk}/"
    assert request.source == "portal"
    assert request.practice == um.practice_a
    assert request.created_by == um.users["alice"]
    assert sorted(request.attachments.values_list("name", flat=True)) == ["ecg.txt", "notes.pdf"]
    body = html(alice.get(response["Location"]))
    assert (
        f"{request.number} was received: a decision is due by {timezone.localtime(request.due_at):%Y-%m-%d %H:%M}"
        in body
    )
    assert "42 CFR 422.568(b)(1)" in body


def test_staff_submit_with_several_lines(um: SmallIpa, client_as: ClientFor) -> None:
    page = html(client_as("ops").get("/authorizations/new/"))
    assert 'name="requesting_npi" maxlength="10"' in page
    response = client_as("ops").post("/authorizations/new/", _form(
        member_id="SUN0002", requesting_npi="1245319599", code_3="97110", units_3="6", from_3="2026-03-10"))  # fmt: skip
    assert response.status_code == 302
    request = AuthRequest.objects.get()
    assert request.source == "staff"
    assert list(request.services.values_list("line_number", "code", "units", "service_to")) == [
        (1, "93306", Decimal(1), dt.date(2026, 3, 31)), (2, "97110", Decimal(6), dt.date(2026, 3, 10))]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "overrides", "field", "message"),
    [
        ("alice", {"diagnoses": "banana"}, "diagnoses", "not an ICD-10-CM code"),
        ("alice", {"diagnoses": ""}, "diagnoses", "This field is required."),
        ("alice", {"member_id": "SUN0002"}, "member_id", "no member"),
        ("alice", {"requesting_npi": "1245319599"}, "requesting_npi", "Select a valid choice"),
        ("ops", {"requesting_npi": "1234567890"}, "requesting_npi", "not a valid NPI"),
        ("ops", {"from_1": "2026-03-31", "to_1": "2026-03-10"}, "from_1", "reversed"),
        ("ops", {"code_1": "", "units_1": "", "from_1": "", "to_1": "", "code_3": "9330", "units_3": "1",
                 "from_3": "2026-03-10"}, "code_3", "not a CPT or HCPCS code"),
        ("ops", {"units_1": "0"}, "units_1", "above 0"),
        ("ops", {"code_1": "", "units_1": "", "from_1": "", "to_1": ""}, "code_1", "at least one service"),
        ("ops", {"kind": "banana"}, "kind", "Select a valid choice"),
    ],
)  # fmt: skip
def test_a_bad_submission_shows_the_field_errors_and_writes_nothing(
    um: SmallIpa, client_as: ClientFor, user: str, overrides: dict[str, str], field: str, message: str
) -> None:
    audit_before = AuditEvent.objects.count()
    response = client_as(user).post("/authorizations/new/", _form(**overrides))
    assert response.status_code == 400
    errors = field_errors(response, field) if not field.startswith(("code_", "units_", "from_")) else re.findall(
        rf'data-field="{field}">.*?<ul class="errorlist"[^>]*><li>(.*?)</li>', html(response), re.DOTALL)  # fmt: skip
    assert any(message in e for e in errors), errors
    assert not AuthRequest.objects.exists()
    assert not AuthEvent.objects.exists()
    assert AuditEvent.objects.count() == audit_before


def test_submission_needs_submit_rights(um: SmallIpa, client_as: ClientFor) -> None:
    assert client_as("auditor").get("/authorizations/new/").status_code == 403
    assert client_as("quality").post("/authorizations/new/", _form()).status_code == 403
    assert not AuthRequest.objects.exists()


# ------------------------------------------------------------------------------------- reference data


def test_the_reference_data_shows_the_2026_clock_change(um: SmallIpa, client_as: ClientFor) -> None:
    response = client_as("nurse").get("/authorizations/rules/")
    assert response.status_code == 200
    body = html(response)
    assert "42 CFR 422.568(b)(1) (before CMS-0057-F)" in body
    assert "42 CFR 422.568(b)(1) as amended by CMS-0057-F" in body
    assert re.search(
        r"14 calendar days</td>.*?2000-01-01</td><td class=\"nowrap\">2025-12-31", body, re.DOTALL
    )
    assert re.search(r"7 calendar days</td>.*?2026-01-01</td><td class=\"nowrap\">open", body, re.DOTALL)
    assert "Cal. Health &amp; Safety Code 1367.01(h)(1)" in body
    for user in ("alice", "fin"):
        assert client_as(user).get("/authorizations/rules/").status_code == 403
    assert client_as("auditor").get("/authorizations/rules/").status_code == 200


def test_a_file_over_the_size_limit_is_refused_on_the_form(
    um: SmallIpa, client_as: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 10)
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 too large", content_type="application/pdf")
    response = client_as("alice").post("/authorizations/new/", {**_form(), "attachments": [big]})
    assert response.status_code == 400
    assert field_errors(response, "attachments") == ["scan.pdf: larger than 10 bytes"]
    assert not AuthRequest.objects.exists()
    request = _submit(um)
    before = _snapshot(request)
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 too large", content_type="application/pdf")
    response = client_as("alice").post(f"{QUEUE}{request.pk}/attach/", {"file": big})
    assert response.status_code == 400
    assert _form_errors(response, "attach-form", "file") == ["larger than 10 bytes"]
    assert _snapshot(request) == before
    assert not AuthAttachment.objects.exists()


def test_the_dashboard_card_counts_the_queue_for_staff_only(um: SmallIpa, client_for: Any) -> None:
    overdue = services.submit_request(actor=um.users["ops"], data=request_input(), source="staff",
                                      received_at=timezone.now() - dt.timedelta(days=30))  # fmt: skip
    services.submit_request(actor=um.users["ops"], data=request_input(urgency="expedited"), source="staff")
    nurse = client_for("nurse")
    assert 'hx-get="/authorizations/summary/"' in nurse.get("/").content.decode()
    card = nurse.get("/authorizations/summary/").content.decode()
    assert 'data-testid="um-overdue"' in card
    assert re.search(r'class="stat alert"[^>]*data-testid="um-overdue"><span class="stat-value">1<', card)
    assert overdue.number not in card  # counts only
    for persona in ("alice", "fin"):
        assert client_for(persona).get("/authorizations/summary/").status_code == 403
    assert "/authorizations/summary/" not in client_for("alice").get("/").content.decode()
