"""Reads of the credentialing app. Screening runs and alerts are staff data (VIEW_CREDENTIALING): practice
users hold no credentialing permission and are refused. `excluded_npis` is the system read the claims
pipeline will use (no acting user: adjudication runs as the system).

Credentialing files: the rules (effective-dated), a file's checklist on a committee date, the file list and
committee queue, expirables, the recredentialing due list, per-payer rosters and the semiannual delegation
report. `credentialed_npis` is the system read claims use."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from django.db.models import Q, QuerySet

from openipa.contracts.models import Payer
from openipa.core.dating import pick_in_force
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor, Perm, has_perm, require
from openipa.credentialing.engine import files as engine
from openipa.credentialing.engine.screening import MatchPolicy
from openipa.credentialing.models import (
    CommitteeDecision,
    Condition,
    CredentialingFile,
    CredentialingRule,
    ElementKind,
    Exclusion,
    ScreeningHit,
    ScreeningPolicy,
    ScreeningRun,
    Verification,
)
from openipa.network.models import Affiliation, ContractParticipation, Provider


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


def claims_provider_status(npis: Iterable[str], on: date) -> pl.DataFrame:
    """For claims adjudication (a system read), per NPI asked about that credentialing knows: ``credentialed``
    (True: credentialed on ``on``; False: a practitioner with a credentialing file or decision who is not, e.g.
    in progress, denied or overdue for recredentialing; null: not known here, e.g. a facility), ``excluded``
    and ``excluded_from`` (the first day of a confirmed exclusion that has not ended by ``on``)."""
    wanted = set(npis)
    credentialed = credentialed_npis(on) & wanted
    known = set(
        CredentialingFile.objects.filter(provider__npi__in=wanted).values_list("provider__npi", flat=True)
    )
    exclusions: dict[str, date] = {}
    for npi, since in (
        Exclusion.objects.filter(provider__npi__in=wanted)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .values_list("provider__npi", "valid_from")
    ):
        exclusions[npi] = min(since, exclusions.get(npi, since))
    rows = [
        (npi, True if npi in credentialed else False if npi in known else None, npi in exclusions,
         exclusions.get(npi))
        for npi in sorted(known | credentialed | set(exclusions))
    ]  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={
            "npi": pl.String,
            "credentialed": pl.Boolean,
            "excluded": pl.Boolean,
            "excluded_from": pl.Date,
        },
        orient="row",
    )


# -- credentialing files: rules -----------------------------------------------------------------------------


def rule_versions() -> list[engine.RuleVersion]:
    return [
        engine.RuleVersion(r.valid_from, r.valid_to, r.window_days, r.recredential_months, r.letter_days)
        for r in CredentialingRule.objects.order_by("valid_from")
    ]


def rule_on(day: date) -> CredentialingRule:
    """The credentialing rules in force on ``day`` (seeded by a migration; versions never overlap)."""
    rule = pick_in_force(CredentialingRule.objects.all(), day)
    if rule is None:
        raise ValidationFailed.single(
            "decided_on", f"no credentialing rules are in force on {day.isoformat()}"
        )
    return rule


def required_elements(file: CredentialingFile, rule: CredentialingRule) -> list[ElementKind]:
    """The elements ``rule`` requires of ``file``: by its kind, board certification only if claimed, DEA or
    CDS only for a prescriber."""
    wanted = []
    for link in rule.elements.select_related("element").order_by("element__position"):
        if not (link.initial if file.kind == CredentialingFile.Kind.INITIAL else link.recredentialing):
            continue
        if link.condition == Condition.IF_BOARD_CLAIMED and not file.board_certification_claimed:
            continue
        if link.condition == Condition.IF_PRESCRIBES and not file.prescribes:
            continue
        wanted.append(link.element)
    return wanted


@dataclass(frozen=True)
class ChecklistRow:
    element: ElementKind
    item: engine.Item
    latest: Verification | None


@dataclass(frozen=True)
class Checklist:
    """A file judged on a committee date: one row per required element, and the verdict."""

    file: CredentialingFile
    on: date
    rule: CredentialingRule
    result: engine.Completeness
    rows: tuple[ChecklistRow, ...]

    @property
    def complete(self) -> bool:
        return self.result.complete

    @property
    def missing(self) -> tuple[ChecklistRow, ...]:
        return tuple(r for r in self.rows if r.item.state != engine.ItemState.OK)

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {"element": r.element.code, "state": str(r.item.state), "verification": r.latest.pk if r.latest else None,
             "verified_on": r.item.verified_on.isoformat() if r.item.verified_on else None,
             "age_days": r.item.age_days}
            for r in self.rows
        ]  # fmt: skip


def checklist(file: CredentialingFile, on: date) -> Checklist:
    """Judge ``file`` as if the committee decided on ``on`` (the rules in force that day; the file's own
    verifications made on or before it). No permission check: callers hold the file already."""
    rule = rule_on(on)
    elements = required_elements(file, rule)
    verifications = [v for v in file.verifications.all() if v.verified_on <= on]
    evidence: dict[str, list[engine.Evidence]] = defaultdict(list)
    latest: dict[str, Verification] = {}
    for v in sorted(verifications, key=lambda v: (v.verified_on, v.pk)):
        evidence[v.element.code].append(engine.Evidence(v.verified_on, v.counts, v.expires_on))
        latest[v.element.code] = v
    result = engine.completeness([e.code for e in elements], evidence, on, rule_versions())
    rows = tuple(
        ChecklistRow(e, item, latest.get(e.code)) for e, item in zip(elements, result.items, strict=True)
    )
    return Checklist(file, on, rule, result, rows)


# -- credentialing files: reads -----------------------------------------------------------------------------

FILE_STATUSES = ("in_progress", "complete", "decided")


def file_list(actor: Actor, status: str = "", on: date | None = None) -> list[tuple[CredentialingFile, str]]:
    """Files with their shown status: in progress, complete (open and complete on ``on``), decided."""
    require(actor, Perm.VIEW_CREDENTIALING)
    on = on or dt.date.today()
    files = CredentialingFile.objects.select_related("provider").order_by("-opened_on", "-id")
    if status == "decided":
        files = files.filter(status=CredentialingFile.Status.DECIDED)
    elif status in ("in_progress", "complete"):
        files = files.filter(status=CredentialingFile.Status.IN_PROGRESS)
    rows = []
    for f in files.prefetch_related("verifications__element"):
        shown = f.status
        if f.status == CredentialingFile.Status.IN_PROGRESS and checklist(f, on).complete:
            shown = "complete"
        if status and shown != status:
            continue
        rows.append((f, shown))
    return rows


def file_get(actor: Actor, file_id: int) -> CredentialingFile:
    require(actor, Perm.VIEW_CREDENTIALING)
    try:
        return CredentialingFile.objects.select_related("provider").get(pk=file_id)
    except CredentialingFile.DoesNotExist:
        raise NotFound(f"credentialing file {file_id}") from None


def verification_get(actor: Actor, verification_id: int) -> Verification:
    require(actor, Perm.VIEW_CREDENTIALING)
    try:
        return Verification.objects.select_related("file", "element").get(pk=verification_id)
    except Verification.DoesNotExist:
        raise NotFound(f"verification {verification_id}") from None


def decision_get(actor: Actor, decision_id: int) -> CommitteeDecision:
    require(actor, Perm.VIEW_CREDENTIALING)
    try:
        return CommitteeDecision.objects.select_related("file", "provider", "rule").get(pk=decision_id)
    except CommitteeDecision.DoesNotExist:
        raise NotFound(f"committee decision {decision_id}") from None


def committee_queue(actor: Actor, on: date) -> list[Checklist]:
    """Open files complete on ``on``, oldest first: what the committee can decide that day."""
    require(actor, Perm.VIEW_CREDENTIALING)
    files = (
        CredentialingFile.objects.filter(status=CredentialingFile.Status.IN_PROGRESS)
        .select_related("provider")
        .prefetch_related("verifications__element")
        .order_by("opened_on", "id")
    )
    return [c for c in (checklist(f, on) for f in files) if c.complete]


def excluded_on_or_after(provider_id: int, on: date) -> Exclusion | None:
    """A confirmed exclusion of the provider in force on ``on`` or starting later."""
    return (
        Exclusion.objects.filter(provider_id=provider_id)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("valid_from")
        .first()
    )


def letters_pending(actor: Actor) -> QuerySet[CommitteeDecision]:
    require(actor, Perm.VIEW_CREDENTIALING)
    return (
        CommitteeDecision.objects.exclude(decision=CommitteeDecision.Decision.DEFER)
        .filter(letter_sent_on__isnull=True)
        .select_related("provider", "file")
        .order_by("letter_due", "id")
    )


# -- the credentialed network (claims) and recredentialing --------------------------------------------------


def _latest_final(on: date) -> dict[int, CommitteeDecision]:
    """Each provider's latest final decision (approve, approve with conditions, deny) on or before ``on``."""
    latest: dict[int, CommitteeDecision] = {}
    decisions = (
        CommitteeDecision.objects.filter(decided_on__lte=on)
        .exclude(decision=CommitteeDecision.Decision.DEFER)
        .select_related("provider")
        .order_by("decided_on", "id")
    )
    for d in decisions:
        latest[d.provider_id] = d
    return latest


