"""Loading the demo into the database: counts, logins, refusal to build twice, the audit, the offers and the
credentialing files, all read from one build for the module; members and eligibility come from the payers'
834 files through the roster import service. (Builds of their own: test_build_fresh.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate

from openipa.accounts.models import User
from openipa.contracts.models import Contract, ContractTerm, DofrEntry, Payer, Product, RateCell
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo import engine
from openipa.demo.engine.rosters import plan_rosters
from openipa.demo.services import DemoError, build_demo, demo_is_built, demo_logins
from openipa.demo.tests.builds import module_demo
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


STAGES: list[str] = []
"""The stages the module's build reported, in order."""


@pytest.fixture(scope="module")
def module_build(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """One build for the module's tests, which only read it (rolled back at the module's end); the tests
    that need an empty database or builds of their own are in test_build_fresh.py. The capitation year and
    the later stages are tested elsewhere (test_capitation_demo.py and the demo packages); these tests are
    about the rest of the build."""
    with module_demo(
        django_db_blocker, tmp_path_factory, "build-demo", seed=9, members=MEMBERS, as_of=AS_OF,
        capitation_year=False, password=PASSWORD, progress=lambda stage, _done, _total: STAGES.append(stage),
    ):  # fmt: skip
        yield Path(settings.VAR_DIR)


@pytest.fixture(autouse=True)
def built(module_build: Path, settings: Any) -> None:
    """The module's build, read inside each test's transaction, with VAR_DIR at its files."""
    settings.VAR_DIR = str(module_build)


def test_it_loads_everything_the_engine_generates() -> None:
    data = engine.generate(seed=9, members=MEMBERS, as_of=AS_OF)
    plan = plan_rosters(data)
    known = [plan.known(i) for i in range(len(data.members))]
    stages = STAGES
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
    for name in ("admin", "um-nurse", "practice-01", "practice-40"):
        assert authenticate(username=name, password=PASSWORD) is not None, name
    assert authenticate(username="admin", password="wrong") is None


def test_a_second_build_is_refused_and_changes_nothing() -> None:
    assert demo_is_built()
    counts = (Member.objects.count(), User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DemoError, match="demo already built"):
        build_demo(seed=10, members=MEMBERS, password=PASSWORD, as_of=AS_OF, capitation_year=False)
    assert (Member.objects.count(), User.objects.count(), AuditEvent.objects.count()) == counts


def test_the_build_is_audited_with_its_seed() -> None:
    event = AuditEvent.objects.get(action="demo.build")
    assert event.actor_username == "system"
    assert event.object_id == "seed-9"
    assert event.changes["members"] == [None, MEMBERS]
    assert event.changes["members_on_file"] == [None, Member.objects.count()]
    assert event.changes["roster_files"] == [None, 37]
    assert event.changes["roster_rejected"] == [None, 1]
    assert event.changes["as_of"] == [None, "2026-03"]


def test_the_offers_are_conveyed_to_each_practice_and_answered_by_each_alone() -> None:
    from openipa.demo.messenger import decisions
    from openipa.messenger.models import Conveyance, OfferPackage, OfferResponse

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
