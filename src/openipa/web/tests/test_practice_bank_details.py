"""A practice's EFT bank details on its page: masked for everyone but finance, and changed only by finance, on
their own form. Whoever edits the network (the administrator included) cannot redirect a practice's payments;
a refused attempt changes nothing and writes no audit record, and the record of a change masks the numbers."""

from __future__ import annotations

from typing import Any

from openipa.core.models import AuditEvent
from openipa.network.models import Practice
from openipa.web.tests.pages import field_errors, html

NEW_BANK = {"bank_name": "Third Bank", "bank_routing_number": "011000015", "bank_account_number": "55554444"}
ON_FILE = ("First Bank", "121000358", "000123456789")


def _bank_url(small_ipa: Any) -> str:
    return f"/practices/{small_ipa.practice_a.pk}/bank/"


def _bank_of(practice: Any) -> tuple[str, str, str]:
    p = Practice.objects.get(pk=practice.pk)
    return (p.bank_name, p.bank_routing_number, p.bank_account_number)


def test_finance_sees_the_bank_details_in_clear_with_an_edit_link(client_for, small_ipa):
    page = html(client_for("fin").get(f"/practices/{small_ipa.practice_a.pk}/"))
    assert "Bank details" in page
    assert "000123456789" in page
    assert "121000358" in page
    assert "Masked" not in page
    assert f'href="{_bank_url(small_ipa)}"' in page


def test_others_see_them_masked_and_no_edit_link(client_for, small_ipa):
    for who in ("admin", "ops", "auditor", "alice"):
        page = html(client_for(who).get(f"/practices/{small_ipa.practice_a.pk}/"))
        assert "Bank details" in page, who
        assert "••••••••6789" in page, who
        assert "000123456789" not in page, who
        assert _bank_url(small_ipa) not in page, who


def test_finance_changes_the_bank_details(client_for, small_ipa):
    client = client_for("fin")
    form = html(client.get(_bank_url(small_ipa)))
    assert 'value="000123456789"' in form
    response = client.post(_bank_url(small_ipa), NEW_BANK)
    assert response.status_code == 302
    assert response["Location"] == f"/practices/{small_ipa.practice_a.pk}/"
    assert _bank_of(small_ipa.practice_a) == ("Third Bank", "011000015", "55554444")
    event = AuditEvent.objects.filter(action="practice.bank_update").latest("pk")
    assert (event.actor_username, event.object_id) == ("fin", str(small_ipa.practice_a.pk))
    assert event.changes == {
        "bank_name": ["First Bank", "Third Bank"],
        "bank_routing_number": ["***", "*** (changed)"],
        "bank_account_number": ["***", "*** (changed)"],
    }
    page = html(client.get(f"/practices/{small_ipa.practice_a.pk}/"))
    assert "Saved the bank details of Alder Family Medicine." in page
    assert "55554444" in page


def test_only_finance_may_open_or_post_the_bank_form(client_for, small_ipa):
    writes = AuditEvent.objects.filter(kind="write").count()
    for who in ("admin", "ops", "auditor", "messenger", "alice"):
        client = client_for(who)
        assert client.get(_bank_url(small_ipa)).status_code == 403, who
        response = client.post(_bank_url(small_ipa), NEW_BANK)
        assert response.status_code == 403, who
        assert "000123456789" not in html(response), who
    assert _bank_of(small_ipa.practice_a) == ON_FILE
    assert AuditEvent.objects.filter(kind="write").count() == writes


def test_a_practice_user_is_refused_for_any_practice_and_finance_gets_404_for_an_unknown_one(
    client_for, small_ipa
):
    assert client_for("bob").post(_bank_url(small_ipa), NEW_BANK).status_code == 403
    assert client_for("fin").get("/practices/999999/bank/").status_code == 404
    assert _bank_of(small_ipa.practice_a) == ON_FILE


def test_a_bad_routing_number_is_shown_next_to_its_field(client_for, small_ipa):
    writes = AuditEvent.objects.filter(kind="write").count()
    response = client_for("fin").post(
        _bank_url(small_ipa), {**NEW_BANK, "bank_routing_number": "123456789", "bank_account_number": "12"}
    )
    assert response.status_code == 200
    assert field_errors(response, "bank_routing_number") == [
        "Routing number must be 9 digits with a valid ABA check digit."
    ]
    assert field_errors(response, "bank_account_number") == ["Account number must be 4 to 17 digits."]
    assert field_errors(response, "bank_name") == []
    assert _bank_of(small_ipa.practice_a) == ON_FILE
    assert AuditEvent.objects.filter(kind="write").count() == writes
