"""After five failed sign-ins the sixth attempt is refused with 429, even with the right password."""

from __future__ import annotations

from django.test import Client

from openipa.accounts.models import LoginFailure
from openipa.conftest import PASSWORD
from openipa.web.tests.pages import html


def _fail(client: Client, username: str, times: int, ip: str = "10.0.0.9") -> None:
    for _ in range(times):
        response = client.post("/login/", {"username": username, "password": "nope"}, REMOTE_ADDR=ip)
        assert response.status_code == 200


def test_the_sixth_attempt_is_refused_without_looking_at_the_password(small_ipa, settings):
    settings.LOGIN_THROTTLE_FAILURES = 5
    client = Client()
    _fail(client, "alice", 5)
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in html(response)
    assert client.get("/").status_code == 302  # not signed in
    # The refused attempt was not checked, so it is not counted as another failure either.
    assert LoginFailure.objects.filter(username="alice").count() == 5


def test_the_throttle_holds_for_the_user_name_from_another_address(small_ipa, settings):
    settings.LOGIN_THROTTLE_FAILURES = 5
    _fail(Client(), "alice", 5, ip="10.0.0.9")
    response = Client().post(
        "/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.168.1.1"
    )
    assert response.status_code == 429


def test_other_users_can_still_sign_in(small_ipa, settings):
    settings.LOGIN_THROTTLE_FAILURES = 5
    _fail(Client(), "alice", 5, ip="10.0.0.9")
    response = Client().post("/login/", {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302


def test_four_failures_still_let_the_right_password_in(small_ipa, settings):
    settings.LOGIN_THROTTLE_FAILURES = 5
    client = Client()
    _fail(client, "alice", 4)
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302
    assert LoginFailure.objects.filter(username="alice").count() == 0  # a success clears the count
