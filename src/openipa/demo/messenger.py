"""The demo's fee-for-service offers (issue 6): two payers' offers conveyed to each practice on its own, with
each practice's own answer (accepted, declined, countered or not yet answered), a few practices' standing
authorizations (one offer accepted for a practice under its own), and some answers carried to the payer.

Everything goes through `openipa.messenger.services` as the demo's messenger and each practice's own login,
so the answers are signed by that practice's user, as in real use. Deterministic for a seed."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from openipa.accounts.models import User
from openipa.contracts.models import Payer
from openipa.core.roles import Role
from openipa.messenger import services
from openipa.messenger.models import OfferResponse
from openipa.network.models import ParticipationAgreement, Practice

CODE_TABLE = (("99203", "", 11500), ("99213", "", 9200), ("99214", "", 13100), ("99395", "", 14800),
              ("20610", "", 7600), ("93000", "", 2100), ("36415", "", 300), ("99213", "25", 9200))  # fmt: skip
"""The second offer's rates (cents): office visits, a preventive visit, a joint injection, an ECG, a draw."""


@dataclass(frozen=True)
class OffersSummary:
    offers: int = 0
    conveyances: int = 0
    responses: int = 0
    standing: int = 0


def build_offers(*, seed: int, today: dt.date) -> OffersSummary:
    rng = random.Random(f"offers-{seed}")
    messenger = User.objects.get(role=Role.MESSENGER, username="messenger")
    payers = list(Payer.objects.order_by("code")[:2])
    if len(payers) < 2:
        return OffersSummary()
    active = ParticipationAgreement.objects.filter(
        status=ParticipationAgreement.Status.ACTIVE, valid_from__lte=today
    )
    practices = list(
        Practice.objects.filter(pk__in=active.exclude(valid_to__lt=today).values("practice_id")).order_by(
            "code"
        )
    )
    users = {u.practice_id: u for u in User.objects.filter(role=Role.PRACTICE_USER).order_by("username")}
    minded = practices[:: max(1, len(practices) // 3)][:3]  # a few practices give a standing minimum
    for practice in minded:
        services.standing_authorization_set(
            actor=users[practice.pk], payer=payers[0], minimum_percent_of_medicare=Decimal(rng.choice([110, 115])),
            valid_from=today - dt.timedelta(days=60), signature=f"{practice.legal_name} (office manager)",
        )  # fmt: skip
    start = dt.date(today.year + 1, 1, 1)
    percent_offer = services.offer_create(
        actor=messenger, payer=payers[0], title=f"{payers[0].name} fee-for-service {start.year}",
        terms="Two-year term; either side may end it on 90 days' notice; claims filed within 180 days; "
              "payment within 30 days of a clean claim.",
        effective_from=start, respond_by=today + dt.timedelta(days=21), percent_of_medicare=Decimal("118"),
    )  # fmt: skip
    table_offer = services.offer_create(
        actor=messenger, payer=payers[1], title=f"{payers[1].name} PPO rate table {start.year}",
        terms="One-year term renewing each year; 120 days' notice to end; rates as listed, lesser of billed.",
        effective_from=start, respond_by=today + dt.timedelta(days=30), rates=CODE_TABLE,
    )  # fmt: skip
    conveyances = responses = 0
    for offer in (percent_offer, table_offer):
        for practice in practices:
            conveyance = services.convey(actor=messenger, offer=offer, practice=practice)
            conveyances += 1
            user = users.get(practice.pk)
            if offer is percent_offer and practice in minded:  # at or above its minimum: accepted for it
                services.accept_under_standing_authorization(actor=messenger, conveyance=conveyance)
                responses += 1
                continue
            roll = rng.random()
            if user is None or roll < 0.18:  # not answered yet
                continue
            decision = "accept" if roll < 0.6 else "decline" if roll < 0.8 else "counter"
            counter = (
                Decimal(rng.choice([125, 130, 135]))
                if decision == "counter" and offer is percent_offer
                else None
            )
            terms = "" if decision != "counter" else (
                "We would accept at the percent shown." if counter is not None
                else "We ask 10% above the listed rates for 99213 and 99214."
            )  # fmt: skip
            answer = services.respond(
                actor=user, conveyance=conveyance, decision=decision, signature=f"Dr. {user.username.title()}",
                counter_terms=terms, counter_percent_of_medicare=counter,
            )  # fmt: skip
            responses += 1
            if rng.random() < 0.5:
                services.transmit(actor=messenger, response=answer)
    return OffersSummary(offers=2, conveyances=conveyances, responses=responses, standing=len(minded))


def decisions() -> dict[str, int]:
    """Answers by decision (for the demo's own tests; no page shows such a total: ADR 0012)."""
    out: dict[str, int] = {}
    for decision in OfferResponse.objects.values_list("decision", flat=True):
        out[decision] = out.get(decision, 0) + 1
    return out
