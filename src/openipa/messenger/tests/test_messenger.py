"""Messenger-model contracting: offers conveyed to each practice on its own, each practice's signed answer,
standing authorizations, and the firewall (ADR 0012): through services, pages, the API and the payer files.

Personas (src/openipa/conftest.py): the messenger; alice (a practice user at Alder) and bob (at Birch); the
administrator, operations, finance and the auditor, who must see nothing of offers or answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.messenger import selectors, services
from openipa.messenger.models import Conveyance, OfferPackage, OfferResponse, StandingAuthorization
from openipa.network.models import ParticipationAgreement

pytestmark = pytest.mark.django_db
OTHERS = ["admin", "ops", "fin", "auditor", "quality", "credentialing"]
BOB_SECRET = "BIRCH WANTS 142 PERCENT"


@pytest.fixture(autouse=True)
def _more_staff(small_ipa: Any) -> None:
    """The quality and credentialing roles too (the board's pages will come with issue 9): none sees offers."""
    from openipa.accounts.services import user_create
    from openipa.conftest import PASSWORD
    from openipa.core.roles import Role

    for name, role in (("quality", Role.QUALITY), ("credentialing", Role.CREDENTIALING)):
        small_ipa.users[name] = user_create(actor=None, username=name, password=PASSWORD, role=role)


@pytest.fixture
def offers(small_ipa: Any) -> Any:
    """An offer (120% of Medicare) conveyed to both practices; alice accepts; bob counters (his terms secret)."""
    for practice in (small_ipa.practice_a, small_ipa.practice_b):
        ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2020, 1, 1))
    u = small_ipa.users
    offer = services.offer_create(
        actor=u["messenger"], payer=small_ipa.payer, title="Commercial PPO 2027", terms="Two years; 90 days' notice.",
        effective_from=dt.date(2027, 1, 1), respond_by=dt.date(2026, 12, 31), percent_of_medicare=Decimal("120"),
    )  # fmt: skip
    to_a = services.convey(actor=u["messenger"], offer=offer, practice=small_ipa.practice_a)
    to_b = services.convey(actor=u["messenger"], offer=offer, practice=small_ipa.practice_b)
    services.respond(actor=u["alice"], conveyance=to_a, decision="accept", signature="Alice Alder")
    services.respond(actor=u["bob"], conveyance=to_b, decision="counter", signature="Bob Birch",
                     counter_terms=BOB_SECRET, counter_percent_of_medicare=Decimal("142"))  # fmt: skip
    return type("Offers", (), {"offer": offer, "to_a": to_a, "to_b": to_b})


# ----------------------------------------------------------------------------------------------- services


def test_an_offer_is_a_percent_or_a_rate_table_not_both(small_ipa: Any) -> None:
    kwargs = {"actor": small_ipa.users["messenger"], "payer": small_ipa.payer, "title": "X", "terms": "T",
              "effective_from": dt.date(2027, 1, 1), "respond_by": dt.date(2026, 12, 1)}  # fmt: skip
    with pytest.raises(ValidationFailed, match="either a percent"):
        services.offer_create(**kwargs)
    with pytest.raises(ValidationFailed, match="either a percent"):
        services.offer_create(**kwargs, percent_of_medicare=Decimal(110), rates=[("99213", "", 9000)])
    table = services.offer_create(**kwargs, rates=[("99213", "", 9000), ("99214", "25", 13000)])
    assert table.basis == OfferPackage.Basis.CODE_TABLE
    assert [(r.code, r.modifier, r.rate_cents) for r in table.rates.all()] == [
        ("99213", "", 9000),
        ("99214", "25", 13000),
    ]


def test_only_the_messenger_records_and_conveys(small_ipa: Any) -> None:
    for name in [*OTHERS, "alice"]:
        with pytest.raises(PermissionDenied):
            services.offer_create(actor=small_ipa.users[name], payer=small_ipa.payer, title="X", terms="T",
                                  effective_from=dt.date(2027, 1, 1), respond_by=dt.date(2026, 12, 1),
                                  percent_of_medicare=Decimal(100))  # fmt: skip
    assert OfferPackage.objects.count() == 0


