"""write_835_claims: an IPA's claim payment 835 to one payee. Golden files, pyx12 validation, balancing,
reversals, PLB interest and recoveries, zero pay, read back with read_835_claims (and hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.t820 import EftAccounts
from openipa.edi.t835 import (
    Address,
    ClaimAdjustment,
    ClaimPayment835,
    Contact,
    Payment835,
    ProviderAdjustment,
    Remittance835,
    ServicePayment835,
    Written835,
    balance_problem,
    claims_payment,
    interest,
    overpayment_recovery,
    read_835_claims,
    read_835_payments,
    reversal_of,
    write_835_claims,
)
from openipa.edi.tests.test_t835 import pyx12_errors
from openipa.edi.x12 import Delimiters, X12Error

NPI = "1234567893"  # the payee practice
RENDERING = "1245319599"
YEAR_END = dt.date(2024, 12, 31)
DOS = dt.date(2024, 3, 4)
EFT = EftAccounts("011000015", "4455667788", "021000021", "12345678")
OPTIONS: dict[str, object] = {
    "sender_id": "SUNRISEIPA",
    "receiver_id": "ALDERFM",
    "payer_address": Address(("1 IPA PLAZA",), "FRESNO", "CA", "93721"),
    "payer_contact": Contact("CLAIMS EDI", phone="5595550100"),
    "payee_address": Address(("200 ALDER ST", "SUITE 3"), "FRESNO", "CA", "93710"),
    "when": dt.datetime(2024, 4, 1, 9, 30),
    "eft": EFT,
}
HEADER = Payment835(
    control_number="0001",
    total_cents=0,
    credit_debit="C",
    payment_method="ACH",
    payment_date=dt.date(2024, 4, 3),
    trace_number="EFT240403A",
    originator_id="1987654321",
    payer_name="SUNRISE IPA",
    payer_id="SIPA01",
    payee_name="ALDER FAMILY MEDICINE",
    payee_id_qualifier="XX",
    payee_id=NPI,
    payee_tin="943456789",
    production_date=dt.date(2024, 4, 1),
    claim_count=0,
    claim_paid_cents=0,
    adjustments=(),
    segment_number=3,
)


def line(code: str, charge: int, paid: int, *cas: ClaimAdjustment, **more: object) -> ServicePayment835:
    return ServicePayment835(code, charge, paid, adjustments=cas, service_date=DOS, **more)  # type: ignore[arg-type]


def claim(number: str, *services: ServicePayment835, **more: object) -> ClaimPayment835:
    fields: dict[str, object] = {
        "patient_control_number": number,
        "status": "1",
        "charge_cents": sum(s.charge_cents for s in services),
        "paid_cents": sum(s.paid_cents for s in services),
        "payer_claim_number": f"IPA{number}",
        "patient_last_name": "DOE",
        "patient_first_name": "JANE",
        "patient_id": "M1001",
        "patient_responsibility_cents": sum(
            a.amount_cents for s in services for a in s.adjustments if a.group == "PR"
        ),
        "facility_code": "11",
        "frequency_code": "1",
        "services": services,
        **more,
    }
    return ClaimPayment835(**fields)  # type: ignore[arg-type]


PAID = claim(
    "PCN1",
    line(
        "99213", 15000, 9200, ClaimAdjustment("CO", "45", 5000), ClaimAdjustment("PR", "3", 800),
        modifiers=("25",), units=1, line_control_number="L1", allowed_cents=10000,
    ),
    rendering_npi=RENDERING, rendering_last_name="SMITH", rendering_first_name="ANNA",
    statement_from=DOS, statement_to=DOS, received=dt.date(2024, 3, 10),
)  # fmt: skip
PARTLY_DENIED = claim(
    "PCN2",
    line("99214", 20000, 8500, ClaimAdjustment("CO", "45", 5000), ClaimAdjustment("PR", "1", 5000),
         ClaimAdjustment("PR", "2", 1500), allowed_cents=15000),
    line("36415", 2500, 0, ClaimAdjustment("CO", "97", 2500), remark_codes=("N19", "M15")),
    line("81002", 1500, 1000, ClaimAdjustment("CO", "45", 300), ClaimAdjustment("PR", "3", 200), units=2),
)  # fmt: skip
DENIED = claim(
    "PCN3", status="4", charge_cents=30000, paid_cents=0, adjustments=(ClaimAdjustment("CO", "29", 30000),),
    services=(), patient_responsibility_cents=0,
)  # fmt: skip


def write(
    claims: list[ClaimPayment835], plbs: tuple[ProviderAdjustment, ...] = (), **kwargs: object
) -> bytes:
    header = kwargs.pop("header", HEADER)
    assert isinstance(header, Payment835)
    payment = claims_payment(header, claims, plbs)
    out = io.BytesIO()
    written = write_835_claims(out, payment, claims, **{**OPTIONS, **kwargs})  # type: ignore[arg-type]
    data = out.getvalue()
    delimiters = kwargs.get("delimiters")
    separator = delimiters.element if isinstance(delimiters, Delimiters) else "*"
    assert written.claims == data.count(f"CLP{separator}".encode()) == len(claims)
    assert written.services == data.count(f"SVC{separator}".encode())
    assert written.plbs == data.count(f"PLB{separator}".encode())
    return data


def back(data: bytes) -> Remittance835:
    (remittance,) = read_835_claims(data)
    (payment,) = read_835_payments(data)
    assert remittance.payment == payment
    assert balance_problem(payment) is None
    for c in remittance.claims:
        assert c.balance_problems() == []
    return remittance


def segments(data: bytes, *ids: str) -> list[str]:
    text = data.decode("latin-1").replace("\n", "")
    return [s for s in text.split("~") if s.split("*", 1)[0] in ids]


# -- golden files ------------------------------------------------------------------------------------

GOLDEN_PAID = """\
ISA*00*          *00*          *ZZ*SUNRISEIPA     *ZZ*ALDERFM        *240401*0930*^*00501*000000001*0*P*:~
GS*HP*SUNRISEIPA*ALDERFM*20240401*0930*1*X*005010X221A1~
ST*835*0001~
BPR*I*92*C*ACH*CCP*01*011000015*DA*4455667788*1987654321**01*021000021*DA*12345678*20240403~
TRN*1*EFT240403A*1987654321~
DTM*405*20240401~
N1*PR*SUNRISE IPA~
N3*1 IPA PLAZA~
N4*FRESNO*CA*93721~
REF*2U*SIPA01~
PER*BL*CLAIMS EDI*TE*5595550100~
N1*PE*ALDER FAMILY MEDICINE*XX*1234567893~
N3*200 ALDER ST*SUITE 3~
N4*FRESNO*CA*93710~
REF*TJ*943456789~
LX*1~
CLP*PCN1*1*150*92*8*HM*IPAPCN1*11*1~
NM1*QC*1*DOE*JANE****MI*M1001~
NM1*82*1*SMITH*ANNA****XX*1245319599~
DTM*232*20240304~
DTM*233*20240304~
DTM*050*20240310~
SVC*HC:99213:25*150*92**1~
DTM*472*20240304~
CAS*CO*45*50~
CAS*PR*3*8~
REF*6R*L1~
AMT*B6*100~
SE*27*0001~
GE*1*1~
IEA*1*000000001~
"""


def test_golden_paid_claim(caplog: pytest.LogCaptureFixture) -> None:
    """150.00 charged, 50.00 over the allowed 100.00 (CO-45), 8.00 copay (PR-3): 92.00 paid by ACH."""
    data = write([PAID], newline=True)
    assert data.decode() == GOLDEN_PAID
    assert pyx12_errors(data, caplog) == []
    r = back(data)
    assert r.claims == (PAID,)
    assert (r.payment.total_cents, r.payment.claim_paid_cents, r.payment.payment_method) == (
        9200,
        9200,
        "ACH",
    )


def test_written_summary_and_the_nacha_addenda(tmp_path: Path) -> None:
    payment = claims_payment(HEADER, [PAID])
    path = tmp_path / "pay.835"
    written = write_835_claims(path, payment, [PAID], **OPTIONS)  # type: ignore[arg-type]
    assert written == Written835(1, 1, 0, 27, "TRN*1*EFT240403A*1987654321\\")
    assert path.read_bytes() == GOLDEN_PAID.replace("~\n", "~").encode()
    check = dataclasses.replace(payment, payment_method="CHK")
    assert write_835_claims(io.BytesIO(), check, [PAID], **OPTIONS).addenda == ""  # type: ignore[arg-type]


def test_partly_denied_claim(caplog: pytest.LogCaptureFixture) -> None:
    """CO-97 denies the bundled venipuncture; deductible PR-1, coinsurance PR-2 and copay PR-3 are the
    patient's (CLP05 = 50.00 + 15.00 + 2.00); the claim pays 85.00 + 0 + 10.00."""
    data = write([PARTLY_DENIED])
    assert segments(data, "CLP", "SVC", "CAS", "LQ", "AMT") == [
        "CLP*PCN2*1*240*95*67*HM*IPAPCN2*11*1",
        "SVC*HC:99214*200*85", "CAS*CO*45*50", "CAS*PR*1*50**2*15", "AMT*B6*150",
        "SVC*HC:36415*25*0", "CAS*CO*97*25", "LQ*HE*N19", "LQ*HE*M15",
        "SVC*HC:81002*15*10**2", "CAS*CO*45*3", "CAS*PR*3*2",
    ]  # fmt: skip
    assert pyx12_errors(data, caplog) == []
    r = back(data)
    assert r.claims == (PARTLY_DENIED,)
    assert r.payment.total_cents == 9500


