"""The authorizations API: submit (practice and staff), read one or a page (scoped, audited), decide by role
(a nurse approves, only the medical director denies or modifies), bad bodies refused whole."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from openipa.api.tests.conftest import ApiClient, error_of
from openipa.conftest import SmallIpa
from openipa.core.models import AuditEvent
from openipa.utilization import selectors, services
from openipa.utilization.engine.intake import ServiceInput
from openipa.utilization.models import AuthAttachment, AuthEvent, AuthNotice, AuthRequest, AuthService
from openipa.utilization.tests.conftest import at, request_input

pytestmark = pytest.mark.django_db

URL = "/api/v1/authorizations"
Clients = Callable[[str], ApiClient]


@pytest.fixture
def api_as(um: SmallIpa) -> Clients:
    """`api_as("nurse")`: a client sending a fresh bearer token of that persona."""
    from openipa.accounts.services import token_create

    def make(name: str) -> ApiClient:
        issued = token_create(actor=None, user=um.users[name], name="test")
        return ApiClient(headers={"Authorization": f"Bearer {issued.token}"})

    return make


def body(**overrides: Any) -> dict[str, Any]:
    """Alder's echocardiogram for member A (SUN0001)."""
    data: dict[str, Any] = {
        "kind": "prior_auth",
        "urgency": "standard",
        "member_id": "SUN0001",
        "requesting_npi": "1234567893",
        "servicing_npi": "1003000126",
        "diagnoses": ["I50.9", "R06.00"],
        "services": [
            {"code": "93306", "modifiers": ["26"], "units": 1, "from": "2026-03-10", "to": "2026-03-31"}
        ],
        "clinical_notes": "Worsening dyspnea on exertion.",
        "trace_number": "ALDER-778",
    }
    data.update(overrides)
    return data


def _stored(
    um: SmallIpa, *, user: str = "alice", received: str = "2026-03-02 14:00", **overrides: Any
) -> AuthRequest:
    return services.submit_request(actor=um.users[user], data=request_input(**overrides), source="portal",
                                   received_at=at(received))  # fmt: skip


def _nothing_written() -> None:
    assert not AuthRequest.objects.exists()
    assert not AuthService.objects.exists()
    assert not AuthEvent.objects.exists()
    assert not AuthAttachment.objects.exists()
    assert not AuditEvent.objects.filter(action="um.request.submit").exists()


# ------------------------------------------------------------------------------------------ submit


