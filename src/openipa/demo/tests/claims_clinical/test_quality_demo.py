"""The demo's claims and clinical data together give the claims-based quality measures a denominator: the
claims' planted ischemic vascular disease patients (visits in both years, some CABGs) with the PBM's statins
(SPC), emergency visits and psychiatric stays for a mental illness with the behavioral health follow-ups
(FUM, FUH). On the package's shared demo (shared.py), through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from openipa.claims.models import ClaimLine
from openipa.demo.services import DemoSummary
from openipa.quality.selectors import quality_rates


@pytest.fixture(scope="module")
def built(claims_clinical_demo: DemoSummary) -> DemoSummary:
    """The package's shared demo (shared.py)."""
    return claims_clinical_demo


@pytest.fixture
def db_access(built: DemoSummary, db: None) -> None:
    """The module's build, read inside each test's transaction."""


def _rates() -> dict[str, dict[str, Any]]:
    return {r["rate"]: r for r in quality_rates(None, year=2026).rates.iter_rows(named=True)}


def _rate(row: dict[str, Any]) -> float:
    return float(row["numerator"]) / float(row["denominator"])


def test_spc_has_a_denominator_and_most_received_a_statin(built: DemoSummary, db_access: None) -> None:
    rates = _rates()
    row = rates["SPC Received"]
    assert row["denominator"] >= 20, row
    assert 0.65 <= _rate(row) <= 0.95, row
    # the prior-year half of the denominator is the window's first two months: IVD office visits and CABGs
    prior = ClaimLine.objects.filter(service_from__year=2025, claim__patient_control_number__startswith="P")
    assert prior.filter(code__in=("99213", "99214")).count() >= row["denominator"]
    assert prior.filter(code="33533").exists()


def test_fum_and_fuh_have_denominators_and_follow_ups(built: DemoSummary, db_access: None) -> None:
    rates = _rates()
    fum30, fum7 = rates["FUM 30-day"], rates["FUM 7-day"]
    assert fum30["denominator"] >= 5, fum30
    assert fum7["denominator"] == fum30["denominator"]
    assert 0.35 <= _rate(fum30) <= 0.9, fum30
    assert 0.1 <= _rate(fum7) <= _rate(fum30), (fum7, fum30)
    fuh30, fuh7 = rates["FUH 30-day"], rates["FUH 7-day"]
    assert fuh30["denominator"] >= 1, fuh30
    assert 0.0 <= _rate(fuh7) <= _rate(fuh30) <= 1.0, (fuh7, fuh30)
