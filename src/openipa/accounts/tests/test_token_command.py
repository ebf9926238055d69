"""`openipa token create`: prints only the token, which then authenticates as the user."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from openipa.accounts.models import ApiToken, User
from openipa.accounts.services import token_authenticate
from openipa.core.models import AuditEvent
from openipa.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol() -> User:
    return User.objects.create(username="carol", role=Role.FINANCE)


def test_it_prints_only_a_token_that_authenticates_as_the_user(carol: User) -> None:
    out = StringIO()
    call_command("token", "create", "--user", "carol", "--name", "nightly export", stdout=out)
    token = out.getvalue().strip()
    assert out.getvalue().count("\n") == 1
    assert token.startswith("oipa_")
    assert token_authenticate(token) == carol
    record = ApiToken.objects.get(user=carol)
    assert record.name == "nightly export"
    assert token not in record.token_hash  # only the hash is kept
    assert AuditEvent.objects.filter(action="token.create", object_id=str(record.pk)).exists()


def test_the_label_is_optional(carol: User) -> None:
    out = StringIO()
    call_command("token", "create", "--user", "carol", stdout=out)
    assert ApiToken.objects.get(user=carol).name == ""


def test_an_unknown_user_is_a_clear_error_and_issues_nothing(carol: User) -> None:
    with pytest.raises(CommandError, match="unknown user 'nobody'"):
        call_command("token", "create", "--user", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_an_unknown_user_exits_non_zero_from_the_command_line(
    carol: User, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["openipa", "token", "create", "--user", "nobody"]).execute()
    assert exit_info.value.code != 0
    captured = capsys.readouterr()
    assert "unknown user 'nobody'" in captured.err
    assert captured.out == ""


def test_an_inactive_user_gets_no_token(carol: User) -> None:
    carol.is_active = False
    carol.save()
    with pytest.raises(CommandError, match="inactive"):
        call_command("token", "create", "--user", "carol", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_the_user_option_is_required() -> None:
    with pytest.raises(CommandError, match="--user"):
        call_command("token", "create", stdout=StringIO())
