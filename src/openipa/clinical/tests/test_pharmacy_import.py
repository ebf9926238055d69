"""Pharmacy claims from a PBM: loaded against members by member id, reversals kept, bad rows left out, and the
fills measures read (paid, not reversed)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from openipa.clinical import services
from openipa.clinical.models import ClinicalImport, PharmacyFill
from openipa.conftest import SmallIpa
from openipa.quality.selectors import measure_inputs

pytestmark = pytest.mark.django_db

HEADER = "claim_id,member_id,ndc,fill_date,days_supply,quantity,pharmacy_npi,paid_amount,claim_status\n"


def test_pharmacy_claims_load_and_reversals_drop_out_of_the_measures(
    small_ipa: SmallIpa, tmp_path: Path
) -> None:
    services.register_source(actor=None, code="sun-pbm", name="Sunrise PBM", kind="pharmacy",
                             default_format="pharmacy-csv")  # fmt: skip
    path = tmp_path / "fills.csv"
    path.write_text(
        HEADER
        + "C1,SUN0001,00093505601,2026-02-01,30,30,1003000126,12.34,paid\n"
        + "C2,SUN0001,00093505601,2026-03-01,30,30,1003000126,12.34,paid\n"
        + "C2,SUN0001,00093505601,2026-03-01,30,30,1003000126,-12.34,reversed\n"
        + "C3,NOBODY,00093505601,2026-03-01,30,30,1003000126,12.34,paid\n"
        + "C4,SUN0001,123,2026-03-01,30,30,1003000126,12.34,paid\n",
        encoding="utf-8",
    )
    (record,) = services.import_clinical(actor=None, path=path, source_code="sun-pbm")
    assert (record.status, record.format, record.records, record.error_count) == (
        "applied",
        "pharmacy-csv",
        4,
        1,
    )
    assert (record.linked, record.unmatched) == (1, 1)
    c1 = PharmacyFill.objects.get(claim_id="C1")
    assert (c1.member_id, c1.paid_cents, c1.quantity) == (small_ipa.member_a.pk, 1234, Decimal(30))
    assert PharmacyFill.objects.get(claim_id="C3").member_id is None
    fills = measure_inputs().pharmacy
    assert fills is not None
    assert fills["fill_id"].to_list() == [c1.pk]  # C2 was reversed, C3 has no member


def test_a_pharmacy_file_without_its_columns_is_refused_whole(small_ipa: SmallIpa, tmp_path: Path) -> None:
    services.register_source(actor=None, code="sun-pbm", name="Sunrise PBM", kind="pharmacy",
                             default_format="pharmacy-csv")  # fmt: skip
    path = tmp_path / "fills.csv"
    path.write_text("claim,member\nC1,SUN0001\n", encoding="utf-8")
    (record,) = services.import_clinical(actor=None, path=path, source_code="sun-pbm")
    assert record.status == ClinicalImport.Status.REJECTED
    assert not PharmacyFill.objects.exists()