def credentialed_npis(on: date) -> set[str]:
    """NPIs of providers whose latest committee decision on or before ``on`` (deferrals aside) is approve or
    approve with conditions and whose recredentialing is not overdue on ``on`` (the due date itself still
    counts). A system read for claims adjudication; exclusions are a separate read (`excluded_npis`)."""
    return {
        d.provider.npi
        for d in _latest_final(on).values()
        if d.approved and d.recredential_due is not None and not engine.overdue(d.recredential_due, on)
    }


@dataclass(frozen=True)
class RecredentialingDue:
    provider: Provider
    decision: CommitteeDecision
    due: date
    days_left: int
    open_file: CredentialingFile | None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def recredentialing_due(actor: Actor, today: date, within_days: int = 180) -> list[RecredentialingDue]:
    """Providers approved whose recredentialing is due within ``within_days`` or overdue, soonest first."""
    require(actor, Perm.VIEW_CREDENTIALING)
    open_files = {
        f.provider_id: f
        for f in CredentialingFile.objects.filter(status=CredentialingFile.Status.IN_PROGRESS)
    }
    rows = []
    for d in _latest_final(today).values():
        if not d.approved or d.recredential_due is None:
            continue
        left = (d.recredential_due - today).days
        if left <= within_days:
            rows.append(
                RecredentialingDue(d.provider, d, d.recredential_due, left, open_files.get(d.provider_id))
            )
    return sorted(rows, key=lambda r: (r.due, r.provider.pk))