def test_a_practice_submits_for_its_own_member_and_gets_the_request_with_its_clock(
    um: SmallIpa, api_as: Clients
) -> None:
    pdf = b"%PDF-1.4 echo report"
    before = timezone.now()
    response = api_as("alice").post_json(
        URL,
        body(
            attachments=[
                {
                    "name": "echo.pdf",
                    "content_type": "application/pdf",
                    "data": base64.b64encode(pdf).decode(),
                }
            ]
        ),
    )
    assert response.status_code == 201, response.content
    out = response.json()
    stored = AuthRequest.objects.get()
    assert out["id"] == stored.pk
    assert out["number"] == stored.number
    assert (out["status"], out["kind"], out["urgency"], out["source"]) == (
        "received",
        "prior_auth",
        "standard",
        "api",
    )
    assert (out["member_id"], out["payer"], out["trace_number"]) == ("SUN0001", "SUN", "ALDER-778")
    assert out["diagnoses"] == ["I509", "R0600"]
    assert out["services"] == [{"line": 1, "code": "93306", "modifiers": ["26"], "units": "1.00",
                                "units_approved": None, "from": "2026-03-10", "to": "2026-03-31",
                                "approved_to": None}]  # fmt: skip
    assert stored.source == "api"
    assert stored.practice_id == um.practice_a.pk
    assert stored.received_at >= before
    # times carry the IPA's offset; the clock is Medicare Advantage's 7 days to the end of the local day
    due = dt.datetime.fromisoformat(out["due_at"])
    assert due == stored.due_at
    assert out["due_at"].endswith(("-08:00", "-07:00"))
    assert due.astimezone(selectors.ipa_zone()).time() == dt.time(23, 59, 59)
    assert (due.astimezone(selectors.ipa_zone()).date() - stored.received_at.astimezone(selectors.ipa_zone()).date()
            == dt.timedelta(days=7))  # fmt: skip
    assert 6 * 86_400 < out["time_left_seconds"] <= 8 * 86_400
    assert out["overdue"] is False
    assert (out["decision"], out["decided_at"], out["extension"], out["appeals"]) == (None, None, None, [])
    assert "7 calendar days" in out["clock"]
    attachment = AuthAttachment.objects.get()
    assert bytes(attachment.content) == pdf
    assert out["attachments"] == [{"id": attachment.pk, "name": "echo.pdf", "content_type": "application/pdf",
                                   "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()}]  # fmt: skip
    assert AuditEvent.objects.filter(
        action="um.request.submit", object_id=str(stored.pk), actor_username="alice"
    ).exists()


def test_staff_with_submit_rights_submit_for_any_member(um: SmallIpa, api_as: Clients) -> None:
    response = api_as("ops").post_json(URL, body(member_id="SUN0002", requesting_npi="1245319599"))
    assert response.status_code == 201, response.content
    assert AuthRequest.objects.get().practice_id == um.practice_b.pk


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"member_id": "NOPE"}, "member_id", "no member 'NOPE'"),
        ({"member_id": "SUN0001", "payer": "ZZZ"}, "member_id", "of payer ZZZ"),
        ({"services": [{"code": "93306", "units": 1, "from": "2026-03-31", "to": "2026-03-10"}]}, "services[1].dates",
         "reversed"),
        ({"diagnoses": []}, "diagnoses", "at least one diagnosis"),
        ({"diagnoses": ["banana"]}, "diagnoses", "not an ICD-10-CM code"),
        ({"services": []}, "services", "at least one service"),
        ({"services": [{"code": "9330", "units": 1, "from": "2026-03-10", "to": "2026-03-10"}]}, "services[1].code",
         "not a CPT"),
        ({"requesting_npi": "1234567890"}, "requesting_npi", "not a valid NPI"),
        ({"services": [{"code": "93306", "units": 1, "from": "2025-03-10", "to": "2025-03-10"}]}, "member_id",
         "no coverage on 2025-03-10"),
        ({"attachments": [{"name": "x.pdf", "data": "not base64!"}]}, "attachments[1].data", "not base64"),
        ({"attachments": [{"name": "x.pdf", "data": ""}]}, "attachments[1].data", "empty"),
    ],
)  # fmt: skip
def test_a_bad_request_is_refused_whole_naming_the_field(
    um: SmallIpa, api_as: Clients, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = api_as("ops").post_json(URL, body(**overrides))
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert any(message in m for m in error["fields"][field]), error
    _nothing_written()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.pop("diagnoses"), "diagnoses"),
        (lambda b: b.update(kind="surgery"), "kind"),
        (lambda b: b.update(colour="red"), "colour"),
        (lambda b: b["services"][0].pop("from"), "services.0.from"),
        (lambda b: b["services"][0].update(units=0), "services.0.units"),
        (lambda b: b["services"][0].update(units="1.005"), "services.0.units"),
        (lambda b: b["services"][0].update(modifiers=["TOOLONG"]), "services.0.modifiers.0"),
        (lambda b: b.update(diagnoses=["I50.9\x00"]), "diagnoses.0"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_naming_the_field(
    um: SmallIpa, api_as: Clients, change: Callable[[dict[str, Any]], object], field: str
) -> None:
    data = body()
    change(data)
    response = api_as("ops").post_json(URL, data)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    _nothing_written()


def test_a_bad_attachment_is_named_with_the_requests_other_problems(um: SmallIpa, api_as: Clients) -> None:
    bad = body(diagnoses=[], attachments=[{"name": "x.pdf", "data": "%%%"}])
    response = api_as("ops").post_json(URL, bad)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"diagnoses", "attachments[1].data"}
    _nothing_written()


def test_a_practice_cannot_submit_for_another_practices_member(um: SmallIpa, api_as: Clients) -> None:
    response = api_as("alice").post_json(URL, body(member_id="SUN0002"))
    assert response.status_code == 422
    # answered as for an unknown member: a practice cannot probe another's members
    assert error_of(response)["fields"] == {"member_id": ["no member 'SUN0002'"]}
    _nothing_written()


@pytest.mark.parametrize("user", ["quality", "auditor", "fin", "messenger"])
def test_roles_without_submit_rights_get_403_and_nothing_is_written(
    um: SmallIpa, api_as: Clients, user: str
) -> None:
    response = api_as(user).post_json(URL, body())
    assert response.status_code == 403, response.content
    error_of(response)
    _nothing_written()


