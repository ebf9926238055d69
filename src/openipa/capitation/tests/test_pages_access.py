"""Who may open which capitation page, and who may act: finance, auditors and the administrator read;
finance alone acts; a practice user sees only their own practice's statements. Every refused POST leaves
the database as it was, and a refusal reads no member."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openipa.capitation.models import (
    Discrepancy,
    DistributionRun,
    PracticePayment,
    Reconciliation,
    RemittanceImport,
)
from openipa.capitation.services.runs import distribute_month
from openipa.capitation.tests.remit_files import member, write_820_file
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.capitation.tests.test_pages_common import JUNE, NOT_STAFF, STAFF_READERS, paid
from openipa.core.models import AuditEvent
from openipa.ledger.models import JournalEntry
from openipa.web.tests.pages import html, nav_labels

pytestmark = pytest.mark.django_db


def read_pages(w: Any) -> list[str]:
    return [
        "/capitation/",
        "/capitation/remittances/",
        f"/capitation/remittances/{w.remittance.pk}/",
        f"/capitation/payers/{w.payer.pk}/",
        f"/capitation/payers/{w.payer.pk}/2026-05/",
        f"/capitation/payers/{w.payer.pk}/disputes.csv",
        "/capitation/discrepancies/",
        "/capitation/runs/",
        f"/capitation/runs/{w.run.pk}/",
    ]


def statement_pages(payment: PracticePayment) -> list[str]:
    base = f"/capitation/statements/{payment.pk}/"
    return [base, base + "statement.pdf", base + "statement.csv"]


def db_state() -> tuple[Any, ...]:
    return (
        sorted(RemittanceImport.objects.values_list("pk", "status")),
        sorted(Reconciliation.objects.values_list("pk", "month", "computed_at", "received_cents")),
        sorted(Discrepancy.objects.values_list("pk", "status", "owner_id", "resolution", "closed_at")),
        sorted(DistributionRun.objects.values_list("pk", "status", "kind", "approved_by")),
        sorted(PracticePayment.objects.values_list("pk", "status", "net_cents")),
        JournalEntry.objects.count(),
        AuditEvent.objects.filter(kind="write").count(),
    )


@pytest.mark.parametrize("persona", STAFF_READERS)
def test_staff_readers_open_every_capitation_page_and_statement(client_for, world, persona):
    client = client_for(persona)
    for url in [*read_pages(world), *statement_pages(world.payment_a), *statement_pages(world.payment_b)]:
        assert client.get(url).status_code == 200, url
    assert client.get("/capitation/statements/").status_code == 200


@pytest.mark.parametrize("persona", NOT_STAFF)
def test_everyone_else_is_refused_every_capitation_page(client_for, world, persona):
    client = client_for(persona)
    reads = AuditEvent.objects.filter(kind="read").count()
    for url in [*read_pages(world), "/capitation/remittances/upload/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        body = html(response)
        assert "You do not have access to this page" in body
        assert "Anders" not in body
        assert "GHOST1" not in body
    assert AuditEvent.objects.filter(kind="read").count() == reads


@pytest.mark.parametrize(
    ("persona", "status"), [("fin", 200), ("fin2", 200), ("auditor", 403), ("admin", 403)]
)
def test_only_finance_may_open_the_upload_page(client_for, world, persona, status):
    assert client_for(persona).get("/capitation/remittances/upload/").status_code == status


@pytest.mark.parametrize("persona", ["auditor", "admin", "ops", "messenger", "alice", "bob"])
def test_every_refused_post_changes_nothing(client_for, world, tmp_path, persona):
    paid(world, JUNE, "june")
    draft = distribute_month(actor=world.users["fin"], payer=world.payer, month=JUNE)
    discrepancy = Discrepancy.objects.get()
    path = write_820_file(
        tmp_path / "june.820", [member("SUN0001", [(35000, None, None)])], trace="T-REFUSED"
    )
    before = db_state()
    client = client_for(persona)
    posts = [
        ("/capitation/remittances/upload/",
         {"payer": world.payer.pk, "file": SimpleUploadedFile("june.820", path.read_bytes()), "format": ""}),
        (f"/capitation/payers/{world.payer.pk}/reconcile/", {"month": "2026-06"}),
        (f"/capitation/discrepancies/{discrepancy.pk}/act/", {"action": "resolve", "note": "paid back"}),
        (f"/capitation/discrepancies/{discrepancy.pk}/act/", {"action": "assign", "owner": world.users["fin"].pk}),
        ("/capitation/runs/prepare/", {"prepare-payer": world.payer.pk, "prepare-month": "2026-06"}),
        (f"/capitation/runs/{draft.pk}/approve/", {}),
    ]  # fmt: skip
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "You do not have access to this page" in html(response)
    assert db_state() == before
    assert not RemittanceImport.objects.filter(trace_number="T-REFUSED").exists()


def test_a_practice_user_sees_only_their_own_statements(client_for, world):
    alice = client_for("alice")
    listing = html(alice.get("/capitation/statements/"))
    assert f"/capitation/statements/{world.payment_a.pk}/" in listing
    assert f"/capitation/statements/{world.payment_b.pk}/" not in listing
    assert "Birch Pediatrics" not in listing
    for url in statement_pages(world.payment_a):
        assert alice.get(url).status_code == 200, url
    for url in statement_pages(world.payment_b):
        response = alice.get(url)
        assert response.status_code == 404, url
        assert "Brooks" not in html(response)
    bob = html(client_for("bob").get("/capitation/statements/"))
    assert f"/capitation/statements/{world.payment_b.pk}/" in bob
    assert f"/capitation/statements/{world.payment_a.pk}/" not in bob


def test_a_practice_user_does_not_see_a_draft_runs_statement(client_for, world):
    paid(world, JUNE, "june")
    draft = distribute_month(actor=world.users["fin"], payer=world.payer, month=JUNE)
    june_a = draft.payments.get(practice=world.practice_a)
    alice = client_for("alice")
    assert f"/capitation/statements/{june_a.pk}/" not in html(alice.get("/capitation/statements/"))
    for url in statement_pages(june_a):
        assert alice.get(url).status_code == 404, url
    assert client_for("fin").get(f"/capitation/statements/{june_a.pk}/").status_code == 200


@pytest.mark.parametrize("persona", ["ops", "messenger"])
def test_staff_without_finance_are_refused_statements(client_for, world, persona):
    client = client_for(persona)
    assert client.get("/capitation/statements/").status_code == 403
    for url in statement_pages(world.payment_a):
        assert client.get(url).status_code == 403, url


def test_the_navigation_leads_to_capitation_the_ledger_and_statements(client_for, world):
    fin = client_for("fin").get("/")
    assert [label for label in nav_labels(fin) if label in ("Capitation", "Ledger")] == [
        "Capitation",
        "Ledger",
    ]
    assert '<a href="/capitation/">Capitation</a>' in html(fin)
    assert '<a href="/ledger/">Ledger</a>' in html(fin)
    alice = client_for("alice").get("/capitation/statements/")
    assert "Statements" in nav_labels(alice)
    assert '<a href="/capitation/statements/" aria-current="page">Statements</a>' in html(alice)
    assert "Capitation" not in nav_labels(alice)
    assert 'aria-label="Capitation"' not in html(alice)  # no staff tabs on a practice user's page
