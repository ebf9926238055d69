"""The board's golden fixture: the small IPA plus a commercial product, one quarter (2026-Q2) of capitation
received, claims paid, capitation distributed, an approved IBNR estimate, ledger entries posted through the ledger
service, two quality runs and a messenger offer with a distinctive rate (which the board must never see).

Hand-computed figures (tests/test_pages.py and docs/board.md use them):

- member-months: members A and B in Medicare Advantage April to June (6), member C in commercial (3): 9.
- revenue: A 800.00, B 700.00, C 400.00 a month; a payer line of 10.00 in April (no member) is split over
  the payer's April member revenue per line of business (commercial 400.00, Medicare Advantage 1,500.00):
  allocate(1000, [40000, 150000]) = [211, 789]. Medicare Advantage 4,507.89; commercial 1,202.11.
- claims paid: A 1,000.00 (April, professional, office, E11.9), B 2,500.00 (May, inpatient, inpatient hospital,
  I21.4), C 300.00 (June, emergency, emergency room, S01.00XA); a line paid and reversed (net 0), a line in a
  run approved but not paid and a line paid in July are not counted. Medicare Advantage 3,500.00, commercial
  300.00.
- capitation to practices: April's approved run, 350.00 for each of A and B (PCP net 300 + quality 10 +
  specialist 40): 700.00 Medicare Advantage; a draft run is not counted.
- IBNR: the approved estimate as of 2026-06: Medicare Advantage May 100.00 + June 400.00, commercial June 50.00
  (and 7.77 for March, outside the quarter); its total 557.77.
- ledger at 2026-06-30: cash 9,000.00, capitation receivable 500.00, claims payable 2,000.00, retained
  surplus 10,000.00, admin fee revenue 500.00, medical claims expense 3,000.00 (a July entry is not counted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from openipa.capitation.models import DistributionLine, DistributionRun, ReceivedLine, RemittanceImport
from openipa.claims.models import Claim, ClaimImport, ClaimLine, ClaimPaymentRun, IbnrEstimate
from openipa.conftest import PASSWORD
from openipa.ledger import accounts
from openipa.ledger.services import Posting, post_entry
from openipa.quality.models import QualityRun, RateResult

d = dt.date
AS_OF = d(2026, 7, 15)
OFFER_TITLE = "Zephyr orthopedics fee offer"
OFFER_RATE_CENTS = 13_377  # $133.77 for 99213: must never appear on a board page
OFFER_TERMS = "Pays 133.77 for 99213, quill-feather clause"


@dataclass
class BoardIpa:
    ipa: Any
    member_c: Any
    commercial: Any
    users: dict[str, Any]
    estimate: IbnrEstimate


def _run(payment_date: dt.date, status: str = ClaimPaymentRun.Status.PAID) -> ClaimPaymentRun:
    return ClaimPaymentRun.objects.create(
        through=payment_date, payment_date=payment_date, prepared_by="fin", status=status
    )


def _claim(
    member: Any,
    service: dt.date,
    cents: int,
    run: ClaimPaymentRun | None,
    *,
    category: str,
    pos: str,
    dx: str,
    decided: dt.date | None,
    reversal: ClaimPaymentRun | None = None,
    outcome: str = ClaimLine.Outcome.PAID,
) -> ClaimLine:
    source = ClaimImport.objects.first() or ClaimImport.objects.create(
        file_name="t.837",
        sha256="0" * 64,
        format="x12",
        status="applied",
        received_on=service,
        imported_by="t",
    )
    claim = Claim.objects.create(
        source=source, kind="professional", patient_control_number=f"B{Claim.objects.count()}", member=member,
        member_key=member.payer_member_id, billing_npi="1912301953", service_from=service, service_to=service,
        received_on=service, charge_cents=cents, place_of_service=pos,
    )  # fmt: skip
    decided_at = (
        timezone.make_aware(dt.datetime(decided.year, decided.month, decided.day, 12)) if decided else None
    )
    return ClaimLine.objects.create(
        claim=claim, number=1, code="99213", units=1, charge_cents=cents, service_from=service, service_to=service,
        outcome=ClaimLine.Outcome.REVERSED if reversal else outcome, service_category=category,
        place_of_service=pos, diagnosis_codes=dx, allowed_cents=cents, paid_cents=cents,
        payment_run_id=run.pk if run else None, reversal_run_id=reversal.pk if reversal else None,
        adjudicated_at=decided_at,
    )  # fmt: skip


@pytest.fixture
def board_ipa(small_ipa: Any) -> BoardIpa:
    from openipa.accounts.services import user_create
    from openipa.contracts.services import product_create
    from openipa.core.roles import Role
    from openipa.membership.services import eligibility_add, member_create, pcp_assign
    from openipa.messenger.services import offer_create

    ipa = small_ipa
    admin = ipa.users["admin"]
    commercial = product_create(
        actor=admin,
        payer=ipa.payer,
        code="COMM",
        name="Sunrise Commercial HMO",
        line_of_business="commercial",
    )
    member_c = member_create(
        actor=None,
        data={"payer": ipa.payer, "payer_member_id": "SUN0003", "first_name": "Cal", "last_name": "Carver",
              "date_of_birth": d(1980, 1, 1), "sex": "M", "city": "Pasadena", "state": "CA"},
    )  # fmt: skip
    eligibility_add(actor=None, member=member_c, product=commercial, valid_from=d(2026, 4, 1), valid_to=None)
    pcp_assign(actor=None, member=member_c, provider=ipa.pcp_a, valid_from=d(2026, 4, 1), valid_to=None)
    users = dict(ipa.users)
    users["board"] = user_create(actor=None, username="boardie", password=PASSWORD, role=Role.BOARD)
    users["quality"] = user_create(actor=None, username="qual", password=PASSWORD, role=Role.QUALITY)

    # revenue: capitation received
    applied = RemittanceImport.objects.create(payer=ipa.payer, file_name="q2.820", sha256="1" * 64,
                                              format="x12-820", status="applied", imported_by="t")  # fmt: skip
    rejected = RemittanceImport.objects.create(payer=ipa.payer, file_name="bad.820", sha256="2" * 64,
                                               format="x12-820", status="rejected", imported_by="t")  # fmt: skip
    for month in (4, 5, 6):
        for member, cents in ((ipa.member_a, 80_000), (ipa.member_b, 70_000), (member_c, 40_000)):
            ReceivedLine.objects.create(remittance=applied, payer=ipa.payer, member=member,
                                        payer_member_id=member.payer_member_id, month=d(2026, month, 1),
                                        amount_cents=cents)  # fmt: skip
    ReceivedLine.objects.create(remittance=applied, payer=ipa.payer, payer_member_id="", month=d(2026, 4, 1),
                                kind=ReceivedLine.Kind.ADJUSTMENT, amount_cents=1_000)  # fmt: skip
    ReceivedLine.objects.create(remittance=rejected, payer=ipa.payer, member=ipa.member_a, payer_member_id="SUN0001",
                                month=d(2026, 5, 1), amount_cents=99_999)  # fmt: skip
    ReceivedLine.objects.create(remittance=applied, payer=ipa.payer, member=ipa.member_a, payer_member_id="SUN0001",
                                month=d(2026, 7, 1), amount_cents=80_000)  # fmt: skip

    # claims paid
    apr, may, jun = _run(d(2026, 4, 30)), _run(d(2026, 5, 31)), _run(d(2026, 6, 15))
    _claim(ipa.member_a, d(2026, 4, 10), 100_000, apr, category="professional", pos="11", dx="E119,I10",
           decided=d(2026, 4, 13))  # fmt: skip
    _claim(ipa.member_b, d(2026, 5, 5), 250_000, may, category="inpatient", pos="21", dx="I214",
           decided=d(2026, 5, 8))  # fmt: skip
    _claim(member_c, d(2026, 6, 1), 30_000, jun, category="emergency", pos="23", dx="S0100XA",
           decided=d(2026, 6, 3))  # fmt: skip
    _claim(ipa.member_a, d(2026, 5, 10), 20_000, may, category="professional", pos="11", dx="E119",
           decided=d(2026, 5, 12), reversal=jun)  # fmt: skip
    _claim(ipa.member_a, d(2026, 6, 3), 5_555, _run(d(2026, 6, 25), ClaimPaymentRun.Status.APPROVED),
           category="professional", pos="11", dx="E119", decided=d(2026, 6, 5))  # fmt: skip
    _claim(ipa.member_b, d(2026, 6, 20), 7_777, _run(d(2026, 7, 10)), category="professional", pos="11",
           dx="E119", decided=d(2026, 6, 25))  # fmt: skip
    # received 2 April, still pended on 15 July: open past its 45-working-day deadline
    _claim(member_c, d(2026, 4, 2), 0, None, category="professional", pos="11", dx="Z0000", decided=None,
           outcome=ClaimLine.Outcome.PENDED)  # fmt: skip

    # capitation distributed to practices
    approved = DistributionRun.objects.create(payer=ipa.payer, month=d(2026, 4, 1), prepared_by="fin",
                                              status=DistributionRun.Status.APPROVED)  # fmt: skip
    draft = DistributionRun.objects.create(payer=ipa.payer, month=d(2026, 5, 1), prepared_by="fin")
    for member, practice in ((ipa.member_a, ipa.practice_a), (ipa.member_b, ipa.practice_b)):
        DistributionLine.objects.create(run=approved, member=member, month=d(2026, 4, 1), practice=practice,
                                        product_id=ipa.product.pk, pcp_net_cents=30_000, quality_cents=1_000,
                                        specialist_cents=4_000, withhold_cents=3_000)  # fmt: skip
    DistributionLine.objects.create(run=draft, member=ipa.member_a, month=d(2026, 5, 1), practice=ipa.practice_a,
                                    product_id=ipa.product.pk, pcp_net_cents=99_000)  # fmt: skip

    # the reserve estimate
    results = [
        {"line_of_business": "medicare_advantage", "incurred_month": "2026-03", "ibnr_cents": 777},
        {"line_of_business": "medicare_advantage", "incurred_month": "2026-05", "ibnr_cents": 10_000},
        {"line_of_business": "medicare_advantage", "incurred_month": "2026-06", "ibnr_cents": 40_000},
        {"line_of_business": "commercial", "incurred_month": "2026-06", "ibnr_cents": 5_000},
    ]
    estimate = IbnrEstimate.objects.create(
        as_of=d(2026, 6, 1), status=IbnrEstimate.Status.APPROVED, method="volume_weighted", results=results,
        group_by=["line_of_business"], total_paid_cents=380_000, total_ibnr_cents=55_777, prepared_by="fin",
        approved_by="fin2",
    )  # fmt: skip
    IbnrEstimate.objects.create(as_of=d(2026, 5, 1), status=IbnrEstimate.Status.APPROVED, method="simple",
                                total_ibnr_cents=1, prepared_by="fin", approved_by="fin2")  # fmt: skip

    # the ledger
    def post(day: dt.date, debit: str, credit: str, cents: int) -> None:
        post_entry(actor=None, date=day, memo="board fixture", source_type="test", source_id=f"{day}-{debit}",
                   postings=[Posting(debit, debit_cents=cents), Posting(credit, credit_cents=cents)])  # fmt: skip

    post(d(2026, 4, 1), accounts.CASH, accounts.RETAINED_SURPLUS, 1_000_000)
    post(d(2026, 5, 15), accounts.MEDICAL_CLAIMS_EXPENSE, accounts.CLAIMS_PAYABLE, 300_000)
    post(d(2026, 5, 20), accounts.CLAIMS_PAYABLE, accounts.CASH, 100_000)
    post(d(2026, 6, 10), accounts.CAPITATION_RECEIVABLE, accounts.ADMIN_FEE_REVENUE, 50_000)
    post(d(2026, 7, 5), accounts.MEDICAL_CLAIMS_EXPENSE, accounts.CASH, 999_999)

    # quality runs
    for i, (as_of, numerator) in enumerate(((d(2026, 3, 31), 30), (d(2026, 6, 30), 36))):
        run = QualityRun.objects.create(
            measurement_year=2026, as_of=as_of, run_at=timezone.make_aware(dt.datetime(2026, 7, 1, 9 + i)),
            run_by="t", definitions_sha256="0" * 64, value_sets_sha256="0" * 64, member_count=60,
            status=QualityRun.Status.COMPLETE,
        )  # fmt: skip
        RateResult.objects.create(run=run, measure="COL-E", measure_name="Colorectal cancer screening",
                                  rate="COL-E", eligible=60, excluded=0, denominator=60, numerator=numerator,
                                  rate_value=Decimal(numerator) / 60)  # fmt: skip

    # a messenger offer with a distinctive rate
    offer = offer_create(
        actor=ipa.users["messenger"], payer=ipa.payer, title=OFFER_TITLE, terms=OFFER_TERMS,
        effective_from=d(2026, 7, 1), respond_by=d(2026, 8, 1), rates=[("99213", "", OFFER_RATE_CENTS)],
    )  # fmt: skip
    assert offer.pk
    return BoardIpa(ipa, member_c, commercial, users, estimate)
