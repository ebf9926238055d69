"""The demo's Tuva export (issue 9, part 8): the whole demo IPA written through ``openipa.exports.services`` as
the Tuva Project's claims input layer, Parquet, under ``var/demo/tuva/`` (with its manifest), so a member can
point Tuva at it straight after ``make demo``. The export is the system's (recorded as ``demo``), one audit read.

Deterministic for a seed: the demo's data are, and the export writes rows in a fixed order (only the manifest's
time and the ingest times of the files differ from one build to the next).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from openipa.exports.selectors import Filters
from openipa.exports.services import export_tuva

ProgressFn = Callable[[str, int, int], None]
STAGE = "Tuva export"


@dataclass(frozen=True)
class TuvaExportSummary:
    out_dir: Path
    counts: dict[str, int]
    members: int
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def tuva_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "tuva"


def build_tuva_export(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> TuvaExportSummary:
    """Export the demo through ``today`` (open eligibility spans end on it). ``seed`` is the demo's: the export
    draws nothing at random."""
    del seed  # nothing random here; kept for the demo stages' common signature
    tables = 4
    done: set[str] = set()

    def tell(table: str, rows: int, total: int) -> None:
        if progress is not None and rows >= total:
            done.add(table)
            progress(STAGE, len(done), tables)

    started = time.perf_counter()
    result = export_tuva(
        None, out_dir=tuva_dir(), fmt="parquet", filters=Filters(date_to=today), exported_by="demo", today=today,
        progress=tell,
    )  # fmt: skip
    return TuvaExportSummary(
        out_dir=result.out_dir,
        counts=result.counts,
        members=result.members,
        seconds=time.perf_counter() - started,
    )