# -- expirables ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expirable:
    provider: Provider
    verification: Verification
    bucket: str
    days_left: int


def expirables(actor: Actor, today: date) -> list[Expirable]:
    """Each provider's latest verification of each expiring element (license, DEA, board, insurance) that
    has expired or expires within 90 days, soonest first. Only providers on file with a final decision or an
    open file are followed."""
    require(actor, Perm.VIEW_CREDENTIALING)
    latest: dict[tuple[int, int], Verification] = {}
    for v in (
        Verification.objects.filter(element__expires=True, expires_on__isnull=False)
        .exclude(result=Verification.Result.UNABLE)
        .select_related("file__provider", "element")
        .order_by("verified_on", "id")
    ):
        latest[(v.file.provider_id, v.element_id)] = v
    denied = {p for p, d in _latest_final(today).items() if not d.approved}
    rows = []
    for (provider_id, _element), v in latest.items():
        if provider_id in denied or v.expires_on is None:
            continue
        label = engine.bucket(v.expires_on, today)
        if label is not None:
            rows.append(Expirable(v.file.provider, v, label, (v.expires_on - today).days))
    return sorted(rows, key=lambda r: (r.days_left, r.provider.pk))


# -- delegation: rosters per payer --------------------------------------------------------------------------


def payers(actor: Actor) -> QuerySet[Payer]:
    require(actor, Perm.VIEW_CREDENTIALING)
    return Payer.objects.order_by("code")


