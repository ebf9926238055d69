"""Signing in and out: the login page, a good and a bad password, safe redirects, logout by POST only."""

from __future__ import annotations

from django.test import Client

from openipa.accounts.models import LoginFailure
from openipa.conftest import PASSWORD
from openipa.core.models import AuditEvent
from openipa.web.tests.pages import html


def test_an_anonymous_visitor_is_sent_to_the_login_page(small_ipa):
    response = Client().get("/members/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/members/"


def test_the_login_page_shows_the_form_and_no_navigation(db):
    response = Client().get("/login/")
    assert response.status_code == 200
    body = html(response)
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert 'aria-label="Main"' not in body
    assert "csrfmiddlewaretoken" in body


def test_a_good_password_signs_in_and_goes_to_the_next_page(small_ipa):
    client = Client()
    response = client.post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "/members/"}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 302
    assert response["Location"] == "/members/"
    assert client.get("/members/").status_code == 200
    event = AuditEvent.objects.filter(kind="auth").latest("id")
    assert (event.action, event.actor_username, event.ip_address) == ("login.succeeded", "alice", "10.0.0.7")


def test_a_next_page_on_another_site_is_ignored(small_ipa):
    response = Client().post(
        "/login/", {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_bad_password_is_refused_and_recorded(small_ipa):
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html(response)
    assert client.get("/").status_code == 302  # still signed out
    assert LoginFailure.objects.filter(username="alice").count() == 1
    assert AuditEvent.objects.filter(kind="auth", action="login.failed", actor_username="alice").exists()


def test_sign_out_needs_a_post(client_for):
    client = client_for("ops")
    assert client.get("/logout/").status_code == 405
    assert client.get("/").status_code == 200  # the GET did not sign out
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_a_signed_in_user_opening_the_login_page_goes_to_the_dashboard(client_for):
    response = client_for("ops").get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"
