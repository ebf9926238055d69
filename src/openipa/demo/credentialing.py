"""The demo's credentialing (issue 6): every practitioner of the network credentialed, with files in every state.

- **Approved** (most practitioners): an initial file decided some day in the last 36 months (a few
  recredentialed: an initial decision 37 to 44 months ago and a recredentialing decided before its due date),
  each element verified at the primary source 10 to 100 days before the decision, decision letters sent (a few
  late, the latest ones not yet, one forgotten past its due date), expiring credentials (license, DEA, board,
  insurance) renewed as they expired, so the expirables dashboard shows what expires in the next 30, 60 and 90
  days; two renewals are missing (a license and an insurance expired).
- **Overdue**: two practitioners approved 37 and 38 months ago and not recredentialed (one has a recredentialing
  file in progress): they are no longer credentialed.
- **In progress**: three initial files with a few elements verified; **complete**: three initial files verified
  whole in the last weeks, waiting for the committee.
- **Excluded hit**: an LEIE-style file (`var/demo/credentialing/leie-demo.csv`, the OIG's published layout) with
  filler rows and a few planted matches, screened through the screening service: one practitioner matched by NPI
  (confirmed: excluded; his recredentialing file is complete but cannot be approved), one by name and date of
  birth (left open for review), one namesake with another date of birth (no hit) and one reinstated row (ignored).

The mass of approved files is written in bulk (ADR 0005); the showcase files (in progress, complete, overdue,
excluded) go through `openipa.credentialing.services` as the demo's credentialing user, so their documents, audit
events and refusals are the real ones. Facilities are not credentialed by files (organizational providers are
assessed otherwise). Deterministic for a seed."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from openipa.accounts.models import User
from openipa.core.roles import Role
from openipa.credentialing import selectors
from openipa.credentialing.engine import files as engine
from openipa.credentialing.models import (
    CommitteeDecision,
    CredentialingFile,
    CredentialingRule,
    ElementKind,
    ScreeningHit,
    Verification,
)
from openipa.credentialing.services import decide, open_file, record_verification, review_hit, screen
from openipa.network.models import Provider

ProgressFn = Callable[[str, int, int], None]
STAGE = "Credentialing"

SOURCES: dict[str, tuple[str, str]] = {
    "license": ("Medical Board of California (license lookup)", "online"),
    "dea": ("DEA Diversion Control Division (registration validation)", "online"),
    "education": ("AMA Physician Masterfile", "query"),
    "board": ("ABMS Certification Matters", "online"),
    "work_history": ("Application CV, gaps explained by the practitioner", "written"),
    "malpractice_history": ("National Practitioner Data Bank (continuous query)", "query"),
    "insurance": ("Carrier's certificate of insurance", "written"),
    "sanctions": ("OIG LEIE, SAM.gov and the Medi-Cal Suspended and Ineligible list", "online"),
    "attestation": ("Signed application (CAQH ProView)", "attestation"),
}
TERMS_DAYS = {"license": 730, "dea": 1095, "board": 3650, "insurance": 365}
"""How long a credential of each expiring kind lasts once renewed."""
PRESCRIBERS = {"MD", "DO", "NP", "PA"}
FILLER = (("ABBOTT", "KEVIN"), ("BRENNAN", "LORI"), ("CASTILLO", "RAMON"), ("DUBOIS", "ELAINE"),
          ("EKWUEME", "CHIDI"), ("FONTAINE", "MARC"), ("GRUBER", "HANS"), ("HOLLOWAY", "TINA"),
          ("IBARRA", "LUZ"), ("JANSSEN", "PIETER"), ("KOWALSKI", "ANNA"), ("LINDQVIST", "ERIK"),
          ("MORETTI", "GINA"), ("NAKAMURA", "KENJI"), ("OYELARAN", "TUNDE"), ("PRZYBYLSKI", "JAN"),
          ("QUINTERO", "ALMA"), ("ROSSETTI", "DINO"), ("SVENSSON", "INGA"), ("TRAN", "MINH"))  # fmt: skip
LEIE_HEADER = ("LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "GENERAL", "SPECIALTY", "UPIN", "NPI", "DOB",
               "ADDRESS", "CITY", "STATE", "ZIP", "EXCLTYPE", "EXCLDATE", "REINDATE", "WAIVERDATE", "WVRSTATE")  # fmt: skip


@dataclass(frozen=True)
class CredentialingSummary:
    files: int = 0
    verifications: int = 0
    decisions: int = 0
    credentialed: int = 0
    in_progress: int = 0
    complete: int = 0
    overdue: int = 0
    alerts: int = 0
    exclusions: int = 0
    leie_file: str = ""


def demo_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "credentialing"


def _documents() -> dict[str, tuple[str, str]]:
    """One sample document per element under var/demo/credentialing/documents/: (path under var, sha256)."""
    root = demo_dir() / "documents"
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for code, (source, method) in SOURCES.items():
        path = root / f"{code}.txt"
        data = (
            f"Demo primary-source verification record\nelement: {code}\nsource: {source}\nmethod: {method}\n"
        )
        path.write_text(data)
        out[code] = (str(path.relative_to(Path(settings.VAR_DIR))), hashlib.sha256(data.encode()).hexdigest())
    return out


def _doc(name: str, text: str) -> Path:
    path = demo_dir() / "uploads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class _Bulk:
    """Approved files written in bulk: files first (for their ids), then verifications and decisions."""

    def __init__(self, rng: random.Random, today: dt.date, cred: User) -> None:
        self.rng = rng
        self.today = today
        self.cred = cred
        self.rules = list(CredentialingRule.objects.order_by("valid_from"))
        self.versions = selectors.rule_versions()
        self.kinds = {k.code: k for k in ElementKind.objects.all()}
        self.documents = _documents()
        self.verifications: list[Verification] = []
        self.decisions: list[CommitteeDecision] = []
        self.late_unsent = False

    def rule(self, day: dt.date) -> CredentialingRule:
        rule = next(
            r for r in self.rules if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to)
        )
        return rule

    def file(self, provider: Provider, kind: str, decided_on: dt.date) -> CredentialingFile:
        return CredentialingFile(
            provider=provider, kind=kind, status=CredentialingFile.Status.DECIDED,
            board_certification_claimed=provider.kind == Provider.Kind.SPECIALIST,
            prescribes=provider.degree in PRESCRIBERS, opened_on=decided_on - dt.timedelta(days=110),
            opened_by=self.cred.username,
        )  # fmt: skip

    def verify(
        self, file: CredentialingFile, code: str, on: dt.date, expires: dt.date | None
    ) -> Verification:
        source, method = SOURCES[code]
        path, sha = self.documents[code]
        v = Verification(
            file=file, element=self.kinds[code], source=source, method=method, verified_on=on, verifier=self.cred,
            verifier_name=self.cred.username, result=Verification.Result.VERIFIED, expires_on=expires,
            document_name=f"{code}.txt", document_path=path, document_sha256=sha,
        )  # fmt: skip
        self.verifications.append(v)
        return v

    def decided(self, file: CredentialingFile, decided_on: dt.date, *, renew: bool, lapse: str = "") -> None:
        """Verify every required element before ``decided_on``, decide (approve), send the letter, and renew
        expiring credentials up to today (but the one named by ``lapse``)."""
        rule = self.rule(decided_on)
        evidence: dict[str, list[engine.Evidence]] = {}
        required = [e.code for e in selectors.required_elements(file, rule)]
        for code in required:
            on = decided_on - dt.timedelta(days=self.rng.randint(10, min(100, rule.window_days)))
            expires = (
                on + dt.timedelta(days=self.rng.randint(200, TERMS_DAYS[code]))
                if code in TERMS_DAYS
                else None
            )
            if code == lapse and expires is not None:
                expires = max(
                    min(expires, self.today - dt.timedelta(days=5)), decided_on + dt.timedelta(days=1)
                )
            self.verify(file, code, on, expires)
            evidence[code] = [engine.Evidence(on, True, expires)]
            # renewals as they expire; a lapsed one stops short of today
            limit = self.today + dt.timedelta(days=20)
            if code == lapse:
                limit = self.today - dt.timedelta(days=TERMS_DAYS[code])
            while renew and expires is not None and expires < limit:
                on = min(max(expires - dt.timedelta(days=self.rng.randint(3, 30)), decided_on), self.today)
                expires = expires + dt.timedelta(days=TERMS_DAYS[code])
                self.verify(file, code, on, expires)
        judged = engine.completeness(required, evidence, decided_on, self.versions)
        assert judged.complete, (file.provider_id, decided_on)
        letter_due = engine.letter_due(decided_on, rule.letter_days)
        if letter_due >= self.today and self.rng.random() < 0.6:
            sent = None  # recent: not sent yet
        elif self.today - dt.timedelta(days=25) <= letter_due < self.today and not self.late_unsent:
            sent = None  # one letter forgotten: late, in red on the committee page
            self.late_unsent = True
        elif self.rng.random() < 0.06:
            sent = decided_on + dt.timedelta(
                days=self.rng.randint(rule.letter_days + 2, rule.letter_days + 20)
            )
        else:
            sent = decided_on + dt.timedelta(days=self.rng.randint(2, rule.letter_days - 5))
        if sent is not None and sent > self.today:
            sent = None
        self.decisions.append(
            CommitteeDecision(
                file=file,
                provider=file.provider,
                rule=rule,
                decided_on=decided_on,
                decision=CommitteeDecision.Decision.APPROVE,
                minutes="Reviewed the file; no adverse findings.",
                decided_by=self.cred,
                decided_by_name=self.cred.username,
                checklist=[
                    {"element": i.element, "state": str(i.state), "age_days": i.age_days}
                    for i in judged.items
                ],
                recredential_due=engine.recredential_due(decided_on, rule.recredential_months),
                letter_due=letter_due,
                letter_sent_on=sent,
                letter_sent_by=self.cred.username if sent else "",
            )
        )

    def save(self) -> None:
        Verification.objects.bulk_create(self.verifications, batch_size=1000)
        CommitteeDecision.objects.bulk_create(self.decisions, batch_size=1000)


def _verify(
    cred: User, file: CredentialingFile, code: str, on: dt.date, today: dt.date, rng: random.Random
) -> None:
    source, method = SOURCES[code]
    expires = on + dt.timedelta(days=rng.randint(300, TERMS_DAYS[code])) if code in TERMS_DAYS else None
    record_verification(
        actor=cred, file=file, element=code, source=source, method=method, verified_on=on, result="verified",
        expires_on=expires, document=_doc(f"{file.pk}-{code}.txt", f"{code} for file {file.pk} on {on}\n"),
        document_name=f"{code}.txt", reference=f"A{rng.randint(10000, 99999)}" if code == "license" else "",
        today=today,
    )  # fmt: skip


def _showcase_file(
    cred: User, provider: Provider, kind: str, today: dt.date, rng: random.Random, *, verified: int | None
) -> CredentialingFile:
    """A file through the services: ``verified`` elements verified (None: all of them) in the last weeks."""
    file = open_file(
        actor=cred, provider=provider, kind=kind, opened_on=today - dt.timedelta(days=rng.randint(25, 40)),
        board_certification_claimed=provider.kind == Provider.Kind.SPECIALIST,
        prescribes=provider.degree in PRESCRIBERS, today=today,
    )  # fmt: skip
    codes = [e.code for e in selectors.required_elements(file, selectors.rule_on(today))]
    for code in codes if verified is None else codes[:verified]:
        _verify(cred, file, code, today - dt.timedelta(days=rng.randint(2, 20)), today, rng)
    return file


def _leie_row(
    last: str, first: str, npi: str, dob: dt.date | None, excluded: dt.date, reinstated: str = ""
) -> list[str]:
    return [last, first, "", "", "IND- LIC HC SERV PRO", "FAMILY PRACTICE", "", npi,
            dob.strftime("%Y%m%d") if dob else "", "1 MAIN ST", "SACRAMENTO", "CA", "95814", "1128b4",
            excluded.strftime("%Y%m%d"), reinstated or "00000000", "00000000", ""]  # fmt: skip


def write_leie(path: Path, rng: random.Random, today: dt.date, npi_hit: Provider, name_hit: Provider,
               namesake: Provider, reinstated: Provider) -> None:  # fmt: skip
    """The LEIE-style file: 40 filler rows, then the planted matches in a shuffled order."""
    rows = []
    for i in range(40):
        last, first = FILLER[i % len(FILLER)]
        dob = dt.date(1940 + rng.randint(0, 45), rng.randint(1, 12), rng.randint(1, 28))
        rows.append(
            _leie_row(last, first, "0000000000", dob, today - dt.timedelta(days=rng.randint(60, 4000)))
        )
    assert name_hit.date_of_birth is not None
    assert namesake.date_of_birth is not None
    other_dob = namesake.date_of_birth - dt.timedelta(days=2557)
    rows += [
        _leie_row(npi_hit.last_name.upper(), npi_hit.first_name.upper(), npi_hit.npi, None, today - dt.timedelta(days=40)),
        _leie_row(name_hit.last_name.upper(), name_hit.first_name.upper(), "0000000000", name_hit.date_of_birth,
                  today - dt.timedelta(days=75)),
        _leie_row(namesake.last_name.upper(), namesake.first_name.upper(), "0000000000", other_dob,
                  today - dt.timedelta(days=200)),
        _leie_row(reinstated.last_name.upper(), reinstated.first_name.upper(), reinstated.npi, None,
                  today - dt.timedelta(days=3000), (today - dt.timedelta(days=900)).strftime("%Y%m%d")),
    ]  # fmt: skip
    rng.shuffle(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(LEIE_HEADER)
        writer.writerows(rows)


def build_credentialing(
    *, seed: int, today: dt.date, progress: ProgressFn | None = None
) -> CredentialingSummary:
    rng = random.Random(f"credentialing-{seed}")
    cred = User.objects.get(role=Role.CREDENTIALING, username="credentialing")
    practitioners = list(Provider.objects.exclude(kind=Provider.Kind.FACILITY).order_by("npi"))
    if len(practitioners) < 20:
        return CredentialingSummary()
    rng.shuffle(practitioners)
    with_dob = [p for p in practitioners if p.date_of_birth is not None]
    npi_hit, name_hit, namesake = with_dob[0], with_dob[1], with_dob[2]
    chosen = {npi_hit.pk, name_hit.pk, namesake.pk}
    rest = [p for p in practitioners if p.pk not in chosen]
    in_progress, complete, overdue, rest = rest[:3], rest[3:6], rest[6:8], rest[8:]
    steps = 4
    if progress:
        progress(STAGE, 0, steps)

    bulk = _Bulk(rng, today, cred)
    plans: list[tuple[CredentialingFile, dt.date, bool, str]] = []
    lapses = {rest[0].pk: "license", rest[1].pk: "insurance"}
    for provider in [*rest, npi_hit, name_hit, namesake]:
        if rng.random() < 0.12:  # recredentialed once
            first = today - dt.timedelta(days=rng.randint(37 * 30 + 5, 44 * 30))
            due = engine.recredential_due(first, 36)
            again = due - dt.timedelta(days=rng.randint(5, 60))
            if again < today - dt.timedelta(days=5):
                plans.append((bulk.file(provider, CredentialingFile.Kind.INITIAL, first), first, False, ""))
                plans.append(
                    (bulk.file(provider, CredentialingFile.Kind.RECREDENTIALING, again), again, True, "")
                )
                continue
        decided_on = today - dt.timedelta(days=rng.randint(5, 35 * 30))
        plans.append(
            (
                bulk.file(provider, CredentialingFile.Kind.INITIAL, decided_on),
                decided_on,
                True,
                lapses.get(provider.pk, ""),
            )
        )
    for provider, months in zip(overdue, (37, 38), strict=True):
        decided_on = engine.add_months(today, -months) - dt.timedelta(days=rng.randint(1, 20))
        plans.append((bulk.file(provider, CredentialingFile.Kind.INITIAL, decided_on), decided_on, True, ""))
    files = CredentialingFile.objects.bulk_create([f for f, *_ in plans], batch_size=1000)
    for file, (_f, decided_on, renew, lapse) in zip(files, plans, strict=True):
        bulk.decided(file, decided_on, renew=renew, lapse=lapse)
    bulk.save()
    if progress:
        progress(STAGE, 1, steps)

    # the showcase, through the services
    for provider in in_progress:
        _showcase_file(cred, provider, CredentialingFile.Kind.INITIAL, today, rng, verified=rng.randint(2, 4))
    for provider in complete:
        _showcase_file(cred, provider, CredentialingFile.Kind.INITIAL, today, rng, verified=None)
    _showcase_file(cred, overdue[0], CredentialingFile.Kind.RECREDENTIALING, today, rng, verified=3)
    if progress:
        progress(STAGE, 2, steps)

    # the LEIE-style file, screened; the NPI match confirmed
    leie = demo_dir() / "leie-demo.csv"
    write_leie(leie, rng, today, npi_hit, name_hit, namesake, rest[2])
    run = screen(actor=cred, leie_path=leie, today=today, run_by=cred.username)
    for hit in ScreeningHit.objects.filter(run=run, provider=npi_hit):
        review_hit(actor=cred, hit=hit, decision="confirmed",
                   note="Same NPI on the LEIE; the OIG's online search shows the exclusion in force.")  # fmt: skip
    excluded_file = _showcase_file(
        cred, npi_hit, CredentialingFile.Kind.RECREDENTIALING, today, rng, verified=None
    )
    decide(actor=cred, file=excluded_file, decided_on=today, decision="defer", today=today,
           minutes="The practitioner appears on the OIG exclusion list (confirmed): deferred pending the hearing.")  # fmt: skip
    if progress:
        progress(STAGE, 3, steps)
    counts = selectors.file_counts(today)
    summary = CredentialingSummary(
        files=CredentialingFile.objects.count(),
        verifications=Verification.objects.count(),
        decisions=CommitteeDecision.objects.count(),
        credentialed=counts["credentialed"],
        in_progress=counts["in_progress"],
        complete=counts["complete"],
        overdue=counts["recredentialing_overdue"],
        alerts=ScreeningHit.objects.filter(status=ScreeningHit.Status.OPEN).count(),
        exclusions=ScreeningHit.objects.filter(status=ScreeningHit.Status.CONFIRMED).count(),
        leie_file=str(leie.relative_to(Path(settings.VAR_DIR))),
    )
    if progress:
        progress(STAGE, steps, steps)
    return summary
