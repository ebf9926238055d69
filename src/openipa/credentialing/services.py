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

Credentialing files (ADR 0013), each one transaction with its audit event:

    open_file(actor=..., provider=p, kind="initial" | "recredentialing", opened_on=...)  ->  CredentialingFile
    record_verification(actor=..., file=f, element="license", source=..., method=..., verified_on=...,
                        result=..., expires_on=..., document=Path(...), document_name=...)  ->  Verification
    decide(actor=..., file=f, decided_on=..., decision="approve", minutes=..., conditions="")  ->  CommitteeDecision
    mark_letter_sent(actor=..., decision=d, sent_on=...)  ->  CommitteeDecision

Approve and approve-with-conditions are refused unless the file is complete on the decision date (every required
element verified within the window of the rules in force that day, no credential expired) and the provider has
no confirmed exclusion in force on or after it. Deny and defer are allowed on an incomplete file: a committee may
deny on what it has (an exclusion, a revoked license, an application never completed) and defers exactly when
it lacks something. Approve, approve with conditions and deny close the file; a deferral leaves it open.
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
from openipa.credentialing.engine import files as files_engine
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
    CommitteeDecision,
    CredentialingFile,
    ElementKind,
    Exclusion,
    ExclusionListImport,
    ExclusionSource,
    ScreeningHit,
    ScreeningRun,
    Verification,
)
from openipa.network.models import Provider

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


# -- credentialing files ------------------------------------------------------------------------------------

DOCUMENT_KIND = "credentialing"
_FILE_FIELDS = (
    "provider_id",
    "kind",
    "status",
    "board_certification_claimed",
    "prescribes",
    "opened_on",
    "note",
)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def open_file(
    *,
    actor: Actor,
    provider: Provider,
    kind: str,
    opened_on: dt.date | None = None,
    board_certification_claimed: bool = False,
    prescribes: bool = True,
    note: str = "",
    today: dt.date | None = None,
) -> CredentialingFile:
    """Open an initial or recredentialing file. Refused: an unknown kind, a provider with a file already open,
    a recredentialing file for a provider never approved, an opening date in the future."""
    require(actor, Perm.EDIT_CREDENTIALING)
    day = _today(today)
    opened_on = opened_on or day
    if kind not in CredentialingFile.Kind.values:
        raise ValidationFailed.single("kind", "choose initial credentialing or recredentialing")
    if opened_on > day:
        raise ValidationFailed.single("opened_on", "a file cannot be opened in the future")
    with transaction.atomic():
        Provider.objects.select_for_update().get(pk=provider.pk)
        current = CredentialingFile.objects.filter(
            provider=provider, status=CredentialingFile.Status.IN_PROGRESS
        )
        if current.exists():
            raise ValidationFailed.single(
                "provider", f"{provider} already has an open file ({current.first()})"
            )
        if kind == CredentialingFile.Kind.RECREDENTIALING and not any(
            d.approved for d in CommitteeDecision.objects.filter(provider=provider)
        ):
            raise ValidationFailed.single(
                "kind", f"{provider} was never approved: open an initial credentialing file"
            )
        file = CredentialingFile.objects.create(
            provider=provider, kind=kind, opened_on=opened_on, board_certification_claimed=board_certification_claimed,
            prescribes=prescribes, note=note.strip()[:4000], opened_by=actor.username[:150],
        )  # fmt: skip
        audit.record_write(actor, "credentialing.open_file", file, after=audit.snapshot(file, _FILE_FIELDS))
    return file


_VERIFICATION_FIELDS = ("file_id", "element_id", "source", "method", "verified_on", "verifier_name", "result",
                        "expires_on", "reference", "document_name", "document_sha256")  # fmt: skip


