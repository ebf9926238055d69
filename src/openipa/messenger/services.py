"""Writes of messenger-model contracting: one offer, one practice, one answer at a time.

There is deliberately no service that takes several practices' answers, or answers for several practices:
each acceptance, refusal or counter-offer is one practice's own, signed by one of its users (or, under that
practice's own standing authorization, by the messenger for it). Each write is audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from openipa.contracts.models import Contract, Payer
from openipa.core import audit
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.roles import Actor, Perm, is_practice_scoped, require, scoped_practice_id
from openipa.messenger import selectors
from openipa.messenger.models import Conveyance, OfferPackage, OfferRate, OfferResponse, StandingAuthorization
from openipa.network.models import ParticipationAgreement, Practice


def _uid(actor: Actor) -> int:
    return int(str(actor.pk))


def offer_create(
    *,
    actor: Actor,
    payer: Payer,
    title: str,
    terms: str,
    effective_from: dt.date,
    respond_by: dt.date,
    percent_of_medicare: Decimal | None = None,
    rates: Iterable[tuple[str, str, int]] = (),
    effective_to: dt.date | None = None,
    contract: Contract | None = None,
) -> OfferPackage:
    """Record a payer's offer: a percent of Medicare, or a table of (code, modifier, cents) rates."""
    require(actor, Perm.CONVEY_OFFERS)
    table = [(code.strip().upper(), modifier.strip().upper(), int(cents)) for code, modifier, cents in rates]
    problems: dict[str, list[str]] = {}
    if not title.strip():
        problems["title"] = ["give the offer a title"]
    if not terms.strip():
        problems["terms"] = ["write the payer's terms as offered"]
    if (percent_of_medicare is None) == (not table):
        problems["basis"] = ["give either a percent of Medicare or a rate table, not both"]
    if percent_of_medicare is not None and not Decimal(0) < percent_of_medicare <= Decimal(1000):
        problems["percent_of_medicare"] = ["a percent of Medicare above 0 and at most 1000"]
    if any(not code or cents < 0 for code, _m, cents in table):
        problems["rates"] = ["each rate needs a code and an amount not below zero"]
    if len({(c, m) for c, m, _ in table}) != len(table):
        problems["rates"] = ["a code and modifier appear twice"]
    if effective_to is not None and effective_to < effective_from:
        problems["effective_to"] = ["ends before it starts"]
    if contract is not None and contract.payer_id != payer.pk:
        problems["contract"] = ["the contract is another payer's"]
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        offer = OfferPackage.objects.create(
            payer=payer, contract=contract, title=title.strip(), terms=terms.strip(), effective_from=effective_from,
            effective_to=effective_to, respond_by=respond_by, created_by_id=_uid(actor),
            basis=OfferPackage.Basis.PERCENT_OF_MEDICARE if percent_of_medicare is not None
            else OfferPackage.Basis.CODE_TABLE,
            percent_of_medicare=percent_of_medicare,
        )  # fmt: skip
        OfferRate.objects.bulk_create(
            OfferRate(offer=offer, code=code, modifier=modifier, rate_cents=cents)
            for code, modifier, cents in table
        )
        audit.record_write(
            actor, "messenger.offer_create", offer, after={"payer": payer.code, "rates": len(table)}
        )
    return offer


def convey(*, actor: Actor, offer: OfferPackage, practice: Practice) -> Conveyance:
    """Convey ``offer`` to one practice (its own copy; it then sees the offer and may answer)."""
    require(actor, Perm.CONVEY_OFFERS)
    if offer.status == OfferPackage.Status.CLOSED:
        raise ValidationFailed.single("offer", "the offer is closed")
    today = timezone.localdate()
    member = ParticipationAgreement.objects.filter(
        practice=practice, status=ParticipationAgreement.Status.ACTIVE, valid_from__lte=today
    ).exclude(valid_to__lt=today)
    if not member.exists():
        raise ValidationFailed.single("practice", f"{practice} has no participation agreement in force")
    if Conveyance.objects.filter(offer=offer, practice=practice).exists():
        raise ValidationFailed.single("practice", f"the offer was already conveyed to {practice}")
    with transaction.atomic():
        conveyance = Conveyance.objects.create(offer=offer, practice=practice, conveyed_by_id=_uid(actor))
        if offer.status == OfferPackage.Status.DRAFT:
            offer.status = OfferPackage.Status.CONVEYED
            offer.save(update_fields=["status"])
        audit.record_write(
            actor, "messenger.convey", conveyance, after={"offer": offer.pk, "practice": practice.pk}
        )
    return conveyance


