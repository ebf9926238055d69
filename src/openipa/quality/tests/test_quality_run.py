"""`openipa quality run --year`: the measures engine on the database's members, eligibility, claims and
linked clinical records."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openipa.clinical import services as clinical_services
from openipa.conftest import SmallIpa
from openipa.core.errors import PermissionDenied
from openipa.quality.selectors import quality_rates

pytestmark = pytest.mark.django_db

HEADER = "record_id,patient_id,member_id,first_name,last_name,date_of_birth,sex,record_type,code_system,code,value,unit,date\n"
AMY = "MRN1,SUN0001,Amy,Anders,1950-03-04,F"


def _clinical(small_ipa: SmallIpa, tmp_path: Path, rows: list[str]) -> None:
    clinical_services.register_source(actor=None, code="alder-ehr", name="Alder EHR", kind="ehr",
                                      default_format="csv", practice=small_ipa.practice_a)  # fmt: skip
    path = tmp_path / "ehr.csv"
    path.write_text(HEADER + "".join(f"r{n},{AMY},{row}\n" for n, row in enumerate(rows)), encoding="utf-8")
    clinical_services.import_clinical(actor=None, path=path, source_code="alder-ehr")


def test_quality_run_prints_every_measure_as_json(small_ipa: SmallIpa, tmp_path: Path) -> None:
    _clinical(
        small_ipa,
        tmp_path,
        ["vital,LOINC,85354-9,128/78,mm[Hg],2026-04-01", "lab,LOINC,4548-4,7.2,%,2026-04-01"],
    )
    out = StringIO()
    call_command("quality", "run", "--year", "2026", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["year"], result["members"]) == (2026, 2)
    measures = {row["measure"] for row in result["rates"]}
    assert {
        "BCS-E",
        "COL-E",
        "CBP",
        "GSD",
        "EED",
        "KED",
        "W30-15",
        "W30-30",
        "WCV",
        "CIS-E",
        "FUM",
        "FUH",
    } <= measures
    for row in result["rates"]:
        assert row["numerator"] <= row["denominator"] <= row["eligible"]
        assert set(row) == {"measure", "rate", "eligible", "excluded", "denominator", "numerator", "rate_value",
                            "inverse"}  # fmt: skip


def test_a_year_without_definitions_is_an_error(small_ipa: SmallIpa) -> None:
    with pytest.raises(CommandError, match="no measure definitions for 1999"):
        call_command("quality", "run", "--year", "1999", stdout=StringIO())


@pytest.mark.parametrize("persona", ["alice", "fin", "messenger"])
def test_network_wide_rates_are_for_quality_staff(small_ipa: SmallIpa, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        quality_rates(small_ipa.users[persona], year=2026)