def test_fully_denied_claim_pays_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """A denial with no lines: CLP02 4, CO-29 (time limit for filing) for the whole charge at claim level.
    The payment is 0: BPR01 H, BPR04 NON, no bank accounts."""
    data = write([DENIED], eft=None)
    assert segments(data, "BPR", "CLP", "CAS", "SVC") == [
        "BPR*H*0*C*NON******1987654321******20240403",
        "CLP*PCN3*4*300*0**HM*IPAPCN3*11*1",
        "CAS*CO*29*300",
    ]
    assert pyx12_errors(data, caplog) == []
    r = back(data)
    assert r.claims == (DENIED,)
    assert (r.payment.total_cents, r.payment.handling_code, r.payment.payment_method) == (0, "H", "NON")


def test_reversal_and_correction(caplog: pytest.LogCaptureFixture) -> None:
    """The earlier payment of PCN1 (92.00) is taken back (CLP02 22, every amount negated) and the corrected
    claim (frequency 7, the copay was 18.00) paid again, with PCN2: BPR02 = -92.00 + 82.00 + 95.00 = 85.00."""
    corrected = claim(
        "PCN1",
        line("99213", 15000, 8200, ClaimAdjustment("CO", "45", 5000), ClaimAdjustment("PR", "3", 1800)),
        frequency_code="7",
    )
    reversed_ = reversal_of(PAID)
    assert reversed_.balance_problems() == []
    data = write([reversed_, corrected, PARTLY_DENIED])
    assert segments(data, "CLP", "SVC", "CAS", "AMT") == [
        "CLP*PCN1*22*-150*-92*-8*HM*IPAPCN1*11*1",
        "SVC*HC:99213:25*-150*-92**1", "CAS*CO*45*-50", "CAS*PR*3*-8", "AMT*B6*-100",
        "CLP*PCN1*1*150*82*18*HM*IPAPCN1*11*7",
        "SVC*HC:99213*150*82", "CAS*CO*45*50", "CAS*PR*3*18",
        "CLP*PCN2*1*240*95*67*HM*IPAPCN2*11*1",
        *segments(write([PARTLY_DENIED]), "SVC", "CAS", "AMT"),
    ]  # fmt: skip
    assert segments(data, "BPR")[0].startswith("BPR*I*85*C*ACH*")  # -92 + 82 + 95
    assert pyx12_errors(data, caplog) == []
    r = back(data)
    assert r.claims == (reversed_, corrected, PARTLY_DENIED)
    assert reversal_of(reversed_) == dataclasses.replace(PAID, status="22")