def close_offer(*, actor: Actor, offer: OfferPackage) -> OfferPackage:
    require(actor, Perm.CONVEY_OFFERS)
    with transaction.atomic():
        before = offer.status
        offer.status = OfferPackage.Status.CLOSED
        offer.save(update_fields=["status"])
        audit.record_write(
            actor, "messenger.offer_close", offer, before={"status": before}, after={"status": "closed"}
        )
    return offer


def mark_viewed(*, actor: Actor, conveyance: Conveyance) -> None:
    """The practice opened its offer: the notice of it is read."""
    if is_practice_scoped(actor) and conveyance.first_viewed_at is None:
        Conveyance.objects.filter(pk=conveyance.pk, first_viewed_at__isnull=True).update(
            first_viewed_at=timezone.now()
        )


def respond(
    *,
    actor: Actor,
    conveyance: Conveyance,
    decision: str,
    signature: str,
    counter_terms: str = "",
    counter_percent_of_medicare: Decimal | None = None,
) -> OfferResponse:
    """One practice's own answer to its conveyance, signed by the acting practice user."""
    require(actor, Perm.RESPOND_OFFERS)
    if not is_practice_scoped(actor) or conveyance.practice_id != scoped_practice_id(actor):
        raise PermissionDenied("a practice answers only the offers conveyed to it")
    problems: dict[str, list[str]] = {}
    if decision not in OfferResponse.Decision.values:
        problems["decision"] = ["accept, decline or counter"]
    if not signature.strip():
        problems["signature"] = ["sign with your full name"]
    if (
        decision == OfferResponse.Decision.COUNTER
        and not counter_terms.strip()
        and counter_percent_of_medicare is None
    ):
        problems["counter_terms"] = ["a counter-offer says what your practice would accept"]
    if decision != OfferResponse.Decision.COUNTER and (
        counter_terms.strip() or counter_percent_of_medicare is not None
    ):
        problems["counter_terms"] = ["counter-terms go with a counter-offer only"]
    if counter_percent_of_medicare is not None and not Decimal(0) < counter_percent_of_medicare <= Decimal(
        1000
    ):
        problems["counter_percent_of_medicare"] = ["a percent of Medicare above 0 and at most 1000"]
    if conveyance.offer.status == OfferPackage.Status.CLOSED:
        problems["offer"] = ["the offer is closed"]
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic():
        response = OfferResponse.objects.create(
            conveyance=conveyance, decision=decision, counter_terms=counter_terms.strip(),
            counter_percent_of_medicare=counter_percent_of_medicare, signed_by_id=_uid(actor),
            signature=signature.strip()[:200],
        )  # fmt: skip
        if conveyance.first_viewed_at is None:  # answering it, the practice has opened it
            Conveyance.objects.filter(pk=conveyance.pk).update(first_viewed_at=timezone.now())
        audit.record_write(actor, "messenger.respond", response, after={"decision": decision})
    return response


def standing_authorization_set(
    *,
    actor: Actor,
    minimum_percent_of_medicare: Decimal,
    valid_from: dt.date,
    signature: str,
    payer: Payer | None = None,
) -> StandingAuthorization:
    """A practice user sets its own practice's standing authorization (for one payer, or any); the one in force
    before it for the same payer ends the day before."""
    require(actor, Perm.RESPOND_OFFERS)
    practice_id = scoped_practice_id(actor)
    if not Decimal(0) < minimum_percent_of_medicare <= Decimal(1000):
        raise ValidationFailed.single(
            "minimum_percent_of_medicare", "a percent of Medicare above 0 and at most 1000"
        )
    if not signature.strip():
        raise ValidationFailed.single("signature", "sign with your full name")
    with transaction.atomic():
        same = StandingAuthorization.objects.filter(
            practice_id=practice_id, payer=payer, valid_to__isnull=True
        )
        for previous in same:
            if previous.valid_from >= valid_from:
                raise ValidationFailed.single(
                    "valid_from", f"an authorization already starts on {previous.valid_from}"
                )
            previous.valid_to = valid_from - dt.timedelta(days=1)
            previous.save(update_fields=["valid_to"])
        sa = StandingAuthorization.objects.create(
            practice_id=practice_id, payer=payer, minimum_percent_of_medicare=minimum_percent_of_medicare,
            valid_from=valid_from, signed_by_id=_uid(actor), signature=signature.strip()[:200],
        )  # fmt: skip
        audit.record_write(actor, "messenger.standing_authorization", sa,
                           after={"payer": payer.code if payer else "", "from": valid_from.isoformat()})  # fmt: skip
    return sa