def test_an_anonymous_caller_gets_401(um: SmallIpa) -> None:
    response = ApiClient().post_json(URL, body())
    assert response.status_code == 401
    _nothing_written()


# ------------------------------------------------------------------------------------------ read


def test_a_request_is_read_in_scope_and_the_read_is_audited(um: SmallIpa, api_as: Clients) -> None:
    request = _stored(um)
    for user in ("alice", "nurse", "md", "quality", "auditor", "ops"):
        response = api_as(user).get(f"{URL}/{request.pk}")
        assert response.status_code == 200, (user, response.content)
        assert response.json()["number"] == request.number
        read = AuditEvent.objects.filter(kind="read", object_type="utilization.authrequest",
                                         object_id=str(request.pk), actor_username=user)  # fmt: skip
        assert read.get().purpose == "api"
        assert read.get().member_ids == [um.member_a.pk]
    out = api_as("alice").get(f"{URL}/{request.pk}").json()
    assert out["received_at"] == "2026-03-02T14:00:00-08:00"
    assert out["due_at"] == "2026-03-09T23:59:59-07:00"  # daylight-saving time began on 8 March
    assert out["overdue"] is True
    assert out["time_left_seconds"] < 0


def test_outside_its_scope_a_request_does_not_exist(um: SmallIpa, api_as: Clients) -> None:
    request = _stored(um)
    missing = api_as("bob").get(f"{URL}/{request.pk}")
    unknown = api_as("bob").get(f"{URL}/{request.pk + 1000}")
    assert missing.status_code == unknown.status_code == 404
    assert error_of(missing)["message"] == f"Not found: no authorization request {request.pk}"
    assert not AuditEvent.objects.filter(kind="read", actor_username="bob").exists()
    assert api_as("fin").get(f"{URL}/{request.pk}").status_code == 403


def test_the_decision_extension_and_appeals_are_shown(um: SmallIpa, api_as: Clients) -> None:
    request = _stored(um)
    services.extend(actor=um.users["nurse"], request=request, reason="Awaiting the cardiology notes",
                    now=at("2026-03-03 09:00"))  # fmt: skip
    services.decide(actor=um.users["md"], request=request, decision="deny",
                    reason="A repeat echocardiogram within a year needs new symptoms.", criteria="UM-CARD-003 v2",
                    now=at("2026-03-05 11:00"))  # fmt: skip
    services.open_appeal(actor=um.users["alice"], request=request, appellant="Dr. Ada Alder",
                         grounds="New symptoms since the last echo.", received_at=at("2026-03-06 10:00"))  # fmt: skip
    out = api_as("alice").get(f"{URL}/{request.pk}").json()
    assert (out["status"], out["decision"]) == ("denied", "denied")
    assert out["reason"] == "A repeat echocardiogram within a year needs new symptoms."
    assert out["criteria"] == "UM-CARD-003 v2"
    assert out["decided_at"] == "2026-03-05T11:00:00-08:00"
    assert out["time_left_seconds"] is None
    assert out["overdue"] is False
    assert out["services"][0]["units_approved"] == "0.00"
    assert out["extension"] == {"extended_at": "2026-03-03T09:00:00-08:00", "reason": "Awaiting the cardiology notes",
                                "original_due_at": "2026-03-09T23:59:59-07:00"}  # fmt: skip
    assert out["due_at"] == "2026-03-23T23:59:59-07:00"
    [appeal] = out["appeals"]
    assert (appeal["status"], appeal["due_at"], appeal["decided_at"]) == (
        "open",
        "2026-04-05T23:59:59-07:00",
        None,
    )
    assert [n["kind"] for n in out["notices"]] == ["extension", "decision"]


# ------------------------------------------------------------------------------------------ list


