"""The ledger pages: who may open them (finance, the auditor and the administrator read; only finance
reverses), what they show, the CSV, and that a refused or invalid reversal changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest

from openipa.core.models import AuditEvent
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry, JournalLine
from openipa.ledger.tests.conftest import cr, dr, receipt
from openipa.web.tests.pages import html, results

pytestmark = pytest.mark.django_db

READERS = ("fin", "auditor", "admin")
REFUSED = ("ops", "messenger", "alice", "bob")


@pytest.fixture
def entry(post, small_ipa):
    post(receipt(100_000), date=dt.date(2026, 1, 15), source_type="capitation_import", source_id="820-7")
    return post(
        [
            dr(accounts.CAPITATION_UNDISTRIBUTED, 100_000, payer_id=small_ipa.payer.pk),
            cr(
                accounts.PROVIDER_CAPITATION_PAYABLE,
                61_000,
                practice_id=small_ipa.practice_a.pk,
                memo="ALDER Jan",
            ),
            cr(
                accounts.PROVIDER_CAPITATION_PAYABLE,
                27_000,
                practice_id=small_ipa.practice_b.pk,
                memo="BIRCH Jan",
            ),
            cr(accounts.ADMIN_FEE_REVENUE, 12_000),
        ],
        source_id=12,
    )


def urls(entry: Any) -> list[str]:
    return [
        "/ledger/",
        "/ledger/?as_of=2026-01-20",
        "/ledger/trial-balance.csv",
        f"/ledger/accounts/{accounts.PROVIDER_CAPITATION_PAYABLE}/",
        "/ledger/entries/",
        f"/ledger/entries/{entry.number}/",
    ]


def state() -> tuple[int, int, int]:
    return (
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
        AuditEvent.objects.filter(kind="write").count(),
    )


def reverse_post(client: Any, entry: Any, **data: str) -> Any:
    form = {"date": "2026-02-01", "memo": "Run 12 voided", "confirm": "on", **data}
    return client.post(f"/ledger/entries/{entry.number}/reverse/", form)


# -- access --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS)
def test_finance_the_auditor_and_the_administrator_open_every_page(client_for, entry, persona):
    client = client_for(persona)
    for url in urls(entry):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", REFUSED)
def test_practice_users_and_staff_without_finance_are_refused_every_page(client_for, entry, persona):
    client = client_for(persona)
    for url in [*urls(entry), f"/ledger/entries/{entry.number}/reverse/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "61,000" not in html(response)
        assert "610.00" not in html(response)


@pytest.mark.parametrize("persona", ["auditor", "admin", *REFUSED])
def test_only_finance_may_reverse_and_a_refused_post_changes_nothing(client_for, entry, persona):
    client = client_for(persona)
    before = state()
    assert client.get(f"/ledger/entries/{entry.number}/reverse/").status_code == 403
    assert reverse_post(client, entry).status_code == 403
    assert state() == before
    assert JournalEntry.objects.get(pk=entry.pk).reversal is None


@pytest.mark.parametrize("persona", ["auditor", "admin"])
def test_readers_who_may_not_reverse_get_no_reverse_button(client_for, entry, persona):
    body = html(client_for(persona).get(f"/ledger/entries/{entry.number}/"))
    assert "Reverse this entry" not in body


def test_the_anonymous_are_sent_to_sign_in(client):
    response = client.get("/ledger/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# -- the trial balance ---------------------------------------------------------------------------------


def totals_row(body: str) -> list[str]:
    match = re.search(r"<tr data-totals>(.*?)</tr>", body, re.DOTALL)
    assert match, "no totals row"
    return re.findall(r"\$[\d,]+\.\d\d", match.group(1))


def test_the_trial_balance_shows_balances_totals_and_a_chart(client_for, entry):
    body = html(client_for("fin").get("/ledger/"))
    assert totals_row(body) == ["$1,000.00", "$1,000.00"]
    cash = re.search(r'<tr data-account="1000">(.*?)</tr>', body, re.DOTALL)
    assert cash
    assert "$1,000.00" in cash.group(1)
    assert 'href="/ledger/accounts/2100/"' in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body


def test_the_trial_balance_as_of_a_date(client_for, entry):
    body = results(client_for("fin").get("/ledger/", {"as_of": "2026-01-20"}))
    assert totals_row(body) == ["$1,000.00", "$1,000.00"]
    payable = re.search(r'<tr data-account="2100">(.*?)</tr>', body, re.DOTALL)
    assert payable
    assert "$880.00" not in payable.group(1)
    assert totals_row(html(client_for("fin").get("/ledger/", {"as_of": "2025-12-31"}))) == ["$0.00", "$0.00"]


def test_an_invalid_as_of_date_is_reported_and_ignored(client_for, entry):
    response = client_for("fin").get("/ledger/", {"as_of": "not-a-date"})
    assert response.status_code == 200
    assert "Enter a valid date." in html(response)
    assert totals_row(html(response)) == ["$1,000.00", "$1,000.00"]


def test_htmx_gets_only_the_results(client_for, entry):
    response = client_for("fin").get("/ledger/", {"as_of": "2026-01-31"}, headers={"HX-Request": "true"})
    body = html(response)
    assert "<html" not in body
    assert "data-totals" in body


def test_the_trial_balance_csv(client_for, entry):
    response = client_for("auditor").get("/ledger/trial-balance.csv", {"as_of": "2026-01-31"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="trial-balance-2026-01-31.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["code", "name", "kind", "debit", "credit", "balance", "normal_balance"]
    assert ["2100", "Provider capitation payable", "liability", "0.00", "880.00", "880.00", "credit"] in rows
    assert rows[-1] == ["", "Total", "", "1000.00", "1000.00", "", ""]
    event = AuditEvent.objects.get(object_type="ledger.trial_balance")
    assert (event.actor_username, event.action) == ("auditor", "export")


# -- accounts, the journal and entries ----------------------------------------------------------------


def test_an_account_page_lists_lines_with_their_running_balance(client_for, entry, small_ipa):
    client = client_for("fin")
    body = results(client.get(f"/ledger/accounts/{accounts.PROVIDER_CAPITATION_PAYABLE}/"))
    assert "BIRCH Jan" in body
    assert "ALDER Jan" in body
    assert body.index("$880.00") < body.index("$610.00")  # newest first: after both lines, after the first
    filtered = results(
        client.get(
            f"/ledger/accounts/{accounts.PROVIDER_CAPITATION_PAYABLE}/", {"practice": small_ipa.practice_b.pk}
        )
    )
    assert "BIRCH Jan" in filtered
    assert "ALDER Jan" not in filtered
    later = results(
        client.get(f"/ledger/accounts/{accounts.PROVIDER_CAPITATION_PAYABLE}/", {"date_from": "2026-02-01"})
    )
    assert "No lines in this range." in later
    assert "$880.00" in later  # the opening (and closing) balance


def test_an_account_page_is_paginated(client_for, post):
    for day in range(1, 31):
        post(receipt(day * 100), date=dt.date(2026, 1, day))
    body = results(client_for("fin").get(f"/ledger/accounts/{accounts.CASH}/", {"page": 2}))
    assert "26&ndash;30 of 30" in body
    assert "$1.00" in body  # day 1's line (running balance $1.00) is on the last page


def test_an_unknown_account_is_not_found(client_for, entry):
    assert client_for("fin").get("/ledger/accounts/9999/").status_code == 404


def test_a_reversed_date_range_on_an_account_is_reported(client_for, entry):
    response = client_for("fin").get(
        f"/ledger/accounts/{accounts.CASH}/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in html(response)


def test_the_journal_lists_entries_and_filters_by_source(client_for, entry):
    client = client_for("fin")
    body = results(client.get("/ledger/entries/"))
    assert body.index(f'href="/ledger/entries/{entry.number}/"') < body.index('href="/ledger/entries/1/"')
    only_imports = results(client.get("/ledger/entries/", {"source_type": "capitation_import"}))
    assert 'href="/ledger/entries/1/"' in only_imports
    assert f'href="/ledger/entries/{entry.number}/"' not in only_imports


def test_an_entry_page_shows_its_lines_and_source(client_for, entry):
    body = html(client_for("fin").get(f"/ledger/entries/{entry.number}/"))
    assert "capitation_run" in body
    assert ">12<" in body
    assert "ALDER Jan" in body
    assert "$610.00" in body
    assert "$1,000.00" in body
    assert "Reverse this entry" in body
    assert client_for("fin").get("/ledger/entries/999/").status_code == 404


def test_an_entry_of_many_lines_is_shown_a_page_at_a_time_with_the_whole_total(client_for, post, small_ipa):
    lines = [cr(accounts.PROVIDER_CAPITATION_PAYABLE, 100, memo=f"line {i}") for i in range(150)]
    entry = post([*lines, dr(accounts.CAPITATION_UNDISTRIBUTED, 15_000)])
    client = client_for("fin")
    first = html(client.get(f"/ledger/entries/{entry.number}/"))
    assert "line 99<" in first
    assert "line 100<" not in first
    assert "1&ndash;100 of 151" in first
    assert "(all 151 lines)" in first
    assert "$150.00" in first
    second = html(client.get(f"/ledger/entries/{entry.number}/", {"page": 2}))
    assert "line 149<" in second


# -- reversing from the page ---------------------------------------------------------------------------


def test_finance_reverses_an_entry_from_its_page(client_for, entry):
    client = client_for("fin")
    confirm = html(client.get(f"/ledger/entries/{entry.number}/reverse/"))
    assert "Post the reversal" in confirm
    assert "ALDER Jan" in confirm
    response = reverse_post(client, entry)
    reversal = JournalEntry.objects.get(reverses=entry)
    assert response.status_code == 302
    assert response["Location"] == f"/ledger/entries/{reversal.number}/"
    assert reversal.memo == "Run 12 voided"
    page = html(client.get(response["Location"]))
    assert "This entry reverses" in page
    assert f'href="/ledger/entries/{entry.number}/"' in page
    original = html(client.get(f"/ledger/entries/{entry.number}/"))
    assert "Reversed by" in original
    assert "Reverse this entry" not in original


def test_a_reversal_without_the_confirmation_changes_nothing(client_for, entry):
    before = state()
    response = reverse_post(client_for("fin"), entry, confirm="")
    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert state() == before


def test_a_second_reversal_from_the_page_is_refused_with_the_reason(client_for, entry):
    client = client_for("fin")
    reverse_post(client, entry)
    before = state()
    response = reverse_post(client, entry)
    assert response.status_code == 400
    assert "was already reversed by entry" in html(response)
    assert state() == before


def test_a_reversal_dated_before_the_entry_is_refused_on_the_page(client_for, entry):
    before = state()
    response = reverse_post(client_for("fin"), entry, date="2026-01-01")
    assert response.status_code == 400
    assert "is before the entry&#x27;s date" in html(response)
    assert state() == before


def test_the_list_pages_read_a_fixed_number_of_rows_whatever_their_length(
    client_for, post, django_assert_max_num_queries
):
    for day in range(1, 26):
        post(receipt(day * 100), date=dt.date(2026, 1, day))
    client = client_for("fin")
    for url in ("/ledger/", "/ledger/entries/", f"/ledger/accounts/{accounts.CASH}/", "/ledger/entries/25/"):
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200