def test_interest_is_a_negative_plb(caplog: pytest.LogCaptureFixture) -> None:
    """1.37 of interest on a late clean claim is paid with it: PLB L6 -1.37, BPR02 = 92.00 + 1.37."""
    plb = interest(NPI, YEAR_END, 137, "IPAPCN1")
    assert plb == ProviderAdjustment(NPI, YEAR_END, "L6", "IPAPCN1", -137)
    data = write([PAID], (plb,))
    assert segments(data, "PLB") == ["PLB*1234567893*20241231*L6:IPAPCN1*-1.37"]
    assert segments(data, "BPR")[0].startswith("BPR*I*93.37*C*ACH*")
    assert pyx12_errors(data, caplog) == []
    r = back(data)
    assert r.payment.adjustments == (plb,)
    assert r.payment.total_cents == 9337


def test_overpayment_recovery(caplog: pytest.LogCaptureFixture) -> None:
    """40.00 overpaid on an old claim is withheld from this payment (PLB WO +40), along with 10.00 of
    interest (L6 -10): BPR02 = 95.00 - 40.00 + 10.00."""
    plbs = (overpayment_recovery(NPI, YEAR_END, 4000, "IPA0099"), interest(NPI, YEAR_END, 1000))
    data = write([PARTLY_DENIED], plbs)
    assert segments(data, "PLB") == ["PLB*1234567893*20241231*WO:IPA0099*40*L6*-10"]
    assert segments(data, "BPR")[0].startswith("BPR*I*65*C*ACH*")
    assert pyx12_errors(data, caplog) == []
    assert back(data).payment.adjustments == plbs