def test_the_list_is_scoped_filtered_paged_and_audited(um: SmallIpa, api_as: Clients) -> None:
    late = _stored(um)  # received in March: overdue now
    fresh = api_as("alice").post_json(URL, body()).json()
    other = _stored(um, user="ops", member_id="SUN0002", requesting_npi="1245319599")
    services.decide(actor=um.users["nurse"], request=other, decision="approve")

    page = api_as("alice").get(URL).json()
    assert {k: page[k] for k in ("page", "per_page", "total", "pages")} == {"page": 1, "per_page": 25, "total": 2,
                                                                            "pages": 1}  # fmt: skip
    assert [r["number"] for r in page["items"]] == [late.number, fresh["number"]]  # soonest due first
    assert page["items"][0]["overdue"] is True
    read = AuditEvent.objects.filter(kind="read", object_type="utilization.authrequest", actor_username="alice",
                                     object_id="")  # fmt: skip
    assert (read.get().member_ids, read.get().member_count, read.get().purpose) == (
        [um.member_a.pk],
        1,
        "api",
    )

    nurse = api_as("nurse")
    assert [r["number"] for r in nurse.get(URL, {"overdue": "true"}).json()["items"]] == [late.number]
    not_overdue = nurse.get(URL, {"overdue": "false"}).json()["items"]
    assert [r["number"] for r in not_overdue] == [other.number, fresh["number"]]  # decided late: not overdue
    assert [r["number"] for r in nurse.get(URL, {"status": "approved"}).json()["items"]] == [other.number]
    assert [r["number"] for r in nurse.get(URL, {"status": "open"}).json()["items"]] == [
        late.number,
        fresh["number"],
    ]
    assert [r["number"] for r in nurse.get(URL, {"q": "SUN0002"}).json()["items"]] == [other.number]
    second = nurse.get(URL, {"per_page": 2, "page": 2}).json()
    assert (second["total"], second["pages"], [r["number"] for r in second["items"]]) == (
        3,
        2,
        [fresh["number"]],
    )
    assert [r["number"] for r in api_as("bob").get(URL).json()["items"]] == [other.number]
    bad = nurse.get(URL, {"status": "lost"})
    assert bad.status_code == 422
    assert "status" in error_of(bad)["fields"]
    assert api_as("fin").get(URL).status_code == 403


def test_an_empty_page_records_no_read(um: SmallIpa, api_as: Clients) -> None:
    assert api_as("bob").get(URL).json()["items"] == []
    assert not AuditEvent.objects.filter(kind="read").exists()


# ------------------------------------------------------------------------------------------ decide


def test_a_nurse_approves(um: SmallIpa, api_as: Clients) -> None:
    request = _stored(um)
    response = api_as("nurse").post_json(f"{URL}/{request.pk}/decision", {"decision": "approve"})
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["status"], out["decision"]) == ("approved", "approved")
    assert out["services"][0]["units_approved"] == "1.00"
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.decided_by == um.users["nurse"]
    assert request.notices.get().kind == "decision"


@pytest.mark.parametrize("decision", ["deny", "modify"])
def test_a_nurse_cannot_deny_or_modify_and_nothing_changes(
    um: SmallIpa, api_as: Clients, decision: str
) -> None:
    request = _stored(um, services=[ServiceInput("97110", 12, dt.date(2026, 3, 10), dt.date(2026, 4, 30))])
    events = AuthEvent.objects.count()
    decision_body: dict[str, Any] = {"decision": decision, "reason": "Not medically necessary per the policy.",
                                     "criteria": "LCD L33631"}  # fmt: skip
    if decision == "modify":
        decision_body["approved_units"] = {"1": "6"}
    response = api_as("nurse").post_json(f"{URL}/{request.pk}/decision", decision_body)
    assert response.status_code == 403, response.content
    assert "only a physician" in error_of(response)["message"]
    request.refresh_from_db()
    assert (request.status, request.decided_at, request.decision_reason) == ("received", None, "")
    assert request.services.get().units_approved is None
    assert AuthEvent.objects.count() == events
    assert not AuthNotice.objects.exists()


def test_the_medical_director_denies_with_reason_and_criteria(um: SmallIpa, api_as: Clients) -> None:
    request = _stored(um)
    md = api_as("md")
    short = md.post_json(f"{URL}/{request.pk}/decision", {"decision": "deny", "reason": "no"})
    assert short.status_code == 422
    assert set(error_of(short)["fields"]) == {"reason", "criteria"}
    request.refresh_from_db()
    assert request.status == "received"
    response = md.post_json(f"{URL}/{request.pk}/decision", {
        "decision": "deny", "reason": "A repeat echocardiogram within a year needs new symptoms.",
        "criteria": "Internal policy UM-CARD-003 v2"})  # fmt: skip
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["status"], out["criteria"]) == ("denied", "Internal policy UM-CARD-003 v2")
    assert out["services"][0]["units_approved"] == "0.00"
    request.refresh_from_db()
    assert request.decided_by == um.users["md"]
    again = md.post_json(f"{URL}/{request.pk}/decision", {"decision": "approve"})
    assert again.status_code == 422
    assert "no longer open" in error_of(again)["fields"]["status"][0]


