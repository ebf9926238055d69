"""Reads of the credentialing app. Screening runs and alerts are staff data (VIEW_CREDENTIALING): practice
users hold no credentialing permission and are refused. `excluded_npis` is the system read the claims
pipeline will use (no acting user: adjudication runs as the system)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from openipa.core.dating import pick_in_force
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor, Perm, has_perm, require
from openipa.credentialing.engine.screening import MatchPolicy
from openipa.credentialing.models import Exclusion, ScreeningHit, ScreeningPolicy, ScreeningRun
from openipa.network.models import Provider


def can_view(actor: Actor) -> bool:
    return has_perm(actor, Perm.VIEW_CREDENTIALING)


def can_edit(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_CREDENTIALING)


# -- policy -------------------------------------------------------------------------------------------------


def policy_on(day: date) -> ScreeningPolicy:
    """The screening policy in force on ``day`` (effective-dated rows; the first is seeded by a migration)."""
    policy = pick_in_force(ScreeningPolicy.objects.all(), day)
    if policy is None:
        raise ValidationFailed.single("policy", f"no screening policy is in force on {day.isoformat()}")
    return policy


def match_policy(policy: ScreeningPolicy) -> MatchPolicy:
    return MatchPolicy(
        threshold=float(policy.threshold),
        name_only_threshold=float(policy.name_only_threshold),
        last_name_weight=float(policy.last_name_weight),
        first_name_weight=float(policy.first_name_weight),
    )


def providers_to_screen() -> list[tuple[int, str, str, str, date | None]]:
    """Every provider of the network as (id, npi, first name, last name, date of birth), for a screening run
    (the service checks the actor's permission)."""
    return list(
        Provider.objects.order_by("pk").values_list("pk", "npi", "first_name", "last_name", "date_of_birth")
    )


# -- runs and alerts ----------------------------------------------------------------------------------------


def run_list(actor: Actor, limit: int = 20) -> QuerySet[ScreeningRun]:
    require(actor, Perm.VIEW_CREDENTIALING)
    return ScreeningRun.objects.select_related("leie_import", "sam_import").order_by("-created_at", "-id")[
        :limit
    ]


def run_get(actor: Actor, run_id: int) -> ScreeningRun:
    require(actor, Perm.VIEW_CREDENTIALING)
    try:
        return ScreeningRun.objects.select_related("leie_import", "sam_import", "policy").get(pk=run_id)
    except ScreeningRun.DoesNotExist:
        raise NotFound(f"screening run {run_id}") from None


def run_hits(actor: Actor, run: ScreeningRun) -> QuerySet[ScreeningHit]:
    """The alerts a run raised (new ones; matches already known are on the run's `found` list)."""
    require(actor, Perm.VIEW_CREDENTIALING)
    return run.hits.select_related("provider").order_by("-score", "id")


def open_alerts(actor: Actor) -> QuerySet[ScreeningHit]:
    """Alerts waiting for review, highest score first."""
    require(actor, Perm.VIEW_CREDENTIALING)
    return (
        ScreeningHit.objects.filter(status=ScreeningHit.Status.OPEN)
        .select_related("provider", "run")
        .order_by("-score", "created_at", "id")
    )


def recent_reviews(actor: Actor, limit: int = 20) -> QuerySet[ScreeningHit]:
    require(actor, Perm.VIEW_CREDENTIALING)
    return (
        ScreeningHit.objects.exclude(status=ScreeningHit.Status.OPEN)
        .select_related("provider")
        .order_by("-reviewed_at", "-id")[:limit]
    )


def hit_get(actor: Actor, hit_id: int) -> ScreeningHit:
    require(actor, Perm.VIEW_CREDENTIALING)
    try:
        return ScreeningHit.objects.select_related("provider", "run").get(pk=hit_id)
    except ScreeningHit.DoesNotExist:
        raise NotFound(f"screening alert {hit_id}") from None


@dataclass(frozen=True)
class SweepStatus:
    """Monthly monitoring: when the last screening ran and when the next is due."""

    last_run: ScreeningRun | None
    interval_days: int
    next_due: date | None
    overdue: bool
    days_late: int


def sweep_status(actor: Actor, today: date) -> SweepStatus:
    """The last run and the next one due (its date plus the interval in force today); overdue when the due
    date has passed, or when no screening has ever run."""
    require(actor, Perm.VIEW_CREDENTIALING)
    interval = policy_on(today).sweep_interval_days
    last = ScreeningRun.objects.order_by("-created_at", "-id").first()
    if last is None:
        return SweepStatus(None, interval, None, True, 0)
    due = last.screened_on + dt.timedelta(days=interval)
    late = (today - due).days
    return SweepStatus(last, interval, due, late > 0, max(late, 0))


# -- for claims ---------------------------------------------------------------------------------------------


def excluded_npis(on: date) -> set[str]:
    """The NPIs of providers excluded on ``on``: confirmed hits from the list's exclusion date (until a
    reinstatement ends the exclusion). A system read for claims adjudication."""
    in_force = Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    return set(Exclusion.objects.filter(in_force).values_list("provider__npi", flat=True))
