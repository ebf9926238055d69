"""The incentives pages: finance prepares, a second finance user approves and pays; readers read; a practice
user sees only its own statements (page, PDF, CSV), never another practice's name or code, and 404 for
another's; refused POSTs change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from openipa.incentives import services
from openipa.incentives.models import SettlementRun
from openipa.incentives.tests.conftest import add_formulas
from openipa.ledger.models import JournalEntry
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled(ipa: Any) -> Any:
    add_formulas(ipa)
    run = services.prepare_settlement(
        actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", period="2026Q1"
    )
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    ipa.run = run
    ipa.alder = run.lines.get(practice=ipa.practice_a)
    ipa.birch = run.lines.get(practice=ipa.practice_b)
    return ipa


def test_finance_prepares_and_another_approves_on_the_pages(ipa, client_for):
    add_formulas(ipa)
    fin = client_for("fin")
    data = {"prepare-contract": ipa.contract.pk, "prepare-kind": "quality", "prepare-period": "2026q1"}
    response = fin.post("/incentives/prepare/", data)
    assert response.status_code == 302
    run = SettlementRun.objects.get()
    page = html(fin.get(f"/incentives/runs/{run.pk}/"))
    assert "another finance user must approve it" in page
    assert 'id="settlement-amounts-title"' in page  # the chart
    assert fin.post(f"/incentives/runs/{run.pk}/approve/").status_code == 302
    assert SettlementRun.objects.get().status == "draft"
    other = Client()
    other.force_login(ipa.users["fin2"])  # a user the small IPA's client_for does not know
    other.post(f"/incentives/runs/{run.pk}/approve/")
    assert SettlementRun.objects.get().status == "approved"
    assert other.post(f"/incentives/runs/{run.pk}/pay/").status_code == 302
    assert SettlementRun.objects.get().status == "paid"
    bad = fin.post("/incentives/prepare/", {**data, "prepare-period": "someday"})
    assert bad.status_code == 400
    assert "not a year" in html(bad)


@pytest.mark.parametrize("path", ["/incentives/", "/incentives/formulas/", "/incentives/statements/"])
def test_readers(settled, client_for, path):
    for user in ("fin", "auditor", "admin"):
        assert client_for(user).get(path).status_code == 200
    assert client_for("ops").get(path).status_code == 403


def test_practice_user_sees_only_own_statement(settled, client_for):
    alice = client_for("alice")
    assert alice.get("/incentives/").status_code == 403
    assert alice.get(f"/incentives/runs/{settled.run.pk}/").status_code == 403
    listing = html(alice.get("/incentives/statements/"))
    assert "Birch" not in listing
    assert "BIRCH" not in listing
    own = f"/incentives/statements/{settled.alder.pk}/"
    for suffix in ("", "statement.pdf", "statement.csv"):
        response = alice.get(own + suffix)
        assert response.status_code == 200
        body = response.content
        assert b"Birch" not in body
        assert b"BIRCH" not in body
        assert b"234567891" not in body  # Birch's TIN
    assert b"Alder" in alice.get(own + "statement.csv").content
    assert alice.get(own + "statement.pdf").content.startswith(b"%PDF")
    theirs = f"/incentives/statements/{settled.birch.pk}/"
    for suffix in ("", "statement.pdf", "statement.csv"):
        assert alice.get(theirs + suffix).status_code == 404


def test_refused_posts_change_nothing(settled, client_for):
    entries = JournalEntry.objects.count()
    for user in ("alice", "auditor", "ops"):
        client = client_for(user)
        assert client.post(f"/incentives/runs/{settled.run.pk}/pay/").status_code == 403
        assert client.post("/incentives/prepare/", {"prepare-contract": settled.contract.pk,
                                                    "prepare-kind": "withhold", "prepare-period": "2026Q1"}
                           ).status_code == 403  # fmt: skip
    assert JournalEntry.objects.count() == entries
    assert SettlementRun.objects.get().status == "approved"


def test_statement_shows_the_arithmetic(settled, client_for):
    page = html(client_for("fin").get(f"/incentives/statements/{settled.alder.pk}/"))
    assert "Returned: withheld x percent" in page
    assert "$30.00" in page
    csv_text = (
        client_for("bob").get(f"/incentives/statements/{settled.birch.pk}/statement.csv").content.decode()
    )
    assert "below every tier" in csv_text
    assert "Alder" not in csv_text


def test_pool_totals_hidden_when_they_would_reveal_the_other_practice(ipa, client_for):
    """Two practices share the small IPA's pools: the pool's deficit less Birch's own figures would be Alder's,
    so Birch's statement does not show it (nor the fixed quality pool); the staff page does."""
    add_formulas(ipa)
    for kind in ("risk_pool", "quality"):
        run = services.prepare_settlement(
            actor=ipa.users["fin"], contract=ipa.contract, kind=kind, period="2026Q1"
        )
        services.approve_settlement(actor=ipa.users["fin2"], run=run)
        birch = run.lines.get(practice=ipa.practice_b)
        text = client_for("bob").get(f"/incentives/statements/{birch.pk}/statement.csv").content.decode()
        assert "not shown (fewer than three practices share the pool)" in text
        assert "$7.00" not in text  # the deficit of 700 cents
        assert "$1,000.00" not in text  # the fixed quality pool
    staff = html(client_for("fin").get(f"/incentives/runs/{run.pk}/"))
    assert "$1,000.00" in staff


