"""A small IPA with quality data: Cara (56, diabetic, HbA1c 9.4%, no mammogram or colon screening: open gaps at
practice A), Amy (76, hypertensive, last blood pressure 150/95: a CBP gap at practice A) and Bert (78,
hypertensive, 128/78: CBP met at practice B); clinical records from the Alder EHR, a statin fill from a
pharmacy source. And a quality staff user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openipa.clinical import services as clinical_services
from openipa.conftest import PASSWORD, SmallIpa

HEADER = (
    "record_id,patient_id,member_id,first_name,last_name,date_of_birth,sex,record_type,code_system,code,value,"
    "unit,date\n"
)
ROWS = {
    ("MRN1", "SUN0001", "Amy", "Anders", "1950-03-04", "F"): [
        "diagnosis,ICD10CM,I10,,,2026-02-01",
        "diagnosis,ICD10CM,I10,,,2026-03-01",
        "vital,LOINC,85354-9,150/95,mm[Hg],2026-04-01",
    ],
    ("MRN2", "SUN0002", "Bert", "Brooks", "1948-07-08", "M"): [
        "diagnosis,ICD10CM,I10,,,2026-02-01",
        "diagnosis,ICD10CM,I10,,,2026-03-01",
        "vital,LOINC,85354-9,128/78,mm[Hg],2026-04-01",
    ],
    ("MRN3", "SUN0003", "Cara", "Cole", "1970-05-06", "F"): [
        "diagnosis,ICD10CM,E11.9,,,2026-01-15",
        "diagnosis,ICD10CM,E11.9,,,2026-02-15",
        "lab,LOINC,4548-4,9.4,%,2026-03-02",
        "lab,LOINC,33914-3,75,mL/min/1.73m2,2026-03-02",
    ],
}


@dataclass
class QualityIpa:
    ipa: SmallIpa
    cara: Any
    quality: Any  # a quality staff user (VIEW_CLINICAL, EDIT_CLINICAL)


def write_clinical(path: Path) -> Path:
    lines = [HEADER]
    n = 0
    for (mrn, member, first, last, born, sex), rows in ROWS.items():
        for row in rows:
            n += 1
            lines.append(f"r{n},{mrn},{member},{first},{last},{born},{sex},{row}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def quality_ipa(small_ipa: SmallIpa, tmp_path: Path) -> QualityIpa:
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role
    from openipa.membership.services import eligibility_add, member_create, pcp_assign

    cara = member_create(
        actor=None,
        data={"payer": small_ipa.payer, "payer_member_id": "SUN0003", "first_name": "Cara", "last_name": "Cole",
              "date_of_birth": dt.date(1970, 5, 6), "sex": "F", "city": "Pasadena", "state": "CA"},
    )  # fmt: skip
    eligibility_add(actor=None, member=cara, product=small_ipa.product, valid_from=dt.date(2024, 1, 1),
                    valid_to=None)  # fmt: skip
    pcp_assign(
        actor=None, member=cara, provider=small_ipa.pcp_a, valid_from=dt.date(2026, 1, 1), valid_to=None
    )
    clinical_services.register_source(actor=None, code="alder-ehr", name="Alder EHR", kind="ehr",
                                      default_format="csv", practice=small_ipa.practice_a)  # fmt: skip
    clinical_services.import_clinical(actor=None, path=write_clinical(tmp_path / "ehr.csv"),
                                      source_code="alder-ehr")  # fmt: skip
    quality = user_create(actor=None, username="quinn", password=PASSWORD, role=Role.QUALITY)
    return QualityIpa(small_ipa, cara, quality)
