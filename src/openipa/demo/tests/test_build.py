"""Loading the demo into the database: counts, logins, refusal to build twice, reproducible stats; members
and eligibility come from the payers' 834 files through the roster import service."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from openipa.accounts.models import User
from openipa.contracts.models import Contract, ContractTerm, DofrEntry, Payer, Product, RateCell
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo import engine
from openipa.demo.engine.rosters import plan_rosters
from openipa.demo.services import DemoError, build_demo, demo_is_built, demo_logins
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment
from openipa.network.models import (
    Affiliation,
    ContractParticipation,
    Location,
    ParticipationAgreement,
    Practice,
    Provider,
)

pytestmark = pytest.mark.django_db

AS_OF = Month(2026, 3)
MEMBERS = 300
PASSWORD = "demo-pass"


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


def _build(seed: int = 9) -> None:
    # the capitation year is tested in test_capitation_demo.py; these tests are about the rest of the build
    build_demo(seed=seed, members=MEMBERS, password=PASSWORD, as_of=AS_OF, capitation_year=False)


def _stats_json() -> str:
    out = StringIO()
    call_command("stats", "--json", stdout=out)
    return out.getvalue()


def test_it_loads_everything_the_engine_generates() -> None:
    data = engine.generate(seed=9, members=MEMBERS, as_of=AS_OF)
    plan = plan_rosters(data)
    known = [plan.known(i) for i in range(len(data.members))]
    stages: list[str] = []
    build_demo(
        seed=9,
        members=MEMBERS,
        password=PASSWORD,
        as_of=AS_OF,
        progress=lambda s, d, t: stages.append(s),
        claims_year=False,
    )
    assert Practice.objects.count() == 40
    assert Provider.objects.count() == 150
    assert Location.objects.count() == len(data.locations)
    assert Affiliation.objects.count() == len(data.affiliations)
    assert ParticipationAgreement.objects.count() == 40
    assert ContractParticipation.objects.count() == len(data.participations)
    assert Payer.objects.count() == 3
    assert Product.objects.count() == 5
    assert Contract.objects.count() == 3
    assert ContractTerm.objects.count() == 6
    assert RateCell.objects.count() == sum(len(t.rate_cells) for t in data.terms)
    assert DofrEntry.objects.count() == sum(len(t.dofr) for t in data.terms)
    # members, spans and PCPs as the payers reported them by the as-of month (a few events come later)
    assert Member.objects.count() == sum(bool(k.coverage) for k in known)
    assert MEMBERS - 10 <= Member.objects.count() <= MEMBERS
    assert EligibilitySpan.objects.count() == sum(len(k.coverage) for k in known)
    assert PcpAssignment.objects.count() == sum(len(k.pcp) for k in known)
    assert Contract.objects.get(payer__code="SUNMA").products.count() == 2
    assert "Roster files (834)" in stages
    assert "  GOLDMC/2025-04.834" in stages  # each file's import shows as its own step
    assert stages[0] == "Generating data"


def test_the_loaded_rows_carry_the_generated_values() -> None:
    data = engine.generate(seed=9, members=MEMBERS, as_of=AS_OF)
    _build()
    first = data.members[0]
    member = Member.objects.get(payer__code=first.payer_code, payer_member_id=first.payer_member_id)
    assert (member.first_name, member.last_name, member.date_of_birth) == (
        first.first_name,
        first.last_name,
        first.date_of_birth,
    )
    assert (member.mbi, member.phone, member.language) == (first.mbi, first.phone, first.language)
    known = plan_rosters(data).known(0)
    assert list(member.eligibility_spans.order_by("valid_from").values_list("valid_from", "valid_to")) == [
        (s, e) for _product, s, e in known.coverage
    ]
    term = ContractTerm.objects.get(contract__payer__code="SUNMA", valid_to__isnull=True)
    assert str(term.reinsurance_pmpm) == "4.50"
    assert term.rate_cells.filter(product__code="SUN-HMO", age_min=85, sex="M").get().pmpm == 375


def test_it_creates_one_login_per_role_and_one_per_practice_in_order() -> None:
    data = engine.generate(seed=9, members=MEMBERS, as_of=AS_OF)
    _build()
    staff = ["admin", "operations", "finance", "finance-2", "credentialing", "um-nurse", "medical-director"]
    staff += ["medical-director-2", "quality", "messenger", "auditor", "board"]
    for name in staff:
        assert User.objects.get(username=name).practice_id is None
    assert User.objects.get(username="um-nurse").role == Role.UM_NURSE
    assert User.objects.get(username="medical-director").role == Role.MEDICAL_DIRECTOR
    assert User.objects.get(username="admin").role == Role.IPA_ADMIN
    assert User.objects.get(username="board").role == Role.BOARD
    # runs are approved by a finance user who did not prepare them: the demo has two
    assert User.objects.filter(role=Role.FINANCE).count() == 2
    assert User.objects.filter(role=Role.PRACTICE_USER).count() == 40
    first = User.objects.select_related("practice").get(username="practice-01")
    assert first.practice is not None
    assert first.practice.code == data.practices[0].code
    last = User.objects.select_related("practice").get(username="practice-40")
    assert last.practice is not None
    assert last.practice.code == data.practices[39].code
    logins = demo_logins()
    assert [login.username for login in logins[: len(staff)]] == staff
    assert logins[len(staff)].username == "practice-01"
    assert logins[len(staff)].practice == data.practices[0].legal_name
    assert AuditEvent.objects.filter(action="user.create").count() == 52


def test_the_printed_password_signs_in_every_login() -> None:
    _build()
    for name in ("admin", "um-nurse", "practice-01", "practice-40"):
        assert authenticate(username=name, password=PASSWORD) is not None, name
    assert authenticate(username="admin", password="wrong") is None


def test_a_second_build_is_refused_and_changes_nothing() -> None:
    assert not demo_is_built()
    _build()
    assert demo_is_built()
    counts = (Member.objects.count(), User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DemoError, match="demo already built"):
        _build(seed=10)
    assert (Member.objects.count(), User.objects.count(), AuditEvent.objects.count()) == counts


def test_the_build_is_audited_with_its_seed() -> None:
    _build()
    event = AuditEvent.objects.get(action="demo.build")
    assert event.actor_username == "system"
    assert event.object_id == "seed-9"
    assert event.changes["members"] == [None, MEMBERS]
    assert event.changes["members_on_file"] == [None, Member.objects.count()]
    assert event.changes["roster_files"] == [None, 37]
    assert event.changes["roster_rejected"] == [None, 1]
    assert event.changes["as_of"] == [None, "2026-03"]


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


def test_the_offers_are_conveyed_to_each_practice_and_answered_by_each_alone() -> None:
    from openipa.demo.messenger import decisions
    from openipa.messenger.models import Conveyance, OfferPackage, OfferResponse

    _build()
    assert OfferPackage.objects.count() == 2
    practices = (
        ParticipationAgreement.objects.filter(status="active").values("practice_id").distinct().count()
    )
    assert Conveyance.objects.count() == 2 * practices
    answered = decisions()
    assert {"accept", "decline", "counter"} <= set(answered)  # mixed, individual answers
    assert Conveyance.objects.filter(responses__isnull=True).exists()  # some still open
    assert OfferResponse.objects.filter(under_standing_authorization__isnull=False).exists()
    for response in OfferResponse.objects.select_related("signed_by", "conveyance"):
        if response.under_standing_authorization_id is None:
            assert (
                response.signed_by.practice_id == response.conveyance.practice_id
            )  # each practice's own user
        else:
            assert response.signed_by.role == "messenger"


def test_credentialing_files_in_every_state_and_a_screened_leie_file(settings: Any) -> None:
    import datetime as dt

    from openipa.credentialing import selectors
    from openipa.credentialing.models import (
        CommitteeDecision,
        CredentialingFile,
        Exclusion,
        ScreeningHit,
        ScreeningRun,
    )

    _build()
    today = AS_OF.last_day
    counts = selectors.file_counts(today)
    assert counts["in_progress"] >= 3
    assert counts["complete"] >= 3
    assert counts["recredentialing_overdue"] == 2
    assert counts["letters_late"] == 1
    assert counts["credentialed"] >= 130
    practitioners = Provider.objects.exclude(kind="facility").count()
    assert CredentialingFile.objects.values("provider").distinct().count() == practitioners
    assert CommitteeDecision.objects.filter(file__kind="recredentialing").exists()
    leie = Path(settings.VAR_DIR) / "demo" / "credentialing" / "leie-demo.csv"
    assert leie.read_text().startswith("LASTNAME,FIRSTNAME,MIDNAME,BUSNAME")
    run = ScreeningRun.objects.get()
    assert run.screened_on == today
    assert {(h.match_kind, h.status) for h in ScreeningHit.objects.all()} == {
        ("npi", "confirmed"),
        ("name_dob", "open"),
    }
    excluded = Exclusion.objects.get().provider
    assert excluded.npi in selectors.excluded_npis(today)
    open_file = CredentialingFile.objects.get(provider=excluded, status="in_progress")
    assert selectors.checklist(open_file, today).complete
    assert open_file.decisions.get().decision == "defer"
    buckets = {r.bucket for r in selectors.expirables(User.objects.get(username="credentialing"), today)}
    assert {"expired", "30 days", "60 days", "90 days"} <= buckets
    assert selectors.credentialed_npis(today + dt.timedelta(days=1)) <= set(
        Provider.objects.values_list("npi", flat=True)
    )
    # the pages open on the demo's data (the credentialing login)
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="credentialing"))
    for url in ("/credentialing/files/", "/credentialing/files/?status=complete", "/credentialing/committee/",
                "/credentialing/expirables/", "/credentialing/delegation/",
                f"/credentialing/files/{open_file.pk}/?on={today.isoformat()}"):  # fmt: skip
        assert client.get(url).status_code == 200, url