def test_finance_downloads_the_payment_file_others_cannot(settled, client_for):
    from openipa.core.models import AuditEvent

    fin = client_for("fin")
    assert fin.post(f"/incentives/runs/{settled.run.pk}/pay/").status_code == 302
    record = SettlementRun.objects.get().payment_files.get()
    page = html(fin.get(f"/incentives/runs/{settled.run.pk}/"))
    url = f"/incentives/runs/{settled.run.pk}/payment-files/{record.pk}/"
    assert f'href="{url}"' in page
    response = fin.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"101")
    assert record.file_name in response["Content-Disposition"]
    assert (
        AuditEvent.objects.filter(action="download", object_type="incentives.settlementpaymentfile").count()
        == 1
    )
    assert fin.get(f"/incentives/runs/{settled.run.pk}/payment-files/{record.pk + 1}/").status_code == 404
    auditor = client_for("auditor")
    assert f'href="{url}"' not in html(auditor.get(f"/incentives/runs/{settled.run.pk}/"))
    for user in ("auditor", "admin", "ops", "alice"):
        assert client_for(user).get(url).status_code == 403
    assert (
        AuditEvent.objects.filter(action="download", object_type="incentives.settlementpaymentfile").count()
        == 1
    )


def test_a_changed_payment_file_is_not_served(settled, client_for, settings):
    from pathlib import Path

    fin = client_for("fin")
    fin.post(f"/incentives/runs/{settled.run.pk}/pay/")
    record = SettlementRun.objects.get().payment_files.get()
    kept = Path(settings.VAR_DIR) / record.stored_path
    kept.write_bytes(kept.read_bytes() + b"9")
    response = fin.get(f"/incentives/runs/{settled.run.pk}/payment-files/{record.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == f"/incentives/runs/{settled.run.pk}/"
    assert "does not match the hash recorded when it was written" in html(response)


def test_the_quality_run_is_chosen_from_a_list(ipa, client_for):
    add_formulas(ipa)
    fin = client_for("fin")
    page = html(fin.get("/incentives/"))
    assert f'<option value="{ipa.quality_run.pk}">quality run {ipa.quality_run.pk} (MY 2026' in page
    data = {"prepare-contract": ipa.contract.pk, "prepare-kind": "withhold", "prepare-period": "2026Q1"}
    assert (
        fin.post("/incentives/prepare/", {**data, "prepare-quality_run": ipa.quality_run.pk}).status_code
        == 302
    )
    assert SettlementRun.objects.get().quality_run_id == ipa.quality_run.pk
    bad = fin.post("/incentives/prepare/", {**data, "prepare-quality_run": 999_999})
    assert bad.status_code == 400
    assert "Select a valid choice" in html(bad)
    assert SettlementRun.objects.count() == 1
