"""Refusals are pages of the shell: 403 for what the role may not do, 404 for what does not exist or lies
outside the user's scope; neither says why in a way that leaks what exists."""

from __future__ import annotations

from django.test import Client

from openipa.web.tests.pages import html, nav_labels
from openipa.web.tests.test_navigation_by_role import PRACTICE


def test_the_403_page_keeps_the_navigation_and_offers_a_way_back(client_for, small_ipa):
    response = client_for("alice").get("/payers/")
    assert response.status_code == 403
    body = html(response)
    assert "You do not have access to this page" in body
    assert nav_labels(response) == PRACTICE
    assert "view_contracts" not in body
    assert "practice_user" not in body


def test_an_unknown_address_is_the_404_page(client_for, small_ipa):
    response = client_for("ops").get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in html(response)
    assert "Dashboard" in nav_labels(response)


def test_an_anonymous_visitor_gets_the_404_page_without_navigation(db):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in html(response)
    assert 'aria-label="Main"' not in html(response)