def test_recovery_larger_than_the_claims_is_a_debit() -> None:
    plbs = (overpayment_recovery(NPI, YEAR_END, 15000, "IPA0099"),)
    data = write([PAID], plbs, eft=None, header=dataclasses.replace(HEADER, payment_method="NON"))
    assert segments(data, "BPR")[0].startswith("BPR*I*58*D*NON*")
    assert back(data).payment.signed_total_cents == -5800


def test_zero_pay_non(caplog: pytest.LogCaptureFixture) -> None:
    """A payment whose claims and adjustments net to zero: 92.00 paid, 92.00 recovered (WO). BPR H/NON."""
    data = write([PAID, DENIED], (overpayment_recovery(NPI, YEAR_END, 9200, "IPA0007"),), eft=None)
    assert segments(data, "BPR") == ["BPR*H*0*C*NON******1987654321******20240403"]
    assert pyx12_errors(data, caplog) == []
    r = back(data)
    assert (r.payment.total_cents, r.payment.claim_count, r.payment.claim_paid_cents) == (0, 2, 9200)
    assert r.claims == (PAID, DENIED)


def test_lx_per_facility_and_many_cas_triplets(caplog: pytest.LogCaptureFixture) -> None:
    """A new LX when CLP08 changes; seven CO adjustments need two CAS segments (six triplets at most)."""
    seven = tuple(ClaimAdjustment("CO", str(reason), 100) for reason in range(10, 17))
    busy = claim("PCN4", line("99215", 30000, 29300, *seven), facility_code="22")
    data = write([PAID, busy, PARTLY_DENIED], delimiters=Delimiters("|", ">", "^", "!"), newline=True)
    text = data.decode()
    assert [s for s in text.split("!\n") if s.startswith("LX")] == ["LX|1", "LX|2", "LX|3"]
    assert [s for s in text.split("!\n") if s.startswith("CAS|CO|1")] == [
        "CAS|CO|10|1||11|1||12|1||13|1||14|1||15|1",
        "CAS|CO|16|1",
    ]
    assert pyx12_errors(data, caplog) == []
    assert back(data).claims == (PAID, busy, PARTLY_DENIED)


# -- refusals --------------------------------------------------------------------------------------


def refused(claims: list[ClaimPayment835], words: str, **kwargs: object) -> None:
    payment = kwargs.pop("payment", None) or claims_payment(HEADER, claims)
    out = io.BytesIO()
    with pytest.raises(ValueError, match=words):
        write_835_claims(out, payment, claims, **{**OPTIONS, **kwargs})  # type: ignore[arg-type]
    assert out.getvalue() == b""


def test_unbalanced_line_is_refused_naming_the_claim_and_line() -> None:
    bad = dataclasses.replace(PARTLY_DENIED, services=(
        *PARTLY_DENIED.services[:2], dataclasses.replace(PARTLY_DENIED.services[2], paid_cents=1100),
    ), paid_cents=9600)  # fmt: skip
    refused(
        [PAID, bad],
        r"claim 'PCN2' \(CLP07 'IPAPCN2'\) line 3 \(SVC 81002\): charge SVC02 \$15\.00 minus its adjustments "
        r"\$5\.00 is \$10\.00, not the paid SVC03 \$11\.00",
    )


