"""What the pages look up by what the user typed or clicked: an invoice named on a payment, a participant of
a program. Unknown ones are refused with nothing changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from openipa.association import services
from openipa.association.models import FeePayment, ProgramParticipant
from openipa.association.tests.test_programs import _program, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_payment_naming_an_unknown_invoice_changes_nothing(ipa):
    services.fee_term_create(actor=ipa.users["fin"], practice=ipa.practice_a, data={
        "method": "flat_monthly", "amount": "250.00", "valid_from": dt.date(2026, 1, 1)})  # fmt: skip
    response = _client(ipa.users["fin"]).post(reverse("web:association:payment_list"), {
        "practice": "ALDER", "amount": "10.00", "received_on": "2026-11-01", "method": "check", "reference": "1",
        "invoice": " MF-209901-ALDER "})  # fmt: skip
    assert response.status_code == 400
    assert "No invoice" in response.content.decode()
    assert not FeePayment.objects.exists()


def test_leaving_names_a_participant_of_this_program(world):  # noqa: F811
    program = _program(world)
    other = services.program_create(
        actor=world.users["quality"],
        data={"name": "Colorectal screening", "initiative": "Mailed FIT kits", "region": world.region,
              "measure": "CBP", "rate": "CBP", "baseline_run": world.runs["baseline"], "target_rate": "0.5000",
              "start": dt.date(2026, 4, 1), "end": dt.date(2026, 12, 31), "status": "active"},
        practices=[world.practices["ALDER"]],
    )  # fmt: skip
    theirs = ProgramParticipant.objects.get(program=other)
    url = reverse("web:association:program_leave", args=[program.pk, theirs.pk])
    assert _client(world.users["quality"]).post(url, {"left_on": "2026-09-30"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.left_on is None