def test_a_practice_without_an_agreement_in_force_is_not_conveyed_to(small_ipa: Any) -> None:
    offer = services.offer_create(actor=small_ipa.users["messenger"], payer=small_ipa.payer, title="X", terms="T",
                                  effective_from=dt.date(2027, 1, 1), respond_by=dt.date(2026, 12, 1),
                                  percent_of_medicare=Decimal(100))  # fmt: skip
    with pytest.raises(ValidationFailed, match="no participation agreement"):
        services.convey(actor=small_ipa.users["messenger"], offer=offer, practice=small_ipa.practice_a)
    assert Conveyance.objects.count() == 0


def test_a_practice_answers_only_its_own_offer_signed(small_ipa: Any, offers: Any) -> None:
    u = small_ipa.users
    before = OfferResponse.objects.count()
    with pytest.raises(PermissionDenied):  # alice answering Birch's copy
        services.respond(actor=u["alice"], conveyance=offers.to_b, decision="decline", signature="Alice")
    with pytest.raises(ValidationFailed, match="sign"):
        services.respond(actor=u["alice"], conveyance=offers.to_a, decision="decline", signature=" ")
    with pytest.raises(ValidationFailed, match="counter-offer says"):
        services.respond(actor=u["alice"], conveyance=offers.to_a, decision="counter", signature="Alice")
    with pytest.raises(PermissionDenied):  # the messenger never answers for a practice by itself
        services.respond(actor=u["messenger"], conveyance=offers.to_a, decision="accept", signature="M")
    assert OfferResponse.objects.count() == before
    offers.to_a.refresh_from_db()
    assert offers.to_a.first_viewed_at is not None  # answering it, the practice opened it
    latest = selectors.latest_response(u["alice"], offers.to_a)
    assert latest is not None
    assert (latest.decision, latest.signature, latest.signed_by) == ("accept", "Alice Alder", u["alice"])


def test_standing_authorization_lets_the_messenger_accept_at_or_above_the_minimum(small_ipa: Any) -> None:
    u = small_ipa.users
    for practice in (small_ipa.practice_a, small_ipa.practice_b):
        ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2020, 1, 1))
    today = timezone.localdate()
    services.standing_authorization_set(actor=u["alice"], minimum_percent_of_medicare=Decimal("115"),
                                        valid_from=today - dt.timedelta(days=30), signature="Alice Alder")  # fmt: skip
    newer = services.standing_authorization_set(actor=u["alice"], payer=small_ipa.payer, signature="Alice Alder",
                                                minimum_percent_of_medicare=Decimal("125"), valid_from=today)  # fmt: skip

    def offer(percent: str) -> Any:
        o = services.offer_create(actor=u["messenger"], payer=small_ipa.payer, title=f"At {percent}", terms="T",
                                  effective_from=today, respond_by=today, percent_of_medicare=Decimal(percent))  # fmt: skip
        return (services.convey(actor=u["messenger"], offer=o, practice=small_ipa.practice_a),
                services.convey(actor=u["messenger"], offer=o, practice=small_ipa.practice_b))  # fmt: skip

    low_a, low_b = offer("120")
    with pytest.raises(
        ValidationFailed, match="below the practice's minimum"
    ):  # the payer's own minimum: 125
        services.accept_under_standing_authorization(actor=u["messenger"], conveyance=low_a)
    with pytest.raises(ValidationFailed, match="no standing authorization"):  # Birch gave none
        services.accept_under_standing_authorization(actor=u["messenger"], conveyance=low_b)
    high_a, _high_b = offer("125")
    accepted = services.accept_under_standing_authorization(actor=u["messenger"], conveyance=high_a)
    assert (accepted.decision, accepted.under_standing_authorization) == ("accept", newer)
    with pytest.raises(ValidationFailed, match="answered"):
        services.accept_under_standing_authorization(actor=u["messenger"], conveyance=high_a)
    with pytest.raises(PermissionDenied):
        services.accept_under_standing_authorization(actor=u["alice"], conveyance=high_a)
    # the first authorization (any payer) ended the day before the second began
    first = StandingAuthorization.objects.get(payer__isnull=True)
    assert first.valid_to is None  # a different scope (any payer): not replaced
    with pytest.raises(ValidationFailed, match="already starts"):
        services.standing_authorization_set(actor=u["alice"], payer=small_ipa.payer, signature="A",
                                            minimum_percent_of_medicare=Decimal("130"), valid_from=today)  # fmt: skip


