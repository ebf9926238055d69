"""A golden member for the Tuva export, on top of the small IPA (payer SUN, practices Alder and Birch):

- Gina Golden (SUN0099, born 1951-06-07, female, 5 Elm St, Pasadena CA 91101, 626-555-0199): eligible in
  Sunrise Medicare HMO 1 Jan - 15 Mar 2026, then in Sunrise Commercial HMO from 16 Mar 2026 (open-ended); PCP
  Dr Alder (Alder Family Medicine) 1 Jan - 10 Mar, Dr Birch (Birch Pediatrics) from 11 Mar.
- A professional claim (10 Feb 2026, billed by Alder, two lines, ICD-10 E119 and I10 plus an admitting
  diagnosis that is not exported) and an institutional claim (20-22 Mar 2026, three lines, one denied).
- Claims not exported: a replaced original (status reversed), a void, one still pended, one without a member.
- Two pharmacy fills: RX1 paid; RX2 paid and then reversed (not exported).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openipa.claims.models import Claim, ClaimImport, ClaimLine, ClaimPaymentRun
from openipa.clinical.models import ClinicalImport, ClinicalSource, PharmacyFill
from openipa.contracts.models import Product
from openipa.membership.services import eligibility_add, member_create, pcp_assign

D = dt.date


@dataclass
class Golden:
    ipa: Any
    member: Any
    other_product: Any
    professional: Claim
    institutional: Claim
    run: ClaimPaymentRun


def _claim(source: ClaimImport, member: Any, **fields: Any) -> Claim:
    base: dict[str, Any] = {
        "source": source, "kind": "professional", "patient_control_number": "PCN", "member": member,
        "member_key": member.payer_member_id if member else "UNKNOWN", "billing_npi": "1234567893",
        "service_from": D(2026, 2, 10), "service_to": D(2026, 2, 10), "received_on": D(2026, 2, 15),
        "charge_cents": 0, "status": "adjudicated",
    }  # fmt: skip
    base.update(fields)
    return Claim.objects.create(**base)


def _line(claim: Claim, number: int, **fields: Any) -> ClaimLine:
    base: dict[str, Any] = {
        "claim": claim, "number": number, "units": 1, "charge_cents": 0, "service_from": claim.service_from,
        "service_to": claim.service_to, "outcome": "paid",
    }  # fmt: skip
    base.update(fields)
    return ClaimLine.objects.create(**base)


@pytest.fixture
def golden(small_ipa: Any) -> Golden:
    ipa = small_ipa
    commercial = Product.objects.create(
        payer=ipa.payer, code="COMM", name="Sunrise Commercial HMO", line_of_business="commercial"
    )
    member = member_create(
        actor=None,
        data={
            "payer": ipa.payer, "payer_member_id": "SUN0099", "first_name": "Gina", "last_name": "Golden",
            "date_of_birth": D(1951, 6, 7), "sex": "F", "address_line1": "5 Elm St", "city": "Pasadena",
            "state": "CA", "zip_code": "91101", "phone": "626-555-0199", "orec": "1",
            "medicaid_dual_status": "02",
        },
    )  # fmt: skip
    eligibility_add(
        actor=None, member=member, product=ipa.product, valid_from=D(2026, 1, 1), valid_to=D(2026, 3, 15)
    )
    eligibility_add(actor=None, member=member, product=commercial, valid_from=D(2026, 3, 16), valid_to=None)
    pcp_assign(
        actor=None, member=member, provider=ipa.pcp_a, valid_from=D(2026, 1, 1), valid_to=D(2026, 3, 10)
    )
    pcp_assign(actor=None, member=member, provider=ipa.pcp_b, valid_from=D(2026, 3, 11), valid_to=None)

    source = ClaimImport.objects.create(
        file_name="claims-2026-03.837", sha256="0" * 64, format="x12", status="imported",
        received_on=D(2026, 3, 25), imported_by="t",
    )  # fmt: skip
    run = ClaimPaymentRun.objects.create(
        status="paid", through=D(2026, 3, 1), payment_date=D(2026, 3, 5), prepared_by="fin"
    )
    draft = ClaimPaymentRun.objects.create(
        status="draft", through=D(2026, 3, 28), payment_date=D(2026, 4, 2), prepared_by="fin"
    )
    professional = _claim(
        source, member, patient_control_number="P1", billing_tin="123456789", billing_practice=ipa.practice_a,
        rendering_npi="1234567893", place_of_service="11", charge_cents=17500, status="paid",
        diagnoses=[["ABK", "E11.9"], ["ABF", "I10"], ["ABJ", "R05"]],
    )  # fmt: skip
    _line(professional, 1, code="99214", modifiers="25", charge_cents=15000, allowed_cents=9000,
          cost_share_cents=2000, paid_cents=7000, payment_run_id=run.pk)  # fmt: skip
    _line(professional, 2, code="36415", units="1.000", charge_cents=2500, allowed_cents=1000, paid_cents=1000,
          place_of_service="", rendering_npi="1245319599", payment_run_id=run.pk)  # fmt: skip
    institutional = _claim(
        source, member, kind="institutional", patient_control_number="I1", billing_npi="1003000126",
        billing_tin="987654321", facility_npi="1003000126", type_of_bill="0111", place_of_service="",
        service_from=D(2026, 3, 20), service_to=D(2026, 3, 22), charge_cents=512344,
        diagnoses=[["ABK", "I214"], ["ABF", "E119"], ["ABF", "N179"]],
    )  # fmt: skip
    _line(institutional, 1, revenue_code="0120", units=2, charge_cents=400000, allowed_cents=300000,
          paid_cents=300000, payment_run_id=draft.pk)  # fmt: skip
    _line(institutional, 2, revenue_code="0250", units="10.500", charge_cents=12345, allowed_cents=10001,
          cost_share_cents=1, paid_cents=10000)  # fmt: skip
    _line(institutional, 3, revenue_code="0450", code="99284", modifiers="25,GT", charge_cents=99999,
          outcome="denied", carc="50")  # fmt: skip
    # not exported
    original = _claim(source, member, patient_control_number="P0", status="reversed")
    _line(original, 1, code="99213", charge_cents=100, paid_cents=100)
    void = _claim(source, member, patient_control_number="P0", frequency="8", original=original)
    _line(void, 1, code="99213", charge_cents=100)
    pended = _claim(source, member, patient_control_number="P2", status="pended")
    _line(pended, 1, code="99213", charge_cents=100, outcome="pended")
    stranger = _claim(source, None, patient_control_number="P3", status="paid")
    _line(stranger, 1, code="99213", charge_cents=100, paid_cents=50)

    rx_source = ClinicalSource.objects.create(
        code="pbm", name="The PBM", kind="pharmacy", default_format="pharmacy-csv"
    )
    rx_import = ClinicalImport.objects.create(
        source=rx_source, file_name="pbm-2026-02.csv", stored_path="x", sha256="1" * 64, size=1,
        format="pharmacy-csv", status="applied", imported_at=timezone.make_aware(dt.datetime(2026, 2, 9, 8, 30)),
        imported_by="t",
    )  # fmt: skip
    fill = {"source": rx_source, "clinical_import": rx_import, "member": member, "member_key": "SUN0099",
            "ndc": "00093505601", "days_supply": 30, "prescriber_npi": "1234567893", "pharmacy_npi": "1598765432"}  # fmt: skip
    PharmacyFill.objects.create(**fill, claim_id="RX1", status="paid", fill_date=D(2026, 2, 5), quantity="30.000",
                                paid_cents=1234)  # fmt: skip
    PharmacyFill.objects.create(**fill, claim_id="RX2", status="paid", fill_date=D(2026, 2, 6), quantity="60",
                                paid_cents=999)  # fmt: skip
    PharmacyFill.objects.create(**fill, claim_id="RX2", status="reversed", fill_date=D(2026, 2, 6),
                                quantity="60", paid_cents=-999)  # fmt: skip
    return Golden(ipa, member, commercial, professional, institutional, run)
