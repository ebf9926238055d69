"""The demo IPA's own fee data, in CMS's Medicare Physician Fee Schedule file layouts, and its claim rules.

Pure: no Django, no clock; deterministic from the seed. Nothing here is CMS data: the relative value units
are made up (plausible in size, jittered by the seed) for the CPT-like codes the demo's claims use
(:mod:`openipa.demo.engine.claims`), and the GPCIs are made up for two California localities. The files are
written in the layouts :func:`openipa.contracts.engine.rbrvs.read_rvu_file` and ``read_gpci_file`` read (CMS's
PPRRVU and GPCI CSVs, title lines first), so the demo loads its fee schedule through the real importers.
CPT descriptions are AMA-licensed: the DESCRIPTION column is left empty.

- :func:`write_rvu_file` / :func:`rvu_rows`: the PPRRVU table (global rows, and ``26``/``TC`` rows for the
  diagnostic tests with a PC/TC indicator of 1), with the conversion factor on every row as CMS prints it;
- :func:`write_gpci_file`: the GPCI table (Los Angeles and Anaheim/Santa Ana, MAC 01182);
- :data:`SERVICE_CATEGORIES`: the demo's service-category rules (the fields of
  ``contracts.models.ServiceCategoryRule``; ``places`` is its ``places_of_service``), lowest priority first;
- :data:`DOFR`: who pays for each of those categories under the demo's contracts.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

CONVERSION_FACTOR = Decimal("33.4009")
"""Dollars per RVU, printed in the CONV FACTOR column of every row (made up for the demo)."""
MAC = "01182"
LOCALITIES: tuple[tuple[str, str, str, str, str], ...] = (
    # (locality number, name, PW GPCI, PE GPCI, MP GPCI) - made-up values
    ("18", "DEMO LOS ANGELES", "1.046", "1.192", "0.731"),
    ("26", "DEMO ANAHEIM/SANTA ANA", "1.052", "1.237", "0.702"),
)
DEFAULT_LOCALITY_ID = MAC + LOCALITIES[0][0]
"""The locality the demo's providers practise in (``locality_id`` as read_gpci_file builds it)."""


@dataclass(frozen=True, slots=True)
class RvuRow:
    """One PPRRVU row; RVUs in hundredths (as ``read_rvu_file`` keeps them)."""

    code: str
    modifier: str
    status: str
    work_centi: int
    pe_nonfacility_centi: int
    pe_facility_centi: int
    mp_centi: int
    pctc: int
    global_days: str
    mult_proc: int
    bilat_surg: int


