"""Paying out of the IPA's bank account: one NACHA file of CCD+ credits, each with the addenda that ties it to
its payment's trace number (the TRN of the statement or 835 that explains it).

Shared by capitation and claims payments. The file is written where asked and a copy is kept under
var/payments/, with its hash; the entry hash and totals come back for the caller's record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from openipa.core.intake import relative_to_var
from openipa.edi.nacha import (
    NachaBatchHeader,
    NachaEntry,
    NachaFileHeader,
    nacha_text,
    reassociation_addenda,
    write_nacha,
)


@dataclass(frozen=True)
class Credit:
    """One payee's credit: its bank, the amount, its TIN and name, and the trace its addenda quote."""

    routing_number: str
    account_number: str
    amount_cents: int
    tin: str
    name: str
    trace_number: str


@dataclass(frozen=True)
class AchFile:
    """What was written: the kept copy (relative to var/), its hash, entries, total and entry hash."""

    stored_path: str
    sha256: str
    entries: int
    total_cents: int
    entry_hash: str


def company_id() -> str:
    """The IPA as the originator: ``1`` and its employer id."""
    return "1" + str(settings.IPA_TIN)


def trace_prefix() -> str:
    """The first 8 digits of the IPA's bank's routing number, which start every trace number it originates."""
    return str(settings.IPA_BANK_ROUTING)[:8]


def _sequence(trace: str) -> int:
    """The 7-digit sequence of a trace number the IPA gave (its bank's 8 digits, then the sequence)."""
    if len(trace) != 15 or not trace.isdigit() or not trace.startswith(trace_prefix()):
        raise ValueError(f"trace number {trace!r} is not the IPA bank's 8 digits and a 7-digit sequence")
    return int(trace[8:])


def write_ach(
    out: Path,
    credits: list[Credit],
    *,
    description: str,
    descriptive_date: str,
    reference: str,
    effective: dt.date,
    kept_name: str,
) -> AchFile:
    """Write ``credits`` as one batch of CCD+ entries into ``out`` and keep a copy named ``kept_name``. Each
    entry carries the trace number its credit was given (quoted by the statement or 835 that explains it);
    credits are given in ascending trace order."""
    created = timezone.localtime()
    entries = [
        NachaEntry(
            routing_number=c.routing_number,
            account_number=nacha_text(c.account_number, 17).strip(),
            account_type="checking",
            amount_cents=c.amount_cents,
            individual_id=c.tin,
            name=nacha_text(c.name, 22).strip(),
            addenda=reassociation_addenda(c.trace_number, company_id()),
            trace_sequence=_sequence(c.trace_number),
        )
        for c in credits
    ]
    header = NachaFileHeader(
        immediate_destination=str(settings.IPA_BANK_ROUTING),
        immediate_origin=company_id(),
        destination_name=nacha_text(str(settings.IPA_BANK_NAME), 23).strip(),
        origin_name=nacha_text(str(settings.IPA_NAME), 23).strip(),
        created=created.replace(tzinfo=None),
        reference_code=reference[:8],
    )
    batch = NachaBatchHeader(
        company_name=nacha_text(str(settings.IPA_NAME), 16).strip(),
        company_id=company_id(),
        company_entry_description=description[:10],
        effective_entry_date=effective,
        originating_dfi=trace_prefix(),
        batch_number=1,
        company_descriptive_date=descriptive_date[:6],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = write_nacha(out, header, [(batch, entries)])
    if tuple(c.trace_number for c in credits) != summary.trace_numbers:
        raise RuntimeError("NACHA trace numbers differ from the ones the addenda name")
    kept = Path(settings.VAR_DIR) / "payments" / f"{kept_name}-{created:%Y%m%dT%H%M%S}.ach"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out, kept)
    return AchFile(
        stored_path=relative_to_var(kept),
        sha256=hashlib.sha256(kept.read_bytes()).hexdigest(),
        entries=len(entries),
        total_cents=summary.total_credit_cents,
        entry_hash=f"{summary.entry_hash:010d}",
    )
