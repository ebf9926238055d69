"""Reads of risk runs. The pages need VIEW_CLINICAL (scores and diagnoses are clinical data); a practice-scoped
actor sees only the members whose PCP (on February 1 of the payment year) is at its practice. Member-level
reads (a page of scores, a member's diagnoses, coding gaps, their CSV) are audit-logged; the run list, the mean
RAF per practice and the distribution are aggregates.

Batch lookups for other apps (no actor: their callers check their own permission and record what they hand
out): ``latest_approved_run(year)`` and ``approved_payment_rafs(year)`` -- the member_id -> raf_milli frame
capitation distributes with (ADR 0016).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db.models import Avg, Count, Q, QuerySet

from openipa.core import audit
from openipa.core.errors import NotFound
from openipa.core.frames import query_frame
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.risk.gaps import hcc_labels
from openipa.risk.models import CodingGap, MemberScore, RiskRun, ScoreDiagnosis

DISTRIBUTION = ((0, 500), (500, 750), (750, 1000), (1000, 1500), (1500, 2000), (2000, 3000), (3000, None))
"""Payment RAF buckets in thousandths: [from, to)."""


def _require_viewer(actor: Actor) -> None:
    require(actor, Perm.VIEW_GAPS)


def can_approve(actor: Actor, run: RiskRun) -> bool:
    return (
        has_perm(actor, Perm.EDIT_CLINICAL)
        and not is_practice_scoped(actor)
        and run.status == RiskRun.Status.DRAFT
        and not run.raw_only
        and run.prepared_by != actor.username
    )


def _scoped(actor: Actor, qs: QuerySet[Any]) -> QuerySet[Any]:
    if is_practice_scoped(actor):
        return qs.filter(practice_id=scoped_practice_id(actor))
    return qs


def run_list(actor: Actor) -> list[RiskRun]:
    """Every run (counts and means only)."""
    _require_viewer(actor)
    return list(RiskRun.objects.order_by("-payment_year", "-pk")[:100])


def run_get(actor: Actor, run_id: int) -> RiskRun:
    _require_viewer(actor)
    try:
        return RiskRun.objects.get(pk=run_id)
    except RiskRun.DoesNotExist:
        raise NotFound(f"risk run {run_id}") from None


def latest_run(actor: Actor) -> RiskRun | None:
    _require_viewer(actor)
    return RiskRun.objects.order_by("-payment_year", "-pk").first()


@dataclass(frozen=True)
class PracticeMean:
    practice_id: int | None
    name: str
    members: int
    mean_payment_raf_milli: int


def practice_means(actor: Actor, run: RiskRun) -> list[PracticeMean]:
    """Members and mean payment RAF (raw RAF of a raw-only run) per PCP practice of a run (a practice user: its
    own)."""
    _require_viewer(actor)
    rows = (
        _scoped(actor, MemberScore.objects.filter(run=run))
        .values("practice_id", "practice__legal_name")
        .annotate(n=Count("pk"), mean=Avg(run.rank_field))
        .order_by("practice__legal_name", "practice_id")
    )
    return [
        PracticeMean(r["practice_id"], r["practice__legal_name"] or "no PCP", r["n"], round(r["mean"] or 0))
        for r in rows
    ]


MODEL_LABELS = {
    "V28": "CMS-HCC V28",
    "V24": "CMS-HCC V24",
    "ESRDV24": "ESRD V24 (dialysis, functioning graft, kidney transplant)",
}
_ESRD_SEGMENTS = {
    "DI": "dialysis", "DNE": "dialysis, new enrollee", "GI": "functioning graft, institutional",
    "GNE": "functioning graft, new enrollee", "GFA": "functioning graft, community, full dual, 65+",
    "GFN": "functioning graft, community, full dual, under 65",
    "GNPA": "functioning graft, community, not full dual, 65+",
    "GNPN": "functioning graft, community, not full dual, under 65",
}  # fmt: skip


def esrd_segment_label(segment: str) -> str:
    """What an ESRD model segment means ("" for another model's segment)."""
    month = segment.removeprefix("TRANSPLANT_KIDNEY_ONLY_").removesuffix("M")
    if segment.startswith("TRANSPLANT_KIDNEY_ONLY_") and segment.endswith("M") and month.isdigit():
        return f"kidney transplant, month {month}"
    return _ESRD_SEGMENTS.get(segment, "")


def members_by_model(actor: Actor, run: RiskRun) -> list[tuple[str, str, int]]:
    """(model, its label, members) of a run's scores (a practice user: its own members), the run's model first.
    A score stored before scores had a model counts under the run's."""
    _require_viewer(actor)
    rows = (
        _scoped(actor, MemberScore.objects.filter(run=run)).order_by().values("model").annotate(n=Count("pk"))
    )
    counts: dict[str, int] = {}
    for r in rows:
        model = r["model"] or run.model
        counts[model] = counts.get(model, 0) + r["n"]
    order = sorted(counts, key=lambda m: (m != run.model, m))
    return [(m, MODEL_LABELS.get(m, m), counts[m]) for m in order]


def distribution(actor: Actor, run: RiskRun) -> list[tuple[str, int]]:
    """Members per payment RAF bucket (raw RAF of a raw-only run): (label, count)."""
    _require_viewer(actor)
    qs = _scoped(actor, MemberScore.objects.filter(run=run))
    aggregates = {}
    for i, (low, high) in enumerate(DISTRIBUTION):
        condition = Q(**{f"{run.rank_field}__gte": low}) & (
            Q() if high is None else Q(**{f"{run.rank_field}__lt": high})
        )
        aggregates[f"b{i}"] = Count("pk", filter=condition)
    counts = qs.aggregate(**aggregates)
    labels = [
        f"{low / 1000:.2f}-{high / 1000:.2f}" if high else f"{low / 1000:.2f}+" for low, high in DISTRIBUTION
    ]
    return [(label, counts[f"b{i}"]) for i, label in enumerate(labels)]


def top_hccs(run: RiskRun, limit: int = 10) -> list[tuple[str, str, int]]:
    """The run's most frequent HCCs (hcc, label, members): an aggregate."""
    counts: dict[str, int] = defaultdict(int)
    for hccs in MemberScore.objects.filter(run=run).values_list("hccs", flat=True).iterator(chunk_size=5000):
        for hcc in hccs or ():
            counts[hcc] += 1
    labels = hcc_labels(run.model)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], int(kv[0]) if kv[0].isdigit() else 0))
    return [(hcc, labels.get(hcc, ""), n) for hcc, n in ranked[:limit]]


