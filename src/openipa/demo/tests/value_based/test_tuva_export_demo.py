"""The demo's Tuva export on a module-scoped demo with a year of claims and the clinical data (pharmacy fills):
every table written, row counts equal to what the database holds, the manifest's checksums, Tuva's columns,
and the rows per second (printed: the bench figure in docs/tuva-export.md)."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest

from openipa.claims.models import Claim, ClaimLine
from openipa.clinical.models import PharmacyFill
from openipa.core.models import AuditEvent
from openipa.demo import tuva_export as demo_tuva
from openipa.demo.services import DemoSummary
from openipa.demo.tests.value_based.shared import PROGRESS, TODAY
from openipa.exports.engine import tuva
from openipa.membership.models import EligibilitySpan


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> demo_tuva.TuvaExportSummary:
    summary = value_based_demo.tuva_export
    assert summary is not None
    print(f"\nTuva export of the demo: {summary.counts}, {summary.rows:,} rows in {summary.seconds:.2f} s "
          f"= {summary.rows_per_second:,.0f} rows/s")  # fmt: skip
    return summary


@pytest.fixture
def db_access(built: demo_tuva.TuvaExportSummary, db: None) -> None:
    """The module's build, read inside each test's transaction."""


def test_every_table_is_written_with_tuvas_columns(
    built: demo_tuva.TuvaExportSummary, db_access: None
) -> None:
    for name, table in tuva.tables().items():
        frame = pl.read_parquet(built.out_dir / f"{name}.parquet")
        assert frame.columns == table.names
        assert frame.height == built.counts[name] > 0, name
    assert PROGRESS[demo_tuva.STAGE][-1] == (4, 4)


def test_counts_match_the_database(built: demo_tuva.TuvaExportSummary, db_access: None) -> None:
    spans = EligibilitySpan.objects.filter(valid_from__lte=TODAY).count()
    assert built.counts["eligibility"] == spans
    final = Claim.objects.filter(
        status__in=["adjudicated", "paid"], member__isnull=False, service_from__lte=TODAY
    )
    final = final.exclude(frequency="8")
    assert built.counts["medical_claim"] == ClaimLine.objects.filter(claim__in=final).count()
    reversed_ids = set(PharmacyFill.objects.filter(status="reversed").values_list("source_id", "claim_id"))
    paid = [
        f for f in PharmacyFill.objects.filter(status="paid", member__isnull=False, fill_date__lte=TODAY)
        .values_list("source_id", "claim_id") if f not in reversed_ids
    ]  # fmt: skip
    assert built.counts["pharmacy_claim"] == len(paid)
    claims = pl.read_parquet(built.out_dir / "medical_claim.parquet")
    # Tuva's key: one row per claim line
    assert claims.select("claim_id", "claim_line_number").n_unique() == claims.height
    attribution = pl.read_parquet(built.out_dir / "provider_attribution.parquet")
    assert (
        attribution.select("person_id", "member_id", "payer", "plan", "year_month").n_unique()
        == attribution.height
    )
    assert attribution["payer_attributed_provider"].null_count() < attribution.height


def test_manifest_checksums_and_one_audit_event(built: demo_tuva.TuvaExportSummary, db_access: None) -> None:
    manifest = json.loads((built.out_dir / "manifest.json").read_text())
    for name, entry in manifest["tables"].items():
        assert entry["sha256"] == hashlib.sha256((built.out_dir / entry["file"]).read_bytes()).hexdigest()
        assert entry["rows"] == built.counts[name]
    events = AuditEvent.objects.filter(object_type="exports.tuva")
    assert events.count() == 1
    assert events.get().member_count == built.members == manifest["members"]