def test_standing_authorizations_are_seen_by_their_practice_and_the_messenger_only(small_ipa: Any) -> None:
    u = small_ipa.users
    services.standing_authorization_set(actor=u["bob"], minimum_percent_of_medicare=Decimal("131.5"),
                                        valid_from=timezone.localdate(), signature="Bob Birch")  # fmt: skip
    b = small_ipa.practice_b.pk
    assert [
        sa.minimum_percent_of_medicare for sa in selectors.standing_authorizations(u["messenger"], b)
    ] == [Decimal("131.50")]
    assert selectors.standing_authorizations(u["bob"], b).count() == 1
    with pytest.raises(Exception, match="no such practice"):
        selectors.standing_authorizations(u["alice"], b)
    for name in OTHERS:
        with pytest.raises(PermissionDenied):
            selectors.standing_authorizations(u[name], b)


def test_transmitting_carries_one_practice_answer_as_its_own_file(small_ipa: Any, offers: Any) -> None:
    u = small_ipa.users
    answer = offers.to_b.responses.get()
    text = services.transmit(actor=u["messenger"], response=answer)
    lines = text.strip().splitlines()
    assert len(lines) == 2  # a header and this practice's row: never another practice's
    assert "BIRCH" in lines[1]
    assert BOB_SECRET in lines[1]
    assert "ALDER" not in text
    answer.refresh_from_db()
    assert answer.transmitted_at is not None
    assert answer.transmitted_by == u["messenger"]
    with pytest.raises(PermissionDenied):
        services.transmit(actor=u["bob"], response=answer)


def test_fee_data_reads_are_audited(small_ipa: Any, offers: Any) -> None:
    reads = AuditEvent.objects.filter(
        kind="read", object_type="messenger.responses", actor_username="messenger"
    )
    assert not reads.exists()
    list(selectors.responses(small_ipa.users["messenger"], offers.offer))
    assert reads.count() == 1


# ----------------------------------------------------------------------------------------------- the API


def test_api_offers_are_the_messengers_and_each_practices_own(
    client_for: Any, offers: Any, small_ipa: Any
) -> None:
    other = services.offer_create(actor=small_ipa.users["messenger"], payer=small_ipa.payer, title="Only Birch",
                                  terms="T", effective_from=dt.date(2027, 1, 1), respond_by=dt.date(2026, 12, 1),
                                  percent_of_medicare=Decimal(101))  # fmt: skip
    services.convey(actor=small_ipa.users["messenger"], offer=other, practice=small_ipa.practice_b)

    def titles(who: str) -> list[str]:
        return [o["title"] for o in client_for(who).get("/api/v1/offers").json()["items"]]

    assert sorted(titles("messenger")) == ["Commercial PPO 2027", "Only Birch"]
    assert titles("alice") == ["Commercial PPO 2027"]
    assert sorted(titles("bob")) == ["Commercial PPO 2027", "Only Birch"]
    for name in OTHERS:
        response = client_for(name).get("/api/v1/offers")
        assert response.status_code == 403
        assert "Commercial PPO" not in response.content.decode()
    # an offer not conveyed to alice's practice does not exist for her
    assert client_for("alice").get(f"/api/v1/offers/{other.pk}/responses").status_code == 404


