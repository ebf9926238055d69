"""The small IPA with a year of diagnoses for risk scoring (payment year 2026: diagnoses of 2025, the prior
window 2024).

- Amy (practice A): a 2025 claim with E11.9 (HCC 38) and I10 (no HCC); an accepted EHR's N18.31 (HCC 329) dated
  2025-06-01; a not-accepted HIE's I48.91 (would be HCC 238); a voided claim with I50.20 (would be HCC 226); an
  HbA1c of 7.2% (diabetes: already coded, so no suspect).
- Bert (practice B): a 2024 claim with E11.22 (HCC 37: a recapture gap), no 2025 diagnosis; an apixaban fill
  in 2025 (suspect HCC 238); eGFR 52 and 48, 120 days apart (suspect HCC 329).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from openipa.conftest import PASSWORD, SmallIpa

CLINICAL_HEADER = ("record_id,patient_id,member_id,first_name,last_name,date_of_birth,sex,record_type,"
                   "code_system,code,value,unit,date\n")  # fmt: skip
AMY = "MRN1,SUN0001,Amy,Anders,1950-03-04,F"
BERT = "MRN2,SUN0002,Bert,Brooks,1948-07-08,M"


def claim(
    ipa: SmallIpa, member: Any, on: dt.date, codes: list[str], *, void: bool = False, procedure: str = "99214",
    kind: str = "professional", type_of_bill: str = "",
) -> Any:  # fmt: skip
    from openipa.claims.models import Claim, ClaimImport, ClaimLine

    source = ClaimImport.objects.first() or ClaimImport.objects.create(
        file_name="t.837", sha256="0" * 64, format="x12", status="applied", received_on=on, imported_by="t"
    )
    diagnoses = [["ABK" if i == 0 else "ABF", c] for i, c in enumerate(codes)]
    made = Claim.objects.create(
        source=source, kind=kind, type_of_bill=type_of_bill, patient_control_number=f"P{Claim.objects.count()}",
        member=member,
        member_key=member.payer_member_id, billing_npi="1234567893", service_from=on, service_to=on,
        received_on=on, charge_cents=10000, diagnoses=diagnoses, frequency="8" if void else "1",
    )  # fmt: skip
    return ClaimLine.objects.create(claim=made, number=1, code=procedure, units=1, charge_cents=10000,
                                    service_from=on, service_to=on)  # fmt: skip


def clinical_file(
    tmp_path: Path, code: str, rows: list[str], *, accepted: bool = True, kind: str = "ehr"
) -> None:
    from openipa.clinical import services as clinical_services

    clinical_services.register_source(actor=None, code=code, name=code, kind=kind, default_format="csv",
                                      accepted_for_risk=accepted)  # fmt: skip
    path = tmp_path / f"{code}.csv"
    path.write_text(
        CLINICAL_HEADER + "".join(f"{code}{n},{row}\n" for n, row in enumerate(rows)), encoding="utf-8"
    )
    clinical_services.import_clinical(actor=None, path=path, source_code=code)


def pharmacy_file(tmp_path: Path, rows: list[str]) -> None:
    from openipa.clinical import services as clinical_services

    clinical_services.register_source(actor=None, code="sun-pbm", name="Sunrise PBM", kind="pharmacy",
                                      default_format="pharmacy-csv")  # fmt: skip
    path = tmp_path / "pbm.csv"
    header = "claim_id,member_id,ndc,fill_date,days_supply,quantity,pharmacy_npi,paid_amount,claim_status,drug_name\n"
    path.write_text(header + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    clinical_services.import_clinical(actor=None, path=path, source_code="sun-pbm", fmt="pharmacy-csv")


@pytest.fixture
def risk_ipa(small_ipa: SmallIpa, tmp_path: Path) -> SmallIpa:
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role

    for name in ("quality", "quality2"):
        small_ipa.users[name] = user_create(actor=None, username=name, password=PASSWORD, role=Role.QUALITY)
    small_ipa.amy_line = claim(small_ipa, small_ipa.member_a, dt.date(2025, 3, 10), ["E11.9", "I10"])  # type: ignore[attr-defined]
    claim(small_ipa, small_ipa.member_a, dt.date(2025, 4, 1), ["I5020"], void=True)
    small_ipa.bert_prior_line = claim(small_ipa, small_ipa.member_b, dt.date(2024, 8, 1), ["E1122"])  # type: ignore[attr-defined]
    clinical_file(tmp_path, "alder-ehr", [f"{AMY},diagnosis,ICD10CM,N18.31,,,2025-06-01",
                                          f"{AMY},lab,LOINC,4548-4,7.2,%,2025-06-01",
                                          f"{BERT},lab,LOINC,48642-3,52,mL/min,2025-02-01",
                                          f"{BERT},lab,LOINC,48642-3,48,mL/min,2025-06-01"])  # fmt: skip
    clinical_file(
        tmp_path, "hie", [f"{AMY},diagnosis,ICD10CM,I48.91,,,2025-05-01"], accepted=False, kind="hie"
    )
    pharmacy_file(tmp_path, ["RX1,SUN0002,00003-0894-21,2025-07-01,30,60,1245319599,10.00,paid,Eliquis 5 MG"])
    return small_ipa
