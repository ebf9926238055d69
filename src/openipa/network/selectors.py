"""Reads of the network, always scoped to the acting user.

Practice users see their own practice only, and the public directory of providers (name, NPI,
specialty, accepting new patients) but no provider's private data outside their practice. Bank details
are masked for everyone but finance, the IPA administrator included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from openipa.core.errors import NotFound
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.network.models import (
    Affiliation,
    ContractParticipation,
    Location,
    ParticipationAgreement,
    Practice,
    Provider,
    Region,
)


def region_list(actor: Actor) -> QuerySet[Region]:
    require(actor, Perm.VIEW_NETWORK)
    return Region.objects.all()


def practice_list(actor: Actor, *, q: str = "", region: str = "", status: str = "") -> QuerySet[Practice]:
    require(actor, Perm.VIEW_NETWORK)
    qs = Practice.objects.select_related("region")
    if is_practice_scoped(actor):
        qs = qs.filter(pk=scoped_practice_id(actor))
    if q:
        qs = qs.filter(
            Q(legal_name__icontains=q)
            | Q(dba_name__icontains=q)
            | Q(code__iexact=q)
            | Q(city__icontains=q)
            | Q(tin=q.replace("-", ""))
        )
    if region:
        qs = qs.filter(region__code=region)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("legal_name", "pk")


def practice_get(actor: Actor, practice_id: int) -> Practice:
    try:
        return practice_list(actor).get(pk=practice_id)
    except Practice.DoesNotExist:
        raise NotFound(f"practice {practice_id}") from None


def mask(value: str, keep: int = 4) -> str:
    if not value:
        return ""
    return "•" * max(0, len(value) - keep) + value[-keep:]


def practice_bank_details(actor: Actor, practice: Practice) -> dict[str, Any]:
    """EFT details: in clear for finance, masked for everyone else (the administrator included)."""
    clear = has_perm(actor, Perm.VIEW_BANK)
    return {
        "bank_name": practice.bank_name,
        "routing_number": practice.bank_routing_number if clear else mask(practice.bank_routing_number),
        "account_number": practice.bank_account_number if clear else mask(practice.bank_account_number),
        "masked": not clear,
    }


def practice_locations(actor: Actor, practice: Practice) -> QuerySet[Location]:
    practice_get(actor, practice.pk)
    return practice.locations.order_by("-is_primary", "name", "pk")


def location_list(actor: Actor) -> QuerySet[Location]:
    """Locations of the practices the actor may see, by practice and name."""
    practices = practice_list(actor)
    return (
        Location.objects.filter(practice__in=practices)
        .select_related("practice")
        .order_by("practice__legal_name", "-is_primary", "name", "pk")
    )


def location_get(actor: Actor, location_id: int) -> Location:
    try:
        return location_list(actor).get(pk=location_id)
    except Location.DoesNotExist:
        raise NotFound(f"location {location_id}") from None


def agreement_fees_visible(actor: Actor) -> bool:
    """An agreement's admin-fee terms and the contracts joined under it are financial: only for roles
    that may read contracts. Everyone who sees the practice sees the agreement's dates and status."""
    return has_perm(actor, Perm.VIEW_CONTRACTS)


def practice_agreements(actor: Actor, practice: Practice) -> QuerySet[ParticipationAgreement]:
    practice_get(actor, practice.pk)
    participations = ContractParticipation.objects.select_related("contract__payer").order_by(
        "contract__number", "-valid_from"
    )
    return practice.agreements.order_by("-valid_from").prefetch_related(
        Prefetch("contract_participations", queryset=participations)
    )


def agreement_get(actor: Actor, agreement_id: int) -> ParticipationAgreement:
    """One agreement of a practice the actor may see."""
    try:
        return ParticipationAgreement.objects.select_related("practice").get(
            pk=agreement_id, practice__in=practice_list(actor)
        )
    except ParticipationAgreement.DoesNotExist:
        raise NotFound(f"agreement {agreement_id}") from None


def participation_get(actor: Actor, participation_id: int) -> ContractParticipation:
    """One contract a practice joined. Financial: roles that may not read contracts are refused."""
    require(actor, Perm.VIEW_CONTRACTS)
    try:
        return ContractParticipation.objects.select_related("agreement__practice", "contract").get(
            pk=participation_id, agreement__practice__in=practice_list(actor)
        )
    except ContractParticipation.DoesNotExist:
        raise NotFound(f"contract participation {participation_id}") from None