def test_api_responses_each_practice_sees_only_its_own(client_for: Any, offers: Any) -> None:
    url = f"/api/v1/offers/{offers.offer.pk}/responses"
    everyone = client_for("messenger").get(url).json()
    assert sorted((r["practice_code"], r["decision"]) for r in everyone) == [
        ("ALDER", "accept"),
        ("BIRCH", "counter"),
    ]
    alice = client_for("alice").get(url)
    assert [(r["practice_code"], r["decision"]) for r in alice.json()] == [("ALDER", "accept")]
    body = alice.content.decode()
    assert BOB_SECRET not in body
    assert "BIRCH" not in body
    assert "142" not in body
    for name in OTHERS:
        refused = client_for(name).get(url)
        assert refused.status_code == 403
        assert BOB_SECRET not in refused.content.decode()


# ----------------------------------------------------------------------------------------------- pages


def test_pages_show_a_practice_its_own_answer_and_nothing_of_another(client_for: Any, offers: Any) -> None:
    alice = client_for("alice")
    listing = alice.get("/offers/").content.decode()
    assert "Commercial PPO 2027" in listing
    assert "Accept" in listing
    page = alice.get(f"/offers/{offers.offer.pk}/").content.decode()
    assert "Alice Alder" in page
    for secret in (BOB_SECRET, "Bob Birch", "Birch Pediatrics", "142"):
        assert secret not in page
    # the messenger's page of Birch's copy, and Birch's payer file: not for alice
    assert alice.get(f"/offers/conveyances/{offers.to_b.pk}/").status_code == 403
    answer = offers.to_b.responses.get()
    assert alice.post(f"/offers/responses/{answer.pk}/transmit/").status_code == 403
    answer.refresh_from_db()
    assert answer.transmitted_at is None


def test_the_answer_page_answers_the_practices_own_copy_only(client_for: Any, offers: Any) -> None:
    before = OfferResponse.objects.count()
    refused = client_for("alice").post(
        f"/offers/{offers.offer.pk}/",
        {"decision": "decline", "signature": "Alice", "confirm": "on"},
        HTTP_HOST="testserver",
    )
    assert refused.status_code == 302  # her own copy: answered
    assert OfferResponse.objects.count() == before + 1
    assert OfferResponse.objects.filter(conveyance=offers.to_b).count() == 1  # Birch's untouched


def test_other_roles_are_refused_every_offer_page(client_for: Any, offers: Any) -> None:
    answer = offers.to_a.responses.get()
    for name in OTHERS:
        client = client_for(name)
        for url in ("/offers/", f"/offers/{offers.offer.pk}/", f"/offers/conveyances/{offers.to_a.pk}/",
                    "/offers/standing/", "/offers/new/"):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 403, (name, url)
            assert "Alice Alder" not in response.content.decode()
        assert client.post(f"/offers/responses/{answer.pk}/transmit/").status_code == 403
    answer.refresh_from_db()
    assert answer.transmitted_at is None


def test_the_messenger_reads_each_practice_on_its_own_page(client_for: Any, offers: Any) -> None:
    messenger = client_for("messenger")
    overview = messenger.get(f"/offers/{offers.offer.pk}/").content.decode()
    assert "Birch Pediatrics" in overview
    assert BOB_SECRET not in overview  # answers are on each practice's own page, never side by side
    assert "Alice Alder" not in overview
    birch = messenger.get(f"/offers/conveyances/{offers.to_b.pk}/").content.decode()
    assert BOB_SECRET in birch
    assert "Alice Alder" not in birch
    download = messenger.post(f"/offers/responses/{offers.to_b.responses.get().pk}/transmit/")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert b"ALDER" not in download.content


def test_the_practice_sets_its_standing_minimum_on_its_page(client_for: Any, small_ipa: Any) -> None:
    bob = client_for("bob")
    response = bob.post("/offers/standing/", {"minimum_percent_of_medicare": "118.5",
                                              "valid_from": timezone.localdate().isoformat(), "signature": "Bob Birch"})  # fmt: skip
    assert response.status_code == 302
    assert "118.50%" in bob.get("/offers/standing/").content.decode()
    assert "118.50" not in client_for("alice").get("/offers/standing/").content.decode()