def score_page(
    actor: Actor, run: RiskRun, *, page: int | str | None = 1, practice_id: int | None = None, hcc: str = "",
    purpose: str,
) -> Page[MemberScore]:  # fmt: skip
    """One page of a run's scores (highest payment RAF first); the members on it are recorded as read."""
    _require_viewer(actor)
    qs = _scoped(actor, MemberScore.objects.filter(run=run)).select_related("member", "practice", "provider")
    if practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    if hcc:
        qs = qs.filter(pk__in=ScoreDiagnosis.objects.filter(score__run=run, hcc=hcc).values("score_id"))
    result = paginate(qs.order_by(f"-{run.rank_field}", "member_id"), page, 50)
    audit.record_read(actor, object_type="risk.memberscore", action="list",
                      member_ids=[s.member_id for s in result.items], purpose=purpose)  # fmt: skip
    return result


@dataclass
class HccDetail:
    hcc: str
    label: str
    diagnoses: list[ScoreDiagnosis] = field(default_factory=list)


@dataclass(frozen=True)
class ScoreDetail:
    score: MemberScore
    hccs: list[HccDetail]
    gaps: list[CodingGap]


def score_detail(actor: Actor, run: RiskRun, member_id: int, *, purpose: str) -> ScoreDetail:
    """A member's score in a run with the diagnoses behind each HCC (source record and date) and the member's
    coding gaps; recorded as read. NotFound outside the actor's scope."""
    _require_viewer(actor)
    try:
        found = (
            _scoped(actor, MemberScore.objects.filter(run=run))
            .select_related("member", "practice", "provider")
            .get(member_id=member_id)
        )
    except MemberScore.DoesNotExist:
        raise NotFound(f"member {member_id} in risk run {run.pk}") from None
    labels = hcc_labels(run.model)
    by_hcc = {h: HccDetail(h, labels.get(h, "")) for h in found.hccs}
    for d in ScoreDiagnosis.objects.filter(score=found).order_by("hcc", "service_date", "diagnosis_code"):
        by_hcc.setdefault(d.hcc, HccDetail(d.hcc, labels.get(d.hcc, ""))).diagnoses.append(d)
    member_gaps = list(CodingGap.objects.filter(run=run, member_id=member_id).order_by("kind", "hcc"))
    audit.record_read(actor, object_type="risk.memberscore", object_id=str(found.pk), member_ids=[member_id],
                      purpose=purpose)  # fmt: skip
    return ScoreDetail(found, list(by_hcc.values()), member_gaps)


# -- coding gaps ----------------------------------------------------------------------------------------------


def _gaps(
    actor: Actor, run: RiskRun, *, practice_id: int | None, provider_id: int | None, kind: str, hcc: str
) -> QuerySet[CodingGap]:
    qs = _scoped(actor, CodingGap.objects.filter(run=run)).select_related("member", "practice", "provider")
    if practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if kind:
        qs = qs.filter(kind=kind)
    if hcc:
        qs = qs.filter(hcc=hcc)
    return qs.order_by("practice__legal_name", "provider__last_name", "provider_id", "member__last_name",
                       "member_id", "kind", "hcc")  # fmt: skip