def _in_force(on: dt.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def provider_list(
    actor: Actor,
    *,
    q: str = "",
    kind: str = "",
    specialty: str = "",
    practice_id: int | None = None,
    accepting: bool | None = None,
) -> QuerySet[Provider]:
    """The provider directory. Everyone with network access sees every provider's public fields."""
    require(actor, Perm.VIEW_NETWORK)
    qs = Provider.objects.all()
    if q:
        terms = q.split()
        for term in terms:
            qs = qs.filter(
                Q(last_name__icontains=term)
                | Q(first_name__icontains=term)
                | Q(npi=term)
                | Q(specialty__icontains=term)
            )
    if kind:
        qs = qs.filter(kind=kind)
    if specialty:
        qs = qs.filter(specialty__iexact=specialty)
    if practice_id is not None:
        qs = qs.filter(Exists(Affiliation.objects.filter(provider=OuterRef("pk"), practice_id=practice_id)))
    if accepting is not None:
        qs = qs.filter(accepting_new_patients=accepting)
    return qs.order_by("last_name", "first_name", "pk")


def provider_get(actor: Actor, provider_id: int) -> Provider:
    try:
        return provider_list(actor).get(pk=provider_id)
    except Provider.DoesNotExist:
        raise NotFound(f"provider {provider_id}") from None


def provider_private_visible(actor: Actor, provider: Provider) -> bool:
    """Private provider data (date of birth, personal phone): IPA staff, or the provider's own practice."""
    if not is_practice_scoped(actor):
        return True
    return provider.affiliations.filter(practice_id=scoped_practice_id(actor)).exists()


def provider_affiliations(actor: Actor, provider: Provider) -> QuerySet[Affiliation]:
    require(actor, Perm.VIEW_NETWORK)
    return provider.affiliations.select_related("practice", "location").order_by("-valid_from")


def affiliation_get(actor: Actor, affiliation_id: int) -> Affiliation:
    """One affiliation. A practice user sees only affiliations with their own practice."""
    qs = Affiliation.objects.select_related("provider", "practice", "location").filter(
        practice__in=practice_list(actor)
    )
    try:
        return qs.get(pk=affiliation_id)
    except Affiliation.DoesNotExist:
        raise NotFound(f"affiliation {affiliation_id}") from None


def practice_providers(actor: Actor, practice: Practice, on: dt.date | None = None) -> QuerySet[Provider]:
    practice_get(actor, practice.pk)
    aff = Affiliation.objects.filter(provider=OuterRef("pk"), practice=practice)
    if on is not None:
        aff = aff.filter(_in_force(on))
    return Provider.objects.filter(Exists(aff)).order_by("last_name", "first_name")


def specialties(actor: Actor) -> list[str]:
    require(actor, Perm.VIEW_NETWORK)
    return list(Provider.objects.order_by("specialty").values_list("specialty", flat=True).distinct())


def practice_of_provider_on(provider: Provider, on: dt.date) -> int | None:
    """The practice a provider is affiliated with on a date (the latest affiliation begun by then), or None.

    A lookup for services (a PCP assignment takes the provider's practice); it reveals nothing a directory
    page does not, so it takes no actor.
    """
    affiliation = (
        Affiliation.objects.filter(_in_force(on), provider=provider).order_by("-valid_from", "-pk").first()
    )
    return None if affiliation is None else affiliation.practice_id


def provider_by_npi(npi: str) -> Provider | None:
    """The network's provider with this NPI, or None (directory data: no actor)."""
    return Provider.objects.filter(npi=npi.strip()).first() if npi.strip() else None


@dataclass(frozen=True, slots=True)
class PcpDirectoryEntry:
    """What roster ingestion needs to know about a provider named by NPI in a payer's file."""

    provider_id: int
    name: str
    is_pcp: bool
    accepting_new_patients: bool
    panel_limit: int | None
    affiliations: tuple[tuple[int, dt.date, dt.date | None], ...]
    """(practice id, from, to), latest first."""

    def practice_on(self, on: dt.date) -> int | None:
        """The practice of the latest affiliation in force on ``on`` (as practice_of_provider_on)."""
        for practice_id, start, end in self.affiliations:
            if start <= on and (end is None or on <= end):
                return practice_id
        return None


def provider_directory_by_npi() -> dict[str, PcpDirectoryEntry]:
    """Every provider by NPI with their affiliations, in two queries: the lookup a roster import makes for
    each of thousands of members. Directory data only, so it takes no actor (like practice_of_provider_on)."""
    affiliations: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
    for provider_id, practice_id, start, end in Affiliation.objects.order_by(
        "provider_id", "-valid_from", "-pk"
    ).values_list("provider_id", "practice_id", "valid_from", "valid_to"):
        affiliations.setdefault(provider_id, []).append((practice_id, start, end))
    out: dict[str, PcpDirectoryEntry] = {}
    for provider in Provider.objects.only(
        "id", "npi", "first_name", "last_name", "degree", "kind", "accepting_new_patients", "panel_limit"
    ):
        out[provider.npi] = PcpDirectoryEntry(
            provider.pk,
            str(provider),
            provider.kind == Provider.Kind.PCP,
            provider.accepting_new_patients,
            provider.panel_limit,
            tuple(affiliations.get(provider.pk, ())),
        )
    return out


# -- for capitation distribution ----------------------------------------------------------------------

_THOUSANDTHS = Decimal(1000)
_HUNDREDTHS = Decimal(100)


def admin_fee_terms(on: dt.date) -> dict[int, tuple[int, int]]:
    """Practice id -> (admin fee percent in thousandths of a percent, admin fee PMPM in cents) of the active
    participation agreement in force on ``on``. A lookup for distribution runs (no member data), no actor."""
    terms: dict[int, tuple[int, int]] = {}
    for practice_id, percent, pmpm in (
        ParticipationAgreement.objects.filter(_in_force(on), status=ParticipationAgreement.Status.ACTIVE)
        .order_by("practice_id", "-valid_from")
        .values_list("practice_id", "admin_fee_percent", "admin_fee_pmpm")
    ):
        terms.setdefault(practice_id, (int(percent * _THOUSANDTHS), int(pmpm * _HUNDREDTHS)))
    return terms


def specialist_practices(on: dt.date) -> list[tuple[int, str]]:
    """(practice id, specialty) of every specialist affiliated with a practice on ``on``: who shares a
    specialist sub-capitation pool. A lookup for distribution runs, no actor."""
    return sorted(
        set(
            Affiliation.objects.filter(_in_force(on), provider__kind=Provider.Kind.SPECIALIST).values_list(
                "practice_id", "provider__specialty"
            )
        )
    )


def practice_codes_and_tins(practice_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Practice id -> (code, TIN), for naming practices in run messages and results. No actor: the callers
    are finance services that already checked theirs."""
    return {
        pk: (code, tin)
        for pk, code, tin in Practice.objects.filter(pk__in=practice_ids).values_list("pk", "code", "tin")
    }


def provider_status_frame(npis: Iterable[str], tins: Iterable[tuple[str, str]], on: dt.date) -> pl.DataFrame:
    """For claims adjudication: each NPI's kind, whether it is contracted (a network provider affiliated with a
    practice whose participation agreement is active on ``on``, or a billing NPI whose TIN is such a practice's
    (``tins``: (npi, tin) pairs from the claims), whether it is credentialed (not known yet: null) and excluded
    (not known yet: false). NPIs unknown to the network are absent (the engine treats them as not contracted)."""
    wanted = set(npis)
    contracted_practices = set(
        ParticipationAgreement.objects.filter(
            _in_force(on), status=ParticipationAgreement.Status.ACTIVE
        ).values_list("practice_id", flat=True)
    )
    rows: dict[str, tuple[str, str, bool, bool | None, bool, dt.date | None]] = {}
    providers = Provider.objects.filter(npi__in=wanted).values_list("pk", "npi", "kind")
    by_pk = {pk: (npi, kind) for pk, npi, kind in providers}
    affiliated = set(
        Affiliation.objects.filter(
            _in_force(on), provider_id__in=by_pk, practice_id__in=contracted_practices
        ).values_list("provider_id", flat=True)
    )
    for pk, (npi, kind) in by_pk.items():
        rows[npi] = (npi, kind, pk in affiliated, None, False, None)
    practice_tins = dict(Practice.objects.filter(pk__in=contracted_practices).values_list("tin", "pk"))
    for npi, tin in tins:
        if npi not in rows and tin in practice_tins:
            rows[npi] = (npi, "group", True, None, False, None)
    return pl.DataFrame(
        list(rows.values()),
        schema={"npi": pl.String, "kind": pl.String, "contracted": pl.Boolean, "credentialed": pl.Boolean,
                "excluded": pl.Boolean, "excluded_from": pl.Date},
        orient="row",
    )  # fmt: skip


def practice_ids_by_tin(tins: Iterable[str]) -> dict[str, int]:
    """TIN -> practice id for the practices with those TINs (a lookup for payment runs: ids only)."""
    return dict(Practice.objects.filter(tin__in=set(tins)).values_list("tin", "pk"))
