"""An htmx request whose session has expired sends the browser to the sign-in page as a whole page."""

from __future__ import annotations


def test_htmx_search_without_a_session_answers_hx_redirect_to_login(client, db):
    response = client.get("/members/", {"q": "an"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_plain_request_without_a_session_is_redirected_as_usual(client, db):
    response = client.get("/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