# (code, work, non-facility PE, facility PE, MP, PC/TC indicator, global days, mult proc, bilat surg).
# Made-up values; a PC/TC indicator of 1 gets 26 and TC rows as well (see rvu_rows).
_BASE: tuple[tuple[str, str, str, str, str, int, str, int, int], ...] = (
    # office / outpatient E/M, new and established
    ("99202", "0.93", "1.10", "0.39", "0.08", 0, "XXX", 0, 0),
    ("99203", "1.60", "1.41", "0.65", "0.13", 0, "XXX", 0, 0),
    ("99204", "2.60", "1.87", "1.07", "0.21", 0, "XXX", 0, 0),
    ("99205", "3.50", "2.29", "1.45", "0.29", 0, "XXX", 0, 0),
    ("99211", "0.18", "0.47", "0.07", "0.01", 0, "XXX", 0, 0),
    ("99212", "0.70", "0.92", "0.29", "0.05", 0, "XXX", 0, 0),
    ("99213", "1.30", "1.20", "0.55", "0.10", 0, "XXX", 0, 0),
    ("99214", "1.92", "1.56", "0.80", "0.14", 0, "XXX", 0, 0),
    ("99215", "2.80", "2.02", "1.18", "0.21", 0, "XXX", 0, 0),
    # hospital inpatient and observation care
    ("99223", "3.50", "1.45", "1.45", "0.26", 0, "XXX", 0, 0),
    ("99232", "1.59", "0.66", "0.66", "0.11", 0, "XXX", 0, 0),
    ("99233", "2.40", "0.99", "0.99", "0.17", 0, "XXX", 0, 0),
    ("99238", "1.50", "0.67", "0.67", "0.10", 0, "XXX", 0, 0),
    # consultations
    ("99242", "1.50", "1.31", "0.60", "0.12", 0, "XXX", 0, 0),
    ("99243", "1.95", "1.62", "0.79", "0.15", 0, "XXX", 0, 0),
    ("99244", "2.70", "2.01", "1.11", "0.22", 0, "XXX", 0, 0),
    ("99245", "3.45", "2.36", "1.40", "0.30", 0, "XXX", 0, 0),
    # emergency department
    ("99281", "0.25", "0.09", "0.09", "0.03", 0, "XXX", 0, 0),
    ("99282", "0.93", "0.21", "0.21", "0.10", 0, "XXX", 0, 0),
    ("99283", "1.60", "0.33", "0.33", "0.17", 0, "XXX", 0, 0),
    ("99284", "2.74", "0.55", "0.55", "0.29", 0, "XXX", 0, 0),
    ("99285", "4.00", "0.77", "0.77", "0.42", 0, "XXX", 0, 0),
    ("99291", "4.50", "2.90", "1.45", "0.38", 0, "XXX", 0, 0),
    ("99292", "2.25", "0.92", "0.71", "0.19", 0, "ZZZ", 0, 0),
    # preventive visits
    ("99385", "1.92", "1.60", "0.80", "0.13", 0, "XXX", 0, 0),
    ("99386", "2.33", "1.83", "0.95", "0.16", 0, "XXX", 0, 0),
    ("99387", "2.50", "1.96", "1.02", "0.17", 0, "XXX", 0, 0),
    ("99392", "1.70", "1.41", "0.71", "0.12", 0, "XXX", 0, 0),
    ("99395", "1.75", "1.50", "0.74", "0.12", 0, "XXX", 0, 0),
    ("99396", "1.90", "1.58", "0.79", "0.13", 0, "XXX", 0, 0),
    ("99397", "2.00", "1.68", "0.84", "0.14", 0, "XXX", 0, 0),
    # medicine: vaccines given, injections, cardiology, eye, behavioral, dialysis, chemotherapy
    ("90471", "0.17", "0.36", "0.36", "0.01", 0, "XXX", 0, 0),
    ("96372", "0.17", "0.28", "0.28", "0.01", 0, "XXX", 0, 0),
    ("96413", "0.28", "3.50", "3.50", "0.06", 0, "XXX", 0, 0),
    ("96415", "0.19", "0.70", "0.70", "0.02", 0, "ZZZ", 0, 0),
    ("93000", "0.17", "0.33", "0.33", "0.02", 0, "XXX", 0, 0),
    ("93306", "1.46", "4.20", "4.20", "0.08", 1, "XXX", 4, 0),
    ("92014", "1.42", "1.45", "0.78", "0.07", 0, "XXX", 0, 0),
    ("90791", "3.84", "0.69", "0.69", "0.14", 0, "XXX", 0, 0),
    ("90834", "2.00", "0.36", "0.36", "0.07", 0, "XXX", 0, 0),
    ("90837", "3.00", "0.54", "0.54", "0.11", 0, "XXX", 0, 0),
    ("90960", "5.18", "2.21", "2.21", "0.30", 0, "XXX", 0, 0),
    ("77385", "0.00", "7.10", "7.10", "0.06", 1, "XXX", 4, 0),
    # procedures: skin, musculoskeletal, cardiothoracic, digestive, urinary, eye, ENT, spine
    ("11102", "0.66", "2.25", "0.38", "0.07", 0, "000", 2, 0),
    ("17000", "0.61", "1.29", "0.62", "0.06", 0, "010", 2, 0),
    ("17110", "0.70", "2.34", "0.98", "0.07", 0, "010", 2, 0),
    ("20610", "0.79", "0.80", "0.29", "0.09", 0, "000", 2, 1),
    ("27447", "19.60", "12.20", "12.20", "3.90", 0, "090", 2, 1),
    ("29881", "7.03", "6.10", "6.10", "1.38", 0, "090", 2, 1),
    ("22612", "23.53", "14.80", "14.80", "5.80", 0, "090", 2, 0),
    ("33533", "33.75", "14.20", "14.20", "7.90", 0, "090", 2, 0),
    ("33405", "41.32", "16.00", "16.00", "9.70", 0, "090", 2, 0),
    ("43239", "2.39", "8.50", "1.32", "0.23", 0, "000", 2, 0),
    ("45378", "3.26", "6.60", "1.60", "0.33", 0, "000", 2, 0),
    ("45385", "4.57", "7.20", "2.11", "0.47", 0, "000", 2, 0),
    ("47562", "10.47", "6.01", "6.01", "2.10", 0, "090", 2, 0),
    ("52000", "1.53", "4.10", "0.98", "0.15", 0, "000", 2, 0),
    ("66984", "7.35", "6.90", "6.90", "0.95", 0, "090", 2, 0),
    ("69210", "0.61", "0.72", "0.24", "0.05", 0, "000", 2, 1),
    ("31231", "1.10", "3.80", "0.72", "0.11", 0, "000", 2, 0),
    ("63047", "15.37", "11.40", "11.40", "3.40", 0, "090", 2, 0),
    # imaging (diagnostic tests: global, 26 and TC rows)
    ("70450", "0.85", "2.40", "2.40", "0.05", 1, "XXX", 4, 0),
    ("70486", "0.85", "2.95", "2.95", "0.05", 1, "XXX", 4, 0),
    ("70496", "1.75", "4.80", "4.80", "0.10", 1, "XXX", 4, 0),
    ("70551", "1.48", "4.95", "4.95", "0.09", 1, "XXX", 4, 0),
    ("70553", "2.29", "7.20", "7.20", "0.13", 1, "XXX", 4, 0),
    ("71046", "0.22", "0.72", "0.72", "0.02", 1, "XXX", 4, 0),
    ("71250", "1.16", "3.40", "3.40", "0.07", 1, "XXX", 4, 0),
    ("72100", "0.22", "0.80", "0.80", "0.02", 1, "XXX", 4, 0),
    ("72148", "1.48", "4.90", "4.90", "0.09", 1, "XXX", 4, 0),
    ("73030", "0.18", "0.85", "0.85", "0.02", 1, "XXX", 4, 3),
    ("73562", "0.18", "0.95", "0.95", "0.02", 1, "XXX", 4, 3),
    ("73721", "1.35", "5.10", "5.10", "0.08", 1, "XXX", 4, 3),
    ("74177", "1.82", "7.90", "7.90", "0.11", 1, "XXX", 4, 0),
    ("76700", "0.81", "2.90", "2.90", "0.05", 1, "XXX", 4, 0),
    ("76830", "0.69", "3.20", "3.20", "0.04", 1, "XXX", 4, 0),
    ("77067", "0.76", "3.40", "3.40", "0.05", 1, "XXX", 4, 0),
    ("78452", "1.75", "9.20", "9.20", "0.10", 1, "XXX", 4, 0),
    # laboratory and pathology
    ("80048", "0.00", "0.35", "0.35", "0.00", 3, "XXX", 9, 9),
    ("80053", "0.00", "0.45", "0.45", "0.00", 3, "XXX", 9, 9),
    ("80061", "0.00", "0.55", "0.55", "0.00", 3, "XXX", 9, 9),
    ("81001", "0.00", "0.14", "0.14", "0.00", 3, "XXX", 9, 9),
    ("81002", "0.00", "0.11", "0.11", "0.00", 3, "XXX", 9, 9),
    ("82306", "0.00", "1.20", "1.20", "0.00", 3, "XXX", 9, 9),
    ("82947", "0.00", "0.16", "0.16", "0.00", 3, "XXX", 9, 9),
    ("83036", "0.00", "0.40", "0.40", "0.00", 3, "XXX", 9, 9),
    ("84153", "0.00", "0.76", "0.76", "0.00", 3, "XXX", 9, 9),
    ("84443", "0.00", "0.70", "0.70", "0.00", 3, "XXX", 9, 9),
    ("85025", "0.00", "0.32", "0.32", "0.00", 3, "XXX", 9, 9),
    ("85610", "0.00", "0.17", "0.17", "0.00", 3, "XXX", 9, 9),
    ("87086", "0.00", "0.33", "0.33", "0.00", 3, "XXX", 9, 9),
    ("87880", "0.00", "0.50", "0.50", "0.00", 3, "XXX", 9, 9),
    ("36415", "0.00", "0.09", "0.09", "0.00", 3, "XXX", 9, 9),
    ("88305", "0.75", "1.20", "1.20", "0.03", 1, "XXX", 9, 9),
)
CODES: tuple[str, ...] = tuple(row[0] for row in _BASE)
"""Every code the demo's fee file prices (global rows), in file order."""

