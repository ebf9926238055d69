"""Pages and exports with member data tell browsers and proxies not to store them, and htmx keeps no
snapshots of pages in localStorage."""

from __future__ import annotations

import pytest

from openipa.web.tests.pages import html


@pytest.mark.parametrize("url", ["/members/", "/members/{member}/", "/members/export.csv", "/audit/"])
def test_member_data_is_sent_with_no_store(client_for, small_ipa, url):
    response = client_for("admin").get(url.format(member=small_ipa.member_a.pk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    # Read a streamed export to the end, as a server would: a half-read one keeps its database cursor.
    if response.streaming:
        b"".join(response.streaming_content)
    response.close()


def test_htmx_history_snapshots_are_off(client_for, small_ipa):
    assert 'hx-history="false"' in html(client_for("alice").get("/members/"))