def record_verification(
    *,
    actor: Actor,
    file: CredentialingFile,
    element: str,
    source: str,
    method: str,
    verified_on: dt.date,
    result: str,
    document: Path,
    document_name: str = "",
    expires_on: dt.date | None = None,
    reference: str = "",
    note: str = "",
    today: dt.date | None = None,
) -> Verification:
    """Record one primary-source verification of an element of an open file, with its document (kept under
    var/imports/credentialing/ with its SHA-256). A decided file takes renewals of its expiring credentials
    (license, DEA, board, insurance: ongoing monitoring between cycles); its decision does not change. Refused,
    nothing stored: another element on a decided file, an unknown element,
    method or result, no source, a date in the future, an expiry missing for an expiring credential or before
    the verification date, no document."""
    require(actor, Perm.EDIT_CREDENTIALING)
    errors: dict[str, list[str]] = {}
    kind = ElementKind.objects.filter(code=element).first()
    if kind is None:
        errors["element"] = [f"no such element: {element!r}"]
    if not source.strip():
        errors["source"] = ["name the primary source"]
    if method not in Verification.Method.values:
        errors["method"] = ["choose how it was verified"]
    if result not in Verification.Result.values:
        errors["result"] = ["choose the result"]
    if verified_on > _today(today):
        errors["verified_on"] = ["a verification cannot be dated in the future"]
    if kind is not None and kind.expires and result != Verification.Result.UNABLE and expires_on is None:
        errors["expires_on"] = [f"{kind.name} expires: give its expiry date"]
    if expires_on is not None and expires_on < verified_on:
        errors["expires_on"] = [
            "the credential expired before it was verified: record it as could not verify"
        ]
    if not document.is_file():
        errors["document"] = ["attach the document that proves the verification"]
    if errors:
        raise ValidationFailed(errors)
    assert kind is not None
    sha, _size, stored = store_file(document, document_name or document.name, DOCUMENT_KIND)
    try:
        with transaction.atomic():
            locked = CredentialingFile.objects.select_for_update().get(pk=file.pk)
            if locked.status != CredentialingFile.Status.IN_PROGRESS and not kind.expires:
                raise ValidationFailed.single(
                    "", f"file {locked.pk} is decided: open a new file to verify again"
                )
            if verified_on < locked.opened_on - dt.timedelta(days=366):
                raise ValidationFailed.single("verified_on", "more than a year before the file was opened")
            v = Verification.objects.create(
                file=locked, element=kind, source=source.strip()[:200], method=method, verified_on=verified_on,
                verifier_id=actor.pk if isinstance(actor.pk, int) else None, verifier_name=actor.username[:150],
                result=result, expires_on=expires_on, reference=reference.strip()[:100], note=note.strip()[:4000],
                document_name=printable(document_name or document.name)[:255],
                document_path=relative_to_var(stored), document_sha256=sha,
            )  # fmt: skip
            audit.record_write(
                actor, "credentialing.verify", v, after=audit.snapshot(v, _VERIFICATION_FIELDS)
            )
    except Exception:
        stored.unlink(missing_ok=True)
        raise
    return v


_FINAL = {CommitteeDecision.Decision.APPROVE, CommitteeDecision.Decision.APPROVE_CONDITIONS,
          CommitteeDecision.Decision.DENY}  # fmt: skip
_APPROVALS = {CommitteeDecision.Decision.APPROVE, CommitteeDecision.Decision.APPROVE_CONDITIONS}