# The share of the global RVUs in the professional (26) component of a diagnostic test: the work RVU
# entirely, about a tenth of the practice expense and most of the malpractice.
_PC_PE_SHARE = Decimal("0.10")
_PC_MP_SHARE = Decimal("0.75")


def _centi(text: str) -> int:
    return int(Decimal(text) * 100)


def _jitter(rng: random.Random, centi: int) -> int:
    """A made-up value within about 6% of the base (same sign), exact hundredths."""
    if centi == 0:
        return 0
    return max(1, centi + round(centi * rng.uniform(-0.06, 0.06)))


def rvu_rows(seed: int) -> tuple[RvuRow, ...]:
    """The demo's PPRRVU rows for ``seed``: each code's global row, then its 26 and TC rows when its PC/TC
    indicator is 1 (26 + TC = global, component by component)."""
    rng = random.Random(f"openipa-demo-rvu-{seed}")
    out: list[RvuRow] = []
    for code, work, pe_nf, pe_f, mp, pctc, days, mult, bilat in _BASE:
        w, nf, f, m = (_jitter(rng, _centi(v)) for v in (work, pe_nf, pe_f, mp))
        f = min(f, nf)  # the facility PE never exceeds the non-facility PE
        out.append(RvuRow(code, "", "A", w, nf, f, m, pctc, days, mult, bilat))
        if pctc == 1:
            pc_nf = int(nf * _PC_PE_SHARE)
            pc_f = min(pc_nf, int(f * _PC_PE_SHARE))
            pc_mp = int(m * _PC_MP_SHARE)
            out.append(RvuRow(code, "26", "A", w, pc_nf, pc_f, pc_mp, pctc, days, mult, bilat))
            out.append(RvuRow(code, "TC", "A", 0, nf - pc_nf, f - pc_f, m - pc_mp, pctc, days, mult, bilat))
    return tuple(out)


