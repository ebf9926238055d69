"""Credentialing writes. Exclusion screening:

    screen(actor=..., leie_path=Path("UPDATED.csv"), sam_path=None)  ->  ScreeningRun

1. Each list file is read whole (`engine.screening`). A file not in its list's layout (header columns missing)
   refuses the screening: ValidationFailed naming the file and the columns, nothing stored or written.
   Malformed rows are rejected one by one (kept on the list's import record with their line numbers) and the
   rest is screened.
2. Every provider of the network is matched against the entries in force with the policy in force on the
   screening day (thresholds and weights are effective-dated rows).
3. One transaction: the files' import records (the files kept under var/imports/exclusions/), the run, one
   alert (ScreeningHit) per new match (a match already raised by an earlier run, whatever its review, is not
   raised again), and the audit event.

    review_hit(actor=..., hit=hit, decision="confirmed" | "dismissed", note="...")

closes an open alert; a note is required. Confirming records the provider's exclusion from the list's
exclusion date (read by claims through `selectors.excluded_npis`). Audited with before and after.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.core import audit
from openipa.core.errors import ValidationFailed
from openipa.core.intake import printable, relative_to_var, store_file
from openipa.core.roles import Actor, Perm, require
from openipa.credentialing import selectors
from openipa.credentialing.engine.screening import (
    ENTRY_SCHEMA,
    ExclusionList,
    LayoutError,
    match_providers,
    providers_frame,
    read_leie,
    read_sam,
)
from openipa.credentialing.models import (
    Exclusion,
    ExclusionListImport,
    ExclusionSource,
    ScreeningHit,
    ScreeningRun,
)

Progress = Callable[[str, int, int | None], None]
"""progress(phase, done, total or None)."""

MAX_REJECTED_LISTED = 1000
INTAKE_KIND = "exclusions"


def _read(
    source: str, path: Path, name: str, day: dt.date, progress: Progress | None
) -> tuple[ExclusionList, bytes]:
    if not path.is_file():
        raise ValidationFailed.single(source, f"no such file: {path}")
    data = path.read_bytes()
    reader = read_leie if source == ExclusionSource.LEIE else read_sam
    try:
        parsed = reader(data, name, today=day, progress=progress)
    except LayoutError as exc:
        raise ValidationFailed.single(source, f"{exc}; nothing was screened") from None
    if progress is not None:
        progress(f"read {source.upper()}", parsed.rows, parsed.rows)
    return parsed, data


def screen(
    *,
    actor: Actor | None,
    leie_path: Path,
    leie_name: str | None = None,
    sam_path: Path | None = None,
    sam_name: str | None = None,
    today: dt.date | None = None,
    run_by: str = "",
    progress: Progress | None = None,
) -> ScreeningRun:
    """Screen every provider against the LEIE file (and a SAM extract). Returns the run."""
    if actor is not None:
        require(actor, Perm.EDIT_CREDENTIALING)
    started = time.perf_counter()
    day = today or timezone.localdate()
    policy = selectors.policy_on(day)
    lists: list[tuple[ExclusionList, Path]] = []
    leie, _ = _read(ExclusionSource.LEIE, leie_path, leie_name or leie_path.name, day, progress)
    lists.append((leie, leie_path))
    if sam_path is not None:
        sam, _ = _read(ExclusionSource.SAM, sam_path, sam_name or sam_path.name, day, progress)
        lists.append((sam, sam_path))
    providers = providers_frame(selectors.providers_to_screen())
    entries = (
        pl.concat([parsed.entries for parsed, _ in lists]) if lists else pl.DataFrame(schema=ENTRY_SCHEMA)
    )
    matches = match_providers(providers, entries, selectors.match_policy(policy), progress)
    who_id = actor.pk if actor is not None and isinstance(actor.pk, int) else None
    who = (run_by or (actor.username if actor is not None else "") or "system")[:150]
    stored = [(parsed, store_file(path, parsed.file_name, INTAKE_KIND)) for parsed, path in lists]
    if progress is not None:
        progress("save", 0, matches.height)
    with transaction.atomic():
        imports: dict[str, ExclusionListImport] = {}
        for parsed, (sha, size, target) in stored:
            imports[parsed.source] = ExclusionListImport.objects.create(
                source=parsed.source,
                file_name=printable(parsed.file_name)[:255],
                sha256=sha,
                size_bytes=size,
                stored_path=relative_to_var(target),
                rows=parsed.rows,
                entries=parsed.entries.height,
                not_in_force=parsed.not_in_force,
                rejected_rows=[
                    {"row": r.row, "message": printable(r.message)}
                    for r in parsed.rejected[:MAX_REJECTED_LISTED]
                ],
                rejected_count=len(parsed.rejected),
                imported_by_id=who_id,
                imported_by=who,
            )
        run = ScreeningRun.objects.create(
            screened_on=day,
            leie_import=imports.get(ExclusionSource.LEIE),
            sam_import=imports.get(ExclusionSource.SAM),
            lists=[parsed.source for parsed, _ in lists],
            policy=policy,
            threshold=policy.threshold,
            name_only_threshold=policy.name_only_threshold,
            providers_screened=providers.height,
            rejected_rows=sum(len(parsed.rejected) for parsed, _ in lists),
            run_by_id=who_id,
            run_by=who,
        )
        found, new = _raise_alerts(run, matches)
        run.found = found
        run.matches = len(found)
        run.new_alerts = new
        run.seconds = time.perf_counter() - started
        run.save(update_fields=["found", "matches", "new_alerts", "seconds"])
        audit.record_write(
            actor, "credentialing.screen", run,
            after={"lists": run.lists, "providers_screened": run.providers_screened, "matches": run.matches,
                   "new_alerts": new, "rejected_rows": run.rejected_rows, "threshold": str(run.threshold),
                   "files": {s: i.sha256 for s, i in imports.items()}},
        )  # fmt: skip
    if progress is not None:
        progress("save", matches.height, matches.height)
    return run


def _raise_alerts(run: ScreeningRun, matches: pl.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """One alert per new (provider, list entry); returns the run's `found` list and the number of new alerts."""
    rows = matches.to_dicts()
    provider_ids = {int(r["provider_id"]) for r in rows}
    known: dict[tuple[int, str, str], int] = {
        (p, s, k): pk
        for pk, p, s, k in ScreeningHit.objects.filter(provider_id__in=provider_ids).values_list(
            "pk", "provider_id", "source", "row_key"
        )
    }
    seen: set[tuple[int, str, str]] = set()
    fresh: list[tuple[dict[str, Any], ScreeningHit]] = []
    found: list[dict[str, Any]] = []
    for r in rows:
        key = (int(r["provider_id"]), str(r["source"]), str(r["row_key"]))
        if key in seen:  # the same entry twice in a file: one alert
            continue
        seen.add(key)
        item = {"npi": r["npi"], "provider_id": key[0], "score": float(r["score"]), "source": key[1],
                "kind": r["kind"], "row": int(r["row"]), "hit": known.get(key)}  # fmt: skip
        found.append(item)
        if key in known:
            continue
        fresh.append(
            (
                item,
                ScreeningHit(
                    run=run,
                    provider_id=key[0],
                    source=key[1],
                    row_key=key[2],
                    row_number=int(r["row"]),
                    matched=_fields(r["fields"]),
                    matched_name=printable(str(r["name"] or ""))[:300],
                    match_kind=r["kind"],
                    score=round(float(r["score"]), 1),
                    exclusion_date=r["exclusion_date"],
                    exclusion_type=printable(str(r["exclusion_type"] or ""))[:100],
                ),
            )
        )
    created = ScreeningHit.objects.bulk_create([hit for _item, hit in fresh])
    for (item, _hit), saved in zip(fresh, created, strict=True):
        item["hit"] = saved.pk
    return found, len(created)