def standing_authorization_end(*, actor: Actor, authorization: StandingAuthorization, on: dt.date) -> None:
    """A practice ends its own standing authorization (the last day it applies is ``on``)."""
    require(actor, Perm.RESPOND_OFFERS)
    if authorization.practice_id != scoped_practice_id(actor):
        raise PermissionDenied("a practice ends only its own standing authorization")
    if on < authorization.valid_from:
        raise ValidationFailed.single("on", "ends before it starts")
    with transaction.atomic():
        authorization.valid_to = on
        authorization.save(update_fields=["valid_to"])
        audit.record_write(
            actor, "messenger.standing_authorization_end", authorization, after={"to": on.isoformat()}
        )


def accept_under_standing_authorization(*, actor: Actor, conveyance: Conveyance) -> OfferResponse:
    """The messenger accepts one conveyance for its practice, because the offer is at or above that practice's
    own standing minimum for the payer. Refused if the practice has answered itself, has no authorization in
    force, or the offer is not a percent of Medicare at or above its minimum."""
    require(actor, Perm.CONVEY_OFFERS)
    offer = conveyance.offer
    if conveyance.responses.exists():
        raise ValidationFailed.single("conveyance", "the practice has answered this offer itself")
    if offer.status == OfferPackage.Status.CLOSED:
        raise ValidationFailed.single("offer", "the offer is closed")
    if offer.basis != OfferPackage.Basis.PERCENT_OF_MEDICARE or offer.percent_of_medicare is None:
        raise ValidationFailed.single(
            "offer", "a standing minimum compares with a percent-of-Medicare offer only"
        )
    sa = selectors.standing_authorization_on(
        actor, conveyance.practice_id, offer.payer_id, timezone.localdate()
    )
    if sa is None:
        raise ValidationFailed.single("conveyance", "the practice has no standing authorization in force")
    if offer.percent_of_medicare < sa.minimum_percent_of_medicare:
        raise ValidationFailed.single(
            "conveyance",
            f"the offer ({offer.percent_of_medicare}% of Medicare) is below the practice's minimum",
        )
    with transaction.atomic():
        response = OfferResponse.objects.create(
            conveyance=conveyance, decision=OfferResponse.Decision.ACCEPT, signed_by_id=_uid(actor),
            signature=f"{actor.username} for {conveyance.practice} under standing authorization {sa.pk}"[:200],
            under_standing_authorization=sa,
        )  # fmt: skip
        audit.record_write(actor, "messenger.accept_standing", response, after={"authorization": sa.pk})
    return response


EXPORT_COLUMNS = [
    "offer_id", "offer_title", "payer", "practice_code", "practice_tin", "decision", "counter_percent_of_medicare",
    "counter_terms", "signed_by", "signature", "responded_at", "under_standing_authorization",
]  # fmt: skip


def transmit(*, actor: Actor, response: OfferResponse) -> str:
    """The messenger carries one practice's answer to the payer: the answer as a CSV of its own (one practice,
    one row), and the response marked transmitted."""
    require(actor, Perm.CONVEY_OFFERS)
    conveyance = response.conveyance
    offer, practice = conveyance.offer, conveyance.practice
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerow([
        offer.pk, offer.title, offer.payer.code, practice.code, practice.tin, response.decision,
        response.counter_percent_of_medicare if response.counter_percent_of_medicare is not None else "",
        response.counter_terms, response.signed_by.get_username(), response.signature,
        response.responded_at.isoformat(), "yes" if response.under_standing_authorization_id else "no",
    ])  # fmt: skip
    with transaction.atomic():
        if response.transmitted_at is None:
            response.transmitted_at = timezone.now()
            response.transmitted_by_id = _uid(actor)
            response.save(update_fields=["transmitted_at", "transmitted_by"])
        audit.record_write(actor, "messenger.transmit", response, after={"practice": practice.pk})
    return out.getvalue()