_RVU_HEADER = (
    "HCPCS", "MOD", "DESCRIPTION", "CODE STATUS", "PAYMENT POLICY INDICATOR", "WORK RVU", "NON-FAC PE RVU",
    "NON-FAC NA INDICATOR", "FACILITY PE RVU", "FACILITY NA INDICATOR", "MP RVU", "NON-FACILITY TOTAL",
    "FACILITY TOTAL", "PCTC IND", "GLOB DAYS", "PRE OP", "INTRA OP", "POST OP", "MULT PROC", "BILAT SURG",
    "ASST SURG", "CO-SURG", "TEAM SURG", "ENDO BASE", "CONV FACTOR",
)  # fmt: skip


def _rvu_text(centi: int) -> str:
    return f"{centi // 100}.{centi % 100:02d}"


def write_rvu_file(path: str | Path, seed: int) -> Path:
    """Write the demo's PPRRVU CSV (CMS layout, title lines first) to ``path``; return the path."""
    target = Path(path)
    width = len(_RVU_HEADER)
    with target.open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream, lineterminator="\r\n")
        out.writerow(["PPRRVU DEMO FILE - made-up values in the CMS PPRRVU layout for the OpenIPA demo "
                      "(not CMS data)", *[""] * (width - 1)])  # fmt: skip
        out.writerow([f"DEMO SEED {seed}", *[""] * (width - 1)])
        out.writerow([""] * width)
        out.writerow(_RVU_HEADER)
        for r in rvu_rows(seed):
            global_surgery = r.global_days in ("000", "010", "090")
            out.writerow([
                r.code, r.modifier, "", r.status, "", _rvu_text(r.work_centi), _rvu_text(r.pe_nonfacility_centi),
                "", _rvu_text(r.pe_facility_centi), "", _rvu_text(r.mp_centi),
                _rvu_text(r.work_centi + r.pe_nonfacility_centi + r.mp_centi),
                _rvu_text(r.work_centi + r.pe_facility_centi + r.mp_centi),
                str(r.pctc), r.global_days,
                "0.10" if global_surgery else "0.00", "0.80" if global_surgery else "0.00",
                "0.10" if global_surgery else "0.00",
                str(r.mult_proc), str(r.bilat_surg), "0", "0", "0", "", str(CONVERSION_FACTOR),
            ])  # fmt: skip
    return target


def write_gpci_file(path: str | Path) -> Path:
    """Write the demo's GPCI CSV (CMS "Addendum E" layout, title lines first) to ``path``; return the path."""
    target = Path(path)
    with target.open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream, lineterminator="\r\n")
        out.writerow(["ADDENDUM E. DEMO GEOGRAPHIC PRACTICE COST INDICES (made-up values for the OpenIPA demo)",
                      *[""] * 6])  # fmt: skip
        out.writerow([""] * 7)
        out.writerow([
            "Medicare Administrative Contractor (MAC)", "State", "Locality Number", "Locality Name",
            "PW GPCI (with 1.0 Floor)", "PE GPCI", "MP GPCI",
        ])  # fmt: skip
        for number, name, pw, pe, mp in LOCALITIES:
            out.writerow([MAC, "CA", number, name, pw, pe, mp])
        out.writerow([""] * 7)
        out.writerow(["* Made-up values: not the Medicare GPCIs.", *[""] * 6])
    return target


# --------------------------------------------------------------------------------- service categories