def _fields(text: object) -> dict[str, str]:
    raw = json.loads(str(text)) if text else {}
    return {printable(str(k)): printable(str(v)) for k, v in raw.items()}


def result_json(run: ScreeningRun) -> dict[str, Any]:
    """The run as `openipa credentialing screen --json` prints it: providers screened, every match (NPI,
    provider id, score) and the rejected rows with their line numbers (the file name leads each message)."""
    rejected: list[dict[str, Any]] = []
    for record in (run.leie_import, run.sam_import):
        if record is None:
            continue
        rejected.extend(
            {"row": int(r["row"]), "message": f"{record.file_name}: {r['message']}"}
            for r in record.rejected_rows
        )
    return {
        "screened": run.providers_screened,
        "hits": [{"npi": f["npi"], "provider_id": f["provider_id"], "score": f["score"]} for f in run.found],
        "rejected_rows": rejected,
    }


# -- review -------------------------------------------------------------------------------------------------

_DECISIONS = {ScreeningHit.Status.CONFIRMED, ScreeningHit.Status.DISMISSED}
_REVIEW_FIELDS = ("status", "reviewer", "reviewed_at", "note")


def review_hit(*, actor: Actor, hit: ScreeningHit, decision: str, note: str) -> ScreeningHit:
    """Confirm (the provider is the person excluded) or dismiss (not the same person) an open alert, with a
    note. Confirming records the exclusion from the list's exclusion date. Refused, nothing changed: no note,
    an unknown decision, an alert already reviewed."""
    require(actor, Perm.EDIT_CREDENTIALING)
    note = note.strip()
    if decision not in _DECISIONS:
        raise ValidationFailed.single("decision", "confirm or dismiss the alert")
    if not note:
        raise ValidationFailed.single("note", "say why: a review needs a note")
    with transaction.atomic():
        hit = ScreeningHit.objects.select_for_update().select_related("provider").get(pk=hit.pk)
        if hit.status != ScreeningHit.Status.OPEN:
            raise ValidationFailed.single(
                "", f"alert {hit.pk} was already {hit.get_status_display().lower()} by {hit.reviewer}"
            )
        before = audit.snapshot(hit, _REVIEW_FIELDS)
        hit.status = decision
        hit.reviewer = actor.username[:150]
        hit.reviewer_id = actor.pk if isinstance(actor.pk, int) else None
        hit.reviewed_at = timezone.now()
        hit.note = note[:2000]
        hit.save(update_fields=["status", "reviewer", "reviewer_id", "reviewed_at", "note"])
        after = audit.snapshot(hit, _REVIEW_FIELDS)
        if decision == ScreeningHit.Status.CONFIRMED:
            exclusion = Exclusion.objects.create(
                provider=hit.provider, source=hit.source, hit=hit, valid_from=hit.exclusion_date
            )
            after["exclusion_from"] = str(exclusion.valid_from)
        audit.record_write(actor, "credentialing.review_hit", hit, before=before, after=after)
    return hit
