"""Writing the Tuva export: the four input-layer tables as CSV or Parquet and a manifest, into a folder.

All or nothing: the files are written into a hidden folder inside the target and moved into place only when
every table is complete, so a refused or failed export leaves the target as it was. The export is a read of
member data: one audit event (the members and each table's row count), not one per member.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.utils import timezone

from openipa.core.audit import record_read
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor
from openipa.exports import selectors
from openipa.exports.engine import tuva
from openipa.exports.selectors import Filters

FORMATS = ("csv", "parquet")
MANIFEST = "manifest.json"

Progress = Callable[[str, int, int], None]
"""progress(table, rows done, rows in all) as each table is written."""


@dataclass(frozen=True)
class TableWritten:
    name: str
    file: str
    rows: int
    columns: list[str]
    sha256: str


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    format: str
    tables: list[TableWritten]
    manifest: dict[str, Any] = field(repr=False)
    members: int = 0
    skipped_unlinked_claims: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {t.name: t.rows for t in self.tables}


def _check_out_dir(out_dir: Path) -> None:
    """The folder exists (or can be made) and is writable; refuses a file in its place."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValidationFailed.single("out", f"{out_dir} exists and is not a folder.")
    probe = out_dir
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ValidationFailed.single("out", f"{out_dir} is not writable ({probe} does not let us write).")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _Writer:
    """Appends Tuva-shaped batches to one table's file: CSV by appending text, Parquet by one part file per
    batch streamed into the final file at the end (no batch is held after it is written)."""

    def __init__(self, folder: Path, table: tuva.Table, fmt: str):
        self.table = table
        self.fmt = fmt
        self.path = folder / f"{table.name}.{fmt}"
        self.parts: list[Path] = []
        self.rows = 0
        self._folder = folder

    def write(self, frame: pl.DataFrame) -> None:
        if self.fmt == "csv":
            text = frame.write_csv(
                include_header=self.rows == 0 and not self.path.exists(),
                date_format="%Y-%m-%d",
                datetime_format="%Y-%m-%d %H:%M:%S",
            )
            with self.path.open("a", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            part = self._folder / f".{self.table.name}.part{len(self.parts):05d}.parquet"
            frame.write_parquet(part)
            self.parts.append(part)
        self.rows += frame.height

    def close(self) -> None:
        if self.fmt == "csv":
            if not self.path.exists():  # no rows: the header alone
                self.path.write_text(",".join(self.table.names) + "\n", encoding="utf-8")
            return
        if not self.parts:
            tuva.conform(pl.DataFrame(), self.table).clear().write_parquet(self.path)
            return
        pl.scan_parquet(self.parts).sink_parquet(self.path)
        for part in self.parts:
            part.unlink()


def export_tuva(
    actor: Actor | None,
    *,
    out_dir: Path,
    fmt: str = "csv",
    filters: Filters | None = None,
    exported_by: str,
    today: dt.date | None = None,
    progress: Progress | None = None,
    organization: str | None = None,
) -> ExportResult:
    """Write eligibility, medical_claim, pharmacy_claim and provider_attribution (Tuva's claims input layer)
    and ``manifest.json`` into ``out_dir``. Refuses (ValidationFailed, nothing written) an unknown format or
    payer, --from after --to, or a folder that cannot be written."""
    selectors.require_exporter(actor)
    filters = filters or Filters()
    if fmt not in FORMATS:
        raise ValidationFailed.single("format", f"format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    selectors.check_filters(filters)
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    today = today or timezone.localdate()
    open_end = filters.date_to or _month_end(today)
    stamp = tuva.Stamp(open_end=open_end)
    layer = tuva.tables()
    started = timezone.now()
    tell = progress or (lambda _t, _d, _n: None)

    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tuva-export-", dir=out_dir))
    try:
        members: set[int] = set()
        written: dict[str, int] = {}

        spans = selectors.eligibility_spans(filters)
        members.update(spans["member_id"].to_list())
        writer = _Writer(staging, layer["eligibility"], fmt)
        tell("eligibility", 0, spans.height)
        writer.write(tuva.eligibility(spans, stamp))
        writer.close()
        tell("eligibility", spans.height, spans.height)
        written["eligibility"] = writer.rows

        cover = tuva.coverage(selectors.coverage_spans(filters))
        _claims, line_total = selectors.claim_counts(filters)
        writer = _Writer(staging, layer["medical_claim"], fmt)
        tell("medical_claim", 0, line_total)
        for headers, lines in selectors.claim_batches(filters):
            members.update(headers["member_id"].unique().to_list())
            writer.write(tuva.medical_claim(headers, lines, cover, stamp))
            tell("medical_claim", writer.rows, line_total)
        writer.close()
        written["medical_claim"] = writer.rows

        fills = selectors.pharmacy_fills(filters)
        writer = _Writer(staging, layer["pharmacy_claim"], fmt)
        tell("pharmacy_claim", 0, fills.height)
        rx = tuva.pharmacy_claim(fills, cover, stamp)
        writer.write(rx)
        writer.close()
        tell("pharmacy_claim", fills.height, fills.height)
        written["pharmacy_claim"] = writer.rows
        members.update(_member_ids(rx))

        pcp = selectors.pcp_spans(filters)
        writer = _Writer(staging, layer["provider_attribution"], fmt)
        tell("provider_attribution", 0, spans.height)
        attribution = tuva.provider_attribution(
            spans, pcp, stamp, first=filters.date_from, last=filters.date_to
        )
        attribution = tuva.organization_column(attribution, organization or settings.IPA_NAME)
        writer.write(tuva.conform(attribution, layer["provider_attribution"]))
        writer.close()
        tell("provider_attribution", spans.height, spans.height)
        written["provider_attribution"] = writer.rows

        tables = [
            TableWritten(
                name=name,
                file=f"{name}.{fmt}",
                rows=written[name],
                columns=layer[name].names,
                sha256=_sha256(staging / f"{name}.{fmt}"),
            )
            for name in layer
        ]
        unlinked = selectors.unlinked_claims(filters)
        manifest = {
            "format": fmt,
            "tuva": {
                "version": tuva.input_layer()["tuva_version"],
                "read_on": tuva.input_layer()["read_on"],
                "sources": {name: table.source for name, table in layer.items()},
            },
            "data_source": stamp.data_source,
            "exported_at": started.isoformat(timespec="seconds"),
            "exported_by": exported_by,
            "filters": {
                "from": filters.date_from.isoformat() if filters.date_from else None,
                "to": filters.date_to.isoformat() if filters.date_to else None,
                "payer": filters.payer_code,
                "open_spans_end": open_end.isoformat(),
            },
            "tables": {
                t.name: {"file": t.file, "rows": t.rows, "sha256": t.sha256, "columns": t.columns}
                for t in tables
            },
            "members": len(members),
            "skipped": {"claims_without_member": unlinked},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for name in [*(t.file for t in tables), MANIFEST]:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    counts = ", ".join(f"{t.name} {t.rows}" for t in tables)
    record_read(
        actor,
        object_type="exports.tuva",
        member_ids=members,
        action="export",
        purpose=f"Tuva export by {exported_by} to {out_dir}: {counts}"[:200],
    )
    return ExportResult(
        out_dir=out_dir,
        format=fmt,
        tables=tables,
        manifest=manifest,
        members=len(members),
        skipped_unlinked_claims=unlinked,
    )


def _member_ids(frame: pl.DataFrame) -> list[int]:
    """The OpenIPA member keys behind a Tuva frame's person_id."""
    prefix = f"{tuva.DATA_SOURCE}-"
    return frame["person_id"].unique().str.strip_prefix(prefix).cast(pl.Int64).to_list()


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next - dt.timedelta(days=1)