def gap_filters(actor: Actor, run: RiskRun) -> dict[str, list[tuple[Any, str]]]:
    """The practices and PCPs of a run's members and the HCCs its gaps name (within the actor's scope), for the
    filter form."""
    _require_viewer(actor)
    qs = _scoped(actor, MemberScore.objects.filter(run=run)).order_by()  # no ordering columns in the DISTINCT
    practices = qs.exclude(practice=None).values_list("practice_id", "practice__legal_name").distinct()
    providers = (
        qs.exclude(provider=None)
        .values_list("provider_id", "provider__last_name", "provider__first_name", "provider__npi")
        .distinct()
    )
    gap_hccs = (
        _scoped(actor, CodingGap.objects.filter(run=run)).order_by().values_list("hcc", flat=True).distinct()
    )
    hccs = sorted(set(gap_hccs), key=lambda h: int(h) if h.isdigit() else 0)
    labels = hcc_labels(run.model)
    return {
        "practices": sorted(((p, n) for p, n in practices), key=lambda x: x[1]),
        "providers": sorted(
            ((p, f"{last}, {first} ({npi})") for p, last, first, npi in providers), key=lambda x: x[1]
        ),
        "hccs": [(h, f"{h} {labels.get(h, '')}".strip()) for h in hccs],
    }


@dataclass(frozen=True)
class PcpGaps:
    provider: str
    practice: str
    gaps: list[CodingGap]


def gap_page(
    actor: Actor, run: RiskRun, *, page: int | str | None = 1, practice_id: int | None = None,
    provider_id: int | None = None, kind: str = "", hcc: str = "", purpose: str,
) -> tuple[Page[CodingGap], list[PcpGaps]]:  # fmt: skip
    """One page of a run's coding gaps, ordered by practice and PCP, and the page's gaps grouped per PCP; the
    members on it are recorded as read."""
    _require_viewer(actor)
    qs = _gaps(actor, run, practice_id=practice_id, provider_id=provider_id, kind=kind, hcc=hcc)
    result = paginate(qs, page, 100)
    audit.record_read(actor, object_type="risk.codinggap", action="list",
                      member_ids=[g.member_id for g in result.items], purpose=purpose)  # fmt: skip
    groups: list[PcpGaps] = []
    for gap in result.items:
        provider = str(gap.provider) if gap.provider else "no PCP"
        practice = gap.practice.legal_name if gap.practice else ""
        if not groups or (groups[-1].provider, groups[-1].practice) != (provider, practice):
            groups.append(PcpGaps(provider, practice, []))
        groups[-1].gaps.append(gap)
    return result, groups


GAP_CSV_HEADER = ("run_id", "payment_year", "practice", "pcp_npi", "pcp", "member_id", "payer_member_id",
                  "member", "kind", "hcc", "hcc_label", "rule", "reason", "evidence")  # fmt: skip


def gap_export_rows(
    actor: Actor, run: RiskRun, *, practice_id: int | None = None, provider_id: int | None = None,
    kind: str = "", hcc: str = "", purpose: str,
) -> Iterator[tuple[object, ...]]:  # fmt: skip
    """Rows of the coding-gap CSV (after GAP_CSV_HEADER). The whole export is recorded as one read listing every
    member in it, before the first row is handed out."""
    _require_viewer(actor)
    gaps = list(_gaps(actor, run, practice_id=practice_id, provider_id=provider_id, kind=kind, hcc=hcc))
    audit.record_read(actor, object_type="risk.codinggap", action="export",
                      member_ids=[g.member_id for g in gaps], purpose=purpose)  # fmt: skip
    labels = hcc_labels(run.model)
    yield GAP_CSV_HEADER
    for g in gaps:
        evidence = "; ".join(
            " ".join(str(e.get(k) or "") for k in ("source", "code", "date", "value")).strip()
            for e in g.evidence
        )
        yield (run.pk, run.payment_year, g.practice.legal_name if g.practice else "",
               g.provider.npi if g.provider else "", str(g.provider) if g.provider else "", g.member_id,
               g.member.payer_member_id, f"{g.member.last_name}, {g.member.first_name}", g.kind, g.hcc,
               labels.get(g.hcc, ""), g.rule, g.reason, evidence)  # fmt: skip


# -- for capitation and the performance watch (batch lookups, no actor) -----------------------------------------


def latest_approved_run(payment_year: int) -> RiskRun | None:
    """The latest approved run of a payment year (any model), or None."""
    return (
        RiskRun.objects.filter(payment_year=payment_year, status=RiskRun.Status.APPROVED)
        .order_by("-approved_at", "-pk")
        .first()
    )


APPROVED_RAF_SCHEMA: dict[str, type[pl.DataType]] = {
    "member_id": pl.Int64,
    "raf_milli": pl.Int64,
    "run_id": pl.Int64,
}


def approved_payment_rafs(payment_year: int) -> pl.DataFrame:
    """member_id -> raf_milli (the payment RAF, thousandths) of the latest approved run of ``payment_year``, with
    its run_id; empty (APPROVED_RAF_SCHEMA) when the year has no approved run."""
    run = latest_approved_run(payment_year)
    if run is None:
        return pl.DataFrame(schema=APPROVED_RAF_SCHEMA)
    return query_frame(
        MemberScore.objects.filter(run=run),
        {"member_id": ("member_id", pl.Int64), "raf_milli": ("payment_raf_milli", pl.Int64)},
    ).with_columns(pl.lit(run.pk, dtype=pl.Int64).alias("run_id"))