def test_unbalanced_claims_are_refused() -> None:
    refused([dataclasses.replace(PAID, paid_cents=9300)], r"claim 'PCN1'.*not the paid CLP04 \$93\.00")
    refused([dataclasses.replace(PAID, charge_cents=16000)], r"charge CLP03 \$160\.00 minus all")
    refused([dataclasses.replace(DENIED, adjustments=())], r"claim 'PCN3'.*CLP03 \$300\.00")
    refused([dataclasses.replace(PAID, patient_responsibility_cents=0)], r"CLP05 \$0\.00 is not .* \$8\.00")
    lines_off = claim("PCN5", line("99213", 100, 100), charge_cents=200, paid_cents=200)
    refused([lines_off], r"CLP04 \$2\.00 is not the sum of the lines' SVC03 \$1\.00")


def test_unbalanced_payment_is_refused() -> None:
    good = claims_payment(HEADER, [PAID])
    refused([PAID], r"BPR02 \$92\.01 is not", payment=dataclasses.replace(good, total_cents=9201))
    refused([PAID, DENIED], "the payment says 1 claims", payment=good)
    zero = claims_payment(HEADER, [DENIED])
    refused([DENIED], "BPR04 must be NON", payment=dataclasses.replace(zero, payment_method="CHK"))
    with_plb = dataclasses.replace(good, adjustments=(interest(NPI, YEAR_END, 5),))
    refused([PAID], r"minus the provider adjustments -\$0\.05 = \$92\.05", payment=with_plb)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"status": "9"}, "claim 1 .* CLP02 claim status '9'"),
        ({"filing_indicator": "XX"}, "CLP06"),
        ({"payer_claim_number": ""}, r"CLP07"),
        ({"patient_last_name": ""}, r"NM1\*QC NM103"),
        ({"patient_id_qualifier": "ZZ"}, "NM108"),
        ({"status": "4"}, r"denied claim \(CLP02 4\) pays 0"),
        ({"status": "22"}, "reversal"),
        ({"statement_to": dt.date(2024, 3, 1)}, "before DTM"),
        ({"adjustments": (ClaimAdjustment("XY", "45", 0),)}, "CAS01 group 'XY'"),
        ({"adjustments": (ClaimAdjustment("CO", "", 0),)}, "CAS reason code ''"),
        ({"patient_first_name": "A*B"}, "delimiter"),
    ],
)
def test_claim_refusals(change: dict[str, object], words: str) -> None:
    refused([dataclasses.replace(PAID, **change)], words)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"qualifier": "ZZ"}, "line 1 .*SVC01-1"),
        ({"procedure_code": ""}, "SVC01-2"),
        ({"modifiers": ("A", "B", "C", "D", "E")}, "modifiers"),
        ({"units": 0}, "SVC05"),
        ({"remark_codes": ("",)}, "LQ02"),
    ],
)
def test_line_refusals(change: dict[str, object], words: str) -> None:
    services = (dataclasses.replace(PAID.services[0], **change),)  # type: ignore[arg-type]
    refused([dataclasses.replace(PAID, services=services)], words)


def test_header_refusals() -> None:
    refused([PAID], "bank accounts", eft=None)
    refused(
        [PAID], "trace number", payment=dataclasses.replace(claims_payment(HEADER, [PAID]), trace_number="")
    )
    refused([PAID], "PER", payer_contact=Contact())


def test_reader_errors() -> None:
    data = write([PARTLY_DENIED])
    for old, new, seg_id, element in (
        (b"CAS*PR*1*50**2*15", b"CAS*PR*1*50***15", "CAS", 5),
        (b"CAS*CO*97*25", b"CAS*XX*97*25", "CAS", 1),
        (b"SVC*HC:36415*25*0", b"SVC*HC*25*0", "SVC", 1),
        (b"SVC*HC:81002*15*10**2", b"SVC*HC:81002*15*10**2.5", "SVC", 5),
        (b"CLP*PCN2*1*240*95*67", b"CLP*PCN2*1*240*95*6.7.", "CLP", 5),
    ):
        assert old in data
        with pytest.raises(X12Error) as info:
            list(read_835_claims(data.replace(old, new), filename="in.835"))
        assert (info.value.segment_id, info.value.element) == (seg_id, element), str(info.value)


# -- property: lines that balance make a file that balances ----------------------------------------------

CODES = st.sampled_from(["99211", "99213", "99214", "36415", "81002", "G0439", "J1100"])
CARC = st.sampled_from(["1", "2", "3", "45", "97", "23", "B7", "253"])