def test_the_medical_director_modifies_by_line(um: SmallIpa, api_as: Clients) -> None:
    request = _stored(um, services=[ServiceInput("97110", 12, dt.date(2026, 3, 10), dt.date(2026, 4, 30))],
                      diagnoses=["M54.50"])  # fmt: skip
    path = f"{URL}/{request.pk}/decision"
    reason = {"reason": "Six visits first, then reassess progress.", "criteria": "LCD L33631"}
    md = api_as("md")
    unknown_line = md.post_json(path, {"decision": "modify", **reason, "approved_units": {"2": "6"}})
    assert unknown_line.status_code == 422
    assert error_of(unknown_line)["fields"] == {"approved_units": ["no service line 2"]}
    too_many = md.post_json(path, {"decision": "modify", **reason, "approved_units": {"1": "13"}})
    assert too_many.status_code == 422
    assert "approved_units" in error_of(too_many)["fields"]
    not_a_line = md.post_json(path, {"decision": "modify", **reason, "approved_units": {"one": "6"}})
    assert not_a_line.status_code == 422
    units_to_approve = md.post_json(path, {"decision": "approve", "approved_units": {"1": "6"}})
    assert units_to_approve.status_code == 422
    assert request.services.get().units_approved is None
    response = md.post_json(path, {"decision": "modify", **reason, "approved_units": {"1": "6"},
                                   "approved_to": {"1": "2026-04-15"}})  # fmt: skip
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["decision"] == "modified"
    assert (out["services"][0]["units_approved"], out["services"][0]["approved_to"]) == ("6.00", "2026-04-15")
    assert request.services.get().units_approved == Decimal(6)


def test_a_modification_may_grant_no_unit_of_a_line_and_cite_a_criteria_reference(
    um: SmallIpa, api_as: Clients
) -> None:
    from openipa.utilization.models import CriteriaReference

    echo, stress = (
        request_input().services[0],
        ServiceInput("93351", 1, dt.date(2026, 3, 10), dt.date(2026, 3, 31)),
    )
    request = _stored(um, services=[echo, stress])
    policy = CriteriaReference.objects.create(source="internal", code="UM-CARD-003", version="2",
                                              title="Cardiac imaging", valid_from=dt.date(2026, 1, 1))  # fmt: skip
    path = f"{URL}/{request.pk}/decision"
    reason = "The stress echo adds nothing to the echo for these symptoms."
    unknown = api_as("md").post_json(path, {"decision": "modify", "reason": reason, "criteria_id": policy.pk + 1,
                                            "approved_units": {"2": "0"}})  # fmt: skip
    assert unknown.status_code == 422
    assert "criteria_id" in error_of(unknown)["fields"]
    response = api_as("md").post_json(path, {"decision": "modify", "reason": reason, "criteria_id": policy.pk,
                                             "approved_units": {"2": "0"}})  # fmt: skip
    assert response.status_code == 200, response.content
    out = response.json()
    assert [s["units_approved"] for s in out["services"]] == ["1.00", "0.00"]
    assert out["criteria"] == "Internal policy UM-CARD-003 v2: Cardiac imaging"


@pytest.mark.parametrize("user", ["alice", "ops", "auditor", "quality"])
def test_non_clinicians_cannot_decide(um: SmallIpa, api_as: Clients, user: str) -> None:
    request = _stored(um)
    response = api_as(user).post_json(f"{URL}/{request.pk}/decision", {"decision": "approve"})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "received"


def test_deciding_outside_scope_is_404(um: SmallIpa, api_as: Clients) -> None:
    response = api_as("md").post_json(f"{URL}/999999/decision", {"decision": "approve"})
    assert response.status_code == 404
    error_of(response)


# ------------------------------------------------------------------------------------------ schema


def test_the_schema_publishes_the_operations(um: SmallIpa) -> None:
    schema = ApiClient().get("/api/v1/openapi.json").json()
    assert set(schema["paths"]["/api/v1/authorizations"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/authorizations/{request_id}"]) == {"get"}
    assert set(schema["paths"]["/api/v1/authorizations/{request_id}/decision"]) == {"post"}
    service_in = schema["components"]["schemas"]["ServiceIn"]
    assert {"from", "to"} <= set(service_in["properties"])
    assert {"from", "to"} <= set(schema["components"]["schemas"]["ServiceOut"]["properties"])