def payer_get(actor: Actor, payer_id: int) -> Payer:
    require(actor, Perm.VIEW_CREDENTIALING)
    try:
        return Payer.objects.get(pk=payer_id)
    except Payer.DoesNotExist:
        raise NotFound(f"payer {payer_id}") from None


def _in_force(on: date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def payer_providers(payer: Payer, on: date) -> set[int]:
    """Providers practising on ``on`` at a practice that takes part in one of the payer's contracts then."""
    practices = set(
        ContractParticipation.objects.filter(_in_force(on), contract__payer=payer).values_list(
            "agreement__practice_id", flat=True
        )
    )
    return set(
        Affiliation.objects.filter(_in_force(on), practice_id__in=practices).values_list(
            "provider_id", flat=True
        )
    )


ROSTER_COLUMNS = ("change", "npi", "last_name", "first_name", "degree", "specialty", "taxonomy",
                  "practices", "credentialed_on", "decision", "recredential_due", "reason")  # fmt: skip


def roster_on(payer: Payer, on: date) -> dict[int, CommitteeDecision]:
    """The payer's delegated roster on ``on``: its providers credentialed that day, with their decision."""
    ids = payer_providers(payer, on)
    return {
        p: d
        for p, d in _latest_final(on).items()
        if p in ids
        and d.approved
        and d.recredential_due is not None
        and not engine.overdue(d.recredential_due, on)
    }


def roster_changes(actor: Actor, payer: Payer, start: date, end: date) -> list[dict[str, str]]:
    """Adds (on the roster at ``end``, not at ``start``), terms (the reverse, with the reason) and changes (on
    both, recredentialed or their record changed between the dates), as CSV rows (ROSTER_COLUMNS)."""
    require(actor, Perm.VIEW_CREDENTIALING)
    if end < start:
        raise ValidationFailed.single("end", "the end date is before the start date")
    before, after = roster_on(payer, start), roster_on(payer, end)
    providers = Provider.objects.in_bulk(set(before) | set(after))
    practices: dict[int, set[str]] = defaultdict(set)
    for provider_id, name in Affiliation.objects.filter(
        _in_force(end) | _in_force(start), provider_id__in=providers
    ).values_list("provider_id", "practice__legal_name"):
        practices[provider_id].add(name)
    ended = _latest_final(end)
    excluded = {e.provider_id for e in Exclusion.objects.filter(_in_force(end), provider_id__in=before)}
    on_payer = payer_providers(payer, end)
    rows: list[dict[str, str]] = []

    def row(change: str, p: Provider, d: CommitteeDecision, reason: str) -> dict[str, str]:
        return {"change": change, "npi": p.npi, "last_name": p.last_name, "first_name": p.first_name,
                "degree": p.degree, "specialty": p.specialty, "taxonomy": p.taxonomy_code,
                "practices": "; ".join(sorted(practices[p.pk])), "credentialed_on": d.decided_on.isoformat(),
                "decision": d.decision,
                "recredential_due": d.recredential_due.isoformat() if d.recredential_due else "",
                "reason": reason}  # fmt: skip

    for pid in sorted(set(after) - set(before), key=lambda i: providers[i].npi):
        d = after[pid]
        rows.append(
            row("add", providers[pid], d, f"{d.file.get_kind_display().lower()} approved {d.decided_on}")
        )
    for pid in sorted(set(before) - set(after), key=lambda i: providers[i].npi):
        d = ended.get(pid, before[pid])
        if pid in excluded:
            reason = "excluded"
        elif not d.approved:
            reason = f"denied {d.decided_on}"
        elif pid not in on_payer:
            reason = "left the payer's practices"
        else:
            reason = f"recredentialing overdue since {before[pid].recredential_due}"
        rows.append(row("term", providers[pid], d, reason))
    for pid in sorted(set(before) & set(after), key=lambda i: providers[i].npi):
        d, p = after[pid], providers[pid]
        if d.pk != before[pid].pk:
            rows.append(row("change", p, d, f"recredentialed {d.decided_on}"))
        elif start < p.updated_at.date() <= end:
            rows.append(row("change", p, d, f"provider record changed {p.updated_at.date()}"))
    return rows


@dataclass(frozen=True)
class DelegationReport:
    """The semiannual delegation report of one payer's delegated credentialing over a period."""

    payer: Payer
    start: date
    end: date
    initial_decided: int
    initial_approved: int
    recred_decided: int
    recred_on_time: int
    denied: int
    letters_due: int
    letters_on_time: int
    expirables_due: int
    expirables_renewed: int
    roster_start: int
    roster_end: int

    @property
    def recred_on_time_percent(self) -> str:
        return self.percent(self.recred_on_time, self.recred_decided)

    @property
    def letters_on_time_percent(self) -> str:
        return self.percent(self.letters_on_time, self.letters_due)

    @staticmethod
    def percent(part: int, whole: int) -> str:
        return f"{100 * part / whole:.1f}" if whole else ""

    def rows(self) -> list[tuple[str, str]]:
        p = self.percent
        return [
            ("payer", self.payer.code),
            ("period_start", self.start.isoformat()),
            ("period_end", self.end.isoformat()),
            ("roster_at_start", str(self.roster_start)),
            ("roster_at_end", str(self.roster_end)),
            ("initial_files_decided", str(self.initial_decided)),
            ("initial_files_approved", str(self.initial_approved)),
            ("recredentialing_files_decided", str(self.recred_decided)),
            ("recredentialing_on_time", str(self.recred_on_time)),
            ("recredentialing_on_time_percent", p(self.recred_on_time, self.recred_decided)),
            ("denied", str(self.denied)),
            ("letters_due", str(self.letters_due)),
            ("letters_on_time", str(self.letters_on_time)),
            ("letters_on_time_percent", p(self.letters_on_time, self.letters_due)),
            ("expirables_expiring", str(self.expirables_due)),
            ("expirables_renewed_in_time", str(self.expirables_renewed)),
            ("expirables_renewed_percent", p(self.expirables_renewed, self.expirables_due)),
        ]


def half_year(day: date) -> tuple[date, date]:
    """The half year (January-June or July-December) holding ``day``."""
    if day.month <= 6:
        return dt.date(day.year, 1, 1), dt.date(day.year, 6, 30)
    return dt.date(day.year, 7, 1), dt.date(day.year, 12, 31)


def delegation_report(actor: Actor, payer: Payer, start: date, end: date) -> DelegationReport:
    """Counts over [start, end] for the payer's providers (on its roster or its practices at any point):

    - files decided in the period, initial and recredentialing; a recredentialing is on time when decided on
      or before the previous approval's due date;
    - letters: decisions whose letter fell due in the period (or earlier, still unsent at its end); on time
      when sent on or before the due date;
    - expirables: latest verifications whose credential expired in the period; renewed in time when a newer
      verification of the same element, made on or before the expiry, shows a later expiry."""
    require(actor, Perm.VIEW_CREDENTIALING)
    if end < start:
        raise ValidationFailed.single("end", "the end date is before the start date")
    scope = payer_providers(payer, start) | payer_providers(payer, end)
    scope |= set(roster_on(payer, start)) | set(roster_on(payer, end))
    decisions = list(
        CommitteeDecision.objects.filter(provider_id__in=scope, decided_on__range=(start, end))
        .exclude(decision=CommitteeDecision.Decision.DEFER)
        .select_related("file")
    )
    initial = [d for d in decisions if d.file.kind == CredentialingFile.Kind.INITIAL]
    recred = [d for d in decisions if d.file.kind == CredentialingFile.Kind.RECREDENTIALING]
    on_time = 0
    for d in recred:
        previous = (
            CommitteeDecision.objects.filter(provider_id=d.provider_id, decided_on__lt=d.decided_on)
            .filter(
                decision__in=[
                    CommitteeDecision.Decision.APPROVE,
                    CommitteeDecision.Decision.APPROVE_CONDITIONS,
                ]
            )
            .order_by("-decided_on", "-id")
            .first()
        )
        if previous is None or previous.recredential_due is None or d.decided_on <= previous.recredential_due:
            on_time += 1
    letters = list(
        CommitteeDecision.objects.filter(provider_id__in=scope, letter_due__lte=end)
        .filter(Q(letter_due__gte=start) | Q(letter_sent_on__isnull=True) | Q(letter_sent_on__gt=end))
        .exclude(decision=CommitteeDecision.Decision.DEFER)
    )
    letters_on_time = sum(
        1
        for d in letters
        if d.letter_sent_on is not None and d.letter_due and d.letter_sent_on <= d.letter_due
    )
    expiring = 0
    renewed = 0
    verifications = list(
        Verification.objects.filter(
            file__provider_id__in=scope, element__expires=True, expires_on__isnull=False
        )
        .exclude(result=Verification.Result.UNABLE)
        .values_list("file__provider_id", "element_id", "verified_on", "expires_on")
    )
    by_key: dict[tuple[int, int], list[tuple[date, date]]] = defaultdict(list)
    for provider_id, element_id, verified_on, expires_on in verifications:
        if expires_on is None:
            continue
        by_key[(provider_id, element_id)].append((verified_on, expires_on))
    for spans in by_key.values():
        for verified_on, expires_on in spans:
            if not start <= expires_on <= end:
                continue
            expiring += 1
            if any(v2 <= expires_on and e2 > expires_on and v2 >= verified_on for v2, e2 in spans):
                renewed += 1
    return DelegationReport(
        payer=payer, start=start, end=end,
        initial_decided=len(initial), initial_approved=sum(d.approved for d in initial),
        recred_decided=len(recred), recred_on_time=on_time,
        denied=sum(d.decision == CommitteeDecision.Decision.DENY for d in decisions),
        letters_due=len(letters), letters_on_time=letters_on_time,
        expirables_due=expiring, expirables_renewed=renewed,
        roster_start=len(roster_on(payer, start)), roster_end=len(roster_on(payer, end)),
    )  # fmt: skip


def file_counts(on: date) -> dict[str, int]:
    """Counts for `openipa credentialing status`: files by shown status, recredentialing overdue, letters late,
    providers credentialed (a system read for the command)."""
    counts = {"in_progress": 0, "complete": 0, "decided": 0}
    for f in CredentialingFile.objects.prefetch_related("verifications__element"):
        if f.status == CredentialingFile.Status.DECIDED:
            counts["decided"] += 1
        elif checklist(f, on).complete:
            counts["complete"] += 1
        else:
            counts["in_progress"] += 1
    latest = _latest_final(on).values()
    counts["credentialed"] = len(credentialed_npis(on))
    counts["recredentialing_overdue"] = sum(
        1
        for d in latest
        if d.approved and d.recredential_due is not None and engine.overdue(d.recredential_due, on)
    )
    counts["letters_late"] = (
        CommitteeDecision.objects.exclude(decision=CommitteeDecision.Decision.DEFER)
        .filter(letter_sent_on__isnull=True, letter_due__lt=on)
        .count()
    )
    return counts