@st.composite
def service_lines(draw: st.DrawFn) -> ServicePayment835:
    adjustments = draw(
        st.lists(
            st.builds(
                ClaimAdjustment,
                st.sampled_from(["CO", "PR", "OA", "PI"]),
                CARC,
                st.integers(min_value=-5000, max_value=50_000),
            ),
            max_size=8,
        )
    )
    # written one CAS per group, groups in order of first appearance: generate them grouped
    adjustments.sort(key=lambda a: ["CO", "PR", "OA", "PI"].index(a.group))
    paid = draw(st.integers(min_value=0, max_value=10**7))
    charge = paid + sum(a.amount_cents for a in adjustments)
    return ServicePayment835(draw(CODES), charge, paid, adjustments=tuple(adjustments),
                             units=draw(st.none() | st.integers(min_value=1, max_value=99)),
                             service_date=DOS)  # fmt: skip


@st.composite
def claim_sets(draw: st.DrawFn) -> list[ClaimPayment835]:
    found = []
    for number in range(draw(st.integers(min_value=0, max_value=6))):
        services = tuple(draw(st.lists(service_lines(), min_size=1, max_size=5)))
        c = claim(f"P{number}", *services, facility_code=draw(st.sampled_from(["11", "22"])))
        if draw(st.booleans()):
            c = reversal_of(c) if c.charge_cents >= 0 and c.paid_cents >= 0 else c
        if c.charge_cents < 0 and c.status != "22":
            continue  # negative adjustments larger than the charge: not a claim anyone would bill
        found.append(c)
    return found


PLBS = st.lists(
    st.builds(
        ProviderAdjustment,
        st.just(NPI),
        st.just(YEAR_END),
        st.sampled_from(["L6", "WO", "72", "CS"]),
        st.sampled_from(["", "IPA1"]),
        st.integers(min_value=-(10**6), max_value=10**6),
    ),
    max_size=4,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_sets(), plbs=PLBS)
def test_balanced_lines_make_a_balanced_file(
    claims: list[ClaimPayment835], plbs: list[ProviderAdjustment]
) -> None:
    expected = sum(c.paid_cents for c in claims) - sum(a.amount_cents for a in plbs)
    header = dataclasses.replace(HEADER, payment_method="NON" if expected <= 0 else "ACH")
    data = write(claims, tuple(plbs), header=header)
    r = back(data)
    assert r.payment.signed_total_cents == expected
    assert r.payment.claim_paid_cents == sum(c.paid_cents for c in r.claims)
    assert r.claims == tuple(claims)
    assert r.payment.adjustments == tuple(plbs)


@pytest.mark.parametrize(("delimiters", "newline"), [(None, False), (Delimiters("|", ">", "^", "!"), True)])
def test_claim_text_is_what_the_checked_writer_writes(delimiters: Delimiters | None, newline: bool) -> None:
    """The claims are written as one block of text per claim (no per-segment writer call): byte for byte what
    the writer's checked segments give, with the same segment counts, for paid, denied, reversed, claim-level
    CAS, rendering provider, statement dates and remark codes."""
    from openipa.edi.t835 import _write_claim, _write_claim_checked
    from openipa.edi.x12.writer import X12Writer

    seven = tuple(ClaimAdjustment("CO", str(reason), 100) for reason in range(10, 17))
    busy = claim("PCN4", line("99215", 30000, 29300, *seven), facility_code="22")
    dated = dataclasses.replace(
        PAID, statement_from=DOS, statement_to=DOS, adjustments=(ClaimAdjustment("OA", "23", 0),),
        rendering_first_name="ANA",
    )  # fmt: skip
    for c in (PAID, PARTLY_DENIED, DENIED, busy, dated, reversal_of(PAID)):
        fast, checked = io.BytesIO(), io.BytesIO()
        w1, w2 = X12Writer(fast, delimiters, newline=newline), X12Writer(checked, delimiters, newline=newline)
        assert _write_claim(w1, c, NPI) == _write_claim_checked(w2, c, NPI)
        assert fast.getvalue() == checked.getvalue()
        assert (w1.segments_written, w1._segments) == (w2.segments_written, w2._segments)


def test_claim_text_refuses_an_amount_that_is_not_int_cents() -> None:
    """The remembered amounts never stand in for a float equal to a known int: format_cents refuses it."""
    from openipa.edi.t835 import _cents

    assert _cents(150) == "1.5"
    with pytest.raises(TypeError):
        _cents(150.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _cents(True)
