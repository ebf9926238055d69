"""Demo builds that need an empty database or builds of their own: a taken user name refuses the whole build,
the same seed gives the same stats, and the `openipa demo` command's cycle (build, serve, already built) and
refusals. (Tests that read one build: test_build.py.)"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from openipa.accounts.models import User
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo.services import DemoError, build_demo
from openipa.demo.tests.test_build import AS_OF, MEMBERS, PASSWORD
from openipa.membership.models import Member
from openipa.network.models import Practice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


def _build(seed: int = 9) -> None:
    build_demo(seed=seed, members=MEMBERS, password=PASSWORD, as_of=AS_OF, capitation_year=False)


def _stats_json() -> str:
    out = StringIO()
    call_command("stats", "--json", stdout=out)
    return out.getvalue()


def test_a_taken_user_name_refuses_the_whole_build() -> None:
    User.objects.create(username="finance", role=Role.FINANCE)
    with pytest.raises(DemoError, match="finance"):
        _build()
    assert not Practice.objects.exists()
    assert not Member.objects.exists()


def test_two_builds_with_the_same_seed_give_identical_stats() -> None:
    dumps = []
    for _ in range(2):
        with transaction.atomic():
            _build(seed=7)
            dumps.append(_stats_json())
            transaction.set_rollback(True)
        assert not Practice.objects.exists()
    assert dumps[0] == dumps[1]
    stats = json.loads(dumps[0])
    assert MEMBERS - 10 <= stats["members"] <= MEMBERS
    assert stats["practices"] == 40
    assert stats["users_by_role"]["practice_user"] == 40
    # member-months from the earliest coverage of the enrollment history through the as-of month
    by_month = stats["member_months"]["by_month"]
    assert list(by_month)[-12:] == [str(m) for m in Month.range(AS_OF - 11, AS_OF)]
    assert 24 < len(by_month) <= 12 + 84
    assert all(by_month[str(m)] > 0.8 * MEMBERS for m in Month.range(AS_OF - 11, AS_OF - 1))
    with transaction.atomic():
        _build(seed=8)
        assert _stats_json() != dumps[0]
        transaction.set_rollback(True)


def test_the_demo_command_builds_serves_and_then_only_prints_the_logins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One build for the command's whole cycle (a full build is the costly part): built, logins printed and
    served; then, asked again, not built again, and not served with --no-serve."""
    served: list[dict[str, object]] = []
    monkeypatch.setattr("waitress.serve", lambda app, **kwargs: served.append({"app": app, **kwargs}))
    out = StringIO()
    call_command(
        "demo", "--members", "200", "--seed", "3", "--as-of", "2026-03", "--password", "pw1", "--port", "8123",
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "Built in" in text
    for name in ("admin", "um-nurse", "medical-director", "practice-01", "practice-40"):
        assert name in text
    assert "pw1" in text
    assert "http://127.0.0.1:8123/" in text
    assert "roster files (1 rejected)" in text
    on_file = Member.objects.count()
    assert 190 <= on_file <= 200
    assert len(served) == 1
    assert served[0]["host"] == "127.0.0.1"
    assert served[0]["port"] == 8123
    assert callable(served[0]["app"])

    again = StringIO()
    call_command("demo", "--no-serve", "--password", "pw1", stdout=again)
    assert "already built" in again.getvalue()
    assert "pw1" in again.getvalue()
    assert "http://127.0.0.1:8000/" in again.getvalue()
    assert Member.objects.count() == on_file
    assert len(served) == 1  # --no-serve

    wrong = StringIO()
    call_command("demo", "--no-serve", "--password", "not-it", stdout=wrong)
    assert "not-it" not in wrong.getvalue()
    assert "the one given when the demo was built" in wrong.getvalue()


def test_the_demo_command_refuses_a_database_with_other_practices(small_ipa: object) -> None:
    with pytest.raises(CommandError, match="empty database"):
        call_command("demo", "--no-serve", "--members", "10", stdout=StringIO())


def test_the_demo_command_rejects_a_malformed_as_of_month() -> None:
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("demo", "--no-serve", "--as-of", "March", stdout=StringIO())