def decide(
    *,
    actor: Actor,
    file: CredentialingFile,
    decided_on: dt.date,
    decision: str,
    minutes: str,
    conditions: str = "",
    today: dt.date | None = None,
) -> CommitteeDecision:
    """Record the committee's decision on an open file (see the module's notes for what is refused). A final
    decision sets the letter's due date (the rule's letter days after the decision); an approval sets the
    recredentialing due date (the rule's months after the decision, calendar months, no grace)."""
    require(actor, Perm.EDIT_CREDENTIALING)
    minutes = minutes.strip()
    conditions = conditions.strip()
    errors: dict[str, list[str]] = {}
    if decision not in CommitteeDecision.Decision.values:
        errors["decision"] = ["choose approve, approve with conditions, deny or defer"]
    if not minutes:
        errors["minutes"] = ["record the committee's minutes for this file"]
    if decision == CommitteeDecision.Decision.APPROVE_CONDITIONS and not conditions:
        errors["conditions"] = ["state the conditions of the approval"]
    if decided_on > _today(today):
        errors["decided_on"] = ["a decision cannot be dated in the future"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = CredentialingFile.objects.select_for_update().select_related("provider").get(pk=file.pk)
        if locked.status != CredentialingFile.Status.IN_PROGRESS:
            raise ValidationFailed.single("", f"file {locked.pk} is already decided")
        if decided_on < locked.opened_on:
            raise ValidationFailed.single("decided_on", f"before the file was opened ({locked.opened_on})")
        earlier = CommitteeDecision.objects.filter(file=locked, decided_on__gt=decided_on).first()
        if earlier is not None:
            raise ValidationFailed.single("decided_on", f"before the deferral of {earlier.decided_on}")
        rule = selectors.rule_on(decided_on)
        judged = selectors.checklist(locked, decided_on)
        if decision in _APPROVALS:
            if not judged.complete:
                missing = ", ".join(f"{r.element.name} ({r.item.state})" for r in judged.missing)
                raise ValidationFailed.single(
                    "decided_on", f"the file is not complete on {decided_on.isoformat()}: {missing}"
                )
            excluded = selectors.excluded_on_or_after(locked.provider_id, decided_on)
            if excluded is not None:
                raise ValidationFailed.single(
                    "decision",
                    f"{locked.provider} is excluded ({excluded.get_source_display()}, from {excluded.valid_from}):"
                    " an excluded provider cannot be approved",
                )
        final = decision in _FINAL
        made = CommitteeDecision.objects.create(
            file=locked, provider=locked.provider, rule=rule, decided_on=decided_on, decision=decision,
            conditions=conditions[:4000], minutes=minutes[:20000],
            decided_by_id=actor.pk if isinstance(actor.pk, int) else None, decided_by_name=actor.username[:150],
            checklist=judged.as_json(),
            recredential_due=(
                files_engine.recredential_due(decided_on, rule.recredential_months) if decision in _APPROVALS
                else None
            ),
            letter_due=files_engine.letter_due(decided_on, rule.letter_days) if final else None,
        )  # fmt: skip
        if final:
            locked.status = CredentialingFile.Status.DECIDED
            locked.save(update_fields=["status"])
        audit.record_write(
            actor, "credentialing.decide", made,
            after={"file": locked.pk, "decision": decision, "decided_on": decided_on.isoformat(),
                   "complete": judged.complete, "window_days": rule.window_days,
                   "recredential_due": str(made.recredential_due or ""), "letter_due": str(made.letter_due or "")},
        )  # fmt: skip
    return made


def mark_letter_sent(
    *, actor: Actor, decision: CommitteeDecision, sent_on: dt.date, today: dt.date | None = None
) -> CommitteeDecision:
    """Record the day the decision letter went out. Refused: a deferral (no letter), a letter already marked,
    a day before the decision or in the future."""
    require(actor, Perm.EDIT_CREDENTIALING)
    if sent_on > _today(today):
        raise ValidationFailed.single("sent_on", "a letter cannot be sent in the future")
    with transaction.atomic():
        d = CommitteeDecision.objects.select_for_update().get(pk=decision.pk)
        if d.decision == CommitteeDecision.Decision.DEFER:
            raise ValidationFailed.single("", "a deferral sends no decision letter")
        if d.letter_sent_on is not None:
            raise ValidationFailed.single("", f"the letter was already sent on {d.letter_sent_on}")
        if sent_on < d.decided_on:
            raise ValidationFailed.single("sent_on", f"before the decision ({d.decided_on})")
        before = audit.snapshot(d, ("letter_sent_on", "letter_sent_by"))
        d.letter_sent_on = sent_on
        d.letter_sent_by = actor.username[:150]
        d.save(update_fields=["letter_sent_on", "letter_sent_by"])
        audit.record_write(
            actor,
            "credentialing.letter_sent",
            d,
            before=before,
            after=audit.snapshot(d, ("letter_sent_on", "letter_sent_by")),
        )
    return d