PRIMARY_CARE = "Primary care professional services"
SPECIALIST = "Specialist professional services"
INPATIENT_PROFESSIONAL = "Inpatient professional services"
ER_PROFESSIONAL = "Emergency room (professional)"
LAB = "Outpatient laboratory"
RADIOLOGY = "Radiology"
ADVANCED_IMAGING = "Advanced imaging"
BEHAVIORAL = "Outpatient behavioral health"
INPATIENT_FACILITY = "Inpatient hospital (facility)"
OUTPATIENT_FACILITY = "Outpatient hospital (facility)"
ER_FACILITY = "Emergency room (facility)"
OTHER_PROFESSIONAL = "Other professional services"


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """One ``contracts.models.ServiceCategoryRule`` row (``places`` is its ``places_of_service``)."""

    category: str
    priority: int
    code_from: str = ""
    code_to: str = ""
    revenue_from: str = ""
    revenue_to: str = ""
    places: str = ""
    """Comma-separated places of service; empty for any."""
    provider_kind: str = ""
    """Empty for any."""
    emergency: bool = False
    requires_authorization: bool = False


SERVICE_CATEGORIES: tuple[CategoryRule, ...] = (
    # facility claims (837I) by revenue code: the hospital's under the DOFR
    CategoryRule(ER_FACILITY, 10, revenue_from="0450", revenue_to="0459", emergency=True),
    CategoryRule(INPATIENT_FACILITY, 20, revenue_from="0100", revenue_to="0219"),
    CategoryRule(OUTPATIENT_FACILITY, 30, revenue_from="0220", revenue_to="0999"),
    # professional claims by code
    CategoryRule(ER_PROFESSIONAL, 40, "99281", "99285", places="23", emergency=True),
    CategoryRule(ER_PROFESSIONAL, 41, "99291", "99292", places="23", emergency=True),
    CategoryRule(ADVANCED_IMAGING, 50, "70450", "70559", requires_authorization=True),
    CategoryRule(RADIOLOGY, 60, "70000", "79999"),
    CategoryRule(LAB, 70, "80000", "89999"),
    CategoryRule(INPATIENT_PROFESSIONAL, 80, "99221", "99239", places="21"),
    CategoryRule(INPATIENT_PROFESSIONAL, 81, "99291", "99292", places="21"),
    CategoryRule(PRIMARY_CARE, 90, "99202", "99215", provider_kind="pcp"),
    CategoryRule(PRIMARY_CARE, 91, "99381", "99397", provider_kind="pcp"),
    CategoryRule(PRIMARY_CARE, 92, "90460", "90474", provider_kind="pcp"),
    CategoryRule(BEHAVIORAL, 100, "90785", "90899"),
    CategoryRule(SPECIALIST, 110, "99202", "99215", provider_kind="specialist"),
    CategoryRule(SPECIALIST, 111, "99242", "99245"),
    CategoryRule(SPECIALIST, 112, "10004", "69990"),
    CategoryRule(SPECIALIST, 113, "90935", "90999"),
    CategoryRule(SPECIALIST, 114, "96360", "96549"),
    CategoryRule(OTHER_PROFESSIONAL, 200, "90000", "99499"),
)
"""The demo's service-category rules; the first match by priority (lowest first) wins. Advanced imaging
(CT/MRI of the head and neck, 70450-70559) needs an authorization; emergency care never does."""

IPA, PLAN, HOSPITAL = "ipa", "plan", "hospital"
DOFR: dict[str, str] = {
    PRIMARY_CARE: IPA,
    SPECIALIST: IPA,
    INPATIENT_PROFESSIONAL: IPA,
    ER_PROFESSIONAL: IPA,
    LAB: IPA,
    RADIOLOGY: IPA,
    ADVANCED_IMAGING: IPA,
    BEHAVIORAL: IPA,
    OTHER_PROFESSIONAL: IPA,
    INPATIENT_FACILITY: HOSPITAL,
    OUTPATIENT_FACILITY: HOSPITAL,
    ER_FACILITY: HOSPITAL,
}
"""Service category -> responsible party under the demo's contracts: professional services are the IPA's,
facility services the hospital's (so the IPA denies facility claims, CARC 109, and forwards them)."""


_BASE_FEES: dict[str, int] = {
    row[0]: ((_centi(row[1]) + _centi(row[2]) + _centi(row[4])) * int(CONVERSION_FACTOR * 10_000) + 5_000)
    // 10_000
    for row in _BASE
}


def base_fee_cents(code: str) -> int:
    """The unjittered non-facility Medicare-style fee of ``code`` in cents (total RVUs x the conversion
    factor, rounded half up): what the demo's providers mark their charges up from. KeyError for a code
    the demo's fee file does not list."""
    return _BASE_FEES[code]
